/* Bounded decoding and validation of DPG protocol frames (lib/dpg.proto). */
#include "dpgwire.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dpg.h"

static int
s_bad(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int
vs_dpgwire_name_ok(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n == 0 || n > VS_DPG_MAX_NAME)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-' || c == ':'))
			return 0;
	}
	return 1;
}

/* Printable ASCII only, at most max bytes ("" allowed). */
static int
s_text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
s_metrics(const Vsdpg__Register *r, char *err, size_t errlen)
{
	if (r->n_metrics > VS_DPG_MAX_METRICS)
		return s_bad(err, errlen, -EINVAL, "register: %zu metrics (at most %d)",
		    r->n_metrics, VS_DPG_MAX_METRICS);
	if (r->n_metrics && !r->has_metrics)
		return s_bad(err, errlen, -EINVAL, "register: metrics without has_metrics");
	for (size_t i = 0; i < r->n_metrics; i++) {
		const Vsdpg__Metric *x = r->metrics[i];

		if (!vs_dpgwire_name_ok(x->name))
			return s_bad(err, errlen, -EINVAL, "register: metric %zu: bad name", i);
		if (!s_text_ok(x->unit, VS_DPG_MAX_UNIT))
			return s_bad(err, errlen, -EINVAL, "register: metric %zu: bad unit", i);
		if (!s_text_ok(x->source, VS_DPG_MAX_SOURCE))
			return s_bad(err, errlen, -EINVAL, "register: metric %zu: bad source", i);
		if (x->n_entities > VS_DPG_MAX_METRIC_ENTS || x->n_entities > x->entity_count ||
		    x->entity_count == 0)
			return s_bad(err, errlen, -EINVAL, "register: metric %zu: %zu entities "
			    "listed of %u (1..%d listed)", i, x->n_entities, x->entity_count,
			    VS_DPG_MAX_METRIC_ENTS);
		for (size_t e = 0; e < x->n_entities; e++)
			if (!vs_dpgwire_name_ok(x->entities[e]))
				return s_bad(err, errlen, -EINVAL, "register: metric %zu: bad entity",
				    i);
	}
	return 0;
}

/* A plugin function's name as the loader accepts it: 1..32 of [A-Za-z0-9_-] */
static int
s_plugin_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VS_DPG_PLUGIN_MAXNAME)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int
s_plugins(const Vsdpg__Register *r, char *err, size_t errlen)
{
	if (r->n_plugins > VS_DPG_PLUGIN_MAXLOADED)
		return s_bad(err, errlen, -EINVAL, "register: %zu plugin functions (at most %u)",
		    r->n_plugins, VS_DPG_PLUGIN_MAXLOADED);
	for (size_t i = 0; i < r->n_plugins; i++) {
		const Vsdpg__PluginFn *f = r->plugins[i];

		if (!s_plugin_name_ok(f->name))
			return s_bad(err, errlen, -EINVAL, "register: plugin function %zu: "
			    "bad name", i);
		if (f->id < VS_DPG_FN_PLUGIN_MIN)
			return s_bad(err, errlen, -EINVAL, "register: plugin function %s: "
			    "id %u is below %u", f->name, f->id, VS_DPG_FN_PLUGIN_MIN);
		if (f->kind < VS_DPG_FN_LOCAL || f->kind > VS_DPG_FN_CENTRAL || f->abi == 0)
			return s_bad(err, errlen, -EINVAL, "register: plugin function %s: "
			    "kind %u, ABI %u", f->name, f->kind, f->abi);
		for (size_t j = 0; j < i; j++)
			if (r->plugins[j]->id == f->id ||
			    !strcasecmp(r->plugins[j]->name, f->name))
				return s_bad(err, errlen, -EINVAL, "register: plugin function %s "
				    "twice", f->name);
	}
	return 0;
}

