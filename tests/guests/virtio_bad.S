/*
 * A hostile virtio driver. It finds the virtio-blk and virtio-rng devices on
 * PCI bus 0 through ECAM, gives their BAR 0 an address if it has none, and
 * drives the virtio 1.x initialisation over the common configuration. It
 * checks the VIRTIO_PCI_CAP_PCI_CFG window against BAR reads, then hands the
 * blk queue one malformed request per case: buffers outside guest RAM,
 * looping chains, oversized lengths and indirect tables, avail index jumps,
 * queue rings outside RAM. Each case must end in DEVICE_NEEDS_RESET with
 * nothing used (or, for requests that are well formed but wrong, in an error
 * status), and after a reset the device must read sector 0 correctly again.
 * The rng device must keep working while the blk device is broken.
 *
 * Sector 0 of the disk holds byte i = (i * 13 + 7) & 0xff. Each failed check
 * exits with its own code: 1-9 finding the devices and the PCI_CFG window,
 * 10-16 initialisation, 20-26 a good read, 30-35 the rng and the final
 * round, 40 + k case k of the table answering wrongly. The name of each case
 * goes to COM1 before it runs. Success is a power-off (status 0).
 */
#include "guest.h"

#define ECAM 0xe0000000
#define BLK_BAR 0xc0000000 /* BAR 0 addresses in the PCI MMIO window, if unassigned */
#define RNG_BAR 0xc0010000
#define ID_BLK 0x10421af4 /* device id << 16 | vendor id */
#define ID_RNG 0x10441af4
#define SLOT_STRIDE 0x8000 /* ECAM: devfn << 12, function 0 of each slot */

/* PCI configuration space */
#define PCI_COMMAND 0x04
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define CMD_MEM_MASTER 0x6
#define CAP_ID_VNDR 0x09
#define CAP_CFG_TYPE 3
#define CFG_TYPE_PCI_CFG 5
/* VIRTIO_PCI_CAP_PCI_CFG fields */
#define PCICFG_BAR 4
#define PCICFG_OFFSET 8
#define PCICFG_LENGTH 12
#define PCICFG_DATA 16

/* virtio common configuration, at BAR 0 offset 0 */
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
#define NOTIFY_OFF 0x3000 /* notify_off_multiplier 4 */

/* device_status */
#define S_ACK 0x01
#define S_DRIVER 0x02
#define S_DRIVER_OK 0x04
#define S_FEATURES_OK 0x08
#define S_NEEDS_RESET 0x40
#define S_NEGOTIATED (S_ACK | S_DRIVER | S_FEATURES_OK)
#define S_LIVE (S_NEGOTIATED | S_DRIVER_OK)

#define FEAT_INDIRECT (1 << 28) /* VIRTIO_F_INDIRECT_DESC, in feature word 0 */

/* descriptor flags */
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

/* virtio-blk request types and status */
#define BLK_T_IN 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2

/* Guest RAM the driver uses. A ring base holds the descriptor table. */
#define BLK_RING 0x300000
#define RNG_RING 0x310000
#define AVAIL 0x1000 /* avail ring, from the ring base */
#define USED 0x2000  /* used ring, from the ring base */
#define RING_BYTES 0x3000
#define QSIZE 16
#define HDR 0x320000  /* blk request header */
#define DATA 0x321000 /* 512-byte data buffer */
#define STAT 0x322000 /* blk status byte */
#define ITABLE 0x330000 /* indirect descriptor tables */
#define ITABLE_LONG 1040 /* entries: more than any chain may have */
#define RNG_BUF 0x340000
#define RNG_LEN 64
#define FAR_ADDR 0x100000000000 /* 16 TiB: far beyond guest RAM */

/* Bounded polls: a device that never answers fails the test, it does not hang it. */
#define POLL_LIMIT 200000

/* What wait_outcome reports besides a status byte. */
#define OUT_RESET 0x100   /* NEEDS_RESET, nothing used */
#define OUT_TIMEOUT 0x200 /* neither */
#define OUT_BOTH 0x300    /* used and NEEDS_RESET */

