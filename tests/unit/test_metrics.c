/*
 * test_metrics: the Prometheus text exposition (escaping, values, the
 * shape of every family as a strict parser reads it), the counters and
 * rings fed through the hooks on a proxy built by hand, the "admin"
 * options, and doc/admin.md against the metrics table.
 */
#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "conn.h"
#include "kp_schema.h"
#include "metrics.h"
#include "proxy.h"
#include "rules.h"

/* The buffer's contents as a NUL-terminated string (malloc'd). */
static char *drain(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

static char *escaped(const char *in)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	metrics_escape_label(in, b);
	s = drain(b);
	evbuffer_free(b);
	return s;
}

Test(metrics, label_escaping)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"plain", "plain"},
		{"back\\slash", "back\\\\slash"},
		{"a \"quote\"", "a \\\"quote\\\""},
		{"two\nlines", "two\\nlines"},
		{"tab\tstays", "tab\tstays"},
		{"caf\xc3\xa9", "caf\xc3\xa9"},           /* valid UTF-8 */
		{"\xe2\x82\xac", "\xe2\x82\xac"},         /* euro sign */
		{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"}, /* 4 bytes */
		{"bad\xff", "bad\xef\xbf\xbd"},           /* not UTF-8 */
		{"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong NUL */
		{"\xed\xa0\x80",
		 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
		{"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"}, /* cut short */
		{"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				     "\xef\xbf\xbd"}, /* above U+10FFFF */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = escaped(cases[i].in);

		cr_assert_str_eq(got, cases[i].want, "case %zu", i);
		free(got);
	}
}

/* Long values are cut at METRICS_LABEL_MAX bytes of input, never inside
 * a character, and say so. */
Test(metrics, label_truncation)
{
	char in[400], *got;
	size_t i;

	for (i = 0; i + 2 <= 300; i += 2)
		memcpy(in + i, "\xc3\xa9", 2);
	in[i] = '\0';
	got = escaped(in);
	cr_assert_eq(strlen(got), METRICS_LABEL_MAX + 3);
	cr_assert_str_eq(got + METRICS_LABEL_MAX, "...");
	memset(in, 'x', 127);
	memcpy(in + 127, "\xc3\xa9", 3);
	free(got);
	got = escaped(in);
	cr_assert_eq(strlen(got), 127 + 3, "%s", got);
	free(got);
}

Test(metrics, help_escaping)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	metrics_escape_help("a\\b\nc \"q\"", b);
	s = drain(b);
	cr_assert_str_eq(s, "a\\\\b\\nc \"q\"");
	free(s);
	evbuffer_free(b);
}

Test(metrics, values)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{0, "0"},
		{3, "3"},
		{-7, "-7"},
		{1.5, "1.5"},
		{0.1, "0.1"},
		{1e300, "1e+300"},
		{INFINITY, "+Inf"},
		{-INFINITY, "-Inf"},
		{NAN, "NaN"},
		{123456789012.0, "123456789012"},
		{0.000055, "5.5e-05"},
	};
	char buf[40];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		metrics_format_value(cases[i].v, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].want, "case %zu", i);
	}
}

Test(metrics, sample_lines)
{
	struct evbuffer *b = evbuffer_new();
	const char *v[] = {"data", "client", "fin", "client_closed"};
	const char *api[] = {"Fetch"};
	char *s;

	metrics_write_sample(b, M_CONNS_CLOSED, "", v, NULL, 4);
	metrics_write_sample(b, M_REQ_DURATION, "_bucket", api, "0.5", 2);
	metrics_write_sample(b, M_INFLIGHT, "", NULL, NULL, 0);
	metrics_write_sample(b, M_REQ_DURATION, "_count", api, NULL, 2);
	s = drain(b);
	cr_assert_str_eq(
		s,
		"kafka_conntrace_connections_closed_total{role=\"data\","
		"closed_by=\"client\",how=\"fin\",reason=\"client_closed\"} 4\n"
		"kafka_conntrace_request_duration_seconds_bucket{api=\"Fetch\","
		"le=\"0.5\"} 2\n"
		"kafka_conntrace_requests_inflight 0\n"
		"kafka_conntrace_request_duration_seconds_count{api=\"Fetch\"} "
		"2\n");
	free(s);
	evbuffer_free(b);
}

