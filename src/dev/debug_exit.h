/* SPDX-License-Identifier: GPL-2.0-only */
/* The debug-exit port: a guest write of v ends petrel with status (v << 1) | 1. */
#ifndef PETREL_DEV_DEBUG_EXIT_H
#define PETREL_DEV_DEBUG_EXIT_H

#include "bus/bus.h"

struct debug_exit {
	void (*exit_cb)(void *opaque, int status);
	void *opaque;
};

extern const struct bus_ops debug_exit_bus_ops;

#endif
