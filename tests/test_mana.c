/*
 * milliScope's analyses (mscope/analysis.h) on inputs built by hand, checked against values
 * worked out by hand from the rules at the top of mscope/analysis.c: request paths by ID
 * across three tiers, the median, queue lengths (total and own, with the downstream-begin
 * rule) at 1 ms instants, VLRT counts for a given k, VLRT clusters and the gap rule, the
 * tier whose queue rose first (a database stall, a middle-tier stall), explanations ranked
 * (a disk series that spikes in the cluster against a noisy CPU series, and the reverse),
 * metric classes of the columns the shipped specs write, and bad input and limits.
 *
 * Times are in milliseconds from T0 (2026-11-27T00:00:00Z, a multiple of the 50 ms window,
 * so the analyses' first instant is T0 itself).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "tap.h"

#define MS 1000000LL
#define T0 (1795737600000LL * MS)
#define NONE INT64_MIN

static int64_t
at(double ms)
{
	return T0 + (int64_t)llround(ms * 1e6);
}

static vs_mtier_t *
tier(vs_mana_input_t *in, const char *name)
{
	vs_mtier_t *t = &in->tiers[in->ntiers++];

	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->table, sizeof(t->table), "%s_log", name);
	return t;
}

/* One visit: begin/end in ms from T0, ds (when it was sent downstream) or NAN. */
static void
add(vs_mtier_t *t, const char *id, double b, double e, double ds)
{
	int rc = vs_mana_tier_add(t, id, id ? strlen(id) : 0, at(b), at(e),
	    isnan(ds) ? NONE : at(ds));

	if (rc < 0)
		tap_diag("vs_mana_tier_add: %s", strerror(-rc));
}

static json_object *
jget(json_object *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strtok_r(buf, ".", &save); p != NULL && o != NULL;
	    p = strtok_r(NULL, ".", &save)) {
		char *end;
		long i = strtol(p, &end, 10);
		if (*end == '\0' && end != p)
			o = json_object_is_type(o, json_type_array) ?
			    json_object_array_get_idx(o, (size_t)i) : NULL;
		else if (!json_object_object_get_ex(o, p, &o))
			o = NULL;
	}
	return o;
}

static int64_t
jint(json_object *o, const char *path)
{
	json_object *x = jget(o, path);

	return x == NULL ? -999999 : json_object_get_int64(x);
}

static double
jdbl(json_object *o, const char *path)
{
	json_object *x = jget(o, path);

	return x == NULL ? -999999.0 : json_object_get_double(x);
}

static const char *
jstr(json_object *o, const char *path)
{
	json_object *x = jget(o, path);

	return x == NULL ? "(null)" : json_object_get_string(x);
}

/* ---- 1: paths and queues on a handful of requests ---- */

