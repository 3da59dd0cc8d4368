/*
 * relay: the data path. Reads each frame's header straight out of the
 * input evbuffer, records it, and moves the body on as a byte count. A
 * whole frame is held only when its body is wanted (small requests and
 * responses, decoded in place) or must be rewritten (broker addresses,
 * ApiVersions caps).
 */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "evlog.h"
#include "kp_msg_group.h"
#include "kp_msg_meta.h"
#include "kp_schema.h"
#include "metrics.h"
#include "proxy.h"

/* Header bytes looked at before a request's header is complete: enough
 * for any client id; the Produce acks peek adds a transactional id. */
#define HDR_PEEK_MAX (4 + 8 + 2 + 32767 + 5 + 2 + 32767 + 2)
/* Frames up to this size are held whole so their bodies can be decoded
 * (error codes, client software, topics); larger ones stream. */
#define DECODE_HOLD_MAX (64 * 1024)
/* In-flight requests tracked per connection; beyond it the client is not
 * read until responses come. */
#define INFLIGHT_MAX 1024

/* How a response of an API must be treated before the client sees it. */
enum resp_rewrite { RW_NONE, RW_ADDRS, RW_APIVERSIONS };

/* Versions a client may use through the proxy: Fetch stops before v16,
 * whose responses could carry broker addresses (KIP-951 NodeEndpoints) at
 * the very end of a large, streamed body. Every other address-bearing
 * response is held and rewritten. */
static const struct version_cap {
	int16_t key;
	int16_t max;
} version_caps[] = {
	{KP_API_FETCH, 15},
};

static enum resp_rewrite resp_rewrite_of(int16_t key, int16_t version)
{
	if (key == KP_API_API_VERSIONS)
		return RW_APIVERSIONS;
	if (!kp_api_carries_addrs(key))
		return RW_NONE;
	/* Produce and Fetch carry NodeEndpoints only from v10 / v16. */
	if (key == KP_API_PRODUCE && version < 10)
		return RW_NONE;
	if (key == KP_API_FETCH && version < 16)
		return RW_NONE;
	return RW_ADDRS;
}

/* rewrite_response(): a broker in the response has no local listener
 * (none could be bound), so the response cannot be made safe. */
#define RW_NO_LISTENER (-100)

/* ---- segments out of an evbuffer ---- */

struct peek {
	struct evbuffer_iovec vec[64];
	struct kp_seg seg[64];
	uint32_t n;
	size_t len;
};

/* View the first want bytes of b (or all of it, if less) as segments,
 * without copying unless they are spread over more chains than the view
 * holds; then they are made contiguous first. */
static void peek_in(struct evbuffer *b, size_t want, struct peek *p)
{
	size_t have = evbuffer_get_length(b);
	int n;

	if (want > have)
		want = have;
	n = evbuffer_peek(b, (ev_ssize_t)want, NULL, p->vec, 64);
	if (n > 64) {
		evbuffer_pullup(b, (ev_ssize_t)want);
		n = evbuffer_peek(b, (ev_ssize_t)want, NULL, p->vec, 64);
	}
	p->n = 0;
	p->len = 0;
	for (int i = 0; i < n && i < 64; i++) {
		size_t l = p->vec[i].iov_len;

		if (p->len + l > want)
			l = want - p->len;
		p->seg[i].ptr = p->vec[i].iov_base;
		p->seg[i].len = l;
		p->len += l;
		p->n++;
	}
}

/* ---- bookkeeping ---- */

static double tv_diff(const struct timeval *a, const struct timeval *b)
{
	return (double)(a->tv_sec - b->tv_sec) +
	       (double)(a->tv_usec - b->tv_usec) / 1e6;
}

/* A request arrived: the connection is no longer quiet. */
static void note_busy(struct conn *c)
{
	if (c->quiet) {
		conn_note_gap(c, tv_diff(&c->px->now, &c->quiet_since));
		c->quiet = 0;
	}
}

static void note_quiet_if_idle(struct conn *c)
{
	if (!c->quiet && c->q_len == 0) {
		c->quiet = 1;
		c->quiet_since = c->px->now;
	}
}

