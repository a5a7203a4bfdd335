/*
 * libFuzzer target: the guest intake's decoder (dom0d/intake_wire.c) on bytes as a guest
 * would send them: size check, protobuf decode, validation, record emission; and every
 * emitted record through the parent's second check, which must accept it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
s_emit(void *arg, const vs_intake_rec_t *r)
{
	char err[160];

	(void)arg;
	if (r->dom != 5 || vs_intake_rec_check(r, err, sizeof(err)) != 0)
		abort();        /* the child emitted what the parent refuses: a bug */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	vs_intake_msginfo_t info;
	vs_intake_drop_t d = vs_intake_decode(data, size, 5, s_emit, NULL, &info, err,
	    sizeof(err));

	if (d >= VS_DROP_N || (d != VS_DROP_NONE && info.n_records != 0))
		abort();
	return 0;
}
