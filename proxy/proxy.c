/*
 * proxy: start-up, the listeners, the broker table, client sessions, the
 * janitor timer, the reaper that frees closed connections outside their
 * callbacks, and signals (SIGHUP reload, SIGTERM/SIGINT drain and exit).
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <event2/dns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "conn.h"
#include "evlog.h"
#include "privdrop.h"
#include "procinfo.h"
#include "metrics.h"

#define SESSIONS_MAX 4096
#define LINGER_S     5 /* seconds a closed connection may write out its output */
#define SESSION_KEEP_S                                                         \
	3600 /* a session with no connections is forgotten                     \
		after this long */

void proxy_tick(struct proxy *px)
{
	/* The real clock (a vDSO call), not libevent's cached coarse one:
	 * request latencies are measured in microseconds. */
	gettimeofday(&px->now, NULL);
}

void proxy_logf(struct proxy *px, enum kc_log_level level, const char *fmt, ...)
{
	char ts[40];
	va_list ap;
	struct timeval now;

	if (level > px->cfg.log_level)
		return;
	gettimeofday(&now, NULL);
	evlog_ts(&now, ts, sizeof(ts));
	fprintf(stderr, "%s kafka-conntrace[%d] %s: ", ts, (int)getpid(),
		kc_log_level_name(level));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void proxy_emit(struct proxy *px, json_t *ev)
{
	if (evlog_emit(px->log, ev) < 0)
		proxy_logf(px, KC_LOG_ERROR, "event log: write failed: %s",
			   strerror(errno));
	/* Events of one loop turn go out together, right after it. */
	if (px->flusher && !px->flush_pending) {
		px->flush_pending = 1;
		event_active(px->flusher, EV_TIMEOUT, 0);
	}
}

static void flusher_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *px = arg;

	px->flush_pending = 0;
	if (evlog_flush(px->log) < 0)
		proxy_logf(px, KC_LOG_ERROR, "event log: write failed: %s",
			   strerror(errno));
}

static json_t *event(struct proxy *px, const char *name)
{
	proxy_tick(px);
	return evlog_event(&px->now, name);
}

double proxy_now(const struct proxy *px)
{
	return (double)px->now.tv_sec + (double)px->now.tv_usec / 1e6;
}

struct conn *proxy_conn_find(struct proxy *px, uint64_t id)
{
	struct conn *c;

	TAILQ_FOREACH(c, &px->conns, link)
	if (c->id == id)
		return c;
	return NULL;
}

static size_t side_buffered(const struct side *s)
{
	if (!s->bev)
		return 0;
	return evbuffer_get_length(bufferevent_get_input(s->bev)) +
	       evbuffer_get_length(bufferevent_get_output(s->bev));
}

size_t proxy_buffered(const struct proxy *px)
{
	const struct conn *c;
	size_t n = px->scratch_cap;

	TAILQ_FOREACH(c, &px->conns, link)
	n += side_buffered(&c->cli) + side_buffered(&c->up);
	TAILQ_FOREACH(c, &px->dead, link)
	n += side_buffered(&c->cli) + side_buffered(&c->up);
	return n;
}

int proxy_check_config(const struct kc_config *cfg, struct rules_config *rc,
		       char *err, size_t errlen)
{
	struct rules_config_error e;
	struct kc_json_step steps[5] = {{"rules", 0}};
	char where[KC_PATH_MAX + 32] = "", msg[512];

	rules_config_defaults(rc);
	if (admin_check_config(cfg, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s%s%s", cfg->config_path,
			 cfg->config_path[0] ? ": " : "", msg);
		return -1;
	}
	/* Said before anything is bound; privdrop() asks again. */
	if (cfg->user[0] && !getpwnam(cfg->user)) {
		snprintf(err, errlen, "user: %s: no such user", cfg->user);
		return -1;
	}
	if (rules_config_parse(rc, cfg->rules, &e) == 0)
		return 0;
	for (int i = 0; i < e.depth; i++) {
		steps[i + 1].key = e.path[i].key[0] ? e.path[i].key : NULL;
		steps[i + 1].index = e.path[i].index;
	}
	if (cfg->config_path[0])
		kc_config_where(cfg->config_path, steps, e.depth + 1, where,
				sizeof(where));
	snprintf(err, errlen, "%s%s", where, e.msg);
	return -1;
}

