#include "control.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "log.h"
#include "wire.h"

/* Messages above this are dropped by libzmq with the connection (memory bound); those
 * between VS_CTL_MAX_REQUEST and this get an error reply. */
#define ZMQ_MAX_MSG (1024 * 1024)
#define DEFAULT_POINTS 10000
#define MAX_PARTS 3

struct vs_control {
	void *sock;
	vs_control_ctx_t *ctx;
	char ipc_path[512];
	int bound;
};

/* ---- building replies ------------------------------------------------------------- */

static char *
s_str(const char *s)
{
	return (char *)(s ? s : "");
}

static void
s_host(const vs_control_ctx_t *ctx, Vsctl__Host *h)
{
	vsctl__host__init(h);
	h->name = s_str(ctx->host_name);
	h->hypervisor = s_str(ctx->hv_name);
	h->uri = s_str(ctx->hv_uri);
	h->ncpus = ctx->ncpus;
	h->mem_kib = ctx->mem_kib;
	h->interval_ns = ctx->interval_ns;
	h->history_ns = ctx->history_ns;
	h->started_ns = ctx->started_ns;
	h->ticks = ctx->ticks;
	h->overruns = ctx->overruns;
	h->simulated = ctx->simulated;
	h->hv_error = s_str(ctx->hv_error);
	h->dropped_series = ctx->refused_series;
	if (ctx->history) {
		vs_history_stats_t st;

		vs_history_stats(ctx->history, &st);
		h->series = st.series;
	}
}

struct inv_bufs {
	Vsctl__Host host;
	Vsctl__Domain *doms;
	Vsctl__Domain **dom_p;
	Vsctl__Vif *vifs;
	Vsctl__Vif **vif_p;
	char (*state)[2];       /* per domain: xl's state letter as a string */
};

static int
s_inventory(const vs_control_ctx_t *ctx, Vsctl__Inventory *inv, struct inv_bufs *b)
{
	const vs_graph_t *g = ctx->graph;
	size_t nd = g ? g->n : 0, nv = 0, k = 0;

	vsctl__inventory__init(inv);
	s_host(ctx, &b->host);
	inv->host = &b->host;
	inv->generation = g ? g->generation : 0;
	for (size_t i = 0; i < nd; i++)
		nv += g->doms[i].dom.n_vifs;
	b->doms = calloc(nd + 1, sizeof(*b->doms));
	b->dom_p = calloc(nd + 1, sizeof(*b->dom_p));
	b->vifs = calloc(nv + 1, sizeof(*b->vifs));
	b->vif_p = calloc(nv + 1, sizeof(*b->vif_p));
	b->state = calloc(nd + 1, sizeof(*b->state));
	if (!b->doms || !b->dom_p || !b->vifs || !b->vif_p || !b->state)
		return -ENOMEM;
	for (size_t i = 0; i < nd; i++) {
		const vs_gdom_t *gd = &g->doms[i];
		Vsctl__Domain *d = &b->doms[i];

		vsctl__domain__init(d);
		d->id = gd->dom.id;
		d->name = s_str(gd->dom.name);
		d->uuid = s_str(gd->dom.uuid);
		b->state[i][0] = vs_dom_state_char(gd->dom.state);
		d->state = b->state[i];
		d->mem_kib = gd->dom.mem_kib;
		d->maxmem_kib = gd->dom.maxmem_kib;
		d->vcpus = gd->dom.vcpus;
		d->cpu_time_s = (double)gd->dom.cpu_ns / 1e9;
		d->vifs = &b->vif_p[k];
		d->n_vifs = gd->dom.n_vifs;
		for (size_t v = 0; v < gd->dom.n_vifs; v++, k++) {
			Vsctl__Vif *vif = &b->vifs[k];

			vsctl__vif__init(vif);
			vif->name = s_str(gd->dom.vifs[v].ifname);
			vif->devid = gd->dom.vifs[v].devid;
			vif->mac = s_str(gd->dom.vifs[v].mac);
			vif->present = gd->gvif[v].ifindex > 0;
			vif->ifindex = (uint32_t)(gd->gvif[v].ifindex > 0 ? gd->gvif[v].ifindex : 0);
			b->vif_p[k] = vif;
		}
		b->dom_p[i] = d;
	}
	inv->domains = b->dom_p;
	inv->n_domains = nd;
	return 0;
}

static void
s_inv_free(struct inv_bufs *b)
{
	free(b->doms);
	free(b->dom_p);
	free(b->vifs);
	free(b->vif_p);
	free(b->state);
}

struct read_ctx {
	const vs_control_ctx_t *ctx;
	const Vsctl__ReadReq *req;
	int64_t from, to;
	Vsctl__Reading *rd;
	Vsctl__Reading **rd_p;
	size_t n, cap;
	int64_t span_max;
};

