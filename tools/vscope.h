/*
 * vscope, the operator's CLI: the command table (as in xl's xl_cmdtable.c), the global
 * options every command sees, and the few helpers the commands share.
 */
#ifndef VS_VSCOPE_H
#define VS_VSCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <getopt.h>
#include <json-c/json.h>

#include "client.h"
#include "control.pb-c.h"

/* Exit status of vscope and the value every command function returns. */
#define VS_EXIT_OK      0
#define VS_EXIT_ERR     1       /* vscoped unreachable, an error reply, unknown domain */
#define VS_EXIT_USAGE   2       /* bad command line */

#define VS_DEFAULT_TIMEOUT_MS 5000

typedef struct vs_globals {
	const char *endpoint;   /* -s/--control, else $VSCOPE_CONTROL, else the default */
	bool json;              /* --json */
	int timeout_ms;         /* --timeout SECS */
} vs_globals_t;

typedef int (*vs_cmd_fn)(vs_globals_t *g, int argc, char **argv);

struct vs_cmd_spec {
	const char *name;
	vs_cmd_fn fn;
	const char *usage;      /* what follows "vscope NAME" in a synopsis */
	const char *help;       /* one line */
	const char *options;    /* the command's own options, one per line; NULL for none */
};

/* Commands (cmd_*.c); argv[0] is the command's name. */
int vs_cmd_list(vs_globals_t *g, int argc, char **argv);
int vs_cmd_vifs(vs_globals_t *g, int argc, char **argv);
int vs_cmd_top(vs_globals_t *g, int argc, char **argv);
int vs_cmd_metrics(vs_globals_t *g, int argc, char **argv);       /* cmd_agent.c */
int vs_cmd_keygen(vs_globals_t *g, int argc, char **argv);
int vs_cmd_guest_logs(vs_globals_t *g, int argc, char **argv);  /* cmd_guest_logs.c */
int vs_cmd_guest_samples(vs_globals_t *g, int argc, char **argv); /* cmd_guest_samples.c */
int vs_cmd_agent_key(vs_globals_t *g, int argc, char **argv);
int vs_cmd_mscope(vs_globals_t *g, int argc, char **argv);
int vs_cmd_mscope_analyze(vs_globals_t *g, int argc, char **argv, const char *url);
int vs_cmd_mscope_record(vs_globals_t *g, int argc, char **argv, const char *url);
int vs_cmd_shape(vs_globals_t *g, int argc, char **argv);
int vs_cmd_unshape(vs_globals_t *g, int argc, char **argv);
int vs_cmd_conns(vs_globals_t *g, int argc, char **argv);         /* cmd_conns.c */
int vs_cmd_dpg(vs_globals_t *g, int argc, char **argv);           /* cmd_dpg.c */

/* ---- shared helpers (vscope.c) ---- */

/* "vscope: msg" on stderr. */
void vs_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "vscope CMD: msg", then the command's usage line, on stderr; returns VS_EXIT_USAGE. */
int vs_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the command's help (synopsis, description, options) to stdout. */
void vs_cmd_help(const char *cmd);

/*
 * Global options are accepted after the command too ("vscope list --json"). A command
 * builds its getopt_long table with VS_COMMON_LONGOPTS and its short options string
 * starting with VS_COMMON_SHORTOPTS, and hands whatever it does not know to
 * vs_common_opt(): 0 handled, 1 help printed (return VS_EXIT_OK), -1 usage error
 * already reported (return VS_EXIT_USAGE).
 */
enum { VS_OPT_JSON = 0x1000, VS_OPT_TIMEOUT };
#define VS_COMMON_SHORTOPTS "hs:"
#define VS_COMMON_LONGOPTS                                              \
	{ "help", no_argument, NULL, 'h' },                             \
	{ "control", required_argument, NULL, 's' },                    \
	{ "json", no_argument, NULL, VS_OPT_JSON },                     \
	{ "timeout", required_argument, NULL, VS_OPT_TIMEOUT }
int vs_common_opt(vs_globals_t *g, const char *cmd, int opt, const char *arg);

/* Parses seconds with an optional fraction ("0.5", "2") into [min, max]; 0 or -EINVAL. */
int vs_secs_parse(const char *s, double min, double max, double *secs_r);

/* Rounded to the nearest integer (no libm needed); v must be finite and in range. */
int64_t vs_round(double v);
int64_t vs_secs_to_ns(double secs);

/* xl's six-character state field ("r-----", "-b----", ...) from the one-letter state;
 * "------" for "-" or anything unknown. out has room for 7 bytes. */
void vs_state_field(const char *state, char out[7]);

/* A client for g->endpoint; reports the failure and returns NULL. */
vs_client_t *vs_connect(const vs_globals_t *g);

/* vs_client_call() that reports a failure as "vscope: <why>" and returns NULL. */
Vsctl__Reply *vs_call(vs_client_t *c, const Vsctl__Request *req);

/* Warns on stderr when vscoped's hypervisor backend is not connected (Host.hv_error):
 * its domain list is then empty or stale. Returns whether it warned. */
bool vs_host_warn(const Vsctl__Host *h);

/* Never NULL: "" for a missing protobuf string. */
const char *vs_str(const char *s);

/*
 * Marks in sel[] which of the n domains argv names (by name, numeric id or UUID). No
 * arguments selects every domain. An argument that names no domain is reported
 * ("vscope CMD: no such domain: X") and makes it return -ENOENT.
 */
int vs_domains_select(const Vsctl__Domain **doms, size_t n, const char *cmd, int argc,
    char **argv, bool *sel);

/* The domains of inv in xl's order (by id, then name); a malloc'd array of borrowed
 * pointers, NULL on ENOMEM (or for none). */
const Vsctl__Domain **vs_domains_sorted(const Vsctl__Inventory *inv);

/* A lookup table over a Readings reply (borrowed; it must outlive the index). */
typedef struct vs_rindex {
	const Vsctl__Reading **v;
	size_t n;
} vs_rindex_t;
int vs_rindex_init(vs_rindex_t *ix, const Vsctl__Readings *r);    /* 0 or -ENOMEM */
void vs_rindex_dispose(vs_rindex_t *ix);
/* A reading's value, or its rate over the window; NAN when vscoped has none. */
double vs_rindex_value(const vs_rindex_t *ix, const char *entity, const char *metric);
double vs_rindex_rate(const vs_rindex_t *ix, const char *entity, const char *metric);
const Vsctl__Reading *vs_rindex_find(const vs_rindex_t *ix, const char *entity,
    const char *metric);

/* JSON: a number, or null for NAN. */
json_object *vs_json_double(double v);
json_object *vs_json_int(double v);     /* rounded to an integer; null for NAN */

/* Prints obj (pretty or one line) and a newline to stdout and flushes; takes ownership of
 * obj. 0, or -EIO when stdout fails. */
int vs_json_emit(json_object *obj, bool one_line);

/* tools/cmd_mscope.c: where parser specs are read from (OPT, env, installed or source) */
const char *vs_mscope_specdir(const char *opt);

#endif
