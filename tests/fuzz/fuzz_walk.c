/*
 * fuzz_walk: the schema walker and every typed decoder over one frame. The
 * prelude picks request or response, the API key and version a response
 * answers, how to cut the frame into segments and how small the KP_VEC
 * storage is. Checked: statuses in the documented set, the walker's
 * events nest and count as the arrays say, n <= cap and n <= total, every
 * view lies within the input, and a typed decode of the segments equals
 * one of a single block (into an out-struct poisoned with other bytes).
 */
#include "fuzz_common.h"
#include "kp_frame.h"
#include "kp_msg_data.h"
#include "kp_msg_group.h"
#include "kp_msg_meta.h"
#include "kp_records.h"
#include "kp_schema.h"

/* ---- records summaries (also used by fuzz_records) ---- */

#include "fuzz_records_check.h"

/* ---- the walker's events ---- */

struct frame_open {
	enum kp_wev ev; /* KP_WEV_ARRAY, KP_WEV_ELEM or KP_WEV_STRUCT */
	const struct kp_field *f;
	int64_t count; /* arrays: elements announced */
	int64_t seen;  /* arrays: elements (or scalar values) seen */
};

struct walk_ctx {
	const struct kp_seg *segs;
	uint32_t nseg;
	struct frame_open stack[2 * KP_WALK_MAX_DEPTH + 4];
	int depth;
	uint64_t values;
};

static int visit(void *ctx, struct kp_wval *v)
{
	struct walk_ctx *c = ctx;
	struct frame_open *top = c->depth ? &c->stack[c->depth - 1] : NULL;
	char path[512], tiny[8];
	size_t n;

	FZ_CHECK(v->f != NULL, "event without a field");
	FZ_CHECK(v->depth < KP_WALK_MAX_DEPTH, "depth %u", v->depth);
	for (uint16_t i = 0; i < v->depth; i++)
		FZ_CHECK(v->path[i] < KP_FN__COUNT, "path name %u", v->path[i]);
	n = kp_wval_path(v, path, sizeof(path));
	FZ_CHECK(n < sizeof(path) && path[n] == '\0', "path length %zu", n);
	n = kp_wval_path(v, tiny, sizeof(tiny));
	FZ_CHECK(n < sizeof(tiny) && tiny[n] == '\0', "tiny path %zu", n);
	switch (v->ev) {
	case KP_WEV_VALUE:
		c->values++;
		if (v->f->is_array) {
			FZ_CHECK(top && top->ev == KP_WEV_ARRAY &&
					 top->f == v->f,
				 "array value outside its array");
			FZ_CHECK(v->index == top->seen &&
					 top->seen < top->count,
				 "value %d of %lld (seen %lld)", v->index,
				 (long long)top->count, (long long)top->seen);
			top->seen++;
		} else {
			FZ_CHECK(v->index == -1, "scalar with index %d",
				 v->index);
		}
		if (v->f->type == KP_T_STRING || v->f->type == KP_T_BYTES ||
		    v->f->type == KP_T_RECORDS)
			FZ_CHECK(fz_view_ok(c->segs, c->nseg, &v->s),
				 "%s: view len %d", path, v->s.len);
		if (v->f->type == KP_T_RECORDS) {
			struct kp_records_summary s;
			int rc =
				kp_records_summary(c->segs, c->nseg, &v->s, &s);

			fz_check_records(rc, &s, v->s.len);
			FZ_CHECK(rc != KP_NEED_MORE,
				 "records of a whole frame need more");
		}
		break;
	case KP_WEV_ARRAY:
		FZ_CHECK(v->f->is_array, "array event for a non-array");
		FZ_CHECK(v->i >= -1, "array count %lld", (long long)v->i);
		FZ_CHECK(c->depth <
				 (int)(sizeof(c->stack) / sizeof(c->stack[0])),
			 "stack");
		c->stack[c->depth++] = (struct frame_open){
			KP_WEV_ARRAY, v->f, v->i < 0 ? 0 : v->i, 0};
		break;
	case KP_WEV_ARRAY_END:
		FZ_CHECK(top && top->ev == KP_WEV_ARRAY && top->f == v->f,
			 "unbalanced array end");
		c->depth--;
		break;
	case KP_WEV_ELEM:
		FZ_CHECK(top && top->ev == KP_WEV_ARRAY && top->f == v->f,
			 "element outside its array");
		FZ_CHECK(v->index == top->seen && top->seen < top->count,
			 "element %d of %lld", v->index, (long long)top->count);
		top->seen++;
		FZ_CHECK(c->depth <
				 (int)(sizeof(c->stack) / sizeof(c->stack[0])),
			 "stack");
		c->stack[c->depth++] =
			(struct frame_open){KP_WEV_ELEM, v->f, 0, 0};
		break;
	case KP_WEV_ELEM_END:
		FZ_CHECK(top && top->ev == KP_WEV_ELEM && top->f == v->f,
			 "unbalanced element end");
		c->depth--;
		break;
	case KP_WEV_STRUCT:
		FZ_CHECK(v->i == 1 || v->i == -1, "struct presence %lld",
			 (long long)v->i);
		FZ_CHECK(c->depth <
				 (int)(sizeof(c->stack) / sizeof(c->stack[0])),
			 "stack");
		c->stack[c->depth++] =
			(struct frame_open){KP_WEV_STRUCT, v->f, 0, 0};
		break;
	case KP_WEV_STRUCT_END:
		FZ_CHECK(top && top->ev == KP_WEV_STRUCT && top->f == v->f,
			 "unbalanced struct end");
		c->depth--;
		break;
	default:
		FZ_CHECK(0, "event %d", (int)v->ev);
	}
	return KP_OK;
}

