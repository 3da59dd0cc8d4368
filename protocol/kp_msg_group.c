/*
 * kp_msg_group: the group, transaction, SASL and telemetry decoders. Each
 * struct's fields are declared once, in a slot table (wire field -> member
 * of the out-struct, with its value when absent); the visitors only add
 * what a table cannot say: elements of arrays, and the single forms that
 * older versions fold into a one-element vec.
 */
#include "kp_msg_group.h"

#include <stddef.h>
#include <string.h>

#include "kp_schema.h"

/* ---- API roles ---- */

/* The role an API plays, by key. TxnOffsetCommit is a transaction step
 * though the group coordinator (of its group id) serves it. */
static const uint8_t api_classes[] = {
	[KP_API_OFFSET_COMMIT] = KP_API_CLASS_GROUP,
	[KP_API_OFFSET_FETCH] = KP_API_CLASS_GROUP,
	[KP_API_JOIN_GROUP] = KP_API_CLASS_GROUP,
	[KP_API_HEARTBEAT] = KP_API_CLASS_GROUP,
	[KP_API_LEAVE_GROUP] = KP_API_CLASS_GROUP,
	[KP_API_SYNC_GROUP] = KP_API_CLASS_GROUP,
	[KP_API_ADD_PARTITIONS_TO_TXN] = KP_API_CLASS_TXN,
	[KP_API_ADD_OFFSETS_TO_TXN] = KP_API_CLASS_TXN,
	[KP_API_END_TXN] = KP_API_CLASS_TXN,
	[KP_API_TXN_OFFSET_COMMIT] = KP_API_CLASS_TXN,
	[KP_API_CONSUMER_GROUP_HEARTBEAT] = KP_API_CLASS_GROUP,
	[KP_API_SHARE_GROUP_HEARTBEAT] = KP_API_CLASS_GROUP,
};

enum kp_api_class kp_api_class(int16_t key)
{
	if (key < 0 || (size_t)key >= sizeof(api_classes))
		return KP_API_CLASS_OTHER;
	return (enum kp_api_class)api_classes[key];
}

/* ---- Slot tables ---- */

enum slot_kind {
	SK_I8,    /* int8_t: int8 and bool fields */
	SK_I16,   /* int16_t */
	SK_I32,   /* int32_t */
	SK_I64,   /* int64_t */
	SK_STR,   /* struct kp_str: a view of a string or bytes value */
	SK_LEN,   /* int32_t: only the length of a string or bytes value
		     (-1 null), never a view: for credentials and payloads */
	SK_UUID,  /* uint8_t[16] */
	SK_COUNT, /* uint32_t: the number of elements of an array field */
};

#define SK_SIZE_I8    sizeof(int8_t)
#define SK_SIZE_I16   sizeof(int16_t)
#define SK_SIZE_I32   sizeof(int32_t)
#define SK_SIZE_I64   sizeof(int64_t)
#define SK_SIZE_STR   sizeof(struct kp_str)
#define SK_SIZE_LEN   sizeof(int32_t)
#define SK_SIZE_UUID  16
#define SK_SIZE_COUNT sizeof(uint32_t)

struct slot {
	uint16_t name; /* enum kp_fname */
	uint8_t kind;  /* enum slot_kind */
	uint16_t off;  /* of the member in the struct */
	int64_t dflt;  /* integers: the value when the field is absent */
};

/* 0, or a build error (an array of negative size) when cond is false. */
#define ZERO_UNLESS(cond) (0 * sizeof(char[(cond) ? 1 : -1]))
#define MEMBER_SIZE(T, m) sizeof(((T *)0)->m)
#define SLOT_OFF(T, m, kd)                                                     \
	(offsetof(T, m) + ZERO_UNLESS(MEMBER_SIZE(T, m) == kd))

/* One slot. A member whose size does not fit the kind stops the build,
 * so a table cannot write past its member. */
#define SLOT(T, fname, kind, member, dflt)                                     \
	{                                                                      \
		KP_FN_##fname, SK_##kind,                                      \
			(uint16_t)SLOT_OFF(T, member, SK_SIZE_##kind), (dflt)  \
	}

#define NSLOT(tab) (sizeof(tab) / sizeof((tab)[0]))
#define TAB(tab)   (tab), NSLOT(tab)

static struct kp_str str_none(void)
{
	struct kp_str s;

	memset(&s, 0, sizeof(s));
	s.len = -1;
	return s;
}

static void put_int(void *p, uint8_t kind, int64_t x)
{
	int8_t i8 = (int8_t)x;
	int16_t i16 = (int16_t)x;
	int32_t i32 = (int32_t)x;
	uint32_t u32 = (uint32_t)x;

	switch (kind) {
	case SK_I8:
		memcpy(p, &i8, sizeof(i8));
		break;
	case SK_I16:
		memcpy(p, &i16, sizeof(i16));
		break;
	case SK_I32:
	case SK_LEN:
		memcpy(p, &i32, sizeof(i32));
		break;
	case SK_I64:
		memcpy(p, &x, sizeof(x));
		break;
	case SK_COUNT:
		memcpy(p, &u32, sizeof(u32));
		break;
	}
}

/* Give every slot of the struct at base its absent value (the struct is
 * otherwise zero); returns base. */
static void *slots_init(void *base, const struct slot *tab, size_t n)
{
	struct kp_str none = str_none();

	for (size_t i = 0; i < n; i++) {
		void *p = (char *)base + tab[i].off;

		if (tab[i].kind == SK_STR)
			memcpy(p, &none, sizeof(none));
		else if (tab[i].kind != SK_UUID)
			put_int(p, tab[i].kind, tab[i].dflt);
	}
	return base;
}

/* The wire type a slot kind takes; a mismatch (a table bug) is ignored
 * rather than stored as something it is not. */
static int kind_fits(uint8_t kind, const struct kp_field *f)
{
	if (kind == SK_COUNT)
		return f->is_array;
	if (f->is_array)
		return 0;
	switch (kind) {
	case SK_I8:
		return f->type == KP_T_BOOL || f->type == KP_T_INT8;
	case SK_I16:
		return f->type == KP_T_INT16;
	case SK_I32:
		return f->type == KP_T_INT32;
	case SK_I64:
		return f->type == KP_T_INT64;
	case SK_STR:
	case SK_LEN:
		return f->type == KP_T_STRING || f->type == KP_T_BYTES;
	case SK_UUID:
		return f->type == KP_T_UUID;
	}
	return 0;
}

/* Store event v in the struct at base when tab names its field: a value
 * of a field directly inside parent at depth (parent is ignored at depth
 * 0), or, for a COUNT slot, one element of such an array field (struct
 * elements show as ELEM events a level down, scalar ones as values with
 * an index). Returns 1 when v was taken. */
static int slot_put(void *base, const struct slot *tab, size_t n,
		    uint16_t depth, uint16_t parent, const struct kp_wval *v)
{
	int value = v->ev == KP_WEV_VALUE && kp_in(v, depth, parent);
	int elem = v->ev == KP_WEV_ELEM && v->depth == depth + 1 &&
		   (depth == 0 || v->path[depth - 1] == parent);

	if (!value && !elem)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct slot *s = &tab[i];
		void *p = (char *)base + s->off;
		uint32_t count;

		/* kind_fits also keeps COUNT slots to array events and
		 * the others to plain values. */
		if (s->name != v->f->name || !kind_fits(s->kind, v->f))
			continue;
		switch (s->kind) {
		case SK_STR:
			memcpy(p, &v->s, sizeof(v->s));
			break;
		case SK_LEN:
			put_int(p, SK_LEN, v->s.len);
			break;
		case SK_UUID:
			memcpy(p, v->uuid, sizeof(v->uuid));
			break;
		case SK_COUNT:
			memcpy(&count, p, sizeof(count));
			put_int(p, SK_COUNT, (int64_t)count + 1);
			break;
		default:
			put_int(p, s->kind, v->i);
			break;
		}
		return 1;
	}
	return 0;
}

