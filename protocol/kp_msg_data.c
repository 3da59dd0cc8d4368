/*
 * kp_msg_data: Produce, Fetch and ListOffsets as typed views. Each decoder
 * is a visitor over the schema walk that picks fields by their path; the
 * records fields are summarised from their views as the walk passes them.
 */
#include "kp_msg_data.h"

#include <string.h>

#include "kp_schema.h"

/* 1 when v lies at depth inside the arrays/structs p0, p1, p2 (as many as
 * depth names). Matching the whole path keeps same-named fields of other
 * parts (ForgottenTopicsData.Partitions, RecordErrors...) out. */
static int at(const struct kp_wval *v, uint16_t depth, uint16_t p0, uint16_t p1,
	      uint16_t p2)
{
	if (v->depth != depth)
		return 0;
	return (depth < 1 || v->path[0] == p0) &&
	       (depth < 2 || v->path[1] == p1) &&
	       (depth < 3 || v->path[2] == p2);
}

/* Claim the next topic and partition of an out-struct with topics and
 * partitions vectors; the context has topic/part pointers and scratch
 * slots st/sp. */
#define TOPIC_NEXT(c, o)                                                       \
	do {                                                                   \
		(c)->topic = KP_VEC_NEXT((o)->topics, &(c)->st);               \
		(c)->topic->name.len = -1;                                     \
		(c)->topic->partitions_first = (o)->partitions.total;          \
	} while (0)

#define PART_NEXT(c, o)                                                        \
	do {                                                                   \
		(c)->part = KP_VEC_NEXT((o)->partitions, &(c)->sp);            \
		(c)->part->topic = (o)->topics.total - 1;                      \
		(c)->topic->partitions_total++;                                \
	} while (0)

/* Reset an out-struct but keep the storage its vectors were given. */
#define VEC_KEEP(vec, saved)                                                   \
	do {                                                                   \
		(vec).v = (saved).v;                                           \
		(vec).cap = (saved).cap;                                       \
	} while (0)

static void topic_value(struct kp_data_topic *t, const struct kp_wval *v)
{
	switch (v->f->name) {
	case KP_FN_NAME:
	case KP_FN_TOPIC:
		t->name = v->s;
		break;
	case KP_FN_TOPIC_ID:
		memcpy(t->topic_id, v->uuid, 16);
		break;
	}
}

static void endpoint_value(struct kp_node_endpoint *e, const struct kp_wval *v)
{
	switch (v->f->name) {
	case KP_FN_NODE_ID:
		e->node_id = (int32_t)v->i;
		break;
	case KP_FN_HOST:
		e->host = v->s;
		break;
	case KP_FN_PORT:
		e->port = (int32_t)v->i;
		break;
	case KP_FN_RACK:
		e->rack = v->s;
		break;
	}
}

static struct kp_node_endpoint *endpoint_init(struct kp_node_endpoint *e)
{
	e->host.len = -1;
	e->rack.len = -1;
	return e;
}

/* Summarise a records value; a bad one is counted, not fatal. */
static void records_value(const struct kp_seg *segs, uint32_t nseg,
			  const struct kp_wval *v, int *status,
			  struct kp_records_summary *s, uint32_t *malformed)
{
	*status = kp_records_summary(segs, nseg, &v->s, s);
	if (*status < 0)
		(*malformed)++;
}

/* ---- Produce ---- */

struct produce_req_ctx {
	struct kp_produce_req *o;
	const struct kp_seg *segs;
	uint32_t nseg;
	struct kp_data_topic *topic;
	struct kp_produce_req_part *part;
	struct kp_data_topic st;
	struct kp_produce_req_part sp;
};

