/*
 * The SQLite warehouse backend: one file, WAL journal, prepared inserts kept per table.
 * SQLite keeps each value's own storage class, so widening a column's type is a catalog
 * change only (done by wh.c).
 */
#include "wh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define S_DB(wh) ((sqlite3 *)(wh)->bk)

static int
s_err(vs_wh_t *wh, int src)
{
	snprintf(wh->err, sizeof(wh->err), "%s", sqlite3_errmsg(S_DB(wh)));
	switch (src & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

static int
s_open(vs_wh_t *wh, const char *target, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(target, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL);     /* one thread per handle */

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", target, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -EIO;
	}
	wh->bk = db;
	sqlite3_busy_timeout(db, 5000);
	/* a file that is not a database fails here, with SQLite's own words */
	rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
	    NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", target, sqlite3_errmsg(db));
		sqlite3_close(db);
		wh->bk = NULL;
		return -EBADMSG;
	}
	return 0;
}

static void
s_close(vs_wh_t *wh)
{
	if (wh->bk != NULL)
		sqlite3_close(S_DB(wh));
	wh->bk = NULL;
}

static int
s_exec(vs_wh_t *wh, const char *sql)
{
	int rc = sqlite3_exec(S_DB(wh), sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : s_err(wh, rc);
}

/* Prepares sql and binds params[0..n) to "$1".."$n" (a named parameter to SQLite: bound by
 * name, as PostgreSQL numbers them). */
static int
s_prepare_bind(vs_wh_t *wh, const char *sql, const char *const *params, int n,
    sqlite3_stmt **st_r)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(S_DB(wh), sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return s_err(wh, rc);
	for (int i = 0; i < n; i++) {
		char nm[16];
		int ix;
		snprintf(nm, sizeof(nm), "$%d", i + 1);
		ix = sqlite3_bind_parameter_index(st, nm);
		if (ix == 0)
			continue;
		rc = params[i] != NULL
		    ? sqlite3_bind_text(st, ix, params[i], -1, SQLITE_TRANSIENT)
		    : sqlite3_bind_null(st, ix);
		if (rc != SQLITE_OK) {
			rc = s_err(wh, rc);
			sqlite3_finalize(st);
			return rc;
		}
	}
	*st_r = st;
	return 0;
}

static int
s_query(vs_wh_t *wh, const char *sql, const char *const *params, int n, vs_wh_row_fn fn,
    void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if ((r = s_prepare_bind(wh, sql, params, n, &st)) < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *vals[16];
		int nc = sqlite3_column_count(st);
		if (nc > 16)
			nc = 16;
		for (int i = 0; i < nc; i++)
			vals[i] = (const char *)sqlite3_column_text(st, i);
		if (fn != NULL && (r = fn(arg, nc, vals)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = s_err(wh, rc);
out:
	sqlite3_finalize(st);
	return r;
}

static int
s_select(vs_wh_t *wh, const char *sql, const char *const *params, int n,
    vs_wh_select_fn fn, void *arg)
{
	sqlite3_stmt *st = NULL;
	vs_mvalue_t *v = NULL;
	int rc, r, nc;

	if ((r = s_prepare_bind(wh, sql, params, n, &st)) < 0)
		return r;
	nc = sqlite3_column_count(st);
	v = calloc((size_t)nc + 1, sizeof(*v));
	if (v == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < nc; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				v[i].type = VS_MT_INTEGER;
				v[i].i = sqlite3_column_int64(st, i);
				break;
			case SQLITE_FLOAT:
				v[i].type = VS_MT_REAL;
				v[i].d = sqlite3_column_double(st, i);
				break;
			case SQLITE_NULL:
				v[i].type = VS_MT_NULL;
				break;
			default:
				v[i].type = VS_MT_TEXT;
				v[i].s = (const char *)sqlite3_column_text(st, i);
				v[i].n = (size_t)sqlite3_column_bytes(st, i);
				if (v[i].s == NULL)
					v[i].type = VS_MT_NULL;
			}
		}
		if ((r = fn(arg, (size_t)nc, v)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = s_err(wh, rc);
out:
	free(v);
	sqlite3_finalize(st);
	return r;
}

/*
 * Data columns are declared without a type: SQLite then keeps every value as bound (an
 * INTEGER affinity would turn 1.0 back into 1), and the catalog (mscope_columns) holds the
 * inferred type. Widening rewrites the values stored so far to the new type.
 */
static const char *
s_sql_type(vs_mtype_t t)
{
	(void)t;
	return "";
}

static int
s_widen(vs_wh_t *wh, vs_wh_table_t *t, size_t col, vs_mtype_t from, vs_mtype_t to)
{
	char sql[512];

	(void)from;
	if (to == VS_MT_REAL)
		snprintf(sql, sizeof(sql), "UPDATE \"%s\" SET \"%s\" = CAST(\"%s\" AS REAL)"
		    " WHERE typeof(\"%s\") = 'integer'", t->name, t->cols[col], t->cols[col],
		    t->cols[col]);
	else if (to == VS_MT_TEXT)
		snprintf(sql, sizeof(sql), "UPDATE \"%s\" SET \"%s\" = CAST(\"%s\" AS TEXT)"
		    " WHERE typeof(\"%s\") IN ('integer', 'real')", t->name, t->cols[col],
		    t->cols[col], t->cols[col]);
	else
		return 0;
	return s_exec(wh, sql);
}

struct s_ins {
	sqlite3_stmt *st;
	size_t ncols;           /* the column count it was prepared for */
};

static void
s_table_release(vs_wh_t *wh, vs_wh_table_t *t)
{
	struct s_ins *ins = t->bk;

	(void)wh;
	if (ins == NULL)
		return;
	sqlite3_finalize(ins->st);
	free(ins);
	t->bk = NULL;
}

static int
s_prepare(vs_wh_t *wh, vs_wh_table_t *t)
{
	size_t cap = 128 + t->ncols * 80, off;
	char *sql = malloc(cap);
	struct s_ins *ins = calloc(1, sizeof(*ins));
	int rc = 0;

	if (sql == NULL || ins == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	off = (size_t)snprintf(sql, cap, "INSERT INTO \"%s\" (load_id, host_id, time_ns", t->name);
	for (size_t i = 0; i < t->ncols; i++)
		off += (size_t)snprintf(sql + off, cap - off, ", \"%s\"", t->cols[i]);
	off += (size_t)snprintf(sql + off, cap - off, ") VALUES (?, ?, ?");
	for (size_t i = 0; i < t->ncols; i++)
		off += (size_t)snprintf(sql + off, cap - off, ", ?");
	snprintf(sql + off, cap - off, ")");
	rc = sqlite3_prepare_v3(S_DB(wh), sql, -1, SQLITE_PREPARE_PERSISTENT, &ins->st, NULL);
	if (rc != SQLITE_OK) {
		rc = s_err(wh, rc);
		goto out;
	}
	ins->ncols = t->ncols;
	t->bk = ins;
	ins = NULL;
out:
	free(ins);
	free(sql);
	return rc;
}

static int
s_insert(vs_wh_t *wh, vs_wh_table_t *t, int64_t load_id, int64_t host_id, int64_t time_ns,
    const vs_mvalue_t *vals)
{
	struct s_ins *ins = t->bk;
	sqlite3_stmt *st;
	int rc;

	if (ins != NULL && ins->ncols != t->ncols) {
		s_table_release(wh, t);
		ins = NULL;
	}
	if (ins == NULL) {
		if ((rc = s_prepare(wh, t)) < 0)
			return rc;
		ins = t->bk;
	}
	st = ins->st;
	sqlite3_bind_int64(st, 1, load_id);
	sqlite3_bind_int64(st, 2, host_id);
	if (time_ns == INT64_MIN)       /* a record without a time (a report's summary) */
		sqlite3_bind_null(st, 3);
	else
		sqlite3_bind_int64(st, 3, time_ns);
	for (size_t i = 0; i < t->ncols; i++) {
		const vs_mvalue_t *v = &vals[i];
		int c = (int)i + 4;
		vs_mtype_t ct = t->types[i];
		/* each value in its column's type: 1 in a real column is 1.0 */
		if (v->type == VS_MT_INTEGER && ct == VS_MT_REAL) {
			sqlite3_bind_double(st, c, (double)v->i);
			continue;
		}
		if ((v->type == VS_MT_INTEGER || v->type == VS_MT_REAL) && ct == VS_MT_TEXT &&
		    v->s != NULL) {
			sqlite3_bind_text(st, c, v->s, (int)v->n, SQLITE_STATIC);
			continue;
		}
		switch (v->type) {
		case VS_MT_INTEGER:
		case VS_MT_TIMESTAMP:
			sqlite3_bind_int64(st, c, v->i);
			break;
		case VS_MT_REAL:
			sqlite3_bind_double(st, c, v->d);
			break;
		case VS_MT_TEXT:
			/* the text outlives the step below, which copies it into the row */
			sqlite3_bind_text(st, c, v->s, (int)v->n, SQLITE_STATIC);
			break;
		default:
			sqlite3_bind_null(st, c);
		}
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : s_err(wh, rc);
}

const struct vs_wh_ops vs_wh_sqlite_ops = {
	.name = "sqlite",
	.open = s_open,
	.close = s_close,
	.exec = s_exec,
	.query = s_query,
	.sql_type = s_sql_type,
	.widen = s_widen,
	.insert = s_insert,
	.table_release = s_table_release,
	.select = s_select,
	.id_type = "INTEGER PRIMARY KEY",
};
