/*
 * A guest for debugger tests: every vCPU calls work() five times, adding its
 * index + 1 to counter; vCPU 0 then waits for the others and exits through
 * the debug-exit port with the counter's low byte (status (v << 1) | 1).
 */
#include "guest.h"
_start:
	mov %rdi, %r12         /* index */
	mov %rsi, %r13         /* count */
	xor %r14d, %r14d
again:
	call work
	inc %r14
	cmp $5, %r14
	jne again
	lock incl done(%rip)
	test %r12, %r12
	jnz park
1:	mov done(%rip), %eax
	cmp %r13d, %eax
	jb 1b
	mov counter(%rip), %eax
	out %al, $DEBUG_EXIT
	hlt
park:	cli
	hlt
	jmp park

	.globl work
work:
	lea 1(%r12), %rax
	lock add %rax, counter(%rip)
	nop
	ret

	.data
	.balign 8
	.globl counter
counter: .quad 0
done:	.long 0
