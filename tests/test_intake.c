/* The intake's decoder and validator, its parent-side record check, the quota bucket and
 * the key directory (dom0d/intake_wire.c, intake_quota.c, lib/agentkeys.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "clock.h"
#include "intake.h"
#include "tap.h"

static vs_intake_rec_t s_recs[1024];
static size_t s_n;

static int
s_collect(void *arg, const vs_intake_rec_t *r)
{
	(void)arg;
	if (s_n < 1024)
		s_recs[s_n++] = *r;
	return 0;
}

static const vs_intake_rec_t *
s_find(const char *name)
{
	for (size_t i = 0; i < s_n; i++)
		if (!strcmp(s_recs[i].name, name))
			return &s_recs[i];
	return NULL;
}

static uint8_t s_buf[4 * VS_AGENT_MAX_MSG];

/* Packs a Report with nl latency and nm metric entries, after letting fix change them. */
static size_t
s_pack_report(size_t nl, size_t nm, void (*fix)(Vsagent__Latency *, Vsagent__Metric *))
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Report r = VSAGENT__REPORT__INIT;
	static Vsagent__Latency l[600];
	static Vsagent__Metric x[600];
	static Vsagent__Latency *lp[600];
	static Vsagent__Metric *xp[600];
	static char names[600][32];

	m.version = 1;
	m.seq = 7;
	m.sent_ns = 1000;
	m.body_case = VSAGENT__AGENT_MSG__BODY_REPORT;
	m.report = &r;
	for (size_t i = 0; i < nl; i++) {
		vsagent__latency__init(&l[i]);
		snprintf(names[i], sizeof(names[i]), "probe%zu", i);
		l[i].probe = names[i];
		l[i].start_ns = 10;
		l[i].end_ns = 20;
		l[i].count = 10;
		l[i].errors = 2;
		l[i].min_us = 10;
		l[i].p50_us = 20;
		l[i].mean_us = 25;
		l[i].p99_us = 90;
		l[i].max_us = 100;
		lp[i] = &l[i];
	}
	for (size_t i = 0; i < nm; i++) {
		vsagent__metric__init(&x[i]);
		x[i].name = "statsd.hits";
		x[i].value = 42;
		x[i].kind = VSAGENT__KIND__COUNTER;
		xp[i] = &x[i];
	}
	r.n_latency = nl;
	r.latency = lp;
	r.n_metric = nm;
	r.metric = xp;
	if (fix)
		fix(nl ? &l[0] : NULL, nm ? &x[0] : NULL);
	return vsagent__agent_msg__pack(&m, s_buf);
}

static vs_intake_drop_t
s_decode(size_t len, char *err)
{
	s_n = 0;
	return vs_intake_decode(s_buf, len, 3, s_collect, NULL, NULL, err, 160);
}

static void fix_nan(Vsagent__Latency *l, Vsagent__Metric *x) { (void)x; l->p99_us = NAN; }
static void fix_inf(Vsagent__Latency *l, Vsagent__Metric *x) { (void)l; x->value = INFINITY; }
static void fix_order(Vsagent__Latency *l, Vsagent__Metric *x) { (void)x; l->p50_us = 95; }
static void fix_probe(Vsagent__Latency *l, Vsagent__Metric *x) { (void)x; l->probe = "a b"; }
static void fix_long(Vsagent__Latency *l, Vsagent__Metric *x)
{
	static char n[60];

	(void)x;
	memset(n, 'a', 48);
	n[48] = '\0';
	l->probe = n;
}
static void fix_empty(Vsagent__Latency *l, Vsagent__Metric *x) { (void)l; x->name = ""; }
static void fix_ctl(Vsagent__Latency *l, Vsagent__Metric *x) { (void)l; x->name = "a\nb"; }
static void fix_reserved(Vsagent__Latency *l, Vsagent__Metric *x)
{
	(void)l;
	x->name = "intake.drop.quota";
}
static void fix_negctr(Vsagent__Latency *l, Vsagent__Metric *x) { (void)l; x->value = -1; }
static void fix_kind(Vsagent__Latency *l, Vsagent__Metric *x) { (void)l; x->kind = 7; }
static void fix_interval(Vsagent__Latency *l, Vsagent__Metric *x) { (void)x; l->end_ns = 5; }

