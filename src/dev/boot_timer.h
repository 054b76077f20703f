/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The boot timer of Firecracker's --boot-timer: a byte of MMIO at
 * BOOT_TIMER_ADDR to which a guest's init writes BOOT_TIMER_MAGIC when the
 * guest has booted. petrel then logs the wall and CPU time since the machine
 * began to start, in Firecracker's words ("Guest-boot-time = ..."), which
 * tools that measure Firecracker's boot read from its log.
 */
#ifndef PETREL_DEV_BOOT_TIMER_H
#define PETREL_DEV_BOOT_TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bus/bus.h"

#define BOOT_TIMER_ADDR 0xd0000000ULL /* where Firecracker's guests write */
#define BOOT_TIMER_LEN 0x1000
#define BOOT_TIMER_MAGIC 123

struct boot_timer {
	uint64_t start_wall_ns; /* CLOCK_MONOTONIC at boot_timer_start */
	uint64_t start_cpu_ns;	/* the process's CPU time then */
	unsigned int reports;	/* lines logged, at most BOOT_TIMER_MAX_REPORTS */
	FILE *log;		/* where the line goes (stderr: petrel's log) */
};

/* Most lines one machine logs: a guest writing the magic in a loop cannot flood the log. */
#define BOOT_TIMER_MAX_REPORTS 16

/* Take the start times now. */
void boot_timer_start(struct boot_timer *t, FILE *log);

extern const struct bus_ops boot_timer_ops; /* at BOOT_TIMER_ADDR, BOOT_TIMER_LEN bytes */

#endif
