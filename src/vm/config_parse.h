/* SPDX-License-Identifier: GPL-2.0-only */
/* Parsers for command-line (and later API) values; pure and unit-tested. */
#ifndef PETREL_VM_CONFIG_PARSE_H
#define PETREL_VM_CONFIG_PARSE_H

#include <stdint.h>

#include "vm/machine.h"

/* "256M", "1G", "65536K", "1048576" (bytes) -> bytes; -EINVAL or -ERANGE. */
int vm_parse_size(const char *s, uint64_t *out);
/* A decimal count in [min, max]; -EINVAL when not a number, -ERANGE outside. */
int vm_parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out);
/* "stdio", "off" or "file=PATH" into cfg->serial / serial_path. */
int vm_parse_serial(const char *s, struct vm_config *cfg);
/* --dirty-log: "bitmap" or "ring"; -EINVAL otherwise. */
int vm_parse_dirty_log(const char *s, enum kvm_dirty_mode *out);
/*
 * --dirty-ring-size: a size (as vm_parse_size) that is a power of two from
 * 4K to 1G; whether this host takes it is checked against its KVM later.
 */
int vm_parse_dirty_ring_size(const char *s, uint32_t *out);

#endif
