/*
 * Which interfaces exist: a libnl-route link cache kept current by a cache manager, so a
 * VIF that appears or vanishes is seen when the kernel says so, not by polling.
 */
#ifndef VS_LINKS_H
#define VS_LINKS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vs_links vs_links_t;

vs_links_t *vs_links_new(void);                 /* NULL and errno */
void vs_links_destroy(vs_links_t **self_p);
int  vs_links_fd(const vs_links_t *self);       /* poll for readability */
/* Reads pending notifications; returns 1 if the set of links changed, 0 if not, -errno. */
int  vs_links_process(vs_links_t *self);
/* ifindex of name, or 0 if no such interface (asked of the kernel). */
int  vs_links_ifindex(vs_links_t *self, const char *name);
/* Calls fn for every interface. */
void vs_links_foreach(vs_links_t *self, void (*fn)(void *arg, int ifindex, const char *name),
    void *arg);

#endif
