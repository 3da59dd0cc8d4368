/*
 * kp_msg: the decode drivers shared by the typed decoders.
 */
#include "kp_msg.h"

int kp_msg_decode_req(const struct kp_seg *segs, uint32_t nseg,
		      size_t max_frame, int16_t api_key, kp_visit_fn visit,
		      void *ctx, struct kp_req_hdr *hdr,
		      struct kp_walk_stats *stats)
{
	struct kp_req_hdr peek;
	struct kp_frame fr;
	int rc = kp_split_req(segs, nseg, max_frame, &peek, &fr);

	/* A frame of another API is the caller's mistake, not the peer's:
	 * say so before walking it with the wrong visitor. */
	if (rc == KP_OK && peek.api_key != api_key) {
		*hdr = peek;
		return KP_ERR_UNKNOWN_API;
	}
	return kp_walk_req(segs, nseg, max_frame, visit, ctx, hdr, stats);
}

int kp_msg_decode_resp(const struct kp_seg *segs, uint32_t nseg,
		       size_t max_frame, int16_t api_key, int16_t api_version,
		       kp_visit_fn visit, void *ctx, struct kp_resp_hdr *hdr,
		       struct kp_walk_stats *stats)
{
	return kp_walk_resp(segs, nseg, max_frame, api_key, api_version, visit,
			    ctx, hdr, stats);
}
