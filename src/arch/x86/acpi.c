// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI table builder for petrel's x86 machine (pure logic, no KVM).
 *
 * Layout in the output buffer, each table 8-byte aligned (the FACS 64-byte aligned in
 * guest-physical space, as the specification requires):
 *   RSDP, XSDT, FACS, DSDT, FADT, MADT, MCFG (only when an ECAM window is configured).
 * The DSDT is written with a small AML emitter below.
 */
#include "arch/x86/acpi.h"

#include <errno.h>
#include <string.h>

#define ACPI_HDR_LEN 36
#define ACPI_RSDP_LEN 36
#define ACPI_FADT_LEN 276
#define ACPI_FACS_LEN 64
#define ACPI_MCFG_LEN (ACPI_HDR_LEN + 8 + 16)
#define ACPI_CREATOR_ID "PTRL"
#define ACPI_CREATOR_REV 1
#define ACPI_OEM_REV 1

/* FADT flags */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PROC_C1 (1u << 2)
#define FADT_F_PWR_BUTTON (1u << 4) /* set: no fixed power button */
#define FADT_F_SLP_BUTTON (1u << 5) /* set: no fixed sleep button */
#define FADT_F_RESET_REG_SUP (1u << 10)

/* FADT IAPC_BOOT_ARCH */
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042 (1u << 1)
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)

/* Generic Address Structure */
#define GAS_SPACE_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2

/* MADT */
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_INT_OVERRIDE 2
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED 1u
#define MADT_IRQ_ACTIVE_HIGH 0x1
#define MADT_IRQ_LEVEL 0xc

#define RESET_VALUE 0x06

/* ------------------------------------------------------------------------------------------ */
/* Little-endian stores */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

/* 12-byte Generic Address Structure */
static void put_gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access, uint64_t addr)
{
	p[0] = space;
	p[1] = bit_width;
	p[2] = 0; /* bit offset */
	p[3] = access;
	put64(p + 4, addr);
}

uint8_t x86_acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

/* ------------------------------------------------------------------------------------------ */
/* AML emitter */

#define AML_MAX_DEPTH 8

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_METHOD 0x14
#define AML_DUAL_NAME 0x2e
#define AML_MULTI_NAME 0x2f
#define AML_EXT_PREFIX 0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_CHAR '^'
#define AML_RETURN 0xa4

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
	size_t open[AML_MAX_DEPTH]; /* where each open PkgLength goes */
	unsigned int depth;
};

static void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	if (a->overflow || a->len >= a->cap) {
		a->overflow = true;
		return;
	}
	a->buf[a->len++] = b;
}

static void aml_bytes(struct aml *a, const uint8_t *p, size_t n)
{
	while (n--)
		aml_byte(a, *p++);
}

/* Starts a PkgLength-prefixed region; the PkgLength is inserted by aml_pkg_close(). */
static void aml_pkg_open(struct aml *a)
{
	if (a->depth >= AML_MAX_DEPTH) {
		a->overflow = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

/* PkgLength counts itself: 1 byte up to 63, else 2..4 bytes with 4 + 8k bits. */
static void aml_pkg_close(struct aml *a)
{
	size_t start, body, total;
	unsigned int n, i;

	if (a->depth == 0) {
		a->overflow = true;
		return;
	}
	start = a->open[--a->depth];
	if (a->overflow)
		return;
	body = a->len - start;
	if (body + 1 <= 0x3f)
		n = 1;
	else if (body + 2 <= 0xfff)
		n = 2;
	else if (body + 3 <= 0xfffff)
		n = 3;
	else if (body + 4 <= 0xfffffff)
		n = 4;
	else {
		a->overflow = true;
		return;
	}
	if (a->len + n > a->cap) {
		a->overflow = true;
		return;
	}
	memmove(a->buf + start + n, a->buf + start, body);
	a->len += n;
	total = body + n;
	if (n == 1) {
		a->buf[start] = total;
		return;
	}
	a->buf[start] = ((n - 1) << 6) | (total & 0xf);
	for (i = 1; i < n; i++)
		a->buf[start + i] = total >> (4 + 8 * (i - 1));
}

/* One NameSeg: up to 4 characters, padded with '_'. */
static void aml_nameseg(struct aml *a, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < 4; i++)
		aml_byte(a, i < n ? (uint8_t)s[i] : '_');
}

/* A NameString such as "\\_SB.COM1", "_HID" or "^FOO". */
static void aml_name(struct aml *a, const char *path)
{
	const char *p, *dot;
	unsigned int nsegs = 0;

	while (*path == AML_ROOT_CHAR || *path == AML_PARENT_CHAR)
		aml_byte(a, *path++);
	if (!*path) {
		aml_byte(a, 0); /* NullName */
		return;
	}
	for (p = path; p; p = strchr(p, '.'), p = p ? p + 1 : NULL)
		nsegs++;
	if (nsegs == 2) {
		aml_byte(a, AML_DUAL_NAME);
	} else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, nsegs);
	}
	for (p = path; p; p = dot ? dot + 1 : NULL) {
		size_t n;

		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n > 4)
			a->overflow = true; /* malformed: only fixed strings come here */
		aml_nameseg(a, p, n);
	}
}

