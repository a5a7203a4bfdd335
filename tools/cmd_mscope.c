/*
 * vscope mscope: milliScope's transformer and warehouse (mscope/). These commands work on
 * files and a warehouse; they do not talk to vscoped.
 *   vscope mscope ingest [options] FILE...    load logs into the warehouse
 *   vscope mscope formats                     list the parser specs
 *   vscope mscope logformat STRING            print the spec derived from a LogFormat
 *   vscope mscope tables [PREFIX]             the warehouse's data tables
 *   vscope mscope select [options] TABLE      rows of a table in a time window (CSV)
 *   vscope mscope analyze [options]           the analyses (cmd_mscope_analyze.c)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vscope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "mscope.h"
#include "wh.h"

#ifndef MSCOPE_SPECDIR
#define MSCOPE_SPECDIR "/usr/local/share/vscope/mscope/specs"
#endif
#define S_DEFAULT_WAREHOUSE "mscope.db"

enum {
	S_OPT_WAREHOUSE = 0x2000, S_OPT_RUN, S_OPT_FORMAT, S_OPT_LOGFORMAT, S_OPT_HTTPD_CONF,
	S_OPT_NICK, S_OPT_DATE, S_OPT_ZONE, S_OPT_HOST, S_OPT_STRICT, S_OPT_SPECS,
	S_OPT_FROM, S_OPT_TO, S_OPT_COLUMNS,
};

/* The spec directory: OPT, else $VSCOPE_MSCOPE_SPECS, else the installed one (the source
 * tree's when not installed yet). Also used by the recorder (record_logs.c). */
const char *
vs_mscope_specdir(const char *opt)
{
	const char *e = getenv("VSCOPE_MSCOPE_SPECS");

	if (opt != NULL)
		return opt;
	if (e != NULL && *e != '\0')
		return e;
#ifdef MSCOPE_SRC_SPECDIR
	/* not installed yet: the specs of the source tree it was built from */
	if (access(MSCOPE_SPECDIR, R_OK) < 0 && access(MSCOPE_SRC_SPECDIR, R_OK) == 0)
		return MSCOPE_SRC_SPECDIR;
#endif
	return MSCOPE_SPECDIR;
}

static int
s_load_specs(const char *dir, vs_mspec_t ***v, size_t *n)
{
	char err[512];
	int rc = vs_mspec_load_dir(dir, v, n, err, sizeof(err));

	if (rc < 0)
		vs_error("%s", err);
	return rc;
}

static int
s_formats(vs_globals_t *g, const char *dir)
{
	vs_mspec_t **v = NULL;
	size_t n = 0;
	json_object *arr;

	if (s_load_specs(dir, &v, &n) < 0)
		return VS_EXIT_ERR;
	if (g->json) {
		arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(vs_mspec_name(v[i])));
			json_object_object_add(o, "description",
			    json_object_new_string(vs_mspec_description(v[i])));
			json_object_object_add(o, "path", json_object_new_string(vs_mspec_path(v[i])));
			json_object_array_add(arr, o);
		}
		vs_json_emit(arr, false);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-18s %s\n", vs_mspec_name(v[i]), vs_mspec_description(v[i]));
	}
	vs_mspec_free_all(&v, n);
	return VS_EXIT_OK;
}

static json_object *
s_result_json(const char *path, const char *format, const vs_mload_result_t *r)
{
	json_object *o = json_object_new_object(), *t = json_object_new_object();

	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "format", format ? json_object_new_string(format) : NULL);
	json_object_object_add(o, "status", json_object_new_string(r->status[0] ? r->status
	    : "failed"));
	json_object_object_add(o, "load_id", json_object_new_int64(r->load_id));
	json_object_object_add(o, "lines", json_object_new_int64((int64_t)r->lines));
	json_object_object_add(o, "rows", json_object_new_int64((int64_t)r->rows));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)r->skipped));
	json_object_object_add(o, "unparsed", json_object_new_int64((int64_t)r->unparsed));
	json_object_object_add(o, "restarts", json_object_new_int64((int64_t)r->restarts));
	for (size_t i = 0; i < r->ntables; i++)
		json_object_object_add(t, r->tables[i].name,
		    json_object_new_int64((int64_t)r->tables[i].rows));
	json_object_object_add(o, "tables", t);
	json_object_object_add(o, "error", r->error[0] ? json_object_new_string(r->error) : NULL);
	return o;
}

