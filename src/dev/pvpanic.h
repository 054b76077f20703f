/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvpanic: a one-byte port through which a guest kernel reports its panic
 * (ACPI id QEMU0001, Linux's pvpanic-mmio driver). Reads give the events the
 * device supports; a write of PANICKED asks the machine to stop with the
 * panic status.
 */
#ifndef PETREL_DEV_PVPANIC_H
#define PETREL_DEV_PVPANIC_H

#include <stdint.h>

#include "bus/bus.h"

#define PVPANIC_PANICKED 0x1
#define PVPANIC_CRASH_LOADED 0x2
#define PVPANIC_PORT 0x505

struct pvpanic {
	void (*on_panic)(void *opaque);	       /* guest reported a panic */
	void (*on_crash_loaded)(void *opaque); /* a kdump kernel took over (may be NULL) */
	void *opaque;
};

extern const struct bus_ops pvpanic_ops; /* at PVPANIC_PORT, 1 byte */

#endif