/* Descriptor i of the table at base: address in %rax. */
#define DESC_RAX(base, i, len, flags, next) \
	mov %rax, 16*i(base);               \
	movl $(len), 16*i+8(base);          \
	movw $(flags), 16*i+12(base);       \
	movw $(next), 16*i+14(base)
#define DESC(base, i, addr, len, flags, next) \
	movabs $(addr), %rax;                 \
	DESC_RAX(base, i, len, flags, next)

/* A case: what sets it up, its name, what the device must answer. */
#define CASE(fn, name, expect) \
	.quad fn;              \
	.quad name;            \
	.quad expect

_start:
	/* 1. Find both devices and give them a BAR; memory decoding and bus mastering on. */
	mov $ID_BLK, %eax
	call find_dev
	test %rdi, %rdi
	jz fail1
	mov %rdi, blk_cfg(%rip)
	mov $BLK_BAR, %eax
	call setup_bar
	mov %rbx, blk_bar(%rip)
	mov $ID_RNG, %eax
	call find_dev
	test %rdi, %rdi
	jz fail2
	mov $RNG_BAR, %eax
	call setup_bar
	mov %rbx, rng_bar(%rip)

	/* 2. The PCI_CFG window reads and writes what BAR 0 does. */
	mov blk_cfg(%rip), %rdi
	mov blk_bar(%rip), %rbx
	call check_pci_cfg

	/* 3. A good read first: the baseline works. */
	call blk_setup
	call good_read

	/* 4. Each hostile case, then a reset if it broke the queue, then a good read. */
	lea cases(%rip), %rbp
	mov $41, %r15d /* failure code of the case */
next_case:
	cmpq $0, (%rbp)
	je cases_done
	lea case_msg(%rip), %rsi
	call puts
	mov 8(%rbp), %rsi
	call puts
	lea newline(%rip), %rsi
	call puts
	call blk_setup
	call *(%rbp)
	call wait_outcome
	cmp 16(%rbp), %rax
	jne case_failed
	cmp $OUT_RESET, %eax
	jne 1f
	call blk_setup /* reset and initialise again */
1:	call good_read
	add $24, %rbp
	inc %r15d
	jmp next_case
case_failed:
	mov %r15d, %eax
	out %al, $DEBUG_EXIT
	hlt

cases_done:
	/* 5. Break the blk queue once more and use the rng while it is broken. */
	call blk_setup
	call bad_avail_jump
	call wait_outcome
	cmp $OUT_RESET, %eax
	jne fail34
	call rng_check
	mov blk_bar(%rip), %rbx
	mov $BLK_RING, %r12d
	testb $S_NEEDS_RESET, CC_STATUS(%rbx)
	jz fail35
	call blk_setup
	call good_read
	lea done_msg(%rip), %rsi
	call puts
	POWEROFF

fail1:	FAIL(1)
fail2:	FAIL(2)
fail34:	FAIL(34)
fail35:	FAIL(35)

/* ---- PCI ---- */

/* Find function 0 with vendor/device %eax on bus 0: -> %rdi its ECAM space, or 0. */
find_dev:
	mov $ECAM, %edi
	mov $32, %ecx
1:	cmp %eax, (%rdi)
	je 2f
	add $SLOT_STRIDE, %rdi
	dec %ecx
	jnz 1b
	xor %edi, %edi
2:	ret

/*
 * BAR 0 of the function at %rdi: a 64-bit memory BAR. Program it to %eax
 * if it has no address, enable decoding and bus mastering: -> %rbx its address.
 */
setup_bar:
	mov PCI_BAR0(%rdi), %edx
	mov %edx, %ecx
	and $0x7, %ecx
	cmp $0x4, %ecx /* memory, 64-bit */
	jne fail3
	and $0xfffffff0, %edx
	mov PCI_BAR0 + 4(%rdi), %ebx
	shl $32, %rbx
	or %rdx, %rbx
	jnz 1f
	mov %eax, PCI_BAR0(%rdi)
	movl $0, PCI_BAR0 + 4(%rdi)
	mov %eax, %ebx