static int inflight_push(struct conn *c, const struct kp_req_hdr *h,
			 uint32_t bytes, json_t *detail)
{
	struct inflight *f;

	if (c->q_len == c->q_cap) {
		uint32_t cap = c->q_cap ? c->q_cap * 2 : 8;
		struct inflight *q = malloc(cap * sizeof(*q));

		if (!q)
			return -1;
		for (uint32_t i = 0; i < c->q_len; i++)
			q[i] = c->q[(c->q_head + i) % c->q_cap];
		free(c->q);
		c->q = q;
		c->q_head = 0;
		c->q_cap = cap;
	}
	f = &c->q[(c->q_head + c->q_len) % c->q_cap];
	f->corr = h->corr_id;
	f->key = h->api_key;
	f->version = h->api_version;
	f->t0 = c->px->now;
	f->bytes = bytes;
	f->detail = detail;
	c->q_len++;
	return 0;
}

static struct inflight *inflight_head(struct conn *c)
{
	return c->q_len ? &c->q[c->q_head] : NULL;
}

static void inflight_pop(struct conn *c)
{
	c->q_head = (c->q_head + 1) % c->q_cap;
	c->q_len--;
}

static void count_error(struct conn *c, int16_t code)
{
	for (int i = 0; i < CONN_MAX_ERRCODES; i++) {
		if (c->errs[i].n == 0) {
			c->errs[i].code = code;
			c->errs[i].n = 1;
			return;
		}
		if (c->errs[i].code == code) {
			c->errs[i].n++;
			return;
		}
	}
	c->errs_other++;
}

/* A short hex prefix of a bad frame, never more. */
static json_t *hex_prefix(const struct peek *p)
{
	char buf[2 * 32 + 1];
	size_t k = 0;

	for (uint32_t i = 0; i < p->n && k < 32; i++)
		for (size_t j = 0; j < p->seg[i].len && k < 32; j++, k++)
			snprintf(buf + 2 * k, 3, "%02x", p->seg[i].ptr[j]);
	buf[2 * k] = '\0';
	return json_string(buf);
}

static void emit_decode_problem(struct conn *c, const char *dir, int16_t key,
				int16_t version, int status,
				const struct peek *p)
{
	json_t *ev = evlog_event(&c->px->now, "decode.problem");

	c->decode_problems++;
	metrics_on_decode_problem(c->px, dir, key);
	json_object_set_new(ev, "conn", json_integer((json_int_t)c->id));
	json_object_set_new(ev, "direction", json_string(dir));
	json_object_set_new(ev, "api", json_string(kp_api_name(key)));
	json_object_set_new(ev, "api_key", json_integer(key));
	json_object_set_new(ev, "api_version", json_integer(version));
	json_object_set_new(ev, "status", json_string(kp_status_str(status)));
	json_object_set_new(ev, "prefix", hex_prefix(p));
	proxy_emit(c->px, ev);
}

/* Bytes pass through undecoded from now on. */
static void go_opaque(struct conn *c, const char *reason, json_t *extra)
{
	json_t *ev = evlog_event(&c->px->now, "conn.opaque");

	json_object_set_new(ev, "conn", json_integer((json_int_t)c->id));
	json_object_set_new(ev, "reason", json_string(reason));
	if (extra)
		json_object_update(ev, extra);
	json_decref(extra);
	proxy_emit(c->px, ev);
	conn_set_state(c, CONN_OPAQUE, reason);
}

/* Move n bytes from one side's input to the other's output; stop reading
 * the source while the destination is above the high-water mark. */
static void move(struct conn *c, struct side *from, struct side *to, size_t n)
{
	struct evbuffer *in = bufferevent_get_input(from->bev);
	struct evbuffer *out = bufferevent_get_output(to->bev);

	evbuffer_remove_buffer(in, out, n);
	from->bytes += n;
	c->last_io = c->px->now;
	if (evbuffer_get_length(out) > c->px->cfg.buffer_high)
		bufferevent_disable(from->bev, EV_READ);
}

/* ---- request bodies ---- */

static void copy_str(const struct peek *p, const struct kp_str *s, char *buf,
		     size_t cap)
{
	if (s->len > 0)
		kp_str_copy(p->seg, p->n, s, buf, cap);
}

struct detail_ctx {
	json_t *topics;       /* [{"topic": name, "partitions": [..]}] */
	json_t *cur;          /* partitions array of the current topic */
	uint16_t topic_depth; /* depth of the current topic's name */
	const struct peek *p;
	struct conn *c; /* error codes are counted here (responses) */
	json_t *errors; /* {"CODE_NAME": n} for the request event */
};

static int name_has(uint16_t fname, const char *part)
{
	return strstr(kp_fname_str[fname], part) != NULL;
}

/* Topics, partitions and error codes of any API, by field names: topic
 * arrays are named *Topic*, their names Name/Topic/TopicName, partition
 * arrays *Partition* with Partition/PartitionIndex/Index. */
