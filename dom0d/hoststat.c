#include "hoststat.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { F_STAT, F_MEMINFO, F_VMSTAT, F_DISKSTATS, F_N };
static const char *const s_files[F_N] = { "stat", "meminfo", "vmstat", "diskstats" };

#define BUF_SIZE   (256 * 1024)
#define NAME_LEN   64
#define MAX_DISKS  64

static const char *const s_cpu_fields[] = {
	"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
};
#define N_CPU_FIELDS 8

static const struct { const char *key; const char *metric; } s_mem[] = {
	{ "MemTotal:", "mem.total" }, { "MemFree:", "mem.free" },
	{ "MemAvailable:", "mem.available" }, { "Buffers:", "mem.buffers" },
	{ "Cached:", "mem.cached" }, { "Dirty:", "mem.dirty" },
	{ "Writeback:", "mem.writeback" }, { "SwapTotal:", "mem.swap_total" },
	{ "SwapFree:", "mem.swap_free" },
};
#define N_MEM (sizeof(s_mem) / sizeof(s_mem[0]))

static const struct { const char *key; const char *metric; } s_vm[] = {
	{ "pgpgin ", "vm.pgpgin" }, { "pgpgout ", "vm.pgpgout" }, { "pswpin ", "vm.pswpin" },
	{ "pswpout ", "vm.pswpout" }, { "pgfault ", "vm.pgfault" },
	{ "pgmajfault ", "vm.pgmajfault" },
};
#define N_VM (sizeof(s_vm) / sizeof(s_vm[0]))

static const char *const s_disk_fields[] = { "rd_ios", "wr_ios", "rd_bytes", "wr_bytes", "io_ms" };
#define N_DISK_FIELDS 5

struct disk {
	char name[NAME_LEN];
	int whole;              /* a whole disk (in /sys/block), not a partition */
	int slot0;
};

struct vs_hoststat {
	int fd[F_N];
	int reported[F_N];
	char *buf;
	long hz;
	char sysblock[256];
	int next_slot;
	unsigned ncpus;
	uint64_t mem_kib;
	int cpu_slot0;          /* slot of cpu.all.user; cpu N at cpu_slot0 + (N+1)*8 */
	int cpu_slots_for;      /* CPUs the reserved slot range covers */
	int misc_slot0;         /* ctxt, forks, running, blocked */
	int mem_slot0, vm_slot0;
	struct disk disks[MAX_DISKS];
	int n_disks;
	/* metric names by slot, formatted the first time a slot is seen: the reads run every
	 * host interval and should not printf dozens of names each time */
	char (*names)[NAME_LEN * 2];
};

static int
s_reserve(vs_hoststat_t *self, int n)
{
	int s = self->next_slot;

	if (s + n > VS_HOSTSTAT_MAX_SLOTS)
		return -1;
	self->next_slot += n;
	return s;
}

vs_hoststat_t *
vs_hoststat_new(const char *procdir)
{
	vs_hoststat_t *self = calloc(1, sizeof(*self));
	char path[512];
	int any = 0;

	if (self == NULL)
		return NULL;
	self->buf = malloc(BUF_SIZE);
	self->names = calloc(VS_HOSTSTAT_MAX_SLOTS, sizeof(*self->names));
	if (self->buf == NULL || self->names == NULL) {
		free(self->buf);
		free(self->names);
		free(self);
		return NULL;
	}
	for (int i = 0; i < F_N; i++) {
		snprintf(path, sizeof(path), "%s/%s", procdir, s_files[i]);
		self->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		any |= self->fd[i] >= 0;
	}
	if (!any) {
		free(self->buf);
		free(self->names);
		free(self);
		errno = ENOENT;
		return NULL;
	}
	/* tests pass a fake /proc; only the real one has /sys/block beside it */
	snprintf(self->sysblock, sizeof(self->sysblock), "%s",
	    strcmp(procdir, "/proc") == 0 ? "/sys/block" : "");
	self->hz = sysconf(_SC_CLK_TCK);
	if (self->hz <= 0)
		self->hz = 100;
	self->cpu_slot0 = -1;
	self->misc_slot0 = s_reserve(self, 4);
	self->mem_slot0 = s_reserve(self, N_MEM);
	self->vm_slot0 = s_reserve(self, N_VM);
	return self;
}

