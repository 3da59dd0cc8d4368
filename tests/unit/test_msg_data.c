/*
 * Produce, Fetch, ListOffsets and record batches: typed views at every
 * version boundary (synth frames through the prefix and split sweeps),
 * hand-annotated fixtures written from the wire layout, hostile frames
 * and hostile records, and storage smaller than the frame.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "kp_msg_data.h"
#include "kp_records.h"
#include "kp_schema.h"
#include "synth.h"

static uint8_t frame[1 << 16];

static struct kp_seg one(const uint8_t *b, size_t len)
{
	struct kp_seg s = {b, len};

	return s;
}

/* ---- decoding any of the six into static storage ---- */

#define NTOPIC 16
#define NPART  64
#define NEP    8

static struct kp_data_topic topics[NTOPIC];
static struct kp_produce_req_part preq_parts[NPART];
static struct kp_produce_resp_part presp_parts[NPART];
static struct kp_fetch_req_part freq_parts[NPART];
static struct kp_fetch_resp_part fresp_parts[NPART];
static struct kp_listoffsets_req_part loreq_parts[NPART];
static struct kp_listoffsets_resp_part loresp_parts[NPART];
static struct kp_node_endpoint eps[NEP];

static struct kp_produce_req preq;
static struct kp_produce_resp presp;
static struct kp_fetch_req freq;
static struct kp_fetch_resp fresp;
static struct kp_listoffsets_req loreq;
static struct kp_listoffsets_resp loresp;

struct dctx {
	int16_t key;
	int16_t version; /* of the request a response answers */
	int req;
	uint32_t cap; /* storage per vector; 0 = all of it */
};

static uint32_t cap_of(const struct dctx *c, uint32_t full)
{
	return c->cap ? c->cap : full;
}

static uint64_t mix_topics(uint64_t h, const struct kp_seg *s, uint32_t n,
			   uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		h = fx_mix_str(h, s, n, &topics[i].name);
		for (int k = 0; k < 16; k++)
			h = fx_mix(h, topics[i].topic_id[k]);
		h = fx_mix(h, topics[i].partitions_first);
		h = fx_mix(h, topics[i].partitions_total);
	}
	return h;
}

static uint64_t mix_eps(uint64_t h, const struct kp_seg *s, uint32_t n,
			uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		h = fx_mix(h, (uint64_t)eps[i].node_id);
		h = fx_mix_str(h, s, n, &eps[i].host);
		h = fx_mix(h, (uint64_t)eps[i].port);
		h = fx_mix_str(h, s, n, &eps[i].rack);
	}
	return h;
}

static uint64_t mix_summary(uint64_t h, int status,
			    const struct kp_records_summary *r)
{
	h = fx_mix(h, (uint64_t)status);
	h = fx_mix(h, (uint64_t)r->size);
	h = fx_mix(h, r->batches);
	h = fx_mix(h, (uint64_t)r->records);
	h = fx_mix(h, r->bytes);
	h = fx_mix(h, r->partial_trailing);
	h = fx_mix(h, (uint64_t)r->magic);
	h = fx_mix(h, r->mixed_magic);
	h = fx_mix(h, r->codec);
	h = fx_mix(h, r->codec_mask);
	h = fx_mix(h, r->transactional);
	h = fx_mix(h, r->control);
	h = fx_mix(h, r->legacy_wrappers);
	h = fx_mix(h, (uint64_t)r->base_offset);
	h = fx_mix(h, (uint64_t)r->last_offset);
	h = fx_mix(h, (uint64_t)r->producer_id);
	h = fx_mix(h, (uint64_t)r->producer_epoch);
	return fx_mix(h, (uint64_t)r->partition_leader_epoch);
}

static uint64_t digest_produce_req(const struct kp_seg *s, uint32_t n)
{
	uint64_t h = fx_mix(FX_DIGEST_INIT, (uint64_t)preq.hdr.corr_id);

	h = fx_mix_str(h, s, n, &preq.transactional_id);
	h = fx_mix(h, (uint64_t)preq.acks);
	h = fx_mix(h, (uint64_t)preq.timeout_ms);
	h = fx_mix(h, preq.topics.total);
	h = fx_mix(h, preq.partitions.total);
	h = fx_mix(h, preq.records_malformed);
	h = mix_topics(h, s, n, preq.topics.n);
	for (uint32_t i = 0; i < preq.partitions.n; i++) {
		const struct kp_produce_req_part *p = &preq_parts[i];

		h = fx_mix(h, p->topic);
		h = fx_mix(h, (uint64_t)p->index);
		h = mix_summary(h, p->records_status, &p->records);
	}
	return h;
}

static uint64_t digest_produce_resp(const struct kp_seg *s, uint32_t n)
{
	uint64_t h = fx_mix(FX_DIGEST_INIT, (uint64_t)presp.hdr.corr_id);

	h = fx_mix(h, (uint64_t)presp.throttle_ms);
	h = fx_mix(h, presp.topics.total);
	h = fx_mix(h, presp.partitions.total);
	h = fx_mix(h, presp.endpoints.total);
	h = mix_topics(h, s, n, presp.topics.n);
	h = mix_eps(h, s, n, presp.endpoints.n);
	for (uint32_t i = 0; i < presp.partitions.n; i++) {
		const struct kp_produce_resp_part *p = &presp_parts[i];

		h = fx_mix(h, p->topic);
		h = fx_mix(h, (uint64_t)p->index);
		h = fx_mix(h, (uint64_t)p->error);
		h = fx_mix(h, (uint64_t)p->base_offset);
		h = fx_mix(h, (uint64_t)p->log_append_time);
		h = fx_mix(h, (uint64_t)p->log_start_offset);
		h = fx_mix(h, p->record_errors);
		h = fx_mix_str(h, s, n, &p->error_message);
		h = fx_mix(h, p->has_current_leader);
		h = fx_mix(h, (uint64_t)p->leader_id);
		h = fx_mix(h, (uint64_t)p->leader_epoch);
	}
	return h;
}

static uint64_t digest_fetch_req(const struct kp_seg *s, uint32_t n)
{
	uint64_t h = fx_mix(FX_DIGEST_INIT, (uint64_t)freq.hdr.corr_id);

	h = fx_mix(h, (uint64_t)freq.replica_id);
	h = fx_mix(h, (uint64_t)freq.replica_epoch);
	h = fx_mix(h, (uint64_t)freq.max_wait_ms);
	h = fx_mix(h, (uint64_t)freq.min_bytes);
	h = fx_mix(h, (uint64_t)freq.max_bytes);
	h = fx_mix(h, (uint64_t)freq.isolation_level);
	h = fx_mix(h, (uint64_t)freq.session_id);
	h = fx_mix(h, (uint64_t)freq.session_epoch);
	h = fx_mix(h, freq.forgotten_topics);
	h = fx_mix(h, freq.forgotten_partitions);
	h = fx_mix_str(h, s, n, &freq.rack_id);
	h = fx_mix_str(h, s, n, &freq.cluster_id);
	h = fx_mix(h, freq.topics.total);
	h = fx_mix(h, freq.partitions.total);
	h = mix_topics(h, s, n, freq.topics.n);
	for (uint32_t i = 0; i < freq.partitions.n; i++) {
		const struct kp_fetch_req_part *p = &freq_parts[i];

		h = fx_mix(h, p->topic);
		h = fx_mix(h, (uint64_t)p->partition);
		h = fx_mix(h, (uint64_t)p->current_leader_epoch);
		h = fx_mix(h, (uint64_t)p->fetch_offset);
		h = fx_mix(h, (uint64_t)p->last_fetched_epoch);
		h = fx_mix(h, (uint64_t)p->log_start_offset);
		h = fx_mix(h, (uint64_t)p->partition_max_bytes);
	}
	return h;
}

static uint64_t digest_fetch_resp(const struct kp_seg *s, uint32_t n)
{
	uint64_t h = fx_mix(FX_DIGEST_INIT, (uint64_t)fresp.hdr.corr_id);

	h = fx_mix(h, (uint64_t)fresp.throttle_ms);
	h = fx_mix(h, (uint64_t)fresp.error);
	h = fx_mix(h, (uint64_t)fresp.session_id);
	h = fx_mix(h, fresp.records_malformed);
	h = fx_mix(h, fresp.topics.total);
	h = fx_mix(h, fresp.partitions.total);
	h = fx_mix(h, fresp.endpoints.total);
	h = mix_topics(h, s, n, fresp.topics.n);
	h = mix_eps(h, s, n, fresp.endpoints.n);
	for (uint32_t i = 0; i < fresp.partitions.n; i++) {
		const struct kp_fetch_resp_part *p = &fresp_parts[i];

		h = fx_mix(h, p->topic);
		h = fx_mix(h, (uint64_t)p->index);
		h = fx_mix(h, (uint64_t)p->error);
		h = fx_mix(h, (uint64_t)p->high_watermark);
		h = fx_mix(h, (uint64_t)p->last_stable_offset);
		h = fx_mix(h, (uint64_t)p->log_start_offset);
		h = fx_mix(h, (uint64_t)p->aborted_txns);
		h = fx_mix(h, (uint64_t)p->preferred_read_replica);
		h = fx_mix(h, p->has_current_leader);
		h = fx_mix(h, (uint64_t)p->leader_id);
		h = fx_mix(h, (uint64_t)p->leader_epoch);
		h = mix_summary(h, p->records_status, &p->records);
	}
	return h;
}

