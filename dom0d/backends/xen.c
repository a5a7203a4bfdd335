/*
 * The Xen backend: libxenctrl for what the hypervisor knows (ids, state, CPU time, memory,
 * VCPUs) and libxenstore for what the toolstack wrote (names, backend VIFs) and for the
 * lifecycle watches.  Shaped after libxenstat (tools/libs/stat/xenstat.c): one
 * xc_domain_getinfolist() per snapshot, names and VIFs from xenstore, and a domain without
 * a name there (being built, being destroyed, or gone between the two reads) is skipped.
 *
 * Xenstore paths read (written by the Dom0 toolstack, read-only to guests; still checked):
 *   /local/domain/<id>/name
 *   /local/domain/0/backend/vif/<domid>/<devid>/{vifname,mac}
 *
 * Events: xenstored fires @releaseDomain when a domain shuts down or starts dying, not when
 * the dying domain is finally gone (seen on 4.17: gone ~0.2 s later, with no watch firing).
 * So while a domain is dying a timerfd re-checks the domain list (50 ms, doubling to 1 s),
 * and event_fd() is an epoll fd over the xenstore watch fd and that timer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <xenctrl.h>
#include <xenstore.h>

#include "hv.h"
#include "vifname.h"

/* The domain info array starts with room for S_INFO_CAP0 domains and doubles when full;
 * each hypercall asks for at most S_BATCH_MAX (libxl's batch; 112 KiB of bounce buffer,
 * within Linux privcmd-buf's default 64 pages), so read_counters() is one hypercall on
 * hosts with up to 1024 domains. */
#define S_INFO_CAP0     256
#define S_BATCH_MAX     1024u
#define S_VIF_ROOT      "/local/domain/0/backend/vif"
/* More distinct domains than this in one drain of VIF watch events: say "re-list" once. */
#define S_EV_MAX_IDS    32
/* Re-checks while a domain is dying: first after this, doubling up to the cap. */
#define S_RECHECK_MS0   50
#define S_RECHECK_MSMAX 1000

enum { S_TOK_INTRO, S_TOK_RELEASE, S_TOK_VIF };
static const char *const s_tokens[] = { "vs-intro", "vs-release", "vs-vif" };
static const char *const s_watch_paths[] = { "@introduceDomain", "@releaseDomain", S_VIF_ROOT };

/* libxenctrl logs through a xentoollog_logger (stderr by default); ours keeps the last
 * warning or error so that it ends up in hv->error instead of on the terminal. */
typedef struct {
	xentoollog_logger vtable;       /* first: libxenctrl sees only this */
	char last[200];
} s_logger_t;

typedef struct {
	xc_interface *xch;
	struct xs_handle *xsh;
	s_logger_t logger;
	xc_domaininfo_t *info;          /* last getinfolist result, sorted by domain id */
	size_t info_n, info_cap;
	uint32_t *known;                /* domain ids as of the last dispatch(), sorted */
	size_t known_n;
	int epfd;                       /* event_fd(): the watch fd and tfd */
	int tfd;                        /* re-check timer while a domain is dying */
	unsigned recheck_ms;            /* its current period; 0 when disarmed */
} s_xen_t;

static void s_logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
		const char *context, const char *format, va_list al)
	__attribute__((format(printf, 5, 0)));

static void
s_logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
		const char *context, const char *format, va_list al)
{
	s_logger_t *self = (s_logger_t *)logger;
	size_t len;

	(void)context;
	if (level < XTL_WARN)
		return;
	vsnprintf(self->last, sizeof(self->last), format, al);
	len = strlen(self->last);
	if (errnoval > 0 && len < sizeof(self->last))
		snprintf(self->last + len, sizeof(self->last) - len, ": %s", strerror(errnoval));
}

static void
s_logger_destroy(xentoollog_logger *logger)
{
	(void)logger;                   /* embedded in s_xen_t; freed with it */
}

static int
s_errno(int dflt)
{
	return errno > 0 ? -errno : -dflt;
}

