#include "summary.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
s_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
s_rank(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p / 100.0 * (double)n);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

void
vs_summarise(double *v, size_t n, vs_summary_t *s_r)
{
	double sum = 0;
	size_t i;

	memset(s_r, 0, sizeof(*s_r));
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), s_cmp);
	for (i = 0; i < n; i++)
		sum += v[i];
	s_r->count = n;
	s_r->min = v[0];
	s_r->max = v[n - 1];
	s_r->mean = sum / (double)n;
	s_r->p50 = s_rank(v, n, 50);
	s_r->p99 = s_rank(v, n, 99);
}

int
vs_samples_init(vs_samples_t *s, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->v = malloc(cap * sizeof(*s->v));
	if (s->v == NULL)
		return -ENOMEM;
	s->cap = cap;
	return 0;
}

void
vs_samples_dispose(vs_samples_t *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void
vs_samples_add(vs_samples_t *s, double x)
{
	if (s->n == s->cap) {
		s->dropped++;
		return;
	}
	s->v[s->n++] = x;
}

void
vs_samples_reset(vs_samples_t *s)
{
	s->n = 0;
}
