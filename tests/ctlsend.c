/*
 * ctlsend: send one raw frame to vscoped's control endpoint over a ZeroMQ DEALER and print
 * the decoded Reply. For the integration tests (tests/badinput.test), which feed vscoped
 * truncated, oversized, unknown and garbage requests and hand-encoded good ones.
 *
 *	ctlsend [-t MS] [-p PARTS] [-v] ENDPOINT [FILE]
 *
 * The frame is FILE's bytes (stdin when FILE is absent or "-"), sent as is: no encoding,
 * no size check. -p PARTS sends the same bytes as PARTS frames of one message (a request
 * must be one frame). Prints one line "status=N error=TEXT body=KIND" and, with -v, a line
 * per domain, reading or point of the body. Exit status: 0 a reply came and decoded (its
 * status may be an error), 1 no reply within the timeout (default 3000 ms) or a reply that
 * does not decode, 2 bad usage or a local error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "wire.h"

#define S_MAX_INPUT (64 * 1024 * 1024)

static void
s_usage(FILE *f)
{
	fprintf(f, "usage: ctlsend [-t MS] [-p PARTS] [-v] ENDPOINT [FILE|-]\n");
}

static unsigned char *
s_read_all(FILE *f, size_t *len_r)
{
	size_t cap = 4096, len = 0;
	unsigned char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	for (;;) {
		size_t n;

		if (len == cap) {
			unsigned char *nb;

			if (cap >= S_MAX_INPUT) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				free(buf);
				errno = EIO;
				return NULL;
			}
			break;
		}
	}
	*len_r = len;
	return buf;
}

static const char *
s_body_name(Vsctl__Reply__BodyCase c)
{
	switch (c) {
	case VSCTL__REPLY__BODY_INVENTORY: return "inventory";
	case VSCTL__REPLY__BODY_LIST:      return "list";
	case VSCTL__REPLY__BODY_READ:      return "read";
	case VSCTL__REPLY__BODY_HISTORY:   return "history";
	case VSCTL__REPLY__BODY_CONNS:     return "conns";
	default:                           return "none";
	}
}

static const char *
s_str(const char *s)
{
	return s != NULL ? s : "";
}

static void
s_print_inventory(const Vsctl__Inventory *inv)
{
	if (inv->host != NULL)
		printf("host name=%s hypervisor=%s simulated=%d hv_error=%s\n",
		    s_str(inv->host->name), s_str(inv->host->hypervisor), inv->host->simulated,
		    s_str(inv->host->hv_error));
	for (size_t i = 0; i < inv->n_domains; i++) {
		const Vsctl__Domain *d = inv->domains[i];

		printf("domain %u %s", d->id, s_str(d->name));
		for (size_t v = 0; v < d->n_vifs; v++)
			printf(" %s%s", s_str(d->vifs[v]->name), d->vifs[v]->present ? "" : "(absent)");
		putchar('\n');
	}
}

static void
s_print_verbose(const Vsctl__Reply *rep)
{
	switch (rep->body_case) {
	case VSCTL__REPLY__BODY_INVENTORY:
		s_print_inventory(rep->inventory);
		break;
	case VSCTL__REPLY__BODY_LIST:
		s_print_inventory(rep->list);
		break;
	case VSCTL__REPLY__BODY_READ:
		printf("window_ns=%lld\n", (long long)rep->read->window_ns);
		for (size_t i = 0; i < rep->read->n_readings; i++) {
			const Vsctl__Reading *r = rep->read->readings[i];

			printf("reading %s %s %.17g %s%.17g\n", s_str(r->entity), s_str(r->metric),
			    r->value, r->has_rate ? "" : "norate:", r->rate);
		}
		break;
	case VSCTL__REPLY__BODY_HISTORY:
		printf("history %s %s points=%zu truncated=%d\n", s_str(rep->history->entity),
		    s_str(rep->history->metric), rep->history->n_points, rep->history->truncated);
		break;
	case VSCTL__REPLY__BODY_CONNS:
		printf("conns %zu\n", rep->conns->n_conns);
		break;
	default:
		break;
	}
}

int
main(int argc, char **argv)
{
	const char *endpoint, *path = "-";
	unsigned char *buf;
	size_t len = 0;
	long timeout_ms = 3000, parts = 1;
	int verbose = 0, opt, rc = 2, linger = 0;
	void *ctx = NULL, *sock = NULL;
	zmq_pollitem_t item;
	zmq_msg_t msg;
	Vsctl__Reply *rep;
	char err[256];
	FILE *f;

	while ((opt = getopt(argc, argv, "t:p:vh")) != -1) {
		char *end;

		switch (opt) {
		case 't':
			timeout_ms = strtol(optarg, &end, 10);
			if (*end != '\0' || timeout_ms < 1 || timeout_ms > 600000) {
				fprintf(stderr, "ctlsend: bad -t '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			parts = strtol(optarg, &end, 10);
			if (*end != '\0' || parts < 1 || parts > 16) {
				fprintf(stderr, "ctlsend: bad -p '%s': 1..16\n", optarg);
				return 2;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			s_usage(stdout);
			return 0;
		default:
			s_usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		s_usage(stderr);
		return 2;
	}
	endpoint = argv[optind];
	if (argc - optind == 2)
		path = argv[optind + 1];
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "ctlsend: %s: %s\n", path, strerror(errno));
		return 2;
	}
	buf = s_read_all(f, &len);
	if (f != stdin)
		fclose(f);
	if (buf == NULL) {
		fprintf(stderr, "ctlsend: reading %s: %s\n", path, strerror(errno));
		return 2;
	}

	ctx = zmq_ctx_new();
	sock = ctx != NULL ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
	if (sock == NULL || zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_connect(sock, endpoint) < 0) {
		fprintf(stderr, "ctlsend: %s: %s\n", endpoint, zmq_strerror(errno));
		goto out;
	}
	for (long i = 0; i < parts; i++) {
		if (zmq_send(sock, buf, len, i + 1 < parts ? ZMQ_SNDMORE : 0) < 0) {
			fprintf(stderr, "ctlsend: send: %s\n", zmq_strerror(errno));
			goto out;
		}
	}
	item = (zmq_pollitem_t){ sock, 0, ZMQ_POLLIN, 0 };
	rc = zmq_poll(&item, 1, timeout_ms);
	if (rc <= 0) {
		printf("no reply within %ld ms\n", timeout_ms);
		rc = 1;
		goto out;
	}
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, sock, 0) < 0) {
		fprintf(stderr, "ctlsend: recv: %s\n", zmq_strerror(errno));
		zmq_msg_close(&msg);
		rc = 1;
		goto out;
	}
	if (zmq_msg_more(&msg)) {
		printf("reply has more than one frame\n");
		zmq_msg_close(&msg);
		rc = 1;
		goto out;
	}
	rep = vs_wire_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), err, sizeof(err));
	zmq_msg_close(&msg);
	if (rep == NULL) {
		printf("reply does not decode: %s\n", err);
		rc = 1;
		goto out;
	}
	printf("status=%d error=%s body=%s\n", rep->status, s_str(rep->error),
	    s_body_name(rep->body_case));
	if (verbose)
		s_print_verbose(rep);
	vsctl__reply__free_unpacked(rep, NULL);
	rc = 0;
out:
	if (sock != NULL)
		zmq_close(sock);
	if (ctx != NULL)
		zmq_ctx_term(ctx);
	free(buf);
	return rc;
}
