/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Uncompressed ELF kernels (vmlinux) entered through their PVH note
 * (XEN_ELFNOTE_PHYS32_ENTRY): 32-bit protected mode, paging off, ebx pointing
 * at an hvm_start_info with the command line, the initramfs as a module, the
 * RSDP and the memory map. It skips the bzImage's decompression.
 */
#ifndef PETREL_ARCH_X86_PVH_H
#define PETREL_ARCH_X86_PVH_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/e820.h"
#include "arch/x86/linux_boot.h"
#include "mem/guest_mem.h"

struct x86_pvh_entry {
	uint64_t rip;	     /* 32-bit entry point */
	uint64_t start_info; /* goes in ebx */
	uint64_t kernel_end;
};

/* Is this an ELF file at all (so a failure should name ELF/PVH)? */
int x86_is_elf(const uint8_t *img, size_t size);

/*
 * Load the PT_LOAD segments of an ELF64/ELF32 image at their physical
 * addresses and find its PVH entry. -ENOEXEC with *why when there is none.
 */
int x86_pvh_load(struct guest_mem *gm, const uint8_t *img, size_t size,
		 const struct x86_linux_params *p, struct x86_pvh_entry *e, const char **why);

#endif