static uint64_t digest_lo_req(const struct kp_seg *s, uint32_t n)
{
	uint64_t h = fx_mix(FX_DIGEST_INIT, (uint64_t)loreq.hdr.corr_id);

	h = fx_mix(h, (uint64_t)loreq.replica_id);
	h = fx_mix(h, (uint64_t)loreq.isolation_level);
	h = fx_mix(h, (uint64_t)loreq.timeout_ms);
	h = fx_mix(h, loreq.topics.total);
	h = fx_mix(h, loreq.partitions.total);
	h = mix_topics(h, s, n, loreq.topics.n);
	for (uint32_t i = 0; i < loreq.partitions.n; i++) {
		const struct kp_listoffsets_req_part *p = &loreq_parts[i];

		h = fx_mix(h, p->topic);
		h = fx_mix(h, (uint64_t)p->index);
		h = fx_mix(h, (uint64_t)p->current_leader_epoch);
		h = fx_mix(h, (uint64_t)p->timestamp);
		h = fx_mix(h, (uint64_t)p->max_num_offsets);
	}
	return h;
}

static uint64_t digest_lo_resp(const struct kp_seg *s, uint32_t n)
{
	uint64_t h = fx_mix(FX_DIGEST_INIT, (uint64_t)loresp.hdr.corr_id);

	h = fx_mix(h, (uint64_t)loresp.throttle_ms);
	h = fx_mix(h, loresp.topics.total);
	h = fx_mix(h, loresp.partitions.total);
	h = mix_topics(h, s, n, loresp.topics.n);
	for (uint32_t i = 0; i < loresp.partitions.n; i++) {
		const struct kp_listoffsets_resp_part *p = &loresp_parts[i];

		h = fx_mix(h, p->topic);
		h = fx_mix(h, (uint64_t)p->index);
		h = fx_mix(h, (uint64_t)p->error);
		h = fx_mix(h, (uint64_t)p->timestamp);
		h = fx_mix(h, (uint64_t)p->offset);
		h = fx_mix(h, (uint64_t)p->leader_epoch);
		h = fx_mix(h, p->old_offsets);
	}
	return h;
}

/* Decode with the decoder c names into the static out-structs. */
static int decode_data(const struct kp_seg *s, uint32_t n, void *vctx,
		       uint64_t *d)
{
	struct dctx *c = vctx;
	uint32_t tc = cap_of(c, NTOPIC), pc = cap_of(c, NPART);
	uint32_t ec = cap_of(c, NEP);
	int rc = KP_ERR_UNKNOWN_API;
	uint64_t h = 0;

	memset(&preq, 0, sizeof(preq));
	memset(&presp, 0, sizeof(presp));
	memset(&freq, 0, sizeof(freq));
	memset(&fresp, 0, sizeof(fresp));
	memset(&loreq, 0, sizeof(loreq));
	memset(&loresp, 0, sizeof(loresp));
	switch (c->key * 2 + c->req) {
	case KP_API_PRODUCE * 2 + 1:
		preq.topics.v = topics;
		preq.topics.cap = tc;
		preq.partitions.v = preq_parts;
		preq.partitions.cap = pc;
		rc = kp_produce_req_decode(s, n, 0, &preq);
		h = digest_produce_req(s, n);
		break;
	case KP_API_PRODUCE * 2:
		presp.topics.v = topics;
		presp.topics.cap = tc;
		presp.partitions.v = presp_parts;
		presp.partitions.cap = pc;
		presp.endpoints.v = eps;
		presp.endpoints.cap = ec;
		rc = kp_produce_resp_decode(s, n, 0, c->version, &presp);
		h = digest_produce_resp(s, n);
		break;
	case KP_API_FETCH * 2 + 1:
		freq.topics.v = topics;
		freq.topics.cap = tc;
		freq.partitions.v = freq_parts;
		freq.partitions.cap = pc;
		rc = kp_fetch_req_decode(s, n, 0, &freq);
		h = digest_fetch_req(s, n);
		break;
	case KP_API_FETCH * 2:
		fresp.topics.v = topics;
		fresp.topics.cap = tc;
		fresp.partitions.v = fresp_parts;
		fresp.partitions.cap = pc;
		fresp.endpoints.v = eps;
		fresp.endpoints.cap = ec;
		rc = kp_fetch_resp_decode(s, n, 0, c->version, &fresp);
		h = digest_fetch_resp(s, n);
		break;
	case KP_API_LIST_OFFSETS * 2 + 1:
		loreq.topics.v = topics;
		loreq.topics.cap = tc;
		loreq.partitions.v = loreq_parts;
		loreq.partitions.cap = pc;
		rc = kp_listoffsets_req_decode(s, n, 0, &loreq);
		h = digest_lo_req(s, n);
		break;
	case KP_API_LIST_OFFSETS * 2:
		loresp.topics.v = topics;
		loresp.topics.cap = tc;
		loresp.partitions.v = loresp_parts;
		loresp.partitions.cap = pc;
		rc = kp_listoffsets_resp_decode(s, n, 0, c->version, &loresp);
		h = digest_lo_resp(s, n);
		break;
	}
	*d = h;
	return rc;
}

/* ---- every version boundary, from synth ---- */

/* The versions worth a sweep: lowest, last non-flexible, first flexible,
 * highest, from the generated table. */
static int boundaries(int16_t key, int16_t *v)
{
	const struct kp_api *a = kp_api_get(key);
	int n = 0;

	v[n++] = a->vmin;
	if (a->flex_min != KP_VER_NONE && a->flex_min > a->vmin)
		v[n++] = (int16_t)(a->flex_min - 1);
	if (a->flex_min != KP_VER_NONE && a->flex_min <= a->vmax)
		v[n++] = a->flex_min;
	v[n++] = a->vmax;
	return n;
}

static const struct synth_opts opts[] = {
	{.array_len = 2, .str_len = 4},
	{.array_len = 2, .str_len = 2, .tagged = 1, .unknown_tag = 1},
	{.array_len = 2, .str_len = 1, .null_nullables = 1},
};

/* The field named by path (top-level name first) in msg at version, or
 * NULL when the version does not have it. */
static const struct kp_field *schema_field(const struct kp_msg *m,
					   int16_t version,
					   const uint16_t *path, int depth)
{
	const struct kp_struct *s = m->body;
	const struct kp_field *f = NULL;

	for (int d = 0; d < depth && s; d++) {
		f = NULL;
		for (uint16_t i = 0; i < s->nfields; i++)
			if (s->fields[i].name == path[d] &&
			    kp_ver_in(version, s->fields[i].vmin,
				      s->fields[i].vmax))
				f = &s->fields[i];
		if (!f)
			return NULL;
		s = f->sub;
	}
	return f;
}

static int has_field1(const struct kp_msg *m, int16_t v, uint16_t a)
{
	uint16_t p[] = {a};

	return schema_field(m, v, p, 1) != NULL;
}

static int has_field2(const struct kp_msg *m, int16_t v, uint16_t a, uint16_t b)
{
	uint16_t p[] = {a, b};

	return schema_field(m, v, p, 2) != NULL;
}

static int has_field3(const struct kp_msg *m, int16_t v, uint16_t a, uint16_t b,
		      uint16_t c)
{
	uint16_t p[] = {a, b, c};

	return schema_field(m, v, p, 3) != NULL;
}

/* What a synth record field holds: one magic 2 batch with one record. */
static void check_synth_records(int status, const struct kp_records_summary *r,
				const char *what)
{
	cr_assert_eq(status, KP_OK, "%s: records %s", what,
		     kp_status_str(status));
	if (r->size < 0)
		return;
	cr_assert_eq(r->batches, 1, "%s", what);
	cr_assert_eq(r->records, 1, "%s", what);
	cr_assert_eq(r->magic, 2, "%s", what);
	cr_assert_eq(r->codec, KP_CODEC_NONE, "%s", what);
	cr_assert_eq(r->bytes, (size_t)r->size, "%s", what);
	cr_assert_eq(r->partial_trailing, 0, "%s", what);
	cr_assert_eq(r->producer_id, -1, "%s", what);
}

/* Facts synth fixes, checked on the decode of the whole frame: two topics
 * of two partitions each, records as above, tagged fields where sent. */
