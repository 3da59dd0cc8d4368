/*
 * The schema walker over every message of every API at every version:
 * whole bodies decode, every prefix asks for more, every two-segment split
 * gives the same events, and a re-encode of an unmodified body is
 * byte-identical. Hand-annotated fixtures pin the layouts themselves.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kp_frame.h"
#include "kp_walk.h"
#include "synth.h"

struct digest {
	uint64_t h;
	uint32_t events;
};

static void mix(struct digest *d, uint64_t v)
{
	d->h ^= v;
	d->h *= 1099511628211ULL;
}

static const struct kp_seg *cur_segs;
static uint32_t cur_nseg;

static int digest_visit(void *ctx, struct kp_wval *v)
{
	struct digest *d = ctx;
	char buf[128];

	d->events++;
	mix(d, (uint64_t)v->ev);
	mix(d, v->f->name);
	mix(d, (uint64_t)v->index);
	mix(d, (uint64_t)v->i);
	mix(d, (uint64_t)v->s.len);
	mix(d, v->depth);
	if (v->s.len > 0) {
		size_t n = kp_str_copy(cur_segs, cur_nseg, &v->s, buf,
				       sizeof(buf));

		for (size_t i = 0; i < n; i++)
			mix(d, (uint8_t)buf[i]);
	}
	return KP_OK;
}

static int walk_buf(const struct kp_msg *m, int16_t ver, const uint8_t *b,
		    size_t len, size_t split, size_t limit, struct digest *d,
		    struct kp_walk_stats *st)
{
	struct kp_seg segs[2] = {{b, split}, {b + split, len - split}};
	struct kp_reader r;

	memset(d, 0, sizeof(*d));
	d->h = 14695981039346656037ULL;
	kp_reader_init(&r, segs, 2, limit);
	cur_segs = segs;
	cur_nseg = 2;
	return kp_walk_body(&r, m, ver, digest_visit, d, NULL, st);
}

static const struct synth_opts sweeps[] = {
	{.array_len = 2, .str_len = 3},
	{.array_len = 0, .str_len = 0},
	{.array_len = 1, .str_len = 5, .null_nullables = 1},
	{.array_len = 2, .str_len = 2, .tagged = 1},
	{.array_len = 1, .str_len = 1, .tagged = 1, .unknown_tag = 1},
};

static uint8_t body[1 << 16];
static uint8_t again[1 << 16];

static void sweep_one(const struct kp_msg *m, int16_t ver,
		      const struct synth_opts *o)
{
	size_t len = synth_body(m, ver, o, body, sizeof(body));
	struct digest whole, part;
	struct kp_walk_stats st;
	int rc;

	cr_assert(len != SIZE_MAX, "%s v%d: synth failed", m->name, ver);
	rc = walk_buf(m, ver, body, len, len, len, &whole, &st);
	cr_assert_eq(rc, KP_OK, "%s v%d: %s", m->name, ver, kp_status_str(rc));
	cr_assert_eq(st.trailing, 0);
	if (o->unknown_tag && ver >= m->flex_min)
		cr_assert(st.unknown_tags > 0,
			  "%s v%d: unknown tag not counted", m->name, ver);
	for (size_t cut = 0; cut < len; cut++) {
		rc = walk_buf(m, ver, body, cut, cut, len, &part, NULL);
		cr_assert_eq(rc, KP_NEED_MORE, "%s v%d prefix %zu/%zu: %s",
			     m->name, ver, cut, len, kp_status_str(rc));
	}
	for (size_t split = 0; split <= len; split++) {
		rc = walk_buf(m, ver, body, len, split, len, &part, NULL);
		cr_assert_eq(rc, KP_OK);
		cr_assert_eq(part.h, whole.h, "%s v%d split %zu: other events",
			     m->name, ver, split);
	}
	/* Re-encode without changes: the same bytes. */
	{
		struct kp_seg seg;
		struct kp_reader r;
		struct kp_wbuf out = {again, sizeof(again), 0, 0};

		kp_reader_init_buf(&r, &seg, body, len, len);
		rc = kp_walk_body(&r, m, ver, NULL, NULL, &out, NULL);
		cr_assert_eq(rc, KP_OK);
		cr_assert_eq(out.len, len, "%s v%d: re-encode %zu != %zu",
			     m->name, ver, out.len, len);
		cr_assert(memcmp(again, body, len) == 0, "%s v%d: bytes differ",
			  m->name, ver);
	}
	/* One byte too few in a complete frame is malformed, not "more". */
	if (len > 0) {
		rc = walk_buf(m, ver, body, len - 1, len - 1, len - 1, &part,
			      NULL);
		cr_assert(rc == KP_ERR_MALFORMED, "%s v%d: short frame gave %s",
			  m->name, ver, kp_status_str(rc));
	}
}

