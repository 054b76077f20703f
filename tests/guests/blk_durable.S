/*
 * A virtio-blk driver that writes and flushes forever, for the kill -9
 * durability test. It finds the virtio-blk device on PCI bus 0 through
 * ECAM, initialises it with one queue (no interrupts: it polls the used
 * ring) and writes records of 4 KiB, each one numbered by a sequence
 * number that grows by one per record written.
 *
 * Batch b writes K = 1 + b % 4 requests at once, request j holding
 * L = 1 + (b + j) % 3 consecutive records (two data descriptors when L > 1),
 * the batch's records consecutive from record (b * 37) % (NREC - SPAN + 1):
 * records are rewritten over and over with newer sequence numbers. A request
 * with (b + j) % 5 == 3 is a WRITE_ZEROES of its records instead (UNMAP in
 * batches 2 and 3 mod 4), each record zeroed taking a sequence number too:
 * a zeroed record is a newer state of it like a write. Batch
 * b + 1 is filled in while batch b is in flight. In odd batches the data
 * buffers are 8 bytes off page alignment: with direct=on on a host whose
 * O_DIRECT wants more (most do), they go through petrel's aligned copies.
 *
 * Flush mode (the default): once a batch's writes have all completed OK,
 * the next batch's writes go out together with a FLUSH, and when that FLUSH
 * completes OK the guest prints "flushed S S" (S the last sequence number of
 * the flushed batch, 8 hex digits, twice) to COM1: every record written up to
 * S must then be in the image, or a newer one. With the disk serial
 * "writethrough", VIRTIO_BLK_F_FLUSH is not negotiated (every completed write
 * is stable, virtio 1.2 section 5.2.6.2) and "flushed S S" follows the
 * completion of a batch's writes.
 *
 * Record k with sequence number s: each of its 8 sectors i holds the magic
 * "petrelDR", k, s and i, then 59 times v = ((s << 16) | k) * K1 ^ i, then the
 * sum of the 63 qwords before it (little endian qwords, all mod 2^64). The
 * test holds the same schedule and checks the image against it.
 *
 * A failed check exits with its own code (status 2 code + 1): 1-3 finding
 * the device, 10-15 initialisation, 20-21 the mode, 30-32 a request that
 * failed or a used element no request owns.
 */
#include "guest.h"

#define ECAM 0xe0000000
#define BLK_BAR 0xc0000000 /* BAR 0 address in the PCI MMIO window, if unassigned */
#define ID_BLK 0x10421af4  /* device id << 16 | vendor id */
#define SLOT_STRIDE 0x8000 /* ECAM: devfn << 12, function 0 of each slot */

#define PCI_COMMAND 0x04
#define PCI_BAR0 0x10
#define CMD_MEM_MASTER 0x6

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

#define S_ACK 0x01
#define S_DRIVER 0x02
#define S_DRIVER_OK 0x04
#define S_FEATURES_OK 0x08
#define S_NEGOTIATED (S_ACK | S_DRIVER | S_FEATURES_OK)
#define S_LIVE (S_NEGOTIATED | S_DRIVER_OK)

#define FEAT_FLUSH (1 << 9)	   /* VIRTIO_BLK_F_FLUSH, in feature word 0 */
#define FEAT_WZ (1 << 14)	   /* VIRTIO_BLK_F_WRITE_ZEROES */

#define F_NEXT 1
#define F_WRITE 2
#define AVAIL_NO_INTERRUPT 1

#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_T_WRITE_ZEROES 13
#define WZ_F_UNMAP 1

/* The disk: NREC records of 4 KiB. */
#define NREC 64
#define REC_BYTES 4096
#define REC_SECTORS 8
#define MAX_REQS 4 /* requests of one batch */
#define MAX_LEN 3  /* records of one request */
#define SPAN (MAX_REQS * MAX_LEN)
#define STRIDE 37
#define ZERO_EVERY 5 /* request j of batch b zeroes its records when (b + j) % 5 == 3 */

/* The record contents. */
#define MAGIC 0x52446c6572746570 /* "petrelDR" */
#define K1 0x9e3779b97f4a7c15
#define FILL_QWORDS 59

