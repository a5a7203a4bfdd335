/*
 * vscope-agent: the guest side of vscope. Unprivileged; one poll loop runs the latency
 * probes, the StatsD listener, the JVM (hsperfdata) and TCP-table readers, and pushes
 * agent.proto messages over a CURVE-secured ZeroMQ DEALER to vscoped's guest intake.
 * See vscope-agent(8) and agent.conf(5).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "aconf.h"
#include "agent.pb-c.h"
#include "agentwire.h"
#include "clock.h"
#include "discover.h"
#include "hsperf.h"
#include "log.h"
#include "probe.h"
#include "sockdiag.h"
#include "statsd.h"
#include "summary.h"
#include "tail.h"
#include "resources.h"

#define AGENT_VERSION "vscope-agent " PACKAGE_VERSION
#define METRICS_PER_MSG 256     /* keeps a Report well under VS_AGENT_MAX_MSG */
#define MAX_METRICS 8192        /* per interval, all sources */

static volatile sig_atomic_t s_stop, s_reload;

static void s_on_stop(int sig) { (void)sig; s_stop = 1; }
static void s_on_hup(int sig) { (void)sig; s_reload = 1; }

typedef struct metric {
	char name[VS_AGENT_MAX_METRIC_LEN + 1];
	double value;
	int kind;
} metric_t;

typedef struct agent {
	vs_aconf_t conf;
	const char *conf_path;
	void *zctx, *sock;
	char pub[VS_Z85_KEY_LEN + 1], sec[VS_Z85_KEY_LEN + 1];
	vs_probe_t *probes[VS_ACONF_MAX_PROBES];
	size_t n_probes;
	int statsd_fd;
	uint32_t statsd_port_bound;
	vs_statsd_t *statsd;
	vs_sockdiag_t *sockdiag;
	metric_t *metrics;
	size_t n_metrics;
	uint64_t metrics_dropped;
	uint64_t seq, sent, dropped, hsperf_skipped, acks;
	int64_t interval_start, next_report, next_hello, next_conns, last_conns;
	int64_t last_ack;               /* when Dom0 last answered (or the socket was made) */
	uint64_t conns_hash;
	char *rxbuf;
	vs_tail_t *tails[VS_AGENT_MAX_LOGS];     /* log directives (tail.c) */
	size_t n_tails;
	uint64_t session;
	/* log lines are paced below the quota Dom0's HelloAck announces: what it would drop
	 * over its quota is lost, what waits here is not */
	double log_bytes_rate, log_msgs_rate, log_bytes_tok, log_msgs_tok;
	int64_t log_tok_ns;
	vs_res_t *res;                  /* the resources directive (resources.c) */
} agent_t;

static void
s_usage(FILE *f)
{
	fprintf(f, "Usage: vscope-agent [-f] [-n] [-d] [-c FILE] [-g KEYFILE]\n"
	    "  -c FILE     configuration (default %s/vscope/agent.conf)\n"
	    "  -f          stay in the foreground, log to stderr\n"
	    "  -n          check the configuration and the key file, then exit\n"
	    "  -d          debug logging\n"
	    "  -g KEYFILE  create a new CURVE key pair in KEYFILE (mode 0600), print the public key\n"
	    "Signals: SIGHUP reloads the configuration (a bad file keeps the running one),\n"
	    "SIGTERM stops. Xen discovery: %s.\n", SYSCONFDIR, vs_discover_name());
}

/* ---- sending ---------------------------------------------------------------------------- */

/* Packs and queues m without blocking: 0, or -1 when the frame is too large or the queue
 * is full (Dom0 unreachable); the seq gap tells the intake. */
static int
s_send_try(agent_t *a, Vsagent__AgentMsg *m)
{
	size_t len;
	uint8_t *buf;
	int rc = -1;

	m->version = VS_AGENT_VERSION;
	m->seq = ++a->seq;
	m->sent_ns = vs_now_ns();
	len = vsagent__agent_msg__get_packed_size(m);
	if (len > VS_AGENT_MAX_MSG || (buf = malloc(len)) == NULL)
		return -1;
	vsagent__agent_msg__pack(m, buf);
	if (zmq_send(a->sock, buf, len, ZMQ_DONTWAIT) >= 0) {
		a->sent++;
		rc = 0;
	}
	free(buf);
	return rc;
}

static void
s_send(agent_t *a, Vsagent__AgentMsg *m)
{
	if (s_send_try(a, m) < 0)
		a->dropped++;
}

