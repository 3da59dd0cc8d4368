/*
 * ApiVersions, Metadata, FindCoordinator, DescribeCluster: typed views at
 * every version boundary, hand-annotated fixtures, hostile frames, broker
 * address rewriting and the ApiVersions cap.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "kp_msg_meta.h"
#include "kp_schema.h"
#include "synth.h"

static uint8_t frame[1 << 16];
static uint8_t out_buf[1 << 16];

/* The versions worth a fixture: lowest, last non-flexible, first
 * flexible, highest. */
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
	{.array_len = 3, .str_len = 2, .tagged = 1, .unknown_tag = 1},
	{.array_len = 1, .str_len = 1, .null_nullables = 1},
};

struct meta_ctx {
	int16_t key;
	int16_t version;
	int req;
};

static struct kp_md_broker brokers[8];
static struct kp_md_topic topics[8];
static struct kp_md_partition parts[32];
static struct kp_md_req_topic req_topics[8];
static struct kp_api_range ranges[128];
static struct kp_coordinator coords[8];
static struct kp_str keys[8];

static uint64_t mix_broker(uint64_t h, const struct kp_seg *s, uint32_t n,
			   const struct kp_md_broker *b)
{
	h = fx_mix(h, (uint64_t)b->node_id);
	h = fx_mix_str(h, s, n, &b->host);
	h = fx_mix(h, (uint64_t)b->port);
	return fx_mix_str(h, s, n, &b->rack);
}

static int decode_meta(const struct kp_seg *s, uint32_t n, void *vctx,
		       uint64_t *d)
{
	struct meta_ctx *c = vctx;
	uint64_t h = FX_DIGEST_INIT;
	int rc = KP_ERR_UNKNOWN_API;

	switch (c->key * 2 + c->req) {
	case KP_API_API_VERSIONS * 2 + 1: {
		struct kp_apiversions_req o;

		rc = kp_apiversions_req_decode(s, n, 0, &o);
		h = fx_mix_str(h, s, n, &o.software_name);
		h = fx_mix_str(h, s, n, &o.software_version);
		h = fx_mix(h, (uint64_t)o.hdr.corr_id);
		break;
	}
	case KP_API_API_VERSIONS * 2: {
		struct kp_apiversions_resp o = {.apis = {ranges, 128}};

		rc = kp_apiversions_resp_decode(s, n, 0, c->version, &o);
		h = fx_mix(h, (uint64_t)o.error);
		for (uint32_t i = 0; i < o.apis.n; i++)
			h = fx_mix(h, (uint64_t)ranges[i].key << 32 |
					      (uint64_t)ranges[i].min << 16 |
					      (uint16_t)ranges[i].max);
		break;
	}
	case KP_API_METADATA * 2 + 1: {
		struct kp_metadata_req o = {.topics = {req_topics, 8}};

		rc = kp_metadata_req_decode(s, n, 0, &o);
		h = fx_mix(h, (uint64_t)o.all_topics);
		for (uint32_t i = 0; i < o.topics.n; i++)
			h = fx_mix_str(h, s, n, &req_topics[i].name);
		break;
	}
	case KP_API_METADATA * 2: {
		struct kp_metadata_resp o = {.brokers = {brokers, 8},
					     .topics = {topics, 8},
					     .partitions = {parts, 32}};

		rc = kp_metadata_resp_decode(s, n, 0, c->version, &o);
		for (uint32_t i = 0; i < o.brokers.n; i++)
			h = mix_broker(h, s, n, &brokers[i]);
		for (uint32_t i = 0; i < o.topics.n; i++) {
			h = fx_mix_str(h, s, n, &topics[i].name);
			h = fx_mix(h, topics[i].partitions_total);
		}
		for (uint32_t i = 0; i < o.partitions.n; i++)
			h = fx_mix(h, (uint64_t)parts[i].leader);
		h = fx_mix_str(h, s, n, &o.cluster_id);
		break;
	}
	case KP_API_FIND_COORDINATOR * 2 + 1: {
		struct kp_findcoord_req o = {.keys = {keys, 8}};

		rc = kp_findcoord_req_decode(s, n, 0, &o);
		h = fx_mix(h, (uint64_t)o.key_type);
		for (uint32_t i = 0; i < o.keys.n; i++)
			h = fx_mix_str(h, s, n, &keys[i]);
		break;
	}
	case KP_API_FIND_COORDINATOR * 2: {
		struct kp_findcoord_resp o = {.coordinators = {coords, 8}};

		rc = kp_findcoord_resp_decode(s, n, 0, c->version, &o);
		for (uint32_t i = 0; i < o.coordinators.n; i++) {
			h = fx_mix(h, (uint64_t)coords[i].node_id);
			h = fx_mix_str(h, s, n, &coords[i].host);
			h = fx_mix_str(h, s, n, &coords[i].key);
		}
		break;
	}
	case KP_API_DESCRIBE_CLUSTER * 2 + 1: {
		struct kp_describecluster_req o;

		rc = kp_describecluster_req_decode(s, n, 0, &o);
		h = fx_mix(h, (uint64_t)o.endpoint_type);
		break;
	}
	case KP_API_DESCRIBE_CLUSTER * 2: {
		struct kp_describecluster_resp o = {.brokers = {brokers, 8}};

		rc = kp_describecluster_resp_decode(s, n, 0, c->version, &o);
		for (uint32_t i = 0; i < o.brokers.n; i++)
			h = mix_broker(h, s, n, &brokers[i]);
		h = fx_mix_str(h, s, n, &o.cluster_id);
		break;
	}
	}
	*d = h;
	return rc;
}

