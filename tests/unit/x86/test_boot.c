// SPDX-License-Identifier: GPL-2.0-only
/* Boot-protocol building blocks: e820, the bzImage loader, PVH, CPUID. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "arch/x86/linux_boot.h"
#include "arch/x86/pvh.h"

#define MB (1ULL << 20)
#define GB (1ULL << 30)

static void test_e820_small_and_large(void **state)
{
	struct x86_e820_entry map[X86_E820_MAX];
	int n;

	n = x86_e820_build(256 * MB, 0, 0, map, X86_E820_MAX);
	assert_int_equal(n, 4);
	assert_int_equal(map[0].addr, 0);
	assert_int_equal(map[0].size, X86_EBDA_ADDR);
	assert_int_equal(map[0].type, X86_E820_RAM);
	assert_int_equal(map[2].type, X86_E820_RESERVED);
	assert_int_equal(map[3].addr, 1 * MB);
	assert_int_equal(map[3].addr + map[3].size, 256 * MB);

	/* 8 GiB: 3 GiB below the hole, 5 GiB above 4 GiB, ECAM reserved */
	n = x86_e820_build(8 * GB, X86_ECAM_ADDR, X86_ECAM_SIZE, map, X86_E820_MAX);
	assert_int_equal(n, 6);
	assert_int_equal(map[3].addr + map[3].size, X86_MMIO_HOLE_START);
	assert_int_equal(map[4].addr, X86_ECAM_ADDR);
	assert_int_equal(map[4].type, X86_E820_RESERVED);
	assert_int_equal(map[5].addr, 4 * GB);
	assert_int_equal(map[5].size, 5 * GB);
	assert_int_equal(x86_ram_below_4g(8 * GB) + x86_ram_above_4g(8 * GB), 8 * GB);

	assert_int_equal(x86_e820_build(1 * MB, 0, 0, map, X86_E820_MAX), -EINVAL);
	assert_int_equal(x86_e820_build(256 * MB, 0, 0, map, 2), -EINVAL);
}

/* A synthetic bzImage: 4 setup sectors + boot sector, then a "kernel". */
#define SETUP_SECTS 4
#define IMG_KERNEL 8192
#define IMG_SIZE ((SETUP_SECTS + 1) * 512 + IMG_KERNEL)

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t *make_bzimage(uint16_t version)
{
	uint8_t *img = calloc(1, IMG_SIZE);

	img[0x1f1] = SETUP_SECTS;
	put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x66; /* header ends at 0x268 */
	put32(img + 0x202, 0x53726448);
	put16(img + 0x206, version);
	img[0x211] = 0x01; /* LOADED_HIGH */
	put32(img + 0x22c, 0x7fffffff);
	put32(img + 0x230, 2 * MB);
	img[0x234] = 1;
	put16(img + 0x236, 0x1); /* XLF_KERNEL_64 */
	put32(img + 0x238, 2047);
	put64(img + 0x258, 16 * MB);
	put32(img + 0x260, 4 * MB);
	put32(img + 0x1f4, IMG_KERNEL / 16); /* syssize */
	memset(img + (SETUP_SECTS + 1) * 512, 0x90, IMG_KERNEL);
	return img;
}

static void test_bzimage_header_checks(void **state)
{
	struct x86_bzimage_info info;
	const char *why = NULL;
	uint8_t *img = make_bzimage(0x020f);

	assert_int_equal(x86_bzimage_parse(img, IMG_SIZE, &info, &why), 0);
	assert_int_equal(info.version, 0x020f);
	assert_int_equal(info.kernel_offset, 5 * 512);
	assert_int_equal(info.kernel_size, IMG_KERNEL);
	assert_int_equal(info.cmdline_max, 2047);
	assert_int_equal(info.header_end, 0x268);

	put16(img + 0x206, 0x0205);
	assert_int_equal(x86_bzimage_parse(img, IMG_SIZE, &info, &why), -ENOEXEC);
	assert_non_null(strstr(why, "2.06"));
	put16(img + 0x206, 0x020f);
	put16(img + 0x236, 0);
	assert_int_equal(x86_bzimage_parse(img, IMG_SIZE, &info, &why), -ENOEXEC);
	assert_non_null(strstr(why, "64-bit"));
	put16(img + 0x236, 1);
	put32(img + 0x202, 0);
	assert_int_equal(x86_bzimage_parse(img, IMG_SIZE, &info, &why), -ENOEXEC);
	assert_int_equal(x86_bzimage_parse(img, 100, &info, &why), -ENOEXEC);
	free(img);
}