/* An integer in its shortest encoding. */
static void aml_int(struct aml *a, uint64_t v)
{
	unsigned int n, i;

	if (v == 0) {
		aml_byte(a, AML_ZERO);
		return;
	}
	if (v == 1) {
		aml_byte(a, AML_ONE);
		return;
	}
	if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		n = 1;
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		n = 2;
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		n = 4;
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		n = 8;
	}
	for (i = 0; i < n; i++)
		aml_byte(a, v >> (8 * i));
}

/* EisaId("PNP0501"): three letters in 5 bits each, then four hex digits, big-endian. */
static void aml_eisaid(struct aml *a, const char *id)
{
	uint16_t letters = 0;
	unsigned int i, digits = 0;

	if (strlen(id) != 7) {
		a->overflow = true;
		return;
	}
	for (i = 0; i < 3; i++)
		letters = (letters << 5) | ((id[i] - 0x40) & 0x1f);
	for (i = 3; i < 7; i++) {
		char c = id[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			d = 0;
		digits = (digits << 4) | d;
	}
	aml_byte(a, AML_DWORD_PREFIX);
	aml_byte(a, letters >> 8);
	aml_byte(a, letters);
	aml_byte(a, digits >> 8);
	aml_byte(a, digits);
}

/* Name(path, <value emitted next by the caller>) */
static void aml_name_decl(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME);
	aml_name(a, path);
}

static void aml_scope_open(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE);
	aml_pkg_open(a);
	aml_name(a, path);
}

static void aml_device_open(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_DEVICE);
	aml_pkg_open(a);
	aml_name(a, path);
}

/* Method(path, nargs, NotSerialized) { ... } */
static void aml_method_open(struct aml *a, const char *path, unsigned int nargs)
{
	aml_byte(a, AML_METHOD);
	aml_pkg_open(a);
	aml_name(a, path);
	aml_byte(a, nargs & 7);
}

/* Return(<integer>) */
static void aml_return_int(struct aml *a, uint64_t v)
{
	aml_byte(a, AML_RETURN);
	aml_int(a, v);
}

/* Package(n) { ...elements emitted by the caller... } */
static void aml_package_open(struct aml *a, uint8_t nelems)
{
	aml_byte(a, AML_PACKAGE);
	aml_pkg_open(a);
	aml_byte(a, nelems);
}

/* Buffer() { bytes } */
static void aml_buffer(struct aml *a, const uint8_t *data, size_t n)
{
	aml_byte(a, AML_BUFFER);
	aml_pkg_open(a);
	aml_int(a, n);
	aml_bytes(a, data, n);
	aml_pkg_close(a);
}

/* Resource descriptors, collected before being wrapped in a Buffer. */
struct aml_res {
	uint8_t data[128];
	size_t len;
	bool overflow;
};

static void res_bytes(struct aml_res *r, const uint8_t *p, size_t n)
{
	if (r->len + n > sizeof(r->data)) {
		r->overflow = true;
		return;
	}
	memcpy(r->data + r->len, p, n);
	r->len += n;
}

