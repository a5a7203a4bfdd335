/*
 * milliScope's analyses (analysis.h): paths by request ID, point-in-time response time,
 * queue lengths at 1 ms instants, VLRT clusters, the tier whose queue rose first, and the
 * resource metrics that line up with that rise.
 *
 * Queue length of a tier at instant t: its requests with begin <= t < end. A tier that logs
 * when it sent a request downstream (nginx's upstream time) moves the next tier's begin
 * back to that moment, so a request waiting in the next tier's accept queue counts there,
 * not upstream. The own queue of a tier leaves out the time its requests spent in the next
 * tier (clamped to the parent's visit), so a stall shows in the tier that stalls, and a
 * push-back shows later in the tiers above it.
 */
#include "analysis.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_MS 1000000LL
#define S_NONE INT64_MIN
#define S_TMAX (INT64_C(1) << 62)
#define S_PRE_NS (1000 * S_MS)          /* a rise may start this long before its cluster */
#define S_REGION_NS (2000 * S_MS)       /* explanations look this far around a cluster */
#define S_DIP_BINS 5                    /* a rise survives dips this long */
#define S_SLOWEST 10
#define S_MIN_Z 2.0
#define S_MIN_REL 0.05
#define S_MIN_RISE 3

typedef struct s_expl {
	struct {
		char key[64], host[64];
	} s[1];                         /* copied: the result outlives the input */
	const char *cls;
	char metric[130];
	double r, in_mean, out_mean;
	size_t n;
} s_expl_t;

typedef struct s_cluster {
	int64_t s, e;
	uint64_t nvlrt;
	int64_t max_rt;
	int first;
	int64_t rise[VS_MANA_MAX_TIERS];
	int peak[VS_MANA_MAX_TIERS];
	int base[VS_MANA_MAX_TIERS];
	s_expl_t ex[VS_MANA_MAX_EXPLAIN];
	size_t nex;
} s_cluster_t;

typedef struct s_tres {
	char name[64], table[64];
	uint64_t n, with_id, matched, dropped, hb_viol;
	int64_t med, p99, max;
	double mean_res, mean_own;
	int32_t *q, *own;
	int qmed, qmax, omax;
} s_tres_t;

typedef struct s_slow {
	size_t idx;                     /* front-tier request */
	char id[80];
	int64_t rt;
	int64_t b[VS_MANA_MAX_TIERS], e[VS_MANA_MAX_TIERS], own[VS_MANA_MAX_TIERS];
	size_t nrows[VS_MANA_MAX_TIERS];
} s_slow_t;

struct vs_mana {
	vs_mana_opts_t o;
	size_t ntiers;
	s_tres_t t[VS_MANA_MAX_TIERS];
	int64_t t0, tend;
	size_t nbins, nwin;
	uint64_t npaths, complete;
	uint64_t nvlrt;
	int64_t median, p99, max, thr;
	uint32_t *wcnt, *wvlrt;
	int64_t *wsum, *wmax;
	s_cluster_t cl[VS_MANA_MAX_CLUSTERS];
	size_t ncl, ncl_all;
	s_slow_t slow[S_SLOWEST];
	size_t nslow;
};

void
vs_mana_opts_default(vs_mana_opts_t *o)
{
	memset(o, 0, sizeof(*o));
	o->window_ns = 50 * S_MS;
	o->res_ns = S_MS;
	o->vlrt_k = 10.0;
	o->gap_ns = 100 * S_MS;
}

/* ---- input ---- */

int
vs_mana_tier_add(vs_mtier_t *t, const char *id, size_t idlen, int64_t b, int64_t e,
    int64_t ds_b)
{
	vs_mreq_t *r;

	/* times from 1970 to 2116 (S_TMAX), so that no difference of two overflows */
	if (b == S_NONE || e == S_NONE || e < b || b < 0 || e > S_TMAX) {
		t->dropped++;
		return 0;
	}
	if (ds_b < 0 || ds_b > S_TMAX)
		ds_b = S_NONE;
	if (t->n >= VS_MANA_MAX_REQS)
		return -E2BIG;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		vs_mreq_t *nr = realloc(t->reqs, nc * sizeof(*nr));
		if (nr == NULL)
			return -ENOMEM;
		t->reqs = nr;
		t->cap = nc;
	}
	r = &t->reqs[t->n];
	r->id = NULL;
	if (id != NULL && idlen > 0) {
		if (idlen > 79)
			idlen = 79;     /* IDs are short; a longer one is still an ID */
		r->id = strndup(id, idlen);
		if (r->id == NULL)
			return -ENOMEM;
	}
	r->b = b;
	r->e = e;
	r->ds_b = ds_b;
	t->n++;
	return 0;
}

