/*
 * The guest's resources at millisecond intervals. Cheap by construction: the four /proc
 * files stay open and are read with one pread each into a fixed buffer, parsed in place,
 * with no allocation per sample. Samples wait in a fixed array until the batch is sent;
 * when Dom0 cannot take them the oldest are dropped and counted (missed).
 */
#include "resources.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

#define READ_BUF (64 * 1024)
#define HOLD 2048                       /* samples held at most (2 s at 1 ms) */

enum { F_STAT, F_MEM, F_DISK, F_NET, F_N };
static const char *s_files[F_N] = { "stat", "meminfo", "diskstats", "net/dev" };

struct vs_res {
	vs_res_spec_t spec;
	int fd[F_N];
	char *buf;
	vs_res_sample_t *hold;
	size_t n;
	int64_t next_sample, next_batch;
	uint64_t missed, taken;
};

static int
s_kv(const char *s, const char *key, int64_t *ns_r, char *err, size_t errlen)
{
	size_t k = strlen(key);

	if (strncmp(s, key, k) || s[k] != '=')
		return 0;
	if (vs_duration_parse(s + k + 1, VS_NS_PER_MSEC, ns_r) < 0) {
		snprintf(err, errlen, "resources: %s '%s' is not a duration", key, s + k + 1);
		return -EINVAL;
	}
	return 1;
}

int
vs_res_spec_parse(const char *v, vs_res_spec_t *spec, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *w;
	int have_interval = 0, r;

	memset(spec, 0, sizeof(*spec));
	spec->batch_ns = 250 * VS_NS_PER_MSEC;
	if (strlen(v) >= sizeof(buf)) {
		snprintf(err, errlen, "resources: too long");
		return -EINVAL;
	}
	strcpy(buf, v);
	for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if ((r = s_kv(w, "interval", &spec->interval_ns, err, errlen)) < 0)
			return r;
		if (r) {
			have_interval = 1;
			continue;
		}
		if ((r = s_kv(w, "batch", &spec->batch_ns, err, errlen)) < 0)
			return r;
		if (r)
			continue;
		snprintf(err, errlen, "resources: unknown word '%.64s' (interval=MS [batch=MS])", w);
		return -EINVAL;
	}
	if (!have_interval) {
		snprintf(err, errlen, "resources: interval=MS is missing (1ms to 1000ms)");
		return -EINVAL;
	}
	if (spec->interval_ns < VS_NS_PER_MSEC || spec->interval_ns > 1000 * VS_NS_PER_MSEC) {
		snprintf(err, errlen, "resources: interval %.6gms is not between 1ms and 1000ms",
		    (double)spec->interval_ns / 1e6);
		return -EINVAL;
	}
	if (spec->batch_ns < spec->interval_ns || spec->batch_ns > 10 * VS_NS_PER_SEC) {
		snprintf(err, errlen, "resources: batch %.6gms is not between the interval and 10s",
		    (double)spec->batch_ns / 1e6);
		return -EINVAL;
	}
	if (spec->batch_ns / spec->interval_ns > VS_AGENT_MAX_SAMPLES * 4) {
		snprintf(err, errlen, "resources: batch over %d intervals", VS_AGENT_MAX_SAMPLES * 4);
		return -EINVAL;
	}
	spec->on = 1;
	return 0;
}

