/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The KVM dirty ring's pure half: taking the entries of one vCPU's ring and
 * checking a ring size, with no KVM (unit-tested on a ring in plain memory).
 *
 * A ring is an array of struct kvm_dirty_gfn that KVM fills as the vCPU
 * writes pages: it sets KVM_DIRTY_GFN_F_DIRTY (release) after slot and
 * offset; petrel reads the flag (acquire), takes slot and offset, and hands
 * the entry back with KVM_DIRTY_GFN_F_RESET (release). KVM_RESET_DIRTY_RINGS
 * then re-protects those pages and frees their entries.
 */
#ifndef PETREL_KVM_KVM_DIRTY_GFN_H
#define PETREL_KVM_KVM_DIRTY_GFN_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

/* The smallest ring KVM takes (a page) and petrel's default, in bytes per vCPU. */
#define KVM_DIRTY_RING_MIN_BYTES 4096u
#define KVM_DIRTY_RING_DEFAULT_BYTES (64u << 10)

typedef void (*kvm_dirty_ring_mark_fn)(void *opaque, uint32_t slot, uint64_t offset);

/*
 * Take the dirty entries of ring (entries a power of two) from *fetch on,
 * in order, until one that is not dirty: mark(opaque, slot, offset) for each,
 * flag it for reset and advance *fetch. At most entries in one call; returns
 * how many ring positions were used up.
 *
 * realign: KVM may have overrun the ring (written past its end), so that
 * its entries now start further on than *fetch: when the entry at *fetch
 * is not dirty but a later one is (and still is not once that one was
 * seen), the stale entries between are flagged for reset too (so that
 * KVM_RESET_DIRTY_RINGS moves past them) and taking goes on from there;
 * *gap (may be NULL) is then set. KVM publishes entries in order, so
 * otherwise a dirty entry never follows one that is not.
 */
uint32_t kvm_dirty_ring_collect(struct kvm_dirty_gfn *ring, uint32_t entries, uint32_t *fetch,
				bool realign, bool *gap, kvm_dirty_ring_mark_fn mark, void *opaque);

/*
 * A ring size KVM takes: a power of two of at least a page, at most max
 * (the host's KVM_CAP_DIRTY_LOG_RING value). 0, -EINVAL or -ERANGE.
 */
int kvm_dirty_ring_check_size(uint64_t bytes, uint64_t max);

#endif
