/* PCA: the covariance of all leaves' rows (BLAS dsyrk) and its eigen-decomposition by
 * LAPACKE_dsyevr, at the root (VScope Table 6: a centralized function). */
#include "builtin.h"

#include <cblas.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
s_pca(const vs_dpg_central_in_t *in, double **out_r, size_t *n_r)
{
	size_t rows = in->rows, cols = in->cols, c, i, j;
	double *xc = NULL, *cov = NULL, *w = NULL, *z = NULL, *out = NULL, total = 0;
	lapack_int m, *isuppz = NULL, info;
	int rc;

	rc = vs_dpg_central_check(in);
	if (rc < 0)
		return rc;
	if (rows < 2)
		return -EINVAL;
	if (cols > 4096)                /* the covariance and its eigenvectors: 2 x 128 MiB */
		return -E2BIG;
	c = in->arg == 0 || in->arg > cols ? cols : in->arg;
	xc = malloc(rows * cols * sizeof(*xc));
	cov = calloc(cols * cols, sizeof(*cov));
	w = malloc(cols * sizeof(*w));
	z = malloc(cols * cols * sizeof(*z));
	isuppz = malloc(2 * cols * sizeof(*isuppz));
	*n_r = 2 * c + c * cols;
	out = malloc(*n_r * sizeof(*out));
	if (!xc || !cov || !w || !z || !isuppz || !out) {
		rc = -ENOMEM;
		goto out;
	}
	/* centre each column */
	memset(w, 0, cols * sizeof(*w));
	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++)
			w[j] += in->x[i * cols + j];
	for (j = 0; j < cols; j++)
		w[j] /= (double)rows;
	for (i = 0; i < rows; i++)
		for (j = 0; j < cols; j++)
			xc[i * cols + j] = in->x[i * cols + j] - w[j];
	/* cov (upper) = xc^T xc / (rows - 1) */
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)cols, (int)rows,
		    1.0 / (double)(rows - 1), xc, (int)cols, 0.0, cov, (int)cols);
	info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'A', 'U', (lapack_int)cols, cov,
			      (lapack_int)cols, 0, 0, 0, 0, 0, &m, w, z, (lapack_int)cols, isuppz);
	if (info != 0 || (size_t)m != cols) {
		rc = info < 0 ? -EINVAL : -EDOM;        /* > 0: no convergence */
		goto out;
	}
	/* dsyevr's eigenvalues ascend; ours descend. Rounding can make a zero variance a tiny
	 * negative number: clamp it. */
	for (j = 0; j < cols; j++)
		total += w[j] > 0 ? w[j] : 0;
	for (i = 0; i < c; i++) {
		size_t col = cols - 1 - i, big = 0;
		double lam = w[col] > 0 ? w[col] : 0, sign;

		out[i] = lam;
		out[c + i] = total > 0 ? lam / total : 0;
		for (j = 1; j < cols; j++)
			if (fabs(z[j * cols + col]) > fabs(z[big * cols + col]))
				big = j;
		sign = z[big * cols + col] < 0 ? -1 : 1;
		for (j = 0; j < cols; j++)
			out[2 * c + i * cols + j] = sign * z[j * cols + col];
	}
	*out_r = out;
	out = NULL;
	rc = 0;
out:
	free(xc);
	free(cov);
	free(w);
	free(z);
	free(isuppz);
	free(out);
	return rc;
}

const vs_dpg_fn_t vs_dpg_fn_pca = {
	VS_DPG_ABI_VERSION, VS_DPG_FN_PCA, "PCA", VS_DPG_FN_CENTRAL,
	"principal components of all leaves' rows at the root (LAPACKE dsyevr)",
	vs_dpg_central_init, vs_dpg_central_local, vs_dpg_central_combine, vs_dpg_central_result,
	s_pca,
};
