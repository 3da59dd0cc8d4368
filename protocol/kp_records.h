/*
 * kp_records: a summary of a records field (Produce requests, Fetch
 * responses) without decompressing or copying it: batch and record counts,
 * bytes, codec, magic, producer and offsets. Magic 2 record batches and the
 * legacy magic 0/1 message sets are both read; CRCs are not checked.
 */
#ifndef KP_RECORDS_H
#define KP_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "kp_reader.h"

/* Compression codecs: attributes bits 0-2, in every magic. */
enum kp_codec {
	KP_CODEC_NONE = 0,
	KP_CODEC_GZIP = 1,
	KP_CODEC_SNAPPY = 2,
	KP_CODEC_LZ4 = 3,
	KP_CODEC_ZSTD = 4, /* magic 2 only */
};

/* Every log entry starts with i64 offset, i32 size; its magic byte is at
 * the same place (byte 16) in all three formats. */
#define KP_RECORDS_LOG_OVERHEAD 12
#define KP_RECORDS_MAGIC_OFFSET 16
/* The smallest entry a size may announce: a magic 0 message with null key
 * and value (crc, magic, attributes, key length, value length). Smaller is
 * corrupt even in a partial entry, as the broker's reader holds. */
#define KP_RECORDS_MIN_SIZE 14

/* What one records field holds. "Batch" means a magic 2 record batch or
 * one legacy message-set entry: the units a broker's log is made of. A
 * compressed legacy entry (a wrapper) carries its messages compressed in
 * its value, so it counts as one batch and one record, and is counted in
 * legacy_wrappers too: records is then a lower bound. Fields that describe
 * "the first batch" are of the first complete one. */
struct kp_records_summary {
	int32_t size;             /* bytes in the field; -1 when null */
	uint32_t batches;         /* complete batches */
	int64_t records;          /* records in them (see above) */
	size_t bytes;             /* bytes of the complete batches */
	size_t partial_trailing;  /* bytes of an incomplete last batch */
	int8_t magic;             /* highest magic seen; -1 when no batch */
	uint8_t mixed_magic;      /* batches of more than one magic */
	uint8_t codec;            /* enum kp_codec of the first batch */
	uint8_t codec_mask;       /* bit (1 << codec) for every batch's codec */
	uint8_t transactional;    /* some magic 2 batch has attributes bit 4 */
	uint8_t control;          /* some magic 2 batch has attributes bit 5 */
	uint32_t legacy_wrappers; /* compressed legacy entries */
	int64_t base_offset;      /* of the first batch; -1 when none */
	int64_t last_offset;      /* of the last: base + last_offset_delta
				     (magic 2) or its offset (legacy); -1 */
	int64_t producer_id;      /* first batch; -1 when none or legacy */
	int16_t producer_epoch;   /* first batch; -1 when none or legacy */
	int32_t partition_leader_epoch; /* first batch; -1 likewise */
};

/* Summarise the records value rec, a view read from segs (by the walker).
 * Returns KP_OK when the field is whole batches (or empty, or null:
 * size -1); KP_TRAILING when complete batches are followed by
 * partial_trailing bytes of an incomplete one, which a Fetch response
 * may carry and a broker drops from a Produce; KP_ERR_MALFORMED for an
 * entry that cannot be one: a size below KP_RECORDS_MIN_SIZE, a magic
 * other than 0, 1 or 2 wherever the magic byte is present, a complete
 * entry too short for its own header, a negative record count or
 * key/value length; KP_NEED_MORE when the view's bytes are not all in
 * segs. out is filled with what was read before the first error. */
int kp_records_summary(const struct kp_seg *segs, uint32_t nseg,
		       const struct kp_str *rec, struct kp_records_summary *out)
	__attribute__((warn_unused_result));

/* The same over a reader: from r's position to its limit (a sub-range from
 * kp_reader_sub()). On KP_OK and KP_TRAILING r stands at its limit. */
int kp_records_summary_reader(struct kp_reader *r,
			      struct kp_records_summary *out)
	__attribute__((warn_unused_result));

/* "none", "gzip", "snappy", "lz4", "zstd", or "unknown". */
const char *kp_records_codec_name(int codec);

#endif
