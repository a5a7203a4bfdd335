/*
 * vscope keygen, vscope agent-key add|list|remove, vscope metrics: the operator's side of
 * the guest intake (dom0d/intake.h). Keys are files; metrics come from vscoped's ReadReq.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vscope.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "agentkeys.h"
#include "wire.h"

static int
s_simple_opts(vs_globals_t *g, const char *cmd, int argc, char **argv, const char *extra,
    const char **o_r, const char **d_r)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "dir", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	char shortopts[32];
	int opt;

	snprintf(shortopts, sizeof(shortopts), VS_COMMON_SHORTOPTS "%s", extra);
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int r;

		if (opt == 'o' && o_r) {
			*o_r = optarg;
			continue;
		}
		if (opt == 'D' && d_r) {
			*d_r = optarg;
			continue;
		}
		if ((r = vs_common_opt(g, cmd, opt, optarg)) != 0)
			return r > 0 ? 1 : -1;
	}
	return 0;
}

int
vs_cmd_keygen(vs_globals_t *g, int argc, char **argv)
{
	const char *out = NULL;
	char pub[VS_Z85_KEY_LEN + 1], sec[VS_Z85_KEY_LEN + 1], err[512];
	int r = s_simple_opts(g, "keygen", argc, argv, "o:", &out, NULL);

	if (r != 0)
		return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
	if (optind < argc)
		return vs_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	if (zmq_curve_keypair(pub, sec) < 0) {
		vs_error("zmq_curve_keypair: %s (libzmq built without CURVE?)", zmq_strerror(errno));
		return VS_EXIT_ERR;
	}
	if (out != NULL) {
		if (vs_keyfile_write(out, pub, sec, err, sizeof(err)) < 0) {
			vs_error("%s", err);
			return VS_EXIT_ERR;
		}
	} else {
		printf("# vscope CURVE key pair (vscope keygen); keep it secret\n"
		    "public-key = %s\nsecret-key = %s\n", pub, sec);
	}
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "public_key", json_object_new_string(pub));
		if (out)
			json_object_object_add(o, "file", json_object_new_string(out));
		vs_json_emit(o, false);
	} else if (out != NULL) {
		printf("%s\n", pub);
	}
	explicit_bzero(sec, sizeof(sec));
	return VS_EXIT_OK;
}

static const char *
s_keydir(const char *opt)
{
	const char *e = getenv("VSCOPE_AGENT_KEYS");

	return opt ? opt : e && *e ? e : VS_AGENTKEYS_DEFAULT_DIR;
}

int
vs_cmd_agent_key(vs_globals_t *g, int argc, char **argv)
{
	const char *dir = NULL, *sub;
	char err[512], key[VS_Z85_KEY_LEN + 1];
	int r = s_simple_opts(g, "agent-key", argc, argv, "D:", NULL, &dir);

	if (r != 0)
		return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
	if (optind >= argc)
		return vs_usage_error("agent-key", "expected add, list or remove");
	sub = argv[optind++];
	dir = s_keydir(dir);
	if (!strcmp(sub, "add")) {
		if (argc - optind != 2)
			return vs_usage_error("agent-key", "add DOMAIN KEYFILE|Z85");
		if (!vs_keydom_ok(argv[optind]))
			return vs_usage_error("agent-key", "bad domain name '%s': 1..%d of "
			    "[A-Za-z0-9_.-], not starting with '.'", argv[optind], VS_KEYDOM_MAX);
		if (vs_z85_key_ok(argv[optind + 1])) {
			memcpy(key, argv[optind + 1], sizeof(key));
		} else if (vs_keyfile_read(argv[optind + 1], key, NULL, err, sizeof(err)) < 0) {
			vs_error("%s is neither a Z85 public key nor a readable key file: %s",
			    argv[optind + 1], err);
			return VS_EXIT_ERR;
		}
		if (vs_agentkeys_add(dir, argv[optind], key, err, sizeof(err)) < 0) {
			vs_error("%s", err);
			return VS_EXIT_ERR;
		}
		if (!g->json)
			printf("%s: %s\n", argv[optind], key);
		return VS_EXIT_OK;
	}
	if (!strcmp(sub, "remove")) {
		if (argc - optind != 1)
			return vs_usage_error("agent-key", "remove DOMAIN");
		if (!vs_keydom_ok(argv[optind]))
			return vs_usage_error("agent-key", "bad domain name '%s'", argv[optind]);
		if (vs_agentkeys_remove(dir, argv[optind], err, sizeof(err)) < 0) {
			vs_error("%s", err);
			return VS_EXIT_ERR;
		}
		return VS_EXIT_OK;
	}
	if (!strcmp(sub, "list")) {
		vs_agentkey_t *keys = NULL;
		size_t n = 0, bad = 0;

		if (argc - optind != 0)
			return vs_usage_error("agent-key", "list takes no arguments");
		if (vs_agentkeys_load(dir, &keys, &n, &bad, err, sizeof(err)) < 0) {
			vs_error("%s", err);
			return VS_EXIT_ERR;
		}
		if (g->json) {
			json_object *a = json_object_new_array();

			for (size_t i = 0; i < n; i++) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "domain",
				    json_object_new_string(keys[i].domain));
				json_object_object_add(o, "key", json_object_new_string(keys[i].key));
				json_object_array_add(a, o);
			}
			vs_json_emit(a, false);
		} else {
			printf("%-24s %s\n", "DOMAIN", "PUBLIC KEY");
			for (size_t i = 0; i < n; i++)
				printf("%-24s %s\n", keys[i].domain, keys[i].key);
		}
		if (bad)
			vs_error("warning: %zu bad or conflicting file(s) in %s left out", bad, dir);
		free(keys);
		return VS_EXIT_OK;
	}
	return vs_usage_error("agent-key", "unknown subcommand '%s' (add, list, remove)", sub);
}

static int
s_cmp_reading(const void *a, const void *b)
{
	const Vsctl__Reading *x = *(const Vsctl__Reading *const *)a;
	const Vsctl__Reading *y = *(const Vsctl__Reading *const *)b;

	return strcmp(vs_str(x->metric), vs_str(y->metric));
}

int
vs_cmd_metrics(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "window", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__ReadReq rreq = VSCTL__READ_REQ__INIT;
	Vsctl__Reply *rep = NULL;
	vs_client_t *client = NULL;
	double window_s = 1.0;
	char *ent[1], *met[16];
	const Vsctl__Reading **v = NULL;
	size_t n = 0;
	int opt, rc = VS_EXIT_ERR;

	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS "w:", longopts, NULL)) != -1) {
		int r;

		if (opt == 'w') {
			if (vs_secs_parse(optarg, 0, 86400, &window_s) < 0)
				return vs_usage_error("metrics", "bad --window '%s': seconds from 0 "
				    "to 86400", optarg);
			continue;
		}
		if ((r = vs_common_opt(g, "metrics", opt, optarg)) != 0)
			return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
	}
	if (argc - optind < 1)
		return vs_usage_error("metrics", "expected a DOMAIN");
	if (strlen(argv[optind]) > VS_CTL_MAX_NAME_LEN)
		return vs_usage_error("metrics", "domain name too long");
	if (argc - optind - 1 > 16)
		return vs_usage_error("metrics", "at most 16 metric patterns");
	ent[0] = argv[optind];
	for (int i = optind + 1; i < argc; i++)
		met[rreq.n_metric++] = argv[i];
	rreq.n_entity = 1;
	rreq.entity = ent;
	rreq.metric = met;
	rreq.window_ns = vs_secs_to_ns(window_s);
	req.body_case = VSCTL__REQUEST__BODY_READ;
	req.read = &rreq;
	if ((client = vs_connect(g)) == NULL || (rep = vs_call(client, &req)) == NULL)
		goto out;
	n = rep->read->n_readings;
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		v[i] = rep->read->readings[i];
	qsort(v, n, sizeof(*v), s_cmp_reading);
	if (n == 0 && !g->json) {
		vs_error("no metrics for %s", argv[optind]);
		goto out;
	}
	if (g->json) {
		json_object *o = json_object_new_object(), *a = json_object_new_array();

		json_object_object_add(o, "domain", json_object_new_string(argv[optind]));
		json_object_object_add(o, "time_ns", json_object_new_int64(rep->read->time_ns));
		json_object_object_add(o, "window_s", json_object_new_double(
		    rep->read->window_ns / 1e9));
		for (size_t i = 0; i < n; i++) {
			json_object *m = json_object_new_object();

			json_object_object_add(m, "metric", json_object_new_string(
			    vs_str(v[i]->metric)));
			json_object_object_add(m, "unit", json_object_new_string(vs_str(v[i]->unit)));
			json_object_object_add(m, "kind", json_object_new_string(
			    v[i]->kind == VSCTL__KIND__COUNTER ? "counter" : "gauge"));
			json_object_object_add(m, "value", vs_json_double(v[i]->value));
			json_object_object_add(m, "rate", v[i]->has_rate ?
			    vs_json_double(v[i]->rate) : NULL);
			json_object_object_add(m, "time_ns", json_object_new_int64(v[i]->time_ns));
			json_object_array_add(a, m);
		}
		json_object_object_add(o, "metrics", a);
		if (vs_json_emit(o, false) < 0)
			goto out;
	} else {
		printf("%-48s %16s %-6s %14s\n", "METRIC", "VALUE", "UNIT", "RATE/s");
		for (size_t i = 0; i < n; i++) {
			char rate[32] = "-";

			if (v[i]->kind == VSCTL__KIND__COUNTER && v[i]->has_rate)
				snprintf(rate, sizeof(rate), "%.2f", v[i]->rate);
			printf("%-48s %16.0f %-6s %14s\n", vs_str(v[i]->metric), v[i]->value,
			    vs_str(v[i]->unit), rate);
		}
	}
	rc = VS_EXIT_OK;
out:
	free(v);
	if (rep != NULL)
		vsctl__reply__free_unpacked(rep, NULL);
	vs_client_destroy(&client);
	return rc;
}
