/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Port-I/O and MMIO buses: devices claim address ranges; accesses are
 * dispatched with a binary search. Unclaimed reads return all-ones, writes are
 * dropped, and both are counted.
 */
#ifndef PETREL_BUS_BUS_H
#define PETREL_BUS_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* offset is relative to the range's base; size is 1, 2, 4 or 8 */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned int size);
	void (*write)(void *opaque, uint64_t offset, unsigned int size, uint64_t value);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;
	pthread_rwlock_t lock;
	struct bus_range *ranges; /* sorted by base, never overlapping */
	unsigned int nr, cap;
	uint64_t unclaimed_reads;
	uint64_t unclaimed_writes;
};

int bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);
/* Claim [base, base+len); -EEXIST when it overlaps a claimed range. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name);
/* Release the range that starts at base; -ENOENT when there is none. */
int bus_unregister(struct bus *bus, uint64_t base);
/* Dispatch an access; return false when nobody claims addr (read gives all-ones). */
bool bus_read(struct bus *bus, uint64_t addr, unsigned int size, uint64_t *value);
bool bus_write(struct bus *bus, uint64_t addr, unsigned int size, uint64_t value);
/* Lookup without locking for tests: the range holding addr or NULL. */
const struct bus_range *bus_find(struct bus *bus, uint64_t addr);

#endif
