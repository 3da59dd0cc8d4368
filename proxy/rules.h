/*
 * rules: the lifecycle rule engine. It is told what happens to connections
 * (opened, identified, requests, responses, closed) with the time of each
 * event, keeps per-connection and per-client-session state, checks it
 * against the profile of the client actually connected, and reports
 * findings -- once per cause -- and, in enforce mode, asks for actions.
 * It does no I/O and reads no clock: time is passed in, so tests drive it
 * with synthetic event streams.
 */
#ifndef RULES_H
#define RULES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum rules_mode {
	RULES_REPORT,  /* findings only; never touches traffic */
	RULES_DRY_RUN, /* findings say what enforce would have done */
	RULES_ENFORCE, /* act */
};

/*
 * The thresholds, each declared once. The configuration ("rules".KEY and
 * each override's KEY), the profiles' defaults, the rules that read them
 * and the table in doc/rules.md (a unit test compares it) follow this list.
 * X(name, unit, scope, min, max, java, librdkafka, kafka_python, kafkajs,
 *   generic, meaning):
 *   unit     SECONDS, COUNT (an integer), PER_MINUTE, BOOL (0 or 1)
 *   scope    CLIENT: resolved per client session, so overridable per
 *            client-id pattern; ADDR: counted per source address before a
 *            client names itself, so set under "rules" only
 *   java..generic  the default under each profile
 * The first seven are the client library's own lifecycle; the rest are
 * the rules' thresholds and the actions' limits (0: the action is off).
 */
#define RULES_THRESHOLDS(X)                                                    \
	X(idle_close_s, SECONDS, CLIENT, 0, 1e7, 540, 0, 540, 0, 0,            \
	  "the client closes connections idle this long itself; 0: never")     \
	X(metadata_refresh_s, SECONDS, CLIENT, 0, 1e7, 300, 300, 300, 300,     \
	  300, "the client's periodic Metadata refresh")                       \
	X(reconnect_backoff_s, SECONDS, CLIENT, 0, 3600, 0.05, 0.1, 0.05, 0.3, \
	  0.05, "the client's least wait before reconnecting to a broker")     \
	X(separate_coordinator, BOOL, CLIENT, 0, 1, 1, 1, 1, 0, 0,             \
	  "group APIs travel on a coordinator connection of their own")        \
	X(txn_on_data, BOOL, CLIENT, 0, 1, 1, 0, 0, 1, 1,                      \
	  "transaction APIs may share a data connection")                      \
	X(conns_per_broker, COUNT, CLIENT, 1, 1024, 1, 1, 1, 2, 2,             \
	  "data connections per broker")                                       \
	X(bootstrap_linger_s, SECONDS, CLIENT, 0, 1e7, 600, 5, 5, 0, 0,        \
	  "the bootstrap connection may stay this long after the client has "  \
	  "others; 0: kept on purpose")                                        \
	X(idle_s, SECONDS, CLIENT, 0, 1e7, 0, 0, 0, 0, 0,                      \
	  "idle.connection: quiet this long; 0: idle_close_s, else "           \
	  "broker_idle_s")                                                     \
	X(broker_idle_s, SECONDS, CLIENT, 1, 1e7, 600, 600, 600, 600, 600,     \
	  "the brokers' connections.max.idle.ms")                              \
	X(outlives_slack_s, SECONDS, CLIENT, 0, 1e7, 30, 30, 30, 30, 30,       \
	  "idle.outlives_client: quiet this long past idle_close_s")           \
	X(short_lived_s, SECONDS, CLIENT, 0, 3600, 2, 2, 2, 2, 2,              \
	  "churn.short_lived: a connection closed sooner than this")           \
	X(churn_count, COUNT, CLIENT, 1, 1e6, 5, 5, 5, 5, 5,                   \
	  "churn.short_lived: this many within churn_window_s")                \
	X(churn_window_s, SECONDS, CLIENT, 1, 86400, 60, 60, 60, 60, 60,       \
	  "churn.short_lived: the window")                                     \
	X(open_rate, PER_MINUTE, CLIENT, 0, 1e6, 30, 30, 30, 30, 30,           \
	  "churn.open_rate: more new connections than this in a minute; 0: "   \
	  "off")                                                               \
	X(storm_count, COUNT, CLIENT, 1, 1e6, 3, 3, 3, 3, 3,                   \
	  "reconnect.storm: this many fast reconnects to one broker")          \
	X(storm_window_s, SECONDS, CLIENT, 1, 86400, 60, 60, 60, 60, 60,       \
	  "reconnect.storm: the window")                                       \
	X(metadata_per_minute, PER_MINUTE, CLIENT, 1, 1e6, 30, 30, 30, 30, 30, \
	  "metadata.frequent: more Metadata requests than this in a minute")   \
	X(metadata_startup_s, SECONDS, CLIENT, 0, 86400, 60, 60, 60, 60, 60,   \
	  "metadata.frequent: not before the client is this old")              \
	X(unknown_topic_count, COUNT, CLIENT, 1, 1e6, 3, 3, 3, 3, 3,           \
	  "metadata.unknown_topic: this many answers for one topic")           \
	X(unknown_topic_window_s, SECONDS, CLIENT, 1, 86400, 60, 60, 60, 60,   \
	  60, "metadata.unknown_topic: the window")                            \
	X(clients_per_minute, PER_MINUTE, ADDR, 1, 1e6, 10, 10, 10, 10, 10,    \
	  "churn.client_per_message: bootstrap connections from one address "  \
	  "in a minute")                                                       \
	X(idle_timeout_s, SECONDS, CLIENT, 0, 1e7, 0, 0, 0, 0, 0,              \
	  "action: close connections quiet longer than this")                  \
	X(bootstrap_grace_s, SECONDS, CLIENT, 0, 1e7, 0, 0, 0, 0, 0,           \
	  "action: close a bootstrap connection this long after the client "   \
	  "has others")                                                        \
	X(max_conns_per_session, COUNT, CLIENT, 0, 1e6, 0, 0, 0, 0, 0,         \
	  "action: refuse a client session's connections beyond this")         \
	X(max_conn_rate, PER_MINUTE, CLIENT, 0, 1e6, 0, 0, 0, 0, 0,            \
	  "action: refuse a client session's new connections beyond this "     \
	  "many a minute")                                                     \
	X(max_conns_per_addr, COUNT, ADDR, 0, 1e6, 0, 0, 0, 0, 0,              \
	  "action: refuse a source address's connections beyond this")

