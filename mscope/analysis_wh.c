/*
 * Filling the analyses' input (analysis.h) from a warehouse (wh.h): an event table as a
 * tier, a resource table as series. Plain SQL through the backend's query op, so both
 * backends serve it; at most 16 result columns per query (the row callback's bound).
 */
#include "analysis.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_RUN_FILTER " load_id IN (SELECT l.load_id FROM loads l JOIN sources s" \
	" ON s.source_id = l.source_id JOIN runs r ON r.run_id = s.run_id WHERE r.name = $1)"
#define S_MAX_COLS 256
#define S_TLIM (INT64_C(1) << 62)
#define S_BATCH 13                      /* metric columns per query: 16 minus host, time, key */

typedef struct s_cols {
	size_t n;
	char name[S_MAX_COLS][64];
	vs_mtype_t type[S_MAX_COLS];
} s_cols_t;

static int
s_col_fn(void *arg, int ncol, const char *const *vals)
{
	s_cols_t *c = arg;

	if (ncol < 2 || vals[0] == NULL || vals[1] == NULL || c->n >= S_MAX_COLS)
		return 0;
	snprintf(c->name[c->n], sizeof(c->name[0]), "%s", vals[0]);
	if (vs_mtype_parse(vals[1], &c->type[c->n]) < 0)
		c->type[c->n] = VS_MT_TEXT;
	c->n++;
	return 0;
}

static int
s_columns(vs_wh_t *wh, const char *table, s_cols_t *c, char *err, size_t errlen)
{
	const char *p[1] = { table };
	int rc;

	c->n = 0;
	rc = wh->ops->query(wh, "SELECT name, type FROM mscope_columns WHERE table_name = $1"
	    " ORDER BY pos", p, 1, s_col_fn, c);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", table, vs_wh_error(wh));
		return rc;
	}
	if (c->n == 0) {
		snprintf(err, errlen, "no table '%s' in the warehouse", table);
		return -ENOENT;
	}
	return 0;
}

static const char *
s_pick(const s_cols_t *c, const char *const *names, int numeric)
{
	for (size_t k = 0; names[k] != NULL; k++)
		for (size_t i = 0; i < c->n; i++)
			if (strcmp(c->name[i], names[k]) == 0 &&
			    (!numeric || c->type[i] != VS_MT_TEXT))
				return c->name[i];
	return NULL;
}

/* The scale of a duration column to ns from its suffix. */
static double
s_unit(const char *col)
{
	size_t n = strlen(col);

	if (n > 3 && strcmp(col + n - 3, "_us") == 0)
		return 1e3;
	if (n > 3 && strcmp(col + n - 3, "_ms") == 0)
		return 1e6;
	return 1e9;
}

typedef struct s_tier_ctx {
	vs_mtier_t *t;
	double dscale, uscale;
	int has_begin, has_dur, has_up;
	int from_begin;                 /* the time column is the begin (plus the duration) */
	int rc;
} s_tier_ctx_t;

static int
s_i64(const char *s, int64_t *v)
{
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '.'))
		return -1;
	return 0;
}

static int
s_dbl(const char *s, double *v)
{
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	*v = strtod(s, &end);
	return end == s || *v != *v ? -1 : 0;
}

static int
s_tier_row(void *arg, int ncol, const char *const *vals)
{
	s_tier_ctx_t *x = arg;
	int64_t b = INT64_MIN, e = INT64_MIN, ds = INT64_MIN;
	double d;
	int rc;

	if (ncol < 4)
		return 0;
	if (s_i64(vals[2], &e) < 0)
		e = INT64_MIN;
	if (x->has_begin) {
		if (s_i64(vals[1], &b) < 0)
			b = INT64_MIN;
	} else if (e != INT64_MIN && (e > S_TLIM || e < -S_TLIM)) {
		e = INT64_MIN;          /* beyond any log's time: dropped, no overflow */
	} else if (e != INT64_MIN && s_dbl(vals[1], &d) == 0 && d >= 0 && d < 1e15 / x->dscale) {
		if (x->from_begin) {    /* the time is when the request began */
			b = e;
			e = b + (int64_t)(d * x->dscale + 0.5);
		} else {
			b = e - (int64_t)(d * x->dscale + 0.5);
		}
	} else if (x->from_begin) {
		e = INT64_MIN;          /* a begin without a duration: no end */
	}
	/* an upstream time: "0.012", "0.010, 0.002" (retries: the last), "-" */
	if (x->has_up && e != INT64_MIN && vals[3] != NULL) {
		const char *u = strrchr(vals[3], ',');
		u = u != NULL ? u + 1 : vals[3];
		while (*u == ' ' || *u == ':')
			u++;
		if (s_dbl(u, &d) == 0 && d >= 0 && d < 1e15 / x->uscale)
			ds = e - (int64_t)(d * x->uscale + 0.5);
	}
	rc = vs_mana_tier_add(x->t, vals[0], vals[0] && strcmp(vals[0], "-") != 0 ?
	    strlen(vals[0]) : 0, b, e, ds);
	if (rc < 0) {
		x->rc = rc;
		return rc;
	}
	return 0;
}

