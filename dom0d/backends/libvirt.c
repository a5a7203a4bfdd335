/*
 * The libvirt hypervisor backend: any libvirt URI (xen:///system, qemu:///system,
 * lxc:///system, test:///ABS/PATH/node.xml), or libvirt's default URI.
 *
 * Threads. libvirt delivers lifecycle events only from its event loop, so the backend runs
 * libvirt's default event implementation on one thread of its own, shared by every open
 * handle of the process and stopped when the last one closes. The lifecycle callback on
 * that thread does no more than copy (event, detail, id, UUID) into a pipe; the caller polls
 * event_fd() and calls dispatch() on its own thread, which reads the pipe and does all the
 * mapping. The pipe belongs to a small refcounted "sink" that libvirt also holds a reference
 * to (released by libvirt's free callback), so a callback still running while we close can
 * never write into freed memory or into a pipe without a reader.
 *
 * Errors. libvirt's default error handler prints to stderr; a no-op handler is installed for
 * the process and each failure reads libvirt's (thread-local) last error into hv->error.
 *
 * The simulated inventory (test:///ABS/PATH.xml). libvirt's test driver keeps its domains
 * in memory and reports changes only when they are made through the same connection. The
 * testbed (tools/testbed) describes its simulated VMs in a node XML that it replaces
 * atomically (rename) whenever a VM comes or goes. This backend watches that file's
 * directory with inotify and, once a burst of changes has settled, reads the new file
 * through a second, short-lived test connection and applies the difference to its own
 * connection, the way a real host would see it: a domain gone from the file is destroyed, a
 * new one is started with virDomainCreateXML (it gets the next free id, as a new Xen domain
 * would, and running domains keep theirs), a changed one is restarted. libvirt then raises
 * the STOPPED/STARTED events on the ordinary event path. That is how the simulation's
 * inventory reaches vscoped through the backend interface, not around it. A file that does
 * not parse keeps the previous inventory and is logged.
 */
#include "config.h"

#include "hv.h"
#include "backends/backends.h"
#include "vifname.h"
#include "log.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* A node file change is applied once no further change came for SETTLE, and at the latest
 * MAX_DELAY after the first one of a burst. */
#define S_SETTLE_NS     (20 * 1000000LL)
#define S_MAX_DELAY_NS  (150 * 1000000LL)

/* A UUID -> id entry outlives this many lists that no longer show the domain, for a
 * STOPPED event still in the pipe; domains that vanish unseen do not pile up. */
#define S_IDS_STALE 4

#define S_EV_CONN_CLOSED 1000   /* our own record kind: the connection went away */

#define S_STATS_WANTED (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | \
	VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU)

/* ---- the event loop thread, shared by the whole process -------------------------------- */

static pthread_once_t s_init_once = PTHREAD_ONCE_INIT;
static int s_init_rc;

static pthread_mutex_t s_loop_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned s_loop_users;
static int s_loop_running;
static pthread_t s_loop_thread;
static atomic_int s_loop_stop;          /* set on the loop thread once it has drained */
static int s_drain_round;               /* loop thread only */

/* Idles queued by virEventRemove*() run on the loop; each round lets one more generation
 * of them (a free callback that removes another source) run before the thread ends. */
#define S_DRAIN_ROUNDS 3

static void
s_silent(void *userdata, virErrorPtr err)
{
	(void)userdata;
	(void)err;
}

static void
s_global_init(void)
{
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
		s_init_rc = -EIO;
	virSetErrorFunc(NULL, s_silent);
	xmlInitParser();
}

static void *
s_loop_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&s_loop_stop))
		virEventRunDefaultImpl();
	return NULL;
}

static void s_loop_drained(void *opaque);

static void
s_loop_wake(int timer, void *opaque)
{
	(void)opaque;
	/* The free callback of this timeout (s_loop_drained) runs from an idle queued behind
	 * every idle queued before it: the removals of the connections just closed. */
	virEventRemoveTimeout(timer);
}

static void
s_loop_drained(void *opaque)
{
	(void)opaque;
	if (++s_drain_round < S_DRAIN_ROUNDS &&
	    virEventAddTimeout(0, s_loop_wake, NULL, s_loop_drained) >= 0)
		return;
	atomic_store(&s_loop_stop, 1);
}

static int
s_loop_acquire(void)
{
	int rc = 0;

	pthread_mutex_lock(&s_loop_lock);
	if (!s_loop_running) {
		atomic_store(&s_loop_stop, 0);
		rc = -pthread_create(&s_loop_thread, NULL, s_loop_main, NULL);
		if (rc == 0)
			s_loop_running = 1;
	}
	if (rc == 0)
		s_loop_users++;
	pthread_mutex_unlock(&s_loop_lock);
	return rc;
}

static void
s_loop_release(void)
{
	pthread_mutex_lock(&s_loop_lock);
	if (--s_loop_users == 0 && s_loop_running) {
		s_drain_round = 0;
		/* If the wake-up cannot be queued the thread stays, blocked in poll, and is
		 * reused by the next open. */
		if (virEventAddTimeout(0, s_loop_wake, NULL, s_loop_drained) >= 0) {
			pthread_join(s_loop_thread, NULL);
			s_loop_running = 0;
		}
	}
	pthread_mutex_unlock(&s_loop_lock);
}

/* ---- the sink: what the loop thread writes events into -------------------------------- */

struct s_evrec {
	int32_t kind;           /* virDomainEventType, or S_EV_CONN_CLOSED */
	int32_t detail;
	int32_t id;             /* -1 when libvirt no longer knows it (STOPPED) */
	unsigned char uuid[VIR_UUID_BUFLEN];
};

struct s_sink {
	atomic_int refs;
	atomic_int overflow;    /* a record was lost: tell the caller to re-list */
	int rfd, wfd;           /* a pipe, both ends live as long as the sink */
};

