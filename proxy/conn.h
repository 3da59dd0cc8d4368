/*
 * conn: one client connection and its upstream connection. The relay
 * moves frames between them, decoding headers and the bodies it needs;
 * one function changes state, one function closes, and the close writes
 * the connection's one conn.close record.
 */
#ifndef CONN_H
#define CONN_H

#include <event2/bufferevent.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "kp_frame.h"

struct proxy;
struct broker;
struct session;

enum conn_state {
	CONN_CONNECTING, /* client accepted, upstream connect under way */
	CONN_ACTIVE,     /* relaying and decoding Kafka frames */
	CONN_SASL_RAW,   /* after a SaslHandshake v0: size-framed tokens with
			    no header, relayed undecoded */
	CONN_OPAQUE,     /* not Kafka framing (TLS, garbage) or a desync:
			    bytes pass through, nothing is decoded */
	CONN_CLOSED,     /* record written; freed on the next loop turn */
};

/* Who ended a connection, and how. */
enum conn_by { BY_NONE, BY_CLIENT, BY_BROKER, BY_PROXY };

/* One side of the relay. */
struct side {
	struct bufferevent *bev;
	uint64_t bytes;        /* received from this side */
	uint64_t frames;       /* frames received from this side */
	struct kp_split split; /* bytes of the current frame still to move */
	size_t waiting;        /* a whole frame of this size is awaited */
};

/* A request waiting for its response. */
struct inflight {
	int32_t corr;
	int16_t key;
	int16_t version;
	struct timeval t0;
	uint32_t bytes;
	void *detail; /* json_t * with the request's details, --log-requests */
};

/* Error codes seen in responses, counted. */
struct errcount {
	int16_t code;
	uint32_t n;
};
#define CONN_MAX_ERRCODES 16

struct conn {
	TAILQ_ENTRY(conn) link;
	struct proxy *px;
	uint64_t id;
	enum conn_state state;
	struct broker *broker; /* NULL: accepted on the bootstrap listener */
	struct side cli, up;

	/* who is on the other end */
	char peer_ip[64];
	uint16_t peer_port;
	char local_ip[64];
	uint16_t local_port;
	char client_id[128];
	char sw_name[64];
	char sw_version[64];
	char instance_id[40]; /* KIP-714 client instance id, when seen */
	int pid;              /* -1 when unknown */
	int pid_pending;      /* to be looked up by the janitor */
	struct sockaddr_storage peer_sa, local_sa;
	char comm[32];
	struct session *session;

	/* transparent mode: where the client was headed */
	int transparent;
	struct sockaddr_storage orig_dst;
	socklen_t orig_dst_len;
	char orig_ip[64];
	uint16_t orig_port;
	int first_in_session; /* no other connection of its session was open */

	/* upstream */
	char up_host[256];
	uint16_t up_port;
	int up_attempts;
	char up_local[80]; /* our address on the upstream socket */

	/* time */
	struct timeval opened;
	struct timeval connected;
	struct timeval last_io;
	struct timeval quiet_since; /* no bytes and nothing in flight since */
	int quiet;
	double max_idle_s;

	/* requests */
	struct inflight *q;
	uint32_t q_head, q_len, q_cap;
	uint32_t *req_count; /* per API key, kp_api_count entries */
	uint32_t req_unknown;
	uint32_t responses;
	struct errcount errs[CONN_MAX_ERRCODES];
	uint32_t errs_other;      /* codes beyond the table */
	uint32_t decode_problems; /* frames that did not decode */
	uint32_t inexact_frames;  /* decoded, with bytes left over */
	uint32_t rewritten;
	uint8_t sasl_mech; /* for CONN_SASL_RAW: rounds left, see relay.c */
	int sasl_rounds;

	/* idle gaps of a second or more, the longest kept */
	float gaps[16];
	uint8_t n_gaps;

	/* a rule asked for this connection to be closed once it is quiet */
	const char *close_rule;

	/* how it ended */
	struct timeval closed_at;
	enum conn_by closed_by;
	const char *how;    /* "fin", "rst", "mid_frame_eof", ... */
	const char *reason; /* machine-readable */
	char reason_detail[400];
};

/* Accept a client socket on a listener (broker NULL: bootstrap). */
void conn_accept(struct proxy *px, struct broker *broker, int fd,
		 const struct sockaddr *sa, int salen);

/* The one state change. */
void conn_set_state(struct conn *c, enum conn_state to, const char *why);

/* The one close: tears down both sides, writes the conn.close record and
 * queues c to be freed on the next loop turn. Idempotent. */
void conn_close(struct conn *c, enum conn_by by, const char *how,
		const char *reason, const char *detail);

/* The "listener" object of the connection's events. */
json_t *conn_listener_json(const struct conn *c);

/* A closed connection still writing out what one side said last. */
int conn_lingering(const struct conn *c);
/* Stop that now (the janitor, when it has taken too long). */
void conn_linger_expire(struct conn *c);

/* Free a closed connection (from the reaper, never inside its own
 * callbacks). */
void conn_free(struct conn *c);

/* Close c with the rule as reason as soon as nothing is in flight and
 * both directions are between frames (now, if they already are). */
void conn_close_when_quiet(struct conn *c, const char *rule);
void conn_close_if_quiet(struct conn *c);

/* Record an idle gap of gap seconds. */
void conn_note_gap(struct conn *c, double gap);

/* Put c in its client session (source address + client id + software),
 * once those are known. */
void conn_join_session(struct conn *c);

/* What the connection is for ("bootstrap", "data", "coordinator",
 * "other"), from the APIs it carried so far, and the node id the client
 * gives it: what its conn.close record says (metrics and the admin API
 * ask it of open connections too). */
const char *conn_role(const struct conn *c, int32_t *node_id);

/* Periodic work for one connection (from the janitor). */
void conn_janitor(struct conn *c);

/* In-flight requests now. */
static inline uint32_t conn_inflight(const struct conn *c)
{
	return c->q_len;
}

/* Relay entry points (relay.c). */
void relay_client_readable(struct conn *c);
void conn_flush(struct conn *c);
void relay_upstream_readable(struct conn *c);

#endif
