/*
 * History: fixed arena of blocks, each block a sequence of samples of one series.
 *
 * Block payload is a sequence of tokens, each a LEB128 varint:
 *   - a canonical varint z: one sample, the previous one plus unzigzag(z); the first
 *     sample of a block is relative to 0, so every block decodes on its own;
 *   - the two bytes [0x80 | c, 0x00]: c (2..127) samples equal to the previous one;
 *   - the three bytes [0x80 | (g & 0x7f), 0x80 | g >> 7, 0x00]: the stride, from here on
 *     each sample is g (1..STRIDE_MAX) ticks after the previous one. A block starts at
 *     stride 1 with its first sample at first_tick.
 * The last two forms are varints that a canonical encoder never writes (a multi-byte varint
 * whose last byte is zero), told apart by their length, so they cost no escape bit in
 * ordinary values. A run grows in place: the second equal sample turns a 0x00 into
 * [0x82, 0x00], the next ones only bump the count, so an idle metric costs 2 bytes per 127
 * samples. The stride is sticky: a series appended every k-th tick writes one stride token
 * per block and then costs what a per-tick one does (runs included); a per-tick series that
 * misses a tick pays two (stride 2, then back to 1). A gap over STRIDE_MAX ticks starts a
 * new block.
 *
 * Block metadata lives apart from the payload so blocks are pure payload. Blocks are taken
 * in circular order; each series keeps its blocks in a singly linked FIFO (head = oldest).
 * Because every series takes its blocks in arena order and only ever drops blocks from its
 * head, the live block under the allocation cursor is its owner's head: evicting it is O(1).
 *
 * Not thread-safe: the caller serialises all calls.
 */
#include "history.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(VS_HISTORY_MAX_GAP >= 1 && VS_HISTORY_MAX_GAP < (1 << 14),
    "a stride token holds 14 bits");

#define NONE            UINT32_MAX      /* no block, or a free block's owner */
#define RUN_MAX         127             /* samples in one run token */
#define STRIDE_MAX      VS_HISTORY_MAX_GAP      /* fits a stride token's 14 bits */
#define ENTITY_LEN      64              /* name buffers, terminator included */
#define METRIC_LEN      64
#define UNIT_LEN        16
#define MAX_SERIES      (1u << 24)      /* keeps ids in int and the index in uint32 */

struct block {                  /* metadata of arena block i; payload at arena + i * BLOCK */
	uint64_t first_tick;    /* tick of its first sample */
	uint32_t series;        /* owner id; NONE when free */
	uint32_t next;          /* owner's next newer block; NONE at its tail */
	uint32_t span;          /* last sample's tick - first_tick; stale in the tail, whose
				 * last sample is its owner's last_tick (see s_block_end) */
	uint16_t n;             /* samples (at most 128 run tokens of 127) */
	uint16_t used;          /* payload bytes */
};

/* A token of at least 2 bytes holds at most RUN_MAX samples and the first sample takes a byte:
 * that bounds a block's samples (n) and, each at most STRIDE_MAX ticks apart, its span. */
_Static_assert(VS_HISTORY_BLOCK_BYTES / 2 * RUN_MAX < UINT16_MAX, "block n overflows");
_Static_assert((uint64_t)VS_HISTORY_BLOCK_BYTES / 2 * RUN_MAX * STRIDE_MAX < UINT32_MAX,
    "block span overflows");

struct series {                 /* what append touches; names live apart in struct name */
	uint64_t last_tick;     /* 0: never appended */
	int64_t last_value;
	uint64_t n_stored;      /* samples in the blocks, including any that left the tick ring */
	uint32_t head, tail;    /* oldest and newest block; NONE when empty */
	uint16_t stride;        /* ticks between samples at the tail's end */
	uint8_t run;            /* equal samples in the tail's last token; 0: not a run */
	uint8_t kind;
	uint8_t in_use;
};

struct name {
	char entity[ENTITY_LEN];
	char metric[METRIC_LEN];
	char unit[UNIT_LEN];
	uint32_t hash;
};

