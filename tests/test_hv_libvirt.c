/*
 * The libvirt backend against libvirt's own test:/// driver (in-process, no daemon): a node
 * XML written here, replaced atomically the way tools/testbed does, and the failure cases.
 */
#include "config.h"

#include "hv.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char s_dir[PATH_MAX];
static char s_node[PATH_MAX + 16];

#define UUID(n) "5c0be000-0000-4000-8000-0000000000" n

static const char *const s_web =
	"  <domain type='test'>\n"
	"    <name>web</name><uuid>" UUID("01") "</uuid>\n"
	"    <memory>524288</memory><currentMemory>262144</currentMemory><vcpu>2</vcpu>\n"
	"    <os><type>hvm</type></os>\n"
	"    <devices>\n"
	"      <interface type='ethernet'><mac address='00:16:3e:00:00:01'/>"
	"<target dev='vif1.0'/></interface>\n"
	"      <interface type='ethernet'><mac address='00:16:3E:00:01:0A'/>"
	"<target dev='vif1.1'/></interface>\n"
	"    </devices>\n"
	"  </domain>\n";
/* its first interface has no target: listed without it, the second keeps devid 1 */
static const char *const s_db =
	"  <domain type='test'>\n"
	"    <name>db</name><uuid>" UUID("02") "</uuid>\n"
	"    <memory>1048576</memory><vcpu>1</vcpu>\n"
	"    <os><type>hvm</type></os>\n"
	"    <devices>\n"
	"      <interface type='ethernet'><mac address='00:16:3e:00:00:0f'/></interface>\n"
	"      <interface type='ethernet'><mac address='00:16:3e:00:00:02'/>"
	"<target dev='vif2.0'/></interface>\n"
	"    </devices>\n"
	"  </domain>\n";
static const char *const s_cache =
	"  <domain type='test'>\n"
	"    <name>cache</name><uuid>" UUID("03") "</uuid>\n"
	"    <memory>262144</memory><vcpu>4</vcpu>\n"
	"    <os><type>hvm</type></os>\n"
	"  </domain>\n";
static const char *const s_log =
	"  <domain type='test'>\n"
	"    <name>log</name><uuid>" UUID("04") "</uuid>\n"
	"    <memory>131072</memory><vcpu>1</vcpu>\n"
	"    <os><type>hvm</type></os>\n"
	"    <devices>\n"
	"      <interface type='ethernet'><mac address='00:16:3e:00:00:04'/>"
	"<target dev='vif4.0'/></interface>\n"
	"    </devices>\n"
	"  </domain>\n";
/* cache again, with more memory: same UUID, changed definition */
static const char *const s_cache2 =
	"  <domain type='test'>\n"
	"    <name>cache</name><uuid>" UUID("03") "</uuid>\n"
	"    <memory>393216</memory><vcpu>4</vcpu>\n"
	"    <os><type>hvm</type></os>\n"
	"  </domain>\n";

/* Replaces the node file the way the testbed does: a new file renamed over the old. */
static int
s_write_node(const char *const *doms, int n)
{
	char tmp[sizeof(s_node) + 8];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s_node);
	if (!(f = fopen(tmp, "w")))
		return -1;
	fputs("<node>\n", f);
	for (int i = 0; i < n; i++)
		fputs(doms[i], f);
	fputs("</node>\n", f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, s_node);
}

static int
s_write_raw(const char *text)
{
	char tmp[sizeof(s_node) + 8];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s_node);
	if (!(f = fopen(tmp, "w")))
		return -1;
	fputs(text, f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, s_node);
}

struct events {
	int n;
	vs_hv_event_t ev[64];
	uint32_t id[64];
};

static void
s_collect(void *arg, vs_hv_event_t ev, uint32_t domid)
{
	struct events *e = arg;

	if (e->n < 64) {
		e->ev[e->n] = ev;
		e->id[e->n] = domid;
		e->n++;
	}
}

