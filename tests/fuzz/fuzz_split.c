/*
 * fuzz_split: framing over arbitrary bytes. The input after the prelude is
 * read as a stream of request frames (or, with the response flag, of
 * responses to api_key/api_version), split frame by frame as the proxy
 * does, once from one segment and once cut into 1..4 segments: both must
 * agree, and every result must keep the contract of kp_frame.h.
 */
#include "fuzz_common.h"
#include "kp_frame.h"
#include "kp_schema.h"

#define MAX_FRAMES 64

static int str_same(const struct kp_seg *sa, uint32_t na,
		    const struct kp_str *a, const struct kp_seg *sb,
		    uint32_t nb, const struct kp_str *b)
{
	return fz_mix_str(FZ_DIGEST_INIT, sa, na, a) ==
	       fz_mix_str(FZ_DIGEST_INIT, sb, nb, b);
}

static int req_same(const struct kp_req_hdr *a, const struct kp_req_hdr *b)
{
	return a->api_key == b->api_key && a->api_version == b->api_version &&
	       a->corr_id == b->corr_id && a->hdr_version == b->hdr_version &&
	       a->unknown_tags == b->unknown_tags;
}

static int frame_same(const struct kp_frame *a, const struct kp_frame *b)
{
	return a->size == b->size && a->total == b->total &&
	       a->hdr_len == b->hdr_len && a->body.abs == b->body.abs &&
	       a->no_response == b->no_response;
}

static size_t segs_len(const struct kp_seg *s, uint32_t n)
{
	size_t t = 0;

	for (uint32_t i = 0; i < n; i++)
		t += s[i].len;
	return t;
}

/* The frame size: the same from any cut, and consistent. */
static void check_size(const struct kp_seg *w, uint32_t nw,
		       const struct kp_seg *c, uint32_t nc, size_t max)
{
	int32_t sw = -7, sc = -7;
	int rw = kp_frame_size(w, nw, max, &sw);
	int rc = kp_frame_size(c, nc, max, &sc);
	size_t avail = segs_len(w, nw);

	FZ_CHECK(rw == KP_OK || rw == KP_NEED_MORE || rw == KP_ERR_MALFORMED ||
			 rw == KP_ERR_TOO_LARGE,
		 "kp_frame_size gave %d", rw);
	FZ_CHECK(rw == rc, "kp_frame_size: %s whole, %s cut", kp_status_str(rw),
		 kp_status_str(rc));
	FZ_CHECK((rw == KP_NEED_MORE) == (avail < 4), "%s with %zu bytes",
		 kp_status_str(rw), avail);
	if (rw != KP_NEED_MORE)
		FZ_CHECK(sw == sc, "size %d whole, %d cut", sw, sc);
	if (rw == KP_OK)
		FZ_CHECK(sw >= 0 && (size_t)sw <=
					    (max ? max : KP_DEFAULT_MAX_FRAME),
			 "size %d accepted", sw);
}

/* One request at the start of w (whole) and c (cut): returns the frame's
 * total to pass on, or 0 when the stream cannot go on. */
