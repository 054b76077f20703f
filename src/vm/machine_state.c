// SPDX-License-Identifier: GPL-2.0-only
/*
 * The machine's own state sections: its shape, every vCPU, the in-kernel
 * interrupt controllers, timer and clock, the host memory errors it met;
 * then its devices'. Guest RAM is not here (the snapshot's memory file).
 */
#include "vm/machine_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpuid.h"
#include "kvm/kvm_state.h"
#include "vm/devices.h"

#define SEC_MACHINE "machine"
#define SEC_KVM_VM "kvm-vm"
#define SEC_MEMERR "memerr"

/* "machine": what the configuration must reproduce before anything is put back. */
struct machine_sec {
	uint32_t nr_vcpus;
	uint32_t nr_regions;
	uint64_t mem_size;
	uint8_t panicked;
	uint8_t irqchip;
	uint8_t pad[6];
	struct {
		uint64_t gpa, size;
	} regions[GM_MAX_REGIONS];
};

/* "memerr": the poisoned pages (memory_error.h). */
struct memerr_sec {
	uint32_t nr_pages;
	uint32_t untracked;
	struct {
		uint64_t gpa;
		uint32_t hits;
		uint32_t pad;
	} pages[VM_POISON_MAX];
};

static void vcpu_section_name(char *buf, size_t len, unsigned int id)
{
	snprintf(buf, len, "vcpu.%u", id);
}

static void machine_sec_fill(struct machine *m, struct machine_sec *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->nr_vcpus = m->nr_vcpus;
	s->nr_regions = m->mem.nr_regions;
	s->mem_size = m->cfg.mem_size;
	s->panicked = m->panicked;
	s->irqchip = m->vm.irqchip;
	for (i = 0; i < m->mem.nr_regions; i++) {
		s->regions[i].gpa = m->mem.regions[i].gpa;
		s->regions[i].size = m->mem.regions[i].size;
	}
}

static int save_memerr(struct machine *m, const struct vm_state_sink *sink)
{
	struct memerr_sec s;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&m->memerr.lock);
	s.nr_pages = m->memerr.nr_pages;
	s.untracked = m->memerr.untracked;
	for (i = 0; i < m->memerr.nr_pages && i < VM_POISON_MAX; i++) {
		s.pages[i].gpa = m->memerr.pages[i].gpa;
		s.pages[i].hits = m->memerr.pages[i].hits;
	}
	pthread_mutex_unlock(&m->memerr.lock);
	return sink->put(sink->ctx, SEC_MEMERR, 1, &s, sizeof(s));
}

int machine_save_state(struct machine *m, const struct vm_state_sink *sink,
		       struct vm_state_err *err)
{
	struct kvm_vcpu_state *vs;
	struct kvm_vm_state vm;
	struct machine_sec ms;
	char name[VM_STATE_NAME_MAX + 1];
	unsigned int i;
	int ret;

	if (m->state != VM_PAUSED)
		return vm_state_fail(err, -EBUSY, "the machine must be paused to save its state");
	machine_sec_fill(m, &ms);
	ret = sink->put(sink->ctx, SEC_MACHINE, 1, &ms, sizeof(ms));
	if (ret < 0)
		return vm_state_fail(err, ret, "writing the machine's state: %s", strerror(-ret));
	vs = aligned_alloc(64, sizeof(*vs));
	if (!vs)
		return vm_state_fail(err, -ENOMEM, "no memory for a vCPU's state");
	for (i = 0; i < m->nr_vcpus; i++) {
		memset(vs, 0, sizeof(*vs));
		ret = kvm_vcpu_state_save(&m->vcpus[i].kvm, vs);
		if (ret < 0) {
			free(vs);
			return vm_state_fail(err, ret, "reading vCPU %u's state: %s", i,
					     strerror(-ret));
		}
		vcpu_section_name(name, sizeof(name), i);
		ret = sink->put(sink->ctx, name, 1, vs, sizeof(*vs));
		if (ret < 0) {
			free(vs);
			return vm_state_fail(err, ret, "writing vCPU %u's state: %s", i,
					     strerror(-ret));
		}
	}
	free(vs);
	memset(&vm, 0, sizeof(vm));
	ret = kvm_vm_state_save(&m->vm, &vm);
	if (ret < 0)
		return vm_state_fail(err, ret,
				     "reading the VM's interrupt controllers and clock: %s",
				     strerror(-ret));
	ret = sink->put(sink->ctx, SEC_KVM_VM, 1, &vm, sizeof(vm));
	if (ret >= 0)
		ret = save_memerr(m, sink);
	if (ret < 0)
		return vm_state_fail(err, ret, "writing the machine's state: %s", strerror(-ret));
	return vm_devices_save(m, sink, err);
}

