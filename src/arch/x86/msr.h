/* SPDX-License-Identifier: GPL-2.0-only */
/* The MSRs a vCPU starts with, as firmware would leave them for a kernel. */
#ifndef PETREL_ARCH_X86_MSR_H
#define PETREL_ARCH_X86_MSR_H

#include <linux/kvm.h>
#include <stdint.h>

#define X86_MSR_IA32_TSC 0x10
#define X86_MSR_IA32_APICBASE 0x1b
#define X86_MSR_IA32_SYSENTER_CS 0x174
#define X86_MSR_IA32_SYSENTER_ESP 0x175
#define X86_MSR_IA32_SYSENTER_EIP 0x176
#define X86_MSR_IA32_MISC_ENABLE 0x1a0
#define X86_MSR_MTRR_DEF_TYPE 0x2ff
#define X86_MSR_STAR 0xc0000081
#define X86_MSR_LSTAR 0xc0000082
#define X86_MSR_CSTAR 0xc0000083
#define X86_MSR_SYSCALL_MASK 0xc0000084
#define X86_MSR_KERNEL_GS_BASE 0xc0000102

#define X86_MISC_ENABLE_FAST_STRING (1ULL << 0)
#define X86_MTRR_ENABLE (1ULL << 11)
#define X86_MTRR_TYPE_WB 6

/* Fill at most max entries; returns how many. */
unsigned int x86_msr_boot_entries(struct kvm_msr_entry *e, unsigned int max);

#endif
