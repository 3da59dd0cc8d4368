/*
 * privdrop: --user. initgroups, setresgid, setresuid, then a check that
 * root cannot be regained. CAP_NET_ADMIN is kept across setuid with
 * PR_SET_KEEPCAPS and narrowed with capset(2), by raw system calls, so
 * that no libcap is needed.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Permitted and effective: CAP_NET_ADMIN only (or nothing). */
static int caps_set(bool net_admin)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (net_admin) {
		data[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted =
			CAP_TO_MASK(CAP_NET_ADMIN);
		data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective =
			CAP_TO_MASK(CAP_NET_ADMIN);
	}
	return (int)syscall(SYS_capset, &hdr, data);
}

int privdrop(const char *user, bool keep_net_admin, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "--user %s: %s", user,
			 errno ? strerror(errno) : "no such user");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0) {
		snprintf(err, errlen,
			 "--user %s: is root; name an unprivileged user", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() == uid && getuid() == uid)
			return 0;
		snprintf(err, errlen,
			 "--user %s: cannot switch users when not started "
			 "as root",
			 user);
		return -1;
	}
	if (keep_net_admin && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0) {
		snprintf(err, errlen, "--user %s: PR_SET_KEEPCAPS: %s", user,
			 strerror(errno));
		return -1;
	}
	if (initgroups(pw->pw_name, gid) < 0) {
		snprintf(err, errlen, "--user %s: initgroups: %s", user,
			 strerror(errno));
		return -1;
	}
	if (setresgid(gid, gid, gid) < 0) {
		snprintf(err, errlen, "--user %s: setresgid(%u): %s", user,
			 (unsigned)gid, strerror(errno));
		return -1;
	}
	if (setresuid(uid, uid, uid) < 0) {
		snprintf(err, errlen, "--user %s: setresuid(%u): %s", user,
			 (unsigned)uid, strerror(errno));
		return -1;
	}
	if (caps_set(keep_net_admin) < 0) {
		snprintf(err, errlen, "--user %s: capset: %s", user,
			 strerror(errno));
		return -1;
	}
	if (keep_net_admin)
		prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	/* No exec'd program gains anything either (the proxy execs none). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) {
		snprintf(err, errlen, "--user %s: PR_SET_NO_NEW_PRIVS: %s",
			 user, strerror(errno));
		return -1;
	}
	/* Both must fail now; if either works, nothing was dropped. */
	if (setuid(0) == 0 || seteuid(0) == 0 ||
	    (gid != 0 && (setgid(0) == 0 || setegid(0) == 0))) {
		snprintf(err, errlen, "--user %s: root could be regained",
			 user);
		return -1;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid) {
		snprintf(err, errlen, "--user %s: the ids did not change",
			 user);
		return -1;
	}
	return 0;
}
