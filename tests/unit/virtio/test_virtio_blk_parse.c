// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the --disk specification parser of virtio-blk. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "virtio/virtio_blk.h"

static void test_path_only(void **state)
{
	struct virtio_blk_config_opts o;

	assert_int_equal(virtio_blk_parse("path=/tmp/disk.img", &o), 0);
	assert_string_equal(o.path, "/tmp/disk.img");
	assert_false(o.readonly);
	assert_false(o.direct);
	assert_null(o.serial);
	virtio_blk_opts_free(&o);
	assert_null(o.path);
}

static void test_direct(void **state)
{
	struct virtio_blk_config_opts o;

	assert_int_equal(virtio_blk_parse("path=a,direct=on", &o), 0);
	assert_true(o.direct);
	assert_false(o.readonly);
	virtio_blk_opts_free(&o);
	assert_false(o.direct);
	assert_int_equal(virtio_blk_parse("direct=off,readonly=on,path=a", &o), 0);
	assert_false(o.direct);
	assert_true(o.readonly);
	virtio_blk_opts_free(&o);
}

/* Which buffers direct I/O can take as they are. */
static void test_iov_aligned(void **state)
{
	static uint8_t buf[16384] __attribute__((aligned(4096)));
	struct iovec iov[3] = {
	    {.iov_base = buf, .iov_len = 4096},
	    {.iov_base = buf + 8192, .iov_len = 512},
	    {.iov_base = buf + 9216, .iov_len = 1024},
	};

	assert_true(virtio_blk_iov_aligned(iov, 3, 512));
	assert_false(virtio_blk_iov_aligned(iov, 3, 4096)); /* 512-byte pieces */
	assert_true(virtio_blk_iov_aligned(iov, 1, 4096));
	assert_true(virtio_blk_iov_aligned(iov, 0, 4096));
	iov[2].iov_len = 1000; /* a length off the alignment */
	assert_false(virtio_blk_iov_aligned(iov, 3, 512));
	assert_true(virtio_blk_iov_aligned(iov, 3, 8));
	iov[2].iov_len = 1024;
	iov[1].iov_base = buf + 8193; /* a start off the alignment */
	assert_false(virtio_blk_iov_aligned(iov, 3, 512));
	assert_true(virtio_blk_iov_aligned(iov, 3, 1));
}

static void test_all_keys_any_order(void **state)
{
	struct virtio_blk_config_opts o;

	assert_int_equal(virtio_blk_parse("serial=ABC123,readonly=on,path=a.raw", &o), 0);
	assert_string_equal(o.path, "a.raw");
	assert_true(o.readonly);
	assert_string_equal(o.serial, "ABC123");
	virtio_blk_opts_free(&o);

	assert_int_equal(virtio_blk_parse("path=b.raw,readonly=off", &o), 0);
	assert_string_equal(o.path, "b.raw");
	assert_false(o.readonly);
	virtio_blk_opts_free(&o);
}

static void test_path_with_equals(void **state)
{
	struct virtio_blk_config_opts o;

	assert_int_equal(virtio_blk_parse("path=dir/x=y.img", &o), 0);
	assert_string_equal(o.path, "dir/x=y.img");
	virtio_blk_opts_free(&o);
}

static void test_serial_lengths(void **state)
{
	struct virtio_blk_config_opts o;

	assert_int_equal(virtio_blk_parse("path=d,serial=12345678901234567890", &o), 0);
	assert_int_equal(strlen(o.serial), 20);
	virtio_blk_opts_free(&o);
	assert_int_equal(virtio_blk_parse("path=d,serial=123456789012345678901", &o), -EINVAL);
	assert_null(o.path);
	assert_null(o.serial);
	assert_int_equal(virtio_blk_parse("path=d,serial=", &o), 0);
	assert_string_equal(o.serial, "");
	virtio_blk_opts_free(&o);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "path=",
	    "readonly=on",
	    "serial=x",
	    "/tmp/disk.img",
	    "path=a,readonly",
	    "path=a,readonly=yes",
	    "path=a,readonly=ON",
	    "path=a,ro=on",
	    "path=a,format=raw",
	    "path=a,",
	    ",path=a",
	    "path=a,,readonly=on",
	    "path=a,path=b",
	    "path=a,readonly=on,readonly=off",
	    "path=a,direct=on,direct=on",
	    "path=a,direct=yes",
	    "path=a,direct",
	    "path=a,serial=x,serial=y",
	    "=a",
	    "PATH=a",
	};
	struct virtio_blk_config_opts o;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = virtio_blk_parse(bad[i], &o);

		if (ret != -EINVAL)
			fail_msg("\"%s\" gave %d", bad[i], ret);
		assert_null(o.path);
		assert_null(o.serial);
		assert_false(o.readonly);
		assert_false(o.direct);
	}
	assert_int_equal(virtio_blk_parse(NULL, &o), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_only),	     cmocka_unit_test(test_all_keys_any_order),
	    cmocka_unit_test(test_path_with_equals), cmocka_unit_test(test_serial_lengths),
	    cmocka_unit_test(test_rejects),	     cmocka_unit_test(test_direct),
	    cmocka_unit_test(test_iov_aligned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