/* IO(Decode16, min, max, align, length): small item 0x08, 7 bytes */
static void res_io16(struct aml_res *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	uint8_t d[8] = {0x47, 0x01, min, min >> 8, max, max >> 8, align, len};

	res_bytes(r, d, sizeof(d));
}

/* IRQNoFlags(){irq}: small item 0x04, 2 bytes of mask */
static void res_irq_noflags(struct aml_res *r, unsigned int irq)
{
	uint16_t mask = 1u << (irq & 15);
	uint8_t d[3] = {0x22, mask, mask >> 8};

	res_bytes(r, d, sizeof(d));
}

/* EndTag with a zero checksum ("treat as valid") and the whole thing as a Buffer. */
/* Word address space descriptor: type 1 I/O, 2 bus numbers. */
static void res_word_space(struct aml_res *r, uint8_t type, uint16_t min, uint16_t max)
{
	uint16_t len = (uint16_t)(max - min + 1);
	uint8_t d[16] = {0x88, 13,	 0, type, 0x0c, type == 1 ? 3 : 0, 0, 0, min, min >> 8,
			 max,  max >> 8, 0, 0,	  len,	len >> 8};

	res_bytes(r, d, sizeof(d));
}

/* DWord memory descriptor: read-write, non-cacheable, fixed min and max. */
static void res_dword_mem(struct aml_res *r, uint32_t min, uint32_t len)
{
	uint32_t max = min + len - 1;
	uint8_t d[26] = {0x87, 23, 0, 0, 0x0c, 0x01, 0, 0, 0, 0};
	unsigned int i;

	for (i = 0; i < 4; i++) {
		d[10 + i] = (uint8_t)(min >> (8 * i));
		d[14 + i] = (uint8_t)(max >> (8 * i));
		d[22 + i] = (uint8_t)(len >> (8 * i));
	}
	res_bytes(r, d, sizeof(d));
}

static void aml_resource_template(struct aml *a, struct aml_res *r)
{
	static const uint8_t end[2] = {0x79, 0x00};

	res_bytes(r, end, sizeof(end));
	if (r->overflow) {
		a->overflow = true;
		return;
	}
	aml_buffer(a, r->data, r->len);
}

static void dsdt_body(struct aml *a, const struct x86_acpi_config *cfg)
{
	/* Name(\_S5, Package(4){ typ, typ, 0, 0 }) */
	aml_name_decl(a, "\\_S5");
	aml_package_open(a, 4);
	aml_int(a, cfg->s5_slp_typ);
	aml_int(a, cfg->s5_slp_typ);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_pkg_close(a);

	aml_scope_open(a, "\\_SB");
	if (cfg->has_uart) {
		struct aml_res crs = {0};

		aml_device_open(a, "COM1");
		aml_name_decl(a, "_HID");
		aml_eisaid(a, "PNP0501");
		aml_name_decl(a, "_UID");
		aml_int(a, 1);
		aml_method_open(a, "_STA", 0);
		aml_return_int(a, 0x0f);
		aml_pkg_close(a);
		aml_name_decl(a, "_CRS");
		res_io16(&crs, 0x3f8, 0x3f8, 0, 8);
		res_irq_noflags(&crs, 4);
		aml_resource_template(a, &crs);
		aml_pkg_close(a); /* Device */
	}
	if (cfg->pci_mmio_size) {
		struct aml_res crs = {0};
		unsigned int slot, pin;

		aml_device_open(a, "PCI0");
		aml_name_decl(a, "_HID");
		aml_eisaid(a, "PNP0A03");
		aml_name_decl(a, "_UID");
		aml_int(a, 0);
		aml_name_decl(a, "_SEG");
		aml_int(a, 0);
		aml_name_decl(a, "_BBN");
		aml_int(a, 0);
		aml_name_decl(a, "_CRS");
		res_word_space(&crs, 2, 0, 0);
		res_io16(&crs, 0xcf8, 0xcf8, 1, 8);
		res_word_space(&crs, 1, 0x0000, 0x0cf7);
		res_word_space(&crs, 1, 0x0d00, 0xffff);
		res_dword_mem(&crs, cfg->pci_mmio_base, cfg->pci_mmio_size);
		aml_resource_template(a, &crs);
		aml_name_decl(a, "_PRT");
		aml_package_open(a, 128);
		for (slot = 0; slot < 32; slot++) {
			for (pin = 0; pin < 4; pin++) {
				aml_package_open(a, 4);
				aml_int(a, ((uint64_t)slot << 16) | 0xffff);
				aml_int(a, pin);
				aml_int(a, 0);
				aml_int(a, 16 + (slot + pin) % 4);
				aml_pkg_close(a);
			}
		}
		aml_pkg_close(a); /* _PRT */
		aml_pkg_close(a); /* Device */
	}
	if (cfg->pvpanic_port) {
		static const char hid[] = "QEMU0001";
		struct aml_res crs = {0};

		aml_device_open(a, "PEVT");
		aml_name_decl(a, "_HID");
		aml_byte(a, 0x0d); /* StringPrefix */
		aml_bytes(a, (const uint8_t *)hid, sizeof(hid));
		aml_name_decl(a, "_CRS");
		res_io16(&crs, cfg->pvpanic_port, cfg->pvpanic_port, 1, 1);
		aml_resource_template(a, &crs);
		aml_pkg_close(a); /* Device */
	}
	aml_pkg_close(a); /* Scope */
	if (a->depth)
		a->overflow = true;
}