/* Guest RAM the driver uses. The ring base holds the descriptor table. */
#define RING 0x300000
#define AVAIL 0x1000 /* avail ring, from the ring base */
#define USED 0x2000  /* used ring, from the ring base */
#define RING_BYTES 0x3000
#define QSIZE 64
/*
 * Batches use two halves of everything in turn, half p = b & 1. Request j of
 * a half has its header at HDRS + 256 p + 16 j, its status byte at
 * STATS + 16 p + j, its records at DATA + 64 KiB p + 16 KiB j (+ 8 bytes in
 * odd batches) and descriptors 20 p + 4 j (header), + 1 and + 2 (data),
 * + 3 (status). The half's flush: header at + 64, status byte at + 4,
 * descriptors 20 p + 16 (header) and + 17 (status).
 */
#define HDRS 0x320000
#define STATS 0x321000
#define IDBUF 0x322000 /* GET_ID answer */
#define DATA 0x400000
#define FLUSH_HEAD 16

#define POLL_LIMIT 200000

/* Descriptor i of the ring: address in %rax. */
#define DESC_RAX(i, len, flags, next)            \
	mov %rax, RING + 16*(i);                 \
	movl $(len), RING + 16*(i)+8;            \
	movw $(flags), RING + 16*(i)+12;         \
	movw $(next), RING + 16*(i)+14
#define DESC(i, addr, len, flags, next) \
	mov $(addr), %eax;              \
	DESC_RAX(i, len, flags, next)

_start:
	cld
	test %rdi, %rdi
	jz 1f
	cli /* only vCPU 0 drives the disk */
2:	hlt
	jmp 2b
1:	mov $ECAM, %edi
	mov $32, %ecx
3:	cmpl $ID_BLK, (%rdi)
	je 4f
	add $SLOT_STRIDE, %rdi
	dec %ecx
	jnz 3b
	FAIL(1)
4:	call setup_bar

	/* Flush mode unless the disk's serial says "writethrough". */
	mov $(FEAT_FLUSH | FEAT_WZ), %r13d
	call virtio_init
	movl $(FEAT_FLUSH | FEAT_WZ), %eax
	call check_features
	call get_id
	movabs $0x7268746574697277, %rax /* "writethr" */
	cmp %rax, IDBUF
	jne 5f
	cmpl $0x6867756f, IDBUF + 8 /* "ough" */
	jne 5f
	mov $FEAT_WZ, %r13d
	call virtio_init
	mov $FEAT_WZ, %eax
	call check_features
	movb $1, writethrough(%rip)
	lea wt_msg(%rip), %rsi
	jmp 6f
5:	lea flush_msg(%rip), %rsi
6:	call puts

	/*
	 * The batches, forever, two in turn: batch b + 1 is filled in while
	 * batch b is in flight, then goes out once b has completed.
	 */
	call build_batch
	call publish
batch:
	incq batch_no(%rip)
	call build_batch
	call reap
	cmpb $0, writethrough(%rip)
	je 7f
	/* write-through: the previous batch is stable now */
	mov batch_no(%rip), %rax
	dec %eax
	and $1, %eax
	mov last_seq(,%rax,8), %rax
	call report
	jmp 8f
7:	call add_flush
8:	call publish
	jmp batch

/* Publish the entries prepared and kick the device. */
publish:
	movzwl avail_idx(%rip), %eax
	mov %ax, RING + AVAIL + 2
	mov prepared(%rip), %eax
	add %eax, pending(%rip)
	movl $0, prepared(%rip)
	mov notify_addr(%rip), %rdx
	movw $0, (%rdx)
	ret

/*
 * A FLUSH goes out with batch b = batch_no, for batch b - 1 (which has
 * completed OK): in odd batches ahead of the writes in the avail ring, in
 * even ones after them.
 */
