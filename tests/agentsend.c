/*
 * agentsend: a hostile or well-behaved guest agent for the intake tests. A real ZeroMQ CURVE
 * DEALER speaking lib/agent.proto.
 *
 *   agentsend -e ENDPOINT -S SERVERKEY|FILE -k KEYFILE [-m MODE] [-n N] [-t SECS]
 *             [-p PROBE] [-v P99_US] [-i MS] [-w SECS] [-c ENTRIES] [-r PORT]
 *
 * MODE: hello (send a Hello, wait -w SECS for the HelloAck, print "ack DOMAIN"; exit 3 when
 * none came), report (N Reports, -i MS apart: probe PROBE with p99 P99_US, and metric
 * statsd.agentsend), oversize (N frames over VS_AGENT_MAX_MSG), malformed (N frames that do
 * not decode), unknown (N AgentMsg with a body of a type the intake does not know), badvalue
 * (N Reports with a NaN latency), flood (Reports as fast as the socket takes them for -t
 * SECS), conns (N connection tables of -c ENTRIES established connections
 * 192.0.2.1:5000+i -> 192.0.2.2:-r PORT), badconns (N such tables whose second entry has a
 * 5-byte address). Log lines (LogLines): logs (N messages of -c lines "agentsend line K", spec -L
 * SPEC or logformat -F FORMAT, log -l INDEX, numbered on from 1), logbadspec (spec
 * "no-such-spec"), loglong (a line of 9000 bytes), logmany (1025 lines), logbinary (a line
 * with a 0x01 byte), logback (N messages each numbered from 1 again: from the second on,
 * going back), logflood (messages of -c lines as fast as the socket takes them for -t SECS).
 * Resource samples (Samples): samples (N messages of -c samples 1 ms apart ending now, disk
 * "vda", interface "eth0"), samplesmany (257 samples), samplesname (a 32-byte disk name),
 * samplesbinary (an interface name with a 0x01 byte), samplesfuture (times a day ahead),
 * samplesback (N messages, from the second on each 10 s before the one before it).
 * Every mode but hello starts with a Hello and waits for its ack, so what follows goes
 * over an accepted connection; prints "sent N" at the end.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "agent.pb-c.h"
#include "agentkeys.h"
#include "agentwire.h"

static int64_t
s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t
s_report(uint8_t *buf, size_t cap, uint64_t seq, const char *probe, double p99, int bad)
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Report r = VSAGENT__REPORT__INIT;
	Vsagent__Latency l = VSAGENT__LATENCY__INIT, *lp = &l;
	Vsagent__Metric x = VSAGENT__METRIC__INIT, *xp = &x;
	int64_t now = s_now();

	m.version = VS_AGENT_VERSION;
	m.seq = seq;
	m.sent_ns = now;
	m.body_case = VSAGENT__AGENT_MSG__BODY_REPORT;
	m.report = &r;
	l.probe = (char *)probe;
	l.start_ns = now - 1000000000;
	l.end_ns = now;
	l.count = 100;
	l.errors = 1;
	l.min_us = p99 / 4;
	l.p50_us = p99 / 2;
	l.mean_us = p99 / 2;
	l.p99_us = bad ? NAN : p99;
	l.max_us = p99 * 2;
	r.n_latency = 1;
	r.latency = &lp;
	x.name = "statsd.agentsend";
	x.value = (double)seq;
	x.kind = VSAGENT__KIND__COUNTER;
	r.n_metric = 1;
	r.metric = &xp;
	if (vsagent__agent_msg__get_packed_size(&m) > cap)
		return 0;
	return vsagent__agent_msg__pack(&m, buf);
}

/* A LogLines message of n lines numbered from first (kind: 0 plain, 'l' one long line,
 * 'b' a control byte in the first line). */
static size_t
s_loglines(uint8_t *buf, size_t cap, uint64_t seq, const char *spec, const char *lf,
    unsigned log, uint64_t first, long n, int kind)
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__LogLines l = VSAGENT__LOG_LINES__INIT;
	static char text[2048][64], *lines[2048], longl[9001];
	size_t len = 0;

	if (n > 2048)
		n = 2048;
	for (long i = 0; i < n; i++) {
		snprintf(text[i], sizeof(text[i]), "agentsend line %llu",
		    (unsigned long long)(first + (uint64_t)i));
		lines[i] = text[i];
	}
	if (kind == 'l') {
		memset(longl, 'x', 9000);
		longl[9000] = '\0';
		lines[0] = longl;
	} else if (kind == 'b' && n > 0) {
		text[0][3] = '\x01';
	}
	m.version = VS_AGENT_VERSION;
	m.seq = seq;
	m.sent_ns = s_now();
	m.body_case = VSAGENT__AGENT_MSG__BODY_LOGLINES;
	m.loglines = &l;
	l.log = log;
	l.path = "/var/log/agentsend.log";
	l.spec = (char *)(spec ? spec : "");
	l.logformat = (char *)(lf ? lf : "");
	l.session = 1;
	l.inode = 42;
	l.first_line = first;
	l.n_lines = (size_t)n;
	l.lines = lines;
	if (vsagent__agent_msg__get_packed_size(&m) <= cap)
		len = vsagent__agent_msg__pack(&m, buf);
	return len;
}