1:	movw $CMD_MEM_MASTER, PCI_COMMAND(%rdi)
	cmpw $1, CC_NUM_QUEUES(%rbx) /* the BAR decodes: one queue */
	jne fail4
	ret
fail3:	FAIL(3)
fail4:	FAIL(4)

/* The VIRTIO_PCI_CAP_PCI_CFG window of the function at %rdi, BAR 0 at %rbx. */
check_pci_cfg:
	movzbl PCI_CAP_PTR(%rdi), %esi
	mov $48, %ecx /* at most 48 capabilities fit */
1:	test %esi, %esi
	jz fail5
	cmpb $CAP_ID_VNDR, (%rdi,%rsi)
	jne 2f
	cmpb $CFG_TYPE_PCI_CFG, CAP_CFG_TYPE(%rdi,%rsi)
	je 3f
2:	movzbl 1(%rdi,%rsi), %esi
	dec %ecx
	jnz 1b
fail5:	FAIL(5)
3:	lea (%rdi,%rsi), %r8
	/* num_queues, 2 bytes, through the window and through the BAR */
	movb $0, PCICFG_BAR(%r8)
	movl $CC_NUM_QUEUES, PCICFG_OFFSET(%r8)
	movl $2, PCICFG_LENGTH(%r8)
	mov PCICFG_DATA(%r8), %eax
	movzwl CC_NUM_QUEUES(%rbx), %edx
	cmp %edx, %eax
	jne fail6
	test %eax, %eax
	jz fail6
	/* device_feature_select written through the BAR, read through the window */
	movl $1, CC_DFSELECT(%rbx)
	movl $CC_DFSELECT, PCICFG_OFFSET(%r8)
	movl $4, PCICFG_LENGTH(%r8)
	cmpl $1, PCICFG_DATA(%r8)
	jne fail7
	/* the feature word it selects: the same both ways, with VERSION_1 */
	movl $CC_DF, PCICFG_OFFSET(%r8)
	mov PCICFG_DATA(%r8), %eax
	cmp CC_DF(%rbx), %eax
	jne fail8
	test $1, %eax
	jz fail8
	/* a write through the window reaches the register */
	movl $CC_DFSELECT, PCICFG_OFFSET(%r8)
	movl $0, PCICFG_DATA(%r8)
	cmpl $0, CC_DFSELECT(%rbx)
	jne fail9
	ret
fail6:	FAIL(6)
fail7:	FAIL(7)
fail8:	FAIL(8)
fail9:	FAIL(9)

/* ---- virtio initialisation: BAR 0 at %rbx, rings at %r12 ---- */

/* Write 0 to device_status and wait until it reads 0. */
dev_reset:
	movb $0, CC_STATUS(%rbx)
	mov $POLL_LIMIT, %ecx
1:	cmpb $0, CC_STATUS(%rbx)
	je 2f
	pause
	dec %ecx
	jnz 1b
	FAIL(10)
2:	ret

/*
 * Reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 and what %r13d asks of
 * word 0 that the device offers), FEATURES_OK, select queue 0 and set its size.
 */
negotiate:
	call dev_reset
	movb $S_ACK, CC_STATUS(%rbx)
	movb $(S_ACK | S_DRIVER), CC_STATUS(%rbx)
	movl $1, CC_DFSELECT(%rbx)
	testl $1, CC_DF(%rbx) /* VIRTIO_F_VERSION_1, bit 32 */
	jz fail11
	movl $0, CC_DFSELECT(%rbx)
	mov CC_DF(%rbx), %eax
	and %r13d, %eax
	movl $0, CC_GFSELECT(%rbx)
	mov %eax, CC_GF(%rbx)
	movl $1, CC_GFSELECT(%rbx)
	movl $1, CC_GF(%rbx)
	movb $S_NEGOTIATED, CC_STATUS(%rbx)
	testb $S_FEATURES_OK, CC_STATUS(%rbx)
	jz fail12
	movw $0, CC_Q_SELECT(%rbx)
	cmpw $QSIZE, CC_Q_SIZE(%rbx) /* the maximum */
	jb fail13
	movw $QSIZE, CC_Q_SIZE(%rbx)
	ret
