/* Tests for dpg/dpgwire.c (the DPG protocol's bounded decoder) and dpg/vnode.c (the VNode
 * host) over real ZeroMQ sockets: this test plays vmasterd on an inproc ROUTER, deploys a
 * small tree on the host, drives its rounds and checks the root's merged Part, then feeds
 * it bad frames and bad Parts, which are dropped and counted. */
#include "dpg.h"
#include "dpgwire.h"
#include "vnode.h"
#include "tap.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static unsigned s_alt;  /* > 0: vifB alternates 40, 80 (a window's entropy of 1 bit) */

static int
s_read(void *arg, const char *entity, const char *metric, int64_t window_ns, double *rate_r)
{
	(void)arg;
	(void)window_ns;
	if (strcmp(metric, "net.tx.bytes"))
		return -ENOENT;
	if (!strcmp(entity, "vifA"))
		*rate_r = 100;
	else if (!strcmp(entity, "vifB"))
		*rate_r = s_alt && s_alt++ % 2 == 0 ? 80 : 40;
	else if (!strcmp(entity, "vifC"))
		*rate_r = 7;
	else
		return -ENOENT;
	return 0;
}

static int
s_inventory(void *arg, vs_dpg_dom_t **doms_r, size_t *n_r)
{
	vs_dpg_dom_t *d = calloc(1, sizeof(*d));

	(void)arg;
	if (!d)
		return -ENOMEM;
	snprintf(d->name, sizeof(d->name), "vm1");
	snprintf(d->vifs[0], sizeof(d->vifs[0]), "vifA");
	d->n_vifs = 1;
	*doms_r = d;
	*n_r = 1;
	return 0;
}

