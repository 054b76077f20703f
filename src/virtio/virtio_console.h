/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-console (type 3, virtio 1.2 section 5.3) with a single port and no
 * MULTIPORT: receiveq0 carries host input to the guest, transmitq0 carries
 * the guest's output to the host. The console size is in the configuration
 * space (VIRTIO_CONSOLE_F_SIZE). Linux drives it as hvc0.
 */
#ifndef PETREL_VIRTIO_VIRTIO_CONSOLE_H
#define PETREL_VIRTIO_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio_pci.h"

/* Feature bits (section 5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

#define VIRTIO_CONSOLE_RX_QUEUE 0
#define VIRTIO_CONSOLE_TX_QUEUE 1
#define VIRTIO_CONSOLE_QUEUE_SIZE 64
/* Writable segments of one receive buffer that are used (the rest stay empty). */
#define VIRTIO_CONSOLE_RX_SEGS 8

/* Device configuration layout (little endian), section 5.3.4. */
struct virtio_console_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
} __attribute__((packed));

/* A receive buffer the driver gave: held until host input fills it. */
struct virtio_console_rxbuf {
	uint16_t head;
	unsigned int nr_segs;
	struct {
		uint8_t *hva;
		uint64_t gpa;
		uint32_t len;
	} segs[VIRTIO_CONSOLE_RX_SEGS];
};

typedef void (*virtio_console_out_fn)(void *opaque, const uint8_t *buf, size_t len);

struct virtio_console {
	struct virtio_pci vp;
	bool vp_inited;
	struct virtio_console_config cfg;
	virtio_console_out_fn out; /* NULL: output is discarded */
	void *opaque;
	/*
	 * Called when the driver added receive buffers or wrote its first
	 * output, so that input kept pending can be offered again. Runs on the I/O thread with the
	 * device lock held: it must not call virtio_console_input itself.
	 */
	void (*rx_ready)(void *opaque);
	bool guest_up;	/* the driver wrote since the reset: its console is up */
	bool size_sent; /* the driver was told about the size since the reset */
	/* receive buffers in the order the driver made them available */
	struct virtio_console_rxbuf rx[VIRTIO_CONSOLE_QUEUE_SIZE];
	unsigned int rx_head, rx_count;
	/* stats */
	uint64_t bytes_in, bytes_out;
};

/*
 * Set up the virtio-pci function. Guest output goes to @out(@opaque, ...)
 * (on the I/O thread, NULL to discard it); the size starts at 80x25. Call
 * virtio_pci_plugged(&c->vp, gsi) after plugging. virtio_console_destroy is
 * safe after a failed init and on a zeroed struct.
 */
int virtio_console_init(struct virtio_console *c, struct guest_mem *gm, const struct platform *p,
			const struct virtio_io *io, virtio_console_out_fn out, void *opaque);
void virtio_console_destroy(struct virtio_console *c);
/* Have @fn(opaque) called when the driver adds receive buffers (see rx_ready). */
void virtio_console_set_rx_ready(struct virtio_console *c, void (*fn)(void *opaque));
/*
 * Put host input into the driver's receive buffers; returns how many bytes
 * were taken: 0 while the driver has no buffers (not ready yet, or all in
 * use) or has not written anything yet. The caller keeps the rest and
 * offers it again after rx_ready.
 */
size_t virtio_console_input(struct virtio_console *c, const uint8_t *buf, size_t len);
/* The console's size changed: update the configuration, tell the driver. */
void virtio_console_set_size(struct virtio_console *c, uint16_t cols, uint16_t rows);

/* The device's own state as saved (its queues are the transport's). */
struct virtio_console_state {
	uint8_t guest_up;
	uint8_t size_sent;
	uint16_t cols, rows; /* the size the driver was shown */
	uint8_t pad[2];
};

/*
 * Before a save (device work held): the receive buffers held are given back
 * to the ring as never popped (virtq_unpop), else completed empty. Output
 * is never held: it went out as the driver wrote it.
 */
void virtio_console_quiesce(struct virtio_console *c);
void virtio_console_save(struct virtio_console *c, struct virtio_console_state *s);
/* NULL, or the first bad field. */
const char *virtio_console_state_check(const struct virtio_console_state *s);
/*
 * After the transport and its config space are restored: when the console
 * here has another size than the driver was shown, it is told (a config
 * interrupt).
 */
void virtio_console_restore(struct virtio_console *c, const struct virtio_console_state *s);

#endif
