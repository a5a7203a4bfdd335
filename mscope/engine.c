/*
 * The transformer's one streaming pass: lines of a log, classified by the spec (restart,
 * context, header, skip, record), turned into rows of long/narrow tables in the warehouse.
 */
#include "spec_int.h"
#include "wh.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#define S_LINE_MAX (64 * 1024)
#define S_CHUNK (1024 * 1024)
#define S_MAX_FIELDS 512
#define S_MAX_VARS 32
#define S_WRONG_FORMAT_LINES 50
#define S_DOC_MAX (256u << 20)          /* a structured document is parsed whole */         /* unparsed lines before the first row: give up */

extern char **environ;

typedef struct s_field {
	const char *name;       /* sanitized column name (borrowed) */
	const char *v;
	size_t n;
	int used;               /* consumed by a template, not stored */
	const char *device;     /* unpivot: the device it belongs to */
	size_t devn;
} s_field_t;

typedef struct s_hcol {
	char name[96];
	char device[64];
	size_t devn;            /* 0: no device */
} s_hcol_t;

typedef struct s_var {
	char name[48];
	char *v;
} s_var_t;

typedef struct s_shape {
	vs_wh_table_t *t;
	unsigned key;
	size_t ncols_at;
	int n;
	int *idx;
	const char **names;
} s_shape_t;

typedef struct s_load {
	const vs_mspec_t *spec;
	vs_wh_t *wh;
	const vs_mload_opts_t *opts;
	vs_mload_result_t *res;
	const char *path;
	pcre2_match_data *md;
	int64_t load_id, host_id, run_id;
	char host[128];
	int zone_off;
	int zone_fixed;
	/* current header */
	s_hcol_t *hcols;
	size_t nhcols, hcap;
	size_t hmin;            /* fewest values a record may have (a "NAME*" header) */
	unsigned hgen;
	vs_wh_table_t *htable;
	char *hlabel;
	s_var_t vars[S_MAX_VARS];
	int nvars;
	s_field_t fields[S_MAX_FIELDS];
	int nfields;
	vs_mvalue_t *vals;
	size_t valcap;
	s_shape_t shapes[16];
	unsigned shape_next;
	int64_t last_time, day_add;
	int have_last;
	/* per time spec: "${field}" with one epoch format (tfield set), else the template */
	struct {
		int known;
		const char *tfield;
		size_t tfn;
	} tfast[VS_MSPEC_MAX_TIMES];
	/* time parse cache, per time spec (for the zone it was parsed in) */
	struct {
		char prefix[96];
		size_t plen;
		int fmt;
		int64_t ns;
		int zone;
		/* a format ending in %H:%M:%S: the text before the time of day, and the time
		 * of its midnight (sar: the banner's date, then a time a line) */
		char todprefix[96];
		size_t todlen;
		int64_t todbase;
	} tcache[VS_MSPEC_MAX_TIMES];
	char tmp[1024];
	unsigned long lineno;
	int fatal;
	int wh_failed;          /* the warehouse refused rows (full, I/O): nothing is kept */
	char **names;           /* structured formats: interned column names */
	size_t nnames, namecap;
} s_load_t;

