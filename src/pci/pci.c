// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI function configuration space: the type 0 header, write masks, the
 * capability list, and BARs claimed on the buses as the guest programs them.
 */
#include "pci/pci.h"

#include <errno.h>
#include <string.h>

#define PCI_IO_SPACE_END 0x10000ULL
/* Beyond any guest-physical address width: never a real BAR placement. */
#define PCI_MMIO_ADDR_LIMIT (1ULL << 52)

static void set_wmask16(struct pci_dev *d, uint32_t off, uint16_t mask)
{
	pci_le16_put(&d->wmask[off], mask);
}

void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint8_t class_code,
		  uint8_t subclass, uint8_t prog_if, uint16_t subsys_vendor, uint16_t subsys_id,
		  uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	d->name = "pci";
	d->cap_free = PCI_CAP_START;

	pci_le16_put(&d->cfg[PCI_VENDOR_ID], vendor);
	pci_le16_put(&d->cfg[PCI_DEVICE_ID], device);
	d->cfg[PCI_REVISION_ID] = revision;
	d->cfg[PCI_PROG_IF] = prog_if;
	d->cfg[PCI_SUBCLASS] = subclass;
	d->cfg[PCI_CLASS_CODE] = class_code;
	d->cfg[PCI_HEADER_TYPE] = 0x00; /* type 0, single function */
	pci_le16_put(&d->cfg[PCI_SUBSYS_VENDOR_ID], subsys_vendor);
	pci_le16_put(&d->cfg[PCI_SUBSYS_ID], subsys_id);

	set_wmask16(d, PCI_COMMAND,
		    PCI_COMMAND_IO | PCI_COMMAND_MEM | PCI_COMMAND_MASTER |
			PCI_COMMAND_INTX_DISABLE);
	pci_le16_put(&d->w1cmask[PCI_STATUS],
		     PCI_STATUS_MASTER_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
			 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |
			 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_PARITY_ERROR);
	d->wmask[PCI_CACHE_LINE_SIZE] = 0xff; /* read/write, no effect */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_dev_set_intx_pin(struct pci_dev *d, uint8_t pin)
{
	d->cfg[PCI_INTERRUPT_PIN] = pin <= 4 ? pin : 0;
}

static void intx_update(struct pci_dev *d)
{
	if (d->intx_route)
		d->intx_route(d->intx_ctx, d);
}

void pci_intx_set(struct pci_dev *d, bool level)
{
	__atomic_store_n(&d->intx_level, level, __ATOMIC_SEQ_CST);
	intx_update(d);
}

bool pci_intx_output(const struct pci_dev *d)
{
	return __atomic_load_n(&d->intx_level, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&d->intx_masked, __ATOMIC_SEQ_CST);
}

