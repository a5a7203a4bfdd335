/*
 * vscope mscope analyze: milliScope's analyses (mscope/analysis.h) over a warehouse:
 * request paths, point-in-time response time, queue length per tier, VLRT clusters, the
 * tier whose queue rose first and the resource metrics that line up with it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vscope.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mscope.h"
#include "wh.h"
#include "analysis.h"
#include "plot.h"

#define S_MAX_RES 64

enum {
	S_OPT_WAREHOUSE = 0x2100, S_OPT_RUN, S_OPT_TIER, S_OPT_RESOURCE, S_OPT_WINDOW,
	S_OPT_RESOLUTION, S_OPT_VLRT_K, S_OPT_VLRT_MIN, S_OPT_GAP, S_OPT_FROM, S_OPT_TO,
	S_OPT_SERIES, S_OPT_NO_RESOURCES, S_OPT_PLOT, S_OPT_PLOT_CLUSTER, S_OPT_PLOT_MARGIN,
	S_OPT_PLOT_SIZE,
};

typedef struct s_ana_args {
	const char *tier_name[VS_MANA_MAX_TIERS], *tier_table[VS_MANA_MAX_TIERS];
	size_t ntiers;
	const char *res[S_MAX_RES];
	size_t nres;
	int no_res, series;
	vs_mana_opts_t o;
	const char *plot;
	long plot_cluster;              /* 1-based; 0: the whole run; -1: not given */
	vs_mplot_opts_t po;
} s_ana_args_t;

/* Milliseconds (a decimal) to ns, within (0, max_ms]; -1 after a usage message. */
static int
s_ms_arg(const char *what, const char *s, double max_ms, int64_t *ns_r)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v > 0) || v > max_ms) {
		vs_usage_error("mscope", "bad %s '%s': milliseconds in (0, %g]", what, s, max_ms);
		return -1;
	}
	*ns_r = (int64_t)(v * 1e6 + 0.5);
	return 0;
}

/*
 * A time, as for 'select': nanoseconds since the epoch, or ISO 8601 in UTC (a trailing Z
 * allowed) or with a +HHMM offset.
 */
static int
s_time_arg(const char *what, const char *s, int64_t *ns_r)
{
	static const char *const fmts[] = { "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z",
		"%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f",
		"%Y-%m-%d %H:%M:%S", NULL };
	size_t n = strlen(s), i;

	for (i = 0; i < n && isdigit((unsigned char)s[i]); i++)
		;
	if (n > 0 && i == n && vs_mtime_parse(s, n, "epoch-ns", 0, ns_r) == 0)
		return 0;
	if (n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
		n--;
	for (i = 0; fmts[i] != NULL; i++)
		if (vs_mtime_parse(s, n, fmts[i], 0, ns_r) == 0)
			return 0;
	vs_usage_error("mscope", "bad %s '%s': nanoseconds since the epoch or"
	    " YYYY-MM-DDTHH:MM:SS[.f][Z|+HHMM]", what, s);
	return -1;
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
		for (size_t i = 0; i < x->nres; i++)
			if (!s_has(rs, nrs, x->res[i])) {
				vs_error("%s: no resource table '%s'", url, x->res[i]);
				goto out;
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
	if (x->plot != NULL) {
		if (x->plot_cluster > 0)
			x->po.cluster = (size_t)x->plot_cluster - 1;
		else if (x->plot_cluster == 0 || vs_mana_nclusters(a) == 0)
			x->po.cluster = VS_MPLOT_NO_CLUSTER;
		if (vs_mplot_write(a, &in, &x->po, x->plot, err, sizeof(err)) < 0) {
			vs_error("--plot: %s", err);
			goto out;
		}
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

/* argv[0] is "vscope mscope analyze"; url is the default warehouse. */
int
vs_cmd_mscope_analyze(vs_globals_t *g, int argc, char **argv, const char *url)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "warehouse", required_argument, NULL, S_OPT_WAREHOUSE },
		{ "run", required_argument, NULL, S_OPT_RUN },
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
		{ "plot", required_argument, NULL, S_OPT_PLOT },
		{ "plot-cluster", required_argument, NULL, S_OPT_PLOT_CLUSTER },
		{ "plot-margin", required_argument, NULL, S_OPT_PLOT_MARGIN },
		{ "plot-size", required_argument, NULL, S_OPT_PLOT_SIZE },
		{ NULL, 0, NULL, 0 },
	};
	s_ana_args_t ax = { .ntiers = 0, .plot_cluster = -1 };
	const char *run = NULL;
	int opt, r;

	vs_mana_opts_default(&ax.o);
	vs_mplot_opts_default(&ax.po);
	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS "w:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
		case S_OPT_WAREHOUSE: url = optarg; break;
		case S_OPT_RUN: run = optarg; break;
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
		case S_OPT_PLOT: {
			size_t n = strlen(optarg);
			if (n < 5 || (strcmp(optarg + n - 4, ".png") != 0 &&
			    strcmp(optarg + n - 4, ".svg") != 0))
				return vs_usage_error("mscope", "bad --plot '%s': a FILE.png or a"
				    " FILE.svg", optarg);
			ax.plot = optarg;
			break;
		}
		case S_OPT_PLOT_CLUSTER: {
			char *end;
			errno = 0;
			ax.plot_cluster = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || errno != 0 || ax.plot_cluster < 0 ||
			    ax.plot_cluster > VS_MANA_MAX_CLUSTERS)
				return vs_usage_error("mscope", "bad --plot-cluster '%s': 1 to %d, or 0"
				    " for the whole run", optarg, VS_MANA_MAX_CLUSTERS);
			break;
		}
		case S_OPT_PLOT_MARGIN:
			if (s_ms_arg("--plot-margin", optarg, 3600000, &ax.po.margin_ns) < 0)
				return VS_EXIT_USAGE;
			break;
		case S_OPT_PLOT_SIZE: {
			char c;
			if (sscanf(optarg, "%dx%d%c", &ax.po.width, &ax.po.height, &c) != 2 ||
			    ax.po.width < 200 || ax.po.height < 200 ||
			    ax.po.width > VS_MPLOT_MAX_SIDE || ax.po.height > VS_MPLOT_MAX_SIDE)
				return vs_usage_error("mscope", "bad --plot-size '%s': WIDTHxHEIGHT,"
				    " 200 to %d each", optarg, VS_MPLOT_MAX_SIDE);
			break;
		}
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
	if (optind < argc)
		return vs_usage_error("mscope", "analyze takes options only ('%s'?)", argv[optind]);
	if (ax.o.window_ns % ax.o.res_ns != 0)
		return vs_usage_error("mscope", "--window must be a multiple of --resolution");
	if (ax.o.from_ns && ax.o.to_ns && ax.o.to_ns <= ax.o.from_ns)
		return vs_usage_error("mscope", "--to must be after --from");
	if (ax.plot == NULL && (ax.plot_cluster >= 0 || ax.po.margin_ns != 1000000000LL ||
	    ax.po.width != 1000 || ax.po.height != 750))
		return vs_usage_error("mscope", "--plot-cluster, --plot-margin and --plot-size go"
		    " with --plot FILE");
	return s_analyze(g, url, run, &ax);
}
