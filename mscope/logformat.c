/*
 * Apache httpd LogFormat strings → parser specs (mod_log_config's directives), and the
 * LogFormat/CustomLog lines of an httpd configuration file.
 */
#include "spec_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RX_MAX 8192
#define S_MAX_ITEMS 64

static const char s_common[] = "%h %l %u %t \"%r\" %>s %b";
static const char s_combined[] = "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"";

typedef struct s_item {
	int lit;                /* literal text */
	char text[512];         /* literal, or the {argument} */
	char letter;
	int has_arg;
} s_item_t;

typedef struct s_buf {
	char *p;
	size_t n, cap;
	int err;
} s_buf_t;

static void
s_put(s_buf_t *b, const char *s, size_t n)
{
	if (b->err || b->n + n + 1 > b->cap) {
		b->err = 1;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
s_puts(s_buf_t *b, const char *s)
{
	s_put(b, s, strlen(s));
}

static void
s_put_lit(s_buf_t *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char x[8];
		if (strchr("\\^$.|?*+()[]{}", c) != NULL) {
			x[0] = '\\';
			x[1] = (char)c;
			s_put(b, x, 2);
		} else if (c < 0x20 || c >= 0x7f || c == '"' || c == '#') {
			snprintf(x, sizeof(x), "\\x%02x", c);
			s_puts(b, x);
		} else {
			s_put(b, (const char *)&c, 1);
		}
	}
}

/* The LogFormat's items; Apache's escapes \" \\ \n \t are undone in literals. */
static int
s_items(const char *lf, s_item_t *it, int *n_r, char *err, size_t errlen)
{
	int n = 0;
	const char *p = lf;

	while (*p) {
		s_item_t *cur;
		if (n >= S_MAX_ITEMS) {
			snprintf(err, errlen, "more than %d items in the LogFormat", S_MAX_ITEMS);
			return -E2BIG;
		}
		cur = &it[n];
		memset(cur, 0, sizeof(*cur));
		if (*p != '%' || p[1] == '%') {
			size_t o = 0;
			cur->lit = 1;
			while (*p && !(*p == '%' && p[1] != '%') && o + 2 < sizeof(cur->text)) {
				if (*p == '%') {
					cur->text[o++] = '%';
					p += 2;
				} else if (*p == '\\' && p[1]) {
					char c = p[1];
					cur->text[o++] = c == 'n' ? '\n' : c == 't' ? '\t' : c;
					p += 2;
				} else {
					cur->text[o++] = *p++;
				}
			}
			if (*p && !(*p == '%' && p[1] != '%')) {
				snprintf(err, errlen, "literal text too long");
				return -E2BIG;
			}
			cur->text[o] = '\0';
			n++;
			continue;
		}
		p++;
		/* modifiers: < > and status lists like !200,304 */
		while (*p == '<' || *p == '>' || *p == '!' || *p == ',' || isdigit((unsigned char)*p))
			p++;
		if (*p == '{') {
			const char *e = strchr(p, '}');
			size_t l;
			if (e == NULL) {
				snprintf(err, errlen, "unterminated %%{ in the LogFormat");
				return -EINVAL;
			}
			l = (size_t)(e - p - 1);
			if (l >= sizeof(cur->text)) {
				snprintf(err, errlen, "%%{...} argument too long");
				return -E2BIG;
			}
			memcpy(cur->text, p + 1, l);
			cur->text[l] = '\0';
			cur->has_arg = 1;
			p = e + 1;
			while (*p == '<' || *p == '>')
				p++;
		}
		if (*p == '^' && p[1] == 't' && (p[2] == 'i' || p[2] == 'o')) {
			cur->letter = '^';
			p += 3;
		} else if (isalpha((unsigned char)*p)) {
			cur->letter = *p++;
		} else {
			snprintf(err, errlen, "bad directive at \"%%%.20s\"", p);
			return -EINVAL;
		}
		if (!strchr("aABbCDefhHiklLmnopPqrRsStTuUvVXIO^", cur->letter)) {
			snprintf(err, errlen, "unknown directive %%%c", cur->letter);
			return -EINVAL;
		}
		n++;
	}
	*n_r = n;
	return 0;
}

/* A strftime form as a regular expression (for %{FORMAT}t). */
static int
s_strftime_rx(s_buf_t *b, const char *f)
{
	for (; *f; f++) {
		const char *r = NULL;
		if (*f != '%') {
			s_put_lit(b, f, 1);
			continue;
		}
		f++;
		switch (*f) {
		case 'Y': r = "[0-9]{4}"; break;
		case 'C': case 'y': case 'm': case 'd': case 'H': case 'M': case 'S': case 'I':
		case 'U': case 'W': case 'V': case 'g':
			r = "[0-9]{2}"; break;
		case 'G': r = "[0-9]{4}"; break;
		case 'e': case 'k': case 'l': r = " ?[0-9]{1,2}"; break;
		case 'j': r = "[0-9]{3}"; break;
		case 'u': case 'w': r = "[0-9]"; break;
		case 'a': case 'A': case 'b': case 'B': case 'h': r = "[A-Za-z]+"; break;
		case 'p': case 'P': r = "[AaPp][Mm]"; break;
		case 'z': r = "[+-][0-9]{4}"; break;
		case 'Z': r = "[A-Za-z]+"; break;
		case 'T': r = "[0-9]{2}:[0-9]{2}:[0-9]{2}"; break;
		case 'R': r = "[0-9]{2}:[0-9]{2}"; break;
		case 'F': r = "[0-9]{4}-[0-9]{2}-[0-9]{2}"; break;
		case 'D': r = "[0-9]{2}/[0-9]{2}/[0-9]{2}"; break;
		case 's': r = "[0-9]+"; break;
		case 'n': case 't': r = "\\s"; break;
		case '%': r = "%"; break;
		default:
			return -EINVAL;
		}
		s_puts(b, r);
	}
	return 0;
}

static const char *
s_dir_name(const s_item_t *it, char *buf, size_t len)
{
	const char *a = it->text;

	switch (it->letter) {
	case 'a': return it->has_arg && strcmp(a, "c") == 0 ? "peer_ip" : "remote_ip";
	case 'A': return "local_ip";
	case 'B': case 'b': return "bytes";
	case 'C': snprintf(buf, len, "cookie_%s", a); return buf;
	case 'D': return "duration_us";
	case 'e': case 'n': case 'i': snprintf(buf, len, "%s", a); return buf;
	case 'o': snprintf(buf, len, "resp_%s", a); return buf;
	case 'f': return "filename";
	case 'h': return "remote_host";
	case 'H': return "protocol";
	case 'k': return "keepalives";
	case 'l': return "ident";
	case 'L': return "log_id";
	case 'm': return "method";
	case 'p': return "port";
	case 'P': return "pid";
	case 'q': return "query";
	case 'r': return "request";
	case 'R': return "handler";
	case 's': return "status";
	case 'S': return "bytes_xfer";
	case 'T':
		if (!it->has_arg || strcmp(a, "s") == 0)
			return "duration_s";
		return strcmp(a, "ms") == 0 ? "duration_ms" : "duration_us";
	case 'u': return "user";
	case 'U': return "url_path";
	case 'v': return "server_name";
	case 'V': return "server_name_used";
	case 'X': return "conn_status";
	case 'I': return "bytes_in";
	case 'O': return "bytes_out";
	default: snprintf(buf, len, "trailer_%s", a); return buf;
	}
}

static int
s_numeric(const s_item_t *it)
{
	return strchr("BbDkpPsSTIO", it->letter) != NULL;
}

/* The value pattern of a directive, from what follows it. */
static void
s_value_rx(s_buf_t *b, const s_item_t *it, const s_item_t *next)
{
	char c = next != NULL && next->lit ? next->text[0] : 0;

	if (s_numeric(it)) {
		s_puts(b, "-|[0-9]+");
		return;
	}
	if (c == '"')
		s_puts(b, "(?:[^\"\\\\]|\\\\.)*");
	else if (c == ' ')
		s_puts(b, "[^ ]*");
	else if (c != 0) {
		char cls[16];
		if (c == ']' || c == '\\' || c == '^' || c == '-')
			snprintf(cls, sizeof(cls), "[^\\%c]*", c);
		else if ((unsigned char)c < 0x20)
			snprintf(cls, sizeof(cls), "[^\\x%02x]*", (unsigned char)c);
		else
			snprintf(cls, sizeof(cls), "[^%c]*", c);
		s_puts(b, cls);
	} else if (next == NULL)
		s_puts(b, ".*");
	else
		s_puts(b, "\\S+");
}

struct s_tprefix {
	char strf[128];         /* the strftime form, "" if none */
	int strf_group;         /* group number for its text */
	int frac;               /* 3 (msec_frac) or 6 (usec_frac), 0 none */
	int frac_group;
	const char *epoch;      /* "epoch-us" ... */
	int epoch_group;
	int default_t;          /* plain %t: [..] with %z */
};

static int
s_add_time(vs_mspec_t *s, const char *col, const char *tmpl, const char *fmt, char *err,
    size_t errlen)
{
	char line[256];
	int rc;

	snprintf(line, sizeof(line), "%s %s", col, tmpl);
	if ((rc = vs_mspec_set(s, "time", line, err, errlen)) < 0)
		return rc;
	return vs_mspec_set(s, "time-format", fmt, err, errlen);
}

int vs_mspec_apply_logformat(vs_mspec_t *s, const char *lf, char *err, size_t errlen);

int
vs_mspec_apply_logformat(vs_mspec_t *s, const char *lf, char *err, size_t errlen)
{
	s_item_t *it = calloc(S_MAX_ITEMS, sizeof(*it));
	char *rxs = malloc(S_RX_MAX), names[S_MAX_ITEMS][64];
	s_buf_t b = { rxs, 0, S_RX_MAX, 0 };
	struct s_tprefix tp[3];       /* none, begin:, end: */
	int n = 0, nn = 0, rc, tg = 0;
	const char *pfx_name[3] = { "time", "begin_time", "end_time" };

	memset(tp, 0, sizeof(tp));
	if (it == NULL || rxs == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rxs[0] = '\0';
	if (strcmp(lf, "common") == 0)
		lf = s_common;
	else if (strcmp(lf, "combined") == 0)
		lf = s_combined;
	if (s->logformat == NULL && (s->logformat = strdup(lf)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = s_items(lf, it, &n, err, errlen)) < 0)
		goto out;
	if (n == 0) {
		snprintf(err, errlen, "empty LogFormat");
		rc = -EINVAL;
		goto out;
	}
	s_puts(&b, "^");
	for (int i = 0; i < n; i++) {
		const s_item_t *cur = &it[i], *next = i + 1 < n ? &it[i + 1] : NULL;
		char nb[128], col[64];
		const char *nm;
		if (cur->lit) {
			s_put_lit(&b, cur->text, strlen(cur->text));
			continue;
		}
		if (cur->letter == 't') {
			const char *a = cur->text;
			int p = 0;
			char g[16];
			if (cur->has_arg && strncmp(a, "begin:", 6) == 0)
				p = 1, a += 6;
			else if (cur->has_arg && strncmp(a, "end:", 4) == 0)
				p = 2, a += 4;
			snprintf(g, sizeof(g), "_t%d", tg);
			if (!cur->has_arg || (p > 0 && *a == '\0')) {
				if (tp[p].strf[0] || tp[p].epoch) {
					snprintf(err, errlen, "two timestamps of the same kind");
					rc = -EINVAL;
					goto out;
				}
				snprintf(tp[p].strf, sizeof(tp[p].strf), "%%d/%%b/%%Y:%%H:%%M:%%S %%z");
				tp[p].default_t = 1;
				tp[p].strf_group = tg;
				s_puts(&b, "\\[(?<");
				s_puts(&b, g);
				s_puts(&b, ">[^\\]]+)\\]");
			} else if (strcmp(a, "sec") == 0 || strcmp(a, "msec") == 0 ||
			    strcmp(a, "usec") == 0) {
				if (tp[p].epoch != NULL || tp[p].strf[0]) {
					snprintf(err, errlen, "two timestamps of the same kind: use begin:"
					    " and end: to tell them apart");
					rc = -EINVAL;
					goto out;
				}
				tp[p].epoch = a[0] == 's' ? "epoch-s" : a[0] == 'm' ? "epoch-ms"
				    : "epoch-us";
				tp[p].epoch_group = tg;
				s_puts(&b, "(?<");
				s_puts(&b, g);
				s_puts(&b, ">[0-9]+)");
			} else if (strcmp(a, "msec_frac") == 0 || strcmp(a, "usec_frac") == 0) {
				tp[p].frac = a[0] == 'm' ? 3 : 6;
				tp[p].frac_group = tg;
				s_puts(&b, a[0] == 'm' ? "(?<" : "(?<");
				s_puts(&b, g);
				s_puts(&b, a[0] == 'm' ? ">[0-9]{3})" : ">[0-9]{6})");
			} else {
				if (tp[p].strf[0] || tp[p].epoch) {
					snprintf(err, errlen, "two timestamps of the same kind");
					rc = -EINVAL;
					goto out;
				}
				if (strlen(a) >= 50) {
					snprintf(err, errlen, "time format too long");
					rc = -E2BIG;
					goto out;
				}
				snprintf(tp[p].strf, sizeof(tp[p].strf), "%.60s", a);
				tp[p].strf_group = tg;
				s_puts(&b, "(?<");
				s_puts(&b, g);
				s_puts(&b, ">");
				if (s_strftime_rx(&b, a) < 0) {
					snprintf(err, errlen, "unsupported conversion in time format \"%s\"",
					    a);
					rc = -EINVAL;
					goto out;
				}
				s_puts(&b, ")");
			}
			tg++;
			continue;
		}
		nm = s_dir_name(cur, nb, sizeof(nb));
		/* PCRE2 group names are at most 32 characters */
		vs_mscope_colname(nm, strlen(nm), col, 29);
		if (strcmp(col, "time") == 0 || strcmp(col, "begin_time") == 0 ||
		    strcmp(col, "end_time") == 0 || strcmp(col, "load_id") == 0 ||
		    strcmp(col, "host_id") == 0 || strcmp(col, "time_ns") == 0) {
			char c2[64];
			snprintf(c2, sizeof(c2), "f_%.50s", col);
			memcpy(col, c2, sizeof(col));
		}
		/* a directive used twice gets _2, _3 */
		{
			char base[64];
			int dup = 1;
			memcpy(base, col, sizeof(base));
			for (int k = 0; k < nn; k++)
				if (strcmp(names[k], col) == 0) {
					snprintf(col, sizeof(col), "%.28s_%d", base, ++dup);
					k = -1;
				}
			snprintf(names[nn++], sizeof(names[0]), "%s", col);
		}
		s_puts(&b, "(?<");
		s_puts(&b, col);
		s_puts(&b, ">");
		s_value_rx(&b, cur, next);
		s_puts(&b, ")");
	}
	s_puts(&b, "$");
	if (b.err) {
		snprintf(err, errlen, "LogFormat too long");
		rc = -E2BIG;
		goto out;
	}
	if ((rc = vs_mspec_set(s, "record", rxs, err, errlen)) < 0)
		goto out;
	/* the row's time first: the request's arrival, else its begin, else its end */
	for (int p = 0; p < 3; p++) {
		struct s_tprefix *t = &tp[p];
		char tmpl[64], fmt[160];
		if (t->strf[0] == '\0' && t->epoch == NULL)
			continue;
		if (t->strf[0] != '\0') {
			if (t->frac) {
				snprintf(tmpl, sizeof(tmpl), "${_t%d}.${_t%d}", t->strf_group,
				    t->frac_group);
				snprintf(fmt, sizeof(fmt), "%.60s.%%f", t->strf);
			} else {
				snprintf(tmpl, sizeof(tmpl), "${_t%d}", t->strf_group);
				snprintf(fmt, sizeof(fmt), "%.60s", t->strf);
			}
			if ((rc = s_add_time(s, pfx_name[p], tmpl, fmt, err, errlen)) < 0)
				goto out;
		}
		if (t->epoch != NULL) {
			char col[32];
			snprintf(col, sizeof(col), "%s%s", pfx_name[p], t->strf[0] ? "_epoch" : "");
			snprintf(tmpl, sizeof(tmpl), "${_t%d}", t->epoch_group);
			if ((rc = s_add_time(s, col, tmpl, t->epoch, err, errlen)) < 0)
				goto out;
		}
	}
	if (s->nnull == 0 && (rc = vs_mspec_set(s, "null", "-", err, errlen)) < 0)
		goto out;
	if (strcmp(s->kind, "event") != 0 && (rc = vs_mspec_set(s, "kind", "event", err,
	    errlen)) < 0)
		goto out;
	rc = 0;
out:
	free(it);
	free(rxs);
	return rc;
}

vs_mspec_t *
vs_mspec_from_logformat(const char *logformat, const char *table, char *err, size_t errlen)
{
	vs_mspec_t *s = vs_mspec_alloc();
	char msg[384] = "";
	int rc;

	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if ((rc = vs_mspec_set(s, "name", "apache-logformat", msg, sizeof(msg))) < 0 ||
	    (rc = vs_mspec_set(s, "table", table != NULL ? table : "apache_access", msg,
	    sizeof(msg))) < 0 ||
	    (rc = vs_mspec_set(s, "description", "Apache access log (from its LogFormat)", msg,
	    sizeof(msg))) < 0 ||
	    (rc = vs_mspec_apply_logformat(s, logformat, msg, sizeof(msg))) < 0 ||
	    (rc = vs_mspec_finish(s, msg, sizeof(msg))) < 0) {
		snprintf(err, errlen, "LogFormat \"%.80s\": %s", logformat,
		    msg[0] ? msg : strerror(-rc));
		vs_mspec_destroy(&s);
		errno = -rc;
		return NULL;
	}
	return s;
}

/* The next word of an httpd config line: bare, or "quoted" with backslash escapes kept. */
static const char *
s_word(const char *p, char *out, size_t len)
{
	size_t o = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0') {
				if (o + 2 < len) {
					out[o++] = p[0];
					out[o++] = p[1];
				}
				p++;
				continue;
			}
			if (o + 1 < len)
				out[o++] = *p;
		}
		if (*p == '"')
			p++;
	} else {
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			if (o + 1 < len)
				out[o++] = *p;
			p++;
		}
	}
	out[o] = '\0';
	return p;
}