static vs_dom_state_t
s_state(uint32_t flags)
{
	/* The order xl would pick if it printed only one letter. */
	if (flags & XEN_DOMINF_dying)
		return VS_DOM_DYING;
	if (flags & XEN_DOMINF_shutdown) {
		unsigned reason = (flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
		return reason == SHUTDOWN_crash ? VS_DOM_CRASHED : VS_DOM_SHUTDOWN;
	}
	if (flags & XEN_DOMINF_paused)
		return VS_DOM_PAUSED;
	if (flags & XEN_DOMINF_blocked)
		return VS_DOM_BLOCKED;
	/* running, or runnable and waiting for a physical CPU: both are "r" to an operator */
	return VS_DOM_RUNNING;
}

static uint64_t
s_pages_kib(uint64_t pages)
{
	const unsigned shift = XC_PAGE_SHIFT - 10;

	if (pages > (UINT64_MAX >> shift))     /* "unlimited" max_pages of a Dom0 */
		return UINT64_MAX;
	return pages << shift;
}

static void
s_fill_counters(vs_dom_t *d, const xc_domaininfo_t *inf)
{
	d->state = s_state(inf->flags);
	d->cpu_ns = inf->cpu_time;
	d->mem_kib = s_pages_kib(inf->tot_pages);
	d->maxmem_kib = s_pages_kib(inf->max_pages);
	d->vcpus = inf->nr_online_vcpus;
}

/* Every domain into x->info (sorted by id, as the hypervisor returns them), in batches;
 * the array doubles when a batch fills it. */
static int
s_getinfo_all(vs_hv_t *hv, s_xen_t *x)
{
	uint32_t first = 0;
	size_t n = 0;
	unsigned want;
	int r;

	if (!x->info) {
		x->info = calloc(S_INFO_CAP0, sizeof(*x->info));
		if (!x->info)
			return vs_hv_fail(hv, -ENOMEM, "xen: out of memory");
		x->info_cap = S_INFO_CAP0;
	}
	for (;;) {
		if (n == x->info_cap) {
			size_t cap = x->info_cap * 2;
			xc_domaininfo_t *p;

			p = realloc(x->info, cap * sizeof(*p));
			if (!p)
				return vs_hv_fail(hv, -ENOMEM, "xen: out of memory");
			x->info = p;
			x->info_cap = cap;
		}
		want = x->info_cap - n < S_BATCH_MAX ? (unsigned)(x->info_cap - n) : S_BATCH_MAX;
		x->logger.last[0] = '\0';
		r = xc_domain_getinfolist(x->xch, first, want, x->info + n);
		if (r < 0) {
			int rc = s_errno(EIO);
			return vs_hv_fail(hv, rc, "xen: xc_domain_getinfolist: %s",
				x->logger.last[0] ? x->logger.last : strerror(-rc));
		}
		n += (size_t)r;
		if ((unsigned)r < want)
			break;          /* the hypervisor has no more */
		first = (uint32_t)x->info[n - 1].domain + 1;
		if (first >= DOMID_FIRST_RESERVED)
			break;
	}
	x->info_n = n;
	return 0;
}

static const xc_domaininfo_t *
s_find(const s_xen_t *x, uint32_t id)
{
	size_t lo = 0, hi = x->info_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->info[mid].domain == id)
			return &x->info[mid];
		if (x->info[mid].domain < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A xenstore value into buf (NUL-terminated, truncated to the buffer).  0, -ENOENT when the
 * node is not there, or another -errno. */
static int
s_xs_read(s_xen_t *x, const char *path, char *buf, size_t size)
{
	unsigned int len = 0;
	char *v = xs_read(x->xsh, XBT_NULL, path, &len);

	if (!v)
		return s_errno(ENOENT);
	if (len >= size)
		len = (unsigned)size - 1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	free(v);
	return 0;
}

/* Names that come out of xenstore are shown to operators and used as interface names: keep
 * printable ASCII only. */
static bool
s_printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

static bool
s_valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= IF_NAMESIZE)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static int
s_parse_u32(const char *s, uint32_t *v_r)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*v_r = (uint32_t)v;
	return 0;
}

static int
s_cmp_vif(const void *a, const void *b)
{
	const vs_vif_t *va = a, *vb = b;

	return (va->devid > vb->devid) - (va->devid < vb->devid);
}

/* The backend VIFs of domain d from /local/domain/0/backend/vif/<domid>; none is not an
 * error.  0 or -errno (not -ENOENT). */
