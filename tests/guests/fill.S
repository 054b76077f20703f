/*
 * Fill 4 MiB at 8 MiB with a pattern that is nowhere zero, say so, then
 * spin: a guest whose memory takes a live migration a while to send.
 */
#include "guest.h"
#define FILL 0x800000
#define FILL_END (FILL + 0x400000)
_start:
	test %rdi, %rdi
	jnz 2f
	mov $FILL, %rbx
1:	mov %rbx, %rax
	or $1, %rax
	mov %rax, (%rbx)
	add $8, %rbx
	cmp $FILL_END, %rbx
	jb 1b
	lea msg(%rip), %rsi
	call puts
2:	pause
	jmp 2b
#include "puts.inc"
msg:	.asciz "filled\n"
