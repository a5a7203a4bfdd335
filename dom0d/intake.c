/*
 * The guest intake: the unprivileged child that faces the guests, and the parent's handle on
 * it (intake.h has the picture). The child is vscoped re-executed with --intake-child, so it
 * starts from a clean image holding nothing of the parent's but the socketpair.
 */
#include "intake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "agent.pb-c.h"
#include "clock.h"
#include "log.h"

/* ---- parent <-> child key table messages -------------------------------------------- */

#define KT_BEGIN 1
#define KT_ENTRY 2
#define KT_END   3
#define KT_CHUNK 128                    /* entries per datagram */

typedef struct kt_entry {
	uint32_t dom;
	char domain[VS_KEYDOM_MAX + 1];
	char key[VS_Z85_KEY_LEN + 1];
} kt_entry_t;

typedef struct kt_msg {
	uint32_t magic;
	uint32_t type;
	uint32_t n;                     /* entries in this datagram (ENTRY), or in total (BEGIN) */
	uint32_t pad;
	kt_entry_t e[KT_CHUNK];
} kt_msg_t;

#define CHILD_ZAP "inproc://zeromq.zap.01"
#define HWM VS_INTAKE_RCVHWM
#define GUEST_ROUND 1024                /* guest messages per wakeup, then the parent and ZAP */
#define NAME_SLOTS (2 * VS_AGENTKEYS_MAX) /* open addressing, a power of two */

/* ========================================================================================
 * The child
 * ======================================================================================== */

typedef struct cdom {
	uint32_t dom;
	char domain[VS_KEYDOM_MAX + 1];
	uint8_t key[32];
	vs_bucket_t msgs, bytes;
	uint64_t drops[VS_DROP_N];
	uint64_t accepted, accepted_bytes;
	int dirty;
} cdom_t;

typedef struct child {
	int fd;
	vs_intake_cfgmsg_t cfg;
	cdom_t *doms;
	size_t n_doms;
	int32_t *by_name;               /* NAME_SLOTS: index in doms + 1 by the domain's hash */
	kt_entry_t *pending;            /* a table being received */
	size_t n_pending, want_pending;
	uint64_t unknown_key;
	int unknown_dirty;
	vs_intake_rec_t batch[VS_INTAKE_BATCH];
	size_t n_batch;
	uint64_t busy_lost;
	uint32_t conns_left;            /* CONN records still to forward of the current table */
	void *router;
} child_t;

static void
s_child_flush(child_t *c)
{
	if (c->n_batch == 0)
		return;
	if (send(c->fd, c->batch, c->n_batch * sizeof(c->batch[0]), MSG_DONTWAIT) < 0)
		c->busy_lost += c->n_batch;     /* the parent is behind: never block on it */
	c->n_batch = 0;
}

static void
s_child_rec(child_t *c, const vs_intake_rec_t *r)
{
	c->batch[c->n_batch++] = *r;
	if (c->n_batch == VS_INTAKE_BATCH)
		s_child_flush(c);
}

/* Records of an accepted message; a connection table is cut to max_conns entries here. */
static int
s_child_emit(void *arg, const vs_intake_rec_t *r)
{
	child_t *c = arg;
	vs_intake_rec_t t;

	switch (r->type) {
	case VS_REC_CONNS_BEGIN:
	case VS_REC_CONNS_END:
		t = *r;         /* value: the entries forwarded; BEGIN's pad: the guest's count */
		if (t.value > c->cfg.max_conns)
			t.value = c->cfg.max_conns;
		if (r->type == VS_REC_CONNS_BEGIN)
			c->conns_left = (uint32_t)t.value;
		s_child_rec(c, &t);
		return 0;
	case VS_REC_CONN:
		if (c->conns_left == 0)
			return 0;
		c->conns_left--;
		break;
	default:
		break;
	}
	s_child_rec(c, r);
	return 0;
}

static void
s_child_simple(child_t *c, uint32_t type, uint32_t dom, const char *name, double value, int kind)
{
	vs_intake_rec_t r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.dom = dom;
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.value = value;
	r.kind = (uint32_t)kind;
	r.ts_ns = vs_now_ns();
	s_child_rec(c, &r);
}

static void
s_child_fatal(int fd, const char *fmt, const char *what, const char *why)
{
	vs_intake_rec_t r;

	memset(&r, 0, sizeof(r));
	r.type = VS_REC_ERROR;
	r.dom = VS_REC_HOST;
	snprintf(r.name, sizeof(r.name), fmt, what, why);
	(void)send(fd, &r, sizeof(r), 0);
	vs_err("intake: %s", r.name);
}

static cdom_t *
s_child_find_key(child_t *c, const uint8_t *key)
{
	for (size_t i = 0; i < c->n_doms; i++)
		if (!memcmp(c->doms[i].key, key, 32))
			return &c->doms[i];
	return NULL;
}

