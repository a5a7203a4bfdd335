/*
 * hvprobe: drives the xen hypervisor backend directly, inside the Dom0 that `make check-xen`
 * boots under QEMU (tests/xen/run.sh).  It checks the backend without vscoped in the way:
 * what list_domains() returns, how long list_domains() and read_counters() take, and which
 * lifecycle events come out of event_fd()/dispatch().
 *
 *   hvprobe [-u uid] [-t iterations] [-w seconds]
 *     -u uid   setuid(uid) first: open must then fail with -EACCES and a message
 *     -t N     time list_domains and read_counters over N calls each (default 200)
 *     -w S     then wait S seconds for events (default 0), or until SIGTERM/SIGINT,
 *              printing each event and the domain list after it
 *
 * Every line starts with "hvprobe: "; times are CLOCK_REALTIME milliseconds so that the
 * test script can set them against its own clock.  Exit status: 0, or 1 on any failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hv.h"

extern const struct vs_hv_ops vs_hv_xen_ops;

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

static double
s_now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
s_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static const char *
s_ev_name(vs_hv_event_t ev)
{
	switch (ev) {
	case VS_HV_EV_ADDED:
		return "added";
	case VS_HV_EV_REMOVED:
		return "removed";
	case VS_HV_EV_CHANGED:
		return "changed";
	}
	return "?";
}

static int
s_print_list(vs_hv_t *hv, const char *why)
{
	vs_dom_t *doms = NULL;
	size_t n = 0;
	double t0 = s_now_ms(CLOCK_MONOTONIC);
	int rc = hv->ops->list_domains(hv, &doms, &n);

	if (rc < 0) {
		printf("hvprobe: list failed rc=%d %s\n", rc, hv->error);
		return rc;
	}
	printf("hvprobe: list t=%.1f why=%s n=%zu took_ms=%.2f\n", s_now_ms(CLOCK_REALTIME),
		why, n, s_now_ms(CLOCK_MONOTONIC) - t0);
	for (size_t i = 0; i < n; i++) {
		const vs_dom_t *d = &doms[i];

		printf("hvprobe: dom id=%" PRIu32 " name=%s state=%d uuid=%s mem_kib=%" PRIu64
			" maxmem_kib=%" PRIu64 " vcpus=%" PRIu32 " cpu_ns=%" PRIu64 " vifs=",
			d->id, d->name[0] ? d->name : "-", (int)d->state, d->uuid[0] ? d->uuid : "-",
			d->mem_kib, d->maxmem_kib, d->vcpus, d->cpu_ns);
		for (size_t k = 0; k < d->n_vifs; k++)
			printf("%s%s/%" PRIu32 "/%s", k ? "," : "", d->vifs[k].ifname,
				d->vifs[k].devid, d->vifs[k].mac[0] ? d->vifs[k].mac : "-");
		printf("\n");
	}
	free(doms);
	return 0;
}

/* Best and median of iters calls of list_domains, then of read_counters. */
static int
s_timings(vs_hv_t *hv, int iters)
{
	double *t = calloc((size_t)iters, sizeof(*t));
	vs_dom_t *doms = NULL;
	size_t n = 0;
	int rc = 0;

	if (!t)
		return -ENOMEM;
	for (int i = 0; i < iters && rc == 0; i++) {
		double t0 = s_now_ms(CLOCK_MONOTONIC);

		free(doms);
		doms = NULL;
		rc = hv->ops->list_domains(hv, &doms, &n);
		t[i] = (s_now_ms(CLOCK_MONOTONIC) - t0) * 1e3;
	}
	if (rc == 0) {
		qsort(t, (size_t)iters, sizeof(*t), s_cmp_double);
		printf("hvprobe: timing list_domains doms=%zu calls=%d best_us=%.0f median_us=%.0f\n",
			n, iters, t[0], t[iters / 2]);
	}
	for (int i = 0; i < iters && rc == 0; i++) {
		double t0 = s_now_ms(CLOCK_MONOTONIC);

		rc = hv->ops->read_counters(hv, doms, n);
		t[i] = (s_now_ms(CLOCK_MONOTONIC) - t0) * 1e3;
	}
	if (rc == 0) {
		qsort(t, (size_t)iters, sizeof(*t), s_cmp_double);
		printf("hvprobe: timing read_counters doms=%zu calls=%d best_us=%.0f "
			"median_us=%.0f\n", n, iters, t[0], t[iters / 2]);
	} else {
		printf("hvprobe: timing failed rc=%d %s\n", rc, hv->error);
	}
	free(doms);
	free(t);
	return rc;
}

static void
s_on_event(void *arg, vs_hv_event_t ev, uint32_t domid)
{
	int *relist = arg;

	printf("hvprobe: event t=%.1f ev=%s domid=%" PRIu32 "\n", s_now_ms(CLOCK_REALTIME),
		s_ev_name(ev), domid);
	*relist = 1;
}

int
main(int argc, char **argv)
{
	vs_hv_t hv = { .ops = &vs_hv_xen_ops };
	struct sigaction sa = { .sa_handler = s_on_signal };    /* no SA_RESTART: poll wakes */
	int iters = 200, wait_s = 0, uid = -1, opt, rc;
	double end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while ((opt = getopt(argc, argv, "u:t:w:")) != -1) {
		switch (opt) {
		case 'u':
			uid = atoi(optarg);
			break;
		case 't':
			iters = atoi(optarg);
			break;
		case 'w':
			wait_s = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: hvprobe [-u uid] [-t iterations] [-w seconds]\n");
			return 2;
		}
	}
	if (uid >= 0 && setuid((uid_t)uid) != 0) {
		printf("hvprobe: setuid %d: %s\n", uid, strerror(errno));
		return 1;
	}
	rc = hv.ops->open(&hv, NULL);
	if (rc < 0) {
		printf("hvprobe: open failed rc=%d (%s) msg=%s\n", rc, strerror(-rc), hv.error);
		return 1;
	}
	printf("hvprobe: open ok uri=%s event_fd=%d\n", hv.uri, hv.ops->event_fd(&hv));
	if (s_print_list(&hv, "start") < 0 || (iters > 0 && s_timings(&hv, iters) < 0))
		goto fail;

	end = s_now_ms(CLOCK_MONOTONIC) + wait_s * 1e3;
	while (wait_s > 0 && !s_stop) {
		struct pollfd pfd = { .fd = hv.ops->event_fd(&hv), .events = POLLIN };
		double left = end - s_now_ms(CLOCK_MONOTONIC);
		int relist = 0;

		if (left <= 0)
			break;
		rc = poll(&pfd, 1, (int)left + 1);
		if (rc < 0 && errno != EINTR) {
			printf("hvprobe: poll: %s\n", strerror(errno));
			goto fail;
		}
		if (rc <= 0)
			continue;
		rc = hv.ops->dispatch(&hv, s_on_event, &relist);
		if (rc < 0) {
			printf("hvprobe: dispatch failed rc=%d %s\n", rc, hv.error);
			goto fail;
		}
		if (relist && s_print_list(&hv, "event") < 0)
			goto fail;
	}
	hv.ops->close(&hv);
	hv.ops->close(&hv);     /* twice: must be harmless */
	printf("hvprobe: done\n");
	return 0;
fail:
	hv.ops->close(&hv);
	return 1;
}
