/* mscope unit tests: values and types, column names, time parsing, the spec reader, the
 * LogFormat derivation (golden files), schema inference and bad input, on real SQLite. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mscope.h"
#include "tap.h"
#include "wh.h"

static char s_tmp[256];

static char *
s_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b;
	size_t n;

	if (f == NULL)
		return NULL;
	b = calloc(1, 1 << 20);
	n = fread(b, 1, (1 << 20) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

static void
t_values(void)
{
	vs_mvalue_t v;
	char out[64];

	vs_mvalue_classify("12", 2, &v);
	tap_ok(v.type == VS_MT_INTEGER && v.i == 12, "12 is an integer");
	vs_mvalue_classify("-3", 2, &v);
	tap_ok(v.type == VS_MT_INTEGER && v.i == -3, "-3 is an integer");
	vs_mvalue_classify("21.24", 5, &v);
	tap_ok(v.type == VS_MT_REAL && v.d == 21.24, "21.24 is the real 21.24 (exactly strtod's)");
	vs_mvalue_classify("1e3", 3, &v);
	tap_ok(v.type == VS_MT_REAL && v.d == 1000, "1e3 is a real");
	vs_mvalue_classify("0x10", 4, &v);
	tap_ok(v.type == VS_MT_TEXT, "0x10 is text (no hex)");
	vs_mvalue_classify("nan", 3, &v);
	tap_ok(v.type == VS_MT_TEXT, "nan is text");
	vs_mvalue_classify("12ab", 4, &v);
	tap_ok(v.type == VS_MT_TEXT, "12ab is text");
	vs_mvalue_classify("", 0, &v);
	tap_ok(v.type == VS_MT_NULL, "empty is NULL");
	vs_mvalue_classify("123456789012345678901", 21, &v);
	tap_ok(v.type == VS_MT_REAL, "an integer beyond int64 is a real");
	tap_ok(vs_mtype_join(VS_MT_INTEGER, VS_MT_REAL) == VS_MT_REAL &&
	    vs_mtype_join(VS_MT_REAL, VS_MT_TIMESTAMP) == VS_MT_TIMESTAMP &&
	    vs_mtype_join(VS_MT_TEXT, VS_MT_INTEGER) == VS_MT_TEXT &&
	    vs_mtype_join(VS_MT_NULL, VS_MT_INTEGER) == VS_MT_INTEGER,
	    "lattice: integer < real < timestamp < text, NULL the identity");
	vs_mscope_colname("%usr", 4, out, sizeof(out));
	tap_ok(strcmp(out, "pct_usr") == 0, "column %%usr -> %s", out);
	vs_mscope_colname("rkB/s", 5, out, sizeof(out));
	tap_ok(strcmp(out, "rkb_s") == 0, "column rkB/s -> %s", out);
	vs_mscope_colname("[CPU]User%", 10, out, sizeof(out));
	tap_ok(strcmp(out, "cpu_user_pct") == 0, "column [CPU]User%% -> %s", out);
	vs_mscope_colname("1min", 4, out, sizeof(out));
	tap_ok(strcmp(out, "c_1min") == 0, "column 1min -> %s", out);
	vs_mscope_colname("---", 3, out, sizeof(out));
	tap_ok(strcmp(out, "col") == 0, "column --- -> %s", out);
}

static void
t_time(void)
{
	int64_t ns = 0;
	int off = 1;

	tap_ok(vs_mtime_parse("11/27/26 12:00:09 AM", 20, "%m/%d/%y %I:%M:%S %p", 0, &ns) == 0 &&
	    ns == 1795737609000000000, "12-hour 12:00:09 AM is 00:00:09 UTC");
	tap_ok(vs_mtime_parse("2026-11-27T00:00:10.048180", 26, "%Y-%m-%dT%H:%M:%S.%f", 0, &ns)
	    == 0 && ns == 1795737610048180000, "%%f reads microseconds");
	tap_ok(vs_mtime_parse("27/Nov/2026:01:00:10 +0100", 26, "%d/%b/%Y:%H:%M:%S %z", 0, &ns)
	    == 0 && ns == 1795737610000000000, "%%z: +0100 taken off");
	tap_ok(vs_mtime_parse("2026-11-27 01:00:10", 19, "%Y-%m-%d %H:%M:%S", 3600, &ns) == 0 &&
	    ns == 1795737610000000000, "a zone offset from the spec applies without %%z");
	tap_ok(vs_mtime_parse("1795737610048180", 16, "epoch-us", 0, &ns) == 0 &&
	    ns == 1795737610048180000, "epoch-us");
	tap_ok(vs_mtime_parse("1795737608.77", 13, "epoch-s", 0, &ns) == 0 &&
	    ns == 1795737608770000000, "epoch-s with a fraction");
	tap_ok(vs_mtime_parse("2026-11-27 00:00:10x", 20, "%Y-%m-%d %H:%M:%S", 0, &ns) == -EINVAL,
	    "trailing text is an error");
	tap_ok(vs_mtime_parse("17957376x", 9, "epoch-s", 0, &ns) == -EINVAL, "bad epoch");
	tap_ok(vs_mzone_parse("-05:30", &off) == 0 && off == -19800, "zone -05:30");
	tap_ok(vs_mzone_parse("+2500", &off) == -EINVAL && vs_mzone_parse("CET", &off) == -EINVAL,
	    "bad zones refused");
}

static void
t_spec_errors(void)
{
	static const struct {
		const char *text, *want;
	} c[] = {
		{ "name = x\nbogus = 1\nrecord = a\n", "x:2: unknown key" },
		{ "name = x\nrecord = \"(unclosed\"\n", "x:2: bad regular expression" },
		{ "name = x\n", "no record expression" },
		{ "name = x\ntime-format = %H\nrecord = a\n", "x:2: time-format before any time" },
		{ "name = x\nrecord = a\ntime = t ${a}\n", "time t has no time-format" },
		{ "name = X!\nrecord = a\n", "x:1: bad name" },
		{ "name = x\nrecord = \"a\n", "x:2: unterminated quoted value" },
		{ "name = x\nsuffix = K lots\nrecord = a\n", "x:2: suffix is" },
		{ "name = x\nzone = Mars\nrecord = a\n", "x:2: zone is" },
		{ "name = x\nlogformat = %Q\n", "x:2: unknown directive %Q" },
		{ "name = x\nno equals sign\n", "x:2: expected" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		vs_mspec_t *s;
		err[0] = '\0';
		s = vs_mspec_parse("x", c[i].text, strlen(c[i].text), err, sizeof(err));
		tap_ok(s == NULL && strstr(err, c[i].want) != NULL, "spec error: %s", err);
		vs_mspec_destroy(&s);
	}
	{
		char *big = malloc(5000);
		vs_mspec_t *s;
		memset(big, 'a', 4999);
		big[4999] = '\0';
		s = vs_mspec_parse("x", big, 4999, err, sizeof(err));
		tap_ok(s == NULL && strstr(err, "x:1: line longer") != NULL, "long line: %s", err);
		free(big);
	}
}

static void
t_logformat(const char *top)
{
	static const char *const cases[] = { "common", "combined", "milliscope", "msec", "end" };
	char path[512], err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *in, *ok, *got = NULL, *again = NULL;
		vs_mspec_t *s = NULL, *s2 = NULL;
		snprintf(path, sizeof(path), "%s/tests/data/mscope/lf-%s.in", top, cases[i]);
		in = s_slurp(path);
		snprintf(path, sizeof(path), "%s/tests/data/mscope/lf-%s.ok", top, cases[i]);
		ok = s_slurp(path);
		if (in == NULL || ok == NULL) {
			tap_ok(0, "golden %s: cannot read %s", cases[i], path);
			continue;
		}
		in[strcspn(in, "\n")] = '\0';
		s = vs_mspec_from_logformat(in, NULL, err, sizeof(err));
		if (s != NULL)
			got = vs_mspec_format(s);
		tap_ok(got != NULL && strcmp(got, ok) == 0, "LogFormat golden %s", cases[i]);
		if (got != NULL && strcmp(got, ok) != 0)
			tap_diag("got:\n%s", got);
		if (got != NULL)
			s2 = vs_mspec_parse("roundtrip", got, strlen(got), err, sizeof(err));
		if (s2 != NULL)
			again = vs_mspec_format(s2);
		/* the printed spec reads back to the same spec (the comment line aside) */
		tap_ok(again != NULL && strcmp(strchr(again, '\n') ? again : "", 
		    strchr(got, '\n') + 1) == 0, "golden %s: the printed spec reads back", cases[i]);
		free(in);
		free(ok);
		free(got);
		free(again);
		vs_mspec_destroy(&s);
		vs_mspec_destroy(&s2);
	}
	{
		static const struct {
			const char *lf, *want;
		} bad[] = {
			{ "%h %{Referer", "unterminated %{" },
			{ "%h %Q", "unknown directive %Q" },
			{ "%t %t", "two timestamps" },
			{ "%{usec}t %{usec}t", "two timestamps" },
			{ "%{%Y %Ez}t", "unsupported conversion" },
			{ "", "empty LogFormat" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			vs_mspec_t *s = vs_mspec_from_logformat(bad[i].lf, NULL, err, sizeof(err));
			tap_ok(s == NULL && strstr(err, bad[i].want) != NULL, "bad LogFormat: %s", err);
			vs_mspec_destroy(&s);
		}
	}
	{
		FILE *f;
		char *lf;
		snprintf(path, sizeof(path), "%s/httpd.conf", s_tmp);
		f = fopen(path, "w");
		fprintf(f, "ServerRoot /srv\nLogFormat \"%%h %%l %%u %%t \\\"%%r\\\" %%>s %%b\" common\n"
		    "  LogFormat \"%%h %%D %%{REQ_ID}e\" milli\nCustomLog logs/a.log milli\n");
		fclose(f);
		lf = vs_httpd_conf_logformat(path, NULL, err, sizeof(err));
		tap_ok(lf != NULL && strcmp(lf, "%h %D %{REQ_ID}e") == 0,
		    "httpd conf: the CustomLog's format (%s)", lf ? lf : err);
		free(lf);
		lf = vs_httpd_conf_logformat(path, "common", err, sizeof(err));
		tap_ok(lf != NULL && strcmp(lf, "%h %l %u %t \\\"%r\\\" %>s %b") == 0,
		    "httpd conf: a nickname's format, escapes kept for the deriver");
		free(lf);
		lf = vs_httpd_conf_logformat(path, "nosuch", err, sizeof(err));
		tap_ok(lf == NULL && strstr(err, "no LogFormat named nosuch") != NULL, "%s", err);
	}
}

