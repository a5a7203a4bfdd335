/* The VNode host (vnode.h): VNode records of every DPG deployed on this host, fed by the
 * host's event loop and multiplexed over one DEALER connection to vmasterd. */
#include "vnode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "dpg.h"
#include "dpgwire.h"

typedef struct {
	int used;
	int64_t round;
	uint32_t got;           /* inputs that reported this round */
	vs_dpg_part_t acc;
	double *rows;           /* central functions: the inputs' rows so far (acc.count) */
	size_t n_rows, cap_rows;
	uint32_t cols;
} s_round_t;

typedef struct {
	uint32_t id, parent, n_inputs;
	int parent_local;       /* the parent is on this host */
	char parent_host[VS_DPG_MAX_NAME + 1];
	char (*ents)[VS_DPG_MAX_NAME + 1];
	size_t n_ents;
	s_round_t r[VS_DPG_ROUNDS];
	double *win;            /* a central function's leaf: its last samples (a ring) */
	uint32_t n_win, win_at;
} s_vnode_t;

typedef struct {
	uint32_t id;
	uint64_t gen;
	const vs_dpg_fn_t *fn;  /* NULL for a central plugin function (only vmasterd has it) */
	uint32_t fn_id;
	uint32_t arg;
	int central;            /* rows go up, not partials: a central function's data, or */
	int local;              /* a local function's per-leaf values ([leaf id, values...]) */
	int windowed;           /* ENTROPY: a leaf folds its window, not one sample */
	uint32_t window;        /* central: samples in a leaf's row */
	char metric[VS_DPG_MAX_NAME + 1];
	int64_t period_ns;
	int running;
	int64_t last_round;
	s_vnode_t *v;           /* sorted by id */
	size_t n;
} s_dpg_t;

struct vs_dpg_host {
	void *sock;
	vs_dpg_host_config_t cfg;
	char host[VS_DPG_MAX_NAME + 1];
	s_dpg_t *dpgs[VS_DPG_HOST_MAX_DPGS];
	size_t n_dpgs;
	int64_t next_hb;
	vs_dpg_host_stats_t st;
	int metrics_sent;               /* the library went out at least once */
	uint64_t metrics_hash;          /* of the library last sent */
	unsigned metrics_age;           /* heartbeats since */
};

/* ---- sending -------------------------------------------------------------------------- */

static void
s_send(vs_dpg_host_t *h, Vsdpg__Msg *m, int is_part)
{
	size_t len;
	void *buf = vs_dpgwire_pack(m, &len);

	if (!buf) {
		if (is_part)
			h->st.parts_dropped++;
		return;
	}
	/* never block the host's loop: a full queue (high-water mark) is a counted drop */
	if (zmq_send(h->sock, buf, len, ZMQ_DONTWAIT) < 0) {
		if (is_part)
			h->st.parts_dropped++;
	} else if (is_part) {
		h->st.parts_sent++;
	}
	free(buf);
}

/* FNV-1a over what the library says, to send it again only when it changed. */
static uint64_t
s_metrics_hash(const vs_dpg_metric_t *ms, size_t n)
{
	uint64_t x = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)&ms[i];

		for (size_t k = 0; k < sizeof(ms[i]); k++)
			x = (x ^ p[k]) * 1099511628211ULL;
	}
	return x ^ n;
}

/* r's metrics from the host's callback, when they are due: in the first Register, when
 * they changed, and every 16th heartbeat (a vmasterd that restarted learns them). The
 * arrays in *mx_r, *mp_r and *ep_r are the caller's to free (ms too). */
