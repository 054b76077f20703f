// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the legacy devices' saved state: what the guest made of a
 * device goes into a fresh one and reads back the same; a state the guest
 * could not have made is refused, naming the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dev/acpi_pm.h"
#include "dev/i8042.h"
#include "dev/rtc_cmos.h"
#include "dev/uart16550.h"

static int irq_level[16];

static void set_irq(void *ctx, unsigned int gsi, int level)
{
	if (gsi < 16)
		irq_level[gsi] = level;
}

static const struct platform_ops ops = {.set_irq = set_irq};
static const struct platform plat = {.ops = &ops};

static void test_uart(void **state)
{
	struct uart a, b;
	struct uart_state s, s2;
	const uint8_t in[3] = {'a', 'b', 'c'};

	uart_init(&a, &plat, 4, NULL, NULL);
	uart_init(&b, &plat, 4, NULL, NULL);
	uart_bus_ops.write(&a, 4, 1, 0x08); /* MCR: OUT2 */
	uart_bus_ops.write(&a, 1, 1, 0x01); /* IER: received data */
	uart_bus_ops.write(&a, 7, 1, 0x5a); /* scratch */
	assert_int_equal(uart_push_input(&a, in, sizeof(in)), 3);
	assert_int_equal(uart_bus_ops.read(&a, 0, 1), 'a');
	uart_save(&a, &s);
	assert_null(uart_state_check(&s));
	irq_level[4] = 0;
	uart_restore(&b, &s);
	assert_int_equal(irq_level[4], 1); /* data waiting, interrupt enabled: the line is up */
	uart_save(&b, &s2);
	assert_memory_equal(&s, &s2, sizeof(s));
	assert_int_equal(uart_bus_ops.read(&b, 0, 1), 'b');
	assert_int_equal(uart_bus_ops.read(&b, 7, 1), 0x5a);

	s2 = s;
	s2.rx_head = 16;
	assert_string_equal(uart_state_check(&s2), "rx_head");
	s2 = s;
	s2.rx_len = 17;
	assert_string_equal(uart_state_check(&s2), "rx_len");
	s2 = s;
	s2.ier = 0x10;
	assert_string_equal(uart_state_check(&s2), "ier");
	s2 = s;
	s2.irq_level = 0; /* disagrees with the registers */
	assert_string_equal(uart_state_check(&s2), "irq_level");
	s2 = s;
	s2.lsr &= (uint8_t)~0x01; /* bytes in the FIFO but no data ready */
	assert_string_equal(uart_state_check(&s2), "lsr");
	uart_destroy(&a);
	uart_destroy(&b);
}

static void test_rtc(void **state)
{
	struct rtc_cmos a, b;
	struct rtc_cmos_state s, s2;

	rtc_cmos_init(&a, &plat, 64 << 20, 0);
	rtc_cmos_init(&b, &plat, 128 << 20, 0);
	rtc_cmos_ops.write(&a, 0, 1, 0x80 | 0x40); /* NMI masked, index 0x40 */
	rtc_cmos_ops.write(&a, 1, 1, 0x77);
	rtc_cmos_save(&a, &s);
	assert_null(rtc_cmos_state_check(&s));
	rtc_cmos_restore(&b, &s);
	rtc_cmos_save(&b, &s2);
	assert_memory_equal(&s, &s2, sizeof(s));
	assert_int_equal(rtc_cmos_ops.read(&b, 1, 1), 0x77);

	s2 = s;
	s2.index = 0x80;
	assert_string_equal(rtc_cmos_state_check(&s2), "index");
	s2 = s;
	s2.nmi_masked = 2;
	assert_string_equal(rtc_cmos_state_check(&s2), "nmi_masked");
}

static void test_i8042(void **state)
{
	struct i8042 a, b;
	struct i8042_state s, s2;

	i8042_init(&a, &plat);
	i8042_init(&b, &plat);
	i8042_cmd_ops.write(&a, 0, 1, 0x60); /* write the command byte */
	i8042_data_ops.write(&a, 0, 1, 0x45);
	i8042_data_ops.write(&a, 0, 1, 0xf2); /* keyboard: identify, three bytes queued */
	i8042_save(&a, &s);
	assert_null(i8042_state_check(&s));
	i8042_restore(&b, &s);
	i8042_save(&b, &s2);
	assert_memory_equal(&s, &s2, sizeof(s));
	assert_int_equal(i8042_data_ops.read(&a, 0, 1), i8042_data_ops.read(&b, 0, 1));

	s2 = s;
	s2.qhead = 16;
	assert_string_equal(i8042_state_check(&s2), "qhead");
	s2 = s;
	s2.qlen = 17;
	assert_string_equal(i8042_state_check(&s2), "qlen");
	s2 = s;
	s2.kbd_disabled = 3;
	assert_string_equal(i8042_state_check(&s2), "kbd_disabled");
}

static void test_acpi_pm(void **state)
{
	struct acpi_pm a, b;
	struct acpi_pm_state s, s2;

	acpi_pm_init(&a, &plat, 9);
	acpi_pm_init(&b, &plat, 9);
	acpi_pm_evt_ops.write(&a, 2, 2, ACPI_PM1_PWRBTN); /* enable the power button */
	acpi_pm_power_button(&a);			  /* pressed: the SCI is up */
	acpi_pm_save(&a, &s);
	assert_null(acpi_pm_state_check(&s));
	irq_level[9] = 0;
	acpi_pm_restore(&b, &s);
	assert_int_equal(irq_level[9], 1);
	acpi_pm_save(&b, &s2);
	assert_memory_equal(&s, &s2, sizeof(s));
	assert_int_equal(acpi_pm_evt_ops.read(&b, 0, 2) & ACPI_PM1_PWRBTN, ACPI_PM1_PWRBTN);

	s2 = s;
	s2.sts |= 0x0001;
	assert_string_equal(acpi_pm_state_check(&s2), "sts");
	s2 = s;
	s2.cnt = 0;
	assert_string_equal(acpi_pm_state_check(&s2), "cnt");
	s2 = s;
	s2.sci_level = 0;
	assert_string_equal(acpi_pm_state_check(&s2), "sci_level");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uart),
	    cmocka_unit_test(test_rtc),
	    cmocka_unit_test(test_i8042),
	    cmocka_unit_test(test_acpi_pm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
