/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest debugging through KVM_SET_GUEST_DEBUG: single-step, hardware
 * breakpoints and watchpoints in the four debug registers, and intercepting
 * int3 for software breakpoints.
 */
#ifndef PETREL_KVM_KVM_DEBUG_H
#define PETREL_KVM_KVM_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm/kvm_vcpu.h"

#define KVM_DEBUG_NR_HW 4

struct kvm_debug_config {
	bool enable;
	bool single_step;
	bool sw_breakpoints; /* intercept int3 */
	uint64_t dr[KVM_DEBUG_NR_HW];
	uint64_t dr7; /* 0: no hardware breakpoints */
};

/* What a KVM_EXIT_DEBUG reported. */
struct kvm_debug_exit {
	uint32_t exception; /* 1: #DB, 3: #BP */
	uint64_t pc;
	uint64_t dr6;
	uint64_t dr7;
};

int kvm_debug_set(struct kvm_vcpu *v, const struct kvm_debug_config *cfg);
void kvm_debug_exit_info(struct kvm_vcpu *v, struct kvm_debug_exit *out);
/* Re-inject an exception the debugger did not own (an int3 of the guest's). */
int kvm_debug_reinject(struct kvm_vcpu *v, uint8_t vector);

#endif
