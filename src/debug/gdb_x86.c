// SPDX-License-Identifier: GPL-2.0-only
/* x86-64 registers, target description and debug registers for the GDB stub. */
#include "debug/gdb_x86.h"

#include <errno.h>
#include <string.h>

#include "debug/gdb_proto.h"

/* clang-format off */
#define GPR64(n) "    <reg name=\"" n "\" bitsize=\"64\" type=\"int64\"/>\n"
#define SEG32(n) "    <reg name=\"" n "\" bitsize=\"32\" type=\"int32\"/>\n"
#define ST80(n) "    <reg name=\"" n "\" bitsize=\"80\" type=\"i387_ext\"/>\n"
#define FPU32(n) "    <reg name=\"" n "\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
#define XMM(n) "    <reg name=\"" n "\" bitsize=\"128\" type=\"vec128\"/>\n"
#define SYS64(n) "    <reg name=\"" n "\" bitsize=\"64\" type=\"int64\" group=\"system\"/>\n"
#define FLAG(n, b) "      <field name=\"" n "\" start=\"" #b "\" end=\"" #b "\"/>\n"

static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"  <architecture>i386:x86-64</architecture>\n"
	"  <feature name=\"org.gnu.gdb.i386.core\">\n"
	"    <flags id=\"i386_eflags\" size=\"4\">\n"
	FLAG("CF", 0) FLAG("PF", 2) FLAG("AF", 4) FLAG("ZF", 6)
	FLAG("SF", 7) FLAG("TF", 8) FLAG("IF", 9) FLAG("DF", 10) FLAG("OF", 11)
	FLAG("NT", 14) FLAG("RF", 16) FLAG("VM", 17) FLAG("AC", 18) FLAG("VIF", 19)
	FLAG("VIP", 20) FLAG("ID", 21)
	"    </flags>\n"
	GPR64("rax") GPR64("rbx") GPR64("rcx") GPR64("rdx") GPR64("rsi") GPR64("rdi")
	"    <reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"    <reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	GPR64("r8") GPR64("r9") GPR64("r10") GPR64("r11")
	GPR64("r12") GPR64("r13") GPR64("r14") GPR64("r15")
	"    <reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
	"    <reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
	SEG32("cs") SEG32("ss") SEG32("ds") SEG32("es") SEG32("fs") SEG32("gs")
	ST80("st0") ST80("st1") ST80("st2") ST80("st3")
	ST80("st4") ST80("st5") ST80("st6") ST80("st7")
	FPU32("fctrl") FPU32("fstat") FPU32("ftag") FPU32("fiseg")
	FPU32("fioff") FPU32("foseg") FPU32("fooff") FPU32("fop")
	"  </feature>\n"
	"  <feature name=\"org.gnu.gdb.i386.sse\">\n"
	"    <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
	"    <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
	"    <vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
	"    <vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
	"    <vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
	"    <vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
	"    <union id=\"vec128\">\n"
	"      <field name=\"v4_float\" type=\"v4f\"/>\n"
	"      <field name=\"v2_double\" type=\"v2d\"/>\n"
	"      <field name=\"v16_int8\" type=\"v16i8\"/>\n"
	"      <field name=\"v8_int16\" type=\"v8i16\"/>\n"
	"      <field name=\"v4_int32\" type=\"v4i32\"/>\n"
	"      <field name=\"v2_int64\" type=\"v2i64\"/>\n"
	"      <field name=\"uint128\" type=\"uint128\"/>\n"
	"    </union>\n"
	"    <flags id=\"i386_mxcsr\" size=\"4\">\n"
	FLAG("IE", 0) FLAG("DE", 1) FLAG("ZE", 2) FLAG("OE", 3) FLAG("UE", 4)
	FLAG("PE", 5) FLAG("DAZ", 6) FLAG("IM", 7) FLAG("DM", 8) FLAG("ZM", 9)
	FLAG("OM", 10) FLAG("UM", 11) FLAG("PM", 12) FLAG("FZ", 15)
	"    </flags>\n"
	XMM("xmm0") XMM("xmm1") XMM("xmm2") XMM("xmm3")
	XMM("xmm4") XMM("xmm5") XMM("xmm6") XMM("xmm7")
	XMM("xmm8") XMM("xmm9") XMM("xmm10") XMM("xmm11")
	XMM("xmm12") XMM("xmm13") XMM("xmm14") XMM("xmm15")
	"    <reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" group=\"vector\"/>\n"
	"  </feature>\n"
	"  <feature name=\"org.gnu.gdb.i386.sys\">\n"
	SYS64("fs_base") SYS64("gs_base") SYS64("k_gs_base")
	SYS64("cr0") SYS64("cr2") SYS64("cr3") SYS64("cr4") SYS64("cr8") SYS64("efer")
	"  </feature>\n"
	"</target>\n";