static void
t_paths_queues(void)
{
	vs_mana_input_t in = { 0 };
	vs_mana_opts_t o;
	vs_mana_t *a;
	char err[256] = "";
	uint64_t complete = 0;
	vs_mtier_t *web = tier(&in, "web"), *app = tier(&in, "app"), *db = tier(&in, "db");

	/* X passes all three tiers; web and app log when they sent it downstream */
	add(web, "X", 0, 10, 2);
	add(app, "X", 3, 9, 4);
	add(db, "X", 6, 8, NAN);
	/* Y skips the app tier (its db row has no parent); a front row without an ID */
	add(web, "Y", 20, 25, NAN);
	add(db, "Y", 21, 23, NAN);
	add(web, NULL, 40, 41, NAN);
	/* Q: web's downstream time before its own begin is clamped to the begin */
	add(web, "Q", 50, 60, 45);
	add(app, "Q", 52, 58, NAN);
	/* R: a downstream time after the next tier's begin does not move it */
	add(web, "R", 70, 80, 75);
	add(app, "R", 72, 78, NAN);
	add(db, "R", 73, 77, NAN);
	/* Z: an app row no front request leads to */
	add(app, "Z", 30, 32, NAN);
	/* dropped: end before begin, no begin, no end */
	add(web, "bad", 90, 85, NAN);
	TAP_IS_INT(vs_mana_tier_add(web, "nob", 3, NONE, at(5), NONE), 0, "a row without a begin"
	    " is not an error");
	TAP_IS_INT(vs_mana_tier_add(web, "noe", 3, at(5), NONE, NONE), 0, "... nor one without"
	    " an end");
	TAP_IS_INT(web->n, 5, "web keeps its 5 whole rows");
	TAP_IS_INT(web->dropped, 3, "... and counts end < begin, no begin, no end as dropped");
	TAP_IS_INT(vs_mana_tier_add(web, "same", 4, at(100), at(100), NONE), 0,
	    "end == begin is kept");
	TAP_IS_INT(web->dropped, 3, "... not dropped");
	web->n--;               /* take it back out: it would move the end of the data */
	free(web->reqs[web->n].id);

	vs_mana_opts_default(&o);
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (!tap_ok(a != NULL, "compute: %s", a ? "ok" : err)) {
		vs_mana_input_dispose(&in);
		return;
	}
	TAP_IS_INT(vs_mana_npaths(a, &complete), 4, "paths: 4 front requests with an ID");
	TAP_IS_INT(complete, 2, "... 2 complete (X and R; Y has no app row, Q no db row)");
	/* web residences 10, 5, 1, 10, 10 ms */
	TAP_IS_INT(vs_mana_median_ns(a), 10 * MS, "median front residence 10 ms");
	TAP_IS_INT(vs_mana_nvlrt(a), 0, "no VLRT at k = 10 (threshold 100 ms)");
	TAP_IS_INT(vs_mana_nclusters(a), 0, "... and no cluster");

	static const struct {
		double t;
		int q[3], own[3];
		const char *why;
	} want[] = {
		{ 0, { 1, 0, 0 }, { 1, 0, 0 }, "X arrives at web" },
		{ 1, { 1, 0, 0 }, { 1, 0, 0 }, "X in web only" },
		{ 2, { 1, 1, 0 }, { 0, 1, 0 }, "web sent X at 2: app counts it from 2, not 3" },
		{ 3, { 1, 1, 0 }, { 0, 1, 0 }, "X in app" },
		{ 4, { 1, 1, 1 }, { 0, 0, 1 }, "app sent X at 4: db counts it from 4, not 6" },
		{ 7, { 1, 1, 1 }, { 0, 0, 1 }, "X in db" },
		{ 8, { 1, 1, 0 }, { 0, 1, 0 }, "db done at 8 (end excluded)" },
		{ 9, { 1, 0, 0 }, { 1, 0, 0 }, "app done at 9" },
		{ 10, { 0, 0, 0 }, { 0, 0, 0 }, "web done at 10" },
		{ 21, { 1, 0, 1 }, { 1, 0, 1 }, "Y's db row (no parent) counts in db only" },
		{ 30, { 0, 1, 0 }, { 0, 1, 0 }, "orphan Z in app" },
		{ 40, { 1, 0, 0 }, { 1, 0, 0 }, "the row without an ID counts" },
		{ 50, { 1, 1, 0 }, { 0, 1, 0 }, "Q: ds 45 clamped to web's begin 50" },
		{ 58, { 1, 0, 0 }, { 1, 0, 0 }, "Q back in web" },
		{ 72, { 1, 1, 0 }, { 0, 1, 0 }, "R: ds 75 is after app's begin 72: app from 72" },
		{ 73, { 1, 1, 1 }, { 0, 0, 1 }, "R in db" },
		{ 77, { 1, 1, 0 }, { 0, 1, 0 }, "R back in app" },
		{ 79, { 1, 0, 0 }, { 1, 0, 0 }, "R back in web" },
	};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		int q[3], own[3];
		for (size_t i = 0; i < 3; i++) {
			q[i] = vs_mana_queue_at(a, i, at(want[k].t), 0);
			own[i] = vs_mana_queue_at(a, i, at(want[k].t), 1);
		}
		tap_ok(memcmp(q, want[k].q, sizeof(q)) == 0 &&
		    memcmp(own, want[k].own, sizeof(own)) == 0,
		    "queue at %g ms: %s", want[k].t, want[k].why) ||
		    (tap_diag("  got total %d %d %d own %d %d %d", q[0], q[1], q[2], own[0], own[1],
		    own[2]), 0);
	}
	TAP_IS_INT(vs_mana_queue_at(a, 3, at(5), 0), 0, "queue of a tier that is not there: 0");
	TAP_IS_INT(vs_mana_queue_at(a, 0, at(-1), 0), 0, "... before the first instant: 0");
	TAP_IS_INT(vs_mana_queue_at(a, 0, at(500), 0), 0, "... after the last: 0");
	TAP_IS_INT(vs_mana_cluster(a, 0, NULL, NULL, NULL, NULL, NULL, NULL), -ENOENT,
	    "vs_mana_cluster beyond the clusters: -ENOENT");

	json_object *j = vs_mana_json(a, 1);
	TAP_IS_INT(jint(j, "tiers.0.requests"), 5, "json: web 5 requests");
	TAP_IS_INT(jint(j, "tiers.0.with_id"), 4, "json: ... 4 with an ID");
	TAP_IS_INT(jint(j, "tiers.0.dropped"), 3, "json: ... 3 dropped");
	TAP_IS_INT(jint(j, "tiers.1.matched_upstream"), 3, "json: app rows X, Q, R match web");
	TAP_IS_INT(jint(j, "tiers.2.matched_upstream"), 2, "json: db rows X, R match app");
	TAP_IS_INT(jint(j, "tiers.0.happens_before_violations") +
	    jint(j, "tiers.1.happens_before_violations") +
	    jint(j, "tiers.2.happens_before_violations"), 0, "json: no happens-before violation");
	TAP_IS_INT(llround(jdbl(j, "tiers.1.residence_median_ms") * 1000), 6000,
	    "json: app residences 2, 6, 6, 6 ms: median 6");
	TAP_IS_INT(llround(jdbl(j, "tiers.2.residence_median_ms") * 1000), 2000,
	    "json: db residences 2, 2, 4 ms: median 2");
	TAP_IS_INT(jint(j, "tiers.0.queue_max"), 1, "json: web queue max 1");
	TAP_IS_INT(jint(j, "paths.complete"), 2, "json: paths.complete 2");
	TAP_IS_INT(jint(j, "start_ns"), T0, "json: the first instant is T0");
	TAP_IS_INT(json_object_array_length(jget(j, "windows")), 2,
	    "json --series: two 50 ms windows cover 0..80 ms");
	TAP_IS_INT(jint(j, "windows.0.completed"), 3, "json: window 0 sees X, Y, the ID-less"
	    " row end");
	TAP_IS_INT(jint(j, "windows.1.completed"), 2, "json: window 1 sees Q and R end");
	json_object_put(j);
	vs_mana_destroy(&a);
	tap_ok(a == NULL, "vs_mana_destroy clears the pointer");
	vs_mana_input_dispose(&in);
}

/* A retried request: the app tier has two rows with the same ID; the db row belongs to
 * the second one, the one it falls in. */