/* Half of Dom0's byte quota and a quarter of its message quota for log lines (the rest for
 * reports, hellos and tables); before the first HelloAck, the intake's defaults' shares. */
#define LOG_SHARE_BYTES 0.5
#define LOG_SHARE_MSGS 0.25

static void
s_log_quota(agent_t *a, double max_bytes, double max_msgs)
{
	a->log_bytes_rate = (max_bytes > 0 ? max_bytes : 1 << 20) * LOG_SHARE_BYTES;
	a->log_msgs_rate = (max_msgs > 0 ? max_msgs : 100) * LOG_SHARE_MSGS;
}

static int
s_log_take(agent_t *a, double bytes, int64_t now)
{
	/* a burst of 200 ms, but at least one whole frame */
	double bb = a->log_bytes_rate / 5 > VS_AGENT_MAX_MSG ? a->log_bytes_rate / 5 :
	    VS_AGENT_MAX_MSG, mb = a->log_msgs_rate / 5 > 1 ? a->log_msgs_rate / 5 : 1;
	double dt = (double)(now - a->log_tok_ns) / 1e9;

	if (a->log_tok_ns == 0 || dt < 0)
		dt = 0;
	a->log_tok_ns = now;
	a->log_bytes_tok += dt * a->log_bytes_rate;
	a->log_msgs_tok += dt * a->log_msgs_rate;
	if (a->log_bytes_tok > bb)
		a->log_bytes_tok = bb;
	if (a->log_msgs_tok > mb)
		a->log_msgs_tok = mb;
	if (a->log_bytes_tok < bytes || a->log_msgs_tok < 1)
		return 0;
	a->log_bytes_tok -= bytes;
	a->log_msgs_tok -= 1;
	return 1;
}

/* The log tails: read what is new, send what waits, paced (s_log_take); lines a full
 * queue refused stay in the tail's backlog for the next round (tail.h). */
static void
s_logs(agent_t *a, int64_t now)
{
	for (size_t i = 0; i < a->n_tails; i++) {
		Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
		Vsagent__LogLines ll;
		vs_tail_batch_t *b = (vs_tail_batch_t *)a->rxbuf;      /* 8 KiB of 64 */

		vs_tail_poll(a->tails[i], now);
		for (int k = 0; k < 64 && vs_tail_msg(a->tails[i], &m, &ll, b) == 0; k++) {
			if (!s_log_take(a, (double)vsagent__agent_msg__get_packed_size(&m) + 16, now))
				break;
			if (s_send_try(a, &m) < 0)
				break;          /* kept, not dropped: sent when the queue has room */
			vs_tail_consume(a->tails[i], b->n);
		}
	}
}

/* The resource samples: a due batch goes out in messages of at most VS_AGENT_MAX_SAMPLES
 * (fewer when they would not fit a frame); what a full queue refused waits in the hold. */