static int produce_req_visit(void *ctx, struct kp_wval *v)
{
	struct produce_req_ctx *c = ctx;
	struct kp_produce_req *o = c->o;

	if (v->ev == KP_WEV_ELEM) {
		if (at(v, 1, KP_FN_TOPIC_DATA, 0, 0))
			TOPIC_NEXT(c, o);
		else if (at(v, 2, KP_FN_TOPIC_DATA, KP_FN_PARTITION_DATA, 0))
			PART_NEXT(c, o);
		return KP_OK;
	}
	if (v->ev != KP_WEV_VALUE)
		return KP_OK;
	if (at(v, 0, 0, 0, 0)) {
		if (v->f->name == KP_FN_TRANSACTIONAL_ID)
			o->transactional_id = v->s;
		else if (v->f->name == KP_FN_ACKS)
			o->acks = (int16_t)v->i;
		else if (v->f->name == KP_FN_TIMEOUT_MS)
			o->timeout_ms = (int32_t)v->i;
	} else if (at(v, 1, KP_FN_TOPIC_DATA, 0, 0)) {
		topic_value(c->topic, v);
	} else if (at(v, 2, KP_FN_TOPIC_DATA, KP_FN_PARTITION_DATA, 0)) {
		if (v->f->name == KP_FN_INDEX)
			c->part->index = (int32_t)v->i;
		else if (v->f->name == KP_FN_RECORDS)
			records_value(c->segs, c->nseg, v,
				      &c->part->records_status,
				      &c->part->records, &o->records_malformed);
	}
	return KP_OK;
}

int kp_produce_req_decode(const struct kp_seg *segs, uint32_t nseg,
			  size_t max_frame, struct kp_produce_req *o)
{
	struct produce_req_ctx c = {.o = o, .segs = segs, .nseg = nseg};
	struct kp_produce_req keep = *o;

	memset(o, 0, sizeof(*o));
	VEC_KEEP(o->topics, keep.topics);
	VEC_KEEP(o->partitions, keep.partitions);
	o->transactional_id.len = -1;
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_PRODUCE,
				 produce_req_visit, &c, &o->hdr, &o->stats);
}

struct produce_resp_ctx {
	struct kp_produce_resp *o;
	struct kp_data_topic *topic;
	struct kp_produce_resp_part *part;
	struct kp_node_endpoint *ep;
	struct kp_data_topic st;
	struct kp_produce_resp_part sp;
	struct kp_node_endpoint se;
};

static void produce_resp_part(struct kp_produce_resp_part *p,
			      const struct kp_wval *v)
{
	switch (v->f->name) {
	case KP_FN_INDEX:
		p->index = (int32_t)v->i;
		break;
	case KP_FN_ERROR_CODE:
		p->error = (int16_t)v->i;
		break;
	case KP_FN_BASE_OFFSET:
		p->base_offset = v->i;
		break;
	case KP_FN_LOG_APPEND_TIME_MS:
		p->log_append_time = v->i;
		break;
	case KP_FN_LOG_START_OFFSET:
		p->log_start_offset = v->i;
		break;
	case KP_FN_ERROR_MESSAGE:
		p->error_message = v->s;
		break;
	}
}

static int produce_resp_visit(void *ctx, struct kp_wval *v)
{
	struct produce_resp_ctx *c = ctx;
	struct kp_produce_resp *o = c->o;
	const uint16_t tf = KP_FN_RESPONSES, pf = KP_FN_PARTITION_RESPONSES;

	switch (v->ev) {
	case KP_WEV_ELEM:
		if (at(v, 1, tf, 0, 0)) {
			TOPIC_NEXT(c, o);
		} else if (at(v, 2, tf, pf, 0)) {
			PART_NEXT(c, o);
			c->part->log_append_time = -1;
			c->part->log_start_offset = -1;
			c->part->error_message.len = -1;
			c->part->leader_id = -1;
			c->part->leader_epoch = -1;
		} else if (at(v, 1, KP_FN_NODE_ENDPOINTS, 0, 0)) {
			c->ep = endpoint_init(
				KP_VEC_NEXT(o->endpoints, &c->se));
		}
		return KP_OK;
	case KP_WEV_ARRAY:
		if (at(v, 2, tf, pf, 0) && v->f->name == KP_FN_RECORD_ERRORS)
			c->part->record_errors = v->i > 0 ? (uint32_t)v->i : 0;
		return KP_OK;
	case KP_WEV_STRUCT:
		if (at(v, 2, tf, pf, 0) && v->f->name == KP_FN_CURRENT_LEADER)
			c->part->has_current_leader = 1;
		return KP_OK;
	case KP_WEV_VALUE:
		break;
	default:
		return KP_OK;
	}
	if (at(v, 0, 0, 0, 0)) {
		if (v->f->name == KP_FN_THROTTLE_TIME_MS)
			o->throttle_ms = (int32_t)v->i;
	} else if (at(v, 1, tf, 0, 0)) {
		topic_value(c->topic, v);
	} else if (at(v, 2, tf, pf, 0)) {
		produce_resp_part(c->part, v);
	} else if (at(v, 3, tf, pf, KP_FN_CURRENT_LEADER)) {
		if (v->f->name == KP_FN_LEADER_ID)
			c->part->leader_id = (int32_t)v->i;
		else if (v->f->name == KP_FN_LEADER_EPOCH)
			c->part->leader_epoch = (int32_t)v->i;
	} else if (at(v, 1, KP_FN_NODE_ENDPOINTS, 0, 0)) {
		endpoint_value(c->ep, v);
	}
	return KP_OK;
}