static void
s_register_metrics(vs_dpg_host_t *h, Vsdpg__Register *r, vs_dpg_metric_t **ms_r,
    Vsdpg__Metric **mx_r, Vsdpg__Metric ***mp_r, char *(**ep_r)[16])
{
	vs_dpg_metric_t *ms = NULL;
	size_t n = 0;
	uint64_t hash;
	Vsdpg__Metric *mx, **mp;
	char *(*ep)[16];

	if (!h->cfg.metrics || h->cfg.metrics(h->cfg.arg, &ms, &n) < 0)
		return;
	*ms_r = ms;
	if (n > VS_DPG_MAX_METRICS)
		n = VS_DPG_MAX_METRICS;
	hash = s_metrics_hash(ms, n);
	if (h->metrics_sent && hash == h->metrics_hash && ++h->metrics_age < 16)
		return;
	mx = *mx_r = calloc(n + 1, sizeof(*mx));
	mp = *mp_r = calloc(n + 1, sizeof(*mp));
	ep = *ep_r = calloc(n + 1, sizeof(*ep));
	if (!mx || !mp || !ep)
		return;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = ms[i].n_entities < 16 ? ms[i].n_entities : 16;

		vsdpg__metric__init(&mx[i]);
		mx[i].name = ms[i].name;
		mx[i].unit = ms[i].unit;
		mx[i].counter = ms[i].counter;
		mx[i].source = ms[i].source;
		mx[i].entity_count = ms[i].n_entities;
		for (uint32_t e = 0; e < k; e++)
			ep[i][e] = ms[i].entities[e];
		mx[i].entities = ep[i];
		mx[i].n_entities = k;
		mp[i] = &mx[i];
	}
	r->has_metrics = 1;
	r->metrics = mp;
	r->n_metrics = n;
	h->metrics_sent = 1;
	h->metrics_hash = hash;
	h->metrics_age = 0;
	h->st.metric_sends++;
}

static void
s_register(vs_dpg_host_t *h)
{
	Vsdpg__Msg m = VSDPG__MSG__INIT;
	Vsdpg__Register r = VSDPG__REGISTER__INIT;
	vs_dpg_dom_t *doms = NULL;
	size_t n = 0;
	Vsdpg__Domain *d = NULL, **dp = NULL;
	char *(*vp)[8] = NULL;
	vs_dpg_metric_t *ms = NULL;
	Vsdpg__Metric *mx = NULL, **mp = NULL;
	char *(*ep)[16] = NULL;
	Vsdpg__PluginFn *pf = NULL, **pfp = NULL;

	if (h->cfg.inventory && h->cfg.inventory(h->cfg.arg, &doms, &n) < 0)
		n = 0;
	if (n > VS_DPG_MAX_DOMAINS)
		n = VS_DPG_MAX_DOMAINS;
	d = calloc(n + 1, sizeof(*d));
	dp = calloc(n + 1, sizeof(*dp));
	vp = calloc(n + 1, sizeof(*vp));
	if (!d || !dp || !vp)
		goto out;
	for (size_t i = 0; i < n; i++) {
		vsdpg__domain__init(&d[i]);
		d[i].name = doms[i].name;
		for (size_t v = 0; v < doms[i].n_vifs && v < 8; v++)
			vp[i][v] = doms[i].vifs[v];
		d[i].vifs = vp[i];
		d[i].n_vifs = doms[i].n_vifs < 8 ? doms[i].n_vifs : 8;
		dp[i] = &d[i];
	}
	r.host = h->host;
	r.domains = dp;
	r.n_domains = n;
	r.parts_sent = h->st.parts_sent;
	r.parts_dropped = h->st.parts_dropped;
	r.parts_bad = h->st.parts_bad;
	r.msgs_bad = h->st.msgs_bad;
	r.vnodes = (uint32_t)h->st.vnodes;
	r.fn_errors = h->st.fn_errors;
	s_register_metrics(h, &r, &ms, &mx, &mp, &ep);
	/* the plugin functions loaded in this process (vscoped -P) */
	{
		const vs_dpg_fn_t *const *fns;
		size_t nf = vs_dpg_plugin_list(&fns);

		if (nf > VS_DPG_PLUGIN_MAXLOADED)
			nf = VS_DPG_PLUGIN_MAXLOADED;
		pf = calloc(nf + 1, sizeof(*pf));
		pfp = calloc(nf + 1, sizeof(*pfp));
		if (!pf || !pfp)
			goto out;
		for (size_t i = 0; i < nf; i++) {
			vsdpg__plugin_fn__init(&pf[i]);
			pf[i].name = (char *)fns[i]->name;
			pf[i].id = fns[i]->id;
			pf[i].abi = fns[i]->abi;
			pf[i].kind = (uint32_t)fns[i]->kind;
			pfp[i] = &pf[i];
		}
		r.plugins = pfp;
		r.n_plugins = nf;
	}
	m.body_case = VSDPG__MSG__BODY_REGISTER;
	m.register_ = &r;
	s_send(h, &m, 0);
out:
	free(ms);
	free(mx);
	free(mp);
	free(ep);
	free(pf);
	free(pfp);
	free(doms);
	free(d);
	free(dp);
	free(vp);
}