static void
s_samples(agent_t *a, int64_t now)
{
	const vs_res_sample_t *hs;
	size_t n;

	if (a->res == NULL)
		return;
	vs_res_poll(a->res, now);
	for (int round = 0; round < 16 && vs_res_due(a->res, now, &hs, &n); round++) {
		static Vsagent__Sample smp[VS_AGENT_MAX_SAMPLES], *smpp[VS_AGENT_MAX_SAMPLES];
		static Vsagent__DiskSample dk[VS_AGENT_MAX_SAMPLES][VS_AGENT_MAX_SAMPLE_DEVS];
		static Vsagent__NetSample nt[VS_AGENT_MAX_SAMPLES][VS_AGENT_MAX_SAMPLE_DEVS];
		static Vsagent__DiskSample *dkp[VS_AGENT_MAX_SAMPLES][VS_AGENT_MAX_SAMPLE_DEVS];
		static Vsagent__NetSample *ntp[VS_AGENT_MAX_SAMPLES][VS_AGENT_MAX_SAMPLE_DEVS];
		static uint64_t cpu[VS_AGENT_MAX_SAMPLES][8], mem[VS_AGENT_MAX_SAMPLES][6];
		Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
		Vsagent__Samples ss = VSAGENT__SAMPLES__INIT;

		if (n > VS_AGENT_MAX_SAMPLES)
			n = VS_AGENT_MAX_SAMPLES;
		for (size_t i = 0; i < n; i++) {
			const vs_res_sample_t *h = &hs[i];
			Vsagent__Sample *o = &smp[i];

			vsagent__sample__init(o);
			smpp[i] = o;
			o->ts_ns = h->ts_ns;
			memcpy(cpu[i], h->cpu, sizeof(cpu[i]));
			memcpy(mem[i], h->mem, sizeof(mem[i]));
			o->n_cpu = 8;
			o->cpu = cpu[i];
			o->n_mem = 6;
			o->mem = mem[i];
			for (size_t d = 0; d < h->n_disks; d++) {
				Vsagent__DiskSample *x = &dk[i][d];
				vsagent__disk_sample__init(x);
				x->name = (char *)h->disks[d].name;
				x->reads = h->disks[d].v[0];
				x->read_sectors = h->disks[d].v[1];
				x->writes = h->disks[d].v[2];
				x->write_sectors = h->disks[d].v[3];
				x->io_ms = h->disks[d].v[4];
				dkp[i][d] = x;
			}
			o->n_disks = h->n_disks;
			o->disks = dkp[i];
			for (size_t d = 0; d < h->n_nets; d++) {
				Vsagent__NetSample *x = &nt[i][d];
				vsagent__net_sample__init(x);
				x->name = (char *)h->nets[d].name;
				x->rx_bytes = h->nets[d].v[0];
				x->rx_packets = h->nets[d].v[1];
				x->tx_bytes = h->nets[d].v[2];
				x->tx_packets = h->nets[d].v[3];
				ntp[i][d] = x;
			}
			o->n_nets = h->n_nets;
			o->nets = ntp[i];
		}
		ss.samples = smpp;
		ss.interval_ms = (uint32_t)(vs_res_spec(a->res)->interval_ns / VS_NS_PER_MSEC);
		ss.missed = vs_res_missed(a->res);
		m.body_case = VSAGENT__AGENT_MSG__BODY_SAMPLES;
		m.samples = &ss;
		ss.n_samples = n;
		while (ss.n_samples > 1 && vsagent__agent_msg__get_packed_size(&m) >
		    VS_AGENT_MAX_MSG - 64)
			ss.n_samples /= 2;
		if (s_send_try(a, &m) < 0)
			break;          /* kept in the hold: sent when the queue has room */
		vs_res_consume(a->res, ss.n_samples);
	}
}

/* Keeps the tails whose directive is unchanged (a reload must not read a log again). */
static int
s_tails_start(agent_t *a)
{
	vs_tail_t *old[VS_AGENT_MAX_LOGS];
	size_t n_old = a->n_tails;

	memcpy(old, a->tails, sizeof(old));
	a->n_tails = 0;
	for (size_t i = 0; i < a->conf.n_logs; i++) {
		vs_tail_t *t = NULL;
		for (size_t k = 0; k < n_old; k++) {
			if (old[k] && memcmp(vs_tail_spec(old[k]), &a->conf.logs[i],
			    sizeof(a->conf.logs[i])) == 0 && vs_tail_index(old[k]) == i) {
				t = old[k];
				old[k] = NULL;
			}
		}
		if (t == NULL && (t = vs_tail_new(&a->conf.logs[i], (uint32_t)i, a->session)) == NULL)
			return -errno;
		a->tails[a->n_tails++] = t;
	}
	for (size_t k = 0; k < n_old; k++)
		vs_tail_destroy(&old[k]);
	return 0;
}

static void
s_hello(agent_t *a)
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Hello h = VSAGENT__HELLO__INIT;
	char host[64] = "";

	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++)
		if (*p < 32 || *p > 126)
			*p = '?';
	h.agent_version = (char *)AGENT_VERSION;
	h.hostname = host;
	h.report_interval_ms = (uint32_t)(a->conf.interval_ns / VS_NS_PER_MSEC);
	m.body_case = VSAGENT__AGENT_MSG__BODY_HELLO;
	m.hello = &h;
	s_send(a, &m);
}

static void
s_metric(agent_t *a, const char *name, double value, int kind)
{
	metric_t *m;

	if (a->n_metrics == MAX_METRICS || strlen(name) > VS_AGENT_MAX_METRIC_LEN) {
		a->metrics_dropped++;
		return;
	}
	m = &a->metrics[a->n_metrics++];
	strcpy(m->name, name);
	m->value = value;
	m->kind = kind;
}

static void
s_statsd_emit(void *arg, const char *name, double value, int kind)
{
	s_metric(arg, name, value, kind);
}

