// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the i8042 PS/2 controller: commands, keyboard answers, IRQs, reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dev/i8042.h"

#define MAX_EVENTS 64

struct fake {
	unsigned int nr_irq_events;
	struct {
		unsigned int gsi;
		int level;
	} ev[MAX_EVENTS];
	unsigned int resets;
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

static const struct platform_ops fake_ops = {
    .set_irq = fake_set_irq,
    .request_reset = fake_reset,
};

struct fixture {
	struct fake f;
	struct platform p;
	struct i8042 k;
};

static int setup(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	fx->p.ops = &fake_ops;
	fx->p.ctx = &fx->f;
	i8042_init(&fx->k, &fx->p);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

static void cmd(struct i8042 *k, uint8_t c)
{
	i8042_cmd_ops.write(k, 0, 1, c);
}

static void data(struct i8042 *k, uint8_t v)
{
	i8042_data_ops.write(k, 0, 1, v);
}

static uint8_t status(struct i8042 *k)
{
	return (uint8_t)i8042_cmd_ops.read(k, 0, 1);
}

static uint8_t rd(struct i8042 *k)
{
	return (uint8_t)i8042_data_ops.read(k, 0, 1);
}

/* Read one byte, checking it was there. */
static uint8_t expect(struct i8042 *k)
{
	assert_true(status(k) & I8042_STR_OBF);
	return rd(k);
}

static void set_ctr(struct i8042 *k, uint8_t v)
{
	cmd(k, 0x60);
	data(k, v);
}

static void test_self_test(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	assert_int_equal(status(k) & (I8042_STR_OBF | I8042_STR_IBF), 0);
	set_ctr(k, 0x00); /* system flag follows the command byte */
	assert_int_equal(status(k) & I8042_STR_SYS, 0);

	cmd(k, 0xaa);
	assert_true(status(k) & I8042_STR_SYS);
	assert_true(status(k) & I8042_STR_CMD);
	assert_int_equal(status(k) & I8042_STR_AUXDATA, 0);
	assert_int_equal(expect(k), 0x55);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);

	cmd(k, 0xab);
	assert_int_equal(expect(k), 0x00);
	cmd(k, 0xa9);
	assert_int_equal(expect(k), 0x00);
	assert_int_equal(fx->f.resets, 0);
}

static void test_command_byte(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	cmd(k, 0x20);
	assert_int_equal(expect(k), 0x65);

	cmd(k, 0x60);
	assert_true(status(k) & I8042_STR_CMD);
	data(k, 0x47);
	assert_int_equal(status(k) & I8042_STR_CMD, 0);
	assert_int_equal(status(k) & I8042_STR_OBF, 0); /* swallowed, not sent to the kbd */
	cmd(k, 0x20);
	assert_int_equal(expect(k), 0x47);

	cmd(k, 0xa7);
	cmd(k, 0xad);
	cmd(k, 0x20);
	assert_int_equal(expect(k), 0x47 | I8042_CTR_AUXDIS | I8042_CTR_KBDDIS);
	cmd(k, 0xa8);
	cmd(k, 0xae);
	cmd(k, 0x20);
	assert_int_equal(expect(k), 0x47);

	/* output port */
	cmd(k, 0xd0);
	assert_int_equal(expect(k), 0x03);
	cmd(k, 0xd1);
	data(k, 0x01); /* A20 off, reset line high */
	cmd(k, 0xd0);
	assert_int_equal(expect(k), 0x01);
	assert_int_equal(fx->f.resets, 0);
}

static void test_reset_pulse(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	cmd(k, 0xff); /* pulses nothing */
	cmd(k, 0xf1);
	assert_int_equal(fx->f.resets, 0);
	cmd(k, 0xfe);
	assert_int_equal(fx->f.resets, 1);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);

	cmd(k, 0xd1);
	data(k, 0x00); /* output port reset line low */
	assert_int_equal(fx->f.resets, 2);
}

