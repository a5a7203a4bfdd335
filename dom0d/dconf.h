/* vscoped's configuration: defaults, /etc/vscope/vscoped.conf, then the command line. */
#ifndef VS_DCONF_H
#define VS_DCONF_H

#include <stddef.h>
#include <stdint.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define VS_DCONF_DEFAULT_PATH SYSCONFDIR "/vscope/vscoped.conf"

#define VS_INTERVAL_MIN_NS   1000000LL            /* 1 ms */
#define VS_INTERVAL_MAX_NS   60000000000LL         /* 60 s */

typedef struct vs_dconf {
	char hypervisor[512];        /* auto | xen | libvirt | libvirt:URI */
	char control[512];           /* ZeroMQ endpoint to bind */
	int64_t interval_ns;         /* sampling tick: VIF counters every tick */
	int64_t domain_interval_ns;  /* domain counters (rounded to whole ticks, >= 1 tick) */
	int64_t host_interval_ns;    /* host /proc metrics (likewise) */
	int64_t history_ns;          /* retention */
	uint64_t history_memory;     /* bytes of compressed sample storage; 0 = derived */
	uint64_t max_series;
	int64_t conn_interval_ns;    /* TCP connection table refresh */
	int64_t retry_max_ns;        /* backoff ceiling when the hypervisor is unreachable */
	char pidfile[256];
	int use_syslog;
	int log_level;
	int host_metrics;            /* sample /proc (host CPU, memory, paging, disks) */
	int conn_metrics;            /* sample Dom0's TCP connections */
	/* guest intake (intake.h); off while intake_endpoint is empty */
	char intake_endpoint[256];   /* tcp://ADDR:PORT the guests' agents connect to */
	char intake_user[64];        /* the intake child's unprivileged user */
	char intake_key[256];        /* vscoped's intake key pair; made at first start */
	char agent_keys[256];        /* key directory: one file per domain */
	uint64_t intake_max_msgs;    /* per domain per second */
	uint64_t intake_max_bytes;   /* per domain per second */
	int64_t intake_stats_ns;     /* how often the intake's counters are reported */
	uint64_t intake_max_conns;   /* connection-table entries kept per domain */
	uint64_t intake_log_queue;   /* bytes of guests' log lines queued per domain */
	uint64_t intake_samples_bytes; /* guests' resource samples kept, all domains */
	char mscope_specs[256];      /* spec directory guests' logs may name; "" = default */
	/* DPGs (dpg/vnode.h): off while master_endpoint is empty */
	char master_endpoint[256];   /* vmasterd's ROUTER: ipc://PATH or tcp://ADDR:PORT */
	char master_key[256];        /* tcp://: vmasterd's public key (a key file or Z85) */
	char master_client_key[256]; /* tcp://: this host's key pair (made at first start) */
	char host_name[64];          /* the name this host registers under; "" = hostname */
	char plugin_dir[256];        /* DPG function plugins (*.so) loaded at start; "" = none */
} vs_dconf_t;

void vs_dconf_defaults(vs_dconf_t *c);
/* Reads path over the values already in c; on error c may be partly changed: parse into a
 * copy when the old values must survive (SIGHUP). Messages name file and line. */
int vs_dconf_load(vs_dconf_t *c, const char *path, char *err, size_t errlen);
/* Sets one key as the file would; for command-line overrides. */
int vs_dconf_set(vs_dconf_t *c, const char *key, const char *value, char *err, size_t errlen);
/* Cross-field checks after everything is read. */
int vs_dconf_check(const vs_dconf_t *c, char *err, size_t errlen);

#endif
