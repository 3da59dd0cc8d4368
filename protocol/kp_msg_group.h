/*
 * kp_msg_group: typed views of the APIs a client uses to take part in a
 * consumer group (classic and KIP-848), to run transactions, to
 * authenticate (SASL) and to push its own metrics (KIP-714), plus the
 * table of the role each API key plays.
 */
#ifndef KP_MSG_GROUP_H
#define KP_MSG_GROUP_H

#include "kp_msg.h"

/* ---- API roles ---- */

/* The role an API plays in a client's coordination: group membership and
 * offsets, or the steps of a transaction. This is not always the
 * coordinator that serves it: TxnOffsetCommit is a transaction step that
 * goes to the group coordinator of its group id. */
enum kp_api_class {
	KP_API_CLASS_OTHER = 0,
	KP_API_CLASS_GROUP, /* JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
			       OffsetCommit, OffsetFetch,
			       ConsumerGroupHeartbeat, ShareGroupHeartbeat */
	KP_API_CLASS_TXN,   /* AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
			       TxnOffsetCommit */
};

/* The class of an API key; KP_API_CLASS_OTHER for unknown keys. The key
 * alone cannot say it for InitProducerId (OTHER here): it is a transaction
 * API only when it carries a transactional id, which the caller learns
 * from kp_initproducerid_req_decode() (see kp_initproducerid_is_txn()). */
enum kp_api_class kp_api_class(int16_t key);

/* ---- Shared element types ---- */

/* A topic named in a group or transaction message. Its partitions are the
 * partitions_total entries of the message's flat partition vec that start
 * at partitions_first (those below the vec's n are stored). */
struct kp_grp_topic {
	struct kp_str name;
	uint32_t owner; /* index of its group / transaction in the message's
			   vec of those; 0 where the message has only one */
	uint32_t partitions_first;
	uint32_t partitions_total;
};

/* A partition named by a request. */
struct kp_grp_partition {
	uint32_t topic; /* index of its topic in the topic vec (all topics
			   count, stored or not) */
	int32_t index;
};

/* A partition's result in a response. */
struct kp_grp_partition_err {
	uint32_t topic; /* as in kp_grp_partition */
	int32_t index;
	int16_t error;
};

/* Every view in the structs below borrows from the input segments and
 * stays valid as long as they do. Strings that are null on the wire, or
 * absent at the decoded version, have len -1. */

/* ---- JoinGroup (key 11), v0-9, flexible from v6 ---- */

/* str group_id, i32 session_timeout_ms, [v1+] i32 rebalance_timeout_ms,
 * str member_id, [v5+] nullable str group_instance_id, str protocol_type,
 * [protocols: str name, bytes metadata], [v8+] nullable str reason */
struct kp_joingroup_req {
	struct kp_req_hdr hdr;
	struct kp_str group_id;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms; /* -1 before v1 (the broker then uses
					 the session timeout) */
	struct kp_str member_id;      /* "" on a first join */
	struct kp_str group_instance_id;
	struct kp_str protocol_type;     /* "consumer", "connect", ... */
	KP_VEC(struct kp_str) protocols; /* protocol (assignor) names */
	struct kp_str reason;
	struct kp_walk_stats stats;
};

/* [v2+] i32 throttle_time_ms, i16 error_code, i32 generation_id,
 * [v7+] nullable str protocol_type, str protocol_name (nullable v7+),
 * str leader, [v9+] bool skip_assignment, str member_id,
 * [members: str member_id, [v5+] nullable str group_instance_id,
 *   bytes metadata] (filled for the leader only) */
struct kp_joingroup_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	int32_t generation_id;
	struct kp_str protocol_type;
	struct kp_str protocol_name;
	struct kp_str leader;    /* the leader's member id */
	struct kp_str member_id; /* this member's id */
	int8_t skip_assignment;
	uint32_t members; /* how many members the response lists */
	struct kp_walk_stats stats;
};

/* Decode a whole JoinGroup request frame (size prefix onwards) into out.
 * out's vecs keep their storage (v, cap); everything else is reset.
 * Returns KP_OK; KP_TRAILING when bytes follow the body inside the frame;
 * KP_NEED_MORE until the whole frame is present; KP_ERR_MALFORMED;
 * KP_ERR_TOO_LARGE when the size exceeds max_frame (0 = the default);
 * KP_ERR_UNSUPPORTED_VERSION; KP_ERR_UNKNOWN_API when the frame is of
 * another API (out->hdr is then filled). The same contract holds for every
 * *_req_decode below. */
