/*
 * procinfo: which local process owns the other end of an accepted
 * connection, from /proc (the socket's inode in /proc/net/tcp{,6}, then
 * the process holding that inode). Linux only; absent when not permitted.
 */
#ifndef PROCINFO_H
#define PROCINFO_H

#include <stddef.h>
#include <sys/socket.h>

/* peer: the client's address as accepted; local: our end. Fills *pid and
 * comm when the client is a process on this host that we may inspect;
 * leaves *pid at -1 otherwise. Returns 0 when found. */
int procinfo_lookup(const struct sockaddr *peer, int peerlen,
		    const struct sockaddr *local, int locallen, int *pid,
		    char *comm, size_t commlen);

#endif
