#include "graph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

const char *const vs_dom_metric[VS_DOMM_N] = { "cpu.time", "mem.current", "mem.max", "vcpus" };
static const char *const s_dom_unit[VS_DOMM_N] = { "ns", "KiB", "KiB", "count" };
static const vs_kind_t s_dom_kind[VS_DOMM_N] = {
	VS_KIND_COUNTER, VS_KIND_GAUGE, VS_KIND_GAUGE, VS_KIND_GAUGE,
};

uint64_t
vs_counter_inc(uint64_t last, uint64_t cur)
{
	if (cur >= last)
		return cur - last;
	if (last <= UINT32_MAX && last - cur > (1ULL << 31))
		return cur + ((1ULL << 32) - last);
	return cur;
}

void
vs_graph_init(vs_graph_t *g)
{
	memset(g, 0, sizeof(*g));
}

static int
s_series(vs_graph_t *g, vs_history_t *h, const char *entity, const char *metric,
    const char *unit, vs_kind_t kind)
{
	int id = vs_history_series_add(h, entity, metric, unit, kind);

	if (id == -EEXIST)
		id = vs_history_series_find(h, entity, metric);
	if (id < 0) {
		if (g->refused_series++ == 0)
			vs_warn("history: cannot add %s %s: %s (raise max-series)", entity, metric,
			    strerror(-id));
		return -1;
	}
	return id;
}

static void
s_vif_series(vs_graph_t *g, vs_history_t *h, vs_gvif_t *gv, const char *ifname)
{
	for (int i = 0; i < VS_IFC_N; i++)
		gv->series[i] = s_series(g, h, ifname, vs_ifc_metric[i], vs_ifc_unit[i],
		    VS_KIND_COUNTER);
}

static void
s_drop_series(vs_history_t *h, int *ids, int n)
{
	for (int i = 0; i < n; i++)
		if (ids[i] >= 0) {
			vs_history_series_del(h, ids[i]);
			ids[i] = -1;
		}
}

static void
s_dom_drop(vs_history_t *h, vs_gdom_t *gd)
{
	s_drop_series(h, gd->series, VS_DOMM_N);
	for (size_t v = 0; v < gd->dom.n_vifs; v++)
		s_drop_series(h, gd->gvif[v].series, VS_IFC_N);
}

void
vs_graph_dispose(vs_graph_t *g, vs_history_t *h)
{
	if (h)
		for (size_t i = 0; i < g->n; i++)
			s_dom_drop(h, &g->doms[i]);
	free(g->doms);
	free(g->ifmap);
	memset(g, 0, sizeof(*g));
}

static int
s_same_dom(const vs_dom_t *a, const vs_dom_t *b)
{
	if (a->uuid[0] && b->uuid[0])
		return strcmp(a->uuid, b->uuid) == 0;
	return strcmp(a->name, b->name) == 0;
}

static int
s_vifs_equal(const vs_dom_t *a, const vs_dom_t *b)
{
	if (a->n_vifs != b->n_vifs)
		return 0;
	for (size_t i = 0; i < a->n_vifs; i++)
		if (strcmp(a->vifs[i].ifname, b->vifs[i].ifname) ||
		    strcmp(a->vifs[i].mac, b->vifs[i].mac) || a->vifs[i].devid != b->vifs[i].devid)
			return 0;
	return 1;
}

