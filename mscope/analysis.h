/*
 * milliScope's analyses over the warehouse: request paths across tiers by request ID,
 * point-in-time response time, per-tier queue lengths at 1 ms instants, very long
 * response time (VLRT) requests and the windows where they cluster, the tier whose queue
 * rose first, and resource metrics ranked by how well they line up with that rise.
 *
 * The computation (vs_mana_compute) works on arrays and knows nothing of SQL, so it is
 * tested on its own; vs_mana_load_* fill the arrays from a warehouse (wh.h).
 *
 * Ownership: a vs_mana_input_t owns its tiers' requests and its series; free it with
 * vs_mana_input_dispose(). A vs_mana_t result is freed with vs_mana_destroy().
 */
#ifndef VS_MSCOPE_ANALYSIS_H
#define VS_MSCOPE_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "wh.h"

#define VS_MANA_MAX_TIERS 8
#define VS_MANA_MAX_REQS 4000000        /* rows per tier */
#define VS_MANA_MAX_SERIES 4096
#define VS_MANA_MAX_SAMPLES 2000000     /* resource samples in all */
#define VS_MANA_MAX_BINS 20000000       /* 1 ms instants: 5.5 hours */
#define VS_MANA_MAX_CLUSTERS 10
#define VS_MANA_MAX_EXPLAIN 10

/* One request's visit to a tier: begin/end in ns; ds_b: when this tier sent the request
 * downstream (INT64_MIN: not logged). id NULL when the line had none. */
typedef struct vs_mreq {
	char *id;
	int64_t b, e;
	int64_t ds_b;
} vs_mreq_t;

typedef struct vs_mtier {
	char name[64];
	char table[64];
	vs_mreq_t *reqs;
	size_t n, cap;
	uint64_t dropped;               /* rows without a begin or end, end < begin, or a
					 * time before 1970 or after 2116 (2^62 ns) */
} vs_mtier_t;

/* One resource metric of one host (and device/cpu key): samples in time order. */
typedef struct vs_mseries {
	char table[64], column[64], key[64], host[64];
	int64_t *t;
	double *v;
	size_t n, cap;
} vs_mseries_t;

typedef struct vs_mana_input {
	vs_mtier_t tiers[VS_MANA_MAX_TIERS];    /* front tier first */
	size_t ntiers;
	vs_mseries_t *series;
	size_t nseries, scap;
	size_t nsamples;
} vs_mana_input_t;

typedef struct vs_mana_opts {
	int64_t window_ns;      /* point-in-time window (default 50 ms) */
	int64_t res_ns;         /* queue-length instants (default 1 ms) */
	double vlrt_k;          /* VLRT: response time above k x the median (default 10) */
	int64_t vlrt_min_ns;    /* ... and above this (default 0) */
	int64_t gap_ns;         /* VLRT windows closer than this are one cluster (100 ms) */
	int64_t from_ns, to_ns; /* only requests that begin in [from, to) (0: no limit) */
} vs_mana_opts_t;

void vs_mana_opts_default(vs_mana_opts_t *o);

/* Tier and series building (the loaders use them; so do tests). -errno. */
int vs_mana_tier_add(vs_mtier_t *t, const char *id, size_t idlen, int64_t b, int64_t e,
    int64_t ds_b);
vs_mseries_t *vs_mana_series(vs_mana_input_t *in, const char *table, const char *column,
    const char *key, const char *host);
int vs_mana_series_add(vs_mana_input_t *in, vs_mseries_t *s, int64_t t, double v);
void vs_mana_input_dispose(vs_mana_input_t *in);

/*
 * Loads tier NAME from event table TABLE of run (NULL: every run): the ID column (req_id,
 * request_id, rid or id), begin/end from begin_time/end_time, or begin_time plus a duration
 * (duration_us, duration_ms, duration_s), or end_time or the row time minus it (the row
 * time plus it for apache* tables: Apache's %t is when the request arrived), an upstream duration
 * (upstream_us, upstream_ms, upstream_s: when the tier sent the request downstream is its
 * end minus that). 0 or -errno with the reason in err.
 */
int vs_mana_load_tier(vs_wh_t *wh, const char *run, const char *name, const char *table,
    vs_mana_input_t *in, char *err, size_t errlen);
/* Loads every numeric column of a resource table (text columns form the key). */
int vs_mana_load_resource(vs_wh_t *wh, const char *run, const char *table,
    vs_mana_input_t *in, char *err, size_t errlen);
/* The names of the warehouse's tables of kind ("event", "resource"); malloc'd array of
 * malloc'd strings. */
int vs_mana_tables(vs_wh_t *wh, const char *kind, char ***names_r, size_t *n_r);

typedef struct vs_mana vs_mana_t;

/* Runs every analysis. NULL with errno and the reason in err. */
vs_mana_t *vs_mana_compute(const vs_mana_input_t *in, const vs_mana_opts_t *o, char *err,
    size_t errlen);
void vs_mana_destroy(vs_mana_t **self_p);

/* The result as JSON (series: add the per-window series) or a human report. */
json_object *vs_mana_json(const vs_mana_t *a, int series);
void vs_mana_print(const vs_mana_t *a, FILE *f, int series);

/* Accessors for tests and callers. */
size_t vs_mana_nclusters(const vs_mana_t *a);
/* Cluster i (0 = the one with most VLRT requests): its window, VLRT count, the tier whose
 * queue rose first (index, or -1) and the top explanation (class "disk", "cpu",
 * "memory", "network", "other"; table.column), each may be NULL. */
int vs_mana_cluster(const vs_mana_t *a, size_t i, int64_t *start_r, int64_t *end_r,
    uint64_t *nvlrt_r, int *first_tier_r, const char **class_r, const char **metric_r);
uint64_t vs_mana_nvlrt(const vs_mana_t *a);
uint64_t vs_mana_npaths(const vs_mana_t *a, uint64_t *complete_r);
int64_t vs_mana_median_ns(const vs_mana_t *a);
/* The queue length of tier t at instant ns (own: requests in the tier and not downstream). */
int vs_mana_queue_at(const vs_mana_t *a, size_t tier, int64_t ns, int own);

size_t vs_mana_ntiers(const vs_mana_t *a);
const char *vs_mana_tier_name(const vs_mana_t *a, size_t tier);
/* The number of point-in-time windows; the analysis' span [t0, tend), the window and the
 * queue-length resolution (ns). */
size_t vs_mana_nwindows(const vs_mana_t *a, int64_t *t0_r, int64_t *tend_r, int64_t *window_r,
    int64_t *res_r);
/* Window w (from t0 + w x window): front-tier requests completed in it, their mean and
 * maximum response time (ns), how many were VLRT. -ENOENT past the end. */
int vs_mana_window(const vs_mana_t *a, size_t w, uint32_t *completed_r, int64_t *mean_r,
    int64_t *max_r, uint32_t *vlrt_r);
/* The VLRT threshold (ns). */
int64_t vs_mana_vlrt_threshold(const vs_mana_t *a);
/* Explanation e of cluster i: class, "table.column", key ("" for none), host, r. */
int vs_mana_explanation(const vs_mana_t *a, size_t i, size_t e, const char **class_r,
    const char **metric_r, const char **key_r, const char **host_r, double *r_r);

/* The class of a resource metric from its table and column names. */
const char *vs_mana_metric_class(const char *table, const char *column);

#endif
