/*
 * evlog: lines are whole JSON objects with an RFC 3339 microsecond
 * timestamp, buffered lines reach the file on flush, a line larger than
 * the buffer is still written whole, and reopen follows a rotation.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evlog.h"

static char dir[] = "/tmp/kc-evlog-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* Every line of path, parsed; returns how many. */
static int read_lines(const char *path, json_t **out, int cap)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t len = 0;
	int n = 0;

	cr_assert_not_null(f);
	while (getline(&line, &len, f) > 0) {
		json_error_t e;

		cr_assert_lt(n, cap);
		cr_assert(line[strlen(line) - 1] == '\n',
			  "line %d unterminated", n + 1);
		out[n] = json_loads(line, 0, &e);
		cr_assert_not_null(out[n], "line %d: %s", n + 1, e.text);
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

Test(evlog, timestamps)
{
	struct timeval tv = {.tv_sec = 1795246626, .tv_usec = 7};
	char buf[40];
	regex_t re;

	evlog_ts(&tv, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2026-11-21T07:37:06.000007Z");
	cr_assert_eq(regcomp(&re,
			     "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
			     "[0-9]{2}\\.[0-9]{6}Z$",
			     REG_EXTENDED),
		     0);
	cr_assert_eq(regexec(&re, buf, 0, NULL, 0), 0);
	regfree(&re);
}

Test(evlog, lines_whole_and_flushed, .init = setup, .fini = teardown)
{
	char path[128], err[256];
	struct timeval tv = {1, 0};
	struct evlog *l;
	json_t *lines[8];
	json_t *ev;
	char *big = malloc(200000);

	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	l = evlog_new(path, err, sizeof(err));
	cr_assert_not_null(l, "%s", err);
	ev = evlog_event(&tv, "conn.open");
	json_object_set_new(ev, "client_id", json_string("a\"b\n\x01c"));
	cr_assert_eq(evlog_emit(l, ev), 0);
	/* Buffered until a flush. */
	cr_assert_eq(read_lines(path, lines, 8), 0);
	cr_assert_eq(evlog_flush(l), 0);
	cr_assert_eq(read_lines(path, lines, 8), 1);
	cr_assert_str_eq(json_string_value(json_object_get(lines[0], "event")),
			 "conn.open");
	cr_assert_str_eq(
		json_string_value(json_object_get(lines[0], "client_id")),
		"a\"b\n\x01c");
	json_decref(lines[0]);
	/* Larger than the buffer: still one whole line, after the others. */
	memset(big, 'x', 199999);
	big[199999] = '\0';
	ev = evlog_event(&tv, "request");
	cr_assert_eq(evlog_emit(l, evlog_event(&tv, "conn.close")), 0);
	json_object_set_new(ev, "big", json_string(big));
	cr_assert_eq(evlog_emit(l, ev), 0);
	evlog_free(l);
	cr_assert_eq(read_lines(path, lines, 8), 3);
	cr_assert_str_eq(json_string_value(json_object_get(lines[1], "event")),
			 "conn.close");
	cr_assert_eq(
		strlen(json_string_value(json_object_get(lines[2], "big"))),
		199999);
	for (int i = 0; i < 3; i++)
		json_decref(lines[i]);
	free(big);
}

Test(evlog, reopen_after_rotation, .init = setup, .fini = teardown)
{
	char path[128], old[160], err[256];
	struct timeval tv = {1, 0};
	struct evlog *l;
	json_t *lines[4];

	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	snprintf(old, sizeof(old), "%s/ev.jsonl.1", dir);
	l = evlog_new(path, err, sizeof(err));
	cr_assert_not_null(l);
	cr_assert_eq(evlog_emit(l, evlog_event(&tv, "proxy.start")), 0);
	cr_assert_eq(rename(path, old), 0);
	/* What was buffered before the reopen goes to the old file. */
	cr_assert_eq(evlog_reopen(l, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(evlog_emit(l, evlog_event(&tv, "log.reopened")), 0);
	evlog_free(l);
	cr_assert_eq(read_lines(old, lines, 4), 1);
	json_decref(lines[0]);
	cr_assert_eq(read_lines(path, lines, 4), 1);
	cr_assert_str_eq(json_string_value(json_object_get(lines[0], "event")),
			 "log.reopened");
	json_decref(lines[0]);
}

Test(evlog, unwritable_path)
{
	char err[256] = "";

	cr_assert_null(evlog_new("/nonexistent-dir/x.jsonl", err, sizeof(err)));
	cr_assert(strstr(err, "/nonexistent-dir/x.jsonl") != NULL, "%s", err);
	evlog_free(NULL);
}
