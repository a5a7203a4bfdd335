/*
 * The control endpoint over real ZeroMQ sockets (ipc://): good requests answered from a real
 * history and inventory, every kind of bad request answered with an error while the
 * endpoint keeps serving, and a frame past the transport limit not taking it down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "control.h"
#include "graph.h"
#include "history.h"
#include "tap.h"
#include "wire.h"

static vs_control_t *ctl;

/* Serves until a reply is ready or 2 s pass, then returns the decoded reply. */
static Vsctl__Reply *
roundtrip(void *client, const void *buf, size_t len, int req_socket)
{
	char rbuf[1 << 20];
	char err[128];
	int n = -1;

	(void)req_socket;
	zmq_send(client, buf, len, 0);
	for (int i = 0; i < 200 && n < 0; i++) {
		zmq_pollitem_t it = { vs_control_socket(ctl), 0, ZMQ_POLLIN, 0 };

		zmq_poll(&it, 1, 10);
		vs_control_process(ctl);
		n = zmq_recv(client, rbuf, sizeof(rbuf), ZMQ_DONTWAIT);
	}
	if (n < 0)
		return NULL;
	return vs_wire_reply_decode(rbuf, (size_t)n, err, sizeof(err));
}

static Vsctl__Reply *
call(void *client, Vsctl__Request *req)
{
	size_t len;
	void *buf = vs_wire_pack(&req->base, &len);
	Vsctl__Reply *r = roundtrip(client, buf, len, 1);

	free(buf);
	return r;
}

static void
request_inventory(Vsctl__Request *req, Vsctl__InventoryReq *inv)
{
	vsctl__request__init(req);
	vsctl__inventory_req__init(inv);
	req->version = 1;
	req->body_case = VSCTL__REQUEST__BODY_INVENTORY;
	req->inventory = inv;
}

static int
still_serving(void *client)
{
	Vsctl__Request req;
	Vsctl__InventoryReq inv;
	Vsctl__Reply *r;
	int ok;

	request_inventory(&req, &inv);
	r = call(client, &req);
	ok = r && r->status == 0 && r->body_case == VSCTL__REPLY__BODY_INVENTORY &&
	    r->inventory->n_domains == 2;
	if (r)
		vsctl__reply__free_unpacked(r, NULL);
	return ok;
}

