#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

#define MAX_SAMPLES 100000              /* per interval: 10 ms probes for 1000 s */
#define HTTP_HDR    4096

enum state { IDLE, CONNECTING, WAITING };

struct vs_probe {
	vs_probe_spec_t spec;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char http_path[VS_PROBE_MAX_TARGET], http_host[300];
	int resolved;
	enum state st;
	int fd;                         /* socket or pidfd */
	pid_t pid;
	int64_t next_ns, start_ns, timeout_at;
	uint8_t *buf;                   /* tcp: request; http: header bytes */
	size_t got, sent;
	size_t reqlen;
	char req[VS_PROBE_MAX_TARGET + 320];
	vs_samples_t samples;
	uint32_t errors;
};

static int
s_split_hostport(const char *hp, char *host, size_t hlen, char *port, size_t plen)
{
	const char *c = strrchr(hp, ':');

	if (c == NULL || c == hp || c[1] == 0 || (size_t)(c - hp) >= hlen || strlen(c + 1) >= plen)
		return -EINVAL;
	memcpy(host, hp, (size_t)(c - hp));
	host[c - hp] = 0;
	strcpy(port, c + 1);
	return 0;
}

int
vs_probe_spec_parse(const char *v, vs_probe_spec_t *s_r, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *tok;
	const char *rest;
	size_t n;

	memset(s_r, 0, sizeof(*s_r));
	s_r->interval_ns = VS_NS_PER_SEC;
	s_r->timeout_ns = VS_NS_PER_SEC;
	s_r->send_bytes = s_r->expect_bytes = 64;
	s_r->expect_status = 200;
	if (strlen(v) >= sizeof(buf)) {
		snprintf(err, errlen, "probe line too long");
		return -EINVAL;
	}
	strcpy(buf, v);
	tok = strtok_r(buf, " \t", &save);
	n = tok ? strlen(tok) : 0;
	if (n == 0 || n > VS_AGENT_MAX_PROBE_LEN || strspn(tok, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n) {
		snprintf(err, errlen, "probe name must be 1..%d of [A-Za-z0-9_.-]",
		    VS_AGENT_MAX_PROBE_LEN);
		return -EINVAL;
	}
	strcpy(s_r->name, tok);
	tok = strtok_r(NULL, " \t", &save);
	if (tok && strcmp(tok, "tcp") == 0)
		s_r->type = VS_PROBE_TCP;
	else if (tok && strcmp(tok, "http") == 0)
		s_r->type = VS_PROBE_HTTP;
	else if (tok && strcmp(tok, "cmd") == 0)
		s_r->type = VS_PROBE_CMD;
	else {
		snprintf(err, errlen, "probe %s: type must be tcp, http or cmd", s_r->name);
		return -EINVAL;
	}
	for (;;) {
		char *eq;
		uint64_t u;
		int64_t d;

		/* the target is the rest of the original line (strtok_r cuts buf) */
		rest = save ? v + (save - buf) + strspn(save, " \t") : "";
		tok = strtok_r(NULL, " \t", &save);
		if (tok == NULL || (eq = strchr(tok, '=')) == NULL || tok[0] == '/')
			break;
		*eq++ = 0;
		if (strcmp(tok, "interval") == 0 || strcmp(tok, "timeout") == 0) {
			if (vs_duration_parse(eq, VS_NS_PER_MSEC, &d) < 0 ||
			    d < 10 * VS_NS_PER_MSEC || d > 3600 * VS_NS_PER_SEC) {
				snprintf(err, errlen, "probe %s: %s '%s' is not a duration in "
				    "10ms..1h", s_r->name, tok, eq);
				return -EINVAL;
			}
			*(tok[0] == 'i' ? &s_r->interval_ns : &s_r->timeout_ns) = d;
		} else if (strcmp(tok, "send") == 0 || strcmp(tok, "expect") == 0 ||
		    strcmp(tok, "status") == 0) {
			char *end;
			errno = 0;
			u = strtoull(eq, &end, 10);
			if (*eq == 0 || *end != 0 || errno || u > VS_PROBE_MAX_IO ||
			    (tok[1] == 't' && (u < 100 || u > 599)) || (tok[0] != 's' && tok[1] != 't' &&
			    u == 0) || (tok[0] == 's' && tok[1] == 'e' && u == 0)) {
				snprintf(err, errlen, "probe %s: bad %s '%s'", s_r->name, tok, eq);
				return -EINVAL;
			}
			if (tok[1] == 't')
				s_r->expect_status = (int)u;
			else if (tok[0] == 's')
				s_r->send_bytes = (uint32_t)u;
			else
				s_r->expect_bytes = (uint32_t)u;
		} else {
			snprintf(err, errlen, "probe %s: unknown option '%s'", s_r->name, tok);
			return -EINVAL;
		}
	}
	if (tok == NULL || *rest == 0) {
		snprintf(err, errlen, "probe %s: no target", s_r->name);
		return -EINVAL;
	}
	if (strlen(rest) >= sizeof(s_r->target)) {
		snprintf(err, errlen, "probe %s: target too long", s_r->name);
		return -EINVAL;
	}
	strcpy(s_r->target, rest);
	if (s_r->type != VS_PROBE_CMD && strpbrk(rest, " \t")) {
		snprintf(err, errlen, "probe %s: target '%s' has blanks", s_r->name, rest);
		return -EINVAL;
	}
	if (s_r->type == VS_PROBE_TCP) {
		char h[256], p[32];
		if (s_split_hostport(rest, h, sizeof(h), p, sizeof(p)) < 0) {
			snprintf(err, errlen, "probe %s: tcp target must be HOST:PORT", s_r->name);
			return -EINVAL;
		}
	}
	if (s_r->type == VS_PROBE_HTTP && strncmp(rest, "http://", 7) != 0) {
		snprintf(err, errlen, "probe %s: http target must start with http://", s_r->name);
		return -EINVAL;
	}
	return 0;
}

static int
s_resolve(vs_probe_t *self)
{
	char host[256], port[32];
	const char *hp = self->spec.target;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
	int rc;

	if (self->spec.type == VS_PROBE_HTTP) {
		const char *slash;
		char hpbuf[300];
		hp += 7;
		slash = strchr(hp, '/');
		snprintf(self->http_path, sizeof(self->http_path), "%s", slash ? slash : "/");
		snprintf(hpbuf, sizeof(hpbuf), "%.*s", (int)(slash ? (size_t)(slash - hp) :
		    strlen(hp)), hp);
		snprintf(self->http_host, sizeof(self->http_host), "%s", hpbuf);
		if (strchr(hpbuf, ':') == NULL)
			strncat(hpbuf, ":80", sizeof(hpbuf) - strlen(hpbuf) - 1);
		if (s_split_hostport(hpbuf, host, sizeof(host), port, sizeof(port)) < 0)
			return -EINVAL;
		self->reqlen = (size_t)snprintf(self->req, sizeof(self->req),
		    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: vscope-agent\r\n\r\n",
		    self->http_path, self->http_host);
	} else if (s_split_hostport(hp, host, sizeof(host), port, sizeof(port)) < 0) {
		return -EINVAL;
	}
	/* getaddrinfo may block on DNS: once, at the first sample, numeric addresses never */
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		return -EHOSTUNREACH;
	memcpy(&self->addr, ai->ai_addr, ai->ai_addrlen);
	self->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	self->resolved = 1;
	return 0;
}

vs_probe_t *
vs_probe_new(const vs_probe_spec_t *spec)
{
	vs_probe_t *self = calloc(1, sizeof(*self));

	if (self == NULL)
		return NULL;
	self->spec = *spec;
	self->fd = -1;
	self->buf = malloc(spec->type == VS_PROBE_TCP ? VS_PROBE_MAX_IO : HTTP_HDR);
	if (self->buf == NULL || vs_samples_init(&self->samples, MAX_SAMPLES) < 0) {
		free(self->buf);
		free(self);
		errno = ENOMEM;
		return NULL;
	}
	memset(self->buf, 'v', spec->type == VS_PROBE_TCP ? VS_PROBE_MAX_IO : HTTP_HDR);
	self->next_ns = vs_mono_ns();
	return self;
}

static void
s_close(vs_probe_t *self)
{
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	if (self->pid > 0) {
		kill(-self->pid, SIGKILL);
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
		self->pid = 0;
	}
}

void
vs_probe_destroy(vs_probe_t **self_p)
{
	vs_probe_t *self = *self_p;

	if (self == NULL)
		return;
	s_close(self);
	vs_samples_dispose(&self->samples);
	free(self->buf);
	free(self);
	*self_p = NULL;
}

const vs_probe_spec_t *
vs_probe_spec(const vs_probe_t *self)
{
	return &self->spec;
}

static void
s_fail(vs_probe_t *self)
{
	self->errors++;
	s_close(self);
	self->st = IDLE;
}

static void
s_done(vs_probe_t *self, int64_t now_ns)
{
	vs_samples_add(&self->samples, (double)(now_ns - self->start_ns) / 1e3);
	self->st = IDLE;
	if (self->spec.type != VS_PROBE_TCP)
		s_close(self);
}

static int
s_connect(vs_probe_t *self)
{
	int one = 1;

	if (!self->resolved && s_resolve(self) < 0)
		return -EHOSTUNREACH;
	self->fd = socket(self->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (self->fd < 0)
		return -errno;
	setsockopt(self->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(self->fd, (struct sockaddr *)&self->addr, self->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;
		s_close(self);
		return -e;
	}
	return 0;
}

static int
s_spawn(vs_probe_t *self)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int dn = open("/dev/null", O_RDWR);

		setpgid(0, 0);          /* a timeout kills the command and all it started */
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
			dup2(dn, 2);
		}
		execl("/bin/sh", "sh", "-c", self->spec.target, (char *)NULL);
		_exit(127);
	}
	self->pid = pid;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		int e = errno;
		s_close(self);
		return -e;
	}
	self->fd = fd;
	return 0;
}

