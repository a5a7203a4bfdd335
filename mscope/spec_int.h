/* The inside of a parser spec, shared by spec.c, logformat.c and engine.c. */
#ifndef VS_MSCOPE_SPEC_INT_H
#define VS_MSCOPE_SPEC_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "mscope.h"

#define VS_MSPEC_MAX_RX 32
#define VS_MSPEC_MAX_GROUPS 48
#define VS_MSPEC_MAX_TIMES 8
#define VS_MSPEC_MAX_FMTS 8
#define VS_MSPEC_MAX_WORDS 16

typedef struct vs_mrx {
	char *src;
	pcre2_code *code;
	int ngroups;                    /* named groups */
	int gnum[VS_MSPEC_MAX_GROUPS];
	char *gname[VS_MSPEC_MAX_GROUPS];  /* sanitized column names */
} vs_mrx_t;

typedef struct vs_mtime_spec {
	char *col;                      /* the column it is stored in ("time": time_ns only) */
	char *tmpl;                     /* "${date} ${time}" */
	int nfmt;
	char *fmts[VS_MSPEC_MAX_FMTS];
} vs_mtime_spec_t;

struct vs_mspec {
	char *name, *description, *path, *kind, *table;
	char *logformat;                /* the LogFormat it was derived from, if any */
	int table_tokens, table_skip;
	int nmap;
	char *map_key[64], *map_name[64];
	int ndetect;
	vs_mrx_t detect[VS_MSPEC_MAX_RX];
	char *detect_name;
	unsigned char magic[16];
	size_t magic_len;
	int detect_record, detect_lines;
	int ncontext, nskip, nrestart, nheader, nrecord;
	vs_mrx_t context[VS_MSPEC_MAX_RX], skip[VS_MSPEC_MAX_RX], restart[VS_MSPEC_MAX_RX];
	vs_mrx_t header[VS_MSPEC_MAX_RX], record[VS_MSPEC_MAX_RX];
	char *record_table[VS_MSPEC_MAX_RX];    /* "record-table": the last record's table */
	int has_unpivot;
	vs_mrx_t unpivot;
	char *device_col;
	char sep;                       /* 0: runs of blanks */
	int nnull;
	char *nulls[VS_MSPEC_MAX_WORDS];
	int nsuffix;
	char suffix[VS_MSPEC_MAX_WORDS];
	double suffix_mul[VS_MSPEC_MAX_WORDS];
	int ntime;
	vs_mtime_spec_t times[VS_MSPEC_MAX_TIMES];
	char *zone;
	char *host;
	int rollover;
	char *structure;                /* "json": a document walked by the rules below */
	char *records;                  /* "a.b.c": the path to the samples (arrays implicit) */
	char *record_context;           /* a sample's member whose scalars are variables */
	char *record_index;             /* column for the sample's position, or NULL */
	int unmatched_skip;              /* "unmatched = skip": reports with free text */
	int ndrop;
	char *drop[VS_MSPEC_MAX_WORDS];
	char *convert, *convert_format;
};

/* Compiles src into rx (named groups mapped); 0 or -EINVAL with the reason in err. */
int vs_mrx_compile(vs_mrx_t *rx, const char *src, char *err, size_t errlen);
void vs_mrx_free(vs_mrx_t *rx);
/* A fresh spec with the defaults. */
vs_mspec_t *vs_mspec_alloc(void);
/* One "key = value" of a spec; 0 or -errno with err. */
int vs_mspec_set(vs_mspec_t *s, const char *key, const char *value, char *err, size_t errlen);
/* Checks a spec is complete (after the last key). */
int vs_mspec_finish(vs_mspec_t *s, char *err, size_t errlen);

#endif
