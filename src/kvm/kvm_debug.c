// SPDX-License-Identifier: GPL-2.0-only
#include "kvm/kvm_debug.h"

#include <errno.h>
#include <string.h>

int kvm_debug_set(struct kvm_vcpu *v, const struct kvm_debug_config *cfg)
{
	struct kvm_guest_debug dbg;
	unsigned int i;

	if (!v->vm->sys->caps[KVM_CAPX_SET_GUEST_DEBUG])
		return -ENOSYS;
	memset(&dbg, 0, sizeof(dbg));
	if (cfg->enable) {
		dbg.control = KVM_GUESTDBG_ENABLE;
		if (cfg->single_step)
			dbg.control |= KVM_GUESTDBG_SINGLESTEP;
		if (cfg->sw_breakpoints)
			dbg.control |= KVM_GUESTDBG_USE_SW_BP;
		if (cfg->dr7) {
			dbg.control |= KVM_GUESTDBG_USE_HW_BP;
			for (i = 0; i < KVM_DEBUG_NR_HW; i++)
				dbg.arch.debugreg[i] = cfg->dr[i];
			dbg.arch.debugreg[7] = cfg->dr7;
		}
	}
	return kvm_vcpu_ioctl(v, KVM_SET_GUEST_DEBUG, &dbg);
}

void kvm_debug_exit_info(struct kvm_vcpu *v, struct kvm_debug_exit *out)
{
	const struct kvm_debug_exit_arch *a = &v->run->debug.arch;

	out->exception = a->exception;
	out->pc = a->pc;
	out->dr6 = a->dr6;
	out->dr7 = a->dr7;
}

int kvm_debug_reinject(struct kvm_vcpu *v, uint8_t vector)
{
	struct kvm_vcpu_events ev;
	int ret;

	if (!v->vm->sys->caps[KVM_CAPX_VCPU_EVENTS])
		return -ENOSYS;
	ret = kvm_vcpu_ioctl(v, KVM_GET_VCPU_EVENTS, &ev);
	if (ret < 0)
		return ret;
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = 0;
	ev.flags = 0;
	return kvm_vcpu_ioctl(v, KVM_SET_VCPU_EVENTS, &ev);
}