int kp_produce_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			   size_t max_frame, int16_t version,
			   struct kp_produce_resp *o)
{
	struct produce_resp_ctx c = {.o = o};
	struct kp_produce_resp keep = *o;

	memset(o, 0, sizeof(*o));
	VEC_KEEP(o->topics, keep.topics);
	VEC_KEEP(o->partitions, keep.partitions);
	VEC_KEEP(o->endpoints, keep.endpoints);
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_PRODUCE,
				  version, produce_resp_visit, &c, &o->hdr,
				  &o->stats);
}

/* ---- Fetch ---- */

struct fetch_req_ctx {
	struct kp_fetch_req *o;
	struct kp_data_topic *topic;
	struct kp_fetch_req_part *part;
	struct kp_data_topic st;
	struct kp_fetch_req_part sp;
};

static void fetch_req_top(struct kp_fetch_req *o, const struct kp_wval *v)
{
	switch (v->f->name) {
	case KP_FN_CLUSTER_ID:
		o->cluster_id = v->s;
		break;
	case KP_FN_REPLICA_ID:
		o->replica_id = (int32_t)v->i;
		break;
	case KP_FN_MAX_WAIT_MS:
		o->max_wait_ms = (int32_t)v->i;
		break;
	case KP_FN_MIN_BYTES:
		o->min_bytes = (int32_t)v->i;
		break;
	case KP_FN_MAX_BYTES:
		o->max_bytes = (int32_t)v->i;
		break;
	case KP_FN_ISOLATION_LEVEL:
		o->isolation_level = (int8_t)v->i;
		break;
	case KP_FN_SESSION_ID:
		o->session_id = (int32_t)v->i;
		break;
	case KP_FN_SESSION_EPOCH:
		o->session_epoch = (int32_t)v->i;
		break;
	case KP_FN_RACK_ID:
		o->rack_id = v->s;
		break;
	}
}

static void fetch_req_part(struct kp_fetch_req_part *p, const struct kp_wval *v)
{
	switch (v->f->name) {
	case KP_FN_PARTITION:
		p->partition = (int32_t)v->i;
		break;
	case KP_FN_CURRENT_LEADER_EPOCH:
		p->current_leader_epoch = (int32_t)v->i;
		break;
	case KP_FN_FETCH_OFFSET:
		p->fetch_offset = v->i;
		break;
	case KP_FN_LAST_FETCHED_EPOCH:
		p->last_fetched_epoch = (int32_t)v->i;
		break;
	case KP_FN_LOG_START_OFFSET:
		p->log_start_offset = v->i;
		break;
	case KP_FN_PARTITION_MAX_BYTES:
		p->partition_max_bytes = (int32_t)v->i;
		break;
	}
}

