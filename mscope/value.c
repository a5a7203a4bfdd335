/* Values, the type lattice, column names and time parsing for the transformer. */
#include "mscope.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const s_type_names[] = { "null", "integer", "real", "timestamp", "text" };

const char *
vs_mtype_name(vs_mtype_t t)
{
	return (unsigned)t <= VS_MT_TEXT ? s_type_names[t] : "text";
}

int
vs_mtype_parse(const char *name, vs_mtype_t *t_r)
{
	for (unsigned i = 0; i <= VS_MT_TEXT; i++)
		if (strcmp(name, s_type_names[i]) == 0) {
			*t_r = (vs_mtype_t)i;
			return 0;
		}
	return -EINVAL;
}

static const double s_pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

void
vs_mvalue_classify(const char *s, size_t n, vs_mvalue_t *v)
{
	size_t i = 0, digits = 0, fdigits = 0;
	uint64_t m = 0;
	int neg = 0, dot = 0;

	v->s = s;
	v->n = n;
	if (n == 0) {
		v->type = VS_MT_NULL;
		return;
	}
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i++;
	}
	for (; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			if (digits < 19)
				m = m * 10 + (uint64_t)(c - '0');
			digits++;
			fdigits += dot;
		} else if (c == '.' && !dot) {
			dot = 1;
		} else {
			break;
		}
	}
	if (i == n && digits > 0 && digits <= 18) {
		if (!dot) {
			v->type = VS_MT_INTEGER;
			v->i = neg ? -(int64_t)m : (int64_t)m;
			return;
		}
		/* exact operands, one correctly rounded division */
		if (fdigits <= 22 && m < (1ull << 53)) {
			v->type = VS_MT_REAL;
			v->d = (double)m / s_pow10[fdigits];
			if (neg)
				v->d = -v->d;
			return;
		}
	}
	if (n < 64 && digits > 0) {
		char buf[64], *end;
		memcpy(buf, s, n);
		buf[n] = '\0';
		errno = 0;
		if (!dot && (s[0] != '+') && i == n) {
			long long ll = strtoll(buf, &end, 10);
			if (errno == 0 && *end == '\0') {
				v->type = VS_MT_INTEGER;
				v->i = ll;
				return;
			}
			errno = 0;
		}
		/* decimal forms only: no hex, inf or nan from strtod */
		int plain = 1;
		for (size_t k = 0; k < n; k++)
			if (!(isdigit((unsigned char)buf[k]) || strchr("+-.eE", buf[k])))
				plain = 0;
		if (plain) {
			double d = strtod(buf, &end);
			if (*end == '\0' && end != buf && errno == 0) {
				v->type = VS_MT_REAL;
				v->d = d;
				return;
			}
		}
	}
	v->type = VS_MT_TEXT;
}

size_t
vs_mscope_colname(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	int under = 1;          /* suppresses leading and repeated '_' */

	if (outlen < 8)
		return 0;
	for (size_t i = 0; i < n && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c)) {
			if (o == 0 && isdigit(c)) {
				out[o++] = 'c';
				out[o++] = '_';
			}
			out[o++] = (char)tolower(c);
			under = 0;
		} else if (c == '%') {
			if (!under)
				out[o++] = '_';
			memcpy(out + o, "pct_", 4);
			o += 4;
			under = 1;
		} else if (!under) {
			out[o++] = '_';
			under = 1;
		}
	}
	while (o > 0 && out[o - 1] == '_')
		o--;
	if (o == 0) {
		memcpy(out, "col", 3);
		o = 3;
	}
	out[o] = '\0';
	return o;
}

int
vs_mzone_parse(const char *s, int *off_r)
{
	int sign, h, m = 0;

	if (strcmp(s, "UTC") == 0 || strcmp(s, "Z") == 0 || strcmp(s, "GMT") == 0) {
		*off_r = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]))
		return -EINVAL;
	sign = s[0] == '-' ? -1 : 1;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	s += 3;
	if (*s == ':')
		s++;
	if (*s != '\0') {
		if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != '\0')
			return -EINVAL;
		m = (s[0] - '0') * 10 + (s[1] - '0');
	}
	if (h > 23 || m > 59)
		return -EINVAL;
	*off_r = sign * (h * 3600 + m * 60);
	return 0;
}

static int
s_epoch(const char *s, size_t n, int64_t unit_ns, int64_t *ns_r)
{
	size_t i = 0;
	int64_t whole = 0, frac = 0, scale = unit_ns, max = (INT64_MAX / 10 - 10) / unit_ns;
	int neg = 0, any = 0;

	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (i < n && s[i] == '-') {
		neg = 1;
		i++;
	}
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, any = 1) {
		if (whole > max)
			return -ERANGE;
		whole = whole * 10 + (s[i] - '0');
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && isdigit((unsigned char)s[i]); i++) {
			if (scale >= 10) {
				scale /= 10;
				frac += (s[i] - '0') * scale;
			}
		}
	}
	if (!any || i != n)
		return -EINVAL;
	if (whole > 5000000000000000000LL / unit_ns)
		return -ERANGE;
	*ns_r = (neg ? -1 : 1) * (whole * unit_ns + frac);
	return 0;
}

int
vs_mtime_parse(const char *s, size_t n, const char *fmt, int zone_off_s, int64_t *ns_r)
{
	char buf[128], seg[64];
	const char *p, *f;
	struct tm tm;
	int64_t frac = 0, t;

	if (strncmp(fmt, "epoch-", 6) == 0) {
		const char *u = fmt + 6;
		int64_t unit = strcmp(u, "s") == 0 ? 1000000000 : strcmp(u, "ms") == 0 ? 1000000
		    : strcmp(u, "us") == 0 ? 1000 : strcmp(u, "ns") == 0 ? 1 : 0;
		return unit ? s_epoch(s, n, unit, ns_r) : -EINVAL;
	}
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = 1;
	p = buf;
	f = fmt;
	while (*f != '\0') {
		const char *ff = strstr(f, "%f");
		size_t sl = ff != NULL ? (size_t)(ff - f) : strlen(f);
		if (sl > 0) {
			if (sl >= sizeof(seg))
				return -EINVAL;
			memcpy(seg, f, sl);
			seg[sl] = '\0';
			p = strptime(p, seg, &tm);
			if (p == NULL)
				return -EINVAL;
		}
		if (ff == NULL)
			break;
		{
			int64_t scale = 100000000;
			int any = 0;
			for (; isdigit((unsigned char)*p); p++, any = 1) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
			if (!any)
				return -EINVAL;
		}
		f = ff + 2;
	}
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return -EINVAL;
	{
		long gmtoff = tm.tm_gmtoff;     /* timegm() resets it */
		t = (int64_t)timegm(&tm);
		if (strstr(fmt, "%z") != NULL)
			t -= gmtoff;
		else
			t -= zone_off_s;
	}
	/* int64 nanoseconds: keep well inside (years 1811 to 2128), rollover adds days */
	if (t < -5000000000LL || t > 5000000000LL)
		return -ERANGE;
	*ns_r = t * 1000000000 + frac;
	return 0;
}
