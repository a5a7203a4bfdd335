/*
 * Plots of an analysis (analysis.h) as PNG or SVG, through cairo: the kinds of milliScope's
 * Fig. 2, 4, 6 and 8 stacked on one time axis around a VLRT cluster (or over the whole
 * run): the front tier's point-in-time response time per window with the VLRT threshold,
 * every tier's queue length at the analysis' resolution, and the resource metric that best
 * explains the cluster. The cluster's window is shaded in each panel.
 *
 * Colours, so that a reader (and tests) can tell the lines apart: tier i's queue in
 * VS_MPLOT_TIER_RGB[i]; response time and the resource metric in black (maximum per window
 * in grey); the VLRT threshold dashed in VS_MPLOT_THRESHOLD_RGB; the cluster's window
 * filled with VS_MPLOT_SHADE_RGB. Data lines are drawn without antialiasing.
 */
#ifndef VS_MSCOPE_PLOT_H
#define VS_MSCOPE_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"

#define VS_MPLOT_MAX_SIDE 8000          /* pixels (or points) on either side */
#define VS_MPLOT_NO_CLUSTER ((size_t)-1)

extern const uint8_t VS_MPLOT_TIER_RGB[VS_MANA_MAX_TIERS][3];
extern const uint8_t VS_MPLOT_THRESHOLD_RGB[3];
extern const uint8_t VS_MPLOT_SHADE_RGB[3];

typedef struct vs_mplot_opts {
	size_t cluster;         /* index as vs_mana_cluster's, or VS_MPLOT_NO_CLUSTER: the run */
	int64_t margin_ns;      /* shown before and after the cluster (default 1 s) */
	int width, height;      /* default 1000 x 750 */
} vs_mplot_opts_t;

void vs_mplot_opts_default(vs_mplot_opts_t *o);

/*
 * Writes the plot to path, PNG or SVG by its suffix (.png, .svg), through a temporary file
 * in the same directory renamed into place: no half-written plot. in must be the input the
 * analysis was computed from (for the resource series). 0 or -errno with the reason in err.
 */
int vs_mplot_write(const vs_mana_t *a, const vs_mana_input_t *in, const vs_mplot_opts_t *o,
    const char *path, char *err, size_t errlen);

#endif