static size_t
s_conns(uint8_t *buf, size_t cap, uint64_t seq, long entries, unsigned rport, int bad)
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Conns cs = VSAGENT__CONNS__INIT;
	static Vsagent__Conn c[VS_AGENT_MAX_CONNS + 8], *cp[VS_AGENT_MAX_CONNS + 8];
	static uint8_t la[4] = { 192, 0, 2, 1 }, ra[5] = { 192, 0, 2, 2, 0 };
	size_t len = 0;

	if (entries < 0 || entries > VS_AGENT_MAX_CONNS + 8)
		return 0;
	m.version = VS_AGENT_VERSION;
	m.seq = seq;
	m.sent_ns = s_now();
	m.body_case = VSAGENT__AGENT_MSG__BODY_CONNS;
	m.conns = &cs;
	for (long i = 0; i < entries; i++) {
		vsagent__conn__init(&c[i]);
		c[i].local_addr.data = la;
		c[i].local_addr.len = 4;
		c[i].remote_addr.data = ra;
		c[i].remote_addr.len = bad && i == 1 ? 5 : 4;
		c[i].local_port = 5000 + (uint32_t)i;
		c[i].remote_port = rport;
		c[i].state = 1;
		c[i].bytes_acked = 1000 + (uint64_t)i;
		c[i].bytes_received = 2000 + (uint64_t)i;
		c[i].rtt_us = 50;
		cp[i] = &c[i];
	}
	cs.n_conn = (size_t)entries;
	cs.conn = cp;
	if (vsagent__agent_msg__get_packed_size(&m) <= cap)
		len = vsagent__agent_msg__pack(&m, buf);
	return len;
}

static int
s_hello(void *s, double wait_s, char *domain, size_t dlen)
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Hello h = VSAGENT__HELLO__INIT;
	uint8_t buf[256];
	int64_t until = s_now() + (int64_t)(wait_s * 1e9);

	m.version = VS_AGENT_VERSION;
	m.sent_ns = s_now();
	m.body_case = VSAGENT__AGENT_MSG__BODY_HELLO;
	m.hello = &h;
	h.agent_version = "agentsend";
	h.hostname = "test";
	h.report_interval_ms = 1000;
	/* resend while waiting: a Hello queued before the handshake may be lost */
	while (s_now() < until) {
		zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
		size_t len = vsagent__agent_msg__pack(&m, buf);

		zmq_send(s, buf, len, ZMQ_DONTWAIT);
		if (zmq_poll(&it, 1, 500) == 1) {
			int n = zmq_recv(s, buf, sizeof(buf), 0);
			Vsagent__HelloAck *a;

			if (n <= 0 || n > (int)sizeof(buf))
				continue;
			a = vsagent__hello_ack__unpack(NULL, (size_t)n, buf);
			if (a == NULL)
				continue;
			snprintf(domain, dlen, "%s", a->domain ? a->domain : "");
			vsagent__hello_ack__free_unpacked(a, NULL);
			return 0;
		}
	}
	return -ETIMEDOUT;
}

/* n samples 1 ms apart ending at end_ns; bad: 'n' a 32-byte disk name, 'b' a control byte */
static size_t
s_samples(uint8_t *buf, size_t cap, uint64_t seq, long n, int64_t end_ns, int bad)
{
	static Vsagent__Sample smp[300], *smpp[300];
	static Vsagent__DiskSample dk[300], *dkp[300];
	static Vsagent__NetSample nt[300], *ntp[300];
	static uint64_t cpu[300][8], mem[300][6];
	static char longname[40], binname[8] = "et\x01h0";
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Samples ss = VSAGENT__SAMPLES__INIT;

	if (n > 300)
		n = 300;
	memset(longname, 'd', 32);
	longname[32] = '\0';
	for (long i = 0; i < n; i++) {
		vsagent__sample__init(&smp[i]);
		smpp[i] = &smp[i];
		smp[i].ts_ns = end_ns - (n - 1 - i) * 1000000;
		for (int k = 0; k < 8; k++)
			cpu[i][k] = (uint64_t)(1000 + i * (k + 1));
		for (int k = 0; k < 6; k++)
			mem[i][k] = (uint64_t)(4096 + k);
		smp[i].n_cpu = 8;
		smp[i].cpu = cpu[i];
		smp[i].n_mem = 6;
		smp[i].mem = mem[i];
		vsagent__disk_sample__init(&dk[i]);
		dk[i].name = bad == 'n' ? longname : "vda";
		dk[i].reads = (uint64_t)i;
		dkp[i] = &dk[i];
		smp[i].n_disks = 1;
		smp[i].disks = &dkp[i];
		vsagent__net_sample__init(&nt[i]);
		nt[i].name = bad == 'b' ? binname : "eth0";
		nt[i].rx_bytes = (uint64_t)i * 100;
		ntp[i] = &nt[i];
		smp[i].n_nets = 1;
		smp[i].nets = &ntp[i];
	}
	ss.n_samples = (size_t)n;
	ss.samples = smpp;
	ss.interval_ms = 1;
	m.version = VS_AGENT_VERSION;
	m.seq = seq;
	m.sent_ns = s_now();
	m.body_case = VSAGENT__AGENT_MSG__BODY_SAMPLES;
	m.samples = &ss;
	if (vsagent__agent_msg__get_packed_size(&m) > cap)
		return 0;
	return vsagent__agent_msg__pack(&m, buf);
}

