/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The memory-slot table: which guest-physical ranges are backed by which host
 * memory. Pure logic, unit-tested without KVM; every change to a slot is
 * pushed through the apply callback (KVM_SET_USER_MEMORY_REGION in petrel,
 * a recorder in tests). A size of 0 in an applied slot means "delete".
 */
#ifndef PETREL_KVM_KVM_SLOTS_H
#define PETREL_KVM_KVM_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#define KVM_SLOTS_MAX 512
#define KVM_SLOT_PAGE 4096ULL
#define KVM_SLOT_LOG_DIRTY 1U /* same value as KVM_MEM_LOG_DIRTY_PAGES */

struct kvm_slot {
	uint32_t id;
	uint32_t flags;
	uint64_t gpa;
	uint64_t size; /* 0: free */
	uint8_t *hva;
};

typedef int (*kvm_slot_apply_fn)(void *opaque, const struct kvm_slot *slot);

struct kvm_slot_table {
	unsigned int limit; /* usable slot ids: 0 .. limit-1 */
	kvm_slot_apply_fn apply;
	void *opaque;
	struct kvm_slot slots[KVM_SLOTS_MAX];
};

void kvm_slots_init(struct kvm_slot_table *t, unsigned int limit, kvm_slot_apply_fn apply,
		    void *opaque);
/*
 * Map [gpa, gpa+size) to hva. Slots it overlaps are split: their parts
 * outside the new range stay mapped as prefix and suffix slots. Re-adding an
 * existing mapping only updates its flags. -EINVAL for misaligned or empty
 * ranges, -ENOSPC when the slots would run out (nothing is changed then).
 */
int kvm_slots_add(struct kvm_slot_table *t, uint64_t gpa, uint64_t size, void *hva,
		  uint32_t flags);
/* Unmap [gpa, gpa+size), keeping the parts of slots outside it. */
int kvm_slots_remove(struct kvm_slot_table *t, uint64_t gpa, uint64_t size);
/* Change flags of every slot inside [gpa, gpa+size), splitting at the edges. */
int kvm_slots_set_flags(struct kvm_slot_table *t, uint64_t gpa, uint64_t size, uint32_t clear,
			uint32_t set);
const struct kvm_slot *kvm_slots_find_gpa(const struct kvm_slot_table *t, uint64_t gpa);
const struct kvm_slot *kvm_slots_find_hva(const struct kvm_slot_table *t, const void *hva);
unsigned int kvm_slots_count(const struct kvm_slot_table *t);

#endif