vs_mseries_t *
vs_mana_series(vs_mana_input_t *in, const char *table, const char *column, const char *key,
    const char *host)
{
	vs_mseries_t *s;

	for (size_t i = in->nseries; i-- > 0;) {
		s = &in->series[i];
		if (strcmp(s->column, column) == 0 && strcmp(s->key, key) == 0 &&
		    strcmp(s->host, host) == 0 && strcmp(s->table, table) == 0)
			return s;
	}
	if (in->nseries >= VS_MANA_MAX_SERIES) {
		errno = E2BIG;
		return NULL;
	}
	if (in->nseries == in->scap) {
		size_t nc = in->scap ? in->scap * 2 : 64;
		vs_mseries_t *ns = realloc(in->series, nc * sizeof(*ns));
		if (ns == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		in->series = ns;
		in->scap = nc;
	}
	s = &in->series[in->nseries++];
	memset(s, 0, sizeof(*s));
	snprintf(s->table, sizeof(s->table), "%s", table);
	snprintf(s->column, sizeof(s->column), "%s", column);
	snprintf(s->key, sizeof(s->key), "%s", key);
	snprintf(s->host, sizeof(s->host), "%s", host);
	return s;
}

int
vs_mana_series_add(vs_mana_input_t *in, vs_mseries_t *s, int64_t t, double v)
{
	if (in->nsamples >= VS_MANA_MAX_SAMPLES)
		return -E2BIG;
	if (!isfinite(v))
		return 0;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		int64_t *nt = realloc(s->t, nc * sizeof(*nt));
		if (nt == NULL)
			return -ENOMEM;
		s->t = nt;
		double *nv = realloc(s->v, nc * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	s->t[s->n] = t;
	s->v[s->n] = v;
	s->n++;
	in->nsamples++;
	return 0;
}

void
vs_mana_input_dispose(vs_mana_input_t *in)
{
	for (size_t i = 0; i < in->ntiers; i++) {
		for (size_t j = 0; j < in->tiers[i].n; j++)
			free(in->tiers[i].reqs[j].id);
		free(in->tiers[i].reqs);
	}
	for (size_t i = 0; i < in->nseries; i++) {
		free(in->series[i].t);
		free(in->series[i].v);
	}
	free(in->series);
	memset(in, 0, sizeof(*in));
}

const char *
vs_mana_metric_class(const char *table, const char *column)
{
	static const char *const brief[][2] = {    /* collectl -oT: one table, every subsystem */
		{ "cpu", "cpu" }, { "sys", "cpu" }, { "inter", "cpu" }, { "ctxsw", "cpu" },
		{ "kbread", "disk" }, { "reads", "disk" }, { "kbwrit", "disk" },
		{ "writes", "disk" }, { "free", "memory" }, { "buff", "memory" },
		{ "cach", "memory" }, { "inac", "memory" }, { "slab", "memory" },
		{ "map", "memory" }, { "kbin", "network" }, { "pktin", "network" },
		{ "kbout", "network" }, { "pktout", "network" },
	};
	static const char *const blk[] = { "tps", "rtps", "wtps", "dtps", "bread_s", "bwrtn_s",
		"bdscd_s" };                  /* sar -b */
	size_t tl = strlen(table);

	/* iowait is CPU time spent idle with disk I/O outstanding: a disk symptom */
	if (strstr(column, "wait_pct") != NULL || strcmp(column, "iowait") == 0 ||
	    strcmp(column, "pct_iowait") == 0)
		return "disk";
	/* paging in/out counts what is read from and written to block devices (pgpgin and
	 * pgpgout of /proc/vmstat: collectl's [MEM]PageIn/PageOut, sar -B): disk traffic */
	if (strcmp(column, "mem_pagein") == 0 || strcmp(column, "mem_pageout") == 0 ||
	    strcmp(column, "pgpgin_s") == 0 || strcmp(column, "pgpgout_s") == 0 ||
	    strcmp(column, "pgpgin") == 0 || strcmp(column, "pgpgout") == 0)
		return "disk";
	/* so are the processes blocked on I/O (collectl's [CPU]BlkTot/ProcBlk, sar -q) */
	if (strcmp(column, "cpu_blktot") == 0 || strcmp(column, "cpu_procblk") == 0 ||
	    strcmp(column, "blocked") == 0 || strcmp(column, "procs_blocked") == 0)
		return "disk";
	if (strcmp(table, "collectl_brief") == 0)
		for (size_t i = 0; i < sizeof(brief) / sizeof(brief[0]); i++)
			if (strcmp(column, brief[i][0]) == 0)
				return brief[i][1];
	/* before iostat's: its avg-cpu table is CPU time */
	if (strncmp(column, "cpu_", 4) == 0 || strstr(table, "cpu") != NULL)
		return "cpu";
	for (size_t i = 0; i < sizeof(blk) / sizeof(blk[0]); i++)
		if (strcmp(column, blk[i]) == 0)
			return "disk";
	if (strncmp(column, "dsk_", 4) == 0 || strncmp(column, "disk", 4) == 0 ||
	    strstr(table, "dsk") != NULL || strstr(table, "disk") != NULL ||
	    strstr(table, "iostat") != NULL || strncmp(column, "io_", 3) == 0 ||
	    (tl > 3 && strcmp(table + tl - 3, "_io") == 0))
		return "disk";
	if (strncmp(column, "mem_", 4) == 0 || strstr(table, "mem") != NULL ||
	    strstr(column, "dirty") != NULL || strstr(column, "writeback") != NULL)
		return "memory";
	if (strncmp(column, "net_", 4) == 0 || strstr(table, "net") != NULL ||
	    strstr(table, "dev") != NULL)
		return "network";
	return "other";
}

/* ---- the computation ---- */

static int
s_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static const vs_mtier_t *s_sort_tier;

static int
s_cmp_idx(const void *a, const void *b)
{
	const vs_mreq_t *x = &s_sort_tier->reqs[*(const size_t *)a];
	const vs_mreq_t *y = &s_sort_tier->reqs[*(const size_t *)b];

	return strcmp(x->id, y->id);
}

/* Indices of t's rows with an ID, sorted by ID. */
static size_t *
s_index(const vs_mtier_t *t, size_t *n_r)
{
	size_t *ix = malloc((t->n ? t->n : 1) * sizeof(*ix)), n = 0;

	if (ix == NULL)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->reqs[i].id != NULL)
			ix[n++] = i;
	s_sort_tier = t;
	qsort(ix, n, sizeof(*ix), s_cmp_idx);
	*n_r = n;
	return ix;
}

/* The first position in ix of id, or n. */
static size_t
s_find(const vs_mtier_t *t, const size_t *ix, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->reqs[ix[mid]].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(t->reqs[ix[lo]].id, id) == 0 ? lo : n;
}

static int64_t
s_ceil_div(int64_t a, int64_t b)
{
	return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* Adds +d over the instants in [b, e) to diff. */
static void
s_span(const vs_mana_t *a, int32_t *diff, int64_t b, int64_t e, int d)
{
	int64_t k0 = s_ceil_div(b - a->t0, a->o.res_ns), k1 = s_ceil_div(e - a->t0, a->o.res_ns);

	if (k0 < 0)
		k0 = 0;
	if (k1 > (int64_t)a->nbins)
		k1 = (int64_t)a->nbins;
	if (k1 <= k0)
		return;
	diff[k0] += d;
	diff[k1] -= d;
}

static void
s_integrate(int32_t *q, size_t n)
{
	int32_t c = 0;

	for (size_t i = 0; i < n; i++) {
		c += q[i];
		q[i] = c;
	}
}

static int64_t
s_quantile(int64_t *v, size_t n, double q)
{
	size_t k;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), s_cmp_i64);
	k = (size_t)(q * (double)(n - 1) + 0.5);
	return v[k < n ? k : n - 1];
}

static int
s_in_range(const vs_mana_opts_t *o, int64_t b)
{
	return (o->from_ns == 0 || b >= o->from_ns) && (o->to_ns == 0 || b < o->to_ns);
}

/* The 99th percentile of q over the bins not within pad of any cluster. */
static int
s_baseline(const vs_mana_t *a, const int32_t *q, const s_cluster_t *cl, size_t ncl)
{
	uint64_t hist[1025] = { 0 }, n = 0, acc = 0;
	int64_t pad = S_PRE_NS / a->o.res_ns;

	for (size_t k = 0; k < a->nbins; k++) {
		int64_t t = (int64_t)k;
		int skip = 0;
		for (size_t c = 0; c < ncl && !skip; c++) {
			int64_t s = (cl[c].s - a->t0) / a->o.res_ns - pad;
			int64_t e = (cl[c].e - a->t0) / a->o.res_ns + pad;
			skip = t >= s && t < e;
		}
		if (skip)
			continue;
		hist[q[k] < 0 ? 0 : q[k] > 1024 ? 1024 : q[k]]++;
		n++;
	}
	if (n == 0)
		return 0;
	for (int v = 0; v <= 1024; v++) {
		acc += hist[v];
		if (acc * 100 >= n * 99)
			return v;
	}
	return 1024;
}

