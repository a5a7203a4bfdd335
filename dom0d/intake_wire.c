/*
 * The intake's decoder: one guest frame in, validated fixed-size records out. Everything
 * here reads untrusted data: the size is checked before protobuf-c sees the frame, every
 * count, name and number after, and records are emitted only once the whole message passed.
 */
#include "intake.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "agent.pb-c.h"
#include "agentkeys.h"
#include "clock.h"

#define MAX_US 1e12                     /* 11.6 days: larger latencies are nonsense */
#define MAX_VALUE 9.0e18                /* stored as int64 */

static const char *s_drop_names[VS_DROP_N] = {
	"none", "oversize", "malformed", "unknown_type", "quota", "unknown_key", "busy",
};

const char *
vs_intake_drop_name(vs_intake_drop_t d)
{
	return (unsigned)d < VS_DROP_N ? s_drop_names[d] : "?";
}

static int
s_namechar(char c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-' || (colon && c == ':');
}

static int
s_name_ok(const char *s, size_t max, int colon)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, max + 1);
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!s_namechar(s[i], colon))
			return 0;
	return 1;
}

int
vs_intake_name_ok(const char *s, size_t max)
{
	return s_name_ok(s, max, 1);
}

static int
s_printable(const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max + 1) : 0;

	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
s_us_ok(double v)
{
	return isfinite(v) && v >= 0 && v <= MAX_US;
}

static int
s_reserved(const char *name)
{
	/* the intake's own counters and the latency summaries have their own records */
	return !strncmp(name, "intake.", 7) || !strncmp(name, "app.latency.", 12);
}

static vs_intake_drop_t
s_bad(char *err, size_t errlen, const char *fmt, const char *what, size_t i)
{
	snprintf(err, errlen, fmt, what, i);
	return VS_DROP_MALFORMED;
}

static vs_intake_logcheck_fn s_logcheck;
static void *s_logcheck_arg;

void
vs_intake_set_logcheck(vs_intake_logcheck_fn fn, void *arg)
{
	s_logcheck = fn;
	s_logcheck_arg = arg;
}

/* A log line: printable ASCII and tab, at most VS_AGENT_MAX_LINE bytes; its length. */
static int
s_line_ok(const char *s, size_t *len_r)
{
	size_t n = s ? strnlen(s, VS_AGENT_MAX_LINE + 1) : 0;

	if (n > VS_AGENT_MAX_LINE)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\t' && ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e))
			return 0;
	*len_r = n;
	return 1;
}

static vs_intake_drop_t
s_validate_log(const Vsagent__LogLines *l, char *err, size_t errlen)
{
	size_t total = 0, n;

	if (l->log >= VS_AGENT_MAX_LOGS)
		return s_bad(err, errlen, "loglines: %s %zu out of range", "log", (size_t)l->log);
	if (l->path == NULL || l->path[0] != '/' || !s_printable(l->path, VS_AGENT_MAX_LOG_PATH))
		return s_bad(err, errlen, "loglines: %s not an absolute printable path of at most"
		    " %zu bytes", "path", (size_t)VS_AGENT_MAX_LOG_PATH);
	if (l->spec && l->spec[0] && !s_name_ok(l->spec, VS_AGENT_MAX_SPEC_LEN, 0))
		return s_bad(err, errlen, "loglines: %s is not 1..%zu of [A-Za-z0-9_.-]",
		    "spec", (size_t)VS_AGENT_MAX_SPEC_LEN);
	if (!s_printable(l->logformat, VS_AGENT_MAX_LOGFORMAT))
		return s_bad(err, errlen, "loglines: %s not printable or over %zu bytes",
		    "logformat", (size_t)VS_AGENT_MAX_LOGFORMAT);
	if ((l->spec == NULL || !l->spec[0]) && (l->logformat == NULL || !l->logformat[0]))
		return s_bad(err, errlen, "loglines: %s%.0zu", "neither spec nor logformat", (size_t)0);
	if (l->n_lines == 0 || l->n_lines > VS_AGENT_MAX_LOG_LINES)
		return s_bad(err, errlen, "loglines: too many or no %s: %zu (1 to 1024)", "lines",
		    l->n_lines);
	if (l->first_line == 0 || l->first_line > (1ULL << 53) - VS_AGENT_MAX_LOG_LINES)
		return s_bad(err, errlen, "loglines: %s out of range%.0zu", "first_line", (size_t)0);
	for (size_t i = 0; i < l->n_lines; i++) {
		if (!s_line_ok(l->lines[i], &n))
			return s_bad(err, errlen, "loglines: %s #%zu: a byte that is not printable "
			    "ASCII or tab, or over 8192 bytes", "line", i);
		total += n;
	}
	if (total > VS_AGENT_MAX_LOG_TEXT)
		return s_bad(err, errlen, "loglines: %s: %zu bytes", "too much text", total);
	return VS_DROP_NONE;
}