int kp_joingroup_req_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, struct kp_joingroup_req *out)
	__attribute__((warn_unused_result));

/* Decode a whole JoinGroup response frame; version is that of the request
 * it answers (responses do not carry it). Results as the request decoders
 * except KP_ERR_UNKNOWN_API, which a response cannot show. The same
 * contract holds for every *_resp_decode below. */
int kp_joingroup_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, int16_t version,
			     struct kp_joingroup_resp *out)
	__attribute__((warn_unused_result));

/* ---- SyncGroup (key 14), v0-5, flexible from v4 ---- */

/* str group_id, i32 generation_id, str member_id,
 * [v3+] nullable str group_instance_id, [v5+] nullable str protocol_type,
 * [v5+] nullable str protocol_name,
 * [assignments: str member_id, bytes assignment] (the leader's only) */
struct kp_syncgroup_req {
	struct kp_req_hdr hdr;
	struct kp_str group_id;
	int32_t generation_id;
	struct kp_str member_id;
	struct kp_str group_instance_id;
	struct kp_str protocol_type;
	struct kp_str protocol_name;
	uint32_t assignments; /* how many member assignments it carries */
	struct kp_walk_stats stats;
};

/* [v1+] i32 throttle_time_ms, i16 error_code,
 * [v5+] nullable str protocol_type, [v5+] nullable str protocol_name,
 * bytes assignment */
struct kp_syncgroup_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	struct kp_str protocol_type;
	struct kp_str protocol_name;
	int32_t assignment_len; /* length of this member's assignment */
	struct kp_walk_stats stats;
};

int kp_syncgroup_req_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, struct kp_syncgroup_req *out)
	__attribute__((warn_unused_result));
int kp_syncgroup_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, int16_t version,
			     struct kp_syncgroup_resp *out)
	__attribute__((warn_unused_result));

/* ---- Heartbeat (key 12), v0-4, flexible from v4 ---- */

/* str group_id, i32 generation_id, str member_id,
 * [v3+] nullable str group_instance_id */
struct kp_heartbeat_req {
	struct kp_req_hdr hdr;
	struct kp_str group_id;
	int32_t generation_id;
	struct kp_str member_id;
	struct kp_str group_instance_id;
	struct kp_walk_stats stats;
};

/* [v1+] i32 throttle_time_ms, i16 error_code */
struct kp_heartbeat_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	struct kp_walk_stats stats;
};

int kp_heartbeat_req_decode(const struct kp_seg *segs, uint32_t nseg,
			    size_t max_frame, struct kp_heartbeat_req *out)
	__attribute__((warn_unused_result));
int kp_heartbeat_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, int16_t version,
			     struct kp_heartbeat_resp *out)
	__attribute__((warn_unused_result));

/* ---- LeaveGroup (key 13), v0-5, flexible from v4 ---- */

/* str group_id, [v0-2] str member_id,
 * [v3+] [members: str member_id, nullable str group_instance_id,
 *   [v5+] nullable str reason]
 * One shape for every version: the single member id of v0-2 is members'
 * one element (instance id and reason null). */
struct kp_lg_member {
	struct kp_str member_id;
	struct kp_str group_instance_id;
	struct kp_str reason;
};

struct kp_leavegroup_req {
	struct kp_req_hdr hdr;
	struct kp_str group_id;
	KP_VEC(struct kp_lg_member) members;
	struct kp_walk_stats stats;
};

/* [v1+] i32 throttle_time_ms, i16 error_code,
 * [v3+] [members: str member_id, nullable str group_instance_id,
 *   i16 error_code] */
struct kp_lg_member_result {
	struct kp_str member_id;
	struct kp_str group_instance_id;
	int16_t error;
};

struct kp_leavegroup_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	KP_VEC(struct kp_lg_member_result) members; /* empty before v3 */
	struct kp_walk_stats stats;
};

int kp_leavegroup_req_decode(const struct kp_seg *segs, uint32_t nseg,
			     size_t max_frame, struct kp_leavegroup_req *out)
	__attribute__((warn_unused_result));
int kp_leavegroup_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			      size_t max_frame, int16_t version,
			      struct kp_leavegroup_resp *out)
	__attribute__((warn_unused_result));

/* ---- OffsetCommit (key 8), v0-9, flexible from v8 ---- */