static void test_linux_load_places_everything(void **state)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct x86_linux_params p = {0};
	struct x86_linux_entry e;
	struct guest_mem gm;
	const char *why = NULL;
	uint8_t initrd[10000], bp[4096], byte;
	uint8_t *img = make_bzimage(0x020f);
	char cl[16];
	uint32_t v32;
	uint64_t v64;

	memset(initrd, 0x5a, sizeof(initrd));
	gm_init(&gm);
	assert_int_equal(gm_add_region(&gm, "ram", 0, 64 * MB), 0);
	p.cmdline = "console=ttyS0";
	p.initrd = initrd;
	p.initrd_size = sizeof(initrd);
	p.e820 = map;
	p.e820_entries = x86_e820_build(64 * MB, 0, 0, map, X86_E820_MAX);
	p.rsdp_addr = X86_BIOS_ADDR;
	p.ram_below_4g = 64 * MB;
	assert_int_equal(x86_linux_load(&gm, img, IMG_SIZE, &p, &e, &why), 0);
	assert_int_equal(e.kernel_addr, 16 * MB);
	assert_int_equal(e.rip, 16 * MB + 0x200);
	assert_int_equal(e.boot_params, X86_BOOT_PARAMS_ADDR);
	assert_int_equal(e.initrd_addr & 0xfff, 0);
	assert_true(e.initrd_addr + sizeof(initrd) <= 64 * MB);
	assert_true(e.initrd_addr >= 20 * MB);
	assert_int_equal(gm_read(&gm, e.kernel_addr, &byte, 1), 0);
	assert_int_equal(byte, 0x90);
	assert_int_equal(gm_read(&gm, e.initrd_addr + 9999, &byte, 1), 0);
	assert_int_equal(byte, 0x5a);
	assert_int_equal(gm_read(&gm, X86_CMDLINE_ADDR, cl, 14), 0);
	assert_string_equal(cl, "console=ttyS0");

	assert_int_equal(gm_read(&gm, X86_BOOT_PARAMS_ADDR, bp, sizeof(bp)), 0);
	assert_int_equal(bp[0x210], 0xff); /* type_of_loader */
	memcpy(&v32, bp + 0x202, 4);	   /* header copied */
	assert_int_equal(v32, 0x53726448);
	memcpy(&v32, bp + 0x228, 4);
	assert_int_equal(v32, X86_CMDLINE_ADDR);
	memcpy(&v32, bp + 0x218, 4);
	assert_int_equal(v32, e.initrd_addr);
	memcpy(&v32, bp + 0x21c, 4);
	assert_int_equal(v32, sizeof(initrd));
	memcpy(&v64, bp + 0x070, 8);
	assert_int_equal(v64, X86_BIOS_ADDR);
	assert_int_equal(bp[0x1e8], p.e820_entries);
	memcpy(&v64, bp + 0x2d0 + 3 * 20, 8); /* RAM from 1 MiB */
	assert_int_equal(v64, 1 * MB);

	/* a command line longer than cmdline_size is refused */
	{
		char *longcl = malloc(3000);

		memset(longcl, 'a', 2999);
		longcl[2999] = 0;
		p.cmdline = longcl;
		assert_int_equal(x86_linux_load(&gm, img, IMG_SIZE, &p, &e, &why), -E2BIG);
		free(longcl);
		p.cmdline = "x";
	}
	/* a relocatable kernel that does not fit at 16 MiB goes to 2 MiB */
	p.initrd_size = 0;
	p.ram_below_4g = 12 * MB;
	assert_int_equal(x86_linux_load(&gm, img, IMG_SIZE, &p, &e, &why), 0);
	assert_int_equal(e.kernel_addr, 2 * MB);
	p.ram_below_4g = 5 * MB;
	assert_int_equal(x86_linux_load(&gm, img, IMG_SIZE, &p, &e, &why), -ENOMEM);
	assert_non_null(strstr(why, "--memory"));
	p.ram_below_4g = 64 * MB;
	/* an initramfs larger than the memory above the kernel is refused */
	p.initrd_size = 60 * MB;
	p.initrd = malloc(60 * MB);
	assert_int_equal(x86_linux_load(&gm, img, IMG_SIZE, &p, &e, &why), -ENOMEM);
	free((void *)p.initrd);
	gm_destroy(&gm);
	free(img);
}

