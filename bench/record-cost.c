/*
 * bench/record-cost: CPU per sample of `vscope mscope record` (Dom0's /proc files parsed,
 * rates computed, rows written to a SQLite warehouse, committed once a second) against a
 * bare loop that only preads the same four files, measured in the same run.
 *   record-cost [-v VSCOPE] [-d SECONDS] [-i INTERVAL]
 * The recorder runs with --no-domains (no hypervisor here); its CPU is the child's rusage
 * (user + system), divided by the samples its --json summary reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
s_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
s_bare(int n)
{
	static const char *const f[] = { "/proc/stat", "/proc/diskstats", "/proc/meminfo",
		"/proc/net/dev" };
	static char buf[65536];
	int fd[4];
	double t0;
	volatile size_t sum = 0;

	for (int i = 0; i < 4; i++)
		if ((fd[i] = open(f[i], O_RDONLY)) < 0) {
			perror(f[i]);
			exit(1);
		}
	t0 = s_cpu_s();
	for (int k = 0; k < n; k++)
		for (int i = 0; i < 4; i++) {
			ssize_t r = pread(fd[i], buf, sizeof(buf), 0);
			if (r > 0)
				sum += (size_t)r;
		}
	t0 = s_cpu_s() - t0;
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	return t0 / n;
}

int
main(int argc, char **argv)
{
	const char *vscope = "./tools/vscope", *interval = "1ms";
	const char *dur = "3";
	char db[] = "/tmp/record-cost-XXXXXX", path[64], out[4096];
	int opt, p[2], st;
	struct rusage ru;
	pid_t pid;

	while ((opt = getopt(argc, argv, "v:d:i:")) != -1) {
		switch (opt) {
		case 'v': vscope = optarg; break;
		case 'd': dur = optarg; break;
		case 'i': interval = optarg; break;
		default:
			fprintf(stderr, "usage: record-cost [-v VSCOPE] [-d SECONDS] [-i INTERVAL]\n");
			return 2;
		}
	}
	if (mkdtemp(db) == NULL || pipe(p) < 0) {
		perror("record-cost");
		return 1;
	}
	snprintf(path, sizeof(path), "sqlite:%s/w.db", db);
	double bare = s_bare(20000);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(vscope, vscope, "mscope", "record", "--run", "bench", "-w", path,
		    "--no-domains", "--interval", interval, "--duration", dur, "--json",
		    (char *)NULL);
		perror(vscope);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(out) - 1 && (r = read(p[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "record-cost: the recorder failed\n");
		return 1;
	}
	const char *s = strstr(out, "\"samples\":");
	const char *rw = strstr(out, "\"rows\":");
	long samples = s ? strtol(s + 10, NULL, 10) : 0, rows = rw ? strtol(rw + 7, NULL, 10) : 0;
	if (samples <= 0) {
		fprintf(stderr, "record-cost: no samples in '%s'\n", out);
		return 1;
	}
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	double per = cpu / (double)samples;
	double secs = strtod(dur, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", db);
	if (system(cmd) != 0)
		fprintf(stderr, "record-cost: could not remove %s\n", db);
	printf("bare_pread_4_files: %.1f us/sample\n", bare * 1e6);
	printf("record_samples: %ld samples\n", samples);
	printf("record_rows: %.1f rows/sample\n", (double)rows / (double)samples);
	printf("record_cpu_share_at_%s: %.2f %%\n", interval, 100.0 * cpu / secs);
	printf("record_cpu: %.1f us/sample\n", per * 1e6);
	printf("record_vs_bare_read: %.2f x\n", per / bare);
	return 0;
}
