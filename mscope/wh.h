/*
 * The mScope warehouse: milliScope's four static tables (runs, hosts, sources, loads), a
 * catalog of inferred column types (mscope_tables, mscope_columns), and one long/narrow
 * table per resource or event type: (load_id, host_id, time_ns, key columns, metrics).
 *
 * The generic part (wh.c) owns the schema logic; a backend (wh_sqlite.c; a libpq one can
 * sit beside it) implements struct vs_wh_ops in portable SQL terms: "$1" placeholders,
 * double-quoted identifiers, INSERT ... RETURNING. Callers never see the backend.
 */
#ifndef VS_WH_H
#define VS_WH_H

#include <stddef.h>
#include <stdint.h>

#include "mscope.h"

typedef struct vs_wh vs_wh_t;

#define VS_WH_MAX_COLS 512

/* A data table as the generic part knows it; bk is the backend's (its prepared insert). */
typedef struct vs_wh_table {
	char *name;
	char *kind;                     /* "resource" or "event" */
	size_t ncols;                   /* metric/field columns after the three fixed ones */
	char **cols;
	vs_mtype_t *types;
	int created;                    /* exists in the database */
	void *bk;
	uint64_t rows;                  /* written by the current load */
} vs_wh_table_t;

/* A row callback of ops->query: ncol text values (NULL for SQL NULL). */
typedef int (*vs_wh_row_fn)(void *arg, int ncol, const char *const *vals);
/* A typed row (vs_wh_select, ops->select): VS_MT_INTEGER (i), VS_MT_REAL (d), VS_MT_TEXT
 * (s, n: borrowed until the callback returns), VS_MT_TIMESTAMP (i, ns: time_ns and the
 * timestamp columns; vs_wh_select tags them), VS_MT_NULL. Non-zero stops the query and
 * is returned. */
typedef int (*vs_wh_select_fn)(void *arg, size_t ncol, const vs_mvalue_t *vals);

struct vs_wh_ops {
	const char *name;               /* "sqlite" */
	int (*open)(vs_wh_t *wh, const char *target, char *err, size_t errlen);
	void (*close)(vs_wh_t *wh);
	/* Runs statements without results (DDL, BEGIN, COMMIT, ROLLBACK). */
	int (*exec)(vs_wh_t *wh, const char *sql);
	/* One statement with text parameters $1..$n; fn per row (may be NULL). */
	int (*query)(vs_wh_t *wh, const char *sql, const char *const *params, int n,
	    vs_wh_row_fn fn, void *arg);
	/* The SQL type for a column of type t. */
	const char *(*sql_type)(vs_mtype_t t);
	/* A column's type widened from -> to (the catalog row is updated by wh.c). */
	int (*widen)(vs_wh_t *wh, vs_wh_table_t *t, size_t col, vs_mtype_t from, vs_mtype_t to);
	/* Inserts one row: the fixed columns (time_ns INT64_MIN: NULL) then vals[0..t->ncols).
	 * The column set may have
	 * grown since the last call (the backend re-prepares). */
	int (*insert)(vs_wh_t *wh, vs_wh_table_t *t, int64_t load_id, int64_t host_id,
	    int64_t time_ns, const vs_mvalue_t *vals);
	/* Forgets t's prepared state (schema changed, rollback, close). */
	void (*table_release)(vs_wh_t *wh, vs_wh_table_t *t);
	/* Like query, with typed values (the database's own types). */
	int (*select)(vs_wh_t *wh, const char *sql, const char *const *params, int n,
	    vs_wh_select_fn fn, void *arg);
	/* The id column of the static tables ("INTEGER PRIMARY KEY" in SQLite). */
	const char *id_type;
};

struct vs_wh {
	const struct vs_wh_ops *ops;
	void *bk;                       /* backend state */
	char *url;
	vs_wh_table_t **tables;
	size_t ntables, cap;
	char err[512];                  /* the backend's last message */
};

/* "sqlite:PATH", a plain PATH, or (when compiled in) "postgresql://...". NULL with errno
 * and the reason in err. Creates the static tables. */
