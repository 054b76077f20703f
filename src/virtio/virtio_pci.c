// SPDX-License-Identifier: GPL-2.0-only
/* The virtio-pci modern transport: registers, capabilities, queues, interrupts. */
#include "virtio/virtio_pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PCI_VENDOR_REDHAT_QUMRANET 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define PCI_CAP_ID_VNDR 0x09

enum virtio_pci_cap_type {
	VIRTIO_PCI_CAP_COMMON_CFG = 1,
	VIRTIO_PCI_CAP_NOTIFY_CFG = 2,
	VIRTIO_PCI_CAP_ISR_CFG = 3,
	VIRTIO_PCI_CAP_DEVICE_CFG = 4,
	VIRTIO_PCI_CAP_PCI_CFG = 5,
};

/* Common configuration registers */
enum {
	CC_DFSELECT = 0x00,
	CC_DF = 0x04,
	CC_GFSELECT = 0x08,
	CC_GF = 0x0c,
	CC_MSIX_CONFIG = 0x10,
	CC_NUM_QUEUES = 0x12,
	CC_STATUS = 0x14,
	CC_CFG_GENERATION = 0x15,
	CC_Q_SELECT = 0x16,
	CC_Q_SIZE = 0x18,
	CC_Q_MSIX_VECTOR = 0x1a,
	CC_Q_ENABLE = 0x1c,
	CC_Q_NOTIFY_OFF = 0x1e,
	CC_Q_DESC_LO = 0x20,
	CC_Q_DESC_HI = 0x24,
	CC_Q_DRIVER_LO = 0x28,
	CC_Q_DRIVER_HI = 0x2c,
	CC_Q_DEVICE_LO = 0x30,
	CC_Q_DEVICE_HI = 0x34,
};

static uint64_t offered_features(const struct virtio_pci *vp)
{
	return vp->ops->features | (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC) |
	       (1ULL << VIRTIO_F_EVENT_IDX);
}

bool virtio_pci_has_feature(const struct virtio_pci *vp, unsigned int bit)
{
	return bit < 64 && (vp->guest_features & (1ULL << bit));
}

struct virtq *virtio_pci_vq(struct virtio_pci *vp, unsigned int q)
{
	/* Bus Master Enable clear: the device must not touch guest memory. */
	if (q >= vp->ops->nr_queues || !vp->q[q].vq.ready || !pci_dev_bus_master(&vp->pci))
		return NULL;
	return &vp->q[q].vq;
}

/* ---- interrupts ---- */

/*
 * On a host bridge, INTx goes through it (shared lines, INTx Disable); a
 * transport no host plugged drives its GSI itself.
 */
static void set_intx(struct virtio_pci *vp, bool level)
{
	if (pci_dev_plugged(&vp->pci))
		pci_intx_set(&vp->pci, level);
	else if (vp->intx_gsi)
		platform_set_irq(vp->platform, vp->intx_gsi, level);
}

static void raise_intx(struct virtio_pci *vp)
{
	set_intx(vp, true);
}

static void signal_vector(struct virtio_pci *vp, uint16_t vec, uint8_t isr_bit)
{
	vp->isr |= isr_bit;
	if (msix_enabled(&vp->msix)) {
		if (vec != VIRTIO_NO_VECTOR && vec < vp->msix.nvec)
			msix_notify(&vp->msix, vec);
		return;
	}
	raise_intx(vp);
}

void virtio_pci_queue_done(struct virtio_pci *vp, unsigned int q)
{
	if (q >= vp->ops->nr_queues || !virtq_should_notify(&vp->q[q].vq))
		return;
	vp->q[q].interrupts++;
	signal_vector(vp, vp->q[q].msix_vector, 0x1);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->config_generation++;
	signal_vector(vp, vp->config_vector, 0x2);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_config_changed(vp);
}

/* ---- queues ---- */

static void queue_unbind_ioeventfd(struct virtio_pci_queue *q)
{
	const struct platform *p = q->vp->platform;

	if (!q->ioeventfd)
		return;
	if (p && p->ops && p->ops->ioeventfd_set)
		p->ops->ioeventfd_set(p->ctx, q->ioeventfd_addr, 2, q->notify_efd, true, false);
	q->ioeventfd = false;
}

