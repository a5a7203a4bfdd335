/*
 * The guest intake (privilege-separated, after OpenBGPD's session engine). vscoped forks
 * and re-executes itself as the intake child ("vscoped --intake-child"): it keeps only a
 * SOCK_SEQPACKET socketpair to the parent, drops to an unprivileged user, binds the
 * guest-facing ZeroMQ ROUTER with CURVE, runs the ZAP handler that admits only known guest
 * keys, decodes and validates every guest message (lib/agent.proto) with per-domain quotas,
 * and hands the parent nothing but fixed-size records, which the parent checks again.
 *
 * Parent -> child: one vs_intake_cfgmsg_t, then key tables (BEGIN, ENTRY..., END).
 * Child -> parent: datagrams of whole vs_intake_rec_t (1..VS_INTAKE_BATCH).
 */
#ifndef VS_INTAKE_H
#define VS_INTAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agentkeys.h"
#include "agentwire.h"

#define VS_INTAKE_NAME_LEN   96         /* metric name buffer, NUL included */
#define VS_INTAKE_BATCH      128        /* records per datagram (17 KiB) */
#define VS_REC_HOST          UINT32_MAX /* dom of a record about no domain (unknown keys) */
#define VS_INTAKE_DEFAULT_USER "vscope-intake"
#define VS_INTAKE_IO_THREADS 2          /* the child's ZeroMQ I/O threads: CURVE on both cores */
#define VS_INTAKE_RCVHWM     1000       /* per guest connection, messages: with ZMQ_MAXMSGSIZE the
                                         * bound on what one guest can queue in the child */

typedef enum {
	VS_DROP_NONE = 0,
	VS_DROP_OVERSIZE,               /* frame over VS_AGENT_MAX_MSG */
	VS_DROP_MALFORMED,              /* does not decode, or a field fails validation */
	VS_DROP_UNKNOWN_TYPE,           /* decodes, but no body this intake knows */
	VS_DROP_QUOTA,                  /* over the domain's messages/s or bytes/s */
	VS_DROP_UNKNOWN_KEY,            /* ZAP refused the key, or its binding was removed */
	VS_DROP_BUSY,                   /* the parent did not keep up: records lost */
	VS_DROP_N
} vs_intake_drop_t;

/* "oversize", "malformed", "unknown_type", "quota", "unknown_key", "busy" */
const char *vs_intake_drop_name(vs_intake_drop_t d);

typedef enum {
	VS_REC_METRIC = 1,              /* a guest's value (name never starts with "intake.") */
	VS_REC_STAT = 2,                /* the intake's own counters ("intake.*") */
	VS_REC_ERROR = 3,               /* the child cannot run; name holds why; it exits */
	VS_REC_READY = 4,               /* the child is bound and unprivileged; value = its uid */
	/* A guest's connection table: BEGIN (value = entries that follow, kind = the guest's
	 * truncated flag, pad = the entries in its message), that many CONN, END (value =
	 * the same count). The records of one table are consecutive. */
	VS_REC_CONNS_BEGIN = 5,
	VS_REC_CONN = 6,
	VS_REC_CONNS_END = 7,
	/* A guest's log lines (LogLines): BEGIN (log: the message's numbers), the strings spec,
	 * path, logformat and then every line, each as TEXT records (name: up to 96 bytes, kind:
	 * how many, pad: 1 on a string's last one), END (value = the lines). Consecutive. */
	VS_REC_LOG_BEGIN = 8,
	VS_REC_LOG_TEXT = 9,
	VS_REC_LOG_END = 10,
	/* A guest's resource samples (Samples): per sample one CPU and one MEM record, then a
	 * DISK and a NET record per device, all with the sample's ts_ns (sample.v as the
	 * message has them: CPU 8 tick counters, MEM 6 kB values, DISK 5, NET 4). The parent
	 * checks them again, keeps them per domain (intake_samples.c). */
	VS_REC_SAMPLE_CPU = 11,
	VS_REC_SAMPLE_MEM = 12,
	VS_REC_SAMPLE_DISK = 13,
	VS_REC_SAMPLE_NET = 14,
} vs_intake_rec_type_t;

