#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <errno.h>

static int s_syslog;
static int s_level = VS_LOG_NOTICE;
static const char *s_ident = "vscope";

void
vs_log_open(const char *ident, int use_syslog, int level)
{
	s_ident = ident;
	s_syslog = use_syslog;
	s_level = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
vs_log_set_level(int level)
{
	s_level = level;
}

int
vs_log_level_parse(const char *s)
{
	static const struct { const char *name; int level; } t[] = {
		{ "err", VS_LOG_ERR }, { "error", VS_LOG_ERR }, { "warning", VS_LOG_WARNING },
		{ "notice", VS_LOG_NOTICE }, { "info", VS_LOG_INFO }, { "debug", VS_LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].level;
	return -EINVAL;
}

void
vs_vlog(int level, const char *fmt, va_list ap)
{
	if (level > s_level)
		return;
	if (s_syslog) {
		vsyslog(level, fmt, ap);
		return;
	}
	static const char *names[] = { "", "", "", "error", "warning", "notice", "info", "debug" };
	fprintf(stderr, "%s: %s: ", s_ident, names[level & 7]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
vs_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vs_vlog(level, fmt, ap);
	va_end(ap);
}
