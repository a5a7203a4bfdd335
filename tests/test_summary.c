/* The percentile summariser: nearest-rank p50/p99, min/mean/max, empty and one sample. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"
#include "tap.h"

int
main(void)
{
	double v[1000];
	vs_summary_t s;
	vs_samples_t b;

	vs_summarise(v, 0, &s);
	tap_ok(s.count == 0 && s.p99 == 0 && s.max == 0, "no samples: all zero");
	v[0] = 42;
	vs_summarise(v, 1, &s);
	tap_ok(s.count == 1 && s.min == 42 && s.p50 == 42 && s.p99 == 42 && s.max == 42,
	    "one sample is every statistic");
	/* 1..100 shuffled: p50 = 50, p99 = 99 (nearest rank), mean 50.5 */
	for (int i = 0; i < 100; i++)
		v[i] = (double)((i * 37) % 100 + 1);
	vs_summarise(v, 100, &s);
	tap_ok(s.min == 1 && s.max == 100, "1..100: min 1, max 100 (got %g %g)", s.min, s.max);
	tap_ok(s.p50 == 50, "1..100: p50 = 50 (got %g)", s.p50);
	tap_ok(s.p99 == 99, "1..100: p99 = 99 (got %g)", s.p99);
	tap_ok(fabs(s.mean - 50.5) < 1e-9, "1..100: mean 50.5 (got %g)", s.mean);
	/* one outlier in 1000: p99 does not see it, max does */
	for (int i = 0; i < 1000; i++)
		v[i] = i == 500 ? 1e6 : 30;
	vs_summarise(v, 1000, &s);
	tap_ok(s.p99 == 30 && s.max == 1e6, "one outlier in 1000: p99 30, max 1e6");
	/* 2% slow: p99 lands in the slow part */
	for (int i = 0; i < 1000; i++)
		v[i] = i % 50 == 0 ? 20000 : 30;
	vs_summarise(v, 1000, &s);
	tap_ok(s.p99 == 20000 && s.p50 == 30, "2%% slow: p99 20000, p50 30 (got %g %g)", s.p99,
	    s.p50);
	v[0] = 2; v[1] = 1;
	vs_summarise(v, 2, &s);
	tap_ok(s.p50 == 1 && s.p99 == 2, "two samples: p50 is the lower, p99 the upper");

	tap_ok(vs_samples_init(&b, 3) == 0, "bounded buffer of 3");
	for (int i = 0; i < 5; i++)
		vs_samples_add(&b, i);
	tap_ok(b.n == 3 && b.dropped == 2, "5 samples into 3: 3 kept, 2 counted as dropped");
	vs_samples_reset(&b);
	tap_ok(b.n == 0, "reset empties it");
	vs_samples_dispose(&b);
	return tap_done();
}