static void check_synth(const struct dctx *c, const struct synth_opts *o,
			const char *what)
{
	const struct kp_api *a = kp_api_get(c->key);
	const struct kp_msg *m = c->req ? a->req : a->resp;
	int16_t v = c->version;
	uint32_t nt = 0, np = 0;

	switch (c->key * 2 + c->req) {
	case KP_API_PRODUCE * 2 + 1:
		nt = preq.topics.total;
		np = preq.partitions.total;
		for (uint32_t i = 0; i < np; i++) {
			cr_assert_eq(preq_parts[i].topic, i / 2, "%s", what);
			cr_assert_eq(preq_parts[i].records.size < 0,
				     o->null_nullables, "%s", what);
			check_synth_records(preq_parts[i].records_status,
					    &preq_parts[i].records, what);
		}
		cr_assert_eq(preq.transactional_id.len < 0,
			     v < 3 || o->null_nullables, "%s", what);
		break;
	case KP_API_PRODUCE * 2: {
		int tl = o->tagged && has_field3(m, v, KP_FN_RESPONSES,
						 KP_FN_PARTITION_RESPONSES,
						 KP_FN_CURRENT_LEADER);

		nt = presp.topics.total;
		np = presp.partitions.total;
		for (uint32_t i = 0; i < np; i++) {
			cr_assert_eq(presp_parts[i].has_current_leader, tl,
				     "%s", what);
			if (!tl)
				cr_assert_eq(presp_parts[i].leader_id, -1);
			cr_assert_eq(presp_parts[i].record_errors,
				     has_field3(m, v, KP_FN_RESPONSES,
						KP_FN_PARTITION_RESPONSES,
						KP_FN_RECORD_ERRORS)
					     ? 2
					     : 0,
				     "%s", what);
		}
		cr_assert_eq(presp.endpoints.total,
			     o->tagged && has_field1(m, v, KP_FN_NODE_ENDPOINTS)
				     ? 2
				     : 0,
			     "%s", what);
		break;
	}
	case KP_API_FETCH * 2 + 1:
		nt = freq.topics.total;
		np = freq.partitions.total;
		/* v15+ carries the replica only in the tagged ReplicaState:
		 * absent, it is a consumer (-1). */
		if (!has_field1(m, v, KP_FN_REPLICA_ID))
			cr_assert_eq(freq.replica_id == -1, !o->tagged, "%s",
				     what);
		else
			cr_assert_neq(freq.replica_id, -1, "%s", what);
		cr_assert_eq(freq.forgotten_topics,
			     has_field1(m, v, KP_FN_FORGOTTEN_TOPICS_DATA) ? 2
									   : 0,
			     "%s", what);
		for (uint32_t i = 0; i < freq.topics.n; i++) {
			int ids =
				has_field2(m, v, KP_FN_TOPICS, KP_FN_TOPIC_ID);

			cr_assert_eq(topics[i].name.len < 0, ids, "%s", what);
		}
		break;
	case KP_API_FETCH * 2: {
		int tl = o->tagged &&
			 has_field3(m, v, KP_FN_RESPONSES, KP_FN_PARTITIONS,
				    KP_FN_CURRENT_LEADER);

		nt = fresp.topics.total;
		np = fresp.partitions.total;
		for (uint32_t i = 0; i < np; i++) {
			cr_assert_eq(fresp_parts[i].has_current_leader, tl,
				     "%s", what);
			check_synth_records(fresp_parts[i].records_status,
					    &fresp_parts[i].records, what);
		}
		cr_assert_eq(fresp.endpoints.total,
			     o->tagged && has_field1(m, v, KP_FN_NODE_ENDPOINTS)
				     ? 2
				     : 0,
			     "%s", what);
		cr_assert_eq(fresp.records_malformed, 0, "%s", what);
		break;
	}
	case KP_API_LIST_OFFSETS * 2 + 1:
		nt = loreq.topics.total;
		np = loreq.partitions.total;
		break;
	case KP_API_LIST_OFFSETS * 2:
		nt = loresp.topics.total;
		np = loresp.partitions.total;
		for (uint32_t i = 0; i < np; i++)
			cr_assert_eq(loresp_parts[i].old_offsets,
				     has_field3(m, v, KP_FN_TOPICS,
						KP_FN_PARTITIONS,
						KP_FN_OLD_STYLE_OFFSETS)
					     ? 2
					     : 0,
				     "%s", what);
		break;
	}
	cr_assert_eq(nt, 2, "%s: %u topics", what, nt);
	cr_assert_eq(np, 4, "%s: %u partitions", what, np);
	for (uint32_t i = 0; i < nt; i++) {
		cr_assert_eq(topics[i].partitions_first, 2 * i, "%s", what);
		cr_assert_eq(topics[i].partitions_total, 2, "%s", what);
	}
}

static void sweep_api(int16_t key)
{
	int16_t vs[4];
	int nv = boundaries(key, vs);

	for (int i = 0; i < nv; i++)
		for (size_t k = 0; k < sizeof(opts) / sizeof(*opts); k++)
			for (int req = 0; req <= 1; req++) {
				struct dctx c = {key, vs[i], req, 0};
				struct kp_seg s;
				uint64_t d;
				char what[96];
				size_t len;

				if (req)
					len = synth_req_frame(
						key, vs[i], 7, "client-1",
						&opts[k], frame, sizeof(frame));
				else
					len = synth_resp_frame(key, vs[i], 7,
							       &opts[k], frame,
							       sizeof(frame));
				cr_assert(len > 0);
				snprintf(what, sizeof(what),
					 "%s v%d %s opts %zu", kp_api_name(key),
					 vs[i], req ? "request" : "response",
					 k);
				fx_check_frame(what, frame, len, decode_data,
					       &c, KP_OK);
				s = one(frame, len);
				cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
				check_synth(&c, &opts[k], what);
			}
}

Test(data, boundaries_produce)
{
	sweep_api(KP_API_PRODUCE);
}

Test(data, boundaries_fetch)
{
	sweep_api(KP_API_FETCH);
}

Test(data, boundaries_listoffsets)
{
	sweep_api(KP_API_LIST_OFFSETS);
}

/* Every version, whole frames only: each decodes. */
Test(data, every_version_decodes)
{
	static const int16_t keys[] = {KP_API_PRODUCE, KP_API_FETCH,
				       KP_API_LIST_OFFSETS};
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const struct kp_api *a = kp_api_get(keys[i]);

		for (int16_t v = a->vmin; v <= a->vmax; v++)
			for (int req = 0; req <= 1; req++) {
				struct dctx c = {keys[i], v, req, 0};
				struct kp_seg s;
				uint64_t d;
				size_t len =
					req ? synth_req_frame(keys[i], v, 1,
							      "c", &opts[1],
							      frame,
							      sizeof(frame))
					    : synth_resp_frame(keys[i], v, 1,
							       &opts[1], frame,
							       sizeof(frame));

				s = one(frame, len);
				cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK,
					     "%s v%d", a->name, v);
				check_synth(&c, &opts[1], a->name);
				n++;
			}
	}
	cr_assert_geq(n, 6, "versions swept: %u", n);
}

Test(data, storage_smaller_than_frame)
{
	static const int16_t keys[] = {KP_API_PRODUCE, KP_API_FETCH,
				       KP_API_LIST_OFFSETS};
	struct synth_opts so = {.array_len = 5, .str_len = 3, .tagged = 1};

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const struct kp_api *a = kp_api_get(keys[i]);

		for (int req = 0; req <= 1; req++) {
			struct dctx c = {keys[i], a->vmax, req, 3};
			struct kp_seg s;
			uint64_t d;
			size_t len =
				req ? synth_req_frame(keys[i], a->vmax, 1, "c",
						      &so, frame, sizeof(frame))
				    : synth_resp_frame(keys[i], a->vmax, 1, &so,
						       frame, sizeof(frame));

			s = one(frame, len);
			cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
			fx_check_frame(a->name, frame, len, decode_data, &c,
				       KP_OK);
		}
	}
	/* The counts go on past the storage. */
	{
		struct dctx c = {KP_API_PRODUCE, 11, 0, 3};
		size_t len = synth_resp_frame(KP_API_PRODUCE, 11, 1, &so, frame,
					      sizeof(frame));
		struct kp_seg s = one(frame, len);
		uint64_t d;

		cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
		cr_assert_eq(presp.topics.n, 3);
		cr_assert_eq(presp.topics.total, 5);
		cr_assert_eq(presp.partitions.n, 3);
		cr_assert_eq(presp.partitions.total, 25);
		cr_assert_eq(presp.endpoints.n, 3);
		cr_assert_eq(presp.endpoints.total, 5);
		/* Stored topics still know their partitions. */
		cr_assert_eq(topics[2].partitions_first, 10);
		cr_assert_eq(topics[2].partitions_total, 5);
	}
	{
		struct dctx c = {KP_API_FETCH, 4, 0, 1};
		size_t len = synth_resp_frame(KP_API_FETCH, 4, 1, &so, frame,
					      sizeof(frame));
		struct kp_seg s = one(frame, len);
		uint64_t d;

		cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
		cr_assert_eq(fresp.partitions.n, 1);
		cr_assert_eq(fresp.partitions.total, 25);
		cr_assert_eq(fresp.records_malformed, 0);
	}
}

/* ---- hand-annotated fixtures ---- */

/* Produce request v3 (header v1) with one real magic 2 batch: gzip,
 * transactional, two records ("hello", "world", null keys) compressed by
 * gzip -9 with mtime 0, CRC-32C computed over attributes..end. */
