// SPDX-License-Identifier: GPL-2.0-only
#include "dev/boot_timer.h"

#include <inttypes.h>
#include <time.h>

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void boot_timer_start(struct boot_timer *t, FILE *log)
{
	t->start_wall_ns = clock_ns(CLOCK_MONOTONIC);
	t->start_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	t->reports = 0;
	t->log = log;
}

static uint64_t boot_timer_read(void *opaque, uint64_t off, unsigned int size)
{
	return 0;
}

/* Like Firecracker's: a one-byte write of the magic at offset 0; anything else is ignored. */
static void boot_timer_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct boot_timer *t = opaque;
	uint64_t wall_us, cpu_us;

	if (off != 0 || size != 1 || (val & 0xff) != BOOT_TIMER_MAGIC)
		return;
	if (!t->log || t->reports >= BOOT_TIMER_MAX_REPORTS)
		return;
	t->reports++;
	wall_us = (clock_ns(CLOCK_MONOTONIC) - t->start_wall_ns) / 1000;
	cpu_us = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - t->start_cpu_ns) / 1000;
	fprintf(t->log,
		"petrel: Guest-boot-time = %6" PRIu64 " us %" PRIu64 " ms, %6" PRIu64
		" CPU us %" PRIu64 " CPU ms\n",
		wall_us, wall_us / 1000, cpu_us, cpu_us / 1000);
	fflush(t->log);
}

const struct bus_ops boot_timer_ops = {
    .read = boot_timer_read,
    .write = boot_timer_write,
};
