/*
 * kp_schema: lookups over the generated tables (kp_schema_gen.c).
 */
#include "kp_schema.h"

#include <stddef.h>
#include <string.h>

const struct kp_api *kp_api_get(int16_t key)
{
	if (key < 0 || key >= kp_api_count || !kp_apis[key].name)
		return NULL;
	return &kp_apis[key];
}

const char *kp_api_name(int16_t key)
{
	const struct kp_api *a = kp_api_get(key);

	return a ? a->name : "Unknown";
}

int kp_api_valid(const struct kp_api *api, int16_t version)
{
	return api && kp_ver_in(version, api->vmin, api->vmax);
}

int kp_req_hdr_version(int16_t key, int16_t version)
{
	const struct kp_api *a = kp_api_get(key);

	if (!kp_api_valid(a, version))
		return -1;
	return a->hdr_req[version - a->vmin];
}

int kp_resp_hdr_version(int16_t key, int16_t version)
{
	const struct kp_api *a = kp_api_get(key);

	if (!kp_api_valid(a, version))
		return -1;
	return a->hdr_resp[version - a->vmin];
}

const struct kp_msg *kp_msg_find(const char *name)
{
	for (uint16_t i = 0; i < kp_msg_count; i++)
		if (strcmp(kp_msgs[i].name, name) == 0)
			return &kp_msgs[i];
	return NULL;
}

const char *kp_error_name(int16_t code)
{
	size_t lo = 0, hi = kp_error_count;

	/* kp_errors is sorted by code. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (kp_errors[mid].code == code)
			return kp_errors[mid].name;
		if (kp_errors[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
