/*
 * agentrecv: a test receiver for vscope-agent. Binds a ZeroMQ ROUTER as a CURVE server with
 * the secret key from KEYFILE (lib/agentkeys format), answers Hello with a
 * HelloAck, and prints every decoded AgentMsg as one JSON line on stdout (flushed), prefixed
 * with the sender's CURVE public key as the intake would see it (ZMQ_MSG_PROPERTY
 * "User-Id" needs ZAP; without a ZAP handler we print the routing id length only).
 *   agentrecv KEYFILE ENDPOINT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "agent.pb-c.h"
#include "agentkeys.h"
#include "agentwire.h"

static volatile sig_atomic_t s_stop;
static void s_on_stop(int sig) { (void)sig; s_stop = 1; }

static void
s_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++)
		putchar((*s >= 32 && *s < 127 && *s != '"' && *s != '\\') ? *s : '?');
	putchar('"');
}

static void
s_print(const Vsagent__AgentMsg *m, size_t len)
{
	size_t i;

	printf("{\"version\":%u,\"seq\":%llu,\"bytes\":%zu,", m->version,
	    (unsigned long long)m->seq, len);
	switch (m->body_case) {
	case VSAGENT__AGENT_MSG__BODY_HELLO:
		printf("\"type\":\"hello\",\"agent_version\":");
		s_str(m->hello->agent_version);
		printf(",\"hostname\":");
		s_str(m->hello->hostname);
		printf(",\"report_interval_ms\":%u}\n", m->hello->report_interval_ms);
		break;
	case VSAGENT__AGENT_MSG__BODY_REPORT:
		printf("\"type\":\"report\",\"latency\":[");
		for (i = 0; i < m->report->n_latency; i++) {
			const Vsagent__Latency *l = m->report->latency[i];
			printf("%s{\"probe\":", i ? "," : "");
			s_str(l->probe);
			printf(",\"count\":%u,\"errors\":%u,\"min_us\":%.3f,\"mean_us\":%.3f,"
			    "\"p50_us\":%.3f,\"p99_us\":%.3f,\"max_us\":%.3f,\"span_ms\":%.1f}",
			    l->count, l->errors, l->min_us, l->mean_us, l->p50_us, l->p99_us,
			    l->max_us, (double)(l->end_ns - l->start_ns) / 1e6);
		}
		printf("],\"metric\":{");
		for (i = 0; i < m->report->n_metric; i++) {
			const Vsagent__Metric *x = m->report->metric[i];
			printf("%s", i ? "," : "");
			s_str(x->name);
			printf(":[%.17g,%d]", x->value, x->kind);
		}
		printf("}}\n");
		break;
	case VSAGENT__AGENT_MSG__BODY_CONNS:
		printf("\"type\":\"conns\",\"n\":%zu,\"truncated\":%s,\"conn\":[",
		    m->conns->n_conn, m->conns->truncated ? "true" : "false");
		for (i = 0; i < m->conns->n_conn && i < 64; i++) {
			const Vsagent__Conn *c = m->conns->conn[i];
			printf("%s{\"lport\":%u,\"rport\":%u,\"state\":%u,\"alen\":%zu}", i ? "," : "",
			    c->local_port, c->remote_port, c->state, c->local_addr.len);
		}
		printf("]}\n");
		break;
	default:
		printf("\"type\":\"unknown\"}\n");
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	char pub[64] = "", sec[64] = "";
	void *ctx, *s;
	int one = 1;
	uint8_t *buf;
	char err[256];

	if (argc == 3 && strcmp(argv[1], "-g") == 0) {
		if (zmq_curve_keypair(pub, sec) != 0 ||
		    vs_keyfile_write(argv[2], pub, sec, err, sizeof(err)) < 0)
			return 1;
		printf("%s\n", pub);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: agentrecv KEYFILE ENDPOINT | agentrecv -g KEYFILE\n");
		return 2;
	}
	if (vs_keyfile_read(argv[1], pub, sec, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentrecv: %s\n", err);
		return 1;
	}
	if ((buf = malloc(VS_AGENT_MAX_MSG + 1)) == NULL)
		return 1;
	signal(SIGTERM, s_on_stop);
	signal(SIGINT, s_on_stop);
	ctx = zmq_ctx_new();
	s = zmq_socket(ctx, ZMQ_ROUTER);
	if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40) < 0 || zmq_bind(s, argv[2]) < 0) {
		fprintf(stderr, "agentrecv: %s: %s\n", argv[2], zmq_strerror(errno));
		return 1;
	}
	fprintf(stderr, "agentrecv: listening on %s\n", argv[2]);
	while (!s_stop) {
		uint8_t id[256];
		int idn, n, more;
		size_t ml = sizeof(more);
		Vsagent__AgentMsg *m;

		idn = zmq_recv(s, id, sizeof(id), 0);
		if (idn < 0)
			continue;
		n = zmq_recv(s, buf, VS_AGENT_MAX_MSG + 1, 0);
		while (zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml) == 0 && more) {
			zmq_recv(s, buf, 0, 0);         /* extra frames: not the protocol */
			n = -2;
		}
		if (n < 0 || n > VS_AGENT_MAX_MSG) {
			printf("{\"type\":\"dropped\",\"bytes\":%d}\n", n);
			fflush(stdout);
			continue;
		}
		m = vsagent__agent_msg__unpack(NULL, (size_t)n, buf);
		if (m == NULL) {
			printf("{\"type\":\"malformed\",\"bytes\":%d}\n", n);
			fflush(stdout);
			continue;
		}
		s_print(m, (size_t)n);
		if (m->body_case == VSAGENT__AGENT_MSG__BODY_HELLO) {
			Vsagent__HelloAck a = VSAGENT__HELLO_ACK__INIT;
			uint8_t out[256];
			size_t l;

			a.version = VS_AGENT_VERSION;
			a.domain = (char *)"test";
			a.max_msgs_per_s = 100;
			a.max_bytes_per_s = 1 << 20;
			l = vsagent__hello_ack__pack(&a, out);
			zmq_send(s, id, (size_t)idn, ZMQ_SNDMORE);
			zmq_send(s, out, l, ZMQ_DONTWAIT);
		}
		vsagent__agent_msg__free_unpacked(m, NULL);
	}
	zmq_close(s);
	zmq_ctx_term(ctx);
	free(buf);
	return 0;
}
