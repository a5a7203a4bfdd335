/* Tests for lib/history.c: API contract, encoding edge cases, eviction, retention,
 * aggregation, compression on realistic data, and a randomized check against a plain model. */
#include "history.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define T0      1700000000000000000LL   /* a CLOCK_REALTIME in 2023 */
#define MS      1000000LL

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
s_rand(void)
{
	rng ^= rng << 13;       /* xorshift64: reproducible across runs and libcs */
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t
s_below(uint64_t n)
{
	return s_rand() % n;
}

static int64_t
s_uniform(int64_t lo, int64_t hi)
{
	return lo + (int64_t)s_below((uint64_t)(hi - lo + 1));
}

static vs_history_t *
s_new(size_t max_series, uint32_t max_ticks, size_t arena_bytes)
{
	vs_history_config_t cfg = {
		.max_series = max_series, .max_ticks = max_ticks, .arena_bytes = arena_bytes,
	};
	vs_history_t *h = vs_history_new(&cfg);

	if (h == NULL) {
		tap_diag("vs_history_new: %s", strerror(errno));
		exit(1);
	}
	return h;
}

/* Metadata bytes per block, as seen through used_bytes: one series holding one 0. */
static size_t
s_meta_bytes(void)
{
	vs_history_t *h = s_new(1, 10, VS_HISTORY_BLOCK_BYTES);
	vs_history_stats_t st;
	int id = vs_history_series_add(h, "e", "m", "", VS_KIND_GAUGE);

	vs_history_tick(h, T0);
	vs_history_append(h, id, 0);
	vs_history_stats(h, &st);
	vs_history_destroy(&h);
	return st.used_bytes - 1;
}

/* ---- config and life cycle ------------------------------------------------------------- */

static void
test_config(void)
{
	vs_history_config_t cfg = { .max_series = 4, .max_ticks = 100, .arena_bytes = 0 };
	vs_history_stats_t st;
	vs_history_t *h;

	errno = 0;
	tap_ok(vs_history_new(NULL) == NULL && errno == EINVAL, "new(NULL): EINVAL");
	cfg.max_series = 0;
	errno = 0;
	tap_ok(vs_history_new(&cfg) == NULL && errno == EINVAL, "new: max_series 0 is EINVAL");
	cfg.max_series = 4;
	cfg.max_ticks = 0;
	errno = 0;
	tap_ok(vs_history_new(&cfg) == NULL && errno == EINVAL, "new: max_ticks 0 is EINVAL");
	cfg.max_ticks = 100;
	cfg.arena_bytes = VS_HISTORY_BLOCK_BYTES - 1;
	errno = 0;
	tap_ok(vs_history_new(&cfg) == NULL && errno == EINVAL,
	    "new: arena under one block is EINVAL");

	cfg.arena_bytes = 0;
	h = vs_history_new(&cfg);
	vs_history_stats(h, &st);
	TAP_IS_INT(st.arena_bytes, 4 * 100 * 3 / VS_HISTORY_BLOCK_BYTES * VS_HISTORY_BLOCK_BYTES,
	    "default arena is max_series * max_ticks * 3, in whole blocks");
	tap_ok(st.memory_bytes > st.arena_bytes + 100 * sizeof(int64_t),
	    "memory_bytes %zu counts arena, tick ring and tables", st.memory_bytes);
	TAP_IS_INT(st.series + st.samples + st.used_bytes + st.evicted_blocks, 0, "empty stats");
	TAP_IS_INT(vs_history_current_tick(h), 0, "no tick before the first");
	vs_history_destroy(&h);
	tap_ok(h == NULL, "destroy NULLs the pointer");
	vs_history_destroy(&h);
	vs_history_destroy(NULL);
	tap_ok(1, "destroy twice and on NULL is safe");
}

/* ---- series table ---------------------------------------------------------------------- */

static int
s_count_cb(void *arg, int id, const vs_series_info_t *info)
{
	int *seen = arg;

	(void)info;
	seen[seen[0] + 1] = id;
	seen[0]++;
	return 0;
}

static int
s_stop_cb(void *arg, int id, const vs_series_info_t *info)
{
	(void)id;
	(void)info;
	(*(int *)arg)++;
	return 1;
}

static void
test_series(void)
{
	vs_history_t *h = s_new(3, 10, 4096);
	vs_series_info_t info;
	char ent[80], met[80], unit[32];
	int a, b, c, seen[8] = { 0 }, stops = 0;

	snprintf(ent, sizeof(ent), "dom1");
	snprintf(unit, sizeof(unit), "ns");
	a = vs_history_series_add(h, ent, "cpu", unit, VS_KIND_COUNTER);
	b = vs_history_series_add(h, "dom1", "mem", "KiB", VS_KIND_GAUGE);
	TAP_IS_INT(a, 0, "first id is 0");
	TAP_IS_INT(b, 1, "second id is 1");
	TAP_IS_INT(vs_history_series_add(h, "dom1", "cpu", "s", VS_KIND_GAUGE), -EEXIST,
	    "same entity+metric, other unit: -EEXIST");
	c = vs_history_series_add(h, "ab", "c", NULL, VS_KIND_GAUGE);
	TAP_IS_INT(c, 2, "NULL unit is accepted");
	TAP_IS_INT(vs_history_series_add(h, "dom9", "cpu", "", VS_KIND_GAUGE), -ENOSPC,
	    "table full: -ENOSPC");
	TAP_IS_INT(vs_history_series_add(h, "dom1", "mem", "", VS_KIND_GAUGE), -EEXIST,
	    "duplicate in a full table is still -EEXIST");

	TAP_IS_INT(vs_history_series_find(h, "dom1", "cpu"), a, "find dom1/cpu");
	TAP_IS_INT(vs_history_series_find(h, "dom1", "mem"), b, "find dom1/mem");
	TAP_IS_INT(vs_history_series_find(h, "ab", "c"), c, "find ab/c");
	TAP_IS_INT(vs_history_series_find(h, "a", "bc"), -ENOENT, "a/bc is not ab/c");
	TAP_IS_INT(vs_history_series_find(h, "dom1", "cpux"), -ENOENT, "find unknown: -ENOENT");
	TAP_IS_INT(vs_history_series_find(h, NULL, "cpu"), -ENOENT, "find NULL: -ENOENT");

	/* The table must have copied the strings. */
	snprintf(ent, sizeof(ent), "XXXX");
	snprintf(unit, sizeof(unit), "YY");
	TAP_IS_INT(vs_history_series_info(h, a, &info), 0, "info on a live id");
	tap_ok(strcmp(info.entity, "dom1") == 0 && strcmp(info.metric, "cpu") == 0 &&
	    strcmp(info.unit, "ns") == 0, "info names are copies: %s/%s [%s]",
	    info.entity, info.metric, info.unit);
	tap_ok(info.kind == VS_KIND_COUNTER && info.last_tick == 0 && info.n_samples == 0,
	    "info of a fresh counter");
	vs_history_series_info(h, b, &info);
	tap_ok(info.kind == VS_KIND_GAUGE && strcmp(info.unit, "KiB") == 0, "info kind and unit");
	TAP_IS_INT(vs_history_series_info(h, -1, &info), -ENOENT, "info(-1): -ENOENT");
	TAP_IS_INT(vs_history_series_info(h, 3, &info), -ENOENT, "info(max_series): -ENOENT");

	vs_history_series_foreach(h, s_count_cb, seen);
	tap_ok(seen[0] == 3 && seen[1] == 0 && seen[2] == 1 && seen[3] == 2,
	    "foreach visits ids in order (%d: %d %d %d)", seen[0], seen[1], seen[2], seen[3]);
	vs_history_series_foreach(h, s_stop_cb, &stops);
	TAP_IS_INT(stops, 1, "foreach stops when fn returns non-zero");

	vs_history_series_del(h, b);
	vs_history_series_del(h, b);
	vs_history_series_del(h, -1);
	vs_history_series_del(h, 99);
	TAP_IS_INT(vs_history_series_find(h, "dom1", "mem"), -ENOENT, "deleted series is gone");
	TAP_IS_INT(vs_history_series_info(h, b, &info), -ENOENT, "info of a deleted id: -ENOENT");
	tap_ok(vs_history_series_find(h, "dom1", "cpu") == a &&
	    vs_history_series_find(h, "ab", "c") == c, "other ids unchanged by delete");
	TAP_IS_INT(vs_history_series_add(h, "dom2", "mem", "KiB", VS_KIND_GAUGE), b,
	    "the freed slot is reused");
	seen[0] = 0;
	vs_history_series_foreach(h, s_count_cb, seen);
	TAP_IS_INT(seen[0], 3, "foreach after delete and re-add");
	vs_history_destroy(&h);

	/* Name rules. */
	h = s_new(8, 10, 4096);
	memset(ent, 'e', 63);
	ent[63] = '\0';
	memset(met, 'm', 64);
	met[64] = '\0';
	memset(unit, 'u', 15);
	unit[15] = '\0';
	tap_ok(vs_history_series_add(h, ent, "x", unit, VS_KIND_GAUGE) >= 0,
	    "63-byte entity and 15-byte unit fit");
	TAP_IS_INT(vs_history_series_find(h, ent, "x"), 0, "find the long name");
	tap_ok(vs_history_series_add(h, "x", met + 1, "", VS_KIND_GAUGE) >= 0,
	    "63-byte metric fits");
	TAP_IS_INT(vs_history_series_add(h, "x", met, "", VS_KIND_GAUGE), -EINVAL,
	    "64-byte metric: -EINVAL");
	ent[63] = 'e';
	ent[64] = '\0';
	TAP_IS_INT(vs_history_series_add(h, ent, "y", "", VS_KIND_GAUGE), -EINVAL,
	    "64-byte entity: -EINVAL");
	unit[15] = 'u';
	unit[16] = '\0';
	TAP_IS_INT(vs_history_series_add(h, "y", "y", unit, VS_KIND_GAUGE), -EINVAL,
	    "16-byte unit: -EINVAL");
	TAP_IS_INT(vs_history_series_add(h, "", "y", "", VS_KIND_GAUGE), -EINVAL,
	    "empty entity: -EINVAL");
	TAP_IS_INT(vs_history_series_add(h, "y", "", "", VS_KIND_GAUGE), -EINVAL,
	    "empty metric: -EINVAL");
	TAP_IS_INT(vs_history_series_add(h, "y", NULL, "", VS_KIND_GAUGE), -EINVAL,
	    "NULL metric: -EINVAL");
	TAP_IS_INT(vs_history_series_add(h, "y", "y", "", (vs_kind_t)7), -EINVAL,
	    "unknown kind: -EINVAL");
	vs_history_destroy(&h);
}

/* The hash index under churn: backward-shift deletion must keep every probe chain whole. */
static void
test_index_churn(void)
{
	enum { SERIES = 48, NAMES = 200, OPS = 20000 };
	vs_history_t *h = s_new(SERIES, 4, 4096);
	int ids[NAMES], used = 0, bad = 0, op, k;
	char e[16], m[16];

	for (k = 0; k < NAMES; k++)
		ids[k] = -1;
	for (op = 0; op < OPS && bad < 5; op++) {
		int nm = (int)s_below(NAMES), rc;

		snprintf(e, sizeof(e), "e%d", nm % 13);
		snprintf(m, sizeof(m), "m%d", nm);
		if (ids[nm] >= 0 && s_below(2)) {
			vs_history_series_del(h, ids[nm]);
			ids[nm] = -1;
			used--;
		} else {
			rc = vs_history_series_add(h, e, m, "", VS_KIND_GAUGE);
			if (ids[nm] >= 0 ? rc != -EEXIST :
			    used == SERIES ? rc != -ENOSPC : rc < 0) {
				tap_diag("op %d add %s/%s: rc %d (had %d, used %d)", op, e, m, rc,
				    ids[nm], used);
				bad++;
			}
			if (ids[nm] < 0 && rc >= 0) {
				ids[nm] = rc;
				used++;
			}
		}
		if (op % 97 != 0)
			continue;
		for (k = 0; k < NAMES; k++) {
			snprintf(e, sizeof(e), "e%d", k % 13);
			snprintf(m, sizeof(m), "m%d", k);
			rc = vs_history_series_find(h, e, m);
			if (rc != (ids[k] >= 0 ? ids[k] : -ENOENT)) {
				tap_diag("op %d find %s/%s: %d, expected %d", op, e, m, rc,
				    ids[k]);
				bad++;
			}
		}
	}
	tap_ok(bad == 0, "hash index: %d add/del/find operations agree with a model", OPS);
	vs_history_destroy(&h);
}

/* ---- samples --------------------------------------------------------------------------- */

static void
test_roundtrip(void)
{
	enum { MAXV = 4096 };
	static int64_t v[MAXV];
	static vs_point_t pts[MAXV];
	vs_history_t *h = s_new(2, MAXV, 1 << 20);
	vs_series_info_t info;
	size_t n = 0, i, bad = 0;
	int id, k, r, tr = -1;

	static const int64_t edge[] = { 0, 1, -1, INT64_MAX, INT64_MIN, INT64_MAX, 0, INT64_MIN,
		-1,
		INT64_MIN + 1, INT64_MAX - 1, 63, 64, -64, -65, 8191, 8192, -8192, -8193,
		INT64_MAX, INT64_MAX, INT64_MIN, INT64_MIN, 0, 0, 0 };

	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		v[n++] = edge[i];
	for (k = 0; k < 64; k++) {
		uint64_t p = 1ull << k;
		v[n++] = (int64_t)p;
		v[n++] = (int64_t)(p - 1);
		v[n++] = -(int64_t)(p - 1);
		v[n++] = (int64_t)(0 - p);      /* -2^k; -2^63 is INT64_MIN */
		v[n++] = (int64_t)(p - 1);
	}
	while (n < 1000)
		v[n++] = (int64_t)s_rand();                     /* full-width jumps */
	while (n < 1400)
		v[n++] = s_uniform(-100, 100);
	for (i = 0; i < 300; i++)
		v[n++] = 0;                                     /* a run longer than a token */
	for (i = 0; i < 260; i++)
		v[n++] = 42;                                    /* equal but non-zero */
	while (n < 2500)
		v[n++] = (int64_t)(s_rand() >> s_below(64)) * (s_below(2) ? 1 : -1);
	for (i = 0; i < 700; i++)
		v[n++] = (i / 128) % 2 ? INT64_MIN : 7;         /* runs that end on a boundary */
	while (n < MAXV - 10) {
		v[n] = s_below(4) ? v[n - 1] : (int64_t)s_rand();
		n++;
	}

	id = vs_history_series_add(h, "dom1", "x", "", VS_KIND_GAUGE);
	TAP_IS_INT(vs_history_append(h, id, 1), -EINVAL, "append before the first tick: -EINVAL");
	for (i = 0; i < n; i++) {
		vs_history_tick(h, T0 + (int64_t)i * 10 * MS);
		if (vs_history_append(h, id, v[i]) != 0)
			bad++;
	}
	TAP_IS_INT(bad, 0, "%zu appends succeed", n);
	r = vs_history_read(h, id, 0, 0, pts, MAXV, &tr);
	TAP_IS_INT(r, n, "read returns every point");
	TAP_IS_INT(tr, 0, "not truncated");
	for (i = 0, bad = 0; r > 0 && i < n; i++) {
		if (pts[i].value != v[i] || pts[i].t_ns != T0 + (int64_t)i * 10 * MS) {
			if (bad++ < 5)
				tap_diag("point %zu: %lld @%lld, expected %lld", i,
				    (long long)pts[i].value, (long long)pts[i].t_ns,
				    (long long)v[i]);
		}
	}
	TAP_IS_INT(bad, 0, "every value and time round-trips, INT64_MIN/MAX and jumps included");

	r = vs_history_read(h, id, INT64_MIN, INT64_MAX, pts, 10, &tr);
	tap_ok(r == 10 && tr == 1 && pts[0].value == v[n - 10] && pts[9].value == v[n - 1] &&
	    pts[9].t_ns == T0 + (int64_t)(n - 1) * 10 * MS, "max 10: the newest 10, truncated");
	r = vs_history_read(h, id, T0 + 100 * 10 * MS, T0 + 199 * 10 * MS, pts, MAXV, NULL);
	tap_ok(r == 100 && pts[0].value == v[100] && pts[99].value == v[199],
	    "a time window returns exactly its points (%d)", r);
	r = vs_history_read(h, id, T0 + 100 * 10 * MS + 1, T0 + 100 * 10 * MS + 2, pts, MAXV, &tr);
	tap_ok(r == 0 && tr == 0, "a window between ticks is empty");
	TAP_IS_INT(vs_history_read(h, 1, 0, 0, pts, MAXV, NULL), -ENOENT, "read free id: -ENOENT");

	vs_history_series_info(h, id, &info);
	tap_ok(info.n_samples == n && info.last_value == v[n - 1] && info.last_tick == n,
	    "info: n_samples %llu, last_tick %llu", (unsigned long long)info.n_samples,
	    (unsigned long long)info.last_tick);

	vs_history_tick(h, T0 + (int64_t)n * 10 * MS);
	TAP_IS_INT(vs_history_append(h, id, 12345), 0, "append in a new tick");
	TAP_IS_INT(vs_history_append(h, id, 999), -EALREADY, "second append in a tick: -EALREADY");
	TAP_IS_INT(vs_history_append(h, 1, 5), -ENOENT, "append to a free id: -ENOENT");
	TAP_IS_INT(vs_history_append(h, -3, 5), -ENOENT, "append to a negative id: -ENOENT");
	r = vs_history_read(h, id, 0, 0, pts, 1, NULL);
	tap_ok(r == 1 && pts[0].value == 12345, "the first append of the tick stands (%lld)",
	    (long long)pts[0].value);
	vs_history_series_info(h, id, &info);
	TAP_IS_INT(info.last_value, 12345, "info.last_value ignores the refused append");
	vs_history_destroy(&h);
}

/* Block ends in every token state: a lone zero, a run token, a varint that does not fit.
 * A neighbour series owns the next block, so a write past the end would show in it. */
static void
test_block_edges(void)
{
	enum { N = 800 };
	static int64_t va[N];
	static vs_point_t pts[N];
	int pre, bad = 0, i, ra, rb;

	for (pre = VS_HISTORY_BLOCK_BYTES - 12; pre <= VS_HISTORY_BLOCK_BYTES + 2; pre++) {
		vs_history_t *h = s_new(2, N, 64 * VS_HISTORY_BLOCK_BYTES);
		int a = vs_history_series_add(h, "d", "a", "", VS_KIND_GAUGE);
		int b = vs_history_series_add(h, "d", "b", "", VS_KIND_GAUGE);

		for (i = 0; i < N; i++) {
			if (i < pre)
				va[i] = i & 1;                  /* 1 byte each */
			else if (i < pre + 400)
				va[i] = va[pre - 1];            /* zero deltas across the end */
			else
				va[i] = (int64_t)s_rand();      /* 10-byte varints */
			vs_history_tick(h, T0 + i * MS);
			vs_history_append(h, a, va[i]);
			vs_history_append(h, b, 5);
		}
		ra = vs_history_read(h, a, 0, 0, pts, N, NULL);
		for (i = 0; i < ra; i++)
			bad += pts[i].value != va[i];
		rb = vs_history_read(h, b, 0, 0, pts, N, NULL);
		for (i = 0; i < rb; i++)
			bad += pts[i].value != 5;
		bad += ra != N || rb != N;
		vs_history_destroy(&h);
	}
	TAP_IS_INT(bad, 0, "blocks ending in each token state round-trip, neighbours intact");
}

static void
test_gaps(void)
{
	static const int at[] = { 1, 2, 3, 6, 7, 9, 12, 13 };
	static const int64_t val[] = { 5, 5, 5, 5, 5, -3, 1000000, 1000000 };
	vs_history_t *h = s_new(1, 100, 8192);
	vs_point_t pts[32];
	vs_series_info_t info;
	vs_history_stats_t st;
	size_t meta = s_meta_bytes();
	int id = vs_history_series_add(h, "dom1", "gauge", "", VS_KIND_GAUGE);
	int tick, j = 0, r, bad = 0;

	for (tick = 1; tick <= 14; tick++) {
		vs_history_tick(h, T0 + tick * MS + tick * tick * 1000);
		if (j < 8 && at[j] == tick)
			bad += vs_history_append(h, id, val[j++]) != 0;
	}
	r = vs_history_read(h, id, 0, 0, pts, 32, NULL);
	TAP_IS_INT(r, 8, "gaps: 8 points over 14 ticks");
	for (j = 0; j < 8 && r == 8; j++)
		bad += pts[j].t_ns != T0 + at[j] * MS + at[j] * at[j] * 1000 ||
		    pts[j].value != val[j];
	TAP_IS_INT(bad, 0, "gaps: each point has its own tick's time and value");
	vs_history_series_info(h, id, &info);
	tap_ok(info.n_samples == 8 && info.last_tick == 13, "gaps: info counts 8, last tick 13");
	/* One block: 5 (1 byte), 0x00, run [0x82 0], then a 3-byte stride token before each
	 * sample whose gap differs from the previous one: 3, 1, 2, 3, 1 ticks, with deltas
	 * 0, 0, -8, +1000003 (3 bytes), 0. */
	vs_history_stats(h, &st);
	TAP_IS_INT(st.used_bytes, meta + 3 + 4 + 4 + 4 + 6 + 4,
	    "gaps stay in the block: 25 payload bytes, one block");
	vs_history_destroy(&h);
}

/* Values whose deltas take 3 bytes: like a VIF counter's increments. */
static int64_t
s_vif(void)
{
	return 1250000 + s_uniform(-125000, 125000);
}

static void
test_eviction(void)
{
	enum { TICKS = 3000, BLOCKS = 8 };
	static int64_t va[TICKS + 1], vb[TICKS + 1];
	static vs_point_t pts[TICKS];
	vs_history_t *h = s_new(4, 100000, BLOCKS * VS_HISTORY_BLOCK_BYTES);
	vs_history_stats_t st;
	size_t meta = s_meta_bytes();
	int a = vs_history_series_add(h, "dom1", "rx", "B", VS_KIND_COUNTER);
	int b, r, rb, i, bad = 0;

	for (i = 1; i <= TICKS; i++) {
		vs_history_tick(h, T0 + i * 10 * MS);
		va[i] = s_vif();
		vs_history_append(h, a, va[i]);
	}
	r = vs_history_read(h, a, 0, 0, pts, TICKS, NULL);
	/* Values take at most 4 bytes, so each full block holds at least 64. */
	tap_ok(r >= (BLOCKS - 1) * 64 && r < TICKS, "eviction: %d of %d samples kept in %d blocks",
	    r, TICKS, BLOCKS);
	for (i = 0; i < r; i++)
		bad += pts[i].value != va[TICKS - r + 1 + i] ||
		    pts[i].t_ns != T0 + (TICKS - r + 1 + i) * 10 * MS;
	TAP_IS_INT(bad, 0, "eviction: what is kept is the newest samples, exact");
	vs_history_stats(h, &st);
	tap_ok(st.evicted_blocks >= (uint64_t)TICKS / (VS_HISTORY_BLOCK_BYTES / 3) - BLOCKS,
	    "evicted_blocks counts (%llu)", (unsigned long long)st.evicted_blocks);
	tap_ok(st.used_bytes <= BLOCKS * (VS_HISTORY_BLOCK_BYTES + meta) &&
	    st.used_bytes > (BLOCKS - 1) * (VS_HISTORY_BLOCK_BYTES - 4),
	    "used_bytes %zu fits the arena", st.used_bytes);
	TAP_IS_INT(st.samples, r, "stats.samples matches what read returns");

	/* Two series sharing the arena: both keep a newest suffix. */
	b = vs_history_series_add(h, "dom2", "rx", "B", VS_KIND_COUNTER);
	for (i = 1; i <= TICKS; i++) {
		vs_history_tick(h, T0 + (TICKS + i) * 10 * MS);
		va[i] = s_vif();
		vb[i] = s_vif();
		vs_history_append(h, a, va[i]);
		vs_history_append(h, b, vb[i]);
	}
	r = vs_history_read(h, a, T0 + TICKS * 10 * MS + 1, 0, pts, TICKS, NULL);
	for (i = 0, bad = 0; i < r; i++)
		bad += pts[i].value != va[TICKS - r + 1 + i];
	rb = vs_history_read(h, b, 0, 0, pts, TICKS, NULL);
	for (i = 0; i < rb; i++)
		bad += pts[i].value != vb[TICKS - rb + 1 + i];
	tap_ok(bad == 0 && r > 0 && rb > 0 && r < 2 * rb && rb < 2 * r,
	    "two series share the arena: each keeps its newest samples (%d, %d)", r, rb);
	vs_history_destroy(&h);
}

static void
test_tick_ring(void)
{
	static vs_point_t pts[1000];
	vs_history_t *h = s_new(4, 100, 1 << 16);
	vs_history_stats_t st;
	vs_series_info_t info;
	size_t meta = s_meta_bytes();
	int a = vs_history_series_add(h, "d", "seq", "", VS_KIND_GAUGE);
	int z = vs_history_series_add(h, "d", "idle", "", VS_KIND_COUNTER);
	int v = vs_history_series_add(h, "d", "vif", "", VS_KIND_COUNTER);
	int i, r, tr, bad = 0;
	int64_t t;

	for (i = 1; i <= 1000; i++) {
		vs_history_tick(h, T0 + i * MS);
		vs_history_append(h, a, i);
		vs_history_append(h, z, 0);
		vs_history_append(h, v, s_vif());
	}
	TAP_IS_INT(vs_history_current_tick(h), 1000, "current tick");
	TAP_IS_INT(vs_history_tick_time(h, 900, &t), -ENOENT, "tick 900 has left a 100-tick ring");
	tap_ok(vs_history_tick_time(h, 901, &t) == 0 && t == T0 + 901 * MS, "tick 901 is in it");
	TAP_IS_INT(vs_history_tick_time(h, 0, &t), -ENOENT, "tick 0 never exists");
	TAP_IS_INT(vs_history_tick_time(h, 1001, &t), -ENOENT, "future tick: -ENOENT");
	r = vs_history_read(h, a, 0, 0, pts, 1000, &tr);
	TAP_IS_INT(r, 100, "read returns only ticks in the ring");
	for (i = 0; i < r; i++)
		bad += pts[i].value != 901 + i || pts[i].t_ns != T0 + (901 + i) * MS;
	TAP_IS_INT(bad, 0, "those are ticks 901..1000");
	r = vs_history_read(h, z, 0, 0, pts, 1000, NULL);
	/* The idle series holds its 1000 zeros in one block that started long before tick 901. */
	tap_ok(r == 100 && pts[0].t_ns == T0 + 901 * MS && pts[0].value == 0,
	    "a block straddling the ring's start is cut at it (%d)", r);
	vs_history_series_info(h, z, &info);
	TAP_IS_INT(info.n_samples, 100, "info.n_samples counts only the ring");
	vs_history_stats(h, &st);
	TAP_IS_INT(st.samples, 300, "stats.samples counts only the ring");
	/* The VIF series filled ~12 blocks; the ones wholly out of the ring are freed. */
	tap_ok(st.used_bytes <= 6 * (VS_HISTORY_BLOCK_BYTES + meta),
	    "blocks that left the ring are freed (used_bytes %zu)", st.used_bytes);
	TAP_IS_INT(st.evicted_blocks, 0, "expiry is not eviction");
	vs_history_destroy(&h);
}

static void
test_delete_reuse(void)
{
	enum { BLOCKS = 16, PER = VS_HISTORY_BLOCK_BYTES };    /* 1-byte samples fill a block */
	vs_history_t *h = s_new(2, 100000, BLOCKS * VS_HISTORY_BLOCK_BYTES);
	vs_history_stats_t st;
	size_t meta = s_meta_bytes();
	static vs_point_t pts[BLOCKS * PER + 1];
	int a = vs_history_series_add(h, "dom1", "x", "", VS_KIND_GAUGE), b, r, bad = 0;
	uint64_t tick = 0, i;

	/* Alternating 0, 1 encodes as 1 byte each: the first as 0, then deltas +1, -1. */
	for (i = 0; i < BLOCKS / 2 * PER; i++) {
		vs_history_tick(h, T0 + (int64_t)++tick * MS);
		vs_history_append(h, a, (int64_t)(i & 1));
	}
	vs_history_stats(h, &st);
	TAP_IS_INT(st.used_bytes, BLOCKS / 2 * (PER + meta), "8 full blocks of 1-byte samples");
	vs_history_series_del(h, a);
	vs_history_stats(h, &st);
	tap_ok(st.used_bytes == 0 && st.samples == 0 && st.series == 0,
	    "delete returns its blocks (used %zu)", st.used_bytes);

	b = vs_history_series_add(h, "dom2", "x", "", VS_KIND_GAUGE);
	for (i = 0; i < BLOCKS * PER; i++) {
		vs_history_tick(h, T0 + (int64_t)++tick * MS);
		vs_history_append(h, b, (int64_t)(i & 1));
	}
	vs_history_stats(h, &st);
	tap_ok(st.evicted_blocks == 0 && st.used_bytes == BLOCKS * (PER + meta),
	    "the freed blocks are reused without evicting (evicted %llu, used %zu)",
	    (unsigned long long)st.evicted_blocks, st.used_bytes);
	r = vs_history_read(h, b, 0, 0, pts, BLOCKS * PER + 1, NULL);
	for (i = 0; r > 0 && i < (uint64_t)r; i++)
		bad += pts[i].value != (int64_t)(i & 1);
	tap_ok(r == BLOCKS * PER && bad == 0, "the whole arena holds the new series (%d)", r);
	vs_history_tick(h, T0 + (int64_t)++tick * MS);
	vs_history_append(h, b, 7);
	vs_history_stats(h, &st);
	TAP_IS_INT(st.evicted_blocks, 1, "one more block evicts exactly one");
	r = vs_history_read(h, b, 0, 0, pts, BLOCKS * PER + 1, NULL);
	tap_ok(r == (BLOCKS - 1) * PER + 1 && pts[r - 1].value == 7 && pts[0].value == 0,
	    "and it was the oldest (%d left)", r);
	vs_history_destroy(&h);
}

/* ---- strided series: sampled every k-th tick, or missing ticks ------------------------- */

/* Tick times of the strided tests: 10 ms apart with jitter, and the clock steps back once. */
static int64_t
s_stime(uint64_t t)
{
	return T0 + (int64_t)t * 10 * MS + (int64_t)(t * t % 997) * 1000 - (t > 1500 ? 25 * MS : 0);
}

struct sref {                   /* what a series should hold: ticks and values, in order */
	uint64_t tick[4000];
	int64_t value[4000];
	size_t n;
};

static int
s_sref_check(vs_history_t *h, int id, const struct sref *r, const char *what)
{
	static vs_point_t pts[4001];
	vs_series_info_t info;
	int n = vs_history_read(h, id, 0, 0, pts, 4001, NULL), bad = 0, i;

	if (n != (int)r->n) {
		tap_diag("%s: read %d points, expected %zu", what, n, r->n);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (pts[i].value != r->value[i] || pts[i].t_ns != s_stime(r->tick[i])) {
			if (bad++ < 3)
				tap_diag("%s: point %d is %lld@%lld, expected %lld@%lld (tick %llu)",
				    what, i, (long long)pts[i].value, (long long)pts[i].t_ns,
				    (long long)r->value[i], (long long)s_stime(r->tick[i]),
				    (unsigned long long)r->tick[i]);
		}
	}
	vs_history_series_info(h, id, &info);
	if (info.n_samples != r->n || info.last_tick != (r->n ? r->tick[r->n - 1] : 0)) {
		tap_diag("%s: info n %llu last %llu", what, (unsigned long long)info.n_samples,
		    (unsigned long long)info.last_tick);
		bad++;
	}
	return bad;
}

/* Per-tick and strided series share one history; each reads back exactly. */
static void
test_strided(void)
{
	enum { TICKS = 3000, NS = 7 };
	static struct sref ref[NS];
	static const char *const what[NS] = { "per-tick VIF", "every 2nd, random walk",
		"every 3rd, 64-bit noise", "every 10th, idle gauge", "every 10th, steady counter",
		"per tick, 20% missed", "stride 10, 1, 3, 7 in turn" };
	vs_history_t *h = s_new(NS, TICKS + 10, 1 << 20);
	vs_history_stats_t st;
	uint64_t t, samples = 0;
	int64_t walk = 0;
	int id[NS], i, bad = 0;
	char m[16];

	for (i = 0; i < NS; i++) {
		snprintf(m, sizeof(m), "s%d", i);
		id[i] = vs_history_series_add(h, "dom1", m, "", i == 1 || i == 3 ?
		    VS_KIND_GAUGE : VS_KIND_COUNTER);
		ref[i].n = 0;
	}
	for (t = 1; t <= TICKS; t++) {
		uint64_t every6 = t <= 1000 ? 10 : t <= 2000 ? 1 : t <= 2500 ? 3 : 7;

		vs_history_tick(h, s_stime(t));
		for (i = 0; i < NS; i++) {
			int64_t v;

			switch (i) {
			case 0: v = s_vif(); break;
			case 1: if (t % 2) continue; v = walk += s_uniform(-300, 300); break;
			case 2: if (t % 3 != 1) continue; v = (int64_t)s_rand(); break;
			case 3: if (t % 10) continue; v = 262144; break;
			case 4: if (t % 10 != 7) continue; v = 1000; break;
			case 5: if (s_below(5) == 0) continue; v = s_uniform(0, 200); break;
			default: if (t % every6) continue; v = s_uniform(-5, 5); break;
			}
			bad += vs_history_append(h, id[i], v) != 0;
			ref[i].tick[ref[i].n] = t;
			ref[i].value[ref[i].n++] = v;
		}
	}
	TAP_IS_INT(bad, 0, "strided: every append succeeds");
	for (i = 0; i < NS; i++) {
		tap_ok(s_sref_check(h, id[i], &ref[i], what[i]) == 0,
		    "strided: %s: %zu points, values and tick times exact", what[i], ref[i].n);
		samples += ref[i].n;
	}
	vs_history_stats(h, &st);
	TAP_IS_INT(st.samples, samples, "strided: stats.samples counts them all");
	TAP_IS_INT(st.evicted_blocks, 0, "strided: nothing evicted");
	vs_history_destroy(&h);
}

/* Stride tokens at the end of a block: one that fits exactly, one a byte short, and every
 * size of sample after them. A neighbour owns the next block, so an overrun would show. */
static void
test_stride_edges(void)
{
	enum { N = 1200 };
	static struct sref ra, rb;
	static const uint64_t gaps[] = { 2, 3, 1, 5, 1, 127, 128, 2 };    /* 1 or 2 low bytes */
	int pre, bad = 0, k;

	for (pre = VS_HISTORY_BLOCK_BYTES - 14; pre <= VS_HISTORY_BLOCK_BYTES + 2; pre++) {
		vs_history_t *h = s_new(2, 100000, 64 * VS_HISTORY_BLOCK_BYTES);
		int a = vs_history_series_add(h, "d", "a", "", VS_KIND_GAUGE);
		int b = vs_history_series_add(h, "d", "b", "", VS_KIND_GAUGE);
		uint64_t t = 0, next = 1;
		size_t g = 0;

		ra.n = rb.n = 0;
		while (ra.n < N) {
			vs_history_tick(h, s_stime(++t));
			if (t == next) {
				int64_t v;

				if (ra.n < (size_t)pre)
					v = (int64_t)(ra.n & 1);        /* 1 byte each, per tick */
				else    /* 1..10-byte deltas after stride tokens */
					v = (int64_t)(s_rand() >> s_below(64));
				bad += vs_history_append(h, a, v) != 0;
				ra.tick[ra.n] = t;
				ra.value[ra.n++] = v;
				next = ra.n < (size_t)pre ? t + 1 : t + gaps[g++ % 8];
			}
			if (rb.n < 4000 && t % 7 == 0) {
				bad += vs_history_append(h, b, 5) != 0;
				rb.tick[rb.n] = t;
				rb.value[rb.n++] = 5;
			}
		}
		bad += s_sref_check(h, a, &ra, "stride edges a");
		bad += s_sref_check(h, b, &rb, "stride edges b");
		vs_history_destroy(&h);
	}
	TAP_IS_INT(bad, 0, "stride tokens at every block end position round-trip, neighbour intact");

	/* The longest gap a block takes is VS_HISTORY_MAX_GAP; a longer one starts a block. */
	{
		enum { G = VS_HISTORY_MAX_GAP };
		static const uint64_t at[] = { 1, 2, 2 + G, 2 + G + G + 1, 2 + G + G + 2 };
		vs_history_t *h = s_new(1, 2 * G + 10, 64 * VS_HISTORY_BLOCK_BYTES);
		int c = vs_history_series_add(h, "d", "c", "", VS_KIND_COUNTER);
		vs_history_stats_t st;
		size_t meta = s_meta_bytes();
		struct sref *r = &ra;
		uint64_t t;
		double x = 0;
		int64_t span = 0;
		uint64_t n = 0;
		int rc;

		r->n = 0;
		for (t = 1, k = 0; t <= at[4]; t++) {
			vs_history_tick(h, s_stime(t));
			if (k < 5 && at[k] == t) {
				bad += vs_history_append(h, c, 7) != 0;
				r->tick[r->n] = t;
				r->value[r->n++] = 7;
				k++;
			}
		}
		TAP_IS_INT(s_sref_check(h, c, r, "long gaps"), 0,
		    "gaps of %d and %d ticks round-trip", G, G + 1);
		vs_history_stats(h, &st);
		/* [0x0e 0x00 stride(G) 0x00] and, after the longer gap, [0x0e 0x00]. */
		TAP_IS_INT(st.used_bytes, 2 * meta + 6 + 2,
		    "a %d-tick gap stays in the block, a %d-tick one starts the next", G, G + 1);
		rc = vs_history_aggregate(h, c, s_stime(at[2]), 0, &x, &span, &n);
		tap_ok(rc == 0 && x == 14 && n == 2 && span == s_stime(at[4]) - s_stime(at[2]),
		    "aggregate after the long gap spans from the previous sample, in the older "
		    "block (%g, %lld, %llu)", x, (long long)span, (unsigned long long)n);
		vs_history_destroy(&h);
	}
}

/* Retention of strided series: the tick ring cuts blocks that are not one sample per tick
 * (n_samples then needs to decode), and eviction keeps the newest samples exactly. */
static void
test_stride_retention(void)
{
	enum { TICKS = 3000 };
	static struct sref r3, r10, r1;
	static vs_point_t pts[TICKS];
	vs_history_t *h = s_new(4, 95, 1 << 16);
	vs_history_stats_t st;
	size_t meta = s_meta_bytes();
	int a = vs_history_series_add(h, "d", "every3", "", VS_KIND_GAUGE);
	int z = vs_history_series_add(h, "d", "idle10", "", VS_KIND_GAUGE);
	int v = vs_history_series_add(h, "d", "vif", "", VS_KIND_COUNTER);
	int b, r, rv, bad = 0, i;
	uint64_t t;
	int64_t walk = 0;

	r3.n = r10.n = r1.n = 0;
	for (t = 1; t <= 1000; t++) {
		vs_history_tick(h, s_stime(t));
		if (t % 3 == 2) {
			vs_history_append(h, a, walk += s_uniform(-100, 100));
			if (t > 1000 - 95) {
				r3.tick[r3.n] = t;
				r3.value[r3.n++] = walk;
			}
		}
		if (t % 10 == 4) {
			vs_history_append(h, z, 0);
			if (t > 1000 - 95) {
				r10.tick[r10.n] = t;
				r10.value[r10.n++] = 0;
			}
		}
		vs_history_append(h, v, s_vif());
	}
	/* Ticks 906..1000 are in the ring: 31 of the every-3rd series (908..998), 9 of the idle
	 * one (914..994), which are in the middle of a run token of a block begun at tick 4. */
	tap_ok(r3.n == 31 && s_sref_check(h, a, &r3, "ring every3") == 0,
	    "ring: an every-3rd series keeps exactly its samples in the ring (%zu)", r3.n);
	tap_ok(r10.n == 9 && s_sref_check(h, z, &r10, "ring idle10") == 0,
	    "ring: an every-10th run is cut at the ring's start (%zu)", r10.n);
	vs_history_stats(h, &st);
	TAP_IS_INT(st.samples, 31 + 9 + 95, "ring: stats.samples counts only the ring");
	/* every3: 333 random-walk samples of 1-2 bytes, 2-3 blocks of which the ones out of the
	 * ring are freed; idle10: one block; vif: ~1000 * 3 bytes, as in test_tick_ring. */
	tap_ok(st.used_bytes <= 9 * (VS_HISTORY_BLOCK_BYTES + meta),
	    "ring: blocks that left the ring are freed (used_bytes %zu)", st.used_bytes);
	vs_history_destroy(&h);

	/* Arena-bound: 8 blocks for an every-2nd and a per-tick VIF counter. */
	h = s_new(2, 100000, 8 * VS_HISTORY_BLOCK_BYTES);
	a = vs_history_series_add(h, "d", "every2", "", VS_KIND_COUNTER);
	b = vs_history_series_add(h, "d", "vif", "", VS_KIND_COUNTER);
	r3.n = r1.n = 0;
	for (t = 1; t <= TICKS; t++) {
		int64_t x;

		vs_history_tick(h, s_stime(t));
		if (t % 2 == 0) {
			x = s_vif();
			vs_history_append(h, a, x);
			r3.tick[r3.n] = t;
			r3.value[r3.n++] = x;
		}
		x = s_vif();
		vs_history_append(h, b, x);
		r1.tick[r1.n] = t;
		r1.value[r1.n++] = x;
	}
	r = vs_history_read(h, a, 0, 0, pts, TICKS, NULL);
	for (i = 0; i < r; i++)
		bad += pts[i].value != r3.value[r3.n - r + i] ||
		    pts[i].t_ns != s_stime(r3.tick[r3.n - r + i]);
	rv = vs_history_read(h, b, 0, 0, pts, TICKS, NULL);
	for (i = 0; i < rv; i++)
		bad += pts[i].value != r1.value[r1.n - rv + i] ||
		    pts[i].t_ns != s_stime(r1.tick[r1.n - rv + i]);
	vs_history_stats(h, &st);
	tap_ok(bad == 0 && r > 0 && rv > 0 && st.evicted_blocks > 0 &&
	    st.samples == (uint64_t)(r + rv),
	    "eviction: every-2nd and per-tick series each keep their newest samples exactly "
	    "(%d, %d; %llu blocks evicted)", r, rv, (unsigned long long)st.evicted_blocks);
	vs_history_destroy(&h);
}

/* ---- aggregate ------------------------------------------------------------------------- */

static void
test_aggregate(void)
{
	vs_history_t *h = s_new(8, 1000, 1 << 16);
	double x = 0;
	int64_t span = 0;
	uint64_t n = 0;
	int c = vs_history_series_add(h, "d", "ctr", "B", VS_KIND_COUNTER);
	int g = vs_history_series_add(h, "d", "gauge", "KiB", VS_KIND_GAUGE);
	int cg = vs_history_series_add(h, "d", "ctr-gappy", "B", VS_KIND_COUNTER);
	int k, rc;

	for (k = 1; k <= 20; k++) {
		vs_history_tick(h, T0 + k * 1000);
		vs_history_append(h, c, 10 * k);
		vs_history_append(h, g, 10 * k);
		if (k != 4 && k != 5)
			vs_history_append(h, cg, 10 * k);
	}
	rc = vs_history_aggregate(h, c, T0 + 2000, T0 + 5000, &x, &span, &n);
	tap_ok(rc == 0 && x == 120 && span == 3000 && n == 3,
	    "counter (t2, t5]: sum 120 over 3000 ns, n 3 (rc %d, %g, %lld, %llu)", rc, x,
	    (long long)span, (unsigned long long)n);
	rc = vs_history_aggregate(h, g, T0 + 2000, T0 + 5000, &x, &span, &n);
	tap_ok(rc == 0 && x == 40 && span == 3000 && n == 3, "gauge (t2, t5]: mean 40 (%g)", x);
	rc = vs_history_aggregate(h, c, T0 + 2500, T0 + 5500, &x, &span, &n);
	tap_ok(rc == 0 && x == 120 && span == 3000 && n == 3,
	    "window edges between ticks select the same ticks");
	rc = vs_history_aggregate(h, c, 0, 0, &x, &span, &n);
	tap_ok(rc == 0 && x == 2090 && span == 19000 && n == 19,
	    "counter from tick 1: no tick 0, so sample 1 only opens the span (%g, %lld, %llu)",
	    x, (long long)span, (unsigned long long)n);
	rc = vs_history_aggregate(h, g, 0, INT64_MAX, &x, &span, &n);
	tap_ok(rc == 0 && x == 105 && span == 19000 && n == 20,
	    "gauge from tick 1 keeps sample 1 in the mean (%g, %lld, %llu)", x, (long long)span,
	    (unsigned long long)n);
	rc = vs_history_aggregate(h, cg, T0 + 2000, T0 + 7000, &x, &span, &n);
	tap_ok(rc == 0 && x == 160 && span == 5000 && n == 3,
	    "counter with a gap: samples 3, 6, 7 over (t2, t7] (%g, %lld, %llu)", x,
	    (long long)span, (unsigned long long)n);
	rc = vs_history_aggregate(h, cg, T0 + 3000, T0 + 6000, &x, &span, &n);
	tap_ok(rc == 0 && x == 60 && span == 3000 && n == 1,
	    "window opening in a gap spans from the series' previous sample, tick 3, not tick 5 "
	    "(%g, %lld, %llu)", x, (long long)span, (unsigned long long)n);
	rc = vs_history_aggregate(h, g, T0 + 3000, T0 + 6000, &x, &span, &n);
	tap_ok(rc == 0 && x == 50 && span == 3000 && n == 3,
	    "gauge (t3, t6]: mean 50, span from its previous sample (%g, %lld, %llu)", x,
	    (long long)span, (unsigned long long)n);
	TAP_IS_INT(vs_history_aggregate(h, c, T0, T0 + 1000, &x, &span, &n), -ENODATA,
	    "only tick 1 of a counter: -ENODATA");
	TAP_IS_INT(vs_history_aggregate(h, c, T0 + 20000, 0, &x, &span, &n), -ENODATA,
	    "empty window: -ENODATA");
	TAP_IS_INT(vs_history_aggregate(h, 7, 0, 0, &x, &span, &n), -ENOENT, "free id: -ENOENT");
	vs_history_destroy(&h);

	/* The tick before the first sample has left the ring. */
	h = s_new(2, 10, 1 << 14);
	c = vs_history_series_add(h, "d", "ctr", "B", VS_KIND_COUNTER);
	g = vs_history_series_add(h, "d", "gauge", "KiB", VS_KIND_GAUGE);
	for (k = 1; k <= 20; k++) {
		vs_history_tick(h, T0 + k * 1000);
		vs_history_append(h, c, 10 * k);
		vs_history_append(h, g, 10 * k);
	}
	rc = vs_history_aggregate(h, c, 0, 0, &x, &span, &n);
	tap_ok(rc == 0 && x == 1440 && span == 9000 && n == 9,
	    "ring start: counter drops tick 11, sums 12..20 over t20 - t11 (%g, %lld, %llu)", x,
	    (long long)span, (unsigned long long)n);
	rc = vs_history_aggregate(h, g, 0, 0, &x, &span, &n);
	tap_ok(rc == 0 && x == 155 && span == 9000 && n == 10,
	    "ring start: gauge mean of 11..20 (%g, %lld, %llu)", x, (long long)span,
	    (unsigned long long)n);
	rc = vs_history_aggregate(h, c, T0 + 11000, 0, &x, &span, &n);
	tap_ok(rc == 0 && x == 1440 && span == 9000 && n == 9,
	    "from tick 11 (in the ring): span from t11, all of 12..20");
	vs_history_destroy(&h);
}

/* Counters appended every 10th tick (10 ms ticks, increments of 1000) read 10000/s over any
 * window, exactly; a per-tick one beside them 1000/s. Windows of every pair of tick edges,
 * with the ring full (first samples whose predecessor left it) and not yet full. */
static void
test_aggregate_strided(void)
{
	enum { RING = 200 };
	vs_history_t *h = s_new(4, RING, 1 << 16);
	int c10 = vs_history_series_add(h, "d", "ctr10", "B", VS_KIND_COUNTER);
	int c1 = vs_history_series_add(h, "d", "ctr1", "B", VS_KIND_COUNTER);
	int g10 = vs_history_series_add(h, "d", "gauge10", "", VS_KIND_GAUGE);
	uint64_t t, f, u, windows = 0, with_data = 0, dropped = 0;
	int bad = 0, pass;

	for (pass = 0, t = 0; pass < 2; pass++) {
		uint64_t cur = pass == 0 ? 150 : 1000, oldest;

		for (t++; t <= cur; t++) {
			vs_history_tick(h, T0 + (int64_t)t * 10 * MS);
			vs_history_append(h, c1, 10);
			if (t % 10 == 3) {
				vs_history_append(h, c10, 1000);
				vs_history_append(h, g10, (int64_t)t);
			}
		}
		t = cur;
		oldest = cur > RING ? cur - RING + 1 : 1;
		for (f = oldest > 3 ? oldest - 3 : 0; f <= cur; f++) {
			for (u = f; u <= cur + 2; u++) {
				int64_t from = T0 + (int64_t)f * 10 * MS, to = T0 + (int64_t)u * 10 * MS;
				uint64_t k0 = 0, k, n_in = 0, n, nr = 0, exp_n;
				int64_t span = 0, exp_span;
				double x = 0, sum_t = 0;
				int rc, prev_ok;

				windows++;
				/* every-10th samples in (f, u]: ticks k = 3 mod 10, readable */
				for (k = 3; k <= cur; k += 10) {
					if (k > f && k <= u && k >= oldest) {
						if (n_in++ == 0)
							k0 = k;
						sum_t += (double)k;
					}
				}
				prev_ok = n_in > 0 && k0 >= 13 && k0 - 10 >= oldest;
				rc = vs_history_aggregate(h, c10, from, to, &x, &span, &nr);
				exp_n = n_in - (n_in > 0 && !prev_ok);
				if (exp_n == 0) {
					bad += rc != -ENODATA;
				} else {
					with_data++;
					dropped += !prev_ok;
					bad += rc != 0 || nr != exp_n || x != 1000.0 * (double)exp_n ||
					    span != (int64_t)exp_n * 100 * MS ||
					    x * 1e9 / (double)span != 10000.0;
				}
				/* the gauge keeps its first sample; same span */
				rc = vs_history_aggregate(h, g10, from, to, &x, &span, &nr);
				exp_span = (int64_t)(n_in - !prev_ok) * 100 * MS;
				if (n_in == 0)
					bad += rc != -ENODATA;
				else
					bad += rc != 0 || nr != n_in || x != sum_t / (double)n_in ||
					    span != exp_span;
				/* per tick: samples f+1..u that are readable */
				k0 = f + 1 > oldest ? f + 1 : oldest;
				n_in = u < cur ? (u >= k0 ? u - k0 + 1 : 0) : cur - k0 + 1;
				n = n_in - (n_in > 0 && k0 - 1 < oldest);
				rc = vs_history_aggregate(h, c1, from, to, &x, &span, &nr);
				if (n == 0)
					bad += rc != -ENODATA;
				else
					bad += rc != 0 || nr != n || x * 1e9 / (double)span != 1000.0;
				if (bad && bad < 4 && windows < 100000) {
					tap_diag("window (t%llu, t%llu] at tick %llu: rc %d n %llu span %lld "
					    "x %g", (unsigned long long)f, (unsigned long long)u,
					    (unsigned long long)cur, rc, (unsigned long long)nr,
					    (long long)span, x);
					windows = 100000;
				}
			}
		}
	}
	tap_ok(bad == 0, "every-10th counter: rate exactly 10000/s in each of %llu windows with "
	    "data (%llu of them after its predecessor left the ring), per-tick counter 1000/s, "
	    "gauge means exact; -ENODATA when empty", (unsigned long long)with_data,
	    (unsigned long long)dropped);
	vs_history_destroy(&h);
}

/* ---- compression on realistic data ----------------------------------------------------- */

enum { KIND_IDLE, KIND_VIF, KIND_MEM, KIND_NOISE, KIND_STEADY, KIND_IDLE_GAUGE };

/* Bytes per sample of series appended every stride-th tick, samples each. */
static double
s_bytes_per_sample(int kind, size_t series, uint32_t samples, uint32_t stride)
{
	uint32_t ticks = samples * stride;
	vs_history_t *h = s_new(series, ticks, series * samples * 12);
	vs_history_stats_t st;
	int64_t mem[64];
	size_t i;
	uint32_t t;
	char m[16];

	for (i = 0; i < series; i++) {
		snprintf(m, sizeof(m), "m%zu", i);
		vs_history_series_add(h, "dom1", m, "", kind == KIND_MEM ||
		    kind == KIND_IDLE_GAUGE ? VS_KIND_GAUGE : VS_KIND_COUNTER);
		mem[i] = s_uniform(1 << 18, 16 << 20);
	}
	for (t = 1; t <= ticks; t++) {
		vs_history_tick(h, T0 + t * 100 * MS);
		if (t % stride != 0)
			continue;
		for (i = 0; i < series; i++) {
			int64_t v = 0;

			switch (kind) {
			case KIND_STEADY:
				v = 1000 + s_uniform(-50, 50);
				break;
			case KIND_IDLE_GAUGE:
				v = mem[i];
				break;
			case KIND_VIF:
				v = s_vif();
				break;
			case KIND_MEM:
				if (s_below(100) == 0)
					mem[i] += s_uniform(-4096, 4096);
				v = mem[i];
				break;
			case KIND_NOISE:
				v = (int64_t)s_rand();
				break;
			}
			vs_history_append(h, (int)i, v);
		}
	}
	vs_history_stats(h, &st);
	vs_history_destroy(&h);
	return (double)st.used_bytes / (double)st.samples;
}

static void
test_compression(void)
{
	double idle = s_bytes_per_sample(KIND_IDLE, 32, 3000, 1);
	double vif = s_bytes_per_sample(KIND_VIF, 32, 3000, 1);
	double mem = s_bytes_per_sample(KIND_MEM, 32, 3000, 1);
	double noise = s_bytes_per_sample(KIND_NOISE, 4, 3000, 1);
	double steady = s_bytes_per_sample(KIND_STEADY, 32, 3000, 1);
	double idle10 = s_bytes_per_sample(KIND_IDLE_GAUGE, 32, 3000, 10);
	double steady10 = s_bytes_per_sample(KIND_STEADY, 32, 3000, 10);
	double vif10 = s_bytes_per_sample(KIND_VIF, 32, 3000, 10);
	double mem10 = s_bytes_per_sample(KIND_MEM, 32, 3000, 10);
	double idlec10 = s_bytes_per_sample(KIND_IDLE, 32, 3000, 10);

	tap_diag("bytes/sample, metadata included: idle counter %.3f, VIF 100 Mbit/s at 100 ms "
	    "%.3f, memory gauge %.3f, random 64-bit %.3f", idle, vif, mem, noise);
	tap_ok(idle <= 1.0, "idle counter: %.3f bytes/sample (<= 1)", idle);
	tap_ok(vif <= 3.5, "VIF counter: %.3f bytes/sample (<= 3.5)", vif);
	tap_ok(mem <= 1.0, "memory gauge: %.3f bytes/sample (<= 1)", mem);
	tap_ok(noise <= 11.5, "random 64-bit values: %.3f bytes/sample (<= 11.5)", noise);

	/* Appended every 10th tick: one stride token per block, then the same as per tick. */
	tap_diag("bytes/sample every 10th tick (per tick), metadata included: steady counter "
	    "(1000 +- 50) %.3f (%.3f), idle gauge %.3f, idle counter %.3f (%.3f), VIF-like "
	    "counter %.3f (%.3f), memory gauge %.3f (%.3f)", steady10, steady, idle10, idlec10,
	    idle, vif10, vif, mem10, mem);
	tap_ok(steady10 <= 3.0, "every 10th tick, steady counter: %.3f bytes/sample (<= 3)",
	    steady10);
	tap_ok(idle10 <= 1.0, "every 10th tick, idle gauge: %.3f bytes/sample (<= 1)", idle10);
	tap_ok(idle10 <= 0.05 && idlec10 <= 0.05,
	    "every 10th tick, runs still work: idle gauge %.3f, idle counter %.3f (<= 0.05)",
	    idle10, idlec10);
	tap_ok(vif10 <= vif + 0.1 && steady10 <= steady + 0.1 && mem10 <= mem + 0.1,
	    "every 10th tick costs what every tick does, within 0.1 byte (a stride token a block)");
}

/* ---- speed (reported, not asserted: sanitizers and valgrind run this too) -------------- */

static double
s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
s_speed(int stride)
{
	enum { SERIES = 2000, TICKS = 500, NOISE = 4096 };
	static int64_t noise[NOISE];
	vs_history_config_t cfg = { .max_series = SERIES, .max_ticks = 1000 };
	vs_history_t *h = vs_history_new(&cfg);
	vs_history_stats_t st;
	double t0, spent = 0;
	int i, t, bad = 0;
	char m[16];

	for (i = 0; i < NOISE; i++)
		noise[i] = s_vif();
	for (i = 0; i < SERIES; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		vs_history_series_add(h, "dom", m, "", VS_KIND_COUNTER);
	}
	for (t = 1; t <= TICKS * stride; t++) {
		vs_history_tick(h, T0 + t * 10 * MS);
		if (t % stride != 0)
			continue;
		t0 = s_now();
		for (i = 0; i < SERIES; i++) {
			int64_t v = i % 3 == 0 ? noise[(i + t) & (NOISE - 1)] : i % 3 == 1 ? 0 : i;

			bad += vs_history_append(h, i, v) != 0;
		}
		spent += s_now() - t0;
	}
	vs_history_stats(h, &st);
	tap_diag("append%s: %.1f ns each (%d series x %d ticks, 1/3 VIF-like, 1/3 idle, 1/3 flat); "
	    "memory %zu bytes for %zu-byte arena", stride == 1 ? "" : " every 10th tick",
	    spent * 1e9 / (SERIES * TICKS), SERIES, TICKS, st.memory_bytes, st.arena_bytes);
	TAP_IS_INT(bad, 0, "speed run: all appends succeed");
	vs_history_destroy(&h);
}

static void
test_speed(void)
{
	s_speed(1);
	s_speed(10);
}

/* ---- randomized check against an uncompressed model ------------------------------------ */

struct msample {
	uint64_t tick;
	int64_t value;
};

struct mser {
	int used, name, mode;
	vs_kind_t kind;
	int64_t state;
	uint32_t stride, phase; /* appends in ticks t with t % stride == phase... */
	uint32_t percent;       /* ...with this probability: the rest are missed ticks */
	uint64_t pause_until;   /* and none before this tick */
	struct msample *v;
	size_t n, cap;
};

struct model {
	vs_history_t *h;
	size_t max_series;
	uint32_t max_ticks;
	int exact;              /* no eviction expected: retention is the tick ring alone */
	uint64_t tick;
	int64_t *times;         /* times[tick], every tick */
	struct mser *ser;
	int pool[64];           /* name -> id, -1 */
	vs_point_t *pts;
	int bad;
	uint64_t checks, short_reads, appends, gapped;     /* gapped: appends after a gap */
};

#define MFAIL(md, ...) do { if ((md)->bad++ < 8) tap_diag(__VA_ARGS__); } while (0)

static void
s_name(int nm, char *e, char *m)
{
	snprintf(e, 16, "dom%d", nm / 8);
	snprintf(m, 16, "metric%d", nm % 8);
}

static int64_t
s_mvalue(struct mser *s)
{
	switch (s->mode) {
	case 0:                 /* idle with rare bursts */
		return s_below(50) ? 0 : s_uniform(1, 1 << 20);
	case 1:                 /* random walk */
		s->state += s_uniform(-300, 300);
		return s->state;
	case 2:
		return s_vif();
	case 3:                 /* wild */
		switch (s_below(4)) {
		case 0: return INT64_MIN;
		case 1: return INT64_MAX;
		case 2: return (int64_t)s_rand();
		default: return s->state;
		}
	default:                /* flat gauge */
		if (s_below(200) == 0)
			s->state += s_uniform(-5000, 5000);
		return s->state;
	}
}

static uint64_t
s_moldest(const struct model *md)
{
	return md->tick > md->max_ticks ? md->tick - md->max_ticks + 1 : 1;
}

/* Window from the model's own times: mostly tick times, sometimes off-tick or open. */
static int64_t
s_mtime(const struct model *md)
{
	if (md->tick == 0 || s_below(10) == 0)
		return s_below(2) ? INT64_MIN : INT64_MAX;
	return md->times[1 + s_below(md->tick)] + (int64_t)s_below(3) - 1;
}

static int
s_close(double a, double b)
{
	double d = a > b ? a - b : b - a, m = b < 0 ? -b : b;

	return d <= 1e-9 * m + 1e-9;
}

static void
s_mcheck(struct model *md, int id)
{
	struct mser *s = &md->ser[id];
	uint64_t oldest = s_moldest(md);
	size_t lo = 0, k, i, max, e, first, n_exp;
	const struct msample *S;
	vs_series_info_t info;
	int r, tr = -1, rc;
	int64_t from, to;

	md->checks++;
	while (lo < s->n && s->v[lo].tick < oldest)
		lo++;
	r = vs_history_read(md->h, id, INT64_MIN, INT64_MAX, md->pts, md->max_ticks + 1, &tr);
	if (r < 0 || (size_t)r > s->n - lo || tr != 0 || (md->exact && (size_t)r != s->n - lo)) {
		MFAIL(md, "id %d: read all %d (truncated %d), model has %zu", id, r, tr,
		    s->n - lo);
		return;
	}
	k = (size_t)r;
	md->short_reads += k < s->n - lo;
	if (k == 0)
		return;
	S = s->v + s->n - k;    /* what the history still holds: the newest k */
	for (i = 0; i < k; i++) {
		if (md->pts[i].value != S[i].value || md->pts[i].t_ns != md->times[S[i].tick]) {
			MFAIL(md, "id %d point %zu/%zu: %lld@%lld, model %lld@%lld", id, i, k,
			    (long long)md->pts[i].value, (long long)md->pts[i].t_ns,
			    (long long)S[i].value, (long long)md->times[S[i].tick]);
			return;
		}
	}
	if (vs_history_series_info(md->h, id, &info) != 0 || info.n_samples != k ||
	    info.last_tick != (s->n ? s->v[s->n - 1].tick : 0) ||
	    info.last_value != (s->n ? s->v[s->n - 1].value : 0) || info.kind != s->kind) {
		MFAIL(md, "id %d: info n %llu last %llu", id, (unsigned long long)info.n_samples,
		    (unsigned long long)info.last_tick);
		return;
	}

	/* A random window and max. */
	from = s_mtime(md);
	to = s_mtime(md);
	if (s_below(4) == 0) {
		int64_t x = from;
		from = to;
		to = x;
	}
	max = s_below(3) ? md->max_ticks + 1 : s_below(20);
	r = vs_history_read(md->h, id, from, to, md->pts, max, &tr);
	for (i = 0, n_exp = 0; i < k; i++) {
		int64_t t = md->times[S[i].tick];
		n_exp += t >= from && t <= (to == 0 ? INT64_MAX : to);
	}
	if (r != (int)(n_exp < max ? n_exp : max) || tr != (n_exp > max)) {
		MFAIL(md, "id %d window read: %d (tr %d), model %zu of max %zu", id, r, tr,
		    n_exp, max);
		return;
	}
	for (i = 0, e = 0; i < k && r > 0; i++) {
		int64_t t = md->times[S[i].tick];

		if (t < from || t > (to == 0 ? INT64_MAX : to))
			continue;
		if (e++ < n_exp - (size_t)r)
			continue;
		if (md->pts[e - 1 - (n_exp - (size_t)r)].value != S[i].value ||
		    md->pts[e - 1 - (n_exp - (size_t)r)].t_ns != t) {
			MFAIL(md, "id %d window read: point %zu differs", id, e);
			return;
		}
	}

	/* The same window, aggregated. The span starts at the sample before the first one used,
	 * if the history still has it: S[i - 1], since S is all it holds. */
	{
		double sum = 0, x = 0;
		int64_t span = 0, t_start = 0, t_last = 0;
		uint64_t n = 0, nr = 0;
		int64_t hi = to == 0 ? INT64_MAX : to;

		for (i = 0, first = 1; i < k; i++) {
			int64_t t = md->times[S[i].tick];

			if (t <= from || t > hi)
				continue;
			t_last = t;
			if (first) {
				first = 0;
				if (i > 0) {
					t_start = md->times[S[i - 1].tick];
				} else {
					t_start = t;
					if (s->kind == VS_KIND_COUNTER)
						continue;
				}
			}
			sum += (double)S[i].value;
			n++;
		}
		rc = vs_history_aggregate(md->h, id, from, to, &x, &span, &nr);
		if (n == 0) {
			if (rc != -ENODATA)
				MFAIL(md, "id %d aggregate: rc %d, model has no data", id, rc);
			return;
		}
		if (s->kind == VS_KIND_GAUGE)
			sum /= (double)n;
		if (rc != 0 || nr != n || span != t_last - t_start || !s_close(x, sum)) {
			MFAIL(md, "id %d aggregate: rc %d n %llu/%llu span %lld/%lld "
			    "x %.17g/%.17g", id, rc, (unsigned long long)nr, (unsigned long long)n,
			    (long long)span, (long long)(t_last - t_start), x, sum);
		}
	}
}

static void
s_mcheck_all(struct model *md)
{
	vs_history_stats_t st;
	uint64_t samples = 0;
	size_t id, in_use = 0;
	vs_series_info_t info;
	char e[16], m[16];
	int nm;

	for (id = 0; id < md->max_series; id++) {
		if (!md->ser[id].used) {
			if (vs_history_series_info(md->h, (int)id, &info) != -ENOENT)
				MFAIL(md, "free id %zu has info", id);
			continue;
		}
		s_mcheck(md, (int)id);
		vs_history_series_info(md->h, (int)id, &info);
		samples += info.n_samples;
		in_use++;
	}
	for (nm = 0; nm < 64; nm++) {
		s_name(nm, e, m);
		if (vs_history_series_find(md->h, e, m) !=
		    (md->pool[nm] >= 0 ? md->pool[nm] : -ENOENT))
			MFAIL(md, "find %s/%s disagrees", e, m);
	}
	vs_history_stats(md->h, &st);
	if (st.series != in_use || st.samples != samples)
		MFAIL(md, "stats: series %zu/%zu samples %llu/%llu", st.series, in_use,
		    (unsigned long long)st.samples, (unsigned long long)samples);
}

static void
s_mappend(struct model *md, int id)
{
	struct mser *s = &md->ser[id];
	int64_t v = s_mvalue(s);
	int rc = vs_history_append(md->h, id, v);

	if (rc != (md->tick == 0 ? -EINVAL : 0)) {
		MFAIL(md, "append id %d at tick %llu: rc %d", id, (unsigned long long)md->tick,
		    rc);
		return;
	}
	if (rc != 0)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (s->v == NULL)
			exit(99);
	}
	md->appends++;
	md->gapped += s->n > 0 && md->tick - s->v[s->n - 1].tick > 1;
	s->v[s->n].tick = md->tick;
	s->v[s->n++].value = v;
	/* Now and then the sampler repeats itself: refused, and nothing changes. */
	if (s_below(40) == 0 && vs_history_append(md->h, id, v ^ 1) != -EALREADY)
		MFAIL(md, "second append id %d at tick %llu not refused", id,
		    (unsigned long long)md->tick);
}

