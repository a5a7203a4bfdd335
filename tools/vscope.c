/*
 * vscope: the operator's console for vscoped. One table of commands, as in xl's
 * xl_cmdtable.c; global options before (or after) the command.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vscope.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wire.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static int s_cmd_help(vs_globals_t *g, int argc, char **argv);

#define S_COMMON_OPTIONS \
	"  -s, --control ENDPOINT  vscoped's control endpoint\n" \
	"      --json              JSON output\n" \
	"      --timeout SECS      wait at most SECS for each reply (default 5)\n" \
	"  -h, --help              this help\n"

static const struct vs_cmd_spec s_cmdtable[] = {
	{ "list", vs_cmd_list,
	  "[options] [DOMAIN...]",
	  "List domains: ID, memory, VCPUs, state, CPU time and VIFs (like xl list)",
	  NULL },
	{ "vifs", vs_cmd_vifs,
	  "[options] [DOMAIN...]",
	  "Show each VIF's counters and rates, seen from Dom0's side",
	  "  -w, --window SECS       rates over the last SECS seconds\n"
	  "                          (default 1; 0: the last sampling tick)\n" },
	{ "top", vs_cmd_top,
	  "[options]",
	  "Show domains' CPU, memory and network use, refreshed (like xentop)",
	  "  -d, --delay SECS        seconds between updates and the rate window (default 1)\n"
	  "  -n, --iterations N      stop after N updates (default: run until quit)\n"
	  "  -b, --batch             plain text to stdout, one block per update\n"
	  "      --sort KEY          order domains by name, cpu, mem or net (default name)\n" },
	{ "metrics", vs_cmd_metrics,
	  "[options] DOMAIN [METRIC|PREFIX*...]",
	  "Show a domain's metrics: what its agent reported (app.latency.*, jvm.*, statsd.*),\n"
	  "the intake's counters for it (intake.*) and Dom0's own (cpu.*, net.*, ...)",
	  "  -w, --window SECS       rates over the last SECS seconds (default 1)\n" },
	{ "conns", vs_cmd_conns,
	  "[options] [DOMAIN]",
	  "Show a guest's TCP connections as its agent last reported them (local, remote,\n"
	  "state, RTT, bytes); without DOMAIN, Dom0's own",
	  NULL },
	{ "guest-logs", vs_cmd_guest_logs,
	  "[options] [DOMAIN]",
	  "Show the log lines guests' agents tail, as vscoped's intake queues them (--stats:\n"
	  "lines, gaps, rotations, truncations, cut and dropped lines per domain and log)",
	  "      --stats             the counters only\n"
	  "      --cursor N          the batches from N on (default: the oldest kept)\n" },
	{ "guest-samples", vs_cmd_guest_samples,
	  "[options] [DOMAIN]",
	  "Show the resource samples guests' agents take at ms intervals (CPU ticks, memory\n"
	  "with Dirty and Writeback, disks, interfaces), as vscoped's intake keeps them",
	  "      --stats             the counters only (samples, rows, pushed out, bad)\n"
	  "      --cursor N          the rows from N on (default: the oldest kept)\n"
	  "      --max-rows N        at most N rows (1..100000, default 20000)\n" },
	{ "keygen", vs_cmd_keygen,
	  "[-o FILE]",
	  "Make a CURVE key pair (Z85): to FILE (mode 0600, printing the public key), or stdout",
	  "  -o, --output FILE       write the pair to FILE, which must not exist\n" },
	{ "agent-key", vs_cmd_agent_key,
	  "[-D DIR] add DOMAIN KEYFILE|Z85 | list | remove DOMAIN",
	  "Bind a guest agent's public key to its domain in vscoped's key directory",
	  "  -D, --dir DIR           key directory (default $VSCOPE_AGENT_KEYS, else\n"
	  "                          " SYSCONFDIR "/vscope/agent-keys)\n" },
	{ "mscope", vs_cmd_mscope,
	  "ingest|record|analyze|formats|logformat|tables|select [options] [FILE...|TABLE]",
	  "milliScope: load monitor and server logs into the warehouse, analyse them",
	  "  ingest FILE...          load files (format detected, or --format)\n"
	  "  record --run NAME       record Dom0's and each domain's resources every 1-50 ms\n"
	  "                          into the warehouse (see record: below)\n"
	  "  analyze                 request paths, point-in-time response time, queue per\n"
	  "                          tier, VLRT clusters, the tier whose queue rose first\n"
	  "                          and the resource metrics that explain it\n"
	  "  formats                 list the parser specs\n"
	  "  logformat STRING        print the spec derived from an Apache LogFormat\n"
	  "  tables [PREFIX]         the warehouse's data tables (name, kind)\n"
	  "  select TABLE            its rows as CSV (--json: objects), by time_ns\n"
	  "      --from T, --to T    window from <= time_ns < to (ns or ISO time, UTC)\n"
	  "      --columns A,B       these columns (default: all)\n"
	  "  -w, --warehouse URL     sqlite:PATH, PATH or postgresql://... (default\n"
	  "                          $VSCOPE_WAREHOUSE, else ./mscope.db)\n"
	  "      --run NAME          the run the files belong to (default \"default\")\n"
	  "      --format KIND       the spec to use (see 'vscope mscope formats')\n"
	  "      --logformat STRING  an Apache LogFormat string or nickname (common, combined)\n"
	  "      --httpd-conf FILE   read the LogFormat from an httpd config (--nickname NICK)\n"
	  "      --date YYYY-MM-DD   the date for logs that carry none (collectl -oT)\n"
	  "      --zone ZONE         the logs' zone when they carry none (UTC, +HHMM, local)\n"
	  "      --host NAME         the host when the log names none\n"
	  "      --strict            a line that does not parse is an error, not a skip\n"
	  "      --specs DIR         spec directory (default $VSCOPE_MSCOPE_SPECS, else the\n"
	  "                          installed one)\n"
	  " analyze:\n"
	  "      --tier NAME=TABLE   a tier, front first (repeat; default: the nginx_access,\n"
	  "                          apache_access, postgres_log tables present)\n"
	  "      --resource TABLE    a resource table to explain with (repeat; default all)\n"
	  "      --no-resources      no explanations\n"
	  "      --window MS         point-in-time window (default 50)\n"
	  "      --resolution MS     queue-length instants (default 1)\n"
	  "      --vlrt-k K          VLRT: response time above K x the median (default 10)\n"
	  "      --vlrt-min MS       ... and above MS (default 0)\n"
	  "      --gap MS            VLRT windows closer than MS form one cluster (default 100)\n"
	  "      --from T, --to T    requests that begin in [from, to) (as for select, or\n"
	  "                          ISO with a +HHMM offset)\n"
	  "      --series            also every window: PIT response time, queue per tier\n"
	  "      --plot FILE         also a plot, FILE.png or FILE.svg: response time, queue\n"
	  "                          per tier and the top explanation around a cluster\n"
	  "      --plot-cluster N    the cluster to plot (default 1, the most VLRT; 0: the\n"
	  "                          whole run)\n"
	  "      --plot-margin MS    shown before and after the cluster (default 1000)\n"
	  "      --plot-size WxH     pixels (default 1000x750)\n"
	  " record:\n"
	  "      --run NAME          the run to record into (required; refused when it has a\n"
	  "                          recording already, unless --append)\n"
	  "      --interval T        sampling interval, 1ms to 50ms (default 10ms; us, ms, s)\n"
	  "      --duration S        stop after S seconds (default: at SIGINT or SIGTERM)\n"
	  "      --host NAME         Dom0's host name in the warehouse (default: hostname)\n"
	  "  -H, --hypervisor SPEC   auto (default; Dom0 only when none opens), xen, libvirt,\n"
	  "                          libvirt:URI, or none\n"
	  "      --no-domains        Dom0's /proc only\n"
	  "      --append            add to a run that has a recording\n"
	  "      --procdir DIR       read stat, diskstats, meminfo, net/dev there (tests)\n"
	  "      --no-logs           not the guests' log lines from vscoped (fetched by\n"
	  "                          default when vscoped answers)\n"
	  "      --no-guests         not the guests' resource samples from vscoped\n"
	  "                          (vscope_guest_*; fetched by default when it answers)\n" },
	{ "shape", vs_cmd_shape,
	  "[options] DOMAIN --rate RATE | --list",
	  "Shape a domain's traffic in Dom0 (tc: IFB + htb), with a lease; --list shows rules",
	  "      --rate RATE         e.g. 10mbit (bit kbit mbit gbit, bps kbps mbps gbps)\n"
	  "      --ceil RATE         borrow up to RATE (default: the rate)\n"
	  "      --burst SIZE        bucket size, e.g. 32k (default 32k)\n"
	  "      --ttl DURATION      lease, e.g. 90s, 10m, 2h (default 10m); shape again to renew\n"
	  "      --direction DIR     from-vm (default), to-vm or both\n"
	  "      --vif VIF           only this VIF of the domain (default: all of them)\n"
	  "      --list              the rules in force, leases left and tc statistics\n" },
	{ "unshape", vs_cmd_unshape,
	  "[options] DOMAIN",
	  "Remove a domain's shaping (every trace of it in tc)",
	  "      --vif VIF           only this VIF's rule\n" },
	{ "dpg", vs_cmd_dpg,
	  "[-m ENDPOINT] create|assign|start|stop|add|insert|delete|destroy|list|results|hosts|"
	  "functions|collect [ARG...]",
	  "Distributed Processing Graphs through vmasterd (see vscope-dpg(1))",
	  "  -m, --master ENDPOINT   vmasterd's endpoint (default $VSCOPE_MASTER, else\n"
	  "                          " RUNSTATEDIR "/vscope/vmasterd.sock)\n"
	  "  create P|C|H NODES [fn=F] [arg=N] [bf=N] [height=N] [metric=M] [period=D] [start]\n"
	  "                          NODES: all, or HOST[:DOMAIN][*N],...\n"
	  "  assign DPG FUNCTION [ARG]   start DPG   stop DPG   destroy DPG\n"
	  "  add DPG SRC DST   delete DPG SRC DST   insert DPG HOST SRC DST\n"
	  "  list [DPG]   results DPG [N]   hosts   functions\n"
	  "  list metrics   collect METRIC   (the metric library: unit, kind, collection\n"
	  "                          function, and which hosts and entities have it)\n" },
	{ "help", s_cmd_help,
	  "[COMMAND]",
	  "Show the commands, or one command's options",
	  NULL },
};
#define S_NCMDS (sizeof(s_cmdtable) / sizeof(s_cmdtable[0]))

static const struct vs_cmd_spec *
s_cmd_find(const char *name)
{
	for (size_t i = 0; i < S_NCMDS; i++)
		if (strcmp(s_cmdtable[i].name, name) == 0)
			return &s_cmdtable[i];
	return NULL;
}

static void
s_main_help(FILE *f)
{
	fprintf(f,
	    "Usage: vscope [-s ENDPOINT] [--json] [--timeout SECS] COMMAND [ARGS]\n"
	    "\n"
	    "The operator's console for vscoped, the vscope daemon in each Dom0.\n"
	    "\n"
	    "Global options:\n"
	    "  -s, --control ENDPOINT  vscoped's control endpoint (default: $VSCOPE_CONTROL,\n"
	    "                          else %s)\n"
	    "      --json              JSON output, for scripts\n"
	    "      --timeout SECS      wait at most SECS for each reply (default 5)\n"
	    "  -h, --help              this help\n"
	    "  -V, --version           print the version\n"
	    "\n"
	    "Commands:\n", VS_CTL_DEFAULT_ENDPOINT);
	for (size_t i = 0; i < S_NCMDS; i++)
		fprintf(f, "  %-9s %.*s\n", s_cmdtable[i].name,
		    (int)strcspn(s_cmdtable[i].help, "\n"), s_cmdtable[i].help);
	fprintf(f, "\n'vscope help COMMAND' shows a command's options.\n");
}

void
vs_cmd_help(const char *cmd)
{
	const struct vs_cmd_spec *c = s_cmd_find(cmd);

	if (c == NULL)
		return;
	printf("Usage: vscope %s %s\n\n%s\n\nOptions:\n%s%s", c->name, c->usage, c->help,
	    c->options != NULL ? c->options : "", S_COMMON_OPTIONS);
}

static int
s_cmd_help(vs_globals_t *g, int argc, char **argv)
{
	(void)g;
	if (argc > 2)
		return vs_usage_error("help", "too many arguments");
	if (argc < 2) {
		s_main_help(stdout);
		return VS_EXIT_OK;
	}
	if (s_cmd_find(argv[1]) == NULL) {
		vs_error("no such command: %s (see 'vscope help')", argv[1]);
		return VS_EXIT_USAGE;
	}
	vs_cmd_help(argv[1]);
	return VS_EXIT_OK;
}

void
vs_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
s_usage_lines(const char *cmd)
{
	const struct vs_cmd_spec *c = s_cmd_find(cmd);

	if (c != NULL)
		fprintf(stderr, "Usage: vscope %s %s\nTry 'vscope help %s'.\n", c->name, c->usage,
		    c->name);
}

int
vs_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "vscope %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	s_usage_lines(cmd);
	return VS_EXIT_USAGE;
}

int
vs_secs_parse(const char *s, double min, double max, double *secs_r)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*secs_r = v;
	return 0;
}

int64_t
vs_round(double v)
{
	return v < 0 ? -(int64_t)(-v + 0.5) : (int64_t)(v + 0.5);
}

int64_t
vs_secs_to_ns(double secs)
{
	return vs_round(secs * 1e9);
}

static int
s_timeout_parse(vs_globals_t *g, const char *cmd, const char *arg)
{
	double secs;

	if (vs_secs_parse(arg, 0.001, 3600, &secs) < 0) {
		if (cmd != NULL)
			vs_usage_error(cmd, "bad --timeout '%s': seconds from 0.001 to 3600", arg);
		else
			vs_error("bad --timeout '%s': seconds from 0.001 to 3600", arg);
		return -1;
	}
	g->timeout_ms = (int)vs_round(secs * 1000);
	if (g->timeout_ms < 1)
		g->timeout_ms = 1;
	return 0;
}

int
vs_common_opt(vs_globals_t *g, const char *cmd, int opt, const char *arg)
{
	switch (opt) {
	case 'h':
		vs_cmd_help(cmd);
		return 1;
	case 's':
		g->endpoint = arg;
		return 0;
	case VS_OPT_JSON:
		g->json = true;
		return 0;
	case VS_OPT_TIMEOUT:
		return s_timeout_parse(g, cmd, arg);
	default:
		/* getopt_long has said what was wrong, as "vscope CMD: ..." (see main) */
		s_usage_lines(cmd);
		return -1;
	}
}

