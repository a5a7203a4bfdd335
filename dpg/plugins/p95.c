/* An example DPG plugin: P95, a central function giving each column's 95th percentile
 * (nearest rank) over all leaves' rows. Build: cc -shared -fPIC -I dpg p95.c -o p95.so;
 * install root-owned, mode 0644, in a root-owned directory others cannot write. */
#include "dpg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static int
s_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
s_nopart(vs_dpg_part_t *p, uint32_t arg)
{
	return -EOPNOTSUPP;
}

static int
s_p95(const vs_dpg_central_in_t *in, double **out_r, size_t *n_r)
{
	double *col = NULL, *out = NULL;
	size_t i, j, rank;

	if (!in || !in->x || in->rows == 0 || in->cols == 0 ||
	    in->rows > VS_DPG_CENTRAL_MAX_CELLS / in->cols)
		return -EINVAL;
	col = malloc(in->rows * sizeof(*col));
	out = malloc(in->cols * sizeof(*out));
	if (!col || !out) {
		free(col);
		free(out);
		return -ENOMEM;
	}
	rank = (size_t)ceil(0.95 * (double)in->rows);   /* 1-based nearest rank */
	for (j = 0; j < in->cols; j++) {
		for (i = 0; i < in->rows; i++) {
			col[i] = in->x[i * in->cols + j];
			if (!isfinite(col[i])) {
				free(col);
				free(out);
				return -EINVAL;
			}
		}
		qsort(col, in->rows, sizeof(*col), s_cmp);
		out[j] = col[rank - 1];
	}
	free(col);
	*out_r = out;
	*n_r = in->cols;
	return 0;
}

static const vs_dpg_fn_t s_fn_p95 = {
	.abi = VS_DPG_ABI_VERSION,
	.id = VS_DPG_FN_PLUGIN_MIN + 95,
	.name = "P95",
	.kind = VS_DPG_FN_CENTRAL,
	.help = "95th percentile of each column over all leaves' rows (example plugin)",
	.init = s_nopart,
	.central = s_p95,
};
static const vs_dpg_fn_t *const s_fns[] = { &s_fn_p95 };

/* What vs_dpg_plugin_load looks for. */
extern const vs_dpg_plugin_info_t vs_dpg_plugin;
const vs_dpg_plugin_info_t vs_dpg_plugin = { VS_DPG_ABI_VERSION, 1, s_fns };