static void
s_send_part(vs_dpg_host_t *h, const s_dpg_t *g, const s_vnode_t *v, int64_t round,
    const vs_dpg_part_t *p, const double *rows, size_t n_rows, uint32_t cols)
{
	Vsdpg__Msg m = VSDPG__MSG__INIT;
	Vsdpg__Part q = VSDPG__PART__INIT;

	q.dpg = g->id;
	q.gen = g->gen;
	q.src = v->id;
	q.dst = v->parent;
	q.round = round;
	if (g->central) {
		q.fn = p->fn;
		q.leaves = p->leaves;
		q.count = p->count;
		q.rows = (double *)rows;
		q.n_rows = n_rows;
		q.cols = cols;  /* also when empty: a plugin's id alone says nothing */
	} else {
		vs_dpgwire_part_put(p, &q);
	}
	m.body_case = VSDPG__MSG__BODY_PART;
	m.part = &q;
	s_send(h, &m, 1);
}

/* ---- rounds ---------------------------------------------------------------------------- */

static s_vnode_t *
s_find(const s_dpg_t *g, uint32_t id)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (g->v[mid].id == id)
			return &g->v[mid];
		if (g->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void s_deliver(vs_dpg_host_t *h, s_dpg_t *g, s_vnode_t *from, int64_t round,
    const vs_dpg_part_t *p, const double *rows, size_t n_rows, uint32_t cols, int depth);

/* A round of parent v is complete (or past its deadline): its merge goes up. */
static void
s_flush(vs_dpg_host_t *h, s_dpg_t *g, s_vnode_t *v, s_round_t *r, int depth)
{
	vs_dpg_part_t p = r->acc;
	int64_t round = r->round;
	double *rows = r->rows;
	size_t n_rows = r->n_rows;
	uint32_t cols = r->cols;

	r->used = 0;
	r->rows = NULL;
	r->n_rows = r->cap_rows = 0;
	r->cols = 0;
	s_deliver(h, g, v, round, &p, rows, n_rows, cols, depth);
	free(rows);
}

/* Appends an input's rows to a central function's round: -EINVAL (other columns than the
 * rows so far), -E2BIG (more than a frame carries), -ENOMEM. */
static int
s_rows_add(s_round_t *r, const vs_dpg_part_t *p, const double *rows, size_t n_rows,
    uint32_t cols)
{
	if (p->count == 0)
		return 0;
	if (cols == 0 || n_rows != p->count * cols || (r->cols && cols != r->cols))
		return -EINVAL;
	if (r->n_rows + n_rows > VS_DPG_MAX_ROW_CELLS)
		return -E2BIG;
	if (r->n_rows + n_rows > r->cap_rows) {
		size_t cap = r->cap_rows ? r->cap_rows : 64;
		double *x;

		while (cap < r->n_rows + n_rows)
			cap *= 2;
		if (!(x = realloc(r->rows, cap * sizeof(*x))))
			return -ENOMEM;
		r->rows = x;
		r->cap_rows = cap;
	}
	memcpy(r->rows + r->n_rows, rows, n_rows * sizeof(*rows));
	r->n_rows += n_rows;
	r->cols = cols;
	r->acc.count += p->count;
	r->acc.leaves += p->leaves;
	return 0;
}

/* Merges p (a child's part for round; rows for a central function) into parent v. */
static void
s_merge(vs_dpg_host_t *h, s_dpg_t *g, s_vnode_t *v, int64_t round, const vs_dpg_part_t *p,
    const double *rows, size_t n_rows, uint32_t cols, int depth)
{
	int rc;

	s_round_t *slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < VS_DPG_ROUNDS; i++) {
		s_round_t *r = &v->r[i];

		if (r->used && r->round == round)
			slot = r;
		else if (!r->used && !slot)
			slot = r;
		if (r->used && (!oldest || r->round < oldest->round))
			oldest = r;
	}
	if (!slot) {
		if (round < oldest->round) {
			h->st.parts_late++;
			return;
		}
		s_flush(h, g, v, oldest, depth);
		slot = oldest;
	}
	if (!slot->used || slot->round != round) {
		slot->used = 1;
		slot->round = round;
		slot->got = 0;
		if (g->central) {
			memset(&slot->acc, 0, sizeof(slot->acc));
			slot->acc.fn = g->fn_id;
			slot->n_rows = 0;
			slot->cols = 0;
		} else if (g->fn->init(&slot->acc, g->arg) < 0) {
			h->st.fn_errors++;
		}
	}
	if (g->central) {
		rc = s_rows_add(slot, p, rows, n_rows, cols);
		if (rc == -EINVAL)
			h->st.parts_bad++;
		else if (rc < 0)
			h->st.parts_dropped++;  /* too many rows for one frame, or no memory */
		if (rc < 0)
			return;
	} else if (g->fn->combine(&slot->acc, p) < 0) {
		/* a plugin's combine refused an input that passed the checks: its error, counted;
		 * the input is left out and the round goes on. A built-in's: a bad input. */
		if (g->fn_id < VS_DPG_FN_PLUGIN_MIN) {
			h->st.parts_bad++;
			return;
		}
		h->st.fn_errors++;
	}
	slot->got++;
	if (slot->got >= v->n_inputs)
		s_flush(h, g, v, slot, depth);
}

