/*
 * vscope mscope record: milliScope's millisecond resource monitor, from Dom0, into the
 * warehouse for a named run. Every tick (1 to 50 ms) it re-reads Dom0's /proc/stat,
 * /proc/diskstats, /proc/meminfo and /proc/net/dev (kept open, pread), and per domain what
 * the hypervisor backend gives (vCPU time) with its VIFs' counters from one RTM_GETSTATS
 * dump; it writes rates per interval (as collectl's plot files and sar do, so the analyses
 * can rank them against queue spikes) into vscope_cpu, vscope_disk, vscope_mem, vscope_net
 * (host: Dom0) and vscope_dom_cpu, vscope_dom_net (host: the domain). Rows are committed
 * once a second, so a recorder killed at any point leaves whole transactions only; SIGINT
 * and SIGTERM commit what was sampled and close the loads with status "ok". The guests' own
 * samples (their agents' resources directive) come from vscoped into vscope_guest_*
 * (record_guest.c), their log lines likewise (record_logs.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vscope.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hv.h"
#include "vifstat.h"
#include "record_logs.h"
#include "record_guest.h"
#include "wh.h"

#define S_MIN_INTERVAL_NS 1000000LL
#define S_MAX_INTERVAL_NS 50000000LL
#define S_FILE_MAX (1 << 20)            /* a /proc file larger than this is cut */
#define S_MAX_KEYS 512                  /* CPUs, disks, interfaces each */
#define S_MAX_DOMS 256
#define S_COMMIT_NS 1000000000LL
#define S_LOGS_TIMEOUT_MS 1000          /* a vscoped that does not answer delays the ticks */

enum {
	S_OPT_WAREHOUSE = 0x2000, S_OPT_RUN, S_OPT_INTERVAL, S_OPT_DURATION, S_OPT_HOST,
	S_OPT_HV, S_OPT_NO_DOMAINS, S_OPT_APPEND, S_OPT_PROCDIR, S_OPT_NO_LOGS,
	S_OPT_NO_GUESTS,
};

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

/* A /proc file kept open and re-read whole with pread. */
typedef struct s_pfile {
	const char *name;
	int fd;
	char *buf;
	size_t cap, len;
} s_pfile_t;

static int
s_pfile_read(s_pfile_t *f)
{
	for (;;) {
		ssize_t n = pread(f->fd, f->buf, f->cap - 1, 0);
		if (n < 0)
			return -errno;
		if ((size_t)n < f->cap - 1 || f->cap >= S_FILE_MAX) {
			f->len = (size_t)n;
			f->buf[f->len] = '\0';
			return 0;
		}
		char *nb = realloc(f->buf, f->cap * 2);
		if (nb == NULL)
			return -ENOMEM;
		f->buf = nb;
		f->cap *= 2;
	}
}

/* Previous counters of one key (a CPU, a disk, an interface, a domain's VIF). */
#define S_NC 10
typedef struct s_prev {
	char name[IF_NAMESIZE > 32 ? IF_NAMESIZE : 32];
	uint64_t c[S_NC];
	int have, seen;
} s_prev_t;

typedef struct s_keys {
	s_prev_t v[S_MAX_KEYS];
	size_t n;
	uint64_t refused;               /* keys beyond S_MAX_KEYS, not recorded */
} s_keys_t;

static s_prev_t *
s_key(s_keys_t *k, const char *name, size_t len)
{
	if (len >= sizeof(k->v[0].name))
		len = sizeof(k->v[0].name) - 1;
	for (size_t i = 0; i < k->n; i++)
		if (strncmp(k->v[i].name, name, len) == 0 && k->v[i].name[len] == '\0')
			return &k->v[i];
	if (k->n == S_MAX_KEYS) {
		k->refused++;
		return NULL;
	}
	s_prev_t *p = &k->v[k->n++];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, len);
	p->name[len] = '\0';
	return p;
}

/* A warehouse table with its columns resolved once. */
#define S_MAXC 16
typedef struct s_tab {
	const char *name;
	const char *cols[S_MAXC];
	vs_mtype_t types[S_MAXC];
	int idx[S_MAXC];
	vs_wh_table_t *t;
	vs_mvalue_t *vals;
	uint64_t rows;
} s_tab_t;

typedef struct s_dom {
	uint32_t id;
	char name[VS_DOM_NAME_MAX];
	int64_t host_id, load_id;
	uint64_t cpu_prev;
	int have_cpu;
	size_t nvifs;
	struct {
		char ifname[IF_NAMESIZE];
		int ifindex;
		uint64_t c[VS_IFC_N], p[VS_IFC_N];     /* this sample's and the previous */
		int have, fresh;
	} vifs[VS_DOM_MAX_VIFS];
	uint64_t rows;
	int present;
} s_dom_t;

