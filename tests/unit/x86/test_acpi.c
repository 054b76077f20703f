// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "arch/x86/acpi.h"

#define GPA 0xe0000ULL

static uint8_t buf[X86_ACPI_MAX_SIZE + 64];

static struct x86_acpi_config make_cfg(unsigned int nr_cpus)
{
	struct x86_acpi_config cfg = {
	    .nr_cpus = nr_cpus,
	    .ioapic_addr = 0xfec00000,
	    .ioapic_id = nr_cpus,
	    .lapic_addr = 0xfee00000,
	    .pm1a_evt_port = 0x600,
	    .pm1a_cnt_port = 0x604,
	    .s5_slp_typ = 5,
	    .sci_irq = 9,
	    .reset_port = 0xcf9,
	    .ecam_addr = 0xe0000000,
	    .ecam_end_bus = 255,
	    .has_uart = true,
	};
	return cfg;
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* The buffer offset of a guest-physical pointer, checked to lie inside the used bytes. */
static size_t to_off(uint64_t gpa, long used)
{
	assert_true(gpa >= GPA);
	assert_true(gpa < GPA + (uint64_t)used);
	return gpa - GPA;
}

/* Checks a table's header and checksum; returns its length. */
static uint32_t check_table(size_t off, long used, const char *sig)
{
	const uint8_t *t = buf + off;
	uint32_t len = get32(t + 4);

	assert_memory_equal(t, sig, 4);
	assert_true(len >= 36);
	assert_true(off + len <= (size_t)used);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "PETREL", 6);
	assert_memory_equal(t + 16, "PETRELVM", 8);
	assert_int_equal(off % 8, 0);
	return len;
}

