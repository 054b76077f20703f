// SPDX-License-Identifier: GPL-2.0-only
/* Loading a bzImage per the Linux x86 boot protocol, 64-bit entry. */
#include "arch/x86/linux_boot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/layout.h"

/* Offsets into the boot sector / zero page (struct boot_params). */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_SYSSIZE 0x1f4
#define BP_VID_MODE 0x1fa
#define BP_BOOT_FLAG 0x1fe
#define BP_JUMP 0x200
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_HEAP_END_PTR 0x224
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_RELOCATABLE 0x234
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define BP_SIZE 0x1000

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define LOADER_UNDEFINED 0xff

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* Reasons with numbers in them; see x86_bzimage_parse in linux_boot.h. */
static _Thread_local char why_buf[192];

static const char *whyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *whyf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

int x86_bzimage_parse(const uint8_t *img, size_t size, struct x86_bzimage_info *info,
		      const char **why)
{
	unsigned int sects;
	uint32_t syssize;

	memset(info, 0, sizeof(*info));
	if (size < BP_INIT_SIZE + 4 || rd16(img + BP_BOOT_FLAG) != 0xaa55 ||
	    rd32(img + BP_HEADER) != HDRS_MAGIC) {
		*why = "no Linux boot-protocol header (not a bzImage)";
		return -ENOEXEC;
	}
	info->version = rd16(img + BP_VERSION);
	if (info->version < 0x0206) {
		*why = "boot protocol older than 2.06";
		return -ENOEXEC;
	}
	if (!(img[BP_LOADFLAGS] & LOADED_HIGH)) {
		*why = "a zImage loaded low, not a bzImage";
		return -ENOEXEC;
	}
	/* XLF_KERNEL_64 is protocol 2.12: every field below is in the header */
	info->xloadflags = info->version >= 0x020c ? rd16(img + BP_XLOADFLAGS) : 0;
	if (!(info->xloadflags & XLF_KERNEL_64)) {
		*why = "the kernel has no 64-bit entry point (XLF_KERNEL_64)";
		return -ENOEXEC;
	}
	info->header_end = BP_JUMP + 2 + img[BP_JUMP + 1];
	if (info->header_end < BP_INIT_SIZE + 4) {
		*why = whyf("the setup header ends at 0x%x, before init_size (0x%x) of protocol "
			    "2.10",
			    info->header_end, BP_INIT_SIZE);
		return -EINVAL;
	}
	sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;
	info->setup_size = (sects + 1) * 512; /* at most 128 KiB */
	info->kernel_offset = info->setup_size;
	if (info->setup_size >= size) {
		*why = whyf("truncated: the file has %zu bytes, its real-mode setup (setup_sects "
			    "%u) %u",
			    size, sects, info->setup_size);
		return -EINVAL;
	}
	syssize = rd32(img + BP_SYSSIZE);
	info->kernel_size = (uint64_t)syssize * 16;
	if (!syssize) {
		*why = "the setup header's syssize is 0 (no protected-mode kernel)";
		return -EINVAL;
	}
	if (info->kernel_size > size - info->setup_size) {
		*why = whyf("truncated: the protected-mode kernel has %zu bytes, syssize says "
			    "%llu",
			    size - info->setup_size, (unsigned long long)info->kernel_size);
		return -EINVAL;
	}
	info->initrd_addr_max = rd32(img + BP_INITRD_ADDR_MAX);
	info->kernel_alignment = rd32(img + BP_KERNEL_ALIGNMENT);
	info->relocatable = img[BP_RELOCATABLE];
	info->cmdline_max = rd32(img + BP_CMDLINE_SIZE);
	info->pref_address = rd64(img + BP_PREF_ADDRESS);
	info->init_size = rd32(img + BP_INIT_SIZE);
	if (info->relocatable &&
	    (!info->kernel_alignment || (info->kernel_alignment & (info->kernel_alignment - 1)))) {
		*why = whyf("the relocatable kernel's kernel_alignment 0x%x is not a power of two",
			    info->kernel_alignment);
		return -EINVAL;
	}
	if (!info->init_size) {
		*why = "the setup header's init_size is 0";
		return -EINVAL;
	}
	return 0;
}

