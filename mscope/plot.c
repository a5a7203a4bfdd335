/*
 * PNG and SVG plots of an analysis through cairo (plot.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "plot.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cairo.h>
#include <cairo-svg.h>

#define S_MS 1000000LL
#define S_LEFT 80.0
#define S_RIGHT 20.0
#define S_TOP 44.0
#define S_BOTTOM 34.0
#define S_GAP 46.0
#define S_FONT 11.0

/* tab10 */
const uint8_t VS_MPLOT_TIER_RGB[VS_MANA_MAX_TIERS][3] = {
	{ 0x1f, 0x77, 0xb4 }, { 0xff, 0x7f, 0x0e }, { 0x2c, 0xa0, 0x2c }, { 0x94, 0x67, 0xbd },
	{ 0x8c, 0x56, 0x4b }, { 0xe3, 0x77, 0xc2 }, { 0xbc, 0xbd, 0x22 }, { 0x17, 0xbe, 0xcf },
};
const uint8_t VS_MPLOT_THRESHOLD_RGB[3] = { 0xd6, 0x27, 0x28 };
const uint8_t VS_MPLOT_SHADE_RGB[3] = { 0xff, 0xdd, 0xdd };

typedef struct s_panel {
	double x, y, w, h;              /* the data area */
	double ymax;
} s_panel_t;

typedef struct s_plot {
	cairo_t *cr;
	const vs_mana_t *a;
	const vs_mana_input_t *in;
	int64_t xs, xe;                 /* shown span (ns) */
	int64_t cs, ce;                 /* the cluster's window, or cs > ce */
	double width;
} s_plot_t;

void
vs_mplot_opts_default(vs_mplot_opts_t *o)
{
	o->cluster = 0;
	o->margin_ns = 1000 * S_MS;
	o->width = 1000;
	o->height = 750;
}

static void
s_rgb(cairo_t *cr, const uint8_t c[3])
{
	cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
}

static double
s_xpix(const s_plot_t *p, const s_panel_t *pa, int64_t ns)
{
	return pa->x + (double)(ns - p->xs) / (double)(p->xe - p->xs) * pa->w;
}

static double
s_ypix(const s_panel_t *pa, double v)
{
	if (v < 0)
		v = 0;
	if (v > pa->ymax)
		v = pa->ymax;
	return pa->y + pa->h - v / pa->ymax * pa->h;
}

/* A step of 1, 2 or 5 x 10^k giving about n ticks over range. */
static double
s_step(double range, int n)
{
	double raw = range / n, p = pow(10, floor(log10(raw))), f = raw / p;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void
s_text(cairo_t *cr, double x, double y, double align, const char *s)
{
	cairo_text_extents_t te;

	cairo_text_extents(cr, s, &te);
	cairo_move_to(cr, x - align * te.x_advance, y);
	cairo_show_text(cr, s);
}

static const char *
s_clock(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(ns % 1000000000 / 1000000));
	return buf;
}

/* Frame, shaded cluster window, y ticks (ymax set), x ticks in s after xs, title. */
static void
s_frame(const s_plot_t *p, s_panel_t *pa, const char *title, double ymax)
{
	cairo_t *cr = p->cr;
	double st, v, span = (double)(p->xe - p->xs) / 1e9;
	char buf[64];

	pa->ymax = ymax > 0 ? ymax * 1.08 : 1;
	if (p->cs <= p->ce) {
		double x0 = s_xpix(p, pa, p->cs > p->xs ? p->cs : p->xs);
		double x1 = s_xpix(p, pa, p->ce < p->xe ? p->ce : p->xe);
		s_rgb(cr, VS_MPLOT_SHADE_RGB);
		cairo_rectangle(cr, x0, pa->y, x1 - x0 > 1 ? x1 - x0 : 1, pa->h);
		cairo_fill(cr);
	}
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, pa->x, pa->y, pa->w, pa->h);
	cairo_stroke(cr);
	cairo_set_font_size(cr, S_FONT);
	s_text(cr, pa->x, pa->y - 6, 0, title);
	st = s_step(pa->ymax, 4);
	for (v = 0; v <= pa->ymax + st * 1e-9; v += st) {
		double y = s_ypix(pa, v);
		snprintf(buf, sizeof(buf), "%g", v);
		cairo_move_to(cr, pa->x - 4, y);
		cairo_line_to(cr, pa->x, y);
		cairo_stroke(cr);
		s_text(cr, pa->x - 6, y + 4, 1, buf);
	}
	st = s_step(span, 8);
	for (v = 0; v <= span + st * 1e-9; v += st) {
		double x = pa->x + v / span * pa->w;
		snprintf(buf, sizeof(buf), "%g", v);
		cairo_move_to(cr, x, pa->y + pa->h);
		cairo_line_to(cr, x, pa->y + pa->h + 4);
		cairo_stroke(cr);
		s_text(cr, x, pa->y + pa->h + 15, 0.5, buf);
	}
}