static void
s_jvm_emit(void *arg, long pid, const vs_jvm_t *j)
{
	agent_t *a = arg;
	double ms_per_tick = 1e3 / (double)j->hrt_frequency;
	char n[128];

	for (size_t i = 0; i < j->n_gc; i++) {
		snprintf(n, sizeof(n), "jvm.%ld.gc.%s.count", pid, j->gc[i].name);
		s_metric(a, n, (double)j->gc[i].invocations, 1);
		snprintf(n, sizeof(n), "jvm.%ld.gc.%s.time_ms", pid, j->gc[i].name);
		s_metric(a, n, (double)j->gc[i].time_ticks * ms_per_tick, 1);
	}
	for (size_t i = 0; i < j->n_gen; i++) {
		snprintf(n, sizeof(n), "jvm.%ld.heap.%s.used_bytes", pid, j->gen[i].name);
		s_metric(a, n, (double)j->gen[i].used, 0);
		snprintf(n, sizeof(n), "jvm.%ld.heap.%s.capacity_bytes", pid, j->gen[i].name);
		s_metric(a, n, (double)j->gen[i].capacity, 0);
	}
	snprintf(n, sizeof(n), "jvm.%ld.threads.live", pid);
	s_metric(a, n, (double)j->threads_live, 0);
	snprintf(n, sizeof(n), "jvm.%ld.safepoint.time_ms", pid);
	s_metric(a, n, (double)j->safepoint_ticks * ms_per_tick, 1);
	snprintf(n, sizeof(n), "jvm.%ld.safepoint.count", pid);
	s_metric(a, n, (double)j->safepoints, 1);
}

static void
s_report(agent_t *a, int64_t now_mono)
{
	Vsagent__Latency lat[VS_ACONF_MAX_PROBES], *latp[VS_ACONF_MAX_PROBES];
	Vsagent__Metric met[METRICS_PER_MSG], *metp[METRICS_PER_MSG];
	int64_t now = vs_now_ns();
	int64_t start = now - (now_mono - a->interval_start);
	size_t i, done = 0;

	for (i = 0; i < a->n_probes; i++) {
		vs_samples_t *s = vs_probe_samples(a->probes[i]);
		vs_summary_t sum;

		vs_summarise(s->v, s->n, &sum);
		vsagent__latency__init(&lat[i]);
		lat[i].probe = (char *)vs_probe_spec(a->probes[i])->name;
		lat[i].start_ns = start;
		lat[i].end_ns = now;
		lat[i].count = (uint32_t)sum.count;
		lat[i].errors = vs_probe_errors(a->probes[i]);
		lat[i].min_us = sum.min;
		lat[i].mean_us = sum.mean;
		lat[i].p50_us = sum.p50;
		lat[i].p99_us = sum.p99;
		lat[i].max_us = sum.max;
		latp[i] = &lat[i];
		vs_probe_reset(a->probes[i]);
	}
	a->n_metrics = 0;
	if (a->statsd) {
		const vs_statsd_stats_t *st = vs_statsd_stats(a->statsd);
		vs_statsd_flush(a->statsd, s_statsd_emit, a);
		s_metric(a, "agent.statsd.bad_lines", (double)st->bad_lines, 1);
		s_metric(a, "agent.statsd.dropped_names", (double)st->dropped_names, 1);
	}
	if (a->conf.hsperf_dir[0]) {
		vs_hsperf_scan(a->conf.hsperf_dir, s_jvm_emit, a, &a->hsperf_skipped);
		s_metric(a, "agent.hsperf.skipped", (double)a->hsperf_skipped, 1);
	}
	for (size_t t = 0; t < a->n_tails; t++) {
		const vs_tail_stats_t *ts = vs_tail_stats(a->tails[t]);
		char n[64];
		snprintf(n, sizeof(n), "agent.log%zu.lines", t);
		s_metric(a, n, (double)ts->lines, 1);
		snprintf(n, sizeof(n), "agent.log%zu.backlog_bytes", t);
		s_metric(a, n, (double)ts->backlog_bytes, 0);
	}
	if (a->res) {
		s_metric(a, "agent.resources.samples", (double)vs_res_taken(a->res), 1);
		s_metric(a, "agent.resources.missed", (double)vs_res_missed(a->res), 1);
	}
	s_metric(a, "agent.dropped_msgs", (double)a->dropped, 1);
	s_metric(a, "agent.dropped_metrics", (double)a->metrics_dropped, 1);
	/* probes first, then the metrics in chunks: each Report stays under the frame limit */
	do {
		Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
		Vsagent__Report r = VSAGENT__REPORT__INIT;
		size_t k = 0;

		if (done == 0) {
			r.n_latency = a->n_probes;
			r.latency = latp;
		}
		for (; k < METRICS_PER_MSG && done < a->n_metrics; k++, done++) {
			vsagent__metric__init(&met[k]);
			met[k].name = a->metrics[done].name;
			met[k].value = a->metrics[done].value;
			met[k].kind = a->metrics[done].kind ? VSAGENT__KIND__COUNTER :
			    VSAGENT__KIND__GAUGE;
			metp[k] = &met[k];
		}
		r.n_metric = k;
		r.metric = metp;
		m.body_case = VSAGENT__AGENT_MSG__BODY_REPORT;
		m.report = &r;
		s_send(a, &m);
	} while (done < a->n_metrics);
	a->interval_start = now_mono;
}

