/*
 * Guests' resource samples as the parent keeps them: one ring of fixed-size rows for every
 * domain together, bounded by intake-samples-bytes (16 MiB by default, ~140,000 rows), the
 * oldest pushed out when full (counted, per domain) whether fetched or not: `vscope mscope
 * record` and `vscope guest-samples` read it by cursor. A noisy domain can push out
 * another's oldest rows; the counts say so. The rows come checked from the child (bounds,
 * names, time against Dom0's clock, order); here a sample is rebuilt again from its records,
 * a CPU record first with a time after the domain's previous one, then MEM, DISK and NET
 * records of the same time; anything else is dropped and counted as bad.
 */
#include "intake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BYTES (16ULL << 20)

struct domstate {
	vs_intake_samplestat_t st;
	int64_t cur_ts;                 /* the sample being rebuilt: its CPU record's time */
	int open;                       /* its CPU record was kept: its others may follow */
	int have_mem;
};

struct vs_intake_samples {
	vs_intake_samplerow_t *rows;
	size_t cap, n;                  /* rows kept: seq in [seq - n, seq) */
	uint64_t seq;                   /* the next row's */
	uint64_t pushed;
	struct domstate *doms;          /* VS_AGENTKEYS_MAX */
};

vs_intake_samples_t *
vs_intake_samples_new(uint64_t max_bytes)
{
	vs_intake_samples_t *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	if (max_bytes == 0)
		max_bytes = DEFAULT_BYTES;
	q->cap = (size_t)(max_bytes / sizeof(vs_intake_samplerow_t));
	if (q->cap < 16)
		q->cap = 16;
	q->seq = 1;
	q->rows = malloc(q->cap * sizeof(*q->rows));
	q->doms = calloc(VS_AGENTKEYS_MAX, sizeof(*q->doms));
	if (q->rows == NULL || q->doms == NULL)
		vs_intake_samples_destroy(&q);
	return q;
}

void
vs_intake_samples_destroy(vs_intake_samples_t **self_p)
{
	vs_intake_samples_t *q = self_p ? *self_p : NULL;

	if (q == NULL)
		return;
	free(q->rows);
	free(q->doms);
	free(q);
	*self_p = NULL;
}

int
vs_intake_samples_rec(vs_intake_samples_t *q, const vs_intake_rec_t *r)
{
	struct domstate *d;
	vs_intake_samplerow_t *o;

	if (r->dom >= VS_AGENTKEYS_MAX)
		return -EINVAL;
	d = &q->doms[r->dom];
	if (r->type == VS_REC_SAMPLE_CPU) {
		if (r->ts_ns <= d->cur_ts) {
			d->st.bad++;
			d->open = 0;    /* and the rest of this sample with it */
			return -EINVAL;
		}
		d->cur_ts = r->ts_ns;
		d->open = 1;
		d->have_mem = 0;
	} else if (!d->open || r->ts_ns != d->cur_ts ||
	    (r->type == VS_REC_SAMPLE_MEM) == d->have_mem) {
		d->st.bad++;            /* not of the sample being rebuilt, or MEM twice / missing */
		return -EINVAL;
	} else if (r->type == VS_REC_SAMPLE_MEM) {
		d->have_mem = 1;
	}
	if (q->n == q->cap) {
		const vs_intake_samplerow_t *old = &q->rows[(q->seq - q->n) % q->cap];
		if (old->dom < VS_AGENTKEYS_MAX)
			q->doms[old->dom].st.pushed_out++;
		q->pushed++;
		q->n--;
	}
	o = &q->rows[q->seq % q->cap];
	o->seq = q->seq++;
	o->ts_ns = r->ts_ns;
	o->dom = r->dom;
	o->type = r->type;
	o->s = r->sample;
	o->s.dev[sizeof(o->s.dev) - 1] = '\0';
	q->n++;
	d->st.rows++;
	d->st.samples += r->type == VS_REC_SAMPLE_CPU;
	d->st.last_ts_ns = r->ts_ns;
	return 0;
}

int
vs_intake_samples_each_q(const vs_intake_samples_t *q, char (*names)[VS_KEYDOM_MAX + 1],
    size_t n_names, const char *domain, uint64_t cursor, size_t max_rows,
    vs_intake_samplerow_fn fn, void *arg, uint64_t *next_r)
{
	uint64_t s, oldest = q->seq - q->n;
	size_t k = 0;
	int rc = 0;

	if (cursor == UINT64_MAX) {
		*next_r = q->seq;
		return 0;
	}
	for (s = cursor < oldest ? oldest : cursor; s < q->seq; s++) {
		const vs_intake_samplerow_t *r = &q->rows[s % q->cap];

		if (r->dom >= n_names || (domain && strcmp(names[r->dom], domain) != 0))
			continue;
		if (k == max_rows)
			break;
		if ((rc = fn(arg, names[r->dom], r)) != 0)
			break;
		k++;
	}
	*next_r = s;
	return rc;
}

int
vs_intake_samples_stat_q(const vs_intake_samples_t *q, char (*names)[VS_KEYDOM_MAX + 1],
    size_t n_names, const char *domain, vs_intake_samplestat_t *st)
{
	int found = 0;

	memset(st, 0, sizeof(*st));
	for (size_t d = 0; d < n_names && d < VS_AGENTKEYS_MAX; d++) {
		const vs_intake_samplestat_t *x = &q->doms[d].st;

		if (domain && strcmp(names[d], domain) != 0)
			continue;
		found = 1;
		st->samples += x->samples;
		st->rows += x->rows;
		st->pushed_out += x->pushed_out;
		st->bad += x->bad;
		if (x->last_ts_ns > st->last_ts_ns)
			st->last_ts_ns = x->last_ts_ns;
	}
	return found ? 0 : -ENOENT;
}

void
vs_intake_samples_totals_q(const vs_intake_samples_t *q, uint64_t *rows_r, uint64_t *bytes_r,
    uint64_t *oldest_r, uint64_t *pushed_r)
{
	*rows_r = q->n;
	*bytes_r = q->n * sizeof(vs_intake_samplerow_t);
	*oldest_r = q->seq - q->n;
	*pushed_r = q->pushed;
}
