/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host memory errors turned into guest machine checks.
 *
 * When the host kernel finds a hardware error in a page of guest RAM it sends
 * petrel a SIGBUS: BUS_MCEERR_AR to the vCPU thread whose guest access hit the
 * page (KVM_RUN returns for the signal, the access not done), BUS_MCEERR_AO to
 * one thread when the page was found bad before anyone used it. petrel gives
 * the guest the machine check a real CPU would have raised (KVM_X86_SET_MCE),
 * so the guest kernel takes the page out of use and kills what used it, and
 * the machine goes on.
 *
 * The decision (which SIGBUS is a guest memory error, and the MCA bank
 * record for it) is pure and unit-tested; the signal handler only records and
 * wakes, the vCPU threads inject.
 */
#ifndef PETREL_KVM_KVM_MCE_H
#define PETREL_KVM_KVM_MCE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm/kvm_slots.h"

/* IA32_MCG_CAP: bank count in bits 7:0, and features. */
#define MCG_BANKCNT_MASK 0xffULL
#define MCG_CTL_P (1ULL << 8)  /* IA32_MCG_CTL present */
#define MCG_SER_P (1ULL << 24) /* software error recovery (S and AR bits) */

/* IA32_MCG_STATUS */
#define MCG_STATUS_RIPV (1ULL << 0) /* restarting at the saved RIP is valid */
#define MCG_STATUS_EIPV (1ULL << 1) /* the saved RIP is the instruction in error */
#define MCG_STATUS_MCIP (1ULL << 2) /* machine check in progress */

/* IA32_MCi_STATUS */
#define MCI_STATUS_VAL (1ULL << 63)
#define MCI_STATUS_OVER (1ULL << 62)
#define MCI_STATUS_UC (1ULL << 61)
#define MCI_STATUS_EN (1ULL << 60)
#define MCI_STATUS_MISCV (1ULL << 59)
#define MCI_STATUS_ADDRV (1ULL << 58)
#define MCI_STATUS_PCC (1ULL << 57)
#define MCI_STATUS_S (1ULL << 56)
#define MCI_STATUS_AR (1ULL << 55)
#define MCI_STATUS_DEFERRED (1ULL << 44) /* AMD */
#define MCI_STATUS_POISON (1ULL << 43)	 /* AMD: the data was poisoned */

/* MCA error codes (bits 15:0) of the software-recoverable memory errors. */
#define MCACOD_DATA_LOAD 0x0134 /* SRAR: data load */
#define MCACOD_SCRUB 0x00c0	/* SRAO: found by memory scrubbing */

/* IA32_MCi_MISC: bits 5:0 the address's least significant valid bit, 8:6 its mode. */
#define MCI_MISC_ADDR_PHYS 2ULL
#define MCI_MISC(lsb) ((MCI_MISC_ADDR_PHYS << 6) | ((lsb)&0x3f))

/* Banks petrel gives a guest (at most what KVM offers). */
#define KVM_MCE_BANKS 10

/*
 * The MCG_CAP a vCPU gets from what the host offers: banks from
 * KVM_CAP_MCE's count (at most KVM_MCE_BANKS) and MCG_CTL_P and MCG_SER_P
 * when offered. 0 when there are no banks (no machine checks).
 */
uint64_t kvm_mce_pick_cap(int max_banks, uint64_t supported);

enum kvm_mce_kind {
	KVM_MCE_ACTION_REQUIRED, /* the guest consumed the data: BUS_MCEERR_AR */
	KVM_MCE_ACTION_OPTIONAL, /* found before use: BUS_MCEERR_AO */
};

/*
 * The bank record for an error in the guest page at gpa, on a vCPU with
 * mcg_cap. The guest's vendor matters: AMD's Linux wants the POISON bit on an
 * action-required error, and an action-optional one is a deferred error
 * logged in the bank (no exception) since AMD has no SRAO class. The record
 * goes in the last bank (AMD's logged one in the one before, where an
 * action-required error does not overwrite it). -EINVAL when mcg_cap has no
 * banks.
 */
int kvm_mce_record(struct kvm_x86_mce *mce, enum kvm_mce_kind kind, uint64_t gpa, uint64_t mcg_cap,
		   bool amd);

