/* Unit tests of shaping/: rate, size, TTL and direction parsers, IFB names, state files. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shape.h"
#include "tap.h"

static void
s_rate(const char *s, uint64_t want)
{
	char err[160] = "";
	uint64_t v = 0;
	int rc = vs_shape_parse_rate(s, &v, err, sizeof(err));

	tap_ok(rc == 0 && v == want, "rate '%s' = %llu bit/s (got %llu, %s)", s,
	    (unsigned long long)want, (unsigned long long)v, err);
}

static void
s_bad_rate(const char *s, const char *needle)
{
	char err[160] = "";
	uint64_t v = 0;
	int rc = vs_shape_parse_rate(s, &v, err, sizeof(err));

	tap_ok(rc == -EINVAL && strstr(err, needle) != NULL, "rate '%s' refused: %s", s ? s : "NULL",
	    err);
}

static void
s_size(const char *s, uint32_t want)
{
	char err[160] = "";
	uint32_t v = 0;
	int rc = vs_shape_parse_size(s, &v, err, sizeof(err));

	tap_ok(rc == 0 && v == want, "size '%s' = %u (got %u, %s)", s, want, v, err);
}

static void
s_bad_size(const char *s)
{
	char err[160] = "";
	uint32_t v = 0;

	tap_ok(vs_shape_parse_size(s, &v, err, sizeof(err)) == -EINVAL && err[0],
	    "size '%s' refused: %s", s, err);
}

static void
s_ttl(const char *s, int64_t want)
{
	char err[160] = "";
	int64_t v = 0;
	int rc = vs_shape_parse_ttl(s, &v, err, sizeof(err));

	tap_ok(rc == 0 && v == want, "ttl '%s' = %lld ns (got %lld, %s)", s, (long long)want,
	    (long long)v, err);
}

static void
s_bad_ttl(const char *s, const char *needle)
{
	char err[160] = "";
	int64_t v = 0;

	tap_ok(vs_shape_parse_ttl(s, &v, err, sizeof(err)) == -EINVAL && strstr(err, needle),
	    "ttl '%s' refused: %s", s, err);
}

int
main(void)
{
	char err[160], name[IF_NAMESIZE], dir[] = "/tmp/test_shape.XXXXXX";
	vs_shape_rule_t r, back;
	int d = 0;

	s_rate("10mbit", 10000000);
	s_rate("1.5gbit", 1500000000);
	s_rate("100kbit", 100000);
	s_rate("800bit", 800);
	s_rate("1mbps", 8000000);
	s_rate("125kbps", 1000000);
	s_rate("10bps", 80);
	s_rate("10MBIT", 10000000);
	s_rate("400gbit", VS_SHAPE_MAX_RATE);
	s_bad_rate("0mbit", "zero");
	s_bad_rate("0", "unit");
	s_bad_rate("10", "unit");
	s_bad_rate("10mbits", "unit");
	s_bad_rate("10 mbit", "unit");
	s_bad_rate("mbit", "bad rate");
	s_bad_rate("-5mbit", "bad rate");
	s_bad_rate("", "bad rate");
	s_bad_rate(NULL, "bad rate");
	s_bad_rate("401gbit", "above");
	s_bad_rate("1e30gbit", "above");
	s_bad_rate("nanmbit", "bad rate");
	s_bad_rate("0.1bit", "zero");

	s_size("1500", 1500);
	s_size("32k", 32768);
	s_size("32kb", 32768);
	s_size("1m", 1048576);
	s_size("2b", 2);
	s_bad_size("0");
	s_bad_size("0k");
	s_bad_size("12q");
	s_bad_size("65m");
	s_bad_size("k");
	s_bad_size("");
	s_bad_size("-1k");

	s_ttl("10m", 600LL * 1000000000LL);
	s_ttl("2s", 2000000000LL);
	s_ttl("90", 90000000000LL);
	s_ttl("500ms", 500000000LL);
	s_ttl("2h", 7200LL * 1000000000LL);
	s_ttl("1d", 86400LL * 1000000000LL);
	s_bad_ttl("0", "zero");
	s_bad_ttl("0s", "zero");
	s_bad_ttl("0.0001s", "zero");
	s_bad_ttl("31d", "30 days");
	s_bad_ttl("10x", "unit");
	s_bad_ttl("s", "bad TTL");
	s_bad_ttl("", "bad TTL");

	tap_ok(vs_shape_parse_dir("from-vm", &d, err, sizeof(err)) == 0 && d == VS_SHAPE_FROM_VM,
	    "direction from-vm");
	tap_ok(vs_shape_parse_dir("to-vm", &d, err, sizeof(err)) == 0 && d == VS_SHAPE_TO_VM,
	    "direction to-vm");
	tap_ok(vs_shape_parse_dir("both", &d, err, sizeof(err)) == 0 && d == VS_SHAPE_BOTH,
	    "direction both");
	tap_ok(vs_shape_parse_dir("sideways", &d, err, sizeof(err)) == -EINVAL &&
	    strstr(err, "sideways"), "direction sideways refused: %s", err);

	tap_ok(vs_shape_ifb_name("vif2.0", 0, name) == 0 && !strcmp(name, "vsb2.0"),
	    "vif2.0 -> %s", name);
	tap_ok(vs_shape_ifb_name("vif32767.15", 0, name) == 0 && !strcmp(name, "vsb32767.15"),
	    "vif32767.15 -> %s", name);
	tap_ok(vs_shape_ifb_name("vnet12", 42, name) == 0 && !strcmp(name, "vsbi42"),
	    "vnet12 (ifindex 42) -> %s", name);
	tap_ok(vs_shape_ifb_name("vnet12", 0, name) == -EINVAL, "vnet12 without ifindex refused");
	tap_ok(vs_shape_ifb_name("vif4294967295.4294967295", 0, name) == -ENAMETOOLONG,
	    "an IFB name over IFNAMSIZ is refused");
	vs_shape_fmt_rate(10000000, name, sizeof(name));
	tap_ok(!strcmp(name, "10mbit"), "10000000 bit/s prints as %s", name);

	if (mkdtemp(dir) == NULL)
		return 1;
	memset(&r, 0, sizeof(r));
	snprintf(r.vif, sizeof(r.vif), "vif7.1");
	snprintf(r.domain, sizeof(r.domain), "naughty-vm");
	r.rate_bps = 10000000;
	r.ceil_bps = 20000000;
	r.burst = 32768;
	r.dir = VS_SHAPE_BOTH;
	r.ttl_ns = 600000000000LL;
	r.expires_ns = 1796613779935747703LL;
	r.created_ingress = 1;
	tap_ok(vs_shape_state_write(dir, &r) == 0, "state file written in %s", dir);
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/vif7.1.rule", dir);
		tap_ok(vs_shape_state_read(path, &back) == 0 && !memcmp(&r, &back, sizeof(r)),
		    "state file reads back the same rule");
		snprintf(path, sizeof(path), "%s/vif7.1.rule.tmp", dir);
		tap_ok(access(path, F_OK) != 0, "no temporary file left behind");
		snprintf(path, sizeof(path), "%s/junk.rule", dir);
		{
			FILE *f = fopen(path, "w");

			fputs("garbage\x01\nvif=\n", f);
			fclose(f);
		}
	}
	tap_ok(vs_shape_state_foreach(dir, NULL, NULL) == 1,
	    "foreach finds the one good state file and skips a garbage one");
	tap_ok(vs_shape_state_remove(dir, "vif7.1") == 0 &&
	    vs_shape_state_foreach(dir, NULL, NULL) == 0, "state file removed");
	{
		char cmd[640];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_diag("cannot remove %s", dir);
	}
	return tap_done();
}
