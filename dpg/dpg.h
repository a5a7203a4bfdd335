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
/* Values one result of a DPG may carry (vmasterd's result record, every output): a central
 * function's K-means centroids or PCA components x window fit; 2^16 doubles are 512 KiB. */
#define VS_DPG_RESULT_MAX  65536u
/* Values a combine or local function's result() may give (out[] has room for this many) */
#define VS_DPG_FN_MAXVALS  VS_DPG_TOPK_MAX

/* A partial result: fixed size, so it can be bounded on the wire and kept per VNode. */
typedef struct {
	uint32_t fn;            /* function id */
	uint32_t leaves;        /* leaves that contributed */
	uint64_t count;         /* samples folded in */
	double sum, min, max;
	uint32_t k;             /* Top-K: wanted */
	uint32_t n_top;         /* Top-K: held, descending */
	double top[VS_DPG_TOPK_MAX];
	/* Added after ABI 1's first cut, at the end so that the fields above keep their place.
	 * ENTROPY: prod is the product of the leaves' entropies (EbAT's PiH; sum is SigmaH), and
	 * a wire encoding must carry it. arg: the init argument, kept for local(); it stays on
	 * the VNode (parents never need it). */
	double prod;
	uint32_t arg;
} vs_dpg_part_t;

/* Input of a central function: every leaf's rows, leaf after leaf, as one row-major
 * rows x cols matrix (the root gathered them; parents only relay). */
typedef struct {
	const double *x;
	size_t rows, cols;
	uint32_t arg;           /* KMEANS: k; PCA: components (0: all) */
	uint32_t arg2;          /* KMEANS: passes (0: 5) */
} vs_dpg_central_in_t;

/* Bounds on a central function's input (rows * cols), so that no peer can make the root
 * allocate without limit: 2^27 doubles is 1 GiB. Built-ins also refuse values beyond
 * +-VS_DPG_CENTRAL_MAX_ABS, so that their sums of squares stay finite. */
#define VS_DPG_CENTRAL_MAX_CELLS (1u << 27)
#define VS_DPG_CENTRAL_MAX_ABS   1e100

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
	/* VS_DPG_FN_CENTRAL only (NULL otherwise; added at the end, so older initialisers
	 * leave it NULL): compute over all the data at the root. On success *out_r is a
	 * malloc'd array of *n_r doubles that the caller frees; its layout is the function's
	 * (below). -EINVAL for bad input (a bad argument, too few rows, non-finite numbers
	 * or beyond VS_DPG_CENTRAL_MAX_ABS),
	 * -E2BIG over VS_DPG_CENTRAL_MAX_CELLS, -ENOMEM. The init/local/combine/result
	 * callbacks of a central function return -EOPNOTSUPP: there is no partial result. */
	int (*central)(const vs_dpg_central_in_t *in, double **out_r, size_t *n_r);
};

enum {
	VS_DPG_FN_MAX = 1, VS_DPG_FN_MIN = 2, VS_DPG_FN_AVE = 3, VS_DPG_FN_TOPK = 4,
	VS_DPG_FN_ENTROPY = 5, VS_DPG_FN_KMEANS = 6, VS_DPG_FN_PCA = 7,
};
/* Plugins use ids from here up; built-ins stay below. */
#define VS_DPG_FN_PLUGIN_MIN 1000u

/* ENTROPY (combine; EbAT, VScope §2.5): a leaf's samples are a look-back window of T time
 * steps x M metrics, row-major (local(p, x, T * M)). Each metric is normalised by its mean
 * over the window, binned, and each time step becomes a vector of M bins (an m-event); the
 * leaf's entropy H = -sum p log2 p over the m-events' frequencies in the window. Parents
 * aggregate as SigmaH (result[0], and sum) and PiH (result[1], and prod); result[2] is the
 * number of entropies folded in. init arg: VS_DPG_ENTROPY_ARG(M, bins), 0: one metric,
 * 10 bins. */
#define VS_DPG_ENTROPY_ARG(metrics, bins) ((uint32_t)(metrics) | (uint32_t)(bins) << 16)
#define VS_DPG_ENTROPY_BINS    10u
#define VS_DPG_ENTROPY_MAXBINS 1024u
#define VS_DPG_ENTROPY_MAXCELLS (1u << 24)
/* The entropy (bits) of one window, as ENTROPY's local computes it. Binning: r = v / |mean|
 * (r = v / max|v| when the mean is 0 or overflows; bin 0 when all 0) falls into bin
 * floor(r * bins / 2), clamped to [0, bins - 1], so [0, 2 * mean) spreads over the bins.
 * -EINVAL: no rows or columns, bins outside 2..VS_DPG_ENTROPY_MAXBINS, non-finite input,
 * more than VS_DPG_ENTROPY_MAXCELLS cells; -ENOMEM. */
int vs_dpg_entropy_window(const double *x, size_t rows, size_t cols, unsigned bins, double *h_r);

