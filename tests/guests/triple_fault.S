/* An exception with an empty IDT escalates to a triple fault. */
#include "guest.h"
_start:
	lidt idtr(%rip)
	ud2
	FAIL(1)
idtr:	.word 0
	.quad 0
