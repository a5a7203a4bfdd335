/* Parsers for shaping rules: tc's rate and size units, lease durations, directions. */
#include "shape.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A non-negative decimal number ("10", "1.5") followed by a unit; *unit_r points at it. */
static int
s_number(const char *s, double *v_r, const char **unit_r)
{
	char *end;
	double v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	*v_r = v;
	*unit_r = end;
	return 0;
}

int
vs_shape_parse_rate(const char *s, uint64_t *bps_r, char *err, size_t errlen)
{
	static const struct { const char *u; double mul; } units[] = {
		{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 },
		{ "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 },
	};
	const char *unit;
	double v;

	if (s_number(s, &v, &unit) < 0) {
		snprintf(err, errlen, "bad rate '%.40s': a number with a unit such as 10mbit", s ? s : "");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(unit, units[i].u) != 0)
			continue;
		v *= units[i].mul;
		if (v < 1) {
			snprintf(err, errlen, "rate '%.40s' is zero: nothing could pass", s);
			return -EINVAL;
		}
		if (v > (double)VS_SHAPE_MAX_RATE) {
			snprintf(err, errlen, "rate '%.40s' is above %llu gbit", s,
			    (unsigned long long)(VS_SHAPE_MAX_RATE / 1000000000ULL));
			return -EINVAL;
		}
		*bps_r = (uint64_t)(v + 0.5);
		return 0;
	}
	snprintf(err, errlen, "bad rate unit in '%.40s': use bit, kbit, mbit, gbit, bps, kbps, "
	    "mbps or gbps", s);
	return -EINVAL;
}

int
vs_shape_parse_size(const char *s, uint32_t *bytes_r, char *err, size_t errlen)
{
	const char *unit;
	double v, mul = 0;

	if (s_number(s, &v, &unit) < 0) {
		snprintf(err, errlen, "bad size '%.40s': a number of bytes, or with k or m",
		    s ? s : "");
		return -EINVAL;
	}
	if (!*unit || !strcasecmp(unit, "b"))
		mul = 1;
	else if (!strcasecmp(unit, "k") || !strcasecmp(unit, "kb"))
		mul = 1024;
	else if (!strcasecmp(unit, "m") || !strcasecmp(unit, "mb"))
		mul = 1024 * 1024;
	if (mul == 0) {
		snprintf(err, errlen, "bad size unit in '%.40s': use b, k or m", s);
		return -EINVAL;
	}
	v *= mul;
	if (v < 1 || v > VS_SHAPE_MAX_BURST) {
		snprintf(err, errlen, "size '%.40s' is out of range (1 byte to %u MiB)", s,
		    VS_SHAPE_MAX_BURST >> 20);
		return -EINVAL;
	}
	*bytes_r = (uint32_t)v;
	return 0;
}

int
vs_shape_parse_ttl(const char *s, int64_t *ns_r, char *err, size_t errlen)
{
	static const struct { const char *u; double mul; } units[] = {
		{ "", 1e9 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "min", 60e9 },
		{ "h", 3600e9 }, { "d", 86400e9 },
	};
	const char *unit;
	double v;

	if (s_number(s, &v, &unit) < 0) {
		snprintf(err, errlen, "bad TTL '%.40s': a duration such as 90s, 10m or 2h",
		    s ? s : "");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(unit, units[i].u) != 0)
			continue;
		v *= units[i].mul;
		if (v < 1e6) {
			snprintf(err, errlen, "TTL '%.40s' is zero: the rule would expire at once", s);
			return -EINVAL;
		}
		if (v > (double)VS_SHAPE_MAX_TTL_NS) {
			snprintf(err, errlen, "TTL '%.40s' is above 30 days", s);
			return -EINVAL;
		}
		*ns_r = (int64_t)v;
		return 0;
	}
	snprintf(err, errlen, "bad TTL unit in '%.40s': use ms, s, m, h or d", s);
	return -EINVAL;
}

int
vs_shape_parse_dir(const char *s, int *dir_r, char *err, size_t errlen)
{
	if (s && !strcmp(s, "from-vm"))
		*dir_r = VS_SHAPE_FROM_VM;
	else if (s && !strcmp(s, "to-vm"))
		*dir_r = VS_SHAPE_TO_VM;
	else if (s && !strcmp(s, "both"))
		*dir_r = VS_SHAPE_BOTH;
	else {
		snprintf(err, errlen, "bad direction '%.40s': from-vm, to-vm or both", s ? s : "");
		return -EINVAL;
	}
	return 0;
}

const char *
vs_shape_dir_name(int dir)
{
	switch (dir) {
	case VS_SHAPE_FROM_VM: return "from-vm";
	case VS_SHAPE_TO_VM: return "to-vm";
	case VS_SHAPE_BOTH: return "both";
	default: return "none";
	}
}

void
vs_shape_fmt_rate(uint64_t bps, char *buf, size_t len)
{
	if (bps >= 1000000000ULL && bps % 1000000000ULL == 0)
		snprintf(buf, len, "%llugbit", (unsigned long long)(bps / 1000000000ULL));
	else if (bps >= 1000000 && bps % 1000000 == 0)
		snprintf(buf, len, "%llumbit", (unsigned long long)(bps / 1000000));
	else if (bps >= 1000 && bps % 1000 == 0)
		snprintf(buf, len, "%llukbit", (unsigned long long)(bps / 1000));
	else
		snprintf(buf, len, "%llubit", (unsigned long long)bps);
}

int
vs_shape_ifb_name(const char *vif, int ifindex, char out[IF_NAMESIZE])
{
	unsigned d, n;
	char tail;

	if (sscanf(vif, "vif%u.%u%c", &d, &n, &tail) == 2) {
		if (snprintf(out, IF_NAMESIZE, VS_SHAPE_IFB_PREFIX "%u.%u", d, n) >= IF_NAMESIZE)
			return -ENAMETOOLONG;
		return 0;
	}
	if (ifindex <= 0)
		return -EINVAL;
	if (snprintf(out, IF_NAMESIZE, VS_SHAPE_IFB_PREFIX "i%d", ifindex) >= IF_NAMESIZE)
		return -ENAMETOOLONG;
	return 0;
}