static int
s_match(const char *name, char **pats, size_t n)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(pats[i]);

		if (l > 0 && pats[i][l - 1] == '*') {
			if (strncmp(name, pats[i], l - 1) == 0)
				return 1;
		} else if (strcmp(name, pats[i]) == 0)
			return 1;
	}
	return 0;
}

static int
s_read_one(void *arg, int id, const vs_series_info_t *info)
{
	struct read_ctx *rc = arg;
	Vsctl__Reading *r;
	double agg = 0;
	int64_t span = 0, from, to;
	uint64_t n = 0;

	if (!s_match(info->entity, rc->req->entity, rc->req->n_entity) ||
	    !s_match(info->metric, rc->req->metric, rc->req->n_metric))
		return 0;
	if (rc->n == rc->cap) {
		size_t cap = rc->cap ? rc->cap * 2 : 256;
		Vsctl__Reading *nr = realloc(rc->rd, cap * sizeof(*nr));

		if (nr == NULL)
			return -1;
		rc->rd = nr;
		rc->cap = cap;
	}
	r = &rc->rd[rc->n++];
	vsctl__reading__init(r);
	r->entity = (char *)info->entity;
	r->metric = (char *)info->metric;
	r->unit = (char *)info->unit;
	r->kind = info->kind == VS_KIND_COUNTER ? VSCTL__KIND__COUNTER : VSCTL__KIND__GAUGE;
	if (info->kind == VS_KIND_COUNTER)
		r->value = rc->ctx->counter_abs ? (double)rc->ctx->counter_abs[id] : 0;
	else
		r->value = (double)info->last_value;
	if (vs_history_tick_time(rc->ctx->history, info->last_tick, &r->time_ns) < 0)
		r->time_ns = 0;
	from = rc->from;
	to = rc->to;
	if (rc->req->window_ns == 0) {
		/* the series' own latest sample: a series sampled every 10th tick has none in
		 * the last tick most of the time */
		to = r->time_ns;
		if (info->last_tick < 2 ||
		    vs_history_tick_time(rc->ctx->history, info->last_tick - 1, &from) < 0)
			from = to - 1;
	}
	if (vs_history_aggregate(rc->ctx->history, id, from, to, &agg, &span, &n) == 0) {
		if (info->kind == VS_KIND_COUNTER)
			r->rate = span > 0 ? agg * 1e9 / (double)span : 0;
		else
			r->rate = agg;
		r->has_rate = 1;
		if (span > rc->span_max)
			rc->span_max = span;
	}
	return 0;
}

static int
s_read(vs_control_ctx_t *ctx, const Vsctl__ReadReq *req, Vsctl__Readings *out,
    struct read_ctx *rc, char *err, size_t errlen)
{
	vs_history_t *h = ctx->history;
	uint64_t cur = h ? vs_history_current_tick(h) : 0;
	int64_t now = 0;

	vsctl__readings__init(out);
	memset(rc, 0, sizeof(*rc));
	rc->ctx = ctx;
	rc->req = req;
	if (h == NULL || cur == 0 || vs_history_tick_time(h, cur, &now) < 0) {
		out->time_ns = vs_now_ns();
		return 0;      /* nothing sampled yet: an empty answer, not an error */
	}
	rc->to = now;
	rc->from = now - req->window_ns;       /* window 0: per series, in s_read_one */
	vs_history_series_foreach(h, s_read_one, rc);
	rc->rd_p = calloc(rc->n + 1, sizeof(*rc->rd_p));
	if (rc->rd_p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < rc->n; i++)
		rc->rd_p[i] = &rc->rd[i];
	out->time_ns = now;
	out->window_ns = rc->span_max;
	out->readings = rc->rd_p;
	out->n_readings = rc->n;
	return 0;
}

