/*
 * vscope top: xentop for vscoped. Each update asks vscoped for the domain list and for
 * the rates over the last DELAY seconds (ReadReq.window_ns), so the first screen
 * already has rates: vscoped keeps the history, we keep nothing between updates.
 */
#include "vscope.h"

#include <curses.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

enum s_sort { S_SORT_NAME, S_SORT_CPU, S_SORT_MEM, S_SORT_NET };
static const char *const s_sort_names[] = { "name", "cpu", "mem", "net" };

/* One domain's row; NAN where vscoped has no sample yet. */
struct s_dom {
	const char *name;               /* borrowed from the list reply */
	uint32_t id;
	const char *state;              /* one letter, or "-" */
	double cpu_s, cpu_pct;
	double mem_kib, mem_pct;
	double vcpus;
	unsigned nets;
	double nettx_kbps, netrx_kbps;
	double p99_us;                  /* the agent's first probe (by name): latest p99 */
	const char *probe;              /* borrowed; NULL when the agent reports none */
};

struct s_snap {
	Vsctl__Reply *list_rep, *read_rep;
	const Vsctl__Host *host;        /* NULL if vscoped sent none */
	struct s_dom *doms;
	size_t n;
	int64_t time_ns;
	double mem_total_kib, mem_avail_kib;
	double host_cpu_pct;
	unsigned nstate[6];             /* r b p s c d */
};

struct s_top {
	vs_globals_t *g;
	vs_client_t *client;
	double delay_s;
	long iterations;                /* 0: forever */
	enum s_sort sort;
	struct s_snap snap;             /* the latest good one */
	bool have_snap;
	char status[256];               /* interactive: the last error, or "" */
};

static volatile sig_atomic_t s_quit;

static void
s_on_signal(int sig)
{
	(void)sig;
	s_quit = 1;
}

static void
s_snap_dispose(struct s_snap *s)
{
	free(s->doms);
	if (s->list_rep != NULL)
		vsctl__reply__free_unpacked(s->list_rep, NULL);
	if (s->read_rep != NULL)
		vsctl__reply__free_unpacked(s->read_rep, NULL);
	memset(s, 0, sizeof(*s));
}

/* Host CPU busy % from the cpu.all.* counters' rates (ms of CPU time per second). */
static double
s_host_cpu_pct(const vs_rindex_t *ix, bool have_window)
{
	static const char *const busy[] = { "cpu.all.user", "cpu.all.nice", "cpu.all.system",
		"cpu.all.irq", "cpu.all.softirq", "cpu.all.steal" };
	static const char *const idle[] = { "cpu.all.idle", "cpu.all.iowait" };
	double b = 0, total = 0;

	for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++) {
		double r = (have_window ? vs_rindex_rate(ix, "host", busy[i]) : NAN);

		if (!isnan(r)) {
			b += r;
			total += r;
		}
	}
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++) {
		double r = (have_window ? vs_rindex_rate(ix, "host", idle[i]) : NAN);

		if (!isnan(r))
			total += r;
	}
	return total > 0 ? b / total * 100 : NAN;
}

