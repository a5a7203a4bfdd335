/*
 * Following a log file from vscope-agent's poll loop (the `log` directive of agent.conf(5)):
 * the file is looked at every VS_TAIL_POLL_NS (stat polling: it works on every file system
 * and needs no inotify watch per directory), whole lines go to a bounded backlog that the
 * agent sends as LogLines (lib/agent.proto), partial last lines wait for their newline.
 *
 * Rotation by rename (the path names another inode, or none): the old file is read to its
 * end, then the file now at the path is opened and read from its start (a new generation,
 * lines count from 1 again). Truncation (copytruncate, or "> file": the size is below the
 * offset, or the first VS_TAIL_HEAD bytes changed, as when the file was truncated and
 * written again past the offset between two polls): the file is read again from 0, a new
 * generation, counted. A file that does not
 * exist yet is opened when it appears, from its start. A line longer than VS_AGENT_MAX_LINE
 * is cut: not sent, counted, its number skipped (Dom0 sees a gap of one).
 *
 * The backlog holds at most VS_TAIL_BACKLOG bytes; while it is full (Dom0 unreachable) the
 * tail stops reading, so the file itself holds what is not sent yet and nothing is lost
 * unless the file goes away meanwhile (a second rotation, a truncation: counted).
 */
#ifndef VS_TAIL_H
#define VS_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include "agent.pb-c.h"
#include "agentwire.h"

#define VS_TAIL_POLL_NS   (100 * 1000000LL)
#define VS_TAIL_BACKLOG   (1024 * 1024)         /* bytes of lines waiting to be sent, per log */
#define VS_TAIL_READ      (256 * 1024)          /* bytes read per poll, per log */
#define VS_TAIL_HEAD      64                    /* first bytes compared at each poll */

typedef struct vs_tail_spec {
	char path[VS_AGENT_MAX_LOG_PATH + 1];
	char spec[VS_AGENT_MAX_SPEC_LEN + 1];           /* "" with a logformat */
	char logformat[VS_AGENT_MAX_LOGFORMAT + 1];
	int from_start;                                 /* from=start: the whole existing file */
} vs_tail_spec_t;

/* Parses "PATH spec=NAME [logformat="..."] [from=end|start]" (logformat's value in double
 * quotes, \" and \\ escaped; spec= or logformat= or both). 0 or -EINVAL with why. */
int vs_tail_spec_parse(const char *v, vs_tail_spec_t *s_r, char *err, size_t errlen);

typedef struct vs_tail_stats {
	uint64_t lines;                 /* whole lines read */
	uint64_t sent;                  /* lines handed to the socket */
	uint64_t truncations, rotations, cut, dropped;
	uint64_t backlog_bytes;
} vs_tail_stats_t;

/* One batch of consecutive lines of one generation, borrowed from the tail until the next
 * vs_tail_poll or vs_tail_consume. */
typedef struct vs_tail_batch {
	uint64_t inode, generation, first_line;
	size_t n;
	const char *lines[VS_AGENT_MAX_LOG_LINES];      /* NUL-terminated */
} vs_tail_batch_t;

typedef struct vs_tail vs_tail_t;

/* NULL and errno. session: the agent's start time, sent with every batch. */
vs_tail_t *vs_tail_new(const vs_tail_spec_t *spec, uint32_t index, uint64_t session);
void vs_tail_destroy(vs_tail_t **self_p);
/* Reads what is new (bounded), following rotation and truncation. now: CLOCK_MONOTONIC. */
void vs_tail_poll(vs_tail_t *self, int64_t now);
int64_t vs_tail_deadline(const vs_tail_t *self);
/* The oldest lines waiting, at most max_bytes of text (at least one line): 0, or -ENOENT
 * when none wait. */
int vs_tail_peek(vs_tail_t *self, size_t max_bytes, vs_tail_batch_t *b_r);
/* The n lines of the last peek were sent: forget them. */
void vs_tail_consume(vs_tail_t *self, size_t n);
/* Fills m (body LogLines in ll, lines in b) with the oldest waiting lines, as many as fit
 * in one frame: 0, or -ENOENT when none wait. After a successful send, vs_tail_consume(
 * self, b->n). */
int vs_tail_msg(vs_tail_t *self, Vsagent__AgentMsg *m, Vsagent__LogLines *ll,
    vs_tail_batch_t *b);
const vs_tail_spec_t *vs_tail_spec(const vs_tail_t *self);
uint32_t vs_tail_index(const vs_tail_t *self);
uint64_t vs_tail_session(const vs_tail_t *self);
const vs_tail_stats_t *vs_tail_stats(const vs_tail_t *self);

#endif
