/*
 * admin: the admin HTTP server. Every handler runs on the proxy's loop
 * and only reads its state: /healthz, /readyz, /metrics, /api/... and the
 * live page's files under web_root. A bearer token, when configured, is
 * required for everything but those static files (they hold no data).
 */
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_paths.h"
#include "conn.h"
#include "evlog.h"
#include "metrics.h"
#include "proxy.h"

#define TOKEN_MAX     256
#define WEB_FILE_MAX  (4 * 1024 * 1024)
#define PROBE_EVERY_S 2

struct admin {
	struct proxy *px;
	struct evhttp *http;
	char token[TOKEN_MAX];
	size_t token_len;
	char web_root[KC_PATH_MAX];
	/* Readiness: until a connection to a broker has succeeded, try one
	 * every PROBE_EVERY_S seconds, so that /readyz does not wait for
	 * the first client. */
	struct event *probe;
	struct bufferevent *probe_bev;
	int probe_next;
};

/* ---- the token ---- */

static int token_read(struct admin *a, const char *path, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[TOKEN_MAX + 2];
	size_t n;

	if (!f) {
		snprintf(err, errlen, "admin token file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= TOKEN_MAX) {
		snprintf(err, errlen,
			 "admin token file %s: the first line must hold a "
			 "token of 1 to %d characters",
			 path, TOKEN_MAX - 1);
		return -1;
	}
	memcpy(a->token, line, n);
	a->token[n] = '\0';
	a->token_len = n;
	return 0;
}

/* Compare in time that does not depend on where the strings differ. */
static int token_ok(const struct admin *a, const char *hdr)
{
	const char *t;
	size_t n;
	unsigned char diff = 0;

	if (!hdr || strncasecmp(hdr, "Bearer ", 7))
		return 0;
	t = hdr + 7;
	while (*t == ' ')
		t++;
	n = strlen(t);
	for (size_t i = 0; i < a->token_len; i++)
		diff |= (unsigned char)a->token[i] ^
			(unsigned char)(i < n ? t[i] : 0);
	return diff == 0 && n == a->token_len;
}

int admin_host_is_loopback(const char *host)
{
	char h[256];
	const char *end;
	size_t n;
	struct in_addr a4;
	struct in6_addr a6;

	if (!host)
		return 1; /* HTTP/1.0: no Host, no rebinding */
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':'))
			return 0;
		host++;
	} else {
		end = strchr(host, ':');
		if (!end)
			end = host + strlen(host);
	}
	n = (size_t)(end - host);
	if (n >= sizeof(h))
		return 0;
	memcpy(h, host, n);
	h[n] = '\0';
	if (!strcasecmp(h, "localhost"))
		return 1;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* ---- replies ---- */

static void common_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

static void reply_text(struct evhttp_request *req, int code, const char *reason,
		       const char *text)
{
	struct evbuffer *b = evbuffer_new();

	common_headers(req, "text/plain; charset=utf-8");
	if (b)
		evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, reason, b);
	if (b)
		evbuffer_free(b);
}

/* Send root (stolen) as the JSON body. */
static void reply_json(struct evhttp_request *req, int code, const char *reason,
		       json_t *root)
{
	struct evbuffer *b = evbuffer_new();
	char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(root);
	common_headers(req, "application/json");
	if (b && s) {
		evbuffer_add(b, s, strlen(s));
		evbuffer_add(b, "\n", 1);
	}
	free(s);
	evhttp_send_reply(req, s ? code : 500, s ? reason : "Internal Error",
			  b);
	if (b)
		evbuffer_free(b);
}

static void reply_error(struct evhttp_request *req, int code,
			const char *reason, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(msg));
	reply_json(req, code, reason, o);
}

/* ---- values ---- */

