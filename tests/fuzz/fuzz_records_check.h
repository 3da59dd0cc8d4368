/*
 * fuzz_records_check: what a kp_records_summary must hold whatever the
 * bytes, shared by fuzz_records and the records fields fuzz_walk meets.
 */
#ifndef FUZZ_RECORDS_CHECK_H
#define FUZZ_RECORDS_CHECK_H

#include "fuzz_common.h"
#include "kp_records.h"

/* rc and s from kp_records_summary over a view of len bytes (-1: null). */
static inline void fz_check_records(int rc, const struct kp_records_summary *s,
				    int32_t len)
{
	FZ_CHECK(rc == KP_OK || rc == KP_TRAILING || rc == KP_ERR_MALFORMED ||
			 rc == KP_NEED_MORE,
		 "records summary gave %d", rc);
	FZ_CHECK(s->size == len, "size %d of a %d-byte view", s->size, len);
	if (len < 0) {
		FZ_CHECK(rc == KP_OK && s->batches == 0 && s->bytes == 0,
			 "null records: %s, %u batches", kp_status_str(rc),
			 s->batches);
		return;
	}
	FZ_CHECK(s->bytes + s->partial_trailing <= (size_t)len,
		 "%zu + %zu bytes of %d", s->bytes, s->partial_trailing, len);
	if (rc == KP_OK)
		FZ_CHECK(s->partial_trailing == 0 && s->bytes == (size_t)len,
			 "ok with %zu of %d bytes, %zu partial", s->bytes, len,
			 s->partial_trailing);
	if (rc == KP_TRAILING)
		FZ_CHECK(s->partial_trailing > 0 &&
				 s->bytes + s->partial_trailing == (size_t)len,
			 "trailing: %zu + %zu of %d", s->bytes,
			 s->partial_trailing, len);
	if (s->batches == 0) {
		FZ_CHECK(s->magic == -1 && s->bytes == 0 && s->records == 0 &&
				 s->codec_mask == 0 && s->base_offset == -1 &&
				 s->last_offset == -1 && s->producer_id == -1 &&
				 !s->mixed_magic && s->legacy_wrappers == 0,
			 "no batch, yet magic %d, %zu bytes", s->magic,
			 s->bytes);
		return;
	}
	FZ_CHECK(s->magic >= 0 && s->magic <= 2, "magic %d", s->magic);
	FZ_CHECK(s->codec < 8 && (s->codec_mask & (1u << s->codec)),
		 "codec %u, mask %#x", s->codec, s->codec_mask);
	FZ_CHECK(s->bytes >= (size_t)s->batches * (KP_RECORDS_LOG_OVERHEAD +
						   KP_RECORDS_MIN_SIZE),
		 "%u batches in %zu bytes", s->batches, s->bytes);
	FZ_CHECK(s->records >= 0, "records %lld", (long long)s->records);
	FZ_CHECK(!s->mixed_magic || s->batches >= 2, "mixed magic, %u batch",
		 s->batches);
	FZ_CHECK(s->legacy_wrappers <= s->batches, "%u wrappers, %u batches",
		 s->legacy_wrappers, s->batches);
	FZ_CHECK(s->magic == 2 ||
			 (s->producer_id == -1 && s->producer_epoch == -1 &&
			  s->partition_leader_epoch == -1) ||
			 s->mixed_magic,
		 "legacy first batch with a producer id");
}

#endif