static void
test_decode(void)
{
	char err[160];
	size_t len;
	const vs_intake_rec_t *r;
	struct {
		void (*fix)(Vsagent__Latency *, Vsagent__Metric *);
		const char *what;
	} bad[] = {
		{ fix_nan, "a NaN p99" }, { fix_inf, "an infinite metric value" },
		{ fix_order, "p50 > p99" }, { fix_probe, "a space in a probe name" },
		{ fix_long, "a 48-byte probe name" }, { fix_empty, "an empty metric name" },
		{ fix_ctl, "a newline in a metric name" },
		{ fix_reserved, "a guest metric named intake.*" },
		{ fix_negctr, "a negative counter" }, { fix_kind, "an unknown kind" },
		{ fix_interval, "an interval ending before it starts" },
	};

	len = s_pack_report(1, 1, NULL);
	TAP_IS_INT(s_decode(len, err), VS_DROP_NONE, "a valid report decodes");
	TAP_IS_INT(s_n, 8, "it yields 7 latency records and 1 metric");
	r = s_find("app.latency.probe0.p99_us");
	tap_ok(r && r->value == 90 && r->dom == 3 && r->type == VS_REC_METRIC,
	    "app.latency.probe0.p99_us = 90 for domain index 3");
	r = s_find("app.latency.probe0.errors");
	tap_ok(r && r->value == 2, "app.latency.probe0.errors = 2");
	r = s_find("statsd.hits");
	tap_ok(r && r->value == 42 && r->kind == 1 && r->ts_ns == 1000,
	    "statsd.hits: counter 42, timestamp from sent_ns");
	for (size_t i = 0; i < s_n; i++)
		if (vs_intake_rec_check(&s_recs[i], err, sizeof(err)) < 0)
			tap_diag("record %s refused: %s", s_recs[i].name, err);
	tap_ok(1, "records of a valid report pass the parent's check (see diag if not)");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = s_pack_report(1, 1, bad[i].fix);
		TAP_IS_INT(s_decode(len, err), VS_DROP_MALFORMED, "%s is malformed (%s)",
		    bad[i].what, err);
		TAP_IS_INT(s_n, 0, "  and nothing of it is emitted");
	}

	len = s_pack_report(VS_AGENT_MAX_LATENCY + 1, 0, NULL);
	TAP_IS_INT(s_decode(len, err), VS_DROP_MALFORMED, "%d latency entries: malformed",
	    VS_AGENT_MAX_LATENCY + 1);
	len = s_pack_report(0, VS_AGENT_MAX_METRICS + 1, NULL);
	TAP_IS_INT(s_decode(len, err), VS_DROP_MALFORMED, "%d metrics: malformed",
	    VS_AGENT_MAX_METRICS + 1);
	len = s_pack_report(0, VS_AGENT_MAX_METRICS, NULL);
	TAP_IS_INT(s_decode(len, err), VS_DROP_NONE, "%d metrics: accepted",
	    VS_AGENT_MAX_METRICS);

	/* oversize: checked before decoding, whatever the bytes are */
	memset(s_buf, 0, VS_AGENT_MAX_MSG + 1);
	TAP_IS_INT(s_decode(VS_AGENT_MAX_MSG + 1, err), VS_DROP_OVERSIZE,
	    "a frame of VS_AGENT_MAX_MSG + 1 bytes: oversize");
	TAP_IS_INT(s_decode(0, err), VS_DROP_MALFORMED, "an empty frame: malformed (version 0)");
	memcpy(s_buf, "\x08\x01\x5a\xff\xff\x03", 6);
	TAP_IS_INT(s_decode(6, err), VS_DROP_MALFORMED, "a length past the end: malformed");
	memcpy(s_buf, "\x08\x01\x7a\x02\x08\x01", 6);
	TAP_IS_INT(s_decode(6, err), VS_DROP_UNKNOWN_TYPE, "field 15: unknown type");
	memcpy(s_buf, "\x08\x02\x5a\x00", 4);
	TAP_IS_INT(s_decode(4, err), VS_DROP_MALFORMED, "version 2: malformed (%s)", err);
	memcpy(s_buf, "\x08\x01\x5a\x00", 4);
	TAP_IS_INT(s_decode(4, err), VS_DROP_NONE, "an empty report: accepted");
}

static void
test_rec_check(void)
{
	vs_intake_rec_t r;
	char err[160];

	memset(&r, 0, sizeof(r));
	r.type = VS_REC_METRIC;
	r.dom = 0;
	strcpy(r.name, "statsd.x");
	r.value = 1;
	TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), 0, "a good record passes");
	memset(r.name, 'a', sizeof(r.name));
	TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL, "no NUL: refused");
	strcpy(r.name, "a/b");
	TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL, "a '/': refused");
	strcpy(r.name, "intake.drop.quota");
	TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL,
	    "a guest METRIC named intake.*: refused");
	r.type = VS_REC_STAT;
	TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), 0, "the same as a STAT passes");
	r.value = NAN;
	TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL, "a NaN: refused");
	r.value = 1;
	r.type = 99;
	TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL, "type 99: refused");
	r.type = VS_REC_METRIC;
	strcpy(r.name, "statsd.x");
	r.dom = VS_REC_HOST;
	TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL,
	    "a guest record without a domain: refused");
}