static const uint8_t produce_v3[] = {
	0x00, 0x00, 0x00, 0x9b,    /* size 155 */
	0x00, 0x00,                /* api key 0: Produce */
	0x00, 0x03,                /* version 3 */
	0x00, 0x00, 0x00, 0x2a,    /* correlation id 42 */
	0x00, 0x03, 'c', 'l', 'i', /* client id "cli" */
	/* body, at 17 */
	0x00, 0x05, 't', 'x', 'n', '-', '1',      /* transactional id "txn-1" */
	0xff, 0xff,                               /* acks -1 */
	0x00, 0x00, 0x75, 0x30,                   /* timeout 30000 ms */
	0x00, 0x00, 0x00, 0x01,                   /* 1 topic (at 30) */
	0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's', /* "orders" (at 34) */
	0x00, 0x00, 0x00, 0x01,                   /* 1 partition (at 42) */
	0x00, 0x00, 0x00, 0x00,                   /* partition 0 */
	0x00, 0x00, 0x00, 0x69, /* records: 105 bytes (at 50) */
	/* the batch, at 54 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* base offset 0 */
	0x00, 0x00, 0x00, 0x5d, /* batch length 93 (at 62) */
	0xff, 0xff, 0xff, 0xff, /* partition leader epoch -1 */
	0x02,                   /* magic 2 (at 70) */
	0x44, 0xd7, 0x3c, 0x3f, /* crc-32c */
	0x00, 0x11,             /* attributes: gzip (1) | transactional (16) */
	0x00, 0x00, 0x00, 0x01, /* last offset delta 1 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* base ts */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x01, /* max ts */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x92, /* producer 4242 */
	0x00, 0x03,                                     /* producer epoch 3 */
	0x00, 0x00, 0x00, 0x00,                         /* base sequence 0 */
	0x00, 0x00, 0x00, 0x02,                         /* 2 records (at 111) */
	/* gzip member (44 bytes) of the records
	 * 16 00 00 00 01 0a "hello" 00  16 00 02 02 01 0a "world" 00 */
	0x1f, 0x8b,             /* gzip magic */
	0x08,                   /* method deflate */
	0x00,                   /* flags none */
	0x00, 0x00, 0x00, 0x00, /* mtime 0 */
	0x02,                   /* xfl: best compression */
	0x03,                   /* os: unix */
	0x13, 0x63, 0x60, 0x60, 0x60, 0xe4, 0xca, 0x48, /* deflate ... */
	0xcd, 0xc9, 0xc9, 0x67, 0x10, 0x63, 0x60, 0x62, /* ... */
	0x62, 0xe4, 0x2a, 0xcf, 0x2f, 0xca, 0x49, 0x61, /* ... */
	0x00, 0x00,                                     /* ... deflate end */
	0x54, 0x55, 0x06, 0x6d, /* crc-32 of the 24 bytes */
	0x18, 0x00, 0x00, 0x00, /* isize 24 */
};

/* Offsets in produce_v3 the hostile tests patch. */
enum {
	P3_VERSION = 6,
	P3_TOPICS = 30,
	P3_NAME_LEN = 34,
	P3_PARTS = 42,
	P3_REC_LEN = 50,
	P3_BATCH_LEN = 62,
	P3_MAGIC = 70,
	P3_COUNT = 111,
};

Test(data, produce_v3_request_by_hand)
{
	struct kp_seg s = one(produce_v3, sizeof(produce_v3));
	struct dctx c = {KP_API_PRODUCE, 3, 1, 0};
	const struct kp_records_summary *r = &preq_parts[0].records;
	uint64_t d;

	cr_assert_eq(sizeof(produce_v3), 4 + 155);
	cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
	cr_assert_eq(preq.hdr.api_version, 3);
	cr_assert_eq(preq.hdr.corr_id, 42);
	cr_assert(kp_str_eq(&s, 1, &preq.hdr.client_id, "cli"));
	cr_assert(kp_str_eq(&s, 1, &preq.transactional_id, "txn-1"));
	cr_assert_eq(preq.acks, -1);
	cr_assert_eq(preq.timeout_ms, 30000);
	cr_assert_eq(preq.topics.total, 1);
	cr_assert(kp_str_eq(&s, 1, &topics[0].name, "orders"));
	cr_assert_eq(preq.partitions.total, 1);
	cr_assert_eq(preq_parts[0].index, 0);
	cr_assert_eq(preq_parts[0].records_status, KP_OK);
	cr_assert_eq(preq.records_malformed, 0);
	cr_assert_eq(r->size, 105);
	cr_assert_eq(r->batches, 1);
	cr_assert_eq(r->records, 2);
	cr_assert_eq(r->bytes, 105);
	cr_assert_eq(r->partial_trailing, 0);
	cr_assert_eq(r->magic, 2);
	cr_assert_eq(r->mixed_magic, 0);
	cr_assert_eq(r->codec, KP_CODEC_GZIP);
	cr_assert_str_eq(kp_records_codec_name(r->codec), "gzip");
	cr_assert_eq(r->codec_mask, 1 << KP_CODEC_GZIP);
	cr_assert_eq(r->transactional, 1);
	cr_assert_eq(r->control, 0);
	cr_assert_eq(r->producer_id, 4242);
	cr_assert_eq(r->producer_epoch, 3);
	cr_assert_eq(r->partition_leader_epoch, -1);
	cr_assert_eq(r->base_offset, 0);
	cr_assert_eq(r->last_offset, 1);
	fx_check_frame("produce v3", produce_v3, sizeof(produce_v3),
		       decode_data, &c, KP_OK);
}

/* Produce response v10 (flexible; header v1) with a partition's tagged
 * CurrentLeader and the top-level tagged NodeEndpoints (KIP-951). */
static const uint8_t produce_v10_resp[] = {
	0x00, 0x00, 0x00, 0x63, /* size 99 */
	0x00, 0x00, 0x00, 0x2b, /* correlation id 43 */
	0x00,                   /* header tags: none */
	/* body, at 9 */
	0x02,                               /* 1 topic */
	0x07, 'o', 'r', 'd', 'e', 'r', 's', /* "orders" */
	0x02,                               /* 1 partition */
	0x00, 0x00, 0x00, 0x00,             /* index 0 */
	0x00, 0x06, /* error 6: NOT_LEADER_OR_FOLLOWER */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* base offset -1 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* append time -1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log start 0 */
	0x02,                                           /* 1 record error */
	0x00, 0x00, 0x00, 0x00,                         /*   batch index 0 */
	0x00,                                           /*   message null */
	0x00,                                           /*   its tags */
	0x06, 'm', 'o', 'v', 'e', 'd', /* error message "moved" */
	0x01,                          /* partition tags: 1 (at 61) */
	0x00,                          /*   tag 0: CurrentLeader */
	0x09,                          /*   9 bytes */
	0x00, 0x00, 0x00, 0x02,        /*   leader 2 */
	0x00, 0x00, 0x00, 0x07,        /*   leader epoch 7 */
	0x00,                          /*   its tags */
	0x00,                          /* topic tags */
	0x00, 0x00, 0x00, 0x00,        /* throttle 0 */
	0x01,                          /* body tags: 1 (at 78) */
	0x00,                          /*   tag 0: NodeEndpoints */
	0x16,                          /*   22 bytes (at 80) */
	0x02,                          /*   1 endpoint */
	0x00, 0x00, 0x00, 0x02,        /*   node 2 */
	0x09, 'b', 'r', 'o', 'k', 'e', 'r', '-', '2', /* "broker-2" */
	0x00, 0x00, 0x23, 0x84,                       /* port 9092 */
	0x03, 'r', '1',                               /* rack "r1" */
	0x00,                                         /* its tags */
};

enum {
	P10_TOPICS = 9,
	P10_PART_TAGS = 61,
	P10_BODY_TAGS = 78,
	P10_EP_SIZE = 80,
};

Test(data, produce_v10_response_by_hand)
{
	struct kp_seg s = one(produce_v10_resp, sizeof(produce_v10_resp));
	struct dctx c = {KP_API_PRODUCE, 10, 0, 0};
	const struct kp_produce_resp_part *p = &presp_parts[0];
	uint64_t d;

	cr_assert_eq(sizeof(produce_v10_resp), 4 + 99);
	cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
	cr_assert_eq(presp.hdr.corr_id, 43);
	cr_assert_eq(presp.topics.total, 1);
	cr_assert(kp_str_eq(&s, 1, &topics[0].name, "orders"));
	cr_assert_eq(presp.partitions.total, 1);
	cr_assert_eq(p->index, 0);
	cr_assert_eq(p->error, 6);
	cr_assert_str_eq(kp_error_name(p->error), "NOT_LEADER_OR_FOLLOWER");
	cr_assert_eq(p->base_offset, -1);
	cr_assert_eq(p->log_append_time, -1);
	cr_assert_eq(p->log_start_offset, 0);
	cr_assert_eq(p->record_errors, 1);
	cr_assert(kp_str_eq(&s, 1, &p->error_message, "moved"));
	cr_assert_eq(p->has_current_leader, 1);
	cr_assert_eq(p->leader_id, 2);
	cr_assert_eq(p->leader_epoch, 7);
	cr_assert_eq(presp.throttle_ms, 0);
	cr_assert_eq(presp.endpoints.total, 1);
	cr_assert_eq(eps[0].node_id, 2);
	cr_assert(kp_str_eq(&s, 1, &eps[0].host, "broker-2"));
	cr_assert_eq(eps[0].port, 9092);
	cr_assert(kp_str_eq(&s, 1, &eps[0].rack, "r1"));
	cr_assert_eq(presp.stats.unknown_tags, 0);
	fx_check_frame("produce v10 response", produce_v10_resp,
		       sizeof(produce_v10_resp), decode_data, &c, KP_OK);
}

/* Fetch request v4 (header v1): by topic name, read_committed. */
static const uint8_t fetch_v4_req[] = {
	0x00, 0x00, 0x00, 0x3e,      /* size 62 */
	0x00, 0x01,                  /* api key 1: Fetch */
	0x00, 0x04,                  /* version 4 */
	0x00, 0x00, 0x00, 0x2c,      /* correlation id 44 */
	0x00, 0x03, 'c',  'l',  'i', /* client id "cli" */
	0xff, 0xff, 0xff, 0xff,      /* replica -1: a consumer */
	0x00, 0x00, 0x01, 0xf4,      /* max wait 500 ms */
	0x00, 0x00, 0x00, 0x01,      /* min bytes 1 */
	0x03, 0x20, 0x00, 0x00,      /* max bytes 52428800 */
	0x01,                        /* isolation: read_committed */
	0x00, 0x00, 0x00, 0x01,      /* 1 topic */
	0x00, 0x06, 'o',  'r',  'd',  'e',  'r',  's',  /* "orders" */
	0x00, 0x00, 0x00, 0x01,                         /* 1 partition */
	0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* fetch offset 100 */
	0x00, 0x10, 0x00, 0x00, /* partition max bytes 1048576 */
};

