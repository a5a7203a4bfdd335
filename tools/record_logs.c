/*
 * The guests' live log lines in `vscope mscope record` (record_logs.h). vscoped only queues
 * them; they are parsed here, by mscope's spec engine, exactly as `vscope mscope ingest`
 * parses a file: a named spec, or the spec vs_mspec_from_logformat derives from the Apache
 * LogFormat the agent's `log` directive gives. A line that does not parse is counted and
 * skipped, as offline.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "record_logs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "mscope.h"
#include "vscope.h"

#define S_MAX_LOGS 256                  /* domain x log pairs followed */
#define S_FETCH_BYTES (4u << 20)
#define S_STEP_BYTES (64u << 20)        /* fetched per step, at most: the rest next time */

typedef struct s_log {
	char domain[64];
	uint32_t log;
	char path[256];
	char spec[64];
	char *logformat;
	vs_mspec_t *derived;            /* from logformat */
	const vs_mspec_t *named;
	char *buf;                      /* this step's lines */
	size_t len, cap;
	uint64_t lines, rows, unparsed, loads, failed;
	/* vscoped's and the agent's counters, from the latest reply */
	uint64_t gap_lines, queue_dropped, truncations, rotations, cut, agent_dropped;
	char error[300];                /* the spec could not be had */
} s_log_t;

struct vs_reclogs {
	vs_client_t *client;
	char *run;
	uint64_t cursor;
	int64_t epoch;                  /* vscoped's start: another one numbers from 1 again */
	uint64_t restarts;
	vs_mspec_t **specs;
	size_t nspecs;
	s_log_t logs[S_MAX_LOGS];
	size_t nlogs;
	uint64_t refused;               /* batches of logs beyond S_MAX_LOGS */
	uint64_t bad_batches;
};

static Vsctl__Reply *
s_call(vs_reclogs_t *rl, uint64_t cursor, char *err, size_t errlen)
{
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__GuestLogsReq q = VSCTL__GUEST_LOGS_REQ__INIT;
	Vsctl__Reply *rep;

	q.domain = "";
	q.cursor = cursor;
	q.max_bytes = S_FETCH_BYTES;
	req.body_case = VSCTL__REQUEST__BODY_GUEST_LOGS;
	req.guest_logs = &q;
	rep = vs_client_call(rl->client, &req, err, errlen);
	if (rep != NULL && rep->body_case != VSCTL__REPLY__BODY_GUEST_LOGS) {
		snprintf(err, errlen, "vscoped answered GuestLogsReq with another reply");
		vsctl__reply__free_unpacked(rep, NULL);
		errno = EPROTO;
		return NULL;
	}
	return rep;
}

