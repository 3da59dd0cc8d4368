/*
 * evlog: the event log. One JSON object per line (JSON Lines), each line
 * written whole, so readers never see a torn record; buffered and flushed
 * by the caller's rhythm, on exit and before a reopen (SIGHUP rotation).
 */
#ifndef EVLOG_H
#define EVLOG_H

#include <jansson.h>
#include <stddef.h>
#include <sys/time.h>

struct evlog;

/* Open path for appending ("-" = standard output). NULL with a reason in
 * err when it cannot be opened. */
struct evlog *evlog_new(const char *path, char *err, size_t errlen);
void evlog_free(struct evlog *l); /* flushes; NULL is a no-op */

/* Start an event: a new object with "ts" (RFC 3339, UTC, microseconds)
 * and "event". The caller adds fields and hands it to evlog_emit(). */
json_t *evlog_event(const struct timeval *ts, const char *event);

/* Write one event and drop the caller's reference to it. Lines are
 * buffered; a full buffer is written at once. Returns 0, or -1 when the
 * line could not be written (counted in evlog_dropped()). */
int evlog_emit(struct evlog *l, json_t *ev);

/* Write out what is buffered. */
int evlog_flush(struct evlog *l);

/* Flush, close and open the same path again (after rotation). On failure
 * the old file stays in use and err says why. */
int evlog_reopen(struct evlog *l, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Events that could not be serialised or written. */
unsigned long evlog_dropped(const struct evlog *l);

/* Format tv as RFC 3339 UTC with microseconds into buf (>= 28 bytes). */
void evlog_ts(const struct timeval *tv, char *buf, size_t len);

#endif
