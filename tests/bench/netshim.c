/*
 * netshim: an LD_PRELOAD shim for the end-to-end benchmark, two switches:
 *
 * KC_BENCH_NETNS=NAME  every TCP socket the process connects is re-made in
 *   the network namespace /run/netns/NAME just before connect(), while its
 *   listeners stay where the process runs. This does for kafka-conntrace
 *   what `server ... namespace NAME` does for HAProxy: both proxies listen
 *   outside the brokers' namespace and reach into it over its loopback.
 *
 * KC_BENCH_NODELAY=1  every TCP socket the process accepts or connects
 *   gets TCP_NODELAY. The benchmark sets it on the mock brokers, as a real
 *   Kafka broker sets it: librdkafka's mock leaves Nagle on, and a response
 *   then waits for the client's delayed ACK, ~1 ms at 1,000 requests/s and
 *   up to 40 ms, on every path alike. On kafka-conntrace it is an
 *   experiment (BENCH_KC_NODELAY=1), not the default configuration.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

static connect_fn real_connect;
static accept_fn real_accept;
static accept4_fn real_accept4;
static int home_ns = -1;   /* the namespace the process started in */
static int target_ns = -1; /* where connected sockets are made */
static int nodelay;

__attribute__((constructor)) static void shim_init(void)
{
	const char *name = getenv("KC_BENCH_NETNS");
	const char *nd = getenv("KC_BENCH_NODELAY");
	char path[512];

	real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
	real_accept = (accept_fn)dlsym(RTLD_NEXT, "accept");
	real_accept4 = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
	nodelay = nd && strcmp(nd, "1") == 0;
	if (!name || !*name)
		return;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	target_ns = open(path, O_RDONLY | O_CLOEXEC);
	if (home_ns < 0 || target_ns < 0) {
		fprintf(stderr, "netshim: cannot open %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
}

/* Replace fd by a socket of the same family made in the target namespace,
 * keeping the flags the caller set (non-blocking, close-on-exec). */
static int move_socket(int fd, int family)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), s;

	if (fl < 0 || fdfl < 0)
		return -1;
	if (setns(target_ns, CLONE_NEWNET) < 0)
		return -1;
	s = socket(family, SOCK_STREAM, 0);
	if (setns(home_ns, CLONE_NEWNET) < 0) {
		/* The process would go on in the wrong namespace. */
		perror("netshim: setns back");
		abort();
	}
	if (s < 0)
		return -1;
	if (fcntl(s, F_SETFL, fl) < 0 || dup2(s, fd) < 0 ||
	    fcntl(fd, F_SETFD, fdfl) < 0) {
		close(s);
		return -1;
	}
	close(s);
	return 0;
}

static int is_tcp(int fd)
{
	int type = 0;
	socklen_t tl = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
	       type == SOCK_STREAM;
}

static int set_nodelay(int fd)
{
	int one = 1;

	if (fd >= 0 && nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) &&
	    is_tcp(fd)) {
		if (target_ns >= 0 && move_socket(fd, sa->sa_family) < 0)
			return -1;
		set_nodelay(fd);
	}
	return real_connect(fd, sa, len);
}

int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return set_nodelay(real_accept(fd, sa, len));
}

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	return set_nodelay(real_accept4(fd, sa, len, flags));
}