static int
s_register(const Vsdpg__Register *r, char *err, size_t errlen)
{
	if (!vs_dpgwire_name_ok(r->host))
		return s_bad(err, errlen, -EINVAL, "register: bad host name");
	if (r->n_domains > VS_DPG_MAX_DOMAINS)
		return s_bad(err, errlen, -EINVAL, "register: %zu domains (at most %d)",
		    r->n_domains, VS_DPG_MAX_DOMAINS);
	for (size_t i = 0; i < r->n_domains; i++) {
		const Vsdpg__Domain *d = r->domains[i];

		if (!vs_dpgwire_name_ok(d->name) || d->n_vifs > VS_DPG_MAX_VIFS)
			return s_bad(err, errlen, -EINVAL, "register: bad domain %zu", i);
		for (size_t v = 0; v < d->n_vifs; v++)
			if (!vs_dpgwire_name_ok(d->vifs[v]))
				return s_bad(err, errlen, -EINVAL, "register: bad VIF name");
	}
	return s_metrics(r, err, errlen) < 0 ? -EINVAL : s_plugins(r, err, errlen);
}

static int
s_deploy(const Vsdpg__Deploy *d, char *err, size_t errlen)
{
	if (d->n_vnodes > VS_DPG_MAX_DEPLOY)
		return s_bad(err, errlen, -EINVAL, "deploy: %zu VNodes (at most %d)", d->n_vnodes,
		    VS_DPG_MAX_DEPLOY);
	if (d->n_vnodes) {
		const vs_dpg_fn_t *fn = vs_dpg_fn_lookup(d->fn);

		/* a central plugin runs at vmasterd only: hosts ship rows without knowing it */
		if (!fn && !(d->central && d->fn >= VS_DPG_FN_PLUGIN_MIN))
			return s_bad(err, errlen, -EINVAL, "deploy: unknown function %u", d->fn);
		if (fn && d->central != (fn->kind == VS_DPG_FN_CENTRAL))
			return s_bad(err, errlen, -EINVAL, "deploy: function %u is %scentral", d->fn,
			    d->central ? "not " : "");
	}
	if (d->n_vnodes && !vs_dpgwire_name_ok(d->metric))
		return s_bad(err, errlen, -EINVAL, "deploy: bad metric name");
	if (d->n_vnodes && (d->period_ns < VS_DPG_MIN_PERIOD_NS ||
	    d->period_ns > VS_DPG_MAX_PERIOD_NS))
		return s_bad(err, errlen, -EINVAL, "deploy: period out of range");
	if (d->window > VS_DPG_MAX_WINDOW)
		return s_bad(err, errlen, -EINVAL, "deploy: window of %u (at most %d)", d->window,
		    VS_DPG_MAX_WINDOW);
	for (size_t i = 0; i < d->n_vnodes; i++) {
		const Vsdpg__VNode *v = d->vnodes[i];

		if (v->n_entities > VS_DPG_MAX_VIFS || v->n_inputs > VS_DPG_MAX_VNODES)
			return s_bad(err, errlen, -EINVAL, "deploy: VNode %u: too many inputs", v->id);
		if (v->parent != VS_DPG_NO_PARENT && !vs_dpgwire_name_ok(v->parent_host))
			return s_bad(err, errlen, -EINVAL, "deploy: VNode %u: bad parent host",
			    v->id);
		if (v->parent == v->id)
			return s_bad(err, errlen, -ELOOP, "deploy: VNode %u is its own parent", v->id);
		for (size_t e = 0; e < v->n_entities; e++)
			if (!vs_dpgwire_name_ok(v->entities[e]))
				return s_bad(err, errlen, -EINVAL, "deploy: bad entity name");
	}
	return 0;
}

int
vs_dpgwire_part_get(const Vsdpg__Part *q, const vs_dpg_fn_t *fn, uint32_t arg,
    vs_dpg_part_t *p)
{
	if (q->n_top > VS_DPG_TOPK_MAX)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (fn && fn->init(p, arg) < 0)
		return -EINVAL;
	p->fn = q->fn;
	p->leaves = q->leaves;
	p->count = q->count;
	p->sum = q->sum;
	p->prod = q->prod;
	p->min = q->count ? q->min : INFINITY;
	p->max = q->count ? q->max : -INFINITY;
	p->k = q->k;
	p->n_top = (uint32_t)q->n_top;
	if (q->n_top)  /* top is NULL when empty: memcpy(.., NULL, 0) is UB */
		memcpy(p->top, q->top, q->n_top * sizeof(double));
	return vs_dpg_part_validate(p);
}

