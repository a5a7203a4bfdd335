/*
 * bench/intake: messages per second one guest intake (dom0d/intake.c: the unprivileged child
 * with CURVE, ZAP, per-domain quotas, decoding and validation, and the parent's second check)
 * takes in from 50 agents (50 CURVE DEALERs on tcp://127.0.0.1 in a sender process), with
 * the CPU it costs (getrusage of the parent, and of the child once reaped), against a bare
 * ZeroMQ ROUTER receive loop of the same frames from the same 50 DEALERs (no CURVE, no
 * decoding) in the same run.
 *
 *   bench/intake [-x PATH_TO_VSCOPED] [-n MSGS_PER_AGENT]
 *
 * Prints `name: value unit` lines; the headline intake_rate_ratio (intake / bare) is last.
 * Needs root (the child drops to vscope-intake or nobody).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "agent.pb-c.h"
#include "clock.h"
#include "intake.h"
#include "log.h"

#define AGENTS 50

static char s_pub[AGENTS][VS_Z85_KEY_LEN + 1], s_sec[AGENTS][VS_Z85_KEY_LEN + 1];
static char s_spub[VS_Z85_KEY_LEN + 1], s_ssec[VS_Z85_KEY_LEN + 1];
static uint8_t s_msg[512];
static size_t s_msg_len;

static double
s_cpu(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	    ru.ru_stime.tv_usec / 1e6;
}

/* One Report with one latency summary and one metric: what an agent sends per interval. */
static void
s_make_msg(void)
{
	Vsagent__AgentMsg m = VSAGENT__AGENT_MSG__INIT;
	Vsagent__Report r = VSAGENT__REPORT__INIT;
	Vsagent__Metric x = VSAGENT__METRIC__INIT, *xp = &x;

	m.version = VS_AGENT_VERSION;
	m.seq = 1;
	m.sent_ns = vs_now_ns();
	m.body_case = VSAGENT__AGENT_MSG__BODY_REPORT;
	m.report = &r;
	x.name = "statsd.bench";
	x.value = 1;
	r.n_metric = 1;
	r.metric = &xp;
	s_msg_len = vsagent__agent_msg__pack(&m, s_msg);
}

/* The sender process: AGENTS DEALERs, each sends n frames (round robin). */
static pid_t
s_senders(const char *ep, int curve, long n)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	void *ctx = zmq_ctx_new(), *s[AGENTS];
	int zero = 0;

	zmq_ctx_set(ctx, ZMQ_IO_THREADS, 1);
	for (int i = 0; i < AGENTS; i++) {
		s[i] = zmq_socket(ctx, ZMQ_DEALER);
		if (curve) {
			zmq_setsockopt(s[i], ZMQ_CURVE_SERVERKEY, s_spub, VS_Z85_KEY_LEN + 1);
			zmq_setsockopt(s[i], ZMQ_CURVE_PUBLICKEY, s_pub[i], VS_Z85_KEY_LEN + 1);
			zmq_setsockopt(s[i], ZMQ_CURVE_SECRETKEY, s_sec[i], VS_Z85_KEY_LEN + 1);
		}
		zmq_setsockopt(s[i], ZMQ_LINGER, &zero, sizeof(zero));
		zmq_connect(s[i], ep);
	}
	for (long k = 0; k < n; k++)
		for (int i = 0; i < AGENTS; i++)
			zmq_send(s[i], s_msg, s_msg_len, 0);
	sleep(30);              /* keep the connections until the receiver is done */
	_exit(0);
}

static void
s_reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static long s_got;

static void
s_on_rec(void *arg, const char *domain, const vs_intake_rec_t *r)
{
	(void)arg;
	(void)domain;
	if (r->type == VS_REC_METRIC)
		s_got++;
}