/* ---- rules ---- */

static void on_finding(void *ctx, json_t *fields)
{
	struct proxy *px = ctx;
	json_t *ev = evlog_event(&px->now, "finding");
	json_t *conns = json_object_get(fields, "conns");
	struct conn *c = NULL;

	if (json_array_size(conns))
		c = proxy_conn_find(px, (uint64_t)json_integer_value(
						json_array_get(conns, 0)));
	if (c && c->session)
		json_object_set_new(ev, "session",
				    json_integer(c->session->id));
	json_object_update(ev, fields);
	json_decref(fields);
	metrics_on_finding(px, ev);
	proxy_emit(px, ev);
}

static void on_rule_close(void *ctx, uint64_t id, const char *rule)
{
	struct conn *c = proxy_conn_find(ctx, id);

	if (c)
		conn_close_when_quiet(c, rule);
}

static const struct rules_ops rules_ops = {on_finding, on_rule_close};

/* ---- listeners ---- */

static void sockaddr_text(const struct sockaddr *sa, char *buf, size_t len,
			  uint16_t *port)
{
	char ip[64] = "?";

	*port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		*port = ntohs(in6->sin6_port);
	}
	snprintf(buf, len, "%s", ip);
}

static void on_accept_bootstrap(struct evconnlistener *l, evutil_socket_t fd,
				struct sockaddr *sa, int salen, void *arg)
{
	conn_accept(arg, NULL, fd, sa, salen);
}

static void on_accept_broker(struct evconnlistener *l, evutil_socket_t fd,
			     struct sockaddr *sa, int salen, void *arg)
{
	struct broker *b = arg;

	conn_accept(b->px, b, fd, sa, salen);
}

static void listeners_enable(struct proxy *px, int on)
{
	int (*set)(struct evconnlistener *) =
		on ? evconnlistener_enable : evconnlistener_disable;

	if (px->bootstrap)
		set(px->bootstrap);
	for (size_t i = 0; i < px->n_brokers; i++)
		if (px->brokers[i]->lst)
			set(px->brokers[i]->lst);
}

/* accept() failed. Out of descriptors (EMFILE, ENFILE), the client stays
 * in the listen queue and the listener would be woken for it again at
 * once, forever: so let go of the descriptor kept in reserve, accept the
 * client, close it with a conn.refused record (out_of_descriptors) and
 * take the reserve back. If that cannot be done, accepting stops until the
 * janitor's next sweep. The connections already open carry on; the log
 * says so once per episode, and again when it is over. */
static void accept_error(struct proxy *px, struct evconnlistener *l)
{
	int e = EVUTIL_SOCKET_ERROR();
	int stuck = 1; /* a client waits that we could not take */

	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		proxy_logf(px, KC_LOG_WARN, "accept: %s",
			   evutil_socket_error_to_string(e));
		return;
	}
	proxy_tick(px);
	if (!px->fd_short)
		proxy_logf(px, KC_LOG_ERROR,
			   "accept: %s: refusing new connections until "
			   "descriptors free up",
			   evutil_socket_error_to_string(e));
	px->fd_short = 1;
	if (px->reserve_fd >= 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd;

		close(px->reserve_fd);
		px->reserve_fd = -1;
		fd = accept4(evconnlistener_get_fd(l), (struct sockaddr *)&ss,
			     &len, SOCK_CLOEXEC);
		if (fd >= 0) {
			char ip[64];
			uint16_t port;
			json_t *ev = evlog_event(&px->now, "conn.refused");

			sockaddr_text((struct sockaddr *)&ss, ip, sizeof(ip),
				      &port);
			json_object_set_new(ev, "client_addr", json_string(ip));
			json_object_set_new(ev, "client_port",
					    json_integer(port));
			json_object_set_new(ev, "reason",
					    json_string("out_of_descriptors"));
			proxy_emit(px, ev);
			close(fd);
			px->fd_refused++;
			stuck = 0;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* Linux says EMFILE before it looks at the queue: the
			 * last accept of a burst fails so with nobody
			 * waiting. */
			stuck = 0;
		}
		px->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (stuck || px->reserve_fd < 0) {
		px->accept_paused = 1;
		listeners_enable(px, 0);
	}
}

