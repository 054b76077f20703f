// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the virtio-pci transport's VIRTIO_PCI_CAP_PCI_CFG window:
 * the driver points the capability at BAR 0 and reads or writes the BAR
 * through pci_cfg_data, with the BAR unmapped (no bus, no decoding); and
 * the transport on a host bridge: shared INTx lines, the COMMAND register's
 * bus master and INTx disable bits, notify doorbells following BAR 0, a
 * queue's budget per I/O thread turn, status bits that only a reset clears.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/bus.h"
#include "pci/pci_host.h"
#include "virtio/virtio_pci.h"

#define CAP_ID_VNDR 0x09
#define CFG_TYPE_PCI 5
/* Common configuration registers used here */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_NUM_QUEUES 0x12
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16

static const uint8_t dev_config[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

static void test_config_read(struct virtio_pci *vp, uint32_t off, uint8_t *buf, unsigned int len)
{
	memcpy(buf, dev_config + off, len);
}

/*
 * A driver refilling the ring forever: while refilling, every round leaves
 * avail->idx one past what the device took; when it stops (or after
 * REFILL_GIVE_UP rounds) the ring is left empty, so a transport without a
 * budget fails the test instead of hanging.
 */
#define REFILL_GIVE_UP 10000
static bool refilling;
static unsigned int refill_rounds;

/*
 * A device that pops until the ring is empty, raced by a driver on another
 * vCPU that makes the same one-descriptor chain available again after
 * every pop (up to REFILL_GIVE_UP pops in all, so a transport without a
 * budget fails the test instead of hanging).
 */
static bool racing;
static unsigned int race_pops;

static void race_round(struct virtq *vq)
{
	struct virtq_req *req = malloc(sizeof(*req));

	assert_non_null(req);
	while (virtq_pop(vq, req) > 0) {
		assert_int_equal(virtq_push(vq, req, 0), 0);
		if (++race_pops < REFILL_GIVE_UP) {
			uint16_t idx = (uint16_t)(vq->last_avail_idx + 1);

			memcpy(vq->avail_hva + 2, &idx, sizeof(idx));
		}
	}
	free(req);
}

static void test_notify(struct virtio_pci *vp, unsigned int q)
{
	unsigned int *notified = vp->dev;

	if (notified)
		(*notified)++;
	if (racing) {
		race_round(&vp->q[q].vq);
		return;
	}
	if (refilling || refill_rounds) {
		struct virtq *vq = &vp->q[q].vq;
		uint16_t idx = vq->last_avail_idx; /* stopped or gave up: empty */

		if (refilling && ++refill_rounds < REFILL_GIVE_UP)
			idx = (uint16_t)(vq->last_avail_idx + 1);
		memcpy(vq->avail_hva + 2, &idx, sizeof(idx));
	}
}

static const struct virtio_dev_ops test_ops = {
    .name = "virtio-test",
    .device_id = 4,
    .pci_class = 0xff,
    .nr_queues = 2,
    .queue_max = 16,
    .config_len = sizeof(dev_config),
    .config_read = test_config_read,
    .queue_notify = test_notify,
};

struct fx {
	struct virtio_pci vp;
	struct platform plat;
	uint8_t cap; /* the PCI_CFG capability */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct virtio_io io = {0};

	if (!f || virtio_pci_init(&f->vp, &test_ops, NULL, NULL, &f->plat, &io) < 0)
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	virtio_pci_destroy(&f->vp);
	free(f);
	return 0;
}

static uint32_t cfg_rd(struct fx *f, uint32_t off, unsigned int size)
{
	return pci_config_read(&f->vp.pci, off, size);
}

static void cfg_wr(struct fx *f, uint32_t off, unsigned int size, uint32_t val)
{
	pci_config_write(&f->vp.pci, off, size, val);
}

static uint64_t bar_rd(struct fx *f, uint64_t off, unsigned int size)
{
	const struct pci_bar *b = &f->vp.pci.bar[0];

	return b->ops->read(b->opaque, off, size);
}

static void bar_wr(struct fx *f, uint64_t off, unsigned int size, uint64_t val)
{
	const struct pci_bar *b = &f->vp.pci.bar[0];

	b->ops->write(b->opaque, off, size, val);
}

/* Point the window at BAR bar, offset off, length len. */
static void window(struct fx *f, uint8_t bar, uint32_t off, uint32_t len)
{
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_BAR, 1, bar);
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4, off);
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_LENGTH, 4, len);
}

static uint32_t window_read(struct fx *f)
{
	return cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA, 4);
}

static void window_write(struct fx *f, uint32_t val)
{
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA, 4, val);
}

/* Find the capability the way a driver does: walk the list. */
static void find_cap(struct fx *f)
{
	unsigned int hops = 0;
	uint8_t p = (uint8_t)cfg_rd(f, PCI_CAP_PTR, 1);

	f->cap = 0;
	while (p && hops++ < 48) {
		if (cfg_rd(f, p, 1) == CAP_ID_VNDR && cfg_rd(f, p + 3u, 1) == CFG_TYPE_PCI) {
			f->cap = p;
			return;
		}
		p = (uint8_t)cfg_rd(f, p + 1u, 1);
	}
}