/* str group_id, [v1+] i32 generation_id_or_member_epoch,
 * [v1+] str member_id, [v7+] nullable str group_instance_id,
 * [v2-4] i64 retention_time_ms,
 * [topics: str name,
 *   [partitions: i32 partition_index, i64 committed_offset,
 *     [v6+] i32 committed_leader_epoch, [v1] i64 commit_timestamp,
 *     nullable str committed_metadata]] */
struct kp_oc_partition {
	uint32_t topic; /* index of its topic in topics */
	int32_t index;
	int64_t offset;
	int32_t leader_epoch; /* -1 before v6 or when unknown */
	struct kp_str metadata;
};

struct kp_offsetcommit_req {
	struct kp_req_hdr hdr;
	struct kp_str group_id;
	int32_t generation_id; /* or, for KIP-848 groups, the member epoch;
				  -1 in v0 */
	struct kp_str member_id;
	struct kp_str group_instance_id;
	int64_t retention_ms; /* -1 outside v2-4 (the broker's default) */
	KP_VEC(struct kp_grp_topic) topics;
	KP_VEC(struct kp_oc_partition) partitions; /* of all topics, in order */
	struct kp_walk_stats stats;
};

/* [v3+] i32 throttle_time_ms,
 * [topics: str name, [partitions: i32 partition_index, i16 error_code]] */
struct kp_offsetcommit_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	KP_VEC(struct kp_grp_topic) topics;
	KP_VEC(struct kp_grp_partition_err) partitions;
	uint32_t failed;     /* partitions with an error, stored or not */
	int16_t first_error; /* the first of those errors, else 0 */
	struct kp_walk_stats stats;
};

int kp_offsetcommit_req_decode(const struct kp_seg *segs, uint32_t nseg,
			       size_t max_frame,
			       struct kp_offsetcommit_req *out)
	__attribute__((warn_unused_result));
int kp_offsetcommit_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				size_t max_frame, int16_t version,
				struct kp_offsetcommit_resp *out)
	__attribute__((warn_unused_result));

/* ---- OffsetFetch (key 9), v0-9, flexible from v6 ---- */

/* v0-7: str group_id, [topics: str name, [i32 partition_indexes]]
 *       (topics nullable v2+: null = every committed offset),
 *       [v7] bool require_stable
 * v8+:  [groups: str group_id, [v9+] nullable str member_id,
 *         [v9+] i32 member_epoch,
 *         nullable [topics: str name, [i32 partition_indexes]]],
 *       bool require_stable
 * One shape for every version: the single group of v0-7 is groups' one
 * element. */
struct kp_of_group {
	struct kp_str group_id;
	struct kp_str member_id; /* v9+ (KIP-848), else len -1 */
	int32_t member_epoch;    /* v9+, else -1 */
	int all_topics;          /* its topics array was null */
	uint32_t topics_first;   /* its topics in topics, as kp_grp_topic's
				    partitions in partitions */
	uint32_t topics_total;
};

struct kp_offsetfetch_req {
	struct kp_req_hdr hdr;
	KP_VEC(struct kp_of_group) groups;
	KP_VEC(struct kp_grp_topic) topics; /* owner = group index */
	KP_VEC(struct kp_grp_partition) partitions;
	int8_t require_stable;
	struct kp_walk_stats stats;
};

/* v0-7: [v3+] i32 throttle_time_ms,
 *       [topics: str name, [partitions: i32 partition_index,
 *         i64 committed_offset, [v5+] i32 committed_leader_epoch,
 *         nullable str metadata, i16 error_code]],
 *       [v2+] i16 error_code
 * v8+:  i32 throttle_time_ms,
 *       [groups: str group_id, [topics: str name, [partitions: (as above,
 *         committed_leader_epoch always)]], i16 error_code]
 * One shape: v0-7's answer is groups' one element, with group_id len -1
 * (the response does not name it) and the top-level error code. */
struct kp_of_group_result {
	struct kp_str group_id;
	int16_t error;
	uint32_t topics_first;
	uint32_t topics_total;
};

struct kp_of_partition {
	uint32_t topic;
	int32_t index;
	int64_t offset; /* -1: nothing committed */
	int32_t leader_epoch;
	struct kp_str metadata;
	int16_t error;
};

struct kp_offsetfetch_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	KP_VEC(struct kp_of_group_result) groups;
	KP_VEC(struct kp_grp_topic) topics;
	KP_VEC(struct kp_of_partition) partitions;
	uint32_t failed; /* groups and partitions with an error */
	int16_t first_error;
	struct kp_walk_stats stats;
};