static void
s_result_text(const char *path, const char *format, const vs_mload_result_t *r)
{
	printf("%s: %s, %s: %llu rows, %llu lines, %llu skipped, %llu unparsed\n", path,
	    format ? format : "?", r->status[0] ? r->status : "failed",
	    (unsigned long long)r->rows, (unsigned long long)r->lines,
	    (unsigned long long)r->skipped, (unsigned long long)r->unparsed);
	for (size_t i = 0; i < r->ntables; i++)
		printf("  %-24s %llu\n", r->tables[i].name, (unsigned long long)r->tables[i].rows);
}

static int
s_ingest(vs_globals_t *g, int argc, char **argv, const char *dir, const char *url,
    const char *format, const char *logformat, const char *httpd_conf, const char *nick,
    vs_mload_opts_t *o)
{
	vs_mspec_t **v = NULL, *derived = NULL;
	size_t n = 0;
	const vs_mspec_t *forced = NULL;
	vs_wh_t *wh = NULL;
	char err[512];
	json_object *files = g->json ? json_object_new_array() : NULL;
	int rc = VS_EXIT_OK;

	if (s_load_specs(dir, &v, &n) < 0)
		return VS_EXIT_ERR;
	o->specs = v;
	o->nspecs = n;
	if (httpd_conf != NULL || logformat != NULL) {
		char *lf = NULL;
		if (httpd_conf != NULL) {
			lf = vs_httpd_conf_logformat(httpd_conf, logformat != NULL ? logformat : nick,
			    err, sizeof(err));
			if (lf == NULL) {
				vs_error("%s", err);
				rc = VS_EXIT_ERR;
				goto out;
			}
		}
		derived = vs_mspec_from_logformat(lf != NULL ? lf : logformat, NULL, err,
		    sizeof(err));
		free(lf);
		if (derived == NULL) {
			vs_error("%s", err);
			rc = VS_EXIT_USAGE;
			goto out;
		}
		forced = derived;
	} else if (format != NULL) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(vs_mspec_name(v[i]), format) == 0)
				forced = v[i];
		if (forced == NULL) {
			vs_usage_error("mscope", "no format '%s' (see 'vscope mscope formats')",
			    format);
			rc = VS_EXIT_USAGE;
			goto out;
		}
	}
	wh = vs_wh_open(url, err, sizeof(err));
	if (wh == NULL) {
		vs_error("%s", err);
		rc = VS_EXIT_ERR;
		goto out;
	}
	for (int i = 0; i < argc; i++) {
		vs_mload_result_t res;
		const vs_mspec_t *s = forced;
		int r = 0;
		memset(&res, 0, sizeof(res));
		if (s == NULL) {
			char head[8192];
			ssize_t hl = -1;
			int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				hl = read(fd, head, sizeof(head));
				close(fd);
			}
			if (hl < 0) {
				snprintf(res.error, sizeof(res.error), "%s: %s", argv[i], strerror(errno));
				r = -errno;
			} else {
				s = vs_mspec_detect(v, n, argv[i], head, (size_t)hl, &r, res.error,
				    sizeof(res.error));
			}
			if (s == NULL)
				snprintf(res.status, sizeof(res.status), "failed");
		}
		if (s != NULL)
			r = vs_mscope_load(wh, s, argv[i], o, &res);
		if (r < 0 || strcmp(res.status, "ok") != 0)
			rc = VS_EXIT_ERR;
		if (g->json) {
			json_object_array_add(files, s_result_json(argv[i], s ? vs_mspec_name(s)
			    : NULL, &res));
		} else {
			s_result_text(argv[i], s ? vs_mspec_name(s) : NULL, &res);
		}
		if (res.error[0] != '\0')
			vs_error("%s", res.error);
	}
	if (g->json) {
		json_object *top = json_object_new_object();
		json_object_object_add(top, "warehouse", json_object_new_string(vs_wh_url(wh)));
		json_object_object_add(top, "files", files);
		files = NULL;
		vs_json_emit(top, false);
	}
out:
	json_object_put(files);
	vs_wh_destroy(&wh);
	vs_mspec_destroy(&derived);
	vs_mspec_free_all(&v, n);
	return rc;
}