static int fetch_req_visit(void *ctx, struct kp_wval *v)
{
	struct fetch_req_ctx *c = ctx;
	struct kp_fetch_req *o = c->o;
	const uint16_t tf = KP_FN_TOPICS, pf = KP_FN_PARTITIONS;
	const uint16_t ff = KP_FN_FORGOTTEN_TOPICS_DATA;

	switch (v->ev) {
	case KP_WEV_ELEM:
		if (at(v, 1, tf, 0, 0)) {
			TOPIC_NEXT(c, o);
		} else if (at(v, 2, tf, pf, 0)) {
			PART_NEXT(c, o);
			c->part->current_leader_epoch = -1;
			c->part->last_fetched_epoch = -1;
			c->part->log_start_offset = -1;
		}
		return KP_OK;
	case KP_WEV_ARRAY:
		/* Counts are never negative here: neither array is
		 * nullable, and the walker rejects a null one. */
		if (at(v, 0, 0, 0, 0) && v->f->name == ff && v->i > 0)
			o->forgotten_topics = (uint32_t)v->i;
		else if (at(v, 1, ff, 0, 0) && v->f->name == pf && v->i > 0)
			o->forgotten_partitions += (uint32_t)v->i;
		return KP_OK;
	case KP_WEV_VALUE:
		break;
	default:
		return KP_OK;
	}
	if (at(v, 0, 0, 0, 0))
		fetch_req_top(o, v);
	else if (at(v, 1, KP_FN_REPLICA_STATE, 0, 0) &&
		 v->f->name == KP_FN_REPLICA_ID)
		o->replica_id = (int32_t)v->i;
	else if (at(v, 1, KP_FN_REPLICA_STATE, 0, 0) &&
		 v->f->name == KP_FN_REPLICA_EPOCH)
		o->replica_epoch = v->i;
	else if (at(v, 1, tf, 0, 0))
		topic_value(c->topic, v);
	else if (at(v, 2, tf, pf, 0))
		fetch_req_part(c->part, v);
	return KP_OK;
}

int kp_fetch_req_decode(const struct kp_seg *segs, uint32_t nseg,
			size_t max_frame, struct kp_fetch_req *o)
{
	struct fetch_req_ctx c = {.o = o};
	struct kp_fetch_req keep = *o;

	memset(o, 0, sizeof(*o));
	VEC_KEEP(o->topics, keep.topics);
	VEC_KEEP(o->partitions, keep.partitions);
	/* The schema's defaults, for the versions without the field. */
	o->replica_id = -1;
	o->replica_epoch = -1;
	o->max_bytes = INT32_MAX;
	o->session_epoch = -1;
	o->rack_id.len = -1;
	o->cluster_id.len = -1;
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_FETCH,
				 fetch_req_visit, &c, &o->hdr, &o->stats);
}

struct fetch_resp_ctx {
	struct kp_fetch_resp *o;
	const struct kp_seg *segs;
	uint32_t nseg;
	struct kp_data_topic *topic;
	struct kp_fetch_resp_part *part;
	struct kp_node_endpoint *ep;
	struct kp_data_topic st;
	struct kp_fetch_resp_part sp;
	struct kp_node_endpoint se;
};

static void fetch_resp_part(struct fetch_resp_ctx *c, const struct kp_wval *v)
{
	struct kp_fetch_resp_part *p = c->part;

	switch (v->f->name) {
	case KP_FN_PARTITION_INDEX:
		p->index = (int32_t)v->i;
		break;
	case KP_FN_ERROR_CODE:
		p->error = (int16_t)v->i;
		break;
	case KP_FN_HIGH_WATERMARK:
		p->high_watermark = v->i;
		break;
	case KP_FN_LAST_STABLE_OFFSET:
		p->last_stable_offset = v->i;
		break;
	case KP_FN_LOG_START_OFFSET:
		p->log_start_offset = v->i;
		break;
	case KP_FN_PREFERRED_READ_REPLICA:
		p->preferred_read_replica = (int32_t)v->i;
		break;
	case KP_FN_RECORDS:
		records_value(c->segs, c->nseg, v, &p->records_status,
			      &p->records, &c->o->records_malformed);
		break;
	}
}