static void on_accept_error_bootstrap(struct evconnlistener *l, void *arg)
{
	accept_error(arg, l);
}

static void on_accept_error_broker(struct evconnlistener *l, void *arg)
{
	struct broker *b = arg;

	accept_error(b->px, l);
}

/* The janitor's part: listen again after a pause, and say when the
 * shortage is over (a sweep with no refusal since the last one). */
static void accept_recover(struct proxy *px)
{
	if (!px->fd_short)
		return;
	if (px->reserve_fd < 0)
		px->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (px->accept_paused && !px->draining) {
		px->accept_paused = 0;
		listeners_enable(px, 1);
		return;
	}
	if (px->reserve_fd >= 0 && px->fd_refused == px->fd_refused_was) {
		proxy_logf(px, KC_LOG_WARN,
			   "accept: descriptors available again; %u "
			   "connections were refused",
			   (unsigned)px->fd_refused);
		px->fd_short = 0;
		px->fd_refused = 0;
	}
	px->fd_refused_was = px->fd_refused;
}

/* Bind a listener on host:port (port 0: any). */
static struct evconnlistener *listen_on(struct proxy *px, const char *host,
					uint16_t port, evconnlistener_cb cb,
					void *arg, char *err, size_t errlen)
{
	struct evutil_addrinfo hints, *res = NULL, *ai;
	struct evconnlistener *l = NULL;
	char portstr[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = evutil_getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s:%u: %s", host, port,
			 evutil_gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai && !l; ai = ai->ai_next) {
		l = evconnlistener_new_bind(
			px->base, cb, arg,
			LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
				LEV_OPT_REUSEABLE,
			1024, ai->ai_addr, (int)ai->ai_addrlen);
		if (!l)
			snprintf(err, errlen, "%s:%u: %s", host, port,
				 strerror(errno));
	}
	evutil_freeaddrinfo(res);
	if (l)
		evconnlistener_set_error_cb(
			l, cb == on_accept_broker ? on_accept_error_broker
						  : on_accept_error_bootstrap);
	return l;
}

static uint16_t listener_port(struct evconnlistener *l, char *addr, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint16_t port = 0;

	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss,
			&sl) == 0)
		sockaddr_text((struct sockaddr *)&ss, addr, len, &port);
	return port;
}

