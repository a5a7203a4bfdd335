#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VS_CTL_MAX_NAME_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

static int
s_names_ok(char **v, size_t n, const char *what, char *err, size_t errlen)
{
	if (n > VS_CTL_MAX_NAMES) {
		snprintf(err, errlen, "too many %s names: %zu (at most %d)", what, n, VS_CTL_MAX_NAMES);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++)
		if (!s_name_ok(v[i])) {
			snprintf(err, errlen, "bad %s name #%zu: empty, longer than %d bytes or "
			    "with control characters", what, i, VS_CTL_MAX_NAME_LEN);
			return -EINVAL;
		}
	return 0;
}

int
vs_wire_request_validate(const Vsctl__Request *req, char *err, size_t errlen)
{
	if (req->version != VS_CTL_VERSION) {
		snprintf(err, errlen, "unsupported protocol version %u (this vscoped speaks %d)",
		    req->version, VS_CTL_VERSION);
		return -EPROTO;
	}
	switch (req->body_case) {
	case VSCTL__REQUEST__BODY_INVENTORY:
	case VSCTL__REQUEST__BODY_LIST:
	case VSCTL__REQUEST__BODY_CONNS:
		return 0;
	case VSCTL__REQUEST__BODY_READ: {
		const Vsctl__ReadReq *r = req->read;
		int rc;

		if ((rc = s_names_ok(r->entity, r->n_entity, "entity", err, errlen)) < 0 ||
		    (rc = s_names_ok(r->metric, r->n_metric, "metric", err, errlen)) < 0)
			return rc;
		if (r->window_ns < 0) {
			snprintf(err, errlen, "negative window");
			return -EINVAL;
		}
		return 0;
	}
	case VSCTL__REQUEST__BODY_HISTORY: {
		const Vsctl__HistoryReq *h = req->history;

		if (!s_name_ok(h->entity) || !s_name_ok(h->metric)) {
			snprintf(err, errlen, "history needs an entity and a metric name");
			return -EINVAL;
		}
		if (h->from_ns < 0 || h->to_ns < 0 || (h->to_ns != 0 && h->from_ns > h->to_ns)) {
			snprintf(err, errlen, "bad time range");
			return -EINVAL;
		}
		return 0;
	}
	case VSCTL__REQUEST__BODY_SHAPE: {
		const Vsctl__ShapeReq *r = req->shape;

		if (!s_name_ok(r->domain) || (r->vif[0] && (!s_name_ok(r->vif) ||
		    strlen(r->vif) >= 16))) {
			snprintf(err, errlen, "shape needs a domain (and a VIF name under 16 bytes)");
			return -EINVAL;
		}
		if (r->rate_bps == 0 || r->ttl_ns <= 0 || r->burst_bytes == 0 ||
		    r->direction < 1 || r->direction > 3 ||
		    (r->ceil_bps != 0 && r->ceil_bps < r->rate_bps)) {
			snprintf(err, errlen, "shape needs a rate, a burst and a TTL above 0, "
			    "a direction 1..3 and a ceil not below the rate");
			return -EINVAL;
		}
		return 0;
	}
	case VSCTL__REQUEST__BODY_UNSHAPE:
		if (!s_name_ok(req->unshape->domain) ||
		    (req->unshape->vif[0] && !s_name_ok(req->unshape->vif))) {
			snprintf(err, errlen, "unshape needs a domain");
			return -EINVAL;
		}
		return 0;
	case VSCTL__REQUEST__BODY_SHAPE_LIST:
		return 0;
	case VSCTL__REQUEST__BODY_GUEST_CONNS:
		if (!s_name_ok(req->guest_conns->domain)) {
			snprintf(err, errlen, "guest_conns needs a domain name");
			return -EINVAL;
		}
		return 0;
	case VSCTL__REQUEST__BODY_GUEST_SAMPLES:
		if (req->guest_samples->domain[0] && !s_name_ok(req->guest_samples->domain)) {
			snprintf(err, errlen, "guest_samples: a bad domain name");
			return -EINVAL;
		}
		if (req->guest_samples->max_rows > 100000) {
			snprintf(err, errlen, "guest_samples: max_rows over 100000");
			return -EINVAL;
		}
		return 0;
	case VSCTL__REQUEST__BODY_GUEST_LOGS:
		if (req->guest_logs->domain[0] && !s_name_ok(req->guest_logs->domain)) {
			snprintf(err, errlen, "guest_logs: a bad domain name");
			return -EINVAL;
		}
		if (req->guest_logs->max_bytes > 16u << 20) {
			snprintf(err, errlen, "guest_logs: max_bytes over 16 MiB");
			return -EINVAL;
		}
		return 0;
	default:
		snprintf(err, errlen, "unknown or missing request type");
		return -EOPNOTSUPP;
	}
}

Vsctl__Request *
vs_wire_request_decode(const void *buf, size_t len, int *status_r, char *err, size_t errlen)
{
	Vsctl__Request *req;
	int rc;

	if (len > VS_CTL_MAX_REQUEST) {
		snprintf(err, errlen, "request of %zu bytes exceeds the limit of %d", len,
		    VS_CTL_MAX_REQUEST);
		*status_r = -EMSGSIZE;
		return NULL;
	}
	if (len == 0) {
		snprintf(err, errlen, "empty request");
		*status_r = -EBADMSG;
		return NULL;
	}
	req = vsctl__request__unpack(NULL, len, buf);
	if (req == NULL) {
		snprintf(err, errlen, "request does not decode (truncated or not a vscope request)");
		*status_r = -EBADMSG;
		return NULL;
	}
	if ((rc = vs_wire_request_validate(req, err, errlen)) < 0) {
		vsctl__request__free_unpacked(req, NULL);
		*status_r = rc;
		return NULL;
	}
	*status_r = 0;
	return req;
}

void *
vs_wire_pack(const ProtobufCMessage *msg, size_t *len_r)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);

	if (buf == NULL)
		return NULL;
	*len_r = protobuf_c_message_pack(msg, buf);
	return buf;
}

Vsctl__Reply *
vs_wire_reply_decode(const void *buf, size_t len, char *err, size_t errlen)
{
	Vsctl__Reply *rep;

	if (len > VS_CTL_MAX_REPLY) {
		snprintf(err, errlen, "reply of %zu bytes exceeds the limit", len);
		return NULL;
	}
	rep = vsctl__reply__unpack(NULL, len, buf);
	if (rep == NULL)
		snprintf(err, errlen, "reply does not decode");
	return rep;
}
