/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A machine's state as named, versioned sections, the way src/vm hands it out
 * and takes it back. src/vm knows what each section holds; whoever gives it
 * a sink or a source (src/state: a snapshot file, a migration stream) knows
 * where the bytes go. Section names are at most 15 characters of
 * [a-z0-9_.-]; a section's payload is fixed-width, little-endian fields, and
 * its version changes whenever its layout does.
 */
#ifndef PETREL_VM_VM_STATE_H
#define PETREL_VM_VM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_STATE_NAME_MAX 15

/* One line saying what is wrong (the section and the value), for the user. */
struct vm_state_err {
	char msg[200];
};

/* Fill @err (printf style) and return @ret, a negative errno. */
int vm_state_fail(struct vm_state_err *err, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct vm_state_sink {
	/* Append section @name (@version >= 1): 0 or -errno. */
	int (*put)(void *ctx, const char *name, uint32_t version, const void *data, size_t len);
	void *ctx;
};

struct vm_state_source {
	/*
	 * Section @name, of a version up to @max_version: 0 with *data, *len and
	 * *version set (the bytes live as long as the source); -ENOENT when
	 * there is none; -EINVAL when it is newer than @max_version.
	 */
	int (*get)(void *ctx, const char *name, uint32_t max_version, const void **data,
		   size_t *len, uint32_t *version);
	void *ctx;
};

/*
 * Section @name, which must be exactly @len bytes (@version <= @max): copied
 * to @out. -EINVAL with @err naming the section when it is missing, newer or
 * of another size.
 */
int vm_state_get_exact(const struct vm_state_source *src, const char *name, uint32_t max, void *out,
		       size_t len, struct vm_state_err *err);

#endif
