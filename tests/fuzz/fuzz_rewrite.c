/*
 * fuzz_rewrite: the two response rewriters, the way the proxy runs them
 * (a counting pass, then an output buffer of exactly that size).
 * Broker addresses: decode, rewrite with a map that changes host lengths,
 * decode the output: same status, same addresses and node ids, the new
 * hosts and ports; a map that maps nothing gives the input back byte for
 * byte. ApiVersions: capping nothing gives the input back; capping gives
 * the same ranges with MaxVersion capped. The prelude's seed drives the
 * maps; flag bit 6 leaves every third node unmapped.
 */
#include "fuzz_common.h"
#include "kp_frame.h"
#include "kp_msg_meta.h"
#include "kp_schema.h"

#define FZ_F_PARTIAL_MAP 0x40
#define MAX_ADDRS        256

struct map {
	const struct kp_seg *segs;
	uint32_t nseg;
	uint8_t seed;
	int partial;
	int same;                    /* give each address back unchanged */
	const struct kp_addrs *orig; /* for same */
	uint32_t calls;
	char host[64];
};

/* FUZZ_REWRITE_KNOWN set: tolerate the rewriter defects known on
 * 2026-11-21 (doc/fuzzing.md, "Findings"), to fuzz on past them until they
 * are fixed: give the output buffer 16 bytes more than counted, and let a
 * rewrite that changes nothing re-encode tagged-field headers, as long as
 * the output decodes the same. Unset, the contract holds as written. */
static int known(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("FUZZ_REWRITE_KNOWN") != NULL;
	return v;
}

static size_t slack(void)
{
	return known() ? 16 : 0;
}

/* The identity rewrite gave out[0, len) for the frame data[0, total). */
static int same_frame(const uint8_t *out, size_t len, const uint8_t *data,
		      size_t total)
{
	return len == total && memcmp(out, data, len) == 0;
}

/* 1 when a and b hold the same bytes (or are both null). */
static int same_str(const struct kp_seg *sa, uint32_t na,
		    const struct kp_str *a, const struct kp_seg *sb,
		    uint32_t nb, const struct kp_str *b)
{
	struct kp_reader ra, rb;

	if (a->len != b->len)
		return 0;
	kp_reader_init(&ra, sa, na, SIZE_MAX);
	kp_reader_init(&rb, sb, nb, SIZE_MAX);
	ra.pos = a->pos;
	rb.pos = b->pos;
	for (int32_t i = 0; i < a->len; i++)
		if (kp_read_i8(&ra) != kp_read_i8(&rb) || ra.err || rb.err)
			return 0;
	return 1;
}

static int mapped(const struct map *m, int32_t node_id)
{
	return !m->partial || ((uint32_t)node_id + m->seed) % 3 != 0;
}

static int32_t host_len(const struct map *m, int32_t node_id)
{
	return (int32_t)(((uint32_t)node_id * 7u + m->seed) % 41u);
}

static char host_char(int32_t node_id, int32_t k)
{
	return (char)('a' + ((uint32_t)node_id + (uint32_t)k) % 26u);
}

static int32_t new_port(const struct map *m, int32_t node_id)
{
	return 20000 + (int32_t)(((uint32_t)node_id + m->seed) % 10000u);
}

static int map_fn(void *ctx, int32_t node_id, const struct kp_str *orig,
		  const char **host, int32_t *len, int32_t *port)
{
	struct map *m = ctx;
	uint32_t i = m->calls++;

	FZ_CHECK(fz_view_ok(m->segs, m->nseg, orig), "host view len %d",
		 orig->len);
	if (m->same) {
		const struct kp_addr *a;

		if (i >= m->orig->addrs.n)
			return 0;
		a = &m->orig->addrs.v[i];
		FZ_CHECK(a->node_id == node_id, "address %u: node %d, was %d",
			 i, node_id, a->node_id);
		if (orig->len < 0 || !orig->ptr)
			return 0;
		*host = (const char *)orig->ptr;
		*len = orig->len;
		*port = a->port;
		return 1;
	}
	if (!mapped(m, node_id))
		return 0;
	*len = host_len(m, node_id);
	for (int32_t k = 0; k < *len; k++)
		m->host[k] = host_char(node_id, k);
	*host = m->host;
	*port = new_port(m, node_id);
	return 1;
}

static int map_none(void *ctx, int32_t node_id, const struct kp_str *orig,
		    const char **host, int32_t *len, int32_t *port)
{
	return 0;
}

/* Count, then rewrite into exactly that much: *out (malloc'd) and *len.
 * The status of the second pass, or of the first if it failed. */