Test(data, fetch_v4_request_by_hand)
{
	struct kp_seg s = one(fetch_v4_req, sizeof(fetch_v4_req));
	struct dctx c = {KP_API_FETCH, 4, 1, 0};
	uint64_t d;

	cr_assert_eq(sizeof(fetch_v4_req), 4 + 62);
	cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
	cr_assert_eq(freq.hdr.corr_id, 44);
	cr_assert_eq(freq.replica_id, -1);
	cr_assert_eq(freq.max_wait_ms, 500);
	cr_assert_eq(freq.min_bytes, 1);
	cr_assert_eq(freq.max_bytes, 52428800);
	cr_assert_eq(freq.isolation_level, 1);
	cr_assert_eq(freq.session_id, 0);
	cr_assert_eq(freq.session_epoch, -1);
	cr_assert_eq(freq.topics.total, 1);
	cr_assert(kp_str_eq(&s, 1, &topics[0].name, "orders"));
	cr_assert_eq(freq.partitions.total, 1);
	cr_assert_eq(freq_parts[0].partition, 0);
	cr_assert_eq(freq_parts[0].fetch_offset, 100);
	cr_assert_eq(freq_parts[0].partition_max_bytes, 1048576);
	cr_assert_eq(freq_parts[0].current_leader_epoch, -1);
	cr_assert_eq(freq_parts[0].log_start_offset, -1);
	cr_assert_eq(freq.forgotten_topics, 0);
	cr_assert_eq(freq.rack_id.len, -1);
	fx_check_frame("fetch v4", fetch_v4_req, sizeof(fetch_v4_req),
		       decode_data, &c, KP_OK);
}

/* Fetch request v13 (flexible; header v2): by topic id, a fetch session,
 * one forgotten topic, a rack, and the tagged ClusterId. */
static const uint8_t fetch_v13_req[] = {
	0x00, 0x00, 0x00, 0x83,      /* size 131 */
	0x00, 0x01,                  /* api key 1: Fetch */
	0x00, 0x0d,                  /* version 13 */
	0x00, 0x00, 0x00, 0x2d,      /* correlation id 45 */
	0x00, 0x03, 'c',  'l',  'i', /* client id "cli" (int16 length) */
	0x00,                        /* header tags: none */
	0xff, 0xff, 0xff, 0xff,      /* replica -1 */
	0x00, 0x00, 0x01, 0xf4,      /* max wait 500 ms */
	0x00, 0x00, 0x00, 0x01,      /* min bytes 1 */
	0x03, 0x20, 0x00, 0x00,      /* max bytes 52428800 */
	0x00,                        /* isolation: read_uncommitted */
	0x00, 0x00, 0x00, 0x07,      /* session id 7 */
	0x00, 0x00, 0x00, 0x02,      /* session epoch 2 */
	0x02,                        /* 1 topic */
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, /* topic id ... */
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, /* ... */
	0x02,                                           /* 1 partition */
	0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
	0x00, 0x00, 0x00, 0x05, /* current leader epoch 5 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* fetch offset 100 */
	0xff, 0xff, 0xff, 0xff, /* last fetched epoch -1 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log start -1 */
	0x00, 0x10, 0x00, 0x00, /* partition max bytes 1048576 */
	0x00,                   /* partition tags */
	0x00,                   /* topic tags */
	0x02,                   /* 1 forgotten topic */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* its id ... */
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, /* ... */
	0x03,                                           /* 2 partitions */
	0x00, 0x00, 0x00, 0x01,                         /* 1 */
	0x00, 0x00, 0x00, 0x02,                         /* 2 */
	0x00,                                           /* its tags */
	0x07, 'r',  'a',  'c',  'k',  '-',  'a',        /* rack "rack-a" */
	0x01,                                           /* body tags: 1 */
	0x00,                                           /*   tag 0: ClusterId */
	0x03,                                           /*   3 bytes */
	0x03, 'c',  '1',                                /*   "c1" */
};

Test(data, fetch_v13_request_by_hand)
{
	static const uint8_t id[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
				       0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
				       0xcc, 0xdd, 0xee, 0xff};
	struct kp_seg s = one(fetch_v13_req, sizeof(fetch_v13_req));
	struct dctx c = {KP_API_FETCH, 13, 1, 0};
	uint64_t d;

	cr_assert_eq(sizeof(fetch_v13_req), 4 + 131);
	cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
	cr_assert_eq(freq.hdr.hdr_version, 2);
	cr_assert_eq(freq.replica_id, -1);
	cr_assert_eq(freq.max_wait_ms, 500);
	cr_assert_eq(freq.isolation_level, 0);
	cr_assert_eq(freq.session_id, 7);
	cr_assert_eq(freq.session_epoch, 2);
	cr_assert_eq(freq.topics.total, 1);
	cr_assert_eq(topics[0].name.len, -1);
	cr_assert(memcmp(topics[0].topic_id, id, 16) == 0);
	cr_assert_eq(freq.partitions.total, 1);
	cr_assert_eq(freq_parts[0].current_leader_epoch, 5);
	cr_assert_eq(freq_parts[0].fetch_offset, 100);
	cr_assert_eq(freq_parts[0].last_fetched_epoch, -1);
	cr_assert_eq(freq_parts[0].partition_max_bytes, 1048576);
	cr_assert_eq(freq.forgotten_topics, 1);
	cr_assert_eq(freq.forgotten_partitions, 2);
	cr_assert(kp_str_eq(&s, 1, &freq.rack_id, "rack-a"));
	cr_assert(kp_str_eq(&s, 1, &freq.cluster_id, "c1"));
	fx_check_frame("fetch v13", fetch_v13_req, sizeof(fetch_v13_req),
		       decode_data, &c, KP_OK);
}

/* Fetch response v11 (header v0): one complete uncompressed batch, then
 * the first 20 bytes of the next: a broker cut at max bytes. */
static const uint8_t fetch_v11_resp[] = {
	0x00, 0x00, 0x00, 0xb3,                         /* size 179 */
	0x00, 0x00, 0x00, 0x2e,                         /* correlation id 46 */
	0x00, 0x00, 0x00, 0x00,                         /* throttle 0 */
	0x00, 0x00,                                     /* error 0 */
	0x00, 0x00, 0x30, 0x39,                         /* session 12345 */
	0x00, 0x00, 0x00, 0x01,                         /* 1 topic */
	0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',       /* "orders" */
	0x00, 0x00, 0x00, 0x01,                         /* 1 partition */
	0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
	0x00, 0x00,                                     /* error 0 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* high watermark 10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* last stable 10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log start 0 */
	0x00, 0x00, 0x00, 0x01, /* 1 aborted transaction */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x92, /*   producer 4242 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /*   first offset 3 */
	0xff, 0xff, 0xff, 0xff, /* preferred read replica -1 */
	0x00, 0x00, 0x00, 0x5b, /* records: 91 bytes */
	/* complete batch, 71 bytes */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* base offset 5 */
	0x00, 0x00, 0x00, 0x3b,                         /* batch length 59 */
	0x00, 0x00, 0x00, 0x00, /* partition leader epoch 0 */
	0x02,                   /* magic 2 */
	0xd9, 0x0e, 0xa8, 0xf7, /* crc-32c */
	0x00, 0x00,             /* attributes: none */
	0x00, 0x00, 0x00, 0x00, /* last offset delta 0 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* base ts */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* max ts */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producer -1 */
	0xff, 0xff,                                     /* epoch -1 */
	0xff, 0xff, 0xff, 0xff,                         /* sequence -1 */
	0x00, 0x00, 0x00, 0x01,                         /* 1 record */
	0x12,                                           /*   length 9 */
	0x00,                                           /*   attributes */
	0x00,                                           /*   ts delta 0 */
	0x00,                                           /*   offset delta 0 */
	0x01,                                           /*   key null */
	0x06, 'a', 'b', 'c',                            /*   value "abc" */
	0x00,                                           /*   no headers */
	/* partial batch, 20 of its 92 bytes */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, /* base offset 6 */
	0x00, 0x00, 0x00, 0x50,                         /* batch length 80 */
	0x00, 0x00, 0x00, 0x00, /* partition leader epoch 0 */
	0x02,                   /* magic 2 */
	0x12, 0x34, 0x56,       /* crc, cut */
};

