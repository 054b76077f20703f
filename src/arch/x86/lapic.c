// SPDX-License-Identifier: GPL-2.0-only
#include "arch/x86/lapic.h"

#include <string.h>

uint32_t x86_lapic_reg(const struct kvm_lapic_state *lapic, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &lapic->regs[off], sizeof(v));
	return v;
}

static void set_reg(struct kvm_lapic_state *lapic, unsigned int off, uint32_t v)
{
	memcpy(&lapic->regs[off], &v, sizeof(v));
}

/* Delivery mode is bits 10:8 of an LVT entry; bit 16 masks it. */
static uint32_t lvt_mode(uint32_t lvt, unsigned int mode)
{
	return (lvt & ~(0x700u | 0x10000u)) | (mode << 8);
}

void x86_lapic_setup_lint(struct kvm_lapic_state *lapic)
{
	set_reg(lapic, X86_APIC_LVT_LINT0,
		lvt_mode(x86_lapic_reg(lapic, X86_APIC_LVT_LINT0), X86_APIC_DM_EXTINT));
	set_reg(lapic, X86_APIC_LVT_LINT1,
		lvt_mode(x86_lapic_reg(lapic, X86_APIC_LVT_LINT1), X86_APIC_DM_NMI));
}
