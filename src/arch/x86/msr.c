// SPDX-License-Identifier: GPL-2.0-only
/* Boot-time MSR values. */
#include "arch/x86/msr.h"

static const struct {
	uint32_t index;
	uint64_t value;
} boot_msrs[] = {
    {X86_MSR_IA32_SYSENTER_CS, 0},
    {X86_MSR_IA32_SYSENTER_ESP, 0},
    {X86_MSR_IA32_SYSENTER_EIP, 0},
    {X86_MSR_STAR, 0},
    {X86_MSR_CSTAR, 0},
    {X86_MSR_KERNEL_GS_BASE, 0},
    {X86_MSR_SYSCALL_MASK, 0},
    {X86_MSR_LSTAR, 0},
    {X86_MSR_IA32_TSC, 0},
    /* Fast string operations, as every BIOS enables them. */
    {X86_MSR_IA32_MISC_ENABLE, X86_MISC_ENABLE_FAST_STRING},
    /* MTRRs on, all memory write-back unless a variable range says otherwise. */
    {X86_MSR_MTRR_DEF_TYPE, X86_MTRR_ENABLE | X86_MTRR_TYPE_WB},
};

unsigned int x86_msr_boot_entries(struct kvm_msr_entry *e, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < sizeof(boot_msrs) / sizeof(boot_msrs[0]) && i < max; i++) {
		e[i].index = boot_msrs[i].index;
		e[i].reserved = 0;
		e[i].data = boot_msrs[i].value;
	}
	return i;
}
