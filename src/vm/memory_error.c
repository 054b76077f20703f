// SPDX-License-Identifier: GPL-2.0-only
/* Host memory errors in guest RAM become the guest's machine checks. */
#include "vm/memory_error.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm/kvm_mce.h"
#include "vm/machine.h"

#define CR4_MCE (1ULL << 6)

void vm_memerr_init(struct vm_memerr *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
}

void vm_memerr_destroy(struct vm_memerr *e)
{
	pthread_mutex_destroy(&e->lock);
}

/* Remember a poisoned page; returns its action-required hits, this one included. */
static unsigned int remember(struct vm_memerr *e, uint64_t gpa, bool hit)
{
	unsigned int i, hits = 0;

	pthread_mutex_lock(&e->lock);
	for (i = 0; i < e->nr_pages && e->pages[i].gpa != gpa; i++)
		;
	if (i == e->nr_pages) {
		if (e->nr_pages < VM_POISON_MAX)
			e->pages[e->nr_pages++].gpa = gpa;
		else
			e->untracked++;
	}
	if (i < e->nr_pages) {
		e->pages[i].hits += hit;
		hits = e->pages[i].hits;
	}
	pthread_mutex_unlock(&e->lock);
	return hits;
}

static enum kvm_sigbus_verdict translate(struct machine *m, struct kvm_vcpu *kv, int code,
					 void *hva, uint64_t *gpa, struct kvm_x86_mce *mce)
{
	enum kvm_sigbus_verdict verdict;

	pthread_mutex_lock(&m->vm.slots_lock);
	verdict = kvm_mce_from_sigbus(&m->vm.slots, code, hva, kv->mcg_cap, kv->mce_amd, gpa, mce);
	pthread_mutex_unlock(&m->vm.slots_lock);
	return verdict;
}

static void stop_for(struct machine *m, int code, void *hva, enum kvm_sigbus_verdict verdict,
		     uint64_t gpa)
{
	switch (verdict) {
	case KVM_SIGBUS_NO_MCE:
		fprintf(stderr,
			"petrel: host memory error (%s) in guest RAM at 0x%llx: this host's KVM "
			"gives guests no machine checks: stopping\n",
			kvm_sigbus_code_name(code), (unsigned long long)gpa);
		break;
	case KVM_SIGBUS_NOT_RAM:
		fprintf(stderr,
			"petrel: host memory error (%s) at host address %p, outside guest RAM: "
			"stopping\n",
			kvm_sigbus_code_name(code), hva);
		break;
	default:
		fprintf(stderr, "petrel: SIGBUS (%s) at host address %p: stopping\n",
			kvm_sigbus_code_name(code), hva);
		break;
	}
	machine_request_stop(m, VM_EXIT_ERROR);
}

/* Queue a record for vCPU i (its thread injects it); false when its queue is full. */
static bool queue_for(struct machine *m, unsigned int i, const struct kvm_x86_mce *mce)
{
	struct vm_mce_queue *q = &m->vcpus[i].mce;
	bool ok = false;

	pthread_mutex_lock(&m->memerr.lock);
	if (q->n < VM_MCE_QUEUE) {
		q->rec[q->n] = *mce;
		__atomic_store_n(&q->n, q->n + 1, __ATOMIC_RELEASE);
		ok = true;
	}
	pthread_mutex_unlock(&m->memerr.lock);
	return ok;
}

/* An Intel guest's handler waits for every CPU: give the others theirs. */
static void broadcast(struct machine *m, unsigned int except, const struct kvm_x86_mce *mce)
{
	struct kvm_vcpu *kv = &m->vcpus[except].kvm;
	struct kvm_x86_mce other;
	unsigned int i;

	if (m->nr_vcpus < 2 || !kvm_mce_needs_broadcast(mce, kv->mce_amd) ||
	    kvm_mce_broadcast_record(&other, kv->mcg_cap) < 0)
		return;
	for (i = 0; i < m->nr_vcpus; i++) {
		if (i == except)
			continue;
		if (queue_for(m, i, &other))
			kvm_vcpu_kick(&m->vcpus[i].kvm);
	}
}

