/*
 * Parser specifications: the spec-file reader (mscope-specs(5)), the built-in directory,
 * and format detection.
 */
#include "spec_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_SPEC_MAX_BYTES (256 * 1024)
#define S_LINE_MAX 4096

int
vs_mrx_compile(vs_mrx_t *rx, const char *src, char *err, size_t errlen)
{
	int ec, n = 0, esz = 0;
	PCRE2_SIZE eoff;
	PCRE2_SPTR tab;

	memset(rx, 0, sizeof(*rx));
	if ((rx->src = strdup(src)) == NULL)
		return -ENOMEM;
	rx->code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_DUPNAMES, &ec,
	    &eoff, NULL);
	if (rx->code == NULL) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "bad regular expression at offset %zu: %s", (size_t)eoff,
		    (char *)msg);
		vs_mrx_free(rx);
		return -EINVAL;
	}
	/* JIT is an optimisation: without it (no executable memory) matching still works */
	(void)pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE);
	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMECOUNT, &n);
	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMEENTRYSIZE, &esz);
	pcre2_pattern_info(rx->code, PCRE2_INFO_NAMETABLE, &tab);
	if (n > VS_MSPEC_MAX_GROUPS) {
		snprintf(err, errlen, "more than %d named groups", VS_MSPEC_MAX_GROUPS);
		vs_mrx_free(rx);
		return -E2BIG;
	}
	for (int i = 0; i < n; i++) {
		const unsigned char *e = tab + (size_t)i * (size_t)esz;
		const char *nm = (const char *)e + 2;
		char col[128];
		rx->gnum[i] = (e[0] << 8) | e[1];
		if (nm[0] == '_') {
			rx->gname[i] = strdup(nm);      /* "_x": matched, not stored */
		} else {
			vs_mscope_colname(nm, strlen(nm), col, sizeof(col));
			rx->gname[i] = strdup(col);
		}
		if (rx->gname[i] == NULL) {
			vs_mrx_free(rx);
			return -ENOMEM;
		}
		rx->ngroups++;
	}
	return 0;
}

void
vs_mrx_free(vs_mrx_t *rx)
{
	pcre2_code_free(rx->code);
	for (int i = 0; i < rx->ngroups; i++)
		free(rx->gname[i]);
	free(rx->src);
	memset(rx, 0, sizeof(*rx));
}

vs_mspec_t *
vs_mspec_alloc(void)
{
	vs_mspec_t *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->detect_lines = 20;
	if ((s->path = strdup("")) == NULL || (s->kind = strdup("resource")) == NULL ||
	    (s->device_col = strdup("device")) == NULL) {
		vs_mspec_destroy(&s);
		return NULL;
	}
	return s;
}

void
vs_mspec_destroy(vs_mspec_t **self_p)
{
	vs_mspec_t *s = self_p != NULL ? *self_p : NULL;

	if (s == NULL)
		return;
	free(s->name);
	free(s->description);
	free(s->path);
	free(s->kind);
	free(s->table);
	free(s->logformat);
	for (int i = 0; i < s->nmap; i++) {
		free(s->map_key[i]);
		free(s->map_name[i]);
	}
	for (int i = 0; i < s->ndetect; i++)
		vs_mrx_free(&s->detect[i]);
	free(s->detect_name);
	for (int i = 0; i < s->ncontext; i++)
		vs_mrx_free(&s->context[i]);
	for (int i = 0; i < s->nskip; i++)
		vs_mrx_free(&s->skip[i]);
	for (int i = 0; i < s->nrestart; i++)
		vs_mrx_free(&s->restart[i]);
	for (int i = 0; i < s->nheader; i++)
		vs_mrx_free(&s->header[i]);
	for (int i = 0; i < s->nrecord; i++) {
		vs_mrx_free(&s->record[i]);
		free(s->record_table[i]);
	}
	if (s->has_unpivot)
		vs_mrx_free(&s->unpivot);
	free(s->device_col);
	for (int i = 0; i < s->nnull; i++)
		free(s->nulls[i]);
	for (int i = 0; i < s->ntime; i++) {
		free(s->times[i].col);
		free(s->times[i].tmpl);
		for (int k = 0; k < s->times[i].nfmt; k++)
			free(s->times[i].fmts[k]);
	}
	free(s->zone);
	free(s->host);
	for (int i = 0; i < s->ndrop; i++)
		free(s->drop[i]);
	free(s->convert);
	free(s->convert_format);
	free(s->structure);
	free(s->records);
	free(s->record_context);
	free(s->record_index);
	free(s);
	*self_p = NULL;
}

