/* Tests for the DPG functions beyond MAX/MIN/AVE/Top-K: ENTROPY (EbAT) against windows
 * worked out by hand and SigmaH/PiH merged up a real H topology against the flat values;
 * KMEANS on well-separated clusters against the clusters' own means; PCA against known
 * covariances and the eigen-equation C v = lambda v computed here directly; and plugins:
 * the example P95 loads and runs, and every unsafe or broken plugin is refused, naming why. */
#include "dpg.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

static uint64_t s_rng = 88172645463325252ull;

static double
s_rand(void)    /* xorshift64: deterministic, in [0, 1) */
{
	s_rng ^= s_rng << 13;
	s_rng ^= s_rng >> 7;
	s_rng ^= s_rng << 17;
	return (double)(s_rng >> 11) / 9007199254740992.0;
}

/* ---- ENTROPY ------------------------------------------------------------------------- */

static void
t_entropy_window(void)
{
	const double one[] = { 1, 1, 3, 3 };
	const double flat[] = { 5, 5, 5, 5, 5 };
	/* col 0: mean 2, r .5 .5 1.5 1.5 -> bins 2 2 7 7; col 1: mean 3, r .67 .67 .67 2 ->
	 * bins 3 3 3 9 (10 clamped): m-events (2,3) x2, (7,3), (7,9): H = .5 + .25*2 + .25*2 */
	const double two[] = { 1, 2, 1, 2, 3, 2, 3, 6 };
	double eight[8], h = -1, neg[4] = { -1, 1, -1, 1 }, bad[2] = { 1, NAN };
	int i, rc;

	for (i = 0; i < 8; i++)
		eight[i] = i + 1;
	rc = vs_dpg_entropy_window(one, 4, 1, 10, &h);
	tap_ok(rc == 0 && NEAR(h, 1, 1e-12),
	       "entropy: two equally likely m-events are 1 bit (%g)", h);
	tap_ok(vs_dpg_entropy_window(flat, 5, 1, 10, &h) == 0 && h == 0,
	       "entropy: a constant metric is 0 bits");
	rc = vs_dpg_entropy_window(two, 4, 2, 10, &h);
	tap_ok(rc == 0 && NEAR(h, 1.5, 1e-12),
	       "entropy: 2 metrics, m-events by hand give 1.5 bits (%g)", h);
	/* 16 bins: bin = floor(i / 4.5 * 8) = 1 3 5 7 8 10 12 14, all different: log2 8 */
	rc = vs_dpg_entropy_window(eight, 8, 1, 16, &h);
	tap_ok(rc == 0 && NEAR(h, 3, 1e-12),
	       "entropy: 8 distinct m-events are 3 bits (%g)", h);
	rc = vs_dpg_entropy_window(eight, 8, 1, 2, &h);
	tap_ok(rc == 0 && NEAR(h, 1, 1e-12),
	       "entropy: 2 bins split at the mean: 1 bit (%g)", h);
	/* mean 0: scaled by max |v|: -1 -> bin 0, 1 -> floor(5) = 5 */
	rc = vs_dpg_entropy_window(neg, 4, 1, 10, &h);
	tap_ok(rc == 0 && NEAR(h, 1, 1e-12),
	       "entropy: a zero-mean metric is scaled by its largest magnitude (%g)", h);
	{
		/* the column's sum overflows to inf: scaled by max |v| instead, +-1 */
		const double huge[] = { 1e308, 1e308, -1e308, -1e308 };

		rc = vs_dpg_entropy_window(huge, 4, 1, 10, &h);
		tap_ok(rc == 0 && NEAR(h, 1, 1e-12), "entropy: a sum that overflows (%g)", h);
	}
	tap_ok(vs_dpg_entropy_window(bad, 2, 1, 10, &h) == -EINVAL, "entropy: NaN: EINVAL");
	tap_ok(vs_dpg_entropy_window(one, 0, 1, 10, &h) == -EINVAL &&
	       vs_dpg_entropy_window(one, 4, 0, 10, &h) == -EINVAL,
	       "entropy: no rows or no metrics: EINVAL");
	tap_ok(vs_dpg_entropy_window(one, 4, 1, 1, &h) == -EINVAL &&
	       vs_dpg_entropy_window(one, 4, 1, VS_DPG_ENTROPY_MAXBINS + 1, &h) == -EINVAL,
	       "entropy: 1 bin or too many bins: EINVAL");
	tap_ok(vs_dpg_entropy_window(one, VS_DPG_ENTROPY_MAXCELLS, 2, 10, &h) == -EINVAL,
	       "entropy: a window over VS_DPG_ENTROPY_MAXCELLS: EINVAL before reading it");
}