static int
s_logformat(int argc, char **argv, const char *httpd_conf, const char *nick)
{
	char err[512], *lf = NULL, *txt;
	vs_mspec_t *s;

	if (httpd_conf != NULL) {
		lf = vs_httpd_conf_logformat(httpd_conf, argc > 0 ? argv[0] : nick, err,
		    sizeof(err));
		if (lf == NULL) {
			vs_error("%s", err);
			return VS_EXIT_ERR;
		}
	} else if (argc != 1) {
		return vs_usage_error("mscope", "logformat takes one LogFormat string (or"
		    " --httpd-conf FILE [NICKNAME])");
	}
	s = vs_mspec_from_logformat(lf != NULL ? lf : argv[0], NULL, err, sizeof(err));
	free(lf);
	if (s == NULL) {
		vs_error("%s", err);
		return VS_EXIT_ERR;
	}
	txt = vs_mspec_format(s);
	vs_mspec_destroy(&s);
	if (txt == NULL) {
		vs_error("out of memory");
		return VS_EXIT_ERR;
	}
	fputs(txt, stdout);
	free(txt);
	return VS_EXIT_OK;
}

/* ---- reading the warehouse: tables, select ---- */

/* A time for --from/--to: nanoseconds since the epoch, or an ISO date-time in UTC. */
static int
s_parse_when(const char *s, int64_t *ns_r)
{
	static const char *const fmts[] = { "epoch-ns", "%Y-%m-%dT%H:%M:%S.%f",
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d" };
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == 'Z')
		n--;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (vs_mtime_parse(s, n, fmts[i], 0, ns_r) == 0)
			return 0;
	return -EINVAL;
}

/* A value as text: the same on both backends (reals shortest round-trip, "575.0"). */
static void
s_value_text(const vs_mvalue_t *v, char *buf, size_t len)
{
	switch (v->type) {
	case VS_MT_INTEGER:
	case VS_MT_TIMESTAMP:
		snprintf(buf, len, "%lld", (long long)v->i);
		return;
	case VS_MT_REAL:
		for (int p = 1; p <= 17; p++) {
			snprintf(buf, len, "%.*g", p, v->d);
			if (strtod(buf, NULL) == v->d)
				break;
		}
		if (strpbrk(buf, ".eEn") == NULL)
			snprintf(buf + strlen(buf), len - strlen(buf), ".0");
		return;
	default:
		buf[0] = '\0';
	}
}

struct s_out {
	vs_globals_t *g;
	const char *const *names;
	size_t nnames;
	json_object *rows;
	unsigned long n;
};

static void
s_header(const struct s_out *o)
{
	for (size_t i = 0; i < o->nnames; i++)
		printf("%s%s", o->names[i], i + 1 < o->nnames ? "," : "\n");
}

static int
s_select_row(void *arg, size_t ncol, const vs_mvalue_t *vals)
{
	struct s_out *o = arg;
	char buf[64];

	if (o->g->json) {
		json_object *r = json_object_new_object();
		for (size_t i = 0; i < ncol; i++) {
			const vs_mvalue_t *v = &vals[i];
			json_object *j = NULL;
			if (v->type == VS_MT_INTEGER || v->type == VS_MT_TIMESTAMP)
				j = json_object_new_int64(v->i);
			else if (v->type == VS_MT_REAL)
				j = json_object_new_double(v->d);
			else if (v->type == VS_MT_TEXT)
				j = json_object_new_string_len(v->s, (int)v->n);
			json_object_object_add(r, o->names[i], j);
		}
		json_object_array_add(o->rows, r);
	} else {
		if (o->n == 0)
			s_header(o);
		for (size_t i = 0; i < ncol; i++) {
			const vs_mvalue_t *v = &vals[i];
			if (i > 0)
				putchar(',');
			if (v->type != VS_MT_TEXT) {
				s_value_text(v, buf, sizeof(buf));
				fputs(buf, stdout);
			} else if (memchr(v->s, ',', v->n) || memchr(v->s, '"', v->n) ||
			    memchr(v->s, '\n', v->n)) {
				putchar('"');
				for (size_t k = 0; k < v->n; k++) {
					if (v->s[k] == '"')
						putchar('"');
					putchar(v->s[k]);
				}
				putchar('"');
			} else {
				fwrite(v->s, 1, v->n, stdout);
			}
		}
		putchar('\n');
	}
	o->n++;
	return 0;
}