static void
s_dom_fill(struct s_dom *o, const Vsctl__Domain *d, const vs_rindex_t *ix, bool have_window,
    double host_mem_kib)
{
	const char *n = vs_str(d->name);
	double tx = 0, rx = 0;
	bool any = false;

	o->name = n;
	o->id = d->id;
	o->state = *vs_str(d->state) != '\0' ? d->state : "-";
	o->cpu_s = vs_rindex_value(ix, n, "cpu.time") / 1e9;
	o->cpu_pct = (have_window ? vs_rindex_rate(ix, n, "cpu.time") : NAN) / 1e9 * 100;
	o->mem_kib = vs_rindex_value(ix, n, "mem.current");
	o->mem_pct = host_mem_kib > 0 ? o->mem_kib / host_mem_kib * 100 : NAN;
	o->vcpus = vs_rindex_value(ix, n, "vcpus");
	o->nets = (unsigned)d->n_vifs;
	/* Host side rx is what the guest transmitted: xentop's NETTX (and vice versa). */
	for (size_t i = 0; i < d->n_vifs; i++) {
		double r = (have_window ? vs_rindex_rate(ix, vs_str(d->vifs[i]->name), "net.rx.bytes") : NAN);
		double t = (have_window ? vs_rindex_rate(ix, vs_str(d->vifs[i]->name), "net.tx.bytes") : NAN);

		if (!isnan(r) || !isnan(t))
			any = true;
		tx += isnan(r) ? 0 : r;
		rx += isnan(t) ? 0 : t;
	}
	o->nettx_kbps = d->n_vifs == 0 ? 0 : any ? tx * 8 / 1000 : NAN;
	o->netrx_kbps = d->n_vifs == 0 ? 0 : any ? rx * 8 / 1000 : NAN;
	/* the guest agent's latency: p99 of the probe whose name sorts first */
	o->p99_us = NAN;
	o->probe = NULL;
	for (size_t i = 0; i < ix->n; i++) {
		const char *m = vs_str(ix->v[i]->metric);
		size_t ml = strlen(m);

		if (strcmp(vs_str(ix->v[i]->entity), n) || strncmp(m, "app.latency.", 12) ||
		    ml < 12 + 1 + 7 || strcmp(m + ml - 7, ".p99_us"))
			continue;
		if (o->probe == NULL || strcmp(m, o->probe) < 0) {
			o->probe = m;
			o->p99_us = ix->v[i]->value;
		}
	}
}

static int
s_fetch(struct s_top *t, struct s_snap *s, char *err, size_t errlen)
{
	static char *metrics[] = { "cpu.time", "mem.current", "vcpus", "net.rx.bytes",
		"net.tx.bytes", "cpu.all.*", "mem.total", "mem.available", "app.latency.*" };
	Vsctl__Request req = VSCTL__REQUEST__INIT;
	Vsctl__ListReq lreq = VSCTL__LIST_REQ__INIT;
	Vsctl__ReadReq rreq = VSCTL__READ_REQ__INIT;
	const Vsctl__Inventory *inv;
	const Vsctl__Domain **doms = NULL;
	vs_rindex_t ix = { NULL, 0 };
	bool have_window;
	double host_mem_kib;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	req.body_case = VSCTL__REQUEST__BODY_LIST;
	req.list = &lreq;
	if ((s->list_rep = vs_client_call(t->client, &req, err, errlen)) == NULL)
		return -errno;
	rreq.n_metric = sizeof(metrics) / sizeof(metrics[0]);
	rreq.metric = metrics;
	rreq.window_ns = vs_secs_to_ns(t->delay_s);
	req.body_case = VSCTL__REQUEST__BODY_READ;
	req.read = &rreq;
	if ((s->read_rep = vs_client_call(t->client, &req, err, errlen)) == NULL) {
		rc = -errno;
		goto out;
	}
	if (vs_rindex_init(&ix, s->read_rep->read) < 0)
		goto nomem;

	inv = s->list_rep->list;
	s->host = inv->host;
	s->time_ns = s->read_rep->read->time_ns;
	have_window = s->read_rep->read->window_ns > 0;
	host_mem_kib = s->host != NULL && s->host->mem_kib > 0 ? (double)s->host->mem_kib : NAN;
	s->mem_total_kib = vs_rindex_value(&ix, "host", "mem.total");
	if (isnan(s->mem_total_kib))
		s->mem_total_kib = host_mem_kib;
	s->mem_avail_kib = vs_rindex_value(&ix, "host", "mem.available");
	s->host_cpu_pct = s_host_cpu_pct(&ix, have_window);

	doms = vs_domains_sorted(inv);
	s->doms = calloc(inv->n_domains + 1, sizeof(*s->doms));
	if (s->doms == NULL || (doms == NULL && inv->n_domains > 0))
		goto nomem;
	for (size_t i = 0; i < inv->n_domains; i++) {
		static const char letters[] = "rbpscd";         /* the order of nstate[] */
		const char *p = strchr(letters, *vs_str(doms[i]->state));

		s_dom_fill(&s->doms[i], doms[i], &ix, have_window, host_mem_kib);
		if (p != NULL && *p != '\0')
			s->nstate[p - letters]++;
	}
	s->n = inv->n_domains;
	goto out;
nomem:
	rc = -ENOMEM;
	snprintf(err, errlen, "%s", strerror(ENOMEM));
out:
	vs_rindex_dispose(&ix);
	free(doms);
	if (rc < 0)
		s_snap_dispose(s);
	return rc;
}

