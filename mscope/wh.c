/*
 * The warehouse's generic part: the static tables, the type catalog and the schema
 * changes (new tables, new columns, widened types), in SQL both backends accept.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "wh.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char s_schema[] =
	"CREATE TABLE IF NOT EXISTS runs (run_id @ID@, name TEXT UNIQUE NOT NULL,"
	" created_ns BIGINT);\n"
	"CREATE TABLE IF NOT EXISTS hosts (host_id @ID@,"
	" name TEXT UNIQUE NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS sources (source_id @ID@,"
	" run_id INTEGER NOT NULL REFERENCES runs, host_id INTEGER REFERENCES hosts,"
	" kind TEXT NOT NULL, path TEXT NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS loads (load_id @ID@,"
	" source_id INTEGER NOT NULL REFERENCES sources, started_ns BIGINT, finished_ns BIGINT,"
	" status TEXT, lines BIGINT, rows BIGINT, skipped BIGINT, unparsed BIGINT, error TEXT);\n"
	"CREATE TABLE IF NOT EXISTS mscope_tables (name TEXT PRIMARY KEY, kind TEXT NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS mscope_columns (table_name TEXT NOT NULL, name TEXT NOT NULL,"
	" pos INTEGER NOT NULL, type TEXT NOT NULL, PRIMARY KEY (table_name, name));\n";

/* The schema with "@ID@" replaced by the backend's id column type; malloc'd. */
static char *
s_schema_for(const struct vs_wh_ops *ops)
{
	size_t idn = strlen(ops->id_type), cap = sizeof(s_schema) + 8 * idn, o = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	for (const char *p = s_schema; *p != '\0';) {
		if (strncmp(p, "@ID@", 4) == 0) {
			memcpy(out + o, ops->id_type, idn);
			o += idn;
			p += 4;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

static int64_t
s_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The URL without its password (scheme://user:PASSWORD@host...), for messages. */
static char *
s_redact(const char *url)
{
	const char *s = strstr(url, "://"), *at, *colon;
	char *out;

	if (s == NULL || (at = strchr(s + 3, '@')) == NULL ||
	    (colon = memchr(s + 3, ':', (size_t)(at - s - 3))) == NULL)
		return strdup(url);
	if ((out = malloc(strlen(url) + 4)) == NULL)
		return NULL;
	snprintf(out, strlen(url) + 4, "%.*s:***%s", (int)(colon - url), url, at);
	return out;
}

const char *
vs_wh_url(const vs_wh_t *wh)
{
	return wh->url;
}

vs_wh_t *
vs_wh_open(const char *url, char *err, size_t errlen)
{
	const struct vs_wh_ops *ops = NULL;
	const char *target = url;
	vs_wh_t *wh;
	int rc;

	if (strncmp(url, "sqlite:", 7) == 0) {
		ops = &vs_wh_sqlite_ops;
		target = url + 7;
		if (strncmp(target, "//", 2) == 0)
			target += 2;
	} else if (strncmp(url, "postgresql:", 11) == 0 || strncmp(url, "postgres:", 9) == 0) {
#if HAVE_LIBPQ
		ops = &vs_wh_pg_ops;
		target = url;   /* libpq parses the URI itself */
#else
		snprintf(err, errlen, "%s: no PostgreSQL backend compiled in (build with libpq)",
		    url);
		errno = ENOTSUP;
		return NULL;
#endif
	} else {
		ops = &vs_wh_sqlite_ops;
	}
	if (*target == '\0') {
		snprintf(err, errlen, "empty warehouse path in '%s'", url);
		errno = EINVAL;
		return NULL;
	}
	wh = calloc(1, sizeof(*wh));
	if (wh == NULL || (wh->url = s_redact(url)) == NULL) {
		free(wh);
		errno = ENOMEM;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	wh->ops = ops;
	rc = ops->open(wh, target, err, errlen);
	if (rc < 0) {
		free(wh->url);
		free(wh);
		errno = -rc;
		return NULL;
	}
	{
		char *schema = s_schema_for(ops);
		rc = schema != NULL ? ops->exec(wh, schema) : -ENOMEM;
		free(schema);
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot create the schema: %s", wh->url, wh->err);
		vs_wh_destroy(&wh);
		errno = -rc;
		return NULL;
	}
	return wh;
}

static void
s_table_free(vs_wh_t *wh, vs_wh_table_t *t)
{
	if (t == NULL)
		return;
	wh->ops->table_release(wh, t);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	free(t->types);
	free(t->name);
	free(t->kind);
	free(t);
}

static void
s_tables_forget(vs_wh_t *wh)
{
	for (size_t i = 0; i < wh->ntables; i++)
		s_table_free(wh, wh->tables[i]);
	wh->ntables = 0;
}

void
vs_wh_destroy(vs_wh_t **self_p)
{
	vs_wh_t *wh = self_p != NULL ? *self_p : NULL;

	if (wh == NULL)
		return;
	s_tables_forget(wh);
	free(wh->tables);
	wh->ops->close(wh);
	free(wh->url);
	free(wh);
	*self_p = NULL;
}

const char *
vs_wh_error(const vs_wh_t *wh)
{
	return wh->err;
}

int
vs_wh_begin(vs_wh_t *wh)
{
	return wh->ops->exec(wh, "BEGIN");
}

int
vs_wh_commit(vs_wh_t *wh)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < wh->ntables; i++) {
		vs_wh_table_t *t = wh->tables[i];
		char sql[256];
		if (t->rows == 0 || !t->created)
			continue;
		snprintf(sql, sizeof(sql), "CREATE INDEX IF NOT EXISTS \"%s_time\" ON \"%s\""
		    " (time_ns)", t->name, t->name);
		rc = wh->ops->exec(wh, sql);
	}
	if (rc == 0)
		rc = wh->ops->exec(wh, "COMMIT");

	for (size_t i = 0; i < wh->ntables; i++)
		wh->tables[i]->rows = 0;
	return rc;
}

int
vs_wh_rollback(vs_wh_t *wh)
{
	int rc = wh->ops->exec(wh, "ROLLBACK");

	/* the cached schema may describe columns the rollback removed */
	s_tables_forget(wh);
	return rc;
}

static int
s_id_fn(void *arg, int ncol, const char *const *vals)
{
	int64_t *id = arg;

	if (ncol >= 1 && vals[0] != NULL)
		*id = strtoll(vals[0], NULL, 10);
	return 0;
}

/* SELECT, else INSERT ... RETURNING: the id of a row named by params. */
static int
s_get_id(vs_wh_t *wh, const char *sel, const char *ins, const char *const *p, int n,
    int64_t *id_r)
{
	int64_t id = -1;
	int rc;

	rc = wh->ops->query(wh, sel, p, n, s_id_fn, &id);
	if (rc == 0 && id < 0)
		rc = wh->ops->query(wh, ins, p, n, s_id_fn, &id);
	if (rc == 0 && id < 0)
		rc = -EIO;
	if (rc == 0)
		*id_r = id;
	return rc;
}

int
vs_wh_run_id(vs_wh_t *wh, const char *run, int64_t *id_r)
{
	char now[24];
	const char *p[2] = { run, now };

	snprintf(now, sizeof(now), "%" PRId64, s_now_ns());
	return s_get_id(wh, "SELECT run_id FROM runs WHERE name = $1",
	    "INSERT INTO runs (name, created_ns) VALUES ($1, $2) RETURNING run_id", p, 2, id_r);
}

int
vs_wh_host_id(vs_wh_t *wh, const char *host, int64_t *id_r)
{
	const char *p[1] = { host };

	return s_get_id(wh, "SELECT host_id FROM hosts WHERE name = $1",
	    "INSERT INTO hosts (name) VALUES ($1) RETURNING host_id", p, 1, id_r);
}

int
vs_wh_source_id(vs_wh_t *wh, int64_t run_id, int64_t host_id, const char *kind,
    const char *path, int64_t *id_r)
{
	char r[24], h[24];
	const char *p[4] = { r, h, kind, path };

	snprintf(r, sizeof(r), "%" PRId64, run_id);
	snprintf(h, sizeof(h), "%" PRId64, host_id);
	return s_get_id(wh, "SELECT source_id FROM sources WHERE run_id = $1 AND host_id = $2"
	    " AND kind = $3 AND path = $4",
	    "INSERT INTO sources (run_id, host_id, kind, path) VALUES ($1, $2, $3, $4)"
	    " RETURNING source_id", p, 4, id_r);
}

int
vs_wh_load_begin(vs_wh_t *wh, int64_t source_id, int64_t *load_id_r)
{
	char s[24], now[24];
	const char *p[2] = { s, now };
	int64_t id = -1;
	int rc;

	snprintf(s, sizeof(s), "%" PRId64, source_id);
	snprintf(now, sizeof(now), "%" PRId64, s_now_ns());
	rc = wh->ops->query(wh, "INSERT INTO loads (source_id, started_ns, status)"
	    " VALUES ($1, $2, 'loading') RETURNING load_id", p, 2, s_id_fn, &id);
	if (rc == 0 && id < 0)
		rc = -EIO;
	if (rc == 0)
		*load_id_r = id;
	return rc;
}

int
vs_wh_load_end(vs_wh_t *wh, int64_t load_id, const vs_mload_result_t *res)
{
	char id[24], now[24], lines[24], rows[24], sk[24], un[24];
	const char *p[8] = { id, now, res->status, lines, rows, sk, un,
		res->error[0] != '\0' ? res->error : NULL };

	snprintf(id, sizeof(id), "%" PRId64, load_id);
	snprintf(now, sizeof(now), "%" PRId64, s_now_ns());
	snprintf(lines, sizeof(lines), "%" PRIu64, res->lines);
	snprintf(rows, sizeof(rows), "%" PRIu64, res->rows);
	snprintf(sk, sizeof(sk), "%" PRIu64, res->skipped);
	snprintf(un, sizeof(un), "%" PRIu64, res->unparsed);
	return wh->ops->query(wh, "UPDATE loads SET finished_ns = $2, status = $3, lines = $4,"
	    " rows = $5, skipped = $6, unparsed = $7, error = $8 WHERE load_id = $1",
	    p, 8, NULL, NULL);
}

struct s_cat {
	vs_wh_t *wh;
	vs_wh_table_t *t;
	int rc;
};

static int
s_col_append(vs_wh_table_t *t, const char *name, vs_mtype_t type)
{
	char **c;
	vs_mtype_t *ty;

	if (t->ncols >= VS_WH_MAX_COLS)
		return -E2BIG;
	c = realloc(t->cols, (t->ncols + 1) * sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	t->cols = c;
	ty = realloc(t->types, (t->ncols + 1) * sizeof(*ty));
	if (ty == NULL)
		return -ENOMEM;
	t->types = ty;
	if ((c[t->ncols] = strdup(name)) == NULL)
		return -ENOMEM;
	ty[t->ncols] = type;
	return (int)t->ncols++;
}

static int
s_cat_col(void *arg, int ncol, const char *const *vals)
{
	struct s_cat *c = arg;
	vs_mtype_t ty = VS_MT_TEXT;

	if (ncol < 2 || vals[0] == NULL || vals[1] == NULL)
		return 0;
	(void)vs_mtype_parse(vals[1], &ty);
	if (s_col_append(c->t, vals[0], ty) < 0)
		c->rc = -ENOMEM;
	return 0;
}

static int
s_cat_kind(void *arg, int ncol, const char *const *vals)
{
	struct s_cat *c = arg;

	if (ncol >= 1 && vals[0] != NULL) {
		free(c->t->kind);
		c->t->kind = strdup(vals[0]);
		c->t->created = 1;
	}
	return 0;
}

vs_wh_table_t *
vs_wh_table(vs_wh_t *wh, const char *name, const char *kind)
{
	vs_wh_table_t *t;
	struct s_cat cat = { wh, NULL, 0 };
	const char *p[1] = { name };

	for (size_t i = 0; i < wh->ntables; i++)
		if (strcmp(wh->tables[i]->name, name) == 0)
			return wh->tables[i];
	if (wh->ntables == wh->cap) {
		size_t cap = wh->cap ? wh->cap * 2 : 16;
		vs_wh_table_t **n = realloc(wh->tables, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		wh->tables = n;
		wh->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->name = strdup(name)) == NULL || (t->kind = strdup(kind)) == NULL) {
		if (t != NULL) {
			free(t->name);
			free(t);
		}
		return NULL;
	}
	cat.t = t;
	if (wh->ops->query(wh, "SELECT kind FROM mscope_tables WHERE name = $1", p, 1,
	    s_cat_kind, &cat) < 0 ||
	    wh->ops->query(wh, "SELECT name, type FROM mscope_columns WHERE table_name = $1"
	    " ORDER BY pos", p, 1, s_cat_col, &cat) < 0 || cat.rc < 0) {
		s_table_free(wh, t);
		return NULL;
	}
	wh->tables[wh->ntables++] = t;
	return t;
}

static int
s_quote_ident(char *out, size_t len, const char *name)
{
	/* names come from vs_mscope_colname or spec tables: [a-z0-9_] only */
	int n = snprintf(out, len, "\"%s\"", name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
s_create(vs_wh_t *wh, vs_wh_table_t *t)
{
	size_t cap = 256 + t->ncols * 96, off;
	char *sql = malloc(cap), q[160];
	const char *p[2] = { t->name, t->kind };
	int rc;

	if (sql == NULL)
		return -ENOMEM;
	if ((rc = s_quote_ident(q, sizeof(q), t->name)) < 0)
		goto out;
	off = (size_t)snprintf(sql, cap, "CREATE TABLE %s (load_id INTEGER NOT NULL,"
	    " host_id INTEGER, time_ns BIGINT", q);
	for (size_t i = 0; i < t->ncols; i++) {
		if ((rc = s_quote_ident(q, sizeof(q), t->cols[i])) < 0)
			goto out;
		off += (size_t)snprintf(sql + off, cap - off, ", %s %s", q,
		    wh->ops->sql_type(t->types[i]));
		while (off > 0 && sql[off - 1] == ' ')
			sql[--off] = '\0';
	}
	snprintf(sql + off, cap - off, ")");
	if ((rc = wh->ops->exec(wh, sql)) < 0)
		goto out;
	/* the time index is built at commit, once the rows are in (faster than row by row) */
	rc = wh->ops->query(wh, "INSERT INTO mscope_tables (name, kind) VALUES ($1, $2)", p, 2,
	    NULL, NULL);
	for (size_t i = 0; rc == 0 && i < t->ncols; i++) {
		char pos[24];
		const char *cp[4] = { t->name, t->cols[i], pos, vs_mtype_name(t->types[i]) };
		snprintf(pos, sizeof(pos), "%zu", i);
		rc = wh->ops->query(wh, "INSERT INTO mscope_columns (table_name, name, pos, type)"
		    " VALUES ($1, $2, $3, $4)", cp, 4, NULL, NULL);
	}
	if (rc == 0)
		t->created = 1;
out:
	free(sql);
	return rc;
}

int
vs_wh_column(vs_wh_t *wh, vs_wh_table_t *t, const char *name, vs_mtype_t first)
{
	char sql[512], qt[160], qc[160], pos[16];
	int i, rc;

	for (size_t k = 0; k < t->ncols; k++)
		if (strcmp(t->cols[k], name) == 0)
			return (int)k;
	if (first == VS_MT_NULL)
		first = VS_MT_INTEGER;
	i = s_col_append(t, name, first);
	if (i < 0 || !t->created)
		return i;
	/* a column that appears midway: the rows before it read NULL there */
	if ((rc = s_quote_ident(qt, sizeof(qt), t->name)) < 0 ||
	    (rc = s_quote_ident(qc, sizeof(qc), name)) < 0)
		return rc;
	snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", qt, qc,
	    wh->ops->sql_type(first));
	if ((rc = wh->ops->exec(wh, sql)) < 0)
		return rc;
	snprintf(pos, sizeof(pos), "%d", i);
	{
		const char *cp[4] = { t->name, name, pos, vs_mtype_name(first) };
		rc = wh->ops->query(wh, "INSERT INTO mscope_columns (table_name, name, pos, type)"
		    " VALUES ($1, $2, $3, $4)", cp, 4, NULL, NULL);
	}
	wh->ops->table_release(wh, t);
	return rc < 0 ? rc : i;
}

static int
s_widen(vs_wh_t *wh, vs_wh_table_t *t, size_t i, vs_mtype_t to)
{
	const char *p[3] = { t->name, t->cols[i], vs_mtype_name(to) };
	int rc;

	if (t->created) {
		rc = wh->ops->widen(wh, t, i, t->types[i], to);
		if (rc == 0)
			rc = wh->ops->query(wh, "UPDATE mscope_columns SET type = $3"
			    " WHERE table_name = $1 AND name = $2", p, 3, NULL, NULL);
		if (rc < 0)
			return rc;
	}
	t->types[i] = to;
	return 0;
}

int
vs_wh_insert(vs_wh_t *wh, vs_wh_table_t *t, int64_t load_id, int64_t host_id,
    int64_t time_ns, const vs_mvalue_t *vals)
{
	int rc;

	for (size_t i = 0; i < t->ncols; i++)
		if (vals[i].type > t->types[i] && (rc = s_widen(wh, t, i, vals[i].type)) < 0)
			return rc;
	if (!t->created && (rc = s_create(wh, t)) < 0)
		return rc;
	rc = wh->ops->insert(wh, t, load_id, host_id, time_ns, vals);
	if (rc == 0)
		t->rows++;
	return rc;
}

/* ---- reading ---- */

static int
s_ident_ok(const char *name)
{
	if (*name == '\0' || strlen(name) > 96)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

const vs_wh_table_t *
vs_wh_table_info(vs_wh_t *wh, const char *name, int *rc_r)
{
	vs_wh_table_t *t;

	if (!s_ident_ok(name)) {
		snprintf(wh->err, sizeof(wh->err), "bad table name \"%.64s\" (a-z, 0-9, _)", name);
		*rc_r = -EINVAL;
		return NULL;
	}
	t = vs_wh_table(wh, name, "event");
	if (t == NULL) {
		*rc_r = -EIO;
		return NULL;
	}
	if (!t->created) {
		snprintf(wh->err, sizeof(wh->err), "no table %s in the warehouse", name);
		*rc_r = -ENOENT;
		return NULL;
	}
	*rc_r = 0;
	return t;
}

struct s_sel {
	vs_wh_select_fn fn;
	void *arg;
	const vs_mtype_t *types;        /* the catalog type of each selected column */
};

static int
s_sel_row(void *arg, size_t ncol, const vs_mvalue_t *vals)
{
	struct s_sel *c = arg;
	vs_mvalue_t v[VS_WH_MAX_COLS + 3];

	if (ncol > VS_WH_MAX_COLS + 3)
		ncol = VS_WH_MAX_COLS + 3;
	for (size_t i = 0; i < ncol; i++) {
		v[i] = vals[i];
		if (c->types[i] == VS_MT_TIMESTAMP && v[i].type == VS_MT_INTEGER)
			v[i].type = VS_MT_TIMESTAMP;
		else if (c->types[i] == VS_MT_REAL && v[i].type == VS_MT_INTEGER) {
			v[i].type = VS_MT_REAL;
			v[i].d = (double)v[i].i;
		}
	}
	return c->fn(c->arg, ncol, v);
}

int
vs_wh_select(vs_wh_t *wh, const char *table, const vs_wh_window_t *w,
    vs_wh_select_fn fn, void *arg)
{
	static const char *const fixed[3] = { "load_id", "host_id", "time_ns" };
	static const vs_wh_window_t all = { NULL, INT64_MIN, INT64_MAX, NULL, 0 };
	const vs_wh_table_t *t;
	struct s_sel c = { fn, arg, NULL };
	vs_mtype_t *types = NULL;
	char *sql = NULL, from[24], to[24];
	const char *p[3];
	size_t n, cap, off;
	int np = 0, rc;

	if (w == NULL)
		w = &all;
	if ((t = vs_wh_table_info(wh, table, &rc)) == NULL)
		return rc;
	n = w->cols != NULL ? w->ncols : 3 + t->ncols;
	if (n == 0 || n > VS_WH_MAX_COLS + 3) {
		snprintf(wh->err, sizeof(wh->err), "%s: from 1 to %d columns", table,
		    VS_WH_MAX_COLS + 3);
		return -EINVAL;
	}
	cap = 256 + n * 104;
	types = calloc(n, sizeof(*types));
	sql = malloc(cap);
	if (types == NULL || sql == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	off = (size_t)snprintf(sql, cap, "SELECT ");
	for (size_t i = 0; i < n; i++) {
		const char *cn = w->cols != NULL ? w->cols[i] : i < 3 ? fixed[i] : t->cols[i - 3];
		size_t k;
		if (cn == NULL || !s_ident_ok(cn)) {
			snprintf(wh->err, sizeof(wh->err), "bad column name \"%.64s\" (a-z, 0-9, _)",
			    cn != NULL ? cn : "(null)");
			rc = -EINVAL;
			goto out;
		}
		if (strcmp(cn, "time_ns") == 0) {
			types[i] = VS_MT_TIMESTAMP;
		} else if (strcmp(cn, "load_id") == 0 || strcmp(cn, "host_id") == 0) {
			types[i] = VS_MT_INTEGER;
		} else {
			for (k = 0; k < t->ncols && strcmp(t->cols[k], cn) != 0; k++)
				;
			if (k == t->ncols) {
				snprintf(wh->err, sizeof(wh->err), "table %s has no column %s", table,
				    cn);
				rc = -ENOENT;
				goto out;
			}
			types[i] = t->types[k];
		}
		off += (size_t)snprintf(sql + off, cap - off, "%s\"%s\"", i ? ", " : "", cn);
	}
	off += (size_t)snprintf(sql + off, cap - off, " FROM \"%s\" WHERE 1 = 1", table);
	if (w->from_ns != INT64_MIN) {
		snprintf(from, sizeof(from), "%" PRId64, w->from_ns);
		p[np++] = from;
		off += (size_t)snprintf(sql + off, cap - off, " AND time_ns >= $%d", np);
	}
	if (w->to_ns != INT64_MAX) {
		snprintf(to, sizeof(to), "%" PRId64, w->to_ns);
		p[np++] = to;
		off += (size_t)snprintf(sql + off, cap - off, " AND time_ns < $%d", np);
	}
	if (w->run != NULL) {
		p[np++] = w->run;
		off += (size_t)snprintf(sql + off, cap - off, " AND load_id IN (SELECT l.load_id"
		    " FROM loads l JOIN sources s ON s.source_id = l.source_id JOIN runs r"
		    " ON r.run_id = s.run_id WHERE r.name = $%d)", np);
	}
	snprintf(sql + off, cap - off, " ORDER BY time_ns, load_id");
	c.types = types;
	rc = wh->ops->select(wh, sql, p, np, s_sel_row, &c);
out:
	free(sql);
	free(types);
	return rc;
}

int
vs_wh_tables(vs_wh_t *wh, const char *prefix, vs_wh_row_fn fn, void *arg)
{
	const char *p[1] = { prefix != NULL ? prefix : "" };

	/* substr, not LIKE: '_' in a prefix is a character, not a wildcard */
	return wh->ops->query(wh, "SELECT name, kind FROM mscope_tables WHERE"
	    " substr(name, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT) ORDER BY name", p, 1, fn, arg);
}

int
vs_wh_query(vs_wh_t *wh, const char *sql, const char *const *params, int n,
    vs_wh_row_fn fn, void *arg)
{
	return wh->ops->query(wh, sql, params, n, fn, arg);
}