int
main(int argc, char **argv)
{
	const char *exe = "dom0d/vscoped";
	long n = 2000, total;
	int opt;
	double bare_rate, bare_cpu, in_rate, in_cpu_parent, in_cpu_child, t0, c0, cc0;
	char err[512];

	while ((opt = getopt(argc, argv, "x:n:")) != -1) {
		if (opt == 'x')
			exe = optarg;
		else if (opt == 'n')
			n = atol(optarg);
		else
			return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench/intake: needs root (the intake child drops privileges)\n");
		return 1;
	}
	if (access(exe, X_OK) < 0) {
		fprintf(stderr, "bench/intake: %s: %s (run from the build directory or -x)\n", exe,
		    strerror(errno));
		return 1;
	}
	vs_log_open("bench-intake", 0, VS_LOG_WARNING);
	total = n * AGENTS;
	s_make_msg();
	zmq_curve_keypair(s_spub, s_ssec);
	for (int i = 0; i < AGENTS; i++)
		zmq_curve_keypair(s_pub[i], s_sec[i]);

	/* ---- baseline: a bare ROUTER receive loop, no CURVE, no decoding ---- */
	{
		void *ctx = zmq_ctx_new(), *r = zmq_socket(ctx, ZMQ_ROUTER);
		char buf[1024];
		long got = 0;
		pid_t pid;
		double t1 = 0;

		zmq_ctx_set(ctx, ZMQ_IO_THREADS, 1);
		if (zmq_bind(r, "tcp://127.0.0.1:25701") < 0) {
			fprintf(stderr, "bench/intake: bind: %s\n", zmq_strerror(errno));
			return 1;
		}
		pid = s_senders("tcp://127.0.0.1:25701", 0, n);
		c0 = s_cpu(RUSAGE_SELF);
		t0 = 0;
		while (got < total) {
			zmq_pollitem_t it = { r, 0, ZMQ_POLLIN, 0 };

			if (zmq_poll(&it, 1, 5000) <= 0)
				break;
			while (zmq_recv(r, buf, sizeof(buf), ZMQ_DONTWAIT) >= 0) {
				int more = 0;
				size_t ml = sizeof(more);

				zmq_getsockopt(r, ZMQ_RCVMORE, &more, &ml);
				if (more)
					continue;       /* the routing id */
				if (got++ == 0) {
					t0 = vs_mono_ns() / 1e9;
					c0 = s_cpu(RUSAGE_SELF);
				}
			}
		}
		t1 = vs_mono_ns() / 1e9;
		bare_cpu = s_cpu(RUSAGE_SELF) - c0;
		bare_rate = (got - 1) / (t1 - t0);
		s_reap(pid);
		zmq_close(r);
		zmq_ctx_term(ctx);
		printf("bare_msgs: %ld msgs\n", got);
		printf("bare_rate: %.0f msgs/s\n", bare_rate);
		printf("bare_cpu_per_msg: %.2f us\n", bare_cpu / (got ? got : 1) * 1e6);
	}

	/* ---- the intake: CURVE, ZAP, quotas, decoding, privilege separation ---- */
	{
		vs_intake_config_t ic;
		vs_intake_t *in;
		vs_agentkey_t keys[AGENTS];
		pid_t pid;
		double t1 = 0;
		long last = 0;
		int64_t idle_since;

		memset(&ic, 0, sizeof(ic));
		ic.exe = exe;
		snprintf(ic.endpoint, sizeof(ic.endpoint), "tcp://127.0.0.1:25702");
		memcpy(ic.public_key, s_spub, sizeof(s_spub));
		memcpy(ic.secret_key, s_ssec, sizeof(s_ssec));
		snprintf(ic.user, sizeof(ic.user), VS_INTAKE_DEFAULT_USER);
		ic.max_msgs = 1000000;          /* quotas on, but above what one agent sends */
		ic.max_bytes = 1 << 30;
		ic.stats_ms = 1000;
		ic.log_level = VS_LOG_WARNING;
		for (int i = 0; i < AGENTS; i++) {
			snprintf(keys[i].domain, sizeof(keys[i].domain), "vm%d", i + 1);
			memcpy(keys[i].key, s_pub[i], sizeof(keys[i].key));
		}
		cc0 = s_cpu(RUSAGE_CHILDREN);
		in = vs_intake_new(&ic, err, sizeof(err));
		if (in == NULL) {
			fprintf(stderr, "bench/intake: %s\n", err);
			return 1;
		}
		vs_intake_set_keys(in, keys, AGENTS);
		usleep(300000);                 /* the child binds and drops privileges */
		vs_intake_process(in, s_on_rec, NULL);
		s_got = 0;
		pid = s_senders("tcp://127.0.0.1:25702", 1, n);
		c0 = s_cpu(RUSAGE_SELF);
		t0 = 0;
		idle_since = vs_mono_ns();
		while (s_got < total && vs_mono_ns() - idle_since < 5 * VS_NS_PER_SEC) {
			struct timespec ts = { 0, 200000 };
			int fd = vs_intake_fd(in);
			zmq_pollitem_t it = { NULL, fd, ZMQ_POLLIN, 0 };

			if (fd < 0)
				break;
			if (zmq_poll(&it, 1, 100) > 0)
				vs_intake_process(in, s_on_rec, NULL);
			if (getenv("BENCH_TRACE") && s_got / 5000 != last / 5000)
				fprintf(stderr, "%.3f %ld\n", vs_mono_ns() / 1e9, s_got);
			if (s_got > last) {
				if (last == 0) {
					t0 = vs_mono_ns() / 1e9;
					c0 = s_cpu(RUSAGE_SELF);
				}
				last = s_got;
				idle_since = vs_mono_ns();
				t1 = idle_since / 1e9;
			}
			(void)ts;
		}
		in_cpu_parent = s_cpu(RUSAGE_SELF) - c0;
		in_rate = (s_got - 1) / (t1 - t0 > 0 ? t1 - t0 : 1);
		s_reap(pid);
		cc0 = s_cpu(RUSAGE_CHILDREN);   /* the senders are reaped and counted now */
		vs_intake_destroy(&in);
		in_cpu_child = s_cpu(RUSAGE_CHILDREN) - cc0;
		printf("intake_msgs: %ld msgs\n", s_got);
		printf("intake_lost: %ld msgs\n", total - s_got);
		printf("intake_rate: %.0f msgs/s\n", in_rate);
		printf("intake_cpu_child_per_msg: %.2f us\n", in_cpu_child / (s_got ? s_got : 1) * 1e6);
		printf("intake_cpu_parent_per_msg: %.2f us\n",
		    in_cpu_parent / (s_got ? s_got : 1) * 1e6);
	}
	printf("intake_rate_ratio: %.2f x\n", bare_rate > 0 ? in_rate / bare_rate : 0);
	return 0;
}