fail11:	FAIL(11)
fail12:	FAIL(12)
fail13:	FAIL(13)

/* Queue 0's descriptor table, driver and device areas from the ring base %r12. */
set_queue_addrs:
	mov %r12, %rax
	mov %eax, CC_Q_DESC(%rbx)
	shr $32, %rax
	mov %eax, CC_Q_DESC + 4(%rbx)
	lea AVAIL(%r12), %rax
	mov %eax, CC_Q_DRIVER(%rbx)
	shr $32, %rax
	mov %eax, CC_Q_DRIVER + 4(%rbx)
	lea USED(%r12), %rax
	mov %eax, CC_Q_DEVICE(%rbx)
	shr $32, %rax
	mov %eax, CC_Q_DEVICE + 4(%rbx)
	ret

/* The whole sequence up to DRIVER_OK, with empty rings at %r12. */
virtio_init:
	call negotiate
	mov %r12, %rdi
	mov $RING_BYTES, %ecx
	xor %eax, %eax
	rep stosb
	call set_queue_addrs
	movw $1, CC_Q_ENABLE(%rbx)
	cmpw $1, CC_Q_ENABLE(%rbx)
	jne fail14
	movzwl CC_Q_NOTIFY_OFF(%rbx), %eax
	lea NOTIFY_OFF(%rbx,%rax,4), %rax
	mov %rax, notify_addr(%rip)
	movb $S_LIVE, CC_STATUS(%rbx)
	cmpb $S_LIVE, CC_STATUS(%rbx)
	jne fail15
	movw $0, avail_idx(%rip)
	movw $0, used_before(%rip)
	ret
fail14:	FAIL(14)
fail15:	FAIL(15)

blk_setup:
	mov blk_bar(%rip), %rbx
	mov $BLK_RING, %r12d
	mov $FEAT_INDIRECT, %r13d
	jmp virtio_init

/* ---- requests ---- */

/* Offer the chain with head %ax and notify queue 0. */
submit:
	movzwl avail_idx(%rip), %ecx
	mov %cx, used_before(%rip)
	mov %ecx, %edx
	and $(QSIZE - 1), %edx
	mov %ax, AVAIL + 4(%r12,%rdx,2)
	inc %ecx
	mov %cx, avail_idx(%rip)
	mov %cx, AVAIL + 2(%r12) /* after the ring entry: x86 keeps stores in order */
notify:
	mov notify_addr(%rip), %rdx
	movw $0, (%rdx)
	ret

/*
 * Wait until used->idx reaches avail_idx (-> %eax the blk status byte) or
 * the device sets NEEDS_RESET (-> OUT_RESET, or OUT_BOTH if it also used
 * something); OUT_TIMEOUT after POLL_LIMIT looks.
 */
wait_outcome:
	mov $POLL_LIMIT, %ecx
1:	movzwl USED + 2(%r12), %edx
	cmp avail_idx(%rip), %dx
	je 3f
	testb $S_NEEDS_RESET, CC_STATUS(%rbx)
	jnz 2f
	pause
	dec %ecx
	jnz 1b
	mov $OUT_TIMEOUT, %eax
	ret
2:	mov $OUT_RESET, %eax
	movzwl USED + 2(%r12), %edx
	cmp used_before(%rip), %dx
	je 4f
	mov $OUT_BOTH, %eax
4:	ret
3:	movzbl STAT, %eax
	testb $S_NEEDS_RESET, CC_STATUS(%rbx)
	jz 5f
	mov $OUT_BOTH, %eax
5:	ret

/* The request header: type in %eax, sector in %rdx. */
set_hdr:
	mov %eax, HDR
	movl $0, HDR + 4
	mov %rdx, HDR + 8
	ret