/* ---- ordering ---- */

static enum s_sort s_sort_key;

/* Larger first; no data last. */
static int
s_cmp_desc(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return a > b ? -1 : a < b ? 1 : 0;
}

static double
s_net(const struct s_dom *d)
{
	if (isnan(d->nettx_kbps) && isnan(d->netrx_kbps))
		return NAN;
	return (isnan(d->nettx_kbps) ? 0 : d->nettx_kbps) +
	    (isnan(d->netrx_kbps) ? 0 : d->netrx_kbps);
}

static int
s_dom_cmp(const void *pa, const void *pb)
{
	const struct s_dom *a = pa, *b = pb;
	int c = 0;

	switch (s_sort_key) {
	case S_SORT_CPU:
		c = s_cmp_desc(a->cpu_pct, b->cpu_pct);
		break;
	case S_SORT_MEM:
		c = s_cmp_desc(a->mem_kib, b->mem_kib);
		break;
	case S_SORT_NET:
		c = s_cmp_desc(s_net(a), s_net(b));
		break;
	case S_SORT_NAME:
		break;
	}
	if (c == 0)
		c = strcmp(a->name, b->name);
	if (c == 0)
		c = a->id < b->id ? -1 : a->id > b->id;
	return c;
}

static void
s_sort(struct s_snap *s, enum s_sort key)
{
	s_sort_key = key;
	if (s->n > 1)
		qsort(s->doms, s->n, sizeof(*s->doms), s_dom_cmp);
}

/* ---- text: the same lines for batch output and the screen ---- */

static const char *
s_num(char *buf, size_t len, double v, int decimals)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", decimals, v);
	return buf;
}

static int
s_name_width(const struct s_snap *s)
{
	int w = 10;

	for (size_t i = 0; i < s->n; i++) {
		int l = (int)strlen(s->doms[i].name);

		w = l > w ? l : w;
	}
	return w;
}

static void
s_line_title(const struct s_snap *s, char *buf, size_t len)
{
	time_t secs = (time_t)(s->time_ns / VS_NS_PER_SEC);
	struct tm tm;
	char hms[16] = "--:--:--";

	if (s->time_ns > 0 && localtime_r(&secs, &tm) != NULL)
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	if (s->host != NULL)
		snprintf(buf, len, "vscope top - %s  %s (%s %s)%s", hms, vs_str(s->host->name),
		    vs_str(s->host->hypervisor), vs_str(s->host->uri),
		    s->host->simulated ? "  simulated Dom0 (testbed)" : "");
	else
		snprintf(buf, len, "vscope top - %s", hms);
}

static void
s_line_domains(const struct s_snap *s, char *buf, size_t len)
{
	snprintf(buf, len, "%zu domains: %u running, %u blocked, %u paused, %u crashed, "
	    "%u dying, %u shutdown", s->n, s->nstate[0], s->nstate[1], s->nstate[2],
	    s->nstate[4], s->nstate[5], s->nstate[3]);
}

static void
s_line_host(const struct s_snap *s, char *buf, size_t len)
{
	double used = s->mem_total_kib - s->mem_avail_kib;
	double ncpus = s->host != NULL && s->host->ncpus > 0 ? s->host->ncpus : NAN;
	char b[5][32];

	snprintf(buf, len, "Mem: %sk total, %sk used, %sk available    CPUs: %s    CPU: %s%s",
	    s_num(b[0], sizeof(b[0]), s->mem_total_kib, 0),
	    s_num(b[1], sizeof(b[1]), used, 0),
	    s_num(b[2], sizeof(b[2]), s->mem_avail_kib, 0),
	    s_num(b[3], sizeof(b[3]), ncpus, 0),
	    s_num(b[4], sizeof(b[4]), s->host_cpu_pct, 1), isnan(s->host_cpu_pct) ? "" : "%");
}