static int
s_has(const struct events *e, vs_hv_event_t ev, uint32_t id)
{
	for (int i = 0; i < e->n; i++)
		if (e->ev[i] == ev && e->id[i] == id)
			return 1;
	return 0;
}

static long long
s_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Polls event_fd and dispatches until `want` events arrived or timeout_ms passed; returns
 * the microseconds until the last wanted event, or -1. */
static long long
s_wait(vs_hv_t *hv, struct events *e, int want, int timeout_ms)
{
	long long t0 = s_now_us(), deadline = t0 + timeout_ms * 1000LL;
	int fd = hv->ops->event_fd(hv);

	memset(e, 0, sizeof(*e));
	if (fd < 0)
		return -1;
	for (;;) {
		long long now = s_now_us();
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (e->n >= want && want > 0)
			return now - t0;
		if (now >= deadline)
			return want > 0 ? -1 : 0;
		if (poll(&p, 1, (int)((deadline - now + 999) / 1000)) > 0 &&
		    hv->ops->dispatch(hv, s_collect, e) < 0)
			return -1;
	}
}

static const vs_dom_t *
s_find(const vs_dom_t *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	return NULL;
}

static void
test_inventory(vs_hv_t *hv)
{
	vs_dom_t *d = NULL;
	size_t n = 0;
	const vs_dom_t *w, *b, *c;

	TAP_IS_INT(hv->ops->list_domains(hv, &d, &n), 0, "list_domains");
	TAP_IS_INT(n, 3, "three domains");
	w = s_find(d, n, "web");
	b = s_find(d, n, "db");
	c = s_find(d, n, "cache");
	if (!tap_ok(w && b && c, "web, db and cache listed")) {
		free(d);
		return;
	}
	/* ids in document order: the test driver ignores any id= of its own */
	TAP_IS_INT(w->id, 1, "web has id 1");
	TAP_IS_INT(b->id, 2, "db has id 2");
	TAP_IS_INT(c->id, 3, "cache has id 3");
	tap_ok(d[0].id < d[1].id && d[1].id < d[2].id, "sorted by id");
	tap_ok(strcmp(w->uuid, UUID("01")) == 0, "web's UUID (%s)", w->uuid);
	tap_ok(strcmp(c->uuid, UUID("03")) == 0, "cache's UUID");
	TAP_IS_INT(w->maxmem_kib, 524288, "web's max memory");
	TAP_IS_INT(w->mem_kib, 262144, "web's current memory");
	TAP_IS_INT(b->mem_kib, 1048576, "db's memory defaults to its maximum");
	TAP_IS_INT(w->vcpus, 2, "web's VCPUs");
	TAP_IS_INT(c->vcpus, 4, "cache's VCPUs");
	TAP_IS_INT(w->state, VS_DOM_RUNNING, "web is running");
	tap_ok(w->cpu_ns > 0, "web's CPU time is read");

	TAP_IS_INT(w->n_vifs, 2, "web has two VIFs");
	tap_ok(strcmp(w->vifs[0].ifname, "vif1.0") == 0 && w->vifs[0].devid == 0 &&
	    strcmp(w->vifs[0].mac, "00:16:3e:00:00:01") == 0, "web's vif1.0, devid 0, its MAC");
	tap_ok(strcmp(w->vifs[1].ifname, "vif1.1") == 0 && w->vifs[1].devid == 1 &&
	    strcmp(w->vifs[1].mac, "00:16:3e:00:01:0a") == 0,
	    "web's vif1.1, devid 1, MAC in lower case (%s)", w->vifs[1].mac);
	TAP_IS_INT(b->n_vifs, 1, "db's interface without a target is not a VIF");
	tap_ok(b->n_vifs == 1 && strcmp(b->vifs[0].ifname, "vif2.0") == 0 &&
	    b->vifs[0].devid == 1 && strcmp(b->vifs[0].mac, "00:16:3e:00:00:02") == 0,
	    "db's vif2.0 keeps its position (devid 1)");
	TAP_IS_INT(c->n_vifs, 0, "cache has no VIF");

	/* read_counters refreshes what it owns, and marks an unknown id */
	vs_dom_t rc[4];
	memcpy(rc, d, 3 * sizeof(*d));
	memset(&rc[3], 0, sizeof(rc[3]));
	rc[3].id = 77;
	rc[3].state = VS_DOM_RUNNING;
	for (int i = 0; i < 3; i++) {
		rc[i].mem_kib = rc[i].maxmem_kib = rc[i].cpu_ns = 0;
		rc[i].vcpus = 0;
		rc[i].state = VS_DOM_UNKNOWN;
	}
	TAP_IS_INT(hv->ops->read_counters(hv, rc, 4), 0, "read_counters");
	const vs_dom_t *rw = s_find(rc, 4, "web");
	tap_ok(rw && rw->mem_kib == 262144 && rw->maxmem_kib == 524288 && rw->vcpus == 2 &&
	    rw->cpu_ns > 0 && rw->state == VS_DOM_RUNNING, "read_counters: web's memory, VCPUs, CPU");
	TAP_IS_INT(rc[3].state, VS_DOM_UNKNOWN, "read_counters: a domain not there is UNKNOWN");
	TAP_IS_INT(rc[3].n_vifs, 0, "read_counters: and otherwise left alone");
	/* again (the backend may have chosen another way to read after the first call), and
	 * in an order not sorted by id */
	vs_dom_t rev[4] = { rc[2], rc[3], rc[1], rc[0] };
	for (int i = 0; i < 4; i++)
		rev[i].mem_kib = 0;
	rev[1].state = VS_DOM_RUNNING;
	TAP_IS_INT(hv->ops->read_counters(hv, rev, 4), 0, "read_counters, again, unsorted");
	tap_ok(rev[0].mem_kib == c->mem_kib && rev[2].mem_kib == b->mem_kib &&
	    rev[3].mem_kib == w->mem_kib, "each domain gets its own counters");
	TAP_IS_INT(rev[1].state, VS_DOM_UNKNOWN, "and the one not there is UNKNOWN again");
	free(d);
}