static struct s_sink *
s_sink_new(void)
{
	struct s_sink *s = calloc(1, sizeof(*s));
	int p[2];

	if (!s)
		return NULL;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
		free(s);
		return NULL;
	}
	s->rfd = p[0];
	s->wfd = p[1];
	atomic_init(&s->refs, 1);
	atomic_init(&s->overflow, 0);
	return s;
}

static struct s_sink *
s_sink_ref(struct s_sink *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

static void
s_sink_unref(void *opaque)
{
	struct s_sink *s = opaque;

	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		close(s->rfd);
		close(s->wfd);
		free(s);
	}
}

/* Loop thread. Records are far below PIPE_BUF, so each write is whole or not at all. */
static void
s_sink_put(struct s_sink *s, const struct s_evrec *r)
{
	ssize_t n;

	do
		n = write(s->wfd, r, sizeof(*r));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*r))
		atomic_store(&s->overflow, 1);
}

static int
s_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct s_evrec r = { .kind = event, .detail = detail };

	(void)conn;
	r.id = (int32_t)virDomainGetID(dom);
	if (virDomainGetUUID(dom, r.uuid) < 0)
		memset(r.uuid, 0, sizeof(r.uuid));
	s_sink_put(opaque, &r);
	return 0;
}

static void
s_on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct s_evrec r = { .kind = S_EV_CONN_CLOSED, .detail = reason, .id = -1 };

	(void)conn;
	s_sink_put(opaque, &r);
}

/* ---- per-handle state ----------------------------------------------------------------- */

struct s_domref {                       /* id -> virDomainPtr, for per-domain reads */
	uint32_t id;
	virDomainPtr dom;
};

struct s_uuidid {                       /* UUID -> id, to name a domain in a STOPPED event */
	unsigned char uuid[VIR_UUID_BUFLEN];
	uint32_t id;
	int stale;                      /* lists in a row without it: dropped at S_IDS_STALE */
};

enum { S_STATS_UNKNOWN, S_STATS_ALL, S_STATS_INFO };

struct s_lv {
	virConnectPtr conn;
	char *uri;                      /* as requested, NULL for libvirt's default */
	int readonly;
	int loop_held;
	int lifecycle_id;               /* -1: none */
	int close_cb;
	struct s_sink *sink;
	int epfd;                       /* what event_fd returns */

	/* test:///ABS/PATH.xml only */
	char *node_path;
	const char *node_name;          /* points into node_path */
	int ifd, wd, tfd;
	long long pending_since;        /* CLOCK_MONOTONIC ns of the first unapplied change */

	int stats_mode;
	unsigned stats_flags;           /* VIR_CONNECT_GET_ALL_DOMAINS_STATS_* */

	struct s_domref *refs;          /* sorted by id */
	size_t n_refs, cap_refs;
	struct s_uuidid *ids;
	size_t n_ids, cap_ids;
	uint32_t *order;                /* read_counters scratch: indices sorted by id, */
	size_t cap_order;
	unsigned char *seen;            /* and which of them a record was found for */
	size_t cap_seen;
};

/* ---- errors --------------------------------------------------------------------------- */

static const char *
s_virt_msg(void)
{
	const char *m = virGetLastErrorMessage();

	return m && *m ? m : "unknown libvirt error";
}

static int
s_virt_code(void)
{
	return virGetLastErrorCode();
}

/* A domain that went away (or stopped) while we were reading it. */
static int
s_vanished(void)
{
	int c = s_virt_code();

	return c == VIR_ERR_NO_DOMAIN || c == VIR_ERR_OPERATION_INVALID;
}

static int
s_virt_errno(int dflt)
{
	switch (s_virt_code()) {
	case VIR_ERR_NO_DOMAIN:         return -ENOENT;
	case VIR_ERR_NO_SUPPORT:        return -ENOTSUP;
	case VIR_ERR_OPERATION_DENIED:
	case VIR_ERR_AUTH_FAILED:
	case VIR_ERR_AUTH_CANCELLED:
	case VIR_ERR_ACCESS_DENIED:     return -EACCES;
	case VIR_ERR_INVALID_ARG:       return -EINVAL;
	case VIR_ERR_NO_MEMORY:         return -ENOMEM;
	default:                        return dflt;
	}
}

static int
s_virt_fail(vs_hv_t *hv, int dflt, const char *what) __attribute__((nonnull));

static int
s_virt_fail(vs_hv_t *hv, int dflt, const char *what)
{
	return vs_hv_fail(hv, s_virt_errno(dflt), "libvirt: %s: %s", what, s_virt_msg());
}

static long long
s_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- small tables --------------------------------------------------------------------- */

