/*
 * kp_records: walk the log entries of a records field by their size
 * prefixes and read each entry's fixed header only. Records themselves are
 * never decoded: they may be compressed, and a summary does not need them.
 */
#include "kp_records.h"

#include <string.h>

/* One complete entry, before it is folded into the summary. */
struct entry {
	int8_t magic;
	uint8_t codec;
	uint8_t transactional;
	uint8_t control;
	int wrapper;
	int64_t records;
	int64_t base_offset;
	int64_t last_offset;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t leader_epoch;
};

const char *kp_records_codec_name(int codec)
{
	switch (codec) {
	case KP_CODEC_NONE:
		return "none";
	case KP_CODEC_GZIP:
		return "gzip";
	case KP_CODEC_SNAPPY:
		return "snappy";
	case KP_CODEC_LZ4:
		return "lz4";
	case KP_CODEC_ZSTD:
		return "zstd";
	}
	return "unknown";
}

static void summary_init(struct kp_records_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->magic = -1;
	s->base_offset = -1;
	s->last_offset = -1;
	s->producer_id = -1;
	s->producer_epoch = -1;
	s->partition_leader_epoch = -1;
}

/* Magic 2, after i64 base_offset, i32 batch_length, i32
 * partition_leader_epoch, i8 magic:
 *   u32 crc (CRC-32C of the rest; not checked), i16 attributes
 *   (bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control),
 *   i32 last_offset_delta, i64 base_timestamp, i64 max_timestamp,
 *   i64 producer_id, i16 producer_epoch, i32 base_sequence,
 *   i32 record_count, records (compressed as a whole when codec != 0).
 * e ends where batch_length says, so a header longer than the batch reads
 * past e's limit: malformed. */
static int read_batch(struct kp_reader *e, struct entry *b)
{
	int16_t attr;
	int32_t delta, count;

	(void)kp_read_u32(e);
	attr = kp_read_i16(e);
	delta = kp_read_i32(e);
	kp_skip(e, 16);
	b->producer_id = kp_read_i64(e);
	b->producer_epoch = kp_read_i16(e);
	(void)kp_read_i32(e);
	count = kp_read_i32(e);
	if (e->err)
		return e->err;
	if (count < 0)
		return KP_ERR_MALFORMED;
	b->codec = (uint8_t)(attr & 0x07);
	b->transactional = (uint8_t)((attr >> 4) & 1);
	b->control = (uint8_t)((attr >> 5) & 1);
	b->records = count;
	/* Unsigned, so a hostile base offset near INT64_MAX cannot overflow
	 * into undefined behaviour. */
	b->last_offset =
		(int64_t)((uint64_t)b->base_offset + (uint64_t)(int64_t)delta);
	return KP_OK;
}

/* Magic 0 and 1, after i64 offset, i32 message_size, u32 crc, i8 magic:
 *   i8 attributes (bits 0-2 codec), [magic 1: i64 timestamp],
 *   bytes key (i32 length, -1 null), bytes value (likewise).
 * A compressed message (a wrapper) holds the real messages, compressed, in
 * its value; its offset is that of the last message inside. */
static int read_legacy(struct kp_reader *e, struct entry *b)
{
	int8_t attr = kp_read_i8(e);

	if (b->magic == 1)
		kp_skip(e, 8);
	for (int i = 0; i < 2 && !e->err; i++) {
		int32_t len = kp_read_i32(e);

		if (e->err)
			break;
		if (len < -1)
			return KP_ERR_MALFORMED;
		if (len > 0)
			kp_skip(e, (size_t)len);
	}
	if (e->err)
		return e->err;
	b->codec = (uint8_t)(attr & 0x07);
	b->wrapper = b->codec != KP_CODEC_NONE;
	b->records = 1;
	b->last_offset = b->base_offset;
	return KP_OK;
}

static void fold(struct kp_records_summary *s, const struct entry *b,
		 size_t len)
{
	if (s->batches == 0) {
		s->magic = b->magic;
		s->codec = b->codec;
		s->base_offset = b->base_offset;
		s->producer_id = b->producer_id;
		s->producer_epoch = b->producer_epoch;
		s->partition_leader_epoch = b->leader_epoch;
	} else if (b->magic != s->magic) {
		s->mixed_magic = 1;
		if (b->magic > s->magic)
			s->magic = b->magic;
	}
	s->batches++;
	s->records += b->records;
	s->bytes += len;
	s->codec_mask |= (uint8_t)(1u << b->codec);
	s->transactional |= b->transactional;
	s->control |= b->control;
	s->legacy_wrappers += (uint32_t)b->wrapper;
	s->last_offset = b->last_offset;
}

