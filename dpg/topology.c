/* DPG topologies P, C and H built from a node list, and the Table 4 edits on them. */
#include "dpg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
s_grow(vs_dpg_topo_t *t, size_t want)
{
	vs_dpg_vnode_t *v;
	size_t cap;

	if (want <= t->cap)
		return 0;
	if (want > VS_DPG_MAX_VNODES)
		return -EINVAL;
	cap = t->cap ? t->cap : 16;
	while (cap < want)
		cap *= 2;
	v = realloc(t->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	t->cap = cap;
	return 0;
}

/* Appends a VNode; the caller has grown the array. */
static uint32_t
s_push(vs_dpg_topo_t *t, uint32_t host, uint32_t level)
{
	vs_dpg_vnode_t *v = &t->v[t->n];

	v->id = (uint32_t)t->n;
	v->host = host;
	v->parent = VS_DPG_NO_PARENT;
	v->level = level;
	v->n_inputs = 0;
	v->alive = 1;
	return (uint32_t)t->n++;
}

static void
s_link(vs_dpg_topo_t *t, uint32_t src, uint32_t dst)
{
	t->v[src].parent = dst;
	t->v[dst].n_inputs++;
}

/* Total VNodes of an H tree over n leaves, so the array is sized once. */
static size_t
s_h_size(size_t n, unsigned bf, unsigned height)
{
	size_t total = n, level = n;
	unsigned h;

	for (h = 1; level > 1 && (height == 0 || h <= height); h++) {
		level = (height != 0 && h == height) ? 1 : (level + bf - 1) / bf;
		total += level;
	}
	return total;
}

int
vs_dpg_topo_build(vs_dpg_topo_kind_t kind, size_t n_hosts, unsigned bf, unsigned height,
		vs_dpg_topo_t **topo_r)
{
	vs_dpg_topo_t *t;
	size_t i, total, first, count, lvl;
	int rc;

	*topo_r = NULL;
	if (n_hosts == 0 || n_hosts > VS_DPG_MAX_VNODES || height > VS_DPG_MAX_HEIGHT)
		return -EINVAL;
	if (kind == VS_DPG_TOPO_P)
		total = n_hosts;
	else if (kind == VS_DPG_TOPO_C)
		total = n_hosts + 1;
	else if (kind == VS_DPG_TOPO_H && bf >= 2 && bf <= VS_DPG_MAX_VNODES)
		total = s_h_size(n_hosts, bf, height);
	else
		return -EINVAL;
	if (total > VS_DPG_MAX_VNODES)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->kind = kind;
	rc = s_grow(t, total);
	if (rc < 0)
		goto out;
	for (i = 0; i < n_hosts; i++)
		s_push(t, (uint32_t)i, kind == VS_DPG_TOPO_P ? (uint32_t)i : 0);
	if (kind == VS_DPG_TOPO_P) {
		for (i = 0; i + 1 < n_hosts; i++)
			s_link(t, (uint32_t)i, (uint32_t)i + 1);
	} else if (kind == VS_DPG_TOPO_C) {
		uint32_t root = s_push(t, 0, 1);

		for (i = 0; i < n_hosts; i++)
			s_link(t, (uint32_t)i, root);
	} else {
		first = 0;
		count = n_hosts;
		for (lvl = 1; count > 1 && (height == 0 || lvl <= height); lvl++) {
			size_t group = (height != 0 && lvl == height) ? count : bf;
			size_t next = t->n, j;

			for (j = 0; j < count; j += group) {
				uint32_t p = s_push(t, t->v[first + j].host, (uint32_t)lvl);
				size_t m;

				for (m = j; m < j + group && m < count; m++)
					s_link(t, (uint32_t)(first + m), p);
			}
			first = next;
			count = t->n - next;
		}
	}
	*topo_r = t;
	t = NULL;
	rc = 0;
out:
	vs_dpg_topo_destroy(&t);
	return rc;
}

void
vs_dpg_topo_destroy(vs_dpg_topo_t **topo_p)
{
	if (!topo_p || !*topo_p)
		return;
	free((*topo_p)->v);
	free(*topo_p);
	*topo_p = NULL;
}

static int
s_valid(const vs_dpg_topo_t *t, uint32_t id)
{
	return id < t->n && t->v[id].alive;
}

int
vs_dpg_topo_check(const vs_dpg_topo_t *t)
{
	uint32_t *mark;         /* 0 unseen, i+1 on the walk from i, UINT32_MAX done */
	size_t i, roots = 0;
	int rc = 0;

	if (!t || t->n == 0)
		return -EINVAL;
	mark = calloc(t->n, sizeof(*mark));
	if (!mark)
		return -ENOMEM;
	for (i = 0; i < t->n && rc == 0; i++) {
		uint32_t cur = (uint32_t)i, stop;

		if (!t->v[i].alive)
			continue;
		if (t->v[i].parent == VS_DPG_NO_PARENT)
			roots++;
		while (cur != VS_DPG_NO_PARENT && mark[cur] == 0) {
			if (!s_valid(t, cur)) {
				rc = -EINVAL;
				break;
			}
			mark[cur] = (uint32_t)i + 1;
			cur = t->v[cur].parent;
		}
		if (rc == 0 && cur != VS_DPG_NO_PARENT && mark[cur] == (uint32_t)i + 1)
			rc = -ELOOP;
		stop = cur;
		for (cur = (uint32_t)i; cur != stop && cur != VS_DPG_NO_PARENT;
		     cur = t->v[cur].parent)
			mark[cur] = UINT32_MAX;
	}
	free(mark);
	if (rc == 0 && roots != 1)
		rc = -EINVAL;
	return rc;
}

size_t
vs_dpg_topo_count(const vs_dpg_topo_t *t, size_t *leaves_r)
{
	size_t i, n = 0, leaves = 0;

	for (i = 0; i < t->n; i++) {
		if (!t->v[i].alive)
			continue;
		n++;
		if (t->v[i].n_inputs == 0)
			leaves++;
	}
	if (leaves_r)
		*leaves_r = leaves;
	return n;
}

uint32_t
vs_dpg_topo_root(const vs_dpg_topo_t *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].alive && t->v[i].parent == VS_DPG_NO_PARENT)
			return (uint32_t)i;
	return VS_DPG_NO_PARENT;
}

