/*
 * Snapshot test guest: 24 rounds over a 64 KiB window at 4 MiB. Each round
 * sums what the window holds (the last round's pattern), prints the round
 * and the sum on COM1, then fills the window with this round's pattern.
 * Taken and restored anywhere, a run prints exactly what an uninterrupted
 * one prints; memory or registers lost on the way change the sums.
 * Other vCPUs spin on a counter of their own.
 */
#include "guest.h"
#define WIN 0x400000
#define WIN_END (WIN + 0x10000)
#define ROUNDS 24
_start:
	test %rdi, %rdi
	jnz other
	xor %r12, %r12
	movabs $0x9e3779b97f4a7c15, %r15
round:
	/* sum the window */
	xor %r14, %r14
	mov $WIN, %rbx
1:	add (%rbx), %r14
	rol $1, %r14
	add $8, %rbx
	cmp $WIN_END, %rbx
	jb 1b
	lea msg_round(%rip), %rsi
	call puts
	mov %r12, %rax
	call puthex
	mov $' ', %al
	mov $COM1, %dx
	out %al, %dx
	mov %r14, %rax
	call puthex
	mov $'\n', %al
	mov $COM1, %dx
	out %al, %dx
	/* fill it with this round's pattern */
	mov %r12, %r13
	inc %r13
	imul %r15, %r13
	mov $WIN, %rbx
2:	mov %rbx, %rax
	xor %r13, %rax
	mov %rax, (%rbx)
	add $8, %rbx
	cmp $WIN_END, %rbx
	jb 2b
	inc %r12
	cmp $ROUNDS, %r12
	jb round
	lea msg_done(%rip), %rsi
	call puts
	POWEROFF

other:
	xor %rax, %rax
3:	inc %rax
	pause
	jmp 3b

/* puthex: %rax as 16 hex digits on COM1 (clobbers rax, rcx, rdx, r8) */
puthex:
	mov %rax, %r8
	mov $16, %rcx
	mov $COM1, %dx
4:	rol $4, %r8
	mov %r8, %rax
	and $0xf, %rax
	cmp $10, %al
	jb 5f
	add $('a' - '0' - 10), %al
5:	add $'0', %al
	out %al, %dx
	dec %rcx
	jnz 4b
	ret
#include "puts.inc"
msg_round: .asciz "round "
msg_done: .asciz "snap guest done\n"
