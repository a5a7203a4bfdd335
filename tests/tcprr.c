/*
 * tcprr: TCP request/response latency at a fixed rate, for the naughty-VM tests and
 * bench/shaping (stands in for vscope-agent's tcp probe until that lands).
 *
 *	tcprr -l PORT                           echo server (one thread per connection)
 *	tcprr -c ADDR -p PORT [-r RATE] [-t SECS] [-s SIZE]
 *
 * The client sends SIZE-byte requests (default 64) at RATE per second (default 500) for
 * SECS (default 5) on one connection, waits for each echo, and prints one JSON line:
 * {"count":N,"sent":N,"p50_us":X,"p99_us":X,"max_us":X}. A request whose answer is late
 * delays the next (closed loop), so a congested path shows in count as well.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t
s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
s_full(int fd, void *buf, size_t n, int rd)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = rd ? read(fd, (char *)buf + done, n - done) :
		    write(fd, (char *)buf + done, n - done);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

static void *
s_echo(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (s_full(fd, buf, (size_t)n, 0) < 0)
			break;
	close(fd);
	return NULL;
}

static int
s_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *addr = NULL;
	int port = 0, listen_port = 0, rate = 500, size = 64, opt, one = 1, fd;
	double secs = 5;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	while ((opt = getopt(argc, argv, "l:c:p:r:t:s:")) != -1) {
		switch (opt) {
		case 'l': listen_port = atoi(optarg); break;
		case 'c': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'r': rate = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 's': size = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (listen_port > 0 && listen_port < 65536) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_port = htons((uint16_t)listen_port);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
			perror("tcprr: listen");
			return 1;
		}
		for (;;) {
			int c = accept(fd, NULL, NULL);
			pthread_t t;

			if (c < 0)
				continue;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (pthread_create(&t, NULL, s_echo, (void *)(intptr_t)c) == 0)
				pthread_detach(t);
			else
				close(c);
		}
	}
	if (addr == NULL || port <= 0 || port > 65535 || rate < 1 || rate > 100000 || size < 1 ||
	    size > 4096 || secs <= 0 || secs > 3600 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		goto usage;
	{
		size_t max = (size_t)(rate * secs) + 1, n = 0, sent = 0;
		int64_t *lat = calloc(max, sizeof(*lat)), period = 1000000000LL / rate;
		int64_t start, next, end;
		char buf[4096];

		fd = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_port = htons((uint16_t)port);
		if (lat == NULL || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("tcprr: connect");
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(buf, 'x', sizeof(buf));
		start = next = s_now();
		end = start + (int64_t)(secs * 1e9);
		while (n < max) {
			int64_t now = s_now(), t0;

			if (now >= end)
				break;
			if (now < next) {
				struct timespec ts = { 0, (long)(next - now) };

				nanosleep(&ts, NULL);
			}
			t0 = s_now();
			sent++;
			if (s_full(fd, buf, (size_t)size, 0) < 0 || s_full(fd, buf, (size_t)size, 1) < 0)
				break;
			lat[n++] = s_now() - t0;
			next += period;
			if (next < s_now() - period)
				next = s_now();         /* late: do not send a burst to catch up */
		}
		qsort(lat, n, sizeof(*lat), s_cmp);
		printf("{\"count\":%zu,\"sent\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
		    n, sent, n ? lat[n / 2] / 1e3 : 0.0, n ? lat[(n * 99) / 100] / 1e3 : 0.0,
		    n ? lat[n - 1] / 1e3 : 0.0);
		free(lat);
		close(fd);
		return n ? 0 : 1;
	}
usage:
	fprintf(stderr, "usage: tcprr -l PORT | tcprr -c ADDR -p PORT [-r RATE] [-t SECS] [-s SIZE]\n");
	return 2;
}
