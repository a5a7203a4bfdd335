/*
 * vscope mscope: milliScope's transformer and warehouse (mscope/). These commands work on
 * files and a warehouse; they do not talk to vscoped.
 *   vscope mscope ingest [options] FILE...    load logs into the warehouse
 *   vscope mscope formats                     list the parser specs
 *   vscope mscope logformat STRING            print the spec derived from a LogFormat
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
#include "analysis.h"

#ifndef MSCOPE_SPECDIR
#define MSCOPE_SPECDIR "/usr/local/share/vscope/mscope/specs"
#endif
#define S_DEFAULT_WAREHOUSE "mscope.db"

enum {
	S_OPT_WAREHOUSE = 0x2000, S_OPT_RUN, S_OPT_FORMAT, S_OPT_LOGFORMAT, S_OPT_HTTPD_CONF,
	S_OPT_NICK, S_OPT_DATE, S_OPT_ZONE, S_OPT_HOST, S_OPT_STRICT, S_OPT_SPECS,
	S_OPT_TIER, S_OPT_RESOURCE, S_OPT_WINDOW, S_OPT_RESOLUTION, S_OPT_VLRT_K, S_OPT_VLRT_MIN,
	S_OPT_GAP, S_OPT_FROM, S_OPT_TO, S_OPT_SERIES, S_OPT_NO_RESOURCES,
};

static const char *
s_specdir(const char *opt)
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
		json_object_object_add(top, "warehouse", json_object_new_string(url));
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

#define S_MAX_RES 64

typedef struct s_ana_args {
	const char *tier_name[VS_MANA_MAX_TIERS], *tier_table[VS_MANA_MAX_TIERS];
	size_t ntiers;
	const char *res[S_MAX_RES];
	size_t nres;
	int no_res, series;
	vs_mana_opts_t o;
} s_ana_args_t;

/* Milliseconds (a decimal) to ns, within (0, max_ms]. */
static int
s_ms_arg(const char *what, const char *s, double max_ms, int64_t *ns_r)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v > 0) || v > max_ms)
		return vs_usage_error("mscope", "bad %s '%s': milliseconds in (0, %g]", what, s,
		    max_ms);
	*ns_r = (int64_t)(v * 1e6 + 0.5);
	return 0;
}