static void
s_line_columns(int wn, char *buf, size_t len)
{
	snprintf(buf, len, "%-*s %6s %10s %6s %10s %6s %5s %4s %13s %13s %10s", wn, "NAME",
	    "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "MEM(%)", "VCPUS", "NETS", "NETTX(kbit/s)",
	    "NETRX(kbit/s)", "P99(us)");
}

static void
s_line_dom(const struct s_dom *d, int wn, char *buf, size_t len)
{
	char state[7], b[8][32];

	vs_state_field(d->state, state);
	snprintf(buf, len, "%-*s %6s %10s %6s %10s %6s %5s %4u %13s %13s %10s", wn, d->name, state,
	    s_num(b[0], sizeof(b[0]), isnan(d->cpu_s) ? NAN : (double)(int64_t)d->cpu_s, 0),
	    s_num(b[1], sizeof(b[1]), d->cpu_pct, 1),
	    s_num(b[2], sizeof(b[2]), d->mem_kib, 0),
	    s_num(b[3], sizeof(b[3]), d->mem_pct, 1),
	    s_num(b[4], sizeof(b[4]), d->vcpus, 0),
	    d->nets,
	    s_num(b[5], sizeof(b[5]), d->nettx_kbps, 1),
	    s_num(b[6], sizeof(b[6]), d->netrx_kbps, 1),
	    s_num(b[7], sizeof(b[7]), d->p99_us, 0));
}

static int
s_print_text(const struct s_snap *s, bool first)
{
	char line[1024];
	int wn = s_name_width(s);

	if (!first)
		putchar('\n');
	s_line_title(s, line, sizeof(line));
	puts(line);
	s_line_domains(s, line, sizeof(line));
	puts(line);
	s_line_host(s, line, sizeof(line));
	puts(line);
	s_line_columns(wn, line, sizeof(line));
	puts(line);
	for (size_t i = 0; i < s->n; i++) {
		s_line_dom(&s->doms[i], wn, line, sizeof(line));
		puts(line);
	}
	return fflush(stdout) == EOF ? -EIO : 0;
}

static int
s_print_json(const struct s_snap *s)
{
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();

	json_object_object_add(root, "time_ns", json_object_new_int64(s->time_ns));
	for (size_t i = 0; i < s->n; i++) {
		const struct s_dom *d = &s->doms[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(d->name));
		json_object_object_add(o, "id", json_object_new_int64(d->id));
		json_object_object_add(o, "state", json_object_new_string(d->state));
		json_object_object_add(o, "cpu_s", vs_json_double(d->cpu_s));
		json_object_object_add(o, "cpu_pct", vs_json_double(d->cpu_pct));
		json_object_object_add(o, "mem_kib", vs_json_int(d->mem_kib));
		json_object_object_add(o, "mem_pct", vs_json_double(d->mem_pct));
		json_object_object_add(o, "vcpus", vs_json_int(d->vcpus));
		json_object_object_add(o, "nets", json_object_new_int64(d->nets));
		json_object_object_add(o, "nettx_kbps", vs_json_double(d->nettx_kbps));
		json_object_object_add(o, "netrx_kbps", vs_json_double(d->netrx_kbps));
		json_object_object_add(o, "latency_p99_us", vs_json_double(d->p99_us));
		json_object_object_add(o, "latency_probe", d->probe ?
		    json_object_new_string_len(d->probe + 12, (int)strlen(d->probe) - 12 - 7) :
		    NULL);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "domains", arr);
	return vs_json_emit(root, true);
}

/* ---- batch ---- */