Test(data, fetch_v11_response_partial_batch)
{
	struct kp_seg s = one(fetch_v11_resp, sizeof(fetch_v11_resp));
	struct dctx c = {KP_API_FETCH, 11, 0, 0};
	const struct kp_fetch_resp_part *p = &fresp_parts[0];
	uint64_t d;

	cr_assert_eq(sizeof(fetch_v11_resp), 4 + 179);
	cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
	cr_assert_eq(fresp.hdr.corr_id, 46);
	cr_assert_eq(fresp.session_id, 12345);
	cr_assert_eq(fresp.topics.total, 1);
	cr_assert(kp_str_eq(&s, 1, &topics[0].name, "orders"));
	cr_assert_eq(p->high_watermark, 10);
	cr_assert_eq(p->last_stable_offset, 10);
	cr_assert_eq(p->log_start_offset, 0);
	cr_assert_eq(p->aborted_txns, 1);
	cr_assert_eq(p->preferred_read_replica, -1);
	cr_assert_eq(p->has_current_leader, 0);
	cr_assert_eq(p->records_status, KP_TRAILING);
	cr_assert_eq(fresp.records_malformed, 0);
	cr_assert_eq(p->records.size, 91);
	cr_assert_eq(p->records.batches, 1);
	cr_assert_eq(p->records.records, 1);
	cr_assert_eq(p->records.bytes, 71);
	cr_assert_eq(p->records.partial_trailing, 20);
	cr_assert_eq(p->records.base_offset, 5);
	cr_assert_eq(p->records.last_offset, 5);
	cr_assert_eq(p->records.partition_leader_epoch, 0);
	cr_assert_eq(p->records.codec, KP_CODEC_NONE);
	fx_check_frame("fetch v11 response", fetch_v11_resp,
		       sizeof(fetch_v11_resp), decode_data, &c, KP_OK);
}

/* Produce request v2 (header v1) with a magic 1 message set: a plain
 * message, then a gzip wrapper whose value holds one more message. CRCs
 * are CRC-32 over magic..end. */
static const uint8_t produce_v2_legacy[] = {
	0x00, 0x00, 0x00, 0x9d,         /* size 157 */
	0x00, 0x00,                     /* api key 0: Produce */
	0x00, 0x02,                     /* version 2 */
	0x00, 0x00, 0x00, 0x2f,         /* correlation id 47 */
	0x00, 0x03, 'c', 'l', 'i',      /* client id "cli" */
	0x00, 0x01,                     /* acks 1 */
	0x00, 0x00, 0x03, 0xe8,         /* timeout 1000 ms */
	0x00, 0x00, 0x00, 0x01,         /* 1 topic */
	0x00, 0x04, 'l', 'o', 'g', 's', /* "logs" */
	0x00, 0x00, 0x00, 0x01,         /* 1 partition */
	0x00, 0x00, 0x00, 0x03,         /* partition 3 */
	0x00, 0x00, 0x00, 0x74,         /* records: 116 bytes */
	/* message 1, 39 bytes */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  /* offset 0 */
	0x00, 0x00, 0x00, 0x1b,                          /* size 27 */
	0x8e, 0xe3, 0x0b, 0xba,                          /* crc-32 */
	0x01,                                            /* magic 1 */
	0x00,                                            /* attributes: none */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,  /* timestamp */
	0xff, 0xff, 0xff, 0xff,                          /* key null */
	0x00, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', /* value "hello" */
	/* message 2, a gzip wrapper, 77 bytes */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* offset 1 (last
							   inner) */
	0x00, 0x00, 0x00, 0x41,                         /* size 65 */
	0xf1, 0x75, 0xc5, 0xac,                         /* crc-32 */
	0x01,                                           /* magic 1 */
	0x01,                                           /* attributes: gzip */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* timestamp */
	0xff, 0xff, 0xff, 0xff,                         /* key null */
	0x00, 0x00, 0x00, 0x2b, /* value: 43 bytes, the gzip member of a
				   magic 1 message "x" at offset 0 */
	0x1f, 0x8b,             /* gzip magic */
	0x08,                   /* method deflate */
	0x00,                   /* flags none */
	0x00, 0x00, 0x00, 0x00, /* mtime 0 */
	0x02,                   /* xfl: best compression */
	0x03,                   /* os: unix */
	0x63, 0x60, 0x80, 0x03, 0x71, 0xb5, 0xfb, 0xec, /* deflate ... */
	0x87, 0x18, 0x81, 0x0c, 0xc6, 0xee, 0xf3, 0x4f, /* ... */
	0x33, 0x18, 0xfe, 0x03, 0x01, 0x88, 0x53, 0x01, /* ... */
	0x00,                                           /* ... deflate end */
	0xd5, 0x8f, 0x9d, 0x59, /* crc-32 of the 35 bytes */
	0x23, 0x00, 0x00, 0x00, /* isize 35 */
};

Test(data, legacy_magic1_message_set_by_hand)
{
	struct kp_seg s = one(produce_v2_legacy, sizeof(produce_v2_legacy));
	struct dctx c = {KP_API_PRODUCE, 2, 1, 0};
	const struct kp_records_summary *r = &preq_parts[0].records;
	uint64_t d;

	cr_assert_eq(sizeof(produce_v2_legacy), 4 + 157);
	cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
	cr_assert_eq(preq.transactional_id.len, -1);
	cr_assert_eq(preq.acks, 1);
	cr_assert_eq(preq.timeout_ms, 1000);
	cr_assert(kp_str_eq(&s, 1, &topics[0].name, "logs"));
	cr_assert_eq(preq_parts[0].index, 3);
	cr_assert_eq(preq_parts[0].records_status, KP_OK);
	cr_assert_eq(r->size, 116);
	cr_assert_eq(r->batches, 2);
	cr_assert_eq(r->records, 2, "the wrapper counts as one");
	cr_assert_eq(r->legacy_wrappers, 1);
	cr_assert_eq(r->bytes, 116);
	cr_assert_eq(r->magic, 1);
	cr_assert_eq(r->mixed_magic, 0);
	cr_assert_eq(r->codec, KP_CODEC_NONE);
	cr_assert_eq(r->codec_mask,
		     (1 << KP_CODEC_NONE) | (1 << KP_CODEC_GZIP));
	cr_assert_eq(r->base_offset, 0);
	cr_assert_eq(r->last_offset, 1);
	cr_assert_eq(r->producer_id, -1);
	cr_assert_eq(r->producer_epoch, -1);
	cr_assert_eq(r->transactional, 0);
	fx_check_frame("produce v2 magic 1", produce_v2_legacy,
		       sizeof(produce_v2_legacy), decode_data, &c, KP_OK);
}

/* ListOffsets response v1 (header v0): one offset found, one partition
 * unknown. */
static const uint8_t lo_v1_resp[] = {
	0x00, 0x00, 0x00, 0x40,                         /* size 64 */
	0x00, 0x00, 0x00, 0x30,                         /* correlation id 48 */
	0x00, 0x00, 0x00, 0x01,                         /* 1 topic */
	0x00, 0x06, 'o',  'r',  'd',  'e',  'r',  's',  /* "orders" */
	0x00, 0x00, 0x00, 0x02,                         /* 2 partitions */
	0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
	0x00, 0x00,                                     /*   error 0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* timestamp -1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* offset 42 */
	0x00, 0x00, 0x00, 0x01,                         /* partition 1 */
	0x00, 0x03, /*   error 3: UNKNOWN_TOPIC_OR_PARTITION */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* timestamp -1 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* offset -1 */
};

Test(data, listoffsets_v1_response_by_hand)
{
	struct kp_seg s = one(lo_v1_resp, sizeof(lo_v1_resp));
	struct dctx c = {KP_API_LIST_OFFSETS, 1, 0, 0};
	uint64_t d;

	cr_assert_eq(sizeof(lo_v1_resp), 4 + 64);
	cr_assert_eq(decode_data(&s, 1, &c, &d), KP_OK);
	cr_assert_eq(loresp.hdr.corr_id, 48);
	cr_assert_eq(loresp.throttle_ms, 0);
	cr_assert_eq(loresp.topics.total, 1);
	cr_assert(kp_str_eq(&s, 1, &topics[0].name, "orders"));
	cr_assert_eq(topics[0].partitions_total, 2);
	cr_assert_eq(loresp.partitions.total, 2);
	cr_assert_eq(loresp_parts[0].index, 0);
	cr_assert_eq(loresp_parts[0].error, 0);
	cr_assert_eq(loresp_parts[0].timestamp, -1);
	cr_assert_eq(loresp_parts[0].offset, 42);
	cr_assert_eq(loresp_parts[0].leader_epoch, -1);
	cr_assert_eq(loresp_parts[1].index, 1);
	cr_assert_eq(loresp_parts[1].topic, 0);
	cr_assert_str_eq(kp_error_name(loresp_parts[1].error),
			 "UNKNOWN_TOPIC_OR_PARTITION");
	cr_assert_eq(loresp_parts[1].offset, -1);
	fx_check_frame("listoffsets v1 response", lo_v1_resp,
		       sizeof(lo_v1_resp), decode_data, &c, KP_OK);
}

/* ---- hostile frames ---- */

static uint8_t bad[512];

/* A copy of fix with the n bytes at off replaced by b, after checking
 * they held was (so a miscounted offset fails loudly). */
static struct kp_seg patch(const uint8_t *fix, size_t len, size_t off,
			   const uint8_t *was, const uint8_t *b, size_t n)
{
	cr_assert(len <= sizeof(bad) && off + n <= len);
	cr_assert(memcmp(fix + off, was, n) == 0, "patch site %zu moved", off);
	memcpy(bad, fix, len);
	memcpy(bad + off, b, n);
	return one(bad, len);
}

static int produce3_with(size_t off, const uint8_t *was, const uint8_t *b,
			 size_t n)
{
	struct kp_seg s = patch(produce_v3, sizeof(produce_v3), off, was, b, n);
	struct dctx c = {KP_API_PRODUCE, 3, 1, 0};
	uint64_t d;

	return decode_data(&s, 1, &c, &d);
}

