/* The collection function of each metric vscoped's history holds, and where it runs: the
 * part of vmasterd's metric library (issue 4) that this host knows. The names come from the
 * tables of the code that collects them (vifstat.c, graph.c, hoststat.c, sampler.c,
 * shaper.c, intake_wire.c and the guest agent's report), so a new collector shows up here
 * as "metric of unknown origin" until it is described. */
#ifndef VS_METRICSRC_H
#define VS_METRICSRC_H

#include <stddef.h>

/* Writes into buf (NUL-terminated, truncated to len) how series entity+metric is collected:
 * "dom0 sampler: ..." (vscoped's own sampling, with the file, netlink dump or hypervisor
 * call), "shaper: ...", "guest agent in DOMAIN: ..." (which probe or reader), "guest
 * intake: ...". hv is the hypervisor backend's name ("xen", "libvirt") or NULL; procdir is
 * the sampler's /proc. */
void vs_metricsrc_describe(const char *entity, const char *metric, const char *hv,
    const char *procdir, char *buf, size_t len);

#endif
