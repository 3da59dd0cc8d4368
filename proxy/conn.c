/*
 * conn: accepting a client, connecting its upstream, backpressure between
 * the two, and the end of a connection: one close function with a reason,
 * which writes the conn.close record that tells the connection's life.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <linux/netfilter_ipv4.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "evlog.h"
#include "kp_msg_group.h"
#include "kp_schema.h"
#include "metrics.h"
#include "procinfo.h"
#include "proxy.h"

/* Seconds without a connection after which a client session's next
 * connection starts a new client instance. */
#define SESSION_GAP_S 10.0

static const char *const state_names[] = {
	[CONN_CONNECTING] = "connecting", [CONN_ACTIVE] = "active",
	[CONN_SASL_RAW] = "sasl_raw",     [CONN_OPAQUE] = "opaque",
	[CONN_CLOSED] = "closed",
};

static const char *const by_names[] = {
	[BY_NONE] = "none",
	[BY_CLIENT] = "client",
	[BY_BROKER] = "broker",
	[BY_PROXY] = "proxy",
};

static void conn_up_connect(struct conn *c);

/* Every relayed socket: no Nagle delay on small frames (Kafka brokers
 * and clients set TCP_NODELAY too), and reads and writes of up to 256 KiB
 * at a time instead of libevent's 4 KiB default. */
/* Bytes read or written in one go; libevent 2.1's own reads stop at
 * 4 KiB whatever the bufferevent's maximum says, see side_read_more(). */
#define SIDE_IO_MAX (256 * 1024)

static void side_tune(struct bufferevent *bev)
{
	int one = 1;
	evutil_socket_t fd = bufferevent_getfd(bev);

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_set_max_single_read(bev, SIDE_IO_MAX);
	bufferevent_set_max_single_write(bev, SIDE_IO_MAX);
}

/* The bufferevent read at most 4 KiB (evbuffer_read's cap in libevent
 * 2.1): take what else the socket holds in one readv, up to SIDE_IO_MAX
 * and while the other side has room, so that a busy connection costs one
 * wakeup per socket buffer, not one per 4 KiB. End of file and errors are
 * left to the bufferevent, which sees them on its next read. */
static void side_read_more(struct conn *c, struct side *s, struct side *to)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	int n, i;
	ssize_t got;
	size_t left;

	if (!to->bev || evbuffer_get_length(bufferevent_get_output(to->bev)) >
				c->px->cfg.buffer_high)
		return;
	/* The bufferevent keeps its input's end frozen but while it reads. */
	evbuffer_unfreeze(in, 0);
	n = evbuffer_reserve_space(in, SIDE_IO_MAX, v, 2);
	if (n <= 0)
		goto out;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	got = readv(bufferevent_getfd(s->bev), iov, n);
	if (got <= 0) {
		evbuffer_commit_space(in, v, 0);
		goto out;
	}
	for (i = 0, left = (size_t)got; i < n; i++) {
		v[i].iov_len = left < v[i].iov_len ? left : v[i].iov_len;
		left -= v[i].iov_len;
	}
	evbuffer_commit_space(in, v, n);
out:
	evbuffer_freeze(in, 0);
}

static double tv_sec(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double tv_diff(const struct timeval *a, const struct timeval *b)
{
	return tv_sec(a) - tv_sec(b);
}

static void addr_text(const struct sockaddr *sa, char *ip, size_t iplen,
		      uint16_t *port)
{
	ip[0] = '\0';
	*port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(in6->sin6_port);
	}
}

void conn_set_state(struct conn *c, enum conn_state to, const char *why)
{
	if (c->state == to || c->state == CONN_CLOSED)
		return;
	proxy_logf(c->px, KC_LOG_DEBUG, "conn %llu: %s -> %s (%s)",
		   (unsigned long long)c->id, state_names[c->state],
		   state_names[to], why);
	c->state = to;
}

/* ---- writing and backpressure ---- */

/* Reading from one side stops while the other side's output is above the
 * high-water mark, and starts again when it drains below the low one.
 * Writing is ours while a side's output fits in its socket: conn_flush()
 * writes at once what a read moved, and the bufferevent is asked to write
 * (EV_WRITE) only for what the socket would not take; once that is out,
 * its write event is put away again. A bufferevent left to write on its
 * own would add and remove its write event (two epoll_ctl calls, and one
 * more pass through the loop) for every chunk forwarded. */
