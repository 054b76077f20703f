// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the x86-64 register view, target description and debug registers of the GDB stub.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "debug/gdb_proto.h"
#include "debug/gdb_x86.h"

static void fill_regs(struct gdb_x86_regs *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 16; i++)
		r->gpr[i] = 0x1111111111111111ULL * (uint64_t)(i + 1) + (uint64_t)i;
	r->rip = 0xffffffff81000000ULL;
	r->eflags = 0x246;
	for (i = 0; i < 6; i++)
		r->seg[i] = 0x10 + 8 * (uint32_t)i;
	r->fs_base = 0x7f0000001000ULL;
	r->gs_base = 0xffff888000000000ULL;
	r->k_gs_base = 0x1234;
	r->cr0 = 0x80050033;
	r->cr2 = 0xdeadbeef;
	r->cr3 = 0x1000;
	r->cr4 = 0x3706f0;
	r->cr8 = 0xf;
	r->efer = 0xd01;
}

static void test_reg_sizes(void **state)
{
	int i, total = 0;

	(void)state;
	for (i = 0; i < GDB_X86_NUM_REGS; i++)
		total += gdb_x86_reg_size(i);
	assert_int_equal(total, GDB_X86_G_BYTES);
	assert_int_equal(GDB_X86_NUM_REGS, 66);
	assert_int_equal(GDB_X86_RIP, 16);
	assert_int_equal(GDB_X86_EFLAGS, 17);
	assert_int_equal(GDB_X86_ST0, 24);
	assert_int_equal(GDB_X86_FCTRL, 32);
	assert_int_equal(GDB_X86_FOP, 39);
	assert_int_equal(GDB_X86_XMM0, 40);
	assert_int_equal(GDB_X86_MXCSR, 56);
	assert_int_equal(GDB_X86_FS_BASE, 57);
	assert_int_equal(GDB_X86_EFER, 65);
	assert_int_equal(gdb_x86_reg_size(-1), -EINVAL);
	assert_int_equal(gdb_x86_reg_size(GDB_X86_NUM_REGS), -EINVAL);
}

static void test_g_layout(void **state)
{
	struct gdb_x86_regs r, back;
	char hex[2 * GDB_X86_G_BYTES + 1];
	size_t n;
	int i;

	(void)state;
	fill_regs(&r);
	assert_int_equal(gdb_x86_regs_encode(&r, hex, sizeof(hex) - 1), 0);
	n = gdb_x86_regs_encode(&r, hex, sizeof(hex));
	assert_int_equal(n, 2 * GDB_X86_G_BYTES);
	assert_int_equal(strlen(hex), n);
	/* rax first, little-endian */
	assert_memory_equal(hex, "1111111111111111", 16);
	/* rbx = 0x2222222222222223 */
	assert_memory_equal(hex + 16, "2322222222222222", 16);
	/* rip at byte 128 */
	assert_memory_equal(hex + 256, "00000081ffffffff", 16);
	/* eflags at 136, cs at 140, gs at 160 */
	assert_memory_equal(hex + 272, "46020000", 8);
	assert_memory_equal(hex + 280, "10000000", 8);
	assert_memory_equal(hex + 320, "38000000", 8);
	/* x87 and SSE are zeros: bytes 164..535 */
	for (i = 2 * 164; i < 2 * 536; i++)
		assert_int_equal(hex[i], '0');
	/* fs_base at 536, efer last */
	assert_memory_equal(hex + 2 * 536, "00100000007f0000", 16);
	assert_memory_equal(hex + 2 * 600, "010d000000000000", 16);

	memset(&back, 0, sizeof(back));
	assert_int_equal(gdb_x86_regs_decode(hex, n, &back), 0);
	assert_memory_equal(&back, &r, sizeof(r));
}