/* Sends from's part for round to from's parent: locally, through vmasterd, or as a result. */
static void
s_deliver(vs_dpg_host_t *h, s_dpg_t *g, s_vnode_t *from, int64_t round,
    const vs_dpg_part_t *p, const double *rows, size_t n_rows, uint32_t cols, int depth)
{
	s_vnode_t *to;

	if (from->parent != VS_DPG_NO_PARENT && from->parent_local && depth < 64 &&
	    (to = s_find(g, from->parent)) != NULL && to->n_inputs > 0) {
		s_merge(h, g, to, round, p, rows, n_rows, cols, depth + 1);
		return;
	}
	s_send_part(h, g, from, round, p, rows, n_rows, cols);
}

/* A local function's leaf: its values over the window, as one row [leaf id, values...]
 * (cols 0 and no row when it has none). Any callback's error is counted and the leaf sends
 * an empty part, so that its parent's round completes. */
static void
s_leaf_local(vs_dpg_host_t *h, s_dpg_t *g, s_vnode_t *v, int64_t round, const double *win)
{
	vs_dpg_part_t p;
	double row[VS_DPG_FN_MAXVALS + 1];
	size_t n = VS_DPG_FN_MAXVALS;

	memset(&p, 0, sizeof(p));
	if (win) {
		vs_dpg_part_t acc;

		if (g->fn->init(&acc, g->arg) < 0 || g->fn->local(&acc, win, g->window) < 0 ||
		    g->fn->result(&acc, row + 1, &n) < 0 || n > VS_DPG_FN_MAXVALS) {
			h->st.fn_errors++;
			n = 0;
		}
		for (size_t i = 1; i <= n; i++)
			if (!isfinite(row[i]) || fabs(row[i]) > VS_DPG_CENTRAL_MAX_ABS) {
				h->st.fn_errors++;      /* a value the wire refuses */
				n = 0;
			}
	} else {
		n = 0;
	}
	p.fn = g->fn_id;
	if (n) {
		row[0] = v->id;
		p.count = 1;
		p.leaves = 1;
		s_deliver(h, g, v, round, &p, row, n + 1, (uint32_t)n + 1, 0);
		return;
	}
	s_deliver(h, g, v, round, &p, NULL, 0, 0, 0);
}

