/*
 * vscope conns [DOMAIN]: a guest's TCP connection table as its agent last sent it through
 * the intake (GuestConnsReq), or without DOMAIN Dom0's own (ConnsReq).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "vscope.h"
#include "wire.h"

static json_object *
s_conn_json(const Vsctl__Conn *c, int host)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "local", json_object_new_string(vs_str(c->src)));
	json_object_object_add(o, "remote", json_object_new_string(vs_str(c->dst)));
	json_object_object_add(o, "state", json_object_new_string(vs_str(c->state)));
	json_object_object_add(o, "rtt_us", json_object_new_int64(c->rtt_us));
	json_object_object_add(o, "bytes_acked", json_object_new_uint64(c->bytes_acked));
	json_object_object_add(o, "bytes_received", json_object_new_uint64(c->bytes_received));
	if (host) {
		json_object_object_add(o, "uid", json_object_new_int64(c->uid));
		json_object_object_add(o, "inode", json_object_new_uint64(c->inode));
	}
	return o;
}

static void
s_conns_text(Vsctl__Conn **c, size_t n)
{
	printf("%-46s %-46s %-11s %8s %12s %12s\n", "LOCAL", "REMOTE", "STATE", "RTT(us)",
	    "BYTES-ACKED", "BYTES-RECV");
	for (size_t i = 0; i < n; i++)
		printf("%-46s %-46s %-11s %8u %12llu %12llu\n", vs_str(c[i]->src),
		    vs_str(c[i]->dst), vs_str(c[i]->state), c[i]->rtt_us,
		    (unsigned long long)c[i]->bytes_acked,
		    (unsigned long long)c[i]->bytes_received);
}

int
vs_cmd_conns(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__ConnsReq creq = VSCTL__CONNS_REQ__INIT;
	Vsctl__GuestConnsReq greq = VSCTL__GUEST_CONNS_REQ__INIT;
	Vsctl__Reply *rep = NULL;
	vs_client_t *client = NULL;
	const char *domain = NULL;
	int opt, rc = VS_EXIT_ERR;

	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r = vs_common_opt(g, "conns", opt, optarg);

		if (r != 0)
			return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
	}
	if (argc - optind > 1)
		return vs_usage_error("conns", "at most one DOMAIN");
	if (argc - optind == 1) {
		domain = argv[optind];
		if (domain[0] == '\0' || strlen(domain) > VS_CTL_MAX_NAME_LEN)
			return vs_usage_error("conns", "bad domain name (1..%d bytes)",
			    VS_CTL_MAX_NAME_LEN);
		greq.domain = (char *)domain;
		req.body_case = VSCTL__REQUEST__BODY_GUEST_CONNS;
		req.guest_conns = &greq;
	} else {
		req.body_case = VSCTL__REQUEST__BODY_CONNS;
		req.conns = &creq;
	}
	if ((client = vs_connect(g)) == NULL || (rep = vs_call(client, &req)) == NULL)
		goto out;
	if (domain && rep->body_case == VSCTL__REPLY__BODY_GUEST_CONNS) {
		const Vsctl__GuestConns *t = rep->guest_conns;

		if (g->json) {
			json_object *o = json_object_new_object(), *a = json_object_new_array();

			json_object_object_add(o, "domain", json_object_new_string(domain));
			json_object_object_add(o, "time_ns", json_object_new_int64(t->time_ns));
			json_object_object_add(o, "guest_time_ns",
			    json_object_new_int64(t->guest_time_ns));
			json_object_object_add(o, "guest_total",
			    json_object_new_int64(t->guest_total));
			json_object_object_add(o, "guest_truncated",
			    json_object_new_boolean(t->guest_truncated));
			json_object_object_add(o, "dropped", json_object_new_int64(t->dropped));
			json_object_object_add(o, "cap", json_object_new_int64(t->cap));
			json_object_object_add(o, "tables", json_object_new_uint64(t->tables));
			for (size_t i = 0; i < t->n_conns; i++)
				json_object_array_add(a, s_conn_json(t->conns[i], 0));
			json_object_object_add(o, "conns", a);
			if (vs_json_emit(o, false) < 0)
				goto out;
		} else {
			double age = (double)(vs_now_ns() - t->time_ns) / 1e9;

			printf("%s: %zu connection(s), table received %.1f s ago (#%llu)", domain,
			    t->n_conns, age < 0 ? 0 : age, (unsigned long long)t->tables);
			if (t->dropped)
				printf("; %u more over the cap of %u not kept", t->dropped, t->cap);
			if (t->guest_truncated)
				printf("; the agent had more than it sent");
			printf("\n");
			s_conns_text(t->conns, t->n_conns);
		}
	} else if (!domain && rep->body_case == VSCTL__REPLY__BODY_CONNS) {
		const Vsctl__Connections *t = rep->conns;

		if (g->json) {
			json_object *o = json_object_new_object(), *a = json_object_new_array();

			json_object_object_add(o, "domain", json_object_new_string("host"));
			json_object_object_add(o, "time_ns", json_object_new_int64(t->time_ns));
			for (size_t i = 0; i < t->n_conns; i++)
				json_object_array_add(a, s_conn_json(t->conns[i], 1));
			json_object_object_add(o, "conns", a);
			if (vs_json_emit(o, false) < 0)
				goto out;
		} else
			s_conns_text(t->conns, t->n_conns);
	} else {
		vs_error("unexpected reply from vscoped");
		goto out;
	}
	rc = VS_EXIT_OK;
out:
	if (rep != NULL)
		vsctl__reply__free_unpacked(rep, NULL);
	vs_client_destroy(&client);
	return rc;
}