static void
t_decoder(void)
{
	char err[256];
	Vsdpg__Msg m = VSDPG__MSG__INIT, *d;
	Vsdpg__Part p = VSDPG__PART__INIT;
	Vsdpg__Register r = VSDPG__REGISTER__INIT;
	double top[2] = { 1, 5 };
	size_t len;
	void *buf;
	static char big[VS_DPG_MAX_MSG + 1];

	tap_ok(vs_dpgwire_decode(big, sizeof(big), err, sizeof(err)) == NULL &&
	       strstr(err, "at most"), "oversized frame refused before decoding (%s)", err);
	tap_ok(vs_dpgwire_decode("\xff\xff\xff", 3, err, sizeof(err)) == NULL,
	       "garbage refused (%s)", err);
	tap_ok(vs_dpgwire_decode("\x08\x01", 2, err, sizeof(err)) == NULL &&
	       strstr(err, "body"), "no body refused (%s)", err);
	m.body_case = VSDPG__MSG__BODY_PART;
	m.part = &p;
	p.fn = VS_DPG_FN_MAX;
	p.count = 2;
	p.leaves = 2;
	p.min = 1;
	p.max = 5;
	p.sum = 6;
	p.src = 0;
	p.dst = 3;
	buf = vs_dpgwire_pack(&m, &len);
	d = vs_dpgwire_decode(buf, len, err, sizeof(err));
	tap_ok(d && d->part->max == 5, "a good Part round-trips");
	vsdpg__msg__free_unpacked(d, NULL);
	{
		/* the same frame with a field 15 (varint) that version 1 does not have */
		char *x = malloc(len + 2);

		memcpy(x, buf, len);
		memcpy(x + len, "\x78\x01", 2);
		tap_ok(vs_dpgwire_decode(x, len + 2, err, sizeof(err)) == NULL &&
		       strstr(err, "does not know"), "an unknown field refused (%s)", err);
		free(x);
	}
	free(buf);
	/* field number 0 (fuzz/corpus-dpg/field0): protobuf-c packed it back as another */
	tap_ok(vs_dpgwire_decode("\xe2\xe2\x01\x00\x82\x00\x08\x01\xe2\x02\x00\x01\x00\x82\x00"
	       "\x08\x01\xe2\x02\x00\xe2\x02\x00", 23, err, sizeof(err)) == NULL &&
	       strstr(err, "does not know"), "a field number 0 refused (%s)", err);
	m.version = 2;
	buf = vsdpg__msg__get_packed_size(&m) ? malloc(vsdpg__msg__get_packed_size(&m)) : NULL;
	len = vsdpg__msg__pack(&m, buf);
	tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL && strstr(err, "version"),
	       "version 2 refused (%s)", err);
	free(buf);
	p.min = 9;              /* min > max */
	buf = vs_dpgwire_pack(&m, &len);
	tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL,
	       "a Part with min > max refused (%s)", err);
	free(buf);
	p.min = 1;
	p.fn = VS_DPG_FN_TOPK;
	p.k = 2;
	p.top = top;            /* ascending: not a Top-K */
	p.n_top = 2;
	buf = vs_dpgwire_pack(&m, &len);
	tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL,
	       "an unsorted Top-K Part refused (%s)", err);
	free(buf);
	{
		/* a central function's Part carries rows: count x cols finite values */
		Vsdpg__Part c = VSDPG__PART__INIT;
		Vsdpg__Msg cm = VSDPG__MSG__INIT;
		double rows[6] = { 1, 2, 3, 4, 5, 6 };

		cm.body_case = VSDPG__MSG__BODY_PART;
		cm.part = &c;
		c.fn = VS_DPG_FN_KMEANS;
		c.src = 0;
		c.dst = 3;
		c.count = 2;
		c.leaves = 2;
		c.cols = 3;
		c.rows = rows;
		c.n_rows = 6;
		buf = vs_dpgwire_pack(&cm, &len);
		d = vs_dpgwire_decode(buf, len, err, sizeof(err));
		tap_ok(d && d->part->n_rows == 6 && d->part->rows[5] == 6 && d->part->cols == 3,
		       "a K-means Part of 2 rows x 3 round-trips");
		vsdpg__msg__free_unpacked(d, NULL);
		free(buf);
		c.cols = 4;     /* 6 values are not 2 rows of 4 */
		buf = vs_dpgwire_pack(&cm, &len);
		tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL && strstr(err, "rows"),
		       "rows that are not count x cols refused (%s)", err);
		free(buf);
		c.cols = 3;
		rows[4] = NAN;
		buf = vs_dpgwire_pack(&cm, &len);
		tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL &&
		       strstr(err, "out of range"), "a NaN in rows refused (%s)", err);
		free(buf);
		rows[4] = 5;
		c.leaves = 3;   /* more leaves than rows */
		buf = vs_dpgwire_pack(&cm, &len);
		tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL,
		       "3 leaves for 2 rows refused (%s)", err);
		free(buf);
		c.leaves = 2;
		c.fn = VS_DPG_FN_MAX;   /* rows on a combine function's Part */
		buf = vs_dpgwire_pack(&cm, &len);
		tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL &&
		       strstr(err, "not central"), "rows on a MAX Part refused (%s)", err);
		free(buf);
	}
	{
		const vs_dpg_fn_t *fe = vs_dpg_fn_lookup(VS_DPG_FN_ENTROPY);
		vs_dpg_part_t a, b;

		/* EbAT's PiH travels too: two entropies 1.5 and 2 merged at a parent */
		fe->init(&a, 0);
		fe->init(&b, 0);
		a.count = b.count = 1;
		a.leaves = b.leaves = 1;
		a.sum = a.prod = a.min = a.max = 1.5;
		b.sum = b.prod = b.min = b.max = 2;
		fe->combine(&a, &b);
		vs_dpgwire_part_put(&a, &p);
		buf = vs_dpgwire_pack(&m, &len);
		d = vs_dpgwire_decode(buf, len, err, sizeof(err));
		tap_ok(d && vs_dpgwire_part_get(d->part, fe, 0, &b) == 0 && b.sum == 3.5 &&
		       b.prod == 3 && b.count == 2, "an Entropy Part carries SigmaH 3.5 and PiH 3");
		vsdpg__msg__free_unpacked(d, NULL);
		free(buf);
		p.prod = 0;
		p.min = 1;
		p.max = 5;
	}
	p.fn = 99;
	p.n_top = 0;
	buf = vs_dpgwire_pack(&m, &len);
	tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL,
	       "a Part of an unknown function refused (%s)", err);
	free(buf);
	m.body_case = VSDPG__MSG__BODY_REGISTER;
	m.register_ = &r;
	r.host = "bad host/name";
	buf = vs_dpgwire_pack(&m, &len);
	tap_ok(vs_dpgwire_decode(buf, len, err, sizeof(err)) == NULL && strstr(err, "host"),
	       "a Register with a bad host name refused (%s)", err);
	free(buf);
	tap_ok(vs_dpgwire_name_ok("h1:vm-2.x_") && !vs_dpgwire_name_ok("") &&
	       !vs_dpgwire_name_ok("a b") && !vs_dpgwire_name_ok(
	       "0123456789012345678901234567890123456789012345678901234567890123"),
	       "names: 1..63 of [A-Za-z0-9_.:-]");
}

