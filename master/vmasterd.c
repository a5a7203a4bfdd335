/*
 * vmasterd: the VMaster (VScope §2.2). Hosts (vscoped) register on its ROUTER and heartbeat;
 * the DPGManager (Table 4) builds DPGs over registered hosts and domains, deploys each host's
 * VNodes in one batched message, relays partial results between hosts (checking every link
 * against the topology), keeps the root's results and answers `vscope dpg` consoles.
 * See vmasterd(8).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "agentkeys.h"
#include "clock.h"
#include "dpg.h"
#include "dpgwire.h"
#include "hostkeys.h"
#include "log.h"
#include "output.h"

#define MAX_HOSTS    4096
#define MAX_DPGS     1024
#define N_RESULTS    64
#define HOST_DOWN_NS (3 * VS_NS_PER_SEC)
/* After a connection closed (a process died: the kernel closes its socket at once), a host
 * silent for this long is down without waiting out HOST_DOWN_NS; heartbeats come every
 * VS_DPG_HEARTBEAT_NS. */
#define HOST_GONE_NS (3 * VS_NS_PER_SEC / 2)
#define MAX_ID       256
#define MAX_EPS      4                  /* -s given at most this often */
#define ZAP_EP       "inproc://zeromq.zap.01"
#define WARN_NS      (5 * VS_NS_PER_SEC)        /* one warning of a kind per 5 s, at most */
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define DEFAULT_LOG_DIR   LOCALSTATEDIR "/log/vscope"
#define DEFAULT_WAREHOUSE "sqlite:" LOCALSTATEDIR "/lib/vscope/vscope.db"

static volatile sig_atomic_t s_stop;
static void s_on_stop(int sig) { (void)sig; s_stop = 1; }

typedef struct {
	char name[VS_DPG_MAX_NAME + 1];
	unsigned char id[MAX_ID];       /* ZeroMQ routing id */
	size_t id_len;
	int sock;                       /* which of the master's sockets it came in on */
	int up;
	int64_t last_ns;                /* monotonic, last message */
	Vsdpg__Register *reg;           /* latest registration (owned) */
	Vsdpg__Register *lib;           /* latest one with the metric library (owned; may be reg) */
} host_t;

typedef struct {
	char host[VS_DPG_MAX_NAME + 1];
	char domain[VS_DPG_MAX_NAME + 1];       /* "" = every VIF of the host */
} node_t;

typedef struct {
	int64_t round;
	uint32_t leaves, expected;
	uint64_t count;
	double *v;              /* n values (malloc'd; at most VS_DPG_RESULT_MAX) */
	size_t n;
	uint64_t drops;
	int err;                /* a central function's -errno (no value) */
} result_t;

typedef struct {
	uint32_t node;          /* index into the DPG's node list */
	uint32_t attach_to;     /* where it goes back when its host returns */
} lost_t;

typedef struct {
	uint32_t id;
	vs_dpg_topo_t *topo;
	uint32_t root;
	node_t *nodes;
	size_t n_nodes, cap_nodes;
	const vs_dpg_fn_t *fn;
	uint32_t fn_arg;
	uint32_t fn_arg2;       /* K-means: passes */
	uint32_t window;        /* central functions: samples per leaf row */
	char metric[VS_DPG_MAX_NAME + 1];
	int64_t period_ns;
	int running;
	uint64_t gen;
	char (*deployed)[VS_DPG_MAX_NAME + 1];  /* hosts holding its VNodes */
	size_t n_deployed;
	size_t pending;         /* hosts yet to confirm gen */
	int64_t deploy_ns, confirmed_ns;
	/* VNodes of gen sent to hosts, those the hosts confirmed in force, hosts that refused */
	size_t vnodes_sent, vnodes_ok, refused;
	result_t res[N_RESULTS];
	size_t n_res;           /* results kept so far (ring) */
	uint64_t results;
	lost_t *lost;
	size_t n_lost;
	char note[256];         /* what the last host failure did to it */
	vs_out_kind_t out_kind; /* where results go besides the console */
	vs_out_t *out;
} dpg_t;

typedef struct {
	int64_t last_ns;
	uint64_t suppressed;
} warn_t;

typedef struct {
	void *zctx;
	void *socks[MAX_EPS];           /* one ROUTER per -s endpoint */
	int curve[MAX_EPS];             /* tcp://: CURVE, ZAP-authenticated */
	void *mons[MAX_EPS];            /* each ROUTER's socket monitor */
	char ipc_paths[MAX_EPS][512];
	size_t n_socks;
	host_t hosts[MAX_HOSTS];
	size_t n_hosts;
	dpg_t *dpgs[MAX_DPGS];
	size_t n_dpgs;
	uint32_t next_id;
	uint64_t msgs, msgs_bad, parts_relayed, parts_refused, parts_unroutable;
	int64_t disc_ns;                /* monotonic, latest disconnection */
	vs_outs_t *outs;                /* log directory, warehouse */
	const char *plugin_dir;         /* -P: where `dpg plugin FILE` loads from */
	vs_dpg_plugin_t *plugins[64];
	size_t n_plugins;
	/* -K: the authorized host keys, and what the ZAP handler and the Register check saw */
	const char *hostkey_dir;
	vs_hostkey_t *hostkeys;
	size_t n_hostkeys;
	struct timespec hostkey_mtime;
	void *zap;                      /* the ZAP handler's REP socket */
	uint64_t zap_refused, forged, handshake_failed;
	warn_t warn_refused, warn_forged;
} master_t;

/* ---- output helpers --------------------------------------------------------------------- */

typedef struct {
	char *s;
	size_t len, cap;
	size_t max;             /* bound on cap; 0: VS_DPG_MAX_TEXT (an answer's) */
} sbuf_t;
/* A log line carries every value of a result: VS_DPG_RESULT_MAX of at most ~110 bytes */
#define LOG_LINE_MAX (16u << 20)

