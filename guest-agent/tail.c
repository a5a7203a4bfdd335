/*
 * vscope-agent's log tails (tail.h has the rules). Everything is bounded: the partial line
 * (VS_AGENT_MAX_LINE), what one poll reads (VS_TAIL_READ) and the backlog (VS_TAIL_BACKLOG,
 * plus at most one poll's reading over it).
 */
#include "tail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "log.h"

/* Consecutive lines of one generation, NUL-terminated one after the other in buf. */
typedef struct seg {
	struct seg *next;
	uint64_t inode, generation, first_line;
	size_t n;                       /* lines from pos on */
	size_t pos, len, cap;
	char *buf;
} seg_t;

struct vs_tail {
	vs_tail_spec_t spec;
	uint32_t index;
	uint64_t session;
	int fd;
	int opened_once;
	dev_t dev;
	ino_t ino;
	off_t off;
	char fhead[VS_TAIL_HEAD];       /* the file's first bytes, as far as read: copytruncate */
	size_t fhead_len;
	uint64_t generation;
	uint64_t lineno;                /* the number the next whole line gets */
	char part[VS_AGENT_MAX_LINE];
	size_t plen;
	int cutting;                    /* inside a line longer than the bound */
	int64_t next_poll;
	seg_t *head, *tail;
	vs_tail_stats_t st;
	char *rbuf;
};

/* ---- the directive ---------------------------------------------------------------------- */

static int
s_spec_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= VS_AGENT_MAX_SPEC_LEN && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int
vs_tail_spec_parse(const char *v, vs_tail_spec_t *s, char *err, size_t errlen)
{
	const char *p = v;
	size_t n;

	memset(s, 0, sizeof(*s));
	n = strcspn(p, " \t");
	if (n == 0 || p[0] != '/') {
		snprintf(err, errlen, "log: the first word must be the file's absolute path");
		return -EINVAL;
	}
	if (n > VS_AGENT_MAX_LOG_PATH) {
		snprintf(err, errlen, "log: path longer than %d bytes", VS_AGENT_MAX_LOG_PATH);
		return -EINVAL;
	}
	memcpy(s->path, p, n);
	p += n;
	for (;;) {
		char key[16], val[VS_AGENT_MAX_LOGFORMAT + 1];
		size_t k = 0, m = 0;

		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		while (*p && *p != '=' && *p != ' ' && *p != '\t' && k < sizeof(key) - 1)
			key[k++] = *p++;
		key[k] = '\0';
		if (*p != '=') {
			snprintf(err, errlen, "log %s: '%s' is not KEY=VALUE", s->path, key);
			return -EINVAL;
		}
		p++;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				if (m == sizeof(val) - 1) {
					snprintf(err, errlen, "log %s: %s longer than %zu bytes", s->path,
					    key, sizeof(val) - 1);
					return -EINVAL;
				}
				val[m++] = *p;
			}
			if (*p != '"') {
				snprintf(err, errlen, "log %s: %s: no closing quote", s->path, key);
				return -EINVAL;
			}
			p++;
		} else {
			while (*p && *p != ' ' && *p != '\t') {
				if (m == sizeof(val) - 1) {
					snprintf(err, errlen, "log %s: %s too long", s->path, key);
					return -EINVAL;
				}
				val[m++] = *p++;
			}
		}
		val[m] = '\0';
		if (strcmp(key, "spec") == 0) {
			if (!s_spec_name_ok(val)) {
				snprintf(err, errlen, "log %s: spec must be 1..%d of [A-Za-z0-9_.-]",
				    s->path, VS_AGENT_MAX_SPEC_LEN);
				return -EINVAL;
			}
			strcpy(s->spec, val);
		} else if (strcmp(key, "logformat") == 0) {
			for (size_t i = 0; i < m; i++) {
				if ((unsigned char)val[i] < 0x20 || (unsigned char)val[i] > 0x7e) {
					snprintf(err, errlen, "log %s: logformat has a control character",
					    s->path);
					return -EINVAL;
				}
			}
			if (m == 0) {
				snprintf(err, errlen, "log %s: empty logformat", s->path);
				return -EINVAL;
			}
			strcpy(s->logformat, val);
		} else if (strcmp(key, "from") == 0) {
			if (strcmp(val, "start") == 0)
				s->from_start = 1;
			else if (strcmp(val, "end") == 0)
				s->from_start = 0;
			else {
				snprintf(err, errlen, "log %s: from must be start or end", s->path);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "log %s: unknown option '%s' (spec, logformat, from)",
			    s->path, key);
			return -EINVAL;
		}
	}
	if (s->spec[0] == '\0' && s->logformat[0] == '\0') {
		snprintf(err, errlen, "log %s: needs spec=NAME or logformat=\"...\"", s->path);
		return -EINVAL;
	}
	return 0;
}

/* ---- the backlog ---------------------------------------------------------------------- */