/* Does [addr, addr + len) lie in RAM above the boot structures? */
static bool kernel_fits(uint64_t addr, uint64_t len, uint64_t ram_top)
{
	uint64_t end;

	return addr >= X86_HIGH_RAM_START && !__builtin_add_overflow(addr, len, &end) &&
	       end <= ram_top;
}

/* v rounded up to a (a power of two); false when that passes 2^64. */
static bool align_up(uint64_t v, uint64_t a, uint64_t *out)
{
	if (__builtin_add_overflow(v, a - 1, out))
		return false;
	*out &= ~(a - 1);
	return true;
}

/*
 * Where the kernel goes: at its preferred address (16 MiB as built); a
 * relocatable kernel that does not fit there with room for the initramfs goes
 * to the lowest aligned address above 1 MiB, so small guests boot too. A
 * kernel that is not relocatable goes at pref_address or not at all.
 */
static int place_kernel(const struct x86_bzimage_info *info, uint64_t need, uint64_t initrd,
			uint64_t ram_top, uint64_t *kaddr, const char **why)
{
	uint64_t want, addr, with_initrd;

	if (!info->relocatable) {
		want = info->pref_address;
		if (kernel_fits(want, need, ram_top))
			goto found;
		if (want >= X86_HIGH_RAM_START && want < ram_top)
			goto no_memory;
		*why = whyf("the kernel is not relocatable and its pref_address 0x%llx is not "
			    "in guest RAM above 1 MiB (0x100000..0x%llx)",
			    (unsigned long long)want, (unsigned long long)ram_top);
		return -EINVAL;
	}
	want = info->pref_address >= X86_HIGH_RAM_START ? info->pref_address : X86_KERNEL_ADDR;
	if (align_up(want, info->kernel_alignment, &addr) &&
	    !__builtin_add_overflow(need, initrd, &with_initrd) &&
	    kernel_fits(addr, with_initrd, ram_top)) {
		want = addr;
		goto found;
	}
	if (align_up(X86_HIGH_RAM_START, info->kernel_alignment, &want) &&
	    kernel_fits(want, need, ram_top))
		goto found;
no_memory:
	*why = "not enough guest memory for the kernel to unpack itself; give a larger --memory";
	return -ENOMEM;
found:
	*kaddr = want;
	return 0;
}

/* The boot structures all lie below the kernel's lowest address. */
_Static_assert(X86_BOOT_PARAMS_ADDR + BP_SIZE <= X86_HIGH_RAM_START &&
		   X86_CMDLINE_ADDR + X86_CMDLINE_MAX <= X86_HIGH_RAM_START &&
		   X86_PD_ADDR + 4 * 0x1000 <= X86_HIGH_RAM_START &&
		   X86_BIOS_END <= X86_HIGH_RAM_START,
	       "boot structures must lie below 1 MiB");

