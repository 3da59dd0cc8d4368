/*
 * kp_reader: the one bounds-checked cursor every decoder reads through.
 * It walks a list of byte segments (an evbuffer_peek result, or one block)
 * without copying them, and keeps "need more bytes" apart from "malformed".
 */
#ifndef KP_READER_H
#define KP_READER_H

#include <stddef.h>
#include <stdint.h>

/* Results shared by every decoder in protocol/. Negative values are fatal for
 * the frame; KP_NEED_MORE asks for more bytes; KP_TRAILING means the body
 * decoded completely but bytes were left over before the frame's end. */
enum kp_status {
	KP_OK = 0,
	KP_NEED_MORE = 1,
	KP_TRAILING = 2,
	KP_ERR_MALFORMED = -1,
	KP_ERR_UNSUPPORTED_VERSION = -2,
	KP_ERR_TOO_LARGE = -3,
	KP_ERR_UNKNOWN_API = -4,
	KP_ERR_NOSPACE = -5, /* an encoder's output buffer is too small */
};

/* The broker's default socket.request.max.bytes. */
#define KP_DEFAULT_MAX_FRAME 104857600

const char *kp_status_str(int status);

/* One contiguous piece of input. */
struct kp_seg {
	const uint8_t *ptr;
	size_t len;
};

/* A position in a segment list: segment index, offset in it, and the
 * absolute offset from the start of the first segment. */
struct kp_pos {
	uint32_t seg;
	uint32_t off;
	size_t abs;
};

/* A borrowed view of a string or bytes value. ptr points into the input when
 * the value is contiguous there; it is NULL when the value is null (len -1)
 * or when it straddles two segments (then use kp_str_copy). The view is valid
 * for as long as the segments it was read from. */
struct kp_str {
	const uint8_t *ptr;
	int32_t len;
	struct kp_pos pos;
};

struct kp_reader {
	const struct kp_seg *segs;
	uint32_t nseg;
	struct kp_pos pos;
	size_t avail; /* bytes present, from the start of segs */
	size_t limit; /* absolute end of the frame: reading past it is malformed
		       */
	int err;      /* sticky: 0, KP_NEED_MORE or KP_ERR_MALFORMED */
};

/* Start reading segs. limit is the absolute end of the frame when known
 * (reading past it is malformed), or SIZE_MAX when not yet known. */
void kp_reader_init(struct kp_reader *r, const struct kp_seg *segs,
		    uint32_t nseg, size_t limit);
/* Convenience for a single block. The segment is stored in *seg. */
void kp_reader_init_buf(struct kp_reader *r, struct kp_seg *seg,
			const uint8_t *buf, size_t len, size_t limit);

static inline size_t kp_reader_offset(const struct kp_reader *r)
{
	return r->pos.abs;
}

/* Bytes left before the frame end (or before avail, if the frame end is
 * further than what is present). */
size_t kp_reader_remaining(const struct kp_reader *r);

/* Bytes left before the frame end, whether present yet or not. */
size_t kp_reader_frame_left(const struct kp_reader *r);

/* Make n more bytes readable or set the sticky error; 0 when they are. */
int kp_reader_need(struct kp_reader *r, size_t n);

/* Reads return 0 / zeroed output once r->err is set; check r->err after a
 * group of reads. */
int8_t kp_read_i8(struct kp_reader *r);
int16_t kp_read_i16(struct kp_reader *r);
uint16_t kp_read_u16(struct kp_reader *r);
int32_t kp_read_i32(struct kp_reader *r);
uint32_t kp_read_u32(struct kp_reader *r);
int64_t kp_read_i64(struct kp_reader *r);
double kp_read_f64(struct kp_reader *r);
void kp_read_uuid(struct kp_reader *r, uint8_t out[16]);
/* Unsigned varint, at most 5 bytes, value fits 32 bits. */
uint32_t kp_read_uvarint(struct kp_reader *r);
/* Zig-zag varint, at most 5 bytes. */
int32_t kp_read_varint(struct kp_reader *r);
/* Unsigned varint of at most 10 bytes, and its zig-zag form. */
uint64_t kp_read_uvarlong(struct kp_reader *r);
int64_t kp_read_varlong(struct kp_reader *r);
void kp_read_bytes(struct kp_reader *r, void *out, size_t n);
void kp_skip(struct kp_reader *r, size_t n);

/* Strings and bytes. compact selects the flexible encoding (uvarint len+1,
 * 0 = null); otherwise string lengths are int16 and bytes lengths int32,
 * -1 = null. A null read from a non-nullable field is the caller's check. */
struct kp_str kp_read_str(struct kp_reader *r, int compact);
struct kp_str kp_read_bytes_view(struct kp_reader *r, int compact);

/* An array count: int32 (-1 = null) or compact uvarint (0 = null -> -1).
 * A count larger than the bytes left in the frame is malformed. */
int32_t kp_read_array_len(struct kp_reader *r, int compact);

/* Skip a tagged-field section; returns the number of fields skipped. */
uint32_t kp_skip_tags(struct kp_reader *r);

/* A reader limited to [start, start + len) of r's input, for decoding a
 * nested region such as a records field. */
void kp_reader_sub(const struct kp_reader *r, struct kp_pos start, size_t len,
		   struct kp_reader *sub);

/* Copy a view's bytes into buf (at most cap bytes, NUL-terminated when
 * cap > len). Returns the number of bytes copied, not counting the NUL;
 * 0 for a null view. */
size_t kp_str_copy(const struct kp_seg *segs, uint32_t nseg,
		   const struct kp_str *s, char *buf, size_t cap);

/* 1 when the view equals the C string s (a null view equals nothing). */
int kp_str_eq(const struct kp_seg *segs, uint32_t nseg, const struct kp_str *s,
	      const char *cstr);

#endif
