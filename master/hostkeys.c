#include "hostkeys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int
s_cmp(const void *a, const void *b)
{
	return strcmp(((const vs_hostkey_t *)a)->host, ((const vs_hostkey_t *)b)->host);
}

/* One HOST.pub: its key into k; -1 when it is no key file. */
static int
s_read_one(int dfd, const char *dir, const char *name, vs_hostkey_t *k)
{
	char path[4096], pub[VS_Z85_KEY_LEN + 1], err[512];
	size_t len = strlen(name);
	struct stat st;

	if (len <= 4 || len - 4 > VS_KEYDOM_MAX)
		return -1;
	memcpy(k->host, name, len - 4);
	k->host[len - 4] = '\0';
	if (!vs_keydom_ok(k->host))
		return -1;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (vs_keyfile_read(path, pub, NULL, err, sizeof(err)) < 0)
		return -1;
	memcpy(k->key, pub, sizeof(pub));
	if (zmq_z85_decode(k->bin, pub) == NULL)
		return -1;
	return 0;
}

int
vs_hostkeys_load(const char *dir, vs_hostkey_t **keys_r, size_t *n_r, size_t *bad_r,
    char *err, size_t errlen)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	vs_hostkey_t *v;
	size_t n = 0, bad = 0, w = 0;
	int fd, rc;

	*keys_r = NULL;
	*n_r = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "host key directory %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		if (st.st_uid != 0)
			snprintf(err, errlen, "host key directory %s: owned by uid %u, not root",
			    dir, (unsigned)st.st_uid);
		else
			snprintf(err, errlen, "host key directory %s: %s-writable (mode %04o); "
			    "it must be root's and not writable by group or others", dir,
			    (st.st_mode & S_IWOTH) ? "world" : "group",
			    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		snprintf(err, errlen, "host key directory %s: %s", dir, strerror(errno));
		close(fd);
		return rc;
	}
	v = calloc(VS_HOSTKEYS_MAX, sizeof(*v));
	if (v == NULL) {
		closedir(d);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 4, ".pub") || e->d_name[0] == '.')
			continue;
		if (n == VS_HOSTKEYS_MAX || s_read_one(dirfd(d), dir, e->d_name, &v[n]) < 0) {
			bad++;
			continue;
		}
		n++;
	}
	closedir(d);
	/* a key of two hosts would let either register as the other: refuse it for both */
	for (size_t i = 0; i < n; i++) {
		int dup = 0;

		for (size_t j = 0; j < n && !dup; j++)
			dup = i != j && !memcmp(v[i].bin, v[j].bin, sizeof(v[i].bin));
		if (dup) {
			bad++;
			continue;
		}
		v[w++] = v[i];
	}
	n = w;
	qsort(v, n, sizeof(*v), s_cmp);
	*keys_r = v;
	*n_r = n;
	if (bad_r)
		*bad_r = bad;
	return 0;
}

const vs_hostkey_t *
vs_hostkeys_find(const vs_hostkey_t *keys, size_t n, const uint8_t *bin)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(keys[i].bin, bin, sizeof(keys[i].bin)))
			return &keys[i];
	return NULL;
}

const vs_hostkey_t *
vs_hostkeys_by_host(const vs_hostkey_t *keys, size_t n, const char *host)
{
	vs_hostkey_t k;

	if (strlen(host) >= sizeof(k.host))
		return NULL;
	snprintf(k.host, sizeof(k.host), "%s", host);
	return bsearch(&k, keys, n, sizeof(*keys), s_cmp);
}