/* The entropy a leaf's window has, computed the long way: bins by the documented rule,
 * then each m-event's frequency counted by comparing every pair of time steps. */
static double
s_entropy_direct(const double *x, size_t rows, size_t cols, unsigned bins)
{
	int *b = calloc(rows * cols, sizeof(*b));
	double h = 0;
	size_t i, j, r;

	for (j = 0; j < cols; j++) {
		double mean = 0;

		for (i = 0; i < rows; i++)
			mean += x[i * cols + j] / rows;
		for (i = 0; i < rows; i++) {
			int v = (int)floor(x[i * cols + j] / fabs(mean) * bins / 2);

			b[i * cols + j] = v < 0 ? 0 : v > (int)bins - 1 ? (int)bins - 1 : v;
		}
	}
	for (i = 0; i < rows; i++) {
		size_t same = 0;

		for (r = 0; r < rows; r++)
			same += !memcmp(&b[i * cols], &b[r * cols], cols * sizeof(*b));
		/* each of the `same` rows adds p log p / same */
		h -= log2((double)same / rows) / rows;
	}
	free(b);
	return h;
}

static void
t_entropy_tree(void)
{
	enum { LEAVES = 60, T = 40, M = 3 };
	const vs_dpg_fn_t *fn = vs_dpg_fn_lookup_name("entropy");
	vs_dpg_topo_t *topo = NULL;
	vs_dpg_part_t *part, flat, one;
	double x[T * M], hs[LEAVES], sum = 0, prod = 1, out[4];
	size_t i, n, bad_direct = 0, leaves;
	uint32_t root, id;
	int rc, fails = 0;

	tap_ok(fn && fn->id == VS_DPG_FN_ENTROPY && fn->kind == VS_DPG_FN_COMBINE &&
	       fn->abi == VS_DPG_ABI_VERSION, "ENTROPY is a built-in combine function");
	if (!fn)
		return;
	tap_ok(vs_dpg_topo_build(VS_DPG_TOPO_H, LEAVES, 4, 0, &topo) == 0, "H 60 leaves bf 4");
	n = vs_dpg_topo_count(topo, &leaves);
	part = calloc(topo->n, sizeof(*part));
	for (i = 0; i < topo->n; i++)
		fails += fn->init(&part[i], VS_DPG_ENTROPY_ARG(M, 8)) != 0;
	fn->init(&flat, VS_DPG_ENTROPY_ARG(M, 8));
	for (i = 0; i < LEAVES; i++) {
		size_t c;

		/* leaves differ: some steady (few m-events), some noisy */
		for (c = 0; c < T * M; c++)
			x[c] = 10 + (i % 3 ? s_rand() * (double)(i % 7 + 1) : (c / M) % 2);
		rc = vs_dpg_entropy_window(x, T, M, 8, &hs[i]);
		fails += rc != 0;
		bad_direct += !NEAR(hs[i], s_entropy_direct(x, T, M, 8), 1e-9);
		sum += hs[i];
		prod *= hs[i];
		fails += fn->local(&part[i], x, T * M) != 0;     /* leaf ids are 0..LEAVES-1 */
		part[i].leaves = 1;
		fn->init(&one, VS_DPG_ENTROPY_ARG(M, 8));
		fn->local(&one, x, T * M);
		one.leaves = 1;
		fails += fn->combine(&flat, &one) != 0;
	}
	tap_ok(fails == 0, "init, local and combine succeed on every VNode");
	tap_ok(bad_direct == 0, "each leaf's entropy equals the pairwise count over its window");
	/* merge up the real tree: children before parents (levels ascend) */
	{
		uint32_t lvl, top = topo->v[vs_dpg_topo_root(topo)].level;

		for (lvl = 0; lvl < top; lvl++)
			for (id = 0; id < n; id++)
				if (topo->v[id].alive && topo->v[id].level == lvl)
					fails += fn->combine(&part[topo->v[id].parent],
							     &part[id]) != 0;
	}
	root = vs_dpg_topo_root(topo);
	n = 4;
	rc = fn->result(&part[root], out, &n);
	tap_ok(rc == 0 && n == 3 && NEAR(out[0], sum, 1e-9 * sum) &&
	       NEAR(out[1], prod, 1e-9 * prod) && out[2] == LEAVES,
	       "root: SigmaH %g (by hand %g), PiH %g (by hand %g) over %g entropies",
	       out[0], sum, out[1], prod, n ? out[2] : -1);
	tap_ok(part[root].leaves == LEAVES && NEAR(part[root].sum, flat.sum, 1e-9 * sum) &&
	       NEAR(part[root].prod, flat.prod, 1e-9 * prod) && part[root].min == flat.min &&
	       part[root].max == flat.max,
	       "merged up the tree equals merged flat over the union of leaves");
	tap_ok(vs_dpg_part_validate(&part[root]) == 0 && vs_dpg_part_validate(&flat) == 0,
	       "entropy partials validate");
	one = part[root];
	one.prod = -1;
	tap_ok(vs_dpg_part_validate(&one) == -EINVAL, "validate: a negative PiH is refused");
	one = part[root];
	one.sum = NAN;
	tap_ok(vs_dpg_part_validate(&one) == -EINVAL, "validate: a NaN SigmaH is refused");
	fn->init(&one, 0);
	n = 4;
	tap_ok(fn->result(&one, out, &n) == 0 && n == 0 && vs_dpg_part_validate(&one) == 0,
	       "an empty entropy partial has no value, not a made-up 0");
	tap_ok(fn->local(&one, x, 5) == 0 && one.count == 1,
	       "init arg 0: one metric (a 5-sample window is fine)");
	fn->init(&one, VS_DPG_ENTROPY_ARG(M, 8));
	tap_ok(fn->local(&one, x, T * M - 1) == -EINVAL && one.count == 0,
	       "local: samples not a multiple of the metrics: EINVAL, nothing folded");
	tap_ok(fn->init(&one, VS_DPG_ENTROPY_ARG(1, 1)) == -EINVAL &&
	       fn->init(&one, VS_DPG_ENTROPY_ARG(1, 2000)) == -EINVAL, "init: bad bins: EINVAL");
	fn->init(&one, 0);
	flat.fn = VS_DPG_FN_MAX;
	tap_ok(fn->combine(&one, &flat) == -EINVAL, "combine: another function's partial: EINVAL");
	{
		/* by hand: three leaves with 1, 1.5 and 3 bits */
		const double w1[] = { 1, 1, 3, 3 }, w2[] = { 1, 2, 1, 2, 3, 2, 3, 6 };
		vs_dpg_part_t a, b, c, ab;
		double e[8];

		for (i = 0; i < 8; i++)
			e[i] = (double)i + 1;
		fn->init(&a, 0);
		fn->init(&b, VS_DPG_ENTROPY_ARG(2, 10));
		fn->init(&c, VS_DPG_ENTROPY_ARG(1, 16));
		fn->init(&ab, 0);
		fn->local(&a, w1, 4);
		fn->local(&b, w2, 8);
		fn->local(&c, e, 8);
		fn->combine(&ab, &a);
		fn->combine(&ab, &b);
		fn->combine(&ab, &c);
		n = 4;
		fn->result(&ab, out, &n);
		tap_ok(n == 3 && NEAR(out[0], 5.5, 1e-12) && NEAR(out[1], 4.5, 1e-12),
		       "SigmaH 1 + 1.5 + 3 = 5.5 and PiH 1 * 1.5 * 3 = 4.5 (%g, %g)", out[0],
		       out[1]);
	}
	free(part);
	vs_dpg_topo_destroy(&topo);
}

