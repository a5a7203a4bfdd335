/*
 * End-to-end latency probes, all driven from the agent's one poll loop (no thread per
 * probe): tcp (send N bytes on a kept-open connection, wait for M back), http (GET over a
 * fresh connection, expected status; a bounded HTTP/1.0 client) and cmd (fork/exec through
 * /bin/sh -c, waited for with a pidfd; its run time is the latency).
 */
#ifndef VS_PROBE_H
#define VS_PROBE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwire.h"
#include "summary.h"

enum vs_probe_type { VS_PROBE_TCP, VS_PROBE_HTTP, VS_PROBE_CMD };

#define VS_PROBE_MAX_TARGET 512
#define VS_PROBE_MAX_IO     65536       /* bytes sent or expected by a tcp probe */

typedef struct vs_probe_spec {
	char name[VS_AGENT_MAX_PROBE_LEN + 1];
	enum vs_probe_type type;
	char target[VS_PROBE_MAX_TARGET];       /* host:port, http://host:port/path, command */
	int64_t interval_ns, timeout_ns;
	uint32_t send_bytes, expect_bytes;      /* tcp */
	int expect_status;                      /* http */
} vs_probe_spec_t;

/* Parses "NAME TYPE [interval=D] [timeout=D] [send=N] [expect=N] [status=N] TARGET..."
 * (the value of a `probe =` line). 0 or -EINVAL with a message. */
int vs_probe_spec_parse(const char *v, vs_probe_spec_t *s_r, char *err, size_t errlen);

typedef struct vs_probe vs_probe_t;

vs_probe_t *vs_probe_new(const vs_probe_spec_t *spec);     /* NULL and errno */
void vs_probe_destroy(vs_probe_t **self_p);
const vs_probe_spec_t *vs_probe_spec(const vs_probe_t *self);

/* The fd the probe waits on (or -1) and its events; the poll loop calls vs_probe_io with
 * the revents, and vs_probe_tick at or after vs_probe_deadline(). */
int vs_probe_pollfd(const vs_probe_t *self, short *events_r);
void vs_probe_io(vs_probe_t *self, short revents, int64_t now_ns);
int64_t vs_probe_deadline(const vs_probe_t *self);        /* CLOCK_MONOTONIC ns */
void vs_probe_tick(vs_probe_t *self, int64_t now_ns);

/* This interval's samples (microseconds) and errors; reset starts the next interval. */
vs_samples_t *vs_probe_samples(vs_probe_t *self);
uint32_t vs_probe_errors(const vs_probe_t *self);
void vs_probe_reset(vs_probe_t *self);

#endif