/* Doorbell writes go straight to the eventfd, without a vCPU exit. */
static void queue_bind_ioeventfd(struct virtio_pci_queue *q)
{
	struct virtio_pci *vp = q->vp;
	const struct platform *p = vp->platform;
	const struct pci_bar *bar = &vp->pci.bar[0];
	uint64_t addr;

	if (!bar->mapped) { /* moved away or decoding off: no doorbell anywhere */
		queue_unbind_ioeventfd(q);
		return;
	}
	if (!p || !p->ops || !p->ops->ioeventfd_set)
		return;
	addr = bar->addr + VIRTIO_PCI_NOTIFY_OFF + q->index * VIRTIO_PCI_NOTIFY_MULT;
	if (q->ioeventfd && q->ioeventfd_addr == addr)
		return;
	queue_unbind_ioeventfd(q);
	if (p->ops->ioeventfd_set(p->ctx, addr, 2, q->notify_efd, true, true) == 0) {
		q->ioeventfd = true;
		q->ioeventfd_addr = addr;
	}
}

static void queue_reset(struct virtio_pci_queue *q)
{
	queue_unbind_ioeventfd(q);
	virtq_reset(&q->vq);
	q->size = q->vp->ops->queue_max;
	q->msix_vector = VIRTIO_NO_VECTOR;
	q->enabled = false;
	q->desc = q->driver = q->device = 0;
}

static void queue_enable(struct virtio_pci *vp, struct virtio_pci_queue *q)
{
	int ret;

	if (q->enabled)
		return;
	ret = virtq_setup(&q->vq, vp->gm, q->size, q->desc, q->driver, q->device,
			  virtio_pci_has_feature(vp, VIRTIO_F_EVENT_IDX),
			  virtio_pci_has_feature(vp, VIRTIO_F_INDIRECT_DESC));
	if (ret < 0) {
		virtio_pci_needs_reset(vp);
		return;
	}
	q->enabled = true;
	queue_bind_ioeventfd(q);
}