/* After a complete walk every array held exactly its count. */
static void walk_done(struct walk_ctx *c, int rc)
{
	if (rc != KP_OK && rc != KP_TRAILING)
		return;
	FZ_CHECK(c->depth == 0, "%d events left open", c->depth);
}

/* ---- typed decoders ---- */

#define POISON_CUT   0xA5
#define POISON_WHOLE 0x5A
#define MAX_ALLOCS   16

struct fw {
	const struct kp_seg *segs;
	uint32_t nseg;
	size_t max;
	uint32_t cap;
	uint8_t poison;
	int strict; /* the status was OK or TRAILING */
	uint64_t h;
	void *allocs[MAX_ALLOCS];
	int nalloc;
};

static void *fw_alloc(struct fw *x, size_t n, int fill)
{
	void *p;

	FZ_CHECK(x->nalloc < MAX_ALLOCS, "allocs");
	p = malloc(n ? n : 1);
	FZ_CHECK(p != NULL, "out of memory");
	if (fill)
		memset(p, x->poison, n);
	x->allocs[x->nalloc++] = p;
	return p;
}

static void fw_free(struct fw *x)
{
	for (int i = 0; i < x->nalloc; i++)
		free(x->allocs[i]);
	x->nalloc = 0;
}

/* Exactly cap elements (none: NULL), so ASan sees a store past them. */
#define VEC_INIT(x, vec)                                                       \
	do {                                                                   \
		(vec).cap = (x)->cap;                                          \
		(vec).v = (x)->cap ? fw_alloc((x),                             \
					      (x)->cap * sizeof(*(vec).v), 1)  \
				   : NULL;                                     \
	} while (0)

static int poisoned(const struct fw *x, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != x->poison)
			return 0;
	return 1;
}

static void chk_str(struct fw *x, const struct kp_str *s, const char *what)
{
	/* After an error a field the walk never reached may keep what was
	 * there; once the status is OK, every field must be set. */
	if (!x->strict && poisoned(x, &s->len, sizeof(s->len)))
		return;
	FZ_CHECK(fz_view_ok(x->segs, x->nseg, s), "%s: view len %d", what,
		 s->len);
	x->h = fz_mix_str(x->h, x->segs, x->nseg, s);
}

static void chk_vec(struct fw *x, uint32_t n, uint32_t cap, uint32_t total,
		    const char *what)
{
	FZ_CHECK(n <= cap && n <= total, "%s: n %u, cap %u, total %u", what, n,
		 cap, total);
	FZ_CHECK(n == (total < cap ? total : cap), "%s: n %u of %u (cap %u)",
		 what, n, total, cap);
	x->h = fz_mix(x->h, n);
	x->h = fz_mix(x->h, total);
}

static void chk_bytes(struct fw *x, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		x->h = fz_mix(x->h, b[i]);
}

#define STR(o, f)  chk_str(x, &(o)->f, #f)
#define VEC(o, f)  chk_vec(x, (o)->f.n, (o)->f.cap, (o)->f.total, #f)
#define INT(o, f)  (x->h = fz_mix(x->h, (uint64_t)(int64_t)(o)->f))
#define UUID(o, f) chk_bytes(x, (o)->f, 16)
#define STATS(o)                                                               \
	do {                                                                   \
		INT(o, stats.unknown_tags);                                    \
		INT(o, stats.trailing);                                        \
	} while (0)
#define REQ_HDR(o)                                                             \
	do {                                                                   \
		INT(o, hdr.api_key);                                           \
		INT(o, hdr.api_version);                                       \
		INT(o, hdr.corr_id);                                           \
		INT(o, hdr.hdr_version);                                       \
		INT(o, hdr.unknown_tags);                                      \
		STR(o, hdr.client_id);                                         \
	} while (0)
#define RESP_HDR(o)                                                            \
	do {                                                                   \
		INT(o, hdr.corr_id);                                           \
		INT(o, hdr.hdr_version);                                       \
		INT(o, hdr.unknown_tags);                                      \
	} while (0)