static void test_cap_present(void **state)
{
	struct fx *f = *state;

	find_cap(f);
	assert_int_not_equal(f->cap, 0);
	assert_int_equal(f->cap & 3, 0);
	assert_int_equal(cfg_rd(f, f->cap + 2u, 1), VIRTIO_PCI_CFG_CAP_LEN);
	/* bar, offset, length and data start at 0 */
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_BAR, 1), 0);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4), 0);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_LENGTH, 4), 0);
	assert_int_equal(window_read(f), 0);
	/* the fields read back what the driver wrote */
	window(f, 0, 0x1234, 2);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4), 0x1234);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_LENGTH, 4), 2);
	/* the header stays read-only */
	cfg_wr(f, f->cap + 3u, 1, 1);
	assert_int_equal(cfg_rd(f, f->cap + 3u, 1), CFG_TYPE_PCI);
}

static void test_reads_match_bar(void **state)
{
	struct fx *f = *state;

	find_cap(f);
	assert_false(f->vp.pci.bar[0].mapped); /* the window needs no decoding */

	window(f, 0, CC_NUM_QUEUES, 2);
	assert_int_equal(window_read(f), 2);
	assert_int_equal(window_read(f), bar_rd(f, CC_NUM_QUEUES, 2));

	/* feature words, selected through the BAR, read through the window */
	bar_wr(f, CC_DFSELECT, 4, 1);
	window(f, 0, CC_DF, 4);
	assert_int_equal(window_read(f), bar_rd(f, CC_DF, 4));
	assert_true(window_read(f) & 1); /* VIRTIO_F_VERSION_1 */

	/* device configuration, byte and word; partial reads of pci_cfg_data */
	window(f, 0, VIRTIO_PCI_DEVICE_OFF + 5, 1);
	assert_int_equal(window_read(f), 0x66);
	window(f, 0, VIRTIO_PCI_DEVICE_OFF + 4, 4);
	assert_int_equal(window_read(f), 0x88776655);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA + 2u, 2), 0x8877);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA + 1u, 1), 0x66);
}

static void test_writes_reach_bar(void **state)
{
	struct fx *f = *state;

	find_cap(f);
	window(f, 0, CC_DFSELECT, 4);
	window_write(f, 1);
	assert_int_equal(bar_rd(f, CC_DFSELECT, 4), 1);

	window(f, 0, CC_Q_SELECT, 2);
	window_write(f, 0xffff0001); /* only the first length bytes count */
	assert_int_equal(bar_rd(f, CC_Q_SELECT, 2), 1);

	window(f, 0, CC_STATUS, 1);
	window_write(f, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	window_write(f, 0); /* a reset through the window */
	assert_int_equal(bar_rd(f, CC_STATUS, 1), 0);
	assert_int_equal(bar_rd(f, CC_Q_SELECT, 2), 0);
}

static void test_bad_windows(void **state)
{
	static const uint32_t bad[][3] = {
	    {1, CC_DFSELECT, 4},		   /* not BAR 0 */
	    {0xff, CC_DFSELECT, 4},		   /* no such BAR */
	    {0, CC_DFSELECT, 3},		   /* bad length */
	    {0, CC_DFSELECT, 8},		   /* bad length */
	    {0, CC_DFSELECT, 0},		   /* bad length */
	    {0, CC_NUM_QUEUES + 1, 2},		   /* unaligned */
	    {0, CC_DFSELECT + 2, 4},		   /* unaligned */
	    {0, VIRTIO_PCI_BAR_SIZE, 4},	   /* past the BAR */
	    {0, 0xfffffffc, 4},			   /* far past the BAR */
	    {0, VIRTIO_PCI_DEVICE_OFF + 0x800, 4}, /* past the device config */
	};
	struct fx *f = *state;
	unsigned int i;

	find_cap(f);
	bar_wr(f, CC_DFSELECT, 4, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		window(f, (uint8_t)bad[i][0], bad[i][1], bad[i][2]);
		assert_int_equal(window_read(f), 0);
		window_write(f, 0);
		assert_int_equal(bar_rd(f, CC_DFSELECT, 4), 1);
	}
	/* byte and word config writes of pci_cfg_data go through too */
	window(f, 0, CC_STATUS, 1);
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* a write elsewhere in the capability does not touch the BAR */
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA, 1, 0);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), 0);
	bar_wr(f, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4, CC_STATUS);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
}

/* ---- on a host bridge, with a fake machine ---- */

#define HFX_DEVS 5
#define HFX_MAX_EFDS 16
#define HFX_RAM 0x100000
#define HFX_BAR_A 0xc0000000ULL
#define HFX_BAR_B 0xd0000000ULL
#define CC_Q_ENABLE 0x1c
#define CC_Q_DESC_LO 0x20
#define CC_Q_DRIVER_LO 0x28
#define CC_Q_DEVICE_LO 0x30

struct hfx {
	struct bus pio, mmio;
	struct guest_mem gm;
	struct pci_host host;
	struct platform plat;
	int level[24]; /* last level driven on each GSI */
	struct {
		uint64_t addr;
		int efd;
	} efds[HFX_MAX_EFDS]; /* registered ioeventfds (addr 0: free) */
	struct {
		void (*fn)(void *opaque, int fd, uint32_t events);
		void *opaque;
		int fd;
	} watch[HFX_DEVS * 2];
	unsigned int nr_watch;
	unsigned int notified[HFX_DEVS];
	struct virtio_pci vp[HFX_DEVS];
	int slot[HFX_DEVS];
};

