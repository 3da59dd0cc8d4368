/*
 * Decoder micro-benchmark: frames per second and ns per frame for the
 * header split of small Produce and Fetch frames, whole-body walks, and a
 * Metadata response of 100 brokers / 1,000 partitions (typed decode and
 * address rewrite). Each is also given as a ratio to copying the same
 * bytes with memcpy, measured in the same run, since absolute times on a
 * shared machine say little. Prints a Markdown table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kp_frame.h"
#include "kp_msg_meta.h"
#include "kp_schema.h"
#include "kp_walk.h"
#include "synth.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef int (*bench_fn)(const struct kp_seg *s, void *ctx);

static volatile uint64_t sink;
static uint8_t copy_dst[1 << 20];

static int do_memcpy(const struct kp_seg *s, void *ctx)
{
	memcpy(copy_dst, s->ptr, s->len);
	sink += copy_dst[s->len - 1];
	return 0;
}

/* Median ns per call over runs of iters calls. */
static double measure(bench_fn fn, const struct kp_seg *s, void *ctx,
		      long iters)
{
	double t[9];

	for (int r = 0; r < 9; r++) {
		double t0 = now_ns();

		for (long i = 0; i < iters; i++)
			sink += (uint64_t)fn(s, ctx);
		t[r] = (now_ns() - t0) / (double)iters;
	}
	qsort(t, 9, sizeof(double), cmp_double);
	return t[4];
}

static int do_split_req(const struct kp_seg *s, void *ctx)
{
	struct kp_req_hdr h;
	struct kp_frame fr;

	return kp_split_req(s, 1, 0, &h, &fr) + h.corr_id;
}

struct resp_ctx {
	int16_t key, version;
};

static int do_split_resp(const struct kp_seg *s, void *ctx)
{
	struct resp_ctx *c = ctx;
	struct kp_resp_hdr h;
	struct kp_frame fr;

	return kp_split_resp(s, 1, 0, c->key, c->version, &h, &fr) + h.corr_id;
}

static int do_walk_req(const struct kp_seg *s, void *ctx)
{
	struct kp_req_hdr h;

	return kp_walk_req(s, 1, 0, NULL, NULL, &h, NULL);
}

static int do_walk_resp(const struct kp_seg *s, void *ctx)
{
	struct resp_ctx *c = ctx;
	struct kp_resp_hdr h;

	return kp_walk_resp(s, 1, 0, c->key, c->version, NULL, NULL, &h, NULL);
}

static struct kp_md_broker brokers[128];
static struct kp_md_topic topics[16];
static struct kp_md_partition parts[1024];

static int do_md_decode(const struct kp_seg *s, void *ctx)
{
	struct resp_ctx *c = ctx;
	struct kp_metadata_resp o = {.brokers = {brokers, 128},
				     .topics = {topics, 16},
				     .partitions = {parts, 1024}};

	return kp_metadata_resp_decode(s, 1, 0, c->version, &o) +
	       (int)o.partitions.n;
}

static int map_all(void *ctx, int32_t node_id, const struct kp_str *orig,
		   const char **host, int32_t *host_len, int32_t *port)
{
	*host = "127.0.0.1";
	*host_len = 9;
	*port = 20000 + node_id;
	return 1;
}

static uint8_t rewrite_out[1 << 20];

static int do_md_rewrite(const struct kp_seg *s, void *ctx)
{
	struct resp_ctx *c = ctx;
	struct kp_wbuf w = {rewrite_out, sizeof(rewrite_out), 0, 0};
	uint32_t n;

	return kp_addrs_rewrite(s, 1, 0, KP_API_METADATA, c->version, map_all,
				NULL, &w, &n) +
	       (int)n;
}

/* Metadata v12 response: 100 brokers, 10 topics of 100 partitions, three
 * replicas each, written out from the layout. */
static size_t build_metadata(uint8_t *buf, size_t cap)
{
	struct kp_wbuf w = {buf, cap, 0, 0};
	char host[32];

	kp_wbuf_i32(&w, 0);     /* size, fixed below */
	kp_wbuf_i32(&w, 42);    /* correlation id */
	kp_wbuf_uvarint(&w, 0); /* header tags */
	kp_wbuf_i32(&w, 0);     /* throttle */
	kp_wbuf_uvarint(&w, 100 + 1);
	for (int b = 0; b < 100; b++) {
		int n = snprintf(host, sizeof(host), "broker-%d.kafka.internal",
				 b);

		kp_wbuf_i32(&w, b + 1);
		kp_wbuf_uvarint(&w, (uint32_t)n + 1);
		kp_wbuf_put(&w, host, (size_t)n);
		kp_wbuf_i32(&w, 9092);
		kp_wbuf_uvarint(&w, 0); /* rack null */
		kp_wbuf_uvarint(&w, 0); /* tags */
	}
	kp_wbuf_uvarint(&w, 5); /* cluster id "abcd" */
	kp_wbuf_put(&w, "abcd", 4);
	kp_wbuf_i32(&w, 1); /* controller */
	kp_wbuf_uvarint(&w, 10 + 1);
	for (int t = 0; t < 10; t++) {
		uint8_t uuid[16] = {(uint8_t)t};
		int n = snprintf(host, sizeof(host), "topic-%d", t);

		kp_wbuf_i16(&w, 0);
		kp_wbuf_uvarint(&w, (uint32_t)n + 1);
		kp_wbuf_put(&w, host, (size_t)n);
		kp_wbuf_put(&w, uuid, 16);
		kp_wbuf_put(&w, "\0", 1); /* is_internal */
		kp_wbuf_uvarint(&w, 100 + 1);
		for (int p = 0; p < 100; p++) {
			kp_wbuf_i16(&w, 0);
			kp_wbuf_i32(&w, p);
			kp_wbuf_i32(&w, p % 100 + 1);
			kp_wbuf_i32(&w, 7);
			for (int k = 0; k < 2; k++) {
				kp_wbuf_uvarint(&w, 3 + 1);
				for (int r = 0; r < 3; r++)
					kp_wbuf_i32(&w, (p + r) % 100 + 1);
			}
			kp_wbuf_uvarint(&w, 1); /* offline: [] */
			kp_wbuf_uvarint(&w, 0); /* tags */
		}
		kp_wbuf_i32(&w, 0);     /* topic authorized ops */
		kp_wbuf_uvarint(&w, 0); /* tags */
	}
	kp_wbuf_uvarint(&w, 0); /* body tags */
	if (w.nospace)
		return 0;
	for (int i = 0; i < 4; i++)
		buf[i] = (uint8_t)((w.len - 4) >> (8 * (3 - i)));
	return w.len;
}

