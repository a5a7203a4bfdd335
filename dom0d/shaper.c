#include "shaper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "log.h"
#include "sampler.h"

struct vs_shaper {
	vs_shape_t *tc;
	char dir[512];
	vs_shaper_rule_t rules[VS_SHAPER_MAX_RULES];
	size_t n;
	vs_history_t *history;          /* where our series live, once the first tick ran */
};

static const char *const s_metric[VS_SHM_N] = { "bytes", "packets", "drops", "overlimits" };
static const char *const s_unit[VS_SHM_N] = { "bytes", "packets", "packets", "count" };

vs_shaper_t *
vs_shaper_new(const char *state_dir, char *err, size_t errlen)
{
	vs_shaper_t *self = calloc(1, sizeof(*self));

	if (self == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(self->dir, sizeof(self->dir), "%s", state_dir ? state_dir : VS_SHAPER_DEFAULT_DIR);
	self->tc = vs_shape_new(err, errlen);
	if (self->tc == NULL) {
		free(self);
		return NULL;
	}
	return self;
}

void
vs_shaper_destroy(vs_shaper_t **self_p)
{
	vs_shaper_t *self = *self_p;

	if (self == NULL)
		return;
	vs_shape_destroy(&self->tc);
	free(self);
	*self_p = NULL;
}

static int
s_cleanup_one(void *arg, const vs_shape_rule_t *r, const char *path)
{
	vs_shaper_t *self = arg;
	int rc = vs_shape_remove(self->tc, r->vif, r->created_ingress);

	(void)path;
	if (rc < 0)
		vs_warn("shaping: removing the earlier run's rule on %s: %s", r->vif, strerror(-rc));
	else
		vs_notice("shaping: removed the earlier run's rule on %s (%s)", r->vif, r->domain);
	vs_shape_state_remove(self->dir, r->vif);
	return 0;
}

int
vs_shaper_cleanup(vs_shaper_t *self)
{
	int n = vs_shape_state_foreach(self->dir, s_cleanup_one, self), m;

	m = vs_shape_cleanup_all(self->tc);
	if (n < 0)
		return n;
	return m < 0 ? m : n + m;
}

static vs_shaper_rule_t *
s_find(vs_shaper_t *self, const char *vif)
{
	for (size_t i = 0; i < self->n; i++)
		if (!strcmp(self->rules[i].r.vif, vif))
			return &self->rules[i];
	return NULL;
}

static void
s_drop_series(vs_shaper_t *self, vs_shaper_rule_t *sr)
{
	for (int d = 0; d < 2; d++)
		for (int m = 0; m < VS_SHM_N; m++) {
			if (sr->series[d][m] >= 0 && self->history)
				vs_history_series_del(self->history, sr->series[d][m]);
			sr->series[d][m] = -1;
		}
}

static int
s_remove(vs_shaper_t *self, vs_shaper_rule_t *sr, const char *why)
{
	int rc = vs_shape_remove(self->tc, sr->r.vif, sr->r.created_ingress);

	if (rc < 0)
		vs_warn("shaping: removing the rule on %s: %s", sr->r.vif, strerror(-rc));
	else
		vs_notice("shaping: rule on %s (%s) removed: %s", sr->r.vif, sr->r.domain, why);
	vs_shape_state_remove(self->dir, sr->r.vif);
	s_drop_series(self, sr);
	*sr = self->rules[--self->n];
	return rc;
}

static const vs_gdom_t *
s_domain(const vs_graph_t *g, const char *name, char *err, size_t errlen)
{
	const vs_gdom_t *gd = g ? vs_graph_dom_by_name(g, name) : NULL;

	if (gd == NULL && g) {
		char *end;
		unsigned long id = strtoul(name, &end, 10);

		for (size_t i = 0; *name && !*end && i < g->n; i++)
			if (g->doms[i].dom.id == id)
				gd = &g->doms[i];
	}
	if (gd == NULL) {
		snprintf(err, errlen, "no such domain: %.64s", name);
		return NULL;
	}
	if (gd->dom.id == 0) {
		snprintf(err, errlen, "%.64s is Dom0: vscope never shapes Dom0's own interfaces",
		    name);
		return NULL;
	}
	return gd;
}

int
vs_shaper_apply(vs_shaper_t *self, const vs_graph_t *g, const vs_shape_rule_t *req,
    int64_t now_ns, char *err, size_t errlen)
{
	const vs_gdom_t *gd = s_domain(g, req->domain, err, errlen);
	size_t todo[VS_DOM_MAX_VIFS], n = 0;
	int rc;

	if (gd == NULL)
		return -ENOENT;
	for (size_t v = 0; v < gd->dom.n_vifs; v++) {
		if (req->vif[0] && strcmp(req->vif, gd->dom.vifs[v].ifname))
			continue;
		if (gd->gvif[v].ifindex <= 0) {
			if (req->vif[0]) {
				snprintf(err, errlen, "%s of %.64s is not present in this Dom0",
				    req->vif, gd->dom.name);
				return -ENODEV;
			}
			continue;
		}
		todo[n++] = v;
	}
	if (n == 0) {
		if (req->vif[0])
			snprintf(err, errlen, "%.15s is not a VIF of domain %.64s", req->vif,
			    gd->dom.name);
		else
			snprintf(err, errlen, "domain %.64s has no VIF present in this Dom0",
			    gd->dom.name);
		return -ENODEV;
	}
	if (req->ceil_bps && req->ceil_bps < req->rate_bps) {
		snprintf(err, errlen, "ceil is below the rate");
		return -EINVAL;
	}
	if (req->rate_bps == 0 || req->ttl_ns <= 0 || req->burst == 0 ||
	    req->burst > VS_SHAPE_MAX_BURST || req->ttl_ns > VS_SHAPE_MAX_TTL_NS ||
	    !(req->dir & VS_SHAPE_BOTH) || (req->dir & ~VS_SHAPE_BOTH)) {
		snprintf(err, errlen, "bad rule: rate, burst and TTL must be positive and in range");
		return -EINVAL;
	}
	/* every check before the first change, so a refusal leaves tc as it was */
	for (size_t i = 0; i < n; i++) {
		const char *ifname = gd->dom.vifs[todo[i]].ifname;
		uint64_t speed = vs_shape_link_speed(ifname);
		uint64_t top = req->ceil_bps > req->rate_bps ? req->ceil_bps : req->rate_bps;

		if (speed && top > speed) {
			char a[32], b[32];

			vs_shape_fmt_rate(top, a, sizeof(a));
			vs_shape_fmt_rate(speed, b, sizeof(b));
			snprintf(err, errlen, "rate %s is above the link speed of %s (%s)", a, ifname,
			    b);
			return -ERANGE;
		}
		if (!strncmp(ifname, VS_SHAPE_IFB_PREFIX, strlen(VS_SHAPE_IFB_PREFIX))) {
			snprintf(err, errlen, "%s is one of vscope's IFB devices", ifname);
			return -EINVAL;
		}
		if (!s_find(self, ifname) && self->n + i >= VS_SHAPER_MAX_RULES) {
			snprintf(err, errlen, "too many rules (at most %d)", VS_SHAPER_MAX_RULES);
			return -ENOSPC;
		}
	}
	for (size_t i = 0; i < n; i++) {
		vs_shaper_rule_t *sr = s_find(self, gd->dom.vifs[todo[i]].ifname);
		vs_shape_rule_t r = *req;

		snprintf(r.vif, sizeof(r.vif), "%s", gd->dom.vifs[todo[i]].ifname);
		snprintf(r.domain, sizeof(r.domain), "%s", gd->dom.name);
		r.expires_ns = now_ns + r.ttl_ns;
		rc = vs_shape_apply(self->tc, &r, sr ? &sr->r : NULL, err, errlen);
		if (rc < 0) {
			/* undo what this request added on earlier VIFs: all or nothing */
			for (size_t j = 0; j < i; j++) {
				vs_shaper_rule_t *o = s_find(self, gd->dom.vifs[todo[j]].ifname);

				if (o)
					s_remove(self, o, "a later VIF of the same request failed");
			}
			if (sr)
				s_remove(self, sr, "changing it failed");
			return rc;
		}
		if (sr == NULL) {
			sr = &self->rules[self->n++];
			memset(sr, 0, sizeof(*sr));
			memset(sr->series, -1, sizeof(sr->series));
		} else if (sr->r.dir != r.dir) {
			s_drop_series(self, sr);
			sr->have_last[0] = sr->have_last[1] = 0;
		}
		sr->r = r;
		if ((rc = vs_shape_state_write(self->dir, &r)) < 0)
			vs_warn("shaping: state file for %s in %s: %s (the rule is in force)",
			    r.vif, self->dir, strerror(-rc));
		vs_notice("shaping: %s (%s) %s, lease %lld s", r.vif, r.domain,
		    vs_shape_dir_name(r.dir), (long long)(r.ttl_ns / 1000000000LL));
	}
	vs_shaper_refresh(self);
	return 0;
}

int
vs_shaper_unshape(vs_shaper_t *self, const vs_graph_t *g, const char *domain, const char *vif,
    char *err, size_t errlen)
{
	int found = 0, rc = 0;

	for (size_t i = 0; i < self->n;) {
		vs_shaper_rule_t *sr = &self->rules[i];

		if (strcmp(sr->r.domain, domain) || (vif && *vif && strcmp(sr->r.vif, vif))) {
			i++;
			continue;
		}
		found++;
		if (s_remove(self, sr, "unshaped") < 0)
			rc = -EIO;
	}
	if (!found) {
		if (s_domain(g, domain, err, errlen) == NULL)
			return -ENOENT;
		snprintf(err, errlen, "%.64s has no shaping rule%s%.15s", domain,
		    vif && *vif ? " on " : "", vif ? vif : "");
		return -ENOENT;
	}
	if (rc < 0)
		snprintf(err, errlen, "removing a rule failed (see vscoped's log)");
	return rc;
}

void
vs_shaper_refresh(vs_shaper_t *self)
{
	for (size_t i = 0; i < self->n; i++) {
		vs_shaper_rule_t *sr = &self->rules[i];

		vs_shape_stats(self->tc, sr->r.vif, &sr->from, &sr->to);
	}
}

static void
s_publish(vs_shaper_t *self, vs_shaper_rule_t *sr, struct vs_sampler *sampler)
{
	vs_history_t *h = vs_sampler_history(sampler);
	const vs_shape_stats_t *st[2] = { &sr->from, &sr->to };

	self->history = h;
	for (int d = 0; d < 2; d++) {
		uint64_t v[VS_SHM_N] = { st[d]->bytes, st[d]->packets, st[d]->drops,
		    st[d]->overlimits };

		if (!st[d]->valid)
			continue;
		for (int m = 0; m < VS_SHM_N; m++) {
			char name[64];

			if (sr->series[d][m] < 0) {
				snprintf(name, sizeof(name), "shape.%s.%s", d ? "to_vm" : "from_vm",
				    s_metric[m]);
				sr->series[d][m] = vs_history_series_add(h, sr->r.domain, name,
				    s_unit[m], VS_KIND_COUNTER);
				if (sr->series[d][m] == -EEXIST)
					sr->series[d][m] = vs_history_series_find(h, sr->r.domain,
					    name);
			}
			vs_sampler_counter(sampler, sr->series[d][m], sr->last[d][m], v[m],
			    sr->have_last[d]);
			sr->last[d][m] = v[m];
		}
		sr->have_last[d] = 1;
	}
}

void
vs_shaper_tick(vs_shaper_t *self, const vs_graph_t *g, struct vs_sampler *sampler,
    int64_t now_ns)
{
	for (size_t i = 0; i < self->n;) {
		vs_shaper_rule_t *sr = &self->rules[i];
		const vs_gdom_t *gd = g ? vs_graph_dom_by_name(g, sr->r.domain) : NULL;
		int present = 0;

		for (size_t v = 0; gd && v < gd->dom.n_vifs; v++)
			if (!strcmp(gd->dom.vifs[v].ifname, sr->r.vif) && gd->gvif[v].ifindex > 0)
				present = 1;
		if (now_ns >= sr->r.expires_ns) {
			s_remove(self, sr, "lease expired");
			continue;
		}
		if (!present) {
			s_remove(self, sr, "the domain or its VIF is gone");
			continue;
		}
		i++;
	}
	vs_shaper_refresh(self);
	if (sampler)
		for (size_t i = 0; i < self->n; i++)
			s_publish(self, &self->rules[i], sampler);
}

const vs_shaper_rule_t *
vs_shaper_rules(const vs_shaper_t *self, size_t *n_r)
{
	*n_r = self->n;
	return self->rules;
}