static void
s_leaf(vs_dpg_host_t *h, s_dpg_t *g, s_vnode_t *v, int64_t round)
{
	vs_dpg_part_t p;
	double sum = 0, rate;
	int have = 0;

	memset(&p, 0, sizeof(p));
	if (!g->central && g->fn->init(&p, g->arg) < 0)
		h->st.fn_errors++;
	for (size_t e = 0; e < v->n_ents; e++) {
		if (h->cfg.read && h->cfg.read(h->cfg.arg, v->ents[e], g->metric, g->period_ns,
		    &rate) == 0 && isfinite(rate)) {
			sum += rate;
			have = 1;
		}
	}
	if (g->central || g->windowed) {
		/* the leaf's last window samples, oldest first; nothing until it has them */
		double *row = NULL;

		if (have && (v->win || (v->win = calloc(g->window, sizeof(*v->win))))) {
			v->win[v->win_at] = sum;
			v->win_at = (v->win_at + 1) % g->window;
			if (v->n_win < g->window)
				v->n_win++;
		}
		if (v->n_win == g->window && (row = malloc(g->window * sizeof(*row)))) {
			for (uint32_t i = 0; i < g->window; i++)
				row[i] = v->win[(v->win_at + i) % g->window];
		}
		if (g->local) {
			s_leaf_local(h, g, v, round, row);
			free(row);
			return;
		}
		if (g->windowed) {
			/* EbAT: the window's entropy is this leaf's partial result */
			if (row && g->fn->local(&p, row, g->window) == 0)
				p.leaves = 1;
			free(row);
			s_deliver(h, g, v, round, &p, NULL, 0, 0, 0);
			return;
		}
		memset(&p, 0, sizeof(p));
		p.fn = g->fn_id;
		if (row) {
			p.count = 1;
			p.leaves = 1;
		}
		s_deliver(h, g, v, round, &p, row, row ? g->window : 0, g->window, 0);
		free(row);
		return;
	}
	if (have && g->fn->local(&p, &sum, 1) == 0)
		p.leaves = 1;
	else if (have)
		h->st.fn_errors++;      /* the sample is left out of this round */
	s_deliver(h, g, v, round, &p, NULL, 0, 0, 0);
}

static void
s_dpg_tick(vs_dpg_host_t *h, s_dpg_t *g, int64_t real_ns)
{
	int64_t round = real_ns / g->period_ns;

	if (!g->running || round <= g->last_round)
		return;
	if (g->last_round != 0) {
		/* leaves report the period that just ended */
		for (size_t i = 0; i < g->n; i++)
			if (g->v[i].n_inputs == 0)
				s_leaf(h, g, &g->v[i], round - 1);
	}
	/* deadline: a round still open one period after it was reported goes up partial */
	for (size_t i = 0; i < g->n; i++)
		for (size_t j = 0; j < VS_DPG_ROUNDS; j++)
			if (g->v[i].r[j].used && g->v[i].r[j].round < round - 1)
				s_flush(h, g, &g->v[i], &g->v[i].r[j], 0);
	g->last_round = round;
}

/* ---- deploy ---------------------------------------------------------------------------- */

static void
s_dpg_free(s_dpg_t **gp)
{
	s_dpg_t *g = *gp;

	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].ents);
		free(g->v[i].win);
		for (size_t j = 0; j < VS_DPG_ROUNDS; j++)
			free(g->v[i].r[j].rows);
	}
	free(g->v);
	free(g);
	*gp = NULL;
}