static int rewrite(const struct fz_segs *in, size_t max, int16_t key,
		   int16_t version, kp_addr_map_fn fn, void *ctx, uint8_t **out,
		   size_t *len, uint32_t *n)
{
	struct kp_wbuf count = {NULL, 0, 0, 0}, w;
	uint32_t n1 = 0;
	int rc = kp_addrs_rewrite(in->seg, in->n, max, key, version, fn, ctx,
				  &count, &n1);

	*out = NULL;
	*len = 0;
	if (rc != KP_OK && rc != KP_TRAILING)
		return rc;
	if (ctx)
		((struct map *)ctx)->calls = 0;
	w.cap = count.len + slack();
	w.buf = malloc(w.cap ? w.cap : 1);
	FZ_CHECK(w.buf != NULL, "out of memory");
	w.len = 0;
	w.nospace = 0;
	*n = 0;
	rc = kp_addrs_rewrite(in->seg, in->n, max, key, version, fn, ctx, &w,
			      n);
	FZ_CHECK(rc != KP_ERR_NOSPACE,
		 "key %d v%d: the counted %zu bytes are too few", key, version,
		 count.len);
	FZ_CHECK(rc == KP_OK || rc == KP_TRAILING,
		 "counting gave ok, rewriting %s", kp_status_str(rc));
	FZ_CHECK(w.len == count.len && *n == n1,
		 "counted %zu bytes / %u addresses, wrote %zu / %u", count.len,
		 n1, w.len, *n);
	*out = w.buf;
	*len = w.len;
	return rc;
}

