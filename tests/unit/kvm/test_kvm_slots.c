// SPDX-License-Identifier: GPL-2.0-only
/* Memory-slot splitting without KVM: a recorder stands in for the ioctl. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/kvm_slots.h"

#define MB (1ULL << 20)
#define HOST ((uint8_t *)0x7f0000000000ULL)

struct recorder {
	unsigned int calls, deletes;
	int fail_at; /* fail the Nth call (1-based), 0 = never */
	struct kvm_slot last;
};

static int record(void *opaque, const struct kvm_slot *s)
{
	struct recorder *r = opaque;

	r->calls++;
	if (r->fail_at && r->calls == (unsigned int)r->fail_at)
		return -EINVAL;
	if (!s->size)
		r->deletes++;
	r->last = *s;
	return 0;
}

static struct kvm_slot_table t;
static struct recorder rec;

static int setup(void **state)
{
	memset(&rec, 0, sizeof(rec));
	kvm_slots_init(&t, 32, record, &rec);
	return 0;
}

/* The slot mapping gpa must exist with this extent and host address. */
static void assert_slot(uint64_t gpa, uint64_t start, uint64_t size, uint8_t *hva)
{
	const struct kvm_slot *s = kvm_slots_find_gpa(&t, gpa);

	assert_non_null(s);
	assert_int_equal(s->gpa, start);
	assert_int_equal(s->size, size);
	assert_ptr_equal(s->hva, hva);
}

static void test_add_and_lookup(void **state)
{
	uint64_t gpa;

	assert_int_equal(kvm_slots_add(&t, 0, 64 * MB, HOST, 0), 0);
	assert_int_equal(kvm_slots_count(&t), 1);
	assert_slot(5 * MB, 0, 64 * MB, HOST);
	assert_null(kvm_slots_find_gpa(&t, 64 * MB));
	assert_ptr_equal(kvm_slots_find_hva(&t, HOST + 3 * MB)->gpa, 0);
	assert_null(kvm_slots_find_hva(&t, HOST + 64 * MB));
	gpa = 0;
	(void)gpa;
}

static void test_misaligned_and_empty(void **state)
{
	assert_int_equal(kvm_slots_add(&t, 0x800, 4096, HOST, 0), -EINVAL);
	assert_int_equal(kvm_slots_add(&t, 0, 0x1800, HOST, 0), -EINVAL);
	assert_int_equal(kvm_slots_add(&t, 0, 0, HOST, 0), -EINVAL);
	assert_int_equal(kvm_slots_add(&t, 0, 4096, HOST + 8, 0), -EINVAL);
	assert_int_equal(kvm_slots_add(&t, ~0xfffULL, 8192, HOST, 0), -EINVAL);
	assert_int_equal(rec.calls, 0);
}

static void test_identical_readd_updates_flags_only(void **state)
{
	assert_int_equal(kvm_slots_add(&t, 0, 16 * MB, HOST, 0), 0);
	rec.calls = 0;
	assert_int_equal(kvm_slots_add(&t, 0, 16 * MB, HOST, 0), 0);
	assert_int_equal(rec.calls, 0);
	assert_int_equal(kvm_slots_add(&t, 0, 16 * MB, HOST, KVM_SLOT_LOG_DIRTY), 0);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.deletes, 0);
	assert_int_equal(rec.last.flags, KVM_SLOT_LOG_DIRTY);
	assert_int_equal(kvm_slots_count(&t), 1);
}