static int detail_visit(void *ctx, struct kp_wval *v)
{
	struct detail_ctx *d = ctx;

	if (v->ev != KP_WEV_VALUE)
		return KP_OK;
	if (v->f->name == KP_FN_ERROR_CODE && v->i != 0) {
		if (d->c)
			count_error(d->c, (int16_t)v->i);
		if (d->errors) {
			const char *n = kp_error_name((int16_t)v->i);
			char buf[16];
			json_t *old;

			if (!n) {
				snprintf(buf, sizeof(buf), "%d", (int)v->i);
				n = buf;
			}
			old = json_object_get(d->errors, n);
			json_object_set_new(
				d->errors, n,
				json_integer(old ? json_integer_value(old) + 1
						 : 1));
		}
		return KP_OK;
	}
	if (!d->topics || v->depth == 0)
		return KP_OK;
	if (name_has(v->path[v->depth - 1], "Topic") &&
	    (v->f->name == KP_FN_NAME || v->f->name == KP_FN_TOPIC ||
	     v->f->name == KP_FN_TOPIC_NAME) &&
	    v->f->type == KP_T_STRING) {
		char name[256] = "";
		json_t *t = json_object();

		copy_str(d->p, &v->s, name, sizeof(name));
		json_object_set_new(t, "topic", json_string(name));
		d->cur = json_array();
		d->topic_depth = v->depth;
		json_object_set_new(t, "partitions", d->cur);
		json_array_append_new(d->topics, t);
	} else if (d->cur && v->f->type == KP_T_INT32 &&
		   ((v->depth == d->topic_depth + 1 &&
		     name_has(v->path[v->depth - 1], "Partition") &&
		     (v->f->name == KP_FN_PARTITION ||
		      v->f->name == KP_FN_PARTITION_INDEX ||
		      v->f->name == KP_FN_INDEX)) ||
		    (v->depth == d->topic_depth && v->index >= 0 &&
		     (v->f->name == KP_FN_PARTITION_INDEXES ||
		      v->f->name == KP_FN_PARTITIONS)))) {
		/* Partitions as structs (Partitions[].PartitionIndex) or as
		 * a plain array (OffsetFetch's PartitionIndexes). */
		json_array_append_new(d->cur, json_integer(v->i));
	}
	return KP_OK;
}

/* Kafka prints a Uuid as URL-safe base64 without padding (22 chars). */
static void uuid_text(const uint8_t u[16], char *buf, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789-_";
	size_t k = 0;
	int zero = 1;

	for (int i = 0; i < 16; i++)
		zero &= u[i] == 0;
	if (zero || len < 23)
		return; /* all zero: not assigned yet */
	for (int i = 0; i < 16; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16;

		if (i + 1 < 16)
			v |= (uint32_t)u[i + 1] << 8;
		if (i + 2 < 16)
			v |= u[i + 2];
		buf[k++] = b64[(v >> 18) & 63];
		buf[k++] = b64[(v >> 12) & 63];
		if (i + 1 < 16)
			buf[k++] = b64[(v >> 6) & 63];
		if (i + 2 < 16)
			buf[k++] = b64[v & 63];
	}
	buf[k] = '\0';
}

/* Token rounds of a v0 handshake's raw exchange, by mechanism; 0 when
 * not known (the exchange is then relayed raw to the end). */
static int sasl_rounds(const struct peek *p, const struct kp_str *mech)
{
	if (kp_str_eq(p->seg, p->n, mech, "PLAIN") ||
	    kp_str_eq(p->seg, p->n, mech, "OAUTHBEARER"))
		return 1;
	if (kp_str_eq(p->seg, p->n, mech, "SCRAM-SHA-256") ||
	    kp_str_eq(p->seg, p->n, mech, "SCRAM-SHA-512"))
		return 2;
	return 0;
}

static void learn_software(struct conn *c, const struct peek *p)
{
	struct kp_apiversions_req o;

	if (kp_apiversions_req_decode(p->seg, p->n, c->px->cfg.max_frame, &o) !=
	    KP_OK)
		return;
	copy_str(p, &o.software_name, c->sw_name, sizeof(c->sw_name));
	copy_str(p, &o.software_version, c->sw_version, sizeof(c->sw_version));
}

