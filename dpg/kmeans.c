/* KMEANS: Lloyd's algorithm at the root over every leaf's rows (VScope Table 6, §3.4 runs
 * it with 5 passes). Deterministic farthest-point seeding, so that a result can be checked
 * and repeated. */
#include "builtin.h"

#include <errno.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

static double
s_dist2(const double *a, const double *b, size_t cols)
{
	double d = 0;
	size_t j;

	for (j = 0; j < cols; j++)
		d += (a[j] - b[j]) * (a[j] - b[j]);
	return d;
}

/* The centroid of k nearest to x, and the squared distance to it in *d_r. */
static uint32_t
s_nearest(const double *x, const double *cen, size_t k, size_t cols, double *d_r)
{
	double best = DBL_MAX;
	uint32_t bc = 0;

	for (size_t c = 0; c < k; c++) {
		double d = s_dist2(x, &cen[c * cols], cols);

		if (d < best) {
			best = d;
			bc = (uint32_t)c;
		}
	}
	*d_r = best;
	return bc;
}

static int
s_kmeans(const vs_dpg_central_in_t *in, double **out_r, size_t *n_r)
{
	size_t rows = in->rows, cols = in->cols, k = in->arg, i, j, c, pass, passes;
	double *out = NULL, *cen, *size, *near = NULL, wss = 0;
	uint32_t *assign = NULL;
	int rc;

	rc = vs_dpg_central_check(in);
	if (rc < 0)
		return rc;
	passes = in->arg2 ? in->arg2 : 5;
	if (k == 0 || k > VS_DPG_KMEANS_MAXK || k > rows || passes > VS_DPG_KMEANS_MAXPASSES)
		return -EINVAL;
	*n_r = k * cols + k + 2;
	out = calloc(*n_r, sizeof(*out));
	near = malloc(rows * sizeof(*near));
	assign = malloc(rows * sizeof(*assign));
	if (!out || !near || !assign) {
		rc = -ENOMEM;
		goto out;
	}
	cen = out;
	size = out + k * cols;

	/* seeding: row 0, then the row farthest from every centroid so far */
	memcpy(cen, in->x, cols * sizeof(*cen));
	for (i = 0; i < rows; i++)
		near[i] = s_dist2(&in->x[i * cols], cen, cols);
	for (c = 1; c < k; c++) {
		size_t far = 0;

		for (i = 1; i < rows; i++)
			if (near[i] > near[far])
				far = i;
		memcpy(&cen[c * cols], &in->x[far * cols], cols * sizeof(*cen));
		for (i = 0; i < rows; i++) {
			double d = s_dist2(&in->x[i * cols], &cen[c * cols], cols);

			if (d < near[i])
				near[i] = d;
		}
	}
	for (i = 0; i < rows; i++)
		assign[i] = UINT32_MAX;

	for (pass = 0; pass < passes; pass++) {
		size_t moved = 0;

		wss = 0;
		for (i = 0; i < rows; i++) {
			double best;
			uint32_t bc = s_nearest(&in->x[i * cols], cen, k, cols, &best);

			if (assign[i] != bc)
				moved++;
			assign[i] = bc;
			wss += best;
		}
		if (moved == 0)
			break;
		/* new centroids; an emptied cluster keeps its old one */
		memset(size, 0, k * sizeof(*size));
		for (i = 0; i < rows; i++)
			size[assign[i]] += 1;
		for (c = 0; c < k; c++)
			if (size[c] > 0)
				memset(&cen[c * cols], 0, cols * sizeof(*cen));
		for (i = 0; i < rows; i++)
			for (j = 0; j < cols; j++)
				cen[assign[i] * cols + j] += in->x[i * cols + j];
		for (c = 0; c < k; c++)
			if (size[c] > 0)
				for (j = 0; j < cols; j++)
					cen[c * cols + j] /= size[c];
	}
	/* sizes and the sum of squares for the centroids returned */
	memset(size, 0, k * sizeof(*size));
	wss = 0;
	for (i = 0; i < rows; i++) {
		double best;
		uint32_t bc = s_nearest(&in->x[i * cols], cen, k, cols, &best);

		size[bc] += 1;
		wss += best;
	}
	out[k * cols + k] = (double)(pass < passes ? pass + 1 : passes);
	out[k * cols + k + 1] = wss;
	*out_r = out;
	out = NULL;
	rc = 0;
out:
	free(out);
	free(near);
	free(assign);
	return rc;
}

const vs_dpg_fn_t vs_dpg_fn_kmeans = {
	VS_DPG_ABI_VERSION, VS_DPG_FN_KMEANS, "KMEANS", VS_DPG_FN_CENTRAL,
	"K-means clustering of all leaves' rows at the root (k, passes: default 5)",
	vs_dpg_central_init, vs_dpg_central_local, vs_dpg_central_combine, vs_dpg_central_result,
	s_kmeans,
};