size_t
vs_dpg_topo_leaves_under(const vs_dpg_topo_t *t, uint32_t id)
{
	size_t i, n = 0, steps;

	if (!s_valid(t, id))
		return 0;
	for (i = 0; i < t->n; i++) {
		uint32_t cur = (uint32_t)i;

		if (!t->v[i].alive || t->v[i].n_inputs != 0)
			continue;
		for (steps = 0; cur != VS_DPG_NO_PARENT && steps <= t->n; steps++) {
			if (cur == id) {
				n++;
				break;
			}
			cur = t->v[cur].parent;
		}
	}
	return n;
}

/* Does walking up from 'from' reach 'to'? Bounded by n steps (a cycle cannot spin). */
static int
s_reaches(const vs_dpg_topo_t *t, uint32_t from, uint32_t to)
{
	size_t steps;

	for (steps = 0; from != VS_DPG_NO_PARENT && steps <= t->n; steps++) {
		if (from == to)
			return 1;
		from = t->v[from].parent;
	}
	return 0;
}

int
vs_dpg_topo_add(vs_dpg_topo_t *t, uint32_t src, uint32_t dst)
{
	if (!s_valid(t, src) || !s_valid(t, dst))
		return -ENOENT;
	if (t->v[src].parent == dst)
		return -EEXIST;
	if (t->v[src].parent != VS_DPG_NO_PARENT)
		return -EBUSY;
	if (s_reaches(t, dst, src))
		return -ELOOP;
	s_link(t, src, dst);
	return 0;
}

int
vs_dpg_topo_delete(vs_dpg_topo_t *t, uint32_t src, uint32_t dst)
{
	if (!s_valid(t, src) || !s_valid(t, dst) || t->v[src].parent != dst)
		return -ENOENT;
	t->v[src].parent = VS_DPG_NO_PARENT;
	t->v[dst].n_inputs--;
	return 0;
}

int
vs_dpg_topo_insert(vs_dpg_topo_t *t, uint32_t host, uint32_t src, uint32_t dst,
		uint32_t *id_r)
{
	uint32_t id;
	int rc;

	if (!s_valid(t, src) || !s_valid(t, dst) || t->v[src].parent != dst)
		return -ENOENT;
	rc = s_grow(t, t->n + 1);
	if (rc < 0)
		return rc;
	id = s_push(t, host, t->v[src].level + 1);
	t->v[src].parent = id;
	t->v[id].n_inputs = 1;
	t->v[id].parent = dst;
	if (id_r)
		*id_r = id;
	return 0;
}

int
vs_dpg_topo_remove_vnode(vs_dpg_topo_t *t, uint32_t id)
{
	uint32_t up;
	size_t i;

	if (!s_valid(t, id))
		return -ENOENT;
	up = t->v[id].parent;
	if (up == VS_DPG_NO_PARENT)
		return -EINVAL;
	for (i = 0; i < t->n; i++) {
		if (t->v[i].alive && t->v[i].parent == id) {
			t->v[i].parent = up;
			t->v[up].n_inputs++;
		}
	}
	t->v[up].n_inputs--;
	t->v[id].alive = 0;
	t->v[id].parent = VS_DPG_NO_PARENT;
	t->v[id].n_inputs = 0;
	return 0;
}

int
vs_dpg_topo_add_vnode(vs_dpg_topo_t *t, uint32_t host, uint32_t level, uint32_t *id_r)
{
	int rc = s_grow(t, t->n + 1);

	if (rc < 0)
		return rc;
	*id_r = s_push(t, host, level);
	return 0;
}

int
vs_dpg_topo_attached(const vs_dpg_topo_t *t, uint32_t root, uint32_t id)
{
	size_t steps;

	for (steps = 0; id != VS_DPG_NO_PARENT && steps <= t->n; steps++) {
		if (!s_valid(t, id))
			return 0;
		if (id == root)
			return 1;
		id = t->v[id].parent;
	}
	return 0;
}

const char *
vs_dpg_topo_name(vs_dpg_topo_kind_t kind)
{
	switch (kind) {
	case VS_DPG_TOPO_P: return "P";
	case VS_DPG_TOPO_C: return "C";
	case VS_DPG_TOPO_H: return "H";
	}
	return "?";
}

int
vs_dpg_topo_parse(const char *s, vs_dpg_topo_kind_t *kind_r)
{
	if (!s)
		return -EINVAL;
	if (!strcasecmp(s, "P") || !strcasecmp(s, "point-to-point"))
		*kind_r = VS_DPG_TOPO_P;
	else if (!strcasecmp(s, "C") || !strcasecmp(s, "centralized"))
		*kind_r = VS_DPG_TOPO_C;
	else if (!strcasecmp(s, "H") || !strcasecmp(s, "hierarchy"))
		*kind_r = VS_DPG_TOPO_H;
	else
		return -EINVAL;
	return 0;
}