static int
s_history(vs_control_ctx_t *ctx, const Vsctl__HistoryReq *req, Vsctl__History *out,
    vs_point_t **pts_r, Vsctl__Point **pb_r, Vsctl__Point ***pp_r, char *err, size_t errlen)
{
	vs_series_info_t info;
	size_t max = req->max_points ? req->max_points : DEFAULT_POINTS;
	int id, n, trunc = 0;

	vsctl__history__init(out);
	if (max > VS_CTL_MAX_POINTS)
		max = VS_CTL_MAX_POINTS;
	id = ctx->history ? vs_history_series_find(ctx->history, req->entity, req->metric) :
	    -ENOENT;
	if (id < 0 || vs_history_series_info(ctx->history, id, &info) < 0) {
		snprintf(err, errlen, "no metric %.100s of %.100s", req->metric, req->entity);
		return -ENOENT;
	}
	*pts_r = calloc(max, sizeof(**pts_r));
	if (*pts_r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = vs_history_read(ctx->history, id, req->from_ns, req->to_ns ? req->to_ns : INT64_MAX,
	    *pts_r, max, &trunc);
	if (n < 0)
		n = 0;
	*pb_r = calloc((size_t)n + 1, sizeof(**pb_r));
	*pp_r = calloc((size_t)n + 1, sizeof(**pp_r));
	if (*pb_r == NULL || *pp_r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		vsctl__point__init(&(*pb_r)[i]);
		(*pb_r)[i].time_ns = (*pts_r)[i].t_ns;
		(*pb_r)[i].value = (double)(*pts_r)[i].value;
		(*pp_r)[i] = &(*pb_r)[i];
	}
	out->entity = (char *)info.entity;
	out->metric = (char *)info.metric;
	out->unit = (char *)info.unit;
	out->kind = info.kind == VS_KIND_COUNTER ? VSCTL__KIND__COUNTER : VSCTL__KIND__GAUGE;
	out->points = *pp_r;
	out->n_points = (size_t)n;
	out->truncated = trunc != 0;
	return 0;
}

#define ADDR_LEN 64
static int
s_conns(vs_control_ctx_t *ctx, Vsctl__Connections *out, Vsctl__Conn **cb_r,
    Vsctl__Conn ***cp_r, char **addrs_r, char *err, size_t errlen)
{
	const vs_tcpconn_t *c;
	size_t n = 0;

	vsctl__connections__init(out);
	out->time_ns = vs_now_ns();
	if (ctx->sockdiag == NULL) {
		snprintf(err, errlen, "connection metrics are off or NETLINK_SOCK_DIAG is missing");
		return -ENOTSUP;
	}
	c = vs_sockdiag_conns(ctx->sockdiag, &n, NULL);
	*cb_r = calloc(n + 1, sizeof(**cb_r));
	*cp_r = calloc(n + 1, sizeof(**cp_r));
	*addrs_r = calloc(n + 1, 2 * ADDR_LEN);
	if (!*cb_r || !*cp_r || !*addrs_r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		Vsctl__Conn *o = &(*cb_r)[i];
		char *src = *addrs_r + i * 2 * ADDR_LEN, *dst = src + ADDR_LEN;

		vsctl__conn__init(o);
		vs_tcpconn_addr(&c[i], 0, src, ADDR_LEN);
		vs_tcpconn_addr(&c[i], 1, dst, ADDR_LEN);
		o->src = src;
		o->dst = dst;
		o->state = (char *)vs_tcp_state_name(c[i].state);
		o->uid = c[i].uid;
		o->inode = c[i].inode;
		o->rtt_us = c[i].rtt_us;
		o->bytes_acked = c[i].bytes_acked;
		o->bytes_received = c[i].bytes_received;
		(*cp_r)[i] = o;
	}
	out->conns = *cp_r;
	out->n_conns = n;
	return 0;
}

/* A guest's latest connection table, as its agent sent it through the intake. */
static int
s_guest_conns(vs_control_ctx_t *ctx, const char *domain, Vsctl__GuestConns *out,
    Vsctl__Conn **cb_r, Vsctl__Conn ***cp_r, char **addrs_r, char *err, size_t errlen)
{
	vs_intake_conns_t t;
	const vs_gdom_t *gd;

	vsctl__guest_conns__init(out);
	if (ctx->intake == NULL) {
		snprintf(err, errlen, "the guest intake is off (no intake-endpoint configured)");
		return -ENOTSUP;
	}
	/* the intake knows domains by the name their key is bound to; accept an id too */
	gd = ctx->graph ? vs_graph_dom_by_name(ctx->graph, domain) : NULL;
	if (vs_intake_conns(ctx->intake, domain, &t) < 0 &&
	    (gd == NULL || vs_intake_conns(ctx->intake, gd->dom.name, &t) < 0)) {
		snprintf(err, errlen, "no connection table from %.100s's agent (no key bound "
		    "to it, or it sent none yet)", domain);
		return -ENOENT;
	}
	*cb_r = calloc(t.n + 1, sizeof(**cb_r));
	*cp_r = calloc(t.n + 1, sizeof(**cp_r));
	*addrs_r = calloc(t.n + 1, 2 * ADDR_LEN);
	if (!*cb_r || !*cp_r || !*addrs_r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < t.n; i++) {
		Vsctl__Conn *o = &(*cb_r)[i];
		char *src = *addrs_r + i * 2 * ADDR_LEN, *dst = src + ADDR_LEN;

		vsctl__conn__init(o);
		vs_intake_conn_addr(&t.conns[i], 0, src, ADDR_LEN);
		vs_intake_conn_addr(&t.conns[i], 1, dst, ADDR_LEN);
		o->src = src;
		o->dst = dst;
		o->state = (char *)vs_tcp_state_name(t.conns[i].state);
		o->rtt_us = t.conns[i].rtt_us;
		o->bytes_acked = t.conns[i].bytes_acked;
		o->bytes_received = t.conns[i].bytes_received;
		(*cp_r)[i] = o;
	}
	out->domain = (char *)domain;
	out->time_ns = t.time_ns;
	out->guest_time_ns = t.guest_time_ns;
	out->conns = *cp_r;
	out->n_conns = t.n;
	out->guest_total = t.guest_total;
	out->guest_truncated = t.guest_truncated;
	out->dropped = t.dropped;
	out->cap = t.cap;
	out->tables = t.tables;
	return 0;
}

/* ---- guests' log lines (intake_logs.c) ------------------------------------------------ */

struct glogs {
	Vsctl__GuestLogBatch *b, **bp;
	size_t n, cap;
	Vsctl__GuestLogStat *s, **sp;
	size_t ns, scap;
	int oom;
};

static int
s_glog_batch(void *arg, const char *domain, const vs_intake_logbatch_t *in)
{
	struct glogs *g = arg;
	Vsctl__GuestLogBatch *o;

	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		Vsctl__GuestLogBatch *nb = realloc(g->b, cap * sizeof(*nb));
		if (nb == NULL) {
			g->oom = 1;
			return 1;
		}
		g->b = nb;
		g->cap = cap;
	}
	o = &g->b[g->n++];
	vsctl__guest_log_batch__init(o);
	o->domain = (char *)domain;
	o->seq = in->seq;
	o->time_ns = in->time_ns;
	o->log = in->meta.log;
	o->path = (char *)in->path;
	o->spec = (char *)in->spec;
	o->logformat = (char *)in->logformat;
	o->session = in->meta.session;
	o->inode = in->meta.inode;
	o->generation = in->meta.generation;
	o->first_line = in->meta.first_line;
	o->nlines = in->meta.nlines;
	o->text = (char *)in->text;
	return 0;
}

