/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A vCPU's CPUID, from what KVM supports (KVM_GET_SUPPORTED_CPUID), adjusted
 * per vCPU: APIC ids, topology leaves for nr_cpus single-thread cores in one
 * package, the hypervisor bit, and KVM's paravirtual leaves kept so the guest
 * uses kvmclock.
 */
#ifndef PETREL_ARCH_X86_CPUID_H
#define PETREL_ARCH_X86_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Features KVM emulates but does not list in KVM_GET_SUPPORTED_CPUID. */
#define X86_CPUID_TSC_DEADLINE 0x1u /* KVM_CAP_TSC_DEADLINE_TIMER with an in-kernel LAPIC */
/*
 * Machine checks set up (KVM_X86_SETUP_MCE): MCE and MCA in leaf 1, and on AMD
 * the recovery features of leaf 0x80000007 (MCA overflow recovery, SUCCOR) so
 * that Linux kills the user process that consumed poisoned memory instead of
 * panicking. Without it MCE and MCA are cleared.
 */
#define X86_CPUID_MCA 0x2u

void x86_cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned int nent, unsigned int cpu,
		      unsigned int nr_cpus, unsigned int extra);

/*
 * The processor brand string (leaves 0x80000002-4, 48 bytes) where KVM left
 * it empty: the guest's /proc/cpuinfo then names the host's processor, as
 * under QEMU's -cpu host. Leaves KVM filled, or does not list, stay as they are.
 */
void x86_cpuid_fill_brand(struct kvm_cpuid_entry2 *e, unsigned int nent, const uint32_t brand[12]);
/* The host processor's brand string leaves (zeros where it has none). */
void x86_cpuid_host_brand(uint32_t brand[12]);

/* Does the CPUID describe an AMD (or Hygon) processor (leaf 0's vendor)? */
bool x86_cpuid_is_amd(struct kvm_cpuid_entry2 *e, unsigned int nent);

/* Find a leaf (and sub-leaf, for indexed leaves); NULL if absent. */
struct kvm_cpuid_entry2 *x86_cpuid_find(struct kvm_cpuid_entry2 *e, unsigned int nent,
					uint32_t function, uint32_t index);

/*
 * Can a host whose KVM supports @host (KVM_GET_SUPPORTED_CPUID, adjusted
 * with every feature petrel may add) run a guest that was given @guest? The
 * feature leaves (1, 7.0, 7.1, 0xd.0, 0xd.1, 0x80000001, 0x80000007,
 * 0x80000008 ebx) are compared bit by bit, apart from the bits that follow
 * the guest's own state (OSXSAVE, the hypervisor bit). Returns true, or
 * false with @what naming the first missing bit ("leaf 0x7.0 ebx bit 5").
 */
bool x86_cpuid_runs_on(const struct kvm_cpuid_entry2 *guest, unsigned int nguest,
		       struct kvm_cpuid_entry2 *host, unsigned int nhost, char *what, size_t len);

#endif