static void test_G_partial_and_errors(void **state)
{
	struct gdb_x86_regs r, back, orig;
	char hex[2 * GDB_X86_G_BYTES + 1];
	size_t n;

	(void)state;
	fill_regs(&r);
	n = gdb_x86_regs_encode(&r, hex, sizeof(hex));

	/* only the GPRs: everything else keeps its value */
	memset(&back, 0, sizeof(back));
	back.rip = 0x42;
	back.cr3 = 0x99;
	assert_int_equal(gdb_x86_regs_decode(hex, 2 * 128, &back), 0);
	assert_memory_equal(back.gpr, r.gpr, sizeof(r.gpr));
	assert_int_equal(back.rip, 0x42);
	assert_int_equal(back.cr3, 0x99);

	/* up to the end of the core feature's GPR/segment part */
	assert_int_equal(gdb_x86_regs_decode(hex, 2 * 164, &back), 0);
	assert_true(back.rip == r.rip);
	assert_int_equal(back.seg[GDB_SEG_GS], r.seg[GDB_SEG_GS]);
	assert_int_equal(back.cr3, 0x99);

	/* x87/SSE are ignored even when non-zero */
	memset(hex + 2 * 164, 'f', 2 * (536 - 164));
	memset(&back, 0, sizeof(back));
	assert_int_equal(gdb_x86_regs_decode(hex, n, &back), 0);
	assert_memory_equal(&back, &r, sizeof(r));

	orig = back;
	assert_int_equal(gdb_x86_regs_decode(hex, 2 * 127, &back), -EINVAL); /* too short */
	assert_int_equal(gdb_x86_regs_decode(hex, 2 * 130, &back), -EINVAL); /* mid-register */
	assert_int_equal(gdb_x86_regs_decode(hex, 2 * 128 + 1, &back), -EINVAL);
	assert_int_equal(gdb_x86_regs_decode(hex, n + 2, &back), -EINVAL);
	hex[300] = 'z';
	assert_int_equal(gdb_x86_regs_decode(hex, n, &back), -EINVAL);
	assert_memory_equal(&back, &orig, sizeof(orig));
}

static void test_p_P(void **state)
{
	struct gdb_x86_regs r;
	uint8_t buf[GDB_X86_REG_MAX_SIZE], zero[GDB_X86_REG_MAX_SIZE] = {0};
	const uint8_t v8[8] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
	const uint8_t v4[4] = {0x02, 0x01, 0x00, 0x00};
	size_t sz;

	(void)state;
	fill_regs(&r);
	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(gdb_x86_reg_get(&r, GDB_X86_ST0 + 3, buf, &sz), 0);
	assert_int_equal(sz, 10);
	assert_memory_equal(buf, zero, 10);
	assert_int_equal(gdb_x86_reg_get(&r, GDB_X86_FOP, buf, &sz), 0);
	assert_int_equal(sz, 4);
	assert_int_equal(gdb_x86_reg_get(&r, GDB_X86_XMM0 + 15, buf, &sz), 0);
	assert_int_equal(sz, 16);
	assert_memory_equal(buf, zero, 16);
	assert_int_equal(gdb_x86_reg_get(&r, GDB_X86_MXCSR, buf, &sz), 0);
	assert_int_equal(sz, 4);

	assert_int_equal(gdb_x86_reg_get(&r, GDB_X86_RIP, buf, &sz), 0);
	assert_int_equal(sz, 8);
	assert_memory_equal(buf, "\x00\x00\x00\x81\xff\xff\xff\xff", 8);
	assert_int_equal(gdb_x86_reg_get(&r, GDB_X86_SS, buf, &sz), 0);
	assert_int_equal(sz, 4);
	assert_memory_equal(buf, "\x18\x00\x00\x00", 4);
	assert_int_equal(gdb_x86_reg_get(&r, GDB_X86_CR4, buf, &sz), 0);
	assert_memory_equal(buf, "\xf0\x06\x37\x00\x00\x00\x00\x00", 8);

	assert_int_equal(gdb_x86_reg_get(&r, -1, buf, &sz), -EINVAL);
	assert_int_equal(gdb_x86_reg_get(&r, 66, buf, &sz), -EINVAL);

	assert_int_equal(gdb_x86_reg_set(&r, GDB_X86_R15, v8, 8), 0);
	assert_true(r.gpr[15] == 0x1122334455667788ULL);
	assert_int_equal(gdb_x86_reg_set(&r, GDB_X86_EFER, v8, 8), 0);
	assert_true(r.efer == 0x1122334455667788ULL);
	assert_int_equal(gdb_x86_reg_set(&r, GDB_X86_EFLAGS, v4, 4), 0);
	assert_int_equal(r.eflags, 0x102);
	assert_int_equal(gdb_x86_reg_set(&r, GDB_X86_FS, v4, 4), 0);
	assert_int_equal(r.seg[GDB_SEG_FS], 0x102);
	assert_int_equal(gdb_x86_reg_set(&r, GDB_X86_EFLAGS, v8, 8), -EINVAL);
	assert_int_equal(gdb_x86_reg_set(&r, GDB_X86_RAX, v4, 4), -EINVAL);
	assert_int_equal(gdb_x86_reg_set(&r, GDB_X86_ST0, zero, 10), 0);
	assert_int_equal(gdb_x86_reg_set(&r, GDB_X86_XMM0, zero, 16), 0);
	assert_int_equal(gdb_x86_reg_set(&r, 66, v8, 8), -EINVAL);
	assert_int_equal(gdb_x86_reg_set(&r, -5, v8, 8), -EINVAL);
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle))) {
		n++;
		s++;
	}
	return n;
}