static int fetch_resp_visit(void *ctx, struct kp_wval *v)
{
	struct fetch_resp_ctx *c = ctx;
	struct kp_fetch_resp *o = c->o;
	const uint16_t tf = KP_FN_RESPONSES, pf = KP_FN_PARTITIONS;

	switch (v->ev) {
	case KP_WEV_ELEM:
		if (at(v, 1, tf, 0, 0)) {
			TOPIC_NEXT(c, o);
		} else if (at(v, 2, tf, pf, 0)) {
			PART_NEXT(c, o);
			c->part->last_stable_offset = -1;
			c->part->log_start_offset = -1;
			c->part->aborted_txns = -1;
			c->part->preferred_read_replica = -1;
			c->part->leader_id = -1;
			c->part->leader_epoch = -1;
		} else if (at(v, 1, KP_FN_NODE_ENDPOINTS, 0, 0)) {
			c->ep = endpoint_init(
				KP_VEC_NEXT(o->endpoints, &c->se));
		}
		return KP_OK;
	case KP_WEV_ARRAY:
		if (at(v, 2, tf, pf, 0) &&
		    v->f->name == KP_FN_ABORTED_TRANSACTIONS)
			c->part->aborted_txns = (int32_t)v->i;
		return KP_OK;
	case KP_WEV_STRUCT:
		if (at(v, 2, tf, pf, 0) && v->f->name == KP_FN_CURRENT_LEADER)
			c->part->has_current_leader = 1;
		return KP_OK;
	case KP_WEV_VALUE:
		break;
	default:
		return KP_OK;
	}
	if (at(v, 0, 0, 0, 0)) {
		if (v->f->name == KP_FN_THROTTLE_TIME_MS)
			o->throttle_ms = (int32_t)v->i;
		else if (v->f->name == KP_FN_ERROR_CODE)
			o->error = (int16_t)v->i;
		else if (v->f->name == KP_FN_SESSION_ID)
			o->session_id = (int32_t)v->i;
	} else if (at(v, 1, tf, 0, 0)) {
		topic_value(c->topic, v);
	} else if (at(v, 2, tf, pf, 0)) {
		fetch_resp_part(c, v);
	} else if (at(v, 3, tf, pf, KP_FN_CURRENT_LEADER)) {
		if (v->f->name == KP_FN_LEADER_ID)
			c->part->leader_id = (int32_t)v->i;
		else if (v->f->name == KP_FN_LEADER_EPOCH)
			c->part->leader_epoch = (int32_t)v->i;
	} else if (at(v, 1, KP_FN_NODE_ENDPOINTS, 0, 0)) {
		endpoint_value(c->ep, v);
	}
	return KP_OK;
}

int kp_fetch_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			 size_t max_frame, int16_t version,
			 struct kp_fetch_resp *o)
{
	struct fetch_resp_ctx c = {.o = o, .segs = segs, .nseg = nseg};
	struct kp_fetch_resp keep = *o;

	memset(o, 0, sizeof(*o));
	VEC_KEEP(o->topics, keep.topics);
	VEC_KEEP(o->partitions, keep.partitions);
	VEC_KEEP(o->endpoints, keep.endpoints);
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_FETCH, version,
				  fetch_resp_visit, &c, &o->hdr, &o->stats);
}

/* ---- ListOffsets ---- */

struct lo_req_ctx {
	struct kp_listoffsets_req *o;
	struct kp_data_topic *topic;
	struct kp_listoffsets_req_part *part;
	struct kp_data_topic st;
	struct kp_listoffsets_req_part sp;
};

static int lo_req_visit(void *ctx, struct kp_wval *v)
{
	struct lo_req_ctx *c = ctx;
	struct kp_listoffsets_req *o = c->o;
	const uint16_t tf = KP_FN_TOPICS, pf = KP_FN_PARTITIONS;

	if (v->ev == KP_WEV_ELEM) {
		if (at(v, 1, tf, 0, 0)) {
			TOPIC_NEXT(c, o);
		} else if (at(v, 2, tf, pf, 0)) {
			PART_NEXT(c, o);
			c->part->current_leader_epoch = -1;
			c->part->max_num_offsets = 1;
		}
		return KP_OK;
	}
	if (v->ev != KP_WEV_VALUE)
		return KP_OK;
	if (at(v, 0, 0, 0, 0)) {
		if (v->f->name == KP_FN_REPLICA_ID)
			o->replica_id = (int32_t)v->i;
		else if (v->f->name == KP_FN_ISOLATION_LEVEL)
			o->isolation_level = (int8_t)v->i;
		else if (v->f->name == KP_FN_TIMEOUT_MS)
			o->timeout_ms = (int32_t)v->i;
	} else if (at(v, 1, tf, 0, 0)) {
		topic_value(c->topic, v);
	} else if (at(v, 2, tf, pf, 0)) {
		if (v->f->name == KP_FN_PARTITION_INDEX)
			c->part->index = (int32_t)v->i;
		else if (v->f->name == KP_FN_CURRENT_LEADER_EPOCH)
			c->part->current_leader_epoch = (int32_t)v->i;
		else if (v->f->name == KP_FN_TIMESTAMP)
			c->part->timestamp = v->i;
		else if (v->f->name == KP_FN_MAX_NUM_OFFSETS)
			c->part->max_num_offsets = (int32_t)v->i;
	}
	return KP_OK;
}

