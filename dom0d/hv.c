/*
 * Hypervisor backend selection: the one array of compiled-in backends, the spec parser
 * ("auto", "xen", "libvirt", "libvirt:URI") and the helpers every backend shares.
 */
#include "config.h"

#include "hv.h"
#include "backends/backends.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The only place that knows which backends were compiled in (configure's --with-xen,
 * --with-libvirt); everything else goes through the ops table. Order = preference of
 * "auto" when its own test (/proc/xen) does not decide. */
static const struct vs_hv_ops *const s_backends[] = {
#if HAVE_XEN
	&vs_hv_xen_ops,
#endif
#if HAVE_LIBVIRT
	&vs_hv_libvirt_ops,
#endif
	NULL,
};

/* What vs_hv_new hands out: the public handle plus what vs_hv_open needs to reopen. */
struct s_hv_handle {
	vs_hv_t hv;             /* first: a vs_hv_t * from vs_hv_new points here */
	char *arg;              /* the part after "name:", NULL for the backend's default */
	int opened;
};

static char s_names[128];
static pthread_once_t s_names_once = PTHREAD_ONCE_INIT;

static void
s_names_init(void)
{
	size_t off = 0;

	for (size_t i = 0; s_backends[i]; i++) {
		int n = snprintf(s_names + off, sizeof(s_names) - off, "%s%s", off ? ", " : "",
		    s_backends[i]->name);
		if (n < 0 || (size_t)n >= sizeof(s_names) - off)
			break;
		off += (size_t)n;
	}
}

const char *
vs_hv_backends(void)
{
	pthread_once(&s_names_once, s_names_init);
	return s_names;
}

static const struct vs_hv_ops *
s_find(const char *name, size_t len)
{
	for (size_t i = 0; s_backends[i]; i++)
		if (strlen(s_backends[i]->name) == len && memcmp(s_backends[i]->name, name, len) == 0)
			return s_backends[i];
	return NULL;
}

/* Backends that exist somewhere in the tree, to tell "not compiled in" from "unknown". */
static int
s_known(const char *name, size_t len)
{
	static const char *const all[] = { "xen", "libvirt" };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strlen(all[i]) == len && memcmp(all[i], name, len) == 0)
			return 1;
	return 0;
}

static vs_hv_t *
s_fail_new(int e, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static vs_hv_t *
s_fail_new(int e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return NULL;
}

vs_hv_t *
vs_hv_new(const char *spec, char *err, size_t errlen)
{
	const struct vs_hv_ops *ops = NULL;
	const char *arg = NULL;
	struct s_hv_handle *h;

	if (err && errlen)
		err[0] = '\0';
	if (!spec || !*spec)
		spec = "auto";

	const char *colon = strchr(spec, ':');
	size_t namelen = colon ? (size_t)(colon - spec) : strlen(spec);

	if (namelen == 4 && memcmp(spec, "auto", 4) == 0) {
		if (colon)
			return s_fail_new(EINVAL, err, errlen,
			    "hypervisor backend 'auto' takes no argument (got '%s')", spec);
		if (access("/proc/xen", F_OK) == 0)
			ops = s_find("xen", 3);
		if (!ops)
			ops = s_find("libvirt", 7);
		if (!ops)
			ops = s_backends[0];
		if (!ops)
			return s_fail_new(ENOENT, err, errlen, "no hypervisor backend compiled in");
	} else {
		ops = s_find(spec, namelen);
		if (!ops)
			return s_fail_new(ENOENT, err, errlen,
			    s_known(spec, namelen)
			    ? "hypervisor backend '%.*s' is not compiled in (compiled in: %s)"
			    : "unknown hypervisor backend '%.*s' (compiled in: %s)",
			    (int)namelen, spec, vs_hv_backends());
		if (colon) {
			arg = colon + 1;
			if (!*arg)
				return s_fail_new(EINVAL, err, errlen,
				    "empty URI after '%.*s:' (use '%.*s' alone for the default)",
				    (int)namelen, spec, (int)namelen, spec);
			if (strlen(arg) >= sizeof(((vs_hv_t *)0)->uri))
				return s_fail_new(ENAMETOOLONG, err, errlen,
				    "hypervisor URI too long (%zu bytes, at most %zu)", strlen(arg),
				    sizeof(((vs_hv_t *)0)->uri) - 1);
		}
	}

	h = calloc(1, sizeof(*h));
	if (!h)
		return s_fail_new(ENOMEM, err, errlen, "out of memory");
	if (arg && !(h->arg = strdup(arg))) {
		free(h);
		return s_fail_new(ENOMEM, err, errlen, "out of memory");
	}
	h->hv.ops = ops;
	/* For display until the backend says what it really opened. */
	snprintf(h->hv.uri, sizeof(h->hv.uri), "%s", arg ? arg : "");
	return &h->hv;
}

int
vs_hv_open(vs_hv_t *hv)
{
	struct s_hv_handle *h = (struct s_hv_handle *)hv;
	int rc;

	if (!hv)
		return -EINVAL;
	if (h->opened) {
		hv->ops->close(hv);
		h->opened = 0;
	}
	hv->error[0] = '\0';
	rc = hv->ops->open(hv, h->arg);
	if (rc < 0) {
		if (!hv->error[0])
			vs_hv_fail(hv, rc, "%s: cannot open: %s", hv->ops->name, strerror(-rc));
		return rc;
	}
	h->opened = 1;
	return 0;
}

void
vs_hv_destroy(vs_hv_t **hv_p)
{
	struct s_hv_handle *h;

	if (!hv_p || !*hv_p)
		return;
	h = (struct s_hv_handle *)*hv_p;
	if (h->opened)
		h->hv.ops->close(&h->hv);
	free(h->arg);
	free(h);
	*hv_p = NULL;
}

const char *
vs_hv_error(const vs_hv_t *hv)
{
	return hv ? hv->error : "no hypervisor handle";
}

int
vs_hv_fail(vs_hv_t *hv, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hv->error, sizeof(hv->error), fmt, ap);
	va_end(ap);
	/* one line for logs and replies (libvirt's XML errors span three) */
	for (char *p = hv->error; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return rc;
}

char
vs_dom_state_char(vs_dom_state_t st)
{
	switch (st) {
	case VS_DOM_RUNNING:  return 'r';
	case VS_DOM_BLOCKED:  return 'b';
	case VS_DOM_PAUSED:   return 'p';
	case VS_DOM_SHUTDOWN: return 's';
	case VS_DOM_CRASHED:  return 'c';
	case VS_DOM_DYING:    return 'd';
	case VS_DOM_UNKNOWN:
	case VS_DOM_SHUTOFF:
		break;
	}
	return '-';
}
