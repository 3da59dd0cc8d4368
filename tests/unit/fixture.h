/*
 * fixture: checks every typed-decoder test applies to a good frame: each
 * strict prefix says "need more", each two-segment split gives the same
 * status and the same decoded content, and helpers to load frames.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "kp_reader.h"

/* Decode a frame given as segments; return the status and, in *digest, a
 * hash of what was decoded (any function of the out-struct). */
typedef int (*fx_decode_fn)(const struct kp_seg *segs, uint32_t nseg, void *ctx,
			    uint64_t *digest);

/* Assert fn's result on the whole frame equals want, that every strict
 * prefix gives KP_NEED_MORE, and that every split gives the same status
 * and digest. what names the fixture in failure messages. */
void fx_check_frame(const char *what, const uint8_t *frame, size_t len,
		    fx_decode_fn fn, void *ctx, int want);

/* FNV-1a helpers for digests. */
#define FX_DIGEST_INIT 14695981039346656037ULL
uint64_t fx_mix(uint64_t h, uint64_t v);
uint64_t fx_mix_str(uint64_t h, const struct kp_seg *segs, uint32_t nseg,
		    const struct kp_str *s);

/* Read a file under $KP_DATA (tests/data) into a malloc'd buffer; NULL
 * with the reason on stderr when it cannot. */
uint8_t *fx_load(const char *relpath, size_t *len);

#endif
