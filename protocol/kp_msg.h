/*
 * kp_msg: what every typed decoder shares. A typed decoder runs the schema
 * walker over one whole frame with a visitor that fills an out-struct;
 * repeated parts go into arrays the caller provides (KP_VEC), so decoding
 * never allocates. Per-API decoders live in kp_msg_*.h.
 */
#ifndef KP_MSG_H
#define KP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "kp_frame.h"
#include "kp_reader.h"
#include "kp_walk.h"

/* Caller-provided storage for repeated parts. Set v and cap before a
 * decode (or leave them zero to only count); the decoder stores the first
 * cap elements in v, sets n to how many it stored and total to how many
 * the frame held. n < total means the storage was too small: not an
 * error, the rest are only counted. */
#define KP_VEC(T)                                                              \
	struct {                                                               \
		T *v;                                                          \
		uint32_t cap;                                                  \
		uint32_t n;                                                    \
		uint32_t total;                                                \
	}

/* Reset a KP_VEC before a decode, keeping its storage. */
#define KP_VEC_RESET(vec)                                                      \
	do {                                                                   \
		(vec).n = 0;                                                   \
		(vec).total = 0;                                               \
	} while (0)

/* Claim the next element: a zeroed slot in storage, or the scratch slot
 * when storage is full (so the visitor can write unconditionally). The
 * result has the element's pointer type. */
#define KP_VEC_NEXT(vec, scratch)                                              \
	((__typeof__((vec).v))((vec).total++,                                  \
			       ((vec).n < (vec).cap                            \
					? kp_zero(&(vec).v[(vec).n++],         \
						  sizeof(*(vec).v))            \
					: kp_zero((scratch),                   \
						  sizeof(*(scratch))))))

static inline void *kp_zero(void *p, size_t n)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = 0;
	return p;
}

/* 1 when v is a field directly inside the struct named parent at depth
 * (parent is ignored at depth 0). */
static inline int kp_in(const struct kp_wval *v, uint16_t depth,
			uint16_t parent)
{
	return v->depth == depth &&
	       (depth == 0 || v->path[depth - 1] == parent);
}

/* 1 when v is the value of the field name directly inside parent. For a
 * scalar array this matches each element (v->index >= 0). */
static inline int kp_is(const struct kp_wval *v, uint16_t depth,
			uint16_t parent, uint16_t name)
{
	return v->ev == KP_WEV_VALUE && v->f->name == name &&
	       kp_in(v, depth, parent);
}

/* Decode drivers for typed decoders: check the API key (requests), walk
 * the whole frame, and fill hdr and stats. */
int kp_msg_decode_req(const struct kp_seg *segs, uint32_t nseg,
		      size_t max_frame, int16_t api_key, kp_visit_fn visit,
		      void *ctx, struct kp_req_hdr *hdr,
		      struct kp_walk_stats *stats)
	__attribute__((warn_unused_result));
int kp_msg_decode_resp(const struct kp_seg *segs, uint32_t nseg,
		       size_t max_frame, int16_t api_key, int16_t api_version,
		       kp_visit_fn visit, void *ctx, struct kp_resp_hdr *hdr,
		       struct kp_walk_stats *stats)
	__attribute__((warn_unused_result));

#endif
