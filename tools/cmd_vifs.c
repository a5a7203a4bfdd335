/*
 * vscope vifs [DOMAIN...]: one row per VIF, counters and rates from Dom0's side of it
 * (rx is what the guest sent, tx what it was sent).
 */
#include "vscope.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "wire.h"

struct s_row {
	const Vsctl__Vif *vif;
	const Vsctl__Domain *dom;
	double rx_bytes, tx_bytes;              /* NAN: no data */
	double rx_bytes_rate, tx_bytes_rate;
	double rx_packets_rate, tx_packets_rate;
	double rx_drops, tx_drops;
};

static void
s_fill(struct s_row *row, const vs_rindex_t *ix, bool have_window)
{
	const char *n = vs_str(row->vif->name);

	row->rx_bytes = vs_rindex_value(ix, n, "net.rx.bytes");
	row->tx_bytes = vs_rindex_value(ix, n, "net.tx.bytes");
	row->rx_drops = vs_rindex_value(ix, n, "net.rx.drops");
	row->tx_drops = vs_rindex_value(ix, n, "net.tx.drops");
	row->rx_bytes_rate = (have_window ? vs_rindex_rate(ix, n, "net.rx.bytes") : NAN);
	row->tx_bytes_rate = (have_window ? vs_rindex_rate(ix, n, "net.tx.bytes") : NAN);
	row->rx_packets_rate = (have_window ? vs_rindex_rate(ix, n, "net.rx.packets") : NAN);
	row->tx_packets_rate = (have_window ? vs_rindex_rate(ix, n, "net.tx.packets") : NAN);
}

/* "%.*f" of v, or "-" when there is no data. */
static const char *
s_num(char *buf, size_t len, double v, int decimals)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", decimals, v);
	return buf;
}

static double
s_sum_present(double a, double b)
{
	if (isnan(a))
		return b;
	if (isnan(b))
		return a;
	return a + b;
}

static void
s_print_text(const struct s_row *rows, size_t n)
{
	int wv = 3, wd = 6;             /* "VIF", "Domain" */

	for (size_t i = 0; i < n; i++) {
		int lv = (int)strlen(vs_str(rows[i].vif->name));
		int ld = (int)strlen(vs_str(rows[i].dom->name));

		wv = lv > wv ? lv : wv;
		wd = ld > wd ? ld : wd;
	}
	printf("%-*s %-*s %5s %-17s %14s %14s %10s %10s %9s %9s %8s\n", wv, "VIF", wd, "Domain",
	    "ID", "MAC", "RX(bytes)", "TX(bytes)", "RX(kbit/s)", "TX(kbit/s)", "RXpkt/s",
	    "TXpkt/s", "Drops");
	for (size_t i = 0; i < n; i++) {
		const struct s_row *r = &rows[i];
		const char *mac = vs_str(r->vif->mac);
		char b[8][32];

		printf("%-*s %-*s %5u %-17s %14s %14s %10s %10s %9s %9s %8s\n",
		    wv, vs_str(r->vif->name), wd, vs_str(r->dom->name), r->dom->id,
		    *mac != '\0' ? mac : "-",
		    s_num(b[0], sizeof(b[0]), r->rx_bytes, 0),
		    s_num(b[1], sizeof(b[1]), r->tx_bytes, 0),
		    s_num(b[2], sizeof(b[2]), r->rx_bytes_rate * 8 / 1000, 1),
		    s_num(b[3], sizeof(b[3]), r->tx_bytes_rate * 8 / 1000, 1),
		    s_num(b[4], sizeof(b[4]), r->rx_packets_rate, 1),
		    s_num(b[5], sizeof(b[5]), r->tx_packets_rate, 1),
		    s_num(b[6], sizeof(b[6]), s_sum_present(r->rx_drops, r->tx_drops), 0));
	}
}

static int
s_print_json(const struct s_row *rows, size_t n, int64_t time_ns, double window_s)
{
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();

	json_object_object_add(root, "time_ns", json_object_new_int64(time_ns));
	json_object_object_add(root, "window_s", vs_json_double(window_s));
	for (size_t i = 0; i < n; i++) {
		const struct s_row *r = &rows[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(vs_str(r->vif->name)));
		json_object_object_add(o, "domain", json_object_new_string(vs_str(r->dom->name)));
		json_object_object_add(o, "domid", json_object_new_int64(r->dom->id));
		json_object_object_add(o, "mac", json_object_new_string(vs_str(r->vif->mac)));
		json_object_object_add(o, "rx_bytes", vs_json_int(r->rx_bytes));
		json_object_object_add(o, "tx_bytes", vs_json_int(r->tx_bytes));
		json_object_object_add(o, "rx_bytes_rate", vs_json_double(r->rx_bytes_rate));
		json_object_object_add(o, "tx_bytes_rate", vs_json_double(r->tx_bytes_rate));
		json_object_object_add(o, "rx_packets_rate", vs_json_double(r->rx_packets_rate));
		json_object_object_add(o, "tx_packets_rate", vs_json_double(r->tx_packets_rate));
		json_object_object_add(o, "rx_drops", vs_json_int(r->rx_drops));
		json_object_object_add(o, "tx_drops", vs_json_int(r->tx_drops));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "vifs", arr);
	return vs_json_emit(root, false);
}

