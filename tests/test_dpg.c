/* Tests for dpg/topology.c and dpg/func.c: P/C/H shapes from a node list, Table 4 edits and
 * their errors (each leaves the topology unchanged), and the combine functions checked
 * against a flat computation over the same samples. */
#include "dpg.h"
#include "tap.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t
s_max_fanout(const vs_dpg_topo_t *t, uint32_t skip)
{
	size_t i, m = 0;

	for (i = 0; i < t->n; i++)
		if (t->v[i].alive && i != skip && t->v[i].n_inputs > m)
			m = t->v[i].n_inputs;
	return m;
}

static int
s_same(const vs_dpg_topo_t *t, const vs_dpg_vnode_t *copy, size_t n)
{
	return t->n == n && memcmp(t->v, copy, n * sizeof(*copy)) == 0;
}

static void
t_shapes(void)
{
	vs_dpg_topo_t *t = NULL;
	size_t leaves, n;
	uint32_t root;

	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_H, 1000, 25, 2, &t) == 0, "H 1000 bf 25 h 2 builds");
	n = vs_dpg_topo_count(t, &leaves);
	root = vs_dpg_topo_root(t);
	tap_ok(n == 1000 + 40 + 1 && leaves == 1000, "H: 1000 leaves, 40 parents, 1 root (%zu)", n);
	tap_ok(vs_dpg_topo_check(t) == 0, "H is one tree");
	tap_ok(t->v[root].level == 2 && t->v[root].n_inputs == 40, "root at level 2 with 40 inputs");
	tap_ok(s_max_fanout(t, root) == 25, "parents have at most bf children");
	tap_ok(vs_dpg_topo_leaves_under(t, root) == 1000, "all leaves under the root");
	tap_ok(t->v[1000].host == 0 && t->v[1001].host == 25, "parents live on a child's host");
	vs_dpg_topo_destroy(&t);
	vs_dpg_topo_destroy(&t);
	tap_ok(t == NULL, "destroy twice is safe");

	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_H, 10000, 125, 2, &t) == 0 &&
	       vs_dpg_topo_count(t, NULL) == 10000 + 80 + 1 && vs_dpg_topo_check(t) == 0,
	       "H 10000 bf 125 h 2: 80 parents");
	vs_dpg_topo_destroy(&t);
	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_H, 1000, 10, 0, &t) == 0 &&
	       t->v[vs_dpg_topo_root(t)].level == 3 && vs_dpg_topo_check(t) == 0,
	       "H height 0 picks the least height (3 for 1000 at bf 10)");
	vs_dpg_topo_destroy(&t);
	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_C, 5, 0, 0, &t) == 0 &&
	       vs_dpg_topo_count(t, &leaves) == 6 && leaves == 5 &&
	       t->v[vs_dpg_topo_root(t)].n_inputs == 5, "C: 5 leaves into one root");
	vs_dpg_topo_destroy(&t);
	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_P, 4, 0, 0, &t) == 0 && vs_dpg_topo_root(t) == 3 &&
	       vs_dpg_topo_leaves_under(t, 3) == 1 && vs_dpg_topo_check(t) == 0,
	       "P: a chain of 4, one leaf");
	vs_dpg_topo_destroy(&t);

	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_H, 0, 25, 2, &t) == -EINVAL && !t, "0 hosts: EINVAL");
	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_H, 10, 1, 2, &t) == -EINVAL, "bf 1: EINVAL");
	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_H, 10, 2, 99, &t) == -EINVAL, "height 99: EINVAL");
	tap_ok(vs_dpg_topo_build(7, 10, 2, 2, &t) == -EINVAL, "unknown kind: EINVAL");
	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_C, VS_DPG_MAX_VNODES, 0, 0, &t) == -EINVAL,
	       "over VS_DPG_MAX_VNODES: EINVAL");
}

