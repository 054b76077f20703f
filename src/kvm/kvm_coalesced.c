// SPDX-License-Identifier: GPL-2.0-only
/*
 * Coalesced MMIO/PIO: writes to registered zones are queued by KVM in a ring
 * instead of exiting; petrel replays them before any device access and on
 * every exit, in order.
 */
#include "kvm/kvm.h"

#include <errno.h>
#include <unistd.h>

static int zone_ioctl(struct kvm_vm *vm, unsigned long req, uint64_t addr, uint32_t size,
		      bool pio)
{
	struct kvm_coalesced_mmio_zone zone = {.addr = addr, .size = size, .pio = pio};

	if (!vm->sys->caps[KVM_CAPX_COALESCED_MMIO] ||
	    (pio && !vm->sys->caps[KVM_CAPX_COALESCED_PIO]))
		return -ENOSYS;
	return kvm_vm_ioctl(vm, req, &zone);
}

int kvm_coalesced_add(struct kvm_vm *vm, uint64_t addr, uint32_t size, bool pio)
{
	return zone_ioctl(vm, KVM_REGISTER_COALESCED_MMIO, addr, size, pio);
}

int kvm_coalesced_remove(struct kvm_vm *vm, uint64_t addr, uint32_t size, bool pio)
{
	kvm_coalesced_flush(vm);
	return zone_ioctl(vm, KVM_UNREGISTER_COALESCED_MMIO, addr, size, pio);
}

void kvm_coalesced_flush(struct kvm_vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;
	uint32_t max;

	if (!ring)
		return;
	/* Cheap check without the lock: the common case is an empty ring. */
	if (__atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) ==
	    __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->coalesced_lock);
	/* A device reached from a replayed write must not replay again. */
	if (vm->coalesced_flushing)
		goto out;
	vm->coalesced_flushing = true;
	max = (uint32_t)((getpagesize() - sizeof(*ring)) / sizeof(ring->coalesced_mmio[0]));
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *ent = &ring->coalesced_mmio[ring->first % max];
		uint32_t len = ent->len > sizeof(ent->data) ? sizeof(ent->data) : ent->len;

		if (vm->coalesced_write)
			vm->coalesced_write(vm->coalesced_opaque, ent->phys_addr, ent->data, len,
					    ent->pio);
		__atomic_store_n(&ring->first, (ring->first + 1) % max, __ATOMIC_RELEASE);
	}
	vm->coalesced_flushing = false;
out:
	pthread_mutex_unlock(&vm->coalesced_lock);
}