int
vs_cmd_vifs(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "window", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	static char *net_metrics[] = { "net.*" };
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__InventoryReq ireq = VSCTL__INVENTORY_REQ__INIT;
	Vsctl__ReadReq rreq = VSCTL__READ_REQ__INIT;
	Vsctl__Reply *inv_rep = NULL, *read_rep = NULL;
	vs_client_t *client = NULL;
	vs_rindex_t ix = { NULL, 0 };
	const Vsctl__Domain **doms = NULL;
	const Vsctl__Inventory *inv;
	struct s_row *rows = NULL;
	char **names = NULL;
	bool *sel = NULL;
	size_t nrows = 0, cap = 0;
	double window_s = 1.0, real_window_s;
	int64_t time_ns;
	int opt, rc = VS_EXIT_ERR;

	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS "w:", longopts, NULL)) != -1) {
		int r;

		if (opt == 'w') {
			if (vs_secs_parse(optarg, 0, 86400, &window_s) < 0)
				return vs_usage_error("vifs", "bad --window '%s': seconds from 0 "
				    "to 86400", optarg);
			continue;
		}
		if ((r = vs_common_opt(g, "vifs", opt, optarg)) != 0)
			return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
	}

	if ((client = vs_connect(g)) == NULL)
		goto out;
	req.body_case = VSCTL__REQUEST__BODY_INVENTORY;
	req.inventory = &ireq;
	if ((inv_rep = vs_call(client, &req)) == NULL)
		goto out;
	inv = inv_rep->inventory;
	vs_host_warn(inv->host);
	sel = calloc(inv->n_domains + 1, sizeof(*sel));
	doms = vs_domains_sorted(inv);
	if (sel == NULL || (doms == NULL && inv->n_domains > 0))
		goto nomem;
	if (vs_domains_select(doms, inv->n_domains, "vifs", argc - optind, argv + optind,
	    sel) < 0)
		goto out;
	for (size_t i = 0; i < inv->n_domains; i++)
		if (sel[i])
			cap += doms[i]->n_vifs;
	rows = calloc(cap + 1, sizeof(*rows));
	names = calloc(cap + 1, sizeof(*names));
	if (rows == NULL || names == NULL)
		goto nomem;
	for (size_t i = 0; i < inv->n_domains; i++) {
		for (size_t j = 0; sel[i] && j < doms[i]->n_vifs; j++) {
			const char *name = vs_str(doms[i]->vifs[j]->name);

			rows[nrows].vif = doms[i]->vifs[j];
			rows[nrows].dom = doms[i];
			/* Names vscoped would refuse are left out of the request, not sent. */
			if (*name != '\0' && strlen(name) <= VS_CTL_MAX_NAME_LEN)
				names[rreq.n_entity++] = (char *)name;
			nrows++;
		}
	}

	time_ns = vs_now_ns();
	real_window_s = window_s;
	if (rreq.n_entity > 0) {
		/* Past the per-request cap, ask for every entity's net.* and pick ours. */
		if (rreq.n_entity > VS_CTL_MAX_NAMES)
			rreq.n_entity = 0;
		rreq.entity = names;
		rreq.n_metric = 1;
		rreq.metric = net_metrics;
		rreq.window_ns = vs_secs_to_ns(window_s);
		req.body_case = VSCTL__REQUEST__BODY_READ;
		req.read = &rreq;
		if ((read_rep = vs_call(client, &req)) == NULL)
			goto out;
		if (vs_rindex_init(&ix, read_rep->read) < 0)
			goto nomem;
		time_ns = read_rep->read->time_ns;
		real_window_s = read_rep->read->window_ns / 1e9;
	}
	for (size_t i = 0; i < nrows; i++)
		s_fill(&rows[i], &ix, real_window_s > 0);

	if (g->json) {
		double w = real_window_s > 0 ? real_window_s : NAN;

		if (s_print_json(rows, nrows, time_ns, w) < 0) {
			vs_error("writing output: %s", strerror(errno));
			goto out;
		}
	} else {
		s_print_text(rows, nrows);
	}
	rc = VS_EXIT_OK;
	goto out;
nomem:
	vs_error("%s", strerror(ENOMEM));
out:
	vs_rindex_dispose(&ix);
	free(rows);
	free(names);
	free(doms);
	free(sel);
	if (read_rep != NULL)
		vsctl__reply__free_unpacked(read_rep, NULL);
	if (inv_rep != NULL)
		vsctl__reply__free_unpacked(inv_rep, NULL);
	vs_client_destroy(&client);
	return rc;
}