/* Samples: the newest sample time the child passed, per domain index (order). */
static int64_t s_sample_last[VS_AGENTKEYS_MAX];

void
vs_intake_samples_reset_order(void)
{
	memset(s_sample_last, 0, sizeof(s_sample_last));
}

static vs_intake_drop_t
s_validate_samples(const Vsagent__Samples *ss, uint32_t dom, char *err, size_t errlen)
{
	int64_t now = vs_now_ns(), prev;

	if (ss->n_samples == 0 || ss->n_samples > VS_AGENT_MAX_SAMPLES)
		return s_bad(err, errlen, "samples: too many or no %s: %zu (1 to 256)", "samples",
		    ss->n_samples);
	if (ss->interval_ms < 1 || ss->interval_ms > 1000)
		return s_bad(err, errlen, "samples: %s %zu not 1..1000 ms", "interval",
		    (size_t)ss->interval_ms);
	prev = dom < VS_AGENTKEYS_MAX ? s_sample_last[dom] : 0;
	for (size_t i = 0; i < ss->n_samples; i++) {
		const Vsagent__Sample *x = ss->samples[i];

		if (x->n_cpu != 8 || x->n_mem != 6)
			return s_bad(err, errlen, "samples: %s #%zu: not 8 cpu and 6 mem values",
			    "sample", i);
		if (x->n_disks > VS_AGENT_MAX_SAMPLE_DEVS || x->n_nets > VS_AGENT_MAX_SAMPLE_DEVS)
			return s_bad(err, errlen, "samples: %s #%zu: over 16 disks or interfaces",
			    "sample", i);
		if (x->ts_ns > now + VS_AGENT_SAMPLE_AHEAD_NS)
			return s_bad(err, errlen, "samples: %s #%zu: time over 10 s ahead of Dom0's",
			    "sample", i);
		if (x->ts_ns < now - VS_AGENT_SAMPLE_BEHIND_NS)
			return s_bad(err, errlen, "samples: %s #%zu: time over 600 s behind Dom0's",
			    "sample", i);
		if (x->ts_ns <= prev)
			return s_bad(err, errlen, "samples: %s #%zu: time not after the previous "
			    "sample's", "sample", i);
		prev = x->ts_ns;
		for (size_t d = 0; d < x->n_disks; d++)
			if (!s_name_ok(x->disks[d]->name, VS_AGENT_MAX_DEV_NAME, 1))
				return s_bad(err, errlen, "samples: %s #%zu: a disk name not 1..31 "
				    "of [A-Za-z0-9_.:-]", "sample", i);
		for (size_t d = 0; d < x->n_nets; d++)
			if (!s_name_ok(x->nets[d]->name, VS_AGENT_MAX_DEV_NAME, 1))
				return s_bad(err, errlen, "samples: %s #%zu: an interface name not "
				    "1..31 of [A-Za-z0-9_.:-]", "sample", i);
	}
	return VS_DROP_NONE;
}

