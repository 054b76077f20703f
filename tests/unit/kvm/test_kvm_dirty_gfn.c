// SPDX-License-Identifier: GPL-2.0-only
/* Harvesting a dirty ring without KVM: the ring is plain memory filled as KVM would. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/kvm_dirty_gfn.h"

#define ENTRIES 8

struct seen {
	uint32_t slot[3 * ENTRIES];
	uint64_t offset[3 * ENTRIES];
	unsigned int n;
};

static void record(void *opaque, uint32_t slot, uint64_t offset)
{
	struct seen *s = opaque;

	s->slot[s->n] = slot;
	s->offset[s->n] = offset;
	s->n++;
}

/* What KVM does: fill the entry at its own index and publish it. */
static void push(struct kvm_dirty_gfn *ring, uint32_t *kvm_index, uint32_t slot, uint64_t offset)
{
	struct kvm_dirty_gfn *e = &ring[*kvm_index & (ENTRIES - 1)];

	e->slot = slot;
	e->offset = offset;
	e->flags = KVM_DIRTY_GFN_F_DIRTY;
	(*kvm_index)++;
}

/* What KVM_RESET_DIRTY_RINGS does: free the entries flagged for reset. */
static unsigned int kvm_reset(struct kvm_dirty_gfn *ring, uint32_t *reset_index)
{
	unsigned int n = 0;

	while (ring[*reset_index & (ENTRIES - 1)].flags & KVM_DIRTY_GFN_F_RESET) {
		ring[*reset_index & (ENTRIES - 1)].flags = 0;
		(*reset_index)++;
		n++;
	}
	return n;
}

static void test_collect_in_order(void **state)
{
	struct kvm_dirty_gfn ring[ENTRIES];
	uint32_t kvm_index = 0, reset_index = 0, fetch = 0;
	struct seen s = {.n = 0};

	(void)state;
	memset(ring, 0, sizeof(ring));
	assert_int_equal(kvm_dirty_ring_collect(ring, ENTRIES, &fetch, false, NULL, record, &s), 0);
	push(ring, &kvm_index, 0, 5);
	push(ring, &kvm_index, 1, 7);
	push(ring, &kvm_index, 0, 1);
	assert_int_equal(kvm_dirty_ring_collect(ring, ENTRIES, &fetch, false, NULL, record, &s), 3);
	assert_int_equal(fetch, 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.slot[0], 0);
	assert_int_equal(s.offset[0], 5);
	assert_int_equal(s.slot[1], 1);
	assert_int_equal(s.offset[1], 7);
	assert_int_equal(s.offset[2], 1);
	/* handed back for reset, not taken twice */
	assert_int_equal(ring[0].flags, KVM_DIRTY_GFN_F_RESET);
	assert_int_equal(kvm_dirty_ring_collect(ring, ENTRIES, &fetch, false, NULL, record, &s), 0);
	assert_int_equal(kvm_reset(ring, &reset_index), 3);
}

/* The ring wraps many times; a full ring is taken whole and nothing twice. */
static void test_collect_wraps(void **state)
{
	struct kvm_dirty_gfn ring[ENTRIES];
	uint32_t kvm_index = 0, reset_index = 0, fetch = 0;
	unsigned int round, i;

	(void)state;
	memset(ring, 0, sizeof(ring));
	for (round = 0; round < 5; round++) {
		struct seen s = {.n = 0};
		unsigned int n = round % 2 ? ENTRIES : 5;

		for (i = 0; i < n; i++)
			push(ring, &kvm_index, 2, round * 100 + i);
		assert_int_equal(
		    kvm_dirty_ring_collect(ring, ENTRIES, &fetch, false, NULL, record, &s), n);
		assert_int_equal(s.n, n);
		for (i = 0; i < n; i++)
			assert_int_equal(s.offset[i], round * 100 + i);
		assert_int_equal(fetch, kvm_index);
		assert_int_equal(kvm_reset(ring, &reset_index), n);
	}
}

/* An entry KVM has not published yet stops the harvest there. */
static void test_collect_stops_at_unpublished(void **state)
{
	struct kvm_dirty_gfn ring[ENTRIES];
	uint32_t kvm_index = 0, fetch = 0;
	struct seen s = {.n = 0};

	(void)state;
	memset(ring, 0, sizeof(ring));
	push(ring, &kvm_index, 0, 1);
	push(ring, &kvm_index, 0, 2);
	ring[1].flags = 0; /* being written */
	assert_int_equal(kvm_dirty_ring_collect(ring, ENTRIES, &fetch, false, NULL, record, &s), 1);
	ring[1].flags = KVM_DIRTY_GFN_F_DIRTY;
	assert_int_equal(kvm_dirty_ring_collect(ring, ENTRIES, &fetch, false, NULL, record, &s), 1);
	assert_int_equal(s.offset[1], 2);
}

/*
 * KVM overran the ring: two entries more than it holds, so the two oldest
 * were written over and its next entries start two further on.
 */
static void test_overrun_realigns(void **state)
{
	struct kvm_dirty_gfn ring[ENTRIES];
	uint32_t kvm_index = 0, reset_index = 0, fetch = 0, i;
	struct seen s = {.n = 0};
	bool gap = false;

	(void)state;
	memset(ring, 0, sizeof(ring));
	for (i = 0; i < ENTRIES + 2; i++)
		push(ring, &kvm_index, 0, i);
	assert_int_equal(kvm_dirty_ring_collect(ring, ENTRIES, &fetch, true, &gap, record, &s),
			 ENTRIES);
	assert_false(gap);
	assert_int_equal(kvm_reset(ring, &reset_index), ENTRIES);
	/* KVM goes on from its own index: two positions past where petrel looks */
	push(ring, &kvm_index, 0, 100);
	push(ring, &kvm_index, 0, 101);
	s.n = 0;
	/* without realigning, nothing is seen */
	assert_int_equal(kvm_dirty_ring_collect(ring, ENTRIES, &fetch, false, &gap, record, &s), 0);
	assert_int_equal(kvm_dirty_ring_collect(ring, ENTRIES, &fetch, true, &gap, record, &s), 4);
	assert_true(gap);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.offset[0], 100);
	assert_int_equal(s.offset[1], 101);
	/* the reset moves past the stale entries too: KVM and petrel agree again */
	assert_int_equal(kvm_reset(ring, &reset_index), 4);
	assert_int_equal(reset_index, fetch);
	assert_int_equal(kvm_index, fetch);
}

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(kvm_dirty_ring_check_size(4096, 1 << 20), 0);
	assert_int_equal(kvm_dirty_ring_check_size(1 << 20, 1 << 20), 0);
	assert_int_equal(kvm_dirty_ring_check_size(2 << 20, 1 << 20), -ERANGE);
	assert_int_equal(kvm_dirty_ring_check_size(2048, 1 << 20), -EINVAL);
	assert_int_equal(kvm_dirty_ring_check_size(12288, 1 << 20), -EINVAL);
	assert_int_equal(kvm_dirty_ring_check_size(0, 1 << 20), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_collect_in_order),
	    cmocka_unit_test(test_collect_wraps),
	    cmocka_unit_test(test_collect_stops_at_unpublished),
	    cmocka_unit_test(test_overrun_realigns),
	    cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
