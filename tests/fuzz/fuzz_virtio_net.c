// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net's transmit, receive and control paths on the virtqueue walker,
 * over the harness's guest memory (fuzz_virtio.h): queue 0 receives, 1
 * transmits, 2 takes control commands (the harness's third queue, at fixed
 * pages). The TAP is one end of a SOCK_SEQPACKET socket pair (this file
 * provides tap_open and friends); the harness is the network on the other
 * end and drains it after every command.
 *
 * Feature byte: bit 0 MRG_RXBUF, 1 CSUM, 2 GUEST_CSUM, 3 GUEST_TSO4, 4
 * HOST_TSO4, 5 STATUS, 6 MAC, 7 GUEST_ECN; the header's flag 0x10 adds
 * CTRL_VQ, 0x20 GUEST_ANNOUNCE. DEV: a packet from the network
 * (sub-command byte: bit 7 a large one of a pattern, of 1500 + u16 bytes,
 * else u16 length and bytes of the input), then the TAP's handler runs if
 * the device watches the TAP. DEV2's sub-command: 0 the transmit-done timer
 * fires, 1 the transmit-retry timer fires, 2 the link goes up or down (bit
 * 2), 3 the TAP's handler runs; with bit 4 the host first asks the driver
 * to announce itself (as after a restore).
 *
 * Besides the harness's invariants: every packet sent has a whole header and
 * is no larger than the largest packet; the status shows an announce request
 * only to a driver that negotiated GUEST_ANNOUNCE, and only ANNOUNCE_ACK is
 * answered OK, never before an announce was possible.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_virtio.h"
#include "virtio/tap.h"
#include "virtio/virtio_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's header flags (fuzz_virtio.h leaves 0x10..0x80 to targets). */
#define FZ_NET_CTRL_VQ 0x10
#define FZ_NET_GUEST_ANNOUNCE 0x20

static struct fz fz;
static struct virtio_net net;
static int peer = -1; /* the network's end */
static uint8_t pkt[VIRTIO_NET_MAX_PACKET + 64];
static bool announce_seen; /* GUEST_ANNOUNCE was negotiated at some point of this input */

/* ---- the TAP: a socket pair ---- */

int tap_open(const char *name, const char **what)
{
	int sv[2];

	*what = "socketpair";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	peer = sv[1];
	return sv[0];
}

int tap_set_offload(int fd, unsigned int offloads)
{
	return 0;
}

void tap_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* a TAP handed over by a migration: never in this harness */
int tap_adopt(int fd, const char *name)
{
	(void)fd;
	(void)name;
	return -ENODEV;
}

/* ---- the target ---- */

/* Empty a nonblocking socket; @check: the packets the device sent. */
static void drain(int fd, bool check)
{
	ssize_t r;

	while ((r = recv(fd, pkt, sizeof(pkt), MSG_TRUNC)) >= 0) {
		if (check && (r < VIRTIO_NET_HDR_LEN || r > VIRTIO_NET_MAX_PACKET))
			fz_fail("a packet sent without its header, or too large");
	}
}

/* The device (its queues, buffers and TAP) is made once and reset by each input's driver. */
static int net_create(struct fz *f)
{
	struct virtio_net_config_opts o = {.tap = "fuzz0", .mac = {0x52, 0x54, 0, 1, 2, 3}};

	if (!net.initialized && virtio_net_init(&net, &o, &f->gm, &f->plat, &f->io) < 0)
		return -1;
	drain(net.tap_fd, false);
	drain(peer, false);
	virtio_net_set_link(&net, true);
	memset(&net.stats, 0, sizeof(net.stats));
	announce_seen = false;
	f->vp = &net.vp;
	return 0;
}

static void net_destroy(struct fz *f)
{
}