static void
t_edits(void)
{
	vs_dpg_topo_t *t = NULL;
	vs_dpg_vnode_t *copy;
	size_t n;
	uint32_t root, id, p0;

	vs_dpg_topo_build(VS_DPG_TOPO_H, 9, 3, 2, &t);          /* leaves 0-8, parents 9-11 */
	root = vs_dpg_topo_root(t);
	p0 = t->v[0].parent;
	n = t->n;
	copy = malloc(n * sizeof(*copy));
	memcpy(copy, t->v, n * sizeof(*copy));
	tap_ok(vs_dpg_topo_add(t, 0, p0) == -EEXIST && s_same(t, copy, n),
	       "duplicate add: EEXIST, no change");
	tap_ok(vs_dpg_topo_add(t, 0, root) == -EBUSY && s_same(t, copy, n),
	       "add from a VNode that has an output: EBUSY, no change");
	tap_ok(vs_dpg_topo_delete(t, 0, root) == -ENOENT && s_same(t, copy, n),
	       "delete of a missing link: ENOENT, no change");
	tap_ok(vs_dpg_topo_add(t, 0, 4242) == -ENOENT && s_same(t, copy, n),
	       "add to an unknown VNode: ENOENT, no change");
	tap_ok(vs_dpg_topo_delete(t, p0, root) == 0 && vs_dpg_topo_check(t) == -EINVAL,
	       "delete parent->root leaves two roots");
	tap_ok(vs_dpg_topo_add(t, p0, 0) == -ELOOP && t->v[p0].parent == VS_DPG_NO_PARENT,
	       "a link closing a cycle: ELOOP, no change");
	tap_ok(vs_dpg_topo_add(t, p0, root) == 0 && s_same(t, copy, n), "re-add restores it");
	tap_ok(vs_dpg_topo_insert(t, 2, 0, p0, &id) == 0 && id == n &&
	       t->v[0].parent == id && t->v[id].parent == p0 && vs_dpg_topo_check(t) == 0 &&
	       vs_dpg_topo_leaves_under(t, root) == 9, "insert between leaf and parent");
	tap_ok(vs_dpg_topo_insert(t, 2, 0, p0, &id) == -ENOENT, "insert on a missing link: ENOENT");
	tap_ok(vs_dpg_topo_remove_vnode(t, p0) == 0 && vs_dpg_topo_check(t) == 0 &&
	       t->v[1].parent == root && vs_dpg_topo_leaves_under(t, root) == 9,
	       "lost parent: children re-attach to the grandparent");
	tap_ok(vs_dpg_topo_remove_vnode(t, root) == -EINVAL, "removing the root: EINVAL");
	/* A cycle made behind the API's back is still found. */
	t->v[root].parent = 0;
	tap_ok(vs_dpg_topo_check(t) == -ELOOP, "check finds a cycle");
	free(copy);
	vs_dpg_topo_destroy(&t);
}

static double
s_rnd(void)
{
	return (double)rand() / RAND_MAX * 2000.0 - 1000.0;
}