/* A guest memory of 64 MiB with the parameters of a plain boot. */
static void linux_params(struct guest_mem *gm, struct x86_linux_params *p,
			 struct x86_e820_entry *map)
{
	gm_init(gm);
	assert_int_equal(gm_add_region(gm, "ram", 0, 64 * MB), 0);
	memset(p, 0, sizeof(*p));
	p->cmdline = "console=ttyS0";
	p->e820 = map;
	p->e820_entries = x86_e820_build(64 * MB, 0, 0, map, X86_E820_MAX);
	p->rsdp_addr = X86_BIOS_ADDR;
	p->ram_below_4g = 64 * MB;
}

/* Nothing of the kernel (its 0x90 bytes) anywhere below 1 MiB or at 16 MiB. */
static void assert_nothing_loaded(struct guest_mem *gm)
{
	const uint8_t *low = gm_ptr(gm, 0, X86_HIGH_RAM_START);
	const uint8_t *k = gm_ptr(gm, 16 * MB, IMG_KERNEL);

	assert_non_null(low);
	assert_non_null(k);
	assert_null(memchr(low, 0x90, X86_HIGH_RAM_START));
	assert_null(memchr(k, 0x90, IMG_KERNEL));
}

static void test_bzimage_truncated(void **state)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct x86_linux_params p;
	struct x86_bzimage_info info;
	struct x86_linux_entry e;
	struct guest_mem gm;
	const char *why = NULL;
	uint8_t *img = make_bzimage(0x020f);

	/* 16 bytes short of what syssize says: refused, both sizes named */
	assert_int_equal(x86_bzimage_parse(img, IMG_SIZE - 16, &info, &why), -EINVAL);
	assert_non_null(strstr(why, "8176"));
	assert_non_null(strstr(why, "8192"));
	linux_params(&gm, &p, map);
	why = NULL;
	assert_int_equal(x86_linux_load(&gm, img, IMG_SIZE - 16, &p, &e, &why), -EINVAL);
	assert_non_null(strstr(why, "syssize"));
	assert_nothing_loaded(&gm);
	/* a syssize of 0 says there is no kernel */
	put32(img + 0x1f4, 0);
	assert_int_equal(x86_bzimage_parse(img, IMG_SIZE, &info, &why), -EINVAL);
	assert_non_null(strstr(why, "syssize"));
	/* bytes past syssize (an appended signature) are not loaded */
	put32(img + 0x1f4, IMG_KERNEL / 16 - 1);
	assert_int_equal(x86_bzimage_parse(img, IMG_SIZE, &info, &why), 0);
	assert_int_equal(info.kernel_size, IMG_KERNEL - 16);
	gm_destroy(&gm);
	free(img);
}

/* Load img with one header field changed; returns what x86_linux_load did. */
static int load_with(uint8_t *img, struct x86_linux_entry *e, const char **why,
		     struct guest_mem *gm)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct x86_linux_params p;
	int ret;

	linux_params(gm, &p, map);
	*why = NULL;
	ret = x86_linux_load(gm, img, IMG_SIZE, &p, e, why);
	if (ret < 0) {
		assert_non_null(*why);
		assert_nothing_loaded(gm);
	}
	return ret;
}

