/*
 * config: defaults, flags, the JSON file and their precedence; every key's
 * type and value errors at their exact FILE:LINE:COLUMN; the key scanner
 * against escapes, nesting and UTF-8; reload into a fresh struct; and
 * doc/config.md against the table, both ways.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "proxy.h"
#include "rules.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* The table, as the tests see it. */
struct row {
	const char *field;
	const char *flag;
	const char *key;
	enum kc_opt_type type;
	const char *def;
	long long min, max;
};

#define ROW_SETTING(field, flag, key, type, def, min, max, meta, help)         \
	{#field, flag, key, type, def, min, max},
#define ROW_ACTION(flag, type, meta, help) {"", flag, NULL, type, "", 0, 0},
static const struct row rows[] = {KC_CONFIG_SETTINGS(ROW_SETTING)
					  KC_CONFIG_ACTIONS(ROW_ACTION)};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* A scratch directory per test (each test runs in its own process). */
static char dir[64];

static void dir_make(void)
{
	strcpy(dir, "/tmp/kc_config.XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
}

static void dir_remove(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

TestSuite(config, .init = dir_make, .fini = dir_remove);

/* Write text to dir/name; return the path (static, one at a time). */
static const char *file_put(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
	return path;
}

/* kc_config_from_args on a NULL-terminated list of arguments. */
static int run(struct kc_config *c, char *err, size_t errlen, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	const char *a;

	argv[argc++] = "kafka-conntrace";
	va_start(ap, errlen);
	while ((a = va_arg(ap, const char *)))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return kc_config_from_args(c, argc, argv, err, errlen);
}

/* Load text as a config file over the defaults; return the error text or
 * "" (static). */
static const char *load_err(const char *text)
{
	static char err[1024];
	struct kc_config c;
	const char *path = file_put("c.json", text);

	kc_config_defaults(&c);
	err[0] = '\0';
	if (kc_config_load_file(&c, path, err, sizeof(err)) == 0)
		cr_assert_str_empty(err);
	else
		cr_assert_str_not_empty(err);
	kc_config_release(&c);
	return err;
}

/* The message expected for c.json at line:col. */
__attribute__((format(printf, 3, 4))) static const char *
at(int line, int col, const char *fmt, ...)
{
	static char want[1024];
	va_list ap;
	int n = snprintf(want, sizeof(want), "%s/c.json:%d:%d: ", dir, line,
			 col);

	va_start(ap, fmt);
	vsnprintf(want + n, sizeof(want) - (size_t)n, fmt, ap);
	va_end(ap);
	return want;
}

Test(config, defaults)
{
	struct kc_config c;

	kc_config_defaults(&c);
	cr_assert_eq(c.listen.port, 0);
	cr_assert_eq(c.n_upstreams, 0);
	cr_assert_str_eq(c.event_log, "-");
	cr_assert_str_empty(c.advertised_host);
	cr_assert_str_empty(c.broker_bind);
	cr_assert_eq(c.broker_ports.lo, 0);
	cr_assert_eq(c.broker_ports.hi, 0);
	cr_assert_not(c.log_requests);
	cr_assert_eq(c.log_level, KC_LOG_INFO);
	cr_assert_eq(c.max_frame, 104857600);
	cr_assert_eq(c.max_rewrite_frame, 16777216);
	cr_assert_eq(c.buffer_high, 1048576);
	cr_assert_eq(c.buffer_low, 262144);
	cr_assert_eq(c.max_connections, 0);
	cr_assert_eq(c.connect_timeout_ms, 10000);
	cr_assert_eq(c.drain_timeout_ms, 5000);
	cr_assert_eq(c.janitor_interval_ms, 1000);
	cr_assert(c.proc_lookup);
	cr_assert_null(c.rules);
	cr_assert_null(c.admin);
	cr_assert_str_empty(c.config_path);
	kc_config_release(&c);
}

Test(config, flags_only)
{
	struct kc_config c;
	char err[512];

	cr_assert_eq(run(&c, err, sizeof(err), "--listen", "127.0.0.1:19092",
			 "--upstream", "k1:9092, k2:9093", "--event-log",
			 "/tmp/ev.json", "--advertised-host", "proxy.local",
			 "--broker-bind", "0.0.0.0", "--broker-ports",
			 "31000-31009", "--log-requests", "--log-level",
			 "debug", "--max-frame", "64M", "--max-rewrite-frame",
			 "8M", "--buffer-high", "2M", "--buffer-low", "512K",
			 "--max-connections", "100", "--connect-timeout",
			 "2500", "--drain-timeout", "0", "--janitor-interval",
			 "250", "--no-proc", NULL),
		     0, "%s", err);
	cr_assert_str_eq(c.listen.host, "127.0.0.1");
	cr_assert_eq(c.listen.port, 19092);
	cr_assert_eq(c.n_upstreams, 2);
	cr_assert_str_eq(c.upstreams[0].host, "k1");
	cr_assert_eq(c.upstreams[0].port, 9092);
	cr_assert_str_eq(c.upstreams[1].host, "k2");
	cr_assert_eq(c.upstreams[1].port, 9093);
	cr_assert_str_eq(c.event_log, "/tmp/ev.json");
	cr_assert_str_eq(c.advertised_host, "proxy.local");
	cr_assert_str_eq(c.broker_bind, "0.0.0.0");
	cr_assert_eq(c.broker_ports.lo, 31000);
	cr_assert_eq(c.broker_ports.hi, 31009);
	cr_assert(c.log_requests);
	cr_assert_eq(c.log_level, KC_LOG_DEBUG);
	cr_assert_eq(c.max_frame, 64u << 20);
	cr_assert_eq(c.max_rewrite_frame, 8u << 20);
	cr_assert_eq(c.buffer_high, 2u << 20);
	cr_assert_eq(c.buffer_low, 512u << 10);
	cr_assert_eq(c.max_connections, 100);
	cr_assert_eq(c.connect_timeout_ms, 2500);
	cr_assert_eq(c.drain_timeout_ms, 0);
	cr_assert_eq(c.janitor_interval_ms, 250);
	cr_assert_not(c.proc_lookup);
	kc_config_release(&c);
}

Test(config, flags_forms_and_effective_hosts)
{
	struct kc_config c;
	char err[512];

	/* --flag=value, "-" as a value, repeated --upstream adds. */
	cr_assert_eq(run(&c, err, sizeof(err), "--listen=[::1]:9092",
			 "--upstream=a:1", "--upstream", "b:2,c:3",
			 "--event-log", "-", "--log-level=warn", NULL),
		     0, "%s", err);
	cr_assert_str_eq(c.listen.host, "::1");
	cr_assert_eq(c.n_upstreams, 3);
	cr_assert_str_eq(c.upstreams[2].host, "c");
	cr_assert_str_eq(c.event_log, "-");
	cr_assert_eq(c.log_level, KC_LOG_WARN);
	/* Unset, they take the listen host. */
	cr_assert_str_eq(c.advertised_host, "::1");
	cr_assert_str_eq(c.broker_bind, "::1");
	kc_config_release(&c);
}

Test(config, flag_errors)
{
	struct kc_config c;
	char err[512];

#define FLAG_ERR(want, ...)                                                    \
	do {                                                                   \
		cr_assert_eq(run(&c, err, sizeof(err), __VA_ARGS__, NULL),     \
			     -1);                                              \
		cr_assert_str_eq(err, want);                                   \
	} while (0)
	FLAG_ERR("unknown option \"--listne\" (did you mean --listen?)",
		 "--listne", "a:1");
	FLAG_ERR("unknown option \"--max_frame=5\" (did you mean --max-frame?)",
		 "--max_frame=5");
	FLAG_ERR("unknown option \"--connect-timeout-ms\" (did you mean "
		 "--connect-timeout?)",
		 "--connect-timeout-ms", "5");
	FLAG_ERR("unknown option \"-h\" (see --help)", "-h");
	FLAG_ERR("unknown option \"--frobnicate\" (see --help)",
		 "--frobnicate");
	FLAG_ERR("unexpected argument \"extra\" (settings are given as --flag "
		 "VALUE; see --help)",
		 "--listen", "a:1", "extra");
	FLAG_ERR("unexpected argument \"x\"", "--", "x");
	FLAG_ERR("--listen needs a value (HOST:PORT)", "--listen");
	FLAG_ERR("--listen needs a value (HOST:PORT)", "--listen", "--upstream",
		 "a:1");
	FLAG_ERR("--log-requests takes no value", "--log-requests=true");
	FLAG_ERR("--max-frame: \"12Q\" is not a size (an integer with an "
		 "optional K, M or G suffix)",
		 "--listen", "a:1", "--upstream", "b:1", "--max-frame", "12Q");
	FLAG_ERR("--janitor-interval: 5 is out of range 10..60000", "--listen",
		 "a:1", "--upstream", "b:1", "--janitor-interval", "5");
	FLAG_ERR("--connect-timeout: \"1.5\" is not a whole number",
		 "--connect-timeout", "1.5");
	FLAG_ERR("--log-level: \"loud\" is not a log level (error, warn, info "
		 "or debug)",
		 "--log-level", "loud");
	FLAG_ERR("--config: \"\" is not a file name", "--config=");
	/* --help after an error does not hide it; before, it wins. */
	FLAG_ERR("unknown option \"--nope\" (see --help)", "--nope", "--help");
#undef FLAG_ERR
	cr_assert_null(c.rules);
}

Test(config, help_and_version, .init = cr_redirect_stdout)
{
	struct kc_config c;
	char err[512];

	cr_assert_eq(run(&c, err, sizeof(err), "--version", "--bogus", NULL),
		     1);
	fflush(stdout);
	cr_assert_stdout_eq_str("kafka-conntrace " PACKAGE_VERSION "\n");
}

Test(config, help_is_the_table, .init = cr_redirect_stdout)
{
	struct kc_config c;
	char err[512], *text = NULL, *line, *save = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(
		run(&c, err, sizeof(err), "--listen", "bad", "--help", NULL), 1,
		"--help wins over values checked later");
	kc_config_usage(f);
	fclose(f);
	for (i = 0; i < N_ROWS; i++) {
		char want[64];

		if (!rows[i].flag)
			continue;
		snprintf(want, sizeof(want), "  --%s", rows[i].flag);
		cr_assert_not_null(strstr(text, want), "--help lacks %s", want);
	}
	cr_assert_not_null(strstr(text, "--max-frame BYTES"));
	cr_assert_not_null(strstr(text, "[100M]"));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		cr_assert_leq(strlen(line), 80, "--help line too long: %s",
			      line);
	free(text);
}

Test(config, file_only)
{
	struct kc_config c;
	char err[512];
	const char *path =
		file_put("all.json",
			 "{\n"
			 "  \"listen\": \"[::1]:9092\",\n"
			 "  \"upstream\": [\"k1:9092\", \"k2:9093,k3:9094\"],\n"
			 "  \"event_log\": \"/var/log/kc.json\",\n"
			 "  \"advertised_host\": \"[fd00::5]\",\n"
			 "  \"broker_bind\": \"::\",\n"
			 "  \"broker_ports\": \"40000-40100\",\n"
			 "  \"log_requests\": true,\n"
			 "  \"log_level\": \"error\",\n"
			 "  \"max_frame\": \"1G\",\n"
			 "  \"max_rewrite_frame\": 33554432,\n"
			 "  \"buffer_high\": \"4m\",\n"
			 "  \"buffer_low\": 1024,\n"
			 "  \"max_connections\": 5000,\n"
			 "  \"connect_timeout_ms\": 3000,\n"
			 "  \"drain_timeout_ms\": 100,\n"
			 "  \"janitor_interval_ms\": 60000,\n"
			 "  \"proc_lookup\": false,\n"
			 "  \"rules\": {\"idle\": {\"after_ms\": 1}},\n"
			 "  \"admin\": {}\n"
			 "}\n");

	cr_assert_eq(run(&c, err, sizeof(err), "--config", path, NULL), 0, "%s",
		     err);
	cr_assert_str_eq(c.config_path, path);
	cr_assert_str_eq(c.listen.host, "::1");
	cr_assert_eq(c.n_upstreams, 3);
	cr_assert_str_eq(c.upstreams[2].host, "k3");
	cr_assert_eq(c.upstreams[2].port, 9094);
	cr_assert_str_eq(c.event_log, "/var/log/kc.json");
	cr_assert_str_eq(c.advertised_host, "fd00::5");
	cr_assert_str_eq(c.broker_bind, "::");
	cr_assert_eq(c.broker_ports.lo, 40000);
	cr_assert_eq(c.broker_ports.hi, 40100);
	cr_assert(c.log_requests);
	cr_assert_eq(c.log_level, KC_LOG_ERROR);
	cr_assert_eq(c.max_frame, 1u << 30);
	cr_assert_eq(c.max_rewrite_frame, 33554432);
	cr_assert_eq(c.buffer_high, 4u << 20);
	cr_assert_eq(c.buffer_low, 1024);
	cr_assert_eq(c.max_connections, 5000);
	cr_assert_eq(c.connect_timeout_ms, 3000);
	cr_assert_eq(c.drain_timeout_ms, 100);
	cr_assert_eq(c.janitor_interval_ms, 60000);
	cr_assert_not(c.proc_lookup);
	cr_assert(json_is_object(c.rules));
	cr_assert_not_null(json_object_get(c.rules, "idle"));
	cr_assert(json_is_object(c.admin));
	kc_config_release(&c);
	cr_assert_null(c.rules);
	kc_config_release(&c); /* twice is fine */
}

Test(config, flags_override_file)
{
	struct kc_config c;
	char err[512];
	const char *path =
		file_put("o.json", "{\"listen\": \"127.0.0.1:1000\",\n"
				   " \"upstream\": [\"f1:1\", \"f2:2\"],\n"
				   " \"max_frame\": \"2M\",\n"
				   " \"max_rewrite_frame\": \"1M\",\n"
				   " \"log_level\": \"debug\",\n"
				   " \"proc_lookup\": true}\n");

	/* --config may come anywhere: the file is read before any flag. */
	cr_assert_eq(run(&c, err, sizeof(err), "--listen", "127.0.0.2:2000",
			 "--upstream", "g1:1", "--max-frame=4M", "--no-proc",
			 "--config", path, NULL),
		     0, "%s", err);
	cr_assert_str_eq(c.listen.host, "127.0.0.2");
	cr_assert_eq(c.listen.port, 2000);
	cr_assert_eq(c.n_upstreams, 1, "--upstream replaces the file's list");
	cr_assert_str_eq(c.upstreams[0].host, "g1");
	cr_assert_eq(c.max_frame, 4u << 20);
	cr_assert_eq(c.max_rewrite_frame, 1u << 20, "from the file");
	cr_assert_eq(c.log_level, KC_LOG_DEBUG, "from the file");
	cr_assert_not(c.proc_lookup);
	kc_config_release(&c);

	/* The last --config wins; its errors come back as they are. */
	cr_assert_eq(run(&c, err, sizeof(err), "--config", path, "--config",
			 "/nonexistent/kc.json", NULL),
		     -1);
	cr_assert_str_eq(err, "/nonexistent/kc.json: cannot open: No such "
			      "file or directory");
}

/* For each type: a value of the wrong JSON type and the message tail, and
 * a well-typed bad value and its tail (NULL: none exists). elem_at is
 * where in bad_value the error points, when not at the key. */
static const struct {
	enum kc_opt_type type;
	const char *bad_type, *type_msg;
	const char *bad_value, *value_msg;
	int elem_at;
} samples[] = {
	{KC_T_HOSTPORT, "5", "must be a string \"HOST:PORT\", not an integer",
	 "\"nope\"", "\"nope\" has no port (want HOST:PORT)", -1},
	{KC_T_ADDR_OPT, "5", "must be a string \"HOST:PORT\", not an integer",
	 "\"nope\"", "\"nope\" has no port (want HOST:PORT)", -1},
	{KC_T_UPSTREAMS, "{}",
	 "must be an array of \"HOST:PORT\" strings, or one string "
	 "\"HOST:PORT,HOST:PORT\", not an object",
	 "[\"127.0.0.1:1\", \"b\"]", "\"b\" has no port (want HOST:PORT)", 16},
	{KC_T_PATH, "true",
	 "must be a string (a file name, or \"-\"), not a boolean", "\"\"",
	 "the file name is empty", -1},
	{KC_T_HOST, "[]",
	 "must be a string (a host name or address), not an array",
	 "\"bad host\"", "\"bad host\" is not a host name or address", -1},
	{KC_T_USER, "1", "must be a string (a user name), not an integer",
	 "\"-x\"", "\"-x\" is not a user name", -1},
	{KC_T_PORTS, "0", "must be a string \"LO-HI\" or \"0\", not an integer",
	 "\"9-1\"", "\"9-1\": the range ends before it starts", -1},
	{KC_T_FLAG, "\"yes\"", "must be true or false, not a string", NULL,
	 NULL, -1},
	{KC_T_NOFLAG, "null", "must be true or false, not null", NULL, NULL,
	 -1},
	{KC_T_LEVEL, "1",
	 "must be one of \"error\", \"warn\", \"info\", \"debug\", not an "
	 "integer",
	 "\"verbose\"",
	 "\"verbose\" is not a log level (error, warn, info or debug)", -1},
	{KC_T_SIZE, "1.5",
	 "must be an integer or a string such as \"16M\", not a number "
	 "with a fraction",
	 "\"12Q\"",
	 "\"12Q\" is not a size (an integer with an optional K, M or G "
	 "suffix)",
	 -1},
	{KC_T_COUNT, "\"5\"", "must be an integer, not a string", NULL, NULL,
	 -1},
	{KC_T_MS, "\"5\"", "must be an integer (milliseconds), not a string",
	 NULL, NULL, -1},
	{KC_T_JSON, "[]", "must be an object, not an array", NULL, NULL, -1},
};

/* A file whose line 4 holds "key": value after prefix; lines 2-3 hold
 * decoys (the same key nested, and inside strings) that the scanner must
 * step over. */
static const char *keyed_file(const char *key, const char *prefix,
			      const char *value)
{
	static char text[1024];
	const char *fill = strcmp(key, "rules") ? "rules" : "admin";

	snprintf(text, sizeof(text),
		 "{\n"
		 "  \"%s\": {\"%s\": \"decoy \\\"%s\\\": 1 }\",\n"
		 "    \"n\": {\"%s\": [1, {\"%s\": 2}]}},\n"
		 "%s\"%s\": %s\n"
		 "}\n",
		 fill, key, key, key, key, prefix, key, value);
	return text;
}

Test(config, every_key_bad_type_and_value)
{
	static const char *prefixes[] = {"  ", "\t", "      ", " "};
	size_t i, j, checked = 0;

	for (i = 0; i < N_ROWS; i++) {
		const struct row *r = &rows[i];
		const char *pre = prefixes[i % 4];
		int col = (int)strlen(pre) + 1;
		char tail[256];

		if (!r->key)
			continue;
		for (j = 0; j < sizeof(samples) / sizeof(samples[0]); j++)
			if (samples[j].type == r->type)
				break;
		cr_assert_lt(j, sizeof(samples) / sizeof(samples[0]),
			     "no sample for the type of %s", r->key);
		cr_assert_str_eq(
			load_err(keyed_file(r->key, pre, samples[j].bad_type)),
			at(4, col, "\"%s\": %s", r->key, samples[j].type_msg));
		if (samples[j].bad_value) {
			int vcol = col;

			if (samples[j].elem_at >= 0)
				vcol += (int)strlen(r->key) + 4 +
					samples[j].elem_at;
			cr_assert_str_eq(
				load_err(keyed_file(r->key, pre,
						    samples[j].bad_value)),
				at(4, vcol, "\"%s\": %s", r->key,
				   samples[j].value_msg));
		}
		/* Numbers: one below the range, or one above. */
		if (r->type == KC_T_SIZE || r->type == KC_T_COUNT ||
		    r->type == KC_T_MS) {
			long long v = r->min > 0 ? r->min - 1 : r->max + 1;
			char num[32];

			snprintf(num, sizeof(num), "%lld", v);
			snprintf(tail, sizeof(tail),
				 "%lld is out of range %lld..%lld", v, r->min,
				 r->max);
			cr_assert_str_eq(
				load_err(keyed_file(r->key, pre, num)),
				at(4, col, "\"%s\": %s", r->key, tail));
		}
		checked++;
	}
	cr_assert_eq(checked, 26, "a key was added: give it a sample");
}

Test(config, syntax_errors)
{
	cr_assert_str_eq(
		load_err("{\n  \"listen\": \"a:1\",\n  \"upstream\" "
			 "\"b:2\"\n}\n"),
		at(3, 18, "JSON syntax error: ':' expected near '\"b:2\"'"));
	cr_assert_str_eq(load_err("{\"listen\": \"a:1\",}"),
			 at(1, 18,
			    "JSON syntax error: string or '}' expected near "
			    "'}'"));
	cr_assert_str_eq(load_err(""),
			 at(1, 1,
			    "JSON syntax error: '[' or '{' expected "
			    "near end of file"));
	cr_assert_str_eq(load_err("{\"listen\": \"a:1\n"),
			 at(1, 15,
			    "JSON syntax error: unexpected newline "
			    "near '\"a:1'"));
	cr_assert_str_eq(load_err("  [1]"),
			 at(1, 3,
			    "the file must hold one JSON object {...}, "
			    "not an array"));
	cr_assert_str_eq(load_err("{}"), "");
}

Test(config, unknown_and_duplicate_keys)
{
	cr_assert_str_eq(load_err("{\n  \"listne\": \"a:1\"\n}"),
			 at(2, 3,
			    "unknown key \"listne\" (did you mean "
			    "\"listen\"?)"));
	cr_assert_str_eq(load_err("{\"max-frame\": 5}"),
			 at(1, 2,
			    "unknown key \"max-frame\" (did you mean "
			    "\"max_frame\"?)"));
	cr_assert_str_eq(load_err("{\"connect_timeout\": 5}"),
			 at(1, 2,
			    "unknown key \"connect_timeout\" (did you "
			    "mean \"connect_timeout_ms\"?)"));
	cr_assert_str_eq(load_err("{\"no_proc\": true}"),
			 at(1, 2,
			    "unknown key \"no_proc\" (did you mean "
			    "\"proc_lookup\"?)"));
	cr_assert_str_eq(load_err("{\"janitor_interval\": 5}"),
			 at(1, 2,
			    "unknown key \"janitor_interval\" (did you "
			    "mean \"janitor_interval_ms\"?)"));
	cr_assert_str_eq(load_err("{\"buffer\": 5}"),
			 at(1, 2, "unknown key \"buffer\""),
			 "two keys start so: no suggestion");
	cr_assert_str_eq(load_err("{\"config\": \"x\"}"),
			 at(1, 2, "unknown key \"config\""));
	cr_assert_str_eq(load_err("{\"bad\\u0001key\": 1}"),
			 at(1, 2, "unknown key \"bad\\x01key\""));
	cr_assert_str_eq(load_err("{\"listen\": \"a:1\",\n \"listen\": "
				  "\"b:1\"}"),
			 at(2, 2, "duplicate key \"listen\""));
	cr_assert_str_eq(load_err("{\"rules\": {\"a\": {\"x\\\"\": 1, "
				  "\"x\\\"\": 2}}}"),
			 at(1, 28, "duplicate key \"x\\\"\""),
			 "nested, with an escaped quote in the key");
}

/* The scanner finds the key jansson means, whatever precedes it. */
Test(config, key_positions)
{
	const char *text;

	/* Multi-byte UTF-8 counts as one column each, as in jansson. */
	cr_assert_str_eq(load_err("{\"rules\": {\"\xc3\xa9\\\"}\": "
				  "\"\xe2\x82\xac\"}, \"max_frame\": []}"),
			 at(1, 26,
			    "\"max_frame\": must be an integer or a "
			    "string such as \"16M\", not an array"));
	/* An escaped key is still that key. */
	cr_assert_str_eq(load_err("{\n \"\\u006d\\u0061x_frame\": 1}"),
			 at(2, 2,
			    "\"max_frame\": 1 is out of range "
			    "1024..2147483647"));
	/* CRLF line ends. */
	cr_assert_str_eq(
		load_err("{\r\n\"admin\": {},\r\n  \"drain_timeout_ms\""
			 ": -1}"),
		at(3, 3,
		   "\"drain_timeout_ms\": -1 is out of range "
		   "0..3600000"));
	/* A key that is a prefix of an earlier one, and a string value
	 * holding the key. */
	text = "{\"rules\": {}, \"event_log\": \"\\\"buffer\\\": x\", "
	       "\"buffer\": 1}";
	cr_assert_str_eq(load_err(text),
			 at(1, (int)(strstr(text, "\"buffer\": 1") - text) + 1,
			    "unknown key \"buffer\""));
	/* The element of an array, even on another line. */
	cr_assert_str_eq(
		load_err("{\"upstream\": [\n    \"a:1\",\n    [\"b:1\"]]}"),
		at(3, 5,
		   "\"upstream\": each element must be a string "
		   "\"HOST:PORT\", not an array"));
	cr_assert_str_eq(load_err("{\"upstream\": []}"),
			 at(1, 2, "\"upstream\": the list is empty"));
	/* Surrogate pairs decode to one code point. */
	cr_assert_str_eq(load_err("{\"\\ud83d\\ude00\": 1}"),
			 at(1, 2, "unknown key \"\xf0\x9f\x98\x80\""));
}

Test(config, sizes)
{
	static const struct {
		const char *text;
		long long want; /* -1: rejected */
	} cases[] = {
		{"1024", 1024},  {"1K", 1024},
		{"1k", 1024},    {"3M", 3 << 20},
		{"2m", 2 << 20}, {"1G", 1 << 30},
		{"1g", 1 << 30}, {"0K", -1},
		{"1T", -1},      {"-1", -1},
		{"+5K", -1},     {" 5K", -1},
		{"5K ", -1},     {"5KB", -1},
		{"0x10", -1},    {"", -1},
		{"3G", -1},      {"99999999999999999999999G", -1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kc_config c;
		char err[512];
		int rc = run(&c, err, sizeof(err), "--listen", "a:1",
			     "--upstream", "b:1", "--max-rewrite-frame", "1K",
			     "--max-frame", cases[i].text, NULL);

		if (cases[i].want < 0) {
			cr_assert_eq(rc, -1, "%s accepted", cases[i].text);
			cr_assert_not_null(strstr(err, "--max-frame: "), "%s",
					   err);
			continue;
		}
		cr_assert_eq(rc, 0, "%s: %s", cases[i].text, err);
		cr_assert_eq(c.max_frame, (size_t)cases[i].want, "%s",
			     cases[i].text);
		kc_config_release(&c);
	}
	cr_assert_str_eq(load_err("{\"max_frame\": \"3G\"}"),
			 at(1, 2,
			    "\"max_frame\": 3G is out of range "
			    "1024..2147483647"));
	cr_assert_str_eq(load_err("{\"max_frame\": \"2047M\"}"), "");
}

Test(config, hostports)
{
	static const struct {
		const char *text, *host;
		unsigned port; /* 0: rejected */
	} cases[] = {
		{"127.0.0.1:9092", "127.0.0.1", 9092},
		{"kafka-1.example.com:1", "kafka-1.example.com", 1},
		{"broker_1:65535", "broker_1", 65535},
		{"[::1]:9092", "::1", 9092},
		{"[2001:db8::10]:19092", "2001:db8::10", 19092},
		{"[fe80::1%eth0]:9092", "fe80::1%eth0", 9092},
		{"[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1", 1},
		{"::1:9092", NULL, 0},
		{"[::1]", NULL, 0},
		{"[::1]9092", NULL, 0},
		{"[::1:9092", NULL, 0},
		{"[nothost]:1", NULL, 0},
		{"[1.2.3.4]:1", NULL, 0},
		{"[fe80::1%]:1", NULL, 0},
		{"host", NULL, 0},
		{"host:", NULL, 0},
		{":9092", NULL, 0},
		{"host:0", NULL, 0},
		{"host:65536", NULL, 0},
		{"host:123456", NULL, 0},
		{"host:-1", NULL, 0},
		{"host:+1", NULL, 0},
		{"host:80 ", NULL, 0},
		{"ho st:80", NULL, 0},
		{"300.1.1.1:80", NULL, 0},
		{"1.2.3:80", NULL, 0},
		{"", NULL, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kc_hostport hp;
		int rc = kc_parse_hostport(cases[i].text, &hp);

		if (!cases[i].port) {
			cr_assert_eq(rc, -1, "%s accepted", cases[i].text);
			continue;
		}
		cr_assert_eq(rc, 0, "%s rejected", cases[i].text);
		cr_assert_str_eq(hp.host, cases[i].host);
		cr_assert_eq(hp.port, cases[i].port);
	}
	cr_assert_str_eq(load_err("{\"listen\": \"::1:9092\"}"),
			 at(1, 2,
			    "\"listen\": \"::1:9092\": put an IPv6 "
			    "address in brackets, as in [::1]:9092"));
	cr_assert_str_eq(load_err("{\"listen\": \"h:0\"}"),
			 at(1, 2,
			    "\"listen\": \"h:0\": the port must be a "
			    "number 1..65535"));
	cr_assert_str_eq(load_err("{\"advertised_host\": \"[::1\"}"),
			 at(1, 2,
			    "\"advertised_host\": \"[::1\": no ']' "
			    "after the IPv6 address"));
	cr_assert_str_eq(load_err("{\"upstream\": \"a:1,,b:2\"}"),
			 at(1, 2,
			    "\"upstream\": \"a:1,,b:2\" has an empty "
			    "address"));
}

Test(config, upstream_limit)
{
	char list[2048] = "", json[2200];
	int i;

	for (i = 0; i < KC_MAX_UPSTREAMS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%sh%d:1", i ? "," : "", i);
	snprintf(json, sizeof(json), "{\"upstream\": \"%s\"}", list);
	cr_assert_str_eq(load_err(json), "");
	snprintf(json, sizeof(json), "{\"upstream\": \"%s,x:1\"}", list);
	cr_assert_str_eq(load_err(json),
			 at(1, 2,
			    "\"upstream\": more than %d upstream "
			    "addresses",
			    KC_MAX_UPSTREAMS));
}

Test(config, validation)
{
	struct kc_config c;
	char err[512];

#define INVALID(want, ...)                                                     \
	do {                                                                   \
		cr_assert_eq(run(&c, err, sizeof(err), __VA_ARGS__, NULL),     \
			     -1);                                              \
		cr_assert_str_eq(err, want);                                   \
	} while (0)
	INVALID("missing --listen HOST:PORT (or \"listen\" in the config "
		"file)",
		"--upstream", "a:1");
	INVALID("missing --upstream HOST:PORT[,...] (or \"upstream\" in the "
		"config file)",
		"--listen", "a:1");
	INVALID("--buffer-low (\"buffer_low\") 1048576 must be below "
		"--buffer-high (\"buffer_high\") 1048576",
		"--listen", "a:1", "--upstream", "b:1", "--buffer-low", "1M");
	INVALID("--max-rewrite-frame (\"max_rewrite_frame\") 16777216 must not "
		"be above --max-frame (\"max_frame\") 8388608",
		"--listen", "a:1", "--upstream", "b:1", "--max-frame", "8M");
	INVALID("the listen host 0.0.0.0 is a wildcard address, which clients "
		"cannot connect to: set --advertised-host "
		"(\"advertised_host\")",
		"--listen", "0.0.0.0:9092", "--upstream", "b:1");
	INVALID("--advertised-host (\"advertised_host\") :: is a wildcard "
		"address, which clients cannot connect to",
		"--listen", "h:9092", "--upstream", "b:1", "--advertised-host",
		"[::]");
	INVALID("--broker-ports: \"5\" is not a port range LO-HI (ports "
		"1..65535) or 0",
		"--broker-ports", "5");
	INVALID("--broker-ports: \"0-5\" is not a port range LO-HI (ports "
		"1..65535) or 0",
		"--broker-ports", "0-5");
	INVALID("--broker-ports: \"1-65536\" is not a port range LO-HI (ports "
		"1..65535) or 0",
		"--broker-ports", "1-65536");
	INVALID("--janitor-interval: 60001 is out of range 10..60000",
		"--janitor-interval", "60001");
#undef INVALID
	/* Equal ends are a range of one port. */
	cr_assert_eq(run(&c, err, sizeof(err), "--listen", "0.0.0.0:9092",
			 "--advertised-host", "10.1.2.3", "--upstream", "b:1",
			 "--broker-ports", "5-5", NULL),
		     0, "%s", err);
	cr_assert_eq(c.broker_ports.lo, 5);
	cr_assert_str_eq(c.broker_bind, "0.0.0.0");
	kc_config_release(&c);

	/* kc_config_validate checks a struct built in code, too. */
	kc_config_defaults(&c);
	cr_assert_eq(kc_parse_hostport("h:1", &c.listen), 0);
	cr_assert_eq(kc_parse_hostport("u:2", &c.upstreams[0]), 0);
	c.n_upstreams = 1;
	cr_assert_eq(kc_config_validate(&c, err, sizeof(err)), 0, "%s", err);
	c.janitor_interval_ms = 9;
	cr_assert_eq(kc_config_validate(&c, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--janitor-interval (\"janitor_interval_ms\"): "
			      "9 is out of range 10..60000");
	c.janitor_interval_ms = 1000;
	c.broker_ports.lo = 7;
	cr_assert_eq(kc_config_validate(&c, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--broker-ports (\"broker_ports\"): 7-0 is not a "
			      "port range LO-HI or 0");
	c.broker_ports.lo = 0;
	c.log_level = (enum kc_log_level)9;
	cr_assert_eq(kc_config_validate(&c, err, sizeof(err)), -1);
	c.log_level = KC_LOG_INFO;
	c.event_log[0] = '\0';
	cr_assert_eq(kc_config_validate(&c, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--event-log (\"event_log\"): the file name is "
			      "empty");
	kc_config_release(&c);
}

/* SIGHUP: the daemon runs kc_config_from_args again on the saved argv
 * into a fresh struct, and keeps the old one when that fails. */
Test(config, reload_into_fresh_struct)
{
	struct kc_config a, b, d;
	char err[512], want[512];
	char *argv[] = {"kafka-conntrace", "--config", NULL,
			"--log-level",     "debug",    NULL};
	char path[256];
	json_t *held;

	snprintf(path, sizeof(path), "%s",
		 file_put("r.json", "{\"listen\": \"127.0.0.1:9092\", "
				    "\"upstream\": \"a:1\", \"max_frame\": "
				    "\"32M\", \"rules\": {\"v\": 1}}"));
	argv[2] = path;
	cr_assert_eq(kc_config_from_args(&a, 5, argv, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(a.rules->refcount, 1, "only the struct holds rules");

	(void)file_put("r.json", "{\"listen\": \"127.0.0.1:9092\", "
				 "\"upstream\": [\"b:2\", \"c:3\"], "
				 "\"rules\": {\"v\": 2}}");
	cr_assert_eq(kc_config_from_args(&b, 5, argv, err, sizeof(err)), 0,
		     "%s", err);
	/* The new struct has the new file; the old one is untouched. */
	cr_assert_eq(b.n_upstreams, 2);
	cr_assert_eq(b.max_frame, 104857600,
		     "a key removed from the file "
		     "goes back to its default");
	cr_assert_eq(b.log_level, KC_LOG_DEBUG, "flags apply again");
	cr_assert_eq(json_integer_value(json_object_get(b.rules, "v")), 2);
	cr_assert_eq(a.n_upstreams, 1);
	cr_assert_str_eq(a.upstreams[0].host, "a");
	cr_assert_eq(a.max_frame, 32u << 20);
	cr_assert_eq(json_integer_value(json_object_get(a.rules, "v")), 1);
	cr_assert_neq(a.rules, b.rules);
	cr_assert_eq(a.rules->refcount, 1);
	cr_assert_eq(b.rules->refcount, 1);

	/* A broken file: -1, nothing held, the others unaffected. */
	(void)file_put("r.json", "{\"rules\": {\"v\": 3}, \"listen\": 5}");
	cr_assert_eq(kc_config_from_args(&d, 5, argv, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "%s:1:21: \"listen\": must be a string \"HOST:PORT\", not "
		 "an integer",
		 path);
	cr_assert_str_eq(err, want);
	cr_assert_null(d.rules, "a failed load holds no references");
	cr_assert_eq(a.rules->refcount, 1);

	held = json_incref(a.rules);
	kc_config_release(&a);
	cr_assert_eq(held->refcount, 1, "release dropped its reference");
	json_decref(held);
	kc_config_release(&b);
}

Test(config, same_args_same_result)
{
	struct kc_config a, b;
	char err[512];

	cr_assert_eq(run(&a, err, sizeof(err), "--listen", "h:1", "--upstream",
			 "u:1", "--log-requests", NULL),
		     0, "%s", err);
	cr_assert_eq(run(&b, err, sizeof(err), "--listen", "h:1", "--upstream",
			 "u:1", "--log-requests", NULL),
		     0, "%s", err);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	/* Nothing carried over from an earlier parse. */
	cr_assert_eq(run(&b, err, sizeof(err), "--listen", "h:1", "--upstream",
			 "u:1", NULL),
		     0, "%s", err);
	cr_assert_not(b.log_requests);
}

Test(config, load_file_replaces_reserved_objects)
{
	struct kc_config c;
	char err[512];
	json_t *first;
	const char *path = file_put("j.json", "{\"admin\": {\"n\": 1}}");

	kc_config_defaults(&c);
	cr_assert_eq(kc_config_load_file(&c, path, err, sizeof(err)), 0, "%s",
		     err);
	first = json_incref(c.admin);
	path = file_put("j.json", "{\"admin\": {\"n\": 2}}");
	cr_assert_eq(kc_config_load_file(&c, path, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(first->refcount, 1, "the old object was released");
	cr_assert_eq(json_integer_value(json_object_get(c.admin, "n")), 2);
	json_decref(first);
	kc_config_release(&c);
}

/* Read $top_srcdir/rel into a malloc'd string. */
static char *src_read(const char *rel, char *path, size_t pathlen)
{
	const char *top = getenv("top_srcdir");
	FILE *f;
	char *text;
	long n;

	snprintf(path, pathlen, "%s/%s", top ? top : ".", rel);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s (set top_srcdir)", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	text = malloc((size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* doc/config.md has one "### `key`" section per setting ("### `--flag`"
 * for command-line-only ones) under "## Settings", naming the flag and
 * the default; and documents nothing the table lacks. */
Test(config, documented_in_config_md)
{
	char path[1024], *settings, *end, *h;
	char *text = src_read("doc/config.md", path, sizeof(path));
	size_t i, sections = 0;

	settings = strstr(text, "\n## Settings\n");
	cr_assert_not_null(settings, "%s: no \"## Settings\" section", path);
	end = strstr(settings + 1, "\n## ");
	if (end)
		*end = '\0';

	/* Every documented section is in the table. */
	for (h = strstr(settings, "\n### `"); h; h = strstr(h + 1, "\n### `")) {
		char name[64];
		int found = 0;

		cr_assert_eq(sscanf(h, "\n### `%63[^`]`", name), 1);
		for (i = 0; i < N_ROWS; i++)
			if ((rows[i].key && !strcmp(rows[i].key, name)) ||
			    (!rows[i].key && name[0] == '-' &&
			     !strcmp(rows[i].flag, name + 2)))
				found = 1;
		cr_assert(found, "%s documents \"%s\", which is no setting",
			  path, name);
		sections++;
	}
	/* Every setting has a section that names its flag and default. */
	for (i = 0; i < N_ROWS; i++) {
		char head[80], want[80], *sec, *next;

		if (rows[i].key)
			snprintf(head, sizeof(head), "\n### `%s`\n",
				 rows[i].key);
		else
			snprintf(head, sizeof(head), "\n### `--%s`\n",
				 rows[i].flag);
		sec = strstr(settings, head);
		cr_assert_not_null(sec, "%s: no section %s", path, head + 1);
		next = strstr(sec + 1, "\n### ");
		if (next)
			*next = '\0';
		if (rows[i].flag) {
			snprintf(want, sizeof(want), "`--%s", rows[i].flag);
			cr_assert_not_null(strstr(sec, want),
					   "%s: section %s does not name %s",
					   path, head + 1, want + 1);
		}
		if (rows[i].def[0]) {
			snprintf(want, sizeof(want), "Default: `%s`",
				 rows[i].def);
			cr_assert_not_null(strstr(sec, want),
					   "%s: section %s lacks \"%s\"", path,
					   head + 1, want);
		}
		if (next)
			*next = '\n';
	}
	cr_assert_eq(sections, N_ROWS);
	free(text);
}

/* conf/kafka-conntrace.json loads, validates, and is the example that
 * doc/config.md shows. */
Test(config, example_file)
{
	struct kc_config c;
	char path[1024], doc[1024], err[512];
	char *text = src_read("conf/kafka-conntrace.json", path, sizeof(path));
	char *md = src_read("doc/config.md", doc, sizeof(doc));
	char *argv[] = {"kafka-conntrace", "--config", path, NULL};

	cr_assert_eq(kc_config_from_args(&c, 3, argv, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(c.n_upstreams, 2);
	cr_assert(json_is_object(c.rules));
	kc_config_release(&c);
	cr_assert_not_null(strstr(md, text),
			   "%s does not show %s verbatim in a code block", doc,
			   path);
	free(text);
	free(md);
}

/* The man page lists every flag (roff writes '-' as "\-") and every JSON
 * key (in bold, or in brackets after its flag). */
Test(config, documented_in_man_page)
{
	char path[1024];
	char *man = src_read("doc/kafka-conntrace.8", path, sizeof(path));
	size_t i;

	for (i = 0; i < N_ROWS; i++) {
		char want[128], *w = want;
		const char *p;

		if (rows[i].flag) {
			w += sprintf(w, "\\-\\-");
			for (p = rows[i].flag; *p; p++) {
				if (*p == '-')
					*w++ = '\\';
				*w++ = *p;
			}
			*w = '\0';
			cr_assert_not_null(strstr(man, want),
					   "%s does not document %s", path,
					   want);
		}
		if (rows[i].key) {
			char br[64], b[64], bracket[64];

			snprintf(br, sizeof(br), ".BR %s ", rows[i].key);
			snprintf(b, sizeof(b), ".B %s\n", rows[i].key);
			snprintf(bracket, sizeof(bracket), "[%s]", rows[i].key);
			cr_assert(strstr(man, br) || strstr(man, b) ||
					  strstr(man, bracket),
				  "%s does not name the key %s", path,
				  rows[i].key);
		}
	}
	free(man);
}

/* The "rules" object is checked after loading (proxy_check_config), and
 * its errors point into the file like every other key's. */
static const char *rules_err(const char *rules)
{
	static char err[1024];
	char text[2048];
	struct kc_config c;
	struct rules_config rc;
	const char *path;

	snprintf(text, sizeof(text),
		 "{\"listen\": \"127.0.0.1:9092\",\n"
		 " \"upstream\": [\"127.0.0.1:9093\"],\n"
		 " \"rules\": %s}\n",
		 rules);
	path = file_put("c.json", text);
	if (run(&c, err, sizeof(err), "--config", path, NULL) != 0)
		return err;
	if (proxy_check_config(&c, &rc, err, sizeof(err)) == 0)
		cr_assert_str_empty(err);
	kc_config_release(&c);
	return err;
}

Test(config, rules_errors_located)
{
	cr_assert_str_empty(rules_err("{\"overrides\": [{\"client_id\": "
				      "\"a*\", \"storm_count\": 2}]}"));
	cr_assert_str_eq(rules_err("{\"mode\": \"report\",\n  \"idel_s\": 1}"),
			 at(4, 3, "rules.idel_s: unknown key"));
	cr_assert_str_eq(rules_err("{\"churn_count\": 0.5}"),
			 at(3, 12,
			    "rules.churn_count: expected a whole number, not "
			    "0.5"));
	cr_assert_str_eq(
		rules_err("{\"overrides\": [\n  {\"client_id\": \"a\"},\n"
			  "  {\"client_id\": \"b\", \"open_rate\": -2}]}"),
		at(5, 22,
		   "rules.overrides[1].open_rate: -2 is out of range "
		   "0..1e+06"));
	cr_assert_str_eq(
		rules_err("{\"overrides\": [{\"client_id\": \"b\",\n"
			  "  \"clients_per_minute\": 3}]}"),
		at(4, 3,
		   "rules.overrides[0].clients_per_minute: counted per source "
		   "address before a client names itself: set it under "
		   "\"rules\", not per client id"));
	cr_assert_str_eq(
		rules_err("{\"overrides\": [{\"idle_s\": 3}]}"),
		at(3, 26, "rules.overrides[0]: client_id is required"));
	cr_assert_str_eq(rules_err("{\"disable\": [\"idle.connection\", "
				   "\"idle\"]}"),
			 at(3, 43,
			    "rules.disable: element 1 is not a rule id (see "
			    "doc/rules.md)"));
	cr_assert_str_eq(rules_err("[]"),
			 at(3, 2, "\"rules\": must be an object, not an array"),
			 "the loader's own type check");
}
