/*
 * libFuzzer target: the HotSpot perf-data parser on arbitrary bytes, both the raw entry walk
 * and the JVM summary the agent reports. Must never read outside the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hsperf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
s_entry(void *arg, const vs_hsperf_entry_t *e)
{
	size_t *n = arg;

	/* touch what the parser hands out, so ASan sees any out-of-bounds pointer */
	if (strlen(e->name) > 4096)
		abort();
	if (e->type == 'B' && e->strlen > 0 && memchr(e->str, 0, e->strlen) != NULL)
		abort();
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);   /* exact-size heap copy: ASan catches overreads */
	char err[128];
	vs_jvm_t j;
	size_t n = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	(void)vs_hsperf_parse(copy, size, s_entry, &n, err, sizeof(err));
	if (vs_hsperf_jvm(copy, size, &j, err, sizeof(err)) == 0 &&
	    (j.n_gc > VS_HSPERF_MAX_GC || j.n_gen > VS_HSPERF_MAX_GEN))
		abort();
	free(copy);
	return 0;
}
