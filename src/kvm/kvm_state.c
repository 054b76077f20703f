// SPDX-License-Identifier: GPL-2.0-only
#include "kvm/kvm_state.h"

#include <errno.h>
#include <string.h>

/* Architectural MSRs a guest's execution depends on. */
static const uint32_t saved_msrs[] = {
	0x00000010, /* TSC */
	0x0000001b, /* APIC_BASE */
	0x0000003a, /* FEATURE_CONTROL */
	0x00000174, /* SYSENTER_CS */
	0x00000175, /* SYSENTER_ESP */
	0x00000176, /* SYSENTER_EIP */
	0x00000277, /* PAT */
	0x000001a0, /* MISC_ENABLE */
	0x000002ff, /* MTRR default type */
	0xc0000081, /* STAR */
	0xc0000082, /* LSTAR */
	0xc0000083, /* CSTAR */
	0xc0000084, /* SYSCALL_MASK */
	0xc0000102, /* KERNEL_GS_BASE */
	0xc0000103, /* TSC_AUX */
	0x4b564d00, /* kvmclock: wall clock */
	0x4b564d01, /* kvmclock: system time */
	0x4b564d02, /* async page fault */
	0x4b564d03, /* steal time */
	0x4b564d04, /* PV EOI */
};

unsigned int kvm_state_msr_list(uint32_t *idx, unsigned int max)
{
	unsigned int i, n = sizeof(saved_msrs) / sizeof(saved_msrs[0]);

	for (i = 0; i < n && i < max; i++)
		idx[i] = saved_msrs[i];
	return i;
}

struct msr_buf {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[KVM_STATE_MAX_MSRS];
};

int kvm_vcpu_state_save(struct kvm_vcpu *v, struct kvm_vcpu_state *s)
{
	const int *caps = v->vm->sys->caps;
	struct msr_buf mb;
	uint32_t idx[KVM_STATE_MAX_MSRS];
	unsigned int i, n;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = kvm_vcpu_regs_flush(v);
	if (ret < 0)
		return ret;
	if ((ret = kvm_vcpu_ioctl(v, KVM_GET_REGS, &s->regs)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_GET_SREGS, &s->sregs)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_GET_FPU, &s->fpu)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_GET_MP_STATE, &s->mp_state)) < 0)
		return ret;
	if (caps[KVM_CAPX_XSAVE])
		s->has_xsave = kvm_vcpu_ioctl(v, KVM_GET_XSAVE, &s->xsave) == 0;
	if (caps[KVM_CAPX_XCRS])
		s->has_xcrs = kvm_vcpu_ioctl(v, KVM_GET_XCRS, &s->xcrs) == 0;
	if (v->vm->irqchip)
		s->has_lapic = kvm_vcpu_ioctl(v, KVM_GET_LAPIC, &s->lapic) == 0;
	if (caps[KVM_CAPX_VCPU_EVENTS])
		s->has_events = kvm_vcpu_ioctl(v, KVM_GET_VCPU_EVENTS, &s->events) == 0;
	if (caps[KVM_CAPX_DEBUGREGS])
		s->has_debugregs = kvm_vcpu_ioctl(v, KVM_GET_DEBUGREGS, &s->debugregs) == 0;

	/* Read the MSRs one by one: a host may lack some (kvmclock ones, say). */
	n = kvm_state_msr_list(idx, KVM_STATE_MAX_MSRS);
	for (i = 0; i < n; i++) {
		memset(&mb, 0, sizeof(mb));
		mb.hdr.nmsrs = 1;
		mb.e[0].index = idx[i];
		if (kvm_vcpu_ioctl(v, KVM_GET_MSRS, &mb) == 1)
			s->msrs[s->nr_msrs++] = mb.e[0];
	}
	return 0;
}