const char *
vs_mspec_name(const vs_mspec_t *s)
{
	return s->name != NULL ? s->name : "";
}

const char *
vs_mspec_description(const vs_mspec_t *s)
{
	return s->description != NULL ? s->description : "";
}

const char *
vs_mspec_path(const vs_mspec_t *s)
{
	return s->path;
}

static int
s_str(char **dst, const char *v)
{
	char *n = strdup(v);

	if (n == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static int
s_ident(const char *v, char *err, size_t errlen, const char *what)
{
	if (*v == '\0' || strlen(v) > 48)
		goto bad;
	for (const char *p = v; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' ||
		    (*p == '-' && what[0] == 'n')))
			goto bad;
	return 0;
bad:
	snprintf(err, errlen, "bad %s \"%.60s\": 1 to 48 of [a-z0-9_]", what, v);
	return -EINVAL;
}

static int
s_rx_add(vs_mrx_t *arr, int *n, const char *v, char *err, size_t errlen)
{
	int rc;

	if (*n >= VS_MSPEC_MAX_RX) {
		snprintf(err, errlen, "more than %d expressions of this kind", VS_MSPEC_MAX_RX);
		return -E2BIG;
	}
	rc = vs_mrx_compile(&arr[*n], v, err, errlen);
	if (rc == 0)
		(*n)++;
	return rc;
}

static int
s_words(char **arr, int *n, const char *v, char *err, size_t errlen)
{
	const char *p = v;

	while (*p) {
		size_t l;
		while (*p == ' ' || *p == '\t')
			p++;
		l = strcspn(p, " \t");
		if (l == 0)
			break;
		if (*n >= VS_MSPEC_MAX_WORDS) {
			snprintf(err, errlen, "more than %d words", VS_MSPEC_MAX_WORDS);
			return -E2BIG;
		}
		if ((arr[*n] = strndup(p, l)) == NULL)
			return -ENOMEM;
		(*n)++;
		p += l;
	}
	return 0;
}

static int
s_int(const char *v, int min, int max, int *r, char *err, size_t errlen)
{
	char *end;
	long l = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || l < min || l > max) {
		snprintf(err, errlen, "expected a number from %d to %d, not \"%.40s\"", min, max, v);
		return -EINVAL;
	}
	*r = (int)l;
	return 0;
}

static int
s_bool(const char *v, int *r, char *err, size_t errlen)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*r = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*r = 0;
	else {
		snprintf(err, errlen, "expected yes or no, not \"%.40s\"", v);
		return -EINVAL;
	}
	return 0;
}

static int
s_template_ok(const char *t, char *err, size_t errlen)
{
	for (const char *p = t; (p = strstr(p, "${")) != NULL; p += 2)
		if (strchr(p, '}') == NULL) {
			snprintf(err, errlen, "unterminated ${ in \"%.60s\"", t);
			return -EINVAL;
		}
	return 0;
}

