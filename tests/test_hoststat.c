/* /proc parsers against a fixed /proc copy (tests/data/proc), then against the real one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hoststat.h"
#include "tap.h"

#define MAXM 256
struct got {
	int n;
	struct { int slot; char metric[64]; char unit[16]; vs_kind_t kind; int64_t v; } m[MAXM];
};

static void
on_metric(void *arg, int slot, const char *metric, const char *unit, vs_kind_t kind, int64_t v)
{
	struct got *g = arg;

	if (g->n == MAXM)
		return;
	g->m[g->n].slot = slot;
	snprintf(g->m[g->n].metric, 64, "%s", metric);
	snprintf(g->m[g->n].unit, 16, "%s", unit);
	g->m[g->n].kind = kind;
	g->m[g->n].v = v;
	g->n++;
}

static int
find(const struct got *g, const char *metric, int64_t *v, vs_kind_t *kind, int *slot)
{
	for (int i = 0; i < g->n; i++)
		if (!strcmp(g->m[i].metric, metric)) {
			*v = g->m[i].v;
			if (kind)
				*kind = g->m[i].kind;
			if (slot)
				*slot = g->m[i].slot;
			return 1;
		}
	return 0;
}

static void
expect(const struct got *g, const char *metric, int64_t want, vs_kind_t kind)
{
	int64_t v = -1;
	vs_kind_t k = 99;

	tap_ok(find(g, metric, &v, &k, NULL) && v == want && k == kind, "%s = %lld (got %lld)",
	    metric, (long long)want, (long long)v);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char dir[512];
	vs_hoststat_t *h;
	struct got g, g2;
	long hz = sysconf(_SC_CLK_TCK);
	int64_t v;

	snprintf(dir, sizeof(dir), "%s/tests/data/proc", top ? top : ".");
	h = vs_hoststat_new(dir);
	if (h == NULL)
		tap_skip_all("tests/data/proc not found (set top_srcdir)");
	memset(&g, 0, sizeof(g));
	tap_ok(vs_hoststat_read(h, on_metric, &g) == 0, "reads the fixed /proc");
	expect(&g, "cpu.all.user", 1000 * 1000 / hz, VS_KIND_COUNTER);
	expect(&g, "cpu.all.idle", 40000 * 1000 / hz, VS_KIND_COUNTER);
	expect(&g, "cpu.1.softirq", 3 * 1000 / hz, VS_KIND_COUNTER);
	expect(&g, "cpu.0.steal", 4 * 1000 / hz, VS_KIND_COUNTER);
	expect(&g, "sched.ctxt", 987654, VS_KIND_COUNTER);
	expect(&g, "sched.forks", 4242, VS_KIND_COUNTER);
	expect(&g, "sched.running", 3, VS_KIND_GAUGE);
	expect(&g, "sched.blocked", 1, VS_KIND_GAUGE);
	expect(&g, "mem.total", 24000000, VS_KIND_GAUGE);
	expect(&g, "mem.dirty", 1234, VS_KIND_GAUGE);
	expect(&g, "mem.writeback", 56, VS_KIND_GAUGE);
	expect(&g, "mem.cached", 1500000, VS_KIND_GAUGE);
	expect(&g, "vm.pgpgin", 1111, VS_KIND_COUNTER);
	expect(&g, "vm.pswpout", 4, VS_KIND_COUNTER);
	expect(&g, "vm.pgmajfault", 66, VS_KIND_COUNTER);
	expect(&g, "disk.vda.rd_ios", 100, VS_KIND_COUNTER);
	expect(&g, "disk.vda.wr_bytes", 4000 * 512, VS_KIND_COUNTER);
	expect(&g, "disk.vda.io_ms", 120, VS_KIND_COUNTER);
	tap_ok(!find(&g, "disk.loop0.rd_ios", &v, NULL, NULL), "loop devices are not disks");
	tap_ok(!find(&g, "cpu.all.guest", &v, NULL, NULL), "no unknown fields invented");
	TAP_IS_INT(vs_hoststat_ncpus(h), 2, "2 CPUs counted");
	TAP_IS_INT(vs_hoststat_mem_kib(h), 24000000, "MemTotal remembered");
	{
		int dup = 0;
		for (int i = 0; i < g.n; i++)
			for (int j = i + 1; j < g.n; j++)
				dup += g.m[i].slot == g.m[j].slot;
		tap_ok(dup == 0, "every metric has its own slot (%d metrics)", g.n);
	}
	memset(&g2, 0, sizeof(g2));
	vs_hoststat_read(h, on_metric, &g2);
	{
		int same = g2.n == g.n;
		for (int i = 0; same && i < g.n; i++)
			same = g.m[i].slot == g2.m[i].slot && !strcmp(g.m[i].metric, g2.m[i].metric);
		tap_ok(same, "slots are stable across reads");
	}
	vs_hoststat_destroy(&h);
	vs_hoststat_destroy(&h);

	/* the real /proc */
	h = vs_hoststat_new("/proc");
	memset(&g, 0, sizeof(g));
	tap_ok(h && vs_hoststat_read(h, on_metric, &g) == 0, "reads the real /proc");
	TAP_IS_INT(vs_hoststat_ncpus(h), sysconf(_SC_NPROCESSORS_CONF) < 4096 ?
	    sysconf(_SC_NPROCESSORS_ONLN) : 0, "CPU count matches sysconf");
	tap_ok(find(&g, "mem.dirty", &v, NULL, NULL) && find(&g, "mem.writeback", &v, NULL, NULL),
	    "Dirty and Writeback present");
	tap_ok(find(&g, "sched.ctxt", &v, NULL, NULL) && v > 0, "context switches present");
	vs_hoststat_destroy(&h);
	tap_ok(vs_hoststat_new("/nonexistent") == NULL, "a missing /proc fails cleanly");
	return tap_done();
}
