/* Built-in DPG combine functions: MAX, MIN, AVE (sum + count) and Top-K. Each folds leaf
 * samples into a fixed-size partial result that parents merge up the tree. */
#include "builtin.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>

static int
s_init(vs_dpg_part_t *p, uint32_t fn)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->min = INFINITY;
	p->max = -INFINITY;
	return 0;
}

static int
s_fold(vs_dpg_part_t *p, const double *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return -EINVAL;
	for (i = 0; i < n; i++) {
		p->sum += x[i];
		if (x[i] < p->min)
			p->min = x[i];
		if (x[i] > p->max)
			p->max = x[i];
	}
	p->count += n;
	return 0;
}

static int
s_merge(vs_dpg_part_t *into, const vs_dpg_part_t *from)
{
	if (from->fn != into->fn)
		return -EINVAL;
	into->sum += from->sum;
	into->count += from->count;
	into->leaves += from->leaves;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
	return 0;
}

static int s_init_max(vs_dpg_part_t *p, uint32_t arg) { (void)arg; return s_init(p, VS_DPG_FN_MAX); }
static int s_init_min(vs_dpg_part_t *p, uint32_t arg) { (void)arg; return s_init(p, VS_DPG_FN_MIN); }
static int s_init_ave(vs_dpg_part_t *p, uint32_t arg) { (void)arg; return s_init(p, VS_DPG_FN_AVE); }

static int
s_one(double v, uint64_t count, double *out, size_t *n_r)
{
	if (*n_r < 1)
		return -ENOSPC;
	if (count == 0) {
		*n_r = 0;       /* nothing contributed: no value, not a made-up 0 */
		return 0;
	}
	out[0] = v;
	*n_r = 1;
	return 0;
}

static int s_res_max(const vs_dpg_part_t *p, double *o, size_t *n) { return s_one(p->max, p->count, o, n); }
static int s_res_min(const vs_dpg_part_t *p, double *o, size_t *n) { return s_one(p->min, p->count, o, n); }

static int
s_res_ave(const vs_dpg_part_t *p, double *out, size_t *n_r)
{
	return s_one(p->count ? p->sum / (double)p->count : 0, p->count, out, n_r);
}

/* Top-K: top[] stays sorted descending, at most k entries. */
static void
s_top_put(vs_dpg_part_t *p, double v)
{
	uint32_t i;

	if (p->n_top == p->k && (p->k == 0 || v <= p->top[p->n_top - 1]))
		return;
	i = p->n_top < p->k ? p->n_top++ : p->n_top - 1;
	while (i > 0 && p->top[i - 1] < v) {
		p->top[i] = p->top[i - 1];
		i--;
	}
	p->top[i] = v;
}

static int
s_init_topk(vs_dpg_part_t *p, uint32_t k)
{
	if (k > VS_DPG_TOPK_MAX)
		return -EINVAL;
	s_init(p, VS_DPG_FN_TOPK);
	p->k = k ? k : 10;
	return 0;
}

static int
s_local_topk(vs_dpg_part_t *p, const double *x, size_t n)
{
	size_t i;
	int rc = s_fold(p, x, n);

	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		s_top_put(p, x[i]);
	return 0;
}

static int
s_combine_topk(vs_dpg_part_t *into, const vs_dpg_part_t *from)
{
	uint32_t i;
	int rc;

	if (from->k != into->k)
		return -EINVAL;
	rc = s_merge(into, from);
	if (rc < 0)
		return rc;
	for (i = 0; i < from->n_top; i++)
		s_top_put(into, from->top[i]);
	return 0;
}

static int
s_res_topk(const vs_dpg_part_t *p, double *out, size_t *n_r)
{
	if (*n_r < p->n_top)
		return -ENOSPC;
	memcpy(out, p->top, p->n_top * sizeof(*out));
	*n_r = p->n_top;
	return 0;
}

static const vs_dpg_fn_t s_fn_max = {
	VS_DPG_ABI_VERSION, VS_DPG_FN_MAX, "MAX", VS_DPG_FN_COMBINE, "largest sample",
	s_init_max, s_fold, s_merge, s_res_max,
	NULL,
};
static const vs_dpg_fn_t s_fn_min = {
	VS_DPG_ABI_VERSION, VS_DPG_FN_MIN, "MIN", VS_DPG_FN_COMBINE, "smallest sample",
	s_init_min, s_fold, s_merge, s_res_min,
	NULL,
};
static const vs_dpg_fn_t s_fn_ave = {
	VS_DPG_ABI_VERSION, VS_DPG_FN_AVE, "AVE", VS_DPG_FN_COMBINE,
	"mean of all samples (sum and count merge up the tree)",
	s_init_ave, s_fold, s_merge, s_res_ave,
	NULL,
};
static const vs_dpg_fn_t s_fn_topk = {
	VS_DPG_ABI_VERSION, VS_DPG_FN_TOPK, "TOPK", VS_DPG_FN_COMBINE,
	"the K largest samples (K up to 64, default 10)",
	s_init_topk, s_local_topk, s_combine_topk, s_res_topk,
	NULL,
};

