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

static unsigned long find_inode(const struct sockaddr *peer,
				const struct sockaddr *local)
{
	const char *path = peer->sa_family == AF_INET6 ? "/proc/net/tcp6"
						       : "/proc/net/tcp";
	char want_local[64], want_rem[64], line[512];
	unsigned long inode = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	addr_hex(peer, want_local, sizeof(want_local));
	addr_hex(local, want_rem, sizeof(want_rem));
	while (fgets(line, sizeof(line), f)) {
		char l[64], r[64];
		unsigned long ino;

		if (sscanf(line, " %*d: %63s %63s %*x %*s %*s %*s %*d %*d %lu",
			   l, r, &ino) != 3)
			continue;
		if (strcmp(l, want_local) == 0 && strcmp(r, want_rem) == 0) {
			inode = ino;
			break;
		}
	}
	fclose(f);
	return inode;
}

static int pid_has_inode(const char *pid, const char *want)
{
	char dir[300], link[600], target[64];
	struct dirent *d;
	DIR *fds;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	fds = opendir(dir);
	if (!fds)
		return 0;
	while (!found && (d = readdir(fds))) {
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = strcmp(target, want) == 0;
	}
	closedir(fds);
	return found;
}

int procinfo_lookup(const struct sockaddr *peer, int peerlen,
		    const struct sockaddr *local, int locallen, int *pid,
		    char *comm, size_t commlen)
{
	char want[48];
	unsigned long inode;
	struct dirent *d;
	DIR *proc;
	int self = (int)getpid();

	(void)peerlen;
	(void)locallen;
	*pid = -1;
	if (peer->sa_family != local->sa_family ||
	    (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
		return -1;
	inode = find_inode(peer, local);
	if (!inode)
		return -1; /* not a socket of this host's namespace */
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((d = readdir(proc))) {
		char path[300];
		FILE *f;

		if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
		    atoi(d->d_name) == self || !pid_has_inode(d->d_name, want))
			continue;
		*pid = atoi(d->d_name);
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		comm[0] = '\0';
		f = fopen(path, "re");
		if (f) {
			if (fgets(comm, (int)commlen, f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		break;
	}
	closedir(proc);
	return *pid >= 0 ? 0 : -1;
}