/* Decode what the tracker wants from a whole request held in p. */
static json_t *observe_request(struct conn *c, const struct kp_req_hdr *h,
			       const struct peek *p)
{
	struct detail_ctx d = {.p = p};
	struct kp_req_hdr h2;
	struct kp_walk_stats st;
	int rc;

	if (h->api_key == KP_API_API_VERSIONS && h->api_version >= 3)
		learn_software(c, p);
	if (h->api_key == KP_API_PUSH_TELEMETRY) {
		struct kp_pushtelemetry_req o;

		if (kp_pushtelemetry_req_decode(
			    p->seg, p->n, c->px->cfg.max_frame, &o) == KP_OK)
			uuid_text(o.client_instance_id, c->instance_id,
				  sizeof(c->instance_id));
	}
	if (h->api_key == KP_API_SASL_HANDSHAKE) {
		struct kp_saslhandshake_req o;

		if (kp_saslhandshake_req_decode(
			    p->seg, p->n, c->px->cfg.max_frame, &o) == KP_OK)
			c->sasl_rounds = sasl_rounds(p, &o.mechanism);
	}
	/* Credentials never reach the event log: SASL bodies are not walked
	 * for details. */
	if (!c->px->cfg.log_requests ||
	    h->api_key == KP_API_SASL_AUTHENTICATE ||
	    h->api_key == KP_API_SASL_HANDSHAKE)
		return NULL;
	d.topics = json_array();
	rc = kp_walk_req(p->seg, p->n, c->px->cfg.max_frame, detail_visit, &d,
			 &h2, &st);
	if (rc == KP_TRAILING)
		c->inexact_frames++;
	else if (rc != KP_OK)
		emit_decode_problem(c, "request", h->api_key, h->api_version,
				    rc, p);
	return d.topics;
}

/* ---- requests ---- */

/* A request by which a member leaves its group: LeaveGroup, or a
 * ConsumerGroupHeartbeat with a negative member epoch (held whole, p). */
static int leaving(struct conn *c, const struct kp_req_hdr *h,
		   const struct peek *p, int whole)
{
	struct kp_consumergroupheartbeat_req o;

	/* The decoder keeps the caller's vector storage: none here. */
	memset(&o, 0, sizeof(o));
	if (h->api_key == KP_API_LEAVE_GROUP)
		return 1;
	if (h->api_key != KP_API_CONSUMER_GROUP_HEARTBEAT || !whole)
		return 0;
	return kp_consumergroupheartbeat_req_decode(
		       p->seg, p->n, c->px->cfg.max_frame, &o) == KP_OK &&
	       o.member_epoch < 0;
}

static int want_request_body(const struct conn *c, int16_t key)
{
	switch (key) {
	case KP_API_CONSUMER_GROUP_HEARTBEAT:
	case KP_API_API_VERSIONS:
	case KP_API_SASL_HANDSHAKE:
	case KP_API_PUSH_TELEMETRY:
		return 1;
	default:
		return c->px->cfg.log_requests;
	}
}

static int looks_like_tls(const struct peek *p)
{
	uint8_t b[2];
	struct kp_reader r;

	kp_reader_init(&r, p->seg, p->n, SIZE_MAX);
	kp_read_bytes(&r, b, 2);
	return !r.err && b[0] == 0x16 && b[1] == 0x03;
}

/* The next request frame at a boundary. Returns 1 to go on, 0 to wait
 * for more bytes, -1 when the connection was closed or left Kafka mode. */
