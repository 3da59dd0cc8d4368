/*
 * test_report: `kafka-conntrace report` on fixture logs made here: the
 * aggregation per client session (roles, lifetimes, longest idle, the
 * idle-timeout table, findings), bad, truncated and over-long lines with
 * their FILE:LINE, rotated files, lines across the read buffer, the SVG
 * timeline, the palette shared with web/live.css, and memory that stays
 * bounded on a 50 MB log.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

/* With AddressSanitizer, keep freed memory for a short while only, so
 * that the memory test measures the report, not the quarantine. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=8";
}

static char dir[64];

static void dir_make(void)
{
	strcpy(dir, "/tmp/kc_report.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void dir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static char *write_file(const char *name, const char *text)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ % 4];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "wb");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

#define CLOSE(conn, cid, role, life, idle, gaps, by, extra)                    \
	"{\"ts\":\"2026-01-01T00:10:00.000000Z\",\"event\":\"conn.close\","    \
	"\"conn\":" #conn ",\"client_addr\":\"10.0.0.5\",\"client_id\":" cid   \
	",\"client_software_name\":\"librdkafka\","                            \
	"\"client_software_version\":\"2.0.2\",\"role\":\"" role "\","         \
	"\"opened\":\"2026-01-01T00:00:00.000000Z\","                          \
	"\"closed\":\"2026-01-01T00:10:00.000000Z\",\"duration_s\":" #life     \
	",\"max_idle_s\":" #idle ",\"idle_gaps_s\":" gaps                      \
	",\"inflight_at_close\":0,\"closed_by\":\"" by "\",\"how\":\"fin\","   \
	"\"reason\":\"x\",\"requests\":{\"Metadata\":2,\"Fetch\":3},"          \
	"\"bytes_from_client\":10,\"bytes_from_broker\":20" extra "}\n"

#define OPEN(conn)                                                             \
	"{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":\"conn.open\","     \
	"\"conn\":" #conn ",\"client_addr\":\"10.0.0.5\"}\n"

#define START                                                                  \
	"{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":\"proxy.start\"}\n"

/* Session A ("app"): 4 connections with gaps that the 60/300/540/600 s
 * timeouts catch differently; session B (no client id): 1. Line 6 is not
 * JSON, line 9 not an event, line 12 truncated at the end. */
static const char fixture[] = START /* 1 */
	OPEN(1) OPEN(2) OPEN(3)     /* 2-4 */
	CLOSE(1, "\"app\"", "bootstrap", 600, 599.5, "[599.5]", "client",
	      "")                                                 /* 5 */
	"{\"ts\":\"2026-01-01T00:10:00Z\",\"event\":\"conn.clo\n" /* 6 */
	CLOSE(2, "\"app\"", "data", 300, 301, "[1.5,301,70]", "broker",
	      "")   /* 7 */
	"\n"        /* 8: blank */
	"[1,2,3]\n" /* 9 */
	"{\"ts\":\"2026-01-01T00:05:00.000000Z\",\"event\":\"finding\","
	"\"rule\":\"idle.connection\",\"client_addr\":\"10.0.0.5\","
	"\"client_id\":\"app\",\"client_software_name\":\"librdkafka\","
	"\"conns\":[2]}\n"                                             /* 10 */
	CLOSE(3, "null", "other", 10, 2, "[]", "proxy", "")            /* 11 */
	"{\"ts\":\"2026-01-01T00:11:00.000000Z\",\"event\":\"conn.cl"; /* 12 */

static const char fixture2[] = OPEN(4) /* 1 */
	CLOSE(4, "\"app\"", "data", 1000, 700, "[700,50,550]", "client",
	      "")       /* 2 */
	OPEN(5)         /* 3: open at end */
	START           /* 4 */
		OPEN(1) /* 5 */
	"{\"ts\":\"2026-01-01T00:12:00.000000Z\",\"event\":\"finding\","
	"\"rule\":\"exit.abrupt\",\"client_addr\":\"10.0.0.5\","
	"\"client_id\":\"app\",\"client_software_name\":\"librdkafka\","
	"\"conns\":[1]}\n"; /* 6 */

