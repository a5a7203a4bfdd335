/*
 * The hsperfdata parser against a golden file: tests/data/hsperf-jdk17.bin was copied from
 * a running OpenJDK 17 (Spin.java, one forced GC), hsperf-jdk17.ok is what `jstat -snap`
 * printed for the same file. Every long and string entry we parse must appear there with the
 * same value; truncated and corrupted copies must be refused with a reason, never crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsperf.h"
#include "tap.h"

static char *golden;
static size_t n_entries, n_matched;
static char mismatch[1100];

static int
s_check(void *arg, const vs_hsperf_entry_t *e)
{
	char line[1024];

	(void)arg;
	if (e->type == 'J')
		snprintf(line, sizeof(line), "\n%s=%lld\n", e->name, (long long)e->value);
	else
		snprintf(line, sizeof(line), "\n%s=\"%.*s\"\n", e->name, (int)e->strlen, e->str);
	n_entries++;
	if (strstr(golden, line))
		n_matched++;
	else if (!mismatch[0])
		snprintf(mismatch, sizeof(mismatch), "%s", line + 1);
	return 0;
}

static int
s_any(void *arg, const vs_hsperf_entry_t *e)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

static uint8_t *
s_slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(1 << 20);

	*len_r = f && b ? fread(b, 1, 1 << 20, f) : 0;
	if (f)
		fclose(f);
	return b;
}

int
main(void)
{
	size_t len, glen, n;
	uint8_t *buf = s_slurp(TEST_DATA "/hsperf-jdk17.bin", &len), *bad;
	char err[256];
	vs_jvm_t j;
	int rc, refused, i;
	uint32_t seed = 1;

	golden = (char *)s_slurp(TEST_DATA "/hsperf-jdk17.ok", &glen);
	if (len == 0 || glen == 0)
		tap_skip_all("tests/data/hsperf-jdk17.{bin,ok} missing");
	memmove(golden + 1, golden, glen);
	golden[0] = '\n';
	golden[glen + 1] = 0;

	rc = vs_hsperf_parse(buf, len, s_check, NULL, err, sizeof(err));
	tap_ok(rc == 0, "golden file parses (%s)", rc ? err : "ok");
	tap_ok(n_entries > 150 && n_matched == n_entries, "all %zu long/string entries equal "
	    "jstat -snap's (%zu matched; first mismatch: %s)", n_entries, n_matched, mismatch);
	rc = vs_hsperf_jvm(buf, len, &j, err, sizeof(err));
	tap_ok(rc == 0 && j.hrt_frequency == 1000000000, "hrt frequency 1e9");
	tap_ok(j.n_gc == 2 && strcmp(j.gc[0].name, "Serial_young_collection_pauses") == 0 &&
	    strcmp(j.gc[1].name, "Serial_full_collection_pauses") == 0,
	    "two collectors, names made metric-safe (%s, %s)", j.gc[0].name, j.gc[1].name);
	tap_ok(j.gc[0].invocations == 6 && j.gc[0].time_ticks == 3673626 &&
	    j.gc[1].invocations == 1 && j.gc[1].time_ticks == 1342856,
	    "GC counts 6 and 1 (the forced one), times as jstat says");
	tap_ok(j.n_gen >= 2 && strcmp(j.gen[0].name, "new") == 0 &&
	    j.gen[0].used == 1603832 + 1040 && j.gen[0].capacity == 11141120 &&
	    strcmp(j.gen[1].name, "old") == 0 && j.gen[1].used == 561672,
	    "heap: new = eden + survivors used, old used, capacities");
	tap_ok(j.threads_live == 7 && j.safepoint_ticks == 5452617 && j.safepoints == 7,
	    "threads 7, safepoint time and count");

	/* truncations at every length: refused cleanly or (past the used size) parsed */
	refused = 0;
	for (n = 0; n < 4096; n++) {
		size_t c = 0;
		if (vs_hsperf_parse(buf, n, s_any, &c, err, sizeof(err)) < 0)
			refused++;
	}
	tap_ok(refused == 4096, "every truncation below 4 KiB is refused (%d)", refused);
	rc = vs_hsperf_parse(buf, len - 1, s_any, &n, err, sizeof(err));
	tap_diag("truncated by one byte: %s", rc ? err : "accepted (past the used size)");
	bad = malloc(len);
	memcpy(bad, buf, len);
	bad[0] = 0xca; bad[1] = 0xfe; bad[2] = 0xba; bad[3] = 0xbe;
	tap_ok(vs_hsperf_parse(bad, len, s_any, &n, err, sizeof(err)) == -EINVAL &&
	    strstr(err, "magic"), "bad magic: refused (%s)", err);
	memcpy(bad, buf, len);
	bad[4] = 7;
	tap_ok(vs_hsperf_parse(bad, len, s_any, &n, err, sizeof(err)) == -EINVAL &&
	    strstr(err, "byte order"), "bad byte order: refused (%s)", err);
	memcpy(bad, buf, len);
	bad[5] = 3;
	tap_ok(vs_hsperf_parse(bad, len, s_any, &n, err, sizeof(err)) == -EPROTO,
	    "version 3: refused (%s)", err);
	memcpy(bad, buf, len);
	bad[buf[4] ? 24 : 27] = 0xff;   /* entry offset far out */
	tap_ok(vs_hsperf_parse(bad, len, s_any, &n, err, sizeof(err)) == -EINVAL,
	    "entry offset outside the file: refused (%s)", err);
	memcpy(bad, buf, len);
	bad[buf[4] ? 8 + 3 : 8] = 0x7f;   /* used size > file */
	tap_ok(vs_hsperf_parse(bad, len, s_any, &n, err, sizeof(err)) == -EINVAL,
	    "used size past the end: refused (%s)", err);
	/* the first entry's length and name offset */
	{
		uint32_t off = buf[24] | buf[25] << 8 | buf[26] << 16 | (uint32_t)buf[27] << 24;
		memcpy(bad, buf, len);
		memset(bad + off, 0xff, 4);
		tap_ok(vs_hsperf_parse(bad, len, s_any, &n, err, sizeof(err)) == -EINVAL,
		    "entry length 0xffffffff: refused (%s)", err);
		memcpy(bad, buf, len);
		bad[off + 4] = 0xf0;
		bad[off + 5] = 0xff;
		tap_ok(vs_hsperf_parse(bad, len, s_any, &n, err, sizeof(err)) == -EINVAL,
		    "name offset outside the entry: refused (%s)", err);
	}
	/* random corruption: never a crash (ASan checks every read) */
	for (i = 0; i < 20000; i++) {
		memcpy(bad, buf, len);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245 + 12345;
			bad[(seed >> 8) % 2048] = (uint8_t)(seed >> 24);
		}
		(void)vs_hsperf_jvm(bad, len, &j, err, sizeof(err));
	}
	tap_ok(1, "20000 randomly corrupted copies parsed or refused without a crash");
	memcpy(bad, buf, len);
	tap_ok(vs_hsperf_read_file("/nonexistent/hsperf", &j, err, sizeof(err)) == -ENOENT,
	    "a vanished file is -ENOENT");
	free(bad);
	free(buf);
	free(golden);
	return tap_done();
}