/* ---- KMEANS --------------------------------------------------------------------------- */

static void
t_kmeans(void)
{
	enum { PER = 50, K = 3, D = 2, ROWS = PER * K };
	const double centre[K][D] = { { 0, 0 }, { 100, 0 }, { 0, 100 } };
	const vs_dpg_fn_t *fn = vs_dpg_fn_lookup_name("k-means");
	double x[ROWS * D], mean[K][D] = { { 0 } }, *out = NULL, wss = 0;
	int truth[ROWS], matched = 0, sizes_ok = 1, means_ok = 1;
	vs_dpg_central_in_t in = { x, ROWS, D, K, 5 };
	size_t i, j, c, n = 0;
	vs_dpg_part_t p;
	int rc;

	tap_ok(fn && fn->id == VS_DPG_FN_KMEANS && fn->kind == VS_DPG_FN_CENTRAL && fn->central,
	       "KMEANS (also K-means) is a built-in central function");
	if (!fn)
		return;
	/* clusters interleaved in row order, each a unit box of noise around its centre */
	for (i = 0; i < ROWS; i++) {
		truth[i] = (int)(i % K);
		for (j = 0; j < D; j++) {
			x[i * D + j] = centre[truth[i]][j] + s_rand() * 2 - 1;
			mean[truth[i]][j] += x[i * D + j] / PER;
		}
	}
	for (i = 0; i < ROWS; i++)
		for (j = 0; j < D; j++)
			wss += pow(x[i * D + j] - mean[truth[i]][j], 2);
	rc = fn->central(&in, &out, &n);
	tap_ok(rc == 0 && n == K * D + K + 2, "KMEANS k 3, 5 passes: %zu values", n);
	if (rc == 0) {
		for (c = 0; c < K; c++) {
			int t;

			for (t = 0; t < K; t++)
				if (NEAR(out[c * D], centre[t][0], 1) &&
				    NEAR(out[c * D + 1], centre[t][1], 1)) {
					matched |= 1 << t;
					means_ok &= NEAR(out[c * D], mean[t][0], 1e-9) &&
						    NEAR(out[c * D + 1], mean[t][1], 1e-9);
				}
			sizes_ok &= out[K * D + c] == PER;
		}
		tap_ok(matched == 7, "each true centre has one centroid within 1 of it");
		tap_ok(means_ok, "each centroid is its cluster's mean, computed directly");
		tap_ok(sizes_ok, "every cluster has its 50 rows");
		tap_ok(out[K * D + K] >= 1 && out[K * D + K] <= 5, "passes run: %g",
		       out[K * D + K]);
		tap_ok(NEAR(out[K * D + K + 1], wss, 1e-6 * wss),
		       "within-cluster SS %g (direct %g)", out[K * D + K + 1], wss);
	}
	free(out);
	out = NULL;
	in.arg = 1;
	rc = fn->central(&in, &out, &n);
	tap_ok(rc == 0 && NEAR(out[0], (mean[0][0] + mean[1][0] + mean[2][0]) / 3, 1e-9) &&
	       out[D] == ROWS, "k 1: the centroid is the overall mean");
	free(out);
	out = NULL;
	in.arg = 0;
	tap_ok(fn->central(&in, &out, &n) == -EINVAL && !out, "k 0: EINVAL");
	in.arg = ROWS + 1;
	tap_ok(fn->central(&in, &out, &n) == -EINVAL, "k over the rows: EINVAL");
	in.arg = K;
	in.arg2 = VS_DPG_KMEANS_MAXPASSES + 1;
	tap_ok(fn->central(&in, &out, &n) == -EINVAL, "too many passes: EINVAL");
	in.arg2 = 5;
	x[7] = 1e101;
	tap_ok(fn->central(&in, &out, &n) == -EINVAL, "a sample beyond 1e100: EINVAL");
	x[7] = INFINITY;
	tap_ok(fn->central(&in, &out, &n) == -EINVAL, "an infinite sample: EINVAL");
	in.rows = VS_DPG_CENTRAL_MAX_CELLS;
	tap_ok(fn->central(&in, &out, &n) == -E2BIG, "over VS_DPG_CENTRAL_MAX_CELLS: E2BIG");
	tap_ok(fn->init(&p, 0) == -EOPNOTSUPP && fn->local(&p, x, 1) == -EOPNOTSUPP,
	       "a central function has no partial result: EOPNOTSUPP, not a crash");
	memset(&p, 0, sizeof(p));
	p.fn = VS_DPG_FN_KMEANS;
	tap_ok(vs_dpg_part_validate(&p) == -EINVAL, "validate: a partial of a central function");
}

