/* The intake's per-domain quotas: token buckets for messages/s and bytes/s. */
#include "intake.h"

void
vs_bucket_init(vs_bucket_t *b, double rate, double burst, int64_t now_ns)
{
	b->rate = rate;
	b->burst = burst < rate / 10 ? rate / 10 : burst;
	b->tokens = b->burst;
	b->last_ns = now_ns;
}

int
vs_bucket_take(vs_bucket_t *b, double cost, int64_t now_ns)
{
	if (now_ns > b->last_ns) {
		b->tokens += (double)(now_ns - b->last_ns) * 1e-9 * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_ns = now_ns;
	}
	if (b->tokens < cost)
		return 0;
	b->tokens -= cost;
	return 1;
}