static uint32_t net_features(const struct fz *f)
{
	static const unsigned int bits[] = {VIRTIO_NET_F_MRG_RXBUF,  VIRTIO_NET_F_CSUM,
					    VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
					    VIRTIO_NET_F_HOST_TSO4,  VIRTIO_NET_F_STATUS,
					    VIRTIO_NET_F_MAC,	     VIRTIO_NET_F_GUEST_ECN};
	uint32_t feat = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		if (f->dev_features & (1u << i))
			feat |= 1u << bits[i];
	if (f->flags & FZ_NET_CTRL_VQ)
		feat |= 1u << VIRTIO_NET_F_CTRL_VQ;
	if (f->flags & FZ_NET_GUEST_ANNOUNCE)
		feat |= 1u << VIRTIO_NET_F_GUEST_ANNOUNCE;
	return feat;
}

static void on_tap(struct fz *f)
{
	if (fz_watched(f, net.tap_fd))
		fz_fire(f, net.tap_fd);
}

static void net_dev(struct fz *f, struct fz_in *in)
{
	uint8_t sub = fz_u8(in);
	const uint8_t *p;
	size_t len;

	if (sub & 0x80) {
		len = 1500 + fz_u16(in);
		if (len > VIRTIO_NET_MAX_PACKET)
			len = VIRTIO_NET_MAX_PACKET;
		memset(pkt, sub, len);
		p = pkt;
	} else {
		p = fz_bytes(in, fz_u16(in), &len);
	}
	if (send(peer, p, len, 0) < 0) {
		/* the socket is full: the packet is lost, as on a real network */
	}
	on_tap(f);
}

static void net_dev2(struct fz *f, struct fz_in *in)
{
	uint8_t sub = fz_u8(in);

	if (sub & 0x10)
		virtio_net_announce(&net);
	switch (sub & 3) {
	case 0:
		fz_fire(f, net.done_fd);
		break;
	case 1:
		fz_fire(f, net.timer_fd);
		break;
	case 2:
		virtio_net_set_link(&net, sub & 4);
		break;
	case 3:
		on_tap(f);
		break;
	}
}

static bool net_idle(struct fz *f)
{
	return !net.tx.count && !net.tx_done_count && !net.tx_blocked;
}

static void net_check(struct fz *f)
{
	bool announce = virtio_pci_has_feature(&net.vp, VIRTIO_NET_F_GUEST_ANNOUNCE);

	drain(peer, true);
	if (announce)
		announce_seen = true;
	if ((le16toh(net.cfg.status) & VIRTIO_NET_S_ANNOUNCE) && !announce)
		fz_fail("an announce request shown to a driver without GUEST_ANNOUNCE");
	/* ANNOUNCE_ACK is the only command answered OK */
	if (net.stats.ctrl_ok && !announce_seen)
		fz_fail("a control command answered OK without GUEST_ANNOUNCE");
}

/* The event loop would serve the timers: the chains held go back. */
static void net_finish(struct fz *f)
{
	unsigned int i;

	for (i = 0; i < 8 && !net_idle(f); i++) {
		fz_fire(f, net.done_fd);
		fz_fire(f, net.timer_fd);
		drain(peer, true);
	}
	if (getenv("FUZZ_VIRTIO_DEBUG"))
		fprintf(stderr,
			"net: tx %llu (%llu dropped, %llu errors), rx %llu (%llu dropped, "
			"%llu errors), control %llu ok %llu err %llu bad, status %#x\n",
			(unsigned long long)net.stats.tx_packets,
			(unsigned long long)net.stats.tx_dropped,
			(unsigned long long)net.stats.tx_errors,
			(unsigned long long)net.stats.rx_packets,
			(unsigned long long)net.stats.rx_dropped,
			(unsigned long long)net.stats.rx_errors,
			(unsigned long long)net.stats.ctrl_ok,
			(unsigned long long)net.stats.ctrl_err,
			(unsigned long long)net.stats.ctrl_bad, net.vp.status);
}

static const struct fz_target target = {
    .nr_queues = 3,
    .create = net_create,
    .destroy = net_destroy,
    .features = net_features,
    .dev = net_dev,
    .dev2 = net_dev2,
    .idle = net_idle,
    .check = net_check,
    .finish = net_finish,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		fz_global_init(&fz);
		ready = true;
	}
	fz_run(&fz, &target, data, size);
	return 0;
}