static void test_keyboard(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	data(k, 0xff);
	assert_int_equal(status(k) & I8042_STR_CMD, 0);
	assert_int_equal(expect(k), 0xfa);
	assert_int_equal(expect(k), 0xaa);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);

	data(k, 0xf2);
	assert_int_equal(expect(k), 0xfa);
	assert_int_equal(expect(k), 0xab);
	assert_int_equal(expect(k), 0x83);

	data(k, 0xed); /* LEDs with their parameter */
	data(k, 0x07);
	assert_int_equal(expect(k), 0xfa);
	assert_int_equal(expect(k), 0xfa);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);

	data(k, 0xf0); /* scan code set query */
	data(k, 0x00);
	assert_int_equal(expect(k), 0xfa);
	assert_int_equal(expect(k), 0xfa);
	assert_int_equal(expect(k), 0x02);

	data(k, 0xf4);
	assert_int_equal(expect(k), 0xfa);
	data(k, 0xee);
	assert_int_equal(expect(k), 0xee);

	/* empty: the last byte again, never blocking */
	assert_int_equal(rd(k), 0xee);
	assert_int_equal(rd(k), 0xee);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
}

static void test_aux(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	set_ctr(k, I8042_CTR_SYS); /* no interrupts */
	cmd(k, 0xd3);		   /* loopback */
	data(k, 0x5a);
	assert_true(status(k) & I8042_STR_AUXDATA);
	assert_int_equal(expect(k), 0x5a);
	assert_int_equal(status(k) & I8042_STR_AUXDATA, 0);

	cmd(k, 0xd4); /* mouse reset: nobody answers but the controller */
	data(k, 0xff);
	assert_true(status(k) & I8042_STR_AUXDATA);
	assert_int_equal(expect(k), 0xfe);

	cmd(k, 0xd2); /* kbd loopback */
	data(k, 0x1c);
	assert_int_equal(status(k) & I8042_STR_AUXDATA, 0);
	assert_int_equal(expect(k), 0x1c);
	assert_int_equal(fx->f.nr_irq_events, 0);

	set_ctr(k, I8042_CTR_SYS | I8042_CTR_AUXINT);
	cmd(k, 0xd3);
	data(k, 0xa5);
	assert_int_equal(fx->f.nr_irq_events, 2);
	assert_int_equal(fx->f.ev[0].gsi, 12);
	assert_int_equal(fx->f.ev[0].level, 1);
	assert_int_equal(fx->f.ev[1].gsi, 12);
	assert_int_equal(fx->f.ev[1].level, 0);
	assert_int_equal(expect(k), 0xa5);
}

static void test_irq1(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	set_ctr(k, I8042_CTR_SYS);
	data(k, 0xf4);
	assert_int_equal(fx->f.nr_irq_events, 0);
	assert_int_equal(expect(k), 0xfa);

	set_ctr(k, I8042_CTR_SYS | I8042_CTR_KBDINT);
	assert_int_equal(fx->f.nr_irq_events, 0);
	data(k, 0xf4);
	assert_int_equal(fx->f.nr_irq_events, 2);
	assert_int_equal(fx->f.ev[0].gsi, 1);
	assert_int_equal(fx->f.ev[0].level, 1);
	assert_int_equal(fx->f.ev[1].gsi, 1);
	assert_int_equal(fx->f.ev[1].level, 0);
	assert_int_equal(expect(k), 0xfa);

	/* two bytes: one interrupt each as each reaches the output buffer */
	fx->f.nr_irq_events = 0;
	data(k, 0xff);
	assert_int_equal(fx->f.nr_irq_events, 2);
	assert_int_equal(expect(k), 0xfa);
	assert_int_equal(fx->f.nr_irq_events, 4);
	assert_int_equal(expect(k), 0xaa);
	assert_int_equal(fx->f.nr_irq_events, 4);
	rd(k); /* empty read raises nothing */
	assert_int_equal(fx->f.nr_irq_events, 4);

	/* aux data does not raise IRQ1 */
	cmd(k, 0xd3);
	data(k, 0x01);
	assert_int_equal(fx->f.nr_irq_events, 4);
	rd(k);

	/* enabling the interrupt with a byte waiting raises it */
	set_ctr(k, I8042_CTR_SYS);
	data(k, 0xf4);
	assert_int_equal(fx->f.nr_irq_events, 4);
	set_ctr(k, I8042_CTR_SYS | I8042_CTR_KBDINT);
	assert_int_equal(fx->f.nr_irq_events, 6);
	assert_int_equal(expect(k), 0xfa);
}

