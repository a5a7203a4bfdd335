/* vscope-agent's configuration (agent.conf(5)), read with lib/conf. */
#ifndef VS_ACONF_H
#define VS_ACONF_H

#include <stddef.h>
#include <stdint.h>

#include "agentkeys.h"
#include "probe.h"
#include "tail.h"
#include "resources.h"

#define VS_ACONF_MAX_PROBES 64          /* = VS_AGENT_MAX_LATENCY: one Report holds them all */

typedef struct vs_aconf {
	char endpoint[256];             /* tcp://ADDR:PORT; empty: from xenstore */
	char server_key[VS_Z85_KEY_LEN + 1];
	char key_file[512];
	int64_t interval_ns, hello_ns, conns_ns;
	uint32_t statsd_port;           /* 0: no StatsD listener */
	char hsperf_dir[256];           /* "" : no JVM metrics */
	int conns;
	int xenstore;                   /* -1 auto, 0 no, 1 yes */
	uint32_t send_queue;            /* ZMQ_SNDHWM, messages */
	int log_level;
	vs_probe_spec_t probes[VS_ACONF_MAX_PROBES];
	size_t n_probes;
	vs_tail_spec_t logs[VS_AGENT_MAX_LOGS];        /* log directives (tail.h) */
	size_t n_logs;
	vs_res_spec_t resources;        /* the resources directive (resources.h) */
	char procdir[256];              /* where resources reads; /proc (procdir, for tests) */
} vs_aconf_t;

void vs_aconf_defaults(vs_aconf_t *c);
/* Reads path into c (already holding defaults). 0 or -errno, "PATH:LINE: why" in err. */
int vs_aconf_read(vs_aconf_t *c, const char *path, char *err, size_t errlen);
/* Checks what must be present after all sources (file, xenstore) are applied. */
int vs_aconf_check(const vs_aconf_t *c, char *err, size_t errlen);

/* Reads the agent's key file (lib/agentkeys' format, what `vscope keygen` and
 * `vscope-agent -g` write) and refuses one that group or others can read, or whose public key
 * is not the secret key's. 0 or -errno with a message. */
int vs_aconf_keys(const char *path, char pub[VS_Z85_KEY_LEN + 1],
    char sec[VS_Z85_KEY_LEN + 1], char *err, size_t errlen);
/* Creates a new key pair in path (mode 0600, must not exist). */
int vs_aconf_keygen(const char *path, char pub[VS_Z85_KEY_LEN + 1], char *err, size_t errlen);

#endif