static void side_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct side *other = bev == c->cli.bev ? &c->up : &c->cli;

	if (c->state == CONN_CLOSED || c->state == CONN_CONNECTING)
		return;
	proxy_tick(c->px);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
	if (other->bev)
		bufferevent_enable(other->bev, EV_READ);
}

static void side_flush(struct conn *c, struct side *s)
{
	struct evbuffer *out;

	if (!s->bev)
		return;
	out = bufferevent_get_output(s->bev);
	if (evbuffer_get_length(out) == 0 ||
	    (bufferevent_get_enabled(s->bev) & EV_WRITE))
		return;
	/* An error is left for the bufferevent to meet on its own write, and
	 * report through the event callback like any other. */
	if (evbuffer_write_atmost(out, bufferevent_getfd(s->bev), -1) < 0 ||
	    evbuffer_get_length(out) > 0)
		bufferevent_enable(s->bev, EV_WRITE);
	if (evbuffer_get_length(out) <= c->px->cfg.buffer_low)
		side_write_cb(s->bev, c);
}

void conn_flush(struct conn *c)
{
	if (c->state == CONN_CLOSED || c->state == CONN_CONNECTING)
		return;
	side_flush(c, &c->up);
	side_flush(c, &c->cli);
}

static void cli_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	proxy_tick(c->px);
	side_read_more(c, &c->cli, &c->up);
	relay_client_readable(c);
}

static void up_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	proxy_tick(c->px);
	side_read_more(c, &c->up, &c->cli);
	relay_upstream_readable(c);
}

/* How a side ended, from a bufferevent event. */
static const char *end_how(struct conn *c, struct side *s, short what)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	if (what & BEV_EVENT_ERROR) {
		int e = EVUTIL_SOCKET_ERROR();

		if (e == ECONNRESET)
			return "rst";
		if (e == ETIMEDOUT)
			return "timeout";
		if (e == EPIPE)
			return "broken_pipe";
		return "error";
	}
	if (!kp_split_at_boundary(&s->split) || evbuffer_get_length(in) > 0)
		return "mid_frame_eof";
	return "fin";
}

static void cli_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	proxy_tick(c->px);
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		const char *how = end_how(c, &c->cli, what);

		/* What the client sent before it left still goes upstream.
		 * A FIN from a Kafka client means it is gone, and a broker
		 * treats it so: the connection ends here, answers still due
		 * are counted in flight (the FIN is passed on once its last
		 * requests are written, see side_close). */
		if (c->state != CONN_CONNECTING)
			relay_client_readable(c);
		conn_close(c, BY_CLIENT, how, "client_closed", NULL);
	}
}

static void up_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	proxy_tick(c->px);
	if (what & BEV_EVENT_CONNECTED) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char ip[64];
		uint16_t port;

		if (getsockname(bufferevent_getfd(bev), (struct sockaddr *)&ss,
				&len) == 0) {
			addr_text((struct sockaddr *)&ss, ip, sizeof(ip),
				  &port);
			snprintf(c->up_local, sizeof(c->up_local), "%s:%u", ip,
				 port);
		}
		c->connected = c->px->now;
		side_tune(c->up.bev);
		bufferevent_disable(c->up.bev, EV_WRITE);
		bufferevent_disable(c->cli.bev, EV_WRITE);
		conn_set_state(c, CONN_ACTIVE, "upstream connected");
		bufferevent_enable(c->up.bev, EV_READ);
		bufferevent_enable(c->cli.bev, EV_READ);
		relay_client_readable(c);
		return;
	}
	if (c->state == CONN_CONNECTING) {
		int e = EVUTIL_SOCKET_ERROR();
		int dns = bufferevent_socket_get_dns_error(bev);

		snprintf(c->reason_detail, sizeof(c->reason_detail),
			 "%s:%u: %s", c->up_host, c->up_port,
			 dns ? evutil_gai_strerror(dns)
			     : evutil_socket_error_to_string(e));
		proxy_logf(c->px, KC_LOG_WARN, "conn %llu: upstream %s",
			   (unsigned long long)c->id, c->reason_detail);
		/* A bootstrap connection tries the next upstream. */
		if (!c->broker && c->up_attempts < c->px->cfg.n_upstreams) {
			bufferevent_free(c->up.bev);
			c->up.bev = NULL;
			conn_up_connect(c);
			return;
		}
		/* Out of descriptors or buffers: our side failed, not the
		 * route to the broker. */
		conn_close(c, BY_PROXY, "connect_failed",
			   e == ECONNREFUSED ? "upstream_refused"
			   : e == EMFILE || e == ENFILE || e == ENOBUFS ||
					   e == ENOMEM
				   ? "upstream_socket"
				   : "upstream_unreachable",
			   c->reason_detail);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		const char *how = end_how(c, &c->up, what);

		/* Deliver what the broker said before it left. */
		relay_upstream_readable(c);
		conn_close(c, BY_BROKER, how, "broker_closed", NULL);
	}
}

