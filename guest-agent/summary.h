/* Per-interval summaries of latency samples: count, min, mean, p50, p99, max. */
#ifndef VS_SUMMARY_H
#define VS_SUMMARY_H

#include <stddef.h>

typedef struct vs_summary {
	size_t count;
	double min, mean, p50, p99, max;
} vs_summary_t;

/* Summarises v[0..n) (sorts v in place). Percentiles are nearest-rank: the smallest sample
 * with at least p% of the samples at or below it. n == 0 gives all zeros. */
void vs_summarise(double *v, size_t n, vs_summary_t *s_r);

/* A bounded sample buffer: at most cap samples per interval, the rest are counted. */
typedef struct vs_samples {
	double *v;
	size_t n, cap;
	size_t dropped;
} vs_samples_t;

int  vs_samples_init(vs_samples_t *s, size_t cap);      /* 0 or -ENOMEM */
void vs_samples_dispose(vs_samples_t *s);
void vs_samples_add(vs_samples_t *s, double x);
void vs_samples_reset(vs_samples_t *s);

#endif
