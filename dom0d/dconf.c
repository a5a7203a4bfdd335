#include "dconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "agentkeys.h"
#include "conf.h"
#include "intake.h"
#include "log.h"
#include "wire.h"

void
vs_dconf_defaults(vs_dconf_t *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->hypervisor, sizeof(c->hypervisor), "auto");
	snprintf(c->control, sizeof(c->control), "%s", VS_CTL_DEFAULT_ENDPOINT);
	c->interval_ns = 100 * VS_NS_PER_MSEC;
	c->domain_interval_ns = 100 * VS_NS_PER_MSEC;
	c->host_interval_ns = 100 * VS_NS_PER_MSEC;
	c->history_ns = 600 * VS_NS_PER_SEC;
	c->history_memory = 0;
	c->max_series = 8192;
	c->conn_interval_ns = VS_NS_PER_SEC;
	c->retry_max_ns = 60 * VS_NS_PER_SEC;
	snprintf(c->pidfile, sizeof(c->pidfile), "%s/vscoped.pid", RUNSTATEDIR);
	c->use_syslog = 1;
	c->log_level = VS_LOG_NOTICE;
	c->host_metrics = 1;
	c->conn_metrics = 1;
	snprintf(c->intake_user, sizeof(c->intake_user), "%s", VS_INTAKE_DEFAULT_USER);
	snprintf(c->intake_key, sizeof(c->intake_key), "%s", VS_INTAKE_KEY_DEFAULT);
	snprintf(c->agent_keys, sizeof(c->agent_keys), "%s", VS_AGENTKEYS_DEFAULT_DIR);
	c->intake_max_msgs = 100;
	c->intake_max_conns = 256;
	c->intake_log_queue = 4 << 20;
	c->intake_samples_bytes = 16 << 20;
	c->intake_max_bytes = 1 << 20;
	c->intake_stats_ns = VS_NS_PER_SEC;
}

static int
s_duration(const char *v, int64_t min, int64_t max, int64_t *r, const char *key, char *err,
    size_t errlen)
{
	int64_t ns;

	if (vs_duration_parse(v, VS_NS_PER_MSEC, &ns) < 0) {
		snprintf(err, errlen, "%s: \"%.64s\" is not a duration (e.g. 100ms, 10s, 5m)", key, v);
		return -EINVAL;
	}
	if (ns < min || ns > max) {
		snprintf(err, errlen, "%s: %.64s is out of range", key, v);
		return -ERANGE;
	}
	*r = ns;
	return 0;
}