/* ---- opening ---- */

/* Where a redirected connection was headed: SO_ORIGINAL_DST (IPv4) or
 * IP6T_SO_ORIGINAL_DST (IPv6, option 80 at SOL_IPV6). A connection that
 * was not redirected reports our own address. */
static void original_dst(struct conn *c, int fd)
{
	socklen_t len = sizeof(c->orig_dst);
	int rc;

	memset(&c->orig_dst, 0, sizeof(c->orig_dst));
	rc = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &c->orig_dst, &len);
	if (rc < 0) {
		len = sizeof(c->orig_dst);
		rc = getsockopt(fd, SOL_IPV6, 80, &c->orig_dst, &len);
	}
	if (rc < 0)
		return;
	c->orig_dst_len = len;
	addr_text((struct sockaddr *)&c->orig_dst, c->orig_ip,
		  sizeof(c->orig_ip), &c->orig_port);
	/* Our own address: a client that came straight to the listener. */
	if (strcmp(c->orig_ip, c->local_ip) == 0 &&
	    c->orig_port == c->local_port)
		return;
	c->transparent = 1;
}

/* Transparent mode: connect to the original destination, from a socket
 * carrying the configured mark so the redirect rules let it pass. */
static void conn_up_connect_orig(struct conn *c)
{
	struct proxy *px = c->px;
	int fd;

	c->up_attempts++;
	snprintf(c->up_host, sizeof(c->up_host), "%s", c->orig_ip);
	c->up_port = c->orig_port;
	fd = socket(c->orig_dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    (px->cfg.mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &px->cfg.mark,
					sizeof(px->cfg.mark)) < 0) ||
	    evutil_make_socket_nonblocking(fd) < 0) {
		snprintf(c->reason_detail, sizeof(c->reason_detail),
			 "upstream socket%s: %s",
			 px->cfg.mark ? " (SO_MARK needs CAP_NET_ADMIN)" : "",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		conn_close(c, BY_PROXY, "connect_failed", "upstream_socket",
			   c->reason_detail);
		return;
	}
	c->up.bev = bufferevent_socket_new(px->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->up.bev) {
		close(fd);
		conn_close(c, BY_PROXY, "connect_failed", "out_of_memory",
			   NULL);
		return;
	}
	bufferevent_setcb(c->up.bev, up_read_cb, side_write_cb, up_event_cb, c);
	bufferevent_setwatermark(c->up.bev, EV_WRITE, px->cfg.buffer_low, 0);
	if (bufferevent_socket_connect(c->up.bev,
				       (struct sockaddr *)&c->orig_dst,
				       (int)c->orig_dst_len) < 0 &&
	    c->state == CONN_CONNECTING && c->up.bev)
		up_event_cb(c->up.bev, BEV_EVENT_ERROR, c);
}

static void conn_up_connect(struct conn *c)
{
	struct proxy *px = c->px;
	const struct kc_hostport *hp;

	if (c->transparent) {
		conn_up_connect_orig(c);
		return;
	}

	if (c->broker) {
		hp = &c->broker->upstream;
	} else {
		hp = &px->cfg.upstreams[px->next_upstream %
					px->cfg.n_upstreams];
		px->next_upstream++;
	}
	c->up_attempts++;
	snprintf(c->up_host, sizeof(c->up_host), "%s", hp->host);
	c->up_port = hp->port;
	c->up.bev = bufferevent_socket_new(px->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->up.bev) {
		conn_close(c, BY_PROXY, "connect_failed", "out_of_memory",
			   NULL);
		return;
	}
	bufferevent_setcb(c->up.bev, up_read_cb, side_write_cb, up_event_cb, c);
	bufferevent_setwatermark(c->up.bev, EV_WRITE, px->cfg.buffer_low, 0);
	if (bufferevent_socket_connect_hostname(c->up.bev, px->dns, AF_UNSPEC,
						c->up_host, c->up_port) < 0) {
		/* Failures reported synchronously come through the event
		 * callback too, unless the bufferevent could not start. */
		if (c->state == CONN_CONNECTING && c->up.bev &&
		    bufferevent_getfd(c->up.bev) < 0)
			up_event_cb(c->up.bev, BEV_EVENT_ERROR, c);
	}
}

