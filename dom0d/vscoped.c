/*
 * vscoped: the Dom0 monitor. One per Dom0 or libvirt host; samples every domain and VIF
 * and answers on a ZeroMQ control endpoint. See vscoped(8).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "control.h"
#include "dconf.h"
#include "hv.h"
#include "intake.h"
#include "log.h"
#include "metricsrc.h"
#include "sampler.h"
#include "shaper.h"
#include "wire.h"
#include "vnode.h"
#include "dpgwire.h"
#include "agentkeys.h"

#define MAX_PLUGINS 64

static volatile sig_atomic_t s_stop, s_reload;

static void s_on_stop(int sig) { (void)sig; s_stop = 1; }
static void s_on_hup(int sig) { (void)sig; s_reload = 1; }

typedef struct daemon {
	vs_dconf_t conf;
	const char *conf_path;
	int conf_path_given;
	char overrides[16][2][512];     /* command-line key/value pairs, re-applied on reload */
	int n_overrides;
	void *zctx;
	vs_control_t *control;
	vs_control_ctx_t ctx;
	vs_sampler_t *sampler;
	vs_hv_t *hv;
	int hv_connected;
	int64_t hv_retry_at;            /* monotonic ns */
	int64_t hv_backoff;
	int hv_changed;
	int timer_fd;
	int64_t next_conns;
	int64_t next_relist;            /* safety net for backends that miss an event */
	int64_t next_errlog;
	uint64_t logged_vif_errors, logged_hv_errors;
	int pid_fd;
	int debug;                      /* -d: survives reloads */
	const char *shaping_dir;
	vs_shaper_t *shaper;
	int64_t next_shape;
	vs_intake_t *intake;            /* the guest intake's child, when configured */
	int64_t next_keyscan;
	struct timespec keys_mtime;
	uint64_t intake_late;           /* records that came a second time in one tick */
	char intake_pub[VS_Z85_KEY_LEN + 1];
	vs_agentkey_t *dir_keys;        /* provisioned: the agent-keys directory */
	size_t n_dir_keys;
	vs_agentkey_t *hv_keys;         /* published by the guests (xen: xenstore) */
	size_t n_hv_keys;
	int hv_keys_warned;
	vs_dpg_host_t *dpg;             /* VNodes of vmasterd's DPGs, when master-endpoint is set */
	vs_dpg_plugin_t *plugins[MAX_PLUGINS];  /* plugin-dir's, loaded at start */
	size_t n_plugins;
} daemon_t;

static void s_intake_keys(daemon_t *d, int force);

#define SHAPE_TICK_NS (250 * VS_NS_PER_MSEC)

#define RELIST_NS (30 * VS_NS_PER_SEC)

static void
s_usage(FILE *f)
{
	fprintf(f,
	    "usage: vscoped [-fnd] [-c FILE] [-H auto|xen|libvirt[:URI]] [-s ENDPOINT]\n"
	    "               [-i INTERVAL] [-p PIDFILE] [--stderr]\n"
	    "\n"
	    "The vscope Dom0 monitor: samples every domain and VIF and answers vscope(1).\n"
	    "\n"
	    "  -c, --config FILE       configuration file (default %s)\n"
	    "  -n, --check             check the configuration and exit (0 good, 1 bad)\n"
	    "  -f, --foreground        stay in the foreground\n"
	    "  -H, --hypervisor SPEC   auto (xen if /proc/xen exists, else libvirt), xen,\n"
	    "                          libvirt, or libvirt:URI (e.g. libvirt:qemu:///system)\n"
	    "  -s, --control ENDPOINT  ZeroMQ endpoint to answer on (default %s)\n"
	    "  -i, --interval DURATION sampling interval, 1ms..60s (default 100ms)\n"
	    "  -p, --pidfile FILE      pidfile (default %s/vscoped.pid)\n"
	    "      --stderr            log to stderr instead of syslog\n"
	    "  -m, --master ENDPOINT   register with vmasterd there and host its VNodes\n"
	    "      --host-name NAME    the name to register under (default: the hostname)\n"
	    "  -P, --plugin-dir DIR    load DPG function plugins (DIR/*.so) for VNodes; DIR\n"
	    "                          must be root's and not writable by group or others\n"
	    "      --shaping-dir DIR   shaping state files (default %s)\n"
	    "      --cleanup-shaping   remove every vscope-owned shaping rule and IFB, and exit\n"
	    "  -d, --debug             log debug messages\n"
	    "  -h, --help              this text\n"
	    "  -V, --version           print the version\n"
	    "      --intake-child FD   (internal) run as the guest intake's unprivileged child\n"
	    "\n"
	    "Backends compiled in: %s. Signals: SIGHUP reloads the configuration (a bad file\n"
	    "keeps the old one), SIGTERM exits cleanly. See vscoped(8), vscoped.conf(5).\n",
	    VS_DCONF_DEFAULT_PATH, VS_CTL_DEFAULT_ENDPOINT, RUNSTATEDIR, VS_SHAPER_DEFAULT_DIR,
	    vs_hv_backends());
}

/* Defaults, then the file, then the command line; into *c only if all of it is good. */
static int
s_load_conf(daemon_t *d, vs_dconf_t *c, char *err, size_t errlen)
{
	vs_dconf_t n;
	int rc;

	vs_dconf_defaults(&n);
	rc = vs_dconf_load(&n, d->conf_path, err, errlen);
	if (rc == -ENOENT && !d->conf_path_given)
		rc = 0;         /* no file at the default path: defaults */
	if (rc < 0)
		return rc;
	for (int i = 0; i < d->n_overrides; i++) {
		char msg[256];

		rc = vs_dconf_set(&n, d->overrides[i][0], d->overrides[i][1], msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "command line: %s", msg);
			return rc;
		}
	}
	if ((rc = vs_dconf_check(&n, err, errlen)) < 0)
		return rc;
	*c = n;
	return 0;
}

