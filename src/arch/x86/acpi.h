/* SPDX-License-Identifier: GPL-2.0-only */
/* ACPI tables for petrel's x86 machine: RSDP, XSDT, FADT, FACS, DSDT, MADT and MCFG. */
#ifndef PETREL_ARCH_X86_ACPI_H
#define PETREL_ARCH_X86_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A buffer of this size always holds the tables, even for 255 CPUs. */
#define X86_ACPI_MAX_SIZE 0x2000

#define X86_ACPI_OEM_ID "PETREL"
#define X86_ACPI_OEM_TABLE_ID "PETRELVM"

struct x86_acpi_config {
	unsigned int nr_cpus;	/* 1..255, APIC ids 0..nr_cpus-1 */
	uint64_t ioapic_addr;	/* 0xfec00000 */
	uint8_t ioapic_id;	/* = nr_cpus */
	uint64_t lapic_addr;	/* 0xfee00000 */
	uint16_t pm1a_evt_port; /* 0x600, 4 bytes */
	uint16_t pm1a_cnt_port; /* 0x604, 2 bytes */
	uint8_t s5_slp_typ;	/* 5: value the guest writes to PM1a_CNT.SLP_TYP for S5 */
	uint16_t sci_irq;	/* 9 */
	uint16_t reset_port;	/* 0xcf9, reset value 0x06 (FADT RESET_REG, flag RESET_REG_SUP) */
	uint64_t ecam_addr; /* 0 = no MCFG; else MCFG entry for segment 0, bus 0..ecam_end_bus */
	uint8_t ecam_end_bus;
	bool has_uart;	       /* COM1 0x3f8 IRQ 4 in the DSDT as PNP0501 with _CRS */
	uint16_t pvpanic_port; /* 0 = none; else a QEMU0001 pvpanic device at this port */
	/* A PCI root bridge (PNP0A03, bus 0) with this 32-bit window; 0 = none. Its
	 * _PRT sends INTx pin p (0 = INTA) of slot s to GSI 16 + (s + p) % 4. */
	uint32_t pci_mmio_base, pci_mmio_size;
};

/*
 * Build RSDP, XSDT, MADT(APIC), FADT(FACP, revision 6, HW_REDUCED off), FACS, DSDT, and MCFG
 * when ecam_addr != 0, into buf (len bytes), which the guest will see at guest-physical
 * address gpa. The RSDP comes first, at buf[0] (so gpa must be 16-byte aligned, e.g. 0xe0000).
 * Returns the number of bytes used, or -ENOSPC if len is too small, -EINVAL on bad config.
 */
long x86_acpi_build(const struct x86_acpi_config *cfg, uint8_t *buf, size_t len, uint64_t gpa);

/* The byte that makes len bytes at p sum to 0 mod 256 when added. */
uint8_t x86_acpi_checksum(const void *p, size_t len);

#endif