/*
 * Intel processors signal a machine check to every logical processor, and
 * Linux waits (a second, then panics) for all its CPUs to enter the handler.
 * True when the record raises an exception (UC) on an Intel-like guest: the
 * other vCPUs must then get kvm_mce_broadcast_record. AMD's are local.
 */
bool kvm_mce_needs_broadcast(const struct kvm_x86_mce *mce, bool amd);
/*
 * What the other vCPUs of a broadcast get: a valid uncorrected error with
 * EN clear (the guest counts it as "not enabled", nothing to act on) in bank
 * 1, restartable. -EINVAL when mcg_cap has fewer than two banks.
 */
int kvm_mce_broadcast_record(struct kvm_x86_mce *mce, uint64_t mcg_cap);

/* What to do with a SIGBUS. */
enum kvm_sigbus_verdict {
	KVM_SIGBUS_INJECT,  /* a guest memory error: inject the record */
	KVM_SIGBUS_NOT_MCE, /* not a memory error (a bad file mapping, kill -BUS) */
	KVM_SIGBUS_NOT_RAM, /* a memory error outside guest RAM: petrel's own memory */
	KVM_SIGBUS_NO_MCE,  /* guest RAM, but this host's KVM gives no machine checks */
};

/*
 * Decide on a SIGBUS of si_code code at host address hva against the slot
 * table: on KVM_SIGBUS_INJECT fill *gpa (page aligned) and *mce. Pure.
 */
enum kvm_sigbus_verdict kvm_mce_from_sigbus(const struct kvm_slot_table *t, int code,
					    const void *hva, uint64_t mcg_cap, bool amd,
					    uint64_t *gpa, struct kvm_x86_mce *mce);

/* "BUS_MCEERR_AR", "BUS_ADRERR", "SI_USER"... for messages. */
const char *kvm_sigbus_code_name(int code);

struct kvm_sys;
struct kvm_vcpu;

/* The MCG_CAP the host supports for guests (0: no machine checks). */
uint64_t kvm_mce_host_cap(const struct kvm_sys *sys);
/* KVM_X86_SETUP_MCE; remembers the cap in the vCPU. */
int kvm_vcpu_mce_setup(struct kvm_vcpu *v, uint64_t mcg_cap, bool amd);
/* Is the guest inside its machine-check handler (MCG_STATUS.MCIP)? false if unknown. */
bool kvm_vcpu_mce_in_progress(struct kvm_vcpu *v);
/* KVM_X86_SET_MCE, from the vCPU's own thread while it is out of KVM_RUN. */
int kvm_vcpu_mce_inject(struct kvm_vcpu *v, const struct kvm_x86_mce *mce);

/*
 * The SIGBUS handler (kvm_sigbus.c), installed once per process.
 *
 * BUS_MCEERR_AR in a thread inside KVM_RUN is kept for that thread:
 * kvm_vcpu_run returns KVM_EV_MEMORY_ERROR with the address in the vCPU.
 * BUS_MCEERR_AO is queued (a few at a time) and the eventfd from
 * kvm_sigbus_eventfd becomes readable; kvm_sigbus_take_ao drains the queue.
 * Any other SIGBUS cannot be returned from (the access would fault again):
 * petrel prints one line and exits with status 1, after calling cleanup
 * (which must be async-signal-safe: restoring the terminal, removing the API
 * socket; it may end petrel itself, with status 1).
 *
 * It also asks the kernel for early notice of errors in petrel's memory
 * (PR_MCE_KILL_EARLY), unless the process was started with a policy chosen.
 */
int kvm_sigbus_init(void (*cleanup)(void));
int kvm_sigbus_eventfd(void);
/* Take one queued action-optional address; false when none. *lost counts dropped ones. */
bool kvm_sigbus_take_ao(void **hva, unsigned int *lost);
/* Mark the calling thread as entering or leaving KVM_RUN (kvm_run.c). */
void kvm_sigbus_enter_run(void);
/* Leaving KVM_RUN: true, with the address, when an action-required error arrived. */
bool kvm_sigbus_leave_run(void **hva);

#endif