add_flush:
	mov batch_no(%rip), %rax
	and $1, %eax
	mov %eax, %ecx
	xor $1, %ecx
	mov last_seq(,%rcx,8), %rdx
	mov %rdx, flush_covers(,%rax,8)
	mov %eax, %ecx
	shl $8, %ecx
	lea HDRS + 64(%rcx), %edi /* the header */
	movl $BLK_T_FLUSH, (%rdi)
	movl $0, 4(%rdi)
	movq $0, 8(%rdi)
	mov %eax, %edx
	shl $4, %edx
	movb $0xff, STATS + 4(%rdx)
	imul $(20 * 16), %eax, %esi
	add $(RING + FLUSH_HEAD * 16), %esi /* its descriptors */
	mov %rdi, (%rsi)
	movl $16, 8(%rsi)
	movw $F_NEXT, 12(%rsi)
	imul $20, %eax, %ecx
	lea FLUSH_HEAD + 1(%rcx), %ecx
	mov %cx, 14(%rsi)
	lea STATS + 4(%rdx), %edx
	mov %rdx, 16(%rsi)
	movl $1, 24(%rsi)
	movw $F_WRITE, 28(%rsi)
	movw $0, 30(%rsi)
	lea -1(%rcx), %eax /* the head */
	testb $1, batch_no(%rip)
	jz offer
	jmp offer_first

/*
 * Fill in batch batch_no in its half (b & 1) of the buffers, headers and
 * descriptors; its heads go into the avail ring, not yet published.
 */
build_batch:
	/* first record: (b * STRIDE) % (NREC - SPAN + 1) */
	mov batch_no(%rip), %rax
	imul $STRIDE, %rax, %rax
	xor %edx, %edx
	mov $(NREC - SPAN + 1), %ecx
	div %rcx
	mov %rdx, next_rec(%rip)
	/* K = 1 + b % 4 */
	mov batch_no(%rip), %rax
	mov %eax, %ecx
	and $1, %ecx
	and $3, %eax
	inc %eax
	mov %eax, nreqs(,%rcx,4)
	xor %r14d, %r14d /* j */
1:	call build_req
	inc %r14d
	mov batch_no(%rip), %rax
	and $1, %eax
	cmp nreqs(,%rax,4), %r14d
	jb 1b
	mov seq(%rip), %rdx
	mov %rdx, last_seq(,%rax,8)
	ret

/* Request %r14d of the batch. */
build_req:
	mov batch_no(%rip), %r13
	and $1, %r13d /* the half: p */
	/* L = 1 + (b + j) % 3 */
	mov batch_no(%rip), %rax
	add %r14, %rax
	xor %edx, %edx
	mov $3, %ecx
	div %rcx
	lea 1(%rdx), %r15d /* L */
	/* the data buffer */
	mov %r14d, %ebp
	shl $14, %ebp
	add $DATA, %ebp
	mov %r13d, %eax
	shl $16, %eax
	add %eax, %ebp
	lea (%rbp,%r13,8), %rbp
	/* the header: OUT at the first record's sector */
	mov %r13d, %esi
	shl $8, %esi
	mov %r14d, %eax
	shl $4, %eax
	lea HDRS(%rsi,%rax), %esi /* HDRS + 256 p + 16 j */
	movl $BLK_T_OUT, (%rsi)
	movl $0, 4(%rsi)
	mov next_rec(%rip), %rax
	shl $3, %rax /* REC_SECTORS */
	mov %rax, 8(%rsi)
	mov %r13d, %r12d
	shl $4, %r12d
	lea STATS(%r12,%r14), %r12d /* its status byte */
	movb $0xff, (%r12)
	/* one request in five zeroes its records */
	mov batch_no(%rip), %rax
	add %r14, %rax
	xor %edx, %edx
	mov $ZERO_EVERY, %ecx
	div %rcx
	cmp $(ZERO_EVERY - 2), %edx
	je build_wz
	/* the records */
	mov %rbp, %rdi
	xor %ebx, %ebx
2:	mov next_rec(%rip), %r8
	incq seq(%rip)
	mov seq(%rip), %r9
	push %rdi
	call fill_record
	pop %rdi
	add $REC_BYTES, %rdi
	incq next_rec(%rip)
	inc %ebx
	cmp %r15d, %ebx
	jb 2b
	mov bar(%rip), %rbx
	/* descriptors 20 p + 4 j .. + 3 */
	imul $20, %r13d, %r13d
	lea (%r13,%r14,4), %r13d /* the head */
	mov %r13d, %edi
	shl $4, %edi
	add $RING, %edi
	mov %rsi, (%rdi)
	movl $16, 8(%rdi)
	movw $F_NEXT, 12(%rdi)
	lea 1(%r13), %eax
	mov %ax, 14(%rdi)
	/* data: the first record, then the rest if any */
	mov %rbp, 16(%rdi)
	movl $REC_BYTES, 24(%rdi)
	movw $F_NEXT, 28(%rdi)
	lea 3(%r13), %eax
	cmp $1, %r15d
	je 3f
	lea 2(%r13), %eax
	mov %ax, 30(%rdi)
	lea REC_BYTES(%rbp), %rax
	mov %rax, 32(%rdi)
	lea -1(%r15), %eax
	shl $12, %eax
	mov %eax, 40(%rdi)
	movw $F_NEXT, 44(%rdi)
	lea 3(%r13), %eax
	mov %ax, 46(%rdi)
	jmp 4f