vs_reclogs_t *
vs_reclogs_new(const char *endpoint, int timeout_ms, const char *run, char *err,
    size_t errlen)
{
	vs_reclogs_t *rl = calloc(1, sizeof(*rl));
	Vsctl__Reply *rep;
	char why[512];

	if (rl == NULL || (rl->run = strdup(run)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((rl->client = vs_client_new(endpoint, timeout_ms)) == NULL) {
		snprintf(err, errlen, "%s: %s", endpoint ? endpoint : "(no endpoint)",
		    strerror(errno));
		goto fail;
	}
	/* only what comes from now on belongs to this run */
	if ((rep = s_call(rl, UINT64_MAX, err, errlen)) == NULL)
		goto fail;
	rl->cursor = rep->guest_logs->next_cursor;
	rl->epoch = rep->guest_logs->epoch;
	vsctl__reply__free_unpacked(rep, NULL);
	if (vs_mspec_load_dir(vs_mscope_specdir(NULL), &rl->specs, &rl->nspecs, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	return rl;
fail:
	vs_reclogs_destroy(&rl);
	return NULL;
}

void
vs_reclogs_destroy(vs_reclogs_t **self_p)
{
	vs_reclogs_t *rl = self_p ? *self_p : NULL;

	if (rl == NULL)
		return;
	for (size_t i = 0; i < rl->nlogs; i++) {
		free(rl->logs[i].logformat);
		free(rl->logs[i].buf);
		vs_mspec_destroy(&rl->logs[i].derived);
	}
	if (rl->specs)
		vs_mspec_free_all(&rl->specs, rl->nspecs);
	vs_client_destroy(&rl->client);
	free(rl->run);
	free(rl);
	*self_p = NULL;
}

/* The log a batch belongs to (a guest's log whose spec changed is another one). */
static s_log_t *
s_find(vs_reclogs_t *rl, const char *domain, uint32_t log, const char *path, const char *spec,
    const char *logformat)
{
	s_log_t *l;
	char why[256];

	for (size_t i = 0; i < rl->nlogs; i++) {
		l = &rl->logs[i];
		if (l->log == log && !strcmp(l->domain, domain) && !strcmp(l->path, path) &&
		    !strcmp(l->spec, spec) && !strcmp(l->logformat, logformat))
			return l;
	}
	if (rl->nlogs == S_MAX_LOGS || strlen(domain) >= sizeof(l->domain) ||
	    strlen(path) >= sizeof(l->path) || strlen(spec) >= sizeof(l->spec))
		return NULL;
	l = &rl->logs[rl->nlogs];
	memset(l, 0, sizeof(*l));
	if ((l->logformat = strdup(logformat)) == NULL)
		return NULL;
	rl->nlogs++;
	strcpy(l->domain, domain);
	strcpy(l->path, path);
	strcpy(l->spec, spec);
	l->log = log;
	if (logformat[0]) {
		l->derived = vs_mspec_from_logformat(logformat, NULL, why, sizeof(why));
		if (l->derived == NULL)
			snprintf(l->error, sizeof(l->error), "logformat: %s", why);
	} else {
		for (size_t i = 0; i < rl->nspecs; i++)
			if (strcmp(vs_mspec_name(rl->specs[i]), spec) == 0)
				l->named = rl->specs[i];
		if (l->named == NULL)
			snprintf(l->error, sizeof(l->error), "no spec '%s' here", spec);
	}
	return l;
}

static int
s_append(s_log_t *l, const char *text, size_t n)
{
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap : 65536;
		char *nb;
		while (cap < l->len + n)
			cap *= 2;
		if ((nb = realloc(l->buf, cap)) == NULL)
			return -ENOMEM;
		l->buf = nb;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, text, n);
	l->len += n;
	return 0;
}

static int
s_load(vs_reclogs_t *rl, vs_wh_t *wh, s_log_t *l, char *err, size_t errlen)
{
	vs_mload_opts_t o = { 0 };
	vs_mload_result_t *res;
	const vs_mspec_t *spec = l->derived ? l->derived : l->named;
	char name[512];
	int rc;

	if (l->len == 0)
		return 0;
	if (spec == NULL) {
		l->failed++;
		l->unparsed += l->lines;      /* counted on fetch; none of them can parse */
		l->len = 0;
		return 0;
	}
	if ((res = malloc(sizeof(*res))) == NULL)
		return -ENOMEM;
	o.run = rl->run;
	o.host = l->domain;
	o.specs = rl->specs;
	o.nspecs = rl->nspecs;
	snprintf(name, sizeof(name), "%s:%s", l->domain, l->path);
	rc = vs_mscope_load_buf(wh, spec, name, l->buf, l->len, &o, res);
	l->loads++;
	l->rows += res->rows;
	l->unparsed += res->unparsed;
	if (rc < 0 && res->rows == 0) {
		l->failed++;
		snprintf(err, errlen, "%s", res->error);
	}
	l->len = 0;
	free(res);
	/* a load that failed is recorded as such in the warehouse; the recording goes on */
	return 0;
}

int
vs_reclogs_step(vs_reclogs_t *rl, vs_wh_t *wh, char *err, size_t errlen)
{
	size_t fetched = 0;
	int rc = 0;

	for (;;) {
		Vsctl__Reply *rep = s_call(rl, rl->cursor, err, errlen);
		const Vsctl__GuestLogs *g;
		size_t bytes = 0;

		if (rep == NULL) {
			rc = errno ? -errno : -EIO;
			break;
		}
		g = rep->guest_logs;
		if (g->epoch != rl->epoch) {
			/* vscoped restarted: everything its new queue holds came after */
			rl->epoch = g->epoch;
			rl->cursor = 0;
			rl->restarts++;
			vsctl__reply__free_unpacked(rep, NULL);
			continue;
		}
		for (size_t i = 0; i < g->n_batches; i++) {
			const Vsctl__GuestLogBatch *b = g->batches[i];
			s_log_t *l = s_find(rl, b->domain, b->log, b->path, b->spec, b->logformat);
			size_t n = strlen(b->text);

			if (l == NULL) {
				rl->refused++;
				continue;
			}
			l->lines += b->nlines;
			if (s_append(l, b->text, n) < 0) {
				rc = -ENOMEM;
				break;
			}
			bytes += n;
		}
		for (size_t i = 0; i < g->n_stats; i++) {
			const Vsctl__GuestLogStat *st = g->stats[i];
			for (size_t k = 0; k < rl->nlogs; k++) {
				s_log_t *l = &rl->logs[k];
				if (l->log != st->log || strcmp(l->domain, st->domain) ||
				    strcmp(l->path, st->path))
					continue;
				l->gap_lines = st->gap_lines;
				l->queue_dropped = st->queue_dropped;
				l->truncations = st->truncations;
				l->rotations = st->rotations;
				l->cut = st->cut_lines;
				l->agent_dropped = st->agent_dropped;
			}
		}
		rl->bad_batches = g->bad_batches;
		rl->cursor = g->next_cursor;
		fetched += bytes;
		vsctl__reply__free_unpacked(rep, NULL);
		if (rc < 0 || bytes == 0 || fetched >= S_STEP_BYTES)
			break;
	}
	for (size_t i = 0; i < rl->nlogs; i++) {
		int r = s_load(rl, wh, &rl->logs[i], err, errlen);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

void
vs_reclogs_print(const vs_reclogs_t *rl, FILE *f)
{
	for (size_t i = 0; i < rl->nlogs; i++) {
		const s_log_t *l = &rl->logs[i];

		fprintf(f, "  log %s:%s (%s): %" PRIu64 " lines, %" PRIu64 " rows, %" PRIu64
		    " unparsed; agent: %" PRIu64 " rotations, %" PRIu64 " truncations, %" PRIu64
		    " cut, %" PRIu64 " dropped; vscoped: %" PRIu64 " gap, %" PRIu64 " queue-dropped"
		    "%s%s\n", l->domain, l->path, l->logformat[0] ? "logformat" : l->spec, l->lines,
		    l->rows, l->unparsed, l->rotations, l->truncations, l->cut, l->agent_dropped,
		    l->gap_lines, l->queue_dropped, l->error[0] ? "; " : "", l->error);
	}
}

json_object *
vs_reclogs_json(const vs_reclogs_t *rl)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < rl->nlogs; i++) {
		const s_log_t *l = &rl->logs[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "domain", json_object_new_string(l->domain));
		json_object_object_add(o, "path", json_object_new_string(l->path));
		json_object_object_add(o, "spec", json_object_new_string(l->spec));
		json_object_object_add(o, "logformat", json_object_new_string(l->logformat));
#define S_N(k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))
		S_N("lines", l->lines);
		S_N("rows", l->rows);
		S_N("unparsed", l->unparsed);
		S_N("loads", l->loads);
		S_N("failed_loads", l->failed);
		S_N("rotations", l->rotations);
		S_N("truncations", l->truncations);
		S_N("cut_lines", l->cut);
		S_N("agent_dropped", l->agent_dropped);
		S_N("gap_lines", l->gap_lines);
		S_N("queue_dropped", l->queue_dropped);
#undef S_N
		if (l->error[0])
			json_object_object_add(o, "error", json_object_new_string(l->error));
		json_object_array_add(a, o);
	}
	return a;
}
