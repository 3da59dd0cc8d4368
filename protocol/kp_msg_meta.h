/*
 * kp_msg_meta: typed decoders for the APIs that describe the cluster and
 * the client (ApiVersions, Metadata, FindCoordinator, DescribeCluster), the
 * broker-address rewriter, and the ApiVersions cap encoder.
 */
#ifndef KP_MSG_META_H
#define KP_MSG_META_H

#include "kp_msg.h"

/* ---- ApiVersions (key 18) ---- */

/* v0-2: empty
 * v3+:  compact_str client_software_name, compact_str
 *       client_software_version, tags */
struct kp_apiversions_req {
	struct kp_req_hdr hdr;
	struct kp_str software_name;    /* len -1 before v3 */
	struct kp_str software_version; /* len -1 before v3 */
	struct kp_walk_stats stats;
};

struct kp_api_range {
	int16_t key;
	int16_t min;
	int16_t max;
};

/* i16 error_code, [api_key i16, min i16, max i16 (+tags v3+)],
 * [v1+] i32 throttle_time_ms, [v3+] tags (SupportedFeatures,
 * FinalizedFeaturesEpoch, FinalizedFeatures, ZkMigrationReady)
 * A broker that does not support the request's version answers
 * UNSUPPORTED_VERSION (35) in the v0 layout: decode such an answer with
 * version 0 (kp_apiversions_resp_decode does this itself on error 35). */
struct kp_apiversions_resp {
	struct kp_resp_hdr hdr;
	int16_t error;
	int32_t throttle_ms;
	int16_t decoded_as; /* the version the body was read as */
	KP_VEC(struct kp_api_range) apis;
	struct kp_walk_stats stats;
};

int kp_apiversions_req_decode(const struct kp_seg *segs, uint32_t nseg,
			      size_t max_frame, struct kp_apiversions_req *out)
	__attribute__((warn_unused_result));
int kp_apiversions_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			       size_t max_frame, int16_t version,
			       struct kp_apiversions_resp *out)
	__attribute__((warn_unused_result));

/* ---- Metadata (key 3) ---- */

/* [topics: [v10+] uuid topic_id, str name (nullable v1+... v12+)]
 * (null = all topics, v1+), [v4+] bool allow_auto_topic_creation,
 * [v8-10] bool include_cluster_authorized_operations,
 * [v8+] bool include_topic_authorized_operations */
struct kp_md_req_topic {
	struct kp_str name;
	uint8_t topic_id[16];
};

struct kp_metadata_req {
	struct kp_req_hdr hdr;
	int all_topics; /* topics array was null (v0: empty means all) */
	int8_t allow_auto_create;
	KP_VEC(struct kp_md_req_topic) topics;
	struct kp_walk_stats stats;
};

/* [v3+] i32 throttle_time_ms,
 * [brokers: i32 node_id, str host, i32 port, [v1+] nullable str rack],
 * [v2+] nullable str cluster_id, [v1+] i32 controller_id,
 * [topics: i16 error_code, str name (nullable v12+), [v10+] uuid topic_id,
 *   [v1+] bool is_internal,
 *   [partitions: i16 error_code, i32 partition_index, i32 leader_id,
 *     [v7+] i32 leader_epoch, [i32 replicas], [i32 isr],
 *     [v5+] [i32 offline_replicas]],
 *   [v8+] i32 topic_authorized_operations],
 * [v8-10] i32 cluster_authorized_operations. Flexible from v9. */
struct kp_md_broker {
	int32_t node_id;
	struct kp_str host;
	int32_t port;
	struct kp_str rack;
};

struct kp_md_topic {
	int16_t error;
	struct kp_str name;
	uint8_t topic_id[16];
	int8_t is_internal;
	uint32_t partitions_first; /* index of its first partition in
				      partitions.v (if stored) */
	uint32_t partitions_total; /* how many partitions it has */
};

struct kp_md_partition {
	int16_t error;
	int32_t index;
	int32_t leader;
	int32_t leader_epoch;
	uint32_t topic; /* index of its topic in topics (all topics count) */
};

struct kp_metadata_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	struct kp_str cluster_id;
	int32_t controller_id;
	KP_VEC(struct kp_md_broker) brokers;
	KP_VEC(struct kp_md_topic) topics;
	KP_VEC(struct kp_md_partition) partitions; /* of all topics, in order */
	struct kp_walk_stats stats;
};

int kp_metadata_req_decode(const struct kp_seg *segs, uint32_t nseg,
			   size_t max_frame, struct kp_metadata_req *out)
	__attribute__((warn_unused_result));
int kp_metadata_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, int16_t version,
			    struct kp_metadata_resp *out)
	__attribute__((warn_unused_result));

/* ---- FindCoordinator (key 10) ---- */

/* v0: str key; v1-3: str key, i8 key_type;
 * v4+: i8 key_type, [compact_str coordinator_keys]. Flexible from v3. */