static int
s_glog_stat(void *arg, const char *domain, const vs_intake_logstat_t *in)
{
	struct glogs *g = arg;
	Vsctl__GuestLogStat *o;

	if (g->ns == g->scap) {
		size_t cap = g->scap ? g->scap * 2 : 16;
		Vsctl__GuestLogStat *nb = realloc(g->s, cap * sizeof(*nb));
		if (nb == NULL) {
			g->oom = 1;
			return 1;
		}
		g->s = nb;
		g->scap = cap;
	}
	o = &g->s[g->ns++];
	vsctl__guest_log_stat__init(o);
	o->domain = (char *)domain;
	o->log = in->log;
	o->path = (char *)in->path;
	o->batches = in->batches;
	o->lines = in->lines;
	o->gap_lines = in->gap_lines;
	o->queue_dropped = in->queue_dropped;
	o->truncations = in->last.truncations;
	o->rotations = in->last.rotations;
	o->cut_lines = in->last.cut;
	o->agent_dropped = in->last.dropped;
	return 0;
}

static int
s_guest_logs(vs_control_ctx_t *ctx, const Vsctl__GuestLogsReq *q, Vsctl__GuestLogs *out,
    struct glogs *g, char *err, size_t errlen)
{
	const char *dom = q->domain[0] ? q->domain : NULL;
	size_t max = q->max_bytes ? q->max_bytes : 4u << 20;

	vsctl__guest_logs__init(out);
	if (ctx->intake == NULL) {
		snprintf(err, errlen, "the guest intake is off (no intake-endpoint configured)");
		return -ENOTSUP;
	}
	vs_intake_logs_each(ctx->intake, dom, q->cursor, max, s_glog_batch, g, &out->next_cursor);
	vs_intake_logs_stats(ctx->intake, dom, s_glog_stat, g);
	g->bp = calloc(g->n + 1, sizeof(*g->bp));
	g->sp = calloc(g->ns + 1, sizeof(*g->sp));
	if (g->oom || g->bp == NULL || g->sp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->n; i++)
		g->bp[i] = &g->b[i];
	for (size_t i = 0; i < g->ns; i++)
		g->sp[i] = &g->s[i];
	out->batches = g->bp;
	out->n_batches = g->n;
	out->stats = g->sp;
	out->n_stats = g->ns;
	vs_intake_logs_totals(ctx->intake, &out->queued_bytes, &out->bad_batches, &out->oldest);
	out->epoch = ctx->started_ns;
	return 0;
}

/* ---- guests' resource samples (intake_samples.c) ----------------------------------- */

struct gsrow {
	Vsctl__GuestSample m;
	uint64_t v[8];
	char dev[VS_AGENT_MAX_DEV_NAME + 1];
};