typedef struct vs_intake_sample {
	char dev[VS_AGENT_MAX_DEV_NAME + 1];    /* DISK and NET: the device, NUL-terminated */
	uint64_t v[8];
} vs_intake_sample_t;

#define VS_INTAKE_DEFAULT_MAX_CONNS 256 /* entries kept per domain */
#define VS_INTAKE_MAX_SPECS 128         /* spec names the child knows */
#define VS_INTAKE_DEFAULT_LOG_QUEUE (4 << 20)   /* bytes of log lines queued per domain */
#define VS_INTAKE_LOG_TOTAL_DOMS    16          /* all domains' queues: 16 domains' worth */
#define VS_INTAKE_LOG_TOTAL_MAX     (256ULL << 20)  /* ... and at most this (or one domain's) */

typedef struct vs_intake_conn {
	uint8_t family;                 /* 4 or 6 */
	uint8_t state;                  /* 1..12, the kernel's TCP states */
	uint16_t local_port, remote_port;
	uint8_t local_addr[16], remote_addr[16];        /* network order; 4 bytes used for v4 */
	uint32_t rtt_us;
	uint64_t bytes_acked, bytes_received;
} vs_intake_conn_t;

typedef struct vs_intake_logmeta {
	uint32_t log;                   /* < VS_AGENT_MAX_LOGS */
	uint32_t nlines;                /* 1..VS_AGENT_MAX_LOG_LINES */
	uint32_t text_bytes;            /* of all strings together */
	uint32_t pad;
	uint64_t session, inode, generation, first_line;
	uint64_t truncations, rotations, cut, dropped;  /* the agent's totals for the log */
} vs_intake_logmeta_t;

typedef struct vs_intake_rec {
	uint32_t type;                  /* vs_intake_rec_type_t */
	uint32_t dom;                   /* index in the parent's key table, or VS_REC_HOST */
	union {
		char name[VS_INTAKE_NAME_LEN];  /* NUL-terminated, [A-Za-z0-9_.:-] (ERROR: text) */
		vs_intake_conn_t conn;  /* VS_REC_CONN */
		vs_intake_logmeta_t log;        /* VS_REC_LOG_BEGIN */
		vs_intake_sample_t sample;      /* VS_REC_SAMPLE_* */
	};
	double value;
	uint32_t kind;                  /* 0 gauge, 1 counter */
	uint32_t pad;
	int64_t ts_ns;                  /* guest clock, informative */
} vs_intake_rec_t;

/* ---- decoding and validation (intake_wire.c; transport-free, for tests and fuzzing) --- */

typedef struct vs_intake_msginfo {
	int body;                       /* 10 hello, 11 report, 12 conns, 0 none */
	uint64_t seq;
	uint32_t report_interval_ms;    /* from a Hello */
	size_t n_records;
} vs_intake_msginfo_t;

typedef int (*vs_intake_emit_fn)(void *arg, const vs_intake_rec_t *rec);

/* Checks the frame's size, decodes it, validates every field and only then calls emit for
 * each record the message yields (dom is copied into them). Returns VS_DROP_NONE or the
 * reason it was dropped, with a message in err; emit is never called for a dropped one. */
vs_intake_drop_t vs_intake_decode(const void *buf, size_t len, uint32_t dom,
    vs_intake_emit_fn emit, void *arg, vs_intake_msginfo_t *info_r, char *err, size_t errlen);

/* What the intake child checks beyond the message's own form, for LogLines: that the spec
 * is one Dom0 knows (or the logformat one it can derive) and that the lines come in order
 * (intake_logs.c). Set once in the child; VS_DROP_NONE or the reason, with err. */
typedef struct vs_intake_loginfo {
	uint32_t log;
	const char *spec, *logformat, *path;
	uint64_t session, inode, generation, first_line;
	size_t nlines;
} vs_intake_loginfo_t;
typedef vs_intake_drop_t (*vs_intake_logcheck_fn)(void *arg, uint32_t dom,
    const vs_intake_loginfo_t *li, char *err, size_t errlen);
void vs_intake_set_logcheck(vs_intake_logcheck_fn fn, void *arg);

