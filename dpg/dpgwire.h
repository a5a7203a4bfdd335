/* The DPG protocol's framing rules (lib/dpg.proto holds the messages): every frame is
 * size-checked before it is decoded and validated after; bad ones are dropped and counted. */
#ifndef VS_DPGWIRE_H
#define VS_DPGWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "dpg.h"
#include "dpg.pb-c.h"

#define VS_DPG_VERSION       1
#define VS_DPG_MAX_MSG       (4 * 1024 * 1024)  /* a Deploy of 100,000 VNodes fits */
#define VS_DPG_MAX_NAME      63
#define VS_DPG_MAX_DOMAINS   4096               /* per Register */
#define VS_DPG_MAX_VIFS      64                 /* per domain, and entities per leaf */
#define VS_DPG_MAX_DEPLOY    100000             /* VNodes in one Deploy */
#define VS_DPG_MAX_ARGS      64
#define VS_DPG_MAX_ARG       4096
#define VS_DPG_MAX_TEXT      (1024 * 1024)
#define VS_DPG_MIN_PERIOD_NS 100000000LL        /* 100 ms */
#define VS_DPG_MAX_PERIOD_NS 3600000000000LL    /* 1 h */
#define VS_DPG_MAX_WINDOW    1024               /* samples per row of a central function */
/* Values of a central function's rows in one Part: what fits a frame with room to spare */
#define VS_DPG_MAX_ROW_CELLS ((VS_DPG_MAX_MSG - 65536) / 9)
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define VS_DPG_DEFAULT_ENDPOINT "ipc://" RUNSTATEDIR "/vscope/vmasterd.sock"

/* Checks size, decodes and validates one frame. NULL with a message in err for any bad
 * frame. Free with vsdpg__msg__free_unpacked(m, NULL). */
Vsdpg__Msg *vs_dpgwire_decode(const void *buf, size_t len, char *err, size_t errlen);
/* Semantic checks of a decoded message: 0 or -EINVAL/-EPROTO with a message. */
int vs_dpgwire_validate(const Vsdpg__Msg *m, char *err, size_t errlen);
/* The partial result a Part carries, for function fn (reset with fn->init(arg) first, so
 * fields of fn the wire leaves out keep their initial values): 0, or -EINVAL when the
 * numbers fail the function's checks (vs_dpg_part_validate) or there are too many Top-K. */
int vs_dpgwire_part_get(const Vsdpg__Part *q, const vs_dpg_fn_t *fn, uint32_t arg,
    vs_dpg_part_t *p_r);
/* The other way: p's numbers into q (the caller sets dpg, gen, src, dst and round); q's
 * top points into p. */
void vs_dpgwire_part_put(const vs_dpg_part_t *p, Vsdpg__Part *q);
/* Packs m (version set) into a new malloc'd buffer; NULL on ENOMEM. */
void *vs_dpgwire_pack(Vsdpg__Msg *m, size_t *len_r);
/* 1 when s is a name the protocol accepts: 1..63 bytes of [A-Za-z0-9_.:-]. */
int vs_dpgwire_name_ok(const char *s);

#endif
