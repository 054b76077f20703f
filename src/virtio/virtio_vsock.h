/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-vsock (socket device, type 19, virtio 1.2 section 5.10) with
 * Firecracker's hybrid host side: the host end of each connection is a UNIX
 * socket (virtio_vsock_conn.h). Queues rx, tx and event; the configuration
 * holds the guest's cid. Only stream sockets.
 */
#ifndef PETREL_VIRTIO_VIRTIO_VSOCK_H
#define PETREL_VIRTIO_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio_pci.h"
#include "virtio/virtio_vsock_conn.h"

#define VIRTIO_VSOCK_F_STREAM 0

#define VIRTIO_VSOCK_RX_QUEUE 0
#define VIRTIO_VSOCK_TX_QUEUE 1
#define VIRTIO_VSOCK_EVENT_QUEUE 2
#define VIRTIO_VSOCK_NR_QUEUES 3
#define VIRTIO_VSOCK_QUEUE_SIZE 256

#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET 0

/* Device configuration layout (little endian), section 5.10.4. */
struct virtio_vsock_config {
	uint64_t guest_cid;
} __attribute__((packed));

struct virtio_vsock {
	struct virtio_pci vp;
	bool vp_inited;
	struct virtio_vsock_config cfg;
	char uds[VSOCK_UDS_PATH_MAX + 1];
	bool uds_created; /* removed at the end */
	int listen_fd;
	bool listen_watched;
	bool reset_owed; /* a TRANSPORT_RESET event waits for an event buffer */
	/*
	 * The connections are to go (a driver reset on a vCPU thread, a
	 * restore): the host sockets are the I/O thread's, so it closes them,
	 * told through work_efd, before it does anything else with the device.
	 */
	bool conns_reset;
	bool had_conns; /* detached with connections open */
	int work_efd;
	bool work_watched;
	struct vsock_mux mux;
	struct iovec iov[VIRTQ_MAX_SEGS]; /* scratch, under the lock */
	uint64_t events_sent;
};

/*
 * Create the listening socket at o->uds (an existing path is refused:
 * -EEXIST, said on stderr), unless @detached, and set up the virtio-pci
 * function. Call virtio_pci_plugged after plugging. virtio_vsock_destroy is
 * safe after a failed init; it removes the socket it created.
 */
int virtio_vsock_init(struct virtio_vsock *v, const struct virtio_vsock_config_opts *o,
		      bool detached, struct guest_mem *gm, const struct platform *p,
		      const struct virtio_io *io);
void virtio_vsock_destroy(struct virtio_vsock *v);
/*
 * A migration on one host hands the UDS over (the machine paused, device
 * work held): detach closes the connections and removes the listening
 * socket; attach creates it (-EEXIST when the path is taken, -errno) and,
 * on a device that had connections, has the driver told of a transport
 * reset.
 */
void virtio_vsock_detach(struct virtio_vsock *v);
int virtio_vsock_attach(struct virtio_vsock *v);
/*
 * Every connection is closed and the driver gets a TRANSPORT_RESET event
 * (on the I/O thread, once it runs the device's work, and as soon as the
 * driver gives an event buffer): after a restore, whose connections stayed
 * behind. Returns whether the driver runs the device.
 */
bool virtio_vsock_transport_reset(struct virtio_vsock *v);
/* Counters for --stats (any thread). */
void virtio_vsock_stats(struct virtio_vsock *v, struct vsock_mux_stats *s, unsigned int *conns);

/* The device's own state as saved: connections are not carried. */
struct virtio_vsock_state {
	uint64_t guest_cid;
};

void virtio_vsock_save(struct virtio_vsock *v, struct virtio_vsock_state *s);
/* NULL, or the field that does not fit this device (another cid). */
const char *virtio_vsock_state_check(const struct virtio_vsock *v,
				     const struct virtio_vsock_state *s);

#endif