static void test_bzimage_hostile_header(void **state)
{
	struct x86_linux_entry e;
	struct guest_mem gm;
	const char *why;
	uint8_t *img = make_bzimage(0x020f);

	/*
	 * pref_address near 2^64 with a 2 MiB alignment: aligning it up must
	 * not wrap to 0 (over the zero page and the ACPI tables); a relocatable
	 * kernel goes to the lowest aligned address above 1 MiB instead.
	 */
	put64(img + 0x258, 0xffffffffffe00001ULL);
	assert_int_equal(load_with(img, &e, &why, &gm), 0);
	assert_int_equal(e.kernel_addr, 2 * MB);
	assert_nothing_loaded(&gm);
	gm_destroy(&gm);
	/* aligned, so aligning does not wrap, but the end does */
	put64(img + 0x258, 0xffffffffffe00000ULL);
	assert_int_equal(load_with(img, &e, &why, &gm), 0);
	assert_int_equal(e.kernel_addr, 2 * MB);
	gm_destroy(&gm);
	/* a non-relocatable kernel must go where it says, or nowhere */
	img[0x234] = 0;
	assert_int_equal(load_with(img, &e, &why, &gm), -EINVAL);
	assert_non_null(strstr(why, "pref_address 0xffffffffffe00000"));
	gm_destroy(&gm);
	put64(img + 0x258, X86_BOOT_PARAMS_ADDR);
	assert_int_equal(load_with(img, &e, &why, &gm), -EINVAL);
	assert_non_null(strstr(why, "pref_address 0x7000"));
	gm_destroy(&gm);
	put64(img + 0x258, 0);
	assert_int_equal(load_with(img, &e, &why, &gm), -EINVAL);
	gm_destroy(&gm);
	put64(img + 0x258, 61 * MB); /* in RAM, but its init_size is not */
	assert_int_equal(load_with(img, &e, &why, &gm), -ENOMEM);
	assert_non_null(strstr(why, "--memory"));
	gm_destroy(&gm);
	put64(img + 0x258, 20 * MB);
	assert_int_equal(load_with(img, &e, &why, &gm), 0);
	assert_int_equal(e.kernel_addr, 20 * MB);
	gm_destroy(&gm);
	img[0x234] = 1;
	put64(img + 0x258, 16 * MB);

	/* kernel_alignment of a relocatable kernel: a power of two */
	put32(img + 0x230, 3 * MB);
	assert_int_equal(load_with(img, &e, &why, &gm), -EINVAL);
	assert_non_null(strstr(why, "kernel_alignment 0x300000"));
	gm_destroy(&gm);
	put32(img + 0x230, 0);
	assert_int_equal(load_with(img, &e, &why, &gm), -EINVAL);
	assert_non_null(strstr(why, "kernel_alignment"));
	gm_destroy(&gm);
	put32(img + 0x230, 0x80000000); /* 2 GiB: a power of two, but no room */
	assert_int_equal(load_with(img, &e, &why, &gm), -ENOMEM);
	gm_destroy(&gm);
	put32(img + 0x230, 2 * MB);

	/* init_size of 4 GiB - 1 does not wrap */
	put32(img + 0x260, 0xffffffff);
	assert_int_equal(load_with(img, &e, &why, &gm), -ENOMEM);
	gm_destroy(&gm);
	put32(img + 0x260, 4 * MB);

	/* a setup header that ends before the fields petrel reads */
	img[0x201] = 0;
	assert_int_equal(load_with(img, &e, &why, &gm), -EINVAL);
	assert_non_null(strstr(why, "header"));
	gm_destroy(&gm);
	img[0x201] = 0x66;

	/* setup_sects that leaves no kernel in the file */
	img[0x1f1] = 255;
	assert_int_equal(load_with(img, &e, &why, &gm), -EINVAL);
	gm_destroy(&gm);
	img[0x1f1] = SETUP_SECTS;

	/* cmdline_size 0 takes no command line */
	put32(img + 0x238, 0);
	assert_int_equal(load_with(img, &e, &why, &gm), -E2BIG);
	gm_destroy(&gm);
	put32(img + 0x238, 2047);

	/* and the header as made still loads at 16 MiB */
	assert_int_equal(load_with(img, &e, &why, &gm), 0);
	assert_int_equal(e.kernel_addr, 16 * MB);
	gm_destroy(&gm);
	free(img);
}

