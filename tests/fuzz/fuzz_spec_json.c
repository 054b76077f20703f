// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the VM specification a snapshot stores (api_spec_json.c),
 * read back from a file a user may have edited or damaged. Any input is
 * decoded; a refusal must say why in one line; an accepted one, encoded
 * again and decoded, gives the same specification (encoded the same).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_vmm.h"

#define MAX_VCPUS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_vm_spec a, b;
	struct api_err err;
	char *j1, *j2;
	size_t l1 = 0, l2 = 0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	err.msg[0] = 0;
	if (api_spec_from_json(data, size, MAX_VCPUS, &a, &err) < 0) {
		if (!err.msg[0] || strchr(err.msg, '\n'))
			abort(); /* a refusal says why, in one line */
		return 0;
	}
	j1 = api_spec_to_json(&a, &l1);
	if (!j1)
		abort();
	if (api_spec_from_json(j1, l1, MAX_VCPUS, &b, &err) < 0)
		abort(); /* what petrel writes, it reads */
	j2 = api_spec_to_json(&b, &l2);
	if (!j2 || l1 != l2 || memcmp(j1, j2, l1))
		abort();
	free(j1);
	free(j2);
	api_vm_spec_free(&a);
	api_vm_spec_free(&b);
	return 0;
}
