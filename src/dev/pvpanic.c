// SPDX-License-Identifier: GPL-2.0-only
/* The pvpanic port. It has no state beyond its callbacks. */
#include "dev/pvpanic.h"

static uint64_t pvpanic_read(void *opaque, uint64_t off, unsigned int size)
{
	return PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct pvpanic *p = opaque;

	if (off != 0)
		return;
	if ((val & PVPANIC_PANICKED) && p->on_panic)
		p->on_panic(p->opaque);
	else if ((val & PVPANIC_CRASH_LOADED) && p->on_crash_loaded)
		p->on_crash_loaded(p->opaque);
}

const struct bus_ops pvpanic_ops = {
    .read = pvpanic_read,
    .write = pvpanic_write,
};