static void
test_bucket(void)
{
	vs_bucket_t b;
	int64_t t = 1000000000;
	int ok = 0;

	vs_bucket_init(&b, 100, 100, t);
	for (int i = 0; i < 1000; i++)
		ok += vs_bucket_take(&b, 1, t);
	TAP_IS_INT(ok, 100, "a full bucket of 100/s gives its burst of 100 at once");
	TAP_IS_INT(vs_bucket_take(&b, 1, t + 5000000), 0, "after 5 ms: still empty (0.5 token)");
	TAP_IS_INT(vs_bucket_take(&b, 1, t + 10000000), 1, "after 10 ms: one token");
	ok = 0;
	for (int i = 1; i <= 10000; i++)        /* 10 s, a try every ms */
		ok += vs_bucket_take(&b, 1, t + 10000000 + (int64_t)i * 1000000);
	tap_ok(ok >= 999 && ok <= 1001, "over 10 s of tries every ms: %d taken (100/s)", ok);
	vs_bucket_init(&b, 1000, 1000, t);
	TAP_IS_INT(vs_bucket_take(&b, 1001, t), 0, "a cost over the burst is never taken");
	TAP_IS_INT(vs_bucket_take(&b, 1000, t - 5), 1, "time going back adds nothing, takes");
	TAP_IS_INT(vs_bucket_take(&b, 1, t - 10), 0, "  and then it is empty");
	TAP_IS_INT(vs_bucket_take(&b, 1000, t + 100 * 1000000000LL), 1,
	    "a long idle time refills only up to the burst");
	TAP_IS_INT(vs_bucket_take(&b, 1, t + 100 * 1000000000LL), 0, "  not beyond");
}

static void
test_keys(void)
{
	char dir[] = "/tmp/test_intake.XXXXXX", kd[300], kf[300], err[512];
	char pub[VS_Z85_KEY_LEN + 1], sec[VS_Z85_KEY_LEN + 1], pub2[VS_Z85_KEY_LEN + 1];
	vs_agentkey_t *keys = NULL;
	size_t n = 0, bad = 0;
	struct stat st;
	int created;

	if (mkdtemp(dir) == NULL) {
		tap_ok(0, "mkdtemp");
		return;
	}
	snprintf(kf, sizeof(kf), "%s/k", dir);
	snprintf(kd, sizeof(kd), "%s/keys", dir);
	TAP_IS_INT(vs_keyfile_ensure(kf, pub, sec, &created, err, sizeof(err)), 0,
	    "key file made");
	tap_ok(created && stat(kf, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	TAP_IS_INT(vs_keyfile_ensure(kf, pub2, sec, &created, err, sizeof(err)), 0, "re-read");
	tap_ok(!created && !strcmp(pub, pub2), "  the same key, not a new one");
	TAP_IS_INT(vs_agentkeys_add(kd, "vm1", pub, err, sizeof(err)), 0, "add vm1");
	TAP_IS_INT(vs_agentkeys_add(kd, "vm2", pub, err, sizeof(err)), -EEXIST,
	    "the same key for vm2: -EEXIST (%s)", err);
	TAP_IS_INT(vs_agentkeys_add(kd, "../x", pub, err, sizeof(err)) < 0, 1, "bad name refused");
	TAP_IS_INT(vs_agentkeys_load(kd, &keys, &n, &bad, err, sizeof(err)), 0, "load");
	tap_ok(n == 1 && !strcmp(keys[0].domain, "vm1") && !strcmp(keys[0].key, pub),
	    "one binding: vm1");
	free(keys);
	TAP_IS_INT(vs_agentkeys_remove(kd, "vm1", err, sizeof(err)), 0, "remove vm1");
	TAP_IS_INT(vs_agentkeys_load(kd, &keys, &n, &bad, err, sizeof(err)), 0, "load");
	TAP_IS_INT(n, 0, "  none left");
	free(keys);
	tap_ok(!vs_z85_key_ok("short") && vs_z85_key_ok(pub), "vs_z85_key_ok");
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_diag("cleanup of %s failed", dir);
	}
}

/* A Conns message with an IPv4 and an IPv6 entry; bad: 1 state 0, 2 a 5-byte address. */
static size_t
s_pack_conns(int bad)
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Conns cs = VSAGENT__CONNS__INIT;
	Vsagent__Conn c[2], *cp[2] = { &c[0], &c[1] };
	static uint8_t a4[5] = { 10, 0, 0, 1, 0 }, b4[4] = { 10, 0, 0, 2 }, a6[16] = { 0xfd },
	    b6[16] = { 0xfd, [15] = 1 };

	m.version = 1;
	m.sent_ns = 5000;
	m.body_case = VSAGENT__AGENT_MSG__BODY_CONNS;
	m.conns = &cs;
	vsagent__conn__init(&c[0]);
	vsagent__conn__init(&c[1]);
	c[0].local_addr.data = a4;
	c[0].local_addr.len = bad == 2 ? 5 : 4;
	c[0].remote_addr.data = b4;
	c[0].remote_addr.len = 4;
	c[0].local_port = 40000;
	c[0].remote_port = 80;
	c[0].state = bad == 1 ? 0 : 1;
	c[0].bytes_acked = 11;
	c[0].bytes_received = 22;
	c[0].rtt_us = 33;
	c[1].local_addr.data = a6;
	c[1].local_addr.len = 16;
	c[1].remote_addr.data = b6;
	c[1].remote_addr.len = 16;
	c[1].local_port = 22;
	c[1].state = 10;
	cs.n_conn = 2;
	cs.conn = cp;
	cs.truncated = 1;
	return vsagent__agent_msg__pack(&m, s_buf);
}

