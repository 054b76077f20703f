/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-net (network device, type 1, virtio 1.2 section 5.1) on a TAP
 * interface: one receive and one transmit queue, the 12-byte virtio_net_hdr
 * passed to and from the TAP as its vnet header, so checksum and
 * segmentation offloads go straight through; and a control queue, whose one
 * command is the driver's acknowledgement of a request to announce itself
 * (VIRTIO_NET_F_GUEST_ANNOUNCE, 5.1.6.5.4), every other one answered
 * VIRTIO_NET_ERR.
 */
#ifndef PETREL_VIRTIO_VIRTIO_NET_H
#define PETREL_VIRTIO_VIRTIO_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/virtio_pci.h"

/* Feature bits (section 5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

/* Bits of the status field. */
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_S_ANNOUNCE 2

/*
 * Control queue commands (5.1.6.5): class and command bytes readable, then
 * the command's data, then the ack byte the device writes (the first
 * writable byte).
 */
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_CTRL_VLAN 2
#define VIRTIO_NET_CTRL_ANNOUNCE 3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK 0
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS 5
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1

#define VIRTIO_NET_MAC_LEN 6
/* virtio_net_hdr_v1 (with num_buffers), in front of every packet. */
#define VIRTIO_NET_HDR_LEN 12
/* Offset of num_buffers in the header. */
#define VIRTIO_NET_HDR_NUM_BUFFERS 10
/* Largest packet (with its header) a receive buffer must take (5.1.6.3.1). */
#define VIRTIO_NET_MAX_PACKET (VIRTIO_NET_HDR_LEN + 65562)
#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RX_QUEUE 0
#define VIRTIO_NET_TX_QUEUE 1
#define VIRTIO_NET_CTRL_QUEUE 2 /* after the one queue pair (5.1.2) */
#define VIRTIO_NET_NR_QUEUES 3
/* Bytes of a control command read (class, command and its data): more is ERR. */
#define VIRTIO_NET_CTRL_MAX 64
/* Segments of one chain kept while it waits for a packet or for the TAP. */
#define VIRTIO_NET_MAX_SEGS 64
/* Most iovecs of one read straight into guest buffers (the kernel's UIO_MAXIOV). */
#define VIRTIO_NET_RX_IOV_MAX 1024

/* What --net asks for. */
struct virtio_net_config_opts {
	char tap[IFNAMSIZ];
	uint8_t mac[VIRTIO_NET_MAC_LEN];
	bool detached; /* the TAP is not opened until virtio_net_attach */
};

/*
 * Parse "tap=NAME[,mac=aa:bb:cc:dd:ee:ff]" into *o. NAME has 1 to 15
 * characters, none of them '/', ':', '%' or white space, and is not "." or
 * "..". The MAC must be unicast and not all zero; without one, *o gets
 * virtio_net_default_mac(NAME). -EINVAL on an unknown or repeated key or a
 * bad value.
 */
int virtio_net_parse(const char *spec, struct virtio_net_config_opts *o);
/*
 * "aa:bb:cc:dd:ee:ff" ([v, v+len), six hex pairs) into @mac: -EINVAL when it
 * is not one, -EDOM (with @mac filled) when it is multicast or all zero.
 */
int virtio_net_parse_mac(const char *v, size_t len, uint8_t mac[VIRTIO_NET_MAC_LEN]);
/*
 * The MAC of a TAP without mac=: 52:54:00 (locally administered, unicast)
 * then three bytes of a 32-bit FNV-1a hash of @tap, lowest byte last.
 */
void virtio_net_default_mac(const char *tap, uint8_t mac[VIRTIO_NET_MAC_LEN]);

/* Device configuration layout (little endian), section 5.1.4. */
struct virtio_net_config {
	uint8_t mac[VIRTIO_NET_MAC_LEN];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

/* A chain the device holds: a receive buffer, or a packet not yet sent. */
struct virtio_net_chain {
	uint16_t head;
	uint16_t nr_segs;
	uint32_t len; /* bytes in the segments */
	struct iovec iov[VIRTIO_NET_MAX_SEGS];
	uint64_t gpa[VIRTIO_NET_MAX_SEGS];
};

/* Chains popped from a queue, in order, not yet pushed back. */
struct virtio_net_fifo {
	struct virtio_net_chain *c; /* VIRTIO_NET_QUEUE_SIZE of them */
	unsigned int first, count;
};

struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
	uint64_t ctrl_ok, ctrl_err; /* control commands answered OK, ERR */
	uint64_t ctrl_bad;	    /* control chains without room for the ack */
	uint64_t announces;	    /* announce requests raised */
};

