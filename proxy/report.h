/*
 * report: `kafka-conntrace report [--json] [--svg FILE] LOG...` reads
 * event logs (JSON Lines, rotated files in order) as a stream and prints
 * an audit per client session: connections by role, lifetimes, the
 * longest idle time, what idle timeouts would have closed, the findings.
 * Memory grows with the number of client sessions, not with the log.
 */
#ifndef REPORT_H
#define REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The idle timeouts the audit tries, in seconds: Java's and
 * kafka-python's 540 s, brokers' 600 s, and two shorter ones. */
#define REPORT_TIMEOUTS                                                        \
	{                                                                      \
		60, 300, 540, 600                                              \
	}
#define REPORT_N_TIMEOUTS 4

/* The colours of the timeline, shared with web/live.css (a unit test
 * checks that they agree): role-*, closed-by-*, finding. */
struct report_colour {
	const char *cls; /* CSS class */
	const char *rgb; /* "#rrggbb" */
};
extern const struct report_colour report_palette[];
extern const size_t report_palette_len;

struct report;

struct report *report_new(void);
void report_free(struct report *r); /* NULL is a no-op */

/* Read one log (path "-": standard input) to its end, in order after the
 * ones read before. progress, when not NULL, gets a progress line while
 * reading takes more than a second. Bad and truncated lines are counted
 * and remembered (the first few) as FILE:LINE. -1 when the file cannot
 * be read (message on stderr). */
int report_read_file(struct report *r, const char *path, FILE *progress);

/* Feed one line (without its newline) as line `lineno` of `file`;
 * complete is false for a last line that had no newline. */
void report_feed_line(struct report *r, const char *file, uint64_t lineno,
		      const char *line, size_t len, bool complete);

/* The audit as text, or as one JSON object (a new reference). */
void report_print(const struct report *r, FILE *out);
json_t *report_json(const struct report *r);

/* The connection timeline as an SVG document. */
void report_svg(const struct report *r, FILE *out);

/* The command: argv[0] is "report". Returns the exit status. */
int report_main(int argc, char **argv);

#endif