/* The I/O thread saw a doorbell. */
static void queue_kicked(void *opaque, int fd, uint32_t events)
{
	struct virtio_pci_queue *q = opaque;
	struct virtio_pci *vp = q->vp;
	uint64_t cnt = 0, one = 1;

	if (read(fd, &cnt, sizeof(cnt)) < 0) {
		/* nothing pending: a spurious wake-up */
	}
	pthread_mutex_lock(&vp->lock);
	q->kicks += cnt;
	/* Bus mastering off: the kick waits; setting it kicks every live queue again. */
	if (q->enabled && pci_dev_bus_master(&vp->pci) && (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(vp->status & VIRTIO_STATUS_NEEDS_RESET)) {
		/*
		 * Process until the ring is empty, then tell the driver where to
		 * kick next (avail_event / NO_NOTIFY) and look again: a buffer
		 * added in between would otherwise wait for a kick that never comes.
		 */
		bool on_demand = vp->ops->kick_on_demand & (1u << q->index);
		unsigned int rounds = 0;
		bool more;

		/*
		 * A driver that refills the ring as fast as it is taken would
		 * keep us here forever, and every other fd of the I/O thread
		 * (signals, the console, other devices) would wait. After
		 * VIRTIO_PCI_QUEUE_ROUNDS rounds the queue's own eventfd is
		 * signalled again: the event loop serves what else is ready,
		 * then comes back here with no new kick needed.
		 */
		do {
			bool spent;

			/*
			 * Within a round too: the device pops until the ring is
			 * empty, and a driver on another vCPU can refill it as
			 * fast, so a round takes at most a queue's worth.
			 */
			virtq_limit(&q->vq, q->vq.size);
			vp->ops->queue_notify(vp, q->index);
			spent = virtq_unlimit(&q->vq);
			more = q->vq.ready && !q->vq.broken &&
			       ((!on_demand && virtq_enable_notify(&q->vq)) || spent);
		} while (more && ++rounds < VIRTIO_PCI_QUEUE_ROUNDS);
		if (q->vq.broken)
			virtio_pci_needs_reset(vp);
		else if (more && write(q->notify_efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow from here */
		}
	}
	pthread_mutex_unlock(&vp->lock);
}

static void device_reset(struct virtio_pci *vp)
{
	unsigned int i;

	for (i = 0; i < vp->ops->nr_queues; i++)
		queue_reset(&vp->q[i]);
	if (vp->ops->reset)
		vp->ops->reset(vp);
	msix_reset(&vp->msix);
	vp->status = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->guest_features = 0;
	vp->config_vector = VIRTIO_NO_VECTOR;
	vp->queue_select = 0;
	if (vp->isr)
		set_intx(vp, false);
	vp->isr = 0;
}

/* ---- common configuration ---- */

static struct virtio_pci_queue *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->ops->nr_queues ? &vp->q[vp->queue_select] : NULL;
}

static uint32_t common_read(struct virtio_pci *vp, uint32_t off)
{
	struct virtio_pci_queue *q = selected(vp);
	uint64_t f = offered_features(vp);

	switch (off) {
	case CC_DFSELECT:
		return vp->dfselect;
	case CC_DF:
		return vp->dfselect == 0   ? (uint32_t)f
		       : vp->dfselect == 1 ? (uint32_t)(f >> 32)
					   : 0;
	case CC_GFSELECT:
		return vp->gfselect;
	case CC_GF:
		return vp->gfselect == 0   ? (uint32_t)vp->guest_features
		       : vp->gfselect == 1 ? (uint32_t)(vp->guest_features >> 32)
					   : 0;
	case CC_MSIX_CONFIG:
		return vp->config_vector;
	case CC_NUM_QUEUES:
		return vp->ops->nr_queues;
	case CC_STATUS:
		return vp->status;
	case CC_CFG_GENERATION:
		return vp->config_generation;
	case CC_Q_SELECT:
		return vp->queue_select;
	case CC_Q_SIZE:
		return q ? q->size : 0;
	case CC_Q_MSIX_VECTOR:
		return q ? q->msix_vector : VIRTIO_NO_VECTOR;
	case CC_Q_ENABLE:
		return q ? q->enabled : 0;
	case CC_Q_NOTIFY_OFF:
		return q ? q->index : 0;
	case CC_Q_DESC_LO:
		return q ? (uint32_t)q->desc : 0;
	case CC_Q_DESC_HI:
		return q ? (uint32_t)(q->desc >> 32) : 0;
	case CC_Q_DRIVER_LO:
		return q ? (uint32_t)q->driver : 0;
	case CC_Q_DRIVER_HI:
		return q ? (uint32_t)(q->driver >> 32) : 0;
	case CC_Q_DEVICE_LO:
		return q ? (uint32_t)q->device : 0;
	case CC_Q_DEVICE_HI:
		return q ? (uint32_t)(q->device >> 32) : 0;
	}
	return 0;
}

static void set_lo(uint64_t *v, uint32_t lo)
{
	*v = (*v & ~0xffffffffULL) | lo;
}

static void set_hi(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32);
}

static void status_write(struct virtio_pci *vp, uint8_t v)
{
	uint64_t offered = offered_features(vp);
	bool accepted;

	if (v == 0) {
		device_reset(vp);
		return;
	}
	/*
	 * The driver must not clear a status bit (virtio 1.2, 2.1.2); only
	 * writing 0 resets. A write that clears one is ignored whole rather
	 * than taken as a reset: a reset the driver did not ask for would drop
	 * requests in flight on queues it believes live, while ignoring it
	 * keeps the device as negotiated (FEATURES_OK cannot be cleared to
	 * renegotiate under live queues). NEEDS_RESET is the device's bit: a
	 * driver that leaves it out of its write clears nothing.
	 */
	if (vp->status & ~v & ~VIRTIO_STATUS_NEEDS_RESET)
		return;
	/*
	 * FEATURES_OK only for a subset of what we offered, with VERSION_1,
	 * and never for the first time once the driver went DRIVER_OK.
	 */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((vp->guest_features & ~offered) || !virtio_pci_has_feature(vp, VIRTIO_F_VERSION_1) ||
	     (vp->status & VIRTIO_STATUS_DRIVER_OK)))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	accepted = (v & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK);
	/* NEEDS_RESET is the device's to set; the driver cannot clear it. */
	vp->status =
	    (uint8_t)((v & ~VIRTIO_STATUS_NEEDS_RESET) | (vp->status & VIRTIO_STATUS_NEEDS_RESET));
	if (accepted && vp->ops->features_ok)
		vp->ops->features_ok(vp);
}