struct gsamples {
	struct gsrow *r;
	Vsctl__GuestSample **rp;
	size_t n, cap;
	Vsctl__GuestSamplesStat st, *stp;
	char dom[VS_KEYDOM_MAX + 1];
};

static const char *s_gs_kind[] = { "cpu", "mem", "disk", "net" };
static const size_t s_gs_nv[] = { 8, 6, 5, 4 };

static int
s_gsample_row(void *arg, const char *domain, const vs_intake_samplerow_t *in)
{
	struct gsamples *g = arg;
	struct gsrow *o;
	size_t k = in->type - VS_REC_SAMPLE_CPU;

	if (g->n == g->cap)
		return 1;
	o = &g->r[g->n];
	g->rp[g->n++] = &o->m;
	vsctl__guest_sample__init(&o->m);
	o->m.domain = (char *)domain;
	o->m.seq = in->seq;
	o->m.ts_ns = in->ts_ns;
	o->m.kind = (char *)s_gs_kind[k];
	memcpy(o->dev, in->s.dev, sizeof(o->dev));
	o->dev[sizeof(o->dev) - 1] = '\0';
	o->m.dev = o->dev;
	memcpy(o->v, in->s.v, sizeof(o->v));
	o->m.v = o->v;
	o->m.n_v = s_gs_nv[k];
	return 0;
}

static int
s_guest_samples(vs_control_ctx_t *ctx, const Vsctl__GuestSamplesReq *q,
    Vsctl__GuestSamples *out, struct gsamples *g, char *err, size_t errlen)
{
	const char *dom = q->domain[0] ? q->domain : NULL;
	size_t max = q->max_rows ? q->max_rows : 20000;
	vs_intake_samplestat_t st;

	vsctl__guest_samples__init(out);
	if (ctx->intake == NULL) {
		snprintf(err, errlen, "the guest intake is off (no intake-endpoint configured)");
		return -ENOTSUP;
	}
	if (vs_intake_samples_stat(ctx->intake, dom, &st) < 0 && dom) {
		snprintf(err, errlen, "no guest key is bound to domain %s", dom);
		return -ENOENT;
	}
	if (!q->stats_only) {
		g->cap = max;
		g->r = malloc(max * sizeof(*g->r));
		g->rp = malloc(max * sizeof(*g->rp));
		if (g->r == NULL || g->rp == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		vs_intake_samples_each(ctx->intake, dom, q->cursor, max, s_gsample_row, g,
		    &out->next_cursor);
		out->rows = g->rp;
		out->n_rows = g->n;
	} else {
		vs_intake_samples_each(ctx->intake, dom, UINT64_MAX, 0, s_gsample_row, g,
		    &out->next_cursor);
	}
	vsctl__guest_samples_stat__init(&g->st);
	snprintf(g->dom, sizeof(g->dom), "%s", dom ? dom : "");
	g->st.domain = g->dom;
	g->st.samples = st.samples;
	g->st.rows = st.rows;
	g->st.pushed_out = st.pushed_out;
	g->st.bad = st.bad;
	g->st.last_ts_ns = st.last_ts_ns;
	g->stp = &g->st;
	out->stats = &g->stp;
	out->n_stats = 1;
	vs_intake_samples_totals(ctx->intake, &out->kept_rows, &out->kept_bytes, &out->oldest,
	    &out->pushed_out);
	out->epoch = ctx->started_ns;
	return 0;
}

/* ---- shaping ---------------------------------------------------------------------- */

struct shape_bufs {
	Vsctl__ShapeList list;
	Vsctl__ShapeRule *rules;
	Vsctl__ShapeRule **rule_p;
	Vsctl__ShapeStats *stats;
	char (*ifb)[IF_NAMESIZE];
};

static void
s_shape_free(struct shape_bufs *b)
{
	free(b->rules);
	free(b->rule_p);
	free(b->stats);
	free(b->ifb);
}

/* The rules of domain (NULL: all) into b->list. */
static int
s_shape_list(vs_control_ctx_t *ctx, const char *domain, struct shape_bufs *b)
{
	size_t n = 0, k = 0;
	const vs_shaper_rule_t *rs = vs_shaper_rules(ctx->shaper, &n);

	vsctl__shape_list__init(&b->list);
	b->list.time_ns = vs_now_ns();
	b->rules = calloc(n + 1, sizeof(*b->rules));
	b->rule_p = calloc(n + 1, sizeof(*b->rule_p));
	b->stats = calloc(2 * n + 1, sizeof(*b->stats));
	b->ifb = calloc(n + 1, sizeof(*b->ifb));
	if (!b->rules || !b->rule_p || !b->stats || !b->ifb)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const vs_shaper_rule_t *sr = &rs[i];
		Vsctl__ShapeRule *o = &b->rules[k];
		const vs_shape_stats_t *st[2] = { &sr->from, &sr->to };

		if (domain && strcmp(domain, sr->r.domain))
			continue;
		vsctl__shape_rule__init(o);
		o->domain = (char *)sr->r.domain;
		o->vif = (char *)sr->r.vif;
		if (!(sr->r.dir & VS_SHAPE_FROM_VM) ||
		    vs_shape_ifb_name(sr->r.vif, 0, b->ifb[k]) < 0)
			b->ifb[k][0] = '\0';
		o->ifb = b->ifb[k];
		o->rate_bps = sr->r.rate_bps;
		o->ceil_bps = sr->r.ceil_bps ? sr->r.ceil_bps : sr->r.rate_bps;
		o->burst_bytes = sr->r.burst;
		o->direction = (char *)vs_shape_dir_name(sr->r.dir);
		o->expires_ns = sr->r.expires_ns;
		o->ttl_ns = sr->r.ttl_ns;
		for (int d = 0; d < 2; d++) {
			Vsctl__ShapeStats *x = &b->stats[2 * k + (size_t)d];

			vsctl__shape_stats__init(x);
			x->bytes = st[d]->bytes;
			x->packets = st[d]->packets;
			x->drops = st[d]->drops;
			x->overlimits = st[d]->overlimits;
			x->valid = st[d]->valid;
		}
		o->from_vm = &b->stats[2 * k];
		o->to_vm = &b->stats[2 * k + 1];
		b->rule_p[k] = o;
		k++;
	}
	b->list.rules = b->rule_p;
	b->list.n_rules = k;
	return 0;
}

