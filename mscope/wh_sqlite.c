/*
 * The SQLite warehouse backend: one file, WAL journal, prepared inserts kept per table.
 * SQLite keeps each value's own storage class, so widening a column's type is a catalog
 * change only (done by wh.c).
 */
#include "wh.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

struct s_ins;

/*
 * The connection, and a writer thread that steps full batches of rows (below) while the
 * caller parses the next ones. The two never use the database at the same time: the
 * writer holds at most one batch, and every other use of the database first waits until
 * it has none (s_wait_idle).
 */
struct s_conn {
	sqlite3 *db;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thr;
	int started, stop;
	struct s_ins *job;      /* the batch being written, NULL when idle */
	int jbuf;
	size_t jrows;
	int rc;                 /* the writer's first error not yet reported, and why */
	char err[512];
};

#define S_CONN(wh) ((struct s_conn *)(wh)->bk)
#define S_DB(wh) (S_CONN(wh)->db)

static int
s_code(int src)
{
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
s_err(vs_wh_t *wh, int src)
{
	snprintf(wh->err, sizeof(wh->err), "%s", sqlite3_errmsg(S_DB(wh)));
	return s_code(src);
}

static int
s_open(vs_wh_t *wh, const char *target, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	struct s_conn *c = calloc(1, sizeof(*c));
	/* one thread at a time per handle (the writer takes turns with the caller) */
	int rc = c == NULL ? SQLITE_NOMEM : sqlite3_open_v2(target, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", target, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		free(c);
		return -EIO;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->db = db;
	wh->bk = c;
	sqlite3_busy_timeout(db, 5000);
	/*
	 * A file that is not a database fails here, with SQLite's own words.
	 * Crash safety: every load is one transaction in a write-ahead log, so a killed
	 * ingest leaves the last committed state (the WAL frames of an uncommitted
	 * transaction are ignored on the next open). synchronous=NORMAL syncs the log at
	 * checkpoints, not at each commit: a power cut may lose the last commits, never
	 * leave a half-written one; a killed process loses nothing committed (the kernel
	 * has the writes). synchronous=OFF would allow a corrupt file after a power cut.
	 * Speed: 64 KiB pages (a new file only: page_size is a no-op once the file has
	 * tables) cut the b-tree and WAL work per row of a bulk load by a third; a 64 MiB
	 * page cache keeps a load's index build in memory.
	 */
	rc = sqlite3_exec(db, "PRAGMA page_size=65536; PRAGMA journal_mode=WAL;"
	    " PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", target, sqlite3_errmsg(db));
		sqlite3_close(db);
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
		wh->bk = NULL;
		return -EBADMSG;
	}
	return 0;
}

static void
s_close(vs_wh_t *wh)
{
	struct s_conn *c = S_CONN(wh);

	if (c == NULL)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thr, NULL);
	}
	sqlite3_close(c->db);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	wh->bk = NULL;
}

static int s_flush_all(vs_wh_t *wh);
static void s_drop_all(vs_wh_t *wh);

