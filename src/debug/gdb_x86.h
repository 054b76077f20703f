/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The x86-64 side of the GDB stub, free of KVM: the register numbering and
 * the target description we give gdb, the 'g'/'G'/'p'/'P' encodings of a
 * plain register struct, qXfer slicing, and DR0-DR3/DR7/DR6 for hardware
 * breakpoints and watchpoints.
 */
#ifndef PETREL_DEBUG_GDB_X86_H
#define PETREL_DEBUG_GDB_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Remote register numbers, in the order of gdb_x86_target_xml() (gdb numbers
 * registers of a target description in document order), which is also the
 * order and layout of the 'g' packet. Sizes in bytes, little-endian.
 *
 *   feature org.gnu.gdb.i386.core
 *    0-15  rax rbx rcx rdx rsi rdi rbp rsp r8 ... r15   8 each
 *    16    rip                                          8
 *    17    eflags                                       4
 *    18-23 cs ss ds es fs gs                            4 each
 *    24-31 st0 ... st7                                  10 each (zeros)
 *    32-39 fctrl fstat ftag fiseg fioff foseg fooff fop 4 each (zeros)
 *   feature org.gnu.gdb.i386.sse
 *    40-55 xmm0 ... xmm15                               16 each (zeros)
 *    56    mxcsr                                        4 (zero)
 *   feature org.gnu.gdb.i386.sys
 *    57-65 fs_base gs_base k_gs_base cr0 cr2 cr3 cr4 cr8 efer  8 each
 *
 * Byte offsets in the 'g' packet: rip 128, eflags 136, cs 140, st0 164,
 * fctrl 244, xmm0 276, mxcsr 532, fs_base 536; 608 bytes in all.
 * The x87/SSE registers are not kept: they read as zeros and writes to them
 * are ignored.
 */
enum gdb_x86_regno {
	GDB_X86_RAX,
	GDB_X86_RBX,
	GDB_X86_RCX,
	GDB_X86_RDX,
	GDB_X86_RSI,
	GDB_X86_RDI,
	GDB_X86_RBP,
	GDB_X86_RSP,
	GDB_X86_R8,
	GDB_X86_R9,
	GDB_X86_R10,
	GDB_X86_R11,
	GDB_X86_R12,
	GDB_X86_R13,
	GDB_X86_R14,
	GDB_X86_R15,
	GDB_X86_RIP, /* 16 */
	GDB_X86_EFLAGS,
	GDB_X86_CS, /* 18 */
	GDB_X86_SS,
	GDB_X86_DS,
	GDB_X86_ES,
	GDB_X86_FS,
	GDB_X86_GS,
	GDB_X86_ST0, /* 24 */
	GDB_X86_ST7 = GDB_X86_ST0 + 7,
	GDB_X86_FCTRL, /* 32 */
	GDB_X86_FSTAT,
	GDB_X86_FTAG,
	GDB_X86_FISEG,
	GDB_X86_FIOFF,
	GDB_X86_FOSEG,
	GDB_X86_FOOFF,
	GDB_X86_FOP,
	GDB_X86_XMM0, /* 40 */
	GDB_X86_XMM15 = GDB_X86_XMM0 + 15,
	GDB_X86_MXCSR,	 /* 56 */
	GDB_X86_FS_BASE, /* 57 */
	GDB_X86_GS_BASE,
	GDB_X86_K_GS_BASE,
	GDB_X86_CR0,
	GDB_X86_CR2,
	GDB_X86_CR3,
	GDB_X86_CR4,
	GDB_X86_CR8,
	GDB_X86_EFER, /* 65 */
	GDB_X86_NUM_REGS,
};

#define GDB_X86_REG_MAX_SIZE 16 /* an xmm register */
#define GDB_X86_G_BYTES 608	/* the whole 'g' packet, in bytes */
#define GDB_X86_G_MIN_BYTES 128 /* shortest 'G' accepted: the 16 GPRs */

/* Index into gdb_x86_regs.seg[] */
enum gdb_x86_seg { GDB_SEG_CS, GDB_SEG_SS, GDB_SEG_DS, GDB_SEG_ES, GDB_SEG_FS, GDB_SEG_GS };