/* The saved shape must be the one the configuration built. */
static int check_machine(struct machine *m, const struct vm_state_source *src,
			 struct vm_state_err *err)
{
	struct machine_sec saved, now;
	unsigned int i;
	int ret;

	ret = vm_state_get_exact(src, SEC_MACHINE, 1, &saved, sizeof(saved), err);
	if (ret < 0)
		return ret;
	machine_sec_fill(m, &now);
	if (saved.nr_vcpus != now.nr_vcpus)
		return vm_state_fail(err, -EINVAL,
				     "the snapshot has %u vCPUs where the machine has %u",
				     saved.nr_vcpus, now.nr_vcpus);
	if (saved.mem_size != now.mem_size || saved.nr_regions != now.nr_regions)
		return vm_state_fail(
		    err, -EINVAL,
		    "the snapshot's guest has %llu MiB of RAM where the machine has "
		    "%llu MiB",
		    (unsigned long long)(saved.mem_size >> 20),
		    (unsigned long long)(now.mem_size >> 20));
	for (i = 0; i < now.nr_regions; i++)
		if (saved.regions[i].gpa != now.regions[i].gpa ||
		    saved.regions[i].size != now.regions[i].size)
			return vm_state_fail(
			    err, -EINVAL, "the snapshot's RAM region %u is not the machine's", i);
	if (saved.irqchip != now.irqchip)
		return vm_state_fail(err, -EINVAL,
				     "the snapshot's machine %s an in-kernel interrupt controller",
				     saved.irqchip ? "has" : "has no");
	m->panicked = saved.panicked;
	return 0;
}

/* The guest's CPUID must be one this host can give (what boot set for this vCPU). */
static int check_cpuid(struct kvm_vcpu *v, const struct kvm_vcpu_state *s, struct vm_state_err *err)
{
	struct kvm_cpuid2 *host;
	char what[64];
	bool ok;
	int ret;

	if (s->nr_cpuid > KVM_STATE_MAX_CPUID)
		return vm_state_fail(err, -EINVAL, "vCPU %u's state holds %u CPUID leaves", v->id,
				     s->nr_cpuid);
	host = calloc(1, sizeof(*host) + KVM_STATE_MAX_CPUID * sizeof(host->entries[0]));
	if (!host)
		return vm_state_fail(err, -ENOMEM, "no memory for CPUID");
	host->nent = KVM_STATE_MAX_CPUID;
	ret = kvm_vcpu_ioctl(v, KVM_GET_CPUID2, host);
	if (ret < 0) {
		free(host);
		return vm_state_fail(err, ret, "reading vCPU %u's CPUID: %s", v->id,
				     strerror(-ret));
	}
	ok =
	    x86_cpuid_runs_on(s->cpuid, s->nr_cpuid, host->entries, host->nent, what, sizeof(what));
	free(host);
	if (!ok)
		return vm_state_fail(
		    err, -EINVAL,
		    "this host's processor lacks a feature the snapshot's guest was "
		    "given (CPUID %s)",
		    what);
	return 0;
}

