/*
 * evlog: JSON Lines on a file descriptor. Lines go into one buffer and
 * reach the file in whole-line write()s, so a crash can lose the buffered
 * tail but never leaves half a line behind.
 */
#include "evlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EVLOG_BUF (64 * 1024)

struct evlog {
	char *path;
	int fd;
	int owned; /* we opened fd (not standard output) */
	char *buf;
	size_t len;
	unsigned long dropped;
};

static int open_path(const char *path, int *fd, int *owned, char *err,
		     size_t errlen)
{
	if (strcmp(path, "-") == 0) {
		*fd = STDOUT_FILENO;
		*owned = 0;
		return 0;
	}
	*fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (*fd < 0) {
		snprintf(err, errlen, "event log %s: %s", path,
			 strerror(errno));
		return -1;
	}
	*owned = 1;
	return 0;
}

struct evlog *evlog_new(const char *path, char *err, size_t errlen)
{
	struct evlog *l = calloc(1, sizeof(*l));

	if (!l || !(l->path = strdup(path)) || !(l->buf = malloc(EVLOG_BUF))) {
		snprintf(err, errlen, "event log: out of memory");
		goto fail;
	}
	if (open_path(path, &l->fd, &l->owned, err, errlen) < 0)
		goto fail;
	return l;
fail:
	if (l) {
		free(l->path);
		free(l->buf);
		free(l);
	}
	return NULL;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int evlog_flush(struct evlog *l)
{
	int rc;

	if (!l || l->len == 0)
		return 0;
	rc = write_all(l->fd, l->buf, l->len);
	l->len = 0;
	return rc;
}

void evlog_free(struct evlog *l)
{
	if (!l)
		return;
	evlog_flush(l);
	if (l->owned)
		close(l->fd);
	free(l->path);
	free(l->buf);
	free(l);
}

int evlog_reopen(struct evlog *l, char *err, size_t errlen)
{
	int fd, owned;

	evlog_flush(l);
	if (open_path(l->path, &fd, &owned, err, errlen) < 0)
		return -1;
	if (l->owned)
		close(l->fd);
	l->fd = fd;
	l->owned = owned;
	return 0;
}

void evlog_ts(const struct timeval *tv, char *buf, size_t len)
{
	struct tm tm;
	time_t t = tv->tv_sec;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long)tv->tv_usec);
}

json_t *evlog_event(const struct timeval *ts, const char *event)
{
	char buf[40];
	json_t *ev = json_object();

	evlog_ts(ts, buf, sizeof(buf));
	json_object_set_new(ev, "ts", json_string(buf));
	json_object_set_new(ev, "event", json_string(event));
	return ev;
}

int evlog_emit(struct evlog *l, json_t *ev)
{
	char *line;
	size_t n;
	int rc = 0;

	line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	if (!line) {
		l->dropped++;
		return -1;
	}
	n = strlen(line);
	if (l->len + n + 1 > EVLOG_BUF && evlog_flush(l) < 0)
		rc = -1;
	if (n + 1 > EVLOG_BUF) {
		/* A line larger than the buffer goes out on its own, still
		 * whole: one write of line and newline. */
		line[n] = '\n';
		if (write_all(l->fd, line, n + 1) < 0)
			rc = -1;
	} else {
		memcpy(l->buf + l->len, line, n);
		l->buf[l->len + n] = '\n';
		l->len += n + 1;
	}
	free(line);
	if (rc < 0)
		l->dropped++;
	return rc;
}

unsigned long evlog_dropped(const struct evlog *l)
{
	return l->dropped;
}
