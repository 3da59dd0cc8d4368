/*
 * metrics: what the admin API counts and remembers. Counters are fed by
 * one-line hooks in the data path (conn.c, relay.c, proxy.c); the last
 * closed connections and the last findings are kept in bounded rings for
 * the live page; and everything is written out in the Prometheus text
 * exposition format (0.0.4). Every metric is declared once, in
 * METRICS_TABLE below: the exposition, doc/admin.md and its test follow it.
 */
#ifndef METRICS_H
#define METRICS_H

#include <event2/buffer.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proxy;
struct conn;

#define METRICS_PREFIX "kafka_conntrace_"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/*
 * The metrics. X(id, name, type, labels, help):
 *   id      the enum metric_id value
 *   name    without METRICS_PREFIX
 *   type    COUNTER, GAUGE or HISTOGRAM
 *   labels  label names, comma-separated; "" for none. Each has a bounded
 *           set of values (roles, API names, rule ids, broker ids), except
 *           the client_* metrics, written only with "client_labels": true
 *   help    the HELP line
 */
#define METRICS_TABLE(X)                                                       \
	X(M_START_TIME, "start_time_seconds", GAUGE, "",                       \
	  "When the proxy started, in seconds since the Unix epoch.")          \
	X(M_CONNS_OPEN, "connections_open", GAUGE, "role,broker",              \
	  "Client connections open now, by role and broker id (\"bootstrap\" " \
	  "for the bootstrap listener).")                                      \
	X(M_CONNS_OPENED, "connections_opened_total", COUNTER, "listener",     \
	  "Client connections accepted, by listener kind.")                    \
	X(M_CONNS_CLOSED, "connections_closed_total", COUNTER,                 \
	  "role,closed_by,how,reason",                                         \
	  "Client connections closed, by role and by who closed them, how "    \
	  "and why (as in conn.close).")                                       \
	X(M_CONN_DURATION, "connection_duration_seconds", HISTOGRAM, "role",   \
	  "Lifetimes of closed client connections, by role.")                  \
	X(M_BYTES, "bytes_total", COUNTER, "direction",                        \
	  "Bytes received from clients (from_client) and from brokers "        \
	  "(from_broker).")                                                    \
	X(M_API_BYTES, "api_bytes_total", COUNTER, "api,direction",            \
	  "Bytes of requests and of their responses, by API, counted when "    \
	  "the response arrives.")                                             \
	X(M_REQUESTS, "requests_total", COUNTER, "api",                        \
	  "Requests received from clients, by API.")                           \
	X(M_REQ_DURATION, "request_duration_seconds", HISTOGRAM, "api",        \
	  "Time from a request to its response, by API.")                      \
	X(M_INFLIGHT, "requests_inflight", GAUGE, "",                          \
	  "Requests waiting for their response now.")                          \
	X(M_FINDINGS, "findings_total", COUNTER, "rule",                       \
	  "Findings of the lifecycle rules, by rule id.")                      \
	X(M_DECODE_PROBLEMS, "decode_problems_total", COUNTER,                 \
	  "direction,api",                                                     \
	  "Frames that did not decode, by direction and API.")                 \
	X(M_LISTENERS, "listeners", GAUGE, "kind",                             \
	  "Listening sockets for clients: the bootstrap one and one per "      \
	  "broker.")                                                           \
	X(M_CONNECT_FAILURES, "upstream_connect_failures_total", COUNTER, "",  \
	  "Connections to brokers that failed or timed out.")                  \
	X(M_SESSIONS, "sessions", GAUGE, "",                                   \
	  "Client sessions known (source address, client id and software).")   \
	X(M_LOG_DROPPED, "event_log_dropped_total", COUNTER, "",               \
	  "Events that could not be written to the event log.")                \
	X(M_CLIENT_OPEN, "client_connections_open", GAUGE,                     \
	  "client_addr,client_id,software",                                    \
	  "Connections open now per client session (only with "                \
	  "\"client_labels\": true).")                                         \
	X(M_CLIENT_CONNS, "client_connections_total", COUNTER,                 \
	  "client_addr,client_id,software",                                    \
	  "Connections opened per client session (only with "                  \
	  "\"client_labels\": true).")

#define METRIC_ENUM(id, name, type, labels, help) id,
enum metric_id { METRICS_TABLE(METRIC_ENUM) M_COUNT };
#undef METRIC_ENUM