typedef struct s_rec {
	vs_wh_t *wh;
	const char *run, *host, *url;
	int64_t run_id, host_id, load_id;
	int64_t interval_ns;
	s_pfile_t stat, disk, mem, net;
	s_keys_t cpus, disks, ifs;
	s_tab_t cpu, dsk, memt, nett, dcpu, dnet;
	int64_t prev_ns;                /* the previous tick's time, 0 before the first */
	int hv_explicit;                /* -H given: a backend that fails is an error */
	const char *procdir;
	int sysblock;                   /* /sys/block beside the real /proc */
	vs_hv_t *hv;
	const char *hvspec;
	vs_vifstat_t *vs;
	vs_dom_t *doms;                 /* the backend's list (read_counters fills it) */
	size_t ndoms;
	s_dom_t sd[S_MAX_DOMS];
	size_t nsd;
	uint64_t ticks, missed, rows, errors;
	char err[512];
	int no_logs;                    /* --no-logs */
	vs_reclogs_t *logs;             /* guests' log lines through vscoped (record_logs.c) */
	unsigned log_errors;
	int no_guests;                  /* --no-guests */
	vs_recguest_t *guests;          /* guests' resource samples through vscoped */
	unsigned guest_errors;
} s_rec_t;

static const s_tab_t s_tab_cpu = { "vscope_cpu",
	{ "cpu", "user_pct", "nice_pct", "sys_pct", "iowait_pct", "irq_pct", "softirq_pct",
	  "steal_pct", "idle_pct", "busy_pct", "procs_running", "procs_blocked" },
	{ VS_MT_TEXT, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL,
	  VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_INTEGER, VS_MT_INTEGER }, { 0 }, 0, 0, 0 };
static const s_tab_t s_tab_dsk = { "vscope_disk",
	{ "disk", "reads_s", "writes_s", "rkb_s", "wkb_s", "util_pct", "inflight" },
	{ VS_MT_TEXT, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL,
	  VS_MT_INTEGER }, { 0 }, 0, 0, 0 };
static const s_tab_t s_tab_mem = { "vscope_mem",
	{ "total_kb", "free_kb", "available_kb", "buffers_kb", "cached_kb", "dirty_kb",
	  "writeback_kb" },
	{ VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_INTEGER,
	  VS_MT_INTEGER, VS_MT_INTEGER }, { 0 }, 0, 0, 0 };
static const s_tab_t s_tab_net = { "vscope_net",
	{ "iface", "rx_kb_s", "tx_kb_s", "rx_pkt_s", "tx_pkt_s", "rx_drop_s", "tx_drop_s" },
	{ VS_MT_TEXT, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL },
	{ 0 }, 0, 0, 0 };
static const s_tab_t s_tab_dcpu = { "vscope_dom_cpu",
	{ "vcpu_pct", "vcpus", "mem_kb" },
	{ VS_MT_REAL, VS_MT_INTEGER, VS_MT_INTEGER }, { 0 }, 0, 0, 0 };
/* the domain's view: tx is what the guest sends (the VIF's host-side rx) */
static const s_tab_t s_tab_dnet = { "vscope_dom_net",
	{ "vif", "rx_kb_s", "tx_kb_s", "rx_pkt_s", "tx_pkt_s", "rx_drop_s", "tx_drop_s" },
	{ VS_MT_TEXT, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL },
	{ 0 }, 0, 0, 0 };

static int
s_tab_open(s_rec_t *r, s_tab_t *tb, const s_tab_t *proto)
{
	*tb = *proto;
	tb->t = vs_wh_table(r->wh, tb->name, "resource");
	if (tb->t == NULL)
		return -EIO;
	for (size_t i = 0; i < S_MAXC && tb->cols[i] != NULL; i++) {
		int c = vs_wh_column(r->wh, tb->t, tb->cols[i], tb->types[i]);
		if (c < 0)
			return c;
		tb->idx[i] = c;
	}
	free(tb->vals);
	tb->vals = calloc(tb->t->ncols ? tb->t->ncols : 1, sizeof(*tb->vals));
	return tb->vals == NULL ? -ENOMEM : 0;
}

/* Clears the row buffer (every column NULL: columns an older run added stay empty). */
static void
s_row_clear(s_tab_t *tb)
{
	memset(tb->vals, 0, tb->t->ncols * sizeof(*tb->vals));
}

static void
s_set_r(s_tab_t *tb, size_t i, double d)
{
	tb->vals[tb->idx[i]] = (vs_mvalue_t){ .type = VS_MT_REAL, .d = d };
}

static void
s_set_i(s_tab_t *tb, size_t i, int64_t v)
{
	tb->vals[tb->idx[i]] = (vs_mvalue_t){ .type = VS_MT_INTEGER, .i = v };
}

static void
s_set_s(s_tab_t *tb, size_t i, const char *s)
{
	tb->vals[tb->idx[i]] = (vs_mvalue_t){ .type = VS_MT_TEXT, .s = s, .n = strlen(s) };
}

static int
s_row(s_rec_t *r, s_tab_t *tb, int64_t load_id, int64_t host_id, int64_t now)
{
	int rc = vs_wh_insert(r->wh, tb->t, load_id, host_id, now, tb->vals);

	if (rc < 0)
		return rc;
	tb->rows++;
	r->rows++;
	return 0;
}

/* ---- Dom0's /proc ---- */