/* Data lines: inside the panel only, 1.5 wide, no antialiasing (exact colours); restore after. */
static void
s_clip(cairo_t *cr, const s_panel_t *pa)
{
	cairo_save(cr);
	cairo_rectangle(cr, pa->x, pa->y, pa->w, pa->h);
	cairo_clip(cr);
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
	cairo_set_line_width(cr, 1.5);
}

/* Fig. 2: the front tier's point-in-time response time, mean and maximum per window. */
static void
s_panel_rt(const s_plot_t *p, s_panel_t *pa)
{
	cairo_t *cr = p->cr;
	int64_t t0, win, mean, max, thr = vs_mana_vlrt_threshold(p->a);
	size_t nw = vs_mana_nwindows(p->a, &t0, NULL, &win, NULL), w;
	double ymax = (double)thr / S_MS, y;
	char title[160];
	uint32_t cnt;
	int pass;

	for (w = 0; w < nw; w++)
		if (vs_mana_window(p->a, w, &cnt, NULL, &max, NULL) == 0 && cnt &&
		    t0 + (int64_t)w * win < p->xe && t0 + (int64_t)(w + 1) * win > p->xs &&
		    (double)max / S_MS > ymax)
			ymax = (double)max / S_MS;
	snprintf(title, sizeof(title), "response time (ms) of %s, per %g ms window: mean (black),"
	    " maximum (grey), VLRT threshold %g ms (dashed)", vs_mana_tier_name(p->a, 0),
	    (double)win / S_MS, (double)thr / S_MS);
	s_frame(p, pa, title, ymax);
	s_clip(cr, pa);
	for (pass = 0; pass < 2; pass++) {      /* the maxima first, the means over them */
		int started = 0;
		for (w = 0; w < nw; w++) {
			int64_t b = t0 + (int64_t)w * win;
			if (b + win <= p->xs || b >= p->xe)
				continue;
			if (vs_mana_window(p->a, w, &cnt, &mean, &max, NULL) < 0 || cnt == 0)
				continue;
			y = s_ypix(pa, (double)(pass ? mean : max) / S_MS);
			if (!started) {
				cairo_move_to(cr, s_xpix(p, pa, b), y);
				started = 1;
			} else
				cairo_line_to(cr, s_xpix(p, pa, b), y);
			cairo_line_to(cr, s_xpix(p, pa, b + win), y);
		}
		if (pass)
			cairo_set_source_rgb(cr, 0, 0, 0);
		else
			cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
		cairo_stroke(cr);
	}
	s_rgb(cr, VS_MPLOT_THRESHOLD_RGB);
	cairo_set_dash(cr, (const double[]){ 6, 4 }, 2, 0);
	cairo_move_to(cr, pa->x, s_ypix(pa, (double)thr / S_MS));
	cairo_line_to(cr, pa->x + pa->w, s_ypix(pa, (double)thr / S_MS));
	cairo_stroke(cr);
	cairo_restore(cr);
}

