/*
 * metrics: counters fed by the proxy's hooks, the rings of closed
 * connections and findings, and the Prometheus text exposition. Totals
 * that conn.close also reports (requests, bytes) are the sum of the closed
 * connections' final counts and the open connections' counts now, so they
 * agree with the event log to the unit.
 */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "evlog.h"
#include "kp_schema.h"
#include "proxy.h"
#include "rules.h"

#define METRIC_DEF(id, name, type, labels, help)                               \
	[id] = {name, METRIC_##type, labels, help},
const struct metric_def metric_defs[M_COUNT] = {METRICS_TABLE(METRIC_DEF)};
#undef METRIC_DEF

/* Upper bounds of the histogram buckets, in seconds. Requests: from a
 * local broker's sub-millisecond answer to a long Fetch poll or a
 * JoinGroup held for a rebalance. Connections: up to the idle timeouts
 * of Java (540 s) and brokers (600 s), and beyond. */
static const double req_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				     0.05,   0.1,   0.25,   0.5,   1,    2.5,
				     5,      10,    30,     60};
#define REQ_NB (sizeof(req_buckets) / sizeof(req_buckets[0]))
static const double life_buckets[] = {0.1, 1,    10,   60,    300,  540,
				      600, 1800, 3600, 21600, 86400};
#define LIFE_NB (sizeof(life_buckets) / sizeof(life_buckets[0]))

static const char *const roles[] = {"bootstrap", "data", "coordinator",
				    "other"};
#define N_ROLES (sizeof(roles) / sizeof(roles[0]))

#define CLOSED_ROWS_MAX 1024
#define OTHER_RULES_MAX 64

struct hist {
	uint64_t n;
	double sum;
	uint64_t *buckets; /* NB of them, not cumulative */
};

/* One label set of connections_closed_total. */
struct closed_row {
	char role[12], by[8], how[24], reason[48];
	uint64_t n;
};

struct metrics {
	struct metrics_config cfg;
	double start;
	uint64_t opened[3]; /* bootstrap, broker, transparent */

	struct closed_row *rows;
	size_t n_rows;
	uint64_t rows_dropped;

	/* final counts of closed connections */
	uint64_t closed_bytes[2];
	uint64_t *closed_requests; /* per API key; [kp_api_count]: unknown */
	uint64_t closed_failures;
	bool upstream_ok;

	uint64_t *api_bytes[2]; /* request, response; per API key + 1 */
	struct hist *req_hist;  /* per API key + 1 */
	uint64_t *req_buckets;
	struct hist life[N_ROLES + 1];
	uint64_t life_buckets[(N_ROLES + 1) * LIFE_NB];
	uint64_t *decode[2]; /* request, response; per API key + 1 */

	uint64_t *findings; /* per rules_catalog entry */
	struct {
		char rule[48];
		uint64_t n;
	} other_rules[OTHER_RULES_MAX];
	size_t n_other_rules;

	struct metrics_closed *closed; /* ring of cfg.closed_keep */
	size_t closed_head, closed_len;
	json_t **found; /* ring of cfg.findings_keep */
	size_t found_head, found_len;
};

/* ---- configuration ---- */

void metrics_config_defaults(struct metrics_config *cfg)
{
	cfg->client_labels = false;
	cfg->findings_keep = 200;
	cfg->closed_keep = 1000;
}

static int keep_parse(const char *key, const json_t *v, size_t *out, char *err,
		      size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 100000) {
		snprintf(err, errlen,
			 "\"admin\": \"%s\" must be an integer 0..100000", key);
		return -1;
	}
	*out = (size_t)json_integer_value(v);
	return 0;
}

int metrics_config_parse(struct metrics_config *cfg, const json_t *admin,
			 char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (!admin)
		return 0;
	json_object_foreach((json_t *)admin, key, v)
	{
		if (!strcmp(key, "client_labels")) {
			if (!json_is_boolean(v)) {
				snprintf(err, errlen,
					 "\"admin\": \"client_labels\" must be "
					 "true or false");
				return -1;
			}
			cfg->client_labels = json_is_true(v);
		} else if (!strcmp(key, "findings_keep")) {
			if (keep_parse(key, v, &cfg->findings_keep, err,
				       errlen))
				return -1;
		} else if (!strcmp(key, "closed_keep")) {
			if (keep_parse(key, v, &cfg->closed_keep, err, errlen))
				return -1;
		} else {
			snprintf(err, errlen,
				 "\"admin\": unknown key \"%.64s\" (known: "
				 "client_labels, findings_keep, closed_keep)",
				 key);
			return -1;
		}
	}
	return 0;
}