static void hfx_set_irq(void *ctx, unsigned int gsi, int level)
{
	struct hfx *h = ctx;

	if (gsi < 24)
		h->level[gsi] = level;
}

/* Like KVM: one ioeventfd per address, deassigning needs the same fd. */
static int hfx_ioeventfd_set(void *ctx, uint64_t addr, unsigned int len, int efd, bool mmio,
			     bool assign)
{
	struct hfx *h = ctx;
	unsigned int i;

	for (i = 0; i < HFX_MAX_EFDS; i++) {
		if (h->efds[i].addr != addr || !addr)
			continue;
		if (assign)
			return -EEXIST;
		if (h->efds[i].efd != efd)
			return -ENOENT;
		h->efds[i].addr = 0;
		return 0;
	}
	if (!assign)
		return -ENOENT;
	for (i = 0; i < HFX_MAX_EFDS; i++) {
		if (!h->efds[i].addr) {
			h->efds[i].addr = addr;
			h->efds[i].efd = efd;
			return 0;
		}
	}
	return -ENOSPC;
}

static int hfx_watch(void *ctx, int fd, void (*fn)(void *opaque, int fd, uint32_t events),
		     void *opaque)
{
	struct hfx *h = ctx;

	if (h->nr_watch >= HFX_DEVS * 2)
		return -ENOSPC;
	h->watch[h->nr_watch].fn = fn;
	h->watch[h->nr_watch].opaque = opaque;
	h->watch[h->nr_watch].fd = fd;
	h->nr_watch++;
	return 0;
}

static const struct platform_ops hfx_ops = {
    .set_irq = hfx_set_irq,
    .ioeventfd_set = hfx_ioeventfd_set,
};

static int hfx_setup(void **state)
{
	struct hfx *h = calloc(1, sizeof(*h));
	struct virtio_io io = {.watch = hfx_watch};
	unsigned int i;

	if (!h)
		return -1;
	h->plat.ops = &hfx_ops;
	h->plat.ctx = h;
	io.ctx = h;
	gm_init(&h->gm);
	if (bus_init(&h->pio, "pio") || bus_init(&h->mmio, "mmio") ||
	    gm_add_region(&h->gm, "ram", 0, HFX_RAM) < 0 ||
	    pci_host_init(&h->host, &h->pio, &h->mmio))
		return -1;
	for (i = 0; i < HFX_DEVS; i++) {
		if (virtio_pci_init(&h->vp[i], &test_ops, &h->notified[i], &h->gm, &h->plat, &io) <
		    0)
			return -1;
		h->slot[i] = pci_host_plug(&h->host, &h->vp[i].pci);
		if (h->slot[i] < 0)
			return -1;
		virtio_pci_plugged(&h->vp[i],
				   pci_host_intx_gsi(&h->host, (unsigned int)h->slot[i]));
	}
	*state = h;
	return 0;
}

static int hfx_teardown(void **state)
{
	struct hfx *h = *state;
	unsigned int i;

	pci_host_destroy(&h->host);
	for (i = 0; i < HFX_DEVS; i++)
		virtio_pci_destroy(&h->vp[i]);
	gm_destroy(&h->gm);
	bus_destroy(&h->pio);
	bus_destroy(&h->mmio);
	free(h);
	return 0;
}

static uint32_t hcfg_rd(struct hfx *h, unsigned int i, uint32_t reg, unsigned int size)
{
	return pci_host_config_read(&h->host, 0, PCI_DEVFN(h->slot[i], 0), reg, size);
}

static void hcfg_wr(struct hfx *h, unsigned int i, uint32_t reg, unsigned int size, uint32_t val)
{
	pci_host_config_write(&h->host, 0, PCI_DEVFN(h->slot[i], 0), reg, size, val);
}

static uint64_t hbar_rd(struct hfx *h, unsigned int i, uint64_t off, unsigned int size)
{
	const struct pci_bar *b = &h->vp[i].pci.bar[0];

	return b->ops->read(b->opaque, off, size);
}

static void hbar_wr(struct hfx *h, unsigned int i, uint64_t off, unsigned int size, uint64_t val)
{
	const struct pci_bar *b = &h->vp[i].pci.bar[0];

	b->ops->write(b->opaque, off, size, val);
}

static unsigned int gsi_of(struct hfx *h, unsigned int i)
{
	return hcfg_rd(h, i, PCI_INTERRUPT_LINE, 1);
}

/* The device asserts its INTx: MSI-X is off, a configuration change. */
static void assert_intx(struct hfx *h, unsigned int i)
{
	pthread_mutex_lock(&h->vp[i].lock);
	virtio_pci_config_changed(&h->vp[i]);
	pthread_mutex_unlock(&h->vp[i].lock);
}

static bool ioeventfd_at(struct hfx *h, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < HFX_MAX_EFDS; i++)
		if (h->efds[i].addr == addr)
			return true;
	return false;
}

