/*
 * kp_reader: bounds-checked big-endian reads over a segment list.
 * Every read goes through kp_reader_need(), which decides between "the
 * frame is not all here yet" and "the frame lies about its own size".
 */
#include "kp_reader.h"

#include <stdint.h>
#include <string.h>

const char *kp_status_str(int status)
{
	switch (status) {
	case KP_OK:
		return "ok";
	case KP_NEED_MORE:
		return "need more bytes";
	case KP_TRAILING:
		return "trailing bytes";
	case KP_ERR_MALFORMED:
		return "malformed";
	case KP_ERR_UNSUPPORTED_VERSION:
		return "unsupported version";
	case KP_ERR_TOO_LARGE:
		return "too large";
	case KP_ERR_UNKNOWN_API:
		return "unknown api";
	case KP_ERR_NOSPACE:
		return "no space";
	}
	return "unknown status";
}

static size_t segs_total(const struct kp_seg *segs, uint32_t nseg)
{
	size_t n = 0;

	for (uint32_t i = 0; i < nseg; i++)
		n += segs[i].len;
	return n;
}

void kp_reader_init(struct kp_reader *r, const struct kp_seg *segs,
		    uint32_t nseg, size_t limit)
{
	memset(r, 0, sizeof(*r));
	r->segs = segs;
	r->nseg = nseg;
	r->avail = segs_total(segs, nseg);
	r->limit = limit;
	/* Skip leading empty segments so pos always names a readable byte. */
	while (r->pos.seg < nseg && segs[r->pos.seg].len == 0)
		r->pos.seg++;
}

void kp_reader_init_buf(struct kp_reader *r, struct kp_seg *seg,
			const uint8_t *buf, size_t len, size_t limit)
{
	seg->ptr = buf;
	seg->len = len;
	kp_reader_init(r, seg, 1, limit);
}

size_t kp_reader_remaining(const struct kp_reader *r)
{
	size_t end = r->limit < r->avail ? r->limit : r->avail;

	return end > r->pos.abs ? end - r->pos.abs : 0;
}

size_t kp_reader_frame_left(const struct kp_reader *r)
{
	if (r->limit == SIZE_MAX)
		return SIZE_MAX;
	return r->limit > r->pos.abs ? r->limit - r->pos.abs : 0;
}

int kp_reader_need(struct kp_reader *r, size_t n)
{
	if (r->err)
		return r->err;
	if (n > kp_reader_frame_left(r)) {
		r->err = KP_ERR_MALFORMED;
		return r->err;
	}
	if (n > r->avail - r->pos.abs) {
		r->err = KP_NEED_MORE;
		return r->err;
	}
	return 0;
}

/* Advance by n bytes already known to be present, copying them to out if
 * out is not NULL. */
static void advance(struct kp_reader *r, uint8_t *out, size_t n)
{
	while (n > 0) {
		const struct kp_seg *s = &r->segs[r->pos.seg];
		size_t chunk = s->len - r->pos.off;

		if (chunk > n)
			chunk = n;
		if (out) {
			memcpy(out, s->ptr + r->pos.off, chunk);
			out += chunk;
		}
		n -= chunk;
		r->pos.off += (uint32_t)chunk;
		r->pos.abs += chunk;
		while (r->pos.seg < r->nseg &&
		       r->pos.off == r->segs[r->pos.seg].len) {
			r->pos.seg++;
			r->pos.off = 0;
		}
	}
}

void kp_read_bytes(struct kp_reader *r, void *out, size_t n)
{
	if (kp_reader_need(r, n)) {
		memset(out, 0, n);
		return;
	}
	advance(r, out, n);
}

void kp_skip(struct kp_reader *r, size_t n)
{
	if (kp_reader_need(r, n))
		return;
	advance(r, NULL, n);
}

static uint64_t read_be(struct kp_reader *r, size_t n)
{
	uint8_t b[8];
	uint64_t v = 0;

	/* Fast path: the bytes lie inside the current segment (not reaching
	 * its end, so the position needs no segment change) and the frame. */
	if (!r->err && r->pos.seg < r->nseg &&
	    r->segs[r->pos.seg].len - r->pos.off > n &&
	    n <= r->limit - r->pos.abs) {
		const uint8_t *p = r->segs[r->pos.seg].ptr + r->pos.off;

		for (size_t i = 0; i < n; i++)
			v = (v << 8) | p[i];
		r->pos.off += (uint32_t)n;
		r->pos.abs += n;
		return v;
	}
	kp_read_bytes(r, b, n);
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | b[i];
	return v;
}

int8_t kp_read_i8(struct kp_reader *r)
{
	return (int8_t)read_be(r, 1);
}

int16_t kp_read_i16(struct kp_reader *r)
{
	return (int16_t)read_be(r, 2);
}

uint16_t kp_read_u16(struct kp_reader *r)
{
	return (uint16_t)read_be(r, 2);
}

int32_t kp_read_i32(struct kp_reader *r)
{
	return (int32_t)read_be(r, 4);
}

uint32_t kp_read_u32(struct kp_reader *r)
{
	return (uint32_t)read_be(r, 4);
}

int64_t kp_read_i64(struct kp_reader *r)
{
	return (int64_t)read_be(r, 8);
}