static void __attribute__((format(printf, 2, 3)))
s_add(sbuf_t *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t need;

	/* room for what fmt makes (a whole result line can be long), up to the bound */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	need = (n > 0 ? (size_t)n : 0) + 1;
	if (b->len + need > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096, max = b->max ? b->max : VS_DPG_MAX_TEXT;
		char *s;

		while (cap < b->len + need)
			cap *= 2;
		if (cap > max)
			cap = max;
		if (cap <= b->len + 1 || !(s = realloc(b->s, cap)))
			return;
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

static int
s_send_to(master_t *m, int sock, const unsigned char *id, size_t id_len, Vsdpg__Msg *msg)
{
	size_t len;
	void *buf = vs_dpgwire_pack(msg, &len);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	if (zmq_send(m->socks[sock], id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(m->socks[sock], buf, len, ZMQ_DONTWAIT) < 0)
		rc = -errno;
	free(buf);
	return rc;
}

/* ---- hosts ------------------------------------------------------------------------------ */

static host_t *
s_host(master_t *m, const char *name)
{
	for (size_t i = 0; i < m->n_hosts; i++)
		if (!strcmp(m->hosts[i].name, name))
			return &m->hosts[i];
	return NULL;
}

static const Vsdpg__Domain *
s_domain(const host_t *h, const char *name)
{
	if (!h->reg)
		return NULL;
	for (size_t i = 0; i < h->reg->n_domains; i++)
		if (!strcmp(h->reg->domains[i]->name, name))
			return h->reg->domains[i];
	return NULL;
}

/* ---- DPGs ------------------------------------------------------------------------------- */

static dpg_t *
s_dpg(master_t *m, const char *s)
{
	char *end;
	unsigned long id = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0')
		return NULL;
	for (size_t i = 0; i < m->n_dpgs; i++)
		if (m->dpgs[i]->id == id)
			return m->dpgs[i];
	return NULL;
}

static void
s_dpg_free(dpg_t **gp)
{
	dpg_t *g = *gp;

	if (!g)
		return;
	vs_dpg_topo_destroy(&g->topo);
	vs_out_close(&g->out);
	for (size_t i = 0; i < N_RESULTS; i++)
		free(g->res[i].v);
	free(g->nodes);
	free(g->deployed);
	free(g->lost);
	free(g);
	*gp = NULL;
}

static int
s_node_add(dpg_t *g, const char *host, const char *domain, uint32_t *idx_r)
{
	if (g->n_nodes == g->cap_nodes) {
		size_t cap = g->cap_nodes ? g->cap_nodes * 2 : 16;
		node_t *n;

		if (cap > VS_DPG_MAX_VNODES || !(n = realloc(g->nodes, cap * sizeof(*n))))
			return -ENOMEM;
		g->nodes = n;
		g->cap_nodes = cap;
	}
	snprintf(g->nodes[g->n_nodes].host, sizeof(g->nodes[0].host), "%s", host);
	snprintf(g->nodes[g->n_nodes].domain, sizeof(g->nodes[0].domain), "%s", domain);
	if (idx_r)
		*idx_r = (uint32_t)g->n_nodes;
	g->n_nodes++;
	return 0;
}

static const char *
s_vhost(const dpg_t *g, uint32_t vid)
{
	return g->nodes[g->topo->v[vid].host].host;
}

static int
s_deployed_has(const dpg_t *g, const char *host)
{
	for (size_t i = 0; i < g->n_deployed; i++)
		if (!strcmp(g->deployed[i], host))
			return 1;
	return 0;
}

/* Sends every host its VNodes of g (hosts that no longer have any get an empty Deploy). */
typedef enum { SCOPE_VIF, SCOPE_DOMAIN, SCOPE_HOST } scope_t;

/* What the entities of metric are on host h, from its library: Dom0 itself ("host"), its
 * VIFs, or its domains (the hypervisor's and the guest agents' metrics). A host without a
 * library, or without the metric, gets VIFs, which is what the leaves read before. */
static scope_t
s_metric_scope(const host_t *h, const char *metric)
{
	const Vsdpg__Metric *x = NULL;

	for (size_t k = 0; h && h->lib && k < h->lib->n_metrics && !x; k++)
		if (!strcmp(h->lib->metrics[k]->name, metric))
			x = h->lib->metrics[k];
	if (!x || !h->reg)
		return SCOPE_VIF;
	for (size_t e = 0; e < x->n_entities; e++) {
		if (!strcmp(x->entities[e], "host"))
			return SCOPE_HOST;
		for (size_t di = 0; di < h->reg->n_domains; di++)
			for (size_t vi = 0; vi < h->reg->domains[di]->n_vifs; vi++)
				if (!strcmp(h->reg->domains[di]->vifs[vi], x->entities[e]))
					return SCOPE_VIF;
	}
	return SCOPE_DOMAIN;
}

static void
s_deploy(master_t *m, dpg_t *g, int gone)
{
	size_t nh = 0;
	char (*hosts)[VS_DPG_MAX_NAME + 1] = calloc(m->n_hosts + g->n_deployed + 1,
	    sizeof(*hosts));
	Vsdpg__VNode *vn = calloc(g->topo->n + 1, sizeof(*vn));
	Vsdpg__VNode **vp = calloc(g->topo->n + 1, sizeof(*vp));
	char *(*ents)[VS_DPG_MAX_VIFS] = NULL;
	char **dn = calloc(g->topo->n + 1, sizeof(*dn));    /* a domain leaf's one entity */
	static char *host_ent[1] = { "host" };

	if (!hosts || !vn || !vp || !dn)
		goto out;
	g->gen++;
	g->pending = 0;
	g->deploy_ns = vs_mono_ns();
	g->confirmed_ns = 0;
	g->vnodes_sent = g->vnodes_ok = g->refused = 0;
	/* the hosts involved: those that hold VNodes now and those that did */
	for (size_t i = 0; i < g->n_deployed; i++)
		snprintf(hosts[nh++], sizeof(hosts[0]), "%s", g->deployed[i]);
	for (size_t i = 0; !gone && i < g->topo->n; i++) {
		const char *hn;
		int seen = 0;

		if (!vs_dpg_topo_attached(g->topo, g->root, (uint32_t)i))
			continue;
		hn = s_vhost(g, (uint32_t)i);
		for (size_t j = 0; j < nh && !seen; j++)
			seen = !strcmp(hosts[j], hn);
		if (!seen && nh < m->n_hosts + g->n_deployed)
			snprintf(hosts[nh++], sizeof(hosts[0]), "%s", hn);
	}
	free(g->deployed);
	g->deployed = calloc(nh + 1, sizeof(*g->deployed));
	g->n_deployed = 0;
	for (size_t j = 0; j < nh; j++) {
		Vsdpg__Msg msg = VSDPG__MSG__INIT;
		Vsdpg__Deploy d = VSDPG__DEPLOY__INIT;
		host_t *h = s_host(m, hosts[j]);
		size_t n = 0, n_ents = 0;
		scope_t scope = s_metric_scope(h, g->metric);

		/* every VIF (or domain) of the host, for leaves that stand for the whole host */
		free(ents);
		ents = calloc(1, sizeof(*ents));
		for (size_t di = 0; ents && h && h->reg && di < h->reg->n_domains; di++) {
			if (scope == SCOPE_DOMAIN && n_ents < VS_DPG_MAX_VIFS)
				ents[0][n_ents++] = h->reg->domains[di]->name;
			for (size_t vi = 0; scope == SCOPE_VIF && vi < h->reg->domains[di]->n_vifs &&
			    n_ents < VS_DPG_MAX_VIFS; vi++)
				ents[0][n_ents++] = h->reg->domains[di]->vifs[vi];
		}

		for (size_t i = 0; !gone && i < g->topo->n; i++) {
			const vs_dpg_vnode_t *v = &g->topo->v[i];
			const node_t *nd;

			if (!vs_dpg_topo_attached(g->topo, g->root, (uint32_t)i) ||
			    strcmp(s_vhost(g, (uint32_t)i), hosts[j]))
				continue;
			vsdpg__vnode__init(&vn[n]);
			vn[n].id = v->id;
			vn[n].parent = v->parent;
			vn[n].parent_host = (char *)(v->parent == VS_DPG_NO_PARENT ? "" :
			    s_vhost(g, v->parent));
			vn[n].n_inputs = v->n_inputs;
			nd = &g->nodes[v->host];
			if (v->n_inputs == 0 && h && h->reg) {
				/* a leaf sums its domain's VIFs (or every VIF of its host); for a
				 * metric of domains, its domain (or every domain of the host); for
				 * one of Dom0 itself, Dom0's when it stands for the host */
				const Vsdpg__Domain *dom = nd->domain[0] ? s_domain(h, nd->domain) : NULL;

				if (scope == SCOPE_HOST) {
					if (!nd->domain[0]) {
						vn[n].entities = host_ent;
						vn[n].n_entities = 1;
					}
				} else if (dom && scope == SCOPE_DOMAIN) {
					dn[n] = dom->name;
					vn[n].entities = &dn[n];
					vn[n].n_entities = 1;
				} else if (dom) {
					vn[n].entities = dom->vifs;
					vn[n].n_entities = dom->n_vifs;
				} else if (!nd->domain[0] && ents) {
					vn[n].entities = ents[0];
					vn[n].n_entities = n_ents;
				}
			}
			vp[n] = &vn[n];
			n++;
		}
		d.dpg = g->id;
		d.gen = g->gen;
		d.fn = g->fn->id;
		d.fn_arg = g->fn_arg;
		d.fn_arg2 = g->fn_arg2;
		d.window = g->window;
		d.central = g->fn->kind == VS_DPG_FN_CENTRAL;
		d.metric = g->metric;
		d.period_ns = g->period_ns;
		d.running = g->running;
		d.vnodes = vp;
		d.n_vnodes = n;
		msg.body_case = VSDPG__MSG__BODY_DEPLOY;
		msg.deploy = &d;
		if (n)
			snprintf(g->deployed[g->n_deployed++], sizeof(g->deployed[0]), "%s", hosts[j]);
		if (!h || !h->up) {
			continue;
		}
		if (s_send_to(m, h->sock, h->id, h->id_len, &msg) == 0 && n) {
			g->pending++;
			g->vnodes_sent += n;
		}
	}
	if (g->pending == 0)
		g->confirmed_ns = vs_mono_ns();
out:
	free(ents);
	free(dn);
	free(hosts);
	free(vn);
	free(vp);
}

/* The console's line for result r of g (no newline); the lost leaves on the latest. */
static void
s_result_line(const dpg_t *g, const result_t *r, int latest, sbuf_t *out)
{
	s_add(out, "dpg %u round %lld fn %s leaves %u/%u samples %llu drops %llu value",
	    g->id, (long long)r->round, g->fn->name, r->leaves, r->expected,
	    (unsigned long long)r->count, (unsigned long long)r->drops);
	if (r->n == 0)
		s_add(out, " -");
	if (r->err)
		s_add(out, " error %s", strerror(-r->err));
	for (size_t i = 0; i < r->n; i++) {
		size_t max = out->max ? out->max : VS_DPG_MAX_TEXT;

		if (out->len + 1024 > max) {
			/* only a console's answer gets here: the log's bound holds every value */
			s_add(out, " ... (%zu of %zu values shown: an answer holds %zu bytes; "
			    "out=log or out=warehouse keeps them all)", i, r->n, max);
			break;
		}
		s_add(out, " %.3f", r->v[i]);
	}
	if (latest && g->n_lost) {
		s_add(out, " lost");
		for (size_t i = 0; i < g->n_lost; i++)
			s_add(out, "%s%s:%s", i ? "," : " ", g->nodes[g->lost[i].node].host,
			    g->nodes[g->lost[i].node].domain);
	}
}

/* Result r of g to its sink (log file or warehouse). */
static void
s_output(dpg_t *g, const result_t *r)
{
	sbuf_t line = { .max = LOG_LINE_MAX };
	vs_out_row_t row;

	if (!g->out)
		return;
	s_result_line(g, r, 1, &line);
	row.dpg = g->id;
	row.fn = g->fn->name;
	row.round = r->round;
	row.time_ns = r->round * g->period_ns;
	row.leaves = r->leaves;
	row.expected = r->expected;
	row.samples = r->count;
	row.drops = r->drops;
	row.v = r->v;
	row.n = r->n;
	row.line = line.s ? line.s : "";
	if (vs_out_write(g->out, &row) < 0 && vs_out_errors(g->out) == 1)
		vs_warn("DPG %u: cannot write its result to %s (counted; said once)", g->id,
		    vs_out_where(g->out));
	free(line.s);
}

/* qsort of rows by their first value (a local function's leaf id) */
static int
s_row_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
s_result(master_t *m, dpg_t *g, const Vsdpg__Part *q)
{
	result_t *r = &g->res[g->results % N_RESULTS];
	vs_dpg_part_t p;
	size_t leaves = 0, n = VS_DPG_FN_MAXVALS;
	int local = g->fn->kind == VS_DPG_FN_LOCAL;
	int central = g->fn->kind == VS_DPG_FN_CENTRAL;
	double *v = NULL;

	if (local ? q->count && (q->cols < 2 || q->cols > VS_DPG_FN_MAXVALS + 1) :
	    central ? q->count && q->cols != g->window :
	    vs_dpgwire_part_get(q, g->fn, g->fn_arg, &p) < 0) {
		m->parts_refused++;
		return;
	}
	for (size_t i = 0; i < g->topo->n; i++)
		if (g->topo->v[i].alive && g->topo->v[i].level == 0 &&
		    vs_dpg_topo_attached(g->topo, g->root, (uint32_t)i))
			leaves++;
	free(r->v);
	memset(r, 0, sizeof(*r));
	r->round = q->round;
	r->leaves = q->leaves;
	r->expected = (uint32_t)leaves;
	r->count = q->count;
	if (local && q->count && q->n_rows <= VS_DPG_RESULT_MAX &&
	    (v = malloc(q->n_rows * sizeof(*v)))) {
		/* each contributing leaf's row [leaf VNode id, its values]: in leaf id order */
		memcpy(v, q->rows, q->n_rows * sizeof(*v));
		qsort(v, q->count, q->cols * sizeof(*v), s_row_cmp);
		r->v = v;
		r->n = q->n_rows;
	} else if (local && q->count) {
		r->err = -E2BIG;
	} else if (central && q->count) {
		/* every leaf's row is here: the function runs on all of them */
		vs_dpg_central_in_t in = { .x = q->rows, .rows = q->count, .cols = q->cols,
			.arg = g->fn_arg, .arg2 = g->fn_arg2 };

		n = 0;
		r->err = g->fn->central(&in, &v, &n);
		if (r->err == 0 && n > VS_DPG_RESULT_MAX) {
			r->err = -E2BIG;        /* over the stated bound: no value, an error */
			free(v);
			v = NULL;
		}
		if (r->err == 0) {
			r->v = v;
			r->n = n;
		} else {
			free(v);
		}
	} else if (!central && !local && (v = malloc(VS_DPG_FN_MAXVALS * sizeof(*v)))) {
		r->err = g->fn->result(&p, v, &n);
		if (r->err == 0 && n <= VS_DPG_FN_MAXVALS) {
			r->v = v;
			r->n = n;
		} else {
			if (r->err == 0)
				r->err = -E2BIG;
			free(v);
		}
	}
	r->drops = m->parts_refused + m->parts_unroutable;
	for (size_t i = 0; i < m->n_hosts; i++)
		if (m->hosts[i].reg)
			r->drops += m->hosts[i].reg->parts_dropped + m->hosts[i].reg->parts_bad;
	g->results++;
	s_output(g, r);
}

/* A Part from host h: forwarded to its parent's host only along a link of the topology. */
static void
s_on_part(master_t *m, host_t *h, Vsdpg__Msg *msg)
{
	const Vsdpg__Part *q = msg->part;
	char id[16];
	dpg_t *g;
	host_t *to;

	snprintf(id, sizeof(id), "%u", q->dpg);
	g = s_dpg(m, id);
	if (!g || q->src >= g->topo->n || !g->topo->v[q->src].alive ||
	    strcmp(s_vhost(g, q->src), h->name) || g->topo->v[q->src].parent != q->dst ||
	    q->fn != g->fn->id) {
		m->parts_refused++;
		return;
	}
	if (q->dst == VS_DPG_NO_PARENT) {
		if (q->src != g->root) {
			m->parts_refused++;
			return;
		}
		s_result(m, g, q);
		return;
	}
	to = s_host(m, s_vhost(g, q->dst));
	if (!to || !to->up || s_send_to(m, to->sock, to->id, to->id_len, msg) < 0) {
		m->parts_unroutable++;
		return;
	}
	m->parts_relayed++;
}

static void
s_on_deployed(master_t *m, host_t *h, const Vsdpg__Deployed *a)
{
	char id[16];
	dpg_t *g;

	snprintf(id, sizeof(id), "%u", a->dpg);
	g = s_dpg(m, id);
	/* an empty Deploy (the DPG left that host) is not awaited: s_deploy counts hosts
	 * that got VNodes */
	if (!g || a->gen != g->gen || !g->pending || (a->status == 0 && a->vnodes == 0))
		return;
	if (a->status < 0) {
		vs_warn("host %s refused DPG %u: %s", h->name, a->dpg, a->error);
		g->refused++;
	} else {
		g->vnodes_ok += a->vnodes;
	}
	if (--g->pending == 0)
		g->confirmed_ns = vs_mono_ns();
}

/* A host came back: the leaves it lost return under the VNode they were re-attached to. */
static void
s_host_back(master_t *m, host_t *h)
{
	for (size_t i = 0; i < m->n_dpgs; i++) {
		dpg_t *g = m->dpgs[i];
		size_t keep = 0, back = 0;

		for (size_t j = 0; j < g->n_lost; j++) {
			lost_t *l = &g->lost[j];
			uint32_t id, to;

			if (strcmp(g->nodes[l->node].host, h->name)) {
				g->lost[keep++] = *l;
				continue;
			}
			to = vs_dpg_topo_attached(g->topo, g->root, l->attach_to) ? l->attach_to :
			    g->root;
			if (vs_dpg_topo_add_vnode(g->topo, l->node, 0, &id) < 0 ||
			    vs_dpg_topo_add(g->topo, id, to) < 0) {
				g->lost[keep++] = *l;
				continue;
			}
			back++;
		}
		g->n_lost = keep;
		if (back) {
			snprintf(g->note, sizeof(g->note), "host %s back: %zu leaves returned",
			    h->name, back);
			vs_notice("DPG %u: %s", g->id, g->note);
			s_deploy(m, g, 0);
		}
	}
}

/* A host missed its heartbeats: its VNodes leave every DPG; children of its parents
 * re-attach to their grandparents; the lost leaves are remembered. */
static void
s_host_down(master_t *m, host_t *h)
{
	h->up = 0;
	vs_warn("host %s: no heartbeat for %.1f s, marked down", h->name,
	    (double)(vs_mono_ns() - h->last_ns) / 1e9);
	for (size_t i = 0; i < m->n_dpgs; i++) {
		dpg_t *g = m->dpgs[i];
		size_t lost = 0, moved = 0;

		if (!s_deployed_has(g, h->name))
			continue;
		if (!strcmp(s_vhost(g, g->root), h->name)) {
			/* the root moves to a live host of the DPG, with its inputs */
			host_t *to = NULL;
			uint32_t node;

			for (size_t v = 0; v < g->n_nodes && !to; v++) {
				host_t *c = s_host(m, g->nodes[v].host);

				if (c && c->up && c != h)
					to = c;
			}
			if (!to || s_node_add(g, to->name, "", &node) < 0) {
				snprintf(g->note, sizeof(g->note), "host %s (the root's) is down and no "
				    "other host is up: no results until it returns", h->name);
				continue;
			}
			g->topo->v[g->root].host = node;
			vs_notice("DPG %u: root moved from %s to %s", g->id, h->name, to->name);
		}
		for (size_t v = 0; v < g->topo->n; v++) {
			vs_dpg_vnode_t *vn = &g->topo->v[v];
			lost_t *l;

			if (!vn->alive || strcmp(s_vhost(g, (uint32_t)v), h->name))
				continue;
			if (vn->level == 0) {
				l = realloc(g->lost, (g->n_lost + 1) * sizeof(*l));
				if (l) {
					g->lost = l;
					g->lost[g->n_lost].node = vn->host;
					g->lost[g->n_lost].attach_to = vn->parent;
					g->n_lost++;
					lost++;
				}
			} else {
				moved += vn->n_inputs;
			}
		}
		/* parents first, so their remote children move up before the leaves go */
		for (size_t v = 0; v < g->topo->n; v++)
			if (g->topo->v[v].alive && g->topo->v[v].level > 0 &&
			    !strcmp(s_vhost(g, (uint32_t)v), h->name))
				vs_dpg_topo_remove_vnode(g->topo, (uint32_t)v);
		for (size_t j = g->n_lost - lost; j < g->n_lost; j++)
			for (size_t v = 0; v < g->topo->n; v++)
				if (g->topo->v[v].alive && g->topo->v[v].host == g->lost[j].node &&
				    g->topo->v[v].level == 0) {
					g->lost[j].attach_to = g->topo->v[v].parent;
					vs_dpg_topo_remove_vnode(g->topo, (uint32_t)v);
				}
		snprintf(g->note, sizeof(g->note), "host %s down: %zu leaves lost, %zu children "
		    "of its parents re-attached to their grandparents, root on %s", h->name, lost,
		    moved, s_vhost(g, g->root));
		vs_notice("DPG %u: %s", g->id, g->note);
		s_deploy(m, g, 0);
	}
}

static void
s_on_register(master_t *m, int sock, const unsigned char *id, size_t id_len, Vsdpg__Msg *msg)
{
	Vsdpg__Register *r = msg->register_;
	host_t *h = s_host(m, r->host);
	int back = 0;

	if (!h) {
		if (m->n_hosts == MAX_HOSTS) {
			m->msgs_bad++;
			return;
		}
		h = &m->hosts[m->n_hosts++];
		memset(h, 0, sizeof(*h));
		snprintf(h->name, sizeof(h->name), "%s", r->host);
		vs_notice("host %s registered with %zu domains", h->name, r->n_domains);
	} else if (h->up && (h->sock != sock || h->id_len != id_len || memcmp(h->id, id, id_len))) {
		/* a second process claims a live host's name: the first keeps it */
		m->msgs_bad++;
		return;
	} else if (!h->up) {
		vs_notice("host %s is back", h->name);
		back = 1;
	}
	memcpy(h->id, id, id_len);
	h->id_len = id_len;
	h->sock = sock;
	h->up = 1;
	h->last_ns = vs_mono_ns();
	{
		Vsdpg__Register *old_reg = h->reg, *old_lib = h->lib;

		h->reg = r;
		if (r->has_metrics)
			h->lib = r;
		if (old_reg && old_reg != h->lib)
			vsdpg__register__free_unpacked(old_reg, NULL);
		if (old_lib && old_lib != old_reg && old_lib != h->lib)
			vsdpg__register__free_unpacked(old_lib, NULL);
	}
	msg->register_ = NULL;          /* kept by the host record */
	msg->body_case = VSDPG__MSG__BODY__NOT_SET;
	if (back)
		s_host_back(m, h);
}

/* ---- console commands ------------------------------------------------------------------ */

static int __attribute__((format(printf, 3, 4)))
s_fail(sbuf_t *err, int rc, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s_add(err, "%s", buf);
	return rc;
}

static int
s_uint(const char *s, unsigned long max, uint32_t *v_r)
{
	char *end;
	unsigned long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max || s[0] == '-')
		return -EINVAL;
	*v_r = (uint32_t)v;
	return 0;
}

static int
s_fn_arg(const char *fname, const char *arg, const vs_dpg_fn_t **fn_r, uint32_t *arg_r,
    sbuf_t *err)
{
	const vs_dpg_fn_t *fn = vs_dpg_fn_lookup_name(fname);
	const vs_dpg_fn_t *const *all;
	vs_dpg_part_t p;
	size_t n;

	if (!fn) {
		s_add(err, "unknown function %.64s (known:", fname);
		n = vs_dpg_fn_list(&all);
		for (size_t i = 0; i < n; i++)
			s_add(err, " %s", all[i]->name);
		n = vs_dpg_plugin_list(&all);
		for (size_t i = 0; i < n; i++)
			s_add(err, " %s", all[i]->name);
		s_add(err, ")");
		return -ENOENT;
	}
	/* a plugin's combine or local function runs on the hosts: s_plugin_hosts checks that
	 * every host of the DPG has it */
	*arg_r = 0;
	if (arg && s_uint(arg, 1u << 20, arg_r) < 0)
		return s_fail(err, -EINVAL, "bad argument \"%.64s\" for %s", arg, fn->name);
	if (fn->id == VS_DPG_FN_ENTROPY) {
		/* one metric per leaf; the console's argument is the number of bins */
		if (arg && (*arg_r < 2 || *arg_r > VS_DPG_ENTROPY_MAXBINS))
			return s_fail(err, -EINVAL, "argument %u out of range for ENTROPY (bins: "
			    "2..%u)", *arg_r, VS_DPG_ENTROPY_MAXBINS);
		*arg_r = arg ? VS_DPG_ENTROPY_ARG(1, *arg_r) : 0;
	}
	if (fn->kind == VS_DPG_FN_CENTRAL) {
		if (fn->id == VS_DPG_FN_KMEANS && !arg)
			*arg_r = 2;
		if (fn->id == VS_DPG_FN_KMEANS && (*arg_r < 1 || *arg_r > VS_DPG_KMEANS_MAXK))
			return s_fail(err, -EINVAL, "argument %u out of range for KMEANS (k: 1..%u)",
			    *arg_r, VS_DPG_KMEANS_MAXK);
	} else if (fn->init(&p, *arg_r) < 0) {
		return s_fail(err, -EINVAL, "argument %u out of range for %s", *arg_r, fn->name);
	}
	*fn_r = fn;
	return 0;
}

/* A plugin's combine or local function runs in the hosts' VNodes: each host of g (its node
 * list, and extra, a host being added) must have loaded the same function (name, id, ABI,
 * kind), as its Register says. -ENOENT naming the hosts that lack it; nothing changed. */
static int
s_plugin_hosts(master_t *m, const dpg_t *g, const char *extra, const vs_dpg_fn_t *fn,
    sbuf_t *err)
{
	sbuf_t miss = { 0 };
	size_t n_miss = 0, n_nodes = g->n_nodes + (extra != NULL);

	if (fn->id < VS_DPG_FN_PLUGIN_MIN || fn->kind == VS_DPG_FN_CENTRAL)
		return 0;       /* built-ins are everywhere; central plugins run here */
	for (size_t i = 0; i < n_nodes; i++) {
		const char *hn = i < g->n_nodes ? g->nodes[i].host : extra;
		const host_t *h = s_host(m, hn);
		int seen = 0, has = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(g->nodes[j].host, hn);
		if (seen)
			continue;
		for (size_t k = 0; h && h->reg && k < h->reg->n_plugins && !has; k++) {
			const Vsdpg__PluginFn *pf = h->reg->plugins[k];

			has = pf->id == fn->id && !strcasecmp(pf->name, fn->name) &&
			    pf->abi == fn->abi && pf->kind == (uint32_t)fn->kind;
		}
		if (!has) {
			s_add(&miss, "%s%s", n_miss ? ", " : "", hn);
			n_miss++;
		}
	}
	if (n_miss) {
		s_fail(err, -ENOENT, "%s is a plugin's %s function (id %u, ABI %u) that runs on "
		    "the hosts, and host%s %.300s %s not loaded it (start vscoped with -P DIR "
		    "holding the plugin); nothing changed", fn->name,
		    fn->kind == VS_DPG_FN_LOCAL ? "local" : "combine", fn->id, fn->abi,
		    n_miss > 1 ? "s" : "", miss.s ? miss.s : "?", n_miss > 1 ? "have" : "has");
		free(miss.s);
		return -ENOENT;
	}
	return 0;
}

/* A central function's result must fit a result record (VS_DPG_RESULT_MAX values). */
static int
s_central_fits(const vs_dpg_fn_t *fn, uint32_t arg, uint32_t window, sbuf_t *err)
{
	size_t n, c;

	if (fn->kind != VS_DPG_FN_CENTRAL)
		return 0;
	if (fn->id == VS_DPG_FN_KMEANS) {
		n = (size_t)arg * window + arg + 2;
		if (n > VS_DPG_RESULT_MAX)
			return s_fail(err, -E2BIG, "KMEANS k=%u over windows of %u: %zu values, a "
			    "result holds at most %u (k x window + k + 2)", arg, window, n,
			    VS_DPG_RESULT_MAX);
	} else if (fn->id == VS_DPG_FN_PCA) {
		c = arg == 0 || arg > window ? window : arg;
		n = 2 * c + c * window;
		if (n > VS_DPG_RESULT_MAX)
			return s_fail(err, -E2BIG, "PCA of %zu components over windows of %u: %zu "
			    "values, a result holds at most %u (choose fewer with ARG)", c, window,
			    n, VS_DPG_RESULT_MAX);
	}
	return 0;
}

static int
s_duration(const char *s, int64_t *ns_r)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || !isfinite(v) || v <= 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		v *= 1e6;
	else if (!strcmp(end, "s") || !*end)
		v *= 1e9;
	else
		return -EINVAL;
	*ns_r = (int64_t)v;
	return 0;
}

/* The node list: "all" (every domain of every live host), or a comma-separated list of
 * HOST:DOMAIN, HOST (one leaf over every VIF of the host) or HOST*N (N leaves there). */
static int
s_nodes(master_t *m, dpg_t *g, const char *spec, sbuf_t *err)
{
	char buf[VS_DPG_MAX_ARG + 1], *save = NULL, *tok;

	if (!strcmp(spec, "all")) {
		for (size_t i = 0; i < m->n_hosts; i++) {
			host_t *h = &m->hosts[i];

			if (!h->up || !h->reg)
				continue;
			for (size_t d = 0; d < h->reg->n_domains; d++)
				if (s_node_add(g, h->name, h->reg->domains[d]->name, NULL) < 0)
					return s_fail(err, -ENOMEM, "out of memory");
		}
		if (g->n_nodes == 0)
			return s_fail(err, -ENOENT, "no registered host has a domain");
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':'), *star = strchr(tok, '*');
		uint32_t times = 1;
		host_t *h;

		if (colon)
			*colon++ = '\0';
		if (star) {
			*star++ = '\0';
			if (s_uint(star, VS_DPG_MAX_VNODES, &times) < 0 || times == 0)
				return s_fail(err, -EINVAL, "bad count in node %.64s*%.16s", tok,
				    star);
		}
		h = s_host(m, tok);
		if (!h || !h->up)
			return s_fail(err, -ENOENT, "node %.64s: host %.64s is not registered", tok,
			    tok);
		if (colon && !s_domain(h, colon))
			return s_fail(err, -ENOENT, "node %.64s:%.64s: host %.64s has no domain "
			    "%.64s", tok, colon, tok, colon);
		for (uint32_t i = 0; i < times; i++)
			if (s_node_add(g, h->name, colon ? colon : "", NULL) < 0)
				return s_fail(err, -ENOMEM, "out of memory");
	}
	if (g->n_nodes == 0)
		return s_fail(err, -EINVAL, "empty node list");
	return 0;
}