/* ---- a strict reader of the exposition ---- */

struct sample {
	char name[128];
	char labels[8][2][256]; /* name, unescaped value */
	int n_labels;
	double v;
};

/* Parse one sample line; 0 or -1. Label values may hold only the three
 * escapes the format has. */
static int parse_sample(const char *line, struct sample *s)
{
	const char *p = line;
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
	char *end;

	memset(s, 0, sizeof(*s));
	if (n == 0 || n >= sizeof(s->name) || (p[0] >= '0' && p[0] <= '9'))
		return -1;
	memcpy(s->name, p, n);
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
			size_t o = 0;

			if (k == 0 || s->n_labels == 8 || k >= 256)
				return -1;
			memcpy(s->labels[s->n_labels][0], p, k);
			p += k;
			if (p[0] != '=' || p[1] != '"')
				return -1;
			for (p += 2; *p != '"'; p++) {
				char c = *p;

				if (!c || c == '\n' || o >= 255)
					return -1;
				if (c == '\\') {
					p++;
					if (*p == 'n')
						c = '\n';
					else if (*p == '\\' || *p == '"')
						c = *p;
					else
						return -1;
				}
				s->labels[s->n_labels][1][o++] = c;
			}
			s->n_labels++;
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return -1;
		}
		p++;
	}
	if (*p != ' ')
		return -1;
	p++;
	if (!strcmp(p, "+Inf"))
		s->v = INFINITY;
	else if (!strcmp(p, "NaN"))
		s->v = NAN;
	else {
		s->v = strtod(p, &end);
		if (end == p || *end)
			return -1;
	}
	return 0;
}

static const char *label(const struct sample *s, const char *name)
{
	for (int i = 0; i < s->n_labels; i++)
		if (!strcmp(s->labels[i][0], name))
			return s->labels[i][1];
	return NULL;
}

struct exposition {
	struct sample *v;
	size_t n;
};

/* Check the whole text: HELP then TYPE once per family of the table, in
 * the table's order, samples only of the family just declared, with the
 * table's labels (plus le for buckets); histograms cumulative, +Inf equal
 * to _count. Returns the samples. */
static struct exposition check_exposition(char *text)
{
	struct exposition e = {calloc(4096, sizeof(struct sample)), 0};
	int fam = -1;
	char *save = NULL, *line;
	double last_bucket = 0;
	char last_series[1024] = "";

	cr_assert(text[strlen(text) - 1] == '\n', "ends with a newline");
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const struct metric_def *d;
		char want[256], series[1024] = "";
		struct sample *s;
		size_t nl;