static int request_frame(struct conn *c, struct evbuffer *in)
{
	struct proxy *px = c->px;
	size_t have = evbuffer_get_length(in);
	struct peek p;
	struct kp_req_hdr h;
	struct kp_frame fr;
	json_t *detail = NULL;
	int rc;

	peek_in(in, have < HDR_PEEK_MAX ? have : HDR_PEEK_MAX, &p);
	rc = kp_split_req(p.seg, p.n, px->cfg.max_frame, &h, &fr);
	if (rc == KP_NEED_MORE)
		return 0;
	if (c->cli.frames == 0 && looks_like_tls(&p)) {
		go_opaque(c, "tls", NULL);
		return -1;
	}
	if (rc == KP_ERR_MALFORMED || rc == KP_ERR_TOO_LARGE) {
		json_t *x = json_object();

		json_object_set_new(x, "prefix", hex_prefix(&p));
		if (c->cli.frames == 0) {
			go_opaque(c, "not_kafka", x);
			return -1;
		}
		json_decref(x);
		emit_decode_problem(c, "request", h.api_key, h.api_version, rc,
				    &p);
		conn_close(c, BY_PROXY, "protocol_error",
			   rc == KP_ERR_TOO_LARGE ? "frame_too_large"
						  : "bad_frame",
			   NULL);
		return -1;
	}
	if (c->q_len >= INFLIGHT_MAX) {
		/* Wait for responses; the upstream read callback resumes. */
		bufferevent_disable(c->cli.bev, EV_READ);
		return 0;
	}
	if (rc == KP_OK && want_request_body(c, h.api_key) &&
	    fr.total <= DECODE_HOLD_MAX) {
		if (have < fr.total) {
			c->cli.waiting = fr.total;
			return 0;
		}
		peek_in(in, fr.total, &p);
		detail = observe_request(c, &h, &p);
	}
	c->cli.waiting = 0;
	c->cli.frames++;
	if (rc == KP_OK) {
		c->req_count[h.api_key]++;
		if (!c->client_id[0] && h.client_id.len > 0)
			copy_str(&p, &h.client_id, c->client_id,
				 sizeof(c->client_id));
	} else {
		c->req_unknown++;
	}
	if (!c->session && c->cli.frames >= 1) {
		conn_join_session(c);
		if (rules_identify(px->rules, c->id, c->client_id, c->sw_name,
				   c->sw_version, proxy_now(px)) < 0) {
			/* Refused before its first request is relayed. */
			const char *rule = rules_refused_by(px->rules, c->id);

			json_decref(detail);
			conn_close(c, BY_PROXY, "refused",
				   rule ? rule : "enforce.max_conns_session",
				   NULL);
			return -1;
		}
	}
	rules_request(px->rules, c->id, h.api_key, !fr.no_response,
		      leaving(c, &h, &p, rc == KP_OK && p.len >= fr.total),
		      proxy_now(px));
	note_busy(c);
	if (!fr.no_response) {
		if (inflight_push(c, &h, (uint32_t)fr.total, detail) < 0) {
			json_decref(detail);
			conn_close(c, BY_PROXY, "error", "out_of_memory", NULL);
			return -1;
		}
	} else {
		json_decref(detail);
		note_quiet_if_idle(c);
	}
	kp_split_begin(&c->cli.split, &fr);
	return 1;
}

static void client_readable(struct conn *c)
{
	struct evbuffer *in;

	if (c->state == CONN_CLOSED || c->state == CONN_CONNECTING ||
	    !c->cli.bev || !c->up.bev)
		return;
	in = bufferevent_get_input(c->cli.bev);
	while (c->state != CONN_CLOSED && evbuffer_get_length(in) > 0) {
		size_t have = evbuffer_get_length(in);

		if (c->state == CONN_OPAQUE) {
			move(c, &c->cli, &c->up, have);
			break;
		}
		if (!kp_split_at_boundary(&c->cli.split)) {
			move(c, &c->cli, &c->up,
			     kp_split_consume(&c->cli.split, have));
			continue;
		}
		if (c->state == CONN_SASL_RAW) {
			struct peek p;
			int32_t size;

			peek_in(in, 4, &p);
			if (kp_frame_size(p.seg, p.n, c->px->cfg.max_frame,
					  &size) != KP_OK)
				break;
			c->cli.split.left = 4 + (size_t)size;
			continue;
		}
		if (request_frame(c, in) <= 0)
			break;
	}
}

/* What was moved is written at once, see conn_flush(). */
void relay_client_readable(struct conn *c)
{
	client_readable(c);
	conn_flush(c);
}

/* ---- responses ---- */

static int16_t cap_versions(void *ctx, int16_t key, int16_t min, int16_t max)
{
	const struct kp_api *a = kp_api_get(key);
	int16_t in = max;
	uint32_t *capped = ctx;

	if (!a)
		return max; /* unknown to us: it passes through as bytes */
	for (size_t i = 0; i < sizeof(version_caps) / sizeof(*version_caps);
	     i++)
		if (version_caps[i].key == key && version_caps[i].max < max)
			max = version_caps[i].max;
	/* A version newer than the tables could not be decoded. */
	if (max > a->vmax)
		max = a->vmax;
	if (max < in)
		(*capped)++;
	return max;
}

struct map_ctx {
	struct proxy *px;
	uint32_t unmapped; /* addresses with no local listener */
};

static int map_addr(void *ctx, int32_t node_id, const struct kp_str *orig,
		    const char **host, int32_t *host_len, int32_t *port)
{
	struct map_ctx *m = ctx;
	struct broker *b;

	if (node_id < 0)
		return 0;
	b = broker_find(m->px, node_id);
	if (!b || !b->lst) {
		m->unmapped++;
		return 0;
	}
	*host = m->px->cfg.advertised_host;
	*host_len = (int32_t)strlen(*host);
	*port = b->port;
	return 1;
}

