/*
 * Group, transaction, SASL and telemetry decoders: synthesized frames at
 * every version boundary (prefix and split sweeps with a digest of the
 * decoded struct), hand-annotated fixtures, hostile frames, short storage,
 * the API role table, and the SASL rule that no credential is reachable.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "kp_msg_group.h"
#include "kp_schema.h"
#include "synth.h"

#define CAP 64

static uint8_t frame[1 << 16];

/* Storage the decoders fill; every vec gets cap elements of it. */
static struct kp_str st_strs[CAP];
static struct kp_grp_topic st_topics[CAP];
static struct kp_grp_partition st_parts[CAP];
static struct kp_grp_partition_err st_perrs[CAP];
static struct kp_lg_member st_lgm[CAP];
static struct kp_lg_member_result st_lgr[CAP];
static struct kp_oc_partition st_ocp[CAP];
static struct kp_of_group st_ofg[CAP];
static struct kp_of_group_result st_ofr[CAP];
static struct kp_of_partition st_ofp[CAP];
static struct kp_cgh_topic st_cght[CAP];
static struct kp_apt_txn st_aptx[CAP];
static struct kp_apt_txn_result st_aptr[CAP];

/* What a digest function needs besides the bytes. */
struct dctx {
	const char *what;
	int16_t version; /* responses: the version to decode as */
	uint32_t cap;    /* elements of storage each vec gets */
	/* When set, the frame was synthesized with these options: check the
	 * decoded shape against them. */
	const struct synth_opts *shape;
	int flexible;
};

#define GIVE(vec, store) ((vec).v = (store), (vec).cap = c->cap)
#define MIX(x)           (h = fx_mix(h, (uint64_t)(x)))
#define MIXS(s)          (h = fx_mix_str(h, segs, nseg, &(s)))
#define MIXU(u)          (h = mix_uuid(h, (u)))
#define EXPECT(cond)     cr_assert((cond), "%s: expected %s", c->what, #cond)
/* A vec holds what fits of what the frame had. */
#define VEC_OK(vec)                                                            \
	EXPECT((vec).n == ((vec).total < (vec).cap ? (vec).total : (vec).cap))

/* The flat vecs link up: each stored child points back at the parent
 * whose [first, first + total) range holds it, and, when every parent is
 * stored, the ranges add up to the children's total. */
#define CHECK_LINKS(pv, cv, first, count, back)                                \
	do {                                                                   \
		uint32_t sum_ = 0;                                             \
		for (uint32_t p_ = 0; p_ < (pv).n; p_++) {                     \
			uint32_t f_ = (pv).v[p_].first;                        \
			EXPECT(f_ == sum_);                                    \
			sum_ += (pv).v[p_].count;                              \
			for (uint32_t c_ = f_;                                 \
			     c_ < f_ + (pv).v[p_].count && c_ < (cv).n; c_++)  \
				EXPECT((cv).v[c_].back == p_);                 \
		}                                                              \
		if ((pv).n == (pv).total)                                      \
			EXPECT(sum_ == (cv).total);                            \
	} while (0)
#define CHECK_TOPICS(tv, pv)                                                   \
	CHECK_LINKS(tv, pv, partitions_first, partitions_total, topic)
#define CHECK_OWNERS(gv, tv)                                                   \
	CHECK_LINKS(gv, tv, topics_first, topics_total, owner)

static uint64_t mix_uuid(uint64_t h, const uint8_t *u)
{
	for (int i = 0; i < 16; i++)
		h = fx_mix(h, u[i]);
	return h;
}

static uint64_t mix_req_hdr(uint64_t h, const struct kp_seg *segs,
			    uint32_t nseg, const struct kp_req_hdr *r)
{
	MIX(r->api_key);
	MIX(r->api_version);
	MIX(r->corr_id);
	MIXS(r->client_id);
	MIX(r->hdr_version);
	MIX(r->unknown_tags);
	return h;
}

static uint64_t mix_resp_hdr(uint64_t h, const struct kp_resp_hdr *r)
{
	MIX(r->corr_id);
	MIX(r->hdr_version);
	MIX(r->unknown_tags);
	return h;
}

static uint64_t mix_stats(uint64_t h, const struct kp_walk_stats *st)
{
	MIX(st->unknown_tags);
	MIX(st->trailing);
	return h;
}

static uint64_t mix_topics(uint64_t h, const struct kp_seg *segs, uint32_t nseg,
			   const struct kp_grp_topic *t, uint32_t n,
			   uint32_t total)
{
	MIX(total);
	for (uint32_t i = 0; i < n; i++) {
		MIXS(t[i].name);
		MIX(t[i].owner);
		MIX(t[i].partitions_first);
		MIX(t[i].partitions_total);
	}
	return h;
}

static uint64_t mix_strs(uint64_t h, const struct kp_seg *segs, uint32_t nseg,
			 const struct kp_str *s, uint32_t n, uint32_t total)
{
	MIX(total);
	for (uint32_t i = 0; i < n; i++)
		MIXS(s[i]);
	return h;
}

/* The shape checks: s = synth options, A its array length, S its string
 * length. Nullable parts are only checked without null_nullables. */
static int shape_plain(const struct dctx *c)
{
	return c->shape && !c->shape->null_nullables;
}

static void expect_unknown_tags(const struct dctx *c,
				const struct kp_walk_stats *st)
{
	if (c->shape && c->shape->unknown_tag && c->flexible)
		EXPECT(st->unknown_tags > 0);
	if (c->shape && !c->shape->unknown_tag)
		EXPECT(st->unknown_tags == 0);
	if (c->shape)
		EXPECT(st->trailing == 0);
}

#define A ((uint32_t)c->shape->array_len)
#define S (c->shape->str_len)

/* ---- digest functions, one per decoder ---- */

