/*
 * HotSpot performance-data files (hsperfdata_<user>/<pid>, what jstat reads), parsed with
 * bounded, validated reads: magic 0xcafec0c0, byte order, version 2, every entry header,
 * offset and length checked against the file size. Nothing in the JVM changes.
 */
#ifndef VS_HSPERF_H
#define VS_HSPERF_H

#include <stddef.h>
#include <stdint.h>

#define VS_HSPERF_MAX_FILE   (16 * 1024 * 1024)
#define VS_HSPERF_MAX_ENTRIES 8192
#define VS_HSPERF_MAX_GC     8
#define VS_HSPERF_MAX_GEN    4

/* One entry: a long ('J') value, or a byte vector ('B') given as a NUL-free string. */
typedef struct vs_hsperf_entry {
	const char *name;               /* NUL-terminated inside the file (checked) */
	char type;                      /* 'J' or 'B' (others are skipped) */
	uint8_t units;
	int64_t value;                  /* 'J' */
	const char *str;                /* 'B': borrowed, not NUL-terminated */
	size_t strlen;
} vs_hsperf_entry_t;

typedef int (*vs_hsperf_fn)(void *arg, const vs_hsperf_entry_t *e);

/* Walks every entry of buf[0..len). 0, or -EINVAL/-EPROTO with the reason in err (a
 * malformed file), or what fn returned if not 0. */
int vs_hsperf_parse(const uint8_t *buf, size_t len, vs_hsperf_fn fn, void *arg,
    char *err, size_t errlen);

/* The JVM-level figures an agent reports. */
typedef struct vs_jvm {
	int64_t hrt_frequency;
	size_t n_gc;
	struct { char name[48]; int64_t invocations, time_ticks; } gc[VS_HSPERF_MAX_GC];
	size_t n_gen;
	struct { char name[32]; int64_t capacity, used; } gen[VS_HSPERF_MAX_GEN];
	int64_t threads_live;
	int64_t safepoint_ticks, safepoints;
} vs_jvm_t;

int vs_hsperf_jvm(const uint8_t *buf, size_t len, vs_jvm_t *j_r, char *err, size_t errlen);

/* Reads one file (mmap read-only). -ENOENT if it vanished, -EINVAL if malformed. */
int vs_hsperf_read_file(const char *path, vs_jvm_t *j_r, char *err, size_t errlen);

/* Scans dir/hsperfdata_* /<pid> and calls fn for each JVM; counts the skipped files. */
typedef void (*vs_jvm_fn)(void *arg, long pid, const vs_jvm_t *j);
int vs_hsperf_scan(const char *dir, vs_jvm_fn fn, void *arg, uint64_t *skipped_r);

#endif