3:	mov %ax, 30(%rdi)
4:	/* status */
	mov %r12, 48(%rdi)
	movl $1, 56(%rdi)
	movw $F_WRITE, 60(%rdi)
	movw $0, 62(%rdi)
	mov %r13d, %eax
	jmp offer

/*
 * Request %r14d is a WRITE_ZEROES of its L = %r15d records: header at %rsi,
 * its one segment at %rbp, status byte at %r12, half in %r13d. Each record
 * zeroed takes a sequence number, as a write would.
 */
build_wz:
	movl $BLK_T_WRITE_ZEROES, (%rsi)
	movq $0, 8(%rsi)
	mov next_rec(%rip), %rax
	shl $3, %rax
	mov %rax, (%rbp) /* the segment: sector, sectors, flags */
	lea (,%r15,REC_SECTORS), %eax
	mov %eax, 8(%rbp)
	/* UNMAP (a hole) in batches 2, 3 mod 4, zeroes written in place in the others */
	mov batch_no(%rip), %rax
	shr $1, %eax
	and $WZ_F_UNMAP, %eax
	mov %eax, 12(%rbp)
	add %r15, seq(%rip)
	add %r15, next_rec(%rip)
	/* descriptors 20 p + 4 j (header), + 1 (the segment), + 3 (status) */
	imul $20, %r13d, %r13d
	lea (%r13,%r14,4), %r13d /* the head */
	mov %r13d, %edi
	shl $4, %edi
	add $RING, %edi
	mov %rsi, (%rdi)
	movl $16, 8(%rdi)
	movw $F_NEXT, 12(%rdi)
	lea 1(%r13), %eax
	mov %ax, 14(%rdi)
	mov %rbp, 16(%rdi)
	movl $16, 24(%rdi)
	movw $F_NEXT, 28(%rdi)
	lea 3(%r13), %eax
	mov %ax, 30(%rdi)
	mov %r12, 48(%rdi)
	movl $1, 56(%rdi)
	movw $F_WRITE, 60(%rdi)
	movw $0, 62(%rdi)
	mov %r13d, %eax
	jmp offer

/*
 * Record %r8 with sequence number %r9 at %rdi (clobbers rax, rcx, rdx, rdi,
 * r10, r11).
 */
fill_record:
	mov %r9, %r10
	shl $16, %r10
	or %r8, %r10
	movabs $K1, %rax
	imul %rax, %r10 /* (s << 16 | k) * K1 */
	xor %r11d, %r11d /* the sector */
1:	movabs $MAGIC, %rax
	mov %rax, (%rdi)
	mov %r8, 8(%rdi)
	mov %r9, 16(%rdi)
	mov %r11, 24(%rdi)
	mov %r10, %rax
	xor %r11, %rax
	mov %rax, %rdx
	add $32, %rdi
	mov $FILL_QWORDS, %ecx
	rep stosq
	/* the checksum: MAGIC + k + s + i + FILL_QWORDS * v */
	imul $FILL_QWORDS, %rdx, %rdx
	movabs $MAGIC, %rax
	add %rax, %rdx
	add %r8, %rdx
	add %r9, %rdx
	add %r11, %rdx
	mov %rdx, (%rdi)
	add $8, %rdi
	inc %r11d
	cmp $REC_SECTORS, %r11d
	jb 1b
	ret

/* Put head %ax at the end of the avail ring (unpublished). */
offer:
	movzwl avail_idx(%rip), %ecx
	and $(QSIZE - 1), %ecx
	mov %ax, RING + AVAIL + 4(,%rcx,2)
	incw avail_idx(%rip)
	incl prepared(%rip)
	ret