double kp_read_f64(struct kp_reader *r)
{
	uint64_t u = read_be(r, 8);
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

void kp_read_uuid(struct kp_reader *r, uint8_t out[16])
{
	kp_read_bytes(r, out, 16);
}

/* Read a varint of at most maxbytes; value bits beyond valbits are
 * malformed, as is a continuation bit on the last allowed byte. */
static uint64_t read_uvar(struct kp_reader *r, int maxbytes, int valbits)
{
	uint64_t v = 0;

	for (int i = 0; i < maxbytes; i++) {
		uint8_t b = (uint8_t)read_be(r, 1);
		int shift = 7 * i;

		if (r->err)
			return 0;
		if (shift + 7 > valbits && (b & 0x7f) >> (valbits - shift)) {
			r->err = KP_ERR_MALFORMED;
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->err = KP_ERR_MALFORMED;
	return 0;
}

uint32_t kp_read_uvarint(struct kp_reader *r)
{
	return (uint32_t)read_uvar(r, 5, 32);
}

int32_t kp_read_varint(struct kp_reader *r)
{
	uint32_t u = kp_read_uvarint(r);

	return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

uint64_t kp_read_uvarlong(struct kp_reader *r)
{
	return read_uvar(r, 10, 64);
}

int64_t kp_read_varlong(struct kp_reader *r)
{
	uint64_t u = kp_read_uvarlong(r);

	return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

/* A view of the next len bytes, then skip them. */
static struct kp_str take_view(struct kp_reader *r, int32_t len)
{
	struct kp_str s = {.ptr = NULL, .len = len, .pos = r->pos};

	if (len <= 0 || kp_reader_need(r, (size_t)len)) {
		if (r->err)
			s.len = 0;
		return s;
	}
	if (r->segs[r->pos.seg].len - r->pos.off >= (size_t)len)
		s.ptr = r->segs[r->pos.seg].ptr + r->pos.off;
	advance(r, NULL, (size_t)len);
	return s;
}

static struct kp_str read_lenprefixed(struct kp_reader *r, int compact,
				      int wide)
{
	int32_t len;

	if (compact) {
		uint32_t u = kp_read_uvarint(r);

		if (u > (uint32_t)INT32_MAX) {
			if (!r->err)
				r->err = KP_ERR_MALFORMED;
		}
		len = (int32_t)u - 1;
	} else {
		len = wide ? kp_read_i32(r) : kp_read_i16(r);
	}
	if (r->err || len < -1) {
		struct kp_str bad = {.ptr = NULL, .len = 0, .pos = r->pos};

		if (!r->err)
			r->err = KP_ERR_MALFORMED;
		return bad;
	}
	if (len == -1) {
		struct kp_str null = {.ptr = NULL, .len = -1, .pos = r->pos};

		return null;
	}
	return take_view(r, len);
}

struct kp_str kp_read_str(struct kp_reader *r, int compact)
{
	return read_lenprefixed(r, compact, 0);
}

struct kp_str kp_read_bytes_view(struct kp_reader *r, int compact)
{
	return read_lenprefixed(r, compact, 1);
}

int32_t kp_read_array_len(struct kp_reader *r, int compact)
{
	int64_t n;

	if (compact)
		n = (int64_t)kp_read_uvarint(r) - 1;
	else
		n = kp_read_i32(r);
	if (r->err)
		return 0;
	if (n < -1) {
		r->err = KP_ERR_MALFORMED;
		return 0;
	}
	/* Every element takes at least one byte in every encoding we read,
	 * so a count beyond the frame's remaining bytes is a lie. */
	if (n > 0 && (uint64_t)n > kp_reader_frame_left(r)) {
		r->err = KP_ERR_MALFORMED;
		return 0;
	}
	return (int32_t)n;
}

uint32_t kp_skip_tags(struct kp_reader *r)
{
	uint32_t n = kp_read_uvarint(r);
	uint32_t i;

	if (r->err)
		return 0;
	if (n > kp_reader_frame_left(r)) {
		r->err = KP_ERR_MALFORMED;
		return 0;
	}
	for (i = 0; i < n && !r->err; i++) {
		(void)kp_read_uvarint(r); /* tag */
		kp_skip(r, kp_read_uvarint(r));
	}
	return r->err ? 0 : n;
}

void kp_reader_sub(const struct kp_reader *r, struct kp_pos start, size_t len,
		   struct kp_reader *sub)
{
	*sub = *r;
	sub->pos = start;
	sub->err = 0;
	sub->limit = start.abs + len;
	if (sub->limit > r->limit)
		sub->limit = r->limit;
}

size_t kp_str_copy(const struct kp_seg *segs, uint32_t nseg,
		   const struct kp_str *s, char *buf, size_t cap)
{
	struct kp_reader r;
	size_t n;

	if (cap == 0)
		return 0;
	if (s->len <= 0) {
		buf[0] = '\0';
		return 0;
	}
	n = (size_t)s->len < cap - 1 ? (size_t)s->len : cap - 1;
	kp_reader_init(&r, segs, nseg, SIZE_MAX);
	r.pos = s->pos;
	kp_read_bytes(&r, buf, n);
	buf[n] = '\0';
	return r.err ? 0 : n;
}

int kp_str_eq(const struct kp_seg *segs, uint32_t nseg, const struct kp_str *s,
	      const char *cstr)
{
	size_t len = strlen(cstr);
	struct kp_reader r;

	if (s->len < 0 || (size_t)s->len != len)
		return 0;
	if (s->ptr)
		return memcmp(s->ptr, cstr, len) == 0;
	kp_reader_init(&r, segs, nseg, SIZE_MAX);
	r.pos = s->pos;
	for (size_t i = 0; i < len; i++)
		if ((char)kp_read_i8(&r) != cstr[i] || r.err)
			return 0;
	return 1;
}