static int
s_read_vifs(s_xen_t *x, vs_dom_t *d)
{
	char path[128], val[64];
	unsigned int n = 0;
	char **devs;

	d->n_vifs = 0;
	snprintf(path, sizeof(path), S_VIF_ROOT "/%u", d->id);
	devs = xs_directory(x->xsh, XBT_NULL, path, &n);
	if (!devs)
		return errno == ENOENT || errno == 0 ? 0 : -errno;
	for (unsigned int i = 0; i < n && d->n_vifs < VS_DOM_MAX_VIFS; i++) {
		vs_vif_t *v = &d->vifs[d->n_vifs];
		uint32_t devid;

		if (s_parse_u32(devs[i], &devid) < 0)
			continue;
		memset(v, 0, sizeof(*v));
		v->devid = devid;
		/* vif-bridge renames the interface to vifname when the config gives one */
		snprintf(path, sizeof(path), S_VIF_ROOT "/%u/%u/vifname", d->id, devid);
		if (s_xs_read(x, path, val, sizeof(val)) == 0 && s_valid_ifname(val))
			memcpy(v->ifname, val, strlen(val) + 1);
		else
			snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", d->id, devid);
		snprintf(path, sizeof(path), S_VIF_ROOT "/%u/%u/mac", d->id, devid);
		if (s_xs_read(x, path, val, sizeof(val)) == 0 && vs_mac_valid(val)) {
			for (int k = 0; val[k]; k++)
				v->mac[k] = (char)tolower((unsigned char)val[k]);
		}
		d->n_vifs++;
	}
	free(devs);
	qsort(d->vifs, d->n_vifs, sizeof(d->vifs[0]), s_cmp_vif);
	return 0;
}