/* An element of the struct array arr starts at depth. */
static int is_elem(const struct kp_wval *v, uint16_t depth, uint16_t arr)
{
	return v->ev == KP_WEV_ELEM && kp_in(v, depth, arr);
}

/* A value of the scalar array field name directly inside parent. */
static int is_item(const struct kp_wval *v, uint16_t depth, uint16_t parent,
		   uint16_t name)
{
	return kp_is(v, depth, parent, name) && v->index >= 0;
}

/* The array field name directly inside parent starts (count in v->i). */
static int is_array(const struct kp_wval *v, uint16_t depth, uint16_t parent,
		    uint16_t name)
{
	return v->ev == KP_WEV_ARRAY && v->f->name == name &&
	       kp_in(v, depth, parent);
}

/* Keep a vec's storage across the reset of its struct. */
struct vec_keep {
	void *v;
	uint32_t cap;
};

#define VEC_KEEP(vec)        ((struct vec_keep){(void *)(vec).v, (vec).cap})
#define VEC_PUT_BACK(vec, k) ((vec).v = (k).v, (vec).cap = (k).cap)

/* Zero an out-struct and give its slots their absent values. */
static void reset(void *o, size_t size, const struct slot *tab, size_t n)
{
	memset(o, 0, size);
	slots_init(o, tab, n);
}

#define RESET(o, tab) reset((o), sizeof(*(o)), TAB(tab))

static struct kp_grp_topic *topic_init(struct kp_grp_topic *t, uint32_t owner,
				       uint32_t partitions_first)
{
	t->name = str_none();
	t->owner = owner;
	t->partitions_first = partitions_first;
	return t;
}

static void note_error(uint32_t *failed, int16_t *first, int16_t error)
{
	if (error == 0)
		return;
	if (*failed == 0)
		*first = error;
	(*failed)++;
}

/* Messages whose fields are all top-level slots. */
struct flat_ctx {
	void *o;
	const struct slot *tab;
	size_t n;
};

static int flat_visit(void *ctx, struct kp_wval *v)
{
	struct flat_ctx *c = ctx;

	(void)slot_put(c->o, c->tab, c->n, 0, 0, v);
	return KP_OK;
}

static int flat_req(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		    int16_t key, void *o, size_t size, const struct slot *tab,
		    size_t n, struct kp_req_hdr *hdr, struct kp_walk_stats *st)
{
	struct flat_ctx c = {o, tab, n};

	reset(o, size, tab, n);
	return kp_msg_decode_req(segs, nseg, max_frame, key, flat_visit, &c,
				 hdr, st);
}

static int flat_resp(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		     int16_t key, int16_t version, void *o, size_t size,
		     const struct slot *tab, size_t n, struct kp_resp_hdr *hdr,
		     struct kp_walk_stats *st)
{
	struct flat_ctx c = {o, tab, n};

	reset(o, size, tab, n);
	return kp_msg_decode_resp(segs, nseg, max_frame, key, version,
				  flat_visit, &c, hdr, st);
}

#define FLAT_REQ(key, tab)                                                     \
	flat_req(segs, nseg, max_frame, (key), o, sizeof(*o), TAB(tab),        \
		 &o->hdr, &o->stats)
#define FLAT_RESP(key, tab)                                                    \
	flat_resp(segs, nseg, max_frame, (key), version, o, sizeof(*o),        \
		  TAB(tab), &o->hdr, &o->stats)

/* Element tables shared by several messages. */
static const struct slot topic_slots[] = {
	SLOT(struct kp_grp_topic, NAME, STR, name, 0),
};

static const struct slot perr_slots[] = {
	SLOT(struct kp_grp_partition_err, PARTITION_INDEX, I32, index, 0),
	SLOT(struct kp_grp_partition_err, ERROR_CODE, I16, error, 0),
};

/* ---- JoinGroup ---- */

#define OUT struct kp_joingroup_req
static const struct slot jg_req_slots[] = {
	SLOT(OUT, GROUP_ID, STR, group_id, 0),
	SLOT(OUT, SESSION_TIMEOUT_MS, I32, session_timeout_ms, 0),
	SLOT(OUT, REBALANCE_TIMEOUT_MS, I32, rebalance_timeout_ms, -1),
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, GROUP_INSTANCE_ID, STR, group_instance_id, 0),
	SLOT(OUT, PROTOCOL_TYPE, STR, protocol_type, 0),
	SLOT(OUT, REASON, STR, reason, 0),
};
#undef OUT

struct jg_req_ctx {
	struct kp_joingroup_req *o;
	struct kp_str *proto, sp;
};

static int jg_req_visit(void *ctx, struct kp_wval *v)
{
	struct jg_req_ctx *c = ctx;

	if (slot_put(c->o, TAB(jg_req_slots), 0, 0, v))
		return KP_OK;
	if (is_elem(v, 1, KP_FN_PROTOCOLS)) {
		c->proto = KP_VEC_NEXT(c->o->protocols, &c->sp);
		*c->proto = str_none();
	} else if (kp_is(v, 1, KP_FN_PROTOCOLS, KP_FN_NAME)) {
		*c->proto = v->s;
	}
	return KP_OK;
}

int kp_joingroup_req_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, struct kp_joingroup_req *o)
{
	struct jg_req_ctx c = {.o = o};
	struct vec_keep kp = VEC_KEEP(o->protocols);

	c.proto = &c.sp;
	RESET(o, jg_req_slots);
	VEC_PUT_BACK(o->protocols, kp);
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_JOIN_GROUP,
				 jg_req_visit, &c, &o->hdr, &o->stats);
}