/* Element i of vec, when stored. */
#define EACH(o, vec, e)                                                        \
	for (uint32_t i_##e = 0; i_##e < (o)->vec.n; i_##e++)                  \
		for (const __typeof__(*(o)->vec.v) *e = &(o)->vec.v[i_##e]; e; \
		     e = NULL)

/* A topic's partitions are a run of the flat partition vec. */
#define RUN_OK(first, count, total, what)                                      \
	FZ_CHECK((uint64_t)(first) + (count) <= (total), "%s: %u + %u > %u",   \
		 what, (unsigned)(first), (unsigned)(count),                   \
		 (unsigned)(total))
#define INDEX_OK(idx, total, what)                                             \
	FZ_CHECK((idx) < (total), "%s: index %u of %u", what, (unsigned)(idx), \
		 (unsigned)(total))

static void c_records(struct fw *x, int status,
		      const struct kp_records_summary *r)
{
	/* A partition the walk stopped in has its records unread. */
	if (x->strict) {
		FZ_CHECK(status == KP_OK || status == KP_TRAILING ||
				 status == KP_ERR_MALFORMED,
			 "records_status %d", status);
		fz_check_records(status, r, r->size);
	}
	x->h = fz_mix(x->h, (uint64_t)status);
	INT(r, size);
	INT(r, batches);
	INT(r, records);
	INT(r, bytes);
	INT(r, partial_trailing);
	INT(r, magic);
	INT(r, mixed_magic);
	INT(r, codec);
	INT(r, codec_mask);
	INT(r, transactional);
	INT(r, control);
	INT(r, legacy_wrappers);
	INT(r, base_offset);
	INT(r, last_offset);
	INT(r, producer_id);
	INT(r, producer_epoch);
	INT(r, partition_leader_epoch);
}

static void c_data_topic(struct fw *x, const struct kp_data_topic *t,
			 uint32_t parts_total)
{
	STR(t, name);
	UUID(t, topic_id);
	INT(t, partitions_first);
	INT(t, partitions_total);
	RUN_OK(t->partitions_first, t->partitions_total, parts_total,
	       "data topic");
}

static void c_grp_topic(struct fw *x, const struct kp_grp_topic *t,
			uint32_t owners, uint32_t parts_total)
{
	STR(t, name);
	INT(t, owner);
	INT(t, partitions_first);
	INT(t, partitions_total);
	RUN_OK(t->partitions_first, t->partitions_total, parts_total,
	       "group topic");
	if (owners)
		INDEX_OK(t->owner, owners, "topic owner");
}

static void c_grp_part(struct fw *x, const struct kp_grp_partition *p,
		       uint32_t topics)
{
	INT(p, topic);
	INT(p, index);
	INDEX_OK(p->topic, topics, "partition topic");
}

static void c_grp_part_err(struct fw *x, const struct kp_grp_partition_err *p,
			   uint32_t topics)
{
	INT(p, topic);
	INT(p, index);
	INT(p, error);
	INDEX_OK(p->topic, topics, "partition topic");
}

static void c_endpoint(struct fw *x, const struct kp_node_endpoint *e)
{
	INT(e, node_id);
	STR(e, host);
	INT(e, port);
	STR(e, rack);
}

static void c_md_broker(struct fw *x, const struct kp_md_broker *b)
{
	INT(b, node_id);
	STR(b, host);
	INT(b, port);
	STR(b, rack);
}

/* Each decoder: poison, set up the vecs, decode, check. */
#define OUT(T) T *o = fw_alloc(x, sizeof(T), 1)
#define DECODED(call)                                                          \
	int rc = (call);                                                       \
	x->strict = rc == KP_OK || rc == KP_TRAILING;                          \
	x->h = fz_mix(FZ_DIGEST_INIT, (uint64_t)rc)

/* ApiVersions */
static int d_apiversions_req(struct fw *x)
{
	OUT(struct kp_apiversions_req);
	DECODED(kp_apiversions_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, software_name);
	STR(o, software_version);
	STATS(o);
	return rc;
}

static int d_apiversions_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_apiversions_resp);
	VEC_INIT(x, o->apis);
	DECODED(kp_apiversions_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, error);
	INT(o, throttle_ms);
	INT(o, decoded_as);
	VEC(o, apis);
	EACH(o, apis, a)
	{
		INT(a, key);
		INT(a, min);
		INT(a, max);
	}
	STATS(o);
	return rc;
}

/* Metadata */
static int d_metadata_req(struct fw *x)
{
	OUT(struct kp_metadata_req);
	VEC_INIT(x, o->topics);
	DECODED(kp_metadata_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	INT(o, all_topics);
	INT(o, allow_auto_create);
	VEC(o, topics);
	EACH(o, topics, t)
	{
		STR(t, name);
		UUID(t, topic_id);
	}
	STATS(o);
	return rc;
}

static int d_metadata_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_metadata_resp);
	VEC_INIT(x, o->brokers);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_metadata_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	STR(o, cluster_id);
	INT(o, controller_id);
	VEC(o, brokers);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, brokers, b)
	{
		c_md_broker(x, b);
	}
	EACH(o, topics, t)
	{
		INT(t, error);
		STR(t, name);
		UUID(t, topic_id);
		INT(t, is_internal);
		INT(t, partitions_first);
		INT(t, partitions_total);
		RUN_OK(t->partitions_first, t->partitions_total,
		       o->partitions.total, "metadata topic");
	}
	EACH(o, partitions, p)
	{
		INT(p, error);
		INT(p, index);
		INT(p, leader);
		INT(p, leader_epoch);
		INT(p, topic);
		INDEX_OK(p->topic, o->topics.total, "metadata partition");
	}
	STATS(o);
	return rc;
}

/* FindCoordinator */
static int d_findcoord_req(struct fw *x)
{
	OUT(struct kp_findcoord_req);
	VEC_INIT(x, o->keys);
	DECODED(kp_findcoord_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	INT(o, key_type);
	VEC(o, keys);
	EACH(o, keys, k)
	{
		chk_str(x, k, "key");
	}
	STATS(o);
	return rc;
}

static int d_findcoord_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_findcoord_resp);
	VEC_INIT(x, o->coordinators);
	DECODED(kp_findcoord_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	VEC(o, coordinators);
	EACH(o, coordinators, c)
	{
		STR(c, key);
		INT(c, node_id);
		STR(c, host);
		INT(c, port);
		INT(c, error);
	}
	STATS(o);
	return rc;
}