struct vs_history {
	uint64_t tick;          /* current tick; 0 before the first */
	int64_t *tick_ns;       /* [max_ticks]: time of tick k at k % max_ticks */
	uint32_t max_ticks;
	uint32_t n_blocks;
	uint32_t cursor;        /* next block to take */
	uint8_t *arena;         /* [n_blocks * VS_HISTORY_BLOCK_BYTES] */
	struct block *blocks;   /* [n_blocks] */
	size_t max_series;
	struct series *series;  /* [max_series] */
	struct name *names;     /* [max_series] */
	int32_t *index;         /* [index_mask + 1]: ids by hash of entity+metric; -1 empty */
	uint32_t index_mask;
	uint32_t *free_ids;     /* ring of free ids, oldest freed first, to delay reuse */
	size_t free_head, n_free;
	size_t n_series;
	size_t used_bytes;
	uint64_t evicted;
	size_t memory_bytes;
};

/* ---- encoding -------------------------------------------------------------------------- */

static inline uint64_t
s_zigzag(uint64_t d)
{
	return (d << 1) ^ (0 - (d >> 63));
}

static inline uint64_t
s_unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static inline unsigned
s_varint_len(uint64_t v)
{
	return (unsigned)(63 - __builtin_clzll(v | 1)) / 7 + 1;
}

static inline void
s_varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)v;
}

enum { TOK_DELTA, TOK_RUN, TOK_STRIDE };

