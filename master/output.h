/*
 * Where a DPG's results go besides the console (VScope §2.2, DESIGN.md "Storage"): a rotating
 * log file per DPG in vmasterd's log directory, or the warehouse (mscope/wh.h: SQLite by
 * default, PostgreSQL with libpq), table dpg_results. The console always has the latest
 * results (`vscope dpg results`); the DPG's spec (out=console|log|warehouse) adds one sink.
 * The places are vmasterd's (its options), never a console's: a console names a kind only.
 */
#ifndef VS_MASTER_OUTPUT_H
#define VS_MASTER_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
	VS_OUT_CONSOLE = 0,
	VS_OUT_LOG = 1,
	VS_OUT_WAREHOUSE = 2,
} vs_out_kind_t;

typedef struct vs_outs_config {
	const char *log_dir;            /* dpg-ID.log files, created 0750 when missing */
	uint64_t log_size;              /* rotate when a file would grow past this */
	unsigned log_keep;              /* rotated files kept: dpg-ID.log.1 .. .N */
	const char *warehouse;          /* vs_wh_open URL; opened on first use */
	const char *host;               /* the warehouse's host column (vmasterd's host) */
} vs_outs_config_t;

/* One result of a DPG's root, as a sink writes it. */
typedef struct vs_out_row {
	uint32_t dpg;
	const char *fn;
	int64_t round, time_ns;         /* period number; its start (CLOCK_REALTIME) */
	uint32_t leaves, expected;
	uint64_t samples, drops;
	const double *v;
	size_t n;
	const char *line;               /* the console's line for it (no newline) */
} vs_out_row_t;

typedef struct vs_outs vs_outs_t;
typedef struct vs_out vs_out_t;

/* The strings are copied. NULL and errno on ENOMEM. */
vs_outs_t *vs_outs_new(const vs_outs_config_t *cfg);
void vs_outs_destroy(vs_outs_t **self_p);
/* "console", "log", "warehouse": 0, or -EINVAL. */
int vs_out_parse(const char *s, vs_out_kind_t *kind_r);
const char *vs_out_name(vs_out_kind_t kind);

/* DPG dpg's sink of kind (NULL in *out_r for the console): 0, or -errno with the reason in
 * err (the log directory or the warehouse cannot be opened). */
int vs_out_open(vs_outs_t *outs, vs_out_kind_t kind, uint32_t dpg, vs_out_t **out_r,
    char *err, size_t errlen);
/* Writes one result: 0, or -errno (the sink counts it in vs_out_errors). */
int vs_out_write(vs_out_t *out, const vs_out_row_t *row);
uint64_t vs_out_errors(const vs_out_t *out);
/* Where it writes, for `dpg list` (borrowed). */
const char *vs_out_where(const vs_out_t *out);
void vs_out_close(vs_out_t **out_p);

#endif