static void
test_conns(void)
{
	char err[160], a[64];
	vs_intake_msginfo_t info;
	size_t len = s_pack_conns(0), k = 0;
	vs_intake_rec_t r;
	int good = 1;

	s_n = 0;
	tap_ok(vs_intake_decode(s_buf, len, 4, s_collect, NULL, &info, err, sizeof(err)) ==
	    VS_DROP_NONE, "a Conns table decodes (%s)", err);
	while (k < s_n && s_recs[k].type == VS_REC_METRIC)
		k++;
	tap_ok(k == 3 && s_n == 7 && s_recs[3].type == VS_REC_CONNS_BEGIN &&
	    s_recs[4].type == VS_REC_CONN && s_recs[5].type == VS_REC_CONN &&
	    s_recs[6].type == VS_REC_CONNS_END, "3 metrics, then BEGIN, 2 CONN, END (%zu)", s_n);
	tap_ok(s_recs[3].value == 2 && s_recs[3].pad == 2 && s_recs[3].kind == 1 &&
	    s_recs[6].value == 2, "BEGIN: 2 entries, truncated; END: 2");
	vs_intake_conn_addr(&s_recs[4].conn, 0, a, sizeof(a));
	tap_ok(!strcmp(a, "10.0.0.1:40000"), "entry 0 local %s", a);
	vs_intake_conn_addr(&s_recs[4].conn, 1, a, sizeof(a));
	tap_ok(!strcmp(a, "10.0.0.2:80") && s_recs[4].conn.bytes_acked == 11 &&
	    s_recs[4].conn.bytes_received == 22 && s_recs[4].conn.rtt_us == 33 &&
	    s_recs[4].conn.state == 1, "entry 0 remote %s, bytes, rtt, state", a);
	vs_intake_conn_addr(&s_recs[5].conn, 1, a, sizeof(a));
	tap_ok(!strcmp(a, "[fd00::1]:0") && s_recs[5].conn.family == 6 &&
	    s_recs[5].conn.state == 10, "entry 1 (IPv6, LISTEN) remote %s", a);
	for (size_t i = 0; i < s_n; i++)
		good &= s_recs[i].dom == 4 && vs_intake_rec_check(&s_recs[i], err, sizeof(err)) == 0;
	tap_ok(good, "every record has domain 4 and passes the parent's check");
	r = s_recs[4];
	r.conn.family = 5;
	tap_ok(vs_intake_rec_check(&r, err, sizeof(err)) < 0, "a CONN of family 5: refused");
	r = s_recs[4];
	r.conn.state = 13;
	tap_ok(vs_intake_rec_check(&r, err, sizeof(err)) < 0, "a CONN of state 13: refused");
	r = s_recs[3];
	r.value = VS_AGENT_MAX_CONNS + 1;
	tap_ok(vs_intake_rec_check(&r, err, sizeof(err)) < 0, "a BEGIN of 1025: refused");
	r.value = 2;
	r.dom = VS_REC_HOST;
	tap_ok(vs_intake_rec_check(&r, err, sizeof(err)) < 0, "a BEGIN without domain: refused");
	for (int bad = 1; bad <= 2; bad++) {
		s_n = 0;
		len = s_pack_conns(bad);
		tap_ok(vs_intake_decode(s_buf, len, 4, s_collect, NULL, &info, err, sizeof(err)) ==
		    VS_DROP_MALFORMED && s_n == 0, "%s: malformed, nothing emitted (%s)",
		    bad == 1 ? "state 0" : "a 5-byte address", err);
	}
}

/* ---- LogLines: the child's checks and the parent's reassembly and queue -------------- */