int
vs_mspec_set(vs_mspec_t *s, const char *key, const char *v, char *err, size_t errlen)
{
	int rc;

	if (strcmp(key, "name") == 0) {
		if ((rc = s_ident(v, err, errlen, "name")) < 0)
			return rc;
		return s_str(&s->name, v);
	}
	if (strcmp(key, "description") == 0)
		return s_str(&s->description, v);
	if (strcmp(key, "kind") == 0) {
		if (strcmp(v, "resource") != 0 && strcmp(v, "event") != 0) {
			snprintf(err, errlen, "kind is resource or event, not \"%.40s\"", v);
			return -EINVAL;
		}
		return s_str(&s->kind, v);
	}
	if (strcmp(key, "table") == 0) {
		if ((rc = s_ident(v, err, errlen, "table")) < 0)
			return rc;
		return s_str(&s->table, v);
	}
	if (strcmp(key, "table-from-header") == 0)
		return s_int(v, 0, 8, &s->table_tokens, err, errlen);
	if (strcmp(key, "table-header-skip") == 0)
		return s_int(v, 0, 16, &s->table_skip, err, errlen);
	if (strcmp(key, "table-map") == 0) {
		char *k = NULL, *n = NULL;
		int nw = 0;
		char *w[VS_MSPEC_MAX_WORDS];
		if ((rc = s_words(w, &nw, v, err, errlen)) < 0)
			goto map_out;
		if (nw != 2) {
			snprintf(err, errlen, "table-map is \"KEY TABLE\"");
			rc = -EINVAL;
			goto map_out;
		}
		if ((rc = s_ident(w[1], err, errlen, "table")) < 0)
			goto map_out;
		if (s->nmap >= 64) {
			snprintf(err, errlen, "more than 64 table-map lines");
			rc = -E2BIG;
			goto map_out;
		}
		k = w[0], n = w[1];
		w[0] = w[1] = NULL;
		s->map_key[s->nmap] = k;
		s->map_name[s->nmap++] = n;
map_out:
		for (int i = 0; i < nw; i++)
			free(w[i]);
		return rc;
	}
	if (strcmp(key, "detect") == 0)
		return s_rx_add(s->detect, &s->ndetect, v, err, errlen);
	if (strcmp(key, "detect-name") == 0)
		return s_str(&s->detect_name, v);
	if (strcmp(key, "detect-magic") == 0) {
		size_t l = strlen(v);
		if (l == 0 || l % 2 || l / 2 > sizeof(s->magic)) {
			snprintf(err, errlen, "detect-magic is 1 to 16 bytes in hex");
			return -EINVAL;
		}
		for (size_t i = 0; i < l / 2; i++) {
			unsigned x;
			if (!isxdigit((unsigned char)v[2 * i]) ||
			    !isxdigit((unsigned char)v[2 * i + 1]) ||
			    sscanf(v + 2 * i, "%2x", &x) != 1) {
				snprintf(err, errlen, "detect-magic: bad hex \"%.40s\"", v);
				return -EINVAL;
			}
			s->magic[i] = (unsigned char)x;
		}
		s->magic_len = l / 2;
		return 0;
	}
	if (strcmp(key, "detect-record") == 0)
		return s_bool(v, &s->detect_record, err, errlen);
	if (strcmp(key, "detect-lines") == 0)
		return s_int(v, 1, 1000, &s->detect_lines, err, errlen);
	if (strcmp(key, "context") == 0)
		return s_rx_add(s->context, &s->ncontext, v, err, errlen);
	if (strcmp(key, "skip") == 0)
		return s_rx_add(s->skip, &s->nskip, v, err, errlen);
	if (strcmp(key, "restart") == 0)
		return s_rx_add(s->restart, &s->nrestart, v, err, errlen);
	if (strcmp(key, "header") == 0)
		return s_rx_add(s->header, &s->nheader, v, err, errlen);
	if (strcmp(key, "record") == 0)
		return s_rx_add(s->record, &s->nrecord, v, err, errlen);
	if (strcmp(key, "record-table") == 0) {
		if (s->nrecord == 0 || s->record_table[s->nrecord - 1] != NULL) {
			snprintf(err, errlen, "record-table names the table of the record line before"
			    " it (once)");
			return -EINVAL;
		}
		if ((rc = s_ident(v, err, errlen, "table")) < 0)
			return rc;
		return s_str(&s->record_table[s->nrecord - 1], v);
	}
	if (strcmp(key, "unpivot") == 0) {
		if (s->has_unpivot) {
			snprintf(err, errlen, "unpivot given twice");
			return -EINVAL;
		}
		if ((rc = vs_mrx_compile(&s->unpivot, v, err, errlen)) == 0)
			s->has_unpivot = 1;
		return rc;
	}
	if (strcmp(key, "device-column") == 0) {
		if ((rc = s_ident(v, err, errlen, "column")) < 0)
			return rc;
		return s_str(&s->device_col, v);
	}
	if (strcmp(key, "separator") == 0) {
		if (strcmp(v, "space") == 0)
			s->sep = 0;
		else if (strcmp(v, "tab") == 0)
			s->sep = '\t';
		else if (strlen(v) == 1 && *v != ' ')
			s->sep = *v;
		else {
			snprintf(err, errlen, "separator is space, tab or one character");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "null") == 0)
		return s_words(s->nulls, &s->nnull, v, err, errlen);
	if (strcmp(key, "drop") == 0)
		return s_words(s->drop, &s->ndrop, v, err, errlen);
	if (strcmp(key, "suffix") == 0) {
		char c;
		double m;
		char extra;
		if (sscanf(v, "%c %lf %c", &c, &m, &extra) != 2 || !isalpha((unsigned char)c) ||
		    !(m > 0) || m > 1e18) {
			snprintf(err, errlen, "suffix is \"LETTER MULTIPLIER\" (K 1024)");
			return -EINVAL;
		}
		if (s->nsuffix >= VS_MSPEC_MAX_WORDS) {
			snprintf(err, errlen, "too many suffixes");
			return -E2BIG;
		}
		s->suffix[s->nsuffix] = c;
		s->suffix_mul[s->nsuffix++] = m;
		return 0;
	}
	if (strcmp(key, "time") == 0) {
		vs_mtime_spec_t *t;
		size_t l = strcspn(v, " \t");
		const char *tmpl = v + l;
		char col[64];
		if (s->ntime >= VS_MSPEC_MAX_TIMES) {
			snprintf(err, errlen, "more than %d time lines", VS_MSPEC_MAX_TIMES);
			return -E2BIG;
		}
		while (*tmpl == ' ' || *tmpl == '\t')
			tmpl++;
		if (l == 0 || l >= sizeof(col) || *tmpl == '\0') {
			snprintf(err, errlen, "time is \"COLUMN TEMPLATE\" (time ${date} ${time})");
			return -EINVAL;
		}
		memcpy(col, v, l);
		col[l] = '\0';
		if ((rc = s_ident(col, err, errlen, "column")) < 0 ||
		    (rc = s_template_ok(tmpl, err, errlen)) < 0)
			return rc;
		t = &s->times[s->ntime];
		if ((t->col = strdup(col)) == NULL || (t->tmpl = strdup(tmpl)) == NULL)
			return -ENOMEM;
		s->ntime++;
		return 0;
	}
	if (strcmp(key, "time-format") == 0) {
		vs_mtime_spec_t *t;
		if (s->ntime == 0) {
			snprintf(err, errlen, "time-format before any time line");
			return -EINVAL;
		}
		t = &s->times[s->ntime - 1];
		if (t->nfmt >= VS_MSPEC_MAX_FMTS || strlen(v) > 60 || *v == '\0') {
			snprintf(err, errlen, "at most %d time-formats of up to 60 bytes",
			    VS_MSPEC_MAX_FMTS);
			return -EINVAL;
		}
		if ((t->fmts[t->nfmt] = strdup(v)) == NULL)
			return -ENOMEM;
		t->nfmt++;
		return 0;
	}
	if (strcmp(key, "zone") == 0) {
		int off;
		if (strstr(v, "${") == NULL && strcmp(v, "local") != 0 &&
		    vs_mzone_parse(v, &off) < 0) {
			snprintf(err, errlen, "zone is UTC, +HHMM, local or a ${field}");
			return -EINVAL;
		}
		if ((rc = s_template_ok(v, err, errlen)) < 0)
			return rc;
		return s_str(&s->zone, v);
	}
	if (strcmp(key, "host") == 0) {
		if ((rc = s_template_ok(v, err, errlen)) < 0)
			return rc;
		return s_str(&s->host, v);
	}
	if (strcmp(key, "structure") == 0) {
		if (strcmp(v, "json") != 0 && strcmp(v, "xml") != 0) {
			snprintf(err, errlen, "structure is json or xml");
			return -EINVAL;
		}
		return s_str(&s->structure, v);
	}
	if (strcmp(key, "records") == 0)
		return s_str(&s->records, v);
	if (strcmp(key, "record-context") == 0)
		return s_str(&s->record_context, v);
	if (strcmp(key, "record-index") == 0) {
		if ((rc = s_ident(v, err, errlen, "column")) < 0)
			return rc;
		return s_str(&s->record_index, v);
	}
	if (strcmp(key, "unmatched") == 0) {
		if (strcmp(v, "skip") != 0 && strcmp(v, "error") != 0) {
			snprintf(err, errlen, "unmatched is skip or error");
			return -EINVAL;
		}
		s->unmatched_skip = strcmp(v, "skip") == 0;
		return 0;
	}
	if (strcmp(key, "rollover") == 0)
		return s_bool(v, &s->rollover, err, errlen);
	if (strcmp(key, "convert") == 0)
		return s_str(&s->convert, v);
	if (strcmp(key, "convert-format") == 0) {
		if ((rc = s_ident(v, err, errlen, "name")) < 0)
			return rc;
		return s_str(&s->convert_format, v);
	}
	if (strcmp(key, "logformat") == 0) {
		/* the record, time and field rules come from the LogFormat (logformat.c) */
		extern int vs_mspec_apply_logformat(vs_mspec_t *s, const char *lf, char *err,
		    size_t errlen);
		return vs_mspec_apply_logformat(s, v, err, errlen);
	}
	snprintf(err, errlen, "unknown key \"%.40s\"", key);
	return -EINVAL;
}

