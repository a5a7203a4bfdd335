/*
 * libFuzzer target: the agent's StatsD listener, from one datagram to the flushed metrics
 * (line splitting, name/value/type/rate parsing, the bounded name table, timer summaries).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwire.h"
#include "statsd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_emit(void *arg, const char *name, double value, int kind)
{
	size_t *n = arg;

	(void)value;
	if (strlen(name) > VS_AGENT_MAX_METRIC_LEN || (kind != 0 && kind != 1))
		abort();
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static vs_statsd_t *sd;
	vs_statsd_line_t l;
	char err[128];
	size_t n = 0;

	if (sd == NULL && (sd = vs_statsd_new()) == NULL)
		abort();
	(void)vs_statsd_parse_line((const char *)data, size, &l, err, sizeof(err));
	vs_statsd_feed(sd, (const char *)data, size);
	if (vs_statsd_names(sd) > VS_STATSD_MAX_NAMES)
		abort();
	/* the table persists across inputs like the daemon's; flush now and then */
	if (size > 0 && data[0] == '!')
		vs_statsd_flush(sd, s_emit, &n);
	return 0;
}