int kp_offsetfetch_req_decode(const struct kp_seg *segs, uint32_t nseg,
			      size_t max_frame, struct kp_offsetfetch_req *out)
	__attribute__((warn_unused_result));
int kp_offsetfetch_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			       size_t max_frame, int16_t version,
			       struct kp_offsetfetch_resp *out)
	__attribute__((warn_unused_result));

/* ---- ConsumerGroupHeartbeat (key 68, KIP-848), v0-1, flexible ---- */

/* compact str group_id, str member_id, i32 member_epoch,
 * nullable str instance_id, nullable str rack_id,
 * i32 rebalance_timeout_ms, nullable [str subscribed_topic_names],
 * [v1+] nullable str subscribed_topic_regex, nullable str server_assignor,
 * nullable [topic_partitions: uuid topic_id, [i32 partitions]], tags
 * Null fields mean "unchanged since the last heartbeat". */
struct kp_cgh_topic {
	uint8_t topic_id[16];
	uint32_t partitions_first;
	uint32_t partitions_total;
};

struct kp_consumergroupheartbeat_req {
	struct kp_req_hdr hdr;
	struct kp_str group_id;
	struct kp_str member_id;
	int32_t member_epoch; /* 0 joins, -1 leaves, -2 leaves (static) */
	struct kp_str instance_id;
	struct kp_str rack_id;
	int32_t rebalance_timeout_ms;
	int subscribed_null; /* subscribed_topic_names was null */
	KP_VEC(struct kp_str) subscribed_topics;
	struct kp_str subscribed_regex;
	struct kp_str server_assignor;
	int topics_null;                    /* topic_partitions was null */
	KP_VEC(struct kp_cgh_topic) topics; /* the partitions it owns */
	KP_VEC(struct kp_grp_partition) partitions;
	struct kp_walk_stats stats;
};

/* i32 throttle_time_ms, i16 error_code, nullable str error_message,
 * nullable str member_id, i32 member_epoch, i32 heartbeat_interval_ms,
 * nullable assignment {[topic_partitions: uuid topic_id,
 *   [i32 partitions], tags], tags}, tags */
struct kp_consumergroupheartbeat_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	struct kp_str error_message;
	struct kp_str member_id;
	int32_t member_epoch;
	int32_t heartbeat_interval_ms;
	int assignment_present; /* null: the assignment is unchanged */
	uint32_t assigned_topics;
	uint32_t assigned_partitions; /* of all assigned topics */
	struct kp_walk_stats stats;
};

int kp_consumergroupheartbeat_req_decode(
	const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
	struct kp_consumergroupheartbeat_req *out)
	__attribute__((warn_unused_result));
int kp_consumergroupheartbeat_resp_decode(
	const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
	int16_t version, struct kp_consumergroupheartbeat_resp *out)
	__attribute__((warn_unused_result));

/* ---- InitProducerId (key 22), v0-5, flexible from v2 ---- */

/* nullable str transactional_id, i32 transaction_timeout_ms,
 * [v3+] i64 producer_id, [v3+] i16 producer_epoch */
struct kp_initproducerid_req {
	struct kp_req_hdr hdr;
	struct kp_str transactional_id; /* null: an idempotent producer */
	int32_t txn_timeout_ms;
	int64_t producer_id;    /* -1 before v3 or for a new producer */
	int16_t producer_epoch; /* likewise */
	struct kp_walk_stats stats;
};

/* 1 when the request goes to a transaction coordinator: it names a
 * transactional id (even an empty one, which the coordinator refuses). */
static inline int
kp_initproducerid_is_txn(const struct kp_initproducerid_req *r)
{
	return r->transactional_id.len >= 0;
}

/* i32 throttle_time_ms, i16 error_code, i64 producer_id,
 * i16 producer_epoch */
struct kp_initproducerid_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	int64_t producer_id;
	int16_t producer_epoch;
	struct kp_walk_stats stats;
};

int kp_initproducerid_req_decode(const struct kp_seg *segs, uint32_t nseg,
				 size_t max_frame,
				 struct kp_initproducerid_req *out)
	__attribute__((warn_unused_result));
int kp_initproducerid_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				  size_t max_frame, int16_t version,
				  struct kp_initproducerid_resp *out)
	__attribute__((warn_unused_result));

