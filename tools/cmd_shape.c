/*
 * vscope shape DOMAIN --rate R [...], vscope shape --list, vscope unshape DOMAIN: traffic
 * shaping of a domain's VIFs by vscoped (shaping/shape.h), each rule with a lease.
 */
#include "vscope.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "shape.h"

static json_object *
s_json_stats(const Vsctl__ShapeStats *s)
{
	json_object *o;

	if (s == NULL || !s->valid)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)s->bytes));
	json_object_object_add(o, "packets", json_object_new_int64((int64_t)s->packets));
	json_object_object_add(o, "drops", json_object_new_int64((int64_t)s->drops));
	json_object_object_add(o, "overlimits", json_object_new_int64((int64_t)s->overlimits));
	return o;
}

static int
s_print(const vs_globals_t *g, const Vsctl__ShapeList *l)
{
	int64_t now = l->time_ns ? l->time_ns : vs_now_ns();

	if (g->json) {
		json_object *root = json_object_new_object(), *arr = json_object_new_array();

		for (size_t i = 0; i < l->n_rules; i++) {
			const Vsctl__ShapeRule *r = l->rules[i];
			json_object *o = json_object_new_object();
			int64_t left = r->expires_ns - now;

			json_object_object_add(o, "domain", json_object_new_string(vs_str(r->domain)));
			json_object_object_add(o, "vif", json_object_new_string(vs_str(r->vif)));
			json_object_object_add(o, "ifb", json_object_new_string(vs_str(r->ifb)));
			json_object_object_add(o, "direction",
			    json_object_new_string(vs_str(r->direction)));
			json_object_object_add(o, "rate_bps", json_object_new_int64((int64_t)r->rate_bps));
			json_object_object_add(o, "ceil_bps", json_object_new_int64((int64_t)r->ceil_bps));
			json_object_object_add(o, "burst_bytes", json_object_new_int64(r->burst_bytes));
			json_object_object_add(o, "ttl_s", json_object_new_double(r->ttl_ns / 1e9));
			json_object_object_add(o, "lease_left_s",
			    json_object_new_double(left > 0 ? left / 1e9 : 0));
			json_object_object_add(o, "from_vm", s_json_stats(r->from_vm));
			json_object_object_add(o, "to_vm", s_json_stats(r->to_vm));
			json_object_array_add(arr, o);
		}
		json_object_object_add(root, "rules", arr);
		return vs_json_emit(root, false) < 0 ? VS_EXIT_ERR : VS_EXIT_OK;
	}
	if (l->n_rules == 0) {
		printf("no shaping rules in force\n");
		return VS_EXIT_OK;
	}
	printf("%-16s %-10s %-10s %-8s %10s %10s %8s %9s %12s %9s %10s\n", "Domain", "VIF", "IFB",
	    "Dir", "Rate", "Ceil", "Burst", "Lease(s)", "Bytes", "Drops", "Overlimits");
	for (size_t i = 0; i < l->n_rules; i++) {
		const Vsctl__ShapeRule *r = l->rules[i];
		const Vsctl__ShapeStats *s = r->from_vm && r->from_vm->valid ? r->from_vm : r->to_vm;
		char rate[32], ceil[32];
		int64_t left = r->expires_ns - now;

		vs_shape_fmt_rate(r->rate_bps, rate, sizeof(rate));
		vs_shape_fmt_rate(r->ceil_bps, ceil, sizeof(ceil));
		printf("%-16s %-10s %-10s %-8s %10s %10s %8u %9.1f %12" PRIu64 " %9" PRIu64
		    " %10" PRIu64 "\n", vs_str(r->domain), vs_str(r->vif),
		    *vs_str(r->ifb) ? r->ifb : "-", vs_str(r->direction), rate, ceil, r->burst_bytes,
		    left > 0 ? left / 1e9 : 0.0, s ? s->bytes : 0, s ? s->drops : 0,
		    s ? s->overlimits : 0);
	}
	return VS_EXIT_OK;
}

static int
s_send(vs_globals_t *g, Vsctl__Request *req)
{
	vs_client_t *client;
	Vsctl__Reply *rep;
	int rc;

	if ((client = vs_connect(g)) == NULL)
		return VS_EXIT_ERR;
	if ((rep = vs_call(client, req)) == NULL) {
		vs_client_destroy(&client);
		return VS_EXIT_ERR;
	}
	rc = rep->shape ? s_print(g, rep->shape) : VS_EXIT_ERR;
	vsctl__reply__free_unpacked(rep, NULL);
	vs_client_destroy(&client);
	return rc;
}

