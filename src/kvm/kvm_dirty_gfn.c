// SPDX-License-Identifier: GPL-2.0-only
/* Taking the entries of one dirty ring, and ring sizes: no KVM here (kvm_dirty_gfn.h). */
#include "kvm/kvm_dirty_gfn.h"

#include <errno.h>

uint32_t kvm_dirty_ring_collect(struct kvm_dirty_gfn *ring, uint32_t entries, uint32_t *fetch,
				kvm_dirty_ring_mark_fn mark, void *opaque)
{
	uint32_t n;

	for (n = 0; n < entries; n++) {
		struct kvm_dirty_gfn *e = &ring[(*fetch + n) & (entries - 1)];
		/* KVM wrote slot and offset before it published the flag */
		uint32_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

		if (!(flags & KVM_DIRTY_GFN_F_DIRTY))
			break;
		mark(opaque, e->slot, e->offset);
		/* our reads of the entry are done before KVM may reuse it */
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
	}
	*fetch += n;
	return n;
}

int kvm_dirty_ring_check_size(uint64_t bytes, uint64_t max)
{
	if (bytes < KVM_DIRTY_RING_MIN_BYTES || (bytes & (bytes - 1)))
		return -EINVAL;
	if (bytes > max)
		return -ERANGE;
	return 0;
}