json_t *conn_listener_json(const struct conn *c)
{
	json_t *l = json_object();

	json_object_set_new(l, "kind",
			    json_string(c->transparent ? "transparent"
					: c->broker    ? "broker"
						       : "bootstrap"));
	if (c->broker)
		json_object_set_new(l, "broker_id",
				    json_integer(c->broker->id));
	json_object_set_new(l, "addr", json_string(c->local_ip));
	json_object_set_new(l, "port", json_integer(c->local_port));
	if (c->transparent) {
		json_object_set_new(l, "original_addr",
				    json_string(c->orig_ip));
		json_object_set_new(l, "original_port",
				    json_integer(c->orig_port));
	}
	return l;
}

/* Why a new client must be turned away now, or NULL. Above
 * max_buffered_total, each refusal episode is logged once as it starts
 * and once as it ends (with the next client accepted). */
static const char *accept_refusal(struct proxy *px, size_t *buffered)
{
	size_t limit = px->cfg.max_buffered_total;

	if (px->draining)
		return "shutdown";
	if (px->cfg.max_connections > 0 &&
	    px->n_conns >= (uint32_t)px->cfg.max_connections)
		return "max_connections";
	if (!limit)
		return NULL;
	*buffered = proxy_buffered(px);
	if (*buffered > limit) {
		if (!px->mem_refusing)
			proxy_logf(
				px, KC_LOG_WARN,
				"%zu bytes buffered, over max_buffered_total "
				"%zu: refusing new clients",
				*buffered, limit);
		px->mem_refusing = 1;
		return "memory_limit";
	}
	if (px->mem_refusing)
		proxy_logf(px, KC_LOG_WARN,
			   "%zu bytes buffered, within max_buffered_total %zu "
			   "again: accepting new clients",
			   *buffered, limit);
	px->mem_refusing = 0;
	return NULL;
}