static const char s_spec_text[] =
	"name = t\n"
	"table = t\n"
	"table-from-header = 1\n"
	"header = \"^# (?<header>.*)$\"\n"
	"skip = \"^;\"\n"
	"record = \"^(?<time>\\d+) (?<cols>.*)$\"\n"
	"time = time ${time}\n"
	"time-format = epoch-s\n"
	"null = -\n";

static sqlite3 *
s_db(const char *path)
{
	sqlite3 *db = NULL;

	sqlite3_open(path, &db);
	return db;
}

static char *
s_q(sqlite3 *db, const char *sql)
{
	static char out[4096];
	sqlite3_stmt *st;
	size_t o = 0;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(out, sizeof(out), "ERR %s", sqlite3_errmsg(db));
		return out;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? "|" : (o ? ";" : ""),
			    v ? v : "NULL");
			if (o >= sizeof(out))
				o = sizeof(out) - 1;
		}
	sqlite3_finalize(st);
	return out;
}

static int
s_load(vs_wh_t *wh, const vs_mspec_t *s, const char *name, const char *text, bool strict,
    vs_mload_result_t *r)
{
	vs_mload_opts_t o = { .run = "unit", .strict = strict };

	return vs_mscope_load_buf(wh, s, name, text, strlen(text), &o, r);
}

