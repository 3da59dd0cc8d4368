/*
 * fuzz_records: kp_records_summary over arbitrary bytes, as a view read
 * from 1..4 segments and as a reader region. The prelude's api_key byte
 * (low 4 bits) is where the view starts; flag bit 6 makes the view claim
 * seed + 1 bytes more than are present, which must never pass for whole.
 */
#include "fuzz_common.h"
#include "fuzz_records_check.h"

#define FZ_F_CLAIM_MORE 0x40

static uint64_t digest(int rc, const struct kp_records_summary *s)
{
	uint64_t h = fz_mix(FZ_DIGEST_INIT, (uint64_t)rc);

	h = fz_mix(h, (uint64_t)s->size);
	h = fz_mix(h, s->batches);
	h = fz_mix(h, (uint64_t)s->records);
	h = fz_mix(h, s->bytes);
	h = fz_mix(h, s->partial_trailing);
	h = fz_mix(h, (uint64_t)s->magic);
	h = fz_mix(h, s->mixed_magic);
	h = fz_mix(h, s->codec);
	h = fz_mix(h, s->codec_mask);
	h = fz_mix(h, s->transactional);
	h = fz_mix(h, s->control);
	h = fz_mix(h, s->legacy_wrappers);
	h = fz_mix(h, (uint64_t)s->base_offset);
	h = fz_mix(h, (uint64_t)s->last_offset);
	h = fz_mix(h, (uint64_t)s->producer_id);
	h = fz_mix(h, (uint64_t)s->producer_epoch);
	return fz_mix(h, (uint64_t)s->partition_leader_epoch);
}

/* The view of [start, start + len) as the walker would have made it. */
static struct kp_str view_at(const struct fz_segs *s, size_t start, int32_t len)
{
	struct kp_reader r;
	struct kp_str v;

	kp_reader_init(&r, s->seg, s->n, SIZE_MAX);
	kp_skip(&r, start);
	v.pos = r.pos;
	v.len = len;
	v.ptr = NULL;
	if (r.pos.seg < s->n && len > 0 &&
	    s->seg[r.pos.seg].len - r.pos.off >= (size_t)len)
		v.ptr = s->seg[r.pos.seg].ptr + r.pos.off;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_prelude p;
	struct fz_segs whole, cut;
	struct kp_records_summary sw, sc, sr;
	struct kp_str vw, vc;
	struct kp_reader r;
	size_t start, extra;
	int32_t len;
	int rw, rc, rr;

	if (!fz_prelude(&data, &size, &p) || size > INT32_MAX / 2)
		return 0;
	fz_segs_make(&whole, data, size, 1, p.cuts);
	fz_segs_make(&cut, data, size, p.nseg, p.cuts);
	start = (uint8_t)p.api_key & 0x0f;
	if (start > size)
		start = size;
	extra = (p.flags & FZ_F_CLAIM_MORE) ? (size_t)p.seed + 1 : 0;
	len = (int32_t)(size - start + extra);
	vw = view_at(&whole, start, len);
	vc = view_at(&cut, start, len);
	rw = kp_records_summary(whole.seg, whole.n, &vw, &sw);
	rc = kp_records_summary(cut.seg, cut.n, &vc, &sc);
	fz_check_records(rw, &sw, len);
	fz_check_records(rc, &sc, len);
	FZ_CHECK(digest(rw, &sw) == digest(rc, &sc),
		 "summaries differ: %s whole, %s cut", kp_status_str(rw),
		 kp_status_str(rc));
	if (extra) {
		FZ_CHECK(rw == KP_NEED_MORE || rw == KP_ERR_MALFORMED,
			 "%s with %zu bytes missing", kp_status_str(rw), extra);
	} else {
		FZ_CHECK(rw != KP_NEED_MORE, "need more with every byte here");
		/* The same region through a reader: without a limit it is
		 * what is present; with one, up to it. */
		kp_reader_init(&r, cut.seg, cut.n, SIZE_MAX);
		kp_skip(&r, start);
		rr = kp_records_summary_reader(&r, &sr);
		FZ_CHECK(digest(rr, &sr) == digest(rw, &sw),
			 "reader gave %s, view %s", kp_status_str(rr),
			 kp_status_str(rw));
		if (rr == KP_OK || rr == KP_TRAILING)
			FZ_CHECK(r.pos.abs == size && r.err == 0,
				 "reader left at %zu of %zu", r.pos.abs, size);
		kp_reader_init(&r, whole.seg, whole.n, size);
		kp_skip(&r, start);
		rr = kp_records_summary_reader(&r, &sr);
		FZ_CHECK(digest(rr, &sr) == digest(rw, &sw),
			 "limited reader gave %s, view %s", kp_status_str(rr),
			 kp_status_str(rw));
	}
	/* A null field is no batches, whatever follows. */
	vw.len = -1;
	vw.ptr = NULL;
	rw = kp_records_summary(whole.seg, whole.n, &vw, &sw);
	fz_check_records(rw, &sw, -1);
	fz_segs_free(&whole);
	fz_segs_free(&cut);
	return 0;
}
