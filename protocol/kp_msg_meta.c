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

/* ---- FindCoordinator ---- */

struct fc_req_ctx {
	struct kp_findcoord_req *o;
	struct kp_str scratch;
};

static int fc_req_visit(void *ctx, struct kp_wval *v)
{
	struct fc_req_ctx *c = ctx;
	struct kp_findcoord_req *o = c->o;

	if (kp_is(v, 0, 0, KP_FN_KEY_TYPE))
		o->key_type = (int8_t)v->i;
	else if (kp_is(v, 0, 0, KP_FN_KEY) ||
		 kp_is(v, 0, 0, KP_FN_COORDINATOR_KEYS))
		*(struct kp_str *)KP_VEC_NEXT(o->keys, &c->scratch) = v->s;
	return KP_OK;
}

int kp_findcoord_req_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, struct kp_findcoord_req *o)
{
	struct fc_req_ctx c = {.o = o};

	o->key_type = 0;
	KP_VEC_RESET(o->keys);
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_FIND_COORDINATOR,
				 fc_req_visit, &c, &o->hdr, &o->stats);
}

struct fc_resp_ctx {
	struct kp_findcoord_resp *o;
	struct kp_coordinator *cur;
	struct kp_coordinator scratch;
};

static struct kp_coordinator *fc_new(struct fc_resp_ctx *c)
{
	c->cur = KP_VEC_NEXT(c->o->coordinators, &c->scratch);
	c->cur->key.len = -1;
	c->cur->host.len = -1;
	return c->cur;
}

static int fc_resp_visit(void *ctx, struct kp_wval *v)
{
	struct fc_resp_ctx *c = ctx;
	struct kp_coordinator *k;

	if (v->ev == KP_WEV_ELEM && kp_in(v, 1, KP_FN_COORDINATORS)) {
		fc_new(c);
		return KP_OK;
	}
	if (v->ev != KP_WEV_VALUE)
		return KP_OK;
	if (kp_is(v, 0, 0, KP_FN_THROTTLE_TIME_MS)) {
		c->o->throttle_ms = (int32_t)v->i;
		return KP_OK;
	}
	if (v->depth == 0) {
		/* v0-3: the one answer's fields sit in the body itself. */
		if (v->f->name != KP_FN_ERROR_CODE &&
		    v->f->name != KP_FN_NODE_ID && v->f->name != KP_FN_HOST &&
		    v->f->name != KP_FN_PORT)
			return KP_OK;
		k = c->cur ? c->cur : fc_new(c);
	} else if (kp_in(v, 1, KP_FN_COORDINATORS)) {
		k = c->cur;
	} else {
		return KP_OK;
	}
	switch (v->f->name) {
	case KP_FN_KEY:
		k->key = v->s;
		break;
	case KP_FN_NODE_ID:
		k->node_id = (int32_t)v->i;
		break;
	case KP_FN_HOST:
		k->host = v->s;
		break;
	case KP_FN_PORT:
		k->port = (int32_t)v->i;
		break;
	case KP_FN_ERROR_CODE:
		k->error = (int16_t)v->i;
		break;
	}
	return KP_OK;
}

int kp_findcoord_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, int16_t version,
			     struct kp_findcoord_resp *o)
{
	struct fc_resp_ctx c = {.o = o};

	o->throttle_ms = 0;
	KP_VEC_RESET(o->coordinators);
	return kp_msg_decode_resp(segs, nseg, max_frame,
				  KP_API_FIND_COORDINATOR, version,
				  fc_resp_visit, &c, &o->hdr, &o->stats);
}

/* ---- DescribeCluster ---- */

static int dc_req_visit(void *ctx, struct kp_wval *v)
{
	struct kp_describecluster_req *o = ctx;

	if (kp_is(v, 0, 0, KP_FN_ENDPOINT_TYPE))
		o->endpoint_type = (int8_t)v->i;
	return KP_OK;
}

int kp_describecluster_req_decode(const struct kp_seg *segs, uint32_t nseg,
				  size_t max_frame,
				  struct kp_describecluster_req *o)
{
	memset(o, 0, sizeof(*o));
	o->endpoint_type = 1;
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_DESCRIBE_CLUSTER,
				 dc_req_visit, o, &o->hdr, &o->stats);
}

struct dc_resp_ctx {
	struct kp_describecluster_resp *o;
	struct kp_md_broker *cur;
	struct kp_md_broker scratch;
};