/* An entry the field ends inside: left bytes from its first. Its magic
 * byte, when present, must still be a magic: a broker truncates a Fetch
 * answer, it does not invent bytes. */
static int partial(struct kp_reader *r, struct kp_records_summary *s,
		   size_t left)
{
	if (left > KP_RECORDS_MAGIC_OFFSET) {
		int8_t magic;

		kp_skip(r, 4);
		magic = kp_read_i8(r);
		if (r->err)
			return r->err;
		if (magic < 0 || magic > 2)
			return KP_ERR_MALFORMED;
		kp_skip(r, left - KP_RECORDS_MAGIC_OFFSET - 1);
	} else {
		kp_skip(r, left - KP_RECORDS_LOG_OVERHEAD);
	}
	if (r->err)
		return r->err;
	s->partial_trailing = left;
	return KP_TRAILING;
}

/* Every log entry: i64 offset, i32 size (bytes after it), then size bytes
 * whose byte 4 is the magic (after the magic 2 partition_leader_epoch or
 * the legacy crc). */
static int scan(struct kp_reader *r, struct kp_records_summary *s)
{
	size_t left;

	while ((left = kp_reader_frame_left(r)) > 0) {
		struct entry b;
		struct kp_reader e;
		int32_t size, first;
		int rc;

		if (left < KP_RECORDS_LOG_OVERHEAD) {
			kp_skip(r, left);
			if (r->err)
				return r->err;
			s->partial_trailing = left;
			return KP_TRAILING;
		}
		memset(&b, 0, sizeof(b));
		b.producer_id = -1;
		b.producer_epoch = -1;
		b.leader_epoch = -1;
		b.base_offset = kp_read_i64(r);
		size = kp_read_i32(r);
		if (r->err)
			return r->err;
		if (size < KP_RECORDS_MIN_SIZE)
			return KP_ERR_MALFORMED;
		if ((size_t)size > left - KP_RECORDS_LOG_OVERHEAD)
			return partial(r, s, left);
		kp_reader_sub(r, r->pos, (size_t)size, &e);
		kp_skip(r, (size_t)size);
		if (r->err)
			return r->err;
		first = kp_read_i32(&e);
		b.magic = kp_read_i8(&e);
		switch (b.magic) {
		case 2:
			b.leader_epoch = first;
			rc = read_batch(&e, &b);
			break;
		case 0:
		case 1:
			rc = read_legacy(&e, &b);
			break;
		default:
			rc = e.err ? e.err : KP_ERR_MALFORMED;
			break;
		}
		if (rc != KP_OK)
			return rc;
		fold(s, &b, KP_RECORDS_LOG_OVERHEAD + (size_t)size);
	}
	return KP_OK;
}

int kp_records_summary_reader(struct kp_reader *r,
			      struct kp_records_summary *out)
{
	struct kp_reader w = *r;
	size_t left;
	int rc;

	summary_init(out);
	if (r->err)
		return r->err;
	/* Without a limit, the region is what is present. */
	if (w.limit == SIZE_MAX)
		w.limit = w.avail;
	left = kp_reader_frame_left(&w);
	if (left > (size_t)INT32_MAX)
		return KP_ERR_TOO_LARGE;
	out->size = (int32_t)left;
	rc = scan(&w, out);
	r->pos = w.pos;
	r->err = w.err;
	return rc;
}

int kp_records_summary(const struct kp_seg *segs, uint32_t nseg,
		       const struct kp_str *rec, struct kp_records_summary *out)
{
	struct kp_reader r;

	if (rec->len < 0) {
		summary_init(out);
		out->size = -1;
		return KP_OK;
	}
	kp_reader_init(&r, segs, nseg, SIZE_MAX);
	r.pos = rec->pos;
	r.limit = rec->pos.abs + (size_t)rec->len;
	return kp_records_summary_reader(&r, out);
}
