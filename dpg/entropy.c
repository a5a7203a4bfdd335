/* ENTROPY: EbAT (Wang et al., used by VScope's Watch, §2.5). A leaf turns its look-back
 * window (T time steps x M metrics) into one entropy; parents aggregate the children's
 * entropies as SigmaH and PiH, which merge in any order and tree shape. */
#include "builtin.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
s_cmp_rows(const void *a, const void *b, void *arg)
{
	const size_t cols = *(const size_t *)arg;

	return memcmp(a, b, cols * sizeof(uint16_t));
}

int
vs_dpg_entropy_window(const double *x, size_t rows, size_t cols, unsigned bins, double *h_r)
{
	uint16_t *bin = NULL;
	size_t i, j, run;
	double h = 0;

	if (!x || !h_r || rows == 0 || cols == 0 || bins < 2 || bins > VS_DPG_ENTROPY_MAXBINS ||
	    rows > VS_DPG_ENTROPY_MAXCELLS / cols)
		return -EINVAL;
	for (i = 0; i < rows * cols; i++)
		if (!isfinite(x[i]))
			return -EINVAL;
	bin = malloc(rows * cols * sizeof(*bin));
	if (!bin)
		return -ENOMEM;
	for (j = 0; j < cols; j++) {
		double mean = 0, scale = 0;

		for (i = 0; i < rows; i++)
			mean += x[i * cols + j];
		mean /= (double)rows;
		scale = fabs(mean);
		if (scale == 0 || !isfinite(scale)) {
			/* a mean of 0 (or a sum too large for a double): normalise by the
			 * largest magnitude instead */
			scale = 0;
			for (i = 0; i < rows; i++)
				if (fabs(x[i * cols + j]) > scale)
					scale = fabs(x[i * cols + j]);
			if (scale == 0)
				scale = 1;
		}
		for (i = 0; i < rows; i++) {
			double b = floor(x[i * cols + j] / scale * bins / 2);

			/* !(b > 0) also catches NaN, never cast */
			bin[i * cols + j] = !(b > 0) ? 0 : b > bins - 1 ? bins - 1 : (uint16_t)b;
		}
	}
	/* equal m-events become neighbours; each run of them is one probability */
	qsort_r(bin, rows, cols * sizeof(*bin), s_cmp_rows, &cols);
	for (i = 0; i < rows; i += run) {
		double pr;

		for (run = 1; i + run < rows &&
		     !memcmp(&bin[i * cols], &bin[(i + run) * cols], cols * sizeof(*bin)); run++)
			;
		pr = (double)run / (double)rows;
		h -= pr * log2(pr);
	}
	*h_r = h > 0 ? h : 0;   /* one m-event: -1 * log2(1) is -0 */
	free(bin);
	return 0;
}

static int
s_init(vs_dpg_part_t *p, uint32_t arg)
{
	unsigned metrics = arg & 0xffff, bins = arg >> 16;

	if (!metrics)
		metrics = 1;
	if (!bins)
		bins = VS_DPG_ENTROPY_BINS;
	if (bins < 2 || bins > VS_DPG_ENTROPY_MAXBINS)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->fn = VS_DPG_FN_ENTROPY;
	p->min = INFINITY;
	p->max = -INFINITY;
	p->prod = 1;
	p->arg = VS_DPG_ENTROPY_ARG(metrics, bins);
	return 0;
}

static void
s_fold(vs_dpg_part_t *into, double sum, double prod, uint64_t count, double min, double max)
{
	into->sum += sum;
	into->prod *= prod;
	into->count += count;
	if (min < into->min)
		into->min = min;
	if (max > into->max)
		into->max = max;
}

static int
s_local(vs_dpg_part_t *p, const double *x, size_t n)
{
	size_t metrics = p->arg & 0xffff;
	double h;
	int rc;

	if (p->fn != VS_DPG_FN_ENTROPY || metrics == 0 || n == 0 || n % metrics)
		return -EINVAL;
	rc = vs_dpg_entropy_window(x, n / metrics, metrics, p->arg >> 16, &h);
	if (rc < 0)
		return rc;
	s_fold(p, h, h, 1, h, h);
	return 0;
}

static int
s_combine(vs_dpg_part_t *into, const vs_dpg_part_t *from)
{
	if (from->fn != VS_DPG_FN_ENTROPY || into->fn != VS_DPG_FN_ENTROPY)
		return -EINVAL;
	into->leaves += from->leaves;
	if (from->count)
		s_fold(into, from->sum, from->prod, from->count, from->min, from->max);
	return 0;
}

static int
s_result(const vs_dpg_part_t *p, double *out, size_t *n_r)
{
	if (*n_r < 3)
		return -ENOSPC;
	if (p->count == 0) {
		*n_r = 0;
		return 0;
	}
	out[0] = p->sum;
	out[1] = p->prod;
	out[2] = (double)p->count;
	*n_r = 3;
	return 0;
}

const vs_dpg_fn_t vs_dpg_fn_entropy = {
	VS_DPG_ABI_VERSION, VS_DPG_FN_ENTROPY, "ENTROPY", VS_DPG_FN_COMBINE,
	"EbAT entropy of each leaf's look-back window; parents give SigmaH and PiH",
	s_init, s_local, s_combine, s_result, NULL,
};