static json_t *session_of(json_t *root, const char *cid)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(root, "sessions"), i, s)
	{
		const char *c =
			json_string_value(json_object_get(s, "client_id"));

		if ((!cid && !c) || (cid && c && !strcmp(c, cid)))
			return s;
	}
	return NULL;
}

static json_int_t geti(json_t *o, const char *path)
{
	char buf[128], *save = NULL, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	cr_assert(json_is_integer(o), "%s is not an integer", path);
	return json_integer_value(o);
}

static json_int_t would(json_t *s, int timeout, const char *role)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(s, "idle_timeouts"), i, e)
	{
		if (json_integer_value(json_object_get(e, "timeout_s")) !=
		    timeout)
			continue;
		if (!role)
			return json_integer_value(
				json_object_get(e, "would_close"));
		return json_integer_value(
			json_object_get(json_object_get(e, "by_role"), role));
	}
	cr_assert_fail("no timeout %d", timeout);
	return -1;
}

static void check_fixture(json_t *root, const char *f1)
{
	json_t *a = session_of(root, "app"), *b = session_of(root, NULL);
	json_t *bad = json_object_get(root, "bad");
	char want[300];

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_eq(json_array_size(json_object_get(root, "sessions")), 2);
	cr_assert_eq(geti(root, "connections_closed"), 4);
	cr_assert_eq(geti(root, "connections_open_at_end"), 1,
		     "conn 1 of the second run");
	cr_assert_eq(geti(root, "connections_never_closed"), 1,
		     "conn 5 of the first run, open when it restarted");
	cr_assert_eq(geti(root, "runs"), 2);
	cr_assert_eq(geti(a, "connections.total"), 3);
	cr_assert_eq(geti(a, "connections.by_role.bootstrap"), 1);
	cr_assert_eq(geti(a, "connections.by_role.data"), 2);
	cr_assert_eq(geti(a, "connections.closed_by.broker"), 1);
	cr_assert_eq(geti(a, "requests"), 15);
	cr_assert_eq(geti(a, "bytes_from_broker"), 60);
	cr_assert_eq(json_real_value(json_object_get(
			     json_object_get(a, "lifetime_s"), "max")),
		     1000);
	cr_assert_eq(json_real_value(json_object_get(
			     json_object_get(a, "lifetime_s"), "min")),
		     300);
	cr_assert_eq(json_number_value(json_object_get(
			     json_object_get(a, "longest_idle"), "seconds")),
		     700);
	cr_assert_eq(geti(a, "longest_idle.conn"), 4);
	/* gaps: conn 1 [599.5], conn 2 [1.5, 301, 70], conn 4 [700, 50,
	 * 550]: 60 s closes all three, 300 s all three, 540 s conns 1
	 * and 4, 600 s conn 4 only. */
	cr_assert_eq(would(a, 60, NULL), 3);
	cr_assert_eq(would(a, 300, NULL), 3);
	cr_assert_eq(would(a, 540, NULL), 2);
	cr_assert_eq(would(a, 600, NULL), 1);
	cr_assert_eq(would(a, 540, "bootstrap"), 1);
	cr_assert_eq(would(a, 600, "data"), 1);
	cr_assert_eq(would(b, 60, NULL), 0);
	cr_assert_eq(
		json_integer_value(json_object_get(
			json_object_get(a, "findings"), "idle.connection")),
		1);
	cr_assert_eq(json_integer_value(json_object_get(
			     json_object_get(a, "findings"), "exit.abrupt")),
		     1);
	cr_assert_eq(geti(b, "connections.by_role.other"), 1);
	/* Bad lines: 6 (not JSON), 9 (not an event), 12 (truncated). */
	cr_assert_eq(geti(root, "bad_lines"), 3);
	cr_assert_eq(json_array_size(bad), 3);
	cr_assert_eq(geti(json_array_get(bad, 0), "line"), 6);
	cr_assert_eq(geti(json_array_get(bad, 1), "line"), 9);
	cr_assert_eq(geti(json_array_get(bad, 2), "line"), 12);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(bad, 2), "file")),
			 f1);
	snprintf(want, sizeof(want), "%s",
		 json_string_value(
			 json_object_get(json_array_get(bad, 2), "error")));
	cr_assert(strstr(want, "truncated"), "%s", want);
}