int
main(int argc, char **argv)
{
	const char *ep = NULL, *skey = NULL, *kfile = NULL, *mode = "report", *probe = "p1";
	const char *lspec = NULL, *lfmt = NULL;
	unsigned logidx = 0;
	char spub[VS_Z85_KEY_LEN + 1], pub[VS_Z85_KEY_LEN + 1], sec[VS_Z85_KEY_LEN + 1];
	char err[512], domain[128] = "";
	double p99 = 500, secs = 2, wait_s = 5;
	long n = 1, interval_ms = 100, sent = 0, entries = 3;
	unsigned rport = 4242;
	int opt, zero = 0, hwm = 100000, rc = 0;
	void *ctx, *s;
	static uint8_t buf[4 * VS_AGENT_MAX_MSG];

	while ((opt = getopt(argc, argv, "e:S:k:m:n:t:p:v:i:w:c:r:L:F:l:")) != -1) {
		switch (opt) {
		case 'e': ep = optarg; break;
		case 'S': skey = optarg; break;
		case 'k': kfile = optarg; break;
		case 'm': mode = optarg; break;
		case 'n': n = atol(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'p': probe = optarg; break;
		case 'v': p99 = atof(optarg); break;
		case 'i': interval_ms = atol(optarg); break;
		case 'w': wait_s = atof(optarg); break;
		case 'c': entries = atol(optarg); break;
		case 'r': rport = (unsigned)atol(optarg); break;
		case 'L': lspec = optarg; break;
		case 'F': lfmt = optarg; break;
		case 'l': logidx = (unsigned)atol(optarg); break;
		default: return 2;
		}
	}
	if (!ep || !skey || !kfile) {
		fprintf(stderr, "usage: agentsend -e ENDPOINT -S SERVERKEY|FILE -k KEYFILE "
		    "[-m MODE] ...\n");
		return 2;
	}
	if (vs_z85_key_ok(skey))
		memcpy(spub, skey, sizeof(spub));
	else if (vs_keyfile_read(skey, spub, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentsend: %s\n", err);
		return 2;
	}
	if (vs_keyfile_read(kfile, pub, sec, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentsend: %s\n", err);
		return 2;
	}
	ctx = zmq_ctx_new();
	s = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, spub, VS_Z85_KEY_LEN + 1);
	zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, VS_Z85_KEY_LEN + 1);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, VS_Z85_KEY_LEN + 1);
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	if (zmq_connect(s, ep) < 0) {
		fprintf(stderr, "agentsend: %s: %s\n", ep, zmq_strerror(errno));
		return 2;
	}
	if (s_hello(s, wait_s, domain, sizeof(domain)) < 0) {
		printf("no ack\n");
		rc = 3;
		goto out;
	}
	printf("ack %s\n", domain);
	fflush(stdout);
	if (!strcmp(mode, "hello"))
		goto out;
	if (!lspec && !lfmt)
		lspec = "apache-milliscope";
	if (!strcmp(mode, "flood")) {
		int64_t until = s_now() + (int64_t)(secs * 1e9);
		size_t len = s_report(buf, sizeof(buf), 0, probe, p99, 0);

		while (s_now() < until) {
			for (int i = 0; i < 64; i++)
				if (zmq_send(s, buf, len, ZMQ_DONTWAIT) >= 0)
					sent++;
		}
	} else if (!strcmp(mode, "logflood")) {
		int64_t until = s_now() + (int64_t)(secs * 1e9);
		uint64_t first = 1;

		while (s_now() < until) {
			for (int i = 0; i < 16; i++) {
				size_t len = s_loglines(buf, sizeof(buf), first, lspec, lfmt, logidx,
				    first, entries, 0);
				if (zmq_send(s, buf, len, ZMQ_DONTWAIT) >= 0) {
					sent++;
					first += (uint64_t)entries;
				}
			}
		}
	} else {
		for (long i = 0; i < n; i++) {
			size_t len = 0;

			if (!strcmp(mode, "report") || !strcmp(mode, "badvalue")) {
				len = s_report(buf, sizeof(buf), (uint64_t)i + 1, probe, p99,
				    !strcmp(mode, "badvalue"));
			} else if (!strcmp(mode, "oversize")) {
				len = s_report(buf, sizeof(buf), 1, probe, p99, 0);
				/* a valid message padded with an unknown field to over the limit */
				buf[len++] = 0xfa;      /* field 31, length-delimited */
				buf[len++] = 0x01;
				{
					size_t pad = VS_AGENT_MAX_MSG + 1000;

					buf[len++] = (uint8_t)(0x80 | (pad & 0x7f));
					buf[len++] = (uint8_t)(0x80 | ((pad >> 7) & 0x7f));
					buf[len++] = (uint8_t)(pad >> 14);
					memset(buf + len, 'x', pad);
					len += pad;
				}
			} else if (!strcmp(mode, "conns") || !strcmp(mode, "badconns")) {
				len = s_conns(buf, sizeof(buf), (uint64_t)i + 1, entries, rport,
				    !strcmp(mode, "badconns"));
			} else if (!strcmp(mode, "logs") || !strcmp(mode, "logback")) {
				uint64_t first = !strcmp(mode, "logback") ? 1 :
				    (uint64_t)i * (uint64_t)entries + 1;
				len = s_loglines(buf, sizeof(buf), (uint64_t)i + 1, lspec, lfmt, logidx,
				    first, entries, 0);
			} else if (!strcmp(mode, "logbadspec")) {
				len = s_loglines(buf, sizeof(buf), (uint64_t)i + 1, "no-such-spec",
				    NULL, logidx, (uint64_t)i + 1, 1, 0);
			} else if (!strcmp(mode, "loglong")) {
				len = s_loglines(buf, sizeof(buf), (uint64_t)i + 1, lspec, lfmt, logidx,
				    (uint64_t)i + 1, 1, 'l');
			} else if (!strcmp(mode, "logmany")) {
				len = s_loglines(buf, sizeof(buf), (uint64_t)i + 1, lspec, lfmt, logidx,
				    (uint64_t)i * 1025 + 1, 1025, 0);
			} else if (!strcmp(mode, "logbinary")) {
				len = s_loglines(buf, sizeof(buf), (uint64_t)i + 1, lspec, lfmt, logidx,
				    (uint64_t)i + 1, 2, 'b');
			} else if (!strcmp(mode, "samples")) {
				len = s_samples(buf, sizeof(buf), (uint64_t)i + 1, entries, s_now(), 0);
			} else if (!strcmp(mode, "samplesmany")) {
				len = s_samples(buf, sizeof(buf), (uint64_t)i + 1, 257, s_now(), 0);
			} else if (!strcmp(mode, "samplesname")) {
				len = s_samples(buf, sizeof(buf), (uint64_t)i + 1, 2, s_now(), 'n');
			} else if (!strcmp(mode, "samplesbinary")) {
				len = s_samples(buf, sizeof(buf), (uint64_t)i + 1, 2, s_now(), 'b');
			} else if (!strcmp(mode, "samplesfuture")) {
				len = s_samples(buf, sizeof(buf), (uint64_t)i + 1, 2,
				    s_now() + 86400LL * 1000000000, 0);
			} else if (!strcmp(mode, "samplesback")) {
				len = s_samples(buf, sizeof(buf), (uint64_t)i + 1, entries,
				    s_now() - (int64_t)i * 10 * 1000000000, 0);
			} else if (!strcmp(mode, "malformed")) {
				/* a field header whose length runs past the end of the frame */
				memcpy(buf, "\x08\x01\x5a\xff\xff\x03garbage", 13);
				len = 13;
			} else if (!strcmp(mode, "unknown")) {
				/* version 1, then a length-delimited field 15: a body type that
				 * does not exist in version 1 */
				memcpy(buf, "\x08\x01\x7a\x02\x08\x01", 6);
				len = 6;
			} else {
				fprintf(stderr, "agentsend: unknown mode %s\n", mode);
				rc = 2;
				goto out;
			}
			if (zmq_send(s, buf, len, 0) >= 0)
				sent++;
			if (interval_ms > 0 && i + 1 < n)
				usleep((useconds_t)interval_ms * 1000);
		}
	}
	usleep(200000);         /* let the I/O thread write it out (linger is 0) */
out:
	printf("sent %ld\n", sent);
	zmq_close(s);
	zmq_ctx_term(ctx);
	return rc;
}