/* ---- life ---- */

static size_t n_apis(void)
{
	return (size_t)kp_api_count + 1; /* the last one: unknown keys */
}

static size_t api_index(int16_t key)
{
	return key >= 0 && key < kp_api_count ? (size_t)key
					      : (size_t)kp_api_count;
}

static const char *api_label(size_t i)
{
	return i < (size_t)kp_api_count ? kp_api_name((int16_t)i) : "Unknown";
}

struct metrics *metrics_new(const struct metrics_config *cfg, double start)
{
	struct metrics *m = calloc(1, sizeof(*m));
	size_t na = n_apis();

	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->start = start;
	m->rows = calloc(CLOSED_ROWS_MAX, sizeof(*m->rows));
	m->closed_requests = calloc(na, sizeof(uint64_t));
	m->req_hist = calloc(na, sizeof(struct hist));
	m->req_buckets = calloc(na * REQ_NB, sizeof(uint64_t));
	m->findings = calloc(rules_catalog_len + 1, sizeof(uint64_t));
	for (int d = 0; d < 2; d++) {
		m->api_bytes[d] = calloc(na, sizeof(uint64_t));
		m->decode[d] = calloc(na, sizeof(uint64_t));
	}
	if (cfg->closed_keep)
		m->closed = calloc(cfg->closed_keep, sizeof(*m->closed));
	if (cfg->findings_keep)
		m->found = calloc(cfg->findings_keep, sizeof(*m->found));
	if (!m->rows || !m->closed_requests || !m->req_hist ||
	    !m->req_buckets || !m->findings || !m->api_bytes[0] ||
	    !m->api_bytes[1] || !m->decode[0] || !m->decode[1] ||
	    (cfg->closed_keep && !m->closed) ||
	    (cfg->findings_keep && !m->found)) {
		metrics_free(m);
		return NULL;
	}
	for (size_t i = 0; i < na; i++)
		m->req_hist[i].buckets = &m->req_buckets[i * REQ_NB];
	for (size_t r = 0; r <= N_ROLES; r++)
		m->life[r].buckets = &m->life_buckets[r * LIFE_NB];
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->found_len; i++)
		json_decref(
			m->found[(m->found_head + i) % m->cfg.findings_keep]);
	free(m->found);
	free(m->closed);
	free(m->rows);
	free(m->closed_requests);
	free(m->req_hist);
	free(m->req_buckets);
	free(m->findings);
	for (int d = 0; d < 2; d++) {
		free(m->api_bytes[d]);
		free(m->decode[d]);
	}
	free(m);
}

/* ---- hooks ---- */

static double tv_secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void hist_add(struct hist *h, const double *bounds, size_t nb, double v)
{
	size_t i = 0;

	while (i < nb && v > bounds[i])
		i++;
	if (i < nb)
		h->buckets[i]++;
	h->n++;
	h->sum += v;
}

static size_t role_index(const char *role)
{
	for (size_t i = 0; i < N_ROLES; i++)
		if (!strcmp(roles[i], role))
			return i;
	return N_ROLES;
}