static int
s_table_row(void *arg, int ncol, const char *const *vals)
{
	struct s_out *o = arg;

	if (ncol < 2 || vals[0] == NULL)
		return 0;
	if (o->g->json)
		json_object_array_add(o->rows, json_object_new_string(vals[0]));
	else
		printf("%s\t%s\n", vals[0], vals[1] ? vals[1] : "");
	return 0;
}

static int
s_read(vs_globals_t *g, const char *sub, int argc, char **argv, const char *url,
    const char *run, const char *from, const char *to, const char *columns)
{
	static const char *const fixed[3] = { "load_id", "host_id", "time_ns" };
	vs_wh_window_t w = { run, INT64_MIN, INT64_MAX, NULL, 0 };
	struct s_out o = { g, NULL, 0, NULL, 0 };
	const char **cols = NULL, **names = NULL;
	char err[512], *cbuf = NULL;
	vs_wh_t *wh = NULL;
	int rc = VS_EXIT_ERR, r;

	if (strcmp(sub, "tables") == 0 ? argc > 1 : argc != 1)
		return vs_usage_error("mscope", strcmp(sub, "tables") == 0
		    ? "tables takes at most one PREFIX" : "select takes one TABLE");
	for (int k = 0; k < 2; k++) {
		const char *v = k == 0 ? from : to;
		if (v != NULL && s_parse_when(v, k == 0 ? &w.from_ns : &w.to_ns) < 0)
			return vs_usage_error("mscope", "bad --%s '%s': nanoseconds since the epoch"
			    " or YYYY-MM-DDTHH:MM:SS[.fff] (UTC)", k == 0 ? "from" : "to", v);
	}
	wh = vs_wh_open(url, err, sizeof(err));
	if (wh == NULL) {
		vs_error("%s", err);
		return VS_EXIT_ERR;
	}
	o.rows = g->json ? json_object_new_array() : NULL;
	if (strcmp(sub, "tables") == 0) {
		r = vs_wh_tables(wh, argc > 0 ? argv[0] : NULL, s_table_row, &o);
		if (r < 0) {
			vs_error("%s: %s", vs_wh_url(wh), vs_wh_error(wh));
			goto out;
		}
	} else {
		const vs_wh_table_t *t = vs_wh_table_info(wh, argv[0], &r);
		size_t n = 0;
		if (t == NULL) {
			vs_error("%s: %s", vs_wh_url(wh), vs_wh_error(wh));
			goto out;
		}
		if (columns != NULL) {
			char *save = NULL;
			cbuf = strdup(columns);
			cols = calloc(strlen(columns) / 2 + 2, sizeof(*cols));
			if (cbuf == NULL || cols == NULL)
				goto out;
			for (char *c = strtok_r(cbuf, ",", &save); c; c = strtok_r(NULL, ",", &save))
				cols[n++] = c;
			w.cols = cols;
			w.ncols = n;
			names = cols;
		} else {
			names = calloc(t->ncols + 3, sizeof(*names));
			if (names == NULL)
				goto out;
			for (size_t i = 0; i < t->ncols + 3; i++)
				names[i] = i < 3 ? fixed[i] : t->cols[i - 3];
			n = t->ncols + 3;
		}
		o.names = names;
		o.nnames = n;
		r = vs_wh_select(wh, argv[0], &w, s_select_row, &o);
		if (r < 0) {
			vs_error("%s: %s", vs_wh_url(wh), vs_wh_error(wh));
			goto out;
		}
		if (!g->json && o.n == 0)
			s_header(&o);
	}
	if (g->json) {
		vs_json_emit(o.rows, false);
		o.rows = NULL;
	}
	rc = VS_EXIT_OK;
out:
	json_object_put(o.rows);
	if (names != cols)
		free(names);
	free(cols);
	free(cbuf);
	vs_wh_destroy(&wh);
	return rc;
}