void
vs_probe_tick(vs_probe_t *self, int64_t now_ns)
{
	if (self->st != IDLE && now_ns >= self->timeout_at)
		s_fail(self);           /* the sample timed out */
	if (now_ns < self->next_ns)
		return;
	/* the next sample on the grid; a probe still busy skips this slot */
	while (self->next_ns <= now_ns)
		self->next_ns += self->spec.interval_ns;
	if (self->st != IDLE)
		return;
	self->start_ns = now_ns;
	self->timeout_at = now_ns + self->spec.timeout_ns;
	self->got = self->sent = 0;
	switch (self->spec.type) {
	case VS_PROBE_TCP:
		if (self->fd < 0) {
			if (s_connect(self) < 0) {
				s_fail(self);
				return;
			}
			self->st = CONNECTING;
			return;
		}
		self->st = WAITING;
		vs_probe_io(self, POLLOUT, now_ns);
		return;
	case VS_PROBE_HTTP:
		if (s_connect(self) < 0) {
			s_fail(self);
			return;
		}
		self->st = CONNECTING;
		return;
	case VS_PROBE_CMD:
		if (s_spawn(self) < 0) {
			s_fail(self);
			return;
		}
		self->st = WAITING;
		return;
	}
}

int64_t
vs_probe_deadline(const vs_probe_t *self)
{
	if (self->st != IDLE && self->timeout_at < self->next_ns)
		return self->timeout_at;
	return self->next_ns;
}