int
vs_mana_load_tier(vs_wh_t *wh, const char *run, const char *name, const char *table,
    vs_mana_input_t *in, char *err, size_t errlen)
{
	static const char *const ids[] = { "req_id", "request_id", "rid", "id", NULL };
	static const char *const begins[] = { "begin_time", "begin_ns", NULL };
	static const char *const ends[] = { "end_time", "end_ns", NULL };
	static const char *const durs[] = { "duration_us", "duration_ms", "duration_s", NULL };
	static const char *const ups[] = { "upstream_us", "upstream_ms", "upstream_s", NULL };
	s_cols_t *c = NULL;
	s_tier_ctx_t x = { 0 };
	const char *id, *bc, *ec, *dc, *uc, *p[1] = { run };
	char sql[1024];
	vs_mtier_t *t;
	int rc;

	if (in->ntiers >= VS_MANA_MAX_TIERS) {
		snprintf(err, errlen, "at most %d tiers", VS_MANA_MAX_TIERS);
		return -E2BIG;
	}
	if (strlen(table) >= 64 || strlen(name) >= 64 || strchr(table, '"') != NULL) {
		snprintf(err, errlen, "bad tier '%s=%s': names are under 64 bytes", name, table);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	rc = s_columns(wh, table, c, err, errlen);
	if (rc < 0)
		goto out;
	id = s_pick(c, ids, 0);
	bc = s_pick(c, begins, 1);
	ec = s_pick(c, ends, 1);
	dc = s_pick(c, durs, 1);
	uc = s_pick(c, ups, 0);
	if (id == NULL) {
		snprintf(err, errlen, "table '%s' has no request ID column (req_id, request_id,"
		    " rid or id)", table);
		rc = -EINVAL;
		goto out;
	}
	if ((bc == NULL || ec == NULL) && dc == NULL) {
		snprintf(err, errlen, "table '%s' has neither begin_time and end_time nor a"
		    " duration column (duration_us, duration_ms, duration_s)", table);
		rc = -EINVAL;
		goto out;
	}
	x.has_begin = bc != NULL && ec != NULL;
	/* a begin and a duration; or only a duration, in Apache's log, whose %t is when the
	 * request was received (nginx's and PostgreSQL's times are when it ended) */
	x.from_begin = !x.has_begin && (bc != NULL || (ec == NULL &&
	    strncmp(table, "apache", 6) == 0));
	x.has_up = uc != NULL;
	x.dscale = dc ? s_unit(dc) : 1;
	x.uscale = uc ? s_unit(uc) : 1;
	snprintf(sql, sizeof(sql), "SELECT \"%s\", \"%s\", \"%s\", %s%s%s FROM \"%s\"%s ORDER BY"
	    " time_ns", id, x.has_begin ? bc : dc,
	    x.has_begin ? ec : ec ? ec : bc ? bc : "time_ns",
	    uc ? "\"" : "", uc ? uc : "NULL", uc ? "\"" : "", table,
	    run ? " WHERE" S_RUN_FILTER : "");
	t = &in->tiers[in->ntiers];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->table, sizeof(t->table), "%s", table);
	x.t = t;
	in->ntiers++;
	rc = wh->ops->query(wh, sql, p, run ? 1 : 0, s_tier_row, &x);
	if (x.rc < 0) {
		rc = x.rc;
		snprintf(err, errlen, "%s: %s", table, rc == -E2BIG ? "too many rows" :
		    strerror(-rc));
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: %s", table, vs_wh_error(wh));
	}
out:
	free(c);
	return rc;
}

typedef struct s_res_ctx {
	vs_mana_input_t *in;
	const char *table;
	const s_cols_t *c;
	const size_t *cols;             /* the batch's metric columns */
	size_t ncols;
	int haskey;
	size_t last[S_BATCH];           /* index + 1 of the series of the row before */
	int rc;
} s_res_ctx_t;

static int
s_res_row(void *arg, int ncol, const char *const *vals)
{
	s_res_ctx_t *x = arg;
	const char *host = vals[0] ? vals[0] : "unknown", *key = x->haskey && vals[2] ? vals[2]
	    : "";
	int64_t t;
	double v;

	if (ncol < 3 + (int)x->ncols || s_i64(vals[1], &t) < 0)
		return 0;
	for (size_t i = 0; i < x->ncols; i++) {
		vs_mseries_t *s = x->last[i] ? &x->in->series[x->last[i] - 1] : NULL;
		int rc;
		if (s_dbl(vals[3 + i], &v) < 0)
			continue;
		if (s == NULL || strcmp(s->host, host) != 0 || strcmp(s->key, key) != 0) {
			s = vs_mana_series(x->in, x->table, x->c->name[x->cols[i]], key, host);
			if (s == NULL) {
				x->rc = -errno;
				return x->rc;
			}
			x->last[i] = (size_t)(s - x->in->series) + 1;
		}
		rc = vs_mana_series_add(x->in, s, t, v);
		if (rc < 0) {
			x->rc = rc;
			return rc;
		}
	}
	return 0;
}

