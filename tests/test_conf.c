/* vscoped's configuration file: good files, and every bad one named by file and line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dconf.h"
#include "graph.h"
#include "tap.h"

static char dir[] = "/tmp/vs-conf-XXXXXX";

static int
load(const char *text, vs_dconf_t *c, char *err, size_t errlen)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/vscoped.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	vs_dconf_defaults(c);
	err[0] = '\0';
	int rc = vs_dconf_load(c, path, err, errlen);
	if (rc == 0)
		rc = vs_dconf_check(c, err, errlen);
	return rc;
}

int
main(void)
{
	vs_dconf_t c;
	char err[512];
	int rc;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("mkdtemp failed");

	rc = load("# vscoped\n\nhypervisor = libvirt:test:///tmp/node.xml\ninterval = 10ms\n"
	    "history = 10m  # ten minutes\ncontrol = \"ipc:///tmp/x.sock\"\nlog = stderr\n"
	    "log-level = debug\nmax-series = 4096\nhistory-memory = 32M\n"
	    "host-metrics = no\nconnections-interval = 2s\n", &c, err, sizeof(err));
	tap_ok(rc == 0, "a full good file loads (%s)", err);
	tap_ok(!strcmp(c.hypervisor, "libvirt:test:///tmp/node.xml"), "hypervisor read");
	TAP_IS_INT(c.interval_ns, 10 * VS_NS_PER_MSEC, "interval 10ms");
	TAP_IS_INT(c.history_ns, 600 * VS_NS_PER_SEC, "history 10m, trailing comment ignored");
	tap_ok(!strcmp(c.control, "ipc:///tmp/x.sock"), "quoted value unquoted");
	TAP_IS_INT(c.use_syslog, 0, "log = stderr");
	TAP_IS_INT(c.max_series, 4096, "max-series");
	TAP_IS_INT(c.history_memory, 32 << 20, "history-memory 32M");
	TAP_IS_INT(c.host_metrics, 0, "host-metrics = no");
	TAP_IS_INT(c.conn_interval_ns, 2 * VS_NS_PER_SEC, "connections-interval");

	static const struct { const char *text; const char *want; } bad[] = {
		{ "interval = 100ms\nbogus-key = 1\n", "vscoped.conf:2: unknown key \"bogus-key\"" },
		{ "\n\ninterval = fast\n", "vscoped.conf:3: interval:" },
		{ "interval = 0ms\n", "vscoped.conf:1: interval: 0ms is out of range" },
		{ "interval = 500us\n", "vscoped.conf:1: interval: 500us is out of range" },
		{ "hypervisor = vmware\n", "vscoped.conf:1: hypervisor: expected" },
		{ "control = http://x\n", "vscoped.conf:1: control:" },
		{ "control = tcp://127.0.0.1:5555\n", "vscoped.conf:1: control: tcp:// endpoints are refused" },
		{ "just words\n", "vscoped.conf:1: expected \"key = value\"" },
		{ " = 5\n", "vscoped.conf:1: missing key" },
		{ "Interval = 5ms\n", "vscoped.conf:1: bad key" },
		{ "log = journald\n", "vscoped.conf:1: log:" },
		{ "log-level = loud\n", "vscoped.conf:1: log-level:" },
		{ "max-series = 10\n", "vscoped.conf:1: max-series:" },
		{ "history-memory = 12Q\n", "vscoped.conf:1: history-memory:" },
		{ "host-metrics = maybe\n", "vscoped.conf:1: host-metrics:" },
		{ "control = \"ipc:///x\n", "vscoped.conf:1: unterminated quoted value" },
		{ "interval = 10s\nhistory = 1s\n", "history (1000 ms) is shorter than interval" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = load(bad[i].text, &c, err, sizeof(err));
		tap_ok(rc < 0 && strstr(err, bad[i].want) != NULL, "rejected with \"%s\" (got \"%s\")",
		    bad[i].want, err);
	}

	/* a line too long and a NUL byte */
	{
		char *big = malloc(6000);
		memset(big, 'a', 5998);
		memcpy(big, "pidfile = ", 10);
		big[5998] = '\n';
		big[5999] = '\0';
		rc = load(big, &c, err, sizeof(err));
		tap_ok(rc < 0 && strstr(err, ":1: line longer than"), "overlong line rejected (%s)", err);
		free(big);
	}
	{
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/nul.conf", dir);
		f = fopen(path, "w");
		fwrite("interval = 10ms\nlog\0 = stderr\n", 1, 30, f);
		fclose(f);
		vs_dconf_defaults(&c);
		rc = vs_dconf_load(&c, path, err, sizeof(err));
		tap_ok(rc < 0 && strstr(err, "nul.conf:2:"), "NUL byte rejected at its line (%s)", err);
	}
	rc = vs_dconf_load(&c, "/nonexistent/vscoped.conf", err, sizeof(err));
	tap_ok(rc == -ENOENT && strstr(err, "/nonexistent/vscoped.conf"), "missing file: -ENOENT");

	/* counter increments: normal, 32-bit wrap, reset */
	TAP_IS_INT(vs_counter_inc(100, 150), 50, "counter increment");
	TAP_IS_INT(vs_counter_inc(0xFFFFFF00ULL, 0x10), 0x110, "32-bit wrap recognised");
	TAP_IS_INT(vs_counter_inc(5000000000ULL, 300), 300, "64-bit decrease is a reset");
	TAP_IS_INT(vs_counter_inc(1000, 10), 10, "small decrease is a reset, not a wrap");
	TAP_IS_INT(vs_counter_inc(UINT64_MAX - 5, UINT64_MAX), 5, "near 2^64");

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("cleanup failed");
	return tap_done();
}