static void sweep_api(int16_t key)
{
	int16_t vs[4];
	int nv = boundaries(key, vs);

	for (int i = 0; i < nv; i++)
		for (size_t k = 0; k < sizeof(opts) / sizeof(*opts); k++) {
			struct meta_ctx c = {key, vs[i], 1};
			char what[96];
			size_t len;

			len = synth_req_frame(key, vs[i], 7, "client-1",
					      &opts[k], frame, sizeof(frame));
			cr_assert(len > 0);
			snprintf(what, sizeof(what), "%s v%d request opts %zu",
				 kp_api_name(key), vs[i], k);
			fx_check_frame(what, frame, len, decode_meta, &c,
				       KP_OK);
			c.req = 0;
			len = synth_resp_frame(key, vs[i], 7, &opts[k], frame,
					       sizeof(frame));
			cr_assert(len > 0);
			snprintf(what, sizeof(what), "%s v%d response opts %zu",
				 kp_api_name(key), vs[i], k);
			fx_check_frame(what, frame, len, decode_meta, &c,
				       KP_OK);
		}
}

Test(meta, boundaries_apiversions)
{
	sweep_api(KP_API_API_VERSIONS);
}

Test(meta, boundaries_metadata)
{
	sweep_api(KP_API_METADATA);
}

Test(meta, boundaries_findcoordinator)
{
	sweep_api(KP_API_FIND_COORDINATOR);
}

Test(meta, boundaries_describecluster)
{
	sweep_api(KP_API_DESCRIBE_CLUSTER);
}

static struct kp_seg one(const uint8_t *b, size_t len)
{
	struct kp_seg s = {b, len};

	return s;
}

/* ApiVersions v3 request (header v2), written from the layout. */
static const uint8_t av_v3_req[] = {
	0x00, 0x00, 0x00, 0x24,                          /* size 36 */
	0x00, 0x12, 0x00, 0x03,                          /* ApiVersions v3 */
	0x00, 0x00, 0x00, 0x01,                          /* correlation id 1 */
	0x00, 0x07, 'r',  'd',  'k', 'a', 'f', 'k', 'a', /* client id */
	0x00,                                            /* header tags: none */
	0x0b, 'l',  'i',  'b',  'r', 'd', 'k', 'a', 'f', 'k', 'a', /* name */
	0x06, '2',  '.',  '1',  '2', '.', /* version "2.12." */
	0x00,                             /* body tags: none */
};