static void
t_inference(void)
{
	char err[512], path[512];
	vs_mspec_t *s = vs_mspec_parse("t", s_spec_text, strlen(s_spec_text), err, sizeof(err));
	vs_wh_t *wh;
	vs_mload_result_t r;
	sqlite3 *db;
	int rc;

	tap_ok(s != NULL, "test spec parses (%s)", s ? "" : err);
	if (s == NULL)
		return;
	snprintf(path, sizeof(path), "%s/w.db", s_tmp);
	wh = vs_wh_open(path, err, sizeof(err));
	tap_ok(wh != NULL, "warehouse opens (%s)", wh ? path : err);
	if (wh == NULL)
		return;
	rc = s_load(wh, s, "a.log",
	    "# dev v w\n"
	    "10 sda 1 -\n"
	    "11 sda 2.5 x\n"
	    "; a comment\n"
	    "12 sdb 3 7\n"
	    "# dev v w extra\n"
	    "13 sdc 4 8 9\n", false, &r);
	tap_ok(rc == 0 && r.rows == 4 && r.skipped == 3 && strcmp(r.status, "ok") == 0,
	    "4 rows, 3 header/comment lines skipped (rc %d rows %llu %s)", rc,
	    (unsigned long long)r.rows, r.error);
	db = s_db(path);
	tap_ok(strcmp(s_q(db, "select name, type from mscope_columns where table_name='t_dev'"
	    " order by pos"), "dev|text;v|real;w|text;extra|integer") == 0,
	    "types: v 1 then 2.5 is real, w '-' then x is text, extra added midway (%s)",
	    s_q(db, "select name, type from mscope_columns where table_name='t_dev' order by pos"));
	tap_ok(strcmp(s_q(db, "select time_ns, dev, v, w, extra from t_dev order by time_ns"),
	    "10000000000|sda|1.0|NULL|NULL;11000000000|sda|2.5|x|NULL;12000000000|sdb|3.0|7|NULL;"
	    "13000000000|sdc|4.0|8|9") == 0, "rows: NULL for '-', new device sdc and column extra"
	    " midway keep the earlier rows (%s)", s_q(db, "select time_ns, dev, v, w, extra from"
	    " t_dev order by time_ns"));
	/* a line that does not parse: skipped, counted, named */
	rc = s_load(wh, s, "b.log", "# dev v\n20 sda 1\n21 sda 1 2 3\n22 sda 5\n", false, &r);
	tap_ok(rc == 0 && r.rows == 2 && r.unparsed == 1 && strstr(r.error, "b.log:3:") != NULL,
	    "unparsed line counted and named: %s", r.error);
	/* strict: the first bad line ends the load; the rows before it stay */
	rc = s_load(wh, s, "c.log", "# dev v\n30 sda 1\nnonsense\n31 sda 5\n", true, &r);
	tap_ok(rc < 0 && r.rows == 1 && strcmp(r.status, "truncated") == 0 &&
	    strstr(r.error, "c.log:3: line does not match") != NULL, "--strict: %s", r.error);
	tap_ok(strcmp(s_q(db, "select count(*) from t_dev where time_ns=30000000000"), "1") == 0,
	    "... the row before it was committed");
	/* a cut last line */
	rc = s_load(wh, s, "d.log", "# dev v\n40 sda 1\n41 sd", false, &r);
	tap_ok(rc < 0 && r.rows == 1 && strcmp(r.status, "truncated") == 0 &&
	    strstr(r.error, "d.log:3: file ends in a cut line") != NULL, "cut line: %s", r.error);
	/* binary data */
	rc = vs_mscope_load_buf(wh, s, "e.bin", "\x7f" "ELF\0\0\x01\n", 8,
	    &(vs_mload_opts_t){ .run = "unit" }, &r);
	tap_ok(rc < 0 && r.rows == 0 && strcmp(r.status, "failed") == 0 &&
	    strstr(r.error, "e.bin:1: binary data") != NULL, "binary: %s", r.error);
	/* a wrong format: nothing written, the failed load recorded */
	{
		char *junk = malloc(100 * 20 + 1);
		for (int i = 0; i < 100; i++)
			memcpy(junk + i * 20, "this is not a log!!\n", 20);
		junk[2000] = '\0';
		rc = s_load(wh, s, "f.txt", junk, false, &r);
		free(junk);
	}
	tap_ok(rc < 0 && r.rows == 0 && strstr(r.error, "not a t log") != NULL, "wrong format: %s",
	    r.error);
	tap_ok(strcmp(s_q(db, "select status, rows from loads l join sources s using (source_id)"
	    " where s.path='f.txt'"), "failed|0") == 0, "... recorded as a failed load");
	/* a record with a time that does not parse */
	rc = s_load(wh, s, "g.log", "# dev v\n5x sda 1\n50 sda 1\n", false, &r);
	tap_ok(rc == 0 && r.rows == 1 && r.unparsed == 1, "a bad time skips the line (%s)",
	    r.error);
	sqlite3_close(db);
	vs_wh_destroy(&wh);
	vs_wh_destroy(&wh);
	tap_ok(wh == NULL, "vs_wh_destroy is safe twice");
	vs_mspec_destroy(&s);
	wh = vs_wh_open("postgresql://u:secret@127.0.0.1:1/x?connect_timeout=5", err, sizeof(err));
	tap_ok(wh == NULL && (strstr(err, "no PostgreSQL backend") != NULL ||
	    strstr(err, "cannot connect to the PostgreSQL warehouse") != NULL) &&
	    strstr(err, "secret") == NULL, "unreachable PostgreSQL: %s", err);
	snprintf(path, sizeof(path), "%s/notadb", s_tmp);
	{
		FILE *f = fopen(path, "w");
		fputs("this is not a database file, but text long enough to look like a header....\n"
		    "................................................................\n", f);
		fclose(f);
	}
	wh = vs_wh_open(path, err, sizeof(err));
	tap_ok(wh == NULL && strstr(err, "not a database") != NULL, "not a database: %s", err);
}

