/*
 * A virtio-balloon driver (run with --balloon size=1). It finds the balloon
 * on PCI bus 0 through ECAM, reads its target (256 pages), writes its actual
 * size, fills three pages with a pattern and inflates the first two plus a
 * page frame number beyond guest RAM: the two pages must read as zero
 * afterwards (given back to the host) and the third keep its pattern; then it
 * writes to a page given back and reads it again (the host faults it in).
 * Each failed check exits with its own code; success is a power-off.
 */
#include "guest.h"

#define ECAM 0xe0000000
#define BAR 0xc0000000 /* BAR 0's address in the PCI MMIO window, if unassigned */
#define ID_BALLOON 0x10451af4 /* device id << 16 | vendor id */
#define SLOT_STRIDE 0x8000

#define PCI_COMMAND 0x04
#define PCI_BAR0 0x10
#define CMD_MEM_MASTER 0x6

#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_NUM_QUEUES 0x12
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOTIFY_OFF 0x1e
#define CC_Q_DESC 0x20
#define CC_Q_DRIVER 0x28
#define CC_Q_DEVICE 0x30
#define NOTIFY_OFF 0x3000
#define DEVICE_CFG 0x2000 /* num_pages, actual */

#define S_NEGOTIATED 0x0b
#define S_LIVE 0x0f

#define RING 0x300000
#define AVAIL 0x1000
#define USED 0x2000
#define QSIZE 16
#define PFNS 0x340000
#define PAGES 0x400000 /* three pages of pattern */
#define PATTERN 0xabababababababab
#define POLL_LIMIT 2000000

_start:
	/* find the balloon, give BAR 0 an address, decoding and bus mastering on */
	mov $ECAM, %edi
	mov $32, %ecx
1:	cmpl $ID_BALLOON, (%rdi)
	je 2f
	add $SLOT_STRIDE, %rdi
	dec %ecx
	jnz 1b
	FAIL(1)
2:	mov PCI_BAR0(%rdi), %edx
	and $0xfffffff0, %edx
	mov PCI_BAR0 + 4(%rdi), %ebx
	shl $32, %rbx
	or %rdx, %rbx
	jnz 3f
	movl $BAR, PCI_BAR0(%rdi)
	movl $0, PCI_BAR0 + 4(%rdi)
	mov $BAR, %ebx
3:	movw $CMD_MEM_MASTER, PCI_COMMAND(%rdi)
	cmpw $2, CC_NUM_QUEUES(%rbx) /* inflate and deflate: no statistics, no reporting */
	jne fail2

	/* reset, features: VERSION_1 only, queue 0 at RING */
	movb $0, CC_STATUS(%rbx)
	movb $1, CC_STATUS(%rbx)
	movb $3, CC_STATUS(%rbx)
	movl $0, CC_GFSELECT(%rbx)
	movl $0, CC_GF(%rbx)
	movl $1, CC_GFSELECT(%rbx)
	movl $1, CC_GF(%rbx)
	movb $S_NEGOTIATED, CC_STATUS(%rbx)
	testb $0x08, CC_STATUS(%rbx)
	jz fail3
	mov $RING, %edi
	mov $0x3000, %ecx
	xor %eax, %eax
	rep stosb
	movw $0, CC_Q_SELECT(%rbx)
	movw $QSIZE, CC_Q_SIZE(%rbx)
	movl $RING, CC_Q_DESC(%rbx)
	movl $0, CC_Q_DESC + 4(%rbx)
	movl $(RING + AVAIL), CC_Q_DRIVER(%rbx)
	movl $0, CC_Q_DRIVER + 4(%rbx)
	movl $(RING + USED), CC_Q_DEVICE(%rbx)
	movl $0, CC_Q_DEVICE + 4(%rbx)
	movw $1, CC_Q_ENABLE(%rbx)
	movzwl CC_Q_NOTIFY_OFF(%rbx), %eax
	lea NOTIFY_OFF(%rbx,%rax,4), %r14
	movb $S_LIVE, CC_STATUS(%rbx)
	cmpb $S_LIVE, CC_STATUS(%rbx)
	jne fail4

	/* the target is the host's (1 MiB: 256 pages); actual is ours to write */
	cmpl $256, DEVICE_CFG(%rbx)
	jne fail5
	movl $2, DEVICE_CFG + 4(%rbx)
	cmpl $2, DEVICE_CFG + 4(%rbx)
	jne fail6
	movl $7, DEVICE_CFG(%rbx) /* ignored */
	cmpl $256, DEVICE_CFG(%rbx)
	jne fail5

	/* three pages of pattern */
	mov $PAGES, %edi
	mov $(3 * 4096 / 8), %ecx
	movabs $PATTERN, %rax
	rep stosq

	/* inflate: the first two pages, and a page far beyond RAM */
	movl $(PAGES >> 12), PFNS
	movl $((PAGES >> 12) + 1), PFNS + 4
	movl $0xfffff000, PFNS + 8
	movq $PFNS, RING
	movl $12, RING + 8
	movw $0, RING + 12
	movw $0, RING + 14
	movw $0, RING + AVAIL + 4
	movw $1, RING + AVAIL + 2
	movw $0, (%r14)
	mov $POLL_LIMIT, %ecx
4:	cmpw $1, RING + USED + 2
	je 5f
	pause
	dec %ecx
	jnz 4b
	FAIL(7)

	/* given back: zero; the third page untouched */
5:	cmpq $0, PAGES
	jne fail8
	cmpq $0, PAGES + 4096 - 8
	jne fail8
	cmpq $0, PAGES + 4096
	jne fail9
	movabs $PATTERN, %rax
	cmp %rax, PAGES + 8192
	jne fail10
	cmp %rax, PAGES + 3 * 4096 - 8
	jne fail10

	/* a page given back is the guest's again once it writes it */
	movq $0x1234, PAGES + 16
	cmpq $0x1234, PAGES + 16
	jne fail11
	POWEROFF

fail2:	FAIL(2)
fail3:	FAIL(3)
fail4:	FAIL(4)
fail5:	FAIL(5)
fail6:	FAIL(6)
fail8:	FAIL(8)
fail9:	FAIL(9)
fail10:	FAIL(10)
fail11:	FAIL(11)