static size_t s_metric_hosts(const master_t *m, const char *metric);

/* 1 when an up host has announced no metric library */
static int
s_lib_missing(const master_t *m)
{
	for (size_t i = 0; i < m->n_hosts; i++)
		if (m->hosts[i].up && !m->hosts[i].lib)
			return 1;
	return 0;
}

/* create TOPO NODES [fn=F] [arg=N] [bf=N] [height=N] [metric=M] [period=D] [start] */
static int
s_cmd_create(master_t *m, Vsdpg__Command *c, sbuf_t *out, sbuf_t *err)
{
	vs_dpg_topo_kind_t kind;
	dpg_t *g;
	uint32_t bf = 0, height = 0;
	const char *fname = "AVE", *fnarg = NULL;
	int rc, start = 0, metric_given = 0;

	if (c->n_args < 2)
		return s_fail(err, -EINVAL, "usage: create P|C|H NODES [fn=F] [arg=N] [bf=N] "
		    "[height=N] [metric=M] [period=D] [window=N] [passes=N] "
		    "[out=console|log|warehouse] [start]");
	if (vs_dpg_topo_parse(c->args[0], &kind) < 0)
		return s_fail(err, -EINVAL, "unknown topology %.64s (P, C or H)", c->args[0]);
	if (m->n_dpgs == MAX_DPGS)
		return s_fail(err, -ENOSPC, "%d DPGs exist already", MAX_DPGS);
	g = calloc(1, sizeof(*g));
	if (!g)
		return s_fail(err, -ENOMEM, "out of memory");
	snprintf(g->metric, sizeof(g->metric), "net.tx.bytes");
	g->period_ns = VS_NS_PER_SEC;
	g->window = 8;
	bf = 2;
	for (size_t i = 2; i < c->n_args; i++) {
		const char *a = c->args[i], *v = strchr(a, '=');

		rc = 0;
		if (!strcmp(a, "start"))
			start = 1;
		else if (!v)
			rc = s_fail(err, -EINVAL, "bad option %.64s (expected key=value)", a);
		else if (!strncmp(a, "fn=", 3))
			fname = v + 1;
		else if (!strncmp(a, "arg=", 4))
			fnarg = v + 1;
		else if (!strncmp(a, "window=", 7)) {
			if (s_uint(v + 1, VS_DPG_MAX_WINDOW, &g->window) < 0 || g->window < 2)
				rc = s_fail(err, -EINVAL, "window: expected 2..%d, not %.32s",
				    VS_DPG_MAX_WINDOW, v + 1);
		} else if (!strncmp(a, "passes=", 7)) {
			if (s_uint(v + 1, VS_DPG_KMEANS_MAXPASSES, &g->fn_arg2) < 0)
				rc = s_fail(err, -EINVAL, "passes: expected 0..%u, not %.32s",
				    VS_DPG_KMEANS_MAXPASSES, v + 1);
		}
		else if (!strncmp(a, "out=", 4)) {
			if (vs_out_parse(v + 1, &g->out_kind) < 0)
				rc = s_fail(err, -EINVAL, "out: console, log or warehouse, not %.32s",
				    v + 1);
		}
		else if (!strncmp(a, "bf=", 3)) {
			if (s_uint(v + 1, VS_DPG_MAX_VNODES, &bf) < 0 || bf < 2)
				rc = s_fail(err, -EINVAL, "bf: expected 2 or more, not %.32s", v + 1);
		} else if (!strncmp(a, "height=", 7)) {
			if (s_uint(v + 1, VS_DPG_MAX_HEIGHT, &height) < 0)
				rc = s_fail(err, -EINVAL, "height: expected 0..%u, not %.32s",
				    VS_DPG_MAX_HEIGHT, v + 1);
		} else if (!strncmp(a, "metric=", 7)) {
			if (!vs_dpgwire_name_ok(v + 1))
				rc = s_fail(err, -EINVAL, "bad metric name %.64s", v + 1);
			else
				snprintf(g->metric, sizeof(g->metric), "%s", v + 1);
			metric_given = 1;
		} else if (!strncmp(a, "period=", 7)) {
			if (s_duration(v + 1, &g->period_ns) < 0 ||
			    g->period_ns < VS_DPG_MIN_PERIOD_NS || g->period_ns > VS_DPG_MAX_PERIOD_NS)
				rc = s_fail(err, -EINVAL, "period: expected 100ms..3600s, not %.32s",
				    v + 1);
		} else
			rc = s_fail(err, -EINVAL, "unknown option %.64s", a);
		if (rc < 0)
			goto fail;
	}
	if ((rc = s_fn_arg(fname, fnarg, &g->fn, &g->fn_arg, err)) < 0 ||
	    (rc = s_central_fits(g->fn, g->fn_arg, g->window, err)) < 0)
		goto fail;
	if ((rc = s_nodes(m, g, c->args[1], err)) < 0 ||
	    (rc = s_plugin_hosts(m, g, NULL, g->fn, err)) < 0)
		goto fail;
	/* a metric= must be in the library (the default, net.tx.bytes, is every VIF's, and a
	 * host without VIFs yet simply has leaves without samples); a host that announces no
	 * library (a bench's VNode host) may have it */
	if (metric_given && s_metric_hosts(m, g->metric) == 0 && !s_lib_missing(m)) {
		rc = s_fail(err, -ENOENT, "unknown metric %s: no registered host collects it "
		    "(see vscope dpg list metrics)", g->metric);
		goto fail;
	}
	rc = vs_dpg_topo_build(kind, g->n_nodes, bf, height, &g->topo);
	if (rc < 0) {
		s_add(err, "cannot build %s over %zu nodes (bf %u, height %u): %s",
		    vs_dpg_topo_name(kind), g->n_nodes, bf, height, strerror(-rc));
		goto fail;
	}
	if (kind == VS_DPG_TOPO_P)
		g->root = (uint32_t)g->topo->n - 1;
	else
		g->root = vs_dpg_topo_root(g->topo);
	{
		char why[512];

		rc = vs_out_open(m->outs, g->out_kind, m->next_id + 1, &g->out, why, sizeof(why));
		if (rc < 0) {
			s_add(err, "out=%s: %s", vs_out_name(g->out_kind), why);
			goto fail;
		}
	}
	g->id = ++m->next_id;
	g->running = start;
	m->dpgs[m->n_dpgs++] = g;
	s_deploy(m, g, 0);
	s_add(out, "dpg %u created: %s over %zu nodes, %zu VNodes, %s of %s every %lld ms%s\n",
	    g->id, vs_dpg_topo_name(kind), g->n_nodes, vs_dpg_topo_count(g->topo, NULL),
	    g->fn->name, g->metric, (long long)(g->period_ns / VS_NS_PER_MSEC),
	    start ? ", running" : "");
	return 0;
fail:
	s_dpg_free(&g);
	return rc;
}