/* DescribeCluster */
static int d_describecluster_req(struct fw *x)
{
	OUT(struct kp_describecluster_req);
	DECODED(kp_describecluster_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	INT(o, endpoint_type);
	STATS(o);
	return rc;
}

static int d_describecluster_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_describecluster_resp);
	VEC_INIT(x, o->brokers);
	DECODED(kp_describecluster_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	INT(o, endpoint_type);
	STR(o, cluster_id);
	INT(o, controller_id);
	VEC(o, brokers);
	EACH(o, brokers, b)
	{
		c_md_broker(x, b);
	}
	STATS(o);
	return rc;
}

/* Produce */
static int d_produce_req(struct fw *x)
{
	uint32_t bad = 0;

	OUT(struct kp_produce_req);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_produce_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, transactional_id);
	INT(o, acks);
	INT(o, timeout_ms);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, topics, t)
	{
		c_data_topic(x, t, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		INT(p, topic);
		INT(p, index);
		INDEX_OK(p->topic, o->topics.total, "produce partition");
		c_records(x, p->records_status, &p->records);
		bad += p->records_status < 0;
	}
	INT(o, records_malformed);
	if (o->partitions.n == o->partitions.total && x->strict)
		FZ_CHECK(bad == o->records_malformed,
			 "records_malformed %u, counted %u",
			 o->records_malformed, bad);
	STATS(o);
	return rc;
}

static int d_produce_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_produce_resp);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	VEC_INIT(x, o->endpoints);
	DECODED(kp_produce_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	VEC(o, topics);
	VEC(o, partitions);
	VEC(o, endpoints);
	EACH(o, topics, t)
	{
		c_data_topic(x, t, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		INT(p, topic);
		INT(p, index);
		INT(p, error);
		INT(p, base_offset);
		INT(p, log_append_time);
		INT(p, log_start_offset);
		INT(p, record_errors);
		STR(p, error_message);
		INT(p, has_current_leader);
		INT(p, leader_id);
		INT(p, leader_epoch);
		INDEX_OK(p->topic, o->topics.total, "produce partition");
	}
	EACH(o, endpoints, e)
	{
		c_endpoint(x, e);
	}
	STATS(o);
	return rc;
}

/* Fetch */
static int d_fetch_req(struct fw *x)
{
	OUT(struct kp_fetch_req);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_fetch_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	INT(o, replica_id);
	INT(o, replica_epoch);
	INT(o, max_wait_ms);
	INT(o, min_bytes);
	INT(o, max_bytes);
	INT(o, isolation_level);
	INT(o, session_id);
	INT(o, session_epoch);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, topics, t)
	{
		c_data_topic(x, t, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		INT(p, topic);
		INT(p, partition);
		INT(p, current_leader_epoch);
		INT(p, fetch_offset);
		INT(p, last_fetched_epoch);
		INT(p, log_start_offset);
		INT(p, partition_max_bytes);
		INDEX_OK(p->topic, o->topics.total, "fetch partition");
	}
	INT(o, forgotten_topics);
	INT(o, forgotten_partitions);
	STR(o, rack_id);
	STR(o, cluster_id);
	STATS(o);
	return rc;
}

static int d_fetch_resp(struct fw *x, int16_t v)
{
	uint32_t bad = 0;

	OUT(struct kp_fetch_resp);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	VEC_INIT(x, o->endpoints);
	DECODED(kp_fetch_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	INT(o, session_id);
	VEC(o, topics);
	VEC(o, partitions);
	VEC(o, endpoints);
	EACH(o, topics, t)
	{
		c_data_topic(x, t, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		INT(p, topic);
		INT(p, index);
		INT(p, error);
		INT(p, high_watermark);
		INT(p, last_stable_offset);
		INT(p, log_start_offset);
		INT(p, aborted_txns);
		INT(p, preferred_read_replica);
		INT(p, has_current_leader);
		INT(p, leader_id);
		INT(p, leader_epoch);
		INDEX_OK(p->topic, o->topics.total, "fetch partition");
		c_records(x, p->records_status, &p->records);
		bad += p->records_status < 0;
	}
	INT(o, records_malformed);
	if (o->partitions.n == o->partitions.total && x->strict)
		FZ_CHECK(bad == o->records_malformed,
			 "records_malformed %u, counted %u",
			 o->records_malformed, bad);
	EACH(o, endpoints, e)
	{
		c_endpoint(x, e);
	}
	STATS(o);
	return rc;
}

/* ListOffsets */
static int d_listoffsets_req(struct fw *x)
{
	OUT(struct kp_listoffsets_req);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_listoffsets_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	INT(o, replica_id);
	INT(o, isolation_level);
	INT(o, timeout_ms);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, topics, t)
	{
		c_data_topic(x, t, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		INT(p, topic);
		INT(p, index);
		INT(p, current_leader_epoch);
		INT(p, timestamp);
		INT(p, max_num_offsets);
		INDEX_OK(p->topic, o->topics.total, "listoffsets partition");
	}
	STATS(o);
	return rc;
}

static int d_listoffsets_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_listoffsets_resp);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_listoffsets_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, topics, t)
	{
		c_data_topic(x, t, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		INT(p, topic);
		INT(p, index);
		INT(p, error);
		INT(p, timestamp);
		INT(p, offset);
		INT(p, leader_epoch);
		INT(p, old_offsets);
		INDEX_OK(p->topic, o->topics.total, "listoffsets partition");
	}
	STATS(o);
	return rc;
}

/* JoinGroup */
static int d_joingroup_req(struct fw *x)
{
	OUT(struct kp_joingroup_req);
	VEC_INIT(x, o->protocols);
	DECODED(kp_joingroup_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, group_id);
	INT(o, session_timeout_ms);
	INT(o, rebalance_timeout_ms);
	STR(o, member_id);
	STR(o, group_instance_id);
	STR(o, protocol_type);
	VEC(o, protocols);
	EACH(o, protocols, p)
	{
		chk_str(x, p, "protocol");
	}
	STR(o, reason);
	STATS(o);
	return rc;
}

static int d_joingroup_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_joingroup_resp);
	DECODED(kp_joingroup_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	INT(o, generation_id);
	STR(o, protocol_type);
	STR(o, protocol_name);
	STR(o, leader);
	STR(o, member_id);
	INT(o, skip_assignment);
	INT(o, members);
	STATS(o);
	return rc;
}

