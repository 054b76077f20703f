// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI host bridge: configuration mechanism #1, ECAM, slot allocation and
 * INTx routing for bus 0.
 */
#include "pci/pci_host.h"

#include <errno.h>
#include <string.h>

#define CONFIG_ADDRESS_ENABLE 0x80000000u
/* Bits 30:24 reserved (read-only 0), bits 1:0 always 0. */
#define CONFIG_ADDRESS_WRITABLE 0x80fffffcu

int pci_host_init(struct pci_host *h, struct bus *pio, struct bus *mmio)
{
	int ret;

	memset(h, 0, sizeof(*h));
	ret = pthread_mutex_init(&h->lock, NULL);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&h->intx_lock, NULL);
	if (ret) {
		pthread_mutex_destroy(&h->lock);
		return -ret;
	}
	h->pio = pio;
	h->mmio = mmio;
	pci_dev_init(&h->bridge, PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE, 0x06, 0x00, 0x00,
		     0, 0, 0);
	h->bridge.name = "pci-host-bridge";
	h->bridge.devfn = PCI_DEVFN(0, 0);
	h->bridge.pio_bus = pio;
	h->bridge.mmio_bus = mmio;
	h->devs[0] = &h->bridge;
	return 0;
}

uint8_t pci_host_intx_gsi(struct pci_host *h, unsigned int slot)
{
	unsigned int pin = 1;

	if (slot < PCI_HOST_SLOTS && h->devs[slot]) {
		uint8_t p = h->devs[slot]->cfg[PCI_INTERRUPT_PIN];

		if (p >= 1 && p <= 4)
			pin = p;
	}
	return pci_intx_swizzle(slot % PCI_HOST_SLOTS, pin);
}

/*
 * A device's INTx output changed (its level, or INTx Disable): record it and
 * drive its GSI with the OR of the slots that share it.
 */
static void host_intx_route(void *ctx, struct pci_dev *d)
{
	struct pci_host *h = ctx;
	unsigned int slot = PCI_SLOT(d->devfn), s;
	uint8_t gsi;
	bool level = false;

	pthread_mutex_lock(&h->intx_lock);
	if (slot == 0 || slot >= PCI_HOST_SLOTS || h->devs[slot] != d) {
		pthread_mutex_unlock(&h->intx_lock);
		return;
	}
	if (pci_intx_output(d))
		h->intx_out |= 1u << slot;
	else
		h->intx_out &= ~(1u << slot);
	gsi = h->slot_gsi[slot];
	for (s = 1; s < PCI_HOST_SLOTS && !level; s++)
		level = (h->intx_out & (1u << s)) && h->slot_gsi[s] == gsi;
	platform_set_irq(d->platform, gsi, level);
	pthread_mutex_unlock(&h->intx_lock);
}

int pci_host_plug(struct pci_host *h, struct pci_dev *d)
{
	unsigned int slot;

	pthread_mutex_lock(&h->lock);
	for (slot = 1; slot < PCI_HOST_SLOTS; slot++)
		if (!h->devs[slot])
			break;
	if (slot == PCI_HOST_SLOTS) {
		pthread_mutex_unlock(&h->lock);
		return -ENOSPC;
	}
	d->devfn = PCI_DEVFN(slot, 0);
	d->pio_bus = h->pio;
	d->mmio_bus = h->mmio;
	pthread_mutex_lock(&h->intx_lock);
	h->devs[slot] = d;
	h->slot_gsi[slot] = pci_host_intx_gsi(h, slot);
	if (d->cfg[PCI_INTERRUPT_PIN]) {
		d->cfg[PCI_INTERRUPT_LINE] = h->slot_gsi[slot];
		d->intx_route = host_intx_route;
		d->intx_ctx = h;
	}
	pthread_mutex_unlock(&h->intx_lock);
	pthread_mutex_unlock(&h->lock);
	return (int)slot;
}

static struct pci_dev *lookup(struct pci_host *h, unsigned int bus, unsigned int devfn)
{
	if (bus != 0 || devfn > 0xff || PCI_FUNC(devfn) != 0)
		return NULL;
	return h->devs[PCI_SLOT(devfn)];
}

static uint32_t config_read_locked(struct pci_host *h, unsigned int bus, unsigned int devfn,
				   uint32_t reg, unsigned int size)
{
	struct pci_dev *d = lookup(h, bus, devfn);

	if (!d) /* master abort: all-ones */
		return size < 4 ? (1u << (8 * size)) - 1 : ~0u;
	return pci_config_read(d, reg, size);
}

static void config_write_locked(struct pci_host *h, unsigned int bus, unsigned int devfn,
				uint32_t reg, unsigned int size, uint32_t val)
{
	struct pci_dev *d = lookup(h, bus, devfn);

	if (d)
		pci_config_write(d, reg, size, val);
}

uint32_t pci_host_config_read(struct pci_host *h, unsigned int bus, unsigned int devfn,
			      uint32_t reg, unsigned int size)
{
	uint32_t val;

	pthread_mutex_lock(&h->lock);
	val = config_read_locked(h, bus, devfn, reg, size);
	pthread_mutex_unlock(&h->lock);
	return val;
}

void pci_host_config_write(struct pci_host *h, unsigned int bus, unsigned int devfn, uint32_t reg,
			   unsigned int size, uint32_t val)
{
	pthread_mutex_lock(&h->lock);
	config_write_locked(h, bus, devfn, reg, size, val);
	pthread_mutex_unlock(&h->lock);
}