static vs_intake_drop_t
s_validate(const Vsagent__AgentMsg *m, uint32_t dom, char *err, size_t errlen)
{
	if (m->version != VS_AGENT_VERSION) {
		snprintf(err, errlen, "unsupported version %u", m->version);
		return VS_DROP_MALFORMED;
	}
	switch (m->body_case) {
	case VSAGENT__AGENT_MSG__BODY_HELLO: {
		const Vsagent__Hello *h = m->hello;

		if (!s_printable(h->agent_version, 31) || !s_printable(h->hostname, 63))
			return s_bad(err, errlen, "hello: %s not printable or too long%.0zu",
			    "agent_version or hostname", 0);
		if (h->report_interval_ms > 3600000)
			return s_bad(err, errlen, "hello: %s over 1 h%.0zu", "report_interval_ms", 0);
		return VS_DROP_NONE;
	}
	case VSAGENT__AGENT_MSG__BODY_REPORT: {
		const Vsagent__Report *r = m->report;

		if (r->n_latency > VS_AGENT_MAX_LATENCY || r->n_metric > VS_AGENT_MAX_METRICS)
			return s_bad(err, errlen, "report: too many %s (%zu)", "entries",
			    r->n_latency + r->n_metric);
		for (size_t i = 0; i < r->n_latency; i++) {
			const Vsagent__Latency *l = r->latency[i];

			if (!s_name_ok(l->probe, VS_AGENT_MAX_PROBE_LEN, 0))
				return s_bad(err, errlen, "report: %s #%zu: bad name", "latency", i);
			if (!s_us_ok(l->min_us) || !s_us_ok(l->mean_us) || !s_us_ok(l->p50_us) ||
			    !s_us_ok(l->p99_us) || !s_us_ok(l->max_us))
				return s_bad(err, errlen, "report: %s #%zu: a value is not a "
				    "finite number in 0..1e12 us", "latency", i);
			if (l->count > 0 && (l->min_us > l->max_us || l->p50_us > l->p99_us ||
			    l->mean_us < l->min_us || l->mean_us > l->max_us))
				return s_bad(err, errlen, "report: %s #%zu: min <= p50 <= p99 <= max "
				    "and min <= mean <= max do not hold", "latency", i);
			if (l->start_ns < 0 || l->end_ns < l->start_ns)
				return s_bad(err, errlen, "report: %s #%zu: bad interval", "latency", i);
		}
		for (size_t i = 0; i < r->n_metric; i++) {
			const Vsagent__Metric *x = r->metric[i];

			if (!s_name_ok(x->name, VS_AGENT_MAX_METRIC_LEN, 1) || s_reserved(x->name))
				return s_bad(err, errlen, "report: %s #%zu: bad or reserved name",
				    "metric", i);
			if (!isfinite(x->value) || fabs(x->value) > MAX_VALUE)
				return s_bad(err, errlen, "report: %s #%zu: value not finite or too "
				    "large", "metric", i);
			if (x->kind != VSAGENT__KIND__GAUGE && x->kind != VSAGENT__KIND__COUNTER)
				return s_bad(err, errlen, "report: %s #%zu: unknown kind", "metric", i);
			if (x->kind == VSAGENT__KIND__COUNTER && x->value < 0)
				return s_bad(err, errlen, "report: %s #%zu: negative counter",
				    "metric", i);
			if (x->ts_ns < 0)
				return s_bad(err, errlen, "report: %s #%zu: negative time", "metric", i);
		}
		return VS_DROP_NONE;
	}
	case VSAGENT__AGENT_MSG__BODY_LOGLINES:
		return s_validate_log(m->loglines, err, errlen);
	case VSAGENT__AGENT_MSG__BODY_SAMPLES:
		return s_validate_samples(m->samples, dom, err, errlen);
	case VSAGENT__AGENT_MSG__BODY_CONNS: {
		const Vsagent__Conns *c = m->conns;

		if (c->n_conn > VS_AGENT_MAX_CONNS)
			return s_bad(err, errlen, "conns: too many %s (%zu)", "entries", c->n_conn);
		for (size_t i = 0; i < c->n_conn; i++) {
			const Vsagent__Conn *x = c->conn[i];

			if ((x->local_addr.len != 4 && x->local_addr.len != 16) ||
			    x->remote_addr.len != x->local_addr.len)
				return s_bad(err, errlen, "conns: %s #%zu: addresses are not both 4 "
				    "or 16 bytes", "conn", i);
			if (x->local_port > 65535 || x->remote_port > 65535 || x->state < 1 ||
			    x->state > 12)
				return s_bad(err, errlen, "conns: %s #%zu: bad port or state", "conn",
				    i);
		}
		return VS_DROP_NONE;
	}
	default:
		snprintf(err, errlen, "message of unknown type");
		return VS_DROP_UNKNOWN_TYPE;
	}
}

struct emitter {
	vs_intake_emit_fn fn;
	void *arg;
	uint32_t dom;
	size_t n;
};

static void
s_emit(struct emitter *e, const char *name, double value, int kind, int64_t ts)
{
	vs_intake_rec_t r;
	size_t n = strnlen(name, sizeof(r.name) - 1);

	memset(&r, 0, sizeof(r));
	r.type = VS_REC_METRIC;
	r.dom = e->dom;
	memcpy(r.name, name, n);
	r.value = value;
	r.kind = (uint32_t)kind;
	r.ts_ns = ts;
	e->n++;
	if (e->fn)
		e->fn(e->arg, &r);
}

