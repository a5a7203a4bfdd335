/* Collection functions of the metrics in vscoped's history (metricsrc.h). */
#include "metricsrc.h"

#include <stdio.h>
#include <string.h>

#include "graph.h"
#include "vifstat.h"

#define HOST_ENTITY "host"      /* sampler.c's entity of Dom0's own metrics */

static const struct { const char *prefix, *file, *what; } s_proc[] = {
	{ "cpu.", "stat", "cpu lines, jiffies as ms" },
	{ "sched.ctxt", "stat", "ctxt" },
	{ "sched.forks", "stat", "processes" },
	{ "sched.running", "stat", "procs_running" },
	{ "sched.blocked", "stat", "procs_blocked" },
	{ "mem.", "meminfo", "its field" },
	{ "vm.", "vmstat", "its field" },
	{ "disk.", "diskstats", "sectors as bytes, whole disks" },
};

static int
s_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* The domain-level counters: one hypervisor call per tick for every domain. */
static const char *
s_hv_call(const char *hv)
{
	if (hv && !strcmp(hv, "xen"))
		return "xc_domain_getinfolist (libxenctrl), one call for all domains";
	if (hv && !strcmp(hv, "libvirt"))
		return "virConnectGetAllDomainStats, else virDomainGetInfo (libvirt)";
	return "the hypervisor backend's read_counters";
}

void
vs_metricsrc_describe(const char *entity, const char *metric, const char *hv,
    const char *procdir, char *buf, size_t len)
{
	const char *dot;

	for (int i = 0; i < VS_IFC_N; i++)
		if (!strcmp(metric, vs_ifc_metric[i])) {
			snprintf(buf, len, "dom0 sampler: netlink RTM_GETSTATS dump, IFLA_STATS_LINK_64 "
			    "of the host-side VIF (its %s is the guest's %s)", metric + 4,
			    !strncmp(metric + 4, "rx", 2) ? "transmit" : "receive");
			return;
		}
	if (strcmp(entity, HOST_ENTITY)) {
		for (int i = 0; i < VS_DOMM_N; i++)
			if (!strcmp(metric, vs_dom_metric[i])) {
				snprintf(buf, len, "dom0 sampler: hypervisor call %s", s_hv_call(hv));
				return;
			}
	}
	if (s_prefix(metric, "shape.")) {
		snprintf(buf, len, "shaper: tc class statistics of the domain's shaping (netlink), %s",
		    strstr(metric, "to_vm") ? "traffic to the VM" : "traffic from the VM");
		return;
	}
	if (s_prefix(metric, "intake.")) {
		snprintf(buf, len, "guest intake: vscoped's counts of %s agent messages",
		    strcmp(entity, HOST_ENTITY) ? "the domain's" : "all");
		return;
	}
	if (!strcmp(entity, HOST_ENTITY)) {
		if (s_prefix(metric, "tcp.")) {
			snprintf(buf, len, "dom0 sampler: NETLINK_SOCK_DIAG dump of Dom0's TCP sockets");
			return;
		}
		for (size_t i = 0; i < sizeof(s_proc) / sizeof(s_proc[0]); i++)
			if (s_prefix(metric, s_proc[i].prefix)) {
				snprintf(buf, len, "dom0 sampler: %s/%s (%s)", procdir ? procdir : "/proc",
				    s_proc[i].file, s_proc[i].what);
				return;
			}
		snprintf(buf, len, "metric of unknown origin on Dom0");
		return;
	}
	/* everything else of a domain came through the guest intake from its agent */
	if (s_prefix(metric, "app.latency.")) {
		const char *probe = metric + 12;

		dot = strrchr(probe, '.');
		snprintf(buf, len, "guest agent in the domain: latency probe %.*s (Report.latency)",
		    dot ? (int)(dot - probe) : (int)strlen(probe), probe);
	} else if (s_prefix(metric, "jvm.")) {
		const char *pid = metric + 4;

		dot = strchr(pid, '.');
		snprintf(buf, len, "guest agent in the domain: hsperfdata of JVM %.*s "
		    "(hsperfdata_USER/PID)", dot ? (int)(dot - pid) : (int)strlen(pid), pid);
	} else if (s_prefix(metric, "statsd.")) {
		snprintf(buf, len, "guest agent in the domain: StatsD listener (UDP), per report "
		    "interval");
	} else if (s_prefix(metric, "conns.")) {
		snprintf(buf, len, "guest agent in the domain: the guest's TCP table (Conns)");
	} else if (s_prefix(metric, "agent.")) {
		snprintf(buf, len, "guest agent in the domain: the agent's own counters");
	} else {
		snprintf(buf, len, "guest agent in the domain: metric report (Report.metric)");
	}
}