Test(report, aggregates_per_session)
{
	struct report *r = report_new();
	char *f1, *f2;
	json_t *root;

	dir_make();
	f1 = write_file("events.jsonl.1", fixture);
	f2 = write_file("events.jsonl", fixture2);
	cr_assert_eq(report_read_file(r, f1, NULL), 0);
	cr_assert_eq(report_read_file(r, f2, NULL), 0);
	root = report_json(r);
	check_fixture(root, f1);
	json_decref(root);
	report_free(r);
	dir_remove();
}

/* The same lines fed one by one give the same audit. */
Test(report, lines_fed_directly)
{
	struct report *r = report_new();
	json_t *root;
	const char *texts[2] = {fixture, fixture2};

	for (int t = 0; t < 2; t++) {
		const char *p = texts[t];
		uint64_t n = 0;

		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);

			report_feed_line(r, t ? "b" : "a", ++n, p, len,
					 nl != NULL);
			p += len + (nl != NULL);
		}
	}
	root = report_json(r);
	check_fixture(root, "a");
	json_decref(root);
	report_free(r);
}

Test(report, text_output)
{
	struct report *r = report_new();
	char *f1, *f2, buf[8192];
	FILE *out;
	size_t n;

	dir_make();
	f1 = write_file("a.jsonl", fixture);
	f2 = write_file("b.jsonl", fixture2);
	report_read_file(r, f1, NULL);
	report_read_file(r, f2, NULL);
	out = fmemopen(buf, sizeof(buf) - 1, "w");
	report_print(r, out);
	n = ftell(out);
	fclose(out);
	buf[n] = '\0';
	cr_assert(strstr(buf, "client 10.0.0.5  client id \"app\"  software "
			      "librdkafka 2.0.2\n"),
		  "%s", buf);
	cr_assert(strstr(buf, "  connections   3: bootstrap 1, data 2\n"), "%s",
		  buf);
	cr_assert(strstr(buf,
			 "    would close       3       3       2       1\n"),
		  "%s", buf);
	cr_assert(strstr(buf, "a.jsonl:6: not JSON"), "%s", buf);
	cr_assert(strstr(buf, "a.jsonl:12: truncated"), "%s", buf);
	cr_assert(strstr(buf, "findings      idle.connection 1, exit.abrupt 1"),
		  "%s", buf);
	report_free(r);
	dir_remove();
}

/* Lines across the 1 MiB read buffer, and a line too long to keep. */
Test(report, long_files_and_lines)
{
	struct report *r = report_new();
	char path[256];
	FILE *f;
	json_t *root, *bad;
	int n = 0;

	dir_make();
	snprintf(path, sizeof(path), "%s/big.jsonl", dir);
	f = fopen(path, "wb");
	fputs(START, f);
	while (ftell(f) < 3 * 1024 * 1024 + 123) {
		fprintf(f,
			CLOSE(1, "\"app\"", "data", 5, 1, "[]", "client",
			      ",\"pad\":\"%*s\""),
			n % 97, "");
		n++;
	}
	fputs("{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":\"x\",\"p\":"
	      "\"",
	      f);
	for (int i = 0; i < 1100 * 1024; i++)
		fputc('y', f);
	fputs("\"}\n", f);
	fputs(CLOSE(1, "\"app\"", "data", 5, 1, "[]", "client", ""), f);
	fclose(f);
	cr_assert_eq(report_read_file(r, path, NULL), 0);
	root = report_json(r);
	cr_assert_eq(geti(root, "connections_closed"), n + 1);
	cr_assert_eq(geti(root, "bad_lines"), 1);
	bad = json_array_get(json_object_get(root, "bad"), 0);
	cr_assert_eq(geti(bad, "line"), n + 2);
	cr_assert(strstr(json_string_value(json_object_get(bad, "error")),
			 "longer than 1 MiB"));
	cr_assert_eq(geti(root, "lines"), n + 3);
	json_decref(root);
	report_free(r);
	dir_remove();
}