vs_res_t *
vs_res_new(const vs_res_spec_t *spec, const char *procdir)
{
	vs_res_t *self = calloc(1, sizeof(*self));
	char path[512];

	if (self == NULL)
		return NULL;
	self->spec = *spec;
	for (int i = 0; i < F_N; i++)
		self->fd[i] = -1;
	self->buf = malloc(READ_BUF);
	self->hold = calloc(HOLD, sizeof(*self->hold));
	if (self->buf == NULL || self->hold == NULL)
		goto fail;
	for (int i = 0; i < F_N; i++) {
		snprintf(path, sizeof(path), "%s/%s", procdir ? procdir : "/proc", s_files[i]);
		if ((self->fd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			goto fail;
	}
	self->next_sample = self->next_batch = vs_mono_ns();
	self->next_batch += spec->batch_ns;
	return self;
fail:
	{
		int e = errno;
		vs_res_destroy(&self);
		errno = e ? e : ENOMEM;
	}
	return NULL;
}

void
vs_res_destroy(vs_res_t **self_p)
{
	vs_res_t *self = self_p ? *self_p : NULL;

	if (self == NULL)
		return;
	for (int i = 0; i < F_N; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	free(self->buf);
	free(self->hold);
	free(self);
	*self_p = NULL;
}

/* The file's whole text in self->buf, NUL-terminated; its length or -errno. */
static ssize_t
s_pread(vs_res_t *self, int f)
{
	ssize_t n = pread(self->fd[f], self->buf, READ_BUF - 1, 0);

	if (n < 0)
		return -errno;
	self->buf[n] = '\0';
	return n;
}

static const char *
s_next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? nl + 1 : NULL;
}

static int
s_skip_disk(const char *name)
{
	return !strncmp(name, "loop", 4) || !strncmp(name, "ram", 3) || !strncmp(name, "zram", 4);
}

/* A partition has a whole disk whose name it starts with: sda1 (sda), nvme0n1p1 (nvme0n1). */
static int
s_partition(const vs_res_sample_t *s, const char *name)
{
	for (size_t i = 0; i < s->n_disks; i++) {
		size_t k = strlen(s->disks[i].name);
		if (!strncmp(name, s->disks[i].name, k) && name[k] != '\0')
			return 1;
	}
	return 0;
}

static void
s_name(char *dst, const char *src, size_t n)
{
	if (n > VS_AGENT_MAX_DEV_NAME)
		n = VS_AGENT_MAX_DEV_NAME;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
vs_res_read(vs_res_t *self, vs_res_sample_t *s)
{
	const char *p;
	ssize_t n;

	memset(s, 0, offsetof(vs_res_sample_t, disks));
	s->ts_ns = vs_now_ns();
	if ((n = s_pread(self, F_STAT)) < 0)
		return (int)n;
	{
		unsigned long long v[8] = { 0 };
		if (sscanf(self->buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		    &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
			return -EPROTO;
		for (int i = 0; i < 8; i++)
			s->cpu[i] = v[i];
	}
	if ((n = s_pread(self, F_MEM)) < 0)
		return (int)n;
	{
		static const char *keys[6] = { "MemTotal:", "MemFree:", "MemAvailable:", "Dirty:",
			"Writeback:", "Cached:" };
		for (p = self->buf; p && *p; p = s_next_line(p)) {
			for (int i = 0; i < 6; i++) {
				size_t k = strlen(keys[i]);
				if (!strncmp(p, keys[i], k)) {
					s->mem[i] = strtoull(p + k, NULL, 10);
					break;
				}
			}
		}
	}
	if ((n = s_pread(self, F_DISK)) < 0)
		return (int)n;
	for (p = self->buf; p && *p; p = s_next_line(p)) {
		unsigned maj, mnr;
		unsigned long long rd, rdm, rs, rt, wr, wrm, ws, wt, inflight, io;
		char name[64];
		vs_res_dev_t *d;

		if (sscanf(p, "%u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &maj,
		    &mnr, name, &rd, &rdm, &rs, &rt, &wr, &wrm, &ws, &wt, &inflight, &io) != 13)
			continue;
		if (s_skip_disk(name) || s_partition(s, name) ||
		    s->n_disks == VS_AGENT_MAX_SAMPLE_DEVS)
			continue;
		d = &s->disks[s->n_disks++];
		s_name(d->name, name, strlen(name));
		d->v[0] = rd;
		d->v[1] = rs;
		d->v[2] = wr;
		d->v[3] = ws;
		d->v[4] = io;
	}
	if ((n = s_pread(self, F_NET)) < 0)
		return (int)n;
	for (p = self->buf; p && *p; p = s_next_line(p)) {
		const char *colon = strchr(p, ':'), *nl = strchr(p, '\n'), *b = p;
		unsigned long long v[10];
		vs_res_dev_t *d;

		if (colon == NULL || (nl && colon > nl))
			continue;
		while (*b == ' ')
			b++;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) != 10)
			continue;
		if ((colon - b == 2 && !strncmp(b, "lo", 2)) || colon == b ||
		    s->n_nets == VS_AGENT_MAX_SAMPLE_DEVS)
			continue;
		d = &s->nets[s->n_nets++];
		s_name(d->name, b, (size_t)(colon - b));
		d->v[0] = v[0];
		d->v[1] = v[1];
		d->v[2] = v[8];
		d->v[3] = v[9];
	}
	return 0;
}

void
vs_res_poll(vs_res_t *self, int64_t now)
{
	if (now < self->next_sample)
		return;
	/* behind by more than one interval (a stall): skip the lost ticks, count them */
	if (now - self->next_sample >= self->spec.interval_ns) {
		int64_t lost = (now - self->next_sample) / self->spec.interval_ns;
		self->missed += (uint64_t)lost;
		self->next_sample += lost * self->spec.interval_ns;
	}
	self->next_sample += self->spec.interval_ns;
	if (self->n == HOLD) {
		/* Dom0 does not take them: the older half goes at once (one move per HOLD / 2
		 * samples, not one per sample), counted */
		memmove(self->hold, self->hold + HOLD / 2, (HOLD - HOLD / 2) * sizeof(*self->hold));
		self->n -= HOLD / 2;
		self->missed += HOLD / 2;
	}
	if (vs_res_read(self, &self->hold[self->n]) < 0) {
		self->missed++;
		return;
	}
	self->n++;
	self->taken++;
}

int64_t
vs_res_deadline(const vs_res_t *self)
{
	return self->next_sample < self->next_batch || self->n == 0 ? self->next_sample :
	    self->next_batch;
}

int
vs_res_due(const vs_res_t *self, int64_t now, const vs_res_sample_t **s_r, size_t *n_r)
{
	if (self->n == 0 || (now < self->next_batch && self->n < VS_AGENT_MAX_SAMPLES))
		return 0;
	*s_r = self->hold;
	*n_r = self->n;
	return 1;
}

void
vs_res_consume(vs_res_t *self, size_t n)
{
	if (n > self->n)
		n = self->n;
	memmove(self->hold, self->hold + n, (self->n - n) * sizeof(*self->hold));
	self->n -= n;
	if (self->n == 0) {
		int64_t now = vs_mono_ns();
		while (self->next_batch <= now)
			self->next_batch += self->spec.batch_ns;
	}
}

uint64_t
vs_res_missed(const vs_res_t *self)
{
	return self->missed;
}

uint64_t
vs_res_taken(const vs_res_t *self)
{
	return self->taken;
}

const vs_res_spec_t *
vs_res_spec(const vs_res_t *self)
{
	return &self->spec;
}
