/*
 * VIF counters from RTM_GETSTATS against the kernel's own view (ip -s link), and the link
 * cache noticing an interface come and go, on veth pairs in a private network namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "links.h"
#include "tap.h"
#include "vifstat.h"

static char guest_ns[64];

static int
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

struct seen {
	int ifindex;
	uint64_t c[VS_IFC_N];
	int count;
	int total;
};

static void
on_stats(void *arg, int ifindex, const uint64_t c[VS_IFC_N])
{
	struct seen *s = arg;

	s->total++;
	if (ifindex == s->ifindex) {
		memcpy(s->c, c, sizeof(s->c));
		s->count++;
	}
}

static uint64_t
kernel_counter(const char *ifname, const char *field)
{
	char path[256];
	FILE *f;
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, field);
	f = fopen(path, "r");
	if (f == NULL)
		return UINT64_MAX;
	if (fscanf(f, "%llu", &v) != 1)
		v = UINT64_MAX;
	fclose(f);
	return v;
}

static int
wait_change(vs_links_t *l, const char *name, int want_present)
{
	int64_t deadline = vs_mono_ns() + 2 * VS_NS_PER_SEC;

	while (vs_mono_ns() < deadline) {
		struct pollfd p = { vs_links_fd(l), POLLIN, 0 };

		if (poll(&p, 1, 100) > 0)
			{ int prc = vs_links_process(l); if (getenv("VSDBG")) tap_diag("process %d idx %d", prc, vs_links_ifindex(l, name)); }
		if ((vs_links_ifindex(l, name) > 0) == want_present)
			return 1;
	}
	return 0;
}

int
main(void)
{
	vs_vifstat_t *vs;
	vs_links_t *links;
	struct seen s;
	int rc, ifindex;

	if (geteuid() != 0)
		tap_skip_all("needs root for a network namespace");
	if (access("/run/netns", F_OK) != 0 && sh("mkdir -p /run/netns") != 0)
		tap_skip_all("no /run/netns");
	/* a private network namespace plays Dom0, with its own /sys to read counters from */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		tap_skip_all("cannot create a network namespace");
	/* /sys is a mount point everywhere, / is not in a chroot */
	if (sh("mount --make-rslave /sys && mount -t sysfs sysfs /sys") != 0)
		tap_skip_all("cannot mount a private /sys");
	snprintf(guest_ns, sizeof(guest_ns), "vstest%d", (int)getpid());
	if (sh("ip link set lo up && ip link add vif7.0 type veth peer name guest7 && "
	    "ip netns add %s && ip link set guest7 netns %s && "
	    "nsenter --net=/run/netns/%s ip link set guest7 up && "
	    "nsenter --net=/run/netns/%s ip addr add 192.0.2.2/24 dev guest7 && "
	    "ip link set vif7.0 up && ip addr add 192.0.2.1/24 dev vif7.0",
	    guest_ns, guest_ns, guest_ns, guest_ns) != 0) {
		sh("ip netns del %s 2>/dev/null", guest_ns);
		tap_skip_all("cannot create a veth pair (no veth support?)");
	}

	vs = vs_vifstat_new();
	tap_ok(vs != NULL, "RTM_GETSTATS socket opens");
	links = vs_links_new();
	tap_ok(links != NULL, "link cache opens");
	if (vs == NULL || links == NULL)
		return tap_done();
	ifindex = vs_links_ifindex(links, "vif7.0");
	tap_ok(ifindex > 0, "vif7.0 is in the link cache (ifindex %d)", ifindex);

	/* traffic across the pair: what the "guest" sends arrives on vif7.0's rx */
	sh("nsenter --net=/run/netns/%s ping -q -c 20 -i 0.01 -s 1000 192.0.2.1 >/dev/null 2>&1 || true", guest_ns);
	memset(&s, 0, sizeof(s));
	s.ifindex = ifindex;
	rc = vs_vifstat_dump(vs, on_stats, &s);
	TAP_IS_INT(rc, 0, "dump succeeds");
	TAP_IS_INT(s.count, 1, "vif7.0 reported exactly once");
	tap_ok(s.total >= 2, "every interface reported (%d: lo, vif7.0)", s.total);
	TAP_IS_INT(s.c[VS_IFC_RX_BYTES], kernel_counter("vif7.0", "rx_bytes"), "rx bytes as the kernel says");
	TAP_IS_INT(s.c[VS_IFC_TX_BYTES], kernel_counter("vif7.0", "tx_bytes"), "tx bytes as the kernel says");
	TAP_IS_INT(s.c[VS_IFC_RX_PACKETS], kernel_counter("vif7.0", "rx_packets"), "rx packets");
	TAP_IS_INT(s.c[VS_IFC_TX_PACKETS], kernel_counter("vif7.0", "tx_packets"), "tx packets");
	tap_ok(s.c[VS_IFC_RX_BYTES] > 20 * 1000, "the ping traffic is counted (%llu bytes)",
	    (unsigned long long)s.c[VS_IFC_RX_BYTES]);

	/* 50 more interfaces: one dump still reports each once */
	for (int i = 0; i < 50; i++)
		sh("ip link add vif%d.0 type veth peer name g%d", 100 + i, 100 + i);
	memset(&s, 0, sizeof(s));
	s.ifindex = ifindex;
	rc = vs_vifstat_dump(vs, on_stats, &s);
	tap_ok(rc == 0 && s.total >= 102 && s.count == 1, "a dump of %d interfaces (multi-part reply)", s.total);

	/* the link cache sees a VIF vanish and come back with a new ifindex */
	rc = wait_change(links, "vif100.0", 1);
	tap_ok(rc, "new interface vif100.0 noticed through notifications");
	if (sh("ip link del vif7.0") != 0)	/* also removes guest7 in the guest namespace */
		tap_diag("ip link del vif7.0 failed");
	tap_ok(wait_change(links, "vif7.0", 0), "deleted vif7.0 disappears from the cache");
	sh("ip link add vif7.0 type veth peer name guest8");
	tap_ok(wait_change(links, "vif7.0", 1), "re-created vif7.0 reappears");
	tap_ok(vs_links_ifindex(links, "vif7.0") != ifindex, "with a new ifindex");

	vs_vifstat_destroy(&vs);
	vs_vifstat_destroy(&vs);
	vs_links_destroy(&links);
	tap_ok(vs == NULL && links == NULL, "destroy is idempotent");
	sh("ip netns del %s", guest_ns);
	return tap_done();
}