/* CONFIG_ADDRESS: only dword accesses at 0xcf8 reach the latch. */
static uint64_t addr_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pci_host *h = opaque;
	uint32_t val;

	if (off != 0 || size != 4)
		return ~0ULL;
	pthread_mutex_lock(&h->lock);
	val = h->config_address;
	pthread_mutex_unlock(&h->lock);
	return val;
}

static void addr_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct pci_host *h = opaque;

	if (off != 0 || size != 4)
		return;
	pthread_mutex_lock(&h->lock);
	h->config_address = (uint32_t)val & CONFIG_ADDRESS_WRITABLE;
	pthread_mutex_unlock(&h->lock);
}

/* CONFIG_DATA: 1/2/4-byte naturally aligned accesses inside 0xcfc..0xcff. */
static bool data_target(struct pci_host *h, uint64_t off, unsigned int size, unsigned int *bus,
			unsigned int *devfn, uint32_t *reg)
{
	uint32_t a = h->config_address;

	if ((size != 1 && size != 2 && size != 4) || off + size > 4 || (off & (size - 1)))
		return false;
	if (!(a & CONFIG_ADDRESS_ENABLE))
		return false;
	*bus = (a >> 16) & 0xff;
	*devfn = (a >> 8) & 0xff;
	*reg = (a & 0xfc) + (uint32_t)off;
	return true;
}

static uint64_t data_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pci_host *h = opaque;
	unsigned int bus, devfn;
	uint32_t reg, val = ~0u;

	pthread_mutex_lock(&h->lock);
	if (data_target(h, off, size, &bus, &devfn, &reg))
		val = config_read_locked(h, bus, devfn, reg, size);
	pthread_mutex_unlock(&h->lock);
	return val;
}

static void data_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct pci_host *h = opaque;
	unsigned int bus, devfn;
	uint32_t reg;

	pthread_mutex_lock(&h->lock);
	if (data_target(h, off, size, &bus, &devfn, &reg))
		config_write_locked(h, bus, devfn, reg, size, (uint32_t)val);
	pthread_mutex_unlock(&h->lock);
}

/* ECAM: offset = bus << 20 | devfn << 12 | reg; accesses stay in one function. */
static bool ecam_ok(uint64_t off, unsigned int size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	if (off >= PCI_HOST_ECAM_SIZE || (off & (size - 1)))
		return false;
	return (off & 0xfff) + size <= PCI_CFG_SPACE_SIZE;
}

static uint64_t ecam_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pci_host *h = opaque;

	if (!ecam_ok(off, size))
		return ~0ULL;
	return pci_host_config_read(h, (unsigned int)(off >> 20) & 0xff,
				    (unsigned int)(off >> 12) & 0xff, (uint32_t)(off & 0xfff),
				    size);
}

static void ecam_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct pci_host *h = opaque;

	if (!ecam_ok(off, size))
		return;
	pci_host_config_write(h, (unsigned int)(off >> 20) & 0xff, (unsigned int)(off >> 12) & 0xff,
			      (uint32_t)(off & 0xfff), size, (uint32_t)val);
}

const struct bus_ops pci_host_addr_ops = {addr_read, addr_write};
const struct bus_ops pci_host_data_ops = {data_read, data_write};
const struct bus_ops pci_host_ecam_ops = {ecam_read, ecam_write};

int pci_host_register(struct pci_host *h, uint64_t ecam_base)
{
	int ret;

	if (h->registered)
		return -EBUSY;
	if (!h->pio || !h->mmio)
		return -EINVAL;
	ret = bus_register(h->pio, PCI_HOST_CONFIG_ADDRESS, 1, &pci_host_addr_ops, h,
			   "pci-config-address");
	if (ret)
		return ret;
	ret =
	    bus_register(h->pio, PCI_HOST_CONFIG_DATA, 4, &pci_host_data_ops, h, "pci-config-data");
	if (ret)
		goto err_addr;
	ret =
	    bus_register(h->mmio, ecam_base, PCI_HOST_ECAM_SIZE, &pci_host_ecam_ops, h, "pci-ecam");
	if (ret)
		goto err_data;
	h->ecam_base = ecam_base;
	h->registered = true;
	return 0;

err_data:
	bus_unregister(h->pio, PCI_HOST_CONFIG_DATA);
err_addr:
	bus_unregister(h->pio, PCI_HOST_CONFIG_ADDRESS);
	return ret;
}

void pci_host_destroy(struct pci_host *h)
{
	unsigned int slot;

	pthread_mutex_lock(&h->lock);
	pthread_mutex_lock(&h->intx_lock);
	for (slot = 0; slot < PCI_HOST_SLOTS; slot++) {
		if (!h->devs[slot])
			continue;
		pci_dev_unmap_bars(h->devs[slot]);
		h->devs[slot]->intx_route = NULL;
	}
	h->intx_out = 0;
	if (h->registered) {
		bus_unregister(h->pio, PCI_HOST_CONFIG_ADDRESS);
		bus_unregister(h->pio, PCI_HOST_CONFIG_DATA);
		bus_unregister(h->mmio, h->ecam_base);
		h->registered = false;
	}
	memset(h->devs, 0, sizeof(h->devs));
	pthread_mutex_unlock(&h->intx_lock);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_destroy(&h->intx_lock);
	pthread_mutex_destroy(&h->lock);
}

uint32_t pci_host_save(struct pci_host *h)
{
	uint32_t v;

	pthread_mutex_lock(&h->lock);
	v = h->config_address;
	pthread_mutex_unlock(&h->lock);
	return v;
}

int pci_host_restore(struct pci_host *h, uint32_t config_address)
{
	if (config_address & ~CONFIG_ADDRESS_WRITABLE)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	h->config_address = config_address;
	pthread_mutex_unlock(&h->lock);
	return 0;
}