static size_t split_req(const struct kp_seg *w, uint32_t nw,
			const struct kp_seg *c, uint32_t nc, size_t max)
{
	struct kp_req_hdr hw, hc;
	struct kp_frame fw, fc;
	size_t avail = segs_len(w, nw);
	int rw = kp_split_req(w, nw, max, &hw, &fw);
	int rc = kp_split_req(c, nc, max, &hc, &fc);

	FZ_CHECK(rw == KP_OK || rw == KP_NEED_MORE || rw == KP_ERR_MALFORMED ||
			 rw == KP_ERR_TOO_LARGE || rw == KP_ERR_UNKNOWN_API ||
			 rw == KP_ERR_UNSUPPORTED_VERSION,
		 "kp_split_req gave %d", rw);
	FZ_CHECK(rw == rc, "kp_split_req: %s whole, %s cut", kp_status_str(rw),
		 kp_status_str(rc));
	if (rw != KP_OK && rw != KP_ERR_UNKNOWN_API &&
	    rw != KP_ERR_UNSUPPORTED_VERSION) {
		/* "Need more" only while the frame is not all here. */
		if (rw == KP_NEED_MORE && avail >= 4)
			FZ_CHECK(avail < 4 + (size_t)fw.size,
				 "need more with the whole frame (%zu of %d)",
				 avail, fw.size);
		return 0;
	}
	FZ_CHECK(req_same(&hw, &hc), "headers differ whole/cut");
	FZ_CHECK(frame_same(&fw, &fc), "frames differ whole/cut");
	FZ_CHECK(fw.total == 4 + (size_t)fw.size, "total %zu, size %d",
		 fw.total, fw.size);
	FZ_CHECK(fw.hdr_len <= fw.total && fw.hdr_len <= avail,
		 "header %zu, frame %zu, present %zu", fw.hdr_len, fw.total,
		 avail);
	FZ_CHECK(fw.body.abs == fw.hdr_len, "body at %zu, header %zu",
		 fw.body.abs, fw.hdr_len);
	if (rw != KP_OK) {
		/* Unknown key or version: only the fixed part was read. */
		FZ_CHECK(hw.hdr_version == -1 && fw.hdr_len == 12,
			 "%s: hdr_version %d, hdr_len %zu", kp_status_str(rw),
			 hw.hdr_version, fw.hdr_len);
		FZ_CHECK((rw == KP_ERR_UNKNOWN_API) == !kp_api_get(hw.api_key),
			 "%s for key %d", kp_status_str(rw), hw.api_key);
		return fw.total;
	}
	FZ_CHECK(hw.hdr_version >= 0 && hw.hdr_version <= 2, "hdr_version %d",
		 hw.hdr_version);
	FZ_CHECK(hw.hdr_version ==
			 kp_req_hdr_version(hw.api_key, hw.api_version),
		 "hdr_version %d for %d v%d", hw.hdr_version, hw.api_key,
		 hw.api_version);
	FZ_CHECK(fz_view_ok(w, nw, &hw.client_id), "client_id view (whole)");
	FZ_CHECK(fz_view_ok(c, nc, &hc.client_id), "client_id view (cut)");
	FZ_CHECK(str_same(w, nw, &hw.client_id, c, nc, &hc.client_id),
		 "client_id differs whole/cut");
	FZ_CHECK(hw.hdr_version >= 1 || hw.client_id.len == -1,
		 "client_id in a v0 header");
	FZ_CHECK(!fw.no_response || hw.api_key == KP_API_PRODUCE,
		 "no_response for api %d", hw.api_key);
	/* Headers need only their own bytes (Produce: up to acks): one
	 * byte less says "need more"; exactly them gives the same. */
	{
		struct kp_seg p[FZ_MAX_SEGS];
		uint32_t np = fz_segs_view(c, nc, 0, fw.hdr_len - 1, p);
		struct kp_req_hdr hp;
		struct kp_frame fp;
		int r = kp_split_req(p, np, max, &hp, &fp);

		FZ_CHECK(r == KP_NEED_MORE, "header less a byte gave %s",
			 kp_status_str(r));
		if (hw.api_key != KP_API_PRODUCE) {
			np = fz_segs_view(c, nc, 0, fw.hdr_len, p);
			r = kp_split_req(p, np, max, &hp, &fp);
			FZ_CHECK(r == KP_OK && req_same(&hp, &hw) &&
					 frame_same(&fp, &fw),
				 "header alone gave %s", kp_status_str(r));
		}
	}
	return fw.total;
}