int kp_listoffsets_req_decode(const struct kp_seg *segs, uint32_t nseg,
			      size_t max_frame, struct kp_listoffsets_req *o)
{
	struct lo_req_ctx c = {.o = o};
	struct kp_listoffsets_req keep = *o;

	memset(o, 0, sizeof(*o));
	VEC_KEEP(o->topics, keep.topics);
	VEC_KEEP(o->partitions, keep.partitions);
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_LIST_OFFSETS,
				 lo_req_visit, &c, &o->hdr, &o->stats);
}

struct lo_resp_ctx {
	struct kp_listoffsets_resp *o;
	struct kp_data_topic *topic;
	struct kp_listoffsets_resp_part *part;
	struct kp_data_topic st;
	struct kp_listoffsets_resp_part sp;
};

static void lo_resp_part(struct kp_listoffsets_resp_part *p,
			 const struct kp_wval *v)
{
	switch (v->f->name) {
	case KP_FN_PARTITION_INDEX:
		p->index = (int32_t)v->i;
		break;
	case KP_FN_ERROR_CODE:
		p->error = (int16_t)v->i;
		break;
	case KP_FN_OLD_STYLE_OFFSETS:
		if (v->index == 0)
			p->offset = v->i;
		break;
	case KP_FN_TIMESTAMP:
		p->timestamp = v->i;
		break;
	case KP_FN_OFFSET:
		p->offset = v->i;
		break;
	case KP_FN_LEADER_EPOCH:
		p->leader_epoch = (int32_t)v->i;
		break;
	}
}

static int lo_resp_visit(void *ctx, struct kp_wval *v)
{
	struct lo_resp_ctx *c = ctx;
	struct kp_listoffsets_resp *o = c->o;
	const uint16_t tf = KP_FN_TOPICS, pf = KP_FN_PARTITIONS;

	switch (v->ev) {
	case KP_WEV_ELEM:
		if (at(v, 1, tf, 0, 0)) {
			TOPIC_NEXT(c, o);
		} else if (at(v, 2, tf, pf, 0)) {
			PART_NEXT(c, o);
			c->part->timestamp = -1;
			c->part->offset = -1;
			c->part->leader_epoch = -1;
		}
		return KP_OK;
	case KP_WEV_ARRAY:
		if (at(v, 2, tf, pf, 0) &&
		    v->f->name == KP_FN_OLD_STYLE_OFFSETS && v->i > 0)
			c->part->old_offsets = (uint32_t)v->i;
		return KP_OK;
	case KP_WEV_VALUE:
		break;
	default:
		return KP_OK;
	}
	if (at(v, 0, 0, 0, 0)) {
		if (v->f->name == KP_FN_THROTTLE_TIME_MS)
			o->throttle_ms = (int32_t)v->i;
	} else if (at(v, 1, tf, 0, 0)) {
		topic_value(c->topic, v);
	} else if (at(v, 2, tf, pf, 0)) {
		lo_resp_part(c->part, v);
	}
	return KP_OK;
}

int kp_listoffsets_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			       size_t max_frame, int16_t version,
			       struct kp_listoffsets_resp *o)
{
	struct lo_resp_ctx c = {.o = o};
	struct kp_listoffsets_resp keep = *o;

	memset(o, 0, sizeof(*o));
	VEC_KEEP(o->topics, keep.topics);
	VEC_KEEP(o->partitions, keep.partitions);
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_LIST_OFFSETS,
				  version, lo_resp_visit, &c, &o->hdr,
				  &o->stats);
}