Test(data, hostile_lengths_and_counts)
{
	static const uint8_t one_topic[] = {0, 0, 0, 1};
	static const uint8_t name6[] = {0x00, 0x06};
	static const uint8_t rec105[] = {0, 0, 0, 0x69};

	/* Counts of -2 and INT32_MAX. */
	cr_assert_eq(produce3_with(P3_TOPICS, one_topic,
				   (const uint8_t[]){0xff, 0xff, 0xff, 0xfe},
				   4),
		     KP_ERR_MALFORMED);
	cr_assert_eq(produce3_with(P3_TOPICS, one_topic,
				   (const uint8_t[]){0x7f, 0xff, 0xff, 0xff},
				   4),
		     KP_ERR_MALFORMED);
	cr_assert_eq(produce3_with(P3_PARTS, one_topic,
				   (const uint8_t[]){0x7f, 0xff, 0xff, 0xff},
				   4),
		     KP_ERR_MALFORMED);
	/* A null topics array is not allowed. */
	cr_assert_eq(produce3_with(P3_TOPICS, one_topic,
				   (const uint8_t[]){0xff, 0xff, 0xff, 0xff},
				   4),
		     KP_ERR_MALFORMED);
	/* Negative and huge string lengths. */
	cr_assert_eq(produce3_with(P3_NAME_LEN, name6,
				   (const uint8_t[]){0xff, 0xfe}, 2),
		     KP_ERR_MALFORMED);
	cr_assert_eq(produce3_with(P3_NAME_LEN, name6,
				   (const uint8_t[]){0x7f, 0xff}, 2),
		     KP_ERR_MALFORMED);
	/* Negative and huge records lengths. */
	cr_assert_eq(produce3_with(P3_REC_LEN, rec105,
				   (const uint8_t[]){0xff, 0xff, 0xff, 0xfe},
				   4),
		     KP_ERR_MALFORMED);
	cr_assert_eq(produce3_with(P3_REC_LEN, rec105,
				   (const uint8_t[]){0x7f, 0xff, 0xff, 0xff},
				   4),
		     KP_ERR_MALFORMED);
	/* Null records are allowed: the batch is then left over. */
	cr_assert_eq(produce3_with(P3_REC_LEN, rec105,
				   (const uint8_t[]){0xff, 0xff, 0xff, 0xff},
				   4),
		     KP_TRAILING);
	cr_assert_eq(preq_parts[0].records.size, -1);
	cr_assert_eq(preq_parts[0].records_status, KP_OK);
	cr_assert_eq(preq.stats.trailing, 105);
}

