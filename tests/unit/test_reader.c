/*
 * kp_reader: primitives, segment straddling, and the line between "need
 * more bytes" and "malformed".
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kp_reader.h"

static struct kp_reader rd(struct kp_seg *seg, const uint8_t *b, size_t len,
			   size_t limit)
{
	struct kp_reader r;

	kp_reader_init_buf(&r, seg, b, len, limit);
	return r;
}

Test(reader, integers_big_endian)
{
	static const uint8_t b[] = {0x80, 0x01, 0x02, 0xff, 0xff,
				    0xff, 0xfe, 0x01, 0x02, 0x03,
				    0x04, 0x05, 0x06, 0x07, 0x08};
	struct kp_seg s;
	struct kp_reader r = rd(&s, b, sizeof(b), sizeof(b));

	cr_assert_eq(kp_read_i8(&r), -128);
	cr_assert_eq(kp_read_i16(&r), 0x0102);
	cr_assert_eq(kp_read_i32(&r), -2);
	cr_assert_eq(kp_read_i64(&r), 0x0102030405060708LL);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(kp_reader_remaining(&r), 0);
	(void)kp_read_i8(&r);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
}

Test(reader, need_more_vs_malformed)
{
	static const uint8_t b[] = {0x00, 0x01};
	struct kp_seg s;
	struct kp_reader r = rd(&s, b, sizeof(b), 10);

	(void)kp_read_i32(&r);
	cr_assert_eq(r.err, KP_NEED_MORE);
	r = rd(&s, b, sizeof(b), 2);
	(void)kp_read_i32(&r);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	/* Sticky: later reads return zero and keep the first error. */
	cr_assert_eq(kp_read_i8(&r), 0);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
}

Test(reader, straddling_segments)
{
	static const uint8_t a[] = {0x00, 0x05, 'h', 'e'};
	static const uint8_t b[] = {'l', 'l', 'o', 0x12};
	static const uint8_t c[] = {0x34};
	struct kp_seg segs[4] = {{a, 4}, {NULL, 0}, {b, 4}, {c, 1}};
	struct kp_reader r;
	struct kp_str str;
	char buf[16];

	kp_reader_init(&r, segs, 4, 9);
	str = kp_read_str(&r, 0);
	cr_assert_eq(str.len, 5);
	cr_assert_null(str.ptr, "a split value has no contiguous pointer");
	cr_assert_eq(kp_str_copy(segs, 4, &str, buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "hello");
	cr_assert(kp_str_eq(segs, 4, &str, "hello"));
	cr_assert_not(kp_str_eq(segs, 4, &str, "hellO"));
	cr_assert_eq(kp_read_i16(&r), 0x1234);
	cr_assert_eq(r.err, 0);
}

Test(reader, varints)
{
	static const uint8_t ok[] = {0x96, 0x01}; /* 150 */
	static const uint8_t max32[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	static const uint8_t over32[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
	static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					 0x80, 0x80, 0x80, 0x80, 0x00};
	static const uint8_t zz[] = {0x03}; /* zig-zag -2 */
	struct kp_seg s;
	struct kp_reader r;

	r = rd(&s, ok, 2, 2);
	cr_assert_eq(kp_read_uvarint(&r), 150);
	r = rd(&s, max32, 5, 5);
	cr_assert_eq(kp_read_uvarint(&r), UINT32_MAX);
	cr_assert_eq(r.err, 0);
	r = rd(&s, over32, 5, 5);
	(void)kp_read_uvarint(&r);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	r = rd(&s, six, 6, 6);
	(void)kp_read_uvarint(&r);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	r = rd(&s, eleven, 11, 11);
	(void)kp_read_uvarlong(&r);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	r = rd(&s, eleven, 9, 11);
	(void)kp_read_uvarlong(&r);
	cr_assert_eq(r.err, KP_NEED_MORE);
	r = rd(&s, zz, 1, 1);
	cr_assert_eq(kp_read_varint(&r), -2);
}

Test(reader, strings_and_nulls)
{
	static const uint8_t s16null[] = {0xff, 0xff};
	static const uint8_t s16neg[] = {0xff, 0xfe};
	static const uint8_t compact_null[] = {0x00};
	static const uint8_t compact_ab[] = {0x03, 'a', 'b'};
	static const uint8_t bytes_huge[] = {0x7f, 0xff, 0xff, 0xff, 0x00};
	struct kp_seg s;
	struct kp_reader r;
	struct kp_str v;

	r = rd(&s, s16null, 2, 2);
	v = kp_read_str(&r, 0);
	cr_assert_eq(v.len, -1);
	cr_assert_eq(r.err, 0);
	r = rd(&s, s16neg, 2, 2);
	(void)kp_read_str(&r, 0);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	r = rd(&s, compact_null, 1, 1);
	cr_assert_eq(kp_read_str(&r, 1).len, -1);
	r = rd(&s, compact_ab, 3, 3);
	v = kp_read_str(&r, 1);
	cr_assert_eq(v.len, 2);
	cr_assert(memcmp(v.ptr, "ab", 2) == 0);
	/* A length beyond the frame is malformed even if more bytes could
	 * come, once the frame's end is known. */
	r = rd(&s, bytes_huge, 5, 5);
	(void)kp_read_bytes_view(&r, 0);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	r = rd(&s, bytes_huge, 5, SIZE_MAX);
	(void)kp_read_bytes_view(&r, 0);
	cr_assert_eq(r.err, KP_NEED_MORE);
}

Test(reader, array_counts)
{
	static const uint8_t neg2[] = {0xff, 0xff, 0xff, 0xfe};
	static const uint8_t null[] = {0xff, 0xff, 0xff, 0xff};
	static const uint8_t imax[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
	static const uint8_t cnull[] = {0x00};
	struct kp_seg s;
	struct kp_reader r;

	r = rd(&s, neg2, 4, 4);
	(void)kp_read_array_len(&r, 0);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	r = rd(&s, null, 4, 4);
	cr_assert_eq(kp_read_array_len(&r, 0), -1);
	cr_assert_eq(r.err, 0);
	r = rd(&s, imax, 8, 8);
	(void)kp_read_array_len(&r, 0);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	r = rd(&s, cnull, 1, 1);
	cr_assert_eq(kp_read_array_len(&r, 1), -1);
}

Test(reader, tagged_sections)
{
	static const uint8_t two[] = {0x02, 0x00, 0x01, 0xaa, 0x05, 0x00};
	static const uint8_t truncated[] = {0x01, 0x00, 0x04, 0xaa};
	struct kp_seg s;
	struct kp_reader r;

	r = rd(&s, two, 6, 6);
	cr_assert_eq(kp_skip_tags(&r), 2);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(kp_reader_remaining(&r), 0);
	r = rd(&s, truncated, 4, 4);
	(void)kp_skip_tags(&r);
	cr_assert_eq(r.err, KP_ERR_MALFORMED);
	r = rd(&s, truncated, 4, 10);
	(void)kp_skip_tags(&r);
	cr_assert_eq(r.err, KP_NEED_MORE);
}
