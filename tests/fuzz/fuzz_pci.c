// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PCI host bridge of bus 0 with real virtio devices behind it, driven
 * as a guest drives them: a virtio-blk on a memfd image, a virtio-net on a
 * socket pair standing for its TAP, and three virtio-rng (slot 5 shares its
 * INTx line with slot 1). The input is a sequence of steps: configuration
 * reads and writes through the ECAM window and ports 0xcf8/0xcfc, BAR 0
 * reads and writes at wherever the guest placed it (a doorbell write that
 * hits a registered ioeventfd signals it, as KVM would), guest RAM writes
 * (rings and requests), turns of the I/O thread, host events (link changes,
 * a disk's image resized and swapped, packets from the network), and short
 * cuts a driver takes: placing BAR 0, writing a common configuration
 * register, setting up a queue, an MSI-X entry or control, the
 * VIRTIO_PCI_CAP_PCI_CFG window, a whole driver bring-up. The first byte
 * picks the platform: irqfd and ioeventfd missing (-ENOSYS) or MSI routes
 * refused, which petrel must survive.
 *
 * The platform is a fake that checks every call as KVM would and more: no
 * two ioeventfds at one address, no deassignment of what is not assigned,
 * routes only for interrupt addresses, irqfds only on live routes. After
 * every register access the harness checks:
 * - device status: no bit is cleared but by a reset (status 0); FEATURES_OK
 *   only with VERSION_1 and offered features, which then stay fixed; a
 *   reset leaves no queue enabled, no doorbell, no feature, MSI-X off;
 * - BAR 0 claimed on the MMIO bus exactly where COMMAND and the BAR say;
 * - doorbells: each enabled queue of a device whose BAR 0 decodes has its
 *   ioeventfd at BAR 0 + 0x3000 + 4 * queue, and there are no others (none
 *   while memory decoding is off, none at another device's address);
 * - MSI-X: routes only while MSI-X is enabled, each owned by one vector and
 *   saying what the vector's entry said when it was set; an irqfd only on a
 *   deliverable vector's route; no route or irqfd left over; no message
 *   (irqfd or send_msi) while COMMAND's Bus Master Enable is clear;
 * - INTx: each shared GSI is the OR of its devices' lines, and a device
 *   with MSI-X enabled does not assert its own;
 * - configuration reads give no more bits than asked for; the IDs and the
 *   capability list stay as the device made them; a live queue's size and
 *   ring addresses do not change.
 * At the end every device is destroyed: no route, irqfd, ioeventfd or
 * watched fd may remain.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "bus/bus.h"
#include "fuzz_input.h"
#include "mem/guest_mem.h"
#include "pci/msix.h"
#include "pci/pci_host.h"
#include "virtio/tap.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (1024ULL * 1024)
#define IMG_SIZE (64 * 1024)
#define NR_DEVS 5
#define NR_GSI 24
#define GSI_ROUTE_BASE 24
#define MAX_ROUTES 64
#define MAX_IRQFDS 64
#define MAX_IOEVENTFDS 64
#define MAX_WATCH 32
#define MAX_STEPS 2048

/* Common configuration registers (virtio 1.2, 4.1.4.3) and their widths */
static const struct {
	uint8_t off, width;
} cc_regs[] = {
    {0x00, 4}, {0x04, 4}, {0x08, 4}, {0x0c, 4}, {0x10, 2}, {0x12, 2}, {0x14, 1},
    {0x15, 1}, {0x16, 2}, {0x18, 2}, {0x1a, 2}, {0x1c, 2}, {0x1e, 2}, {0x20, 4},
    {0x24, 4}, {0x28, 4}, {0x2c, 4}, {0x30, 4}, {0x34, 4},
};
#define NR_CC_REGS (sizeof(cc_regs) / sizeof(cc_regs[0]))
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX_CONFIG 0x10
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX_VECTOR 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_DESC_LO 0x20
#define CC_Q_DRIVER_LO 0x28
#define CC_Q_DEVICE_LO 0x30

struct dev_seen {
	uint8_t status;
	uint64_t features;
	struct {
		bool enabled;
		uint16_t size;
		uint64_t desc, driver, device;
	} q[VIRTIO_PCI_MAX_QUEUES]; /* as the queue was when enabled */
};

struct harness {
	struct bus pio, mmio;
	struct guest_mem gm;
	struct pci_host host;
	struct platform plat;
	struct virtio_io io;
	struct virtio_blk blk;
	struct virtio_net net;
	struct virtio_rng rng[3];
	struct virtio_pci *vp[NR_DEVS];
	struct dev_seen seen[NR_DEVS];
	bool host_up;

	/* what the platform was told */
	bool no_irqfd, no_ioeventfd, routes_fail;
	int level[NR_GSI];
	struct {
		bool used;
		uint64_t addr;
		uint32_t data;
	} route[MAX_ROUTES];
	struct {
		int efd, gsi;
	} irqfd[MAX_IRQFDS];
	unsigned int nr_irqfds;
	struct {
		uint64_t addr;
		int efd;
	} ioev[MAX_IOEVENTFDS];
	unsigned int nr_ioev;
	struct {
		int fd;
		void (*fn)(void *opaque, int fd, uint32_t events);
		void *opaque;
	} watch[MAX_WATCH];
	unsigned int nr_watch;
};

static struct harness h;
static int img_fd = -1;
static char img_path[64];
static int tap_peer = -1;

/* ---- the TAP: one end of a socket pair, the harness plays the network ---- */

int tap_open(const char *name, const char **what)
{
	int sv[2];

	*what = "socketpair";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	tap_peer = sv[1];
	return sv[0];
}

int tap_set_offload(int fd, unsigned int offloads)
{
	return 0;
}

void tap_close(int fd)
{
	close(fd);
}

/* a TAP handed over by a migration: never in these harnesses */
int tap_adopt(int fd, const char *name)
{
	(void)fd;
	(void)name;
	return -ENODEV;
}

/* ---- the platform ---- */

static void f_set_irq(void *ctx, unsigned int gsi, int level)
{
	fuzz_check(gsi < NR_GSI && (level == 0 || level == 1));
	h.level[gsi] = level;
}

/* An interrupt address: 0xfeexxxxx (the high dword carries x2APIC destination bits) */
static bool msi_addr_ok(uint64_t addr)
{
	return ((uint32_t)addr & 0xfff00000u) == 0xfee00000u;
}

static int f_route_set(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	unsigned int i;

	fuzz_check(msi_addr_ok(addr));
	if (*gsi >= 0) {
		i = (unsigned int)*gsi - GSI_ROUTE_BASE;
		fuzz_check(*gsi >= GSI_ROUTE_BASE && i < MAX_ROUTES && h.route[i].used);
	} else {
		if (h.routes_fail)
			return -ENOSPC;
		for (i = 0; i < MAX_ROUTES && h.route[i].used; i++)
			;
		if (i == MAX_ROUTES)
			return -ENOSPC;
		h.route[i].used = true;
		*gsi = (int)(GSI_ROUTE_BASE + i);
	}
	h.route[i].addr = addr;
	h.route[i].data = data;
	return 0;
}

static void f_route_release(void *ctx, int gsi)
{
	unsigned int i = (unsigned int)gsi - GSI_ROUTE_BASE, j;

	fuzz_check(gsi >= GSI_ROUTE_BASE && i < MAX_ROUTES && h.route[i].used);
	for (j = 0; j < h.nr_irqfds; j++) /* KVM would keep injecting through it */
		fuzz_check(h.irqfd[j].gsi != gsi);
	h.route[i].used = false;
}

static int f_irqfd_set(void *ctx, int efd, int gsi, bool assign)
{
	unsigned int i;

	if (h.no_irqfd)
		return -ENOSYS;
	for (i = 0; i < h.nr_irqfds; i++)
		if (h.irqfd[i].efd == efd)
			break;
	if (!assign) {
		fuzz_check(i < h.nr_irqfds && h.irqfd[i].gsi == gsi);
		h.irqfd[i] = h.irqfd[--h.nr_irqfds];
		return 0;
	}
	fuzz_check(i == h.nr_irqfds); /* bound once */
	fuzz_check(gsi >= GSI_ROUTE_BASE && gsi < GSI_ROUTE_BASE + MAX_ROUTES &&
		   h.route[gsi - GSI_ROUTE_BASE].used);
	fuzz_check(h.nr_irqfds < MAX_IRQFDS);
	h.irqfd[h.nr_irqfds].efd = efd;
	h.irqfd[h.nr_irqfds].gsi = gsi;
	h.nr_irqfds++;
	return 0;
}

/* A message some vector of a bus-mastering device with MSI-X on says to send. */
FUZZ_NOCOV static bool msi_of_master(uint64_t addr, uint32_t data)
{
	unsigned int i, v;

	for (i = 0; i < NR_DEVS; i++) {
		const struct msix *x = &h.vp[i]->msix;

		if (!x->enabled || !pci_dev_bus_master(x->dev))
			continue;
		for (v = 0; v < x->nvec; v++)
			if (((uint64_t)x->vec[v].addr_hi << 32 | x->vec[v].addr_lo) == addr &&
			    x->vec[v].data == data)
				return true;
	}
	return false;
}

static int f_send_msi(void *ctx, uint64_t addr, uint32_t data)
{
	fuzz_check(msi_addr_ok(addr));
	fuzz_check(msi_of_master(addr, data));
	return 0;
}

static int f_ioeventfd_set(void *ctx, uint64_t addr, unsigned int len, int efd, bool mmio,
			   bool assign)
{
	unsigned int i;

	if (h.no_ioeventfd)
		return -ENOSYS;
	fuzz_check(len == 2 && mmio);
	for (i = 0; i < h.nr_ioev; i++)
		if (h.ioev[i].addr == addr)
			break;
	if (!assign) {
		fuzz_check(i < h.nr_ioev && h.ioev[i].efd == efd);
		h.ioev[i] = h.ioev[--h.nr_ioev];
		return 0;
	}
	/* two doorbells at one address: BARs overlap, or one was left behind */
	fuzz_check(i == h.nr_ioev);
	fuzz_check(h.nr_ioev < MAX_IOEVENTFDS);
	h.ioev[h.nr_ioev].addr = addr;
	h.ioev[h.nr_ioev].efd = efd;
	h.nr_ioev++;
	return 0;
}

static const struct platform_ops f_ops = {
    .set_irq = f_set_irq,
    .msi_route_set = f_route_set,
    .msi_route_release = f_route_release,
    .irqfd_set = f_irqfd_set,
    .send_msi = f_send_msi,
    .ioeventfd_set = f_ioeventfd_set,
};

static int f_watch(void *ctx, int fd, void (*fn)(void *opaque, int fd, uint32_t events),
		   void *opaque)
{
	unsigned int i;

	for (i = 0; i < h.nr_watch; i++)
		fuzz_check(h.watch[i].fd != fd); /* epoll says EEXIST */
	fuzz_check(h.nr_watch < MAX_WATCH);
	h.watch[h.nr_watch].fd = fd;
	h.watch[h.nr_watch].fn = fn;
	h.watch[h.nr_watch].opaque = opaque;
	h.nr_watch++;
	return 0;
}

static void f_unwatch(void *ctx, int fd)
{
	unsigned int i;

	for (i = 0; i < h.nr_watch; i++) {
		if (h.watch[i].fd == fd) {
			h.watch[i] = h.watch[--h.nr_watch];
			return;
		}
	}
	fuzz_check(!"unwatch of an fd not watched");
}

/* ---- the invariants ---- */

FUZZ_NOCOV static uint64_t offered(const struct virtio_pci *vp)
{
	return vp->ops->features | (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC) |
	       (1ULL << VIRTIO_F_EVENT_IDX);
}

FUZZ_NOCOV static uint64_t bar0_programmed(const struct pci_dev *d)
{
	return (pci_le32_get(&d->cfg[PCI_BAR0]) & ~0xfu) |
	       (uint64_t)pci_le32_get(&d->cfg[PCI_BAR0 + 4]) << 32;
}

FUZZ_NOCOV static bool ioev_at(uint64_t addr, int efd)
{
	unsigned int i;

	for (i = 0; i < h.nr_ioev; i++)
		if (h.ioev[i].addr == addr)
			return h.ioev[i].efd == efd;
	return false;
}

FUZZ_NOCOV static bool irqfd_bound(int efd, int gsi)
{
	unsigned int i;

	for (i = 0; i < h.nr_irqfds; i++)
		if (h.irqfd[i].efd == efd)
			return h.irqfd[i].gsi == gsi;
	return false;
}

FUZZ_NOCOV static void check_status(unsigned int i)
{
	struct virtio_pci *vp = h.vp[i];
	struct dev_seen *s = &h.seen[i];
	uint8_t st = vp->status;
	unsigned int q, v;

	if (s->status & ~st) {
		/* only a reset clears a bit, and a reset leaves nothing behind */
		fuzz_check(st == 0);
		fuzz_check(vp->guest_features == 0);
		fuzz_check(!vp->msix.enabled);
		for (q = 0; q < vp->ops->nr_queues; q++)
			fuzz_check(!vp->q[q].enabled && !vp->q[q].ioeventfd);
		for (v = 0; v < vp->msix.nvec; v++)
			fuzz_check(vp->msix.vec[v].gsi < 0 && !vp->msix.vec[v].bound);
	}
	if (st & VIRTIO_STATUS_FEATURES_OK) {
		fuzz_check(!(vp->guest_features & ~offered(vp)));
		fuzz_check(virtio_pci_has_feature(vp, VIRTIO_F_VERSION_1));
		if (s->status & VIRTIO_STATUS_FEATURES_OK)
			fuzz_check(vp->guest_features == s->features);
	}
	s->status = st;
	s->features = vp->guest_features;
	/* a live queue's size and rings are the driver's no more */
	for (q = 0; q < vp->ops->nr_queues; q++) {
		const struct virtio_pci_queue *vq = &vp->q[q];

		if (vq->enabled && s->q[q].enabled)
			fuzz_check(vq->size == s->q[q].size && vq->desc == s->q[q].desc &&
				   vq->driver == s->q[q].driver && vq->device == s->q[q].device);
		s->q[q].enabled = vq->enabled;
		s->q[q].size = vq->size;
		s->q[q].desc = vq->desc;
		s->q[q].driver = vq->driver;
		s->q[q].device = vq->device;
	}
}

/* The header's identity and the capability list: what the guest cannot change. */
FUZZ_NOCOV static void check_header(unsigned int i)
{
	const struct pci_dev *d = &h.vp[i]->pci;
	uint8_t p = d->cfg[PCI_CAP_PTR];
	unsigned int c;

	fuzz_check(pci_le16_get(&d->cfg[PCI_VENDOR_ID]) == 0x1af4);
	fuzz_check(pci_le16_get(&d->cfg[PCI_DEVICE_ID]) == 0x1040 + h.vp[i]->ops->device_id);
	fuzz_check(d->cfg[PCI_HEADER_TYPE] == 0 && d->cfg[PCI_INTERRUPT_PIN] == 1);
	for (c = 0; c < d->nr_caps; c++) {
		fuzz_check(p == d->caps[c].off && d->cfg[p] == d->caps[c].id);
		p = d->cfg[p + 1];
	}
	fuzz_check(p == 0);
}

FUZZ_NOCOV static void check_bar_and_doorbells(unsigned int i, unsigned int *owned)
{
	struct virtio_pci *vp = h.vp[i];
	const struct pci_bar *b = &vp->pci.bar[0];
	bool mem = pci_le16_get(&vp->pci.cfg[PCI_COMMAND]) & PCI_COMMAND_MEM;
	unsigned int q;

	if (b->mapped) {
		const struct bus_range *r = bus_find(&h.mmio, b->addr);

		fuzz_check(mem);
		fuzz_check(b->addr == bar0_programmed(&vp->pci));
		fuzz_check(r && r->base == b->addr && r->len == b->size && r->opaque == vp);
	}
	for (q = 0; q < vp->ops->nr_queues; q++) {
		const struct virtio_pci_queue *vq = &vp->q[q];
		uint64_t at = b->addr + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT;

		if (vq->ioeventfd) {
			fuzz_check(vq->enabled && b->mapped && mem);
			fuzz_check(vq->ioeventfd_addr == at);
			fuzz_check(ioev_at(at, vq->notify_efd));
			(*owned)++;
		} else if (vq->enabled && b->mapped && !h.no_ioeventfd) {
			fuzz_check(!"a live queue of a decoding BAR 0 has no doorbell");
		}
	}
}

FUZZ_NOCOV static void check_msix(unsigned int i, unsigned int *routes, unsigned int *irqfds)
{
	struct msix *x = &h.vp[i]->msix;
	uint16_t ctrl = pci_le16_get(&x->dev->cfg[x->cap + MSIX_CAP_CTRL]);
	unsigned int v;

	fuzz_check(x->enabled == !!(ctrl & MSIX_CTRL_ENABLE));
	/* MSI-X on: the function does not use its INTx pin */
	fuzz_check(!x->enabled || !__atomic_load_n(&x->dev->intx_level, __ATOMIC_SEQ_CST));
	fuzz_check(x->fmask == !!(ctrl & MSIX_CTRL_FMASK));
	for (v = 0; v < x->nvec; v++) {
		const struct msix_vector *mv = &x->vec[v];
		uint64_t sent = 0;

		/* what went out through the irqfd since the last look: not with bus mastering off
		 */
		if (read(mv->efd, &sent, sizeof(sent)) == sizeof(sent))
			fuzz_check(!sent || pci_dev_bus_master(x->dev));
		uint64_t addr = (uint64_t)mv->addr_hi << 32 | mv->addr_lo;
		bool deliverable = x->enabled && !x->fmask && !(mv->ctrl & MSIX_ENTRY_CTRL_MASKED);

		if (mv->gsi >= 0) {
			unsigned int r = (unsigned int)mv->gsi - GSI_ROUTE_BASE;

			fuzz_check(x->enabled);
			fuzz_check(r < MAX_ROUTES && h.route[r].used);
			fuzz_check(h.route[r].addr == mv->route_addr &&
				   h.route[r].data == mv->route_data);
			(*routes)++;
		}
		if (mv->bound) {
			fuzz_check(deliverable && msi_addr_ok(addr));
			fuzz_check(mv->route_addr == addr && mv->route_data == mv->data);
			fuzz_check(irqfd_bound(mv->efd, mv->gsi));
			(*irqfds)++;
		} else if (deliverable && msi_addr_ok(addr) && !h.no_irqfd && !h.routes_fail) {
			fuzz_check(!"a deliverable vector without its irqfd");
		}
	}
}

FUZZ_NOCOV static void check_all(void)
{
	unsigned int i, gsi, owned = 0, routes = 0, irqfds = 0, used = 0;

	for (i = 0; i < NR_DEVS; i++) {
		check_status(i);
		check_header(i);
		check_bar_and_doorbells(i, &owned);
		check_msix(i, &routes, &irqfds);
	}
	/* every registration has its owner: none left behind, none elsewhere */
	fuzz_check(owned == h.nr_ioev);
	for (i = 0; i < MAX_ROUTES; i++)
		used += h.route[i].used;
	fuzz_check(routes == used);
	fuzz_check(irqfds == h.nr_irqfds);
	for (gsi = PCI_HOST_INTX_GSI_BASE; gsi < PCI_HOST_INTX_GSI_BASE + 4; gsi++) {
		bool level = false;

		for (i = 0; i < NR_DEVS; i++)
			if (h.host.slot_gsi[PCI_SLOT(h.vp[i]->pci.devfn)] == gsi)
				level |= pci_intx_output(&h.vp[i]->pci);
		fuzz_check(h.level[gsi] == level);
	}
}

/* ---- the guest's accesses ---- */

static uint64_t ecam_addr(unsigned int devfn, uint32_t reg)
{
	return X86_ECAM_ADDR + ((uint64_t)devfn << 12) + (reg & 0xfff);
}

static uint32_t cfg_read(unsigned int devfn, uint32_t reg, unsigned int size)
{
	uint64_t v;

	bus_read(&h.mmio, ecam_addr(devfn, reg), size, &v);
	/* a function that answers gives no more bits than asked for */
	if (size < 4 && !(reg & (size - 1)) && PCI_SLOT(devfn) <= NR_DEVS && !PCI_FUNC(devfn))
		fuzz_check(v < (1ULL << (8 * size)));
	check_all();
	return (uint32_t)v;
}

static void cfg_write(unsigned int devfn, uint32_t reg, unsigned int size, uint32_t val)
{
	bus_write(&h.mmio, ecam_addr(devfn, reg), size, val);
	check_all();
}

static unsigned int devfn_of(unsigned int i)
{
	return h.vp[i]->pci.devfn;
}

/* A guest MMIO write: a registered doorbell takes it without an exit. */
static void mmio_write(uint64_t addr, unsigned int size, uint64_t val)
{
	unsigned int i;
	uint64_t one = 1;

	for (i = 0; i < h.nr_ioev; i++) {
		if (h.ioev[i].addr == addr && size == 2) {
			if (write(h.ioev[i].efd, &one, sizeof(one)) < 0) {
				/* saturated: still signalled */
			}
			check_all();
			return;
		}
	}
	bus_write(&h.mmio, addr, size, val);
	check_all();
}

static uint64_t mmio_read(uint64_t addr, unsigned int size)
{
	uint64_t v;

	bus_read(&h.mmio, addr, size, &v);
	check_all();
	return v;
}

static uint64_t bar0_of(unsigned int i)
{
	return bar0_programmed(&h.vp[i]->pci);
}

static void cc_write(unsigned int i, unsigned int reg, uint32_t val)
{
	mmio_write(bar0_of(i) + cc_regs[reg % NR_CC_REGS].off, cc_regs[reg % NR_CC_REGS].width,
		   val);
}

static void cc_write_off(unsigned int i, uint8_t off, unsigned int width, uint32_t val)
{
	mmio_write(bar0_of(i) + off, width, val);
}

static void place_bar(unsigned int i, uint8_t idx, uint8_t flags)
{
	uint64_t addr = X86_PCI_MMIO_START + (uint64_t)idx * 0x4000;
	uint16_t cmd = PCI_COMMAND_MEM | PCI_COMMAND_MASTER;

	if (flags & 1)
		addr += 1ULL << 32;
	if (flags & 2)
		cmd |= PCI_COMMAND_INTX_DISABLE;
	if (flags & 4)
		cmd &= (uint16_t)~PCI_COMMAND_MASTER;
	cfg_write(devfn_of(i), PCI_BAR0, 4, (uint32_t)addr);
	cfg_write(devfn_of(i), PCI_BAR0 + 4, 4, (uint32_t)(addr >> 32));
	cfg_write(devfn_of(i), PCI_COMMAND, 2, cmd);
}

/* Rings of queue q of device i, apart from every other queue's. */
static uint64_t ring_base(unsigned int i, unsigned int q)
{
	return 0x10000 + (uint64_t)(i * 4 + q) * 0x8000;
}

static void setup_queue(unsigned int i, unsigned int q, uint16_t size, uint64_t base,
			uint16_t vector)
{
	cc_write_off(i, CC_Q_SELECT, 2, q);
	cc_write_off(i, CC_Q_SIZE, 2, size);
	cc_write_off(i, CC_Q_MSIX_VECTOR, 2, vector);
	cc_write_off(i, CC_Q_DESC_LO, 4, (uint32_t)base);
	cc_write_off(i, CC_Q_DRIVER_LO, 4, (uint32_t)(base + 0x2000));
	cc_write_off(i, CC_Q_DEVICE_LO, 4, (uint32_t)(base + 0x4000));
	cc_write_off(i, CC_Q_ENABLE, 2, 1);
}

static void msix_entry(unsigned int i, unsigned int vec, uint32_t addr, uint32_t data, bool masked)
{
	uint64_t e = bar0_of(i) + VIRTIO_PCI_MSIX_TABLE_OFF + (uint64_t)vec * MSIX_ENTRY_SIZE;

	mmio_write(e + MSIX_ENTRY_ADDR_LO, 4, addr);
	mmio_write(e + MSIX_ENTRY_ADDR_HI, 4, 0);
	mmio_write(e + MSIX_ENTRY_DATA, 4, data);
	mmio_write(e + MSIX_ENTRY_CTRL, 4, masked);
}

static void msix_ctrl(unsigned int i, uint16_t ctrl)
{
	struct virtio_pci *vp = h.vp[i];

	cfg_write(devfn_of(i), vp->msix.cap + MSIX_CAP_CTRL, 2, ctrl);
}

/* What a Linux driver does from reset to DRIVER_OK, MSI-X on when asked. */
static void bring_up(unsigned int i, uint8_t flags, uint8_t bar_idx)
{
	struct virtio_pci *vp = h.vp[i];
	uint64_t f = offered(vp);
	unsigned int q;

	place_bar(i, bar_idx, 0);
	cc_write_off(i, CC_STATUS, 1, 0);
	cc_write_off(i, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	cc_write_off(i, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	if (flags & 1) {
		for (q = 0; q <= vp->ops->nr_queues; q++)
			msix_entry(i, q, 0xfee00000u | (q << 12), 0x4000 + q + i * 16, false);
		msix_ctrl(i, MSIX_CTRL_ENABLE);
	}
	cc_write_off(i, CC_GFSELECT, 4, 0);
	cc_write_off(i, CC_GF, 4, (uint32_t)f & ((flags & 2) ? ~0u : ~(1u << VIRTIO_F_EVENT_IDX)));
	cc_write_off(i, CC_GFSELECT, 4, 1);
	cc_write_off(i, CC_GF, 4, (uint32_t)(f >> 32));
	cc_write_off(i, CC_STATUS, 1,
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (flags & 1)
		cc_write_off(i, CC_MSIX_CONFIG, 2, 0);
	for (q = 0; q < vp->ops->nr_queues; q++)
		setup_queue(i, q, 16, ring_base(i, q), (flags & 1) ? (uint16_t)(q + 1) : 0xffff);
	cc_write_off(i, CC_STATUS, 1,
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
			 VIRTIO_STATUS_DRIVER_OK);
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: point it, then read or write its data. */
static void cfg_window(unsigned int i, uint8_t bar, uint32_t off, uint8_t len, bool write,
		       uint32_t val, unsigned int size)
{
	unsigned int devfn = devfn_of(i);
	uint8_t cap = h.vp[i]->pci_cfg_cap;

	cfg_write(devfn, cap + VIRTIO_PCI_CFG_CAP_BAR, 1, bar);
	cfg_write(devfn, cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4, off);
	cfg_write(devfn, cap + VIRTIO_PCI_CFG_CAP_LENGTH, 4, len);
	if (write)
		cfg_write(devfn, cap + VIRTIO_PCI_CFG_CAP_DATA, size, val);
	else
		cfg_read(devfn, cap + VIRTIO_PCI_CFG_CAP_DATA, size);
}

/* One turn of the I/O thread: every watched fd that is ready gets its handler. */
static void io_turn(void)
{
	struct pollfd pfd[MAX_WATCH];
	unsigned int i, n = h.nr_watch;

	for (i = 0; i < n; i++)
		pfd[i] = (struct pollfd){.fd = h.watch[i].fd, .events = POLLIN};
	if (poll(pfd, n, 0) <= 0)
		return;
	for (i = 0; i < n; i++) {
		unsigned int w;

		if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		/* an earlier handler may have unwatched it */
		for (w = 0; w < h.nr_watch; w++) {
			if (h.watch[w].fd == pfd[i].fd) {
				h.watch[w].fn(h.watch[w].opaque, pfd[i].fd, POLLIN);
				break;
			}
		}
		check_all();
	}
}

/* ---- the machine ---- */

static int setup(uint8_t platform_flags)
{
	struct virtio_blk_config_opts bo = {.path = img_path, .serial = "fuzz-disk"};
	struct virtio_net_config_opts no;
	unsigned int i;

	memset(&h, 0, sizeof(h));
	h.no_irqfd = platform_flags & 1;
	h.no_ioeventfd = platform_flags & 2;
	h.routes_fail = platform_flags & 4;
	bo.readonly = platform_flags & 8;
	h.plat.ops = &f_ops;
	h.plat.ctx = &h;
	h.io = (struct virtio_io){.watch = f_watch, .unwatch = f_unwatch, .ctx = &h};
	gm_init(&h.gm);
	if (img_fd < 0) {
		img_fd = memfd_create("petrel-fuzz-disk", MFD_CLOEXEC);
		if (img_fd < 0)
			return -1;
		snprintf(img_path, sizeof(img_path), "/proc/self/fd/%d", img_fd);
	}
	/* the same image every time: what one input wrote is gone */
	if (ftruncate(img_fd, 0) < 0 || ftruncate(img_fd, IMG_SIZE) < 0)
		return -1;
	if (bus_init(&h.pio, "pio") || bus_init(&h.mmio, "mmio") ||
	    gm_add_region(&h.gm, "ram", 0, RAM_SIZE) < 0 || pci_host_init(&h.host, &h.pio, &h.mmio))
		return -1;
	h.host_up = true;
	if (pci_host_register(&h.host, X86_ECAM_ADDR) < 0)
		return -1;
	if (virtio_blk_init(&h.blk, &bo, &h.gm, &h.plat, &h.io) < 0)
		return -1;
	if (virtio_net_parse("tap=fuzz0,mac=52:54:00:12:34:56", &no) < 0 ||
	    virtio_net_init(&h.net, &no, &h.gm, &h.plat, &h.io) < 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (virtio_rng_init(&h.rng[i], &h.gm, &h.plat, &h.io) < 0)
			return -1;
	h.vp[0] = &h.blk.vp;
	h.vp[1] = &h.rng[0].vp;
	h.vp[2] = &h.net.vp;
	h.vp[3] = &h.rng[1].vp;
	h.vp[4] = &h.rng[2].vp;
	for (i = 0; i < NR_DEVS; i++) {
		int slot = pci_host_plug(&h.host, &h.vp[i]->pci);

		if (slot < 0)
			return -1;
		virtio_pci_plugged(h.vp[i], pci_host_intx_gsi(&h.host, (unsigned int)slot));
	}
	return 0;
}

static void teardown(void)
{
	unsigned int i;

	if (h.host_up)
		pci_host_destroy(&h.host);
	virtio_blk_destroy(&h.blk);
	virtio_net_destroy(&h.net);
	for (i = 0; i < 3; i++)
		if (h.rng[i].vp.ops)
			virtio_rng_destroy(&h.rng[i]);
	if (tap_peer >= 0)
		close(tap_peer);
	tap_peer = -1;
	gm_destroy(&h.gm);
	bus_destroy(&h.pio);
	bus_destroy(&h.mmio);
	/* nothing left registered with the machine */
	fuzz_check(h.nr_ioev == 0 && h.nr_irqfds == 0 && h.nr_watch == 0);
	for (i = 0; i < MAX_ROUTES; i++)
		fuzz_check(!h.route[i].used);
}

static void step(struct fuzz_in *in)
{
	uint8_t op = fuzz_u8(in), fl = op >> 4;
	unsigned int i = fuzz_u8(in) % NR_DEVS;
	unsigned int size = fuzz_size(fl, 4), devfn;
	uint32_t reg, v32;
	uint64_t off, v64;
	const uint8_t *p;
	uint8_t buf[256];
	size_t n;

	switch (op & 0xf) {
	case 0: /* configuration read: one of ours, or any devfn */
	case 1:
		devfn = (fl & 8) ? fuzz_u8(in) : devfn_of(i);
		reg = fuzz_u16(in) & 0xfff;
		if (op & 1)
			cfg_write(devfn, reg, size, fuzz_u32(in));
		else
			cfg_read(devfn, reg, size);
		break;
	case 2: /* mechanism #1 */
		if (fl & 8) {
			bus_write(&h.pio, PCI_HOST_CONFIG_ADDRESS, 4,
				  0x80000000u | (uint32_t)devfn_of(i) << 8 | (fuzz_u8(in) & 0xfc));
		} else if (fl & 4) {
			bus_write(&h.pio, PCI_HOST_CONFIG_ADDRESS + (fl & 3), size, fuzz_u32(in));
		} else {
			off = PCI_HOST_CONFIG_DATA + (fuzz_u8(in) & 3);
			if (fl & 1) {
				bus_write(&h.pio, off, size, fuzz_u32(in));
			} else {
				bus_read(&h.pio, off, size, &v64);
				if (size < 4 && !(off & (size - 1)))
					fuzz_check(v64 < (1ULL << (8 * size)) ||
						   v64 == 0xffffffffu);
			}
		}
		check_all();
		break;
	case 3: /* BAR 0 read */
		off = fuzz_u16(in) & (VIRTIO_PCI_BAR_SIZE - 1);
		mmio_read(bar0_of(i) + off, fuzz_size(fl, 8));
		break;
	case 4: /* BAR 0 write */
		off = fuzz_u16(in) & (VIRTIO_PCI_BAR_SIZE - 1);
		size = fuzz_size(fl, 8);
		v64 = (fl & 4) ? fuzz_u8(in) : fuzz_u64(in);
		mmio_write(bar0_of(i) + off, size, v64);
		break;
	case 5: /* place BAR 0, decoding on */
		place_bar(i, fuzz_u8(in), fl);
		break;
	case 6: /* a common configuration register */
		reg = fuzz_u8(in);
		cc_write(i, reg, (fl & 8) ? fuzz_u32(in) : fuzz_u8(in));
		break;
	case 7: /* a queue: size, vector, rings in RAM (or anywhere) */
		reg = fuzz_u8(in);
		v32 = fuzz_u16(in);
		off = (fl & 8) ? fuzz_u32(in) : ring_base(i, reg & 1);
		setup_queue(i, reg & 7, (uint16_t)v32, off, (fl & 4) ? 0xffff : (reg >> 4) & 3);
		break;
	case 8: /* guest RAM: rings and requests */
		off = fuzz_u32(in) % RAM_SIZE;
		p = fuzz_bytes(in, fuzz_u8(in) % 64, &n);
		gm_write(&h.gm, off < RAM_SIZE - n ? off : RAM_SIZE - n, p, n);
		break;
	case 9:
		io_turn();
		break;
	case 10: /* the PCI_CFG window: length, BAR, offset, then a read or a write */
		reg = fuzz_u8(in);
		v32 = fuzz_u32(in);
		cfg_window(i, (reg & 8) ? (uint8_t)(reg >> 4) : 0, (fl & 4) ? v32 : v32 & 0x7fff,
			   (uint8_t)(reg & 7), fl & 8, fuzz_u32(in), size);
		break;
	case 11: /* an MSI-X table entry */
		reg = fuzz_u8(in);
		v32 = fuzz_u32(in);
		msix_entry(i, reg % (h.vp[i]->msix.nvec + 1),
			   (fl & 8) ? v32 : 0xfee00000u | (v32 & 0xffffc), fuzz_u16(in), fl & 1);
		break;
	case 12: /* MSI-X control */
		msix_ctrl(i, (uint16_t)((fl & 3) << 14 | fuzz_u8(in)));
		break;
	case 13: /* the host */
		switch (fl & 3) {
		case 0:
			virtio_net_set_link(&h.net, fl & 4);
			break;
		case 1: /* the disk's image resized, then given again */
			n = (fuzz_u8(in) + 1) * 4096u;
			if (ftruncate(img_fd, (off_t)n) == 0)
				fuzz_check(virtio_blk_set_backing(&h.blk, img_path) == 0);
			fuzz_check(h.blk.cfg.capacity == n / VIRTIO_BLK_SECTOR_SIZE);
			break;
		default: /* a packet from the network */
			p = fuzz_bytes(in, fuzz_u8(in), &n);
			memcpy(buf, p, n);
			if (send(tap_peer, buf, n, MSG_DONTWAIT) < 0) {
				/* the socket is full: the network drops it */
			}
			break;
		}
		check_all();
		break;
	case 14: /* a doorbell */
		mmio_write(bar0_of(i) + VIRTIO_PCI_NOTIFY_OFF + (fuzz_u8(in) & 7) * 4, 2, 0);
		break;
	default:
		bring_up(i, fl, fuzz_u8(in));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned int steps = 0;

	if (setup(fuzz_u8(&in)) < 0)
		abort();
	check_all();
	while (fuzz_in_more(&in) && steps++ < MAX_STEPS)
		step(&in);
	teardown();
	return 0;
}
