#include "statsd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	char name[VS_STATSD_MAX_NAME + 1];
	enum vs_statsd_type type;
	double value;                   /* counter total or gauge */
	vs_samples_t timer;
	int touched;
} entry_t;

#define NBUCKETS 2048                   /* open addressing, at most half full */

struct vs_statsd {
	entry_t *e[NBUCKETS];
	entry_t *list[VS_STATSD_MAX_NAMES];
	size_t n;
	vs_statsd_stats_t st;
};

static int
s_namechar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == ':' || c == '-';
}

/* A strict number: strtod's syntax without leading blanks, finite, the whole field. */
static int
s_number(const char *s, size_t len, double *v_r)
{
	char buf[64], *end;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' ||
		    c == 'E'))
			return -EINVAL;         /* also refuses "nan", "inf", hex */
	}
	memcpy(buf, s, len);
	buf[len] = 0;
	errno = 0;
	*v_r = strtod(buf, &end);
	if (*end != 0 || errno == ERANGE || !isfinite(*v_r))
		return -EINVAL;
	return 0;
}

int
vs_statsd_parse_line(const char *s, size_t len, vs_statsd_line_t *l_r, char *err, size_t errlen)
{
	const char *colon, *bar, *bar2, *end = s + len, *type;
	size_t nlen, tlen;

	memset(l_r, 0, sizeof(*l_r));
	l_r->rate = 1;
	colon = memchr(s, ':', len);
	if (colon == NULL) {
		snprintf(err, errlen, "no ':' between name and value");
		return -EINVAL;
	}
	/* names may contain ':' (the protocol allows it): the value starts after the last
	 * ':' before the first '|' */
	bar = memchr(s, '|', len);
	if (bar == NULL) {
		snprintf(err, errlen, "no '|' before the type");
		return -EINVAL;
	}
	for (const char *p = colon; p && p < bar; p = memchr(p + 1, ':', (size_t)(bar - p - 1)))
		colon = p;
	if (colon > bar) {
		snprintf(err, errlen, "no ':' between name and value");
		return -EINVAL;
	}
	nlen = (size_t)(colon - s);
	if (nlen == 0 || nlen > VS_STATSD_MAX_NAME) {
		snprintf(err, errlen, "name length %zu not in 1..%d", nlen, VS_STATSD_MAX_NAME);
		return -EINVAL;
	}
	for (size_t i = 0; i < nlen; i++) {
		if (!s_namechar(s[i])) {
			snprintf(err, errlen, "bad character 0x%02x in name",
			    (unsigned)(unsigned char)s[i]);
			return -EINVAL;
		}
	}
	memcpy(l_r->name, s, nlen);
	type = bar + 1;
	bar2 = memchr(type, '|', (size_t)(end - type));
	tlen = (size_t)((bar2 ? bar2 : end) - type);
	if (tlen == 1 && type[0] == 'c')
		l_r->type = VS_STATSD_COUNTER;
	else if (tlen == 1 && type[0] == 'g')
		l_r->type = VS_STATSD_GAUGE;
	else if ((tlen == 2 && memcmp(type, "ms", 2) == 0) || (tlen == 1 && type[0] == 'h'))
		l_r->type = VS_STATSD_TIMER;
	else {
		snprintf(err, errlen, "unknown type '%.*s'", (int)(tlen > 8 ? 8 : tlen), type);
		return -EINVAL;
	}
	if (s_number(colon + 1, (size_t)(bar - colon - 1), &l_r->value) < 0) {
		snprintf(err, errlen, "value is not a finite number");
		return -EINVAL;
	}
	if (l_r->type == VS_STATSD_GAUGE && (colon[1] == '+' || colon[1] == '-'))
		l_r->delta = 1;
	if (bar2 != NULL) {
		const char *r = bar2 + 1;
		if (r >= end || *r != '@' || s_number(r + 1, (size_t)(end - r - 1), &l_r->rate) < 0 ||
		    !(l_r->rate > 0 && l_r->rate <= 1)) {
			snprintf(err, errlen, "sample rate is not '@R' with 0 < R <= 1");
			return -EINVAL;
		}
	}
	return 0;
}

vs_statsd_t *
vs_statsd_new(void)
{
	return calloc(1, sizeof(vs_statsd_t));
}

void
vs_statsd_destroy(vs_statsd_t **self_p)
{
	vs_statsd_t *self = *self_p;

	if (self == NULL)
		return;
	for (size_t i = 0; i < self->n; i++) {
		vs_samples_dispose(&self->list[i]->timer);
		free(self->list[i]);
	}
	free(self);
	*self_p = NULL;
}

static uint32_t
s_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static entry_t *
s_lookup(vs_statsd_t *self, const vs_statsd_line_t *l)
{
	uint32_t h = s_hash(l->name) % NBUCKETS;
	entry_t *e;

	while (self->e[h] != NULL) {
		if (strcmp(self->e[h]->name, l->name) == 0)
			return self->e[h];
		h = (h + 1) % NBUCKETS;
	}
	if (self->n == VS_STATSD_MAX_NAMES)
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->name, l->name, sizeof(e->name));
	e->type = l->type;
	self->e[h] = e;
	self->list[self->n++] = e;
	return e;
}

int
vs_statsd_feed(vs_statsd_t *self, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	int good = 0;

	self->st.datagrams++;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		vs_statsd_line_t line;
		char err[96];
		entry_t *e;

		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l > 0) {
			self->st.lines++;
			if (vs_statsd_parse_line(p, l, &line, err, sizeof(err)) < 0) {
				self->st.bad_lines++;
			} else if ((e = s_lookup(self, &line)) == NULL) {
				self->st.dropped_names++;
			} else if (e->type != line.type) {
				self->st.bad_lines++;   /* a name keeps its first type */
			} else {
				good++;
				e->touched = 1;
				switch (line.type) {
				case VS_STATSD_COUNTER:
					e->value += line.value / line.rate;
					break;
				case VS_STATSD_GAUGE:
					e->value = line.delta ? e->value + line.value : line.value;
					break;
				case VS_STATSD_TIMER:
					if (e->timer.v == NULL &&
					    vs_samples_init(&e->timer, VS_STATSD_MAX_TIMER) < 0)
						break;
					vs_samples_add(&e->timer, line.value);
					break;
				}
			}
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return good;
}

const vs_statsd_stats_t *
vs_statsd_stats(const vs_statsd_t *self)
{
	return &self->st;
}

size_t
vs_statsd_names(const vs_statsd_t *self)
{
	return self->n;
}

void
vs_statsd_flush(vs_statsd_t *self, vs_statsd_emit_fn fn, void *arg)
{
	char name[128];

	for (size_t i = 0; i < self->n; i++) {
		entry_t *e = self->list[i];
		vs_summary_t s;

		if (e->type != VS_STATSD_TIMER) {
			snprintf(name, sizeof(name), "statsd.%s", e->name);
			fn(arg, name, e->value, e->type == VS_STATSD_COUNTER);
			continue;
		}
		vs_summarise(e->timer.v, e->timer.n, &s);
		static const char *const suf[] = { "count", "min", "mean", "p50", "p99", "max" };
		double val[] = { (double)s.count, s.min, s.mean, s.p50, s.p99, s.max };
		for (size_t k = 0; k < 6; k++) {
			snprintf(name, sizeof(name), "statsd.%s.%s", e->name, suf[k]);
			fn(arg, name, val[k], 0);
		}
		vs_samples_reset(&e->timer);
	}
}