		if (!strncmp(line, "# HELP ", 7)) {
			fam++;
			cr_assert_lt(fam, M_COUNT,
				     "more families than the table");
			d = &metric_defs[fam];
			snprintf(want, sizeof(want),
				 "# HELP " METRICS_PREFIX "%s ", d->name);
			cr_assert(!strncmp(line, want, strlen(want)),
				  "family %d: %s, want %s", fam, line, want);
			line = strtok_r(NULL, "\n", &save);
			cr_assert_not_null(line);
			snprintf(want, sizeof(want),
				 "# TYPE " METRICS_PREFIX "%s %s", d->name,
				 d->type == METRIC_COUNTER ? "counter"
				 : d->type == METRIC_GAUGE ? "gauge"
							   : "histogram");
			cr_assert_str_eq(line, want);
			continue;
		}
		cr_assert(line[0] != '#', "a stray comment: %s", line);
		cr_assert_geq(fam, 0, "a sample before any TYPE: %s", line);
		cr_assert_lt(e.n, 4096);
		s = &e.v[e.n++];
		cr_assert_eq(parse_sample(line, s), 0, "does not parse: %s",
			     line);
		d = &metric_defs[fam];
		snprintf(want, sizeof(want), METRICS_PREFIX "%s", d->name);
		nl = strlen(want);
		cr_assert(!strncmp(s->name, want, nl),
			  "%s outside its family %s", s->name, want);
		if (d->type == METRIC_HISTOGRAM)
			cr_assert(!strcmp(s->name + nl, "_bucket") ||
					  !strcmp(s->name + nl, "_sum") ||
					  !strcmp(s->name + nl, "_count"),
				  "%s", s->name);
		else
			cr_assert_eq(s->name[nl], '\0', "%s", s->name);
		/* The table's labels, in order, then le on buckets. */
		{
			const char *p = d->labels;
			int i = 0;

			while (*p) {
				size_t k = strcspn(p, ",");

				cr_assert_lt(i, s->n_labels, "%s", line);
				cr_assert(
					strlen(s->labels[i][0]) == k &&
						!strncmp(s->labels[i][0], p, k),
					"%s: label %d", line, i);
				strncat(series, s->labels[i][1],
					sizeof(series) - strlen(series) - 2);
				strcat(series, "|");
				i++;
				p += k + (p[k] == ',');
			}
			if (!strcmp(s->name + nl, "_bucket")) {
				cr_assert_eq(s->n_labels, i + 1);
				cr_assert_str_eq(s->labels[i][0], "le");
			} else {
				cr_assert_eq(s->n_labels, i, "%s", line);
			}
		}
		if (!strcmp(s->name + nl, "_bucket")) {
			if (strcmp(series, last_series))
				last_bucket = 0;
			cr_assert_geq(s->v, last_bucket,
				      "buckets not cumulative: %s", line);
			last_bucket = s->v;
			snprintf(last_series, sizeof(last_series), "%s",
				 series);
		}
		if (!strcmp(s->name + nl, "_count")) {
			cr_assert_str_eq(series, last_series);
			cr_assert_eq(s->v, last_bucket,
				     "_count differs from the +Inf bucket: %s",
				     line);
		}
	}
	cr_assert_eq(fam, M_COUNT - 1, "families: %d of %d", fam + 1, M_COUNT);
	return e;
}

static double value_of(const struct exposition *e, const char *name,
		       const char *l1, const char *v1, const char *l2,
		       const char *v2)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct sample *s = &e->v[i];
		const char *a = l1 ? label(s, l1) : NULL;
		const char *b = l2 ? label(s, l2) : NULL;

		if (strcmp(s->name, name))
			continue;
		if (l1 && (!a || strcmp(a, v1)))
			continue;
		if (l2 && (!b || strcmp(b, v2)))
			continue;
		return s->v;
	}
	return NAN;
}

/* ---- a proxy built by hand ---- */

struct rig {
	struct proxy px;
	struct broker b1;
	struct conn *c[4];
	struct session s;
};

static struct conn *rig_conn(struct rig *r, uint64_t id, struct broker *b)
{
	struct conn *c = calloc(1, sizeof(*c));

	c->req_count = calloc((size_t)kp_api_count, sizeof(uint32_t));
	c->px = &r->px;
	c->id = id;
	c->broker = b;
	c->pid = -1;
	c->state = CONN_ACTIVE;
	snprintf(c->peer_ip, sizeof(c->peer_ip), "127.0.0.1");
	c->opened.tv_sec = 1000;
	c->connected.tv_sec = 1000;
	c->up_attempts = 1;
	TAILQ_INSERT_TAIL(&r->px.conns, c, link);
	r->px.n_conns++;
	return c;
}