static int
s_get(master_t *m, Vsdpg__Command *c, size_t want, const char *usage, dpg_t **g_r,
    sbuf_t *err)
{
	if (c->n_args < want)
		return s_fail(err, -EINVAL, "usage: %s", usage);
	*g_r = s_dpg(m, c->args[0]);
	if (!*g_r)
		return s_fail(err, -ENOENT, "no DPG %.64s", c->args[0]);
	return 0;
}

static int
s_vid(dpg_t *g, const char *s, uint32_t *id_r, sbuf_t *err)
{
	if (s_uint(s, UINT32_MAX - 1, id_r) < 0 || *id_r >= g->topo->n ||
	    !g->topo->v[*id_r].alive)
		return s_fail(err, -ENOENT, "DPG %u has no VNode %.32s", g->id, s);
	return 0;
}

static int
s_cmd_edit(master_t *m, Vsdpg__Command *c, sbuf_t *out, sbuf_t *err)
{
	const char *verb = c->verb;
	dpg_t *g;
	uint32_t src, dst, id = 0;
	int ins = !strcmp(verb, "insert"), rc;
	size_t a = ins ? 2 : 1;
	uint32_t node;

	rc = s_get(m, c, a + 2, ins ? "insert DPG HOST[:DOMAIN] SRC DST" :
	    !strcmp(verb, "add") ? "add DPG SRC DST" : "delete DPG SRC DST", &g, err);
	if (rc < 0)
		return rc;
	if ((rc = s_vid(g, c->args[a], &src, err)) < 0 ||
	    (rc = s_vid(g, c->args[a + 1], &dst, err)) < 0)
		return rc;
	if (ins) {
		char hn[VS_DPG_MAX_ARG + 1], *colon;
		host_t *h;

		snprintf(hn, sizeof(hn), "%s", c->args[1]);
		if ((colon = strchr(hn, ':')))
			*colon++ = '\0';
		h = s_host(m, hn);
		if (!h || !h->up)
			return s_fail(err, -ENOENT, "host %.64s is not registered", hn);
		if (g->topo->v[src].parent != dst)
			return s_fail(err, -ENOENT, "DPG %u has no link %u -> %u", g->id, src, dst);
		if ((rc = s_plugin_hosts(m, g, h->name, g->fn, err)) < 0)
			return rc;
		if (s_node_add(g, h->name, colon ? colon : "", &node) < 0)
			return s_fail(err, -ENOMEM, "out of memory");
		rc = vs_dpg_topo_insert(g->topo, node, src, dst, &id);
		if (rc < 0) {
			g->n_nodes--;
			return s_fail(err, rc, "insert: %s", strerror(-rc));
		}
		s_add(out, "dpg %u: VNode %u inserted on %s between %u and %u\n", g->id, id,
		    h->name, src, dst);
	} else if (!strcmp(verb, "add")) {
		rc = vs_dpg_topo_add(g->topo, src, dst);
		if (rc == -EEXIST)
			return s_fail(err, rc, "DPG %u: link %u -> %u exists already", g->id, src,
			    dst);
		if (rc == -EBUSY)
			return s_fail(err, rc, "DPG %u: VNode %u already feeds VNode %u (delete that "
			    "link first)", g->id, src, g->topo->v[src].parent);
		if (rc == -ELOOP)
			return s_fail(err, rc, "DPG %u: link %u -> %u would close a cycle", g->id,
			    src, dst);
		if (rc == 0 && src == g->root) {
			vs_dpg_topo_delete(g->topo, src, dst);
			return s_fail(err, -EINVAL, "DPG %u: VNode %u is the root", g->id, src);
		}
		if (rc < 0)
			return s_fail(err, rc, "add: %s", strerror(-rc));
		s_add(out, "dpg %u: link %u -> %u added\n", g->id, src, dst);
	} else {
		rc = vs_dpg_topo_delete(g->topo, src, dst);
		if (rc < 0)
			return s_fail(err, rc, "DPG %u has no link %u -> %u", g->id, src, dst);
		s_add(out, "dpg %u: link %u -> %u deleted (VNode %u and what feeds it are "
		    "detached)\n", g->id, src, dst, src);
	}
	s_deploy(m, g, 0);
	return 0;
}

