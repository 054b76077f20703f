// SPDX-License-Identifier: GPL-2.0-only
#include "kvm/kvm_slots.h"

#include <errno.h>
#include <string.h>

void kvm_slots_init(struct kvm_slot_table *t, unsigned int limit, kvm_slot_apply_fn apply,
		    void *opaque)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->limit = limit > KVM_SLOTS_MAX ? KVM_SLOTS_MAX : limit;
	t->apply = apply;
	t->opaque = opaque;
	for (i = 0; i < KVM_SLOTS_MAX; i++)
		t->slots[i].id = i;
}

static bool overlaps(const struct kvm_slot *s, uint64_t gpa, uint64_t size)
{
	return s->size && gpa < s->gpa + s->size && s->gpa < gpa + size;
}

static bool range_ok(uint64_t gpa, uint64_t size)
{
	return size && !((gpa | size) & (KVM_SLOT_PAGE - 1)) && gpa + size > gpa;
}

static unsigned int free_slots(const struct kvm_slot_table *t)
{
	unsigned int i, n = 0;

	for (i = 0; i < t->limit; i++)
		if (!t->slots[i].size)
			n++;
	return n;
}

static int apply(struct kvm_slot_table *t, struct kvm_slot *s)
{
	return t->apply ? t->apply(t->opaque, s) : 0;
}

/* Claim a free id and map it; the caller has checked that one exists. */
static int slot_create(struct kvm_slot_table *t, uint64_t gpa, uint64_t size, uint8_t *hva,
		       uint32_t flags)
{
	unsigned int i;
	int ret;

	for (i = 0; i < t->limit; i++) {
		struct kvm_slot *s = &t->slots[i];

		if (s->size)
			continue;
		s->gpa = gpa;
		s->size = size;
		s->hva = hva;
		s->flags = flags;
		ret = apply(t, s);
		if (ret < 0)
			s->size = 0;
		return ret;
	}
	return -ENOSPC;
}

/*
 * Count what cutting [gpa, gpa+size) out of the table needs: the slots it
 * touches are deleted, and each may leave a prefix and a suffix behind.
 */
static void plan_cut(const struct kvm_slot_table *t, uint64_t gpa, uint64_t size,
		     unsigned int *deleted, unsigned int *created)
{
	unsigned int i;

	*deleted = *created = 0;
	for (i = 0; i < t->limit; i++) {
		const struct kvm_slot *s = &t->slots[i];

		if (!overlaps(s, gpa, size))
			continue;
		(*deleted)++;
		if (s->gpa < gpa)
			(*created)++;
		if (s->gpa + s->size > gpa + size)
			(*created)++;
	}
}

/*
 * Cut [gpa, gpa+size) out of the table: each slot it touches is deleted and
 * its parts outside the range are mapped again as prefix and suffix slots.
 */
static int cut(struct kvm_slot_table *t, uint64_t gpa, uint64_t size)
{
	unsigned int i;
	int ret;

	for (i = 0; i < t->limit; i++) {
		struct kvm_slot *s = &t->slots[i];
		struct kvm_slot old;

		if (!overlaps(s, gpa, size))
			continue;
		old = *s;
		s->size = 0;
		ret = apply(t, s);
		if (ret < 0) {
			*s = old;
			return ret;
		}
		if (old.gpa < gpa) {
			ret = slot_create(t, old.gpa, gpa - old.gpa, old.hva, old.flags);
			if (ret < 0)
				return ret;
		}
		if (old.gpa + old.size > gpa + size) {
			uint64_t skip = gpa + size - old.gpa;

			ret = slot_create(t, gpa + size, old.size - skip, old.hva + skip,
					  old.flags);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

int kvm_slots_add(struct kvm_slot_table *t, uint64_t gpa, uint64_t size, void *hva,
		  uint32_t flags)
{
	unsigned int i, deleted, created;
	int ret;

	if (!range_ok(gpa, size) || ((uintptr_t)hva & (KVM_SLOT_PAGE - 1)))
		return -EINVAL;
	for (i = 0; i < t->limit; i++) {
		struct kvm_slot *s = &t->slots[i];

		if (s->size != size || s->gpa != gpa || s->hva != hva)
			continue;
		if (s->flags == flags)
			return 0;
		s->flags = flags;
		return apply(t, s);
	}
	plan_cut(t, gpa, size, &deleted, &created);
	if (created + 1 > free_slots(t) + deleted)
		return -ENOSPC;
	ret = cut(t, gpa, size);
	if (ret < 0)
		return ret;
	return slot_create(t, gpa, size, hva, flags);
}

int kvm_slots_remove(struct kvm_slot_table *t, uint64_t gpa, uint64_t size)
{
	unsigned int deleted, created;

	if (!range_ok(gpa, size))
		return -EINVAL;
	plan_cut(t, gpa, size, &deleted, &created);
	if (created > free_slots(t) + deleted)
		return -ENOSPC;
	return cut(t, gpa, size);
}

int kvm_slots_set_flags(struct kvm_slot_table *t, uint64_t gpa, uint64_t size, uint32_t clear,
			uint32_t set)
{
	unsigned int i;
	int ret;

	if (!range_ok(gpa, size))
		return -EINVAL;
	for (i = 0; i < t->limit; i++) {
		struct kvm_slot *s = &t->slots[i];
		uint32_t nf;

		if (!overlaps(s, gpa, size))
			continue;
		nf = (s->flags & ~clear) | set;
		if (nf == s->flags)
			continue;
		if (s->gpa >= gpa && s->gpa + s->size <= gpa + size) {
			/* Whole slot inside: KVM allows a flags-only update. */
			s->flags = nf;
			ret = apply(t, s);
			if (ret < 0)
				return ret;
			continue;
		}
		{
			uint64_t lo = s->gpa > gpa ? s->gpa : gpa;
			uint64_t hi = s->gpa + s->size < gpa + size ? s->gpa + s->size
								    : gpa + size;
			uint8_t *hva = s->hva + (lo - s->gpa);

			ret = kvm_slots_add(t, lo, hi - lo, hva, nf);
			if (ret < 0)
				return ret;
		}
		i = (unsigned int)-1; /* table changed: rescan */
	}
	return 0;
}

const struct kvm_slot *kvm_slots_find_gpa(const struct kvm_slot_table *t, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < t->limit; i++) {
		const struct kvm_slot *s = &t->slots[i];

		if (s->size && gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

const struct kvm_slot *kvm_slots_find_hva(const struct kvm_slot_table *t, const void *hva)
{
	const uint8_t *p = hva;
	unsigned int i;

	for (i = 0; i < t->limit; i++) {
		const struct kvm_slot *s = &t->slots[i];

		if (s->size && p >= s->hva && p < s->hva + s->size)
			return s;
	}
	return NULL;
}

unsigned int kvm_slots_count(const struct kvm_slot_table *t)
{
	return t->limit - free_slots(t);
}
