/* What every central function shares: no partial result, and checks of the gathered input. */
#include "builtin.h"

#include <errno.h>
#include <math.h>

int vs_dpg_central_init(vs_dpg_part_t *p, uint32_t arg) { return -EOPNOTSUPP; }
int vs_dpg_central_local(vs_dpg_part_t *p, const double *x, size_t n) { return -EOPNOTSUPP; }
int vs_dpg_central_combine(vs_dpg_part_t *i, const vs_dpg_part_t *f) { return -EOPNOTSUPP; }
int vs_dpg_central_result(const vs_dpg_part_t *p, double *o, size_t *n) { return -EOPNOTSUPP; }

int
vs_dpg_central_check(const vs_dpg_central_in_t *in)
{
	size_t i;

	if (!in || !in->x || in->rows == 0 || in->cols == 0)
		return -EINVAL;
	if (in->rows > VS_DPG_CENTRAL_MAX_CELLS / in->cols)
		return -E2BIG;
	for (i = 0; i < in->rows * in->cols; i++)
		if (!isfinite(in->x[i]) || fabs(in->x[i]) > VS_DPG_CENTRAL_MAX_ABS)
			return -EINVAL;
	return 0;
}