static void
t_functions(void)
{
	enum { LEAVES = 50, PER = 37 };
	static double x[LEAVES][PER];
	double mx = -INFINITY, mn = INFINITY, sum = 0, out[VS_DPG_TOPK_MAX], all[LEAVES * PER];
	const vs_dpg_fn_t *const *fns;
	uint32_t ids[] = { VS_DPG_FN_MAX, VS_DPG_FN_MIN, VS_DPG_FN_AVE, VS_DPG_FN_TOPK };
	size_t i, j, f, n;
	int ok;

	srand(7);
	for (i = 0; i < LEAVES; i++)
		for (j = 0; j < PER; j++) {
			x[i][j] = s_rnd();
			all[i * PER + j] = x[i][j];
			mx = fmax(mx, x[i][j]);
			mn = fmin(mn, x[i][j]);
			sum += x[i][j];
		}
	/* Flat Top-10 by selection over all samples. */
	for (i = 0; i < 10; i++)
		for (j = i + 1; j < LEAVES * PER; j++)
			if (all[j] > all[i]) {
				double tmp = all[i];
				all[i] = all[j];
				all[j] = tmp;
			}
	for (f = 0; f < 4; f++) {
		const vs_dpg_fn_t *fn = vs_dpg_fn_lookup(ids[f]);
		vs_dpg_part_t parents[5], root, leaf;

		for (i = 0; i < 5; i++)
			fn->init(&parents[i], 0);
		fn->init(&root, 0);
		ok = 1;
		for (i = 0; i < LEAVES; i++) {          /* a tree: 50 leaves, 5 parents, 1 root */
			fn->init(&leaf, 0);
			leaf.leaves = 1;
			ok &= fn->local(&leaf, x[i], PER) == 0 && vs_dpg_part_validate(&leaf) == 0;
			ok &= fn->combine(&parents[i % 5], &leaf) == 0;
		}
		for (i = 0; i < 5; i++)
			ok &= vs_dpg_part_validate(&parents[i]) == 0 &&
			      fn->combine(&root, &parents[i]) == 0;
		n = VS_DPG_TOPK_MAX;
		ok &= fn->result(&root, out, &n) == 0 && root.leaves == LEAVES &&
		      root.count == LEAVES * PER;
		if (ids[f] == VS_DPG_FN_MAX)
			ok &= n == 1 && out[0] == mx;
		else if (ids[f] == VS_DPG_FN_MIN)
			ok &= n == 1 && out[0] == mn;
		else if (ids[f] == VS_DPG_FN_AVE)
			ok &= n == 1 && fabs(out[0] - sum / (LEAVES * PER)) < 1e-9;
		else
			ok &= n == 10 && memcmp(out, all, 10 * sizeof(double)) == 0;
		tap_ok(ok, "%s over a 2-level tree equals the flat computation", fn->name);
	}
	{
		const vs_dpg_fn_t *fn = vs_dpg_fn_lookup(VS_DPG_FN_MAX);
		vs_dpg_part_t p, q;
		double bad = NAN;

		fn->init(&p, 0);
		n = 1;
		tap_ok(fn->result(&p, out, &n) == 0 && n == 0, "no samples: no value, not 0");
		tap_ok(fn->local(&p, &bad, 1) == -EINVAL && p.count == 0, "NaN sample refused");
		vs_dpg_fn_lookup(VS_DPG_FN_MIN)->init(&q, 0);
		tap_ok(fn->combine(&p, &q) == -EINVAL, "combining different functions: EINVAL");
		tap_ok(vs_dpg_fn_lookup(VS_DPG_FN_TOPK)->init(&q, 65) == -EINVAL, "K 65: EINVAL");
		vs_dpg_fn_lookup(VS_DPG_FN_TOPK)->init(&q, 3);
		q.count = 2;
		q.min = 1;
		q.max = 3;
		q.n_top = 2;
		q.top[0] = 1;
		q.top[1] = 3;
		tap_ok(vs_dpg_part_validate(&q) == -EINVAL, "unsorted Top-K from a peer: EINVAL");
		q.fn = 99;
		tap_ok(vs_dpg_part_validate(&q) == -EINVAL, "unknown function id: EINVAL");
	}
	tap_ok(vs_dpg_fn_lookup(99) == NULL && vs_dpg_fn_lookup_name("MEDIAN") == NULL,
	       "unknown function: NULL");
	tap_ok(vs_dpg_fn_lookup_name("ave") == vs_dpg_fn_lookup(VS_DPG_FN_AVE) &&
	       vs_dpg_fn_list(&fns) == 7 && fns[3]->abi == VS_DPG_ABI_VERSION,
	       "lookup by name, list of 7 built-ins (with ENTROPY, KMEANS, PCA)");
}

int
main(void)
{
	t_shapes();
	t_edits();
	t_functions();
	return tap_done();
}