static int
s_cpu(s_rec_t *r, int64_t now)
{
	char *p = r->stat.buf, *nl;
	int64_t running = -1, blocked = -1;
	int rc;

	if ((rc = s_pfile_read(&r->stat)) < 0)
		return rc;
	for (p = r->stat.buf; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (strncmp(p, "procs_running ", 14) == 0)
			running = strtoll(p + 14, NULL, 10);
		else if (strncmp(p, "procs_blocked ", 14) == 0)
			blocked = strtoll(p + 14, NULL, 10);
	}
	for (p = r->stat.buf; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (strncmp(p, "cpu", 3) != 0)
			continue;
		size_t kl = strcspn(p, " ");
		uint64_t c[S_NC] = { 0 };
		char *q = p + kl;
		for (int i = 0; i < 8; i++)
			c[i] = strtoull(q, &q, 10);
		/* cpu -> "all", cpuN -> "N" */
		s_prev_t *k = kl == 3 ? s_key(&r->cpus, "all", 3) : s_key(&r->cpus, p + 3, kl - 3);
		if (k == NULL)
			continue;
		k->seen = 1;
		if (k->have && r->prev_ns) {
			double d[8], tot = 0;
			for (int i = 0; i < 8; i++) {
				d[i] = c[i] >= k->c[i] ? (double)(c[i] - k->c[i]) : 0;
				tot += d[i];
			}
			s_tab_t *tb = &r->cpu;
			s_row_clear(tb);
			s_set_s(tb, 0, k->name);
			/* no tick counted in the interval: report nothing rather than 0 % */
			if (tot > 0) {
				/* the columns' order: /proc/stat's with idle moved after steal */
				static const int col[8] = { 1, 2, 3, 8, 4, 5, 6, 7 };
				for (int i = 0; i < 8; i++)
					s_set_r(tb, col[i], 100.0 * d[i] / tot);
				s_set_r(tb, 9, 100.0 * (tot - d[3] - d[4]) / tot);
			}
			if (kl == 3) {
				if (running >= 0)
					s_set_i(tb, 10, running);
				if (blocked >= 0)
					s_set_i(tb, 11, blocked);
			}
			if ((rc = s_row(r, tb, r->load_id, r->host_id, now)) < 0)
				return rc;
		}
		memcpy(k->c, c, sizeof(c));
		k->have = 1;
	}
	return 0;
}

static int
s_whole_disk(const s_rec_t *r, const char *name)
{
	char path[128];
	struct stat st;

	if (!r->sysblock)
		return 1;
	snprintf(path, sizeof(path), "/sys/block/%s", name);
	return stat(path, &st) == 0;
}

static int
s_disk(s_rec_t *r, int64_t now, double dt_s)
{
	char *p, *nl;
	int rc;

	if ((rc = s_pfile_read(&r->disk)) < 0)
		return rc;
	for (p = r->disk.buf; *p; p = nl ? nl + 1 : p + strlen(p)) {
		unsigned maj, min;
		char name[32];
		unsigned long long f[11];
		nl = strchr(p, '\n');
		if (sscanf(p, "%u %u %31s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		    &maj, &min, name, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7],
		    &f[8], &f[9], &f[10]) != 14)
			continue;
		s_prev_t *k = s_key(&r->disks, name, strlen(name));
		if (k == NULL)
			continue;
		if (!k->seen) {
			/* decided once per device: whole disks, never partitions */
			k->seen = s_whole_disk(r, name) ? 1 : -1;
		}
		if (k->seen < 0)
			continue;
		/* reads, sectors read, writes, sectors written, ms doing I/O */
		uint64_t c[S_NC] = { f[0], f[2], f[4], f[6], f[9] };
		/* a device never used (idle loop and ram devices) is not recorded, as iostat */
		if (k->have && r->prev_ns && (c[0] || c[2])) {
			s_tab_t *tb = &r->dsk;
			double d[5];
			for (int i = 0; i < 5; i++)
				d[i] = c[i] >= k->c[i] ? (double)(c[i] - k->c[i]) : 0;
			s_row_clear(tb);
			s_set_s(tb, 0, k->name);
			s_set_r(tb, 1, d[0] / dt_s);
			s_set_r(tb, 2, d[2] / dt_s);
			s_set_r(tb, 3, d[1] / 2.0 / dt_s);
			s_set_r(tb, 4, d[3] / 2.0 / dt_s);
			double u = d[4] / (dt_s * 1000.0) * 100.0;
			s_set_r(tb, 5, u > 100.0 ? 100.0 : u);
			s_set_i(tb, 6, (int64_t)f[8]);
			if ((rc = s_row(r, tb, r->load_id, r->host_id, now)) < 0)
				return rc;
		}
		memcpy(k->c, c, sizeof(c));
		k->have = 1;
	}
	return 0;
}

static int
s_mem(s_rec_t *r, int64_t now)
{
	static const char *const key[] = { "MemTotal:", "MemFree:", "MemAvailable:",
		"Buffers:", "Cached:", "Dirty:", "Writeback:" };
	s_tab_t *tb = &r->memt;
	char *p, *nl;
	int rc;

	if ((rc = s_pfile_read(&r->mem)) < 0)
		return rc;
	s_row_clear(tb);
	for (p = r->mem.buf; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		for (size_t i = 0; i < sizeof(key) / sizeof(key[0]); i++) {
			size_t l = strlen(key[i]);
			if (strncmp(p, key[i], l) == 0) {
				s_set_i(tb, i, strtoll(p + l, NULL, 10));
				break;
			}
		}
	}
	return s_row(r, tb, r->load_id, r->host_id, now);
}

