/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vCPU 1 asks the test device for a syscall its thread's seccomp filter
 * forbids: with --seccomp kill petrel stops there (status 12, the syscall
 * and the thread named); with log or off the call works, the guest says so
 * and powers off. vCPU 0 waits.
 */
#include "guest.h"
_start:
	cmp $1, %rdi
	jne 9f
	mov $(TESTDEV + 0x20), %dx
	mov $1, %eax
	out %eax, %dx
	in %dx, %eax
	cmp $1, %eax
	jne fail1
	lea done(%rip), %rsi
	call puts
	POWEROFF
9:	cli
	hlt
	jmp 9b
fail1:	FAIL(1)
#include "puts.inc"
done:	.asciz "the forbidden syscall went through\n"
