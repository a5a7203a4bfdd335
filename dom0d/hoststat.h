/*
 * Dom0 / host metrics from /proc: per-CPU time (/proc/stat), context switches and forks,
 * memory including Dirty and Writeback (/proc/meminfo), paging (/proc/vmstat) and disk I/O
 * of whole disks (/proc/diskstats). Files stay open and are re-read with pread each tick.
 */
#ifndef VS_HOSTSTAT_H
#define VS_HOSTSTAT_H

#include <stdint.h>

#include "history.h"

typedef struct vs_hoststat vs_hoststat_t;

/* slot: a small stable number per metric name, for the caller's own lookup table
 * (0 <= slot < VS_HOSTSTAT_MAX_SLOTS). Counter values are raw cumulative counts. */
#define VS_HOSTSTAT_MAX_SLOTS 2048
typedef void (*vs_hoststat_fn)(void *arg, int slot, const char *metric, const char *unit,
    vs_kind_t kind, int64_t value);

/* procdir is "/proc" or, in tests, a directory holding stat, meminfo, vmstat, diskstats.
 * NULL and errno if none of the files can be opened. */
vs_hoststat_t *vs_hoststat_new(const char *procdir);
void vs_hoststat_destroy(vs_hoststat_t **self_p);
/* One pass over all files. 0 or -errno; a file that fails is skipped and reported once. */
int vs_hoststat_read(vs_hoststat_t *self, vs_hoststat_fn fn, void *arg);
/* Number of CPUs seen in /proc/stat, and MemTotal in KiB (after the first read). */
unsigned vs_hoststat_ncpus(const vs_hoststat_t *self);
uint64_t vs_hoststat_mem_kib(const vs_hoststat_t *self);

#endif
