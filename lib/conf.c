#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_LEN 4096
#define FILE_MAX_LEN (1024 * 1024)

static char *
s_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int
s_line(char *line, char **key_r, char **value_r, char *err, size_t errlen)
{
	char *p = s_trim(line), *eq, *key, *value;

	if (*p == '\0' || *p == '#')
		return 1;
	eq = strchr(p, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "expected \"key = value\"");
		return -EINVAL;
	}
	*eq = '\0';
	key = s_trim(p);
	value = s_trim(eq + 1);
	if (*key == '\0') {
		snprintf(err, errlen, "missing key before '='");
		return -EINVAL;
	}
	for (char *k = key; *k; k++)
		if (!(islower((unsigned char)*k) || isdigit((unsigned char)*k) || *k == '-')) {
			snprintf(err, errlen, "bad key \"%.64s\"", key);
			return -EINVAL;
		}
	/* a '#' after the value starts a comment unless the value is quoted */
	if (*value == '"') {
		char *end = strrchr(value + 1, '"');
		if (end == NULL || *s_trim(end + 1) != '\0') {
			snprintf(err, errlen, "unterminated quoted value for %s", key);
			return -EINVAL;
		}
		*end = '\0';
		value++;
	} else {
		char *hash = strchr(value, '#');
		if (hash != NULL) {
			*hash = '\0';
			value = s_trim(value);
		}
	}
	*key_r = key;
	*value_r = value;
	return 0;
}

int
vs_conf_read(const char *path, vs_conf_fn fn, void *arg, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN + 2], msg[256];
	FILE *f;
	unsigned lineno = 0;
	size_t total = 0;
	int rc = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		char *key, *value;
		int r;

		lineno++;
		total += n;
		if (total > FILE_MAX_LEN) {
			snprintf(err, errlen, "%s:%u: file larger than %d bytes", path, lineno,
			    FILE_MAX_LEN);
			rc = -EFBIG;
			goto out;
		}
		if (n > LINE_MAX_LEN || (n == LINE_MAX_LEN && line[n - 1] != '\n')) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
			    LINE_MAX_LEN - 1);
			rc = -EINVAL;
			goto out;
		}
		/* fgets stops at NUL silently; catch a NUL before the newline */
		if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
			rc = -EINVAL;
			goto out;
		}
		msg[0] = '\0';
		r = s_line(line, &key, &value, msg, sizeof(msg));
		if (r == 1)
			continue;
		if (r == 0)
			r = fn(arg, key, value, msg, sizeof(msg));
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg[0] ? msg : strerror(-r));
			rc = r;
			goto out;
		}
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
out:
	fclose(f);
	return rc;
}

int
vs_conf_bool(const char *v, int *b_r)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on")) {
		*b_r = 1;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off")) {
		*b_r = 0;
		return 0;
	}
	return -EINVAL;
}

int
vs_conf_uint(const char *v, uint64_t min, uint64_t max, uint64_t *u_r)
{
	char *end;
	unsigned long long u;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	u = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return errno ? -ERANGE : -EINVAL;
	if (u < min || u > max)
		return -ERANGE;
	*u_r = u;
	return 0;
}

int
vs_conf_size(const char *v, uint64_t *bytes_r)
{
	char *end;
	unsigned long long u;
	uint64_t mult = 1;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	u = strtoull(v, &end, 10);
	if (errno != 0)
		return -ERANGE;
	if (*end != '\0') {
		switch (*end) {
		case 'k': case 'K': mult = 1ULL << 10; break;
		case 'm': case 'M': mult = 1ULL << 20; break;
		case 'g': case 'G': mult = 1ULL << 30; break;
		default: return -EINVAL;
		}
		if (end[1] != '\0' && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
			return -EINVAL;
	}
	if (u > UINT64_MAX / mult)
		return -ERANGE;
	*bytes_r = u * mult;
	return 0;
}
