// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the --net specification parser of virtio-net. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "virtio/virtio_net.h"

static void assert_mac(const uint8_t *mac, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e,
		       uint8_t f)
{
	const uint8_t want[VIRTIO_NET_MAC_LEN] = {a, b, c, d, e, f};

	assert_memory_equal(mac, want, VIRTIO_NET_MAC_LEN);
}

static void test_tap_only_gets_default_mac(void **state)
{
	struct virtio_net_config_opts o;

	assert_int_equal(virtio_net_parse("tap=tap0", &o), 0);
	assert_string_equal(o.tap, "tap0");
	/* 52:54:00 then the low three bytes of FNV-1a("tap0") = 0x...4a63d6 */
	assert_mac(o.mac, 0x52, 0x54, 0x00, 0x4a, 0x63, 0xd6);

	assert_int_equal(virtio_net_parse("tap=pt0", &o), 0);
	assert_mac(o.mac, 0x52, 0x54, 0x00, 0x75, 0xe4, 0x23);
}

static void test_default_mac_stable_and_distinct(void **state)
{
	uint8_t a[VIRTIO_NET_MAC_LEN], b[VIRTIO_NET_MAC_LEN], c[VIRTIO_NET_MAC_LEN];

	virtio_net_default_mac("pt0", a);
	virtio_net_default_mac("pt0", b);
	virtio_net_default_mac("pt1", c);
	assert_memory_equal(a, b, VIRTIO_NET_MAC_LEN);
	assert_memory_not_equal(a, c, VIRTIO_NET_MAC_LEN);
	/* locally administered, unicast */
	assert_int_equal(a[0] & 3, 2);
	assert_int_equal(c[0] & 3, 2);
}

static void test_explicit_mac_any_order(void **state)
{
	struct virtio_net_config_opts o;

	assert_int_equal(virtio_net_parse("tap=pt1,mac=52:54:00:12:34:56", &o), 0);
	assert_string_equal(o.tap, "pt1");
	assert_mac(o.mac, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

	assert_int_equal(virtio_net_parse("mac=02:AB:cd:Ef:00:ff,tap=x", &o), 0);
	assert_string_equal(o.tap, "x");
	assert_mac(o.mac, 0x02, 0xab, 0xcd, 0xef, 0x00, 0xff);
}

static void test_name_lengths(void **state)
{
	struct virtio_net_config_opts o;

	assert_int_equal(virtio_net_parse("tap=abcdefghijklmno", &o), 0); /* 15 */
	assert_string_equal(o.tap, "abcdefghijklmno");
	assert_int_equal(virtio_net_parse("tap=abcdefghijklmnop", &o), -EINVAL); /* 16 */
	assert_int_equal(o.tap[0], 0);
	assert_int_equal(virtio_net_parse("tap=", &o), -EINVAL);
}

static void test_bad_names(void **state)
{
	struct virtio_net_config_opts o;

	assert_int_equal(virtio_net_parse("tap=a/b", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=a:1", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=tap%d", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=a b", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=.", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=..", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=a\tb", &o), -EINVAL);
}

static void test_bad_macs(void **state)
{
	struct virtio_net_config_opts o;

	/* multicast / broadcast */
	assert_int_equal(virtio_net_parse("tap=t,mac=01:00:5e:00:00:01", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=t,mac=ff:ff:ff:ff:ff:ff", &o), -EINVAL);
	/* all zero */
	assert_int_equal(virtio_net_parse("tap=t,mac=00:00:00:00:00:00", &o), -EINVAL);
	/* shape */
	assert_int_equal(virtio_net_parse("tap=t,mac=52:54:00:12:34", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=t,mac=52:54:00:12:34:567", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=t,mac=52-54-00-12-34-56", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=t,mac=5:54:00:12:34:56:", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=t,mac=52:54:00:12:34:5g", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=t,mac=", &o), -EINVAL);
	assert_int_equal(o.tap[0], 0);
}

static void test_keys(void **state)
{
	struct virtio_net_config_opts o;

	assert_int_equal(virtio_net_parse(NULL, &o), -EINVAL);
	assert_int_equal(virtio_net_parse("", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("pt0", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("mac=52:54:00:12:34:56", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=a,tap=b", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=a,mac=52:54:00:12:34:56,mac=52:54:00:12:34:57", &o),
			 -EINVAL);
	assert_int_equal(virtio_net_parse("tap=a,model=virtio", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("tap=a,", &o), -EINVAL);
	assert_int_equal(virtio_net_parse(",tap=a", &o), -EINVAL);
	assert_int_equal(virtio_net_parse("TAP=a", &o), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tap_only_gets_default_mac),
	    cmocka_unit_test(test_default_mac_stable_and_distinct),
	    cmocka_unit_test(test_explicit_mac_any_order),
	    cmocka_unit_test(test_name_lengths),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_bad_macs),
	    cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