/* ---- PCA ------------------------------------------------------------------------------ */

static void
t_pca(void)
{
	const double r = sqrt(0.5);
	/* (2,0) (-2,0) (0,1) (0,-1) rotated by 45 degrees: covariance eigenvalues 8/3 and 2/3 */
	const double rot[] = { 2 * r, 2 * r, -2 * r, -2 * r, -r, r, r, -r };
	const vs_dpg_fn_t *fn = vs_dpg_fn_lookup_name("PCA");
	enum { R = 500, C = 4 };
	double *x = malloc(R * C * sizeof(*x)), *out = NULL, cov[C][C] = { { 0 } }, mu[C] = { 0 };
	double trace = 0, resid = 0, sum = 0;
	vs_dpg_central_in_t in = { rot, 4, 2, 0, 0 };
	size_t i, j, k, n = 0;
	int rc;

	tap_ok(fn && fn->id == VS_DPG_FN_PCA && fn->kind == VS_DPG_FN_CENTRAL && fn->central,
	       "PCA is a built-in central function");
	if (!fn)
		return;
	rc = fn->central(&in, &out, &n);
	tap_ok(rc == 0 && n == 2 + 2 + 4, "PCA of a 4 x 2 matrix: 8 values");
	if (rc == 0) {
		tap_ok(NEAR(out[0], 8.0 / 3, 1e-12) && NEAR(out[1], 2.0 / 3, 1e-12),
		       "eigenvalues 8/3 and 2/3 (%.15g, %.15g)", out[0], out[1]);
		tap_ok(NEAR(out[2], 0.8, 1e-12) && NEAR(out[3], 0.2, 1e-12),
		       "explained variance 0.8 and 0.2");
		tap_ok(NEAR(fabs(out[4] * r + out[5] * r), 1, 1e-12) &&
		       NEAR(fabs(-out[6] * r + out[7] * r), 1, 1e-12),
		       "components along (1,1) and (-1,1) over sqrt 2");
		tap_ok(out[4] > 0 && out[5] > 0, "sign: the largest entry is positive");
	}
	free(out);
	out = NULL;

	/* correlated random data: check the eigen-equation and the trace directly */
	for (i = 0; i < R; i++) {
		double a = s_rand() * 10, b = s_rand() * 3, c = s_rand();

		x[i * C + 0] = a + c;
		x[i * C + 1] = 2 * a - b;
		x[i * C + 2] = b + 0.1 * c;
		x[i * C + 3] = 5;               /* no variance at all */
	}
	for (i = 0; i < R; i++)
		for (j = 0; j < C; j++)
			mu[j] += x[i * C + j] / R;
	for (i = 0; i < R; i++)
		for (j = 0; j < C; j++)
			for (k = 0; k < C; k++)
				cov[j][k] += (x[i * C + j] - mu[j]) * (x[i * C + k] - mu[k]) /
					     (R - 1);
	for (j = 0; j < C; j++)
		trace += cov[j][j];
	in = (vs_dpg_central_in_t){ x, R, C, 0, 0 };
	rc = fn->central(&in, &out, &n);
	tap_ok(rc == 0 && n == 2 * C + C * C, "PCA of 500 x 4: %zu values", n);
	if (rc == 0) {
		for (i = 0; i < C; i++) {
			for (j = 0; j < C; j++) {
				double cv = 0;

				for (k = 0; k < C; k++)
					cv += cov[j][k] * out[2 * C + i * C + k];
				resid = fmax(resid, fabs(cv - out[i] * out[2 * C + i * C + j]));
			}
			sum += out[i];
		}
		tap_ok(resid < 1e-9 * trace, "C v = lambda v for every component (residual %g)",
		       resid);
		tap_ok(NEAR(sum, trace, 1e-9 * trace), "eigenvalues sum to the trace %g", trace);
		tap_ok(out[0] >= out[1] && out[1] >= out[2] && out[2] >= out[3] &&
		       NEAR(out[3], 0, 1e-9 * trace) && out[2 * C + 3] == 0,
		       "descending; the constant column has no variance");
		tap_ok(NEAR(out[C] + out[C + 1] + out[C + 2] + out[C + 3], 1, 1e-12),
		       "explained-variance ratios sum to 1");
	}
	free(out);
	out = NULL;
	in.arg = 1;
	tap_ok(fn->central(&in, &out, &n) == 0 && n == 2 + C, "components 1: 6 values");
	free(out);
	out = NULL;
	{
		/* found by fuzz_dpg_part: 67 x 4 numbers from 1e32 down to subnormals, on which
		 * dsyevr's MRRR solver never returned; alarm() fails the test instead of hanging */
		char path[1024];
		unsigned char raw[4096];
		FILE *f;
		size_t got = 0;

		snprintf(path, sizeof(path), "%s/fuzz/corpus-dpg-part/pca-mrrr-hang",
			 getenv("top_srcdir") ? getenv("top_srcdir") : "..");
		f = fopen(path, "rb");
		if (f) {
			got = fread(raw, 1, sizeof(raw), f);
			fclose(f);
		}
		if (got > 2 + 4 * 8) {
			double *bad = malloc(got);
			vs_dpg_central_in_t b = { bad, (got - 2) / 8 / 4, 4, 0, 0 };

			memcpy(bad, raw + 2, b.rows * 4 * 8);
			alarm(20);
			rc = fn->central(&b, &out, &n);
			alarm(0);
			tap_ok(rc == 0 && out[0] >= out[1] && out[1] >= out[2] && out[2] >= out[3],
			       "PCA of badly scaled numbers returns (rc %d)", rc);
			free(out);
			out = NULL;
			free(bad);
		} else {
			tap_ok(0, "read %s", path);
		}
	}
	in.rows = 1;
	tap_ok(fn->central(&in, &out, &n) == -EINVAL && !out, "one row: EINVAL");
	in.rows = R;
	x[3] = NAN;
	tap_ok(fn->central(&in, &out, &n) == -EINVAL, "a NaN: EINVAL");
	in.x = NULL;
	tap_ok(fn->central(&in, &out, &n) == -EINVAL, "no data: EINVAL");
	free(x);
}

