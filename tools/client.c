#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "clock.h"
#include "wire.h"

struct vs_client {
	void *ctx;
	void *sock;             /* NULL after a timeout until the next call */
	char *endpoint;
	int timeout_ms;
};

#define S_HINT "(is vscoped running? see vscoped(8))"

static void
s_close(vs_client_t *self)
{
	if (self->sock != NULL) {
		zmq_close(self->sock);
		self->sock = NULL;
	}
}

static int
s_open(vs_client_t *self)
{
	int linger = 0, sndtimeo = self->timeout_ms;
	int rc;

	self->sock = zmq_socket(self->ctx, ZMQ_DEALER);
	if (self->sock == NULL)
		return -errno;
	if (zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_setsockopt(self->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo)) < 0 ||
	    zmq_connect(self->sock, self->endpoint) < 0) {
		rc = -errno;
		s_close(self);
		return rc;
	}
	return 0;
}

vs_client_t *
vs_client_new(const char *endpoint, int timeout_ms)
{
	vs_client_t *self;
	int rc;

	if (endpoint == NULL || *endpoint == '\0' || timeout_ms <= 0) {
		errno = EINVAL;
		return NULL;
	}
	self = calloc(1, sizeof(*self));
	if (self == NULL)
		return NULL;
	self->timeout_ms = timeout_ms;
	self->endpoint = strdup(endpoint);
	self->ctx = zmq_ctx_new();
	if (self->endpoint == NULL || self->ctx == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = s_open(self)) < 0)
		goto out;
	return self;
out:
	vs_client_destroy(&self);
	errno = -rc;
	return NULL;
}

void
vs_client_destroy(vs_client_t **self_p)
{
	vs_client_t *self = *self_p;

	if (self == NULL)
		return;
	s_close(self);
	if (self->ctx != NULL)
		zmq_ctx_term(self->ctx);
	free(self->endpoint);
	free(self);
	*self_p = NULL;
}

const char *
vs_client_endpoint(const vs_client_t *self)
{
	return self->endpoint;
}

/*
 * libzmq connects ipc:// endpoints in the background and retries forever, so a missing
 * or forbidden socket file would only show as a timeout. Saying so at once is kinder.
 */
static int
s_ipc_check(const vs_client_t *self, char *err, size_t errlen)
{
	const char *path;
	struct stat st;

	if (strncmp(self->endpoint, "ipc://", 6) != 0)
		return 0;
	path = self->endpoint + 6;
	if (*path == '@')               /* Linux abstract namespace: no file to look at */
		return 0;
	if (stat(path, &st) < 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "cannot reach vscoped at %s: no socket %s " S_HINT,
			    self->endpoint, path);
		else
			snprintf(err, errlen, "cannot reach vscoped at %s: %s: %s", self->endpoint,
			    path, strerror(e));
		return -e;
	}
	if (access(path, R_OK | W_OK) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot reach vscoped at %s: %s: %s", self->endpoint, path,
		    strerror(e));
		return -e;
	}
	return 0;
}

/* Waits for the reply's frames; returns the payload frame in *msg (initialised). */
static int
s_recv(vs_client_t *self, zmq_msg_t *msg, char *err, size_t errlen)
{
	int64_t deadline = vs_mono_ns() + (int64_t)self->timeout_ms * VS_NS_PER_MSEC;
	zmq_pollitem_t item = { .socket = self->sock, .events = ZMQ_POLLIN };
	int got = 0, more;
	size_t moresz;

	for (;;) {
		int64_t left = deadline - vs_mono_ns();
		int n;

		if (left <= 0) {
			snprintf(err, errlen, "cannot reach vscoped at %s: no reply within %g s "
			    S_HINT, self->endpoint, self->timeout_ms / 1000.0);
			return -ETIMEDOUT;
		}
		n = zmq_poll(&item, 1, (long)((left + VS_NS_PER_MSEC - 1) / VS_NS_PER_MSEC));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			snprintf(err, errlen, "%s: %s", self->endpoint, zmq_strerror(e));
			return -e;
		}
		if (n > 0)
			break;
	}
	/* One frame is the protocol; a REQ-style empty delimiter before it is tolerated. */
	do {
		zmq_msg_t part;

		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, self->sock, 0) < 0) {
			int e = errno;
			zmq_msg_close(&part);
			if (got)
				zmq_msg_close(msg);
			snprintf(err, errlen, "%s: %s", self->endpoint, zmq_strerror(e));
			return -e;
		}
		moresz = sizeof(more);
		zmq_getsockopt(self->sock, ZMQ_RCVMORE, &more, &moresz);
		if (!got && (zmq_msg_size(&part) > 0 || !more)) {
			zmq_msg_init(msg);
			zmq_msg_move(msg, &part);
			got = 1;
		}
		zmq_msg_close(&part);
	} while (more);
	return 0;
}

Vsctl__Reply *
vs_client_call(vs_client_t *self, const Vsctl__Request *req, char *err, size_t errlen)
{
	Vsctl__Request r = *req;
	Vsctl__Reply *rep = NULL;
	zmq_msg_t msg;
	char why[256] = "";
	void *buf = NULL;
	size_t len;
	int rc;

	if (r.version == 0)
		r.version = VS_CTL_VERSION;
	if ((rc = s_ipc_check(self, err, errlen)) < 0)
		goto out;
	if (self->sock == NULL && (rc = s_open(self)) < 0) {
		snprintf(err, errlen, "%s: %s", self->endpoint, zmq_strerror(-rc));
		goto out;
	}
	buf = vs_wire_pack(&r.base, &len);
	if (buf == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	if (zmq_send(self->sock, buf, len, 0) < 0) {
		rc = -errno;
		if (rc == -EAGAIN) {
			rc = -ETIMEDOUT;
			snprintf(err, errlen, "cannot reach vscoped at %s: request not taken "
			    "within %g s " S_HINT, self->endpoint, self->timeout_ms / 1000.0);
			s_close(self);
		} else {
			snprintf(err, errlen, "%s: %s", self->endpoint, zmq_strerror(-rc));
		}
		goto out;
	}
	if ((rc = s_recv(self, &msg, err, errlen)) < 0) {
		/* A late reply must not be read as the answer to the next request. */
		if (rc == -ETIMEDOUT)
			s_close(self);
		goto out;
	}
	rep = vs_wire_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), why, sizeof(why));
	zmq_msg_close(&msg);
	if (rep == NULL) {
		rc = -EBADMSG;
		snprintf(err, errlen, "bad reply from %s: %s", self->endpoint, why);
		goto out;
	}
	if (rep->status != 0) {
		rc = rep->status < 0 ? rep->status : -EPROTO;
		if (rep->error != NULL && *rep->error != '\0')
			snprintf(err, errlen, "vscoped: %s", rep->error);
		else
			snprintf(err, errlen, "vscoped: %s", strerror(-rc));
		goto out;
	}
	/* Reply bodies are numbered like the request bodies they answer. */
	if ((int)rep->body_case != (int)r.body_case) {
		rc = -EPROTO;
		snprintf(err, errlen, "bad reply from %s: request type %d answered with type %d",
		    self->endpoint, (int)r.body_case, (int)rep->body_case);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	if (rc < 0) {
		if (rep != NULL)
			vsctl__reply__free_unpacked(rep, NULL);
		errno = -rc;
		return NULL;
	}
	return rep;
}