static void
t_detect(const char *top)
{
	char dir[512], err[512];
	vs_mspec_t **v = NULL;
	size_t n = 0;
	int rc;
	const vs_mspec_t *s;
	static const char sar[] = "Linux 6.1 (h) \t11/27/26 \t_x86_64_\t(2 CPU)\n\n"
		"00:00:08        CPU      %usr\n00:00:09        all     21.24\n";
	static const char sa[] = "\x96\xd5\x75\x21";

	snprintf(dir, sizeof(dir), "%s/mscope/specs", top);
	rc = vs_mspec_load_dir(dir, &v, &n, err, sizeof(err));
	tap_ok(rc == 0 && n >= 12, "built-in specs load: %zu (%s)", n, rc ? err : "");
	s = vs_mspec_detect(v, n, "x.txt", sar, sizeof(sar) - 1, &rc, err, sizeof(err));
	tap_ok(s != NULL && strcmp(vs_mspec_name(s), "sar") == 0, "sar text detected");
	s = vs_mspec_detect(v, n, "sa27", sa, 4, &rc, err, sizeof(err));
	tap_ok(s != NULL && strcmp(vs_mspec_name(s), "sa") == 0, "sa binary detected by magic");
	s = vs_mspec_detect(v, n, "x", "hello\nworld\n", 12, &rc, err, sizeof(err));
	tap_ok(s == NULL && rc == -ENOENT && strstr(err, "not recognised") != NULL, "%s", err);
	s = vs_mspec_detect(v, n, "x", "\0\1\2\3\n", 5, &rc, err, sizeof(err));
	tap_ok(s == NULL && rc == -ENOENT, "binary junk: no text spec takes it");
	{
		static const char a[] = "name = a\nrecord = x\ndetect = \"^x\"\n";
		static const char b[] = "name = b\nrecord = x\ndetect = \"x$\"\n";
		vs_mspec_t *two[2];
		two[0] = vs_mspec_parse("a", a, sizeof(a) - 1, err, sizeof(err));
		two[1] = vs_mspec_parse("b", b, sizeof(b) - 1, err, sizeof(err));
		s = vs_mspec_detect(two, 2, "f", "x\n", 2, &rc, err, sizeof(err));
		tap_ok(s == NULL && rc == -EEXIST && strstr(err, "cannot tell a from b") != NULL,
		    "a tie: %s", err);
		vs_mspec_destroy(&two[0]);
		vs_mspec_destroy(&two[1]);
	}
	vs_mspec_free_all(&v, n);
}