static int
s_conns(agent_t *a, int force)
{
	static Vsagent__Conn c[VS_AGENT_MAX_CONNS];
	static Vsagent__Conn *cp[VS_AGENT_MAX_CONNS];
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Conns cs = VSAGENT__CONNS__INIT;
	const vs_tcpconn_t *t;
	size_t n, total, i;
	uint64_t h = 1469598103934665603ULL;

	if (vs_sockdiag_refresh(a->sockdiag) < 0)
		return 0;
	t = vs_sockdiag_conns(a->sockdiag, &n, &total);
	for (i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)&t[i];
		/* the set of connections and their states, not their moving byte counters */
		for (size_t k = 0; k < offsetof(vs_tcpconn_t, uid); k++)
			h = (h ^ p[k]) * 1099511628211ULL;
	}
	if (!force && h == a->conns_hash)
		return 0;
	a->conns_hash = h;
	if (n > VS_AGENT_MAX_CONNS)
		n = VS_AGENT_MAX_CONNS;
	for (i = 0; i < n; i++) {
		size_t alen = t[i].family == AF_INET6 ? 16 : 4;
		vsagent__conn__init(&c[i]);
		c[i].local_addr.data = (uint8_t *)t[i].src;
		c[i].local_addr.len = alen;
		c[i].remote_addr.data = (uint8_t *)t[i].dst;
		c[i].remote_addr.len = alen;
		c[i].local_port = t[i].sport;
		c[i].remote_port = t[i].dport;
		c[i].state = t[i].state;
		c[i].bytes_acked = t[i].bytes_acked;
		c[i].bytes_received = t[i].bytes_received;
		c[i].rtt_us = t[i].rtt_us;
		cp[i] = &c[i];
	}
	cs.n_conn = n;
	cs.conn = cp;
	cs.truncated = total > n;
	m.body_case = VSAGENT__AGENT_MSG__BODY_CONNS;
	m.conns = &cs;
	/* 1024 IPv6 entries can pass the frame limit: send fewer, marked truncated */
	while (cs.n_conn > 0 && vsagent__agent_msg__get_packed_size(&m) > VS_AGENT_MAX_MSG - 64) {
		cs.n_conn = cs.n_conn * 3 / 4;
		cs.truncated = 1;
	}
	s_send(a, &m);
	return 1;
}

/* ---- setup -------------------------------------------------------------------------------- */

static int
s_load(vs_aconf_t *c, const char *path, char *pub, char *sec, char *err, size_t errlen)
{
	char ep[256] = "", key[64] = "";
	int rc;

	vs_aconf_defaults(c);
	if ((rc = vs_aconf_read(c, path, err, errlen)) < 0)
		return rc;
	if (c->xenstore != 0 && vs_discover_read(ep, sizeof(ep), key, sizeof(key)) == 0) {
		if (ep[0] && c->endpoint[0] == 0 && strncmp(ep, "tcp://", 6) == 0 &&
		    strlen(ep) < sizeof(c->endpoint))
			strcpy(c->endpoint, ep);
		if (key[0] && c->server_key[0] == 0 && vs_z85_key_ok(key))
			strcpy(c->server_key, key);
	} else if (c->xenstore == 1) {
		snprintf(err, errlen, "xenstore = yes, but xenstore cannot be read (discovery: %s)",
		    vs_discover_name());
		return -ENOENT;
	}
	if ((rc = vs_aconf_check(c, err, errlen)) < 0)
		return rc;
	return vs_aconf_keys(c->key_file, pub, sec, err, errlen);
}