static uint32_t
s_name_hash(const char *s)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* Every guest message looks its domain up by the ZAP User-Id: a hash, then one strcmp. */
static cdom_t *
s_child_find_name(child_t *c, const char *name)
{
	if (c->by_name == NULL)
		return NULL;
	for (uint32_t h = s_name_hash(name), k = 0; k < NAME_SLOTS; k++) {
		int32_t i = c->by_name[(h + k) & (NAME_SLOTS - 1)];

		if (i == 0)
			return NULL;
		if (!strcmp(c->doms[i - 1].domain, name))
			return &c->doms[i - 1];
	}
	return NULL;
}

static void
s_child_index(child_t *c)
{
	if (c->by_name == NULL && (c->by_name = calloc(NAME_SLOTS, sizeof(int32_t))) == NULL)
		return;
	memset(c->by_name, 0, NAME_SLOTS * sizeof(int32_t));
	for (size_t i = 0; i < c->n_doms; i++) {
		uint32_t h = s_name_hash(c->doms[i].domain);

		for (uint32_t k = 0; k < NAME_SLOTS; k++) {
			int32_t *slot = &c->by_name[(h + k) & (NAME_SLOTS - 1)];

			if (*slot == 0) {
				*slot = (int32_t)i + 1;
				break;
			}
		}
	}
}

/* Installs the table just received; domains that stay keep their buckets and counters. */
static void
s_child_install(child_t *c)
{
	cdom_t *n = calloc(c->n_pending ? c->n_pending : 1, sizeof(*n));
	int64_t now = vs_mono_ns();

	if (n == NULL)
		return;
	for (size_t i = 0; i < c->n_pending; i++) {
		cdom_t *old = s_child_find_name(c, c->pending[i].domain);

		if (old)
			n[i] = *old;
		else {
			vs_bucket_init(&n[i].msgs, c->cfg.max_msgs, c->cfg.max_msgs, now);
			vs_bucket_init(&n[i].bytes, c->cfg.max_bytes, c->cfg.max_bytes, now);
		}
		n[i].dom = c->pending[i].dom;
		snprintf(n[i].domain, sizeof(n[i].domain), "%s", c->pending[i].domain);
		zmq_z85_decode(n[i].key, c->pending[i].key);
	}
	free(c->doms);
	c->doms = n;
	c->n_doms = c->n_pending;
	s_child_index(c);
	vs_info("intake: %zu guest keys", c->n_doms);
}