/* Receives one message for the test's ROUTER, up to ms; NULL on timeout. */
static Vsdpg__Msg *
s_recv(void *router, int ms, unsigned char *id, size_t *id_len)
{
	zmq_pollitem_t it = { router, 0, ZMQ_POLLIN, 0 };
	char err[256], buf[65536];
	int n;

	if (zmq_poll(&it, 1, ms) <= 0)
		return NULL;
	n = zmq_recv(router, id, 256, 0);
	*id_len = n > 0 ? (size_t)n : 0;
	n = zmq_recv(router, buf, sizeof(buf), 0);
	return n > 0 ? vs_dpgwire_decode(buf, (size_t)n, err, sizeof(err)) : NULL;
}

static void
s_send(void *router, const unsigned char *id, size_t id_len, Vsdpg__Msg *m)
{
	size_t len;
	void *buf = vs_dpgwire_pack(m, &len);

	zmq_send(router, id, id_len, ZMQ_SNDMORE);
	zmq_send(router, buf, len, 0);
	free(buf);
}

/* Drives the host until the test's ROUTER gets a message of kind, at most ms. */
static Vsdpg__Msg *
s_until(void *router, vs_dpg_host_t *h, int kind, int64_t *real, int ms, unsigned char *id,
    size_t *id_len)
{
	for (int i = 0; i < ms / 10; i++) {
		Vsdpg__Msg *m;

		vs_dpg_host_process(h);
		*real += 50 * 1000000LL;        /* the host's clock runs 5 x fast */
		vs_dpg_host_tick(h, *real, *real);
		m = s_recv(router, 10, id, id_len);
		if (m && (int)m->body_case == kind)
			return m;
		vsdpg__msg__free_unpacked(m, NULL);
	}
	return NULL;
}