static void
s_format_uuid(char *buf, const uint8_t h[16])
{
	snprintf(buf, VS_UUID_STR_LEN,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
		h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

static int
s_epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (fd < 0) {
		errno = EBADF;
		return -EBADF;
	}
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* After a look at x->info: keep re-checking while a domain is dying (see the top of the
 * file), backing off when fired is true; disarm when none is. */
static void
s_recheck_arm(s_xen_t *x, bool fired)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	bool dying = false;

	for (size_t i = 0; i < x->info_n && !dying; i++)
		dying = (x->info[i].flags & XEN_DOMINF_dying) != 0;
	if (!dying)
		x->recheck_ms = 0;
	else if (x->recheck_ms == 0)
		x->recheck_ms = S_RECHECK_MS0;
	else if (fired && x->recheck_ms < S_RECHECK_MSMAX)
		x->recheck_ms = x->recheck_ms * 2 > S_RECHECK_MSMAX ? S_RECHECK_MSMAX :
			x->recheck_ms * 2;
	its.it_value.tv_sec = x->recheck_ms / 1000;
	its.it_value.tv_nsec = (long)(x->recheck_ms % 1000) * 1000000L;
	/* it_value 0 disarms; a failure here only delays a REMOVED until the next event */
	(void)timerfd_settime(x->tfd, 0, &its, NULL);
}

/* ---- ops --------------------------------------------------------------------------- */

static void s_close(vs_hv_t *hv);

static int
s_open(vs_hv_t *hv, const char *uri)
{
	s_xen_t *x = NULL;
	int rc;

	if (hv->priv)
		s_close(hv);
	snprintf(hv->uri, sizeof(hv->uri), "xen");
	if (uri && *uri && strcmp(uri, "xen") != 0)
		return vs_hv_fail(hv, -EINVAL, "xen: unsupported URI '%s' (the xen backend "
			"takes none; use libvirt:URI for others)", uri);
	if (access("/proc/xen", F_OK) != 0)
		return vs_hv_fail(hv, -ENOENT, "xen: /proc/xen not found: not a Xen domain "
			"(or xenfs not mounted)");
	if (access("/dev/xen/privcmd", F_OK) != 0 && access("/proc/xen/privcmd", F_OK) != 0)
		return vs_hv_fail(hv, -ENOENT, "xen: no privcmd device (/dev/xen/privcmd): "
			"not a Dom0, or the xen-privcmd module is not loaded");
	if (access("/dev/xen/privcmd", R_OK | W_OK) != 0 &&
	    access("/proc/xen/privcmd", R_OK | W_OK) != 0)
		return vs_hv_fail(hv, -EACCES, "xen: no access to /dev/xen/privcmd: vscoped "
			"needs root in Dom0");

	x = calloc(1, sizeof(*x));
	if (!x)
		return vs_hv_fail(hv, -ENOMEM, "xen: out of memory");
	x->epfd = x->tfd = -1;
	x->logger.vtable.vmessage = s_logger_vmessage;
	x->logger.vtable.destroy = s_logger_destroy;

	errno = 0;
	x->xch = xc_interface_open(&x->logger.vtable, &x->logger.vtable, 0);
	if (!x->xch) {
		rc = geteuid() != 0 ? -EACCES : s_errno(EIO);
		rc = vs_hv_fail(hv, rc, "xen: cannot open the hypervisor interface: %s%s",
			x->logger.last[0] ? x->logger.last : strerror(-rc),
			geteuid() != 0 ? " (vscoped needs root in Dom0)" : "");
		goto out;
	}
	errno = 0;
	x->xsh = xs_open(0);
	if (!x->xsh) {
		rc = s_errno(ECONNREFUSED);
		rc = vs_hv_fail(hv, rc, "xen: cannot connect to xenstored: %s (is it running?)",
			strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < sizeof(s_tokens) / sizeof(s_tokens[0]); i++) {
		if (!xs_watch(x->xsh, s_watch_paths[i], s_tokens[i])) {
			rc = s_errno(EIO);
			rc = vs_hv_fail(hv, rc, "xen: cannot watch %s: %s", s_watch_paths[i],
				strerror(-rc));
			goto out;
		}
	}
	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	x->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (x->epfd < 0 || x->tfd < 0 || s_epoll_add(x->epfd, xs_fileno(x->xsh)) < 0 ||
	    s_epoll_add(x->epfd, x->tfd) < 0) {
		rc = s_errno(EIO);
		rc = vs_hv_fail(hv, rc, "xen: event fd: %s", strerror(-rc));
		goto out;
	}
	hv->priv = x;
	/* The domains that exist now, so that the first dispatch() can tell what was added. */
	rc = s_getinfo_all(hv, x);
	if (rc < 0) {
		hv->priv = NULL;
		goto out;
	}
	x->known = malloc((x->info_n ? x->info_n : 1) * sizeof(*x->known));
	if (!x->known) {
		hv->priv = NULL;
		rc = vs_hv_fail(hv, -ENOMEM, "xen: out of memory");
		goto out;
	}
	for (size_t i = 0; i < x->info_n; i++)
		x->known[i] = x->info[i].domain;
	x->known_n = x->info_n;
	s_recheck_arm(x, false);
	return 0;
out:
	if (x) {
		if (x->epfd >= 0)
			close(x->epfd);
		if (x->tfd >= 0)
			close(x->tfd);
		if (x->xsh)
			xs_close(x->xsh);
		if (x->xch)
			xc_interface_close(x->xch);
		free(x->info);
		free(x->known);
		free(x);
	}
	return rc;
}

static int
s_list_domains(vs_hv_t *hv, vs_dom_t **doms_r, size_t *n_r)
{
	s_xen_t *x = hv->priv;
	vs_dom_t *doms = NULL;
	size_t n = 0;
	int rc;

	*doms_r = NULL;
	*n_r = 0;
	if (!x)
		return vs_hv_fail(hv, -ENOTCONN, "xen: not open");
	rc = s_getinfo_all(hv, x);
	if (rc < 0)
		return rc;
	doms = calloc(x->info_n ? x->info_n : 1, sizeof(*doms));
	if (!doms)
		return vs_hv_fail(hv, -ENOMEM, "xen: out of memory");

	for (size_t i = 0; i < x->info_n; i++) {
		const xc_domaininfo_t *inf = &x->info[i];
		vs_dom_t *d = &doms[n];
		char path[64];

		memset(d, 0, sizeof(*d));
		d->id = inf->domain;
		s_fill_counters(d, inf);
		s_format_uuid(d->uuid, inf->handle);

		snprintf(path, sizeof(path), "/local/domain/%u/name", d->id);
		rc = s_xs_read(x, path, d->name, sizeof(d->name));
		if (rc == -ENOENT || rc == -EACCES) {
			/* As libxenstat does: no name yet (being built: it comes before
			 * @introduceDomain), none any more (being destroyed: the toolstack
			 * removes it first), or gone.  Dom0 before xen-init-dom0 named it. */
			if (d->id != 0)
				continue;
			snprintf(d->name, sizeof(d->name), "Domain-0");
		} else if (rc < 0) {
			rc = vs_hv_fail(hv, rc, "xen: reading %s: %s", path, strerror(-rc));
			goto out;
		}
		if (!s_printable(d->name))
			d->name[0] = '\0';

		if (d->id != 0) {
			rc = s_read_vifs(x, d);
			if (rc < 0) {
				rc = vs_hv_fail(hv, rc, "xen: reading " S_VIF_ROOT "/%u: %s", d->id,
					strerror(-rc));
				goto out;
			}
		}
		n++;
	}
	*doms_r = doms;
	*n_r = n;
	doms = NULL;
	rc = 0;
out:
	free(doms);
	return rc;
}

static int
s_read_counters(vs_hv_t *hv, vs_dom_t *doms, size_t n)
{
	s_xen_t *x = hv->priv;
	int rc;

	if (!x)
		return vs_hv_fail(hv, -ENOTCONN, "xen: not open");
	rc = s_getinfo_all(hv, x);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const xc_domaininfo_t *inf = s_find(x, doms[i].id);

		if (inf)
			s_fill_counters(&doms[i], inf);
		else
			doms[i].state = VS_DOM_UNKNOWN;
	}
	return 0;
}

static int
s_event_fd(vs_hv_t *hv)
{
	s_xen_t *x = hv->priv;

	return x ? x->epfd : -1;
}

/* After @introduceDomain/@releaseDomain: compare the hypervisor's domains with the ones seen
 * at the last call and report each one added or removed.  The number reported, or -errno. */
static int
s_diff_domains(vs_hv_t *hv, s_xen_t *x, vs_hv_event_fn fn, void *arg)
{
	uint32_t *now;
	size_t i = 0, j = 0, events = 0;
	int rc = s_getinfo_all(hv, x);

	if (rc < 0)
		return rc;
	now = malloc((x->info_n ? x->info_n : 1) * sizeof(*now));
	if (!now)
		return vs_hv_fail(hv, -ENOMEM, "xen: out of memory");
	for (size_t k = 0; k < x->info_n; k++)
		now[k] = x->info[k].domain;
	/* both sorted: a merge */
	while (i < x->known_n || j < x->info_n) {
		if (j == x->info_n || (i < x->known_n && x->known[i] < now[j])) {
			fn(arg, VS_HV_EV_REMOVED, x->known[i++]);
			events++;
		} else if (i == x->known_n || now[j] < x->known[i]) {
			fn(arg, VS_HV_EV_ADDED, now[j++]);
			events++;
		} else {
			i++;
			j++;
		}
	}
	free(x->known);
	x->known = now;
	x->known_n = x->info_n;
	return (int)(events > INT32_MAX ? INT32_MAX : events);
}

/* domid from "/local/domain/0/backend/vif/<domid>[/...]"; -EINVAL for the root itself. */
static int
s_vif_path_domid(const char *path, uint32_t *domid_r)
{
	const size_t root = sizeof(S_VIF_ROOT) - 1;
	char buf[16];
	size_t len;

	if (strncmp(path, S_VIF_ROOT "/", root + 1) != 0)
		return -EINVAL;
	path += root + 1;
	len = strcspn(path, "/");
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len);
	buf[len] = '\0';
	return s_parse_u32(buf, domid_r);
}

