/* Plugins the loader must refuse, one per build flag: BAD_ABI exports a table of another
 * ABI version, NO_SYMBOL exports none, BUILTIN_NAME reuses a built-in's name. */
#include "dpg.h"

#include <errno.h>
#include <stdlib.h>

static int
s_central(const vs_dpg_central_in_t *in, double **out_r, size_t *n_r)
{
	*out_r = calloc(1, sizeof(double));
	*n_r = 1;
	return *out_r ? 0 : -ENOMEM;
}

static const vs_dpg_fn_t s_fn = {
	.abi = VS_DPG_ABI_VERSION,
	.id = VS_DPG_FN_PLUGIN_MIN + 1,
#ifdef BUILTIN_NAME
	.name = "max",
#else
	.name = "BAD",
#endif
	.kind = VS_DPG_FN_CENTRAL,
	.central = s_central,
};
static const vs_dpg_fn_t *const s_fns[] = { &s_fn };

#ifdef NO_SYMBOL
extern const vs_dpg_plugin_info_t vs_dpg_plugin_misnamed;
const vs_dpg_plugin_info_t vs_dpg_plugin_misnamed = { VS_DPG_ABI_VERSION, 1, s_fns };
#else
extern const vs_dpg_plugin_info_t vs_dpg_plugin;
#ifdef BAD_ABI
const vs_dpg_plugin_info_t vs_dpg_plugin = { VS_DPG_ABI_VERSION + 1, 1, s_fns };
#else
const vs_dpg_plugin_info_t vs_dpg_plugin = { VS_DPG_ABI_VERSION, 1, s_fns };
#endif
#endif
