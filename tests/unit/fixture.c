/*
 * fixture: the prefix and split sweeps shared by the decoder suites.
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t fx_mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t fx_mix_str(uint64_t h, const struct kp_seg *segs, uint32_t nseg,
		    const struct kp_str *s)
{
	char buf[512];
	size_t n;

	h = fx_mix(h, (uint64_t)s->len);
	n = kp_str_copy(segs, nseg, s, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		h = fx_mix(h, (uint8_t)buf[i]);
	return h;
}

void fx_check_frame(const char *what, const uint8_t *frame, size_t len,
		    fx_decode_fn fn, void *ctx, int want)
{
	struct kp_seg segs[2];
	uint64_t whole = 0, part = 0;
	int rc;

	segs[0].ptr = frame;
	segs[0].len = len;
	rc = fn(segs, 1, ctx, &whole);
	cr_assert_eq(rc, want, "%s: whole frame gave %s, want %s", what,
		     kp_status_str(rc), kp_status_str(want));
	for (size_t cut = 0; cut < len; cut++) {
		segs[0].len = cut;
		rc = fn(segs, 1, ctx, &part);
		cr_assert_eq(rc, KP_NEED_MORE, "%s: prefix %zu of %zu gave %s",
			     what, cut, len, kp_status_str(rc));
	}
	for (size_t split = 0; split <= len; split++) {
		segs[0].len = split;
		segs[1].ptr = frame + split;
		segs[1].len = len - split;
		rc = fn(segs, 2, ctx, &part);
		cr_assert_eq(rc, want, "%s: split at %zu gave %s", what, split,
			     kp_status_str(rc));
		cr_assert_eq(part, whole, "%s: split at %zu decoded otherwise",
			     what, split);
	}
}

uint8_t *fx_load(const char *relpath, size_t *len)
{
	const char *dir = getenv("KP_DATA");
	char path[1024];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data",
		 relpath);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fixture: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}