static void test_split_inside(void **state)
{
	uint8_t *other = (uint8_t *)0x600000000000ULL;

	assert_int_equal(kvm_slots_add(&t, 0, 16 * MB, HOST, KVM_SLOT_LOG_DIRTY), 0);
	assert_int_equal(kvm_slots_add(&t, 4 * MB, 2 * MB, other, 0), 0);
	assert_int_equal(kvm_slots_count(&t), 3);
	assert_slot(0, 0, 4 * MB, HOST);
	assert_slot(5 * MB, 4 * MB, 2 * MB, other);
	assert_slot(6 * MB, 6 * MB, 10 * MB, HOST + 6 * MB);
	/* prefix and suffix keep their flags */
	assert_int_equal(kvm_slots_find_gpa(&t, 0)->flags, KVM_SLOT_LOG_DIRTY);
	assert_int_equal(kvm_slots_find_gpa(&t, 6 * MB)->flags, KVM_SLOT_LOG_DIRTY);
	assert_int_equal(kvm_slots_find_gpa(&t, 4 * MB)->flags, 0);
	assert_int_equal(rec.deletes, 1);
}

static void test_split_prefix_and_suffix(void **state)
{
	uint8_t *other = (uint8_t *)0x600000000000ULL;

	assert_int_equal(kvm_slots_add(&t, 4 * MB, 8 * MB, HOST, 0), 0);
	/* overlaps the start: only a suffix remains */
	assert_int_equal(kvm_slots_add(&t, 2 * MB, 4 * MB, other, 0), 0);
	assert_slot(2 * MB, 2 * MB, 4 * MB, other);
	assert_slot(6 * MB, 6 * MB, 6 * MB, HOST + 2 * MB);
	/* overlaps the end: only a prefix remains */
	assert_int_equal(kvm_slots_add(&t, 10 * MB, 4 * MB, other + 4 * MB, 0), 0);
	assert_slot(6 * MB, 6 * MB, 4 * MB, HOST + 2 * MB);
	assert_slot(13 * MB, 10 * MB, 4 * MB, other + 4 * MB);
	assert_int_equal(kvm_slots_count(&t), 3);
}

static void test_spanning_several(void **state)
{
	uint8_t *big = (uint8_t *)0x500000000000ULL;

	assert_int_equal(kvm_slots_add(&t, 0, 4 * MB, HOST, 0), 0);
	assert_int_equal(kvm_slots_add(&t, 4 * MB, 4 * MB, HOST + 8 * MB, 0), 0);
	assert_int_equal(kvm_slots_add(&t, 8 * MB, 4 * MB, HOST + 16 * MB, 0), 0);
	assert_int_equal(kvm_slots_add(&t, 2 * MB, 8 * MB, big, 0), 0);
	assert_slot(0, 0, 2 * MB, HOST);
	assert_slot(2 * MB, 2 * MB, 8 * MB, big);
	assert_slot(9 * MB, 2 * MB, 8 * MB, big);
	assert_slot(10 * MB, 10 * MB, 2 * MB, HOST + 18 * MB);
	assert_int_equal(kvm_slots_count(&t), 3);
	assert_int_equal(rec.deletes, 3);
}

static void test_exact_replace(void **state)
{
	uint8_t *other = (uint8_t *)0x600000000000ULL;

	assert_int_equal(kvm_slots_add(&t, 8 * MB, 4 * MB, HOST, 0), 0);
	assert_int_equal(kvm_slots_add(&t, 8 * MB, 4 * MB, other, 0), 0);
	assert_slot(8 * MB, 8 * MB, 4 * MB, other);
	assert_int_equal(kvm_slots_count(&t), 1);
	assert_int_equal(rec.deletes, 1);
}

static void test_remove(void **state)
{
	assert_int_equal(kvm_slots_add(&t, 0, 16 * MB, HOST, 0), 0);
	assert_int_equal(kvm_slots_remove(&t, 4 * MB, 4 * MB), 0);
	assert_null(kvm_slots_find_gpa(&t, 5 * MB));
	assert_slot(0, 0, 4 * MB, HOST);
	assert_slot(8 * MB, 8 * MB, 8 * MB, HOST + 8 * MB);
	assert_int_equal(kvm_slots_remove(&t, 0, 16 * MB), 0);
	assert_int_equal(kvm_slots_count(&t), 0);
	/* removing nothing is fine */
	assert_int_equal(kvm_slots_remove(&t, 0, 16 * MB), 0);
}