static int
s_exec(vs_wh_t *wh, const char *sql)
{
	int rc;

	if (strncmp(sql, "ROLLBACK", 8) == 0)
		s_drop_all(wh);
	else if ((rc = s_flush_all(wh)) < 0)
		return rc;
	rc = sqlite3_exec(S_DB(wh), sql, NULL, NULL, NULL);

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

	if ((r = s_flush_all(wh)) < 0 || (r = s_prepare_bind(wh, sql, params, n, &st)) < 0)
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

	if ((r = s_flush_all(wh)) < 0 || (r = s_prepare_bind(wh, sql, params, n, &st)) < 0)
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

/*
 * Inserts are batched: a row is kept (its text copied) until S_BUF_BATCHES * S_BATCH rows of
 * its table are pending, then multi-row INSERTs write them S_BATCH at a time (one statement
 * step for S_BATCH rows costs far less than S_BATCH steps), on the writer thread while the
 * caller goes on with the table's other buffer. Anything else that touches the database (exec, query, select,
 * widen, a schema change) first waits for the writer and writes the pending rows of every
 * table, so reads, DDL, COMMIT and type widening see the rows in the order they were
 * inserted, with the values a row-by-row insert would have stored. ROLLBACK drops them.
 * The writer's error is returned by the next call that waits for it.
 */
#define S_BATCH 64
/* Statements a buffer holds, so the writer thread is woken once for that many. */
#define S_BUF_BATCHES 4
/* A multi-row statement is prepared for a table once it has this many rows in the load:
 * preparing (and, after each new table, re-preparing) one costs as much as a few hundred
 * single-row steps, more than batching saves on a small table (sar -A has dozens). */
#define S_BATCH_AFTER 512

typedef struct s_bval {
	int kind;               /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_NULL */
	int n;                  /* text: length */
	union {
		int64_t i;
		double d;
		size_t off;     /* text: offset in the arena */
	} u;
} s_bval_t;

struct s_ins {
	sqlite3_stmt *st;       /* one row */
	sqlite3_stmt *stb;      /* nbatch rows (NULL: not yet, or batching off) */
	size_t ncols;           /* the column count they were prepared for */
	size_t nbatch;
	size_t nbuf;            /* rows a buffer holds: S_BUF_BATCHES * nbatch */
	uint64_t seen;          /* rows written through it */
	/* two buffers: the caller fills cur while the writer may write the other */
	int cur;
	size_t pending;         /* rows kept in buffer cur */
	s_bval_t *vals[2];      /* nbuf * (3 + ncols) each */
	char *arena[2];         /* their text */
	size_t alen[2], acap[2];
};

static int s_prepare_rows(vs_wh_t *wh, vs_wh_table_t *t, size_t ncols, size_t nrows,
    sqlite3_stmt **st_r);

/* Binds row r of buffer b to st from parameter base + 1 on. */
static void
s_bind_row(struct s_ins *ins, int b, sqlite3_stmt *st, size_t r, int base)
{
	const s_bval_t *v = &ins->vals[b][r * (3 + ins->ncols)];

	for (size_t i = 0; i < 3 + ins->ncols; i++) {
		int c = base + (int)i + 1;
		switch (v[i].kind) {
		case SQLITE_INTEGER:
			sqlite3_bind_int64(st, c, v[i].u.i);
			break;
		case SQLITE_FLOAT:
			sqlite3_bind_double(st, c, v[i].u.d);
			break;
		case SQLITE_TEXT:
			/* the arena is not touched before the step that copies it; the binding
			 * stays until the next write rebinds every parameter */
			sqlite3_bind_text(st, c, ins->arena[b] + v[i].u.off, v[i].n, SQLITE_STATIC);
			break;
		default:
			sqlite3_bind_null(st, c);
		}
	}
}

/* Writes rows [0, n) of buffer b: full batches with the multi-row statement, the rest
 * (and, when a batch fails, its rows up to the failing one) one by one. On the writer
 * thread, or on the caller's when the writer is idle. 0, or -errno with the reason in err. */
static int
s_write_rows(sqlite3 *db, struct s_ins *ins, int b, size_t n, char *err, size_t errlen)
{
	size_t r = 0;
	int rc;

	while (ins->stb != NULL && n - r >= ins->nbatch) {
		for (size_t k = 0; k < ins->nbatch; k++)
			s_bind_row(ins, b, ins->stb, r + k, (int)(k * (3 + ins->ncols)));
		rc = sqlite3_step(ins->stb);
		sqlite3_reset(ins->stb);
		if (rc != SQLITE_DONE) {
			/* the statement wrote none of them: row by row up to the failing one, as
			 * long as the transaction is still open (an I/O error may have rolled it
			 * back, and a row must not then commit on its own) */
			if (sqlite3_get_autocommit(db)) {
				snprintf(err, errlen, "%s", sqlite3_errmsg(db));
				return s_code(rc);
			}
			break;
		}
		r += ins->nbatch;
	}
	for (; r < n; r++) {
		s_bind_row(ins, b, ins->st, r, 0);
		rc = sqlite3_step(ins->st);
		sqlite3_reset(ins->st);
		if (rc != SQLITE_DONE) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
			return s_code(rc);
		}
	}
	return 0;
}

