// SPDX-License-Identifier: GPL-2.0-only
/* Loading the guest and putting every vCPU in its reset or entry state. */
#include "vm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/lapic.h"
#include "arch/x86/layout.h"
#include "arch/x86/x86_mode.h"

#define FLAT_REAL_SEG 0x1000
#define FLAT_REAL_ADDR 0x10000ULL
#define FLAT_REAL_MAX (X86_EBDA_ADDR - FLAT_REAL_ADDR)
#define FLAT_LONG_ADDR 0x100000ULL
#define FLAT_LONG_STACK_TOP 0x80000ULL

static int load_flat(struct machine *m, uint64_t gpa, uint64_t max)
{
	const char *path = m->cfg.firmware;
	struct stat st;
	void *dst;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: --firmware %s: %s\n", path, strerror(-ret));
		goto out;
	}
	if ((uint64_t)st.st_size > max || !(dst = gm_ptr(&m->mem, gpa, (uint64_t)st.st_size))) {
		fprintf(stderr, "petrel: --firmware %s: %lld bytes do not fit at 0x%llx\n", path,
			(long long)st.st_size, (unsigned long long)gpa);
		ret = -EFBIG;
		goto out;
	}
	if (read(fd, dst, (size_t)st.st_size) != st.st_size) {
		ret = -EIO;
		fprintf(stderr, "petrel: --firmware %s: short read\n", path);
	}
	m->entry.rip = gpa;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int load_kernel(struct machine *m){return -ENOSYS;}
int vm_boot_load(struct machine *m)
{
	switch (m->cfg.boot) {
	case VM_BOOT_FLAT_REAL:
		return load_flat(m, FLAT_REAL_ADDR, FLAT_REAL_MAX);
	case VM_BOOT_FLAT_LONG:
		return load_flat(m, FLAT_LONG_ADDR, m->cfg.mem_size - FLAT_LONG_ADDR);
	case VM_BOOT_KERNEL:
		return load_kernel(m);
	}
	return -EINVAL;
}

static int setup_cpuid(struct machine *m, struct vm_vcpu *v)
{
	unsigned int n = 128;
	struct kvm_cpuid2 *cpuid;
	int ret;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = n;
		ret = ioctl(m->sys.fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ? -errno : 0;
		if (ret != -E2BIG)
			break;
		free(cpuid);
		n *= 2;
	}
	if (!ret)
		{unsigned i; for(i=0;i<cpuid->nent;i++) if(cpuid->entries[i].function==1){cpuid->entries[i].ebx=(cpuid->entries[i].ebx&0xffffff)|(v->kvm.id<<24);}}
	if (!ret)
		ret = kvm_vcpu_ioctl(&v->kvm, KVM_SET_CPUID2, cpuid);
	if (ret < 0)
		fprintf(stderr, "petrel: vCPU %u: setting CPUID: %s\n", v->kvm.id, strerror(-ret));
	free(cpuid);
	return ret;
}

static int setup_msrs(struct vm_vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[32];
	} msrs;
	int ret;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 0;
	ret = kvm_vcpu_ioctl(&v->kvm, KVM_SET_MSRS, &msrs);
	if (ret >= 0 && (unsigned int)ret != msrs.hdr.nmsrs)
		fprintf(stderr, "petrel: vCPU %u: KVM accepted %d of %u boot MSRs\n", v->kvm.id, ret,
			msrs.hdr.nmsrs);
	return ret < 0 ? ret : 0;
}

static int setup_fpu(struct vm_vcpu *v)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return kvm_vcpu_ioctl(&v->kvm, KVM_SET_FPU, &fpu);
}

int vm_boot_setup_vcpu(struct machine *m, struct vm_vcpu *v)
{
	struct kvm_regs *regs;
	struct kvm_sregs *sregs;
	bool boot_cpu = v->kvm.id == 0;
	int ret;

	ret = setup_cpuid(m, v);
	if (ret < 0)
		return ret;
	ret = setup_msrs(v);
	if (ret < 0)
		return ret;
	ret = setup_fpu(v);
	if (ret < 0)
		return ret;
	if (m->vm.irqchip) {
		struct kvm_lapic_state lapic;

		ret = kvm_vcpu_ioctl(&v->kvm, KVM_GET_LAPIC, &lapic);
		if (!ret) {
			x86_lapic_setup_lint(&lapic);
			ret = kvm_vcpu_ioctl(&v->kvm, KVM_SET_LAPIC, &lapic);
		}
		if (ret < 0) {
			fprintf(stderr, "petrel: vCPU %u: local APIC set-up: %s\n", v->kvm.id,
				strerror(-ret));
			return ret;
		}
	}
	/* Secondary CPUs of a kernel start through INIT/SIPI in the in-kernel LAPIC. */
	if (m->cfg.boot == VM_BOOT_KERNEL && !boot_cpu)
		return 0;

	regs = kvm_vcpu_regs(&v->kvm);
	sregs = kvm_vcpu_sregs(&v->kvm);
	memset(regs, 0, sizeof(*regs));
	regs->rflags = 0x2;
	switch (m->cfg.boot) {
	case VM_BOOT_FLAT_REAL:
		x86_mode_setup_real(sregs, FLAT_REAL_SEG);
		regs->rip = 0;
		regs->rsp = 0xfff0;
		regs->rdi = v->kvm.id;
		break;
	case VM_BOOT_FLAT_LONG:
		ret = x86_mode_setup_long(&m->mem, sregs);
		regs->rip = m->entry.rip;
		regs->rsp = FLAT_LONG_STACK_TOP - (uint64_t)v->kvm.id * 0x1000;
		regs->rdi = v->kvm.id;
		regs->rsi = m->cfg.cpus;
		break;
	case VM_BOOT_KERNEL:
		if (m->entry.pvh)
			ret = x86_mode_setup_flat32(&m->mem, sregs);
		else
			ret = x86_mode_setup_long(&m->mem, sregs);
		regs->rip = m->entry.rip;
		regs->rsi = m->entry.rsi;
		regs->rbx = m->entry.rbx;
		break;
	}
	if (ret < 0)
		return ret;
	kvm_vcpu_regs_dirty(&v->kvm);
	kvm_vcpu_sregs_dirty(&v->kvm);
	return kvm_vcpu_regs_flush(&v->kvm);
}
