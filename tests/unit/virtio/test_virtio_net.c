// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the virtio-net device: a driver written here sets the device
 * up through BAR 0 and puts descriptors into a real guest memory; the TAP is
 * one end of a SOCK_SEQPACKET socket pair (this file provides tap_open and
 * friends), so the test plays the network on the other end. The I/O thread's
 * watches are recorded and their handlers called by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mem/guest_mem.h"
#include "virtio/tap.h"
#include "virtio/virtio_net.h"

#define MB (1024ULL * 1024)
#define QSZ 16
#define RX 0
#define TX 1
#define CQ 2 /* the control queue */
/* Rings of queue q */
#define DESC(q) (0x1000ULL + 0x3000ULL * (q))
#define AVAIL(q) (0x2000ULL + 0x3000ULL * (q))
#define USED(q) (0x3000ULL + 0x3000ULL * (q))
#define BUF 0x10000ULL
/* Common configuration registers */
#define CC_GFSELECT 0x08
#define CC_NUM_QUEUES 0x12
#define CC_CONFIG_GEN 0x15
#define CC_GF 0x0c
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_ENABLE 0x1c
#define CC_Q_DESC_LO 0x20
#define CC_Q_DRIVER_LO 0x28
#define CC_Q_DEVICE_LO 0x30

#define F_BASE ((1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_STATUS) | (1u << VIRTIO_NET_F_CSUM))
#define F_MRG (F_BASE | (1u << VIRTIO_NET_F_MRG_RXBUF))
#define F_CTRL (F_BASE | (1u << VIRTIO_NET_F_CTRL_VQ) | (1u << VIRTIO_NET_F_GUEST_ANNOUNCE))
/* Where control commands and their acks are put. */
#define CMD 0x30000ULL
#define ACK 0x31000ULL

/* ---- the TAP: a socket pair ---- */

static int peer_fd = -1;		/* the network's end */
static unsigned int tap_offloads = ~0u; /* what tap_set_offload was last given */

int tap_open(const char *name, const char **what)
{
	int sv[2];

	*what = "socketpair";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	peer_fd = sv[1];
	tap_offloads = 0;
	return sv[0];
}

int tap_set_offload(int fd, unsigned int offloads)
{
	tap_offloads = offloads;
	return 0;
}

void tap_close(int fd)
{
	close(fd);
}

/* A TAP handed over: here, any socket whose name is "ok" */
int tap_adopt(int fd, const char *name)
{
	return strcmp(name, "ok") ? -ENODEV : 0;
}

/* ---- the I/O thread's watches ---- */

struct watch {
	int fd;
	void (*fn)(void *opaque, int fd, uint32_t events);
	void *opaque;
};

struct fx {
	struct guest_mem gm;
	struct platform plat;
	struct virtio_net *n;
	struct watch w[16];
	uint16_t avail_idx[3];
	uint16_t used_seen[3];
	uint16_t qsz; /* queue size the driver picks (QSZ unless a test says) */
};

static int fake_watch(void *ctx, int fd, void (*fn)(void *opaque, int fd, uint32_t events),
		      void *opaque)
{
	struct fx *f = ctx;
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (f->w[i].fn && f->w[i].fd == fd)
			return -EEXIST;
	}
	for (i = 0; i < 16; i++) {
		if (!f->w[i].fn) {
			f->w[i] = (struct watch){fd, fn, opaque};
			return 0;
		}
	}
	return -ENOSPC;
}

static void fake_unwatch(void *ctx, int fd)
{
	struct fx *f = ctx;
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (f->w[i].fn && f->w[i].fd == fd)
			memset(&f->w[i], 0, sizeof(f->w[i]));
	}
}

static struct watch *watched(struct fx *f, int fd)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (f->w[i].fn && f->w[i].fd == fd)
			return &f->w[i];
	}
	return NULL;
}

/* The I/O thread sees fd ready. */
static void fire(struct fx *f, int fd)
{
	struct watch *w = watched(f, fd);

	assert_non_null(w);
	w->fn(w->opaque, fd, 1);
}

static void kick(struct fx *f, unsigned int q)
{
	fire(f, f->n->vp.q[q].notify_efd);
}

/* ---- the driver ---- */

static void bar_wr(struct fx *f, uint64_t off, unsigned int size, uint64_t val)
{
	const struct pci_bar *b = &f->n->vp.pci.bar[0];

	b->ops->write(b->opaque, off, size, val);
}

static uint64_t bar_rd(struct fx *f, uint64_t off, unsigned int size)
{
	const struct pci_bar *b = &f->n->vp.pci.bar[0];

	return b->ops->read(b->opaque, off, size);
}

/* The driver sets up @nq queues (2, or 3 with the control queue) and runs. */
static void driver_start_queues(struct fx *f, uint32_t features, unsigned int nq)
{
	unsigned int q;

	bar_wr(f, CC_STATUS, 1, 0);
	bar_wr(f, CC_STATUS, 1, 1);
	bar_wr(f, CC_STATUS, 1, 3);
	bar_wr(f, CC_GFSELECT, 4, 0);
	bar_wr(f, CC_GF, 4, features);
	bar_wr(f, CC_GFSELECT, 4, 1);
	bar_wr(f, CC_GF, 4, 1); /* VIRTIO_F_VERSION_1 */
	bar_wr(f, CC_STATUS, 1, 0xb);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), 0xb);
	for (q = 0; q < nq; q++) {
		bar_wr(f, CC_Q_SELECT, 2, q);
		bar_wr(f, CC_Q_SIZE, 2, f->qsz);
		bar_wr(f, CC_Q_DESC_LO, 4, DESC(q));
		bar_wr(f, CC_Q_DRIVER_LO, 4, AVAIL(q));
		bar_wr(f, CC_Q_DEVICE_LO, 4, USED(q));
		bar_wr(f, CC_Q_ENABLE, 2, 1);
		f->avail_idx[q] = 0;
		f->used_seen[q] = 0;
	}
	bar_wr(f, CC_STATUS, 1, 0xf);
}

static void driver_start(struct fx *f, uint32_t features)
{
	driver_start_queues(f, features, 2);
}