int x86_linux_load(struct guest_mem *gm, const uint8_t *img, size_t size,
		   const struct x86_linux_params *p, struct x86_linux_entry *e, const char **why)
{
	struct x86_bzimage_info info;
	uint8_t bp[BP_SIZE];
	uint64_t kaddr, kend, need, iaddr = 0, imax, isize;
	size_t cl_len = p->cmdline ? strlen(p->cmdline) : 0;
	int i, ret;

	ret = x86_bzimage_parse(img, size, &info, why);
	if (ret < 0)
		return ret;
	if (cl_len > info.cmdline_max || cl_len >= X86_CMDLINE_MAX) {
		*why = whyf("the command line (%zu bytes) is longer than the kernel accepts "
			    "(cmdline_size %u)",
			    cl_len, info.cmdline_max);
		return -E2BIG;
	}
	if (p->e820_entries < 0 || p->e820_entries > BP_E820_MAX) {
		*why = "too many e820 entries";
		return -EINVAL;
	}

	/* Every check first: nothing is written into a guest that will not boot. */
	need = info.init_size > info.kernel_size ? info.init_size : info.kernel_size;
	isize = p->initrd ? p->initrd_size : 0;
	ret = place_kernel(&info, need,
			   isize < p->ram_below_4g ? (isize + 0xfff) & ~0xfffULL : p->ram_below_4g,
			   p->ram_below_4g, &kaddr, why);
	if (ret < 0)
		return ret;
	kend = kaddr + need;

	/* The initramfs: as high as allowed, above the kernel's working area. */
	if (isize) {
		imax = p->ram_below_4g;
		if ((uint64_t)info.initrd_addr_max + 1 < imax)
			imax = (uint64_t)info.initrd_addr_max + 1;
		if (isize > imax || ((imax - isize) & ~0xfffULL) < kend) {
			*why = whyf("the initramfs (%llu bytes) does not fit between the kernel "
				    "(ending at 0x%llx) and 0x%llx, the top of low memory or of "
				    "initrd_addr_max",
				    (unsigned long long)isize, (unsigned long long)kend,
				    (unsigned long long)imax);
			return -ENOMEM;
		}
		iaddr = (imax - isize) & ~0xfffULL;
	}

	ret = gm_write(gm, kaddr, img + info.kernel_offset, info.kernel_size);
	if (ret < 0) {
		*why = "the kernel does not fit in guest memory";
		return ret;
	}
	if (iaddr) {
		ret = gm_write(gm, iaddr, p->initrd, isize);
		if (ret < 0) {
			*why = "the initramfs does not fit in guest memory";
			return ret;
		}
	}

	ret = gm_write(gm, X86_CMDLINE_ADDR, p->cmdline ? p->cmdline : "", cl_len + 1);
	if (ret < 0) {
		*why = "no guest memory for the command line";
		return ret;
	}

	/* The zero page: the image's setup header, then what the loader fills. */
	memset(bp, 0, sizeof(bp));
	memcpy(bp + BP_SETUP_SECTS, img + BP_SETUP_SECTS, info.header_end - BP_SETUP_SECTS);
	bp[BP_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[BP_LOADFLAGS] |= CAN_USE_HEAP;
	wr16(bp + BP_HEAP_END_PTR, 0xfe00);
	wr16(bp + BP_VID_MODE, 0xffff);
	wr32(bp + BP_CMD_LINE_PTR, (uint32_t)X86_CMDLINE_ADDR);
	wr32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(X86_CMDLINE_ADDR >> 32));
	wr32(bp + BP_RAMDISK_IMAGE, (uint32_t)iaddr);
	wr32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(iaddr >> 32));
	wr32(bp + BP_RAMDISK_SIZE, (uint32_t)(iaddr ? isize : 0));
	wr32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(iaddr ? isize >> 32 : 0));
	if (info.version >= 0x020e)
		wr64(bp + BP_ACPI_RSDP, p->rsdp_addr);
	bp[BP_E820_ENTRIES] = (uint8_t)p->e820_entries;
	for (i = 0; i < p->e820_entries; i++) {
		uint8_t *ent = bp + BP_E820_TABLE + i * 20;

		wr64(ent, p->e820[i].addr);
		wr64(ent + 8, p->e820[i].size);
		wr32(ent + 16, p->e820[i].type);
	}
	ret = gm_write(gm, X86_BOOT_PARAMS_ADDR, bp, sizeof(bp));
	if (ret < 0) {
		*why = "no guest memory for boot_params";
		return ret;
	}
	e->rip = kaddr + 0x200;
	e->boot_params = X86_BOOT_PARAMS_ADDR;
	e->kernel_addr = kaddr;
	e->initrd_addr = iaddr;
	return 0;
}