static size_t
s_pack_log(const char *spec, const char *lf, uint64_t gen, uint64_t first, size_t n,
    const char *line)
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__LogLines l = VSAGENT__LOG_LINES__INIT;
	static char text[8][32], *lines[8];

	for (size_t i = 0; i < n && i < 8; i++) {
		snprintf(text[i], sizeof(text[i]), "line %llu", (unsigned long long)(first + i));
		lines[i] = line ? (char *)line : text[i];
	}
	m.version = 1;
	m.body_case = VSAGENT__AGENT_MSG__BODY_LOGLINES;
	m.loglines = &l;
	l.path = "/var/log/x.log";
	l.spec = (char *)spec;
	l.logformat = (char *)lf;
	l.session = 7;
	l.inode = 9;
	l.generation = gen;
	l.first_line = first;
	l.n_lines = n;
	l.lines = lines;
	l.rotations = gen;
	return vsagent__agent_msg__pack(&m, s_buf);
}

static vs_intake_drop_t
s_log_decode(size_t len, char *err, size_t errlen)
{
	vs_intake_msginfo_t info;

	s_n = 0;
	return vs_intake_decode(s_buf, len, 0, s_collect, NULL, &info, err, errlen);
}

struct got { char text[4096]; size_t n; uint64_t last_seq; };

static int
s_got(void *arg, const char *domain, const vs_intake_logbatch_t *b)
{
	struct got *g = arg;

	if (strcmp(domain, "vm1") == 0 && strlen(g->text) + b->text_len < sizeof(g->text))
		strcat(g->text, b->text);
	g->n++;
	g->last_seq = b->seq;
	return 0;
}

static int
s_stat_fn(void *arg, const char *domain, const vs_intake_logstat_t *st)
{
	(void)domain;
	*(vs_intake_logstat_t *)arg = *st;
	return 0;
}