static const vs_dpg_fn_t *const s_fns[] = {
	&s_fn_max, &s_fn_min, &s_fn_ave, &s_fn_topk,
	&vs_dpg_fn_entropy, &vs_dpg_fn_kmeans, &vs_dpg_fn_pca,    /* entropy, kmeans, pca.c */
};
#define N_FNS (sizeof(s_fns) / sizeof(s_fns[0]))

const vs_dpg_fn_t *
vs_dpg_fn_lookup(uint32_t id)
{
	size_t i;

	for (i = 0; i < N_FNS; i++)
		if (s_fns[i]->id == id)
			return s_fns[i];
	return vs_dpg_plugin_find(id, NULL);        /* loaded plugins' functions */
}

const vs_dpg_fn_t *
vs_dpg_fn_lookup_name(const char *name)
{
	const vs_dpg_fn_t *fn;
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < N_FNS; i++)
		if (!strcasecmp(s_fns[i]->name, name))
			return s_fns[i];
	if (!strcasecmp(name, "TOP-K"))
		return &s_fn_topk;
	if (!strcasecmp(name, "K-MEANS"))
		return &vs_dpg_fn_kmeans;
	if ((fn = vs_dpg_plugin_find(0, name)) != NULL)
		return fn;
	return NULL;
}

size_t
vs_dpg_fn_list(const vs_dpg_fn_t *const **fns_r)
{
	*fns_r = s_fns;
	return N_FNS;
}

int
vs_dpg_part_validate(const vs_dpg_part_t *p)
{
	const vs_dpg_fn_t *fn = vs_dpg_fn_lookup(p->fn);
	uint32_t i;

	if (!fn || fn->kind == VS_DPG_FN_CENTRAL)   /* central functions have no partial */
		return -EINVAL;
	if (p->fn == VS_DPG_FN_ENTROPY) {
		/* sum and prod are SigmaH and PiH of entropies, which are >= 0 */
		if (!isfinite(p->sum) || !isfinite(p->prod) || p->sum < 0 || p->prod < 0 ||
		    p->k != 0 || p->n_top != 0)
			return -EINVAL;
		if (p->count == 0)
			return p->sum == 0 && p->prod == 1 ? 0 : -EINVAL;
		return isfinite(p->min) && isfinite(p->max) && p->min >= 0 && p->min <= p->max ?
			0 : -EINVAL;
	}
	if (fn->id >= VS_DPG_FN_PLUGIN_MIN) {
		/* a plugin's partial: only the invariants every partial has */
		if (!isfinite(p->sum) || !isfinite(p->prod) || isnan(p->min) || isnan(p->max) ||
		    p->k > VS_DPG_TOPK_MAX || p->n_top > p->k)
			return -EINVAL;
		if (p->count && (!isfinite(p->min) || !isfinite(p->max) || p->min > p->max))
			return -EINVAL;
		for (i = 0; i < p->n_top; i++)
			if (!isfinite(p->top[i]))
				return -EINVAL;
		return 0;
	}
	if (p->prod != 0)
		return -EINVAL;
	if (!isfinite(p->sum) || isnan(p->min) || isnan(p->max))
		return -EINVAL;
	if (p->count == 0) {
		if (p->n_top != 0)
			return -EINVAL;
	} else if (!isfinite(p->min) || !isfinite(p->max) || p->min > p->max) {
		return -EINVAL;
	}
	if (p->fn == VS_DPG_FN_TOPK) {
		if (p->k == 0 || p->k > VS_DPG_TOPK_MAX || p->n_top > p->k || p->n_top > p->count)
			return -EINVAL;
		for (i = 0; i < p->n_top; i++) {
			if (!isfinite(p->top[i]) || (i > 0 && p->top[i] > p->top[i - 1]))
				return -EINVAL;
		}
	} else if (p->k != 0 || p->n_top != 0) {
		return -EINVAL;
	}
	return 0;
}