/* ------------------------------------------------------------------------------------------ */
/* Tables */

struct acpi_out {
	uint8_t *buf;
	size_t len;
	size_t off; /* first free byte */
	uint64_t gpa;
};

/* Reserves size zeroed bytes whose guest-physical address is a multiple of align. */
static long out_place(struct acpi_out *o, size_t size, size_t align)
{
	size_t off = o->off;
	size_t mis = (o->gpa + off) & (align - 1);

	if (mis)
		off += align - mis;
	if (off > o->len || size > o->len - off)
		return -ENOSPC;
	memset(o->buf + off, 0, size);
	o->off = off + size;
	return off;
}

static uint64_t out_gpa(const struct acpi_out *o, size_t off)
{
	return o->gpa + off;
}

/* A 32-bit pointer field: 0 when the table lies above 4 GiB. */
static uint32_t addr32(uint64_t gpa)
{
	return gpa >> 32 ? 0 : (uint32_t)gpa;
}

static void put_header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = rev;
	p[9] = 0; /* checksum, set by table_finish() */
	memcpy(p + 10, X86_ACPI_OEM_ID, 6);
	memcpy(p + 16, X86_ACPI_OEM_TABLE_ID, 8);
	put32(p + 24, ACPI_OEM_REV);
	memcpy(p + 28, ACPI_CREATOR_ID, 4);
	put32(p + 32, ACPI_CREATOR_REV);
}

static void table_finish(uint8_t *p, uint32_t len)
{
	p[9] = 0;
	p[9] = x86_acpi_checksum(p, len);
}

static long build_facs(struct acpi_out *o)
{
	long off = out_place(o, ACPI_FACS_LEN, 64);
	uint8_t *p;

	if (off < 0)
		return off;
	p = o->buf + off;
	memcpy(p, "FACS", 4);
	put32(p + 4, ACPI_FACS_LEN);
	p[32] = 2; /* version */
	return off;
}

static long build_dsdt(struct acpi_out *o, const struct x86_acpi_config *cfg)
{
	long off = out_place(o, ACPI_HDR_LEN, 8);
	struct aml a;
	uint32_t len;

	if (off < 0)
		return off;
	aml_init(&a, o->buf + o->off, o->len - o->off);
	dsdt_body(&a, cfg);
	if (a.overflow)
		return -ENOSPC;
	o->off += a.len;
	len = ACPI_HDR_LEN + a.len;
	put_header(o->buf + off, "DSDT", len, 2);
	table_finish(o->buf + off, len);
	return off;
}