int
main(void)
{
	char dir[] = "/tmp/vs-ctl-XXXXXX", ep[128], err[256];
	vs_history_config_t hc = { .max_series = 128, .max_ticks = 1000, .arena_bytes = 1 << 18 };
	vs_history_t *h;
	vs_graph_t g;
	vs_dom_t doms[2];
	vs_control_ctx_t ctx;
	uint64_t abs_counts[128] = { 0 };
	void *zctx, *req_sock, *dealer;
	Vsctl__Request req;
	Vsctl__Reply *r;
	int64_t t0 = vs_now_ns() - 10 * VS_NS_PER_SEC;
	int timeout = 2000, zero = 0, id;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("mkdtemp");
	snprintf(ep, sizeof(ep), "ipc://%s/sub/ctl.sock", dir);

	/* a history with 100 ticks of 100 ms; vif1.0 receives 1000 bytes per tick */
	h = vs_history_new(&hc);
	memset(doms, 0, sizeof(doms));
	for (int i = 0; i < 2; i++) {
		doms[i].id = (uint32_t)(i + 1);
		snprintf(doms[i].name, sizeof(doms[i].name), "vm%d", i + 1);
		doms[i].state = VS_DOM_RUNNING;
		doms[i].mem_kib = 262144;
		doms[i].vcpus = 1;
		doms[i].n_vifs = 1;
		snprintf(doms[i].vifs[0].ifname, IF_NAMESIZE, "vif%d.0", i + 1);
		snprintf(doms[i].vifs[0].mac, VS_MAC_STR_LEN, "00:16:3e:00:00:0%d", i + 1);
	}
	vs_graph_init(&g);
	tap_ok(vs_graph_update(&g, h, doms, 2) == 1, "graph takes 2 domains");
	id = vs_history_series_find(h, "vif1.0", "net.rx.bytes");
	tap_ok(id >= 0, "series for vif1.0 net.rx.bytes exists");
	for (int k = 1; k <= 100; k++) {
		vs_history_tick(h, t0 + k * 100 * VS_NS_PER_MSEC);
		vs_history_append(h, id, 1000);
		abs_counts[id] += 1000;
		vs_history_append(h, vs_history_series_find(h, "vm1", "mem.current"), 262144);
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.history = h;
	ctx.graph = &g;
	ctx.counter_abs = abs_counts;
	ctx.interval_ns = 100 * VS_NS_PER_MSEC;
	snprintf(ctx.hv_name, sizeof(ctx.hv_name), "libvirt");
	ctx.simulated = 1;

	zctx = zmq_ctx_new();
	ctl = vs_control_new(zctx, ep, &ctx, err, sizeof(err));
	tap_ok(ctl != NULL, "control endpoint binds %s (%s)", ep, ctl ? "" : err);
	if (ctl == NULL)
		return tap_done();
	{
		struct stat st;
		char path[200];
		snprintf(path, sizeof(path), "%s/sub/ctl.sock", dir);
		int rc = stat(path, &st);
		tap_ok(rc == 0 && (st.st_mode & 077) == 0,
		    "ipc socket created, closed to group and others (mode %o)", st.st_mode & 0777);
	}
	req_sock = zmq_socket(zctx, ZMQ_REQ);
	zmq_setsockopt(req_sock, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(req_sock, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_connect(req_sock, ep);

	/* inventory */
	{
		Vsctl__InventoryReq inv;
		request_inventory(&req, &inv);
		r = call(req_sock, &req);
		tap_ok(r && r->status == 0 && r->body_case == VSCTL__REPLY__BODY_INVENTORY,
		    "inventory answered");
		if (r) {
			Vsctl__Inventory *i = r->inventory;
			tap_ok(i->n_domains == 2 && !strcmp(i->domains[0]->name, "vm1") &&
			    i->domains[1]->id == 2, "with both domains");
			tap_ok(i->domains[0]->n_vifs == 1 && !strcmp(i->domains[0]->vifs[0]->name, "vif1.0") &&
			    !strcmp(i->domains[0]->vifs[0]->mac, "00:16:3e:00:00:01"), "and their VIFs");
			tap_ok(i->host && i->host->simulated && !strcmp(i->host->hypervisor, "libvirt"),
			    "host says libvirt, simulated");
			vsctl__reply__free_unpacked(r, NULL);
		}
	}
	/* read: 1000 bytes per 100 ms = 10000 B/s over any window */
	{
		Vsctl__ReadReq rd = VSCTL__READ_REQ__INIT;
		char *ent[] = { (char *)"vif1.0" }, *met[] = { (char *)"net.rx.*" };

		vsctl__request__init(&req);
		req.version = 1;
		req.body_case = VSCTL__REQUEST__BODY_READ;
		req.read = &rd;
		rd.entity = ent;
		rd.n_entity = 1;
		rd.metric = met;
		rd.n_metric = 1;
		rd.window_ns = 2 * VS_NS_PER_SEC;
		r = call(req_sock, &req);
		tap_ok(r && r->status == 0 && r->body_case == VSCTL__REPLY__BODY_READ, "read answered");
		if (r) {
			Vsctl__Reading *b = NULL;
			for (size_t i = 0; i < r->read->n_readings; i++)
				if (!strcmp(r->read->readings[i]->metric, "net.rx.bytes"))
					b = r->read->readings[i];
			TAP_IS_INT(r->read->n_readings, 4, "prefix net.rx.* matches the 4 rx metrics");
			tap_ok(b && b->rate > 9999 && b->rate < 10001, "rate over 2 s = 10000 B/s (got %f)",
			    b ? b->rate : -1);
			tap_ok(b && b->value == 100000, "absolute counter value 100000 (got %f)", b ? b->value : -1);
			tap_ok(b && b->kind == VSCTL__KIND__COUNTER && !strcmp(b->unit, "bytes"), "kind and unit");
			vsctl__reply__free_unpacked(r, NULL);
		}
		rd.window_ns = 0;
		r = call(req_sock, &req);
		if (r) {
			Vsctl__Reading *b = NULL;
			for (size_t i = 0; i < r->read->n_readings; i++)
				if (!strcmp(r->read->readings[i]->metric, "net.rx.bytes"))
					b = r->read->readings[i];
			tap_ok(b && b->rate > 9999 && b->rate < 10001, "rate over the last tick alone (got %f)",
			    b ? b->rate : -1);
			vsctl__reply__free_unpacked(r, NULL);
		} else
			tap_ok(0, "read with window 0 answered");
	}
	/* history */
	{
		Vsctl__HistoryReq hr = VSCTL__HISTORY_REQ__INIT;

		vsctl__request__init(&req);
		req.version = 1;
		req.body_case = VSCTL__REQUEST__BODY_HISTORY;
		req.history = &hr;
		hr.entity = (char *)"vif1.0";
		hr.metric = (char *)"net.rx.bytes";
		hr.from_ns = t0 + 50 * 100 * VS_NS_PER_MSEC + 1;   /* ticks 51..100 */
		r = call(req_sock, &req);
		tap_ok(r && r->status == 0 && r->history->n_points == 50 &&
		    r->history->points[0]->time_ns == t0 + 51 * 100 * VS_NS_PER_MSEC &&
		    r->history->points[49]->value == 1000, "history from a time returns 50 points");
		if (r)
			vsctl__reply__free_unpacked(r, NULL);
		hr.max_points = 10;
		hr.from_ns = 0;
		r = call(req_sock, &req);
		tap_ok(r && r->history->n_points == 10 && r->history->truncated,
		    "max_points caps the answer and says so");
		if (r)
			vsctl__reply__free_unpacked(r, NULL);
		hr.metric = (char *)"no.such.metric";
		r = call(req_sock, &req);
		tap_ok(r && r->status == -ENOENT && strstr(r->error, "no.such.metric"),
		    "unknown metric: error reply naming it");
		if (r)
			vsctl__reply__free_unpacked(r, NULL);
	}

	/* bad requests over the wire, each followed by a good one */
	{
		static const struct { const char *what; const char *bytes; size_t len; int status; } bad[] = {
			{ "garbage", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11, -EBADMSG },
			{ "truncated", "\x08\x01\x52", 3, -EBADMSG },
			{ "empty", "", 0, -EBADMSG },
			{ "no body", "\x08\x01", 2, -EOPNOTSUPP },
			{ "unknown type", "\x08\x01\x9a\x06\x00", 5, -EOPNOTSUPP },
			{ "version 7", "\x08\x07\x52\x00", 4, -EPROTO },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = roundtrip(req_sock, bad[i].bytes, bad[i].len, 1);
			tap_ok(r && r->status == bad[i].status && r->error && r->error[0],
			    "%s request: error reply %d (%s)", bad[i].what, r ? r->status : 0,
			    r && r->error ? r->error : "no reply");
			if (r)
				vsctl__reply__free_unpacked(r, NULL);
		}
		char *big = calloc(1, 100000);
		r = roundtrip(req_sock, big, 100000, 1);
		tap_ok(r && r->status == -EMSGSIZE, "100 kB request: error reply, not decoded (%s)",
		    r ? r->error : "no reply");
		if (r)
			vsctl__reply__free_unpacked(r, NULL);
		free(big);
		tap_ok(still_serving(req_sock), "still serving after the bad requests");
	}
	/* a DEALER (no delimiter), multi-part requests, and a frame over the transport limit */
	dealer = zmq_socket(zctx, ZMQ_DEALER);
	zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_connect(dealer, ep);
	tap_ok(still_serving(dealer), "a DEALER client is answered too");
	{
		char rbuf[4096];
		int n = -1;

		zmq_send(dealer, "a", 1, ZMQ_SNDMORE);
		zmq_send(dealer, "b", 1, ZMQ_SNDMORE);
		zmq_send(dealer, "c", 1, ZMQ_SNDMORE);
		zmq_send(dealer, "d", 1, 0);
		for (int i = 0; i < 200 && n < 0; i++) {
			zmq_pollitem_t it = { vs_control_socket(ctl), 0, ZMQ_POLLIN, 0 };
			zmq_poll(&it, 1, 10);
			vs_control_process(ctl);
			n = zmq_recv(dealer, rbuf, sizeof(rbuf), ZMQ_DONTWAIT);
		}
		r = n >= 0 ? vs_wire_reply_decode(rbuf, (size_t)n, err, sizeof(err)) : NULL;
		tap_ok(r && r->status == -EPROTO, "a 4-part request gets an error reply");
		if (r)
			vsctl__reply__free_unpacked(r, NULL);
	}
	{
		void *rogue = zmq_socket(zctx, ZMQ_DEALER);
		char *huge = calloc(1, 2 << 20);

		zmq_setsockopt(rogue, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_connect(rogue, ep);
		zmq_send(rogue, huge, 2 << 20, 0);
		for (int i = 0; i < 20; i++) {
			zmq_pollitem_t it = { vs_control_socket(ctl), 0, ZMQ_POLLIN, 0 };
			zmq_poll(&it, 1, 10);
			vs_control_process(ctl);
		}
		tap_ok(still_serving(req_sock), "a 2 MiB frame (over ZMQ_MAXMSGSIZE) drops only its peer");
		tap_ok(ctx.bad_requests >= 8, "bad requests counted (%llu)",
		    (unsigned long long)ctx.bad_requests);
		zmq_close(rogue);
		free(huge);
	}

	zmq_close(dealer);
	zmq_close(req_sock);
	vs_control_destroy(&ctl);
	vs_control_destroy(&ctl);
	{
		char path[200];
		snprintf(path, sizeof(path), "%s/sub/ctl.sock", dir);
		tap_ok(access(path, F_OK) != 0, "the ipc socket is removed on destroy");
	}
	zmq_ctx_term(zctx);
	vs_graph_dispose(&g, h);
	vs_history_destroy(&h);
	{
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			tap_diag("cleanup failed");
	}
	return tap_done();
}