int
vs_probe_pollfd(const vs_probe_t *self, short *events_r)
{
	if (self->st == IDLE || self->fd < 0) {
		*events_r = 0;
		return -1;
	}
	if (self->st == CONNECTING)
		*events_r = POLLOUT;
	else if (self->spec.type == VS_PROBE_CMD)
		*events_r = POLLIN;
	else if (self->sent < (self->spec.type == VS_PROBE_TCP ? self->spec.send_bytes :
	    self->reqlen))
		*events_r = POLLOUT | POLLIN;
	else
		*events_r = POLLIN;
	return self->fd;
}

static void
s_io_cmd(vs_probe_t *self, int64_t now_ns)
{
	int status;

	if (waitpid(self->pid, &status, WNOHANG) != self->pid)
		return;
	kill(-self->pid, SIGKILL);     /* what the command left running in its group */
	self->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		s_done(self, now_ns);
	else
		s_fail(self);
}

static void
s_io_http(vs_probe_t *self, short revents, int64_t now_ns)
{
	char tmp[4096];
	ssize_t n;

	if ((revents & POLLOUT) && self->sent < self->reqlen) {
		n = send(self->fd, self->req + self->sent, self->reqlen - self->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			s_fail(self);
			return;
		}
		if (n > 0)
			self->sent += (size_t)n;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	for (;;) {
		n = recv(self->fd, tmp, sizeof(tmp), 0);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			s_fail(self);
			return;
		}
		if (n == 0)
			break;
		/* keep the first HTTP_HDR bytes for the status line, discard the body */
		if (self->got < HTTP_HDR) {
			size_t k = (size_t)n < HTTP_HDR - self->got ? (size_t)n : HTTP_HDR - self->got;
			memcpy(self->buf + self->got, tmp, k);
			self->got += k;
		}
	}
	/* "HTTP/1.x SSS " */
	if (self->got >= 12 && memcmp(self->buf, "HTTP/1.", 7) == 0 && self->buf[8] == ' ') {
		int st = (self->buf[9] - '0') * 100 + (self->buf[10] - '0') * 10 +
		    (self->buf[11] - '0');
		if (st == self->spec.expect_status) {
			s_done(self, now_ns);
			return;
		}
	}
	s_fail(self);
}

