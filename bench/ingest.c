/*
 * bench/ingest: lines per second from a log file to the SQLite warehouse (one streaming
 * pass, vs_mscope_load), for the Apache milliScope access log and sar -A text, against
 * `sqlite3 .import` of the same rows as CSV into a table of the same shape, in the same run.
 * Inputs are the fixture files repeated to size in a temporary directory.
 *   usage: bench/ingest [DATA_DIR [REPEAT]]   (default $top_srcdir/../shared/data, 40)
 * Prints "name: value unit" lines; the headline (the smaller ingest/.import ratio) last.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mscope.h"
#include "wh.h"

static double
s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
s_repeat(const char *src, const char *dst, int n, long *lines_r)
{
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	char *buf;
	size_t len;
	long lines = 0;

	if (in == NULL || out == NULL)
		return -errno;
	buf = malloc(4 << 20);
	len = fread(buf, 1, 4 << 20, in);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	for (int i = 0; i < n; i++)
		fwrite(buf, 1, len, out);
	fclose(in);
	fclose(out);
	free(buf);
	*lines_r = lines * n;
	return 0;
}

/* .import of every data table of db (as CSV) into a fresh db of the same schema. */
static int
s_import(const char *tmp, const char *db, const char *like, double *secs_r, long *rows_r)
{
	static char cmd[32768], csvs[16384];
	char line[256];
	FILE *p;
	double t0, t;
	int rc;

	snprintf(cmd, sizeof(cmd), "sqlite3 %s \"select name from mscope_tables where name like"
	    " '%s'\"", db, like);
	csvs[0] = '\0';
	p = popen(cmd, "r");
	if (p == NULL)
		return -errno;
	*rows_r = 0;
	/* the import database gets the warehouse's page size (set before its first table) */
	snprintf(cmd, sizeof(cmd), "rm -f %s/imp.db %s/imp.sql && sqlite3 %s 'PRAGMA page_size'"
	    " | sed 's/.*/PRAGMA page_size=&;/' > %s/imp.sql", tmp, tmp, db, tmp);
	if (system(cmd) != 0)
		return -EIO;
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(cmd, sizeof(cmd), "sqlite3 -csv %s \"select * from \\\"%s\\\"\" > %s/%s.csv"
		    " && sqlite3 %s \".schema \\\"%s\\\"\" | sed '/CREATE INDEX/d' >> %s/imp.sql"
		    " && echo '.import --csv %s/%s.csv %s' >> %s/imp.cmd", db, line, tmp, line, db,
		    line, tmp, tmp, line, line, tmp);
		if (system(cmd) != 0) {
			pclose(p);
			return -EIO;
		}
		snprintf(csvs + strlen(csvs), sizeof(csvs) - strlen(csvs), " %s/%s.csv", tmp, line);
	}
	pclose(p);
	snprintf(cmd, sizeof(cmd), "cat %s | wc -l", csvs);
	p = popen(cmd, "r");
	if (p != NULL && fgets(line, sizeof(line), p) != NULL)
		*rows_r = atol(line);
	if (p != NULL)
		pclose(p);
	snprintf(cmd, sizeof(cmd), "sqlite3 %s/imp.db < %s/imp.sql", tmp, tmp);
	if (system(cmd) != 0)
		return -EIO;
	/* the same settings as the warehouse (wh_sqlite.c): WAL, synchronous=NORMAL, its page
	 * cache, one transaction (.import makes one); no time index (the ingest builds one) */
	snprintf(cmd, sizeof(cmd), "sqlite3 -cmd 'PRAGMA journal_mode=WAL' -cmd"
	    " 'PRAGMA synchronous=NORMAL' -cmd 'PRAGMA cache_size=-65536' %s/imp.db < %s/imp.cmd"
	    " > /dev/null", tmp, tmp);
	t0 = s_now();
	rc = system(cmd);
	t = s_now() - t0;
	snprintf(cmd, sizeof(cmd), "rm -f %s/imp.cmd %s", tmp, csvs);
	if (system(cmd) != 0 || rc != 0)
		return -EIO;
	*secs_r = t;
	return 0;
}

/*
 * What SQLite itself reaches for the same rows: INSERT ... SELECT from the loaded tables into
 * tables of the same shape in a fresh database with the warehouse's settings, the time index
 * built and committed, no parsing or binding at all (the WHERE keeps SQLite from copying
 * records as they are). A ceiling for any loader on this machine, not a baseline to beat.
 */
