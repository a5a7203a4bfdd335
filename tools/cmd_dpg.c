/*
 * vscope dpg VERB [ARG...]: Distributed Processing Graphs through vmasterd (Table 4):
 * create, assign, start, stop, add, insert, delete, destroy, list, results, hosts,
 * functions. vmasterd checks every argument and answers with lines of text or an error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "dpgwire.h"
#include "vscope.h"

static const char *const s_verbs[] = {
	"create", "assign", "start", "stop", "add", "insert", "delete", "destroy", "list",
	"results", "hosts", "functions", "plugin",
};

static int
s_call(const char *ep, int timeout_ms, Vsdpg__Command *c, Vsdpg__Msg **rep_r, char *err,
    size_t errlen)
{
	void *ctx = zmq_ctx_new(), *s = NULL;
	Vsdpg__Msg m = VSDPG__MSG__INIT;
	int linger = 0, rc = -EIO;
	size_t len;
	void *buf = NULL;
	zmq_msg_t r;
	zmq_pollitem_t it;

	*rep_r = NULL;
	m.body_case = VSDPG__MSG__BODY_COMMAND;
	m.command = c;
	if (!ctx || !(s = zmq_socket(ctx, ZMQ_DEALER))) {
		snprintf(err, errlen, "zmq: %s", zmq_strerror(errno));
		goto out;
	}
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(s, ep) < 0) {
		snprintf(err, errlen, "vmasterd endpoint %s: %s", ep, zmq_strerror(errno));
		goto out;
	}
	buf = vs_dpgwire_pack(&m, &len);
	if (!buf || zmq_send(s, buf, len, 0) < 0) {
		snprintf(err, errlen, "send: %s", zmq_strerror(errno));
		goto out;
	}
	it = (zmq_pollitem_t){ s, 0, ZMQ_POLLIN, 0 };
	if (zmq_poll(&it, 1, timeout_ms) <= 0) {
		snprintf(err, errlen, "vmasterd at %s does not answer (%d ms)", ep, timeout_ms);
		rc = -ETIMEDOUT;
		goto out;
	}
	zmq_msg_init(&r);
	if (zmq_msg_recv(&r, s, 0) >= 0)
		*rep_r = vs_dpgwire_decode(zmq_msg_data(&r), zmq_msg_size(&r), err, errlen);
	zmq_msg_close(&r);
	if (*rep_r && (*rep_r)->body_case != VSDPG__MSG__BODY_ANSWER) {
		vsdpg__msg__free_unpacked(*rep_r, NULL);
		*rep_r = NULL;
		snprintf(err, errlen, "vmasterd sent something else than an answer");
	}
	rc = *rep_r ? 0 : -EBADMSG;
out:
	free(buf);
	if (s)
		zmq_close(s);
	if (ctx)
		zmq_ctx_term(ctx);
	return rc;
}

int
vs_cmd_dpg(vs_globals_t *g, int argc, char **argv)
{
	const char *ep = getenv("VSCOPE_MASTER");
	Vsdpg__Command c = VSDPG__COMMAND__INIT;
	Vsdpg__Msg *rep = NULL;
	char err[512];
	int i = 1, known = 0, rc;

	if (!ep || !*ep)
		ep = VS_DPG_DEFAULT_ENDPOINT;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if ((!strcmp(argv[i], "-m") || !strcmp(argv[i], "--master")) && i + 1 < argc) {
			ep = argv[++i];
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			int r = vs_common_opt(g, "dpg", VS_OPT_TIMEOUT, argv[++i]);

			if (r != 0)
				return VS_EXIT_USAGE;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			vs_cmd_help("dpg");
			return VS_EXIT_OK;
		} else {
			return vs_usage_error("dpg", "unknown option %s", argv[i]);
		}
	}
	if (i >= argc)
		return vs_usage_error("dpg", "a command is needed");
	for (size_t k = 0; k < sizeof(s_verbs) / sizeof(s_verbs[0]); k++)
		known |= !strcmp(argv[i], s_verbs[k]);
	if (!known)
		return vs_usage_error("dpg", "unknown command %s", argv[i]);
	if (argc - i - 1 > VS_DPG_MAX_ARGS)
		return vs_usage_error("dpg", "at most %d arguments", VS_DPG_MAX_ARGS);
	for (int k = i + 1; k < argc; k++)
		if (strlen(argv[k]) > VS_DPG_MAX_ARG)
			return vs_usage_error("dpg", "argument %d is too long", k - i);
	c.verb = argv[i];
	c.args = &argv[i + 1];
	c.n_args = (size_t)(argc - i - 1);
	rc = s_call(ep, g->timeout_ms, &c, &rep, err, sizeof(err));
	if (rc < 0) {
		vs_error("dpg %s: %s", argv[i], err);
		return VS_EXIT_ERR;
	}
	fputs(rep->answer->text, stdout);
	if (rep->answer->status != 0) {
		vs_error("dpg %s: %s", argv[i], rep->answer->error);
		rc = VS_EXIT_ERR;
	} else {
		rc = VS_EXIT_OK;
	}
	vsdpg__msg__free_unpacked(rep, NULL);
	return rc;
}
