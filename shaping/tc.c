/*
 * Shaping through libnl-route: IFB devices, the ingress qdisc with a u32 match-all filter
 * and a mirred redirect, htb trees with pfifo leaves. Nothing here runs tc or ip.
 */
#include "shape.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <linux/sockios.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>

#define INGRESS_HANDLE TC_HANDLE(0xffffu, 0)
#define LEAF_LIMIT 1000

struct vs_shape {
	struct nl_sock *sk;
};

static int
s_errno(int nlrc)
{
	switch (nlrc < 0 ? -nlrc : nlrc) {
	case 0: return 0;
	case NLE_EXIST: return -EEXIST;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_INVAL: return -EINVAL;
	case NLE_BUSY: return -EBUSY;
	case NLE_RANGE: return -ERANGE;
	default: return -EIO;
	}
}

vs_shape_t *
vs_shape_new(char *err, size_t errlen)
{
	vs_shape_t *self = calloc(1, sizeof(*self));
	int rc;

	if (self == NULL || (self->sk = nl_socket_alloc()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(self);
		errno = ENOMEM;
		return NULL;
	}
	if ((rc = nl_connect(self->sk, NETLINK_ROUTE)) < 0) {
		snprintf(err, errlen, "netlink: %s", nl_geterror(rc));
		nl_socket_free(self->sk);
		free(self);
		errno = -s_errno(rc);
		return NULL;
	}
	return self;
}

void
vs_shape_destroy(vs_shape_t **self_p)
{
	vs_shape_t *self = *self_p;

	if (self == NULL)
		return;
	nl_socket_free(self->sk);
	free(self);
	*self_p = NULL;
}

uint64_t
vs_shape_link_speed(const char *ifname)
{
	struct ethtool_cmd cmd = { .cmd = ETHTOOL_GSET };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t mbit;

	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		close(fd);
		return 0;
	}
	close(fd);
	mbit = ethtool_cmd_speed(&cmd);
	if (mbit == 0 || mbit == (uint32_t)SPEED_UNKNOWN || mbit == 0xffff)
		return 0;
	return (uint64_t)mbit * 1000000ULL;
}

static int
s_ifindex(vs_shape_t *self, const char *name, int *is_ifb)
{
	struct rtnl_link *link = NULL;
	int rc = rtnl_link_get_kernel(self->sk, 0, name, &link);

	if (rc < 0)
		return rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV ? -ENODEV : s_errno(rc);
	rc = rtnl_link_get_ifindex(link);
	if (is_ifb) {
		const char *t = rtnl_link_get_type(link);

		*is_ifb = t && !strcmp(t, "ifb");
	}
	rtnl_link_put(link);
	return rc;
}

/* ---- building blocks ---------------------------------------------------------------- */

static int
s_ifb_add(vs_shape_t *self, const char *name)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int rc;

	if (link == NULL)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	if ((rc = rtnl_link_set_type(link, "ifb")) < 0)
		goto out;
	rtnl_link_set_flags(link, IFF_UP);
	rc = rtnl_link_add(self->sk, link, NLM_F_CREATE | NLM_F_EXCL);
out:
	rtnl_link_put(link);
	return s_errno(rc);
}

/* Deletes name only when it is an IFB with our prefix. */
static int
s_ifb_del(vs_shape_t *self, const char *name)
{
	struct rtnl_link *link;
	int is_ifb = 0, ifindex, rc;

	if (strncmp(name, VS_SHAPE_IFB_PREFIX, strlen(VS_SHAPE_IFB_PREFIX)) != 0)
		return -EPERM;
	ifindex = s_ifindex(self, name, &is_ifb);
	if (ifindex < 0)
		return ifindex == -ENODEV ? 0 : ifindex;
	if (!is_ifb)
		return -EPERM;
	if ((link = rtnl_link_alloc()) == NULL)
		return -ENOMEM;
	rtnl_link_set_ifindex(link, ifindex);
	rc = rtnl_link_delete(self->sk, link);
	rtnl_link_put(link);
	return rc == -NLE_NODEV || rc == -NLE_OBJ_NOTFOUND ? 0 : s_errno(rc);
}