#define OUT struct kp_joingroup_resp
static const struct slot jg_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
	SLOT(OUT, GENERATION_ID, I32, generation_id, -1),
	SLOT(OUT, PROTOCOL_TYPE, STR, protocol_type, 0),
	SLOT(OUT, PROTOCOL_NAME, STR, protocol_name, 0),
	SLOT(OUT, LEADER, STR, leader, 0),
	SLOT(OUT, SKIP_ASSIGNMENT, I8, skip_assignment, 0),
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, MEMBERS, COUNT, members, 0),
};
#undef OUT

int kp_joingroup_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, int16_t version,
			     struct kp_joingroup_resp *o)
{
	return FLAT_RESP(KP_API_JOIN_GROUP, jg_resp_slots);
}

/* ---- SyncGroup ---- */

#define OUT struct kp_syncgroup_req
static const struct slot sg_req_slots[] = {
	SLOT(OUT, GROUP_ID, STR, group_id, 0),
	SLOT(OUT, GENERATION_ID, I32, generation_id, 0),
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, GROUP_INSTANCE_ID, STR, group_instance_id, 0),
	SLOT(OUT, PROTOCOL_TYPE, STR, protocol_type, 0),
	SLOT(OUT, PROTOCOL_NAME, STR, protocol_name, 0),
	SLOT(OUT, ASSIGNMENTS, COUNT, assignments, 0),
};
#undef OUT

int kp_syncgroup_req_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, struct kp_syncgroup_req *o)
{
	return FLAT_REQ(KP_API_SYNC_GROUP, sg_req_slots);
}

#define OUT struct kp_syncgroup_resp
static const struct slot sg_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
	SLOT(OUT, PROTOCOL_TYPE, STR, protocol_type, 0),
	SLOT(OUT, PROTOCOL_NAME, STR, protocol_name, 0),
	SLOT(OUT, ASSIGNMENT, LEN, assignment_len, 0),
};
#undef OUT

int kp_syncgroup_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, int16_t version,
			     struct kp_syncgroup_resp *o)
{
	return FLAT_RESP(KP_API_SYNC_GROUP, sg_resp_slots);
}

/* ---- Heartbeat ---- */

#define OUT struct kp_heartbeat_req
static const struct slot hb_req_slots[] = {
	SLOT(OUT, GROUP_ID, STR, group_id, 0),
	SLOT(OUT, GENERATION_ID, I32, generation_id, 0),
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, GROUP_INSTANCE_ID, STR, group_instance_id, 0),
};
#undef OUT

int kp_heartbeat_req_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, struct kp_heartbeat_req *o)
{
	return FLAT_REQ(KP_API_HEARTBEAT, hb_req_slots);
}

#define OUT struct kp_heartbeat_resp
static const struct slot hb_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
};
#undef OUT

int kp_heartbeat_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, int16_t version,
			     struct kp_heartbeat_resp *o)
{
	return FLAT_RESP(KP_API_HEARTBEAT, hb_resp_slots);
}

/* ---- LeaveGroup ---- */

static const struct slot lg_req_slots[] = {
	SLOT(struct kp_leavegroup_req, GROUP_ID, STR, group_id, 0),
};

#define OUT struct kp_lg_member
static const struct slot lg_member_slots[] = {
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, GROUP_INSTANCE_ID, STR, group_instance_id, 0),
	SLOT(OUT, REASON, STR, reason, 0),
};
#undef OUT

struct lg_req_ctx {
	struct kp_leavegroup_req *o;
	struct kp_lg_member *m, sm;
};

static int lg_req_visit(void *ctx, struct kp_wval *v)
{
	struct lg_req_ctx *c = ctx;
	struct kp_leavegroup_req *o = c->o;

	if (slot_put(o, TAB(lg_req_slots), 0, 0, v))
		return KP_OK;
	/* v0-2 name one member at the top level: the same element. */
	if (kp_is(v, 0, 0, KP_FN_MEMBER_ID)) {
		c->m = slots_init(KP_VEC_NEXT(o->members, &c->sm),
				  TAB(lg_member_slots));
		c->m->member_id = v->s;
	} else if (is_elem(v, 1, KP_FN_MEMBERS)) {
		c->m = slots_init(KP_VEC_NEXT(o->members, &c->sm),
				  TAB(lg_member_slots));
	} else {
		(void)slot_put(c->m, TAB(lg_member_slots), 1, KP_FN_MEMBERS, v);
	}
	return KP_OK;
}

int kp_leavegroup_req_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, struct kp_leavegroup_req *o)
{
	struct lg_req_ctx c = {.o = o};
	struct vec_keep km = VEC_KEEP(o->members);

	c.m = &c.sm;
	RESET(o, lg_req_slots);
	VEC_PUT_BACK(o->members, km);
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_LEAVE_GROUP,
				 lg_req_visit, &c, &o->hdr, &o->stats);
}

#define OUT struct kp_leavegroup_resp
static const struct slot lg_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
};
#undef OUT

#define OUT struct kp_lg_member_result
static const struct slot lg_result_slots[] = {
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, GROUP_INSTANCE_ID, STR, group_instance_id, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
};
#undef OUT

struct lg_resp_ctx {
	struct kp_leavegroup_resp *o;
	struct kp_lg_member_result *m, sm;
};

static int lg_resp_visit(void *ctx, struct kp_wval *v)
{
	struct lg_resp_ctx *c = ctx;
	struct kp_leavegroup_resp *o = c->o;

	if (slot_put(o, TAB(lg_resp_slots), 0, 0, v))
		return KP_OK;
	if (is_elem(v, 1, KP_FN_MEMBERS))
		c->m = slots_init(KP_VEC_NEXT(o->members, &c->sm),
				  TAB(lg_result_slots));
	else
		(void)slot_put(c->m, TAB(lg_result_slots), 1, KP_FN_MEMBERS, v);
	return KP_OK;
}

int kp_leavegroup_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			      size_t max_frame, int16_t version,
			      struct kp_leavegroup_resp *o)
{
	struct lg_resp_ctx c = {.o = o};
	struct vec_keep km = VEC_KEEP(o->members);

	c.m = &c.sm;
	RESET(o, lg_resp_slots);
	VEC_PUT_BACK(o->members, km);
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_LEAVE_GROUP,
				  version, lg_resp_visit, &c, &o->hdr,
				  &o->stats);
}

/* ---- OffsetCommit ---- */

#define OUT struct kp_offsetcommit_req
static const struct slot oc_req_slots[] = {
	SLOT(OUT, GROUP_ID, STR, group_id, 0),
	SLOT(OUT, GENERATION_ID_OR_MEMBER_EPOCH, I32, generation_id, -1),
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, GROUP_INSTANCE_ID, STR, group_instance_id, 0),
	SLOT(OUT, RETENTION_TIME_MS, I64, retention_ms, -1),
};
#undef OUT