static void
s_sleep_until(int64_t mono_ns)
{
	struct timespec ts = { .tv_sec = mono_ns / VS_NS_PER_SEC,
		.tv_nsec = mono_ns % VS_NS_PER_SEC };

	while (!s_quit && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int
s_batch(struct s_top *t)
{
	int64_t delay_ns = vs_secs_to_ns(t->delay_s);
	int64_t next = vs_mono_ns();
	bool warned = false;
	char err[512];

	for (long i = 0; !s_quit && (t->iterations == 0 || i < t->iterations); i++) {
		struct s_snap s;
		int rc;

		if (i > 0)
			s_sleep_until(next);
		if (s_quit)
			break;
		/* Behind schedule (a slow reply): start counting again from now. */
		next = next + delay_ns > vs_mono_ns() ? next + delay_ns : vs_mono_ns() + delay_ns;
		if (s_fetch(t, &s, err, sizeof(err)) < 0) {
			vs_error("%s", err);
			return VS_EXIT_ERR;
		}
		if (!warned)
			warned = vs_host_warn(s.host);
		s_sort(&s, t->sort);
		rc = t->g->json ? s_print_json(&s) : s_print_text(&s, i == 0);
		s_snap_dispose(&s);
		if (rc < 0) {
			vs_error("writing output: %s", strerror(EIO));
			return VS_EXIT_ERR;
		}
	}
	return VS_EXIT_OK;
}

/* ---- interactive (ncurses) ---- */

static void
s_put_line(int y, const char *s, int attr)
{
	if (y >= LINES)
		return;
	move(y, 0);
	clrtoeol();
	if (attr)
		attron(attr);
	addnstr(s, COLS);
	if (attr) {
		/* a full-width bar, like xentop's column header */
		for (int x = (int)strlen(s); x < COLS; x++)
			addch(' ');
		attroff(attr);
	}
}

static void
s_draw(struct s_top *t)
{
	char line[1024];
	int y = 0;

	erase();
	if (t->have_snap) {
		const struct s_snap *s = &t->snap;
		int wn = s_name_width(s);

		s_line_title(s, line, sizeof(line));
		s_put_line(y++, line, 0);
		s_line_domains(s, line, sizeof(line));
		s_put_line(y++, line, 0);
		s_line_host(s, line, sizeof(line));
		s_put_line(y++, line, 0);
		s_line_columns(wn, line, sizeof(line));
		s_put_line(y++, line, A_REVERSE);
		for (size_t i = 0; i < s->n && y < LINES - 1; i++) {
			s_line_dom(&s->doms[i], wn, line, sizeof(line));
			s_put_line(y++, line, 0);
		}
	} else {
		s_put_line(y++, "vscope top", 0);
	}
	if (t->status[0] != '\0')
		snprintf(line, sizeof(line), "%s", t->status);
	else if (t->have_snap && t->snap.host != NULL && *vs_str(t->snap.host->hv_error) != '\0')
		snprintf(line, sizeof(line), "%s backend not connected: %s",
		    vs_str(t->snap.host->hypervisor), t->snap.host->hv_error);
	else
		snprintf(line, sizeof(line), "q quit   s/c/m/n sort by name/cpu/mem/net (%s)   "
		    "d delay (%gs)", s_sort_names[t->sort], t->delay_s);
	s_put_line(LINES - 1, line, strncmp(line, "q quit", 6) != 0 ? A_BOLD : 0);
	refresh();
}

static void
s_ask_delay(struct s_top *t)
{
	char buf[32] = "";
	double v;

	move(LINES - 1, 0);
	clrtoeol();
	addstr("Delay in seconds: ");
	echo();
	curs_set(1);
	timeout(-1);
	getnstr(buf, sizeof(buf) - 1);
	noecho();
	curs_set(0);
	if (buf[0] == '\0')
		return;
	if (vs_secs_parse(buf, 0.01, 86400, &v) < 0)
		snprintf(t->status, sizeof(t->status),
		    "bad delay '%s': seconds from 0.01 to 86400", buf);
	else
		t->delay_s = v;
}

static void
s_refresh(struct s_top *t)
{
	struct s_snap s;
	char err[sizeof(t->status)];

	if (s_fetch(t, &s, err, sizeof(err)) < 0) {
		/* keep the last good screen and say why it is stale */
		snprintf(t->status, sizeof(t->status), "%s", err);
		return;
	}
	t->status[0] = '\0';
	if (t->have_snap)
		s_snap_dispose(&t->snap);
	t->snap = s;
	t->have_snap = true;
	s_sort(&t->snap, t->sort);
}

static int
s_interactive(struct s_top *t)
{
	char err[512];
	int64_t next;

	/* Unreachable at start: say so on stderr and fail, as the other commands do. */
	if (s_fetch(t, &t->snap, err, sizeof(err)) < 0) {
		vs_error("%s", err);
		return VS_EXIT_ERR;
	}
	t->have_snap = true;
	s_sort(&t->snap, t->sort);

	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);

	for (long i = 0; !s_quit && (t->iterations == 0 || i < t->iterations); i++) {
		if (i > 0)
			s_refresh(t);
		next = vs_mono_ns() + vs_secs_to_ns(t->delay_s);
		s_draw(t);
		if (t->iterations != 0 && i + 1 >= t->iterations)
			break;
		while (!s_quit) {
			int64_t left = next - vs_mono_ns();
			int ch;

			if (left <= 0)
				break;
			timeout((int)((left + VS_NS_PER_MSEC - 1) / VS_NS_PER_MSEC));
			ch = getch();
			if (ch == ERR)
				continue;
			switch (ch) {
			case 'q':
			case 'Q':
				s_quit = 1;
				break;
			case 's':
			case 'c':
			case 'm':
			case 'n':
				t->sort = ch == 's' ? S_SORT_NAME : ch == 'c' ? S_SORT_CPU :
				    ch == 'm' ? S_SORT_MEM : S_SORT_NET;
				if (t->have_snap)
					s_sort(&t->snap, t->sort);
				s_draw(t);
				break;
			case 'd':
				s_ask_delay(t);
				next = vs_mono_ns();    /* new window: update at once */
				s_draw(t);
				break;
			default:        /* KEY_RESIZE and anything else: redraw */
				s_draw(t);
				break;
			}
		}
	}
	endwin();
	if (t->have_snap)
		s_snap_dispose(&t->snap);
	return VS_EXIT_OK;
}

/* ---- the command ---- */

int
vs_cmd_top(vs_globals_t *g, int argc, char **argv)
{
	enum { OPT_SORT = 0x2000 };
	static const struct option longopts[] = {
		VS_COMMON_LONGOPTS,
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ NULL, 0, NULL, 0 },
	};
	struct s_top t = { .g = g, .delay_s = 1.0, .sort = S_SORT_NAME };
	struct sigaction sa;
	bool batch = false;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, VS_COMMON_SHORTOPTS "d:n:b", longopts,
	    NULL)) != -1) {
		char *end;
		size_t k;
		int r;

		switch (opt) {
		case 'd':
			if (vs_secs_parse(optarg, 0.01, 86400, &t.delay_s) < 0)
				return vs_usage_error("top", "bad --delay '%s': seconds from 0.01 "
				    "to 86400", optarg);
			continue;
		case 'n':
			errno = 0;
			t.iterations = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || t.iterations < 1)
				return vs_usage_error("top",
				    "bad --iterations '%s': a count from 1", optarg);
			continue;
		case 'b':
			batch = true;
			continue;
		case OPT_SORT:
			for (k = 0; k < sizeof(s_sort_names) / sizeof(s_sort_names[0]); k++)
				if (strcmp(optarg, s_sort_names[k]) == 0)
					break;
			if (k == sizeof(s_sort_names) / sizeof(s_sort_names[0]))
				return vs_usage_error("top",
				    "bad --sort '%s': name, cpu, mem or net", optarg);
			t.sort = (enum s_sort)k;
			continue;
		}
		if ((r = vs_common_opt(g, "top", opt, optarg)) != 0)
			return r > 0 ? VS_EXIT_OK : VS_EXIT_USAGE;
	}
	if (optind < argc)
		return vs_usage_error("top", "unexpected argument '%s'", argv[optind]);
	/* A screen needs a terminal both ways; JSON is always one line per update. */
	if (g->json || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		batch = true;

	if ((t.client = vs_connect(g)) == NULL)
		return VS_EXIT_ERR;
	if (!batch) {
		/* leave the screen through endwin(), whatever ends us */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = s_on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	rc = batch ? s_batch(&t) : s_interactive(&t);
	vs_client_destroy(&t.client);
	return rc;
}