static void
s_emit_latency(struct emitter *e, const Vsagent__Latency *l)
{
	static const char *const part[] = {
		"p50_us", "p99_us", "mean_us", "min_us", "max_us", "count", "errors",
	};
	double v[] = { l->p50_us, l->p99_us, l->mean_us, l->min_us, l->max_us,
		(double)l->count, (double)l->errors };
	char name[VS_INTAKE_NAME_LEN];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* an interval without a successful sample has no latency to report */
		if (l->count == 0 && i < 5)
			continue;
		snprintf(name, sizeof(name), "app.latency.%s.%s", l->probe, part[i]);
		s_emit(e, name, v[i], 0, l->end_ns);
	}
}

static void
s_emit_raw(struct emitter *e, vs_intake_rec_t *r)
{
	r->dom = e->dom;
	e->n++;
	if (e->fn)
		e->fn(e->arg, r);
}

/* The table itself (validated already): BEGIN, one CONN per entry, END. */
static void
s_emit_conns(struct emitter *e, const Vsagent__Conns *c, int64_t ts)
{
	vs_intake_rec_t r;

	memset(&r, 0, sizeof(r));
	r.type = VS_REC_CONNS_BEGIN;
	r.value = (double)c->n_conn;
	r.kind = c->truncated ? 1 : 0;
	r.pad = (uint32_t)c->n_conn;
	r.ts_ns = ts;
	s_emit_raw(e, &r);
	for (size_t i = 0; i < c->n_conn; i++) {
		const Vsagent__Conn *x = c->conn[i];

		memset(&r, 0, sizeof(r));
		r.type = VS_REC_CONN;
		r.ts_ns = ts;
		r.conn.family = x->local_addr.len == 4 ? 4 : 6;
		r.conn.state = (uint8_t)x->state;
		r.conn.local_port = (uint16_t)x->local_port;
		r.conn.remote_port = (uint16_t)x->remote_port;
		memcpy(r.conn.local_addr, x->local_addr.data, x->local_addr.len);
		memcpy(r.conn.remote_addr, x->remote_addr.data, x->remote_addr.len);
		r.conn.rtt_us = x->rtt_us;
		r.conn.bytes_acked = x->bytes_acked;
		r.conn.bytes_received = x->bytes_received;
		s_emit_raw(e, &r);
	}
	memset(&r, 0, sizeof(r));
	r.type = VS_REC_CONNS_END;
	r.value = (double)c->n_conn;
	r.ts_ns = ts;
	s_emit_raw(e, &r);
}

/* One string as TEXT records of up to sizeof(name) bytes; an empty one is one record. */
static void
s_emit_text(struct emitter *e, const char *s, int64_t ts)
{
	vs_intake_rec_t r;
	size_t n = s ? strlen(s) : 0, off = 0;

	do {
		size_t k = n - off > sizeof(r.name) ? sizeof(r.name) : n - off;

		memset(&r, 0, sizeof(r));
		r.type = VS_REC_LOG_TEXT;
		r.ts_ns = ts;
		memcpy(r.name, s + off, k);
		r.kind = (uint32_t)k;
		off += k;
		r.pad = off == n;
		s_emit_raw(e, &r);
	} while (off < n);
}

static void
s_emit_log(struct emitter *e, const Vsagent__LogLines *l, int64_t ts)
{
	vs_intake_rec_t r;
	size_t text = strlen(l->spec ? l->spec : "") + strlen(l->path) +
	    strlen(l->logformat ? l->logformat : "");

	for (size_t i = 0; i < l->n_lines; i++)
		text += strlen(l->lines[i]);
	memset(&r, 0, sizeof(r));
	r.type = VS_REC_LOG_BEGIN;
	r.ts_ns = ts;
	r.log.log = l->log;
	r.log.nlines = (uint32_t)l->n_lines;
	r.log.text_bytes = (uint32_t)text;
	r.log.session = l->session;
	r.log.inode = l->inode;
	r.log.generation = l->generation;
	r.log.first_line = l->first_line;
	r.log.truncations = l->truncations;
	r.log.rotations = l->rotations;
	r.log.cut = l->cut_lines;
	r.log.dropped = l->dropped_lines;
	s_emit_raw(e, &r);
	s_emit_text(e, l->spec, ts);
	s_emit_text(e, l->path, ts);
	s_emit_text(e, l->logformat, ts);
	for (size_t i = 0; i < l->n_lines; i++)
		s_emit_text(e, l->lines[i], ts);
	memset(&r, 0, sizeof(r));
	r.type = VS_REC_LOG_END;
	r.value = (double)l->n_lines;
	r.ts_ns = ts;
	s_emit_raw(e, &r);
}

