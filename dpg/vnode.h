/* The VNode host: the part of a DPG that runs inside vscoped. Every VNode vmasterd deploys
 * on this host is a record here, driven by the host's own event loop (no thread or socket
 * of its own); all of them share the one DEALER connection to vmasterd. A leaf reads its
 * metric through a callback each period, folds it with the function's local(); a parent
 * combines its children's partial results per round and sends the merge up; the root's
 * goes to vmasterd. */
#ifndef VS_VNODE_H
#define VS_VNODE_H

#include <stddef.h>
#include <stdint.h>

#define VS_DPG_HOST_MAX_DPGS 1024
#define VS_DPG_ROUNDS        4          /* rounds a parent keeps open at once */
#define VS_DPG_HEARTBEAT_NS  250000000LL

typedef struct vs_dpg_dom {
	char name[64];
	char vifs[8][64];
	size_t n_vifs;
} vs_dpg_dom_t;

/* The rate per second of counter metric of entity over the last window_ns: 0 and *rate_r,
 * or -ENOENT/-ENODATA (then the leaf has no sample this round). */
typedef int (*vs_dpg_read_fn)(void *arg, const char *entity, const char *metric,
    int64_t window_ns, double *rate_r);
/* The host's domains for registration: a malloc'd array in *doms_r (the host frees it). */
typedef int (*vs_dpg_inventory_fn)(void *arg, vs_dpg_dom_t **doms_r, size_t *n_r);

/* One metric of the host's part of the metric library: a name its history holds, with its
 * unit, kind, collection function ("source") and the entities that have it. */
typedef struct vs_dpg_metric {
	char name[64];
	char unit[16];
	int counter;
	char source[256];
	uint32_t n_entities;            /* all of them */
	char entities[16][64];          /* the first min(n_entities, 16) */
} vs_dpg_metric_t;
/* The host's metrics: a malloc'd array in *ms_r (the host frees it), at most
 * VS_DPG_MAX_METRICS, names that vs_dpgwire_name_ok accepts. */
typedef int (*vs_dpg_metrics_fn)(void *arg, vs_dpg_metric_t **ms_r, size_t *n_r);

typedef struct vs_dpg_host_config {
	const char *endpoint;           /* vmasterd's ROUTER */
	const char *host;               /* this host's name */
	const char *server_key;         /* Z85: CURVE on tcp://, with public/secret_key */
	const char *public_key;
	const char *secret_key;
	vs_dpg_read_fn read;
	vs_dpg_inventory_fn inventory;
	vs_dpg_metrics_fn metrics;      /* NULL: the host announces no metric library */
	void *arg;
} vs_dpg_host_config_t;

typedef struct vs_dpg_host_stats {
	uint64_t parts_sent, parts_dropped, parts_bad, msgs_bad, parts_late;
	uint64_t deploys;
	uint64_t metric_sends;          /* Registers that carried the metric library */
	uint64_t fn_errors;             /* function callbacks (init, local, combine, result)
					 * that returned an error: the sample or input is left
					 * out, the DPG carries on */
	size_t dpgs, vnodes;
} vs_dpg_host_stats_t;

typedef struct vs_dpg_host vs_dpg_host_t;

/* Connects (the DEALER reconnects by itself). NULL and errno, message in err. */
vs_dpg_host_t *vs_dpg_host_new(void *zctx, const vs_dpg_host_config_t *cfg, char *err,
    size_t errlen);
void vs_dpg_host_destroy(vs_dpg_host_t **self_p);
void *vs_dpg_host_socket(const vs_dpg_host_t *self);   /* for zmq_poll */
/* Handles everything pending on the socket without blocking. */
void vs_dpg_host_process(vs_dpg_host_t *self);
/* Heartbeats, leaf sampling and round deadlines; call at least every 100 ms. */
void vs_dpg_host_tick(vs_dpg_host_t *self, int64_t mono_ns, int64_t real_ns);
void vs_dpg_host_stats(const vs_dpg_host_t *self, vs_dpg_host_stats_t *st_r);

#endif
