/*
 * kp_walk: the schema interpreter. It walks a message body at a given
 * version following the generated field tables, reports every field to a
 * visitor, and, given an output buffer, re-encodes the body as it goes:
 * byte for byte, except for the values the visitor replaces.
 */
#ifndef KP_WALK_H
#define KP_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "kp_reader.h"
#include "kp_schema.h"

#define KP_WALK_MAX_DEPTH 16

enum kp_wev {
	KP_WEV_VALUE, /* a scalar, uuid, string, bytes or records value */
	KP_WEV_ARRAY, /* an array starts; count in i (-1 = null) */
	KP_WEV_ARRAY_END,
	KP_WEV_ELEM, /* a struct element of an array starts; index set */
	KP_WEV_ELEM_END,
	KP_WEV_STRUCT, /* a struct-typed field starts; i = -1 when null */
	KP_WEV_STRUCT_END,
};

/* One event. Views (s, path) are valid only during the visitor call,
 * except s, which stays valid as long as the input segments. */
struct kp_wval {
	enum kp_wev ev;
	const struct kp_field *f;
	uint16_t depth;       /* 0 for the body's own fields */
	const uint16_t *path; /* names of the enclosing array/struct fields */
	int32_t index;        /* position in the enclosing array, else -1 */
	int64_t i;            /* integer and bool values, counts */
	double d;
	uint8_t uuid[16];
	struct kp_str s; /* string, bytes and records values */
	int compact;     /* the value used the flexible encoding */
	/* Set by a visitor during a rewrite to replace a VALUE: integers take
	 * new_i; strings take new_s/new_len (new_len -1 = null). */
	int replace;
	int64_t new_i;
	const char *new_s;
	int32_t new_len;
};

/* Return KP_OK to go on; any other value stops the walk with it. */
typedef int (*kp_visit_fn)(void *ctx, struct kp_wval *v);

/* An output buffer owned by the caller. With buf NULL it only counts. */
struct kp_wbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int nospace;
};

struct kp_walk_stats {
	uint32_t unknown_tags; /* tagged fields skipped (kept verbatim) */
	size_t trailing;       /* bytes after the body, before the frame end */
};

/* Walk a body of msg at version. r must stand at the body's first byte with
 * its limit at the frame's end. visit and out may be NULL. Returns KP_OK,
 * KP_TRAILING (body complete, bytes left: copied verbatim to out),
 * KP_NEED_MORE, KP_ERR_MALFORMED, KP_ERR_UNSUPPORTED_VERSION, KP_ERR_NOSPACE
 * or whatever the visitor returned to stop. */
int kp_walk_body(struct kp_reader *r, const struct kp_msg *msg, int16_t version,
		 kp_visit_fn visit, void *ctx, struct kp_wbuf *out,
		 struct kp_walk_stats *stats)
	__attribute__((warn_unused_result));

/* Output primitives, also used by the frame encoders. */
void kp_wbuf_put(struct kp_wbuf *w, const void *p, size_t n);
void kp_wbuf_i16(struct kp_wbuf *w, int16_t v);
void kp_wbuf_i32(struct kp_wbuf *w, int32_t v);
void kp_wbuf_uvarint(struct kp_wbuf *w, uint32_t v);
/* Copy len bytes of the input from pos. */
void kp_wbuf_copy(struct kp_wbuf *w, const struct kp_reader *r,
		  struct kp_pos pos, size_t len);
size_t kp_uvarint_size(uint32_t v);

/* The path of v as "Topics.Partitions.Index" for messages and tests. */
size_t kp_wval_path(const struct kp_wval *v, char *buf, size_t cap);

#endif