static int
s_cmd_assign(master_t *m, Vsdpg__Command *c, sbuf_t *out, sbuf_t *err)
{
	dpg_t *g;
	const vs_dpg_fn_t *fn;
	uint32_t arg;
	int rc = s_get(m, c, 2, "assign DPG FUNCTION [ARG]", &g, err);

	if (rc < 0)
		return rc;
	if ((rc = s_fn_arg(c->args[1], c->n_args > 2 ? c->args[2] : NULL, &fn, &arg, err)) < 0 ||
	    (rc = s_central_fits(fn, arg, g->window, err)) < 0 ||
	    (rc = s_plugin_hosts(m, g, NULL, fn, err)) < 0)
		return rc;
	g->fn = fn;
	g->fn_arg = arg;
	s_deploy(m, g, 0);
	s_add(out, "dpg %u: function %s assigned\n", g->id, fn->name);
	return 0;
}

static int
s_cmd_run(master_t *m, Vsdpg__Command *c, sbuf_t *out, sbuf_t *err)
{
	dpg_t *g;
	int start = !strcmp(c->verb, "start"), rc;

	rc = s_get(m, c, 1, start ? "start DPG" : !strcmp(c->verb, "stop") ? "stop DPG" :
	    "destroy DPG", &g, err);
	if (rc < 0)
		return rc;
	if (!strcmp(c->verb, "destroy")) {
		s_deploy(m, g, 1);
		for (size_t i = 0; i < m->n_dpgs; i++)
			if (m->dpgs[i] == g)
				m->dpgs[i] = m->dpgs[--m->n_dpgs];
		s_add(out, "dpg %u destroyed\n", g->id);
		s_dpg_free(&g);
		return 0;
	}
	g->running = start;
	s_deploy(m, g, 0);
	s_add(out, "dpg %u %s\n", g->id, start ? "started" : "stopped");
	return 0;
}

static void
s_list_one(const dpg_t *g, int brief, sbuf_t *out)
{
	size_t leaves, n = vs_dpg_topo_count(g->topo, &leaves), att = 0;

	for (size_t i = 0; i < g->topo->n; i++)
		att += vs_dpg_topo_attached(g->topo, g->root, (uint32_t)i);
	s_add(out, "dpg %u %s fn %s metric %s period %lld ms vnodes %zu attached %zu gen %llu ",
	    g->id, g->running ? "running" : "stopped", g->fn->name, g->metric,
	    (long long)(g->period_ns / VS_NS_PER_MSEC), n, att, (unsigned long long)g->gen);
	if (g->confirmed_ns)
		s_add(out, "confirmed %.3f ms", (double)(g->confirmed_ns - g->deploy_ns) / 1e6);
	else
		s_add(out, "pending %zu hosts", g->pending);
	/* what the hosts' Deployed answers said: VNodes in force of those sent, refusals */
	s_add(out, " in-force %zu/%zu refused %zu", g->vnodes_ok, g->vnodes_sent, g->refused);
	s_add(out, " out %s", vs_out_name(g->out_kind));
	if (g->out)
		s_add(out, " (%s, %llu errors)", vs_out_where(g->out),
		    (unsigned long long)vs_out_errors(g->out));
	s_add(out, " lost %zu%s%s\n", g->n_lost, g->note[0] ? " note " : "", g->note);
	for (size_t i = 0; brief == 0 && i < g->topo->n; i++) {
		const vs_dpg_vnode_t *v = &g->topo->v[i];
		const node_t *nd = &g->nodes[v->host];

		if (!v->alive)
			continue;
		s_add(out, "  vnode %u host %s%s%s level %u inputs %u parent ", v->id, nd->host,
		    v->level == 0 && nd->domain[0] ? ":" : "",
		    v->level == 0 ? nd->domain : "", v->level, v->n_inputs);
		if (v->parent == VS_DPG_NO_PARENT)
			s_add(out, "%s\n", v->id == g->root ? "root" : "detached");
		else
			s_add(out, "%u%s\n", v->parent,
			    vs_dpg_topo_attached(g->topo, g->root, v->id) ? "" : " detached");
	}
	for (size_t i = 0; brief == 0 && i < g->n_lost; i++)
		s_add(out, "  lost %s:%s\n", g->nodes[g->lost[i].node].host,
		    g->nodes[g->lost[i].node].domain);
}

static int
s_cmd_list(master_t *m, Vsdpg__Command *c, sbuf_t *out, sbuf_t *err)
{
	if (c->n_args) {
		dpg_t *g;
		int rc = s_get(m, c, 1, "list [DPG [brief]]", &g, err);

		if (rc < 0)
			return rc;
		/* brief: the DPG's line only (a console polling a large DPG's confirmation) */
		if (c->n_args > 2 || (c->n_args == 2 && strcmp(c->args[1], "brief")))
			return s_fail(err, -EINVAL, "usage: list [DPG [brief]]");
		s_list_one(g, c->n_args == 2, out);
		return 0;
	}
	for (size_t i = 0; i < m->n_dpgs; i++)
		s_list_one(m->dpgs[i], 0, out);
	return 0;
}

static int
s_cmd_results(master_t *m, Vsdpg__Command *c, sbuf_t *out, sbuf_t *err)
{
	dpg_t *g;
	uint32_t want = 1;
	int rc = s_get(m, c, 1, "results DPG [N]", &g, err);

	if (rc < 0)
		return rc;
	if (c->n_args > 1 && (s_uint(c->args[1], N_RESULTS, &want) < 0 || want == 0))
		return s_fail(err, -EINVAL, "results: N is 1..%d", N_RESULTS);
	if (want > g->results)
		want = (uint32_t)g->results;
	/* a large result (PCA, K-means) is long: the newest lines that fit one answer, all of
	 * each line's values; older ones left out say so (the log and warehouse have them) */
	{
		sbuf_t *lines = calloc(want + 1, sizeof(*lines));
		size_t total = 0, keep = 0, limit = VS_DPG_MAX_TEXT - 4096;

		if (!lines)
			return s_fail(err, -ENOMEM, "out of memory");
		for (; keep < want; keep++) {
			uint64_t k = g->results - 1 - keep;

			lines[keep].max = limit;
			s_result_line(g, &g->res[k % N_RESULTS], keep == 0, &lines[keep]);
			/* the newest always (cut at the bound if need be), older ones that fit */
			if (!lines[keep].s || (keep && total + lines[keep].len + 1 > limit))
				break;
			total += lines[keep].len + 1;
		}
		if (keep < want)
			s_add(out, "# %u older results left out: over an answer's %d bytes "
			    "(out=log or out=warehouse keeps them all)\n", want - (unsigned)keep,
			    VS_DPG_MAX_TEXT);
		for (size_t i = keep; i-- > 0;)
			s_add(out, "%s\n", lines[i].s);
		for (size_t i = 0; i <= keep && i < want; i++)
			free(lines[i].s);
		free(lines);
	}
	return 0;
}

