/*
 * kp_walk: interpret the generated schema tables over real bytes. One walk
 * both decodes (events to a visitor) and, when asked, re-encodes: each field
 * is copied from the input as it was read, so an unmodified body comes out
 * identical, unknown tagged fields included.
 */
#include "kp_walk.h"

#include <stdio.h>
#include <string.h>

struct walk {
	struct kp_reader *r;
	int16_t version;
	int flexible;
	kp_visit_fn visit;
	void *ctx;
	struct kp_wbuf *out;
	struct kp_walk_stats *stats;
	uint16_t path[KP_WALK_MAX_DEPTH];
	uint16_t depth;
	int stop; /* a visitor's or the output's non-OK status */
};

size_t kp_uvarint_size(uint32_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

void kp_wbuf_put(struct kp_wbuf *w, const void *p, size_t n)
{
	if (w->buf) {
		if (w->nospace)
			return;
		if (n > w->cap - w->len) {
			w->nospace = 1;
			return;
		}
		memcpy(w->buf + w->len, p, n);
	}
	w->len += n;
}

void kp_wbuf_i16(struct kp_wbuf *w, int16_t v)
{
	uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};

	kp_wbuf_put(w, b, 2);
}

void kp_wbuf_i32(struct kp_wbuf *w, int32_t v)
{
	uint32_t u = (uint32_t)v;
	uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16),
			(uint8_t)(u >> 8), (uint8_t)u};

	kp_wbuf_put(w, b, 4);
}

void kp_wbuf_uvarint(struct kp_wbuf *w, uint32_t v)
{
	uint8_t b[5];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (uint8_t)v;
	kp_wbuf_put(w, b, n);
}

void kp_wbuf_copy(struct kp_wbuf *w, const struct kp_reader *r,
		  struct kp_pos pos, size_t len)
{
	uint32_t seg = pos.seg, off = pos.off;

	while (len > 0 && seg < r->nseg) {
		size_t chunk = r->segs[seg].len - off;

		if (chunk > len)
			chunk = len;
		kp_wbuf_put(w, r->segs[seg].ptr + off, chunk);
		len -= chunk;
		seg++;
		off = 0;
	}
}

/* Copy what was read since pos to the output, as it was. */
static void copy_since(struct walk *w, struct kp_pos pos)
{
	if (w->out && !w->r->err)
		kp_wbuf_copy(w->out, w->r, pos, w->r->pos.abs - pos.abs);
}

static int field_compact(const struct walk *w, const struct kp_field *f)
{
	if (f->flex_override >= 0)
		return w->version >= f->flex_override;
	return w->flexible;
}

static void emit(struct walk *w, struct kp_wval *v)
{
	int rc;

	if (!w->visit || w->stop || w->r->err)
		return;
	v->depth = w->depth;
	v->path = w->path;
	rc = w->visit(w->ctx, v);
	if (rc != KP_OK)
		w->stop = rc;
}

/* Encode a visitor's replacement of a value in place of the original. */
static void put_replacement(struct walk *w, const struct kp_wval *v)
{
	struct kp_wbuf *o = w->out;
	int64_t x = v->new_i;
	uint8_t b[8];
	size_t n = 0;

	switch (v->f->type) {
	case KP_T_BOOL:
	case KP_T_INT8:
		n = 1;
		break;
	case KP_T_INT16:
	case KP_T_UINT16:
		n = 2;
		break;
	case KP_T_INT32:
	case KP_T_UINT32:
		n = 4;
		break;
	case KP_T_INT64:
		n = 8;
		break;
	case KP_T_STRING:
	case KP_T_BYTES:
		if (v->compact)
			kp_wbuf_uvarint(o, (uint32_t)(v->new_len + 1));
		else if (v->f->type == KP_T_STRING)
			kp_wbuf_i16(o, (int16_t)v->new_len);
		else
			kp_wbuf_i32(o, v->new_len);
		if (v->new_len > 0)
			kp_wbuf_put(o, v->new_s, (size_t)v->new_len);
		return;
	default:
		/* Other types cannot be replaced; keeping the original is the
		 * only safe answer, and the visitor is told by the status. */
		w->stop = KP_ERR_MALFORMED;
		return;
	}
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((uint64_t)x >> (8 * (n - 1 - i)));
	kp_wbuf_put(o, b, n);
}

