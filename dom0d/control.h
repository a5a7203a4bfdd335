/*
 * vscoped's control endpoint: a ZeroMQ ROUTER answering inventory, list, read, history and
 * connection requests (lib/control.proto). Every request is size-checked before decoding
 * and validated after; a bad one gets an error reply and the endpoint keeps serving.
 */
#ifndef VS_CONTROL_H
#define VS_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "history.h"
#include "intake.h"
#include "shaper.h"
#include "sockdiag.h"

/* What a request can see; owned by the caller, who keeps it current. */
typedef struct vs_control_ctx {
	vs_history_t *history;
	const vs_graph_t *graph;
	const vs_sockdiag_t *sockdiag;  /* may be NULL */
	vs_shaper_t *shaper;            /* may be NULL: shaping requests are refused */
	const vs_intake_t *intake;      /* may be NULL: guest connection requests are refused */
	const uint64_t *counter_abs;    /* per series id: latest raw counter value, may be NULL */
	char host_name[256];
	char hv_name[32];
	char hv_uri[256];
	char hv_error[256];
	int simulated;
	unsigned ncpus;
	uint64_t mem_kib;
	int64_t interval_ns, history_ns, started_ns;
	uint64_t ticks, overruns, refused_series;
	uint64_t requests, bad_requests;
} vs_control_ctx_t;

typedef struct vs_control vs_control_t;

/* Binds endpoint (creating an ipc:// socket's directory, mode 0700, socket 0600).
 * NULL and errno, message in err. */
vs_control_t *vs_control_new(void *zctx, const char *endpoint, vs_control_ctx_t *ctx,
    char *err, size_t errlen);
void vs_control_destroy(vs_control_t **self_p);
void *vs_control_socket(const vs_control_t *self);      /* for zmq_poll */
/* Answers every pending request without blocking. */
void vs_control_process(vs_control_t *self);

/* The transport-free core, for tests and fuzzing: answers one encoded request with a
 * malloc'd encoded reply. Never fails on bad input (that is an error reply); -ENOMEM only. */
int vs_control_handle(vs_control_ctx_t *ctx, const void *req, size_t len, void **reply_r,
    size_t *reply_len_r);

#endif
