/* Coalesced MMIO: ten queued writes, then a read that must see the last one. */
#include "guest.h"
_start:
	mov $(TESTDEV_MMIO + 0x800), %rbx
	mov $10, %ecx
1:	mov %rcx, (%rbx)
	dec %ecx
	jnz 1b
	movq $0x77, 8(%rbx)
	mov (%rbx), %rax                /* the ring is replayed before this read */
	cmp $0xfffffffffffffffe, %rax   /* ~1: the last value written was 1 */
	jne fail1
	mov 8(%rbx), %rax
	cmp $0xffffffffffffff88, %rax
	jne fail2
	POWEROFF
fail1:	FAIL(1)
fail2:	FAIL(2)