static void
t_retry(int reverse)
{
	vs_mana_input_t in = { 0 };
	vs_mana_opts_t o;
	vs_mana_t *a;
	char err[256] = "";
	vs_mtier_t *web = tier(&in, "web"), *app = tier(&in, "app"), *db = tier(&in, "db");

	tap_diag("retry, the app rows in %s order", reverse ? "reverse" : "time");
	add(web, "X", 0, 20, NAN);
	if (reverse)
		add(app, "X", 5, 19, NAN);
	add(app, "X", 1, 3, NAN);
	if (!reverse)
		add(app, "X", 5, 19, NAN);
	add(db, "X", 6, 18, NAN);
	vs_mana_opts_default(&o);
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (tap_ok(a != NULL, "retry: compute: %s", a ? "ok" : err)) {
		TAP_IS_INT(vs_mana_queue_at(a, 1, at(10), 1), 0,
		    "retry: the app row waiting on db has no own queue at 10 ms");
		TAP_IS_INT(vs_mana_queue_at(a, 1, at(5), 1), 1, "retry: ... but at 5 ms, before db");
		TAP_IS_INT(vs_mana_queue_at(a, 1, at(2), 1), 1, "retry: the first try at 2 ms");
		TAP_IS_INT(vs_mana_queue_at(a, 0, at(4), 1), 1, "retry: web's own at 4 ms, between"
		    " the tries");
		TAP_IS_INT(vs_mana_queue_at(a, 0, at(10), 1), 0, "retry: web's own at 10: none");
		json_object *j = vs_mana_json(a, 0);
		TAP_IS_INT(jint(j, "tiers.2.happens_before_violations"), 0,
		    "retry: db's row lies within its parent: no happens-before violation");
		/* app: [1, 3) alone, 2 ms; [5, 19) minus db's 12 ms, 2 ms */
		TAP_IS_INT(llround(jdbl(j, "tiers.1.own_mean_ms") * 1000), 2000,
		    "retry: app's own time 2 ms in each try (db's time counts in the second only)");
		TAP_IS_INT(llround(jdbl(j, "tiers.0.own_mean_ms") * 1000), 4000,
		    "retry: web's own time 20 - 2 - 14 = 4 ms");
		json_object_put(j);
	}
	vs_mana_destroy(&a);
	vs_mana_input_dispose(&in);
}

/* ---- 2, 3: a stall in the database and in the middle tier ---- */

/*
 * 5 s of one request per ms: normally web [b, b+3), app [b+0.5, b+2.5), db [b+1, b+2), so
 * every tier's own queue is 1 at every instant. The stall holds every request that begins
 * in [S, S+200) until R = S+200, where all of them end (in every tier). Where they wait:
 * d = b - S in [0, 20) waits in the stalling tier; after that, even d waits in the tier
 * above it, odd d in the front tier (db stall: app and web both start to rise at S+20).
 */
#define S_AT 2000.0
#define R_AT (S_AT + 200.0)

static void
build_stall(vs_mana_input_t *in, int db_stall)
{
	vs_mtier_t *web = tier(in, "web"), *app = tier(in, "app"), *db = tier(in, "db");
	char id[16];

	for (int j = 0; j < 5000; j++) {
		double b = j, d = b - S_AT;
		snprintf(id, sizeof(id), "r%05d", j);
		if (d < 0 || d >= 200) {
			add(web, id, b, b + 3, NAN);
			add(app, id, b + 0.5, b + 2.5, NAN);
			add(db, id, b + 1, b + 2, NAN);
			continue;
		}
		add(web, id, b, R_AT, NAN);
		if (db_stall && d < 20) {               /* in db */
			add(app, id, b + 0.5, R_AT, NAN);
			add(db, id, b + 1, R_AT, NAN);
		} else if (d < 20 || ((int)d % 2 == 0 && db_stall)) {  /* in app */
			add(app, id, b + 0.5, R_AT, NAN);
			add(db, id, R_AT, R_AT, NAN);
		} else {                                /* in web */
			add(app, id, R_AT, R_AT, NAN);
			add(db, id, R_AT, R_AT, NAN);
		}
	}
}

/* A resource series sampled every 10 ms over the 5 s: base, or spike for samples that end
 * in (S, R]; noise: +-amp pseudo-random. */
static void
series(vs_mana_input_t *in, const char *table, const char *column, const char *host,
    double base, double spike, double amp, unsigned seed)
{
	vs_mseries_t *s = vs_mana_series(in, table, column, "", host);

	for (int j = 0; j <= 500; j++) {
		double t = j * 10.0, v = t > S_AT && t <= R_AT ? spike : base;
		seed = seed * 1103515245u + 12345u;
		v += amp * (((double)((seed >> 8) & 0xffff) / 65535.0) * 2.0 - 1.0);
		vs_mana_series_add(in, s, at(t), v);
	}
}

