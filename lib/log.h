/* Logging to syslog or stderr, with levels. */
#ifndef VS_LOG_H
#define VS_LOG_H

#include <stdarg.h>

enum vs_log_level { VS_LOG_ERR = 3, VS_LOG_WARNING = 4, VS_LOG_NOTICE = 5, VS_LOG_INFO = 6, VS_LOG_DEBUG = 7 };

/* ident is borrowed; use_syslog chooses syslog(3) over stderr. */
void vs_log_open(const char *ident, int use_syslog, int level);
void vs_log_set_level(int level);
int  vs_log_level_parse(const char *s);        /* -EINVAL for an unknown name */
void vs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vs_vlog(int level, const char *fmt, va_list ap);

#define vs_err(...)    vs_log(VS_LOG_ERR, __VA_ARGS__)
#define vs_warn(...)   vs_log(VS_LOG_WARNING, __VA_ARGS__)
#define vs_notice(...) vs_log(VS_LOG_NOTICE, __VA_ARGS__)
#define vs_info(...)   vs_log(VS_LOG_INFO, __VA_ARGS__)
#define vs_debug(...)  vs_log(VS_LOG_DEBUG, __VA_ARGS__)

#endif
