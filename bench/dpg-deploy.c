/*
 * bench/dpg-deploy: VScope §3.2 / Fig. 5a -- how long an H DPG takes from `create` to every
 * VNode confirmed running, and what an idle VNode costs in resident memory.
 *
 * It starts one vmasterd and HOSTS (default 20) vscoped processes on this machine, plus one
 * more vscoped that holds no VNode (the control: its RSS drift over the same seconds is
 * subtracted), all on ipc:// endpoints in a temporary directory, each vscoped on libvirt's
 * test:///default driver (one simulated domain; the leaves' VIF counters are not what is
 * measured here) sampling once a second. Then, for H DPGs of 125, 250, 500, 1000 and 10,000
 * leaves (one leaf VNode per simulated VM, spread evenly over the hosts) with height 2 and
 * branching factors 25 and 125, it times, as a console sees it, one `create H NODES bf=B
 * height=2 start` (create and start are one command) until `list DPG brief` says every host
 * confirmed its VNodes in force (`confirmed`, `in-force N/N refused 0`), the fastest of
 * REPEATS runs, each DPG destroyed before the next.
 *
 * Baselines measured in the same run: the mean of plain ZeroMQ request/reply round trips
 * (an InventoryReq on each vscoped's control endpoint, round-robin over the hosts) -- a
 * deploy is compared with as many round trips as it has VNodes, what one message per VNode
 * would cost at best -- and the deploy of an H DPG of one leaf (the fixed cost).
 * Memory: the sum of the vscoped processes' VmRSS (/proc/PID/status) before and after the
 * 10,000-leaf DPG (bf 125) is deployed and has run a period, less the control's drift times
 * HOSTS, divided by the DPG's VNodes (leaves, parents and root).
 *
 * Prints one "name: value unit" per line ('#' lines are comments), the targets
 * next to the measured values, the headline (the 10,000-leaf deploy time) last.
 * usage: dpg-deploy [-x BUILDDIR] [-n HOSTS] [-r REPEATS] [-m MAX_LEAVES]
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "dpgwire.h"
#include "wire.h"

#define MAX_HOSTS  64
#define MAX_REPEAT 9
#define RTT_N      2000

static char s_dir[] = "/tmp/dpg-deploy.XXXXXX";
static int s_have_dir;
static pid_t s_pids[MAX_HOSTS + 2];     /* vmasterd, the hosts, the control host */
static int s_npids;
static void *s_ctx, *s_master;
static char s_mep[128];

static double
s_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
s_sleep_ms(double ms)
{
	struct timespec ts = { (time_t)(ms / 1e3), (long)((ms - (double)(long)(ms / 1e3) * 1e3) * 1e6) };

	nanosleep(&ts, NULL);
}