static void
s_rise(const vs_mana_t *a, s_cluster_t *c, size_t ti)
{
	const int32_t *q = a->t[ti].own;
	int64_t ks = (c->s - a->t0) / a->o.res_ns, ke = (c->e - a->t0) / a->o.res_ns;
	int64_t kmin = ks - S_PRE_NS / a->o.res_ns, kp = ks, k, first, dip = 0;
	int peak = -1, thr;

	if (kmin < 0)
		kmin = 0;
	if (ke > (int64_t)a->nbins)
		ke = (int64_t)a->nbins;
	for (k = ks; k < ke; k++)
		if (q[k] > peak) {
			peak = q[k];
			kp = k;
		}
	c->peak[ti] = peak < 0 ? 0 : peak;
	c->rise[ti] = S_NONE;
	/* a rise is at least S_MIN_RISE requests and at least the baseline again: a queue of
	 * 1 that touches 3 is a tier wobbling, not stalling */
	if (peak - c->base[ti] < S_MIN_RISE || peak - c->base[ti] < c->base[ti])
		return;
	thr = c->base[ti] + ((peak - c->base[ti]) / 4 > 1 ? (peak - c->base[ti]) / 4 : 1);
	first = kp;
	for (k = kp; k >= kmin; k--) {
		if (q[k] >= thr) {
			first = k;
			dip = 0;
		} else if (++dip > S_DIP_BINS) {
			break;
		}
	}
	c->rise[ti] = a->t0 + first * a->o.res_ns;
}

/* Pearson correlation of each series with tier ti's own queue around cluster c. */
static void
s_explain(const vs_mana_t *a, const vs_mana_input_t *in, s_cluster_t *c, int ti)
{
	const int32_t *q = ti >= 0 ? a->t[ti].own : a->t[0].q;
	int64_t *pre = malloc((a->nbins + 1) * sizeof(*pre));
	int64_t rs = c->s - S_REGION_NS, re = c->e + S_REGION_NS;

	if (pre == NULL)
		return;
	pre[0] = 0;
	for (size_t k = 0; k < a->nbins; k++)
		pre[k + 1] = pre[k] + q[k];
	for (size_t si = 0; si < in->nseries; si++) {
		const vs_mseries_t *s = &in->series[si];
		double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, in_s = 0, out_s = 0, out_ss = 0, r;
		size_t n = 0, nin = 0, nout = 0;
		for (size_t j = 1; j < s->n; j++) {
			int64_t tp = s->t[j - 1], tj = s->t[j], k0, k1;
			double x = s->v[j], y;
			if (tj < rs || tj > re || tj <= tp)
				continue;
			k0 = s_ceil_div(tp - a->t0, a->o.res_ns);
			k1 = s_ceil_div(tj - a->t0, a->o.res_ns);
			if (k0 < 0)
				k0 = 0;
			if (k1 > (int64_t)a->nbins)
				k1 = (int64_t)a->nbins;
			if (k1 <= k0)
				continue;
			y = (double)(pre[k1] - pre[k0]) / (double)(k1 - k0);
			sx += x;
			sy += y;
			sxx += x * x;
			syy += y * y;
			sxy += x * y;
			n++;
			/* a sample is the rate over the interval that ends at its time */
			if (tj > c->s && tp < c->e) {
				in_s += x;
				nin++;
			} else {
				out_s += x;
				out_ss += x * x;
				nout++;
			}
		}
		if (n < 5 || nin == 0 || nout == 0)
			continue;
		double vx = (double)n * sxx - sx * sx, vy = (double)n * syy - sy * sy;
		if (vx <= 1e-12 * (sxx > 1 ? sxx : 1) * n || vy <= 0)
			continue;
		r = ((double)n * sxy - sx * sy) / sqrt(vx * vy);
		/* it must rise in the cluster, by S_MIN_Z standard deviations of its level around and
		 * by S_MIN_REL of that level: a gauge that creeps up (cached memory as logs grow)
		 * lines up with any long cluster, by a fraction of a percent */
		double om = out_s / (double)nout, osd = out_ss / (double)nout - om * om;
		osd = osd > 0 ? sqrt(osd) : 0;
		if (!(r > 0) || in_s / (double)nin - om <= S_MIN_Z * osd ||
		    in_s / (double)nin - om <= S_MIN_REL * fabs(om))
			continue;
		/* insert into the top list, by r */
		size_t pos = c->nex;
		while (pos > 0 && c->ex[pos - 1].r < r)
			pos--;
		if (pos >= VS_MANA_MAX_EXPLAIN)
			continue;
		if (c->nex < VS_MANA_MAX_EXPLAIN)
			c->nex++;
		memmove(&c->ex[pos + 1], &c->ex[pos], (c->nex - 1 - pos) * sizeof(c->ex[0]));
		memcpy(c->ex[pos].s->key, s->key, sizeof(s->key));
		memcpy(c->ex[pos].s->host, s->host, sizeof(s->host));
		c->ex[pos].cls = vs_mana_metric_class(s->table, s->column);
		snprintf(c->ex[pos].metric, sizeof(c->ex[pos].metric), "%s.%s", s->table,
		    s->column);
		c->ex[pos].r = r;
		c->ex[pos].in_mean = in_s / (double)nin;
		c->ex[pos].out_mean = out_s / (double)nout;
		c->ex[pos].n = n;
	}
	free(pre);
}

typedef struct s_cspan {
	int64_t p, b, e;                /* a child's visit within parent row p */
} s_cspan_t;