enum { O_RATE = 0x2000, O_CEIL, O_BURST, O_TTL, O_DIR, O_VIF, O_LIST };

int
vs_cmd_shape(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "rate", required_argument, NULL, O_RATE },
		{ "ceil", required_argument, NULL, O_CEIL },
		{ "burst", required_argument, NULL, O_BURST },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "direction", required_argument, NULL, O_DIR },
		{ "vif", required_argument, NULL, O_VIF },
		{ "list", no_argument, NULL, O_LIST },
		{ NULL, 0, NULL, 0 },
	};
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__ShapeReq sq = VSCTL__SHAPE_REQ__INIT;
	Vsctl__ShapeListReq lq = VSCTL__SHAPE_LIST_REQ__INIT;
	const char *vif = "";
	char err[160];
	uint32_t burst = VS_SHAPE_DEFAULT_BURST;
	uint64_t rate = 0, ceil = 0;
	int64_t ttl = 600LL * VS_NS_PER_SEC;
	int dir = VS_SHAPE_FROM_VM, list = 0, opt, r;

	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (opt) {
		case O_RATE:
			if (vs_shape_parse_rate(optarg, &rate, err, sizeof(err)) < 0)
				return vs_usage_error("shape", "--rate: %s", err);
			break;
		case O_CEIL:
			if (vs_shape_parse_rate(optarg, &ceil, err, sizeof(err)) < 0)
				return vs_usage_error("shape", "--ceil: %s", err);
			break;
		case O_BURST:
			if (vs_shape_parse_size(optarg, &burst, err, sizeof(err)) < 0)
				return vs_usage_error("shape", "--burst: %s", err);
			break;
		case O_TTL:
			if (vs_shape_parse_ttl(optarg, &ttl, err, sizeof(err)) < 0)
				return vs_usage_error("shape", "--ttl: %s", err);
			break;
		case O_DIR:
			if (vs_shape_parse_dir(optarg, &dir, err, sizeof(err)) < 0)
				return vs_usage_error("shape", "--direction: %s", err);
			break;
		case O_VIF:
			if (strlen(optarg) == 0 || strlen(optarg) >= 16)
				return vs_usage_error("shape", "--vif: bad interface name '%.40s'",
				    optarg);
			vif = optarg;
			break;
		case O_LIST:
			list = 1;
			break;
		default:
			r = vs_common_opt(g, "shape", opt, optarg);
			if (r != 0)
				return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
		}
	}
	if (list) {
		if (optind < argc)
			return vs_usage_error("shape", "--list takes no domain");
		req.body_case = VSCTL__REQUEST__BODY_SHAPE_LIST;
		req.shape_list = &lq;
		return s_send(g, &req);
	}
	if (optind + 1 != argc)
		return vs_usage_error("shape", "name one DOMAIN (or use --list)");
	if (rate == 0)
		return vs_usage_error("shape", "--rate is required");
	if (ceil && ceil < rate)
		return vs_usage_error("shape", "--ceil is below --rate");
	sq.domain = argv[optind];
	sq.vif = (char *)vif;
	sq.rate_bps = rate;
	sq.ceil_bps = ceil;
	sq.burst_bytes = burst;
	sq.ttl_ns = ttl;
	sq.direction = (uint32_t)dir;
	req.body_case = VSCTL__REQUEST__BODY_SHAPE;
	req.shape = &sq;
	return s_send(g, &req);
}

int
vs_cmd_unshape(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "vif", required_argument, NULL, O_VIF },
		{ NULL, 0, NULL, 0 },
	};
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__UnshapeReq uq = VSCTL__UNSHAPE_REQ__INIT;
	const char *vif = "";
	int opt, r;

	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (opt == O_VIF) {
			vif = optarg;
			continue;
		}
		r = vs_common_opt(g, "unshape", opt, optarg);
		if (r != 0)
			return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return vs_usage_error("unshape", "name one DOMAIN");
	uq.domain = argv[optind];
	uq.vif = (char *)vif;
	req.body_case = VSCTL__REQUEST__BODY_UNSHAPE;
	req.unshape = &uq;
	return s_send(g, &req);
}