static void test_bzimage_initrd_limits(void **state)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct x86_linux_params p;
	struct x86_linux_entry e;
	struct guest_mem gm;
	const char *why = NULL;
	uint8_t initrd[4096];
	uint8_t *img = make_bzimage(0x020f);

	memset(initrd, 0x5a, sizeof(initrd));
	linux_params(&gm, &p, map);
	p.initrd = initrd;
	p.initrd_size = sizeof(initrd);
	/* initrd_addr_max below the kernel's end: nowhere to put it */
	put32(img + 0x22c, 16 * MB);
	assert_int_equal(x86_linux_load(&gm, img, IMG_SIZE, &p, &e, &why), -ENOMEM);
	assert_non_null(strstr(why, "initramfs"));
	assert_nothing_loaded(&gm);
	/* 4 GiB - 1: the limit is RAM */
	put32(img + 0x22c, 0xffffffff);
	assert_int_equal(x86_linux_load(&gm, img, IMG_SIZE, &p, &e, &why), 0);
	assert_true(e.initrd_addr >= 20 * MB);
	assert_true(e.initrd_addr + sizeof(initrd) <= 64 * MB);
	gm_destroy(&gm);
	free(img);
}

/* A minimal ELF64 with one PT_LOAD and a PVH note. */
static size_t make_elf(uint8_t *buf, size_t size, bool with_note)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
	uint8_t *note = buf + 0x200;
	uint32_t w[3] = {4, 8, 18};
	uint64_t entry = 0x1000123;

	memset(buf, 0, size);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0].p_type = PT_LOAD;
	ph[0].p_offset = 0x400;
	ph[0].p_paddr = 16 * MB;
	ph[0].p_filesz = 0x100;
	ph[0].p_memsz = 0x2000;
	ph[1].p_type = PT_NOTE;
	ph[1].p_offset = 0x200;
	ph[1].p_filesz = 24;
	if (!with_note)
		w[2] = 17;
	memcpy(note, w, 12);
	memcpy(note + 12, "Xen", 4);
	memcpy(note + 16, &entry, 8);
	memset(buf + 0x400, 0xcc, 0x100);
	return 0x500;
}

static void test_pvh_load(void **state)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct x86_linux_params p = {0};
	struct x86_pvh_entry e;
	struct guest_mem gm;
	const char *why = NULL;
	uint8_t elf[0x500], b;
	uint32_t magic;
	size_t n;

	gm_init(&gm);
	assert_int_equal(gm_add_region(&gm, "ram", 0, 64 * MB), 0);
	p.cmdline = "quiet";
	p.e820 = map;
	p.e820_entries = x86_e820_build(64 * MB, 0, 0, map, X86_E820_MAX);
	p.ram_below_4g = 64 * MB;
	n = make_elf(elf, sizeof(elf), true);
	assert_true(x86_is_elf(elf, n));
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), 0);
	assert_int_equal(e.rip, 0x1000123);
	assert_int_equal(e.start_info, X86_PVH_START_INFO_ADDR);
	assert_int_equal(e.kernel_end, 16 * MB + 0x2000);
	assert_int_equal(gm_read(&gm, 16 * MB + 0xff, &b, 1), 0);
	assert_int_equal(b, 0xcc);
	assert_int_equal(gm_read(&gm, X86_PVH_START_INFO_ADDR, &magic, 4), 0);
	assert_int_equal(magic, 0x336ec578);

	n = make_elf(elf, sizeof(elf), false);
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), -ENOEXEC);
	assert_non_null(strstr(why, "PVH"));
	/* a segment pointing outside the file */
	n = make_elf(elf, sizeof(elf), true);
	((Elf64_Phdr *)(elf + sizeof(Elf64_Ehdr)))[0].p_filesz = 0x10000;
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), -ENOEXEC);
	gm_destroy(&gm);
}

/*
 * An ELF image that lies in guest memory at 32 MiB, so that loading its
 * second segment (put over its own third program header) rewrites that header
 * between the loader's passes, as a file changed under petrel's mapping would.
 * The third header is a PT_NOTE when read first and a PT_LOAD of bytes from
 * past the end of the file afterwards.
 */
#define ELF_GPA (32 * MB)