static void
t_db_stall(void)
{
	vs_mana_input_t in = { 0 };
	vs_mana_opts_t o;
	vs_mana_t *a;
	char err[256] = "";
	uint64_t complete = 0, nv = 0;
	int64_t s = 0, e = 0;
	int first = -9;
	const char *cls = NULL, *metric = NULL;

	build_stall(&in, 1);
	series(&in, "iostat_device", "pct_util", "db", 5, 95, 0, 1);
	series(&in, "sar_cpu", "pct_usr", "db", 40, 70, 12, 2);
	series(&in, "sar_net_dev", "rxkb_s", "db", 100, 100, 30, 3);    /* noise only */
	vs_mana_opts_default(&o);
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (!tap_ok(a != NULL, "db stall: compute: %s", a ? "ok" : err)) {
		vs_mana_input_dispose(&in);
		return;
	}
	TAP_IS_INT(vs_mana_npaths(a, &complete), 5000, "db stall: 5000 paths");
	TAP_IS_INT(complete, 5000, "db stall: ... all complete");
	/* residences: 4800 x 3 ms, the stalled 200 - d ms for d = 0..199 */
	TAP_IS_INT(vs_mana_median_ns(a), 3 * MS, "db stall: median 3 ms");
	/* k = 10: above 30 ms, 200 - d > 30: d < 170 */
	TAP_IS_INT(vs_mana_nvlrt(a), 170, "db stall: 170 VLRT at k = 10");
	TAP_IS_INT(vs_mana_nclusters(a), 1, "db stall: one cluster");
	vs_mana_cluster(a, 0, &s, &e, &nv, &first, &cls, &metric);
	TAP_IS_INT(s, at(S_AT), "db stall: the cluster starts at S");
	/* the last VLRT request ends at R = S+200, in the window [S+200, S+250) */
	TAP_IS_INT(e, at(S_AT + 250), "db stall: ... and ends with the window holding R");
	TAP_IS_INT(nv, 170, "db stall: its 170 VLRT requests");
	TAP_IS_INT(first, 2, "db stall: the queue rose first in db (tier 3)");
	tap_ok(cls != NULL && strcmp(cls, "disk") == 0 && metric != NULL &&
	    strcmp(metric, "iostat_device.pct_util") == 0, "db stall: top explanation is the"
	    " disk that spikes in the cluster (%s %s)", cls ? cls : "-", metric ? metric : "-");

	/* queues by hand at d = 10 and d = 100 */
	TAP_IS_INT(vs_mana_queue_at(a, 2, at(S_AT + 10), 1), 10, "db stall: db own queue 10 at"
	    " S+10");
	TAP_IS_INT(vs_mana_queue_at(a, 1, at(S_AT + 10), 1), 0, "db stall: app own 0 at S+10");
	TAP_IS_INT(vs_mana_queue_at(a, 0, at(S_AT + 10), 1), 1, "db stall: web own 1 at S+10");
	TAP_IS_INT(vs_mana_queue_at(a, 2, at(S_AT + 100), 1), 20, "db stall: db own 20 at S+100");
	TAP_IS_INT(vs_mana_queue_at(a, 1, at(S_AT + 100), 1), 40, "db stall: app own 40 at S+100"
	    " (even d in 20..98)");
	TAP_IS_INT(vs_mana_queue_at(a, 0, at(S_AT + 100), 1), 41, "db stall: web own 41 at S+100"
	    " (odd d in 21..99, and d = 100 arriving)");
	TAP_IS_INT(vs_mana_queue_at(a, 1, at(S_AT + 100), 0), 60, "db stall: app total 60 at"
	    " S+100");
	TAP_IS_INT(vs_mana_queue_at(a, 0, at(S_AT + 100), 0), 101, "db stall: web total 101 at"
	    " S+100");
	TAP_IS_INT(vs_mana_queue_at(a, 2, at(R_AT), 0), 0, "db stall: db empty at R");
	TAP_IS_INT(vs_mana_queue_at(a, 2, at(1000), 0), 1, "db stall: db 1 in normal load");

	json_object *j = vs_mana_json(a, 0);
	/* baseline 1; db peaks at 20: threshold 1 + 19/4 = 5, reached at S+5; app and web peak
	 * at 90: threshold 23, reached at S+65 (app) and S+64 (web) */
	TAP_IS_INT(jint(j, "clusters.0.tiers.2.own_queue_baseline"), 1, "db stall: db baseline 1");
	TAP_IS_INT(jint(j, "clusters.0.tiers.2.own_queue_peak"), 20, "db stall: db peak 20");
	TAP_IS_INT(jint(j, "clusters.0.tiers.1.own_queue_peak"), 90, "db stall: app peak 90");
	TAP_IS_INT(jint(j, "clusters.0.tiers.0.own_queue_peak"), 90, "db stall: web peak 90");
	TAP_IS_INT(jint(j, "clusters.0.tiers.2.rise_ns"), at(S_AT + 5), "db stall: db rose at"
	    " S+5");
	TAP_IS_INT(jint(j, "clusters.0.tiers.1.rise_ns"), at(S_AT + 65), "db stall: app rose at"
	    " S+65");
	TAP_IS_INT(jint(j, "clusters.0.tiers.0.rise_ns"), at(S_AT + 64), "db stall: web rose at"
	    " S+64");
	tap_ok(strcmp(jstr(j, "clusters.0.first_tier"), "db") == 0, "db stall: json first_tier"
	    " db");
	TAP_IS_INT(json_object_array_length(jget(j, "clusters.0.explanations")), 2,
	    "db stall: two explanations (the network noise does not rise)");
	tap_ok(strcmp(jstr(j, "clusters.0.explanations.1.class"), "cpu") == 0 &&
	    jdbl(j, "clusters.0.explanations.0.r") > jdbl(j, "clusters.0.explanations.1.r"),
	    "db stall: the noisy cpu series ranks second, r %.3f < %.3f",
	    jdbl(j, "clusters.0.explanations.1.r"), jdbl(j, "clusters.0.explanations.0.r"));
	tap_ok(strcmp(jstr(j, "clusters.0.explanations.0.host"), "db") == 0 &&
	    llround(jdbl(j, "clusters.0.explanations.0.out_mean")) == 5,
	    "db stall: explanation names host db, 5 around the cluster");
	TAP_IS_INT(json_object_array_length(jget(j, "slowest")), 10, "db stall: 10 slowest kept");
	tap_ok(strcmp(jstr(j, "slowest.0.id"), "r02000") == 0 &&
	    llround(jdbl(j, "slowest.0.response_ms")) == 200, "db stall: the slowest is r02000,"
	    " 200 ms (%s)", jstr(j, "slowest.0.id"));
	json_object_put(j);
	vs_mana_destroy(&a);

	/* the reverse: the cpu series spikes exactly, the disk is noisy */
	vs_mana_input_dispose(&in);
	build_stall(&in, 1);
	series(&in, "iostat_device", "pct_util", "db", 40, 70, 12, 2);
	series(&in, "sar_cpu", "pct_usr", "db", 5, 95, 0, 1);
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (tap_ok(a != NULL, "reverse: compute: %s", a ? "ok" : err)) {
		cls = metric = NULL;
		vs_mana_cluster(a, 0, NULL, NULL, NULL, NULL, &cls, &metric);
		tap_ok(cls != NULL && strcmp(cls, "cpu") == 0 && metric != NULL &&
		    strcmp(metric, "sar_cpu.pct_usr") == 0, "reverse: the exact cpu series ranks"
		    " first (%s %s)", cls ? cls : "-", metric ? metric : "-");
		j = vs_mana_json(a, 0);
		tap_ok(strcmp(jstr(j, "clusters.0.explanations.1.class"), "disk") == 0,
		    "reverse: the noisy disk second");
		json_object_put(j);
	}
	vs_mana_destroy(&a);

	/* k changes the VLRT set: k = 20: above 60 ms, d < 140; k = 100: none */
	o.vlrt_k = 20;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (tap_ok(a != NULL, "k 20: compute"))
		TAP_IS_INT(vs_mana_nvlrt(a), 140, "k = 20: 140 VLRT");
	vs_mana_destroy(&a);
	o.vlrt_k = 100;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (tap_ok(a != NULL, "k 100: compute")) {
		TAP_IS_INT(vs_mana_nvlrt(a), 0, "k = 100: no VLRT (none above 300 ms)");
		TAP_IS_INT(vs_mana_nclusters(a), 0, "k = 100: no cluster");
	}
	vs_mana_destroy(&a);
	o.vlrt_k = 10;
	o.vlrt_min_ns = 100 * MS;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (tap_ok(a != NULL, "vlrt-min: compute"))
		TAP_IS_INT(vs_mana_nvlrt(a), 100, "vlrt_min 100 ms raises the threshold: d < 100");
	vs_mana_destroy(&a);
	vs_mana_input_dispose(&in);
}