Test(walk, every_message_every_version)
{
	unsigned checked = 0;

	for (uint16_t i = 0; i < kp_msg_count; i++) {
		const struct kp_msg *m = &kp_msgs[i];

		for (int16_t v = m->vmin; v <= m->vmax; v++)
			for (size_t k = 0; k < sizeof(sweeps) / sizeof(*sweeps);
			     k++) {
				sweep_one(m, v, &sweeps[k]);
				checked++;
			}
	}
	cr_assert(checked > 1000, "only %u message versions swept", checked);
}

Test(walk, trailing_bytes_are_reported_not_fatal)
{
	const struct kp_msg *m = kp_api_get(KP_API_METADATA)->resp;
	size_t len = synth_body(m, 12, NULL, body, sizeof(body));
	struct digest d;
	struct kp_walk_stats st;

	body[len] = 0x00; /* the librdkafka mock's extra byte */
	cr_assert_eq(walk_buf(m, 12, body, len + 1, len + 1, len + 1, &d, &st),
		     KP_TRAILING);
	cr_assert_eq(st.trailing, 1);
	/* Only a prefix of the trailing part present: the frame is not
	 * complete yet. */
	cr_assert_eq(walk_buf(m, 12, body, len, len, len + 1, &d, &st),
		     KP_NEED_MORE);
}

