/*
 * Traffic shaping of one VIF through libnl-route (no tc child processes), with ownership
 * marks so vscope only ever removes what it created.
 *
 * Traffic *from* a VM enters Dom0 on its VIF's ingress: an ingress qdisc on the VIF, a u32
 * match-all filter (priority VS_SHAPE_PRIO) with a mirred egress redirect to an IFB device
 * named VS_SHAPE_IFB_PREFIX..., and on the IFB an htb root (handle VS_SHAPE_MAJOR:) with
 * class VS_SHAPE_MAJOR:1 (rate, ceil, burst) and a pfifo leaf (VS_SHAPE_LEAF_MAJOR:).
 * Traffic *to* the VM: the same htb tree on the VIF's egress (root qdisc).
 * Marks: the IFB name prefix, the handle majors 0x7653/0x7654 and the filter priority.
 */
#ifndef VS_SHAPE_H
#define VS_SHAPE_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define VS_SHAPE_IFB_PREFIX "vsb"
#define VS_SHAPE_MAJOR      0x7653u     /* "vS": htb roots vscope creates */
#define VS_SHAPE_LEAF_MAJOR 0x7654u     /* their pfifo leaves */
#define VS_SHAPE_PRIO       0x7653u     /* the u32 redirect filter's priority */
#define VS_SHAPE_MAX_RATE   (400ULL * 1000 * 1000 * 1000)   /* bit/s, when the link says none */
#define VS_SHAPE_MAX_BURST  (64u << 20)
#define VS_SHAPE_MAX_TTL_NS (30LL * 86400 * 1000000000LL)
#define VS_SHAPE_DEFAULT_BURST (32u << 10)

enum { VS_SHAPE_FROM_VM = 1, VS_SHAPE_TO_VM = 2, VS_SHAPE_BOTH = 3 };

typedef struct vs_shape_rule {
	char vif[IF_NAMESIZE];
	char domain[64];
	uint64_t rate_bps;              /* bit/s */
	uint64_t ceil_bps;              /* bit/s, >= rate; 0 = rate */
	uint32_t burst;                 /* bytes */
	int dir;                        /* VS_SHAPE_FROM_VM | VS_SHAPE_TO_VM */
	int64_t ttl_ns;
	int64_t expires_ns;             /* CLOCK_REALTIME */
	int created_ingress;            /* the ingress qdisc on the VIF is ours */
} vs_shape_rule_t;

typedef struct vs_shape_stats {
	uint64_t bytes, packets, drops, overlimits;
	int valid;
} vs_shape_stats_t;

/* ---- parsers (parse.c): 0 or -EINVAL with a message naming what was wrong ---- */
/* tc-style rate: a number with a unit bit kbit mbit gbit (powers of 1000), bps kbps mbps gbps
 * (bytes/s), e.g. "10mbit", "1.5gbit"; into bit/s, > 0 and <= VS_SHAPE_MAX_RATE. */
int vs_shape_parse_rate(const char *s, uint64_t *bps_r, char *err, size_t errlen);
/* Size in bytes: "1500", "32k", "32kb", "1m" (k = 1024), 1..VS_SHAPE_MAX_BURST. */
int vs_shape_parse_size(const char *s, uint32_t *bytes_r, char *err, size_t errlen);
/* Duration: "90" (s), "500ms", "30s", "10m", "2h", "1d"; > 0 and <= VS_SHAPE_MAX_TTL_NS. */
int vs_shape_parse_ttl(const char *s, int64_t *ns_r, char *err, size_t errlen);
/* "from-vm", "to-vm", "both". */
int vs_shape_parse_dir(const char *s, int *dir_r, char *err, size_t errlen);
const char *vs_shape_dir_name(int dir);
/* "10mbit" style, for display. */
void vs_shape_fmt_rate(uint64_t bps, char *buf, size_t len);

/* The IFB's name for a VIF: vifD.N -> vsbD.N, anything else vsbi<ifindex>. -ENAMETOOLONG. */
int vs_shape_ifb_name(const char *vif, int ifindex, char out[IF_NAMESIZE]);

/* ---- tc through libnl-route (tc.c) ---- */
typedef struct vs_shape vs_shape_t;

vs_shape_t *vs_shape_new(char *err, size_t errlen);     /* NULL and errno */
void vs_shape_destroy(vs_shape_t **self_p);
/* Link speed of ifname in bit/s from ethtool, 0 when the driver reports none. */
uint64_t vs_shape_link_speed(const char *ifname);
/* Installs r on r->vif (which the caller has checked is a VIF of a known domain). When old
 * is the rule in force (NULL: none), only what differs is changed; the same rule again
 * changes nothing. On failure everything this call added is removed again. 0 or -errno. */
int vs_shape_apply(vs_shape_t *self, vs_shape_rule_t *r, const vs_shape_rule_t *old,
    char *err, size_t errlen);
/* Removes what vscope installed on vif (its IFB, its filter, its htb roots, the ingress
 * qdisc when created_ingress or left empty). Missing parts are not errors. 0 or -errno. */
int vs_shape_remove(vs_shape_t *self, const char *vif, int created_ingress);
/* Statistics of the htb roots: from-vm on the IFB, to-vm on the VIF's egress. */
int vs_shape_stats(vs_shape_t *self, const char *vif, vs_shape_stats_t *from,
    vs_shape_stats_t *to);
/* Removes every vscope-owned shaping object in this network namespace: IFBs named vsb* of
 * type ifb, htb roots with handle VS_SHAPE_MAJOR:, u32 filters with priority VS_SHAPE_PRIO
 * on ingress (and the ingress qdisc when that leaves it empty). Returns how many VIFs or
 * IFBs were cleaned, or -errno. */
int vs_shape_cleanup_all(vs_shape_t *self);
/* Whether vif carries vscope's filter or htb root, or its IFB exists. */
int vs_shape_present(vs_shape_t *self, const char *vif);

/* ---- state files (lease.c): DIR/<vif>.rule, written atomically (tmp + rename) ---- */
int vs_shape_state_write(const char *dir, const vs_shape_rule_t *r);
int vs_shape_state_read(const char *path, vs_shape_rule_t *r);
int vs_shape_state_remove(const char *dir, const char *vif);
/* Calls fn for each DIR/<vif>.rule that parses; returns how many, or -errno. */
int vs_shape_state_foreach(const char *dir, int (*fn)(void *arg, const vs_shape_rule_t *r,
    const char *path), void *arg);

#endif