static void test_queue_overflow(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;
	struct i8042_state st;
	unsigned int i;

	for (i = 0; i < 40; i++) {
		cmd(k, 0xd2);
		data(k, (uint8_t)i);
	}
	for (i = 0; i < 20; i++)
		data(k, 0xf2);
	i8042_save(k, &st);
	assert_int_equal(st.qlen, I8042_QUEUE_SIZE);
	for (i = 0; i < I8042_QUEUE_SIZE; i++)
		assert_int_equal(expect(k), i);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
	assert_int_equal(rd(k), I8042_QUEUE_SIZE - 1);

	/* wrap around the ring */
	for (i = 0; i < 5; i++) {
		data(k, 0xf2);
		assert_int_equal(expect(k), 0xfa);
		assert_int_equal(expect(k), 0xab);
		assert_int_equal(expect(k), 0x83);
	}

	/* hostile snapshot */
	memset(&st, 0xff, sizeof(st));
	i8042_restore(k, &st);
	i8042_save(k, &st);
	assert_true(st.qhead < I8042_QUEUE_SIZE);
	assert_true(st.qlen <= I8042_QUEUE_SIZE);
	for (i = 0; i < 40; i++)
		rd(k);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
}

static void test_unknown_commands(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;
	static const uint8_t unknown[] = {0x00, 0x01, 0x1f, 0x21, 0x3f, 0x7f, 0x90,
					  0xa0, 0xa1, 0xc0, 0xc1, 0xe0, 0xef};
	unsigned int i;

	for (i = 0; i < sizeof(unknown); i++)
		cmd(k, unknown[i]);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
	assert_int_equal(fx->f.resets, 0);
	assert_int_equal(fx->f.nr_irq_events, 0);

	/* an unknown command cancels a pending one: the data goes to the kbd */
	cmd(k, 0x60);
	cmd(k, 0x01);
	data(k, 0x12);
	assert_int_equal(expect(k), 0xfa);
	cmd(k, 0x20);
	assert_int_equal(expect(k), 0x65);

	/* every byte to the data port with any pending command is harmless */
	for (i = 0; i < 256; i++) {
		cmd(k, 0xd4);
		data(k, (uint8_t)i);
		data(k, (uint8_t)i);
		while (status(k) & I8042_STR_OBF)
			rd(k);
	}
	assert_int_equal(fx->f.resets, 0);
}

static const uint8_t cad_set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
static const uint8_t cad_set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
				   0x71, 0xf0, 0x11, 0xf0, 0x14};

/*
 * The guest reads @len bytes, each with OBF set and its own IRQ 1 pulse (the
 * first byte's came with the send, each next one's with the read before it).
 */
static void expect_keys(struct fixture *fx, const uint8_t *seq, unsigned int len)
{
	struct i8042 *k = &fx->k;
	unsigned int i, base;

	assert_true(fx->f.nr_irq_events >= 2);
	base = fx->f.nr_irq_events - 2;

	for (i = 0; i < len; i++) {
		/* the byte in the output buffer has raised its interrupt */
		assert_int_equal(fx->f.nr_irq_events, base + 2 * (i + 1));
		assert_int_equal(fx->f.ev[base + 2 * i].gsi, I8042_KBD_IRQ);
		assert_int_equal(fx->f.ev[base + 2 * i].level, 1);
		assert_int_equal(fx->f.ev[base + 2 * i + 1].gsi, I8042_KBD_IRQ);
		assert_int_equal(fx->f.ev[base + 2 * i + 1].level, 0);
		assert_int_equal(status(k) & I8042_STR_AUXDATA, 0);
		assert_int_equal(expect(k), seq[i]);
	}
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
	assert_int_equal(fx->f.nr_irq_events, base + 2 * len);
}