/* Every tick (half the series), every 2nd, 3rd or 10th; all tick or miss some at random. */
static void
s_mstride(struct mser *s)
{
	static const uint32_t strides[] = { 1, 1, 1, 1, 2, 3, 10, 10 };
	static const uint32_t percents[] = { 100, 97, 97, 80 };

	s->stride = strides[s_below(8)];
	s->phase = (uint32_t)s_below(s->stride);
	s->percent = s->mode == 4 ? 50 : percents[s_below(4)];
}

static void
s_madd(struct model *md)
{
	int nm = (int)s_below(64), rc;
	size_t i, used = 0;
	char e[16], m[16];
	struct mser *s;

	s_name(nm, e, m);
	for (i = 0; i < md->max_series; i++)
		used += md->ser[i].used;
	rc = vs_history_series_add(md->h, e, m, "u", nm & 1 ? VS_KIND_COUNTER : VS_KIND_GAUGE);
	if (md->pool[nm] >= 0 ? rc != -EEXIST : used == md->max_series ? rc != -ENOSPC :
	    rc < 0 || (size_t)rc >= md->max_series || md->ser[rc].used) {
		MFAIL(md, "add %s/%s: rc %d", e, m, rc);
		return;
	}
	if (rc < 0)
		return;
	md->pool[nm] = rc;
	s = &md->ser[rc];
	s->used = 1;
	s->name = nm;
	s->kind = nm & 1 ? VS_KIND_COUNTER : VS_KIND_GAUGE;
	s->mode = (int)s_below(5);
	s->state = (int64_t)s_below(1 << 30);
	s->n = 0;
	s_mstride(s);
	s->pause_until = 0;
}

