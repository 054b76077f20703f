/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A counter guest booted like a kernel: an ELF with a PVH entry note, entered
 * in 32-bit protected mode. It tells a boot timer it has booted, prints
 * "petrel-tick" once, then a '.' on COM1 about every few milliseconds,
 * forever: a test sees it progress or stop.
 */
	.section .note.pvh, "a", @note
	.align 4
	.long 4, 4, 18		/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start

	.code32
	.text
	.globl _start
_start:
	movb $123, 0xd0000000	/* Firecracker's boot timer: booted (ignored without one) */
	mov $0x3f8, %dx
	lea msg, %esi
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	mov $5000, %ecx
3:	dec %ecx
	jnz 3b
	mov $'.', %al
	out %al, %dx
	jmp 2b
msg:	.asciz "petrel-tick\n"