static void rig_close(struct rig *r, struct conn *c, enum conn_by by,
		      const char *how, const char *reason)
{
	c->closed_by = by;
	c->how = how;
	c->reason = reason;
	metrics_on_close(&r->px, c);
	TAILQ_REMOVE(&r->px.conns, c, link);
	r->px.n_conns--;
	free(c->req_count);
	free(c);
}

static void rig_init(struct rig *r, const struct metrics_config *mc)
{
	memset(r, 0, sizeof(*r));
	TAILQ_INIT(&r->px.conns);
	TAILQ_INIT(&r->px.dead);
	r->px.now.tv_sec = 1010;
	r->px.metrics = metrics_new(mc, 1000.5);
	cr_assert_not_null(r->px.metrics);
	r->b1.id = 1;
	r->b1.px = &r->px;
}

static void rig_free(struct rig *r)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&r->px.conns))) {
		TAILQ_REMOVE(&r->px.conns, c, link);
		free(c->req_count);
		free(c);
	}
	metrics_free(r->px.metrics);
}

static char *render(struct proxy *px)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	metrics_render(px, b);
	s = drain(b);
	evbuffer_free(b);
	return s;
}

Test(metrics, counters_through_the_hooks)
{
	struct metrics_config mc;
	struct rig r;
	struct conn *boot, *data, *conn3;
	struct exposition e;
	json_t *f;
	char *text;

	metrics_config_defaults(&mc);
	rig_init(&r, &mc);
	boot = rig_conn(&r, 1, NULL);
	data = rig_conn(&r, 2, &r.b1);
	conn3 = rig_conn(&r, 3, &r.b1);
	metrics_on_open(&r.px, boot);
	metrics_on_open(&r.px, data);
	metrics_on_open(&r.px, conn3);
	boot->req_count[KP_API_METADATA] = 2;
	boot->cli.bytes = 100;
	boot->up.bytes = 1000;
	data->req_count[KP_API_PRODUCE] = 5;
	data->req_unknown = 1;
	data->cli.bytes = 5000;
	data->q_len = 2;
	conn3->req_count[KP_API_JOIN_GROUP] = 1;
	conn3->up_attempts = 3; /* two failed before this one */
	metrics_on_response(&r.px, boot, KP_API_METADATA, 40, 0.002, 300);
	metrics_on_response(&r.px, boot, KP_API_METADATA, 40, 0.2, 300);
	metrics_on_response(&r.px, data, KP_API_PRODUCE, 4000, 1e9, 60);
	metrics_on_decode_problem(&r.px, "response", KP_API_PRODUCE);
	metrics_on_decode_problem(&r.px, "request", 30000); /* unknown key */
	f = json_pack("{s:s, s:[i]}", "rule", "idle.connection", "conns", 2);
	metrics_on_finding(&r.px, f);
	json_decref(f);
	f = json_pack("{s:s}", "rule", "not.in.the.catalog");
	metrics_on_finding(&r.px, f);
	json_decref(f);

	/* Open: requests and bytes are read off the connections. */
	text = render(&r.px);
	e = check_exposition(text);
	cr_assert_eq(value_of(&e, "kafka_conntrace_requests_total", "api",
			      "Metadata", NULL, NULL),
		     2);
	cr_assert_eq(value_of(&e, "kafka_conntrace_requests_total", "api",
			      "Unknown", NULL, NULL),
		     1);
	cr_assert_eq(value_of(&e, "kafka_conntrace_connections_open", "role",
			      "bootstrap", "broker", "bootstrap"),
		     1);
	cr_assert_eq(value_of(&e, "kafka_conntrace_connections_open", "role",
			      "data", "broker", "1"),
		     1);
	cr_assert_eq(value_of(&e, "kafka_conntrace_connections_open", "role",
			      "coordinator", "broker", "1"),
		     1);
	cr_assert_eq(value_of(&e, "kafka_conntrace_requests_inflight", NULL,
			      NULL, NULL, NULL),
		     2);
	cr_assert_eq(value_of(&e,
			      "kafka_conntrace_upstream_connect_failures_total",
			      NULL, NULL, NULL, NULL),
		     2);
	cr_assert_eq(value_of(&e,
			      "kafka_conntrace_request_duration_seconds_bucket",
			      "api", "Metadata", "le", "0.0025"),
		     1);
	cr_assert_eq(value_of(&e,
			      "kafka_conntrace_request_duration_seconds_bucket",
			      "api", "Metadata", "le", "+Inf"),
		     2);
	cr_assert_eq(value_of(&e,
			      "kafka_conntrace_request_duration_seconds_bucket",
			      "api", "Produce", "le", "60"),
		     0, "a latency beyond every bucket counts in +Inf only");
	cr_assert_eq(value_of(&e, "kafka_conntrace_api_bytes_total", "api",
			      "Metadata", "direction", "response"),
		     600);
	cr_assert_eq(value_of(&e, "kafka_conntrace_decode_problems_total",
			      "direction", "request", "api", "Unknown"),
		     1);
	cr_assert_eq(value_of(&e, "kafka_conntrace_findings_total", "rule",
			      "idle.connection", NULL, NULL),
		     1);
	cr_assert_eq(value_of(&e, "kafka_conntrace_findings_total", "rule",
			      "exit.abrupt", NULL, NULL),
		     0, "every catalog rule is there, at 0");
	cr_assert_eq(value_of(&e, "kafka_conntrace_findings_total", "rule",
			      "not.in.the.catalog", NULL, NULL),
		     1);
	cr_assert_eq(value_of(&e, "kafka_conntrace_start_time_seconds", NULL,
			      NULL, NULL, NULL),
		     1000.5);
	free(e.v);
	free(text);

	/* Closed: the same totals, now from the closed connections. */
	rig_close(&r, boot, BY_CLIENT, "fin", "client_closed");
	rig_close(&r, data, BY_PROXY, "refused", "enforce.max_conns_session");
	text = render(&r.px);
	e = check_exposition(text);
	cr_assert_eq(value_of(&e, "kafka_conntrace_requests_total", "api",
			      "Metadata", NULL, NULL),
		     2);
	cr_assert_eq(value_of(&e, "kafka_conntrace_requests_total", "api",
			      "Produce", NULL, NULL),
		     5);
	cr_assert_eq(value_of(&e, "kafka_conntrace_bytes_total", "direction",
			      "from_client", NULL, NULL),
		     5100);
	cr_assert_eq(value_of(&e, "kafka_conntrace_connections_closed_total",
			      "role", "data", "reason",
			      "enforce.max_conns_session"),
		     1);
	cr_assert_eq(value_of(&e, "kafka_conntrace_connections_closed_total",
			      "role", "bootstrap", "how", "fin"),
		     1);
	cr_assert_eq(
		value_of(&e,
			 "kafka_conntrace_connection_duration_seconds_count",
			 "role", "bootstrap", NULL, NULL),
		1);
	cr_assert_eq(value_of(&e,
			      "kafka_conntrace_connection_duration_seconds_sum",
			      "role", "data", NULL, NULL),
		     10);
	cr_assert_eq(value_of(&e, "kafka_conntrace_connections_opened_total",
			      "listener", "broker", NULL, NULL),
		     2);
	cr_assert(isnan(value_of(&e, "kafka_conntrace_client_connections_open",
				 NULL, NULL, NULL, NULL)),
		  "no client labels unless asked");
	cr_assert_eq(metrics_closed_count(r.px.metrics), 2);
	cr_assert_str_eq(metrics_closed_at(r.px.metrics, 1)->role, "data");
	cr_assert_eq(metrics_finding_count(r.px.metrics), 2);
	cr_assert(metrics_upstream_ok(&r.px));
	free(e.v);
	free(text);
	rig_free(&r);
}

