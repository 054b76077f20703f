/* Every vCPU checks its APIC id against its index and reports it; vCPU 0 waits for all. */
#include "guest.h"
_start:
	mov %rdi, %r8          /* index */
	mov %rsi, %r9          /* count */
	mov $1, %eax
	cpuid
	shr $24, %ebx
	cmp %r8d, %ebx
	jne fail1
	mov $(TESTDEV + 8), %dx
	mov %r8d, %eax
	out %eax, %dx
	test %r8, %r8
	jnz park
1:	in %dx, %eax
	cmp %r9d, %eax
	jb 1b
	jne fail2
	lea msg(%rip), %rsi
	call puts
	POWEROFF
park:	cli
	hlt
	jmp park
fail1:	FAIL(1)
fail2:	FAIL(2)
#include "puts.inc"
msg:	.asciz "all vCPUs reported\n"
