/* The built-in functions defined outside func.c (one file each), for func.c's table. */
#ifndef VS_DPG_BUILTIN_H
#define VS_DPG_BUILTIN_H

#include "dpg.h"

extern const vs_dpg_fn_t vs_dpg_fn_entropy;
extern const vs_dpg_fn_t vs_dpg_fn_kmeans;
extern const vs_dpg_fn_t vs_dpg_fn_pca;

/* The partial-result callbacks of a central function: there is no partial result, so
 * each returns -EOPNOTSUPP (a runtime that treats a central function as a combine one gets
 * an error, not a crash). */
int vs_dpg_central_init(vs_dpg_part_t *p, uint32_t arg);
int vs_dpg_central_local(vs_dpg_part_t *p, const double *x, size_t n);
int vs_dpg_central_combine(vs_dpg_part_t *into, const vs_dpg_part_t *from);
int vs_dpg_central_result(const vs_dpg_part_t *p, double *out, size_t *n_r);
/* Common checks of a central input: 0, -EINVAL (NULL, no rows or columns, not finite),
 * -E2BIG (over VS_DPG_CENTRAL_MAX_CELLS). */
int vs_dpg_central_check(const vs_dpg_central_in_t *in);

/* plugin.c: a loaded plugin's function by id (name NULL) or by name (case-insensitive). */
const vs_dpg_fn_t *vs_dpg_plugin_find(uint32_t id, const char *name);

#endif
