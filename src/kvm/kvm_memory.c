// SPDX-License-Identifier: GPL-2.0-only
/* Guest RAM slots on a VM: thin locking wrappers over the slot table. */
#include "kvm/kvm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int kvm_mem_add(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva, bool log_dirty)
{
	uint32_t flags = (log_dirty || vm->dirty_log_global) ? KVM_SLOT_LOG_DIRTY : 0;
	int ret;

	pthread_mutex_lock(&vm->slots_lock);
	ret = kvm_slots_add(&vm->slots, gpa, size, hva, flags);
	pthread_mutex_unlock(&vm->slots_lock);
	if (ret == -EINVAL)
		fprintf(stderr,
			"petrel: memory range 0x%llx+0x%llx is not page aligned (4 KiB) or empty\n",
			(unsigned long long)gpa, (unsigned long long)size);
	else if (ret == -ENOSPC)
		fprintf(stderr, "petrel: out of KVM memory slots (limit %u) mapping 0x%llx+0x%llx\n",
			vm->slots.limit, (unsigned long long)gpa, (unsigned long long)size);
	return ret;
}

int kvm_mem_remove(struct kvm_vm *vm, uint64_t gpa, uint64_t size)
{
	int ret;

	pthread_mutex_lock(&vm->slots_lock);
	ret = kvm_slots_remove(&vm->slots, gpa, size);
	pthread_mutex_unlock(&vm->slots_lock);
	return ret;
}

int kvm_mem_gpa_to_hva(struct kvm_vm *vm, uint64_t gpa, void **hva)
{
	const struct kvm_slot *s;
	int ret = -EFAULT;

	pthread_mutex_lock(&vm->slots_lock);
	s = kvm_slots_find_gpa(&vm->slots, gpa);
	if (s) {
		*hva = s->hva + (gpa - s->gpa);
		ret = 0;
	}
	pthread_mutex_unlock(&vm->slots_lock);
	return ret;
}

int kvm_mem_hva_to_gpa(struct kvm_vm *vm, const void *hva, uint64_t *gpa)
{
	const struct kvm_slot *s;
	int ret = -EFAULT;

	pthread_mutex_lock(&vm->slots_lock);
	s = kvm_slots_find_hva(&vm->slots, hva);
	if (s) {
		*gpa = s->gpa + (uint64_t)((const uint8_t *)hva - s->hva);
		ret = 0;
	}
	pthread_mutex_unlock(&vm->slots_lock);
	return ret;
}
