/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst), version 2.06
 * and later, entered at the 64-bit entry point: the setup header is checked,
 * the protected-mode kernel, command line and initramfs are placed in guest
 * memory, and the zero page (boot_params) is built with the e820 map.
 */
#ifndef PETREL_ARCH_X86_LINUX_BOOT_H
#define PETREL_ARCH_X86_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/e820.h"
#include "mem/guest_mem.h"

/* What the setup header of a bzImage says. */
struct x86_bzimage_info {
	uint16_t version;	/* boot protocol, e.g. 0x020f */
	uint32_t setup_size;	/* bytes of real-mode setup, incl. the boot sector */
	uint32_t kernel_offset; /* where the protected-mode kernel starts in the file */
	uint64_t kernel_size;	/* what syssize says: bytes past it are not loaded */
	uint64_t pref_address;	/* where it wants to run */
	uint32_t kernel_alignment;
	uint32_t init_size;	  /* memory it needs from its load address while booting */
	uint32_t initrd_addr_max; /* highest address the initramfs may end at */
	uint32_t cmdline_max;	  /* longest command line, without the NUL */
	uint32_t header_end;	  /* end of the setup header in the file */
	uint16_t xloadflags;
	uint8_t relocatable;
};

struct x86_linux_params {
	const char *cmdline;
	const uint8_t *initrd; /* may be NULL */
	size_t initrd_size;
	const struct x86_e820_entry *e820;
	int e820_entries;
	uint64_t rsdp_addr; /* 0 when no ACPI */
	uint64_t ram_below_4g;
};

struct x86_linux_entry {
	uint64_t rip;	      /* 64-bit entry point */
	uint64_t boot_params; /* goes in rsi */
	uint64_t kernel_addr;
	uint64_t initrd_addr;
};

/*
 * Check a bzImage's setup header: every field petrel uses is checked against
 * the file and the boot protocol. Returns 0; -ENOEXEC with *why set to a short
 * reason when the image is not a bzImage petrel can boot; -EINVAL when it is
 * one with a header that cannot be right (a truncated file, a bad field).
 * A reason with numbers in it lives in a per-thread buffer, valid until the
 * next call of this module on the thread.
 */
int x86_bzimage_parse(const uint8_t *img, size_t size, struct x86_bzimage_info *info,
		      const char **why);

/*
 * Place kernel, command line, initramfs and boot_params in guest memory. The
 * kernel goes above 1 MiB (the boot structures of arch/x86/layout.h all lie
 * below), inside RAM, and every check is made before anything is written: a
 * refused image leaves guest memory as it was.
 */
int x86_linux_load(struct guest_mem *gm, const uint8_t *img, size_t size,
		   const struct x86_linux_params *p, struct x86_linux_entry *e, const char **why);

#endif
