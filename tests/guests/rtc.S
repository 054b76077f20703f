/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reads the CMOS RTC's seconds and powers off: the first time conversion of
 * the process happens on the vCPU thread, which its seccomp filter must allow
 * (glibc reads the time zone file at the first one).
 */
#include "guest.h"
_start:
	test %rdi, %rdi
	jnz 9f
	xor %al, %al
	out %al, $0x70
	in $0x71, %al
	POWEROFF
9:	cli
	hlt
	jmp 9b