static int
s_net(s_rec_t *r, int64_t now, double dt_s)
{
	char *p, *nl;
	int rc;

	if ((rc = s_pfile_read(&r->net)) < 0)
		return rc;
	for (p = r->net.buf; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		char *colon = strchr(p, ':');
		if (colon == NULL || (nl != NULL && colon > nl))
			continue;
		char *name = p;
		while (*name == ' ')
			name++;
		uint64_t f[16];
		char *q = colon + 1;
		for (int i = 0; i < 16; i++)
			f[i] = strtoull(q, &q, 10);
		s_prev_t *k = s_key(&r->ifs, name, (size_t)(colon - name));
		if (k == NULL)
			continue;
		/* rx bytes, rx packets, rx drop, tx bytes, tx packets, tx drop */
		uint64_t c[S_NC] = { f[0], f[1], f[3], f[8], f[9], f[11] };
		if (k->have && r->prev_ns) {
			s_tab_t *tb = &r->nett;
			double d[6];
			for (int i = 0; i < 6; i++)
				d[i] = c[i] >= k->c[i] ? (double)(c[i] - k->c[i]) : 0;
			s_row_clear(tb);
			s_set_s(tb, 0, k->name);
			s_set_r(tb, 1, d[0] / 1024.0 / dt_s);
			s_set_r(tb, 2, d[3] / 1024.0 / dt_s);
			s_set_r(tb, 3, d[1] / dt_s);
			s_set_r(tb, 4, d[4] / dt_s);
			s_set_r(tb, 5, d[2] / dt_s);
			s_set_r(tb, 6, d[5] / dt_s);
			if ((rc = s_row(r, tb, r->load_id, r->host_id, now)) < 0)
				return rc;
		}
		memcpy(k->c, c, sizeof(c));
		k->have = 1;
	}
	return 0;
}

/* ---- domains ---- */

static int
s_source(s_rec_t *r, const char *host, const char *path, int64_t *host_id_r, int64_t *load_r)
{
	int64_t sid;
	int rc;

	if ((rc = vs_wh_host_id(r->wh, host, host_id_r)) < 0 ||
	    (rc = vs_wh_source_id(r->wh, r->run_id, *host_id_r, "vscope-record", path,
	    &sid)) < 0 || (rc = vs_wh_load_begin(r->wh, sid, load_r)) < 0)
		return rc;
	return 0;
}

/* Re-lists the domains (at start and once a second, inside a transaction). */
static int
s_domains_refresh(s_rec_t *r)
{
	vs_dom_t *doms = NULL;
	size_t n = 0;
	int rc;

	if (r->hv == NULL)
		return 0;
	rc = r->hv->ops->list_domains(r->hv, &doms, &n);
	if (rc < 0) {
		snprintf(r->err, sizeof(r->err), "hypervisor: %s", vs_hv_error(r->hv));
		return rc;
	}
	free(r->doms);
	r->doms = doms;
	r->ndoms = n;
	for (size_t i = 0; i < r->nsd; i++)
		r->sd[i].present = 0;
	for (size_t i = 0; i < n; i++) {
		s_dom_t *d = NULL;
		if (doms[i].id == 0)
			continue;       /* Dom0 is the host's own /proc */
		for (size_t j = 0; j < r->nsd; j++)
			if (strcmp(r->sd[j].name, doms[i].name) == 0)
				d = &r->sd[j];
		if (d == NULL) {
			char path[128];
			if (r->nsd == S_MAX_DOMS)
				continue;
			d = &r->sd[r->nsd++];
			memset(d, 0, sizeof(*d));
			snprintf(d->name, sizeof(d->name), "%s", doms[i].name);
			snprintf(path, sizeof(path), "%s:%s", r->hv->ops->name, d->name);
			if ((rc = s_source(r, d->name, path, &d->host_id, &d->load_id)) < 0)
				return rc;
		}
		if (d->id != doms[i].id)
			d->have_cpu = 0;        /* a restarted domain: a new id, a new counter */
		d->id = doms[i].id;
		d->present = 1;
		size_t nv = doms[i].n_vifs < VS_DOM_MAX_VIFS ? doms[i].n_vifs : VS_DOM_MAX_VIFS;
		for (size_t v = 0; v < nv; v++) {
			int idx = (int)if_nametoindex(doms[i].vifs[v].ifname);
			if (v >= d->nvifs || strcmp(d->vifs[v].ifname, doms[i].vifs[v].ifname) != 0 ||
			    d->vifs[v].ifindex != idx) {
				snprintf(d->vifs[v].ifname, sizeof(d->vifs[v].ifname), "%s",
				    doms[i].vifs[v].ifname);
				d->vifs[v].have = 0;
			}
			d->vifs[v].ifindex = idx;
		}
		d->nvifs = nv;
	}
	return 0;
}

static void
s_vif_fn(void *arg, int ifindex, const uint64_t c[VS_IFC_N])
{
	s_rec_t *r = arg;

	for (size_t i = 0; i < r->nsd; i++)
		for (size_t v = 0; v < r->sd[i].nvifs; v++)
			if (r->sd[i].present && r->sd[i].vifs[v].ifindex == ifindex) {
				memcpy(r->sd[i].vifs[v].c + 0, c, sizeof(uint64_t) * VS_IFC_N);
				r->sd[i].vifs[v].fresh = 1;
			}
}

