/* Port I/O of every size and direction, and string I/O with a count. */
#include "guest.h"
_start:
	mov $TESTDEV, %dx
	mov $0x5a, %al
	out %al, %dx
	in %dx, %al
	cmp $0xa5, %al
	jne fail1
	mov $0x1234, %ax
	out %ax, %dx
	in %dx, %ax
	cmp $0xedcb, %ax
	jne fail2
	mov $0x89abcdef, %eax
	out %eax, %dx
	in %dx, %eax
	cmp $0x76543210, %eax
	jne fail3
	/* rep outsb 16 bytes into the FIFO, rep insb them back */
	lea pattern(%rip), %rsi
	mov $(TESTDEV + 4), %dx
	mov $16, %rcx
	cld
	rep outsb
	lea buffer(%rip), %rdi
	mov $16, %rcx
	rep insb
	lea pattern(%rip), %rsi
	lea buffer(%rip), %rdi
	mov $16, %rcx
	repe cmpsb
	jne fail4
	POWEROFF
fail1:	FAIL(1)
fail2:	FAIL(2)
fail3:	FAIL(3)
fail4:	FAIL(4)
pattern: .ascii "petrel-string-io"
buffer:	.skip 16
