// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the ACPI PM1 block: the fixed power button, its SCI, S5 and reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dev/acpi_pm.h"

#define MAX_EVENTS 16
#define TEST_SCI 9

struct fake {
	unsigned int nr_irq_events;
	struct {
		unsigned int gsi;
		int level;
	} ev[MAX_EVENTS];
	unsigned int resets, poweroffs;
};

static void fake_set_irq(void *ctx, unsigned int gsi, int level)
{
	struct fake *f = ctx;

	if (f->nr_irq_events < MAX_EVENTS) {
		f->ev[f->nr_irq_events].gsi = gsi;
		f->ev[f->nr_irq_events].level = level;
	}
	f->nr_irq_events++;
}

static void fake_reset(void *ctx)
{
	((struct fake *)ctx)->resets++;
}

static void fake_poweroff(void *ctx)
{
	((struct fake *)ctx)->poweroffs++;
}

static const struct platform_ops fake_ops = {
    .set_irq = fake_set_irq,
    .request_reset = fake_reset,
    .request_poweroff = fake_poweroff,
};

struct fixture {
	struct fake f;
	struct platform p;
	struct acpi_pm pm;
};

static int setup(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	fx->p.ops = &fake_ops;
	fx->p.ctx = &fx->f;
	acpi_pm_init(&fx->pm, &fx->p, TEST_SCI);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

/* As Linux reads them: 16-bit status at offset 0, 16-bit enable at offset 2. */
static uint16_t sts(struct acpi_pm *pm)
{
	return (uint16_t)acpi_pm_evt_ops.read(pm, 0, 2);
}

static uint16_t en(struct acpi_pm *pm)
{
	return (uint16_t)acpi_pm_evt_ops.read(pm, 2, 2);
}

static void set_en(struct acpi_pm *pm, uint16_t v)
{
	acpi_pm_evt_ops.write(pm, 2, 2, v);
}

static void clear_sts(struct acpi_pm *pm, uint16_t v)
{
	acpi_pm_evt_ops.write(pm, 0, 2, v);
}

static void assert_last_irq(const struct fake *f, unsigned int n, int level)
{
	assert_int_equal(f->nr_irq_events, n);
	assert_int_equal(f->ev[n - 1].gsi, TEST_SCI);
	assert_int_equal(f->ev[n - 1].level, level);
}

static void test_press_sets_status(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sts(&fx->pm), 0);
	assert_int_equal(acpi_pm_power_button(&fx->pm), 0);
	assert_int_equal(sts(&fx->pm), ACPI_PM1_PWRBTN);
	/* the high byte alone, as a byte read at offset 1 */
	assert_int_equal(acpi_pm_evt_ops.read(&fx->pm, 1, 1) & 0xff, ACPI_PM1_PWRBTN >> 8);
	assert_int_equal(acpi_pm_evt_ops.read(&fx->pm, 0, 1) & 0xff, 0);
	/* not enabled: the status is latched, but no SCI */
	assert_int_equal(fx->f.nr_irq_events, 0);
}

static void test_press_when_enabled_raises_sci(void **state)
{
	struct fixture *fx = *state;

	set_en(&fx->pm, ACPI_PM1_PWRBTN);
	assert_int_equal(en(&fx->pm), ACPI_PM1_PWRBTN);
	assert_int_equal(fx->f.nr_irq_events, 0);
	acpi_pm_power_button(&fx->pm);
	assert_last_irq(&fx->f, 1, 1);
	/* a second press while pending changes nothing on the line */
	acpi_pm_power_button(&fx->pm);
	assert_int_equal(fx->f.nr_irq_events, 1);
}

static void test_enable_after_press_raises_sci(void **state)
{
	struct fixture *fx = *state;

	acpi_pm_power_button(&fx->pm);
	assert_int_equal(fx->f.nr_irq_events, 0);
	set_en(&fx->pm, ACPI_PM1_PWRBTN);
	assert_last_irq(&fx->f, 1, 1);
	/* disabling lowers it; the status stays */
	set_en(&fx->pm, 0);
	assert_last_irq(&fx->f, 2, 0);
	assert_int_equal(sts(&fx->pm), ACPI_PM1_PWRBTN);
}