vs_wh_t *vs_wh_open(const char *url, char *err, size_t errlen);
void vs_wh_destroy(vs_wh_t **self_p);
const char *vs_wh_error(const vs_wh_t *wh);
/* The warehouse URL for messages (a password in it replaced by "***"). */
const char *vs_wh_url(const vs_wh_t *wh);

int vs_wh_begin(vs_wh_t *wh);
int vs_wh_commit(vs_wh_t *wh);
int vs_wh_rollback(vs_wh_t *wh);      /* also forgets cached schema */

/* Ids of the static tables' rows (created on first use). */
int vs_wh_run_id(vs_wh_t *wh, const char *run, int64_t *id_r);
int vs_wh_host_id(vs_wh_t *wh, const char *host, int64_t *id_r);
int vs_wh_source_id(vs_wh_t *wh, int64_t run_id, int64_t host_id, const char *kind,
    const char *path, int64_t *id_r);
int vs_wh_load_begin(vs_wh_t *wh, int64_t source_id, int64_t *load_id_r);
int vs_wh_load_end(vs_wh_t *wh, int64_t load_id, const vs_mload_result_t *res);

/* The table named name (created lazily), with kind for a new one. NULL on error. */
vs_wh_table_t *vs_wh_table(vs_wh_t *wh, const char *name, const char *kind);
/* Index of column name in t, adding it (typed by first) when new; -errno. */
int vs_wh_column(vs_wh_t *wh, vs_wh_table_t *t, const char *name, vs_mtype_t first);
/* Writes a row: vals[i] is column i of t (t->ncols entries; NULL type for none). Widens
 * column types as needed. 0 or -errno. */
int vs_wh_insert(vs_wh_t *wh, vs_wh_table_t *t, int64_t load_id, int64_t host_id,
    int64_t time_ns, const vs_mvalue_t *vals);

/* ---- reading: the query API both backends implement (the analyses use it) ---- */

/* A time window of one table: from_ns <= time_ns < to_ns (INT64_MIN / INT64_MAX: open on
 * that side; a window open on both sides also returns the rows without a time). */
typedef struct vs_wh_window {
	const char *run;                /* only the loads of this run (NULL: every run) */
	int64_t from_ns, to_ns;
	const char *const *cols;        /* the columns, or NULL: load_id, host_id, time_ns */
	size_t ncols;                   /* and then every column of the table (catalog order) */
} vs_wh_window_t;

/*
 * Calls fn once per row of table in window w (NULL: everything), ordered by time_ns then
 * load_id (rows equal in both in no fixed order), with the same values from SQLite and
 * PostgreSQL. -ENOENT (no such table or column: the reason in vs_wh_error), -EINVAL (a
 * column name outside [a-z0-9_]), another -errno from the database, or fn's non-zero.
 */
int vs_wh_select(vs_wh_t *wh, const char *table, const vs_wh_window_t *w,
    vs_wh_select_fn fn, void *arg);
/* The data table named name as the catalog describes it (cols, types, kind), NULL with
 * -ENOENT in *rc_r when there is none. Borrowed from wh. */
const vs_wh_table_t *vs_wh_table_info(vs_wh_t *wh, const char *name, int *rc_r);
/* The names of the data tables (catalog order by name) whose name starts with prefix
 * (NULL or "": all), as fn(arg, 2, {name, kind}) rows. */
int vs_wh_tables(vs_wh_t *wh, const char *prefix, vs_wh_row_fn fn, void *arg);
/* Any other read in SQL both backends accept ($1..$n text parameters, text rows). */
int vs_wh_query(vs_wh_t *wh, const char *sql, const char *const *params, int n,
    vs_wh_row_fn fn, void *arg);

/* Backends compiled in (wh.c has the only list). */
extern const struct vs_wh_ops vs_wh_sqlite_ops;
extern const struct vs_wh_ops vs_wh_pg_ops;     /* with libpq (HAVE_LIBPQ) */

#endif