static int
s_htb_class(vs_shape_t *self, int ifindex, const vs_shape_rule_t *r, int flags)
{
	struct rtnl_class *cl = rtnl_class_alloc();
	uint64_t rate = r->rate_bps / 8, ceil = (r->ceil_bps ? r->ceil_bps : r->rate_bps) / 8;
	uint32_t quantum;
	int rc;

	if (cl == NULL)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(cl), ifindex);
	rtnl_tc_set_parent(TC_CAST(cl), TC_HANDLE(VS_SHAPE_MAJOR, 0));
	rtnl_tc_set_handle(TC_CAST(cl), TC_HANDLE(VS_SHAPE_MAJOR, 1));
	if ((rc = rtnl_tc_set_kind(TC_CAST(cl), "htb")) < 0)
		goto out;
	rtnl_htb_set_rate64(cl, rate ? rate : 1);
	rtnl_htb_set_ceil64(cl, ceil ? ceil : 1);
	rtnl_htb_set_rbuffer(cl, r->burst);
	rtnl_htb_set_cbuffer(cl, r->burst);
	/* what tc derives with r2q 10, kept in htb's sane range so the kernel does not warn */
	quantum = rate / 10 < 1500 ? 1500 : rate / 10 > 200000 ? 200000 : (uint32_t)(rate / 10);
	rtnl_htb_set_quantum(cl, quantum);
	rc = rtnl_class_add(self->sk, cl, flags);
out:
	rtnl_class_put(cl);
	return s_errno(rc);
}

/* htb root MAJOR: (default class 1), class MAJOR:1, pfifo leaf LEAF_MAJOR:. */
static int
s_htb_tree(vs_shape_t *self, int ifindex, const vs_shape_rule_t *r)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc(), *leaf = rtnl_qdisc_alloc();
	int rc = -NLE_NOMEM;

	if (q == NULL || leaf == NULL)
		goto out;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(VS_SHAPE_MAJOR, 0));
	if ((rc = rtnl_tc_set_kind(TC_CAST(q), "htb")) < 0)
		goto out;
	rtnl_htb_set_defcls(q, 1);
	if ((rc = rtnl_qdisc_add(self->sk, q, NLM_F_CREATE | NLM_F_EXCL)) < 0)
		goto out;
	if ((rc = s_htb_class(self, ifindex, r, NLM_F_CREATE | NLM_F_EXCL)) < 0) {
		rc = -rc == EEXIST ? -NLE_EXIST : -NLE_INVAL;
		goto out;
	}
	rtnl_tc_set_ifindex(TC_CAST(leaf), ifindex);
	rtnl_tc_set_parent(TC_CAST(leaf), TC_HANDLE(VS_SHAPE_MAJOR, 1));
	rtnl_tc_set_handle(TC_CAST(leaf), TC_HANDLE(VS_SHAPE_LEAF_MAJOR, 0));
	if ((rc = rtnl_tc_set_kind(TC_CAST(leaf), "pfifo")) < 0)
		goto out;
	rtnl_qdisc_fifo_set_limit(leaf, LEAF_LIMIT);
	rc = rtnl_qdisc_add(self->sk, leaf, NLM_F_CREATE | NLM_F_EXCL);
out:
	if (q)
		rtnl_qdisc_put(q);
	if (leaf)
		rtnl_qdisc_put(leaf);
	return s_errno(rc);
}

/* The root qdisc's handle on ifindex (0 for the default one), or -errno. */
static int64_t
s_root_handle(vs_shape_t *self, int ifindex)
{
	struct nl_cache *cache = NULL;
	struct rtnl_qdisc *q;
	int64_t h = 0;
	int rc;

	if ((rc = rtnl_qdisc_alloc_cache(self->sk, &cache)) < 0)
		return s_errno(rc);
	q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);
	if (q) {
		h = rtnl_tc_get_handle(TC_CAST(q));
		rtnl_qdisc_put(q);
	}
	nl_cache_free(cache);
	return h;
}

