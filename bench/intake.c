/*
 * bench/intake: messages per second one guest intake (dom0d/intake.c: the unprivileged child
 * with CURVE, ZAP, per-domain quotas, decoding and validation, and the parent's second check)
 * takes in from 50 agents (50 CURVE DEALERs on tcp://127.0.0.1 in a sender process), with
 * the CPU it costs (per thread of the child from /proc, the parent from getrusage), against
 * two bare ZeroMQ ROUTER receive loops of the same frames from the same 50 DEALERs in the
 * same run: a plain one (no CURVE, no decoding: the baseline) and one with CURVE
 * (so the cost of CURVE itself, on both ends, is visible apart from the intake's own).
 *
 *   bench/intake [-x PATH_TO_VSCOPED] [-n MSGS_PER_AGENT] [-r ROUNDS]
 *
 * The three loops run interleaved ROUNDS times (default 3); each figure is the median.
 * The senders run on the same machine, so their CPU (CURVE encryption in the curve loops)
 * is printed too. Prints `name: value unit` lines; the headline intake_rate_ratio (intake /
 * plain bare loop) is last. Needs root (the child drops to vscope-intake or nobody).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
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

typedef struct result {
	double rate;                    /* msgs/s, first to last message received */
	double cpu;                     /* receiver CPU per message, us (bare: the loop) */
	double sender_cpu;              /* the 50 agents' CPU per message, us */
	double child_io, child_main, parent;    /* intake: per message, us */
	long got;
} result_t;

/* CPU seconds of process pid's threads so far: ZeroMQ's I/O threads, and the others. */
static void
s_task_cpu(pid_t pid, double *io_r, double *main_r)
{
	char path[96], line[1024];
	long hz = sysconf(_SC_CLK_TCK);

	DIR *dir;
	struct dirent *de;

	*io_r = *main_r = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		FILE *f;
		char *p;
		unsigned long ut = 0, st = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/stat", (int)pid, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
		    &st) == 2) {
			double s = (double)(ut + st) / (double)hz;

			if (strstr(line, "(ZMQbg/IO/"))
				*io_r += s;
			else
				*main_r += s;
		}
		fclose(f);
	}
	closedir(dir);
}

static void
s_on_rec(void *arg, const char *domain, const vs_intake_rec_t *r)
{
	(void)arg;
	(void)domain;
	if (r->type == VS_REC_METRIC)
		s_got++;
}

/* A bare ROUTER receive loop of the same frames from the same 50 DEALERs: no decoding, no
 * quotas, no second process; with curve, the same CURVE server setup as the intake (its key,
 * its I/O threads and HWM, no ZAP handler), so the difference to the plain loop is what
 * CURVE itself costs. */
static int
s_bare(long n, int curve, const char *ep, result_t *res)
{
	void *ctx = zmq_ctx_new(), *r;
	char buf[1024];
	long got = 0, total = n * AGENTS;
	pid_t pid;
	double t0 = 0, t1 = 0, c0, cpu, cc0;
	int one = 1, hwm = VS_INTAKE_RCVHWM;

	zmq_ctx_set(ctx, ZMQ_IO_THREADS, VS_INTAKE_IO_THREADS);
	r = zmq_socket(ctx, ZMQ_ROUTER);
	zmq_setsockopt(r, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	if (curve) {
		zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof(one));
		zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, s_ssec, VS_Z85_KEY_LEN + 1);
	}
	if (zmq_bind(r, ep) < 0) {
		fprintf(stderr, "bench/intake: bind %s: %s\n", ep, zmq_strerror(errno));
		return -1;
	}
	cc0 = s_cpu(RUSAGE_CHILDREN);
	pid = s_senders(ep, curve, n);
	c0 = s_cpu(RUSAGE_SELF);
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
	cpu = s_cpu(RUSAGE_SELF) - c0;
	s_reap(pid);
	zmq_close(r);
	zmq_ctx_term(ctx);
	memset(res, 0, sizeof(*res));
	res->got = got;
	res->rate = got > 1 && t1 > t0 ? (got - 1) / (t1 - t0) : 0;
	res->cpu = cpu / (got ? got : 1) * 1e6;
	res->sender_cpu = (s_cpu(RUSAGE_CHILDREN) - cc0) / (got ? got : 1) * 1e6;
	if (got < total)
		fprintf(stderr, "bench/intake: bare loop: only %ld of %ld messages\n", got, total);
	return got == total ? 0 : -1;
}

