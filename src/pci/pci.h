/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A PCI function: its 4 KiB configuration space (type 0 header, capability
 * list, extended space), the masks that say which bits the guest may write,
 * and its BARs, which claim ranges on the machine's buses while the guest has
 * programmed an address and enabled decoding in COMMAND.
 */
#ifndef PETREL_PCI_PCI_H
#define PETREL_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "dev/platform.h"

#define PCI_CFG_SPACE_SIZE 4096
#define PCI_CFG_HEADER_SIZE 256 /* conventional space; capabilities live here */
#define PCI_NUM_BARS 6
#define PCI_MAX_CAPS 16

/* Type 0 header registers */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_PROG_IF 0x09
#define PCI_SUBCLASS 0x0a
#define PCI_CLASS_CODE 0x0b
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR_ID 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CAP_START 0x40 /* first byte after the header */

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEM 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
/* Error bits, write-1-to-clear */
#define PCI_STATUS_MASTER_PARITY 0x0100
#define PCI_STATUS_SIG_TARGET_ABORT 0x0800
#define PCI_STATUS_REC_TARGET_ABORT 0x1000
#define PCI_STATUS_REC_MASTER_ABORT 0x2000
#define PCI_STATUS_SIG_SYSTEM_ERROR 0x4000
#define PCI_STATUS_PARITY_ERROR 0x8000

#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_64 0x4
#define PCI_BAR_PREFETCH 0x8

#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | ((fn)&7)))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn)&7)

struct pci_dev;

struct pci_bar {
	uint64_t size; /* 0: slot unused (or the upper half of a 64-bit BAR) */
	bool io;
	bool is64;
	bool prefetch;
	uint64_t addr; /* where it is claimed, valid while mapped */
	bool mapped;
	const struct bus_ops *ops; /* offsets relative to the BAR's base */
	void *opaque;
};

/*
 * Called after the generic handling of a write that touches [cap, cap+len):
 * off is the absolute config offset of the access, val its value.
 */
typedef void pci_cap_write_fn(void *opaque, struct pci_dev *d, uint32_t off, unsigned int size,
			      uint32_t val);

struct pci_cap {
	uint8_t id;
	uint8_t off;
	uint8_t len;
	pci_cap_write_fn *write;
	void *opaque;
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
	uint8_t wmask[PCI_CFG_SPACE_SIZE];   /* bits the guest may change */
	uint8_t w1cmask[PCI_CFG_SPACE_SIZE]; /* bits a guest 1 clears */
	struct pci_bar bar[PCI_NUM_BARS];
	struct pci_cap caps[PCI_MAX_CAPS];
	unsigned int nr_caps;
	unsigned int cap_free; /* next capability allocation offset */
	uint8_t devfn;
	const char *name; /* names the BAR ranges on the buses */

	/* Set by the host bridge when plugged; NULL: BARs are never claimed. */
	struct bus *mmio_bus;
	struct bus *pio_bus;

	/*
	 * Device model hooks (set after pci_dev_init). config_write runs after
	 * the generic handling and the capability hooks; config_read may
	 * replace the value read (val) for registers the device computes.
	 */
	void (*config_write)(struct pci_dev *d, uint32_t off, unsigned int size, uint32_t val);
	uint32_t (*config_read)(struct pci_dev *d, uint32_t off, unsigned int size, uint32_t val);
	void *opaque; /* for the device model */

	uint64_t bar_map_failures; /* mapping refused (overlap): counted, not logged */

	/*
	 * INTx. The device model sets its level with pci_intx_set; the host
	 * bridge that plugged the device (intx_route) drives the line from the
	 * OR of every device on it, through the device's platform. intx_level
	 * and intx_masked (COMMAND's INTx Disable) are read and written
	 * atomically: the model changes the first under its own lock, config
	 * writes the second under the host's.
	 */
	const struct platform *platform;
	void (*intx_route)(void *ctx, struct pci_dev *d);
	void *intx_ctx;
	bool intx_level;
	bool intx_masked;
};

static inline uint16_t pci_le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t pci_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline void pci_le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void pci_le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/*
 * Reset *d to a type 0 header with these IDs: no BARs, no capabilities,
 * COMMAND with IO, MEM, BUS MASTER and INTX DISABLE writable, interrupt line
 * writable, interrupt pin none. Hooks, name and bus pointers are cleared.
 */