static void
test_node_changes(vs_hv_t *hv)
{
	struct events e;
	vs_dom_t *d = NULL;
	size_t n = 0;
	long long us;

	tap_ok(hv->ops->event_fd(hv) >= 0, "event_fd for a node file");

	/* db leaves, log arrives */
	const char *const v2[] = { s_web, s_cache, s_log };
	tap_ok(s_write_node(v2, 3) == 0, "node file replaced (db out, log in)");
	us = s_wait(hv, &e, 2, 1000);
	tap_ok(us >= 0, "events within 1 s (%lld us)", us);
	tap_ok(s_has(&e, VS_HV_EV_REMOVED, 2), "REMOVED 2 (db)");
	tap_ok(s_has(&e, VS_HV_EV_ADDED, 4), "ADDED 4 (log gets the next id, as on Xen)");
	TAP_IS_INT(e.n, 2, "and nothing else");
	TAP_IS_INT(hv->ops->list_domains(hv, &d, &n), 0, "list after the change");
	TAP_IS_INT(n, 3, "three domains");
	const vs_dom_t *l = s_find(d, n, "log");
	tap_ok(!s_find(d, n, "db"), "db is gone");
	tap_ok(l && l->id == 4 && strcmp(l->uuid, UUID("04")) == 0 && l->n_vifs == 1 &&
	    strcmp(l->vifs[0].ifname, "vif4.0") == 0 && l->mem_kib == 131072,
	    "log listed with id 4, its UUID, vif4.0 and memory");
	tap_ok(s_find(d, n, "web") && s_find(d, n, "web")->id == 1 &&
	    s_find(d, n, "cache") && s_find(d, n, "cache")->id == 3, "the others keep their ids");
	free(d);

	/* the same content again: nothing to report */
	tap_ok(s_write_node(v2, 3) == 0, "node file rewritten unchanged");
	s_wait(hv, &e, 0, 300);
	TAP_IS_INT(e.n, 0, "no event for an unchanged file");

	/* a broken file keeps the previous inventory */
	tap_ok(s_write_raw("<node>\n  <domain type='test'><name>half") == 0, "broken node file");
	s_wait(hv, &e, 0, 300);
	TAP_IS_INT(e.n, 0, "no event for a broken file");
	tap_ok(strstr(hv->error, "keeping the previous inventory") != NULL,
	    "and an error saying so (%s)", hv->error);
	TAP_IS_INT(hv->ops->list_domains(hv, &d, &n), 0, "list after the broken file");
	TAP_IS_INT(n, 3, "still three domains");
	free(d);

	/* a burst: several replacements within a few ms are applied once, at the end */
	const char *const v3[] = { s_web, s_cache2, s_log, s_db };
	const char *const v3a[] = { s_web };
	tap_ok(s_write_node(v3a, 1) == 0 && s_write_node(v2, 3) == 0 && s_write_node(v3, 4) == 0,
	    "three replacements in a burst (cache changed, db back)");
	us = s_wait(hv, &e, 3, 1000);
	tap_ok(us >= 0, "events within 1 s (%lld us)", us);
	tap_ok(s_has(&e, VS_HV_EV_REMOVED, 3) && s_has(&e, VS_HV_EV_ADDED, 5) &&
	    s_has(&e, VS_HV_EV_ADDED, 6), "cache restarted (3 -> 5), db back as 6");
	s_wait(hv, &e, 0, 200);
	TAP_IS_INT(e.n, 0, "nothing from the intermediate versions");
	TAP_IS_INT(hv->ops->list_domains(hv, &d, &n), 0, "list after the burst");
	TAP_IS_INT(n, 4, "four domains");
	const vs_dom_t *c = s_find(d, n, "cache"), *b = s_find(d, n, "db");
	tap_ok(c && c->id == 5 && c->maxmem_kib == 393216, "cache with its new memory");
	tap_ok(b && b->id == 6 && b->n_vifs == 1 && strcmp(b->vifs[0].ifname, "vif2.0") == 0,
	    "db with a new id and the same vif2.0");
	free(d);
}