struct s_rows {
	char out[2048];
	size_t o;
};

static int
s_row(void *arg, size_t ncol, const vs_mvalue_t *v)
{
	struct s_rows *r = arg;

	for (size_t i = 0; i < ncol && r->o < sizeof(r->out) - 64; i++) {
		static const char tc[] = "NIRTS";
		char *p = r->out + r->o;
		size_t left = sizeof(r->out) - r->o;
		int k = v[i].type == VS_MT_INTEGER || v[i].type == VS_MT_TIMESTAMP
		    ? snprintf(p, left, "%c%lld", tc[v[i].type], (long long)v[i].i)
		    : v[i].type == VS_MT_REAL ? snprintf(p, left, "R%g", v[i].d)
		    : v[i].type == VS_MT_TEXT ? snprintf(p, left, "S%.*s", (int)v[i].n, v[i].s)
		    : snprintf(p, left, "N");
		r->o += (size_t)k;
		r->out[r->o++] = i + 1 < ncol ? '|' : ';';
		r->out[r->o] = '\0';
	}
	return 0;
}

/* The query API (vs_wh_select) on the warehouse at url: typed values, windows, runs. */
static void
t_select(const char *url, const char *what)
{
	char err[512];
	vs_mspec_t *s = vs_mspec_parse("t", s_spec_text, strlen(s_spec_text), err, sizeof(err));
	vs_wh_t *wh = vs_wh_open(url, err, sizeof(err));
	vs_mload_result_t r;
	struct s_rows rows = { "", 0 };
	static const char *const cols[] = { "time_ns", "dev", "v", "w" };
	vs_wh_window_t win = { NULL, 11000000000, 13000000000, cols, 4 };
	const vs_wh_table_t *t;
	vs_mload_opts_t o1 = { .run = "sel1" }, o2 = { .run = "sel2" };
	const char *l1 = "# dev v w\n10 sda 1 -\n11 sda 2.5 x\n12 sdb 3 7\n";
	const char *l2 = "# dev v w\n12 sdc 9 y\n";
	int rc;

	tap_ok(wh != NULL && s != NULL, "%s: warehouse opens (%s)", what, wh ? "" : err);
	if (wh == NULL || s == NULL) {
		vs_mspec_destroy(&s);
		return;
	}
	rc = vs_mscope_load_buf(wh, s, "s1.log", l1, strlen(l1), &o1, &r);
	if (rc == 0)
		rc = vs_mscope_load_buf(wh, s, "s2.log", l2, strlen(l2), &o2, &r);
	tap_ok(rc == 0, "%s: two runs load (%s)", what, r.error);
	rc = vs_wh_select(wh, "t_dev", &win, s_row, &rows);
	tap_ok(rc == 0 && (strcmp(rows.out, "T11000000000|Ssda|R2.5|Sx;T12000000000|Ssdb|R3|S7;"
	    "T12000000000|Ssdc|R9|Sy;") == 0 || strcmp(rows.out, "T11000000000|Ssda|R2.5|Sx;"
	    "T12000000000|Ssdc|R9|Sy;T12000000000|Ssdb|R3|S7;") == 0),
	    "%s: [11 s, 13 s): typed values, 3 widened to real, 7 widened to text (%d %s)", what,
	    rc, rows.out);
	rows.o = 0;
	rows.out[0] = '\0';
	win.run = "sel2";
	win.from_ns = INT64_MIN;
	win.to_ns = INT64_MAX;
	rc = vs_wh_select(wh, "t_dev", &win, s_row, &rows);
	tap_ok(rc == 0 && strcmp(rows.out, "T12000000000|Ssdc|R9|Sy;") == 0,
	    "%s: only the run sel2 (%s)", what, rows.out);
	rows.o = 0;
	rows.out[0] = '\0';
	win.run = "sel1";
	win.cols = NULL;
	win.to_ns = 11000000000;
	rc = vs_wh_select(wh, "t_dev", &win, s_row, &rows);
	tap_ok(rc == 0 && strncmp(rows.out, "I", 1) == 0 && strstr(rows.out,
	    "|T10000000000|Ssda|R1|N;") != NULL && strchr(rows.out, ';')[1] == '\0',
	    "%s: every column: load_id, host_id, time_ns, then the table's (%s)", what, rows.out);
	t = vs_wh_table_info(wh, "t_dev", &rc);
	tap_ok(t != NULL && t->ncols == 3 && t->types[1] == VS_MT_REAL &&
	    t->types[2] == VS_MT_TEXT, "%s: the catalog: dev, v real, w text", what);
	rc = vs_wh_select(wh, "nosuch", NULL, s_row, &rows);
	tap_ok(rc == -ENOENT && strstr(vs_wh_error(wh), "no table nosuch") != NULL, "%s: %s", what,
	    vs_wh_error(wh));
	win.cols = (const char *const[]){ "time_ns", "v; drop table runs" };
	win.ncols = 2;
	rc = vs_wh_select(wh, "t_dev", &win, s_row, &rows);
	tap_ok(rc == -EINVAL && strstr(vs_wh_error(wh), "bad column name") != NULL, "%s: %s", what,
	    vs_wh_error(wh));
	win.cols = (const char *const[]){ "time_ns", "nosuch" };
	rc = vs_wh_select(wh, "t_dev", &win, s_row, &rows);
	tap_ok(rc == -ENOENT && strstr(vs_wh_error(wh), "no column nosuch") != NULL, "%s: %s",
	    what, vs_wh_error(wh));
	vs_wh_destroy(&wh);
	vs_mspec_destroy(&s);
}

