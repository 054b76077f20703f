// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bus/bus.h"

struct fake {
	uint64_t last_off, last_val;
	unsigned int last_size, writes;
};

static uint64_t fake_read(void *opaque, uint64_t off, unsigned int size)
{
	return 0x1000 + off;
}

static void fake_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct fake *f = opaque;

	f->last_off = off;
	f->last_val = val;
	f->last_size = size;
	f->writes++;
}

static const struct bus_ops fake_ops = {fake_read, fake_write};

static void test_register_and_dispatch(void **state)
{
	struct bus b;
	struct fake f = {0};
	uint64_t v;

	bus_init(&b, "test");
	assert_int_equal(bus_register(&b, 0x3f8, 8, &fake_ops, &f, "com1"), 0);
	assert_true(bus_read(&b, 0x3fd, 1, &v));
	assert_int_equal(v, 0x1005);
	assert_true(bus_write(&b, 0x3f8, 2, 0xabcd));
	assert_int_equal(f.last_off, 0);
	assert_int_equal(f.last_val, 0xabcd);
	assert_int_equal(f.last_size, 2);
	bus_destroy(&b);
}

static void test_overlaps_refused(void **state)
{
	struct bus b;
	struct fake f = {0};

	bus_init(&b, "test");
	assert_int_equal(bus_register(&b, 0x100, 0x10, &fake_ops, &f, "a"), 0);
	assert_int_equal(bus_register(&b, 0x10f, 1, &fake_ops, &f, "b"), -EEXIST);
	assert_int_equal(bus_register(&b, 0xf0, 0x11, &fake_ops, &f, "c"), -EEXIST);
	assert_int_equal(bus_register(&b, 0x0, 0x1000, &fake_ops, &f, "d"), -EEXIST);
	assert_int_equal(bus_register(&b, 0x108, 1, &fake_ops, &f, "e"), -EEXIST);
	assert_int_equal(bus_register(&b, 0xf0, 0x10, &fake_ops, &f, "f"), 0);
	assert_int_equal(bus_register(&b, 0x110, 0x10, &fake_ops, &f, "g"), 0);
	assert_int_equal(bus_register(&b, 0, 0, &fake_ops, &f, "empty"), -EINVAL);
	assert_int_equal(bus_register(&b, ~0ULL, 2, &fake_ops, &f, "wrap"), -EINVAL);
	assert_int_equal(b.nr, 3);
	bus_destroy(&b);
}

static void test_unclaimed_counted(void **state)
{
	struct bus b;
	struct fake f = {0};
	uint64_t v = 0;

	bus_init(&b, "test");
	assert_int_equal(bus_register(&b, 0x100, 0x10, &fake_ops, &f, "a"), 0);
	assert_false(bus_read(&b, 0x110, 4, &v));
	assert_int_equal(v, ~0ULL);
	assert_false(bus_write(&b, 0xff, 1, 5));
	assert_false(bus_write(&b, 0x0, 1, 5));
	assert_int_equal(f.writes, 0);
	assert_int_equal(b.unclaimed_reads, 1);
	assert_int_equal(b.unclaimed_writes, 2);
	bus_destroy(&b);
}

static void test_many_ranges_lookup(void **state)
{
	struct bus b;
	struct fake f = {0};
	uint64_t i, v;

	bus_init(&b, "test");
	/* registered out of order; lookups must find each */
	for (i = 0; i < 200; i++)
		assert_int_equal(bus_register(&b, ((i * 37) % 200) * 0x100, 0x80, &fake_ops, &f,
					      "r"),
				 0);
	for (i = 0; i < 200; i++) {
		assert_true(bus_read(&b, i * 0x100 + 0x7f, 1, &v));
		assert_int_equal(v, 0x107f);
		assert_false(bus_read(&b, i * 0x100 + 0x80, 1, &v));
		assert_ptr_equal(bus_find(&b, i * 0x100)->ops, &fake_ops);
	}
	assert_int_equal(bus_unregister(&b, 0x500), 0);
	assert_false(bus_read(&b, 0x510, 1, &v));
	assert_int_equal(bus_unregister(&b, 0x510), -ENOENT);
	bus_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_dispatch),
		cmocka_unit_test(test_overlaps_refused),
		cmocka_unit_test(test_unclaimed_counted),
		cmocka_unit_test(test_many_ranges_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