/* An advertised host name, as the address clients will connect to. */
static void resolve_ip(const char *host, char *ip, size_t len)
{
	struct evutil_addrinfo hints, *res = NULL;

	snprintf(ip, len, "%s", host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (evutil_getaddrinfo(host, NULL, &hints, &res) == 0 && res) {
		uint16_t port;

		sockaddr_text(res->ai_addr, ip, len, &port);
		evutil_freeaddrinfo(res);
	}
}

/* ---- brokers ---- */

static size_t broker_index(struct proxy *px, int32_t id, int *found)
{
	size_t lo = 0, hi = px->n_brokers;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (px->brokers[mid]->id == id) {
			*found = 1;
			return mid;
		}
		if (px->brokers[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

struct broker *broker_find(struct proxy *px, int32_t id)
{
	int found;
	size_t i = broker_index(px, id, &found);

	return found ? px->brokers[i] : NULL;
}

/* Bind the broker's listener: the first free port of the configured
 * range, or an ephemeral one. */
static int broker_bind(struct proxy *px, struct broker *b, char *err,
		       size_t errlen)
{
	const struct kc_portrange *r = &px->cfg.broker_ports;

	if (r->lo == 0) {
		b->lst = listen_on(px, px->cfg.broker_bind, 0, on_accept_broker,
				   b, err, errlen);
	} else {
		for (uint32_t p = r->lo; p <= r->hi && !b->lst; p++) {
			int used = 0;

			for (size_t i = 0; i < px->n_brokers; i++)
				used |= px->brokers[i]->port == p;
			if (!used)
				b->lst = listen_on(
					px, px->cfg.broker_bind, (uint16_t)p,
					on_accept_broker, b, err, errlen);
		}
		if (!b->lst && !err[0])
			snprintf(err, errlen, "no free port in %u-%u", r->lo,
				 r->hi);
	}
	if (!b->lst)
		return -1;
	b->port = listener_port(b->lst, b->bind_addr, sizeof(b->bind_addr));
	return 0;
}

/* Bind the broker's listener and say so in a broker.listener event. A
 * broker whose listener cannot be bound (its ports taken by another
 * process) is tried again each time a response names it; the failure is
 * reported the first time, the success whenever it comes. */
static void broker_listen(struct proxy *px, struct broker *b)
{
	char err[256] = "";
	json_t *ev;

	if (broker_bind(px, b, err, sizeof(err)) < 0) {
		if (b->bind_failed++)
			return;
		proxy_logf(px, KC_LOG_ERROR,
			   "broker %d: cannot listen for it: %s; trying again "
			   "when it is next seen",
			   b->id, err);
	} else {
		proxy_logf(px, KC_LOG_INFO, "broker %d (%s:%u) at %s:%u", b->id,
			   b->upstream.host, b->upstream.port, b->bind_addr,
			   b->port);
	}
	ev = event(px, "broker.listener");
	json_object_set_new(ev, "broker_id", json_integer(b->id));
	json_object_set_new(ev, "upstream_addr", json_string(b->upstream.host));
	json_object_set_new(ev, "upstream_port",
			    json_integer(b->upstream.port));
	if (!b->lst) {
		json_object_set_new(ev, "error", json_string(err));
	} else {
		json_object_set_new(ev, "listen_addr",
				    json_string(b->bind_addr));
		json_object_set_new(ev, "listen_port", json_integer(b->port));
	}
	proxy_emit(px, ev);
}

struct broker *broker_learn(struct proxy *px, int32_t id, const char *host,
			    uint16_t port)
{
	int found;
	size_t i = broker_index(px, id, &found);
	struct broker *b;
	json_t *ev;

	if (found) {
		b = px->brokers[i];
		if (strcmp(b->upstream.host, host) == 0 &&
		    b->upstream.port == port) {
			if (!b->lst && !px->cfg.transparent && !px->draining)
				broker_listen(px, b);
			return b->lst ? b : NULL;
		}
		ev = event(px, "broker.moved");
		json_object_set_new(ev, "broker_id", json_integer(id));
		json_object_set_new(ev, "old_upstream_addr",
				    json_string(b->upstream.host));
		json_object_set_new(ev, "old_upstream_port",
				    json_integer(b->upstream.port));
		json_object_set_new(ev, "upstream_addr", json_string(host));
		json_object_set_new(ev, "upstream_port", json_integer(port));
		proxy_emit(px, ev);
		snprintf(b->upstream.host, sizeof(b->upstream.host), "%s",
			 host);
		b->upstream.port = port;
		return b->lst ? b : NULL;
	}
	if (px->n_brokers == px->cap_brokers) {
		size_t cap = px->cap_brokers ? px->cap_brokers * 2 : 8;
		struct broker **v = realloc(px->brokers, cap * sizeof(*v));

		if (!v)
			return NULL;
		px->brokers = v;
		px->cap_brokers = cap;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->id = id;
	b->px = px;
	snprintf(b->upstream.host, sizeof(b->upstream.host), "%s", host);
	b->upstream.port = port;
	memmove(&px->brokers[i + 1], &px->brokers[i],
		(px->n_brokers - i) * sizeof(*px->brokers));
	px->brokers[i] = b;
	px->n_brokers++;
	resolve_ip(host, b->upstream_ip, sizeof(b->upstream_ip));
	if (px->cfg.transparent) {
		/* Nothing to listen for: clients reach brokers directly,
		 * through the redirect. The broker is only named. */
		ev = event(px, "broker.seen");
		json_object_set_new(ev, "broker_id", json_integer(id));
		json_object_set_new(ev, "upstream_addr", json_string(host));
		json_object_set_new(ev, "upstream_port", json_integer(port));
		proxy_emit(px, ev);
		return b;
	}
	broker_listen(px, b);
	return b->lst ? b : NULL;
}

const struct broker *broker_by_addr(const struct proxy *px, const char *ip,
				    uint16_t port)
{
	for (size_t i = 0; i < px->n_brokers; i++) {
		const struct broker *b = px->brokers[i];

		if (b->upstream.port == port &&
		    (strcmp(b->upstream.host, ip) == 0 ||
		     strcmp(b->upstream_ip, ip) == 0))
			return b;
	}
	return NULL;
}

/* ---- sessions ---- */

struct session *session_get(struct proxy *px, const char *key)
{
	struct session *s;

	for (size_t i = 0; i < px->n_sessions; i++)
		if (strcmp(px->sessions[i]->key, key) == 0) {
			s = px->sessions[i];
			s->last_seen = px->now;
			return s;
		}
	if (px->n_sessions == px->cap_sessions) {
		size_t cap = px->cap_sessions ? px->cap_sessions * 2 : 16;
		struct session **v;

		if (px->n_sessions >= SESSIONS_MAX ||
		    !(v = realloc(px->sessions, cap * sizeof(*v))))
			return NULL;
		px->sessions = v;
		px->cap_sessions = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = ++px->next_session_id;
	s->last_seen = px->now;
	snprintf(s->key, sizeof(s->key), "%s", key);
	px->sessions[px->n_sessions++] = s;
	return s;
}

/* Forget sessions that have had no connection for a while: only open
 * connections point at a session, so none points at these. */
static void sessions_expire(struct proxy *px)
{
	size_t k = 0;

	for (size_t i = 0; i < px->n_sessions; i++) {
		struct session *s = px->sessions[i];

		if (s->open_conns == 0 &&
		    px->now.tv_sec - s->last_seen.tv_sec > SESSION_KEEP_S)
			free(s);
		else
			px->sessions[k++] = s;
	}
	px->n_sessions = k;
}

/* ---- timers and signals ---- */

static void reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *px = arg;
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&px->dead); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (conn_lingering(c))
			continue;
		TAILQ_REMOVE(&px->dead, c, link);
		conn_free(c);
	}
	if (px->draining && TAILQ_EMPTY(&px->conns) && TAILQ_EMPTY(&px->dead))
		event_base_loopexit(px->base, NULL);
}

static double since(const struct timeval *now, const struct timeval *t)
{
	return (double)(now->tv_sec - t->tv_sec) +
	       (double)(now->tv_usec - t->tv_usec) / 1e6;
}

/* Look up the client processes of new connections, in one batch: right
 * after the loop turn that accepted them (before a short-lived client
 * can be gone), one scan of /proc for all of them. */
static void lookup_pids(struct proxy *px)
{
	struct procinfo_query q[64];
	struct conn *who[64];
	struct conn *c;
	int n = 0;

	px->pid_pending = 0;

	TAILQ_FOREACH(c, &px->conns, link)
	{
		if (!c->pid_pending || n == 64)
			continue;
		c->pid_pending = 0;
		q[n].peer = (const struct sockaddr *)&c->peer_sa;
		q[n].local = (const struct sockaddr *)&c->local_sa;
		who[n++] = c;
	}
	if (!n || procinfo_lookup_batch(q, n) == 0)
		return;
	for (int i = 0; i < n; i++) {
		json_t *ev;

		if (q[i].pid < 0)
			continue;
		who[i]->pid = q[i].pid;
		snprintf(who[i]->comm, sizeof(who[i]->comm), "%s", q[i].comm);
		ev = evlog_event(&px->now, "conn.process");
		json_object_set_new(ev, "conn",
				    json_integer((json_int_t)who[i]->id));
		json_object_set_new(ev, "pid", json_integer(q[i].pid));
		json_object_set_new(ev, "comm", json_string(q[i].comm));
		json_object_set_new(ev, "listener", conn_listener_json(who[i]));
		proxy_emit(px, ev);
	}
}

static void pid_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *px = arg;

	proxy_tick(px);
	lookup_pids(px);
}

void proxy_want_pid(struct proxy *px)
{
	if (px->pid_ev && !px->pid_pending) {
		px->pid_pending = 1;
		event_active(px->pid_ev, EV_TIMEOUT, 0);
	}
}

static void janitor_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *px = arg;
	struct conn *c, *next;

	proxy_tick(px);
	lookup_pids(px); /* any left over from a burst */
	rules_tick(px->rules, proxy_now(px));
	for (c = TAILQ_FIRST(&px->conns); c; c = next) {
		next = TAILQ_NEXT(c, link);
		conn_janitor(c);
	}
	sessions_expire(px);
	accept_recover(px);
	/* Closed connections get a few seconds to write out their last
	 * bytes. */
	for (c = TAILQ_FIRST(&px->dead); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (conn_lingering(c) &&
		    since(&px->now, &c->closed_at) > LINGER_S)
			conn_linger_expire(c);
	}
	evlog_flush(px->log);
}

/* While draining: close each connection once nothing is in flight on it,
 * all of them at the deadline. */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy *px = arg;
	struct conn *c, *next;
	int late;

	proxy_tick(px);
	late = since(&px->now, &px->drain_deadline) >= 0;
	for (c = TAILQ_FIRST(&px->conns); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (late)
			conn_close(c, BY_PROXY, "drain_timeout", "shutdown",
				   NULL);
		else if (conn_inflight(c) == 0 &&
			 kp_split_at_boundary(&c->cli.split) &&
			 kp_split_at_boundary(&c->up.split))
			conn_close(c, BY_PROXY, "fin", "shutdown", NULL);
	}
	if (TAILQ_EMPTY(&px->conns))
		event_active(px->reaper, EV_TIMEOUT, 0);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct proxy *px = arg;
	struct timeval tick = {0, 50000};
	json_t *ev;

	if (px->draining)
		return;
	proxy_tick(px);
	px->draining = 1;
	px->drain_deadline = px->now;
	px->drain_deadline.tv_sec += px->cfg.drain_timeout_ms / 1000;
	px->drain_deadline.tv_usec += (px->cfg.drain_timeout_ms % 1000) * 1000;
	if (px->drain_deadline.tv_usec >= 1000000) {
		px->drain_deadline.tv_sec++;
		px->drain_deadline.tv_usec -= 1000000;
	}
	ev = event(px, "proxy.stopping");
	json_object_set_new(ev, "signal", json_string(strsignal((int)sig)));
	json_object_set_new(ev, "open_connections", json_integer(px->n_conns));
	proxy_emit(px, ev);
	proxy_logf(px, KC_LOG_INFO, "%s: draining %u connections",
		   strsignal((int)sig), px->n_conns);
	listeners_enable(px, 0);
	px->drain = event_new(px->base, -1, EV_PERSIST, drain_cb, px);
	event_add(px->drain, &tick);
	drain_cb(-1, 0, px);
}

