/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio 1.x over PCI (the modern transport): common, notify, ISR and device
 * configuration structures in BAR 0, MSI-X table and PBA in the same BAR, a
 * notify address per queue backed by an ioeventfd, feature negotiation and a
 * device reset that resets. Device models (rng, blk, ...) plug in through
 * struct virtio_dev_ops and process their queues on the I/O thread.
 */
#ifndef PETREL_VIRTIO_VIRTIO_PCI_H
#define PETREL_VIRTIO_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/platform.h"
#include "mem/guest_mem.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "virtio/virtq.h"

#define VIRTIO_PCI_MAX_QUEUES 8
#define VIRTIO_NO_VECTOR 0xffff
/*
 * Rounds of queue_notify a queue gets per turn of the I/O thread before it
 * goes back to the event loop (its eventfd signalled again).
 */
#define VIRTIO_PCI_QUEUE_ROUNDS 4

#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* BAR 0 layout */
#define VIRTIO_PCI_COMMON_OFF 0x0000
#define VIRTIO_PCI_COMMON_LEN 0x38
#define VIRTIO_PCI_ISR_OFF 0x1000
#define VIRTIO_PCI_DEVICE_OFF 0x2000
#define VIRTIO_PCI_DEVICE_LEN 0x1000
#define VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x4000
#define VIRTIO_PCI_MSIX_PBA_OFF 0x6000
#define VIRTIO_PCI_BAR_SIZE 0x8000

/*
 * The VIRTIO_PCI_CAP_PCI_CFG capability (virtio 1.2, 4.1.4.9): the driver
 * sets bar, offset and length, then config accesses to pci_cfg_data become
 * accesses of that length to BAR 0 at that offset. Offsets in the capability:
 */
#define VIRTIO_PCI_CFG_CAP_BAR 4
#define VIRTIO_PCI_CFG_CAP_OFFSET 8
#define VIRTIO_PCI_CFG_CAP_LENGTH 12
#define VIRTIO_PCI_CFG_CAP_DATA 16
#define VIRTIO_PCI_CFG_CAP_LEN 20

struct virtio_pci;

/* What a device model provides. Callbacks run with the transport's lock held. */
struct virtio_dev_ops {
	const char *name;
	uint16_t device_id; /* virtio device type: 2 blk, 4 rng, ... */
	uint8_t pci_class, pci_subclass;
	uint64_t features; /* device-specific feature bits offered */
	unsigned int nr_queues;
	/*
	 * Queues (bit per index) whose doorbell the device turns on and off
	 * itself (a receive queue wants kicks only when it ran out of buffers).
	 * The others are turned on after every kick, once the device has taken
	 * everything the driver gave.
	 */
	uint32_t kick_on_demand;
	uint16_t queue_max;
	uint32_t config_len;
	/* Device configuration space: bytes at off (off + len <= config_len). */
	void (*config_read)(struct virtio_pci *vp, uint32_t off, uint8_t *buf, unsigned int len);
	void (*config_write)(struct virtio_pci *vp, uint32_t off, const uint8_t *buf,
			     unsigned int len);
	/* The driver kicked queue q (on the I/O thread). */
	void (*queue_notify)(struct virtio_pci *vp, unsigned int q);
	/* The device was reset by the driver: drop in-flight state. */
	void (*reset)(struct virtio_pci *vp);
	/* Optional: the driver set FEATURES_OK and the features were accepted. */
	void (*features_ok)(struct virtio_pci *vp);
};

/* How the transport has the machine's I/O thread watch its eventfds. */
struct virtio_io {
	int (*watch)(void *ctx, int fd, void (*fn)(void *opaque, int fd, uint32_t events),
		     void *opaque);
	void (*unwatch)(void *ctx, int fd);
	/* Optional: watch a watched @fd for @events (EPOLLIN, EPOLLOUT) instead. */
	int (*rewatch)(void *ctx, int fd, uint32_t events);
	void *ctx;
};

struct virtio_pci_queue {
	struct virtio_pci *vp;
	unsigned int index;
	uint16_t size; /* what the driver chose (<= queue_max) */
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, driver, device;
	int notify_efd;
	bool ioeventfd; /* notify_efd is bound to the notify address */
	uint64_t ioeventfd_addr;
	struct virtq vq;
	uint64_t kicks;	     /* doorbell writes seen */
	uint64_t interrupts; /* times the queue's vector (or INTx) was raised */
};

