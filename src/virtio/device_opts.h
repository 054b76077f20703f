/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Device specifications on the command line (and later the API) are lists of
 * "key=value" items separated by commas: --disk path=FILE,readonly=on. This
 * walks such a list; each device parser says what its keys mean.
 */
#ifndef PETREL_VIRTIO_DEVICE_OPTS_H
#define PETREL_VIRTIO_DEVICE_OPTS_H

#include <stdbool.h>
#include <stddef.h>

/* One item: key [key, key+klen), value [val, val+vlen); neither NUL-terminated. */
typedef int (*device_opts_fn)(void *ctx, const char *key, size_t klen, const char *val,
			      size_t vlen);

/*
 * Call @fn for each item of @spec in order; stop at the first error it
 * returns. An item without '=' or an empty or NULL @spec is -EINVAL.
 */
int device_opts_each(const char *spec, device_opts_fn fn, void *ctx);
/* Is [s, s+len) exactly the string @word? */
bool device_opts_is(const char *s, size_t len, const char *word);

#endif