static void test_pvh_reads_headers_once(void **state)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct x86_linux_params p = {0};
	struct x86_pvh_entry e;
	struct guest_mem gm;
	const char *why = NULL;
	uint8_t elf[0x500], *img, *secret, b;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*eh)), evil;
	uint64_t evil_at = ELF_GPA + sizeof(*eh) + 2 * sizeof(*ph);

	gm_init(&gm);
	assert_int_equal(gm_add_region(&gm, "ram", 0, 64 * MB), 0);
	p.cmdline = "quiet";
	p.e820 = map;
	p.e820_entries = x86_e820_build(64 * MB, 0, 0, map, X86_E820_MAX);
	p.ram_below_4g = 64 * MB;

	make_elf(elf, sizeof(elf), true);
	eh->e_phnum = 3;
	ph[2] = ph[1];		/* the PT_NOTE moves to the third header */
	ph[1].p_type = PT_LOAD; /* the second: 56 bytes over the third header */
	ph[1].p_offset = 0x480;
	ph[1].p_paddr = evil_at;
	ph[1].p_filesz = sizeof(evil);
	ph[1].p_memsz = sizeof(evil);
	memset(&evil, 0, sizeof(evil));
	evil.p_type = PT_LOAD;
	evil.p_offset = 1 * MB; /* far past the file's 0x500 bytes */
	evil.p_paddr = 40 * MB;
	evil.p_filesz = 0x1000;
	evil.p_memsz = 0x1000;
	memcpy(elf + 0x480, &evil, sizeof(evil));

	assert_int_equal(gm_write(&gm, ELF_GPA, elf, sizeof(elf)), 0);
	img = gm_ptr(&gm, ELF_GPA, sizeof(elf));
	secret = gm_ptr(&gm, ELF_GPA + 1 * MB, 0x1000);
	assert_non_null(img);
	assert_non_null(secret);
	memset(secret, 0xab, 0x1000); /* host memory that is not the file's */

	assert_int_equal(x86_pvh_load(&gm, img, sizeof(elf), &p, &e, &why), 0);
	assert_int_equal(e.rip, 0x1000123);
	assert_int_equal(gm_read(&gm, evil_at, &b, 1), 0);
	assert_int_equal(b, PT_LOAD); /* the second segment was loaded */
	assert_int_equal(gm_read(&gm, 40 * MB, &b, 1), 0);
	assert_int_equal(b, 0); /* but the third header was read once, as a note */
	assert_int_equal(e.kernel_end, 16 * MB + 0x2000 > evil_at + sizeof(evil)
					   ? 16 * MB + 0x2000
					   : evil_at + sizeof(evil));
	gm_destroy(&gm);
}

static void test_pvh_checks_before_loading(void **state)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct x86_linux_params p = {0};
	struct x86_pvh_entry e;
	struct guest_mem gm;
	const char *why = NULL;
	uint8_t elf[0x500], b;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(Elf64_Ehdr));
	char *longcl = malloc(X86_CMDLINE_MAX + 1);
	uint32_t entry;
	size_t n;

	gm_init(&gm);
	assert_int_equal(gm_add_region(&gm, "ram", 0, 64 * MB), 0);
	p.e820 = map;
	p.e820_entries = x86_e820_build(64 * MB, 0, 0, map, X86_E820_MAX);
	p.ram_below_4g = 64 * MB;

	/* a command line too long is refused before any segment is loaded */
	memset(longcl, 'a', X86_CMDLINE_MAX);
	longcl[X86_CMDLINE_MAX] = 0;
	p.cmdline = longcl;
	n = make_elf(elf, sizeof(elf), true);
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), -E2BIG);
	assert_int_equal(gm_read(&gm, 16 * MB, &b, 1), 0);
	assert_int_equal(b, 0);
	p.cmdline = "quiet";

	/* an entry point outside every loaded segment */
	entry = 0x2000000;
	memcpy(elf + 0x200 + 16, &entry, 4);
	why = NULL;
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), -ENOEXEC);
	assert_non_null(strstr(why, "entry"));
	assert_int_equal(gm_read(&gm, 16 * MB, &b, 1), 0);
	assert_int_equal(b, 0);

	/* a segment whose end wraps past 2^64 */
	n = make_elf(elf, sizeof(elf), true);
	ph[0].p_paddr = 0xfffffffffffff000ULL;
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), -ENOEXEC);
	/* a segment over the boot structures below 1 MiB */
	ph[0].p_paddr = X86_BOOT_PARAMS_ADDR;
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), -ENOEXEC);
	/* program headers that run past the file */
	n = make_elf(elf, sizeof(elf), true);
	((Elf64_Ehdr *)elf)->e_phoff = n - 8;
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), -ENOEXEC);
	/* too many program headers */
	n = make_elf(elf, sizeof(elf), true);
	((Elf64_Ehdr *)elf)->e_phnum = 0xffff;
	assert_int_equal(x86_pvh_load(&gm, elf, n, &p, &e, &why), -ENOEXEC);
	free(longcl);
	gm_destroy(&gm);
}

