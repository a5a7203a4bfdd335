#include "agentkeys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int
vs_z85_key_ok(const char *s)
{
	uint8_t bin[32];

	if (s == NULL || strlen(s) != VS_Z85_KEY_LEN)
		return 0;
	return zmq_z85_decode(bin, s) != NULL;
}

int
vs_keydom_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > VS_KEYDOM_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int
vs_keyfile_write(const char *path, const char *pub, const char *sec, char *err, size_t errlen)
{
	char buf[256];
	int fd, n, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	n = snprintf(buf, sizeof(buf), "# vscope CURVE key pair (vscope keygen); keep it secret\n"
	    "public-key = %s\nsecret-key = %s\n", pub, sec);
	if (fchmod(fd, 0600) < 0 || write(fd, buf, (size_t)n) != n || fsync(fd) < 0) {
		rc = -(errno ? errno : EIO);
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		unlink(path);
	}
	close(fd);
	return rc;
}

static char *
s_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
		e[-1] = '\0';
		s++;
	}
	return s;
}

int
vs_keyfile_read(const char *path, char *pub_r, char *sec_r, char *err, size_t errlen)
{
	FILE *f;
	char line[512];
	int have_pub = 0, have_sec = 0, lineno = 0, rc = 0;

	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (sec_r) {
		struct stat st;

		/* a secret anyone else can read is no secret: refuse it, as ssh does */
		if (fstat(fileno(f), &st) < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (st.st_mode & (S_IRGRP | S_IROTH)) {
			snprintf(err, errlen, "%s: secret key file is %s-readable (mode %04o); "
			    "chmod 600 it", path, (st.st_mode & S_IROTH) ? "world" : "group",
			    (unsigned)(st.st_mode & 07777));
			rc = -EPERM;
			goto out;
		}
	}
	while (fgets(line, sizeof(line), f)) {
		char *l = s_trim(line), *eq, *v;

		lineno++;
		if (lineno > 64) {
			snprintf(err, errlen, "%s: too long for a key file", path);
			rc = -EFBIG;
			goto out;
		}
		/* a bare key first: Z85 has '#' and '=' in its alphabet */
		if (vs_z85_key_ok(l) && !have_pub) {
			memcpy(pub_r, l, VS_Z85_KEY_LEN + 1);
			have_pub = 1;
			continue;
		}
		if (*l == '\0' || *l == '#')
			continue;
		eq = strchr(l, '=');
		if (eq == NULL) {
			if (!vs_z85_key_ok(l) || have_pub) {
				snprintf(err, errlen, "%s:%d: not a Z85 key", path, lineno);
				rc = -EINVAL;
				goto out;
			}
			memcpy(pub_r, l, VS_Z85_KEY_LEN + 1);
			have_pub = 1;
			continue;
		}
		*eq = '\0';
		v = s_trim(eq + 1);
		l = s_trim(l);
		if (!vs_z85_key_ok(v)) {
			snprintf(err, errlen, "%s:%d: %s is not a Z85 key", path, lineno, l);
			rc = -EINVAL;
			goto out;
		}
		if (!strcmp(l, "public-key")) {
			memcpy(pub_r, v, VS_Z85_KEY_LEN + 1);
			have_pub = 1;
		} else if (!strcmp(l, "secret-key")) {
			if (sec_r)
				memcpy(sec_r, v, VS_Z85_KEY_LEN + 1);
			have_sec = 1;
		} else {
			snprintf(err, errlen, "%s:%d: unknown key \"%.32s\"", path, lineno, l);
			rc = -EINVAL;
			goto out;
		}
	}
	if (!have_pub) {
		snprintf(err, errlen, "%s: no public-key", path);
		rc = -ENOKEY;
	} else if (sec_r && !have_sec) {
		snprintf(err, errlen, "%s: no secret-key", path);
		rc = -ENOKEY;
	}
out:
	fclose(f);
	return rc;
}

int
vs_keyfile_ensure(const char *path, char *pub_r, char *sec_r, int *created_r, char *err,
    size_t errlen)
{
	char pub[VS_Z85_KEY_LEN + 1], sec[VS_Z85_KEY_LEN + 1];
	int rc;

	*created_r = 0;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		if (zmq_curve_keypair(pub, sec) < 0) {
			snprintf(err, errlen, "zmq_curve_keypair: %s", zmq_strerror(errno));
			return -ENOTSUP;
		}
		rc = vs_keyfile_write(path, pub, sec, err, errlen);
		if (rc < 0 && rc != -EEXIST)
			return rc;
		*created_r = rc == 0;
	}
	return vs_keyfile_read(path, pub_r, sec_r, err, errlen);
}

