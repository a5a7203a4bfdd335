/* An example DPG plugin with a combine and a local function (the callback contract is in
 * vscope-plugin(7) and dpg.h):
 *   RANGE (combine): the largest minus the smallest sample over all leaves; the partial
 *     result is (count, min, max), merged up the tree like MIN and MAX.
 *   WSTAT (local): per leaf, over its window of samples: the mean and the largest (two
 *     values); the root's result is each contributing leaf's row [leaf id, mean, max].
 * Build: cc -shared -fPIC -I dpg spread.c -o spread.so; install root-owned, mode 0644, in a
 * root-owned directory that group and others cannot write. */
#include "dpg.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define ID_RANGE (VS_DPG_FN_PLUGIN_MIN + 100)
#define ID_WSTAT (VS_DPG_FN_PLUGIN_MIN + 101)

static int
s_init(vs_dpg_part_t *p, uint32_t id)
{
	memset(p, 0, sizeof(*p));
	p->fn = id;
	p->min = INFINITY;
	p->max = -INFINITY;
	return 0;
}

static int
s_init_range(vs_dpg_part_t *p, uint32_t arg)
{
	return arg ? -EINVAL : s_init(p, ID_RANGE);     /* RANGE takes no argument */
}

static int
s_init_wstat(vs_dpg_part_t *p, uint32_t arg)
{
	return arg ? -EINVAL : s_init(p, ID_WSTAT);
}

static int
s_local(vs_dpg_part_t *p, const double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		p->sum += x[i];
		p->min = x[i] < p->min ? x[i] : p->min;
		p->max = x[i] > p->max ? x[i] : p->max;
	}
	p->count += n;
	return 0;
}

static int
s_combine(vs_dpg_part_t *into, const vs_dpg_part_t *from)
{
	if (from->fn != into->fn)
		return -EINVAL;
	into->sum += from->sum;
	into->count += from->count;
	into->leaves += from->leaves;
	into->min = from->min < into->min ? from->min : into->min;
	into->max = from->max > into->max ? from->max : into->max;
	return 0;
}

static int
s_result_range(const vs_dpg_part_t *p, double *out, size_t *n_r)
{
	if (*n_r < 1)
		return -ENOSPC;
	if (p->count == 0) {
		*n_r = 0;       /* no sample: no value */
		return 0;
	}
	out[0] = p->max - p->min;
	*n_r = 1;
	return 0;
}

static int
s_result_wstat(const vs_dpg_part_t *p, double *out, size_t *n_r)
{
	if (*n_r < 2)
		return -ENOSPC;
	if (p->count == 0) {
		*n_r = 0;
		return 0;
	}
	out[0] = p->sum / (double)p->count;
	out[1] = p->max;
	*n_r = 2;       /* always 2: every leaf's row has the same columns */
	return 0;
}

static const vs_dpg_fn_t s_fn_range = {
	.abi = VS_DPG_ABI_VERSION,
	.id = ID_RANGE,
	.name = "RANGE",
	.kind = VS_DPG_FN_COMBINE,
	.help = "largest minus smallest sample over all leaves (example plugin)",
	.init = s_init_range,
	.local = s_local,
	.combine = s_combine,
	.result = s_result_range,
};
static const vs_dpg_fn_t s_fn_wstat = {
	.abi = VS_DPG_ABI_VERSION,
	.id = ID_WSTAT,
	.name = "WSTAT",
	.kind = VS_DPG_FN_LOCAL,
	.help = "per leaf: mean and largest sample of its window (example plugin)",
	.init = s_init_wstat,
	.local = s_local,
	.combine = s_combine,   /* the loader wants all four; the runtime never merges it */
	.result = s_result_wstat,
};
static const vs_dpg_fn_t *const s_fns[] = { &s_fn_range, &s_fn_wstat };

/* What vs_dpg_plugin_load looks for. */
extern const vs_dpg_plugin_info_t vs_dpg_plugin;
const vs_dpg_plugin_info_t vs_dpg_plugin = { VS_DPG_ABI_VERSION, 2, s_fns };
