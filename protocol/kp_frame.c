/*
 * kp_frame: size prefixes, request and response headers, and whole-frame
 * walks. Header versions come from the generated API table, so the two
 * exceptions (ControlledShutdown v0, ApiVersions responses) live there.
 */
#include "kp_frame.h"

#include <string.h>

#include "kp_schema.h"

int kp_frame_size(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		  int32_t *size)
{
	struct kp_reader r;

	kp_reader_init(&r, segs, nseg, SIZE_MAX);
	*size = kp_read_i32(&r);
	if (r.err)
		return r.err;
	if (*size < 0)
		return KP_ERR_MALFORMED;
	if ((size_t)*size > (max_frame ? max_frame : KP_DEFAULT_MAX_FRAME))
		return KP_ERR_TOO_LARGE;
	return KP_OK;
}

/* Start a reader at a frame's first byte with its limit at the frame end. */
static int frame_open(const struct kp_seg *segs, uint32_t nseg,
		      size_t max_frame, struct kp_reader *r,
		      struct kp_frame *fr)
{
	int rc;

	memset(fr, 0, sizeof(*fr));
	rc = kp_frame_size(segs, nseg, max_frame, &fr->size);
	if (rc != KP_OK)
		return rc;
	fr->total = 4 + (size_t)fr->size;
	kp_reader_init(r, segs, nseg, fr->total);
	kp_skip(r, 4);
	return KP_OK;
}

static void frame_close_hdr(const struct kp_reader *r, struct kp_frame *fr)
{
	fr->hdr_len = r->pos.abs;
	fr->body = r->pos;
}

static int read_req_hdr(struct kp_reader *r, struct kp_req_hdr *h)
{
	int hv;

	memset(h, 0, sizeof(*h));
	h->client_id.len = -1;
	h->hdr_version = -1;
	h->api_key = kp_read_i16(r);
	h->api_version = kp_read_i16(r);
	h->corr_id = kp_read_i32(r);
	if (r->err)
		return r->err;
	if (!kp_api_get(h->api_key))
		return KP_ERR_UNKNOWN_API;
	hv = kp_req_hdr_version(h->api_key, h->api_version);
	if (hv < 0)
		return KP_ERR_UNSUPPORTED_VERSION;
	if (hv >= 1)
		h->client_id = kp_read_str(r, 0);
	if (hv >= 2)
		h->unknown_tags = kp_skip_tags(r);
	if (r->err)
		return r->err;
	h->hdr_version = (int8_t)hv;
	return KP_OK;
}

/* Produce: [v3+] nullable str transactional_id, i16 acks, ...
 * acks=0 means the broker sends no response at all. */
static int peek_produce_acks(struct kp_reader r, const struct kp_req_hdr *h,
			     struct kp_frame *fr)
{
	int16_t acks;

	if (h->api_version >= 3)
		(void)kp_read_str(&r, h->hdr_version >= 2);
	acks = kp_read_i16(&r);
	if (r.err)
		return r.err;
	fr->no_response = acks == 0;
	return KP_OK;
}

int kp_split_req(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		 struct kp_req_hdr *h, struct kp_frame *fr)
{
	struct kp_reader r;
	int rc = frame_open(segs, nseg, max_frame, &r, fr);

	if (rc != KP_OK) {
		memset(h, 0, sizeof(*h));
		h->hdr_version = -1;
		return rc;
	}
	rc = read_req_hdr(&r, h);
	frame_close_hdr(&r, fr);
	if (rc == KP_OK && h->api_key == KP_API_PRODUCE)
		rc = peek_produce_acks(r, h, fr);
	return rc;
}

int kp_peek_resp_corr(const struct kp_seg *segs, uint32_t nseg,
		      size_t max_frame, int32_t *corr_id)
{
	struct kp_reader r;
	struct kp_frame fr;
	int rc = frame_open(segs, nseg, max_frame, &r, &fr);

	*corr_id = 0;
	if (rc != KP_OK)
		return rc;
	*corr_id = kp_read_i32(&r);
	return r.err;
}

static int read_resp_hdr(struct kp_reader *r, int hv, struct kp_resp_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->hdr_version = -1;
	h->corr_id = kp_read_i32(r);
	if (hv >= 1)
		h->unknown_tags = kp_skip_tags(r);
	if (r->err)
		return r->err;
	h->hdr_version = (int8_t)hv;
	return KP_OK;
}

int kp_split_resp(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		  int16_t api_key, int16_t api_version, struct kp_resp_hdr *h,
		  struct kp_frame *fr)
{
	struct kp_reader r;
	int hv = kp_resp_hdr_version(api_key, api_version);
	int rc = frame_open(segs, nseg, max_frame, &r, fr);

