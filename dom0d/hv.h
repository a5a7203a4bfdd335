/*
 * The hypervisor backend interface: the only thing vscoped knows about Xen or libvirt.
 * One file per backend (backends/xen.c, backends/libvirt.c) fills a vs_hv_ops table;
 * hv.c holds the one array of compiled-in backends.
 */
#ifndef VS_HV_H
#define VS_HV_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define VS_DOM_NAME_MAX 64
#define VS_UUID_STR_LEN 37
#define VS_DOM_MAX_VIFS 16
#define VS_MAC_STR_LEN  18

typedef struct vs_vif {
	char ifname[IF_NAMESIZE];       /* host-side interface, e.g. "vif3.0" */
	uint32_t devid;
	char mac[VS_MAC_STR_LEN];       /* "aa:bb:cc:dd:ee:ff" or "" */
} vs_vif_t;

typedef enum {
	VS_DOM_UNKNOWN = 0, VS_DOM_RUNNING, VS_DOM_BLOCKED, VS_DOM_PAUSED, VS_DOM_SHUTDOWN,
	VS_DOM_CRASHED, VS_DOM_DYING, VS_DOM_SHUTOFF,
} vs_dom_state_t;

typedef struct vs_dom {
	uint32_t id;                    /* hypervisor's domain id */
	char name[VS_DOM_NAME_MAX];
	char uuid[VS_UUID_STR_LEN];     /* lower-case, with dashes; "" if unknown */
	vs_dom_state_t state;
	uint64_t mem_kib;               /* current allocation */
	uint64_t maxmem_kib;
	uint32_t vcpus;                 /* online VCPUs */
	uint64_t cpu_ns;                /* cumulative CPU time of all VCPUs */
	size_t n_vifs;
	vs_vif_t vifs[VS_DOM_MAX_VIFS];
} vs_dom_t;

typedef struct vs_hv vs_hv_t;

/* What changed, as far as the backend knows; domid 0 with VS_HV_EV_CHANGED = "re-list". */
typedef enum { VS_HV_EV_ADDED, VS_HV_EV_REMOVED, VS_HV_EV_CHANGED } vs_hv_event_t;
typedef void (*vs_hv_event_fn)(void *arg, vs_hv_event_t ev, uint32_t domid);

struct vs_hv_ops {
	const char *name;               /* "xen", "libvirt" */
	/* uri may be NULL (backend default). 0 or -errno; the error text via vs_hv_error(). */
	int (*open)(vs_hv_t *hv, const char *uri);
	/* Every domain the host runs, Dom0 included where the hypervisor shows one, with its
	 * VIFs. *doms_r is malloc'd, the caller frees it. A domain that vanishes mid-scan is
	 * skipped, not an error. */
	int (*list_domains)(vs_hv_t *hv, vs_dom_t **doms_r, size_t *n_r);
	/* Fast path, once per tick: refresh state, cpu_ns, mem_kib, maxmem_kib, vcpus of the
	 * n domains in doms (matched by id). A domain no longer there gets state
	 * VS_DOM_UNKNOWN and is otherwise left alone. */
	int (*read_counters)(vs_hv_t *hv, vs_dom_t *doms, size_t n);
	/* An fd to poll for readability that signals lifecycle events, or -1 if none. */
	int (*event_fd)(vs_hv_t *hv);
	/* Drains pending events, calling fn for each; 0 or -errno. */
	int (*dispatch)(vs_hv_t *hv, vs_hv_event_fn fn, void *arg);
	void (*close)(vs_hv_t *hv);
	/* Optional (NULL where the hypervisor has no per-guest store; the guest intake then
	 * uses provisioned keys only). Writes endpoint and the intake's Z85 server key into
	 * domain domid's own subtree (xen: /local/domain/<domid>/data/vscope/endpoint and
	 * .../serverkey) unless they are there already, and reads the key that domain's agent
	 * published there (.../agent-key), which only the domain itself and Dom0 can write.
	 * 0 with the key in key_r (VS_Z85_KEY_LEN + 1 bytes, checked to be Z85), -ENOENT when
	 * the domain published none (or nothing valid), another -errno on failure. */
	int (*guest_exchange)(vs_hv_t *hv, uint32_t domid, const char *endpoint,
	    const char *server_key, char *key_r, size_t key_len);
};

struct vs_hv {
	const struct vs_hv_ops *ops;
	void *priv;                     /* the backend's own state */
	char uri[256];                  /* what was opened, for display */
	int simulated;                  /* set by a backend that knows it drives a simulation */
	char error[256];                /* last error, for logs and replies */
};

/* "auto", "xen", "libvirt" or "libvirt:URI". auto = xen when /proc/xen exists, else libvirt
 * with its default URI. Returns a handle or NULL with errno (ENOENT: unknown or not compiled
 * in; the message is in err, which may be NULL). */
vs_hv_t *vs_hv_new(const char *spec, char *err, size_t errlen);
int  vs_hv_open(vs_hv_t *hv);          /* (re)opens with the URI given at vs_hv_new */
void vs_hv_destroy(vs_hv_t **hv_p);
const char *vs_hv_error(const vs_hv_t *hv);
/* Sets hv->error (printf style) and returns rc, for backends. */
int  vs_hv_fail(vs_hv_t *hv, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Names of the compiled-in backends, comma-separated. */
const char *vs_hv_backends(void);
/* One letter as xl prints it: r b p s c d, or '-'. */
char vs_dom_state_char(vs_dom_state_t st);

#endif
