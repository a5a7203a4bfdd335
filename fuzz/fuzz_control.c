/*
 * libFuzzer target: the control endpoint's request path, from bytes off the socket to an
 * encoded reply (size check, protobuf decode, validation, dispatch), against a small but
 * real history and inventory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "graph.h"
#include "history.h"
#include "wire.h"

static vs_control_ctx_t ctx;
static vs_graph_t graph;
static uint64_t abs_counts[256];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	vs_history_config_t hc = { .max_series = 256, .max_ticks = 64, .arena_bytes = 1 << 16 };
	vs_history_t *h = vs_history_new(&hc);
	vs_dom_t doms[2];
	int64_t t = vs_now_ns();

	(void)argc;
	(void)argv;
	memset(doms, 0, sizeof(doms));
	for (int i = 0; i < 2; i++) {
		doms[i].id = (uint32_t)i + 1;
		snprintf(doms[i].name, sizeof(doms[i].name), "vm%d", i + 1);
		snprintf(doms[i].uuid, sizeof(doms[i].uuid), "00000000-0000-0000-0000-00000000000%d", i + 1);
		doms[i].state = VS_DOM_RUNNING;
		doms[i].n_vifs = 1;
		snprintf(doms[i].vifs[0].ifname, sizeof(doms[i].vifs[0].ifname), "vif%d.0", i + 1);
	}
	vs_graph_init(&graph);
	vs_graph_update(&graph, h, doms, 2);
	for (int k = 0; k < 40; k++) {
		vs_history_tick(h, t + k * 100000000LL);
		for (int id = 0; id < 20; id++)
			vs_history_append(h, id, k * id);
	}
	ctx.history = h;
	ctx.graph = &graph;
	ctx.counter_abs = abs_counts;
	ctx.interval_ns = 100000000LL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *reply = NULL;
	size_t len = 0;

	if (vs_control_handle(&ctx, data, size, &reply, &len) == 0) {
		/* every reply must itself decode */
		char err[64];
		Vsctl__Reply *r = vs_wire_reply_decode(reply, len, err, sizeof(err));

		if (r == NULL)
			abort();
		vsctl__reply__free_unpacked(r, NULL);
	}
	free(reply);
	return 0;
}