/* A time: epoch seconds (with a fraction) or ISO 8601 in UTC or with an offset. */
static int
s_time_arg(const char *what, const char *s, int64_t *ns_r)
{
	static const char *const fmts[] = { "epoch-s", "%Y-%m-%dT%H:%M:%S.%f%z",
		"%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", NULL };
	size_t n = strlen(s);

	if (n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
		n--;
	for (size_t i = 0; fmts[i] != NULL; i++)
		if (vs_mtime_parse(s, n, fmts[i], 0, ns_r) == 0)
			return 0;
	return vs_usage_error("mscope", "bad %s '%s': epoch seconds or YYYY-MM-DDTHH:MM:SS[.f]"
	    "[Z|+HHMM]", what, s);
}

static int
s_has(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

static int
s_analyze(vs_globals_t *g, const char *url, const char *run, s_ana_args_t *x)
{
	/* the front tier first: the tables the shipped specs write */
	static const char *const known[][2] = { { "nginx", "nginx_access" },
		{ "apache", "apache_access" }, { "postgres", "postgres_log" } };
	vs_mana_input_t in = { 0 };
	vs_mana_t *a = NULL;
	vs_wh_t *wh = NULL;
	char err[512], **ev = NULL, **rs = NULL;
	size_t nev = 0, nrs = 0;
	int rc = VS_EXIT_ERR;

	wh = vs_wh_open(url, err, sizeof(err));
	if (wh == NULL) {
		vs_error("%s", err);
		return VS_EXIT_ERR;
	}
	if (vs_mana_tables(wh, "event", &ev, &nev) < 0 ||
	    vs_mana_tables(wh, "resource", &rs, &nrs) < 0) {
		vs_error("%s: %s", url, vs_wh_error(wh));
		goto out;
	}
	if (x->ntiers == 0) {
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (s_has(ev, nev, known[i][1])) {
				x->tier_name[x->ntiers] = known[i][0];
				x->tier_table[x->ntiers++] = known[i][1];
			}
		if (x->ntiers == 0) {
			vs_error("%s: no nginx_access, apache_access or postgres_log table: name the"
			    " tiers with --tier NAME=TABLE", url);
			goto out;
		}
	}
	for (size_t i = 0; i < x->ntiers; i++)
		if (vs_mana_load_tier(wh, run, x->tier_name[i], x->tier_table[i], &in, err,
		    sizeof(err)) < 0) {
			vs_error("tier %s: %s", x->tier_name[i], err);
			goto out;
		}
	if (!x->no_res) {
		if (x->nres > 0) {
			for (size_t i = 0; i < x->nres; i++)
				if (!s_has(rs, nrs, x->res[i])) {
					vs_error("%s: no resource table '%s'", url, x->res[i]);
					goto out;
				}
		}
		for (size_t i = 0; i < (x->nres > 0 ? x->nres : nrs); i++)
			if (vs_mana_load_resource(wh, run, x->nres > 0 ? x->res[i] : rs[i], &in, err,
			    sizeof(err)) < 0) {
				vs_error("%s", err);
				goto out;
			}
	}
	a = vs_mana_compute(&in, &x->o, err, sizeof(err));
	if (a == NULL) {
		vs_error("%s", err);
		goto out;
	}
	if (g->json)
		vs_json_emit(vs_mana_json(a, x->series), false);
	else
		vs_mana_print(a, stdout, x->series);
	rc = VS_EXIT_OK;
out:
	for (size_t i = 0; i < nev; i++)
		free(ev[i]);
	for (size_t i = 0; i < nrs; i++)
		free(rs[i]);
	free(ev);
	free(rs);
	vs_mana_destroy(&a);
	vs_mana_input_dispose(&in);
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
		{ "tier", required_argument, NULL, S_OPT_TIER },
		{ "resource", required_argument, NULL, S_OPT_RESOURCE },
		{ "no-resources", no_argument, NULL, S_OPT_NO_RESOURCES },
		{ "window", required_argument, NULL, S_OPT_WINDOW },
		{ "resolution", required_argument, NULL, S_OPT_RESOLUTION },
		{ "vlrt-k", required_argument, NULL, S_OPT_VLRT_K },
		{ "vlrt-min", required_argument, NULL, S_OPT_VLRT_MIN },
		{ "gap", required_argument, NULL, S_OPT_GAP },
		{ "from", required_argument, NULL, S_OPT_FROM },
		{ "to", required_argument, NULL, S_OPT_TO },
		{ "series", no_argument, NULL, S_OPT_SERIES },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("VSCOPE_WAREHOUSE");
	const char *url = env != NULL && *env ? env : S_DEFAULT_WAREHOUSE;
	const char *format = NULL, *logformat = NULL, *httpd_conf = NULL, *nick = NULL;
	const char *specs = NULL, *sub;
	vs_mload_opts_t o = { 0 };
	s_ana_args_t ax = { .ntiers = 0 };
	static char prog[96];
	int opt, r;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			vs_cmd_help("mscope");
			return VS_EXIT_OK;
		}
		return vs_usage_error("mscope", "which: ingest, analyze, formats or logformat?");
	}
	vs_mana_opts_default(&ax.o);
	sub = argv[1];
	snprintf(prog, sizeof(prog), "vscope mscope %s", sub);
	argv[1] = prog;
	argc--;
	argv++;
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
		case S_OPT_TIER: {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg || eq[1] == '\0')
				return vs_usage_error("mscope", "bad --tier '%s': NAME=TABLE", optarg);
			if (ax.ntiers >= VS_MANA_MAX_TIERS)
				return vs_usage_error("mscope", "at most %d --tier", VS_MANA_MAX_TIERS);
			*eq = '\0';
			ax.tier_name[ax.ntiers] = optarg;
			ax.tier_table[ax.ntiers++] = eq + 1;
			break;
		}
		case S_OPT_RESOURCE:
			if (ax.nres >= S_MAX_RES)
				return vs_usage_error("mscope", "at most %d --resource", S_MAX_RES);
			ax.res[ax.nres++] = optarg;
			break;
		case S_OPT_NO_RESOURCES: ax.no_res = 1; break;
		case S_OPT_SERIES: ax.series = 1; break;
		case S_OPT_WINDOW:
			if (s_ms_arg("--window", optarg, 60000, &ax.o.window_ns) < 0)
				return VS_EXIT_USAGE;
			break;
		case S_OPT_RESOLUTION:
			if (s_ms_arg("--resolution", optarg, 1000, &ax.o.res_ns) < 0)
				return VS_EXIT_USAGE;
			break;
		case S_OPT_VLRT_MIN:
			if (s_ms_arg("--vlrt-min", optarg, 3600000, &ax.o.vlrt_min_ns) < 0)
				return VS_EXIT_USAGE;
			break;
		case S_OPT_GAP:
			if (s_ms_arg("--gap", optarg, 60000, &ax.o.gap_ns) < 0)
				return VS_EXIT_USAGE;
			break;
		case S_OPT_VLRT_K: {
			char *end;
			ax.o.vlrt_k = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(ax.o.vlrt_k >= 1) ||
			    ax.o.vlrt_k > 1e6)
				return vs_usage_error("mscope", "bad --vlrt-k '%s': a number in"
				    " [1, 1e6]", optarg);
			break;
		}
		case S_OPT_FROM:
			if (s_time_arg("--from", optarg, &ax.o.from_ns) < 0)
				return VS_EXIT_USAGE;
			break;
		case S_OPT_TO:
			if (s_time_arg("--to", optarg, &ax.o.to_ns) < 0)
				return VS_EXIT_USAGE;
			break;
		default:
			r = vs_common_opt(g, "mscope", opt, optarg);
			if (r != 0)
				return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(sub, "analyze") == 0 || strcmp(sub, "analyse") == 0) {
		if (argc > 0)
			return vs_usage_error("mscope", "analyze takes options only");
		if (ax.o.window_ns % ax.o.res_ns != 0)
			return vs_usage_error("mscope", "--window must be a multiple of"
			    " --resolution");
		if (ax.o.from_ns && ax.o.to_ns && ax.o.to_ns <= ax.o.from_ns)
			return vs_usage_error("mscope", "--to must be after --from");
		return s_analyze(g, url, o.run, &ax);
	}
	if (strcmp(sub, "formats") == 0) {
		if (argc > 0)
			return vs_usage_error("mscope", "formats takes no arguments");
		return s_formats(g, s_specdir(specs));
	}
	if (strcmp(sub, "logformat") == 0)
		return s_logformat(argc, argv, httpd_conf, nick);
	if (strcmp(sub, "ingest") == 0) {
		if (argc == 0)
			return vs_usage_error("mscope", "ingest: no FILE given");
		if (format != NULL && (logformat != NULL || httpd_conf != NULL))
			return vs_usage_error("mscope", "--format and --logformat/--httpd-conf"
			    " exclude each other");
		return s_ingest(g, argc, argv, s_specdir(specs), url, format, logformat,
		    httpd_conf, nick, &o);
	}
	return vs_usage_error("mscope", "no subcommand '%s' (ingest, analyze, formats, logformat)", sub);
}