/* One row of the table: a frame, what is done to it, how often per run. */
struct bench_row {
	const char *what;
	const uint8_t *frame;
	const size_t *len;
	bench_fn fn;
	void *ctx;
	long iters;
};

static uint8_t produce[4096], fetch[4096], fetch_resp[4096], md[1 << 18];
static size_t lp, lf, lfr, lm;
static struct resp_ctx fr = {KP_API_FETCH, 12}, mr = {KP_API_METADATA, 12};

static const struct bench_row rows[] = {
	{"Produce v9 request: header split", produce, &lp, do_split_req, NULL,
	 2000000},
	{"Produce v9 request: whole-body walk", produce, &lp, do_walk_req, NULL,
	 500000},
	{"Fetch v12 request: header split", fetch, &lf, do_split_req, NULL,
	 2000000},
	{"Fetch v12 request: whole-body walk", fetch, &lf, do_walk_req, NULL,
	 500000},
	{"Fetch v12 response: header split", fetch_resp, &lfr, do_split_resp,
	 &fr, 2000000},
	{"Fetch v12 response: whole-body walk", fetch_resp, &lfr, do_walk_resp,
	 &fr, 500000},
	{"Metadata v12 response, 100 brokers / 1,000 partitions: typed decode",
	 md, &lm, do_md_decode, &mr, 200},
	{"the same: rewrite all 100 broker addresses", md, &lm, do_md_rewrite,
	 &mr, 200},
};
#define N_ROWS (int)(sizeof(rows) / sizeof(rows[0]))

/* The loop callgrind counts (--toggle-collect=count_calls): n calls of
 * the row's function, or of memcpy over the same bytes. */
static __attribute__((noinline)) void
count_calls(bench_fn fn, const struct kp_seg *s, void *ctx, long n)
{
	for (long i = 0; i < n; i++)
		sink += (uint64_t)fn(s, ctx);
}

static int build_frames(void)
{
	struct synth_opts o = {.array_len = 1, .str_len = 8};
	struct kp_seg s;
	struct kp_metadata_resp check = {.brokers = {brokers, 128},
					 .topics = {topics, 16},
					 .partitions = {parts, 1024}};

	lp = synth_req_frame(KP_API_PRODUCE, 9, 1, "producer-1", &o, produce,
			     sizeof(produce));
	lf = synth_req_frame(KP_API_FETCH, 12, 2, "consumer-g-1", &o, fetch,
			     sizeof(fetch));
	lfr = synth_resp_frame(KP_API_FETCH, 12, 2, &o, fetch_resp,
			       sizeof(fetch_resp));
	lm = build_metadata(md, sizeof(md));
	s.ptr = md;
	s.len = lm;
	if (!lp || !lf || !lfr || !lm ||
	    kp_metadata_resp_decode(&s, 1, 0, 12, &check) != KP_OK ||
	    check.brokers.total != 100 || check.partitions.total != 1000) {
		fprintf(stderr, "bench_decode: could not build the frames\n");
		return -1;
	}
	return 0;
}

/*
 *   bench_decode                 the timed table (Markdown)
 *   bench_decode --rows          the number of rows
 *   bench_decode --count K N fn|memcpy
 *                                row K's function, or a memcpy of its
 *                                frame, N times, untimed: for callgrind
 *                                (tests/bench/callgrind-decoder.sh)
 */
int main(int argc, char **argv)
{
	struct kp_seg s;

	if (build_frames() < 0)
		return 1;
	if (argc == 2 && !strcmp(argv[1], "--rows")) {
		printf("%d\n", N_ROWS);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "--count")) {
		int k = atoi(argv[2]);
		long n = atol(argv[3]);
		int copy = !strcmp(argv[4], "memcpy");

		if (k < 0 || k >= N_ROWS || n <= 0) {
			fprintf(stderr, "bench_decode: no row %s\n", argv[2]);
			return 2;
		}
		s.ptr = rows[k].frame;
		s.len = *rows[k].len;
		count_calls(copy ? do_memcpy : rows[k].fn, &s,
			    copy ? NULL : rows[k].ctx, n);
		printf("%s\t%zu\n", rows[k].what, s.len);
		return 0;
	}
	printf("| frame | bytes | frames/s | ns/frame | memcpy ns | ratio to "
	       "memcpy |\n");
	printf("|---|---|---|---|---|---|\n");
	for (int k = 0; k < N_ROWS; k++) {
		double ns, base;

		s.ptr = rows[k].frame;
		s.len = *rows[k].len;
		ns = measure(rows[k].fn, &s, rows[k].ctx, rows[k].iters);
		base = measure(do_memcpy, &s, NULL, rows[k].iters);
		printf("| %s | %zu | %.0f | %.1f | %.1f | %.1fx |\n",
		       rows[k].what, s.len, 1e9 / ns, ns, base, ns / base);
	}
	return 0;
}