static uint8_t *scratch(struct proxy *px, size_t need)
{
	if (need > px->scratch_cap) {
		uint8_t *p = realloc(px->scratch, need);

		if (!p)
			return NULL;
		px->scratch = p;
		px->scratch_cap = need;
	}
	return px->scratch;
}

/* Tell the rules which topics a Metadata response did not know. */
static void report_unknown_topics(struct conn *c, const struct inflight *f,
				  const struct peek *p)
{
	struct kp_md_topic t[64];
	struct kp_metadata_resp o = {.topics = {t, 64}};
	int rc = kp_metadata_resp_decode(p->seg, p->n, c->px->cfg.max_frame,
					 f->version, &o);

	if (rc != KP_OK && rc != KP_TRAILING)
		return;
	for (uint32_t i = 0; i < o.topics.n; i++) {
		char name[256];

		if (t[i].error != 3 || t[i].name.len <= 0)
			continue; /* UNKNOWN_TOPIC_OR_PARTITION only */
		kp_str_copy(p->seg, p->n, &t[i].name, name, sizeof(name));
		rules_unknown_topic(c->px->rules, c->id, name,
				    proxy_now(c->px));
	}
}

/* Note every broker a response advertises (their local listeners are
 * made unless in transparent mode). */
static int learn_brokers(struct conn *c, const struct inflight *f,
			 const struct peek *p)
{
	struct kp_addr a[256];
	struct kp_addrs o = {.addrs = {a, 256}};
	int rc = kp_addrs_decode(p->seg, p->n, c->px->cfg.max_frame, f->key,
				 f->version, &o);

	if (rc != KP_OK && rc != KP_TRAILING)
		return rc;
	for (uint32_t i = 0; i < o.addrs.n; i++) {
		char host[256];

		if (a[i].node_id < 0 || a[i].port <= 0 || a[i].port > 65535)
			continue;
		kp_str_copy(p->seg, p->n, &a[i].host, host, sizeof(host));
		broker_learn(c->px, a[i].node_id, host, (uint16_t)a[i].port);
	}
	return rc;
}

/* Rewrite the whole response in p and queue it to the client. */
static int rewrite_response(struct conn *c, const struct inflight *f,
			    enum resp_rewrite how, struct peek *p,
			    struct evbuffer *in, size_t total)
{
	struct proxy *px = c->px;
	struct kp_wbuf count = {NULL, 0, 0, 0}, w;
	struct map_ctx m = {px, 0};
	uint32_t n = 0, capped = 0;
	int rc;

	if (how == RW_ADDRS) {
		/* Learn every broker first, so each has a listener to be
		 * mapped to. */
		if (f->key == KP_API_METADATA)
			report_unknown_topics(c, f, p);
		rc = learn_brokers(c, f, p);
		if (rc != KP_OK && rc != KP_TRAILING)
			return rc;
		rc = kp_addrs_rewrite(p->seg, p->n, px->cfg.max_frame, f->key,
				      f->version, map_addr, &m, &count, &n);
	} else {
		rc = kp_apiversions_cap(p->seg, p->n, px->cfg.max_frame,
					f->version, cap_versions, &capped,
					&count);
	}
	if (rc != KP_OK && rc != KP_TRAILING)
		return rc;
	w.buf = scratch(px, count.len);
	w.cap = count.len;
	w.len = 0;
	w.nospace = 0;
	if (!w.buf)
		return KP_ERR_NOSPACE;
	if (how == RW_ADDRS)
		rc = kp_addrs_rewrite(p->seg, p->n, px->cfg.max_frame, f->key,
				      f->version, map_addr, &m, &w, &n);
	else
		rc = kp_apiversions_cap(p->seg, p->n, px->cfg.max_frame,
					f->version, cap_versions, &capped, &w);
	if (rc != KP_OK && rc != KP_TRAILING)
		return rc;
	if (m.unmapped)
		return RW_NO_LISTENER;
	evbuffer_add(bufferevent_get_output(c->cli.bev), w.buf, w.len);
	evbuffer_drain(in, total);
	c->up.bytes += total;
	c->last_io = px->now;
	if (n || capped)
		c->rewritten++;
	return rc;
}

