/*
 * Framing: size prefixes, request and response headers in every header
 * version (with their exceptions), the Produce acks=0 peek, and the byte
 * counting that lets a proxy stream bodies.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"
#include "kp_frame.h"
#include "kp_schema.h"
#include "synth.h"

static struct kp_seg one(const uint8_t *b, size_t len)
{
	struct kp_seg s = {b, len};

	return s;
}

Test(frame, size_prefix)
{
	static const uint8_t neg[] = {0x80, 0, 0, 0};
	static const uint8_t big[] = {0x06, 0x40, 0x00, 0x01};
	static const uint8_t ok[] = {0, 0, 0, 8};
	struct kp_seg s = one(neg, 4);
	int32_t n;

	cr_assert_eq(kp_frame_size(&s, 1, 0, &n), KP_ERR_MALFORMED);
	s = one(big, 4); /* 100 MiB + 1 */
	cr_assert_eq(kp_frame_size(&s, 1, 0, &n), KP_ERR_TOO_LARGE);
	cr_assert_eq(kp_frame_size(&s, 1, 200u << 20, &n), KP_OK);
	s = one(ok, 3);
	cr_assert_eq(kp_frame_size(&s, 1, 0, &n), KP_NEED_MORE);
	s = one(ok, 4);
	cr_assert_eq(kp_frame_size(&s, 1, 16, &n), KP_OK);
	cr_assert_eq(n, 8);
}

/* ControlledShutdown v0: the one request with header v0 (no client id). */
static const uint8_t cs_v0[] = {
	0x00, 0x00, 0x00, 0x0c, /* size 12 */
	0x00, 0x07, 0x00, 0x00, /* ControlledShutdown v0 */
	0x00, 0x00, 0x00, 0x2a, /* correlation id 42 */
	0x00, 0x00, 0x00, 0x05, /* broker id 5 */
};

Test(frame, request_header_v0_exception)
{
	struct kp_seg s = one(cs_v0, sizeof(cs_v0));
	struct kp_req_hdr h;
	struct kp_frame fr;

	cr_assert_eq(kp_req_hdr_version(KP_API_CONTROLLED_SHUTDOWN, 0), 0);
	cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr), KP_OK);
	cr_assert_eq(h.hdr_version, 0);
	cr_assert_eq(h.corr_id, 42);
	cr_assert_eq(h.client_id.len, -1);
	cr_assert_eq(fr.hdr_len, 12);
	cr_assert_eq(fr.total, 16);
}

Test(frame, header_versions_follow_flexibility)
{
	cr_assert_eq(kp_req_hdr_version(KP_API_METADATA, 8), 1);
	cr_assert_eq(kp_req_hdr_version(KP_API_METADATA, 9), 2);
	cr_assert_eq(kp_resp_hdr_version(KP_API_METADATA, 8), 0);
	cr_assert_eq(kp_resp_hdr_version(KP_API_METADATA, 9), 1);
	/* ApiVersions responses keep header v0 even when flexible. */
	cr_assert_eq(kp_req_hdr_version(KP_API_API_VERSIONS, 3), 2);
	cr_assert_eq(kp_resp_hdr_version(KP_API_API_VERSIONS, 3), 0);
	cr_assert_eq(kp_req_hdr_version(KP_API_METADATA, 99), -1);
	cr_assert_eq(kp_req_hdr_version(999, 0), -1);
}

Test(frame, every_api_every_version_request_header)
{
	uint8_t buf[8192];

	for (int16_t k = 0; k < kp_api_count; k++) {
		const struct kp_api *a = kp_api_get(k);

		if (!a)
			continue;
		for (int16_t v = a->vmin; v <= a->vmax; v++) {
			size_t len = synth_req_frame(k, v, 77, "cid", NULL, buf,
						     sizeof(buf));
			struct kp_seg s = one(buf, len);
			struct kp_req_hdr h;
			struct kp_frame fr;

			cr_assert(len > 0);
			cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr), KP_OK,
				     "%s v%d", a->name, v);
			cr_assert_eq(h.api_key, k);
			cr_assert_eq(h.api_version, v);
			cr_assert_eq(h.corr_id, 77);
			cr_assert_eq(fr.total, len);
			if (h.hdr_version >= 1)
				cr_assert(
					kp_str_eq(&s, 1, &h.client_id, "cid"));
			/* A header cut short asks for more. */
			for (size_t cut = 0; cut < fr.hdr_len; cut++) {
				s.len = cut;
				cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr),
					     KP_NEED_MORE);
			}
		}
	}
}