/* Settings that change without a restart; the listen address and the
 * event log path are applied here too, the rest at the next start. */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct proxy *px = arg;
	struct kc_config next;
	struct rules_config rc;
	char err[512] = "";
	json_t *ev;

	memset(&next, 0, sizeof(next));
	ev = event(px, "config.reload");
	if (kc_config_from_args(&next, px->argc, px->argv, err, sizeof(err)) !=
		    0 ||
	    proxy_check_config(&next, &rc, err, sizeof(err)) != 0) {
		json_object_set_new(ev, "ok", json_false());
		json_object_set_new(ev, "error", json_string(err));
		proxy_logf(px, KC_LOG_ERROR,
			   "reload: %s; keeping the configuration in force",
			   err);
		proxy_emit(px, ev);
		kc_config_release(&next);
	} else {
		char path_err[512] = "";
		int new_path = strcmp(next.event_log, px->cfg.event_log) != 0;
		struct evlog *nl = NULL;

		if (new_path)
			nl = evlog_new(next.event_log, path_err,
				       sizeof(path_err));
		/* What needs a restart to change keeps its old value. */
		next.listen = px->cfg.listen;
		snprintf(next.broker_bind, sizeof(next.broker_bind), "%s",
			 px->cfg.broker_bind);
		next.broker_ports = px->cfg.broker_ports;
		if (new_path && !nl)
			snprintf(next.event_log, sizeof(next.event_log), "%s",
				 px->cfg.event_log);
		kc_config_release(&px->cfg);
		px->cfg = next;
		px->rules_cfg = rc;
		rules_reconfigure(px->rules, &px->rules_cfg);
		json_object_set_new(ev, "ok", json_true());
		if (path_err[0])
			json_object_set_new(ev, "error", json_string(path_err));
		proxy_emit(px, ev);
		if (nl) {
			evlog_free(px->log);
			px->log = nl;
		}
	}
	if (evlog_reopen(px->log, err, sizeof(err)) < 0)
		proxy_logf(px, KC_LOG_ERROR, "reload: %s", err);
	ev = event(px, "log.reopened");
	proxy_emit(px, ev);
	evlog_flush(px->log);
}

