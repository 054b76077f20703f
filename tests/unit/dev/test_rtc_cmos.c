// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the CMOS RTC: time registers, guest-set time, memory bytes, NMI bit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/rtc_cmos.h"

#define NS 1000000000ULL
#define MIB (1024ULL * 1024)
#define GIB (1024ULL * MIB)
#define T_2024_02_29_235958 1709251198ULL

struct fake {
	uint64_t now_ns;
	unsigned int irqs, resets;
};

static void fake_set_irq(void *ctx, unsigned int gsi, int level)
{
	((struct fake *)ctx)->irqs++;
}

static void fake_reset(void *ctx)
{
	((struct fake *)ctx)->resets++;
}

static uint64_t fake_clock(void *ctx)
{
	return ((struct fake *)ctx)->now_ns;
}

static const struct platform_ops fake_ops = {
    .set_irq = fake_set_irq,
    .request_reset = fake_reset,
    .clock_ns = fake_clock,
};

struct fixture {
	struct fake f;
	struct platform p;
	struct rtc_cmos rtc;
};

static int setup(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	fx->f.now_ns = T_2024_02_29_235958 * NS + 123456789;
	fx->p.ops = &fake_ops;
	fx->p.ctx = &fx->f;
	rtc_cmos_init(&fx->rtc, &fx->p, 256 * MIB, 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

static uint8_t get(struct rtc_cmos *rtc, uint8_t idx)
{
	rtc_cmos_ops.write(rtc, 0, 1, idx);
	return (uint8_t)rtc_cmos_ops.read(rtc, 1, 1);
}

static void set(struct rtc_cmos *rtc, uint8_t idx, uint8_t val)
{
	rtc_cmos_ops.write(rtc, 0, 1, idx);
	rtc_cmos_ops.write(rtc, 1, 1, val);
}

static void test_bcd_time(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;

	assert_int_equal(get(rtc, RTC_REG_B), 0x02);
	assert_int_equal(get(rtc, RTC_SECONDS), 0x58);
	assert_int_equal(get(rtc, RTC_MINUTES), 0x59);
	assert_int_equal(get(rtc, RTC_HOURS), 0x23);
	assert_int_equal(get(rtc, RTC_DAY_OF_WEEK), 0x05); /* Thursday, Sunday = 1 */
	assert_int_equal(get(rtc, RTC_DAY_OF_MONTH), 0x29);
	assert_int_equal(get(rtc, RTC_MONTH), 0x02);
	assert_int_equal(get(rtc, RTC_YEAR), 0x24);
	assert_int_equal(get(rtc, RTC_CENTURY), 0x20);

	/* the clock is read on every access */
	fx->f.now_ns += 2 * NS;
	assert_int_equal(get(rtc, RTC_SECONDS), 0x00);
	assert_int_equal(get(rtc, RTC_MINUTES), 0x00);
	assert_int_equal(get(rtc, RTC_HOURS), 0x00);
	assert_int_equal(get(rtc, RTC_DAY_OF_WEEK), 0x06);
	assert_int_equal(get(rtc, RTC_DAY_OF_MONTH), 0x01);
	assert_int_equal(get(rtc, RTC_MONTH), 0x03);
}

static void test_binary_time(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;

	set(rtc, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	assert_int_equal(get(rtc, RTC_SECONDS), 58);
	assert_int_equal(get(rtc, RTC_MINUTES), 59);
	assert_int_equal(get(rtc, RTC_HOURS), 23);
	assert_int_equal(get(rtc, RTC_DAY_OF_WEEK), 5);
	assert_int_equal(get(rtc, RTC_DAY_OF_MONTH), 29);
	assert_int_equal(get(rtc, RTC_MONTH), 2);
	assert_int_equal(get(rtc, RTC_YEAR), 24);
	assert_int_equal(get(rtc, RTC_CENTURY), 20);
}

static void test_12h_mode(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;

	set(rtc, RTC_REG_B, 0); /* 12 h, BCD */
	assert_int_equal(get(rtc, RTC_HOURS), RTC_HOURS_PM | 0x11);
	set(rtc, RTC_REG_B, RTC_B_DM_BINARY); /* 12 h, binary */
	assert_int_equal(get(rtc, RTC_HOURS), RTC_HOURS_PM | 11);
	fx->f.now_ns += 2 * NS; /* midnight is 12 AM */
	assert_int_equal(get(rtc, RTC_HOURS), 12);
	fx->f.now_ns += 12 * 3600 * NS; /* noon is 12 PM */
	assert_int_equal(get(rtc, RTC_HOURS), RTC_HOURS_PM | 12);
	fx->f.now_ns += 3600 * NS;
	assert_int_equal(get(rtc, RTC_HOURS), RTC_HOURS_PM | 1);
}

static void test_century(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;

	fx->f.now_ns = 946684799ULL * NS; /* 1999-12-31 23:59:59 */
	assert_int_equal(get(rtc, RTC_YEAR), 0x99);
	assert_int_equal(get(rtc, RTC_CENTURY), 0x19);
	fx->f.now_ns += NS;
	assert_int_equal(get(rtc, RTC_YEAR), 0x00);
	assert_int_equal(get(rtc, RTC_CENTURY), 0x20);
}

static void test_guest_sets_time(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;
	struct rtc_cmos_state st;

	/* as hwclock does: SET, all fields, clear SET (2031-07-15 13:45:30) */
	set(rtc, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	set(rtc, RTC_SECONDS, 0x30);
	set(rtc, RTC_MINUTES, 0x45);
	set(rtc, RTC_HOURS, 0x13);
	set(rtc, RTC_DAY_OF_WEEK, 0x03);
	set(rtc, RTC_DAY_OF_MONTH, 0x15);
	set(rtc, RTC_MONTH, 0x07);
	set(rtc, RTC_YEAR, 0x31);
	set(rtc, RTC_CENTURY, 0x20);
	/* frozen while SET is held */
	fx->f.now_ns += 5 * NS;
	assert_int_equal(get(rtc, RTC_SECONDS), 0x30);
	set(rtc, RTC_REG_B, RTC_B_24H);

	fx->f.now_ns += 10 * NS;
	assert_int_equal(get(rtc, RTC_SECONDS), 0x40);
	assert_int_equal(get(rtc, RTC_MINUTES), 0x45);
	assert_int_equal(get(rtc, RTC_HOURS), 0x13);
	assert_int_equal(get(rtc, RTC_DAY_OF_WEEK), 0x03); /* Tuesday */
	assert_int_equal(get(rtc, RTC_DAY_OF_MONTH), 0x15);
	assert_int_equal(get(rtc, RTC_MONTH), 0x07);
	assert_int_equal(get(rtc, RTC_YEAR), 0x31);
	assert_int_equal(get(rtc, RTC_CENTURY), 0x20);

	/* the offset survives save/restore into a fresh device */
	rtc_cmos_save(rtc, &st);
	rtc_cmos_init(rtc, &fx->p, 256 * MIB, 0);
	assert_int_equal(get(rtc, RTC_YEAR), 0x24);
	rtc_cmos_restore(rtc, &st);
	assert_int_equal(get(rtc, RTC_YEAR), 0x31);
	assert_int_equal(get(rtc, RTC_SECONDS), 0x40);

	/* 12 h binary set: 1 PM */
	set(rtc, RTC_REG_B, RTC_B_SET | RTC_B_DM_BINARY);
	set(rtc, RTC_HOURS, RTC_HOURS_PM | 1);
	set(rtc, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
	assert_int_equal(get(rtc, RTC_HOURS), 13);

	/* one field written while the clock runs */
	set(rtc, RTC_MINUTES, 7);
	assert_int_equal(get(rtc, RTC_MINUTES), 7);
	assert_int_equal(get(rtc, RTC_HOURS), 13);
}

static void test_invalid_time_ignored(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;
	struct rtc_cmos_state st;

	set(rtc, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	set(rtc, RTC_MONTH, 0x13);
	set(rtc, RTC_CENTURY, 0x99);
	set(rtc, RTC_HOURS, 0xff);
	set(rtc, RTC_REG_B, RTC_B_24H);
	rtc_cmos_save(rtc, &st);
	assert_int_equal(st.offset_ns, 0);
	assert_int_equal(get(rtc, RTC_MONTH), 0x02);
	assert_int_equal(get(rtc, RTC_HOURS), 0x23);
}

static void test_control_registers(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;

	assert_int_equal(get(rtc, RTC_REG_A), 0x26);
	set(rtc, RTC_REG_A, 0xa6); /* UIP is read-only */
	assert_int_equal(get(rtc, RTC_REG_A), 0x26);
	set(rtc, RTC_REG_A, 0x2f);
	assert_int_equal(get(rtc, RTC_REG_A), 0x2f);

	/* interrupts enabled: accepted, never raised */
	set(rtc, RTC_REG_B, RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_24H);
	assert_int_equal(get(rtc, RTC_REG_B), RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_24H);
	fx->f.now_ns += 5 * NS;
	assert_int_equal(get(rtc, RTC_REG_C), 0);
	assert_int_equal(get(rtc, RTC_REG_C), 0);
	assert_int_equal(fx->f.irqs, 0);

	set(rtc, RTC_REG_C, 0xff);
	assert_int_equal(get(rtc, RTC_REG_C), 0);
	set(rtc, RTC_REG_D, 0x00);
	assert_int_equal(get(rtc, RTC_REG_D), RTC_D_VRT);

	set(rtc, RTC_SHUTDOWN_STATUS, 0x0a);
	assert_int_equal(get(rtc, RTC_SHUTDOWN_STATUS), 0x0a);
	set(rtc, 0x7f, 0x5a);
	assert_int_equal(get(rtc, 0x7f), 0x5a);
	assert_int_equal(fx->f.resets, 0);
}

static void test_memory_256m(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;

	assert_int_equal(get(rtc, 0x15), 0x80); /* 640 KiB */
	assert_int_equal(get(rtc, 0x16), 0x02);
	assert_int_equal(get(rtc, 0x17), 0x00); /* capped: 63 MiB above 1 MiB */
	assert_int_equal(get(rtc, 0x18), 0xfc);
	assert_int_equal(get(rtc, 0x30), 0x00);
	assert_int_equal(get(rtc, 0x31), 0xfc);
	assert_int_equal(get(rtc, 0x34), 0x00); /* 240 MiB = 0x0f00 * 64 KiB */
	assert_int_equal(get(rtc, 0x35), 0x0f);
	assert_int_equal(get(rtc, 0x5b), 0);
	assert_int_equal(get(rtc, 0x5c), 0);
	assert_int_equal(get(rtc, 0x5d), 0);
}

static void test_memory_small_and_large(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;

	rtc_cmos_init(rtc, &fx->p, 32 * MIB, 0);
	assert_int_equal(get(rtc, 0x17) | get(rtc, 0x18) << 8, 31 * 1024);
	assert_int_equal(get(rtc, 0x34) | get(rtc, 0x35) << 8, 16 * 16);

	/* 6 GiB: 3 GiB below the hole, 3 GiB above 4 GiB */
	rtc_cmos_init(rtc, &fx->p, 3 * GIB, 3 * GIB);
	assert_int_equal(get(rtc, 0x17) | get(rtc, 0x18) << 8, 0xfc00);
	assert_int_equal(get(rtc, 0x34), 0x00); /* 3056 MiB = 0xbf00 * 64 KiB */
	assert_int_equal(get(rtc, 0x35), 0xbf);
	assert_int_equal(get(rtc, 0x5b), 0x00); /* 3 GiB = 0xc000 * 64 KiB */
	assert_int_equal(get(rtc, 0x5c), 0xc0);
	assert_int_equal(get(rtc, 0x5d), 0x00);

	/* 6 GiB the other way: 2 GiB + 4 GiB needs the third byte */
	rtc_cmos_init(rtc, &fx->p, 2 * GIB, 4 * GIB);
	assert_int_equal(get(rtc, 0x5b), 0x00);
	assert_int_equal(get(rtc, 0x5c), 0x00);
	assert_int_equal(get(rtc, 0x5d), 0x01);
}

static void test_nmi_mask_kept_out_of_index(void **state)
{
	struct fixture *fx = *state;
	struct rtc_cmos *rtc = &fx->rtc;
	struct rtc_cmos_state st;

	rtc_cmos_ops.write(rtc, 0, 1, 0x80 | RTC_SHUTDOWN_STATUS);
	rtc_cmos_ops.write(rtc, 1, 1, 0x05);
	rtc_cmos_save(rtc, &st);
	assert_int_equal(st.index, RTC_SHUTDOWN_STATUS);
	assert_int_equal(st.nmi_masked, 1);
	assert_int_equal(st.cmos[RTC_SHUTDOWN_STATUS], 0x05);
	assert_int_equal(rtc_cmos_ops.read(rtc, 1, 1), 0x05);

	rtc_cmos_ops.write(rtc, 0, 1, 0xff); /* index 0x7f, masked */
	rtc_cmos_save(rtc, &st);
	assert_int_equal(st.index, 0x7f);
	assert_int_equal(st.nmi_masked, 1);
	rtc_cmos_ops.write(rtc, 0, 1, RTC_SHUTDOWN_STATUS);
	rtc_cmos_save(rtc, &st);
	assert_int_equal(st.nmi_masked, 0);

	/* hostile restore: the index is masked */
	st.index = 0xff;
	rtc_cmos_restore(rtc, &st);
	rtc_cmos_ops.write(rtc, 1, 1, 0x11);
	assert_int_equal(get(rtc, 0x7f), 0x11);

	/* offsets outside the two ports are harmless */
	rtc_cmos_ops.write(rtc, 2, 1, 0x00);
	assert_int_equal(rtc_cmos_ops.read(rtc, 0, 1), 0xff);
	assert_int_equal(rtc_cmos_ops.read(rtc, 5, 1), 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bcd_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_binary_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_12h_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_century, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guest_sets_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_time_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_registers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_256m, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_small_and_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nmi_mask_kept_out_of_index, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