static void emit_request_event(struct conn *c, const struct inflight *f,
			       json_t *errors, size_t resp_bytes)
{
	json_t *ev = evlog_event(&c->px->now, "request");

	json_object_set_new(ev, "conn", json_integer((json_int_t)c->id));
	json_object_set_new(ev, "api", json_string(kp_api_name(f->key)));
	json_object_set_new(ev, "api_key", json_integer(f->key));
	json_object_set_new(ev, "api_version", json_integer(f->version));
	json_object_set_new(ev, "correlation_id", json_integer(f->corr));
	json_object_set_new(ev, "client_id",
			    c->client_id[0] ? json_string(c->client_id)
					    : json_null());
	json_object_set_new(ev, "request_bytes", json_integer(f->bytes));
	json_object_set_new(ev, "response_bytes",
			    json_integer((json_int_t)resp_bytes));
	json_object_set_new(ev, "latency_ms",
			    json_real(tv_diff(&c->px->now, &f->t0) * 1000.0));
	json_object_set_new(ev, "topics",
			    f->detail ? json_incref(f->detail) : json_array());
	json_object_set_new(ev, "errors",
			    errors ? json_incref(errors) : json_object());
	proxy_emit(c->px, ev);
}

/* The next response frame at a boundary; as request_frame(). */
static int response_frame(struct conn *c, struct evbuffer *in)
{
	struct proxy *px = c->px;
	size_t have = evbuffer_get_length(in);
	struct inflight *f = inflight_head(c);
	struct peek p;
	struct kp_resp_hdr h;
	struct kp_frame fr;
	enum resp_rewrite how;
	json_t *errors = NULL;
	int sasl_raw = 0;
	int32_t corr;
	int rc;

	peek_in(in, have < 64 ? have : 64, &p);
	rc = kp_peek_resp_corr(p.seg, p.n, px->cfg.max_frame, &corr);
	if (rc == KP_NEED_MORE)
		return 0;
	if (rc != KP_OK || !f || f->corr != corr) {
		json_t *x = json_object();

		json_object_set_new(x, "expected_correlation_id",
				    f ? json_integer(f->corr) : json_null());
		/* A frame with no readable correlation id (a negative or
		 * oversized length) is a desync too: null says so. */
		json_object_set_new(x, "got_correlation_id",
				    rc == KP_OK ? json_integer(corr)
						: json_null());
		json_object_set_new(x, "prefix", hex_prefix(&p));
		go_opaque(c, "desync", x);
		return -1;
	}
	rc = kp_split_resp(p.seg, p.n, px->cfg.max_frame, f->key, f->version,
			   &h, &fr);
	if (rc == KP_NEED_MORE) {
		peek_in(in, have, &p);
		rc = kp_split_resp(p.seg, p.n, px->cfg.max_frame, f->key,
				   f->version, &h, &fr);
		if (rc == KP_NEED_MORE)
			return 0;
	}
	how = rc == KP_OK && !c->transparent
		      ? resp_rewrite_of(f->key, f->version)
		      : RW_NONE;
	if (how != RW_NONE) {
		if (fr.total > px->cfg.max_rewrite_frame) {
			snprintf(c->reason_detail, sizeof(c->reason_detail),
				 "%s response of %zu bytes over %zu",
				 kp_api_name(f->key), fr.total,
				 (size_t)px->cfg.max_rewrite_frame);
			conn_close(c, BY_PROXY, "protocol_error",
				   "rewrite_too_large", c->reason_detail);
			return -1;
		}
		if (have < fr.total) {
			c->up.waiting = fr.total;
			return 0;
		}
		peek_in(in, fr.total, &p);
		{
			/* Its error codes count like any response's. */
			struct detail_ctx d = {.c = c, .p = &p};
			struct kp_resp_hdr h2;

			if (px->cfg.log_requests)
				d.errors = errors = json_object();
			if (kp_walk_resp(p.seg, p.n, px->cfg.max_frame, f->key,
					 f->version, detail_visit, &d, &h2,
					 NULL) < 0)
				c->decode_problems++;
		}
		rc = rewrite_response(c, f, how, &p, in, fr.total);
		if (rc == RW_NO_LISTENER) {
			/* Never forward broker addresses unrewritten: the
			 * client would go around the proxy. */
			conn_close(c, BY_PROXY, "protocol_error",
				   "broker_listener_unavailable",
				   "a broker in the response has no local "
				   "listener (see broker.listener errors)");
			json_decref(errors);
			return -1;
		}
		if (rc != KP_OK && rc != KP_TRAILING) {
			emit_decode_problem(c, "response", f->key, f->version,
					    rc, &p);
			conn_close(c, BY_PROXY, "protocol_error",
				   "unrewritable_response", NULL);
			json_decref(errors);
			return -1;
		}
		if (rc == KP_TRAILING)
			c->inexact_frames++;
	} else if (rc == KP_OK && fr.total <= DECODE_HOLD_MAX) {
		struct detail_ctx d = {.c = c};
		struct kp_walk_stats st;

		if (have < fr.total) {
			c->up.waiting = fr.total;
			return 0;
		}
		peek_in(in, fr.total, &p);
		d.p = &p;
		if (px->cfg.log_requests)
			d.errors = errors = json_object();
		rc = kp_walk_resp(p.seg, p.n, px->cfg.max_frame, f->key,
				  f->version, detail_visit, &d, &h, &st);
		if ((rc == KP_OK || rc == KP_TRAILING) &&
		    f->key == KP_API_METADATA) {
			/* Transparent mode rewrites nothing, but still learns
			 * the brokers and which topics do not exist. */
			report_unknown_topics(c, f, &p);
			learn_brokers(c, f, &p);
		}
		if (rc != KP_OK && rc != KP_TRAILING)
			emit_decode_problem(c, "response", f->key, f->version,
					    rc, &p);
		else if (rc == KP_TRAILING)
			c->inexact_frames++;
		kp_split_begin(&c->up.split, &fr);
		/* Raw tokens follow a successful v0 handshake. */
		if (f->key == KP_API_SASL_HANDSHAKE && f->version == 0) {
			struct kp_saslhandshake_resp o;

			/* No vector storage: the decoder keeps the caller's. */
			memset(&o, 0, sizeof(o));
			sasl_raw = kp_saslhandshake_resp_decode(
					   p.seg, p.n, px->cfg.max_frame, 0,
					   &o) == KP_OK &&
				   o.error == 0;
		}
	} else {
		kp_split_begin(&c->up.split, &fr);
	}
	c->up.waiting = 0;
	c->up.frames++;
	c->responses++;
	if (px->cfg.log_requests)
		emit_request_event(c, f, errors, fr.total);
	json_decref(errors);
	json_decref(f->detail);
	f->detail = NULL;
	rules_response(px->rules, c->id, f->key, proxy_now(px));
	metrics_on_response(px, c, f->key, f->bytes, tv_diff(&px->now, &f->t0),
			    fr.total);
	inflight_pop(c);
	note_quiet_if_idle(c);
	/* The handshake answer still goes out as the frame it is; what
	 * follows it on both sides is raw tokens. */
	if (sasl_raw)
		conn_set_state(c, CONN_SASL_RAW, "SaslHandshake v0");
	/* Room in the queue again: the client may be read. */
	if (c->q_len == INFLIGHT_MAX - 1)
		bufferevent_enable(c->cli.bev, EV_READ);
	return 1;
}