static int dc_resp_visit(void *ctx, struct kp_wval *v)
{
	struct dc_resp_ctx *c = ctx;
	struct kp_describecluster_resp *o = c->o;

	if (v->ev == KP_WEV_ELEM && kp_in(v, 1, KP_FN_BROKERS)) {
		c->cur = KP_VEC_NEXT(o->brokers, &c->scratch);
		c->cur->rack.len = -1;
		return KP_OK;
	}
	if (v->ev != KP_WEV_VALUE)
		return KP_OK;
	if (v->depth == 0) {
		switch (v->f->name) {
		case KP_FN_THROTTLE_TIME_MS:
			o->throttle_ms = (int32_t)v->i;
			break;
		case KP_FN_ERROR_CODE:
			o->error = (int16_t)v->i;
			break;
		case KP_FN_ENDPOINT_TYPE:
			o->endpoint_type = (int8_t)v->i;
			break;
		case KP_FN_CLUSTER_ID:
			o->cluster_id = v->s;
			break;
		case KP_FN_CONTROLLER_ID:
			o->controller_id = (int32_t)v->i;
			break;
		}
	} else if (kp_in(v, 1, KP_FN_BROKERS)) {
		switch (v->f->name) {
		case KP_FN_BROKER_ID:
			c->cur->node_id = (int32_t)v->i;
			break;
		case KP_FN_HOST:
			c->cur->host = v->s;
			break;
		case KP_FN_PORT:
			c->cur->port = (int32_t)v->i;
			break;
		case KP_FN_RACK:
			c->cur->rack = v->s;
			break;
		}
	}
	return KP_OK;
}

int kp_describecluster_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				   size_t max_frame, int16_t version,
				   struct kp_describecluster_resp *o)
{
	struct dc_resp_ctx c = {.o = o};

	o->throttle_ms = 0;
	o->error = 0;
	o->endpoint_type = 1;
	o->cluster_id.len = -1;
	o->cluster_id.ptr = NULL;
	o->controller_id = -1;
	KP_VEC_RESET(o->brokers);
	return kp_msg_decode_resp(segs, nseg, max_frame,
				  KP_API_DESCRIBE_CLUSTER, version,
				  dc_resp_visit, &c, &o->hdr, &o->stats);
}

/* ---- Broker addresses ---- */

/* Where responses advertise brokers: the struct holding the address (at
 * depth, directly inside parent), and the field naming the broker. In
 * every one the id comes before Host, and Host before Port. */
static const struct addr_site {
	int16_t api_key;
	uint16_t depth;
	uint16_t parent;
	uint16_t id_field;
} addr_sites[] = {
	{KP_API_METADATA, 1, KP_FN_BROKERS, KP_FN_NODE_ID},
	{KP_API_FIND_COORDINATOR, 0, 0, KP_FN_NODE_ID},
	{KP_API_FIND_COORDINATOR, 1, KP_FN_COORDINATORS, KP_FN_NODE_ID},
	{KP_API_DESCRIBE_CLUSTER, 1, KP_FN_BROKERS, KP_FN_BROKER_ID},
	{KP_API_PRODUCE, 1, KP_FN_NODE_ENDPOINTS, KP_FN_NODE_ID},
	{KP_API_FETCH, 1, KP_FN_NODE_ENDPOINTS, KP_FN_NODE_ID},
	{KP_API_SHARE_FETCH, 1, KP_FN_NODE_ENDPOINTS, KP_FN_NODE_ID},
	{KP_API_SHARE_ACKNOWLEDGE, 1, KP_FN_NODE_ENDPOINTS, KP_FN_NODE_ID},
};

#define N_ADDR_SITES (sizeof(addr_sites) / sizeof(addr_sites[0]))

int kp_api_carries_addrs(int16_t api_key)
{
	for (size_t i = 0; i < N_ADDR_SITES; i++)
		if (addr_sites[i].api_key == api_key)
			return 1;
	return 0;
}

/* The site v's field belongs to, or NULL. */
static const struct addr_site *addr_site_of(int16_t api_key,
					    const struct kp_wval *v)
{
	for (size_t i = 0; i < N_ADDR_SITES; i++) {
		const struct addr_site *s = &addr_sites[i];

		if (s->api_key == api_key && kp_in(v, s->depth, s->parent))
			return s;
	}
	return NULL;
}

