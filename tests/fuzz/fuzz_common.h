/*
 * fuzz_common: what the frame fuzz targets share. Every input starts with
 * a fixed 10-byte prelude (direction, API key and version, a seed, and
 * where to cut the rest into segments); the rest is the bytes under test,
 * copied into separately allocated segments so that ASan sees a read one
 * byte past any of them.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_reader.h"

/* The libFuzzer entry point; replay.c calls it too. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant broke: say which, then abort so that libFuzzer (or the
 * replay driver's ASan) keeps the input. */
#define FZ_CHECK(cond, ...)                                                    \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* u8 flags      bit 0: response (else request)
 *               bits 1-2: segments - 1 (1..4)
 *               bits 3-4: KP_VEC capacity (0..3) for the typed decoders
 *               bit 5: max_frame 1024 instead of the default
 *               bits 6-7: target-specific
 * i8 api_key, i8 api_version (for responses, which do not carry them)
 * u8 seed       target-specific (fuzz_rewrite: the address map)
 * u16 cuts[3]   big-endian; each taken modulo (bytes + 1), then sorted */
#define FZ_PRELUDE_LEN 10
#define FZ_MAX_SEGS    4

#define FZ_F_RESP      0x01
#define FZ_F_SMALL_MAX 0x20

struct fz_prelude {
	uint8_t flags;
	int16_t api_key;
	int16_t api_version;
	uint8_t seed;
	uint16_t cuts[FZ_MAX_SEGS - 1];
	uint32_t nseg;
	uint32_t vec_cap;
	size_t max_frame; /* as passed to the decoders: 0 = the default */
};

/* Split data into the prelude and the rest; 0 when too short. */
static inline int fz_prelude(const uint8_t **data, size_t *size,
			     struct fz_prelude *p)
{
	const uint8_t *d = *data;

	if (*size < FZ_PRELUDE_LEN)
		return 0;
	p->flags = d[0];
	p->api_key = (int8_t)d[1];
	p->api_version = (int8_t)d[2];
	p->seed = d[3];
	for (int i = 0; i < FZ_MAX_SEGS - 1; i++)
		p->cuts[i] = (uint16_t)(d[4 + 2 * i] << 8 | d[5 + 2 * i]);
	p->nseg = ((p->flags >> 1) & 3) + 1;
	p->vec_cap = (p->flags >> 3) & 3;
	p->max_frame = (p->flags & FZ_F_SMALL_MAX) ? 1024 : 0;
	*data += FZ_PRELUDE_LEN;
	*size -= FZ_PRELUDE_LEN;
	return 1;
}

/* The bytes under test as nseg separately allocated segments. */
struct fz_segs {
	struct kp_seg seg[FZ_MAX_SEGS];
	uint8_t *mem[FZ_MAX_SEGS];
	uint32_t n;
	size_t total;
};

static inline void fz_segs_make(struct fz_segs *s, const uint8_t *data,
				size_t len, uint32_t nseg,
				const uint16_t *cuts_in)
{
	size_t cut[FZ_MAX_SEGS + 1];

	if (nseg < 1)
		nseg = 1;
	if (nseg > FZ_MAX_SEGS)
		nseg = FZ_MAX_SEGS;
	cut[0] = 0;
	for (uint32_t i = 1; i < nseg; i++) {
		size_t c = cuts_in[i - 1] % (len + 1);
		uint32_t j = i;

		/* insertion sort of the cut points */
		while (j > 1 && cut[j - 1] > c) {
			cut[j] = cut[j - 1];
			j--;
		}
		cut[j] = c;
	}
	cut[nseg] = len;
	s->n = nseg;
	s->total = len;
	for (uint32_t i = 0; i < nseg; i++) {
		size_t n = cut[i + 1] - cut[i];

		/* malloc(n) even for n == 0: each segment is its own block. */
		s->mem[i] = malloc(n ? n : 1);
		FZ_CHECK(s->mem[i] != NULL, "out of memory");
		if (n)
			memcpy(s->mem[i], data + cut[i], n);
		s->seg[i].ptr = s->mem[i];
		s->seg[i].len = n;
	}
}

static inline void fz_segs_free(struct fz_segs *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		free(s->mem[i]);
	s->n = 0;
}

/* The bytes [off, off + len) of in as segment views into the same memory
 * (empty segments strictly inside the range are kept). Returns the count;
 * out has room for FZ_MAX_SEGS. */
static inline uint32_t fz_segs_view(const struct kp_seg *in, uint32_t n,
				    size_t off, size_t len, struct kp_seg *out)
{
	size_t start = 0, end = off + len;
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		size_t s0 = start, s1 = start + in[i].len;
		size_t a = s0 > off ? s0 : off, b = s1 < end ? s1 : end;

		start = s1;
		if (a < b || (in[i].len == 0 && s0 > off && s0 < end)) {
			out[k].ptr = in[i].ptr + (a - s0);
			out[k].len = a < b ? b - a : 0;
			k++;
		}
	}
	return k;
}

/* 1 when status is one a decoder may return. */
static inline int fz_decode_status(int rc)
{
	switch (rc) {
	case KP_OK:
	case KP_NEED_MORE:
	case KP_TRAILING:
	case KP_ERR_MALFORMED:
	case KP_ERR_UNSUPPORTED_VERSION:
	case KP_ERR_TOO_LARGE:
	case KP_ERR_UNKNOWN_API:
		return 1;
	}
	return 0;
}

/* 1 when s lies inside the segments as its contract says: null (len -1,
 * ptr NULL); or 0 <= len with pos + len within the bytes present, and ptr
 * either pointing at pos inside one segment that holds all len bytes, or
 * NULL when the value is empty or straddles segments. */
static inline int fz_view_ok(const struct kp_seg *segs, uint32_t nseg,
			     const struct kp_str *s)
{
	size_t before = 0;

	if (s->len == -1)
		return s->ptr == NULL;
	if (s->len < -1)
		return 0;
	for (uint32_t i = 0; i < s->pos.seg && i < nseg; i++)
		before += segs[i].len;
	if (s->len == 0)
		return 1;
	if (s->pos.seg >= nseg || s->pos.off > segs[s->pos.seg].len ||
	    before + s->pos.off != s->pos.abs)
		return 0;
	{
		size_t total = 0;

		for (uint32_t i = 0; i < nseg; i++)
			total += segs[i].len;
		if (s->pos.abs + (size_t)s->len > total)
			return 0;
	}
	if (s->ptr) {
		const struct kp_seg *g = &segs[s->pos.seg];

		return s->ptr == g->ptr + s->pos.off &&
		       (size_t)s->len <= g->len - s->pos.off;
	}
	/* NULL: only when the bytes do not all lie in pos's segment. */
	return (size_t)s->len > segs[s->pos.seg].len - s->pos.off;
}

/* FNV-1a over integers and view contents, to compare decodes of the same
 * bytes cut into different segments. */
#define FZ_DIGEST_INIT 14695981039346656037ULL

static inline uint64_t fz_mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}

static inline uint64_t fz_mix_str(uint64_t h, const struct kp_seg *segs,
				  uint32_t nseg, const struct kp_str *s)
{
	char buf[256];
	size_t n;

	h = fz_mix(h, (uint64_t)(int64_t)s->len);
	h = fz_mix(h, s->len >= 0 ? s->pos.abs : 0);
	n = kp_str_copy(segs, nseg, s, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		h = fz_mix(h, (uint8_t)buf[i]);
	return h;
}

#endif