struct virtio_net {
	struct virtio_pci vp;
	bool initialized;
	bool vp_inited;
	char tap[IFNAMSIZ];
	int tap_fd;
	int timer_fd;	  /* retries a transmit the TAP refused with EAGAIN */
	bool tap_watched; /* the I/O thread watches tap_fd for packets */
	bool timer_watched;
	bool tap_broken; /* reading failed for good: stop trying */
	bool tx_blocked; /* the TAP said EAGAIN: the timer retries */
	struct virtio_net_config cfg;
	struct virtio_net_fifo rx; /* receive buffers the driver gave */
	struct virtio_net_fifo tx; /* packets waiting for the TAP */
	/* a packet read from the TAP that waits for receive buffers */
	uint8_t *bounce;
	uint32_t bounce_len;			    /* 0: nothing waits */
	struct iovec rx_iov[VIRTIO_NET_RX_IOV_MAX]; /* scratch of the receive path */
	struct virtio_net_stats stats;
	/*
	 * Sent packets whose chains go back to the driver when done_fd fires
	 * (device state: whoever saves the device gives them back first).
	 */
	uint16_t tx_done[VIRTIO_NET_QUEUE_SIZE];
	unsigned int tx_done_count;
	int done_fd;	 /* timer: return the sent packets' chains */
	bool done_armed; /* done_fd is set to fire */
	bool done_watched;
};

/*
 * Attach to the TAP o->tap and set up the virtio-pci function. Errors are
 * explained on stderr in one line naming the TAP and the likely fix.
 * virtio_net_destroy is safe after a failed init and on a zeroed struct.
 * Call virtio_pci_plugged(&n->vp, gsi) after plugging.
 */
int virtio_net_init(struct virtio_net *n, const struct virtio_net_config_opts *o,
		    struct guest_mem *gm, const struct platform *p, const struct virtio_io *io);
void virtio_net_destroy(struct virtio_net *n);
/*
 * Let go of the TAP (a migration's source hands it to the destination on
 * this host) or take it (again). The device must be quiet (quiesced, the
 * guest paused). While detached, packets the guest sends wait in their
 * ring and nothing is received. Attach returns -errno (-EBUSY: another
 * process has the TAP), printing nothing; it is a no-op when attached.
 */
void virtio_net_detach(struct virtio_net *n);
int virtio_net_attach(struct virtio_net *n);
/*
 * Attach the TAP fd @fd another process opened (a local migration's
 * source): -ENODEV unless it is the TAP n->tap with a vnet header and no
 * packet information; its vnet header size and offloads are set as
 * tap_open and the driver's features would. On success the fd is the
 * device's; on failure the caller keeps it. -EBUSY when already attached.
 */
int virtio_net_attach_fd(struct virtio_net *n, int fd);
/* Tell the driver the link went up or down (a config interrupt). */
void virtio_net_set_link(struct virtio_net *n, bool up);
/*
 * Ask the driver to announce itself (gratuitous ARP, unsolicited neighbour
 * advertisements): when it negotiated VIRTIO_NET_F_GUEST_ANNOUNCE, set
 * VIRTIO_NET_S_ANNOUNCE in the status until its VIRTIO_NET_CTRL_ANNOUNCE_ACK,
 * and, once it is running (DRIVER_OK), raise a configuration change
 * interrupt (generation bumped). False when it did not negotiate it. Any
 * thread; the interrupt controllers must hold their final state (after a
 * restore, the vCPUs' and the VM's state are put back first).
 */
bool virtio_net_announce(struct virtio_net *n);

/*
 * The device's own state as saved (its queues are the transport's),
 * followed in its section by the @pending_len bytes of a packet received
 * from the TAP (vnet header first) that waits for receive buffers.
 */
struct virtio_net_state {
	uint8_t mac[VIRTIO_NET_MAC_LEN];
	uint16_t status;      /* of the configuration space */
	uint32_t pending_len; /* 0, or VIRTIO_NET_HDR_LEN to VIRTIO_NET_MAX_PACKET */
	uint32_t pad;	      /* 0 */
};
/* Largest section a NIC's model saves. */
#define VIRTIO_NET_STATE_MAX (sizeof(struct virtio_net_state) + VIRTIO_NET_MAX_PACKET)

/*
 * Before a save (device work held): the chains of sent packets go back to
 * the driver, packets the TAP takes now are sent, and the chains still held
 * (receive buffers, packets the TAP refused) are given back to their rings
 * as never popped (virtq_unpop), to be popped again after a restore or
 * when the device goes on; only chains that cannot be given back so (the
 * driver interleaved unusable ones) are completed empty. A packet read from
 * the TAP and waiting for buffers stays in the device, and is saved with it.
 * Control commands are answered as they come: none is ever held.
 */
void virtio_net_quiesce(struct virtio_net *n);
/* @pending: room for VIRTIO_NET_MAX_PACKET bytes, s->pending_len of them filled. */
void virtio_net_save(struct virtio_net *n, struct virtio_net_state *s, uint8_t *pending);
/*
 * NULL, or the field that cannot be this device's: another MAC, unknown
 * status bits, a pending packet shorter than its header or longer than the
 * largest packet, or not the @pending_bytes that follow the state.
 */
const char *virtio_net_state_check(const struct virtio_net *n, const struct virtio_net_state *s,
				   size_t pending_bytes);
/* Put a checked state in; @pending holds s->pending_len bytes (or is NULL without any). */
void virtio_net_restore(struct virtio_net *n, const struct virtio_net_state *s,
			const uint8_t *pending);

#endif