static int
s_cmd_hosts(master_t *m, sbuf_t *out)
{
	int64_t now = vs_mono_ns();

	for (size_t i = 0; i < m->n_hosts; i++) {
		const host_t *h = &m->hosts[i];

		s_add(out, "host %s %s seen %.1f s ago domains %zu vnodes %u sent %llu dropped "
		    "%llu bad %llu", h->name, h->up ? "up" : "down",
		    (double)(now - h->last_ns) / 1e9, h->reg ? h->reg->n_domains : 0,
		    h->reg ? h->reg->vnodes : 0,
		    (unsigned long long)(h->reg ? h->reg->parts_sent : 0),
		    (unsigned long long)(h->reg ? h->reg->parts_dropped : 0),
		    (unsigned long long)(h->reg ? h->reg->parts_bad + h->reg->msgs_bad : 0));
		/* appended after the fields above, so that scripts reading them by position
		 * keep working: function errors, then the plugin functions the host loaded */
		s_add(out, " fnerr %llu plugins",
		    (unsigned long long)(h->reg ? h->reg->fn_errors : 0));
		for (size_t k = 0; h->reg && k < h->reg->n_plugins; k++)
			s_add(out, "%s%s", k ? "," : " ", h->reg->plugins[k]->name);
		if (!h->reg || !h->reg->n_plugins)
			s_add(out, " -");
		s_add(out, "\n");
	}
	/* the CURVE counters after the older ones, for scripts that read them by position */
	s_add(out, "master msgs %llu bad %llu relayed %llu refused %llu unroutable %llu "
	    "zap-refused %llu forged %llu handshake-failed %llu hostkeys %zu\n",
	    (unsigned long long)m->msgs, (unsigned long long)m->msgs_bad,
	    (unsigned long long)m->parts_relayed, (unsigned long long)m->parts_refused,
	    (unsigned long long)m->parts_unroutable, (unsigned long long)m->zap_refused,
	    (unsigned long long)m->forged, (unsigned long long)m->handshake_failed,
	    m->n_hostkeys);
	return 0;
}

/* ---- the metric library: the union of what the up hosts announced ---------------------- */

typedef struct {
	const Vsdpg__Metric *x;
	const host_t *h;
} mref_t;

static int
s_mref_cmp(const void *a, const void *b)
{
	const mref_t *x = a, *y = b;
	int c = strcmp(x->x->name, y->x->name);

	return c ? c : strcmp(x->h->name, y->h->name);
}

/* Every (metric, host) of the up hosts' libraries, sorted by metric then host, in a malloc'd
 * array; only name's when name is not NULL. */
static int
s_metric_refs(const master_t *m, const char *name, mref_t **refs_r, size_t *n_r)
{
	size_t n = 0, cap = 0;
	mref_t *v;

	for (size_t i = 0; i < m->n_hosts; i++)
		if (m->hosts[i].up && m->hosts[i].lib)
			cap += m->hosts[i].lib->n_metrics;
	v = calloc(cap + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_hosts; i++) {
		const host_t *h = &m->hosts[i];

		if (!h->up || !h->lib)
			continue;
		for (size_t k = 0; k < h->lib->n_metrics; k++)
			if (!name || !strcmp(h->lib->metrics[k]->name, name))
				v[n++] = (mref_t){ h->lib->metrics[k], h };
	}
	qsort(v, n, sizeof(*v), s_mref_cmp);
	*refs_r = v;
	*n_r = n;
	return 0;
}

/* "HOST:E1,E2,+N" for one host's entities of a metric */
static void
s_metric_where(sbuf_t *out, const mref_t *r)
{
	s_add(out, " %s:", r->h->name);
	for (size_t e = 0; e < r->x->n_entities; e++)
		s_add(out, "%s%s", e ? "," : "", r->x->entities[e]);
	if (r->x->entity_count > r->x->n_entities)
		s_add(out, ",+%zu", (size_t)(r->x->entity_count - r->x->n_entities));
}

/* list metrics: one line a metric: NAME UNIT KIND on HOST:ENTITIES... via SOURCE */
static int
s_cmd_metrics(master_t *m, sbuf_t *out, sbuf_t *err)
{
	mref_t *v;
	size_t n, names = 0;

	if (s_metric_refs(m, NULL, &v, &n) < 0)
		return s_fail(err, -ENOMEM, "out of memory");
	for (size_t i = 0, j; i < n; i = j) {
		j = i;
		s_add(out, "%s %s %s on", v[i].x->name, *v[i].x->unit ? v[i].x->unit : "-",
		    v[i].x->counter ? "counter" : "gauge");
		for (; j < n && !strcmp(v[j].x->name, v[i].x->name); j++)
			s_metric_where(out, &v[j]);
		s_add(out, " via %s\n", v[i].x->source);
		names++;
	}
	free(v);
	if (names == 0)
		s_add(out, "no metrics: no registered host announced its library\n");
	return 0;
}

/* Hosts (up, with a library) whose history holds metric. */
static size_t
s_metric_hosts(const master_t *m, const char *metric)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_hosts; i++) {
		const host_t *h = &m->hosts[i];

		for (size_t k = 0; h->up && h->lib && k < h->lib->n_metrics; k++)
			if (!strcmp(h->lib->metrics[k]->name, metric)) {
				n++;
				break;
			}
	}
	return n;
}

/* collect METRIC: its unit and kind, and per host its collection function and entities */
static int
s_cmd_collect(master_t *m, Vsdpg__Command *c, sbuf_t *out, sbuf_t *err)
{
	mref_t *v;
	size_t n;

	if (c->n_args != 1)
		return s_fail(err, -EINVAL, "usage: collect METRIC");
	if (!vs_dpgwire_name_ok(c->args[0]))
		return s_fail(err, -EINVAL, "bad metric name %.64s", c->args[0]);
	if (s_metric_refs(m, c->args[0], &v, &n) < 0)
		return s_fail(err, -ENOMEM, "out of memory");
	if (n == 0) {
		free(v);
		return s_fail(err, -ENOENT, "unknown metric %s: no registered host collects it "
		    "(see vscope dpg list metrics)", c->args[0]);
	}
	s_add(out, "metric %s unit %s kind %s hosts %zu\n", v[0].x->name,
	    *v[0].x->unit ? v[0].x->unit : "-", v[0].x->counter ? "counter" : "gauge", n);
	for (size_t i = 0; i < n; i++) {
		s_add(out, "collect on");
		s_metric_where(out, &v[i]);
		s_add(out, " by %s\n", v[i].x->source);
	}
	free(v);
	return 0;
}

/* plugin FILE: load FILE from vmasterd's plugin directory (-P); its central functions can
 * then be used in DPGs. Every refusal says why (vs_dpg_plugin_load) and changes nothing. */
static int
s_cmd_plugin(master_t *m, Vsdpg__Command *c, sbuf_t *out, sbuf_t *err)
{
	const vs_dpg_fn_t *const *fns;
	vs_dpg_plugin_t *pl = NULL;
	char why[512] = "";
	size_t n;
	int rc;

	if (c->n_args != 1)
		return s_fail(err, -EINVAL, "usage: plugin FILE (a file in vmasterd's -P directory)");
	if (!m->plugin_dir)
		return s_fail(err, -ENOENT, "no plugin directory: start vmasterd with -P DIR");
	if (m->n_plugins == sizeof(m->plugins) / sizeof(m->plugins[0]))
		return s_fail(err, -ENOSPC, "%zu plugins loaded already", m->n_plugins);
	rc = vs_dpg_plugin_load(m->plugin_dir, c->args[0], &pl, why, sizeof(why));
	if (rc < 0)
		return s_fail(err, rc, "plugin %.64s refused: %s", c->args[0], why);
	m->plugins[m->n_plugins++] = pl;
	n = vs_dpg_plugin_fns(pl, &fns);
	s_add(out, "plugin %s loaded:", c->args[0]);
	for (size_t i = 0; i < n; i++)
		s_add(out, " %s (%u, %s)", fns[i]->name, fns[i]->id,
		    fns[i]->kind == VS_DPG_FN_CENTRAL ? "central" : fns[i]->kind ==
		    VS_DPG_FN_COMBINE ? "combine" : "local");
	s_add(out, "\n");
	vs_notice("%s: plugin %s loaded", m->plugin_dir, c->args[0]);
	return 0;
}

static void
s_on_command(master_t *m, int sock, const unsigned char *id, size_t id_len,
    Vsdpg__Command *c)
{
	Vsdpg__Msg msg = VSDPG__MSG__INIT;
	Vsdpg__Answer a = VSDPG__ANSWER__INIT;
	sbuf_t out = { 0 }, err = { 0 };
	const char *v = c->verb;
	int rc;

	if (!strcmp(v, "create"))
		rc = s_cmd_create(m, c, &out, &err);
	else if (!strcmp(v, "add") || !strcmp(v, "delete") || !strcmp(v, "insert"))
		rc = s_cmd_edit(m, c, &out, &err);
	else if (!strcmp(v, "assign"))
		rc = s_cmd_assign(m, c, &out, &err);
	else if (!strcmp(v, "start") || !strcmp(v, "stop") || !strcmp(v, "destroy"))
		rc = s_cmd_run(m, c, &out, &err);
	else if (!strcmp(v, "list") && c->n_args == 1 && !strcmp(c->args[0], "metrics"))
		rc = s_cmd_metrics(m, &out, &err);
	else if (!strcmp(v, "collect"))
		rc = s_cmd_collect(m, c, &out, &err);
	else if (!strcmp(v, "list"))
		rc = s_cmd_list(m, c, &out, &err);
	else if (!strcmp(v, "results"))
		rc = s_cmd_results(m, c, &out, &err);
	else if (!strcmp(v, "hosts"))
		rc = s_cmd_hosts(m, &out);
	else if (!strcmp(v, "plugin"))
		rc = s_cmd_plugin(m, c, &out, &err);
	else if (!strcmp(v, "functions")) {
		const vs_dpg_fn_t *const *all;

		for (int pass = 0; pass < 2; pass++) {
			size_t n = pass ? vs_dpg_plugin_list(&all) : vs_dpg_fn_list(&all);

			for (size_t i = 0; i < n; i++)
				s_add(&out, "%u %s %s %s%s\n", all[i]->id, all[i]->name,
				    all[i]->kind == VS_DPG_FN_COMBINE ? "combine" :
				    all[i]->kind == VS_DPG_FN_LOCAL ? "local" : "central",
				    all[i]->help ? all[i]->help : "", pass ? " (plugin)" : "");
		}
		rc = 0;
	} else
		rc = s_fail(&err, -EINVAL, "unknown command %.64s", v);
	a.status = rc < 0 ? rc : 0;
	a.error = err.s ? err.s : (char *)"";
	a.text = out.s ? out.s : (char *)"";
	msg.body_case = VSDPG__MSG__BODY_ANSWER;
	msg.answer = &a;
	s_send_to(m, sock, id, id_len, &msg);
	free(out.s);
	free(err.s);
}