void
vs_state_field(const char *state, char out[7])
{
	static const char letters[] = "rbpscd";         /* xl list's order */
	const char *p = state != NULL && state[0] != '\0' && state[1] == '\0'
	    ? strchr(letters, state[0]) : NULL;

	memcpy(out, "------", 7);
	if (p != NULL && *p != '\0')
		out[p - letters] = *p;
}

bool
vs_host_warn(const Vsctl__Host *h)
{
	if (h == NULL || h->hv_error == NULL || h->hv_error[0] == '\0')
		return false;
	vs_error("warning: vscoped's %s backend is not connected, domains may be missing: %s",
	    *vs_str(h->hypervisor) != '\0' ? h->hypervisor : "hypervisor", h->hv_error);
	return true;
}

const char *
vs_str(const char *s)
{
	return s != NULL ? s : "";
}

vs_client_t *
vs_connect(const vs_globals_t *g)
{
	vs_client_t *c = vs_client_new(g->endpoint, g->timeout_ms);

	if (c == NULL)
		vs_error("cannot use control endpoint '%s': %s", g->endpoint, strerror(errno));
	return c;
}

Vsctl__Reply *
vs_call(vs_client_t *c, const Vsctl__Request *req)
{
	char err[512];
	Vsctl__Reply *rep = vs_client_call(c, req, err, sizeof(err));

	if (rep == NULL)
		vs_error("%s", err);
	return rep;
}