static int
s_override(daemon_t *d, const char *key, const char *value)
{
	if (d->n_overrides == 16 || strlen(value) >= sizeof(d->overrides[0][1])) {
		fprintf(stderr, "vscoped: --%s: value too long or too many options\n", key);
		exit(2);
	}
	snprintf(d->overrides[d->n_overrides][0], sizeof(d->overrides[0][0]), "%s", key);
	snprintf(d->overrides[d->n_overrides][1], sizeof(d->overrides[0][1]), "%s", value);
	d->n_overrides++;
	return 0;
}

/* Forks into the background; the parent waits until the child says start-up is over (or
 * dies), and exits with the child's start-up status, so an init script sees failures. */
static int
s_daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	unsigned char status;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &status, 1) != 1)
			_exit(1);
		_exit(status);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	if (chdir("/") < 0)
		return -1;
	{
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
	}
	*ready_fd = p[1];
	return 0;
}

static int
s_pidfile(daemon_t *d)
{
	char buf[32];
	int fd = open(d->conf.pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		vs_err("pidfile %s: %s", d->conf.pidfile, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		vs_err("another vscoped is running (pid %s, pidfile %s)", buf[0] ? buf : "?",
		    d->conf.pidfile);
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == 0) {
		int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		if (write(fd, buf, (size_t)n) != n)
			vs_warn("pidfile %s: short write", d->conf.pidfile);
	}
	d->pid_fd = fd;
	return 0;
}

static void
s_hv_event(void *arg, vs_hv_event_t ev, uint32_t domid)
{
	daemon_t *d = arg;

	vs_debug("hypervisor event %d for domain %u", (int)ev, domid);
	d->hv_changed = 1;
}

static void
s_hv_disconnect(daemon_t *d, const char *why)
{
	snprintf(d->ctx.hv_error, sizeof(d->ctx.hv_error), "%s", why);
	vs_sampler_detach_hv(d->sampler);
	vs_hv_destroy(&d->hv);
	d->hv_connected = 0;
	d->hv_retry_at = vs_mono_ns() + d->hv_backoff;
	/* why may point into the handle just destroyed: log the copy */
	vs_warn("hypervisor: %s; retrying in %lld s", d->ctx.hv_error,
	    (long long)(d->hv_backoff / VS_NS_PER_SEC));
	d->hv_backoff *= 2;
	if (d->hv_backoff > d->conf.retry_max_ns)
		d->hv_backoff = d->conf.retry_max_ns;
}

static void
s_hv_connect(daemon_t *d)
{
	char err[256];
	int rc;

	if (d->hv == NULL) {
		d->hv = vs_hv_new(d->conf.hypervisor, err, sizeof(err));
		if (d->hv == NULL) {
			s_hv_disconnect(d, err);
			return;
		}
	}
	/* name the backend in replies even while it cannot connect */
	snprintf(d->ctx.hv_name, sizeof(d->ctx.hv_name), "%s", d->hv->ops->name);
	rc = vs_hv_open(d->hv);
	if (rc < 0) {
		s_hv_disconnect(d, vs_hv_error(d->hv));
		return;
	}
	snprintf(d->ctx.hv_name, sizeof(d->ctx.hv_name), "%s", d->hv->ops->name);
	snprintf(d->ctx.hv_uri, sizeof(d->ctx.hv_uri), "%s", d->hv->uri);
	d->ctx.simulated = d->hv->simulated;
	rc = vs_sampler_set_hv(d->sampler, d->hv);
	if (rc < 0) {
		char why[300];

		snprintf(why, sizeof(why), "listing domains failed: %s", vs_hv_error(d->hv));
		s_hv_disconnect(d, why);
		return;
	}
	d->ctx.hv_error[0] = '\0';
	d->hv_connected = 1;
	d->hv_backoff = VS_NS_PER_SEC;
	vs_notice("hypervisor: %s (%s), %zu domains%s", d->hv->ops->name, d->hv->uri,
	    vs_sampler_graph(d->sampler)->n, d->hv->simulated ? " [simulated]" : "");
}

static int
s_timer_arm(daemon_t *d)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = d->conf.interval_ns / VS_NS_PER_SEC;
	its.it_interval.tv_nsec = d->conf.interval_ns % VS_NS_PER_SEC;
	its.it_value = its.it_interval;
	return timerfd_settime(d->timer_fd, 0, &its, NULL);
}