enum rules_unit {
	RULES_U_SECONDS,
	RULES_U_COUNT,
	RULES_U_PER_MINUTE,
	RULES_U_BOOL,
};

enum rules_scope {
	RULES_S_CLIENT, /* per client session: overridable per client id */
	RULES_S_ADDR,   /* per source address: "rules" only */
};

/* One value per threshold. Counts and flags are whole numbers, held as
 * doubles so that one code path reads, checks and applies them all. */
struct rules_thresholds {
#define RULES_FIELD(name, ...) double name;
	RULES_THRESHOLDS(RULES_FIELD)
#undef RULES_FIELD
};

/* The thresholds' indexes, for the bit masks of struct rules_setting. */
enum rules_threshold_id {
#define RULES_ID(name, ...) RULES_T_##name,
	RULES_THRESHOLDS(RULES_ID)
#undef RULES_ID
		RULES_N_THRESHOLDS
};

/* A threshold's facts, from the list above. */
struct rules_threshold {
	const char *name;
	enum rules_unit unit;
	enum rules_scope scope;
	double min, max;
	size_t off;         /* in struct rules_thresholds */
	double defaults[5]; /* in the order of rules_profiles[] */
	const char *meaning;
};
extern const struct rules_threshold rules_threshold_table[];

/* A client library's connection lifecycle and the thresholds to hold it
 * to. One row per profile, from the defaults columns above. */
struct rules_profile {
	const char *name;
	struct rules_thresholds th;
};

/* Thresholds given in the configuration: values and which were given. */
struct rules_setting {
	struct rules_thresholds v;
	uint64_t given; /* bit RULES_T_x: v.x was given */
};

/* The "rules" object of the configuration. */
struct rules_config {
	enum rules_mode mode;
	struct rules_setting set; /* over every profile's defaults */
	uint64_t disabled;        /* rules switched off: bit = catalog index */
	const char *pinned_profile; /* profile for every client, or NULL */
	/* Per client-id pattern (fnmatch), first match wins: a profile,
	 * thresholds over it and rules switched off for those clients. */
	struct rules_override {
		char pattern[128];
		char profile[32];
		struct rules_setting set;
		uint64_t disabled;
	} overrides[16];
	int n_overrides;
};