void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint8_t class_code,
		  uint8_t subclass, uint8_t prog_if, uint16_t subsys_vendor, uint16_t subsys_id,
		  uint8_t revision);
/* pin: 0 none, 1..4 INTA#..INTD#; set it before plugging. */
void pci_dev_set_intx_pin(struct pci_dev *d, uint8_t pin);

/*
 * INTx: assert (level true) or deassert the device's pin. STATUS.INTERRUPT
 * reads the level; the line sees it only while INTx Disable is clear, and
 * only when a host bridge plugged the device.
 */
void pci_intx_set(struct pci_dev *d, bool level);
/* What the device puts on its line now: its level unless INTx Disable is set. */
bool pci_intx_output(const struct pci_dev *d);
/* Plugged into a host bridge: INTx goes through it (else the model drives its GSI). */
static inline bool pci_dev_plugged(const struct pci_dev *d)
{
	return d->intx_route != NULL;
}
/*
 * May the device read or write guest memory (COMMAND's Bus Master Enable)?
 * A function no host bridge plugged has no COMMAND the guest can reach: yes.
 */
bool pci_dev_bus_master(const struct pci_dev *d);

/*
 * Declare BAR bar: size a power of two (>= 16 MMIO, 4..65536 I/O); a 64-bit
 * BAR also takes slot bar + 1. -EINVAL on bad arguments, -EBUSY when the
 * slot is taken.
 */
int pci_bar_add(struct pci_dev *d, int bar, uint64_t size, bool io, bool is64,
		const struct bus_ops *ops, void *opaque);
/* Mark an MMIO BAR prefetchable (bit 3). */
int pci_bar_set_prefetchable(struct pci_dev *d, int bar);
/* Claim/release the BARs to match COMMAND and the BAR registers. */
void pci_dev_update_bars(struct pci_dev *d);
/* Release every claimed BAR (the device goes away). */
void pci_dev_unmap_bars(struct pci_dev *d);

/*
 * Append a capability of len bytes (>= 2: ID and next pointer) to the list.
 * Returns its offset (0x40..0xff, 4-byte aligned) or -ENOSPC / -EINVAL.
 * Its body is zero and read-only: the caller fills cfg and sets wmask.
 */
int pci_cap_add(struct pci_dev *d, uint8_t id, uint8_t len);
/* Call fn after writes that touch the capability at cap_off. */
int pci_cap_set_write_hook(struct pci_dev *d, uint8_t cap_off, pci_cap_write_fn *fn, void *opaque);
/* Offset of the first capability with this ID, or 0. */
uint8_t pci_cap_find(const struct pci_dev *d, uint8_t id);

/*
 * Guest configuration accesses: size 1, 2 or 4 inside the 4 KiB space,
 * otherwise reads give all-ones and writes are dropped.
 */
uint32_t pci_config_read(struct pci_dev *d, uint32_t off, unsigned int size);
void pci_config_write(struct pci_dev *d, uint32_t off, unsigned int size, uint32_t val);

/* A function's configuration space as saved (snapshot, migration). */
struct pci_dev_state {
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
};

void pci_dev_save(const struct pci_dev *d, struct pci_dev_state *s);
/*
 * Could the guest have brought @d (as created, not yet programmed) to @s?
 * Every bit it cannot write must be what @d has (same function, same
 * capabilities; a BAR's low bits: its address aligned to its size). 0, or
 * -EINVAL with *@off the first byte that differs.
 */
int pci_dev_state_check(const struct pci_dev *d, const struct pci_dev_state *s, uint32_t *off);
/*
 * Put @s (checked) into @d as the guest's config writes would: the bytes
 * first, then each capability's first dword and the BARs written back
 * through pci_config_write so the capability hooks and the device model see
 * them, COMMAND last (BARs claimed, INTx Disable, Bus Master Enable). -EBUSY
 * with *@bar when a BAR that should decode could not be claimed (overlap).
 */
int pci_dev_restore(struct pci_dev *d, const struct pci_dev_state *s, int *bar);

#endif