/* AML PkgLength: returns the value and sets *n to the bytes it takes. */
static size_t pkglen(const uint8_t *p, size_t *n)
{
	unsigned int follow = p[0] >> 6, i;
	size_t v;

	if (!follow) {
		*n = 1;
		return p[0] & 0x3f;
	}
	v = p[0] & 0xf;
	for (i = 0; i < follow; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + follow;
	return v;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	size_t i;

	for (i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

/* Decodes an AML integer; returns the bytes it takes. */
static size_t aml_int(const uint8_t *p, uint64_t *v)
{
	switch (p[0]) {
	case 0x00:
		*v = 0;
		return 1;
	case 0x01:
		*v = 1;
		return 1;
	case 0x0a:
		*v = p[1];
		return 2;
	case 0x0b:
		*v = get16(p + 1);
		return 3;
	case 0x0c:
		*v = get32(p + 1);
		return 5;
	case 0x0e:
		*v = get64(p + 1);
		return 9;
	}
	fail_msg("not an AML integer: 0x%02x", p[0]);
	return 0;
}

static void check_dsdt(const uint8_t *d, uint32_t len, const struct x86_acpi_config *cfg)
{
	static const uint8_t eisa_pnp0501[] = {0x0c, 0x41, 0xd0, 0x05, 0x01};
	static const uint8_t io_3f8[] = {0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08};
	static const uint8_t irq4[] = {0x22, 0x10, 0x00};
	const uint8_t *p = find(d + 36, len - 36, "_S5_", 4), *end = d + len;
	const uint8_t *scope_end;
	uint64_t v;
	size_t n, l, i;

	assert_non_null(p);
	assert_int_equal(p[-1], '\\');
	assert_int_equal(p[-2], 0x08); /* NameOp */
	p += 4;
	assert_int_equal(p[0], 0x12); /* PackageOp */
	l = pkglen(p + 1, &n);
	assert_int_equal(p[1 + n], 4); /* NumElements */
	{
		const uint8_t *e = p + 2 + n;

		for (i = 0; i < 4; i++) {
			e += aml_int(e, &v);
			assert_int_equal(v, i < 2 ? cfg->s5_slp_typ : 0);
		}
		assert_ptr_equal(e, p + 1 + l);
	}
	p += 1 + l;

	/* Scope(\_SB) { ... } reaches exactly to the end of the table */
	assert_int_equal(p[0], 0x10);
	l = pkglen(p + 1, &n);
	assert_ptr_equal(p + 1 + l, end);
	scope_end = p + 1 + l;
	p += 1 + n;
	assert_memory_equal(p, "\\_SB_", 5);
	p += 5;
	if (!cfg->has_uart) {
		assert_ptr_equal(p, scope_end);
		assert_null(find(d, len, "COM1", 4));
		return;
	}
	assert_int_equal(p[0], 0x5b);
	assert_int_equal(p[1], 0x82); /* DeviceOp */
	l = pkglen(p + 2, &n);
	assert_ptr_equal(p + 2 + l, scope_end);
	assert_memory_equal(p + 2 + n, "COM1", 4);
	assert_non_null(find(p, scope_end - p, "_HID", 4));
	assert_non_null(find(p, scope_end - p, eisa_pnp0501, sizeof(eisa_pnp0501)));
	assert_non_null(find(p, scope_end - p, "_UID", 4));
	assert_non_null(find(p, scope_end - p, io_3f8, sizeof(io_3f8)));
	assert_non_null(find(p, scope_end - p, irq4, sizeof(irq4)));
	p = find(p, scope_end - p, "_CRS", 4);
	assert_non_null(p);
	assert_int_equal(p[4], 0x11); /* BufferOp */
}

static void check_madt(const uint8_t *m, uint32_t len, const struct x86_acpi_config *cfg)
{
	unsigned int lapics = 0, ioapics = 0, nmis = 0, overrides = 0;
	uint32_t off;

	assert_int_equal(get32(m + 36), cfg->lapic_addr);
	assert_int_equal(get32(m + 40), 1); /* PCAT_COMPAT */
	for (off = 44; off < len; off += m[off + 1]) {
		const uint8_t *e = m + off;

		assert_true(e[1] >= 2);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], lapics); /* APIC ids 0..n-1 in order */
			assert_int_equal(get32(e + 4) & 1, 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], cfg->ioapic_id);
			assert_int_equal(get32(e + 4), cfg->ioapic_addr);
			assert_int_equal(get32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			if (e[3] == 0) {
				assert_int_equal(get32(e + 4), 2);
				assert_int_equal(get16(e + 8), 0);
			} else {
				assert_int_equal(e[3], cfg->sci_irq);
				assert_int_equal(get32(e + 4), cfg->sci_irq);
				assert_int_equal(get16(e + 8), 0x000d);
			}
			overrides++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(get16(e + 3), 0);
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, cfg->nr_cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(overrides, 2);
	assert_int_equal(nmis, 1);
}

static void check_fadt(const uint8_t *f, uint32_t len, long used, const struct x86_acpi_config *cfg)
{
	uint64_t dsdt = get64(f + 140), facs = get64(f + 132);
	uint32_t flags = get32(f + 112);
	size_t off;

	assert_int_equal(len, 276);
	assert_int_equal(f[8], 6);
	assert_int_equal(get32(f + 40), dsdt);
	assert_int_equal(get32(f + 36), facs);
	assert_int_equal(get16(f + 46), cfg->sci_irq);
	assert_int_equal(get32(f + 48), 0); /* SMI_CMD */
	assert_int_equal(get32(f + 56), cfg->pm1a_evt_port);
	assert_int_equal(get32(f + 64), cfg->pm1a_cnt_port);
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 0);
	assert_int_equal(get16(f + 109) & 7, 7);
	/* WBINVD, PROC_C1, SLP_BUTTON, RESET_REG_SUP; a fixed power button; not HW_REDUCED */
	assert_int_equal(flags & 0x435, 0x425);
	assert_int_equal(flags & (1u << 20), 0);
	/* RESET_REG: IO, 8 bits at reset_port; RESET_VALUE */
	assert_int_equal(f[116], 1);
	assert_int_equal(f[117], 8);
	assert_int_equal(get64(f + 120), cfg->reset_port);
	assert_int_equal(f[128], 6);
	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK */
	assert_int_equal(f[148], 1);
	assert_int_equal(f[149], 32);
	assert_int_equal(get64(f + 152), cfg->pm1a_evt_port);
	assert_int_equal(f[172], 1);
	assert_int_equal(f[173], 16);
	assert_int_equal(get64(f + 176), cfg->pm1a_cnt_port);

	off = to_off(facs, used);
	assert_memory_equal(buf + off, "FACS", 4);
	assert_int_equal(get32(buf + off + 4), 64);
	assert_int_equal(facs % 64, 0);

	off = to_off(dsdt, used);
	len = check_table(off, used, "DSDT");
	check_dsdt(buf + off, len, cfg);
}

static void check_build(const struct x86_acpi_config *cfg)
{
	long used;
	const uint8_t *r = buf;
	size_t xsdt, i, n;
	bool fadt = false, madt = false, mcfg = false;
	uint32_t len;

	memset(buf, 0xaa, sizeof(buf));
	used = x86_acpi_build(cfg, buf, X86_ACPI_MAX_SIZE, GPA);
	assert_true(used > 0);
	assert_true(used <= X86_ACPI_MAX_SIZE);

	/* RSDP */
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(r[15], 2);
	assert_int_equal(get32(r + 16), 0);
	assert_int_equal(get32(r + 20), 36);
	assert_int_equal(sum(r, 36), 0);

	/* XSDT and every table it lists */
	xsdt = to_off(get64(r + 24), used);
	len = check_table(xsdt, used, "XSDT");
	assert_int_equal((len - 36) % 8, 0);
	n = (len - 36) / 8;
	assert_int_equal(n, cfg->ecam_addr ? 3 : 2);
	for (i = 0; i < n; i++) {
		size_t off = to_off(get64(buf + xsdt + 36 + 8 * i), used);
		const uint8_t *t = buf + off;

		if (!memcmp(t, "FACP", 4)) {
			len = check_table(off, used, "FACP");
			check_fadt(t, len, used, cfg);
			fadt = true;
		} else if (!memcmp(t, "APIC", 4)) {
			len = check_table(off, used, "APIC");
			check_madt(t, len, cfg);
			madt = true;
		} else if (!memcmp(t, "MCFG", 4)) {
			len = check_table(off, used, "MCFG");
			assert_int_equal(len, 60);
			assert_int_equal(get64(t + 44), cfg->ecam_addr);
			assert_int_equal(get16(t + 52), 0);
			assert_int_equal(t[54], 0);
			assert_int_equal(t[55], cfg->ecam_end_bus);
			mcfg = true;
		} else {
			fail_msg("unexpected table %.4s", (const char *)t);
		}
	}
	assert_true(fadt);
	assert_true(madt);
	assert_int_equal(mcfg, cfg->ecam_addr != 0);
	/* nothing written beyond what was reported */
	for (i = used; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xaa);
}

static void test_one_cpu(void **state)
{
	struct x86_acpi_config cfg = make_cfg(1);

	check_build(&cfg);
}

static void test_four_cpus(void **state)
{
	struct x86_acpi_config cfg = make_cfg(4);

	check_build(&cfg);
}

static void test_max_cpus_fit(void **state)
{
	struct x86_acpi_config cfg = make_cfg(255);

	check_build(&cfg);
}

static void test_no_mcfg_no_uart(void **state)
{
	struct x86_acpi_config cfg = make_cfg(2);

	cfg.ecam_addr = 0;
	cfg.has_uart = false;
	check_build(&cfg);
}

static void test_pvpanic_device(void **state)
{
	static const uint8_t io_505[] = {0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01};
	struct x86_acpi_config cfg = make_cfg(2);
	uint8_t buf[X86_ACPI_MAX_SIZE];
	const uint8_t *d, *dev;
	long used;

	cfg.pvpanic_port = 0x505;
	used = x86_acpi_build(&cfg, buf, sizeof(buf), 0xe0000);
	assert_true(used > 0);
	d = find(buf, (size_t)used, "DSDT", 4);
	assert_non_null(d);
	assert_int_equal(x86_acpi_checksum(d, get32(d + 4)), 0);
	dev = find(d, get32(d + 4), "PEVT", 4);
	assert_non_null(dev);
	assert_non_null(find(dev, get32(d + 4) - (size_t)(dev - d), "QEMU0001", 9));
	assert_non_null(find(dev, get32(d + 4) - (size_t)(dev - d), io_505, sizeof(io_505)));
	/* without it, no such device */
	cfg.pvpanic_port = 0;
	used = x86_acpi_build(&cfg, buf, sizeof(buf), 0xe0000);
	assert_null(find(buf, (size_t)used, "PEVT", 4));
}

static void test_s5_small_values(void **state)
{
	struct x86_acpi_config cfg = make_cfg(1);
	unsigned int t;

	for (t = 0; t <= 7; t++) {
		cfg.s5_slp_typ = t;
		check_build(&cfg);
	}
}

static void test_enospc(void **state)
{
	struct x86_acpi_config cfg = make_cfg(4);
	long used = x86_acpi_build(&cfg, buf, X86_ACPI_MAX_SIZE, GPA);
	long len;
	size_t i;

	assert_true(used > 0);
	for (len = 0; len < used; len++) {
		memset(buf, 0xaa, sizeof(buf));
		assert_int_equal(x86_acpi_build(&cfg, buf, len, GPA), -ENOSPC);
		for (i = len; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xaa);
	}
	assert_int_equal(x86_acpi_build(&cfg, buf, used, GPA), used);
}

static void test_einval(void **state)
{
	struct x86_acpi_config cfg = make_cfg(1);

	assert_int_equal(x86_acpi_build(NULL, buf, sizeof(buf), GPA), -EINVAL);
	assert_int_equal(x86_acpi_build(&cfg, buf, sizeof(buf), GPA + 8), -EINVAL);
	cfg.nr_cpus = 0;
	assert_int_equal(x86_acpi_build(&cfg, buf, sizeof(buf), GPA), -EINVAL);
	cfg.nr_cpus = 256;
	assert_int_equal(x86_acpi_build(&cfg, buf, sizeof(buf), GPA), -EINVAL);
	cfg = make_cfg(1);
	cfg.s5_slp_typ = 8;
	assert_int_equal(x86_acpi_build(&cfg, buf, sizeof(buf), GPA), -EINVAL);
	cfg = make_cfg(1);
	cfg.lapic_addr = 0x100000000ULL;
	assert_int_equal(x86_acpi_build(&cfg, buf, sizeof(buf), GPA), -EINVAL);
}

static void test_checksum_helper(void **state)
{
	uint8_t b[5] = {1, 2, 3, 4, 0};

	b[4] = x86_acpi_checksum(b, 4);
	assert_int_equal(sum(b, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_cpu),	    cmocka_unit_test(test_four_cpus),
	    cmocka_unit_test(test_max_cpus_fit),    cmocka_unit_test(test_no_mcfg_no_uart),
	    cmocka_unit_test(test_s5_small_values), cmocka_unit_test(test_enospc),
	    cmocka_unit_test(test_einval),	    cmocka_unit_test(test_checksum_helper),
	    cmocka_unit_test(test_pvpanic_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
