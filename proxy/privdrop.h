/*
 * privdrop: give up root after the listeners are bound and the event log
 * is open (--user), keeping at most CAP_NET_ADMIN for SO_MARK.
 */
#ifndef PRIVDROP_H
#define PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

/* Become `user`: its supplementary groups (initgroups), its gid and uid
 * (real, effective and saved), then check that neither uid 0 nor gid 0
 * can be taken back. With keep_net_admin, CAP_NET_ADMIN alone survives in
 * the permitted and effective sets (for SO_MARK); every other capability
 * is gone. A process that already runs as `user` (not root) is left as it
 * is. Returns 0, or -1 with a one-line message in err: the user does not
 * exist, is root, the process may not switch, or a step failed. On -1 the
 * process may be half-way and must not go on. */
int privdrop(const char *user, bool keep_net_admin, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