/*
 * The registers the stub serves. gpr[] is in gdb's order (rax rbx rcx rdx rsi
 * rdi rbp rsp r8-r15, i.e. gpr[GDB_X86_RBX]), NOT the hardware encoding order.
 * seg[] holds selectors in gdb's order cs ss ds es fs gs.
 */
struct gdb_x86_regs {
	uint64_t gpr[16];
	uint64_t rip;
	uint32_t eflags;
	uint32_t seg[6];
	uint64_t fs_base, gs_base, k_gs_base, cr0, cr2, cr3, cr4, cr8, efer;
};

/* Size in bytes of register regno, or -EINVAL. */
int gdb_x86_reg_size(int regno);

/*
 * The 'g' reply: 2 * GDB_X86_G_BYTES hex digits and a NUL. Returns the number
 * of hex digits, 0 if size is too small.
 */
size_t gdb_x86_regs_encode(const struct gdb_x86_regs *r, char *hex, size_t size);
/*
 * A 'G' payload of len hex digits. Registers are taken in packet order; a
 * shorter packet must still cover the 16 GPRs and end on a register boundary,
 * registers past its end are left as they were. x87/SSE parts are ignored.
 * -EINVAL (r untouched) on a bad digit, a bad length or a too long packet.
 */
int gdb_x86_regs_decode(const char *hex, size_t len, struct gdb_x86_regs *r);
/*
 * 'p': register regno into buf (at least GDB_X86_REG_MAX_SIZE bytes),
 * little-endian; *size is set to its size. -EINVAL for a bad regno.
 */
int gdb_x86_reg_get(const struct gdb_x86_regs *r, int regno, uint8_t *buf, size_t *size);
/*
 * 'P': size must be the register's size. x87/SSE registers are accepted and
 * ignored. -EINVAL for a bad regno or size.
 */
int gdb_x86_reg_set(struct gdb_x86_regs *r, int regno, const uint8_t *buf, size_t size);

/* The whole target.xml: i386:x86-64 with the core, sse and sys features. */
const char *gdb_x86_target_xml(void);

/*
 * Answer "qXfer:features:read:ANNEX:OFFSET,LENGTH". req is what follows
 * "qXfer:features:read:"; annex the one document we serve (e.g.
 * "target.xml"). Writes 'm' or 'l' (last chunk) followed by the data into
 * out, NUL-terminated; the data is at most LENGTH bytes and is shortened to
 * fit out_size. The result is raw: send it with gdb_frame()/gdb_frame_bin(),
 * which escape it. Returns the payload length, -ENOENT for another annex
 * (reply "E00"), -EINVAL when malformed or out_size < 2.
 */
int gdb_xfer_slice(const char *doc, const char *annex, const char *req, char *out, size_t out_size);

/* gdb Z/z types for hardware breakpoints and watchpoints */
#define GDB_HW_EXEC 1
#define GDB_HW_WRITE 2
#define GDB_HW_READ 3
#define GDB_HW_ACCESS 4

struct gdb_hw_bp {
	int type; /* 1 exec, 2 write, 3 read, 4 access (gdb Z types) */
	uint64_t addr;
	uint64_t len; /* 1, 2, 4 or 8 for watchpoints; ignored for exec */
};

#define GDB_X86_MAX_HW_BP 4

/*
 * DR0-DR3 and DR7 for n (0..4) breakpoints, bps[i] in DRi. Exec: RW=00
 * LEN=00. Write: RW=01. Read and access: RW=11 (x86 has no read-only
 * watchpoint, so a read watchpoint also fires on writes). LEN 00/01/11/10
 * for 1/2/4/8 bytes, the address aligned to the length. Sets Li for each
 * breakpoint and LE|GE when there is at least one; dr7 is 0 for n == 0.
 * Unused dr[] slots are 0. -ENOSPC for n > 4, -EINVAL for a bad type,
 * length or alignment (outputs untouched on error).
 */
int gdb_x86_dr7_build(const struct gdb_hw_bp *bps, int n, uint64_t *dr7, uint64_t dr[4]);
/* Index 0..3 of the lowest triggered breakpoint (B0-B3) in dr6, or -1. */
int gdb_x86_dr6_hit(uint64_t dr6);
/* True when dr6 reports a single-step trap (BS, bit 14). */
bool gdb_x86_dr6_single_step(uint64_t dr6);

#endif