static void test_target_xml(void **state)
{
	const char *x = gdb_x86_target_xml();
	static const char *const names[] = {
	    "rax",   "rbx",	"rcx",	   "rdx",	"rsi",	 "rdi",	  "rbp",   "rsp",
	    "r8",    "r9",	"r10",	   "r11",	"r12",	 "r13",	  "r14",   "r15",
	    "rip",   "eflags",	"cs",	   "ss",	"ds",	 "es",	  "fs",	   "gs",
	    "st0",   "st1",	"st2",	   "st3",	"st4",	 "st5",	  "st6",   "st7",
	    "fctrl", "fstat",	"ftag",	   "fiseg",	"fioff", "foseg", "fooff", "fop",
	    "xmm0",  "xmm1",	"xmm2",	   "xmm3",	"xmm4",	 "xmm5",  "xmm6",  "xmm7",
	    "xmm8",  "xmm9",	"xmm10",   "xmm11",	"xmm12", "xmm13", "xmm14", "xmm15",
	    "mxcsr", "fs_base", "gs_base", "k_gs_base", "cr0",	 "cr2",	  "cr3",   "cr4",
	    "cr8",   "efer",
	};
	const char *p = x, *core, *sse, *sys;
	char needle[64];
	size_t i;

	(void)state;
	assert_non_null(strstr(x, "<architecture>i386:x86-64</architecture>"));
	core = strstr(x, "<feature name=\"org.gnu.gdb.i386.core\">");
	sse = strstr(x, "<feature name=\"org.gnu.gdb.i386.sse\">");
	sys = strstr(x, "<feature name=\"org.gnu.gdb.i386.sys\">");
	assert_non_null(core);
	assert_non_null(sse);
	assert_non_null(sys);
	assert_true(core < sse && sse < sys);
	assert_null(strstr(x, "xi:include"));
	assert_int_equal(count(x, "<feature "), 3);
	assert_int_equal(count(x, "</feature>"), 3);
	assert_int_equal(count(x, "<target"), 1);
	assert_int_equal(count(x, "</target>"), 1);
	assert_int_equal(count(x, "<reg "), GDB_X86_NUM_REGS);
	assert_int_equal(count(x, "<"), count(x, ">"));
	/* no characters that would need escaping */
	assert_null(strpbrk(x, "$#}*"));

	/* registers appear in remote-number order, with the right sizes */
	assert_int_equal(sizeof(names) / sizeof(names[0]), GDB_X86_NUM_REGS);
	for (i = 0; i < GDB_X86_NUM_REGS; i++) {
		const char *q;

		snprintf(needle, sizeof(needle), "<reg name=\"%s\" bitsize=\"%d\"", names[i],
			 8 * gdb_x86_reg_size((int)i));
		q = strstr(p, needle);
		assert_non_null(q);
		p = q + 1;
		if (i == GDB_X86_XMM0)
			assert_true(q > sse);
		if (i == GDB_X86_FS_BASE)
			assert_true(q > sys);
		if (i == GDB_X86_FOP)
			assert_true(q < sse);
	}
}