static int
s_count_fn(void *arg, int ncol, const char *const *vals)
{
	if (ncol > 0 && vals[0] != NULL)
		*(long *)arg = atol(vals[0]);
	return 0;
}

/* Times of day after the first parse of a date come from its cached midnight: the same
 * values strptime/timegm give, a bad time of day still refused, a new date parsed again. */
static void
t_time_of_day(void)
{
	static const char spec[] =
	    "name = tod\ntable = tod\n"
	    "context = \"^date (?<date>\\S+)$\"\n"
	    "record = \"^(?<time>\\S+) (?<v>\\d+)$\"\n"
	    "time = time ${date} ${time}\n"
	    "time-format = %Y-%m-%d %H:%M:%S\n";
	char err[512], path[512];
	vs_mspec_t *s = vs_mspec_parse("tod", spec, strlen(spec), err, sizeof(err));
	vs_mload_result_t r;
	vs_wh_t *wh;
	sqlite3 *db;
	int rc;

	snprintf(path, sizeof(path), "%s/tod.db", s_tmp);
	wh = s != NULL ? vs_wh_open(path, err, sizeof(err)) : NULL;
	tap_ok(wh != NULL, "time-of-day spec and warehouse (%s)", wh != NULL ? path : err);
	if (wh == NULL)
		goto out;
	rc = s_load(wh, s, "tod.log", "date 2026-11-27\n00:00:01 1\n00:00:02 2\n23:59:59 3\n"
	    "12:34:56 4\n25:00:00 5\n00:60:00 6\n00:00:60 7\n7:00:00 8\ndate 2026-11-28\n"
	    "00:00:01 9\n", false, &r);
	tap_ok(rc == 0 && r.rows == 7 && r.unparsed == 2, "7 rows, 25:00:00 and 00:60:00 refused"
	    " (rc %d, %llu rows, %llu unparsed: %s)", rc, (unsigned long long)r.rows,
	    (unsigned long long)r.unparsed, r.error);
	vs_wh_destroy(&wh);
	db = s_db(path);
	/* 2026-11-27T00:00:00Z is 1795737600 */
	tap_ok(strcmp(s_q(db, "select group_concat(v || '@' || (time_ns / 1000000000 -"
	    " 1795737600), ' ') from (select * from tod order by v)"), "1@1 2@2 3@86399 4@45296"
	    " 7@60 8@25200 9@86401") == 0, "times of day from the cached date (%s)", s_q(db,
	    "select group_concat(v || '@' || (time_ns / 1000000000 - 1795737600), ' ') from"
	    " (select * from tod order by v)"));
	sqlite3_close(db);
out:
	vs_mspec_destroy(&s);
}

