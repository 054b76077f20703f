/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine's memory map as the firmware would report it (e820). */
#ifndef PETREL_ARCH_X86_E820_H
#define PETREL_ARCH_X86_E820_H

#include <stdint.h>

#define X86_E820_RAM 1
#define X86_E820_RESERVED 2
#define X86_E820_ACPI 3
#define X86_E820_MAX 16

struct x86_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* RAM below 4 GiB that the machine gives (the rest goes above 4 GiB). */
uint64_t x86_ram_below_4g(uint64_t mem_size);
uint64_t x86_ram_above_4g(uint64_t mem_size);

/*
 * Fill map for a machine with mem_size bytes of RAM: low RAM up to the EBDA,
 * the EBDA and BIOS area reserved (ACPI tables live there), RAM from 1 MiB to
 * the 32-bit PCI hole, RAM above 4 GiB for the rest; the PCI ECAM window is
 * reserved when ecam_size is not 0. Returns the number of entries or -EINVAL.
 */
int x86_e820_build(uint64_t mem_size, uint64_t ecam_addr, uint64_t ecam_size,
		   struct x86_e820_entry *map, int max);

#endif
