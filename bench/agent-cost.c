/*
 * bench/agent-cost: CPU per sample of vscope-agent's resource sampler (guest-agent/
 * resources.c: /proc/stat, meminfo, diskstats, net/dev preadded on open fds and parsed,
 * the samples held for the batch) at 1 ms and 10 ms, against a bare loop paced the same way
 * that only preads the same four files, measured in the same run (the wakeups of both count:
 * CPU is this process's user + system time, CLOCK_PROCESS_CPUTIME_ID).
 *   agent-cost [-d SECONDS] [-p PROCDIR]
 * Prints "name: value unit" lines, the headline ratio (sampler / bare at 10 ms) last.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "resources.h"

static double
s_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
s_sleep_until(int64_t mono_ns)
{
	struct timespec ts = { mono_ns / 1000000000LL, mono_ns % 1000000000LL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The baseline: pread the four files every interval, nothing else. CPU us per round. */
static double
s_bare(const char *procdir, int64_t interval_ns, double secs, long *n_r)
{
	static const char *files[4] = { "stat", "meminfo", "diskstats", "net/dev" };
	static char buf[64 * 1024];
	int fd[4];
	char path[512];
	int64_t next = vs_mono_ns(), end = next + (int64_t)(secs * 1e9);
	double c0;
	long n = 0;

	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", procdir, files[i]);
		if ((fd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			perror(path);
			exit(1);
		}
	}
	c0 = s_cpu_s();
	while (next < end) {
		for (int i = 0; i < 4; i++)
			if (pread(fd[i], buf, sizeof(buf) - 1, 0) < 0)
				exit(1);
		n++;
		next += interval_ns;
		s_sleep_until(next);
	}
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	*n_r = n;
	return (s_cpu_s() - c0) * 1e6 / (double)n;
}

/* The sampler as the agent runs it: poll at its deadline, hand the batch on when due. */
static double
s_sampler(const char *procdir, int64_t interval_ns, double secs, long *n_r, uint64_t *missed_r)
{
	vs_res_spec_t spec = { 1, interval_ns, 250 * VS_NS_PER_MSEC };
	vs_res_t *r = vs_res_new(&spec, procdir);
	int64_t now = vs_mono_ns(), end = now + (int64_t)(secs * 1e9);
	const vs_res_sample_t *s;
	size_t n;
	double c0, cpu;
	volatile uint64_t sink = 0;

	if (r == NULL) {
		perror("vs_res_new");
		exit(1);
	}
	c0 = s_cpu_s();
	while ((now = vs_mono_ns()) < end) {
		vs_res_poll(r, now);
		if (vs_res_due(r, now, &s, &n)) {
			sink += s[n - 1].cpu[0];        /* the agent packs them here */
			vs_res_consume(r, n);
		}
		s_sleep_until(vs_res_deadline(r));
	}
	cpu = s_cpu_s() - c0;
	*n_r = (long)vs_res_taken(r);
	*missed_r = vs_res_missed(r);
	vs_res_destroy(&r);
	(void)sink;
	return cpu * 1e6 / (double)*n_r;
}

int
main(int argc, char **argv)
{
	const char *procdir = "/proc";
	double secs = 3, bare[2], smp[2];
	static const int64_t iv[2] = { 1000000, 10000000 };
	long nb, ns;
	uint64_t missed;
	int opt;

	while ((opt = getopt(argc, argv, "d:p:")) != -1) {
		switch (opt) {
		case 'd': secs = atof(optarg); break;
		case 'p': procdir = optarg; break;
		default:
			fprintf(stderr, "usage: agent-cost [-d SECONDS] [-p PROCDIR]\n");
			return 2;
		}
	}
	for (int k = 0; k < 2; k++) {
		int ms = (int)(iv[k] / 1000000);

		bare[k] = s_bare(procdir, iv[k], secs, &nb);
		smp[k] = s_sampler(procdir, iv[k], secs, &ns, &missed);
		printf("bare_pread_%dms_samples: %ld count\n", ms, nb);
		printf("bare_pread_%dms_cpu: %.2f us/sample\n", ms, bare[k]);
		printf("sampler_%dms_samples: %ld count\n", ms, ns);
		printf("sampler_%dms_missed: %llu count\n", ms, (unsigned long long)missed);
		printf("sampler_%dms_cpu: %.2f us/sample\n", ms, smp[k]);
		printf("sampler_%dms_cpu_share: %.3f %%\n", ms, smp[k] / (double)(iv[k] / 1000) *
		    100.0);
		printf("sampler_vs_bare_%dms: %.2f x\n", ms, smp[k] / bare[k]);
	}
	printf("sampler_vs_bare_10ms_headline: %.2f x\n", smp[1] / bare[1]);
	return 0;
}
