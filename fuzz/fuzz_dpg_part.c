/* libFuzzer target: what a parent VNode does with a child's partial result, and a leaf or
 * root with arbitrary numbers. The first byte picks: 0..127, the bytes are a partial as a
 * peer could send it (checked by vs_dpg_part_validate, then merged and read out only if
 * valid); 128..191, an ENTROPY window; 192..255, KMEANS and PCA over the numbers. */
#include "dpg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double out[VS_DPG_TOPK_MAX + 4], *x, *res = NULL;
	size_t n, cols, rows;
	vs_dpg_part_t p, into;
	const vs_dpg_fn_t *fn;

	if (size < 2)
		return 0;
	if (data[0] < 128) {
		memset(&p, 0, sizeof(p));
		memcpy(&p, data + 1, size - 1 < sizeof(p) ? size - 1 : sizeof(p));
		if (vs_dpg_part_validate(&p) < 0)
			return 0;
		fn = vs_dpg_fn_lookup(p.fn);
		if (!fn || fn->init(&into, p.fn == VS_DPG_FN_TOPK ? p.k : 0) < 0)
			return 0;
		fn->combine(&into, &p);
		fn->combine(&into, &p);
		n = sizeof(out) / sizeof(out[0]);
		fn->result(&into, out, &n);
		return 0;
	}
	cols = 1 + data[1] % 8;
	rows = (size - 2) / sizeof(double) / cols;
	if (rows == 0)
		return 0;
	x = malloc(rows * cols * sizeof(*x));
	if (!x)
		return 0;
	memcpy(x, data + 2, rows * cols * sizeof(*x));
	if (data[0] < 192) {
		double h;

		vs_dpg_entropy_window(x, rows, cols, 2 + data[0] % 16, &h);
	} else {
		vs_dpg_central_in_t in = { x, rows, cols, 1 + data[0] % 4, 1 + data[1] % 5 };

		n = 0;
		if (vs_dpg_fn_lookup(VS_DPG_FN_KMEANS)->central(&in, &res, &n) == 0)
			free(res);
		res = NULL;
		in.arg = data[0] % 3;
		if (vs_dpg_fn_lookup(VS_DPG_FN_PCA)->central(&in, &res, &n) == 0)
			free(res);
	}
	free(x);
	return 0;
}