static void
s_add_line(vs_tail_t *t, const char *s, size_t n)
{
	seg_t *g = t->tail;
	size_t need = n + 1;

	t->st.lines++;
	if (g == NULL || g->inode != (uint64_t)t->ino || g->generation != t->generation ||
	    g->first_line + g->n != t->lineno || g->n == VS_AGENT_MAX_LOG_LINES * 64) {
		g = calloc(1, sizeof(*g));
		if (g == NULL) {
			t->st.dropped++;
			t->lineno++;
			return;
		}
		g->inode = (uint64_t)t->ino;
		g->generation = t->generation;
		g->first_line = t->lineno;
		if (t->tail)
			t->tail->next = g;
		else
			t->head = g;
		t->tail = g;
	}
	if (g->len + need > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		char *nb;

		while (cap < g->len + need)
			cap *= 2;
		if ((nb = realloc(g->buf, cap)) == NULL) {
			t->st.dropped++;
			t->lineno++;
			return;
		}
		g->buf = nb;
		g->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* what Dom0 accepts: printable ASCII and tab (Apache and nginx escape the rest) */
		g->buf[g->len + i] = (c == '\t' || (c >= 0x20 && c <= 0x7e)) ? (char)c : '?';
	}
	g->buf[g->len + n] = '\0';
	g->len += need;
	g->n++;
	t->st.backlog_bytes += need;
	t->lineno++;
}

int
vs_tail_peek(vs_tail_t *t, size_t max_bytes, vs_tail_batch_t *b)
{
	seg_t *g = t->head;
	size_t pos, bytes = 0;

	b->n = 0;
	if (g == NULL || g->n == 0)
		return -ENOENT;
	b->inode = g->inode;
	b->generation = g->generation;
	b->first_line = g->first_line;
	pos = g->pos;
	while (b->n < g->n && b->n < VS_AGENT_MAX_LOG_LINES) {
		size_t l = strlen(g->buf + pos);
		if (b->n > 0 && bytes + l > max_bytes)
			break;
		b->lines[b->n++] = g->buf + pos;
		bytes += l;
		pos += l + 1;
	}
	return 0;
}

void
vs_tail_consume(vs_tail_t *t, size_t n)
{
	seg_t *g = t->head;

	while (g != NULL && n > 0 && g->n > 0) {
		size_t l = strlen(g->buf + g->pos) + 1;
		g->pos += l;
		g->n--;
		g->first_line++;
		t->st.backlog_bytes -= l;
		t->st.sent++;
		n--;
	}
	if (g != NULL && g->n == 0) {
		t->head = g->next;
		if (t->tail == g)
			t->tail = NULL;
		free(g->buf);
		free(g);
	}
}

int
vs_tail_msg(vs_tail_t *t, Vsagent__AgentMsg *m, Vsagent__LogLines *ll, vs_tail_batch_t *b)
{
	if (vs_tail_peek(t, VS_AGENT_MAX_LOG_TEXT, b) < 0)
		return -ENOENT;
	vsagent__log_lines__init(ll);
	ll->log = t->index;
	ll->path = t->spec.path;
	ll->spec = t->spec.spec;
	ll->logformat = t->spec.logformat;
	ll->session = t->session;
	ll->inode = b->inode;
	ll->generation = b->generation;
	ll->first_line = b->first_line;
	ll->n_lines = b->n;
	ll->lines = (char **)b->lines;
	ll->truncations = t->st.truncations;
	ll->rotations = t->st.rotations;
	ll->cut_lines = t->st.cut;
	ll->dropped_lines = t->st.dropped;
	m->body_case = VSAGENT__AGENT_MSG__BODY_LOGLINES;
	m->loglines = ll;
	return 0;
}

/* ---- reading ------------------------------------------------------------------------ */

static void
s_bytes(vs_tail_t *t, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		if (!t->cutting && t->plen + k > VS_AGENT_MAX_LINE) {
			t->cutting = 1;
			t->plen = 0;
		}
		if (!t->cutting) {
			memcpy(t->part + t->plen, p, k);
			t->plen += k;
		}
		if (nl == NULL)
			return;
		if (t->cutting) {
			t->st.cut++;
			t->lineno++;
			t->cutting = 0;
		} else {
			size_t l = t->plen;
			if (l > 0 && t->part[l - 1] == '\r')
				l--;
			s_add_line(t, t->part, l);
		}
		t->plen = 0;
		p += k + 1;
		n -= k + 1;
	}
}

/* The rest of a file that is going away: its partial last line is a line. */
static void
s_finish(vs_tail_t *t)
{
	if (t->cutting) {
		t->st.cut++;
		t->lineno++;
	} else if (t->plen > 0) {
		s_add_line(t, t->part, t->plen);
	}
	t->plen = 0;
	t->cutting = 0;
}

