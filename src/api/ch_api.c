// SPDX-License-Identifier: GPL-2.0-only
#include "api/ch_api.h"

static bool ch_match(const char *path)
{
	return false;
}

static void ch_handle(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	api_response_set(rs, 404, NULL);
}

const struct api_frontend api_ch_frontend = {
    .name = "ch",
    .match = ch_match,
    .handle = ch_handle,
};
