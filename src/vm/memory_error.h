/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host memory errors in guest RAM, on a machine: each becomes a machine check
 * in the guest (src/kvm/kvm_mce.h), injected by a vCPU thread on itself.
 *
 * - Action required (the guest touched the page): the vCPU thread that got
 *   the SIGBUS injects at once and re-enters the guest.
 * - Action optional (found before use, delivered to any thread): the I/O
 *   thread translates it and queues it for vCPU 0, kicks it, and vCPU 0
 *   injects before it next enters the guest.
 * - On an Intel guest a machine check reaches every CPU (Linux waits for them
 *   all in its handler): the other vCPUs get a record with nothing to act on,
 *   queued and kicked the same way.
 * - What cannot be given to the guest (no machine checks on this host, the
 *   guest has not enabled them, an address outside guest RAM, a page the guest
 *   keeps touching after its machine check) stops the machine with status 1
 *   and one line saying why.
 *
 * The poisoned pages are remembered (a bounded list). A guest reboot builds a
 * new machine with new RAM, so the rebooted guest never meets them; a
 * snapshot must save the list, and its restore must poison those pages again
 * (inject an action-optional error for each) so the guest keeps avoiding them.
 */
#ifndef PETREL_VM_MEMORY_ERROR_H
#define PETREL_VM_MEMORY_ERROR_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VM_POISON_MAX 64  /* poisoned pages remembered */
#define VM_POISON_HITS 16 /* action-required errors on one page before giving up */
#define VM_MCE_QUEUE 4	  /* machine checks waiting for one vCPU */

struct vm_poisoned_page {
	uint64_t gpa;
	unsigned int hits; /* action-required errors the guest took on it */
};

struct vm_memerr {
	pthread_mutex_t lock;
	struct vm_poisoned_page pages[VM_POISON_MAX];
	unsigned int nr_pages;
	unsigned int untracked; /* errors past VM_POISON_MAX */
};

/* Machine checks for one vCPU to inject on itself (in struct vm_vcpu). */
struct vm_mce_queue {
	struct kvm_x86_mce rec[VM_MCE_QUEUE];
	unsigned int n; /* under vm_memerr.lock; read without it as a hint */
	bool raised;	/* the vCPU's thread raised one for its next entry already */
};

struct machine;
struct vm_vcpu;

void vm_memerr_init(struct vm_memerr *e);
void vm_memerr_destroy(struct vm_memerr *e);
/* KVM_EV_MEMORY_ERROR on v's own thread: inject, or stop the machine. */
void vm_memerr_on_vcpu(struct vm_vcpu *v);
/* On the I/O thread when kvm_sigbus_eventfd is readable. */
void vm_memerr_on_signal(struct machine *m);
/* On a vCPU's thread before it enters the guest: inject what is queued for it. */
void vm_memerr_inject_queued(struct vm_vcpu *v);

#endif