/* SyncGroup */
static int d_syncgroup_req(struct fw *x)
{
	OUT(struct kp_syncgroup_req);
	DECODED(kp_syncgroup_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, group_id);
	INT(o, generation_id);
	STR(o, member_id);
	STR(o, group_instance_id);
	STR(o, protocol_type);
	STR(o, protocol_name);
	INT(o, assignments);
	STATS(o);
	return rc;
}

static int d_syncgroup_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_syncgroup_resp);
	DECODED(kp_syncgroup_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	STR(o, protocol_type);
	STR(o, protocol_name);
	INT(o, assignment_len);
	STATS(o);
	return rc;
}

/* Heartbeat */
static int d_heartbeat_req(struct fw *x)
{
	OUT(struct kp_heartbeat_req);
	DECODED(kp_heartbeat_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, group_id);
	INT(o, generation_id);
	STR(o, member_id);
	STR(o, group_instance_id);
	STATS(o);
	return rc;
}

static int d_heartbeat_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_heartbeat_resp);
	DECODED(kp_heartbeat_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	STATS(o);
	return rc;
}

/* LeaveGroup */
static int d_leavegroup_req(struct fw *x)
{
	OUT(struct kp_leavegroup_req);
	VEC_INIT(x, o->members);
	DECODED(kp_leavegroup_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, group_id);
	VEC(o, members);
	EACH(o, members, m)
	{
		STR(m, member_id);
		STR(m, group_instance_id);
		STR(m, reason);
	}
	STATS(o);
	return rc;
}

static int d_leavegroup_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_leavegroup_resp);
	VEC_INIT(x, o->members);
	DECODED(kp_leavegroup_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	VEC(o, members);
	EACH(o, members, m)
	{
		STR(m, member_id);
		STR(m, group_instance_id);
		INT(m, error);
	}
	STATS(o);
	return rc;
}

/* OffsetCommit */
static int d_offsetcommit_req(struct fw *x)
{
	OUT(struct kp_offsetcommit_req);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_offsetcommit_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, group_id);
	INT(o, generation_id);
	STR(o, member_id);
	STR(o, group_instance_id);
	INT(o, retention_ms);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, topics, t)
	{
		c_grp_topic(x, t, 0, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		INT(p, topic);
		INT(p, index);
		INT(p, offset);
		INT(p, leader_epoch);
		STR(p, metadata);
		INDEX_OK(p->topic, o->topics.total, "offsetcommit partition");
	}
	STATS(o);
	return rc;
}

static int d_offsetcommit_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_offsetcommit_resp);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_offsetcommit_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, topics, t)
	{
		c_grp_topic(x, t, 0, o->partitions.total);
	}
	EACH(o, partitions, p) c_grp_part_err(x, p, o->topics.total);
	INT(o, failed);
	INT(o, first_error);
	STATS(o);
	return rc;
}

/* OffsetFetch */
static int d_offsetfetch_req(struct fw *x)
{
	OUT(struct kp_offsetfetch_req);
	VEC_INIT(x, o->groups);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_offsetfetch_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	VEC(o, groups);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, groups, g)
	{
		STR(g, group_id);
		STR(g, member_id);
		INT(g, member_epoch);
		INT(g, all_topics);
		INT(g, topics_first);
		INT(g, topics_total);
		RUN_OK(g->topics_first, g->topics_total, o->topics.total,
		       "offsetfetch group");
	}
	EACH(o, topics, t)
	{
		c_grp_topic(x, t, o->groups.total, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		c_grp_part(x, p, o->topics.total);
	}
	INT(o, require_stable);
	STATS(o);
	return rc;
}