static int
s_domain_is(const Vsctl__Domain *d, const char *arg)
{
	char *end;
	unsigned long id;

	if (strcmp(vs_str(d->name), arg) == 0 || strcasecmp(vs_str(d->uuid), arg) == 0)
		return 1;
	if (*arg < '0' || *arg > '9')
		return 0;
	errno = 0;
	id = strtoul(arg, &end, 10);
	return errno == 0 && *end == '\0' && id == d->id;
}

int
vs_domains_select(const Vsctl__Domain **doms, size_t n, const char *cmd, int argc,
    char **argv, bool *sel)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		sel[i] = argc == 0;
	for (int a = 0; a < argc; a++) {
		bool found = false;

		for (size_t i = 0; i < n; i++)
			if (s_domain_is(doms[i], argv[a]))
				found = sel[i] = true;
		if (!found) {
			fprintf(stderr, "vscope %s: no such domain: %s\n", cmd, argv[a]);
			rc = -ENOENT;
		}
	}
	return rc;
}

static int
s_domain_cmp(const void *a, const void *b)
{
	const Vsctl__Domain *x = *(const Vsctl__Domain *const *)a;
	const Vsctl__Domain *y = *(const Vsctl__Domain *const *)b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return strcmp(vs_str(x->name), vs_str(y->name));
}