struct kp_findcoord_req {
	struct kp_req_hdr hdr;
	int8_t key_type;            /* 0 group, 1 transaction, 2 share group */
	KP_VEC(struct kp_str) keys; /* one key before v4 */
	struct kp_walk_stats stats;
};

/* v0-3: [v1+] i32 throttle_time_ms, i16 error_code, [v1+] nullable str
 *       error_message, i32 node_id, str host, i32 port
 * v4+:  i32 throttle_time_ms, [coordinators: str key, i32 node_id,
 *       str host, i32 port, i16 error_code, nullable str error_message] */
struct kp_coordinator {
	struct kp_str key; /* len -1 before v4: the answer names no key */
	int32_t node_id;
	struct kp_str host;
	int32_t port;
	int16_t error;
};

struct kp_findcoord_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	KP_VEC(struct kp_coordinator) coordinators; /* one before v4 */
	struct kp_walk_stats stats;
};

int kp_findcoord_req_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, struct kp_findcoord_req *out)
	__attribute__((warn_unused_result));
int kp_findcoord_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, int16_t version,
			     struct kp_findcoord_resp *out)
	__attribute__((warn_unused_result));

/* ---- DescribeCluster (key 60) ---- */

/* bool include_cluster_authorized_operations, [v1+] i8 endpoint_type,
 * [v2+] bool include_fenced_brokers. Flexible in every version. */
struct kp_describecluster_req {
	struct kp_req_hdr hdr;
	int8_t endpoint_type; /* 1 brokers (default), 2 controllers */
	struct kp_walk_stats stats;
};

/* i32 throttle_time_ms, i16 error_code, nullable str error_message,
 * [v1+] i8 endpoint_type, str cluster_id, i32 controller_id,
 * [brokers: i32 broker_id, str host, i32 port, nullable str rack,
 *  [v2+] bool is_fenced], i32 cluster_authorized_operations */
struct kp_describecluster_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	int8_t endpoint_type;
	struct kp_str cluster_id;
	int32_t controller_id;
	KP_VEC(struct kp_md_broker) brokers;
	struct kp_walk_stats stats;
};

int kp_describecluster_req_decode(const struct kp_seg *segs, uint32_t nseg,
				  size_t max_frame,
				  struct kp_describecluster_req *out)
	__attribute__((warn_unused_result));
int kp_describecluster_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				   size_t max_frame, int16_t version,
				   struct kp_describecluster_resp *out)
	__attribute__((warn_unused_result));

/* ---- Broker addresses in responses ---- */

/* One broker address a response advertises. */
struct kp_addr {
	int32_t node_id;
	struct kp_str host;
	int32_t port;
};

struct kp_addrs {
	struct kp_resp_hdr hdr;
	KP_VEC(struct kp_addr) addrs;
	struct kp_walk_stats stats;
};

/* 1 when responses of this API can carry broker addresses: Metadata,
 * FindCoordinator, DescribeCluster, and the NodeEndpoints of Produce,
 * Fetch, ShareFetch and ShareAcknowledge. */
int kp_api_carries_addrs(int16_t api_key);

/* Every broker address in a response of api_key at api_version, in the
 * order they appear. KP_OK with none for an API that carries none. */
int kp_addrs_decode(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		    int16_t api_key, int16_t api_version, struct kp_addrs *out)
	__attribute__((warn_unused_result));

/* Asked once per advertised address: return 1 and set *host (not
 * NUL-terminated, *host_len bytes) and *port to advertise node_id there,
 * or 0 to leave the address as it is. */
typedef int (*kp_addr_map_fn)(void *ctx, int32_t node_id,
			      const struct kp_str *orig_host, const char **host,
			      int32_t *host_len, int32_t *port);

/* Re-encode a response with its broker addresses mapped by fn. Every
 * other byte, unknown tagged fields and trailing bytes included, is kept;
 * when fn maps nothing the output equals the input. *rewritten counts the
 * addresses changed. out as for kp_rewrite_resp(). */
int kp_addrs_rewrite(const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
		     int16_t api_key, int16_t api_version, kp_addr_map_fn fn,
		     void *ctx, struct kp_wbuf *out, uint32_t *rewritten)
	__attribute__((warn_unused_result));

/* ---- ApiVersions cap ---- */

/* Asked for each API a broker advertises: return the highest version the
 * client may use (at most max; below min leaves max at min). */
typedef int16_t (*kp_api_cap_fn)(void *ctx, int16_t key, int16_t min,
				 int16_t max);

/* Re-encode an ApiVersions response with each MaxVersion capped by fn.
 * UNSUPPORTED_VERSION answers are rewritten in the layout they use. */
int kp_apiversions_cap(const struct kp_seg *segs, uint32_t nseg,
		       size_t max_frame, int16_t version, kp_api_cap_fn fn,
		       void *ctx, struct kp_wbuf *out)
	__attribute__((warn_unused_result));

#endif