Test(walk, unsupported_version)
{
	const struct kp_msg *m = kp_api_get(KP_API_METADATA)->resp;
	struct kp_seg seg;
	struct kp_reader r;

	kp_reader_init_buf(&r, &seg, body, 0, 0);
	cr_assert_eq(kp_walk_body(&r, m, 99, NULL, NULL, NULL, NULL),
		     KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(kp_walk_body(&r, m, -1, NULL, NULL, NULL, NULL),
		     KP_ERR_UNSUPPORTED_VERSION);
}

/* Metadata response v0, written out from the wire layout by hand:
 * [brokers: node_id i32, host str16, port i32]
 * [topics: error i16, name str16, [partitions: error i16, index i32,
 *   leader i32, [replicas i32], [isr i32]]] */
static const uint8_t md_v0[] = {
	0x00, 0x00, 0x00, 0x01,            /* 1 broker */
	0x00, 0x00, 0x00, 0x07,            /* node 7 */
	0x00, 0x04, 'h',  'o',  's',  't', /* "host" */
	0x00, 0x00, 0x23, 0x84,            /* port 9092 */
	0x00, 0x00, 0x00, 0x01,            /* 1 topic */
	0x00, 0x03,                        /* UNKNOWN_TOPIC_OR_PARTITION */
	0x00, 0x01, 't',                   /* "t" */
	0x00, 0x00, 0x00, 0x01,            /* 1 partition */
	0x00, 0x00,                        /* no error */
	0x00, 0x00, 0x00, 0x00,            /* partition 0 */
	0x00, 0x00, 0x00, 0x07,            /* leader 7 */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, /* replicas [7] */
	0x00, 0x00, 0x00, 0x00,                         /* isr [] */
};

struct collect {
	int32_t node, port, leader;
	char host[16];
	int16_t topic_err;
	int replicas;
};

static int collect_visit(void *ctx, struct kp_wval *v)
{
	struct collect *c = ctx;
	char path[96];

	if (v->ev != KP_WEV_VALUE)
		return KP_OK;
	kp_wval_path(v, path, sizeof(path));
	if (!strcmp(path, "Brokers.NodeId"))
		c->node = (int32_t)v->i;
	else if (!strcmp(path, "Brokers.Port"))
		c->port = (int32_t)v->i;
	else if (!strcmp(path, "Brokers.Host"))
		kp_str_copy(cur_segs, cur_nseg, &v->s, c->host,
			    sizeof(c->host));
	else if (!strcmp(path, "Topics.ErrorCode"))
		c->topic_err = (int16_t)v->i;
	else if (!strcmp(path, "Topics.Partitions.LeaderId"))
		c->leader = (int32_t)v->i;
	else if (!strcmp(path, "Topics.Partitions.ReplicaNodes"))
		c->replicas++;
	return KP_OK;
}

Test(walk, metadata_v0_by_hand)
{
	const struct kp_msg *m = kp_api_get(KP_API_METADATA)->resp;
	struct kp_seg seg;
	struct kp_reader r;
	struct collect c = {0};

	kp_reader_init_buf(&r, &seg, md_v0, sizeof(md_v0), sizeof(md_v0));
	cur_segs = &seg;
	cur_nseg = 1;
	cr_assert_eq(kp_walk_body(&r, m, 0, collect_visit, &c, NULL, NULL),
		     KP_OK);
	cr_assert_eq(c.node, 7);
	cr_assert_eq(c.port, 9092);
	cr_assert_str_eq(c.host, "host");
	cr_assert_eq(c.topic_err, 3);
	cr_assert_str_eq(kp_error_name(c.topic_err),
			 "UNKNOWN_TOPIC_OR_PARTITION");
	cr_assert_eq(c.leader, 7);
	cr_assert_eq(c.replicas, 1);
}

/* Rewriting a host changes its length prefix and the frame size. */
static int rename_host(void *ctx, struct kp_wval *v)
{
	if (v->ev == KP_WEV_VALUE && v->depth == 1 &&
	    v->path[0] == KP_FN_BROKERS) {
		if (v->f->name == KP_FN_HOST) {
			v->replace = 1;
			v->new_s = "127.0.0.1";
			v->new_len = 9;
		} else if (v->f->name == KP_FN_PORT) {
			v->replace = 1;
			v->new_i = 19092;
		}
	}
	return KP_OK;
}

Test(walk, rewrite_metadata_v0_host)
{
	const struct kp_msg *m = kp_api_get(KP_API_METADATA)->resp;
	struct kp_seg seg;
	struct kp_reader r;
	struct collect c = {0};
	uint8_t out[256];
	struct kp_wbuf w = {out, sizeof(out), 0, 0};

	kp_reader_init_buf(&r, &seg, md_v0, sizeof(md_v0), sizeof(md_v0));
	cr_assert_eq(kp_walk_body(&r, m, 0, rename_host, NULL, &w, NULL),
		     KP_OK);
	cr_assert_eq(w.len, sizeof(md_v0) + 5);
	kp_reader_init_buf(&r, &seg, out, w.len, w.len);
	cur_segs = &seg;
	cur_nseg = 1;
	cr_assert_eq(kp_walk_body(&r, m, 0, collect_visit, &c, NULL, NULL),
		     KP_OK);
	cr_assert_str_eq(c.host, "127.0.0.1");
	cr_assert_eq(c.port, 19092);
	cr_assert_eq(c.leader, 7);
}

/* The same rewrite inside a tagged field: Produce v10 response
 * NodeEndpoints (tag 0) must get a new size prefix. */
static int rename_endpoint(void *ctx, struct kp_wval *v)
{
	int *seen = ctx;

	if (v->ev == KP_WEV_VALUE && v->depth == 1 &&
	    v->path[0] == KP_FN_NODE_ENDPOINTS && v->f->name == KP_FN_HOST) {
		(*seen)++;
		v->replace = 1;
		v->new_s = "a-much-longer-host-name-than-before";
		v->new_len = (int32_t)strlen(v->new_s);
	}
	return KP_OK;
}

Test(walk, rewrite_inside_tagged_field)
{
	const struct kp_msg *m = kp_api_get(KP_API_PRODUCE)->resp;
	struct synth_opts o = {.array_len = 2, .str_len = 3, .tagged = 1};
	size_t len = synth_body(m, 10, &o, body, sizeof(body));
	struct kp_seg seg;
	struct kp_reader r;
	struct kp_wbuf w = {again, sizeof(again), 0, 0};
	struct kp_wbuf count = {NULL, 0, 0, 0};
	int seen = 0, seen2 = 0;

	kp_reader_init_buf(&r, &seg, body, len, len);
	cr_assert_eq(kp_walk_body(&r, m, 10, rename_endpoint, &seen, &w, NULL),
		     KP_OK);
	cr_assert_eq(seen, 2);
	cr_assert_eq(w.len, len + 2 * (35 - 3));
	kp_reader_init_buf(&r, &seg, body, len, len);
	cr_assert_eq(
		kp_walk_body(&r, m, 10, rename_endpoint, &seen2, &count, NULL),
		KP_OK);
	cr_assert_eq(count.len, w.len, "counting pass disagrees");
	kp_reader_init_buf(&r, &seg, again, w.len, w.len);
	seen = 0;
	cr_assert_eq(
		kp_walk_body(&r, m, 10, rename_endpoint, &seen, NULL, NULL),
		KP_OK);
	cr_assert_eq(seen, 2);
}

Test(walk, output_too_small)
{
	const struct kp_msg *m = kp_api_get(KP_API_PRODUCE)->resp;
	struct synth_opts o = {.array_len = 2, .str_len = 3, .tagged = 1};
	size_t len = synth_body(m, 10, &o, body, sizeof(body));

	for (size_t cap = 0; cap < len; cap++) {
		struct kp_seg seg;
		struct kp_reader r;
		struct kp_wbuf w = {again, cap, 0, 0};

		kp_reader_init_buf(&r, &seg, body, len, len);
		cr_assert_eq(kp_walk_body(&r, m, 10, NULL, NULL, &w, NULL),
			     KP_ERR_NOSPACE);
		cr_assert(w.len <= cap);
	}
}

/* ApiVersions v3 response body whose tagged field's size prefix is not
 * minimally encoded (0x88 0x00 for 8): an unmodified re-encode must still
 * give back the same bytes. */
static const uint8_t av_nonminimal[] = {
	0x00, 0x00,             /* error 0 */
	0x01,                   /* api keys: 0 */
	0x00, 0x00, 0x00, 0x00, /* throttle 0 */
	0x01,                   /* 1 tagged field: */
	0x01,                   /*   tag 1 (FinalizedFeaturesEpoch) */
	0x88, 0x00,             /*   size 8, in two bytes */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* epoch 7 */
};

Test(walk, nonminimal_tag_size_kept)
{
	const struct kp_msg *m = kp_api_get(KP_API_API_VERSIONS)->resp;
	struct kp_seg seg;
	struct kp_reader r;
	uint8_t out[64];
	struct kp_wbuf w = {out, sizeof(av_nonminimal), 0, 0};

	kp_reader_init_buf(&r, &seg, av_nonminimal, sizeof(av_nonminimal),
			   sizeof(av_nonminimal));
	cr_assert_eq(kp_walk_body(&r, m, 3, NULL, NULL, &w, NULL), KP_OK);
	cr_assert_eq(w.len, sizeof(av_nonminimal));
	cr_assert(memcmp(out, av_nonminimal, w.len) == 0);
}

/* The counting pass's length is enough to write the result, also when a
 * tagged field is rewritten (no transient room needed). */
Test(walk, exact_capacity_with_tagged_rewrite)
{
	const struct kp_msg *m = kp_api_get(KP_API_PRODUCE)->resp;
	struct synth_opts o = {.array_len = 2, .str_len = 3, .tagged = 1};
	size_t len = synth_body(m, 10, &o, body, sizeof(body));
	struct kp_seg seg;
	struct kp_reader r;
	struct kp_wbuf count = {NULL, 0, 0, 0};
	int seen = 0;

	kp_reader_init_buf(&r, &seg, body, len, len);
	cr_assert_eq(kp_walk_body(&r, m, 10, NULL, NULL, &count, NULL), KP_OK);
	{
		struct kp_wbuf w = {again, count.len, 0, 0};

		kp_reader_init_buf(&r, &seg, body, len, len);
		cr_assert_eq(kp_walk_body(&r, m, 10, NULL, NULL, &w, NULL),
			     KP_OK, "identity at exact capacity");
	}
	count.len = 0;
	kp_reader_init_buf(&r, &seg, body, len, len);
	cr_assert_eq(
		kp_walk_body(&r, m, 10, rename_endpoint, &seen, &count, NULL),
		KP_OK);
	{
		struct kp_wbuf w = {again, count.len, 0, 0};

		seen = 0;
		kp_reader_init_buf(&r, &seg, body, len, len);
		cr_assert_eq(kp_walk_body(&r, m, 10, rename_endpoint, &seen, &w,
					  NULL),
			     KP_OK, "rewrite at exact capacity");
		cr_assert_eq(w.len, count.len);
	}
}