int kvm_vcpu_state_restore(struct kvm_vcpu *v, const struct kvm_vcpu_state *s)
{
	struct msr_buf mb;
	int ret;

	kvm_vcpu_regs_invalidate(v);
	/* sregs first: they set the mode the rest is interpreted in */
	if ((ret = kvm_vcpu_ioctl(v, KVM_SET_SREGS, (void *)&s->sregs)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_SET_REGS, (void *)&s->regs)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_SET_FPU, (void *)&s->fpu)) < 0)
		return ret;
	if (s->has_xsave && (ret = kvm_vcpu_ioctl(v, KVM_SET_XSAVE, (void *)&s->xsave)) < 0)
		return ret;
	if (s->has_xcrs && (ret = kvm_vcpu_ioctl(v, KVM_SET_XCRS, (void *)&s->xcrs)) < 0)
		return ret;
	memset(&mb, 0, sizeof(mb));
	mb.hdr.nmsrs = s->nr_msrs > KVM_STATE_MAX_MSRS ? KVM_STATE_MAX_MSRS : s->nr_msrs;
	memcpy(mb.e, s->msrs, mb.hdr.nmsrs * sizeof(mb.e[0]));
	ret = kvm_vcpu_ioctl(v, KVM_SET_MSRS, &mb);
	if (ret >= 0 && (uint32_t)ret != mb.hdr.nmsrs)
		return -EIO;
	if (ret < 0)
		return ret;
	if (s->has_lapic && (ret = kvm_vcpu_ioctl(v, KVM_SET_LAPIC, (void *)&s->lapic)) < 0)
		return ret;
	if (s->has_events &&
	    (ret = kvm_vcpu_ioctl(v, KVM_SET_VCPU_EVENTS, (void *)&s->events)) < 0)
		return ret;
	if (s->has_debugregs &&
	    (ret = kvm_vcpu_ioctl(v, KVM_SET_DEBUGREGS, (void *)&s->debugregs)) < 0)
		return ret;
	return kvm_vcpu_ioctl(v, KVM_SET_MP_STATE, (void *)&s->mp_state);
}

static int chip_get(struct kvm_vm *vm, struct kvm_irqchip *c, uint32_t id)
{
	memset(c, 0, sizeof(*c));
	c->chip_id = id;
	return kvm_vm_ioctl(vm, KVM_GET_IRQCHIP, c);
}

int kvm_vm_state_save(struct kvm_vm *vm, struct kvm_vm_state *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	if (vm->irqchip) {
		if ((ret = chip_get(vm, &s->pic_master, KVM_IRQCHIP_PIC_MASTER)) < 0 ||
		    (ret = chip_get(vm, &s->pic_slave, KVM_IRQCHIP_PIC_SLAVE)) < 0 ||
		    (ret = chip_get(vm, &s->ioapic, KVM_IRQCHIP_IOAPIC)) < 0)
			return ret;
		s->has_irqchip = true;
		s->has_pit = kvm_vm_ioctl(vm, KVM_GET_PIT2, &s->pit) == 0;
	}
	ret = kvm_vm_ioctl(vm, KVM_GET_CLOCK, &s->clock);
	return ret < 0 ? ret : 0;
}

int kvm_vm_state_restore(struct kvm_vm *vm, const struct kvm_vm_state *s)
{
	struct kvm_clock_data clock;
	int ret;

	if (s->has_irqchip) {
		if ((ret = kvm_vm_ioctl(vm, KVM_SET_IRQCHIP, (void *)&s->pic_master)) < 0 ||
		    (ret = kvm_vm_ioctl(vm, KVM_SET_IRQCHIP, (void *)&s->pic_slave)) < 0 ||
		    (ret = kvm_vm_ioctl(vm, KVM_SET_IRQCHIP, (void *)&s->ioapic)) < 0)
			return ret;
	}
	if (s->has_pit && (ret = kvm_vm_ioctl(vm, KVM_SET_PIT2, (void *)&s->pit)) < 0)
		return ret;
	memset(&clock, 0, sizeof(clock));
	clock.clock = s->clock.clock;
	ret = kvm_vm_ioctl(vm, KVM_SET_CLOCK, &clock);
	return ret < 0 ? ret : 0;
}