/* With client_labels, hostile client ids come out escaped, valid UTF-8
 * and short. */
Test(metrics, client_labels)
{
	struct metrics_config mc;
	struct rig r;
	struct session *sv[1] = {&r.s};
	struct exposition e;
	char *text;

	metrics_config_defaults(&mc);
	mc.client_labels = true;
	rig_init(&r, &mc);
	r.s.id = 1;
	r.s.open_conns = 2;
	r.s.total_conns = 7;
	snprintf(r.s.key, sizeof(r.s.key), "10.0.0.1|ev\"il\\\nid\xff|sw|x");
	r.px.sessions = sv;
	r.px.n_sessions = 1;
	text = render(&r.px);
	e = check_exposition(text);
	cr_assert_eq(value_of(&e, "kafka_conntrace_client_connections_total",
			      "client_id", "ev\"il\\\nid\xef\xbf\xbd|sw",
			      "software", "x"),
		     7);
	cr_assert_eq(value_of(&e, "kafka_conntrace_client_connections_open",
			      "client_addr", "10.0.0.1", NULL, NULL),
		     2);
	free(e.v);
	free(text);
	r.px.sessions = NULL;
	r.px.n_sessions = 0;
	rig_free(&r);
}

/* The rings keep the last N, and hold their own references. */
Test(metrics, rings_are_bounded)
{
	struct metrics_config mc;
	struct rig r;

	metrics_config_defaults(&mc);
	mc.closed_keep = 3;
	mc.findings_keep = 2;
	rig_init(&r, &mc);
	for (uint64_t id = 1; id <= 5; id++)
		rig_close(&r, rig_conn(&r, id, NULL), BY_CLIENT, "fin",
			  "client_closed");
	cr_assert_eq(metrics_closed_count(r.px.metrics), 3);
	cr_assert_eq(metrics_closed_at(r.px.metrics, 0)->id, 3);
	cr_assert_eq(metrics_closed_at(r.px.metrics, 2)->id, 5);
	cr_assert_null(metrics_closed_at(r.px.metrics, 3));
	for (int i = 0; i < 5; i++) {
		json_t *f =
			json_pack("{s:s, s:i}", "rule", "exit.abrupt", "n", i);

		metrics_on_finding(&r.px, f);
		json_decref(f);
	}
	cr_assert_eq(metrics_finding_count(r.px.metrics), 2);
	cr_assert_eq(json_integer_value(json_object_get(
			     metrics_finding_at(r.px.metrics, 0), "n")),
		     3);
	rig_free(&r);
}