static void test_cpuid_adjust(void **state)
{
	struct kvm_cpuid_entry2 e[4];

	memset(e, 0, sizeof(e));
	e[0].function = 1;
	e[0].ebx = 0xff00ffff;
	e[1].function = 0xb;
	e[1].index = 0;
	e[1].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	e[2].function = 0xb;
	e[2].index = 1;
	e[2].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	e[3].function = 0x40000000;
	e[3].ebx = 0x4b4d564b;
	x86_cpuid_adjust(e, 4, 2, 3, X86_CPUID_TSC_DEADLINE);
	assert_int_equal(e[0].ebx >> 24, 2);
	assert_int_equal((e[0].ebx >> 16) & 0xff, 3);
	assert_int_equal(e[0].ebx & 0xffff, 0xffff);
	assert_true(e[0].ecx & (1u << 31));
	assert_true(e[0].edx & (1u << 28));
	assert_true(e[0].ecx & (1u << 24));
	assert_int_equal(e[1].ebx, 1);
	assert_int_equal(e[1].edx, 2);
	assert_int_equal(e[2].eax, 2); /* 3 cores need 2 bits */
	assert_int_equal(e[2].ebx, 3);
	assert_int_equal(e[2].ecx >> 8, 2);
	assert_int_equal(e[3].ebx, 0x4b4d564b); /* KVM leaves kept */
	assert_ptr_equal(x86_cpuid_find(e, 4, 0xb, 1), &e[2]);
	assert_null(x86_cpuid_find(e, 4, 7, 0));
}

static void test_cpuid_fill_brand(void **state)
{
	static const char name[48] = "Example CPU 1234 with a longer name";
	struct kvm_cpuid_entry2 e[4];
	uint32_t brand[12];

	memcpy(brand, name, sizeof(brand));
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 3; i++)
		e[i].function = 0x80000002 + i;
	e[3].function = 0x80000005;
	x86_cpuid_fill_brand(e, 4, brand);
	assert_memory_equal(&e[0].eax, "Exam", 4);
	assert_memory_equal(&e[0].ecx, "CPU ", 4);
	assert_memory_equal(&e[0].edx, "1234", 4);
	assert_memory_equal(&e[1].eax, " wit", 4);
	assert_memory_equal(&e[2].eax, "ame", 4); /* with its NUL */
	assert_int_equal(e[2].ebx, 0);
	assert_int_equal(e[3].eax, 0); /* other leaves untouched */

	/* a brand KVM filled stays */
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 3; i++)
		e[i].function = 0x80000002 + i;
	e[1].ecx = 0x41414141;
	x86_cpuid_fill_brand(e, 3, brand);
	assert_int_equal(e[0].eax, 0);
	assert_int_equal(e[1].ecx, 0x41414141);

	/* leaves KVM does not list are not added */
	memset(e, 0, sizeof(e));
	e[0].function = 0x80000002;
	e[1].function = 0x80000003;
	x86_cpuid_fill_brand(e, 2, brand);
	assert_int_equal(e[0].eax, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_e820_small_and_large),
	    cmocka_unit_test(test_bzimage_header_checks),
	    cmocka_unit_test(test_linux_load_places_everything),
	    cmocka_unit_test(test_bzimage_truncated),
	    cmocka_unit_test(test_bzimage_hostile_header),
	    cmocka_unit_test(test_bzimage_initrd_limits),
	    cmocka_unit_test(test_pvh_load),
	    cmocka_unit_test(test_pvh_reads_headers_once),
	    cmocka_unit_test(test_pvh_checks_before_loading),
	    cmocka_unit_test(test_cpuid_adjust),
	    cmocka_unit_test(test_cpuid_fill_brand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