static int
s_string(char *dst, size_t size, const char *v, const char *key, char *err, size_t errlen)
{
	if (*v == '\0' || strlen(v) >= size) {
		snprintf(err, errlen, "%s: value empty or longer than %zu bytes", key, size - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
s_flag(int *dst, const char *v, const char *key, char *err, size_t errlen)
{
	if (vs_conf_bool(v, dst) < 0) {
		snprintf(err, errlen, "%s: expected yes or no, not \"%.64s\"", key, v);
		return -EINVAL;
	}
	return 0;
}

int
vs_dconf_set(vs_dconf_t *c, const char *key, const char *v, char *err, size_t errlen)
{
	if (!strcmp(key, "hypervisor")) {
		if (strcmp(v, "auto") && strcmp(v, "xen") && strcmp(v, "libvirt") &&
		    strncmp(v, "libvirt:", 8)) {
			snprintf(err, errlen, "hypervisor: expected auto, xen, libvirt or "
			    "libvirt:URI, not \"%.64s\"", v);
			return -EINVAL;
		}
		return s_string(c->hypervisor, sizeof(c->hypervisor), v, key, err, errlen);
	}
	if (!strcmp(key, "control")) {
		if (!strncmp(v, "tcp://", 6)) {
			/* everything arriving over the network must come from an authenticated
			 * peer; CURVE keys arrive with vmasterd, until then only local sockets */
			snprintf(err, errlen, "control: tcp:// endpoints are refused until they can "
			    "be CURVE-authenticated; use an ipc:// path");
			return -EPROTONOSUPPORT;
		}
		if (strncmp(v, "ipc://", 6)) {
			snprintf(err, errlen, "control: expected an ipc:// endpoint");
			return -EINVAL;
		}
		return s_string(c->control, sizeof(c->control), v, key, err, errlen);
	}
	if (!strcmp(key, "interval"))
		return s_duration(v, VS_INTERVAL_MIN_NS, VS_INTERVAL_MAX_NS, &c->interval_ns, key,
		    err, errlen);
	if (!strcmp(key, "domain-interval"))
		return s_duration(v, VS_INTERVAL_MIN_NS, VS_INTERVAL_MAX_NS, &c->domain_interval_ns,
		    key, err, errlen);
	if (!strcmp(key, "host-interval"))
		return s_duration(v, VS_INTERVAL_MIN_NS, VS_INTERVAL_MAX_NS, &c->host_interval_ns,
		    key, err, errlen);
	if (!strcmp(key, "history"))
		return s_duration(v, VS_NS_PER_SEC, 86400 * VS_NS_PER_SEC, &c->history_ns, key,
		    err, errlen);
	if (!strcmp(key, "connections-interval"))
		return s_duration(v, 10 * VS_NS_PER_MSEC, 3600 * VS_NS_PER_SEC,
		    &c->conn_interval_ns, key, err, errlen);
	if (!strcmp(key, "retry-max"))
		return s_duration(v, VS_NS_PER_SEC, 3600 * VS_NS_PER_SEC, &c->retry_max_ns, key,
		    err, errlen);
	if (!strcmp(key, "history-memory")) {
		if (vs_conf_size(v, &c->history_memory) < 0 ||
		    (c->history_memory != 0 && c->history_memory < (1 << 20)) ||
		    c->history_memory > (64ULL << 30)) {
			snprintf(err, errlen, "history-memory: expected 0 (automatic) or a size "
			    "between 1M and 64G, not \"%.64s\"", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "max-series")) {
		if (vs_conf_uint(v, 64, 1 << 20, &c->max_series) < 0) {
			snprintf(err, errlen, "max-series: expected 64..1048576, not \"%.64s\"", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "pidfile"))
		return s_string(c->pidfile, sizeof(c->pidfile), v, key, err, errlen);
	if (!strcmp(key, "log")) {
		if (!strcmp(v, "syslog"))
			c->use_syslog = 1;
		else if (!strcmp(v, "stderr"))
			c->use_syslog = 0;
		else {
			snprintf(err, errlen, "log: expected syslog or stderr, not \"%.64s\"", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "log-level")) {
		int l = vs_log_level_parse(v);
		if (l < 0) {
			snprintf(err, errlen, "log-level: expected error, warning, notice, info or "
			    "debug, not \"%.64s\"", v);
			return -EINVAL;
		}
		c->log_level = l;
		return 0;
	}
	if (!strcmp(key, "host-metrics"))
		return s_flag(&c->host_metrics, v, key, err, errlen);
	if (!strcmp(key, "connection-metrics"))
		return s_flag(&c->conn_metrics, v, key, err, errlen);
	if (!strcmp(key, "intake-endpoint")) {
		if (!strcmp(v, "off")) {
			c->intake_endpoint[0] = '\0';
			return 0;
		}
		if (strncmp(v, "tcp://", 6)) {
			snprintf(err, errlen, "intake-endpoint: expected off or tcp://ADDR:PORT, not "
			    "\"%.64s\"", v);
			return -EINVAL;
		}
		return s_string(c->intake_endpoint, sizeof(c->intake_endpoint), v, key, err,
		    errlen);
	}
	if (!strcmp(key, "master-endpoint")) {
		if (!strcmp(v, "off")) {
			c->master_endpoint[0] = '\0';
			return 0;
		}
		if (strncmp(v, "tcp://", 6) && strncmp(v, "ipc://", 6)) {
			snprintf(err, errlen, "master-endpoint: expected off, ipc://PATH or "
			    "tcp://ADDR:PORT, not \"%.64s\"", v);
			return -EINVAL;
		}
		return s_string(c->master_endpoint, sizeof(c->master_endpoint), v, key, err,
		    errlen);
	}
	if (!strcmp(key, "plugin-dir")) {
		/* the loader checks ownership and modes at start (vs_dpg_plugin_load) */
		if (!strcmp(v, "off")) {
			c->plugin_dir[0] = '\0';
			return 0;
		}
		if (v[0] != '/') {
			snprintf(err, errlen, "plugin-dir: expected off or an absolute path, not "
			    "\"%.64s\"", v);
			return -EINVAL;
		}
		return s_string(c->plugin_dir, sizeof(c->plugin_dir), v, key, err, errlen);
	}
	if (!strcmp(key, "master-key"))
		return s_string(c->master_key, sizeof(c->master_key), v, key, err, errlen);
	if (!strcmp(key, "master-client-key"))
		return s_string(c->master_client_key, sizeof(c->master_client_key), v, key, err,
		    errlen);
	if (!strcmp(key, "host-name")) {
		size_t n = strlen(v);

		for (size_t i = 0; i < n; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    v[i]))
				n = 0;
		if (n == 0 || n > 63) {
			snprintf(err, errlen, "host-name: 1..63 of [A-Za-z0-9_.-], not \"%.64s\"", v);
			return -EINVAL;
		}
		return s_string(c->host_name, sizeof(c->host_name), v, key, err, errlen);
	}
	if (!strcmp(key, "intake-user"))
		return s_string(c->intake_user, sizeof(c->intake_user), v, key, err, errlen);
	if (!strcmp(key, "intake-key"))
		return s_string(c->intake_key, sizeof(c->intake_key), v, key, err, errlen);
	if (!strcmp(key, "agent-keys"))
		return s_string(c->agent_keys, sizeof(c->agent_keys), v, key, err, errlen);
	if (!strcmp(key, "intake-max-conns")) {
		if (vs_conf_uint(v, 1, 1024, &c->intake_max_conns) < 0) {
			snprintf(err, errlen, "intake-max-conns: expected 1..1024, not \"%.64s\"",
			    v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "intake-log-queue")) {
		if (vs_conf_size(v, &c->intake_log_queue) < 0 || c->intake_log_queue < 65536 ||
		    c->intake_log_queue > (1ULL << 30)) {
			snprintf(err, errlen, "intake-log-queue: expected a size between 64K and 1G, "
			    "not \"%.64s\"", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "intake-samples-bytes")) {
		if (vs_conf_size(v, &c->intake_samples_bytes) < 0 ||
		    c->intake_samples_bytes < 65536 || c->intake_samples_bytes > (4ULL << 30)) {
			snprintf(err, errlen, "intake-samples-bytes: expected a size between 64K and "
			    "4G, not \"%.64s\"", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "mscope-specs"))
		return s_string(c->mscope_specs, sizeof(c->mscope_specs), v, key, err, errlen);
	if (!strcmp(key, "intake-max-msgs")) {
		if (vs_conf_uint(v, 1, 1000000, &c->intake_max_msgs) < 0) {
			snprintf(err, errlen, "intake-max-msgs: expected 1..1000000, not \"%.64s\"",
			    v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "intake-max-bytes")) {
		if (vs_conf_size(v, &c->intake_max_bytes) < 0 || c->intake_max_bytes < 1024 ||
		    c->intake_max_bytes > (1ULL << 30)) {
			snprintf(err, errlen, "intake-max-bytes: expected a size between 1K and 1G, "
			    "not \"%.64s\"", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "intake-stats-interval"))
		return s_duration(v, 10 * VS_NS_PER_MSEC, 60 * VS_NS_PER_SEC, &c->intake_stats_ns,
		    key, err, errlen);
	snprintf(err, errlen, "unknown key \"%.64s\"", key);
	return -ENOENT;
}

static int
s_conf_fn(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	return vs_dconf_set(arg, key, value, err, errlen);
}

int
vs_dconf_load(vs_dconf_t *c, const char *path, char *err, size_t errlen)
{
	return vs_conf_read(path, s_conf_fn, c, err, errlen);
}

int
vs_dconf_check(const vs_dconf_t *c, char *err, size_t errlen)
{
	if (c->history_ns < c->interval_ns) {
		snprintf(err, errlen, "history (%lld ms) is shorter than interval (%lld ms)",
		    (long long)(c->history_ns / VS_NS_PER_MSEC),
		    (long long)(c->interval_ns / VS_NS_PER_MSEC));
		return -EINVAL;
	}
	if (c->history_ns / c->interval_ns > 100000000) {
		snprintf(err, errlen, "history/interval is more than 1e8 ticks");
		return -EINVAL;
	}
	return 0;
}
