/*
 * vscope guest-logs [DOMAIN]: what vscoped's intake holds of the guests' tailed log lines
 * (GuestLogsReq, lib/control.proto): the counters per domain and log (--stats), or the lines
 * themselves from --cursor on. `vscope mscope record` is what loads them into the warehouse.
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

enum { S_OPT_STATS = 0x3000, S_OPT_CURSOR };

int
vs_cmd_guest_logs(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "stats", no_argument, NULL, S_OPT_STATS },
		{ "cursor", required_argument, NULL, S_OPT_CURSOR },
		{ NULL, 0, NULL, 0 },
	};
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__GuestLogsReq q = VSCTL__GUEST_LOGS_REQ__INIT;
	Vsctl__Reply *rep = NULL;
	vs_client_t *client = NULL;
	int opt, rc = VS_EXIT_ERR, stats = 0;

	q.domain = "";
	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r;
		char *end;

		switch (opt) {
		case S_OPT_STATS: stats = 1; break;
		case S_OPT_CURSOR:
			errno = 0;
			q.cursor = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end)
				return vs_usage_error("guest-logs", "bad --cursor '%s'", optarg);
			break;
		default:
			r = vs_common_opt(g, "guest-logs", opt, optarg);
			if (r != 0)
				return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return vs_usage_error("guest-logs", "at most one DOMAIN");
	if (argc - optind == 1)
		q.domain = argv[optind];
	req.body_case = VSCTL__REQUEST__BODY_GUEST_LOGS;
	req.guest_logs = &q;
	if ((client = vs_connect(g)) == NULL || (rep = vs_call(client, &req)) == NULL)
		goto out;
	if (rep->body_case != VSCTL__REPLY__BODY_GUEST_LOGS) {
		vs_error("unexpected reply from vscoped");
		goto out;
	}
	const Vsctl__GuestLogs *l = rep->guest_logs;
	if (g->json) {
		json_object *o = json_object_new_object(), *a = json_object_new_array();

		json_object_object_add(o, "next_cursor", json_object_new_uint64(l->next_cursor));
		json_object_object_add(o, "oldest", json_object_new_uint64(l->oldest));
		json_object_object_add(o, "queued_bytes", json_object_new_uint64(l->queued_bytes));
		json_object_object_add(o, "bad_batches", json_object_new_uint64(l->bad_batches));
		for (size_t i = 0; i < l->n_stats; i++) {
			const Vsctl__GuestLogStat *s = l->stats[i];
			json_object *x = json_object_new_object();
			json_object_object_add(x, "domain", json_object_new_string(s->domain));
			json_object_object_add(x, "log", json_object_new_int64(s->log));
			json_object_object_add(x, "path", json_object_new_string(s->path));
#define S_N(k) json_object_object_add(x, #k, json_object_new_uint64(s->k))
			S_N(batches); S_N(lines); S_N(gap_lines); S_N(queue_dropped);
			S_N(truncations); S_N(rotations); S_N(cut_lines); S_N(agent_dropped);
#undef S_N
			json_object_array_add(a, x);
		}
		json_object_object_add(o, "stats", a);
		if (!stats) {
			json_object *b = json_object_new_array();
			for (size_t i = 0; i < l->n_batches; i++) {
				const Vsctl__GuestLogBatch *x = l->batches[i];
				json_object *y = json_object_new_object();
				json_object_object_add(y, "domain", json_object_new_string(x->domain));
				json_object_object_add(y, "seq", json_object_new_uint64(x->seq));
				json_object_object_add(y, "path", json_object_new_string(x->path));
				json_object_object_add(y, "generation",
				    json_object_new_uint64(x->generation));
				json_object_object_add(y, "first_line",
				    json_object_new_uint64(x->first_line));
				json_object_object_add(y, "nlines", json_object_new_int64(x->nlines));
				json_object_object_add(y, "text", json_object_new_string(x->text));
				json_object_array_add(b, y);
			}
			json_object_object_add(o, "batches", b);
		}
		if (vs_json_emit(o, false) < 0)
			goto out;
	} else if (stats) {
		printf("%-16s %3s %-32s %8s %8s %6s %8s %5s %5s %5s %7s\n", "DOMAIN", "LOG", "PATH",
		    "LINES", "BATCHES", "GAP", "QDROP", "ROT", "TRUNC", "CUT", "ADROP");
		for (size_t i = 0; i < l->n_stats; i++) {
			const Vsctl__GuestLogStat *s = l->stats[i];
			printf("%-16s %3u %-32s %8" PRIu64 " %8" PRIu64 " %6" PRIu64 " %8" PRIu64
			    " %5" PRIu64 " %5" PRIu64 " %5" PRIu64 " %7" PRIu64 "\n", s->domain,
			    s->log, s->path, s->lines, s->batches, s->gap_lines, s->queue_dropped,
			    s->rotations, s->truncations, s->cut_lines, s->agent_dropped);
		}
		printf("queued %" PRIu64 " bytes, oldest seq %" PRIu64 ", next cursor %" PRIu64
		    ", %" PRIu64 " bad batches\n", l->queued_bytes, l->oldest, l->next_cursor,
		    l->bad_batches);
	} else {
		for (size_t i = 0; i < l->n_batches; i++)
			fputs(l->batches[i]->text, stdout);
		fprintf(stderr, "next cursor %" PRIu64 "\n", l->next_cursor);
	}
	rc = VS_EXIT_OK;
out:
	if (rep != NULL)
		vsctl__reply__free_unpacked(rep, NULL);
	vs_client_destroy(&client);
	return rc;
}