static void check_addrs(const struct fz_prelude *p, const struct fz_segs *cut,
			const struct fz_segs *whole, const uint8_t *data)
{
	struct kp_addr *a1 = calloc(MAX_ADDRS, sizeof(*a1));
	struct kp_addr *a2 = calloc(MAX_ADDRS, sizeof(*a2));
	struct kp_addrs before = {.addrs = {a1, MAX_ADDRS, 0, 0}};
	struct kp_addrs after = {.addrs = {a2, MAX_ADDRS, 0, 0}};
	struct map m = {.segs = cut->seg,
			.nseg = cut->n,
			.seed = p->seed,
			.partial = !!(p->flags & FZ_F_PARTIAL_MAP)};
	int16_t key = p->api_key, ver = p->api_version;
	struct kp_frame fr;
	struct kp_resp_hdr h;
	uint8_t *out;
	size_t len;
	uint32_t n;
	int rc0, rc, rw;

	FZ_CHECK(a1 && a2, "out of memory");
	rc0 = kp_addrs_decode(cut->seg, cut->n, p->max_frame, key, ver,
			      &before);
	rw = kp_addrs_decode(whole->seg, whole->n, p->max_frame, key, ver,
			     &after);
	FZ_CHECK(fz_decode_status(rc0) && rc0 != KP_ERR_NOSPACE,
		 "kp_addrs_decode gave %d", rc0);
	FZ_CHECK(rc0 == rw && before.addrs.total == after.addrs.total,
		 "addrs: %s cut, %s whole", kp_status_str(rc0),
		 kp_status_str(rw));
	FZ_CHECK(before.addrs.n <= before.addrs.cap &&
			 before.addrs.n <= before.addrs.total,
		 "n %u, total %u", before.addrs.n, before.addrs.total);
	for (uint32_t i = 0; i < before.addrs.n; i++)
		FZ_CHECK(fz_view_ok(cut->seg, cut->n, &a1[i].host),
			 "address %u: host view len %d", i, a1[i].host.len);
	if (!kp_api_carries_addrs(key) && (rc0 == KP_OK || rc0 == KP_TRAILING))
		FZ_CHECK(before.addrs.total == 0, "%u addresses in api %d",
			 before.addrs.total, key);

	/* Nothing mapped: the frame comes back as it was. */
	rc = rewrite(cut, p->max_frame, key, ver, map_none, NULL, &out, &len,
		     &n);
	FZ_CHECK(rc == rc0, "map nothing: %s, decode %s", kp_status_str(rc),
		 kp_status_str(rc0));
	if (rc == KP_OK || rc == KP_TRAILING) {
		FZ_CHECK(kp_split_resp(whole->seg, whole->n, p->max_frame, key,
				       ver, &h, &fr) == KP_OK,
			 "rewritten, yet no frame");
		FZ_CHECK(n == 0, "%u rewritten by a map of nothing", n);
		if (!known() || same_frame(out, len, data, fr.total)) {
			FZ_CHECK(same_frame(out, len, data, fr.total),
				 "key %d v%d: a map of nothing changed the "
				 "frame (%zu bytes in, %zu out)",
				 key, ver, fr.total, len);
		} else {
			struct kp_seg s = {out, len};
			int r = kp_addrs_decode(&s, 1, 0, key, ver, &after);

			FZ_CHECK(r == rc0 && after.addrs.total ==
						     before.addrs.total,
				 "map nothing: the output decodes %s",
				 kp_status_str(r));
		}
	}
	free(out);
	if (rc0 != KP_OK && rc0 != KP_TRAILING)
		goto done;

	/* Every address to a host of another length. */
	rc = rewrite(cut, p->max_frame, key, ver, map_fn, &m, &out, &len, &n);
	FZ_CHECK(rc == rc0, "map: %s, decode %s", kp_status_str(rc),
		 kp_status_str(rc0));
	{
		struct kp_seg s = {out, len};
		struct kp_resp_hdr h2;
		struct kp_frame f2;
		uint32_t want = 0;
		int r3 = kp_addrs_decode(&s, 1, 0, key, ver, &after);

		FZ_CHECK(r3 == rc0,
			 "key %d v%d: the rewritten frame decodes "
			 "%s, the original %s",
			 key, ver, kp_status_str(r3), kp_status_str(rc0));
		FZ_CHECK(after.addrs.total == before.addrs.total,
			 "%u addresses, were %u", after.addrs.total,
			 before.addrs.total);
		FZ_CHECK(kp_split_resp(&s, 1, 0, key, ver, &h2, &f2) == KP_OK &&
				 f2.total == len,
			 "rewritten frame size");
		FZ_CHECK(kp_split_resp(whole->seg, whole->n, p->max_frame, key,
				       ver, &h, &fr) == KP_OK &&
				 h2.corr_id == h.corr_id,
			 "correlation id changed");
		for (uint32_t i = 0; i < after.addrs.n; i++) {
			const struct kp_addr *b = &a1[i], *a = &a2[i];

			FZ_CHECK(a->node_id == b->node_id,
				 "address %u: node %d, was %d", i, a->node_id,
				 b->node_id);
			if (mapped(&m, b->node_id)) {
				int32_t hl = host_len(&m, b->node_id);
				char hb[64];

				want++;
				FZ_CHECK(a->host.len == hl,
					 "host len %d, want %d", a->host.len,
					 hl);
				kp_str_copy(&s, 1, &a->host, hb, sizeof(hb));
				for (int32_t k = 0; k < hl; k++)
					FZ_CHECK(hb[k] == host_char(b->node_id,
								    k),
						 "host byte %d", k);
				FZ_CHECK(a->port == new_port(&m, b->node_id),
					 "port %d", a->port);
			} else {
				FZ_CHECK(a->port == b->port &&
						 same_str(&s, 1, &a->host,
							  cut->seg, cut->n,
							  &b->host),
					 "unmapped address %u changed", i);
			}
		}
		if (after.addrs.n == after.addrs.total)
			FZ_CHECK(n == want, "%u rewritten, %u mapped", n, want);
	}
	free(out);

	/* Every address to itself: the same addresses come back. */
	m.same = 1;
	m.orig = &before;
	m.calls = 0;
	rc = rewrite(cut, p->max_frame, key, ver, map_fn, &m, &out, &len, &n);
	FZ_CHECK(rc == rc0, "same map: %s, decode %s", kp_status_str(rc),
		 kp_status_str(rc0));
	{
		struct kp_seg s = {out, len};
		int r3 = kp_addrs_decode(&s, 1, 0, key, ver, &after);

		FZ_CHECK(r3 == rc0 && after.addrs.total == before.addrs.total,
			 "same map: decodes %s", kp_status_str(r3));
		for (uint32_t i = 0; i < after.addrs.n; i++)
			FZ_CHECK(a2[i].node_id == a1[i].node_id &&
					 a2[i].port == a1[i].port &&
					 a2[i].host.len == a1[i].host.len,
				 "same map: address %u changed", i);
	}
	free(out);
done:
	free(a1);
	free(a2);
}

/* ---- ApiVersions cap ---- */

static int16_t keep(void *ctx, int16_t key, int16_t min, int16_t max)
{
	return max;
}

static int16_t cap_of(uint8_t seed, int16_t key)
{
	return (int16_t)(((uint32_t)(uint16_t)key * 31u + seed) % 20u) - 2;
}

static int16_t cap_fn(void *ctx, int16_t key, int16_t min, int16_t max)
{
	return cap_of(*(uint8_t *)ctx, key);
}