static int
s_dispatch(vs_hv_t *hv, vs_hv_event_fn fn, void *arg)
{
	s_xen_t *x = hv->priv;
	uint32_t vif_ids[S_EV_MAX_IDS];
	size_t n_vif = 0;
	bool lifecycle = false, relist = false, fired = false;
	uint64_t expirations;
	char **ev;
	int rc = 0;

	if (!x)
		return vs_hv_fail(hv, -ENOTCONN, "xen: not open");
	fired = read(x->tfd, &expirations, sizeof(expirations)) == sizeof(expirations);
	/* Drain first, then report once per domain: a VIF coming up writes a dozen nodes. */
	for (;;) {
		uint32_t domid;

		errno = 0;
		ev = xs_check_watch(x->xsh);
		if (!ev) {
			if (errno != EAGAIN && errno != 0)
				rc = vs_hv_fail(hv, -errno, "xen: reading xenstore watch events: %s",
					strerror(errno));
			break;
		}
		if (strcmp(ev[XS_WATCH_TOKEN], s_tokens[S_TOK_VIF]) == 0) {
			if (s_vif_path_domid(ev[XS_WATCH_PATH], &domid) < 0 || domid == 0) {
				relist = true;
			} else {
				size_t k;

				for (k = 0; k < n_vif && vif_ids[k] != domid; k++)
					;
				if (k == n_vif) {
					if (n_vif < S_EV_MAX_IDS)
						vif_ids[n_vif++] = domid;
					else
						relist = true;
				}
			}
		} else {
			lifecycle = true;
		}
		free(ev);
	}
	if (lifecycle || fired) {
		int r = s_diff_domains(hv, x, fn, arg);

		/* Nothing added or removed after a watch: a domain shut down or started dying
		 * (xenstored fires @releaseDomain then too), or the watch's first firing; the
		 * caller should re-read states.  Failed: the caller should re-list.  A timer
		 * re-check that finds nothing says nothing. */
		if (r < 0 || (r == 0 && lifecycle))
			relist = true;
		if (r < 0 && rc == 0)
			rc = r;
		if (r >= 0)
			s_recheck_arm(x, fired);
	}
	if (relist) {
		fn(arg, VS_HV_EV_CHANGED, 0);
	} else {
		for (size_t k = 0; k < n_vif; k++)
			fn(arg, VS_HV_EV_CHANGED, vif_ids[k]);
	}
	return rc;
}