/* ---- plugins ------------------------------------------------------------------------- */

static char s_why[512];

static int
s_copy(const char *from, const char *dir, const char *name, mode_t mode)
{
	char path[4096], buf[65536];
	int in, out, rc = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	in = open(from, O_RDONLY);
	if (in < 0)
		return -errno;
	unlink(path);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (out < 0) {
		close(in);
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -EIO;
	close(in);
	close(out);
	return rc ? rc : chmod(path, mode) < 0 ? -errno : 0;
}

static int
s_load(const char *dir, const char *file, const char *want)
{
	vs_dpg_plugin_t *pl = (vs_dpg_plugin_t *)&s_why;        /* must come back NULL */
	int rc = vs_dpg_plugin_load(dir, file, &pl, s_why, sizeof(s_why));

	if (rc < 0 && pl)
		return 1;               /* refused, yet handed a plugin */
	if (rc == 0)
		vs_dpg_plugin_destroy(&pl);
	tap_diag("  %s/%s: %d %s", dir, file, rc, s_why);
	if (want && !strstr(s_why, want))
		return 1;
	return rc;
}

static void
t_plugins(void)
{
	const char *top = getenv("top_builddir");
	char base[] = "/tmp/vs-dpg-plugins.XXXXXX", dir[256], lax[256], deep[256], link[512];
	char p95[1024], badabi[1024], nosym[1024], builtin[1024], path[512];
	const vs_dpg_fn_t *const *fns, *fn;
	vs_dpg_plugin_t *pl = NULL;
	double x[200 * 2], *out = NULL;
	vs_dpg_central_in_t in = { x, 200, 2, 0, 0 };
	size_t i, n = 0;
	int rc;

	if (geteuid() != 0) {
		tap_ok(1, "# SKIP plugin checks need root (root-owned plugin files)");
		return;
	}
	if (!top)
		top = ".";
	snprintf(p95, sizeof(p95), "%s/dpg/plugins/p95.so", top);
	snprintf(badabi, sizeof(badabi), "%s/tests/plugins/badabi.so", top);
	snprintf(nosym, sizeof(nosym), "%s/tests/plugins/nosym.so", top);
	snprintf(builtin, sizeof(builtin), "%s/tests/plugins/builtin.so", top);
	if (!mkdtemp(base)) {
		tap_ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	chmod(base, 0755);
	snprintf(dir, sizeof(dir), "%s/plugins", base);
	snprintf(lax, sizeof(lax), "%s/lax", base);
	snprintf(deep, sizeof(deep), "%s/lax/plugins", base);
	snprintf(link, sizeof(link), "%s/link", base);
	mkdir(dir, 0755);
	mkdir(lax, 0777);
	chmod(lax, 0777);               /* world-writable and not sticky */
	mkdir(deep, 0755);
	rc = s_copy(p95, dir, "p95.so", 0644) | s_copy(badabi, dir, "badabi.so", 0644) |
	     s_copy(nosym, dir, "nosym.so", 0644) | s_copy(builtin, dir, "builtin.so", 0644) |
	     s_copy(p95, lax, "p95.so", 0666) | s_copy(p95, deep, "p95.so", 0644);
	tap_ok(rc == 0, "plugins copied into %s", base);

	rc = vs_dpg_plugin_load(dir, "p95.so", &pl, s_why, sizeof(s_why));
	tap_ok(rc == 0 && pl, "P95 loads from a root-owned 0755 directory (%s)", s_why);
	if (pl) {
		size_t nf = vs_dpg_plugin_fns(pl, &fns);

		fn = vs_dpg_plugin_lookup_name(pl, "p95");
		tap_ok(nf == 1 && fn == fns[0] && fn->kind == VS_DPG_FN_CENTRAL &&
		       fn->id >= VS_DPG_FN_PLUGIN_MIN, "it holds one central function, P95");
		for (i = 0; i < 200; i++) {
			x[2 * i] = (double)((i * 37) % 200) + 1;        /* 1..200, shuffled */
			x[2 * i + 1] = -(double)i;
		}
		/* nearest rank ceil(0.95 * 200) = 190: 190, and -199 + 189 */
		rc = fn ? fn->central(&in, &out, &n) : -1;
		tap_ok(rc == 0 && n == 2 && out[0] == 190 && out[1] == -10,
		       "P95 of 1..200 is 190, of 0..-199 is -10 (%g, %g)", rc ? 0 : out[0],
		       rc ? 0 : out[1]);
		free(out);
		{
			const vs_dpg_fn_t *const *all;
			vs_dpg_plugin_t *again = NULL;

			tap_ok(fn && vs_dpg_fn_lookup_name("P95") == fn &&
			       vs_dpg_fn_lookup(fn->id) == fn && vs_dpg_plugin_list(&all) == 1 &&
			       all[0] == fn, "loaded, P95 is in the function library");
			rc = vs_dpg_plugin_load(dir, "p95.so", &again, s_why, sizeof(s_why));
			tap_diag("  again: %d %s", rc, s_why);
			tap_ok(rc == -EEXIST && !again && strstr(s_why, "already loaded"),
			       "loading P95 a second time is refused: already loaded");
		}
		vs_dpg_plugin_destroy(&pl);
		vs_dpg_plugin_destroy(&pl);
		tap_ok(!pl, "destroy twice is safe");
		tap_ok(vs_dpg_fn_lookup_name("P95") == NULL &&
		       vs_dpg_fn_lookup(VS_DPG_FN_PLUGIN_MIN + 95) == NULL &&
		       vs_dpg_plugin_list(&fns) == 0, "destroyed, P95 has left the library");
	}

	chmod(dir, 0757);
	tap_ok(s_load(dir, "p95.so", "world-writable") == -EPERM,
	       "a world-writable directory is refused, saying so");
	chmod(dir, 0775);
	tap_ok(s_load(dir, "p95.so", "group-writable") == -EPERM,
	       "a group-writable directory is refused, saying so");
	chmod(dir, 0755);
	tap_ok(chown(dir, 65534, 65534) == 0 && s_load(dir, "p95.so", "not root") == -EPERM,
	       "a directory owned by nobody is refused, saying so");
	tap_ok(chown(dir, 0, 0) == 0, "directory back to root");
	snprintf(path, sizeof(path), "%s/p95.so", dir);
	tap_ok(chown(path, 65534, 65534) == 0 && s_load(dir, "p95.so", "not root") == -EPERM,
	       "a plugin file owned by nobody is refused");
	tap_ok(chown(path, 0, 0) == 0 && chmod(path, 0664) == 0, "file back to root, mode 0664");
	tap_ok(s_load(dir, "p95.so", "group-writable") == -EPERM,
	       "a group-writable plugin file is refused");
	chmod(path, 0644);
	tap_ok(s_load(deep, "p95.so", "/lax: world-writable") == -EPERM,
	       "a safe directory under a world-writable (not sticky) one is refused, naming it");
	tap_ok(s_load(dir, "badabi.so", "ABI version 2") == -EPROTO,
	       "a plugin of another ABI version is refused, naming both versions");
	tap_ok(s_load(dir, "nosym.so", VS_DPG_PLUGIN_SYMBOL) == -ENOEXEC,
	       "a shared object without " VS_DPG_PLUGIN_SYMBOL " is refused");
	tap_ok(s_load(dir, "builtin.so", "built-in") == -EEXIST,
	       "a plugin reusing a built-in's name (max) is refused");
	snprintf(path, sizeof(path), "%s/evil.so", dir);
	snprintf(link, sizeof(link), "%s/p95.so", lax);
	tap_ok(symlink(link, path) == 0 && s_load(dir, "evil.so", "symlink") == -ELOOP,
	       "a symlink in the plugin directory to a file elsewhere is refused");
	unlink(path);
	snprintf(link, sizeof(link), "%s/link", base);
	tap_ok(symlink(dir, link) == 0 && s_load(link, "p95.so", "symlink") == -ELOOP,
	       "a plugin directory reached through a symlink is refused");
	unlink(link);
	tap_ok(s_load(dir, "missing.so", NULL) == -ENOENT, "a missing plugin: ENOENT");
	tap_ok(s_load("tmp/plugins", "p95.so", "absolute") == -EINVAL,
	       "a relative directory: EINVAL");
	tap_ok(s_load(dir, "../plugins/p95.so", "without '/'") == -EINVAL,
	       "a file name with '/': EINVAL");
	snprintf(path, sizeof(path), "%s/../plugins", base);
	tap_ok(s_load(path, "p95.so", "'..'") == -EINVAL, "'..' in the directory: EINVAL");
	/* two plugins at once (the second through what could be the first's descriptor
	 * number): each its own functions; RANGE and WSTAT callbacks as the runtime calls them */
	{
		char spread[1024];
		vs_dpg_plugin_t *p1 = NULL, *p2 = NULL;
		const vs_dpg_fn_t *range, *wstat;
		vs_dpg_part_t a, b;
		double s1[] = { 5, -2, 7 }, s2[] = { 30, 1 }, v[VS_DPG_FN_MAXVALS];
		size_t nv = VS_DPG_FN_MAXVALS;

		snprintf(spread, sizeof(spread), "%s/dpg/plugins/spread.so", top);
		rc = s_copy(spread, dir, "spread.so", 0644);
		rc = rc ? rc : vs_dpg_plugin_load(dir, "p95.so", &p1, s_why, sizeof(s_why));
		rc = rc ? rc : vs_dpg_plugin_load(dir, "spread.so", &p2, s_why, sizeof(s_why));
		range = vs_dpg_fn_lookup_name("range");
		wstat = vs_dpg_fn_lookup_name("WSTAT");
		tap_ok(rc == 0 && vs_dpg_plugin_list(&fns) == 3 && vs_dpg_fn_lookup_name("P95") &&
		       range && range->kind == VS_DPG_FN_COMBINE && wstat &&
		       wstat->kind == VS_DPG_FN_LOCAL, "p95.so and spread.so loaded together: "
		       "P95, RANGE (combine) and WSTAT (local) (%s)", s_why);
		if (range && wstat) {
			range->init(&a, 0);
			range->init(&b, 0);
			rc = range->local(&a, s1, 3) | range->local(&b, s2, 2) |
			     range->combine(&a, &b) | range->result(&a, v, &nv);
			tap_ok(rc == 0 && nv == 1 && v[0] == 32 && vs_dpg_part_validate(&a) == 0,
			       "RANGE of {5,-2,7} merged with {30,1}: 32 (%g), a valid partial",
			       nv ? v[0] : 0);
			tap_ok(range->init(&a, 1) == -EINVAL, "RANGE refuses an argument");
			nv = VS_DPG_FN_MAXVALS;
			wstat->init(&a, 0);
			rc = wstat->local(&a, s1, 3) | wstat->result(&a, v, &nv);
			tap_ok(rc == 0 && nv == 2 && fabs(v[0] - 10.0 / 3) < 1e-12 && v[1] == 7,
			       "WSTAT of a window {5,-2,7}: mean 3.333, max 7");
		} else {
			tap_ok(0, "RANGE");
			tap_ok(0, "RANGE argument");
			tap_ok(0, "WSTAT");
		}
		vs_dpg_plugin_destroy(&p2);
		vs_dpg_plugin_destroy(&p1);
		tap_ok(vs_dpg_plugin_list(&fns) == 0 && !vs_dpg_fn_lookup_name("RANGE"),
		       "both destroyed: the library is empty");
		snprintf(path, sizeof(path), "%s/spread.so", dir);
		remove(path);
	}

	snprintf(path, sizeof(path), "%s/p95.so", dir);
	tap_ok(truncate(path, 100) == 0, "p95.so truncated to 100 bytes");
	tap_ok(s_load(dir, "p95.so", "cannot load") == -ENOEXEC,
	       "a truncated shared object is refused with dlopen's reason");

	/* clean up */
	const char *files[] = { "plugins/p95.so", "plugins/badabi.so", "plugins/nosym.so",
				"plugins/builtin.so", "lax/plugins/p95.so", "lax/p95.so",
				"lax/plugins", "lax", "plugins" };
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", base, files[i]);
		remove(path);
	}
	tap_ok(rmdir(base) == 0, "temporary directories removed");
}

int
main(void)
{
	t_entropy_window();
	t_entropy_tree();
	t_kmeans();
	t_pca();
	t_plugins();
	return tap_done();
}