static int
s_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static size_t
s_refs_pos(const struct s_lv *lv, uint32_t id)
{
	size_t lo = 0, hi = lv->n_refs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lv->refs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
s_refs_drop(struct s_lv *lv, uint32_t id)
{
	size_t i = s_refs_pos(lv, id);

	if (i < lv->n_refs && lv->refs[i].id == id) {
		virDomainFree(lv->refs[i].dom);
		memmove(&lv->refs[i], &lv->refs[i + 1], (lv->n_refs - i - 1) * sizeof(lv->refs[0]));
		lv->n_refs--;
	}
}

static void
s_refs_clear(struct s_lv *lv)
{
	for (size_t i = 0; i < lv->n_refs; i++)
		virDomainFree(lv->refs[i].dom);
	lv->n_refs = 0;
}

/* Takes a reference of its own on dom. */
static int
s_refs_put(struct s_lv *lv, uint32_t id, virDomainPtr dom)
{
	size_t i = s_refs_pos(lv, id);

	if (i < lv->n_refs && lv->refs[i].id == id) {
		if (virDomainRef(dom) < 0)
			return -ENOMEM;
		virDomainFree(lv->refs[i].dom);
		lv->refs[i].dom = dom;
		return 0;
	}
	if (s_grow((void **)&lv->refs, &lv->cap_refs, lv->n_refs + 1, sizeof(lv->refs[0])) < 0 ||
	    virDomainRef(dom) < 0)
		return -ENOMEM;
	memmove(&lv->refs[i + 1], &lv->refs[i], (lv->n_refs - i) * sizeof(lv->refs[0]));
	lv->refs[i].id = id;
	lv->refs[i].dom = dom;
	lv->n_refs++;
	return 0;
}

/* Borrowed; NULL with the domain gone (-ENOENT in *rc) or on another error. */
static virDomainPtr
s_refs_get(vs_hv_t *hv, uint32_t id, int *rc)
{
	struct s_lv *lv = hv->priv;
	size_t i = s_refs_pos(lv, id);
	virDomainPtr dom;

	*rc = 0;
	if (i < lv->n_refs && lv->refs[i].id == id)
		return lv->refs[i].dom;
	dom = virDomainLookupByID(lv->conn, (int)id);
	if (!dom) {
		*rc = s_vanished() ? -ENOENT : s_virt_fail(hv, -EIO, "looking up a domain by id");
		return NULL;
	}
	*rc = s_refs_put(lv, id, dom);
	virDomainFree(dom);
	if (*rc < 0)
		return NULL;
	return lv->refs[s_refs_pos(lv, id)].dom;
}

/* The entry for exactly (uuid, id). */
static struct s_uuidid *
s_ids_find(struct s_lv *lv, const unsigned char *uuid, uint32_t id)
{
	for (size_t i = 0; i < lv->n_ids; i++)
		if (lv->ids[i].id == id && memcmp(lv->ids[i].uuid, uuid, VIR_UUID_BUFLEN) == 0)
			return &lv->ids[i];
	return NULL;
}

/* The oldest instance of a UUID: ids only grow, and STOPPED events come in order, so a
 * STOPPED that arrives after a restart was already listed still names the old id. */
static struct s_uuidid *
s_ids_oldest(struct s_lv *lv, const unsigned char *uuid)
{
	struct s_uuidid *best = NULL;

	for (size_t i = 0; i < lv->n_ids; i++)
		if (memcmp(lv->ids[i].uuid, uuid, VIR_UUID_BUFLEN) == 0 &&
		    (!best || lv->ids[i].id < best->id))
			best = &lv->ids[i];
	return best;
}

static void
s_ids_put(struct s_lv *lv, const unsigned char *uuid, uint32_t id)
{
	struct s_uuidid *e = s_ids_find(lv, uuid, id);

	if (!e) {
		if (s_grow((void **)&lv->ids, &lv->cap_ids, lv->n_ids + 1, sizeof(lv->ids[0])) < 0)
			return;         /* only costs a re-list later */
		e = &lv->ids[lv->n_ids++];
		memcpy(e->uuid, uuid, VIR_UUID_BUFLEN);
		e->id = id;
	}
	e->stale = 0;
}

static void
s_ids_del(struct s_lv *lv, struct s_uuidid *e)
{
	*e = lv->ids[--lv->n_ids];
}

/* ---- domain XML ----------------------------------------------------------------------- */

static xmlNodePtr
s_child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0)
			return c;
	return NULL;
}

/* libvirt's test driver names every interface defined without a target "testnet<N>"
 * (testDomainGenerateIfnames), even in the inactive XML; no such interface exists on the
 * host, so in a simulation that name means "no target". */
static int
s_test_ifname(const char *name)
{
	if (strncmp(name, "testnet", 7) != 0 || !name[7])
		return 0;
	for (const char *p = name + 7; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return 1;
}

/* The VIFs of a domain: every /domain/devices/interface with a target dev; devid is the
 * interface's position among all of the domain's interfaces (the guest's NIC index). */
static void
s_parse_vifs(const char *xml, vs_dom_t *d, int simulated)
{
	xmlDocPtr doc = NULL;
	xmlXPathContextPtr ctx = NULL;
	xmlXPathObjectPtr obj = NULL;
	size_t len = strlen(xml);

	d->n_vifs = 0;
	if (len > INT_MAX)
		return;
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		vs_warn("libvirt: domain %s: cannot parse its XML; listed without VIFs", d->name);
		goto out;
	}
	ctx = xmlXPathNewContext(doc);
	if (ctx)
		obj = xmlXPathEvalExpression(BAD_CAST "/domain/devices/interface", ctx);
	if (!obj || !obj->nodesetval)
		goto out;
	for (int i = 0; i < obj->nodesetval->nodeNr; i++) {
		xmlNodePtr ifc = obj->nodesetval->nodeTab[i], t, m;
		xmlChar *dev = NULL, *mac = NULL;

		if ((t = s_child(ifc, "target")))
			dev = xmlGetProp(t, BAD_CAST "dev");
		if (!dev || !*dev || xmlStrlen(dev) >= IF_NAMESIZE ||
		    (simulated && s_test_ifname((const char *)dev))) {
			if (dev && xmlStrlen(dev) >= IF_NAMESIZE)
				vs_warn("libvirt: domain %s: interface name '%s' too long; skipped",
				    d->name, (const char *)dev);
			xmlFree(dev);
			continue;
		}
		if (d->n_vifs == VS_DOM_MAX_VIFS) {
			vs_warn("libvirt: domain %s: more than %d interfaces; the rest not monitored",
			    d->name, VS_DOM_MAX_VIFS);
			xmlFree(dev);
			break;
		}
		vs_vif_t *v = &d->vifs[d->n_vifs++];
		snprintf(v->ifname, sizeof(v->ifname), "%s", (const char *)dev);
		v->devid = (uint32_t)i;
		v->mac[0] = '\0';
		if ((m = s_child(ifc, "mac")) && (mac = xmlGetProp(m, BAD_CAST "address")) &&
		    vs_mac_valid((const char *)mac)) {
			for (int k = 0; k < 17; k++)
				v->mac[k] = (char)tolower(mac[k]);
			v->mac[17] = '\0';
		}
		xmlFree(mac);
		xmlFree(dev);
	}
out:
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
}

