/*
 * Interface counters from one netlink RTM_GETSTATS dump (64-bit link stats only), sent and
 * read through libnl's core socket: libnl-route has no wrapper for RTM_GETSTATS, and this is
 * the cheapest way to read every interface's counters (notes/testbed.md).
 */
#ifndef VS_VIFSTAT_H
#define VS_VIFSTAT_H

#include <stdint.h>

typedef struct vs_vifstat vs_vifstat_t;

/* The counters vscoped keeps per interface, in this order everywhere. */
enum {
	VS_IFC_RX_BYTES, VS_IFC_TX_BYTES, VS_IFC_RX_PACKETS, VS_IFC_TX_PACKETS,
	VS_IFC_RX_ERRORS, VS_IFC_TX_ERRORS, VS_IFC_RX_DROPS, VS_IFC_TX_DROPS,
	VS_IFC_N
};
extern const char *const vs_ifc_metric[VS_IFC_N];  /* "net.rx.bytes", ... */
extern const char *const vs_ifc_unit[VS_IFC_N];

typedef void (*vs_vifstat_fn)(void *arg, int ifindex, const uint64_t c[VS_IFC_N]);

/* NULL and errno on failure. */
vs_vifstat_t *vs_vifstat_new(void);
void vs_vifstat_destroy(vs_vifstat_t **self_p);
/* One dump; fn is called once per interface. 0 or -errno. */
int vs_vifstat_dump(vs_vifstat_t *self, vs_vifstat_fn fn, void *arg);

#endif