static int d_offsetfetch_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_offsetfetch_resp);
	VEC_INIT(x, o->groups);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_offsetfetch_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	VEC(o, groups);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, groups, g)
	{
		STR(g, group_id);
		INT(g, error);
		INT(g, topics_first);
		INT(g, topics_total);
		RUN_OK(g->topics_first, g->topics_total, o->topics.total,
		       "offsetfetch group");
	}
	EACH(o, topics, t)
	{
		c_grp_topic(x, t, o->groups.total, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		INT(p, topic);
		INT(p, index);
		INT(p, offset);
		INT(p, leader_epoch);
		STR(p, metadata);
		INT(p, error);
		INDEX_OK(p->topic, o->topics.total, "offsetfetch partition");
	}
	INT(o, failed);
	INT(o, first_error);
	STATS(o);
	return rc;
}

/* ConsumerGroupHeartbeat */
static int d_consumergroupheartbeat_req(struct fw *x)
{
	OUT(struct kp_consumergroupheartbeat_req);
	VEC_INIT(x, o->subscribed_topics);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_consumergroupheartbeat_req_decode(x->segs, x->nseg, x->max,
						     o));
	REQ_HDR(o);
	STR(o, group_id);
	STR(o, member_id);
	INT(o, member_epoch);
	STR(o, instance_id);
	STR(o, rack_id);
	INT(o, rebalance_timeout_ms);
	INT(o, subscribed_null);
	VEC(o, subscribed_topics);
	EACH(o, subscribed_topics, s)
	{
		chk_str(x, s, "subscribed topic");
	}
	STR(o, subscribed_regex);
	STR(o, server_assignor);
	INT(o, topics_null);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, topics, t)
	{
		UUID(t, topic_id);
		INT(t, partitions_first);
		INT(t, partitions_total);
		RUN_OK(t->partitions_first, t->partitions_total,
		       o->partitions.total, "cgh topic");
	}
	EACH(o, partitions, p)
	{
		c_grp_part(x, p, o->topics.total);
	}
	STATS(o);
	return rc;
}

static int d_consumergroupheartbeat_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_consumergroupheartbeat_resp);
	DECODED(kp_consumergroupheartbeat_resp_decode(x->segs, x->nseg, x->max,
						      v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	STR(o, error_message);
	STR(o, member_id);
	INT(o, member_epoch);
	INT(o, heartbeat_interval_ms);
	INT(o, assignment_present);
	INT(o, assigned_topics);
	INT(o, assigned_partitions);
	STATS(o);
	return rc;
}

/* InitProducerId */
static int d_initproducerid_req(struct fw *x)
{
	OUT(struct kp_initproducerid_req);
	DECODED(kp_initproducerid_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, transactional_id);
	INT(o, txn_timeout_ms);
	INT(o, producer_id);
	INT(o, producer_epoch);
	STATS(o);
	if (x->strict)
		x->h = fz_mix(x->h, (uint64_t)kp_initproducerid_is_txn(o));
	return rc;
}

static int d_initproducerid_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_initproducerid_resp);
	DECODED(kp_initproducerid_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	INT(o, producer_id);
	INT(o, producer_epoch);
	STATS(o);
	return rc;
}

/* AddPartitionsToTxn */
static int d_addpartitionstotxn_req(struct fw *x)
{
	OUT(struct kp_addpartitionstotxn_req);
	VEC_INIT(x, o->txns);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_addpartitionstotxn_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	VEC(o, txns);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, txns, t)
	{
		STR(t, transactional_id);
		INT(t, producer_id);
		INT(t, producer_epoch);
		INT(t, verify_only);
		INT(t, topics_first);
		INT(t, topics_total);
		RUN_OK(t->topics_first, t->topics_total, o->topics.total,
		       "txn topics");
	}
	EACH(o, topics, t)
	{
		c_grp_topic(x, t, o->txns.total, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		c_grp_part(x, p, o->topics.total);
	}
	STATS(o);
	return rc;
}

static int d_addpartitionstotxn_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_addpartitionstotxn_resp);
	VEC_INIT(x, o->txns);
	VEC_INIT(x, o->topics);
	VEC_INIT(x, o->partitions);
	DECODED(kp_addpartitionstotxn_resp_decode(x->segs, x->nseg, x->max, v,
						  o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	VEC(o, txns);
	VEC(o, topics);
	VEC(o, partitions);
	EACH(o, txns, t)
	{
		STR(t, transactional_id);
		INT(t, topics_first);
		INT(t, topics_total);
		RUN_OK(t->topics_first, t->topics_total, o->topics.total,
		       "txn topics");
	}
	EACH(o, topics, t)
	{
		c_grp_topic(x, t, o->txns.total, o->partitions.total);
	}
	EACH(o, partitions, p)
	{
		c_grp_part_err(x, p, o->topics.total);
	}
	INT(o, failed);
	INT(o, first_error);
	STATS(o);
	return rc;
}

/* EndTxn */
static int d_endtxn_req(struct fw *x)
{
	OUT(struct kp_endtxn_req);
	DECODED(kp_endtxn_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, transactional_id);
	INT(o, producer_id);
	INT(o, producer_epoch);
	INT(o, committed);
	STATS(o);
	return rc;
}

static int d_endtxn_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_endtxn_resp);
	DECODED(kp_endtxn_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	INT(o, producer_id);
	INT(o, producer_epoch);
	STATS(o);
	return rc;
}