static void test_readd_whole_range_merges(void **state)
{
	uint8_t *other = (uint8_t *)0x600000000000ULL;

	assert_int_equal(kvm_slots_add(&t, 0, 16 * MB, HOST, 0), 0);
	assert_int_equal(kvm_slots_add(&t, 4 * MB, 4 * MB, other, 0), 0);
	assert_int_equal(kvm_slots_add(&t, 0, 16 * MB, HOST, 0), 0);
	assert_int_equal(kvm_slots_count(&t), 1);
	assert_slot(5 * MB, 0, 16 * MB, HOST);
}

static void test_exhaustion_changes_nothing(void **state)
{
	unsigned int i;

	kvm_slots_init(&t, 4, record, &rec);
	for (i = 0; i < 4; i++)
		assert_int_equal(kvm_slots_add(&t, i * 4 * MB, 4 * MB, HOST + i * 4 * MB, 0), 0);
	/* a hole inside slot 0 needs a prefix and a suffix: 1 slot short */
	rec.calls = 0;
	assert_int_equal(kvm_slots_remove(&t, 1 * MB, 1 * MB), -ENOSPC);
	assert_int_equal(kvm_slots_add(&t, 64 * MB, 4 * MB, HOST, 0), -ENOSPC);
	assert_int_equal(rec.calls, 0);
	assert_int_equal(kvm_slots_count(&t), 4);
	/* replacing two whole slots with one frees a slot */
	assert_int_equal(kvm_slots_add(&t, 0, 8 * MB, HOST, 0), 0);
	assert_int_equal(kvm_slots_count(&t), 3);
}

static void test_set_flags_on_subrange(void **state)
{
	assert_int_equal(kvm_slots_add(&t, 0, 16 * MB, HOST, 0), 0);
	assert_int_equal(kvm_slots_set_flags(&t, 4 * MB, 4 * MB, 0, KVM_SLOT_LOG_DIRTY), 0);
	assert_int_equal(kvm_slots_count(&t), 3);
	assert_int_equal(kvm_slots_find_gpa(&t, 0)->flags, 0);
	assert_int_equal(kvm_slots_find_gpa(&t, 4 * MB)->flags, KVM_SLOT_LOG_DIRTY);
	assert_ptr_equal(kvm_slots_find_gpa(&t, 4 * MB)->hva, HOST + 4 * MB);
	assert_int_equal(kvm_slots_find_gpa(&t, 8 * MB)->flags, 0);
	/* whole-slot change is in place */
	rec.calls = rec.deletes = 0;
	assert_int_equal(kvm_slots_set_flags(&t, 4 * MB, 4 * MB, KVM_SLOT_LOG_DIRTY, 0), 0);
	assert_int_equal(rec.deletes, 0);
	assert_int_equal(kvm_slots_find_gpa(&t, 4 * MB)->flags, 0);
}

static void test_apply_failure_reported(void **state)
{
	rec.fail_at = 1;
	assert_int_equal(kvm_slots_add(&t, 0, 4 * MB, HOST, 0), -EINVAL);
	assert_int_equal(kvm_slots_count(&t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_add_and_lookup, setup),
		cmocka_unit_test_setup(test_misaligned_and_empty, setup),
		cmocka_unit_test_setup(test_identical_readd_updates_flags_only, setup),
		cmocka_unit_test_setup(test_split_inside, setup),
		cmocka_unit_test_setup(test_split_prefix_and_suffix, setup),
		cmocka_unit_test_setup(test_spanning_several, setup),
		cmocka_unit_test_setup(test_exact_replace, setup),
		cmocka_unit_test_setup(test_remove, setup),
		cmocka_unit_test_setup(test_readd_whole_range_merges, setup),
		cmocka_unit_test_setup(test_exhaustion_changes_nothing, setup),
		cmocka_unit_test_setup(test_set_flags_on_subrange, setup),
		cmocka_unit_test_setup(test_apply_failure_reported, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
