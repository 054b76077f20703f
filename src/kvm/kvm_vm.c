// SPDX-License-Identifier: GPL-2.0-only
/* A KVM virtual machine: creation, x86 platform set-up, teardown. */
#include "kvm/kvm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_TSS_ADDR 0xfffbd000UL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

int kvm_vm_ioctl(struct kvm_vm *vm, unsigned long req, void *arg)
{
	int ret = ioctl(vm->fd, req, arg);

	return ret < 0 ? -errno : ret;
}

static int slot_apply(void *opaque, const struct kvm_slot *s)
{
	struct kvm_vm *vm = opaque;
	struct kvm_userspace_memory_region r = {
		.slot = s->id,
		.flags = s->flags & KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = s->gpa,
		.memory_size = s->size,
		.userspace_addr = (uintptr_t)s->hva,
	};
	int ret = kvm_vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);

	if (ret < 0)
		fprintf(stderr, "petrel: memory slot %u [0x%llx, +0x%llx): %s\n", s->id,
			(unsigned long long)s->gpa, (unsigned long long)s->size, strerror(-ret));
	return ret;
}

int kvm_vm_create(struct kvm_vm *vm, struct kvm_sys *sys)
{
	int nslots, ret;

	memset(vm, 0, sizeof(*vm));
	vm->sys = sys;
	vm->fd = ioctl(sys->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: KVM_CREATE_VM: %s\n", strerror(-ret));
		return ret;
	}
	nslots = sys->caps[KVM_CAPX_NR_MEMSLOTS];
	kvm_slots_init(&vm->slots, nslots > 0 ? (unsigned int)nslots : 32, slot_apply, vm);
	pthread_mutex_init(&vm->slots_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);

	if (sys->caps[KVM_CAPX_MANUAL_DIRTY_LOG_PROTECT2]) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
		};
		/* Without INITIALLY_SET: the first sync reports exactly what was written. */
		vm->manual_protect = kvm_vm_ioctl(vm, KVM_ENABLE_CAP, &cap) == 0;
	}
	return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	kvm_routes_free(&vm->routes);
	kvm_dirty_ring_free(vm);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
	pthread_mutex_destroy(&vm->slots_lock);
	pthread_mutex_destroy(&vm->coalesced_lock);
}

int kvm_vm_setup_x86(struct kvm_vm *vm, bool irqchip)
{
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	int ret;

	ret = kvm_vm_ioctl(vm, KVM_SET_TSS_ADDR, (void *)KVM_TSS_ADDR);
	if (ret < 0) {
		fprintf(stderr, "petrel: KVM_SET_TSS_ADDR: %s\n", strerror(-ret));
		return ret;
	}
	ret = kvm_vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &ident);
	if (ret < 0) {
		fprintf(stderr, "petrel: KVM_SET_IDENTITY_MAP_ADDR: %s\n", strerror(-ret));
		return ret;
	}
	if (!irqchip)
		return 0;
	ret = kvm_vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL);
	if (ret < 0) {
		fprintf(stderr, "petrel: KVM_CREATE_IRQCHIP: %s\n", strerror(-ret));
		return ret;
	}
	vm->irqchip = true;
	if (vm->sys->caps[KVM_CAPX_PIT2]) {
		struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

		ret = kvm_vm_ioctl(vm, KVM_CREATE_PIT2, &pit);
		if (ret < 0) {
			fprintf(stderr, "petrel: KVM_CREATE_PIT2: %s\n", strerror(-ret));
			return ret;
		}
	}
	if (vm->sys->caps[KVM_CAPX_IRQ_ROUTING]) {
		ret = kvm_routes_init(&vm->routes, (unsigned int)vm->sys->caps[KVM_CAPX_IRQ_ROUTING]);
		if (ret < 0)
			return ret;
		ret = kvm_routes_x86_defaults(&vm->routes);
		if (ret < 0)
			return ret;
		ret = kvm_routes_commit(vm);
		if (ret < 0)
			return ret;
	}
	return 0;
}
