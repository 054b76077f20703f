/*
 * More pages than a small dirty ring holds between two syncs: with
 * --dirty-log ring --dirty-ring-size 4K the ring fills (KVM_EXIT_DIRTY_RING_FULL)
 * during each round; petrel must still report exactly the pages written.
 * Round 1 writes every page of the window but each fourth (384 pages);
 * round 2 (after the test device forgot round 1) writes page 0 again (it
 * must be caught again after the ring's reset) and each fourth page
 * (3, 7, ... 511).
 */
#include "guest.h"
_start:
	mov $(TESTDEV + 0xc), %dx
	mov $1, %eax
	out %eax, %dx           /* start logging */

	xor %ecx, %ecx
1:	mov %ecx, %eax
	and $3, %eax
	cmp $3, %eax
	je 2f
	mov %rcx, %rax
	shl $12, %rax
	movq $1, DIRTY_BASE(%rax)
2:	inc %ecx
	cmp $512, %ecx
	jne 1b
	mov $2, %eax
	out %eax, %dx           /* sync */
	xor %ecx, %ecx
3:	mov %ecx, %eax
	and $3, %eax
	cmp $3, %eax
	je 4f
	in %dx, %eax
	cmp %ecx, %eax
	jne fail1
4:	inc %ecx
	cmp $512, %ecx
	jne 3b
	in %dx, %eax
	cmp $0xffffffff, %eax
	jne fail2

	mov $1, %eax
	out %eax, %dx           /* a new window: forget round 1 */
	movq $2, DIRTY_BASE
	mov $3, %ecx
5:	mov %rcx, %rax
	shl $12, %rax
	movq $2, DIRTY_BASE(%rax)
	add $4, %ecx
	cmp $515, %ecx
	jne 5b
	mov $2, %eax
	out %eax, %dx           /* sync */
	in %dx, %eax
	test %eax, %eax
	jne fail3
	mov $3, %ecx
6:	in %dx, %eax
	cmp %ecx, %eax
	jne fail4
	add $4, %ecx
	cmp $515, %ecx
	jne 6b
	in %dx, %eax
	cmp $0xffffffff, %eax
	jne fail5
	POWEROFF
fail1:	FAIL(1)
fail2:	FAIL(2)
fail3:	FAIL(3)
fail4:	FAIL(4)
fail5:	FAIL(5)
