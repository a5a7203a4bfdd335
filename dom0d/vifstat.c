#include "vifstat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

const char *const vs_ifc_metric[VS_IFC_N] = {
	"net.rx.bytes", "net.tx.bytes", "net.rx.packets", "net.tx.packets",
	"net.rx.errors", "net.tx.errors", "net.rx.drops", "net.tx.drops",
};
const char *const vs_ifc_unit[VS_IFC_N] = {
	"bytes", "bytes", "packets", "packets", "packets", "packets", "packets", "packets",
};

struct vs_vifstat {
	struct nl_sock *sk;
	vs_vifstat_fn fn;
	void *arg;
	uint32_t seq;
};

/* One RTM_NEWSTATS message: the interface's 64-bit link stats. */
static void
s_stats(vs_vifstat_t *self, const struct nlmsghdr *nlh)
{
	const struct if_stats_msg *ifsm;
	const struct nlattr *a;
	int rem;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifsm)))
		return;
	ifsm = nlmsg_data(nlh);
	nla_for_each_attr(a, (struct nlattr *)((const char *)ifsm + NLMSG_ALIGN(sizeof(*ifsm))),
	    (int)(nlh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*ifsm)))), rem) {
		struct rtnl_link_stats64 st;
		uint64_t c[VS_IFC_N];

		if (nla_type(a) != IFLA_STATS_LINK_64)
			continue;
		/* an older kernel's shorter struct is zero-extended; a longer one truncated */
		memset(&st, 0, sizeof(st));
		memcpy(&st, nla_data(a),
		    (size_t)nla_len(a) < sizeof(st) ? (size_t)nla_len(a) : sizeof(st));
		c[VS_IFC_RX_BYTES] = st.rx_bytes;
		c[VS_IFC_TX_BYTES] = st.tx_bytes;
		c[VS_IFC_RX_PACKETS] = st.rx_packets;
		c[VS_IFC_TX_PACKETS] = st.tx_packets;
		c[VS_IFC_RX_ERRORS] = st.rx_errors;
		c[VS_IFC_TX_ERRORS] = st.tx_errors;
		c[VS_IFC_RX_DROPS] = st.rx_dropped;
		c[VS_IFC_TX_DROPS] = st.tx_dropped;
		self->fn(self->arg, (int)ifsm->ifindex, c);
	}
}

vs_vifstat_t *
vs_vifstat_new(void)
{
	vs_vifstat_t *self = calloc(1, sizeof(*self));
	int err;

	if (self == NULL)
		return NULL;
	self->sk = nl_socket_alloc();
	if (self->sk == NULL) {
		free(self);
		errno = ENOMEM;
		return NULL;
	}
	if ((err = nl_connect(self->sk, NETLINK_ROUTE)) < 0) {
		nl_socket_free(self->sk);
		free(self);
		errno = err == -NLE_PERM ? EPERM : EIO;
		return NULL;
	}
	/* The kernel fills dump batches of up to 32 KiB; a 64 KiB buffer takes any batch in
	 * one recvmsg, so peeking (libnl's default, a second syscall per batch) is not needed.
	 * Messages are walked in place rather than through nl_recvmsgs, which allocates a
	 * message object per interface: this runs every tick for hundreds of VIFs. */
	nl_socket_disable_msg_peek(self->sk);
	nl_socket_set_msg_buf_size(self->sk, 65536);
	nl_socket_set_buffer_size(self->sk, 1 << 20, 0);
	return self;
}

void
vs_vifstat_destroy(vs_vifstat_t **self_p)
{
	vs_vifstat_t *self = *self_p;

	if (self == NULL)
		return;
	nl_socket_free(self->sk);
	free(self);
	*self_p = NULL;
}

int
vs_vifstat_dump(vs_vifstat_t *self, vs_vifstat_fn fn, void *arg)
{
	struct if_stats_msg ifsm;
	struct sockaddr_nl peer;
	struct nl_msg *msg;
	unsigned char *buf = NULL;
	uint32_t seq;
	int n, rc = 0;

	memset(&ifsm, 0, sizeof(ifsm));
	ifsm.family = AF_UNSPEC;
	ifsm.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	self->fn = fn;
	self->arg = arg;
	msg = nlmsg_alloc_simple(RTM_GETSTATS, NLM_F_DUMP);
	if (msg == NULL)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifsm, sizeof(ifsm), NLMSG_ALIGNTO) < 0 ||
	    nl_send_auto(self->sk, msg) < 0) {
		nlmsg_free(msg);
		return -EIO;
	}
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	for (;;) {
		struct nlmsghdr *h;

		n = nl_recv(self->sk, &peer, &buf, NULL);
		if (n <= 0)
			return n == -NLE_NOMEM ? -ENOMEM : -EIO;
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
			if (h->nlmsg_seq != seq)
				continue;       /* the tail of an earlier dump that was abandoned */
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				rc = -EIO;
				goto out;
			}
			if (h->nlmsg_type == RTM_NEWSTATS)
				s_stats(self, h);
		}
		free(buf);
		buf = NULL;
	}
out:
	free(buf);
	return rc;
}
