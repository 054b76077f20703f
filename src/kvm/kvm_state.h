/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The whole architectural state of a vCPU and of the VM's in-kernel devices,
 * read out and put back in the order KVM needs: the base of snapshots and
 * live migration.
 *
 * A vCPU is read (stopped, settled: kvm_vcpu_settle) MP state first, then
 * registers, XSAVE (sized by KVM_CAP_XSAVE2), XCRs, LAPIC, every MSR of
 * KVM_GET_MSR_INDEX_LIST that reads back, debug registers, events, the CPUID
 * it was given and its TSC frequency. It is written CPUID and TSC frequency
 * first, then special and general registers (the APIC base, the mode),
 * XSAVE, XCRs, the LAPIC (before the MSRs: a TSC-deadline write is dropped
 * while the LVT timer is not in deadline mode), the MSRs with IA32_TSC first
 * and IA32_TSC_DEADLINE last, debug registers, MP state, and the events last
 * (NMI pending and SIPI vector valid).
 */
#ifndef PETREL_KVM_KVM_STATE_H
#define PETREL_KVM_KVM_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "kvm/kvm_vcpu.h"

#define KVM_STATE_MAX_MSRS 256
#define KVM_STATE_MAX_CPUID 256
#define KVM_STATE_XSAVE_MAX 16384 /* bytes; KVM_CAP_XSAVE2 sizes above it are refused */

#define KVM_MSR_IA32_TSC 0x10
#define KVM_MSR_IA32_TSC_DEADLINE 0x6e0

struct kvm_vcpu_state {
	struct kvm_mp_state mp_state;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu; /* used when there is no XSAVE */
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	uint32_t tsc_khz; /* 0: unknown */
	uint32_t xsave_len;
	uint32_t nr_msrs;
	uint32_t nr_cpuid;
	uint8_t has_xsave, has_xcrs, has_lapic, has_events, has_debugregs, pad[3];
	struct kvm_msr_entry msrs[KVM_STATE_MAX_MSRS]; /* TSC first, TSC_DEADLINE last */
	struct kvm_cpuid_entry2 cpuid[KVM_STATE_MAX_CPUID];
	uint8_t xsave[KVM_STATE_XSAVE_MAX] __attribute__((aligned(64)));
};

struct kvm_vm_state {
	struct kvm_irqchip pic_master, pic_slave, ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	uint8_t has_irqchip, has_pit, pad[6];
};

/*
 * The MSRs worth saving on this host, in restore order (IA32_TSC first,
 * IA32_TSC_DEADLINE last): KVM's index list. Fills @idx, returns the count
 * (at most @max) or -errno.
 */
int kvm_state_msr_list(struct kvm_sys *sys, uint32_t *idx, unsigned int max);
/* The vCPU must be out of KVM_RUN; it is settled first. */
int kvm_vcpu_state_save(struct kvm_vcpu *v, struct kvm_vcpu_state *s);
/* Into a vCPU that has not run, or that ran with the same CPUID. */
int kvm_vcpu_state_restore(struct kvm_vcpu *v, const struct kvm_vcpu_state *s);
int kvm_vm_state_save(struct kvm_vm *vm, struct kvm_vm_state *s);
/* Restore the in-kernel devices, then the clock (last, as KVM documents). */
int kvm_vm_state_restore(struct kvm_vm *vm, const struct kvm_vm_state *s);

#endif
