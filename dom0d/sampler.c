#include "sampler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hoststat.h"
#include "log.h"
#include "vifstat.h"

#define HOST_ENTITY "host"

struct vs_sampler {
	vs_sampler_config_t cfg;
	vs_history_t *history;
	vs_hv_t *hv;                    /* borrowed */
	vs_links_t *links;
	vs_vifstat_t *vifstat;
	vs_hoststat_t *hoststat;
	vs_sockdiag_t *sockdiag;
	vs_graph_t graph;
	vs_dom_t *scratch;              /* counters as the backend returns them, per tick */
	size_t scratch_cap;
	int host_series[VS_HOSTSTAT_MAX_SLOTS];   /* slot -> series id; -2 unknown, -1 refused */
	uint64_t host_last[VS_HOSTSTAT_MAX_SLOTS];
	uint8_t host_have_last[VS_HOSTSTAT_MAX_SLOTS];
	int conn_series[2];
	int64_t conn_value[2];          /* latest counts; stored every tick as gauges */
	int have_conns;
	uint64_t *counter_abs;          /* per series id: latest raw counter value */
	uint8_t *put_have;              /* per series id: vs_sampler_put saw a counter value */
	uint64_t tick;
	uint64_t dom_every, host_every; /* sample domains / host every N ticks */
	vs_sampler_stats_t stats;
};

static inline void
s_counter(vs_sampler_t *self, int id, uint64_t last, uint64_t cur, int have_last)
{
	if (id < 0)
		return;
	self->counter_abs[id] = cur;
	if (have_last)
		vs_history_append(self->history, id, (int64_t)vs_counter_inc(last, cur));
}

#define VS_HISTORY_DEFAULT_CAP (64ULL << 20)

static uint64_t
s_every(int64_t every_ns, int64_t tick_ns)
{
	int64_t n = (every_ns + tick_ns / 2) / tick_ns;

	return n < 1 ? 1 : (uint64_t)n;
}

static int
s_lookup(void *arg, const char *name)
{
	vs_sampler_t *self = arg;

	return vs_links_ifindex(self->links, name);
}

