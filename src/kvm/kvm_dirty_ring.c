// SPDX-License-Identifier: GPL-2.0-only
/*
 * The KVM dirty ring: one ring of written pages per vCPU instead of a bitmap
 * per slot. Enabled before the vCPUs exist; each vCPU's ring is mapped from
 * its fd. A sync harvests every ring into per-slot bitmaps (the callers of
 * kvm_dirty_log_sync see no difference) and resets them; a vCPU whose ring
 * fills exits with KVM_EXIT_DIRTY_RING_FULL and harvests its own ring into
 * the same bitmaps, kept pending until the next sync.
 */
#include "kvm/kvm.h"
#include "kvm/kvm_dirty_gfn.h"
#include "kvm/kvm_vcpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BITS_PER_LONG (8 * sizeof(unsigned long))

int kvm_dirty_ring_enable(struct kvm_vm *vm, uint32_t bytes)
{
	uint32_t max = kvm_sys_dirty_ring_max(vm->sys);
	struct kvm_enable_cap cap = {.args[0] = bytes};
	int ret;

	if (!max)
		return -EOPNOTSUPP;
	ret = kvm_dirty_ring_check_size(bytes, max);
	if (ret < 0)
		return ret;
	vm->ring.acq_rel = vm->sys->caps[KVM_CAPX_DIRTY_LOG_RING_ACQ_REL] > 0;
	cap.cap = vm->ring.acq_rel ? KVM_CAP_DIRTY_LOG_RING_ACQ_REL : KVM_CAP_DIRTY_LOG_RING;
	ret = kvm_vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
	if (ret < 0) {
		fprintf(stderr, "petrel: enabling the dirty ring (%u bytes per vCPU): %s\n", bytes,
			strerror(-ret));
		return ret;
	}
	vm->ring.bytes = bytes;
	vm->ring.entries = bytes / (uint32_t)sizeof(struct kvm_dirty_gfn);
	return 0;
}

