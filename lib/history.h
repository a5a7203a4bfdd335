/*
 * History: a bounded, compressed in-memory store of every metric's recent samples.
 *
 * Time is shared: vscoped calls vs_history_tick() once per sampling tick and then
 * vs_history_append() for each series sampled in that tick. A series stores at most one
 * int64 per tick and need not append every tick: one sampled every k-th tick, or one that
 * missed ticks, has gaps. For counters the sampler stores the increment since that series'
 * previous sample (so resets and wraps are already resolved); for gauges the value in the
 * metric's unit.
 *
 * Storage is one arena allocated at creation and never grown: fixed-size blocks, taken in
 * circular order. Each block holds samples of one series in tick order, delta-encoded as
 * zigzag varints with runs of equal samples run-length coded (an idle or steady metric
 * costs a few hundredths of a byte per sample, a busy VIF counter about 3). The distance
 * in ticks between samples is coded only where it changes (3 bytes), so a series sampled
 * every k-th tick costs what a per-tick one does, runs included, and a per-tick series that
 * misses a tick pays 6 bytes; only a gap over VS_HISTORY_MAX_GAP ticks starts a new block.
 * When the arena wraps, the oldest block in it is evicted from its series, which is always
 * that series' oldest block because every series takes its blocks in arena order. So memory
 * is fixed after start-up and retention degrades gracefully if samples compress worse than
 * planned.
 */
#ifndef VS_HISTORY_H
#define VS_HISTORY_H

#include <stddef.h>
#include <stdint.h>

typedef struct vs_history vs_history_t;

/* Payload bytes per arena block; arena_bytes is rounded down to a multiple of it. Each block
 * also costs a small metadata record outside the arena (counted in used_bytes). */
#define VS_HISTORY_BLOCK_BYTES 256

/* The longest gap, in ticks, between two samples of a series in one block; a longer one
 * costs a new block (at 10 ms ticks, gaps up to 2 min 43 s stay in the block). */
#define VS_HISTORY_MAX_GAP 16383

typedef enum { VS_KIND_GAUGE = 0, VS_KIND_COUNTER = 1 } vs_kind_t;

typedef struct vs_history_config {
	size_t max_series;      /* series slots, allocated up front */
	uint32_t max_ticks;     /* retention in ticks: the tick-time ring size */
	size_t arena_bytes;     /* compressed sample storage; 0 = max_series * max_ticks * 3;
				 * at least VS_HISTORY_BLOCK_BYTES */
} vs_history_config_t;

typedef struct vs_point {
	int64_t t_ns;           /* CLOCK_REALTIME of the tick */
	int64_t value;
} vs_point_t;

typedef struct vs_series_info {
	const char *entity;     /* borrowed, valid until the series is deleted */
	const char *metric;
	const char *unit;
	vs_kind_t kind;
	int64_t last_value;     /* value of the latest append */
	uint64_t last_tick;     /* tick of the latest append; 0 = never */
	uint64_t n_samples;     /* samples currently readable (tick still in the tick ring) */
} vs_series_info_t;

typedef struct vs_history_stats {
	size_t series;          /* series in use */
	size_t arena_bytes;     /* arena size */
	size_t used_bytes;      /* encoded bytes in live blocks, headers included */
	uint64_t samples;       /* samples currently readable, summed over series */
	uint64_t evicted_blocks;  /* live blocks taken back by the arena wrapping */
	size_t memory_bytes;    /* everything the history allocated */
} vs_history_stats_t;

/* NULL and errno on failure (EINVAL for a zero or oversized config, ENOMEM). Everything is
 * allocated here; no later call allocates. Not thread-safe: callers serialise. */
vs_history_t *vs_history_new(const vs_history_config_t *cfg);
/* Safe on NULL and twice; sets *self_p = NULL. */
void vs_history_destroy(vs_history_t **self_p);

/* Starts a new tick at CLOCK_REALTIME t_ns; returns its number (1, 2, ...). */
uint64_t vs_history_tick(vs_history_t *self, int64_t t_ns);
uint64_t vs_history_current_tick(const vs_history_t *self);
/* Time of a tick still in the tick ring; -ENOENT when it has left it. */
int vs_history_tick_time(const vs_history_t *self, uint64_t tick, int64_t *t_ns_r);

/* Adds a series (strings are copied; entity and metric up to 63 bytes, unit up to 15).
 * Returns its id (>= 0), -EEXIST if entity+metric exists, -ENOSPC when all slots are used,
 * -EINVAL for empty or too long names. */
int vs_history_series_add(vs_history_t *self, const char *entity, const char *metric,
    const char *unit, vs_kind_t kind);
/* Id of entity+metric, or -ENOENT. */
int vs_history_series_find(const vs_history_t *self, const char *entity, const char *metric);
/* Frees the slot and its blocks. Ids of other series do not change. */
void vs_history_series_del(vs_history_t *self, int id);
/* -ENOENT for a free slot. Pointers in *info_r are borrowed. */
int vs_history_series_info(const vs_history_t *self, int id, vs_series_info_t *info_r);
/* Calls fn for each series in use, in id order; stops early when fn returns non-zero. */
void vs_history_series_foreach(const vs_history_t *self,
    int (*fn)(void *arg, int id, const vs_series_info_t *info), void *arg);

/* Stores value for the current tick. A second append in the same tick replaces nothing and
 * returns -EALREADY. A series that skipped ticks simply has a gap (see the top of the file
 * for what it costs). -ENOENT for a bad id, -EINVAL before the first vs_history_tick(). */
int vs_history_append(vs_history_t *self, int id, int64_t value);

/* Copies the points of series id with from_ns <= t <= to_ns, oldest first, into pts (at most
 * max). When more match than fit, the newest max are returned and *truncated_r is set
 * (truncated_r may be NULL). to_ns 0 or INT64_MAX means now. Only ticks still in the tick
 * ring are returned. Returns the number copied or -ENOENT. */
int vs_history_read(const vs_history_t *self, int id, int64_t from_ns, int64_t to_ns,
    vs_point_t *pts, size_t max, int *truncated_r);

/* Sum (counter) or mean (gauge) of the samples of ticks whose time is in (from_ns, to_ns]
 * (to_ns 0 means now), with the time span they cover: for a counter,
 * rate = *sum_or_mean_r / (*span_ns_r / 1e9), right whatever the series' stride or gaps.
 * A counter sample is the increment since the series' previous sample, so the span (of a
 * gauge too) runs from the time of the series' sample just before the first one used to
 * the time of the last one used. When that previous sample is no longer readable (its tick has left the
 * tick ring, or its block was evicted, or there is none), the span starts at the first used
 * sample's time instead, and a counter leaves that first sample out of the sum and of *n_r
 * so the rate stays right; a gauge keeps it in the mean. -ENOENT for a bad id, -ENODATA
 * when no sample is used. */
int vs_history_aggregate(const vs_history_t *self, int id, int64_t from_ns, int64_t to_ns,
    double *sum_or_mean_r, int64_t *span_ns_r, uint64_t *n_r);

void vs_history_stats(const vs_history_t *self, vs_history_stats_t *st_r);

#endif
