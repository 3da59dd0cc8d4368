/*
 * kp_msg_meta: ApiVersions, Metadata, FindCoordinator and DescribeCluster
 * as typed views, and the rewriting of the broker addresses they carry.
 */
#include "kp_msg_meta.h"

#include <string.h>

#include "kp_schema.h"

/* ---- ApiVersions ---- */

static int av_req_visit(void *ctx, struct kp_wval *v)
{
	struct kp_apiversions_req *o = ctx;

	if (kp_is(v, 0, 0, KP_FN_CLIENT_SOFTWARE_NAME))
		o->software_name = v->s;
	else if (kp_is(v, 0, 0, KP_FN_CLIENT_SOFTWARE_VERSION))
		o->software_version = v->s;
	return KP_OK;
}

int kp_apiversions_req_decode(const struct kp_seg *segs, uint32_t nseg,
			      size_t max_frame, struct kp_apiversions_req *o)
{
	memset(o, 0, sizeof(*o));
	o->software_name.len = -1;
	o->software_version.len = -1;
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_API_VERSIONS,
				 av_req_visit, o, &o->hdr, &o->stats);
}

struct av_resp_ctx {
	struct kp_apiversions_resp *o;
	struct kp_api_range *cur;
	struct kp_api_range scratch;
};

static int av_resp_visit(void *ctx, struct kp_wval *v)
{
	struct av_resp_ctx *c = ctx;
	struct kp_apiversions_resp *o = c->o;

	if (v->ev == KP_WEV_ELEM && v->depth == 1 &&
	    v->path[0] == KP_FN_API_KEYS) {
		c->cur = KP_VEC_NEXT(o->apis, &c->scratch);
		return KP_OK;
	}
	if (kp_is(v, 0, 0, KP_FN_ERROR_CODE))
		o->error = (int16_t)v->i;
	else if (kp_is(v, 0, 0, KP_FN_THROTTLE_TIME_MS))
		o->throttle_ms = (int32_t)v->i;
	else if (kp_is(v, 1, KP_FN_API_KEYS, KP_FN_API_KEY))
		c->cur->key = (int16_t)v->i;
	else if (kp_is(v, 1, KP_FN_API_KEYS, KP_FN_MIN_VERSION))
		c->cur->min = (int16_t)v->i;
	else if (kp_is(v, 1, KP_FN_API_KEYS, KP_FN_MAX_VERSION))
		c->cur->max = (int16_t)v->i;
	return KP_OK;
}

static int av_resp_once(const struct kp_seg *segs, uint32_t nseg,
			size_t max_frame, int16_t version,
			struct kp_apiversions_resp *o)
{
	struct av_resp_ctx c = {.o = o};

	o->error = 0;
	o->throttle_ms = 0;
	o->decoded_as = version;
	KP_VEC_RESET(o->apis);
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_API_VERSIONS,
				  version, av_resp_visit, &c, &o->hdr,
				  &o->stats);
}

/* The error code is the body's first field in every version. */
static int16_t av_peek_error(const struct kp_seg *segs, uint32_t nseg)
{
	struct kp_reader r;

	kp_reader_init(&r, segs, nseg, SIZE_MAX);
	kp_skip(&r, 8); /* size, correlation id: header v0 always */
	return kp_read_i16(&r);
}

int kp_apiversions_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			       size_t max_frame, int16_t version,
			       struct kp_apiversions_resp *o)
{
	int rc;

	/* An UNSUPPORTED_VERSION answer comes in the v0 layout whatever was
	 * asked; brokers are not exact about it (librdkafka's mock sends a
	 * body that fits neither), so try the asked version, then v0. */
	if (version > 0 && av_peek_error(segs, nseg) == 35) {
		rc = av_resp_once(segs, nseg, max_frame, 0, o);
		if (rc == KP_OK || rc == KP_TRAILING || rc == KP_NEED_MORE)
			return rc;
	}
	return av_resp_once(segs, nseg, max_frame, version, o);
}

/* ---- Metadata ---- */

struct md_req_ctx {
	struct kp_metadata_req *o;
	struct kp_md_req_topic *cur;
	struct kp_md_req_topic scratch;
};

static int md_req_visit(void *ctx, struct kp_wval *v)
{
	struct md_req_ctx *c = ctx;
	struct kp_metadata_req *o = c->o;

	if (v->ev == KP_WEV_ARRAY && kp_in(v, 0, 0) &&
	    v->f->name == KP_FN_TOPICS) {
		o->all_topics =
			v->i < 0 || (v->i == 0 && o->hdr.api_version == 0);
	} else if (v->ev == KP_WEV_ELEM && v->depth == 1 &&
		   v->path[0] == KP_FN_TOPICS) {
		c->cur = KP_VEC_NEXT(o->topics, &c->scratch);
		c->cur->name.len = -1;
	} else if (kp_is(v, 1, KP_FN_TOPICS, KP_FN_NAME)) {
		c->cur->name = v->s;
	} else if (kp_is(v, 1, KP_FN_TOPICS, KP_FN_TOPIC_ID)) {
		memcpy(c->cur->topic_id, v->uuid, 16);
	} else if (kp_is(v, 0, 0, KP_FN_ALLOW_AUTO_TOPIC_CREATION)) {
		o->allow_auto_create = (int8_t)v->i;
	}
	return KP_OK;
}

