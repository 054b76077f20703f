/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for petrel's 64-bit test guests (flat binaries at 0x100000).
 * petrel starts every vCPU at _start with rdi = vCPU index, rsi = vCPU count,
 * a private stack, identity paging of the low 4 GiB and interrupts off.
 */
#define COM1 0x3f8
#define DEBUG_EXIT 0xf4
#define PM1A_CNT 0x604
#define TESTDEV 0x510
#define TESTDEV_MMIO 0xd0000000
#define DIRTY_BASE 0x200000

/* Leave with petrel exit status (code << 1) | 1: a failed check. */
#define FAIL(code)                 \
	mov $code, %al;            \
	out %al, $DEBUG_EXIT;      \
	hlt

/* ACPI S5 through PM1a: petrel exits 0. */
#define POWEROFF                   \
	mov $PM1A_CNT, %dx;        \
	mov $((5 << 10) | (1 << 13)), %ax; \
	out %ax, %dx;              \
	hlt

	.code64
	.text
	.globl _start