/* Samples: the child keeps, per domain index, the newest sample time it passed; a message
 * whose first sample is not after it is dropped (intake_wire.c). Reset with the key table. */
void vs_intake_samples_reset_order(void);

/* The parent's second look at a record from the child: 0, or -EINVAL with why. */
int vs_intake_rec_check(const vs_intake_rec_t *rec, char *err, size_t errlen);

/* [A-Za-z0-9_.:-], 1..max bytes. */
int vs_intake_name_ok(const char *s, size_t max);

/* ---- per-domain quota: a token bucket (intake_quota.c) ---------------------------- */

typedef struct vs_bucket {
	double tokens, rate, burst;
	int64_t last_ns;
} vs_bucket_t;

/* rate per second; burst is the most that can be taken at once (at least rate / 10). */
void vs_bucket_init(vs_bucket_t *b, double rate, double burst, int64_t now_ns);
/* 1 and takes cost when there are enough tokens, else 0 and takes nothing. */
int vs_bucket_take(vs_bucket_t *b, double cost, int64_t now_ns);

/* ---- the child (intake.c) ----------------------------------------------------------- */

typedef struct vs_intake_cfgmsg {
	uint32_t magic;                 /* VS_INTAKE_MAGIC */
	char endpoint[256];
	char public_key[VS_Z85_KEY_LEN + 1];
	char secret_key[VS_Z85_KEY_LEN + 1];
	char user[64];
	uint32_t max_msgs;              /* per domain per second */
	uint32_t max_bytes;
	uint32_t stats_ms;              /* how often the child reports its counters */
	uint32_t max_conns;             /* connection entries forwarded per table */
	int32_t log_level;
	int32_t use_syslog;
	uint32_t n_specs;               /* the spec names LogLines may name */
	char specs[VS_INTAKE_MAX_SPECS][VS_AGENT_MAX_SPEC_LEN + 1];
} vs_intake_cfgmsg_t;
#define VS_INTAKE_MAGIC 0x76736931u

/* Runs the child on fd (the socketpair); returns its exit status. */
int vs_intake_child_main(int fd);

/* ---- the parent's handle (intake.c) ------------------------------------------------ */

typedef struct vs_intake_config {
	const char *exe;                /* program to run as the child; NULL = /proc/self/exe */
	char endpoint[256];
	char public_key[VS_Z85_KEY_LEN + 1];
	char secret_key[VS_Z85_KEY_LEN + 1];
	char user[64];
	uint32_t max_msgs, max_bytes, stats_ms;
	uint32_t max_conns;             /* entries kept per domain; 0 = the default */
	int log_level, use_syslog;
	uint64_t log_queue;             /* bytes of log lines kept per domain; 0 = the default */
	uint64_t samples_bytes;         /* guests' samples kept, all domains; 0 = 16 MiB */
	size_t n_specs;                 /* spec names guests' logs may name (mscope specs) */
	char specs[VS_INTAKE_MAX_SPECS][VS_AGENT_MAX_SPEC_LEN + 1];
} vs_intake_config_t;

/* A domain's latest connection table, as vs_intake_conns returns it (borrowed: valid until
 * the next vs_intake_process). */
typedef struct vs_intake_conns {
	const vs_intake_conn_t *conns;
	size_t n;
	uint32_t guest_total;           /* entries in the guest's message */
	int guest_truncated;
	uint32_t dropped;               /* over the cap, not kept */
	uint32_t cap;
	int64_t time_ns, guest_time_ns;
	uint64_t tables;
} vs_intake_conns_t;

typedef struct vs_intake vs_intake_t;

/* Called by vs_intake_process for every record that passed the parent's checks; domain is
 * the bound domain's name, or NULL for VS_REC_HOST. */
typedef void (*vs_intake_rec_fn)(void *arg, const char *domain, const vs_intake_rec_t *rec);

