/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The PCI host bridge of bus 0: configuration mechanism #1 (ports 0xcf8 and
 * 0xcfc) and the ECAM (MMCONFIG) window, 32 slots of single-function
 * devices, and the fixed INTx routing to IOAPIC pins 16..19.
 *
 * INTx routing (for the ACPI _PRT): the device in slot s raising its pin p
 * (PCI numbering 1..4 = INTA#..INTD#) drives GSI
 *	16 + (s + p - 1) % 4
 * i.e. a _PRT entry { 0x<s>FFFF, p - 1, 0, 16 + (s + p - 1) % 4 } for each
 * slot and pin, routed straight to GSIs (no link devices), level-triggered.
 * pci_host_plug() writes that GSI into the device's interrupt line register.
 * Up to 8 slots share each GSI: the host keeps what each device puts on its
 * line and drives the GSI with their OR, so one device lowering its INTx
 * leaves the line up while another still asserts.
 */
#ifndef PETREL_PCI_PCI_HOST_H
#define PETREL_PCI_PCI_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "pci/pci.h"

#define PCI_HOST_SLOTS 32
#define PCI_HOST_CONFIG_ADDRESS 0xcf8
#define PCI_HOST_CONFIG_DATA 0xcfc
#define PCI_HOST_ECAM_SIZE 0x10000000ULL /* buses 0..255: bus << 20 | devfn << 12 | reg */
#define PCI_HOST_INTX_GSI_BASE 16
#define PCI_HOST_BRIDGE_VENDOR 0x8086
#define PCI_HOST_BRIDGE_DEVICE 0x29c0

struct pci_host {
	pthread_mutex_t lock; /* the CONFIG_ADDRESS latch and all config accesses */
	uint32_t config_address;
	struct pci_dev bridge; /* 00.0 */
	struct pci_dev *devs[PCI_HOST_SLOTS];
	struct bus *pio;
	struct bus *mmio;
	uint64_t ecam_base;
	bool registered;

	pthread_mutex_t intx_lock; /* the INTx state below; taken last, after any device's */
	uint32_t intx_out;	   /* bit per slot: its device drives its line high */
	uint8_t slot_gsi[PCI_HOST_SLOTS];
};

/* GSI that INTx pin (1..4) of the device in slot drives. */
static inline uint8_t pci_intx_swizzle(unsigned int slot, unsigned int pin)
{
	return (uint8_t)(PCI_HOST_INTX_GSI_BASE + (slot + pin - 1) % 4);
}

int pci_host_init(struct pci_host *h, struct bus *pio, struct bus *mmio);
/*
 * Plug d (function 0) into the first free slot from 1: sets d->devfn, the bus
 * pointers and the interrupt line. Returns the slot or -ENOSPC.
 */
int pci_host_plug(struct pci_host *h, struct pci_dev *d);
/*
 * Claim CONFIG_ADDRESS (0xcf8, dword accesses; one byte is claimed so the
 * reset control register at 0xcf9 stays free), CONFIG_DATA (0xcfc..0xcff)
 * and the 256 MiB ECAM window at ecam_base.
 */
int pci_host_register(struct pci_host *h, uint64_t ecam_base);
/* GSI of the slot's INTx (its device's pin, INTA# when empty or none). */
uint8_t pci_host_intx_gsi(struct pci_host *h, unsigned int slot);
/* Config access to bus/devfn/reg as the guest sees it (all-ones if absent). */
uint32_t pci_host_config_read(struct pci_host *h, unsigned int bus, unsigned int devfn,
			      uint32_t reg, unsigned int size);
void pci_host_config_write(struct pci_host *h, unsigned int bus, unsigned int devfn, uint32_t reg,
			   unsigned int size, uint32_t val);
/* CONFIG_ADDRESS, the one register of the host itself (the bridge's config space aside). */
uint32_t pci_host_save(struct pci_host *h);
/* -EINVAL for a value the guest could not have written (reserved bits set). */
int pci_host_restore(struct pci_host *h, uint32_t config_address);
/* Release the host's ranges and every device's BARs. */
void pci_host_destroy(struct pci_host *h);

extern const struct bus_ops pci_host_addr_ops;
extern const struct bus_ops pci_host_data_ops;
extern const struct bus_ops pci_host_ecam_ops;

#endif