static void
test_loglines(void)
{
	static vs_intake_cfgmsg_t cfg;
	char names[1][VS_KEYDOM_MAX + 1] = { "vm1" }, err[256];
	vs_intake_logcheck_t *lc;
	vs_intake_logs_t *q = vs_intake_logs_new(0), *small = vs_intake_logs_new(600);
	vs_intake_logstat_t st;
	struct got g = { "", 0, 0 };
	uint64_t next, start;
	size_t len;

	cfg.n_specs = 1;
	strcpy(cfg.specs[0], "apache-milliscope");
	lc = vs_intake_logcheck_new(&cfg);
	vs_intake_set_logcheck(vs_intake_logcheck, lc);
	tap_ok(q && small && lc, "log queue and check made");
	vs_intake_logs_each_q(q, names, 1, NULL, UINT64_MAX, 1 << 20, s_got, &g, &start);

	len = s_pack_log("apache-milliscope", "", 0, 1, 3, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_NONE, "LogLines of a known spec");
	TAP_IS_INT(s_recs[0].type, VS_REC_LOG_BEGIN, "BEGIN first");
	TAP_IS_INT(s_recs[s_n - 1].type, VS_REC_LOG_END, "END last");
	TAP_IS_INT(s_n, 1 + 6 + 1, "one TEXT per short string (spec, path, logformat, 3 lines)");
	for (size_t i = 0; i < s_n; i++) {
		tap_ok(vs_intake_rec_check(&s_recs[i], err, sizeof(err)) == 0 &&
		    vs_intake_logs_rec(q, &s_recs[i]) == 0, "record %zu taken", i);
	}
	vs_intake_logs_each_q(q, names, 1, NULL, start, 1 << 20, s_got, &g, &next);
	tap_ok(strcmp(g.text, "line 1\nline 2\nline 3\n") == 0, "the parent queued the three lines");
	TAP_IS_INT(next, g.last_seq + 1, "the cursor moves past them");
	g.n = 0;
	vs_intake_logs_each_q(q, names, 1, NULL, next, 1 << 20, s_got, &g, &next);
	TAP_IS_INT(g.n, 0, "nothing again from the new cursor");
	g.n = 0;
	vs_intake_logs_each_q(q, names, 1, "vm2", 0, 1 << 20, s_got, &g, &next);
	TAP_IS_INT(g.n, 0, "another domain's filter sees none");

	len = s_pack_log("apache-milliscope", "", 0, 2, 2, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_MALFORMED && s_n == 0,
	    "line numbers going back: dropped (%s)", err);
	len = s_pack_log("apache-milliscope", "", 0, 6, 2, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_NONE, "a gap forward is taken");
	for (size_t i = 0; i < s_n; i++)
		vs_intake_logs_rec(q, &s_recs[i]);
	len = s_pack_log("apache-milliscope", "", 1, 1, 1, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_NONE,
	    "a new generation starts from line 1 again");
	for (size_t i = 0; i < s_n; i++)
		vs_intake_logs_rec(q, &s_recs[i]);
	vs_intake_logs_stats_q(q, names, 1, NULL, s_stat_fn, &st);
	TAP_IS_INT(st.lines, 6, "6 lines queued");
	TAP_IS_INT(st.gap_lines, 2, "the gap of lines 4 and 5 counted");
	TAP_IS_INT(st.last.rotations, 1, "the agent's rotations kept");

	len = s_pack_log("no-such-spec", "", 0, 1, 1, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_MALFORMED && s_n == 0,
	    "an unknown spec: dropped (%s)", err);
	len = s_pack_log("", "%{", 0, 1, 1, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_MALFORMED && s_n == 0,
	    "a LogFormat that derives nothing: dropped (%s)", err);
	len = s_pack_log("", "%h %l %u %t \"%r\" %>s %b", 2, 1, 1, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_NONE, "a LogFormat that derives one");
	len = s_pack_log("", "", 0, 1, 1, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_MALFORMED, "neither: dropped");
	len = s_pack_log("apache-milliscope", "", 3, 1, 1, "a\x7f");
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_MALFORMED, "DEL in a line: dropped");
	len = s_pack_log("apache-milliscope", "", 3, 0, 1, NULL);
	tap_ok(s_log_decode(len, err, sizeof(err)) == VS_DROP_MALFORMED, "line 0: dropped");

	/* the parent: a message whose records do not add up is dropped whole */
	len = s_pack_log("apache-milliscope", "", 4, 1, 3, NULL);
	s_log_decode(len, err, sizeof(err));
	{
		int bad = 0;
		for (size_t i = 0; i < s_n; i++)
			if (i != 5 && vs_intake_logs_rec(q, &s_recs[i]) < 0)
				bad = 1;
		tap_ok(bad, "a TEXT record lost: the parent refuses the message at its END");
	}
	{
		uint64_t queued, badn, oldest;
		vs_intake_logs_totals_q(q, &queued, &badn, &oldest);
		TAP_IS_INT(badn, 1, "counted as one bad batch");
	}
	/* a small queue pushes the oldest out and counts them */
	for (uint64_t k = 0; k < 10; k++) {
		uint64_t queued, badn, oldest;
		len = s_pack_log("apache-milliscope", "", 10 + k, 1, 3, NULL);
		s_log_decode(len, err, sizeof(err));
		for (size_t i = 0; i < s_n; i++)
			vs_intake_logs_rec(small, &s_recs[i]);
		vs_intake_logs_totals_q(small, &queued, &badn, &oldest);
		if (queued > 600)
			tap_ok(0, "queue over its bound: %llu", (unsigned long long)queued);
	}
	vs_intake_logs_stats_q(small, names, 1, NULL, s_stat_fn, &st);
	tap_ok(st.queue_dropped > 0 && st.queue_dropped % 3 == 0,
	    "the full queue pushed out whole batches, counted (%llu lines)",
	    (unsigned long long)st.queue_dropped);
	/* many domains at once: all their queues together stay within 16 domains' worth */
	{
		vs_intake_logs_t *many = vs_intake_logs_new(600);
		static char mnames[60][VS_KEYDOM_MAX + 1];
		uint64_t queued, badn, oldest, maxq = 0, dropped = 0;

		for (uint32_t k = 0; k < 60; k++) {
			snprintf(mnames[k], sizeof(mnames[k]), "vm%u", (unsigned)k);
			/* a new generation each: the child's check refuses line 1 again */
			len = s_pack_log("apache-milliscope", "", 200 + k, 1, 3, NULL);
			s_log_decode(len, err, sizeof(err));
			for (size_t i = 0; i < s_n; i++) {
				s_recs[i].dom = k;
				vs_intake_logs_rec(many, &s_recs[i]);
			}
			vs_intake_logs_totals_q(many, &queued, &badn, &oldest);
			if (queued > maxq)
				maxq = queued;
		}
		tap_ok(maxq > 0 && maxq <= 600 * VS_INTAKE_LOG_TOTAL_DOMS,
		    "60 domains' queues together at most %d x 600 bytes (at most %llu)",
		    VS_INTAKE_LOG_TOTAL_DOMS, (unsigned long long)maxq);
		vs_intake_logs_stats_q(many, mnames, 60, "vm0", s_stat_fn, &st);
		dropped = st.queue_dropped;
		tap_ok(dropped == 3, "the oldest domain's batch was pushed out, counted (%llu lines)",
		    (unsigned long long)dropped);
		vs_intake_logs_stats_q(many, mnames, 60, "vm59", s_stat_fn, &st);
		TAP_IS_INT(st.queue_dropped, 0, "the newest domain's batch is kept");
		vs_intake_logs_destroy(&many);
	}
	vs_intake_set_logcheck(NULL, NULL);
	vs_intake_logcheck_destroy(&lc);
	vs_intake_logs_destroy(&q);
	vs_intake_logs_destroy(&small);
	tap_ok(q == NULL && lc == NULL, "destroyed");
}

/* ---- Samples ---------------------------------------------------------------------------- */