static int
s_root_del(vs_shape_t *self, int ifindex)
{
	struct rtnl_qdisc *q;
	int64_t h = s_root_handle(self, ifindex);
	int rc;

	if (h < 0)
		return (int)h;
	if (TC_H_MAJ((uint32_t)h) != TC_HANDLE(VS_SHAPE_MAJOR, 0))
		return 0;               /* not ours: never touched */
	if ((q = rtnl_qdisc_alloc()) == NULL)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(VS_SHAPE_MAJOR, 0));
	rc = rtnl_qdisc_delete(self->sk, q);
	rtnl_qdisc_put(q);
	return rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NOATTR ? 0 : s_errno(rc);
}

static int
s_ingress_add(vs_shape_t *self, int ifindex, int *created_r)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int rc;

	*created_r = 0;
	if (q == NULL)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
	if ((rc = rtnl_tc_set_kind(TC_CAST(q), "ingress")) == 0)
		rc = rtnl_qdisc_add(self->sk, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	if (rc == 0)
		*created_r = 1;
	/* an ingress qdisc someone else made: share it, and leave it when we go */
	return rc == -NLE_EXIST ? 0 : s_errno(rc);
}

static int
s_ingress_del(vs_shape_t *self, int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int rc;

	if (q == NULL)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
	rtnl_tc_set_kind(TC_CAST(q), "ingress");
	rc = rtnl_qdisc_delete(self->sk, q);
	rtnl_qdisc_put(q);
	return rc == -NLE_OBJ_NOTFOUND || rc == -NLE_INVAL || rc == -NLE_NOATTR ? 0 :
	    s_errno(rc);
}

/* Filters on the ingress of ifindex: how many, and whether ours (VS_SHAPE_PRIO) is there. */
static int
s_ingress_filters(vs_shape_t *self, int ifindex, int *ours_r)
{
	struct nl_cache *cache = NULL;
	int n = 0, rc;

	*ours_r = 0;
	rc = rtnl_cls_alloc_cache(self->sk, ifindex, INGRESS_HANDLE, &cache);
	if (rc < 0)
		return rc == -NLE_INVAL || rc == -NLE_OBJ_NOTFOUND ? 0 : s_errno(rc);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		n++;
		if (rtnl_cls_get_prio((struct rtnl_cls *)o) == VS_SHAPE_PRIO)
			*ours_r = 1;
	}
	nl_cache_free(cache);
	return n;
}

static int
s_filter_add(vs_shape_t *self, int ifindex, int ifb_ifindex)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	int rc = -NLE_NOMEM;

	if (cls == NULL || act == NULL)
		goto out;
	rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
	rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
	if ((rc = rtnl_tc_set_kind(TC_CAST(cls), "u32")) < 0)
		goto out;
	rtnl_cls_set_prio(cls, VS_SHAPE_PRIO);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	/* match all: one key with an empty mask */
	if ((rc = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
	    (rc = rtnl_u32_set_cls_terminal(cls)) < 0)
		goto out;
	if ((rc = rtnl_tc_set_kind(TC_CAST(act), "mirred")) < 0)
		goto out;
	rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
	rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
	rtnl_mirred_set_ifindex(act, (uint32_t)ifb_ifindex);
	if ((rc = rtnl_u32_add_action(cls, act)) < 0)
		goto out;
	rc = rtnl_cls_add(self->sk, cls, NLM_F_CREATE | NLM_F_EXCL);
out:
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	return s_errno(rc);
}

static int
s_filter_del(vs_shape_t *self, int ifindex)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();
	int rc;

	if (cls == NULL)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
	rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
	rtnl_tc_set_kind(TC_CAST(cls), "u32");
	rtnl_cls_set_prio(cls, VS_SHAPE_PRIO);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	rc = rtnl_cls_delete(self->sk, cls, 0);
	rtnl_cls_put(cls);
	return rc == -NLE_OBJ_NOTFOUND || rc == -NLE_INVAL ? 0 : s_errno(rc);
}

/* ---- the rule --------------------------------------------------------------------------- */

static int
s_same_shape(const vs_shape_rule_t *a, const vs_shape_rule_t *b)
{
	return a->rate_bps == b->rate_bps && a->ceil_bps == b->ceil_bps &&
	    a->burst == b->burst && a->dir == b->dir;
}