int
vs_cmd_mscope(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "warehouse", required_argument, NULL, S_OPT_WAREHOUSE },
		{ "run", required_argument, NULL, S_OPT_RUN },
		{ "format", required_argument, NULL, S_OPT_FORMAT },
		{ "logformat", required_argument, NULL, S_OPT_LOGFORMAT },
		{ "httpd-conf", required_argument, NULL, S_OPT_HTTPD_CONF },
		{ "nickname", required_argument, NULL, S_OPT_NICK },
		{ "date", required_argument, NULL, S_OPT_DATE },
		{ "zone", required_argument, NULL, S_OPT_ZONE },
		{ "host", required_argument, NULL, S_OPT_HOST },
		{ "strict", no_argument, NULL, S_OPT_STRICT },
		{ "specs", required_argument, NULL, S_OPT_SPECS },
		{ "from", required_argument, NULL, S_OPT_FROM },
		{ "to", required_argument, NULL, S_OPT_TO },
		{ "columns", required_argument, NULL, S_OPT_COLUMNS },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("VSCOPE_WAREHOUSE");
	const char *url = env != NULL && *env ? env : S_DEFAULT_WAREHOUSE;
	const char *format = NULL, *logformat = NULL, *httpd_conf = NULL, *nick = NULL;
	const char *specs = NULL, *sub, *from = NULL, *to = NULL, *columns = NULL;
	vs_mload_opts_t o = { 0 };
	static char prog[96];
	int opt, r;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			vs_cmd_help("mscope");
			return VS_EXIT_OK;
		}
		return vs_usage_error("mscope", "which: ingest, record, analyze, formats, logformat, tables or select?");
	}
	sub = argv[1];
	snprintf(prog, sizeof(prog), "vscope mscope %s", sub);
	argv[1] = prog;
	argc--;
	argv++;
	if (strcmp(sub, "analyze") == 0 || strcmp(sub, "analyse") == 0)
		return vs_cmd_mscope_analyze(g, argc, argv, url);
	if (strcmp(sub, "record") == 0)
		return vs_cmd_mscope_record(g, argc, argv, url);
	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS "w:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
		case S_OPT_WAREHOUSE: url = optarg; break;
		case S_OPT_RUN: o.run = optarg; break;
		case S_OPT_FORMAT: format = optarg; break;
		case S_OPT_LOGFORMAT: logformat = optarg; break;
		case S_OPT_HTTPD_CONF: httpd_conf = optarg; break;
		case S_OPT_NICK: nick = optarg; break;
		case S_OPT_DATE: {
			int y, m, d;
			char c;
			if (sscanf(optarg, "%4d-%2d-%2d%c", &y, &m, &d, &c) != 3 || m < 1 || m > 12 ||
			    d < 1 || d > 31)
				return vs_usage_error("mscope", "bad --date '%s': YYYY-MM-DD", optarg);
			o.date = optarg;
			break;
		}
		case S_OPT_ZONE: {
			int off;
			if (strcmp(optarg, "local") != 0 && vs_mzone_parse(optarg, &off) < 0)
				return vs_usage_error("mscope", "bad --zone '%s': UTC, +HHMM or local",
				    optarg);
			o.zone = optarg;
			break;
		}
		case S_OPT_HOST: o.host = optarg; break;
		case S_OPT_STRICT: o.strict = true; break;
		case S_OPT_SPECS: specs = optarg; break;
		case S_OPT_FROM: from = optarg; break;
		case S_OPT_TO: to = optarg; break;
		case S_OPT_COLUMNS: columns = optarg; break;
		default:
			r = vs_common_opt(g, "mscope", opt, optarg);
			if (r != 0)
				return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(sub, "formats") == 0) {
		if (argc > 0)
			return vs_usage_error("mscope", "formats takes no arguments");
		return s_formats(g, vs_mscope_specdir(specs));
	}
	if (strcmp(sub, "logformat") == 0)
		return s_logformat(argc, argv, httpd_conf, nick);
	if (strcmp(sub, "ingest") == 0) {
		if (argc == 0)
			return vs_usage_error("mscope", "ingest: no FILE given");
		if (format != NULL && (logformat != NULL || httpd_conf != NULL))
			return vs_usage_error("mscope", "--format and --logformat/--httpd-conf"
			    " exclude each other");
		return s_ingest(g, argc, argv, vs_mscope_specdir(specs), url, format, logformat,
		    httpd_conf, nick, &o);
	}
	if (strcmp(sub, "tables") == 0 || strcmp(sub, "select") == 0)
		return s_read(g, sub, argc, argv, url, o.run, from, to, columns);
	return vs_usage_error("mscope", "no subcommand '%s' (ingest, record, analyze, formats, logformat,"
	    " tables, select)", sub);
}