/* One response to key/version at the start of w and c. */
static size_t split_resp(const struct kp_seg *w, uint32_t nw,
			 const struct kp_seg *c, uint32_t nc, size_t max,
			 int16_t key, int16_t version)
{
	struct kp_resp_hdr hw, hc;
	struct kp_frame fw, fc;
	size_t avail = segs_len(w, nw);
	int32_t corr_w = 7, corr_c = 7;
	int pw = kp_peek_resp_corr(w, nw, max, &corr_w);
	int pc = kp_peek_resp_corr(c, nc, max, &corr_c);
	int rw = kp_split_resp(w, nw, max, key, version, &hw, &fw);
	int rc = kp_split_resp(c, nc, max, key, version, &hc, &fc);
	int hv = kp_resp_hdr_version(key, version);

	FZ_CHECK(pw == KP_OK || pw == KP_NEED_MORE || pw == KP_ERR_MALFORMED ||
			 pw == KP_ERR_TOO_LARGE,
		 "kp_peek_resp_corr gave %d", pw);
	FZ_CHECK(pw == pc && corr_w == corr_c,
		 "kp_peek_resp_corr: %s/%d whole, %s/%d cut", kp_status_str(pw),
		 corr_w, kp_status_str(pc), corr_c);
	FZ_CHECK(rw == KP_OK || rw == KP_NEED_MORE || rw == KP_ERR_MALFORMED ||
			 rw == KP_ERR_TOO_LARGE || rw == KP_ERR_UNKNOWN_API ||
			 rw == KP_ERR_UNSUPPORTED_VERSION,
		 "kp_split_resp gave %d", rw);
	FZ_CHECK(rw == rc, "kp_split_resp: %s whole, %s cut", kp_status_str(rw),
		 kp_status_str(rc));
	if (pw == KP_OK && avail >= 8) {
		const uint8_t *b = NULL;
		uint8_t raw[8];
		struct kp_reader r;

		kp_reader_init(&r, w, nw, SIZE_MAX);
		kp_read_bytes(&r, raw, 8);
		b = raw;
		FZ_CHECK(corr_w == (int32_t)((uint32_t)b[4] << 24 |
					     (uint32_t)b[5] << 16 |
					     (uint32_t)b[6] << 8 | b[7]),
			 "peeked correlation id %d", corr_w);
	}
	if (rw == KP_NEED_MORE && avail >= 4) {
		int32_t size = 0;

		if (kp_frame_size(w, nw, max, &size) == KP_OK)
			FZ_CHECK(avail < 4 + (size_t)size,
				 "need more with the whole frame");
	}
	if (rw != KP_OK && rw != KP_ERR_UNKNOWN_API &&
	    rw != KP_ERR_UNSUPPORTED_VERSION)
		return 0;
	FZ_CHECK(pw == KP_OK && hw.corr_id == corr_w,
		 "split gave corr %d, peek %s %d", hw.corr_id,
		 kp_status_str(pw), corr_w);
	FZ_CHECK(hw.corr_id == hc.corr_id && hw.hdr_version == hc.hdr_version &&
			 hw.unknown_tags == hc.unknown_tags,
		 "response headers differ whole/cut");
	FZ_CHECK(frame_same(&fw, &fc), "frames differ whole/cut");
	FZ_CHECK(fw.total == 4 + (size_t)fw.size, "total %zu", fw.total);
	FZ_CHECK(fw.hdr_len <= fw.total && fw.hdr_len <= avail &&
			 fw.hdr_len >= 8,
		 "header %zu, frame %zu, present %zu", fw.hdr_len, fw.total,
		 avail);
	if (rw != KP_OK) {
		FZ_CHECK(hv < 0 && hw.hdr_version == -1,
			 "%s with header version %d", kp_status_str(rw), hv);
		return fw.total;
	}
	FZ_CHECK(hv >= 0 && hw.hdr_version == hv, "hdr_version %d, want %d",
		 hw.hdr_version, hv);
	{
		struct kp_seg p[FZ_MAX_SEGS];
		uint32_t np = fz_segs_view(c, nc, 0, fw.hdr_len - 1, p);
		struct kp_resp_hdr hp;
		struct kp_frame fp;
		int r = kp_split_resp(p, np, max, key, version, &hp, &fp);

		FZ_CHECK(r == KP_NEED_MORE, "header less a byte gave %s",
			 kp_status_str(r));
		np = fz_segs_view(c, nc, 0, fw.hdr_len, p);
		r = kp_split_resp(p, np, max, key, version, &hp, &fp);
		FZ_CHECK(r == KP_OK && hp.corr_id == hw.corr_id &&
				 frame_same(&fp, &fw),
			 "header alone gave %s", kp_status_str(r));
	}
	return fw.total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_prelude p;
	struct fz_segs whole, cut;
	size_t off = 0;

	if (!fz_prelude(&data, &size, &p))
		return 0;
	fz_segs_make(&whole, data, size, 1, p.cuts);
	fz_segs_make(&cut, data, size, p.nseg, p.cuts);
	for (int i = 0; i < MAX_FRAMES && off < size; i++) {
		struct kp_seg w[FZ_MAX_SEGS], c[FZ_MAX_SEGS];
		uint32_t nw =
			fz_segs_view(whole.seg, whole.n, off, size - off, w);
		uint32_t nc = fz_segs_view(cut.seg, cut.n, off, size - off, c);
		size_t total;
		struct kp_split sp;

		check_size(w, nw, c, nc, p.max_frame);
		if (p.flags & FZ_F_RESP)
			total = split_resp(w, nw, c, nc, p.max_frame, p.api_key,
					   p.api_version);
		else
			total = split_req(w, nw, c, nc, p.max_frame);
		if (total == 0)
			break;
		/* Pass the frame on as byte counts, segment by segment. */
		kp_split_begin(&sp, &(struct kp_frame){.total = total});
		for (uint32_t k = 0; k < nc && !kp_split_at_boundary(&sp); k++)
			off += kp_split_consume(&sp, c[k].len);
		if (!kp_split_at_boundary(&sp))
			break; /* the rest of the frame is not here */
	}
	fz_segs_free(&whole);
	fz_segs_free(&cut);
	return 0;
}
