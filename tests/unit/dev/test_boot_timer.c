// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the boot timer: the magic byte at offset 0 logs one line in
 * Firecracker's words; other writes are ignored; a guest writing it in a
 * loop logs a bounded number of lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/boot_timer.h"

static unsigned int count(const char *text, const char *what)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void test_boot_timer(void **state)
{
	struct boot_timer t;
	char *text = NULL;
	size_t len = 0;
	unsigned long wall_us, wall_ms;
	FILE *log = open_memstream(&text, &len);
	unsigned int i;

	assert_non_null(log);
	boot_timer_start(&t, log);
	/* not the magic, not a byte, not at offset 0: nothing */
	boot_timer_ops.write(&t, 0, 1, 122);
	boot_timer_ops.write(&t, 0, 4, BOOT_TIMER_MAGIC);
	boot_timer_ops.write(&t, 1, 1, BOOT_TIMER_MAGIC);
	fflush(log);
	assert_int_equal(len, 0);
	assert_int_equal(boot_timer_ops.read(&t, 0, 1), 0);
	boot_timer_ops.write(&t, 0, 1, BOOT_TIMER_MAGIC);
	fflush(log);
	assert_int_equal(count(text, "Guest-boot-time = "), 1);
	assert_int_equal(sscanf(strstr(text, "= "), "= %lu us %lu ms", &wall_us, &wall_ms), 2);
	assert_int_equal(wall_us / 1000, wall_ms);
	assert_non_null(strstr(text, " CPU us "));
	/* a guest writing it forever: a bounded log */
	for (i = 0; i < 1000; i++)
		boot_timer_ops.write(&t, 0, 1, BOOT_TIMER_MAGIC);
	fflush(log);
	assert_int_equal(count(text, "Guest-boot-time = "), BOOT_TIMER_MAX_REPORTS);
	fclose(log);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_boot_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