/* ---- life ---- */

struct proxy *proxy_new(struct kc_config *cfg, int argc, char **argv, char *err,
			size_t errlen)
{
	struct proxy *px = calloc(1, sizeof(*px));
	struct timeval jt;
	uint16_t port;
	json_t *ev;

	if (!px) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	px->cfg = *cfg;
	px->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (proxy_check_config(cfg, &px->rules_cfg, err, errlen) < 0)
		goto fail;
	px->argc = argc;
	px->argv = argv;
	TAILQ_INIT(&px->conns);
	TAILQ_INIT(&px->dead);
	/* The default (coarse) timer: a precise one reprograms a timerfd on
	 * every loop turn. Latencies read the clock themselves
	 * (proxy_tick). */
	px->base = event_base_new();
	if (!px->base) {
		snprintf(err, errlen, "cannot create the event loop");
		goto fail;
	}
	px->dns = evdns_base_new(px->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!px->dns)
		px->dns = evdns_base_new(px->base, 0);
	px->log = evlog_new(px->cfg.event_log, err, errlen);
	if (!px->log)
		goto fail;
	px->rules = rules_new(&px->rules_cfg, &rules_ops, px);
	if (!px->rules) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	px->bootstrap = listen_on(px, px->cfg.listen.host, px->cfg.listen.port,
				  on_accept_bootstrap, px, err, errlen);
	if (!px->bootstrap || admin_start(px, err, errlen) < 0)
		goto fail;
	port = listener_port(px->bootstrap, px->bootstrap_addr,
			     sizeof(px->bootstrap_addr));
	/* Everything that needs root is done: the listeners are bound and the
	 * event log is open. Broker listeners come later, as the user. In
	 * transparent mode with a mark, CAP_NET_ADMIN stays for SO_MARK. */
	if (px->cfg.user[0]) {
		if (privdrop(px->cfg.user, px->cfg.transparent && px->cfg.mark,
			     err, errlen) < 0)
			goto fail;
		proxy_logf(px, KC_LOG_INFO, "running as %s (uid %u, gid %u)%s",
			   px->cfg.user, (unsigned)getuid(), (unsigned)getgid(),
			   px->cfg.transparent && px->cfg.mark
				   ? ", keeping CAP_NET_ADMIN for SO_MARK"
				   : "");
	}
	px->reaper = event_new(px->base, -1, 0, reaper_cb, px);
	px->flusher = event_new(px->base, -1, 0, flusher_cb, px);
	px->pid_ev = event_new(px->base, -1, 0, pid_cb, px);
	px->janitor = event_new(px->base, -1, EV_PERSIST, janitor_cb, px);
	px->sig_hup = evsignal_new(px->base, SIGHUP, on_hup, px);
	px->sig_term = evsignal_new(px->base, SIGTERM, on_term, px);
	px->sig_int = evsignal_new(px->base, SIGINT, on_term, px);
	jt.tv_sec = px->cfg.janitor_interval_ms / 1000;
	jt.tv_usec = (px->cfg.janitor_interval_ms % 1000) * 1000;
	if (!px->reaper || !px->flusher || !px->pid_ev || !px->janitor ||
	    !px->sig_hup || !px->sig_term || !px->sig_int ||
	    event_add(px->janitor, &jt) < 0 ||
	    event_add(px->sig_hup, NULL) < 0 ||
	    event_add(px->sig_term, NULL) < 0 ||
	    event_add(px->sig_int, NULL) < 0) {
		snprintf(err, errlen, "cannot set up timers and signals");
		goto fail;
	}
	ev = event(px, "proxy.start");
	json_object_set_new(ev, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(ev, "pid", json_integer(getpid()));
	json_object_set_new(ev, "listen_addr", json_string(px->bootstrap_addr));
	json_object_set_new(ev, "listen_port", json_integer(port));
	{
		json_t *ups = json_array();

		for (int i = 0; i < px->cfg.n_upstreams; i++) {
			char buf[300];

			snprintf(buf, sizeof(buf), "%s:%u",
				 px->cfg.upstreams[i].host,
				 px->cfg.upstreams[i].port);
			json_array_append_new(ups, json_string(buf));
		}
		json_object_set_new(ev, "upstreams", ups);
	}
	proxy_emit(px, ev);
	evlog_flush(px->log);
	proxy_logf(px, KC_LOG_INFO, "listening on %s:%u", px->bootstrap_addr,
		   port);
	return px;
fail:
	cfg->rules = cfg->admin = NULL; /* now owned by px->cfg */
	proxy_free(px);
	return NULL;
}

int proxy_run(struct proxy *px)
{
	json_t *ev;

	event_base_dispatch(px->base);
	proxy_tick(px);
	ev = event(px, "proxy.stop");
	json_object_set_new(ev, "dropped_events",
			    json_integer((json_int_t)evlog_dropped(px->log)));
	proxy_emit(px, ev);
	evlog_flush(px->log);
	return px->exit_code;
}

void proxy_free(struct proxy *px)
{
	struct conn *c;

	if (!px)
		return;
	while ((c = TAILQ_FIRST(&px->conns)))
		conn_close(c, BY_PROXY, "exit", "shutdown", NULL);
	while ((c = TAILQ_FIRST(&px->dead))) {
		TAILQ_REMOVE(&px->dead, c, link);
		conn_free(c);
	}
	for (size_t i = 0; i < px->n_brokers; i++) {
		if (px->brokers[i]->lst)
			evconnlistener_free(px->brokers[i]->lst);
		free(px->brokers[i]);
	}
	free(px->brokers);
	for (size_t i = 0; i < px->n_sessions; i++)
		free(px->sessions[i]);
	free(px->sessions);
	free(px->scratch);
	if (px->reserve_fd >= 0)
		close(px->reserve_fd);
	if (px->bootstrap)
		evconnlistener_free(px->bootstrap);
	if (px->drain)
		event_free(px->drain);
	if (px->reaper)
		event_free(px->reaper);
	if (px->flusher)
		event_free(px->flusher);
	if (px->pid_ev)
		event_free(px->pid_ev);
	if (px->janitor)
		event_free(px->janitor);
	if (px->sig_hup)
		event_free(px->sig_hup);
	if (px->sig_term)
		event_free(px->sig_term);
	if (px->sig_int)
		event_free(px->sig_int);
	if (px->dns)
		evdns_base_free(px->dns, 0);
	admin_stop(px);
	rules_free(px->rules);
	evlog_free(px->log);
	if (px->base)
		event_base_free(px->base);
	kc_config_release(&px->cfg);
	free(px);
}