static int
s_doms(s_rec_t *r, int64_t now, double dt_s)
{
	int rc;

	if (r->hv == NULL || r->nsd == 0)
		return 0;
	/* the previous counters, kept aside before the dump overwrites them */
	for (size_t i = 0; i < r->nsd; i++)
		for (size_t v = 0; v < r->sd[i].nvifs; v++) {
			memcpy(r->sd[i].vifs[v].p, r->sd[i].vifs[v].c, sizeof(r->sd[i].vifs[v].p));
			r->sd[i].vifs[v].fresh = 0;
		}
	if ((rc = r->hv->ops->read_counters(r->hv, r->doms, r->ndoms)) < 0) {
		snprintf(r->err, sizeof(r->err), "hypervisor: %s", vs_hv_error(r->hv));
		return rc;
	}
	if ((rc = vs_vifstat_dump(r->vs, s_vif_fn, r)) < 0) {
		snprintf(r->err, sizeof(r->err), "RTM_GETSTATS: %s", strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < r->nsd; i++) {
		s_dom_t *d = &r->sd[i];
		const vs_dom_t *hd = NULL;
		if (!d->present)
			continue;
		for (size_t j = 0; j < r->ndoms; j++)
			if (r->doms[j].id == d->id && r->doms[j].state != VS_DOM_UNKNOWN)
				hd = &r->doms[j];
		if (hd == NULL)
			continue;       /* vanished mid-scan: skipped */
		if (d->have_cpu && r->prev_ns) {
			s_tab_t *tb = &r->dcpu;
			s_row_clear(tb);
			double dc = hd->cpu_ns >= d->cpu_prev ? (double)(hd->cpu_ns - d->cpu_prev) : 0;
			s_set_r(tb, 0, 100.0 * dc / (dt_s * 1e9));
			s_set_i(tb, 1, hd->vcpus);
			s_set_i(tb, 2, (int64_t)hd->mem_kib);
			if ((rc = s_row(r, tb, d->load_id, d->host_id, now)) < 0)
				return rc;
			d->rows++;
		}
		d->cpu_prev = hd->cpu_ns;
		d->have_cpu = 1;
		for (size_t v = 0; v < d->nvifs; v++) {
			if (!d->vifs[v].fresh)
				continue;
			if (d->vifs[v].have && r->prev_ns) {
				const uint64_t *c = d->vifs[v].c, *o = d->vifs[v].p;
				double x[VS_IFC_N];
				for (int k = 0; k < VS_IFC_N; k++)
					x[k] = c[k] >= o[k] ? (double)(c[k] - o[k]) : 0;
				s_tab_t *tb = &r->dnet;
				s_row_clear(tb);
				s_set_s(tb, 0, d->vifs[v].ifname);
				/* the guest's receive is the VIF's transmit, and the other way */
				s_set_r(tb, 1, x[VS_IFC_TX_BYTES] / 1024.0 / dt_s);
				s_set_r(tb, 2, x[VS_IFC_RX_BYTES] / 1024.0 / dt_s);
				s_set_r(tb, 3, x[VS_IFC_TX_PACKETS] / dt_s);
				s_set_r(tb, 4, x[VS_IFC_RX_PACKETS] / dt_s);
				s_set_r(tb, 5, x[VS_IFC_TX_DROPS] / dt_s);
				s_set_r(tb, 6, x[VS_IFC_RX_DROPS] / dt_s);
				if ((rc = s_row(r, tb, d->load_id, d->host_id, now)) < 0)
					return rc;
				d->rows++;
			}
			d->vifs[v].have = 1;
		}
	}
	return 0;
}

/* ---- the run ---- */

static int64_t
s_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
s_tick(s_rec_t *r)
{
	int64_t now = s_clock(CLOCK_REALTIME);
	double dt_s = r->prev_ns ? (double)(now - r->prev_ns) / 1e9 : 0;
	int rc;

	if (r->prev_ns && dt_s <= 0)
		dt_s = 1e-9;
	if ((rc = s_cpu(r, now)) < 0 || (rc = s_disk(r, now, dt_s)) < 0 ||
	    (rc = s_net(r, now, dt_s)) < 0) {
		snprintf(r->err, sizeof(r->err), "%s", rc == -ENOMEM ? strerror(ENOMEM) :
		    vs_wh_error(r->wh));
		return rc;
	}
	if (r->prev_ns && (rc = s_mem(r, now)) < 0) {
		snprintf(r->err, sizeof(r->err), "%s", vs_wh_error(r->wh));
		return rc;
	}
	if ((rc = s_doms(r, now, dt_s)) < 0) {
		if (r->err[0] == '\0')
			snprintf(r->err, sizeof(r->err), "%s", vs_wh_error(r->wh));
		return rc;
	}
	r->prev_ns = now;
	r->ticks++;
	return 0;
}

static int
s_load_end(s_rec_t *r, int64_t load_id, uint64_t rows, const char *status)
{
	vs_mload_result_t *res = calloc(1, sizeof(*res));
	int rc;

	if (res == NULL)
		return -ENOMEM;
	res->lines = r->ticks;
	res->rows = rows;
	res->skipped = r->missed;
	snprintf(res->status, sizeof(res->status), "%s", status);
	rc = vs_wh_load_end(r->wh, load_id, res);
	free(res);
	return rc;
}

static int
s_pfile_open(s_rec_t *r, s_pfile_t *f, const char *name)
{
	char path[300];

	f->name = name;
	snprintf(path, sizeof(path), "%s/%s", r->procdir, name);
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		snprintf(r->err, sizeof(r->err), "%s: %s", path, strerror(errno));
		return -errno;
	}
	f->cap = 16384;
	f->buf = malloc(f->cap);
	return f->buf == NULL ? -ENOMEM : 0;
}

typedef struct s_exist {
	int n;
} s_exist_t;