#define OUT struct kp_oc_partition
static const struct slot oc_part_slots[] = {
	SLOT(OUT, PARTITION_INDEX, I32, index, 0),
	SLOT(OUT, COMMITTED_OFFSET, I64, offset, 0),
	SLOT(OUT, COMMITTED_LEADER_EPOCH, I32, leader_epoch, -1),
	SLOT(OUT, COMMITTED_METADATA, STR, metadata, 0),
};
#undef OUT

struct oc_req_ctx {
	struct kp_offsetcommit_req *o;
	struct kp_grp_topic *t, st;
	struct kp_oc_partition *p, sp;
};

static int oc_req_visit(void *ctx, struct kp_wval *v)
{
	struct oc_req_ctx *c = ctx;
	struct kp_offsetcommit_req *o = c->o;

	if (slot_put(o, TAB(oc_req_slots), 0, 0, v))
		return KP_OK;
	if (is_elem(v, 1, KP_FN_TOPICS)) {
		c->t = topic_init(KP_VEC_NEXT(o->topics, &c->st), 0,
				  o->partitions.total);
	} else if (is_elem(v, 2, KP_FN_PARTITIONS)) {
		c->p = slots_init(KP_VEC_NEXT(o->partitions, &c->sp),
				  TAB(oc_part_slots));
		c->p->topic = o->topics.total - 1;
		c->t->partitions_total++;
	} else if (!slot_put(c->t, TAB(topic_slots), 1, KP_FN_TOPICS, v)) {
		(void)slot_put(c->p, TAB(oc_part_slots), 2, KP_FN_PARTITIONS,
			       v);
	}
	return KP_OK;
}

int kp_offsetcommit_req_decode(const struct kp_seg *segs, uint32_t nseg,
			       size_t max_frame, struct kp_offsetcommit_req *o)
{
	struct oc_req_ctx c = {.o = o};
	struct vec_keep kt = VEC_KEEP(o->topics);
	struct vec_keep kp = VEC_KEEP(o->partitions);

	c.t = &c.st;
	c.p = &c.sp;
	RESET(o, oc_req_slots);
	VEC_PUT_BACK(o->topics, kt);
	VEC_PUT_BACK(o->partitions, kp);
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_OFFSET_COMMIT,
				 oc_req_visit, &c, &o->hdr, &o->stats);
}

static const struct slot oc_resp_slots[] = {
	SLOT(struct kp_offsetcommit_resp, THROTTLE_TIME_MS, I32, throttle_ms,
	     0),
};

struct oc_resp_ctx {
	struct kp_offsetcommit_resp *o;
	struct kp_grp_topic *t, st;
	struct kp_grp_partition_err *p, sp;
};

static int oc_resp_visit(void *ctx, struct kp_wval *v)
{
	struct oc_resp_ctx *c = ctx;
	struct kp_offsetcommit_resp *o = c->o;

	if (slot_put(o, TAB(oc_resp_slots), 0, 0, v))
		return KP_OK;
	if (is_elem(v, 1, KP_FN_TOPICS)) {
		c->t = topic_init(KP_VEC_NEXT(o->topics, &c->st), 0,
				  o->partitions.total);
	} else if (is_elem(v, 2, KP_FN_PARTITIONS)) {
		c->p = slots_init(KP_VEC_NEXT(o->partitions, &c->sp),
				  TAB(perr_slots));
		c->p->topic = o->topics.total - 1;
		c->t->partitions_total++;
	} else if (slot_put(c->p, TAB(perr_slots), 2, KP_FN_PARTITIONS, v)) {
		if (v->f->name == KP_FN_ERROR_CODE)
			note_error(&o->failed, &o->first_error, c->p->error);
	} else {
		(void)slot_put(c->t, TAB(topic_slots), 1, KP_FN_TOPICS, v);
	}
	return KP_OK;
}

int kp_offsetcommit_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				size_t max_frame, int16_t version,
				struct kp_offsetcommit_resp *o)
{
	struct oc_resp_ctx c = {.o = o};
	struct vec_keep kt = VEC_KEEP(o->topics);
	struct vec_keep kp = VEC_KEEP(o->partitions);

	c.t = &c.st;
	c.p = &c.sp;
	RESET(o, oc_resp_slots);
	VEC_PUT_BACK(o->topics, kt);
	VEC_PUT_BACK(o->partitions, kp);
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_OFFSET_COMMIT,
				  version, oc_resp_visit, &c, &o->hdr,
				  &o->stats);
}

/* ---- OffsetFetch ---- */

/* v8 moved the group id, topics and partitions a level down, into the
 * Groups array; everything below that level is laid out alike. */
#define OF_BATCHED 8

static const struct slot of_req_slots[] = {
	SLOT(struct kp_offsetfetch_req, REQUIRE_STABLE, I8, require_stable, 0),
};

#define OUT struct kp_of_group
static const struct slot of_group_slots[] = {
	SLOT(OUT, GROUP_ID, STR, group_id, 0),
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, MEMBER_EPOCH, I32, member_epoch, -1),
};
#undef OUT

struct of_req_ctx {
	struct kp_offsetfetch_req *o;
	struct kp_of_group *g, sg;
	struct kp_grp_topic *t, st;
	struct kp_grp_partition sp;
};

static int of_req_visit(void *ctx, struct kp_wval *v)
{
	struct of_req_ctx *c = ctx;
	struct kp_offsetfetch_req *o = c->o;
	uint16_t base = o->hdr.api_version >= OF_BATCHED;
	uint16_t gname = base ? KP_FN_GROUPS : 0;

	if (slot_put(o, TAB(of_req_slots), 0, 0, v))
		return KP_OK;
	if (is_elem(v, 1, KP_FN_GROUPS) ||
	    (!base && kp_is(v, 0, 0, KP_FN_GROUP_ID))) {
		/* v0-7: the top-level group id opens the one group. */
		c->g = slots_init(KP_VEC_NEXT(o->groups, &c->sg),
				  TAB(of_group_slots));
		c->g->topics_first = o->topics.total;
		if (v->ev == KP_WEV_VALUE)
			c->g->group_id = v->s;
	} else if (is_array(v, base, gname, KP_FN_TOPICS)) {
		c->g->all_topics = v->i < 0;
	} else if (is_elem(v, base + 1, KP_FN_TOPICS)) {
		c->t = topic_init(KP_VEC_NEXT(o->topics, &c->st),
				  o->groups.total - 1, o->partitions.total);
		c->g->topics_total++;
	} else if (is_item(v, base + 1, KP_FN_TOPICS,
			   KP_FN_PARTITION_INDEXES)) {
		struct kp_grp_partition *p = KP_VEC_NEXT(o->partitions, &c->sp);

		p->topic = o->topics.total - 1;
		p->index = (int32_t)v->i;
		c->t->partitions_total++;
	} else if (!slot_put(c->t, TAB(topic_slots), base + 1, KP_FN_TOPICS,
			     v) &&
		   base) {
		(void)slot_put(c->g, TAB(of_group_slots), 1, KP_FN_GROUPS, v);
	}
	return KP_OK;
}