int
vs_shape_present(vs_shape_t *self, const char *vif)
{
	char ifb[IF_NAMESIZE];
	int ifindex = s_ifindex(self, vif, NULL), ours = 0, is_ifb = 0;
	int64_t h;

	if (ifindex < 0)
		return 0;
	if (vs_shape_ifb_name(vif, ifindex, ifb) == 0 && s_ifindex(self, ifb, &is_ifb) > 0 &&
	    is_ifb)
		return 1;
	if (s_ingress_filters(self, ifindex, &ours) > 0 && ours)
		return 1;
	h = s_root_handle(self, ifindex);
	return h > 0 && TC_H_MAJ((uint32_t)h) == TC_HANDLE(VS_SHAPE_MAJOR, 0);
}

int
vs_shape_remove(vs_shape_t *self, const char *vif, int created_ingress)
{
	char ifb[IF_NAMESIZE];
	int ifindex = s_ifindex(self, vif, NULL), rc = 0, r, ours = 0, n;

	if (ifindex > 0) {
		n = s_ingress_filters(self, ifindex, &ours);
		if (ours && (r = s_filter_del(self, ifindex)) < 0)
			rc = r;
		if (ours || created_ingress) {
			n = s_ingress_filters(self, ifindex, &ours);
			if ((created_ingress || n == 0) && n <= 0 &&
			    (r = s_ingress_del(self, ifindex)) < 0 && rc == 0)
				rc = r;
		}
		if ((r = s_root_del(self, ifindex)) < 0 && rc == 0)
			rc = r;
	}
	if (vs_shape_ifb_name(vif, ifindex, ifb) == 0 && (r = s_ifb_del(self, ifb)) < 0 &&
	    r != -EPERM && rc == 0)
		rc = r;
	return rc;
}

int
vs_shape_apply(vs_shape_t *self, vs_shape_rule_t *r, const vs_shape_rule_t *old, char *err,
    size_t errlen)
{
	char ifb[IF_NAMESIZE];
	int ifindex, ifb_ifindex, rc, is_ifb = 0;
	const char *step = "";

	ifindex = s_ifindex(self, r->vif, NULL);
	if (ifindex < 0) {
		snprintf(err, errlen, "interface %s does not exist", r->vif);
		return ifindex;
	}
	if ((rc = vs_shape_ifb_name(r->vif, ifindex, ifb)) < 0) {
		snprintf(err, errlen, "no IFB name for %s", r->vif);
		return rc;
	}
	if (old && vs_shape_present(self, r->vif)) {
		r->created_ingress = old->created_ingress;
		if (s_same_shape(old, r))
			return 0;               /* the same rule: only its lease changes */
		if (old->dir == r->dir) {       /* new numbers, same tree: change the classes */
			if ((r->dir & VS_SHAPE_FROM_VM) &&
			    (ifb_ifindex = s_ifindex(self, ifb, NULL)) > 0 &&
			    (rc = s_htb_class(self, ifb_ifindex, r, NLM_F_REPLACE)) < 0)
				goto changefail;
			if ((r->dir & VS_SHAPE_TO_VM) &&
			    (rc = s_htb_class(self, ifindex, r, NLM_F_REPLACE)) < 0)
				goto changefail;
			return 0;
changefail:
			snprintf(err, errlen, "changing the htb class of %s: %s", r->vif,
			    strerror(-rc));
			return rc;
		}
	}
	if (old || vs_shape_present(self, r->vif))
		vs_shape_remove(self, r->vif, old ? old->created_ingress : 0);
	r->created_ingress = 0;
	if (r->dir & VS_SHAPE_TO_VM) {
		int64_t h = s_root_handle(self, ifindex);

		if (h > 0 && TC_H_MAJ((uint32_t)h) != TC_HANDLE(VS_SHAPE_MAJOR, 0)) {
			snprintf(err, errlen, "%s already has a root qdisc %x: that vscope did not "
			    "create; not touching it", r->vif, (unsigned)(TC_H_MAJ((uint32_t)h) >> 16));
			return -EBUSY;
		}
	}
	if (r->dir & VS_SHAPE_FROM_VM) {
		step = "creating the IFB device";
		if (s_ifindex(self, ifb, &is_ifb) > 0) {
			rc = -EEXIST;
			snprintf(err, errlen, "%s exists and vscope has no rule for it", ifb);
			if (!is_ifb)
				return rc;
		}
		if ((rc = s_ifb_add(self, ifb)) < 0)
			goto fail;
		if ((ifb_ifindex = s_ifindex(self, ifb, NULL)) < 0) {
			rc = ifb_ifindex;
			goto fail;
		}
		step = "htb on the IFB";
		if ((rc = s_htb_tree(self, ifb_ifindex, r)) < 0)
			goto fail;
		step = "the ingress qdisc";
		if ((rc = s_ingress_add(self, ifindex, &r->created_ingress)) < 0)
			goto fail;
		step = "the u32 filter with the mirred redirect";
		if ((rc = s_filter_add(self, ifindex, ifb_ifindex)) < 0)
			goto fail;
	}
	if (r->dir & VS_SHAPE_TO_VM) {
		step = "htb on the VIF's egress";
		if ((rc = s_htb_tree(self, ifindex, r)) < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "shaping %s failed at %s: %s (undone)", r->vif, step,
	    strerror(-rc));
	vs_shape_remove(self, r->vif, r->created_ingress);
	return rc;
}

static void
s_qstats(struct nl_cache *cache, int ifindex, vs_shape_stats_t *st)
{
	struct rtnl_qdisc *q;

	memset(st, 0, sizeof(*st));
	if (ifindex <= 0 || (q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT)) == NULL)
		return;
	if (TC_H_MAJ(rtnl_tc_get_handle(TC_CAST(q))) == TC_HANDLE(VS_SHAPE_MAJOR, 0)) {
		st->bytes = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_BYTES);
		st->packets = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_PACKETS);
		st->drops = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_DROPS);
		st->overlimits = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_OVERLIMITS);
		st->valid = 1;
	}
	rtnl_qdisc_put(q);
}

