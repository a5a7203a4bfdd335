/*
 * milliScope's transformer in vscope: declarative parser specifications (one spec file per
 * log kind, see mscope-specs(5)), one streaming pass from a log file into the warehouse
 * (wh.h), with schema inference (the narrowest type that holds every value of a column)
 * and timestamps normalised to UTC nanoseconds.
 *
 * Ownership: vs_mspec_* objects are owned by the caller and freed with vs_mspec_destroy();
 * strings returned by accessors are borrowed from the object.
 */
#ifndef VS_MSCOPE_H
#define VS_MSCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- types and schema inference ---- */

/* The type lattice: a column's type is the join (max) of its values' types. */
typedef enum vs_mtype {
	VS_MT_NULL = 0,         /* no value ("-", empty): joins as the identity */
	VS_MT_INTEGER,
	VS_MT_REAL,
	VS_MT_TIMESTAMP,        /* int64 nanoseconds since the epoch, UTC */
	VS_MT_TEXT,
} vs_mtype_t;

typedef struct vs_mvalue {
	vs_mtype_t type;
	int64_t i;              /* INTEGER, TIMESTAMP */
	double d;               /* REAL */
	const char *s;          /* TEXT (borrowed, not NUL-terminated) */
	size_t n;
} vs_mvalue_t;

const char *vs_mtype_name(vs_mtype_t t);                /* "integer", ... */
int vs_mtype_parse(const char *name, vs_mtype_t *t_r);  /* 0 or -EINVAL */
static inline vs_mtype_t
vs_mtype_join(vs_mtype_t a, vs_mtype_t b)
{
	return a > b ? a : b;
}

/* Classifies s[0..n) as integer, real or text (NULL for empty); fills v. A value with a
 * unit suffix listed in the spec is handled by the engine before this. */
void vs_mvalue_classify(const char *s, size_t n, vs_mvalue_t *v);

/* A column name from a tool's header token: lower case, [a-z0-9_], '%' becomes "pct",
 * everything else '_' (runs collapsed, trimmed); "c_" before a leading digit; never
 * empty. Returns the length written (out has room for outlen bytes, NUL included). */
size_t vs_mscope_colname(const char *s, size_t n, char *out, size_t outlen);

/* ---- time ---- */

/*
 * Parses s[0..n) with one time format: a strptime(3) form, where %f also reads a decimal
 * fraction of a second (1 to 9 digits), or one of "epoch-s", "epoch-ms", "epoch-us",
 * "epoch-ns" (an optional fraction allowed). Without %z in the form, the zone is
 * zone_off_s seconds east of UTC. The whole string must be consumed (trailing blanks
 * allowed). 0 with *ns_r, or -EINVAL.
 */
int vs_mtime_parse(const char *s, size_t n, const char *fmt, int zone_off_s, int64_t *ns_r);
/* "UTC", "Z", "+0100", "-05:30": 0 with seconds east of UTC, or -EINVAL. */
int vs_mzone_parse(const char *s, int *off_r);

/* ---- parser specifications ---- */

typedef struct vs_mspec vs_mspec_t;

/* Reads a spec file (mscope-specs(5)). NULL with errno and "PATH:LINE: why" in err. */
vs_mspec_t *vs_mspec_load(const char *path, char *err, size_t errlen);
/* The same from a buffer; name is used in messages. */
vs_mspec_t *vs_mspec_parse(const char *name, const char *text, size_t len, char *err,
    size_t errlen);
void vs_mspec_destroy(vs_mspec_t **self_p);
const char *vs_mspec_name(const vs_mspec_t *s);
const char *vs_mspec_description(const vs_mspec_t *s);
const char *vs_mspec_path(const vs_mspec_t *s);   /* "" when parsed from a buffer */

/* Derives a spec from an Apache LogFormat string (or a nickname "common", "combined").
 * table: the event table to load into (NULL: "apache_access"). NULL with errno and the
 * reason in err. */
vs_mspec_t *vs_mspec_from_logformat(const char *logformat, const char *table, char *err,
    size_t errlen);
/* Finds `LogFormat "..." NICK` in an httpd configuration file (NICK NULL: the format of
 * the first CustomLog line, else the last LogFormat). A malloc'd string, NULL with errno
 * and err. */
char *vs_httpd_conf_logformat(const char *path, const char *nick, char *err, size_t errlen);

/* Writes a spec as spec-file text (what vs_mspec_parse reads back); malloc'd. */
char *vs_mspec_format(const vs_mspec_t *s);

/* The built-in specs: every *.spec in dir; a NULL-terminated malloc'd array. */
int vs_mspec_load_dir(const char *dir, vs_mspec_t ***specs_r, size_t *n_r, char *err,
    size_t errlen);
void vs_mspec_free_all(vs_mspec_t ***specs_p, size_t n);

/* Picks the spec for a file from its name and its first bytes (head, n bytes): the spec with
 * the most matching detect rules. NULL with -ENOENT (none) or -EEXIST (a tie, names in err). */
const vs_mspec_t *vs_mspec_detect(vs_mspec_t *const *specs, size_t n, const char *path,
    const char *head, size_t headlen, int *rc_r, char *err, size_t errlen);

/* ---- loading ---- */

struct vs_wh;

typedef struct vs_mload_opts {
	const char *run;        /* run name (NULL: "default") */
	const char *date;       /* the date for logs that carry none (YYYY-MM-DD), or NULL */
	const char *zone;       /* overrides the spec's zone, or NULL */
	const char *host;       /* host when the log names none (NULL: "unknown") */
	bool strict;            /* a line that does not parse is an error, not a skip */
	/* specs a spec's "convert-format" may name (sa binary → sadf-d) */
	vs_mspec_t *const *specs;
	size_t nspecs;
} vs_mload_opts_t;

#define VS_MLOAD_MAX_TABLES 128

typedef struct vs_mload_result {
	uint64_t lines;         /* lines read */
	uint64_t rows;          /* rows written */
	uint64_t skipped;       /* comment, blank, summary lines (by the spec) */
	uint64_t unparsed;      /* lines that matched nothing (skipped, or the error) */
	uint64_t restarts;
	int64_t load_id;
	char status[16];        /* "ok", "truncated", "failed" */
	char error[512];        /* "FILE:LINE: why" */
	size_t ntables;
	struct {
		char name[64];
		uint64_t rows;
	} tables[VS_MLOAD_MAX_TABLES];
} vs_mload_result_t;

/*
 * One streaming pass of path through spec into wh, in one transaction. On a fatal error
 * (binary data, a wrong format, a cut last line, a converter that fails) the rows before
 * it are committed when they are whole and the load is recorded as "truncated"; when
 * nothing parsed the transaction is rolled back. 0 or -errno, res filled either way.
 */
int vs_mscope_load(struct vs_wh *wh, const vs_mspec_t *spec, const char *path,
    const vs_mload_opts_t *opts, vs_mload_result_t *res);
/* The same over a buffer (fuzzing, tests); path names it in messages. */
int vs_mscope_load_buf(struct vs_wh *wh, const vs_mspec_t *spec, const char *path,
    const char *buf, size_t len, const vs_mload_opts_t *opts, vs_mload_result_t *res);

#endif
