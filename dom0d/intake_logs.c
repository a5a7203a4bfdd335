/*
 * Guests' log lines in the intake (LogLines, lib/agent.proto). Two halves:
 *
 * - In the unprivileged child, the check beyond the message's own form (intake_wire.c does
 *   that): the spec must be one of the names the parent sent (Dom0's mscope specs), or the
 *   logformat one that vs_mspec_from_logformat derives (the fuzzed Apache LogFormat parser
 *   runs here, never in the privileged parent); the lines of a log must come in order
 *   (within an agent session, file and generation, first_line never goes back).
 * - In the parent, the message rebuilt from the child's fixed-size records (BEGIN, TEXT...,
 *   END; anything that does not add up is dropped whole and counted), queued per domain
 *   within a byte bound (the oldest pushed out and counted when a domain's queue is full,
 *   or when all domains' together reach their bound: VS_INTAKE_LOG_TOTAL_* in intake.h)
 *   until `vscope mscope record` fetches it by cursor (GuestLogsReq, lib/control.proto).
 *
 * The lines are parsed only by the recorder, with the same spec engine that loads files
 * offline; vscoped itself never interprets them.
 */
#include "intake.h"

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mscope.h"

#ifndef MSCOPE_SPECDIR
#define MSCOPE_SPECDIR "/usr/local/share/vscope/mscope/specs"
#endif