static void test_ctrl_alt_del_translated(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	/* as firmware leaves it: translation and the keyboard interrupt on */
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	expect_keys(fx, cad_set1, sizeof(cad_set1));
	assert_int_equal(fx->f.resets, 0);

	/* twice in a row */
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	expect_keys(fx, cad_set1, sizeof(cad_set1));
}

static void test_ctrl_alt_del_untranslated(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	set_ctr(k, I8042_CTR_SYS | I8042_CTR_KBDINT | I8042_CTR_AUXDIS);
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	expect_keys(fx, cad_set2, sizeof(cad_set2));
}

static void test_ctrl_alt_del_polled(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;
	unsigned int i;

	/* the keyboard interrupt off: the bytes are there to poll, no IRQ */
	set_ctr(k, I8042_CTR_SYS | I8042_CTR_XLATE);
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	for (i = 0; i < sizeof(cad_set1); i++)
		assert_int_equal(expect(k), cad_set1[i]);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
	assert_int_equal(fx->f.nr_irq_events, 0);
}

static void test_ctrl_alt_del_keyboard_off(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;

	/* the controller's keyboard interface disabled */
	cmd(k, 0xad);
	assert_int_equal(i8042_send_ctrl_alt_del(k), -EAGAIN);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
	assert_int_equal(fx->f.nr_irq_events, 0);
	cmd(k, 0xae);

	/* the keyboard told to stop scanning (atkbd does while probing) */
	data(k, 0xf5);
	assert_int_equal(expect(k), 0xfa);
	fx->f.nr_irq_events = 0;
	assert_int_equal(i8042_send_ctrl_alt_del(k), -EAGAIN);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
	assert_int_equal(fx->f.nr_irq_events, 0);
	data(k, 0xf4);
	assert_int_equal(expect(k), 0xfa);
	fx->f.nr_irq_events = 0;
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	expect_keys(fx, cad_set1, sizeof(cad_set1));

	/* a keyboard reset scans again */
	data(k, 0xf5);
	assert_int_equal(expect(k), 0xfa);
	data(k, 0xff);
	assert_int_equal(expect(k), 0xfa);
	assert_int_equal(expect(k), 0xaa);
	fx->f.nr_irq_events = 0;
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	expect_keys(fx, cad_set1, sizeof(cad_set1));
}

static void test_ctrl_alt_del_bounded(void **state)
{
	struct fixture *fx = *state;
	struct i8042 *k = &fx->k;
	struct i8042_state st;
	unsigned int i;

	/* a guest that never reads: one sequence fits, the next is refused whole */
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	assert_int_equal(i8042_send_ctrl_alt_del(k), -ENOSPC);
	i8042_save(k, &st);
	assert_int_equal(st.qlen, 2 * sizeof(cad_set1));
	for (i = 0; i < 100; i++)
		assert_int_equal(i8042_send_ctrl_alt_del(k), -ENOSPC);
	/* only the first byte interrupted so far; the queue holds two whole sequences */
	assert_int_equal(fx->f.nr_irq_events, 2);
	for (i = 0; i < 2 * sizeof(cad_set1); i++)
		assert_int_equal(expect(k), cad_set1[i % sizeof(cad_set1)]);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);

	/* behind a controller answer: the answer first, then the keys */
	cmd(k, 0x20);
	assert_int_equal(i8042_send_ctrl_alt_del(k), 0);
	assert_int_equal(expect(k), 0x65);
	for (i = 0; i < sizeof(cad_set1); i++)
		assert_int_equal(expect(k), cad_set1[i]);
	assert_int_equal(status(k) & I8042_STR_OBF, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_self_test, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_pulse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyboard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aux, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_irq1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_alt_del_translated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_alt_del_untranslated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_alt_del_polled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_alt_del_keyboard_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_alt_del_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
