#include <errno.h>
#include <stdint.h>

#include "clock.h"
#include "tap.h"

int
main(void)
{
	static const struct { const char *s; int rc; int64_t ns; } t[] = {
		{ "100ms", 0, 100000000LL }, { "1ms", 0, 1000000LL }, { "10s", 0, 10000000000LL },
		{ "5m", 0, 300000000000LL }, { "2h", 0, 7200000000000LL }, { "250us", 0, 250000LL },
		{ "7ns", 0, 7 }, { "42", 0, 42000000LL },
		{ "", -EINVAL, 0 }, { "ms", -EINVAL, 0 }, { "-5ms", -EINVAL, 0 }, { "5 ms", -EINVAL, 0 },
		{ "5mss", -EINVAL, 0 }, { "1.5s", -EINVAL, 0 }, { "99999999999999999999", -ERANGE, 0 },
		{ "9999999999999h", -ERANGE, 0 },
	};
	int64_t a, b;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t ns = -1;
		int rc = vs_duration_parse(t[i].s, 1000000LL, &ns);

		tap_ok(rc == t[i].rc && (rc < 0 || ns == t[i].ns), "duration \"%s\" -> rc %d ns %lld",
		    t[i].s, rc, (long long)ns);
	}
	a = vs_mono_ns();
	b = vs_mono_ns();
	tap_ok(b >= a && a > 0, "monotonic clock does not go back");
	tap_ok(vs_now_ns() > 1600000000LL * 1000000000LL, "realtime clock is after 2020");
	return tap_done();
}