static int
s_cmp_vnode(const void *a, const void *b)
{
	const s_vnode_t *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void
s_recount(vs_dpg_host_t *h)
{
	h->st.dpgs = h->n_dpgs;
	h->st.vnodes = 0;
	for (size_t i = 0; i < h->n_dpgs; i++)
		h->st.vnodes += h->dpgs[i]->n;
}

static int
s_deploy(vs_dpg_host_t *h, const Vsdpg__Deploy *d, char *err, size_t errlen)
{
	s_dpg_t *g = NULL, *old = NULL;
	size_t at = h->n_dpgs;
	int rc = -ENOMEM;

	for (size_t i = 0; i < h->n_dpgs; i++)
		if (h->dpgs[i]->id == d->dpg)
			at = i;
	if (at < h->n_dpgs) {
		old = h->dpgs[at];
		if (d->gen < old->gen) {
			snprintf(err, errlen, "DPG %u: generation %llu is older than %llu", d->dpg,
			    (unsigned long long)d->gen, (unsigned long long)old->gen);
			return -ESTALE;
		}
	}
	if (d->n_vnodes == 0) {
		if (old) {
			s_dpg_free(&h->dpgs[at]);
			h->dpgs[at] = h->dpgs[--h->n_dpgs];
		}
		s_recount(h);
		return 0;
	}
	if (!old && h->n_dpgs == VS_DPG_HOST_MAX_DPGS) {
		snprintf(err, errlen, "this host holds %d DPGs already", VS_DPG_HOST_MAX_DPGS);
		return -ENOSPC;
	}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->v = calloc(d->n_vnodes, sizeof(*g->v))))
		goto fail;
	g->id = d->dpg;
	g->gen = d->gen;
	g->fn = vs_dpg_fn_lookup(d->fn);
	g->fn_id = d->fn;
	g->arg = d->fn_arg;
	/* the decoder let through only known functions, or central ones from plugins */
	g->local = g->fn && g->fn->kind == VS_DPG_FN_LOCAL;
	g->central = d->central || !g->fn || g->fn->kind == VS_DPG_FN_CENTRAL || g->local;
	g->windowed = !g->central && g->fn->id == VS_DPG_FN_ENTROPY;
	g->window = d->window ? d->window : 8;
	snprintf(g->metric, sizeof(g->metric), "%s", d->metric);
	g->period_ns = d->period_ns;
	g->running = d->running;
	g->last_round = old ? old->last_round : 0;
	if (!g->running)
		g->last_round = 0;
	if (!g->central || g->local) {
		vs_dpg_part_t probe;

		if (g->fn->init(&probe, g->arg) < 0) {
			snprintf(err, errlen, "DPG %u: bad argument %u for %s", d->dpg, d->fn_arg,
			    g->fn->name);
			rc = -EINVAL;
			goto fail;
		}
	}
	for (size_t i = 0; i < d->n_vnodes; i++) {
		const Vsdpg__VNode *src = d->vnodes[i];
		s_vnode_t *v = &g->v[i];

		v->id = src->id;
		v->parent = src->parent;
		v->n_inputs = src->n_inputs;
		snprintf(v->parent_host, sizeof(v->parent_host), "%s", src->parent_host);
		v->parent_local = src->parent != VS_DPG_NO_PARENT &&
		    !strcmp(src->parent_host, h->host);
		if (src->n_entities) {
			v->ents = calloc(src->n_entities, sizeof(*v->ents));
			if (!v->ents)
				goto fail;
			for (size_t e = 0; e < src->n_entities; e++)
				snprintf(v->ents[e], sizeof(v->ents[e]), "%s", src->entities[e]);
			v->n_ents = src->n_entities;
		}
		g->n++;
	}
	qsort(g->v, g->n, sizeof(*g->v), s_cmp_vnode);
	for (size_t i = 1; i < g->n; i++) {
		if (g->v[i].id == g->v[i - 1].id) {
			snprintf(err, errlen, "DPG %u: VNode %u twice", d->dpg, g->v[i].id);
			rc = -EINVAL;
			goto fail;
		}
	}
	/* open rounds of VNodes that stay carry over (a running DPG changes in place) */
	if (old && old->fn_id == g->fn_id && old->arg == g->arg && old->window == g->window) {
		for (size_t i = 0; i < g->n; i++) {
			s_vnode_t *o = s_find(old, g->v[i].id);

			if (o && o->n_inputs && g->v[i].n_inputs) {
				memcpy(g->v[i].r, o->r, sizeof(o->r));
				for (size_t j = 0; j < VS_DPG_ROUNDS; j++)
					o->r[j].rows = NULL;    /* moved */
			}
			if (o && !o->n_inputs && !g->v[i].n_inputs && o->win) {
				/* a leaf keeps its window of samples */
				g->v[i].win = o->win;
				g->v[i].n_win = o->n_win;
				g->v[i].win_at = o->win_at;
				o->win = NULL;
			}
		}
	}
	if (old) {
		s_dpg_free(&h->dpgs[at]);
		h->dpgs[at] = g;
	} else {
		h->dpgs[h->n_dpgs++] = g;
	}
	h->st.deploys++;
	s_recount(h);
	return 0;
