#include "aconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "conf.h"
#include "log.h"

void
vs_aconf_defaults(vs_aconf_t *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->key_file, sizeof(c->key_file), "%s/vscope/agent.key", SYSCONFDIR);
	c->interval_ns = VS_NS_PER_SEC;
	c->hello_ns = 5 * VS_NS_PER_SEC;
	c->conns_ns = 5 * VS_NS_PER_SEC;
	c->statsd_port = 8125;
	strcpy(c->hsperf_dir, "/tmp");
	c->conns = 1;
	strcpy(c->procdir, "/proc");
	c->xenstore = -1;
	c->send_queue = 100;
	c->log_level = VS_LOG_NOTICE;
}

static int
s_dur(const char *v, int64_t min, int64_t max, int64_t *r, char *err, size_t errlen)
{
	if (vs_duration_parse(v, VS_NS_PER_SEC, r) < 0 || *r < min || *r > max) {
		snprintf(err, errlen, "'%s' is not a duration in %lldms..%llds", v,
		    (long long)(min / VS_NS_PER_MSEC), (long long)(max / VS_NS_PER_SEC));
		return -EINVAL;
	}
	return 0;
}

static int
s_copy(char *dst, size_t len, const char *v, char *err, size_t errlen)
{
	if (strlen(v) >= len) {
		snprintf(err, errlen, "value too long (at most %zu bytes)", len - 1);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

static int
s_key(void *arg, const char *key, const char *v, char *err, size_t errlen)
{
	vs_aconf_t *c = arg;
	uint64_t u;
	int b;

	if (strcmp(key, "endpoint") == 0) {
		if (strncmp(v, "tcp://", 6) != 0 || strrchr(v + 6, ':') == NULL) {
			snprintf(err, errlen, "endpoint '%s' is not tcp://ADDR:PORT", v);
			return -EINVAL;
		}
		return s_copy(c->endpoint, sizeof(c->endpoint), v, err, errlen);
	}
	if (strcmp(key, "server-key") == 0) {
		if (!vs_z85_key_ok(v)) {
			snprintf(err, errlen, "server-key is not a 40-character z85 key");
			return -EINVAL;
		}
		strcpy(c->server_key, v);
		return 0;
	}
	if (strcmp(key, "key-file") == 0)
		return s_copy(c->key_file, sizeof(c->key_file), v, err, errlen);
	if (strcmp(key, "interval") == 0)
		return s_dur(v, 10 * VS_NS_PER_MSEC, 3600 * VS_NS_PER_SEC, &c->interval_ns, err,
		    errlen);
	if (strcmp(key, "hello-interval") == 0)
		return s_dur(v, 100 * VS_NS_PER_MSEC, 3600 * VS_NS_PER_SEC, &c->hello_ns, err,
		    errlen);
	if (strcmp(key, "conns-interval") == 0)
		return s_dur(v, 100 * VS_NS_PER_MSEC, 5 * VS_NS_PER_SEC, &c->conns_ns, err, errlen);
	if (strcmp(key, "statsd-port") == 0) {
		if (vs_conf_uint(v, 0, 65535, &u) < 0) {
			snprintf(err, errlen, "statsd-port '%s' is not 0..65535", v);
			return -EINVAL;
		}
		c->statsd_port = (uint32_t)u;
		return 0;
	}
	if (strcmp(key, "send-queue") == 0) {
		if (vs_conf_uint(v, 1, 100000, &u) < 0) {
			snprintf(err, errlen, "send-queue '%s' is not 1..100000 messages", v);
			return -EINVAL;
		}
		c->send_queue = (uint32_t)u;
		return 0;
	}
	if (strcmp(key, "hsperf-dir") == 0) {
		if (strcmp(v, "none") == 0)
			v = "";
		return s_copy(c->hsperf_dir, sizeof(c->hsperf_dir), v, err, errlen);
	}
	if (strcmp(key, "conns") == 0 || strcmp(key, "xenstore") == 0) {
		if (key[0] == 'x' && strcmp(v, "auto") == 0) {
			c->xenstore = -1;
			return 0;
		}
		if (vs_conf_bool(v, &b) < 0) {
			snprintf(err, errlen, "%s '%s' is not yes or no", key, v);
			return -EINVAL;
		}
		*(key[0] == 'c' ? &c->conns : &c->xenstore) = b;
		return 0;
	}
	if (strcmp(key, "log-level") == 0) {
		if ((b = vs_log_level_parse(v)) < 0) {
			snprintf(err, errlen, "unknown log-level '%s'", v);
			return -EINVAL;
		}
		c->log_level = b;
		return 0;
	}
	if (strcmp(key, "probe") == 0) {
		if (c->n_probes == VS_ACONF_MAX_PROBES) {
			snprintf(err, errlen, "more than %d probes", VS_ACONF_MAX_PROBES);
			return -E2BIG;
		}
		if (vs_probe_spec_parse(v, &c->probes[c->n_probes], err, errlen) < 0)
			return -EINVAL;
		for (size_t i = 0; i < c->n_probes; i++) {
			if (strcmp(c->probes[i].name, c->probes[c->n_probes].name) == 0) {
				snprintf(err, errlen, "probe %s defined twice", c->probes[i].name);
				return -EINVAL;
			}
		}
		c->n_probes++;
		return 0;
	}
	if (strcmp(key, "resources") == 0)
		return vs_res_spec_parse(v, &c->resources, err, errlen) < 0 ? -EINVAL : 0;
	if (strcmp(key, "procdir") == 0)
		return s_copy(c->procdir, sizeof(c->procdir), v, err, errlen);
	if (strcmp(key, "log") == 0) {
		if (c->n_logs == VS_AGENT_MAX_LOGS) {
			snprintf(err, errlen, "more than %d logs", VS_AGENT_MAX_LOGS);
			return -E2BIG;
		}
		if (vs_tail_spec_parse(v, &c->logs[c->n_logs], err, errlen) < 0)
			return -EINVAL;
		for (size_t i = 0; i < c->n_logs; i++) {
			if (strcmp(c->logs[i].path, c->logs[c->n_logs].path) == 0) {
				snprintf(err, errlen, "log %s defined twice", c->logs[i].path);
				return -EINVAL;
			}
		}
		c->n_logs++;
		return 0;
	}
	snprintf(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

int
vs_aconf_read(vs_aconf_t *c, const char *path, char *err, size_t errlen)
{
	return vs_conf_read(path, s_key, c, err, errlen);
}

int
vs_aconf_check(const vs_aconf_t *c, char *err, size_t errlen)
{
	if (c->endpoint[0] == 0) {
		snprintf(err, errlen, "no endpoint (neither in the configuration nor in xenstore)");
		return -EINVAL;
	}
	if (c->server_key[0] == 0) {
		snprintf(err, errlen, "no server-key (neither in the configuration nor in xenstore)");
		return -EINVAL;
	}
	return 0;
}

int
vs_aconf_keys(const char *path, char pub[VS_Z85_KEY_LEN + 1], char sec[VS_Z85_KEY_LEN + 1],
    char *err, size_t errlen)
{
	char derived[VS_Z85_KEY_LEN + 1];
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		return rc;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "key file %s is readable by group or others (mode %04o); "
		    "it holds a secret key: chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if ((rc = vs_keyfile_read(path, pub, sec, err, errlen)) < 0)
		return rc;
	/* the public key must belong to the secret one, or the intake sees another identity */
	if (zmq_curve_public(derived, sec) != 0 || strcmp(derived, pub) != 0) {
		snprintf(err, errlen, "key file %s: public key does not match the secret key", path);
		return -EINVAL;
	}
	return 0;
}

int
vs_aconf_keygen(const char *path, char pub[VS_Z85_KEY_LEN + 1], char *err, size_t errlen)
{
	char sec[VS_Z85_KEY_LEN + 1], p[VS_Z85_KEY_LEN + 1];
	int rc;

	if (zmq_curve_keypair(p, sec) != 0) {
		snprintf(err, errlen, "zmq_curve_keypair: %s (libzmq without CURVE?)",
		    zmq_strerror(errno));
		return -ENOTSUP;
	}
	rc = vs_keyfile_write(path, p, sec, err, errlen);
	memset(sec, 0, sizeof(sec));
	if (rc == 0)
		memcpy(pub, p, sizeof(p));
	return rc;
}
