// SPDX-License-Identifier: GPL-2.0-only
/* Machine-check records for host memory errors, and the MCE ioctls. */
#include "kvm/kvm_mce.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm.h"
#include "kvm/kvm_vcpu.h"

#define MSR_MCG_STATUS 0x17a

uint64_t kvm_mce_pick_cap(int max_banks, uint64_t supported)
{
	uint64_t banks =
	    max_banks < KVM_MCE_BANKS ? (uint64_t)(max_banks > 0 ? max_banks : 0) : KVM_MCE_BANKS;

	if (!banks)
		return 0;
	return banks | (supported & (MCG_CTL_P | MCG_SER_P));
}

int kvm_mce_record(struct kvm_x86_mce *mce, enum kvm_mce_kind kind, uint64_t gpa, uint64_t mcg_cap,
		   bool amd)
{
	uint64_t banks = mcg_cap & MCG_BANKCNT_MASK;
	uint64_t status = MCI_STATUS_VAL | MCI_STATUS_EN | MCI_STATUS_ADDRV | MCI_STATUS_MISCV;

	if (!banks)
		return -EINVAL;
	memset(mce, 0, sizeof(*mce));
	mce->bank = (uint8_t)(banks - 1);
	mce->addr = gpa & ~(KVM_SLOT_PAGE - 1);
	mce->misc = MCI_MISC(12);
	mce->mcg_status = MCG_STATUS_MCIP | MCG_STATUS_RIPV;
	if (kind == KVM_MCE_ACTION_REQUIRED) {
		/* The faulting instruction is known and must not be retried as is. */
		mce->mcg_status |= MCG_STATUS_EIPV;
		status |= MCI_STATUS_UC;
		if (amd)
			status |= MCI_STATUS_POISON;
		else
			status |= MCI_STATUS_S | MCI_STATUS_AR | MCACOD_DATA_LOAD;
	} else if (amd) {
		status |= MCI_STATUS_DEFERRED | MCI_STATUS_POISON;
		/*
		 * It stays in its bank until the guest polls: keep it out of the bank
		 * an action-required error would find it in (and mark overflowed).
		 */
		if (banks > 1)
			mce->bank = (uint8_t)(banks - 2);
	} else {
		status |= MCI_STATUS_UC | MCI_STATUS_S | MCACOD_SCRUB;
	}
	/* Without software error recovery the guest could only die of it. */
	if (!amd && !(mcg_cap & MCG_SER_P))
		status &= ~(MCI_STATUS_S | MCI_STATUS_AR);
	mce->status = status;
	return 0;
}

bool kvm_mce_needs_broadcast(const struct kvm_x86_mce *mce, bool amd)
{
	return !amd && (mce->status & MCI_STATUS_UC);
}

int kvm_mce_broadcast_record(struct kvm_x86_mce *mce, uint64_t mcg_cap)
{
	if ((mcg_cap & MCG_BANKCNT_MASK) < 2)
		return -EINVAL;
	memset(mce, 0, sizeof(*mce));
	mce->bank = 1;
	mce->status = MCI_STATUS_VAL | MCI_STATUS_UC;
	mce->mcg_status = MCG_STATUS_MCIP | MCG_STATUS_RIPV;
	return 0;
}

enum kvm_sigbus_verdict kvm_mce_from_sigbus(const struct kvm_slot_table *t, int code,
					    const void *hva, uint64_t mcg_cap, bool amd,
					    uint64_t *gpa, struct kvm_x86_mce *mce)
{
	const struct kvm_slot *s;
	uint64_t addr;

	if (code != BUS_MCEERR_AR && code != BUS_MCEERR_AO)
		return KVM_SIGBUS_NOT_MCE;
	s = kvm_slots_find_hva(t, hva);
	if (!s)
		return KVM_SIGBUS_NOT_RAM;
	addr = s->gpa + (uint64_t)((const uint8_t *)hva - s->hva);
	*gpa = addr & ~(KVM_SLOT_PAGE - 1);
	if (kvm_mce_record(
		mce, code == BUS_MCEERR_AR ? KVM_MCE_ACTION_REQUIRED : KVM_MCE_ACTION_OPTIONAL,
		*gpa, mcg_cap, amd) < 0)
		return KVM_SIGBUS_NO_MCE;
	return KVM_SIGBUS_INJECT;
}

const char *kvm_sigbus_code_name(int code)
{
	switch (code) {
	case BUS_ADRALN:
		return "BUS_ADRALN";
	case BUS_ADRERR:
		return "BUS_ADRERR";
	case BUS_OBJERR:
		return "BUS_OBJERR";
	case BUS_MCEERR_AR:
		return "BUS_MCEERR_AR";
	case BUS_MCEERR_AO:
		return "BUS_MCEERR_AO";
	case SI_USER:
		return "SI_USER";
	case SI_QUEUE:
		return "SI_QUEUE";
	case SI_TKILL:
		return "SI_TKILL";
	default:
		return "unknown";
	}
}

uint64_t kvm_mce_host_cap(const struct kvm_sys *sys)
{
	uint64_t supported = 0;
	int banks = ioctl(sys->fd, KVM_CHECK_EXTENSION, KVM_CAP_MCE);

	if (banks <= 0 || ioctl(sys->fd, KVM_X86_GET_MCE_CAP_SUPPORTED, &supported) < 0)
		return 0;
	return kvm_mce_pick_cap(banks, supported);
}

int kvm_vcpu_mce_setup(struct kvm_vcpu *v, uint64_t mcg_cap, bool amd)
{
	if (ioctl(v->fd, KVM_X86_SETUP_MCE, &mcg_cap) < 0)
		return -errno;
	v->mcg_cap = mcg_cap;
	v->mce_amd = amd;
	return 0;
}

int kvm_vcpu_mce_inject(struct kvm_vcpu *v, const struct kvm_x86_mce *mce)
{
	struct kvm_x86_mce copy = *mce;

	return ioctl(v->fd, KVM_X86_SET_MCE, &copy) < 0 ? -errno : 0;
}

bool kvm_vcpu_mce_in_progress(struct kvm_vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 1;
	msrs.e.index = MSR_MCG_STATUS;
	if (ioctl(v->fd, KVM_GET_MSRS, &msrs) != 1)
		return false;
	return msrs.e.data & MCG_STATUS_MCIP;
}