Test(meta, apiversions_v3_request_by_hand)
{
	struct kp_seg s = one(av_v3_req, sizeof(av_v3_req));
	struct kp_apiversions_req o;
	char buf[32];

	cr_assert_eq(kp_apiversions_req_decode(&s, 1, 0, &o), KP_OK);
	cr_assert_eq(o.hdr.corr_id, 1);
	cr_assert_eq(o.hdr.hdr_version, 2);
	kp_str_copy(&s, 1, &o.hdr.client_id, buf, sizeof(buf));
	cr_assert_str_eq(buf, "rdkafka");
	kp_str_copy(&s, 1, &o.software_name, buf, sizeof(buf));
	cr_assert_str_eq(buf, "librdkafka");
	kp_str_copy(&s, 1, &o.software_version, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2.12.");
}

/* A v0-layout UNSUPPORTED_VERSION answer to a v3 request. */
static const uint8_t av_refusal[] = {
	0x00, 0x00, 0x00, 0x10,             /* size 16 */
	0x00, 0x00, 0x00, 0x01,             /* correlation id 1 */
	0x00, 0x23,                         /* error 35 */
	0x00, 0x00, 0x00, 0x01,             /* one range */
	0x00, 0x12, 0x00, 0x00, 0x00, 0x02, /* ApiVersions 0-2 */
};

Test(meta, apiversions_refusal_in_v0_layout)
{
	struct kp_seg s = one(av_refusal, sizeof(av_refusal));
	struct kp_api_range r[4];
	struct kp_apiversions_resp o = {.apis = {r, 4}};

	cr_assert_eq(kp_apiversions_resp_decode(&s, 1, 0, 3, &o), KP_OK);
	cr_assert_eq(o.error, 35);
	cr_assert_eq(o.decoded_as, 0);
	cr_assert_eq(o.apis.n, 1);
	cr_assert_eq(r[0].key, 18);
	cr_assert_eq(r[0].max, 2);
}

/* FindCoordinator v4 response, batched: two coordinators. */
static const uint8_t fc_v4_resp[] = {
	0x00, 0x00, 0x00, 0x2a, /* size 42 */
	0x00, 0x00, 0x00, 0x09, /* correlation id 9 */
	0x00,                   /* header tags */
	0x00, 0x00, 0x00, 0x00, /* throttle 0 */
	0x03,                   /* 2 coordinators */
	0x02, 'g',              /* key "g" */
	0x00, 0x00, 0x00, 0x02, /* node 2 */
	0x02, 'b',              /* host "b" */
	0x00, 0x00, 0x23, 0x85, /* port 9093 */
	0x00, 0x00,             /* no error */
	0x00,                   /* error message null */
	0x00,                   /* tags */
	0x02, 'h',              /* key "h" */
	0xff, 0xff, 0xff, 0xff, /* node -1 */
	0x01,                   /* host "" */
	0xff, 0xff, 0xff, 0xff, /* port -1 */
	0x00, 0x0f,             /* COORDINATOR_NOT_AVAILABLE */
	0x00,                   /* error message null */
	0x00,                   /* tags */
	0x00,                   /* body tags */
};

Test(meta, findcoordinator_v4_by_hand)
{
	struct kp_seg s = one(fc_v4_resp, sizeof(fc_v4_resp));
	struct kp_coordinator c[4];
	struct kp_findcoord_resp o = {.coordinators = {c, 4}};

	cr_assert_eq(sizeof(fc_v4_resp), 4 + 0x2a);
	cr_assert_eq(kp_findcoord_resp_decode(&s, 1, 0, 4, &o), KP_OK);
	cr_assert_eq(o.coordinators.n, 2);
	cr_assert(kp_str_eq(&s, 1, &c[0].key, "g"));
	cr_assert_eq(c[0].node_id, 2);
	cr_assert(kp_str_eq(&s, 1, &c[0].host, "b"));
	cr_assert_eq(c[0].port, 9093);
	cr_assert_eq(c[1].node_id, -1);
	cr_assert_eq(c[1].error, 15);
	cr_assert_str_eq(kp_error_name(c[1].error),
			 "COORDINATOR_NOT_AVAILABLE");
}

/* FindCoordinator v0 response: the answer in the body itself. */
static const uint8_t fc_v0_resp[] = {
	0x00, 0x00, 0x00, 0x11, /* size 17 */
	0x00, 0x00, 0x00, 0x05, /* correlation id 5 */
	0x00, 0x00,             /* no error */
	0x00, 0x00, 0x00, 0x03, /* node 3 */
	0x00, 0x01, 'c',        /* host "c" */
	0x00, 0x00, 0x23, 0x86, /* port 9094 */
};

Test(meta, findcoordinator_v0_by_hand)
{
	struct kp_seg s = one(fc_v0_resp, sizeof(fc_v0_resp));
	struct kp_coordinator c[1];
	struct kp_findcoord_resp o = {.coordinators = {c, 1}};

	cr_assert_eq(kp_findcoord_resp_decode(&s, 1, 0, 0, &o), KP_OK);
	cr_assert_eq(o.coordinators.total, 1);
	cr_assert_eq(c[0].node_id, 3);
	cr_assert_eq(c[0].port, 9094);
	cr_assert_eq(c[0].key.len, -1);
}

/* Metadata v12 response with librdkafka's mock's trailing byte. */
static const uint8_t md_v12_trailing[] = {
	0x00, 0x00, 0x00, 0x26, /* size 38 */
	0x00, 0x00, 0x00, 0x02, /* correlation id 2 */
	0x00,                   /* header tags */
	0x00, 0x00, 0x00, 0x00, /* throttle 0 */
	0x02,                   /* 1 broker */
	0x00, 0x00, 0x00, 0x01, /* node 1 */
	0x0a, '1',  '2',  '7',  '.', '0', '.', '0', '.', '1', /* host */
	0x00, 0x00, 0x23, 0x84,                               /* port 9092 */
	0x00,                                                 /* rack null */
	0x00,                                                 /* broker tags */
	0x00,                   /* cluster id null */
	0x00, 0x00, 0x00, 0x01, /* controller 1 */
	0x01,                   /* 0 topics */
	0x00,                   /* body tags */
	0x00,                   /* the extra byte */
};

Test(meta, metadata_v12_trailing_byte)
{
	struct kp_seg s = one(md_v12_trailing, sizeof(md_v12_trailing));
	struct kp_md_broker b[2];
	struct kp_metadata_resp o = {.brokers = {b, 2}};

	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 0, 12, &o), KP_TRAILING);
	cr_assert_eq(o.stats.trailing, 1);
	cr_assert_eq(o.brokers.n, 1);
	cr_assert_eq(b[0].node_id, 1);
	cr_assert(kp_str_eq(&s, 1, &b[0].host, "127.0.0.1"));
	cr_assert_eq(o.controller_id, 1);
	cr_assert_eq(o.cluster_id.len, -1);
}