void
vs_dpgwire_part_put(const vs_dpg_part_t *p, Vsdpg__Part *q)
{
	q->fn = p->fn;
	q->leaves = p->leaves;
	q->count = p->count;
	q->sum = p->sum;
	q->prod = p->prod;
	q->min = p->count ? p->min : 0;
	q->max = p->count ? p->max : 0;
	q->k = p->k;
	q->top = (double *)p->top;
	q->n_top = p->n_top;
}

/* A central function's Part: rows of finite values, count * cols of them. */
static int
s_part_rows(const Vsdpg__Part *p, char *err, size_t errlen)
{
	if (p->n_top || p->k || p->sum != 0 || p->prod != 0 || p->min != 0 || p->max != 0)
		return s_bad(err, errlen, -EINVAL, "part: a central function's has rows only");
	if (p->n_rows > VS_DPG_MAX_ROW_CELLS)
		return s_bad(err, errlen, -EINVAL, "part: %zu values in rows (at most %d)",
		    p->n_rows, VS_DPG_MAX_ROW_CELLS);
	if (p->cols > VS_DPG_MAX_WINDOW || (p->count == 0 ? p->n_rows != 0 || p->leaves != 0 :
	    p->cols == 0 || p->n_rows / p->cols != p->count ||
	    p->n_rows % p->cols != 0 || p->leaves == 0 || p->leaves > p->count))
		return s_bad(err, errlen, -EINVAL, "part: %llu rows of %u in %zu values from %u "
		    "leaves", (unsigned long long)p->count, p->cols, p->n_rows, p->leaves);
	for (size_t i = 0; i < p->n_rows; i++)
		if (!isfinite(p->rows[i]) || fabs(p->rows[i]) > VS_DPG_CENTRAL_MAX_ABS)
			return s_bad(err, errlen, -EINVAL, "part: row value %zu out of range", i);
	if (p->src == p->dst)
		return s_bad(err, errlen, -ELOOP, "part: to itself");
	return 0;
}

static int
s_part(const Vsdpg__Part *p, char *err, size_t errlen)
{
	const vs_dpg_fn_t *fn = vs_dpg_fn_lookup(p->fn);
	vs_dpg_part_t q;

	/* central functions' data and local functions' per-leaf values go up as rows */
	if ((fn && (fn->kind == VS_DPG_FN_CENTRAL || fn->kind == VS_DPG_FN_LOCAL)) ||
	    (!fn && p->fn >= VS_DPG_FN_PLUGIN_MIN && p->cols > 0))
		return s_part_rows(p, err, errlen);
	if (p->n_rows || p->cols)
		return s_bad(err, errlen, -EINVAL, "part: rows for a function that is not central");
	if (p->n_top > VS_DPG_TOPK_MAX)
		return s_bad(err, errlen, -EINVAL, "part: %zu Top-K values", p->n_top);
	if (vs_dpgwire_part_get(p, NULL, 0, &q) < 0)
		return s_bad(err, errlen, -EINVAL, "part: fails its function's checks");
	if (p->src == p->dst)
		return s_bad(err, errlen, -ELOOP, "part: to itself");
	return 0;
}

/* Fields this version does not know. protobuf-c keeps them and packs them again, but not
 * always as they came (field number 0 comes back as another field), and version 1 has no
 * use for them: a frame with any is refused. */