/* read_counters for 200 domains, the per-tick fast path */
static void
test_cost(void)
{
	char path[sizeof(s_dir) + 32], spec[sizeof(path) + 32];
	vs_dom_t *d = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/n200.xml", s_dir);
	if (!(f = fopen(path, "w"))) {
		tap_ok(0, "cannot write %s", path);
		return;
	}
	fputs("<node>\n", f);
	for (int i = 1; i <= 200; i++)
		fprintf(f, "<domain type='test'><name>vm%d</name>"
		    "<uuid>5c0be000-0000-4000-8000-%012d</uuid><memory>65536</memory>"
		    "<vcpu>1</vcpu><os><type>hvm</type></os><devices><interface type='ethernet'>"
		    "<mac address='00:16:3e:00:%02x:%02x'/><target dev='vif%d.0'/></interface>"
		    "</devices></domain>\n", i, 1000 + i, i / 256, i % 256, i);
	fputs("</node>\n", f);
	fclose(f);
	snprintf(spec, sizeof(spec), "libvirt:test://%s", path);
	vs_hv_t *hv = vs_hv_new(spec, NULL, 0);
	if (!tap_ok(hv && vs_hv_open(hv) == 0, "open 200 domains")) {
		vs_hv_destroy(&hv);
		return;
	}
	long long t0 = s_now_us();
	int rc = hv->ops->list_domains(hv, &d, &n);
	long long tl = s_now_us() - t0;
	TAP_IS_INT(rc == 0 ? (long long)n : rc, 200, "list 200 domains (%lld us)", tl);

	long long samples[101];
	int bad = 0;
	for (int i = 0; i < 101; i++) {
		t0 = s_now_us();
		bad |= hv->ops->read_counters(hv, d, n);
		samples[i] = s_now_us() - t0;
	}
	long long first = samples[0];
	for (int i = 1; i < 101; i++)           /* insertion sort of the steady-state ones */
		for (int j = i; j > 1 && samples[j] < samples[j - 1]; j--) {
			long long t = samples[j];
			samples[j] = samples[j - 1];
			samples[j - 1] = t;
		}
	TAP_IS_INT(bad, 0, "read_counters x101");
	tap_diag("read_counters, 200 test-driver domains: first call %lld us, then median %lld us,"
	    " p90 %lld us", first, samples[51], samples[91]);
	tap_ok(samples[51] < 20000, "median read_counters under 20 ms");
	size_t ok = 0;
	for (size_t i = 0; i < n; i++)
		ok += d[i].state == VS_DOM_RUNNING && d[i].mem_kib == 65536 && d[i].vcpus == 1;
	TAP_IS_INT(ok, 200, "every domain read");
	free(d);
	vs_hv_destroy(&hv);
}

