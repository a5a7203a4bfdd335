/*
 * httpload: an open-loop HTTP load generator for the milliScope scenario (tools/mstack.sh).
 * Requests start at a fixed rate whether or not earlier ones have finished, as users of a
 * web site do; a closed loop (ab, wrk) would slow down with the server and hide its queues.
 * Each request is HTTP/1.0 on a connection of its own, read to EOF.
 *
 *   httpload [-r RATE] [-d SECS] [-m MAXINFLIGHT] HOST PORT PATH
 *
 * Prints one summary line: started, ok (2xx), failed, refused for lack of room (more than
 * MAXINFLIGHT in flight), and latency p50/p99/max in ms.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 4096
#define MAX_SAMPLES 4000000

typedef struct conn {
	int fd;
	int64_t start;
	size_t sent, got;
	char head[16];
} conn_t;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr, "usage: httpload [-r RATE] [-d SECS] [-m MAXINFLIGHT] HOST PORT PATH\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	double rate = 200, secs = 10;
	long maxin = 1024;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[512];
	size_t reqlen;
	conn_t *conns;
	int64_t *lat, t0, next, period, end;
	size_t nlat = 0, inflight = 0;
	uint64_t started = 0, ok = 0, failed = 0, refused = 0;
	int ep, opt;

	while ((opt = getopt(argc, argv, "r:d:m:")) != -1) {
		switch (opt) {
		case 'r': rate = strtod(optarg, NULL); break;
		case 'd': secs = strtod(optarg, NULL); break;
		case 'm': maxin = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (argc - optind != 3 || !(rate > 0 && rate <= 100000) || !(secs > 0 && secs <= 3600) ||
	    maxin < 1 || maxin > MAX_INFLIGHT)
		usage();
	if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
		usage();
	sa.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	reqlen = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n",
	    argv[optind + 2], argv[optind]);
	if (reqlen >= sizeof(req))
		usage();
	conns = calloc((size_t)maxin, sizeof(*conns));
	lat = malloc(MAX_SAMPLES * sizeof(*lat));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conns == NULL || lat == NULL || ep < 0) {
		perror("httpload");
		return 1;
	}
	for (long i = 0; i < maxin; i++)
		conns[i].fd = -1;
	period = (int64_t)(1e9 / rate);
	t0 = now_ns();
	next = t0;
	end = t0 + (int64_t)(secs * 1e9);
	for (;;) {
		struct epoll_event evs[64];
		int64_t t = now_ns();
		int timeout, n;

		while (next <= t && next < end) {
			long i;

			next += period;
			started++;
			for (i = 0; i < maxin && conns[i].fd >= 0; i++)
				;
			if (i == maxin) {
				refused++;
				continue;
			}
			conn_t *c = &conns[i];
			c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
			    errno != EINPROGRESS)) {
				if (c->fd >= 0)
					close(c->fd);
				c->fd = -1;
				failed++;
				continue;
			}
			c->start = next - period;
			c->sent = c->got = 0;
			struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)i };
			epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
			inflight++;
		}
		if (next >= end && inflight == 0)
			break;
		if (t > end + 30 * (int64_t)1000000000)
			break;          /* stragglers: counted as failed below */
		timeout = next < end ? (int)((next - t) / 1000000) : 100;
		n = epoll_wait(ep, evs, 64, timeout < 0 ? 0 : timeout);
		for (int k = 0; k < n; k++) {
			conn_t *c = &conns[evs[k].data.u64];
			int done = 0, good = 0;

			if (c->sent < reqlen) {
				ssize_t w = send(c->fd, req + c->sent, reqlen - c->sent, MSG_NOSIGNAL);
				if (w < 0 && errno != EAGAIN) {
					done = 1;
				} else if (w > 0 && (c->sent += (size_t)w) == reqlen) {
					struct epoll_event ev = { .events = EPOLLIN,
						.data.u64 = evs[k].data.u64 };
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
			} else {
				char buf[4096];
				ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
				if (r > 0) {
					for (ssize_t j = 0; j < r && c->got < sizeof(c->head) - 1; j++)
						c->head[c->got++] = buf[j];
				} else if (r == 0 || errno != EAGAIN) {
					done = 1;
					c->head[c->got < sizeof(c->head) ? c->got : sizeof(c->head) - 1] = 0;
					/* "HTTP/1.x 2": a status line long enough to read */
					good = r == 0 && c->got >= 10 &&
					    strncmp(c->head, "HTTP/1.", 7) == 0 && c->head[9] == '2';
				}
			}
			if (done) {
				if (good) {
					ok++;
					if (nlat < MAX_SAMPLES)
						lat[nlat++] = now_ns() - c->start;
				} else {
					failed++;
				}
				close(c->fd);
				c->fd = -1;
				inflight--;
			}
		}
	}
	failed += inflight;
	qsort(lat, nlat, sizeof(*lat), cmp_i64);
	fflush(stdout);
	printf("started %llu ok %llu failed %llu refused %llu p50_ms %.3f p99_ms %.3f max_ms %.3f\n",
	    (unsigned long long)started, (unsigned long long)ok, (unsigned long long)failed,
	    (unsigned long long)refused, nlat ? lat[nlat / 2] / 1e6 : 0,
	    nlat ? lat[nlat * 99 / 100] / 1e6 : 0, nlat ? lat[nlat - 1] / 1e6 : 0);
	for (long i = 0; i < maxin; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	close(ep);
	free(conns);
	free(lat);
	return ok > 0 && failed == 0 ? 0 : 1;
}