static int
s_open(vs_tail_t *t)
{
	struct stat st;
	int fd = open(t->spec.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	t->fd = fd;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->fhead_len = 0;
	/* the file there at start, with from=end: only what is written from now on */
	t->off = !t->opened_once && !t->spec.from_start ? st.st_size : 0;
	if (t->opened_once) {
		t->generation++;
		t->lineno = 1;
	}
	t->opened_once = 1;
	vs_debug("log %s: following inode %llu from offset %lld", t->spec.path,
	    (unsigned long long)st.st_ino, (long long)t->off);
	return 0;
}

/* 1 when the file's first bytes are not the ones seen before: truncated and written again
 * past the old offset between two polls, which its size alone does not show. The bytes
 * below the offset are kept (up to VS_TAIL_HEAD) and compared at every poll. */
static int
s_head_changed(vs_tail_t *t)
{
	char b[VS_TAIL_HEAD];
	size_t want = t->off < (off_t)sizeof(b) ? (size_t)t->off : sizeof(b);
	ssize_t r;

	if (want == 0)
		return 0;
	r = pread(t->fd, b, want, 0);
	if (r < 0)
		return 0;
	if ((size_t)r < t->fhead_len || memcmp(b, t->fhead, t->fhead_len) != 0)
		return 1;
	if ((size_t)r > t->fhead_len) {
		memcpy(t->fhead, b, (size_t)r);
		t->fhead_len = (size_t)r;
	}
	return 0;
}

/* 1 when the path names another file than the one open (a new one is there). */
static int
s_rotated(vs_tail_t *t)
{
	struct stat st;

	if (stat(t->spec.path, &st) < 0)
		return 0;               /* renamed, the new one not there yet: keep reading */
	return st.st_ino != t->ino || st.st_dev != t->dev;
}

void
vs_tail_poll(vs_tail_t *t, int64_t now)
{
	size_t budget = VS_TAIL_READ;
	struct stat st;

	if (now < t->next_poll)
		return;
	t->next_poll = now + VS_TAIL_POLL_NS;
	if (t->fd < 0) {
		if (s_open(t) < 0)
			return;
	}
	for (int first = 1; budget > 0 && t->st.backlog_bytes < VS_TAIL_BACKLOG; first = 0) {
		ssize_t r;

		if ((fstat(t->fd, &st) == 0 && st.st_size < t->off) || (first && s_head_changed(t))) {
			/* copytruncate or "> file": what was written since we last read is gone */
			t->st.truncations++;
			t->generation++;
			t->lineno = 1;
			t->off = 0;
			t->fhead_len = 0;
			t->plen = 0;
			t->cutting = 0;
			vs_info("log %s: truncated; reading again from its start", t->spec.path);
		}
		r = pread(t->fd, t->rbuf, budget < 65536 ? budget : 65536, t->off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0) {
			s_bytes(t, t->rbuf, (size_t)r);
			t->off += r;
			budget -= (size_t)r;
			continue;
		}
		/* at the end of the open file: was it rotated away? */
		if (!s_rotated(t))
			return;
		s_finish(t);
		close(t->fd);
		t->fd = -1;
		t->st.rotations++;
		vs_info("log %s: rotated; following the new file", t->spec.path);
		if (s_open(t) < 0)
			return;
	}
	/* more to read: come back soon, after the other work of the loop */
	t->next_poll = now + VS_TAIL_POLL_NS / 100;
}

/* ---- the object ------------------------------------------------------------------------ */

vs_tail_t *
vs_tail_new(const vs_tail_spec_t *spec, uint32_t index, uint64_t session)
{
	vs_tail_t *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->rbuf = malloc(65536)) == NULL) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->spec = *spec;
	t->index = index;
	t->session = session;
	t->fd = -1;
	t->lineno = 1;
	/* the file as it is now: from=end starts at its end, even if the first poll is later */
	int rc = s_open(t);
	if (rc < 0 && rc != -ENOENT)
		vs_warn("log %s: %s; trying again every %lld ms", spec->path, strerror(-rc),
		    (long long)(VS_TAIL_POLL_NS / 1000000));
	t->opened_once = 1;
	return t;
}

void
vs_tail_destroy(vs_tail_t **self_p)
{
	vs_tail_t *t = self_p ? *self_p : NULL;

	if (t == NULL)
		return;
	while (t->head) {
		seg_t *g = t->head;
		t->head = g->next;
		free(g->buf);
		free(g);
	}
	if (t->fd >= 0)
		close(t->fd);
	free(t->rbuf);
	free(t);
	*self_p = NULL;
}

int64_t vs_tail_deadline(const vs_tail_t *t) { return t->next_poll; }
const vs_tail_spec_t *vs_tail_spec(const vs_tail_t *t) { return &t->spec; }
uint32_t vs_tail_index(const vs_tail_t *t) { return t->index; }
uint64_t vs_tail_session(const vs_tail_t *t) { return t->session; }
const vs_tail_stats_t *vs_tail_stats(const vs_tail_t *t) { return &t->st; }