int
vs_mspec_finish(vs_mspec_t *s, char *err, size_t errlen)
{
	if (s->name == NULL) {
		snprintf(err, errlen, "no name");
		return -EINVAL;
	}
	if (s->convert != NULL) {
		if (s->convert_format == NULL) {
			snprintf(err, errlen, "convert without convert-format");
			return -EINVAL;
		}
		return 0;
	}
	if (s->structure != NULL && s->records == NULL) {
		snprintf(err, errlen, "structure without records");
		return -EINVAL;
	}
	if (s->nrecord == 0 && s->structure == NULL) {
		snprintf(err, errlen, "no record expression");
		return -EINVAL;
	}
	if (s->table == NULL && (s->table = strdup(s->name)) == NULL)
		return -ENOMEM;
	for (char *p = s->table; *p; p++)
		if (*p == '-')
			*p = '_';
	for (int i = 0; i < s->ntime; i++)
		if (s->times[i].nfmt == 0) {
			snprintf(err, errlen, "time %s has no time-format", s->times[i].col);
			return -EINVAL;
		}
	return 0;
}

/* One line of the grammar: blank, "# comment", or KEY = VALUE (VALUE optionally quoted). */
static int
s_parse_line(char *p, char **key_r, char **val_r, char *err, size_t errlen)
{
	char *eq, *k, *v, *e;

	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	if (*p == '\0' || *p == '#')
		return 1;
	eq = strchr(p, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "expected \"key = value\"");
		return -EINVAL;
	}
	*eq = '\0';
	k = p;
	for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t');)
		*--e = '\0';
	if (*k == '\0') {
		snprintf(err, errlen, "missing key before '='");
		return -EINVAL;
	}
	for (char *c = k; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-')) {
			snprintf(err, errlen, "bad key \"%.40s\"", k);
			return -EINVAL;
		}
	v = eq + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '"') {
		char *end = strrchr(v + 1, '"');
		if (end == NULL || end[1] != '\0') {
			snprintf(err, errlen, "unterminated quoted value for %s", k);
			return -EINVAL;
		}
		*end = '\0';
		v++;
	} else {
		char *hash = strchr(v, '#');
		if (hash != NULL) {
			*hash = '\0';
			for (e = hash; e > v && (e[-1] == ' ' || e[-1] == '\t');)
				*--e = '\0';
		}
	}
	*key_r = k;
	*val_r = v;
	return 0;
}

