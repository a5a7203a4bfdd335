/*
 * bench/sample-cost: what one vscoped sample costs, against a raw RTM_GETSTATS dump of the
 * same interfaces measured in the same run (these machines are shared and noisy, so every
 * figure that has a target is a ratio or is measured beside its baseline).
 *
 * Setup (SIMULATED Dom0): a private network namespace holding N veth ends named vifD.0 (their
 * peers live in a second namespace playing the guests) and a libvirt test:/// node XML with
 * N domains owning those VIFs. Needs root.
 *
 * Prints one "name: value unit" per line, the headline figure last.
 * usage: sample-cost [-n VIFS] [-i ITERATIONS] [-s SECONDS_FOR_CPU_SHARE]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>

/* the kernel's NLMSG_OK compares the int length with a u32 (clang warns in the macro) */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hv.h"
#include "history.h"
#include "sampler.h"

static int n_vifs = 200, iterations = 2000, share_secs = 10;
static char dir[] = "/tmp/vs-bench-XXXXXX";
static char guest_ns[64];

static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
median_us(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return (double)v[n / 2] / 1000.0;
}

/* The baseline: a plain netlink socket, one RTM_GETSTATS dump, messages walked, nothing
 * else. This is the floor any sampler built on this dump can reach. */
static int raw_fd;
static uint8_t raw_buf[1 << 16];

static int
raw_dump(void)
{
	struct {
		struct nlmsghdr nlh;
		struct if_stats_msg ifsm;
	} req;
	static uint32_t seq;
	int n_links = 0;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = RTM_GETSTATS;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = ++seq;
	req.ifsm.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	if (send(raw_fd, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(raw_fd, raw_buf, sizeof(raw_buf), 0);
		struct nlmsghdr *h;
		int rem = (int)len;

		if (len < 0)
			return -errno;
		for (h = (struct nlmsghdr *)raw_buf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return n_links;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EIO;
			n_links++;
		}
	}
}

static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static double
proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A child that dumps every 10 ms on an absolute schedule, like vscoped's timer. */
static pid_t
s_raw_loop_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		for (;;) {
			t.tv_nsec += 10 * 1000 * 1000;
			if (t.tv_nsec >= 1000000000) {
				t.tv_nsec -= 1000000000;
				t.tv_sec++;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
			raw_dump();
		}
	}
	return pid;
}

