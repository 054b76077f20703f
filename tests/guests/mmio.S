/* MMIO reads and writes of 1, 2, 4 and 8 bytes. */
#include "guest.h"
_start:
	mov $TESTDEV_MMIO, %rbx
	movb $0x11, (%rbx)
	movb (%rbx), %al
	cmp $0xee, %al
	jne fail1
	movw $0x2233, 8(%rbx)
	movw 8(%rbx), %ax
	cmp $0xddcc, %ax
	jne fail2
	movl $0x44556677, 16(%rbx)
	movl 16(%rbx), %eax
	cmp $0xbbaa9988, %eax
	jne fail3
	mov $0x0123456789abcdef, %rax
	mov %rax, 24(%rbx)
	mov 24(%rbx), %rcx
	not %rax
	cmp %rax, %rcx
	jne fail4
	POWEROFF
fail1:	FAIL(1)
fail2:	FAIL(2)
fail3:	FAIL(3)
fail4:	FAIL(4)
