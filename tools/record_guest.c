/*
 * The guests' resource samples in `vscope mscope record` (record_guest.h). vscoped keeps the
 * raw counters; here each domain's consecutive samples become rates, as Dom0's own: CPU
 * percentages of the ticks in the interval (idle after steal, as vscope_cpu), memory as it
 * was, disks and interfaces per second. The first sample of a domain (and of a device) only
 * sets the baseline. A restarted vscoped (another epoch) is read from its start.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "record_guest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "vscope.h"

#define S_MAX_DOMS 256
#define S_MAX_DEVS 32                   /* disks and interfaces per domain */
#define S_FETCH_ROWS 20000
#define S_STEP_ROWS 400000              /* per step, at most: the rest next time */
#define S_MAXC 12

typedef struct s_gtab {
	const char *name;
	const char *cols[S_MAXC];
	vs_mtype_t types[S_MAXC];
	int idx[S_MAXC];
	vs_wh_table_t *t;
	vs_mvalue_t *vals;
	uint64_t rows;
} s_gtab_t;

typedef struct s_dev {
	char name[40];
	uint64_t v[5];
	int64_t ts;
} s_dev_t;

typedef struct s_gdom {
	char name[64];
	int64_t host_id, load_id;
	uint64_t cpu[8];
	int64_t cpu_ts;                 /* 0 before the first sample */
	s_dev_t disks[S_MAX_DEVS], nets[S_MAX_DEVS];
	size_t ndisks, nnets;
	uint64_t samples, rows;
} s_gdom_t;

struct vs_recguest {
	vs_client_t *client;
	char *run;
	int64_t run_id;
	uint64_t cursor;
	int64_t epoch;
	uint64_t restarts, refused, pushed_out;
	int opened;
	s_gtab_t cpu, mem, disk, net;
	s_gdom_t doms[S_MAX_DOMS];
	size_t ndoms;
};

static const s_gtab_t s_proto_cpu = { "vscope_guest_cpu",
	{ "cpu", "user_pct", "nice_pct", "sys_pct", "iowait_pct", "irq_pct", "softirq_pct",
	  "steal_pct", "idle_pct", "busy_pct" },
	{ VS_MT_TEXT, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL,
	  VS_MT_REAL, VS_MT_REAL, VS_MT_REAL }, { 0 }, NULL, NULL, 0 };
static const s_gtab_t s_proto_mem = { "vscope_guest_mem",
	{ "total_kb", "free_kb", "available_kb", "cached_kb", "dirty_kb", "writeback_kb" },
	{ VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_INTEGER, VS_MT_INTEGER,
	  VS_MT_INTEGER }, { 0 }, NULL, NULL, 0 };
static const s_gtab_t s_proto_disk = { "vscope_guest_disk",
	{ "disk", "reads_s", "writes_s", "rkb_s", "wkb_s", "util_pct" },
	{ VS_MT_TEXT, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL }, { 0 }, NULL,
	NULL, 0 };
static const s_gtab_t s_proto_net = { "vscope_guest_net",
	{ "iface", "rx_kb_s", "tx_kb_s", "rx_pkt_s", "tx_pkt_s" },
	{ VS_MT_TEXT, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL, VS_MT_REAL }, { 0 }, NULL, NULL, 0 };

static Vsctl__Reply *
s_call(vs_recguest_t *rg, uint64_t cursor, char *err, size_t errlen)
{
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__GuestSamplesReq q = VSCTL__GUEST_SAMPLES_REQ__INIT;
	Vsctl__Reply *rep;

	q.domain = "";
	q.cursor = cursor;
	q.max_rows = S_FETCH_ROWS;
	req.body_case = VSCTL__REQUEST__BODY_GUEST_SAMPLES;
	req.guest_samples = &q;
	rep = vs_client_call(rg->client, &req, err, errlen);
	if (rep != NULL && rep->body_case != VSCTL__REPLY__BODY_GUEST_SAMPLES) {
		snprintf(err, errlen, "vscoped answered GuestSamplesReq with another reply");
		vsctl__reply__free_unpacked(rep, NULL);
		errno = EPROTO;
		return NULL;
	}
	return rep;
}

