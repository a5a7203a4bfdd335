/* libFuzzer target: the spec-file reader (mscope-specs(5)), and the printer's round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mscope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	vs_mspec_t *s = vs_mspec_parse("fuzz", (const char *)data, size, err, sizeof(err));

	if (s != NULL) {
		char *txt = vs_mspec_format(s);
		if (txt != NULL) {
			vs_mspec_t *s2 = vs_mspec_parse("again", txt, strlen(txt), err, sizeof(err));
			vs_mspec_destroy(&s2);
			free(txt);
		}
		vs_mspec_destroy(&s);
	}
	/* the same bytes as a LogFormat string */
	if (size < 4096) {
		char *lf = malloc(size + 1);
		memcpy(lf, data, size);
		lf[size] = '\0';
		s = vs_mspec_from_logformat(lf, NULL, err, sizeof(err));
		vs_mspec_destroy(&s);
		free(lf);
	}
	return 0;
}