int kvm_dirty_ring_vcpu_add(struct kvm_vm *vm, struct kvm_vcpu *v)
{
	struct kvm_vcpu **nv;
	void *p;
	int ret;

	if (!vm->ring.bytes)
		return 0;
	p = mmap(NULL, vm->ring.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
		 (off_t)KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());
	if (p == MAP_FAILED) {
		ret = -errno;
		fprintf(stderr, "petrel: mapping the dirty ring of vCPU %u: %s\n", v->id,
			strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&vm->slots_lock);
	nv = realloc(vm->ring.vcpus, (vm->ring.nr_vcpus + 1) * sizeof(*nv));
	if (nv) {
		vm->ring.vcpus = nv;
		nv[vm->ring.nr_vcpus++] = v;
		v->dirty_gfns = p;
		v->dirty_fetch = 0;
	}
	pthread_mutex_unlock(&vm->slots_lock);
	if (!nv) {
		munmap(p, vm->ring.bytes);
		return -ENOMEM;
	}
	return 0;
}

void kvm_dirty_ring_vcpu_remove(struct kvm_vm *vm, struct kvm_vcpu *v)
{
	unsigned int i;

	if (!v->dirty_gfns)
		return;
	pthread_mutex_lock(&vm->slots_lock);
	for (i = 0; i < vm->ring.nr_vcpus; i++) {
		if (vm->ring.vcpus[i] == v) {
			vm->ring.vcpus[i] = vm->ring.vcpus[--vm->ring.nr_vcpus];
			break;
		}
	}
	pthread_mutex_unlock(&vm->slots_lock);
	munmap(v->dirty_gfns, vm->ring.bytes);
	v->dirty_gfns = NULL;
}

/* One harvested entry into its slot's pending bitmap; slots_lock held. */
static void mark_pending(void *opaque, uint32_t slot, uint64_t offset)
{
	struct kvm_vm *vm = opaque;
	uint32_t id = slot & 0xffff;
	const struct kvm_slot *s;
	uint64_t npages;

	/* address space 0 only (no SMM); a slot that went away has nothing to report */
	if (slot >> 16 || id >= vm->slots.limit)
		return;
	s = &vm->slots.slots[id];
	npages = s->size / KVM_SLOT_PAGE;
	if (offset >= npages)
		return;
	if (vm->ring.pending_pages[id] != npages) {
		size_t words = (npages + BITS_PER_LONG - 1) / BITS_PER_LONG;
		unsigned long *b = calloc(words, sizeof(*b));

		if (!b) {
			vm->ring.lost = true;
			return;
		}
		/* the slot changed shape since: its old bits meant other pages */
		free(vm->ring.pending[id]);
		vm->ring.pending[id] = b;
		vm->ring.pending_pages[id] = npages;
	}
	vm->ring.pending[id][offset / BITS_PER_LONG] |= 1UL << (offset % BITS_PER_LONG);
}

/*
 * Harvest the given rings and let KVM re-protect their pages; slots_lock
 * held. realign: look past a gap in every ring (kvm_dirty_ring_collect).
 * *taken (may be NULL): how many ring positions.
 */
static int harvest_locked(struct kvm_vm *vm, struct kvm_vcpu *const *vcpus, unsigned int n,
			  bool realign, uint32_t *taken)
{
	uint32_t got = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		struct kvm_vcpu *v = vcpus[i];
		bool gap = false;
		uint32_t took =
		    kvm_dirty_ring_collect(v->dirty_gfns, vm->ring.entries, &v->dirty_fetch,
					   v->dirty_suspect || realign, &gap, mark_pending, vm);

		/*
		 * A whole ring of entries: KVM went past its soft limit and its
		 * reserve, and may have written over entries not yet taken
		 * (kvm_pvm does when the guest writes much: it logs a page at
		 * each emulated write and does not stop the vCPU in time).
		 * Its next entries may then start further on: look for them
		 * until the ring is seen aligned again.
		 */
		if (took == vm->ring.entries) {
			vm->ring.lost = true;
			v->dirty_suspect = true;
		} else if (gap) {
			vm->ring.lost = true;
		} else if (took) {
			v->dirty_suspect = false;
		}
		got += took;
	}
	vm->ring.harvested += got;
	if (taken)
		*taken = got;
	if (!got)
		return 0;
	ret = kvm_vm_ioctl(vm, KVM_RESET_DIRTY_RINGS, NULL);
	if (ret < 0) {
		fprintf(stderr, "petrel: KVM_RESET_DIRTY_RINGS: %s\n", strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * A full ring with nothing to take, even past a gap, several times in a
 * row, is one KVM overran by more than its soft limit: its count of used
 * entries stays above the limit for good and the vCPU cannot go on. Once
 * can be a sync on another thread that emptied the ring first.
 */
#define EMPTY_FULL_EXITS_MAX 3

int kvm_dirty_ring_full(struct kvm_vcpu *v)
{
	struct kvm_vm *vm = v->vm;
	uint32_t got = 0;
	int ret;

	if (!v->dirty_gfns)
		return -EINVAL;
	pthread_mutex_lock(&vm->slots_lock);
	vm->ring.full_exits++;
	ret = harvest_locked(vm, &v, 1, true, &got);
	if (!ret && got)
		v->dirty_full_empty = 0;
	else if (!ret && ++v->dirty_full_empty >= EMPTY_FULL_EXITS_MAX) {
		vm->ring.lost = true;
		ret = -EOVERFLOW;
	}
	pthread_mutex_unlock(&vm->slots_lock);
	return ret;
}

int kvm_dirty_ring_sync_locked(struct kvm_vm *vm,
			       void (*fn)(void *opaque, uint64_t gpa, const unsigned long *bitmap,
					  uint64_t npages),
			       void *opaque)
{
	unsigned int i;
	int ret;

	/* reset before the callers read the pages: a later write is in the next sync */
	ret = harvest_locked(vm, vm->ring.vcpus, vm->ring.nr_vcpus, false, NULL);
	if (ret < 0)
		return ret;
	if (vm->ring.lost) {
		vm->ring.lost = false;
		fprintf(stderr,
			"petrel: dirty ring: KVM overran a vCPU's ring, written pages may "
			"have been lost (use --dirty-log bitmap or a larger --dirty-ring-size)\n");
		return -EIO;
	}
	for (i = 0; i < vm->slots.limit; i++) {
		const struct kvm_slot *s = &vm->slots.slots[i];
		uint64_t npages = s->size / KVM_SLOT_PAGE;

		if (!s->size || !(s->flags & KVM_SLOT_LOG_DIRTY) || !vm->ring.pending[i] ||
		    vm->ring.pending_pages[i] != npages)
			continue;
		fn(opaque, s->gpa, vm->ring.pending[i], npages);
		memset(vm->ring.pending[i], 0,
		       (npages + BITS_PER_LONG - 1) / BITS_PER_LONG * sizeof(unsigned long));
	}
	return 0;
}

void kvm_dirty_ring_drop_locked(struct kvm_vm *vm)
{
	unsigned int i;

	harvest_locked(vm, vm->ring.vcpus, vm->ring.nr_vcpus, false, NULL);
	vm->ring.lost = false;
	for (i = 0; i < KVM_SLOTS_MAX; i++)
		if (vm->ring.pending[i])
			memset(vm->ring.pending[i], 0,
			       (vm->ring.pending_pages[i] + BITS_PER_LONG - 1) / BITS_PER_LONG *
				   sizeof(unsigned long));
}

void kvm_dirty_ring_free(struct kvm_vm *vm)
{
	unsigned int i;

	for (i = 0; i < KVM_SLOTS_MAX; i++) {
		free(vm->ring.pending[i]);
		vm->ring.pending[i] = NULL;
		vm->ring.pending_pages[i] = 0;
	}
	free(vm->ring.vcpus);
	vm->ring.vcpus = NULL;
	vm->ring.nr_vcpus = 0;
}