int kp_metadata_req_decode(const struct kp_seg *segs, uint32_t nseg,
			   size_t max_frame, struct kp_metadata_req *o)
{
	struct md_req_ctx c = {.o = o};

	/* The header is decoded before the body's first field, so the
	 * visitor can read o->hdr.api_version. */
	o->all_topics = 0;
	o->allow_auto_create = 1; /* v0-3: always allowed */
	KP_VEC_RESET(o->topics);
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_METADATA,
				 md_req_visit, &c, &o->hdr, &o->stats);
}

struct md_resp_ctx {
	struct kp_metadata_resp *o;
	struct kp_md_broker *broker;
	struct kp_md_topic *topic;
	struct kp_md_partition *part;
	struct kp_md_broker sb;
	struct kp_md_topic st;
	struct kp_md_partition sp;
};

static int md_resp_visit(void *ctx, struct kp_wval *v)
{
	struct md_resp_ctx *c = ctx;
	struct kp_metadata_resp *o = c->o;

	if (v->ev == KP_WEV_ELEM) {
		if (kp_in(v, 1, KP_FN_BROKERS)) {
			c->broker = KP_VEC_NEXT(o->brokers, &c->sb);
			c->broker->rack.len = -1;
		} else if (kp_in(v, 1, KP_FN_TOPICS)) {
			c->topic = KP_VEC_NEXT(o->topics, &c->st);
			c->topic->partitions_first = o->partitions.total;
		} else if (kp_in(v, 2, KP_FN_PARTITIONS)) {
			c->part = KP_VEC_NEXT(o->partitions, &c->sp);
			c->part->topic = o->topics.total - 1;
			c->part->leader_epoch = -1;
			c->topic->partitions_total++;
		}
		return KP_OK;
	}
	if (v->ev != KP_WEV_VALUE)
		return KP_OK;
	switch (v->depth) {
	case 0:
		if (v->f->name == KP_FN_THROTTLE_TIME_MS)
			o->throttle_ms = (int32_t)v->i;
		else if (v->f->name == KP_FN_CLUSTER_ID)
			o->cluster_id = v->s;
		else if (v->f->name == KP_FN_CONTROLLER_ID)
			o->controller_id = (int32_t)v->i;
		break;
	case 1:
		if (v->path[0] == KP_FN_BROKERS) {
			if (v->f->name == KP_FN_NODE_ID)
				c->broker->node_id = (int32_t)v->i;
			else if (v->f->name == KP_FN_HOST)
				c->broker->host = v->s;
			else if (v->f->name == KP_FN_PORT)
				c->broker->port = (int32_t)v->i;
			else if (v->f->name == KP_FN_RACK)
				c->broker->rack = v->s;
		} else if (v->path[0] == KP_FN_TOPICS) {
			if (v->f->name == KP_FN_ERROR_CODE)
				c->topic->error = (int16_t)v->i;
			else if (v->f->name == KP_FN_NAME)
				c->topic->name = v->s;
			else if (v->f->name == KP_FN_TOPIC_ID)
				memcpy(c->topic->topic_id, v->uuid, 16);
			else if (v->f->name == KP_FN_IS_INTERNAL)
				c->topic->is_internal = (int8_t)v->i;
		}
		break;
	case 2:
		if (v->path[1] != KP_FN_PARTITIONS)
			break;
		if (v->f->name == KP_FN_ERROR_CODE)
			c->part->error = (int16_t)v->i;
		else if (v->f->name == KP_FN_PARTITION_INDEX)
			c->part->index = (int32_t)v->i;
		else if (v->f->name == KP_FN_LEADER_ID)
			c->part->leader = (int32_t)v->i;
		else if (v->f->name == KP_FN_LEADER_EPOCH)
			c->part->leader_epoch = (int32_t)v->i;
		break;
	}
	return KP_OK;
}

int kp_metadata_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, int16_t version,
			    struct kp_metadata_resp *o)
{
	struct md_resp_ctx c = {.o = o};

	o->throttle_ms = 0;
	o->cluster_id.len = -1;
	o->cluster_id.ptr = NULL;
	o->controller_id = -1;
	KP_VEC_RESET(o->brokers);
	KP_VEC_RESET(o->topics);
	KP_VEC_RESET(o->partitions);
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_METADATA,
				  version, md_resp_visit, &c, &o->hdr,
				  &o->stats);
}