vs_intake_t *vs_intake_new(const vs_intake_config_t *cfg, char *err, size_t errlen);
void vs_intake_destroy(vs_intake_t **self_p);
/* Replaces the key table (copied) and sends it to the child. Domains keep their index. */
int vs_intake_set_keys(vs_intake_t *self, const vs_agentkey_t *keys, size_t n);
/* The socketpair to poll for readability; -1 while no child runs. */
int vs_intake_fd(const vs_intake_t *self);
/* Reads what the child sent, without blocking (bounded per call). */
void vs_intake_process(vs_intake_t *self, vs_intake_rec_fn fn, void *arg);
/* Reaps and restarts the child with backoff, resends a table that did not fit. Call often. */
void vs_intake_poll(vs_intake_t *self);
pid_t vs_intake_pid(const vs_intake_t *self);
uint64_t vs_intake_restarts(const vs_intake_t *self);
uint64_t vs_intake_bad_records(const vs_intake_t *self);
/* The latest connection table of domain: 0, or -ENOENT when none came from it. */
int vs_intake_conns(const vs_intake_t *self, const char *domain, vs_intake_conns_t *out);
/* ---- guests' log lines, queued per domain until fetched (intake_logs.c) ------------- */

/* One message's lines as the parent queued them; borrowed by the callback. */
typedef struct vs_intake_logbatch {
	uint64_t seq;                   /* vscoped-wide, increasing: the fetch cursor */
	int64_t time_ns;                /* when vscoped queued it */
	vs_intake_logmeta_t meta;
	const char *spec, *path, *logformat;
	const char *text;               /* meta.nlines lines, each ending in '\n' */
	size_t text_len;
} vs_intake_logbatch_t;

/* Per domain and log: what came, what was lost and why. */
typedef struct vs_intake_logstat {
	uint32_t log;
	char path[VS_AGENT_MAX_LOG_PATH + 1];
	uint64_t batches, lines;        /* queued */
	uint64_t gap_lines;             /* line numbers skipped (cut lines, lost messages) */
	uint64_t queue_dropped;         /* lines pushed out of the full queue before a fetch */
	vs_intake_logmeta_t last;       /* the agent's latest totals */
} vs_intake_logstat_t;

typedef struct vs_intake_logs vs_intake_logs_t;
typedef int (*vs_intake_logbatch_fn)(void *arg, const char *domain,
    const vs_intake_logbatch_t *b);
typedef int (*vs_intake_logstat_fn)(void *arg, const char *domain,
    const vs_intake_logstat_t *st);

/* The batches with seq >= cursor of domain (NULL: every domain), oldest first, until
 * max_bytes of text (at least one batch); *next_r: the cursor for the next call (cursor
 * UINT64_MAX: no batch, *next_r where the next to come will start). 0 or fn's non-zero. */
int vs_intake_logs_each(const vs_intake_t *self, const char *domain, uint64_t cursor,
    size_t max_bytes, vs_intake_logbatch_fn fn, void *arg, uint64_t *next_r);
int vs_intake_logs_stats(const vs_intake_t *self, const char *domain, vs_intake_logstat_fn fn,
    void *arg);
/* Bytes queued, batches refused by the parent's checks. */
void vs_intake_logs_totals(const vs_intake_t *self, uint64_t *queued_r, uint64_t *bad_r,
    uint64_t *oldest_seq_r);

/* Fills cfg's spec names from the mscope spec directory dir ("" or NULL: the default,
 * $VSCOPE_MSCOPE_SPECS, else the installed one, else the source tree's). 0 or -errno. */
int vs_intake_spec_names(const char *dir, vs_intake_config_t *cfg, char *err, size_t errlen);

/* (intake.c's parts: the queue itself) */
vs_intake_logs_t *vs_intake_logs_new(uint64_t max_bytes_per_dom);
void vs_intake_logs_destroy(vs_intake_logs_t **self_p);
/* One LOG record from the child (checked by vs_intake_rec_check); -EINVAL when it does not
 * fit the message being assembled (which is dropped). */
int vs_intake_logs_rec(vs_intake_logs_t *self, const vs_intake_rec_t *r);
int vs_intake_logs_each_q(const vs_intake_logs_t *q, char (*names)[VS_KEYDOM_MAX + 1],
    size_t n_names, const char *domain, uint64_t cursor, size_t max_bytes,
    vs_intake_logbatch_fn fn, void *arg, uint64_t *next_r);