Test(data, hostile_frame_sizes_versions_and_keys)
{
	struct kp_seg s = one(produce_v3, sizeof(produce_v3));
	struct kp_produce_req o = {0};
	struct kp_fetch_req fo = {0};
	struct kp_listoffsets_req lo = {0};

	/* Size prefix over max_frame; negative. */
	cr_assert_eq(kp_produce_req_decode(&s, 1, 100, &o), KP_ERR_TOO_LARGE);
	s = patch(produce_v3, sizeof(produce_v3), 0,
		  (const uint8_t[]){0, 0, 0, 0x9b},
		  (const uint8_t[]){0xff, 0xff, 0xff, 0x9b}, 4);
	cr_assert_eq(kp_produce_req_decode(&s, 1, 0, &o), KP_ERR_MALFORMED);
	/* One byte short of the body: malformed, not "need more". */
	s = patch(produce_v3, sizeof(produce_v3), 0,
		  (const uint8_t[]){0, 0, 0, 0x9b},
		  (const uint8_t[]){0, 0, 0, 0x9a}, 4);
	s.len--;
	cr_assert_eq(kp_produce_req_decode(&s, 1, 0, &o), KP_ERR_MALFORMED);
	/* Versions Produce does not have. */
	cr_assert_eq(produce3_with(P3_VERSION, (const uint8_t[]){0, 3},
				   (const uint8_t[]){0, 12}, 2),
		     KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(produce3_with(P3_VERSION, (const uint8_t[]){0, 3},
				   (const uint8_t[]){0xff, 0xff}, 2),
		     KP_ERR_UNSUPPORTED_VERSION);
	s = one(produce_v10_resp, sizeof(produce_v10_resp));
	cr_assert_eq(kp_produce_resp_decode(&s, 1, 0, 12, &presp),
		     KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(kp_fetch_resp_decode(&s, 1, 0, 18, &fresp),
		     KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(kp_listoffsets_resp_decode(&s, 1, 0, -1, &loresp),
		     KP_ERR_UNSUPPORTED_VERSION);
	/* Another API's request, each way round. */
	s = one(fetch_v4_req, sizeof(fetch_v4_req));
	cr_assert_eq(kp_produce_req_decode(&s, 1, 0, &o), KP_ERR_UNKNOWN_API);
	cr_assert_eq(o.hdr.api_key, KP_API_FETCH);
	cr_assert_eq(kp_listoffsets_req_decode(&s, 1, 0, &lo),
		     KP_ERR_UNKNOWN_API);
	s = one(produce_v3, sizeof(produce_v3));
	cr_assert_eq(kp_fetch_req_decode(&s, 1, 0, &fo), KP_ERR_UNKNOWN_API);
	cr_assert_eq(fo.hdr.api_key, KP_API_PRODUCE);
	/* An API key no one has. */
	cr_assert_eq(produce3_with(4, (const uint8_t[]){0, 0},
				   (const uint8_t[]){0x7f, 0x00}, 2),
		     KP_ERR_UNKNOWN_API);
}

static int produce10_with(size_t off, uint8_t was, uint8_t b)
{
	struct kp_seg s = patch(produce_v10_resp, sizeof(produce_v10_resp), off,
				&was, &b, 1);
	struct dctx c = {KP_API_PRODUCE, 10, 0, 0};
	uint64_t d;

	return decode_data(&s, 1, &c, &d);
}

Test(data, hostile_tagged_fields)
{
	/* A tagged field longer than the frame. */
	cr_assert_eq(produce10_with(P10_EP_SIZE, 0x16, 0x40), KP_ERR_MALFORMED);
	/* Shorter than its content: the content runs out of it. */
	cr_assert_eq(produce10_with(P10_EP_SIZE, 0x16, 0x10), KP_ERR_MALFORMED);
	/* More tagged fields than there are. */
	cr_assert_eq(produce10_with(P10_BODY_TAGS, 0x01, 0x02),
		     KP_ERR_MALFORMED);
	cr_assert_eq(produce10_with(P10_PART_TAGS, 0x01, 0x7f),
		     KP_ERR_MALFORMED);
	/* A compact count beyond the frame. */
	cr_assert_eq(produce10_with(P10_TOPICS, 0x02, 0x7f), KP_ERR_MALFORMED);
	/* The frame ends inside the NodeEndpoints tag. */
	{
		struct kp_seg s;
		struct kp_produce_resp o = {0};

		s = patch(produce_v10_resp, sizeof(produce_v10_resp), 3,
			  (const uint8_t[]){0x63}, (const uint8_t[]){0x63 - 8},
			  1);
		s.len -= 8;
		cr_assert_eq(kp_produce_resp_decode(&s, 1, 0, 10, &o),
			     KP_ERR_MALFORMED);
	}
	/* An unknown tag is skipped and counted. */
	{
		struct kp_seg s =
			patch(produce_v10_resp, sizeof(produce_v10_resp),
			      P10_BODY_TAGS + 1, (const uint8_t[]){0x00},
			      (const uint8_t[]){0x05}, 1);
		struct kp_produce_resp o = {0};

		cr_assert_eq(kp_produce_resp_decode(&s, 1, 0, 10, &o), KP_OK);
		cr_assert_eq(o.endpoints.total, 0);
		cr_assert_eq(o.stats.unknown_tags, 1);
	}
}

/* An 11-byte varint where the response header's tag count goes. */
static const uint8_t lo_v6_long_varint[] = {
	0x00, 0x00, 0x00, 0x0f, /* size 15 */
	0x00, 0x00, 0x00, 0x01, /* correlation id 1 */
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, /* ... */
	0x01, /* an 11-byte tag count */
};

Test(data, hostile_long_varint)
{
	struct kp_seg s = one(lo_v6_long_varint, sizeof(lo_v6_long_varint));
	struct kp_listoffsets_resp o = {0};

	cr_assert_eq(sizeof(lo_v6_long_varint), 4 + 15);
	cr_assert_eq(kp_listoffsets_resp_decode(&s, 1, 0, 6, &o),
		     KP_ERR_MALFORMED);
}

/* Records problems are the partition's: the frame still decodes. */
Test(data, hostile_batches_in_a_frame)
{
	static const uint8_t len93[] = {0, 0, 0, 0x5d};
	static const uint8_t two[] = {0, 0, 0, 2};

	/* Negative batch length. */
	cr_assert_eq(produce3_with(P3_BATCH_LEN, len93,
				   (const uint8_t[]){0xff, 0xff, 0xff, 0xf6},
				   4),
		     KP_OK);
	cr_assert_eq(preq_parts[0].records_status, KP_ERR_MALFORMED);
	cr_assert_eq(preq.records_malformed, 1);
	/* A batch length beyond the records field: a partial batch. */
	cr_assert_eq(produce3_with(P3_BATCH_LEN, len93,
				   (const uint8_t[]){0x00, 0x00, 0x01, 0x00},
				   4),
		     KP_OK);
	cr_assert_eq(preq_parts[0].records_status, KP_TRAILING);
	cr_assert_eq(preq_parts[0].records.batches, 0);
	cr_assert_eq(preq_parts[0].records.partial_trailing, 105);
	cr_assert_eq(preq.records_malformed, 0);
	/* A batch length too short for the batch header. */
	cr_assert_eq(produce3_with(P3_BATCH_LEN, len93,
				   (const uint8_t[]){0x00, 0x00, 0x00, 0x20},
				   4),
		     KP_OK);
	cr_assert_eq(preq_parts[0].records_status, KP_ERR_MALFORMED);
	/* Magic 3, with the whole header there. */
	cr_assert_eq(produce3_with(P3_MAGIC, (const uint8_t[]){2},
				   (const uint8_t[]){3}, 1),
		     KP_OK);
	cr_assert_eq(preq_parts[0].records_status, KP_ERR_MALFORMED);
	/* A negative record count. */
	cr_assert_eq(produce3_with(P3_COUNT, two,
				   (const uint8_t[]){0x80, 0x00, 0x00, 0x00},
				   4),
		     KP_OK);
	cr_assert_eq(preq_parts[0].records_status, KP_ERR_MALFORMED);
	cr_assert_eq(preq.records_malformed, 1);
}

/* ---- kp_records on its own ---- */

static int summarise(const uint8_t *b, size_t len, struct kp_records_summary *r)
{
	struct kp_seg seg;
	struct kp_reader rd;
	int rc;

	kp_reader_init_buf(&rd, &seg, b, len, len);
	rc = kp_records_summary_reader(&rd, r);
	if (rc == KP_OK || rc == KP_TRAILING)
		cr_assert_eq(kp_reader_offset(&rd), len);
	return rc;
}

/* Magic 0: offset, size, crc, magic, attributes, key, value; then a
 * magic 2 batch of no records (what compaction can leave). */
static const uint8_t magic0_then_2[] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* offset 7 */
	0x00, 0x00, 0x00, 0x10,                         /* size 16 */
	0x00, 0x00, 0x00, 0x00,                         /* crc (unchecked) */
	0x00,                                           /* magic 0 */
	0x02,                                           /* attributes: snappy */
	0x00, 0x00, 0x00, 0x01, 'k',                    /* key "k" */
	0x00, 0x00, 0x00, 0x01, 'v',                    /* value "v" */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, /* base offset 8 */
	0x00, 0x00, 0x00, 0x31,                         /* batch length 49 */
	0x00, 0x00, 0x00, 0x04,                         /* leader epoch 4 */
	0x02,                                           /* magic 2 */
	0x00, 0x00, 0x00, 0x00,                         /* crc (unchecked) */
	0x00, 0x34,             /* attributes: zstd, transactional, control */
	0x00, 0x00, 0x00, 0x02, /* last offset delta 2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* base ts */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* max ts */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /* producer 9 */
	0x00, 0x01,                                     /* epoch 1 */
	0x00, 0x00, 0x00, 0x00,                         /* sequence 0 */
	0x00, 0x00, 0x00, 0x00,                         /* 0 records */
};

Test(records, mixed_magic_and_flags)
{
	struct kp_records_summary r;

	cr_assert_eq(summarise(magic0_then_2, sizeof(magic0_then_2), &r),
		     KP_OK);
	cr_assert_eq(r.size, (int32_t)sizeof(magic0_then_2));
	cr_assert_eq(r.batches, 2);
	cr_assert_eq(r.records, 1);
	cr_assert_eq(r.magic, 2);
	cr_assert_eq(r.mixed_magic, 1);
	cr_assert_eq(r.codec, KP_CODEC_SNAPPY, "the first batch's");
	cr_assert_eq(r.codec_mask,
		     (1 << KP_CODEC_SNAPPY) | (1 << KP_CODEC_ZSTD));
	cr_assert_eq(r.legacy_wrappers, 1);
	cr_assert_eq(r.transactional, 1);
	cr_assert_eq(r.control, 1);
	cr_assert_eq(r.base_offset, 7);
	cr_assert_eq(r.last_offset, 10);
	cr_assert_eq(r.producer_id, -1, "of the first batch, a legacy one");
	cr_assert_eq(r.bytes, sizeof(magic0_then_2));
}

Test(records, empty_null_and_short)
{
	struct kp_records_summary r;
	struct kp_str null = {.ptr = NULL, .len = -1};
	struct kp_seg seg = {magic0_then_2, 0};

	cr_assert_eq(summarise(magic0_then_2, 0, &r), KP_OK);
	cr_assert_eq(r.size, 0);
	cr_assert_eq(r.batches, 0);
	cr_assert_eq(r.magic, -1);
	cr_assert_eq(r.base_offset, -1);
	cr_assert_eq(kp_records_summary(&seg, 1, &null, &r), KP_OK);
	cr_assert_eq(r.size, -1);
	/* Fewer bytes than an offset and a size: a partial entry. */
	for (size_t n = 1; n < KP_RECORDS_LOG_OVERHEAD; n++) {
		cr_assert_eq(summarise(magic0_then_2, n, &r), KP_TRAILING);
		cr_assert_eq(r.partial_trailing, n);
		cr_assert_eq(r.batches, 0);
	}
	/* Every cut inside the second entry leaves the first complete. */
	for (size_t n = 28 + 1; n < sizeof(magic0_then_2); n++) {
		cr_assert_eq(summarise(magic0_then_2, n, &r), KP_TRAILING);
		cr_assert_eq(r.batches, 1);
		cr_assert_eq(r.bytes, 28);
		cr_assert_eq(r.partial_trailing, n - 28);
	}
}

Test(records, hostile_entries)
{
	uint8_t b[sizeof(magic0_then_2)];
	struct kp_records_summary r;

	/* A size below the smallest message. */
	memcpy(b, magic0_then_2, sizeof(b));
	b[11] = 13;
	cr_assert_eq(summarise(b, sizeof(b), &r), KP_ERR_MALFORMED);
	/* Negative and huge sizes. */
	b[8] = 0x80;
	b[11] = 0x10;
	cr_assert_eq(summarise(b, sizeof(b), &r), KP_ERR_MALFORMED);
	b[8] = 0x7f;
	cr_assert_eq(summarise(b, sizeof(b), &r), KP_TRAILING);
	cr_assert_eq(r.partial_trailing, sizeof(b));
	/* A bad magic in a partial entry, once the magic byte is there. */
	b[16] = 7;
	cr_assert_eq(summarise(b, sizeof(b), &r), KP_ERR_MALFORMED);
	cr_assert_eq(summarise(b, 16, &r), KP_TRAILING);
	cr_assert_eq(summarise(b, 17, &r), KP_ERR_MALFORMED);
	/* Legacy key length -2, and a value running out of its message. */
	memcpy(b, magic0_then_2, sizeof(b));
	b[18] = b[19] = b[20] = 0xff;
	b[21] = 0xfe;
	cr_assert_eq(summarise(b, sizeof(b), &r), KP_ERR_MALFORMED);
	memcpy(b, magic0_then_2, sizeof(b));
	b[26] = 2;
	cr_assert_eq(summarise(b, sizeof(b), &r), KP_ERR_MALFORMED);
	/* A legacy magic 1 size too small for its timestamp. */
	memcpy(b, magic0_then_2, sizeof(b));
	b[16] = 1;
	cr_assert_eq(summarise(b, sizeof(b), &r), KP_ERR_MALFORMED);
	/* The first entry is still summarised when the second is bad. */
	memcpy(b, magic0_then_2, sizeof(b));
	b[28 + 16] = 9;
	cr_assert_eq(summarise(b, sizeof(b), &r), KP_ERR_MALFORMED);
	cr_assert_eq(r.batches, 1);
}

Test(records, codec_names)
{
	cr_assert_str_eq(kp_records_codec_name(KP_CODEC_NONE), "none");
	cr_assert_str_eq(kp_records_codec_name(KP_CODEC_GZIP), "gzip");
	cr_assert_str_eq(kp_records_codec_name(KP_CODEC_SNAPPY), "snappy");
	cr_assert_str_eq(kp_records_codec_name(KP_CODEC_LZ4), "lz4");
	cr_assert_str_eq(kp_records_codec_name(KP_CODEC_ZSTD), "zstd");
	cr_assert_str_eq(kp_records_codec_name(5), "unknown");
	cr_assert_str_eq(kp_records_codec_name(-1), "unknown");
}

/* A records view split across two segments gives the same summary. */
Test(records, split_view)
{
	struct kp_records_summary whole, part;

	cr_assert_eq(summarise(magic0_then_2, sizeof(magic0_then_2), &whole),
		     KP_OK);
	for (size_t cut = 0; cut <= sizeof(magic0_then_2); cut++) {
		struct kp_seg segs[2] = {
			{magic0_then_2, cut},
			{magic0_then_2 + cut, sizeof(magic0_then_2) - cut}};
		struct kp_str v = {.ptr = NULL,
				   .len = (int32_t)sizeof(magic0_then_2)};

		v.pos.seg = cut == 0 ? 1 : 0;
		cr_assert_eq(kp_records_summary(segs, 2, &v, &part), KP_OK);
		cr_assert(memcmp(&whole, &part, sizeof(whole)) == 0,
			  "cut at %zu", cut);
	}
}