bool pci_dev_bus_master(const struct pci_dev *d)
{
	if (!pci_dev_plugged(d))
		return true;
	return pci_le16_get(&d->cfg[PCI_COMMAND]) & PCI_COMMAND_MASTER;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool bar_slot_busy(const struct pci_dev *d, int bar)
{
	if (d->bar[bar].size)
		return true;
	return bar > 0 && d->bar[bar - 1].size && d->bar[bar - 1].is64;
}

int pci_bar_add(struct pci_dev *d, int bar, uint64_t size, bool io, bool is64,
		const struct bus_ops *ops, void *opaque)
{
	uint32_t reg = PCI_BAR0 + 4 * (uint32_t)(bar < 0 ? 0 : bar);
	uint64_t mask = ~(size - 1);
	struct pci_bar *b;

	if (bar < 0 || bar >= PCI_NUM_BARS || !ops || !is_pow2(size))
		return -EINVAL;
	if (io && (is64 || size < 4 || size > PCI_IO_SPACE_END))
		return -EINVAL;
	if (!io && (size < 16 || (!is64 && size > (1ULL << 31)) || size > (1ULL << 63)))
		return -EINVAL;
	if (is64 && bar == PCI_NUM_BARS - 1)
		return -EINVAL;
	if (bar_slot_busy(d, bar) || (is64 && bar_slot_busy(d, bar + 1)))
		return -EBUSY;

	b = &d->bar[bar];
	*b = (struct pci_bar){.size = size, .io = io, .is64 = is64, .ops = ops, .opaque = opaque};
	if (io) {
		pci_le32_put(&d->cfg[reg], PCI_BAR_IO);
		pci_le32_put(&d->wmask[reg], (uint32_t)mask & ~0x3u);
	} else {
		pci_le32_put(&d->cfg[reg], is64 ? PCI_BAR_MEM_64 : 0);
		pci_le32_put(&d->wmask[reg], (uint32_t)mask & ~0xfu);
		if (is64) {
			pci_le32_put(&d->cfg[reg + 4], 0);
			pci_le32_put(&d->wmask[reg + 4], (uint32_t)(mask >> 32));
		}
	}
	return 0;
}

int pci_bar_set_prefetchable(struct pci_dev *d, int bar)
{
	if (bar < 0 || bar >= PCI_NUM_BARS || !d->bar[bar].size || d->bar[bar].io)
		return -EINVAL;
	d->bar[bar].prefetch = true;
	d->cfg[PCI_BAR0 + 4 * bar] |= PCI_BAR_PREFETCH;
	return 0;
}

/* The address the guest programmed in BAR i, or 0 when it must not decode. */
static uint64_t bar_target(const struct pci_dev *d, int i)
{
	const struct pci_bar *b = &d->bar[i];
	uint32_t reg = PCI_BAR0 + 4 * (uint32_t)i;
	uint16_t cmd = pci_le16_get(&d->cfg[PCI_COMMAND]);
	uint64_t addr, probe;

	if (b->io) {
		if (!(cmd & PCI_COMMAND_IO))
			return 0;
		addr = pci_le32_get(&d->cfg[reg]) & ~0x3u;
		probe = (uint32_t) ~(b->size - 1) & ~0x3u;
		if (addr + b->size > PCI_IO_SPACE_END)
			return 0;
	} else {
		if (!(cmd & PCI_COMMAND_MEM))
			return 0;
		addr = pci_le32_get(&d->cfg[reg]) & ~0xfu;
		probe = (uint32_t) ~(b->size - 1) & ~0xfu;
		if (b->is64) {
			addr |= (uint64_t)pci_le32_get(&d->cfg[reg + 4]) << 32;
			probe = ~(b->size - 1);
		}
		if (addr >= PCI_MMIO_ADDR_LIMIT || addr + b->size > PCI_MMIO_ADDR_LIMIT)
			return 0;
	}
	if (addr == probe) /* all-ones: a size probe in progress */
		return 0;
	return addr;
}

void pci_dev_update_bars(struct pci_dev *d)
{
	int i;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		struct bus *bus = b->io ? d->pio_bus : d->mmio_bus;
		uint64_t target;

		if (!b->size)
			continue;
		target = bus ? bar_target(d, i) : 0;
		if (b->mapped && b->addr == target)
			continue;
		if (b->mapped) {
			bus_unregister(bus, b->addr);
			b->mapped = false;
		}
		if (!target)
			continue;
		if (bus_register(bus, target, b->size, b->ops, b->opaque, d->name) == 0) {
			b->addr = target;
			b->mapped = true;
		} else {
			d->bar_map_failures++;
		}
	}
}

void pci_dev_unmap_bars(struct pci_dev *d)
{
	int i;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		struct bus *bus = b->io ? d->pio_bus : d->mmio_bus;

		if (b->mapped && bus)
			bus_unregister(bus, b->addr);
		b->mapped = false;
	}
}

int pci_cap_add(struct pci_dev *d, uint8_t id, uint8_t len)
{
	unsigned int off = (d->cap_free + 3) & ~3u;
	uint16_t status;

	if (len < 2)
		return -EINVAL;
	if (d->nr_caps >= PCI_MAX_CAPS || off < PCI_CAP_START || off + len > PCI_CFG_HEADER_SIZE)
		return -ENOSPC;

	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	if (d->nr_caps)
		d->cfg[d->caps[d->nr_caps - 1].off + 1] = (uint8_t)off;
	else
		d->cfg[PCI_CAP_PTR] = (uint8_t)off;
	d->caps[d->nr_caps++] = (struct pci_cap){.id = id, .off = (uint8_t)off, .len = len};
	d->cap_free = off + len;

	status = pci_le16_get(&d->cfg[PCI_STATUS]);
	pci_le16_put(&d->cfg[PCI_STATUS], status | PCI_STATUS_CAP_LIST);
	return (int)off;
}

int pci_cap_set_write_hook(struct pci_dev *d, uint8_t cap_off, pci_cap_write_fn *fn, void *opaque)
{
	unsigned int i;

	for (i = 0; i < d->nr_caps; i++) {
		if (d->caps[i].off == cap_off) {
			d->caps[i].write = fn;
			d->caps[i].opaque = opaque;
			return 0;
		}
	}
	return -ENOENT;
}

uint8_t pci_cap_find(const struct pci_dev *d, uint8_t id)
{
	unsigned int i;

	for (i = 0; i < d->nr_caps; i++)
		if (d->caps[i].id == id)
			return d->caps[i].off;
	return 0;
}

static bool access_ok(uint32_t off, unsigned int size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	return off < PCI_CFG_SPACE_SIZE && off + size <= PCI_CFG_SPACE_SIZE;
}