static void test_xfer_slice(void **state)
{
	const char *doc = "0123456789";
	const char *x = gdb_x86_target_xml();
	char out[64], big[GDB_PACKET_MAX], joined[8192];
	size_t off = 0, xlen = strlen(x);
	int n, chunks = 0;

	(void)state;
	n = gdb_xfer_slice(doc, "target.xml", "target.xml:0,4", out, sizeof(out));
	assert_int_equal(n, 5);
	assert_string_equal(out, "m0123");
	n = gdb_xfer_slice(doc, "target.xml", "target.xml:4,6", out, sizeof(out));
	assert_int_equal(n, 7);
	assert_string_equal(out, "l456789");
	n = gdb_xfer_slice(doc, "target.xml", "target.xml:8,100", out, sizeof(out));
	assert_string_equal(out, "l89");
	n = gdb_xfer_slice(doc, "target.xml", "target.xml:a,10", out, sizeof(out));
	assert_int_equal(n, 1);
	assert_string_equal(out, "l");
	n = gdb_xfer_slice(doc, "target.xml", "target.xml:20,10", out, sizeof(out));
	assert_string_equal(out, "l");
	/* shortened to fit out */
	n = gdb_xfer_slice(doc, "target.xml", "target.xml:0,100", out, 5);
	assert_int_equal(n, 4);
	assert_string_equal(out, "m012");

	assert_int_equal(gdb_xfer_slice(doc, "target.xml", "other.xml:0,10", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(gdb_xfer_slice(doc, "target.xml", "target.xmlx:0,10", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(gdb_xfer_slice(doc, "target.xml", "target.xml:0", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(gdb_xfer_slice(doc, "target.xml", "target.xml:,1", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(gdb_xfer_slice(doc, "target.xml", "target.xml:0,1x", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(gdb_xfer_slice(doc, "target.xml", "target.xml", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(gdb_xfer_slice(doc, "target.xml", "target.xml:0,1", out, 1), -EINVAL);

	/* the real document in 0x3ff-byte chunks: m... then l */
	assert_true(xlen < sizeof(joined));
	for (;;) {
		char req[64];

		snprintf(req, sizeof(req), "target.xml:%zx,3ff", off);
		n = gdb_xfer_slice(x, "target.xml", req, big, sizeof(big));
		assert_true(n >= 1);
		memcpy(joined + off, big + 1, (size_t)n - 1);
		off += (size_t)n - 1;
		chunks++;
		if (big[0] == 'l')
			break;
		assert_int_equal(big[0], 'm');
		assert_int_equal(n, 0x400);
	}
	assert_true(chunks > 1);
	assert_int_equal(off, xlen);
	assert_memory_equal(joined, x, xlen);
}

static void test_dr7_types(void **state)
{
	struct gdb_hw_bp bp[4] = {
	    {GDB_HW_EXEC, 0xffffffff81000003ULL, 1},
	    {GDB_HW_WRITE, 0x1000, 4},
	    {GDB_HW_READ, 0x2002, 2},
	    {GDB_HW_ACCESS, 0x3008, 8},
	};
	uint64_t dr7, dr[4];

	(void)state;
	assert_int_equal(gdb_x86_dr7_build(bp, 4, &dr7, dr), 0);
	/* L0..L3 = 0x55, LE|GE = 0x300 */
	/* bp0 RW=00 LEN=00; bp1 RW=01 LEN=11 -> 0xd; bp2 RW=11 LEN=01 -> 0x7;
	 * bp3 RW=11 LEN=10 -> 0xb */
	assert_true(dr7 == (0x355ULL | 0x0ULL << 16 | 0xdULL << 20 | 0x7ULL << 24 | 0xbULL << 28));
	assert_true(dr[0] == 0xffffffff81000003ULL);
	assert_true(dr[1] == 0x1000);
	assert_true(dr[2] == 0x2002);
	assert_true(dr[3] == 0x3008);

	/* each length in slot 0 */
	struct {
		uint64_t len, bits;
	} lens[] = {{1, 0x0}, {2, 0x1}, {4, 0x3}, {8, 0x2}};
	for (size_t i = 0; i < 4; i++) {
		struct gdb_hw_bp w = {GDB_HW_WRITE, 0x4000, lens[i].len};

		assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), 0);
		assert_true(dr7 == (0x301ULL | 0x1ULL << 16 | lens[i].bits << 18));
		assert_true(dr[0] == 0x4000 && dr[1] == 0 && dr[2] == 0 && dr[3] == 0);
	}

	/* a single access watchpoint in slot 2 */
	struct gdb_hw_bp three[3] = {
	    {GDB_HW_EXEC, 0x10, 1}, {GDB_HW_EXEC, 0x20, 1}, {GDB_HW_ACCESS, 0x40, 4}};
	assert_int_equal(gdb_x86_dr7_build(three, 3, &dr7, dr), 0);
	assert_true(dr7 == (0x315ULL | 0xfULL << 24));
	assert_true(dr[3] == 0);

	/* none */
	dr[0] = 0x55;
	assert_int_equal(gdb_x86_dr7_build(NULL, 0, &dr7, dr), 0);
	assert_true(dr7 == 0);
	assert_true(dr[0] == 0);
}

static void test_dr7_errors(void **state)
{
	struct gdb_hw_bp bp[5] = {
	    {GDB_HW_EXEC, 0x10, 1}, {GDB_HW_EXEC, 0x20, 1}, {GDB_HW_EXEC, 0x30, 1},
	    {GDB_HW_EXEC, 0x40, 1}, {GDB_HW_EXEC, 0x50, 1},
	};
	uint64_t dr7 = 0x1234, dr[4] = {1, 2, 3, 4};
	struct gdb_hw_bp w;

	(void)state;
	assert_int_equal(gdb_x86_dr7_build(bp, 5, &dr7, dr), -ENOSPC);
	assert_true(dr7 == 0x1234 && dr[0] == 1);
	assert_int_equal(gdb_x86_dr7_build(bp, -1, &dr7, dr), -EINVAL);

	w = (struct gdb_hw_bp){GDB_HW_WRITE, 0x1001, 2};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), -EINVAL);
	w = (struct gdb_hw_bp){GDB_HW_WRITE, 0x1002, 4};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), -EINVAL);
	w = (struct gdb_hw_bp){GDB_HW_ACCESS, 0x1004, 8};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), -EINVAL);
	w = (struct gdb_hw_bp){GDB_HW_READ, 0x1000, 3};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), -EINVAL);
	w = (struct gdb_hw_bp){GDB_HW_WRITE, 0x1000, 16};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), -EINVAL);
	w = (struct gdb_hw_bp){GDB_HW_WRITE, 0x1000, 0};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), -EINVAL);
	w = (struct gdb_hw_bp){0, 0x1000, 1};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), -EINVAL);
	w = (struct gdb_hw_bp){5, 0x1000, 1};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), -EINVAL);
	assert_true(dr7 == 0x1234 && dr[0] == 1);
	/* exec breakpoints: any address alignment, length ignored */
	w = (struct gdb_hw_bp){GDB_HW_EXEC, 0x1003, 1};
	assert_int_equal(gdb_x86_dr7_build(&w, 1, &dr7, dr), 0);
	assert_true(dr7 == 0x301);
}