/* A read of sector 0 into DATA; the status byte and the data must be right. */
good_read:
	mov $DATA, %edi
	mov $512, %ecx
	xor %eax, %eax
	rep stosb
	movb $0xff, STAT
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	DESC(%r12, 0, HDR, 16, F_NEXT, 1)
	DESC(%r12, 1, DATA, 512, F_WRITE | F_NEXT, 2)
	DESC(%r12, 2, STAT, 1, F_WRITE, 0)
	xor %eax, %eax
	call submit
	call wait_outcome
	cmp $OUT_TIMEOUT, %eax
	je fail20
	cmp $OUT_RESET, %eax
	je fail21
	cmp $OUT_BOTH, %eax
	je fail22
	test %eax, %eax
	jnz fail23
	/* the used element: head 0, 512 bytes and the status byte written */
	movzwl used_before(%rip), %ecx
	and $(QSIZE - 1), %ecx
	cmpl $0, USED + 4(%r12,%rcx,8)
	jne fail24
	cmpl $513, USED + 8(%r12,%rcx,8)
	jne fail25
	xor %ecx, %ecx
1:	imul $13, %ecx, %eax
	add $7, %eax
	cmp %al, DATA(%rcx)
	jne fail26
	inc %ecx
	cmp $512, %ecx
	jb 1b
	ret
fail20:	FAIL(20)
fail21:	FAIL(21)
fail22:	FAIL(22)
fail23:	FAIL(23)
fail24:	FAIL(24)
fail25:	FAIL(25)
fail26:	FAIL(26)

/* A read of sector 0 with the data buffer at %rax, %ecx bytes (descriptor 1). */
read_into_rax:
	push %rax
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	pop %rax
/* The same with the header already set: header, buffer, status byte. */
chain_rax:
	mov %rax, 16(%r12)
	mov %ecx, 24(%r12)
	movw $(F_WRITE | F_NEXT), 28(%r12)
	movw $2, 30(%r12)
	DESC(%r12, 0, HDR, 16, F_NEXT, 1)
	DESC(%r12, 2, STAT, 1, F_WRITE, 0)
	xor %eax, %eax
	jmp submit

/* ---- the hostile cases: each sets up queue 0 of the blk device and kicks it ---- */

/* The data buffer is the device's own BAR: MMIO, not RAM. */
bad_buf_mmio:
	mov %rbx, %rax
	mov $512, %ecx
	jmp read_into_rax

/* The data buffer is far beyond the end of RAM. */
bad_buf_far:
	movabs $FAR_ADDR, %rax
	mov $512, %ecx
	jmp read_into_rax

/* The data buffer wraps around the top of the address space. */
bad_buf_wrap:
	mov $-0x200, %rax
	mov $0x400, %ecx
	jmp read_into_rax

/* A next index past the descriptor table. */
bad_next:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	DESC(%r12, 0, HDR, 16, F_NEXT, QSIZE)
	xor %eax, %eax
	jmp submit

/* A head index past the descriptor table. */
bad_head:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	DESC(%r12, 0, HDR, 16, 0, 0)
	mov $QSIZE, %eax
	jmp submit

/* 0 -> 1 -> 0 -> ... */
loop_two:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	DESC(%r12, 0, HDR, 16, F_NEXT, 1)
	DESC(%r12, 1, HDR, 16, F_NEXT, 0)
	xor %eax, %eax
	jmp submit

/* 0 -> 0 -> ... */
loop_self:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	DESC(%r12, 0, HDR, 16, F_NEXT, 0)
	xor %eax, %eax
	jmp submit

/* A loop inside an indirect table. */
loop_indirect:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	mov $ITABLE, %r8d
	DESC(%r8, 0, HDR, 16, F_NEXT, 1)
	DESC(%r8, 1, HDR, 16, F_NEXT, 0)
	DESC(%r12, 0, ITABLE, 32, F_INDIRECT, 0)
	xor %eax, %eax
	jmp submit

/* A 4 GiB - 1 data buffer. */
huge_len:
	mov $DATA, %eax
	mov $0xffffffff, %ecx
	jmp read_into_rax

/* An indirect table whose length is not a whole number of descriptors. */
ind_bad_len:
	DESC(%r12, 0, ITABLE, 0x12345, F_INDIRECT, 0)
	xor %eax, %eax
	jmp submit

/* An indirect table of 4 GiB - 16 bytes. */
ind_huge:
	DESC(%r12, 0, ITABLE, 0xfffffff0, F_INDIRECT, 0)
	xor %eax, %eax
	jmp submit