static void
s_close(vs_hv_t *hv)
{
	s_xen_t *x = hv->priv;

	if (!x)
		return;
	if (x->epfd >= 0)
		close(x->epfd);
	if (x->tfd >= 0)
		close(x->tfd);
	if (x->xsh)
		xs_close(x->xsh);       /* drops the watches with the connection */
	if (x->xch)
		xc_interface_close(x->xch);
	free(x->info);
	free(x->known);
	free(x);
	hv->priv = NULL;
}

/* Writes path = value unless it already holds exactly that (no needless xenstore traffic or
 * watch events in the guest). */
static int
s_xs_ensure(s_xen_t *x, const char *path, const char *value)
{
	char cur[300];

	if (s_xs_read(x, path, cur, sizeof(cur)) == 0 && !strcmp(cur, value))
		return 0;
	if (!xs_write(x->xsh, XBT_NULL, path, value, (unsigned)strlen(value)))
		return s_errno(EIO);
	return 0;
}

static int
s_guest_exchange(vs_hv_t *hv, uint32_t domid, const char *endpoint, const char *server_key,
    char *key_r, size_t key_len)
{
	s_xen_t *x = hv->priv;
	char path[128], val[128];
	size_t n;
	int rc;

	if (x == NULL || domid == 0 || key_len < 41)
		return -EINVAL;
	/* nodes made under the guest's data/ inherit its permissions: the guest can read them */
	snprintf(path, sizeof(path), "/local/domain/%u/data/vscope/endpoint", domid);
	if ((rc = s_xs_ensure(x, path, endpoint)) < 0)
		return rc;
	snprintf(path, sizeof(path), "/local/domain/%u/data/vscope/serverkey", domid);
	if ((rc = s_xs_ensure(x, path, server_key)) < 0)
		return rc;
	snprintf(path, sizeof(path), "/local/domain/%u/data/vscope/agent-key", domid);
	if ((rc = s_xs_read(x, path, val, sizeof(val))) < 0)
		return rc;
	/* written by the guest: untrusted; exactly 40 Z85 characters or nothing */
	n = strlen(val);
	while (n > 0 && (val[n - 1] == '\n' || val[n - 1] == ' '))
		val[--n] = '\0';
	if (n != 40)
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    ".-:+=^!/*?&<>()[]{}@%$#", val[i]))
			return -ENOENT;
	memcpy(key_r, val, n + 1);
	return 0;
}

const struct vs_hv_ops vs_hv_xen_ops = {
	.name = "xen",
	.open = s_open,
	.list_domains = s_list_domains,
	.read_counters = s_read_counters,
	.event_fd = s_event_fd,
	.dispatch = s_dispatch,
	.close = s_close,
	.guest_exchange = s_guest_exchange,
};
