// SPDX-License-Identifier: GPL-2.0-only
/* Helpers for the machine's state sections. */
#include "vm/vm_state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vm_state_fail(struct vm_state_err *err, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return ret;
}

int vm_state_get_exact(const struct vm_state_source *src, const char *name, uint32_t max, void *out,
		       size_t len, struct vm_state_err *err)
{
	const void *data;
	size_t got;
	uint32_t version;
	int ret;

	ret = src->get(src->ctx, name, max, &data, &got, &version);
	if (ret == -ENOENT)
		return vm_state_fail(err, -EINVAL, "the state has no section '%s'", name);
	if (ret < 0)
		return vm_state_fail(err, -EINVAL,
				     "section '%s' is newer than this petrel reads (version %u)",
				     name, max);
	if (got != len)
		return vm_state_fail(err, -EINVAL,
				     "section '%s' holds %zu bytes where %zu were expected", name,
				     got, len);
	memcpy(out, data, len);
	return 0;
}
