/* The StatsD parser and table: good and bad lines, bounds, timers summarised per interval. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statsd.h"
#include "tap.h"

static int
s_parse(const char *line, vs_statsd_line_t *l)
{
	char err[128];

	return vs_statsd_parse_line(line, strlen(line), l, err, sizeof(err));
}

typedef struct found {
	char name[128];
	double value;
	int kind, n;
} found_t;

static void
s_find(void *arg, const char *name, double value, int kind)
{
	found_t *f = arg;

	if (strcmp(name, f->name) == 0) {
		f->value = value;
		f->kind = kind;
		f->n++;
	}
}

static double
s_get(vs_statsd_t *sd, const char *name, int *kind_r)
{
	found_t f;

	memset(&f, 0, sizeof(f));
	snprintf(f.name, sizeof(f.name), "%s", name);
	f.value = -12345;
	vs_statsd_flush(sd, s_find, &f);
	if (kind_r)
		*kind_r = f.n == 1 ? f.kind : -1;
	return f.value;
}

static void
s_count(void *arg, const char *name, double value, int kind)
{
	(void)name; (void)value; (void)kind;
	(*(size_t *)arg)++;
}

int
main(void)
{
	vs_statsd_line_t l;
	vs_statsd_t *sd;
	char name[200], line[300], *big;
	int kind;
	size_t n;

	tap_ok(s_parse("req:1|c", &l) == 0 && l.type == VS_STATSD_COUNTER && l.value == 1 &&
	    l.rate == 1 && strcmp(l.name, "req") == 0, "req:1|c is a counter of 1");
	tap_ok(s_parse("req:2|c|@0.5", &l) == 0 && l.rate == 0.5, "|@0.5 sample rate");
	tap_ok(s_parse("temp:-3.5|g", &l) == 0 && l.type == VS_STATSD_GAUGE && l.delta &&
	    l.value == -3.5, "gauge -3.5 is a delta");
	tap_ok(s_parse("temp:7|g", &l) == 0 && !l.delta, "gauge 7 is absolute");
	tap_ok(s_parse("db.q:12.5|ms", &l) == 0 && l.type == VS_STATSD_TIMER, "|ms timer");
	tap_ok(s_parse("db.q:12.5|h", &l) == 0 && l.type == VS_STATSD_TIMER, "|h histogram");
	tap_ok(s_parse("a:b:c:1|c", &l) == 0 && strcmp(l.name, "a:b:c") == 0,
	    "name with ':' takes the last ':' before '|'");
	/* bad lines */
	tap_ok(s_parse("req1|c", &l) == -EINVAL, "no colon: refused");
	tap_ok(s_parse("req:1", &l) == -EINVAL, "no type: refused");
	tap_ok(s_parse("req:1|x", &l) == -EINVAL, "type x: refused");
	tap_ok(s_parse("req:1|cc", &l) == -EINVAL, "type cc: refused");
	tap_ok(s_parse("req:NaN|g", &l) == -EINVAL, "NaN: refused");
	tap_ok(s_parse("req:inf|g", &l) == -EINVAL, "inf: refused");
	tap_ok(s_parse("req:1e999|g", &l) == -EINVAL, "1e999 (overflow): refused");
	tap_ok(s_parse("req:0x10|c", &l) == -EINVAL, "hex: refused");
	tap_ok(s_parse("req:|c", &l) == -EINVAL, "empty value: refused");
	tap_ok(s_parse(":1|c", &l) == -EINVAL, "empty name: refused");
	tap_ok(s_parse("re q:1|c", &l) == -EINVAL, "blank in name: refused");
	tap_ok(s_parse("r\xc3\xa9q:1|c", &l) == -EINVAL, "non-ASCII name: refused");
	tap_ok(s_parse("r/q:1|c", &l) == -EINVAL, "'/' in name: refused");
	memset(name, 'n', VS_STATSD_MAX_NAME);
	name[VS_STATSD_MAX_NAME] = 0;
	snprintf(line, sizeof(line), "%s:1|c", name);
	tap_ok(s_parse(line, &l) == 0, "name of %d characters: accepted", VS_STATSD_MAX_NAME);
	snprintf(line, sizeof(line), "%sn:1|c", name);
	tap_ok(s_parse(line, &l) == -EINVAL, "name of %d characters: refused",
	    VS_STATSD_MAX_NAME + 1);
	tap_ok(s_parse("req:1|c|@0", &l) == -EINVAL && s_parse("req:1|c|@2", &l) == -EINVAL &&
	    s_parse("req:1|c|0.5", &l) == -EINVAL, "rates @0, @2, no '@': refused");

	/* the table */
	sd = vs_statsd_new();
	tap_ok(vs_statsd_feed(sd, "", 0) == 0 && vs_statsd_stats(sd)->lines == 0,
	    "empty datagram: nothing, no error");
	n = strlen("req:1|c\nreq:2|c|@0.5\ntemp:10|g\ntemp:-3|g\nbad\nlat:10|ms\nlat:20|ms\r\n"
	    "lat:30|ms");
	vs_statsd_feed(sd, "req:1|c\nreq:2|c|@0.5\ntemp:10|g\ntemp:-3|g\nbad\nlat:10|ms\n"
	    "lat:20|ms\r\nlat:30|ms", n);
	tap_ok(s_get(sd, "statsd.req", &kind) == 5 && kind == 1,
	    "counter: 1 + 2/0.5 = 5, kind COUNTER (got %g)", s_get(sd, "statsd.req", NULL));
	tap_ok(s_get(sd, "statsd.temp", &kind) == 7 && kind == 0, "gauge 10 then -3 = 7, GAUGE");
	vs_statsd_feed(sd, "lat:10|ms\nlat:20|ms\nlat:30|ms", 29);
	{
		found_t f[3] = { { .name = "statsd.lat.count" }, { .name = "statsd.lat.p50" },
		    { .name = "statsd.lat.max" } };
		vs_statsd_flush(sd, s_find, &f[0]);
		tap_ok(f[0].value == 3, "timer: count 3 in this interval (got %g)", f[0].value);
		vs_statsd_feed(sd, "lat:10|ms\nlat:20|ms\nlat:30|ms", 29);
		vs_statsd_flush(sd, s_find, &f[1]);
		vs_statsd_feed(sd, "lat:10|ms\nlat:20|ms\nlat:30|ms", 29);
		vs_statsd_flush(sd, s_find, &f[2]);
		tap_ok(f[1].value == 20 && f[2].value == 30, "timer: p50 20, max 30");
		tap_ok(s_get(sd, "statsd.lat.count", NULL) == 0, "timer: a new interval is empty");
	}
	tap_ok(vs_statsd_stats(sd)->bad_lines == 1, "the bad line counted");
	vs_statsd_feed(sd, "req:1|g", 7);
	tap_ok(vs_statsd_stats(sd)->bad_lines == 2, "a name keeps its first type: req|g refused");
	/* bound on names */
	for (int i = 0; i < 2000; i++) {
		int k = snprintf(line, sizeof(line), "n%d:1|c", i);
		vs_statsd_feed(sd, line, (size_t)k);
	}
	tap_ok(vs_statsd_names(sd) == VS_STATSD_MAX_NAMES &&
	    vs_statsd_stats(sd)->dropped_names == 2000 - (VS_STATSD_MAX_NAMES - 3),
	    "2000 names: %d kept, the rest dropped and counted (%zu, %llu)", VS_STATSD_MAX_NAMES,
	    vs_statsd_names(sd), (unsigned long long)vs_statsd_stats(sd)->dropped_names);
	/* a 64 KiB datagram of junk and of many lines */
	big = malloc(65536);
	memset(big, 'x', 65536);
	tap_ok(vs_statsd_feed(sd, big, 65536) == 0, "64 KiB of one junk line: refused, no crash");
	for (size_t i = 0; i + 8 <= 65536; i += 8)
		memcpy(big + i, "req:1|c\n", 8);
	tap_ok(vs_statsd_feed(sd, big, 65536) == 8192, "64 KiB of 8192 lines: all applied");
	n = 0;
	vs_statsd_flush(sd, s_count, &n);
	tap_ok(n == VS_STATSD_MAX_NAMES - 1 + 6, "flush emits one metric per name, 6 per timer "
	    "(%zu)", n);
	free(big);
	vs_statsd_destroy(&sd);
	vs_statsd_destroy(&sd);
	return tap_done();
}
