/*
 * mkseeds: seed inputs for the frame fuzz targets, made from the frames
 * captured from real clients (tests/data/captured): each frame behind the
 * 10-byte prelude its target expects, every records field of a Produce
 * request or Fetch response for fuzz_records, and each source's requests
 * as one stream for fuzz_split; and, for every API key and version in the
 * schema tables, a synthetic request and response (tests/unit/synth.c,
 * known and unknown tagged fields included), so the walker starts from
 * every message layout. `make fuzz-seeds` runs it; the committed corpus is
 * its output minimised with libFuzzer's -merge=1.
 *
 *   mkseeds DATA_DIR OUT_DIR   (writes OUT_DIR/{split,walk,rewrite,records})
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "kp_frame.h"
#include "kp_msg_meta.h"
#include "kp_schema.h"
#include "synth.h"

static const char *out_dir;

static uint8_t *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) &&
	    fread(b, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static void put(const char *target, const char *name, uint8_t flags,
		int16_t key, int16_t version, const uint8_t *b, size_t len)
{
	char path[1024];
	uint8_t pre[FZ_PRELUDE_LEN] = {flags, (uint8_t)key, (uint8_t)version};
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	mkdir(path, 0777);
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(pre, 1, sizeof(pre), f) != sizeof(pre) ||
	    fwrite(b, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "mkseeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

struct rec_ctx {
	const struct kp_seg *seg;
	const char *name;
	int n;
};

static int records_visit(void *ctx, struct kp_wval *v)
{
	struct rec_ctx *c = ctx;
	char name[512];

	if (v->ev != KP_WEV_VALUE || v->f->type != KP_T_RECORDS ||
	    v->s.len <= 0 || !v->s.ptr || c->n >= 4)
		return KP_OK;
	snprintf(name, sizeof(name), "%s-records%d", c->name, c->n++);
	put("records", name, 0, 0, 0, v->s.ptr, (size_t)v->s.len);
	return KP_OK;
}

/* One request and one response per API key and version, built from the
 * tables: every layout the walker knows, tagged fields included. */
static int put_synthetic(void)
{
	static uint8_t buf[1 << 16];
	struct synth_opts o = {
		.array_len = 1, .str_len = 2, .tagged = 1, .unknown_tag = 1};
	int n = 0;

	for (int16_t key = 0; key < kp_api_count; key++) {
		const struct kp_api *a = kp_api_get(key);

		if (!a)
			continue;
		for (int16_t v = a->vmin; v <= a->vmax; v++) {
			char name[128];
			size_t len;

			len = synth_req_frame(key, v, 7, "fz", &o, buf,
					      sizeof(buf));
			if (len != SIZE_MAX) {
				snprintf(name, sizeof(name), "synth-%s-v%d-req",
					 a->name, v);
				put("walk", name, 0, key, v, buf, len);
				n++;
			}
			len = synth_resp_frame(key, v, 7, &o, buf, sizeof(buf));
			if (len != SIZE_MAX) {
				snprintf(name, sizeof(name),
					 "synth-%s-v%d-resp", a->name, v);
				put("walk", name, FZ_F_RESP, key, v, buf, len);
				if (kp_api_carries_addrs(key) ||
				    key == KP_API_API_VERSIONS)
					put("rewrite", name, FZ_F_RESP, key, v,
					    buf, len);
				n++;
			}
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	char path[1024], line[1024], stream_src[256] = "";
	uint8_t *stream = NULL;
	size_t stream_len = 0;
	FILE *idx;
	int n = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: mkseeds DATA_DIR OUT_DIR\n");
		return 2;
	}
	out_dir = argv[2];
	mkdir(out_dir, 0777);
	snprintf(path, sizeof(path), "%s/captured/index.tsv", argv[1]);
	idx = fopen(path, "r");
	if (!idx) {
		fprintf(stderr, "mkseeds: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), idx)) {
		char file[256], dir[8], api[64], src[256], name[300], *slash;
		int key, ver, corr;
		uint8_t *b;
		size_t len;
		int resp;

		if (!strncmp(line, "file\t", 5) ||
		    sscanf(line, "%255[^\t]\t%7[^\t]\t%d\t%63[^\t]\t%d\t%d",
			   file, dir, &key, api, &ver, &corr) != 6)
			continue;
		resp = !strcmp(dir, "resp");
		snprintf(path, sizeof(path), "%s/captured/%s", argv[1], file);
		b = load(path, &len);
		if (!b) {
			fprintf(stderr, "mkseeds: %s: cannot read\n", path);
			return 1;
		}
		snprintf(src, sizeof(src), "%s", file);
		slash = strchr(src, '/');
		if (slash)
			*slash = '\0';
		snprintf(name, sizeof(name), "%s", file);
		for (char *p = name; *p; p++)
			if (*p == '/')
				*p = '-';
		put("walk", name, resp ? FZ_F_RESP : 0, (int16_t)key,
		    (int16_t)ver, b, len);
		put("split", name, resp ? FZ_F_RESP : 0, (int16_t)key,
		    (int16_t)ver, b, len);
		if (resp && (kp_api_carries_addrs((int16_t)key) ||
			     key == KP_API_API_VERSIONS))
			put("rewrite", name, FZ_F_RESP, (int16_t)key,
			    (int16_t)ver, b, len);
		if ((key == KP_API_PRODUCE && !resp) ||
		    (key == KP_API_FETCH && resp)) {
			struct kp_seg s = {b, len};
			struct rec_ctx rc = {&s, name, 0};
			struct kp_req_hdr hq;
			struct kp_resp_hdr hr;
			struct kp_walk_stats st;
			int w;

			/* A frame that does not walk still gave its records
			 * fields up to where it broke: seeds all the same. */
			if (resp)
				w = kp_walk_resp(&s, 1, 0, (int16_t)key,
						 (int16_t)ver, records_visit,
						 &rc, &hr, &st);
			else
				w = kp_walk_req(&s, 1, 0, records_visit, &rc,
						&hq, &st);
			if (w != KP_OK && w != KP_TRAILING)
				fprintf(stderr, "mkseeds: %s: %s\n", file,
					kp_status_str(w));
		}
		/* Each source's requests, back to back, as one stream. */
		if (!resp) {
			uint8_t *p;

			if (strcmp(src, stream_src) != 0 && stream_len) {
				snprintf(name, sizeof(name), "%s-stream",
					 stream_src);
				put("split", name, 0, 0, 0, stream, stream_len);
				stream_len = 0;
			}
			snprintf(stream_src, sizeof(stream_src), "%s", src);
			if (stream_len + len < 1 << 16 &&
			    (p = realloc(stream, stream_len + len))) {
				stream = p;
				memcpy(stream + stream_len, b, len);
				stream_len += len;
			}
		}
		free(b);
		n++;
	}
	if (stream_len) {
		char name[300];

		snprintf(name, sizeof(name), "%s-stream", stream_src);
		put("split", name, 0, 0, 0, stream, stream_len);
	}
	free(stream);
	fclose(idx);
	printf("mkseeds: %d captured frames, %d synthetic -> %s\n", n,
	       put_synthetic(), out_dir);
	return 0;
}