/* ---- the loop ------------------------------------------------------------------------- */

/* Logs at most one warning of a kind per WARN_NS, saying how many it held back. */
static int
s_warn_due(warn_t *w)
{
	int64_t now = vs_mono_ns();

	if (w->last_ns && now - w->last_ns < WARN_NS) {
		w->suppressed++;
		return 0;
	}
	w->last_ns = now;
	return 1;
}

/* A message from a CURVE peer admitted as user (its key's host) that claims to be another
 * host: dropped, counted, and named in a paced warning. */
static void
s_forged(master_t *m, const char *user, const char *claim)
{
	const vs_hostkey_t *k = vs_hostkeys_by_host(m->hostkeys, m->n_hostkeys, user);

	m->forged++;
	if (s_warn_due(&m->warn_forged)) {
		vs_warn("forged: the key of host %s (%s) sent a message as host %s; dropped "
		    "(%llu forged in all, %llu warnings held back)", user, k ? k->key : "?",
		    claim, (unsigned long long)m->forged,
		    (unsigned long long)m->warn_forged.suppressed);
		m->warn_forged.suppressed = 0;
	}
}

static void
s_process(master_t *m, int sock)
{
	void *zs = m->socks[sock];

	for (int round = 0; round < 4096; round++) {
		zmq_msg_t f[2];
		unsigned char id[MAX_ID];
		size_t id_len;
		int more = 0;
		size_t ml = sizeof(more);
		Vsdpg__Msg *msg;
		char err[256], user[VS_KEYDOM_MAX + 1];
		host_t *h = NULL;

		zmq_msg_init(&f[0]);
		if (zmq_msg_recv(&f[0], zs, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[0]);
			return;
		}
		id_len = zmq_msg_size(&f[0]);
		if (id_len > MAX_ID)
			id_len = MAX_ID;
		memcpy(id, zmq_msg_data(&f[0]), id_len);
		zmq_msg_close(&f[0]);
		zmq_getsockopt(zs, ZMQ_RCVMORE, &more, &ml);
		if (!more) {
			m->msgs_bad++;
			continue;
		}
		zmq_msg_init(&f[1]);
		zmq_msg_recv(&f[1], zs, ZMQ_DONTWAIT);
		zmq_getsockopt(zs, ZMQ_RCVMORE, &more, &ml);
		m->msgs++;
		if (more) {
			m->msgs_bad++;
			zmq_msg_close(&f[1]);
			do {
				zmq_msg_init(&f[1]);
				zmq_msg_recv(&f[1], zs, ZMQ_DONTWAIT);
				zmq_getsockopt(zs, ZMQ_RCVMORE, &more, &ml);
				zmq_msg_close(&f[1]);
			} while (more);
			continue;
		}
		user[0] = '\0';
		if (m->curve[sock]) {
			/* the host name the ZAP handler gave the peer's key */
			const char *u = zmq_msg_gets(&f[1], "User-Id");

			snprintf(user, sizeof(user), "%s", u ? u : "");
		}
		msg = vs_dpgwire_decode(zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), err, sizeof(err));
		zmq_msg_close(&f[1]);
		if (!msg) {
			m->msgs_bad++;
			vs_debug("dropped a frame: %s", err);
			continue;
		}
		for (size_t i = 0; i < m->n_hosts && !h; i++)
			if (m->hosts[i].up && m->hosts[i].sock == sock &&
			    m->hosts[i].id_len == id_len && !memcmp(m->hosts[i].id, id, id_len))
				h = &m->hosts[i];
		/* on a CURVE socket a host speaks only under its key's name */
		if (m->curve[sock] && msg->body_case == VSDPG__MSG__BODY_REGISTER &&
		    strcmp(msg->register_->host, user)) {
			s_forged(m, user, msg->register_->host);
			vsdpg__msg__free_unpacked(msg, NULL);
			continue;
		}
		if (m->curve[sock] && h && strcmp(h->name, user)) {
			s_forged(m, user, h->name);
			vsdpg__msg__free_unpacked(msg, NULL);
			continue;
		}
		switch (msg->body_case) {
		case VSDPG__MSG__BODY_REGISTER:
			s_on_register(m, sock, id, id_len, msg);
			break;
		case VSDPG__MSG__BODY_COMMAND:
			s_on_command(m, sock, id, id_len, msg->command);
			break;
		case VSDPG__MSG__BODY_PART:
		case VSDPG__MSG__BODY_DEPLOYED:
			if (!h) {
				m->msgs_bad++;  /* only registered hosts send these */
				break;
			}
			h->last_ns = vs_mono_ns();
			if (msg->body_case == VSDPG__MSG__BODY_PART)
				s_on_part(m, h, msg);
			else
				s_on_deployed(m, h, msg->deployed);
			break;
		default:
			m->msgs_bad++;
		}
		vsdpg__msg__free_unpacked(msg, NULL);
	}
}

/* (Re)reads -K when the directory changed (a file added, removed or renamed), or when
 * force; a bad directory on a re-read keeps the keys it had. 0, or -1 with the error logged. */
static int
s_hostkeys(master_t *m, int force)
{
	struct stat st;
	vs_hostkey_t *keys;
	size_t n, bad = 0;
	char err[512];

	if (!m->hostkey_dir)
		return 0;
	if (!force && stat(m->hostkey_dir, &st) == 0 &&
	    st.st_mtim.tv_sec == m->hostkey_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == m->hostkey_mtime.tv_nsec)
		return 0;
	if (stat(m->hostkey_dir, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (vs_hostkeys_load(m->hostkey_dir, &keys, &n, &bad, err, sizeof(err)) < 0) {
		vs_err("%s%s", err, force ? "" : "; keeping the keys read before");
		m->hostkey_mtime = st.st_mtim;
		return -1;
	}
	m->hostkey_mtime = st.st_mtim;
	if (bad)
		vs_warn("host keys: %zu bad or conflicting HOST.pub file(s) in %s left out", bad,
		    m->hostkey_dir);
	vs_notice("host keys: %zu host(s) from %s", n, m->hostkey_dir);
	free(m->hostkeys);
	m->hostkeys = keys;
	m->n_hostkeys = n;
	return 0;
}

static void
s_tick(master_t *m)
{
	int64_t now = vs_mono_ns();
	static int64_t keys_ns;

	for (size_t i = 0; i < m->n_hosts; i++) {
		int64_t silent = now - m->hosts[i].last_ns;

		if (m->hosts[i].up && (silent > HOST_DOWN_NS ||
		    (m->disc_ns > m->hosts[i].last_ns - HOST_GONE_NS && silent > HOST_GONE_NS)))
			s_host_down(m, &m->hosts[i]);
	}
	if (now - keys_ns >= VS_NS_PER_SEC) {
		keys_ns = now;
		s_hostkeys(m, 0);
	}
}

static int
s_frame_is(zmq_msg_t *f, const char *s)
{
	return zmq_msg_size(f) == strlen(s) && !memcmp(zmq_msg_data(f), s, strlen(s));
}

/* One ZAP request (RFC 27): a CURVE client is admitted only with a key of -K, and its
 * User-Id is that key's host. Only the tcp:// sockets ask (they alone set a ZAP domain). */
static void
s_zap(master_t *m)
{
	zmq_msg_t f[8];
	int n = 0, more = 1;
	const vs_hostkey_t *k = NULL;
	const char *code = "400", *text = "unknown key", *user = "";

	while (more && n < 8) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], m->zap, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[n]);
			break;
		}
		more = zmq_msg_more(&f[n]);
		n++;
	}
	while (more) {                  /* more frames than ZAP has: drain them */
		zmq_msg_t x;

		zmq_msg_init(&x);
		if (zmq_msg_recv(&x, m->zap, ZMQ_DONTWAIT) < 0)
			more = 0;
		else
			more = zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	if (n == 0)
		return;
	if (n >= 7 && s_frame_is(&f[5], "CURVE") && zmq_msg_size(&f[6]) == 32)
		k = vs_hostkeys_find(m->hostkeys, m->n_hostkeys, zmq_msg_data(&f[6]));
	if (k) {
		code = "200";
		text = "OK";
		user = k->host;
	} else {
		char z85[VS_Z85_KEY_LEN + 1] = "?";

		m->zap_refused++;
		if (n >= 7 && zmq_msg_size(&f[6]) == 32)
			zmq_z85_encode(z85, zmq_msg_data(&f[6]), 32);
		if (s_warn_due(&m->warn_refused)) {
			vs_warn("refused a CURVE client with key %s: not in %s (%llu refused in "
			    "all, %llu warnings held back)", z85, m->hostkey_dir,
			    (unsigned long long)m->zap_refused,
			    (unsigned long long)m->warn_refused.suppressed);
			m->warn_refused.suppressed = 0;
		}
	}
	zmq_send(m->zap, "1.0", 3, ZMQ_SNDMORE);
	if (n >= 2)
		zmq_send(m->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
	else
		zmq_send(m->zap, "", 0, ZMQ_SNDMORE);
	zmq_send(m->zap, code, 3, ZMQ_SNDMORE);
	zmq_send(m->zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(m->zap, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(m->zap, "", 0, 0);
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

/* One monitor event: disconnections time the hosts' downs; failed handshakes (a wrong
 * server key, a client without CURVE) are counted. */
static void
s_monitor(master_t *m, void *mon)
{
	zmq_msg_t f;
	int more = 1, first = 1;
	size_t ml = sizeof(more);

	while (more) {  /* event frame, address frame */
		zmq_msg_init(&f);
		if (zmq_msg_recv(&f, mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f);
			break;
		}
		if (first && zmq_msg_size(&f) >= 2) {
			uint16_t ev;

			memcpy(&ev, zmq_msg_data(&f), sizeof(ev));
			if (ev == ZMQ_EVENT_DISCONNECTED)
				m->disc_ns = vs_mono_ns();
			else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
			    ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
				m->handshake_failed++;
		}
		first = 0;
		zmq_getsockopt(mon, ZMQ_RCVMORE, &more, &ml);
		zmq_msg_close(&f);
	}
}

static int
s_bind(master_t *m, const char *ep, const char *keyfile)
{
	int hwm = 100000, linger = 0, mand = 1;
	int64_t max = VS_DPG_MAX_MSG;
	size_t i = m->n_socks;
	void *sock;
	char mep[64];

	sock = zmq_socket(m->zctx, ZMQ_ROUTER);
	if (!sock)
		return -1;
	m->socks[i] = sock;
	m->n_socks++;
	zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &mand, sizeof(mand));
	/* larger frames are dropped by libzmq with the connection: the memory bound */
	zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	if (!strncmp(ep, "tcp://", 6)) {
		char pub[VS_Z85_KEY_LEN + 1], sec[VS_Z85_KEY_LEN + 1], err[512];
		int one = 1;

		if (!keyfile || vs_keyfile_read(keyfile, pub, sec, err, sizeof(err)) < 0) {
			vs_err("a tcp:// endpoint needs CURVE: --key FILE (vscope keygen)%s%s",
			    keyfile ? ": " : "", keyfile ? err : "");
			return -1;
		}
		if (!m->hostkey_dir) {
			vs_err("a tcp:// endpoint needs --host-keys DIR: the hosts' public keys "
			    "(HOST.pub), which alone may connect");
			explicit_bzero(sec, sizeof(sec));
			return -1;
		}
		zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one));
		zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, sizeof(sec));
		zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "vmasterd", 8);
		explicit_bzero(sec, sizeof(sec));
		m->curve[i] = 1;
		vs_notice("CURVE on %s, server key %s, hosts' keys from %s", ep, pub,
		    m->hostkey_dir);
	} else if (!strncmp(ep, "ipc://", 6)) {
		char dir[512], *slash;

		snprintf(m->ipc_paths[i], sizeof(m->ipc_paths[i]), "%s", ep + 6);
		snprintf(dir, sizeof(dir), "%s", ep + 6);
		if ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST)
				vs_warn("mkdir %s: %s", dir, strerror(errno));
		}
		unlink(m->ipc_paths[i]);
	}
	if (zmq_bind(sock, ep) < 0) {
		vs_err("bind %s: %s", ep, zmq_strerror(errno));
		m->ipc_paths[i][0] = '\0';
		return -1;
	}
	if (m->ipc_paths[i][0])
		chmod(m->ipc_paths[i], 0600);
	snprintf(mep, sizeof(mep), "inproc://vmasterd-monitor-%zu", i);
	if (zmq_socket_monitor(sock, mep, ZMQ_EVENT_DISCONNECTED |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0 &&
	    (m->mons[i] = zmq_socket(m->zctx, ZMQ_PAIR)) != NULL)
		zmq_connect(m->mons[i], mep);
	return 0;
}

