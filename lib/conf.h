/*
 * A "key = value" configuration file reader: '#' starts a comment, blank lines are ignored,
 * keys are [a-z0-9-], values are the rest of the line with surrounding blanks removed
 * (optionally in double quotes). Every error names the file and line.
 */
#ifndef VS_CONF_H
#define VS_CONF_H

#include <stddef.h>
#include <stdint.h>

/* Called for each key; returns 0 or -errno with a message in err (without file:line). */
typedef int (*vs_conf_fn)(void *arg, const char *key, const char *value, char *err, size_t errlen);

/* Reads path line by line. 0, or -errno with "PATH:LINE: message" in err. A missing file is
 * -ENOENT. Lines longer than 4095 bytes, NUL bytes and files over 1 MiB are rejected. */
int vs_conf_read(const char *path, vs_conf_fn fn, void *arg, char *err, size_t errlen);

/* Value parsers for callbacks: 0 or -EINVAL/-ERANGE. */
int vs_conf_bool(const char *v, int *b_r);
int vs_conf_size(const char *v, uint64_t *bytes_r);      /* 64M, 1G, 512k, 4096 */
int vs_conf_uint(const char *v, uint64_t min, uint64_t max, uint64_t *u_r);

#endif