struct virtio_pci {
	pthread_mutex_t lock;
	struct pci_dev pci;
	struct msix msix;
	const struct virtio_dev_ops *ops;
	void *dev; /* the device model */
	struct guest_mem *gm;
	const struct platform *platform;
	struct virtio_io io;
	uint8_t intx_gsi;

	uint32_t dfselect, gfselect;
	uint64_t guest_features;
	uint8_t status;
	uint8_t isr;
	uint8_t config_generation;
	uint16_t config_vector;
	uint16_t queue_select;
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
	struct virtq_req req; /* scratch for device models, under lock */
	uint8_t pci_cfg_cap;  /* config offset of the PCI_CFG capability */
	bool bus_master;      /* COMMAND's Bus Master Enable, as last seen */
};

int virtio_pci_init(struct virtio_pci *vp, const struct virtio_dev_ops *ops, void *dev,
		    struct guest_mem *gm, const struct platform *p, const struct virtio_io *io);
void virtio_pci_destroy(struct virtio_pci *vp);
/* After the host bridge plugged vp->pci: remember the INTx GSI. */
void virtio_pci_plugged(struct virtio_pci *vp, uint8_t intx_gsi);

/* For device models: the negotiated features, and interrupting the driver. */
bool virtio_pci_has_feature(const struct virtio_pci *vp, unsigned int bit);
struct virtq *virtio_pci_vq(struct virtio_pci *vp, unsigned int q);
/* Used buffers were added to queue q: interrupt the driver if it wants one. */
void virtio_pci_queue_done(struct virtio_pci *vp, unsigned int q);
/* The driver broke the rules: DEVICE_NEEDS_RESET and a config interrupt. */
void virtio_pci_needs_reset(struct virtio_pci *vp);
/* Device configuration changed (e.g. link status): bump generation, interrupt. */
void virtio_pci_config_changed(struct virtio_pci *vp);

/* One queue of the transport as saved. */
struct virtio_pci_queue_state {
	uint16_t size;
	uint16_t msix_vector;
	uint8_t enabled;
	uint8_t pad[3];
	uint64_t desc, driver, device;
	struct virtq_state vq;
};

/*
 * The transport as saved: common configuration registers, ISR, the queues
 * and the MSI-X table and PBA (the PCI config space is saved apart, with
 * pci_dev_save).
 */
struct virtio_pci_state {
	uint64_t guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status, isr, config_generation;
	uint8_t pad0;
	uint16_t config_vector, queue_select;
	uint16_t nr_queues, nr_vectors; /* of the device: checked, not restored */
	uint32_t pad1;
	struct virtio_pci_queue_state q[VIRTIO_PCI_MAX_QUEUES];
	struct msix_entry_state msix[VIRTIO_PCI_MAX_QUEUES + 1];
	uint64_t msix_pba[MSIX_PBA_WORDS(VIRTIO_PCI_MAX_QUEUES + 1)];
};

/*
 * Save the transport. The caller quiesced the device model first: nothing
 * in flight on any queue (held chains given back, requests completed).
 */
void virtio_pci_save(struct virtio_pci *vp, struct virtio_pci_state *s);
/*
 * Could the driver have brought this device to @s? Every register as its
 * write handler would take it: status and features consistent, queue sizes
 * powers of two up to queue_max, vectors inside the table or NO_VECTOR,
 * an enabled queue's ring as virtq_setup set it, nothing in flight. 0, or
 * -EINVAL with @field (@len bytes) naming the bad one ("q1.size").
 */
int virtio_pci_state_check(const struct virtio_pci *vp, const struct virtio_pci_state *s,
			   char *field, size_t len);
/*
 * Put checked @s into a transport just created (not yet running); before
 * pci_dev_restore of its config space, which binds the doorbells at the
 * restored BAR and turns on MSI-X. -EFAULT with @field when a ready
 * queue's rings are not in guest RAM.
 */
int virtio_pci_restore(struct virtio_pci *vp, const struct virtio_pci_state *s, char *field,
		       size_t len);
/*
 * Have every enabled queue processed once on the I/O thread as if kicked
 * (after a restore, or after the device gave chains back to its queues).
 */
void virtio_pci_kick_all(struct virtio_pci *vp);

#endif