static int
s_exist_fn(void *arg, int ncol, const char *const *vals)
{
	(void)ncol;
	(void)vals;
	((s_exist_t *)arg)->n++;
	return 0;
}

/* Parses "10ms", "1ms", "2500us", "0.01s", "10" (ms). */
static int
s_parse_interval(const char *s, int64_t *ns_r)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !(v > 0))
		return -EINVAL;
	if (*end == '\0' || strcmp(end, "ms") == 0)
		v *= 1e6;
	else if (strcmp(end, "us") == 0)
		v *= 1e3;
	else if (strcmp(end, "s") == 0)
		v *= 1e9;
	else if (strcmp(end, "ns") != 0)
		return -EINVAL;
	if (v > 1e12)
		return -ERANGE;
	*ns_r = (int64_t)(v + 0.5);
	return 0;
}

static int
s_commit(s_rec_t *r)
{
	int rc = vs_wh_commit(r->wh);

	if (rc < 0) {
		snprintf(r->err, sizeof(r->err), "commit: %s", vs_wh_error(r->wh));
		return rc;
	}
	return 0;
}

static void
s_rec_dispose(s_rec_t *r)
{
	s_pfile_t *f[] = { &r->stat, &r->disk, &r->mem, &r->net };
	s_tab_t *t[] = { &r->cpu, &r->dsk, &r->memt, &r->nett, &r->dcpu, &r->dnet };

	for (size_t i = 0; i < 4; i++) {
		if (f[i]->fd > 0)
			close(f[i]->fd);
		free(f[i]->buf);
	}
	for (size_t i = 0; i < 6; i++)
		free(t[i]->vals);
	free(r->doms);
	vs_vifstat_destroy(&r->vs);
	vs_hv_destroy(&r->hv);
	vs_reclogs_destroy(&r->logs);
	vs_recguest_destroy(&r->guests);
	vs_wh_destroy(&r->wh);
}

/* Guests' log lines (record_logs.c): when vscoped answers, fetched and loaded between the
 * recorder's own transactions, once a second and at the end. */
static void
s_logs_start(vs_globals_t *g, s_rec_t *r)
{
	char err[512];

	if (r->no_logs)
		return;
	r->logs = vs_reclogs_new(g->endpoint, S_LOGS_TIMEOUT_MS, r->run, err, sizeof(err));
	if (r->logs == NULL && !g->json)
		fprintf(stderr, "vscope: no guest logs (vscoped: %s)\n", err);
}

static void
s_logs_step(s_rec_t *r)
{
	char err[512] = "";

	if (r->logs != NULL && vs_reclogs_step(r->logs, r->wh, err, sizeof(err)) < 0 &&
	    r->log_errors++ < 5)
		fprintf(stderr, "vscope: guest logs: %s\n", err);
}

/* Guests' resource samples (record_guest.c): as the log lines, between the recorder's own
 * transactions, once a second and at the end. */
static void
s_guests_start(vs_globals_t *g, s_rec_t *r)
{
	char err[512];

	if (r->no_guests)
		return;
	r->guests = vs_recguest_new(g->endpoint, S_LOGS_TIMEOUT_MS, r->run, err, sizeof(err));
	if (r->guests == NULL && !g->json)
		fprintf(stderr, "vscope: no guest samples (vscoped: %s)\n", err);
}

static void
s_guests_step(s_rec_t *r)
{
	char err[512] = "";

	if (r->guests != NULL && vs_recguest_step(r->guests, r->wh, err, sizeof(err)) < 0 &&
	    r->guest_errors++ < 5)
		fprintf(stderr, "vscope: guest samples: %s\n", err);
}