/* clang-format on */

const char *gdb_x86_target_xml(void)
{
	return target_xml;
}

int gdb_xfer_slice(const char *doc, const char *annex, const char *req, char *out, size_t out_size)
{
	size_t alen = strlen(annex), dlen = strlen(doc), n;
	const char *p = req;
	uint64_t off, len;

	if (out_size < 2)
		return -EINVAL;
	if (strncmp(p, annex, alen) != 0 || p[alen] != ':')
		return strchr(p, ':') ? -ENOENT : -EINVAL;
	p += alen + 1;
	if (gdb_parse_hex_u64(&p, &off) || *p++ != ',' || gdb_parse_hex_u64(&p, &len) || *p != '\0')
		return -EINVAL;
	if (off >= dlen) {
		out[0] = 'l';
		out[1] = '\0';
		return 1;
	}
	n = dlen - off;
	if (len < n)
		n = len;
	if (n > out_size - 2)
		n = out_size - 2;
	out[0] = off + n >= dlen ? 'l' : 'm';
	memcpy(out + 1, doc + off, n);
	out[n + 1] = '\0';
	return (int)(n + 1);
}

int gdb_x86_reg_size(int regno)
{
	if (regno < 0 || regno >= GDB_X86_NUM_REGS)
		return -EINVAL;
	if (regno <= GDB_X86_RIP)
		return 8;
	if (regno <= GDB_X86_GS)
		return 4;
	if (regno <= GDB_X86_ST7)
		return 10;
	if (regno <= GDB_X86_FOP)
		return 4;
	if (regno <= GDB_X86_XMM15)
		return 16;
	if (regno == GDB_X86_MXCSR)
		return 4;
	return 8;
}

/* The kept 64-bit registers, or NULL. */
static uint64_t *reg64(struct gdb_x86_regs *r, int regno)
{
	if (regno >= GDB_X86_RAX && regno <= GDB_X86_R15)
		return &r->gpr[regno];
	switch (regno) {
	case GDB_X86_RIP:
		return &r->rip;
	case GDB_X86_FS_BASE:
		return &r->fs_base;
	case GDB_X86_GS_BASE:
		return &r->gs_base;
	case GDB_X86_K_GS_BASE:
		return &r->k_gs_base;
	case GDB_X86_CR0:
		return &r->cr0;
	case GDB_X86_CR2:
		return &r->cr2;
	case GDB_X86_CR3:
		return &r->cr3;
	case GDB_X86_CR4:
		return &r->cr4;
	case GDB_X86_CR8:
		return &r->cr8;
	case GDB_X86_EFER:
		return &r->efer;
	default:
		return NULL;
	}
}

/* The kept 32-bit registers, or NULL. */
static uint32_t *reg32(struct gdb_x86_regs *r, int regno)
{
	if (regno == GDB_X86_EFLAGS)
		return &r->eflags;
	if (regno >= GDB_X86_CS && regno <= GDB_X86_GS)
		return &r->seg[regno - GDB_X86_CS];
	return NULL;
}

static void put_le(uint8_t *buf, uint64_t v, int size)
{
	int i;

	for (i = 0; i < size; i++)
		buf[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *buf, int size)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)buf[i] << (8 * i);
	return v;
}

int gdb_x86_reg_get(const struct gdb_x86_regs *r, int regno, uint8_t *buf, size_t *size)
{
	struct gdb_x86_regs copy = *r;
	int sz = gdb_x86_reg_size(regno);
	uint64_t *p64;
	uint32_t *p32;

	if (sz < 0)
		return sz;
	memset(buf, 0, (size_t)sz);
	p64 = reg64(&copy, regno);
	p32 = reg32(&copy, regno);
	if (p64)
		put_le(buf, *p64, 8);
	else if (p32)
		put_le(buf, *p32, 4);
	*size = (size_t)sz;
	return 0;
}

