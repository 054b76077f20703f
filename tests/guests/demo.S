/* The demo guest: greet on the serial port and power off. */
#include "guest.h"
_start:
	test %rdi, %rdi
	jnz 9f
	lea hello(%rip), %rsi
	call puts
	POWEROFF
9:	cli
	hlt
	jmp 9b
#include "puts.inc"
hello:	.asciz "Hello from a petrel guest: 64-bit mode, serial port at 0x3f8, powering off.\n"