static void walk_value(struct walk *w, const struct kp_field *f, int32_t index)
{
	struct kp_reader *r = w->r;
	struct kp_pos start = r->pos;
	struct kp_wval v;
	int compact = field_compact(w, f);
	int nullable = kp_ver_in(w->version, f->nmin, f->nmax);

	/* Only what every value uses is cleared: d, uuid and s are set by
	 * the types that have them (this runs once per field). */
	v.ev = KP_WEV_VALUE;
	v.f = f;
	v.index = index;
	v.compact = compact;
	v.i = 0;
	v.s.ptr = NULL;
	v.s.len = 0;
	v.replace = 0;
	switch (f->type) {
	case KP_T_BOOL:
	case KP_T_INT8:
		v.i = kp_read_i8(r);
		break;
	case KP_T_INT16:
		v.i = kp_read_i16(r);
		break;
	case KP_T_UINT16:
		v.i = kp_read_u16(r);
		break;
	case KP_T_INT32:
		v.i = kp_read_i32(r);
		break;
	case KP_T_UINT32:
		v.i = kp_read_u32(r);
		break;
	case KP_T_INT64:
		v.i = kp_read_i64(r);
		break;
	case KP_T_FLOAT64:
		v.d = kp_read_f64(r);
		break;
	case KP_T_UUID:
		kp_read_uuid(r, v.uuid);
		break;
	case KP_T_STRING:
		v.s = kp_read_str(r, compact);
		break;
	case KP_T_BYTES:
	case KP_T_RECORDS:
		v.s = kp_read_bytes_view(r, compact);
		break;
	default:
		r->err = KP_ERR_MALFORMED;
		break;
	}
	if (r->err)
		return;
	/* Array elements are never null; a null where the version does not
	 * allow one is a broken frame. */
	if (v.s.len == -1 && (!nullable || index >= 0) &&
	    (f->type == KP_T_STRING || f->type == KP_T_BYTES ||
	     f->type == KP_T_RECORDS)) {
		r->err = KP_ERR_MALFORMED;
		return;
	}
	emit(w, &v);
	if (!w->out)
		return;
	if (v.replace)
		put_replacement(w, &v);
	else
		copy_since(w, start);
}

static void walk_struct(struct walk *w, const struct kp_struct *s);

static void push(struct walk *w, uint16_t name)
{
	if (w->depth >= KP_WALK_MAX_DEPTH) {
		/* The tables are finite and shallow: this is a table bug. */
		w->r->err = KP_ERR_MALFORMED;
		return;
	}
	w->path[w->depth++] = name;
}

static void walk_field(struct walk *w, const struct kp_field *f)
{
	struct kp_reader *r = w->r;
	struct kp_pos start = r->pos;
	struct kp_wval v;
	int nullable = kp_ver_in(w->version, f->nmin, f->nmax);

	memset(&v, 0, sizeof(v));
	v.f = f;
	v.index = -1;
	if (!f->is_array && f->type != KP_T_STRUCT) {
		walk_value(w, f, -1);
		return;
	}
	if (f->is_array) {
		int32_t n = kp_read_array_len(r, field_compact(w, f));

		if (r->err)
			return;
		if (n < 0 && !nullable) {
			r->err = KP_ERR_MALFORMED;
			return;
		}
		copy_since(w, start);
		v.ev = KP_WEV_ARRAY;
		v.i = n;
		emit(w, &v);
		/* Elements of a struct array are a level down; values of a
		 * scalar array stay at the array's level, with an index. */
		if (f->type == KP_T_STRUCT)
			push(w, f->name);
		for (int32_t i = 0; i < n && !r->err && !w->stop; i++) {
			if (f->type == KP_T_STRUCT) {
				struct kp_wval e = {
					.ev = KP_WEV_ELEM, .f = f, .index = i};

				emit(w, &e);
				walk_struct(w, f->sub);
				e.ev = KP_WEV_ELEM_END;
				emit(w, &e);
			} else {
				walk_value(w, f, i);
			}
		}
		if (f->type == KP_T_STRUCT)
			w->depth--;
		v.ev = KP_WEV_ARRAY_END;
		emit(w, &v);
		return;
	}
	/* A struct-typed field; nullable ones carry an int8 presence byte:
	 * negative means null, anything else present (as Kafka's own
	 * generated readers take it). */
	v.ev = KP_WEV_STRUCT;
	v.i = 1;
	if (nullable) {
		int8_t present = kp_read_i8(r);

		if (r->err)
			return;
		copy_since(w, start);
		v.i = present < 0 ? -1 : 1;
	}
	emit(w, &v);
	if (v.i == 1) {
		push(w, f->name);
		walk_struct(w, f->sub);
		w->depth--;
	}
	v.ev = KP_WEV_STRUCT_END;
	emit(w, &v);
}

static const struct kp_field *find_tag(const struct walk *w,
				       const struct kp_struct *s, uint32_t tag)
{
	for (uint16_t i = 0; i < s->nfields; i++) {
		const struct kp_field *f = &s->fields[i];

		if (kp_ver_in(w->version, f->vmin, f->vmax) &&
		    kp_ver_in(w->version, f->tmin, f->tmax) &&
		    (uint32_t)f->tag == tag)
			return f;
	}
	return NULL;
}

/* A known tagged field, re-encoded. Its size prefix (at szpos, szlen
 * bytes) is copied as it was, so an unchanged field comes back identical
 * even if its prefix was not minimally encoded; when the walk changed the
 * field's length, the prefix is rewritten to fit. Growing the prefix
 * needs no room beyond the final output's: it is moved into bytes the
 * counting pass already accounted for. */
