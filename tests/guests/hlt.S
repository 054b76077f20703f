/* HLT with interrupts off and no interrupt source: petrel stops the machine. */
#include "guest.h"
_start:
	lea msg(%rip), %rsi
	call puts
	cli
	hlt
	FAIL(1)
#include "puts.inc"
msg:	.asciz "halting\n"