Test(meta, storage_smaller_than_frame)
{
	struct kp_md_broker b[1];
	struct kp_metadata_resp o = {.brokers = {b, 1}};
	struct synth_opts so = {.array_len = 5, .str_len = 3};
	size_t len = synth_resp_frame(KP_API_METADATA, 9, 1, &so, frame,
				      sizeof(frame));
	struct kp_seg s = one(frame, len);

	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 0, 9, &o), KP_OK);
	cr_assert_eq(o.brokers.n, 1);
	cr_assert_eq(o.brokers.total, 5);
	cr_assert_eq(o.topics.total, 5);
	cr_assert_eq(o.partitions.total, 25);
}

Test(meta, hostile_frames)
{
	struct kp_metadata_resp o = {0};
	uint8_t bad[sizeof(md_v12_trailing)];
	struct kp_seg s = one(bad, sizeof(bad));

	/* Negative size prefix. */
	memcpy(bad, md_v12_trailing, sizeof(bad));
	bad[0] = 0xff;
	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 0, 12, &o),
		     KP_ERR_MALFORMED);
	/* Over the frame limit. */
	bad[0] = 0x10;
	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 0, 12, &o),
		     KP_ERR_TOO_LARGE);
	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 16, 12, &o) == KP_OK, 0);
	/* Broker count far beyond the frame. */
	memcpy(bad, md_v12_trailing, sizeof(bad));
	bad[13] = 0xff;
	bad[14] = 0x7f;
	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 0, 12, &o),
		     KP_ERR_MALFORMED);
	/* Host length beyond the frame. */
	memcpy(bad, md_v12_trailing, sizeof(bad));
	bad[18] = 0x7f;
	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 0, 12, &o),
		     KP_ERR_MALFORMED);
	/* Unsupported and unknown versions. */
	memcpy(bad, md_v12_trailing, sizeof(bad));
	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 0, 13, &o),
		     KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(kp_metadata_resp_decode(&s, 1, 0, -1, &o),
		     KP_ERR_UNSUPPORTED_VERSION);
}

