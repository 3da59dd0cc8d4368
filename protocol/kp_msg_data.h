/*
 * kp_msg_data: typed decoders for the APIs that move data (Produce, Fetch,
 * ListOffsets), every version, requests and responses. Records fields are
 * summarised in place (kp_records.h), never copied or decompressed.
 */
#ifndef KP_MSG_DATA_H
#define KP_MSG_DATA_H

#include "kp_msg.h"
#include "kp_records.h"

/* All views (struct kp_str) below point into the decoded segments and are
 * valid as long as they are. Partitions of all topics go into one flat
 * vector, in frame order; each names its topic by index (counting every
 * topic, stored or not), and each topic its first partition's index. */

/* A topic: by name, or by id in the versions that carry one instead. */
struct kp_data_topic {
	struct kp_str name;        /* len -1 when the version has an id */
	uint8_t topic_id[16];      /* zero when the version has a name */
	uint32_t partitions_first; /* index of its first partition */
	uint32_t partitions_total; /* how many partitions it has */
};

/* A KIP-951 leader endpoint (Produce v10+, Fetch v16+, tagged). */
struct kp_node_endpoint {
	int32_t node_id;
	struct kp_str host;
	int32_t port;
	struct kp_str rack; /* len -1 when null */
};

/* ---- Produce (key 0) ---- */

/* [v3+] nullable str transactional_id, i16 acks, i32 timeout_ms,
 * [topic_data: str name,
 *   [partition_data: i32 index, nullable records records]].
 * Flexible from v9. */
struct kp_produce_req_part {
	uint32_t topic; /* index in topics */
	int32_t index;
	/* Of kp_records_summary(): KP_OK, KP_TRAILING (an incomplete last
	 * batch: partial_trailing) or KP_ERR_MALFORMED. A bad records field
	 * is the partition's fault, as the broker sees it (it answers that
	 * partition CORRUPT_MESSAGE), so it does not fail the frame. */
	int records_status;
	struct kp_records_summary records;
};

struct kp_produce_req {
	struct kp_req_hdr hdr;
	struct kp_str transactional_id; /* len -1 when null or before v3 */
	int16_t acks;
	int32_t timeout_ms;
	KP_VEC(struct kp_data_topic) topics;
	KP_VEC(struct kp_produce_req_part) partitions;
	uint32_t records_malformed; /* partitions whose records_status < 0 */
	struct kp_walk_stats stats;
};

/* [responses: str name,
 *   [partition_responses: i32 index, i16 error_code, i64 base_offset,
 *     [v2+] i64 log_append_time_ms, [v5+] i64 log_start_offset,
 *     [v8+] [record_errors: i32 batch_index, nullable str message],
 *     [v8+] nullable str error_message,
 *     [v10+ tag 0] current_leader: i32 leader_id, i32 leader_epoch]],
 * [v1+] i32 throttle_time_ms,
 * [v10+ tag 0] [node_endpoints: i32 node_id, str host, i32 port,
 *   nullable str rack]. Flexible from v9. */
struct kp_produce_resp_part {
	uint32_t topic;
	int32_t index;
	int16_t error;
	int64_t base_offset;
	int64_t log_append_time;     /* -1 before v2 */
	int64_t log_start_offset;    /* -1 before v5 */
	uint32_t record_errors;      /* entries of RecordErrors; 0 before v8 */
	struct kp_str error_message; /* len -1 when null or before v8 */
	uint8_t has_current_leader;  /* the tagged CurrentLeader was sent */
	int32_t leader_id;           /* -1 unless it was */
	int32_t leader_epoch;        /* -1 unless it was */
};

struct kp_produce_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	KP_VEC(struct kp_data_topic) topics;
	KP_VEC(struct kp_produce_resp_part) partitions;
	KP_VEC(struct kp_node_endpoint) endpoints;
	struct kp_walk_stats stats;
};

