// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPU and VM state read out and put back on this machine's /dev/kvm, field
 * by field: a vCPU given a CPUID runs a real-mode IN and is stopped at its
 * I/O exit; the saved state shows the IN finished (its data in AL, RIP past
 * it); the vCPU is overwritten and restored; a second vCPU takes the whole
 * state, as a restore into a new VM would, and both read back the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kvm/kvm_state.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL: %s (line %d)\n", #cond, __LINE__);                  \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define RAM 0x10000
#define CODE 0x1000

static struct kvm_vcpu_state a, b, c;

static void on_pio(void *opaque, struct kvm_vcpu *v, uint16_t port, bool in, unsigned int size,
		   uint8_t *data)
{
	if (in && port == 0x80)
		data[0] = 0x5a;
	v->stop_loop = true; /* the exit handled, its instruction not yet finished */
}

static void on_mmio(void *opaque, struct kvm_vcpu *v, uint64_t addr, bool write, unsigned int len,
		    uint8_t *data)
{
}

static const struct kvm_exit_ops ops = {.pio = on_pio, .mmio = on_mmio};

/* Everything but the TSC, which moves on, must read back identical. */
static int same(const struct kvm_vcpu_state *x, const struct kvm_vcpu_state *y)
{
	unsigned int i;

	CHECK(!memcmp(&x->regs, &y->regs, sizeof(x->regs)));
	CHECK(x->sregs.cr0 == y->sregs.cr0 && x->sregs.cs.base == y->sregs.cs.base &&
	      x->sregs.cs.selector == y->sregs.cs.selector &&
	      x->sregs.apic_base == y->sregs.apic_base && x->sregs.efer == y->sregs.efer);
	CHECK(x->mp_state.mp_state == y->mp_state.mp_state);
	CHECK(x->has_lapic == y->has_lapic &&
	      (!x->has_lapic || !memcmp(x->lapic.regs, y->lapic.regs, 0x300)));
	CHECK(x->has_xsave == y->has_xsave && x->xsave_len == y->xsave_len &&
	      !memcmp(x->xsave, y->xsave, x->xsave_len));
	CHECK(x->nr_cpuid == y->nr_cpuid &&
	      !memcmp(x->cpuid, y->cpuid, x->nr_cpuid * sizeof(x->cpuid[0])));
	CHECK(x->tsc_khz == y->tsc_khz);
	CHECK(x->nr_msrs == y->nr_msrs);
	for (i = 0; i < x->nr_msrs; i++) {
		CHECK(x->msrs[i].index == y->msrs[i].index);
		if (x->msrs[i].index != KVM_MSR_IA32_TSC)
			CHECK(x->msrs[i].data == y->msrs[i].data);
	}
	CHECK(x->has_events == y->has_events && x->events.nmi.pending == y->events.nmi.pending &&
	      x->events.interrupt.shadow == y->events.interrupt.shadow);
	CHECK(!x->has_debugregs ||
	      !memcmp(x->debugregs.db, y->debugregs.db, sizeof(x->debugregs.db)));
	return 0;
}

int main(void)
{
	static struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[KVM_STATE_MAX_CPUID];
	} cpuid;
	static const uint8_t code[] = {0xe4, 0x80, 0xf4}; /* in al, 0x80; hlt */
	struct kvm_sys sys;
	struct kvm_vm vm;
	struct kvm_vcpu v0, v1;
	struct kvm_vm_state vs;
	struct kvm_sregs *sr;
	struct kvm_regs *r;
	uint8_t *ram;
	int ev;

	CHECK(kvm_sys_open(&sys, NULL) == 0);
	CHECK(kvm_vm_create(&vm, &sys) == 0);
	CHECK(kvm_vm_setup_x86(&vm, true) == 0);
	ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ram != MAP_FAILED);
	memcpy(ram + CODE, code, sizeof(code));
	CHECK(kvm_mem_add(&vm, 0, RAM, ram, false) == 0);
	CHECK(kvm_vcpu_create(&v0, &vm, 0) == 0);
	CHECK(kvm_vcpu_create(&v1, &vm, 1) == 0);
	cpuid.hdr.nent = KVM_STATE_MAX_CPUID;
	CHECK(ioctl(sys.fd, KVM_GET_SUPPORTED_CPUID, &cpuid) == 0);
	CHECK(kvm_vcpu_ioctl(&v0, KVM_SET_CPUID2, &cpuid) == 0);
	CHECK(kvm_vcpu_ioctl(&v1, KVM_SET_CPUID2, &cpuid) == 0);

	sr = kvm_vcpu_sregs(&v0);
	sr->cs.base = 0;
	sr->cs.selector = 0;
	kvm_vcpu_sregs_dirty(&v0);
	r = kvm_vcpu_regs(&v0);
	r->rip = CODE;
	r->rax = 0x1111222233334400ULL;
	r->r15 = 0xfeedface;
	r->rflags = 0x2;
	kvm_vcpu_regs_dirty(&v0);
	ev = kvm_vcpu_run(&v0, &ops, NULL);
	CHECK(ev == KVM_EV_STOP);
	CHECK(v0.exit_unfinished);
	CHECK(kvm_vcpu_state_save(&v0, &a) == 0);
	/* settled: the IN finished, the vCPU did not go on to the HLT */
	CHECK(!v0.exit_unfinished);
	CHECK(a.regs.rip == CODE + 2);
	CHECK(a.regs.rax == 0x111122223333445aULL);
	CHECK(a.regs.r15 == 0xfeedface);
	CHECK(a.nr_cpuid == cpuid.hdr.nent);
	CHECK(a.nr_msrs >= 10);
	CHECK(a.msrs[0].index == KVM_MSR_IA32_TSC);
	CHECK(a.has_lapic);

	/* scribble, then restore */
	r = kvm_vcpu_regs(&v0);
	r->rax = 0;
	r->rip = 0;
	kvm_vcpu_regs_dirty(&v0);
	CHECK(kvm_vcpu_regs_flush(&v0) == 0);
	CHECK(kvm_vcpu_state_restore(&v0, &a) == 0);
	CHECK(kvm_vcpu_state_save(&v0, &b) == 0);
	CHECK(same(&a, &b) == 0);

	/* vCPU 1 takes vCPU 0's whole state */
	CHECK(kvm_vcpu_state_restore(&v1, &a) == 0);
	CHECK(kvm_vcpu_state_save(&v1, &c) == 0);
	CHECK(kvm_vcpu_regs(&v1)->r15 == 0xfeedface);
	/* the LAPIC's ID is the vCPU's own: compare the rest */
	c.lapic = a.lapic;
	CHECK(same(&a, &c) == 0);

	CHECK(kvm_vm_state_save(&vm, &vs) == 0);
	CHECK(vs.has_irqchip);
	CHECK(kvm_vm_state_restore(&vm, &vs) == 0);
	printf("state round trip: %u MSRs, %u CPUID leaves, lapic %s, xsave %u bytes, events %s, "
	       "TSC %u kHz: ok\n",
	       a.nr_msrs, a.nr_cpuid, a.has_lapic ? "yes" : "no", a.xsave_len,
	       a.has_events ? "yes" : "no", a.tsc_khz);
	kvm_vcpu_destroy(&v0);
	kvm_vcpu_destroy(&v1);
	kvm_vm_destroy(&vm);
	kvm_sys_close(&sys);
	munmap(ram, RAM);
	return 0;
}