static pid_t
s_vscoped_child(const char *exe, const char *uri, const char *ep, const char *pidf)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl(exe, "vscoped", "-f", "-i", "10ms", "-H", uri, "-s", ep, "-p", pidf,
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* CPU share of pid over share_secs after a 3 s warm-up, in % of one core; then kills it. */
static double
s_share_of(pid_t pid, long *rss0_r, long *rss1_r)
{
	double c0, c1;
	int64_t w0, w1;

	if (pid < 0)
		return -1;
	sleep(3);
	c0 = proc_cpu_s(pid);
	if (rss0_r)
		*rss0_r = rss_kib(pid);
	w0 = vs_mono_ns();
	sleep((unsigned)share_secs);
	c1 = proc_cpu_s(pid);
	if (rss1_r)
		*rss1_r = rss_kib(pid);
	w1 = vs_mono_ns();
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (c0 < 0 || c1 < 0)
		return -1;
	return 100.0 * (c1 - c0) / ((double)(w1 - w0) / 1e9);
}

static int
make_topology(const char *xml)
{
	FILE *b, *x;
	char path[256];

	snprintf(guest_ns, sizeof(guest_ns), "vsbench%d", (int)getpid());
	if (sh("ip netns add %s", guest_ns) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/links.batch", dir);
	b = fopen(path, "w");
	x = fopen(xml, "w");
	if (b == NULL || x == NULL)
		return -1;
	fprintf(x, "<node>\n  <!-- SIMULATED Dom0 for bench/sample-cost -->\n");
	for (int d = 1; d <= n_vifs; d++) {
		fprintf(b, "link add vif%d.0 type veth peer name g%d netns %s\n", d, d, guest_ns);
		fprintf(b, "link set vif%d.0 up\n", d);
		fprintf(x, "  <domain type='test'><name>vm%d</name>"
		    "<uuid>6b1e0000-0000-4000-8000-%012d</uuid>"
		    "<memory unit='KiB'>262144</memory><currentMemory unit='KiB'>262144</currentMemory>"
		    "<vcpu>1</vcpu><os><type>hvm</type></os><devices><interface type='ethernet'>"
		    "<mac address='00:16:3e:%02x:%02x:%02x'/><target dev='vif%d.0'/></interface>"
		    "</devices></domain>\n", d, d, (d >> 16) & 0xff, (d >> 8) & 0xff, d & 0xff, d);
	}
	fprintf(x, "</node>\n");
	fclose(b);
	fclose(x);
	if (sh("ip link set lo up && ip -batch %s", path) != 0)
		return -1;
	return sh("for i in $(seq 1 %d); do echo \"link set g$i up\"; done "
	    "| nsenter --net=/run/netns/%s ip -batch -", n_vifs, guest_ns);
}

/* Packet sockets on both ends of every VIF, to make the counters move like real traffic. */
static int *tx_fd, *rx_fd;
static int *tx_if, *rx_if;

static int
open_traffic(void)
{
	char path[128];
	int self_ns = open("/proc/self/ns/net", O_RDONLY), g;

	snprintf(path, sizeof(path), "/run/netns/%s", guest_ns);
	g = open(path, O_RDONLY);
	tx_fd = calloc((size_t)n_vifs, sizeof(int));
	rx_fd = calloc((size_t)n_vifs, sizeof(int));
	tx_if = calloc((size_t)n_vifs, sizeof(int));
	rx_if = calloc((size_t)n_vifs, sizeof(int));
	if (self_ns < 0 || g < 0)
		return -1;
	for (int d = 1; d <= n_vifs; d++) {
		char name[IF_NAMESIZE];

		snprintf(name, sizeof(name), "vif%d.0", d);
		tx_if[d - 1] = (int)if_nametoindex(name);
		tx_fd[d - 1] = socket(AF_PACKET, SOCK_RAW, 0);
	}
	if (setns(g, CLONE_NEWNET) < 0)
		return -1;
	for (int d = 1; d <= n_vifs; d++) {
		char name[IF_NAMESIZE];

		snprintf(name, sizeof(name), "g%d", d);
		rx_if[d - 1] = (int)if_nametoindex(name);
		rx_fd[d - 1] = socket(AF_PACKET, SOCK_RAW, 0);
	}
	setns(self_ns, CLONE_NEWNET);
	close(g);
	close(self_ns);
	return 0;
}

static void
send_frames(int fd, int ifindex, int n, int size)
{
	static uint8_t frame[1514];
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6 };

	memset(frame, 0xff, 12);        /* broadcast, from ff:ff:...: only the counters matter */
	frame[12] = 0x88;
	frame[13] = 0xb5;               /* local experimental ethertype */
	for (int i = 0; i < n; i++)
		sendto(fd, frame, (size_t)size, 0, (struct sockaddr *)&sa, sizeof(sa));
}

int
main(int argc, char **argv)
{
	char xml[256], uri[300], err[256], exe[512], ep[300], pidf[300];
	vs_sampler_config_t sc;
	vs_sampler_t *s;
	vs_hv_t *hv;
	int64_t *raw, *vif, *dom, *host, *full;
	int opt, rc = 1;
	double mean_ratio = 0;

	while ((opt = getopt(argc, argv, "n:i:s:")) != -1) {
		switch (opt) {
		case 'n': n_vifs = atoi(optarg); break;
		case 'i': iterations = atoi(optarg); break;
		case 's': share_secs = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: sample-cost [-n VIFS] [-i ITERATIONS] [-s SECONDS]\n");
			return 2;
		}
	}
	if (n_vifs < 1 || n_vifs > 4000 || iterations < 10 || share_secs < 1) {
		fprintf(stderr, "sample-cost: bad arguments\n");
		return 2;
	}
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "sample-cost: needs root (a private network namespace)\n");
		return 77;
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(xml, sizeof(xml), "%s/node.xml", dir);
	snprintf(uri, sizeof(uri), "libvirt:test://%s", xml);
	if (make_topology(xml) != 0 || open_traffic() != 0) {
		fprintf(stderr, "sample-cost: cannot build the simulated Dom0\n");
		goto out;
	}
	raw_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	/* ---- per-sample CPU, interleaved with the baseline ----
	 * vscoped's defaults at a 10 ms interval: VIF counters every tick, domain counters and
	 * host /proc every 100 ms (every 10th tick). */
	memset(&sc, 0, sizeof(sc));
	sc.interval_ns = 10 * VS_NS_PER_MSEC;
	sc.domain_interval_ns = 100 * VS_NS_PER_MSEC;
	sc.host_interval_ns = 100 * VS_NS_PER_MSEC;
	sc.history_ns = 60 * VS_NS_PER_SEC;
	sc.max_series = 8192;
	sc.host_metrics = 1;
	sc.procdir = "/proc";
	s = vs_sampler_new(&sc, err, sizeof(err));
	hv = vs_hv_new(uri, err, sizeof(err));
	if (s == NULL || hv == NULL || vs_hv_open(hv) < 0 || vs_sampler_set_hv(s, hv) < 0) {
		fprintf(stderr, "sample-cost: %s %s\n", err, hv ? vs_hv_error(hv) : "");
		goto out;
	}
	raw = calloc((size_t)iterations, sizeof(int64_t));
	vif = calloc((size_t)iterations, sizeof(int64_t));
	dom = calloc((size_t)iterations, sizeof(int64_t));
	host = calloc((size_t)iterations, sizeof(int64_t));
	full = calloc((size_t)iterations, sizeof(int64_t));
	{
		int64_t t = vs_now_ns(), sum_raw = 0, sum_full = 0;
		int links = 0, nd = 0, nh = 0;

		for (int k = 0; k < 50; k++) {         /* warm-up */
			raw_dump();
			vs_sampler_tick(s, t += sc.interval_ns);
		}
		for (int k = 0; k < iterations; k++) {
			const vs_sampler_stats_t *st = vs_sampler_stats(s);
			int64_t t0 = vs_thread_cpu_ns();

			links = raw_dump();
			raw[k] = vs_thread_cpu_ns() - t0;
			vs_sampler_tick(s, t += sc.interval_ns);
			vif[k] = st->last_vif_cpu_ns;
			if (st->ticks % 10 == 0) {      /* the ticks that also sampled domains, host */
				dom[nd++] = st->last_dom_cpu_ns;
				host[nh++] = st->last_host_cpu_ns;
			}
			full[k] = st->last_tick_cpu_ns;
			sum_raw += raw[k];
			sum_full += full[k];
		}
		double r = median_us(raw, iterations), v = median_us(vif, iterations);
		double d = median_us(dom, nd), h = median_us(host, nh);

		printf("interfaces_in_dump: %d count\n", links);
		printf("domains: %zu count\n", vs_sampler_graph(s)->n);
		printf("raw_getstats_dump: %.1f us\n", r);
		printf("raw_getstats_per_interface: %.3f us\n", r / links);
		printf("vscoped_vif_sample: %.1f us\n", v);
		printf("vif_sample_ratio_vs_raw_dump: %.2f ratio\n", v / r);
		printf("vscoped_domain_counters_libvirt_test_driver: %.1f us\n", d);
		printf("vscoped_host_proc: %.1f us\n", h);
		printf("every_metric_in_one_tick_ratio_vs_raw_dump: %.2f ratio\n", (v + d + h) / r);
		printf("vscoped_mean_tick_at_10ms: %.1f us\n", (double)sum_full / iterations / 1000.0);
		mean_ratio = (double)sum_full / (double)sum_raw;
		fflush(stdout);
	}
	vs_sampler_destroy(&s);

	/* ---- history: 10 minutes at 100 ms for every metric, with moving counters ---- */
	{
		long rss0, rss1;
		vs_history_stats_t hs;
		int64_t t = vs_now_ns();
		unsigned seed = 12345;
		uint64_t ticks = (uint64_t)(sc.history_ns / sc.interval_ns);

		/* every metric every tick, as the memory figure asks */
		sc.interval_ns = sc.domain_interval_ns = sc.host_interval_ns = 100 * VS_NS_PER_MSEC;
		sc.history_ns = 600 * VS_NS_PER_SEC;
		s = vs_sampler_new(&sc, err, sizeof(err));
		if (s == NULL || vs_sampler_set_hv(s, hv) < 0)
			goto out;
		vs_sampler_tick(s, t);
		rss0 = rss_kib(getpid());
		for (uint64_t k = 0; k < ticks; k++) {
			/* a quarter of the VIFs carry traffic in each tick, of varying size */
			for (int i = 0; i < n_vifs / 4; i++) {
				int d = (int)(rand_r(&seed) % (unsigned)n_vifs);
				send_frames(rx_fd[d], rx_if[d], 1 + (int)(rand_r(&seed) % 8),
				    60 + (int)(rand_r(&seed) % 1400));
				if (rand_r(&seed) & 1)
					send_frames(tx_fd[d], tx_if[d], 1 + (int)(rand_r(&seed) % 4),
					    60 + (int)(rand_r(&seed) % 1400));
			}
			vs_sampler_tick(s, t += sc.interval_ns);
		}
		rss1 = rss_kib(getpid());
		vs_history_stats(vs_sampler_history(s), &hs);
		printf("history_series: %zu count\n", hs.series);
		printf("history_samples: %llu count\n", (unsigned long long)hs.samples);
		printf("history_memory: %.1f MiB\n", (double)hs.memory_bytes / 1048576.0);
		printf("history_bytes_per_sample: %.2f bytes\n",
		    (double)hs.used_bytes / (double)(hs.samples ? hs.samples : 1));
		printf("history_evicted_blocks: %llu count\n", (unsigned long long)hs.evicted_blocks);
		printf("bench_rss_growth_over_10min_of_ticks: %ld KiB\n", rss1 - rss0);
		fflush(stdout);
		vs_sampler_destroy(&s);
	}
	vs_hv_destroy(&hv);

	/* ---- the real daemon at a 10 ms interval: CPU share and resident memory ----
	 * Its baseline is a process doing nothing but the raw dump every 10 ms, measured the
	 * same way just before: at a 10 ms cadence the kernel's per-interface stats are cold in
	 * the cache, and most of the cost of a dump is the kernel's (veth_get_stats64). */
	snprintf(exe, sizeof(exe), "%s/../dom0d/vscoped", dirname(strdup(argv[0])));
	snprintf(ep, sizeof(ep), "ipc://%s/vscoped.sock", dir);
	snprintf(pidf, sizeof(pidf), "%s/vscoped.pid", dir);
	{
		double raw_share, vs_share;
		long r0 = 0, r1 = 0;

		raw_share = s_share_of(s_raw_loop_child(), NULL, NULL);
		vs_share = s_share_of(s_vscoped_child(exe, uri, ep, pidf), &r0, &r1);
		if (raw_share < 0 || vs_share < 0) {
			fprintf(stderr, "sample-cost: vscoped (%s) or the raw loop did not run\n", exe);
			goto out;
		}
		printf("vscoped_rss_at_3s: %ld KiB\n", r0);
		printf("vscoped_rss_growth_over_%ds: %ld KiB\n", share_secs, r1 - r0);
		printf("raw_dump_every_10ms_cpu_share: %.2f %%core\n", raw_share);
		printf("vscoped_cpu_share_at_10ms: %.2f %%core\n", vs_share);
		printf("vscoped_vs_raw_dump_cpu_share_at_10ms: %.2f ratio\n", vs_share / raw_share);
	}
	/* the headline: vscoped's mean CPU per tick at 10 ms against the raw dump's mean */
	printf("sample_cost_ratio: %.2f ratio\n", mean_ratio);
	rc = 0;
out:
	sh("ip netns del %s 2>/dev/null", guest_ns);
	sh("rm -rf %s", dir);
	return rc;
}