void conn_accept(struct proxy *px, struct broker *broker, int fd,
		 const struct sockaddr *sa, int salen)
{
	struct conn *c;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	json_t *ev;
	int refused;
	const char *why;
	size_t buffered = 0;

	proxy_tick(px);
	why = accept_refusal(px, &buffered);
	if (why) {
		char ip[64];
		uint16_t port;

		addr_text(sa, ip, sizeof(ip), &port);
		ev = evlog_event(&px->now, "conn.refused");
		json_object_set_new(ev, "client_addr", json_string(ip));
		json_object_set_new(ev, "client_port", json_integer(port));
		json_object_set_new(ev, "reason", json_string(why));
		if (!strcmp(why, "memory_limit"))
			json_object_set_new(ev, "buffered_bytes",
					    json_integer((json_int_t)buffered));
		proxy_emit(px, ev);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->req_count = calloc((size_t)kp_api_count, sizeof(uint32_t));
	if (!c || !c->req_count) {
		proxy_logf(px, KC_LOG_ERROR, "accept: out of memory");
		if (c)
			free(c);
		close(fd);
		return;
	}
	c->px = px;
	c->id = ++px->next_conn_id;
	c->broker = broker;
	c->state = CONN_CONNECTING;
	c->pid = -1;
	c->opened = px->now;
	c->last_io = px->now;
	c->quiet_since = px->now;
	c->quiet = 1;
	addr_text(sa, c->peer_ip, sizeof(c->peer_ip), &c->peer_port);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		addr_text((struct sockaddr *)&ss, c->local_ip,
			  sizeof(c->local_ip), &c->local_port);
	if (px->cfg.transparent && !broker)
		original_dst(c, fd);
	/* Which process is at the other end is asked of /proc once this
	 * loop turn is over, for all its new connections at once: a scan of
	 * /proc takes tens of milliseconds, too long to do per accept. */
	if (px->cfg.proc_lookup && salen <= (int)sizeof(c->peer_sa)) {
		memcpy(&c->peer_sa, sa, (size_t)salen);
		memcpy(&c->local_sa, &ss, sizeof(ss));
		c->pid_pending = 1;
		proxy_want_pid(px);
	}
	TAILQ_INSERT_TAIL(&px->conns, c, link);
	px->n_conns++;
	refused = rules_open(px->rules, c->id, c->peer_ip,
			     broker ? broker->id : -1, proxy_now(px)) < 0;

	ev = evlog_event(&px->now, "conn.open");
	json_object_set_new(ev, "conn", json_integer((json_int_t)c->id));
	json_object_set_new(ev, "client_addr", json_string(c->peer_ip));
	json_object_set_new(ev, "client_port", json_integer(c->peer_port));
	json_object_set_new(ev, "listener", conn_listener_json(c));
	if (c->pid >= 0) {
		json_object_set_new(ev, "pid", json_integer(c->pid));
		json_object_set_new(ev, "comm", json_string(c->comm));
	}
	proxy_emit(px, ev);
	metrics_on_open(px, c);

	c->cli.bev =
		bufferevent_socket_new(px->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->cli.bev) {
		close(fd);
		conn_close(c, BY_PROXY, "error", "out_of_memory", NULL);
		return;
	}
	bufferevent_setcb(c->cli.bev, cli_read_cb, side_write_cb, cli_event_cb,
			  c);
	side_tune(c->cli.bev);
	bufferevent_setwatermark(c->cli.bev, EV_WRITE, px->cfg.buffer_low, 0);
	if (refused) {
		conn_close(c, BY_PROXY, "refused", "enforce.max_conns_addr",
			   NULL);
		return;
	}
	if (px->cfg.transparent && !broker && !c->transparent &&
	    px->cfg.n_upstreams == 0) {
		conn_close(c, BY_PROXY, "refused", "not_redirected",
			   "transparent mode: this connection was not "
			   "redirected and no upstream is configured");
		return;
	}
	/* Nothing is read from the client until its upstream is there. */
	bufferevent_disable(c->cli.bev, EV_READ);
	conn_up_connect(c);
}

/* Nothing in flight and no frame half-way through either side. */
static int conn_quiet(const struct conn *c)
{
	return c->q_len == 0 && kp_split_at_boundary(&c->cli.split) &&
	       kp_split_at_boundary(&c->up.split) && !c->cli.waiting &&
	       !c->up.waiting;
}

void conn_close_if_quiet(struct conn *c)
{
	if (c->state == CONN_CLOSED || !conn_quiet(c))
		return;
	if (c->close_rule)
		conn_close(c, BY_PROXY, "fin", c->close_rule, NULL);
}

void conn_close_when_quiet(struct conn *c, const char *rule)
{
	if (c->state == CONN_CLOSED)
		return;
	c->close_rule = rule;
	conn_close_if_quiet(c);
}

void conn_note_gap(struct conn *c, double gap)
{
	int min = 0;

	if (gap > c->max_idle_s)
		c->max_idle_s = gap;
	if (gap < 1.0)
		return;
	if (c->n_gaps < 16) {
		c->gaps[c->n_gaps++] = (float)gap;
		return;
	}
	for (int i = 1; i < 16; i++)
		if (c->gaps[i] < c->gaps[min])
			min = i;
	if (gap > c->gaps[min])
		c->gaps[min] = (float)gap;
}

void conn_join_session(struct conn *c)
{
	char key[320];

	snprintf(key, sizeof(key), "%s|%s|%s", c->peer_ip, c->client_id,
		 c->sw_name);
	c->session = session_get(c->px, key);
	if (c->session) {
		/* The first connection of a client instance: its session had
		 * none open, and none closed moments ago (kafka-python closes
		 * its bootstrap connection just before using the next). */
		c->first_in_session =
			c->session->open_conns == 0 &&
			(c->session->total_conns == 0 ||
			 tv_diff(&c->px->now, &c->session->last_close) >
				 SESSION_GAP_S);
		c->session->open_conns++;
		c->session->total_conns++;
	}
}

/* ---- closing ---- */

/* Requests a bootstrap connection carries and nothing else. */
static int bootstrap_only(const struct conn *c)
{
	static const int16_t ok[] = {
		KP_API_API_VERSIONS,
		KP_API_METADATA,
		KP_API_FIND_COORDINATOR,
		KP_API_INIT_PRODUCER_ID,
		KP_API_SASL_HANDSHAKE,
		KP_API_SASL_AUTHENTICATE,
		KP_API_GET_TELEMETRY_SUBSCRIPTIONS,
	};

	for (int16_t k = 0; k < kp_api_count; k++) {
		int allowed = 0;

		for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
			allowed |= ok[i] == k;
		if (c->req_count[k] && !allowed)
			return 0;
	}
	return c->req_unknown == 0;
}

/* Transparent mode has no bootstrap listener: the first connection of a
 * client session to a configured bootstrap address, or the first that
 * carried only bootstrap requests, is the bootstrap connection; a broker
 * is known by its address from the Metadata the proxy saw. */
static const char *transparent_role(const struct conn *c, int32_t *node_id,
				    uint32_t data, uint32_t coord)
{
	const struct proxy *px = c->px;
	const struct broker *b =
		broker_by_addr(c->px, c->orig_ip, c->orig_port);
	int configured = 0;

	for (int i = 0; i < px->cfg.n_upstreams; i++)
		configured |=
			px->cfg.upstreams[i].port == c->orig_port &&
			strcmp(px->cfg.upstreams[i].host, c->orig_ip) == 0;
	*node_id = b ? b->id : -1;
	if (c->first_in_session &&
	    (configured || (!data && !coord && bootstrap_only(c)))) {
		*node_id = -1;
		return "bootstrap";
	}
	if (data)
		return "data";
	if (coord) {
		if (b)
			*node_id = INT32_MAX - b->id;
		return "coordinator";
	}
	return "other";
}

/* What the connection was for, from the APIs it carried. */
const char *conn_role(const struct conn *c, int32_t *node_id)
{
	uint32_t data = 0, coord = 0, other = 0;

	for (int16_t k = 0; k < kp_api_count; k++) {
		uint32_t n = c->req_count[k];

		if (!n)
			continue;
		switch (k) {
		case KP_API_PRODUCE:
		case KP_API_FETCH:
		case KP_API_LIST_OFFSETS:
			data += n;
			break;
		case KP_API_API_VERSIONS:
		case KP_API_SASL_HANDSHAKE:
		case KP_API_SASL_AUTHENTICATE:
			break; /* every connection carries these */
		default:
			if (kp_api_class(k) != KP_API_CLASS_OTHER)
				coord += n;
			else
				other += n;
			break;
		}
	}
	if (c->transparent)
		return transparent_role(c, node_id, data, coord);
	if (!c->broker) {
		*node_id = -1;
		return "bootstrap";
	}
	*node_id = c->broker->id;
	if (data)
		return "data";
	if (coord) {
		*node_id = INT32_MAX - c->broker->id;
		return "coordinator";
	}
	return "other";
}

static json_t *requests_json(const struct conn *c)
{
	json_t *o = json_object();

	for (int16_t k = 0; k < kp_api_count; k++)
		if (c->req_count[k])
			json_object_set_new(o, kp_api_name(k),
					    json_integer(c->req_count[k]));
	if (c->req_unknown)
		json_object_set_new(o, "Unknown", json_integer(c->req_unknown));
	return o;
}

static json_t *errors_json(const struct conn *c)
{
	json_t *o = json_object();

	for (int i = 0; i < CONN_MAX_ERRCODES && c->errs[i].n; i++) {
		const char *name = kp_error_name(c->errs[i].code);
		char buf[24];

		if (!name) {
			snprintf(buf, sizeof(buf), "%d", c->errs[i].code);
			name = buf;
		}
		json_object_set_new(o, name, json_integer(c->errs[i].n));
	}
	if (c->errs_other)
		json_object_set_new(o, "other", json_integer(c->errs_other));
	return o;
}

static json_t *close_record(struct conn *c)
{
	struct proxy *px = c->px;
	json_t *ev = evlog_event(&px->now, "conn.close");
	int32_t node_id;
	const char *role = conn_role(c, &node_id);
	char ts[40];
	double idle;

	json_object_set_new(ev, "conn", json_integer((json_int_t)c->id));
	json_object_set_new(ev, "client_addr", json_string(c->peer_ip));
	json_object_set_new(ev, "client_port", json_integer(c->peer_port));
	json_object_set_new(ev, "listener", conn_listener_json(c));
	{
		const struct broker *b =
			c->broker ? c->broker
			: c->transparent
				? broker_by_addr(px, c->orig_ip, c->orig_port)
				: NULL;

		json_object_set_new(ev, "broker_id",
				    b ? json_integer(b->id) : json_null());
	}
	json_object_set_new(ev, "upstream_addr", json_string(c->up_host));
	json_object_set_new(ev, "upstream_port", json_integer(c->up_port));
	json_object_set_new(ev, "upstream_local",
			    c->up_local[0] ? json_string(c->up_local)
					   : json_null());
	evlog_ts(&c->opened, ts, sizeof(ts));
	json_object_set_new(ev, "opened", json_string(ts));
	evlog_ts(&px->now, ts, sizeof(ts));
	json_object_set_new(ev, "closed", json_string(ts));
	json_object_set_new(ev, "duration_s",
			    json_real(tv_diff(&px->now, &c->opened)));
	json_object_set_new(ev, "client_id",
			    c->client_id[0] ? json_string(c->client_id)
					    : json_null());
	json_object_set_new(ev, "client_software_name",
			    c->sw_name[0] ? json_string(c->sw_name)
					  : json_null());
	json_object_set_new(ev, "client_software_version",
			    c->sw_version[0] ? json_string(c->sw_version)
					     : json_null());
	if (c->instance_id[0])
		json_object_set_new(ev, "client_instance_id",
				    json_string(c->instance_id));
	if (c->session)
		json_object_set_new(ev, "session",
				    json_integer(c->session->id));
	if (c->pid >= 0) {
		json_object_set_new(ev, "pid", json_integer(c->pid));
		json_object_set_new(ev, "comm", json_string(c->comm));
	}
	json_object_set_new(ev, "role", json_string(role));
	json_object_set_new(ev, "client_node_id", json_integer(node_id));
	json_object_set_new(ev, "mode", json_string(state_names[c->state]));
	json_object_set_new(ev, "requests", requests_json(c));
	json_object_set_new(ev, "responses", json_integer(c->responses));
	json_object_set_new(ev, "bytes_from_client",
			    json_integer((json_int_t)c->cli.bytes));
	json_object_set_new(ev, "bytes_from_broker",
			    json_integer((json_int_t)c->up.bytes));
	json_object_set_new(ev, "errors", errors_json(c));
	json_object_set_new(ev, "decode_problems",
			    json_integer(c->decode_problems));
	json_object_set_new(ev, "inexact_frames",
			    json_integer(c->inexact_frames));
	json_object_set_new(ev, "rewritten_responses",
			    json_integer(c->rewritten));
	idle = c->max_idle_s;
	if (c->quiet && tv_diff(&px->now, &c->quiet_since) > idle)
		idle = tv_diff(&px->now, &c->quiet_since);
	json_object_set_new(ev, "max_idle_s", json_real(idle));
	{
		json_t *gaps = json_array();

		for (int i = 0; i < c->n_gaps; i++)
			json_array_append_new(gaps, json_real(c->gaps[i]));
		if (c->quiet && tv_diff(&px->now, &c->quiet_since) >= 1.0)
			json_array_append_new(
				gaps,
				json_real(tv_diff(&px->now, &c->quiet_since)));
		json_object_set_new(ev, "idle_gaps_s", gaps);
	}
	json_object_set_new(ev, "inflight_at_close", json_integer(c->q_len));
	json_object_set_new(ev, "closed_by",
			    json_string(by_names[c->closed_by]));
	json_object_set_new(ev, "how", json_string(c->how));
	json_object_set_new(ev, "reason", json_string(c->reason));
	if (c->reason_detail[0])
		json_object_set_new(ev, "detail",
				    json_string(c->reason_detail));
	return ev;
}

/* A closed connection's side may still hold output for its peer (the
 * broker's last response, say): it lingers until that is written and the
 * peer has closed, or until the janitor gives up on it (LINGER_S), and
 * only then is it freed. */
static void linger_done(struct conn *c, struct side *s)
{
	bufferevent_free(s->bev);
	s->bev = NULL;
	if (!c->cli.bev && !c->up.bev)
		event_active(c->px->reaper, EV_TIMEOUT, 0);
}

/* Once what was queued for this side is written, say so with a FIN, and
 * keep reading (and dropping) until the peer closes too: closing a socket
 * with unread bytes would send an RST, and the peer's kernel would throw
 * away what its application had not read yet. */
static void linger_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		shutdown(bufferevent_getfd(bev), SHUT_WR);
	(void)c;
}

