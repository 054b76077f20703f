/* SPDX-License-Identifier: GPL-2.0-only */
/* Local APIC register set-up at reset, as a PC's firmware leaves it. */
#ifndef PETREL_ARCH_X86_LAPIC_H
#define PETREL_ARCH_X86_LAPIC_H

#include <linux/kvm.h>
#include <stdint.h>

#define X86_APIC_LVT_LINT0 0x350
#define X86_APIC_LVT_LINT1 0x360
#define X86_APIC_DM_NMI 4
#define X86_APIC_DM_EXTINT 7

/* LINT0 delivers the PIC's interrupts (ExtINT), LINT1 NMIs: virtual-wire mode. */
void x86_lapic_setup_lint(struct kvm_lapic_state *lapic);
uint32_t x86_lapic_reg(const struct kvm_lapic_state *lapic, unsigned int off);

#endif
