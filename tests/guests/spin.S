/* Spin forever after a greeting: for kicks, signals and debugger stops. */
#include "guest.h"
_start:
	test %rdi, %rdi
	jnz 1f
	lea msg(%rip), %rsi
	call puts
1:	pause
	jmp 1b
#include "puts.inc"
msg:	.asciz "spinning\n"