vs_mspec_t *
vs_mspec_parse(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	vs_mspec_t *s = NULL;
	char line[S_LINE_MAX + 1], msg[384];
	size_t off = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (len > S_SPEC_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %d bytes", name, S_SPEC_MAX_BYTES);
		rc = -EFBIG;
		goto out;
	}
	if ((s = vs_mspec_alloc()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		char *key, *val;
		lineno++;
		if (l > S_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", name, lineno,
			    S_LINE_MAX);
			rc = -EINVAL;
			goto out;
		}
		if (memchr(text + off, '\0', l) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte", name, lineno);
			rc = -EINVAL;
			goto out;
		}
		memcpy(line, text + off, l);
		line[l] = '\0';
		off += l + (nl != NULL);
		msg[0] = '\0';
		rc = s_parse_line(line, &key, &val, msg, sizeof(msg));
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc == 0)
			rc = vs_mspec_set(s, key, val, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg[0] ? msg : strerror(-rc));
			goto out;
		}
	}
	msg[0] = '\0';
	if ((rc = vs_mspec_finish(s, msg, sizeof(msg))) < 0)
		snprintf(err, errlen, "%s: %s", name, msg[0] ? msg : strerror(-rc));
out:
	if (rc < 0) {
		vs_mspec_destroy(&s);
		errno = -rc;
	}
	return s;
}