static void
t_host(void)
{
	void *ctx = zmq_ctx_new(), *router = zmq_socket(ctx, ZMQ_ROUTER), *rogue;
	vs_dpg_host_config_t hc = { .endpoint = "inproc://test-dpg", .host = "h1",
		.read = s_read, .inventory = s_inventory };
	vs_dpg_host_t *h;
	char err[256];
	unsigned char id[256];
	size_t id_len = 0;
	int64_t real = 1000 * 1000000000LL;
	Vsdpg__Msg *m, out = VSDPG__MSG__INIT;
	Vsdpg__Deploy d = VSDPG__DEPLOY__INIT;
	Vsdpg__VNode v[3], *vp[3];
	char *ea[] = { "vifA", "vifC" }, *eb[] = { "vifB" };
	vs_dpg_host_stats_t st;

	zmq_bind(router, "inproc://test-dpg");
	tap_ok(vs_dpg_host_new(ctx, &(vs_dpg_host_config_t){ .endpoint = "inproc://x",
	       .host = "bad name" }, err, sizeof(err)) == NULL, "a bad host name: %s", err);
	h = vs_dpg_host_new(ctx, &hc, err, sizeof(err));
	tap_ok(h != NULL, "VNode host connects");
	m = s_until(router, h, VSDPG__MSG__BODY_REGISTER, &real, 2000, id, &id_len);
	tap_ok(m && !strcmp(m->register_->host, "h1") && m->register_->n_domains == 1 &&
	       !strcmp(m->register_->domains[0]->vifs[0], "vifA"),
	       "it registers as h1 with vm1 and vifA");
	vsdpg__msg__free_unpacked(m, NULL);

	/* leaves 0 (vifA + vifC) and 1 (vifB) feed the root 2, all on h1 */
	for (int i = 0; i < 3; i++) {
		vsdpg__vnode__init(&v[i]);
		v[i].id = (uint32_t)i;
		v[i].parent = i < 2 ? 2 : VS_DPG_NO_PARENT;
		v[i].parent_host = i < 2 ? "h1" : "";
		vp[i] = &v[i];
	}
	v[0].entities = ea;
	v[0].n_entities = 2;
	v[1].entities = eb;
	v[1].n_entities = 1;
	v[2].n_inputs = 2;
	d.dpg = 7;
	d.gen = 1;
	d.fn = VS_DPG_FN_MAX;
	d.metric = "net.tx.bytes";
	d.period_ns = 1000000000LL;
	d.running = 1;
	d.vnodes = vp;
	d.n_vnodes = 3;
	out.body_case = VSDPG__MSG__BODY_DEPLOY;
	out.deploy = &d;
	s_send(router, id, id_len, &out);
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	tap_ok(m && m->deployed->dpg == 7 && m->deployed->gen == 1 && m->deployed->status == 0 &&
	       m->deployed->vnodes == 3, "Deploy of 3 VNodes confirmed once");
	vsdpg__msg__free_unpacked(m, NULL);
	m = s_until(router, h, VSDPG__MSG__BODY_PART, &real, 4000, id, &id_len);
	tap_ok(m && m->part->src == 2 && m->part->dst == VS_DPG_NO_PARENT && m->part->leaves == 2 &&
	       m->part->count == 2 && m->part->max == 107 && m->part->min == 40,
	       "the root's Part: 2 leaves, MAX 107 (vifA + vifC), MIN 40");
	vsdpg__msg__free_unpacked(m, NULL);

	/* assign AVE in place (gen 2) */
	d.gen = 2;
	d.fn = VS_DPG_FN_AVE;
	s_send(router, id, id_len, &out);
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	vsdpg__msg__free_unpacked(m, NULL);
	m = s_until(router, h, VSDPG__MSG__BODY_PART, &real, 4000, id, &id_len);
	tap_ok(m && m->part->fn == VS_DPG_FN_AVE && fabs(m->part->sum / m->part->count - 73.5) < 1e-9,
	       "after assign AVE: mean 73.5");
	vsdpg__msg__free_unpacked(m, NULL);

	/* an old generation is refused */
	d.gen = 1;
	s_send(router, id, id_len, &out);
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	tap_ok(m && m->deployed->status == -ESTALE, "a Deploy of an older generation: -ESTALE (%s)",
	       m ? m->deployed->error : "none");
	vsdpg__msg__free_unpacked(m, NULL);

	/* bad input from the master's side: garbage, a multi-frame message, a Part for a leaf */
	zmq_send(router, id, id_len, ZMQ_SNDMORE);
	zmq_send(router, "\xff\xfe", 2, 0);
	zmq_send(router, id, id_len, ZMQ_SNDMORE);
	zmq_send(router, "a", 1, ZMQ_SNDMORE);
	zmq_send(router, "b", 1, 0);
	{
		Vsdpg__Part p = VSDPG__PART__INIT;
		Vsdpg__Msg pm = VSDPG__MSG__INIT;

		p.dpg = 7;
		p.src = 2;
		p.dst = 0;      /* a leaf has no inputs */
		p.fn = VS_DPG_FN_AVE;
		pm.body_case = VSDPG__MSG__BODY_PART;
		pm.part = &p;
		s_send(router, id, id_len, &pm);
		p.dpg = 8;      /* no such DPG here */
		p.src = 0;
		p.dst = 2;
		s_send(router, id, id_len, &pm);
	}
	for (int i = 0; i < 20; i++) {
		vs_dpg_host_process(h);
		zmq_poll(NULL, 0, 5);
	}
	vs_dpg_host_stats(h, &st);
	tap_ok(st.msgs_bad == 2 && st.parts_bad == 2, "2 bad frames and 2 bad Parts counted "
	       "(%llu, %llu)", (unsigned long long)st.msgs_bad, (unsigned long long)st.parts_bad);
	tap_ok(st.dpgs == 1 && st.vnodes == 3, "the DPG is untouched: 1 DPG, 3 VNodes");

	/* a central function: the leaves' windows of 2 samples go up whole, and the root's
	 * Part holds both rows (leaf 0: vifA + vifC = 107 each period, leaf 1: vifB = 40) */
	d.gen = 4;
	d.fn = VS_DPG_FN_KMEANS;
	d.fn_arg = 2;
	d.window = 2;
	s_send(router, id, id_len, &out);   /* without central set: refused */
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	tap_ok(m == NULL, "a K-means Deploy that does not say central is dropped");
	vsdpg__msg__free_unpacked(m, NULL);
	d.central = 1;
	s_send(router, id, id_len, &out);
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	tap_ok(m && m->deployed->status == 0, "Deploy of a K-means DPG (window 2) confirmed (%s)",
	       m ? m->deployed->error : "none");
	vsdpg__msg__free_unpacked(m, NULL);
	{
		int got = 0;

		for (int i = 0; i < 6 && !got; i++) {
			m = s_until(router, h, VSDPG__MSG__BODY_PART, &real, 4000, id, &id_len);
			if (m && m->part->count == 2)
				got = m->part->cols == 2 && m->part->n_rows == 4 &&
				    m->part->leaves == 2 && m->part->sum == 0 &&
				    ((m->part->rows[0] == 107 && m->part->rows[1] == 107 &&
				    m->part->rows[2] == 40 && m->part->rows[3] == 40) ||
				    (m->part->rows[0] == 40 && m->part->rows[1] == 40 &&
				    m->part->rows[2] == 107 && m->part->rows[3] == 107)) ? 1 : -1;
			vsdpg__msg__free_unpacked(m, NULL);
		}
		tap_ok(got == 1, "the root's K-means Part: 2 rows x 2, {107, 107} and {40, 40}");
	}
	/* a central plugin's id (1095) is unknown here: the host ships rows all the same */
	d.gen = 5;
	d.fn = VS_DPG_FN_PLUGIN_MIN + 95;
	d.fn_arg = 0;
	s_send(router, id, id_len, &out);
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	tap_ok(m && m->deployed->status == 0, "Deploy of a central plugin's function confirmed");
	vsdpg__msg__free_unpacked(m, NULL);
	{
		int got = 0;

		for (int i = 0; i < 6 && !got; i++) {
			m = s_until(router, h, VSDPG__MSG__BODY_PART, &real, 4000, id, &id_len);
			if (m && m->part->count == 2)
				got = m->part->fn == d.fn && m->part->n_rows == 4 ? 1 : -1;
			vsdpg__msg__free_unpacked(m, NULL);
		}
		tap_ok(got == 1, "its root sends the 2 rows of 2 with fn 1095");
	}
	d.central = 0;      /* a combine function's Deploy must not say central */
	d.fn = VS_DPG_FN_MAX;
	d.gen = 6;
	s_send(router, id, id_len, &out);
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	tap_ok(m && m->deployed->status == 0, "back to MAX (gen 6)");
	vsdpg__msg__free_unpacked(m, NULL);

	/* ENTROPY (EbAT) over windows of 4: leaf 0's 107, 107, ... has 0 bits, leaf 1's
	 * 40, 80, 40, 80 falls into bins 3 and 6 half the time each: 1 bit */
	s_alt = 1;
	d.gen = 7;
	d.fn = VS_DPG_FN_ENTROPY;
	d.window = 4;
	s_send(router, id, id_len, &out);
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	tap_ok(m && m->deployed->status == 0, "Deploy of an ENTROPY DPG (window 4) confirmed");
	vsdpg__msg__free_unpacked(m, NULL);
	{
		int got = 0;
		double sh = -1, ph = -1;

		for (int i = 0; i < 8 && !got; i++) {
			m = s_until(router, h, VSDPG__MSG__BODY_PART, &real, 4000, id, &id_len);
			if (m && m->part->fn == VS_DPG_FN_ENTROPY && m->part->count == 2) {
				sh = m->part->sum;
				ph = m->part->prod;
				got = m->part->leaves == 2 && fabs(sh - 1) < 1e-9 && ph == 0 &&
				    m->part->min == 0 && fabs(m->part->max - 1) < 1e-9 ? 1 : -1;
			}
			vsdpg__msg__free_unpacked(m, NULL);
		}
		tap_ok(got == 1, "the root's ENTROPY Part: 2 leaves, SigmaH %g (1), PiH %g (0)", sh,
		       ph);
	}
	s_alt = 0;

	/* removal: an empty Deploy */
	d.gen = 8;
	d.n_vnodes = 0;
	s_send(router, id, id_len, &out);
	m = s_until(router, h, VSDPG__MSG__BODY_DEPLOYED, &real, 2000, id, &id_len);
	vsdpg__msg__free_unpacked(m, NULL);
	vs_dpg_host_stats(h, &st);
	tap_ok(st.dpgs == 0 && st.vnodes == 0, "an empty Deploy removes the DPG");

	rogue = zmq_socket(ctx, ZMQ_DEALER);
	zmq_close(rogue);
	vs_dpg_host_destroy(&h);
	vs_dpg_host_destroy(&h);
	tap_ok(h == NULL, "destroy twice is safe");
	zmq_close(router);
	zmq_ctx_term(ctx);
}