Test(meta, wrong_api_key_in_request)
{
	struct kp_metadata_req o = {0};
	struct kp_seg s = one(av_v3_req, sizeof(av_v3_req));

	cr_assert_eq(kp_metadata_req_decode(&s, 1, 0, &o), KP_ERR_UNKNOWN_API);
	cr_assert_eq(o.hdr.api_key, KP_API_API_VERSIONS);
}

/* ---- address rewriting ---- */

static int map_all(void *ctx, int32_t node_id, const struct kp_str *orig,
		   const char **host, int32_t *host_len, int32_t *port)
{
	(void)ctx;
	(void)orig;
	if (node_id < 0)
		return 0;
	*host = "proxy.local";
	*host_len = 11;
	*port = 40000 + node_id % 1000;
	return 1;
}

static int map_none(void *ctx, int32_t node_id, const struct kp_str *orig,
		    const char **host, int32_t *host_len, int32_t *port)
{
	return 0;
}

Test(meta, rewrite_every_address_bearing_version)
{
	static const int16_t apis[] = {KP_API_METADATA,
				       KP_API_FIND_COORDINATOR,
				       KP_API_DESCRIBE_CLUSTER,
				       KP_API_PRODUCE,
				       KP_API_FETCH,
				       KP_API_SHARE_FETCH,
				       KP_API_SHARE_ACKNOWLEDGE};
	struct synth_opts so = {
		.array_len = 2, .str_len = 4, .tagged = 1, .unknown_tag = 1};
	unsigned with_addrs = 0;

	for (size_t i = 0; i < sizeof(apis) / sizeof(*apis); i++) {
		const struct kp_api *a = kp_api_get(apis[i]);

		cr_assert(kp_api_carries_addrs(apis[i]));
		for (int16_t v = a->vmin; v <= a->vmax; v++) {
			size_t len = synth_resp_frame(apis[i], v, 3, &so, frame,
						      sizeof(frame));
			struct kp_seg s = one(frame, len);
			struct kp_wbuf w = {out_buf, sizeof(out_buf), 0, 0};
			struct kp_wbuf count = {NULL, 0, 0, 0};
			struct kp_addr before[8], after[8];
			struct kp_addrs ob = {.addrs = {before, 8}};
			struct kp_addrs oa = {.addrs = {after, 8}};
			uint32_t n = 0, n2 = 0;
			struct kp_seg so2;

			cr_assert_eq(kp_addrs_decode(&s, 1, 0, apis[i], v, &ob),
				     KP_OK);
			/* Identity when nothing is mapped. */
			cr_assert_eq(kp_addrs_rewrite(&s, 1, 0, apis[i], v,
						      map_none, NULL, &w, &n),
				     KP_OK);
			cr_assert_eq(n, 0);
			cr_assert_eq(w.len, len, "%s v%d", a->name, v);
			cr_assert(memcmp(out_buf, frame, len) == 0);
			/* Everything mapped. */
			w.len = 0;
			cr_assert_eq(kp_addrs_rewrite(&s, 1, 0, apis[i], v,
						      map_all, NULL, &w, &n),
				     KP_OK);
			cr_assert_eq(kp_addrs_rewrite(&s, 1, 0, apis[i], v,
						      map_all, NULL, &count,
						      &n2),
				     KP_OK);
			cr_assert_eq(count.len, w.len);
			cr_assert_eq(n, ob.addrs.total, "%s v%d: %u of %u",
				     a->name, v, n, ob.addrs.total);
			so2 = one(out_buf, w.len);
			cr_assert_eq(
				kp_addrs_decode(&so2, 1, 0, apis[i], v, &oa),
				KP_OK);
			cr_assert_eq(oa.addrs.total, ob.addrs.total);
			for (uint32_t k = 0; k < oa.addrs.n; k++) {
				cr_assert_eq(after[k].node_id,
					     before[k].node_id);
				cr_assert(kp_str_eq(&so2, 1, &after[k].host,
						    "proxy.local"));
				cr_assert_eq(after[k].port,
					     40000 + before[k].node_id % 1000);
			}
			with_addrs += ob.addrs.total > 0;
		}
	}
	cr_assert(with_addrs >= 25, "only %u versions carried addresses",
		  with_addrs);
}