int kp_offsetfetch_req_decode(const struct kp_seg *segs, uint32_t nseg,
			      size_t max_frame, struct kp_offsetfetch_req *o)
{
	struct of_req_ctx c = {.o = o};
	struct vec_keep kg = VEC_KEEP(o->groups);
	struct vec_keep kt = VEC_KEEP(o->topics);
	struct vec_keep kp = VEC_KEEP(o->partitions);

	c.g = &c.sg;
	c.t = &c.st;
	RESET(o, of_req_slots);
	VEC_PUT_BACK(o->groups, kg);
	VEC_PUT_BACK(o->topics, kt);
	VEC_PUT_BACK(o->partitions, kp);
	return kp_msg_decode_req(segs, nseg, max_frame, KP_API_OFFSET_FETCH,
				 of_req_visit, &c, &o->hdr, &o->stats);
}

static const struct slot of_resp_slots[] = {
	SLOT(struct kp_offsetfetch_resp, THROTTLE_TIME_MS, I32, throttle_ms, 0),
};

#define OUT struct kp_of_group_result
static const struct slot of_gres_slots[] = {
	SLOT(OUT, GROUP_ID, STR, group_id, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
};
#undef OUT

#define OUT struct kp_of_partition
static const struct slot of_part_slots[] = {
	SLOT(OUT, PARTITION_INDEX, I32, index, 0),
	SLOT(OUT, COMMITTED_OFFSET, I64, offset, -1),
	SLOT(OUT, COMMITTED_LEADER_EPOCH, I32, leader_epoch, -1),
	SLOT(OUT, METADATA, STR, metadata, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
};
#undef OUT

struct of_resp_ctx {
	struct kp_offsetfetch_resp *o;
	uint16_t base;
	struct kp_of_group_result *g, sg;
	struct kp_grp_topic *t, st;
	struct kp_of_partition *p, sp;
};

static int of_resp_visit(void *ctx, struct kp_wval *v)
{
	struct of_resp_ctx *c = ctx;
	struct kp_offsetfetch_resp *o = c->o;
	uint16_t base = c->base;

	if (slot_put(o, TAB(of_resp_slots), 0, 0, v))
		return KP_OK;
	if (is_elem(v, 1, KP_FN_GROUPS)) {
		c->g = slots_init(KP_VEC_NEXT(o->groups, &c->sg),
				  TAB(of_gres_slots));
		c->g->topics_first = o->topics.total;
	} else if (is_elem(v, base + 1, KP_FN_TOPICS)) {
		c->t = topic_init(KP_VEC_NEXT(o->topics, &c->st),
				  o->groups.total - 1, o->partitions.total);
		c->g->topics_total++;
	} else if (is_elem(v, base + 2, KP_FN_PARTITIONS)) {
		c->p = slots_init(KP_VEC_NEXT(o->partitions, &c->sp),
				  TAB(of_part_slots));
		c->p->topic = o->topics.total - 1;
		c->t->partitions_total++;
	} else if (slot_put(c->p, TAB(of_part_slots), base + 2,
			    KP_FN_PARTITIONS, v)) {
		if (v->f->name == KP_FN_ERROR_CODE)
			note_error(&o->failed, &o->first_error, c->p->error);
	} else if (slot_put(c->g, TAB(of_gres_slots), base,
			    base ? KP_FN_GROUPS : 0, v)) {
		/* v0-7: the top-level error code is the group's. */
		if (v->f->name == KP_FN_ERROR_CODE)
			note_error(&o->failed, &o->first_error, c->g->error);
	} else {
		(void)slot_put(c->t, TAB(topic_slots), base + 1, KP_FN_TOPICS,
			       v);
	}
	return KP_OK;
}

int kp_offsetfetch_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			       size_t max_frame, int16_t version,
			       struct kp_offsetfetch_resp *o)
{
	struct of_resp_ctx c = {.o = o, .base = version >= OF_BATCHED};
	struct vec_keep kg = VEC_KEEP(o->groups);
	struct vec_keep kt = VEC_KEEP(o->topics);
	struct vec_keep kp = VEC_KEEP(o->partitions);

	c.g = &c.sg;
	c.t = &c.st;
	c.p = &c.sp;
	RESET(o, of_resp_slots);
	VEC_PUT_BACK(o->groups, kg);
	VEC_PUT_BACK(o->topics, kt);
	VEC_PUT_BACK(o->partitions, kp);
	/* Before v8 the answer is about the one group the request named;
	 * the response does not repeat its id. */
	if (!c.base)
		c.g = slots_init(KP_VEC_NEXT(o->groups, &c.sg),
				 TAB(of_gres_slots));
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_OFFSET_FETCH,
				  version, of_resp_visit, &c, &o->hdr,
				  &o->stats);
}

/* ---- ConsumerGroupHeartbeat ---- */

#define OUT struct kp_consumergroupheartbeat_req
static const struct slot cgh_req_slots[] = {
	SLOT(OUT, GROUP_ID, STR, group_id, 0),
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, MEMBER_EPOCH, I32, member_epoch, 0),
	SLOT(OUT, INSTANCE_ID, STR, instance_id, 0),
	SLOT(OUT, RACK_ID, STR, rack_id, 0),
	SLOT(OUT, REBALANCE_TIMEOUT_MS, I32, rebalance_timeout_ms, -1),
	SLOT(OUT, SUBSCRIBED_TOPIC_REGEX, STR, subscribed_regex, 0),
	SLOT(OUT, SERVER_ASSIGNOR, STR, server_assignor, 0),
};
#undef OUT

struct cgh_req_ctx {
	struct kp_consumergroupheartbeat_req *o;
	struct kp_cgh_topic *t, st;
	struct kp_str ss;
	struct kp_grp_partition sp;
};