/* Put head %ax ahead of the entries prepared so far (unpublished). */
offer_first:
	push %rax
	mov prepared(%rip), %edx /* entries to move up by one */
	movzwl avail_idx(%rip), %ecx
1:	test %edx, %edx
	jz 2f
	lea -1(%rcx), %esi
	and $(QSIZE - 1), %esi
	movzwl RING + AVAIL + 4(,%rsi,2), %eax
	mov %ecx, %edi
	and $(QSIZE - 1), %edi
	mov %ax, RING + AVAIL + 4(,%rdi,2)
	dec %ecx
	dec %edx
	jmp 1b
2:	pop %rax
	and $(QSIZE - 1), %ecx
	mov %ax, RING + AVAIL + 4(,%rcx,2)
	incw avail_idx(%rip)
	incl prepared(%rip)
	ret

/*
 * Wait for the published requests, in the order the device uses them: each
 * write's status must be OK; a FLUSH completed OK is reported at once.
 */
reap:
	movzwl used_idx(%rip), %ecx
1:	cmpl $0, pending(%rip)
	je 9f
2:	cmp RING + USED + 2, %cx
	jne 3f
	pause
	jmp 2b
3:	mov %ecx, %edx
	and $(QSIZE - 1), %edx
	mov RING + USED + 4(,%rdx,8), %eax /* id: the head, 20 p + local */
	inc %ecx
	mov %cx, used_idx(%rip)
	decl pending(%rip)
	xor %esi, %esi /* p */
	cmp $20, %eax
	jb 4f
	sub $20, %eax
	mov $1, %esi
	cmp $20, %eax
	jae fail30
4:	mov %esi, %edi
	shl $4, %edi /* STATS + 16 p: the half's status bytes */
	cmp $FLUSH_HEAD, %eax
	je 5f
	test $3, %eax
	jnz fail30
	shr $2, %eax
	cmp nreqs(,%rsi,4), %eax
	jae fail30
	add %eax, %edi
	cmpb $0, STATS(%rdi)
	jne fail31
	jmp 1b
5:	cmpb $0, STATS + 4(%rdi)
	jne fail32
	push %rcx
	mov flush_covers(,%rsi,8), %rax
	call report
	pop %rcx
	jmp 1b
9:	ret
fail30:	FAIL(30)
fail31:	FAIL(31)
fail32:	FAIL(32)

/* "flushed S S\n" for S = %rax (clobbers rax, rcx, rdx, rsi, rdi). */
report:
	push %rax
	lea flushed_msg(%rip), %rsi
	call puts
	mov (%rsp), %rax
	call puthex
	mov $' ', %al
	out %al, %dx
	pop %rax
	call puthex
	mov $'\n', %al
	out %al, %dx
	ret

/* The low 32 bits of %rax, 8 hex digits, to COM1 (clobbers rax, rcx, rdx, rdi). */
puthex:
	mov %eax, %edi
	mov $COM1, %dx
	mov $8, %ecx
1:	rol $4, %edi
	mov %edi, %eax
	and $0xf, %eax
	cmp $10, %eax
	jb 2f
	add $('a' - 10 - '0'), %eax
2:	add $'0', %eax
	out %al, %dx
	dec %ecx
	jnz 1b
	ret

/* ---- PCI and virtio initialisation ---- */

/* BAR 0 of the function at %rdi: program it if unassigned, decode on: -> %rbx, bar. */
setup_bar:
	mov PCI_BAR0(%rdi), %edx
	mov %edx, %ecx
	and $0x7, %ecx
	cmp $0x4, %ecx /* memory, 64-bit */
	jne fail2
	and $0xfffffff0, %edx
	mov PCI_BAR0 + 4(%rdi), %ebx
	shl $32, %rbx
	or %rdx, %rbx
	jnz 1f
	movl $BLK_BAR, PCI_BAR0(%rdi)
	movl $0, PCI_BAR0 + 4(%rdi)
	mov $BLK_BAR, %ebx
1:	movw $CMD_MEM_MASTER, PCI_COMMAND(%rdi)
	cmpw $1, CC_NUM_QUEUES(%rbx)
	jne fail3
	mov %rbx, bar(%rip)
	ret
fail2:	FAIL(2)
fail3:	FAIL(3)