/* ---- AddPartitionsToTxn (key 24), v0-5, flexible from v3 ---- */

/* v0-3: str transactional_id, i64 producer_id, i16 producer_epoch,
 *       [topics: str name, [i32 partitions]]
 * v4+:  [transactions: str transactional_id, i64 producer_id,
 *         i16 producer_epoch, bool verify_only,
 *         [topics: str name, [i32 partitions]]]
 * (v4+ is sent broker to coordinator.) One shape: v0-3's transaction is
 * txns' one element. */
struct kp_apt_txn {
	struct kp_str transactional_id;
	int64_t producer_id;
	int16_t producer_epoch;
	int8_t verify_only;
	uint32_t topics_first;
	uint32_t topics_total;
};

struct kp_addpartitionstotxn_req {
	struct kp_req_hdr hdr;
	KP_VEC(struct kp_apt_txn) txns;
	KP_VEC(struct kp_grp_topic) topics; /* owner = transaction index */
	KP_VEC(struct kp_grp_partition) partitions;
	struct kp_walk_stats stats;
};

/* i32 throttle_time_ms, [v4+] i16 error_code,
 * v0-3: [results_by_topic: str name,
 *         [results_by_partition: i32 partition_index, i16 error_code]]
 * v4+:  [results_by_transaction: str transactional_id,
 *         [topic_results: (as results_by_topic)]]
 * One shape: v0-3's results are txns' one element, transactional_id
 * len -1. */
struct kp_apt_txn_result {
	struct kp_str transactional_id;
	uint32_t topics_first;
	uint32_t topics_total;
};

struct kp_addpartitionstotxn_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error; /* v4+ */
	KP_VEC(struct kp_apt_txn_result) txns;
	KP_VEC(struct kp_grp_topic) topics;
	KP_VEC(struct kp_grp_partition_err) partitions;
	uint32_t failed; /* partitions with an error, stored or not */
	int16_t first_error;
	struct kp_walk_stats stats;
};

int kp_addpartitionstotxn_req_decode(const struct kp_seg *segs, uint32_t nseg,
				     size_t max_frame,
				     struct kp_addpartitionstotxn_req *out)
	__attribute__((warn_unused_result));
int kp_addpartitionstotxn_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				      size_t max_frame, int16_t version,
				      struct kp_addpartitionstotxn_resp *out)
	__attribute__((warn_unused_result));

/* ---- EndTxn (key 26), v0-5, flexible from v3 ---- */

/* str transactional_id, i64 producer_id, i16 producer_epoch,
 * bool committed */
struct kp_endtxn_req {
	struct kp_req_hdr hdr;
	struct kp_str transactional_id;
	int64_t producer_id;
	int16_t producer_epoch;
	int8_t committed; /* 1 commit, 0 abort */
	struct kp_walk_stats stats;
};

/* i32 throttle_time_ms, i16 error_code, [v5+] i64 producer_id,
 * [v5+] i16 producer_epoch */
struct kp_endtxn_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	int64_t producer_id;    /* -1 before v5 */
	int16_t producer_epoch; /* -1 before v5 */
	struct kp_walk_stats stats;
};

int kp_endtxn_req_decode(const struct kp_seg *segs, uint32_t nseg,
			 size_t max_frame, struct kp_endtxn_req *out)
	__attribute__((warn_unused_result));
int kp_endtxn_resp_decode(const struct kp_seg *segs, uint32_t nseg,
			  size_t max_frame, int16_t version,
			  struct kp_endtxn_resp *out)
	__attribute__((warn_unused_result));

/* ---- SaslHandshake (key 17), v0-1, never flexible ---- */

/* str mechanism
 * After a v0 exchange the client sends raw SASL tokens framed only by an
 * int32 size: no Kafka header, not decodable here, never to be logged. */
struct kp_saslhandshake_req {
	struct kp_req_hdr hdr;
	struct kp_str mechanism; /* "PLAIN", "SCRAM-SHA-512", ... */
	struct kp_walk_stats stats;
};

/* i16 error_code, [str mechanisms] */
struct kp_saslhandshake_resp {
	struct kp_resp_hdr hdr;
	int16_t error;
	KP_VEC(struct kp_str) mechanisms; /* those the broker enables */
	struct kp_walk_stats stats;
};

int kp_saslhandshake_req_decode(const struct kp_seg *segs, uint32_t nseg,
				size_t max_frame,
				struct kp_saslhandshake_req *out)
	__attribute__((warn_unused_result));