static int
s_record(vs_globals_t *g, s_rec_t *r, int64_t duration_ns, int append)
{
	struct sigaction sa = { .sa_handler = s_on_signal };
	s_tab_t *tabs[] = { &r->cpu, &r->dsk, &r->memt, &r->nett, &r->dcpu, &r->dnet };
	const s_tab_t *protos[] = { &s_tab_cpu, &s_tab_dsk, &s_tab_mem, &s_tab_net, &s_tab_dcpu,
		&s_tab_dnet };
	int64_t start, next, last_commit;
	int rc, in_tx = 0;
	char hvmsg[256] = "";

	r->sysblock = strcmp(r->procdir, "/proc") == 0;
	if ((rc = s_pfile_open(r, &r->stat, "stat")) < 0 ||
	    (rc = s_pfile_open(r, &r->disk, "diskstats")) < 0 ||
	    (rc = s_pfile_open(r, &r->mem, "meminfo")) < 0 ||
	    (rc = s_pfile_open(r, &r->net, "net/dev")) < 0) {
		vs_error("%s", r->err);
		return VS_EXIT_ERR;
	}
	if (r->hvspec != NULL && strcmp(r->hvspec, "none") != 0) {
		r->hv = vs_hv_new(r->hvspec, hvmsg, sizeof(hvmsg));
		if (r->hv != NULL && vs_hv_open(r->hv) < 0) {
			snprintf(hvmsg, sizeof(hvmsg), "%s", vs_hv_error(r->hv));
			vs_hv_destroy(&r->hv);
		}
		if (r->hv == NULL && r->hv_explicit) {
			vs_error("hypervisor '%s': %s", r->hvspec, hvmsg[0] ? hvmsg :
			    strerror(errno));
			return VS_EXIT_ERR;
		}
		if (r->hv == NULL)
			fprintf(stderr, "vscope: no hypervisor (%s): recording Dom0 only\n",
			    hvmsg[0] ? hvmsg : strerror(errno));
		if (r->hv != NULL && (r->vs = vs_vifstat_new()) == NULL) {
			vs_error("RTM_GETSTATS socket: %s", strerror(errno));
			return VS_EXIT_ERR;
		}
	}
	r->wh = vs_wh_open(r->url, r->err, sizeof(r->err));
	if (r->wh == NULL) {
		vs_error("warehouse %s: %s", r->url, r->err);
		return VS_EXIT_ERR;
	}
	/* one recording per run name, unless --append */
	if (!append) {
		s_exist_t x = { 0 };
		const char *p[1] = { r->run };
		rc = vs_wh_query(r->wh, "SELECT s.source_id FROM sources s JOIN runs u ON"
		    " u.run_id = s.run_id WHERE u.name = $1 AND s.kind = 'vscope-record'", p, 1,
		    s_exist_fn, &x);
		if (rc < 0) {
			vs_error("%s: %s", vs_wh_url(r->wh), vs_wh_error(r->wh));
			return VS_EXIT_ERR;
		}
		if (x.n > 0) {
			vs_error("run '%s' already has a recording in %s: choose another --run,"
			    " or --append to add to it", r->run, vs_wh_url(r->wh));
			return VS_EXIT_ERR;
		}
	}
	if ((rc = vs_wh_begin(r->wh)) < 0)
		goto fail;
	in_tx = 1;
	if ((rc = vs_wh_run_id(r->wh, r->run, &r->run_id)) < 0 ||
	    (rc = s_source(r, r->host, r->procdir, &r->host_id, &r->load_id)) < 0)
		goto fail;
	for (size_t i = 0; i < 6; i++)
		if ((rc = s_tab_open(r, tabs[i], protos[i])) < 0)
			goto fail;
	if ((rc = s_domains_refresh(r)) < 0)
		goto fail;
	/* the static rows and the tables exist before the first sample: a kill -9 from here
	 * on leaves the run, its hosts and loads ("recording") and every whole second */
	if ((rc = s_commit(r)) < 0)
		goto fail;
	in_tx = 0;

	s_logs_start(g, r);
	s_guests_start(g, r);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!g->json)
		fprintf(stderr, "vscope: recording run '%s' into %s every %.3g ms%s\n", r->run,
		    vs_wh_url(r->wh), (double)r->interval_ns / 1e6,
		    duration_ns ? "" : " until SIGINT/SIGTERM");
	start = s_clock(CLOCK_MONOTONIC);
	next = start;
	last_commit = start;
	if ((rc = vs_wh_begin(r->wh)) < 0)
		goto fail;
	in_tx = 1;
	while (!s_stop) {
		int64_t m = s_clock(CLOCK_MONOTONIC);
		if ((rc = s_tick(r)) < 0)
			goto fail;
		if (duration_ns && m - start >= duration_ns)
			break;
		if (m - last_commit >= S_COMMIT_NS) {
			if ((rc = s_commit(r)) < 0)
				goto fail;
			in_tx = 0;
			s_logs_step(r);
			s_guests_step(r);
			if ((rc = vs_wh_begin(r->wh)) < 0)
				goto fail;
			in_tx = 1;
			last_commit = m;
			if ((rc = s_domains_refresh(r)) < 0)
				goto fail;
		}
		next += r->interval_ns;
		m = s_clock(CLOCK_MONOTONIC);
		if (next <= m) {
			/* late (a commit, a busy machine): skip the ticks that passed */
			int64_t late = (m - next) / r->interval_ns + 1;
			r->missed += (uint64_t)late;
			next += late * r->interval_ns;
		}
		struct timespec ts = { next / 1000000000LL, next % 1000000000LL };
		while (!s_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
		    EINTR)
			;
	}
	if ((rc = s_load_end(r, r->load_id, r->cpu.rows + r->dsk.rows + r->memt.rows +
	    r->nett.rows, "ok")) < 0)
		goto fail;
	for (size_t i = 0; i < r->nsd; i++)
		if ((rc = s_load_end(r, r->sd[i].load_id, r->sd[i].rows, "ok")) < 0)
			goto fail;
	if ((rc = s_commit(r)) < 0)
		goto fail;
	in_tx = 0;
	s_logs_step(r);
	s_guests_step(r);
	if (r->guests != NULL) {
		char gerr[512];
		if (vs_recguest_end(r->guests, r->wh, gerr, sizeof(gerr)) < 0)
			fprintf(stderr, "vscope: guest samples: %s\n", gerr);
	}
	if (g->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "run", json_object_new_string(r->run));
		json_object_object_add(o, "warehouse", json_object_new_string(vs_wh_url(r->wh)));
		json_object_object_add(o, "interval_ns", json_object_new_int64(r->interval_ns));
		json_object_object_add(o, "samples", json_object_new_int64((int64_t)r->ticks));
		json_object_object_add(o, "missed", json_object_new_int64((int64_t)r->missed));
		json_object_object_add(o, "rows", json_object_new_int64((int64_t)r->rows));
		json_object *t = json_object_new_object();
		for (size_t i = 0; i < 6; i++)
			json_object_object_add(t, tabs[i]->name,
			    json_object_new_int64((int64_t)tabs[i]->rows));
		json_object_object_add(o, "tables", t);
		json_object_object_add(o, "domains", json_object_new_int64((int64_t)r->nsd));
		if (r->logs)
			json_object_object_add(o, "logs", vs_reclogs_json(r->logs));
		if (r->guests)
			json_object_object_add(o, "guests", vs_recguest_json(r->guests));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		printf("run %s: %" PRIu64 " samples (%" PRIu64 " missed), %" PRIu64 " rows, %zu"
		    " domains\n", r->run, r->ticks, r->missed, r->rows, r->nsd);
		for (size_t i = 0; i < 6; i++)
			printf("  %-16s %" PRIu64 " rows\n", tabs[i]->name, tabs[i]->rows);
		if (r->logs)
			vs_reclogs_print(r->logs, stdout);
		if (r->guests)
			vs_recguest_print(r->guests, stdout);
	}
	return VS_EXIT_OK;