static void
s_emit_samples(struct emitter *e, const Vsagent__Samples *ss)
{
	vs_intake_rec_t r;

	for (size_t i = 0; i < ss->n_samples; i++) {
		const Vsagent__Sample *x = ss->samples[i];

		memset(&r, 0, sizeof(r));
		r.type = VS_REC_SAMPLE_CPU;
		r.ts_ns = x->ts_ns;
		memcpy(r.sample.v, x->cpu, 8 * sizeof(uint64_t));
		s_emit_raw(e, &r);
		memset(&r, 0, sizeof(r));
		r.type = VS_REC_SAMPLE_MEM;
		r.ts_ns = x->ts_ns;
		memcpy(r.sample.v, x->mem, 6 * sizeof(uint64_t));
		s_emit_raw(e, &r);
		for (size_t d = 0; d < x->n_disks; d++) {
			const Vsagent__DiskSample *k = x->disks[d];
			memset(&r, 0, sizeof(r));
			r.type = VS_REC_SAMPLE_DISK;
			r.ts_ns = x->ts_ns;
			snprintf(r.sample.dev, sizeof(r.sample.dev), "%s", k->name);
			r.sample.v[0] = k->reads;
			r.sample.v[1] = k->read_sectors;
			r.sample.v[2] = k->writes;
			r.sample.v[3] = k->write_sectors;
			r.sample.v[4] = k->io_ms;
			s_emit_raw(e, &r);
		}
		for (size_t d = 0; d < x->n_nets; d++) {
			const Vsagent__NetSample *k = x->nets[d];
			memset(&r, 0, sizeof(r));
			r.type = VS_REC_SAMPLE_NET;
			r.ts_ns = x->ts_ns;
			snprintf(r.sample.dev, sizeof(r.sample.dev), "%s", k->name);
			r.sample.v[0] = k->rx_bytes;
			r.sample.v[1] = k->rx_packets;
			r.sample.v[2] = k->tx_bytes;
			r.sample.v[3] = k->tx_packets;
			s_emit_raw(e, &r);
		}
	}
}

/*
 * protobuf-c allocates every submessage, repeated array and string of a decoded message:
 * a bump arena for them, reset per message, saves the child a malloc/free pair each (most
 * messages fit; what does not goes to malloc and is freed by free_unpacked as usual). The
 * decoder is not reentrant (one per process: the intake child's single thread). Under
 * AddressSanitizer the arena is off so that every allocation stays checked.
 */
#if defined(__SANITIZE_ADDRESS__)
#define USE_ARENA 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define USE_ARENA 0
#endif
#endif
#ifndef USE_ARENA
#define USE_ARENA 1
#endif

#define ARENA_SIZE (256 * 1024)

static struct {
	_Alignas(max_align_t) uint8_t buf[ARENA_SIZE];
	size_t used;
	size_t heap_live;               /* blocks from malloc not yet freed */
} s_arena;

static void *
s_arena_alloc(void *data, size_t size)
{
	size_t need = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
	void *p;

	(void)data;
	if (need >= size && need <= ARENA_SIZE - s_arena.used) {
		p = s_arena.buf + s_arena.used;
		s_arena.used += need;
		return p;
	}
	if ((p = malloc(size ? size : 1)) != NULL)
		s_arena.heap_live++;
	return p;
}

static void
s_arena_free(void *data, void *p)
{
	(void)data;
	if (p == NULL || ((uint8_t *)p >= s_arena.buf && (uint8_t *)p < s_arena.buf + ARENA_SIZE))
		return;
	s_arena.heap_live--;
	free(p);
}

static ProtobufCAllocator s_arena_allocator = { s_arena_alloc, s_arena_free, NULL };