static bool overlaps(uint32_t off, unsigned int size, uint32_t start, uint32_t len)
{
	return off < start + len && start < off + size;
}

uint32_t pci_config_read(struct pci_dev *d, uint32_t off, unsigned int size)
{
	uint32_t val = 0;
	unsigned int i;

	if (!access_ok(off, size))
		return ~0u;
	for (i = 0; i < size; i++) {
		uint8_t byte = d->cfg[off + i];

		if (off + i == PCI_STATUS) /* INTERRUPT: the pending INTx, masked or not */
			byte = (uint8_t)((byte & ~PCI_STATUS_INTERRUPT) |
					 (__atomic_load_n(&d->intx_level, __ATOMIC_SEQ_CST)
					      ? PCI_STATUS_INTERRUPT
					      : 0));
		val |= (uint32_t)byte << (8 * i);
	}
	if (d->config_read)
		val = d->config_read(d, off, size, val);
	return val;
}

void pci_config_write(struct pci_dev *d, uint32_t off, unsigned int size, uint32_t val)
{
	unsigned int i;

	if (!access_ok(off, size))
		return;
	for (i = 0; i < size; i++) {
		uint32_t pos = off + i;
		uint8_t byte = (uint8_t)(val >> (8 * i));
		uint8_t wm = d->wmask[pos], w1c = d->w1cmask[pos];

		d->cfg[pos] = (uint8_t)((d->cfg[pos] & ~wm) | (byte & wm));
		d->cfg[pos] &= (uint8_t) ~(byte & w1c);
	}

	if (overlaps(off, size, PCI_COMMAND, 2) || overlaps(off, size, PCI_BAR0, 4 * PCI_NUM_BARS))
		pci_dev_update_bars(d);
	if (overlaps(off, size, PCI_COMMAND, 2)) {
		bool masked = pci_le16_get(&d->cfg[PCI_COMMAND]) & PCI_COMMAND_INTX_DISABLE;

		if (masked != __atomic_load_n(&d->intx_masked, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&d->intx_masked, masked, __ATOMIC_SEQ_CST);
			intx_update(d);
		}
	}

	for (i = 0; i < d->nr_caps; i++) {
		const struct pci_cap *c = &d->caps[i];

		if (c->write && overlaps(off, size, c->off, c->len))
			c->write(c->opaque, d, off, size, val);
	}
	if (d->config_write)
		d->config_write(d, off, size, val);
}

void pci_dev_save(const struct pci_dev *d, struct pci_dev_state *s)
{
	memcpy(s->cfg, d->cfg, sizeof(s->cfg));
}

int pci_dev_state_check(const struct pci_dev *d, const struct pci_dev_state *s, uint32_t *off)
{
	uint32_t i;

	for (i = 0; i < PCI_CFG_SPACE_SIZE; i++) {
		/* writable bits may hold anything; a write-1-to-clear bit set now may be clear */
		uint8_t fixed = (uint8_t)~d->wmask[i];
		uint8_t now = d->cfg[i] & fixed, saved = s->cfg[i] & fixed;
		uint8_t cleared = now & ~saved & d->w1cmask[i];

		if (!((now ^ saved) & ~cleared))
			continue;
		*off = i;
		return -EINVAL;
	}
	return 0;
}

int pci_dev_restore(struct pci_dev *d, const struct pci_dev_state *s, int *bar)
{
	uint64_t failures = d->bar_map_failures;
	uint16_t cmd = pci_le16_get(&s->cfg[PCI_COMMAND]);
	unsigned int i;

	for (i = 0; i < PCI_CFG_SPACE_SIZE; i++) {
		if (i == PCI_COMMAND || i == PCI_COMMAND + 1)
			continue; /* written last, below */
		d->cfg[i] = (uint8_t)((d->cfg[i] & ~d->wmask[i]) | (s->cfg[i] & d->wmask[i]));
		d->cfg[i] &= (uint8_t) ~(~s->cfg[i] & d->w1cmask[i]);
	}
	/* the hooks read their registers from cfg: a write of what is there replays them */
	for (i = 0; i < d->nr_caps; i++)
		pci_config_write(d, d->caps[i].off, 4, pci_le32_get(&d->cfg[d->caps[i].off]));
	for (i = 0; i < PCI_NUM_BARS; i++)
		pci_config_write(d, PCI_BAR0 + 4 * i, 4, pci_le32_get(&d->cfg[PCI_BAR0 + 4 * i]));
	pci_config_write(d, PCI_COMMAND, 2, cmd);
	if (d->bar_map_failures == failures)
		return 0;
	for (i = 0; i < PCI_NUM_BARS; i++) {
		if (d->bar[i].size && !d->bar[i].mapped && bar_target(d, (int)i)) {
			*bar = (int)i;
			return -EBUSY;
		}
	}
	return 0;
}