static int
s_cmp_cspan(const void *x, const void *y)
{
	const s_cspan_t *a = x, *b = y;

	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static int
s_cmp_cluster(const void *x, const void *y)
{
	const s_cluster_t *a = x, *b = y;

	if (a->nvlrt != b->nvlrt)
		return a->nvlrt > b->nvlrt ? -1 : 1;
	return a->s < b->s ? -1 : a->s > b->s;
}

vs_mana_t *
vs_mana_compute(const vs_mana_input_t *in, const vs_mana_opts_t *opts, char *err,
    size_t errlen)
{
	vs_mana_t *a = NULL;
	size_t *ix[VS_MANA_MAX_TIERS] = { 0 }, nix[VS_MANA_MAX_TIERS] = { 0 };
	int64_t *parent[VS_MANA_MAX_TIERS] = { 0 }, *beff[VS_MANA_MAX_TIERS] = { 0 };
	int64_t *dsum[VS_MANA_MAX_TIERS] = { 0 };        /* time in the next tier, per row */
	s_cspan_t *cs = NULL;
	int64_t *tmp = NULL, tmin = INT64_MAX, tmax = INT64_MIN;
	s_cluster_t *all = NULL;
	uint8_t *mark = NULL;
	size_t nall = 0, capall = 0, nt = in->ntiers;
	int rc = 0;

	if (nt == 0 || nt > VS_MANA_MAX_TIERS) {
		snprintf(err, errlen, "no tiers to analyse (give --tier NAME=TABLE)");
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		goto nomem;
	a->o = *opts;
	if (a->o.window_ns <= 0 || a->o.res_ns <= 0 || a->o.window_ns % a->o.res_ns != 0 ||
	    !(a->o.vlrt_k > 0) || a->o.gap_ns < 0) {
		snprintf(err, errlen, "bad options: the window must be a positive multiple of the"
		    " resolution, k positive");
		rc = -EINVAL;
		goto out;
	}
	a->ntiers = nt;
	for (size_t i = 0; i < nt; i++) {
		const vs_mtier_t *t = &in->tiers[i];
		snprintf(a->t[i].name, sizeof(a->t[i].name), "%s", t->name);
		snprintf(a->t[i].table, sizeof(a->t[i].table), "%s", t->table);
		a->t[i].dropped = t->dropped;
		for (size_t j = 0; j < t->n; j++) {
			if (!s_in_range(&a->o, t->reqs[j].b))
				continue;
			if (t->reqs[j].b < tmin)
				tmin = t->reqs[j].b;
			if (t->reqs[j].e > tmax)
				tmax = t->reqs[j].e;
		}
	}
	if (in->tiers[0].n == 0 || tmin > tmax) {
		snprintf(err, errlen, "tier '%s' (%s) has no requests%s", in->tiers[0].name,
		    in->tiers[0].table, a->o.from_ns || a->o.to_ns ? " in the time range" : "");
		rc = -ENODATA;
		goto out;
	}
	a->t0 = tmin - ((tmin % a->o.window_ns) + a->o.window_ns) % a->o.window_ns;
	a->tend = tmax;
	if ((tmax - a->t0) / a->o.res_ns + 1 > VS_MANA_MAX_BINS) {
		snprintf(err, errlen, "the requests span %.1f s: more than %d instants at %.3f ms;"
		    " narrow it with --from/--to or coarsen --resolution",
		    (double)(tmax - a->t0) / 1e9, VS_MANA_MAX_BINS, (double)a->o.res_ns / 1e6);
		rc = -E2BIG;
		goto out;
	}
	a->nbins = (size_t)((tmax - a->t0) / a->o.res_ns) + 1;
	a->nwin = (size_t)((tmax - a->t0) / a->o.window_ns) + 1;

	/* parents: tier i's row -> the tier i-1 row with the same ID; effective begins */
	for (size_t i = 0; i < nt; i++) {
		const vs_mtier_t *t = &in->tiers[i];
		ix[i] = s_index(t, &nix[i]);
		parent[i] = malloc((t->n ? t->n : 1) * sizeof(int64_t));
		beff[i] = malloc((t->n ? t->n : 1) * sizeof(int64_t));
		dsum[i] = calloc(t->n ? t->n : 1, sizeof(int64_t));
		if (ix[i] == NULL || parent[i] == NULL || beff[i] == NULL || dsum[i] == NULL)
			goto nomem;
		for (size_t j = 0; j < t->n; j++) {
			const vs_mreq_t *r = &t->reqs[j];
			parent[i][j] = -1;
			beff[i][j] = r->b;
			if (i == 0 || r->id == NULL)
				continue;
			size_t p = s_find(&in->tiers[i - 1], ix[i - 1], nix[i - 1], r->id);
			if (p == nix[i - 1])
				continue;
			/* a retried request has several rows upstream: the one this row began in */
			for (size_t q = p; q < nix[i - 1] &&
			    strcmp(in->tiers[i - 1].reqs[ix[i - 1][q]].id, r->id) == 0; q++) {
				const vs_mreq_t *c = &in->tiers[i - 1].reqs[ix[i - 1][q]];
				if (c->b <= r->b && r->b <= c->e) {
					p = q;
					break;
				}
			}
			const vs_mreq_t *pr = &in->tiers[i - 1].reqs[ix[i - 1][p]];
			parent[i][j] = (int64_t)ix[i - 1][p];
			a->t[i].matched++;
			if (pr->ds_b != S_NONE && pr->ds_b < r->b)
				beff[i][j] = pr->ds_b > pr->b ? pr->ds_b : pr->b;
			/* happens-before, with 2 ms for logs that round to milliseconds */
			if (r->b + 2 * S_MS < pr->b || r->e > pr->e + 2 * S_MS)
				a->t[i].hb_viol++;
		}
	}

	/* queues: total and own, at every instant */
	{
		size_t maxn = 1;
		for (size_t i = 0; i < nt; i++)
			if (in->tiers[i].n > maxn)
				maxn = in->tiers[i].n;
		cs = malloc(maxn * sizeof(*cs));
		if (cs == NULL)
			goto nomem;
	}
	for (size_t i = 0; i < nt; i++) {
		a->t[i].q = calloc(a->nbins + 1, sizeof(int32_t));
		a->t[i].own = calloc(a->nbins + 1, sizeof(int32_t));
		if (a->t[i].q == NULL || a->t[i].own == NULL)
			goto nomem;
	}
	for (size_t i = 0; i < nt; i++) {
		const vs_mtier_t *t = &in->tiers[i];
		size_t ncs = 0;
		for (size_t j = 0; j < t->n; j++) {
			const vs_mreq_t *r = &t->reqs[j];
			if (!s_in_range(&a->o, r->b))
				continue;
			a->t[i].n++;
			if (r->id != NULL)
				a->t[i].with_id++;
			s_span(a, a->t[i].q, beff[i][j], r->e, 1);
			s_span(a, a->t[i].own, beff[i][j], r->e, 1);
			if (i > 0 && parent[i][j] >= 0) {
				const vs_mreq_t *pr = &in->tiers[i - 1].reqs[parent[i][j]];
				int64_t b = beff[i][j] > pr->b ? beff[i][j] : pr->b;
				int64_t e = r->e < pr->e ? r->e : pr->e;
				if (e > b) {
					cs[ncs].p = parent[i][j];
					cs[ncs].b = b;
					cs[ncs].e = e;
					ncs++;
				}
			}
		}
		/* a parent's own queue and time leave out the union of its children's visits:
		 * calls made downstream at once are one absence, not several */
		if (ncs > 0)
			qsort(cs, ncs, sizeof(*cs), s_cmp_cspan);
		for (size_t k = 0; k < ncs;) {
			int64_t p = cs[k].p, b = cs[k].b, e = cs[k].e;
			for (k++; k < ncs && cs[k].p == p && cs[k].b <= e; k++)
				if (cs[k].e > e)
					e = cs[k].e;
			s_span(a, a->t[i - 1].own, b, e, -1);
			dsum[i - 1][p] += e - b;
		}
	}
	for (size_t i = 0; i < nt; i++) {
		s_integrate(a->t[i].q, a->nbins);
		s_integrate(a->t[i].own, a->nbins);
		for (size_t k = 0; k < a->nbins; k++) {
			if (a->t[i].q[k] > a->t[i].qmax)
				a->t[i].qmax = a->t[i].q[k];
			if (a->t[i].own[k] > a->t[i].omax)
				a->t[i].omax = a->t[i].own[k];
		}
	}

	/* residence times per tier, own time (residence minus the next tier's) */
	tmp = malloc(((in->tiers[0].n > 1 ? in->tiers[0].n : 1) + a->nbins) * sizeof(*tmp));
	for (size_t i = 1; tmp != NULL && i < nt; i++)
		if (in->tiers[i].n > in->tiers[0].n) {
			int64_t *nt2 = realloc(tmp, (in->tiers[i].n + a->nbins) * sizeof(*tmp));
			if (nt2 == NULL)
				goto nomem;
			tmp = nt2;
		}
	if (tmp == NULL)
		goto nomem;
	for (size_t i = 0; i < nt; i++) {
		const vs_mtier_t *t = &in->tiers[i];
		size_t n = 0;
		double sum = 0, own = 0;
		for (size_t j = 0; j < t->n; j++) {
			const vs_mreq_t *r = &t->reqs[j];
			int64_t down = dsum[i][j];
			if (!s_in_range(&a->o, r->b))
				continue;
			tmp[n++] = r->e - r->b;
			sum += (double)(r->e - r->b);
			own += (double)(r->e - r->b - (down < r->e - r->b ? down : r->e - r->b));
		}
		a->t[i].mean_res = n ? sum / (double)n : 0;
		a->t[i].mean_own = n ? own / (double)n : 0;
		a->t[i].max = n ? tmp[0] : 0;
		a->t[i].med = s_quantile(tmp, n, 0.5);
		a->t[i].p99 = s_quantile(tmp, n, 0.99);
		a->t[i].max = n ? tmp[n - 1] : 0;
		for (size_t k = 0; k < a->nbins; k++)
			tmp[k] = a->t[i].q[k];
		a->t[i].qmed = (int)s_quantile(tmp, a->nbins, 0.5);
	}
	a->median = a->t[0].med;
	a->p99 = a->t[0].p99;
	a->max = a->t[0].max;
	{
		double thr = a->o.vlrt_k * (double)a->median;       /* k is unbounded here */
		a->thr = thr < 9e18 ? (int64_t)thr : INT64_MAX;
	}
	if (a->thr < a->o.vlrt_min_ns)
		a->thr = a->o.vlrt_min_ns;
	if (a->thr < 1)
		a->thr = 1;

	/* paths, point-in-time windows, VLRT marks */
	a->wcnt = calloc(a->nwin, sizeof(*a->wcnt));
	a->wvlrt = calloc(a->nwin, sizeof(*a->wvlrt));
	a->wsum = calloc(a->nwin, sizeof(*a->wsum));
	a->wmax = calloc(a->nwin, sizeof(*a->wmax));
	mark = calloc(a->nwin + 1, 1);
	if (a->wcnt == NULL || a->wvlrt == NULL || a->wsum == NULL || a->wmax == NULL ||
	    mark == NULL)
		goto nomem;
	for (size_t j = 0; j < in->tiers[0].n; j++) {
		const vs_mreq_t *r = &in->tiers[0].reqs[j];
		int64_t rt = r->e - r->b;
		size_t w = (size_t)((r->e - a->t0) / a->o.window_ns);
		if (!s_in_range(&a->o, r->b))
			continue;
		if (r->id != NULL) {
			int whole = 1;
			const char *id = r->id;
			a->npaths++;
			for (size_t i = 1; i < nt && whole; i++)
				whole = s_find(&in->tiers[i], ix[i], nix[i], id) < nix[i];
			a->complete += whole;
		}
		a->wcnt[w]++;
		a->wsum[w] += rt;
		if (rt > a->wmax[w])
			a->wmax[w] = rt;
		if (rt > a->thr) {
			a->nvlrt++;
			a->wvlrt[w]++;
			for (size_t x = (size_t)((r->b - a->t0) / a->o.window_ns); x <= w; x++)
				mark[x] = 1;
			/* keep the slowest */
			size_t pos = a->nslow;
			while (pos > 0 && a->slow[pos - 1].rt < rt)
				pos--;
			if (pos < S_SLOWEST) {
				if (a->nslow < S_SLOWEST)
					a->nslow++;
				memmove(&a->slow[pos + 1], &a->slow[pos],
				    (a->nslow - 1 - pos) * sizeof(a->slow[0]));
				memset(&a->slow[pos], 0, sizeof(a->slow[pos]));
				a->slow[pos].idx = j;
				a->slow[pos].rt = rt;
			}
		}
	}
	for (size_t s = 0; s < a->nslow; s++) {
		s_slow_t *sl = &a->slow[s];
		const vs_mreq_t *r = &in->tiers[0].reqs[sl->idx];
		snprintf(sl->id, sizeof(sl->id), "%s", r->id ? r->id : "-");
		sl->b[0] = r->b;
		sl->e[0] = r->e;
		sl->nrows[0] = 1;
		for (size_t i = 1; i < nt; i++) {
			const vs_mtier_t *d = &in->tiers[i];
			sl->b[i] = sl->e[i] = S_NONE;
			if (r->id == NULL)
				continue;
			for (size_t p = s_find(d, ix[i], nix[i], r->id);
			    p < nix[i] && strcmp(d->reqs[ix[i][p]].id, r->id) == 0; p++) {
				size_t q = ix[i][p];
				if (sl->b[i] == S_NONE || beff[i][q] < sl->b[i])
					sl->b[i] = beff[i][q];
				if (sl->e[i] == S_NONE || d->reqs[q].e > sl->e[i])
					sl->e[i] = d->reqs[q].e;
				sl->own[i - 1] += d->reqs[q].e - beff[i][q];
				sl->nrows[i]++;
			}
		}
		for (size_t i = 0; i < nt; i++)
			if (sl->b[i] != S_NONE)
				sl->own[i] = sl->e[i] - sl->b[i] - sl->own[i];
	}

	/* clusters of VLRT windows */
	{
		int64_t gapw = a->o.gap_ns / a->o.window_ns;
		size_t w = 0;
		while (w < a->nwin) {
			size_t s, e, last;
			if (!mark[w]) {
				w++;
				continue;
			}
			s = last = w;
			for (e = w; e < a->nwin; e++) {
				if (mark[e])
					last = e;
				else if ((int64_t)(e - last) > gapw)
					break;
			}
			if (nall == capall) {
				size_t nc = capall ? capall * 2 : 16;
				s_cluster_t *na = realloc(all, nc * sizeof(*na));
				if (na == NULL)
					goto nomem;
				all = na;
				capall = nc;
			}
			memset(&all[nall], 0, sizeof(all[nall]));
			all[nall].s = a->t0 + (int64_t)s * a->o.window_ns;
			all[nall].e = a->t0 + (int64_t)(last + 1) * a->o.window_ns;
			all[nall].first = -1;
			nall++;
			w = last + 1;
		}
		for (size_t j = 0; j < in->tiers[0].n; j++) {
			const vs_mreq_t *r = &in->tiers[0].reqs[j];
			if (!s_in_range(&a->o, r->b) || r->e - r->b <= a->thr)
				continue;
			for (size_t c = 0; c < nall; c++)
				if (r->b >= all[c].s && r->b < all[c].e) {
					all[c].nvlrt++;
					if (r->e - r->b > all[c].max_rt)
						all[c].max_rt = r->e - r->b;
					break;
				}
		}
		a->ncl_all = nall;
		a->ncl = nall < VS_MANA_MAX_CLUSTERS ? nall : VS_MANA_MAX_CLUSTERS;
		if (nall > 0) {         /* all is NULL without clusters */
			qsort(all, nall, sizeof(*all), s_cmp_cluster);
			memcpy(a->cl, all, a->ncl * sizeof(*all));
		}
	}

	/* per cluster: baselines, rises, the first tier, explanations */
	for (size_t i = 0; i < nt; i++) {
		int base = s_baseline(a, a->t[i].own, all, nall);
		for (size_t c = 0; c < a->ncl; c++)
			a->cl[c].base[i] = base;
	}
	for (size_t c = 0; c < a->ncl; c++) {
		s_cluster_t *cl = &a->cl[c];
		for (size_t i = 0; i < nt; i++) {
			s_rise(a, cl, i);
			if (cl->rise[i] == S_NONE)
				continue;
			/* the earliest; rises within one window of each other are a tie, and a tie
			 * goes to the downstream tier: with push-back the queues above a stalled tier
			 * rise after it, and a log's millisecond stamps order no finer than that */
			if (cl->first < 0 || cl->rise[i] <= cl->rise[cl->first] + a->o.window_ns)
				cl->first = (int)i;
		}
		s_explain(a, in, cl, cl->first);
	}
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
out:
	for (size_t i = 0; i < VS_MANA_MAX_TIERS; i++) {
		free(ix[i]);
		free(parent[i]);
		free(beff[i]);
		free(dsum[i]);
	}
	free(tmp);
	free(cs);
	free(all);
	free(mark);
	if (rc < 0) {
		vs_mana_destroy(&a);
		errno = -rc;
	}
	return a;
}

void
vs_mana_destroy(vs_mana_t **self_p)
{
	vs_mana_t *a = self_p ? *self_p : NULL;

	if (a == NULL)
		return;
	for (size_t i = 0; i < VS_MANA_MAX_TIERS; i++) {
		free(a->t[i].q);
		free(a->t[i].own);
	}
	free(a->wcnt);
	free(a->wvlrt);
	free(a->wsum);
	free(a->wmax);
	free(a);
	*self_p = NULL;
}

/* ---- accessors ---- */

size_t
vs_mana_nclusters(const vs_mana_t *a)
{
	return a->ncl;
}

int
vs_mana_cluster(const vs_mana_t *a, size_t i, int64_t *start_r, int64_t *end_r,
    uint64_t *nvlrt_r, int *first_tier_r, const char **class_r, const char **metric_r)
{
	const s_cluster_t *c;

	if (i >= a->ncl)
		return -ENOENT;
	c = &a->cl[i];
	if (start_r)
		*start_r = c->s;
	if (end_r)
		*end_r = c->e;
	if (nvlrt_r)
		*nvlrt_r = c->nvlrt;
	if (first_tier_r)
		*first_tier_r = c->first;
	if (class_r)
		*class_r = c->nex ? c->ex[0].cls : NULL;
	if (metric_r)
		*metric_r = c->nex ? c->ex[0].metric : NULL;
	return 0;
}

uint64_t
vs_mana_nvlrt(const vs_mana_t *a)
{
	return a->nvlrt;
}

uint64_t
vs_mana_npaths(const vs_mana_t *a, uint64_t *complete_r)
{
	if (complete_r)
		*complete_r = a->complete;
	return a->npaths;
}

int64_t
vs_mana_median_ns(const vs_mana_t *a)
{
	return a->median;
}

int
vs_mana_queue_at(const vs_mana_t *a, size_t tier, int64_t ns, int own)
{
	int64_t k;

	if (tier >= a->ntiers || ns < a->t0)
		return 0;
	k = s_ceil_div(ns - a->t0, a->o.res_ns);
	if (k >= (int64_t)a->nbins)
		return 0;
	return own ? a->t[tier].own[k] : a->t[tier].q[k];
}

size_t
vs_mana_ntiers(const vs_mana_t *a)
{
	return a->ntiers;
}

const char *
vs_mana_tier_name(const vs_mana_t *a, size_t tier)
{
	return tier < a->ntiers ? a->t[tier].name : NULL;
}

size_t
vs_mana_nwindows(const vs_mana_t *a, int64_t *t0_r, int64_t *tend_r, int64_t *window_r,
    int64_t *res_r)
{
	if (t0_r)
		*t0_r = a->t0;
	if (tend_r)
		*tend_r = a->tend;
	if (window_r)
		*window_r = a->o.window_ns;
	if (res_r)
		*res_r = a->o.res_ns;
	return a->nwin;
}

int
vs_mana_window(const vs_mana_t *a, size_t w, uint32_t *completed_r, int64_t *mean_r,
    int64_t *max_r, uint32_t *vlrt_r)
{
	if (w >= a->nwin)
		return -ENOENT;
	if (completed_r)
		*completed_r = a->wcnt[w];
	if (mean_r)
		*mean_r = a->wcnt[w] ? a->wsum[w] / a->wcnt[w] : 0;
	if (max_r)
		*max_r = a->wmax[w];
	if (vlrt_r)
		*vlrt_r = a->wvlrt[w];
	return 0;
}

int64_t
vs_mana_vlrt_threshold(const vs_mana_t *a)
{
	return a->thr;
}

int
vs_mana_explanation(const vs_mana_t *a, size_t i, size_t e, const char **class_r,
    const char **metric_r, const char **key_r, const char **host_r, double *r_r)
{
	const s_cluster_t *c;

	if (i >= a->ncl || e >= a->cl[i].nex)
		return -ENOENT;
	c = &a->cl[i];
	if (class_r)
		*class_r = c->ex[e].cls;
	if (metric_r)
		*metric_r = c->ex[e].metric;
	if (key_r)
		*key_r = c->ex[e].s->key;
	if (host_r)
		*host_r = c->ex[e].s->host;
	if (r_r)
		*r_r = c->ex[e].r;
	return 0;
}

/* ---- output ---- */

static const char *
s_iso(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	if (ns == S_NONE) {
		snprintf(buf, len, "-");
		return buf;
	}
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)((ns % 1000000000) / S_MS));
	return buf;
}