/* Fig. 4 and 6: each tier's queue length, the largest in each pixel column. */
static void
s_panel_queue(const s_plot_t *p, s_panel_t *pa)
{
	cairo_t *cr = p->cr;
	size_t nt = vs_mana_ntiers(p->a), i;
	int64_t res;
	int cols = (int)pa->w, c, qmax = 1;
	int *col = calloc((size_t)cols * (nt ? nt : 1), sizeof(*col));
	double lx = pa->x + pa->w;

	vs_mana_nwindows(p->a, NULL, NULL, NULL, &res);
	if (col == NULL)
		return;
	for (i = 0; i < nt; i++)
		for (c = 0; c < cols; c++) {
			int64_t b = p->xs + (p->xe - p->xs) * c / cols;
			int64_t e = p->xs + (p->xe - p->xs) * (c + 1) / cols, t;
			int m = 0, q;
			for (t = b; t < e || t == b; t += res) {
				q = vs_mana_queue_at(p->a, i, t, 0);
				if (q > m)
					m = q;
			}
			col[i * (size_t)cols + (size_t)c] = m;
			if (m > qmax)
				qmax = m;
		}
	s_frame(p, pa, "queue length (requests in the tier, its downstream included), per tier",
	    qmax);
	for (i = nt; i-- > 0;) {                /* the legend, right to left */
		cairo_text_extents_t te;
		cairo_text_extents(cr, vs_mana_tier_name(p->a, i), &te);
		lx -= te.x_advance;
		s_rgb(cr, VS_MPLOT_TIER_RGB[i]);
		cairo_move_to(cr, lx, pa->y - 6);
		cairo_show_text(cr, vs_mana_tier_name(p->a, i));
		lx -= 10;
	}
	s_clip(cr, pa);
	for (i = 0; i < nt; i++) {
		for (c = 0; c < cols; c++) {
			double y = s_ypix(pa, col[i * (size_t)cols + (size_t)c]);
			if (c == 0)
				cairo_move_to(cr, pa->x + c, y);
			else
				cairo_line_to(cr, pa->x + c, y);
			cairo_line_to(cr, pa->x + c + 1, y);
		}
		s_rgb(cr, VS_MPLOT_TIER_RGB[i]);
		cairo_stroke(cr);
	}
	cairo_restore(cr);
	free(col);
}

/* Fig. 8: the cluster's top explanation, its samples in the shown span. */
static void
s_panel_resource(const s_plot_t *p, const vs_mplot_opts_t *o, s_panel_t *pa)
{
	cairo_t *cr = p->cr;
	const char *cls, *metric, *key, *host;
	const vs_mseries_t *s = NULL;
	char title[400];
	double r, ymax = 0;
	size_t i, k;
	int started = 0;

	if (o->cluster == VS_MPLOT_NO_CLUSTER ||
	    vs_mana_explanation(p->a, o->cluster, 0, &cls, &metric, &key, &host, &r) < 0) {
		s_frame(p, pa, o->cluster == VS_MPLOT_NO_CLUSTER ? "resource: no cluster chosen" :
		    "resource: no metric lines up with this cluster", 1);
		return;
	}
	for (i = 0; i < p->in->nseries && s == NULL; i++) {
		const vs_mseries_t *c = &p->in->series[i];
		char m[160];
		snprintf(m, sizeof(m), "%s.%s", c->table, c->column);
		if (strcmp(m, metric) == 0 && strcmp(c->key, key) == 0 && strcmp(c->host, host) == 0)
			s = c;
	}
	snprintf(title, sizeof(title), "top explanation (%s): %s%s%s@%s, r = %.2f", cls, metric,
	    key[0] ? "/" : "", key, host, r);
	if (s == NULL) {
		s_frame(p, pa, title, 1);
		return;
	}
	for (k = 0; k < s->n; k++)
		if (s->t[k] >= p->xs && s->t[k] < p->xe && s->v[k] > ymax)
			ymax = s->v[k];
	s_frame(p, pa, title, ymax);
	s_clip(cr, pa);
	for (k = 0; k < s->n; k++) {
		double x, y;
		if (s->t[k] < p->xs || s->t[k] >= p->xe || !isfinite(s->v[k]))
			continue;
		x = s_xpix(p, pa, s->t[k]);
		y = s_ypix(pa, s->v[k]);
		if (!started)
			cairo_move_to(cr, x, y);
		else
			cairo_line_to(cr, x, y);
		started = 1;
	}
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_stroke(cr);
	cairo_restore(cr);
}

