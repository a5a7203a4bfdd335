/*
 * Finding Dom0 from inside a guest. On Xen (discover-xen.c) vscoped writes the guest's own
 * data/vscope/endpoint and data/vscope/serverkey; the agent publishes its public key at
 * data/vscope/agent-key. Elsewhere (discover-none.c) the configuration is all there is.
 */
#ifndef VS_DISCOVER_H
#define VS_DISCOVER_H

#include <stddef.h>

/* Fills what xenstore has (empty strings otherwise). 0, -ENOTSUP without Xen, -errno. */
int vs_discover_read(char *endpoint, size_t elen, char *serverkey, size_t klen);
/* Publishes the agent's public key. 0, -ENOTSUP without Xen, or -errno. */
int vs_discover_publish(const char *pubkey);
const char *vs_discover_name(void);

#endif
