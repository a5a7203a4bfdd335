#include "hsperf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROLOGUE 32
#define ENTRY_HDR 20

static uint32_t
s_u32(const uint8_t *p, int le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24 : (uint32_t)p[3] | (uint32_t)p[2] << 8 |
	    (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static int64_t
s_i64(const uint8_t *p, int le)
{
	uint64_t lo = s_u32(p + (le ? 0 : 4), le), hi = s_u32(p + (le ? 4 : 0), le);

	return (int64_t)(hi << 32 | lo);
}

int
vs_hsperf_parse(const uint8_t *buf, size_t len, vs_hsperf_fn fn, void *arg,
    char *err, size_t errlen)
{
	uint32_t used, off, n;
	int le, rc;

	if (len < PROLOGUE) {
		snprintf(err, errlen, "%zu bytes: shorter than the %d-byte prologue", len, PROLOGUE);
		return -EINVAL;
	}
	/* the magic is always written big-endian */
	if (s_u32(buf, 0) != 0xcafec0c0u) {
		snprintf(err, errlen, "bad magic 0x%08x", s_u32(buf, 0));
		return -EINVAL;
	}
	if (buf[4] > 1) {
		snprintf(err, errlen, "bad byte order %u", buf[4]);
		return -EINVAL;
	}
	le = buf[4] == 1;
	if (buf[5] != 2) {
		snprintf(err, errlen, "unsupported version %u.%u", buf[5], buf[6]);
		return -EPROTO;
	}
	used = s_u32(buf + 8, le);
	off = s_u32(buf + 24, le);
	n = s_u32(buf + 28, le);
	if (used > len || used < PROLOGUE) {
		snprintf(err, errlen, "used size %u outside the file's %zu bytes", used, len);
		return -EINVAL;
	}
	if (off < PROLOGUE || off > used) {
		snprintf(err, errlen, "entry offset %u outside %d..%u", off, PROLOGUE, used);
		return -EINVAL;
	}
	if (n > VS_HSPERF_MAX_ENTRIES) {
		snprintf(err, errlen, "%u entries (at most %d)", n, VS_HSPERF_MAX_ENTRIES);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = buf + off;
		uint32_t elen, noff, vlen, doff;
		vs_hsperf_entry_t ent;
		size_t dsize;

		if (used - off < ENTRY_HDR) {
			snprintf(err, errlen, "entry %u: header at %u past the used size %u", i, off,
			    used);
			return -EINVAL;
		}
		elen = s_u32(e, le);
		noff = s_u32(e + 4, le);
		vlen = s_u32(e + 8, le);
		doff = s_u32(e + 16, le);
		if (elen < ENTRY_HDR || elen > used - off || elen % 4 != 0) {
			snprintf(err, errlen, "entry %u at %u: length %u invalid", i, off, elen);
			return -EINVAL;
		}
		if (noff < ENTRY_HDR || noff >= elen || memchr(e + noff, 0, elen - noff) == NULL) {
			snprintf(err, errlen, "entry %u at %u: name not inside the entry", i, off);
			return -EINVAL;
		}
		memset(&ent, 0, sizeof(ent));
		ent.name = (const char *)e + noff;
		ent.type = (char)e[12];
		ent.units = e[14];
		dsize = ent.type == 'J' ? 8 : ent.type == 'B' ? 1 : ent.type == 'I' ? 4 : 0;
		if (vlen > 0)
			dsize *= vlen;
		if (dsize == 0 || doff < ENTRY_HDR || doff > elen || dsize > elen - doff) {
			snprintf(err, errlen, "entry %u (%.40s): data (type '%c', offset %u, %zu "
			    "bytes) not inside the entry", i, ent.name, ent.type >= 32 &&
			    ent.type < 127 ? ent.type : '?', doff, dsize);
			return -EINVAL;
		}
		if (ent.type == 'J' && vlen == 0) {
			ent.value = s_i64(e + doff, le);
		} else if (ent.type == 'B' && vlen > 0) {
			const void *z = memchr(e + doff, 0, vlen);
			ent.str = (const char *)e + doff;
			ent.strlen = z ? (size_t)((const uint8_t *)z - (e + doff)) : vlen;
		} else {
			ent.type = 0;           /* other kinds: skipped, but were checked */
		}
		if (ent.type && (rc = fn(arg, &ent)) != 0)
			return rc;
		off += elen;
	}
	return 0;
}

static int
s_index(const char *s, const char *prefix, long max, const char **rest_r)
{
	size_t pl = strlen(prefix);
	char *end;
	long v;

	if (strncmp(s, prefix, pl) != 0 || s[pl] < '0' || s[pl] > '9')
		return -1;
	v = strtol(s + pl, &end, 10);
	if (v < 0 || v >= max || *end != '.')
		return -1;
	*rest_r = end + 1;
	return (int)v;
}

static void
s_clean(char *dst, size_t len, const char *s, size_t slen)
{
	size_t i, k = 0;

	for (i = 0; i < slen && k + 1 < len; i++) {
		char c = s[i];
		int okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-';
		dst[k++] = okc ? c : '_';
	}
	dst[k] = 0;
}

static int
s_jvm_entry(void *arg, const vs_hsperf_entry_t *e)
{
	vs_jvm_t *j = arg;
	const char *rest, *r2;
	int i, s;

	if (strcmp(e->name, "sun.os.hrt.frequency") == 0 && e->type == 'J') {
		j->hrt_frequency = e->value;
	} else if (strcmp(e->name, "java.threads.live") == 0 && e->type == 'J') {
		j->threads_live = e->value;
	} else if (strcmp(e->name, "sun.rt.safepointTime") == 0 && e->type == 'J') {
		j->safepoint_ticks = e->value;
	} else if (strcmp(e->name, "sun.rt.safepoints") == 0 && e->type == 'J') {
		j->safepoints = e->value;
	} else if ((i = s_index(e->name, "sun.gc.collector.", VS_HSPERF_MAX_GC, &rest)) >= 0) {
		if ((size_t)i >= j->n_gc)
			j->n_gc = (size_t)i + 1;
		if (strcmp(rest, "invocations") == 0 && e->type == 'J')
			j->gc[i].invocations = e->value;
		else if (strcmp(rest, "time") == 0 && e->type == 'J')
			j->gc[i].time_ticks = e->value;
		else if (strcmp(rest, "name") == 0 && e->type == 'B')
			s_clean(j->gc[i].name, sizeof(j->gc[i].name), e->str, e->strlen);
	} else if ((i = s_index(e->name, "sun.gc.generation.", VS_HSPERF_MAX_GEN, &rest)) >= 0) {
		if ((size_t)i >= j->n_gen)
			j->n_gen = (size_t)i + 1;
		if (strcmp(rest, "capacity") == 0 && e->type == 'J')
			j->gen[i].capacity = e->value;
		else if (strcmp(rest, "name") == 0 && e->type == 'B')
			s_clean(j->gen[i].name, sizeof(j->gen[i].name), e->str, e->strlen);
		else if ((s = s_index(rest, "space.", 64, &r2)) >= 0 && strcmp(r2, "used") == 0 &&
		    e->type == 'J')
			j->gen[i].used += e->value;
	}
	return 0;
}

int
vs_hsperf_jvm(const uint8_t *buf, size_t len, vs_jvm_t *j_r, char *err, size_t errlen)
{
	int rc;

	memset(j_r, 0, sizeof(*j_r));
	if ((rc = vs_hsperf_parse(buf, len, s_jvm_entry, j_r, err, errlen)) < 0)
		return rc;
	if (j_r->hrt_frequency <= 0) {
		snprintf(err, errlen, "no valid sun.os.hrt.frequency");
		return -EINVAL;
	}
	for (size_t i = 0; i < j_r->n_gc; i++)
		if (j_r->gc[i].name[0] == 0)
			snprintf(j_r->gc[i].name, sizeof(j_r->gc[i].name), "collector%zu", i);
	for (size_t i = 0; i < j_r->n_gen; i++)
		if (j_r->gen[i].name[0] == 0)
			snprintf(j_r->gen[i].name, sizeof(j_r->gen[i].name), "gen%zu", i);
	return 0;
}

int
vs_hsperf_read_file(const char *path, vs_jvm_t *j_r, char *err, size_t errlen)
{
	struct stat st;
	void *m;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < PROLOGUE ||
	    st.st_size > VS_HSPERF_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of %d..%d bytes", path, PROLOGUE,
		    VS_HSPERF_MAX_FILE);
		close(fd);
		return -EINVAL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		return rc;
	}
	/* a JVM truncating the file under us would SIGBUS: HotSpot never does (fixed size) */
	rc = vs_hsperf_jvm(m, (size_t)st.st_size, j_r, err, errlen);
	munmap(m, (size_t)st.st_size);
	return rc;
}

int
vs_hsperf_scan(const char *dir, vs_jvm_fn fn, void *arg, uint64_t *skipped_r)
{
	DIR *d = opendir(dir), *u;
	struct dirent *de, *pe;
	char path[1024], err[256];
	int n = 0;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "hsperfdata_", 11) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((u = opendir(path)) == NULL)
			continue;
		while ((pe = readdir(u)) != NULL && n < 256) {
			char *end;
			long pid = strtol(pe->d_name, &end, 10);
			vs_jvm_t j;

			if (pe->d_name[0] < '1' || pe->d_name[0] > '9' || *end != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", dir, de->d_name, pe->d_name);
			if (vs_hsperf_read_file(path, &j, err, sizeof(err)) < 0) {
				(*skipped_r)++;
				continue;
			}
			/* a file left by a JVM that died without cleaning up */
			if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
				(*skipped_r)++;
				continue;
			}
			fn(arg, pid, &j);
			n++;
		}
		closedir(u);
	}
	closedir(d);
	return n;
}
