/*
 * Frames captured from real clients and brokers (tests/data/captured,
 * listed in index.tsv): every one splits and decodes with the header the
 * capture says, walks to the end of its body, and re-encodes identically;
 * broker addresses in responses rewrite and decode back.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kp_frame.h"
#include "kp_msg_meta.h"
#include "kp_schema.h"

struct row {
	char file[256];
	int req;
	int16_t key;
	int16_t version;
	int32_t corr;
	char source[64];
};

static int load_index(struct row *rows, int cap)
{
	size_t len;
	uint8_t *buf = fx_load("captured/index.tsv", &len);
	int n = 0;
	char *line, *save = NULL;

	cr_assert_not_null(buf, "tests/data/captured/index.tsv is missing");
	buf[len] = '\0';
	for (line = strtok_r((char *)buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char dir[8], name[64], client[128];
		struct row *r = &rows[n];
		int key, ver;

		if (!strncmp(line, "file\t", 5))
			continue;
		cr_assert_lt(n, cap);
		if (sscanf(line,
			   "%255[^\t]\t%7[^\t]\t%d\t%63[^\t]\t%d\t%d\t%127[^\t]"
			   "\t%63s",
			   r->file, dir, &key, name, &ver, &r->corr, client,
			   r->source) < 7)
			cr_assert_fail("bad index line: %s", line);
		r->req = !strcmp(dir, "req");
		r->key = (int16_t)key;
		r->version = (int16_t)ver;
		cr_assert_str_eq(name, kp_api_name(r->key), "%s", r->file);
		n++;
	}
	free(buf);
	return n;
}

static struct row rows[2048];
static uint8_t out[1 << 21];

static int map_all(void *ctx, int32_t node_id, const struct kp_str *orig,
		   const char **host, int32_t *host_len, int32_t *port)
{
	if (node_id < 0)
		return 0;
	*host = "kafka-conntrace.invalid";
	*host_len = 23;
	*port = 30000 + node_id;
	return 1;
}

static int16_t keep(void *ctx, int16_t key, int16_t min, int16_t max)
{
	return max;
}

static void check_resp(const struct row *r, const uint8_t *b, size_t len)
{
	struct kp_seg s = {b, len};
	struct kp_resp_hdr h;
	struct kp_walk_stats st;
	struct kp_frame fr;
	int rc;

	cr_assert_eq(kp_split_resp(&s, 1, 0, r->key, r->version, &h, &fr),
		     KP_OK, "%s", r->file);
	cr_assert_eq(h.corr_id, r->corr, "%s", r->file);
	rc = kp_walk_resp(&s, 1, 0, r->key, r->version, NULL, NULL, &h, &st);
	if (r->key == KP_API_API_VERSIONS) {
		struct kp_api_range ranges[128];
		struct kp_apiversions_resp o = {.apis = {ranges, 128}};
		struct kp_wbuf w = {out, sizeof(out), 0, 0};

		/* The typed decoder copes with refusals in either layout. */
		rc = kp_apiversions_resp_decode(&s, 1, 0, r->version, &o);
		cr_assert(rc == KP_OK || rc == KP_TRAILING, "%s: %s", r->file,
			  kp_status_str(rc));
		/* librdkafka's mock refuses v3 in a body that fits neither
		 * layout (a one-byte count before v0-style entries): it reads
		 * as a v3 body with no ranges and trailing bytes, and passes
		 * through unchanged. Real answers carry ranges. */
		if (o.error == 35)
			cr_assert(r->version >= 3 && rc == KP_TRAILING,
				  "%s: %s", r->file, kp_status_str(rc));
		else
			cr_assert(o.apis.total > 0, "%s: no api ranges",
				  r->file);
		cr_assert_eq(kp_apiversions_cap(&s, 1, 0, r->version, keep,
						NULL, &w),
			     rc);
		cr_assert_eq(w.len, len, "%s", r->file);
		cr_assert(memcmp(out, b, len) == 0, "%s", r->file);
		return;
	}
	cr_assert(rc == KP_OK || rc == KP_TRAILING, "%s: %s", r->file,
		  kp_status_str(rc));
	if (kp_api_carries_addrs(r->key)) {
		struct kp_addr a1[64], a2[64];
		struct kp_addrs before = {.addrs = {a1, 64}};
		struct kp_addrs after = {.addrs = {a2, 64}};
		struct kp_wbuf w = {out, sizeof(out), 0, 0};
		struct kp_seg s2;
		uint32_t n;

		cr_assert_eq(
			kp_addrs_decode(&s, 1, 0, r->key, r->version, &before),
			rc);
		cr_assert_eq(kp_addrs_rewrite(&s, 1, 0, r->key, r->version,
					      map_all, NULL, &w, &n),
			     rc, "%s", r->file);
		s2.ptr = out;
		s2.len = w.len;
		cr_assert_eq(
			kp_addrs_decode(&s2, 1, 0, r->key, r->version, &after),
			rc);
		cr_assert_eq(after.addrs.total, before.addrs.total);
		for (uint32_t i = 0; i < after.addrs.n; i++) {
			cr_assert_eq(a2[i].node_id, a1[i].node_id);
			if (a1[i].node_id >= 0) {
				cr_assert(kp_str_eq(&s2, 1, &a2[i].host,
						    "kafka-conntrace.invalid"));
				cr_assert_eq(a2[i].port, 30000 + a1[i].node_id);
			}
		}
	}
}

Test(captured, every_frame)
{
	int n = load_index(rows, 2048);
	int reqs = 0, resps = 0;

	cr_assert_gt(n, 100, "only %d captured frames", n);
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		size_t len;
		char rel[320];
		uint8_t *b;

		snprintf(rel, sizeof(rel), "captured/%.255s", r->file);
		b = fx_load(rel, &len);
		cr_assert_not_null(b, "%s", r->file);
		if (r->req) {
			struct kp_seg s = {b, len};
			struct kp_req_hdr h;
			struct kp_frame fr;
			struct kp_walk_stats st;
			int rc;

			cr_assert_eq(kp_split_req(&s, 1, 0, &h, &fr), KP_OK,
				     "%s", r->file);
			cr_assert_eq(h.api_key, r->key);
			cr_assert_eq(h.api_version, r->version);
			cr_assert_eq(h.corr_id, r->corr);
			cr_assert_eq(fr.total, len, "%s: one frame per file",
				     r->file);
			rc = kp_walk_req(&s, 1, 0, NULL, NULL, &h, &st);
			/* Real clients are not always exact either
			 * (node-rdkafka's librdkafka 2.12 sends Metadata v12
			 * requests with three extra bytes): reported, never
			 * fatal. */
			cr_assert(rc == KP_OK || rc == KP_TRAILING, "%s: %s",
				  r->file, kp_status_str(rc));
			if (rc == KP_TRAILING)
				fprintf(stderr,
					"note: %s: %zu trailing bytes\n",
					r->file, st.trailing);
			reqs++;
		} else {
			check_resp(r, b, len);
			resps++;
		}
		free(b);
	}
	cr_assert_gt(reqs, 50);
	cr_assert_gt(resps, 50);
}