/* One datagram from the parent. -1: the parent is gone or spoke nonsense. */
static int
s_child_parent(child_t *c)
{
	static kt_msg_t m;
	ssize_t n = recv(c->fd, &m, sizeof(m), MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	if ((size_t)n < offsetof(kt_msg_t, e) || m.magic != VS_INTAKE_MAGIC)
		return -1;
	switch (m.type) {
	case KT_BEGIN:
		if (m.n > VS_AGENTKEYS_MAX)
			return -1;
		free(c->pending);
		c->pending = calloc(m.n ? m.n : 1, sizeof(*c->pending));
		if (c->pending == NULL)
			return -1;
		c->n_pending = 0;
		c->want_pending = m.n;
		return 0;
	case KT_ENTRY:
		if (c->pending == NULL || m.n > KT_CHUNK ||
		    (size_t)n != offsetof(kt_msg_t, e) + m.n * sizeof(kt_entry_t) ||
		    c->n_pending + m.n > c->want_pending)
			return -1;
		for (uint32_t i = 0; i < m.n; i++) {
			kt_entry_t *e = &m.e[i];

			e->domain[VS_KEYDOM_MAX] = '\0';
			e->key[VS_Z85_KEY_LEN] = '\0';
			if (!vs_keydom_ok(e->domain) || !vs_z85_key_ok(e->key))
				continue;
			c->pending[c->n_pending++] = *e;
		}
		return 0;
	case KT_END:
		if (c->pending == NULL)
			return -1;
		s_child_install(c);
		free(c->pending);
		c->pending = NULL;
		return 0;
	default:
		return -1;
	}
}

static int
s_frame_str(zmq_msg_t *f, const char *s)
{
	return zmq_msg_size(f) == strlen(s) && !memcmp(zmq_msg_data(f), s, strlen(s));
}

/* One ZAP request: admit a CURVE client only if its key is in the table. */
static void
s_child_zap(child_t *c, void *zap)
{
	zmq_msg_t f[8];
	int n = 0, more = 1;
	cdom_t *d = NULL;
	const char *code = "400", *text = "unknown key", *user = "";

	while (more && n < 8) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], zap, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[n]);
			break;
		}
		more = zmq_msg_more(&f[n]);
		n++;
	}
	while (more) {                  /* more frames than ZAP has: drain them */
		zmq_msg_t x;

		zmq_msg_init(&x);
		if (zmq_msg_recv(&x, zap, ZMQ_DONTWAIT) < 0)
			more = 0;
		else
			more = zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	if (n < 7)
		goto out;
	if (s_frame_str(&f[5], "CURVE") && zmq_msg_size(&f[6]) == 32)
		d = s_child_find_key(c, zmq_msg_data(&f[6]));
	if (d) {
		code = "200";
		text = "OK";
		user = d->domain;
	} else {
		c->unknown_key++;
		c->unknown_dirty = 1;
	}
	zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
	zmq_send(zap, code, 3, ZMQ_SNDMORE);
	zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(zap, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(zap, "", 0, 0);
out:
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

static void
s_child_hello_ack(child_t *c, zmq_msg_t *rid, const cdom_t *d)
{
	Vsagent__HelloAck a = VSAGENT__HELLO_ACK__INIT;
	uint8_t buf[256];
	size_t len;

	a.version = VS_AGENT_VERSION;
	a.domain = (char *)d->domain;
	a.max_msgs_per_s = c->cfg.max_msgs;
	a.max_bytes_per_s = c->cfg.max_bytes;
	if (vsagent__hello_ack__get_packed_size(&a) > sizeof(buf))
		return;
	len = vsagent__hello_ack__pack(&a, buf);
	/* a full pipe loses the ack, never blocks the intake */
	if (zmq_send(c->router, zmq_msg_data(rid), zmq_msg_size(rid),
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) == (int)zmq_msg_size(rid))
		zmq_send(c->router, buf, len, ZMQ_DONTWAIT);
}

static void
s_child_drop(child_t *c, cdom_t *d, vs_intake_drop_t why)
{
	if (d) {
		d->drops[why]++;
		d->dirty = 1;
	} else {
		c->unknown_key++;
		c->unknown_dirty = 1;
	}
}

/* One guest message (routing id + one data frame). */
static int
s_child_guest(child_t *c)
{
	zmq_msg_t rid, data;
	int more, rc = 0;
	const char *user;
	cdom_t *d;
	char err[160];
	vs_intake_drop_t why;
	vs_intake_msginfo_t info;
	int64_t now;
	size_t len;

	zmq_msg_init(&rid);
	zmq_msg_init(&data);
	if (zmq_msg_recv(&rid, c->router, ZMQ_DONTWAIT) < 0) {
		rc = -1;
		goto out;
	}
	if (!zmq_msg_more(&rid) || zmq_msg_recv(&data, c->router, ZMQ_DONTWAIT) < 0)
		goto out;
	more = zmq_msg_more(&data);
	user = zmq_msg_gets(&data, "User-Id");
	d = user ? s_child_find_name(c, user) : NULL;
	while (more) {                  /* a multi-part message is not ours: drain and drop */
		zmq_msg_t x;

		zmq_msg_init(&x);
		more = zmq_msg_recv(&x, c->router, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&x);
		zmq_msg_close(&x);
		if (d) {
			d->drops[VS_DROP_MALFORMED]++;
			d->dirty = 1;
		}
		d = NULL;
	}
	if (d == NULL) {                /* its key was unbound since it connected */
		if (user && !s_child_find_name(c, user))
			s_child_drop(c, NULL, VS_DROP_UNKNOWN_KEY);
		goto out;
	}
	len = zmq_msg_size(&data);
	now = vs_mono_ns();
	/* the quota is checked before any decoding, so a flood costs us as little as it can */
	if (!vs_bucket_take(&d->msgs, 1, now) ||
	    !vs_bucket_take(&d->bytes, (double)(len < 1 ? 1 : len), now)) {
		s_child_drop(c, d, VS_DROP_QUOTA);
		goto out;
	}
	why = vs_intake_decode(zmq_msg_data(&data), len, d->dom, s_child_emit, c, &info, err,
	    sizeof(err));
	if (why != VS_DROP_NONE) {
		s_child_drop(c, d, why);
		vs_debug("intake: %s: dropped (%s): %s", d->domain, vs_intake_drop_name(why), err);
		goto out;
	}
	d->accepted++;
	d->accepted_bytes += len;
	d->dirty = 1;
	if (info.body == VSAGENT__AGENT_MSG__BODY_HELLO)
		s_child_hello_ack(c, &rid, d);
out:
	zmq_msg_close(&rid);
	zmq_msg_close(&data);
	return rc;
}

static void
s_child_stats(child_t *c)
{
	char name[VS_INTAKE_NAME_LEN];

	for (size_t i = 0; i < c->n_doms; i++) {
		cdom_t *d = &c->doms[i];

		if (!d->dirty)
			continue;
		d->dirty = 0;
		d->drops[VS_DROP_BUSY] = c->busy_lost;  /* not per domain: shown on each */
		for (int k = VS_DROP_OVERSIZE; k < VS_DROP_N; k++) {
			if (k == VS_DROP_UNKNOWN_KEY)
				continue;
			snprintf(name, sizeof(name), "intake.drop.%s", vs_intake_drop_name(k));
			s_child_simple(c, VS_REC_STAT, d->dom, name, (double)d->drops[k], 1);
		}
		s_child_simple(c, VS_REC_STAT, d->dom, "intake.msgs", (double)d->accepted, 1);
		s_child_simple(c, VS_REC_STAT, d->dom, "intake.bytes", (double)d->accepted_bytes, 1);
	}
	if (c->unknown_dirty) {
		c->unknown_dirty = 0;
		s_child_simple(c, VS_REC_STAT, VS_REC_HOST, "intake.drop.unknown_key",
		    (double)c->unknown_key, 1);
	}
	s_child_flush(c);
}

/* Drops root for good: supplementary groups, gid, uid, and no way back through exec. */
static int
s_child_drop_privs(int fd, const char *user, uid_t *uid_r)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		vs_warn("intake: user %s does not exist; running as nobody (create it with "
		    "useradd --system --no-create-home --shell /usr/sbin/nologin %s)", user, user);
		pw = getpwnam("nobody");
	}
	if (geteuid() != 0) {
		vs_warn("intake: not started as root; running as uid %u", (unsigned)geteuid());
	} else if (pw == NULL) {
		s_child_fatal(fd, "no user %s and no nobody%s", user, "");
		return -1;
	} else if (pw->pw_uid == 0) {
		s_child_fatal(fd, "intake-user %s is root%s", user, "");
		return -1;
	} else if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		s_child_fatal(fd, "dropping privileges to %s: %s", pw->pw_name, strerror(errno));
		return -1;
	}
	if (geteuid() == 0 || getuid() == 0 || setuid(0) == 0) {
		s_child_fatal(fd, "still root after dropping privileges%s%s", "", "");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		s_child_fatal(fd, "PR_SET_NO_NEW_PRIVS: %s%s", strerror(errno), "");
		return -1;
	}
	*uid_r = geteuid();
	return 0;
}