/* ---- the metric library in Registers ------------------------------------------------------ */

static int s_n_metrics = 2;     /* what s_metrics announces: 2, then 3 (a metric appears) */

static int
s_metrics(void *arg, vs_dpg_metric_t **ms_r, size_t *n_r)
{
	vs_dpg_metric_t *ms = calloc(3, sizeof(*ms));

	(void)arg;
	if (!ms)
		return -ENOMEM;
	snprintf(ms[0].name, sizeof(ms[0].name), "net.tx.bytes");
	snprintf(ms[0].unit, sizeof(ms[0].unit), "bytes");
	ms[0].counter = 1;
	snprintf(ms[0].source, sizeof(ms[0].source), "dom0 sampler: RTM_GETSTATS");
	ms[0].n_entities = 20;  /* more than fit: 16 listed */
	for (int i = 0; i < 16; i++)
		snprintf(ms[0].entities[i], sizeof(ms[0].entities[0]), "vif%d.0", i);
	snprintf(ms[1].name, sizeof(ms[1].name), "mem.free");
	snprintf(ms[1].unit, sizeof(ms[1].unit), "KiB");
	snprintf(ms[1].source, sizeof(ms[1].source), "dom0 sampler: /proc/meminfo");
	ms[1].n_entities = 1;
	snprintf(ms[1].entities[0], sizeof(ms[1].entities[0]), "host");
	snprintf(ms[2].name, sizeof(ms[2].name), "statsd.x");
	snprintf(ms[2].source, sizeof(ms[2].source), "guest agent in the domain: StatsD");
	ms[2].n_entities = 1;
	snprintf(ms[2].entities[0], sizeof(ms[2].entities[0]), "vm1");
	*ms_r = ms;
	*n_r = (size_t)s_n_metrics;
	return 0;
}

