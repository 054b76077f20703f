// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem/guest_mem.h"

#define MB (1ULL << 20)

static void test_regions_and_bounds(void **state)
{
	struct guest_mem gm;
	uint8_t buf[16];

	gm_init(&gm);
	assert_int_equal(gm_add_region(&gm, "low", 0, 16 * MB), 0);
	assert_int_equal(gm_add_region(&gm, "high", 32 * MB, 4 * MB), 1);
	assert_int_equal(gm_add_region(&gm, "overlap", 15 * MB, 2 * MB), -EEXIST);
	assert_int_equal(gm_add_region(&gm, "odd", 40 * MB, 100), -EINVAL);
	assert_int_equal(gm_total(&gm), 20 * MB);
	assert_non_null(gm_ptr(&gm, 16 * MB - 16, 16));
	assert_null(gm_ptr(&gm, 16 * MB - 15, 16));
	assert_null(gm_ptr(&gm, 20 * MB, 1));
	assert_null(gm_ptr(&gm, ~0ULL - 4, 16));
	assert_int_equal(gm_read(&gm, 16 * MB - 8, buf, 16), -EFAULT);
	assert_int_equal(gm_write(&gm, 36 * MB - 8, buf, 16), -EFAULT);
	gm_destroy(&gm);
}

static void test_read_write_and_translation(void **state)
{
	struct guest_mem gm;
	char out[32];
	uint64_t gpa;
	uint8_t *p;

	gm_init(&gm);
	assert_int_equal(gm_add_region(&gm, "low", 0, 16 * MB), 0);
	assert_int_equal(gm_add_region(&gm, "high", 16 * MB, 16 * MB), 1);
	/* a copy across two regions */
	assert_int_equal(gm_write(&gm, 16 * MB - 5, "hello world", 12), 0);
	assert_int_equal(gm_read(&gm, 16 * MB - 5, out, 12), 0);
	assert_string_equal(out, "hello world");
	p = gm_ptr(&gm, 16 * MB + 1, 4);
	assert_non_null(p);
	assert_int_equal(gm_hva_to_gpa(&gm, p, &gpa), 0);
	assert_int_equal(gpa, 16 * MB + 1);
	assert_int_equal(gm_hva_to_gpa(&gm, out, &gpa), -EFAULT);
	gm_destroy(&gm);
}

static void test_backings(void **state)
{
	struct guest_mem gm;
	char out[8];

	/* private: huge-page aligned, no memfd */
	gm_init(&gm);
	assert_int_equal(gm_add_region(&gm, "low", 0, 6 * MB), 0);
	assert_int_equal((uintptr_t)gm.regions[0].hva & (2 * MB - 1), 0);
	assert_int_equal(gm.fd, -1);
	gm_destroy(&gm);

	/* shared: regions back to back in one memfd */
	gm_init(&gm);
	gm.shared = true;
	assert_int_equal(gm_add_region(&gm, "low", 0, 2 * MB), 0);
	assert_int_equal(gm_add_region(&gm, "high", 8 * MB, 1 * MB), 1);
	assert_true(gm.fd >= 0);
	assert_int_equal(gm.regions[1].fd_offset, 2 * MB);
	assert_int_equal(gm.fd_size, 3 * MB);
	assert_int_equal(gm_write(&gm, 8 * MB + 4, "petrel", 7), 0);
	assert_int_equal(pread(gm.fd, out, 7, (off_t)(2 * MB + 4)), 7);
	assert_string_equal(out, "petrel");
	gm_destroy(&gm);
}

/* Pages given back read as zero, in the memfd too, and are dirty; bad ranges change nothing. */
static void test_discard(void **state)
{
	struct guest_mem gm;
	char out[8] = "";

	for (int shared = 0; shared < 2; shared++) {
		gm_init(&gm);
		gm.shared = shared;
		assert_int_equal(gm_add_region(&gm, "low", 0, 2 * MB), 0);
		assert_int_equal(gm_add_region(&gm, "high", 2 * MB, 1 * MB), 1);
		assert_int_equal(gm_write(&gm, 4096, "petrel", 7), 0);
		assert_int_equal(gm_write(&gm, 8192, "kept", 5), 0);
		gm_clear_dirty(&gm);
		assert_int_equal(gm_discard(&gm, 4096, 0), -EINVAL);
		assert_int_equal(gm_discard(&gm, 4097, 4096), -EINVAL);
		assert_int_equal(gm_discard(&gm, 4096, 100), -EINVAL);
		assert_int_equal(gm_discard(&gm, 2 * MB - 4096, 8192), -EFAULT); /* two regions */
		assert_int_equal(gm_discard(&gm, 3 * MB, 4096), -EFAULT);
		assert_int_equal(gm_discard(&gm, UINT64_MAX & ~4095ULL, 4096), -EFAULT);
		assert_int_equal(gm_dirty_count(&gm), 0);
		assert_int_equal(gm_discard(&gm, 4096, 4096), 0);
		assert_int_equal(gm_read(&gm, 4096, out, 7), 0);
		assert_memory_equal(out, "\0\0\0\0\0\0\0", 7);
		if (shared) {
			assert_int_equal(pread(gm.fd, out, 7, 4096), 7);
			assert_memory_equal(out, "\0\0\0\0\0\0\0", 7);
		}
		assert_int_equal(gm_read(&gm, 8192, out, 5), 0);
		assert_string_equal(out, "kept");
		assert_true(gm_page_dirty(&gm, 4096));
		assert_int_equal(gm_dirty_count(&gm), 1);
		gm_destroy(&gm);
	}
}

static void test_dirty_tracking(void **state)
{
	struct guest_mem gm;
	unsigned long bitmap[2] = {0x5, 0x1};

	gm_init(&gm);
	assert_int_equal(gm_add_region(&gm, "low", 0, 1 * MB), 0);
	assert_int_equal(gm_write(&gm, 0x1ff8, "12345678abc", 11), 0);
	assert_true(gm_page_dirty(&gm, 0x1000));
	assert_true(gm_page_dirty(&gm, 0x2000));
	assert_false(gm_page_dirty(&gm, 0x3000));
	assert_int_equal(gm_dirty_count(&gm), 2);
	gm_clear_dirty(&gm);
	assert_int_equal(gm_dirty_count(&gm), 0);
	/* pages 0, 2 and 64 from a KVM-style bitmap at 0x10000 */
	gm_mark_dirty_bitmap(&gm, 0x10000, bitmap, 128);
	assert_int_equal(gm_dirty_count(&gm), 3);
	assert_true(gm_page_dirty(&gm, 0x10000));
	assert_true(gm_page_dirty(&gm, 0x12000));
	assert_true(gm_page_dirty(&gm, 0x10000 + 64 * 4096));
	/* marking past the end of RAM is ignored */
	gm_mark_dirty(&gm, 1 * MB - 4096, 3 * 4096);
	assert_int_equal(gm_dirty_count(&gm), 4);
	gm_destroy(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regions_and_bounds),
	    cmocka_unit_test(test_read_write_and_translation),
	    cmocka_unit_test(test_backings),
	    cmocka_unit_test(test_dirty_tracking),
	    cmocka_unit_test(test_discard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