static void linger_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	(void)arg;
}

static void linger_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	linger_done(c, bev == c->cli.bev ? &c->cli : &c->up);
}

/* A peer that sent a FIN may still read: what is queued for it is
 * written, then the socket closed. */
static void fin_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		linger_done(c, bev == c->cli.bev ? &c->cli : &c->up);
}

/* How a side ends: its peer reset it (SIDE_GONE: nothing more can be
 * written), sent a FIN (SIDE_FIN: write what is queued, then close), or
 * is still there (SIDE_OPEN: write, FIN, read until the peer closes). */
enum side_end { SIDE_OPEN, SIDE_FIN, SIDE_GONE };

static void side_close(struct conn *c, struct side *s, enum side_end end)
{
	if (!s->bev)
		return;
	if (end == SIDE_GONE ||
	    (end == SIDE_FIN &&
	     evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)) {
		bufferevent_free(s->bev);
		s->bev = NULL;
		return;
	}
	if (end == SIDE_FIN) {
		bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
		bufferevent_setcb(s->bev, NULL, fin_write_cb, linger_event_cb,
				  c);
		bufferevent_disable(s->bev, EV_READ);
		bufferevent_enable(s->bev, EV_WRITE);
		return;
	}
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	bufferevent_setwatermark(s->bev, EV_READ, 0, 0);
	bufferevent_setcb(s->bev, linger_read_cb, linger_write_cb,
			  linger_event_cb, c);
	evbuffer_drain(bufferevent_get_input(s->bev),
		       evbuffer_get_length(bufferevent_get_input(s->bev)));
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		shutdown(bufferevent_getfd(s->bev), SHUT_WR);
}

