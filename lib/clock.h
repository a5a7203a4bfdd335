/* Clocks: samples carry CLOCK_REALTIME ns; timers and intervals use CLOCK_MONOTONIC. */
#ifndef VS_CLOCK_H
#define VS_CLOCK_H

#include <stdint.h>

#define VS_NS_PER_SEC  1000000000LL
#define VS_NS_PER_MSEC 1000000LL

int64_t vs_now_ns(void);        /* CLOCK_REALTIME */
int64_t vs_mono_ns(void);       /* CLOCK_MONOTONIC */
int64_t vs_cpu_ns(void);        /* CLOCK_PROCESS_CPUTIME_ID */
int64_t vs_thread_cpu_ns(void); /* CLOCK_THREAD_CPUTIME_ID */

/* Parses "100ms", "10s", "1m", "250us", "5" (unit given by dflt_unit_ns). 0 or -EINVAL/-ERANGE. */
int vs_duration_parse(const char *s, int64_t dflt_unit_ns, int64_t *ns_r);

#endif
