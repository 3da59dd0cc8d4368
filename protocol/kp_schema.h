/*
 * kp_schema: the Kafka message layouts as data. tools/kp_gen.py writes the
 * tables (kp_schema_gen.c, kp_fields_gen.h) from the Apache Kafka message
 * definitions; every API key, version range, flexible version and field is
 * declared there once, and the walker (kp_walk.c) interprets them.
 */
#ifndef KP_SCHEMA_H
#define KP_SCHEMA_H

#include <stdint.h>

#include "kp_fields_gen.h"

/* A version bound that no real version reaches: "none" or "open-ended". */
#define KP_VER_NONE INT16_MAX

enum kp_type {
	KP_T_BOOL,
	KP_T_INT8,
	KP_T_INT16,
	KP_T_UINT16,
	KP_T_INT32,
	KP_T_UINT32,
	KP_T_INT64,
	KP_T_FLOAT64,
	KP_T_UUID,
	KP_T_STRING,
	KP_T_BYTES,
	KP_T_RECORDS,
	KP_T_STRUCT,
};

struct kp_struct;

/* One field of a struct. Version ranges are inclusive; a range with
 * min > max is empty. */
struct kp_field {
	uint16_t name; /* enum kp_fname */
	uint8_t type;  /* enum kp_type; of the elements when is_array */
	uint8_t is_array;
	int16_t vmin, vmax;    /* versions the field exists in */
	int16_t nmin, nmax;    /* versions it may be null in */
	int16_t tmin, tmax;    /* versions it is a tagged field in */
	int32_t tag;           /* its tag, when tagged */
	int16_t flex_override; /* -1: the message's; else first flexible version
				  for this field (KP_VER_NONE: never) */
	const struct kp_struct *sub; /* fields of KP_T_STRUCT */
};

struct kp_struct {
	const char *name;
	uint16_t nfields;
	const struct kp_field *fields;
};

enum kp_msg_kind {
	KP_MSG_REQUEST,
	KP_MSG_RESPONSE,
	KP_MSG_HEADER,
	KP_MSG_DATA,
};

struct kp_msg {
	const char *name; /* "MetadataResponse" */
	int16_t api_key;  /* -1 for headers and data structures */
	uint8_t kind;     /* enum kp_msg_kind */
	int16_t vmin, vmax;
	int16_t flex_min; /* first flexible version, KP_VER_NONE if none */
	const struct kp_struct *body;
};

/* One API key. hdr_req / hdr_resp hold the request and response header
 * version for each valid version (index = version - vmin). */
struct kp_api {
	int16_t key;
	const char *name; /* "Metadata" */
	int16_t vmin, vmax;
	int16_t flex_min;
	const uint8_t *hdr_req;
	const uint8_t *hdr_resp;
	const struct kp_msg *req;
	const struct kp_msg *resp;
};

/* Generated tables. kp_apis is indexed by API key; gaps have name NULL. */
extern const struct kp_api kp_apis[];
extern const int16_t kp_api_count; /* highest key + 1 */
extern const struct kp_msg kp_msgs[];
extern const uint16_t kp_msg_count;
extern const char *const kp_fname_str[]; /* indexed by enum kp_fname */

struct kp_error {
	int16_t code;
	const char *name;
};
extern const struct kp_error kp_errors[];
extern const uint16_t kp_error_count;

/* The API for a key, or NULL when the key is unknown. */
const struct kp_api *kp_api_get(int16_t key);
/* The API's name, or "Unknown". */
const char *kp_api_name(int16_t key);
/* 1 when version is a valid version of the API. */
int kp_api_valid(const struct kp_api *api, int16_t version);
/* The request/response header version for key and version: -1 when the
 * key or version is unknown. */
int kp_req_hdr_version(int16_t key, int16_t version);
int kp_resp_hdr_version(int16_t key, int16_t version);
/* The message definition by name ("ConsumerProtocolSubscription"). */
const struct kp_msg *kp_msg_find(const char *name);
/* An error code's name, e.g. "UNKNOWN_TOPIC_OR_PARTITION", or NULL. */
const char *kp_error_name(int16_t code);

static inline int kp_ver_in(int16_t v, int16_t lo, int16_t hi)
{
	return v >= lo && v <= hi;
}

#endif