static vs_dom_state_t
s_state(int st)
{
	switch (st) {
	case VIR_DOMAIN_RUNNING:        return VS_DOM_RUNNING;
	case VIR_DOMAIN_BLOCKED:        return VS_DOM_BLOCKED;
	case VIR_DOMAIN_PAUSED:         return VS_DOM_PAUSED;
	case VIR_DOMAIN_PMSUSPENDED:    return VS_DOM_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:       return VS_DOM_SHUTDOWN;
	case VIR_DOMAIN_SHUTOFF:        return VS_DOM_SHUTOFF;
	case VIR_DOMAIN_CRASHED:        return VS_DOM_CRASHED;
	default:                        return VS_DOM_UNKNOWN;
	}
}

static void
s_apply_info(vs_dom_t *d, const virDomainInfo *info)
{
	d->state = s_state(info->state);
	d->mem_kib = info->memory;
	d->maxmem_kib = info->maxMem;
	d->vcpus = info->nrVirtCpu;
	d->cpu_ns = info->cpuTime;
}

/* 0, -ENOENT for a domain that went away meanwhile, or another -errno. */
static int
s_dom_fill(vs_hv_t *hv, virDomainPtr dom, vs_dom_t *d)
{
	unsigned int id = virDomainGetID(dom);
	const char *name = virDomainGetName(dom);
	char uuid[VIR_UUID_STRING_BUFLEN];
	virDomainInfo info;
	char *xml;

	memset(d, 0, sizeof(*d));
	if (id == (unsigned int)-1)
		return -ENOENT;
	d->id = id;
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "");
	if (virDomainGetUUIDString(dom, uuid) == 0) {
		for (char *p = uuid; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
	}
	if (virDomainGetInfo(dom, &info) < 0)
		return s_vanished() ? -ENOENT : s_virt_fail(hv, -EIO, "reading a domain's info");
	if (info.state == VIR_DOMAIN_SHUTOFF)
		return -ENOENT;
	s_apply_info(d, &info);
	xml = virDomainGetXMLDesc(dom, 0);
	if (!xml)
		return s_vanished() ? -ENOENT : s_virt_fail(hv, -EIO, "reading a domain's XML");
	s_parse_vifs(xml, d, hv->simulated);
	free(xml);
	return 0;
}