/* Packs a Register of host h1 with metric x and decodes it: the decoder's verdict. */
static int
s_reg_metric(Vsdpg__Metric *x, int has, char *err, size_t errlen)
{
	Vsdpg__Msg m = VSDPG__MSG__INIT, *d;
	Vsdpg__Register r = VSDPG__REGISTER__INIT;
	Vsdpg__Metric *xp[1] = { x };
	size_t len;
	void *buf;

	r.host = "h1";
	r.has_metrics = has;
	r.metrics = xp;
	r.n_metrics = 1;
	m.body_case = VSDPG__MSG__BODY_REGISTER;
	m.register_ = &r;
	buf = vs_dpgwire_pack(&m, &len);
	d = vs_dpgwire_decode(buf, len, err, errlen);
	free(buf);
	if (!d)
		return -1;
	vsdpg__msg__free_unpacked(d, NULL);
	return 0;
}

static void
t_metrics(void)
{
	char err[256], longunit[17], longsrc[257], *ents[17];
	char names[17][8];
	Vsdpg__Metric x;
	void *ctx = zmq_ctx_new(), *router = zmq_socket(ctx, ZMQ_ROUTER);
	vs_dpg_host_config_t hc = { .endpoint = "inproc://test-dpgm", .host = "h1",
		.read = s_read, .inventory = s_inventory, .metrics = s_metrics };
	vs_dpg_host_t *h;
	unsigned char id[256];
	size_t id_len = 0;
	int64_t real = 1000 * 1000000000LL;
	Vsdpg__Msg *m;
	int with = 0, without = 0;
	vs_dpg_host_stats_t st;

	memset(longunit, 'u', 16);
	longunit[16] = '\0';
	memset(longsrc, 's', 256);
	longsrc[256] = '\0';
	for (int i = 0; i < 17; i++) {
		snprintf(names[i], sizeof(names[i]), "e%d", i);
		ents[i] = names[i];
	}
#define METRIC(name_, unit_, src_, count_, n_) do { vsdpg__metric__init(&x); x.name = name_; \
	x.unit = unit_; x.source = src_; x.entity_count = count_; x.entities = ents; \
	x.n_entities = n_; } while (0)
	METRIC("net.tx.bytes", "bytes", "dom0 sampler", 20, 16);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) == 0, "a Register with a metric decodes");
	tap_ok(s_reg_metric(&x, 0, err, sizeof(err)) < 0 && strstr(err, "has_metrics"),
	       "metrics without has_metrics refused (%s)", err);
	METRIC("bad name", "", "s", 1, 1);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) < 0 && strstr(err, "bad name"),
	       "a metric with a bad name refused (%s)", err);
	METRIC("a.b", longunit, "s", 1, 1);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) < 0 && strstr(err, "unit"),
	       "a 16-byte unit refused (%s)", err);
	METRIC("a.b", "", longsrc, 1, 1);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) < 0 && strstr(err, "source"),
	       "a 256-byte source refused (%s)", err);
	METRIC("a.b", "", "tab\there", 1, 1);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) < 0, "a control character in a source refused");
	METRIC("a.b", "", "s", 17, 17);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) < 0 && strstr(err, "entities"),
	       "17 entities listed refused (%s)", err);
	METRIC("a.b", "", "s", 1, 2);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) < 0, "more entities listed than counted refused");
	METRIC("a.b", "", "s", 0, 0);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) < 0, "a metric of no entity refused");
	names[0][0] = '\0';
	METRIC("a.b", "", "s", 1, 1);
	tap_ok(s_reg_metric(&x, 1, err, sizeof(err)) < 0, "an empty entity name refused");