fail:
	s_dpg_free(&g);
	return rc;
}

static void
s_on_deploy(vs_dpg_host_t *h, const Vsdpg__Deploy *d)
{
	Vsdpg__Msg m = VSDPG__MSG__INIT;
	Vsdpg__Deployed a = VSDPG__DEPLOYED__INIT;
	char err[256] = "";

	a.dpg = d->dpg;
	a.gen = d->gen;
	a.status = s_deploy(h, d, err, sizeof(err));
	a.error = err;
	a.vnodes = (uint32_t)d->n_vnodes;
	m.body_case = VSDPG__MSG__BODY_DEPLOYED;
	m.deployed = &a;
	s_send(h, &m, 0);
}

static void
s_on_part(vs_dpg_host_t *h, const Vsdpg__Part *q)
{
	s_dpg_t *g = NULL;
	s_vnode_t *to;
	vs_dpg_part_t p;
	int rc;

	for (size_t i = 0; i < h->n_dpgs; i++)
		if (h->dpgs[i]->id == q->dpg)
			g = h->dpgs[i];
	/* a part for a VNode that is not a parent here, or of another function: dropped */
	if (!g || !g->running || q->fn != g->fn_id || !(to = s_find(g, q->dst)) ||
	    to->n_inputs == 0) {
		h->st.parts_bad++;
		return;
	}
	if (g->central) {
		/* the decoder checked count * cols == n_rows; the columns must be this DPG's
		 * (a local function's rows: the leaf's id and 1..VS_DPG_FN_MAXVALS values) */
		if (q->count && (g->local ? q->cols < 2 || q->cols > VS_DPG_FN_MAXVALS + 1 :
		    q->cols != g->window)) {
			h->st.parts_bad++;
			return;
		}
		memset(&p, 0, sizeof(p));
		p.fn = q->fn;
		p.leaves = q->leaves;
		p.count = q->count;
		s_merge(h, g, to, q->round, &p, q->rows, q->n_rows, q->cols, 0);
		return;
	}
	rc = vs_dpgwire_part_get(q, g->fn, g->arg, &p);
	if (rc < 0) {
		h->st.parts_bad++;
		return;
	}
	s_merge(h, g, to, q->round, &p, NULL, 0, 0, 0);
}

/* ---- the object ------------------------------------------------------------------------ */

