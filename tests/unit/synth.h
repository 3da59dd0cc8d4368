/*
 * synth: builds well-formed Kafka bodies and frames for any message and
 * version from the schema tables, with deterministic values. Tests use it
 * to sweep every API and version; hand-written and captured fixtures check
 * the tables themselves.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "kp_schema.h"

struct synth_opts {
	int32_t array_len;  /* elements per array (default 2) */
	int32_t str_len;    /* bytes per string / bytes value (default 3) */
	int null_nullables; /* write null wherever the version allows it */
	int tagged;         /* also write the known tagged fields */
	int unknown_tag;    /* add one unknown tagged field per struct */
};

/* Write a body of msg at version into buf; returns its length, or SIZE_MAX
 * when it does not fit. */
size_t synth_body(const struct kp_msg *msg, int16_t version,
		  const struct synth_opts *o, uint8_t *buf, size_t cap);

/* A whole request frame (size prefix, request header, body). */
size_t synth_req_frame(int16_t key, int16_t version, int32_t corr,
		       const char *client_id, const struct synth_opts *o,
		       uint8_t *buf, size_t cap);

/* A whole response frame (size prefix, response header, body). */
size_t synth_resp_frame(int16_t key, int16_t version, int32_t corr,
			const struct synth_opts *o, uint8_t *buf, size_t cap);

#endif
