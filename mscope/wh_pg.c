/*
 * The PostgreSQL warehouse backend (libpq), selected by a postgresql:// URL. Rows are
 * buffered per table in COPY text format and sent with COPY ... FROM STDIN when a buffer
 * fills or before any other statement, inside the load's transaction: a lost connection
 * or a failed COPY aborts the transaction, so the server keeps the last committed state.
 * Columns are typed (BIGINT, DOUBLE PRECISION, TEXT); widening is ALTER COLUMN ... TYPE.
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

#include <libpq-fe.h>

#define S_CONN(wh) ((PGconn *)(wh)->bk)
#define S_FLUSH_AT (1u << 20)           /* bytes of COPY data per table before sending */

/* Pending COPY rows of one table. */
struct s_copy {
	char *buf;
	size_t len, cap;
	size_t ncols;                   /* the column count the rows were written for */
};

/* A libpq message on one line (no "ERROR:  " prefix, no trailing newline). */
static void
s_msg(char *out, size_t len, const char *m)
{
	size_t o = 0;

	if (m == NULL || *m == '\0')
		m = "unknown PostgreSQL error";
	if (strncmp(m, "ERROR:  ", 8) == 0)
		m += 8;
	for (; *m != '\0' && o + 1 < len; m++) {
		if (*m == '\n' || *m == '\t') {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		out[o++] = *m;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static int
s_err(vs_wh_t *wh, PGresult *r)
{
	const char *m = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (m == NULL || PQstatus(S_CONN(wh)) != CONNECTION_OK)
		m = PQerrorMessage(S_CONN(wh));
	s_msg(wh->err, sizeof(wh->err), m);
	if (PQstatus(S_CONN(wh)) != CONNECTION_OK)
		return -ECONNRESET;
	if (state != NULL && strncmp(state, "53", 2) == 0)     /* insufficient resources */
		return -ENOSPC;
	if (state != NULL && strcmp(state, "42P01") == 0)      /* undefined table */
		return -ENOENT;
	return -EIO;
}

static void
s_quiet(void *arg, const char *msg)
{
	/* NOTICEs ("relation already exists, skipping") are not errors */
	(void)arg;
	(void)msg;
}

static int
s_open(vs_wh_t *wh, const char *target, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(target);
	char m[400];

	if (c == NULL) {
		snprintf(err, errlen, "PostgreSQL: out of memory");
		return -ENOMEM;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		s_msg(m, sizeof(m), PQerrorMessage(c));
		snprintf(err, errlen, "cannot connect to the PostgreSQL warehouse: %s", m);
		PQfinish(c);
		return -ECONNREFUSED;
	}
	PQsetNoticeProcessor(c, s_quiet, NULL);
	wh->bk = c;
	{
		/* every value in UTF-8 and float8 printed exactly, whatever the server's defaults */
		PGresult *r = PQexec(c, "SET client_encoding = 'UTF8'; SET extra_float_digits = 3");
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			s_msg(m, sizeof(m), PQresultErrorMessage(r));
		PQclear(r);
		if (!ok) {
			snprintf(err, errlen, "PostgreSQL warehouse: %s", m);
			PQfinish(c);
			wh->bk = NULL;
			return -EIO;
		}
	}
	return 0;
}

static void
s_close(vs_wh_t *wh)
{
	for (size_t i = 0; i < wh->ntables; i++)
		if (wh->tables[i]->bk != NULL) {
			struct s_copy *cp = wh->tables[i]->bk;
			free(cp->buf);
			free(cp);
			wh->tables[i]->bk = NULL;
		}
	if (wh->bk != NULL)
		PQfinish(S_CONN(wh));
	wh->bk = NULL;
}

/* Sends t's pending rows with one COPY. */
static int
s_flush_table(vs_wh_t *wh, vs_wh_table_t *t)
{
	struct s_copy *cp = t->bk;
	PGresult *r;
	char *sql;
	size_t cap, off;
	int rc = 0;

	if (cp == NULL || cp->len == 0)
		return 0;
	cap = 128 + cp->ncols * 100;
	if ((sql = malloc(cap)) == NULL)
		return -ENOMEM;
	off = (size_t)snprintf(sql, cap, "COPY \"%s\" (load_id, host_id, time_ns", t->name);
	for (size_t i = 0; i < cp->ncols; i++)
		off += (size_t)snprintf(sql + off, cap - off, ", \"%s\"", t->cols[i]);
	snprintf(sql + off, cap - off, ") FROM STDIN");
	r = PQexec(S_CONN(wh), sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		rc = s_err(wh, r);
		PQclear(r);
		cp->len = 0;
		return rc;
	}
	PQclear(r);
	if (PQputCopyData(S_CONN(wh), cp->buf, (int)cp->len) != 1 ||
	    PQputCopyEnd(S_CONN(wh), NULL) != 1) {
		rc = s_err(wh, NULL);
		cp->len = 0;
		return rc;
	}
	cp->len = 0;
	while ((r = PQgetResult(S_CONN(wh))) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = s_err(wh, r);
		PQclear(r);
	}
	if (rc == 0 && PQstatus(S_CONN(wh)) != CONNECTION_OK)
		rc = s_err(wh, NULL);
	return rc;
}

static int
s_flush(vs_wh_t *wh)
{
	int rc = 0;

	for (size_t i = 0; i < wh->ntables; i++) {
		int r = s_flush_table(wh, wh->tables[i]);
		if (rc == 0)
			rc = r;
	}
	return rc;
}

static void
s_discard(vs_wh_t *wh)
{
	for (size_t i = 0; i < wh->ntables; i++)
		if (wh->tables[i]->bk != NULL)
			((struct s_copy *)wh->tables[i]->bk)->len = 0;
}

static int
s_exec(vs_wh_t *wh, const char *sql)
{
	PGresult *r;
	int rc;

	if (strcmp(sql, "ROLLBACK") == 0)
		s_discard(wh);          /* the rows go with the transaction */
	else if ((rc = s_flush(wh)) < 0)
		return rc;
	r = PQexec(S_CONN(wh), sql);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK
	    ? 0 : s_err(wh, r);
	PQclear(r);
	return rc;
}

/* The highest "$N" in sql: callers may pass more parameters than a statement uses (as
 * SQLite allows), PostgreSQL wants exactly as many. */
static int
s_nparams(const char *sql)
{
	int max = 0;

	for (const char *p = strchr(sql, '$'); p != NULL; p = strchr(p + 1, '$')) {
		int v = 0;
		for (const char *d = p + 1; *d >= '0' && *d <= '9' && v < 10000; d++)
			v = v * 10 + (*d - '0');
		if (v > max)
			max = v;
	}
	return max;
}

static PGresult *
s_run(vs_wh_t *wh, const char *sql, const char *const *params, int n, int *rc_r)
{
	PGresult *r;

	if ((*rc_r = s_flush(wh)) < 0)
		return NULL;
	if (s_nparams(sql) < n)
		n = s_nparams(sql);
	r = PQexecParams(S_CONN(wh), sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		*rc_r = s_err(wh, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

static int
s_query(vs_wh_t *wh, const char *sql, const char *const *params, int n, vs_wh_row_fn fn,
    void *arg)
{
	PGresult *r = s_run(wh, sql, params, n, &n);
	int nc, rc = 0;

	if (r == NULL)
		return n;
	nc = PQnfields(r);
	if (nc > 16)
		nc = 16;
	for (int row = 0; fn != NULL && rc == 0 && row < PQntuples(r); row++) {
		const char *vals[16];
		for (int i = 0; i < nc; i++)
			vals[i] = PQgetisnull(r, row, i) ? NULL : PQgetvalue(r, row, i);
		rc = fn(arg, nc, vals);
	}
	PQclear(r);
	return rc;
}

static int
s_select(vs_wh_t *wh, const char *sql, const char *const *params, int n,
    vs_wh_select_fn fn, void *arg)
{
	PGresult *r = s_run(wh, sql, params, n, &n);
	vs_mvalue_t *v;
	int nc, rc = 0;

	if (r == NULL)
		return n;
	nc = PQnfields(r);
	if ((v = calloc((size_t)nc + 1, sizeof(*v))) == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int row = 0; rc == 0 && row < PQntuples(r); row++) {
		for (int i = 0; i < nc; i++) {
			const char *s = PQgetvalue(r, row, i);
			switch (PQgetisnull(r, row, i) ? 0 : PQftype(r, i)) {
			case 0:
				v[i].type = VS_MT_NULL;
				break;
			case 20: case 21: case 23:              /* int8, int2, int4 */
				v[i].type = VS_MT_INTEGER;
				v[i].i = strtoll(s, NULL, 10);
				break;
			case 700: case 701: case 1700:          /* float4, float8, numeric */
				v[i].type = VS_MT_REAL;
				v[i].d = strtod(s, NULL);
				break;
			default:
				v[i].type = VS_MT_TEXT;
				v[i].s = s;
				v[i].n = (size_t)PQgetlength(r, row, i);
			}
		}
		rc = fn(arg, (size_t)nc, v);
	}
	free(v);
	PQclear(r);
	return rc;
}

static const char *
s_sql_type(vs_mtype_t t)
{
	switch (t) {
	case VS_MT_REAL:
		return "DOUBLE PRECISION";
	case VS_MT_TEXT:
		return "TEXT";
	default:
		return "BIGINT";        /* integer, timestamp (ns), a column not seen yet */
	}
}

static int
s_widen(vs_wh_t *wh, vs_wh_table_t *t, size_t col, vs_mtype_t from, vs_mtype_t to)
{
	char sql[512];
	const char *ty = s_sql_type(to);

	if (strcmp(ty, s_sql_type(from)) == 0)
		return 0;
	snprintf(sql, sizeof(sql), "ALTER TABLE \"%s\" ALTER COLUMN \"%s\" TYPE %s USING"
	    " \"%s\"::%s", t->name, t->cols[col], ty, t->cols[col], ty);
	return s_exec(wh, sql);
}

static void
s_table_release(vs_wh_t *wh, vs_wh_table_t *t)
{
	struct s_copy *cp = t->bk;

	(void)wh;
	if (cp == NULL)
		return;
	free(cp->buf);
	free(cp);
	t->bk = NULL;
}

static int
s_reserve(struct s_copy *cp, size_t more)
{
	if (cp->len + more > cp->cap) {
		size_t cap = cp->cap ? cp->cap : 64 * 1024;
		char *nb;
		while (cap < cp->len + more)
			cap *= 2;
		if ((nb = realloc(cp->buf, cap)) == NULL)
			return -ENOMEM;
		cp->buf = nb;
		cp->cap = cap;
	}
	return 0;
}

static char *
s_i64(char *p, int64_t v)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (v < 0)
		*p++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* The length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
s_utf8(const unsigned char *s, size_t n)
{
	size_t k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((k == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (k == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (k == 4 && s[0] == 0xf0 && s[1] < 0x90) || (k == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return k;
}

/* Text in COPY's escaped form; bytes that are not UTF-8 become U+FFFD (the database
 * is UTF-8: one bad byte in a URL must not fail the load). */
static char *
s_text(char *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k;
		if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
			*p++ = '\\';
			*p++ = c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
			i++;
		} else if ((k = s_utf8((const unsigned char *)s + i, n - i)) > 0) {
			memcpy(p, s + i, k);
			p += k;
			i += k;
		} else {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
			i++;
		}
	}
	return p;
}

static int
s_insert(vs_wh_t *wh, vs_wh_table_t *t, int64_t load_id, int64_t host_id, int64_t time_ns,
    const vs_mvalue_t *vals)
{
	struct s_copy *cp = t->bk;
	size_t need = 3 * 24 + 4;
	char *p;
	int rc;

	if (cp != NULL && cp->ncols != t->ncols && (rc = s_flush_table(wh, t)) < 0)
		return rc;
	if (cp == NULL) {
		if ((cp = calloc(1, sizeof(*cp))) == NULL)
			return -ENOMEM;
		t->bk = cp;
	}
	cp->ncols = t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		const vs_mvalue_t *v = &vals[i];
		/* text is written as text; so is a number in a text column (the same bytes) */
		int text = v->type == VS_MT_TEXT || ((v->type == VS_MT_INTEGER ||
		    v->type == VS_MT_REAL) && t->types[i] == VS_MT_TEXT && v->s != NULL);
		need += 32 + (text ? v->n * 3 : 0);
	}
	if ((rc = s_reserve(cp, need)) < 0)
		return rc;
	p = cp->buf + cp->len;
	p = s_i64(p, load_id);
	*p++ = '\t';
	p = s_i64(p, host_id);
	*p++ = '\t';
	if (time_ns == INT64_MIN) {
		memcpy(p, "\\N", 2);
		p += 2;
	} else {
		p = s_i64(p, time_ns);
	}
	for (size_t i = 0; i < t->ncols; i++) {
		const vs_mvalue_t *v = &vals[i];
		vs_mtype_t ct = t->types[i];
		*p++ = '\t';
		if ((v->type == VS_MT_INTEGER || v->type == VS_MT_REAL) && ct == VS_MT_TEXT &&
		    v->s != NULL) {
			p = s_text(p, v->s, v->n);      /* the number as written */
			continue;
		}
		switch (v->type) {
		case VS_MT_INTEGER:
		case VS_MT_TIMESTAMP:
			p = s_i64(p, v->i);
			break;
		case VS_MT_REAL:
			p += snprintf(p, 32, "%.17g", v->d);
			break;
		case VS_MT_TEXT:
			p = s_text(p, v->s, v->n);
			break;
		default:
			memcpy(p, "\\N", 2);
			p += 2;
		}
	}
	*p++ = '\n';
	cp->len = (size_t)(p - cp->buf);
	return cp->len >= S_FLUSH_AT ? s_flush_table(wh, t) : 0;
}

const struct vs_wh_ops vs_wh_pg_ops = {
	.name = "postgresql",
	.open = s_open,
	.close = s_close,
	.exec = s_exec,
	.query = s_query,
	.sql_type = s_sql_type,
	.widen = s_widen,
	.insert = s_insert,
	.table_release = s_table_release,
	.select = s_select,
	.id_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
};