static void
s_io_tcp(vs_probe_t *self, short revents, int64_t now_ns)
{
	ssize_t n;

	if ((revents & POLLOUT) && self->sent < self->spec.send_bytes) {
		n = send(self->fd, self->buf, self->spec.send_bytes - self->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			s_fail(self);
			return;
		}
		if (n > 0)
			self->sent += (size_t)n;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	for (;;) {
		uint8_t tmp[4096];
		size_t want = self->spec.expect_bytes - self->got;
		n = recv(self->fd, tmp, want < sizeof(tmp) ? want : sizeof(tmp), 0);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			s_fail(self);
			return;
		}
		self->got += (size_t)n;
		if (self->got >= self->spec.expect_bytes) {
			s_done(self, now_ns);
			return;
		}
	}
}

void
vs_probe_io(vs_probe_t *self, short revents, int64_t now_ns)
{
	if (self->st == CONNECTING) {
		int e = 0;
		socklen_t l = sizeof(e);
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(self->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e != 0) {
			s_fail(self);
			return;
		}
		self->st = WAITING;
		if (self->spec.type == VS_PROBE_TCP) {
			/* latency is the request/response, not the connect */
			self->start_ns = now_ns;
		}
		revents = POLLOUT;
	}
	if (self->st != WAITING)
		return;
	switch (self->spec.type) {
	case VS_PROBE_TCP:
		s_io_tcp(self, revents, now_ns);
		break;
	case VS_PROBE_HTTP:
		s_io_http(self, revents, now_ns);
		break;
	case VS_PROBE_CMD:
		s_io_cmd(self, now_ns);
		break;
	}
}

vs_samples_t *
vs_probe_samples(vs_probe_t *self)
{
	return &self->samples;
}

uint32_t
vs_probe_errors(const vs_probe_t *self)
{
	return self->errors;
}

void
vs_probe_reset(vs_probe_t *self)
{
	vs_samples_reset(&self->samples);
	self->samples.dropped = 0;
	self->errors = 0;
}
