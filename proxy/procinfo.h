/*
 * procinfo: which local processes own the other ends of accepted
 * connections, from /proc (each socket's inode in /proc/net/tcp{,6}, then
 * the process holding that inode). Linux only; absent when not permitted.
 * Lookups are batched: one pass over /proc answers them all.
 */
#ifndef PROCINFO_H
#define PROCINFO_H

#include <stddef.h>
#include <sys/socket.h>

struct procinfo_query {
	const struct sockaddr *peer;  /* the client's address, as accepted */
	const struct sockaddr *local; /* our end */
	int pid;                      /* out: -1 when not found */
	char comm[32];                /* out */
	unsigned long inode;          /* scratch */
};

/* Answer n queries with one read of /proc/net/tcp{,6} and one scan of
 * the processes' descriptors. Returns how many were found. */
int procinfo_lookup_batch(struct procinfo_query *q, int n);

#endif