int
vs_intake_child_main(int fd)
{
	child_t c;
	void *zctx = NULL, *zap = NULL;
	int one = 1, zero = 0, hwm = HWM, rc = 1;
	int64_t maxmsg = 4 * VS_AGENT_MAX_MSG, next_stats;
	uid_t uid = 0;
	ssize_t n;
	struct pollfd pfd = { fd, POLLIN, 0 };
	vs_intake_logcheck_t *logcheck = NULL;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (poll(&pfd, 1, 10000) != 1 || (n = recv(fd, &c.cfg, sizeof(c.cfg), 0)) !=
	    (ssize_t)sizeof(c.cfg) || c.cfg.magic != VS_INTAKE_MAGIC) {
		fprintf(stderr, "vscoped --intake-child: no configuration from the parent\n");
		return 2;
	}
	c.cfg.endpoint[sizeof(c.cfg.endpoint) - 1] = '\0';
	c.cfg.user[sizeof(c.cfg.user) - 1] = '\0';
	c.cfg.secret_key[VS_Z85_KEY_LEN] = '\0';
	if (c.cfg.max_conns == 0 || c.cfg.max_conns > VS_AGENT_MAX_CONNS)
		c.cfg.max_conns = VS_INTAKE_DEFAULT_MAX_CONNS;
	vs_log_open("vscoped-intake", c.cfg.use_syslog, c.cfg.log_level);
	/* LogLines: the spec names the parent sent, logformats derived here (intake_logs.c) */
	if ((logcheck = vs_intake_logcheck_new(&c.cfg)) == NULL) {
		s_child_fatal(fd, "%s: %s", "log check", "out of memory");
		return 1;
	}
	vs_intake_set_logcheck(vs_intake_logcheck, logcheck);

	zctx = zmq_ctx_new();
	/* CURVE decryption runs in the I/O threads: spread the guests' connections over them */
	zmq_ctx_set(zctx, ZMQ_IO_THREADS, VS_INTAKE_IO_THREADS);
	zap = zmq_socket(zctx, ZMQ_REP);
	if (zap == NULL || zmq_bind(zap, CHILD_ZAP) < 0) {
		s_child_fatal(fd, "ZAP handler %s: %s", CHILD_ZAP, zmq_strerror(errno));
		goto out;
	}
	c.router = zmq_socket(zctx, ZMQ_ROUTER);
	zmq_setsockopt(c.router, ZMQ_CURVE_SERVER, &one, sizeof(one));
	zmq_setsockopt(c.router, ZMQ_CURVE_SECRETKEY, c.cfg.secret_key, VS_Z85_KEY_LEN + 1);
	zmq_setsockopt(c.router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	zmq_setsockopt(c.router, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(c.router, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(c.router, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(c.router, ZMQ_ZAP_DOMAIN, "vscope-intake", 13);
	if (zmq_bind(c.router, c.cfg.endpoint) < 0) {
		s_child_fatal(fd, "binding %s: %s", c.cfg.endpoint, zmq_strerror(errno));
		goto out;
	}
	if (s_child_drop_privs(fd, c.cfg.user, &uid) < 0)
		goto out;
	explicit_bzero(c.cfg.secret_key, sizeof(c.cfg.secret_key));
	s_child_simple(&c, VS_REC_READY, VS_REC_HOST, "ready", (double)uid, 0);
	s_child_flush(&c);
	vs_notice("intake: listening on %s as uid %u", c.cfg.endpoint, (unsigned)uid);

	next_stats = vs_mono_ns();
	for (;;) {
		zmq_pollitem_t it[3] = {
			{ c.router, 0, ZMQ_POLLIN, 0 },
			{ zap, 0, ZMQ_POLLIN, 0 },
			{ NULL, fd, ZMQ_POLLIN, 0 },
		};
		int64_t now = vs_mono_ns();
		long wait = (long)((next_stats - now) / VS_NS_PER_MSEC);

		if (zmq_poll(it, 3, wait < 0 ? 0 : wait) < 0 && errno != EINTR)
			break;
		if (it[2].revents & ZMQ_POLLIN) {
			if (s_child_parent(&c) < 0) {
				rc = 0;         /* the parent went away or closed us: done */
				break;
			}
		}
		if (it[1].revents & ZMQ_POLLIN)
			s_child_zap(&c, zap);
		/* bounded per round, so the parent and ZAP are served during a flood */
		for (int i = 0; i < GUEST_ROUND && (it[0].revents & ZMQ_POLLIN); i++)
			if (s_child_guest(&c) < 0)
				break;
		s_child_flush(&c);
		if (vs_mono_ns() >= next_stats) {
			s_child_stats(&c);
			next_stats = vs_mono_ns() + (int64_t)c.cfg.stats_ms * VS_NS_PER_MSEC;
		}
	}
out:
	if (c.router)
		zmq_close(c.router);
	if (zap)
		zmq_close(zap);
	if (zctx)
		zmq_ctx_term(zctx);
	free(c.doms);
	free(c.by_name);
	free(c.pending);
	vs_intake_set_logcheck(NULL, NULL);
	vs_intake_logcheck_destroy(&logcheck);
	return rc;
}

/* ========================================================================================
 * The parent
 * ======================================================================================== */

struct gtable {
	vs_intake_conn_t *e;            /* cap entries, allocated when the first table comes */
	size_t n;
	uint32_t total, dropped;
	int truncated;
	int64_t time_ns, guest_ns;
	uint64_t tables;
};

struct vs_intake {
	vs_intake_config_t cfg;
	int fd;
	pid_t pid;
	int64_t started_ns, restart_at_ns, backoff_ns;
	uint64_t restarts, bad_records;
	char (*names)[VS_KEYDOM_MAX + 1];       /* dom index -> domain; only grows */
	size_t n_names;
	vs_agentkey_t *keys;
	size_t n_keys;
	int keys_pending;               /* the table did not reach the child yet */
	struct gtable *tables;          /* per dom index: the latest connection table */
	struct gtable building;         /* the one whose records are arriving */
	uint32_t b_dom, b_want;
	int b_active;
	vs_intake_logs_t *logs;         /* guests' log lines (intake_logs.c) */
	vs_intake_samples_t *samples;   /* guests' resource samples (intake_samples.c) */
};

#define BACKOFF_MIN (VS_NS_PER_SEC / 2)
#define BACKOFF_MAX (30 * VS_NS_PER_SEC)

static int
s_send_keys(vs_intake_t *self)
{
	static kt_msg_t m;
	size_t i = 0;

	if (self->fd < 0)
		return -ENOTCONN;
	memset(&m, 0, offsetof(kt_msg_t, e));
	m.magic = VS_INTAKE_MAGIC;
	m.type = KT_BEGIN;
	m.n = (uint32_t)self->n_keys;
	if (send(self->fd, &m, offsetof(kt_msg_t, e), MSG_DONTWAIT) < 0)
		goto busy;
	while (i < self->n_keys) {
		uint32_t k = 0;

		m.type = KT_ENTRY;
		for (; k < KT_CHUNK && i < self->n_keys; k++, i++) {
			kt_entry_t *e = &m.e[k];
			size_t dom;

			memset(e, 0, sizeof(*e));
			for (dom = 0; dom < self->n_names; dom++)
				if (!strcmp(self->names[dom], self->keys[i].domain))
					break;
			e->dom = (uint32_t)dom;
			memcpy(e->domain, self->keys[i].domain, sizeof(e->domain));
			memcpy(e->key, self->keys[i].key, sizeof(e->key));
		}
		m.n = k;
		if (send(self->fd, &m, offsetof(kt_msg_t, e) + k * sizeof(kt_entry_t),
		    MSG_DONTWAIT) < 0)
			goto busy;
	}
	m.type = KT_END;
	m.n = 0;
	if (send(self->fd, &m, offsetof(kt_msg_t, e), MSG_DONTWAIT) < 0)
		goto busy;
	self->keys_pending = 0;
	return 0;
busy:
	/* the child will see a BEGIN again and start over */
	self->keys_pending = 1;
	return -EAGAIN;
}

static int
s_start(vs_intake_t *self)
{
	int sp[2];
	vs_intake_cfgmsg_t m;
	pid_t pid;
	const char *exe = self->cfg.exe ? self->cfg.exe : "/proc/self/exe";

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	/* room for bursts of records, so the child drops (counted as busy) only when the
	 * parent really falls behind; beyond wmem_max only with CAP_NET_ADMIN */
	{
		int sz = 4 << 20;

		if (setsockopt(sp[1], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(sp[0]);
		close(sp[1]);
		return -e;
	}
	if (pid == 0) {
		/* the child keeps stdin/out/err (to /dev/null or the log) and the socketpair only */
		int keep = sp[1];

		if (keep != 3) {
			if (dup2(keep, 3) < 0)
				_exit(127);
			keep = 3;
		}
		for (int f = 4; f < 65536; f++)
			close(f);
		fcntl(3, F_SETFD, 0);
		execl(exe, "vscoped", "--intake-child", "3", (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	self->fd = sp[0];
	fcntl(self->fd, F_SETFL, fcntl(self->fd, F_GETFL) | O_NONBLOCK);
	self->pid = pid;
	self->started_ns = vs_mono_ns();
	memset(&m, 0, sizeof(m));
	m.magic = VS_INTAKE_MAGIC;
	memcpy(m.endpoint, self->cfg.endpoint, sizeof(m.endpoint));
	memcpy(m.public_key, self->cfg.public_key, sizeof(m.public_key));
	memcpy(m.secret_key, self->cfg.secret_key, sizeof(m.secret_key));
	memcpy(m.user, self->cfg.user, sizeof(m.user));
	m.max_msgs = self->cfg.max_msgs;
	m.max_bytes = self->cfg.max_bytes;
	m.stats_ms = self->cfg.stats_ms ? self->cfg.stats_ms : 1000;
	m.max_conns = self->cfg.max_conns;
	m.log_level = self->cfg.log_level;
	m.use_syslog = self->cfg.use_syslog;
	m.n_specs = (uint32_t)self->cfg.n_specs;
	memcpy(m.specs, self->cfg.specs, sizeof(m.specs));
	if (send(self->fd, &m, sizeof(m), MSG_DONTWAIT) < 0)
		vs_warn("intake: sending the configuration: %s", strerror(errno));
	explicit_bzero(&m, sizeof(m));
	s_send_keys(self);
	vs_info("intake: child %d started", (int)pid);
	return 0;
}

vs_intake_t *
vs_intake_new(const vs_intake_config_t *cfg, char *err, size_t errlen)
{
	vs_intake_t *self = calloc(1, sizeof(*self));
	int rc;

	if (self == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	self->cfg = *cfg;
	if (self->cfg.max_conns == 0 || self->cfg.max_conns > VS_AGENT_MAX_CONNS)
		self->cfg.max_conns = VS_INTAKE_DEFAULT_MAX_CONNS;
	self->fd = -1;
	self->pid = -1;
	self->backoff_ns = BACKOFF_MIN;
	self->names = calloc(VS_AGENTKEYS_MAX, sizeof(*self->names));
	self->tables = calloc(VS_AGENTKEYS_MAX, sizeof(*self->tables));
	self->building.e = calloc(self->cfg.max_conns, sizeof(vs_intake_conn_t));
	self->logs = vs_intake_logs_new(self->cfg.log_queue);
	self->samples = vs_intake_samples_new(self->cfg.samples_bytes);
	if (self->tables == NULL || self->building.e == NULL || self->logs == NULL ||
	    self->samples == NULL) {
		free(self->names);
		self->names = NULL;
	}
	if (self->names == NULL || (rc = s_start(self)) < 0) {
		snprintf(err, errlen, "starting the intake child: %s", strerror(self->names ?
		    -rc : ENOMEM));
		vs_intake_destroy(&self);
		errno = ENOMEM;
		return NULL;
	}
	return self;
}

static void
s_stop(vs_intake_t *self)
{
	if (self->fd >= 0)
		close(self->fd);        /* the child sees EOF and exits */
	self->fd = -1;
	if (self->pid > 0) {
		int st;

		for (int i = 0; i < 50; i++) {
			if (waitpid(self->pid, &st, WNOHANG) == self->pid) {
				self->pid = -1;
				return;
			}
			usleep(10000);
		}
		kill(self->pid, SIGKILL);
		waitpid(self->pid, &st, 0);
	}
	self->pid = -1;
}

void
vs_intake_destroy(vs_intake_t **self_p)
{
	vs_intake_t *self = *self_p;

	if (self == NULL)
		return;
	s_stop(self);
	explicit_bzero(self->cfg.secret_key, sizeof(self->cfg.secret_key));
	free(self->names);
	free(self->keys);
	if (self->tables)
		for (size_t i = 0; i < VS_AGENTKEYS_MAX; i++)
			free(self->tables[i].e);
	free(self->tables);
	free(self->building.e);
	vs_intake_logs_destroy(&self->logs);
	vs_intake_samples_destroy(&self->samples);
	free(self);
	*self_p = NULL;
}

int
vs_intake_set_keys(vs_intake_t *self, const vs_agentkey_t *keys, size_t n)
{
	vs_agentkey_t *k;

	if (n > VS_AGENTKEYS_MAX)
		return -E2BIG;
	k = malloc((n ? n : 1) * sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	memcpy(k, keys, n * sizeof(*k));
	for (size_t i = 0; i < n; i++) {
		size_t d;

		for (d = 0; d < self->n_names; d++)
			if (!strcmp(self->names[d], k[i].domain))
				break;
		if (d == self->n_names && self->n_names < VS_AGENTKEYS_MAX)
			memcpy(self->names[self->n_names++], k[i].domain, VS_KEYDOM_MAX + 1);
	}
	free(self->keys);
	self->keys = k;
	self->n_keys = n;
	return s_send_keys(self);
}

int vs_intake_fd(const vs_intake_t *self) { return self->fd; }
pid_t vs_intake_pid(const vs_intake_t *self) { return self->pid; }
uint64_t vs_intake_restarts(const vs_intake_t *self) { return self->restarts; }
uint64_t vs_intake_bad_records(const vs_intake_t *self) { return self->bad_records; }

/* The socketpair failed or closed: never wait here; the child is killed and reaped (and
 * restarted after the backoff) by vs_intake_poll. */
static void
s_lost(vs_intake_t *self, const char *why)
{
	vs_err("intake: child %d %s", (int)self->pid, why);
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	if (self->pid > 0)
		kill(self->pid, SIGKILL);
}

/* One record of a connection table (checked already). A table is kept only whole: BEGIN,
 * as many CONN of the same domain as it announced (at most the cap), END; anything else
 * (records lost when the child found the socketpair full, a child gone wrong) drops the
 * table being built, counted as bad records, and leaves the domain's last table as it was. */
static void
s_table_rec(vs_intake_t *self, const vs_intake_rec_t *r)
{
	struct gtable *b = &self->building;

	switch (r->type) {
	case VS_REC_CONNS_BEGIN:
		if (self->b_active)
			self->bad_records++;
		self->b_active = 0;
		if (r->value > self->cfg.max_conns || r->value > r->pad) {
			self->bad_records++;
			return;
		}
		self->b_active = 1;
		self->b_dom = r->dom;
		self->b_want = (uint32_t)r->value;
		b->n = 0;
		b->total = r->pad;
		b->dropped = r->pad - self->b_want;
		b->truncated = r->kind != 0;
		b->guest_ns = r->ts_ns;
		return;
	case VS_REC_CONN:
		if (!self->b_active || r->dom != self->b_dom || b->n >= self->b_want) {
			self->bad_records++;
			self->b_active = 0;
			return;
		}
		b->e[b->n++] = r->conn;
		return;
	default: {                      /* VS_REC_CONNS_END */
		struct gtable *t;

		if (!self->b_active || r->dom != self->b_dom || b->n != self->b_want ||
		    r->value != (double)self->b_want) {
			self->bad_records++;
			self->b_active = 0;
			return;
		}
		self->b_active = 0;
		t = &self->tables[r->dom];
		if (t->e == NULL && (t->e = calloc(self->cfg.max_conns, sizeof(*t->e))) == NULL)
			return;
		memcpy(t->e, b->e, b->n * sizeof(*t->e));
		t->n = b->n;
		t->total = b->total;
		t->dropped = b->dropped;
		t->truncated = b->truncated;
		t->guest_ns = b->guest_ns;
		t->time_ns = vs_now_ns();
		t->tables++;
		return;
	}
	}
}

int
vs_intake_conns(const vs_intake_t *self, const char *domain, vs_intake_conns_t *out)
{
	memset(out, 0, sizeof(*out));
	out->cap = self->cfg.max_conns;
	for (size_t d = 0; d < self->n_names; d++) {
		const struct gtable *t = &self->tables[d];

		if (strcmp(self->names[d], domain) || t->tables == 0)
			continue;
		out->conns = t->e;
		out->n = t->n;
		out->guest_total = t->total;
		out->guest_truncated = t->truncated;
		out->dropped = t->dropped;
		out->time_ns = t->time_ns;
		out->guest_time_ns = t->guest_ns;
		out->tables = t->tables;
		return 0;
	}
	return -ENOENT;
}

void
vs_intake_conn_addr(const vs_intake_conn_t *c, int remote, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	const uint8_t *addr = remote ? c->remote_addr : c->local_addr;
	unsigned port = remote ? c->remote_port : c->local_port;

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	snprintf(buf, len, c->family == 4 ? "%s:%u" : "[%s]:%u", a, port);
}

void
vs_intake_process(vs_intake_t *self, vs_intake_rec_fn fn, void *arg)
{
	static vs_intake_rec_t recs[VS_INTAKE_BATCH + 1];
	char err[160];

	for (int round = 0; round < 64 && self->fd >= 0; round++) {
		ssize_t n = recv(self->fd, recs, sizeof(recs), MSG_DONTWAIT);
		size_t k;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			s_lost(self, n == 0 ? "closed its socket" : strerror(errno));
			return;
		}
		if (n % sizeof(recs[0]) != 0 || n > (ssize_t)(VS_INTAKE_BATCH * sizeof(recs[0]))) {
			self->bad_records++;
			vs_warn("intake: datagram of %zd bytes from the child ignored", n);
			continue;
		}
		k = (size_t)n / sizeof(recs[0]);
		for (size_t i = 0; i < k; i++) {
			vs_intake_rec_t *r = &recs[i];

			if (r->type == VS_REC_READY) {
				vs_notice("intake: child %d ready (uid %.0f)", (int)self->pid,
				    r->value);
				continue;
			}
			if (r->type == VS_REC_ERROR) {
				r->name[sizeof(r->name) - 1] = '\0';
				for (char *p = r->name; *p; p++)
					if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
						*p = '?';
				vs_err("intake: child: %s", r->name);
				continue;
			}
			if (vs_intake_rec_check(r, err, sizeof(err)) < 0 ||
			    (r->dom != VS_REC_HOST && r->dom >= self->n_names)) {
				self->bad_records++;
				continue;
			}
			if (r->type >= VS_REC_CONNS_BEGIN && r->type <= VS_REC_CONNS_END) {
				s_table_rec(self, r);
				continue;
			}
			if (r->type >= VS_REC_LOG_BEGIN && r->type <= VS_REC_LOG_END) {
				if (vs_intake_logs_rec(self->logs, r) < 0)
					self->bad_records++;
				continue;
			}
			if (r->type >= VS_REC_SAMPLE_CPU && r->type <= VS_REC_SAMPLE_NET) {
				if (vs_intake_samples_rec(self->samples, r) < 0)
					self->bad_records++;
				continue;
			}
			fn(arg, r->dom == VS_REC_HOST ? NULL : self->names[r->dom], r);
		}
	}
}

int
vs_intake_logs_each(const vs_intake_t *self, const char *domain, uint64_t cursor,
    size_t max_bytes, vs_intake_logbatch_fn fn, void *arg, uint64_t *next_r)
{
	return vs_intake_logs_each_q(self->logs, self->names, self->n_names, domain, cursor,
	    max_bytes, fn, arg, next_r);
}

int
vs_intake_logs_stats(const vs_intake_t *self, const char *domain, vs_intake_logstat_fn fn,
    void *arg)
{
	return vs_intake_logs_stats_q(self->logs, self->names, self->n_names, domain, fn, arg);
}

void
vs_intake_logs_totals(const vs_intake_t *self, uint64_t *queued_r, uint64_t *bad_r,
    uint64_t *oldest_r)
{
	vs_intake_logs_totals_q(self->logs, queued_r, bad_r, oldest_r);
}

int
vs_intake_samples_each(const vs_intake_t *self, const char *domain, uint64_t cursor,
    size_t max_rows, vs_intake_samplerow_fn fn, void *arg, uint64_t *next_r)
{
	return vs_intake_samples_each_q(self->samples, self->names, self->n_names, domain,
	    cursor, max_rows, fn, arg, next_r);
}

int
vs_intake_samples_stat(const vs_intake_t *self, const char *domain,
    vs_intake_samplestat_t *st)
{
	return vs_intake_samples_stat_q(self->samples, self->names, self->n_names, domain, st);
}

void
vs_intake_samples_totals(const vs_intake_t *self, uint64_t *rows_r, uint64_t *bytes_r,
    uint64_t *oldest_r, uint64_t *pushed_r)
{
	vs_intake_samples_totals_q(self->samples, rows_r, bytes_r, oldest_r, pushed_r);
}

void
vs_intake_poll(vs_intake_t *self)
{
	int st;
	int64_t now = vs_mono_ns();

	if (self->pid > 0 && waitpid(self->pid, &st, WNOHANG) == self->pid) {
		if (WIFSIGNALED(st))
			vs_err("intake: child %d killed by signal %d; restarting in %lld ms",
			    (int)self->pid, WTERMSIG(st), (long long)(self->backoff_ns / 1000000));
		else
			vs_err("intake: child %d exited with status %d; restarting in %lld ms",
			    (int)self->pid, WEXITSTATUS(st), (long long)(self->backoff_ns / 1000000));
		if (self->fd >= 0)
			close(self->fd);
		self->fd = -1;
		self->pid = -1;
		if (now - self->started_ns > 60 * VS_NS_PER_SEC)
			self->backoff_ns = BACKOFF_MIN;
		self->restart_at_ns = now + self->backoff_ns;
		self->backoff_ns = self->backoff_ns * 2 > BACKOFF_MAX ? BACKOFF_MAX :
		    self->backoff_ns * 2;
		return;
	}
	if (self->pid < 0 && now >= self->restart_at_ns) {
		int rc = s_start(self);

		self->restarts++;
		if (rc < 0) {
			vs_err("intake: restarting the child: %s", strerror(-rc));
			self->restart_at_ns = now + self->backoff_ns;
		}
		return;
	}
	if (self->keys_pending)
		s_send_keys(self);
}