/* The intake: CURVE, ZAP, quotas, decoding, privilege separation, the parent's checks. */
static int
s_intake(const char *exe, long n, result_t *res)
{
	vs_intake_config_t ic;
	vs_intake_t *in;
	vs_agentkey_t keys[AGENTS];
	pid_t pid;
	double t0 = 0, t1 = 0, c0, cc0, cpu_parent, cpu_io, cpu_main, sender;
	long last = 0, total = n * AGENTS;
	int64_t idle_since;
	char err[512];

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
	in = vs_intake_new(&ic, err, sizeof(err));
	if (in == NULL) {
		fprintf(stderr, "bench/intake: %s\n", err);
		return -1;
	}
	vs_intake_set_keys(in, keys, AGENTS);
	usleep(300000);                 /* the child binds and drops privileges */
	vs_intake_process(in, s_on_rec, NULL);
	s_got = 0;
	cc0 = s_cpu(RUSAGE_CHILDREN);
	pid = s_senders("tcp://127.0.0.1:25702", 1, n);
	c0 = s_cpu(RUSAGE_SELF);
	idle_since = vs_mono_ns();
	while (s_got < total && vs_mono_ns() - idle_since < 5 * VS_NS_PER_SEC) {
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
	}
	cpu_parent = s_cpu(RUSAGE_SELF) - c0;
	s_task_cpu(vs_intake_pid(in), &cpu_io, &cpu_main);
	s_reap(pid);
	sender = s_cpu(RUSAGE_CHILDREN) - cc0;
	vs_intake_destroy(&in);
	memset(res, 0, sizeof(*res));
	res->got = s_got;
	res->rate = s_got > 1 && t1 > t0 ? (s_got - 1) / (t1 - t0) : 0;
	res->child_io = cpu_io / (s_got ? s_got : 1) * 1e6;
	res->child_main = cpu_main / (s_got ? s_got : 1) * 1e6;
	res->parent = cpu_parent / (s_got ? s_got : 1) * 1e6;
	res->cpu = res->child_io + res->child_main + res->parent;
	res->sender_cpu = sender / (s_got ? s_got : 1) * 1e6;
	if (s_got < total)
		fprintf(stderr, "bench/intake: intake: %ld of %ld messages lost\n", total - s_got,
		    total);
	return 0;
}

static int
s_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAX_ROUNDS 15
/* The median over the rounds of one field of the results. */
static double
s_median(const result_t *r, int rounds, size_t off)
{
	double v[MAX_ROUNDS];

	for (int i = 0; i < rounds; i++)
		v[i] = *(const double *)((const char *)&r[i] + off);
	qsort(v, (size_t)rounds, sizeof(v[0]), s_cmp);
	return rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
}
#define MED(r, f) s_median(r, rounds, offsetof(result_t, f))

int
main(int argc, char **argv)
{
	const char *exe = "dom0d/vscoped";
	long n = 2000, lost = 0;
	int opt, rounds = 3;
	result_t bare[MAX_ROUNDS], curve[MAX_ROUNDS], in[MAX_ROUNDS];
	double br, cr, ir;

	while ((opt = getopt(argc, argv, "x:n:r:")) != -1) {
		if (opt == 'x')
			exe = optarg;
		else if (opt == 'n')
			n = atol(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else
			return 2;
	}
	if (n < 10 || n > 1000000 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench/intake [-x VSCOPED] [-n 10..1000000 MSGS_PER_AGENT] "
		    "[-r 1..%d ROUNDS]\n", MAX_ROUNDS);
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
	s_make_msg();
	zmq_curve_keypair(s_spub, s_ssec);
	for (int i = 0; i < AGENTS; i++)
		zmq_curve_keypair(s_pub[i], s_sec[i]);

	/* interleaved rounds, medians: the machine is shared, one round is easily disturbed */
	for (int k = 0; k < rounds; k++) {
		if (s_bare(n, 0, "tcp://127.0.0.1:25701", &bare[k]) < 0 ||
		    s_bare(n, 1, "tcp://127.0.0.1:25703", &curve[k]) < 0 ||
		    s_intake(exe, n, &in[k]) < 0)
			return 1;
		lost += n * AGENTS - in[k].got;
	}
	br = MED(bare, rate);
	cr = MED(curve, rate);
	ir = MED(in, rate);
	printf("agents: %d\n", AGENTS);
	printf("msgs_per_round: %ld msgs\n", n * AGENTS);
	printf("rounds: %d\n", rounds);
	printf("msg_size: %zu bytes\n", s_msg_len);
	printf("io_threads: %d\n", VS_INTAKE_IO_THREADS);
	printf("bare_rate: %.0f msgs/s\n", br);
	printf("bare_cpu_per_msg: %.2f us\n", MED(bare, cpu));
	printf("bare_sender_cpu_per_msg: %.2f us\n", MED(bare, sender_cpu));
	printf("bare_curve_rate: %.0f msgs/s\n", cr);
	printf("bare_curve_cpu_per_msg: %.2f us\n", MED(curve, cpu));
	printf("bare_curve_sender_cpu_per_msg: %.2f us\n", MED(curve, sender_cpu));
	printf("intake_lost: %ld msgs\n", lost);
	printf("intake_rate: %.0f msgs/s\n", ir);
	printf("intake_cpu_child_io_threads_per_msg: %.2f us\n", MED(in, child_io));
	printf("intake_cpu_child_main_thread_per_msg: %.2f us\n", MED(in, child_main));
	printf("intake_cpu_parent_per_msg: %.2f us\n", MED(in, parent));
	printf("intake_cpu_per_msg: %.2f us\n", MED(in, cpu));
	printf("intake_sender_cpu_per_msg: %.2f us\n", MED(in, sender_cpu));
	printf("curve_cost_ratio: %.2f x\n", br > 0 ? cr / br : 0);
	printf("intake_vs_bare_curve_ratio: %.2f x\n", cr > 0 ? ir / cr : 0);
	printf("intake_rate_ratio: %.2f x\n", br > 0 ? ir / br : 0);
	return 0;
}