static double
s_ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static json_object *
s_jd(double v)
{
	return json_object_new_double(round(v * 1000.0) / 1000.0);
}

static void
s_window_queue(const vs_mana_t *a, size_t i, size_t w, int own, double *mean_r, int *max_r)
{
	const int32_t *q = own ? a->t[i].own : a->t[i].q;
	size_t per = (size_t)(a->o.window_ns / a->o.res_ns), k0 = w * per, k1 = k0 + per;
	int64_t sum = 0;
	int mx = 0;

	if (k1 > a->nbins)
		k1 = a->nbins;
	for (size_t k = k0; k < k1; k++) {
		sum += q[k];
		if (q[k] > mx)
			mx = q[k];
	}
	*mean_r = k1 > k0 ? (double)sum / (double)(k1 - k0) : 0;
	*max_r = mx;
}

json_object *
vs_mana_json(const vs_mana_t *a, int series)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array(), *x;
	char b1[64];

	for (size_t i = 0; i < a->ntiers; i++) {
		const s_tres_t *t = &a->t[i];
		json_object *ti = json_object_new_object();
		json_object_object_add(ti, "name", json_object_new_string(t->name));
		json_object_object_add(ti, "table", json_object_new_string(t->table));
		json_object_object_add(ti, "requests", json_object_new_int64((int64_t)t->n));
		json_object_object_add(ti, "with_id", json_object_new_int64((int64_t)t->with_id));
		json_object_object_add(ti, "matched_upstream",
		    json_object_new_int64((int64_t)t->matched));
		json_object_object_add(ti, "dropped", json_object_new_int64((int64_t)t->dropped));
		json_object_object_add(ti, "happens_before_violations",
		    json_object_new_int64((int64_t)t->hb_viol));
		json_object_object_add(ti, "residence_median_ms", s_jd(s_ms(t->med)));
		json_object_object_add(ti, "residence_p99_ms", s_jd(s_ms(t->p99)));
		json_object_object_add(ti, "residence_max_ms", s_jd(s_ms(t->max)));
		json_object_object_add(ti, "residence_mean_ms", s_jd(t->mean_res / 1e6));
		json_object_object_add(ti, "own_mean_ms", s_jd(t->mean_own / 1e6));
		json_object_object_add(ti, "queue_median", json_object_new_int(t->qmed));
		json_object_object_add(ti, "queue_max", json_object_new_int(t->qmax));
		json_object_object_add(ti, "own_queue_max", json_object_new_int(t->omax));
		json_object_array_add(arr, ti);
	}
	json_object_object_add(o, "tiers", arr);
	x = json_object_new_object();
	json_object_object_add(x, "front_with_id", json_object_new_int64((int64_t)a->npaths));
	json_object_object_add(x, "complete", json_object_new_int64((int64_t)a->complete));
	json_object_object_add(o, "paths", x);
	json_object_object_add(o, "start", json_object_new_string(s_iso(a->t0, b1, sizeof(b1))));
	json_object_object_add(o, "start_ns", json_object_new_int64(a->t0));
	json_object_object_add(o, "window_ms", s_jd(s_ms(a->o.window_ns)));
	json_object_object_add(o, "resolution_ms", s_jd(s_ms(a->o.res_ns)));
	x = json_object_new_object();
	json_object_object_add(x, "median_ms", s_jd(s_ms(a->median)));
	json_object_object_add(x, "p99_ms", s_jd(s_ms(a->p99)));
	json_object_object_add(x, "max_ms", s_jd(s_ms(a->max)));
	json_object_object_add(o, "response_time", x);
	x = json_object_new_object();
	json_object_object_add(x, "k", s_jd(a->o.vlrt_k));
	json_object_object_add(x, "threshold_ms", s_jd(s_ms(a->thr)));
	json_object_object_add(x, "count", json_object_new_int64((int64_t)a->nvlrt));
	json_object_object_add(x, "clusters", json_object_new_int64((int64_t)a->ncl_all));
	json_object_object_add(o, "vlrt", x);
	arr = json_object_new_array();
	for (size_t c = 0; c < a->ncl; c++) {
		const s_cluster_t *cl = &a->cl[c];
		json_object *co = json_object_new_object(), *ts = json_object_new_array();
		json_object *ex = json_object_new_array();
		json_object_object_add(co, "start", json_object_new_string(s_iso(cl->s, b1,
		    sizeof(b1))));
		json_object_object_add(co, "end", json_object_new_string(s_iso(cl->e, b1,
		    sizeof(b1))));
		json_object_object_add(co, "start_ns", json_object_new_int64(cl->s));
		json_object_object_add(co, "end_ns", json_object_new_int64(cl->e));
		json_object_object_add(co, "vlrt", json_object_new_int64((int64_t)cl->nvlrt));
		json_object_object_add(co, "max_response_ms", s_jd(s_ms(cl->max_rt)));
		json_object_object_add(co, "first_tier", cl->first >= 0 ?
		    json_object_new_string(a->t[cl->first].name) : NULL);
		for (size_t i = 0; i < a->ntiers; i++) {
			json_object *t = json_object_new_object();
			json_object_object_add(t, "name", json_object_new_string(a->t[i].name));
			json_object_object_add(t, "own_queue_baseline",
			    json_object_new_int(cl->base[i]));
			json_object_object_add(t, "own_queue_peak", json_object_new_int(cl->peak[i]));
			json_object_object_add(t, "rise", cl->rise[i] == S_NONE ? NULL :
			    json_object_new_string(s_iso(cl->rise[i], b1, sizeof(b1))));
			json_object_object_add(t, "rise_ns", cl->rise[i] == S_NONE ? NULL :
			    json_object_new_int64(cl->rise[i]));
			json_object_array_add(ts, t);
		}
		json_object_object_add(co, "tiers", ts);
		for (size_t e = 0; e < cl->nex; e++) {
			const s_expl_t *p = &cl->ex[e];
			json_object *eo = json_object_new_object();
			json_object_object_add(eo, "metric", json_object_new_string(p->metric));
			json_object_object_add(eo, "key", json_object_new_string(p->s->key));
			json_object_object_add(eo, "host", json_object_new_string(p->s->host));
			json_object_object_add(eo, "class", json_object_new_string(p->cls));
			json_object_object_add(eo, "r", s_jd(p->r));
			json_object_object_add(eo, "in_mean", s_jd(p->in_mean));
			json_object_object_add(eo, "out_mean", s_jd(p->out_mean));
			json_object_object_add(eo, "samples", json_object_new_int64((int64_t)p->n));
			json_object_array_add(ex, eo);
		}
		json_object_object_add(co, "explanations", ex);
		json_object_array_add(arr, co);
	}
	json_object_object_add(o, "clusters", arr);
	arr = json_object_new_array();
	for (size_t s = 0; s < a->nslow; s++) {
		const s_slow_t *sl = &a->slow[s];
		json_object *so = json_object_new_object(), *ts = json_object_new_array();
		json_object_object_add(so, "id", json_object_new_string(sl->id));
		json_object_object_add(so, "response_ms", s_jd(s_ms(sl->rt)));
		for (size_t i = 0; i < a->ntiers; i++) {
			json_object *t = json_object_new_object();
			json_object_object_add(t, "name", json_object_new_string(a->t[i].name));
			json_object_object_add(t, "rows", json_object_new_int64((int64_t)sl->nrows[i]));
			if (sl->b[i] != S_NONE) {
				json_object_object_add(t, "begin", json_object_new_string(s_iso(sl->b[i],
				    b1, sizeof(b1))));
				json_object_object_add(t, "residence_ms", s_jd(s_ms(sl->e[i] -
				    sl->b[i])));
				json_object_object_add(t, "own_ms", s_jd(s_ms(sl->own[i])));
			}
			json_object_array_add(ts, t);
		}
		json_object_object_add(so, "tiers", ts);
		json_object_array_add(arr, so);
	}
	json_object_object_add(o, "slowest", arr);
	if (series) {
		arr = json_object_new_array();
		for (size_t w = 0; w < a->nwin; w++) {
			json_object *wo = json_object_new_object(), *q = json_object_new_array();
			json_object *ow = json_object_new_array();
			json_object_object_add(wo, "t_ns", json_object_new_int64(a->t0 +
			    (int64_t)w * a->o.window_ns));
			json_object_object_add(wo, "completed", json_object_new_int64(a->wcnt[w]));
			json_object_object_add(wo, "pit_response_ms", a->wcnt[w] ?
			    s_jd((double)a->wsum[w] / a->wcnt[w] / 1e6) : NULL);
			json_object_object_add(wo, "max_response_ms", a->wcnt[w] ?
			    s_jd(s_ms(a->wmax[w])) : NULL);
			json_object_object_add(wo, "vlrt", json_object_new_int64(a->wvlrt[w]));
			for (size_t i = 0; i < a->ntiers; i++) {
				double m;
				int mx;
				s_window_queue(a, i, w, 0, &m, &mx);
				json_object_array_add(q, json_object_new_int(
				    vs_mana_queue_at(a, i, a->t0 + (int64_t)w * a->o.window_ns, 0)));
				s_window_queue(a, i, w, 1, &m, &mx);
				json_object_array_add(ow, json_object_new_int(mx));
			}
			json_object_object_add(wo, "queue", q);
			json_object_object_add(wo, "own_queue_max", ow);
			json_object_array_add(arr, wo);
		}
		json_object_object_add(o, "windows", arr);
	}
	return o;
}

