/*
 * An interrupt through petrel's MSI route and irqfd: the guest enables its
 * local APIC, installs a handler for vector 0x40, asks the test device to
 * signal an irqfd routed to that vector, and waits for it in HLT.
 */
#include "guest.h"
#define APIC 0xfee00000
#define VECTOR 0x40
_start:
	/* IDT gate for VECTOR: 64-bit interrupt gate, selector 0x10 */
	lea handler(%rip), %rax
	lea idt + VECTOR * 16(%rip), %rdi
	mov %ax, (%rdi)
	movw $0x10, 2(%rdi)
	movw $0x8e00, 4(%rdi)
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	lidt idtr(%rip)
	mov $APIC, %rbx
	movl $0x1ff, 0xf0(%rbx)       /* software-enable the APIC, spurious vector 0xff */
	movl $0, 0x80(%rbx)           /* TPR 0 */
	mov $(TESTDEV + 0x1c), %dx
	mov $VECTOR, %al
	out %al, %dx
1:	sti
	hlt
	cli
	cmpb $1, fired(%rip)
	jne 1b
	lea msg(%rip), %rsi
	call puts
	POWEROFF
handler:
	movb $1, fired(%rip)
	push %rbx
	mov $APIC, %rbx
	movl $0, 0xb0(%rbx)           /* EOI */
	pop %rbx
	iretq
#include "puts.inc"
msg:	.asciz "interrupt delivered through irqfd\n"
fired:	.byte 0
	.balign 16
idtr:	.word 256 * 16 - 1
	.quad idt
	.balign 16
idt:	.skip 256 * 16