static void walk_tagged(struct walk *w, const struct kp_field *f, size_t size,
			struct kp_pos szpos, size_t szlen)
{
	struct kp_reader *r = w->r;
	size_t saved_limit = r->limit;
	size_t end = r->pos.abs + size;
	size_t mark = 0, body_len;
	uint8_t *base;
	size_t vsz;

	if (w->out) {
		mark = w->out->len;
		kp_wbuf_copy(w->out, r, szpos, szlen);
	}
	r->limit = end;
	walk_field(w, f);
	r->limit = saved_limit;
	if (r->err || w->stop)
		return;
	/* Bytes the schema did not account for stay, verbatim. */
	if (r->pos.abs < end) {
		struct kp_pos p = r->pos;

		kp_skip(r, end - r->pos.abs);
		copy_since(w, p);
	}
	if (!w->out || w->out->nospace)
		return;
	body_len = w->out->len - mark - szlen;
	if (body_len == size)
		return;
	vsz = kp_uvarint_size((uint32_t)body_len);
	if (!w->out->buf) {
		w->out->len = w->out->len - szlen + vsz;
		return;
	}
	if (mark + vsz + body_len > w->out->cap) {
		w->out->nospace = 1;
		return;
	}
	base = w->out->buf + mark;
	memmove(base + vsz, base + szlen, body_len);
	w->out->len = mark;
	kp_wbuf_uvarint(w->out, (uint32_t)body_len);
	w->out->len += body_len;
}

static void walk_tags(struct walk *w, const struct kp_struct *s)
{
	struct kp_reader *r = w->r;
	struct kp_pos start = r->pos;
	uint32_t n = kp_read_uvarint(r);

	if (r->err)
		return;
	if (n > kp_reader_frame_left(r)) {
		r->err = KP_ERR_MALFORMED;
		return;
	}
	copy_since(w, start);
	for (uint32_t i = 0; i < n && !r->err && !w->stop; i++) {
		struct kp_pos tstart = r->pos;
		uint32_t tag = kp_read_uvarint(r);
		struct kp_pos szpos = r->pos;
		uint32_t size = kp_read_uvarint(r);
		size_t szlen = r->pos.abs - szpos.abs;
		const struct kp_field *f;

		if (r->err)
			return;
		if (size > kp_reader_frame_left(r)) {
			r->err = KP_ERR_MALFORMED;
			return;
		}
		f = find_tag(w, s, tag);
		if (!f) {
			kp_skip(r, size);
			copy_since(w, tstart);
			if (w->stats && !r->err)
				w->stats->unknown_tags++;
			continue;
		}
		/* The tag as it was, then the field. */
		if (w->out)
			kp_wbuf_copy(w->out, r, tstart, szpos.abs - tstart.abs);
		walk_tagged(w, f, size, szpos, szlen);
	}
}

static void walk_struct(struct walk *w, const struct kp_struct *s)
{
	for (uint16_t i = 0; i < s->nfields; i++) {
		const struct kp_field *f = &s->fields[i];

		if (w->r->err || w->stop)
			return;
		if (!kp_ver_in(w->version, f->vmin, f->vmax) ||
		    kp_ver_in(w->version, f->tmin, f->tmax))
			continue;
		walk_field(w, f);
	}
	if (w->flexible && !w->r->err && !w->stop)
		walk_tags(w, s);
}

int kp_walk_body(struct kp_reader *r, const struct kp_msg *msg, int16_t version,
		 kp_visit_fn visit, void *ctx, struct kp_wbuf *out,
		 struct kp_walk_stats *stats)
{
	struct walk w;
	struct kp_walk_stats local;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (!kp_ver_in(version, msg->vmin, msg->vmax))
		return KP_ERR_UNSUPPORTED_VERSION;
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.version = version;
	w.flexible = version >= msg->flex_min;
	w.visit = visit;
	w.ctx = ctx;
	w.out = out;
	w.stats = stats;
	walk_struct(&w, msg->body);
	if (r->err)
		return r->err;
	if (w.stop)
		return w.stop;
	if (r->limit != SIZE_MAX && r->pos.abs < r->limit) {
		struct kp_pos p = r->pos;

		stats->trailing = r->limit - r->pos.abs;
		kp_skip(r, stats->trailing);
		if (r->err)
			return r->err;
		copy_since(&w, p);
	}
	if (out && out->nospace)
		return KP_ERR_NOSPACE;
	return stats->trailing ? KP_TRAILING : KP_OK;
}

size_t kp_wval_path(const struct kp_wval *v, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	for (uint16_t i = 0; i <= v->depth; i++) {
		uint16_t name = i < v->depth ? v->path[i] : v->f->name;
		int k = snprintf(buf + n, cap - n, "%s%s", i ? "." : "",
				 kp_fname_str[name]);

		if (k < 0 || (size_t)k >= cap - n)
			return cap - 1;
		n += (size_t)k;
	}
	return n;
}