int gdb_x86_reg_set(struct gdb_x86_regs *r, int regno, const uint8_t *buf, size_t size)
{
	int sz = gdb_x86_reg_size(regno);
	uint64_t *p64;
	uint32_t *p32;

	if (sz < 0)
		return sz;
	if (size != (size_t)sz)
		return -EINVAL;
	p64 = reg64(r, regno);
	p32 = reg32(r, regno);
	if (p64)
		*p64 = get_le(buf, 8);
	else if (p32)
		*p32 = (uint32_t)get_le(buf, 4);
	return 0;
}

size_t gdb_x86_regs_encode(const struct gdb_x86_regs *r, char *hex, size_t size)
{
	uint8_t buf[GDB_X86_REG_MAX_SIZE];
	size_t o = 0, sz;
	int i;

	if (size < 2 * GDB_X86_G_BYTES + 1)
		return 0;
	for (i = 0; i < GDB_X86_NUM_REGS; i++) {
		gdb_x86_reg_get(r, i, buf, &sz);
		gdb_hex_encode(buf, sz, hex + o);
		o += 2 * sz;
	}
	return o;
}

int gdb_x86_regs_decode(const char *hex, size_t len, struct gdb_x86_regs *r)
{
	uint8_t buf[GDB_X86_REG_MAX_SIZE];
	struct gdb_x86_regs tmp = *r;
	size_t o = 0, need;
	int i;

	if (len % 2 || len < 2 * GDB_X86_G_MIN_BYTES || len > 2 * GDB_X86_G_BYTES)
		return -EINVAL;
	for (i = 0; i < GDB_X86_NUM_REGS && o < len; i++) {
		need = 2 * (size_t)gdb_x86_reg_size(i);
		if (len - o < need)
			return -EINVAL;
		if (gdb_hex_decode(hex + o, need, buf))
			return -EINVAL;
		gdb_x86_reg_set(&tmp, i, buf, need / 2);
		o += need;
	}
	*r = tmp;
	return 0;
}

/* DR7 fields */
#define DR7_L(i) (1ULL << (2 * (i)))
#define DR7_LE (1ULL << 8)
#define DR7_GE (1ULL << 9)
#define DR7_RW_SHIFT(i) (16 + 4 * (i))
#define DR7_LEN_SHIFT(i) (18 + 4 * (i))
#define DR7_RW_EXEC 0x0ULL
#define DR7_RW_WRITE 0x1ULL
#define DR7_RW_ACCESS 0x3ULL
#define DR6_BS (1ULL << 14)

static int dr7_len_bits(uint64_t len, uint64_t *bits)
{
	switch (len) {
	case 1:
		*bits = 0x0;
		return 0;
	case 2:
		*bits = 0x1;
		return 0;
	case 4:
		*bits = 0x3;
		return 0;
	case 8:
		*bits = 0x2;
		return 0;
	default:
		return -EINVAL;
	}
}

int gdb_x86_dr7_build(const struct gdb_hw_bp *bps, int n, uint64_t *dr7, uint64_t dr[4])
{
	uint64_t v = 0, addrs[4] = {0, 0, 0, 0};
	int i;

	if (n < 0)
		return -EINVAL;
	if (n > GDB_X86_MAX_HW_BP)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		uint64_t rw, len = 0;

		switch (bps[i].type) {
		case GDB_HW_EXEC:
			rw = DR7_RW_EXEC;
			break;
		case GDB_HW_WRITE:
			rw = DR7_RW_WRITE;
			break;
		case GDB_HW_READ: /* no read-only watchpoints on x86 */
		case GDB_HW_ACCESS:
			rw = DR7_RW_ACCESS;
			break;
		default:
			return -EINVAL;
		}
		if (rw != DR7_RW_EXEC) {
			if (dr7_len_bits(bps[i].len, &len))
				return -EINVAL;
			if (bps[i].addr & (bps[i].len - 1))
				return -EINVAL;
		}
		v |= DR7_L(i) | rw << DR7_RW_SHIFT(i) | len << DR7_LEN_SHIFT(i);
		addrs[i] = bps[i].addr;
	}
	if (n)
		v |= DR7_LE | DR7_GE;
	*dr7 = v;
	memcpy(dr, addrs, sizeof(addrs));
	return 0;
}

int gdb_x86_dr6_hit(uint64_t dr6)
{
	int i;

	for (i = 0; i < 4; i++)
		if (dr6 & (1ULL << i))
			return i;
	return -1;
}

bool gdb_x86_dr6_single_step(uint64_t dr6)
{
	return (dr6 & DR6_BS) != 0;
}