static void
s_reload_conf(daemon_t *d)
{
	vs_dconf_t n;
	char err[512];

	if (s_load_conf(d, &n, err, sizeof(err)) < 0) {
		vs_err("reload: %s; keeping the running configuration", err);
		return;
	}
	vs_log_set_level(d->debug ? VS_LOG_DEBUG : n.log_level);
	if (strcmp(n.pidfile, d->conf.pidfile) || n.use_syslog != d->conf.use_syslog ||
	    n.host_metrics != d->conf.host_metrics || n.conn_metrics != d->conf.conn_metrics)
		vs_warn("reload: pidfile, log, host-metrics and connection-metrics take effect "
		    "at the next start");
	if (n.interval_ns != d->conf.interval_ns || n.history_ns != d->conf.history_ns ||
	    n.domain_interval_ns != d->conf.domain_interval_ns ||
	    n.host_interval_ns != d->conf.host_interval_ns ||
	    n.history_memory != d->conf.history_memory || n.max_series != d->conf.max_series)
		vs_warn("reload: interval, domain-interval, host-interval, history, "
		    "history-memory and max-series take effect at the next start");
	if (strcmp(n.control, d->conf.control))
		vs_warn("reload: control endpoint changes take effect at the next start");
	if (strcmp(n.intake_endpoint, d->conf.intake_endpoint) ||
	    strcmp(n.intake_user, d->conf.intake_user) ||
	    strcmp(n.intake_key, d->conf.intake_key) ||
	    n.intake_max_msgs != d->conf.intake_max_msgs ||
	    n.intake_max_bytes != d->conf.intake_max_bytes ||
	    n.intake_max_conns != d->conf.intake_max_conns ||
	    n.intake_log_queue != d->conf.intake_log_queue ||
	    n.intake_samples_bytes != d->conf.intake_samples_bytes ||
	    strcmp(n.mscope_specs, d->conf.mscope_specs))
		vs_warn("reload: intake settings take effect at the next start");
	snprintf(n.intake_endpoint, sizeof(n.intake_endpoint), "%s", d->conf.intake_endpoint);
	snprintf(n.intake_user, sizeof(n.intake_user), "%s", d->conf.intake_user);
	snprintf(n.intake_key, sizeof(n.intake_key), "%s", d->conf.intake_key);
	n.intake_max_msgs = d->conf.intake_max_msgs;
	n.intake_max_bytes = d->conf.intake_max_bytes;
	n.intake_max_conns = d->conf.intake_max_conns;
	n.intake_log_queue = d->conf.intake_log_queue;
	n.intake_samples_bytes = d->conf.intake_samples_bytes;
	snprintf(n.mscope_specs, sizeof(n.mscope_specs), "%s", d->conf.mscope_specs);
	n.intake_stats_ns = d->conf.intake_stats_ns;
	n.interval_ns = d->conf.interval_ns;
	n.domain_interval_ns = d->conf.domain_interval_ns;
	n.host_interval_ns = d->conf.host_interval_ns;
	n.history_ns = d->conf.history_ns;
	n.history_memory = d->conf.history_memory;
	n.max_series = d->conf.max_series;
	snprintf(n.control, sizeof(n.control), "%s", d->conf.control);
	if (strcmp(n.master_endpoint, d->conf.master_endpoint) ||
	    strcmp(n.host_name, d->conf.host_name))
		vs_warn("reload: master-endpoint and host-name take effect at the next start");
	memcpy(n.master_endpoint, d->conf.master_endpoint, sizeof(n.master_endpoint));
	memcpy(n.master_key, d->conf.master_key, sizeof(n.master_key));
	memcpy(n.master_client_key, d->conf.master_client_key, sizeof(n.master_client_key));
	memcpy(n.host_name, d->conf.host_name, sizeof(n.host_name));
	if (strcmp(n.plugin_dir, d->conf.plugin_dir))
		vs_warn("reload: plugin-dir takes effect at the next start");
	memcpy(n.plugin_dir, d->conf.plugin_dir, sizeof(n.plugin_dir));
	snprintf(n.pidfile, sizeof(n.pidfile), "%s", d->conf.pidfile);
	n.use_syslog = d->conf.use_syslog;
	n.host_metrics = d->conf.host_metrics;
	n.conn_metrics = d->conf.conn_metrics;
	if (strcmp(n.hypervisor, d->conf.hypervisor)) {
		d->conf = n;
		vs_notice("reload: hypervisor is now %s", n.hypervisor);
		vs_hv_destroy(&d->hv);
		d->hv_connected = 0;
		d->hv_backoff = VS_NS_PER_SEC;
		s_hv_connect(d);
	}
	d->conf = n;
	s_intake_keys(d, 1);
	vs_notice("configuration reloaded from %s", d->conf_path);
}

/* Tells the parent of a daemonizing vscoped that start-up is over: it exits with status. */
static void
s_ready(int *ready_fd, int status)
{
	unsigned char c = (unsigned char)status;

	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &c, 1) != 1)
		vs_warn("cannot tell the parent process that start-up is over");
	close(*ready_fd);
	*ready_fd = -1;
}

/* Sampling errors are counted every tick and logged at most once a minute. */
static void
s_log_errors(daemon_t *d)
{
	const vs_sampler_stats_t *st = vs_sampler_stats(d->sampler);

	if (vs_mono_ns() < d->next_errlog)
		return;
	if (st->vif_dump_errors != d->logged_vif_errors)
		vs_warn("%llu VIF counter dumps failed since the last report",
		    (unsigned long long)(st->vif_dump_errors - d->logged_vif_errors));
	if (st->hv_errors != d->logged_hv_errors)
		vs_warn("%llu domain counter reads failed since the last report (%s)",
		    (unsigned long long)(st->hv_errors - d->logged_hv_errors),
		    d->hv ? vs_hv_error(d->hv) : "no hypervisor");
	d->logged_vif_errors = st->vif_dump_errors;
	d->logged_hv_errors = st->hv_errors;
	d->next_errlog = vs_mono_ns() + 60 * VS_NS_PER_SEC;
}

