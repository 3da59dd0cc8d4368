/*
 * proxy: the daemon's shared state -- the event loop, the configuration in
 * force, the listeners, the broker table, the connection lists and the
 * one janitor timer -- and the entry points main.c calls.
 */
#ifndef PROXY_H
#define PROXY_H

#include <event2/event.h>
#include <jansson.h>
#include <event2/listener.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "config.h"
#include "rules.h"

struct admin;
struct conn;
struct evlog;
struct metrics;
struct evdns_base;

/* A broker seen in a response: its own address, and the local listener
 * that stands for it. Created on first sight of its id, kept for the
 * process's life (clients cache the addresses they were given). */
struct broker {
	int32_t id;
	struct kc_hostport upstream;
	struct evconnlistener *lst;
	uint16_t port;        /* the local listener's port */
	char bind_addr[64];   /* the local listener's address, as text */
	char upstream_ip[64]; /* upstream.host resolved, for transparent mode */
	int bind_failed;      /* its listener could not be bound (yet) */
	struct proxy *px;
};

TAILQ_HEAD(conn_list, conn);

/* Client sessions: connections grouped by source address + client id +
 * client software. */
struct session {
	uint32_t id;
	uint32_t open_conns;
	uint64_t total_conns;
	struct timeval last_seen;
	struct timeval last_close;
	char key[320];
};

struct proxy {
	struct event_base *base;
	struct evdns_base *dns;
	struct kc_config cfg;
	int argc;
	char **argv; /* kept for SIGHUP reloads */
	struct evlog *log;
	struct rules *rules;
	struct rules_config rules_cfg;

	struct evconnlistener *bootstrap;
	char bootstrap_addr[80];
	uint32_t next_upstream; /* round robin over cfg.upstreams */

	struct broker **brokers; /* sorted by id */
	size_t n_brokers, cap_brokers;

	struct conn_list conns; /* open */
	struct conn_list dead;  /* closed, freed on the next loop turn */
	uint32_t n_conns;
	uint64_t next_conn_id;

	struct session **sessions;
	size_t n_sessions, cap_sessions;
	uint32_t next_session_id;

	struct event *janitor;
	struct event *reaper;  /* frees dead connections, outside callbacks */
	struct event *flusher; /* writes the event log after each loop turn */
	struct event *pid_ev;  /* looks up new clients' processes */
	int pid_pending;
	int flush_pending;
	struct event *drain; /* while draining: closes what is idle */
	struct event *sig_hup, *sig_term, *sig_int;
	struct timeval now; /* cached clock, updated per callback */
	int draining;
	struct timeval drain_deadline;

	/* Out of descriptors: one kept in reserve lets the proxy accept a
	 * waiting client only to refuse it (proxy.c, accept_error). */
	int reserve_fd;
	int fd_short;            /* refusing for want of descriptors */
	uint32_t fd_refused;     /* connections refused so, this episode */
	uint32_t fd_refused_was; /* ... at the janitor's previous sweep */
	int accept_paused;       /* listeners disabled until the next sweep */

	int mem_refusing; /* refusing clients: over max_buffered_total */
	uint8_t *scratch; /* rewrite output, reused */
	size_t scratch_cap;
	int exit_code;
	struct admin *admin;     /* the admin API, or NULL (admin.c) */
	struct metrics *metrics; /* counters and rings, or NULL (metrics.c) */
};

/* Build the proxy from a parsed configuration (taken over: the caller must
 * not release it). Binds the bootstrap listener and opens the event log.
 * NULL with err set on failure. */
struct proxy *proxy_new(struct kc_config *cfg, int argc, char **argv, char *err,
			size_t errlen);
/* Run until SIGTERM/SIGINT and the drain end. Returns the exit status. */
int proxy_run(struct proxy *px);
void proxy_free(struct proxy *px);

/* Check what proxy_new() would refuse in a configuration that parsed:
 * the admin and rules settings. 0, or -1 with err set; a message about a
 * rules key starts with the file's "path:LINE:COLUMN: ". */
int proxy_check_config(const struct kc_config *cfg, struct rules_config *rc,
		       char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Bytes held in every connection's buffers (open and closing ones, both
 * directions, input and output) plus the rewrite scratch buffer: what
 * max_buffered_total bounds. A walk over the connections. */
size_t proxy_buffered(const struct proxy *px);

/* The open connection with this id, or NULL. */
struct conn *proxy_conn_find(struct proxy *px, uint64_t id);

/* Look up the processes of new connections after this loop turn. */
void proxy_want_pid(struct proxy *px);

/* The cached clock as seconds. */
double proxy_now(const struct proxy *px);

/* Refresh the cached clock. */
void proxy_tick(struct proxy *px);

/* The broker with this id, or NULL. */
struct broker *broker_find(struct proxy *px, int32_t id);
/* Learn (or update) a broker's address and make sure its local listener
 * exists. NULL when the listener cannot be bound (logged). */
struct broker *broker_learn(struct proxy *px, int32_t id, const char *host,
			    uint16_t port);

/* The broker advertised at ip:port (its address as advertised, or as
 * resolved when it was learned), or NULL. */
const struct broker *broker_by_addr(const struct proxy *px, const char *ip,
				    uint16_t port);

/* Emit an event to the log (steals ev). */
void proxy_emit(struct proxy *px, json_t *ev);

/* The session for this key, created if new. */
struct session *session_get(struct proxy *px, const char *key);

/* Diagnostics to stderr, filtered by the configured log level. */
void proxy_logf(struct proxy *px, enum kc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