static int
s_keycol(const char *name)
{
	return strcmp(name, "cpu") == 0 || strcmp(name, "tty") == 0 || strcmp(name, "line") == 0
	    || strcmp(name, "tty_line") == 0;
}

int
vs_mana_load_resource(vs_wh_t *wh, const char *run, const char *table, vs_mana_input_t *in,
    char *err, size_t errlen)
{
	s_cols_t *c = calloc(1, sizeof(*c));
	size_t metric[S_MAX_COLS], nm = 0;
	char key[2048] = "", sql[4096];
	const char *p[1] = { run };
	int rc;

	if (c == NULL)
		return -ENOMEM;
	if (strchr(table, '"') != NULL || strlen(table) >= 64) {
		snprintf(err, errlen, "bad table name '%s'", table);
		rc = -EINVAL;
		goto out;
	}
	rc = s_columns(wh, table, c, err, errlen);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		/* text columns, and a number naming a CPU or line (sadf -d's CPU -1, 0, 1),
		 * are the key; a NULL in one is empty, not a NULL key that merges series */
		if (c->type[i] == VS_MT_TEXT || (c->type[i] == VS_MT_INTEGER &&
		    s_keycol(c->name[i]))) {
			size_t l = strlen(key);
			if ((size_t)snprintf(key + l, sizeof(key) - l, "%sCOALESCE(CAST(\"%s\" AS"
			    " TEXT), '')", l ? " || '/' || " : "", c->name[i]) >= sizeof(key) - l) {
				snprintf(err, errlen, "%s: too many key columns", table);
				rc = -E2BIG;
				goto out;
			}
		} else if (c->type[i] == VS_MT_INTEGER || c->type[i] == VS_MT_REAL) {
			metric[nm++] = i;
		}
	}
	for (size_t b = 0; b < nm; b += S_BATCH) {
		s_res_ctx_t x = { .in = in, .table = table, .c = c, .cols = metric + b,
		    .ncols = nm - b < S_BATCH ? nm - b : S_BATCH, .haskey = key[0] != '\0' };
		size_t l = (size_t)snprintf(sql, sizeof(sql), "SELECT h.name, t.time_ns, %s",
		    key[0] ? key : "NULL");
		for (size_t i = 0; i < x.ncols && l < sizeof(sql); i++)
			l += (size_t)snprintf(sql + l, sizeof(sql) - l, ", t.\"%s\"",
			    c->name[metric[b + i]]);
		if (l < sizeof(sql))
			l += (size_t)snprintf(sql + l, sizeof(sql) - l, " FROM \"%s\" t LEFT JOIN hosts"
			    " h ON h.host_id = t.host_id WHERE t.time_ns IS NOT NULL%s ORDER BY"
			    " t.time_ns", table, run ? " AND t." S_RUN_FILTER : "");
		if (l >= sizeof(sql)) {
			snprintf(err, errlen, "%s: too many key columns", table);
			rc = -E2BIG;
			goto out;
		}
		rc = wh->ops->query(wh, sql, p, run ? 1 : 0, s_res_row, &x);
		if (x.rc < 0) {
			rc = x.rc;
			snprintf(err, errlen, "%s: %s", table, rc == -E2BIG ?
			    "too many resource series or samples" : strerror(-rc));
			goto out;
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", table, vs_wh_error(wh));
			goto out;
		}
	}
out:
	free(c);
	return rc;
}

typedef struct s_names {
	char **v;
	size_t n, cap;
	int rc;
} s_names_t;

static int
s_name_fn(void *arg, int ncol, const char *const *vals)
{
	s_names_t *x = arg;

	if (ncol < 1 || vals[0] == NULL)
		return 0;
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 16;
		char **nv = realloc(x->v, nc * sizeof(*nv));
		if (nv == NULL)
			return x->rc = -ENOMEM;
		x->v = nv;
		x->cap = nc;
	}
	if ((x->v[x->n] = strdup(vals[0])) == NULL)
		return x->rc = -ENOMEM;
	x->n++;
	return 0;
}

int
vs_mana_tables(vs_wh_t *wh, const char *kind, char ***names_r, size_t *n_r)
{
	s_names_t x = { 0 };
	const char *p[1] = { kind };
	int rc = wh->ops->query(wh, "SELECT name FROM mscope_tables WHERE kind = $1 ORDER BY"
	    " name", p, 1, s_name_fn, &x);

	if (x.rc < 0)
		rc = x.rc;
	if (rc < 0) {
		for (size_t i = 0; i < x.n; i++)
			free(x.v[i]);
		free(x.v);
		return rc;
	}
	*names_r = x.v;
	*n_r = x.n;
	return 0;
}