/* An indirect chain of ITABLE_LONG linked descriptors: longer than any queue. */
ind_long:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	mov $ITABLE, %edi
	xor %ecx, %ecx
1:	movq $HDR, (%rdi)
	movl $16, 8(%rdi)
	movw $F_NEXT, 12(%rdi)
	lea 1(%rcx), %eax
	mov %ax, 14(%rdi)
	add $16, %rdi
	inc %ecx
	cmp $ITABLE_LONG, %ecx
	jb 1b
	movw $0, -4(%rdi) /* the last one ends the chain */
	DESC(%r12, 0, ITABLE, ITABLE_LONG * 16, F_INDIRECT, 0)
	xor %eax, %eax
	jmp submit

/* INDIRECT together with NEXT. */
ind_next:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	mov $ITABLE, %r8d
	DESC(%r8, 0, HDR, 16, 0, 0)
	DESC(%r12, 0, ITABLE, 16, F_INDIRECT | F_NEXT, 1)
	DESC(%r12, 1, STAT, 1, F_WRITE, 0)
	xor %eax, %eax
	jmp submit

/* An indirect descriptor inside an indirect table. */
ind_nested:
	mov $ITABLE, %r8d
	DESC(%r8, 0, ITABLE + 0x8000, 16, F_INDIRECT, 0)
	DESC(%r12, 0, ITABLE, 16, F_INDIRECT, 0)
	xor %eax, %eax
	jmp submit

/* avail->idx QSIZE + 1 ahead of the device. */
bad_avail_jump:
	mov $(QSIZE + 1), %eax
	jmp 1f
/* avail->idx 1000 ahead. */
bad_avail_far:
	mov $1000, %eax
1:	mov %ax, avail_idx(%rip)
	mov %ax, AVAIL + 2(%r12)
	jmp notify

/* A header and nothing for the device to write the status into. */
no_status:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	DESC(%r12, 0, HDR, 16, 0, 0)
	xor %eax, %eax
	jmp submit

/* A readable descriptor after a writable one. */
read_after_write:
	mov $BLK_T_IN, %eax
	xor %edx, %edx
	call set_hdr
	DESC(%r12, 0, HDR, 16, F_NEXT, 1)
	DESC(%r12, 1, STAT, 1, F_WRITE | F_NEXT, 2)
	DESC(%r12, 2, DATA, 512, 0, 0)
	xor %eax, %eax
	jmp submit

/* The queue's rings in the device's BAR: enabling the queue must fail. */
ring_in_mmio:
	call negotiate
	push %r12
	mov %rbx, %r12
	call set_queue_addrs
	pop %r12
	movw $1, CC_Q_ENABLE(%rbx)
	cmpw $0, CC_Q_ENABLE(%rbx)
	jne fail16
	movb $S_LIVE, CC_STATUS(%rbx)
	movw $1, avail_idx(%rip) /* as if a request were waiting */
	movw $0, used_before(%rip)
	jmp notify
fail16:	FAIL(16)

/* Well formed but wrong: a sector past the end of the disk. */
past_end:
	mov $BLK_T_IN, %eax
	mov $0x10000000, %edx
	jmp 1f
/* Well formed but wrong: an unknown request type. */
bad_type:
	mov $0x77, %eax
	xor %edx, %edx
1:	call set_hdr
	mov $DATA, %eax
	mov $512, %ecx
	jmp chain_rax

/* Well formed but wrong: a read of 100 bytes, not whole sectors. */
short_buf:
	mov $DATA, %eax
	mov $100, %ecx
	jmp read_into_rax

/* ---- the rng device ---- */