static void
test_failures(void)
{
	char err[256];
	vs_hv_t *hv;
	int rc;

	errno = 0;
	hv = vs_hv_new("bogus", err, sizeof(err));
	tap_ok(!hv && errno == ENOENT, "unknown backend: NULL, ENOENT");
	tap_ok(strstr(err, "bogus") && strstr(err, "libvirt"), "message names it and the compiled-in"
	    " backends (%s)", err);
	if (!strstr(vs_hv_backends(), "xen")) {
		errno = 0;
		hv = vs_hv_new("xen", err, sizeof(err));
		tap_ok(!hv && errno == ENOENT && strstr(err, "not compiled in"),
		    "xen not compiled in: %s", err);
	} else {
		tap_ok(1, "# SKIP xen is compiled in");
	}
	errno = 0;
	hv = vs_hv_new("libvirt:", err, sizeof(err));
	tap_ok(!hv && errno == EINVAL, "'libvirt:' with no URI: EINVAL (%s)", err);
	hv = vs_hv_new("bogus", NULL, 0);
	tap_ok(!hv, "no error buffer is fine too");
	if (access("/proc/xen", F_OK) < 0) {
		hv = vs_hv_new("auto", err, sizeof(err));
		tap_ok(hv && strcmp(hv->ops->name, "libvirt") == 0, "auto without /proc/xen: libvirt");
		vs_hv_destroy(&hv);
	} else {
		tap_ok(1, "# SKIP this is a Xen Dom0");
	}
	hv = vs_hv_new("auto:x", err, sizeof(err));
	tap_ok(!hv && errno == EINVAL, "auto takes no argument (%s)", err);

	hv = vs_hv_new("libvirt:%%garbage", err, sizeof(err));
	tap_ok(hv != NULL, "'libvirt:%%%%garbage' is a libvirt spec");
	if (hv) {
		rc = vs_hv_open(hv);
		tap_ok(rc < 0 && strstr(vs_hv_error(hv), "libvirt: cannot connect to %%garbage"),
		    "and fails to open: %d %s", rc, vs_hv_error(hv));
		vs_hv_destroy(&hv);
	}

	hv = vs_hv_new("libvirt:qemu+unix:///system?socket=/nonexistent", err, sizeof(err));
	tap_ok(hv != NULL, "unreachable URI: handle");
	if (hv) {
		rc = vs_hv_open(hv);
		TAP_IS_INT(rc, -ECONNREFUSED, "unreachable URI: -ECONNREFUSED");
		tap_ok(strstr(vs_hv_error(hv), "cannot connect to qemu+unix:///system") &&
		    strstr(vs_hv_error(hv), "nonexistent"), "a clear message: %s", vs_hv_error(hv));
		vs_dom_t *d = (vs_dom_t *)1;
		size_t n = 9;
		TAP_IS_INT(hv->ops->list_domains(hv, &d, &n), -ENOTCONN,
		    "list_domains on it fails, does not crash");
		tap_ok(d == NULL && n == 0, "and returns nothing");
		TAP_IS_INT(hv->ops->event_fd(hv), -1, "no event fd");
		vs_hv_destroy(&hv);
		vs_hv_destroy(&hv);
		tap_ok(hv == NULL, "destroy twice is safe and NULLs the pointer");
	}

	hv = vs_hv_new("libvirt:test:///nonexistent/node.xml", err, sizeof(err));
	rc = hv ? vs_hv_open(hv) : -1;
	tap_ok(rc == -ENOENT && strstr(vs_hv_error(hv), "/nonexistent/node.xml"),
	    "a missing node file: %s", hv ? vs_hv_error(hv) : "");
	vs_hv_destroy(&hv);
	vs_hv_destroy(NULL);
	tap_ok(1, "vs_hv_destroy(NULL) is harmless");

	tap_ok(vs_dom_state_char(VS_DOM_RUNNING) == 'r' && vs_dom_state_char(VS_DOM_BLOCKED) == 'b' &&
	    vs_dom_state_char(VS_DOM_PAUSED) == 'p' && vs_dom_state_char(VS_DOM_SHUTDOWN) == 's' &&
	    vs_dom_state_char(VS_DOM_CRASHED) == 'c' && vs_dom_state_char(VS_DOM_DYING) == 'd' &&
	    vs_dom_state_char(VS_DOM_SHUTOFF) == '-' && vs_dom_state_char(VS_DOM_UNKNOWN) == '-',
	    "state letters as xl prints them");
}