fail:
	if (r->err[0] == '\0')
		snprintf(r->err, sizeof(r->err), "%s", r->wh ? vs_wh_error(r->wh) :
		    strerror(-rc));
	vs_error("record %s: %s", r->run, r->err);
	if (in_tx)
		vs_wh_rollback(r->wh);
	return VS_EXIT_ERR;
}

int
vs_cmd_mscope_record(vs_globals_t *g, int argc, char **argv, const char *url)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "warehouse", required_argument, NULL, S_OPT_WAREHOUSE },
		{ "run", required_argument, NULL, S_OPT_RUN },
		{ "interval", required_argument, NULL, S_OPT_INTERVAL },
		{ "duration", required_argument, NULL, S_OPT_DURATION },
		{ "host", required_argument, NULL, S_OPT_HOST },
		{ "hypervisor", required_argument, NULL, S_OPT_HV },
		{ "no-domains", no_argument, NULL, S_OPT_NO_DOMAINS },
		{ "append", no_argument, NULL, S_OPT_APPEND },
		{ "procdir", required_argument, NULL, S_OPT_PROCDIR },
		{ "no-logs", no_argument, NULL, S_OPT_NO_LOGS },
		{ "no-guests", no_argument, NULL, S_OPT_NO_GUESTS },
		{ NULL, 0, NULL, 0 },
	};
	s_rec_t *r = calloc(1, sizeof(*r));
	int64_t duration_ns = 0;
	int opt, ret = VS_EXIT_USAGE, append = 0;
	char host[256];

	if (r == NULL) {
		vs_error("%s", strerror(ENOMEM));
		return VS_EXIT_ERR;
	}
	r->url = url;
	r->interval_ns = 10000000LL;
	r->procdir = "/proc";
	r->hvspec = "auto";
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "dom0");
	host[sizeof(host) - 1] = '\0';
	r->host = host;
	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS "w:H:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
		case S_OPT_WAREHOUSE: r->url = optarg; break;
		case S_OPT_RUN: r->run = optarg; break;
		case S_OPT_INTERVAL:
			if (s_parse_interval(optarg, &r->interval_ns) < 0) {
				vs_usage_error("mscope", "bad --interval '%s': a duration such as 10ms,"
				    " 2500us or 0.005s (1ms to 50ms)", optarg);
				goto out;
			}
			if (r->interval_ns < S_MIN_INTERVAL_NS || r->interval_ns > S_MAX_INTERVAL_NS) {
				vs_usage_error("mscope", "--interval '%s' is out of range: 1ms to 50ms",
				    optarg);
				goto out;
			}
			break;
		case S_OPT_DURATION: {
			char *end;
			errno = 0;
			double d = strtod(optarg, &end);
			if (end == optarg || errno != 0 || !(d > 0) || d > 30 * 86400.0 ||
			    (*end != '\0' && strcmp(end, "s") != 0)) {
				vs_usage_error("mscope", "bad --duration '%s': seconds, more than 0",
				    optarg);
				goto out;
			}
			duration_ns = (int64_t)(d * 1e9);
			break;
		}
		case S_OPT_HOST: r->host = optarg; break;
		case 'H':
		case S_OPT_HV: r->hvspec = optarg; r->hv_explicit = 1; break;
		case S_OPT_NO_DOMAINS: r->hvspec = NULL; break;
		case S_OPT_APPEND: append = 1; break;
		case S_OPT_PROCDIR: r->procdir = optarg; break;
		case S_OPT_NO_LOGS: r->no_logs = 1; break;
		case S_OPT_NO_GUESTS: r->no_guests = 1; break;
		default: {
			int c = vs_common_opt(g, "mscope", opt, optarg);
			if (c != 0) {
				ret = c > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
				goto out;
			}
		}
		}
	}
	if (optind < argc) {
		vs_usage_error("mscope", "record takes no arguments ('%s')", argv[optind]);
		goto out;
	}
	if (r->run == NULL || r->run[0] == '\0') {
		vs_usage_error("mscope", "record: --run NAME is required");
		goto out;
	}
	if (strlen(r->procdir) > 250) {
		vs_usage_error("mscope", "record: --procdir is longer than 250 characters");
		goto out;
	}
	if (strlen(r->run) > 200 || strlen(r->host) > 200 || r->host[0] == '\0') {
		vs_usage_error("mscope", "record: --run and --host take 1 to 200 characters");
		goto out;
	}
	ret = s_record(g, r, duration_ns, append);
out:
	s_rec_dispose(r);
	free(r);
	return ret;
}
