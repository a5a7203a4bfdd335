/* A combine plugin whose callbacks fail on purpose, for tests/dpg_plugins.test: FLAKY is MAX,
 * except that local() returns -EDOM for a sample below its argument x 1000 (default 10,000),
 * so that idle VMs' leaves fail every round while busy ones contribute. */
#include "dpg.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static int
s_init(vs_dpg_part_t *p, uint32_t arg)
{
	memset(p, 0, sizeof(*p));
	p->fn = VS_DPG_FN_PLUGIN_MIN + 200;
	p->min = INFINITY;
	p->max = -INFINITY;
	p->arg = arg ? arg : 10;
	return 0;
}

static int
s_local(vs_dpg_part_t *p, const double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]) || x[i] < 1000.0 * p->arg)
			return -EDOM;
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
	into->sum += from->sum;
	into->count += from->count;
	into->leaves += from->leaves;
	into->min = from->min < into->min ? from->min : into->min;
	into->max = from->max > into->max ? from->max : into->max;
	return 0;
}

static int
s_result(const vs_dpg_part_t *p, double *out, size_t *n_r)
{
	if (p->count == 0) {
		*n_r = 0;
		return 0;
	}
	out[0] = p->max;
	*n_r = 1;
	return 0;
}

static const vs_dpg_fn_t s_fn = {
	.abi = VS_DPG_ABI_VERSION,
	.id = VS_DPG_FN_PLUGIN_MIN + 200,
	.name = "FLAKY",
	.kind = VS_DPG_FN_COMBINE,
	.help = "MAX whose local() fails below ARG x 1000 (a test plugin)",
	.init = s_init,
	.local = s_local,
	.combine = s_combine,
	.result = s_result,
};
static const vs_dpg_fn_t *const s_fns[] = { &s_fn };

extern const vs_dpg_plugin_info_t vs_dpg_plugin;
const vs_dpg_plugin_info_t vs_dpg_plugin = { VS_DPG_ABI_VERSION, 1, s_fns };