vs_intake_drop_t
vs_intake_decode(const void *buf, size_t len, uint32_t dom, vs_intake_emit_fn emit, void *arg,
    vs_intake_msginfo_t *info_r, char *err, size_t errlen)
{
	Vsagent__AgentMsg *m;
	vs_intake_drop_t rc;
	struct emitter e = { emit, arg, dom, 0 };

	if (info_r)
		memset(info_r, 0, sizeof(*info_r));
	if (len > VS_AGENT_MAX_MSG) {
		snprintf(err, errlen, "frame of %zu bytes (at most %d)", len, VS_AGENT_MAX_MSG);
		return VS_DROP_OVERSIZE;
	}
	s_arena.used = 0;
	m = vsagent__agent_msg__unpack(USE_ARENA ? &s_arena_allocator : NULL, len, buf);
	if (m == NULL) {
		snprintf(err, errlen, "not a valid AgentMsg encoding");
		return VS_DROP_MALFORMED;
	}
	rc = s_validate(m, dom, err, errlen);
	if (rc == VS_DROP_NONE && m->body_case == VSAGENT__AGENT_MSG__BODY_LOGLINES &&
	    s_logcheck != NULL) {
		const Vsagent__LogLines *l = m->loglines;
		vs_intake_loginfo_t li = {
			.log = l->log, .spec = l->spec ? l->spec : "",
			.logformat = l->logformat ? l->logformat : "", .path = l->path,
			.session = l->session, .inode = l->inode, .generation = l->generation,
			.first_line = l->first_line, .nlines = l->n_lines,
		};
		rc = s_logcheck(s_logcheck_arg, dom, &li, err, errlen);
	}
	if (rc != VS_DROP_NONE)
		goto out;
	if (info_r) {
		info_r->body = (int)m->body_case;
		info_r->seq = m->seq;
	}
	if (m->body_case == VSAGENT__AGENT_MSG__BODY_HELLO) {
		if (info_r)
			info_r->report_interval_ms = m->hello->report_interval_ms;
	} else if (m->body_case == VSAGENT__AGENT_MSG__BODY_REPORT) {
		const Vsagent__Report *r = m->report;

		for (size_t i = 0; i < r->n_latency; i++)
			s_emit_latency(&e, r->latency[i]);
		for (size_t i = 0; i < r->n_metric; i++)
			s_emit(&e, r->metric[i]->name, r->metric[i]->value,
			    r->metric[i]->kind == VSAGENT__KIND__COUNTER,
			    r->metric[i]->ts_ns ? r->metric[i]->ts_ns : m->sent_ns);
	} else if (m->body_case == VSAGENT__AGENT_MSG__BODY_CONNS) {
		const Vsagent__Conns *c = m->conns;
		size_t est = 0;

		for (size_t i = 0; i < c->n_conn; i++)
			est += c->conn[i]->state == 1;
		s_emit(&e, "conns.total", (double)c->n_conn, 0, m->sent_ns);
		s_emit(&e, "conns.established", (double)est, 0, m->sent_ns);
		s_emit(&e, "conns.truncated", c->truncated ? 1 : 0, 0, m->sent_ns);
		s_emit_conns(&e, c, m->sent_ns);
	} else if (m->body_case == VSAGENT__AGENT_MSG__BODY_LOGLINES) {
		s_emit_log(&e, m->loglines, m->sent_ns);
	} else if (m->body_case == VSAGENT__AGENT_MSG__BODY_SAMPLES) {
		s_emit_samples(&e, m->samples);
		if (dom < VS_AGENTKEYS_MAX)
			s_sample_last[dom] = m->samples->samples[m->samples->n_samples - 1]->ts_ns;
	}
	if (info_r)
		info_r->n_records = e.n;
out:
	/* with the arena, there is nothing to free unless something went to malloc */
	if (!USE_ARENA)
		vsagent__agent_msg__free_unpacked(m, NULL);
	else if (s_arena.heap_live)
		vsagent__agent_msg__free_unpacked(m, &s_arena_allocator);
	return rc;
}