static void test_clear_lowers_sci(void **state)
{
	struct fixture *fx = *state;

	set_en(&fx->pm, ACPI_PM1_PWRBTN);
	acpi_pm_power_button(&fx->pm);
	assert_last_irq(&fx->f, 1, 1);
	/* writing 0s clears nothing */
	clear_sts(&fx->pm, 0x00ff);
	assert_int_equal(sts(&fx->pm), ACPI_PM1_PWRBTN);
	assert_int_equal(fx->f.nr_irq_events, 1);
	/* write 1 to clear, as a byte at offset 1 */
	acpi_pm_evt_ops.write(&fx->pm, 1, 1, ACPI_PM1_PWRBTN >> 8);
	assert_int_equal(sts(&fx->pm), 0);
	assert_last_irq(&fx->f, 2, 0);
	/* the enable bit stays: the next press raises it again */
	assert_int_equal(en(&fx->pm), ACPI_PM1_PWRBTN);
	acpi_pm_power_button(&fx->pm);
	assert_last_irq(&fx->f, 3, 1);
	clear_sts(&fx->pm, 0xffff);
	assert_last_irq(&fx->f, 4, 0);
}

static void test_enable_in_one_dword(void **state)
{
	struct fixture *fx = *state;

	acpi_pm_power_button(&fx->pm);
	/* a 32-bit write: clear nothing, enable PWRBTN */
	acpi_pm_evt_ops.write(&fx->pm, 0, 4, (uint64_t)ACPI_PM1_PWRBTN << 16);
	assert_last_irq(&fx->f, 1, 1);
	assert_int_equal(acpi_pm_evt_ops.read(&fx->pm, 0, 4) & 0xffffffff,
			 ACPI_PM1_PWRBTN | (ACPI_PM1_PWRBTN << 16));
}

static void test_unsupported_events_no_sci(void **state)
{
	struct fixture *fx = *state;
	struct acpi_pm_state s;

	/* every enable bit, but only PWRBTN can be pending */
	set_en(&fx->pm, 0xffff);
	assert_int_equal(fx->f.nr_irq_events, 0);
	/* a restored state with another status bit set does not raise the SCI */
	acpi_pm_save(&fx->pm, &s);
	s.sts = 0x0001; /* TMR_STS */
	acpi_pm_restore(&fx->pm, &s);
	assert_last_irq(&fx->f, 1, 0);
}

static void test_sci_en_gates(void **state)
{
	struct fixture *fx = *state;
	struct acpi_pm_state s;

	acpi_pm_save(&fx->pm, &s);
	s.cnt = 0; /* SCI_EN clear (only a restore can do it: petrel keeps it set) */
	s.en = ACPI_PM1_PWRBTN;
	acpi_pm_restore(&fx->pm, &s);
	assert_last_irq(&fx->f, 1, 0);
	acpi_pm_power_button(&fx->pm);
	assert_int_equal(sts(&fx->pm), ACPI_PM1_PWRBTN);
	assert_int_equal(fx->f.nr_irq_events, 1);
	/* a PM1 control write sets SCI_EN again, and the pending press comes through */
	acpi_pm_cnt_ops.write(&fx->pm, 0, 2, 0);
	assert_int_equal(acpi_pm_cnt_ops.read(&fx->pm, 0, 2) & ACPI_PM1_CNT_SCI_EN,
			 ACPI_PM1_CNT_SCI_EN);
	assert_last_irq(&fx->f, 2, 1);
}

