// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPU and VM state read out and put back on this machine's /dev/kvm: a
 * vCPU's registers, MSRs and LAPIC survive being overwritten and restored,
 * and a second vCPU takes over the first one's whole state.
 */
#include <stdio.h>
#include <string.h>

#include "kvm/kvm_state.h"

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "FAIL: %s (line %d)\n", #cond, __LINE__);     \
			return 1;                                                     \
		}                                                                     \
	} while (0)

static struct kvm_vcpu_state a, b;

int main(void)
{
	struct kvm_sys sys;
	struct kvm_vm vm;
	struct kvm_vcpu v0, v1;
	struct kvm_vm_state vs;
	struct kvm_regs *r;
	unsigned int i;

	CHECK(kvm_sys_open(&sys, NULL) == 0);
	CHECK(kvm_vm_create(&vm, &sys) == 0);
	CHECK(kvm_vm_setup_x86(&vm, true) == 0);
	CHECK(kvm_vcpu_create(&v0, &vm, 0) == 0);
	CHECK(kvm_vcpu_create(&v1, &vm, 1) == 0);

	r = kvm_vcpu_regs(&v0);
	r->rax = 0x1111222233334444ULL;
	r->r15 = 0xfeedface;
	r->rip = 0x1234;
	r->rflags = 0x202;
	kvm_vcpu_regs_dirty(&v0);
	CHECK(kvm_vcpu_state_save(&v0, &a) == 0);
	CHECK(a.regs.rax == 0x1111222233334444ULL && a.regs.rip == 0x1234);
	CHECK(a.nr_msrs >= 10);
	CHECK(a.has_lapic);

	/* scribble, then restore */
	r = kvm_vcpu_regs(&v0);
	r->rax = 0;
	r->rip = 0;
	kvm_vcpu_regs_dirty(&v0);
	CHECK(kvm_vcpu_regs_flush(&v0) == 0);
	CHECK(kvm_vcpu_state_restore(&v0, &a) == 0);
	CHECK(kvm_vcpu_state_save(&v0, &b) == 0);
	CHECK(memcmp(&a.regs, &b.regs, sizeof(a.regs)) == 0);
	CHECK(a.sregs.cr0 == b.sregs.cr0 && a.sregs.cs.base == b.sregs.cs.base);
	CHECK(a.nr_msrs == b.nr_msrs);
	for (i = 0; i < a.nr_msrs; i++) {
		/* the TSC moves on; everything else must be identical */
		if (a.msrs[i].index != 0x10)
			CHECK(a.msrs[i].data == b.msrs[i].data);
	}

	/* vCPU 1 takes vCPU 0's state, as a restore into a new VM would */
	CHECK(kvm_vcpu_state_restore(&v1, &a) == 0);
	CHECK(kvm_vcpu_regs(&v1)->r15 == 0xfeedface);

	CHECK(kvm_vm_state_save(&vm, &vs) == 0);
	CHECK(vs.has_irqchip);
	CHECK(kvm_vm_state_restore(&vm, &vs) == 0);
	printf("state round trip: %u MSRs, lapic %s, xsave %s, events %s: ok\n", a.nr_msrs,
	       a.has_lapic ? "yes" : "no", a.has_xsave ? "yes" : "no", a.has_events ? "yes" : "no");
	kvm_vcpu_destroy(&v0);
	kvm_vcpu_destroy(&v1);
	kvm_vm_destroy(&vm);
	kvm_sys_close(&sys);
	return 0;
}