static void
s_draw(s_plot_t *p, const vs_mplot_opts_t *o)
{
	cairo_t *cr = p->cr;
	double ph = (o->height - S_TOP - S_BOTTOM - 2 * S_GAP) / 3;
	s_panel_t pa[3];
	char title[400], b[64], e[64], x0[64];
	int first = -1;
	uint64_t nvlrt = 0;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	for (int i = 0; i < 3; i++) {
		pa[i].x = S_LEFT;
		pa[i].w = o->width - S_LEFT - S_RIGHT;
		pa[i].y = S_TOP + i * (ph + S_GAP);
		pa[i].h = ph;
	}
	if (o->cluster != VS_MPLOT_NO_CLUSTER) {
		vs_mana_cluster(p->a, o->cluster, NULL, NULL, &nvlrt, &first, NULL, NULL);
		snprintf(title, sizeof(title), "milliScope: cluster %zu, %s .. %s, %" PRIu64 " VLRT"
		    " requests, queue rose first in %s", o->cluster + 1,
		    s_clock(p->cs, b, sizeof(b)), s_clock(p->ce, e, sizeof(e)), nvlrt,
		    first >= 0 ? vs_mana_tier_name(p->a, (size_t)first) : "-");
	} else
		snprintf(title, sizeof(title), "milliScope: the whole run, %" PRIu64 " VLRT requests",
		    vs_mana_nvlrt(p->a));
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_font_size(cr, S_FONT + 3);
	s_text(cr, S_LEFT, 22, 0, title);
	s_panel_rt(p, &pa[0]);
	s_panel_queue(p, &pa[1]);
	s_panel_resource(p, o, &pa[2]);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_font_size(cr, S_FONT);
	snprintf(title, sizeof(title), "seconds after %s", s_clock(p->xs, x0, sizeof(x0)));
	s_text(cr, S_LEFT + pa[2].w / 2, o->height - 6, 0.5, title);
}

static int
s_fail(char *err, size_t errlen, int rc, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return rc;
}

int
vs_mplot_write(const vs_mana_t *a, const vs_mana_input_t *in, const vs_mplot_opts_t *o,
    const char *path, char *err, size_t errlen)
{
	s_plot_t p = { .a = a, .in = in };
	cairo_surface_t *sf = NULL;
	cairo_status_t st;
	size_t n = strlen(path);
	int svg, fd, rc = 0;
	char *tmp = NULL;
	int64_t t0, tend;

	if (n > 4 && strcmp(path + n - 4, ".png") == 0)
		svg = 0;
	else if (n > 4 && strcmp(path + n - 4, ".svg") == 0)
		svg = 1;
	else
		return s_fail(err, errlen, -EINVAL, "%s: a plot is a .png or a .svg file%s", path, "");
	if (o->width < 200 || o->height < 200 || o->width > VS_MPLOT_MAX_SIDE ||
	    o->height > VS_MPLOT_MAX_SIDE)
		return s_fail(err, errlen, -EINVAL, "plot size: 200 to 8000 on either side%s%s", "",
		    "");
	vs_mana_nwindows(a, &t0, &tend, NULL, NULL);
	if (o->cluster != VS_MPLOT_NO_CLUSTER) {
		if (vs_mana_cluster(a, o->cluster, &p.cs, &p.ce, NULL, NULL, NULL, NULL) < 0) {
			snprintf(err, errlen, "no cluster %zu: the analysis found %zu", o->cluster + 1,
			    vs_mana_nclusters(a));
			return -ENOENT;
		}
		p.xs = p.cs - o->margin_ns;
		p.xe = p.ce + o->margin_ns;
		if (p.xs < t0)
			p.xs = t0;
		if (p.xe > tend)
			p.xe = tend;
	} else {
		p.cs = 1;
		p.ce = 0;
		p.xs = t0;
		p.xe = tend;
	}
	if (p.xe <= p.xs)
		p.xe = p.xs + S_MS;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return s_fail(err, errlen, -ENOMEM, "out of memory%s%s", "", "");
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(tmp);
		return rc;
	}
	close(fd);
	if (svg)
		sf = cairo_svg_surface_create(tmp, o->width, o->height);
	else
		sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, o->width, o->height);
	p.cr = cairo_create(sf);
	s_draw(&p, o);
	st = cairo_status(p.cr);
	cairo_destroy(p.cr);
	if (st == CAIRO_STATUS_SUCCESS && !svg)
		st = cairo_surface_write_to_png(sf, tmp);
	cairo_surface_finish(sf);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(sf);
	cairo_surface_destroy(sf);
	if (st != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, cairo_status_to_string(st));
		rc = st == CAIRO_STATUS_NO_MEMORY ? -ENOMEM : -EIO;
	} else if (chmod(tmp, 0644) < 0 || rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