vs_dpg_host_t *
vs_dpg_host_new(void *zctx, const vs_dpg_host_config_t *cfg, char *err, size_t errlen)
{
	vs_dpg_host_t *h = calloc(1, sizeof(*h));
	int hwm = 10000, linger = 0, ivl = 200, maxmsg;
	int64_t max = VS_DPG_MAX_MSG;

	(void)maxmsg;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!vs_dpgwire_name_ok(cfg->host)) {
		snprintf(err, errlen, "DPG host name \"%.64s\": 1..63 of [A-Za-z0-9_.:-]",
		    cfg->host);
		free(h);
		errno = EINVAL;
		return NULL;
	}
	h->cfg = *cfg;
	snprintf(h->host, sizeof(h->host), "%s", cfg->host);
	h->sock = zmq_socket(zctx, ZMQ_DEALER);
	if (!h->sock)
		goto zfail;
	zmq_setsockopt(h->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(h->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(h->sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(h->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
	zmq_setsockopt(h->sock, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	if (cfg->server_key && cfg->server_key[0]) {
		if (zmq_setsockopt(h->sock, ZMQ_CURVE_SERVERKEY, cfg->server_key, 41) < 0 ||
		    zmq_setsockopt(h->sock, ZMQ_CURVE_PUBLICKEY, cfg->public_key, 41) < 0 ||
		    zmq_setsockopt(h->sock, ZMQ_CURVE_SECRETKEY, cfg->secret_key, 41) < 0)
			goto zfail;
	}
	if (zmq_connect(h->sock, cfg->endpoint) < 0)
		goto zfail;
	return h;
zfail:
	snprintf(err, errlen, "master endpoint %.200s: %s", cfg->endpoint, zmq_strerror(errno));
	if (h->sock)
		zmq_close(h->sock);
	free(h);
	return NULL;
}

void
vs_dpg_host_destroy(vs_dpg_host_t **self_p)
{
	vs_dpg_host_t *h;

	if (!self_p || !*self_p)
		return;
	h = *self_p;
	for (size_t i = 0; i < h->n_dpgs; i++)
		s_dpg_free(&h->dpgs[i]);
	zmq_close(h->sock);
	free(h);
	*self_p = NULL;
}

void *
vs_dpg_host_socket(const vs_dpg_host_t *self)
{
	return self->sock;
}

void
vs_dpg_host_process(vs_dpg_host_t *h)
{
	for (int i = 0; i < 4096; i++) {
		zmq_msg_t msg;
		Vsdpg__Msg *m;
		char err[256];
		int more = 0;
		size_t ml = sizeof(more);

		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, h->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			return;
		}
		zmq_getsockopt(h->sock, ZMQ_RCVMORE, &more, &ml);
		if (more) {     /* one frame per message: drain the rest, drop it */
			h->st.msgs_bad++;
			zmq_msg_close(&msg);
			do {
				zmq_msg_init(&msg);
				zmq_msg_recv(&msg, h->sock, ZMQ_DONTWAIT);
				zmq_getsockopt(h->sock, ZMQ_RCVMORE, &more, &ml);
				zmq_msg_close(&msg);
			} while (more);
			continue;
		}
		m = vs_dpgwire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), err, sizeof(err));
		zmq_msg_close(&msg);
		if (!m) {
			h->st.msgs_bad++;
			continue;
		}
		if (m->body_case == VSDPG__MSG__BODY_DEPLOY)
			s_on_deploy(h, m->deploy);
		else if (m->body_case == VSDPG__MSG__BODY_PART)
			s_on_part(h, m->part);
		else
			h->st.msgs_bad++;
		vsdpg__msg__free_unpacked(m, NULL);
	}
}

void
vs_dpg_host_tick(vs_dpg_host_t *h, int64_t mono_ns, int64_t real_ns)
{
	if (mono_ns >= h->next_hb) {
		s_register(h);
		h->next_hb = mono_ns + VS_DPG_HEARTBEAT_NS;
	}
	for (size_t i = 0; i < h->n_dpgs; i++)
		s_dpg_tick(h, h->dpgs[i], real_ns);
}

void
vs_dpg_host_stats(const vs_dpg_host_t *self, vs_dpg_host_stats_t *st_r)
{
	*st_r = self->st;
}