rng_check:
	mov rng_bar(%rip), %rbx
	mov $RNG_RING, %r12d
	xor %r13d, %r13d
	call virtio_init
	mov $RNG_BUF, %edi
	mov $RNG_LEN, %ecx
	xor %eax, %eax
	rep stosb
	DESC(%r12, 0, RNG_BUF, RNG_LEN, F_WRITE, 0)
	xor %eax, %eax
	call submit
	call wait_outcome
	cmp $OUT_RESET, %eax
	jae fail30
	cmpl $0, USED + 4(%r12) /* head 0 */
	jne fail31
	mov USED + 8(%r12), %ecx
	test %ecx, %ecx
	jz fail32
	cmp $RNG_LEN, %ecx
	ja fail32
	/* random bytes: not all zero */
	mov $RNG_BUF, %esi
1:	cmpb $0, (%rsi)
	jne 2f
	inc %rsi
	dec %ecx
	jnz 1b
	FAIL(33)
2:	ret
fail30:	FAIL(30)
fail31:	FAIL(31)
fail32:	FAIL(32)

#include "puts.inc"

	.balign 8
cases:
	CASE(bad_buf_mmio, m_buf_mmio, OUT_RESET)
	CASE(bad_buf_far, m_buf_far, OUT_RESET)
	CASE(bad_buf_wrap, m_buf_wrap, OUT_RESET)
	CASE(bad_next, m_next, OUT_RESET)
	CASE(bad_head, m_head, OUT_RESET)
	CASE(loop_two, m_loop_two, OUT_RESET)
	CASE(loop_self, m_loop_self, OUT_RESET)
	CASE(loop_indirect, m_loop_indirect, OUT_RESET)
	CASE(huge_len, m_huge_len, OUT_RESET)
	CASE(ind_bad_len, m_ind_bad_len, OUT_RESET)
	CASE(ind_huge, m_ind_huge, OUT_RESET)
	CASE(ind_long, m_ind_long, OUT_RESET)
	CASE(ind_next, m_ind_next, OUT_RESET)
	CASE(ind_nested, m_ind_nested, OUT_RESET)
	CASE(bad_avail_jump, m_avail_jump, OUT_RESET)
	CASE(bad_avail_far, m_avail_far, OUT_RESET)
	CASE(no_status, m_no_status, OUT_RESET)
	CASE(read_after_write, m_read_after_write, OUT_RESET)
	CASE(ring_in_mmio, m_ring_in_mmio, OUT_RESET)
	CASE(past_end, m_past_end, BLK_S_IOERR)
	CASE(bad_type, m_bad_type, BLK_S_UNSUPP)
	CASE(short_buf, m_short_buf, BLK_S_IOERR)
	.quad 0

blk_cfg:	.quad 0
blk_bar:	.quad 0
rng_bar:	.quad 0
notify_addr:	.quad 0
avail_idx:	.word 0 /* the driver's avail->idx */
used_before:	.word 0 /* used->idx before the last request */

case_msg:	.asciz "virtio_bad: "
newline:	.asciz "\n"
done_msg:	.asciz "virtio_bad: all cases done\n"
m_buf_mmio:	.asciz "buffer in the device's BAR"
m_buf_far:	.asciz "buffer far beyond RAM"
m_buf_wrap:	.asciz "buffer wrapping the address space"
m_next:	.asciz "next index past the table"
m_head:	.asciz "head index past the table"
m_loop_two:	.asciz "chain 0 -> 1 -> 0"
m_loop_self:	.asciz "chain 0 -> 0"
m_loop_indirect:	.asciz "loop in an indirect table"
m_huge_len:	.asciz "buffer of 4 GiB - 1"
m_ind_bad_len:	.asciz "indirect table of odd length"
m_ind_huge:	.asciz "indirect table of 4 GiB - 16"
m_ind_long:	.asciz "indirect chain of 1040 descriptors"
m_ind_next:	.asciz "indirect with next"
m_ind_nested:	.asciz "nested indirect"
m_avail_jump:	.asciz "avail idx queue size + 1 ahead"
m_avail_far:	.asciz "avail idx 1000 ahead"
m_no_status:	.asciz "no status byte"
m_read_after_write:	.asciz "readable after writable"
m_ring_in_mmio:	.asciz "rings in the device's BAR"
m_past_end:	.asciz "sector past the end (IOERR)"
m_bad_type:	.asciz "unknown request type (UNSUPP)"
m_short_buf:	.asciz "partial sector (IOERR)"