static int restore_memerr(struct machine *m, const struct vm_state_source *src,
			  struct vm_state_err *err)
{
	struct memerr_sec s;
	unsigned int i;
	int ret;

	ret = vm_state_get_exact(src, SEC_MEMERR, 1, &s, sizeof(s), err);
	if (ret < 0)
		return ret;
	if (s.nr_pages > VM_POISON_MAX)
		return vm_state_fail(err, -EINVAL, "section 'memerr' lists %u pages (at most %u)",
				     s.nr_pages, VM_POISON_MAX);
	for (i = 0; i < s.nr_pages; i++)
		if ((s.pages[i].gpa & (GM_PAGE_SIZE - 1)) ||
		    !gm_region_of(&m->mem, s.pages[i].gpa, GM_PAGE_SIZE))
			return vm_state_fail(err, -EINVAL,
					     "section 'memerr': page 0x%llx is not guest RAM",
					     (unsigned long long)s.pages[i].gpa);
	pthread_mutex_lock(&m->memerr.lock);
	m->memerr.nr_pages = s.nr_pages;
	m->memerr.untracked = s.untracked;
	for (i = 0; i < s.nr_pages; i++) {
		m->memerr.pages[i].gpa = s.pages[i].gpa;
		m->memerr.pages[i].hits = s.pages[i].hits;
	}
	pthread_mutex_unlock(&m->memerr.lock);
	return 0;
}

int machine_restore_state(struct machine *m, const struct vm_state_source *src,
			  struct vm_state_err *err)
{
	struct kvm_vcpu_state *vs;
	struct kvm_vm_state vm;
	char name[VM_STATE_NAME_MAX + 1];
	unsigned int i;
	int ret;

	ret = check_machine(m, src, err);
	if (ret < 0)
		return ret;
	ret = restore_memerr(m, src, err);
	if (ret < 0)
		return ret;
	ret = vm_devices_restore(m, src, err);
	if (ret < 0)
		return ret;
	vs = aligned_alloc(64, sizeof(*vs));
	if (!vs)
		return vm_state_fail(err, -ENOMEM, "no memory for a vCPU's state");
	for (i = 0; i < m->nr_vcpus; i++) {
		vcpu_section_name(name, sizeof(name), i);
		ret = vm_state_get_exact(src, name, 1, vs, sizeof(*vs), err);
		if (ret >= 0)
			ret = check_cpuid(&m->vcpus[i].kvm, vs, err);
		if (ret >= 0 &&
		    (vs->nr_msrs > KVM_STATE_MAX_MSRS || vs->xsave_len > KVM_STATE_XSAVE_MAX))
			ret = vm_state_fail(err, -EINVAL, "section '%s' is malformed", name);
		if (ret >= 0) {
			ret = kvm_vcpu_state_restore(&m->vcpus[i].kvm, vs);
			if (ret < 0)
				vm_state_fail(err, ret, "KVM refused vCPU %u's saved state: %s", i,
					      strerror(-ret));
		}
		if (ret < 0)
			break;
	}
	free(vs);
	if (ret < 0)
		return ret;
	/* the interrupt controllers and timer, then the clock: after the vCPUs' TSCs */
	ret = vm_state_get_exact(src, SEC_KVM_VM, 1, &vm, sizeof(vm), err);
	if (ret < 0)
		return ret;
	if (vm.has_irqchip != m->vm.irqchip)
		return vm_state_fail(err, -EINVAL, "section 'kvm-vm' does not match the machine");
	ret = kvm_vm_state_restore(&m->vm, &vm);
	if (ret < 0)
		return vm_state_fail(err, ret,
				     "KVM refused the saved interrupt controllers or clock: %s",
				     strerror(-ret));
	/* the interrupt controllers hold their saved state: the NICs' interrupts stay */
	vm_devices_resync_irqs(m);
	vm_devices_announce(m);
	pthread_mutex_lock(&m->lock);
	m->state = VM_PAUSED;
	pthread_mutex_unlock(&m->lock);
	return 0;
}
