/*
 * One sampling tick of vscoped: VIF counters (one RTM_GETSTATS dump), domain counters (one
 * backend call), host /proc metrics, all stored in the history; plus the inventory
 * (virtualization graph) kept current from backend events and link notifications.
 */
#ifndef VS_SAMPLER_H
#define VS_SAMPLER_H

#include <stdint.h>

#include "graph.h"
#include "history.h"
#include "hv.h"
#include "links.h"
#include "sockdiag.h"

typedef struct vs_sampler_config {
	int64_t interval_ns;
	int64_t domain_interval_ns;     /* 0 = every tick; else rounded to whole ticks */
	int64_t host_interval_ns;
	int64_t history_ns;
	uint64_t history_memory;        /* 0 = derived from max_series and retention, capped */
	uint64_t max_series;
	int host_metrics;
	int conn_metrics;
	const char *procdir;            /* "/proc" */
} vs_sampler_config_t;

typedef struct vs_sampler_stats {
	uint64_t ticks;
	uint64_t vif_dump_errors;
	uint64_t hv_errors;
	int64_t last_tick_cpu_ns;       /* thread CPU time of the latest tick, and its parts: */
	int64_t last_vif_cpu_ns;        /*   RTM_GETSTATS dump, counters, history */
	int64_t last_dom_cpu_ns;        /*   backend read_counters and domain series */
	int64_t last_host_cpu_ns;       /*   /proc files */
	uint64_t inventory_updates;
} vs_sampler_stats_t;

typedef struct vs_sampler vs_sampler_t;

/* hv may be NULL (not connected yet); see vs_sampler_set_hv. NULL and errno, message in err. */
vs_sampler_t *vs_sampler_new(const vs_sampler_config_t *cfg, char *err, size_t errlen);
void vs_sampler_destroy(vs_sampler_t **self_p);

/* Borrows hv (NULL to detach after a failure) and re-lists its domains. */
int vs_sampler_set_hv(vs_sampler_t *self, vs_hv_t *hv);
/* Stops using the backend (it failed) but keeps the inventory and its history as they are,
 * so a hypervisor restart does not wipe what was recorded; the next set_hv re-lists. */
void vs_sampler_detach_hv(vs_sampler_t *self);
/* Re-lists domains from the backend and re-resolves VIFs. 0 or -errno (backend failed). */
int vs_sampler_refresh_inventory(vs_sampler_t *self);
/* Call when the links fd is readable. */
int vs_sampler_links_event(vs_sampler_t *self);
int vs_sampler_links_fd(const vs_sampler_t *self);
/* One full sample at CLOCK_REALTIME now_ns. */
int vs_sampler_tick(vs_sampler_t *self, int64_t now_ns);
/* Refreshes Dom0's TCP connection table and its gauges (tcp.established, tcp.total). */
int vs_sampler_conns(vs_sampler_t *self);

/* Stores a value that does not come from the sampler's own sources (the guest intake) in
 * series entity+metric, adding it on first use: a gauge as is, a counter as the increment
 * since its previous absolute value. -ENOSPC/-EINVAL (counted as refused series) when the
 * series cannot be added, -EALREADY for a second value in one tick. */
int vs_sampler_put(vs_sampler_t *self, const char *entity, const char *metric, const char *unit,
    vs_kind_t kind, int64_t value);

vs_history_t *vs_sampler_history(const vs_sampler_t *self);
/* Per series id, the latest raw value of a counter (what the kernel or hypervisor said). */
const uint64_t *vs_sampler_counter_abs(const vs_sampler_t *self);
const vs_graph_t *vs_sampler_graph(const vs_sampler_t *self);
/* Records a counter sampled outside the sampler (shaping statistics): the raw value cur
 * for reads, and the increment from last into series id when have_last. id < 0: nothing. */
void vs_sampler_counter(vs_sampler_t *self, int id, uint64_t last, uint64_t cur, int have_last);
const vs_sockdiag_t *vs_sampler_sockdiag(const vs_sampler_t *self);
const vs_sampler_stats_t *vs_sampler_stats(const vs_sampler_t *self);
unsigned vs_sampler_ncpus(const vs_sampler_t *self);
uint64_t vs_sampler_mem_kib(const vs_sampler_t *self);

#endif
