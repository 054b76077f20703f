// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vm/config_parse.h"

static void test_sizes(void **state)
{
	uint64_t v;

	assert_int_equal(vm_parse_size("256M", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(vm_parse_size("2G", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(vm_parse_size("8GiB", &v), 0);
	assert_int_equal(v, 8ULL << 30);
	assert_int_equal(vm_parse_size("65536k", &v), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(vm_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(vm_parse_size("", &v), -EINVAL);
	assert_int_equal(vm_parse_size("-1G", &v), -EINVAL);
	assert_int_equal(vm_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(vm_parse_size("1GG", &v), -EINVAL);
	assert_int_equal(vm_parse_size("M", &v), -EINVAL);
	assert_int_equal(vm_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(vm_parse_size("99999999999T", &v), -ERANGE);
}

static void test_uints(void **state)
{
	unsigned int v;

	assert_int_equal(vm_parse_uint("4", 1, 256, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(vm_parse_uint("0", 1, 256, &v), -ERANGE);
	assert_int_equal(vm_parse_uint("257", 1, 256, &v), -ERANGE);
	assert_int_equal(vm_parse_uint("4x", 1, 256, &v), -EINVAL);
	assert_int_equal(vm_parse_uint("-4", 1, 256, &v), -EINVAL);
	assert_int_equal(vm_parse_uint(" 4", 1, 256, &v), -EINVAL);
}

static void test_dirty_log(void **state)
{
	enum kvm_dirty_mode m = KVM_DIRTY_LOG_RING;
	uint32_t b = 0;

	(void)state;
	assert_int_equal(vm_parse_dirty_log("bitmap", &m), 0);
	assert_int_equal(m, KVM_DIRTY_LOG_BITMAP);
	assert_int_equal(vm_parse_dirty_log("ring", &m), 0);
	assert_int_equal(m, KVM_DIRTY_LOG_RING);
	assert_int_equal(vm_parse_dirty_log("rings", &m), -EINVAL);
	assert_int_equal(vm_parse_dirty_log("", &m), -EINVAL);
	assert_int_equal(vm_parse_dirty_log(NULL, &m), -EINVAL);

	assert_int_equal(vm_parse_dirty_ring_size("64K", &b), 0);
	assert_int_equal(b, 65536);
	assert_int_equal(vm_parse_dirty_ring_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(vm_parse_dirty_ring_size("1M", &b), 0);
	assert_int_equal(b, 1 << 20);
	assert_int_equal(vm_parse_dirty_ring_size("2K", &b), -EINVAL);	/* below a page */
	assert_int_equal(vm_parse_dirty_ring_size("96K", &b), -EINVAL); /* not a power of two */
	assert_int_equal(vm_parse_dirty_ring_size("0", &b), -EINVAL);
	assert_int_equal(vm_parse_dirty_ring_size("2G", &b), -ERANGE);
	assert_int_equal(vm_parse_dirty_ring_size("big", &b), -EINVAL);
}

static void test_serial(void **state)
{
	struct vm_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(vm_parse_serial("off", &cfg), 0);
	assert_int_equal(cfg.serial, VM_SERIAL_OFF);
	assert_int_equal(vm_parse_serial("file=/tmp/x.log", &cfg), 0);
	assert_int_equal(cfg.serial, VM_SERIAL_FILE);
	assert_string_equal(cfg.serial_path, "/tmp/x.log");
	assert_int_equal(vm_parse_serial("stdio", &cfg), 0);
	assert_int_equal(cfg.serial, VM_SERIAL_STDIO);
	assert_int_equal(vm_parse_serial("file=", &cfg), -EINVAL);
	assert_int_equal(vm_parse_serial("tcp:1234", &cfg), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_uints),
	    cmocka_unit_test(test_serial),
	    cmocka_unit_test(test_dirty_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