static int cap(const struct fz_segs *in, size_t max, int16_t version,
	       kp_api_cap_fn fn, void *ctx, uint8_t **out, size_t *len)
{
	struct kp_wbuf count = {NULL, 0, 0, 0}, w;
	int rc = kp_apiversions_cap(in->seg, in->n, max, version, fn, ctx,
				    &count);

	*out = NULL;
	*len = 0;
	if (rc != KP_OK && rc != KP_TRAILING)
		return rc;
	w.cap = count.len + slack();
	w.buf = malloc(w.cap ? w.cap : 1);
	FZ_CHECK(w.buf != NULL, "out of memory");
	w.len = 0;
	w.nospace = 0;
	rc = kp_apiversions_cap(in->seg, in->n, max, version, fn, ctx, &w);
	FZ_CHECK(rc != KP_ERR_NOSPACE,
		 "ApiVersions v%d: the counted %zu bytes are too few", version,
		 count.len);
	FZ_CHECK((rc == KP_OK || rc == KP_TRAILING) && w.len == count.len,
		 "cap: counted ok, wrote %s", kp_status_str(rc));
	*out = w.buf;
	*len = w.len;
	return rc;
}

static void check_cap(const struct fz_prelude *p, const struct fz_segs *cut,
		      const struct fz_segs *whole, const uint8_t *data)
{
	struct kp_api_range *r1 = calloc(MAX_ADDRS, sizeof(*r1));
	struct kp_api_range *r2 = calloc(MAX_ADDRS, sizeof(*r2));
	struct kp_apiversions_resp before = {.apis = {r1, MAX_ADDRS, 0, 0}};
	struct kp_apiversions_resp after = {.apis = {r2, MAX_ADDRS, 0, 0}};
	int16_t ver = p->api_version;
	uint8_t seed = p->seed;
	int32_t size = 0;
	uint8_t *out;
	size_t len;
	int rc0, rc;

	FZ_CHECK(r1 && r2, "out of memory");
	rc0 = kp_apiversions_resp_decode(cut->seg, cut->n, p->max_frame, ver,
					 &before);
	rc = cap(cut, p->max_frame, ver, keep, NULL, &out, &len);
	if (rc0 == KP_OK || rc0 == KP_TRAILING) {
		FZ_CHECK(rc == rc0, "cap nothing: %s, decode %s",
			 kp_status_str(rc), kp_status_str(rc0));
		/* An UNSUPPORTED_VERSION answer reads as v0 whatever ver is
		 * (even one this table lacks): take the size prefix alone. */
		FZ_CHECK(kp_frame_size(whole->seg, whole->n, p->max_frame,
				       &size) == KP_OK,
			 "capped, yet no frame size");
		if (!known() || same_frame(out, len, data, 4 + (size_t)size)) {
			FZ_CHECK(same_frame(out, len, data, 4 + (size_t)size),
				 "ApiVersions v%d: capping nothing changed the "
				 "frame (%d bytes in, %zu out)",
				 ver, 4 + size, len);
		} else {
			struct kp_seg s = {out, len};
			int r = kp_apiversions_resp_decode(&s, 1, 0, ver,
							   &after);

			FZ_CHECK(r == rc0 &&
					 after.apis.total == before.apis.total,
				 "cap nothing: the output decodes %s",
				 kp_status_str(r));
		}
	}
	free(out);
	if (rc0 != KP_OK && rc0 != KP_TRAILING)
		goto done;
	rc = cap(cut, p->max_frame, ver, cap_fn, &seed, &out, &len);
	FZ_CHECK(rc == rc0, "cap: %s, decode %s", kp_status_str(rc),
		 kp_status_str(rc0));
	{
		struct kp_seg s = {out, len};
		int r3 = kp_apiversions_resp_decode(&s, 1, 0, ver, &after);

		FZ_CHECK(r3 == rc0 && after.apis.total == before.apis.total &&
				 after.error == before.error &&
				 after.decoded_as == before.decoded_as,
			 "capped: decodes %s, %u ranges (were %u)",
			 kp_status_str(r3), after.apis.total,
			 before.apis.total);
		for (uint32_t i = 0; i < after.apis.n; i++) {
			const struct kp_api_range *a = &r2[i], *b = &r1[i];
			int16_t c = cap_of(seed, b->key), want = b->max;

			if (c < b->min)
				c = b->min;
			if (c < want)
				want = c;
			FZ_CHECK(a->key == b->key && a->min == b->min &&
					 a->max == want,
				 "range %u: %d %d..%d, want %d %d..%d", i,
				 a->key, a->min, a->max, b->key, b->min, want);
		}
	}
	free(out);
done:
	free(r1);
	free(r2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_prelude p;
	struct fz_segs whole, cut;

	if (!fz_prelude(&data, &size, &p))
		return 0;
	fz_segs_make(&whole, data, size, 1, p.cuts);
	fz_segs_make(&cut, data, size, p.nseg, p.cuts);
	if (p.api_key == KP_API_API_VERSIONS)
		check_cap(&p, &cut, &whole, data);
	else
		check_addrs(&p, &cut, &whole, data);
	fz_segs_free(&whole);
	fz_segs_free(&cut);
	return 0;
}