vs_recguest_t *
vs_recguest_new(const char *endpoint, int timeout_ms, const char *run, char *err,
    size_t errlen)
{
	vs_recguest_t *rg = calloc(1, sizeof(*rg));
	Vsctl__Reply *rep;

	if (rg == NULL || (rg->run = strdup(run)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((rg->client = vs_client_new(endpoint, timeout_ms)) == NULL) {
		snprintf(err, errlen, "%s: %s", endpoint ? endpoint : "(no endpoint)",
		    strerror(errno));
		goto fail;
	}
	if ((rep = s_call(rg, UINT64_MAX, err, errlen)) == NULL)
		goto fail;
	rg->cursor = rep->guest_samples->next_cursor;
	rg->epoch = rep->guest_samples->epoch;
	vsctl__reply__free_unpacked(rep, NULL);
	return rg;
fail:
	vs_recguest_destroy(&rg);
	return NULL;
}

void
vs_recguest_destroy(vs_recguest_t **self_p)
{
	vs_recguest_t *rg = self_p ? *self_p : NULL;

	if (rg == NULL)
		return;
	free(rg->cpu.vals);
	free(rg->mem.vals);
	free(rg->disk.vals);
	free(rg->net.vals);
	vs_client_destroy(&rg->client);
	free(rg->run);
	free(rg);
	*self_p = NULL;
}

static int
s_tab_open(vs_wh_t *wh, s_gtab_t *tb, const s_gtab_t *proto)
{
	free(tb->vals);
	*tb = *proto;
	tb->vals = NULL;
	if ((tb->t = vs_wh_table(wh, tb->name, "resource")) == NULL)
		return -EIO;
	for (size_t i = 0; i < S_MAXC && tb->cols[i] != NULL; i++) {
		int c = vs_wh_column(wh, tb->t, tb->cols[i], tb->types[i]);
		if (c < 0)
			return c;
		tb->idx[i] = c;
	}
	tb->vals = calloc(tb->t->ncols ? tb->t->ncols : 1, sizeof(*tb->vals));
	return tb->vals == NULL ? -ENOMEM : 0;
}

static void
s_clear(s_gtab_t *tb)
{
	memset(tb->vals, 0, tb->t->ncols * sizeof(*tb->vals));
}

static void
s_set_r(s_gtab_t *tb, size_t i, double d)
{
	tb->vals[tb->idx[i]] = (vs_mvalue_t){ .type = VS_MT_REAL, .d = d };
}

static void
s_set_i(s_gtab_t *tb, size_t i, int64_t v)
{
	tb->vals[tb->idx[i]] = (vs_mvalue_t){ .type = VS_MT_INTEGER, .i = v };
}

static void
s_set_s(s_gtab_t *tb, size_t i, const char *s)
{
	tb->vals[tb->idx[i]] = (vs_mvalue_t){ .type = VS_MT_TEXT, .s = s, .n = strlen(s) };
}

static int
s_row(vs_wh_t *wh, s_gtab_t *tb, s_gdom_t *d, int64_t ts)
{
	int rc = vs_wh_insert(wh, tb->t, d->load_id, d->host_id, ts, tb->vals);

	if (rc < 0)
		return rc;
	tb->rows++;
	d->rows++;
	return 0;
}

static s_gdom_t *
s_dom(vs_recguest_t *rg, vs_wh_t *wh, const char *name, int *rc_r)
{
	s_gdom_t *d;
	int64_t sid;
	char path[128];

	*rc_r = 0;
	for (size_t i = 0; i < rg->ndoms; i++)
		if (!strcmp(rg->doms[i].name, name))
			return &rg->doms[i];
	if (rg->ndoms == S_MAX_DOMS || strlen(name) >= sizeof(d->name)) {
		rg->refused++;
		return NULL;
	}
	d = &rg->doms[rg->ndoms];
	memset(d, 0, sizeof(*d));
	strcpy(d->name, name);
	snprintf(path, sizeof(path), "%s:resources", name);
	if ((*rc_r = vs_wh_host_id(wh, name, &d->host_id)) < 0 ||
	    (*rc_r = vs_wh_source_id(wh, rg->run_id, d->host_id, "vscope-guest", path,
	    &sid)) < 0 || (*rc_r = vs_wh_load_begin(wh, sid, &d->load_id)) < 0)
		return NULL;
	rg->ndoms++;
	return d;
}

static s_dev_t *
s_dev(s_dev_t *devs, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(devs[i].name, name))
			return &devs[i];
	if (*n == S_MAX_DEVS || strlen(name) >= sizeof(devs[0].name))
		return NULL;
	memset(&devs[*n], 0, sizeof(devs[0]));
	strcpy(devs[*n].name, name);
	return &devs[(*n)++];
}

static double
s_d(uint64_t a, uint64_t b)
{
	return b >= a ? (double)(b - a) : 0;
}

static int
s_one(vs_recguest_t *rg, vs_wh_t *wh, const Vsctl__GuestSample *x)
{
	s_gdom_t *d;
	int rc;

	if ((d = s_dom(rg, wh, x->domain, &rc)) == NULL)
		return rc;
	if (!strcmp(x->kind, "cpu") && x->n_v == 8) {
		if (d->cpu_ts && x->ts_ns > d->cpu_ts) {
			double t[8], tot = 0;
			s_gtab_t *tb = &rg->cpu;
			static const int col[8] = { 1, 2, 3, 8, 4, 5, 6, 7 };

			for (int i = 0; i < 8; i++)
				tot += (t[i] = s_d(d->cpu[i], x->v[i]));
			s_clear(tb);
			s_set_s(tb, 0, "all");
			if (tot > 0) {
				/* /proc/stat's order with idle moved after steal, as vscope_cpu */
				for (int i = 0; i < 8; i++)
					s_set_r(tb, col[i], 100.0 * t[i] / tot);
				s_set_r(tb, 9, 100.0 * (tot - t[3] - t[4]) / tot);
			}
			if ((rc = s_row(wh, tb, d, x->ts_ns)) < 0)
				return rc;
		}
		memcpy(d->cpu, x->v, sizeof(d->cpu));
		d->cpu_ts = x->ts_ns;
		d->samples++;
	} else if (!strcmp(x->kind, "mem") && x->n_v == 6) {
		s_gtab_t *tb = &rg->mem;
		/* total free available dirty writeback cached -> the table's order */
		static const int col[6] = { 0, 1, 2, 4, 5, 3 };

		s_clear(tb);
		for (int i = 0; i < 6; i++)
			s_set_i(tb, col[i], (int64_t)(x->v[i] > INT64_MAX ? INT64_MAX : x->v[i]));
		if ((rc = s_row(wh, tb, d, x->ts_ns)) < 0)
			return rc;
	} else if (!strcmp(x->kind, "disk") && x->n_v == 5) {
		s_dev_t *k = s_dev(d->disks, &d->ndisks, x->dev);
		if (k == NULL)
			return 0;
		if (k->ts && x->ts_ns > k->ts) {
			double dt = (double)(x->ts_ns - k->ts) / 1e9, u;
			s_gtab_t *tb = &rg->disk;

			s_clear(tb);
			s_set_s(tb, 0, k->name);
			s_set_r(tb, 1, s_d(k->v[0], x->v[0]) / dt);
			s_set_r(tb, 2, s_d(k->v[2], x->v[2]) / dt);
			s_set_r(tb, 3, s_d(k->v[1], x->v[1]) / 2.0 / dt);
			s_set_r(tb, 4, s_d(k->v[3], x->v[3]) / 2.0 / dt);
			u = s_d(k->v[4], x->v[4]) / (dt * 1000.0) * 100.0;
			s_set_r(tb, 5, u > 100.0 ? 100.0 : u);
			if ((rc = s_row(wh, tb, d, x->ts_ns)) < 0)
				return rc;
		}
		memcpy(k->v, x->v, sizeof(k->v));
		k->ts = x->ts_ns;
	} else if (!strcmp(x->kind, "net") && x->n_v == 4) {
		s_dev_t *k = s_dev(d->nets, &d->nnets, x->dev);
		if (k == NULL)
			return 0;
		if (k->ts && x->ts_ns > k->ts) {
			double dt = (double)(x->ts_ns - k->ts) / 1e9;
			s_gtab_t *tb = &rg->net;

			s_clear(tb);
			s_set_s(tb, 0, k->name);
			s_set_r(tb, 1, s_d(k->v[0], x->v[0]) / 1024.0 / dt);
			s_set_r(tb, 2, s_d(k->v[2], x->v[2]) / 1024.0 / dt);
			s_set_r(tb, 3, s_d(k->v[1], x->v[1]) / dt);
			s_set_r(tb, 4, s_d(k->v[3], x->v[3]) / dt);
			if ((rc = s_row(wh, tb, d, x->ts_ns)) < 0)
				return rc;
		}
		memcpy(k->v, x->v, 4 * sizeof(uint64_t));
		k->ts = x->ts_ns;
	}
	return 0;
}

int
vs_recguest_step(vs_recguest_t *rg, vs_wh_t *wh, char *err, size_t errlen)
{
	size_t done = 0;
	int rc = 0;

	if ((rc = vs_wh_begin(wh)) < 0) {
		snprintf(err, errlen, "begin: %s", vs_wh_error(wh));
		return rc;
	}
	if (!rg->opened) {
		if ((rc = vs_wh_run_id(wh, rg->run, &rg->run_id)) < 0 ||
		    (rc = s_tab_open(wh, &rg->cpu, &s_proto_cpu)) < 0 ||
		    (rc = s_tab_open(wh, &rg->mem, &s_proto_mem)) < 0 ||
		    (rc = s_tab_open(wh, &rg->disk, &s_proto_disk)) < 0 ||
		    (rc = s_tab_open(wh, &rg->net, &s_proto_net)) < 0) {
			snprintf(err, errlen, "guest tables: %s", vs_wh_error(wh));
			goto fail;
		}
		rg->opened = 1;
	}
	while (done < S_STEP_ROWS) {
		Vsctl__Reply *rep = s_call(rg, rg->cursor, err, errlen);
		const Vsctl__GuestSamples *gs;

		if (rep == NULL) {
			rc = -(errno ? errno : EIO);
			break;
		}
		gs = rep->guest_samples;
		if (gs->epoch != rg->epoch) {
			/* another vscoped: its seqs start again, from its oldest */
			rg->epoch = gs->epoch;
			rg->cursor = 0;
			rg->restarts++;
			vsctl__reply__free_unpacked(rep, NULL);
			continue;
		}
		rg->pushed_out = gs->pushed_out;
		for (size_t i = 0; i < gs->n_rows && rc == 0; i++)
			rc = s_one(rg, wh, gs->rows[i]);
		done += gs->n_rows;
		rg->cursor = gs->next_cursor;
		vsctl__reply__free_unpacked(rep, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "guest samples: %s", vs_wh_error(wh));
			goto fail;
		}
		if (done == 0 || (done % S_FETCH_ROWS) != 0)
			break;
	}
	if (vs_wh_commit(wh) < 0) {
		snprintf(err, errlen, "commit: %s", vs_wh_error(wh));
		return -EIO;
	}
	return rc;
fail:
	vs_wh_rollback(wh);
	rg->opened = 0;         /* the rollback forgot the schema and the loads */
	rg->ndoms = 0;
	return rc;
}