static long build_fadt(struct acpi_out *o, const struct x86_acpi_config *cfg, size_t facs,
		       size_t dsdt)
{
	long off = out_place(o, ACPI_FADT_LEN, 8);
	uint64_t facs_gpa = out_gpa(o, facs), dsdt_gpa = out_gpa(o, dsdt);
	uint8_t *p;

	if (off < 0)
		return off;
	p = o->buf + off;
	put_header(p, "FACP", ACPI_FADT_LEN, 6);
	put32(p + 36, addr32(facs_gpa)); /* FIRMWARE_CTRL */
	put32(p + 40, addr32(dsdt_gpa)); /* DSDT */
	p[45] = 0;			 /* Preferred_PM_Profile: unspecified */
	put16(p + 46, cfg->sci_irq);	 /* SCI_INT */
	put32(p + 48, 0);		 /* SMI_CMD: no SMI, already in ACPI mode */
	put32(p + 56, cfg->pm1a_evt_port);
	put32(p + 64, cfg->pm1a_cnt_port);
	p[88] = 4;	     /* PM1_EVT_LEN */
	p[89] = 2;	     /* PM1_CNT_LEN */
	p[91] = 0;	     /* PM_TMR_LEN: no PM timer */
	put16(p + 96, 101);  /* P_LVL2_LAT > 100: no C2 */
	put16(p + 98, 1001); /* P_LVL3_LAT > 1000: no C3 */
	put16(p + 109, FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042 | FADT_BOOT_VGA_NOT_PRESENT);
	/* PWR_BUTTON clear: the power button is the fixed-feature one in PM1 */
	put32(p + 112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP);
	put_gas(p + 116, GAS_SPACE_IO, 8, GAS_ACCESS_BYTE, cfg->reset_port); /* RESET_REG */
	p[128] = RESET_VALUE;
	p[131] = 0;		  /* FADT minor version */
	put64(p + 132, facs_gpa); /* X_FIRMWARE_CTRL */
	put64(p + 140, dsdt_gpa); /* X_DSDT */
	put_gas(p + 148, GAS_SPACE_IO, 32, GAS_ACCESS_WORD, cfg->pm1a_evt_port);
	put_gas(p + 172, GAS_SPACE_IO, 16, GAS_ACCESS_WORD, cfg->pm1a_cnt_port);
	table_finish(p, ACPI_FADT_LEN);
	return off;
}

static size_t madt_len(const struct x86_acpi_config *cfg)
{
	return ACPI_HDR_LEN + 8 + 8 * cfg->nr_cpus + 12 + 2 * 10 + 6;
}

static uint8_t *madt_override(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_INT_OVERRIDE;
	e[1] = 10;
	e[2] = 0; /* ISA bus */
	e[3] = irq;
	put32(e + 4, gsi);
	put16(e + 8, flags);
	return e + 10;
}

static long build_madt(struct acpi_out *o, const struct x86_acpi_config *cfg)
{
	size_t len = madt_len(cfg);
	long off = out_place(o, len, 8);
	unsigned int i;
	uint8_t *p, *e;

	if (off < 0)
		return off;
	p = o->buf + off;
	put_header(p, "APIC", len, 4);
	put32(p + 36, cfg->lapic_addr);
	put32(p + 40, MADT_PCAT_COMPAT);
	e = p + 44;
	for (i = 0; i < cfg->nr_cpus; i++) {
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = i; /* ACPI processor UID */
		e[3] = i; /* APIC id */
		put32(e + 4, MADT_LAPIC_ENABLED);
		e += 8;
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = cfg->ioapic_id;
	e[3] = 0;
	put32(e + 4, cfg->ioapic_addr);
	put32(e + 8, 0); /* GSI base */
	e += 12;
	e = madt_override(e, 0, 2, 0);
	e = madt_override(e, cfg->sci_irq, cfg->sci_irq, MADT_IRQ_ACTIVE_HIGH | MADT_IRQ_LEVEL);
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = 0xff; /* all processors */
	put16(e + 3, 0);
	e[5] = 1; /* LINT1 */
	table_finish(p, len);
	return off;
}

static long build_mcfg(struct acpi_out *o, const struct x86_acpi_config *cfg)
{
	long off = out_place(o, ACPI_MCFG_LEN, 8);
	uint8_t *p;

	if (off < 0)
		return off;
	p = o->buf + off;
	put_header(p, "MCFG", ACPI_MCFG_LEN, 1);
	/* 8 reserved bytes at 36, then one allocation */
	put64(p + 44, cfg->ecam_addr);
	put16(p + 52, 0); /* segment */
	p[54] = 0;	  /* start bus */
	p[55] = cfg->ecam_end_bus;
	table_finish(p, ACPI_MCFG_LEN);
	return off;
}

static void build_rsdp(uint8_t *p, uint64_t xsdt_gpa)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, X86_ACPI_OEM_ID, 6);
	p[15] = 2;	  /* revision: ACPI 2.0+ */
	put32(p + 16, 0); /* RsdtAddress */
	put32(p + 20, ACPI_RSDP_LEN);
	put64(p + 24, xsdt_gpa);
	p[8] = x86_acpi_checksum(p, 20);
	p[32] = x86_acpi_checksum(p, ACPI_RSDP_LEN);
}