static void
t_app_stall(void)
{
	vs_mana_input_t in = { 0 };
	vs_mana_opts_t o;
	vs_mana_t *a;
	char err[256] = "";
	int first = -9;

	build_stall(&in, 0);
	vs_mana_opts_default(&o);
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (!tap_ok(a != NULL, "app stall: compute: %s", a ? "ok" : err)) {
		vs_mana_input_dispose(&in);
		return;
	}
	TAP_IS_INT(vs_mana_nclusters(a), 1, "app stall: one cluster");
	vs_mana_cluster(a, 0, NULL, NULL, NULL, &first, NULL, NULL);
	TAP_IS_INT(first, 1, "app stall: the queue rose first in app (tier 2)");
	TAP_IS_INT(vs_mana_queue_at(a, 1, at(S_AT + 50), 1), 20, "app stall: app own 20 at S+50");
	TAP_IS_INT(vs_mana_queue_at(a, 2, at(S_AT + 50), 1), 0, "app stall: db idle at S+50");
	TAP_IS_INT(vs_mana_queue_at(a, 0, at(S_AT + 50), 1), 31, "app stall: web own 31 at S+50");
	json_object *j = vs_mana_json(a, 0);
	/* app peaks 20 at S+20 (threshold 5 at S+5); web peaks 180 at S+199 (threshold 45:
	 * d - 19 >= 45 at S+64); db does not rise */
	TAP_IS_INT(jint(j, "clusters.0.tiers.1.rise_ns"), at(S_AT + 5), "app stall: app rose at"
	    " S+5");
	TAP_IS_INT(jint(j, "clusters.0.tiers.0.rise_ns"), at(S_AT + 64), "app stall: web rose at"
	    " S+64");
	TAP_IS_INT(jint(j, "clusters.0.tiers.0.own_queue_peak"), 180, "app stall: web peak 180");
	tap_ok(jget(j, "clusters.0.tiers.2.rise_ns") == NULL, "app stall: db has no rise");
	TAP_IS_INT(json_object_array_length(jget(j, "clusters.0.explanations")), 0,
	    "app stall: no resource series, no explanation");
	tap_ok(jget(j, "clusters.0.explanations") != NULL, "... but the list is there");
	json_object_put(j);
	vs_mana_destroy(&a);
	vs_mana_input_dispose(&in);
}

/* ---- 4: clusters and the gap rule ---- */

/* One tier, 5 s of one request per ms taking 3 ms; the requests beginning at slow[] take
 * 40 ms instead (VLRT: the median stays 3, the threshold 30). */
static vs_mana_t *
gaps(const double *slow, size_t n, int64_t gap_ns, int64_t from, int64_t to)
{
	vs_mana_input_t in = { 0 };
	vs_mana_opts_t o;
	vs_mana_t *a;
	char err[256] = "";
	vs_mtier_t *web = tier(&in, "web");

	for (int j = 0; j < 5000; j++) {
		double rt = 3;
		char id[16];
		for (size_t k = 0; k < n; k++)
			if (slow[k] == j)
				rt = 40;
		snprintf(id, sizeof(id), "g%d", j);
		add(web, id, j, j + rt, NAN);
	}
	vs_mana_opts_default(&o);
	o.gap_ns = gap_ns;
	o.from_ns = from;
	o.to_ns = to;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (a == NULL)
		tap_diag("compute: %s", err);
	vs_mana_input_dispose(&in);
	return a;
}

