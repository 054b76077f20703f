// SPDX-License-Identifier: GPL-2.0-only
#include "api/fc_api.h"

#include <errno.h>

static bool fc_match(const char *path)
{
	return false;
}

static void fc_handle(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	api_response_set(rs, 404, NULL);
}

const struct api_frontend api_fc_frontend = {
    .name = "fc",
    .match = fc_match,
    .handle = fc_handle,
};

int api_fc_config_load(struct api_vmm *v, const char *json, size_t len, struct api_err *err)
{
	return api_fail(err, -ENOSYS, "config files are not supported yet");
}