static void
s_cleanup(void)
{
	char cmd[128];

	for (int i = s_npids - 1; i >= 0; i--)
		if (s_pids[i] > 0)
			kill(s_pids[i], SIGTERM);
	for (int i = s_npids - 1; i >= 0; i--)
		if (s_pids[i] > 0)
			waitpid(s_pids[i], NULL, 0);
	s_npids = 0;
	if (s_have_dir && !getenv("DPG_DEPLOY_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "dpg-deploy: could not remove %s\n", s_dir);
	}
}

static void
s_on_signal(int sig)
{
	for (int i = 0; i < s_npids; i++)
		if (s_pids[i] > 0)
			kill(s_pids[i], SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static pid_t
s_spawn(const char *log, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		FILE *f = fopen(log, "w");

		prctl(PR_SET_PDEATHSIG, SIGTERM);       /* no orphans if the bench dies */
		if (f) {
			dup2(fileno(f), 1);
			dup2(fileno(f), 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		s_pids[s_npids++] = pid;
	return pid;
}

/* One console command to vmasterd; the answer's text in *text_r (malloc'd). 0 or -errno. */
static int
s_cmd(char **text_r, const char *verb, ...)
{
	Vsdpg__Msg m = VSDPG__MSG__INIT, *rep = NULL;
	Vsdpg__Command c = VSDPG__COMMAND__INIT;
	char *args[VS_DPG_MAX_ARGS], err[256];
	va_list ap;
	size_t len;
	void *buf;
	zmq_msg_t r;
	zmq_pollitem_t it = { s_master, 0, ZMQ_POLLIN, 0 };
	int rc = -EIO;

	*text_r = NULL;
	va_start(ap, verb);
	for (c.n_args = 0; c.n_args < VS_DPG_MAX_ARGS; c.n_args++)
		if (!(args[c.n_args] = va_arg(ap, char *)))
			break;
	va_end(ap);
	c.verb = (char *)verb;
	c.args = args;
	m.body_case = VSDPG__MSG__BODY_COMMAND;
	m.command = &c;
	if (!(buf = vs_dpgwire_pack(&m, &len)))
		return -ENOMEM;
	if (zmq_send(s_master, buf, len, 0) < 0) {
		free(buf);
		return -errno;
	}
	free(buf);
	if (zmq_poll(&it, 1, 10000) <= 0) {
		fprintf(stderr, "dpg-deploy: vmasterd did not answer %s in 10 s\n", verb);
		return -ETIMEDOUT;
	}
	zmq_msg_init(&r);
	if (zmq_msg_recv(&r, s_master, 0) >= 0)
		rep = vs_dpgwire_decode(zmq_msg_data(&r), zmq_msg_size(&r), err, sizeof(err));
	zmq_msg_close(&r);
	if (rep && rep->body_case == VSDPG__MSG__BODY_ANSWER) {
		if (rep->answer->status != 0) {
			fprintf(stderr, "dpg-deploy: %s: %s\n", verb, rep->answer->error);
			rc = rep->answer->status;
		} else {
			*text_r = strdup(rep->answer->text);
			rc = *text_r ? 0 : -ENOMEM;
		}
	}
	if (rep)
		vsdpg__msg__free_unpacked(rep, NULL);
	return rc;
}

static long
s_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* ---- the baseline: plain request/reply round trips to the vscoped processes ----------- */

static int
s_rtt(int hosts, int n, double *mean_us_r)
{
	void *s[MAX_HOSTS];
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__InventoryReq inv = VSCTL__INVENTORY_REQ__INIT;
	size_t len;
	void *buf;
	int linger = 0, rc = 0;
	double t0 = 0;

	req.version = VS_CTL_VERSION;
	req.body_case = VSCTL__REQUEST__BODY_INVENTORY;
	req.inventory = &inv;
	if (!(buf = vs_wire_pack(&req.base, &len)))
		return -ENOMEM;
	for (int h = 0; h < hosts; h++) {
		char ep[128];

		snprintf(ep, sizeof(ep), "ipc://%s/h%02d.sock", s_dir, h + 1);
		s[h] = zmq_socket(s_ctx, ZMQ_DEALER);
		zmq_setsockopt(s[h], ZMQ_LINGER, &linger, sizeof(linger));
		zmq_connect(s[h], ep);
	}
	/* connect and warm every pair up first */
	for (int k = -hosts; k < n && rc == 0; k++) {
		void *sock = s[(k + hosts) % hosts];
		zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
		zmq_msg_t r;
		char err[128];
		Vsctl__Reply *rep;

		if (k == 0)
			t0 = s_now_ms();
		if (zmq_send(sock, buf, len, 0) < 0 || zmq_poll(&it, 1, 5000) <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		zmq_msg_init(&r);
		zmq_msg_recv(&r, sock, 0);
		rep = vs_wire_reply_decode(zmq_msg_data(&r), zmq_msg_size(&r), err, sizeof(err));
		zmq_msg_close(&r);
		if (!rep || rep->status != 0 || rep->body_case != VSCTL__REPLY__BODY_INVENTORY)
			rc = -EBADMSG;
		if (rep)
			vsctl__reply__free_unpacked(rep, NULL);
	}
	if (rc == 0)
		*mean_us_r = (s_now_ms() - t0) * 1e3 / n;
	for (int h = 0; h < hosts; h++)
		zmq_close(s[h]);
	free(buf);
	return rc;
}

/* ---- one deploy ------------------------------------------------------------------------ */

typedef struct {
	double ms;              /* create sent -> every host's confirmation seen */
	double runtime_ms;      /* vmasterd's own figure: Deploys sent -> last Deployed */
	unsigned long id, vnodes;
} deploy_t;

/* create + start an H DPG over nodes, poll until confirmed. keep: leave it deployed. */
static int
s_deploy(const char *nodes, unsigned bf, int keep, deploy_t *d)
{
	char bfs[32], id[32], *text = NULL, *p;
	double t0, deadline;
	unsigned long ok = 0, sent = 0, refused = 0;
	int rc;

	snprintf(bfs, sizeof(bfs), "bf=%u", bf);
	t0 = s_now_ms();
	rc = s_cmd(&text, "create", "H", nodes, bfs, "height=2", "start", (char *)NULL);
	if (rc < 0)
		return rc;
	if (sscanf(text, "dpg %lu created: H over %*u nodes, %lu VNodes", &d->id,
	    &d->vnodes) != 2) {
		fprintf(stderr, "dpg-deploy: unexpected answer to create: %s", text);
		free(text);
		return -EPROTO;
	}
	free(text);
	snprintf(id, sizeof(id), "%lu", d->id);
	deadline = t0 + 30000;
	for (;;) {
		if ((rc = s_cmd(&text, "list", id, "brief", (char *)NULL)) < 0)
			return rc;
		if ((p = strstr(text, " confirmed ")))
			break;
		free(text);
		if (s_now_ms() > deadline) {
			fprintf(stderr, "dpg-deploy: DPG %s not confirmed in 30 s\n", id);
			return -ETIMEDOUT;
		}
		s_sleep_ms(0.2);
	}
	d->ms = s_now_ms() - t0;
	if (sscanf(p, " confirmed %lf ms in-force %lu/%lu refused %lu", &d->runtime_ms, &ok,
	    &sent, &refused) != 4 || ok != sent || sent != d->vnodes || refused) {
		fprintf(stderr, "dpg-deploy: DPG %s: not every VNode in force: %s", id, text);
		free(text);
		return -EPROTO;
	}
	free(text);
	if (!keep) {
		if ((rc = s_cmd(&text, "destroy", id, (char *)NULL)) < 0)
			return rc;
		free(text);
	}
	return 0;
}

/* "h01*a,h02*b,...": leaves leaves spread evenly over hosts. */
static void
s_nodes(char *buf, size_t len, int hosts, unsigned leaves)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int h = 0; h < hosts; h++) {
		unsigned n = leaves / hosts + ((unsigned)h < leaves % hosts);

		if (n)
			at += (size_t)snprintf(buf + at, len - at, "%sh%02d*%u", at ? "," : "",
			    h + 1, n);
	}
}

static int
s_best(const char *nodes, unsigned bf, int repeats, deploy_t *best)
{
	deploy_t d;
	int rc;

	best->ms = -1;
	for (int k = 0; k < repeats; k++) {
		if ((rc = s_deploy(nodes, bf, 0, &d)) < 0)
			return rc;
		if (best->ms < 0 || d.ms < best->ms)
			*best = d;
	}
	return 0;
}

static int
s_hosts_up(int want)
{
	char *text = NULL;
	int up = 0;

	if (s_cmd(&text, "hosts", (char *)NULL) < 0)
		return 0;
	for (char *p = text; (p = strstr(p, " up seen ")); p++)
		up++;
	free(text);
	return up >= want;
}

int
main(int argc, char **argv)
{
	static const unsigned sizes[] = { 125, 250, 500, 1000, 10000 };
	static const unsigned bfs[] = { 25, 125 };
	const char *bdir = ".";
	char vscoped[512], vmasterd[512], path[600], nodes[VS_DPG_MAX_ARG];
	int hosts = 20, repeats = 3, opt, linger = 0, rc = 1;
	unsigned max_leaves = 10000;
	long rss0[MAX_HOSTS + 1], rss1[MAX_HOSTS + 1], mrss0, mrss1;
	double rtt_us = 0, t, empty_ms;
	deploy_t d, empty, big, res[2][5];

	while ((opt = getopt(argc, argv, "x:n:r:m:")) != -1) {
		if (opt == 'x')
			bdir = optarg;
		else if (opt == 'n')
			hosts = atoi(optarg);
		else if (opt == 'r')
			repeats = atoi(optarg);
		else if (opt == 'm')
			max_leaves = (unsigned)atoi(optarg);
		else
			goto usage;
	}
	if (optind < argc || hosts < 1 || hosts > MAX_HOSTS || repeats < 1 ||
	    repeats > MAX_REPEAT || max_leaves < 125 || max_leaves > 100000)
		goto usage;
	snprintf(vscoped, sizeof(vscoped), "%s/dom0d/vscoped", bdir);
	snprintf(vmasterd, sizeof(vmasterd), "%s/master/vmasterd", bdir);
	if (access(vscoped, X_OK) < 0 || access(vmasterd, X_OK) < 0) {
		fprintf(stderr, "dpg-deploy: %s or %s: %s (run from the build directory or -x)\n",
		    vscoped, vmasterd, strerror(errno));
		return 1;
	}
	if (!mkdtemp(s_dir)) {
		perror("dpg-deploy: mkdtemp");
		return 1;
	}
	s_have_dir = 1;
	atexit(s_cleanup);
	signal(SIGINT, s_on_signal);
	signal(SIGTERM, s_on_signal);
	snprintf(s_mep, sizeof(s_mep), "ipc://%s/vmasterd.sock", s_dir);

	/* ---- the testbed: vmasterd, HOSTS vscoped and the control vscoped ---- */
	snprintf(path, sizeof(path), "%s/vmasterd.log", s_dir);
	if (s_spawn(path, (char *[]){ vmasterd, "-s", s_mep, NULL }) < 0)
		return 1;
	for (int h = 0; h <= hosts; h++) {
		char name[16], ctl[160], pid[160], shp[160];

		if (h < hosts)
			snprintf(name, sizeof(name), "h%02d", h + 1);
		else
			snprintf(name, sizeof(name), "control");
		snprintf(ctl, sizeof(ctl), "ipc://%s/%s.sock", s_dir, name);
		snprintf(pid, sizeof(pid), "%s/%s.pid", s_dir, name);
		snprintf(shp, sizeof(shp), "%s/shaping-%s", s_dir, name);
		snprintf(path, sizeof(path), "%s/%s.log", s_dir, name);
		if (s_spawn(path, (char *[]){ vscoped, "-f", "--stderr", "-c", "/dev/null",
		    "-H", "libvirt:test:///default", "-i", "1s", "-s", ctl, "-p", pid,
		    "--shaping-dir", shp, "-m", s_mep, "--host-name", name, NULL }) < 0)
			return 1;
	}
	s_ctx = zmq_ctx_new();
	s_master = zmq_socket(s_ctx, ZMQ_DEALER);
	zmq_setsockopt(s_master, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_connect(s_master, s_mep);
	for (t = s_now_ms(); !s_hosts_up(hosts + 1); s_sleep_ms(100)) {
		if (s_now_ms() - t > 20000) {
			fprintf(stderr, "dpg-deploy: the %d vscoped did not all register in 20 s "
			    "(logs in %s; DPG_DEPLOY_KEEP=1 keeps them)\n", hosts + 1, s_dir);
			goto out;
		}
	}
	s_sleep_ms(1500);       /* start-up allocations settle */

	printf("# %d vscoped (+1 control) and one vmasterd on ipc://, libvirt test:///default, "
	    "sampling every 1 s\n", hosts);
	printf("# N = leaves (one per simulated VM); the DPG has N leaves + parents + root\n");
	printf("# bf 25, height 2: every fan-out <= 25 holds at most 625 leaves, so 1000 and "
	    "10000 are built by the runtime's height-2 rule (parents of 25, one root over all "
	    "of them: 40 and 400 inputs)\n");
	printf("# bf 125: 125 leaves make height 1 (one parent is the root); 250..10000 are "
	    "height 2 with a root of 2..80 inputs\n");
	printf("hosts: %d processes\n", hosts);
	printf("repeats: %d runs per figure (fastest kept)\n", repeats);

	/* ---- baselines ---- */
	if (s_rtt(hosts, RTT_N, &rtt_us) < 0) {
		fprintf(stderr, "dpg-deploy: round trips to the vscoped control endpoints failed\n");
		goto out;
	}
	printf("zmq_round_trip: %.1f us\n", rtt_us);
	s_nodes(nodes, sizeof(nodes), 1, 1);
	if (s_best(nodes, 25, repeats, &empty) < 0)
		goto out;
	empty_ms = empty.ms;
	printf("deploy_1_leaf: %.3f ms\n", empty_ms);

	/* ---- memory: the largest DPG, kept deployed for a period ---- */
	for (int h = 0; h <= hosts; h++)
		rss0[h] = s_rss_kib(s_pids[1 + h]);
	mrss0 = s_rss_kib(s_pids[0]);
	s_nodes(nodes, sizeof(nodes), hosts, max_leaves);
	if (s_deploy(nodes, 125, 1, &big) < 0)
		goto out;
	s_sleep_ms(1200);       /* a period: every leaf reported, every parent merged */
	for (int h = 0; h <= hosts; h++)
		rss1[h] = s_rss_kib(s_pids[1 + h]);
	mrss1 = s_rss_kib(s_pids[0]);
	{
		char id[32], *text = NULL;
		long sum = 0, before = 0, drift = rss1[hosts] - rss0[hosts];
		double per;

		for (int h = 0; h < hosts; h++) {
			sum += rss1[h] - rss0[h];
			before += rss0[h];
		}
		per = (double)(sum - drift * hosts) * 1024.0 / (double)big.vnodes;
		printf("first_deploy_%u_bf125: %.3f ms\n", max_leaves, big.ms);
		printf("rss_vscoped_before: %ld KiB\n", before);
		printf("rss_vscoped_growth: %ld KiB\n", sum);
		printf("rss_control_drift: %ld KiB\n", drift);
		printf("rss_vmasterd_growth: %ld KiB\n", mrss1 - mrss0);
		printf("vnodes_measured: %lu vnodes\n", big.vnodes);
		printf("rss_per_idle_vnode: %.0f bytes\n", per);
		printf("target_rss_per_idle_vnode: %d bytes\n", 64 * 1024);
		printf("rss_per_idle_vnode_vs_target: %.4f x\n", per / (64 * 1024));
		snprintf(id, sizeof(id), "%lu", big.id);
		if (s_cmd(&text, "destroy", id, (char *)NULL) < 0)
			goto out;
		free(text);
	}

	/* ---- deploy time per size and branching factor ---- */
	for (size_t b = 0; b < 2; b++) {
		for (size_t i = 0; i < 5; i++) {
			if (sizes[i] > max_leaves) {
				res[b][i].ms = -1;
				continue;
			}
			s_nodes(nodes, sizeof(nodes), hosts, sizes[i]);
			if (s_best(nodes, bfs[b], repeats, &d) < 0)
				goto out;
			res[b][i] = d;
			printf("deploy_%u_bf%u: %.3f ms\n", sizes[i], bfs[b], d.ms);
			printf("deploy_%u_bf%u_vnodes: %lu vnodes\n", sizes[i], bfs[b], d.vnodes);
			printf("deploy_%u_bf%u_runtime: %.3f ms\n", sizes[i], bfs[b], d.runtime_ms);
			printf("deploy_%u_bf%u_vs_round_trips: %.4f x\n", sizes[i], bfs[b],
			    d.ms / ((double)d.vnodes * rtt_us / 1e3));
			printf("deploy_%u_bf%u_vs_1_leaf: %.2f x\n", sizes[i], bfs[b],
			    d.ms / empty_ms);
			if (sizes[i] == 1000)
				printf("target_deploy_1000: 500 ms\n");
			if (sizes[i] == 10000)
				printf("target_deploy_10000: 5000 ms\n");
		}
	}
	if (max_leaves >= 10000 && res[1][4].ms >= 0) {
		printf("deploy_10000_bf125_vs_target: %.4f x\n", res[1][4].ms / 5000.0);
		printf("deploy_10000_bf125: %.3f ms\n", res[1][4].ms);
	}
	rc = 0;
out:
	if (s_master)
		zmq_close(s_master);
	if (s_ctx)
		zmq_ctx_term(s_ctx);
	return rc;
usage:
	fprintf(stderr, "usage: dpg-deploy [-x BUILDDIR] [-n 1..%d HOSTS] [-r 1..%d REPEATS] "
	    "[-m 125..100000 MAX_LEAVES]\n", MAX_HOSTS, MAX_REPEAT);
	return 2;
}