static void
t_clusters(void)
{
	static const double two_apart[] = { 2000, 2150 }, split[] = { 2000, 2200, 2201 };
	static const double adj[] = { 2000, 2050 }, across[] = { 2040 }, two_w[] = { 2000, 2100 };
	int64_t s = 0, e = 0;
	uint64_t nv = 0;
	vs_mana_t *a;

	a = gaps(two_apart, 2, 100 * MS, 0, 0);
	if (tap_ok(a != NULL, "gap: compute")) {
		TAP_IS_INT(vs_mana_nvlrt(a), 2, "gap: 2 VLRT");
		TAP_IS_INT(vs_mana_nclusters(a), 1, "gap: 100 ms apart (two empty windows): one"
		    " cluster");
		vs_mana_cluster(a, 0, &s, &e, &nv, NULL, NULL, NULL);
		tap_ok(s == at(2000) && e == at(2200) && nv == 2, "gap: ... [S, S+200) with 2");
	}
	vs_mana_destroy(&a);

	a = gaps(split, 3, 100 * MS, 0, 0);
	if (tap_ok(a != NULL, "split: compute")) {
		TAP_IS_INT(vs_mana_nclusters(a), 2, "split: 150 ms apart (three empty windows): two"
		    " clusters");
		vs_mana_cluster(a, 0, &s, &e, &nv, NULL, NULL, NULL);
		tap_ok(s == at(2200) && e == at(2250) && nv == 2, "split: the one with 2 VLRT"
		    " first: [S+200, S+250)");
		vs_mana_cluster(a, 1, &s, &e, &nv, NULL, NULL, NULL);
		tap_ok(s == at(2000) && e == at(2050) && nv == 1, "split: then [S, S+50) with 1");
		json_object *j = vs_mana_json(a, 0);
		TAP_IS_INT(jint(j, "vlrt.clusters"), 2, "split: json vlrt.clusters 2");
		TAP_IS_INT(jint(j, "vlrt.count"), 3, "split: json vlrt.count 3");
		TAP_IS_INT(llround(jdbl(j, "vlrt.threshold_ms")), 30, "split: json threshold 30 ms");
		json_object_put(j);
	}
	vs_mana_destroy(&a);

	a = gaps(split, 3, 150 * MS, 0, 0);
	if (tap_ok(a != NULL, "gap 150: compute")) {
		TAP_IS_INT(vs_mana_nclusters(a), 1, "gap 150 ms: the same requests are one cluster");
		vs_mana_cluster(a, 0, &s, &e, &nv, NULL, NULL, NULL);
		tap_ok(s == at(2000) && e == at(2250) && nv == 3, "gap 150: [S, S+250) with 3");
	}
	vs_mana_destroy(&a);

	a = gaps(adj, 2, 0, 0, 0);
	if (tap_ok(a != NULL, "gap 0: compute"))
		TAP_IS_INT(vs_mana_nclusters(a), 1, "gap 0: adjacent windows are one cluster");
	vs_mana_destroy(&a);
	a = gaps(two_w, 2, 0, 0, 0);
	if (tap_ok(a != NULL, "gap 0: compute"))
		TAP_IS_INT(vs_mana_nclusters(a), 2, "gap 0: one empty window between: two");
	vs_mana_destroy(&a);

	a = gaps(across, 1, 100 * MS, 0, 0);
	if (tap_ok(a != NULL, "across: compute")) {
		vs_mana_cluster(a, 0, &s, &e, &nv, NULL, NULL, NULL);
		tap_ok(s == at(2000) && e == at(2100), "a VLRT request from S+40 to S+80 marks both"
		    " windows it spans: [S, S+100)");
	}
	vs_mana_destroy(&a);

	/* --from/--to: requests that begin in [from, to) only */
	a = gaps(split, 3, 100 * MS, at(2100), at(2300));
	if (tap_ok(a != NULL, "range: compute")) {
		TAP_IS_INT(vs_mana_nvlrt(a), 2, "range [S+100, S+300): 2 VLRT");
		TAP_IS_INT(vs_mana_nclusters(a), 1, "range: one cluster");
		uint64_t c;
		TAP_IS_INT(vs_mana_npaths(a, &c), 200, "range: 200 requests begin in it");
		json_object *j = vs_mana_json(a, 0);
		TAP_IS_INT(jint(j, "start_ns"), at(2100), "range: the first instant is from");
		json_object_put(j);
	}
	vs_mana_destroy(&a);
}

/* ---- 5: metric classes of the columns the shipped specs write ---- */

