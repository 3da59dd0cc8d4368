/*
 * synth: a schema-driven writer of test bodies. It shares the tables with
 * the walker on purpose (so every API and version can be swept), never its
 * code: encodings here are written out from the protocol rules.
 */
#include "synth.h"

#include <string.h>

struct out {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int full;
	int16_t version;
	int flexible;
	const struct synth_opts *o;
	uint32_t counter;
};

static void put(struct out *w, const void *p, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = 1;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_be(struct out *w, uint64_t v, int n)
{
	uint8_t b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put(w, b, (size_t)n);
}

static void put_uvar(struct out *w, uint32_t v)
{
	while (v >= 0x80) {
		uint8_t b = (uint8_t)(v | 0x80);

		put(w, &b, 1);
		v >>= 7;
	}
	uint8_t last = (uint8_t)v;
	put(w, &last, 1);
}

static int in(int16_t v, int16_t lo, int16_t hi)
{
	return v >= lo && v <= hi;
}

static int compact_of(const struct out *w, const struct kp_field *f)
{
	if (f->flex_override >= 0)
		return w->version >= f->flex_override;
	return w->flexible;
}

/* A minimal magic-2 record batch with one record, so records fields hold
 * something a records decoder can read. */
static void put_batch(struct out *w)
{
	static const uint8_t record[] = {
		0x10,                /* length 8 (zig-zag) */
		0x00,                /* attributes */
		0x00,                /* timestamp delta 0 */
		0x00,                /* offset delta 0 */
		0x01,                /* key: null (-1) */
		0x06, 'a', 'b', 'c', /* value: 3 bytes */
		0x00,                /* no headers */
	};
	size_t start = w->len;

	put_be(w, 0, 8);            /* base offset */
	put_be(w, 0, 4);            /* batch length, fixed below */
	put_be(w, 0, 4);            /* partition leader epoch */
	put_be(w, 2, 1);            /* magic */
	put_be(w, 0, 4);            /* crc (not checked) */
	put_be(w, 0, 2);            /* attributes */
	put_be(w, 0, 4);            /* last offset delta */
	put_be(w, 1000, 8);         /* base timestamp */
	put_be(w, 1000, 8);         /* max timestamp */
	put_be(w, (uint64_t)-1, 8); /* producer id */
	put_be(w, (uint64_t)-1, 2); /* producer epoch */
	put_be(w, (uint64_t)-1, 4); /* base sequence */
	put_be(w, 1, 4);            /* record count */
	put(w, record, sizeof(record));
	if (!w->full) {
		uint32_t blen = (uint32_t)(w->len - start - 12);

		for (int i = 0; i < 4; i++)
			w->buf[start + 8 + i] =
				(uint8_t)(blen >> (8 * (3 - i)));
	}
}

static void put_struct(struct out *w, const struct kp_struct *s);

static void put_value(struct out *w, const struct kp_field *f, int nullable)
{
	int compact = compact_of(w, f);
	int32_t slen = w->o->str_len;
	uint8_t text[64];

	w->counter++;
	switch (f->type) {
	case KP_T_BOOL:
		put_be(w, w->counter & 1, 1);
		return;
	case KP_T_INT8:
		put_be(w, w->counter & 0x7f, 1);
		return;
	case KP_T_INT16:
	case KP_T_UINT16:
		put_be(w, w->counter & 0x7fff, 2);
		return;
	case KP_T_INT32:
	case KP_T_UINT32:
		put_be(w, w->counter, 4);
		return;
	case KP_T_INT64:
	case KP_T_FLOAT64:
		put_be(w, w->counter, 8);
		return;
	case KP_T_UUID:
		for (int i = 0; i < 16; i++)
			put_be(w, (w->counter + (uint32_t)i) & 0xff, 1);
		return;
	default:
		break;
	}
	if (nullable && w->o->null_nullables) {
		if (compact)
			put_uvar(w, 0);
		else if (f->type == KP_T_STRING)
			put_be(w, 0xffff, 2);
		else
			put_be(w, 0xffffffff, 4);
		return;
	}
	if (f->type == KP_T_RECORDS) {
		uint8_t tmp[256];
		struct out t = *w;

		t.buf = tmp;
		t.cap = sizeof(tmp);
		t.len = 0;
		put_batch(&t);
		if (compact)
			put_uvar(w, (uint32_t)t.len + 1);
		else
			put_be(w, t.len, 4);
		put(w, tmp, t.len);
		return;
	}
	if (slen > (int32_t)sizeof(text))
		slen = sizeof(text);
	for (int32_t i = 0; i < slen; i++)
		text[i] = (uint8_t)('a' + (w->counter + (uint32_t)i) % 26);
	if (compact)
		put_uvar(w, (uint32_t)slen + 1);
	else if (f->type == KP_T_STRING)
		put_be(w, (uint64_t)slen, 2);
	else
		put_be(w, (uint64_t)slen, 4);
	put(w, text, (size_t)slen);
}

static void put_field(struct out *w, const struct kp_field *f)
{
	int nullable = in(w->version, f->nmin, f->nmax);
	int compact = compact_of(w, f);

	if (f->is_array) {
		int32_t n = w->o->array_len;

		if (nullable && w->o->null_nullables) {
			if (compact)
				put_uvar(w, 0);
			else
				put_be(w, 0xffffffff, 4);
			return;
		}
		if (compact)
			put_uvar(w, (uint32_t)n + 1);
		else
			put_be(w, (uint64_t)n, 4);
		for (int32_t i = 0; i < n; i++) {
			if (f->type == KP_T_STRUCT)
				put_struct(w, f->sub);
			else
				put_value(w, f, 0);
		}
		return;
	}
	if (f->type == KP_T_STRUCT) {
		if (nullable) {
			if (w->o->null_nullables) {
				put_be(w, 0xff, 1);
				return;
			}
			put_be(w, 1, 1);
		}
		put_struct(w, f->sub);
		return;
	}
	put_value(w, f, nullable);
}

static void put_struct(struct out *w, const struct kp_struct *s)
{
	uint32_t ntags = 0;

	for (uint16_t i = 0; i < s->nfields; i++) {
		const struct kp_field *f = &s->fields[i];

		if (!in(w->version, f->vmin, f->vmax))
			continue;
		if (in(w->version, f->tmin, f->tmax)) {
			ntags++;
			continue;
		}
		put_field(w, f);
	}
	if (!w->flexible)
		return;
	if (!w->o->tagged)
		ntags = 0;
	put_uvar(w, ntags + (w->o->unknown_tag ? 1 : 0));
	/* Tags go in increasing order; known ones first, the unknown last. */
	for (int32_t tag = 0; ntags && tag < 64; tag++) {
		for (uint16_t i = 0; i < s->nfields; i++) {
			const struct kp_field *f = &s->fields[i];
			uint8_t tmp[4096];
			struct out t;

			if (!in(w->version, f->vmin, f->vmax) ||
			    !in(w->version, f->tmin, f->tmax) || f->tag != tag)
				continue;
			t = *w;
			t.buf = tmp;
			t.cap = sizeof(tmp);
			t.len = 0;
			t.full = 0;
			put_field(&t, f);
			w->counter = t.counter;
			if (t.full) {
				w->full = 1;
				return;
			}
			put_uvar(w, (uint32_t)tag);
			put_uvar(w, (uint32_t)t.len);
			put(w, tmp, t.len);
		}
	}
	if (w->o->unknown_tag) {
		put_uvar(w, 1000);
		put_uvar(w, 2);
		put_be(w, 0xbeef, 2);
	}
}

static const struct synth_opts defaults = {.array_len = 2, .str_len = 3};

static void out_init(struct out *w, uint8_t *buf, size_t cap,
		     const struct kp_msg *msg, int16_t version,
		     const struct synth_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->version = version;
	w->flexible = version >= msg->flex_min;
	w->o = o ? o : &defaults;
}

size_t synth_body(const struct kp_msg *msg, int16_t version,
		  const struct synth_opts *o, uint8_t *buf, size_t cap)
{
	struct out w;

	out_init(&w, buf, cap, msg, version, o);
	put_struct(&w, msg->body);
	return w.full ? SIZE_MAX : w.len;
}

static size_t frame(struct out *w, const struct kp_msg *msg, int16_t version)
{
	size_t body;

	if (w->full)
		return 0;
	body = synth_body(msg, version, w->o, w->buf + w->len, w->cap - w->len);
	if (body == SIZE_MAX)
		return 0;
	w->len += body;
	for (int i = 0; i < 4; i++)
		w->buf[i] = (uint8_t)((w->len - 4) >> (8 * (3 - i)));
	return w->len;
}

size_t synth_req_frame(int16_t key, int16_t version, int32_t corr,
		       const char *client_id, const struct synth_opts *o,
		       uint8_t *buf, size_t cap)
{
	const struct kp_api *a = kp_api_get(key);
	int hv = kp_req_hdr_version(key, version);
	struct out w;

	if (!a || hv < 0)
		return 0;
	out_init(&w, buf, cap, a->req, version, o);
	put_be(&w, 0, 4);
	put_be(&w, (uint16_t)key, 2);
	put_be(&w, (uint16_t)version, 2);
	put_be(&w, (uint32_t)corr, 4);
	if (hv >= 1) {
		if (client_id) {
			put_be(&w, strlen(client_id), 2);
			put(&w, client_id, strlen(client_id));
		} else {
			put_be(&w, 0xffff, 2);
		}
	}
	if (hv >= 2)
		put_uvar(&w, 0);
	return frame(&w, a->req, version);
}

size_t synth_resp_frame(int16_t key, int16_t version, int32_t corr,
			const struct synth_opts *o, uint8_t *buf, size_t cap)
{
	const struct kp_api *a = kp_api_get(key);
	int hv = kp_resp_hdr_version(key, version);
	struct out w;

	if (!a || hv < 0)
		return 0;
	out_init(&w, buf, cap, a->resp, version, o);
	put_be(&w, 0, 4);
	put_be(&w, (uint32_t)corr, 4);
	if (hv >= 1)
		put_uvar(&w, 0);
	return frame(&w, a->resp, version);
}
