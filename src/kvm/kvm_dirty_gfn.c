// SPDX-License-Identifier: GPL-2.0-only
/* Taking the entries of one dirty ring, and ring sizes: no KVM here (kvm_dirty_gfn.h). */
#include "kvm/kvm_dirty_gfn.h"

#include <errno.h>

static bool is_dirty(struct kvm_dirty_gfn *e)
{
	/* KVM wrote slot and offset before it published the flag */
	return __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & KVM_DIRTY_GFN_F_DIRTY;
}

/* The position of the first dirty entry after n, or entries when none. */
static uint32_t next_dirty(struct kvm_dirty_gfn *ring, uint32_t entries, uint32_t fetch, uint32_t n)
{
	for (n++; n < entries; n++)
		if (is_dirty(&ring[(fetch + n) & (entries - 1)]))
			break;
	return n;
}

uint32_t kvm_dirty_ring_collect(struct kvm_dirty_gfn *ring, uint32_t entries, uint32_t *fetch,
				bool realign, bool *gap, kvm_dirty_ring_mark_fn mark, void *opaque)
{
	uint32_t n = 0, j;

	while (n < entries) {
		struct kvm_dirty_gfn *e = &ring[(*fetch + n) & (entries - 1)];

		if (is_dirty(e)) {
			mark(opaque, e->slot, e->offset);
			/* our reads of the entry are done before KVM may reuse it */
			__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
			n++;
			continue;
		}
		if (!realign)
			break;
		j = next_dirty(ring, entries, *fetch, n);
		/* published meanwhile: KVM got to it before the later one */
		if (j == entries || is_dirty(e)) {
			if (j == entries)
				break;
			continue;
		}
		if (gap)
			*gap = true;
		for (; n < j; n++)
			__atomic_store_n(&ring[(*fetch + n) & (entries - 1)].flags,
					 KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
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
