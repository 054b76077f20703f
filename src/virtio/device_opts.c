// SPDX-License-Identifier: GPL-2.0-only
#include "virtio/device_opts.h"

#include <errno.h>
#include <string.h>

bool device_opts_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && !memcmp(s, word, len);
}

int device_opts_each(const char *spec, device_opts_fn fn, void *ctx)
{
	const char *s = spec;

	if (!spec || !*spec)
		return -EINVAL;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *eq = memchr(s, '=', len);
		size_t klen;
		int ret;

		if (!eq)
			return -EINVAL;
		klen = (size_t)(eq - s);
		ret = fn(ctx, s, klen, eq + 1, len - klen - 1);
		if (ret < 0)
			return ret;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}