static int check_config(const struct x86_acpi_config *cfg, const uint8_t *buf, size_t len,
			uint64_t gpa)
{
	if (!cfg || (!buf && len))
		return -EINVAL;
	if (cfg->nr_cpus < 1 || cfg->nr_cpus > 255)
		return -EINVAL;
	if (gpa & 15 || gpa > UINT64_MAX - len)
		return -EINVAL;
	if (!cfg->lapic_addr || cfg->lapic_addr >> 32 || !cfg->ioapic_addr ||
	    cfg->ioapic_addr >> 32)
		return -EINVAL;
	if (cfg->s5_slp_typ > 7) /* SLP_TYP is a 3-bit field */
		return -EINVAL;
	/* The SCI is an ISA IRQ with an override; 0 and 2 belong to the timer. */
	if (cfg->sci_irq == 0 || cfg->sci_irq == 2 || cfg->sci_irq > 15)
		return -EINVAL;
	if (!cfg->pm1a_evt_port || !cfg->pm1a_cnt_port)
		return -EINVAL;
	if (cfg->ecam_addr & 0xfffff) /* 1 MiB per bus */
		return -EINVAL;
	return 0;
}

long x86_acpi_build(const struct x86_acpi_config *cfg, uint8_t *buf, size_t len, uint64_t gpa)
{
	struct acpi_out o = {.buf = buf, .len = len, .gpa = gpa};
	long rsdp, xsdt, facs, dsdt, fadt, madt, mcfg = -1;
	unsigned int nr_entries = cfg && cfg->ecam_addr ? 3 : 2;
	uint32_t xsdt_len = ACPI_HDR_LEN + 8 * nr_entries;
	int ret;

	ret = check_config(cfg, buf, len, gpa);
	if (ret)
		return ret;

	rsdp = out_place(&o, ACPI_RSDP_LEN, 16);
	if (rsdp < 0)
		return rsdp;
	xsdt = out_place(&o, xsdt_len, 8);
	if (xsdt < 0)
		return xsdt;
	facs = build_facs(&o);
	if (facs < 0)
		return facs;
	dsdt = build_dsdt(&o, cfg);
	if (dsdt < 0)
		return dsdt;
	fadt = build_fadt(&o, cfg, facs, dsdt);
	if (fadt < 0)
		return fadt;
	madt = build_madt(&o, cfg);
	if (madt < 0)
		return madt;
	if (cfg->ecam_addr) {
		mcfg = build_mcfg(&o, cfg);
		if (mcfg < 0)
			return mcfg;
	}

	put_header(buf + xsdt, "XSDT", xsdt_len, 1);
	put64(buf + xsdt + 36, out_gpa(&o, fadt));
	put64(buf + xsdt + 44, out_gpa(&o, madt));
	if (mcfg >= 0)
		put64(buf + xsdt + 52, out_gpa(&o, mcfg));
	table_finish(buf + xsdt, xsdt_len);

	build_rsdp(buf + rsdp, out_gpa(&o, xsdt));
	return o.off;
}
