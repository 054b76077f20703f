// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dirty page logging: per range and global, fetched with KVM_GET_DIRTY_LOG or
 * from the dirty ring (kvm_dirty_ring.c).
 */
#include "kvm/kvm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kvm_dirty_log_range(struct kvm_vm *vm, uint64_t gpa, uint64_t size, bool on)
{
	int ret;

	pthread_mutex_lock(&vm->slots_lock);
	ret = kvm_slots_set_flags(&vm->slots, gpa, size, on ? 0 : KVM_SLOT_LOG_DIRTY,
				  on ? KVM_SLOT_LOG_DIRTY : 0);
	pthread_mutex_unlock(&vm->slots_lock);
	return ret;
}

int kvm_dirty_log_global(struct kvm_vm *vm, bool on)
{
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&vm->slots_lock);
	vm->dirty_log_global = on;
	for (i = 0; i < vm->slots.limit && !ret; i++) {
		struct kvm_slot *s = &vm->slots.slots[i];
		uint32_t nf = on ? (s->flags | KVM_SLOT_LOG_DIRTY) : (s->flags & ~KVM_SLOT_LOG_DIRTY);

		if (!s->size || nf == s->flags)
			continue;
		s->flags = nf;
		ret = vm->slots.apply(vm->slots.opaque, s);
	}
	/* what the rings hold from this logging period means nothing to the next */
	if (!on && vm->ring.bytes)
		kvm_dirty_ring_drop_locked(vm);
	pthread_mutex_unlock(&vm->slots_lock);
	return ret;
}

int kvm_dirty_log_sync(struct kvm_vm *vm,
		       void (*fn)(void *opaque, uint64_t gpa, const unsigned long *bitmap,
				  uint64_t npages),
		       void *opaque)
{
	unsigned long *bitmap = NULL;
	size_t cap = 0;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&vm->slots_lock);
	if (vm->ring.bytes) {
		ret = kvm_dirty_ring_sync_locked(vm, fn, opaque);
		pthread_mutex_unlock(&vm->slots_lock);
		return ret;
	}
	for (i = 0; i < vm->slots.limit; i++) {
		const struct kvm_slot *s = &vm->slots.slots[i];
		uint64_t npages = s->size / KVM_SLOT_PAGE;
		size_t bytes = ((npages + 63) / 64) * 8;
		struct kvm_dirty_log log = {.slot = s->id};

		if (!s->size || !(s->flags & KVM_SLOT_LOG_DIRTY))
			continue;
		if (bytes > cap) {
			unsigned long *nb = realloc(bitmap, bytes);

			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			bitmap = nb;
			cap = bytes;
		}
		memset(bitmap, 0, bytes);
		log.dirty_bitmap = bitmap;
		ret = kvm_vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log);
		if (ret < 0) {
			fprintf(stderr, "petrel: KVM_GET_DIRTY_LOG slot %u: %s\n", s->id,
				strerror(-ret));
			break;
		}
		if (vm->manual_protect) {
			struct kvm_clear_dirty_log clr = {
				.slot = s->id,
				.first_page = 0,
				.num_pages = (uint32_t)((npages + 63) & ~63ULL),
				.dirty_bitmap = bitmap,
			};

			/* num_pages must be a multiple of 64 or end at the slot's end */
			if (clr.num_pages > npages)
				clr.num_pages = (uint32_t)npages;
			ret = kvm_vm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &clr);
			if (ret < 0) {
				fprintf(stderr, "petrel: KVM_CLEAR_DIRTY_LOG slot %u: %s\n", s->id,
					strerror(-ret));
				break;
			}
		}
		fn(opaque, s->gpa, bitmap, npages);
	}
	pthread_mutex_unlock(&vm->slots_lock);
	free(bitmap);
	return ret;
}