Test(report, svg_timeline)
{
	struct report *r = report_new();
	static const char log[] = START OPEN(
		1) "{\"ts\":\"2026-01-01T00:10:00.000000Z\",\"event\":\"conn."
		   "close\","
		   "\"conn\":1,\"client_addr\":\"10.0.0.5\",\"client_id\":\"<&"
		   "\\\"x>\","
		   "\"client_software_name\":\"librdkafka\",\"role\":\"data\","
		   "\"opened\":\"2026-01-01T00:00:00.000000Z\","
		   "\"closed\":\"2026-01-01T00:10:00.000000Z\",\"duration_s\":"
		   "600,"
		   "\"max_idle_s\":1,\"idle_gaps_s\":[],\"inflight_at_close\":"
		   "0,"
		   "\"closed_by\":\"broker\",\"how\":\"rst\",\"reason\":\"b\","
		   "\"requests\":{}}\n" CLOSE(2, "\"app\"", "bootstrap", 600, 1,
					      "[]", "client", "");
	char *f1, buf[16384];
	FILE *out;
	size_t n;

	dir_make();
	f1 = write_file("a.jsonl", log);
	report_read_file(r, f1, NULL);
	out = fmemopen(buf, sizeof(buf) - 1, "w");
	report_svg(r, out);
	n = ftell(out);
	fclose(out);
	buf[n] = '\0';
	cr_assert(!strncmp(buf, "<?xml", 5));
	cr_assert(strstr(buf, "</svg>\n"));
	cr_assert(strstr(buf,
			 "<g class=\"conn\" data-conn=\"1\" data-run=\"1\" "
			 "data-role=\"data\" data-closed-by=\"broker\">"),
		  "%s", buf);
	cr_assert(strstr(buf, "data-conn=\"2\" data-run=\"1\" "
			      "data-role=\"bootstrap\""),
		  "%s", buf);
	cr_assert(strstr(buf, "&lt;&amp;&quot;x&gt;"), "%s", buf);
	cr_assert_null(strstr(buf, "<&"));
	/* It never sent a request: idle from its start. */
	cr_assert(strstr(buf, "class=\"idle\""), "%s", buf);
	report_free(r);
	dir_remove();
}

/* The timeline's colours are the live page's. */
Test(report, palette_matches_live_css)
{
	const char *top = getenv("top_srcdir");
	char path[1024], css[8192];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/web/live.css", top ? top : ".");
	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s (set top_srcdir)", path);
	n = fread(css, 1, sizeof(css) - 1, f);
	css[n] = '\0';
	fclose(f);
	for (size_t i = 0; i < report_palette_len; i++) {
		char want[128];

		snprintf(want, sizeof(want), "\n.%s { fill: %s; }",
			 report_palette[i].cls, report_palette[i].rgb);
		cr_assert_not_null(strstr(css, want), "%s lacks \"%s\"", path,
				   want + 1);
	}
}

/* Write a log of about `mb` megabytes: `sessions` client sessions, and
 * per connection a conn.open, request events and a conn.close. */
