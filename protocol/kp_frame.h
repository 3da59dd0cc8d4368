/*
 * kp_frame: Kafka framing. Splits a byte stream into frames (int32 size
 * prefix + header + body), decodes request and response headers, and runs
 * the schema walker over a whole frame's body.
 */
#ifndef KP_FRAME_H
#define KP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "kp_reader.h"
#include "kp_walk.h"

/* i16 api_key, i16 api_version, i32 correlation_id,
 * [v1+] nullable str16 client_id (int16 length even when flexible),
 * [v2+] tagged fields */
struct kp_req_hdr {
	int16_t api_key;
	int16_t api_version;
	int32_t corr_id;
	struct kp_str client_id; /* len -1 when null or absent */
	int8_t hdr_version;      /* -1: key or version unknown, so only the
				    fixed 8 bytes were read */
	uint32_t unknown_tags;
};

/* i32 correlation_id, [v1+] tagged fields */
struct kp_resp_hdr {
	int32_t corr_id;
	int8_t hdr_version;
	uint32_t unknown_tags;
};

/* Where a frame's parts lie, counted from its first size byte. */
struct kp_frame {
	int32_t size;   /* the size prefix: bytes after it */
	size_t total;   /* 4 + size */
	size_t hdr_len; /* 4 + header bytes: the body starts here */
	struct kp_pos body;
	int no_response; /* a request the broker will not answer (Produce
			    with acks=0) */
};

/* Read a frame's size prefix. KP_OK; KP_NEED_MORE with fewer than 4 bytes;
 * KP_ERR_MALFORMED for a negative size; KP_ERR_TOO_LARGE above max_frame
 * (0 = KP_DEFAULT_MAX_FRAME). */
int kp_frame_size(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		  int32_t *size) __attribute__((warn_unused_result));

/* Split off a request's header: needs the size prefix and the header bytes
 * only, not the body -- except for Produce, where the bytes up to acks are
 * needed too, to tell whether a response will come. KP_OK fills h and fr. For
 * an unknown API key or version, the fixed part is filled, hdr_version is -1,
 * fr->hdr_len covers those 8 bytes, and KP_ERR_UNKNOWN_API or
 * KP_ERR_UNSUPPORTED_VERSION is returned: the frame can still be passed through
 * as a byte count. */
int kp_split_req(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		 struct kp_req_hdr *h, struct kp_frame *fr)
	__attribute__((warn_unused_result));

/* The correlation id of the response at the start of segs, so the caller
 * can find its request. KP_OK, KP_NEED_MORE or a size error. */
int kp_peek_resp_corr(const struct kp_seg *segs, uint32_t nseg,
		      size_t max_frame, int32_t *corr_id)
	__attribute__((warn_unused_result));

/* Split off a response's header, once the request's key and version are
 * known (they fix the header version). */
int kp_split_resp(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		  int16_t api_key, int16_t api_version, struct kp_resp_hdr *h,
		  struct kp_frame *fr) __attribute__((warn_unused_result));

/* Walk the body of a complete request frame (all of it must be present:
 * KP_NEED_MORE otherwise). Results as kp_walk_body(). */
int kp_walk_req(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		kp_visit_fn visit, void *ctx, struct kp_req_hdr *h,
		struct kp_walk_stats *st) __attribute__((warn_unused_result));

/* Walk the body of a complete response frame to a request of api_key at
 * api_version. */
int kp_walk_resp(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		 int16_t api_key, int16_t api_version, kp_visit_fn visit,
		 void *ctx, struct kp_resp_hdr *h, struct kp_walk_stats *st)
	__attribute__((warn_unused_result));

/* Re-encode a complete response frame through the walker, letting visit
 * replace values: the header and every other byte are copied, and the size
 * prefix is set to the new length. out->len is the frame's new length
 * (with buf NULL, only that length is computed). */
int kp_rewrite_resp(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		    int16_t api_key, int16_t api_version, kp_visit_fn visit,
		    void *ctx, struct kp_wbuf *out)
	__attribute__((warn_unused_result));

/* Tracks how much of the current frame is still to be passed on, so a
 * proxy can move bodies as byte counts. */
struct kp_split {
	size_t left; /* bytes of the current frame not yet consumed */
};

static inline int kp_split_at_boundary(const struct kp_split *s)
{
	return s->left == 0;
}

static inline void kp_split_begin(struct kp_split *s, const struct kp_frame *fr)
{
	s->left = fr->total;
}

/* Consume up to avail bytes of the current frame; returns how many. */
static inline size_t kp_split_consume(struct kp_split *s, size_t avail)
{
	size_t n = avail < s->left ? avail : s->left;

	s->left -= n;
	return n;
}

#endif
