// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Cloud Hypervisor front-end over the controller on a fake machine. The
 * input: a flags byte (bit 0: the machine refuses to boot), then requests as
 * fuzz_api_next_request reads them, at most 16, on one controller; vm.create
 * bodies are the bulk of the corpus.
 */
#include <stdint.h>
#include <stdlib.h>

#include "api/ch_api.h"
#include "fuzz_api.h"

static const char *const ch_paths[] = {
    "/api/v1/vmm.ping",	 "/api/v1/vmm.shutdown",    "/api/v1/vm.create",
    "/api/v1/vm.info",	 "/api/v1/vm.counters",	    "/api/v1/vm.boot",
    "/api/v1/vm.pause",	 "/api/v1/vm.resume",	    "/api/v1/vm.shutdown",
    "/api/v1/vm.reboot", "/api/v1/vm.power-button", "/api/v1/vm.delete",
    "/api/v1/vm.nmi",	 "/api/v1/vm.add-disk",	    "/api/v1/vm.add-net",
    "/api/v1/vm.resize", "/api/v1/vm.snapshot",	    "/api/v1/",
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

	if (!size)
		return 0;
	fake.boot_fails = fuzz_in_byte(&in) & 1;
	fuzz_api_sandboxed = true;
	api_vmm_init(&v, &fuzz_fake_backend, &fake, "fuzz-vm");
	for (int i = 0;
	     i < FUZZ_MAX_REQUESTS &&
	     fuzz_api_next_request(&in, ch_paths, sizeof(ch_paths) / sizeof(ch_paths[0]), &rq);
	     i++) {
		fuzz_api_run(&api_ch_frontend, &v, &rq);
		fuzz_api_request_free(&rq);
	}
	api_vmm_destroy(&v);
	fuzz_api_sandboxed = false;
	return 0;
}