/* A configuration error: what is wrong (naming rules.KEY) and the path
 * from the "rules" object down to the key or array element at fault
 * (key "" for an element), for a file:line:column. */
struct rules_config_error {
	struct {
		char key[64];
		long index;
	} path[4];
	int depth;
	char msg[256];
};

/* What the engine asks of its host. */
struct rules_ops {
	/* A finding: a JSON object of fields (rule, severity, ...); the host
	 * stamps and writes it, and drops the reference. */
	void (*finding)(void *ctx, json_t *fields);
	/* Close connection id with the rule's id as reason, at the next safe
	 * point (no request in flight, between frames). */
	void (*close)(void *ctx, uint64_t conn, const char *rule);
};

struct rules;

/* Fill cfg with the defaults. */
void rules_config_defaults(struct rules_config *cfg);

/* Read the "rules" object of the configuration over cfg. NULL is fine.
 * -1 with *e filled on bad input. */
int rules_config_parse(struct rules_config *cfg, const json_t *obj,
		       struct rules_config_error *e)
	__attribute__((warn_unused_result));

/* The thresholds a client would get: its profile (NULL: guessed from
 * sw_name and client_id), then rules.KEY, then the first override whose
 * pattern matches client_id. out may be NULL; returns the profile. */
const struct rules_profile *rules_resolve(const struct rules_config *cfg,
					  const char *sw_name,
					  const char *client_id,
					  struct rules_thresholds *out);

struct rules *rules_new(const struct rules_config *cfg,
			const struct rules_ops *ops, void *ctx);
void rules_free(struct rules *r);
/* Take new settings (SIGHUP); state is kept, and every client session's
 * thresholds are resolved again. */
void rules_reconfigure(struct rules *r, const struct rules_config *cfg);

/* The profile table and lookup by name. */
extern const struct rules_profile rules_profiles[];
const struct rules_profile *rules_profile_find(const char *name);
/* The profile for a client, from its software name and client id. */
const struct rules_profile *rules_profile_guess(const char *sw_name,
						const char *client_id);

/* Events. broker is the broker id of a broker listener, -1 for the
 * bootstrap listener. Returns 0, or -1 when the connection must be
 * refused (enforce mode caps). */
int rules_open(struct rules *r, uint64_t conn, const char *addr, int32_t broker,
	       double now);
/* The connection's first request named its client: returns -1 when it
 * must be refused (per-session caps and creation rate). */
int rules_identify(struct rules *r, uint64_t conn, const char *client_id,
		   const char *sw_name, const char *sw_version, double now);
/* A request (expects_response 0 for acks=0 Produce). For LeaveGroup and
 * for ConsumerGroupHeartbeat with a negative epoch, leaving is 1. */
void rules_request(struct rules *r, uint64_t conn, int16_t api_key,
		   int expects_response, int leaving, double now);
void rules_response(struct rules *r, uint64_t conn, int16_t api_key,
		    double now);
/* A Metadata response answered this topic UNKNOWN_TOPIC_OR_PARTITION. */
void rules_unknown_topic(struct rules *r, uint64_t conn, const char *topic,
			 double now);
/* closed_by: "client", "broker" or "proxy"; how as in conn.close. */
void rules_close(struct rules *r, uint64_t conn, const char *closed_by,
		 const char *how, uint32_t inflight, double now);
/* Periodic checks (idle, lingering bootstrap, windows). */
void rules_tick(struct rules *r, double now);

/* The rule that refused a connection (rules_open or rules_identify
 * returned -1), a catalog id; NULL if none did. Valid until
 * rules_close. */
const char *rules_refused_by(struct rules *r, uint64_t conn);

/* The profile the engine uses for a connection's session (NULL if the
 * connection is unknown). */
const char *rules_conn_profile(struct rules *r, uint64_t conn);

/* The rule catalog: id, severity and one line, for docs and tests. */
struct rules_rule {
	const char *id;
	const char *severity;
	const char *summary;
};
extern const struct rules_rule rules_catalog[];
extern const size_t rules_catalog_len;

#endif