/* n samples 1 ms apart from t0, one disk and one net each; bad changes one thing */
static size_t
s_pack_samples(size_t n, int64_t t0, int bad)
{
	static Vsagent__Sample smp[300], *smpp[300];
	static Vsagent__DiskSample dk[300][17], *dkp[300][17];
	static Vsagent__NetSample nt[300], *ntp[300];
	static uint64_t cpu[300][8], mem[300][6];
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Samples ss = VSAGENT__SAMPLES__INIT;
	size_t nd = bad == 'D' ? 17 : 1;

	for (size_t i = 0; i < n; i++) {
		vsagent__sample__init(&smp[i]);
		smpp[i] = &smp[i];
		smp[i].ts_ns = t0 + (int64_t)i * 1000000;
		for (int k = 0; k < 8; k++)
			cpu[i][k] = 100 * i + (uint64_t)k;
		for (int k = 0; k < 6; k++)
			mem[i][k] = 1000 + (uint64_t)k;
		smp[i].n_cpu = bad == 'c' ? 7 : 8;
		smp[i].cpu = cpu[i];
		smp[i].n_mem = 6;
		smp[i].mem = mem[i];
		for (size_t d = 0; d < nd; d++) {
			vsagent__disk_sample__init(&dk[i][d]);
			dk[i][d].name = bad == 'n' ? "dddddddddddddddddddddddddddddddd" : "vda";
			dk[i][d].writes = 7 + i;
			dkp[i][d] = &dk[i][d];
		}
		smp[i].n_disks = nd;
		smp[i].disks = dkp[i];
		vsagent__net_sample__init(&nt[i]);
		nt[i].name = bad == 'b' ? "e\x7fth0" : bad == 'e' ? "" : "eth0";
		nt[i].tx_bytes = 5000 + i;
		ntp[i] = &nt[i];
		smp[i].n_nets = 1;
		smp[i].nets = &ntp[i];
	}
	if (bad == 'r' && n > 1)
		smp[1].ts_ns = smp[0].ts_ns;   /* not increasing inside one message */
	ss.n_samples = n;
	ss.samples = smpp;
	ss.interval_ms = bad == 'i' ? 0 : 1;
	m.version = 1;
	m.seq = 9;
	m.sent_ns = t0;
	m.body_case = VSAGENT__AGENT_MSG__BODY_SAMPLES;
	m.samples = &ss;
	if (vsagent__agent_msg__get_packed_size(&m) > sizeof(s_buf))
		return 0;
	return vsagent__agent_msg__pack(&m, s_buf);
}

static int s_rows;
static int
s_count_row(void *arg, const char *dom, const vs_intake_samplerow_t *r)
{
	(void)arg;
	(void)r;
	s_rows += !strcmp(dom, "vm3");
	return 0;
}

