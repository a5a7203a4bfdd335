/* vscope-agent's configuration and key file: good values, each bad one named in the error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aconf.h"
#include "tap.h"

static char dir[] = "/tmp/test_aconf.XXXXXX";

static int
s_conf(const char *text, vs_aconf_t *c, char *err, size_t errlen)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	vs_aconf_defaults(c);
	return vs_aconf_read(c, path, err, errlen);
}

int
main(void)
{
	static vs_aconf_t c;
	char err[512], pub[41], sec[41], pub2[41], kp[128], text[1024];
	int rc;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("mkdtemp");
	snprintf(kp, sizeof(kp), "%s/agent.key", dir);
	tap_ok(vs_aconf_keygen(kp, pub, err, sizeof(err)) == 0, "key pair generated");
	tap_ok(vs_aconf_keys(kp, pub2, sec, err, sizeof(err)) == 0 && strcmp(pub, pub2) == 0,
	    "and read back (%s)", err);
	tap_ok(vs_aconf_keygen(kp, pub, err, sizeof(err)) == -EEXIST,
	    "never overwrites a key file");
	chmod(kp, 0640);
	rc = vs_aconf_keys(kp, pub2, sec, err, sizeof(err));
	tap_ok(rc == -EPERM && strstr(err, "readable by group or others"),
	    "mode 0640 refused: %s", err);
	chmod(kp, 0600);
	snprintf(text, sizeof(text), "endpoint = tcp://10.77.1.2:7788\nserver-key = \"%s\"\n"
	    "key-file = %s\ninterval = 500ms\nstatsd-port = 9125\n"
	    "probe = echo tcp interval=10ms timeout=200ms send=64 expect=64 10.77.1.1:7\n"
	    "probe = web http status=204 http://10.77.1.1:8080/x\n"
	    "probe = rt cmd interval=2s /bin/sh -c 'echo x > /dev/null'\n", pub, kp);
	rc = s_conf(text, &c, err, sizeof(err));
	tap_ok(rc == 0, "a full configuration (%s)", rc ? err : "ok");
	tap_ok(c.interval_ns == 500000000 && c.statsd_port == 9125 && c.n_probes == 3,
	    "interval, statsd port, 3 probes");
	tap_ok(c.probes[0].type == VS_PROBE_TCP && c.probes[0].interval_ns == 10000000 &&
	    c.probes[0].timeout_ns == 200000000 && strcmp(c.probes[0].target, "10.77.1.1:7") == 0,
	    "tcp probe at 10 ms, timeout 200 ms (a busy probe skips its slots)");
	tap_ok(c.probes[1].expect_status == 204 && c.probes[1].type == VS_PROBE_HTTP,
	    "http probe expects 204");
	tap_ok(strcmp(c.probes[2].target, "/bin/sh -c 'echo x > /dev/null'") == 0,
	    "cmd probe keeps the whole command line");
	vs_aconf_defaults(&c);
	tap_ok(c.interval_ns == 1000000000 && c.statsd_port == 8125, "defaults: 1 s, port 8125");
#define BAD(txt, want) do { \
		rc = s_conf(txt, &c, err, sizeof(err)); \
		tap_ok(rc < 0 && strstr(err, want), "%s -> %s", #txt, err); \
	} while (0)
	BAD("endpoint = ipc:///x\n", "not tcp://ADDR:PORT");
	BAD("server-key = abc\n", "z85");
	BAD("interval = 1ms\n", "not a duration");
	BAD("probe = x tcp interval=5ms 1.2.3.4:5\n", "10ms..1h");
	BAD("probe = x udp 1.2.3.4:5\n", "tcp, http or cmd");
	BAD("probe = x tcp 1.2.3.4:5\nprobe = x tcp 1.2.3.4:6\n", "defined twice");
	BAD("bogus = 1\n", "unknown key");
	BAD("resources = interval=0ms\n", "not between 1ms and 1000ms");
	BAD("resources = interval=1001ms\n", "not between 1ms and 1000ms");
	BAD("resources = interval=500us\n", "not between 1ms and 1000ms");
	BAD("resources = batch=100ms\n", "interval=MS is missing");
	BAD("resources = interval=10ms batch=5ms\n", "between the interval and 10s");
	BAD("resources = interval=10ms batch=11s\n", "between the interval and 10s");
	BAD("resources = interval=1ms batch=2s\n", "batch over 1024 intervals");
	BAD("resources = interval=10ms every=1\n", "unknown word 'every=1'");
	BAD("resources = interval=fast\n", "not a duration");
	rc = s_conf("resources = interval=10ms\n", &c, err, sizeof(err));
	tap_ok(rc == 0 && c.resources.on && c.resources.interval_ns == 10000000 &&
	    c.resources.batch_ns == 250000000, "resources = interval=10ms: batch 250 ms (%s)",
	    rc ? err : "ok");
	rc = s_conf("resources = interval=1ms batch=1s\n", &c, err, sizeof(err));
	tap_ok(rc == 0 && c.resources.interval_ns == 1000000 && c.resources.batch_ns ==
	    1000000000, "resources = interval=1ms batch=1s (%s)", rc ? err : "ok");
	vs_aconf_defaults(&c);
	tap_ok(!c.resources.on, "no resources directive: not sampled");
	unlink(kp);
	snprintf(text, sizeof(text), "%s/agent.conf", dir);
	unlink(text);
	rmdir(dir);
	return tap_done();
}