/* Per tick, each series appends if the tick is one of its stride, with a probability that
 * depends on its kind of data; now and then a series changes its stride or pauses (for up to
 * 1.5 rings), series come and go, and one is checked in full (read, window, info,
 * aggregate). */
static void
test_model(const char *what, size_t max_series, uint32_t max_ticks, size_t blocks,
    uint32_t ticks, int exact, int must_evict)
{
	struct model md = { .max_series = max_series, .max_ticks = max_ticks, .exact = exact };
	vs_history_stats_t st;
	uint32_t t;
	size_t i;
	int id;

	md.h = s_new(max_series, max_ticks, blocks * VS_HISTORY_BLOCK_BYTES);
	md.times = calloc((size_t)ticks + 1, sizeof(*md.times));
	md.ser = calloc(max_series, sizeof(*md.ser));
	md.pts = calloc(max_ticks + 1, sizeof(*md.pts));
	if (md.times == NULL || md.ser == NULL || md.pts == NULL)
		exit(99);
	for (id = 0; id < 64; id++)
		md.pool[id] = -1;
	md.times[0] = T0;
	for (i = 0; i < max_series / 2; i++)
		s_madd(&md);
	for (i = 0; i < max_series; i++)
		if (md.ser[i].used)
			s_mappend(&md, (int)i);         /* before any tick: -EINVAL */
	for (t = 1; t <= ticks; t++) {
		int64_t tn = md.times[t - 1] + (int64_t)s_below(3 * MS);

		if (s_below(40) == 0)
			tn -= 5 * MS;                   /* the realtime clock stepped back */
		if (vs_history_tick(md.h, tn) != ++md.tick)
			MFAIL(&md, "tick number");
		md.times[t] = tn;
		for (i = 0; i < max_series; i++) {
			struct mser *s = &md.ser[i];

			if (!s->used)
				continue;
			if (s_below(1000) == 0)
				s_mstride(s);
			if (s_below(2000) == 0)
				s->pause_until = t + s_below(max_ticks * 3 / 2 + 1);
			if (t >= s->pause_until && t % s->stride == s->phase &&
			    s_below(100) < s->percent)
				s_mappend(&md, (int)i);
		}
		id = (int)s_below(max_series + 2) - 1;
		if (id < 0 || (size_t)id >= max_series || !md.ser[id].used) {
			if (vs_history_append(md.h, id, 1) != -ENOENT)
				MFAIL(&md, "append to free id %d", id);
		}
		if (s_below(100) < 3)
			s_madd(&md);
		if (s_below(100) < 2) {
			id = (int)s_below(max_series);
			vs_history_series_del(md.h, id);
			if (md.ser[id].used) {
				md.pool[md.ser[id].name] = -1;
				md.ser[id].used = 0;
				md.ser[id].n = 0;
			}
		}
		id = (int)s_below(max_series);
		if (md.ser[id].used && s_below(4) == 0)
			s_mcheck(&md, id);
		if (t % 200 == 0)
			s_mcheck_all(&md);
	}
	s_mcheck_all(&md);
	vs_history_stats(md.h, &st);
	tap_diag("model %s: %u ticks, %llu appends (%llu after a gap), %llu series checks, "
	    "%llu reads short of the ring, %llu blocks evicted", what, ticks,
	    (unsigned long long)md.appends, (unsigned long long)md.gapped,
	    (unsigned long long)md.checks, (unsigned long long)md.short_reads,
	    (unsigned long long)st.evicted_blocks);
	tap_ok(md.bad == 0, "model check (%s): history agrees with an uncompressed model", what);
	tap_ok(md.gapped > md.appends / 10, "model check (%s) did exercise gaps", what);
	if (must_evict)
		tap_ok(st.evicted_blocks > 0 && md.short_reads > 0,
		    "model check (%s) did exercise eviction", what);
	for (i = 0; i < max_series; i++)
		free(md.ser[i].v);
	free(md.ser);
	free(md.times);
	free(md.pts);
	vs_history_destroy(&md.h);
}

int
main(void)
{
	test_config();
	test_series();
	test_index_churn();
	test_roundtrip();
	test_block_edges();
	test_gaps();
	test_eviction();
	test_tick_ring();
	test_delete_reuse();
	test_strided();
	test_stride_edges();
	test_stride_retention();
	test_aggregate();
	test_aggregate_strided();
	test_compression();
	test_speed();
	/* Ring-bound: the arena never wraps, so retention is exactly the tick ring. */
	test_model("ring-bound", 16, 200, 16 * 3000 + 16, 3000, 1, 0);
	/* Arena-bound: 24 blocks for 16 series, eviction all the time. */
	test_model("arena-bound", 16, 400, 24, 3000, 0, 1);
	/* Both bounds at work (with gaps costing no blocks, 48 blocks are what it takes). */
	test_model("mixed", 16, 300, 48, 3000, 0, 1);
	/* One-tick ring, as many blocks as series. */
	test_model("tiny", 4, 1, 4, 1000, 0, 0);
	return tap_done();
}
