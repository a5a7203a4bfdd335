#include "sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>

/* the kernel's NLMSG_OK compares the int length with a u32 (clang warns in the macro) */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

/* A plain netlink socket: libnl's netlink.h pulls in <netinet/tcp.h>, whose struct
 * tcp_info clashes with (and is older than) the kernel's, which has the byte counters. */
struct vs_sockdiag {
	int fd;
	uint32_t seq;
	uint8_t *buf;
	vs_tcpconn_t *conns;
	size_t n, total, established;
};

#define RECV_BUF (64 * 1024)

static void
s_one(vs_sockdiag_t *self, const struct nlmsghdr *nlh)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	const struct rtattr *a;
	vs_tcpconn_t *c;
	int rem;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return;
	self->total++;
	if (m->idiag_state == 1 /* TCP_ESTABLISHED, not in the uapi headers */)
		self->established++;
	if (self->n == VS_SOCKDIAG_MAX)
		return;
	c = &self->conns[self->n++];
	memset(c, 0, sizeof(*c));
	c->family = m->idiag_family;
	c->state = m->idiag_state;
	c->sport = ntohs(m->id.idiag_sport);
	c->dport = ntohs(m->id.idiag_dport);
	memcpy(c->src, m->id.idiag_src, 16);
	memcpy(c->dst, m->id.idiag_dst, 16);
	c->uid = m->idiag_uid;
	c->inode = m->idiag_inode;
	rem = (int)nlh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
	for (a = (const struct rtattr *)(m + 1); RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
		if (a->rta_type == INET_DIAG_INFO) {
			struct tcp_info ti;
			size_t len = RTA_PAYLOAD(a);

			memset(&ti, 0, sizeof(ti));
			memcpy(&ti, RTA_DATA(a), len < sizeof(ti) ? len : sizeof(ti));
			c->rtt_us = ti.tcpi_rtt;
			c->bytes_acked = ti.tcpi_bytes_acked;
			c->bytes_received = ti.tcpi_bytes_received;
		}
	}
}

vs_sockdiag_t *
vs_sockdiag_new(void)
{
	vs_sockdiag_t *self = calloc(1, sizeof(*self));
	int e;

	if (self == NULL)
		return NULL;
	self->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	self->conns = calloc(VS_SOCKDIAG_MAX, sizeof(*self->conns));
	self->buf = malloc(RECV_BUF);
	if (self->fd < 0 || self->conns == NULL || self->buf == NULL) {
		e = self->fd < 0 ? errno : ENOMEM;
		if (self->fd >= 0)
			close(self->fd);
		free(self->conns);
		free(self->buf);
		free(self);
		errno = e;
		return NULL;
	}
	return self;
}

void
vs_sockdiag_destroy(vs_sockdiag_t **self_p)
{
	vs_sockdiag_t *self = *self_p;

	if (self == NULL)
		return;
	close(self->fd);
	free(self->conns);
	free(self->buf);
	free(self);
	*self_p = NULL;
}

static int
s_dump(vs_sockdiag_t *self, int family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint32_t seq = ++self->seq;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = seq;
	msg.req.sdiag_family = (uint8_t)family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0U;
	msg.req.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	if (sendto(self->fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(self->fd, self->buf, RECV_BUF, 0);
		const struct nlmsghdr *h;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)n;
		for (h = (const struct nlmsghdr *)self->buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;       /* a reply to an earlier, abandoned dump */
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error ? e->error : -EIO;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				s_one(self, h);
		}
	}
}

int
vs_sockdiag_refresh(vs_sockdiag_t *self)
{
	int rc;

	self->n = self->total = self->established = 0;
	if ((rc = s_dump(self, AF_INET)) < 0)
		return rc;
	/* a kernel without IPv6 answers with an error: keep the IPv4 snapshot */
	(void)s_dump(self, AF_INET6);
	return 0;
}

const vs_tcpconn_t *
vs_sockdiag_conns(const vs_sockdiag_t *self, size_t *n_r, size_t *total_r)
{
	*n_r = self->n;
	if (total_r)
		*total_r = self->total;
	return self->conns;
}

size_t
vs_sockdiag_established(const vs_sockdiag_t *self)
{
	return self->established;
}

const char *
vs_tcp_state_name(uint8_t state)
{
	static const char *const names[] = {
		"UNKNOWN", "ESTABLISHED", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
		"TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
		"NEW-SYN-RECV",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

void
vs_tcpconn_addr(const vs_tcpconn_t *c, int remote, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	const uint8_t *addr = remote ? c->dst : c->src;
	uint16_t port = remote ? c->dport : c->sport;

	inet_ntop(c->family, addr, a, sizeof(a));
	if (c->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}
