/* Write a known set of pages with dirty logging on; petrel must report exactly that set. */
#include "guest.h"
#define PAGE(n) (DIRTY_BASE + (n) * 4096)
_start:
	movq $1, PAGE(7)        /* before logging: must not be reported */
	mov $(TESTDEV + 0xc), %dx
	mov $1, %eax
	out %eax, %dx           /* start logging */
	movq $1, PAGE(0)
	movq $1, PAGE(1)
	movb $1, PAGE(5) + 4095
	movl $1, PAGE(100)
	movq $1, PAGE(511)
	mov $2, %eax
	out %eax, %dx           /* sync */
	lea expected(%rip), %rsi
1:	in %dx, %eax
	cmpl (%rsi), %eax
	jne fail1
	add $4, %rsi
	cmp $0xffffffff, %eax
	jne 1b
	POWEROFF
fail1:	FAIL(1)
expected: .long 0, 1, 5, 100, 511, 0xffffffff