char *
vs_httpd_conf_logformat(const char *path, const char *nick, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[8192], w1[64], fmt[4096], w3[256], custom[256] = "", found[4096] = "",
	    last[4096] = "";
	char *r = NULL;
	unsigned lineno = 0;

	if (f == NULL) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	/* two passes in one: remember every nickname's format, then pick */
	struct { char nick[64]; char fmt[4096]; } *defs = calloc(64, sizeof(*defs));
	int ndefs = 0;
	if (defs == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL && lineno < 100000) {
		const char *p;
		lineno++;
		p = s_word(line, w1, sizeof(w1));
		if (strcasecmp(w1, "LogFormat") == 0) {
			p = s_word(p, fmt, sizeof(fmt));
			s_word(p, w3, sizeof(w3));
			snprintf(last, sizeof(last), "%s", fmt);
			if (ndefs < 64) {
				snprintf(defs[ndefs].nick, sizeof(defs[0].nick), "%.60s", w3);
				snprintf(defs[ndefs].fmt, sizeof(defs[0].fmt), "%s", fmt);
				ndefs++;
			}
		} else if (strcasecmp(w1, "CustomLog") == 0 && custom[0] == '\0') {
			char lp[512];
			p = s_word(p, lp, sizeof(lp));
			s_word(p, custom, sizeof(custom));
		}
	}
	fclose(f);
	{
		const char *want = nick != NULL ? nick : custom[0] ? custom : NULL;
		if (want != NULL) {
			for (int i = ndefs - 1; i >= 0; i--)
				if (strcmp(defs[i].nick, want) == 0) {
					snprintf(found, sizeof(found), "%s", defs[i].fmt);
					break;
				}
			if (found[0] == '\0' && nick == NULL && strchr(want, '%') != NULL)
				snprintf(found, sizeof(found), "%s", want);
			if (found[0] == '\0' && (strcmp(want, "common") == 0 ||
			    strcmp(want, "combined") == 0))
				snprintf(found, sizeof(found), "%s", want);
		} else {
			snprintf(found, sizeof(found), "%s", last);
		}
		if (found[0] == '\0')
			snprintf(err, errlen, "%s: no LogFormat %s%s", path, want ? "named " : "",
			    want ? want : "line");
	}
	free(defs);
	if (found[0] == '\0') {
		errno = ENOENT;
		return NULL;
	}
	r = strdup(found);
	if (r == NULL)
		errno = ENOMEM;
	return r;
}

