/*
 * The ops tables of the hypervisor backends, for hv.c's array of compiled-in backends.
 * Internal to dom0d: callers use hv.h only.
 */
#ifndef VS_HV_BACKENDS_H
#define VS_HV_BACKENDS_H

#include "hv.h"

extern const struct vs_hv_ops vs_hv_xen_ops;            /* backends/xen.c */
extern const struct vs_hv_ops vs_hv_libvirt_ops;        /* backends/libvirt.c */

#endif