static int __attribute__((format(printf, 3, 4)))
s_fail(s_load_t *L, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (L->res->error[0] == '\0') {
		n = snprintf(L->res->error, sizeof(L->res->error), "%s:%lu: ", L->path, L->lineno);
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < sizeof(L->res->error))
			vsnprintf(L->res->error + n, sizeof(L->res->error) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static const char *
s_var_get(s_load_t *L, const char *name, size_t nl, size_t *n_r)
{
	for (int i = 0; i < L->nfields; i++)
		if (L->fields[i].name[0] == name[0] && strncmp(L->fields[i].name, name, nl) == 0 &&
		    L->fields[i].name[nl] == '\0') {
			L->fields[i].used = 1;
			*n_r = L->fields[i].n;
			return L->fields[i].v;
		}
	for (int i = 0; i < L->nvars; i++)
		if (strncmp(L->vars[i].name, name, nl) == 0 && L->vars[i].name[nl] == '\0') {
			*n_r = strlen(L->vars[i].v);
			return L->vars[i].v;
		}
	if (nl == 4 && strncmp(name, "date", 4) == 0 && L->opts->date != NULL) {
		*n_r = strlen(L->opts->date);
		return L->opts->date;
	}
	return NULL;
}

static int
s_var_set(s_load_t *L, const char *name, const char *v, size_t n)
{
	int i;
	char *c;

	for (i = 0; i < L->nvars; i++)
		if (strcmp(L->vars[i].name, name) == 0)
			break;
	if (i == L->nvars) {
		if (L->nvars >= S_MAX_VARS || strlen(name) >= sizeof(L->vars[0].name))
			return 0;
		snprintf(L->vars[i].name, sizeof(L->vars[i].name), "%s", name);
		L->vars[i].v = NULL;
		L->nvars++;
	}
	if ((c = strndup(v, n)) == NULL)
		return -ENOMEM;
	free(L->vars[i].v);
	L->vars[i].v = c;
	return 0;
}

/* Expands "${a} ${b}" into out; -ENOENT names the missing field in err. */
static int
s_expand(s_load_t *L, const char *tmpl, char *out, size_t outlen, size_t *n_r)
{
	size_t o = 0;

	for (const char *p = tmpl; *p;) {
		if (p[0] == '$' && p[1] == '{') {
			const char *e = strchr(p + 2, '}');
			size_t vn;
			const char *v;
			if (e == NULL)
				return -EINVAL;
			v = s_var_get(L, p + 2, (size_t)(e - p - 2), &vn);
			if (v == NULL)
				return s_fail(L, -ENOENT, "no value for ${%.*s}%s", (int)(e - p - 2),
				    p + 2, strncmp(p + 2, "date", 4) == 0
				    ? " (this log has no date: give --date YYYY-MM-DD)" : "");
			if (o + vn >= outlen)
				return -E2BIG;
			memcpy(out + o, v, vn);
			o += vn;
			p = e + 1;
		} else {
			if (o + 1 >= outlen)
				return -E2BIG;
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	*n_r = o;
	return 0;
}

static int
s_zone(s_load_t *L)
{
	const char *z = L->opts->zone != NULL ? L->opts->zone : L->spec->zone;
	char buf[64];
	size_t n;
	int off;

	if (L->zone_fixed)
		return 0;
	if (z == NULL) {
		L->zone_off = 0;
		return 0;
	}
	if (strcmp(z, "local") == 0) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		L->zone_off = (int)tm.tm_gmtoff;
		L->zone_fixed = 1;
		return 0;
	}
	if (strstr(z, "${") != NULL) {
		if (s_expand(L, z, buf, sizeof(buf), &n) < 0) {
			L->res->error[0] = '\0';
			L->zone_off = 0;        /* no zone in the log yet: UTC */
			return 0;
		}
		z = buf;
	}
	if (vs_mzone_parse(z, &off) < 0)
		return s_fail(L, -EINVAL, "bad time zone \"%.32s\"", z);
	L->zone_off = off;
	return 0;
}

/* "HH:MM:SS" (two digits each, a valid time of day): 1 with the seconds. */
static int
s_hms(const char *p, int64_t *secs_r)
{
	int d[6];

	if (p[2] != ':' || p[5] != ':')
		return 0;
	for (int i = 0, k = 0; i < 8; i++) {
		if (i == 2 || i == 5)
			continue;
		if (p[i] < '0' || p[i] > '9')
			return 0;
		d[k++] = p[i] - '0';
	}
	if (d[0] * 10 + d[1] > 23 || d[2] > 5 || d[4] > 5)
		return 0;
	*secs_r = (d[0] * 10 + d[1]) * 3600 + (d[2] * 10 + d[3]) * 60 + d[4] * 10 + d[5];
	return 1;
}

static int
s_time(s_load_t *L, int ti, int64_t *ns_r)
{
	const vs_mtime_spec_t *t = &L->spec->times[ti];
	char buf[160];
	size_t n;
	int rc, k;

	/* "${field}" with one epoch format (%{begin:usec}t, $msec): the field's text parsed
	 * in place; anything that does not parse takes the path below for its message */
	if (!L->tfast[ti].known) {
		const char *e = strchr(t->tmpl, '}');
		L->tfast[ti].known = 1;
		if (t->nfmt == 1 && strncmp(t->fmts[0], "epoch-", 6) == 0 && t->tmpl[0] == '$' &&
		    t->tmpl[1] == '{' && e != NULL && e[1] == '\0') {
			L->tfast[ti].tfield = t->tmpl + 2;
			L->tfast[ti].tfn = (size_t)(e - t->tmpl - 2);
		}
	}
	if (L->tfast[ti].tfield != NULL) {
		const char *v = s_var_get(L, L->tfast[ti].tfield, L->tfast[ti].tfn, &n);
		if (v != NULL && vs_mtime_parse(v, n, t->fmts[0], L->zone_off, ns_r) == 0)
			return 0;
	}
	if ((rc = s_expand(L, t->tmpl, buf, sizeof(buf), &n)) < 0)
		return rc == -E2BIG ? s_fail(L, rc, "time value too long") : rc;
	if (L->tcache[ti].zone != L->zone_off) {        /* cached in another zone */
		L->tcache[ti].plen = 0;
		L->tcache[ti].prefix[0] = '\0';
		L->tcache[ti].todlen = 0;
		L->tcache[ti].zone = L->zone_off;
	}
	/* the same text before the time of day: its midnight plus HH:MM:SS (what the format
	 * that parsed that text would give, as it parses this one the same way) */
	if (L->tcache[ti].todlen > 0 && n == L->tcache[ti].todlen + 8 &&
	    memcmp(buf, L->tcache[ti].todprefix, L->tcache[ti].todlen) == 0) {
		int64_t secs;
		if (s_hms(buf + n - 8, &secs)) {
			*ns_r = L->tcache[ti].todbase + secs * 1000000000;
			return 0;
		}
	}
	/* a cached parse of the same leading text (up to the fraction) */
	if (L->tcache[ti].plen > 0 && n >= L->tcache[ti].plen &&
	    memcmp(buf, L->tcache[ti].prefix, L->tcache[ti].plen) == 0) {
		const char *p = buf + L->tcache[ti].plen;
		int64_t frac = 0, scale = 100000000;
		int any = 0;
		for (; *p >= '0' && *p <= '9'; p++, any = 1) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
		if (any && *p == '\0') {
			*ns_r = L->tcache[ti].ns + frac;
			return 0;
		}
	}
	if (L->tcache[ti].plen == 0 && n < sizeof(L->tcache[ti].prefix) &&
	    strcmp(buf, L->tcache[ti].prefix) == 0 && buf[0] != '\0') {
		*ns_r = L->tcache[ti].ns;
		return 0;
	}
	for (k = 0; k < t->nfmt; k++) {
		int f = (L->tcache[ti].fmt + k) % t->nfmt;    /* the last that worked first */
		if (vs_mtime_parse(buf, n, t->fmts[f], L->zone_off, ns_r) == 0) {
			const char *ff = strstr(t->fmts[f], "%f");
			size_t fl = strlen(t->fmts[f]);
			int64_t secs;
			L->tcache[ti].fmt = f;
			L->tcache[ti].todlen = 0;
			if (fl >= 8 && strcmp(t->fmts[f] + fl - 8, "%H:%M:%S") == 0 && n > 8 &&
			    n - 8 < sizeof(L->tcache[ti].todprefix) && s_hms(buf + n - 8, &secs)) {
				memcpy(L->tcache[ti].todprefix, buf, n - 8);
				L->tcache[ti].todlen = n - 8;
				L->tcache[ti].todbase = *ns_r - secs * 1000000000;
			}
			L->tcache[ti].plen = 0;
			if (n < sizeof(L->tcache[ti].prefix))
				memcpy(L->tcache[ti].prefix, buf, n + 1);
			else
				L->tcache[ti].prefix[0] = '\0';
			L->tcache[ti].ns = *ns_r;
			/* cache "text before the fraction" when %f ends the format */
			if (ff != NULL && ff[2] == '\0') {
				size_t d = n;
				while (d > 0 && buf[d - 1] >= '0' && buf[d - 1] <= '9')
					d--;
				if (d > 0 && d < n && d < sizeof(L->tcache[ti].prefix) &&
				    (buf[d - 1] == '.' || buf[d - 1] == ',')) {
					int64_t frac = 0, scale = 100000000;
					for (size_t q = d; q < n; q++) {
						frac += (buf[q] - '0') * scale;
						scale /= 10;
					}
					memcpy(L->tcache[ti].prefix, buf, d);
					L->tcache[ti].prefix[d] = '\0';
					L->tcache[ti].plen = d;
					L->tcache[ti].ns = *ns_r - frac;
				}
			}
			return 0;
		}
	}
	return s_fail(L, -EINVAL, "time \"%.60s\" does not match %s%s", buf, t->fmts[0],
	    t->nfmt > 1 ? " (or the other time-formats)" : "");
}

static int
s_is_null(const vs_mspec_t *s, const char *v, size_t n)
{
	if (n == 0)
		return 1;
	for (int i = 0; i < s->nnull; i++)
		if (strlen(s->nulls[i]) == n && memcmp(s->nulls[i], v, n) == 0)
			return 1;
	return 0;
}

static void
s_value(const vs_mspec_t *s, const char *v, size_t n, vs_mvalue_t *out)
{
	if (s_is_null(s, v, n)) {
		out->type = VS_MT_NULL;
		return;
	}
	vs_mvalue_classify(v, n, out);
	if (out->type == VS_MT_TEXT && n > 1 && s->nsuffix > 0) {
		for (int i = 0; i < s->nsuffix; i++)
			if (v[n - 1] == s->suffix[i]) {
				vs_mvalue_t num;
				vs_mvalue_classify(v, n - 1, &num);
				if (num.type == VS_MT_INTEGER) {
					double d = (double)num.i * s->suffix_mul[i];
					if (d < 9e18 && d > -9e18 && d == (double)(int64_t)d) {
						out->type = VS_MT_INTEGER;
						out->i = (int64_t)d;
					} else {
						out->type = VS_MT_REAL;
						out->d = d;
					}
				} else if (num.type == VS_MT_REAL) {
					out->type = VS_MT_REAL;
					out->d = num.d * s->suffix_mul[i];
				}
				break;
			}
	}
}

static int
s_dropped(const vs_mspec_t *s, const char *name)
{
	for (int i = 0; i < s->ndrop; i++)
		if (strcmp(s->drop[i], name) == 0)
			return 1;
	return 0;
}

static const char *
s_reserved(const char *name)
{
	if (strcmp(name, "load_id") == 0 || strcmp(name, "host_id") == 0 ||
	    strcmp(name, "time_ns") == 0)
		return "x_";
	return "";
}

static int
s_table_name(s_load_t *L, const char *key, char *out, size_t len)
{
	const vs_mspec_t *s = L->spec;

	for (int i = 0; i < s->nmap; i++)
		if (strcmp(s->map_key[i], key) == 0) {
			snprintf(out, len, "%s", s->map_name[i]);
			return 0;
		}
	snprintf(out, len, "%s_%s", s->table, key);
	return 0;
}

static int
s_set_header(s_load_t *L, const char *h, size_t hn, const char *label, size_t ln)
{
	const vs_mspec_t *s = L->spec;
	char key[160], tname[200];
	size_t i = 0, ko = 0;
	int tok = 0;

	L->nhcols = 0;
	L->hgen++;
	while (i < hn) {
		size_t st, e;
		s_hcol_t *c;
		if (s->sep == 0)
			while (i < hn && (h[i] == ' ' || h[i] == '\t'))
				i++;
		if (i >= hn)
			break;
		st = i;
		if (s->sep == 0)
			while (i < hn && h[i] != ' ' && h[i] != '\t')
				i++;
		else
			while (i < hn && h[i] != s->sep)
				i++;
		e = i;
		if (s->sep != 0 && i < hn)
			i++;
		if (L->nhcols >= S_MAX_FIELDS)
			return s_fail(L, -E2BIG, "more than %d header columns", S_MAX_FIELDS);
		if (L->nhcols == L->hcap) {
			size_t cap = L->hcap ? L->hcap * 2 : 64;
			s_hcol_t *nc = realloc(L->hcols, cap * sizeof(*nc));
			if (nc == NULL)
				return -ENOMEM;
			L->hcols = nc;
			L->hcap = cap;
		}
		c = &L->hcols[L->nhcols++];
		c->devn = 0;
		if (s->has_unpivot && pcre2_match(s->unpivot.code, (PCRE2_SPTR)h + st, e - st, 0,
		    0, L->md, NULL) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(L->md);
			size_t ms = 0, me = 0;
			for (int g = 0; g < s->unpivot.ngroups; g++) {
				int gn = s->unpivot.gnum[g];
				if (ov[2 * gn] == PCRE2_UNSET)
					continue;
				if (strcmp(s->unpivot.gname[g], "device") == 0) {
					size_t dn = ov[2 * gn + 1] - ov[2 * gn];
					if (dn >= sizeof(c->device))
						dn = sizeof(c->device) - 1;
					memcpy(c->device, h + st + ov[2 * gn], dn);
					c->device[dn] = '\0';
					c->devn = dn;
				} else if (strcmp(s->unpivot.gname[g], "metric") == 0) {
					ms = ov[2 * gn];
					me = ov[2 * gn + 1];
				}
			}
			if (c->devn > 0) {
				char nm[96];
				vs_mscope_colname(h + st + ms, me - ms, nm, sizeof(nm));
				snprintf(c->name, sizeof(c->name), "%s%s", s_reserved(nm), nm);
			}
		}
		if (c->devn == 0) {
			char nm[96];
			vs_mscope_colname(h + st, e - st, nm, sizeof(nm));
			snprintf(c->name, sizeof(c->name), "%s%s", s_reserved(nm), nm);
		}
		if (tok >= s->table_skip && tok < s->table_skip + s->table_tokens) {
			char nm[96];
			size_t l = vs_mscope_colname(h + st, e - st, nm, sizeof(nm));
			if (ko + l + 2 < sizeof(key)) {
				if (ko > 0)
					key[ko++] = '_';
				memcpy(key + ko, nm, l);
				ko += l;
			}
		}
		tok++;
	}
	key[ko] = '\0';
	L->hmin = L->nhcols;
	/* "CPU*" (sadf): as many values as there are CPUs, named cpu_0, cpu_1, ... */
	if (L->nhcols > 0 && s->sep != 0 && h[hn - 1] == '*') {
		char base[96];
		s_hcol_t *nc;
		snprintf(base, sizeof(base), "%s", L->hcols[L->nhcols - 1].name);
		L->nhcols--;
		L->hmin = L->nhcols;
		if (L->nhcols + 64 > L->hcap) {
			nc = realloc(L->hcols, (L->nhcols + 64) * sizeof(*nc));
			if (nc == NULL)
				return -ENOMEM;
			L->hcols = nc;
			L->hcap = L->nhcols + 64;
		}
		for (int k = 0; k < 64; k++) {
			nc = &L->hcols[L->nhcols++];
			snprintf(nc->name, sizeof(nc->name), "%.80s_%d", base, k);
			nc->devn = 0;
		}
	}
	free(L->hlabel);
	L->hlabel = NULL;
	if (label != NULL && ln > 0) {
		char nm[96];
		vs_mscope_colname(label, ln, nm, sizeof(nm));
		s_table_name(L, nm, tname, sizeof(tname));
	} else if (s->table_tokens > 0 && ko > 0) {
		s_table_name(L, key, tname, sizeof(tname));
	} else {
		snprintf(tname, sizeof(tname), "%s", s->table);
	}
	tname[63] = '\0';
	L->htable = vs_wh_table(L->wh, tname, s->kind);
	if (L->htable == NULL)
		return s_fail(L, -EIO, "table %s: %s", tname, vs_wh_error(L->wh));
	return 0;
}

/* Column indices for the field names of a row, cached per (table, shape). */
static int *
s_indices(s_load_t *L, vs_wh_table_t *t, unsigned key, const char **names, int n, int *rc_r)
{
	s_shape_t *sh = NULL;

	for (int i = 0; i < 16; i++)
		if (L->shapes[i].t == t && L->shapes[i].key == key && L->shapes[i].n == n &&
		    L->shapes[i].ncols_at == t->ncols &&
		    memcmp(L->shapes[i].names, names, (size_t)n * sizeof(*names)) == 0) {
			sh = &L->shapes[i];
			break;
		}
	if (sh != NULL)
		return sh->idx;
	sh = &L->shapes[L->shape_next++ % 16];
	free(sh->idx);
	free(sh->names);
	sh->idx = malloc(((size_t)n + 1) * sizeof(int));
	sh->names = malloc(((size_t)n + 1) * sizeof(*names));
	sh->t = NULL;
	if (sh->idx == NULL || sh->names == NULL) {
		*rc_r = -ENOMEM;
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		int c = names[i] != NULL ? vs_wh_column(L->wh, t, names[i], VS_MT_NULL) : -1;
		if (c < 0 && names[i] != NULL) {
			*rc_r = c == -E2BIG ? s_fail(L, c, "table %s: more than %d columns",
			    t->name, VS_WH_MAX_COLS) : s_fail(L, c, "table %s: %s", t->name,
			    vs_wh_error(L->wh));
			return NULL;
		}
		sh->idx[i] = c;
	}
	memcpy(sh->names, names, (size_t)n * sizeof(*names));
	sh->t = t;
	sh->key = key;
	sh->n = n;
	sh->ncols_at = t->ncols;
	return sh->idx;
}

static int
s_emit(s_load_t *L, vs_wh_table_t *t, unsigned key, int64_t time_ns, const char *dev,
    size_t devn)
{
	const char *names[S_MAX_FIELDS + 1];
	int map[S_MAX_FIELDS + 1], n = 0, rc = 0, *idx;

	for (int i = 0; i < L->nfields; i++) {
		s_field_t *f = &L->fields[i];
		if (f->used == 1 || f->name[0] == '_' || s_dropped(L->spec, f->name))
			continue;
		if (f->devn > 0 && (f->devn != devn || memcmp(f->device, dev, devn) != 0))
			continue;
		names[n] = f->name;
		map[n++] = i;
	}
	if (devn > 0) {
		names[n] = L->spec->device_col;
		map[n++] = -1;
	}
	idx = s_indices(L, t, key, names, n, &rc);
	if (idx == NULL)
		return rc;
	if (t->ncols > L->valcap) {
		vs_mvalue_t *nv = realloc(L->vals, t->ncols * 2 * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		L->vals = nv;
		L->valcap = t->ncols * 2;
	}
	for (size_t i = 0; i < t->ncols; i++)
		L->vals[i].type = VS_MT_NULL;
	for (int i = 0; i < n; i++) {
		vs_mvalue_t *v = &L->vals[idx[i]];
		if (map[i] < 0) {
			v->type = VS_MT_TEXT;
			v->s = dev;
			v->n = devn;
		} else {
			s_field_t *f = &L->fields[map[i]];
			if (f->used == 2) {     /* a timestamp column */
				v->type = VS_MT_TIMESTAMP;
				memcpy(&v->i, f->v, sizeof(int64_t));
			} else {
				s_value(L->spec, f->v, f->n, v);
			}
		}
	}
	rc = vs_wh_insert(L->wh, t, L->load_id, L->host_id, time_ns, L->vals);
	if (rc < 0) {
		L->wh_failed = 1;
		return s_fail(L, rc, "insert into %s: %s", t->name, vs_wh_error(L->wh));
	}
	L->res->rows++;
	return 0;
}

static int
s_host(s_load_t *L)
{
	char buf[128];
	size_t n;
	const char *h = L->opts->host != NULL ? L->opts->host : "unknown";
	int rc;

	if (L->spec->host != NULL && s_expand(L, L->spec->host, buf, sizeof(buf), &n) == 0 &&
	    n > 0)
		h = buf;
	L->res->error[0] = L->res->error[0];
	if (strcmp(h, L->host) == 0)
		return 0;
	rc = vs_wh_host_id(L->wh, h, &L->host_id);
	if (rc < 0)
		return s_fail(L, rc, "host %s: %s", h, vs_wh_error(L->wh));
	snprintf(L->host, sizeof(L->host), "%s", h);
	return 0;
}

/* Adds the named groups of a match to the fields (or, for context, the variables). */
static int
s_groups(s_load_t *L, const vs_mrx_t *rx, const char *line, int as_vars, const char **cols,
    size_t *coln, const char **label, size_t *labeln)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(L->md);

	for (int g = 0; g < rx->ngroups; g++) {
		int gn = rx->gnum[g];
		const char *nm = rx->gname[g];
		size_t s, e;
		if (ov[2 * gn] == PCRE2_UNSET)
			continue;
		s = ov[2 * gn];
		e = ov[2 * gn + 1];
		if (cols != NULL && (nm[0] == 'c' || nm[0] == 'h') && (strcmp(nm, "cols") == 0 ||
		    strcmp(nm, "header") == 0)) {
			*cols = line + s;
			*coln = e - s;
			continue;
		}
		if (label != NULL && nm[0] == 'l' && strcmp(nm, "label") == 0) {
			*label = line + s;
			*labeln = e - s;
			continue;
		}
		if (as_vars) {
			int rc = s_var_set(L, nm, line + s, e - s);
			if (rc < 0)
				return rc;
			continue;
		}
		if (L->nfields >= S_MAX_FIELDS)
			return s_fail(L, -E2BIG, "more than %d fields", S_MAX_FIELDS);
		L->fields[L->nfields++] = (s_field_t){ nm, line + s, e - s, 0, NULL, 0 };
	}
	return 0;
}

static int
s_split_cols(s_load_t *L, const char *c, size_t n)
{
	const vs_mspec_t *s = L->spec;
	size_t i = 0, k = 0;

	if (L->htable == NULL)
		return s_fail(L, -EINVAL, "a record before any header line");
	while (i < n) {
		size_t st;
		if (s->sep == 0)
			while (i < n && (c[i] == ' ' || c[i] == '\t'))
				i++;
		if (i >= n)
			break;
		st = i;
		if (s->sep == 0)
			while (i < n && c[i] != ' ' && c[i] != '\t')
				i++;
		else
			while (i < n && c[i] != s->sep)
				i++;
		if (k >= L->nhcols)
			return s_fail(L, -EINVAL, "more values than the %zu header columns",
			    L->nhcols);
		if (L->nfields >= S_MAX_FIELDS)
			return s_fail(L, -E2BIG, "more than %d fields", S_MAX_FIELDS);
		L->fields[L->nfields++] = (s_field_t){ L->hcols[k].name, c + st, i - st, 0,
			L->hcols[k].devn ? L->hcols[k].device : NULL, L->hcols[k].devn };
		k++;
		if (s->sep != 0 && i < n) {
			i++;
			if (i == n && k < L->nhcols && L->nfields < S_MAX_FIELDS) {  /* a trailing empty value */
				L->fields[L->nfields++] = (s_field_t){ L->hcols[k].name, c + i, 0, 0,
					NULL, 0 };
				k++;
			}
		}
	}
	if (k < L->hmin || (L->hmin == L->nhcols && k != L->nhcols))
		return s_fail(L, -EINVAL, "%zu values for %zu header columns", k, L->hmin);
	return 0;
}

static int
s_record(s_load_t *L, int ri, const char *line)
{
	const vs_mspec_t *s = L->spec;
	const char *cols = NULL, *dev[S_MAX_FIELDS];
	size_t coln = 0, devn[S_MAX_FIELDS];
	int ndev = 0, rc;
	int64_t t0 = INT64_MIN, tv[VS_MSPEC_MAX_TIMES];   /* INT64_MIN: no time (NULL) */
	vs_wh_table_t *t;
	unsigned key;

	L->nfields = 0;
	if ((rc = s_groups(L, &s->record[ri], line, 0, &cols, &coln, NULL, NULL)) < 0)
		return rc;
	if (cols != NULL && (rc = s_split_cols(L, cols, coln)) < 0)
		return rc;
	if ((rc = s_zone(L)) < 0)
		return rc;
	for (int i = 0; i < s->ntime; i++) {
		if ((rc = s_time(L, i, &tv[i])) < 0)
			return rc;
	}
	if (s->ntime > 0) {
		t0 = tv[0];
		if (s->rollover && t0 > -5000000000000000000LL && t0 < 5000000000000000000LL) {
			/* at most 100 years of days: no overflow */
			if (L->have_last && t0 + L->day_add < L->last_time - 43200LL * 1000000000 &&
			    L->day_add < 36500LL * 86400 * 1000000000)
				L->day_add += 86400LL * 1000000000;
			t0 += L->day_add;
			L->last_time = t0;
			L->have_last = 1;
		}
	}
	/* the times after the first are stored as timestamp columns */
	for (int i = 1; i < s->ntime && L->nfields < S_MAX_FIELDS; i++) {
		memcpy(&L->tmp[i * 8], &tv[i], 8);
		L->fields[L->nfields++] = (s_field_t){ s->times[i].col, &L->tmp[i * 8], 8, 2,
			NULL, 0 };
	}
	if ((rc = s_host(L)) < 0)
		return rc;
	/* fields consumed by templates (used == 1) are not stored; timestamps (2) are */
	t = cols != NULL ? L->htable : NULL;
	if (t == NULL) {
		const char *tn = s->record_table[ri] != NULL ? s->record_table[ri] : s->table;
		t = vs_wh_table(L->wh, tn, s->kind);
		if (t == NULL)
			return s_fail(L, -EIO, "table %s: %s", tn, vs_wh_error(L->wh));
	}
	key = (cols != NULL ? L->hgen * 64u : 0) + (unsigned)ri + 1;
	for (int i = 0; i < L->nfields; i++) {
		s_field_t *f = &L->fields[i];
		int k;
		if (f->devn == 0)
			continue;
		for (k = 0; k < ndev; k++)
			if (devn[k] == f->devn && memcmp(dev[k], f->device, f->devn) == 0)
				break;
		if (k == ndev && ndev < S_MAX_FIELDS) {
			dev[ndev] = f->device;
			devn[ndev++] = f->devn;
		}
	}
	if (ndev == 0)
		return s_emit(L, t, key, t0, NULL, 0);
	for (int k = 0; k < ndev; k++)
		if ((rc = s_emit(L, t, key, t0, dev[k], devn[k])) < 0)
			return rc;
	return 0;
}

static int
s_match(s_load_t *L, const vs_mrx_t *rx, const char *line, size_t n)
{
	return pcre2_match(rx->code, (PCRE2_SPTR)line, n, 0, 0, L->md, NULL) >= 0;
}

/* 0 handled, 1 unparsed (error text in res->error if first), <0 fatal */
static int
s_line(s_load_t *L, char *line, size_t n)
{
	const vs_mspec_t *s = L->spec;
	int rc;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	for (int i = 0; i < s->nrestart; i++)
		if (s_match(L, &s->restart[i], line, n)) {
			L->res->restarts++;
			L->htable = NULL;
			L->nhcols = 0;
			return 0;
		}
	for (int i = 0; i < s->ncontext; i++)
		if (s_match(L, &s->context[i], line, n)) {
			rc = s_groups(L, &s->context[i], line, 1, NULL, NULL, NULL, NULL);
			if (rc == 0)
				L->res->skipped++;
			return rc;
		}
	for (int i = 0; i < s->nheader; i++)
		if (s_match(L, &s->header[i], line, n)) {
			const char *h = line, *lab = NULL;
			size_t hn = n, ln = 0;
			L->nfields = 0;
			rc = s_groups(L, &s->header[i], line, 1, &h, &hn, &lab, &ln);
			if (rc == 0)
				rc = s_set_header(L, h, hn, lab, ln);
			if (rc == 0)
				L->res->skipped++;
			return rc;
		}
	for (int i = 0; i < s->nskip; i++)
		if (s_match(L, &s->skip[i], line, n)) {
			L->res->skipped++;
			return 0;
		}
	for (int i = 0; i < s->nrecord; i++)
		if (s_match(L, &s->record[i], line, n)) {
			char save[sizeof(L->res->error)];
			int had = L->res->error[0] != '\0';
			if (had)        /* the first unparsed line's message is kept */
				memcpy(save, L->res->error, sizeof(save));
			rc = s_record(L, i, line);
			if (rc == -EINVAL || rc == -ENOENT) {
				/* the line does not fit: skipped and counted, not fatal */
				if (had)
					memcpy(L->res->error, save, sizeof(save));
				return 1;
			}
			return rc;
		}
	if (s->unmatched_skip) {
		L->res->skipped++;
		return 0;
	}
	if (L->res->error[0] == '\0')
		s_fail(L, 0, "line does not match format %s: \"%.60s\"", s->name, line);
	return 1;
}

static void
s_table_stats(s_load_t *L)
{
	vs_wh_t *wh = L->wh;

	L->res->ntables = 0;
	for (size_t i = 0; i < wh->ntables && L->res->ntables < VS_MLOAD_MAX_TABLES; i++) {
		if (wh->tables[i]->rows == 0)
			continue;
		snprintf(L->res->tables[L->res->ntables].name, sizeof(L->res->tables[0].name), "%s",
		    wh->tables[i]->name);
		L->res->tables[L->res->ntables++].rows = wh->tables[i]->rows;
	}
}

/* Feeds buffered text to the line machine; returns bytes consumed. */
static int
s_feed(s_load_t *L, char *buf, size_t len, int eof, size_t *used_r)
{
	size_t off = 0;
	int rc = 0;

	while (off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		size_t n;
		int last = 0;
		if (nl == NULL) {
			if (!eof) {
				if (len - off > S_LINE_MAX) {
					L->lineno++;
					rc = s_fail(L, -E2BIG, "line longer than %d bytes", S_LINE_MAX);
					L->fatal = 1;
				}
				break;
			}
			n = len - off;
			last = 1;
		} else {
			n = (size_t)(nl - (buf + off));
		}
		L->lineno++;
		L->res->lines++;
		if (n > S_LINE_MAX) {
			rc = s_fail(L, -E2BIG, "line longer than %d bytes", S_LINE_MAX);
			L->fatal = 1;
			break;
		}
		if (memchr(buf + off, '\0', n) != NULL) {
			rc = s_fail(L, -EBADMSG, "binary data (a NUL byte): not a %s log",
			    L->spec->name);
			L->fatal = 1;
			break;
		}
		buf[off + n] = '\0';
		rc = s_line(L, buf + off, n);
		if (rc < 0) {
			L->fatal = 1;
			break;
		}
		if (rc == 1) {
			L->res->unparsed++;
			if (last) {
				char why[sizeof(L->res->error)];
				snprintf(why, sizeof(why), "%s", L->res->error);
				L->res->error[0] = '\0';
				rc = s_fail(L, -EPIPE, "file ends in a cut line (truncated?)");
				L->fatal = 1;
				break;
			}
			if (L->opts->strict) {
				rc = -EINVAL;
				L->fatal = 1;
				break;
			}
			if (L->res->rows == 0 && L->res->unparsed >= S_WRONG_FORMAT_LINES) {
				char first[sizeof(L->res->error)];
				snprintf(first, sizeof(first), "%s", L->res->error);
				const char *why = strstr(first, ": ");
				snprintf(L->res->error, sizeof(L->res->error),
				    "%s:%lu: not a %s log: %llu lines and none parses (first: %.300s)",
				    L->path, L->lineno, L->spec->name,
				    (unsigned long long)L->res->unparsed, why ? why + 2 : first);
				rc = -EINVAL;
				L->fatal = 1;
				break;
			}
		}
		rc = 0;
		off += n + (nl != NULL);
	}
	*used_r = off;
	return rc;
}

static int
s_read_fd(s_load_t *L, int fd)
{
	size_t cap = S_CHUNK + S_LINE_MAX + 1, have = 0, used;
	char *buf = malloc(cap);
	int rc = 0, eof = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (!eof && !L->fatal) {
		ssize_t r = read(fd, buf + have, cap - 1 - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = s_fail(L, -errno, "read: %s", strerror(errno));
			break;
		}
		if (r == 0)
			eof = 1;
		have += (size_t)r;
		rc = s_feed(L, buf, have, eof, &used);
		if (rc < 0)
			break;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	return rc;
}

static int
s_load_init(s_load_t *L, vs_wh_t *wh, const vs_mspec_t *spec, const char *path,
    const vs_mload_opts_t *opts, vs_mload_result_t *res)
{
	memset(L, 0, sizeof(*L));
	L->spec = spec;
	L->wh = wh;
	L->opts = opts;
	L->res = res;
	L->path = path;
	L->md = pcre2_match_data_create(VS_MSPEC_MAX_GROUPS * 2 + 2, NULL);
	L->host[0] = '\0';
	return L->md != NULL ? 0 : -ENOMEM;
}

static void
s_load_dispose(s_load_t *L)
{
	pcre2_match_data_free(L->md);
	free(L->hcols);
	free(L->hlabel);
	free(L->vals);
	for (int i = 0; i < L->nvars; i++)
		free(L->vars[i].v);
	for (int i = 0; i < 16; i++) {
		free(L->shapes[i].idx);
		free(L->shapes[i].names);
	}
	for (size_t i = 0; i < L->nnames; i++)
		free(L->names[i]);
	free(L->names);
}

/* Starts a load: transaction, run, source and load rows. */
static int
s_begin(s_load_t *L)
{
	const char *run = L->opts->run != NULL ? L->opts->run : "default";
	int64_t hid, sid;
	int rc;

	if ((rc = vs_wh_begin(L->wh)) < 0)
		return s_fail(L, rc, "begin: %s", vs_wh_error(L->wh));
	if ((rc = vs_wh_run_id(L->wh, run, &L->run_id)) < 0 ||
	    (rc = vs_wh_host_id(L->wh, L->opts->host ? L->opts->host : "unknown", &hid)) < 0 ||
	    (rc = vs_wh_source_id(L->wh, L->run_id, hid, L->spec->name, L->path, &sid)) < 0 ||
	    (rc = vs_wh_load_begin(L->wh, sid, &L->load_id)) < 0)
		return s_fail(L, rc, "warehouse: %s", vs_wh_error(L->wh));
	L->host_id = hid;
	L->res->load_id = L->load_id;
	return 0;
}

/* Ends a load: commit what parsed (or roll back when nothing did) and record it. */
static int
s_end(s_load_t *L, int rc)
{
	vs_mload_result_t *res = L->res;
	int r;

	s_table_stats(L);
	/* rows are written in batches: after the warehouse refused some, which of the rows
	 * before are in is not known row by row, so none is kept */
	if (rc < 0 && L->wh_failed)
		res->rows = 0;
	if (rc < 0 && res->rows == 0) {
		snprintf(res->status, sizeof(res->status), "failed");
		vs_wh_rollback(L->wh);
		/* the failed load is still recorded, in its own transaction */
		{
			char save[sizeof(res->error)];
			memcpy(save, res->error, sizeof(save));
			if (s_begin(L) == 0) {
				memcpy(res->error, save, sizeof(save));
				if (vs_wh_load_end(L->wh, L->load_id, res) == 0)
					vs_wh_commit(L->wh);
				else
					vs_wh_rollback(L->wh);
			}
			memcpy(res->error, save, sizeof(save));
		}
		res->ntables = 0;
		return rc;
	}
	snprintf(res->status, sizeof(res->status), "%s", rc < 0 ? "truncated" : "ok");
	r = 0;
	if (L->host_id > 0 && L->host[0] != '\0') {
		char h[24], s[24];
		const char *p[2] = { h, s };
		snprintf(h, sizeof(h), "%lld", (long long)L->host_id);
		snprintf(s, sizeof(s), "%lld", (long long)L->load_id);
		/* (a backend that batches rows writes them here at the latest: check it) */
		r = L->wh->ops->query(L->wh, "UPDATE sources SET host_id = $1 WHERE source_id ="
		    " (SELECT source_id FROM loads WHERE load_id = $2)", p, 2, NULL, NULL);
	}
	if (r < 0 || (r = vs_wh_load_end(L->wh, L->load_id, res)) < 0 ||
	    (r = vs_wh_commit(L->wh)) < 0) {
		/* after a fatal error, that error is the cause (the database refuses the
		 * commit of a transaction it aborted) */
		if (rc >= 0 || res->error[0] == '\0')
			snprintf(res->error, sizeof(res->error), "%s: commit: %s", L->path,
			    vs_wh_error(L->wh));
		snprintf(res->status, sizeof(res->status), "failed");
		vs_wh_rollback(L->wh);
		res->rows = 0;          /* none of them was kept */
		res->ntables = 0;
		return r;
	}
	return rc;
}


/* ---- structured documents (structure = json) ---- */

static const char *
s_intern(s_load_t *L, const char *prefix, const char *key)
{
	char raw[256], nm[96];

	snprintf(raw, sizeof(raw), "%s%s%s", prefix, *prefix ? "_" : "", key);
	vs_mscope_colname(raw, strlen(raw), nm, sizeof(nm));
	for (size_t i = 0; i < L->nnames; i++)
		if (strcmp(L->names[i], nm) == 0)
			return L->names[i];
	if (L->nnames >= 65536)
		return NULL;
	if (L->nnames == L->namecap) {
		size_t cap = L->namecap ? L->namecap * 2 : 256;
		char **n = realloc(L->names, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		L->names = n;
		L->namecap = cap;
	}
	if ((L->names[L->nnames] = strdup(nm)) == NULL)
		return NULL;
	return L->names[L->nnames++];
}

static int
s_scalar(json_object *o)
{
	enum json_type t = json_object_get_type(o);

	return t != json_type_object && t != json_type_array;
}

static const char *
s_jtext(json_object *o, size_t *n)
{
	const char *v;

	if (o == NULL || json_object_get_type(o) == json_type_null) {
		*n = 0;
		return "";
	}
	v = json_object_get_type(o) == json_type_string ? json_object_get_string(o)
	    : json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	*n = strlen(v);
	return v;
}

/* The scalars of o (and, prefixed, of its object members) as fields of one row. */
static int
s_jfields(s_load_t *L, json_object *o, const char *prefix, int depth)
{
	json_object_object_foreach(o, k, v) {
		if (s_scalar(v)) {
			const char *nm = s_intern(L, prefix, k);
			size_t n;
			const char *t = s_jtext(v, &n);
			if (nm == NULL)
				return -ENOMEM;
			if (L->nfields >= S_MAX_FIELDS)
				return s_fail(L, -E2BIG, "more than %d fields", S_MAX_FIELDS);
			L->fields[L->nfields++] = (s_field_t){ nm, t, n, 0, NULL, 0 };
		} else if (json_object_get_type(v) == json_type_object && depth < 4) {
			char p[128];
			int rc;
			snprintf(p, sizeof(p), "%s%s%s", prefix, *prefix ? "_" : "", k);
			if ((rc = s_jfields(L, v, p, depth + 1)) < 0)
				return rc;
		}
	}
	return 0;
}

static int
s_jhas_scalars(json_object *o)
{
	json_object_object_foreach(o, k, v) {
		(void)k;
		if (s_scalar(v))
			return 1;
	}
	return 0;
}

static int s_jwalk(s_load_t *L, json_object *o, const char *key, int64_t t0, long idx,
    int depth);

/* One row of table <table>_<key> from object o. */
static int
s_jrow(s_load_t *L, json_object *o, const char *key, int64_t t0, long idx)
{
	char tname[160], k[96];
	vs_wh_table_t *t;
	int rc;

	L->nfields = 0;
	if ((rc = s_jfields(L, o, "", 0)) < 0)
		return rc;
	if (L->spec->record_index != NULL && L->nfields < S_MAX_FIELDS) {
		snprintf(L->tmp, 32, "%ld", idx);
		L->fields[L->nfields++] = (s_field_t){ L->spec->record_index, L->tmp,
			strlen(L->tmp), 0, NULL, 0 };
	}
	vs_mscope_colname(key, strlen(key), k, sizeof(k));
	s_table_name(L, k, tname, sizeof(tname));
	tname[63] = '\0';
	t = vs_wh_table(L->wh, tname, L->spec->kind);
	if (t == NULL)
		return s_fail(L, -EIO, "table %s: %s", tname, vs_wh_error(L->wh));
	if ((rc = s_emit(L, t, 0x40000000u, t0, NULL, 0)) < 0)
		return rc;
	/* arrays inside a row are rows of their own (sadf -x: int-global > irq) */
	json_object_object_foreach(o, ck, cv) {
		if (json_object_get_type(cv) == json_type_array &&
		    (rc = s_jwalk(L, cv, ck, t0, idx, 2)) < 0)
			return rc;
	}
	return 0;
}

static int
s_jwalk(s_load_t *L, json_object *o, const char *key, int64_t t0, long idx, int depth)
{
	int rc = 0;

	if (depth > 16)
		return s_fail(L, -E2BIG, "nested deeper than 16 levels");
	switch (json_object_get_type(o)) {
	case json_type_array:
		for (size_t i = 0; rc == 0 && i < json_object_array_length(o); i++)
			rc = s_jwalk(L, json_object_array_get_idx(o, i), key, t0, idx, depth + 1);
		return rc;
	case json_type_object:
		if (depth > 0 && s_jhas_scalars(o))
			return s_jrow(L, o, key, t0, idx);
		json_object_object_foreach(o, k, v) {
			if (L->spec->record_context != NULL && depth == 0 &&
			    strcmp(k, L->spec->record_context) == 0)
				continue;
			if ((rc = s_jwalk(L, v, k, t0, idx, depth + 1)) < 0)
				return rc;
		}
		return 0;
	default:
		return 0;
	}
}

/* Scalars of an object on the records path (or the record context) become variables. */
static int
s_jvars(s_load_t *L, json_object *o, const char *prefix)
{
	json_object_object_foreach(o, k, v) {
		if (s_scalar(v)) {
			char raw[160], nm[96];
			size_t n;
			const char *t = s_jtext(v, &n);
			snprintf(raw, sizeof(raw), "%s%s%s", prefix, *prefix ? "_" : "", k);
			vs_mscope_colname(raw, strlen(raw), nm, sizeof(nm));
			if (s_var_set(L, nm, t, n) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int
s_jsample(s_load_t *L, json_object *o, long idx)
{
	const vs_mspec_t *s = L->spec;
	int64_t t0 = INT64_MIN;
	json_object *ctx;
	int rc;

	L->lineno = (unsigned long)idx + 1;
	if (json_object_get_type(o) != json_type_object)
		return 0;
	/* the sample's own values (sadf -x: <timestamp date= time=>) are variables */
	if ((rc = s_jvars(L, o, "")) < 0)
		return rc;
	if (s->record_context != NULL && json_object_object_get_ex(o, s->record_context, &ctx) &&
	    json_object_get_type(ctx) == json_type_object &&
	    (rc = s_jvars(L, ctx, s->record_context)) < 0)
		return rc;
	L->nfields = 0;
	if ((rc = s_zone(L)) < 0)
		return rc;
	if (s->ntime > 0 && (rc = s_time(L, 0, &t0)) < 0)
		return rc;
	if ((rc = s_host(L)) < 0)
		return rc;
	return s_jwalk(L, o, "sample", t0, idx, 0);
}

/* Follows "a.b.c" from o; arrays on the way are walked element by element. */
static int
s_jpath(s_load_t *L, json_object *o, const char *path, long *idx)
{
	char key[128];
	size_t l;
	json_object *next;
	int rc = 0;

	if (json_object_get_type(o) == json_type_array) {
		for (size_t i = 0; rc == 0 && i < json_object_array_length(o); i++)
			rc = s_jpath(L, json_object_array_get_idx(o, i), path, idx);
		return rc;
	}
	if (*path == '\0') {
		rc = s_jsample(L, o, *idx);
		(*idx)++;
		if (rc == -EINVAL || rc == -ENOENT) {
			L->res->unparsed++;
			rc = 0;
		}
		return rc;
	}
	if (json_object_get_type(o) != json_type_object)
		return 0;
	if ((rc = s_jvars(L, o, "")) < 0)
		return rc;
	l = strcspn(path, ".");
	if (l >= sizeof(key))
		return -EINVAL;
	memcpy(key, path, l);
	key[l] = '\0';
	if (!json_object_object_get_ex(o, key, &next))
		return 0;
	return s_jpath(L, next, path[l] == '.' ? path + l + 1 : path + l, idx);
}

static int
s_json(s_load_t *L, const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	json_object *doc;
	long idx = 0;
	int rc = 0;

	if (tok == NULL)
		return -ENOMEM;
	if (memchr(buf, '\0', len) != NULL) {
		json_tokener_free(tok);
		return s_fail(L, -EBADMSG, "binary data (a NUL byte): not a %s document",
		    L->spec->name);
	}
	doc = json_tokener_parse_ex(tok, buf, (int)len);
	if (doc == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		size_t off = json_tokener_get_parse_end(tok);
		enum json_tokener_error e = json_tokener_get_error(tok);
		L->lineno = 1;
		for (size_t i = 0; i < off && i < len; i++)
			L->lineno += buf[i] == '\n';
		rc = s_fail(L, e == json_tokener_continue ? -EPIPE : -EINVAL, "%s",
		    e == json_tokener_continue ? "the JSON document ends early (truncated?)"
		    : json_tokener_error_desc(e));
		json_object_put(doc);
		json_tokener_free(tok);
		return rc;
	}
	json_tokener_free(tok);
	for (size_t i = 0; i < len; i++)
		L->res->lines += buf[i] == '\n';
	rc = s_jpath(L, doc, L->spec->records, &idx);
	if (rc == 0 && L->res->rows == 0)
		rc = s_fail(L, -EINVAL, "no %s records at %s", L->spec->name, L->spec->records);
	json_object_put(doc);
	return rc;
}

/* An XML element as a json-c object: attributes and text-only children are values,
 * other children objects, repeated children arrays. Namespaces are ignored. */
static json_object *
s_xml_obj(xmlNode *e, int depth)
{
	json_object *o = json_object_new_object();

	if (o == NULL || depth > 32)
		return o;
	for (xmlAttr *a = e->properties; a != NULL; a = a->next) {
		xmlChar *v = xmlNodeGetContent((xmlNode *)a);
		json_object_object_add(o, (const char *)a->name,
		    json_object_new_string(v ? (const char *)v : ""));
		xmlFree(v);
	}
	for (xmlNode *c = e->children; c != NULL; c = c->next) {
		json_object *val, *prev;
		int text_only = 1;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (c->properties != NULL)
			text_only = 0;
		for (xmlNode *g = c->children; g != NULL; g = g->next)
			if (g->type == XML_ELEMENT_NODE)
				text_only = 0;
		if (text_only) {
			xmlChar *v = xmlNodeGetContent(c);
			val = json_object_new_string(v ? (const char *)v : "");
			xmlFree(v);
		} else {
			val = s_xml_obj(c, depth + 1);
		}
		if (json_object_object_get_ex(o, (const char *)c->name, &prev)) {
			if (json_object_get_type(prev) != json_type_array) {
				json_object *arr = json_object_new_array();
				json_object_array_add(arr, json_object_get(prev));
				json_object_object_add(o, (const char *)c->name, arr);
				prev = arr;
			}
			json_object_array_add(prev, val);
		} else {
			json_object_object_add(o, (const char *)c->name, val);
		}
	}
	return o;
}

static int
s_xml(s_load_t *L, const char *buf, size_t len)
{
	xmlDoc *doc;
	xmlNode *root;
	json_object *top, *j;
	long idx = 0;
	int rc;

	if (memchr(buf, '\0', len) != NULL)
		return s_fail(L, -EBADMSG, "binary data (a NUL byte): not a %s document",
		    L->spec->name);
	/* no network, no external entities, no DTD loading */
	doc = xmlReadMemory(buf, (int)len, L->path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *e = xmlGetLastError();
		L->lineno = e != NULL ? (unsigned long)e->line : 0;
		rc = s_fail(L, e != NULL && e->code == XML_ERR_DOCUMENT_END ? -EPIPE : -EINVAL,
		    "not well-formed XML: %.200s", e != NULL && e->message ? e->message : "?");
		{
			size_t l = strlen(L->res->error);
			while (l > 0 && L->res->error[l - 1] == '\n')
				L->res->error[--l] = '\0';
		}
		xmlResetLastError();
		return rc;
	}
	root = xmlDocGetRootElement(doc);
	top = json_object_new_object();
	j = root != NULL ? s_xml_obj(root, 0) : NULL;
	if (top == NULL || j == NULL) {
		json_object_put(top);
		json_object_put(j);
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	json_object_object_add(top, (const char *)root->name, j);
	xmlFreeDoc(doc);
	for (size_t i = 0; i < len; i++)
		L->res->lines += buf[i] == '\n';
	rc = s_jpath(L, top, L->spec->records, &idx);
	if (rc == 0 && L->res->rows == 0)
		rc = s_fail(L, -EINVAL, "no %s records at %s", L->spec->name, L->spec->records);
	json_object_put(top);
	return rc;
}

static int
s_json_fd(s_load_t *L, int fd)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;
		if (len == cap) {
			char *nb;
			if (cap >= S_DOC_MAX) {
				free(buf);
				return s_fail(L, -EFBIG, "document larger than %u MiB", S_DOC_MAX >> 20);
			}
			nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = s_fail(L, -errno, "read: %s", strerror(errno));
			free(buf);
			return rc;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	rc = strcmp(L->spec->structure, "xml") == 0 ? s_xml(L, buf, len) : s_json(L, buf, len);
	free(buf);
	return rc;
}

int
vs_mscope_load_buf(vs_wh_t *wh, const vs_mspec_t *spec, const char *path, const char *buf,
    size_t len, const vs_mload_opts_t *opts, vs_mload_result_t *res)
{
	s_load_t L;
	char *copy;
	size_t used;
	int rc;

	memset(res, 0, sizeof(*res));
	if (spec->convert != NULL) {
		snprintf(res->error, sizeof(res->error), "%s: format %s converts files, not buffers",
		    path, spec->name);
		snprintf(res->status, sizeof(res->status), "failed");
		return -EINVAL;
	}
	if ((rc = s_load_init(&L, wh, spec, path, opts, res)) < 0)
		return rc;
	copy = malloc(len + 1);
	if (copy == NULL) {
		s_load_dispose(&L);
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	rc = s_begin(&L);
	if (rc == 0 && spec->structure != NULL)
		rc = strcmp(spec->structure, "xml") == 0 ? s_xml(&L, copy, len)
		    : s_json(&L, copy, len);
	else if (rc == 0)
		rc = s_feed(&L, copy, len, 1, &used);
	rc = s_end(&L, rc);
	free(copy);
	s_load_dispose(&L);
	return rc;
}

static const vs_mspec_t *
s_find_spec(const vs_mload_opts_t *o, const char *name)
{
	for (size_t i = 0; i < o->nspecs; i++)
		if (strcmp(vs_mspec_name(o->specs[i]), name) == 0)
			return o->specs[i];
	return NULL;
}

/* Runs the spec's converter on path (no shell: words split on blanks, {} is the file). */
static int
s_spawn(const vs_mspec_t *spec, const char *path, pid_t *pid_r, int *fd_r, int *errfd_r)
{
	char *words = strdup(spec->convert), *argv[32], *save = NULL;
	int argc = 0, out[2] = { -1, -1 }, rc;
	posix_spawn_file_actions_t fa;
	FILE *errf;

	if (words == NULL)
		return -ENOMEM;
	for (char *w = strtok_r(words, " \t", &save); w && argc < 31;
	    w = strtok_r(NULL, " \t", &save))
		argv[argc++] = strcmp(w, "{}") == 0 ? (char *)path : w;
	argv[argc] = NULL;
	errf = tmpfile();
	if (argc == 0 || errf == NULL || pipe2(out, O_CLOEXEC) < 0) {
		rc = argc == 0 ? -EINVAL : -errno;
		free(words);
		if (errf)
			fclose(errf);
		return rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fileno(errf), 2);
	rc = posix_spawnp(pid_r, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	free(words);
	if (rc != 0) {
		close(out[0]);
		fclose(errf);
		return -rc;
	}
	*fd_r = out[0];
	*errfd_r = dup(fileno(errf));
	fclose(errf);
	return 0;
}

int
vs_mscope_load(vs_wh_t *wh, const vs_mspec_t *spec, const char *path,
    const vs_mload_opts_t *opts, vs_mload_result_t *res)
{
	s_load_t L;
	const vs_mspec_t *inner = spec;
	int fd = -1, errfd = -1, rc;
	pid_t pid = -1;

	memset(res, 0, sizeof(*res));
	if (spec->convert != NULL) {
		inner = s_find_spec(opts, spec->convert_format);
		if (inner == NULL || inner->convert != NULL) {
			snprintf(res->error, sizeof(res->error), "%s: format %s needs format %s",
			    path, spec->name, spec->convert_format);
			snprintf(res->status, sizeof(res->status), "failed");
			return -ENOENT;
		}
	}
	if ((rc = s_load_init(&L, wh, inner, path, opts, res)) < 0)
		return rc;
	if (spec->convert != NULL) {
		if (access(path, R_OK) < 0) {
			rc = s_fail(&L, -errno, "%s", strerror(errno));
		} else {
			rc = s_spawn(spec, path, &pid, &fd, &errfd);
			if (rc < 0)
				s_fail(&L, rc, "cannot run \"%s\": %s", spec->convert, strerror(-rc));
		}
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			rc = s_fail(&L, -errno, "%s", strerror(errno));
	}
	if (rc == 0)
		rc = s_begin(&L);
	if (rc == 0)
		rc = inner->structure != NULL ? s_json_fd(&L, fd) : s_read_fd(&L, fd);
	if (fd >= 0)
		close(fd);
	if (pid > 0) {
		int st = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			char msg[256] = "";
			ssize_t n = pread(errfd, msg, sizeof(msg) - 1, 0);
			if (n > 0) {
				msg[n] = '\0';
				msg[strcspn(msg, "\n")] = '\0';
			}
			snprintf(res->error, sizeof(res->error), "%s: after line %lu of its output,"
			    " %s failed (status %d): %.200s", path, L.lineno, spec->convert,
			    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), msg);
			rc = -EPIPE;
		}
	}
	if (errfd >= 0)
		close(errfd);
	rc = s_end(&L, rc);
	s_load_dispose(&L);
	return rc;
}