static int
s_shape(vs_control_ctx_t *ctx, const Vsctl__Request *req, struct shape_bufs *b, char *err,
    size_t errlen)
{
	int rc;

	if (ctx->shaper == NULL) {
		snprintf(err, errlen, "shaping is not available in this vscoped");
		return -ENOTSUP;
	}
	if (req->body_case == VSCTL__REQUEST__BODY_SHAPE) {
		const Vsctl__ShapeReq *q = req->shape;
		vs_shape_rule_t r;

		memset(&r, 0, sizeof(r));
		snprintf(r.domain, sizeof(r.domain), "%s", q->domain);
		snprintf(r.vif, sizeof(r.vif), "%s", q->vif);
		r.rate_bps = q->rate_bps;
		r.ceil_bps = q->ceil_bps;
		r.burst = q->burst_bytes;
		r.ttl_ns = q->ttl_ns;
		r.dir = (int)q->direction;
		rc = vs_shaper_apply(ctx->shaper, ctx->graph, &r, vs_now_ns(), err, errlen);
		if (rc < 0)
			return rc;
		{
			/* answer with the domain's rules under their canonical name */
			const vs_gdom_t *gd = vs_graph_dom_by_name(ctx->graph, q->domain);

			return s_shape_list(ctx, gd ? gd->dom.name : NULL, b);
		}
	}
	if (req->body_case == VSCTL__REQUEST__BODY_UNSHAPE) {
		rc = vs_shaper_unshape(ctx->shaper, ctx->graph, req->unshape->domain,
		    req->unshape->vif, err, errlen);
		if (rc < 0)
			return rc;
		return s_shape_list(ctx, NULL, b);
	}
	vs_shaper_refresh(ctx->shaper);
	return s_shape_list(ctx, NULL, b);
}