static void
t_classes(void)
{
	static const char *const want[][3] = {
		/* collectl plot files (.tab, .cpu, .dsk, .net) and raw */
		{ "collectl_tab", "cpu_user_pct", "cpu" },
		{ "collectl_tab", "cpu_sys_pct", "cpu" },
		{ "collectl_tab", "cpu_wait_pct", "disk" },
		{ "collectl_tab", "dsk_writekbtot", "disk" },
		{ "collectl_tab", "mem_dirty", "memory" },
		{ "collectl_tab", "net_rxkbtot", "network" },
		{ "collectl_cpu", "user_pct", "cpu" },
		{ "collectl_cpu", "wait_pct", "disk" },
		{ "collectl_dsk", "wkbytes", "disk" },
		{ "collectl_dsk", "util", "disk" },
		{ "collectl_net", "rxkb", "network" },
		{ "collectl_raw_cpu", "user", "cpu" },
		{ "collectl_raw_cpu", "iowait", "disk" },
		{ "collectl_raw_disk", "sectors_written", "disk" },
		{ "collectl_raw_net", "rx_bytes", "network" },
		/* collectl -oT/-oTm terminal output */
		{ "collectl_brief", "cpu", "cpu" },
		{ "collectl_brief", "sys", "cpu" },
		{ "collectl_brief", "kbwrit", "disk" },
		{ "collectl_brief", "reads", "disk" },
		{ "collectl_brief", "free", "memory" },
		{ "collectl_brief", "kbin", "network" },
		/* sar, sadf -d, -j, -x */
		{ "sar_cpu", "pct_usr", "cpu" },
		{ "sar_cpu", "pct_sys", "cpu" },
		{ "sar_cpu", "pct_iowait", "disk" },
		{ "sar_disk", "pct_util", "disk" },
		{ "sar_disk", "wkb_s", "disk" },
		{ "sar_io", "bwrtn_s", "disk" },
		{ "sar_io", "tps", "disk" },
		{ "sar_memory", "kbdirty", "memory" },
		{ "sar_net_dev", "rxkb_s", "network" },
		{ "sadf_cpu", "pct_usr", "cpu" },
		{ "sadf_disk", "pct_util", "disk" },
		{ "sadf_tps_rtps", "bwrtn_s", "disk" },
		{ "sadf_memory", "kbdirty", "memory" },
		{ "sadf_net_dev", "txkb_s", "network" },
		{ "sadfj_cpu_load", "usr", "cpu" },
		{ "sadfj_cpu_load", "iowait", "disk" },
		{ "sadfj_disk", "util_percent", "disk" },
		{ "sadfj_io", "io_writes_bwrtn", "disk" },
		{ "sadfj_io", "tps", "disk" },
		{ "sadfj_memory", "dirty", "memory" },
		{ "sadfj_psi_io", "some_avg10", "disk" },
		{ "sadfj_net_dev", "rxkb", "network" },
		{ "sadfx_cpu", "sys", "cpu" },
		{ "sadfx_disk", "disk_device_util_percent", "disk" },
		{ "sadfx_memory", "dirty", "memory" },
		/* iostat text and JSON */
		{ "iostat_device", "pct_util", "disk" },
		{ "iostat_device", "w_await", "disk" },
		{ "iostat_cpu", "pct_iowait", "disk" },
		{ "iostat_cpu", "pct_user", "cpu" },
		{ "iostat_cpu", "pct_system", "cpu" },
		{ "iostatj_disk", "util", "disk" },
		{ "iostatj_avg_cpu", "user", "cpu" },
		{ "iostatj_avg_cpu", "iowait", "disk" },
		/* and something that is none of them */
		{ "sar_tty", "rcvin_s", "other" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *c = vs_mana_metric_class(want[i][0], want[i][1]);
		tap_ok(strcmp(c, want[i][2]) == 0, "class of %s.%s: %s", want[i][0], want[i][1],
		    want[i][2]) || (tap_diag("  got %s", c), 0);
	}
}

/* ---- 6: bad input and limits ---- */

static void
t_errors(void)
{
	vs_mana_input_t in = { 0 };
	vs_mana_opts_t o;
	vs_mana_t *a;
	char err[256] = "";
	vs_mtier_t *web;
	vs_mseries_t *s;

	vs_mana_opts_default(&o);
	TAP_IS_INT(o.window_ns, 50 * MS, "default window 50 ms");
	TAP_IS_INT(o.res_ns, MS, "default resolution 1 ms");
	tap_ok(o.vlrt_k == 10.0 && o.gap_ns == 100 * MS, "default k 10, gap 100 ms");

	errno = 0;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a == NULL && errno == EINVAL && strstr(err, "no tiers") != NULL,
	    "no tiers: EINVAL, '%s'", err);

	web = tier(&in, "web");
	errno = 0;
	err[0] = '\0';
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a == NULL && errno == ENODATA && strstr(err, "'web'") != NULL &&
	    strstr(err, "no requests") != NULL, "a tier without rows: ENODATA, '%s'", err);
	add(web, "x", 10, 5, NAN);
	add(web, "y", 10, 5, NAN);
	errno = 0;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a == NULL && errno == ENODATA && web->dropped == 2, "only end < begin rows: both"
	    " dropped, ENODATA");

	add(web, "a", 0, 3, NAN);
	add(web, "b", 1, 4, NAN);
	o.from_ns = at(1000);
	errno = 0;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a == NULL && errno == ENODATA && strstr(err, "in the time range") != NULL,
	    "nothing in --from/--to: ENODATA, '%s'", err);
	o.from_ns = 0;

	static const struct {
		int64_t w, r;
		double k;
		int64_t gap;
		const char *what;
	} bad[] = {
		{ 0, MS, 10, 0, "window 0" },
		{ -50 * MS, MS, 10, 0, "negative window" },
		{ 50 * MS, 0, 10, 0, "resolution 0" },
		{ 50 * MS, 3 * MS, 10, 0, "window not a multiple of the resolution" },
		{ 50 * MS, MS, 0, 0, "k 0" },
		{ 50 * MS, MS, NAN, 0, "k NaN" },
		{ 50 * MS, MS, 10, -1, "negative gap" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vs_mana_opts_t b = o;
		b.window_ns = bad[i].w;
		b.res_ns = bad[i].r;
		b.vlrt_k = bad[i].k;
		b.gap_ns = bad[i].gap;
		errno = 0;
		err[0] = '\0';
		a = vs_mana_compute(&in, &b, err, sizeof(err));
		tap_ok(a == NULL && errno == EINVAL && strstr(err, "bad options") != NULL,
		    "%s: EINVAL, '%s'", bad[i].what, err);
		vs_mana_destroy(&a);
	}
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a != NULL, "the same input with good options computes");
	vs_mana_destroy(&a);
	vs_mana_destroy(&a);
	vs_mana_destroy(NULL);
	tap_ok(1, "vs_mana_destroy of NULL is harmless");

	/* more than VS_MANA_MAX_BINS instants: 6 hours at 1 ms */
	add(web, "late", 6 * 3600e3, 6 * 3600e3 + 3, NAN);
	errno = 0;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a == NULL && errno == E2BIG && strstr(err, "--from/--to") != NULL,
	    "6 h at 1 ms: E2BIG, '%s'", err);
	o.res_ns = 1000 * MS;
	o.window_ns = 1000 * MS;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a != NULL, "... at 1 s it computes (%s)", a ? "ok" : err);
	vs_mana_destroy(&a);
	vs_mana_opts_default(&o);
	o.to_ns = at(3600e3);
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a != NULL, "... and at 1 ms with --to before the late one (%s)", a ? "ok" : err);
	if (a != NULL)
		TAP_IS_INT(vs_mana_npaths(a, NULL), 2, "... which leaves it out");
	vs_mana_destroy(&a);

	/* tier and series bounds */
	size_t n = web->n;
	web->n = VS_MANA_MAX_REQS;      /* pretend: 4 M rows are too many to build here */
	TAP_IS_INT(vs_mana_tier_add(web, "over", 4, at(1), at(2), NONE), -E2BIG,
	    "a tier at VS_MANA_MAX_REQS rows: -E2BIG");
	web->n = n;
	char long_id[200];
	memset(long_id, 'i', sizeof(long_id));
	TAP_IS_INT(vs_mana_tier_add(web, long_id, sizeof(long_id), at(1), at(2), NONE), 0,
	    "a 200-byte ID is kept");
	TAP_IS_INT(strlen(web->reqs[web->n - 1].id), 79, "... cut to 79 bytes");

	s = vs_mana_series(&in, "sar_cpu", "pct_usr", "all", "h1");
	tap_ok(s != NULL && vs_mana_series(&in, "sar_cpu", "pct_usr", "all", "h1") == s,
	    "the same table, column, key and host: the same series");
	tap_ok(vs_mana_series(&in, "sar_cpu", "pct_usr", "0", "h1") != s &&
	    vs_mana_series(&in, "sar_cpu", "pct_usr", "all", "h2") != NULL && in.nseries == 3,
	    "another key or host: another series");
	s = &in.series[0];
	TAP_IS_INT(vs_mana_series_add(&in, s, at(1), 5.0), 0, "a sample");
	TAP_IS_INT(vs_mana_series_add(&in, s, at(2), NAN), 0, "a NaN sample is not an error");
	TAP_IS_INT(vs_mana_series_add(&in, s, at(3), INFINITY), 0, "... nor an infinite one");
	tap_ok(s->n == 1 && in.nsamples == 1, "... neither is kept");
	n = in.nsamples;
	in.nsamples = VS_MANA_MAX_SAMPLES;
	TAP_IS_INT(vs_mana_series_add(&in, s, at(4), 1.0), -E2BIG, "VS_MANA_MAX_SAMPLES samples:"
	    " -E2BIG");
	in.nsamples = n;
	while (in.nseries < VS_MANA_MAX_SERIES) {
		char col[32];
		snprintf(col, sizeof(col), "c%zu", in.nseries);
		if (vs_mana_series(&in, "t", col, "", "h") == NULL)
			break;
	}
	TAP_IS_INT(in.nseries, VS_MANA_MAX_SERIES, "series up to VS_MANA_MAX_SERIES");
	errno = 0;
	tap_ok(vs_mana_series(&in, "t", "one-more", "", "h") == NULL && errno == E2BIG,
	    "one more series: NULL, E2BIG");
	tap_ok(vs_mana_series(&in, "t", "c5", "", "h") != NULL, "... an existing one is found");
	vs_mana_input_dispose(&in);
	tap_ok(in.ntiers == 0 && in.series == NULL, "vs_mana_input_dispose empties the input");
	vs_mana_input_dispose(&in);
	tap_ok(1, "... twice is harmless");
}

