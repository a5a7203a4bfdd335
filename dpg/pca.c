/* PCA: the covariance of all leaves' rows (BLAS dsyrk) and its eigen-decomposition by
 * LAPACKE_dsyevd, at the root (VScope Table 6: a centralized function). Not dsyevr: its MRRR
 * solver spun forever (fuzz/corpus-dpg-part/pca-mrrr-hang) on a covariance whose entries
 * ranged from 1e65 down to subnormals. The data are also scaled to a largest magnitude of 1
 * and negligible covariance entries flushed to 0, so that no subnormal reaches LAPACK. */
#include "builtin.h"

#include <cblas.h>
#include <errno.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
s_pca(const vs_dpg_central_in_t *in, double **out_r, size_t *n_r)
{
	size_t rows = in->rows, cols = in->cols, c, i, j;
	double *xc = NULL, *cov = NULL, *w = NULL, *z, *out = NULL, total = 0, scale = 0;
	lapack_int info;
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
	*n_r = 2 * c + c * cols;
	out = malloc(*n_r * sizeof(*out));
	if (!xc || !cov || !w || !out) {
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
		for (j = 0; j < cols; j++) {
			xc[i * cols + j] = in->x[i * cols + j] - w[j];
			if (fabs(xc[i * cols + j]) > scale)
				scale = fabs(xc[i * cols + j]);
		}
	if (scale > 0)
		for (i = 0; i < rows * cols; i++)
			xc[i] /= scale;
	/* cov (upper) = xc^T xc / (rows - 1), entries at most about 1 now */
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)cols, (int)rows,
		    1.0 / (double)(rows - 1), xc, (int)cols, 0.0, cov, (int)cols);
	for (i = 0; i < cols * cols; i++)
		if (fabs(cov[i]) < 1e-200)      /* far below rounding of the largest entries */
			cov[i] = 0;
	/* the eigenvectors replace cov, column i for eigenvalue w[i] */
	info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)cols, cov, (lapack_int)cols,
			      w);
	if (info != 0) {
		rc = info < 0 ? -EINVAL : -EDOM;        /* > 0: no convergence */
		goto out;
	}
	z = cov;
	for (j = 0; j < cols; j++)
		w[j] *= scale * scale;
	/* dsyevd's eigenvalues ascend; ours descend. Rounding can make a zero variance a tiny
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
	free(out);
	return rc;
}

const vs_dpg_fn_t vs_dpg_fn_pca = {
	VS_DPG_ABI_VERSION, VS_DPG_FN_PCA, "PCA", VS_DPG_FN_CENTRAL,
	"principal components of all leaves' rows at the root (LAPACKE dsyevd)",
	vs_dpg_central_init, vs_dpg_central_local, vs_dpg_central_combine, vs_dpg_central_result,
	s_pca,
};