static void common_write(struct virtio_pci *vp, uint32_t off, uint32_t v)
{
	struct virtio_pci_queue *q = selected(vp);
	bool q_writable = q && !q->enabled;

	switch (off) {
	case CC_DFSELECT:
		vp->dfselect = v;
		break;
	case CC_GFSELECT:
		vp->gfselect = v;
		break;
	case CC_GF:
		if (vp->status & VIRTIO_STATUS_FEATURES_OK)
			break; /* negotiation is over */
		if (vp->gfselect == 0)
			set_lo(&vp->guest_features, v);
		else if (vp->gfselect == 1)
			set_hi(&vp->guest_features, v);
		break;
	case CC_MSIX_CONFIG:
		vp->config_vector = v < vp->msix.nvec ? (uint16_t)v : VIRTIO_NO_VECTOR;
		break;
	case CC_STATUS:
		status_write(vp, (uint8_t)v);
		break;
	case CC_Q_SELECT:
		vp->queue_select = (uint16_t)v;
		break;
	case CC_Q_SIZE:
		/* a power of two no larger than the maximum, else ignored */
		if (q_writable && v && v <= vp->ops->queue_max && !(v & (v - 1)))
			q->size = (uint16_t)v;
		break;
	case CC_Q_MSIX_VECTOR:
		if (q)
			q->msix_vector = v < vp->msix.nvec ? (uint16_t)v : VIRTIO_NO_VECTOR;
		break;
	case CC_Q_ENABLE:
		if (q && v == 1)
			queue_enable(vp, q);
		break;
	case CC_Q_DESC_LO:
		if (q_writable)
			set_lo(&q->desc, v);
		break;
	case CC_Q_DESC_HI:
		if (q_writable)
			set_hi(&q->desc, v);
		break;
	case CC_Q_DRIVER_LO:
		if (q_writable)
			set_lo(&q->driver, v);
		break;
	case CC_Q_DRIVER_HI:
		if (q_writable)
			set_hi(&q->driver, v);
		break;
	case CC_Q_DEVICE_LO:
		if (q_writable)
			set_lo(&q->device, v);
		break;
	case CC_Q_DEVICE_HI:
		if (q_writable)
			set_hi(&q->device, v);
		break;
	}
}

/* Registers are 1, 2 or 4 bytes wide; accept naturally sized accesses only. */
static unsigned int common_width(uint32_t off)
{
	if (off == CC_STATUS || off == CC_CFG_GENERATION)
		return 1;
	if (off >= CC_MSIX_CONFIG && off < CC_Q_DESC_LO)
		return off == CC_STATUS ? 1 : 2;
	return 4;
}

/* ---- BAR 0 ---- */

static uint64_t bar_read(void *opaque, uint64_t off, unsigned int size)
{
	struct virtio_pci *vp = opaque;
	uint64_t val = 0;
	uint8_t buf[8] = {0};

	if (off >= VIRTIO_PCI_MSIX_TABLE_OFF) {
		if (msix_bar_access(&vp->msix, off, size, &val, false))
			return val;
		return ~0ULL;
	}
	pthread_mutex_lock(&vp->lock);
	if (off < VIRTIO_PCI_COMMON_LEN) {
		if (size == common_width((uint32_t)off))
			val = common_read(vp, (uint32_t)off);
	} else if (off == VIRTIO_PCI_ISR_OFF) {
		val = vp->isr;
		if (vp->isr)
			set_intx(vp, false);
		vp->isr = 0; /* reading acknowledges */
	} else if (off >= VIRTIO_PCI_DEVICE_OFF &&
		   off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_PCI_DEVICE_LEN) {
		uint32_t doff = (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF);

		if (size <= 8 && doff + size <= vp->ops->config_len && vp->ops->config_read) {
			vp->ops->config_read(vp, doff, buf, size);
			memcpy(&val, buf, size);
		}
	}
	pthread_mutex_unlock(&vp->lock);
	return val;
}

