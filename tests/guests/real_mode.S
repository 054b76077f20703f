/* Real mode at 1000:0000: port I/O of each size, then power off. */
	.code16
	.text
	.globl _start
_start:
	mov $0x510, %dx
	mov $0x5a, %al
	out %al, %dx
	in %dx, %al
	cmp $0xa5, %al
	jne 1f
	mov $0x1234, %ax
	out %ax, %dx
	in %dx, %ax
	cmp $0xedcb, %ax
	jne 1f
	mov $0x3f8, %dx
	mov $'R', %al
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
	mov $0x604, %dx
	mov $0x3400, %ax
	out %ax, %dx
	hlt
1:	mov $1, %al
	out %al, $0xf4
	hlt