int conn_lingering(const struct conn *c)
{
	return c->cli.bev || c->up.bev;
}

void conn_linger_expire(struct conn *c)
{
	if (c->cli.bev)
		linger_done(c, &c->cli);
	if (c->up.bev)
		linger_done(c, &c->up);
}

void conn_close(struct conn *c, enum conn_by by, const char *how,
		const char *reason, const char *detail)
{
	struct proxy *px = c->px;

	if (c->state == CONN_CLOSED)
		return;
	proxy_tick(px);
	if (!c->session)
		conn_join_session(c);
	c->closed_by = by;
	c->how = how;
	c->reason = reason;
	if (detail && detail != c->reason_detail)
		snprintf(c->reason_detail, sizeof(c->reason_detail), "%s",
			 detail);
	proxy_emit(px, close_record(c));
	metrics_on_close(px, c);
	rules_close(px->rules, c->id, by_names[by], how, c->q_len,
		    proxy_now(px));
	/* What one side said before the end still reaches the other: a
	 * side that ended (its EOF or error closed the connection) is
	 * freed, the other lingers until its output is written. */
	side_close(c, &c->cli,
		   by != BY_CLIENT       ? SIDE_OPEN
		   : !strcmp(how, "fin") ? SIDE_FIN
					 : SIDE_GONE);
	side_close(c, &c->up,
		   by != BY_BROKER       ? SIDE_OPEN
		   : !strcmp(how, "fin") ? SIDE_FIN
					 : SIDE_GONE);
	c->closed_at = px->now;
	if (c->session && c->session->open_conns)
		c->session->open_conns--;
	if (c->session)
		c->session->last_close = px->now;
	c->state = CONN_CLOSED;
	TAILQ_REMOVE(&px->conns, c, link);
	px->n_conns--;
	TAILQ_INSERT_TAIL(&px->dead, c, link);
	event_active(px->reaper, EV_TIMEOUT, 0);
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->cli.bev)
		bufferevent_free(c->cli.bev);
	if (c->up.bev)
		bufferevent_free(c->up.bev);
	for (uint32_t i = 0; i < c->q_len; i++) {
		struct inflight *f = &c->q[(c->q_head + i) % c->q_cap];

		if (f->detail)
			json_decref(f->detail);
	}
	free(c->q);
	free(c->req_count);
	free(c);
}

void conn_janitor(struct conn *c)
{
	struct proxy *px = c->px;

	if (c->state == CONN_CONNECTING &&
	    tv_diff(&px->now, &c->opened) * 1000.0 >
		    (double)px->cfg.connect_timeout_ms) {
		snprintf(c->reason_detail, sizeof(c->reason_detail),
			 "%s:%u: no answer in %u ms", c->up_host, c->up_port,
			 (unsigned)px->cfg.connect_timeout_ms);
		conn_close(c, BY_PROXY, "connect_timeout", "upstream_timeout",
			   c->reason_detail);
	}
}