int vs_intake_logs_stats_q(const vs_intake_logs_t *q, char (*names)[VS_KEYDOM_MAX + 1],
    size_t n_names, const char *domain, vs_intake_logstat_fn fn, void *arg);
void vs_intake_logs_totals_q(const vs_intake_logs_t *q, uint64_t *queued_r, uint64_t *bad_r,
    uint64_t *oldest_seq_r);
/* The child's check (vs_intake_logcheck_fn) over cfg's spec names; arg: a
 * vs_intake_logorder_t per domain index, VS_AGENTKEYS_MAX of them. */
typedef struct vs_intake_logcheck vs_intake_logcheck_t;
vs_intake_logcheck_t *vs_intake_logcheck_new(const vs_intake_cfgmsg_t *cfg);
void vs_intake_logcheck_destroy(vs_intake_logcheck_t **self_p);
vs_intake_drop_t vs_intake_logcheck(void *arg, uint32_t dom, const vs_intake_loginfo_t *li,
    char *err, size_t errlen);

/* ---- guests' resource samples, kept per domain until pushed out (intake_samples.c) ---- */

/* One record as kept: seq is vscoped-wide and increasing (the fetch cursor). */
typedef struct vs_intake_samplerow {
	uint64_t seq;
	int64_t ts_ns;                  /* the guest's, checked against Dom0's clock */
	uint32_t dom;
	uint32_t type;                  /* VS_REC_SAMPLE_* */
	vs_intake_sample_t s;
} vs_intake_samplerow_t;

typedef struct vs_intake_samplestat {
	uint64_t samples;               /* CPU records kept: one per sample */
	uint64_t rows;                  /* records kept */
	uint64_t pushed_out;            /* records pushed out of the full store unfetched */
	uint64_t bad;                   /* refused by the parent (order, form) */
	int64_t last_ts_ns;
} vs_intake_samplestat_t;

typedef struct vs_intake_samples vs_intake_samples_t;
typedef int (*vs_intake_samplerow_fn)(void *arg, const char *domain,
    const vs_intake_samplerow_t *r);
vs_intake_samples_t *vs_intake_samples_new(uint64_t max_bytes);
void vs_intake_samples_destroy(vs_intake_samples_t **self_p);
/* A SAMPLE record from the child (checked by vs_intake_rec_check): 0, or -EINVAL when it
 * goes back in time for its domain (dropped, counted). */
int vs_intake_samples_rec(vs_intake_samples_t *self, const vs_intake_rec_t *r);
/* Rows with seq >= cursor of domain (NULL: all), oldest first, at most max_rows; *next_r as
 * vs_intake_logs_each. 0 or fn's non-zero. */
int vs_intake_samples_each(const vs_intake_t *self, const char *domain, uint64_t cursor,
    size_t max_rows, vs_intake_samplerow_fn fn, void *arg, uint64_t *next_r);
/* Per domain (NULL: all); 0 or -ENOENT. */
int vs_intake_samples_stat(const vs_intake_t *self, const char *domain,
    vs_intake_samplestat_t *st);
void vs_intake_samples_totals(const vs_intake_t *self, uint64_t *rows_r, uint64_t *bytes_r,
    uint64_t *oldest_r, uint64_t *pushed_r);
/* (the store itself; intake.c passes its names) */
int vs_intake_samples_each_q(const vs_intake_samples_t *q, char (*names)[VS_KEYDOM_MAX + 1],
    size_t n_names, const char *domain, uint64_t cursor, size_t max_rows,
    vs_intake_samplerow_fn fn, void *arg, uint64_t *next_r);
int vs_intake_samples_stat_q(const vs_intake_samples_t *q, char (*names)[VS_KEYDOM_MAX + 1],
    size_t n_names, const char *domain, vs_intake_samplestat_t *st);
void vs_intake_samples_totals_q(const vs_intake_samples_t *q, uint64_t *rows_r,
    uint64_t *bytes_r, uint64_t *oldest_r, uint64_t *pushed_r);

/* Formats a connection's address and port: "10.0.0.1:80", "[::1]:80". */
void vs_intake_conn_addr(const vs_intake_conn_t *c, int remote, char *buf, size_t len);

#endif
