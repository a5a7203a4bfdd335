/*
 * A StatsD listener's parser and table: "name:value|type[|@rate]" lines, several per
 * datagram separated by '\n'. Types c (counter), g (gauge, "+N"/"-N" are deltas), ms and h
 * (timers, summarised per interval). Bounded: at most VS_STATSD_MAX_NAMES names; new names
 * past that are dropped and counted. Names are [A-Za-z0-9_.:-]{1,VS_STATSD_MAX_NAME}, so
 * that "statsd.<name>.count" fits the protocol's metric names (lib/agentwire.h).
 */
#ifndef VS_STATSD_H
#define VS_STATSD_H

#include <stddef.h>
#include <stdint.h>

#include "summary.h"

#define VS_STATSD_MAX_NAMES  1024
#define VS_STATSD_MAX_NAME   82         /* 95 - strlen("statsd.") - strlen(".count") */
#define VS_STATSD_MAX_TIMER  4096       /* timer samples per name per interval */

enum vs_statsd_type { VS_STATSD_COUNTER, VS_STATSD_GAUGE, VS_STATSD_TIMER };

typedef struct vs_statsd_line {
	char name[VS_STATSD_MAX_NAME + 1];
	enum vs_statsd_type type;
	double value;
	double rate;                    /* 1 unless |@rate */
	int delta;                      /* gauge with an explicit sign */
} vs_statsd_line_t;

/* Parses one line (no '\n'). 0, or -EINVAL with a reason in err. */
int vs_statsd_parse_line(const char *s, size_t len, vs_statsd_line_t *l_r, char *err, size_t errlen);

typedef struct vs_statsd_stats {
	uint64_t lines, bad_lines, dropped_names, datagrams;
} vs_statsd_stats_t;

typedef struct vs_statsd vs_statsd_t;

vs_statsd_t *vs_statsd_new(void);       /* NULL and errno */
void vs_statsd_destroy(vs_statsd_t **self_p);
/* Applies every line of one datagram. Returns the number of good lines. */
int vs_statsd_feed(vs_statsd_t *self, const char *buf, size_t len);
const vs_statsd_stats_t *vs_statsd_stats(const vs_statsd_t *self);
size_t vs_statsd_names(const vs_statsd_t *self);

/* Called per output metric at flush; kind is 0 gauge, 1 counter (agent.proto's Kind). */
typedef void (*vs_statsd_emit_fn)(void *arg, const char *name, double value, int kind);
/* Emits every metric ("statsd.<name>", timers ".count .min .mean .p50 .p99 .max") and
 * starts a new interval for timers. */
void vs_statsd_flush(vs_statsd_t *self, vs_statsd_emit_fn fn, void *arg);

#endif