#undef METRIC

	/* the host: the library in its first Register, then only when it changes (or every 16th) */
	zmq_bind(router, "inproc://test-dpgm");
	h = vs_dpg_host_new(ctx, &hc, err, sizeof(err));
	tap_ok(h != NULL, "VNode host with a metric library connects");
	m = s_until(router, h, VSDPG__MSG__BODY_REGISTER, &real, 2000, id, &id_len);
	tap_ok(m && m->register_->has_metrics && m->register_->n_metrics == 2 &&
	       !strcmp(m->register_->metrics[0]->name, "net.tx.bytes") &&
	       m->register_->metrics[0]->counter && m->register_->metrics[0]->entity_count == 20 &&
	       m->register_->metrics[0]->n_entities == 16 &&
	       !strcmp(m->register_->metrics[1]->unit, "KiB") &&
	       !strcmp(m->register_->metrics[1]->entities[0], "host"),
	       "the first Register carries the library: 2 metrics, 20 entities with 16 listed");
	vsdpg__msg__free_unpacked(m, NULL);
	for (int i = 0; i < 10; i++) {
		m = s_until(router, h, VSDPG__MSG__BODY_REGISTER, &real, 2000, id, &id_len);
		if (m && m->register_->has_metrics)
			with++;
		else if (m)
			without++;
		vsdpg__msg__free_unpacked(m, NULL);
	}
	tap_ok(with == 0 && without == 10, "the next 10 heartbeats leave it out (%d with, %d without)",
	       with, without);
	s_n_metrics = 3;
	m = s_until(router, h, VSDPG__MSG__BODY_REGISTER, &real, 2000, id, &id_len);
	tap_ok(m && m->register_->has_metrics && m->register_->n_metrics == 3 &&
	       !strcmp(m->register_->metrics[2]->name, "statsd.x"),
	       "a new metric: the next heartbeat carries the library again (3 metrics)");
	vsdpg__msg__free_unpacked(m, NULL);
	with = without = 0;
	for (int i = 0; i < 17; i++) {
		m = s_until(router, h, VSDPG__MSG__BODY_REGISTER, &real, 2000, id, &id_len);
		with += m && m->register_->has_metrics;
		vsdpg__msg__free_unpacked(m, NULL);
	}
	tap_ok(with == 1, "unchanged, it is sent again once in 17 heartbeats (%d)", with);
	vs_dpg_host_stats(h, &st);
	tap_ok(st.metric_sends == 3, "the host counted 3 sends of its library (%llu)",
	       (unsigned long long)st.metric_sends);
	vs_dpg_host_destroy(&h);
	zmq_close(router);
	zmq_ctx_term(ctx);
}

/* ---- the plugin functions in Registers ---------------------------------------------------- */

/* Packs a Register of host h1 with n plugin functions pf[] and decodes it: the decoded
 * message (the caller frees it) or NULL with the reason in err. */
static Vsdpg__Msg *
s_reg_plugins(Vsdpg__PluginFn *pf, size_t n, uint64_t fn_errors, char *err, size_t errlen)
{
	Vsdpg__Msg m = VSDPG__MSG__INIT, *d;
	Vsdpg__Register r = VSDPG__REGISTER__INIT;
	Vsdpg__PluginFn **pp = calloc(n + 1, sizeof(*pp));
	size_t len;
	void *buf;

	for (size_t i = 0; i < n; i++)
		pp[i] = &pf[i];
	r.host = "h1";
	r.plugins = pp;
	r.n_plugins = n;
	r.fn_errors = fn_errors;
	m.body_case = VSDPG__MSG__BODY_REGISTER;
	m.register_ = &r;
	buf = vs_dpgwire_pack(&m, &len);
	d = vs_dpgwire_decode(buf, len, err, errlen);
	free(buf);
	free(pp);
	return d;
}

static void
s_pfn(Vsdpg__PluginFn *f, char *name, uint32_t id, uint32_t abi, uint32_t kind)
{
	vsdpg__plugin_fn__init(f);
	f->name = name;
	f->id = id;
	f->abi = abi;
	f->kind = kind;
}

