/*
 * libFuzzer target: the DPG protocol's decoder (dpg/dpgwire.c), which both sides run on
 * every frame off the wire: control (Register, Deploy, Deployed, Command, Answer) and data
 * (Part). Size bound, protobuf decode, validation; a frame that passes must re-encode and
 * decode again to a message that passes too, and a Part's numbers must satisfy its
 * function's invariants once merged into a fresh partial result.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpg.h"
#include "dpgwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	Vsdpg__Msg *m = vs_dpgwire_decode(data, size, err, sizeof(err)), *again;
	size_t len;
	void *buf;

	if (!m)
		return 0;
	buf = vs_dpgwire_pack(m, &len);
	if (buf) {
		again = vs_dpgwire_decode(buf, len, err, sizeof(err));
		if (!again)
			abort();        /* what passed once must pass again */
		vsdpg__msg__free_unpacked(again, NULL);
		free(buf);
	}
	if (m->body_case == VSDPG__MSG__BODY_PART) {
		const Vsdpg__Part *q = m->part;
		const vs_dpg_fn_t *fn = vs_dpg_fn_lookup(q->fn);
		vs_dpg_part_t acc, p;
		double out[VS_DPG_TOPK_MAX];
		size_t n = VS_DPG_TOPK_MAX;

		if (fn && fn->kind == VS_DPG_FN_CENTRAL && q->count && q->n_rows <= 4096) {
			/* what vmasterd does with a root's rows */
			vs_dpg_central_in_t in = { .x = q->rows, .rows = q->count, .cols = q->cols,
				.arg = 2, .arg2 = 5 };
			double *res = NULL;
			size_t nr = 0;

			if (q->cols == 0 || q->n_rows != q->count * q->cols)
				abort();        /* the decoder let through rows that are not a matrix */
			fn->central(&in, &res, &nr);
			free(res);
		} else if (fn && fn->init(&acc, q->k) == 0 &&
		    vs_dpgwire_part_get(q, fn, q->k, &p) == 0) {
			if (fn->combine(&acc, &p) == 0)
				fn->result(&acc, out, &n);
		}
	}
	vsdpg__msg__free_unpacked(m, NULL);
	return 0;
}