static void
test_samples(void)
{
	char err[160];
	int64_t now = vs_now_ns();
	size_t len;
	static char names[4][VS_KEYDOM_MAX + 1] = { "vm0", "vm1", "vm2", "vm3" };
	vs_intake_samples_t *q;
	vs_intake_samplestat_t st;
	uint64_t next, rows, bytes, oldest, pushed;
	static const struct { int bad; size_t n; int64_t dt; const char *what; } cases[] = {
		{ 0, 257, 0, "257 samples" },
		{ 0, 0, 0, "no samples" },
		{ 'c', 2, 0, "7 cpu values" },
		{ 'D', 2, 0, "17 disks" },
		{ 'n', 2, 0, "a 32-byte disk name" },
		{ 'b', 2, 0, "a DEL byte in an interface name" },
		{ 'e', 2, 0, "an empty interface name" },
		{ 'i', 2, 0, "interval 0" },
		{ 'r', 3, 0, "two samples of the same time" },
		{ 0, 2, 86400LL * 1000000000, "a day ahead of Dom0's clock" },
		{ 0, 2, -3600LL * 1000000000, "an hour behind it" },
	};

	vs_intake_samples_reset_order();
	len = s_pack_samples(3, now - 10000000, 0);
	TAP_IS_INT(s_decode(len, err), VS_DROP_NONE, "3 samples decode (%s)", err);
	TAP_IS_INT(s_n, 12, "  into 12 records: cpu, mem, disk, net each");
	TAP_IS_INT(s_recs[0].type == VS_REC_SAMPLE_CPU && s_recs[1].type == VS_REC_SAMPLE_MEM &&
	    s_recs[2].type == VS_REC_SAMPLE_DISK && s_recs[3].type == VS_REC_SAMPLE_NET, 1,
	    "  in that order");
	TAP_IS_INT(!strcmp(s_recs[2].sample.dev, "vda") && s_recs[2].sample.v[2] == 7 &&
	    !strcmp(s_recs[7].sample.dev, "eth0") && s_recs[7].sample.v[2] == 5001 &&
	    s_recs[4].sample.v[7] == 107 && s_recs[5].sample.v[3] == 1003, 1,
	    "  with the names and values sent");
	TAP_IS_INT(s_recs[4].ts_ns, now - 9000000, "  the second sample's time");
	for (size_t i = 0; i < s_n; i++)
		if (vs_intake_rec_check(&s_recs[i], err, sizeof(err)) < 0)
			tap_diag("record %zu: %s", i, err);
	q = vs_intake_samples_new(65536);
	{
		int bad = 0;
		for (size_t i = 0; i < s_n; i++)
			bad += vs_intake_rec_check(&s_recs[i], err, sizeof(err)) < 0 ||
			    vs_intake_samples_rec(q, &s_recs[i]) < 0;
		TAP_IS_INT(bad, 0, "the parent's checks pass them and it keeps them");
		bad = 0;
		for (size_t i = 0; i < s_n; i++)
			bad += vs_intake_samples_rec(q, &s_recs[i]) < 0;
		TAP_IS_INT(bad, 12, "the same records again: refused (time not after)");
	}
	TAP_IS_INT(vs_intake_samples_stat_q(q, names, 4, "vm3", &st), 0, "vm3 has stats");
	TAP_IS_INT((int)st.samples * 100 + (int)st.rows, 312, "  3 samples, 12 rows");
	TAP_IS_INT((int)st.bad, 12, "  12 bad");
	s_rows = 0;
	vs_intake_samples_each_q(q, names, 4, "vm3", 0, 100, s_count_row, NULL, &next);
	TAP_IS_INT(s_rows, 12, "fetched from cursor 0: 12 rows");
	TAP_IS_INT((int)next, 13, "  next cursor 13");
	s_rows = 0;
	vs_intake_samples_each_q(q, names, 4, "vm3", 5, 3, s_count_row, NULL, &next);
	TAP_IS_INT(s_rows * 100 + (int)next, 308, "from cursor 5, at most 3: 3 rows, next 8");
	{
		vs_intake_rec_t r = s_recs[1];
		r.ts_ns = now;          /* a mem record with no cpu record of its time */
		TAP_IS_INT(vs_intake_samples_rec(q, &r), -EINVAL, "a mem record alone: refused");
		r = s_recs[2];
		r.sample.dev[0] = '/';
		TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL,
		    "a '/' in a device name: refused by the parent");
		r = s_recs[0];
		r.ts_ns = now + 86400LL * 1000000000;
		TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL,
		    "a time a day ahead: refused by the parent");
		r = s_recs[0];
		r.dom = VS_REC_HOST;
		TAP_IS_INT(vs_intake_rec_check(&r, err, sizeof(err)), -EINVAL,
		    "a sample without a domain: refused");
		/* the ring: 65536 bytes hold 546 rows */
		for (int i = 0; i < 1000; i++) {
			r = s_recs[0];
			r.ts_ns = now + 1000000 + i;
			vs_intake_samples_rec(q, &r);
		}
	}
	vs_intake_samples_totals_q(q, &rows, &bytes, &oldest, &pushed);
	TAP_IS_INT((int)rows, (int)(65536 / sizeof(vs_intake_samplerow_t)),
	    "1000 more rows: the ring keeps what 64 KiB holds (%d)", (int)rows);
	TAP_IS_INT(bytes <= 65536, 1, "  within its bytes");
	TAP_IS_INT((int)pushed, 1012 - (int)rows, "  the rest pushed out and counted");
	vs_intake_samples_stat_q(q, names, 4, "vm3", &st);
	TAP_IS_INT((int)st.pushed_out, (int)pushed, "  to vm3");
	vs_intake_samples_destroy(&q);
	TAP_IS_INT(q == NULL, 1, "destroy NULLs the pointer");

	len = s_pack_samples(2, now - 10000000, 0);
	TAP_IS_INT(s_decode(len, err), VS_DROP_MALFORMED, "samples older than the last passed: "
	    "malformed (%s)", err);
	TAP_IS_INT(s_n, 0, "  nothing emitted");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		vs_intake_samples_reset_order();
		len = s_pack_samples(cases[c].n, now + cases[c].dt, cases[c].bad);
		TAP_IS_INT(s_decode(len, err), VS_DROP_MALFORMED, "%s: malformed (%s)",
		    cases[c].what, err);
		TAP_IS_INT(s_n, 0, "  nothing emitted");
	}
	vs_intake_samples_reset_order();
	len = s_pack_samples(256, now - 1000000000, 0);
	TAP_IS_INT(len <= VS_AGENT_MAX_MSG, 1, "256 samples fit a frame (%zu bytes)", len);
	TAP_IS_INT(s_decode(len, err), VS_DROP_NONE, "  and are accepted");
}

int
main(void)
{
	test_samples();
	test_loglines();
	test_decode();
	test_conns();
	test_rec_check();
	test_bucket();
	test_keys();
	return tap_done();
}