static void *
s_writer(void *arg)
{
	struct s_conn *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct s_ins *ins;
		int rc, b;
		size_t n;
		while (c->job == NULL && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->job == NULL)
			break;
		ins = c->job;
		b = c->jbuf;
		n = c->jrows;
		pthread_mutex_unlock(&c->mu);
		/* c->err is the writer's while it has a job (the caller reads it once idle) */
		rc = s_write_rows(c->db, ins, b, n, c->err, sizeof(c->err));
		pthread_mutex_lock(&c->mu);
		if (rc < 0 && c->rc == 0)
			c->rc = rc;
		c->job = NULL;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Waits until the writer has no batch; its error (the reason in wh->err), once. */
static int
s_wait_idle(vs_wh_t *wh)
{
	struct s_conn *c = S_CONN(wh);
	int rc;

	if (!c->started)
		return 0;
	pthread_mutex_lock(&c->mu);
	while (c->job != NULL)
		pthread_cond_wait(&c->cv, &c->mu);
	rc = c->rc;
	c->rc = 0;
	if (rc < 0)
		snprintf(wh->err, sizeof(wh->err), "%s", c->err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Writes t's pending rows now (the writer idle). */
static int
s_flush(vs_wh_t *wh, vs_wh_table_t *t)
{
	struct s_ins *ins = t->bk;
	int rc = s_wait_idle(wh), b;

	if (ins == NULL || ins->pending == 0 || rc < 0) {
		if (ins != NULL && rc < 0) {
			ins->pending = 0;
			ins->alen[ins->cur] = 0;
		}
		return rc;
	}
	b = ins->cur;
	ins->seen += ins->pending;
	if (ins->stb == NULL && ins->nbatch > 1 && ins->seen >= S_BATCH_AFTER &&
	    s_prepare_rows(wh, t, ins->ncols, ins->nbatch, &ins->stb) < 0)
		ins->stb = NULL;        /* row by row, then */
	rc = s_write_rows(S_DB(wh), ins, b, ins->pending, wh->err, sizeof(wh->err));
	ins->pending = 0;
	ins->alen[b] = 0;
	return rc;
}

/* A full buffer cur: to the writer (started on first use), and the caller goes on with
 * the other buffer; written here when there is no multi-row statement or no thread. */
static int
s_hand_off(vs_wh_t *wh, vs_wh_table_t *t)
{
	struct s_conn *c = S_CONN(wh);
	struct s_ins *ins = t->bk;
	int rc;

	if (ins->stb == NULL || ins->nbatch <= 1)
		return s_flush(wh, t);  /* prepares the statement when the table is big enough */
	if (!c->started) {
		if (pthread_create(&c->thr, NULL, s_writer, c) != 0)
			return s_flush(wh, t);
		c->started = 1;
	}
	if ((rc = s_wait_idle(wh)) < 0) {
		ins->pending = 0;
		ins->alen[ins->cur] = 0;
		return rc;
	}
	ins->seen += ins->pending;
	pthread_mutex_lock(&c->mu);
	c->job = ins;
	c->jbuf = ins->cur;
	c->jrows = ins->pending;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	ins->cur ^= 1;
	ins->pending = 0;
	ins->alen[ins->cur] = 0;
	return 0;
}

static int
s_flush_all(vs_wh_t *wh)
{
	int rc = s_wait_idle(wh);

	for (size_t i = 0; i < wh->ntables; i++) {
		int r = s_flush(wh, wh->tables[i]);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

/* Forgets every table's pending rows and the writer's error (a rollback). */
static void
s_drop_all(vs_wh_t *wh)
{
	(void)s_wait_idle(wh);
	for (size_t i = 0; i < wh->ntables; i++) {
		struct s_ins *ins = wh->tables[i]->bk;
		if (ins != NULL) {
			ins->pending = 0;
			ins->alen[ins->cur] = 0;
		}
	}
}

static void
s_ins_free(struct s_ins *ins)
{
	sqlite3_finalize(ins->st);
	sqlite3_finalize(ins->stb);
	for (int b = 0; b < 2; b++) {
		free(ins->vals[b]);
		free(ins->arena[b]);
	}
	free(ins);
}

static void
s_table_release(vs_wh_t *wh, vs_wh_table_t *t)
{
	struct s_conn *c = S_CONN(wh);
	struct s_ins *ins = t->bk;

	if (ins == NULL)
		return;
	/* callers release after a flush (schema change) or to forget (rollback, close);
	 * the writer may still hold this table's other buffer */
	if (c->started) {
		pthread_mutex_lock(&c->mu);
		while (c->job != NULL)
			pthread_cond_wait(&c->cv, &c->mu);
		pthread_mutex_unlock(&c->mu);
	}
	s_ins_free(ins);
	t->bk = NULL;
}

/* "INSERT INTO t (...) VALUES (?, ...), ..." for nrows rows of t's first ncols columns. */
static int
s_prepare_rows(vs_wh_t *wh, vs_wh_table_t *t, size_t ncols, size_t nrows, sqlite3_stmt **st_r)
{
	size_t cap = 128 + ncols * 80 + nrows * (16 + ncols * 3), off;
	char *sql = malloc(cap);
	int rc;

	if (sql == NULL)
		return -ENOMEM;
	off = (size_t)snprintf(sql, cap, "INSERT INTO \"%s\" (load_id, host_id, time_ns", t->name);
	for (size_t i = 0; i < ncols; i++)
		off += (size_t)snprintf(sql + off, cap - off, ", \"%s\"", t->cols[i]);
	off += (size_t)snprintf(sql + off, cap - off, ") VALUES ");
	for (size_t r = 0; r < nrows; r++) {
		off += (size_t)snprintf(sql + off, cap - off, "%s(?, ?, ?", r ? ", " : "");
		for (size_t i = 0; i < ncols; i++)
			off += (size_t)snprintf(sql + off, cap - off, ", ?");
		off += (size_t)snprintf(sql + off, cap - off, ")");
	}
	rc = sqlite3_prepare_v3(S_DB(wh), sql, -1, SQLITE_PREPARE_PERSISTENT, st_r, NULL);
	free(sql);
	return rc == SQLITE_OK ? 0 : s_err(wh, rc);
}

static int
s_prepare(vs_wh_t *wh, vs_wh_table_t *t)
{
	struct s_ins *ins = calloc(1, sizeof(*ins));
	int maxvar, rc;

	if (ins == NULL)
		return -ENOMEM;
	if ((rc = s_wait_idle(wh)) < 0)
		goto out;
	maxvar = sqlite3_limit(S_DB(wh), SQLITE_LIMIT_VARIABLE_NUMBER, -1);
	ins->ncols = t->ncols;
	ins->nbatch = S_BATCH;
	if ((size_t)maxvar / (3 + t->ncols) < ins->nbatch)
		ins->nbatch = (size_t)maxvar / (3 + t->ncols);
	if (ins->nbatch < 1)
		ins->nbatch = 1;
	ins->nbuf = ins->nbatch * S_BUF_BATCHES;
	for (int b = 0; b < 2; b++)
		if ((ins->vals[b] = malloc(ins->nbuf * (3 + t->ncols) * sizeof(s_bval_t))) ==
		    NULL) {
			rc = -ENOMEM;
			goto out;
		}
	if ((rc = s_prepare_rows(wh, t, t->ncols, 1, &ins->st)) < 0)
		goto out;
	t->bk = ins;
	ins = NULL;
out:
	if (ins != NULL)
		s_ins_free(ins);
	return rc;
}

/* Keeps text s[0..n) in buffer cur's arena; its offset, or -ENOMEM. */
static int
s_keep(struct s_ins *ins, const char *s, size_t n, size_t *off_r)
{
	int b = ins->cur;

	if (ins->alen[b] + n > ins->acap[b]) {
		size_t cap = ins->acap[b] ? ins->acap[b] : 4096;
		char *a;
		while (cap < ins->alen[b] + n)
			cap *= 2;
		if ((a = realloc(ins->arena[b], cap)) == NULL)
			return -ENOMEM;
		ins->arena[b] = a;
		ins->acap[b] = cap;
	}
	if (n > 0)
		memcpy(ins->arena[b] + ins->alen[b], s, n);
	*off_r = ins->alen[b];
	ins->alen[b] += n;
	return 0;
}

static int
s_insert(vs_wh_t *wh, vs_wh_table_t *t, int64_t load_id, int64_t host_id, int64_t time_ns,
    const vs_mvalue_t *vals)
{
	struct s_ins *ins = t->bk;
	s_bval_t *b;
	int rc;

	if (ins != NULL && ins->ncols != t->ncols) {
		if ((rc = s_flush(wh, t)) < 0)
			return rc;
		s_table_release(wh, t);
		ins = NULL;
	}
	if (ins == NULL) {
		if ((rc = s_prepare(wh, t)) < 0)
			return rc;
		ins = t->bk;
	}
	b = &ins->vals[ins->cur][ins->pending * (3 + ins->ncols)];
	b[0] = (s_bval_t){ .kind = SQLITE_INTEGER, .u.i = load_id };
	b[1] = (s_bval_t){ .kind = SQLITE_INTEGER, .u.i = host_id };
	/* time_ns INT64_MIN: a record without a time (a report's summary) */
	b[2] = (s_bval_t){ .kind = time_ns == INT64_MIN ? SQLITE_NULL : SQLITE_INTEGER,
		.u.i = time_ns };
	for (size_t i = 0; i < t->ncols; i++) {
		const vs_mvalue_t *v = &vals[i];
		s_bval_t *o = &b[3 + i];
		vs_mtype_t ct = t->types[i];
		int text = v->type == VS_MT_TEXT;
		/* each value in its column's type: 1 in a real column is 1.0, a number in a
		 * text column its own text */
		if (v->type == VS_MT_INTEGER && ct == VS_MT_REAL) {
			*o = (s_bval_t){ .kind = SQLITE_FLOAT, .u.d = (double)v->i };
			continue;
		}
		if ((v->type == VS_MT_INTEGER || v->type == VS_MT_REAL) && ct == VS_MT_TEXT &&
		    v->s != NULL)
			text = 1;
		if (text) {
			o->kind = SQLITE_TEXT;
			o->n = (int)v->n;
			if ((rc = s_keep(ins, v->s, v->n, &o->u.off)) < 0)
				return rc;
			continue;
		}
		switch (v->type) {
		case VS_MT_INTEGER:
		case VS_MT_TIMESTAMP:
			*o = (s_bval_t){ .kind = SQLITE_INTEGER, .u.i = v->i };
			break;
		case VS_MT_REAL:
			*o = (s_bval_t){ .kind = SQLITE_FLOAT, .u.d = v->d };
			break;
		default:
			*o = (s_bval_t){ .kind = SQLITE_NULL };
		}
	}
	if (++ins->pending < ins->nbuf)
		return 0;
	return s_hand_off(wh, t);
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