static void bar_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct virtio_pci *vp = opaque;
	uint64_t one = 1;

	if (off >= VIRTIO_PCI_MSIX_TABLE_OFF) {
		msix_bar_access(&vp->msix, off, size, &val, true);
		return;
	}
	if (off >= VIRTIO_PCI_NOTIFY_OFF && off < VIRTIO_PCI_MSIX_TABLE_OFF) {
		/* A doorbell that did not hit an ioeventfd: pass it to the I/O thread. */
		uint64_t qi = (off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;

		if (qi < vp->ops->nr_queues && write(vp->q[qi].notify_efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow from here */
		}
		pthread_mutex_lock(&vp->lock);
		if (qi < vp->ops->nr_queues && vp->q[qi].enabled)
			queue_bind_ioeventfd(&vp->q[qi]); /* the BAR may have moved */
		pthread_mutex_unlock(&vp->lock);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off < VIRTIO_PCI_COMMON_LEN) {
		if (size == common_width((uint32_t)off))
			common_write(vp, (uint32_t)off, (uint32_t)val);
	} else if (off >= VIRTIO_PCI_DEVICE_OFF &&
		   off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_PCI_DEVICE_LEN) {
		uint32_t doff = (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF);
		uint8_t buf[8];

		memcpy(buf, &val, sizeof(buf));
		if (size <= 8 && doff + size <= vp->ops->config_len && vp->ops->config_write)
			vp->ops->config_write(vp, doff, buf, size);
	}
	pthread_mutex_unlock(&vp->lock);
}

static const struct bus_ops virtio_pci_bar_ops = {
    .read = bar_read,
    .write = bar_write,
};

/* ---- BAR 0 through config space (VIRTIO_PCI_CAP_PCI_CFG) ---- */

/* Where the window points: BAR 0 only, length 1, 2 or 4, offset aligned to it. */
static bool pci_cfg_window(const struct virtio_pci *vp, uint32_t *off, unsigned int *len)
{
	const uint8_t *c = &vp->pci.cfg[vp->pci_cfg_cap];
	uint32_t o = pci_le32_get(c + VIRTIO_PCI_CFG_CAP_OFFSET);
	uint32_t l = pci_le32_get(c + VIRTIO_PCI_CFG_CAP_LENGTH);

	if (c[VIRTIO_PCI_CFG_CAP_BAR] != 0 || (l != 1 && l != 2 && l != 4) || (o & (l - 1)) ||
	    o >= VIRTIO_PCI_BAR_SIZE)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool touches_pci_cfg_data(const struct virtio_pci *vp, uint32_t off, unsigned int size)
{
	uint32_t data = vp->pci_cfg_cap + VIRTIO_PCI_CFG_CAP_DATA;

	return vp->pci_cfg_cap && off < data + 4 && data < off + size;
}

static uint32_t low_bytes(uint64_t v, unsigned int len)
{
	return len < 4 ? (uint32_t)v & ((1u << (8 * len)) - 1) : (uint32_t)v;
}

/* A read of pci_cfg_data reads the BAR into it first (0 for a bad window). */
static uint32_t pci_cfg_read(struct pci_dev *d, uint32_t off, unsigned int size, uint32_t val)
{
	struct virtio_pci *vp = d->opaque;
	uint8_t *data = &d->cfg[vp->pci_cfg_cap + VIRTIO_PCI_CFG_CAP_DATA];
	uint32_t boff, v = 0;
	unsigned int len, i;

	if (!touches_pci_cfg_data(vp, off, size))
		return val;
	if (pci_cfg_window(vp, &boff, &len))
		v = low_bytes(bar_read(vp, boff, len), len);
	pci_le32_put(data, v);
	val = 0;
	for (i = 0; i < size; i++)
		val |= (uint32_t)d->cfg[off + i] << (8 * i);
	return val;
}

/* A write of pci_cfg_data (already stored) writes its first length bytes to the BAR. */
static void pci_cfg_write(void *opaque, struct pci_dev *d, uint32_t off, unsigned int size,
			  uint32_t val)
{
	struct virtio_pci *vp = opaque;
	uint32_t boff;
	unsigned int len;

	if (!touches_pci_cfg_data(vp, off, size) || !pci_cfg_window(vp, &boff, &len))
		return;
	bar_write(vp, boff, len,
		  low_bytes(pci_le32_get(&d->cfg[vp->pci_cfg_cap + VIRTIO_PCI_CFG_CAP_DATA]), len));
}

/* ---- the COMMAND register and BAR 0 as the guest programs them ---- */

/*
 * After every config write (under the host's lock): the doorbells follow
 * BAR 0 (moved, or memory decoding switched), and Bus Master Enable going
 * on delivers the kicks and MSI-X messages held while it was off.
 */
static void virtio_config_write(struct pci_dev *d, uint32_t off, unsigned int size, uint32_t val)
{
	struct virtio_pci *vp = d->opaque;
	uint64_t one = 1;
	unsigned int i;
	bool master;

	pthread_mutex_lock(&vp->lock);
	master = pci_dev_bus_master(d);
	for (i = 0; i < vp->ops->nr_queues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];

		if (!q->enabled)
			continue;
		queue_bind_ioeventfd(q);
		if (master && !vp->bus_master && write(q->notify_efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow from here */
		}
	}
	/* messages held while bus mastering was off go out now */
	if (master != vp->bus_master)
		msix_bus_master_changed(&vp->msix);
	vp->bus_master = master;
	pthread_mutex_unlock(&vp->lock);
}

/* ---- set-up ---- */

static int add_vendor_cap(struct pci_dev *d, uint8_t type, uint32_t off, uint32_t len, bool notify)
{
	int cap = pci_cap_add(d, PCI_CAP_ID_VNDR, notify ? 20 : 16);

	if (cap < 0)
		return cap;
	d->cfg[cap + 2] = notify ? 20 : 16; /* cap_len */
	d->cfg[cap + 3] = type;
	d->cfg[cap + 4] = 0; /* BAR 0 */
	pci_le32_put(&d->cfg[cap + 8], off);
	pci_le32_put(&d->cfg[cap + 12], len);
	if (notify)
		pci_le32_put(&d->cfg[cap + 16], VIRTIO_PCI_NOTIFY_MULT);
	return 0;
}

static int add_pci_cfg_cap(struct virtio_pci *vp)
{
	struct pci_dev *d = &vp->pci;
	int cap = pci_cap_add(d, PCI_CAP_ID_VNDR, VIRTIO_PCI_CFG_CAP_LEN);

	if (cap < 0)
		return cap;
	d->cfg[cap + 2] = VIRTIO_PCI_CFG_CAP_LEN;
	d->cfg[cap + 3] = VIRTIO_PCI_CAP_PCI_CFG;
	/* bar, offset, length and pci_cfg_data are the driver's to write */
	d->wmask[cap + VIRTIO_PCI_CFG_CAP_BAR] = 0xff;
	memset(&d->wmask[cap + VIRTIO_PCI_CFG_CAP_OFFSET], 0xff,
	       VIRTIO_PCI_CFG_CAP_LEN - VIRTIO_PCI_CFG_CAP_OFFSET);
	vp->pci_cfg_cap = (uint8_t)cap;
	d->config_read = pci_cfg_read;
	return pci_cap_set_write_hook(d, (uint8_t)cap, pci_cfg_write, vp);
}

int virtio_pci_init(struct virtio_pci *vp, const struct virtio_dev_ops *ops, void *dev,
		    struct guest_mem *gm, const struct platform *p, const struct virtio_io *io)
{
	struct pci_dev *d = &vp->pci;
	unsigned int i;
	int ret;

	if (!ops->nr_queues || ops->nr_queues > VIRTIO_PCI_MAX_QUEUES || !ops->queue_max ||
	    ops->queue_max & (ops->queue_max - 1) || ops->config_len > VIRTIO_PCI_DEVICE_LEN)
		return -EINVAL;
	memset(vp, 0, sizeof(*vp));
	pthread_mutex_init(&vp->lock, NULL);
	vp->ops = ops;
	vp->dev = dev;
	vp->gm = gm;
	vp->platform = p;
	vp->io = *io;
	vp->config_vector = VIRTIO_NO_VECTOR;
	for (i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vp->q[i].notify_efd = -1;

	pci_dev_init(d, PCI_VENDOR_REDHAT_QUMRANET, VIRTIO_PCI_DEVICE_BASE + ops->device_id,
		     ops->pci_class, ops->pci_subclass, 0, PCI_VENDOR_REDHAT_QUMRANET,
		     ops->device_id, 1);
	d->name = ops->name;
	d->opaque = vp;
	d->platform = p;
	d->config_write = virtio_config_write;
	pci_dev_set_intx_pin(d, 1);
	ret = pci_bar_add(d, 0, VIRTIO_PCI_BAR_SIZE, false, true, &virtio_pci_bar_ops, vp);
	if (!ret)
		ret = add_vendor_cap(d, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
				     VIRTIO_PCI_COMMON_LEN, false);
	if (!ret)
		ret = add_vendor_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
				     ops->nr_queues * VIRTIO_PCI_NOTIFY_MULT, true);
	if (!ret)
		ret = add_vendor_cap(d, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1, false);
	if (!ret && ops->config_len)
		ret = add_vendor_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
				     ops->config_len, false);
	if (!ret)
		ret = add_pci_cfg_cap(vp);
	if (!ret)
		ret = msix_init(&vp->msix, d, ops->nr_queues + 1, 0, VIRTIO_PCI_MSIX_TABLE_OFF,
				VIRTIO_PCI_MSIX_PBA_OFF, p);
	if (ret < 0)
		return ret;
	for (i = 0; i < ops->nr_queues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];

		q->vp = vp;
		q->index = i;
		q->notify_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->notify_efd < 0)
			return -errno;
		queue_reset(q);
		if (io->watch) {
			ret = io->watch(io->ctx, q->notify_efd, queue_kicked, q);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

void virtio_pci_plugged(struct virtio_pci *vp, uint8_t intx_gsi)
{
	vp->intx_gsi = intx_gsi;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	unsigned int i;

	for (i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		struct virtio_pci_queue *q = &vp->q[i];

		if (q->notify_efd < 0)
			continue;
		queue_unbind_ioeventfd(q);
		if (vp->io.unwatch)
			vp->io.unwatch(vp->io.ctx, q->notify_efd);
		close(q->notify_efd);
		q->notify_efd = -1;
	}
	msix_destroy(&vp->msix);
	pci_dev_unmap_bars(&vp->pci);
	pthread_mutex_destroy(&vp->lock);
}

/* ---- saving and restoring ---- */

_Static_assert(sizeof(struct virtq_state) == 48, "virtq_state layout");
_Static_assert(sizeof(struct virtio_pci_queue_state) == 80, "queue state layout");

void virtio_pci_save(struct virtio_pci *vp, struct virtio_pci_state *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&vp->lock);
	s->guest_features = vp->guest_features;
	s->dfselect = vp->dfselect;
	s->gfselect = vp->gfselect;
	s->status = vp->status;
	s->isr = vp->isr;
	s->config_generation = vp->config_generation;
	s->config_vector = vp->config_vector;
	s->queue_select = vp->queue_select;
	s->nr_queues = (uint16_t)vp->ops->nr_queues;
	s->nr_vectors = (uint16_t)vp->msix.nvec;
	for (i = 0; i < vp->ops->nr_queues; i++) {
		const struct virtio_pci_queue *q = &vp->q[i];
		struct virtio_pci_queue_state *qs = &s->q[i];

		qs->size = q->size;
		qs->msix_vector = q->msix_vector;
		qs->enabled = q->enabled;
		qs->desc = q->desc;
		qs->driver = q->driver;
		qs->device = q->device;
		virtq_save(&q->vq, &qs->vq);
	}
	pthread_mutex_unlock(&vp->lock);
	msix_save(&vp->msix, s->msix, s->msix_pba, vp->msix.nvec);
}

static bool vector_ok(const struct virtio_pci *vp, uint16_t v)
{
	return v == VIRTIO_NO_VECTOR || v < vp->msix.nvec;
}

static bool flag_ok(uint8_t v)
{
	return v <= 1;
}

/* Name the bad field: -EINVAL. */
static int bad(char *field, size_t len, const char *fmt, unsigned int i)
{
	snprintf(field, len, fmt, i);
	return -EINVAL;
}

static int queue_state_check(const struct virtio_pci *vp, const struct virtio_pci_state *s,
			     unsigned int i, char *field, size_t len)
{
	bool event_idx = s->guest_features & (1ULL << VIRTIO_F_EVENT_IDX);
	bool indirect = s->guest_features & (1ULL << VIRTIO_F_INDIRECT_DESC);
	const struct virtio_pci_queue_state *q = &s->q[i];
	const struct virtq_state *v = &q->vq;
	static const struct virtq_state none;

	if (!q->size || q->size > vp->ops->queue_max || (q->size & (q->size - 1)))
		return bad(field, len, "q%u.size", i);
	if (!vector_ok(vp, q->msix_vector))
		return bad(field, len, "q%u.msix_vector", i);
	if (!flag_ok(q->enabled) || q->enabled != v->ready)
		return bad(field, len, "q%u.enabled", i);
	if (!q->enabled) /* as queue_reset left it: the ring is set up by enabling */
		return memcmp(v, &none, sizeof(none)) ? bad(field, len, "q%u.vq", i) : 0;
	if (v->size != q->size || v->desc != q->desc || v->avail != q->driver ||
	    v->used != q->device)
		return bad(field, len, "q%u.vq.layout", i);
	if (v->event_idx != event_idx || v->indirect != indirect)
		return bad(field, len, "q%u.vq.features", i);
	if (!flag_ok(v->broken) || !flag_ok(v->notify_disabled) || !flag_ok(v->signalled_valid))
		return bad(field, len, "q%u.vq.flags", i);
	/* the device gave back or completed every chain before it was saved */
	if (v->last_avail_idx != v->used_idx)
		return bad(field, len, "q%u.vq.in_flight", i);
	return 0;
}

#define STATUS_KNOWN                                                                               \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |              \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)

int virtio_pci_state_check(const struct virtio_pci *vp, const struct virtio_pci_state *s,
			   char *field, size_t len)
{
	unsigned int i, vec;
	const char *what;
	int ret;

	if (s->nr_queues != vp->ops->nr_queues)
		return bad(field, len, "nr_queues", 0);
	if (s->nr_vectors != vp->msix.nvec)
		return bad(field, len, "nr_vectors", 0);
	if (s->status & ~STATUS_KNOWN)
		return bad(field, len, "status", 0);
	/* FEATURES_OK only for what was offered, with VERSION_1 (status_write) */
	if ((s->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((s->guest_features & ~offered_features(vp)) ||
	     !(s->guest_features & (1ULL << VIRTIO_F_VERSION_1))))
		return bad(field, len, "guest_features", 0);
	if (s->isr & ~0x3u)
		return bad(field, len, "isr", 0);
	if (!vector_ok(vp, s->config_vector))
		return bad(field, len, "config_vector", 0);
	for (i = 0; i < vp->ops->nr_queues; i++) {
		ret = queue_state_check(vp, s, i, field, len);
		if (ret)
			return ret;
	}
	for (; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		static const struct virtio_pci_queue_state none;

		if (memcmp(&s->q[i], &none, sizeof(none)))
			return bad(field, len, "q%u", i);
	}
	if (msix_state_check(&vp->msix, s->msix, s->msix_pba, vp->msix.nvec, &vec, &what) < 0) {
		snprintf(field, len, "msix%u.%s", vec, what);
		return -EINVAL;
	}
	return 0;
}

int virtio_pci_restore(struct virtio_pci *vp, const struct virtio_pci_state *s, char *field,
		       size_t len)
{
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&vp->lock);
	vp->guest_features = s->guest_features;
	vp->dfselect = s->dfselect;
	vp->gfselect = s->gfselect;
	vp->status = s->status;
	vp->config_generation = s->config_generation;
	vp->config_vector = s->config_vector;
	vp->queue_select = s->queue_select;
	for (i = 0; i < vp->ops->nr_queues && !ret; i++) {
		struct virtio_pci_queue *q = &vp->q[i];
		const struct virtio_pci_queue_state *qs = &s->q[i];

		queue_reset(q);
		q->size = qs->size;
		q->msix_vector = qs->msix_vector;
		q->desc = qs->desc;
		q->driver = qs->driver;
		q->device = qs->device;
		ret = virtq_restore(&q->vq, vp->gm, &qs->vq);
		if (ret < 0) {
			snprintf(field, len, "q%u.vq (rings outside guest RAM)", i);
			virtq_reset(&q->vq);
			break;
		}
		q->enabled = qs->enabled;
	}
	/* a pending ISR holds INTx up (until MSI-X is turned on, which lowers it) */
	vp->isr = s->isr;
	if (!ret)
		set_intx(vp, vp->isr != 0);
	pthread_mutex_unlock(&vp->lock);
	if (ret < 0)
		return ret;
	return msix_restore(&vp->msix, s->msix, s->msix_pba, vp->msix.nvec);
}

void virtio_pci_kick_all(struct virtio_pci *vp)
{
	uint64_t one = 1;
	unsigned int i;

	pthread_mutex_lock(&vp->lock);
	for (i = 0; i < vp->ops->nr_queues; i++)
		if (vp->q[i].enabled && write(vp->q[i].notify_efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow from here */
		}
	pthread_mutex_unlock(&vp->lock);
}