/* ---- spec → text ---- */

static void
s_kv(s_buf_t *b, const char *k, const char *v)
{
	if (v == NULL)
		return;
	s_puts(b, k);
	s_puts(b, " = \"");
	s_puts(b, v);
	s_puts(b, "\"\n");
}

char *
vs_mspec_format(const vs_mspec_t *s)
{
	s_buf_t b = { NULL, 0, 256 * 1024, 0 };
	char tmp[256];

	b.p = malloc(b.cap);
	if (b.p == NULL)
		return NULL;
	b.p[0] = '\0';
	if (s->logformat != NULL) {
		s_puts(&b, "# derived from LogFormat \"");
		for (const char *p = s->logformat; *p; p++)
			s_put(&b, *p == '\n' ? " " : p, 1);
		s_puts(&b, "\"\n");
	}
	s_kv(&b, "name", s->name);
	if (s->description)
		s_kv(&b, "description", s->description);
	s_kv(&b, "kind", s->kind);
	s_kv(&b, "table", s->table);
	if (s->table_tokens) {
		snprintf(tmp, sizeof(tmp), "%d", s->table_tokens);
		s_kv(&b, "table-from-header", tmp);
		snprintf(tmp, sizeof(tmp), "%d", s->table_skip);
		s_kv(&b, "table-header-skip", tmp);
	}
	for (int i = 0; i < s->nmap; i++) {
		snprintf(tmp, sizeof(tmp), "%s %s", s->map_key[i], s->map_name[i]);
		s_kv(&b, "table-map", tmp);
	}
	for (int i = 0; i < s->ndetect; i++)
		s_kv(&b, "detect", s->detect[i].src);
	if (s->detect_name)
		s_kv(&b, "detect-name", s->detect_name);
	if (s->detect_record)
		s_kv(&b, "detect-record", "yes");
	for (int i = 0; i < s->ncontext; i++)
		s_kv(&b, "context", s->context[i].src);
	for (int i = 0; i < s->nrestart; i++)
		s_kv(&b, "restart", s->restart[i].src);
	for (int i = 0; i < s->nheader; i++)
		s_kv(&b, "header", s->header[i].src);
	for (int i = 0; i < s->nskip; i++)
		s_kv(&b, "skip", s->skip[i].src);
	for (int i = 0; i < s->nrecord; i++) {
		s_kv(&b, "record", s->record[i].src);
		s_kv(&b, "record-table", s->record_table[i]);
	}
	for (int i = 0; i < s->ntime; i++) {
		snprintf(tmp, sizeof(tmp), "%s %s", s->times[i].col, s->times[i].tmpl);
		s_kv(&b, "time", tmp);
		for (int k = 0; k < s->times[i].nfmt; k++)
			s_kv(&b, "time-format", s->times[i].fmts[k]);
	}
	if (s->zone)
		s_kv(&b, "zone", s->zone);
	if (s->host)
		s_kv(&b, "host", s->host);
	for (int i = 0; i < s->nnull; i++)
		s_kv(&b, "null", s->nulls[i]);
	s_kv(&b, "convert", s->convert);
	s_kv(&b, "convert-format", s->convert_format);
	if (b.err) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
