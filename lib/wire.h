/*
 * The control protocol's framing rules (lib/control.proto holds the messages).
 * Every request is size-checked before it is decoded and validated after.
 */
#ifndef VS_WIRE_H
#define VS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "control.pb-c.h"

#define VS_CTL_VERSION          1
#define VS_CTL_MAX_REQUEST      (64 * 1024)      /* larger requests get an error reply */
#define VS_CTL_MAX_REPLY        (64 * 1024 * 1024)
#define VS_CTL_MAX_NAMES        256              /* entities or metrics in one ReadReq */
#define VS_CTL_MAX_NAME_LEN     127
#define VS_CTL_MAX_POINTS       100000           /* cap on HistoryReq.max_points */
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define VS_CTL_DEFAULT_ENDPOINT "ipc://" RUNSTATEDIR "/vscope/vscoped.sock"

/* Checks size, decodes and validates. NULL with a message in err (and *status_r a
 * negative errno: -EMSGSIZE, -EBADMSG, -EPROTO, -EINVAL) for any bad request.
 * Free the result with vsctl__request__free_unpacked(req, NULL). */
Vsctl__Request *vs_wire_request_decode(const void *buf, size_t len, int *status_r,
    char *err, size_t errlen);

/* Semantic checks of a decoded request: version, a body, name lengths and counts,
 * time ranges. 0 or -errno with a message. */
int vs_wire_request_validate(const Vsctl__Request *req, char *err, size_t errlen);

/* Packs msg into a new malloc'd buffer; NULL on ENOMEM. */
void *vs_wire_pack(const ProtobufCMessage *msg, size_t *len_r);

/* Reply decode for clients, with VS_CTL_MAX_REPLY as the bound. */
Vsctl__Reply *vs_wire_reply_decode(const void *buf, size_t len, char *err, size_t errlen);

#endif