void
vs_mana_print(const vs_mana_t *a, FILE *f, int series)
{
	char b1[64], b2[64];

	fprintf(f, "%-10s %-18s %8s %8s %9s %9s %9s %9s %6s %6s\n", "TIER", "TABLE", "REQS",
	    "WITH_ID", "MED_MS", "P99_MS", "MAX_MS", "OWN_MS", "QMAX", "OWNMAX");
	for (size_t i = 0; i < a->ntiers; i++) {
		const s_tres_t *t = &a->t[i];
		fprintf(f, "%-10s %-18s %8" PRIu64 " %8" PRIu64 " %9.3f %9.3f %9.3f %9.3f %6d %6d\n",
		    t->name, t->table, t->n, t->with_id, s_ms(t->med), s_ms(t->p99), s_ms(t->max),
		    t->mean_own / 1e6, t->qmax, t->omax);
	}
	fprintf(f, "\npaths: %" PRIu64 " front requests with an ID, %" PRIu64 " found in every"
	    " tier\n", a->npaths, a->complete);
	fprintf(f, "VLRT: %" PRIu64 " requests above %.3f ms (%.1f x median %.3f ms), in %zu"
	    " cluster(s)\n", a->nvlrt, s_ms(a->thr), a->o.vlrt_k, s_ms(a->median), a->ncl_all);
	for (size_t c = 0; c < a->ncl; c++) {
		const s_cluster_t *cl = &a->cl[c];
		fprintf(f, "\ncluster %zu: %s .. %s (%.0f ms), %" PRIu64 " VLRT, max %.1f ms;"
		    " queue rose first in: %s\n", c + 1, s_iso(cl->s, b1, sizeof(b1)),
		    s_iso(cl->e, b2, sizeof(b2)), s_ms(cl->e - cl->s), cl->nvlrt, s_ms(cl->max_rt),
		    cl->first >= 0 ? a->t[cl->first].name : "-");
		for (size_t i = 0; i < a->ntiers; i++)
			fprintf(f, "  %-10s own queue baseline %d peak %d rise %s\n", a->t[i].name,
			    cl->base[i], cl->peak[i], s_iso(cl->rise[i], b1, sizeof(b1)));
		for (size_t e = 0; e < cl->nex && e < 5; e++)
			fprintf(f, "  explanation %zu: %-8s %s%s%s@%s r=%.2f (%.1f in, %.1f around)\n",
			    e + 1, cl->ex[e].cls, cl->ex[e].metric, cl->ex[e].s->key[0] ? "/" : "",
			    cl->ex[e].s->key, cl->ex[e].s->host, cl->ex[e].r, cl->ex[e].in_mean,
			    cl->ex[e].out_mean);
	}
	if (a->nslow > 0)
		fprintf(f, "\nslowest requests (residence/own ms per tier):\n");
	for (size_t s = 0; s < a->nslow && s < 5; s++) {
		const s_slow_t *sl = &a->slow[s];
		fprintf(f, "  %-34s %9.3f", sl->id, s_ms(sl->rt));
		for (size_t i = 0; i < a->ntiers; i++)
			if (sl->b[i] != S_NONE)
				fprintf(f, "  %s %.1f/%.1f", a->t[i].name, s_ms(sl->e[i] - sl->b[i]),
				    s_ms(sl->own[i]));
			else
				fprintf(f, "  %s -", a->t[i].name);
		fputc('\n', f);
	}
	if (series) {
		fprintf(f, "\n%-24s %6s %9s %9s %5s", "WINDOW", "DONE", "PIT_MS", "MAX_MS", "VLRT");
		for (size_t i = 0; i < a->ntiers; i++)
			fprintf(f, " %8.8s", a->t[i].name);
		fputc('\n', f);
		for (size_t w = 0; w < a->nwin; w++) {
			fprintf(f, "%-24s %6u %9.3f %9.3f %5u", s_iso(a->t0 + (int64_t)w *
			    a->o.window_ns, b1, sizeof(b1)), a->wcnt[w], a->wcnt[w] ?
			    (double)a->wsum[w] / a->wcnt[w] / 1e6 : 0.0, s_ms(a->wmax[w]), a->wvlrt[w]);
			for (size_t i = 0; i < a->ntiers; i++)
				fprintf(f, " %8d", vs_mana_queue_at(a, i, a->t0 + (int64_t)w *
				    a->o.window_ns, 0));
			fputc('\n', f);
		}
	}
}