static double tv_secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static json_t *ts_json(double t)
{
	struct timeval tv;
	char buf[40];

	if (t <= 0)
		return json_null();
	/* A double holds these to a fraction of a microsecond: round. */
	tv.tv_sec = (time_t)floor(t);
	tv.tv_usec = (suseconds_t)llround((t - floor(t)) * 1e6);
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	evlog_ts(&tv, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

/* Seconds rounded to the microsecond, as the event log writes them. */
static json_t *secs_json(double s)
{
	return json_real(round(s * 1e6) / 1e6);
}

/* ---- filters ---- */

struct filter {
	const char *client; /* client id, exactly */
	const char *role;
	const char *rule;
	int has_broker;
	int32_t broker; /* -1: the bootstrap listener */
	double idle_gt; /* < 0: none */
	int state;      /* bit 1: open, bit 2: closed */
};

/* Parse the query of req into f; allowed names the keys the endpoint
 * takes. -1 with msg set on a bad one. */
static int filter_parse(struct evhttp_request *req, const char *allowed,
			struct evkeyvalq *q, struct filter *f, char *msg,
			size_t len)
{
	const char *query =
		evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyval *kv;

	memset(f, 0, sizeof(*f));
	f->idle_gt = -1;
	f->state = 1;
	TAILQ_INIT(q);
	if (!query)
		return 0;
	if (evhttp_parse_query_str(query, q) < 0) {
		snprintf(msg, len, "the query string does not parse");
		return -1;
	}
	TAILQ_FOREACH(kv, q, next)
	{
		char want[32];

		snprintf(want, sizeof(want), ",%s,", kv->key);
		if (strlen(kv->key) > 20 || !strstr(allowed, want)) {
			snprintf(msg, len,
				 "unknown filter \"%.20s\" (this endpoint "
				 "takes: %.*s)",
				 kv->key, (int)strlen(allowed) - 2,
				 allowed + 1);
			return -1;
		}
		if (!strcmp(kv->key, "client")) {
			f->client = kv->value;
		} else if (!strcmp(kv->key, "role")) {
			f->role = kv->value;
		} else if (!strcmp(kv->key, "rule")) {
			f->rule = kv->value;
		} else if (!strcmp(kv->key, "broker")) {
			char *end;
			long v;

			f->has_broker = 1;
			if (!strcmp(kv->value, "bootstrap")) {
				f->broker = -1;
				continue;
			}
			errno = 0;
			v = strtol(kv->value, &end, 10);
			if (!kv->value[0] || *end || errno || v < 0 ||
			    v > INT32_MAX) {
				snprintf(msg, len,
					 "broker must be a broker id or "
					 "\"bootstrap\"");
				return -1;
			}
			f->broker = (int32_t)v;
		} else if (!strcmp(kv->key, "idle_gt")) {
			char *end;

			f->idle_gt = strtod(kv->value, &end);
			if (!kv->value[0] || *end || !isfinite(f->idle_gt) ||
			    f->idle_gt < 0) {
				snprintf(msg, len,
					 "idle_gt must be a number of seconds "
					 ">= 0");
				return -1;
			}
		} else if (!strcmp(kv->key, "state")) {
			if (!strcmp(kv->value, "open"))
				f->state = 1;
			else if (!strcmp(kv->value, "closed"))
				f->state = 2;
			else if (!strcmp(kv->value, "all"))
				f->state = 3;
			else {
				snprintf(msg, len,
					 "state must be open, closed or all");
				return -1;
			}
		}
	}
	return 0;
}

/* What the filters look at, for an open or a closed connection. */
struct conn_view {
	const char *client_id, *role;
	int32_t broker; /* -1: bootstrap listener or none */
	double idle_s;
};

static int filter_match(const struct filter *f, const struct conn_view *v)
{
	if (f->client && strcmp(f->client, v->client_id))
		return 0;
	if (f->role && strcmp(f->role, v->role))
		return 0;
	if (f->has_broker && f->broker != v->broker)
		return 0;
	if (f->idle_gt >= 0 && !(v->idle_s > f->idle_gt))
		return 0;
	return 1;
}

static double open_idle(const struct conn *c, double now)
{
	return c->quiet ? now - tv_secs(&c->quiet_since) : 0;
}

static void view_open(const struct conn *c, double now, struct conn_view *v,
		      int32_t *node_id)
{
	v->client_id = c->client_id;
	v->role = conn_role(c, node_id);
	v->broker = c->broker ? c->broker->id : -1;
	v->idle_s = open_idle(c, now);
}

static void view_closed(const struct metrics_closed *r, struct conn_view *v)
{
	v->client_id = r->client_id;
	v->role = r->role;
	v->broker = r->broker;
	v->idle_s = r->idle_since > 0 ? r->closed - r->idle_since : 0;
}

static const char *listener_kind(const struct conn *c)
{
	return c->transparent ? "transparent"
	       : c->broker    ? "broker"
			      : "bootstrap";
}

/* ---- /api/connections ---- */

static json_t *conn_open_json(const struct conn *c, double now)
{
	json_t *o = json_object();
	struct conn_view v;
	int32_t node_id;
	double opened = tv_secs(&c->opened);

	view_open(c, now, &v, &node_id);
	json_object_set_new(o, "conn", json_integer((json_int_t)c->id));
	json_object_set_new(o, "state", json_string("open"));
	json_object_set_new(o, "mode",
			    json_string(c->state == CONN_CONNECTING
						? "connecting"
					: c->state == CONN_SASL_RAW ? "sasl_raw"
					: c->state == CONN_OPAQUE   ? "opaque"
								  : "active"));
	json_object_set_new(o, "session",
			    c->session ? json_integer(c->session->id)
				       : json_null());
	json_object_set_new(o, "client_id", str_or_null(c->client_id));
	json_object_set_new(o, "client_software_name", str_or_null(c->sw_name));
	json_object_set_new(o, "client_software_version",
			    str_or_null(c->sw_version));
	json_object_set_new(o, "client_addr", json_string(c->peer_ip));
	json_object_set_new(o, "client_port", json_integer(c->peer_port));
	if (c->pid >= 0) {
		json_object_set_new(o, "pid", json_integer(c->pid));
		json_object_set_new(o, "comm", json_string(c->comm));
	}
	json_object_set_new(o, "listener", json_string(listener_kind(c)));
	json_object_set_new(o, "broker_id",
			    c->broker ? json_integer(c->broker->id)
				      : json_null());
	json_object_set_new(o, "role", json_string(v.role));
	json_object_set_new(o, "client_node_id", json_integer(node_id));
	json_object_set_new(o, "opened", ts_json(opened));
	json_object_set_new(o, "opened_s", secs_json(opened));
	json_object_set_new(o, "duration_s", secs_json(now - opened));
	json_object_set_new(o, "idle_s", secs_json(v.idle_s));
	json_object_set_new(o, "idle_since",
			    c->quiet ? ts_json(tv_secs(&c->quiet_since))
				     : json_null());
	json_object_set_new(o, "idle_since_s",
			    c->quiet ? secs_json(tv_secs(&c->quiet_since))
				     : json_null());
	json_object_set_new(
		o, "max_idle_s",
		secs_json(v.idle_s > c->max_idle_s ? v.idle_s : c->max_idle_s));
	json_object_set_new(o, "inflight", json_integer(c->q_len));
	{
		uint64_t n = c->req_unknown;

		for (int16_t k = 0; k < kp_api_count; k++)
			n += c->req_count[k];
		json_object_set_new(o, "requests", json_integer((json_int_t)n));
	}
	json_object_set_new(o, "bytes_from_client",
			    json_integer((json_int_t)c->cli.bytes));
	json_object_set_new(o, "bytes_from_broker",
			    json_integer((json_int_t)c->up.bytes));
	return o;
}

static json_t *conn_closed_json(const struct metrics_closed *r)
{
	json_t *o = json_object();
	struct conn_view v;

	view_closed(r, &v);
	json_object_set_new(o, "conn", json_integer((json_int_t)r->id));
	json_object_set_new(o, "state", json_string("closed"));
	json_object_set_new(o, "mode", json_string(r->mode));
	json_object_set_new(o, "session",
			    r->session ? json_integer(r->session)
				       : json_null());
	json_object_set_new(o, "client_id", str_or_null(r->client_id));
	json_object_set_new(o, "client_software_name", str_or_null(r->sw_name));
	json_object_set_new(o, "client_software_version",
			    str_or_null(r->sw_version));
	json_object_set_new(o, "client_addr", json_string(r->peer_ip));
	json_object_set_new(o, "client_port", json_integer(r->peer_port));
	if (r->pid >= 0)
		json_object_set_new(o, "pid", json_integer(r->pid));
	json_object_set_new(
		o, "listener",
		json_string(r->broker >= 0 ? "broker" : "bootstrap"));
	json_object_set_new(o, "broker_id",
			    r->broker >= 0 ? json_integer(r->broker)
					   : json_null());
	json_object_set_new(o, "role", json_string(r->role));
	json_object_set_new(o, "client_node_id", json_integer(r->node_id));
	json_object_set_new(o, "opened", ts_json(r->opened));
	json_object_set_new(o, "opened_s", secs_json(r->opened));
	json_object_set_new(o, "closed", ts_json(r->closed));
	json_object_set_new(o, "closed_s", secs_json(r->closed));
	json_object_set_new(o, "duration_s", secs_json(r->closed - r->opened));
	json_object_set_new(o, "idle_s", secs_json(v.idle_s));
	json_object_set_new(o, "idle_since",
			    r->idle_since > 0 ? ts_json(r->idle_since)
					      : json_null());
	json_object_set_new(o, "idle_since_s",
			    r->idle_since > 0 ? secs_json(r->idle_since)
					      : json_null());
	json_object_set_new(o, "max_idle_s", secs_json(r->max_idle_s));
	json_object_set_new(o, "inflight", json_integer(r->inflight));
	json_object_set_new(o, "requests",
			    json_integer((json_int_t)r->requests));
	json_object_set_new(o, "bytes_from_client",
			    json_integer((json_int_t)r->bytes_from_client));
	json_object_set_new(o, "bytes_from_broker",
			    json_integer((json_int_t)r->bytes_from_broker));
	json_object_set_new(o, "closed_by", json_string(r->closed_by));
	json_object_set_new(o, "how", json_string(r->how));
	json_object_set_new(o, "reason", json_string(r->reason));
	return o;
}

static json_t *envelope(struct proxy *px)
{
	json_t *o = json_object();

	proxy_tick(px);
	json_object_set_new(o, "now", ts_json(proxy_now(px)));
	json_object_set_new(o, "now_s", secs_json(proxy_now(px)));
	return o;
}

static void api_connections(struct admin *a, struct evhttp_request *req,
			    const struct filter *f)
{
	struct proxy *px = a->px;
	json_t *root = envelope(px), *arr = json_array();
	double now = proxy_now(px);
	const struct conn *c;

	if (f->state & 2)
		for (size_t i = 0; i < metrics_closed_count(px->metrics); i++) {
			const struct metrics_closed *r =
				metrics_closed_at(px->metrics, i);
			struct conn_view v;

			view_closed(r, &v);
			if (filter_match(f, &v))
				json_array_append_new(arr, conn_closed_json(r));
		}
	if (f->state & 1)
		TAILQ_FOREACH(c, &px->conns, link)
		{
			struct conn_view v;
			int32_t node_id;

			view_open(c, now, &v, &node_id);
			if (filter_match(f, &v))
				json_array_append_new(arr,
						      conn_open_json(c, now));
		}
	json_object_set_new(root, "connections", arr);
	reply_json(req, 200, "OK", root);
}

/* ---- /api/clients ---- */

static void role_count(json_t *by_role, const char *role)
{
	json_t *v = json_object_get(by_role, role);

	json_object_set_new(by_role, role,
			    json_integer(v ? json_integer_value(v) + 1 : 1));
}

/* The index of session id in px->sessions (kept in ascending id order:
 * appended as created, compacted in order), or -1. */
static long session_index(const struct proxy *px, json_int_t id)
{
	size_t lo = 0, hi = px->n_sessions;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if ((json_int_t)px->sessions[mid]->id == id)
			return (long)mid;
		if ((json_int_t)px->sessions[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* What /api/clients says of one session beyond struct session. */
struct client_view {
	json_t *by_role;
	const char *sw_version;
	int matched;
	json_int_t findings;
};

static void api_clients(struct admin *a, struct evhttp_request *req,
			const struct filter *f)
{
	struct proxy *px = a->px;
	json_t *root = envelope(px), *arr = json_array();
	double now = proxy_now(px);
	int conn_filter = f->role || f->has_broker || f->idle_gt >= 0;
	struct client_view *cv = calloc(px->n_sessions + 1, sizeof(*cv));
	const struct conn *c;
	long k;

	if (!cv) {
		json_decref(root);
		json_decref(arr);
		reply_error(req, 500, "Internal Error", "out of memory");
		return;
	}
	/* One pass over each source, not one per session. */
	for (size_t i = 0; i < metrics_closed_count(px->metrics); i++) {
		const struct metrics_closed *r =
			metrics_closed_at(px->metrics, i);

		k = session_index(px, r->session);
		if (k >= 0 && r->sw_version[0])
			cv[k].sw_version = r->sw_version;
	}
	TAILQ_FOREACH(c, &px->conns, link)
	{
		struct conn_view v;
		int32_t node_id;

		if (!c->session || (k = session_index(px, c->session->id)) < 0)
			continue;
		view_open(c, now, &v, &node_id);
		if (!cv[k].by_role)
			cv[k].by_role = json_object();
		role_count(cv[k].by_role, v.role);
		if (c->sw_version[0])
			cv[k].sw_version = c->sw_version;
		cv[k].matched |= filter_match(f, &v);
	}
	for (size_t i = 0; i < metrics_finding_count(px->metrics); i++) {
		json_t *s = json_object_get(metrics_finding_at(px->metrics, i),
					    "session");

		if (json_is_integer(s) &&
		    (k = session_index(px, json_integer_value(s))) >= 0)
			cv[k].findings++;
	}
	for (size_t i = 0; i < px->n_sessions; i++) {
		const struct session *s = px->sessions[i];
		const char *first = strchr(s->key, '|');
		const char *last = strrchr(s->key, '|');
		char cid[320] = "", sw[320] = "", addr[64] = "";
		json_t *o;

		if (first && last > first) {
			snprintf(addr, sizeof(addr), "%.*s",
				 (int)(first - s->key), s->key);
			snprintf(cid, sizeof(cid), "%.*s",
				 (int)(last - first - 1), first + 1);
			snprintf(sw, sizeof(sw), "%s", last + 1);
		}
		if ((f->client && strcmp(f->client, cid)) ||
		    (conn_filter && !cv[i].matched)) {
			json_decref(cv[i].by_role);
			continue;
		}
		o = json_object();
		json_object_set_new(o, "session", json_integer(s->id));
		json_object_set_new(o, "client_addr", json_string(addr));
		json_object_set_new(o, "client_id", str_or_null(cid));
		json_object_set_new(o, "client_software_name", str_or_null(sw));
		json_object_set_new(o, "client_software_version",
				    str_or_null(cv[i].sw_version));
		json_object_set_new(o, "open_connections",
				    json_integer(s->open_conns));
		json_object_set_new(o, "total_connections",
				    json_integer((json_int_t)s->total_conns));
		json_object_set_new(o, "open_by_role",
				    cv[i].by_role ? cv[i].by_role
						  : json_object());
		json_object_set_new(o, "last_seen",
				    ts_json(tv_secs(&s->last_seen)));
		json_object_set_new(o, "findings",
				    json_integer(cv[i].findings));
		json_array_append_new(arr, o);
	}
	free(cv);
	json_object_set_new(root, "clients", arr);
	reply_json(req, 200, "OK", root);
}

/* ---- /api/brokers ---- */

static void api_brokers(struct admin *a, struct evhttp_request *req,
			const struct filter *f)
{
	struct proxy *px = a->px;
	json_t *root = envelope(px), *arr = json_array();
	json_t *boot = json_object(), *boot_roles = json_object();
	double now = proxy_now(px);
	const struct conn *c;
	json_int_t boot_n = 0;

	for (size_t i = 0; i < px->n_brokers; i++) {
		const struct broker *b = px->brokers[i];
		json_t *o, *by_role = json_object();
		json_int_t n = 0;

		if (f->has_broker && f->broker != b->id) {
			json_decref(by_role);
			continue;
		}
		TAILQ_FOREACH(c, &px->conns, link)
		{
			struct conn_view v;
			int32_t node_id;

			if (c->broker != b)
				continue;
			view_open(c, now, &v, &node_id);
			if (!filter_match(f, &v))
				continue;
			role_count(by_role, v.role);
			n++;
		}
		o = json_object();
		json_object_set_new(o, "broker_id", json_integer(b->id));
		json_object_set_new(o, "upstream_addr",
				    json_string(b->upstream.host));
		json_object_set_new(o, "upstream_port",
				    json_integer(b->upstream.port));
		json_object_set_new(o, "listening", json_boolean(b->lst));
		json_object_set_new(o, "listen_addr",
				    b->lst ? json_string(b->bind_addr)
					   : json_null());
		json_object_set_new(o, "listen_port",
				    b->lst ? json_integer(b->port)
					   : json_null());
		json_object_set_new(o, "open_connections", json_integer(n));
		json_object_set_new(o, "open_by_role", by_role);
		json_array_append_new(arr, o);
	}
	TAILQ_FOREACH(c, &px->conns, link)
	{
		struct conn_view v;
		int32_t node_id;

		if (c->broker)
			continue;
		view_open(c, now, &v, &node_id);
		if (!filter_match(f, &v))
			continue;
		role_count(boot_roles, v.role);
		boot_n++;
	}
	json_object_set_new(boot, "listen_addr",
			    json_string(px->bootstrap_addr));
	json_object_set_new(boot, "listen_port",
			    json_integer(px->cfg.listen.port));
	json_object_set_new(boot, "open_connections", json_integer(boot_n));
	json_object_set_new(boot, "open_by_role", boot_roles);
	json_object_set_new(root, "bootstrap", boot);
	json_object_set_new(root, "brokers", arr);
	reply_json(req, 200, "OK", root);
}

/* ---- /api/findings ---- */

static void api_findings(struct admin *a, struct evhttp_request *req,
			 const struct filter *f)
{
	struct proxy *px = a->px;
	json_t *root = envelope(px), *arr = json_array();

	for (size_t i = 0; i < metrics_finding_count(px->metrics); i++) {
		json_t *fd = metrics_finding_at(px->metrics, i);
		const char *cid =
			json_string_value(json_object_get(fd, "client_id"));
		const char *rule =
			json_string_value(json_object_get(fd, "rule"));
		json_t *ev = json_object_get(fd, "evidence");
		json_t *b = json_object_get(ev, "broker_id");

		if (f->client && (!cid || strcmp(f->client, cid)))
			continue;
		if (f->rule && (!rule || strcmp(f->rule, rule)))
			continue;
		if (f->has_broker &&
		    (!json_is_integer(b) || json_integer_value(b) != f->broker))
			continue;
		json_array_append(arr, fd);
	}
	json_object_set_new(root, "findings", arr);
	reply_json(req, 200, "OK", root);
}

/* ---- /api/status ---- */

static void api_status(struct admin *a, struct evhttp_request *req)
{
	struct proxy *px = a->px;
	json_t *root = envelope(px);

	json_object_set_new(root, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(root, "pid", json_integer(getpid()));
	json_object_set_new(root, "listen_addr",
			    json_string(px->bootstrap_addr));
	json_object_set_new(root, "listen_port",
			    json_integer(px->cfg.listen.port));
	json_object_set_new(root, "draining", json_boolean(px->draining));
	json_object_set_new(root, "ready",
			    json_boolean(px->bootstrap && !px->draining &&
					 metrics_upstream_ok(px)));
	json_object_set_new(root, "open_connections",
			    json_integer(px->n_conns));
	json_object_set_new(root, "sessions",
			    json_integer((json_int_t)px->n_sessions));
	json_object_set_new(root, "brokers",
			    json_integer((json_int_t)px->n_brokers));
	reply_json(req, 200, "OK", root);
}

/* ---- static files ---- */

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return NULL;
}

/* A file right under web_root, named with [A-Za-z0-9_-] and one known
 * extension: nothing else can be reached. */
static int web_serve(struct admin *a, struct evhttp_request *req,
		     const char *path)
{
	const char *name = !strcmp(path, "/") ? "index.html" : path + 1;
	const char *type = content_type(name);
	char file[KC_PATH_MAX + 64];
	struct evbuffer *b;
	struct stat st;
	int fd;

	if (!type ||
	    strspn(name,
		   "abcdefghijklmnopqrstuvwxyz"
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(name) ||
	    name[0] == '.' || strstr(name, ".."))
		return 0;
	snprintf(file, sizeof(file), "%s/%s", a->web_root, name);
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > WEB_FILE_MAX || !(b = evbuffer_new())) {
		close(fd);
		return 0;
	}
	common_headers(req, type);
	if (!strcmp(type, "text/html; charset=utf-8"))
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Content-Security-Policy",
				  "default-src 'self'; img-src 'self' data:; "
				  "frame-ancestors 'none'");
	if (st.st_size > 0)
		evbuffer_add_file(b, fd, 0, st.st_size);
	else
		close(fd);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
	return 1;
}

/* ---- dispatch ---- */

static void on_request(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	struct proxy *px = a->px;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evkeyvalq q;
	struct filter f;
	char msg[200];

	proxy_tick(px);
	if (!path || !path[0])
		path = "/";
	if (!a->token_len &&
	    !admin_host_is_loopback(evhttp_find_header(in, "Host"))) {
		reply_error(req, 403, "Forbidden",
			    "without a token the admin API answers only to "
			    "loopback host names");
		return;
	}
	if (strncmp(path, "/api/", 5) && strcmp(path, "/healthz") &&
	    strcmp(path, "/readyz") && strcmp(path, "/metrics") &&
	    web_serve(a, req, path))
		return;
	if (a->token_len &&
	    !token_ok(a, evhttp_find_header(in, "Authorization"))) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "WWW-Authenticate",
				  "Bearer realm=\"kafka-conntrace\"");
		reply_error(req, 401, "Unauthorized",
			    "this admin API wants Authorization: Bearer TOKEN");
		return;
	}
	if (!strcmp(path, "/healthz")) {
		reply_text(req, 200, "OK", "ok");
		return;
	}
	if (!strcmp(path, "/readyz")) {
		if (!px->bootstrap || px->draining)
			reply_text(req, 503, "Service Unavailable",
				   "not ready: not accepting clients");
		else if (!metrics_upstream_ok(px))
			reply_text(req, 503, "Service Unavailable",
				   "not ready: no connection to a broker has "
				   "succeeded yet");
		else
			reply_text(req, 200, "OK", "ready");
		return;
	}
	if (!strcmp(path, "/metrics")) {
		struct evbuffer *b = evbuffer_new();

		if (!b) {
			reply_text(req, 500, "Internal Error", "out of memory");
			return;
		}
		metrics_render(px, b);
		common_headers(req, "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
		return;
	}
	{
		static const struct {
			const char *path, *filters;
		} eps[] = {
			{"/api/connections",
			 ",client,role,broker,idle_gt,state,"},
			{"/api/clients", ",client,role,broker,idle_gt,"},
			{"/api/brokers", ",client,role,broker,idle_gt,"},
			{"/api/findings", ",client,rule,broker,"},
			{"/api/status", ",,"},
		};
		size_t i;

		for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++)
			if (!strcmp(path, eps[i].path))
				break;
		if (i == sizeof(eps) / sizeof(eps[0])) {
			reply_error(req, 404, "Not Found", "no such endpoint");
			return;
		}
		if (filter_parse(req, eps[i].filters, &q, &f, msg,
				 sizeof(msg)) < 0) {
			evhttp_clear_headers(&q);
			reply_error(req, 400, "Bad Request", msg);
			return;
		}
		switch (i) {
		case 0:
			api_connections(a, req, &f);
			break;
		case 1:
			api_clients(a, req, &f);
			break;
		case 2:
			api_brokers(a, req, &f);
			break;
		case 3:
			api_findings(a, req, &f);
			break;
		default:
			api_status(a, req);
			break;
		}
		evhttp_clear_headers(&q);
	}
}

/* ---- the readiness probe ---- */

static void probe_done(struct admin *a)
{
	if (a->probe_bev) {
		bufferevent_free(a->probe_bev);
		a->probe_bev = NULL;
	}
}

static void probe_event(struct bufferevent *bev, short what, void *arg)
{
	struct admin *a = arg;

	if (what & BEV_EVENT_CONNECTED) {
		metrics_note_upstream_ok(a->px->metrics);
		event_del(a->probe);
	}
	probe_done(a);
}

static void probe_tick(evutil_socket_t fd, short what, void *arg)
{
	struct admin *a = arg;
	struct proxy *px = a->px;
	const struct kc_hostport *hp;

	if (metrics_upstream_ok(px)) {
		event_del(a->probe);
		return;
	}
	if (a->probe_bev || px->cfg.n_upstreams < 1)
		return;
	hp = &px->cfg.upstreams[a->probe_next++ % px->cfg.n_upstreams];
	a->probe_bev =
		bufferevent_socket_new(px->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!a->probe_bev)
		return;
	bufferevent_setcb(a->probe_bev, NULL, NULL, probe_event, a);
	if (bufferevent_socket_connect_hostname(
		    a->probe_bev, px->dns, AF_UNSPEC, hp->host, hp->port) < 0)
		probe_done(a);
}

/* ---- life ---- */

int admin_check_config(const struct kc_config *cfg, char *err, size_t errlen)
{
	struct metrics_config mc;

	metrics_config_defaults(&mc);
	return metrics_config_parse(&mc, cfg->admin, err, errlen);
}

int admin_start(struct proxy *px, char *err, size_t errlen)
{
	struct metrics_config mc;
	struct admin *a;
	struct timeval every = {PROBE_EVERY_S, 0};

	if (!px->cfg.admin_listen.port)
		return 0;
	metrics_config_defaults(&mc);
	if (metrics_config_parse(&mc, px->cfg.admin, err, errlen) < 0)
		return -1;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "admin: out of memory");
		return -1;
	}
	a->px = px;
	px->admin = a;
	snprintf(a->web_root, sizeof(a->web_root), "%s",
		 px->cfg.web_root[0] ? px->cfg.web_root : KC_WEB_ROOT);
	if (px->cfg.admin_token_file[0] &&
	    token_read(a, px->cfg.admin_token_file, err, errlen) < 0)
		goto fail;
	proxy_tick(px);
	px->metrics = metrics_new(&mc, proxy_now(px));
	a->http = evhttp_new(px->base);
	if (!px->metrics || !a->http) {
		snprintf(err, errlen, "admin: out of memory");
		goto fail;
	}
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(a->http, 16384);
	evhttp_set_max_body_size(a->http, 0);
	evhttp_set_timeout(a->http, 30);
	evhttp_set_gencb(a->http, on_request, a);
	if (!evhttp_bind_socket_with_handle(a->http, px->cfg.admin_listen.host,
					    px->cfg.admin_listen.port)) {
		snprintf(err, errlen, "admin API: cannot listen on %s:%u: %s",
			 px->cfg.admin_listen.host, px->cfg.admin_listen.port,
			 strerror(errno));
		goto fail;
	}
	/* In transparent mode a probe would be redirected back to the
	 * proxy: readiness then waits for a client's connection. */
	if (!px->cfg.transparent) {
		a->probe = event_new(px->base, -1, EV_PERSIST, probe_tick, a);
		if (!a->probe || event_add(a->probe, &every) < 0) {
			snprintf(err, errlen, "admin: cannot add a timer");
			goto fail;
		}
		probe_tick(-1, 0, a);
	}
	proxy_logf(px, KC_LOG_INFO, "admin API on %s:%u, live page from %s%s",
		   px->cfg.admin_listen.host, px->cfg.admin_listen.port,
		   a->web_root, a->token_len ? ", token required" : "");
	return 0;
fail:
	admin_stop(px);
	return -1;
}

void admin_stop(struct proxy *px)
{
	struct admin *a = px->admin;

	if (a) {
		probe_done(a);
		if (a->probe)
			event_free(a->probe);
		if (a->http)
			evhttp_free(a->http);
		memset(a->token, 0, sizeof(a->token));
		free(a);
		px->admin = NULL;
	}
	metrics_free(px->metrics);
	px->metrics = NULL;
}