struct addr_ctx {
	int16_t api_key;
	struct kp_addrs *o; /* decode */
	kp_addr_map_fn fn;  /* rewrite */
	void *fn_ctx;
	uint32_t rewritten;
	struct kp_addr cur; /* the address being read */
	int mapped;         /* fn mapped cur */
	int32_t new_port;
	struct kp_addr scratch;
};

static int addr_visit(void *ctx, struct kp_wval *v)
{
	struct addr_ctx *c = ctx;
	const struct addr_site *s;

	if (v->ev != KP_WEV_VALUE)
		return KP_OK;
	s = addr_site_of(c->api_key, v);
	if (!s)
		return KP_OK;
	if (v->f->name == s->id_field) {
		c->cur.node_id = (int32_t)v->i;
		c->mapped = 0;
	} else if (v->f->name == KP_FN_HOST) {
		const char *host;
		int32_t host_len;

		c->cur.host = v->s;
		if (c->fn && c->fn(c->fn_ctx, c->cur.node_id, &v->s, &host,
				   &host_len, &c->new_port)) {
			c->mapped = 1;
			v->replace = 1;
			v->new_s = host;
			v->new_len = host_len;
		}
	} else if (v->f->name == KP_FN_PORT) {
		c->cur.port = (int32_t)v->i;
		if (c->o)
			*(struct kp_addr *)KP_VEC_NEXT(c->o->addrs,
						       &c->scratch) = c->cur;
		if (c->mapped) {
			v->replace = 1;
			v->new_i = c->new_port;
			c->rewritten++;
			c->mapped = 0;
		}
	}
	return KP_OK;
}

int kp_addrs_decode(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		    int16_t api_key, int16_t api_version, struct kp_addrs *o)
{
	struct addr_ctx c = {.api_key = api_key, .o = o};

	KP_VEC_RESET(o->addrs);
	return kp_msg_decode_resp(segs, nseg, max_frame, api_key, api_version,
				  addr_visit, &c, &o->hdr, &o->stats);
}

int kp_addrs_rewrite(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		     int16_t api_key, int16_t api_version, kp_addr_map_fn fn,
		     void *ctx, struct kp_wbuf *out, uint32_t *rewritten)
{
	struct addr_ctx c = {.api_key = api_key, .fn = fn, .fn_ctx = ctx};
	int rc = kp_rewrite_resp(segs, nseg, max_frame, api_key, api_version,
				 addr_visit, &c, out);

	if (rewritten)
		*rewritten = c.rewritten;
	return rc;
}

/* ---- ApiVersions cap ---- */

struct cap_ctx {
	kp_api_cap_fn fn;
	void *fn_ctx;
	int16_t key, min;
};

static int cap_visit(void *ctx, struct kp_wval *v)
{
	struct cap_ctx *c = ctx;

	if (kp_is(v, 1, KP_FN_API_KEYS, KP_FN_API_KEY)) {
		c->key = (int16_t)v->i;
	} else if (kp_is(v, 1, KP_FN_API_KEYS, KP_FN_MIN_VERSION)) {
		c->min = (int16_t)v->i;
	} else if (kp_is(v, 1, KP_FN_API_KEYS, KP_FN_MAX_VERSION)) {
		int16_t max = (int16_t)v->i;
		int16_t cap = c->fn(c->fn_ctx, c->key, c->min, max);

		if (cap < c->min)
			cap = c->min;
		if (cap < max) {
			v->replace = 1;
			v->new_i = cap;
		}
	}
	return KP_OK;
}

int kp_apiversions_cap(const struct kp_seg *segs, uint32_t nseg,
		       size_t max_frame, int16_t version, kp_api_cap_fn fn,
		       void *ctx, struct kp_wbuf *out)
{
	struct cap_ctx c = {.fn = fn, .fn_ctx = ctx};
	size_t start = out->len;
	int rc;

	if (version > 0 && av_peek_error(segs, nseg) == 35) {
		rc = kp_rewrite_resp(segs, nseg, max_frame, KP_API_API_VERSIONS,
				     0, cap_visit, &c, out);
		if (rc == KP_OK || rc == KP_TRAILING || rc == KP_NEED_MORE)
			return rc;
		out->len = start;
		out->nospace = 0;
	}
	return kp_rewrite_resp(segs, nseg, max_frame, KP_API_API_VERSIONS,
			       version, cap_visit, &c, out);
}