static int cgh_req_visit(void *ctx, struct kp_wval *v)
{
	struct cgh_req_ctx *c = ctx;
	struct kp_consumergroupheartbeat_req *o = c->o;

	if (slot_put(o, TAB(cgh_req_slots), 0, 0, v))
		return KP_OK;
	if (is_array(v, 0, 0, KP_FN_SUBSCRIBED_TOPIC_NAMES)) {
		o->subscribed_null = v->i < 0;
	} else if (is_item(v, 0, 0, KP_FN_SUBSCRIBED_TOPIC_NAMES)) {
		struct kp_str *s = KP_VEC_NEXT(o->subscribed_topics, &c->ss);

		*s = v->s;
	} else if (is_array(v, 0, 0, KP_FN_TOPIC_PARTITIONS)) {
		o->topics_null = v->i < 0;
	} else if (is_elem(v, 1, KP_FN_TOPIC_PARTITIONS)) {
		c->t = KP_VEC_NEXT(o->topics, &c->st);
		c->t->partitions_first = o->partitions.total;
	} else if (kp_is(v, 1, KP_FN_TOPIC_PARTITIONS, KP_FN_TOPIC_ID)) {
		memcpy(c->t->topic_id, v->uuid, sizeof(c->t->topic_id));
	} else if (is_item(v, 1, KP_FN_TOPIC_PARTITIONS, KP_FN_PARTITIONS)) {
		struct kp_grp_partition *p = KP_VEC_NEXT(o->partitions, &c->sp);

		p->topic = o->topics.total - 1;
		p->index = (int32_t)v->i;
		c->t->partitions_total++;
	}
	return KP_OK;
}

int kp_consumergroupheartbeat_req_decode(
	const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
	struct kp_consumergroupheartbeat_req *o)
{
	struct cgh_req_ctx c = {.o = o};
	struct vec_keep ks = VEC_KEEP(o->subscribed_topics);
	struct vec_keep kt = VEC_KEEP(o->topics);
	struct vec_keep kp = VEC_KEEP(o->partitions);

	c.t = &c.st;
	RESET(o, cgh_req_slots);
	VEC_PUT_BACK(o->subscribed_topics, ks);
	VEC_PUT_BACK(o->topics, kt);
	VEC_PUT_BACK(o->partitions, kp);
	return kp_msg_decode_req(segs, nseg, max_frame,
				 KP_API_CONSUMER_GROUP_HEARTBEAT, cgh_req_visit,
				 &c, &o->hdr, &o->stats);
}

#define OUT struct kp_consumergroupheartbeat_resp
static const struct slot cgh_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
	SLOT(OUT, ERROR_MESSAGE, STR, error_message, 0),
	SLOT(OUT, MEMBER_ID, STR, member_id, 0),
	SLOT(OUT, MEMBER_EPOCH, I32, member_epoch, 0),
	SLOT(OUT, HEARTBEAT_INTERVAL_MS, I32, heartbeat_interval_ms, 0),
};
/* Inside the Assignment struct, and inside its TopicPartitions. */
static const struct slot cgh_assign_slots[] = {
	SLOT(OUT, TOPIC_PARTITIONS, COUNT, assigned_topics, 0),
};
static const struct slot cgh_assign_tp_slots[] = {
	SLOT(OUT, PARTITIONS, COUNT, assigned_partitions, 0),
};
#undef OUT

static int cgh_resp_visit(void *ctx, struct kp_wval *v)
{
	struct kp_consumergroupheartbeat_resp *o = ctx;

	if (v->ev == KP_WEV_STRUCT && kp_in(v, 0, 0) &&
	    v->f->name == KP_FN_ASSIGNMENT)
		o->assignment_present = v->i == 1;
	else if (!slot_put(o, TAB(cgh_resp_slots), 0, 0, v) &&
		 !slot_put(o, TAB(cgh_assign_slots), 1, KP_FN_ASSIGNMENT, v))
		(void)slot_put(o, TAB(cgh_assign_tp_slots), 2,
			       KP_FN_TOPIC_PARTITIONS, v);
	return KP_OK;
}

int kp_consumergroupheartbeat_resp_decode(
	const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
	int16_t version, struct kp_consumergroupheartbeat_resp *o)
{
	RESET(o, cgh_resp_slots);
	return kp_msg_decode_resp(segs, nseg, max_frame,
				  KP_API_CONSUMER_GROUP_HEARTBEAT, version,
				  cgh_resp_visit, o, &o->hdr, &o->stats);
}

/* ---- InitProducerId ---- */

#define OUT struct kp_initproducerid_req
static const struct slot ipi_req_slots[] = {
	SLOT(OUT, TRANSACTIONAL_ID, STR, transactional_id, 0),
	SLOT(OUT, TRANSACTION_TIMEOUT_MS, I32, txn_timeout_ms, 0),
	SLOT(OUT, PRODUCER_ID, I64, producer_id, -1),
	SLOT(OUT, PRODUCER_EPOCH, I16, producer_epoch, -1),
};
#undef OUT

int kp_initproducerid_req_decode(const struct kp_seg *segs, uint32_t nseg,
				 size_t max_frame,
				 struct kp_initproducerid_req *o)
{
	return FLAT_REQ(KP_API_INIT_PRODUCER_ID, ipi_req_slots);
}

#define OUT struct kp_initproducerid_resp
static const struct slot ipi_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
	SLOT(OUT, PRODUCER_ID, I64, producer_id, -1),
	SLOT(OUT, PRODUCER_EPOCH, I16, producer_epoch, -1),
};
#undef OUT

int kp_initproducerid_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				  size_t max_frame, int16_t version,
				  struct kp_initproducerid_resp *o)
{
	return FLAT_RESP(KP_API_INIT_PRODUCER_ID, ipi_resp_slots);
}

/* ---- AddPartitionsToTxn ---- */

/* v4 moved the transaction into a Transactions array, a level down, and
 * renamed the fields of v0-3 ("V3AndBelow..."). */
#define APT_BATCHED 4

#define OUT struct kp_apt_txn
static const struct slot apt_txn_slots[] = {
	SLOT(OUT, TRANSACTIONAL_ID, STR, transactional_id, 0),
	SLOT(OUT, PRODUCER_ID, I64, producer_id, -1),
	SLOT(OUT, PRODUCER_EPOCH, I16, producer_epoch, -1),
	SLOT(OUT, VERIFY_ONLY, I8, verify_only, 0),
};
static const struct slot apt_v3_slots[] = {
	SLOT(OUT, V3_AND_BELOW_TRANSACTIONAL_ID, STR, transactional_id, 0),
	SLOT(OUT, V3_AND_BELOW_PRODUCER_ID, I64, producer_id, -1),
	SLOT(OUT, V3_AND_BELOW_PRODUCER_EPOCH, I16, producer_epoch, -1),
};
#undef OUT

struct apt_req_ctx {
	struct kp_addpartitionstotxn_req *o;
	struct kp_apt_txn *x, sx;
	struct kp_grp_topic *t, st;
	struct kp_grp_partition sp;
};