/* Decode a whole Produce request frame into out. Before the call, set the
 * v/cap of out's vectors (or leave them zero to only count); everything
 * else is reset. Returns KP_OK, KP_TRAILING (body complete, bytes left),
 * KP_NEED_MORE (the frame is not all in segs), KP_ERR_MALFORMED,
 * KP_ERR_TOO_LARGE (size prefix above max_frame, 0 = the default),
 * KP_ERR_UNSUPPORTED_VERSION, or KP_ERR_UNKNOWN_API (out->hdr then
 * names the API the frame is for). Records problems are reported per
 * partition, not here. */
int kp_produce_req_decode(const struct kp_seg *segs, uint32_t nseg,
			  size_t max_frame, struct kp_produce_req *out)
	__attribute__((warn_unused_result));

/* Decode a whole Produce response frame, the answer to a request of
 * version. Vectors and results as for kp_produce_req_decode(), without
 * KP_ERR_UNKNOWN_API: a response does not name its API. */
int kp_produce_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			   size_t max_frame, int16_t version,
			   struct kp_produce_resp *out)
	__attribute__((warn_unused_result));

/* ---- Fetch (key 1) ---- */

/* [v12+ tag 0] nullable str cluster_id, [v0-14] i32 replica_id,
 * [v15+ tag 1] replica_state: i32 replica_id, i64 replica_epoch,
 * i32 max_wait_ms, i32 min_bytes, [v3+] i32 max_bytes,
 * [v4+] i8 isolation_level, [v7+] i32 session_id, [v7+] i32 session_epoch,
 * [topics: [v0-12] str topic, [v13+] uuid topic_id,
 *   [partitions: i32 partition, [v9+] i32 current_leader_epoch,
 *     i64 fetch_offset, [v12+] i32 last_fetched_epoch,
 *     [v5+] i64 log_start_offset, i32 partition_max_bytes,
 *     [v17+ tag 0] uuid replica_directory_id]],
 * [v7+] [forgotten_topics_data: [v7-12] str topic, [v13+] uuid topic_id,
 *   [i32 partitions]],
 * [v11+] str rack_id. Flexible from v12. */
struct kp_fetch_req_part {
	uint32_t topic;
	int32_t partition;
	int32_t current_leader_epoch; /* -1 before v9 */
	int64_t fetch_offset;
	int32_t last_fetched_epoch; /* -1 before v12 */
	int64_t log_start_offset;   /* -1 before v5 */
	int32_t partition_max_bytes;
};

struct kp_fetch_req {
	struct kp_req_hdr hdr;
	/* ReplicaId (v0-14) or ReplicaState.ReplicaId (v15+): -1 for a
	 * consumer, which is also what an absent ReplicaState means. */
	int32_t replica_id;
	int64_t replica_epoch; /* ReplicaState.ReplicaEpoch; -1 */
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;      /* INT32_MAX before v3 */
	int8_t isolation_level; /* 0 read_uncommitted, 1 read_committed */
	int32_t session_id;     /* 0 before v7 */
	int32_t session_epoch;  /* -1 before v7 */
	KP_VEC(struct kp_data_topic) topics;
	KP_VEC(struct kp_fetch_req_part) partitions;
	uint32_t forgotten_topics;     /* entries of ForgottenTopicsData */
	uint32_t forgotten_partitions; /* partitions over all of them */
	struct kp_str rack_id;         /* len -1 before v11 */
	struct kp_str cluster_id; /* len -1 unless the tag was sent non-null */
	struct kp_walk_stats stats;
};

/* [v1+] i32 throttle_time_ms, [v7+] i16 error_code, [v7+] i32 session_id,
 * [responses: [v0-12] str topic, [v13+] uuid topic_id,
 *   [partitions: i32 partition_index, i16 error_code, i64 high_watermark,
 *     [v4+] i64 last_stable_offset, [v5+] i64 log_start_offset,
 *     [v12+ tag 0] diverging_epoch, [v12+ tag 1] current_leader:
 *     i32 leader_id, i32 leader_epoch, [v12+ tag 2] snapshot_id,
 *     [v4+] nullable [aborted_transactions: i64 producer_id,
 *       i64 first_offset],
 *     [v11+] i32 preferred_read_replica, nullable records records]],
 * [v16+ tag 0] [node_endpoints: i32 node_id, str host, i32 port,
 *   nullable str rack]. Flexible from v12. */