static size_t
s_unknown(const Vsdpg__Msg *m)
{
	size_t n = m->base.n_unknown_fields;

	switch (m->body_case) {
	case VSDPG__MSG__BODY_REGISTER:
		n += m->register_->base.n_unknown_fields;
		for (size_t i = 0; i < m->register_->n_domains; i++)
			n += m->register_->domains[i]->base.n_unknown_fields;
		for (size_t i = 0; i < m->register_->n_metrics; i++)
			n += m->register_->metrics[i]->base.n_unknown_fields;
		for (size_t i = 0; i < m->register_->n_plugins; i++)
			n += m->register_->plugins[i]->base.n_unknown_fields;
		break;
	case VSDPG__MSG__BODY_DEPLOY:
		n += m->deploy->base.n_unknown_fields;
		for (size_t i = 0; i < m->deploy->n_vnodes; i++)
			n += m->deploy->vnodes[i]->base.n_unknown_fields;
		break;
	case VSDPG__MSG__BODY_DEPLOYED:
		n += m->deployed->base.n_unknown_fields;
		break;
	case VSDPG__MSG__BODY_PART:
		n += m->part->base.n_unknown_fields;
		break;
	case VSDPG__MSG__BODY_COMMAND:
		n += m->command->base.n_unknown_fields;
		break;
	case VSDPG__MSG__BODY_ANSWER:
		n += m->answer->base.n_unknown_fields;
		break;
	default:
		break;
	}
	return n;
}

int
vs_dpgwire_validate(const Vsdpg__Msg *m, char *err, size_t errlen)
{
	if (s_unknown(m))
		return s_bad(err, errlen, -EPROTO, "%zu fields version %d does not know",
		    s_unknown(m), VS_DPG_VERSION);
	if (m->version != VS_DPG_VERSION)
		return s_bad(err, errlen, -EPROTO, "version %u (this side speaks %d)", m->version,
		    VS_DPG_VERSION);
	switch (m->body_case) {
	case VSDPG__MSG__BODY_REGISTER:
		return s_register(m->register_, err, errlen);
	case VSDPG__MSG__BODY_DEPLOY:
		return s_deploy(m->deploy, err, errlen);
	case VSDPG__MSG__BODY_DEPLOYED:
		return strlen(m->deployed->error) > 1024 ?
		    s_bad(err, errlen, -EINVAL, "deployed: error too long") : 0;
	case VSDPG__MSG__BODY_PART:
		return s_part(m->part, err, errlen);
	case VSDPG__MSG__BODY_COMMAND:
		if (strlen(m->command->verb) > VS_DPG_MAX_NAME || m->command->n_args > VS_DPG_MAX_ARGS)
			return s_bad(err, errlen, -EINVAL, "command: too many arguments");
		for (size_t i = 0; i < m->command->n_args; i++)
			if (strlen(m->command->args[i]) > VS_DPG_MAX_ARG)
				return s_bad(err, errlen, -EINVAL, "command: argument too long");
		return 0;
	case VSDPG__MSG__BODY_ANSWER:
		return strlen(m->answer->text) > VS_DPG_MAX_TEXT ?
		    s_bad(err, errlen, -EINVAL, "answer too long") : 0;
	default:
		return s_bad(err, errlen, -EPROTO, "no or unknown message body");
	}
}

Vsdpg__Msg *
vs_dpgwire_decode(const void *buf, size_t len, char *err, size_t errlen)
{
	Vsdpg__Msg *m;

	if (len > VS_DPG_MAX_MSG) {
		s_bad(err, errlen, -EMSGSIZE, "frame of %zu bytes (at most %d)", len,
		    VS_DPG_MAX_MSG);
		return NULL;
	}
	m = vsdpg__msg__unpack(NULL, len, buf);
	if (!m) {
		s_bad(err, errlen, -EBADMSG, "frame of %zu bytes does not decode", len);
		return NULL;
	}
	if (vs_dpgwire_validate(m, err, errlen) < 0) {
		vsdpg__msg__free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

void *
vs_dpgwire_pack(Vsdpg__Msg *m, size_t *len_r)
{
	size_t n;
	void *buf;

	m->version = VS_DPG_VERSION;
	n = vsdpg__msg__get_packed_size(m);
	buf = malloc(n ? n : 1);
	if (!buf)
		return NULL;
	*len_r = vsdpg__msg__pack(m, buf);
	return buf;
}
