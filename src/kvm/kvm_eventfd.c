// SPDX-License-Identifier: GPL-2.0-only
/* ioeventfd (guest doorbells without exits) and irqfd (injection by eventfd). */
#include "kvm/kvm.h"

#include <errno.h>

int kvm_ioeventfd_set(struct kvm_vm *vm, uint64_t addr, uint32_t len, int efd, bool pio,
		      bool match, uint64_t datamatch, bool assign)
{
	struct kvm_ioeventfd ioe = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = efd,
	};

	if (!vm->sys->caps[KVM_CAPX_IOEVENTFD])
		return -ENOSYS;
	if (len != 0 && len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	if (pio)
		ioe.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (match)
		ioe.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (!assign)
		ioe.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return kvm_vm_ioctl(vm, KVM_IOEVENTFD, &ioe);
}

int kvm_irqfd_set(struct kvm_vm *vm, int efd, uint32_t gsi, int resample_fd, bool assign)
{
	struct kvm_irqfd irqfd = {.fd = (uint32_t)efd, .gsi = gsi};

	if (!vm->sys->caps[KVM_CAPX_IRQFD])
		return -ENOSYS;
	if (!assign)
		irqfd.flags |= KVM_IRQFD_FLAG_DEASSIGN;
	else if (resample_fd >= 0) {
		irqfd.flags |= KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = (uint32_t)resample_fd;
	}
	return kvm_vm_ioctl(vm, KVM_IRQFD, &irqfd);
}