static int apt_req_visit(void *ctx, struct kp_wval *v)
{
	struct apt_req_ctx *c = ctx;
	struct kp_addpartitionstotxn_req *o = c->o;
	uint16_t base = o->hdr.api_version >= APT_BATCHED;
	uint16_t tname = base ? KP_FN_TOPICS : KP_FN_V3_AND_BELOW_TOPICS;

	if (is_elem(v, 1, KP_FN_TRANSACTIONS) ||
	    (!base && kp_is(v, 0, 0, KP_FN_V3_AND_BELOW_TRANSACTIONAL_ID))) {
		/* v0-3: the top-level transactional id opens the one
		 * transaction. */
		c->x = slots_init(KP_VEC_NEXT(o->txns, &c->sx),
				  TAB(apt_txn_slots));
		c->x->topics_first = o->topics.total;
		if (v->ev == KP_WEV_VALUE)
			c->x->transactional_id = v->s;
	} else if (is_elem(v, base + 1, tname)) {
		c->t = topic_init(KP_VEC_NEXT(o->topics, &c->st),
				  o->txns.total - 1, o->partitions.total);
		c->x->topics_total++;
	} else if (is_item(v, base + 1, tname, KP_FN_PARTITIONS)) {
		struct kp_grp_partition *p = KP_VEC_NEXT(o->partitions, &c->sp);

		p->topic = o->topics.total - 1;
		p->index = (int32_t)v->i;
		c->t->partitions_total++;
	} else if (!slot_put(c->t, TAB(topic_slots), base + 1, tname, v)) {
		if (base)
			(void)slot_put(c->x, TAB(apt_txn_slots), 1,
				       KP_FN_TRANSACTIONS, v);
		else
			(void)slot_put(c->x, TAB(apt_v3_slots), 0, 0, v);
	}
	return KP_OK;
}

int kp_addpartitionstotxn_req_decode(const struct kp_seg *segs, uint32_t nseg,
				     size_t max_frame,
				     struct kp_addpartitionstotxn_req *o)
{
	struct apt_req_ctx c = {.o = o};
	struct vec_keep kx = VEC_KEEP(o->txns);
	struct vec_keep kt = VEC_KEEP(o->topics);
	struct vec_keep kp = VEC_KEEP(o->partitions);

	c.x = &c.sx;
	c.t = &c.st;
	memset(o, 0, sizeof(*o));
	VEC_PUT_BACK(o->txns, kx);
	VEC_PUT_BACK(o->topics, kt);
	VEC_PUT_BACK(o->partitions, kp);
	return kp_msg_decode_req(segs, nseg, max_frame,
				 KP_API_ADD_PARTITIONS_TO_TXN, apt_req_visit,
				 &c, &o->hdr, &o->stats);
}

#define OUT struct kp_addpartitionstotxn_resp
static const struct slot apt_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
};
#undef OUT

static const struct slot apt_tres_slots[] = {
	SLOT(struct kp_apt_txn_result, TRANSACTIONAL_ID, STR, transactional_id,
	     0),
};

static const struct slot apt_perr_slots[] = {
	SLOT(struct kp_grp_partition_err, PARTITION_INDEX, I32, index, 0),
	SLOT(struct kp_grp_partition_err, PARTITION_ERROR_CODE, I16, error, 0),
};

struct apt_resp_ctx {
	struct kp_addpartitionstotxn_resp *o;
	uint16_t base;
	struct kp_apt_txn_result *x, sx;
	struct kp_grp_topic *t, st;
	struct kp_grp_partition_err *p, sp;
};

static int apt_resp_visit(void *ctx, struct kp_wval *v)
{
	struct apt_resp_ctx *c = ctx;
	struct kp_addpartitionstotxn_resp *o = c->o;
	uint16_t base = c->base;
	uint16_t tname = base ? KP_FN_TOPIC_RESULTS
			      : KP_FN_RESULTS_BY_TOPIC_V3_AND_BELOW;

	if (slot_put(o, TAB(apt_resp_slots), 0, 0, v))
		return KP_OK;
	if (is_elem(v, 1, KP_FN_RESULTS_BY_TRANSACTION)) {
		c->x = slots_init(KP_VEC_NEXT(o->txns, &c->sx),
				  TAB(apt_tres_slots));
		c->x->topics_first = o->topics.total;
	} else if (is_elem(v, base + 1, tname)) {
		c->t = topic_init(KP_VEC_NEXT(o->topics, &c->st),
				  o->txns.total - 1, o->partitions.total);
		c->x->topics_total++;
	} else if (is_elem(v, base + 2, KP_FN_RESULTS_BY_PARTITION)) {
		c->p = slots_init(KP_VEC_NEXT(o->partitions, &c->sp),
				  TAB(apt_perr_slots));
		c->p->topic = o->topics.total - 1;
		c->t->partitions_total++;
	} else if (slot_put(c->p, TAB(apt_perr_slots), base + 2,
			    KP_FN_RESULTS_BY_PARTITION, v)) {
		if (v->f->name == KP_FN_PARTITION_ERROR_CODE)
			note_error(&o->failed, &o->first_error, c->p->error);
	} else if (!slot_put(c->t, TAB(topic_slots), base + 1, tname, v)) {
		(void)slot_put(c->x, TAB(apt_tres_slots), 1,
			       KP_FN_RESULTS_BY_TRANSACTION, v);
	}
	return KP_OK;
}

int kp_addpartitionstotxn_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				      size_t max_frame, int16_t version,
				      struct kp_addpartitionstotxn_resp *o)
{
	struct apt_resp_ctx c = {.o = o, .base = version >= APT_BATCHED};
	struct vec_keep kx = VEC_KEEP(o->txns);
	struct vec_keep kt = VEC_KEEP(o->topics);
	struct vec_keep kp = VEC_KEEP(o->partitions);

	c.x = &c.sx;
	c.t = &c.st;
	c.p = &c.sp;
	RESET(o, apt_resp_slots);
	VEC_PUT_BACK(o->txns, kx);
	VEC_PUT_BACK(o->topics, kt);
	VEC_PUT_BACK(o->partitions, kp);
	/* Before v4 the results are those of the request's one transaction,
	 * which the response does not name. */
	if (!c.base)
		c.x = slots_init(KP_VEC_NEXT(o->txns, &c.sx),
				 TAB(apt_tres_slots));
	return kp_msg_decode_resp(segs, nseg, max_frame,
				  KP_API_ADD_PARTITIONS_TO_TXN, version,
				  apt_resp_visit, &c, &o->hdr, &o->stats);
}

/* ---- EndTxn ---- */

#define OUT struct kp_endtxn_req
static const struct slot et_req_slots[] = {
	SLOT(OUT, TRANSACTIONAL_ID, STR, transactional_id, 0),
	SLOT(OUT, PRODUCER_ID, I64, producer_id, -1),
	SLOT(OUT, PRODUCER_EPOCH, I16, producer_epoch, -1),
	SLOT(OUT, COMMITTED, I8, committed, 0),
};
#undef OUT