static void
s_close_sock(agent_t *a)
{
	if (a->sock) {
		int zero = 0;
		zmq_setsockopt(a->sock, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_close(a->sock);
		a->sock = NULL;
	}
}

static int
s_open_sock(agent_t *a)
{
	int hwm = (int)a->conf.send_queue, zero = 0, maxmsg = 4096;
	int64_t maxsz = maxmsg;
	void *s = zmq_socket(a->zctx, ZMQ_DEALER);

	if (s == NULL)
		return -errno;
	if (zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm)) < 0 ||
	    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm)) < 0 ||
	    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxsz, sizeof(maxsz)) < 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, a->conf.server_key, VS_Z85_KEY_LEN) < 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, a->pub, VS_Z85_KEY_LEN) < 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, a->sec, VS_Z85_KEY_LEN) < 0 ||
	    zmq_connect(s, a->conf.endpoint) < 0) {
		int e = errno;
		vs_err("zmq socket for %s: %s", a->conf.endpoint, zmq_strerror(e));
		zmq_close(s);
		return -e;
	}
	a->sock = s;
	a->last_ack = vs_mono_ns();
	return 0;
}

static int
s_open_statsd(agent_t *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, rcvbuf = 1 << 20;

	if (a->statsd_fd >= 0 && a->statsd_port_bound == a->conf.statsd_port)
		return 0;
	if (a->statsd_fd >= 0)
		close(a->statsd_fd);
	a->statsd_fd = -1;
	a->statsd_port_bound = 0;
	if (a->conf.statsd_port == 0)
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sin.sin_port = htons((uint16_t)a->conf.statsd_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);       /* never reachable from outside */
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = errno;
		vs_err("statsd: bind 127.0.0.1:%u: %s", a->conf.statsd_port, strerror(e));
		close(fd);
		return -e;
	}
	a->statsd_fd = fd;
	a->statsd_port_bound = a->conf.statsd_port;
	return 0;
}

static void
s_free_probes(agent_t *a)
{
	for (size_t i = 0; i < a->n_probes; i++)
		vs_probe_destroy(&a->probes[i]);
	a->n_probes = 0;
}

static int
s_start(agent_t *a)
{
	int rc;

	if ((rc = s_open_sock(a)) < 0)
		return rc;
	if ((rc = s_open_statsd(a)) < 0)
		return rc;
	for (size_t i = 0; i < a->conf.n_probes; i++) {
		if ((a->probes[i] = vs_probe_new(&a->conf.probes[i])) == NULL)
			return -errno;
		a->n_probes = i + 1;
	}
	if ((rc = s_tails_start(a)) < 0)
		return rc;
	if (a->res && (!a->conf.resources.on || memcmp(vs_res_spec(a->res),
	    &a->conf.resources, sizeof(a->conf.resources))))
		vs_res_destroy(&a->res);
	if (a->conf.resources.on && a->res == NULL &&
	    (a->res = vs_res_new(&a->conf.resources, a->conf.procdir)) == NULL)
		vs_warn("resources: %s/...: %s; not sampled", a->conf.procdir, strerror(errno));
	if (a->conf.conns && a->sockdiag == NULL && (a->sockdiag = vs_sockdiag_new()) == NULL)
		vs_warn("connection table: NETLINK_SOCK_DIAG: %s; not reported", strerror(errno));
	rc = a->conf.xenstore == 0 ? 0 : vs_discover_publish(a->pub);
	if (rc < 0 && rc != -ENOTSUP && (a->conf.xenstore == 1 || rc != -ENOENT))
		vs_warn("xenstore: cannot publish data/vscope/agent-key: %s", strerror(-rc));
	return 0;
}

