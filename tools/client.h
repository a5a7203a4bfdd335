/*
 * A control-channel client for vscoped: one DEALER socket, one request, one reply,
 * with a receive timeout (lib/control.proto, lib/wire.h).
 */
#ifndef VS_CLIENT_H
#define VS_CLIENT_H

#include <stddef.h>

#include "control.pb-c.h"

typedef struct vs_client vs_client_t;

/* Connects to endpoint (copied). timeout_ms bounds each call's wait for a reply.
 * NULL and errno on failure (EINVAL for an endpoint libzmq refuses). */
vs_client_t *vs_client_new(const char *endpoint, int timeout_ms);

/* Safe twice; sets *self_p = NULL. Pending messages are dropped (ZMQ_LINGER 0). */
void vs_client_destroy(vs_client_t **self_p);

/* Sends req (its version is set to VS_CTL_VERSION if 0) and waits for the reply.
 * The caller owns the result: free it with vsctl__reply__free_unpacked(rep, NULL).
 * NULL with a one-line message in err, and errno set, when:
 *   vscoped cannot be reached or does not answer in time  (ETIMEDOUT, ENOENT, EACCES, ...)
 *   the reply does not decode or answers another request  (EBADMSG, EPROTO)
 *   vscoped answered with an error status   (-status; err is "vscoped: " and its text)
 * After a timeout the socket is replaced, so a late reply is never taken for the next one. */
Vsctl__Reply *vs_client_call(vs_client_t *self, const Vsctl__Request *req, char *err,
    size_t errlen);

/* Borrowed. */
const char *vs_client_endpoint(const vs_client_t *self);

#endif
