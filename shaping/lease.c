/*
 * The state file of each rule vscope has in force: DIR/<vif>.rule, key=value lines, written to
 * a temporary file and renamed so a reader (or a restarted vscoped) never sees half of one.
 */
#include "shape.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
s_mkdirs(const char *dir)
{
	char buf[512];

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
vs_shape_state_write(const char *dir, const vs_shape_rule_t *r)
{
	char path[600], tmp[610];
	FILE *f;
	int rc, fd;

	if ((rc = s_mkdirs(dir)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/%s.rule", dir, r->vif);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (f == NULL) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	fprintf(f, "# vscope shaping rule; vscoped removes it when the lease expires\n"
	    "vif=%s\ndomain=%s\nrate=%" PRIu64 "\nceil=%" PRIu64 "\nburst=%u\ndirection=%s\n"
	    "ttl_ns=%" PRId64 "\nexpires_ns=%" PRId64 "\ncreated_ingress=%d\n",
	    r->vif, r->domain, r->rate_bps, r->ceil_bps, r->burst, vs_shape_dir_name(r->dir),
	    r->ttl_ns, r->expires_ns, r->created_ingress);
	if (fflush(f) != 0 || fsync(fd) != 0) {
		rc = -errno;
		fclose(f);
		unlink(tmp);
		return rc;
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
}

int
vs_shape_state_read(const char *path, vs_shape_rule_t *r)
{
	char line[256], err[128];
	FILE *f = fopen(path, "re");
	int n = 0;

	if (f == NULL)
		return -errno;
	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *v;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || eq == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (!strcmp(line, "vif") && strlen(v) < sizeof(r->vif))
			snprintf(r->vif, sizeof(r->vif), "%s", v), n++;
		else if (!strcmp(line, "domain"))
			snprintf(r->domain, sizeof(r->domain), "%s", v);
		else if (!strcmp(line, "rate"))
			r->rate_bps = strtoull(v, NULL, 10);
		else if (!strcmp(line, "ceil"))
			r->ceil_bps = strtoull(v, NULL, 10);
		else if (!strcmp(line, "burst"))
			r->burst = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(line, "direction"))
			vs_shape_parse_dir(v, &r->dir, err, sizeof(err));
		else if (!strcmp(line, "ttl_ns"))
			r->ttl_ns = strtoll(v, NULL, 10);
		else if (!strcmp(line, "expires_ns"))
			r->expires_ns = strtoll(v, NULL, 10);
		else if (!strcmp(line, "created_ingress"))
			r->created_ingress = atoi(v) != 0;
	}
	fclose(f);
	return n == 1 && r->vif[0] ? 0 : -EBADMSG;
}

int
vs_shape_state_remove(const char *dir, const char *vif)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s.rule", dir, vif);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int
vs_shape_state_foreach(const char *dir, int (*fn)(void *arg, const vs_shape_rule_t *r,
    const char *path), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char path[600];
		vs_shape_rule_t r;

		if (l < 6 || strcmp(e->d_name + l - 5, ".rule") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (vs_shape_state_read(path, &r) < 0)
			continue;
		n++;
		if (fn && fn(arg, &r, path) != 0)
			break;
	}
	closedir(d);
	return n;
}