vs_sampler_t *
vs_sampler_new(const vs_sampler_config_t *cfg, char *err, size_t errlen)
{
	vs_sampler_t *self = calloc(1, sizeof(*self));
	vs_history_config_t hc;
	int64_t ticks;

	if (self == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	self->cfg = *cfg;
	ticks = cfg->history_ns / cfg->interval_ns;
	memset(&hc, 0, sizeof(hc));
	hc.max_series = cfg->max_series;
	hc.max_ticks = (uint32_t)(ticks + 1);
	hc.arena_bytes = cfg->history_memory;
	if (hc.arena_bytes == 0) {
		/* 3 bytes per sample for every slot would be hundreds of MiB on a big host; the
		 * measured mix is about 1 byte (bench/sample-cost), so 64 MiB keeps 10 minutes of
		 * thousands of series, and retention shrinks gracefully if it does not */
		uint64_t want = (uint64_t)cfg->max_series * hc.max_ticks * 3;
		hc.arena_bytes = want < VS_HISTORY_DEFAULT_CAP ? want : VS_HISTORY_DEFAULT_CAP;
	}
	self->dom_every = s_every(cfg->domain_interval_ns, cfg->interval_ns);
	self->host_every = s_every(cfg->host_interval_ns, cfg->interval_ns);
	self->history = vs_history_new(&hc);
	if (self->history == NULL) {
		snprintf(err, errlen, "cannot allocate the history (%llu series, %lld ticks): %s",
		    (unsigned long long)cfg->max_series, (long long)ticks, strerror(errno));
		goto fail;
	}
	self->counter_abs = calloc(cfg->max_series, sizeof(*self->counter_abs));
	if (self->counter_abs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	self->put_have = calloc(cfg->max_series, 1);
	if (self->put_have == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	self->links = vs_links_new();
	if (self->links == NULL) {
		snprintf(err, errlen, "netlink link cache: %s", strerror(errno));
		goto fail;
	}
	self->vifstat = vs_vifstat_new();
	if (self->vifstat == NULL) {
		snprintf(err, errlen, "netlink RTM_GETSTATS socket: %s", strerror(errno));
		goto fail;
	}
	if (cfg->host_metrics) {
		self->hoststat = vs_hoststat_new(cfg->procdir ? cfg->procdir : "/proc");
		if (self->hoststat == NULL)
			vs_warn("host metrics: cannot open %s: %s", cfg->procdir ? cfg->procdir :
			    "/proc", strerror(errno));
	}
	if (cfg->conn_metrics) {
		self->sockdiag = vs_sockdiag_new();
		if (self->sockdiag == NULL)
			vs_warn("TCP connections: NETLINK_SOCK_DIAG unavailable: %s", strerror(errno));
	}
	for (int i = 0; i < VS_HOSTSTAT_MAX_SLOTS; i++)
		self->host_series[i] = -2;
	self->conn_series[0] = vs_history_series_add(self->history, HOST_ENTITY,
	    "tcp.established", "count", VS_KIND_GAUGE);
	self->conn_series[1] = vs_history_series_add(self->history, HOST_ENTITY, "tcp.total",
	    "count", VS_KIND_GAUGE);
	vs_graph_init(&self->graph);
	return self;
fail:
	vs_sampler_destroy(&self);
	return NULL;
}

void
vs_sampler_destroy(vs_sampler_t **self_p)
{
	vs_sampler_t *self = *self_p;

	if (self == NULL)
		return;
	vs_graph_dispose(&self->graph, NULL);
	vs_sockdiag_destroy(&self->sockdiag);
	vs_hoststat_destroy(&self->hoststat);
	vs_vifstat_destroy(&self->vifstat);
	vs_links_destroy(&self->links);
	vs_history_destroy(&self->history);
	free(self->scratch);
	free(self->counter_abs);
	free(self->put_have);
	free(self);
	*self_p = NULL;
}

int
vs_sampler_refresh_inventory(vs_sampler_t *self)
{
	vs_dom_t *doms = NULL;
	size_t n = 0;
	int rc;

	if (self->hv == NULL) {
		rc = vs_graph_update(&self->graph, self->history, NULL, 0);
		goto resolve;
	}
	rc = self->hv->ops->list_domains(self->hv, &doms, &n);
	if (rc < 0) {
		self->stats.hv_errors++;
		return rc;
	}
	rc = vs_graph_update(&self->graph, self->history, doms, n);
	free(doms);
	if (rc < 0)
		return rc;
	if (n > self->scratch_cap) {
		vs_dom_t *s = realloc(self->scratch, n * sizeof(*s));

		if (s == NULL)
			return -ENOMEM;
		self->scratch = s;
		self->scratch_cap = n;
	}
resolve:
	self->stats.inventory_updates++;
	vs_graph_resolve(&self->graph, s_lookup, self);
	return 0;
}

void
vs_sampler_detach_hv(vs_sampler_t *self)
{
	self->hv = NULL;
}

int
vs_sampler_set_hv(vs_sampler_t *self, vs_hv_t *hv)
{
	self->hv = hv;
	return vs_sampler_refresh_inventory(self);
}

int
vs_sampler_links_fd(const vs_sampler_t *self)
{
	return vs_links_fd(self->links);
}

int
vs_sampler_links_event(vs_sampler_t *self)
{
	int rc = vs_links_process(self->links);

	if (rc > 0)
		vs_graph_resolve(&self->graph, s_lookup, self);
	return rc < 0 ? rc : 0;
}

static void
s_vif_counters(void *arg, int ifindex, const uint64_t c[VS_IFC_N])
{
	vs_sampler_t *self = arg;
	vs_gvif_t *gv = vs_graph_vif_by_ifindex(&self->graph, ifindex);

	if (gv == NULL)
		return;         /* not a VIF of a known domain: Dom0's own, the bridge, peth0 */
	for (int i = 0; i < VS_IFC_N; i++)
		s_counter(self, gv->series[i], gv->last[i], c[i], gv->have_last);
	memcpy(gv->last, c, sizeof(gv->last));
	gv->have_last = 1;
	gv->seen_tick = self->tick;
}

static void
s_host_metric(void *arg, int slot, const char *metric, const char *unit, vs_kind_t kind,
    int64_t value)
{
	vs_sampler_t *self = arg;
	int id = self->host_series[slot];

	if (id == -2) {
		id = vs_history_series_add(self->history, HOST_ENTITY, metric, unit, kind);
		if (id == -EEXIST)
			id = vs_history_series_find(self->history, HOST_ENTITY, metric);
		if (id < 0) {
			self->graph.refused_series++;
			id = -1;
		}
		self->host_series[slot] = id;
	}
	if (id < 0)
		return;
	if (kind == VS_KIND_GAUGE) {
		vs_history_append(self->history, id, value);
		return;
	}
	s_counter(self, id, self->host_last[slot], (uint64_t)value, self->host_have_last[slot]);
	self->host_last[slot] = (uint64_t)value;
	self->host_have_last[slot] = 1;
}

static void
s_domains(vs_sampler_t *self)
{
	vs_graph_t *g = &self->graph;

	if (self->hv == NULL || g->n == 0)
		return;
	for (size_t i = 0; i < g->n; i++)
		self->scratch[i] = g->doms[i].dom;
	if (self->hv->ops->read_counters(self->hv, self->scratch, g->n) < 0) {
		self->stats.hv_errors++;
		return;
	}
	for (size_t i = 0; i < g->n; i++) {
		vs_gdom_t *d = &g->doms[i];
		const vs_dom_t *s = &self->scratch[i];

		if (s->state == VS_DOM_UNKNOWN) {
			d->dom.state = VS_DOM_UNKNOWN;  /* gone: the next inventory drops it */
			continue;
		}
		d->dom.state = s->state;
		d->dom.mem_kib = s->mem_kib;
		d->dom.maxmem_kib = s->maxmem_kib;
		d->dom.vcpus = s->vcpus;
		s_counter(self, d->series[VS_DOMM_CPU], d->last_cpu_ns, s->cpu_ns, d->have_last_cpu);
		d->last_cpu_ns = d->dom.cpu_ns = s->cpu_ns;
		d->have_last_cpu = 1;
		if (d->series[VS_DOMM_MEM] >= 0)
			vs_history_append(self->history, d->series[VS_DOMM_MEM], (int64_t)s->mem_kib);
		if (d->series[VS_DOMM_MAXMEM] >= 0)
			vs_history_append(self->history, d->series[VS_DOMM_MAXMEM],
			    (int64_t)s->maxmem_kib);
		if (d->series[VS_DOMM_VCPUS] >= 0)
			vs_history_append(self->history, d->series[VS_DOMM_VCPUS], s->vcpus);
	}
}

int
vs_sampler_tick(vs_sampler_t *self, int64_t now_ns)
{
	int64_t t0 = vs_thread_cpu_ns(), t1, t2, t3;
	int rc;

	self->tick = vs_history_tick(self->history, now_ns);
	rc = vs_vifstat_dump(self->vifstat, s_vif_counters, self);
	if (rc < 0)
		self->stats.vif_dump_errors++;
	t1 = vs_thread_cpu_ns();
	if (self->tick % self->dom_every == 0)
		s_domains(self);
	t2 = vs_thread_cpu_ns();
	if (self->hoststat && self->tick % self->host_every == 0)
		vs_hoststat_read(self->hoststat, s_host_metric, self);
	t3 = vs_thread_cpu_ns();
	self->stats.last_vif_cpu_ns = t1 - t0;
	self->stats.last_dom_cpu_ns = t2 - t1;
	self->stats.last_host_cpu_ns = t3 - t2;
	if (self->have_conns)
		for (int i = 0; i < 2; i++)
			if (self->conn_series[i] >= 0)
				vs_history_append(self->history, self->conn_series[i],
				    self->conn_value[i]);
	self->stats.ticks++;
	self->stats.last_tick_cpu_ns = vs_thread_cpu_ns() - t0;
	return rc;
}

int
vs_sampler_conns(vs_sampler_t *self)
{
	int rc;
	size_t n, total;

	if (self->sockdiag == NULL)
		return -ENOTSUP;
	rc = vs_sockdiag_refresh(self->sockdiag);
	if (rc < 0)
		return rc;
	vs_sockdiag_conns(self->sockdiag, &n, &total);
	/* refreshed more slowly than the tick; the tick stores the latest counts so the
	 * series has no gaps (gaps cost a history block each) */
	self->conn_value[0] = (int64_t)vs_sockdiag_established(self->sockdiag);
	self->conn_value[1] = (int64_t)total;
	self->have_conns = 1;
	return 0;
}

vs_history_t *vs_sampler_history(const vs_sampler_t *self) { return self->history; }
const uint64_t *vs_sampler_counter_abs(const vs_sampler_t *self) { return self->counter_abs; }

void
vs_sampler_counter(vs_sampler_t *self, int id, uint64_t last, uint64_t cur, int have_last)
{
	s_counter(self, id, last, cur, have_last);
}
const vs_graph_t *vs_sampler_graph(const vs_sampler_t *self) { return &self->graph; }
const vs_sockdiag_t *vs_sampler_sockdiag(const vs_sampler_t *self) { return self->sockdiag; }
const vs_sampler_stats_t *vs_sampler_stats(const vs_sampler_t *self) { return &self->stats; }

unsigned
vs_sampler_ncpus(const vs_sampler_t *self)
{
	return self->hoststat ? vs_hoststat_ncpus(self->hoststat) : 0;
}

uint64_t
vs_sampler_mem_kib(const vs_sampler_t *self)
{
	return self->hoststat ? vs_hoststat_mem_kib(self->hoststat) : 0;
}

int
vs_sampler_put(vs_sampler_t *self, const char *entity, const char *metric, const char *unit,
    vs_kind_t kind, int64_t value)
{
	int id = vs_history_series_find(self->history, entity, metric);

	if (id < 0) {
		id = vs_history_series_add(self->history, entity, metric, unit, kind);
		if (id < 0) {
			self->graph.refused_series++;
			return id;
		}
		self->put_have[id] = 0;
	}
	if (kind == VS_KIND_GAUGE)
		return vs_history_append(self->history, id, value);
	if (value < 0)
		return -EINVAL;
	s_counter(self, id, self->counter_abs[id], (uint64_t)value, self->put_have[id]);
	self->put_have[id] = 1;
	return 0;
}