static void put(struct fx *f, uint64_t gpa, const void *p, uint64_t len)
{
	assert_int_equal(gm_write(&f->gm, gpa, p, len), 0);
}

static void get(struct fx *f, uint64_t gpa, void *p, uint64_t len)
{
	assert_int_equal(gm_read(&f->gm, gpa, p, len), 0);
}

static void desc(struct fx *f, unsigned int q, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};

	put(f, DESC(q) + 16ULL * i, &d, sizeof(d));
}

static void avail_add(struct fx *f, unsigned int q, uint16_t head)
{
	uint16_t idx;

	put(f, AVAIL(q) + 4 + 2 * (f->avail_idx[q] % f->qsz), &head, 2);
	idx = ++f->avail_idx[q];
	put(f, AVAIL(q) + 2, &idx, 2);
}

/* A receive buffer of @len bytes at @gpa as descriptor (and chain) @i. */
static void rx_buffer(struct fx *f, uint16_t i, uint64_t gpa, uint32_t len)
{
	desc(f, RX, i, gpa, len, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, RX, i);
}

static uint16_t used_idx(struct fx *f, unsigned int q)
{
	uint16_t v;

	get(f, USED(q) + 2, &v, 2);
	return v;
}

/* The next used element of queue q. */
static void used_next(struct fx *f, unsigned int q, uint32_t *id, uint32_t *len)
{
	uint16_t slot = f->used_seen[q]++ % f->qsz;

	assert_true((uint16_t)(used_idx(f, q) - f->used_seen[q]) < 0x8000);
	get(f, USED(q) + 4 + 8 * slot, id, 4);
	get(f, USED(q) + 8 + 8 * slot, len, 4);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* The network sends a packet of @len bytes (vnet header included). */
static void peer_send(uint8_t seed, size_t len)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	fill(p, len, seed);
	if (len >= VIRTIO_NET_HDR_NUM_BUFFERS + 2) /* a short one has no field to set */
		memset(p + VIRTIO_NET_HDR_NUM_BUFFERS, 0xee, 2); /* the device sets it */
	assert_int_equal(send(peer_fd, p, len, 0), (ssize_t)len);
	free(p);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct virtio_net_config_opts o;
	struct virtio_io io = {.watch = fake_watch, .unwatch = fake_unwatch};

	if (!f)
		return -1;
	io.ctx = f;
	f->qsz = QSZ;
	gm_init(&f->gm);
	if (gm_add_region(&f->gm, "ram", 0, 4 * MB) < 0)
		return -1;
	f->n = calloc(1, sizeof(*f->n));
	if (!f->n || virtio_net_parse("tap=t0,mac=52:54:00:aa:bb:cc", &o) < 0 ||
	    virtio_net_init(f->n, &o, &f->gm, &f->plat, &io) < 0)
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	virtio_net_destroy(f->n);
	free(f->n);
	close(peer_fd);
	peer_fd = -1;
	gm_destroy(&f->gm);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void test_config_and_offloads(void **state)
{
	struct fx *f = *state;
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
	unsigned int i;

	for (i = 0; i < 6; i++)
		assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + i, 1), mac[i]);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 6, 2), VIRTIO_NET_S_LINK_UP);
	driver_start(f, F_MRG | (1u << VIRTIO_NET_F_GUEST_CSUM) | (1u << VIRTIO_NET_F_GUEST_TSO4) |
			    (1u << VIRTIO_NET_F_GUEST_ECN));
	assert_int_equal(tap_offloads, TAP_OFFLOAD_CSUM | TAP_OFFLOAD_TSO4 | TAP_OFFLOAD_ECN);
	bar_wr(f, CC_STATUS, 1, 0);
	assert_int_equal(tap_offloads, 0);
	/* a feature the device does not offer: FEATURES_OK refused */
	bar_wr(f, CC_STATUS, 1, 3);
	bar_wr(f, CC_GFSELECT, 4, 0);
	bar_wr(f, CC_GF, 4, 1u << VIRTIO_NET_F_GUEST_UFO);
	bar_wr(f, CC_GFSELECT, 4, 1);
	bar_wr(f, CC_GF, 4, 1);
	bar_wr(f, CC_STATUS, 1, 0xb);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), 3);
}