static void
s_tick(daemon_t *d)
{
	uint64_t expirations = 0;

	if (read(d->timer_fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	if (expirations > 1)
		d->ctx.overruns += expirations - 1;
	vs_sampler_tick(d->sampler, vs_now_ns());
	d->ctx.ticks++;
	if (d->conf.conn_metrics && vs_mono_ns() >= d->next_conns) {
		vs_sampler_conns(d->sampler);
		d->next_conns = vs_mono_ns() + d->conf.conn_interval_ns;
	}
	d->ctx.ncpus = vs_sampler_ncpus(d->sampler);
	d->ctx.mem_kib = vs_sampler_mem_kib(d->sampler);
	d->ctx.refused_series = vs_sampler_graph(d->sampler)->refused_series;
	s_log_errors(d);
}

/* ---- the guest intake (intake.h): the privileged parent's side ---------------------- */

#define KEYSCAN_NS (2 * VS_NS_PER_SEC)

/* Sends the child the union of provisioned and hypervisor-published bindings. A key in
 * the directory wins over the same key published by a guest (a guest can publish another
 * guest's public key, not use it, and must not take its binding away); a domain in the
 * directory is not bound again from the hypervisor. */
static void
s_intake_push(daemon_t *d)
{
	size_t n = d->n_dir_keys;
	vs_agentkey_t *all = malloc((d->n_dir_keys + d->n_hv_keys + 1) * sizeof(*all));

	if (all == NULL)
		return;
	memcpy(all, d->dir_keys, d->n_dir_keys * sizeof(*all));
	for (size_t i = 0; i < d->n_hv_keys; i++) {
		int clash = 0;

		for (size_t j = 0; j < n && !clash; j++)
			clash = !strcmp(all[j].key, d->hv_keys[i].key) ||
			    !strcmp(all[j].domain, d->hv_keys[i].domain);
		if (clash) {
			if (!d->hv_keys_warned)
				vs_warn("intake: %s's published key clashes with a provisioned or "
				    "earlier binding; ignored", d->hv_keys[i].domain);
			continue;
		}
		all[n++] = d->hv_keys[i];
	}
	d->hv_keys_warned = 1;
	vs_intake_set_keys(d->intake, all, n);
	free(all);
}

/* Re-reads the key directory when it changed (or force): bindings of provisioned keys. */
static void
s_intake_keys(daemon_t *d, int force)
{
	struct stat st;
	vs_agentkey_t *keys = NULL;
	size_t n = 0, bad = 0;
	char err[512];

	if (d->intake == NULL)
		return;
	if (stat(d->conf.agent_keys, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (!force && st.st_mtim.tv_sec == d->keys_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == d->keys_mtime.tv_nsec)
		return;
	d->keys_mtime = st.st_mtim;
	if (vs_agentkeys_load(d->conf.agent_keys, &keys, &n, &bad, err, sizeof(err)) < 0) {
		vs_err("agent keys: %s", err);
		return;
	}
	if (bad)
		vs_warn("agent keys: %zu bad or conflicting file(s) in %s left out", bad,
		    d->conf.agent_keys);
	vs_info("agent keys: %zu guest key(s) from %s", n, d->conf.agent_keys);
	free(d->dir_keys);
	d->dir_keys = keys;
	d->n_dir_keys = n;
	d->hv_keys_warned = 0;
	s_intake_push(d);
}

/* Where the hypervisor has a per-guest store (xen: xenstore), tells each guest where the
 * intake is and with which server key, and binds the key its agent published there. */
static void
s_intake_guests(daemon_t *d)
{
	const vs_graph_t *g;
	vs_agentkey_t *keys;
	size_t n = 0;
	int changed;

	if (d->intake == NULL || !d->hv_connected || d->hv->ops->guest_exchange == NULL)
		return;
	g = vs_sampler_graph(d->sampler);
	keys = calloc(g->n + 1, sizeof(*keys));
	if (keys == NULL)
		return;
	for (size_t i = 0; i < g->n; i++) {
		const vs_dom_t *dom = &g->doms[i].dom;
		char key[VS_Z85_KEY_LEN + 1];

		if (dom->id == 0 || !vs_keydom_ok(dom->name))
			continue;
		if (d->hv->ops->guest_exchange(d->hv, dom->id, d->conf.intake_endpoint,
		    d->intake_pub, key, sizeof(key)) < 0 || !vs_z85_key_ok(key))
			continue;
		snprintf(keys[n].domain, sizeof(keys[n].domain), "%s", dom->name);
		memcpy(keys[n].key, key, sizeof(keys[n].key));
		n++;
	}
	changed = n != d->n_hv_keys || memcmp(keys, d->hv_keys, n * sizeof(*keys));
	free(d->hv_keys);
	d->hv_keys = keys;
	d->n_hv_keys = n;
	if (changed) {
		vs_info("intake: %zu guest key(s) published through %s", n, d->hv->ops->name);
		d->hv_keys_warned = 0;
		s_intake_push(d);
	}
}

static int
s_intake_start(daemon_t *d)
{
	vs_intake_config_t ic;
	char err[512];
	int created = 0;

	if (d->conf.intake_endpoint[0] == '\0')
		return 0;
	memset(&ic, 0, sizeof(ic));
	if (vs_keyfile_ensure(d->conf.intake_key, ic.public_key, ic.secret_key, &created, err,
	    sizeof(err)) < 0) {
		vs_err("intake key: %s", err);
		return -1;
	}
	if (created)
		vs_notice("intake: made a new key pair in %s", d->conf.intake_key);
	snprintf(ic.endpoint, sizeof(ic.endpoint), "%s", d->conf.intake_endpoint);
	snprintf(ic.user, sizeof(ic.user), "%s", d->conf.intake_user);
	ic.max_msgs = (uint32_t)d->conf.intake_max_msgs;
	ic.max_bytes = (uint32_t)d->conf.intake_max_bytes;
	ic.stats_ms = (uint32_t)(d->conf.intake_stats_ns / VS_NS_PER_MSEC);
	ic.max_conns = (uint32_t)d->conf.intake_max_conns;
	ic.log_level = d->debug ? VS_LOG_DEBUG : d->conf.log_level;
	ic.use_syslog = d->conf.use_syslog;
	ic.log_queue = d->conf.intake_log_queue;
	ic.samples_bytes = d->conf.intake_samples_bytes;
	if (vs_intake_spec_names(d->conf.mscope_specs, &ic, err, sizeof(err)) < 0)
		vs_warn("intake: %s; guests' logs can only name a logformat", err);
	memcpy(d->intake_pub, ic.public_key, sizeof(d->intake_pub));
	d->intake = vs_intake_new(&ic, err, sizeof(err));
	explicit_bzero(ic.secret_key, sizeof(ic.secret_key));
	if (d->intake == NULL) {
		vs_err("intake: %s", err);
		return -1;
	}
	d->ctx.intake = d->intake;
	s_intake_keys(d, 1);
	d->next_keyscan = vs_mono_ns() + KEYSCAN_NS;
	vs_notice("intake: guests connect to %s (server key %s)", d->conf.intake_endpoint,
	    ic.public_key);
	return 0;
}

static const char *
s_intake_unit(const char *name)
{
	size_t n = strlen(name);

	if (n > 3 && !strcmp(name + n - 3, "_us"))
		return "us";
	if (!strncmp(name, "intake.", 7))
		return strcmp(name, "intake.bytes") ? "count" : "bytes";
	if (n > 6 && (!strcmp(name + n - 6, ".count") || !strcmp(name + n - 7, ".errors")))
		return "count";
	return "";
}

/* A record the parent re-checked (intake.c): stored as a metric of its domain. */
static void
s_intake_rec(void *arg, const char *domain, const vs_intake_rec_t *r)
{
	daemon_t *d = arg;
	double v = r->value;

	if (v > 9.0e18 || v < -9.0e18)
		return;
	if (vs_sampler_put(d->sampler, domain ? domain : "host", r->name, s_intake_unit(r->name),
	    r->kind ? VS_KIND_COUNTER : VS_KIND_GAUGE, (int64_t)llround(v)) == -EALREADY)
		d->intake_late++;
}

/* ---- VNodes (dpg/vnode.h): the sampler history is what leaves read ------------------- */

static int
s_dpg_read(void *arg, const char *entity, const char *metric, int64_t window_ns, double *rate_r)
{
	daemon_t *d = arg;
	vs_history_t *h = vs_sampler_history(d->sampler);
	vs_series_info_t info;
	double v;
	int64_t span;
	uint64_t n;
	int64_t now;
	int id = vs_history_series_find(h, entity, metric), rc;

	if (id < 0 || vs_history_series_info(h, id, &info) < 0)
		return -ENOENT;
	now = vs_now_ns();
	rc = vs_history_aggregate(h, id, now - window_ns, 0, &v, &span, &n);
	/* A metric reported about once a window (a guest agent's 1 s summary read by a 1 s
	 * DPG) lands in one window or the next as its reports jitter: an empty window looks
	 * once at twice its length before the leaf counts as missing. */
	if (rc == -ENODATA)
		rc = vs_history_aggregate(h, id, now - 2 * window_ns, 0, &v, &span, &n);
	if (rc < 0)
		return rc;
	if (info.kind == VS_KIND_COUNTER) {
		if (span <= 0)
			return -ENODATA;
		v /= (double)span / 1e9;
	}
	*rate_r = v;
	return 0;
}

static int
s_dpg_inventory(void *arg, vs_dpg_dom_t **doms_r, size_t *n_r)
{
	daemon_t *d = arg;
	const vs_graph_t *g = vs_sampler_graph(d->sampler);
	vs_dpg_dom_t *doms = calloc(g->n + 1, sizeof(*doms));
	size_t n = 0;

	if (!doms)
		return -ENOMEM;
	for (size_t i = 0; i < g->n; i++) {
		const vs_dom_t *dom = &g->doms[i].dom;

		if (!vs_dpgwire_name_ok(dom->name))
			continue;
		snprintf(doms[n].name, sizeof(doms[n].name), "%s", dom->name);
		for (size_t v = 0; v < dom->n_vifs && doms[n].n_vifs < 8; v++)
			if (vs_dpgwire_name_ok(dom->vifs[v].ifname))
				snprintf(doms[n].vifs[doms[n].n_vifs++], sizeof(doms[n].vifs[0]), "%s",
				    dom->vifs[v].ifname);
		n++;
	}
	*doms_r = doms;
	*n_r = n;
	return 0;
}

/* The metric library's part on this host (vnode.h): every metric name in the history with
 * its unit, kind, collection function and the entities that have it. */
typedef struct {
	const char *metric, *entity, *unit;
	int counter;
} s_mref_t;

typedef struct {
	s_mref_t *v;
	size_t n, cap;
} s_mrefs_t;

static int
s_mref_add(void *arg, int id, const vs_series_info_t *info)
{
	s_mrefs_t *r = arg;

	(void)id;
	if (r->n == r->cap || !vs_dpgwire_name_ok(info->metric) ||
	    !vs_dpgwire_name_ok(info->entity))
		return 0;
	r->v[r->n++] = (s_mref_t){ info->metric, info->entity, info->unit,
	    info->kind == VS_KIND_COUNTER };
	return 0;
}

static int
s_mref_cmp(const void *a, const void *b)
{
	const s_mref_t *x = a, *y = b;
	int c = strcmp(x->metric, y->metric);

	return c ? c : strcmp(x->entity, y->entity);
}

static int
s_dpg_metrics(void *arg, vs_dpg_metric_t **ms_r, size_t *n_r)
{
	daemon_t *d = arg;
	vs_history_t *h = vs_sampler_history(d->sampler);
	vs_history_stats_t hs;
	s_mrefs_t r = { 0 };
	vs_dpg_metric_t *ms = NULL;
	size_t n = 0;

	vs_history_stats(h, &hs);
	r.cap = hs.series;
	r.v = calloc(r.cap + 1, sizeof(*r.v));
	if (!r.v)
		return -ENOMEM;
	vs_history_series_foreach(h, s_mref_add, &r);
	qsort(r.v, r.n, sizeof(*r.v), s_mref_cmp);
	/* calloc'd: vnode.c hashes whole records to see whether the library changed */
	ms = calloc(r.n + 1, sizeof(*ms));
	if (!ms) {
		free(r.v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r.n; i++) {
		vs_dpg_metric_t *m;

		if (i == 0 || strcmp(r.v[i].metric, r.v[i - 1].metric)) {
			if (n == VS_DPG_MAX_METRICS)
				break;
			m = &ms[n++];
			snprintf(m->name, sizeof(m->name), "%s", r.v[i].metric);
			snprintf(m->unit, sizeof(m->unit), "%s", r.v[i].unit);
			m->counter = r.v[i].counter;
			vs_metricsrc_describe(r.v[i].entity, r.v[i].metric,
			    d->hv ? d->hv->ops->name : NULL, NULL, m->source, sizeof(m->source));
		}
		m = &ms[n - 1];
		if (m->n_entities < 16)
			snprintf(m->entities[m->n_entities], sizeof(m->entities[0]), "%s",
			    r.v[i].entity);
		m->n_entities++;
	}
	free(r.v);
	*ms_r = ms;
	*n_r = n;
	return 0;
}

static int
s_so_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 3 && !strcmp(e->d_name + n - 3, ".so") && e->d_name[0] != '.';
}

/* plugin-dir: every DIR/ *.so, in name order, through vs_dpg_plugin_load's checks. A
 * directory that fails them stops vscoped (-1); a file refused is logged with the reason
 * and left out (its functions are not announced, so vmasterd will not assign them here). */
static int
s_plugins_load(daemon_t *d)
{
	struct dirent **ents = NULL;
	char why[512];
	int n, rc;

	if (!d->conf.plugin_dir[0])
		return 0;
	rc = vs_dpg_plugin_dir_check(d->conf.plugin_dir, why, sizeof(why));
	if (rc < 0) {
		vs_err("plugin-dir %s refused: %s", d->conf.plugin_dir, why);
		return -1;
	}
	n = scandir(d->conf.plugin_dir, &ents, s_so_name, alphasort);
	if (n < 0) {
		vs_err("plugin-dir %s: %s", d->conf.plugin_dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		vs_dpg_plugin_t *pl = NULL;
		const vs_dpg_fn_t *const *fns;
		char names[512] = "";
		size_t nf, at = 0;

		if (d->n_plugins == MAX_PLUGINS) {
			vs_err("plugin %s/%s refused: %d plugins loaded already",
			    d->conf.plugin_dir, ents[i]->d_name, MAX_PLUGINS);
		} else if ((rc = vs_dpg_plugin_load(d->conf.plugin_dir, ents[i]->d_name, &pl, why,
		    sizeof(why))) < 0) {
			vs_err("plugin %s refused: %s", ents[i]->d_name, why);
		} else {
			d->plugins[d->n_plugins++] = pl;
			nf = vs_dpg_plugin_fns(pl, &fns);
			for (size_t k = 0; k < nf && at < sizeof(names); k++)
				at += (size_t)snprintf(names + at, sizeof(names) - at,
				    "%s%s (%u, %s)", k ? ", " : "", fns[k]->name, fns[k]->id,
				    fns[k]->kind == VS_DPG_FN_LOCAL ? "local" :
				    fns[k]->kind == VS_DPG_FN_COMBINE ? "combine" : "central");
			vs_notice("plugin %s/%s loaded: %s", d->conf.plugin_dir, ents[i]->d_name,
			    names);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static int
s_dpg_start(daemon_t *d)
{
	vs_dpg_host_config_t hc;
	char err[512], host[64], spub[VS_Z85_KEY_LEN + 1], pub[VS_Z85_KEY_LEN + 1],
	    sec[VS_Z85_KEY_LEN + 1];

	if (d->conf.master_endpoint[0] == '\0')
		return 0;
	memset(&hc, 0, sizeof(hc));
	if (d->conf.host_name[0])
		snprintf(host, sizeof(host), "%s", d->conf.host_name);
	else if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	hc.endpoint = d->conf.master_endpoint;
	hc.host = host;
	hc.read = s_dpg_read;
	hc.inventory = s_dpg_inventory;
	hc.metrics = s_dpg_metrics;
	hc.arg = d;
	if (!strncmp(d->conf.master_endpoint, "tcp://", 6)) {
		int created = 0;

		/* vmasterd's key: a Z85 string or a key file */
		if (vs_z85_key_ok(d->conf.master_key))
			memcpy(spub, d->conf.master_key, sizeof(spub));  /* 40 chars + NUL */
		else if (!d->conf.master_key[0] ||
		    vs_keyfile_read(d->conf.master_key, spub, NULL, err, sizeof(err)) < 0) {
			vs_err("master-endpoint %s needs master-key (vmasterd's public key)%s%s",
			    d->conf.master_endpoint, d->conf.master_key[0] ? ": " : "",
			    d->conf.master_key[0] ? err : "");
			return -1;
		}
		if (!d->conf.master_client_key[0] ||
		    vs_keyfile_ensure(d->conf.master_client_key, pub, sec, &created, err,
		    sizeof(err)) < 0) {
			vs_err("master-client-key: %s", d->conf.master_client_key[0] ? err :
			    "needed for a tcp:// master-endpoint");
			return -1;
		}
		hc.server_key = spub;
		hc.public_key = pub;
		hc.secret_key = sec;
	}
	d->dpg = vs_dpg_host_new(d->zctx, &hc, err, sizeof(err));
	explicit_bzero(sec, sizeof(sec));
	if (!d->dpg) {
		vs_err("DPG: %s", err);
		return -1;
	}
	vs_notice("DPG: registering as %s with vmasterd at %s", host, d->conf.master_endpoint);
	return 0;
}

static int
s_run(daemon_t *d, int *ready_fd)
{
	char err[512];
	vs_sampler_config_t sc;
	int rc = 0;

	d->zctx = zmq_ctx_new();
	memset(&sc, 0, sizeof(sc));
	sc.interval_ns = d->conf.interval_ns;
	sc.domain_interval_ns = d->conf.domain_interval_ns;
	sc.host_interval_ns = d->conf.host_interval_ns;
	sc.history_ns = d->conf.history_ns;
	sc.history_memory = d->conf.history_memory;
	sc.max_series = d->conf.max_series;
	sc.host_metrics = d->conf.host_metrics;
	sc.conn_metrics = d->conf.conn_metrics;
	d->sampler = vs_sampler_new(&sc, err, sizeof(err));
	if (d->sampler == NULL) {
		vs_err("%s", err);
		return 1;
	}
	d->ctx.history = vs_sampler_history(d->sampler);
	d->ctx.graph = vs_sampler_graph(d->sampler);
	d->ctx.sockdiag = vs_sampler_sockdiag(d->sampler);
	d->ctx.counter_abs = vs_sampler_counter_abs(d->sampler);
	d->ctx.interval_ns = d->conf.interval_ns;
	d->ctx.history_ns = d->conf.history_ns;
	d->ctx.started_ns = vs_now_ns();
	gethostname(d->ctx.host_name, sizeof(d->ctx.host_name) - 1);
	d->shaper = vs_shaper_new(d->shaping_dir, err, sizeof(err));
	if (d->shaper == NULL)
		vs_warn("shaping is not available: %s", err);
	else {
		/* rules of an earlier run are removed, not re-adopted: vscoped(8) */
		rc = vs_shaper_cleanup(d->shaper);
		if (rc > 0)
			vs_notice("shaping: removed %d rules or IFBs left by an earlier run", rc);
		else if (rc < 0)
			vs_warn("shaping: cleaning up an earlier run: %s", strerror(-rc));
		rc = 0;
	}
	d->ctx.shaper = d->shaper;
	d->control = vs_control_new(d->zctx, d->conf.control, &d->ctx, err, sizeof(err));
	if (d->control == NULL) {
		vs_err("%s", err);
		return 1;
	}
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timer_fd < 0 || s_timer_arm(d) < 0) {
		vs_err("timerfd: %s", strerror(errno));
		return 1;
	}
	/* before the hypervisor is opened, so the child could not inherit its handles anyway */
	if (s_intake_start(d) < 0)
		return 1;
	if (s_plugins_load(d) < 0 || s_dpg_start(d) < 0)
		return 1;
	d->hv_backoff = VS_NS_PER_SEC;
	s_hv_connect(d);
	d->next_relist = vs_mono_ns() + RELIST_NS;
	vs_notice("vscoped %s started: control %s, interval %lld ms, history %lld s",
	    PACKAGE_VERSION, d->conf.control, (long long)(d->conf.interval_ns / VS_NS_PER_MSEC),
	    (long long)(d->conf.history_ns / VS_NS_PER_SEC));
	s_ready(ready_fd, 0);

	while (!s_stop) {
		zmq_pollitem_t items[6];
		int n = 0, hv_fd = -1, timeout_ms = 250, prc, in_at = -1, dpg_at = -1;
		int64_t now = vs_mono_ns();

		items[n++] = (zmq_pollitem_t){ vs_control_socket(d->control), 0, ZMQ_POLLIN, 0 };
		items[n++] = (zmq_pollitem_t){ NULL, d->timer_fd, ZMQ_POLLIN, 0 };
		items[n++] = (zmq_pollitem_t){ NULL, vs_sampler_links_fd(d->sampler), ZMQ_POLLIN, 0 };
		if (d->hv_connected && (hv_fd = d->hv->ops->event_fd(d->hv)) >= 0)
			items[n++] = (zmq_pollitem_t){ NULL, hv_fd, ZMQ_POLLIN, 0 };
		if (d->intake && vs_intake_fd(d->intake) >= 0) {
			in_at = n;
			items[n++] = (zmq_pollitem_t){ NULL, vs_intake_fd(d->intake), ZMQ_POLLIN, 0 };
		}
		if (d->dpg) {
			dpg_at = n;
			items[n++] = (zmq_pollitem_t){ vs_dpg_host_socket(d->dpg), 0, ZMQ_POLLIN, 0 };
			timeout_ms = 100;       /* heartbeats and the DPGs' periods */
		}
		if (d->intake)
			timeout_ms = timeout_ms < 250 ? timeout_ms : 250;       /* reap the child */
		if (!d->hv_connected) {
			int64_t wait = (d->hv_retry_at - now) / VS_NS_PER_MSEC;
			timeout_ms = wait < 0 ? 0 : wait < timeout_ms ? (int)wait : timeout_ms;
		}
		prc = zmq_poll(items, n, timeout_ms);
		if (prc < 0 && errno != EINTR) {
			vs_err("zmq_poll: %s", zmq_strerror(errno));
			rc = 1;
			break;
		}
		if (s_reload) {
			s_reload = 0;
			s_reload_conf(d);
			continue;
		}
		if (prc > 0 && (items[1].revents & ZMQ_POLLIN))
			s_tick(d);
		if (prc > 0 && (items[2].revents & ZMQ_POLLIN))
			vs_sampler_links_event(d->sampler);
		if (prc > 0 && in_at >= 0 && (items[in_at].revents & ZMQ_POLLIN))
			vs_intake_process(d->intake, s_intake_rec, d);
		if (d->intake) {
			vs_intake_poll(d->intake);
			if (vs_mono_ns() >= d->next_keyscan) {
				s_intake_keys(d, 0);
				s_intake_guests(d);
				d->next_keyscan = vs_mono_ns() + KEYSCAN_NS;
			}
		}
		if (prc > 0 && hv_fd >= 0 && (items[3].revents & ZMQ_POLLIN)) {
			if (d->hv->ops->dispatch(d->hv, s_hv_event, d) < 0)
				s_hv_disconnect(d, vs_hv_error(d->hv));
		}
		if (d->hv_connected && vs_mono_ns() >= d->next_relist) {
			d->hv_changed = 1;
			d->next_relist = vs_mono_ns() + RELIST_NS;
		}
		if (d->hv_changed && d->hv_connected) {
			d->hv_changed = 0;
			if (vs_sampler_refresh_inventory(d->sampler) < 0) {
				char why[300];

				snprintf(why, sizeof(why), "listing domains failed: %s",
				    vs_hv_error(d->hv));
				s_hv_disconnect(d, why);
			} else {
				s_intake_guests(d);     /* a new guest learns the endpoint now */
			}
		}
		if (!d->hv_connected && vs_mono_ns() >= d->hv_retry_at)
			s_hv_connect(d);
		if (d->shaper && vs_mono_ns() >= d->next_shape) {
			vs_shaper_tick(d->shaper, d->hv_connected ? d->ctx.graph : NULL, d->sampler,
			    vs_now_ns());
			d->next_shape = vs_mono_ns() + SHAPE_TICK_NS;
		}
		if (prc > 0 && (items[0].revents & ZMQ_POLLIN))
			vs_control_process(d->control);
		if (d->dpg) {
			if (prc > 0 && dpg_at >= 0 && (items[dpg_at].revents & ZMQ_POLLIN))
				vs_dpg_host_process(d->dpg);
			vs_dpg_host_tick(d->dpg, vs_mono_ns(), vs_now_ns());
		}
	}
	vs_notice("vscoped exiting");
	return rc;
}

static void
s_cleanup(daemon_t *d)
{
	vs_dpg_host_destroy(&d->dpg);
	for (size_t i = 0; i < d->n_plugins; i++)
		vs_dpg_plugin_destroy(&d->plugins[i]);
	d->n_plugins = 0;
	vs_intake_destroy(&d->intake);
	d->ctx.intake = NULL;
	free(d->dir_keys);
	free(d->hv_keys);
	vs_control_destroy(&d->control);
	if (d->shaper) {
		/* nobody renews the leases once we are gone: take the rules with us */
		int n = vs_shaper_cleanup(d->shaper);

		if (n > 0)
			vs_notice("shaping: removed %d rules on exit", n);
		vs_shaper_destroy(&d->shaper);
	}
	vs_sampler_destroy(&d->sampler);
	vs_hv_destroy(&d->hv);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->zctx)
		zmq_ctx_term(d->zctx);
	if (d->pid_fd >= 0) {
		unlink(d->conf.pidfile);
		close(d->pid_fd);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "hypervisor", required_argument, NULL, 'H' },
		{ "control", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "stderr", no_argument, NULL, 'E' },
		{ "debug", no_argument, NULL, 'd' },
		{ "shaping-dir", required_argument, NULL, 'S' },
		{ "cleanup-shaping", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "intake-child", required_argument, NULL, 'I' },
		{ "master", required_argument, NULL, 'm' },
		{ "host-name", required_argument, NULL, 'N' },
		{ "plugin-dir", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	daemon_t d;
	int cleanup_shaping = 0;
	int check = 0, foreground = 0, to_stderr = 0, debug = 0, opt, rc, ready_fd = -1;
	char err[512];
	struct sigaction sa;

	memset(&d, 0, sizeof(d));
	d.timer_fd = -1;
	d.pid_fd = -1;
	d.conf_path = VS_DCONF_DEFAULT_PATH;
	while ((opt = getopt_long(argc, argv, "c:nfH:s:i:p:dhVm:P:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.conf_path = optarg; d.conf_path_given = 1; break;
		case 'n': check = 1; break;
		case 'f': foreground = 1; break;
		case 'H': s_override(&d, "hypervisor", optarg); break;
		case 's': s_override(&d, "control", optarg); break;
		case 'i': s_override(&d, "interval", optarg); break;
		case 'p': s_override(&d, "pidfile", optarg); break;
		case 'm': s_override(&d, "master-endpoint", optarg); break;
		case 'N': s_override(&d, "host-name", optarg); break;
		case 'P': s_override(&d, "plugin-dir", optarg); break;
		case 'E': to_stderr = 1; break;
		case 'd': debug = 1; break;
		case 'S': d.shaping_dir = optarg; break;
		case 'C': cleanup_shaping = 1; break;
		case 'I': return vs_intake_child_main(atoi(optarg));
		case 'h': s_usage(stdout); return 0;
		case 'V': printf("vscoped %s (backends: %s)\n", PACKAGE_VERSION, vs_hv_backends());
			return 0;
		default: s_usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vscoped: unexpected argument '%s'\n", argv[optind]);
		s_usage(stderr);
		return 2;
	}
	if (cleanup_shaping) {
		vs_shaper_t *sh = vs_shaper_new(d.shaping_dir, err, sizeof(err));

		if (sh == NULL) {
			fprintf(stderr, "vscoped: shaping: %s\n", err);
			return 1;
		}
		rc = vs_shaper_cleanup(sh);
		vs_shaper_destroy(&sh);
		if (rc < 0) {
			fprintf(stderr, "vscoped: --cleanup-shaping: %s\n", strerror(-rc));
			return 1;
		}
		printf("vscoped: removed %d vscope-owned shaping rules or IFBs\n", rc);
		return 0;
	}
	if (s_load_conf(&d, &d.conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "vscoped: %s\n", err);
		return 1;
	}
	{
		vs_hv_t *probe = vs_hv_new(d.conf.hypervisor, err, sizeof(err));

		if (probe == NULL) {
			fprintf(stderr, "vscoped: hypervisor %s: %s\n", d.conf.hypervisor, err);
			return 1;
		}
		vs_hv_destroy(&probe);
	}
	d.debug = debug;
	if (check && d.conf.plugin_dir[0] &&
	    vs_dpg_plugin_dir_check(d.conf.plugin_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "vscoped: plugin-dir %s refused: %s\n", d.conf.plugin_dir, err);
		return 1;
	}
	if (check) {
		printf("vscoped: configuration OK (%s%s)\n", d.conf_path,
		    access(d.conf_path, F_OK) == 0 ? "" : ": not present, defaults used");
		return 0;
	}
	if (to_stderr || foreground)
		d.conf.use_syslog = d.conf.use_syslog && !to_stderr && !foreground;
	vs_log_open("vscoped", d.conf.use_syslog, debug ? VS_LOG_DEBUG : d.conf.log_level);

	if (!foreground && s_daemonize(&ready_fd) < 0)
		return 1;
	if (s_pidfile(&d) < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = s_on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = s_on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = s_run(&d, &ready_fd);
	s_ready(&ready_fd, rc ? rc : 1);         /* failed before it was ready */
	s_cleanup(&d);
	return rc;
}