static void
s_do_reload(agent_t *a)
{
	vs_aconf_t *n = malloc(sizeof(*n));
	char pub[VS_Z85_KEY_LEN + 1], sec[VS_Z85_KEY_LEN + 1], err[512];

	if (n == NULL)
		return;
	if (s_load(n, a->conf_path, pub, sec, err, sizeof(err)) < 0) {
		vs_err("reload: %s; keeping the running configuration", err);
		free(n);
		return;
	}
	s_free_probes(a);
	s_close_sock(a);
	a->conf = *n;
	free(n);
	strcpy(a->pub, pub);
	strcpy(a->sec, sec);
	memset(sec, 0, sizeof(sec));
	vs_log_set_level(a->conf.log_level);
	if (s_start(a) < 0)
		vs_err("reload: cannot start with the new configuration");
	a->next_hello = 0;
	vs_notice("configuration reloaded from %s", a->conf_path);
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void
s_statsd_read(agent_t *a)
{
	for (int k = 0; k < 256; k++) {
		ssize_t n = recv(a->statsd_fd, a->rxbuf, 65536, 0);
		if (n < 0)
			return;
		vs_statsd_feed(a->statsd, a->rxbuf, (size_t)n);
	}
}

static void
s_zmq_read(agent_t *a)
{
	char buf[512];

	/* HelloAck frames; their content is informative only */
	for (int k = 0; k < 64; k++) {
		int n = zmq_recv(a->sock, buf, sizeof(buf), ZMQ_DONTWAIT);
		if (n < 0)
			return;
		a->last_ack = vs_mono_ns();
		{
			Vsagent__HelloAck *ack = n <= (int)sizeof(buf) ?
			    vsagent__hello_ack__unpack(NULL, (size_t)n, (uint8_t *)buf) : NULL;
			if (ack && a->acks == 0)
				vs_notice("accepted by %s as domain '%.64s'", a->conf.endpoint,
				    ack->domain);
			if (ack) {
				s_log_quota(a, ack->max_bytes_per_s, ack->max_msgs_per_s);
				vsagent__hello_ack__free_unpacked(ack, NULL);
			}
			a->acks++;
		}
	}
}

static int
s_run(agent_t *a)
{
	zmq_pollitem_t items[VS_ACONF_MAX_PROBES + 2];
	size_t map[VS_ACONF_MAX_PROBES + 2];

	a->interval_start = vs_mono_ns();
	a->next_report = a->interval_start + a->conf.interval_ns;
	while (!s_stop) {
		int64_t now = vs_mono_ns(), next;
		int n = 0, rc, timeout;

		if (s_reload) {
			s_reload = 0;
			s_do_reload(a);
			now = vs_mono_ns();
			a->next_report = now + a->conf.interval_ns;
		}
		if (now >= a->next_hello) {
			/*
			 * libzmq (4.3.4) never reconnects after Dom0 refused the CURVE handshake,
			 * which happens to an agent that is faster than Dom0 at binding its key
			 * (on Xen, vscoped reads the published key every 2 s). A socket without
			 * a HelloAck for three hello intervals is made anew.
			 */
			if (now - a->last_ack > 3 * a->conf.hello_ns) {
				vs_notice("no answer from %s for %.0f s: connecting again",
				    a->conf.endpoint, (now - a->last_ack) / 1e9);
				s_close_sock(a);
				if (s_open_sock(a) < 0)
					return -1;
			}
			s_hello(a);
			a->next_hello = now + a->conf.hello_ns;
		}
		for (size_t i = 0; i < a->n_probes; i++)
			if (vs_probe_deadline(a->probes[i]) <= now)
				vs_probe_tick(a->probes[i], now);
		if (now >= a->next_report) {
			s_report(a, now);
			while (a->next_report <= now)
				a->next_report += a->conf.interval_ns;
		}
		if (a->sockdiag && now >= a->next_conns) {
			/* looked at every second, sent on change or every conns-interval */
			int force = now - a->last_conns >= a->conf.conns_ns;
			if (s_conns(a, force))
				a->last_conns = now;
			a->next_conns = now + VS_NS_PER_SEC;
		}
		next = a->next_report < a->next_hello ? a->next_report : a->next_hello;
		if (a->sockdiag && a->next_conns < next)
			next = a->next_conns;
		s_logs(a, now);
		s_samples(a, now);
		if (a->res && vs_res_deadline(a->res) < next)
			next = vs_res_deadline(a->res);
		for (size_t i = 0; i < a->n_tails; i++)
			if (vs_tail_deadline(a->tails[i]) < next)
				next = vs_tail_deadline(a->tails[i]);
		items[n] = (zmq_pollitem_t){ .socket = a->sock, .events = ZMQ_POLLIN };
		map[n++] = SIZE_MAX;
		if (a->statsd_fd >= 0) {
			items[n] = (zmq_pollitem_t){ .fd = a->statsd_fd, .events = ZMQ_POLLIN };
			map[n++] = SIZE_MAX - 1;
		}
		for (size_t i = 0; i < a->n_probes; i++) {
			short ev;
			int fd = vs_probe_pollfd(a->probes[i], &ev);
			int64_t d = vs_probe_deadline(a->probes[i]);

			if (d < next)
				next = d;
			if (fd < 0)
				continue;
			/* zmq_poll has its own flag values: ZMQ_POLLOUT is not POLLOUT */
			items[n] = (zmq_pollitem_t){ .fd = fd, .events = (short)(
			    (ev & POLLIN ? ZMQ_POLLIN : 0) | (ev & POLLOUT ? ZMQ_POLLOUT : 0)) };
			map[n++] = i;
		}
		now = vs_mono_ns();
		timeout = next <= now ? 0 : (int)((next - now + VS_NS_PER_MSEC - 1) / VS_NS_PER_MSEC);
		rc = zmq_poll(items, n, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			vs_err("zmq_poll: %s", zmq_strerror(errno));
			return -errno;
		}
		now = vs_mono_ns();
		for (int i = 0; i < n; i++) {
			if (!items[i].revents)
				continue;
			if (map[i] == SIZE_MAX)
				s_zmq_read(a);
			else if (map[i] == SIZE_MAX - 1)
				s_statsd_read(a);
			else
				vs_probe_io(a->probes[map[i]], (short)(
				    (items[i].revents & ZMQ_POLLIN ? POLLIN : 0) |
				    (items[i].revents & ZMQ_POLLOUT ? POLLOUT : 0) |
				    (items[i].revents & ZMQ_POLLERR ? POLLERR : 0)), now);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static agent_t agent;
	agent_t *a = &agent;
	char conf_default[512], err[512];
	const char *genkey = NULL;
	int fg = 0, check = 0, debug = 0, c, rc = 1;
	struct sigaction sa;

	snprintf(conf_default, sizeof(conf_default), "%s/vscope/agent.conf", SYSCONFDIR);
	a->conf_path = conf_default;
	a->statsd_fd = -1;
	a->session = (uint64_t)vs_now_ns();
	s_log_quota(a, 0, 0);
	while ((c = getopt(argc, argv, "fndc:g:h")) != -1) {
		switch (c) {
		case 'f': fg = 1; break;
		case 'n': check = 1; break;
		case 'd': debug = 1; break;
		case 'c': a->conf_path = optarg; break;
		case 'g': genkey = optarg; break;
		case 'h': s_usage(stdout); return 0;
		default: s_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		s_usage(stderr);
		return 2;
	}
	vs_log_open("vscope-agent", !fg && !check, debug ? VS_LOG_DEBUG : VS_LOG_NOTICE);
	if (genkey) {
		char pub[VS_Z85_KEY_LEN + 1];
		if (vs_aconf_keygen(genkey, pub, err, sizeof(err)) < 0) {
			fprintf(stderr, "vscope-agent: %s\n", err);
			return 1;
		}
		printf("%s\n", pub);
		return 0;
	}
	if (s_load(&a->conf, a->conf_path, a->pub, a->sec, err, sizeof(err)) < 0) {
		fprintf(stderr, "vscope-agent: %s\n", err);
		vs_err("%s", err);
		return 1;
	}
	if (check) {
		printf("%s: OK (%zu probes, %zu logs, endpoint %s, statsd %u)\n", a->conf_path,
		    a->conf.n_probes, a->conf.n_logs, a->conf.endpoint, a->conf.statsd_port);
		return 0;
	}
	if (!debug)
		vs_log_set_level(a->conf.log_level);
	if (geteuid() == 0)
		vs_warn("running as root: vscope-agent needs no privilege (see vscope-agent(8))");
	if (!fg && daemon(0, 0) < 0) {
		vs_err("daemon: %s", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = s_on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = s_on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->zctx = zmq_ctx_new();
	a->statsd = vs_statsd_new();
	a->metrics = calloc(MAX_METRICS, sizeof(*a->metrics));
	a->rxbuf = malloc(65536);
	if (a->zctx == NULL || a->statsd == NULL || a->metrics == NULL || a->rxbuf == NULL) {
		vs_err("out of memory");
		goto out;
	}
	if (s_start(a) < 0)
		goto out;
	vs_notice("started: %zu probes, endpoint %s, statsd port %u, hsperf %s",
	    a->n_probes, a->conf.endpoint, a->conf.statsd_port,
	    a->conf.hsperf_dir[0] ? a->conf.hsperf_dir : "off");
	rc = s_run(a) < 0;
	vs_notice("stopping: %llu messages sent, %llu dropped", (unsigned long long)a->sent,
	    (unsigned long long)a->dropped);
out:
	s_free_probes(a);
	for (size_t i = 0; i < a->n_tails; i++)
		vs_tail_destroy(&a->tails[i]);
	vs_res_destroy(&a->res);
	s_close_sock(a);
	if (a->statsd_fd >= 0)
		close(a->statsd_fd);
	vs_statsd_destroy(&a->statsd);
	vs_sockdiag_destroy(&a->sockdiag);
	free(a->metrics);
	free(a->rxbuf);
	if (a->zctx)
		zmq_ctx_term(a->zctx);
	memset(a->sec, 0, sizeof(a->sec));
	return rc;
}
