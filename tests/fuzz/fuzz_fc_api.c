// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Firecracker front-end over the controller on a fake machine. The input:
 * a flags byte (bit 0: the machine refuses to boot; bit 1: a --config-file
 * comes first, a 16-bit little-endian length then its JSON), then requests
 * as fuzz_api_next_request reads them, at most 16, on one controller.
 */
#include <stdint.h>
#include <stdlib.h>

#include "api/fc_api.h"
#include "fuzz_api.h"

static const char *const fc_paths[] = {
    "/",
    "/version",
    "/machine-config",
    "/boot-source",
    "/drives/rootfs",
    "/drives/scratch",
    "/drives/",
    "/network-interfaces/eth0",
    "/network-interfaces/eth1",
    "/entropy",
    "/serial",
    "/logger",
    "/metrics",
    "/actions",
    "/vm",
    "/vm/config",
    "/mmds",
    "/balloon",
    "/snapshot/create",
    "/cpu-config",
    "/vsock",
};

#define FUZZ_MAX_REQUESTS 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_api_files_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct fuzz_fake fake = {0};
	struct api_request rq;
	struct api_vmm v;
	uint8_t flags;

	if (!size)
		return 0;
	flags = fuzz_in_byte(&in);
	fake.boot_fails = flags & 1;
	fuzz_api_sandboxed = true;
	api_vmm_init(&v, &fuzz_fake_backend, &fake, "fuzz-vm");
	if (flags & 2) {
		struct api_err err = {""};
		size_t len = fuzz_in_byte(&in), blen;
		char *json;

		len |= (size_t)fuzz_in_byte(&in) << 8;
		if (len > in.n)
			len = in.n;
		json = fuzz_api_expand(in.p, len, &blen);
		in.p += len;
		in.n -= len;
		api_fc_config_load(&v, json, blen, &err);
		free(json);
	}
	for (int i = 0;
	     i < FUZZ_MAX_REQUESTS &&
	     fuzz_api_next_request(&in, fc_paths, sizeof(fc_paths) / sizeof(fc_paths[0]), &rq);
	     i++) {
		fuzz_api_run(&api_fc_frontend, &v, &rq);
		fuzz_api_request_free(&rq);
	}
	api_vmm_destroy(&v);
	fuzz_api_sandboxed = false;
	return 0;
}