/* SaslHandshake */
static int d_saslhandshake_req(struct fw *x)
{
	OUT(struct kp_saslhandshake_req);
	DECODED(kp_saslhandshake_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	STR(o, mechanism);
	STATS(o);
	return rc;
}

static int d_saslhandshake_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_saslhandshake_resp);
	VEC_INIT(x, o->mechanisms);
	DECODED(kp_saslhandshake_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, error);
	VEC(o, mechanisms);
	EACH(o, mechanisms, m)
	{
		chk_str(x, m, "mechanism");
	}
	STATS(o);
	return rc;
}

/* SaslAuthenticate: lengths only, never the credentials. */
static int d_saslauthenticate_req(struct fw *x)
{
	OUT(struct kp_saslauthenticate_req);
	DECODED(kp_saslauthenticate_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	INT(o, auth_len);
	if (x->strict)
		FZ_CHECK(o->auth_len >= -1, "auth_len %d", o->auth_len);
	STATS(o);
	return rc;
}

static int d_saslauthenticate_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_saslauthenticate_resp);
	DECODED(kp_saslauthenticate_resp_decode(x->segs, x->nseg, x->max, v,
						o));
	RESP_HDR(o);
	INT(o, error);
	INT(o, error_message_len);
	INT(o, auth_len);
	INT(o, session_lifetime_ms);
	if (x->strict)
		FZ_CHECK(o->auth_len >= -1 && o->error_message_len >= -1,
			 "auth_len %d, error_message_len %d", o->auth_len,
			 o->error_message_len);
	STATS(o);
	return rc;
}

/* GetTelemetrySubscriptions */
static int d_gettelemetrysubscriptions_req(struct fw *x)
{
	OUT(struct kp_gettelemetrysubscriptions_req);
	DECODED(kp_gettelemetrysubscriptions_req_decode(x->segs, x->nseg,
							x->max, o));
	REQ_HDR(o);
	UUID(o, client_instance_id);
	STATS(o);
	return rc;
}