int
vs_graph_update(vs_graph_t *g, vs_history_t *h, const vs_dom_t *doms, size_t n)
{
	vs_gdom_t *nd;
	int changed = n != g->n;
	char *used;

	nd = calloc(n ? n : 1, sizeof(*nd));
	used = calloc(g->n ? g->n : 1, 1);
	if (nd == NULL || used == NULL) {
		free(nd);
		free(used);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		vs_gdom_t *d = &nd[i];
		size_t j;

		for (j = 0; j < g->n; j++)
			if (!used[j] && s_same_dom(&g->doms[j].dom, &doms[i]))
				break;
		if (j < g->n) {
			vs_gdom_t *old = &g->doms[j];

			used[j] = 1;
			*d = *old;
			if (strcmp(old->dom.name, doms[i].name) || old->dom.id != doms[i].id)
				changed = 1;
			if (strcmp(old->dom.name, doms[i].name)) {
				/* renamed: series are keyed by name, start new ones */
				s_dom_drop(h, old);
				for (int m = 0; m < VS_DOMM_N; m++)
					d->series[m] = s_series(g, h, doms[i].name, vs_dom_metric[m],
					    s_dom_unit[m], s_dom_kind[m]);
				d->have_last_cpu = 0;
				for (size_t v = 0; v < doms[i].n_vifs; v++) {
					memset(&d->gvif[v], 0, sizeof(d->gvif[v]));
					s_vif_series(g, h, &d->gvif[v], doms[i].vifs[v].ifname);
				}
			} else if (!s_vifs_equal(&old->dom, &doms[i])) {
				changed = 1;
				/* keep series of VIFs that stay, by name */
				vs_gvif_t keep[VS_DOM_MAX_VIFS];
				int kept[VS_DOM_MAX_VIFS] = { 0 };

				memcpy(keep, old->gvif, sizeof(keep));
				for (size_t v = 0; v < doms[i].n_vifs; v++) {
					size_t w;

					for (w = 0; w < old->dom.n_vifs; w++)
						if (!kept[w] && !strcmp(old->dom.vifs[w].ifname,
						    doms[i].vifs[v].ifname))
							break;
					if (w < old->dom.n_vifs) {
						kept[w] = 1;
						d->gvif[v] = keep[w];
					} else {
						memset(&d->gvif[v], 0, sizeof(d->gvif[v]));
						s_vif_series(g, h, &d->gvif[v], doms[i].vifs[v].ifname);
					}
				}
				for (size_t w = 0; w < old->dom.n_vifs; w++)
					if (!kept[w])
						s_drop_series(h, keep[w].series, VS_IFC_N);
			}
			d->dom = doms[i];
		} else {
			changed = 1;
			d->dom = doms[i];
			for (int m = 0; m < VS_DOMM_N; m++)
				d->series[m] = s_series(g, h, doms[i].name, vs_dom_metric[m],
				    s_dom_unit[m], s_dom_kind[m]);
			for (size_t v = 0; v < doms[i].n_vifs; v++)
				s_vif_series(g, h, &d->gvif[v], doms[i].vifs[v].ifname);
		}
	}
	for (size_t j = 0; j < g->n; j++)
		if (!used[j]) {
			changed = 1;
			s_dom_drop(h, &g->doms[j]);
		}
	free(used);
	free(g->doms);
	g->doms = nd;
	g->n = g->cap = n;
	/* the ifmap points into the old array: empty it until the next resolve */
	g->n_ifmap = 0;
	if (changed)
		g->generation++;
	return changed;
}

static int
s_ifmap_cmp(const void *a, const void *b)
{
	const struct vs_ifmap *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

void
vs_graph_resolve(vs_graph_t *g, int (*lookup)(void *arg, const char *name), void *arg)
{
	size_t total = 0, k = 0;
	int changed = 0;

	for (size_t i = 0; i < g->n; i++)
		total += g->doms[i].dom.n_vifs;
	free(g->ifmap);
	g->ifmap = calloc(total ? total : 1, sizeof(*g->ifmap));
	g->n_ifmap = 0;
	if (g->ifmap == NULL)
		return;
	for (size_t i = 0; i < g->n; i++) {
		vs_gdom_t *d = &g->doms[i];

		for (size_t v = 0; v < d->dom.n_vifs; v++) {
			vs_gvif_t *gv = &d->gvif[v];
			int ifindex = lookup(arg, d->dom.vifs[v].ifname);

			if (ifindex < 0)
				ifindex = 0;
			if (ifindex != gv->ifindex) {
				/* appeared, vanished or re-created: the old baseline means nothing */
				gv->have_last = 0;
				gv->ifindex = ifindex;
				changed = 1;
			}
			if (ifindex > 0) {
				g->ifmap[k].ifindex = ifindex;
				g->ifmap[k].gvif = gv;
				k++;
			}
		}
	}
	g->n_ifmap = k;
	qsort(g->ifmap, k, sizeof(*g->ifmap), s_ifmap_cmp);
	if (changed)
		g->generation++;
}

vs_gvif_t *
vs_graph_vif_by_ifindex(const vs_graph_t *g, int ifindex)
{
	size_t lo = 0, hi = g->n_ifmap;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (g->ifmap[mid].ifindex < ifindex)
			lo = mid + 1;
		else if (g->ifmap[mid].ifindex > ifindex)
			hi = mid;
		else
			return g->ifmap[mid].gvif;
	}
	return NULL;
}

vs_gdom_t *
vs_graph_dom_by_name(const vs_graph_t *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->doms[i].dom.name, name) == 0)
			return &g->doms[i];
	return NULL;
}