/* KMEANS (central): Lloyd's algorithm on the rows, k clusters (arg, 1..VS_DPG_KMEANS_MAXK,
 * at most rows), passes (arg2, 0: 5; up to VS_DPG_KMEANS_MAXPASSES; it stops early once no
 * row changes cluster). Initial centroids: row 0, then each time the row farthest from the
 * centroids chosen so far (deterministic). Result: k x cols centroids (row-major), then k
 * cluster sizes, then the passes run, then the within-cluster sum of squares. */
#define VS_DPG_KMEANS_MAXK      1024u
#define VS_DPG_KMEANS_MAXPASSES 1000u
/* PCA (central): principal components of the rows (observations) x cols (variables), from
 * the covariance matrix's eigen-decomposition by LAPACKE_dsyevd. c = arg components (0 or
 * over cols: all). Result: c eigenvalues (variances, descending), c explained-variance
 * ratios, then c x cols unit component vectors (row-major, sign: largest entry positive).
 * Needs rows >= 2. */

/* Built-in functions, then those of loaded plugins (vs_dpg_plugin_load), borrowed; NULL
 * when unknown. vs_dpg_fn_list: the built-ins; vs_dpg_plugin_list: the plugins'. */
const vs_dpg_fn_t *vs_dpg_fn_lookup(uint32_t id);
const vs_dpg_fn_t *vs_dpg_fn_lookup_name(const char *name);    /* case-insensitive */
size_t vs_dpg_fn_list(const vs_dpg_fn_t *const **fns_r);
/* Checks a partial result from a peer against its function's invariants (count vs leaves,
 * min <= max, Top-K sorted and bounded, finite numbers): 0 or -EINVAL. */
int vs_dpg_part_validate(const vs_dpg_part_t *p);

/* ---- plugins (plugin.c) -------------------------------------------------------------- */

/* A plugin is a shared object exporting VS_DPG_PLUGIN_SYMBOL, a vs_dpg_plugin_info_t whose
 * abi is VS_DPG_ABI_VERSION and whose fns[] each carry abi VS_DPG_ABI_VERSION, an id of at
 * least VS_DPG_FN_PLUGIN_MIN, a name no built-in has, a kind, and the callbacks that kind
 * needs (LOCAL/COMBINE: init, local, combine, result; CENTRAL: central). */
#define VS_DPG_PLUGIN_SYMBOL "vs_dpg_plugin"
#define VS_DPG_PLUGIN_MAXFNS 64u
#define VS_DPG_PLUGIN_MAXNAME 32u       /* a function's name: 1..32 of [A-Za-z0-9_-] */
typedef struct {
	uint32_t abi;
	uint32_t n_fns;
	const vs_dpg_fn_t *const *fns;
} vs_dpg_plugin_info_t;

typedef struct vs_dpg_plugin vs_dpg_plugin_t;
/* Load FILE (a name without '/') from DIR (an absolute path). Refused, with the reason in
 * why[] (when why_len > 0), unless DIR and every directory above it is owned by root and
 * not writable by group or others (sticky directories such as /tmp excepted above DIR),
 * no component is a symlink, and FILE is a regular file (not a symlink) owned by root and
 * not writable by group or others. The checked file is the one loaded (dlopen through
 * /proc/self/fd). Returns 0, -EPERM (ownership or mode), -ELOOP (a symlink), -ENOENT,
 * -ENOEXEC (not loadable, no VS_DPG_PLUGIN_SYMBOL, a bad table), -EPROTO (ABI version),
 * -EEXIST (a name or id clash with a built-in or a loaded plugin), -ENOSPC (over
 * VS_DPG_PLUGIN_MAXLOADED functions loaded), -EINVAL (bad arguments), -ENOMEM. */
int vs_dpg_plugin_load(const char *dir, const char *file, vs_dpg_plugin_t **plugin_r,
		char *why, size_t why_len);
/* A loaded plugin's functions join the function library (vs_dpg_fn_lookup and _name find
 * them) until vs_dpg_plugin_destroy, which takes them out and dlcloses; a function whose id
 * or name a loaded plugin already has is refused (-EEXIST). Up to VS_DPG_PLUGIN_MAXLOADED
 * functions; the library is not thread-safe (one event loop uses it).
 * vs_dpg_plugin_list: every loaded plugin function, borrowed until the next load/destroy. */
#define VS_DPG_PLUGIN_MAXLOADED 256u
size_t vs_dpg_plugin_list(const vs_dpg_fn_t *const **fns_r);
/* The plugin's functions, borrowed until vs_dpg_plugin_destroy (which dlcloses). */
size_t vs_dpg_plugin_fns(const vs_dpg_plugin_t *plugin, const vs_dpg_fn_t *const **fns_r);
const vs_dpg_fn_t *vs_dpg_plugin_lookup_name(const vs_dpg_plugin_t *plugin, const char *name);
void vs_dpg_plugin_destroy(vs_dpg_plugin_t **plugin_p);
/* The checks vs_dpg_plugin_load makes of DIR alone (root's, not writable by group or
 * others, no symlink): 0 or the same errors, with the reason in why[]. */
int vs_dpg_plugin_dir_check(const char *dir, char *why, size_t why_len);

#endif