	memset(h, 0, sizeof(*h));
	h->hdr_version = -1;
	if (rc != KP_OK)
		return rc;
	if (hv < 0) {
		/* Still give the correlation id: it is the same in every
		 * header version. */
		h->corr_id = kp_read_i32(&r);
		frame_close_hdr(&r, fr);
		if (r.err)
			return r.err;
		return kp_api_get(api_key) ? KP_ERR_UNSUPPORTED_VERSION
					   : KP_ERR_UNKNOWN_API;
	}
	rc = read_resp_hdr(&r, hv, h);
	frame_close_hdr(&r, fr);
	return rc;
}

/* The frame must be all present before its body is walked. */
static int need_whole(const struct kp_reader *r, const struct kp_frame *fr)
{
	return r->avail < fr->total ? KP_NEED_MORE : KP_OK;
}

int kp_walk_req(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		kp_visit_fn visit, void *ctx, struct kp_req_hdr *h,
		struct kp_walk_stats *st)
{
	struct kp_reader r;
	struct kp_frame fr;
	int rc = frame_open(segs, nseg, max_frame, &r, &fr);

	if (st)
		memset(st, 0, sizeof(*st));
	if (rc == KP_OK)
		rc = need_whole(&r, &fr);
	if (rc != KP_OK) {
		memset(h, 0, sizeof(*h));
		h->hdr_version = -1;
		return rc;
	}
	rc = read_req_hdr(&r, h);
	if (rc != KP_OK)
		return rc;
	return kp_walk_body(&r, kp_api_get(h->api_key)->req, h->api_version,
			    visit, ctx, NULL, st);
}

int kp_walk_resp(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		 int16_t api_key, int16_t api_version, kp_visit_fn visit,
		 void *ctx, struct kp_resp_hdr *h, struct kp_walk_stats *st)
{
	struct kp_reader r;
	struct kp_frame fr;
	int hv = kp_resp_hdr_version(api_key, api_version);
	int rc = frame_open(segs, nseg, max_frame, &r, &fr);

	if (st)
		memset(st, 0, sizeof(*st));
	memset(h, 0, sizeof(*h));
	h->hdr_version = -1;
	if (rc == KP_OK)
		rc = need_whole(&r, &fr);
	if (rc != KP_OK)
		return rc;
	if (hv < 0)
		return kp_api_get(api_key) ? KP_ERR_UNSUPPORTED_VERSION
					   : KP_ERR_UNKNOWN_API;
	rc = read_resp_hdr(&r, hv, h);
	if (rc != KP_OK)
		return rc;
	return kp_walk_body(&r, kp_api_get(api_key)->resp, api_version, visit,
			    ctx, NULL, st);
}

int kp_rewrite_resp(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		    int16_t api_key, int16_t api_version, kp_visit_fn visit,
		    void *ctx, struct kp_wbuf *out)
{
	struct kp_reader r, hr;
	struct kp_frame fr;
	struct kp_resp_hdr h;
	struct kp_walk_stats st;
	int hv = kp_resp_hdr_version(api_key, api_version);
	size_t start = out->len;
	int rc = frame_open(segs, nseg, max_frame, &r, &fr);

	if (rc == KP_OK)
		rc = need_whole(&r, &fr);
	if (rc != KP_OK)
		return rc;
	if (hv < 0)
		return kp_api_get(api_key) ? KP_ERR_UNSUPPORTED_VERSION
					   : KP_ERR_UNKNOWN_API;
	rc = read_resp_hdr(&r, hv, &h);
	if (rc != KP_OK)
		return rc;
	/* Size placeholder, then the header as it was. */
	kp_wbuf_i32(out, 0);
	kp_reader_init(&hr, segs, nseg, fr.total);
	kp_skip(&hr, 4);
	kp_wbuf_copy(out, &hr, hr.pos, r.pos.abs - 4);
	rc = kp_walk_body(&r, kp_api_get(api_key)->resp, api_version, visit,
			  ctx, out, &st);
	if (rc != KP_OK && rc != KP_TRAILING)
		return rc;
	if (out->nospace)
		return KP_ERR_NOSPACE;
	if (out->len - start - 4 > (size_t)INT32_MAX)
		return KP_ERR_TOO_LARGE;
	if (out->buf) {
		uint32_t n = (uint32_t)(out->len - start - 4);

		out->buf[start] = (uint8_t)(n >> 24);
		out->buf[start + 1] = (uint8_t)(n >> 16);
		out->buf[start + 2] = (uint8_t)(n >> 8);
		out->buf[start + 3] = (uint8_t)n;
	}
	return rc;
}