int
vs_control_handle(vs_control_ctx_t *ctx, const void *buf, size_t len, void **reply_r,
    size_t *reply_len_r)
{
	Vsctl__Request *req;
	Vsctl__Reply rep = VSCTL__REPLY__INIT;
	Vsctl__Inventory inv;
	Vsctl__Readings rd;
	Vsctl__History hist;
	Vsctl__Connections conns;
	Vsctl__GuestConns gconns;
	Vsctl__GuestLogs glogs;
	Vsctl__GuestSamples gsamp;
	struct gsamples gs = { 0 };
	struct glogs gl = { 0 };
	struct inv_bufs ib = { 0 };
	struct read_ctx rc = { 0 };
	struct shape_bufs sb = { 0 };
	vs_point_t *pts = NULL;
	Vsctl__Point *pb = NULL, **pp = NULL;
	Vsctl__Conn *cb = NULL, **cp = NULL;
	char *addrs = NULL;
	char err[256] = "";
	int status = 0;

	ctx->requests++;
	req = vs_wire_request_decode(buf, len, &status, err, sizeof(err));
	if (req == NULL)
		goto reply;
	switch (req->body_case) {
	case VSCTL__REQUEST__BODY_INVENTORY:
	case VSCTL__REQUEST__BODY_LIST:
		status = s_inventory(ctx, &inv, &ib);
		if (status == 0) {
			rep.body_case = req->body_case == VSCTL__REQUEST__BODY_LIST ?
			    VSCTL__REPLY__BODY_LIST : VSCTL__REPLY__BODY_INVENTORY;
			rep.inventory = rep.list = &inv;
		} else
			snprintf(err, sizeof(err), "out of memory");
		break;
	case VSCTL__REQUEST__BODY_READ:
		status = s_read(ctx, req->read, &rd, &rc, err, sizeof(err));
		if (status == 0) {
			rep.body_case = VSCTL__REPLY__BODY_READ;
			rep.read = &rd;
		}
		break;
	case VSCTL__REQUEST__BODY_HISTORY:
		status = s_history(ctx, req->history, &hist, &pts, &pb, &pp, err, sizeof(err));
		if (status == 0) {
			rep.body_case = VSCTL__REPLY__BODY_HISTORY;
			rep.history = &hist;
		}
		break;
	case VSCTL__REQUEST__BODY_CONNS:
		status = s_conns(ctx, &conns, &cb, &cp, &addrs, err, sizeof(err));
		if (status == 0) {
			rep.body_case = VSCTL__REPLY__BODY_CONNS;
			rep.conns = &conns;
		}
		break;
	case VSCTL__REQUEST__BODY_GUEST_CONNS:
		status = s_guest_conns(ctx, req->guest_conns->domain, &gconns, &cb, &cp, &addrs,
		    err, sizeof(err));
		if (status == 0) {
			rep.body_case = VSCTL__REPLY__BODY_GUEST_CONNS;
			rep.guest_conns = &gconns;
		}
		break;
	case VSCTL__REQUEST__BODY_GUEST_LOGS:
		status = s_guest_logs(ctx, req->guest_logs, &glogs, &gl, err, sizeof(err));
		if (status == 0) {
			rep.body_case = VSCTL__REPLY__BODY_GUEST_LOGS;
			rep.guest_logs = &glogs;
		}
		break;
	case VSCTL__REQUEST__BODY_GUEST_SAMPLES:
		status = s_guest_samples(ctx, req->guest_samples, &gsamp, &gs, err, sizeof(err));
		if (status == 0) {
			rep.body_case = VSCTL__REPLY__BODY_GUEST_SAMPLES;
			rep.guest_samples = &gsamp;
		}
		break;
	case VSCTL__REQUEST__BODY_SHAPE:
	case VSCTL__REQUEST__BODY_UNSHAPE:
	case VSCTL__REQUEST__BODY_SHAPE_LIST:
		status = s_shape(ctx, req, &sb, err, sizeof(err));
		if (status == 0) {
			rep.body_case = req->body_case == VSCTL__REQUEST__BODY_SHAPE ?
			    VSCTL__REPLY__BODY_SHAPE : req->body_case == VSCTL__REQUEST__BODY_UNSHAPE ?
			    VSCTL__REPLY__BODY_UNSHAPE : VSCTL__REPLY__BODY_SHAPE_LIST;
			rep.shape = rep.unshape = rep.shape_list = &sb.list;
		} else if (!err[0])
			snprintf(err, sizeof(err), "out of memory");
		break;
	default:        /* vs_wire_request_decode refuses every other case */
		status = -EOPNOTSUPP;
		snprintf(err, sizeof(err), "unknown request");
		break;
	}
reply:
	if (status < 0) {
		ctx->bad_requests++;
		rep.body_case = VSCTL__REPLY__BODY__NOT_SET;
		rep.status = status;
		rep.error = err;
	}
	*reply_r = vs_wire_pack(&rep.base, reply_len_r);
	if (req)
		vsctl__request__free_unpacked(req, NULL);
	s_inv_free(&ib);
	s_shape_free(&sb);
	free(rc.rd);
	free(rc.rd_p);
	free(pts);
	free(pb);
	free(pp);
	free(cb);
	free(cp);
	free(addrs);
	free(gl.b);
	free(gl.bp);
	free(gl.s);
	free(gl.sp);
	free(gs.r);
	free(gs.rp);
	return *reply_r ? 0 : -ENOMEM;
}

/* ---- transport ---------------------------------------------------------------------- */

