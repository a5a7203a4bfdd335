#include "links.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

struct vs_links {
	struct nl_cache_mngr *mngr;
	struct nl_sock *sync;           /* for a full refill after lost notifications */
	struct nl_cache *cache;
	int changed;
};

static void
s_change(struct nl_cache *cache, struct nl_object *obj, int action, void *arg)
{
	vs_links_t *self = arg;

	(void)cache;
	(void)obj;
	/* NL_ACT_CHANGE also covers counters and flags; only membership matters here, but a
	 * rename arrives as a change too, so every action counts. */
	(void)action;
	self->changed = 1;
}

vs_links_t *
vs_links_new(void)
{
	vs_links_t *self = calloc(1, sizeof(*self));
	int err;

	if (self == NULL)
		return NULL;
	self->sync = nl_socket_alloc();
	if (self->sync == NULL || (err = nl_connect(self->sync, NETLINK_ROUTE)) < 0) {
		err = self->sync ? err : -NLE_NOMEM;
		goto fail;
	}
	err = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE, &self->mngr);
	if (err < 0)
		goto fail;
	err = nl_cache_mngr_add(self->mngr, "route/link", s_change, self, &self->cache);
	if (err < 0)
		goto fail;
	return self;
fail:
	if (self->mngr)
		nl_cache_mngr_free(self->mngr);
	if (self->sync)
		nl_socket_free(self->sync);
	free(self);
	errno = err == -NLE_PERM ? EPERM : EIO;
	return NULL;
}

void
vs_links_destroy(vs_links_t **self_p)
{
	vs_links_t *self = *self_p;

	if (self == NULL)
		return;
	nl_cache_mngr_free(self->mngr);
	nl_socket_free(self->sync);
	free(self);
	*self_p = NULL;
}

int
vs_links_fd(const vs_links_t *self)
{
	return nl_cache_mngr_get_fd(self->mngr);
}

int
vs_links_process(vs_links_t *self)
{
	int err;

	self->changed = 0;
	err = nl_cache_mngr_data_ready(self->mngr);
	if (err < 0 && err != -NLE_AGAIN) {
		/* lost notifications (socket overrun): resynchronise from a full dump */
		if (nl_cache_refill(self->sync, self->cache) < 0)
			return -EIO;
		return 1;
	}
	return self->changed;
}

int
vs_links_ifindex(vs_links_t *self, const char *name)
{
	(void)self;
	/* asked of the kernel, not of the cache: the cache is what tells us to ask again, but
	 * it was seen to keep a veth whose peer lived in another namespace after its deletion */
	return (int)if_nametoindex(name);
}

struct foreach_ctx {
	void (*fn)(void *, int, const char *);
	void *arg;
};

static void
s_each(struct nl_object *obj, void *arg)
{
	struct foreach_ctx *ctx = arg;
	struct rtnl_link *l = (struct rtnl_link *)obj;

	ctx->fn(ctx->arg, rtnl_link_get_ifindex(l), rtnl_link_get_name(l));
}

void
vs_links_foreach(vs_links_t *self, void (*fn)(void *arg, int ifindex, const char *name),
    void *arg)
{
	struct foreach_ctx ctx = { fn, arg };

	nl_cache_foreach(self->cache, s_each, &ctx);
}