/* BAR 0 at addr, the given COMMAND bits; queue 0 of device i live at 0x1000. */
static void bring_up(struct hfx *h, unsigned int i, uint64_t addr, uint16_t cmd)
{
	hcfg_wr(h, i, PCI_BAR0, 4, (uint32_t)addr);
	hcfg_wr(h, i, PCI_BAR0 + 4, 4, (uint32_t)(addr >> 32));
	hcfg_wr(h, i, PCI_COMMAND, 2, cmd);
	hbar_wr(h, i, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	hbar_wr(h, i, CC_DFSELECT + 0x08, 4, 1); /* guest_feature_select 1 */
	hbar_wr(h, i, CC_DFSELECT + 0x0c, 4, 1); /* VERSION_1 */
	hbar_wr(h, i, CC_STATUS, 1,
		VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	hbar_wr(h, i, CC_Q_SELECT, 2, 0);
	hbar_wr(h, i, CC_Q_DESC_LO, 4, 0x1000);
	hbar_wr(h, i, CC_Q_DRIVER_LO, 4, 0x2000);
	hbar_wr(h, i, CC_Q_DEVICE_LO, 4, 0x3000);
	hbar_wr(h, i, CC_Q_ENABLE, 2, 1);
	hbar_wr(h, i, CC_STATUS, 1,
		VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK);
	assert_true(h->vp[i].q[0].enabled);
}

/* The I/O thread's turn for queue q of device i: its eventfd read, its handler run. */
static void io_turn(struct hfx *h, unsigned int i, unsigned int q)
{
	unsigned int w;

	for (w = 0; w < h->nr_watch; w++)
		if (h->watch[w].fd == h->vp[i].q[q].notify_efd)
			h->watch[w].fn(h->watch[w].opaque, h->watch[w].fd, 1);
}

static uint64_t efd_count(int fd)
{
	uint64_t cnt = 0;

	if (read(fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return 0;
	return cnt;
}

/* Five devices: slots 1 and 5 share a GSI; one's ISR read must not lower the other's. */
static void test_shared_intx(void **state)
{
	struct hfx *h = *state;
	unsigned int a = 0, b = 4, gsi = gsi_of(h, a);

	assert_int_equal(gsi_of(h, b), gsi);
	assert_int_not_equal(gsi_of(h, 1), gsi);
	assert_intx(h, a);
	assert_int_equal(h->level[gsi], 1);
	assert_intx(h, b);
	assert_int_equal(h->level[gsi], 1);
	/* a's driver acknowledges: b still asserts */
	assert_int_equal(hbar_rd(h, a, VIRTIO_PCI_ISR_OFF, 1), 0x2);
	assert_int_equal(h->level[gsi], 1);
	/* a device on another line does not touch this one */
	assert_intx(h, 1);
	assert_int_equal(hbar_rd(h, 1, VIRTIO_PCI_ISR_OFF, 1), 0x2);
	assert_int_equal(h->level[gsi], 1);
	assert_int_equal(hbar_rd(h, b, VIRTIO_PCI_ISR_OFF, 1), 0x2);
	assert_int_equal(h->level[gsi], 0);
	/* a reset of an asserting device lowers its part only */
	assert_intx(h, a);
	assert_intx(h, b);
	hbar_wr(h, a, CC_STATUS, 1, 0);
	assert_int_equal(h->level[gsi], 1);
	hbar_wr(h, b, CC_STATUS, 1, 0);
	assert_int_equal(h->level[gsi], 0);
}

/* INTx Disable masks the line, STATUS.INTERRUPT shows the pending INTx. */
static void test_intx_disable_and_status(void **state)
{
	struct hfx *h = *state;
	unsigned int a = 0, b = 4, gsi = gsi_of(h, a);

	assert_false(hcfg_rd(h, a, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_intx(h, a);
	assert_int_equal(h->level[gsi], 1);
	assert_true(hcfg_rd(h, a, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_false(hcfg_rd(h, b, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* masked: the line drops, the status still shows it */
	hcfg_wr(h, a, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(h->level[gsi], 0);
	assert_true(hcfg_rd(h, a, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_true(hcfg_rd(h, a, PCI_STATUS, 1) & PCI_STATUS_INTERRUPT);
	/* a masked device does not hide its neighbour */
	assert_intx(h, b);
	assert_int_equal(h->level[gsi], 1);
	assert_int_equal(hbar_rd(h, b, VIRTIO_PCI_ISR_OFF, 1), 0x2);
	assert_int_equal(h->level[gsi], 0);
	/* unmasked while still pending: it comes back */
	hcfg_wr(h, a, PCI_COMMAND, 2, 0);
	assert_int_equal(h->level[gsi], 1);
	assert_int_equal(hbar_rd(h, a, VIRTIO_PCI_ISR_OFF, 1), 0x2);
	assert_int_equal(h->level[gsi], 0);
	assert_false(hcfg_rd(h, a, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* asserted while masked: nothing until unmasked */
	hcfg_wr(h, a, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	assert_intx(h, a);
	assert_int_equal(h->level[gsi], 0);
	hcfg_wr(h, a, PCI_COMMAND, 2, 0);
	assert_int_equal(h->level[gsi], 1);
	/* the status bit is read-only */
	hcfg_wr(h, a, PCI_STATUS, 2, 0xffff);
	assert_true(hcfg_rd(h, a, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
}

/* Bus Master Enable clear: no queue processing; kicks wait until it is set. */
static void test_bus_master(void **state)
{
	struct hfx *h = *state;
	struct virtio_pci *vp = &h->vp[0];

	bring_up(h, 0, HFX_BAR_A, PCI_COMMAND_MEM);
	hbar_wr(h, 0, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	io_turn(h, 0, 0);
	assert_int_equal(h->notified[0], 0);
	/* bus mastering on: the deferred kick is delivered */
	hcfg_wr(h, 0, PCI_COMMAND, 2, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	assert_true(efd_count(vp->q[0].notify_efd) > 0);
	pthread_mutex_lock(&vp->lock);
	vp->ops->queue_notify(vp, 0); /* what the I/O thread's turn does with it */
	pthread_mutex_unlock(&vp->lock);
	h->notified[0] = 0;
	hbar_wr(h, 0, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	io_turn(h, 0, 0);
	assert_int_equal(h->notified[0], 1);
	/* off again: kicks are held */
	hcfg_wr(h, 0, PCI_COMMAND, 2, PCI_COMMAND_MEM);
	hbar_wr(h, 0, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	io_turn(h, 0, 0);
	assert_int_equal(h->notified[0], 1);
	/* on again with nothing held since the last turn: a kick anyway is harmless */
	hcfg_wr(h, 0, PCI_COMMAND, 2, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	io_turn(h, 0, 0);
	assert_int_equal(h->notified[0], 2);
}

/* The notify ioeventfds follow BAR 0 and memory decoding. */
static void test_notify_follows_bar(void **state)
{
	struct hfx *h = *state;
	uint64_t notify_a = HFX_BAR_A + VIRTIO_PCI_NOTIFY_OFF;
	uint64_t notify_b = HFX_BAR_B + VIRTIO_PCI_NOTIFY_OFF;

	bring_up(h, 0, HFX_BAR_A, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	assert_true(ioeventfd_at(h, notify_a));
	/* moved: the old address is free, the new one bound */
	hcfg_wr(h, 0, PCI_BAR0, 4, (uint32_t)HFX_BAR_B);
	assert_false(ioeventfd_at(h, notify_a));
	assert_true(ioeventfd_at(h, notify_b));
	/* decoding off: nothing bound; on: bound again */
	hcfg_wr(h, 0, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_false(ioeventfd_at(h, notify_b));
	hcfg_wr(h, 0, PCI_COMMAND, 2, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	assert_true(ioeventfd_at(h, notify_b));
	/* a size probe (all-ones) unmaps, the address written back maps again */
	hcfg_wr(h, 0, PCI_BAR0, 4, 0xffffffff);
	assert_false(ioeventfd_at(h, notify_b));
	hcfg_wr(h, 0, PCI_BAR0, 4, (uint32_t)HFX_BAR_B);
	assert_true(ioeventfd_at(h, notify_b));
	/* another device placed where the first was gets its own doorbell */
	bring_up(h, 1, HFX_BAR_A, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	assert_true(ioeventfd_at(h, notify_a));
	assert_true(h->vp[1].q[0].ioeventfd);
	assert_true(h->vp[1].pci.bar[0].mapped);
	/* a reset unbinds */
	hbar_wr(h, 0, CC_STATUS, 1, 0);
	assert_false(ioeventfd_at(h, notify_b));
}

/* A queue the driver keeps full gets a budget per turn, and comes back without a kick. */
static void test_queue_budget(void **state)
{
	struct hfx *h = *state;
	struct virtio_pci *vp = &h->vp[0];
	unsigned int turns;

	bring_up(h, 0, HFX_BAR_A, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	assert_true(vp->q[0].vq.ready);
	refilling = true;
	refill_rounds = 0;
	hbar_wr(h, 0, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	io_turn(h, 0, 0);
	assert_true(refill_rounds > 0);
	assert_true(refill_rounds <= VIRTIO_PCI_QUEUE_ROUNDS);
	/* work is left: the queue's eventfd is ready again, no kick needed */
	assert_int_equal(efd_count(vp->q[0].notify_efd), 1);
	/* every turn is bounded and re-arms while the driver keeps refilling */
	for (turns = 0; turns < 8; turns++) {
		unsigned int before = refill_rounds;

		io_turn(h, 0, 0);
		assert_true(refill_rounds - before <= VIRTIO_PCI_QUEUE_ROUNDS);
		assert_int_equal(efd_count(vp->q[0].notify_efd), 1);
	}
	/* the driver stops: the last turn empties the ring and does not re-arm */
	refilling = false;
	io_turn(h, 0, 0);
	assert_int_equal(efd_count(vp->q[0].notify_efd), 0);
	refill_rounds = 0;
}

/* A driver refilling the ring within the device's round: the round is bounded too. */
static void test_queue_budget_in_round(void **state)
{
	struct hfx *h = *state;
	struct virtio_pci *vp = &h->vp[0];
	struct virtq *vq = &vp->q[0].vq;
	const uint64_t desc = 0x4000; /* one readable descriptor, head 0 */
	const uint32_t len = 16;
	uint16_t idx = 1;
	unsigned int turns, before;

	bring_up(h, 0, HFX_BAR_A, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	memcpy(vq->desc_hva, &desc, 8);
	memcpy(vq->desc_hva + 8, &len, 4);
	memset(vq->avail_hva + 4, 0, 2 * vq->size);
	memcpy(vq->avail_hva + 2, &idx, sizeof(idx));
	racing = true;
	race_pops = 0;
	hbar_wr(h, 0, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	io_turn(h, 0, 0);
	/* a queue's worth a round, a few rounds a turn */
	assert_true(race_pops > 0);
	assert_true(race_pops <= VIRTIO_PCI_QUEUE_ROUNDS * vq->size);
	assert_false(vq->broken);
	assert_false(vq->pop_limited);
	assert_int_equal(efd_count(vp->q[0].notify_efd), 1);
	for (turns = 0; turns < 8; turns++) {
		before = race_pops;
		io_turn(h, 0, 0);
		assert_true(race_pops - before <= VIRTIO_PCI_QUEUE_ROUNDS * vq->size);
		assert_int_equal(efd_count(vp->q[0].notify_efd), 1);
	}
	/* the driver gives up: the ring empties and the queue is not signalled again */
	race_pops = REFILL_GIVE_UP;
	io_turn(h, 0, 0);
	assert_int_equal(efd_count(vp->q[0].notify_efd), 0);
	assert_int_equal(vq->last_avail_idx, vq->used_idx);
	racing = false;
}

/* Status bits are never cleared but by a reset; features are fixed at FEATURES_OK. */
static void test_status_no_clear(void **state)
{
	struct hfx *h = *state;
	struct virtio_pci *vp = &h->vp[0];
	const uint8_t live = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	const uint64_t negotiated = 1ULL << VIRTIO_F_VERSION_1;

	bring_up(h, 0, HFX_BAR_A, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	assert_int_equal(hbar_rd(h, 0, CC_STATUS, 1), live);
	assert_true(vp->guest_features == negotiated);
	/* FEATURES_OK cleared: ignored */
	hbar_wr(h, 0, CC_STATUS, 1, live & ~VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(hbar_rd(h, 0, CC_STATUS, 1), live);
	/* renegotiating: the feature writes change nothing */
	hbar_wr(h, 0, CC_DFSELECT + 0x08, 4, 0);
	hbar_wr(h, 0, CC_DFSELECT + 0x0c, 4, 1u << VIRTIO_F_INDIRECT_DESC);
	hbar_wr(h, 0, CC_DFSELECT + 0x08, 4, 1);
	hbar_wr(h, 0, CC_DFSELECT + 0x0c, 4, 1);
	hbar_wr(h, 0, CC_STATUS, 1, live);
	assert_int_equal(hbar_rd(h, 0, CC_STATUS, 1), live);
	assert_true(vp->guest_features == negotiated);
	/* DRIVER_OK or any other bit cleared: ignored too; the queue stays live */
	hbar_wr(h, 0, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(hbar_rd(h, 0, CC_STATUS, 1), live);
	assert_true(vp->q[0].enabled);
	/* adding a bit is allowed */
	hbar_wr(h, 0, CC_STATUS, 1, live | VIRTIO_STATUS_FAILED);
	assert_int_equal(hbar_rd(h, 0, CC_STATUS, 1), live | VIRTIO_STATUS_FAILED);
	/* 0 resets */
	hbar_wr(h, 0, CC_STATUS, 1, 0);
	assert_int_equal(hbar_rd(h, 0, CC_STATUS, 1), 0);
	assert_true(vp->guest_features == 0);
	assert_false(vp->q[0].enabled);
	/* FEATURES_OK is not accepted for the first time after DRIVER_OK */
	hbar_wr(h, 0, CC_STATUS, 1,
		VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	hbar_wr(h, 0, CC_DFSELECT + 0x08, 4, 1);
	hbar_wr(h, 0, CC_DFSELECT + 0x0c, 4, 1);
	hbar_wr(h, 0, CC_STATUS, 1, live);
	assert_false(hbar_rd(h, 0, CC_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
}

/* ---- saving and restoring the transport and its config space ---- */

#define MSIX_TABLE(v, w) (VIRTIO_PCI_MSIX_TABLE_OFF + 16 * (v) + (w))
#define CC_MSIX_CONFIG 0x10
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX_VECTOR 0x1a

/* Device 0 brought up with MSI-X on: vector 1 for queue 0, vector 0 for config changes. */
static void bring_up_msix(struct hfx *h)
{
	uint8_t cap = pci_cap_find(&h->vp[0].pci, PCI_CAP_ID_MSIX);

	bring_up(h, 0, HFX_BAR_A, PCI_COMMAND_MEM | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	hbar_wr(h, 0, MSIX_TABLE(1, 0), 4, 0xfee00000);
	hbar_wr(h, 0, MSIX_TABLE(1, 8), 4, 0x41);
	hbar_wr(h, 0, MSIX_TABLE(1, 12), 4, 0);
	hbar_wr(h, 0, CC_MSIX_CONFIG, 2, 0);
	hbar_wr(h, 0, CC_Q_SELECT, 2, 0);
	hbar_wr(h, 0, CC_Q_MSIX_VECTOR, 2, 1);
	hbar_wr(h, 0, CC_Q_SELECT, 2, 1);
	hbar_wr(h, 0, CC_Q_SIZE, 2, 8);
	hcfg_wr(h, 0, cap + 2, 2, 0x8000);
	assert_true(msix_enabled(&h->vp[0].msix));
}

/* What the guest reads of device i: common registers of every queue, the MSI-X table. */
static void guest_view(struct hfx *h, unsigned int i, uint32_t *out, unsigned int *n)
{
	unsigned int q, off, k = 0;

	for (q = 0; q < 2; q++) {
		hbar_wr(h, i, CC_Q_SELECT, 2, q);
		for (off = 0; off < 0x38; off += 4)
			if (off != 0x14) /* status and generation are read bytewise */
				out[k++] =
				    (uint32_t)hbar_rd(h, i, off, off < 0x10 || off >= 0x20 ? 4 : 2);
	}
	out[k++] = (uint32_t)hbar_rd(h, i, CC_STATUS, 1);
	for (off = 0; off < 3 * 16; off += 4)
		out[k++] = (uint32_t)hbar_rd(h, i, VIRTIO_PCI_MSIX_TABLE_OFF + off, 4);
	for (off = 0; off < 0x100; off += 4)
		out[k++] = hcfg_rd(h, i, off, 4);
	*n = k;
}

static void test_state_roundtrip(void **state)
{
	struct hfx *h = *state;
	static struct pci_dev_state cfg, cfg2;
	static struct virtio_pci_state tr, tr2;
	uint32_t before[256], after[256];
	unsigned int n1, n2;
	char field[48];
	uint32_t off;
	int bar = -1;

	bring_up_msix(h);
	hbar_wr(h, 0, CC_Q_SELECT, 2, 1); /* the driver left queue 1 selected */
	guest_view(h, 0, before, &n1);
	hbar_wr(h, 0, CC_Q_SELECT, 2, 1);
	pci_dev_save(&h->vp[0].pci, &cfg);
	virtio_pci_save(&h->vp[0], &tr);
	/* device 0 goes away from the address; device 1 takes its state */
	hcfg_wr(h, 0, PCI_COMMAND, 2, 0);
	assert_int_equal(virtio_pci_state_check(&h->vp[1], &tr, field, sizeof(field)), 0);
	assert_int_equal(pci_dev_state_check(&h->vp[1].pci, &cfg, &off), 0);
	assert_int_equal(virtio_pci_restore(&h->vp[1], &tr, field, sizeof(field)), 0);
	efd_count(h->vp[1].q[0].notify_efd);
	assert_int_equal(pci_dev_restore(&h->vp[1].pci, &cfg, &bar), 0);
	/* the BAR decodes where the guest put it, with its doorbell; MSI-X is on */
	assert_true(h->vp[1].pci.bar[0].mapped);
	assert_true(h->vp[1].pci.bar[0].addr == HFX_BAR_A);
	assert_true(ioeventfd_at(h, HFX_BAR_A + VIRTIO_PCI_NOTIFY_OFF));
	assert_true(msix_enabled(&h->vp[1].msix));
	assert_true(pci_dev_bus_master(&h->vp[1].pci));
	/* the same registers for the guest, and the same state saved again */
	hbar_wr(h, 1, CC_Q_SELECT, 2, 1);
	pci_dev_save(&h->vp[1].pci, &cfg2);
	virtio_pci_save(&h->vp[1], &tr2);
	assert_memory_equal(&cfg, &cfg2, sizeof(cfg));
	assert_memory_equal(&tr, &tr2, sizeof(tr));
	guest_view(h, 1, after, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1 * sizeof(before[0]));
	/* the enabled queue is looked at once, as if kicked */
	virtio_pci_kick_all(&h->vp[1]);
	assert_true(efd_count(h->vp[1].q[0].notify_efd) >= 1);
	assert_int_equal(efd_count(h->vp[1].q[1].notify_efd), 0);
}

/* @mutate applied to a good state must be refused, naming @want. */
static void refused(struct hfx *h, const struct virtio_pci_state *good,
		    void (*mutate)(struct virtio_pci_state *), const char *want)
{
	static struct virtio_pci_state s;
	char field[48] = "";

	s = *good;
	mutate(&s);
	assert_int_equal(virtio_pci_state_check(&h->vp[1], &s, field, sizeof(field)), -EINVAL);
	assert_string_equal(field, want);
}

static void m_size_not_pow2(struct virtio_pci_state *s)
{
	s->q[1].size = 6;
}
static void m_size_too_big(struct virtio_pci_state *s)
{
	s->q[0].size = 32;
	s->q[0].vq.size = 32;
}
static void m_queue_vector(struct virtio_pci_state *s)
{
	s->q[0].msix_vector = 3;
}
static void m_config_vector(struct virtio_pci_state *s)
{
	s->config_vector = 7;
}
static void m_features(struct virtio_pci_state *s)
{
	s->guest_features |= 1ULL << 40;
}
static void m_no_version_1(struct virtio_pci_state *s)
{
	s->guest_features &= ~(1ULL << VIRTIO_F_VERSION_1);
}
static void m_in_flight(struct virtio_pci_state *s)
{
	s->q[0].vq.last_avail_idx += 2;
}
static void m_ring_moved(struct virtio_pci_state *s)
{
	s->q[0].vq.desc += 16;
}
static void m_enabled_not_ready(struct virtio_pci_state *s)
{
	s->q[0].vq.ready = 0;
}
static void m_idle_queue_ring(struct virtio_pci_state *s)
{
	s->q[1].vq.used_idx = 5;
}
static void m_extra_queue(struct virtio_pci_state *s)
{
	s->q[5].size = 8;
}
static void m_status(struct virtio_pci_state *s)
{
	s->status |= 0x20;
}
static void m_isr(struct virtio_pci_state *s)
{
	s->isr = 0x80;
}
static void m_msix_ctrl(struct virtio_pci_state *s)
{
	s->msix[2].ctrl = 0x3;
}
static void m_msix_addr(struct virtio_pci_state *s)
{
	s->msix[1].addr_lo |= 2;
}
static void m_msix_pba(struct virtio_pci_state *s)
{
	s->msix_pba[0] = 1ULL << 3;
}
static void m_nr_queues(struct virtio_pci_state *s)
{
	s->nr_queues = 3;
}

static void test_state_refused(void **state)
{
	struct hfx *h = *state;
	static struct virtio_pci_state good;
	static struct pci_dev_state cfg;
	char field[48];
	uint32_t off;
	int bar;

	bring_up_msix(h);
	virtio_pci_save(&h->vp[0], &good);
	refused(h, &good, m_size_not_pow2, "q1.size");
	refused(h, &good, m_size_too_big, "q0.size");
	refused(h, &good, m_queue_vector, "q0.msix_vector");
	refused(h, &good, m_config_vector, "config_vector");
	refused(h, &good, m_features, "guest_features");
	refused(h, &good, m_no_version_1, "guest_features");
	refused(h, &good, m_in_flight, "q0.vq.in_flight");
	refused(h, &good, m_ring_moved, "q0.vq.layout");
	refused(h, &good, m_enabled_not_ready, "q0.enabled");
	refused(h, &good, m_idle_queue_ring, "q1.vq");
	refused(h, &good, m_extra_queue, "q5");
	refused(h, &good, m_status, "status");
	refused(h, &good, m_isr, "isr");
	refused(h, &good, m_msix_ctrl, "msix2.ctrl");
	refused(h, &good, m_msix_addr, "msix1.addr_lo");
	refused(h, &good, m_msix_pba, "msix0.pba");
	refused(h, &good, m_nr_queues, "nr_queues");

	/* rings outside guest RAM: checked like virtq_setup, refused by restore */
	good.q[0].desc = good.q[0].vq.desc = HFX_RAM;
	assert_int_equal(virtio_pci_state_check(&h->vp[1], &good, field, sizeof(field)), 0);
	assert_true(virtio_pci_restore(&h->vp[1], &good, field, sizeof(field)) < 0);
	assert_non_null(strstr(field, "q0.vq"));
	assert_false(h->vp[1].q[0].enabled);

	/* a BAR address not aligned to its size, another device's IDs */
	pci_dev_save(&h->vp[0].pci, &cfg);
	cfg.cfg[PCI_BAR0] |= 0x10;
	assert_int_equal(pci_dev_state_check(&h->vp[1].pci, &cfg, &off), -EINVAL);
	assert_int_equal(off, PCI_BAR0);
	pci_dev_save(&h->vp[0].pci, &cfg);
	cfg.cfg[PCI_DEVICE_ID] ^= 1;
	assert_int_equal(pci_dev_state_check(&h->vp[1].pci, &cfg, &off), -EINVAL);
	assert_int_equal(off, PCI_DEVICE_ID);
	/* a BAR over another device's: restored, but refused */
	pci_dev_save(&h->vp[0].pci, &cfg);
	assert_int_equal(pci_dev_state_check(&h->vp[1].pci, &cfg, &off), 0);
	assert_int_equal(pci_dev_restore(&h->vp[1].pci, &cfg, &bar), -EBUSY);
	assert_int_equal(bar, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cap_present, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reads_match_bar, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_writes_reach_bar, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_windows, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_shared_intx, hfx_setup, hfx_teardown),
	    cmocka_unit_test_setup_teardown(test_intx_disable_and_status, hfx_setup, hfx_teardown),
	    cmocka_unit_test_setup_teardown(test_bus_master, hfx_setup, hfx_teardown),
	    cmocka_unit_test_setup_teardown(test_notify_follows_bar, hfx_setup, hfx_teardown),
	    cmocka_unit_test_setup_teardown(test_queue_budget, hfx_setup, hfx_teardown),
	    cmocka_unit_test_setup_teardown(test_queue_budget_in_round, hfx_setup, hfx_teardown),
	    cmocka_unit_test_setup_teardown(test_status_no_clear, hfx_setup, hfx_teardown),
	    cmocka_unit_test_setup_teardown(test_state_roundtrip, hfx_setup, hfx_teardown),
	    cmocka_unit_test_setup_teardown(test_state_refused, hfx_setup, hfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