static int
s_copy(const char *tmp, const char *db, const char *like, double *secs_r)
{
	static char cmd[4096];
	double t0;
	int rc;

	snprintf(cmd, sizeof(cmd), "rm -f %s/cp.db* && sqlite3 %s 'PRAGMA page_size' | sed"
	    " 's/.*/PRAGMA page_size=&;/' > %s/cp.sql && sqlite3 %s \"select sql || ';' from"
	    " sqlite_master where type = 'table' and name like '%s'\" >> %s/cp.sql && sqlite3"
	    " %s/cp.db < %s/cp.sql && (echo \"ATTACH '%s' AS src; BEGIN;\"; sqlite3 %s \"select"
	    " 'INSERT INTO \\\"' || name || '\\\" SELECT * FROM src.\\\"' || name || '\\\" WHERE"
	    " load_id > 0; CREATE INDEX \\\"' || name || '_time\\\" ON \\\"' || name ||"
	    " '\\\" (time_ns);' from sqlite_master where type = 'table' and name like '%s'\";"
	    " echo 'COMMIT;') > %s/cp.cmd", tmp, db, tmp, db, like, tmp, tmp, tmp, db, db, like,
	    tmp);
	if (system(cmd) != 0)
		return -EIO;
	snprintf(cmd, sizeof(cmd), "sqlite3 -cmd 'PRAGMA journal_mode=WAL' -cmd"
	    " 'PRAGMA synchronous=NORMAL' -cmd 'PRAGMA cache_size=-65536' %s/cp.db < %s/cp.cmd"
	    " > /dev/null", tmp, tmp);
	t0 = s_now();
	rc = system(cmd);
	*secs_r = s_now() - t0;
	snprintf(cmd, sizeof(cmd), "rm -f %s/cp.db* %s/cp.sql %s/cp.cmd", tmp, tmp, tmp);
	if (system(cmd) != 0 || rc != 0)
		return -EIO;
	return 0;
}

static int
s_one(const char *name, const char *tmp, const char *src, int rep, const char *fmt,
    const char *like, vs_mspec_t **specs, size_t n, double *ratio_r)
{
	char in[512], db[512], err[512];
	const vs_mspec_t *spec = NULL;
	vs_mload_opts_t o = { .run = "bench", .specs = specs, .nspecs = n };
	vs_mload_result_t res;
	vs_wh_t *wh;
	long lines = 0, rows = 0;
	double t0, t, ti = 0, tc = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (strcmp(vs_mspec_name(specs[i]), fmt) == 0)
			spec = specs[i];
	snprintf(in, sizeof(in), "%s/%s.in", tmp, name);
	snprintf(db, sizeof(db), "%s/%s.db", tmp, name);
	if (spec == NULL || s_repeat(src, in, rep, &lines) < 0) {
		fprintf(stderr, "ingest: cannot prepare %s\n", name);
		return -1;
	}
	/* from opening the warehouse to closing it (its last checkpoint included), as the
	 * .import run below is timed from the sqlite3 process's start to its end */
	t0 = s_now();
	wh = vs_wh_open(db, err, sizeof(err));
	if (wh == NULL) {
		fprintf(stderr, "ingest: %s\n", err);
		return -1;
	}
	rc = vs_mscope_load(wh, spec, in, &o, &res);
	vs_wh_destroy(&wh);
	t = s_now() - t0;
	if (rc < 0) {
		fprintf(stderr, "ingest: %s\n", res.error);
		return -1;
	}
	printf("%s_lines: %ld lines\n", name, lines);
	printf("%s_rows: %llu rows\n", name, (unsigned long long)res.rows);
	printf("%s_ingest: %.0f lines/s\n", name, (double)lines / t);
	printf("%s_ingest_rows: %.0f rows/s\n", name, (double)res.rows / t);
	if (s_import(tmp, db, like, &ti, &rows) < 0) {
		fprintf(stderr, "ingest: sqlite3 .import failed (is the sqlite3 CLI installed?)\n");
		return -1;
	}
	printf("%s_sqlite3_import: %.0f rows/s\n", name, (double)rows / ti);
	if (s_copy(tmp, db, like, &tc) == 0)
		printf("%s_sqlite3_insert_select: %.0f rows/s\n", name, (double)res.rows / tc);
	*ratio_r = ((double)res.rows / t) / ((double)rows / ti);
	printf("%s_ingest_vs_import: %.2f ratio\n", name, *ratio_r);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char data[512], tmp[] = "/tmp/bench-ingest.XXXXXX", specdir[512], src[600], err[512];
	int rep = argc > 2 ? atoi(argv[2]) : 40;
	vs_mspec_t **specs = NULL;
	size_t n = 0;
	double ra = 0, rs = 0;
	int rc = 1;

	snprintf(data, sizeof(data), "%s", argc > 1 ? argv[1] : "");
	if (argc <= 1)
		snprintf(data, sizeof(data), "%s/../shared/data", top ? top : ".");
	snprintf(specdir, sizeof(specdir), "%s/mscope/specs", top ? top : ".");
	if (getenv("VSCOPE_MSCOPE_SPECS"))
		snprintf(specdir, sizeof(specdir), "%s", getenv("VSCOPE_MSCOPE_SPECS"));
	if (vs_mspec_load_dir(specdir, &specs, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "ingest: %s (set top_srcdir)\n", err);
		return 1;
	}
	if (mkdtemp(tmp) == NULL)
		return 1;
	snprintf(src, sizeof(src), "%s/apache/access_milliscope.log", data);
	if (s_one("apache", tmp, src, rep, "apache-milliscope", "apache%", specs, n, &ra) < 0)
		goto out;
	snprintf(src, sizeof(src), "%s/sysstat/sar_all.txt", data);
	if (s_one("sar", tmp, src, rep / 4 > 0 ? rep / 4 : 1, "sar", "sar%", specs, n, &rs) < 0)
		goto out;
	printf("ingest_vs_import: %.2f ratio\n", ra < rs ? ra : rs);
	rc = 0;
out:
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
		if (system(cmd) != 0)
			rc = 1;
	}
	vs_mspec_free_all(&specs, n);
	return rc;
}
