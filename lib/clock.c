#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t
s_read(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * VS_NS_PER_SEC + ts.tv_nsec;
}

int64_t vs_now_ns(void) { return s_read(CLOCK_REALTIME); }
int64_t vs_mono_ns(void) { return s_read(CLOCK_MONOTONIC); }
int64_t vs_cpu_ns(void) { return s_read(CLOCK_PROCESS_CPUTIME_ID); }
int64_t vs_thread_cpu_ns(void) { return s_read(CLOCK_THREAD_CPUTIME_ID); }

int
vs_duration_parse(const char *s, int64_t dflt_unit_ns, int64_t *ns_r)
{
	static const struct { const char *sfx; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", VS_NS_PER_MSEC }, { "s", VS_NS_PER_SEC },
		{ "m", 60 * VS_NS_PER_SEC }, { "h", 3600 * VS_NS_PER_SEC },
	};
	char *end;
	unsigned long long v;
	int64_t unit = dflt_unit_ns;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -ERANGE;
	if (*end != '\0') {
		size_t i;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].sfx) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		unit = units[i].ns;
	}
	if (v > (unsigned long long)INT64_MAX / (unsigned long long)unit)
		return -ERANGE;
	*ns_r = (int64_t)v * unit;
	return 0;
}
