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

/* A client library's connection lifecycle: the facts the rules check
 * against. One row per profile in rules.c's table. */
struct rules_profile {
	const char *name;
	double idle_close_s;        /* the client closes connections idle this
				       long itself; 0: it never does */
	double metadata_refresh_s;  /* periodic Metadata refresh */
	double reconnect_backoff_s; /* least wait before reconnecting */
	int separate_coordinator;   /* group APIs on a socket of their own */
	int txn_on_data;            /* transaction APIs share the data socket */
	int conns_per_broker;       /* data connections per broker */
	double bootstrap_linger_s;  /* how long the bootstrap connection may
				       outlive the client's first other ones;
				       0: it is kept on purpose */
};

/* Thresholds and enforcement settings (rules.* in the configuration).
 * Zero disables an action. */
struct rules_config {
	enum rules_mode mode;
	double idle_s;             /* idle finding threshold; 0: profile's */
	double idle_timeout_s;     /* action: close connections idle longer */
	double bootstrap_grace_s;  /* action: close a lingering bootstrap */
	int max_conns_per_session; /* action: refuse beyond */
	int max_conns_per_addr;    /* action: refuse beyond */
	double max_conn_rate;      /* action: new connections per minute per
				      client session */
	double short_lived_s;      /* churn: a connection shorter than this */
	int churn_count;           /* churn: this many in churn_window_s */
	double churn_window_s;
	double open_rate;        /* churn: opens per minute per session */
	int clients_per_minute;  /* churn: client instances (bootstrap
				    connections) per minute per address */
	int unknown_topic_count; /* metadata: this many UNKNOWN_TOPIC in */
	double unknown_topic_window_s;
	int metadata_per_minute; /* metadata: sustained rate */
	char disabled[32][48];   /* rule ids switched off */
	int n_disabled;
	const char *pinned_profile; /* profile for every client, or NULL */
	/* Per client-id pattern (fnmatch): a profile and threshold changes. */
	struct rules_override {
		char pattern[128];
		char profile[32];
		double idle_s;
		double idle_close_s;
		double metadata_refresh_s;
	} overrides[16];
	int n_overrides;
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
 * -1 with a message in err (naming the key) on bad input. */
int rules_config_parse(struct rules_config *cfg, const json_t *obj, char *err,
		       size_t errlen) __attribute__((warn_unused_result));

struct rules *rules_new(const struct rules_config *cfg,
			const struct rules_ops *ops, void *ctx);
void rules_free(struct rules *r);
/* Take new settings (SIGHUP); state is kept. */
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
