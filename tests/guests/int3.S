/*
 * A guest whose own int3 must reach its own #BP handler, debugger or not:
 * an IDT with a gate for vector 3, then int3. The handler exits with status
 * (21 << 1) | 1 = 43; falling through the int3 exits with 45.
 */
#include "guest.h"
_start:
	/* interrupt gate for vector 3: handler, this code segment, present, DPL 0 */
	lea bp_handler(%rip), %rax
	lea idt(%rip), %rdi
	mov %ax, 48(%rdi)          /* offset 15:0 (vector 3 at 3 * 16) */
	mov %cs, %dx
	mov %dx, 50(%rdi)          /* selector */
	movw $0x8e00, 52(%rdi)     /* type: 64-bit interrupt gate, present */
	shr $16, %rax
	mov %ax, 54(%rdi)          /* offset 31:16 */
	shr $16, %rax
	mov %eax, 56(%rdi)         /* offset 63:32 */
	lidt idtr(%rip)
	.globl guest_int3
guest_int3:
	int3
	FAIL(22)

	.globl bp_handler
bp_handler:
	FAIL(21)

	.data
	.balign 16
idt:	.fill 4 * 16, 1, 0
idtr:	.word 4 * 16 - 1
	.quad idt