Test(meta, rewrite_keeps_trailing_byte)
{
	struct kp_seg s = one(md_v12_trailing, sizeof(md_v12_trailing));
	struct kp_wbuf w = {out_buf, sizeof(out_buf), 0, 0};
	struct kp_md_broker b[1];
	struct kp_metadata_resp o = {.brokers = {b, 1}};
	uint32_t n;
	struct kp_seg s2;

	cr_assert_eq(kp_addrs_rewrite(&s, 1, 0, KP_API_METADATA, 12, map_all,
				      NULL, &w, &n),
		     KP_TRAILING);
	cr_assert_eq(n, 1);
	cr_assert_eq(w.len, sizeof(md_v12_trailing) + 2);
	cr_assert_eq(out_buf[3], 0x26 + 2, "size prefix follows the body");
	s2 = one(out_buf, w.len);
	cr_assert_eq(kp_metadata_resp_decode(&s2, 1, 0, 12, &o), KP_TRAILING);
	cr_assert(kp_str_eq(&s2, 1, &b[0].host, "proxy.local"));
	cr_assert_eq(b[0].port, 40001);
}

static int16_t cap_metadata(void *ctx, int16_t key, int16_t min, int16_t max)
{
	(void)ctx;
	return key == KP_API_METADATA ? 4 : max;
}

Test(meta, apiversions_cap)
{
	struct synth_opts so = {.array_len = 3, .str_len = 2};
	int16_t vs[4];
	int nv = boundaries(KP_API_API_VERSIONS, vs);

	for (int i = 0; i < nv; i++) {
		size_t len = synth_resp_frame(KP_API_API_VERSIONS, vs[i], 1,
					      &so, frame, sizeof(frame));
		struct kp_seg s = one(frame, len), s2;
		struct kp_wbuf w = {out_buf, sizeof(out_buf), 0, 0};
		struct kp_api_range r[4];
		struct kp_apiversions_resp o = {.apis = {r, 4}};

		/* synth writes api keys 1, 4, 7 ...: make the first one
		 * Metadata with a wide range. */
		(void)s;
		cr_assert_eq(kp_apiversions_resp_decode(&s, 1, 0, vs[i], &o),
			     KP_OK);
		cr_assert_eq(o.apis.n, 3);
		cr_assert_eq(kp_apiversions_cap(&s, 1, 0, vs[i], cap_metadata,
						NULL, &w),
			     KP_OK);
		cr_assert_eq(w.len, len);
		s2 = one(out_buf, w.len);
		cr_assert_eq(kp_apiversions_resp_decode(&s2, 1, 0, vs[i], &o),
			     KP_OK);
		for (uint32_t k = 0; k < o.apis.n; k++)
			if (r[k].key == KP_API_METADATA)
				cr_assert_leq(r[k].max, 4);
	}
	/* The refusal form is capped in its own layout. */
	{
		uint8_t patched[sizeof(av_refusal)];
		struct kp_seg s;
		struct kp_wbuf w = {out_buf, sizeof(out_buf), 0, 0};

		memcpy(patched, av_refusal, sizeof(patched));
		patched[15] = KP_API_METADATA;
		patched[19] = 9;
		s = one(patched, sizeof(patched));
		cr_assert_eq(
			kp_apiversions_cap(&s, 1, 0, 3, cap_metadata, NULL, &w),
			KP_OK);
		cr_assert_eq(out_buf[19], 4);
	}
}
