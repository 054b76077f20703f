// SPDX-License-Identifier: GPL-2.0-only
#include "dev/debug_exit.h"

static void debug_exit_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct debug_exit *d = opaque;
	uint64_t mask = size >= 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;

	/* Statuses above 255 wrap at the process boundary; keep the low byte of v. */
	if (d->exit_cb)
		d->exit_cb(d->opaque, (int)((((val & mask) & 0x7f) << 1) | 1));
}

const struct bus_ops debug_exit_bus_ops = {.write = debug_exit_write};