static void
s_usage(FILE *f)
{
	fprintf(f,
	    "usage: vmasterd [-d] [-s ENDPOINT]... [-k KEYFILE -K DIR] [-L DIR] [-w URL] [-P DIR]\n"
	    "\n"
	    "The vscope VMaster: hosts (vscoped) register here; `vscope dpg` builds, changes\n"
	    "and reads Distributed Processing Graphs through it. Runs in the foreground and\n"
	    "logs to stderr.\n"
	    "\n"
	    "  -s, --endpoint ENDPOINT ROUTER endpoint (default %s);\n"
	    "                          up to %d times (e.g. tcp:// for the hosts, ipc:// for\n"
	    "                          the console);"
	    " tcp:// needs -k and -K (CURVE)\n"
	    "  -k, --key FILE          CURVE key pair (vscope keygen) for a tcp:// endpoint\n"
	    "  -K, --host-keys DIR     the hosts allowed on tcp://: DIR/HOST.pub holds HOST's\n"
	    "                          public key, and HOST may register under no other name;\n"
	    "                          DIR must be root's and not writable by group or others\n"
	    "  -L, --log-dir DIR       dpg-ID.log of DPGs created with out=log (default %s)\n"
	    "      --log-size BYTES    rotate a log file at this size (default 1048576)\n"
	    "      --log-keep N        rotated files kept, dpg-ID.log.1..N (default 3)\n"
	    "  -w, --warehouse URL     for out=warehouse: sqlite:PATH, PATH or postgresql://...\n"
	    "                          (default $VSCOPE_WAREHOUSE, else %s)\n"
	    "  -P, --plugin-dir DIR    `vscope dpg plugin FILE` loads FILE from DIR (root-owned,\n"
	    "                          not writable by group or others)\n"
	    "  -d, --debug             log debug messages\n"
	    "  -h, --help              this text\n"
	    "See vmasterd(8).\n", VS_DPG_DEFAULT_ENDPOINT, MAX_EPS, DEFAULT_LOG_DIR, DEFAULT_WAREHOUSE);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "host-keys", required_argument, NULL, 'K' },
		{ "log-dir", required_argument, NULL, 'L' },
		{ "log-size", required_argument, NULL, 1001 },
		{ "log-keep", required_argument, NULL, 1002 },
		{ "warehouse", required_argument, NULL, 'w' },
		{ "plugin-dir", required_argument, NULL, 'P' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static master_t m;
	const char *eps[MAX_EPS] = { VS_DPG_DEFAULT_ENDPOINT }, *keyfile = NULL;
	size_t n_eps = 0;
	int opt, debug = 0, rc = 0;
	struct sigaction sa;
	char hostname[256] = "";
	const char *env = getenv("VSCOPE_WAREHOUSE");
	vs_outs_config_t oc = { .log_dir = DEFAULT_LOG_DIR, .log_size = 1024 * 1024,
		.log_keep = 3, .warehouse = env && *env ? env : DEFAULT_WAREHOUSE };
	uint32_t u;
	int64_t next_tick = 0;

	while ((opt = getopt_long(argc, argv, "s:k:K:L:w:P:dh", opts, NULL)) != -1) {
		switch (opt) {
		case 'P': m.plugin_dir = optarg; break;
		case 's':
			if (n_eps == MAX_EPS) {
				fprintf(stderr, "vmasterd: -s: at most %d endpoints\n", MAX_EPS);
				return 2;
			}
			eps[n_eps++] = optarg;
			break;
		case 'k': keyfile = optarg; break;
		case 'K': m.hostkey_dir = optarg; break;
		case 'L': oc.log_dir = optarg; break;
		case 'w': oc.warehouse = optarg; break;
		case 1001:
			if (s_uint(optarg, UINT32_MAX, &u) < 0 || u < 512) {
				fprintf(stderr, "vmasterd: --log-size: 512 bytes or more, not '%s'\n",
				    optarg);
				return 2;
			}
			oc.log_size = u;
			break;
		case 1002:
			if (s_uint(optarg, 100, &u) < 0) {
				fprintf(stderr, "vmasterd: --log-keep: 0..100, not '%s'\n", optarg);
				return 2;
			}
			oc.log_keep = u;
			break;
		case 'd': debug = 1; break;
		case 'h': s_usage(stdout); return 0;
		default: s_usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmasterd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	vs_log_open("vmasterd", 0, debug ? VS_LOG_DEBUG : VS_LOG_NOTICE);
	gethostname(hostname, sizeof(hostname) - 1);
	oc.host = hostname;
	if (!(m.outs = vs_outs_new(&oc))) {
		vs_err("out of memory");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = s_on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	m.zctx = zmq_ctx_new();
	if (!m.zctx) {
		rc = 1;
		goto out;
	}
	if (n_eps == 0)
		n_eps = 1;
	if (m.hostkey_dir) {
		/* the handler binds before any CURVE socket does, so no handshake goes unasked */
		if (s_hostkeys(&m, 1) < 0) {
			rc = 1;
			goto out;
		}
		m.zap = zmq_socket(m.zctx, ZMQ_REP);
		if (!m.zap || zmq_bind(m.zap, ZAP_EP) < 0) {
			vs_err("ZAP handler %s: %s", ZAP_EP, zmq_strerror(errno));
			rc = 1;
			goto out;
		}
	}
	for (size_t i = 0; i < n_eps; i++)
		if (s_bind(&m, eps[i], keyfile) < 0) {
			rc = 1;
			goto out;
		}
	for (size_t i = 0; i < n_eps; i++)
		vs_notice("vmasterd %s on %s", PACKAGE_VERSION, eps[i]);
	while (!s_stop) {
		/* only the sockets there are: a NULL item would poll file descriptor 0 */
		zmq_pollitem_t it[2 * MAX_EPS + 1];
		int what[2 * MAX_EPS + 1];      /* i: ROUTER i, MAX_EPS + i: its monitor, -1: ZAP */
		size_t ni = 0;

		for (size_t i = 0; i < m.n_socks; i++) {
			what[ni] = (int)i;
			it[ni++] = (zmq_pollitem_t){ m.socks[i], 0, ZMQ_POLLIN, 0 };
			if (m.mons[i]) {
				what[ni] = MAX_EPS + (int)i;
				it[ni++] = (zmq_pollitem_t){ m.mons[i], 0, ZMQ_POLLIN, 0 };
			}
		}
		if (m.zap) {
			what[ni] = -1;
			it[ni++] = (zmq_pollitem_t){ m.zap, 0, ZMQ_POLLIN, 0 };
		}
		if (zmq_poll(it, (int)ni, 100) < 0 && errno != EINTR) {
			vs_err("zmq_poll: %s", zmq_strerror(errno));
			rc = 1;
			break;
		}
		for (size_t i = 0; i < ni; i++) {
			if (!(it[i].revents & ZMQ_POLLIN))
				continue;
			if (what[i] < 0)
				s_zap(&m);
			else if (what[i] >= MAX_EPS)
				s_monitor(&m, m.mons[what[i] - MAX_EPS]);
			else
				s_process(&m, what[i]);
		}
		if (vs_mono_ns() >= next_tick) {
			s_tick(&m);
			next_tick = vs_mono_ns() + 100 * VS_NS_PER_MSEC;
		}
	}
	vs_notice("vmasterd exiting");
out:
	for (size_t i = 0; i < m.n_dpgs; i++)
		s_dpg_free(&m.dpgs[i]);
	for (size_t i = 0; i < m.n_hosts; i++) {
		if (m.hosts[i].reg)
			vsdpg__register__free_unpacked(m.hosts[i].reg, NULL);
		if (m.hosts[i].lib && m.hosts[i].lib != m.hosts[i].reg)
			vsdpg__register__free_unpacked(m.hosts[i].lib, NULL);
	}
	vs_outs_destroy(&m.outs);
	/* DPGs first (above): they point at plugin functions */
	for (size_t i = 0; i < m.n_plugins; i++)
		vs_dpg_plugin_destroy(&m.plugins[i]);
	/* the monitor stops before its reader closes: a PAIR without a peer blocks on send,
	 * so an event in between (a host disconnecting) would hang the I/O thread holding the
	 * lock that stopping the monitor needs, and vmasterd would never exit */
	for (size_t i = 0; i < m.n_socks; i++) {
		zmq_socket_monitor(m.socks[i], NULL, 0);
		if (m.mons[i])
			zmq_close(m.mons[i]);
		zmq_close(m.socks[i]);
		if (m.ipc_paths[i][0])
			unlink(m.ipc_paths[i]);
	}
	if (m.zap)
		zmq_close(m.zap);
	free(m.hostkeys);
	if (m.zctx)
		zmq_ctx_term(m.zctx);
	return rc;
}