void
vs_hoststat_destroy(vs_hoststat_t **self_p)
{
	vs_hoststat_t *self = *self_p;

	if (self == NULL)
		return;
	for (int i = 0; i < F_N; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	free(self->buf);
	free(self->names);
	free(self);
	*self_p = NULL;
}

static ssize_t
s_load(vs_hoststat_t *self, int f)
{
	ssize_t n, total = 0;

	if (self->fd[f] < 0)
		return -ENOENT;
	while ((n = pread(self->fd[f], self->buf + total, BUF_SIZE - 1 - total, total)) > 0) {
		total += n;
		if (total >= BUF_SIZE - 1)
			break;
	}
	if (n < 0)
		return -errno;
	self->buf[total] = '\0';
	return total;
}

static uint64_t
s_u64(const char **p)
{
	const char *s = *p;
	uint64_t v = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	*p = s;
	return v;
}

/* The name of slot, formatted from fmt only the first time. */
static const char * __attribute__((format(printf, 3, 4)))
s_name(vs_hoststat_t *self, int slot, const char *fmt, ...)
{
	char *n = self->names[slot];

	if (n[0] == '\0') {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(n, sizeof(self->names[0]), fmt, ap);
		va_end(ap);
	}
	return n;
}

static void
s_emit(vs_hoststat_t *self, vs_hoststat_fn fn, void *arg, int slot, const char *metric,
    const char *unit, vs_kind_t kind, uint64_t v)
{
	if (slot < 0)
		return;
	fn(arg, slot, metric, unit, kind, (int64_t)(v > INT64_MAX ? INT64_MAX : v));
	(void)self;
}

static void
s_cpu_line(vs_hoststat_t *self, const char *line, vs_hoststat_fn fn, void *arg)
{
	const char *p = line + 3;
	int cpu = -1;           /* -1 = the "cpu" total line */
	int base;

	if (*p >= '0' && *p <= '9') {
		cpu = (int)s_u64(&p);
		if (cpu >= 4096)
			return;
	}
	if (cpu >= self->cpu_slots_for) {
		/* slots for CPUs are reserved in one range; a CPU beyond it (hotplug) gets none
		 * until the next start: rare, and never misattributed */
		return;
	}
	base = self->cpu_slot0 + (cpu + 1) * N_CPU_FIELDS;
	for (int i = 0; i < N_CPU_FIELDS; i++) {
		uint64_t ticks = s_u64(&p);
		const char *name = cpu < 0 ?
		    s_name(self, base + i, "cpu.all.%s", s_cpu_fields[i]) :
		    s_name(self, base + i, "cpu.%d.%s", cpu, s_cpu_fields[i]);

		s_emit(self, fn, arg, base + i, name, "ms", VS_KIND_COUNTER,
		    ticks * 1000 / (uint64_t)self->hz);
	}
}

static void
s_stat(vs_hoststat_t *self, vs_hoststat_fn fn, void *arg)
{
	const char *line = self->buf;
	unsigned ncpus = 0;

	if (self->cpu_slot0 < 0) {
		/* first read: count CPUs to reserve a stable slot range for them */
		for (const char *l = line; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (!strncmp(l, "cpu", 3) && l[3] >= '0' && l[3] <= '9')
				ncpus++;
		self->cpu_slots_for = (int)ncpus;
		self->cpu_slot0 = s_reserve(self, (int)(ncpus + 1) * N_CPU_FIELDS);
		if (self->cpu_slot0 < 0)
			self->cpu_slots_for = -1;
		self->ncpus = ncpus;
	}
	while (line && *line) {
		const char *p;

		if (!strncmp(line, "cpu", 3)) {
			if (self->cpu_slots_for >= 0)
				s_cpu_line(self, line, fn, arg);
		} else if (!strncmp(line, "ctxt ", 5)) {
			p = line + 5;
			s_emit(self, fn, arg, self->misc_slot0, "sched.ctxt", "count",
			    VS_KIND_COUNTER, s_u64(&p));
		} else if (!strncmp(line, "processes ", 10)) {
			p = line + 10;
			s_emit(self, fn, arg, self->misc_slot0 + 1, "sched.forks", "count",
			    VS_KIND_COUNTER, s_u64(&p));
		} else if (!strncmp(line, "procs_running ", 14)) {
			p = line + 14;
			s_emit(self, fn, arg, self->misc_slot0 + 2, "sched.running", "count",
			    VS_KIND_GAUGE, s_u64(&p));
		} else if (!strncmp(line, "procs_blocked ", 14)) {
			p = line + 14;
			s_emit(self, fn, arg, self->misc_slot0 + 3, "sched.blocked", "count",
			    VS_KIND_GAUGE, s_u64(&p));
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

static void
s_meminfo(vs_hoststat_t *self, vs_hoststat_fn fn, void *arg)
{
	const char *line = self->buf;

	while (line && *line) {
		for (size_t i = 0; i < N_MEM; i++) {
			size_t kl = strlen(s_mem[i].key);

			if (!strncmp(line, s_mem[i].key, kl)) {
				const char *p = line + kl;
				uint64_t v = s_u64(&p);

				if (i == 0)
					self->mem_kib = v;
				s_emit(self, fn, arg, self->mem_slot0 + (int)i, s_mem[i].metric, "KiB",
				    VS_KIND_GAUGE, v);
				break;
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

static void
s_vmstat(vs_hoststat_t *self, vs_hoststat_fn fn, void *arg)
{
	const char *line = self->buf;

	while (line && *line) {
		if (line[0] == 'p') {
			for (size_t i = 0; i < N_VM; i++) {
				size_t kl = strlen(s_vm[i].key);

				if (!strncmp(line, s_vm[i].key, kl)) {
					const char *p = line + kl;

					s_emit(self, fn, arg, self->vm_slot0 + (int)i, s_vm[i].metric,
					    "count", VS_KIND_COUNTER, s_u64(&p));
					break;
				}
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

static struct disk *
s_disk(vs_hoststat_t *self, const char *name, size_t len)
{
	struct disk *d;
	struct stat st;
	char path[512];

	for (int i = 0; i < self->n_disks; i++)
		if (strlen(self->disks[i].name) == len && !memcmp(self->disks[i].name, name, len))
			return &self->disks[i];
	if (self->n_disks == MAX_DISKS || len >= NAME_LEN)
		return NULL;
	d = &self->disks[self->n_disks++];
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	if (!strncmp(d->name, "loop", 4) || !strncmp(d->name, "ram", 3))
		d->whole = 0;
	else if (self->sysblock[0]) {
		snprintf(path, sizeof(path), "%s/%s", self->sysblock, d->name);
		d->whole = stat(path, &st) == 0;
	} else
		d->whole = 1;
	d->slot0 = d->whole ? s_reserve(self, N_DISK_FIELDS) : -1;
	return d;
}

static void
s_diskstats(vs_hoststat_t *self, vs_hoststat_fn fn, void *arg)
{
	const char *line = self->buf;

	while (line && *line) {
		const char *p = line, *name;
		uint64_t f[11];
		size_t len;
		struct disk *d;

		s_u64(&p);      /* major */
		s_u64(&p);      /* minor */
		while (*p == ' ')
			p++;
		name = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		len = (size_t)(p - name);
		for (int i = 0; i < 11; i++)
			f[i] = s_u64(&p);
		d = len ? s_disk(self, name, len) : NULL;
		if (d && d->whole && d->slot0 >= 0) {
			/* fields: rd_ios rd_merges rd_sectors rd_ticks wr_ios wr_merges wr_sectors
			 * wr_ticks in_flight io_ticks time_in_queue; sectors are 512 bytes */
			uint64_t v[N_DISK_FIELDS] = { f[0], f[4], f[2] * 512, f[6] * 512, f[9] };
			static const char *const units[N_DISK_FIELDS] = {
				"count", "count", "bytes", "bytes", "ms",
			};

			for (int i = 0; i < N_DISK_FIELDS; i++) {
				s_emit(self, fn, arg, d->slot0 + i,
				    s_name(self, d->slot0 + i, "disk.%s.%s", d->name, s_disk_fields[i]),
				    units[i],
				    VS_KIND_COUNTER, v[i]);
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

int
vs_hoststat_read(vs_hoststat_t *self, vs_hoststat_fn fn, void *arg)
{
	static void (*const parse[F_N])(vs_hoststat_t *, vs_hoststat_fn, void *) = {
		s_stat, s_meminfo, s_vmstat, s_diskstats,
	};
	int rc = 0;

	for (int f = 0; f < F_N; f++) {
		ssize_t n = s_load(self, f);

		if (n < 0) {
			if (!self->reported[f]++)
				vs_warn("host metrics: cannot read %s: %s (reported once)", s_files[f],
				    strerror((int)-n));
			rc = (int)n;
			continue;
		}
		parse[f](self, fn, arg);
	}
	return rc;
}

unsigned vs_hoststat_ncpus(const vs_hoststat_t *self) { return self->ncpus; }
uint64_t vs_hoststat_mem_kib(const vs_hoststat_t *self) { return self->mem_kib; }
