/*
 * procinfo: find the process behind a local TCP client. The client's
 * socket is the /proc/net/tcp{,6} entry whose local end is the client's
 * address and whose remote end is ours; its inode then appears as
 * socket:[inode] among some process's file descriptors.
 */
#include "procinfo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The kernel prints each 32-bit word of an address as the host-order
 * integer of its network-order bytes. */
static void addr_hex(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		uint32_t w;

		memcpy(&w, &in->sin_addr, 4);
		snprintf(buf, len, "%08X:%04X", w, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		uint32_t w[4];

		memcpy(w, &in6->sin6_addr, 16);
		snprintf(buf, len, "%08X%08X%08X%08X:%04X", w[0], w[1], w[2],
			 w[3], ntohs(in6->sin6_port));
	}
}

/* Fill each query's inode from one pass over the socket table. */
static void find_inodes(struct procinfo_query *q, int n, int family)
{
	const char *path =
		family == AF_INET6 ? "/proc/net/tcp6" : "/proc/net/tcp";
	char want_local[64][64], want_rem[64][64], line[512];
	FILE *f;

	for (int i = 0; i < n && i < 64; i++) {
		want_local[i][0] = want_rem[i][0] = '\0';
		if (q[i].peer->sa_family != family ||
		    q[i].local->sa_family != family)
			continue;
		addr_hex(q[i].peer, want_local[i], sizeof(want_local[i]));
		addr_hex(q[i].local, want_rem[i], sizeof(want_rem[i]));
	}
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char l[64], r[64];
		unsigned long ino;

		if (sscanf(line, " %*d: %63s %63s %*x %*s %*s %*s %*d %*d %lu",
			   l, r, &ino) != 3)
			continue;
		for (int i = 0; i < n && i < 64; i++)
			if (want_local[i][0] && !strcmp(l, want_local[i]) &&
			    !strcmp(r, want_rem[i]))
				q[i].inode = ino;
	}
	fclose(f);
}

static void read_comm(const char *pid, char *comm, size_t len)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	comm[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

int procinfo_lookup_batch(struct procinfo_query *q, int n)
{
	struct dirent *d;
	DIR *proc;
	int self = (int)getpid(), left = 0, found = 0;

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		q[i].pid = -1;
		q[i].inode = 0;
		q[i].comm[0] = '\0';
	}
	find_inodes(q, n, AF_INET);
	find_inodes(q, n, AF_INET6);
	for (int i = 0; i < n; i++)
		left += q[i].inode != 0;
	if (!left)
		return 0;
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (left && (d = readdir(proc))) {
		char dir[300], link[600], target[64];
		struct dirent *fd;
		DIR *fds;

		if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
		    atoi(d->d_name) == self)
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s/fd", d->d_name);
		fds = opendir(dir);
		if (!fds)
			continue;
		while (left && (fd = readdir(fds))) {
			unsigned long ino;
			ssize_t k;

			if (fd->d_name[0] == '.')
				continue;
			snprintf(link, sizeof(link), "%s/%s", dir, fd->d_name);
			k = readlink(link, target, sizeof(target) - 1);
			if (k <= 0)
				continue;
			target[k] = '\0';
			if (sscanf(target, "socket:[%lu]", &ino) != 1)
				continue;
			for (int i = 0; i < n; i++)
				if (q[i].inode == ino && q[i].pid < 0) {
					q[i].pid = atoi(d->d_name);
					read_comm(d->d_name, q[i].comm,
						  sizeof(q[i].comm));
					left--;
					found++;
				}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}