int
vs_intake_rec_check(const vs_intake_rec_t *r, char *err, size_t errlen)
{
	if (r->type >= VS_REC_SAMPLE_CPU && r->type <= VS_REC_SAMPLE_NET) {
		int64_t now = vs_now_ns();

		if (r->dom == VS_REC_HOST) {
			snprintf(err, errlen, "sample record without a domain");
			return -EINVAL;
		}
		if (r->ts_ns > now + VS_AGENT_SAMPLE_AHEAD_NS ||
		    r->ts_ns < now - VS_AGENT_SAMPLE_BEHIND_NS - 60 * (int64_t)VS_NS_PER_SEC) {
			snprintf(err, errlen, "sample record: time out of range");
			return -EINVAL;
		}
		if (r->type >= VS_REC_SAMPLE_DISK) {
			if (memchr(r->sample.dev, '\0', sizeof(r->sample.dev)) == NULL ||
			    !s_name_ok(r->sample.dev, VS_AGENT_MAX_DEV_NAME, 1)) {
				snprintf(err, errlen, "sample record: a bad device name");
				return -EINVAL;
			}
		} else if (r->sample.dev[0] != '\0') {
			snprintf(err, errlen, "sample record: a device on a cpu or mem record");
			return -EINVAL;
		}
		return 0;
	}
	if (r->type >= VS_REC_LOG_BEGIN && r->type <= VS_REC_LOG_END) {
		if (r->dom == VS_REC_HOST) {
			snprintf(err, errlen, "log record without a domain");
			return -EINVAL;
		}
		if (r->type == VS_REC_LOG_TEXT) {
			if (r->kind > sizeof(r->name) || r->pad > 1) {
				snprintf(err, errlen, "log text record: bad length");
				return -EINVAL;
			}
			for (size_t i = 0; i < r->kind; i++)
				if (r->name[i] != '\t' && ((unsigned char)r->name[i] < 0x20 ||
				    (unsigned char)r->name[i] > 0x7e)) {
					snprintf(err, errlen, "log text record: not printable");
					return -EINVAL;
				}
			return 0;
		}
		if (r->type == VS_REC_LOG_BEGIN && (r->log.log >= VS_AGENT_MAX_LOGS ||
		    r->log.nlines == 0 || r->log.nlines > VS_AGENT_MAX_LOG_LINES ||
		    r->log.first_line == 0 || r->log.text_bytes > VS_AGENT_MAX_MSG)) {
			snprintf(err, errlen, "log record: bad numbers");
			return -EINVAL;
		}
		if (r->type == VS_REC_LOG_END && (!isfinite(r->value) || r->value < 1 ||
		    r->value > VS_AGENT_MAX_LOG_LINES)) {
			snprintf(err, errlen, "log end record: bad count");
			return -EINVAL;
		}
		return 0;
	}
	if (r->type >= VS_REC_CONNS_BEGIN && r->type <= VS_REC_CONNS_END) {
		if (r->dom == VS_REC_HOST) {
			snprintf(err, errlen, "connection record without a domain");
			return -EINVAL;
		}
		if (r->type == VS_REC_CONN) {
			const vs_intake_conn_t *c = &r->conn;

			if ((c->family != 4 && c->family != 6) || c->state < 1 || c->state > 12) {
				snprintf(err, errlen, "connection record: bad family or state");
				return -EINVAL;
			}
			return 0;
		}
		if (!isfinite(r->value) || r->value < 0 || r->value > VS_AGENT_MAX_CONNS ||
		    r->kind > 1 || r->pad > VS_AGENT_MAX_CONNS) {
			snprintf(err, errlen, "connection table record: bad count");
			return -EINVAL;
		}
		return 0;
	}
	if (r->type != VS_REC_METRIC && r->type != VS_REC_STAT) {
		snprintf(err, errlen, "record of type %u", r->type);
		return -EINVAL;
	}
	if (memchr(r->name, '\0', sizeof(r->name)) == NULL ||
	    !s_name_ok(r->name, VS_INTAKE_NAME_LEN - 1, 1)) {
		snprintf(err, errlen, "record with a bad name");
		return -EINVAL;
	}
	if ((r->type == VS_REC_STAT) != (strncmp(r->name, "intake.", 7) == 0)) {
		snprintf(err, errlen, "record %s: only the intake's own counters are intake.*",
		    r->name);
		return -EINVAL;
	}
	if (r->type == VS_REC_METRIC && r->dom == VS_REC_HOST) {
		snprintf(err, errlen, "guest record %s without a domain", r->name);
		return -EINVAL;
	}
	if (!isfinite(r->value) || fabs(r->value) > MAX_VALUE || r->kind > 1 ||
	    (r->kind == 1 && r->value < 0)) {
		snprintf(err, errlen, "record %s: bad value or kind", r->name);
		return -EINVAL;
	}
	return 0;
}
