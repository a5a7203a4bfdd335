/*
 * vscoped's shaping: the rules in force with their leases, checked against the
 * virtualization graph (only VIFs of known domains), published as metrics of the domain
 * (shape.from_vm.bytes, ...), removed when the lease expires or the domain goes away.
 * The tc work is shaping/shape.h's.
 */
#ifndef VS_SHAPER_H
#define VS_SHAPER_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "shape.h"

#define VS_SHAPER_MAX_RULES 256
#define VS_SHAPER_DEFAULT_TTL_NS (600LL * 1000000000LL)
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define VS_SHAPER_DEFAULT_DIR RUNSTATEDIR "/vscope/shaping"

enum { VS_SHM_BYTES, VS_SHM_PACKETS, VS_SHM_DROPS, VS_SHM_OVERLIMITS, VS_SHM_N };

typedef struct vs_shaper_rule {
	vs_shape_rule_t r;
	vs_shape_stats_t from, to;      /* latest read */
	int series[2][VS_SHM_N];        /* from-vm, to-vm; -1 none */
	uint64_t last[2][VS_SHM_N];
	int have_last[2];
} vs_shaper_rule_t;

typedef struct vs_shaper vs_shaper_t;
struct vs_sampler;

/* NULL and errno, message in err. */
vs_shaper_t *vs_shaper_new(const char *state_dir, char *err, size_t errlen);
void vs_shaper_destroy(vs_shaper_t **self_p);
/* Removes every vscope-owned rule and IFB of an earlier run (state files, then a scan for
 * our marks). Returns how many, or -errno. */
int vs_shaper_cleanup(vs_shaper_t *self);
/* Installs (or renews) the rule for each VIF of domain (or just vif when not empty).
 * The domain must be in g, not Dom0, and the VIF one of its present VIFs. 0 or -errno with
 * a message; nothing changes in tc when it fails. */
int vs_shaper_apply(vs_shaper_t *self, const vs_graph_t *g, const vs_shape_rule_t *req,
    int64_t now_ns, char *err, size_t errlen);
int vs_shaper_unshape(vs_shaper_t *self, const vs_graph_t *g, const char *domain,
    const char *vif, char *err, size_t errlen);
/* Expires leases, drops rules of domains or VIFs that left g, refreshes statistics and
 * (with sampler) appends them to the history. */
void vs_shaper_tick(vs_shaper_t *self, const vs_graph_t *g, struct vs_sampler *sampler,
    int64_t now_ns);
/* Refreshes statistics only. */
void vs_shaper_refresh(vs_shaper_t *self);
const vs_shaper_rule_t *vs_shaper_rules(const vs_shaper_t *self, size_t *n_r);

#endif