struct kp_fetch_resp_part {
	uint32_t topic;
	int32_t index;
	int16_t error;
	int64_t high_watermark;
	int64_t last_stable_offset;     /* -1 before v4 */
	int64_t log_start_offset;       /* -1 before v5 */
	int32_t aborted_txns;           /* -1 when null or before v4 */
	int32_t preferred_read_replica; /* -1 before v11 */
	uint8_t has_current_leader;
	int32_t leader_id;    /* -1 unless CurrentLeader was sent */
	int32_t leader_epoch; /* -1 unless CurrentLeader was sent */
	/* As in kp_produce_req_part; KP_TRAILING (a partial last batch) is
	 * normal here: a broker fills a Fetch answer up to max_bytes. */
	int records_status;
	struct kp_records_summary records;
};

struct kp_fetch_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;      /* 0 before v7 */
	int32_t session_id; /* 0 before v7 */
	KP_VEC(struct kp_data_topic) topics;
	KP_VEC(struct kp_fetch_resp_part) partitions;
	KP_VEC(struct kp_node_endpoint) endpoints;
	uint32_t records_malformed; /* partitions whose records_status < 0 */
	struct kp_walk_stats stats;
};

/* A whole Fetch request frame; contract as kp_produce_req_decode(). */
int kp_fetch_req_decode(const struct kp_seg *segs, uint32_t nseg,
			size_t max_frame, struct kp_fetch_req *out)
	__attribute__((warn_unused_result));

/* A whole Fetch response frame to a request of version; contract as
 * kp_produce_resp_decode(). */
int kp_fetch_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			 size_t max_frame, int16_t version,
			 struct kp_fetch_resp *out)
	__attribute__((warn_unused_result));

/* ---- ListOffsets (key 2) ---- */

/* i32 replica_id, [v2+] i8 isolation_level,
 * [topics: str name, [partitions: i32 partition_index,
 *   [v4+] i32 current_leader_epoch, i64 timestamp,
 *   [v0] i32 max_num_offsets]],
 * [v10+] i32 timeout_ms. Flexible from v6. */
struct kp_listoffsets_req_part {
	uint32_t topic;
	int32_t index;
	int32_t current_leader_epoch; /* -1 before v4 */
	int64_t timestamp;            /* -1 latest, -2 earliest, ... */
	int32_t max_num_offsets;      /* v0 only; 1 otherwise */
};

struct kp_listoffsets_req {
	struct kp_req_hdr hdr;
	int32_t replica_id;
	int8_t isolation_level; /* 0 before v2 */
	int32_t timeout_ms;     /* 0 before v10 */
	KP_VEC(struct kp_data_topic) topics;
	KP_VEC(struct kp_listoffsets_req_part) partitions;
	struct kp_walk_stats stats;
};

/* [v2+] i32 throttle_time_ms,
 * [topics: str name, [partitions: i32 partition_index, i16 error_code,
 *   [v0] [i64 old_style_offsets], [v1+] i64 timestamp, [v1+] i64 offset,
 *   [v4+] i32 leader_epoch]]. Flexible from v6. */
struct kp_listoffsets_resp_part {
	uint32_t topic;
	int32_t index;
	int16_t error;
	int64_t timestamp;    /* -1 in v0 */
	int64_t offset;       /* v0: the first old-style offset, or -1 */
	int32_t leader_epoch; /* -1 before v4 */
	uint32_t old_offsets; /* v0: how many offsets were returned */
};

struct kp_listoffsets_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	KP_VEC(struct kp_data_topic) topics;
	KP_VEC(struct kp_listoffsets_resp_part) partitions;
	struct kp_walk_stats stats;
};

/* A whole ListOffsets request frame; contract as kp_produce_req_decode(). */
int kp_listoffsets_req_decode(const struct kp_seg *segs, uint32_t nseg,
			      size_t max_frame, struct kp_listoffsets_req *out)
	__attribute__((warn_unused_result));

/* A whole ListOffsets response frame to a request of version; contract as
 * kp_produce_resp_decode(). */
int kp_listoffsets_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			       size_t max_frame, int16_t version,
			       struct kp_listoffsets_resp *out)
	__attribute__((warn_unused_result));

#endif
