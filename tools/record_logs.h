/*
 * `vscope mscope record`'s guest logs: the lines the guests' vscope-agents tail (the `log`
 * directive), fetched from vscoped's intake by cursor (GuestLogsReq, lib/control.proto) and
 * loaded through the same spec engine as `vscope mscope ingest` (vs_mscope_load_buf), into
 * the same tables and columns, host = the domain the agent's key is bound to.
 */
#ifndef VS_RECORD_LOGS_H
#define VS_RECORD_LOGS_H

#include <stdio.h>

#include <json-c/json.h>

#include "wh.h"

typedef struct vs_reclogs vs_reclogs_t;

/* Asks vscoped at endpoint (NULL: the default) for the position new lines will start at.
 * NULL with why in err when vscoped cannot be reached or has no intake. */
vs_reclogs_t *vs_reclogs_new(const char *endpoint, int timeout_ms, const char *run,
    char *err, size_t errlen);
void vs_reclogs_destroy(vs_reclogs_t **self_p);
/* Fetches what is queued and loads it, each domain's log as one load (its own
 * transaction: call it between the recorder's). 0, or -errno with why in err (vscoped gone:
 * the next call tries again). */
int vs_reclogs_step(vs_reclogs_t *self, vs_wh_t *wh, char *err, size_t errlen);
/* Per domain and log: lines, rows, unparsed, and vscoped's and the agent's counters. */
void vs_reclogs_print(const vs_reclogs_t *self, FILE *f);
json_object *vs_reclogs_json(const vs_reclogs_t *self);

#endif
