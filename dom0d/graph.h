/*
 * The virtualization graph of one host: host -> domains -> VIFs, with what vscoped keeps for
 * each node (history series, last raw counters, the VIF's current ifindex).
 * Domains are matched across re-lists by UUID (else name), never by id: libvirt's test
 * driver renumbers ids, and on Xen a re-created domain is a new domain.
 */
#ifndef VS_GRAPH_H
#define VS_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "hv.h"
#include "vifstat.h"

enum { VS_DOMM_CPU, VS_DOMM_MEM, VS_DOMM_MAXMEM, VS_DOMM_VCPUS, VS_DOMM_N };
extern const char *const vs_dom_metric[VS_DOMM_N];   /* "cpu.time", ... (per domain) */

typedef struct vs_gvif {
	int ifindex;                    /* 0 while the interface does not exist */
	int series[VS_IFC_N];           /* history ids, -1 when refused (max-series) */
	uint64_t last[VS_IFC_N];
	int have_last;                  /* last[] is a baseline for the next increment */
	uint64_t seen_tick;             /* tick of the last dump that had this interface */
} vs_gvif_t;

typedef struct vs_gdom {
	vs_dom_t dom;                   /* as the backend reported it, counters refreshed */
	vs_gvif_t gvif[VS_DOM_MAX_VIFS];
	int series[VS_DOMM_N];
	uint64_t last_cpu_ns;
	int have_last_cpu;
} vs_gdom_t;

typedef struct vs_graph {
	vs_gdom_t *doms;
	size_t n, cap;
	uint64_t generation;            /* bumped on every change */
	/* ifindex -> VIF, sorted by ifindex, rebuilt whenever domains or links change */
	struct vs_ifmap { int ifindex; vs_gvif_t *gvif; } *ifmap;
	size_t n_ifmap;
	uint64_t refused_series;
} vs_graph_t;

void vs_graph_init(vs_graph_t *g);
void vs_graph_dispose(vs_graph_t *g, vs_history_t *h);
/* Replaces the domain set with doms (copied), keeping state of domains that stay, adding
 * history series for new domains and VIFs and deleting those of domains that left. Returns
 * 1 if anything changed, 0 if not, -ENOMEM. */
int vs_graph_update(vs_graph_t *g, vs_history_t *h, const vs_dom_t *doms, size_t n);
/* Looks up every VIF's ifindex with lookup(arg, name) (0 = absent) and rebuilds the map.
 * A VIF whose ifindex changed (re-created interface) loses its counter baseline. */
void vs_graph_resolve(vs_graph_t *g, int (*lookup)(void *arg, const char *name), void *arg);
vs_gvif_t *vs_graph_vif_by_ifindex(const vs_graph_t *g, int ifindex);
vs_gdom_t *vs_graph_dom_by_name(const vs_graph_t *g, const char *name);

/* Increment of a cumulative counter from last to cur: a 32-bit wrap is recognised
 * (last fits in 32 bits and the drop exceeds 2^31), any other decrease is a reset and the
 * increment is cur (what was counted since the reset). */
uint64_t vs_counter_inc(uint64_t last, uint64_t cur);

#endif
