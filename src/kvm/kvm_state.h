/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The whole architectural state of a vCPU and of the VM's in-kernel devices,
 * read out and put back: the base of snapshots and live migration.
 */
#ifndef PETREL_KVM_KVM_STATE_H
#define PETREL_KVM_KVM_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "kvm/kvm_vcpu.h"

#define KVM_STATE_MAX_MSRS 64

struct kvm_vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[KVM_STATE_MAX_MSRS];
	bool has_xsave, has_xcrs, has_lapic, has_events, has_debugregs;
};

struct kvm_vm_state {
	struct kvm_irqchip pic_master, pic_slave, ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	bool has_irqchip, has_pit;
};

/* The MSRs saved with every vCPU (fills idx, returns the count). */
unsigned int kvm_state_msr_list(uint32_t *idx, unsigned int max);
int kvm_vcpu_state_save(struct kvm_vcpu *v, struct kvm_vcpu_state *s);
int kvm_vcpu_state_restore(struct kvm_vcpu *v, const struct kvm_vcpu_state *s);
int kvm_vm_state_save(struct kvm_vm *vm, struct kvm_vm_state *s);
int kvm_vm_state_restore(struct kvm_vm *vm, const struct kvm_vm_state *s);

#endif