Test(frame, unknown_api_and_version_still_split)
{
	uint8_t buf[64] = {0, 0, 0, 20, 0x7f, 0x00, 0, 1, 0, 0, 0, 9};
	struct kp_seg s = one(buf, 24);
	struct kp_req_hdr h;
	struct kp_frame fr;

	cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr), KP_ERR_UNKNOWN_API);
	cr_assert_eq(h.api_key, 0x7f00);
	cr_assert_eq(h.corr_id, 9);
	cr_assert_eq(h.hdr_version, -1);
	cr_assert_eq(fr.total, 24, "the frame can still be passed on");
	buf[4] = 0;
	buf[5] = KP_API_METADATA;
	buf[6] = 0x01; /* version 256 */
	cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr),
		     KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(fr.total, 24);
}

/* Produce v3 with acks=0: the broker will not answer. */
static const uint8_t produce_acks0[] = {
	0x00, 0x00, 0x00, 0x1a, /* size 26 */
	0x00, 0x00, 0x00, 0x03, /* Produce v3 */
	0x00, 0x00, 0x00, 0x01, /* correlation id 1 */
	0x00, 0x01, 'p',        /* client id "p" */
	0xff, 0xff,             /* transactional id null */
	0x00, 0x00,             /* acks 0 */
	0x00, 0x00, 0x75, 0x30, /* timeout 30000 */
	0x00, 0x00, 0x00, 0x00, /* no topics */
	0x00, 0x00, 0x00,       /* (pad to the size) */
};

Test(frame, produce_acks0_has_no_response)
{
	uint8_t b[sizeof(produce_acks0)];
	struct kp_seg s = one(b, sizeof(b));
	struct kp_req_hdr h;
	struct kp_frame fr;

	memcpy(b, produce_acks0, sizeof(b));
	cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr), KP_OK);
	cr_assert_eq(fr.no_response, 1);
	cr_assert_eq(fr.hdr_len, 15, "the body is not consumed by the peek");
	b[18] = 0x01; /* acks 1 */
	cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr), KP_OK);
	cr_assert_eq(fr.no_response, 0);
	b[17] = 0xff;
	b[18] = 0xff; /* acks -1 */
	cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr), KP_OK);
	cr_assert_eq(fr.no_response, 0);
	/* Header complete but acks not yet here: more bytes needed. */
	s.len = 18;
	cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr), KP_NEED_MORE);
}

Test(frame, response_header)
{
	static const uint8_t r1[] = {0, 0, 0, 6, 0, 0, 0, 3, 0x00, 0xaa};
	struct kp_seg s = one(r1, sizeof(r1));
	struct kp_resp_hdr h;
	struct kp_frame fr;
	int32_t corr;

	cr_assert_eq(kp_peek_resp_corr(&s, 1, 0, &corr), KP_OK);
	cr_assert_eq(corr, 3);
	cr_assert_eq(kp_split_resp(&s, 1, 0, KP_API_METADATA, 12, &h, &fr),
		     KP_OK);
	cr_assert_eq(h.hdr_version, 1);
	cr_assert_eq(fr.hdr_len, 9);
	cr_assert_eq(kp_split_resp(&s, 1, 0, KP_API_API_VERSIONS, 3, &h, &fr),
		     KP_OK);
	cr_assert_eq(h.hdr_version, 0);
	cr_assert_eq(fr.hdr_len, 8);
	cr_assert_eq(kp_split_resp(&s, 1, 0, KP_API_METADATA, 77, &h, &fr),
		     KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_eq(h.corr_id, 3);
}

Test(frame, streaming_counter)
{
	struct kp_split sp = {0};
	struct kp_frame fr = {.total = 100};

	cr_assert(kp_split_at_boundary(&sp));
	kp_split_begin(&sp, &fr);
	cr_assert_eq(kp_split_consume(&sp, 30), 30);
	cr_assert_not(kp_split_at_boundary(&sp));
	cr_assert_eq(kp_split_consume(&sp, 500), 70);
	cr_assert(kp_split_at_boundary(&sp));
}
