/*
 * vscope list [DOMAIN...]: xl list's table, plus each domain's VIFs.
 */
#include "vscope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SIMULATED_NOTE "# simulated Dom0 (testbed): network namespaces stand in for VMs"

static json_object *
s_json_vif(const Vsctl__Vif *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(vs_str(v->name)));
	json_object_object_add(o, "devid", json_object_new_int64(v->devid));
	json_object_object_add(o, "mac", json_object_new_string(vs_str(v->mac)));
	json_object_object_add(o, "present", json_object_new_boolean(v->present));
	return o;
}

static json_object *
s_json_domain(const Vsctl__Domain *d)
{
	json_object *o = json_object_new_object();
	json_object *vifs = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_int64(d->id));
	json_object_object_add(o, "name", json_object_new_string(vs_str(d->name)));
	json_object_object_add(o, "uuid", json_object_new_string(vs_str(d->uuid)));
	json_object_object_add(o, "state",
	    json_object_new_string(*vs_str(d->state) != '\0' ? d->state : "-"));
	json_object_object_add(o, "mem_kib", json_object_new_int64((int64_t)d->mem_kib));
	json_object_object_add(o, "maxmem_kib", json_object_new_int64((int64_t)d->maxmem_kib));
	json_object_object_add(o, "vcpus", json_object_new_int64(d->vcpus));
	json_object_object_add(o, "cpu_time_s", json_object_new_double(d->cpu_time_s));
	for (size_t i = 0; i < d->n_vifs; i++)
		json_object_array_add(vifs, s_json_vif(d->vifs[i]));
	json_object_object_add(o, "vifs", vifs);
	return o;
}

static int
s_print_json(const Vsctl__Inventory *inv, const Vsctl__Domain **doms, const bool *sel)
{
	json_object *root = json_object_new_object();
	json_object *host = json_object_new_object();
	json_object *arr = json_object_new_array();
	const Vsctl__Host *h = inv->host;

	if (h != NULL) {
		json_object_object_add(host, "name", json_object_new_string(vs_str(h->name)));
		json_object_object_add(host, "hypervisor",
		    json_object_new_string(vs_str(h->hypervisor)));
		json_object_object_add(host, "uri", json_object_new_string(vs_str(h->uri)));
		json_object_object_add(host, "simulated", json_object_new_boolean(h->simulated));
		json_object_object_add(host, "interval_ms",
		    json_object_new_int64((h->interval_ns + 500000) / 1000000));
		/* null while the backend is connected, else why it is not */
		json_object_object_add(host, "hv_error", h->hv_error && h->hv_error[0] ?
		    json_object_new_string(h->hv_error) : NULL);
		json_object_object_add(host, "series", json_object_new_int64((int64_t)h->series));
		json_object_object_add(host, "dropped_series",
		    json_object_new_int64((int64_t)h->dropped_series));
		json_object_object_add(host, "ticks", json_object_new_int64((int64_t)h->ticks));
		json_object_object_add(host, "overruns", json_object_new_int64((int64_t)h->overruns));
	}
	json_object_object_add(root, "host", host);
	for (size_t i = 0; i < inv->n_domains; i++)
		if (sel[i])
			json_object_array_add(arr, s_json_domain(doms[i]));
	json_object_object_add(root, "domains", arr);
	return vs_json_emit(root, false);
}

static void
s_print_vifs(const Vsctl__Domain *d)
{
	if (d->n_vifs == 0) {
		fputs("-", stdout);
		return;
	}
	for (size_t i = 0; i < d->n_vifs; i++)
		printf("%s%s%s", i > 0 ? "," : "", vs_str(d->vifs[i]->name),
		    d->vifs[i]->present ? "" : "(absent)");
}

static void
s_print_text(const Vsctl__Inventory *inv, const Vsctl__Domain **doms, const bool *sel)
{
	if (inv->host != NULL && inv->host->simulated)
		puts(S_SIMULATED_NOTE);
	/* xl list's columns (tools/xl/xl_info.c), then ours. */
	printf("%-40s %5s %5s %5s     %s   %s   %s\n", "Name", "ID", "Mem", "VCPUs", "State",
	    "Time(s)", "VIFs");
	for (size_t i = 0; i < inv->n_domains; i++) {
		const Vsctl__Domain *d = doms[i];
		char state[7];

		if (!sel[i])
			continue;
		vs_state_field(d->state, state);
		printf("%-40s %5u %5llu %5u     %s  %8.1f  ", vs_str(d->name), d->id,
		    (unsigned long long)(d->mem_kib / 1024), d->vcpus, state, d->cpu_time_s);
		s_print_vifs(d);
		putchar('\n');
	}
}

int
vs_cmd_list(vs_globals_t *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__ListReq lreq = VSCTL__LIST_REQ__INIT;
	Vsctl__Reply *rep = NULL;
	vs_client_t *client = NULL;
	const Vsctl__Domain **doms = NULL;
	bool *sel = NULL;
	const Vsctl__Inventory *inv;
	int opt, rc = VS_EXIT_ERR;

	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r = vs_common_opt(g, "list", opt, optarg);

		if (r != 0)
			return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
	}

	if ((client = vs_connect(g)) == NULL)
		goto out;
	req.body_case = VSCTL__REQUEST__BODY_LIST;
	req.list = &lreq;
	if ((rep = vs_call(client, &req)) == NULL)
		goto out;
	inv = rep->list;
	vs_host_warn(inv->host);
	sel = calloc(inv->n_domains + 1, sizeof(*sel));
	doms = vs_domains_sorted(inv);
	if (sel == NULL || (doms == NULL && inv->n_domains > 0)) {
		vs_error("%s", strerror(ENOMEM));
		goto out;
	}
	if (vs_domains_select(doms, inv->n_domains, "list", argc - optind, argv + optind,
	    sel) < 0)
		goto out;

	if (g->json) {
		if (s_print_json(inv, doms, sel) < 0) {
			vs_error("writing output: %s", strerror(errno));
			goto out;
		}
	} else {
		s_print_text(inv, doms, sel);
	}
	rc = VS_EXIT_OK;
out:
	free(doms);
	free(sel);
	if (rep != NULL)
		vsctl__reply__free_unpacked(rep, NULL);
	vs_client_destroy(&client);
	return rc;
}