static int
s_cmp_dom(const void *a, const void *b)
{
	const vs_dom_t *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int
s_not_connected(vs_hv_t *hv)
{
	return vs_hv_fail(hv, -ENOTCONN, "libvirt: not connected");
}

static int
s_list_domains(vs_hv_t *hv, vs_dom_t **doms_r, size_t *n_r)
{
	struct s_lv *lv = hv->priv;
	virDomainPtr *vd = NULL;
	vs_dom_t *out = NULL;
	size_t n = 0;
	int nv, rc = 0;

	*doms_r = NULL;
	*n_r = 0;
	if (!lv || !lv->conn)
		return s_not_connected(hv);
	nv = virConnectListAllDomains(lv->conn, &vd, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (nv < 0)
		return s_virt_fail(hv, -EIO, "listing domains");
	out = calloc(nv ? (size_t)nv : 1, sizeof(*out));
	if (!out) {
		rc = vs_hv_fail(hv, -ENOMEM, "libvirt: out of memory listing %d domains", nv);
		goto out;
	}
	for (int i = 0; i < nv; i++) {
		int r = s_dom_fill(hv, vd[i], &out[n]);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			rc = r;
			goto out;
		}
		n++;
	}
	qsort(out, n, sizeof(*out), s_cmp_dom);

	/* Refresh what read_counters and dispatch rely on: the domain handles by id, and
	 * UUID -> id (see S_IDS_STALE). */
	s_refs_clear(lv);
	for (size_t i = 0; i < lv->n_ids; ) {
		if (++lv->ids[i].stale > S_IDS_STALE) {
			s_ids_del(lv, &lv->ids[i]);
			continue;
		}
		i++;
	}
	for (int i = 0; i < nv; i++) {
		unsigned char uuid[VIR_UUID_BUFLEN];
		unsigned int id = virDomainGetID(vd[i]);

		if (id == (unsigned int)-1)
			continue;
		if (virDomainGetUUID(vd[i], uuid) == 0)
			s_ids_put(lv, uuid, id);
		if (s_refs_put(lv, id, vd[i]) < 0)
			break;  /* the cache is an optimisation: read_counters looks up misses */
	}
out:
	for (int i = 0; i < nv; i++)
		virDomainFree(vd[i]);
	free(vd);
	if (rc < 0) {
		free(out);
		return rc;
	}
	*doms_r = out;
	*n_r = n;
	return 0;
}

/* ---- read_counters -------------------------------------------------------------------- */

static int
s_cmp_order(const void *a, const void *b, void *base)
{
	const vs_dom_t *doms = base;
	uint32_t x = doms[*(const uint32_t *)a].id, y = doms[*(const uint32_t *)b].id;

	return (x > y) - (x < y);
}

/* lv->order[0..n) = indices of doms sorted by id. doms is usually sorted already. */
static int
s_order(struct s_lv *lv, vs_dom_t *doms, size_t n)
{
	int sorted = 1;

	if (s_grow((void **)&lv->order, &lv->cap_order, n, sizeof(lv->order[0])) < 0 ||
	    s_grow((void **)&lv->seen, &lv->cap_seen, n, 1) < 0)
		return -ENOMEM;
	memset(lv->seen, 0, n);
	for (size_t i = 0; i < n; i++) {
		lv->order[i] = (uint32_t)i;
		if (i && doms[i - 1].id > doms[i].id)
			sorted = 0;
	}
	if (!sorted)
		qsort_r(lv->order, n, sizeof(lv->order[0]), s_cmp_order, doms);    /* glibc */
	return 0;
}

static vs_dom_t *
s_order_find(struct s_lv *lv, vs_dom_t *doms, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (doms[lv->order[mid]].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && doms[lv->order[lo]].id == id ? &doms[lv->order[lo]] : NULL;
}

/* One virConnectGetAllDomainStats for every domain. -ENOTSUP when the driver has none. */
static int
s_read_allstats(vs_hv_t *hv, vs_dom_t *doms, size_t n)
{
	struct s_lv *lv = hv->priv;
	virDomainStatsRecordPtr *recs = NULL;
	size_t partial = 0;
	int nr, rc;

	nr = virConnectGetAllDomainStats(lv->conn, S_STATS_WANTED, &recs, lv->stats_flags);
	if (nr < 0 && s_virt_code() == VIR_ERR_INVALID_ARG &&
	    (lv->stats_flags & VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT)) {
		/* a driver that predates NOWAIT */
		lv->stats_flags &= ~(unsigned)VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
		nr = virConnectGetAllDomainStats(lv->conn, S_STATS_WANTED, &recs, lv->stats_flags);
	}
	if (nr < 0) {
		if (s_virt_code() == VIR_ERR_NO_SUPPORT)
			return -ENOTSUP;
		return s_virt_fail(hv, -EIO, "reading domain statistics");
	}
	if ((rc = s_order(lv, doms, n)) < 0)
		goto out;

	for (int i = 0; i < nr; i++) {
		virDomainStatsRecordPtr r = recs[i];
		unsigned int id = virDomainGetID(r->dom), vcpus;
		unsigned long long cpu, cur, max;
		int st;
		vs_dom_t *d;

		if (id == (unsigned int)-1 || !(d = s_order_find(lv, doms, n, id)))
			continue;       /* new since the caller's list: dispatch tells it */
		if (virTypedParamsGetInt(r->params, r->nparams, "state.state", &st) == 1 &&
		    virTypedParamsGetULLong(r->params, r->nparams, "cpu.time", &cpu) == 1 &&
		    virTypedParamsGetULLong(r->params, r->nparams, "balloon.current", &cur) == 1 &&
		    virTypedParamsGetULLong(r->params, r->nparams, "balloon.maximum", &max) == 1 &&
		    virTypedParamsGetUInt(r->params, r->nparams, "vcpu.current", &vcpus) == 1) {
			if (st == VIR_DOMAIN_SHUTOFF)
				continue;
			lv->seen[d - doms] = 1;
			d->state = s_state(st);
			d->cpu_ns = cpu;
			d->mem_kib = cur;
			d->maxmem_kib = max;
			d->vcpus = vcpus;
			continue;
		}
		/* The driver left something out (the test driver reports only the state):
		 * complete this domain with virDomainGetInfo. */
		virDomainInfo info;
		partial++;
		if (virDomainGetInfo(r->dom, &info) < 0) {
			if (s_vanished())
				continue;
			rc = s_virt_fail(hv, -EIO, "reading a domain's info");
			goto out;
		}
		if (info.state == VIR_DOMAIN_SHUTOFF)
			continue;
		lv->seen[d - doms] = 1;
		s_apply_info(d, &info);
	}
	for (size_t i = 0; i < n; i++)
		if (!lv->seen[i])
			doms[i].state = VS_DOM_UNKNOWN;
	/* A driver whose every record needs virDomainGetInfo anyway is cheaper to read with
	 * virDomainGetInfo alone. */
	if (lv->stats_mode == S_STATS_UNKNOWN && nr > 0)
		lv->stats_mode = partial == (size_t)nr ? S_STATS_INFO : S_STATS_ALL;
	rc = 0;
out:
	virDomainStatsRecordListFree(recs);
	return rc;
}

/* virDomainGetInfo per domain, through a cached handle per id. */
static int
s_read_info(vs_hv_t *hv, vs_dom_t *doms, size_t n)
{
	struct s_lv *lv = hv->priv;

	for (size_t i = 0; i < n; i++) {
		vs_dom_t *d = &doms[i];
		virDomainInfo info;
		virDomainPtr dom;
		int rc;

		if (!(dom = s_refs_get(hv, d->id, &rc))) {
			if (rc != -ENOENT)
				return rc;
			d->state = VS_DOM_UNKNOWN;
			continue;
		}
		if (virDomainGetInfo(dom, &info) < 0) {
			if (!s_vanished())
				return s_virt_fail(hv, -EIO, "reading a domain's info");
			info.state = VIR_DOMAIN_SHUTOFF;
		}
		if (info.state == VIR_DOMAIN_SHUTOFF) {
			s_refs_drop(lv, d->id);
			d->state = VS_DOM_UNKNOWN;
			continue;
		}
		s_apply_info(d, &info);
	}
	return 0;
}

static int
s_read_counters(vs_hv_t *hv, vs_dom_t *doms, size_t n)
{
	struct s_lv *lv = hv->priv;
	int rc;

	if (!lv || !lv->conn)
		return s_not_connected(hv);
	if (n == 0)
		return 0;
	if (lv->stats_mode != S_STATS_INFO) {
		rc = s_read_allstats(hv, doms, n);
		if (rc != -ENOTSUP)
			return rc;
		lv->stats_mode = S_STATS_INFO;
	}
	return s_read_info(hv, doms, n);
}

/* ---- the node file of the test driver ------------------------------------------------- */

/* "test:///ABS/PATH.xml" -> "/ABS/PATH.xml" (malloc'd); NULL for anything else, including
 * test:///default (libvirt's built-in inventory) and test://HOST/... (remote). */
static char *
s_node_path(const char *uri)
{
	const char *p, *q;

	if (!uri || strncmp(uri, "test:///", 8) != 0)
		return NULL;
	p = uri + 7;
	q = p + strcspn(p, "?#");
	if ((size_t)(q - p) == strlen("/default") && strncmp(p, "/default", 8) == 0)
		return NULL;
	return strndup(p, (size_t)(q - p));
}

static int
s_epoll_add(struct s_lv *lv, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(lv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int
s_watch_start(vs_hv_t *hv)
{
	struct s_lv *lv = hv->priv;
	char *slash = strrchr(lv->node_path, '/');
	char dir[PATH_MAX];
	int rc;

	lv->node_name = slash + 1;
	snprintf(dir, sizeof(dir), "%.*s", slash == lv->node_path ? 1 : (int)(slash - lv->node_path),
	    lv->node_path);
	lv->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	lv->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (lv->ifd < 0 || lv->tfd < 0)
		return vs_hv_fail(hv, -errno, "libvirt: cannot watch %s: %s", lv->node_path,
		    strerror(errno));
	/* rename() replaces the inode: watch the directory for the name, not the file. */
	lv->wd = inotify_add_watch(lv->ifd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE |
	    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
	if (lv->wd < 0)
		return vs_hv_fail(hv, -errno, "libvirt: cannot watch directory %s: %s", dir,
		    strerror(errno));
	if ((rc = s_epoll_add(lv, lv->ifd)) < 0 || (rc = s_epoll_add(lv, lv->tfd)) < 0)
		return vs_hv_fail(hv, rc, "libvirt: epoll: %s", strerror(-rc));
	return 0;
}

/* Reads the inotify queue; on a change of our file (re)arms the settle timer. */
static void
s_watch_drain(vs_hv_t *hv)
{
	struct s_lv *lv = hv->priv;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;
	ssize_t len;

	while ((len = read(lv->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len; ) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				changed = 1;
			else if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				if (lv->wd >= 0)
					vs_warn("libvirt: the directory of %s went away; no longer "
					    "following it", lv->node_path);
				if (!(ev->mask & IN_IGNORED))
					inotify_rm_watch(lv->ifd, lv->wd);
				lv->wd = -1;
			} else if (ev->len && strcmp(ev->name, lv->node_name) == 0)
				changed = 1;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (!changed)
		return;

	long long now = s_now_ns(), due = now + S_SETTLE_NS;
	if (!lv->pending_since)
		lv->pending_since = now;
	if (due > lv->pending_since + S_MAX_DELAY_NS)
		due = lv->pending_since + S_MAX_DELAY_NS;
	struct itimerspec its = {
		.it_value = { .tv_sec = due / 1000000000LL, .tv_nsec = due % 1000000000LL },
	};
	if (timerfd_settime(lv->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		vs_warn("libvirt: timerfd_settime: %s", strerror(errno));
}

struct s_snap {
	virDomainPtr dom;
	unsigned int id;
	unsigned char uuid[VIR_UUID_BUFLEN];
	char *xml;                      /* inactive definition, to compare */
	int seen;
};

static void
s_snap_free(struct s_snap *s, int n)
{
	for (int i = 0; i < n; i++) {
		virDomainFree(s[i].dom);
		free(s[i].xml);
	}
	free(s);
}

static int
s_cmp_snap(const void *a, const void *b)
{
	const struct s_snap *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The running domains of c, each with its definition. -1 with libvirt's error set. */
static int
s_snapshot(virConnectPtr c, struct s_snap **out)
{
	virDomainPtr *vd = NULL;
	struct s_snap *s;
	int nv, n = 0;

	*out = NULL;
	nv = virConnectListAllDomains(c, &vd, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (nv < 0)
		return -1;
	s = calloc(nv ? (size_t)nv : 1, sizeof(*s));
	if (!s) {
		for (int i = 0; i < nv; i++)
			virDomainFree(vd[i]);
		free(vd);
		return -1;
	}
	for (int i = 0; i < nv; i++) {
		s[n].dom = vd[i];
		s[n].id = virDomainGetID(vd[i]);
		if (virDomainGetUUID(vd[i], s[n].uuid) < 0 ||
		    !(s[n].xml = virDomainGetXMLDesc(vd[i], VIR_DOMAIN_XML_INACTIVE))) {
			virDomainFree(vd[i]);
			continue;       /* went away meanwhile */
		}
		n++;
	}
	free(vd);
	/* in id order, which for a node file is document order: new domains start in the
	 * order the file lists them (libvirt lists them in hash order) */
	qsort(s, (size_t)n, sizeof(*s), s_cmp_snap);
	*out = s;
	return n;
}

static struct s_snap *
s_snap_find(struct s_snap *s, int n, const unsigned char *uuid)
{
	for (int i = 0; i < n; i++)
		if (memcmp(s[i].uuid, uuid, VIR_UUID_BUFLEN) == 0)
			return &s[i];
	return NULL;
}

/* Applies the node file's domains to our connection (see the comment at the top). */
static void
s_node_apply(vs_hv_t *hv)
{
	struct s_lv *lv = hv->priv;
	struct s_snap *old = NULL, *new = NULL;
	int n_old = -1, n_new = -1, added = 0, removed = 0, failed = 0;
	virConnectPtr fresh;

	if (access(lv->node_path, R_OK) < 0) {
		/* (libxml2 would also print its own warning about it on stderr) */
		vs_hv_fail(hv, -errno, "libvirt: node file %s not reloaded, keeping the previous "
		    "inventory: %s", lv->node_path, strerror(errno));
		vs_warn("%s", hv->error);
		return;
	}
	fresh = virConnectOpen(lv->uri);
	if (!fresh) {
		s_virt_fail(hv, -EINVAL, "node file not reloaded, keeping the previous inventory");
		vs_warn("%s", hv->error);
		return;
	}
	if ((n_new = s_snapshot(fresh, &new)) < 0 || (n_old = s_snapshot(lv->conn, &old)) < 0) {
		s_virt_fail(hv, -EIO, "node file not reloaded, keeping the previous inventory");
		vs_warn("%s", hv->error);
		goto out;
	}
	/* Gone or changed: stop it (a domain of the original file is persistent: undefine it
	 * too, so that its UUID can come back under another name). */
	for (int i = 0; i < n_old; i++) {
		struct s_snap *o = &old[i], *m = s_snap_find(new, n_new, o->uuid);

		if (m && strcmp(m->xml, o->xml) == 0) {
			m->seen = 1;
			continue;
		}
		s_ids_put(lv, o->uuid, o->id);  /* so that dispatch can name it */
		s_refs_drop(lv, o->id);
		if (virDomainDestroy(o->dom) < 0 && !s_vanished()) {
			s_virt_fail(hv, -EIO, "node file: cannot stop a domain");
			vs_warn("%s", hv->error);
			failed++;
			if (m)
				m->seen = 1;    /* leave it as it is */
			continue;
		}
		if (virDomainIsPersistent(o->dom) == 1)
			virDomainUndefine(o->dom);
		removed++;
	}
	for (int i = 0; i < n_new; i++) {
		virDomainPtr d;

		if (new[i].seen)
			continue;
		if (!(d = virDomainCreateXML(lv->conn, new[i].xml, 0))) {
			s_virt_fail(hv, -EIO, "node file: cannot start a domain");
			vs_warn("%s", hv->error);
			failed++;
			continue;
		}
		virDomainFree(d);       /* its STARTED event brings the id */
		added++;
	}
	if (added || removed || failed)
		vs_info("libvirt: %s changed: %d domain(s) stopped, %d started, %d failed",
		    lv->node_path, removed, added, failed);
out:
	if (old)
		s_snap_free(old, n_old < 0 ? 0 : n_old);
	if (new)
		s_snap_free(new, n_new < 0 ? 0 : n_new);
	virConnectClose(fresh);
}

/* ---- open / close --------------------------------------------------------------------- */

static void s_close(vs_hv_t *hv);

static int
s_open_fail(vs_hv_t *hv, const char *uri)
{
	int rc;

	switch (s_virt_code()) {
	case VIR_ERR_AUTH_FAILED:
	case VIR_ERR_AUTH_CANCELLED:
	case VIR_ERR_OPERATION_DENIED:
	case VIR_ERR_ACCESS_DENIED:
		rc = -EACCES;
		break;
	default:
		rc = -ECONNREFUSED;
	}
	return vs_hv_fail(hv, rc, "libvirt: cannot connect to %s: %s",
	    uri ? uri : "the default URI", s_virt_msg());
}

static int
s_register(vs_hv_t *hv)
{
	struct s_lv *lv = hv->priv;

	lv->lifecycle_id = virConnectDomainEventRegisterAny(lv->conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(s_on_lifecycle),
	    s_sink_ref(lv->sink), s_sink_unref);
	if (lv->lifecycle_id < 0) {
		s_sink_unref(lv->sink);         /* libvirt did not take it */
		return -1;
	}
	return 0;
}

static int
s_open(vs_hv_t *hv, const char *uri)
{
	struct s_lv *lv;
	char *real;
	int rc;

	hv->priv = NULL;
	hv->simulated = uri && strncmp(uri, "test", 4) == 0 && (uri[4] == ':' || uri[4] == '+');
	pthread_once(&s_init_once, s_global_init);
	if (s_init_rc < 0)
		return vs_hv_fail(hv, s_init_rc, "libvirt: cannot initialise: %s", s_virt_msg());
	if (!(lv = calloc(1, sizeof(*lv))))
		return vs_hv_fail(hv, -ENOMEM, "libvirt: out of memory");
	hv->priv = lv;
	lv->lifecycle_id = -1;
	lv->epfd = lv->ifd = lv->wd = lv->tfd = -1;
	lv->stats_flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |
	    VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
	if (uri && !(lv->uri = strdup(uri))) {
		rc = vs_hv_fail(hv, -ENOMEM, "libvirt: out of memory");
		goto out;
	}
	if (!(lv->sink = s_sink_new()) || (lv->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		rc = vs_hv_fail(hv, -errno, "libvirt: cannot create event pipe: %s", strerror(errno));
		goto out;
	}
	if ((rc = s_epoll_add(lv, lv->sink->rfd)) < 0) {
		vs_hv_fail(hv, rc, "libvirt: epoll: %s", strerror(-rc));
		goto out;
	}
	/* The event implementation must exist before the connection is opened. */
	if ((rc = s_loop_acquire()) < 0) {
		vs_hv_fail(hv, rc, "libvirt: cannot start the event thread: %s", strerror(-rc));
		goto out;
	}
	lv->loop_held = 1;

	lv->node_path = s_node_path(uri);
	if (lv->node_path) {
		/* Say plainly what is wrong (the test driver's own message is an XML error) */
		if (access(lv->node_path, R_OK) < 0) {
			rc = vs_hv_fail(hv, -errno, "libvirt: cannot read node file %s: %s",
			    lv->node_path, strerror(errno));
			goto out;
		}
		/* Watch before reading, so that no replacement goes unseen. */
		if ((rc = s_watch_start(hv)) < 0)
			goto out;
	}

	/* Monitoring needs no more than read-only, except: the test driver, where the node
	 * file's changes are applied through this connection, and drivers that refuse
	 * events on a read-only connection (retried read-write below). */
	lv->readonly = !hv->simulated;
	lv->conn = lv->readonly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri);
	if (!lv->conn) {
		rc = s_open_fail(hv, uri);
		goto out;
	}
	if (s_register(hv) < 0) {
		char why[sizeof(hv->error)];
		virConnectPtr rw;

		snprintf(why, sizeof(why), "%s", s_virt_msg());
		if (lv->readonly && (rw = virConnectOpen(uri))) {
			virConnectClose(lv->conn);
			lv->conn = rw;
			lv->readonly = 0;
			if (s_register(hv) < 0)
				snprintf(why, sizeof(why), "%s", s_virt_msg());
		}
		if (lv->lifecycle_id < 0)
			vs_warn("libvirt: %s: no lifecycle events (%s); domains are seen only when "
			    "listed", uri ? uri : "default URI", why);
	}
	/* No reference for this one: a driver without close callbacks (the in-process ones,
	 * test included) still returns 0 and would never free it, and the remote driver calls
	 * it under a lock that unregistering takes, so after s_close's unregister it cannot
	 * run any more. */
	if (virConnectRegisterCloseCallback(lv->conn, s_on_close, lv->sink, NULL) == 0)
		lv->close_cb = 1;
	if (!hv->simulated)
		virConnectSetKeepAlive(lv->conn, 5, 3); /* remote only; notices a dead daemon */

	real = virConnectGetURI(lv->conn);
	snprintf(hv->uri, sizeof(hv->uri), "%s", real ? real : (uri ? uri : ""));
	free(real);
	virResetLastError();
	rc = 0;
out:
	if (rc < 0) {
		char keep[sizeof(hv->error)];

		memcpy(keep, hv->error, sizeof(keep));
		s_close(hv);
		memcpy(hv->error, keep, sizeof(keep));
	}
	return rc;
}

static void
s_close(vs_hv_t *hv)
{
	struct s_lv *lv = hv->priv;

	if (!lv)
		return;
	if (lv->conn) {
		if (lv->lifecycle_id >= 0)
			virConnectDomainEventDeregisterAny(lv->conn, lv->lifecycle_id);
		if (lv->close_cb)
			virConnectUnregisterCloseCallback(lv->conn, s_on_close);
		s_refs_clear(lv);
		virConnectClose(lv->conn);
	}
	/* After the connection: stopping the loop runs libvirt's deferred frees. */
	if (lv->loop_held)
		s_loop_release();
	if (lv->ifd >= 0)
		close(lv->ifd);
	if (lv->tfd >= 0)
		close(lv->tfd);
	if (lv->epfd >= 0)
		close(lv->epfd);
	s_sink_unref(lv->sink);
	free(lv->refs);
	free(lv->ids);
	free(lv->order);
	free(lv->seen);
	free(lv->node_path);
	free(lv->uri);
	free(lv);
	hv->priv = NULL;
}

/* ---- events --------------------------------------------------------------------------- */

static int
s_event_fd(vs_hv_t *hv)
{
	struct s_lv *lv = hv->priv;

	if (!lv || (lv->lifecycle_id < 0 && lv->ifd < 0))
		return -1;
	return lv->epfd;
}

static void
s_event(vs_hv_t *hv, const struct s_evrec *r, vs_hv_event_fn fn, void *arg)
{
	struct s_lv *lv = hv->priv;
	struct s_uuidid *e;
	uint32_t id;

	switch (r->kind) {
	case VIR_DOMAIN_EVENT_STARTED:
		if (r->id < 0)
			break;
		s_ids_put(lv, r->uuid, (uint32_t)r->id);
		fn(arg, VS_HV_EV_ADDED, (uint32_t)r->id);
		return;
	case VIR_DOMAIN_EVENT_STOPPED:
		/* libvirt has forgotten the id by now (-1): take it from what we listed */
		if (r->id >= 0) {
			id = (uint32_t)r->id;
			if ((e = s_ids_find(lv, r->uuid, id)))
				s_ids_del(lv, e);
		} else if ((e = s_ids_oldest(lv, r->uuid))) {
			id = e->id;
			s_ids_del(lv, e);
		} else
			break;
		s_refs_drop(lv, id);
		fn(arg, VS_HV_EV_REMOVED, id);
		return;
	case VIR_DOMAIN_EVENT_SUSPENDED:
	case VIR_DOMAIN_EVENT_RESUMED:
	case VIR_DOMAIN_EVENT_SHUTDOWN:
	case VIR_DOMAIN_EVENT_PMSUSPENDED:
	case VIR_DOMAIN_EVENT_CRASHED:
	case VIR_DOMAIN_EVENT_DEFINED:
		/* a running domain's state or definition (a rename, say) changed */
		if (r->id >= 0) {
			fn(arg, VS_HV_EV_CHANGED, (uint32_t)r->id);
			return;
		}
		if (r->kind == VIR_DOMAIN_EVENT_DEFINED)
			return;         /* an inactive domain: not ours */
		break;
	case VIR_DOMAIN_EVENT_UNDEFINED:
		return;
	case S_EV_CONN_CLOSED:
		vs_hv_fail(hv, -ECONNRESET, "libvirt: connection to %s closed (reason %d); reopen",
		    hv->uri, r->detail);
		vs_warn("%s", hv->error);
		break;
	default:
		break;
	}
	fn(arg, VS_HV_EV_CHANGED, 0);   /* cannot say which domain: re-list */
}

static int
s_dispatch(vs_hv_t *hv, vs_hv_event_fn fn, void *arg)
{
	struct s_lv *lv = hv->priv;
	struct s_evrec r;
	uint64_t expirations;
	ssize_t n;

	if (!lv || !lv->conn)
		return s_not_connected(hv);
	if (lv->ifd >= 0)
		s_watch_drain(hv);
	if (lv->tfd >= 0 && read(lv->tfd, &expirations, sizeof(expirations)) == sizeof(expirations)) {
		lv->pending_since = 0;
		s_node_apply(hv);       /* its events come back through the pipe */
	}
	while ((n = read(lv->sink->rfd, &r, sizeof(r))) == (ssize_t)sizeof(r))
		s_event(hv, &r, fn, arg);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return vs_hv_fail(hv, -errno, "libvirt: reading events: %s", strerror(errno));
	if (atomic_exchange(&lv->sink->overflow, 0))
		fn(arg, VS_HV_EV_CHANGED, 0);
	return 0;
}

const struct vs_hv_ops vs_hv_libvirt_ops = {
	.name = "libvirt",
	.open = s_open,
	.list_domains = s_list_domains,
	.read_counters = s_read_counters,
	.event_fd = s_event_fd,
	.dispatch = s_dispatch,
	.close = s_close,
};
