/*
 * vscope guest-samples [DOMAIN]: the resource samples guests' agents took at millisecond
 * intervals (the agent's resources directive) as vscoped's intake keeps them
 * (GuestSamplesReq, lib/control.proto): the counters (--stats), or the rows from --cursor on.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vscope.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_OPT_STATS = 0x3100, S_OPT_CURSOR, S_OPT_MAX };

int
vs_cmd_guest_samples(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "stats", no_argument, NULL, S_OPT_STATS },
		{ "cursor", required_argument, NULL, S_OPT_CURSOR },
		{ "max-rows", required_argument, NULL, S_OPT_MAX },
		{ NULL, 0, NULL, 0 },
	};
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__GuestSamplesReq q = VSCTL__GUEST_SAMPLES_REQ__INIT;
	Vsctl__Reply *rep = NULL;
	vs_client_t *client = NULL;
	int opt, rc = VS_EXIT_ERR;
	unsigned long long u;

	q.domain = "";
	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r;
		char *end;

		switch (opt) {
		case S_OPT_STATS: q.stats_only = 1; break;
		case S_OPT_CURSOR:
		case S_OPT_MAX:
			errno = 0;
			u = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || (opt == S_OPT_MAX && (u < 1 ||
			    u > 100000)))
				return vs_usage_error("guest-samples", "bad %s '%s'", opt ==
				    S_OPT_MAX ? "--max-rows (1..100000)" : "--cursor", optarg);
			if (opt == S_OPT_MAX)
				q.max_rows = (uint32_t)u;
			else
				q.cursor = u;
			break;
		default:
			r = vs_common_opt(g, "guest-samples", opt, optarg);
			if (r != 0)
				return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return vs_usage_error("guest-samples", "at most one DOMAIN");
	if (argc - optind == 1)
		q.domain = argv[optind];
	req.body_case = VSCTL__REQUEST__BODY_GUEST_SAMPLES;
	req.guest_samples = &q;
	if ((client = vs_connect(g)) == NULL || (rep = vs_call(client, &req)) == NULL)
		goto out;
	if (rep->body_case != VSCTL__REPLY__BODY_GUEST_SAMPLES) {
		vs_error("unexpected reply from vscoped");
		goto out;
	}
	const Vsctl__GuestSamples *l = rep->guest_samples;
	if (g->json) {
		json_object *o = json_object_new_object(), *a = json_object_new_array();

#define S_O(k) json_object_object_add(o, #k, json_object_new_uint64(l->k))
		S_O(next_cursor); S_O(oldest); S_O(kept_rows); S_O(kept_bytes); S_O(pushed_out);
#undef S_O
		json_object_object_add(o, "epoch", json_object_new_int64(l->epoch));
		for (size_t i = 0; i < l->n_stats; i++) {
			const Vsctl__GuestSamplesStat *s = l->stats[i];
			json_object *x = json_object_new_object();
			json_object_object_add(x, "domain", json_object_new_string(s->domain));
#define S_N(k) json_object_object_add(x, #k, json_object_new_uint64(s->k))
			S_N(samples); S_N(rows); S_N(pushed_out); S_N(bad);
#undef S_N
			json_object_object_add(x, "last_ts_ns", json_object_new_int64(s->last_ts_ns));
			json_object_array_add(a, x);
		}
		json_object_object_add(o, "stats", a);
		if (!q.stats_only) {
			json_object *b = json_object_new_array();
			for (size_t i = 0; i < l->n_rows; i++) {
				const Vsctl__GuestSample *x = l->rows[i];
				json_object *y = json_object_new_object(), *v = json_object_new_array();
				json_object_object_add(y, "domain", json_object_new_string(x->domain));
				json_object_object_add(y, "seq", json_object_new_uint64(x->seq));
				json_object_object_add(y, "ts_ns", json_object_new_int64(x->ts_ns));
				json_object_object_add(y, "kind", json_object_new_string(x->kind));
				json_object_object_add(y, "dev", json_object_new_string(x->dev));
				for (size_t k = 0; k < x->n_v; k++)
					json_object_array_add(v, json_object_new_uint64(x->v[k]));
				json_object_object_add(y, "v", v);
				json_object_array_add(b, y);
			}
			json_object_object_add(o, "rows", b);
		}
		if (vs_json_emit(o, false) < 0)
			goto out;
	} else if (q.stats_only) {
		printf("%-16s %10s %10s %10s %6s %s\n", "DOMAIN", "SAMPLES", "ROWS", "PUSHED", "BAD",
		    "LAST");
		for (size_t i = 0; i < l->n_stats; i++) {
			const Vsctl__GuestSamplesStat *s = l->stats[i];
			printf("%-16s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %6" PRIu64 " %" PRId64
			    "\n", s->domain[0] ? s->domain : "(all)", s->samples, s->rows,
			    s->pushed_out, s->bad, s->last_ts_ns);
		}
		printf("kept %" PRIu64 " rows (%" PRIu64 " bytes), oldest seq %" PRIu64
		    ", next cursor %" PRIu64 ", %" PRIu64 " pushed out\n", l->kept_rows,
		    l->kept_bytes, l->oldest, l->next_cursor, l->pushed_out);
	} else {
		printf("%-8s %-16s %-19s %-4s %-10s %s\n", "SEQ", "DOMAIN", "TS_NS", "KIND", "DEV",
		    "VALUES");
		for (size_t i = 0; i < l->n_rows; i++) {
			const Vsctl__GuestSample *x = l->rows[i];
			printf("%-8" PRIu64 " %-16s %-19" PRId64 " %-4s %-10s", x->seq, x->domain,
			    x->ts_ns, x->kind, x->dev[0] ? x->dev : "-");
			for (size_t k = 0; k < x->n_v; k++)
				printf(" %" PRIu64, x->v[k]);
			putchar('\n');
		}
		fprintf(stderr, "next cursor %" PRIu64 "\n", l->next_cursor);
	}
	rc = VS_EXIT_OK;
out:
	if (rep != NULL)
		vsctl__reply__free_unpacked(rep, NULL);
	vs_client_destroy(&client);
	return rc;
}