static void test_dr6(void **state)
{
	(void)state;
	assert_int_equal(gdb_x86_dr6_hit(0xffff0ff0), -1);
	assert_int_equal(gdb_x86_dr6_hit(0xffff0ff1), 0);
	assert_int_equal(gdb_x86_dr6_hit(0xffff0ff2), 1);
	assert_int_equal(gdb_x86_dr6_hit(0xffff0ff4), 2);
	assert_int_equal(gdb_x86_dr6_hit(0xffff0ff8), 3);
	assert_int_equal(gdb_x86_dr6_hit(0xffff0ffc), 2);
	assert_false(gdb_x86_dr6_single_step(0xffff0ff1));
	assert_true(gdb_x86_dr6_single_step(0xffff4ff0));
	assert_true(gdb_x86_dr6_single_step(1ULL << 14));
	assert_int_equal(gdb_x86_dr6_hit(1ULL << 14), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reg_sizes),
	    cmocka_unit_test(test_g_layout),
	    cmocka_unit_test(test_G_partial_and_errors),
	    cmocka_unit_test(test_p_P),
	    cmocka_unit_test(test_target_xml),
	    cmocka_unit_test(test_xfer_slice),
	    cmocka_unit_test(test_dr7_types),
	    cmocka_unit_test(test_dr7_errors),
	    cmocka_unit_test(test_dr6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