/* The warehouse refuses rows midway (full: max_page_count): the load fails as a whole,
 * says why, and the warehouse keeps what was committed before, intact and consistent. */
static void
t_full(void)
{
	char err[512], path[512];
	vs_mspec_t *s = vs_mspec_parse("t", s_spec_text, strlen(s_spec_text), err, sizeof(err));
	vs_wh_t *wh;
	vs_mload_result_t r;
	size_t n = 200000, o = 0, cap = n * 40 + 16;
	char *big = malloc(cap);
	sqlite3 *db;
	long pages = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/full.db", s_tmp);
	wh = s != NULL ? vs_wh_open(path, err, sizeof(err)) : NULL;
	tap_ok(wh != NULL && big != NULL, "warehouse for the full test opens");
	if (wh == NULL || big == NULL)
		goto out;
	rc = s_load(wh, s, "small.log", "# dev v\n10 sda 1\n11 sda 2\n", false, &r);
	tap_ok(rc == 0 && r.rows == 2, "the state before: 2 rows (%s)", r.error);
	o = (size_t)snprintf(big, cap, "# dev v w\n");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(big + o, cap - o, "%zu sd%c %zu text-%zu\n", 100 + i,
		    (char)('a' + i % 3), i, i);
	vs_wh_query(wh, "PRAGMA page_count", NULL, 0, s_count_fn, &pages);
	{
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %ld", pages + 6);
		vs_wh_query(wh, sql, NULL, 0, NULL, NULL);
	}
	rc = vs_mscope_load_buf(wh, s, "big.log", big, o, &(vs_mload_opts_t){ .run = "unit" }, &r);
	tap_ok(rc < 0 && strcmp(r.status, "failed") == 0 && r.rows == 0 &&
	    strstr(r.error, "big.log:") != NULL && strstr(r.error, "full") != NULL,
	    "a warehouse that fills up midway: the load fails, none of its rows kept, said why"
	    " (rc %d, %s, %llu rows: %s)", rc, r.status, (unsigned long long)r.rows, r.error);
	vs_wh_destroy(&wh);
	db = s_db(path);
	tap_ok(strcmp(s_q(db, "pragma integrity_check"), "ok") == 0, "... the file is intact");
	tap_ok(strcmp(s_q(db, "select count(*), min(time_ns), max(time_ns) from t_dev"),
	    "2|10000000000|11000000000") == 0, "... and holds the state before (%s)",
	    s_q(db, "select count(*), min(time_ns), max(time_ns) from t_dev"));
	tap_ok(strcmp(s_q(db, "select sum(rows) from loads where status in ('ok', 'truncated')"),
	    "2") == 0, "... which the loads table accounts for (%s)",
	    s_q(db, "select group_concat(status || ':' || rows) from loads"));
	sqlite3_close(db);
	/* without the limit, the same load goes in whole */
	wh = vs_wh_open(path, err, sizeof(err));
	rc = wh != NULL ? vs_mscope_load_buf(wh, s, "big.log", big, o,
	    &(vs_mload_opts_t){ .run = "unit" }, &r) : -1;
	tap_ok(rc == 0 && r.rows == n, "the same load with room: %zu rows (%s)", n, r.error);
	vs_wh_destroy(&wh);
	db = s_db(path);
	{
		char want[64];
		snprintf(want, sizeof(want), "%zu|%zu", n + 2, n);
		tap_ok(strcmp(s_q(db, "select count(*), count(w) from t_dev"), want) == 0,
		    "... every row there once (%s)", s_q(db, "select count(*), count(w) from t_dev"));
	}
	tap_ok(strcmp(s_q(db, "select count(*) from t_dev where v + 100 != time_ns / 1000000000"
	    " and w is not null"), "0") == 0, "... each with its own values");
	sqlite3_close(db);
out:
	free(big);
	vs_mspec_destroy(&s);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");

	if (top == NULL)
		top = "..";
	snprintf(s_tmp, sizeof(s_tmp), "/tmp/test_mscope.XXXXXX");
	if (mkdtemp(s_tmp) == NULL)
		tap_skip_all("no temporary directory");
	t_values();
	t_time();
	t_spec_errors();
	t_logformat(top);
	t_inference();
	t_full();
	t_time_of_day();
	t_detect(top);
	{
		char url[300];
		snprintf(url, sizeof(url), "sqlite:%s/sel.db", s_tmp);
		t_select(url, "sqlite");
		if (getenv("VSCOPE_TEST_PG_URL") != NULL)
			t_select(getenv("VSCOPE_TEST_PG_URL"), "postgresql");
	}
	{
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_tmp);
		if (system(cmd) != 0)
			tap_diag("cannot remove %s", s_tmp);
	}
	return tap_done();
}
