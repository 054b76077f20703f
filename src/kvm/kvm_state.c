// SPDX-License-Identifier: GPL-2.0-only
#include "kvm/kvm_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* KVM_GET_MSR_INDEX_LIST, ordered for restore. */
int kvm_state_msr_list(struct kvm_sys *sys, uint32_t *idx, unsigned int max)
{
	struct kvm_msr_list probe = {.nmsrs = 0}, *list;
	bool tsc = false, deadline = false;
	unsigned int i, n = 0;

	if (ioctl(sys->fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	if (ioctl(sys->fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		int ret = -errno;

		free(list);
		return ret;
	}
	for (i = 0; i < list->nmsrs; i++) {
		if (list->indices[i] == KVM_MSR_IA32_TSC)
			tsc = true;
		else if (list->indices[i] == KVM_MSR_IA32_TSC_DEADLINE)
			deadline = true;
	}
	if (tsc && n < max)
		idx[n++] = KVM_MSR_IA32_TSC;
	for (i = 0; i < list->nmsrs && n < max; i++)
		if (list->indices[i] != KVM_MSR_IA32_TSC &&
		    list->indices[i] != KVM_MSR_IA32_TSC_DEADLINE)
			idx[n++] = list->indices[i];
	if (deadline && n < max)
		idx[n++] = KVM_MSR_IA32_TSC_DEADLINE;
	free(list);
	return (int)n;
}

/* KVM's headers end in flexible arrays: room for @n entries after each. */
static struct kvm_msrs *msrs_alloc(unsigned int n)
{
	return calloc(1, sizeof(struct kvm_msrs) + n * sizeof(struct kvm_msr_entry));
}

static struct kvm_cpuid2 *cpuid_alloc(unsigned int n)
{
	return calloc(1, sizeof(struct kvm_cpuid2) + n * sizeof(struct kvm_cpuid_entry2));
}

/* The MSRs that read back on this vCPU, in the list's order. */
static int save_msrs(struct kvm_vcpu *v, struct kvm_vcpu_state *s)
{
	uint32_t idx[KVM_STATE_MAX_MSRS];
	struct kvm_msrs *mb = msrs_alloc(1);
	int i, n;

	if (!mb)
		return -ENOMEM;
	n = kvm_state_msr_list(v->vm->sys, idx, KVM_STATE_MAX_MSRS);
	/* one at a time: KVM_GET_MSRS stops at the first MSR this vCPU lacks */
	for (i = 0; i < n; i++) {
		mb->nmsrs = 1;
		mb->entries[0].index = idx[i];
		mb->entries[0].data = 0;
		if (kvm_vcpu_ioctl(v, KVM_GET_MSRS, mb) == 1)
			s->msrs[s->nr_msrs++] = mb->entries[0];
	}
	free(mb);
	return n < 0 ? n : 0;
}

static int save_xsave(struct kvm_vcpu *v, struct kvm_vcpu_state *s)
{
	int size = 0;

	if (!v->vm->sys->caps[KVM_CAPX_XSAVE]) {
		int ret = kvm_vcpu_ioctl(v, KVM_GET_FPU, &s->fpu);

		return ret < 0 ? ret : 0;
	}
#ifdef KVM_CAP_XSAVE2
	size = kvm_vm_ioctl(v->vm, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_XSAVE2);
#endif
	if (size > KVM_STATE_XSAVE_MAX)
		return -E2BIG;
	if (size > (int)sizeof(struct kvm_xsave)) {
#ifdef KVM_GET_XSAVE2
		if (kvm_vcpu_ioctl(v, KVM_GET_XSAVE2, s->xsave) < 0)
			return -EIO;
		s->xsave_len = (uint32_t)size;
#endif
	} else {
		if (kvm_vcpu_ioctl(v, KVM_GET_XSAVE, s->xsave) < 0)
			return -EIO;
		s->xsave_len = sizeof(struct kvm_xsave);
	}
	s->has_xsave = 1;
	return 0;
}

int kvm_vcpu_state_save(struct kvm_vcpu *v, struct kvm_vcpu_state *s)
{
	const int *caps = v->vm->sys->caps;
	struct kvm_cpuid2 *cb;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = kvm_vcpu_settle(v);
	if (ret < 0)
		return ret;
	ret = kvm_vcpu_regs_flush(v);
	if (ret < 0)
		return ret;
	/* MP state first: reading it takes in the LAPIC's pending INIT/SIPI */
	if ((ret = kvm_vcpu_ioctl(v, KVM_GET_MP_STATE, &s->mp_state)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_GET_REGS, &s->regs)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_GET_SREGS, &s->sregs)) < 0 || (ret = save_xsave(v, s)) < 0)
		return ret;
	if (caps[KVM_CAPX_XCRS])
		s->has_xcrs = kvm_vcpu_ioctl(v, KVM_GET_XCRS, &s->xcrs) == 0;
	if (v->vm->irqchip) {
		if ((ret = kvm_vcpu_ioctl(v, KVM_GET_LAPIC, &s->lapic)) < 0)
			return ret;
		s->has_lapic = 1;
	}
	if ((ret = save_msrs(v, s)) < 0)
		return ret;
	if (caps[KVM_CAPX_DEBUGREGS])
		s->has_debugregs = kvm_vcpu_ioctl(v, KVM_GET_DEBUGREGS, &s->debugregs) == 0;
	if (caps[KVM_CAPX_VCPU_EVENTS])
		s->has_events = kvm_vcpu_ioctl(v, KVM_GET_VCPU_EVENTS, &s->events) == 0;
	/* the CPUID as it was set: never derived again at restore */
	cb = cpuid_alloc(KVM_STATE_MAX_CPUID);
	if (!cb)
		return -ENOMEM;
	cb->nent = KVM_STATE_MAX_CPUID;
	ret = kvm_vcpu_ioctl(v, KVM_GET_CPUID2, cb);
	if (ret >= 0) {
		s->nr_cpuid = cb->nent;
		memcpy(s->cpuid, cb->entries, s->nr_cpuid * sizeof(cb->entries[0]));
	}
	free(cb);
	if (ret < 0)
		return ret;
	ret = kvm_vcpu_ioctl(v, KVM_GET_TSC_KHZ, NULL);
	s->tsc_khz = ret > 0 ? (uint32_t)ret : 0;
	return 0;
}

static int restore_cpuid_tsc(struct kvm_vcpu *v, const struct kvm_vcpu_state *s)
{
	struct kvm_cpuid2 *cb;
	int ret;

	if (s->nr_cpuid > KVM_STATE_MAX_CPUID)
		return -EINVAL;
	cb = cpuid_alloc(s->nr_cpuid);
	if (!cb)
		return -ENOMEM;
	cb->nent = s->nr_cpuid;
	memcpy(cb->entries, s->cpuid, s->nr_cpuid * sizeof(cb->entries[0]));
	ret = kvm_vcpu_set_cpuid(v, cb);
	free(cb);
	if (ret < 0)
		return ret;
	if (s->tsc_khz) {
		ret = kvm_vcpu_ioctl(v, KVM_GET_TSC_KHZ, NULL);
		if (ret > 0 && (uint32_t)ret != s->tsc_khz) {
			/* the guest's TSC runs at its own rate, or not at all */
			if (!v->vm->sys->caps[KVM_CAPX_TSC_CONTROL])
				return -EOPNOTSUPP;
			ret = kvm_vcpu_ioctl(v, KVM_SET_TSC_KHZ, (void *)(unsigned long)s->tsc_khz);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int restore_xsave(struct kvm_vcpu *v, const struct kvm_vcpu_state *s)
{
	if (!s->has_xsave)
		return kvm_vcpu_ioctl(v, KVM_SET_FPU, (void *)&s->fpu);
	if (s->xsave_len < sizeof(struct kvm_xsave) || s->xsave_len > KVM_STATE_XSAVE_MAX)
		return -EINVAL;
	return kvm_vcpu_ioctl(v, KVM_SET_XSAVE, (void *)s->xsave);
}

/*
 * KVM sets MSRs in order and stops at the first it refuses. A refused MSR
 * whose saved value is already the vCPU's (a read-only or feature-gated MSR
 * at its reset value) loses nothing: skip it and go on after it.
 */
static int restore_msrs(struct kvm_vcpu *v, const struct kvm_vcpu_state *s)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} one;
	struct kvm_msrs *mb;
	uint32_t done = 0;
	int ret = 0;

	if (s->nr_msrs > KVM_STATE_MAX_MSRS)
		return -EINVAL;
	mb = msrs_alloc(s->nr_msrs);
	if (!mb)
		return -ENOMEM;
	while (done < s->nr_msrs) {
		mb->nmsrs = s->nr_msrs - done;
		memcpy(mb->entries, s->msrs + done, mb->nmsrs * sizeof(mb->entries[0]));
		ret = kvm_vcpu_ioctl(v, KVM_SET_MSRS, mb);
		if (ret < 0)
			break;
		done += (uint32_t)ret;
		if (done == s->nr_msrs)
			break;
		memset(&one, 0, sizeof(one));
		one.hdr.nmsrs = 1;
		one.e.index = s->msrs[done].index;
		if (kvm_vcpu_ioctl(v, KVM_GET_MSRS, &one) != 1 ||
		    one.e.data != s->msrs[done].data) {
			fprintf(stderr,
				"petrel: vCPU %u: KVM refused the saved value 0x%llx of MSR 0x%x\n",
				v->id, (unsigned long long)s->msrs[done].data, s->msrs[done].index);
			ret = -EIO;
			break;
		}
		done++;
	}
	free(mb);
	return ret < 0 ? ret : 0;
}

int kvm_vcpu_state_restore(struct kvm_vcpu *v, const struct kvm_vcpu_state *s)
{
	struct kvm_vcpu_events ev;
	int ret;

	kvm_vcpu_regs_invalidate(v);
	v->exit_unfinished = false;
	if ((ret = restore_cpuid_tsc(v, s)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_SET_SREGS, (void *)&s->sregs)) < 0 ||
	    (ret = kvm_vcpu_ioctl(v, KVM_SET_REGS, (void *)&s->regs)) < 0 ||
	    (ret = restore_xsave(v, s)) < 0)
		return ret;
	if (s->has_xcrs && (ret = kvm_vcpu_ioctl(v, KVM_SET_XCRS, (void *)&s->xcrs)) < 0)
		return ret;
	if (s->has_lapic && (ret = kvm_vcpu_ioctl(v, KVM_SET_LAPIC, (void *)&s->lapic)) < 0)
		return ret;
	if ((ret = restore_msrs(v, s)) < 0)
		return ret;
	if (s->has_debugregs &&
	    (ret = kvm_vcpu_ioctl(v, KVM_SET_DEBUGREGS, (void *)&s->debugregs)) < 0)
		return ret;
	if ((ret = kvm_vcpu_ioctl(v, KVM_SET_MP_STATE, (void *)&s->mp_state)) < 0)
		return ret;
	if (!s->has_events)
		return 0;
	ev = s->events;
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	ret = kvm_vcpu_ioctl(v, KVM_SET_VCPU_EVENTS, &ev);
	return ret < 0 ? ret : 0;
}

static int chip_get(struct kvm_vm *vm, struct kvm_irqchip *c, uint32_t id)
{
	memset(c, 0, sizeof(*c));
	c->chip_id = id;
	return kvm_vm_ioctl(vm, KVM_GET_IRQCHIP, c);
}

int kvm_vm_state_save(struct kvm_vm *vm, struct kvm_vm_state *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	if (vm->irqchip) {
		if ((ret = chip_get(vm, &s->pic_master, KVM_IRQCHIP_PIC_MASTER)) < 0 ||
		    (ret = chip_get(vm, &s->pic_slave, KVM_IRQCHIP_PIC_SLAVE)) < 0 ||
		    (ret = chip_get(vm, &s->ioapic, KVM_IRQCHIP_IOAPIC)) < 0)
			return ret;
		s->has_irqchip = 1;
		s->has_pit = kvm_vm_ioctl(vm, KVM_GET_PIT2, &s->pit) == 0;
	}
	ret = kvm_vm_ioctl(vm, KVM_GET_CLOCK, &s->clock);
	return ret < 0 ? ret : 0;
}

int kvm_vm_state_restore(struct kvm_vm *vm, const struct kvm_vm_state *s)
{
	struct kvm_clock_data clock;
	int ret;

	if (s->has_irqchip) {
		if ((ret = kvm_vm_ioctl(vm, KVM_SET_IRQCHIP, (void *)&s->pic_master)) < 0 ||
		    (ret = kvm_vm_ioctl(vm, KVM_SET_IRQCHIP, (void *)&s->pic_slave)) < 0 ||
		    (ret = kvm_vm_ioctl(vm, KVM_SET_IRQCHIP, (void *)&s->ioapic)) < 0)
			return ret;
	}
	if (s->has_pit && (ret = kvm_vm_ioctl(vm, KVM_SET_PIT2, (void *)&s->pit)) < 0)
		return ret;
	/* the clock last; only its value is carried (its host stamps belong to the old host) */
	memset(&clock, 0, sizeof(clock));
	clock.clock = s->clock.clock;
	ret = kvm_vm_ioctl(vm, KVM_SET_CLOCK, &clock);
	return ret < 0 ? ret : 0;
}