static int d_gettelemetrysubscriptions_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_gettelemetrysubscriptions_resp);
	DECODED(kp_gettelemetrysubscriptions_resp_decode(x->segs, x->nseg,
							 x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	UUID(o, client_instance_id);
	INT(o, subscription_id);
	INT(o, accepted_compression_types);
	INT(o, push_interval_ms);
	INT(o, telemetry_max_bytes);
	INT(o, delta_temporality);
	INT(o, requested_metrics);
	STATS(o);
	return rc;
}

/* PushTelemetry */
static int d_pushtelemetry_req(struct fw *x)
{
	OUT(struct kp_pushtelemetry_req);
	DECODED(kp_pushtelemetry_req_decode(x->segs, x->nseg, x->max, o));
	REQ_HDR(o);
	UUID(o, client_instance_id);
	INT(o, subscription_id);
	INT(o, terminating);
	INT(o, compression_type);
	INT(o, metrics_len);
	STATS(o);
	return rc;
}

static int d_pushtelemetry_resp(struct fw *x, int16_t v)
{
	OUT(struct kp_pushtelemetry_resp);
	DECODED(kp_pushtelemetry_resp_decode(x->segs, x->nseg, x->max, v, o));
	RESP_HDR(o);
	INT(o, throttle_ms);
	INT(o, error);
	STATS(o);
	return rc;
}

static const struct decoder {
	int16_t key;
	int (*req)(struct fw *x);
	int (*resp)(struct fw *x, int16_t version);
} decoders[] = {
	{KP_API_API_VERSIONS, d_apiversions_req, d_apiversions_resp},
	{KP_API_METADATA, d_metadata_req, d_metadata_resp},
	{KP_API_FIND_COORDINATOR, d_findcoord_req, d_findcoord_resp},
	{KP_API_DESCRIBE_CLUSTER, d_describecluster_req,
	 d_describecluster_resp},
	{KP_API_PRODUCE, d_produce_req, d_produce_resp},
	{KP_API_FETCH, d_fetch_req, d_fetch_resp},
	{KP_API_LIST_OFFSETS, d_listoffsets_req, d_listoffsets_resp},
	{KP_API_JOIN_GROUP, d_joingroup_req, d_joingroup_resp},
	{KP_API_SYNC_GROUP, d_syncgroup_req, d_syncgroup_resp},
	{KP_API_HEARTBEAT, d_heartbeat_req, d_heartbeat_resp},
	{KP_API_LEAVE_GROUP, d_leavegroup_req, d_leavegroup_resp},
	{KP_API_OFFSET_COMMIT, d_offsetcommit_req, d_offsetcommit_resp},
	{KP_API_OFFSET_FETCH, d_offsetfetch_req, d_offsetfetch_resp},
	{KP_API_CONSUMER_GROUP_HEARTBEAT, d_consumergroupheartbeat_req,
	 d_consumergroupheartbeat_resp},
	{KP_API_INIT_PRODUCER_ID, d_initproducerid_req, d_initproducerid_resp},
	{KP_API_ADD_PARTITIONS_TO_TXN, d_addpartitionstotxn_req,
	 d_addpartitionstotxn_resp},
	{KP_API_END_TXN, d_endtxn_req, d_endtxn_resp},
	{KP_API_SASL_HANDSHAKE, d_saslhandshake_req, d_saslhandshake_resp},
	{KP_API_SASL_AUTHENTICATE, d_saslauthenticate_req,
	 d_saslauthenticate_resp},
	{KP_API_GET_TELEMETRY_SUBSCRIPTIONS, d_gettelemetrysubscriptions_req,
	 d_gettelemetrysubscriptions_resp},
	{KP_API_PUSH_TELEMETRY, d_pushtelemetry_req, d_pushtelemetry_resp},
};

static const struct decoder *decoder_of(int16_t key)
{
	for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
		if (decoders[i].key == key)
			return &decoders[i];
	return NULL;
}

/* Run one typed decoder on the cut segments and on the whole block: the
 * same status always, the same content once it is OK. */
static int run_typed(const struct decoder *d, int resp, int16_t version,
		     const struct fz_prelude *p, const struct fz_segs *whole,
		     const struct fz_segs *cut)
{
	struct fw a = {.segs = cut->seg,
		       .nseg = cut->n,
		       .max = p->max_frame,
		       .cap = p->vec_cap,
		       .poison = POISON_CUT};
	struct fw b = {.segs = whole->seg,
		       .nseg = whole->n,
		       .max = p->max_frame,
		       .cap = p->vec_cap,
		       .poison = POISON_WHOLE};
	int ra = resp ? d->resp(&a, version) : d->req(&a);
	int rb = resp ? d->resp(&b, version) : d->req(&b);

	FZ_CHECK(fz_decode_status(ra), "typed decoder (key %d) gave %d", d->key,
		 ra);
	FZ_CHECK(!resp || ra != KP_ERR_UNKNOWN_API,
		 "a response decoder said unknown api");
	FZ_CHECK(ra == rb, "key %d: %s cut, %s whole", d->key,
		 kp_status_str(ra), kp_status_str(rb));
	if (ra == KP_OK || ra == KP_TRAILING)
		FZ_CHECK(a.h == b.h,
			 "key %d %s: decoded otherwise cut and whole (or a "
			 "field was left unset)",
			 d->key, resp ? "response" : "request");
	fw_free(&a);
	fw_free(&b);
	return ra;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_prelude p;
	struct fz_segs whole, cut;
	struct walk_ctx wc;
	struct kp_walk_stats sw, sc;
	int resp, rw, rc;
	const struct decoder *d;

	if (!fz_prelude(&data, &size, &p))
		return 0;
	resp = p.flags & FZ_F_RESP;
	fz_segs_make(&whole, data, size, 1, p.cuts);
	fz_segs_make(&cut, data, size, p.nseg, p.cuts);
	memset(&wc, 0, sizeof(wc));
	wc.segs = cut.seg;
	wc.nseg = cut.n;
	if (resp) {
		struct kp_resp_hdr hw, hc;

		rw = kp_walk_resp(whole.seg, whole.n, p.max_frame, p.api_key,
				  p.api_version, NULL, NULL, &hw, &sw);
		rc = kp_walk_resp(cut.seg, cut.n, p.max_frame, p.api_key,
				  p.api_version, visit, &wc, &hc, &sc);
		FZ_CHECK(rw == rc && hw.corr_id == hc.corr_id,
			 "kp_walk_resp: %s whole, %s cut", kp_status_str(rw),
			 kp_status_str(rc));
	} else {
		struct kp_req_hdr hw, hc;

		rw = kp_walk_req(whole.seg, whole.n, p.max_frame, NULL, NULL,
				 &hw, &sw);
		rc = kp_walk_req(cut.seg, cut.n, p.max_frame, visit, &wc, &hc,
				 &sc);
		FZ_CHECK(rw == rc && hw.api_key == hc.api_key &&
				 hw.api_version == hc.api_version,
			 "kp_walk_req: %s whole, %s cut", kp_status_str(rw),
			 kp_status_str(rc));
		/* The request names its own API: decode it as that too. */
		if (hw.hdr_version >= 0 && hw.api_key != p.api_key &&
		    (d = decoder_of(hw.api_key)) != NULL) {
			int rt = run_typed(d, 0, 0, &p, &whole, &cut);

			FZ_CHECK(rt == rw, "typed request decoder %s, walk %s",
				 kp_status_str(rt), kp_status_str(rw));
		}
	}
	FZ_CHECK(fz_decode_status(rw) && rw != KP_ERR_NOSPACE, "walk gave %d",
		 rw);
	FZ_CHECK(sw.unknown_tags == sc.unknown_tags &&
			 sw.trailing == sc.trailing,
		 "walk stats differ whole/cut");
	FZ_CHECK((rw == KP_TRAILING) == (sw.trailing > 0),
		 "%s with %zu trailing bytes", kp_status_str(rw), sw.trailing);
	walk_done(&wc, rc);
	d = decoder_of(p.api_key);
	if (d) {
		int rt = run_typed(d, resp, p.api_version, &p, &whole, &cut);

		/* The typed decoders walk the same frame: same verdict,
		 * except ApiVersions answers read in the v0 layout, and a
		 * request of another API. */
		if (!(resp && p.api_key == KP_API_API_VERSIONS) &&
		    rt != KP_ERR_UNKNOWN_API)
			FZ_CHECK(rt == rw, "typed decoder %s, walk %s",
				 kp_status_str(rt), kp_status_str(rw));
	}
	fz_segs_free(&whole);
	fz_segs_free(&cut);
	return 0;
}
