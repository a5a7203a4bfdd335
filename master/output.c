/* DPG outputs (output.h): rotating log files and the warehouse. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wh.h"

#define S_NCOLS 9
static const char *const s_cols[S_NCOLS] = {
	"dpg", "fn", "round", "leaves", "expected", "samples", "drops", "idx", "value",
};
static const vs_mtype_t s_types[S_NCOLS] = {
	VS_MT_INTEGER, VS_MT_TEXT, VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_INTEGER,
	VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_REAL,
};

struct vs_outs {
	char *log_dir, *warehouse, *host;
	uint64_t log_size;
	unsigned log_keep;
	vs_wh_t *wh;
	vs_wh_table_t *t;
	int col[S_NCOLS];
	int64_t run_id, host_id;
	size_t users;           /* open warehouse sinks */
};

struct vs_out {
	vs_outs_t *outs;
	vs_out_kind_t kind;
	uint32_t dpg;
	char path[4096];
	int fd;                 /* LOG */
	uint64_t size;
	int64_t load_id;        /* WAREHOUSE */
	uint64_t rows, errors;
};

static const char *const s_names[] = { "console", "log", "warehouse" };

int
vs_out_parse(const char *s, vs_out_kind_t *kind_r)
{
	for (size_t i = 0; i < sizeof(s_names) / sizeof(s_names[0]); i++) {
		if (!strcasecmp(s, s_names[i])) {
			*kind_r = (vs_out_kind_t)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
vs_out_name(vs_out_kind_t kind)
{
	return (unsigned)kind < 3 ? s_names[kind] : "?";
}

vs_outs_t *
vs_outs_new(const vs_outs_config_t *cfg)
{
	vs_outs_t *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->log_dir = strdup(cfg->log_dir);
	o->warehouse = strdup(cfg->warehouse);
	o->host = strdup(cfg->host && cfg->host[0] ? cfg->host : "vmasterd");
	o->log_size = cfg->log_size ? cfg->log_size : 1024 * 1024;
	o->log_keep = cfg->log_keep;
	if (!o->log_dir || !o->warehouse || !o->host) {
		vs_outs_destroy(&o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

void
vs_outs_destroy(vs_outs_t **self_p)
{
	vs_outs_t *o;

	if (!self_p || !*self_p)
		return;
	o = *self_p;
	vs_wh_destroy(&o->wh);
	free(o->log_dir);
	free(o->warehouse);
	free(o->host);
	free(o);
	*self_p = NULL;
}

/* ---- log files ------------------------------------------------------------------------ */

static int
s_log_open(vs_out_t *out, char *err, size_t errlen)
{
	struct stat st;

	out->fd = open(out->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (out->fd < 0 || fstat(out->fd, &st) < 0) {
		int rc = -errno;

		snprintf(err, errlen, "log file %s: %s", out->path, strerror(-rc));
		if (out->fd >= 0)
			close(out->fd);
		out->fd = -1;
		return rc;
	}
	out->size = (uint64_t)st.st_size;
	return 0;
}

/* dpg-ID.log -> .1 -> .2 ... up to log_keep; the oldest goes. */
static int
s_log_rotate(vs_out_t *out)
{
	char from[4200], to[4200], err[256];
	unsigned keep = out->outs->log_keep;

	close(out->fd);
	out->fd = -1;
	if (keep == 0) {
		unlink(out->path);
	} else {
		snprintf(to, sizeof(to), "%s.%u", out->path, keep);
		unlink(to);
		for (unsigned k = keep; k > 1; k--) {
			snprintf(from, sizeof(from), "%s.%u", out->path, k - 1);
			snprintf(to, sizeof(to), "%s.%u", out->path, k);
			rename(from, to);
		}
		snprintf(to, sizeof(to), "%s.1", out->path);
		if (rename(out->path, to) < 0)
			return -errno;
	}
	return s_log_open(out, err, sizeof(err));
}

static int
s_log_write(vs_out_t *out, const vs_out_row_t *row)
{
	char *buf, ts[64];
	struct tm tm;
	time_t sec = (time_t)(row->time_ns / 1000000000LL);
	size_t len = strlen(row->line) + 64;
	int n, rc;

	/* the whole line, every value of the result (vmasterd bounds the line) */
	if (!(buf = malloc(len)))
		return -ENOMEM;
	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(buf, len, "%s.%03dZ %s\n", ts, (int)(row->time_ns / 1000000 % 1000),
	    row->line);
	if (n < 0 || (size_t)n >= len) {
		rc = -EINVAL;
		goto out;
	}
	if (out->fd < 0 && (rc = s_log_open(out, ts, sizeof(ts))) < 0)
		goto out;
	if (out->size > 0 && out->size + (uint64_t)n > out->outs->log_size &&
	    (rc = s_log_rotate(out)) < 0)
		goto out;
	if (write(out->fd, buf, (size_t)n) != n) {
		rc = errno ? -errno : -EIO;
		goto out;
	}
	out->size += (uint64_t)n;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* ---- the warehouse --------------------------------------------------------------------- */

static int
s_wh_open(vs_outs_t *o, char *err, size_t errlen)
{
	int rc;

	if (o->wh)
		return 0;
	o->wh = vs_wh_open(o->warehouse, err, errlen);
	if (!o->wh)
		return errno ? -errno : -EIO;
	if ((rc = vs_wh_run_id(o->wh, "vmasterd", &o->run_id)) < 0 ||
	    (rc = vs_wh_host_id(o->wh, o->host, &o->host_id)) < 0 ||
	    !(o->t = vs_wh_table(o->wh, "dpg_results", "resource"))) {
		snprintf(err, errlen, "warehouse %s: %s", vs_wh_url(o->wh), vs_wh_error(o->wh));
		vs_wh_destroy(&o->wh);
		return rc < 0 ? rc : -EIO;
	}
	for (size_t i = 0; i < S_NCOLS; i++) {
		if ((o->col[i] = vs_wh_column(o->wh, o->t, s_cols[i], s_types[i])) < 0) {
			rc = o->col[i];
			snprintf(err, errlen, "warehouse %s: column %s: %s", vs_wh_url(o->wh),
			    s_cols[i], vs_wh_error(o->wh));
			vs_wh_destroy(&o->wh);
			return rc;
		}
	}
	return 0;
}

static void
s_int(vs_mvalue_t *v, int64_t i)
{
	v->type = VS_MT_INTEGER;
	v->i = i;
}

static int
s_wh_write(vs_out_t *out, const vs_out_row_t *row)
{
	vs_outs_t *o = out->outs;
	vs_mvalue_t *vals;
	int rc;

	if (!o->wh)
		return -EIO;
	vals = calloc(o->t->ncols ? o->t->ncols : 1, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if ((rc = vs_wh_begin(o->wh)) < 0)
		goto out;
	/* one row per value (Top-K has several); a round without samples has one, value NULL */
	for (size_t i = 0; i < (row->n ? row->n : 1); i++) {
		memset(vals, 0, o->t->ncols * sizeof(*vals));
		s_int(&vals[o->col[0]], row->dpg);
		vals[o->col[1]].type = VS_MT_TEXT;
		vals[o->col[1]].s = row->fn;
		vals[o->col[1]].n = strlen(row->fn);
		s_int(&vals[o->col[2]], row->round);
		s_int(&vals[o->col[3]], row->leaves);
		s_int(&vals[o->col[4]], row->expected);
		s_int(&vals[o->col[5]], (int64_t)row->samples);
		s_int(&vals[o->col[6]], (int64_t)row->drops);
		if (row->n) {
			s_int(&vals[o->col[7]], (int64_t)i);
			vals[o->col[8]].type = VS_MT_REAL;
			vals[o->col[8]].d = row->v[i];
		}
		rc = vs_wh_insert(o->wh, o->t, out->load_id, o->host_id, row->time_ns, vals);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = vs_wh_commit(o->wh);
	else
		vs_wh_rollback(o->wh);
	if (rc == 0)
		out->rows += row->n ? row->n : 1;
out:
	free(vals);
	return rc;
}

/* ---- sinks ----------------------------------------------------------------------------- */

int
vs_out_open(vs_outs_t *o, vs_out_kind_t kind, uint32_t dpg, vs_out_t **out_r, char *err,
    size_t errlen)
{
	vs_out_t *out;
	int rc = 0;

	*out_r = NULL;
	if (kind == VS_OUT_CONSOLE)
		return 0;
	out = calloc(1, sizeof(*out));
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	out->outs = o;
	out->kind = kind;
	out->dpg = dpg;
	out->fd = -1;
	if (kind == VS_OUT_LOG) {
		if (mkdir(o->log_dir, 0750) < 0 && errno != EEXIST) {
			rc = -errno;
			snprintf(err, errlen, "log directory %s: %s", o->log_dir, strerror(errno));
			goto fail;
		}
		snprintf(out->path, sizeof(out->path), "%s/dpg-%u.log", o->log_dir, dpg);
		if ((rc = s_log_open(out, err, errlen)) < 0)
			goto fail;
	} else {
		char src[32];
		int64_t sid;

		if ((rc = s_wh_open(o, err, errlen)) < 0)
			goto fail;
		snprintf(src, sizeof(src), "dpg/%u", dpg);
		if ((rc = vs_wh_source_id(o->wh, o->run_id, o->host_id, "dpg", src, &sid)) < 0 ||
		    (rc = vs_wh_load_begin(o->wh, sid, &out->load_id)) < 0) {
			snprintf(err, errlen, "warehouse %s: %s", vs_wh_url(o->wh), vs_wh_error(o->wh));
			goto fail;
		}
		snprintf(out->path, sizeof(out->path), "%s table dpg_results load %lld",
		    vs_wh_url(o->wh), (long long)out->load_id);
		o->users++;
	}
	*out_r = out;
	return 0;
fail:
	free(out);
	return rc;
}

int
vs_out_write(vs_out_t *out, const vs_out_row_t *row)
{
	int rc;

	if (!out)
		return 0;
	rc = out->kind == VS_OUT_LOG ? s_log_write(out, row) : s_wh_write(out, row);
	if (rc < 0)
		out->errors++;
	return rc;
}

uint64_t
vs_out_errors(const vs_out_t *out)
{
	return out ? out->errors : 0;
}

const char *
vs_out_where(const vs_out_t *out)
{
	return out ? out->path : "console";
}

void
vs_out_close(vs_out_t **out_p)
{
	vs_out_t *out;

	if (!out_p || !*out_p)
		return;
	out = *out_p;
	if (out->fd >= 0)
		close(out->fd);
	if (out->kind == VS_OUT_WAREHOUSE && out->outs->wh) {
		vs_mload_result_t *res = calloc(1, sizeof(*res));

		if (res) {
			res->rows = out->rows;
			snprintf(res->status, sizeof(res->status), "ok");
			vs_wh_load_end(out->outs->wh, out->load_id, res);
			free(res);
		}
		if (--out->outs->users == 0)
			vs_wh_destroy(&out->outs->wh);
	}
	free(out);
	*out_p = NULL;
}