/* Reads the token at *pp (before end) into *z and returns its kind. */
static inline int
s_token(const uint8_t **pp, const uint8_t *end, uint64_t *z)
{
	const uint8_t *p = *pp;
	unsigned shift = 0;
	uint64_t v = 0;
	uint8_t c;

	do {
		assert(p < end && shift < 64);
		c = *p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	(void)end;
	*pp = p;
	*z = v;
	if (c != 0 || shift == 7)
		return TOK_DELTA;
	if (shift == 14) {
		assert(v >= 2 && v <= RUN_MAX);
		return TOK_RUN;
	}
	assert(shift == 21 && v >= 1 && v <= STRIDE_MAX);
	return TOK_STRIDE;
}

/* Walks one block's samples; call s_dec_next exactly block->n times. After each call,
 * tick is that sample's tick. */
struct dec {
	const uint8_t *p, *end;
	uint64_t value;         /* unsigned: deltas wrap modulo 2^64 like the encoder's */
	uint64_t run;           /* samples still due from a run token */
	uint64_t tick;
	uint64_t stride;
};

static void
s_dec_init(struct dec *d, const vs_history_t *self, uint32_t b)
{
	d->p = self->arena + (size_t)b * VS_HISTORY_BLOCK_BYTES;
	d->end = d->p + self->blocks[b].used;
	d->value = 0;
	d->run = 0;
	d->tick = self->blocks[b].first_tick - 1;
	d->stride = 1;
}

static inline int64_t
s_dec_next(struct dec *d)
{
	uint64_t z;
	int kind;

	if (d->run > 0) {
		d->run--;
		d->tick += d->stride;
		return (int64_t)d->value;
	}
	while ((kind = s_token(&d->p, d->end, &z)) == TOK_STRIDE)
		d->stride = z;          /* the sample follows */
	if (kind == TOK_DELTA)
		d->value += s_unzigzag(z);
	else
		d->run = z - 1;
	d->tick += d->stride;
	return (int64_t)d->value;
}

/* ---- ticks and blocks ------------------------------------------------------------------ */

static inline uint64_t
s_oldest_tick(const vs_history_t *self)
{
	return self->tick > self->max_ticks ? self->tick - self->max_ticks + 1 : 1;
}

static inline int64_t
s_time(const vs_history_t *self, uint64_t tick)
{
	return self->tick_ns[tick % self->max_ticks];
}

/* One past the tick of the last sample in block b of series s. The tail's span is only
 * written when the block is closed, so appends do not pay for it. */
static inline uint64_t
s_block_end(const vs_history_t *self, const struct series *s, uint32_t b)
{
	if (b == s->tail)
		return s->last_tick + 1;
	return self->blocks[b].first_tick + self->blocks[b].span + 1;
}

/* Samples of block b of series s whose tick is before oldest. */
static uint64_t
s_block_before(const vs_history_t *self, const struct series *s, uint32_t b, uint64_t oldest)
{
	const struct block *m = &self->blocks[b];
	const uint8_t *p = self->arena + (size_t)b * VS_HISTORY_BLOCK_BYTES, *pend = p + m->used;
	uint64_t end = s_block_end(self, s, b), tick = m->first_tick - 1, stride = 1, k = 0, z;

	if (m->first_tick >= oldest)
		return 0;
	if (end <= oldest)
		return m->n;
	if (end - m->first_tick == m->n)        /* one sample per tick: no need to decode */
		return oldest - m->first_tick;
	/* Token by token, a run in one step: its samples are at tick + stride * (1..z). */
	while (p < pend) {
		switch (s_token(&p, pend, &z)) {
		case TOK_STRIDE:
			stride = z;
			continue;
		case TOK_DELTA:
			z = 1;
			break;
		}
		if (tick + z * stride >= oldest)
			return k + (oldest - 1 - tick) / stride;
		tick += z * stride;
		k += z;
	}
	assert(0);      /* end > oldest: some sample is in the ring */
	return k;
}

static void
s_drop_head(vs_history_t *self, struct series *s)
{
	uint32_t b = s->head;
	struct block *m = &self->blocks[b];

	assert(b != NONE);
	s->head = m->next;
	if (s->tail == b) {
		assert(s->head == NONE);
		s->tail = NONE;
		s->run = 0;
		s->stride = 1;
	}
	s->n_stored -= m->n;
	self->used_bytes -= sizeof(*m) + m->used;
	m->series = NONE;
	m->next = NONE;
}

/* Frees the series' head blocks whose ticks have all left the tick ring. */
static void
s_expire(vs_history_t *self, struct series *s)
{
	uint64_t oldest = s_oldest_tick(self);

	while (s->head != NONE && s_block_end(self, s, s->head) <= oldest)
		s_drop_head(self, s);
}

/* Takes the block under the cursor, evicting it from its owner if live. */
static uint32_t
s_take_block(vs_history_t *self)
{
	uint32_t b = self->cursor;
	struct block *m = &self->blocks[b];

	if (++self->cursor == self->n_blocks)
		self->cursor = 0;
	if (m->series != NONE) {
		struct series *owner = &self->series[m->series];

		/* The invariant that makes eviction O(1); see the top of the file. */
		assert(owner->in_use && owner->head == b);
		s_drop_head(self, owner);
		self->evicted++;
	}
	return b;
}

/* Samples of s whose tick is still in the ring. */
static uint64_t
s_readable(const vs_history_t *self, const struct series *s)
{
	uint64_t oldest = s_oldest_tick(self), n = s->n_stored;
	uint32_t b;

	for (b = s->head; b != NONE; b = self->blocks[b].next) {
		const struct block *m = &self->blocks[b];

		if (m->first_tick >= oldest)
			break;
		n -= s_block_before(self, s, b, oldest);
		if (s_block_end(self, s, b) > oldest)
			break;          /* blocks do not overlap: the rest are in the ring */
	}
	return n;
}

static struct series *
s_lookup(const vs_history_t *self, int id)
{
	if (id < 0 || (size_t)id >= self->max_series || !self->series[id].in_use)
		return NULL;
	return &self->series[id];
}

/* ---- names ----------------------------------------------------------------------------- */

static uint32_t
s_hash(const char *entity, const char *metric)
{
	uint32_t h = 2166136261u;       /* FNV-1a; the 0 between the names separates them */
	const char *p;

	for (p = entity; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (p = metric; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* Index slot holding entity+metric, or the empty slot where it would go. */
static uint32_t
s_index_slot(const vs_history_t *self, uint32_t h, const char *entity, const char *metric)
{
	uint32_t i;

	for (i = h & self->index_mask; self->index[i] >= 0; i = (i + 1) & self->index_mask) {
		const struct name *nm = &self->names[self->index[i]];

		if (nm->hash == h && strcmp(nm->entity, entity) == 0 &&
		    strcmp(nm->metric, metric) == 0)
			break;
	}
	return i;
}

/* Linear probing with backward-shift deletion: no tombstones pile up as series churn. */
static void
s_index_remove(vs_history_t *self, int id)
{
	const struct name *nm = &self->names[id];
	uint32_t mask = self->index_mask;
	uint32_t i = s_index_slot(self, nm->hash, nm->entity, nm->metric), j;

	assert(self->index[i] == id);
	for (;;) {
		self->index[i] = -1;
		for (j = (i + 1) & mask;; j = (j + 1) & mask) {
			uint32_t home;

			if (self->index[j] < 0)
				return;
			home = self->names[self->index[j]].hash & mask;
			/* The entry at j moves to i unless its home is cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			self->index[i] = self->index[j];
			i = j;
			break;
		}
	}
}

static int
s_name_ok(const char *s, size_t size)
{
	return s != NULL && s[0] != '\0' && strnlen(s, size) < size;
}

/* ---- life cycle ------------------------------------------------------------------------ */

static void *
s_alloc(vs_history_t *self, size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p != NULL)
		self->memory_bytes += n * size;
	return p;
}

vs_history_t *
vs_history_new(const vs_history_config_t *cfg)
{
	vs_history_t *self = NULL;
	size_t arena_bytes, n_blocks, i;
	uint32_t index_size;
	int rc = -EINVAL;

	if (cfg == NULL || cfg->max_series == 0 || cfg->max_series > MAX_SERIES ||
	    cfg->max_ticks == 0)
		goto out;
	arena_bytes = cfg->arena_bytes;
	if (arena_bytes == 0) {
		if (cfg->max_ticks > SIZE_MAX / 3 / cfg->max_series)
			goto out;
		arena_bytes = cfg->max_series * cfg->max_ticks * 3;
	}
	n_blocks = arena_bytes / VS_HISTORY_BLOCK_BYTES;
	if (n_blocks == 0 || n_blocks >= NONE)
		goto out;
	for (index_size = 2; index_size < 2 * cfg->max_series; index_size *= 2)
		;

	rc = -ENOMEM;
	self = calloc(1, sizeof(*self));
	if (self == NULL)
		goto out;
	self->memory_bytes = sizeof(*self);
	self->max_ticks = cfg->max_ticks;
	self->n_blocks = (uint32_t)n_blocks;
	self->max_series = cfg->max_series;
	self->index_mask = index_size - 1;
	self->tick_ns = s_alloc(self, cfg->max_ticks, sizeof(*self->tick_ns));
	self->arena = s_alloc(self, n_blocks, VS_HISTORY_BLOCK_BYTES);
	self->blocks = s_alloc(self, n_blocks, sizeof(*self->blocks));
	self->series = s_alloc(self, cfg->max_series, sizeof(*self->series));
	self->names = s_alloc(self, cfg->max_series, sizeof(*self->names));
	self->index = s_alloc(self, index_size, sizeof(*self->index));
	self->free_ids = s_alloc(self, cfg->max_series, sizeof(*self->free_ids));
	if (self->tick_ns == NULL || self->arena == NULL || self->blocks == NULL ||
	    self->series == NULL || self->names == NULL || self->index == NULL ||
	    self->free_ids == NULL)
		goto out;
	/* Touch the arena now: no page faults on the sampling path, resident memory fixed from
	 * start-up, and a box short of memory fails at start-up rather than minutes later.
	 * (A memset after calloc is removed by the compiler; volatile stores are not.) */
	for (i = 0; i < n_blocks * VS_HISTORY_BLOCK_BYTES; i += 4096)
		((volatile uint8_t *)self->arena)[i] = 0;
	for (i = 0; i < n_blocks; i++) {
		self->blocks[i].series = NONE;
		self->blocks[i].next = NONE;
	}
	for (i = 0; i < index_size; i++)
		self->index[i] = -1;
	for (i = 0; i < cfg->max_series; i++)
		self->free_ids[i] = (uint32_t)i;
	self->n_free = cfg->max_series;
	rc = 0;
out:
	if (rc < 0) {
		vs_history_destroy(&self);
		errno = -rc;
	}
	return self;
}

void
vs_history_destroy(vs_history_t **self_p)
{
	vs_history_t *self;

	if (self_p == NULL || *self_p == NULL)
		return;
	self = *self_p;
	free(self->tick_ns);
	free(self->arena);
	free(self->blocks);
	free(self->series);
	free(self->names);
	free(self->index);
	free(self->free_ids);
	free(self);
	*self_p = NULL;
}

/* ---- ticks ----------------------------------------------------------------------------- */

uint64_t
vs_history_tick(vs_history_t *self, int64_t t_ns)
{
	self->tick++;
	self->tick_ns[self->tick % self->max_ticks] = t_ns;
	return self->tick;
}

uint64_t
vs_history_current_tick(const vs_history_t *self)
{
	return self->tick;
}

int
vs_history_tick_time(const vs_history_t *self, uint64_t tick, int64_t *t_ns_r)
{
	if (tick == 0 || tick > self->tick || tick < s_oldest_tick(self))
		return -ENOENT;
	*t_ns_r = s_time(self, tick);
	return 0;
}

/* ---- series ---------------------------------------------------------------------------- */

int
vs_history_series_add(vs_history_t *self, const char *entity, const char *metric,
    const char *unit, vs_kind_t kind)
{
	struct series *s;
	struct name *nm;
	uint32_t h, slot, id;

	if (unit == NULL)
		unit = "";
	if (!s_name_ok(entity, ENTITY_LEN) || !s_name_ok(metric, METRIC_LEN) ||
	    strnlen(unit, UNIT_LEN) >= UNIT_LEN ||
	    (kind != VS_KIND_GAUGE && kind != VS_KIND_COUNTER))
		return -EINVAL;
	h = s_hash(entity, metric);
	slot = s_index_slot(self, h, entity, metric);
	if (self->index[slot] >= 0)
		return -EEXIST;
	if (self->n_free == 0)
		return -ENOSPC;

	id = self->free_ids[self->free_head];
	if (++self->free_head == self->max_series)
		self->free_head = 0;
	self->n_free--;
	nm = &self->names[id];
	strcpy(nm->entity, entity);
	strcpy(nm->metric, metric);
	strcpy(nm->unit, unit);
	nm->hash = h;
	s = &self->series[id];
	memset(s, 0, sizeof(*s));
	s->head = s->tail = NONE;
	s->stride = 1;
	s->kind = (uint8_t)kind;
	s->in_use = 1;
	self->index[slot] = (int32_t)id;
	self->n_series++;
	return (int)id;
}

int
vs_history_series_find(const vs_history_t *self, const char *entity, const char *metric)
{
	uint32_t slot;

	if (entity == NULL || metric == NULL)
		return -ENOENT;
	slot = s_index_slot(self, s_hash(entity, metric), entity, metric);
	return self->index[slot] >= 0 ? self->index[slot] : -ENOENT;
}

void
vs_history_series_del(vs_history_t *self, int id)
{
	struct series *s = s_lookup(self, id);

	if (s == NULL)
		return;
	while (s->head != NONE)
		s_drop_head(self, s);
	s_index_remove(self, id);
	memset(&self->names[id], 0, sizeof(self->names[id]));
	s->in_use = 0;
	self->free_ids[(self->free_head + self->n_free) % self->max_series] = (uint32_t)id;
	self->n_free++;
	self->n_series--;
}

static void
s_info(const vs_history_t *self, int id, vs_series_info_t *info_r)
{
	const struct series *s = &self->series[id];
	const struct name *nm = &self->names[id];

	info_r->entity = nm->entity;
	info_r->metric = nm->metric;
	info_r->unit = nm->unit;
	info_r->kind = (vs_kind_t)s->kind;
	info_r->last_value = s->last_value;
	info_r->last_tick = s->last_tick;
	info_r->n_samples = s_readable(self, s);
}

int
vs_history_series_info(const vs_history_t *self, int id, vs_series_info_t *info_r)
{
	if (s_lookup(self, id) == NULL)
		return -ENOENT;
	s_info(self, id, info_r);
	return 0;
}

void
vs_history_series_foreach(const vs_history_t *self,
    int (*fn)(void *arg, int id, const vs_series_info_t *info), void *arg)
{
	vs_series_info_t info;
	size_t id;

	for (id = 0; id < self->max_series; id++) {
		if (!self->series[id].in_use)
			continue;
		s_info(self, (int)id, &info);
		if (fn(arg, (int)id, &info) != 0)
			break;
	}
}

/* ---- samples --------------------------------------------------------------------------- */

/* Writes a stride token and the sample into the tail if they fit; returns the bytes written
 * or 0. Kept out of line so the per-tick path of vs_history_append stays as lean as it was. */
static __attribute__((noinline)) unsigned
s_put_stride(vs_history_t *self, struct series *s, int64_t value)
{
	struct block *m = &self->blocks[s->tail];
	uint8_t *p = self->arena + (size_t)s->tail * VS_HISTORY_BLOCK_BYTES + m->used;
	uint64_t gap = self->tick - s->last_tick;
	uint64_t z = s_zigzag((uint64_t)value - (uint64_t)s->last_value);
	unsigned len = 3 + s_varint_len(z);

	assert(gap >= 1 && gap <= STRIDE_MAX && gap != s->stride);
	if (m->used + len > VS_HISTORY_BLOCK_BYTES)
		return 0;
	p[0] = (uint8_t)(0x80 | (gap & 0x7f));
	p[1] = (uint8_t)(0x80 | gap >> 7);
	p[2] = 0;
	s_varint_put(p + 3, z);
	m->used = (uint16_t)(m->used + len);
	s->stride = (uint16_t)gap;
	s->run = z == 0;
	return len;
}

int
vs_history_append(vs_history_t *self, int id, int64_t value)
{
	struct series *s = s_lookup(self, id);
	struct block *m;
	uint8_t *p;
	uint64_t z;
	uint32_t b;
	unsigned len;

	if (s == NULL)
		return -ENOENT;
	if (self->tick == 0)
		return -EINVAL;
	if (s->last_tick == self->tick)
		return -EALREADY;

	/* The tail holds the series' latest sample; the new one continues it if it fits, at
	 * the tail's stride (the hot path), or after a stride token. */
	if (s->tail != NONE && s->last_tick + s->stride == self->tick) {
		m = &self->blocks[s->tail];
		p = self->arena + (size_t)s->tail * VS_HISTORY_BLOCK_BYTES;
		z = s_zigzag((uint64_t)value - (uint64_t)s->last_value);
		if (z == 0 && s->run > 1 && s->run < RUN_MAX) {
			p[m->used - 2]++;               /* [0x80 | c, 0] -> [0x80 | c + 1, 0] */
			s->run++;
			len = 0;
			goto stored;
		}
		if (z == 0 && s->run == 1 && m->used < VS_HISTORY_BLOCK_BYTES) {
			p[m->used - 1] = 0x80 | 2;      /* 0x00 -> [0x82, 0] */
			p[m->used++] = 0;
			s->run = 2;
			len = 1;
			goto stored;
		}
		len = s_varint_len(z);
		if (m->used + len <= VS_HISTORY_BLOCK_BYTES) {
			s_varint_put(p + m->used, z);
			m->used = (uint16_t)(m->used + len);
			s->run = z == 0;
			goto stored;
		}
	} else if (s->tail != NONE && self->tick - s->last_tick <= STRIDE_MAX &&
	    (len = s_put_stride(self, s, value)) > 0) {
		m = &self->blocks[s->tail];
		goto stored;
	}

	/* A new block: the tail is full, or the gap is too long, or the series has none. */
	s_expire(self, s);
	b = s_take_block(self);
	m = &self->blocks[b];
	m->first_tick = self->tick;
	m->series = (uint32_t)id;
	m->next = NONE;
	m->n = 0;
	z = s_zigzag((uint64_t)value);
	len = s_varint_len(z);
	s_varint_put(self->arena + (size_t)b * VS_HISTORY_BLOCK_BYTES, z);
	m->used = (uint16_t)len;
	s->run = z == 0;
	s->stride = 1;
	if (s->tail == NONE) {
		s->head = b;
	} else {
		struct block *t = &self->blocks[s->tail];

		t->next = b;
		t->span = (uint32_t)(s->last_tick - t->first_tick);     /* closed now */
	}
	s->tail = b;
	self->used_bytes += sizeof(*m);
stored:
	m->n++;
	s->n_stored++;
	self->used_bytes += len;
	s->last_tick = self->tick;
	s->last_value = value;
	return 0;
}

static void
s_reverse(vs_point_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n / 2; i++) {
		vs_point_t x = a[i];

		a[i] = a[n - 1 - i];
		a[n - 1 - i] = x;
	}
}

int
vs_history_read(const vs_history_t *self, int id, int64_t from_ns, int64_t to_ns,
    vs_point_t *pts, size_t max, int *truncated_r)
{
	const struct series *s = s_lookup(self, id);
	uint64_t oldest = s_oldest_tick(self), matched = 0;
	size_t j = 0;
	uint32_t b;

	if (s == NULL)
		return -ENOENT;
	if (to_ns == 0)
		to_ns = INT64_MAX;
	if (max > INT_MAX)
		max = INT_MAX;
	/* A sample's tick is only known by decoding its block, so decode once, oldest first,
	 * into pts used as a ring of max points; then put the newest max in order. */
	for (b = s->head; b != NONE; b = self->blocks[b].next) {
		const struct block *m = &self->blocks[b];
		struct dec d;
		uint32_t i;

		if (s_block_end(self, s, b) <= oldest)
			continue;
		s_dec_init(&d, self, b);
		for (i = 0; i < m->n; i++) {
			int64_t v = s_dec_next(&d), t;

			if (d.tick < oldest)
				continue;
			t = s_time(self, d.tick);
			if (t < from_ns || t > to_ns)
				continue;
			matched++;
			if (max == 0)
				continue;
			pts[j].t_ns = t;
			pts[j].value = v;
			if (++j == max)
				j = 0;
		}
	}
	if (truncated_r != NULL)
		*truncated_r = matched > max;
	if (matched > max && j > 0) {
		/* pts[j] is the oldest kept: rotate it to the front. */
		s_reverse(pts, j);
		s_reverse(pts + j, max - j);
		s_reverse(pts, max);
	}
	return (int)(matched > max ? max : matched);
}

int
vs_history_aggregate(const vs_history_t *self, int id, int64_t from_ns, int64_t to_ns,
    double *sum_or_mean_r, int64_t *span_ns_r, uint64_t *n_r)
{
	const struct series *s = s_lookup(self, id);
	uint64_t oldest = s_oldest_tick(self), n = 0;
	int64_t t_start = 0, t_last = 0, t_prev = 0;
	int started = 0, have_prev = 0;         /* have_prev: the previous sample is readable */
	double sum = 0;
	uint32_t b;

	if (s == NULL)
		return -ENOENT;
	if (to_ns == 0)
		to_ns = INT64_MAX;
	/* Blocks wholly out of the ring come first; skipping them leaves have_prev 0, right. */
	for (b = s->head; b != NONE; b = self->blocks[b].next) {
		const struct block *m = &self->blocks[b];
		struct dec d;
		uint32_t i;

		if (s_block_end(self, s, b) <= oldest)
			continue;
		s_dec_init(&d, self, b);
		for (i = 0; i < m->n; i++) {
			int64_t v = s_dec_next(&d), t;
			int use = 1;

			if (d.tick < oldest)
				continue;
			t = s_time(self, d.tick);
			if (t > from_ns && t <= to_ns) {
				if (!started) {
					started = 1;
					/* A counter sample is the increment since the series'
					 * previous sample: the span starts there. When that one is
					 * gone, the first sample only opens the span. */
					t_start = have_prev ? t_prev : t;
					use = have_prev || s->kind != VS_KIND_COUNTER;
				}
				t_last = t;
				if (use) {
					sum += (double)v;
					n++;
				}
			}
			have_prev = 1;
			t_prev = t;
		}
	}
	if (n == 0)
		return -ENODATA;
	*sum_or_mean_r = s->kind == VS_KIND_COUNTER ? sum : sum / (double)n;
	*span_ns_r = t_last - t_start;
	*n_r = n;
	return 0;
}

void
vs_history_stats(const vs_history_t *self, vs_history_stats_t *st_r)
{
	size_t id;

	memset(st_r, 0, sizeof(*st_r));
	st_r->series = self->n_series;
	st_r->arena_bytes = (size_t)self->n_blocks * VS_HISTORY_BLOCK_BYTES;
	st_r->used_bytes = self->used_bytes;
	for (id = 0; id < self->max_series; id++)
		if (self->series[id].in_use)
			st_r->samples += s_readable(self, &self->series[id]);
	st_r->evicted_blocks = self->evicted;
	st_r->memory_bytes = self->memory_bytes;
}