vs_mspec_t *
vs_mspec_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n;
	vs_mspec_t *s = NULL;
	int e;

	if (f == NULL) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	buf = malloc(S_SPEC_MAX_BYTES + 1);
	if (buf == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, S_SPEC_MAX_BYTES + 1, f);
	e = ferror(f) ? EIO : 0;
	fclose(f);
	if (e) {
		snprintf(err, errlen, "%s: read error", path);
	} else {
		s = vs_mspec_parse(path, buf, n, err, errlen);
		e = errno;
		if (s != NULL && s_str(&s->path, path) < 0) {
			vs_mspec_destroy(&s);
			e = ENOMEM;
		}
	}
	free(buf);
	errno = e;
	return s;
}

static int
s_cmp_spec(const void *a, const void *b)
{
	return strcmp(vs_mspec_name(*(vs_mspec_t *const *)a),
	    vs_mspec_name(*(vs_mspec_t *const *)b));
}

int
vs_mspec_load_dir(const char *dir, vs_mspec_t ***specs_r, size_t *n_r, char *err,
    size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	vs_mspec_t **v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char path[4096];
		vs_mspec_t *s;
		if (l < 6 || strcmp(de->d_name + l - 5, ".spec") != 0 || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		s = vs_mspec_load(path, err, errlen);
		if (s == NULL) {
			rc = -errno;
			goto out;
		}
		if (n + 2 > cap) {
			vs_mspec_t **nv;
			cap = cap ? cap * 2 : 32;
			nv = realloc(v, cap * sizeof(*nv));
			if (nv == NULL) {
				vs_mspec_destroy(&s);
				rc = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		v[n++] = s;
		v[n] = NULL;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), s_cmp_spec);
out:
	closedir(d);
	if (rc < 0) {
		vs_mspec_free_all(&v, n);
		return rc;
	}
	*specs_r = v;
	*n_r = n;
	return 0;
}

void
vs_mspec_free_all(vs_mspec_t ***specs_p, size_t n)
{
	if (*specs_p == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		vs_mspec_destroy(&(*specs_p)[i]);
	free(*specs_p);
	*specs_p = NULL;
}

static int
s_rx_match(const vs_mrx_t *rx, const char *s, size_t n, pcre2_match_data *md)
{
	return pcre2_match(rx->code, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
}

static int
s_any_match(const vs_mrx_t *rx, int nrx, const char *s, size_t n, pcre2_match_data *md)
{
	for (int i = 0; i < nrx; i++)
		if (s_rx_match(&rx[i], s, n, md))
			return 1;
	return 0;
}

/* Score of spec s for a file: -1 if a rule fails, else the count of rules that hold. */
static int
s_score(const vs_mspec_t *s, const char *base, const char *head, size_t len,
    pcre2_match_data *md)
{
	int score = 0, ok[VS_MSPEC_MAX_RX] = { 0 }, lines = 0, rec_tried = 0, rec_ok = 0;
	size_t off = 0;

	if (s->ndetect == 0 && s->detect_name == NULL && s->magic_len == 0 && !s->detect_record)
		return -1;
	if (s->magic_len > 0) {
		if (len < s->magic_len || memcmp(head, s->magic, s->magic_len) != 0)
			return -1;
		score += 4;
	} else if (memchr(head, '\0', len) != NULL) {
		return -1;      /* text specs never take a binary file */
	}
	if (s->detect_name != NULL) {
		if (fnmatch(s->detect_name, base, 0) != 0)
			return -1;
		score++;
	}
	while (off < len && lines < s->detect_lines && (s->ndetect > 0 || s->detect_record)) {
		const char *nl = memchr(head + off, '\n', len - off);
		size_t l;
		if (nl == NULL)
			break;          /* a line cut by the head's end says nothing */
		l = (size_t)(nl - (head + off));
		lines++;
		for (int i = 0; i < s->ndetect; i++)
			if (!ok[i] && s_rx_match(&s->detect[i], head + off, l, md))
				ok[i] = 1;
		if (s->detect_record && !rec_tried && l > 0 &&
		    !s_any_match(s->skip, s->nskip, head + off, l, md) &&
		    !s_any_match(s->context, s->ncontext, head + off, l, md) &&
		    !s_any_match(s->header, s->nheader, head + off, l, md)) {
			rec_tried = 1;
			rec_ok = s_any_match(s->record, s->nrecord, head + off, l, md);
		}
		off += l + 1;
	}
	for (int i = 0; i < s->ndetect; i++) {
		if (!ok[i])
			return -1;
		score++;
	}
	if (s->detect_record) {
		if (!rec_ok)
			return -1;
		score++;
	}
	return score;
}

const vs_mspec_t *
vs_mspec_detect(vs_mspec_t *const *specs, size_t n, const char *path, const char *head,
    size_t headlen, int *rc_r, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	const vs_mspec_t *best = NULL, *tie = NULL;
	int bs = -1;
	pcre2_match_data *md = pcre2_match_data_create(VS_MSPEC_MAX_GROUPS + 1, NULL);

	base = base != NULL ? base + 1 : path;
	if (md == NULL) {
		*rc_r = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int sc = s_score(specs[i], base, head, headlen, md);
		if (sc < 0)
			continue;
		if (sc > bs) {
			bs = sc;
			best = specs[i];
			tie = NULL;
		} else if (sc == bs) {
			tie = specs[i];
		}
	}
	pcre2_match_data_free(md);
	if (best == NULL) {
		snprintf(err, errlen, "%s: format not recognised (see 'vscope mscope formats';"
		    " name it with --format)", path);
		*rc_r = -ENOENT;
		return NULL;
	}
	if (tie != NULL) {
		snprintf(err, errlen, "%s: cannot tell %s from %s; name it with --format", path,
		    vs_mspec_name(best), vs_mspec_name(tie));
		*rc_r = -EEXIST;
		return NULL;
	}
	*rc_r = 0;
	return best;
}