int
vs_shape_stats(vs_shape_t *self, const char *vif, vs_shape_stats_t *from, vs_shape_stats_t *to)
{
	struct nl_cache *cache = NULL;
	char ifb[IF_NAMESIZE];
	int ifindex = s_ifindex(self, vif, NULL), ifb_ifindex = -1, rc;

	memset(from, 0, sizeof(*from));
	memset(to, 0, sizeof(*to));
	if (ifindex < 0)
		return ifindex;
	if (vs_shape_ifb_name(vif, ifindex, ifb) == 0)
		ifb_ifindex = s_ifindex(self, ifb, NULL);
	if ((rc = rtnl_qdisc_alloc_cache(self->sk, &cache)) < 0)
		return s_errno(rc);
	s_qstats(cache, ifb_ifindex, from);
	s_qstats(cache, ifindex, to);
	nl_cache_free(cache);
	return 0;
}

int
vs_shape_cleanup_all(vs_shape_t *self)
{
	struct nl_cache *links = NULL;
	int rc, n = 0;

	if ((rc = rtnl_link_alloc_cache(self->sk, AF_UNSPEC, &links)) < 0)
		return s_errno(rc);
	for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l), *type = rtnl_link_get_type(l);
		int ifindex = rtnl_link_get_ifindex(l), ours = 0, cleaned = 0;
		int64_t h;

		if (name && type && !strcmp(type, "ifb") &&
		    !strncmp(name, VS_SHAPE_IFB_PREFIX, strlen(VS_SHAPE_IFB_PREFIX))) {
			if (s_ifb_del(self, name) == 0)
				n++;
			continue;
		}
		if (s_ingress_filters(self, ifindex, &ours) > 0 && ours) {
			s_filter_del(self, ifindex);
			if (s_ingress_filters(self, ifindex, &ours) == 0)
				s_ingress_del(self, ifindex);
			cleaned = 1;
		}
		h = s_root_handle(self, ifindex);
		if (h > 0 && TC_H_MAJ((uint32_t)h) == TC_HANDLE(VS_SHAPE_MAJOR, 0)) {
			s_root_del(self, ifindex);
			cleaned = 1;
		}
		n += cleaned;
	}
	nl_cache_free(links);
	return n;
}