/* one bad entry after a good one: refused, and err says what */
static int
s_bad_pfn(char *name, uint32_t id, uint32_t abi, uint32_t kind, const char *want)
{
	Vsdpg__PluginFn pf[2];
	char err[256] = "";
	Vsdpg__Msg *d;

	s_pfn(&pf[0], "RANGE", 1100, 1, VS_DPG_FN_COMBINE);
	s_pfn(&pf[1], name, id, abi, kind);
	d = s_reg_plugins(pf, 2, 0, err, sizeof(err));
	tap_diag("  %s: %s", want, err);
	if (d) {
		vsdpg__msg__free_unpacked(d, NULL);
		return 0;
	}
	return strstr(err, want) != NULL;
}

static void
t_plugins(void)
{
	Vsdpg__PluginFn pf[VS_DPG_PLUGIN_MAXLOADED + 1];
	char err[256] = "", names[VS_DPG_PLUGIN_MAXLOADED + 1][16], n33[34];
	Vsdpg__Msg *d;

	s_pfn(&pf[0], "RANGE", 1100, 1, VS_DPG_FN_COMBINE);
	s_pfn(&pf[1], "WSTAT", 1101, 1, VS_DPG_FN_LOCAL);
	s_pfn(&pf[2], "P95", 1095, 1, VS_DPG_FN_CENTRAL);
	d = s_reg_plugins(pf, 3, 42, err, sizeof(err));
	tap_ok(d && d->register_->n_plugins == 3 &&
	       !strcmp(d->register_->plugins[1]->name, "WSTAT") &&
	       d->register_->plugins[1]->id == 1101 && d->register_->plugins[1]->abi == 1 &&
	       d->register_->plugins[1]->kind == VS_DPG_FN_LOCAL && d->register_->fn_errors == 42,
	       "a Register with 3 plugin functions (local, combine, central) and fn_errors "
	       "decodes as sent (%s)", err);
	if (d)
		vsdpg__msg__free_unpacked(d, NULL);
	tap_ok(s_bad_pfn("bad name", 1200, 1, 2, "bad name"), "a function name with a space");
	memset(n33, 'N', 33);
	n33[33] = '\0';
	tap_ok(s_bad_pfn(n33, 1200, 1, 2, "bad name"), "a plugin function name of 33 bytes");
	tap_ok(s_bad_pfn("", 1200, 1, 2, "bad name"), "an empty plugin function name");
	tap_ok(s_bad_pfn("a.b", 1200, 1, 2, "bad name"), "a '.' in a plugin function name");
	tap_ok(s_bad_pfn("LOW", 999, 1, 2, "id 999 is below 1000"), "an id in the built-ins'");
	tap_ok(s_bad_pfn("K0", 1200, 1, 0, "kind 0"), "kind 0");
	tap_ok(s_bad_pfn("K4", 1200, 1, 4, "kind 4"), "kind 4");
	tap_ok(s_bad_pfn("A0", 1200, 0, 2, "ABI 0"), "ABI version 0");
	tap_ok(s_bad_pfn("OTHER", 1100, 1, 2, "twice"), "two functions with one id");
	tap_ok(s_bad_pfn("range", 1300, 1, 2, "twice"), "two functions with one name (any case)");
	for (size_t i = 0; i <= VS_DPG_PLUGIN_MAXLOADED; i++) {
		snprintf(names[i], sizeof(names[i]), "F%zu", i);
		s_pfn(&pf[i], names[i], 1000 + (uint32_t)i, 1, VS_DPG_FN_COMBINE);
	}
	d = s_reg_plugins(pf, VS_DPG_PLUGIN_MAXLOADED, 0, err, sizeof(err));
	tap_ok(d != NULL, "%u plugin functions (the most a host loads) decode",
	       VS_DPG_PLUGIN_MAXLOADED);
	if (d)
		vsdpg__msg__free_unpacked(d, NULL);
	d = s_reg_plugins(pf, VS_DPG_PLUGIN_MAXLOADED + 1, 0, err, sizeof(err));
	tap_ok(!d && strstr(err, "257 plugin functions (at most 256)"),
	       "257 are refused (%s)", err);
	if (d)
		vsdpg__msg__free_unpacked(d, NULL);
}

int
main(void)
{
	t_decoder();
	t_host();
	t_metrics();
	t_plugins();
	return tap_done();
}
