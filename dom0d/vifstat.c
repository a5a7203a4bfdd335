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
	int error;
};

static int
s_valid(struct nl_msg *msg, void *arg)
{
	vs_vifstat_t *self = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	const struct if_stats_msg *ifsm;
	struct nlattr *a;
	int rem;

	if (nlh->nlmsg_type != RTM_NEWSTATS ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct if_stats_msg)))
		return NL_SKIP;
	ifsm = nlmsg_data(nlh);
	nlmsg_for_each_attr(a, nlh, sizeof(*ifsm), rem) {
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
	return NL_OK;
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
	/* big enough for a batch of ~100 interfaces per recv: fewer syscalls per dump */
	nl_socket_set_msg_buf_size(self->sk, 32768);
	nl_socket_set_buffer_size(self->sk, 1 << 20, 0);
	nl_socket_modify_cb(self->sk, NL_CB_VALID, NL_CB_CUSTOM, s_valid, self);
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
	int err;

	memset(&ifsm, 0, sizeof(ifsm));
	ifsm.family = AF_UNSPEC;
	ifsm.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	self->fn = fn;
	self->arg = arg;
	err = nl_send_simple(self->sk, RTM_GETSTATS, NLM_F_DUMP, &ifsm, sizeof(ifsm));
	if (err < 0)
		return -EIO;
	err = nl_recvmsgs_default(self->sk);
	if (err < 0)
		return err == -NLE_NOMEM ? -ENOMEM : -EIO;
	return 0;
}