void metrics_on_open(struct proxy *px, const struct conn *c)
{
	struct metrics *m = px->metrics;

	if (!m)
		return;
	m->opened[c->transparent ? 2 : c->broker ? 1 : 0]++;
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void count_closed(struct metrics *m, const char *role, const char *by,
			 const char *how, const char *reason)
{
	struct closed_row *r;

	for (size_t i = 0; i < m->n_rows; i++) {
		r = &m->rows[i];
		if (!strcmp(r->role, role) && !strcmp(r->by, by) &&
		    !strcmp(r->how, how) && !strcmp(r->reason, reason)) {
			r->n++;
			return;
		}
	}
	if (m->n_rows == CLOSED_ROWS_MAX) {
		m->rows_dropped++; /* impossible with the reasons there are */
		return;
	}
	r = &m->rows[m->n_rows++];
	copy(r->role, sizeof(r->role), role);
	copy(r->by, sizeof(r->by), by);
	copy(r->how, sizeof(r->how), how);
	copy(r->reason, sizeof(r->reason), reason);
	r->n = 1;
}

static const char *by_name(enum conn_by by)
{
	switch (by) {
	case BY_CLIENT:
		return "client";
	case BY_BROKER:
		return "broker";
	case BY_PROXY:
		return "proxy";
	default:
		return "none";
	}
}

static const char *mode_name(enum conn_state s)
{
	switch (s) {
	case CONN_CONNECTING:
		return "connecting";
	case CONN_ACTIVE:
		return "active";
	case CONN_SASL_RAW:
		return "sasl_raw";
	case CONN_OPAQUE:
		return "opaque";
	default:
		return "closed";
	}
}

static uint64_t conn_requests(const struct conn *c)
{
	uint64_t n = c->req_unknown;

	for (int16_t k = 0; k < kp_api_count; k++)
		n += c->req_count[k];
	return n;
}

static int connect_failed(const struct conn *c)
{
	return c->how && (!strcmp(c->how, "connect_failed") ||
			  !strcmp(c->how, "connect_timeout"));
}

void metrics_on_close(struct proxy *px, const struct conn *c)
{
	struct metrics *m = px->metrics;
	struct metrics_closed *r;
	int32_t node_id;
	const char *role;
	double now = proxy_now(px), opened = tv_secs(&c->opened);

	if (!m)
		return;
	role = conn_role(c, &node_id);
	count_closed(m, role, by_name(c->closed_by), c->how ? c->how : "",
		     c->reason ? c->reason : "");
	hist_add(&m->life[role_index(role)], life_buckets, LIFE_NB,
		 now - opened);
	m->closed_bytes[0] += c->cli.bytes;
	m->closed_bytes[1] += c->up.bytes;
	for (int16_t k = 0; k < kp_api_count; k++)
		m->closed_requests[k] += c->req_count[k];
	m->closed_requests[kp_api_count] += c->req_unknown;
	if (c->up_attempts > 0)
		m->closed_failures += (uint64_t)(c->up_attempts - 1) +
				      (connect_failed(c) ? 1 : 0);
	if (c->connected.tv_sec)
		m->upstream_ok = true;
	if (!m->cfg.closed_keep)
		return;
	if (m->closed_len == m->cfg.closed_keep) {
		m->closed_head = (m->closed_head + 1) % m->cfg.closed_keep;
		m->closed_len--;
	}
	r = &m->closed[(m->closed_head + m->closed_len++) % m->cfg.closed_keep];
	memset(r, 0, sizeof(*r));
	r->id = c->id;
	r->session = c->session ? c->session->id : 0;
	r->broker = c->broker ? c->broker->id : -1;
	r->node_id = node_id;
	r->pid = c->pid;
	r->peer_port = c->peer_port;
	r->opened = opened;
	r->closed = now;
	r->idle_since = c->quiet ? tv_secs(&c->quiet_since) : 0;
	r->max_idle_s = c->max_idle_s;
	if (c->quiet && now - r->idle_since > r->max_idle_s)
		r->max_idle_s = now - r->idle_since;
	r->bytes_from_client = c->cli.bytes;
	r->bytes_from_broker = c->up.bytes;
	r->requests = conn_requests(c);
	r->inflight = c->q_len;
	copy(r->role, sizeof(r->role), role);
	copy(r->mode, sizeof(r->mode), mode_name(c->state));
	copy(r->closed_by, sizeof(r->closed_by), by_name(c->closed_by));
	copy(r->how, sizeof(r->how), c->how);
	copy(r->reason, sizeof(r->reason), c->reason);
	copy(r->peer_ip, sizeof(r->peer_ip), c->peer_ip);
	copy(r->client_id, sizeof(r->client_id), c->client_id);
	copy(r->sw_name, sizeof(r->sw_name), c->sw_name);
	copy(r->sw_version, sizeof(r->sw_version), c->sw_version);
}

void metrics_on_response(struct proxy *px, const struct conn *c,
			 int16_t api_key, uint32_t request_bytes,
			 double latency_s, size_t response_bytes)
{
	struct metrics *m = px->metrics;
	size_t i = api_index(api_key);

	if (!m)
		return;
	m->api_bytes[0][i] += request_bytes;
	m->api_bytes[1][i] += response_bytes;
	hist_add(&m->req_hist[i], req_buckets, REQ_NB,
		 latency_s < 0 ? 0 : latency_s);
}

void metrics_on_decode_problem(struct proxy *px, const char *direction,
			       int16_t api_key)
{
	struct metrics *m = px->metrics;

	if (!m)
		return;
	m->decode[strcmp(direction, "request") ? 1 : 0][api_index(api_key)]++;
}

void metrics_on_finding(struct proxy *px, json_t *finding)
{
	struct metrics *m = px->metrics;
	const char *rule;
	size_t i;

	if (!m)
		return;
	rule = json_string_value(json_object_get(finding, "rule"));
	if (!rule)
		rule = "";
	for (i = 0; i < rules_catalog_len; i++)
		if (!strcmp(rules_catalog[i].id, rule))
			break;
	if (i < rules_catalog_len) {
		m->findings[i]++;
	} else {
		for (i = 0; i < m->n_other_rules; i++)
			if (!strcmp(m->other_rules[i].rule, rule))
				break;
		if (i == m->n_other_rules && i < OTHER_RULES_MAX)
			copy(m->other_rules[m->n_other_rules++].rule,
			     sizeof(m->other_rules[0].rule), rule);
		if (i < m->n_other_rules)
			m->other_rules[i].n++;
	}
	if (!m->cfg.findings_keep)
		return;
	if (m->found_len == m->cfg.findings_keep) {
		json_decref(m->found[m->found_head]);
		m->found_head = (m->found_head + 1) % m->cfg.findings_keep;
		m->found_len--;
	}
	m->found[(m->found_head + m->found_len++) % m->cfg.findings_keep] =
		json_incref(finding);
}

void metrics_note_upstream_ok(struct metrics *m)
{
	if (m)
		m->upstream_ok = true;
}

bool metrics_upstream_ok(const struct proxy *px)
{
	const struct conn *c;

	if (px->metrics && px->metrics->upstream_ok)
		return true;
	TAILQ_FOREACH(c, &px->conns, link)
	if (c->connected.tv_sec)
		return true;
	return false;
}

const struct metrics_closed *metrics_closed_at(const struct metrics *m,
					       size_t i)
{
	if (!m || i >= m->closed_len)
		return NULL;
	return &m->closed[(m->closed_head + i) % m->cfg.closed_keep];
}

size_t metrics_closed_count(const struct metrics *m)
{
	return m ? m->closed_len : 0;
}

json_t *metrics_finding_at(const struct metrics *m, size_t i)
{
	if (!m || i >= m->found_len)
		return NULL;
	return m->found[(m->found_head + i) % m->cfg.findings_keep];
}

size_t metrics_finding_count(const struct metrics *m)
{
	return m ? m->found_len : 0;
}

/* ---- the exposition format ---- */

void metrics_format_value(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(buf, len, "%.0f", v);
	else
		/* The shortest form that reads back as the same double. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, len, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
}

/* Bytes of the UTF-8 sequence at s (n bytes left), or 0 if it is not
 * one: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t want;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		want = 2;
	else if (c >= 0xe0 && c <= 0xef)
		want = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		want = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < want || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < want; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return want;
}

void metrics_escape_label(const char *in, struct evbuffer *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), i = 0;

	while (i < n) {
		size_t k = utf8_len(s + i, n - i);

		if (i + (k ? k : 1) > METRICS_LABEL_MAX) {
			evbuffer_add(out, "...", 3);
			return;
		}
		if (k == 0) {
			evbuffer_add(out, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
		} else if (s[i] == '\\') {
			evbuffer_add(out, "\\\\", 2);
			i++;
		} else if (s[i] == '"') {
			evbuffer_add(out, "\\\"", 2);
			i++;
		} else if (s[i] == '\n') {
			evbuffer_add(out, "\\n", 2);
			i++;
		} else {
			evbuffer_add(out, s + i, k);
			i += k;
		}
	}
}

void metrics_escape_help(const char *in, struct evbuffer *out)
{
	for (; *in; in++) {
		if (*in == '\\')
			evbuffer_add(out, "\\\\", 2);
		else if (*in == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, in, 1);
	}
}

static const char *type_name(enum metric_type t)
{
	return t == METRIC_COUNTER ? "counter"
	       : t == METRIC_GAUGE ? "gauge"
				   : "histogram";
}

void metrics_write_family(struct evbuffer *out, enum metric_id id)
{
	const struct metric_def *d = &metric_defs[id];

	evbuffer_add_printf(out, "# HELP " METRICS_PREFIX "%s ", d->name);
	metrics_escape_help(d->help, out);
	evbuffer_add_printf(out, "\n# TYPE " METRICS_PREFIX "%s %s\n", d->name,
			    type_name(d->type));
}

void metrics_write_sample(struct evbuffer *out, enum metric_id id,
			  const char *suffix, const char *const *values,
			  const char *le, double v)
{
	const struct metric_def *d = &metric_defs[id];
	const char *p = d->labels;
	char num[40];
	int n = 0;

	evbuffer_add_printf(out, METRICS_PREFIX "%s%s", d->name, suffix);
	while (*p) {
		size_t len = strcspn(p, ",");

		evbuffer_add_printf(out, "%s%.*s=\"", n ? "," : "{", (int)len,
				    p);
		metrics_escape_label(values[n++], out);
		evbuffer_add(out, "\"", 1);
		p += len;
		if (*p == ',')
			p++;
	}
	if (le)
		evbuffer_add_printf(out, "%sle=\"%s\"", n ? "," : "{", le);
	if (n || le)
		evbuffer_add(out, "}", 1);
	metrics_format_value(v, num, sizeof(num));
	evbuffer_add_printf(out, " %s\n", num);
}

static void write_hist(struct evbuffer *out, enum metric_id id,
		       const char *const *values, const struct hist *h,
		       const double *bounds, size_t nb)
{
	uint64_t cum = 0;
	char le[32];

	for (size_t i = 0; i < nb; i++) {
		cum += h->buckets[i];
		snprintf(le, sizeof(le), "%g", bounds[i]);
		metrics_write_sample(out, id, "_bucket", values, le,
				     (double)cum);
	}
	metrics_write_sample(out, id, "_bucket", values, "+Inf", (double)h->n);
	metrics_write_sample(out, id, "_sum", values, NULL, h->sum);
	metrics_write_sample(out, id, "_count", values, NULL, (double)h->n);
}

/* The broker label of an open connection. */
static void broker_label(const struct conn *c, const char *role,
			 int32_t node_id, char *buf, size_t len)
{
	if (c->broker)
		snprintf(buf, len, "%d", (int)c->broker->id);
	else if (!strcmp(role, "bootstrap"))
		snprintf(buf, len, "bootstrap");
	else if (!strcmp(role, "coordinator") && node_id >= 0)
		snprintf(buf, len, "%d", (int)(INT32_MAX - node_id));
	else if (node_id >= 0)
		snprintf(buf, len, "%d", (int)node_id);
	else
		snprintf(buf, len, "unknown");
}

/* Client connections open by (role, broker). */
static void render_open(const struct proxy *px, struct evbuffer *out)
{
	struct {
		const char *role;
		char broker[16];
		uint64_t n;
	} * rows;
	size_t n_rows = 0, cap = (px->n_brokers + 2) * 5, i;
	const struct conn *c;

	metrics_write_family(out, M_CONNS_OPEN);
	rows = calloc(cap, sizeof(*rows));
	if (!rows)
		return;
	TAILQ_FOREACH(c, &px->conns, link)
	{
		int32_t node_id;
		const char *role = conn_role(c, &node_id);
		char b[16];

		broker_label(c, role, node_id, b, sizeof(b));
		for (i = 0; i < n_rows; i++)
			if (!strcmp(rows[i].role, role) &&
			    !strcmp(rows[i].broker, b))
				break;
		if (i == n_rows) {
			if (n_rows == cap)
				continue; /* unknown brokers, transparent */
			rows[i].role = role;
			snprintf(rows[i].broker, sizeof(rows[i].broker), "%s",
				 b);
			rows[i].n = 0;
			n_rows++;
		}
		rows[i].n++;
	}
	for (i = 0; i < n_rows; i++) {
		const char *v[] = {rows[i].role, rows[i].broker};

		metrics_write_sample(out, M_CONNS_OPEN, "", v, NULL,
				     (double)rows[i].n);
	}
	free(rows);
}

/* A session key is "addr|client id|software name". */
static void session_labels(const struct session *s, char *addr, size_t al,
			   char *cid, size_t cl, char *sw, size_t sl)
{
	const char *first = strchr(s->key, '|');
	const char *last = strrchr(s->key, '|');

	if (!first || first == last) {
		snprintf(addr, al, "%.63s", s->key);
		cid[0] = sw[0] = '\0';
		return;
	}
	snprintf(addr, al, "%.*s", (int)(first - s->key), s->key);
	snprintf(cid, cl, "%.*s", (int)(last - first - 1), first + 1);
	snprintf(sw, sl, "%s", last + 1);
}

/* Per client session: the family always, samples only when asked for
 * (client ids are unbounded). */
static void render_clients(const struct proxy *px, struct evbuffer *out,
			   bool samples)
{
	for (int pass = 0; pass < 2; pass++) {
		enum metric_id id = pass ? M_CLIENT_CONNS : M_CLIENT_OPEN;

		metrics_write_family(out, id);
		for (size_t i = 0; samples && i < px->n_sessions; i++) {
			const struct session *s = px->sessions[i];
			char addr[64], cid[320], sw[320];
			const char *v[] = {addr, cid, sw};

			session_labels(s, addr, sizeof(addr), cid, sizeof(cid),
				       sw, sizeof(sw));
			metrics_write_sample(out, id, "", v, NULL,
					     pass ? (double)s->total_conns
						  : (double)s->open_conns);
		}
	}
}

void metrics_render(const struct proxy *px, struct evbuffer *out)
{
	const struct metrics *m = px->metrics;
	const struct conn *c;
	uint64_t bytes[2] = {0, 0}, inflight = 0, failures = 0;
	uint64_t *requests;
	size_t na = n_apis(), i;
	uint64_t brokers = 0;

	if (!m)
		return;
	requests = calloc(na, sizeof(uint64_t));
	if (!requests)
		return;
	memcpy(requests, m->closed_requests, na * sizeof(uint64_t));
	bytes[0] = m->closed_bytes[0];
	bytes[1] = m->closed_bytes[1];
	failures = m->closed_failures;
	TAILQ_FOREACH(c, &px->conns, link)
	{
		bytes[0] += c->cli.bytes;
		bytes[1] += c->up.bytes;
		inflight += c->q_len;
		for (int16_t k = 0; k < kp_api_count; k++)
			requests[k] += c->req_count[k];
		requests[kp_api_count] += c->req_unknown;
		if (c->up_attempts > 1)
			failures += (uint64_t)(c->up_attempts - 1);
	}

	metrics_write_family(out, M_START_TIME);
	metrics_write_sample(out, M_START_TIME, "", NULL, NULL, m->start);

	render_open(px, out);

	metrics_write_family(out, M_CONNS_OPENED);
	{
		static const char *const kinds[] = {"bootstrap", "broker",
						    "transparent"};

		for (i = 0; i < 3; i++)
			if (i < 2 || m->opened[i])
				metrics_write_sample(out, M_CONNS_OPENED, "",
						     &kinds[i], NULL,
						     (double)m->opened[i]);
	}

	metrics_write_family(out, M_CONNS_CLOSED);
	for (i = 0; i < m->n_rows; i++) {
		const struct closed_row *r = &m->rows[i];
		const char *v[] = {r->role, r->by, r->how, r->reason};

		metrics_write_sample(out, M_CONNS_CLOSED, "", v, NULL,
				     (double)r->n);
	}

	metrics_write_family(out, M_CONN_DURATION);
	for (i = 0; i <= N_ROLES; i++) {
		const char *v[] = {i < N_ROLES ? roles[i] : "unknown"};

		if (i < N_ROLES || m->life[i].n)
			write_hist(out, M_CONN_DURATION, v, &m->life[i],
				   life_buckets, LIFE_NB);
	}

	metrics_write_family(out, M_BYTES);
	{
		const char *v0[] = {"from_client"}, *v1[] = {"from_broker"};

		metrics_write_sample(out, M_BYTES, "", v0, NULL,
				     (double)bytes[0]);
		metrics_write_sample(out, M_BYTES, "", v1, NULL,
				     (double)bytes[1]);
	}

	metrics_write_family(out, M_API_BYTES);
	for (i = 0; i < na; i++) {
		for (int d = 0; d < 2; d++) {
			const char *v[] = {api_label(i),
					   d ? "response" : "request"};

			if (m->req_hist[i].n)
				metrics_write_sample(
					out, M_API_BYTES, "", v, NULL,
					(double)m->api_bytes[d][i]);
		}
	}

	metrics_write_family(out, M_REQUESTS);
	for (i = 0; i < na; i++) {
		const char *v[] = {api_label(i)};

		if (requests[i])
			metrics_write_sample(out, M_REQUESTS, "", v, NULL,
					     (double)requests[i]);
	}
	free(requests);

	metrics_write_family(out, M_REQ_DURATION);
	for (i = 0; i < na; i++) {
		const char *v[] = {api_label(i)};

		if (m->req_hist[i].n)
			write_hist(out, M_REQ_DURATION, v, &m->req_hist[i],
				   req_buckets, REQ_NB);
	}

	metrics_write_family(out, M_INFLIGHT);
	metrics_write_sample(out, M_INFLIGHT, "", NULL, NULL, (double)inflight);

	metrics_write_family(out, M_FINDINGS);
	for (i = 0; i < rules_catalog_len; i++) {
		const char *v[] = {rules_catalog[i].id};

		metrics_write_sample(out, M_FINDINGS, "", v, NULL,
				     (double)m->findings[i]);
	}
	for (i = 0; i < m->n_other_rules; i++) {
		const char *v[] = {m->other_rules[i].rule};

		metrics_write_sample(out, M_FINDINGS, "", v, NULL,
				     (double)m->other_rules[i].n);
	}

	metrics_write_family(out, M_DECODE_PROBLEMS);
	for (int d = 0; d < 2; d++)
		for (i = 0; i < na; i++) {
			const char *v[] = {d ? "response" : "request",
					   api_label(i)};

			if (m->decode[d][i])
				metrics_write_sample(out, M_DECODE_PROBLEMS, "",
						     v, NULL,
						     (double)m->decode[d][i]);
		}

	metrics_write_family(out, M_LISTENERS);
	for (i = 0; i < px->n_brokers; i++)
		brokers += px->brokers[i]->lst != NULL;
	{
		const char *v0[] = {"bootstrap"}, *v1[] = {"broker"};

		metrics_write_sample(out, M_LISTENERS, "", v0, NULL,
				     px->bootstrap ? 1 : 0);
		metrics_write_sample(out, M_LISTENERS, "", v1, NULL,
				     (double)brokers);
	}

	metrics_write_family(out, M_CONNECT_FAILURES);
	metrics_write_sample(out, M_CONNECT_FAILURES, "", NULL, NULL,
			     (double)failures);

	metrics_write_family(out, M_SESSIONS);
	metrics_write_sample(out, M_SESSIONS, "", NULL, NULL,
			     (double)px->n_sessions);

	metrics_write_family(out, M_LOG_DROPPED);
	metrics_write_sample(out, M_LOG_DROPPED, "", NULL, NULL,
			     px->log ? (double)evlog_dropped(px->log) : 0);

	render_clients(px, out, m->cfg.client_labels);
}
