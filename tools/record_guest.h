/*
 * `vscope mscope record`'s guest resources: the samples the guests' vscope-agents take (the
 * `resources` directive), fetched from vscoped's intake by cursor (GuestSamplesReq,
 * lib/control.proto) and written as rates per sample interval into vscope_guest_cpu,
 * vscope_guest_mem, vscope_guest_disk and vscope_guest_net (the columns of Dom0's
 * vscope_cpu, vscope_mem, vscope_disk, vscope_net that a guest's samples give), host = the
 * domain the agent's key is bound to, time = the guest's clock at the sample.
 */
#ifndef VS_RECORD_GUEST_H
#define VS_RECORD_GUEST_H

#include <stdio.h>

#include <json-c/json.h>

#include "wh.h"

typedef struct vs_recguest vs_recguest_t;

/* Asks vscoped at endpoint for where new samples will start. NULL with why in err. */
vs_recguest_t *vs_recguest_new(const char *endpoint, int timeout_ms, const char *run,
    char *err, size_t errlen);
void vs_recguest_destroy(vs_recguest_t **self_p);
/* Fetches what vscoped keeps and writes it, in a transaction of its own (call it between
 * the recorder's). 0, or -errno with why in err. */
int vs_recguest_step(vs_recguest_t *self, vs_wh_t *wh, char *err, size_t errlen);
/* Closes the domains' loads (status ok), in a transaction of its own. */
int vs_recguest_end(vs_recguest_t *self, vs_wh_t *wh, char *err, size_t errlen);
void vs_recguest_print(const vs_recguest_t *self, FILE *f);
json_object *vs_recguest_json(const vs_recguest_t *self);

#endif