int kp_saslhandshake_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				 size_t max_frame, int16_t version,
				 struct kp_saslhandshake_resp *out)
	__attribute__((warn_unused_result));

/* ---- SaslAuthenticate (key 36), v0-2, flexible from v2 ---- */

/* bytes auth_bytes
 * The auth bytes are credentials (a PLAIN password, a SCRAM proof, a
 * token). By design these structs hold only their LENGTH: no field is a
 * view of them, so nothing that copies, logs or digests a decoded struct
 * can leak them. Keep it so when adding fields. */
struct kp_saslauthenticate_req {
	struct kp_req_hdr hdr;
	int32_t auth_len;
	struct kp_walk_stats stats;
};

/* i16 error_code, nullable str error_message, bytes auth_bytes,
 * [v1+] i64 session_lifetime_ms
 * The server's auth bytes (a SCRAM challenge, ...) are kept to their length
 * too, and the error message to whether it is present and its length: it
 * may name the principal. */
struct kp_saslauthenticate_resp {
	struct kp_resp_hdr hdr;
	int16_t error;
	int32_t error_message_len; /* -1: no message (null) */
	int32_t auth_len;
	int64_t session_lifetime_ms; /* 0: none (and before v1) */
	struct kp_walk_stats stats;
};

int kp_saslauthenticate_req_decode(const struct kp_seg *segs, uint32_t nseg,
				   size_t max_frame,
				   struct kp_saslauthenticate_req *out)
	__attribute__((warn_unused_result));
int kp_saslauthenticate_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				    size_t max_frame, int16_t version,
				    struct kp_saslauthenticate_resp *out)
	__attribute__((warn_unused_result));

/* ---- GetTelemetrySubscriptions (key 71, KIP-714), v0, flexible ---- */

/* uuid client_instance_id (all zero: the broker assigns one), tags */
struct kp_gettelemetrysubscriptions_req {
	struct kp_req_hdr hdr;
	uint8_t client_instance_id[16];
	struct kp_walk_stats stats;
};

/* i32 throttle_time_ms, i16 error_code, uuid client_instance_id,
 * i32 subscription_id, [i8 accepted_compression_types],
 * i32 push_interval_ms, i32 telemetry_max_bytes, bool delta_temporality,
 * [str requested_metrics], tags */
struct kp_gettelemetrysubscriptions_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	uint8_t client_instance_id[16];
	int32_t subscription_id;
	uint32_t accepted_compression_types; /* how many */
	int32_t push_interval_ms;
	int32_t telemetry_max_bytes;
	int8_t delta_temporality;
	uint32_t requested_metrics; /* how many prefixes; 0 = push nothing */
	struct kp_walk_stats stats;
};

int kp_gettelemetrysubscriptions_req_decode(
	const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
	struct kp_gettelemetrysubscriptions_req *out)
	__attribute__((warn_unused_result));
int kp_gettelemetrysubscriptions_resp_decode(
	const struct kp_seg *segs, uint32_t nseg, size_t max_frame,
	int16_t version, struct kp_gettelemetrysubscriptions_resp *out)
	__attribute__((warn_unused_result));

/* ---- PushTelemetry (key 72, KIP-714), v0, flexible ---- */

/* uuid client_instance_id, i32 subscription_id, bool terminating,
 * i8 compression_type, bytes metrics, tags
 * Only the metrics' length is kept: they are the client's business. */
struct kp_pushtelemetry_req {
	struct kp_req_hdr hdr;
	uint8_t client_instance_id[16];
	int32_t subscription_id;
	int8_t terminating;
	int8_t compression_type; /* 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd */
	int32_t metrics_len;
	struct kp_walk_stats stats;
};

/* i32 throttle_time_ms, i16 error_code, tags */
struct kp_pushtelemetry_resp {
	struct kp_resp_hdr hdr;
	int32_t throttle_ms;
	int16_t error;
	struct kp_walk_stats stats;
};

int kp_pushtelemetry_req_decode(const struct kp_seg *segs, uint32_t nseg,
				size_t max_frame,
				struct kp_pushtelemetry_req *out)
	__attribute__((warn_unused_result));
int kp_pushtelemetry_resp_decode(const struct kp_seg *segs, uint32_t nseg,
				 size_t max_frame, int16_t version,
				 struct kp_pushtelemetry_resp *out)
	__attribute__((warn_unused_result));

#endif
