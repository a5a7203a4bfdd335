/* dpg: Distributed Processing Graphs (VScope §2.4, Table 4) -- topologies, VNode records and
 * the function ABI. A VNode is a record in its host's event loop, not a socket or a thread
 * (DESIGN.md); this header is the part every side (vmasterd, vscoped, CLI, tests) shares. */
#ifndef VS_DPG_H
#define VS_DPG_H

#include <stddef.h>
#include <stdint.h>

/* ---- topologies ----------------------------------------------------------------------- */

typedef enum {
	VS_DPG_TOPO_P = 1,      /* point-to-point: a chain, node i feeds node i+1 */
	VS_DPG_TOPO_C = 2,      /* centralized: one leaf per node, all feed one root */
	VS_DPG_TOPO_H = 3,      /* hierarchy: leaves on every node, parents of <= bf children */
} vs_dpg_topo_kind_t;

#define VS_DPG_NO_PARENT  UINT32_MAX
#define VS_DPG_MAX_VNODES 1000000u     /* bound on any one DPG */
#define VS_DPG_MAX_HEIGHT 16u

typedef struct {
	uint32_t id;            /* unique in its DPG, never reused */
	uint32_t host;          /* index into the DPG's node list */
	uint32_t parent;        /* VNode id its output goes to, or VS_DPG_NO_PARENT (root) */
	uint32_t level;         /* 0 for a leaf (no inputs) */
	uint32_t n_inputs;      /* VNodes whose output comes here */
	int alive;              /* 0 once deleted (ids stay stable) */
} vs_dpg_vnode_t;

typedef struct vs_dpg_topo vs_dpg_topo_t;
struct vs_dpg_topo {
	vs_dpg_topo_kind_t kind;
	size_t n;               /* used entries in v[] (alive or not) */
	size_t cap;
	vs_dpg_vnode_t *v;      /* v[i].id == i */
};

/* Build a topology over n_hosts nodes. For H, bf >= 2 is the largest fan-out below the root
 * and height >= 1 the number of links from a leaf to the root; height 0 picks the least
 * height for bf. Parents live on the host of their first child. Returns 0 or -EINVAL
 * (bad kind, 0 hosts, bf < 2 for H, height > VS_DPG_MAX_HEIGHT, too many VNodes), -ENOMEM. */
int vs_dpg_topo_build(vs_dpg_topo_kind_t kind, size_t n_hosts, unsigned bf, unsigned height,
		vs_dpg_topo_t **topo_r);
void vs_dpg_topo_destroy(vs_dpg_topo_t **topo_p);

/* 0 when the alive VNodes form one tree (a single root, no cycle, parents alive);
 * -ELOOP on a cycle, -EINVAL otherwise. */
int vs_dpg_topo_check(const vs_dpg_topo_t *topo);
/* Counts over alive VNodes. vs_dpg_topo_root: the root's id or VS_DPG_NO_PARENT. */
size_t vs_dpg_topo_count(const vs_dpg_topo_t *topo, size_t *leaves_r);
uint32_t vs_dpg_topo_root(const vs_dpg_topo_t *topo);
/* Leaves under VNode id (itself if a leaf). */
size_t vs_dpg_topo_leaves_under(const vs_dpg_topo_t *topo, uint32_t id);

/* Table 4 edits; each leaves the topology unchanged on error.
 * add: link src -> dst (src has one output): -ENOENT unknown VNode, -EEXIST the link exists,
 *      -EBUSY src already feeds another VNode, -ELOOP the link would close a cycle.
 * delete: remove link src -> dst: -ENOENT no such link. src becomes a detached root until
 *      added again; vs_dpg_topo_check then reports -EINVAL.
 * insert: a new VNode on host between src -> dst; its id in *id_r; -ENOENT no such link. */