const Vsctl__Domain **
vs_domains_sorted(const Vsctl__Inventory *inv)
{
	const Vsctl__Domain **v;

	if (inv->n_domains == 0)
		return NULL;
	v = malloc(inv->n_domains * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < inv->n_domains; i++)
		v[i] = inv->domains[i];
	qsort(v, inv->n_domains, sizeof(*v), s_domain_cmp);
	return v;
}

static int
s_reading_cmp2(const char *entity, const char *metric, const Vsctl__Reading *r)
{
	int c = strcmp(entity, vs_str(r->entity));

	return c != 0 ? c : strcmp(metric, vs_str(r->metric));
}

static int
s_reading_cmp(const void *a, const void *b)
{
	const Vsctl__Reading *x = *(const Vsctl__Reading *const *)a;
	const Vsctl__Reading *y = *(const Vsctl__Reading *const *)b;

	return s_reading_cmp2(vs_str(x->entity), vs_str(x->metric), y);
}

int
vs_rindex_init(vs_rindex_t *ix, const Vsctl__Readings *r)
{
	ix->v = NULL;
	ix->n = 0;
	if (r == NULL || r->n_readings == 0)
		return 0;
	ix->v = malloc(r->n_readings * sizeof(*ix->v));
	if (ix->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_readings; i++)
		ix->v[i] = r->readings[i];
	ix->n = r->n_readings;
	qsort(ix->v, ix->n, sizeof(*ix->v), s_reading_cmp);
	return 0;
}