static void write_big(const char *path, int mb, int sessions)
{
	FILE *f = fopen(path, "wb");
	uint64_t conn = 0;

	cr_assert_not_null(f);
	fputs(START, f);
	while (ftell(f) < (long)mb * 1000 * 1000) {
		conn++;
		fprintf(f,
			"{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event\":"
			"\"conn.open\",\"conn\":%llu,\"client_addr\":\"10.1.%d."
			"%d\",\"client_port\":40000}\n",
			(unsigned long long)conn, (int)(conn % sessions) / 250,
			(int)(conn % sessions) % 250);
		for (int k = 0; k < 6; k++)
			fprintf(f,
				"{\"ts\":\"2026-01-01T00:00:01.000000Z\","
				"\"event\":"
				"\"request\",\"conn\":%llu,\"api\":\"Fetch\","
				"\"api_key\":1,\"api_version\":11,"
				"\"correlation_id\":%d,\"client_id\":\"c%llu\","
				"\"request_bytes\":120,\"response_bytes\":4000,"
				"\"latency_ms\":500.1,\"topics\":[{\"topic\":"
				"\"orders\",\"partitions\":[0,1,2]}],"
				"\"errors\":{}}\n",
				(unsigned long long)conn, k,
				(unsigned long long)(conn % sessions));
		fprintf(f,
			"{\"ts\":\"2026-01-01T00:10:00.000000Z\",\"event\":"
			"\"conn.close\",\"conn\":%llu,\"client_addr\":\"10.1.%"
			"d.%d\","
			"\"client_port\":40000,\"listener\":{\"kind\":"
			"\"broker\","
			"\"broker_id\":1,\"addr\":\"127.0.0.1\",\"port\":19093}"
			","
			"\"broker_id\":1,\"client_id\":\"c%llu\","
			"\"client_software_name\":\"librdkafka\","
			"\"client_software_version\":\"2.0.2\",\"role\":"
			"\"data\","
			"\"opened\":\"2026-01-01T00:00:00.000000Z\","
			"\"closed\":\"2026-01-01T00:10:00.000000Z\","
			"\"duration_s\":600,\"max_idle_s\":%d,"
			"\"idle_gaps_s\":[1.5,%d],\"inflight_at_close\":0,"
			"\"closed_by\":\"client\",\"how\":\"fin\","
			"\"reason\":\"client_closed\",\"requests\":{\"Fetch\":"
			"6},"
			"\"bytes_from_client\":720,\"bytes_from_broker\":24000}"
			"\n",
			(unsigned long long)conn, (int)(conn % sessions) / 250,
			(int)(conn % sessions) % 250,
			(unsigned long long)(conn % sessions),
			(int)(conn % 700), (int)(conn % 700));
	}
	fclose(f);
}

/* Peak RSS in kB of `kafka-conntrace report` on path, run in a child. */
static long report_rss(const char *path)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *argv[] = {"report", "--json", (char *)path, NULL};
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		_exit(report_main(3, argv));
	}
	cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "report exited with status %d", status);
	return ru.ru_maxrss;
}

/* Memory grows with the sessions, not with the log: 50 MB of log costs
 * no more than 5 MB of the same sessions does, give or take. */
Test(report, bounded_memory, .timeout = 120)
{
	char small[256], big[256];
	long rss_small, rss_big;

	dir_make();
	snprintf(small, sizeof(small), "%s/small.jsonl", dir);
	snprintf(big, sizeof(big), "%s/big.jsonl", dir);
	write_big(small, 5, 2000);
	write_big(big, 50, 2000);
	rss_small = report_rss(small);
	rss_big = report_rss(big);
	cr_log_info("report peak RSS: %ld kB on 5 MB, %ld kB on 50 MB",
		    rss_small, rss_big);
	cr_assert_lt(rss_big - rss_small, 8 * 1024,
		     "peak RSS grew by %ld kB from a 5 MB to a 50 MB log",
		     rss_big - rss_small);
	dir_remove();
}