int vs_dpg_topo_add(vs_dpg_topo_t *topo, uint32_t src, uint32_t dst);
int vs_dpg_topo_delete(vs_dpg_topo_t *topo, uint32_t src, uint32_t dst);
int vs_dpg_topo_insert(vs_dpg_topo_t *topo, uint32_t host, uint32_t src, uint32_t dst,
		uint32_t *id_r);
/* Remove a VNode and re-attach its inputs to its parent (a lost parent: children move to
 * the grandparent). -ENOENT unknown, -EINVAL for the root. */
int vs_dpg_topo_remove_vnode(vs_dpg_topo_t *topo, uint32_t id);

/* A new detached VNode on host at level (a leaf brought back); attach it with _add. */
int vs_dpg_topo_add_vnode(vs_dpg_topo_t *topo, uint32_t host, uint32_t level, uint32_t *id_r);
/* 1 when VNode id is alive and its parents lead to root (it is deployed). After a delete a
 * detached VNode has no parent either: the caller names the DPG's root. */
int vs_dpg_topo_attached(const vs_dpg_topo_t *topo, uint32_t root, uint32_t id);

const char *vs_dpg_topo_name(vs_dpg_topo_kind_t kind);            /* "P", "C", "H" */
int vs_dpg_topo_parse(const char *s, vs_dpg_topo_kind_t *kind_r); /* -EINVAL */

/* ---- functions ------------------------------------------------------------------------ */

typedef enum {
	VS_DPG_FN_LOCAL = 1,    /* per leaf; parents relay */
	VS_DPG_FN_COMBINE = 2,  /* partial results merge up the tree */
	VS_DPG_FN_CENTRAL = 3,  /* the root needs all data */
} vs_dpg_fn_kind_t;

#define VS_DPG_ABI_VERSION 1
#define VS_DPG_TOPK_MAX    64

/* A partial result: fixed size, so it can be bounded on the wire and kept per VNode. */
typedef struct {
	uint32_t fn;            /* function id */
	uint32_t leaves;        /* leaves that contributed */
	uint64_t count;         /* samples folded in */
	double sum, min, max;
	uint32_t k;             /* Top-K: wanted */
	uint32_t n_top;         /* Top-K: held, descending */
	double top[VS_DPG_TOPK_MAX];
} vs_dpg_part_t;

typedef struct vs_dpg_fn vs_dpg_fn_t;
struct vs_dpg_fn {
	uint32_t abi;           /* VS_DPG_ABI_VERSION */
	uint32_t id;
	const char *name;
	vs_dpg_fn_kind_t kind;
	const char *help;
	/* Reset *p for this function; arg is e.g. K for Top-K (0: default). -EINVAL if bad. */
	int (*init)(vs_dpg_part_t *p, uint32_t arg);
	/* Fold n leaf samples in. */
	int (*local)(vs_dpg_part_t *p, const double *x, size_t n);
	/* Merge a child's partial result into *into (same function). */
	int (*combine)(vs_dpg_part_t *into, const vs_dpg_part_t *from);
	/* The value(s) a result carries: up to *n_r values into out[]; *n_r set to how many. */
	int (*result)(const vs_dpg_part_t *p, double *out, size_t *n_r);
};

enum { VS_DPG_FN_MAX = 1, VS_DPG_FN_MIN = 2, VS_DPG_FN_AVE = 3, VS_DPG_FN_TOPK = 4 };

/* Built-in functions, borrowed; NULL (and -ENOENT from _lookup_name) when unknown. */
const vs_dpg_fn_t *vs_dpg_fn_lookup(uint32_t id);
const vs_dpg_fn_t *vs_dpg_fn_lookup_name(const char *name);    /* case-insensitive */
size_t vs_dpg_fn_list(const vs_dpg_fn_t *const **fns_r);
/* Checks a partial result from a peer against its function's invariants (count vs leaves,
 * min <= max, Top-K sorted and bounded, finite numbers): 0 or -EINVAL. */
int vs_dpg_part_validate(const vs_dpg_part_t *p);

#endif