void relay_upstream_readable(struct conn *c)
{
	struct evbuffer *in;

	if (c->state == CONN_CLOSED || !c->cli.bev || !c->up.bev)
		return;
	in = bufferevent_get_input(c->up.bev);
	while (c->state != CONN_CLOSED && evbuffer_get_length(in) > 0) {
		size_t have = evbuffer_get_length(in);

		if (c->state == CONN_OPAQUE) {
			move(c, &c->up, &c->cli, have);
			break;
		}
		if (!kp_split_at_boundary(&c->up.split)) {
			move(c, &c->up, &c->cli,
			     kp_split_consume(&c->up.split, have));
			continue;
		}
		if (c->state == CONN_SASL_RAW) {
			struct peek p;
			int32_t size;

			peek_in(in, 4, &p);
			if (kp_frame_size(p.seg, p.n, c->px->cfg.max_frame,
					  &size) != KP_OK)
				break;
			c->up.split.left = 4 + (size_t)size;
			/* Each server token ends a round of the exchange. */
			if (c->sasl_rounds > 0 && --c->sasl_rounds == 0)
				conn_set_state(c, CONN_ACTIVE,
					       "SASL exchange done");
			continue;
		}
		if (response_frame(c, in) <= 0)
			break;
	}
	/* A close a rule asked for happens once the last answer has gone
	 * through. */
	if (c->close_rule)
		conn_close_if_quiet(c);
	/* The client's request data may be waiting for room downstream. */
	if (c->state == CONN_ACTIVE && c->cli.bev)
		client_readable(c);
	conn_flush(c);
}