Test(metrics, admin_options)
{
	struct metrics_config mc;
	char err[256];
	json_t *o;

	metrics_config_defaults(&mc);
	o = json_pack("{s:b, s:i, s:i}", "client_labels", 1, "findings_keep", 5,
		      "closed_keep", 0);
	cr_assert_eq(metrics_config_parse(&mc, o, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert(mc.client_labels);
	cr_assert_eq(mc.findings_keep, 5);
	cr_assert_eq(mc.closed_keep, 0);
	json_decref(o);
	o = json_pack("{s:s}", "client_labels", "yes");
	cr_assert_eq(metrics_config_parse(&mc, o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "client_labels"), "%s", err);
	json_decref(o);
	o = json_pack("{s:i}", "closed_keep", -1);
	cr_assert_eq(metrics_config_parse(&mc, o, err, sizeof(err)), -1);
	json_decref(o);
	o = json_pack("{s:i}", "clinet_labels", 1);
	cr_assert_eq(metrics_config_parse(&mc, o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown key \"clinet_labels\""), "%s", err);
	json_decref(o);
	cr_assert_eq(metrics_config_parse(&mc, NULL, err, sizeof(err)), 0);
}

Test(metrics, loopback_host_header)
{
	cr_assert(admin_host_is_loopback(NULL));
	cr_assert(admin_host_is_loopback("localhost"));
	cr_assert(admin_host_is_loopback("LOCALHOST:9999"));
	cr_assert(admin_host_is_loopback("127.0.0.1:80"));
	cr_assert(admin_host_is_loopback("127.8.9.10"));
	cr_assert(admin_host_is_loopback("[::1]:19099"));
	cr_assert(!admin_host_is_loopback("evil.example"));
	cr_assert(!admin_host_is_loopback("localhost.evil.example:80"));
	cr_assert(!admin_host_is_loopback("10.0.0.1:80"));
	cr_assert(!admin_host_is_loopback("[::2]:80"));
	cr_assert(!admin_host_is_loopback("[::1"));
	cr_assert(!admin_host_is_loopback("128.0.0.1"));
}

/* doc/admin.md lists every metric of the table, as
 * "| `kafka_conntrace_NAME` | TYPE | LABELS |", and no other. */
Test(metrics, documented_in_admin_md)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *text, *p;
	FILE *f;
	long n;
	size_t rows = 0;

	snprintf(path, sizeof(path), "%s/doc/admin.md", top ? top : ".");
	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s (set top_srcdir)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	for (int i = 0; i < M_COUNT; i++) {
		const struct metric_def *d = &metric_defs[i];
		char want[512], labels[128] = "";
		const char *l = d->labels;

		while (*l) {
			size_t k = strcspn(l, ",");

			snprintf(labels + strlen(labels),
				 sizeof(labels) - strlen(labels), "%s%.*s",
				 labels[0] ? ", " : "", (int)k, l);
			l += k + (l[k] == ',');
		}
		snprintf(want, sizeof(want),
			 "| `" METRICS_PREFIX "%s` | %s | %s |", d->name,
			 d->type == METRIC_COUNTER ? "counter"
			 : d->type == METRIC_GAUGE ? "gauge"
						   : "histogram",
			 labels[0] ? labels : "-");
		cr_assert_not_null(strstr(text, want), "%s lacks the row %s",
				   path, want);
	}
	for (p = strstr(text, "\n| `" METRICS_PREFIX); p;
	     p = strstr(p + 1, "\n| `" METRICS_PREFIX))
		rows++;
	cr_assert_eq(rows, M_COUNT, "%s has %zu metric rows, the table %d",
		     path, rows, M_COUNT);
	free(text);
}

/* --admin: off unless given; beyond loopback only with a token file. */
Test(metrics, admin_settings_validation)
{
	struct kc_config c;
	char err[512];
	char *off[] = {"kc",         "--listen", "127.0.0.1:1",
		       "--upstream", "b:1",      NULL};
	char *lo[] = {"kc",      "--listen", "127.0.0.1:1", "--upstream", "b:1",
		      "--admin", "[::1]:9",  "--web-root",  "/srv/web",   NULL};
	char *wild[] = {"kc",  "--listen", "127.0.0.1:1", "--upstream",
			"b:1", "--admin",  "0.0.0.0:9",   NULL};
	char *tok[] = {"kc",
		       "--listen",
		       "127.0.0.1:1",
		       "--upstream",
		       "b:1",
		       "--admin",
		       "0.0.0.0:9",
		       "--admin-token-file",
		       "/etc/kc.token",
		       NULL};

	cr_assert_eq(kc_config_from_args(&c, 5, off, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(c.admin_listen.port, 0);
	cr_assert_str_eq(c.web_root, "");
	kc_config_release(&c);
	cr_assert_eq(kc_config_from_args(&c, 9, lo, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_str_eq(c.admin_listen.host, "::1");
	cr_assert_str_eq(c.web_root, "/srv/web");
	kc_config_release(&c);
	cr_assert_eq(kc_config_from_args(&c, 7, wild, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--admin (\"admin_listen\") 0.0.0.0 is not a "
			      "loopback address: set --admin-token-file "
			      "(\"admin_token_file\") too");
	cr_assert_eq(kc_config_from_args(&c, 9, tok, err, sizeof(err)), 0, "%s",
		     err);
	kc_config_release(&c);
}
