// SPDX-License-Identifier: GPL-2.0-only
/* The e820 memory map, shared by the Linux and PVH boot protocols. */
#include "arch/x86/e820.h"

#include <errno.h>

#include "arch/x86/layout.h"

uint64_t x86_ram_below_4g(uint64_t mem_size)
{
	return mem_size < X86_MMIO_HOLE_START ? mem_size : X86_MMIO_HOLE_START;
}

uint64_t x86_ram_above_4g(uint64_t mem_size)
{
	return mem_size - x86_ram_below_4g(mem_size);
}

static int add(struct x86_e820_entry *map, int n, int max, uint64_t addr, uint64_t size,
	       uint32_t type)
{
	if (n < 0 || n >= max)
		return -EINVAL;
	map[n].addr = addr;
	map[n].size = size;
	map[n].type = type;
	return n + 1;
}

int x86_e820_build(uint64_t mem_size, uint64_t ecam_addr, uint64_t ecam_size,
		   struct x86_e820_entry *map, int max)
{
	uint64_t low = x86_ram_below_4g(mem_size);
	uint64_t high = x86_ram_above_4g(mem_size);
	int n = 0;

	if (mem_size < X86_HIGH_RAM_START * 2)
		return -EINVAL;
	n = add(map, n, max, 0, X86_EBDA_ADDR, X86_E820_RAM);
	n = add(map, n, max, X86_EBDA_ADDR, X86_LOW_RAM_END - X86_EBDA_ADDR, X86_E820_RESERVED);
	n = add(map, n, max, X86_BIOS_ADDR, X86_BIOS_END - X86_BIOS_ADDR, X86_E820_RESERVED);
	n = add(map, n, max, X86_HIGH_RAM_START, low - X86_HIGH_RAM_START, X86_E820_RAM);
	if (ecam_size)
		n = add(map, n, max, ecam_addr, ecam_size, X86_E820_RESERVED);
	if (high)
		n = add(map, n, max, X86_4G, high, X86_E820_RAM);
	return n;
}