static int d_joingroup_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			   uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_joingroup_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.protocols, st_strs);
	rc = kp_joingroup_req_decode(segs, nseg, 0, &o);
	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.group_id);
	MIX(o.session_timeout_ms);
	MIX(o.rebalance_timeout_ms);
	MIXS(o.member_id);
	MIXS(o.group_instance_id);
	MIXS(o.protocol_type);
	h = mix_strs(h, segs, nseg, o.protocols.v, o.protocols.n,
		     o.protocols.total);
	MIXS(o.reason);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		VEC_OK(o.protocols);
		EXPECT(o.hdr.api_version == c->version);
		EXPECT(o.group_id.len == S && o.member_id.len == S);
		EXPECT(o.protocol_type.len == S && o.protocols.total == A);
		EXPECT(c->version >= 1 || o.rebalance_timeout_ms == -1);
		EXPECT(c->version >= 8 || o.reason.len == -1);
		if (shape_plain(c) && c->version >= 8)
			EXPECT(o.reason.len == S);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_joingroup_resp(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			    uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_joingroup_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_joingroup_resp_decode(segs, nseg, 0, c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	MIX(o.generation_id);
	MIXS(o.protocol_type);
	MIXS(o.protocol_name);
	MIXS(o.leader);
	MIXS(o.member_id);
	MIX(o.skip_assignment);
	MIX(o.members);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.members == A && o.leader.len == S);
		EXPECT(o.error > 0 && o.generation_id > 0);
		EXPECT((c->version >= 2) == (o.throttle_ms > 0));
		EXPECT(o.member_id.len == S);
		EXPECT(c->version >= 7 || o.protocol_type.len == -1);
		if (shape_plain(c))
			EXPECT(o.protocol_name.len == S);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_syncgroup_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			   uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_syncgroup_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_syncgroup_req_decode(segs, nseg, 0, &o);

	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.group_id);
	MIX(o.generation_id);
	MIXS(o.member_id);
	MIXS(o.group_instance_id);
	MIXS(o.protocol_type);
	MIXS(o.protocol_name);
	MIX(o.assignments);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.group_id.len == S && o.assignments == A);
		EXPECT(o.generation_id > 0);
		EXPECT(c->version >= 5 || o.protocol_name.len == -1);
		if (shape_plain(c) && c->version >= 5)
			EXPECT(o.protocol_name.len == S);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_syncgroup_resp(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			    uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_syncgroup_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_syncgroup_resp_decode(segs, nseg, 0, c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	MIXS(o.protocol_type);
	MIXS(o.protocol_name);
	MIX(o.assignment_len);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.assignment_len == S && o.error > 0);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_heartbeat_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			   uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_heartbeat_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_heartbeat_req_decode(segs, nseg, 0, &o);

	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.group_id);
	MIX(o.generation_id);
	MIXS(o.member_id);
	MIXS(o.group_instance_id);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.group_id.len == S && o.member_id.len == S);
		EXPECT(o.generation_id > 0);
		EXPECT(c->version >= 3 || o.group_instance_id.len == -1);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_heartbeat_resp(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			    uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_heartbeat_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_heartbeat_resp_decode(segs, nseg, 0, c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT((c->version >= 1) == (o.throttle_ms > 0));
		EXPECT(o.error > 0);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_leavegroup_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			    uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_leavegroup_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.members, st_lgm);
	rc = kp_leavegroup_req_decode(segs, nseg, 0, &o);
	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.group_id);
	MIX(o.members.total);
	for (uint32_t i = 0; i < o.members.n; i++) {
		MIXS(o.members.v[i].member_id);
		MIXS(o.members.v[i].group_instance_id);
		MIXS(o.members.v[i].reason);
	}
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		VEC_OK(o.members);
		EXPECT(o.members.total == (c->version < 3 ? 1 : A));
		if (o.members.n > 0) {
			EXPECT(o.members.v[0].member_id.len == S);
			EXPECT(c->version >= 5 ||
			       o.members.v[0].reason.len == -1);
		}
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_leavegroup_resp(const struct kp_seg *segs, uint32_t nseg,
			     void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_leavegroup_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.members, st_lgr);
	rc = kp_leavegroup_resp_decode(segs, nseg, 0, c->version, &o);
	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	MIX(o.members.total);
	for (uint32_t i = 0; i < o.members.n; i++) {
		MIXS(o.members.v[i].member_id);
		MIXS(o.members.v[i].group_instance_id);
		MIX(o.members.v[i].error);
	}
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		VEC_OK(o.members);
		EXPECT(o.members.total == (c->version < 3 ? 0 : A));
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_offsetcommit_req(const struct kp_seg *segs, uint32_t nseg,
			      void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_offsetcommit_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.topics, st_topics);
	GIVE(o.partitions, st_ocp);
	rc = kp_offsetcommit_req_decode(segs, nseg, 0, &o);
	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.group_id);
	MIX(o.generation_id);
	MIXS(o.member_id);
	MIXS(o.group_instance_id);
	MIX(o.retention_ms);
	h = mix_topics(h, segs, nseg, o.topics.v, o.topics.n, o.topics.total);
	MIX(o.partitions.total);
	for (uint32_t i = 0; i < o.partitions.n; i++) {
		const struct kp_oc_partition *p = &o.partitions.v[i];

		MIX(p->topic);
		MIX(p->index);
		MIX(p->offset);
		MIX(p->leader_epoch);
		MIXS(p->metadata);
	}
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK) {
		CHECK_TOPICS(o.topics, o.partitions);
	}
	if (rc == KP_OK && c->shape) {
		VEC_OK(o.topics);
		VEC_OK(o.partitions);
		EXPECT(o.topics.total == A && o.partitions.total == A * A);
		EXPECT(c->version >= 1 || o.generation_id == -1);
		EXPECT(c->version >= 1 || o.member_id.len == -1);
		EXPECT((c->version >= 2 && c->version <= 4) ||
		       o.retention_ms == -1);
		if (o.partitions.n > 0)
			EXPECT(c->version >= 6 ||
			       o.partitions.v[0].leader_epoch == -1);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_offsetcommit_resp(const struct kp_seg *segs, uint32_t nseg,
			       void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_offsetcommit_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.topics, st_topics);
	GIVE(o.partitions, st_perrs);
	rc = kp_offsetcommit_resp_decode(segs, nseg, 0, c->version, &o);
	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	h = mix_topics(h, segs, nseg, o.topics.v, o.topics.n, o.topics.total);
	MIX(o.partitions.total);
	for (uint32_t i = 0; i < o.partitions.n; i++) {
		MIX(o.partitions.v[i].topic);
		MIX(o.partitions.v[i].index);
		MIX(o.partitions.v[i].error);
	}
	MIX(o.failed);
	MIX(o.first_error);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK) {
		CHECK_TOPICS(o.topics, o.partitions);
	}
	if (rc == KP_OK && c->shape) {
		VEC_OK(o.topics);
		VEC_OK(o.partitions);
		EXPECT(o.topics.total == A && o.partitions.total == A * A);
		/* synth never writes a zero integer */
		EXPECT(o.failed == A * A);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_offsetfetch_req(const struct kp_seg *segs, uint32_t nseg,
			     void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_offsetfetch_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.groups, st_ofg);
	GIVE(o.topics, st_topics);
	GIVE(o.partitions, st_parts);
	rc = kp_offsetfetch_req_decode(segs, nseg, 0, &o);
	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIX(o.groups.total);
	for (uint32_t i = 0; i < o.groups.n; i++) {
		const struct kp_of_group *g = &o.groups.v[i];

		MIXS(g->group_id);
		MIXS(g->member_id);
		MIX(g->member_epoch);
		MIX(g->all_topics);
		MIX(g->topics_first);
		MIX(g->topics_total);
	}
	h = mix_topics(h, segs, nseg, o.topics.v, o.topics.n, o.topics.total);
	MIX(o.partitions.total);
	for (uint32_t i = 0; i < o.partitions.n; i++) {
		MIX(o.partitions.v[i].topic);
		MIX(o.partitions.v[i].index);
	}
	MIX(o.require_stable);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK) {
		CHECK_OWNERS(o.groups, o.topics);
		CHECK_TOPICS(o.topics, o.partitions);
	}
	if (rc == KP_OK && c->shape) {
		int batched = c->version >= 8;
		uint32_t ng = batched ? A : 1;
		int nulls = c->shape->null_nullables && c->version >= 2;

		VEC_OK(o.groups);
		VEC_OK(o.topics);
		VEC_OK(o.partitions);
		EXPECT(o.groups.total == ng);
		EXPECT(o.topics.total == (nulls ? 0 : ng * A));
		EXPECT(o.partitions.total == (nulls ? 0 : ng * A * A));
		if (o.groups.n > 0) {
			EXPECT(o.groups.v[0].group_id.len == S);
			EXPECT(o.groups.v[0].all_topics == nulls);
			EXPECT(c->version >= 9 ||
			       o.groups.v[0].member_epoch == -1);
		}
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_offsetfetch_resp(const struct kp_seg *segs, uint32_t nseg,
			      void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_offsetfetch_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.groups, st_ofr);
	GIVE(o.topics, st_topics);
	GIVE(o.partitions, st_ofp);
	rc = kp_offsetfetch_resp_decode(segs, nseg, 0, c->version, &o);
	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.groups.total);
	for (uint32_t i = 0; i < o.groups.n; i++) {
		MIXS(o.groups.v[i].group_id);
		MIX(o.groups.v[i].error);
		MIX(o.groups.v[i].topics_first);
		MIX(o.groups.v[i].topics_total);
	}
	h = mix_topics(h, segs, nseg, o.topics.v, o.topics.n, o.topics.total);
	MIX(o.partitions.total);
	for (uint32_t i = 0; i < o.partitions.n; i++) {
		const struct kp_of_partition *p = &o.partitions.v[i];

		MIX(p->topic);
		MIX(p->index);
		MIX(p->offset);
		MIX(p->leader_epoch);
		MIXS(p->metadata);
		MIX(p->error);
	}
	MIX(o.failed);
	MIX(o.first_error);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK) {
		CHECK_OWNERS(o.groups, o.topics);
		CHECK_TOPICS(o.topics, o.partitions);
	}
	if (rc == KP_OK && c->shape) {
		uint32_t ng = c->version >= 8 ? A : 1;

		VEC_OK(o.groups);
		VEC_OK(o.topics);
		VEC_OK(o.partitions);
		EXPECT(o.groups.total == ng);
		EXPECT(o.topics.total == ng * A);
		EXPECT(o.partitions.total == ng * A * A);
		if (o.groups.n > 0 && c->version < 8)
			EXPECT(o.groups.v[0].group_id.len == -1);
		if (o.partitions.n > 0)
			EXPECT(c->version >= 5 ||
			       o.partitions.v[0].leader_epoch == -1);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_cgh_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
		     uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_consumergroupheartbeat_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.subscribed_topics, st_strs);
	GIVE(o.topics, st_cght);
	GIVE(o.partitions, st_parts);
	rc = kp_consumergroupheartbeat_req_decode(segs, nseg, 0, &o);
	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.group_id);
	MIXS(o.member_id);
	MIX(o.member_epoch);
	MIXS(o.instance_id);
	MIXS(o.rack_id);
	MIX(o.rebalance_timeout_ms);
	MIX(o.subscribed_null);
	h = mix_strs(h, segs, nseg, o.subscribed_topics.v,
		     o.subscribed_topics.n, o.subscribed_topics.total);
	MIXS(o.subscribed_regex);
	MIXS(o.server_assignor);
	MIX(o.topics_null);
	MIX(o.topics.total);
	for (uint32_t i = 0; i < o.topics.n; i++) {
		MIXU(o.topics.v[i].topic_id);
		MIX(o.topics.v[i].partitions_first);
		MIX(o.topics.v[i].partitions_total);
	}
	MIX(o.partitions.total);
	for (uint32_t i = 0; i < o.partitions.n; i++) {
		MIX(o.partitions.v[i].topic);
		MIX(o.partitions.v[i].index);
	}
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK) {
		CHECK_TOPICS(o.topics, o.partitions);
	}
	if (rc == KP_OK && c->shape) {
		int nulls = c->shape->null_nullables;

		VEC_OK(o.subscribed_topics);
		VEC_OK(o.topics);
		VEC_OK(o.partitions);
		EXPECT(o.group_id.len == S && o.member_epoch > 0);
		EXPECT(o.rebalance_timeout_ms > 0);
		EXPECT(o.subscribed_null == nulls);
		EXPECT(o.topics_null == nulls);
		EXPECT(o.subscribed_topics.total == (nulls ? 0 : A));
		EXPECT(o.topics.total == (nulls ? 0 : A));
		EXPECT(o.partitions.total == (nulls ? 0 : A * A));
		EXPECT(o.server_assignor.len == (nulls ? -1 : S));
		EXPECT(c->version >= 1 || o.subscribed_regex.len == -1);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_cgh_resp(const struct kp_seg *segs, uint32_t nseg, void *ctx,
		      uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_consumergroupheartbeat_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_consumergroupheartbeat_resp_decode(segs, nseg, 0,
						       c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	MIXS(o.error_message);
	MIXS(o.member_id);
	MIX(o.member_epoch);
	MIX(o.heartbeat_interval_ms);
	MIX(o.assignment_present);
	MIX(o.assigned_topics);
	MIX(o.assigned_partitions);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		int nulls = c->shape->null_nullables;

		EXPECT(o.assignment_present == !nulls);
		EXPECT(o.assigned_topics == (nulls ? 0 : A));
		EXPECT(o.assigned_partitions == (nulls ? 0 : A * A));
		EXPECT(o.error_message.len == (nulls ? -1 : S));
		EXPECT(o.error > 0 && o.member_epoch > 0);
		EXPECT(o.heartbeat_interval_ms > 0);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_initproducerid_req(const struct kp_seg *segs, uint32_t nseg,
				void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_initproducerid_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_initproducerid_req_decode(segs, nseg, 0, &o);

	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.transactional_id);
	MIX(o.txn_timeout_ms);
	MIX(o.producer_id);
	MIX(o.producer_epoch);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		int nulls = c->shape->null_nullables;

		EXPECT(o.transactional_id.len == (nulls ? -1 : S));
		EXPECT(kp_initproducerid_is_txn(&o) == !nulls);
		EXPECT(c->version >= 3 ||
		       (o.producer_id == -1 && o.producer_epoch == -1));
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_initproducerid_resp(const struct kp_seg *segs, uint32_t nseg,
				 void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_initproducerid_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_initproducerid_resp_decode(segs, nseg, 0, c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	MIX(o.producer_id);
	MIX(o.producer_epoch);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.producer_id > 0 && o.producer_epoch > 0);
		EXPECT(o.error > 0);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_apt_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
		     uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_addpartitionstotxn_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.txns, st_aptx);
	GIVE(o.topics, st_topics);
	GIVE(o.partitions, st_parts);
	rc = kp_addpartitionstotxn_req_decode(segs, nseg, 0, &o);
	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIX(o.txns.total);
	for (uint32_t i = 0; i < o.txns.n; i++) {
		const struct kp_apt_txn *x = &o.txns.v[i];

		MIXS(x->transactional_id);
		MIX(x->producer_id);
		MIX(x->producer_epoch);
		MIX(x->verify_only);
		MIX(x->topics_first);
		MIX(x->topics_total);
	}
	h = mix_topics(h, segs, nseg, o.topics.v, o.topics.n, o.topics.total);
	MIX(o.partitions.total);
	for (uint32_t i = 0; i < o.partitions.n; i++) {
		MIX(o.partitions.v[i].topic);
		MIX(o.partitions.v[i].index);
	}
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK) {
		CHECK_OWNERS(o.txns, o.topics);
		CHECK_TOPICS(o.topics, o.partitions);
	}
	if (rc == KP_OK && c->shape) {
		uint32_t nx = c->version >= 4 ? A : 1;

		VEC_OK(o.txns);
		VEC_OK(o.topics);
		VEC_OK(o.partitions);
		EXPECT(o.txns.total == nx);
		EXPECT(o.topics.total == nx * A);
		EXPECT(o.partitions.total == nx * A * A);
		if (o.txns.n > 0) {
			EXPECT(o.txns.v[0].transactional_id.len == S);
			EXPECT(o.txns.v[0].producer_id > 0);
		}
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_apt_resp(const struct kp_seg *segs, uint32_t nseg, void *ctx,
		      uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_addpartitionstotxn_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.txns, st_aptr);
	GIVE(o.topics, st_topics);
	GIVE(o.partitions, st_perrs);
	rc = kp_addpartitionstotxn_resp_decode(segs, nseg, 0, c->version, &o);
	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	MIX(o.txns.total);
	for (uint32_t i = 0; i < o.txns.n; i++) {
		MIXS(o.txns.v[i].transactional_id);
		MIX(o.txns.v[i].topics_first);
		MIX(o.txns.v[i].topics_total);
	}
	h = mix_topics(h, segs, nseg, o.topics.v, o.topics.n, o.topics.total);
	MIX(o.partitions.total);
	for (uint32_t i = 0; i < o.partitions.n; i++) {
		MIX(o.partitions.v[i].topic);
		MIX(o.partitions.v[i].index);
		MIX(o.partitions.v[i].error);
	}
	MIX(o.failed);
	MIX(o.first_error);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK) {
		CHECK_OWNERS(o.txns, o.topics);
		CHECK_TOPICS(o.topics, o.partitions);
	}
	if (rc == KP_OK && c->shape) {
		uint32_t nx = c->version >= 4 ? A : 1;

		VEC_OK(o.txns);
		VEC_OK(o.topics);
		VEC_OK(o.partitions);
		EXPECT(o.txns.total == nx);
		EXPECT(o.topics.total == nx * A);
		EXPECT(o.partitions.total == nx * A * A);
		EXPECT(o.failed == nx * A * A);
		if (o.txns.n > 0)
			EXPECT(o.txns.v[0].transactional_id.len ==
			       (c->version >= 4 ? S : -1));
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_endtxn_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_endtxn_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_endtxn_req_decode(segs, nseg, 0, &o);

	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.transactional_id);
	MIX(o.producer_id);
	MIX(o.producer_epoch);
	MIX(o.committed);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.transactional_id.len == S && o.producer_id > 0);
		EXPECT(o.producer_epoch > 0);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_endtxn_resp(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			 uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_endtxn_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_endtxn_resp_decode(segs, nseg, 0, c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	MIX(o.producer_id);
	MIX(o.producer_epoch);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT((c->version >= 5) == (o.producer_id != -1));
		EXPECT((c->version >= 5) == (o.producer_epoch != -1));
		EXPECT(o.error > 0 && o.throttle_ms > 0);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_saslhandshake_req(const struct kp_seg *segs, uint32_t nseg,
			       void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_saslhandshake_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_saslhandshake_req_decode(segs, nseg, 0, &o);

	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXS(o.mechanism);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.mechanism.len == S);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_saslhandshake_resp(const struct kp_seg *segs, uint32_t nseg,
				void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_saslhandshake_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc;

	memset(&o, 0, sizeof(o));
	GIVE(o.mechanisms, st_strs);
	rc = kp_saslhandshake_resp_decode(segs, nseg, 0, c->version, &o);
	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.error);
	h = mix_strs(h, segs, nseg, o.mechanisms.v, o.mechanisms.n,
		     o.mechanisms.total);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		VEC_OK(o.mechanisms);
		EXPECT(o.mechanisms.total == A);
		if (o.mechanisms.n > 0)
			EXPECT(o.mechanisms.v[0].len == S);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_saslauthenticate_req(const struct kp_seg *segs, uint32_t nseg,
				  void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_saslauthenticate_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_saslauthenticate_req_decode(segs, nseg, 0, &o);

	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIX(o.auth_len);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.auth_len == S);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_saslauthenticate_resp(const struct kp_seg *segs, uint32_t nseg,
				   void *ctx, uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_saslauthenticate_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_saslauthenticate_resp_decode(segs, nseg, 0, c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.error);
	MIX(o.error_message_len);
	MIX(o.auth_len);
	MIX(o.session_lifetime_ms);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.auth_len == S && o.error > 0);
		EXPECT((c->version >= 1) == (o.session_lifetime_ms > 0));
		EXPECT(o.error_message_len ==
		       (c->shape->null_nullables ? -1 : S));
		EXPECT(c->version >= 1 || o.session_lifetime_ms == 0);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_gts_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
		     uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_gettelemetrysubscriptions_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_gettelemetrysubscriptions_req_decode(segs, nseg, 0, &o);

	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXU(o.client_instance_id);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		/* synth writes counter + i: never all zero */
		EXPECT(o.client_instance_id[1] == o.client_instance_id[0] + 1);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_gts_resp(const struct kp_seg *segs, uint32_t nseg, void *ctx,
		      uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_gettelemetrysubscriptions_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_gettelemetrysubscriptions_resp_decode(segs, nseg, 0,
							  c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	MIXU(o.client_instance_id);
	MIX(o.subscription_id);
	MIX(o.accepted_compression_types);
	MIX(o.push_interval_ms);
	MIX(o.telemetry_max_bytes);
	MIX(o.delta_temporality);
	MIX(o.requested_metrics);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.accepted_compression_types == A);
		EXPECT(o.requested_metrics == A);
		EXPECT(o.push_interval_ms > 0 && o.telemetry_max_bytes > 0);
		EXPECT(o.subscription_id > 0 && o.error > 0);
		EXPECT(o.client_instance_id[1] == o.client_instance_id[0] + 1);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_pt_req(const struct kp_seg *segs, uint32_t nseg, void *ctx,
		    uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_pushtelemetry_req o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_pushtelemetry_req_decode(segs, nseg, 0, &o);

	h = mix_req_hdr(h, segs, nseg, &o.hdr);
	MIXU(o.client_instance_id);
	MIX(o.subscription_id);
	MIX(o.terminating);
	MIX(o.compression_type);
	MIX(o.metrics_len);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.metrics_len == S && o.subscription_id > 0);
		EXPECT(o.client_instance_id[1] == o.client_instance_id[0] + 1);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

static int d_pt_resp(const struct kp_seg *segs, uint32_t nseg, void *ctx,
		     uint64_t *dg)
{
	struct dctx *c = ctx;
	struct kp_pushtelemetry_resp o;
	uint64_t h = FX_DIGEST_INIT;
	int rc = kp_pushtelemetry_resp_decode(segs, nseg, 0, c->version, &o);

	h = mix_resp_hdr(h, &o.hdr);
	MIX(o.throttle_ms);
	MIX(o.error);
	h = mix_stats(h, &o.stats);
	if (rc == KP_OK && c->shape) {
		EXPECT(o.error > 0);
		expect_unknown_tags(c, &o.stats);
	}
	*dg = h;
	return rc;
}

#undef A
#undef S

/* ---- synthesized frames at the version boundaries ---- */

struct api_case {
	int16_t key;
	fx_decode_fn req, resp;
};

static const struct api_case cases[] = {
	{KP_API_JOIN_GROUP, d_joingroup_req, d_joingroup_resp},
	{KP_API_SYNC_GROUP, d_syncgroup_req, d_syncgroup_resp},
	{KP_API_HEARTBEAT, d_heartbeat_req, d_heartbeat_resp},
	{KP_API_LEAVE_GROUP, d_leavegroup_req, d_leavegroup_resp},
	{KP_API_OFFSET_COMMIT, d_offsetcommit_req, d_offsetcommit_resp},
	{KP_API_OFFSET_FETCH, d_offsetfetch_req, d_offsetfetch_resp},
	{KP_API_CONSUMER_GROUP_HEARTBEAT, d_cgh_req, d_cgh_resp},
	{KP_API_INIT_PRODUCER_ID, d_initproducerid_req, d_initproducerid_resp},
	{KP_API_ADD_PARTITIONS_TO_TXN, d_apt_req, d_apt_resp},
	{KP_API_END_TXN, d_endtxn_req, d_endtxn_resp},
	{KP_API_SASL_HANDSHAKE, d_saslhandshake_req, d_saslhandshake_resp},
	{KP_API_SASL_AUTHENTICATE, d_saslauthenticate_req,
	 d_saslauthenticate_resp},
	{KP_API_GET_TELEMETRY_SUBSCRIPTIONS, d_gts_req, d_gts_resp},
	{KP_API_PUSH_TELEMETRY, d_pt_req, d_pt_resp},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const struct synth_opts sweeps[] = {
	{.array_len = 2, .str_len = 3},
	{.array_len = 0, .str_len = 0},
	{.array_len = 1, .str_len = 5, .null_nullables = 1},
	{.array_len = 2, .str_len = 2, .tagged = 1},
	{.array_len = 1, .str_len = 1, .tagged = 1, .unknown_tag = 1},
};

/* Lowest, last non-flexible, first flexible, highest: read from the
 * table, without repeats. */
static int boundaries(int16_t key, int16_t *v)
{
	const struct kp_api *a = kp_api_get(key);
	int16_t cand[4];
	int n = 0;

	cand[0] = a->vmin;
	cand[1] = a->flex_min == KP_VER_NONE ? a->vmax
					     : (int16_t)(a->flex_min - 1);
	cand[2] = a->flex_min;
	cand[3] = a->vmax;
	for (int i = 0; i < 4; i++) {
		int dup = 0;

		if (!kp_api_valid(a, cand[i]))
			continue;
		for (int k = 0; k < n; k++)
			dup |= v[k] == cand[i];
		if (!dup)
			v[n++] = cand[i];
	}
	return n;
}

static void check_synth(const struct api_case *ac, int16_t ver,
			const struct synth_opts *so, size_t k)
{
	const struct kp_api *a = kp_api_get(ac->key);
	struct dctx c = {.version = ver,
			 .cap = CAP,
			 .shape = so,
			 .flexible = ver >= a->flex_min};
	char what[128];
	size_t len;

	len = synth_req_frame(ac->key, ver, 41, "cli", so, frame,
			      sizeof(frame));
	cr_assert(len > 0, "%s v%d: synth failed", a->name, ver);
	snprintf(what, sizeof(what), "%s v%d request, options %zu", a->name,
		 ver, k);
	c.what = what;
	fx_check_frame(what, frame, len, ac->req, &c, KP_OK);

	len = synth_resp_frame(ac->key, ver, 41, so, frame, sizeof(frame));
	cr_assert(len > 0, "%s v%d: synth failed", a->name, ver);
	snprintf(what, sizeof(what), "%s v%d response, options %zu", a->name,
		 ver, k);
	fx_check_frame(what, frame, len, ac->resp, &c, KP_OK);
}

Test(group, synth_at_version_boundaries)
{
	unsigned checked = 0;

	for (size_t i = 0; i < NCASES; i++) {
		int16_t vs[4];
		int nv = boundaries(cases[i].key, vs);

		for (int j = 0; j < nv; j++)
			for (size_t k = 0; k < sizeof(sweeps) / sizeof(*sweeps);
			     k++) {
				check_synth(&cases[i], vs[j], &sweeps[k], k);
				checked++;
			}
	}
	/* 14 APIs, 1 to 4 boundaries each, 5 option sets. */
	cr_assert_geq(checked, 5 * 35, "only %u frames checked", checked);
}

Test(group, synth_every_version)
{
	for (size_t i = 0; i < NCASES; i++) {
		const struct kp_api *a = kp_api_get(cases[i].key);

		for (int16_t v = a->vmin; v <= a->vmax; v++)
			check_synth(&cases[i], v, &sweeps[0], 0);
	}
}

Test(group, boundaries_read_from_the_table)
{
	int16_t vs[4];

	/* JoinGroup 0-9, flexible from 6 */
	cr_assert_eq(boundaries(KP_API_JOIN_GROUP, vs), 4);
	cr_assert(vs[0] == 0 && vs[1] == 5 && vs[2] == 6 && vs[3] == 9);
	/* SaslHandshake is never flexible */
	cr_assert_eq(boundaries(KP_API_SASL_HANDSHAKE, vs), 2);
	cr_assert(vs[0] == 0 && vs[1] == 1);
	/* PushTelemetry: v0 only, flexible */
	cr_assert_eq(boundaries(KP_API_PUSH_TELEMETRY, vs), 1);
	/* Heartbeat 0-4, flexible from 4 */
	cr_assert_eq(boundaries(KP_API_HEARTBEAT, vs), 3);
}

/* ---- hand-annotated fixtures ---- */

static struct kp_seg one(const uint8_t *b, size_t len)
{
	struct kp_seg s = {b, len};

	return s;
}

/* The size prefix a fixture declares is what it holds. */
static void check_size(const char *what, const uint8_t *fx, size_t len)
{
	uint32_t size = (uint32_t)fx[0] << 24 | (uint32_t)fx[1] << 16 |
			(uint32_t)fx[2] << 8 | fx[3];

	cr_assert_eq(size, len - 4, "%s: size prefix %u, holds %zu", what, size,
		     len - 4);
}

#define STR_IS(seg, s, lit)                                                    \
	cr_assert(kp_str_eq((seg), 1, &(s), (lit)), "%s is not \"%s\"", #s,    \
		  (lit))

/* JoinGroup v0 request; header v1. */
static const uint8_t jg_v0_req[] = {
	0x00, 0x00, 0x00, 0x40,                  /* size 64 */
	0x00, 0x0b,                              /* api key 11 JoinGroup */
	0x00, 0x00,                              /* version 0 */
	0x00, 0x00, 0x00, 0x07,                  /* correlation id 7 */
	0x00, 0x01, 'c',                         /* client id "c" */
	0x00, 0x02, 'g',  '1',                   /* group id "g1" */
	0x00, 0x00, 0x75, 0x30,                  /* session timeout 30000 */
	0x00, 0x00,                              /* member id "" */
	0x00, 0x08, 'c',  'o',  'n',  's',  'u', /* protocol type */
	'm',  'e',  'r',                         /*   "consumer" */
	0x00, 0x00, 0x00, 0x02,                  /* 2 protocols: */
	0x00, 0x05, 'r',  'a',  'n',  'g',  'e', /*   name "range" */
	0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb,      /*   metadata, 2 bytes */
	0x00, 0x0a, 'r',  'o',  'u',  'n',  'd', /*   name */
	'r',  'o',  'b',  'i',  'n',             /*   "roundrobin" */
	0x00, 0x00, 0x00, 0x00,                  /*   metadata, empty */
};

Test(group, joingroup_v0_request_by_hand)
{
	struct kp_seg s = one(jg_v0_req, sizeof(jg_v0_req));
	struct kp_str names[4];
	struct kp_joingroup_req o = {.protocols = {names, 4}};
	struct dctx c = {.what = "JoinGroup v0 request", .cap = CAP};

	check_size(c.what, jg_v0_req, sizeof(jg_v0_req));
	cr_assert_eq(kp_joingroup_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.hdr.api_key, KP_API_JOIN_GROUP);
	cr_assert_eq(o.hdr.api_version, 0);
	cr_assert_eq(o.hdr.corr_id, 7);
	STR_IS(&s, o.hdr.client_id, "c");
	STR_IS(&s, o.group_id, "g1");
	cr_assert_eq(o.session_timeout_ms, 30000);
	cr_assert_eq(o.rebalance_timeout_ms, -1, "absent in v0");
	STR_IS(&s, o.member_id, "");
	cr_assert_eq(o.group_instance_id.len, -1);
	STR_IS(&s, o.protocol_type, "consumer");
	cr_assert_eq(o.protocols.total, 2);
	cr_assert_eq(o.protocols.n, 2);
	STR_IS(&s, names[0], "range");
	STR_IS(&s, names[1], "roundrobin");
	cr_assert_eq(o.reason.len, -1);
	cr_assert_eq(o.stats.unknown_tags, 0);
	fx_check_frame(c.what, jg_v0_req, sizeof(jg_v0_req), d_joingroup_req,
		       &c, KP_OK);
}

/* JoinGroup v5 response, to the leader; header v0. */
static const uint8_t jg_v5_resp[] = {
	0x00, 0x00, 0x00, 0x38,                 /* size 56 */
	0x00, 0x00, 0x00, 0x07,                 /* correlation id 7 */
	0x00, 0x00, 0x00, 0x64,                 /* throttle 100 ms */
	0x00, 0x00,                             /* error 0 */
	0x00, 0x00, 0x00, 0x05,                 /* generation 5 */
	0x00, 0x05, 'r',  'a',  'n',  'g', 'e', /* protocol name "range" */
	0x00, 0x02, 'm',  '1',                  /* leader "m1" */
	0x00, 0x02, 'm',  '1',                  /* member id "m1" */
	0x00, 0x00, 0x00, 0x02,                 /* 2 members: */
	0x00, 0x02, 'm',  '1',                  /*   member id "m1" */
	0x00, 0x02, 'i',  '1',                  /*   instance id "i1" */
	0x00, 0x00, 0x00, 0x01, 0x00,           /*   metadata, 1 byte */
	0x00, 0x02, 'm',  '2',                  /*   member id "m2" */
	0xff, 0xff,                             /*   instance id null */
	0x00, 0x00, 0x00, 0x00,                 /*   metadata, empty */
};

Test(group, joingroup_v5_response_by_hand)
{
	struct kp_seg s = one(jg_v5_resp, sizeof(jg_v5_resp));
	struct kp_joingroup_resp o;
	struct dctx c = {.what = "JoinGroup v5 response", .version = 5};

	check_size(c.what, jg_v5_resp, sizeof(jg_v5_resp));
	cr_assert_eq(kp_joingroup_resp_decode(&s, 1, 0, 5, &o), KP_OK);
	cr_assert_eq(o.hdr.corr_id, 7);
	cr_assert_eq(o.hdr.hdr_version, 0);
	cr_assert_eq(o.throttle_ms, 100);
	cr_assert_eq(o.error, 0);
	cr_assert_eq(o.generation_id, 5);
	cr_assert_eq(o.protocol_type.len, -1, "absent before v7");
	STR_IS(&s, o.protocol_name, "range");
	STR_IS(&s, o.leader, "m1");
	STR_IS(&s, o.member_id, "m1");
	cr_assert_eq(o.skip_assignment, 0);
	cr_assert_eq(o.members, 2);
	fx_check_frame(c.what, jg_v5_resp, sizeof(jg_v5_resp), d_joingroup_resp,
		       &c, KP_OK);
}

/* SyncGroup v3 request (the leader's); header v1. */
static const uint8_t sg_v3_req[] = {
	0x00, 0x00, 0x00, 0x28, /* size 40 */
	0x00, 0x0e,             /* api key 14 SyncGroup */
	0x00, 0x03,             /* version 3 */
	0x00, 0x00, 0x00, 0x09, /* correlation id 9 */
	0x00, 0x01, 'c',        /* client id "c" */
	0x00, 0x02, 'g',  '1',  /* group id "g1" */
	0x00, 0x00, 0x00, 0x05, /* generation 5 */
	0x00, 0x02, 'm',  '1',  /* member id "m1" */
	0xff, 0xff,             /* instance id null */
	0x00, 0x00, 0x00, 0x01, /* 1 assignment: */
	0x00, 0x02, 'm',  '1',  /*   member id "m1" */
	0x00, 0x00, 0x00, 0x03, /*   assignment, 3 bytes: */
	0x00, 0x01, 0x02,       /*     the bytes */
};

/* SyncGroup v3 response; header v0. */
static const uint8_t sg_v3_resp[] = {
	0x00, 0x00, 0x00, 0x0e, /* size 14 */
	0x00, 0x00, 0x00, 0x09, /* correlation id 9 */
	0x00, 0x00, 0x00, 0x00, /* throttle 0 */
	0x00, 0x1b,             /* error 27 REBALANCE_IN_PROGRESS */
	0x00, 0x00, 0x00, 0x00, /* assignment, empty */
};

Test(group, syncgroup_v3_by_hand)
{
	struct kp_seg s = one(sg_v3_req, sizeof(sg_v3_req));
	struct kp_syncgroup_req o;
	struct kp_syncgroup_resp r;
	struct dctx c = {.what = "SyncGroup v3", .version = 3};

	check_size("request", sg_v3_req, sizeof(sg_v3_req));
	check_size("response", sg_v3_resp, sizeof(sg_v3_resp));
	cr_assert_eq(kp_syncgroup_req_decode(&s, 1, 0, &o), KP_OK);
	STR_IS(&s, o.group_id, "g1");
	cr_assert_eq(o.generation_id, 5);
	STR_IS(&s, o.member_id, "m1");
	cr_assert_eq(o.group_instance_id.len, -1);
	cr_assert_eq(o.protocol_type.len, -1);
	cr_assert_eq(o.protocol_name.len, -1);
	cr_assert_eq(o.assignments, 1);
	fx_check_frame("SyncGroup v3 request", sg_v3_req, sizeof(sg_v3_req),
		       d_syncgroup_req, &c, KP_OK);

	s = one(sg_v3_resp, sizeof(sg_v3_resp));
	cr_assert_eq(kp_syncgroup_resp_decode(&s, 1, 0, 3, &r), KP_OK);
	cr_assert_eq(r.error, 27);
	cr_assert_str_eq(kp_error_name(r.error), "REBALANCE_IN_PROGRESS");
	cr_assert_eq(r.assignment_len, 0);
	fx_check_frame("SyncGroup v3 response", sg_v3_resp, sizeof(sg_v3_resp),
		       d_syncgroup_resp, &c, KP_OK);
}

/* Heartbeat v4 request: flexible, header v2, one unknown tagged field. */
static const uint8_t hb_v4_req[] = {
	0x00, 0x00, 0x00, 0x1e, /* size 30 */
	0x00, 0x0c,             /* api key 12 Heartbeat */
	0x00, 0x04,             /* version 4 */
	0x00, 0x00, 0x00, 0x0b, /* correlation id 11 */
	0x00, 0x01, 'c',        /* client id "c" (int16 length) */
	0x00,                   /* header tags: none */
	0x03, 'g',  '1',        /* group id "g1" (compact) */
	0x00, 0x00, 0x00, 0x07, /* generation 7 */
	0x03, 'm',  '1',        /* member id "m1" */
	0x03, 'i',  '1',        /* instance id "i1" */
	0x01,                   /* 1 tagged field: */
	0x05, 0x02, 0xbe, 0xef, /*   tag 5, 2 bytes */
};

/* Heartbeat v4 response: header v1. */
static const uint8_t hb_v4_resp[] = {
	0x00, 0x00, 0x00, 0x0c, /* size 12 */
	0x00, 0x00, 0x00, 0x0b, /* correlation id 11 */
	0x00,                   /* header tags: none */
	0x00, 0x00, 0x00, 0x00, /* throttle 0 */
	0x00, 0x19,             /* error 25 UNKNOWN_MEMBER_ID */
	0x00,                   /* tags: none */
};

Test(group, heartbeat_v4_flexible_by_hand)
{
	struct kp_seg s = one(hb_v4_req, sizeof(hb_v4_req));
	struct kp_heartbeat_req o;
	struct kp_heartbeat_resp r;
	struct dctx c = {.what = "Heartbeat v4", .version = 4};

	check_size("request", hb_v4_req, sizeof(hb_v4_req));
	check_size("response", hb_v4_resp, sizeof(hb_v4_resp));
	cr_assert_eq(kp_heartbeat_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.hdr.hdr_version, 2);
	STR_IS(&s, o.group_id, "g1");
	cr_assert_eq(o.generation_id, 7);
	STR_IS(&s, o.member_id, "m1");
	STR_IS(&s, o.group_instance_id, "i1");
	cr_assert_eq(o.stats.unknown_tags, 1);
	fx_check_frame("Heartbeat v4 request", hb_v4_req, sizeof(hb_v4_req),
		       d_heartbeat_req, &c, KP_OK);

	s = one(hb_v4_resp, sizeof(hb_v4_resp));
	cr_assert_eq(kp_heartbeat_resp_decode(&s, 1, 0, 4, &r), KP_OK);
	cr_assert_eq(r.hdr.hdr_version, 1);
	cr_assert_eq(r.error, 25);
	fx_check_frame("Heartbeat v4 response", hb_v4_resp, sizeof(hb_v4_resp),
		       d_heartbeat_resp, &c, KP_OK);
}

/* LeaveGroup v3 request, two members; header v1. */
static const uint8_t lg_v3_req[] = {
	0x00, 0x00, 0x00, 0x21, /* size 33 */
	0x00, 0x0d,             /* api key 13 LeaveGroup */
	0x00, 0x03,             /* version 3 */
	0x00, 0x00, 0x00, 0x0c, /* correlation id 12 */
	0x00, 0x01, 'c',        /* client id "c" */
	0x00, 0x02, 'g',  '1',  /* group id "g1" */
	0x00, 0x00, 0x00, 0x02, /* 2 members: */
	0x00, 0x02, 'm',  '1',  /*   member id "m1" */
	0x00, 0x02, 'i',  '1',  /*   instance id "i1" */
	0x00, 0x02, 'm',  '2',  /*   member id "m2" */
	0xff, 0xff,             /*   instance id null */
};

/* LeaveGroup v0 request: the single member id of v0-2. */
static const uint8_t lg_v0_req[] = {
	0x00, 0x00, 0x00, 0x13, /* size 19 */
	0x00, 0x0d,             /* api key 13 LeaveGroup */
	0x00, 0x00,             /* version 0 */
	0x00, 0x00, 0x00, 0x0d, /* correlation id 13 */
	0x00, 0x01, 'c',        /* client id "c" */
	0x00, 0x02, 'g',  '1',  /* group id "g1" */
	0x00, 0x02, 'm',  '9',  /* member id "m9" */
};

Test(group, leavegroup_v3_two_members_by_hand)
{
	struct kp_seg s = one(lg_v3_req, sizeof(lg_v3_req));
	struct kp_lg_member m[4];
	struct kp_leavegroup_req o = {.members = {m, 4}};
	struct dctx c = {.what = "LeaveGroup v3 request", .cap = CAP};

	check_size(c.what, lg_v3_req, sizeof(lg_v3_req));
	cr_assert_eq(kp_leavegroup_req_decode(&s, 1, 0, &o), KP_OK);
	STR_IS(&s, o.group_id, "g1");
	cr_assert_eq(o.members.total, 2);
	cr_assert_eq(o.members.n, 2);
	STR_IS(&s, m[0].member_id, "m1");
	STR_IS(&s, m[0].group_instance_id, "i1");
	cr_assert_eq(m[0].reason.len, -1, "absent before v5");
	STR_IS(&s, m[1].member_id, "m2");
	cr_assert_eq(m[1].group_instance_id.len, -1);
	fx_check_frame(c.what, lg_v3_req, sizeof(lg_v3_req), d_leavegroup_req,
		       &c, KP_OK);

	/* The v0 form gives the same shape: one member. Decode into the
	 * same struct: nothing of the v3 decode may stay. */
	s = one(lg_v0_req, sizeof(lg_v0_req));
	check_size("LeaveGroup v0", lg_v0_req, sizeof(lg_v0_req));
	cr_assert_eq(kp_leavegroup_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.members.v, m, "storage kept");
	cr_assert_eq(o.members.cap, 4);
	cr_assert_eq(o.members.total, 1);
	STR_IS(&s, m[0].member_id, "m9");
	cr_assert_eq(m[0].group_instance_id.len, -1);
	fx_check_frame("LeaveGroup v0 request", lg_v0_req, sizeof(lg_v0_req),
		       d_leavegroup_req, &c, KP_OK);
}

/* OffsetCommit v8 request: flexible, header v2. */
static const uint8_t oc_v8_req[] = {
	0x00, 0x00, 0x00, 0x41,                         /* size 65 */
	0x00, 0x08,                                     /* api key 8 */
	0x00, 0x08,                                     /* version 8 */
	0x00, 0x00, 0x00, 0x0e,                         /* correlation 14 */
	0x00, 0x01, 'c',                                /* client id "c" */
	0x00,                                           /* header tags */
	0x03, 'g',  '1',                                /* group id "g1" */
	0x00, 0x00, 0x00, 0x05,                         /* generation 5 */
	0x03, 'm',  '1',                                /* member id "m1" */
	0x00,                                           /* instance null */
	0x02,                                           /* 1 topic: */
	0x02, 't',                                      /*   name "t" */
	0x03,                                           /*   2 partitions: */
	0x00, 0x00, 0x00, 0x00,                         /*     index 0 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /*     offset 100 */
	0x00, 0x00, 0x00, 0x03,                         /*     epoch 3 */
	0x01,                                           /*     metadata "" */
	0x00,                                           /*     tags */
	0x00, 0x00, 0x00, 0x01,                         /*     index 1 */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /*     offset 2^32 */
	0xff, 0xff, 0xff, 0xff,                         /*     epoch -1 */
	0x00,                                           /*     metadata null */
	0x00,                                           /*     tags */
	0x00,                                           /*   topic tags */
	0x00,                                           /* body tags */
};

Test(group, offsetcommit_v8_request_by_hand)
{
	struct kp_seg s = one(oc_v8_req, sizeof(oc_v8_req));
	struct kp_grp_topic t[2];
	struct kp_oc_partition p[4];
	struct kp_offsetcommit_req o = {.topics = {t, 2}, .partitions = {p, 4}};
	struct dctx c = {.what = "OffsetCommit v8 request", .cap = CAP};

	check_size(c.what, oc_v8_req, sizeof(oc_v8_req));
	cr_assert_eq(kp_offsetcommit_req_decode(&s, 1, 0, &o), KP_OK);
	STR_IS(&s, o.group_id, "g1");
	cr_assert_eq(o.generation_id, 5);
	STR_IS(&s, o.member_id, "m1");
	cr_assert_eq(o.group_instance_id.len, -1);
	cr_assert_eq(o.retention_ms, -1, "absent after v4");
	cr_assert_eq(o.topics.total, 1);
	STR_IS(&s, t[0].name, "t");
	cr_assert_eq(t[0].partitions_first, 0);
	cr_assert_eq(t[0].partitions_total, 2);
	cr_assert_eq(o.partitions.total, 2);
	cr_assert_eq(p[0].topic, 0);
	cr_assert_eq(p[0].index, 0);
	cr_assert_eq(p[0].offset, 100);
	cr_assert_eq(p[0].leader_epoch, 3);
	cr_assert_eq(p[0].metadata.len, 0);
	cr_assert_eq(p[1].index, 1);
	cr_assert_eq(p[1].offset, INT64_C(4294967296));
	cr_assert_eq(p[1].leader_epoch, -1);
	cr_assert_eq(p[1].metadata.len, -1);
	fx_check_frame(c.what, oc_v8_req, sizeof(oc_v8_req), d_offsetcommit_req,
		       &c, KP_OK);
}

/* OffsetFetch v8 request, batched: two groups. Flexible, header v2. */
static const uint8_t of_v8_req[] = {
	0x00, 0x00, 0x00, 0x25, /* size 37 */
	0x00, 0x09,             /* api key 9 OffsetFetch */
	0x00, 0x08,             /* version 8 */
	0x00, 0x00, 0x00, 0x0f, /* correlation id 15 */
	0x00, 0x01, 'c',        /* client id "c" */
	0x00,                   /* header tags */
	0x03,                   /* 2 groups: */
	0x03, 'g',  '1',        /*   group id "g1" */
	0x02,                   /*   1 topic: */
	0x02, 't',              /*     name "t" */
	0x03,                   /*     2 partition indexes: */
	0x00, 0x00, 0x00, 0x00, /*       0 */
	0x00, 0x00, 0x00, 0x02, /*       2 */
	0x00,                   /*     topic tags */
	0x00,                   /*   group tags */
	0x03, 'g',  '2',        /*   group id "g2" */
	0x00,                   /*   topics null: all of them */
	0x00,                   /*   group tags */
	0x01,                   /* require stable */
	0x00,                   /* body tags */
};

Test(group, offsetfetch_v8_batched_request_by_hand)
{
	struct kp_seg s = one(of_v8_req, sizeof(of_v8_req));
	struct kp_of_group g[4];
	struct kp_grp_topic t[4];
	struct kp_grp_partition p[4];
	struct kp_offsetfetch_req o = {
		.groups = {g, 4}, .topics = {t, 4}, .partitions = {p, 4}};
	struct dctx c = {.what = "OffsetFetch v8 request", .cap = CAP};

	check_size(c.what, of_v8_req, sizeof(of_v8_req));
	cr_assert_eq(kp_offsetfetch_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.groups.total, 2);
	STR_IS(&s, g[0].group_id, "g1");
	cr_assert_eq(g[0].member_id.len, -1, "v9+ only");
	cr_assert_eq(g[0].member_epoch, -1);
	cr_assert_eq(g[0].all_topics, 0);
	cr_assert_eq(g[0].topics_first, 0);
	cr_assert_eq(g[0].topics_total, 1);
	STR_IS(&s, g[1].group_id, "g2");
	cr_assert_eq(g[1].all_topics, 1);
	cr_assert_eq(g[1].topics_first, 1);
	cr_assert_eq(g[1].topics_total, 0);
	cr_assert_eq(o.topics.total, 1);
	STR_IS(&s, t[0].name, "t");
	cr_assert_eq(t[0].owner, 0);
	cr_assert_eq(t[0].partitions_total, 2);
	cr_assert_eq(o.partitions.total, 2);
	cr_assert_eq(p[0].index, 0);
	cr_assert_eq(p[1].index, 2);
	cr_assert_eq(p[1].topic, 0);
	cr_assert_eq(o.require_stable, 1);
	fx_check_frame(c.what, of_v8_req, sizeof(of_v8_req), d_offsetfetch_req,
		       &c, KP_OK);
}

/* ConsumerGroupHeartbeat v0 request from a member that owns partitions;
 * flexible, header v2. */
static const uint8_t cgh_v0_req[] = {
	0x00, 0x00, 0x00, 0x49,      /* size 73 */
	0x00, 0x44,                  /* api key 68 */
	0x00, 0x00,                  /* version 0 */
	0x00, 0x00, 0x00, 0x10,      /* correlation id 16 */
	0x00, 0x01, 'c',             /* client id "c" */
	0x00,                        /* header tags */
	0x03, 'g',  '1',             /* group id "g1" */
	0x03, 'm',  '1',             /* member id "m1" */
	0x00, 0x00, 0x00, 0x03,      /* member epoch 3 */
	0x00,                        /* instance id null */
	0x03, 'r',  '1',             /* rack id "r1" */
	0x00, 0x04, 0x93, 0xe0,      /* rebalance timeout 300000 */
	0x03,                        /* 2 subscribed topic names: */
	0x03, 't',  '1',             /*   "t1" */
	0x03, 't',  '2',             /*   "t2" */
	0x08, 'u',  'n',  'i',  'f', /* server assignor */
	'o',  'r',  'm',             /*   "uniform" */
	0x02,                        /* 1 owned topic: */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /*   topic id */
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, /*   (16 bytes) */
	0x03,                                           /*   2 partitions: */
	0x00, 0x00, 0x00, 0x00,                         /*     0 */
	0x00, 0x00, 0x00, 0x01,                         /*     1 */
	0x00,                                           /*   topic tags */
	0x00,                                           /* body tags */
};

/* ConsumerGroupHeartbeat v0 response carrying an assignment; header v1. */
static const uint8_t cgh_v0_resp[] = {
	0x00, 0x00, 0x00, 0x4f, /* size 79 */
	0x00, 0x00, 0x00, 0x10, /* correlation id 16 */
	0x00,                   /* header tags */
	0x00, 0x00, 0x00, 0x00, /* throttle 0 */
	0x00, 0x00,             /* error 0 */
	0x00,                   /* error message null */
	0x03, 'm',  '1',        /* member id "m1" */
	0x00, 0x00, 0x00, 0x04, /* member epoch 4 */
	0x00, 0x00, 0x13, 0x88, /* heartbeat interval 5000 */
	0x01,                   /* assignment present: */
	0x03,                   /*   2 topics: */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /*   topic id */
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, /*   (16 bytes) */
	0x04,                                           /*     3 partitions: */
	0x00, 0x00, 0x00, 0x00,                         /*       0 */
	0x00, 0x00, 0x00, 0x01,                         /*       1 */
	0x00, 0x00, 0x00, 0x02,                         /*       2 */
	0x00,                                           /*     topic tags */
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /*   topic id */
	0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, /*   (16 bytes) */
	0x02,                                           /*     1 partition: */
	0x00, 0x00, 0x00, 0x05,                         /*       5 */
	0x00,                                           /*     topic tags */
	0x00,                                           /*   assignment tags */
	0x00,                                           /* body tags */
};

Test(group, consumergroupheartbeat_v0_by_hand)
{
	struct kp_seg s = one(cgh_v0_req, sizeof(cgh_v0_req));
	struct kp_str subs[4];
	struct kp_cgh_topic t[2];
	struct kp_grp_partition p[4];
	struct kp_consumergroupheartbeat_req o = {
		.subscribed_topics = {subs, 4},
		.topics = {t, 2},
		.partitions = {p, 4}};
	struct kp_consumergroupheartbeat_resp r;
	struct dctx c = {.what = "ConsumerGroupHeartbeat v0", .cap = CAP};

	check_size("request", cgh_v0_req, sizeof(cgh_v0_req));
	check_size("response", cgh_v0_resp, sizeof(cgh_v0_resp));
	cr_assert_eq(kp_consumergroupheartbeat_req_decode(&s, 1, 0, &o), KP_OK);
	STR_IS(&s, o.group_id, "g1");
	STR_IS(&s, o.member_id, "m1");
	cr_assert_eq(o.member_epoch, 3);
	cr_assert_eq(o.instance_id.len, -1);
	STR_IS(&s, o.rack_id, "r1");
	cr_assert_eq(o.rebalance_timeout_ms, 300000);
	cr_assert_eq(o.subscribed_null, 0);
	cr_assert_eq(o.subscribed_topics.total, 2);
	STR_IS(&s, subs[0], "t1");
	STR_IS(&s, subs[1], "t2");
	cr_assert_eq(o.subscribed_regex.len, -1, "v1+ only");
	STR_IS(&s, o.server_assignor, "uniform");
	cr_assert_eq(o.topics_null, 0);
	cr_assert_eq(o.topics.total, 1);
	cr_assert_eq(t[0].topic_id[0], 0x01);
	cr_assert_eq(t[0].topic_id[15], 0x10);
	cr_assert_eq(t[0].partitions_total, 2);
	cr_assert_eq(p[1].index, 1);
	cr_assert_eq(p[1].topic, 0);
	fx_check_frame("ConsumerGroupHeartbeat v0 request", cgh_v0_req,
		       sizeof(cgh_v0_req), d_cgh_req, &c, KP_OK);

	s = one(cgh_v0_resp, sizeof(cgh_v0_resp));
	cr_assert_eq(kp_consumergroupheartbeat_resp_decode(&s, 1, 0, 0, &r),
		     KP_OK);
	cr_assert_eq(r.error, 0);
	cr_assert_eq(r.error_message.len, -1);
	STR_IS(&s, r.member_id, "m1");
	cr_assert_eq(r.member_epoch, 4);
	cr_assert_eq(r.heartbeat_interval_ms, 5000);
	cr_assert_eq(r.assignment_present, 1);
	cr_assert_eq(r.assigned_topics, 2);
	cr_assert_eq(r.assigned_partitions, 4);
	fx_check_frame("ConsumerGroupHeartbeat v0 response", cgh_v0_resp,
		       sizeof(cgh_v0_resp), d_cgh_resp, &c, KP_OK);
}

/* InitProducerId v4 request of a transactional producer; header v2. */
static const uint8_t ipi_v4_req[] = {
	0x00, 0x00, 0x00, 0x20,             /* size 32 */
	0x00, 0x16,                         /* api key 22 InitProducerId */
	0x00, 0x04,                         /* version 4 */
	0x00, 0x00, 0x00, 0x11,             /* correlation id 17 */
	0x00, 0x01, 'c',                    /* client id "c" */
	0x00,                               /* header tags */
	0x05, 't',  'x',  '-',  '1',        /* transactional id "tx-1" */
	0x00, 0x00, 0xea, 0x60,             /* transaction timeout 60000 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producer id -1 */
	0xff, 0xff,                         /*   (8 bytes) */
	0xff, 0xff,                         /* producer epoch -1 */
	0x00,                               /* body tags */
};

Test(group, initproducerid_v4_transactional_by_hand)
{
	struct kp_seg s = one(ipi_v4_req, sizeof(ipi_v4_req));
	struct kp_initproducerid_req o;
	struct dctx c = {.what = "InitProducerId v4 request"};

	check_size(c.what, ipi_v4_req, sizeof(ipi_v4_req));
	cr_assert_eq(kp_initproducerid_req_decode(&s, 1, 0, &o), KP_OK);
	STR_IS(&s, o.transactional_id, "tx-1");
	cr_assert_eq(o.txn_timeout_ms, 60000);
	cr_assert_eq(o.producer_id, -1);
	cr_assert_eq(o.producer_epoch, -1);
	cr_assert_eq(kp_initproducerid_is_txn(&o), 1);
	/* The key alone does not say: the caller decides with the request. */
	cr_assert_eq(kp_api_class(KP_API_INIT_PRODUCER_ID), KP_API_CLASS_OTHER);
	fx_check_frame(c.what, ipi_v4_req, sizeof(ipi_v4_req),
		       d_initproducerid_req, &c, KP_OK);
}

/* AddPartitionsToTxn v4 request, batched: two transactions; header v2. */
static const uint8_t apt_v4_req[] = {
	0x00, 0x00, 0x00, 0x34,                         /* size 52 */
	0x00, 0x18,                                     /* api key 24 */
	0x00, 0x04,                                     /* version 4 */
	0x00, 0x00, 0x00, 0x12,                         /* correlation 18 */
	0x00, 0x01, 'c',                                /* client id "c" */
	0x00,                                           /* header tags */
	0x03,                                           /* 2 transactions: */
	0x02, 'a',                                      /*   id "a" */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /*   producer id 7 */
	0x00, 0x01,                                     /*   epoch 1 */
	0x01,                                           /*   verify only */
	0x02,                                           /*   1 topic: */
	0x02, 't',                                      /*     name "t" */
	0x02, 0x00, 0x00, 0x00, 0x03,                   /*     [3] */
	0x00,                                           /*     topic tags */
	0x00,                                           /*   txn tags */
	0x02, 'b',                                      /*   id "b" */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, /*   producer id 8 */
	0x00, 0x00,                                     /*   epoch 0 */
	0x00,                                           /*   verify only no */
	0x01,                                           /*   0 topics */
	0x00,                                           /*   txn tags */
	0x00,                                           /* body tags */
};

Test(group, addpartitionstotxn_v4_batched_by_hand)
{
	struct kp_seg s = one(apt_v4_req, sizeof(apt_v4_req));
	struct kp_apt_txn x[2];
	struct kp_grp_topic t[2];
	struct kp_grp_partition p[2];
	struct kp_addpartitionstotxn_req o = {
		.txns = {x, 2}, .topics = {t, 2}, .partitions = {p, 2}};
	struct dctx c = {.what = "AddPartitionsToTxn v4 request", .cap = CAP};

	check_size(c.what, apt_v4_req, sizeof(apt_v4_req));
	cr_assert_eq(kp_addpartitionstotxn_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.txns.total, 2);
	STR_IS(&s, x[0].transactional_id, "a");
	cr_assert_eq(x[0].producer_id, 7);
	cr_assert_eq(x[0].producer_epoch, 1);
	cr_assert_eq(x[0].verify_only, 1);
	cr_assert_eq(x[0].topics_total, 1);
	STR_IS(&s, x[1].transactional_id, "b");
	cr_assert_eq(x[1].producer_id, 8);
	cr_assert_eq(x[1].topics_first, 1);
	cr_assert_eq(x[1].topics_total, 0);
	STR_IS(&s, t[0].name, "t");
	cr_assert_eq(t[0].owner, 0);
	cr_assert_eq(o.partitions.total, 1);
	cr_assert_eq(p[0].index, 3);
	fx_check_frame(c.what, apt_v4_req, sizeof(apt_v4_req), d_apt_req, &c,
		       KP_OK);
}

/* SaslHandshake v1 request and response; headers v1 and v0. */
static const uint8_t sh_v1_req[] = {
	0x00, 0x00, 0x00, 0x1a,           /* size 26 */
	0x00, 0x11,                       /* api key 17 SaslHandshake */
	0x00, 0x01,                       /* version 1 */
	0x00, 0x00, 0x00, 0x02,           /* correlation id 2 */
	0x00, 0x01, 'c',                  /* client id "c" */
	0x00, 0x0d, 'S',  'C',  'R', 'A', /* mechanism */
	'M',  '-',  'S',  'H',  'A', '-', /*   "SCRAM-SHA-512" */
	'5',  '1',  '2',
};

static const uint8_t sh_v1_resp[] = {
	0x00, 0x00, 0x00, 0x20,           /* size 32 */
	0x00, 0x00, 0x00, 0x02,           /* correlation id 2 */
	0x00, 0x00,                       /* error 0 */
	0x00, 0x00, 0x00, 0x02,           /* 2 mechanisms: */
	0x00, 0x05, 'P',  'L',  'A', 'I', /*   "PLAIN" */
	'N',                              /* */
	0x00, 0x0d, 'S',  'C',  'R', 'A', /*   "SCRAM-SHA-512" */
	'M',  '-',  'S',  'H',  'A', '-', /* */
	'5',  '1',  '2',
};

Test(group, saslhandshake_v1_by_hand)
{
	struct kp_seg s = one(sh_v1_req, sizeof(sh_v1_req));
	struct kp_saslhandshake_req o;
	struct kp_str mech[1];
	struct kp_saslhandshake_resp r = {.mechanisms = {mech, 1}};
	struct dctx c = {.what = "SaslHandshake v1", .version = 1, .cap = CAP};

	check_size("request", sh_v1_req, sizeof(sh_v1_req));
	check_size("response", sh_v1_resp, sizeof(sh_v1_resp));
	cr_assert_eq(kp_saslhandshake_req_decode(&s, 1, 0, &o), KP_OK);
	STR_IS(&s, o.mechanism, "SCRAM-SHA-512");
	fx_check_frame("SaslHandshake v1 request", sh_v1_req, sizeof(sh_v1_req),
		       d_saslhandshake_req, &c, KP_OK);

	/* Storage for one mechanism: the second is only counted. */
	s = one(sh_v1_resp, sizeof(sh_v1_resp));
	cr_assert_eq(kp_saslhandshake_resp_decode(&s, 1, 0, 1, &r), KP_OK);
	cr_assert_eq(r.error, 0);
	cr_assert_eq(r.mechanisms.total, 2);
	cr_assert_eq(r.mechanisms.n, 1);
	STR_IS(&s, mech[0], "PLAIN");
	fx_check_frame("SaslHandshake v1 response", sh_v1_resp,
		       sizeof(sh_v1_resp), d_saslhandshake_resp, &c, KP_OK);
}

/* SaslAuthenticate v2 request carrying a PLAIN token; header v2. */
static const uint8_t sa_v2_req[] = {
	0x00, 0x00, 0x00, 0x1b,           /* size 27 */
	0x00, 0x24,                       /* api key 36 SaslAuthenticate */
	0x00, 0x02,                       /* version 2 */
	0x00, 0x00, 0x00, 0x03,           /* correlation id 3 */
	0x00, 0x01, 'c',                  /* client id "c" */
	0x00,                             /* header tags */
	0x0e,                             /* auth bytes, 13: */
	0x00, 'u',  's',  'e',  'r',      /*   \0 "user" */
	0x00, 's',  '3',  'c',  'r', '3', /*   \0 "s3cr3t!" */
	't',  '!',                        /* */
	0x00,                             /* body tags */
};
#define SA_SECRET_AT  17 /* the auth bytes' offset in sa_v2_req */
#define SA_SECRET_LEN 13

/* SaslAuthenticate v2 response refusing it; header v1. */
static const uint8_t sa_v2_resp[] = {
	0x00, 0x00, 0x00, 0x1c,             /* size 28 */
	0x00, 0x00, 0x00, 0x03,             /* correlation id 3 */
	0x00,                               /* header tags */
	0x00, 0x3a,                         /* error 58 */
	0x0b, 'b',  'a',  'd',  ' ',  'u',  /* message, 10: */
	's',  'e',  'r',  ' ',  'x',        /*   "bad user x" */
	0x01,                               /* auth bytes, empty */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* session lifetime 0 */
	0x00, 0x00,                         /*   (8 bytes) */
	0x00,                               /* body tags */
};
#define SA_MESSAGE_AT  12
#define SA_MESSAGE_LEN 10

/* Pointer-sized words, at every byte offset of obj, that point into
 * [lo, lo + len). */
static unsigned pointers_into(const void *obj, size_t size, const uint8_t *lo,
			      size_t len)
{
	const unsigned char *b = obj;
	uintptr_t a = (uintptr_t)lo, z = (uintptr_t)(lo + len);
	unsigned n = 0;

	for (size_t off = 0; off + sizeof(uintptr_t) <= size; off++) {
		uintptr_t p;

		memcpy(&p, b + off, sizeof(p));
		n += p >= a && p < z;
	}
	return n;
}

Test(group, saslauthenticate_v2_never_exposes_the_auth_bytes)
{
	const uint8_t *secret = sa_v2_req + SA_SECRET_AT;
	struct kp_saslauthenticate_req o;
	struct kp_saslauthenticate_resp r;
	struct dctx c = {.what = "SaslAuthenticate v2", .version = 2};
	struct kp_str control = {.ptr = secret + 2, .len = 3};

	check_size("request", sa_v2_req, sizeof(sa_v2_req));
	check_size("response", sa_v2_resp, sizeof(sa_v2_resp));
	cr_assert_eq(secret[0], 0x00);
	cr_assert_eq(secret[6], 's');
	/* The scan finds a view when there is one. */
	cr_assert_eq(
		pointers_into(&control, sizeof(control), secret, SA_SECRET_LEN),
		1);
	/* Whole, and split at every offset (views could point into either
	 * segment). */
	for (size_t split = 0; split <= sizeof(sa_v2_req); split++) {
		struct kp_seg segs[2] = {
			{sa_v2_req, split},
			{sa_v2_req + split, sizeof(sa_v2_req) - split}};

		memset(&o, 0xa5, sizeof(o));
		cr_assert_eq(kp_saslauthenticate_req_decode(segs, 2, 0, &o),
			     KP_OK);
		cr_assert_eq(o.auth_len, SA_SECRET_LEN);
		cr_assert_eq(o.hdr.api_key, KP_API_SASL_AUTHENTICATE);
		cr_assert_eq(
			pointers_into(&o, sizeof(o), secret, SA_SECRET_LEN), 0,
			"split %zu: a field points into the secret", split);
		cr_assert_null(memmem(&o, sizeof(o), "s3cr3t", 6));
	}
	fx_check_frame("SaslAuthenticate v2 request", sa_v2_req,
		       sizeof(sa_v2_req), d_saslauthenticate_req, &c, KP_OK);

	/* The response keeps the message's presence and length only. */
	for (size_t split = 0; split <= sizeof(sa_v2_resp); split++) {
		struct kp_seg segs[2] = {
			{sa_v2_resp, split},
			{sa_v2_resp + split, sizeof(sa_v2_resp) - split}};

		cr_assert_eq(kp_saslauthenticate_resp_decode(segs, 2, 0, 2, &r),
			     KP_OK);
		cr_assert_eq(r.error, 58);
		cr_assert_str_eq(kp_error_name(r.error),
				 "SASL_AUTHENTICATION_FAILED");
		cr_assert_eq(r.error_message_len, SA_MESSAGE_LEN);
		cr_assert_eq(r.auth_len, 0);
		cr_assert_eq(r.session_lifetime_ms, 0);
		cr_assert_eq(pointers_into(&r, sizeof(r),
					   sa_v2_resp + SA_MESSAGE_AT,
					   SA_MESSAGE_LEN),
			     0);
	}
	fx_check_frame("SaslAuthenticate v2 response", sa_v2_resp,
		       sizeof(sa_v2_resp), d_saslauthenticate_resp, &c, KP_OK);
}

/* PushTelemetry v0 request; header v2. */
static const uint8_t pt_v0_req[] = {
	0x00, 0x00, 0x00, 0x29,                         /* size 41 */
	0x00, 0x48,                                     /* api key 72 */
	0x00, 0x00,                                     /* version 0 */
	0x00, 0x00, 0x00, 0x13,                         /* correlation 19 */
	0x00, 0x01, 'c',                                /* client id "c" */
	0x00,                                           /* header tags */
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, /* client instance */
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, /*   id (uuid) */
	0x00, 0x00, 0x00, 0x2a,                         /* subscription 42 */
	0x01,                                           /* terminating */
	0x04,                                           /* compression zstd */
	0x06, 0x28, 0xb5, 0x2f, 0xfd, 0x00,             /* metrics, 5 bytes */
	0x00,                                           /* body tags */
};

Test(group, pushtelemetry_v0_by_hand)
{
	struct kp_seg s = one(pt_v0_req, sizeof(pt_v0_req));
	struct kp_pushtelemetry_req o;
	struct dctx c = {.what = "PushTelemetry v0 request"};

	check_size(c.what, pt_v0_req, sizeof(pt_v0_req));
	cr_assert_eq(kp_pushtelemetry_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.client_instance_id[0], 0xa0);
	cr_assert_eq(o.client_instance_id[15], 0xaf);
	cr_assert_eq(o.subscription_id, 42);
	cr_assert_eq(o.terminating, 1);
	cr_assert_eq(o.compression_type, 4);
	cr_assert_eq(o.metrics_len, 5);
	fx_check_frame(c.what, pt_v0_req, sizeof(pt_v0_req), d_pt_req, &c,
		       KP_OK);
}

/* ---- short storage ---- */

Test(group, storage_smaller_than_the_frame)
{
	struct kp_seg s = one(oc_v8_req, sizeof(oc_v8_req));
	struct kp_grp_topic t[1];
	struct kp_oc_partition p[1];
	struct kp_offsetcommit_req o = {.topics = {t, 0}, .partitions = {p, 1}};
	struct dctx c = {.what = "OffsetCommit v8, 1 partition slot", .cap = 1};
	struct synth_opts so = {.array_len = 5, .str_len = 2};
	size_t len;

	cr_assert_eq(kp_offsetcommit_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.topics.n, 0);
	cr_assert_eq(o.topics.total, 1);
	cr_assert_eq(o.partitions.n, 1);
	cr_assert_eq(o.partitions.total, 2);
	cr_assert_eq(p[0].offset, 100, "the first partition is the stored one");
	cr_assert_eq(p[0].topic, 0, "linked though the topic is not stored");
	fx_check_frame(c.what, oc_v8_req, sizeof(oc_v8_req), d_offsetcommit_req,
		       &c, KP_OK);

	/* Every vec of every decoder with one slot, then none. */
	for (uint32_t cap = 0; cap < 2; cap++) {
		c.cap = cap;
		for (size_t i = 0; i < NCASES; i++) {
			const struct kp_api *a = kp_api_get(cases[i].key);
			uint64_t d;

			c.version = a->vmax;
			c.shape = &so;
			c.flexible = 1;
			c.what = a->name;
			len = synth_req_frame(cases[i].key, a->vmax, 1, "x",
					      &so, frame, sizeof(frame));
			s = one(frame, len);
			cr_assert_eq(cases[i].req(&s, 1, &c, &d), KP_OK, "%s",
				     a->name);
			len = synth_resp_frame(cases[i].key, a->vmax, 1, &so,
					       frame, sizeof(frame));
			s = one(frame, len);
			cr_assert_eq(cases[i].resp(&s, 1, &c, &d), KP_OK, "%s",
				     a->name);
		}
	}
}

/* ---- hostile frames ---- */

/* Heartbeat v0 request: the base of the hostile variants below. */
static const uint8_t hb_v0_req[] = {
	0x00, 0x00, 0x00, 0x17, /* size 23 */
	0x00, 0x0c,             /* api key 12 Heartbeat */
	0x00, 0x00,             /* version 0 */
	0x00, 0x00, 0x00, 0x01, /* correlation id 1 */
	0x00, 0x01, 'c',        /* client id "c" */
	0x00, 0x02, 'g',  '1',  /* group id "g1" */
	0x00, 0x00, 0x00, 0x01, /* generation 1 */
	0x00, 0x02, 'm',  '1',  /* member id "m1" */
};
#define HB_GROUP_LEN 15 /* offset of the group id's length */
#define HB_VERSION   6

/* A status from every whole or split presentation of a frame. */
static void expect_status(const char *what, const uint8_t *b, size_t len,
			  fx_decode_fn fn, void *ctx, int want)
{
	for (size_t split = 0; split <= len; split++) {
		struct kp_seg segs[2] = {{b, split}, {b + split, len - split}};
		uint64_t d;
		int rc = fn(segs, 2, ctx, &d);

		cr_assert_eq(rc, want, "%s: split %zu gave %s, want %s", what,
			     split, kp_status_str(rc), kp_status_str(want));
	}
}

Test(group, hostile_string_lengths)
{
	uint8_t bad[sizeof(hb_v0_req)];
	struct dctx c = {.what = "Heartbeat v0"};

	check_size(c.what, hb_v0_req, sizeof(hb_v0_req));
	fx_check_frame("Heartbeat v0", hb_v0_req, sizeof(hb_v0_req),
		       d_heartbeat_req, &c, KP_OK);
	/* Length -2: below null. */
	memcpy(bad, hb_v0_req, sizeof(bad));
	bad[HB_GROUP_LEN] = 0xff;
	bad[HB_GROUP_LEN + 1] = 0xfe;
	fx_check_frame("group id length -2", bad, sizeof(bad), d_heartbeat_req,
		       &c, KP_ERR_MALFORMED);
	/* Null where the group id cannot be null. */
	bad[HB_GROUP_LEN + 1] = 0xff;
	fx_check_frame("group id null", bad, sizeof(bad), d_heartbeat_req, &c,
		       KP_ERR_MALFORMED);
	/* 32767: far past the frame's end. */
	bad[HB_GROUP_LEN] = 0x7f;
	fx_check_frame("group id length 32767", bad, sizeof(bad),
		       d_heartbeat_req, &c, KP_ERR_MALFORMED);
	/* One byte more than the frame has left. */
	bad[HB_GROUP_LEN] = 0x00;
	bad[HB_GROUP_LEN + 1] = 0x0b;
	fx_check_frame("group id 1 byte too long", bad, sizeof(bad),
		       d_heartbeat_req, &c, KP_ERR_MALFORMED);
}

/* JoinGroup v0 request with the protocols count at the end. */
static const uint8_t jg_v0_count[] = {
	0x00, 0x00, 0x00, 0x19, /* size 25 */
	0x00, 0x0b, 0x00, 0x00, /* JoinGroup v0 */
	0x00, 0x00, 0x00, 0x01, /* correlation id 1 */
	0x00, 0x01, 'c',        /* client id "c" */
	0x00, 0x00,             /* group id "" */
	0x00, 0x00, 0x27, 0x10, /* session timeout 10000 */
	0x00, 0x00,             /* member id "" */
	0x00, 0x00,             /* protocol type "" */
	0x00, 0x00, 0x00, 0x00, /* protocols count: patched */
};

Test(group, hostile_array_counts)
{
	uint8_t bad[sizeof(jg_v0_count)];
	struct dctx c = {.what = "JoinGroup v0", .cap = CAP};
	static const struct {
		uint8_t count[4];
		int want;
		const char *what;
	} counts[] = {
		{{0x00, 0x00, 0x00, 0x00}, KP_OK, "count 0"},
		{{0xff, 0xff, 0xff, 0xff}, KP_ERR_MALFORMED, "count -1 (null)"},
		{{0xff, 0xff, 0xff, 0xfe}, KP_ERR_MALFORMED, "count -2"},
		{{0x80, 0x00, 0x00, 0x00}, KP_ERR_MALFORMED, "count INT32_MIN"},
		{{0x7f, 0xff, 0xff, 0xff}, KP_ERR_MALFORMED, "count INT32_MAX"},
		{{0x00, 0x00, 0x00, 0x01}, KP_ERR_MALFORMED, "count 1, none"},
	};

	check_size(c.what, jg_v0_count, sizeof(jg_v0_count));
	for (size_t i = 0; i < sizeof(counts) / sizeof(*counts); i++) {
		memcpy(bad, jg_v0_count, sizeof(bad));
		memcpy(bad + sizeof(bad) - 4, counts[i].count, 4);
		fx_check_frame(counts[i].what, bad, sizeof(bad),
			       d_joingroup_req, &c, counts[i].want);
	}
}

/* SaslAuthenticate v0 request: int32 bytes length, patched. */
static const uint8_t sa_v0_req[] = {
	0x00, 0x00, 0x00, 0x11, /* size 17 */
	0x00, 0x24, 0x00, 0x00, /* SaslAuthenticate v0 */
	0x00, 0x00, 0x00, 0x01, /* correlation id 1 */
	0x00, 0x01, 'c',        /* client id "c" */
	0x00, 0x00, 0x00, 0x02, /* auth bytes, 2: patched */
	0x00, 0x00,             /*   the bytes */
};

Test(group, hostile_bytes_lengths)
{
	uint8_t bad[sizeof(sa_v0_req)];
	struct dctx c = {.what = "SaslAuthenticate v0"};
	static const struct {
		uint8_t len[4];
		int want;
		const char *what;
	} lens[] = {
		{{0x00, 0x00, 0x00, 0x02}, KP_OK, "length 2"},
		{{0x00, 0x00, 0x00, 0x01}, KP_TRAILING, "length 1 (1 left)"},
		{{0xff, 0xff, 0xff, 0xff}, KP_ERR_MALFORMED, "null"},
		{{0xff, 0xff, 0xff, 0xfe}, KP_ERR_MALFORMED, "length -2"},
		{{0x80, 0x00, 0x00, 0x00}, KP_ERR_MALFORMED, "INT32_MIN"},
		{{0x7f, 0xff, 0xff, 0xff}, KP_ERR_MALFORMED, "INT32_MAX"},
		{{0x00, 0x00, 0x00, 0x03}, KP_ERR_MALFORMED, "length 3"},
	};

	check_size(c.what, sa_v0_req, sizeof(sa_v0_req));
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		memcpy(bad, sa_v0_req, sizeof(bad));
		memcpy(bad + 15, lens[i].len, 4);
		fx_check_frame(lens[i].what, bad, sizeof(bad),
			       d_saslauthenticate_req, &c, lens[i].want);
	}
}

/* Flexible encodings: varint lengths and counts, and tagged sections. */
Test(group, hostile_varints_and_tags)
{
	struct dctx c = {.what = "flexible", .cap = CAP};
	/* SaslAuthenticate v2, auth bytes length as a 6-byte varint. */
	static const uint8_t long_varint[] = {
		0x00, 0x00, 0x00, 0x12,             /* size 18 */
		0x00, 0x24, 0x00, 0x02,             /* SaslAuthenticate v2 */
		0x00, 0x00, 0x00, 0x01,             /* correlation id 1 */
		0x00, 0x01, 'c',                    /* client id "c" */
		0x00,                               /* header tags */
		0x80, 0x80, 0x80, 0x80, 0x80, 0x01, /* 6-byte varint */
	};
	/* ... and as the largest 5-byte one (length 2^32 - 2). */
	static const uint8_t huge_varint[] = {
		0x00, 0x00, 0x00, 0x11,       /* size 17 */
		0x00, 0x24, 0x00, 0x02,       /* SaslAuthenticate v2 */
		0x00, 0x00, 0x00, 0x01,       /* correlation id 1 */
		0x00, 0x01, 'c',              /* client id "c" */
		0x00,                         /* header tags */
		0xff, 0xff, 0xff, 0xff, 0x0f, /* uvarint 2^32 - 1 */
	};
	/* ConsumerGroupHeartbeat v0, subscribed names count 2^31. */
	static const uint8_t huge_count[] = {
		0x00, 0x00, 0x00, 0x1d,       /* size 29 */
		0x00, 0x44, 0x00, 0x00,       /* ConsumerGroupHeartbeat v0 */
		0x00, 0x00, 0x00, 0x01,       /* correlation id 1 */
		0x00, 0x01, 'c',              /* client id "c" */
		0x00,                         /* header tags */
		0x01,                         /* group id "" */
		0x01,                         /* member id "" */
		0x00, 0x00, 0x00, 0x00,       /* member epoch 0 */
		0x00,                         /* instance id null */
		0x00,                         /* rack id null */
		0xff, 0xff, 0xff, 0xff,       /* rebalance timeout -1 */
		0x81, 0x80, 0x80, 0x80, 0x08, /* count 2^31 */
	};
	/* Heartbeat v4 whose tagged field claims 16 bytes, has 2. */
	static const uint8_t short_tag[] = {
		0x00, 0x00, 0x00, 0x1e, /* size 30 */
		0x00, 0x0c, 0x00, 0x04, /* Heartbeat v4 */
		0x00, 0x00, 0x00, 0x0b, /* correlation id 11 */
		0x00, 0x01, 'c',        /* client id "c" */
		0x00,                   /* header tags */
		0x03, 'g',  '1',        /* group id "g1" */
		0x00, 0x00, 0x00, 0x07, /* generation 7 */
		0x03, 'm',  '1',        /* member id "m1" */
		0x03, 'i',  '1',        /* instance id "i1" */
		0x01,                   /* 1 tagged field: */
		0x05, 0x10, 0xbe, 0xef, /*   tag 5, "16" bytes */
	};
	/* ... and a tag count of 127 with nothing after it. */
	static const uint8_t many_tags[] = {
		0x00, 0x00, 0x00, 0x1a, /* size 26 */
		0x00, 0x0c, 0x00, 0x04, /* Heartbeat v4 */
		0x00, 0x00, 0x00, 0x0b, /* correlation id 11 */
		0x00, 0x01, 'c',        /* client id "c" */
		0x00,                   /* header tags */
		0x03, 'g',  '1',        /* group id "g1" */
		0x00, 0x00, 0x00, 0x07, /* generation 7 */
		0x03, 'm',  '1',        /* member id "m1" */
		0x03, 'i',  '1',        /* instance id "i1" */
		0x7f,                   /* 127 tagged fields */
	};
	/* ... and a header tagged section cut short. */
	static const uint8_t short_hdr_tag[] = {
		0x00, 0x00, 0x00, 0x0e, /* size 14 */
		0x00, 0x0c, 0x00, 0x04, /* Heartbeat v4 */
		0x00, 0x00, 0x00, 0x0b, /* correlation id 11 */
		0x00, 0x01, 'c',        /* client id "c" */
		0x01,                   /* 1 header tag: */
		0x00, 0x05,             /*   tag 0, 5 bytes (none) */
	};
	/* ConsumerGroupHeartbeat v0 response, assignment presence 2: read
	 * as present, as Kafka's readers do, so the assignment's fields run
	 * into the body's tag byte and off the end. */
	static const uint8_t bad_presence[] = {
		0x00, 0x00, 0x00, 0x17, /* size 23 */
		0x00, 0x00, 0x00, 0x10, /* correlation id 16 */
		0x00,                   /* header tags */
		0x00, 0x00, 0x00, 0x00, /* throttle 0 */
		0x00, 0x00,             /* error 0 */
		0x00,                   /* error message null */
		0x00,                   /* member id null */
		0x00, 0x00, 0x00, 0x04, /* member epoch 4 */
		0x00, 0x00, 0x13, 0x88, /* heartbeat interval 5000 */
		0x02,                   /* assignment presence: >= 0 */
		0x00,                   /* body tags */
	};

	check_size("long varint", long_varint, sizeof(long_varint));
	check_size("huge varint", huge_varint, sizeof(huge_varint));
	check_size("huge count", huge_count, sizeof(huge_count));
	check_size("short tag", short_tag, sizeof(short_tag));
	check_size("many tags", many_tags, sizeof(many_tags));
	check_size("short header tag", short_hdr_tag, sizeof(short_hdr_tag));
	check_size("bad presence", bad_presence, sizeof(bad_presence));
	fx_check_frame("6-byte varint", long_varint, sizeof(long_varint),
		       d_saslauthenticate_req, &c, KP_ERR_MALFORMED);
	fx_check_frame("varint length 2^32-2", huge_varint, sizeof(huge_varint),
		       d_saslauthenticate_req, &c, KP_ERR_MALFORMED);
	fx_check_frame("compact count 2^31", huge_count, sizeof(huge_count),
		       d_cgh_req, &c, KP_ERR_MALFORMED);
	fx_check_frame("tagged field past the end", short_tag,
		       sizeof(short_tag), d_heartbeat_req, &c,
		       KP_ERR_MALFORMED);
	fx_check_frame("127 tagged fields", many_tags, sizeof(many_tags),
		       d_heartbeat_req, &c, KP_ERR_MALFORMED);
	fx_check_frame("header tag past the end", short_hdr_tag,
		       sizeof(short_hdr_tag), d_heartbeat_req, &c,
		       KP_ERR_MALFORMED);
	c.version = 0;
	fx_check_frame("assignment presence 2", bad_presence,
		       sizeof(bad_presence), d_cgh_resp, &c, KP_ERR_MALFORMED);
	/* The same response with presence -1 is a null assignment. */
	{
		uint8_t ok[sizeof(bad_presence)];
		struct kp_seg s = one(ok, sizeof(ok));
		struct kp_consumergroupheartbeat_resp r;

		memcpy(ok, bad_presence, sizeof(ok));
		ok[sizeof(ok) - 2] = 0xff;
		cr_assert_eq(
			kp_consumergroupheartbeat_resp_decode(&s, 1, 0, 0, &r),
			KP_OK);
		cr_assert_eq(r.assignment_present, 0);
		cr_assert_eq(r.member_id.len, -1);
		fx_check_frame("assignment null", ok, sizeof(ok), d_cgh_resp,
			       &c, KP_OK);
	}
}

Test(group, hostile_versions_keys_and_sizes)
{
	uint8_t bad[sizeof(hb_v0_req) + 1];
	struct dctx c = {.what = "Heartbeat"};
	struct kp_joingroup_req jg = {0};
	struct kp_heartbeat_resp hr;
	struct kp_seg s;

	/* A version the API does not have: request and response. */
	memcpy(bad, hb_v0_req, sizeof(hb_v0_req));
	bad[HB_VERSION + 1] = 5;
	fx_check_frame("Heartbeat v5", bad, sizeof(hb_v0_req), d_heartbeat_req,
		       &c, KP_ERR_UNSUPPORTED_VERSION);
	bad[HB_VERSION] = 0xff;
	bad[HB_VERSION + 1] = 0xff;
	fx_check_frame("Heartbeat v-1", bad, sizeof(hb_v0_req), d_heartbeat_req,
		       &c, KP_ERR_UNSUPPORTED_VERSION);
	s = one(hb_v4_resp, sizeof(hb_v4_resp));
	cr_assert_eq(kp_heartbeat_resp_decode(&s, 1, 0, 5, &hr),
		     KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(kp_heartbeat_resp_decode(&s, 1, 0, -1, &hr),
		     KP_ERR_UNSUPPORTED_VERSION);
	c.version = 5;
	fx_check_frame("Heartbeat response as v5", hb_v4_resp,
		       sizeof(hb_v4_resp), d_heartbeat_resp, &c,
		       KP_ERR_UNSUPPORTED_VERSION);

	/* Another API's frame: said once the header is in, with the header
	 * filled in. */
	s = one(hb_v0_req, sizeof(hb_v0_req));
	cr_assert_eq(kp_joingroup_req_decode(&s, 1, 0, &jg),
		     KP_ERR_UNKNOWN_API);
	cr_assert_eq(jg.hdr.api_key, KP_API_HEARTBEAT);
	cr_assert_eq(jg.hdr.corr_id, 1);
	expect_status("Heartbeat as JoinGroup", hb_v0_req, sizeof(hb_v0_req),
		      d_joingroup_req, &c, KP_ERR_UNKNOWN_API);
	/* A key no API has. */
	memcpy(bad, hb_v0_req, sizeof(hb_v0_req));
	bad[4] = 0x7f;
	fx_check_frame("key 0x7f0c", bad, sizeof(hb_v0_req), d_heartbeat_req,
		       &c, KP_ERR_UNKNOWN_API);

	/* Sizes: negative, above the limit, above a caller's limit. */
	memcpy(bad, hb_v0_req, sizeof(hb_v0_req));
	bad[0] = 0x80;
	expect_status("size INT32_MIN", bad, sizeof(hb_v0_req), d_heartbeat_req,
		      &c, KP_ERR_MALFORMED);
	bad[0] = 0x7f;
	expect_status("size 2^31 - 1 + ...", bad, sizeof(hb_v0_req),
		      d_heartbeat_req, &c, KP_ERR_TOO_LARGE);
	s = one(hb_v0_req, sizeof(hb_v0_req));
	{
		struct kp_heartbeat_req o;

		cr_assert_eq(kp_heartbeat_req_decode(&s, 1, 22, &o),
			     KP_ERR_TOO_LARGE);
		cr_assert_eq(kp_heartbeat_req_decode(&s, 1, 23, &o), KP_OK);
	}

	/* A byte after the body, inside the frame: decoded, reported. */
	memcpy(bad, hb_v0_req, sizeof(hb_v0_req));
	bad[3]++;
	bad[sizeof(hb_v0_req)] = 0x00;
	fx_check_frame("trailing byte", bad, sizeof(bad), d_heartbeat_req, &c,
		       KP_TRAILING);
	{
		struct kp_heartbeat_req o;

		s = one(bad, sizeof(bad));
		cr_assert_eq(kp_heartbeat_req_decode(&s, 1, 0, &o),
			     KP_TRAILING);
		cr_assert_eq(o.stats.trailing, 1);
		STR_IS(&s, o.member_id, "m1");
	}
}

/* Random damage to every hand fixture: any status, no crash; the sanitizer
 * build turns a bad read into a failure. */
Test(group, damaged_fixtures_do_not_crash)
{
	static const struct {
		const uint8_t *b;
		size_t len;
		fx_decode_fn fn;
		int16_t version;
	} fx[] = {
		{jg_v0_req, sizeof(jg_v0_req), d_joingroup_req, 0},
		{jg_v5_resp, sizeof(jg_v5_resp), d_joingroup_resp, 5},
		{sg_v3_req, sizeof(sg_v3_req), d_syncgroup_req, 3},
		{hb_v4_req, sizeof(hb_v4_req), d_heartbeat_req, 4},
		{lg_v3_req, sizeof(lg_v3_req), d_leavegroup_req, 3},
		{oc_v8_req, sizeof(oc_v8_req), d_offsetcommit_req, 8},
		{of_v8_req, sizeof(of_v8_req), d_offsetfetch_req, 8},
		{cgh_v0_req, sizeof(cgh_v0_req), d_cgh_req, 0},
		{cgh_v0_resp, sizeof(cgh_v0_resp), d_cgh_resp, 0},
		{ipi_v4_req, sizeof(ipi_v4_req), d_initproducerid_req, 4},
		{apt_v4_req, sizeof(apt_v4_req), d_apt_req, 4},
		{sh_v1_resp, sizeof(sh_v1_resp), d_saslhandshake_resp, 1},
		{sa_v2_req, sizeof(sa_v2_req), d_saslauthenticate_req, 2},
		{pt_v0_req, sizeof(pt_v0_req), d_pt_req, 0},
	};
	uint8_t buf[128];
	uint32_t rnd = 12345;

	for (size_t i = 0; i < sizeof(fx) / sizeof(*fx); i++) {
		struct dctx c = {
			.what = "damaged", .version = fx[i].version, .cap = 2};

		cr_assert_leq(fx[i].len, sizeof(buf));
		/* Every byte of the body set to each of a few values. */
		for (size_t at = 4; at < fx[i].len; at++) {
			static const uint8_t vals[] = {0x00, 0x01, 0x7f,
						       0x80, 0xfe, 0xff};

			for (size_t k = 0; k < sizeof(vals); k++) {
				struct kp_seg s = one(buf, fx[i].len);
				uint64_t d;
				int rc;

				memcpy(buf, fx[i].b, fx[i].len);
				buf[at] = vals[k];
				rc = fx[i].fn(&s, 1, &c, &d);
				cr_assert(rc >= KP_ERR_NOSPACE &&
						  rc <= KP_TRAILING,
					  "status %d", rc);
			}
		}
		/* And a thousand random two-byte hits. */
		for (int n = 0; n < 1000; n++) {
			struct kp_seg s = one(buf, fx[i].len);
			uint64_t d;

			memcpy(buf, fx[i].b, fx[i].len);
			for (int h = 0; h < 2; h++) {
				rnd = rnd * 1103515245 + 12345;
				buf[4 + (rnd >> 8) % (fx[i].len - 4)] =
					(uint8_t)(rnd >> 16);
			}
			(void)fx[i].fn(&s, 1, &c, &d);
		}
	}
}

/* ---- API roles ---- */

Test(group, api_classes)
{
	static const int16_t group[] = {KP_API_JOIN_GROUP,
					KP_API_SYNC_GROUP,
					KP_API_HEARTBEAT,
					KP_API_LEAVE_GROUP,
					KP_API_OFFSET_COMMIT,
					KP_API_OFFSET_FETCH,
					KP_API_CONSUMER_GROUP_HEARTBEAT,
					KP_API_SHARE_GROUP_HEARTBEAT};
	static const int16_t txn[] = {KP_API_ADD_PARTITIONS_TO_TXN,
				      KP_API_ADD_OFFSETS_TO_TXN, KP_API_END_TXN,
				      KP_API_TXN_OFFSET_COMMIT};
	unsigned ngroup = 0, ntxn = 0;

	for (size_t i = 0; i < sizeof(group) / sizeof(*group); i++)
		cr_assert_eq(kp_api_class(group[i]), KP_API_CLASS_GROUP, "%s",
			     kp_api_name(group[i]));
	for (size_t i = 0; i < sizeof(txn) / sizeof(*txn); i++)
		cr_assert_eq(kp_api_class(txn[i]), KP_API_CLASS_TXN, "%s",
			     kp_api_name(txn[i]));
	/* Nothing else is classed, and unknown keys are OTHER. */
	for (int32_t k = -2; k < kp_api_count + 200; k++) {
		enum kp_api_class cl = kp_api_class((int16_t)k);

		ngroup += cl == KP_API_CLASS_GROUP;
		ntxn += cl == KP_API_CLASS_TXN;
	}
	cr_assert_eq(ngroup, sizeof(group) / sizeof(*group));
	cr_assert_eq(ntxn, sizeof(txn) / sizeof(*txn));
	cr_assert_eq(kp_api_class(KP_API_INIT_PRODUCER_ID), KP_API_CLASS_OTHER);
	cr_assert_eq(kp_api_class(KP_API_FIND_COORDINATOR), KP_API_CLASS_OTHER);
	cr_assert_eq(kp_api_class(INT16_MIN), KP_API_CLASS_OTHER);
	cr_assert_eq(kp_api_class(INT16_MAX), KP_API_CLASS_OTHER);
}

Test(group, initproducerid_idempotent_is_not_txn)
{
	struct synth_opts so = {
		.array_len = 1, .str_len = 2, .null_nullables = 1};
	size_t len = synth_req_frame(KP_API_INIT_PRODUCER_ID, 5, 1, "c", &so,
				     frame, sizeof(frame));
	struct kp_seg s = one(frame, len);
	struct kp_initproducerid_req o;

	cr_assert_eq(kp_initproducerid_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.transactional_id.len, -1);
	cr_assert_eq(kp_initproducerid_is_txn(&o), 0);
}
