/* 1000 doorbell writes; the ioeventfd counts them without exits. */
#include "guest.h"
_start:
	mov $(TESTDEV + 0x10), %dx
	mov $1000, %ecx
1:	out %ax, %dx
	dec %ecx
	jnz 1b
	mov $(TESTDEV + 0x14), %dx
	in %dx, %eax
	cmp $1000, %eax
	jne fail1
	POWEROFF
fail1:	FAIL(1)