/* ---- 7: extreme values from untrusted logs: no overflow (UBSan), no crash ---- */

static void
t_extremes(void)
{
	vs_mana_input_t in = { 0 };
	vs_mana_opts_t o;
	vs_mana_t *a;
	char err[256] = "";
	vs_mtier_t *web = tier(&in, "web");

	/* a row from the 17th century to the 23rd (strftime times before 1970 are negative) */
	vs_mana_tier_add(web, "old", 3, INT64_MIN + 1, INT64_MAX, NONE);
	vs_mana_tier_add(web, "neg", 3, -5, at(3), NONE);
	vs_mana_tier_add(web, "far", 3, at(0), (INT64_C(1) << 62) + 1, NONE);
	TAP_IS_INT(web->dropped, 3, "times before 1970 or after 2116 are dropped");
	vs_mana_tier_add(web, "a", 1, at(0), at(3), at(-3e12));
	TAP_IS_INT(web->n, 1, "... a row with a downstream time before 1970 is kept");
	TAP_IS_INT(web->reqs[0].ds_b, NONE, "... without it");
	vs_mana_opts_default(&o);
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a != NULL && vs_mana_npaths(a, NULL) == 1, "the rest computes (%s)",
	    a ? "ok" : err);
	vs_mana_destroy(&a);
	vs_mana_tier_add(web, "edge", 4, 0, INT64_C(1) << 62, NONE);
	errno = 0;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a == NULL && errno == E2BIG, "1970 to 2116: E2BIG, '%s'", err);
	vs_mana_destroy(&a);
	vs_mana_input_dispose(&in);

	/* a huge k (the API does not bound it): the threshold saturates, nothing is VLRT */
	web = tier(&in, "web");
	for (int j = 0; j < 10; j++)
		add(web, "k", j * 10, j * 10 + 3, NAN);
	o.vlrt_k = 1e300;
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	tap_ok(a != NULL && vs_mana_nvlrt(a) == 0, "k = 1e300: computes, no VLRT (%s)",
	    a ? "ok" : err);
	vs_mana_destroy(&a);
	vs_mana_input_dispose(&in);

	/* concurrent calls downstream from one request (two db rows at once, one ID): the
	 * app's own queue is 0 while it waits on both, not -1 */
	vs_mtier_t *app;
	web = tier(&in, "web");
	app = tier(&in, "app");
	vs_mtier_t *db = tier(&in, "db");
	add(web, "P", 0, 20, NAN);
	add(app, "P", 1, 19, NAN);
	add(db, "P", 2, 10, NAN);
	add(db, "P", 4, 12, NAN);
	vs_mana_opts_default(&o);
	a = vs_mana_compute(&in, &o, err, sizeof(err));
	if (tap_ok(a != NULL, "parallel: compute")) {
		TAP_IS_INT(vs_mana_queue_at(a, 2, at(5), 0), 2, "parallel: db holds both at 5");
		TAP_IS_INT(vs_mana_queue_at(a, 1, at(5), 1), 0, "parallel: app's own queue 0 at 5");
		TAP_IS_INT(vs_mana_queue_at(a, 1, at(11), 1), 0, "parallel: ... and at 11");
		TAP_IS_INT(vs_mana_queue_at(a, 1, at(13), 1), 1, "parallel: 1 at 13, both back");
		json_object *j = vs_mana_json(a, 0);
		TAP_IS_INT(llround(jdbl(j, "tiers.1.own_mean_ms") * 1000), 8000,
		    "parallel: app's own time 18 - 10 ms (the union of [2, 10) and [4, 12))");
		json_object_put(j);
	}
	vs_mana_destroy(&a);
	vs_mana_input_dispose(&in);
}

int
main(void)
{
	t_paths_queues();
	t_retry(0);
	t_retry(1);
	t_db_stall();
	t_app_stall();
	t_clusters();
	t_classes();
	t_errors();
	t_extremes();
	return tap_done();
}