int
vs_recguest_end(vs_recguest_t *rg, vs_wh_t *wh, char *err, size_t errlen)
{
	int rc;

	if (rg->ndoms == 0)
		return 0;
	if ((rc = vs_wh_begin(wh)) < 0) {
		snprintf(err, errlen, "begin: %s", vs_wh_error(wh));
		return rc;
	}
	for (size_t i = 0; i < rg->ndoms; i++) {
		vs_mload_result_t *res = calloc(1, sizeof(*res));
		if (res == NULL)
			return -ENOMEM;
		res->lines = rg->doms[i].samples;
		res->rows = rg->doms[i].rows;
		snprintf(res->status, sizeof(res->status), "ok");
		rc = vs_wh_load_end(wh, rg->doms[i].load_id, res);
		free(res);
		if (rc < 0) {
			snprintf(err, errlen, "load end: %s", vs_wh_error(wh));
			vs_wh_rollback(wh);
			return rc;
		}
	}
	if (vs_wh_commit(wh) < 0) {
		snprintf(err, errlen, "commit: %s", vs_wh_error(wh));
		return -EIO;
	}
	return 0;
}

void
vs_recguest_print(const vs_recguest_t *rg, FILE *f)
{
	for (size_t i = 0; i < rg->ndoms; i++)
		fprintf(f, "  guest %s: %" PRIu64 " samples, %" PRIu64 " rows\n", rg->doms[i].name,
		    rg->doms[i].samples, rg->doms[i].rows);
	fprintf(f, "  guest tables: cpu %" PRIu64 ", mem %" PRIu64 ", disk %" PRIu64 ", net %"
	    PRIu64 " rows; vscoped pushed out %" PRIu64 ", %" PRIu64 " restarts\n",
	    rg->cpu.rows, rg->mem.rows, rg->disk.rows, rg->net.rows, rg->pushed_out,
	    rg->restarts);
}

json_object *
vs_recguest_json(const vs_recguest_t *rg)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	for (size_t i = 0; i < rg->ndoms; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "domain", json_object_new_string(rg->doms[i].name));
		json_object_object_add(x, "samples",
		    json_object_new_int64((int64_t)rg->doms[i].samples));
		json_object_object_add(x, "rows", json_object_new_int64((int64_t)rg->doms[i].rows));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "domains", a);
	json_object_object_add(o, "pushed_out", json_object_new_int64((int64_t)rg->pushed_out));
	json_object_object_add(o, "restarts", json_object_new_int64((int64_t)rg->restarts));
	return o;
}