int kp_endtxn_req_decode(const struct kp_seg *segs, uint32_t nseg,
			 size_t max_frame, struct kp_endtxn_req *o)
{
	return FLAT_REQ(KP_API_END_TXN, et_req_slots);
}

#define OUT struct kp_endtxn_resp
static const struct slot et_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
	SLOT(OUT, PRODUCER_ID, I64, producer_id, -1),
	SLOT(OUT, PRODUCER_EPOCH, I16, producer_epoch, -1),
};
#undef OUT

int kp_endtxn_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			  size_t max_frame, int16_t version,
			  struct kp_endtxn_resp *o)
{
	return FLAT_RESP(KP_API_END_TXN, et_resp_slots);
}

/* ---- SaslHandshake ---- */

static const struct slot sh_req_slots[] = {
	SLOT(struct kp_saslhandshake_req, MECHANISM, STR, mechanism, 0),
};

int kp_saslhandshake_req_decode(const struct kp_seg *segs, uint32_t nseg,
				size_t max_frame,
				struct kp_saslhandshake_req *o)
{
	return FLAT_REQ(KP_API_SASL_HANDSHAKE, sh_req_slots);
}

static const struct slot sh_resp_slots[] = {
	SLOT(struct kp_saslhandshake_resp, ERROR_CODE, I16, error, 0),
};

struct sh_resp_ctx {
	struct kp_saslhandshake_resp *o;
	struct kp_str sm;
};

static int sh_resp_visit(void *ctx, struct kp_wval *v)
{
	struct sh_resp_ctx *c = ctx;

	struct kp_str *s;

	if (is_item(v, 0, 0, KP_FN_MECHANISMS)) {
		s = KP_VEC_NEXT(c->o->mechanisms, &c->sm);
		*s = v->s;
	} else {
		(void)slot_put(c->o, TAB(sh_resp_slots), 0, 0, v);
	}
	return KP_OK;
}

int kp_saslhandshake_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				 size_t max_frame, int16_t version,
				 struct kp_saslhandshake_resp *o)
{
	struct sh_resp_ctx c = {.o = o};
	struct vec_keep km = VEC_KEEP(o->mechanisms);

	RESET(o, sh_resp_slots);
	VEC_PUT_BACK(o->mechanisms, km);
	return kp_msg_decode_resp(segs, nseg, max_frame, KP_API_SASL_HANDSHAKE,
				  version, sh_resp_visit, &c, &o->hdr,
				  &o->stats);
}

/* ---- SaslAuthenticate ---- */

/* LEN slots only: the auth bytes and the error message are never kept as
 * views (see kp_msg_group.h). */
static const struct slot sa_req_slots[] = {
	SLOT(struct kp_saslauthenticate_req, AUTH_BYTES, LEN, auth_len, 0),
};

int kp_saslauthenticate_req_decode(const struct kp_seg *segs, uint32_t nseg,
				   size_t max_frame,
				   struct kp_saslauthenticate_req *o)
{
	return FLAT_REQ(KP_API_SASL_AUTHENTICATE, sa_req_slots);
}

#define OUT struct kp_saslauthenticate_resp
static const struct slot sa_resp_slots[] = {
	SLOT(OUT, ERROR_CODE, I16, error, 0),
	SLOT(OUT, ERROR_MESSAGE, LEN, error_message_len, -1),
	SLOT(OUT, AUTH_BYTES, LEN, auth_len, 0),
	SLOT(OUT, SESSION_LIFETIME_MS, I64, session_lifetime_ms, 0),
};
#undef OUT

int kp_saslauthenticate_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				    size_t max_frame, int16_t version,
				    struct kp_saslauthenticate_resp *o)
{
	return FLAT_RESP(KP_API_SASL_AUTHENTICATE, sa_resp_slots);
}

/* ---- GetTelemetrySubscriptions ---- */

static const struct slot gts_req_slots[] = {
	SLOT(struct kp_gettelemetrysubscriptions_req, CLIENT_INSTANCE_ID, UUID,
	     client_instance_id, 0),
};

int kp_gettelemetrysubscriptions_req_decode(
	const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
	struct kp_gettelemetrysubscriptions_req *o)
{
	return FLAT_REQ(KP_API_GET_TELEMETRY_SUBSCRIPTIONS, gts_req_slots);
}

#define OUT struct kp_gettelemetrysubscriptions_resp
static const struct slot gts_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
	SLOT(OUT, CLIENT_INSTANCE_ID, UUID, client_instance_id, 0),
	SLOT(OUT, SUBSCRIPTION_ID, I32, subscription_id, 0),
	SLOT(OUT, ACCEPTED_COMPRESSION_TYPES, COUNT, accepted_compression_types,
	     0),
	SLOT(OUT, PUSH_INTERVAL_MS, I32, push_interval_ms, 0),
	SLOT(OUT, TELEMETRY_MAX_BYTES, I32, telemetry_max_bytes, 0),
	SLOT(OUT, DELTA_TEMPORALITY, I8, delta_temporality, 0),
	SLOT(OUT, REQUESTED_METRICS, COUNT, requested_metrics, 0),
};
#undef OUT

int kp_gettelemetrysubscriptions_resp_decode(
	const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
	int16_t version, struct kp_gettelemetrysubscriptions_resp *o)
{
	return FLAT_RESP(KP_API_GET_TELEMETRY_SUBSCRIPTIONS, gts_resp_slots);
}

/* ---- PushTelemetry ---- */

#define OUT struct kp_pushtelemetry_req
static const struct slot pt_req_slots[] = {
	SLOT(OUT, CLIENT_INSTANCE_ID, UUID, client_instance_id, 0),
	SLOT(OUT, SUBSCRIPTION_ID, I32, subscription_id, 0),
	SLOT(OUT, TERMINATING, I8, terminating, 0),
	SLOT(OUT, COMPRESSION_TYPE, I8, compression_type, 0),
	SLOT(OUT, METRICS, LEN, metrics_len, 0),
};
#undef OUT

int kp_pushtelemetry_req_decode(const struct kp_seg *segs, uint32_t nseg,
				size_t max_frame,
				struct kp_pushtelemetry_req *o)
{
	return FLAT_REQ(KP_API_PUSH_TELEMETRY, pt_req_slots);
}

#define OUT struct kp_pushtelemetry_resp
static const struct slot pt_resp_slots[] = {
	SLOT(OUT, THROTTLE_TIME_MS, I32, throttle_ms, 0),
	SLOT(OUT, ERROR_CODE, I16, error, 0),
};
#undef OUT

int kp_pushtelemetry_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				 size_t max_frame, int16_t version,
				 struct kp_pushtelemetry_resp *o)
{
	return FLAT_RESP(KP_API_PUSH_TELEMETRY, pt_resp_slots);
}