int
main(void)
{
	char spec[sizeof(s_node) + 32];
	vs_hv_t *hv;

	snprintf(s_dir, sizeof(s_dir), "%s/vs-hv-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(s_dir))
		tap_skip_all("cannot create a temporary directory");
	snprintf(s_node, sizeof(s_node), "%s/node.xml", s_dir);
	const char *const v1[] = { s_web, s_db, s_cache };
	if (s_write_node(v1, 3) < 0)
		tap_skip_all("cannot write the node file");

	tap_ok(strstr(vs_hv_backends(), "libvirt") != NULL, "backends: %s", vs_hv_backends());
	snprintf(spec, sizeof(spec), "libvirt:test://%s", s_node);
	hv = vs_hv_new(spec, NULL, 0);
	tap_ok(hv != NULL, "vs_hv_new(%s)", spec);
	if (!hv)
		return tap_done();
	TAP_IS_INT(vs_hv_open(hv), 0, "open: %s", vs_hv_error(hv));
	tap_ok(hv->simulated, "a test:// URI is a simulation");
	tap_ok(strcmp(hv->uri, spec + strlen("libvirt:")) == 0, "uri is %s", hv->uri);
	tap_ok(strcmp(hv->ops->name, "libvirt") == 0, "the libvirt backend");
	test_inventory(hv);
	test_node_changes(hv);

	/* close and open again: the event thread stops and comes back */
	TAP_IS_INT(vs_hv_open(hv), 0, "reopen");
	/* a second handle shares the event thread; closing it must not stop it for the first */
	vs_hv_t *hv2 = vs_hv_new(spec, NULL, 0);
	TAP_IS_INT(hv2 ? vs_hv_open(hv2) : -1, 0, "a second handle on the same file");
	vs_hv_destroy(&hv2);
	const char *const v4[] = { s_web, s_cache2, s_log };
	struct events e;
	tap_ok(s_write_node(v4, 3) == 0, "node file replaced (db out)");
	/* a fresh connection numbered the file 1..4 again: db, last, is 4 */
	long long us = s_wait(hv, &e, 1, 1000);
	tap_ok(us >= 0 && s_has(&e, VS_HV_EV_REMOVED, 4), "REMOVED after reopen (%lld us)", us);
	vs_hv_destroy(&hv);
	vs_hv_destroy(&hv);
	tap_ok(hv == NULL, "destroy twice is safe");

	test_cost();
	test_failures();

	char p[sizeof(s_dir) + 32];
	snprintf(p, sizeof(p), "%s/n200.xml", s_dir);
	unlink(p);
	unlink(s_node);
	rmdir(s_dir);
	return tap_done();
}