static void test_tx(void **state)
{
	struct fx *f = *state;
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0}, frame[60], got[200];
	uint32_t id, len;

	driver_start(f, F_BASE);
	fill(frame, sizeof(frame), 1);
	put(f, BUF, hdr, sizeof(hdr));
	put(f, BUF + 0x100, frame, sizeof(frame));
	desc(f, TX, 0, BUF, sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	desc(f, TX, 1, BUF + 0x100, sizeof(frame), 0, 0);
	avail_add(f, TX, 0);
	kick(f, TX);
	assert_int_equal(recv(peer_fd, got, sizeof(got), 0), sizeof(hdr) + sizeof(frame));
	assert_memory_equal(got, hdr, sizeof(hdr));
	assert_memory_equal(got + sizeof(hdr), frame, sizeof(frame));
	/* a small packet's chain goes back at once */
	used_next(f, TX, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 0);
	assert_int_equal(f->n->stats.tx_packets, 1);
	assert_int_equal(f->n->stats.tx_bytes, sizeof(frame));
	assert_false(f->n->done_armed);
	/* a bigger one's when the completion timer fires */
	desc(f, TX, 2, BUF, 1000, 0, 0);
	avail_add(f, TX, 2);
	kick(f, TX);
	assert_int_equal(recv(peer_fd, got, sizeof(got), 0), sizeof(got)); /* cut to the buffer */
	assert_int_equal(used_idx(f, TX), 1);
	assert_true(f->n->done_armed);
	fire(f, f->n->done_fd);
	assert_false(f->n->done_armed);
	used_next(f, TX, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(f->n->stats.tx_packets, 2);
}

static void test_tx_bad_chains(void **state)
{
	struct fx *f = *state;
	uint8_t got[200];
	uint32_t id, len;

	driver_start(f, F_BASE | (1u << VIRTIO_F_INDIRECT_DESC));
	/* a writable part */
	desc(f, TX, 0, BUF, 100, VIRTQ_DESC_F_NEXT, 1);
	desc(f, TX, 1, BUF + 0x100, 100, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, TX, 0);
	/* shorter than the header */
	desc(f, TX, 2, BUF, 8, 0, 0);
	avail_add(f, TX, 2);
	/* longer than the largest packet */
	desc(f, TX, 3, BUF, VIRTIO_NET_MAX_PACKET + 1, 0, 0);
	avail_add(f, TX, 3);
	/* in more pieces than the device keeps (an indirect table) */
	for (uint16_t i = 0; i <= VIRTIO_NET_MAX_SEGS; i++) {
		struct virtq_desc d = {
		    .addr = BUF, .len = 20, .flags = VIRTQ_DESC_F_NEXT, .next = i + 1};

		if (i == VIRTIO_NET_MAX_SEGS)
			d.flags = 0;
		put(f, BUF + 0x10000 + 16 * i, &d, sizeof(d));
	}
	desc(f, TX, 4, BUF + 0x10000, 16 * (VIRTIO_NET_MAX_SEGS + 1), VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, TX, 4);
	kick(f, TX);
	assert_int_equal(used_idx(f, TX), 4);
	for (unsigned int k = 0; k < 4; k++) {
		used_next(f, TX, &id, &len);
		assert_int_equal(len, 0);
	}
	assert_int_equal(recv(peer_fd, got, sizeof(got), 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(f->n->stats.tx_dropped, 4);
	assert_false(f->n->vp.status & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_rx_mergeable(void **state)
{
	struct fx *f = *state;
	uint8_t *want = malloc(5012), *got = malloc(5012);
	uint16_t nbufs;
	uint32_t id, len;
	unsigned int i;

	driver_start(f, F_MRG);
	for (i = 0; i < 4; i++)
		rx_buffer(f, (uint16_t)i, BUF + 0x1000 * i, 2048);
	kick(f, RX);
	assert_non_null(watched(f, f->n->tap_fd)); /* buffers: the TAP is read */
	peer_send(9, 5012);
	fire(f, f->n->tap_fd);
	assert_int_equal(used_idx(f, RX), 3);
	for (i = 0; i < 3; i++) {
		used_next(f, RX, &id, &len);
		assert_int_equal(id, i);
		assert_int_equal(len, i < 2 ? 2048 : 5012 - 4096);
		get(f, BUF + 0x1000 * i, got + 2048 * i, len);
	}
	fill(want, 5012, 9);
	memcpy(&nbufs, got + VIRTIO_NET_HDR_NUM_BUFFERS, 2);
	assert_int_equal(nbufs, 3);
	memcpy(want + VIRTIO_NET_HDR_NUM_BUFFERS, &nbufs, 2);
	assert_memory_equal(got, want, 5012);
	assert_int_equal(f->n->rx.count, 1); /* the fourth buffer waits */
	assert_int_equal(f->n->stats.rx_packets, 1);
	assert_int_equal(f->n->stats.rx_bytes, 5000);
	free(want);
	free(got);
}

static void test_rx_runs_out_of_buffers(void **state)
{
	struct fx *f = *state;
	uint8_t got[300], want[300];
	uint32_t id, len;

	driver_start(f, F_MRG);
	rx_buffer(f, 0, BUF, 2048);
	kick(f, RX);
	peer_send(1, 100);
	peer_send(2, 300);
	fire(f, f->n->tap_fd);
	/* one packet delivered; no buffer for the next: the TAP is left alone */
	assert_int_equal(used_idx(f, RX), 1);
	assert_null(watched(f, f->n->tap_fd));
	/* a new buffer and a kick: the second packet, and the TAP is watched again */
	rx_buffer(f, 1, BUF + 0x1000, 2048);
	kick(f, RX);
	assert_int_equal(used_idx(f, RX), 2);
	used_next(f, RX, &id, &len);
	used_next(f, RX, &id, &len);
	assert_int_equal(id, 1);
	assert_int_equal(len, 300);
	get(f, BUF + 0x1000, got, 300);
	fill(want, 300, 2);
	want[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
	want[VIRTIO_NET_HDR_NUM_BUFFERS + 1] = 0;
	assert_memory_equal(got, want, 300);
	rx_buffer(f, 2, BUF + 0x2000, 2048);
	kick(f, RX);
	assert_non_null(watched(f, f->n->tap_fd));
	assert_int_equal(f->n->stats.rx_dropped, 0);
}

static uint16_t used_flags(struct fx *f, unsigned int q)
{
	uint16_t v;

	get(f, USED(q), &v, 2);
	return v;
}

/* Receive kicks are wanted only when the device has run out of buffers. */
static void test_rx_kicks_only_when_out(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	driver_start(f, F_MRG);
	assert_int_equal(used_flags(f, RX), 0);
	rx_buffer(f, 0, BUF, 2048);
	kick(f, RX);
	assert_int_equal(used_flags(f, RX), VIRTQ_USED_F_NO_NOTIFY);
	/* a buffer added without a kick is taken when a packet needs it */
	rx_buffer(f, 1, BUF + 0x1000, 2048);
	peer_send(1, 100);
	peer_send(2, 200);
	fire(f, f->n->tap_fd);
	assert_int_equal(used_idx(f, RX), 2);
	used_next(f, RX, &id, &len);
	used_next(f, RX, &id, &len);
	assert_int_equal(id, 1);
	assert_int_equal(len, 200);
	/* none left: kicks are asked for, and the TAP waits */
	assert_int_equal(used_flags(f, RX), 0);
	assert_null(watched(f, f->n->tap_fd));
	peer_send(3, 300);
	rx_buffer(f, 2, BUF + 0x2000, 2048);
	kick(f, RX);
	assert_int_equal(used_idx(f, RX), 3);
	assert_int_equal(used_flags(f, RX), 0); /* ran out again */
	rx_buffer(f, 3, BUF + 0x3000, 2048);
	kick(f, RX);
	assert_int_equal(used_flags(f, RX), VIRTQ_USED_F_NO_NOTIFY);
	assert_non_null(watched(f, f->n->tap_fd));
}

/*
 * Buffers that run out just as the receive budget does: the TAP stays
 * watched (kicks are off), and its handler asks for kicks.
 */
static void test_rx_budget_ends_with_the_buffers(void **state)
{
	struct fx *f = *state;
	uint16_t i;

	f->qsz = 128;
	driver_start(f, F_MRG);
	rx_buffer(f, 0, BUF, 2048);
	kick(f, RX);
	peer_send(0, 60);
	fire(f, f->n->tap_fd); /* delivered; none left: kicks asked for */
	assert_int_equal(used_idx(f, RX), 1);
	assert_int_equal(used_flags(f, RX), 0);
	for (i = 1; i <= 66; i++)
		peer_send((uint8_t)i, 60);
	for (i = 1; i <= 64; i++)
		rx_buffer(f, i, BUF + 0x800 * i, 2048);
	kick(f, RX);
	assert_int_equal(used_idx(f, RX), 65);
	assert_int_equal(f->n->rx.count, 0);
	assert_int_equal(used_flags(f, RX), VIRTQ_USED_F_NO_NOTIFY);
	assert_non_null(watched(f, f->n->tap_fd));
	fire(f, f->n->tap_fd);
	assert_int_equal(used_flags(f, RX), 0);
	assert_null(watched(f, f->n->tap_fd));
	rx_buffer(f, 65, BUF + 0x800 * 65, 2048);
	rx_buffer(f, 66, BUF + 0x800 * 66, 2048);
	rx_buffer(f, 67, BUF + 0x800 * 67, 2048);
	kick(f, RX);
	assert_int_equal(used_idx(f, RX), 67);
	assert_int_equal(f->n->rx.count, 1);
	assert_non_null(watched(f, f->n->tap_fd));
	assert_int_equal(f->n->stats.rx_dropped, 0);
}

static void test_rx_waits_for_enough_buffers(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	driver_start(f, F_MRG);
	rx_buffer(f, 0, BUF, 2048);
	kick(f, RX);
	peer_send(3, 5012);
	fire(f, f->n->tap_fd);
	/* too big for the one buffer: it waits, nothing is lost */
	assert_int_equal(used_idx(f, RX), 0);
	assert_int_equal(f->n->bounce_len, 5012);
	assert_null(watched(f, f->n->tap_fd));
	rx_buffer(f, 1, BUF + 0x1000, 2048);
	rx_buffer(f, 2, BUF + 0x2000, 2048);
	kick(f, RX);
	assert_int_equal(used_idx(f, RX), 3);
	used_next(f, RX, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(f->n->bounce_len, 0);
	assert_int_equal(f->n->stats.rx_packets, 1);
}

static void test_rx_one_buffer_per_packet(void **state)
{
	struct fx *f = *state;
	uint8_t got[100], want[100];
	uint32_t id, len;

	driver_start(f, F_BASE); /* no MRG_RXBUF */
	rx_buffer(f, 0, BUF, 1526);
	rx_buffer(f, 1, BUF + 0x1000, 1526);
	kick(f, RX);
	peer_send(4, 2000); /* never fits one buffer: dropped */
	peer_send(5, 100);
	fire(f, f->n->tap_fd);
	assert_int_equal(used_idx(f, RX), 1);
	used_next(f, RX, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 100);
	get(f, BUF, got, 100);
	fill(want, 100, 5);
	want[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
	want[VIRTIO_NET_HDR_NUM_BUFFERS + 1] = 0;
	assert_memory_equal(got, want, 100);
	assert_int_equal(f->n->stats.rx_dropped, 1);
}

static void test_rx_straight_into_a_big_buffer(void **state)
{
	struct fx *f = *state;
	uint8_t *got = malloc(3000), *want = malloc(3000);
	uint32_t id, len;

	driver_start(f, F_BASE);
	/* header apart, then room for the largest packet in pieces */
	desc(f, RX, 0, BUF, VIRTIO_NET_HDR_LEN, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, RX, 1, BUF + 0x100, 1000, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	desc(f, RX, 2, BUF + 0x1000, 70000, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, RX, 0);
	kick(f, RX);
	peer_send(6, 3000);
	fire(f, f->n->tap_fd);
	used_next(f, RX, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 3000);
	get(f, BUF, got, VIRTIO_NET_HDR_LEN);
	get(f, BUF + 0x100, got + VIRTIO_NET_HDR_LEN, 1000);
	get(f, BUF + 0x1000, got + VIRTIO_NET_HDR_LEN + 1000, 3000 - VIRTIO_NET_HDR_LEN - 1000);
	fill(want, 3000, 6);
	want[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
	want[VIRTIO_NET_HDR_NUM_BUFFERS + 1] = 0;
	assert_memory_equal(got, want, 3000);
	free(got);
	free(want);
}

/*
 * A packet too short for its header, read straight into the guest's buffers,
 * is refused, but what it wrote there is in the dirty log.
 */
static void test_rx_refused_packet_marks_dirty(void **state)
{
	struct fx *f = *state;

	driver_start(f, F_BASE);
	rx_buffer(f, 0, BUF, 70000);
	kick(f, RX);
	gm_clear_dirty(&f->gm);
	peer_send(9, 4);
	fire(f, f->n->tap_fd);
	assert_int_equal(used_idx(f, RX), 0); /* the buffer stays the device's */
	assert_int_equal(f->n->stats.rx_errors, 1);
	assert_true(gm_page_dirty(&f->gm, BUF));
}

static void test_rx_bad_buffers(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	driver_start(f, F_MRG);
	desc(f, RX, 0, BUF, 100, 0, 0); /* readable */
	avail_add(f, RX, 0);
	desc(f, RX, 1, BUF, 8, VIRTQ_DESC_F_WRITE, 0); /* no room for the header */
	avail_add(f, RX, 1);
	kick(f, RX);
	assert_int_equal(used_idx(f, RX), 2);
	used_next(f, RX, &id, &len);
	assert_int_equal(len, 0);
	used_next(f, RX, &id, &len);
	assert_int_equal(len, 0);
	assert_int_equal(f->n->stats.rx_errors, 2);
	assert_int_equal(f->n->rx.count, 0);
}

/* The TAP refuses packets (EAGAIN): they wait, in order, and none is lost. */
static void test_tx_backpressure(void **state)
{
	struct fx *f = *state;
	int one = 1;
	uint8_t pkt[112], got[200];
	uint16_t i;
	unsigned int sent_first;

	driver_start(f, F_BASE);
	setsockopt(f->n->tap_fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	for (i = 0; i < QSZ; i++) {
		memset(pkt, 0, VIRTIO_NET_HDR_LEN);
		fill(pkt + VIRTIO_NET_HDR_LEN, sizeof(pkt) - VIRTIO_NET_HDR_LEN, (uint8_t)i);
		put(f, BUF + 0x100 * i, pkt, sizeof(pkt));
		desc(f, TX, i, BUF + 0x100 * i, sizeof(pkt), 0, 0);
		avail_add(f, TX, i);
	}
	kick(f, TX);
	sent_first = (unsigned int)f->n->stats.tx_packets;
	assert_true(sent_first < QSZ);
	assert_true(f->n->tx_blocked);
	assert_int_equal(f->n->tx.count, QSZ - sent_first);
	/* the network drains; the retry timer sends the rest */
	for (i = 0; i < sent_first; i++) {
		assert_int_equal(recv(peer_fd, got, sizeof(got), 0), sizeof(pkt));
		assert_int_equal(got[VIRTIO_NET_HDR_LEN], (uint8_t)i);
	}
	while (f->n->tx.count) {
		fire(f, f->n->timer_fd);
		while (recv(peer_fd, got, sizeof(got), 0) == sizeof(pkt))
			assert_int_equal(got[VIRTIO_NET_HDR_LEN], (uint8_t)i++);
	}
	assert_int_equal(i, QSZ);
	if (f->n->tx_done_count)
		fire(f, f->n->done_fd);
	assert_int_equal(used_idx(f, TX), QSZ);
	assert_false(f->n->tx_blocked);
	assert_int_equal(f->n->stats.tx_packets, QSZ);
}

/*
 * Sent packets' chains are held for the completion timer, but never more
 * than half the queue: the driver always has room to send.
 */
static void test_tx_completions_held(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[400], got[500];
	uint32_t id, len;
	uint16_t i;

	driver_start(f, F_BASE);
	for (i = 0; i < QSZ / 2 + 1; i++) {
		memset(pkt, 0, VIRTIO_NET_HDR_LEN);
		fill(pkt + VIRTIO_NET_HDR_LEN, sizeof(pkt) - VIRTIO_NET_HDR_LEN, (uint8_t)i);
		put(f, BUF + 0x200 * i, pkt, sizeof(pkt));
		desc(f, TX, i, BUF + 0x200 * i, sizeof(pkt), 0, 0);
	}
	for (i = 0; i < QSZ / 2 - 1; i++)
		avail_add(f, TX, i);
	kick(f, TX);
	assert_int_equal(f->n->stats.tx_packets, QSZ / 2 - 1);
	assert_int_equal(used_idx(f, TX), 0);
	assert_int_equal(f->n->tx_done_count, QSZ / 2 - 1);
	/* the packet that makes half the queue held: all go back at once */
	avail_add(f, TX, QSZ / 2 - 1);
	kick(f, TX);
	assert_int_equal(used_idx(f, TX), QSZ / 2);
	assert_int_equal(f->n->tx_done_count, 0);
	for (i = 0; i < QSZ / 2; i++) {
		used_next(f, TX, &id, &len);
		assert_int_equal(id, i);
		assert_int_equal(len, 0);
	}
	/* the next one is held again, and a reset forgets it */
	avail_add(f, TX, QSZ / 2);
	kick(f, TX);
	assert_int_equal(f->n->tx_done_count, 1);
	bar_wr(f, CC_STATUS, 1, 0);
	assert_int_equal(f->n->tx_done_count, 0);
	fire(f, f->n->done_fd); /* the timer that was set: nothing to give back */
	assert_int_equal(used_idx(f, TX), QSZ / 2);
	for (i = 0; i < QSZ / 2 + 1; i++)
		assert_int_equal(recv(peer_fd, got, sizeof(got), 0), sizeof(pkt));
	assert_int_equal(f->n->stats.tx_packets, QSZ / 2 + 1);
}

/*
 * Before a save: sent packets' chains go back, held receive buffers go back
 * to the ring as never popped, and are taken again (the same ones) later.
 */
static void test_quiesce_gives_back(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[400];
	uint32_t id, len;

	driver_start(f, F_MRG);
	rx_buffer(f, 0, BUF, 2048);
	rx_buffer(f, 1, BUF + 0x1000, 2048);
	kick(f, RX);
	assert_int_equal(f->n->rx.count, 2);
	memset(pkt, 0, sizeof(pkt));
	put(f, BUF + 0x4000, pkt, sizeof(pkt));
	desc(f, TX, 0, BUF + 0x4000, sizeof(pkt), 0, 0);
	avail_add(f, TX, 0);
	kick(f, TX);
	assert_int_equal(f->n->tx_done_count, 1); /* sent, its chain held */

	virtio_net_quiesce(f->n);
	assert_int_equal(f->n->tx_done_count, 0);
	assert_int_equal(used_idx(f, TX), 1);
	used_next(f, TX, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(f->n->rx.count, 0);
	assert_int_equal(used_idx(f, RX), 0); /* nothing completed: given back */
	assert_int_equal(f->n->vp.q[RX].vq.last_avail_idx, 0);
	assert_int_equal(f->n->stats.rx_errors, 0);

	/* the same buffers are taken again and used */
	kick(f, RX);
	assert_int_equal(f->n->rx.count, 2);
	peer_send(3, 100);
	fire(f, f->n->tap_fd);
	used_next(f, RX, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 100);
}

/* A reset forgets the chains held and keeps the TAP; the next driver works. */
static void test_reset_with_chains_held(void **state)
{
	struct fx *f = *state;
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0}, got[100];
	uint32_t id, len;
	int tap = f->n->tap_fd;

	driver_start(f, F_MRG);
	rx_buffer(f, 0, BUF, 2048);
	rx_buffer(f, 1, BUF + 0x1000, 2048);
	kick(f, RX);
	assert_int_equal(f->n->rx.count, 2);
	peer_send(7, 5000);
	fire(f, f->n->tap_fd);
	assert_int_equal(f->n->bounce_len, 5000); /* waits for a third buffer */
	bar_wr(f, CC_STATUS, 1, 0);
	assert_int_equal(f->n->rx.count, 0);
	assert_int_equal(f->n->bounce_len, 0);
	assert_int_equal(f->n->tap_fd, tap);
	/* the TAP's event after the reset: nothing to do, and no more watching */
	if (watched(f, tap))
		fire(f, tap);
	peer_send(8, 60);
	if (watched(f, tap))
		fire(f, tap);
	assert_null(watched(f, tap));

	driver_start(f, F_MRG);
	rx_buffer(f, 0, BUF, 2048);
	kick(f, RX);
	used_next(f, RX, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 60);
	put(f, BUF + 0x2000, hdr, sizeof(hdr));
	desc(f, TX, 0, BUF + 0x2000, 50, 0, 0);
	avail_add(f, TX, 0);
	kick(f, TX);
	assert_int_equal(recv(peer_fd, got, sizeof(got), 0), 50);
}

/* ---- the control queue and announcements ---- */

static uint16_t cfg_status(struct fx *f)
{
	return (uint16_t)bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 6, 2);
}

/*
 * A command as Linux sends it: class and command in one readable
 * descriptor, @data in a second, the ack in a writable one; chain @head
 * (descriptors head..head+2). Returns the ack byte, or -1 when the chain
 * came back without one (used length 0).
 */
static int ctrl_cmd(struct fx *f, uint16_t head, uint8_t cls, uint8_t cmd, const void *data,
		    uint32_t len)
{
	uint8_t hdr[2] = {cls, cmd}, ack = 0xaa;
	uint32_t id, used;

	put(f, CMD, hdr, 2);
	put(f, ACK, &ack, 1);
	if (len) {
		put(f, CMD + 0x100, data, len);
		desc(f, CQ, head, CMD, 2, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
		desc(f, CQ, (uint16_t)(head + 1), CMD + 0x100, len, VIRTQ_DESC_F_NEXT,
		     (uint16_t)(head + 2));
		desc(f, CQ, (uint16_t)(head + 2), ACK, 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		desc(f, CQ, head, CMD, 2, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
		desc(f, CQ, (uint16_t)(head + 1), ACK, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	avail_add(f, CQ, head);
	kick(f, CQ);
	used_next(f, CQ, &id, &used);
	assert_int_equal(id, head);
	get(f, ACK, &ack, 1);
	if (!used) {
		assert_int_equal(ack, 0xaa); /* nothing written */
		return -1;
	}
	assert_int_equal(used, 1);
	return ack;
}

/* The device as the driver finds it: three queues, four MSI-X vectors. */
static void test_ctrl_queue_offered(void **state)
{
	struct fx *f = *state;
	uint64_t feat;

	bar_wr(f, CC_GFSELECT - 8, 4, 0); /* device_feature_select */
	feat = bar_rd(f, 0x04, 4);
	assert_true(feat & (1u << VIRTIO_NET_F_CTRL_VQ));
	assert_true(feat & (1u << VIRTIO_NET_F_GUEST_ANNOUNCE));
	assert_true(feat & (1u << VIRTIO_NET_F_STATUS));
	/* never CTRL_RX, CTRL_VLAN, MQ, CTRL_MAC_ADDR: their commands would be refused */
	assert_false(feat & (1u << VIRTIO_NET_F_CTRL_RX));
	assert_false(feat & (1u << VIRTIO_NET_F_CTRL_VLAN));
	assert_false(feat & (1u << VIRTIO_NET_F_MQ));
	assert_false(feat & (1u << VIRTIO_NET_F_CTRL_MAC_ADDR));
	assert_int_equal(bar_rd(f, CC_NUM_QUEUES, 2), VIRTIO_NET_NR_QUEUES);
	assert_int_equal(f->n->vp.msix.nvec, VIRTIO_NET_NR_QUEUES + 1);
}

static void test_announce_and_ack(void **state)
{
	struct fx *f = *state;
	uint8_t gen;

	driver_start_queues(f, F_CTRL, 3);
	gen = (uint8_t)bar_rd(f, CC_CONFIG_GEN, 1);
	f->n->vp.isr = 0;
	assert_true(virtio_net_announce(f->n));
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	assert_int_equal((uint8_t)bar_rd(f, CC_CONFIG_GEN, 1), (uint8_t)(gen + 1));
	assert_true(f->n->vp.isr & 0x2); /* a configuration interrupt */
	/* the link going down and up keeps the request */
	virtio_net_set_link(f->n, false);
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_ANNOUNCE);
	virtio_net_set_link(f->n, true);
	/* the driver's acknowledgement clears it */
	assert_int_equal(
	    ctrl_cmd(f, 0, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
	    VIRTIO_NET_OK);
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(f->n->stats.ctrl_ok, 1);
	/* an acknowledgement with nothing asked is harmless */
	assert_int_equal(
	    ctrl_cmd(f, 4, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
	    VIRTIO_NET_OK);
	/* class and command split over two descriptors, the ack after other writable bytes */
	{
		uint8_t cls = VIRTIO_NET_CTRL_ANNOUNCE, cmd = VIRTIO_NET_CTRL_ANNOUNCE_ACK;
		uint8_t ack[4] = {0xaa, 0xaa, 0xaa, 0xaa};
		uint32_t id, len;

		assert_true(virtio_net_announce(f->n));
		put(f, CMD, &cls, 1);
		put(f, CMD + 0x10, &cmd, 1);
		put(f, ACK, ack, sizeof(ack));
		desc(f, CQ, 8, CMD, 1, VIRTQ_DESC_F_NEXT, 9);
		desc(f, CQ, 9, CMD + 0x10, 1, VIRTQ_DESC_F_NEXT, 10);
		desc(f, CQ, 10, ACK, 4, VIRTQ_DESC_F_WRITE, 0);
		avail_add(f, CQ, 8);
		kick(f, CQ);
		used_next(f, CQ, &id, &len);
		assert_int_equal(id, 8);
		assert_int_equal(len, 1);
		get(f, ACK, ack, sizeof(ack));
		assert_int_equal(ack[0], VIRTIO_NET_OK);
		assert_int_equal(ack[1], 0xaa);
		assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP);
	}
	/* a reset forgets a request not yet acknowledged */
	assert_true(virtio_net_announce(f->n));
	bar_wr(f, CC_STATUS, 1, 0);
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP);
	assert_false(f->n->vp.status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Without GUEST_ANNOUNCE negotiated: no status bit, no interrupt. */
static void test_announce_not_negotiated(void **state)
{
	struct fx *f = *state;
	uint8_t gen;

	driver_start_queues(f, F_BASE | (1u << VIRTIO_NET_F_CTRL_VQ), 3);
	gen = (uint8_t)bar_rd(f, CC_CONFIG_GEN, 1);
	f->n->vp.isr = 0;
	assert_false(virtio_net_announce(f->n));
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP);
	assert_int_equal((uint8_t)bar_rd(f, CC_CONFIG_GEN, 1), gen);
	assert_int_equal(f->n->vp.isr, 0);
	/* nor may the driver acknowledge what it did not negotiate */
	assert_int_equal(
	    ctrl_cmd(f, 0, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
	    VIRTIO_NET_ERR);
	/* nor a device nobody drives */
	bar_wr(f, CC_STATUS, 1, 0);
	assert_false(virtio_net_announce(f->n));
	assert_int_equal(f->n->vp.isr, 0);
}

/* Every class petrel does not implement is answered VIRTIO_NET_ERR. */
static void test_ctrl_unknown_commands(void **state)
{
	struct fx *f = *state;
	uint8_t one = 1, mac[6] = {2, 0, 0, 0, 0, 1}, pairs[2] = {2, 0};
	uint8_t table[8] = {0};
	uint8_t vlan[2] = {5, 0}, offloads[8] = {0};

	driver_start_queues(f, F_CTRL, 3);
	assert_int_equal(ctrl_cmd(f, 0, VIRTIO_NET_CTRL_RX, 0, &one, 1), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(f, 3, VIRTIO_NET_CTRL_MAC, 1, mac, 6), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(f, 6, VIRTIO_NET_CTRL_MAC, 0, table, 8), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(f, 9, VIRTIO_NET_CTRL_VLAN, 0, vlan, 2), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(f, 12, VIRTIO_NET_CTRL_MQ, 0, pairs, 2), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(f, 0, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, offloads, 8),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(f, 3, 0xff, 0xff, NULL, 0), VIRTIO_NET_ERR);
	/* ANNOUNCE: another command, or the ack with data */
	assert_int_equal(ctrl_cmd(f, 6, VIRTIO_NET_CTRL_ANNOUNCE, 1, NULL, 0), VIRTIO_NET_ERR);
	assert_int_equal(
	    ctrl_cmd(f, 9, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, &one, 1),
	    VIRTIO_NET_ERR);
	assert_int_equal(f->n->stats.ctrl_err, 9);
	assert_int_equal(f->n->stats.ctrl_ok, 0);
	assert_false(f->n->vp.status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Malformed commands: an error or an empty completion, never a crash or a hang. */
static void test_ctrl_malformed(void **state)
{
	struct fx *f = *state;
	uint8_t ack = 0xaa, hdr[2] = {VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK};
	uint8_t *big = calloc(1, VIRTIO_NET_CTRL_MAX + 1);
	uint32_t id, len;

	driver_start_queues(f, F_CTRL, 3);
	assert_true(virtio_net_announce(f->n));
	/* one readable byte: too short for class and command */
	put(f, CMD, hdr, 2);
	put(f, ACK, &ack, 1);
	desc(f, CQ, 0, CMD, 1, VIRTQ_DESC_F_NEXT, 1);
	desc(f, CQ, 1, ACK, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, CQ, 0);
	/* nothing readable at all */
	desc(f, CQ, 2, ACK + 0x10, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, CQ, 2);
	/* no writable byte for the ack: given back untouched */
	desc(f, CQ, 3, CMD, 2, 0, 0);
	avail_add(f, CQ, 3);
	/* a command longer than any the device reads */
	put(f, CMD + 0x200, big, VIRTIO_NET_CTRL_MAX + 1);
	put(f, CMD + 0x200, hdr, 2);
	desc(f, CQ, 4, CMD + 0x200, VIRTIO_NET_CTRL_MAX + 1, VIRTQ_DESC_F_NEXT, 5);
	desc(f, CQ, 5, ACK + 0x20, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, CQ, 4);
	kick(f, CQ);
	assert_int_equal(used_idx(f, CQ), 4);
	used_next(f, CQ, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 1);
	get(f, ACK, &ack, 1);
	assert_int_equal(ack, VIRTIO_NET_ERR);
	used_next(f, CQ, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, 1);
	get(f, ACK + 0x10, &ack, 1);
	assert_int_equal(ack, VIRTIO_NET_ERR);
	used_next(f, CQ, &id, &len);
	assert_int_equal(id, 3);
	assert_int_equal(len, 0);
	used_next(f, CQ, &id, &len);
	assert_int_equal(id, 4);
	get(f, ACK + 0x20, &ack, 1);
	assert_int_equal(ack, VIRTIO_NET_ERR);
	assert_int_equal(f->n->stats.ctrl_bad, 1);
	assert_int_equal(f->n->stats.ctrl_err, 3);
	/* none of them was an acknowledgement */
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	assert_false(f->n->vp.status & VIRTIO_STATUS_NEEDS_RESET);

	/* a descriptor outside guest RAM breaks the queue: the device needs a reset */
	desc(f, CQ, 6, 64 * MB, 2, VIRTQ_DESC_F_NEXT, 7);
	desc(f, CQ, 7, ACK, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, CQ, 6);
	kick(f, CQ);
	assert_true(f->n->vp.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(used_idx(f, CQ), 4);
	kick(f, CQ); /* and stays quiet */
	assert_int_equal(used_idx(f, CQ), 4);
	/* as does a next index beyond the queue, after a reset */
	driver_start_queues(f, F_CTRL, 3);
	desc(f, CQ, 0, CMD, 2, VIRTQ_DESC_F_NEXT, QSZ + 3);
	avail_add(f, CQ, 0);
	kick(f, CQ);
	assert_true(f->n->vp.status & VIRTIO_STATUS_NEEDS_RESET);
	/* and a head beyond the queue */
	driver_start_queues(f, F_CTRL, 3);
	avail_add(f, CQ, QSZ + 1);
	kick(f, CQ);
	assert_true(f->n->vp.status & VIRTIO_STATUS_NEEDS_RESET);
	/* the receive and transmit queues are not the control queue's business */
	assert_int_equal(used_idx(f, RX), 0);
	free(big);
}

/*
 * A packet waiting for receive buffers when the device is saved: it is in
 * the state, and the device it is restored into delivers it.
 */
static void test_save_restore_pending_packet(void **state)
{
	struct fx *f = *state;
	static struct virtio_pci_state tr;
	struct virtio_net_state s, bad;
	uint8_t *pending = malloc(VIRTIO_NET_MAX_PACKET), *got = malloc(5012), *want = malloc(5012);
	char field[48];
	uint32_t id, len;
	unsigned int i;

	driver_start_queues(
	    f, F_MRG | (1u << VIRTIO_NET_F_CTRL_VQ) | (1u << VIRTIO_NET_F_GUEST_ANNOUNCE), 3);
	rx_buffer(f, 0, BUF, 2048);
	kick(f, RX);
	peer_send(3, 5012);
	fire(f, f->n->tap_fd);
	assert_int_equal(f->n->bounce_len, 5012); /* too big for the one buffer */
	assert_true(virtio_net_announce(f->n));

	virtio_net_quiesce(f->n);
	virtio_pci_save(&f->n->vp, &tr);
	virtio_net_save(f->n, &s, pending);
	assert_int_equal(s.pending_len, 5012);
	assert_int_equal(s.status, VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	assert_int_equal(tr.nr_queues, 3);
	assert_int_equal(tr.nr_vectors, 4);
	assert_true(tr.q[CQ].enabled);
	assert_null(virtio_net_state_check(f->n, &s, 5012));
	/* refused: bytes that do not match, a packet too short or too long, status bits */
	assert_string_equal(virtio_net_state_check(f->n, &s, 5011), "pending_len");
	bad = s;
	bad.pending_len = VIRTIO_NET_HDR_LEN - 1;
	assert_string_equal(virtio_net_state_check(f->n, &bad, bad.pending_len), "pending_len");
	bad.pending_len = VIRTIO_NET_MAX_PACKET + 1;
	assert_string_equal(virtio_net_state_check(f->n, &bad, bad.pending_len), "pending_len");
	bad = s;
	bad.status |= 4;
	assert_string_equal(virtio_net_state_check(f->n, &bad, 5012), "status");
	bad = s;
	bad.pad = 1;
	assert_string_equal(virtio_net_state_check(f->n, &bad, 5012), "pad");
	bad = s;
	bad.mac[0] ^= 2;
	assert_string_equal(virtio_net_state_check(f->n, &bad, 5012), "mac");

	/* the device starts over (the packet is lost to it), then takes the state back */
	bar_wr(f, CC_STATUS, 1, 0);
	assert_int_equal(f->n->bounce_len, 0);
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(virtio_pci_state_check(&f->n->vp, &tr, field, sizeof(field)), 0);
	assert_int_equal(virtio_pci_restore(&f->n->vp, &tr, field, sizeof(field)), 0);
	virtio_net_restore(f->n, &s, pending);
	assert_int_equal(f->n->bounce_len, 5012);
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	/* the buffer given back before the save, and two more: the packet arrives */
	rx_buffer(f, 1, BUF + 0x1000, 2048);
	rx_buffer(f, 2, BUF + 0x2000, 2048);
	kick(f, RX);
	assert_int_equal(used_idx(f, RX), 3);
	for (i = 0; i < 3; i++) {
		used_next(f, RX, &id, &len);
		assert_int_equal(id, i);
		get(f, BUF + 0x1000 * i, got + 2048 * i, len);
	}
	fill(want, 5012, 3);
	want[VIRTIO_NET_HDR_NUM_BUFFERS] = 3;
	want[VIRTIO_NET_HDR_NUM_BUFFERS + 1] = 0;
	assert_memory_equal(got, want, 5012);
	assert_int_equal(f->n->bounce_len, 0);
	/* the restored request is acknowledged on the restored control queue */
	assert_int_equal(
	    ctrl_cmd(f, 0, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
	    VIRTIO_NET_OK);
	assert_int_equal(cfg_status(f), VIRTIO_NET_S_LINK_UP);

	/* nothing waiting: an empty packet, restored as none */
	virtio_net_save(f->n, &s, pending);
	assert_int_equal(s.pending_len, 0);
	assert_null(virtio_net_state_check(f->n, &s, 0));
	virtio_net_restore(f->n, &s, NULL);
	assert_int_equal(f->n->bounce_len, 0);
	free(pending);
	free(got);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config_and_offloads, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tx, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tx_bad_chains, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_mergeable, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_runs_out_of_buffers, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_kicks_only_when_out, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_budget_ends_with_the_buffers, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_waits_for_enough_buffers, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_one_buffer_per_packet, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_straight_into_a_big_buffer, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_refused_packet_marks_dirty, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_bad_buffers, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tx_backpressure, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tx_completions_held, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_with_chains_held, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_quiesce_gives_back, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_queue_offered, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_announce_and_ack, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_announce_not_negotiated, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_unknown_commands, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_malformed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_save_restore_pending_packet, fx_setup,
					    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