void vm_memerr_on_vcpu(struct vm_vcpu *v)
{
	struct machine *m = v->m;
	struct kvm_x86_mce mce;
	enum kvm_sigbus_verdict verdict;
	uint64_t gpa = 0;
	unsigned int hits;
	int ret;

	verdict = translate(m, &v->kvm, BUS_MCEERR_AR, v->kvm.mem_error_hva, &gpa, &mce);
	if (verdict != KVM_SIGBUS_INJECT) {
		stop_for(m, BUS_MCEERR_AR, v->kvm.mem_error_hva, verdict, gpa);
		return;
	}
	hits = remember(&m->memerr, gpa, true);
	if (hits > VM_POISON_HITS) {
		fprintf(stderr,
			"petrel: vCPU %u: the guest touched the bad page at 0x%llx %u times after "
			"its machine checks: stopping\n",
			v->kvm.id, (unsigned long long)gpa, hits);
		machine_request_stop(m, VM_EXIT_ERROR);
		return;
	}
	/* A guest that has not enabled machine checks would take a triple fault. */
	if (!(kvm_vcpu_sregs(&v->kvm)->cr4 & CR4_MCE)) {
		fprintf(stderr,
			"petrel: vCPU %u: host memory error in guest RAM at 0x%llx, and the guest "
			"has not enabled machine checks: stopping\n",
			v->kvm.id, (unsigned long long)gpa);
		machine_request_stop(m, VM_EXIT_ERROR);
		return;
	}
	broadcast(m, v->kvm.id, &mce);
	ret = kvm_vcpu_mce_inject(&v->kvm, &mce);
	if (ret < 0) {
		fprintf(stderr, "petrel: vCPU %u: KVM_X86_SET_MCE: %s\n", v->kvm.id,
			strerror(-ret));
		machine_request_stop(m, VM_EXIT_ERROR);
		return;
	}
	v->mce.raised = true;
	fprintf(stderr,
		"petrel: host memory error in guest RAM at 0x%llx, touched by vCPU %u: machine "
		"check injected\n",
		(unsigned long long)gpa, v->kvm.id);
}

void vm_memerr_on_signal(struct machine *m)
{
	struct kvm_x86_mce mce;
	enum kvm_sigbus_verdict verdict;
	unsigned int lost, all_lost = 0;
	uint64_t gpa = 0, count;
	void *hva;

	if (read(kvm_sigbus_eventfd(), &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	while (m->nr_vcpus && kvm_sigbus_take_ao(&hva, &lost)) {
		all_lost += lost;
		verdict = translate(m, &m->vcpus[0].kvm, BUS_MCEERR_AO, hva, &gpa, &mce);
		if (verdict != KVM_SIGBUS_INJECT) {
			stop_for(m, BUS_MCEERR_AO, hva, verdict, gpa);
			return;
		}
		remember(&m->memerr, gpa, false);
		fprintf(stderr,
			"petrel: host memory error in guest RAM at 0x%llx, before any use: "
			"reported to the guest on vCPU 0\n",
			(unsigned long long)gpa);
		if (!queue_for(m, 0, &mce)) {
			all_lost++;
			continue;
		}
		broadcast(m, 0, &mce);
		kvm_vcpu_kick(&m->vcpus[0].kvm);
	}
	kvm_sigbus_take_ao(&hva, &lost);
	all_lost += lost;
	if (all_lost)
		fprintf(stderr,
			"petrel: %u host memory errors came faster than they could be reported: "
			"the guest learns of those pages when it touches them\n",
			all_lost);
}

void vm_memerr_inject_queued(struct vm_vcpu *v)
{
	struct vm_memerr *e = &v->m->memerr;
	struct kvm_x86_mce q[VM_MCE_QUEUE];
	bool raised = v->mce.raised;
	unsigned int i, n;
	int ret;

	v->mce.raised = false;
	if (!__atomic_load_n(&v->mce.n, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&e->lock);
	n = v->mce.n;
	memcpy(q, v->mce.rec, n * sizeof(q[0]));
	v->mce.n = 0;
	pthread_mutex_unlock(&e->lock);
	for (i = 0; i < n; i++) {
		/*
		 * An exception needs the guest's machine checks enabled, and one at a
		 * time: a second before the guest's handler ends (MCIP) is a triple
		 * fault. A
		 * logged error needs neither. What is skipped reaches the guest as an
		 * action-required error if it ever touches the page.
		 */
		if ((q[i].status & MCI_STATUS_UC) &&
		    (raised || !(kvm_vcpu_sregs(&v->kvm)->cr4 & CR4_MCE) ||
		     kvm_vcpu_mce_in_progress(&v->kvm))) {
			fprintf(stderr,
				"petrel: vCPU %u cannot take a machine check now: the bad page at "
				"0x%llx is reported when it is touched\n",
				v->kvm.id, (unsigned long long)q[i].addr);
			continue;
		}
		raised |= !!(q[i].status & MCI_STATUS_UC);
		ret = kvm_vcpu_mce_inject(&v->kvm, &q[i]);
		if (ret < 0)
			fprintf(stderr, "petrel: vCPU %u: KVM_X86_SET_MCE: %s\n", v->kvm.id,
				strerror(-ret));
	}
}
