/*
 * kidle: idle TCP connections for the benchmark's memory measurement.
 *   kidle open HOST:PORT N READYFILE   open N connections, write READYFILE
 *                                      once all are up, hold them until
 *                                      SIGTERM, then say how many the far
 *                                      end had closed meanwhile
 *   kidle sink PORT                    accept on 127.0.0.1:PORT and hold
 *                                      every connection, reading nothing
 * Both raise their own open-files limit to the hard limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static int run_open(const char *addr, int n, const char *ready)
{
	struct sockaddr_in sa;
	struct pollfd *fds = calloc((size_t)n, sizeof(*fds));
	sigset_t sigs;
	int sig, closed = 0;
	char msg[64];
	double t0 = now_s(), t1;

	if (!fds || parse_addr(addr, &sa) < 0) {
		fprintf(stderr, "kidle: bad address %s\n", addr);
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		/* Blocking connect: a full accept queue slows us down
		 * rather than losing connections. */
		if (fd < 0 ||
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			fprintf(stderr, "kidle: connection %d: %s\n", i,
				strerror(errno));
			return 1;
		}
		fds[i].fd = fd;
		fds[i].events = POLLIN;
	}
	t1 = now_s();
	snprintf(msg, sizeof(msg), "%d\n", n);
	if (write_file(ready, msg) < 0) {
		fprintf(stderr, "kidle: %s: %s\n", ready, strerror(errno));
		return 1;
	}
	sigwait(&sigs, &sig);
	/* A connection the proxy dropped is readable (EOF or RST). */
	poll(fds, (nfds_t)n, 0);
	for (int i = 0; i < n; i++)
		if (fds[i].revents)
			closed++;
	printf("RESULT mode=idle open=%d closed_by_peer=%d open_s=%.3f\n", n,
	       closed, t1 - t0);
	return closed ? 1 : 0;
}

static int run_sink(int port)
{
	struct sockaddr_in sa;
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
	long n = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 4096) < 0) {
		fprintf(stderr, "kidle: sink on port %d: %s\n", port,
			strerror(errno));
		return 1;
	}
	for (;;) {
		int fd = accept(ls, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "kidle: accept after %ld: %s\n", n,
				strerror(errno));
			return 1;
		}
		n++;
	}
}

int main(int argc, char **argv)
{
	raise_nofile();
	if (argc == 5 && strcmp(argv[1], "open") == 0)
		return run_open(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return run_sink(atoi(argv[2]));
	fprintf(stderr, "usage: kidle open HOST:PORT N READYFILE | "
			"kidle sink PORT\n");
	return 2;
}