static int
s_prepare_ipc(vs_control_t *self, const char *endpoint, char *err, size_t errlen)
{
	const char *path = endpoint + strlen("ipc://");
	char dir[512];
	char *slash;

	if (strlen(path) >= sizeof(self->ipc_path) || path[0] != '/') {
		snprintf(err, errlen, "%s: an ipc:// endpoint needs an absolute path", endpoint);
		return -EINVAL;
	}
	snprintf(self->ipc_path, sizeof(self->ipc_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	/* libzmq unlinks whatever is at the path before binding: make sure no live vscoped
	 * answers there, or we would silently steal its endpoint */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (strlen(path) < sizeof(sa.sun_path) && fd >= 0) {
			memcpy(sa.sun_path, path, strlen(path) + 1);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
				close(fd);
				snprintf(err, errlen, "%s is in use: another vscoped answers there",
				    endpoint);
				return -EADDRINUSE;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

vs_control_t *
vs_control_new(void *zctx, const char *endpoint, vs_control_ctx_t *ctx, char *err,
    size_t errlen)
{
	vs_control_t *self = calloc(1, sizeof(*self));
	int64_t maxmsg = ZMQ_MAX_MSG;
	int zero = 0, hwm = 64;
	mode_t old;

	if (self == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	self->ctx = ctx;
	if (!strncmp(endpoint, "ipc://", 6) &&
	    s_prepare_ipc(self, endpoint, err, errlen) < 0)
		goto fail;
	self->sock = zmq_socket(zctx, ZMQ_ROUTER);
	if (self->sock == NULL) {
		snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
		goto fail;
	}
	zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(self->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	/* the control socket answers root only: it reveals every domain on the host */
	old = umask(0077);
	if (zmq_bind(self->sock, endpoint) < 0) {
		int e = errno;

		umask(old);
		snprintf(err, errlen, "cannot bind the control endpoint %s: %s", endpoint,
		    zmq_strerror(e));
		errno = e;
		goto fail;
	}
	umask(old);
	self->bound = 1;
	return self;
fail:
	vs_control_destroy(&self);
	return NULL;
}

void
vs_control_destroy(vs_control_t **self_p)
{
	vs_control_t *self = *self_p;

	if (self == NULL)
		return;
	if (self->sock)
		zmq_close(self->sock);
	if (self->ipc_path[0] && self->bound)
		unlink(self->ipc_path);
	free(self);
	*self_p = NULL;
}

void *
vs_control_socket(const vs_control_t *self)
{
	return self->sock;
}

static void
s_serve_one(vs_control_t *self)
{
	zmq_msg_t part[MAX_PARTS];
	int n = 0, more = 1;
	void *reply = NULL;
	size_t reply_len = 0;
	const void *payload;
	size_t payload_len;
	int delim;

	/* identity, then [empty delimiter from REQ], then the payload */
	while (more) {
		zmq_msg_t m;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, self->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		more = zmq_msg_more(&m);
		if (n < MAX_PARTS)
			part[n++] = m;
		else {
			zmq_msg_close(&m);
			n = MAX_PARTS + 1;      /* too many: drain, then refuse */
		}
		if (n > MAX_PARTS) {
			while (more) {
				zmq_msg_init(&m);
				if (zmq_msg_recv(&m, self->sock, ZMQ_DONTWAIT) < 0) {
					zmq_msg_close(&m);
					break;
				}
				more = zmq_msg_more(&m);
				zmq_msg_close(&m);
			}
		}
	}
	if (n < 2)
		goto out;
	delim = n >= 3 && zmq_msg_size(&part[1]) == 0;
	if (n > MAX_PARTS || (n == 3 && !delim)) {
		Vsctl__Reply rep = VSCTL__REPLY__INIT;

		rep.status = -EPROTO;
		rep.error = (char *)"a request is one frame (after REQ's empty delimiter)";
		reply = vs_wire_pack(&rep.base, &reply_len);
		self->ctx->requests++;
		self->ctx->bad_requests++;
		if (n > MAX_PARTS)
			n = MAX_PARTS;
	} else {
		payload = zmq_msg_data(&part[n - 1]);
		payload_len = zmq_msg_size(&part[n - 1]);
		if (vs_control_handle(self->ctx, payload, payload_len, &reply, &reply_len) < 0)
			goto out;
	}
	zmq_send(self->sock, zmq_msg_data(&part[0]), zmq_msg_size(&part[0]),
	    ZMQ_SNDMORE | ZMQ_DONTWAIT);
	if (delim)
		zmq_send(self->sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
	if (zmq_send(self->sock, reply, reply_len, ZMQ_DONTWAIT) < 0)
		vs_debug("control: reply dropped: %s", zmq_strerror(errno));
out:
	free(reply);
	for (int i = 0; i < n && i < MAX_PARTS; i++)
		zmq_msg_close(&part[i]);
}

void
vs_control_process(vs_control_t *self)
{
	int events;
	size_t len = sizeof(events);

	/* bounded: a flood of requests cannot starve the sampling tick */
	for (int i = 0; i < 64; i++) {
		if (zmq_getsockopt(self->sock, ZMQ_EVENTS, &events, &len) < 0 ||
		    !(events & ZMQ_POLLIN))
			return;
		s_serve_one(self);
	}
}