/*
 * Reset, then ACKNOWLEDGE, DRIVER, features (VERSION_1 and %r13d of word 0),
 * FEATURES_OK, queue 0 of QSIZE with empty rings at RING, DRIVER_OK.
 */
virtio_init:
	mov bar(%rip), %rbx
	movb $0, CC_STATUS(%rbx)
	mov $POLL_LIMIT, %ecx
1:	cmpb $0, CC_STATUS(%rbx)
	je 2f
	pause
	dec %ecx
	jnz 1b
	FAIL(10)
2:	movb $S_ACK, CC_STATUS(%rbx)
	movb $(S_ACK | S_DRIVER), CC_STATUS(%rbx)
	movl $1, CC_DFSELECT(%rbx)
	testl $1, CC_DF(%rbx) /* VIRTIO_F_VERSION_1, bit 32 */
	jz fail11
	movl $0, CC_DFSELECT(%rbx)
	mov CC_DF(%rbx), %eax
	and %r13d, %eax
	mov %eax, features(%rip)
	movl $0, CC_GFSELECT(%rbx)
	mov %eax, CC_GF(%rbx)
	movl $1, CC_GFSELECT(%rbx)
	movl $1, CC_GF(%rbx)
	movb $S_NEGOTIATED, CC_STATUS(%rbx)
	testb $S_FEATURES_OK, CC_STATUS(%rbx)
	jz fail12
	movw $0, CC_Q_SELECT(%rbx)
	cmpw $QSIZE, CC_Q_SIZE(%rbx)
	jb fail13
	movw $QSIZE, CC_Q_SIZE(%rbx)
	mov $RING, %edi
	mov $RING_BYTES, %ecx
	xor %eax, %eax
	rep stosb
	movw $AVAIL_NO_INTERRUPT, RING + AVAIL
	movl $RING, CC_Q_DESC(%rbx)
	movl $0, CC_Q_DESC + 4(%rbx)
	movl $(RING + AVAIL), CC_Q_DRIVER(%rbx)
	movl $0, CC_Q_DRIVER + 4(%rbx)
	movl $(RING + USED), CC_Q_DEVICE(%rbx)
	movl $0, CC_Q_DEVICE + 4(%rbx)
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
	movw $0, used_idx(%rip)
	ret
fail11:	FAIL(11)
fail12:	FAIL(12)
fail13:	FAIL(13)
fail14:	FAIL(14)
fail15:	FAIL(15)

/* The features negotiated in word 0 must be %eax. */
check_features:
	cmp features(%rip), %eax
	jne 1f
	ret
1:	FAIL(20)

/* GET_ID into IDBUF. */
get_id:
	movl $BLK_T_GET_ID, HDRS
	movl $0, HDRS + 4
	movq $0, HDRS + 8
	movb $0xff, STATS
	DESC(0, HDRS, 16, F_NEXT, 1)
	DESC(1, IDBUF, 20, F_WRITE | F_NEXT, 2)
	DESC(2, STATS, 1, F_WRITE, 0)
	movw $0, RING + AVAIL + 4
	movw $1, avail_idx(%rip)
	movw $1, RING + AVAIL + 2
	mov notify_addr(%rip), %rdx
	movw $0, (%rdx)
	mov $POLL_LIMIT, %ecx
1:	cmpw $1, RING + USED + 2
	je 2f
	pause
	dec %ecx
	jnz 1b
	FAIL(21)
2:	movw $1, used_idx(%rip)
	cmpb $0, STATS
	jne 3f
	ret
3:	FAIL(21)

#include "puts.inc"

	.balign 8
bar:		.quad 0
notify_addr:	.quad 0
batch_no:	.quad 0 /* b */
seq:		.quad 0 /* the last sequence number given to a record */
last_seq:	.quad 0, 0 /* the last sequence number of the batch in each half */
flush_covers:	.quad 0, 0 /* what the flush in each half covers */
next_rec:	.quad 0
features:	.long 0
nreqs:		.long 0, 0 /* K of the batch in each half */
prepared:	.long 0 /* offered, not yet published */
pending:	.long 0 /* published, not yet used */
avail_idx:	.word 0
used_idx:	.word 0
writethrough:	.byte 0

flush_msg:	.asciz "blk_durable: flush mode\n"
wt_msg:		.asciz "blk_durable: write-through mode\n"
flushed_msg:	.asciz "flushed "