static void test_save_restore(void **state)
{
	struct fixture *fx = *state;
	struct acpi_pm_state s, back;
	struct fake f2 = {0};
	struct platform p2 = {.ops = &fake_ops, .ctx = &f2};
	struct acpi_pm pm2;

	set_en(&fx->pm, ACPI_PM1_PWRBTN);
	acpi_pm_power_button(&fx->pm);
	acpi_pm_reset_ops.write(&fx->pm, 0, 1, 0x02);
	acpi_pm_save(&fx->pm, &s);
	assert_int_equal(s.sts, ACPI_PM1_PWRBTN);
	assert_int_equal(s.en, ACPI_PM1_PWRBTN);
	assert_int_equal(s.reset_reg, 0x02);
	assert_int_equal(s.sci_level, 1);

	/* a fresh device takes the state and drives the line up at once */
	acpi_pm_init(&pm2, &p2, TEST_SCI);
	acpi_pm_restore(&pm2, &s);
	assert_int_equal(f2.nr_irq_events, 1);
	assert_int_equal(f2.ev[0].gsi, TEST_SCI);
	assert_int_equal(f2.ev[0].level, 1);
	acpi_pm_save(&pm2, &back);
	assert_memory_equal(&s, &back, sizeof(s));
	assert_int_equal(sts(&pm2), ACPI_PM1_PWRBTN);
	assert_int_equal(acpi_pm_reset_ops.read(&pm2, 0, 1), 0x02);
	/* and the guest's clear lowers it there */
	clear_sts(&pm2, ACPI_PM1_PWRBTN);
	assert_int_equal(f2.nr_irq_events, 2);
	assert_int_equal(f2.ev[1].level, 0);

	/* a saved level that disagrees with the registers is not trusted */
	s.sci_level = 0;
	f2.nr_irq_events = 0;
	acpi_pm_restore(&pm2, &s);
	assert_int_equal(f2.nr_irq_events, 1);
	assert_int_equal(f2.ev[0].level, 1);
	pthread_mutex_destroy(&pm2.lock);
}

static void test_poweroff_s5(void **state)
{
	struct fixture *fx = *state;

	/* SLP_TYP alone does nothing */
	acpi_pm_cnt_ops.write(&fx->pm, 0, 2, ACPI_PM_SLP_TYP_S5 << 10);
	assert_int_equal(fx->f.poweroffs, 0);
	/* another sleep type with SLP_EN is not S5 */
	acpi_pm_cnt_ops.write(&fx->pm, 0, 2, (1 << 10) | 0x2000);
	assert_int_equal(fx->f.poweroffs, 0);
	acpi_pm_cnt_ops.write(&fx->pm, 0, 2, (ACPI_PM_SLP_TYP_S5 << 10) | 0x2000);
	assert_int_equal(fx->f.poweroffs, 1);
	/* SLP_EN reads back as 0 */
	assert_int_equal(acpi_pm_cnt_ops.read(&fx->pm, 0, 2) & 0x2000, 0);
	assert_int_equal(fx->f.nr_irq_events, 0);
	assert_int_equal(fx->f.resets, 0);
}

static void test_poweroff_after_press(void **state)
{
	struct fixture *fx = *state;

	/* what a guest does with the press: enable, see the SCI, clear, go to S5 */
	set_en(&fx->pm, ACPI_PM1_PWRBTN);
	acpi_pm_power_button(&fx->pm);
	assert_last_irq(&fx->f, 1, 1);
	clear_sts(&fx->pm, sts(&fx->pm));
	assert_last_irq(&fx->f, 2, 0);
	acpi_pm_cnt_ops.write(&fx->pm, 0, 2,
			      (ACPI_PM_SLP_TYP_S5 << 10) | 0x2000 | ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(fx->f.poweroffs, 1);
}

static void test_reset_register(void **state)
{
	struct fixture *fx = *state;

	acpi_pm_reset_ops.write(&fx->pm, 0, 1, 0x02);
	assert_int_equal(fx->f.resets, 0);
	acpi_pm_reset_ops.write(&fx->pm, 0, 1, 0x06);
	assert_int_equal(fx->f.resets, 1);
	assert_int_equal(acpi_pm_reset_ops.read(&fx->pm, 0, 1), 0x06);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_press_sets_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_press_when_enabled_raises_sci, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enable_after_press_raises_sci, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clear_lowers_sci, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enable_in_one_dword, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsupported_events_no_sci, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sci_en_gates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_poweroff_s5, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_poweroff_after_press, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_register, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