static int
s_read_binding(int dfd, const char *name, char *key_r)
{
	char buf[128];
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *l;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || n == (ssize_t)sizeof(buf) - 1)
		return -EINVAL;
	buf[n] = '\0';
	l = s_trim(buf);
	if (!vs_z85_key_ok(l))
		return -EINVAL;
	memcpy(key_r, l, VS_Z85_KEY_LEN + 1);
	return 0;
}

static int
s_cmp(const void *a, const void *b)
{
	return strcmp(((const vs_agentkey_t *)a)->domain, ((const vs_agentkey_t *)b)->domain);
}

int
vs_agentkeys_load(const char *dir, vs_agentkey_t **keys_r, size_t *n_r, size_t *bad_r,
    char *err, size_t errlen)
{
	DIR *d;
	struct dirent *e;
	vs_agentkey_t *v = NULL;
	size_t n = 0, bad = 0, w = 0;
	int rc = 0;

	*keys_r = NULL;
	*n_r = 0;
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			goto done;
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	v = calloc(VS_AGENTKEYS_MAX, sizeof(*v));
	if (v == NULL) {
		closedir(d);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    strchr(e->d_name, '~') || strstr(e->d_name, ".tmp"))
			continue;
		if (!vs_keydom_ok(e->d_name) || n == VS_AGENTKEYS_MAX ||
		    s_read_binding(dirfd(d), e->d_name, v[n].key) < 0) {
			bad++;
			continue;
		}
		/* vs_keydom_ok checked the length */
		memcpy(v[n].domain, e->d_name, strlen(e->d_name) + 1);
		n++;
	}
	closedir(d);
	/* a key bound to two domains would make the binding ambiguous: refuse it for both */
	for (size_t i = 0; i < n; i++) {
		int dup = 0;

		for (size_t j = 0; j < n && !dup; j++)
			dup = i != j && !strcmp(v[i].key, v[j].key);
		if (dup) {
			bad++;
			continue;
		}
		v[w++] = v[i];
	}
	n = w;
	qsort(v, n, sizeof(*v), s_cmp);
done:
	*keys_r = v;
	*n_r = n;
	if (bad_r)
		*bad_r = bad;
	return 0;
}

int
vs_agentkeys_add(const char *dir, const char *domain, const char *key, char *err,
    size_t errlen)
{
	vs_agentkey_t *v = NULL;
	size_t n = 0;
	char path[4096], tmp[4200], line[64];
	int rc, fd;

	if (!vs_keydom_ok(domain)) {
		snprintf(err, errlen, "bad domain name \"%.64s\": 1-%d of [A-Za-z0-9_.-], not "
		    "starting with '.'", domain, VS_KEYDOM_MAX);
		return -EINVAL;
	}
	if (!vs_z85_key_ok(key)) {
		snprintf(err, errlen, "not a Z85 CURVE public key (40 characters)");
		return -EINVAL;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	if ((rc = vs_agentkeys_load(dir, &v, &n, NULL, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key, key) && strcmp(v[i].domain, domain)) {
			snprintf(err, errlen, "this key is already bound to domain %s", v[i].domain);
			free(v);
			return -EEXIST;
		}
	free(v);
	snprintf(path, sizeof(path), "%s/%s", dir, domain);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, domain);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return rc;
	}
	snprintf(line, sizeof(line), "%s\n", key);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0) {
		rc = -(errno ? errno : EIO);
		snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
		close(fd);
		unlink(tmp);
		return rc;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return 0;
}

int
vs_agentkeys_remove(const char *dir, const char *domain, char *err, size_t errlen)
{
	char path[4096];
	int rc;

	if (!vs_keydom_ok(domain)) {
		snprintf(err, errlen, "bad domain name \"%.64s\"", domain);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, domain);
	if (unlink(path) < 0) {
		rc = -errno;
		snprintf(err, errlen, errno == ENOENT ? "no key for domain %s in %s" : "%s: %s",
		    errno == ENOENT ? domain : path, errno == ENOENT ? dir : strerror(errno));
		return rc;
	}
	return 0;
}