struct metric_def {
	const char *name;
	enum metric_type type;
	const char *labels;
	const char *help;
};
extern const struct metric_def metric_defs[M_COUNT];

/* Label values longer than this many bytes are cut (at a character). */
#define METRICS_LABEL_MAX 128

/* Options from the configuration's "admin" object. */
struct metrics_config {
	bool client_labels;   /* per-session metrics with client ids */
	size_t findings_keep; /* findings remembered for /api/findings */
	size_t closed_keep;   /* closed connections remembered */
};

/* A closed connection, as remembered for the API and the live page. */
struct metrics_closed {
	uint64_t id;
	uint32_t session; /* 0: none */
	int32_t broker;   /* -1: the bootstrap listener */
	int32_t node_id;
	int pid;
	uint16_t peer_port;
	double opened, closed; /* seconds since the epoch */
	double idle_since;     /* quiet since then until the close; 0: busy */
	double max_idle_s;
	uint64_t bytes_from_client, bytes_from_broker;
	uint64_t requests;
	uint32_t inflight;
	char role[12];
	char mode[12];
	char closed_by[8];
	char how[24];
	char reason[48];
	char peer_ip[64];
	char client_id[128];
	char sw_name[64];
	char sw_version[64];
};

struct metrics;

/* Fill cfg with the defaults. */
void metrics_config_defaults(struct metrics_config *cfg);

/* Read the "admin" object of the configuration over cfg (NULL is fine).
 * -1 with a message naming the key in err. */
int metrics_config_parse(struct metrics_config *cfg, const json_t *admin,
			 char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* NULL when out of memory. start is the process's start time. */
struct metrics *metrics_new(const struct metrics_config *cfg, double start);
void metrics_free(struct metrics *m); /* NULL is a no-op */

/* Hooks, called by the proxy; each is a no-op while px->metrics is NULL. */
void metrics_on_open(struct proxy *px, const struct conn *c);
/* After the conn.close record: c still holds its final counts. */
void metrics_on_close(struct proxy *px, const struct conn *c);
void metrics_on_response(struct proxy *px, const struct conn *c,
			 int16_t api_key, uint32_t request_bytes,
			 double latency_s, size_t response_bytes);
/* direction: "request" or "response" */
void metrics_on_decode_problem(struct proxy *px, const char *direction,
			       int16_t api_key);
/* The finding event, as written (borrowed; kept with a reference). */
void metrics_on_finding(struct proxy *px, json_t *finding);
/* An upstream connection was made (the admin's readiness probe). */
void metrics_note_upstream_ok(struct metrics *m);

/* At least one connection to a broker has succeeded. */
bool metrics_upstream_ok(const struct proxy *px);

/* The whole exposition of px's metrics, appended to out. */
void metrics_render(const struct proxy *px, struct evbuffer *out);

/* The remembered closed connections, oldest first: n of them. */
const struct metrics_closed *metrics_closed_at(const struct metrics *m,
					       size_t i);
size_t metrics_closed_count(const struct metrics *m);
/* The remembered findings, oldest first (borrowed). */
json_t *metrics_finding_at(const struct metrics *m, size_t i);
size_t metrics_finding_count(const struct metrics *m);

/*
 * The exposition format, for metrics_render() and the tests.
 */

/* "# HELP" and "# TYPE" lines of metric id. */
void metrics_write_family(struct evbuffer *out, enum metric_id id);
/* One sample: the metric's name with suffix ("", "_bucket", "_sum",
 * "_count"), its labels with values[] (in the table's order, as many as
 * it names), then le when not NULL, and the value. */
void metrics_write_sample(struct evbuffer *out, enum metric_id id,
			  const char *suffix, const char *const *values,
			  const char *le, double v);
/* v as the format writes a value: integers without a fraction, +Inf,
 * -Inf, NaN. buf holds at least 32 bytes. */
void metrics_format_value(double v, char *buf, size_t len);
/* Escape a label value (\\, \", \n), replace bytes that are not UTF-8
 * with U+FFFD and cut it to METRICS_LABEL_MAX bytes of input. */
void metrics_escape_label(const char *in, struct evbuffer *out);
/* Escape HELP text (\\ and \n). */
void metrics_escape_help(const char *in, struct evbuffer *out);

#endif
