/*
 * libFuzzer target: the transformer over every built-in spec (the first byte picks one),
 * the rest of the input being a log, loaded into an in-memory SQLite warehouse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscope.h"
#include "wh.h"

#ifndef MSCOPE_SRC_SPECDIR
#define MSCOPE_SRC_SPECDIR "mscope/specs"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vs_mspec_t **s_specs;
static size_t s_n;
static vs_wh_t *s_wh;
static unsigned s_runs;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	vs_mload_result_t res;
	vs_mload_opts_t o = { .run = "fuzz", .date = "2026-11-27" };
	const char *dir = getenv("VSCOPE_MSCOPE_SPECS");

	if (s_specs == NULL) {
		if (vs_mspec_load_dir(dir ? dir : MSCOPE_SRC_SPECDIR, &s_specs, &s_n, err,
		    sizeof(err)) < 0 || s_n == 0) {
			fprintf(stderr, "fuzz: %s\n", err);
			abort();
		}
	}
	/* a fresh warehouse now and then keeps memory bounded */
	if (s_wh == NULL || ++s_runs % 500 == 0) {
		vs_wh_destroy(&s_wh);
		s_wh = vs_wh_open(":memory:", err, sizeof(err));
		if (s_wh == NULL) {
			fprintf(stderr, "fuzz: %s\n", err);
			abort();
		}
	}
	if (size < 1)
		return 0;
	o.specs = s_specs;
	o.nspecs = s_n;
	(void)vs_mscope_load_buf(s_wh, s_specs[data[0] % s_n], "fuzz.log", (const char *)data + 1,
	    size - 1, &o, &res);
	(void)vs_mspec_detect(s_specs, s_n, "fuzz.log", (const char *)data + 1, size - 1,
	    &(int){ 0 }, err, sizeof(err));
	return 0;
}
