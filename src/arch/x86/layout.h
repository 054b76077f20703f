/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest-physical address map of petrel's x86 machine. */
#ifndef PETREL_ARCH_X86_LAYOUT_H
#define PETREL_ARCH_X86_LAYOUT_H

#define X86_GDT_ADDR 0x500ULL	       /* boot GDT (4 entries) */
#define X86_BOOT_PARAMS_ADDR 0x7000ULL /* Linux zero page */
#define X86_PML4_ADDR 0x9000ULL	       /* boot page tables: PML4, PDPT, 4 PDs */
#define X86_PDPT_ADDR 0xa000ULL
#define X86_PD_ADDR 0xb000ULL /* 4 pages: 0xb000..0xefff, identity map of 4 GiB */
#define X86_PVH_START_INFO_ADDR 0x6000ULL
#define X86_CMDLINE_ADDR 0x20000ULL
#define X86_CMDLINE_MAX 0x10000ULL
#define X86_EBDA_ADDR 0x9fc00ULL
#define X86_LOW_RAM_END 0xa0000ULL /* start of the legacy VGA/ROM hole */
#define X86_BIOS_ADDR 0xe0000ULL   /* ACPI RSDP and tables live here */
#define X86_BIOS_END 0x100000ULL
#define X86_HIGH_RAM_START 0x100000ULL
#define X86_KERNEL_ADDR 0x1000000ULL /* 16 MiB, where bzImage kernels go */

#define X86_MMIO_HOLE_START 0xc0000000ULL /* 32-bit PCI hole: 3 GiB .. 4 GiB */
#define X86_PCI_MMIO_START 0xc0000000ULL  /* 32-bit BARs */
#define X86_PCI_MMIO_SIZE 0x20000000ULL
#define X86_ECAM_ADDR 0xe0000000ULL /* PCI MMCONFIG, bus 0..255 */
#define X86_ECAM_SIZE 0x10000000ULL
#define X86_IOAPIC_ADDR 0xfec00000ULL
#define X86_LAPIC_ADDR 0xfee00000ULL
#define X86_4G 0x100000000ULL

/* Legacy I/O ports */
#define X86_PORT_DEBUG_EXIT 0xf4 /* write v: petrel exits with (v << 1) | 1 */
#define X86_PORT_PM1A_EVT 0x600	 /* ACPI PM1a event block (4 bytes) */
#define X86_PORT_PM1A_CNT 0x604	 /* ACPI PM1a control block (2 bytes) */
#define X86_PORT_COM1 0x3f8
#define X86_IRQ_COM1 4
#define X86_IRQ_SCI 9 /* ACPI system control interrupt */
#define X86_PORT_I8042_DATA 0x60
#define X86_PORT_I8042_CMD 0x64
#define X86_PORT_RTC 0x70  /* index 0x70, data 0x71 */
#define X86_PORT_POST 0x80 /* POST codes and Linux's I/O delay: ignored */

#endif