int
vs_intake_spec_names(const char *dir, vs_intake_config_t *cfg, char *err, size_t errlen)
{
	const char *e = getenv("VSCOPE_MSCOPE_SPECS");
	vs_mspec_t **v = NULL;
	size_t n = 0;
	int rc;

	if (dir == NULL || dir[0] == '\0')
		dir = e != NULL && e[0] != '\0' ? e : MSCOPE_SPECDIR;
#ifdef MSCOPE_SRC_SPECDIR
	/* not installed yet: the specs of the source tree it was built from */
	if (access(dir, R_OK) < 0 && access(MSCOPE_SRC_SPECDIR, R_OK) == 0)
		dir = MSCOPE_SRC_SPECDIR;
#endif
	cfg->n_specs = 0;
	if ((rc = vs_mspec_load_dir(dir, &v, &n, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < n && cfg->n_specs < VS_INTAKE_MAX_SPECS; i++) {
		const char *name = vs_mspec_name(v[i]);
		if (strlen(name) <= VS_AGENT_MAX_SPEC_LEN)
			snprintf(cfg->specs[cfg->n_specs++], sizeof(cfg->specs[0]), "%s", name);
	}
	vs_mspec_free_all(&v, n);
	vs_info("intake: %zu spec names from %s for guests' logs", cfg->n_specs, dir);
	return 0;
}

/* ========================================================================================
 * The child's check
 * ======================================================================================== */

#define LF_CACHE 16

struct order {
	uint64_t session, inode, generation, next;
	int seen;
};

struct vs_intake_logcheck {
	size_t n_specs;
	char (*specs)[VS_AGENT_MAX_SPEC_LEN + 1];
	struct order *order[VS_AGENTKEYS_MAX];  /* per dom index: VS_AGENT_MAX_LOGS, lazily */
	char *lf_ok[LF_CACHE];                  /* logformats that derived a spec */
	size_t lf_next;
};

vs_intake_logcheck_t *
vs_intake_logcheck_new(const vs_intake_cfgmsg_t *cfg)
{
	vs_intake_logcheck_t *c = calloc(1, sizeof(*c));
	size_t n = cfg->n_specs < VS_INTAKE_MAX_SPECS ? cfg->n_specs : VS_INTAKE_MAX_SPECS;

	if (c == NULL || (c->specs = calloc(n + 1, sizeof(*c->specs))) == NULL) {
		free(c);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(c->specs[c->n_specs], cfg->specs[i], VS_AGENT_MAX_SPEC_LEN);
		c->specs[c->n_specs][VS_AGENT_MAX_SPEC_LEN] = '\0';
		if (c->specs[c->n_specs][0])
			c->n_specs++;
	}
	return c;
}

void
vs_intake_logcheck_destroy(vs_intake_logcheck_t **self_p)
{
	vs_intake_logcheck_t *c = self_p ? *self_p : NULL;

	if (c == NULL)
		return;
	for (size_t i = 0; i < VS_AGENTKEYS_MAX; i++)
		free(c->order[i]);
	for (size_t i = 0; i < LF_CACHE; i++)
		free(c->lf_ok[i]);
	free(c->specs);
	free(c);
	*self_p = NULL;
}

static vs_intake_drop_t
s_spec_ok(vs_intake_logcheck_t *c, const vs_intake_loginfo_t *li, char *err, size_t errlen)
{
	char why[256];
	vs_mspec_t *s;

	if (li->logformat[0] == '\0') {
		for (size_t i = 0; i < c->n_specs; i++)
			if (strcmp(c->specs[i], li->spec) == 0)
				return VS_DROP_NONE;
		snprintf(err, errlen, "loglines: unknown spec '%s' (not one of Dom0's %zu specs)",
		    li->spec, c->n_specs);
		return VS_DROP_MALFORMED;
	}
	for (size_t i = 0; i < LF_CACHE; i++)
		if (c->lf_ok[i] && strcmp(c->lf_ok[i], li->logformat) == 0)
			return VS_DROP_NONE;
	s = vs_mspec_from_logformat(li->logformat, NULL, why, sizeof(why));
	if (s == NULL) {
		snprintf(err, errlen, "loglines: logformat: %s", why);
		return VS_DROP_MALFORMED;
	}
	vs_mspec_destroy(&s);
	free(c->lf_ok[c->lf_next]);
	c->lf_ok[c->lf_next] = strdup(li->logformat);
	c->lf_next = (c->lf_next + 1) % LF_CACHE;
	return VS_DROP_NONE;
}

vs_intake_drop_t
vs_intake_logcheck(void *arg, uint32_t dom, const vs_intake_loginfo_t *li, char *err,
    size_t errlen)
{
	vs_intake_logcheck_t *c = arg;
	struct order *o;
	vs_intake_drop_t rc;

	if (dom >= VS_AGENTKEYS_MAX || li->log >= VS_AGENT_MAX_LOGS) {
		snprintf(err, errlen, "loglines: no such domain or log");
		return VS_DROP_MALFORMED;
	}
	if ((rc = s_spec_ok(c, li, err, errlen)) != VS_DROP_NONE)
		return rc;
	if (c->order[dom] == NULL &&
	    (c->order[dom] = calloc(VS_AGENT_MAX_LOGS, sizeof(struct order))) == NULL) {
		snprintf(err, errlen, "loglines: out of memory");
		return VS_DROP_BUSY;
	}
	o = &c->order[dom][li->log];
	if (o->seen && o->session == li->session && o->inode == li->inode) {
		if (li->generation < o->generation ||
		    (li->generation == o->generation && li->first_line < o->next)) {
			snprintf(err, errlen, "loglines: line numbers go back (generation %llu line"
			    " %llu after generation %llu line %llu)",
			    (unsigned long long)li->generation, (unsigned long long)li->first_line,
			    (unsigned long long)o->generation, (unsigned long long)(o->next - 1));
			return VS_DROP_MALFORMED;
		}
	}
	o->seen = 1;
	o->session = li->session;
	o->inode = li->inode;
	o->generation = li->generation;
	o->next = li->first_line + li->nlines;
	return VS_DROP_NONE;
}

/* ========================================================================================
 * The parent's queue
 * ======================================================================================== */

typedef struct lbatch {
	struct lbatch *prev, *next;     /* every domain's, by seq */
	struct lbatch *dnext;           /* the same domain's */
	uint32_t dom;
	int fetched;
	size_t bytes;                   /* what it costs the domain's quota */
	vs_intake_logbatch_t b;
	char data[];                    /* spec\0 path\0 logformat\0 lines\n... */
} lbatch_t;

struct dq {
	lbatch_t *head, *tail;
	uint64_t bytes;
	vs_intake_logstat_t *st;        /* VS_AGENT_MAX_LOGS, lazily */
};

struct vs_intake_logs {
	uint64_t max_bytes;             /* per domain */
	uint64_t max_total;             /* all domains */
	lbatch_t *head, *tail;
	struct dq *dq;                  /* VS_AGENTKEYS_MAX */
	uint64_t seq, queued, bad;
	/* the message being assembled */
	lbatch_t *cur;
	size_t cur_len, cur_cap, str, str_len;
};

vs_intake_logs_t *
vs_intake_logs_new(uint64_t max_bytes)
{
	vs_intake_logs_t *q = calloc(1, sizeof(*q));

	if (q == NULL || (q->dq = calloc(VS_AGENTKEYS_MAX, sizeof(*q->dq))) == NULL) {
		free(q);
		return NULL;
	}
	q->max_bytes = max_bytes ? max_bytes : VS_INTAKE_DEFAULT_LOG_QUEUE;
	/* every domain's queue together: 16 domains' worth, at most 256 MiB (but never less
	 * than one domain's), so that many guests at once cannot take Dom0's memory */
	q->max_total = q->max_bytes * VS_INTAKE_LOG_TOTAL_DOMS;
	if (q->max_total > VS_INTAKE_LOG_TOTAL_MAX)
		q->max_total = VS_INTAKE_LOG_TOTAL_MAX > q->max_bytes ? VS_INTAKE_LOG_TOTAL_MAX :
		    q->max_bytes;
	q->seq = 1;
	return q;
}

void
vs_intake_logs_destroy(vs_intake_logs_t **self_p)
{
	vs_intake_logs_t *q = self_p ? *self_p : NULL;

	if (q == NULL)
		return;
	while (q->head) {
		lbatch_t *b = q->head;
		q->head = b->next;
		free(b);
	}
	for (size_t i = 0; i < VS_AGENTKEYS_MAX; i++)
		free(q->dq[i].st);
	free(q->dq);
	free(q->cur);
	free(q);
	*self_p = NULL;
}

static vs_intake_logstat_t *
s_stat(vs_intake_logs_t *q, uint32_t dom, uint32_t log)
{
	struct dq *d = &q->dq[dom];

	if (d->st == NULL && (d->st = calloc(VS_AGENT_MAX_LOGS, sizeof(*d->st))) == NULL)
		return NULL;
	return &d->st[log];
}

static int
s_abandon(vs_intake_logs_t *q)
{
	free(q->cur);
	q->cur = NULL;
	q->bad++;
	return -EINVAL;
}

/* The string limits: spec, path, logformat, then lines. */
static size_t
s_str_max(size_t i)
{
	return i == 0 ? VS_AGENT_MAX_SPEC_LEN : i == 1 ? VS_AGENT_MAX_LOG_PATH :
	    i == 2 ? VS_AGENT_MAX_LOGFORMAT : VS_AGENT_MAX_LINE;
}

static void
s_evict(vs_intake_logs_t *q, struct dq *d)
{
	lbatch_t *b = d->head;
	vs_intake_logstat_t *st;

	d->head = b->dnext;
	if (d->tail == b)
		d->tail = NULL;
	if (b->prev)
		b->prev->next = b->next;
	else
		q->head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		q->tail = b->prev;
	d->bytes -= b->bytes;
	q->queued -= b->bytes;
	if (!b->fetched && (st = s_stat(q, b->dom, b->b.meta.log)) != NULL)
		st->queue_dropped += b->b.meta.nlines;
	free(b);
}

static int
s_queue(vs_intake_logs_t *q)
{
	lbatch_t *b = q->cur;
	struct dq *d = &q->dq[b->dom];
	vs_intake_logstat_t *st = s_stat(q, b->dom, b->b.meta.log);
	const vs_intake_logmeta_t *m = &b->b.meta;
	char *p = b->data;

	q->cur = NULL;
	if (st == NULL) {
		free(b);
		return -ENOMEM;
	}
	b->b.spec = p;
	p += strlen(p) + 1;
	b->b.path = p;
	p += strlen(p) + 1;
	b->b.logformat = p;
	p += strlen(p) + 1;
	b->b.text = p;
	b->b.text_len = q->cur_len - (size_t)(p - b->data);
	b->b.time_ns = vs_now_ns();
	b->b.seq = q->seq++;
	/* the child refused lines going back; a gap is lines the guest cut or lost */
	if (st->batches > 0 && st->last.session == m->session && st->last.inode == m->inode &&
	    st->last.generation == m->generation) {
		uint64_t next = st->last.first_line + st->last.nlines;
		if (m->first_line > next)
			st->gap_lines += m->first_line - next;
	} else if (m->first_line > 1 && st->batches > 0) {
		st->gap_lines += m->first_line - 1;
	}
	st->log = m->log;
	snprintf(st->path, sizeof(st->path), "%s", b->b.path);
	st->batches++;
	st->lines += m->nlines;
	st->last = *m;
	b->bytes = sizeof(*b) + q->cur_len;
	while (d->head && d->bytes + b->bytes > q->max_bytes)
		s_evict(q, d);
	if (b->bytes > q->max_bytes) {
		st->queue_dropped += m->nlines;
		free(b);
		return 0;
	}
	/* over the total: the oldest batch of any domain goes, counted in its domain's stats */
	while (q->head && q->queued + b->bytes > q->max_total)
		s_evict(q, &q->dq[q->head->dom]);
	b->prev = q->tail;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	if (d->tail)
		d->tail->dnext = b;
	else
		d->head = b;
	d->tail = b;
	d->bytes += b->bytes;
	q->queued += b->bytes;
	return 0;
}

int
vs_intake_logs_rec(vs_intake_logs_t *q, const vs_intake_rec_t *r)
{
	lbatch_t *b = q->cur;

	if (r->dom >= VS_AGENTKEYS_MAX)
		return s_abandon(q);
	switch (r->type) {
	case VS_REC_LOG_BEGIN: {
		size_t cap = r->log.text_bytes + 3 + r->log.nlines;

		if (q->cur)
			s_abandon(q);
		if ((b = malloc(sizeof(*b) + cap + 1)) == NULL) {
			q->bad++;
			return -ENOMEM;
		}
		memset(b, 0, sizeof(*b));
		b->dom = r->dom;
		b->b.meta = r->log;
		q->cur = b;
		q->cur_len = 0;
		q->cur_cap = cap;
		q->str = 0;
		q->str_len = 0;
		return 0;
	}
	case VS_REC_LOG_TEXT:
		if (b == NULL || r->dom != b->dom || q->str >= 3 + (size_t)b->b.meta.nlines ||
		    q->str_len + r->kind > s_str_max(q->str) ||
		    q->cur_len + r->kind + (r->pad ? 1 : 0) > q->cur_cap)
			return b ? s_abandon(q) : (q->bad++, -EINVAL);
		memcpy(b->data + q->cur_len, r->name, r->kind);
		q->cur_len += r->kind;
		q->str_len += r->kind;
		if (r->pad) {
			/* a line must not hold the separator of the strings before */
			b->data[q->cur_len++] = q->str < 3 ? '\0' : '\n';
			q->str++;
			q->str_len = 0;
		}
		return 0;
	default:                        /* VS_REC_LOG_END */
		if (b == NULL || r->dom != b->dom || q->str != 3 + (size_t)b->b.meta.nlines ||
		    r->value != (double)b->b.meta.nlines ||
		    q->cur_len != q->cur_cap)
			return b ? s_abandon(q) : (q->bad++, -EINVAL);
		b->data[q->cur_len] = '\0';
		return s_queue(q);
	}
}

int
vs_intake_logs_each_q(const vs_intake_logs_t *q, char (*names)[VS_KEYDOM_MAX + 1],
    size_t n_names, const char *domain, uint64_t cursor, size_t max_bytes,
    vs_intake_logbatch_fn fn, void *arg, uint64_t *next_r)
{
	size_t bytes = 0;
	lbatch_t *b;
	int rc = 0;

	*next_r = cursor;
	if (cursor == UINT64_MAX) {     /* none: where the batches still to come will start */
		*next_r = q->seq;
		return 0;
	}
	for (b = q->head; b != NULL; b = b->next) {
		if (b->b.seq < cursor || b->dom >= n_names)
			continue;
		if (domain && strcmp(names[b->dom], domain) != 0)
			continue;
		if (bytes > 0 && bytes + b->b.text_len > max_bytes)
			break;
		if ((rc = fn(arg, names[b->dom], &b->b)) != 0)
			break;
		b->fetched = 1;
		bytes += b->b.text_len;
		*next_r = b->b.seq + 1;
	}
	/* everything there was for this filter: the next call starts after the newest */
	if (b == NULL && q->seq > *next_r)
		*next_r = q->seq;
	return rc;
}

int
vs_intake_logs_stats_q(const vs_intake_logs_t *q, char (*names)[VS_KEYDOM_MAX + 1],
    size_t n_names, const char *domain, vs_intake_logstat_fn fn, void *arg)
{
	for (size_t d = 0; d < n_names && d < VS_AGENTKEYS_MAX; d++) {
		if (q->dq[d].st == NULL || (domain && strcmp(names[d], domain) != 0))
			continue;
		for (size_t l = 0; l < VS_AGENT_MAX_LOGS; l++) {
			int rc;
			if (q->dq[d].st[l].batches == 0 && q->dq[d].st[l].queue_dropped == 0)
				continue;
			if ((rc = fn(arg, names[d], &q->dq[d].st[l])) != 0)
				return rc;
		}
	}
	return 0;
}

void
vs_intake_logs_totals_q(const vs_intake_logs_t *q, uint64_t *queued_r, uint64_t *bad_r,
    uint64_t *oldest_r)
{
	*queued_r = q->queued;
	*bad_r = q->bad;
	*oldest_r = q->head ? q->head->b.seq : q->seq;
}