void
vs_rindex_dispose(vs_rindex_t *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}

const Vsctl__Reading *
vs_rindex_find(const vs_rindex_t *ix, const char *entity, const char *metric)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = s_reading_cmp2(entity, metric, ix->v[mid]);

		if (c == 0)
			return ix->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

json_object *
vs_json_double(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
}

json_object *
vs_json_int(double v)
{
	return isnan(v) ? NULL : json_object_new_int64(vs_round(v));
}

int
vs_json_emit(json_object *obj, bool one_line)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE | (one_line ? JSON_C_TO_STRING_PLAIN :
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	const char *s = json_object_to_json_string_ext(obj, flags);
	int rc = 0;

	if (s == NULL || puts(s) == EOF || fflush(stdout) == EOF)
		rc = -EIO;
	json_object_put(obj);
	return rc;
}

static void
s_version(void)
{
	printf("vscope %s (control protocol %d)\n", PACKAGE_VERSION, VS_CTL_VERSION);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	vs_globals_t g = { .timeout_ms = VS_DEFAULT_TIMEOUT_MS };
	static char prog[64];
	const struct vs_cmd_spec *cmd;
	const char *env = getenv("VSCOPE_CONTROL");
	int opt, rc;

	/* Characters for ncursesw; numbers stay in the C locale (JSON, scripts). */
	setlocale(LC_CTYPE, "");
	/* Enough digits for any rate, without binary noise such as 12.300000000000001. */
	json_c_set_serialization_double_format("%.15g", JSON_C_OPTION_GLOBAL);
	g.endpoint = env != NULL && *env != '\0' ? env : VS_CTL_DEFAULT_ENDPOINT;
	argv[0] = "vscope";     /* getopt_long's complaints start with it */

	while ((opt = getopt_long(argc, argv, "+hs:V", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			s_main_help(stdout);
			return VS_EXIT_OK;
		case 'V':
			s_version();
			return VS_EXIT_OK;
		case 's':
			g.endpoint = optarg;
			break;
		case VS_OPT_JSON:
			g.json = true;
			break;
		case VS_OPT_TIMEOUT:
			if (s_timeout_parse(&g, NULL, optarg) < 0)
				return VS_EXIT_USAGE;
			break;
		default:
			fprintf(stderr, "Try 'vscope --help'.\n");
			return VS_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		/* The interactive VShell will live here; until then, say what there is. */
		s_main_help(stderr);
		return VS_EXIT_USAGE;
	}
	cmd = s_cmd_find(argv[optind]);
	if (cmd == NULL) {
		vs_error("no such command: %s (see 'vscope help')", argv[optind]);
		return VS_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	/* getopt_long names argv[0] in its complaints: make them read "vscope list: ..." */
	snprintf(prog, sizeof(prog), "vscope %s", cmd->name);
	argv[0] = prog;
	optind = 0;     /* glibc: a full reset for the command's own getopt_long */
	rc = cmd->fn(&g, argc, argv);
	if (fflush(stdout) == EOF && rc == VS_EXIT_OK) {
		vs_error("writing output: %s", strerror(errno));
		rc = VS_EXIT_ERR;
	}
	return rc;
}

double
vs_rindex_value(const vs_rindex_t *ix, const char *entity, const char *metric)
{
	const Vsctl__Reading *r = vs_rindex_find(ix, entity, metric);

	return r != NULL ? r->value : NAN;
}

double
vs_rindex_rate(const vs_rindex_t *ix, const char *entity, const char *metric)
{
	const Vsctl__Reading *r = vs_rindex_find(ix, entity, metric);

	return r != NULL && r->has_rate ? r->rate : NAN;
}
