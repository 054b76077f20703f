// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net on a TAP. Everything runs on the I/O thread under the
 * transport's lock, except reset and feature negotiation (vCPU threads, same
 * lock).
 *
 * The device pops every chain the driver makes available and holds it in a
 * FIFO until it is used: receive buffers wait there for packets, transmit
 * packets wait there while the TAP refuses them (EAGAIN, retried on a short
 * timer). Popping everything also ends the transport's kick loop, which
 * would otherwise call us again for buffers we cannot use yet.
 *
 * Receive: the TAP fd is watched while there are receive buffers; when they
 * run out, the watch is dropped (only by the TAP handler itself, so an event
 * already fetched for it never outlives its entry) and the next rx kick
 * restores it; packets wait in the TAP meanwhile. A packet is read straight
 * into guest buffers when the buffers at hand can take the largest packet,
 * else through a bounce buffer, where it can wait for more buffers.
 */
#include "virtio/virtio_net.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "mem/guest_mem.h"
#include "virtio/tap.h"

/* Packets received per TAP event before other fds get a turn. */
#define NET_RX_BUDGET 64
/* Retry delay of a transmit the TAP refused. */
#define NET_TX_RETRY_NS 1000000
/*
 * How long a sent packet's chain is held before it goes back to the driver
 * (transmit completion coalescing, as NICs do). The driver frees a packet
 * when its chain comes back, and Linux's TCP holds back small writes while
 * earlier data of the socket is still in the device (autocorking): chains
 * returned at once made the guest send every application write as its own
 * packet, with a transmit interrupt and an ACK each. Held this long, a
 * guest's bulk TCP sent a quarter of the packets and ran twice as fast.
 * The packets themselves leave at once: no latency is added.
 */
#define NET_TX_DONE_NS 50000
/*
 * A packet this small (header included: an ACK, a ping) sent while nothing
 * is held goes back at once: holding it buys no coalescing, and its transmit
 * interrupt, coming later, tends to land while the guest is busy with what it
 * received (measured: higher throughput both ways, lower ping times).
 */
#define NET_TX_SMALL 256

_Static_assert(sizeof(struct virtio_net_config) == 10, "config size");
_Static_assert(offsetof(struct virtio_net_config, status) == 6, "status");
_Static_assert(VIRTIO_NET_HDR_LEN == TAP_VNET_HDR_LEN, "vnet header");

/* Why receiving stopped. */
enum rx_stop {
	RX_BUDGET,	 /* more may be pending: the level-triggered watch says so */
	RX_TAP_EMPTY,	 /* nothing more to read */
	RX_NEED_BUFFERS, /* the driver must give buffers (it was asked to kick) */
	RX_DEAD,	 /* the queue broke or the TAP failed for good */
};

/* ---- chains held by the device ---- */

static struct virtio_net_chain *fifo_at(struct virtio_net_fifo *f, unsigned int i)
{
	return &f->c[(f->first + i) % VIRTIO_NET_QUEUE_SIZE];
}

static void fifo_drop_first(struct virtio_net_fifo *f)
{
	f->first = (f->first + 1) % VIRTIO_NET_QUEUE_SIZE;
	f->count--;
}

/* Mark the first @len bytes of @c dirty. */
static void chain_mark_dirty(struct virtio_net *n, const struct virtio_net_chain *c, uint32_t len)
{
	unsigned int i;

	for (i = 0; len && i < c->nr_segs; i++) {
		uint32_t k = c->iov[i].iov_len < len ? (uint32_t)c->iov[i].iov_len : len;

		gm_mark_dirty(n->vp.gm, c->gpa[i], k);
		len -= k;
	}
}

/* Copy @len bytes into @c at offset @off (the caller checked the room). */
static void chain_write(struct virtio_net_chain *c, uint32_t off, const void *buf, uint32_t len)
{
	const uint8_t *src = buf;
	unsigned int i;

	for (i = 0; len && i < c->nr_segs; i++) {
		uint32_t seg = (uint32_t)c->iov[i].iov_len, k;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		k = seg - off < len ? seg - off : len;
		memcpy((uint8_t *)c->iov[i].iov_base + off, src, k);
		src += k;
		len -= k;
		off = 0;
	}
}

/* Return the chain @c with @written bytes written into it. */
static void chain_done(struct virtio_net *n, struct virtq *q, const struct virtio_net_chain *c,
		       uint32_t written, bool *pushed)
{
	if (written)
		chain_mark_dirty(n, c, written);
	if (!virtq_push_head(q, c->head, written))
		*pushed = true;
}

/*
 * Keep @req's receive buffers (@tx false) or packet (@tx true) as the last
 * chain of @f. False when the device cannot use it: receive buffers that are
 * readable or shorter than the header, packets that are writable, shorter
 * than the header, longer than the largest packet or in too many pieces.
 * Receive buffers in too many pieces are used in part.
 */
static bool fifo_keep(struct virtio_net_fifo *f, const struct virtq_req *req, bool tx)
{
	struct virtio_net_chain *c = fifo_at(f, f->count);
	unsigned int first = tx ? 0 : req->nr_readable;
	unsigned int nr = tx ? req->nr_readable : req->nr_writable;
	unsigned int i;

	if (tx) {
		if (req->nr_writable || req->read_len < VIRTIO_NET_HDR_LEN ||
		    req->read_len > VIRTIO_NET_MAX_PACKET || nr > VIRTIO_NET_MAX_SEGS)
			return false;
	} else {
		if (req->nr_readable || req->write_len < VIRTIO_NET_HDR_LEN)
			return false;
		if (nr > VIRTIO_NET_MAX_SEGS)
			nr = VIRTIO_NET_MAX_SEGS;
	}
	c->head = req->head;
	c->nr_segs = (uint16_t)nr;
	c->len = 0;
	for (i = 0; i < nr; i++) {
		const struct virtq_seg *s = &req->segs[first + i];

		c->iov[i].iov_base = s->hva;
		c->iov[i].iov_len = s->len;
		c->gpa[i] = s->gpa;
		c->len += s->len;
	}
	if (c->len < VIRTIO_NET_HDR_LEN)
		return false; /* the header did not fit in the segments kept */
	f->count++;
	return true;
}

/*
 * Move every chain the driver made available on @q into @f. Chains the
 * device cannot use go back at once, empty. False when the queue broke (a
 * malformed chain, or more chains in flight than the queue has entries).
 */
static bool fifo_fill(struct virtio_net *n, struct virtq *q, struct virtio_net_fifo *f, bool tx,
		      bool *pushed)
{
	struct virtq_req *req = &n->vp.req;
	int ret;

	while ((ret = virtq_pop(q, req)) > 0) {
		if (f->count == VIRTIO_NET_QUEUE_SIZE) {
			q->broken = true;
			return false;
		}
		if (fifo_keep(f, req, tx))
			continue;
		if (tx)
			n->stats.tx_dropped++;
		else
			n->stats.rx_errors++;
		if (!virtq_push(q, req, 0))
			*pushed = true;
	}
	return ret == 0;
}

/* ---- transmit ---- */

static void arm_timer(int fd, long ns)
{
	struct itimerspec its = {.it_value = {.tv_sec = 0, .tv_nsec = ns}};

	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		/* cannot happen with a valid fd and delay */
	}
}

/* Give the held chains of sent packets back to the driver. */
static void tx_done_all(struct virtio_net *n, struct virtq *q, bool *pushed)
{
	unsigned int i;

	for (i = 0; i < n->tx_done_count; i++)
		if (!virtq_push_head(q, n->tx_done[i], 0))
			*pushed = true;
	n->tx_done_count = 0;
}

/*
 * The packet of chain @c is sent: hold the chain for NET_TX_DONE_NS, or give
 * back all held ones when half the queue is held already (the driver must
 * not run out of room while the timer runs). A lone small one goes back now.
 */
static void tx_done_later(struct virtio_net *n, struct virtq *q, const struct virtio_net_chain *c,
			  bool *pushed)
{
	if (c->len < NET_TX_SMALL && !n->tx_done_count) {
		chain_done(n, q, c, 0, pushed);
		return;
	}
	n->tx_done[n->tx_done_count++] = c->head;
	if (n->tx_done_count >= q->size / 2u || !n->done_watched) {
		tx_done_all(n, q, pushed);
		return;
	}
	if (!n->done_armed) {
		arm_timer(n->done_fd, NET_TX_DONE_NS);
		n->done_armed = true;
	}
}

/* Hand the waiting packets to the TAP, in order, until it refuses one. */
static void tx_flush(struct virtio_net *n, struct virtq *q, bool *pushed)
{
	if (n->tap_fd < 0 && n->tx.count) {
		/* no TAP yet (or any more): they wait for virtio_net_attach */
		n->tx_blocked = true;
		return;
	}
	while (n->tx.count) {
		struct virtio_net_chain *c = fifo_at(&n->tx, 0);
		ssize_t w = writev(n->tap_fd, c->iov, c->nr_segs);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			n->tx_blocked = true;
			arm_timer(n->timer_fd, NET_TX_RETRY_NS);
			return;
		}
		if (w < 0) {
			/* a header the TAP rejects, or the TAP is down: dropped */
			n->stats.tx_errors++;
		} else {
			n->stats.tx_packets++;
			n->stats.tx_bytes += c->len - VIRTIO_NET_HDR_LEN;
		}
		tx_done_later(n, q, c, pushed);
		fifo_drop_first(&n->tx);
	}
	n->tx_blocked = false;
}

static void tx_notify(struct virtio_net *n, struct virtq *q)
{
	bool pushed = false;

	if (fifo_fill(n, q, &n->tx, true, &pushed))
		tx_flush(n, q, &pushed);
	if (pushed)
		virtio_pci_queue_done(&n->vp, VIRTIO_NET_TX_QUEUE);
}

/*
 * The I/O thread: a transmit timer fired. done_fd: the held chains of sent
 * packets are due; timer_fd: the TAP may take the packets it refused.
 */
static void tx_timer(void *opaque, int fd, uint32_t events)
{
	struct virtio_net *n = opaque;
	struct virtq *q;
	uint64_t ticks;
	bool pushed = false;

	if (read(fd, &ticks, sizeof(ticks)) < 0) {
		/* not expired: a spurious wake-up */
	}
	pthread_mutex_lock(&n->vp.lock);
	if (fd == n->done_fd)
		n->done_armed = false;
	q = virtio_pci_vq(&n->vp, VIRTIO_NET_TX_QUEUE);
	if (q && !q->broken) {
		if (fd == n->done_fd)
			tx_done_all(n, q, &pushed);
		else if (n->tx_blocked)
			tx_flush(n, q, &pushed);
		if (pushed)
			virtio_pci_queue_done(&n->vp, VIRTIO_NET_TX_QUEUE);
	}
	pthread_mutex_unlock(&n->vp.lock);
}

/* ---- receive ---- */

/* Room for one packet: the first buffer, or with MRG_RXBUF all of them. */
static uint64_t rx_room(struct virtio_net *n, bool mrg)
{
	uint64_t room = 0;
	unsigned int i;

	if (!mrg)
		return n->rx.count ? fifo_at(&n->rx, 0)->len : 0;
	for (i = 0; i < n->rx.count; i++)
		room += fifo_at(&n->rx, i)->len;
	return room;
}

/*
 * @len bytes of a packet (header first) are in the first buffers: set
 * num_buffers and return those buffers to the driver.
 */
static void rx_complete(struct virtio_net *n, struct virtq *q, uint32_t len, bool *pushed)
{
	uint32_t left = len;
	uint16_t nbufs = 0, le;
	unsigned int i;

	for (i = 0; left; i++) {
		uint32_t cl = fifo_at(&n->rx, i)->len;

		left -= cl < left ? cl : left;
		nbufs++;
	}
	le = htole16(nbufs);
	chain_write(fifo_at(&n->rx, 0), VIRTIO_NET_HDR_NUM_BUFFERS, &le, sizeof(le));
	left = len;
	while (nbufs--) {
		struct virtio_net_chain *c = fifo_at(&n->rx, 0);
		uint32_t used = c->len < left ? c->len : left;

		chain_done(n, q, c, used, pushed);
		left -= used;
		fifo_drop_first(&n->rx);
	}
	n->stats.rx_packets++;
	n->stats.rx_bytes += len - VIRTIO_NET_HDR_LEN;
}

/*
 * Deliver the packet waiting in the bounce buffer: true when it is gone
 * (delivered, or dropped because it can never fit), false when it waits for
 * more buffers.
 */
static bool rx_from_bounce(struct virtio_net *n, struct virtq *q, bool *pushed)
{
	bool mrg = virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_MRG_RXBUF);
	uint32_t len = n->bounce_len, off = 0;
	unsigned int i;

	if (rx_room(n, mrg) < len) {
		/* without MRG_RXBUF a packet has one buffer: a small one never fits */
		if ((!mrg && n->rx.count) || n->rx.count >= q->size) {
			n->stats.rx_dropped++;
			n->bounce_len = 0;
			return true;
		}
		return false;
	}
	for (i = 0; off < len; i++) {
		struct virtio_net_chain *c = fifo_at(&n->rx, i);
		uint32_t k = c->len < len - off ? c->len : len - off;

		chain_write(c, 0, n->bounce + off, k);
		off += k;
	}
	rx_complete(n, q, len, pushed);
	n->bounce_len = 0;
	return true;
}

/*
 * Gather iovecs over the buffers at hand into n->rx_iov: their room, or 0
 * when they cannot take the largest packet.
 */
static uint64_t rx_gather(struct virtio_net *n, bool mrg, unsigned int *nr_iov)
{
	unsigned int nr_chains = mrg ? n->rx.count : (n->rx.count ? 1 : 0);
	uint64_t room = 0;
	unsigned int i, j, k = 0;

	for (i = 0; i < nr_chains && room < VIRTIO_NET_MAX_PACKET; i++) {
		const struct virtio_net_chain *c = fifo_at(&n->rx, i);

		for (j = 0; j < c->nr_segs; j++) {
			if (k == VIRTIO_NET_RX_IOV_MAX)
				return 0;
			n->rx_iov[k++] = c->iov[j];
		}
		room += c->len;
	}
	*nr_iov = k;
	return room >= VIRTIO_NET_MAX_PACKET ? room : 0;
}

/*
 * A packet read straight into the buffers at hand was refused: the @len
 * bytes it left there are marked dirty all the same (a migration must carry
 * what the device wrote), and the buffers stay the device's.
 */
static void rx_mark_written(struct virtio_net *n, uint32_t len)
{
	unsigned int i;

	for (i = 0; len && i < n->rx.count; i++) {
		const struct virtio_net_chain *c = fifo_at(&n->rx, i);
		uint32_t k = c->len < len ? c->len : len;

		chain_mark_dirty(n, c, k);
		len -= k;
	}
}

/* A read from the TAP failed with @err: is it worth reading again? */
static bool rx_read_error(struct virtio_net *n, int err)
{
	switch (err) {
	case EFAULT: /* the packet did not fit: the TAP dropped it */
	case EINVAL:
	case EMSGSIZE:
	case ENOBUFS:
		n->stats.rx_errors++;
		return true;
	}
	fprintf(stderr, "petrel: --net tap=%s: reading the TAP failed: %s; receiving stops\n",
		n->tap, strerror(err));
	n->tap_broken = true;
	return false;
}

/*
 * Read one packet from the TAP: into the guest's buffers when they can take
 * any packet, else into the bounce buffer. Returns RX_BUDGET after a packet
 * (or a lost one), RX_TAP_EMPTY or RX_DEAD.
 */
static enum rx_stop rx_read(struct virtio_net *n, struct virtq *q, bool *pushed)
{
	bool mrg = virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_MRG_RXBUF);
	unsigned int nr_iov = 0;
	uint64_t room = rx_gather(n, mrg, &nr_iov);
	struct iovec bounce = {.iov_base = n->bounce, .iov_len = VIRTIO_NET_MAX_PACKET};
	ssize_t r;

	if (!room) {
		nr_iov = 1;
		n->rx_iov[0] = bounce;
		room = VIRTIO_NET_MAX_PACKET;
	}
	do {
		r = readv(n->tap_fd, n->rx_iov, (int)nr_iov);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return RX_TAP_EMPTY;
		return rx_read_error(n, errno) ? RX_BUDGET : RX_DEAD;
	}
	/* the TAP reports a packet's length even when it was cut short */
	if ((uint64_t)r > room || r < VIRTIO_NET_HDR_LEN) {
		n->stats.rx_errors++;
		if (n->rx_iov[0].iov_base != n->bounce)
			rx_mark_written(n, (uint64_t)r < room ? (uint32_t)r : (uint32_t)room);
		return RX_BUDGET;
	}
	if (n->rx_iov[0].iov_base == n->bounce) {
		n->bounce_len = (uint32_t)r;
		rx_from_bounce(n, q, pushed);
	} else {
		rx_complete(n, q, (uint32_t)r, pushed);
	}
	return RX_BUDGET;
}

/*
 * Take more receive buffers from the driver; when it has none, ask for a
 * kick and look once more. False when none came (or the queue broke).
 */
static bool rx_refill(struct virtio_net *n, struct virtq *q, bool *pushed)
{
	unsigned int before = n->rx.count;

	if (!fifo_fill(n, q, &n->rx, false, pushed))
		return false;
	if (n->rx.count == before && virtq_enable_notify(q) &&
	    !fifo_fill(n, q, &n->rx, false, pushed))
		return false;
	return n->rx.count != before;
}

/* Move packets from the TAP to the driver until something stops it. */
static enum rx_stop rx_work(struct virtio_net *n, struct virtq *q, bool *pushed)
{
	unsigned int budget = NET_RX_BUDGET;
	enum rx_stop why;

	while (budget) {
		if (q->broken)
			return RX_DEAD;
		if (n->bounce_len) {
			if (!rx_from_bounce(n, q, pushed)) {
				if (!rx_refill(n, q, pushed))
					return q->broken ? RX_DEAD : RX_NEED_BUFFERS;
				continue;
			}
			budget--;
			continue;
		}
		if (n->tap_broken)
			return RX_DEAD;
		if (n->tap_fd < 0)
			return RX_TAP_EMPTY; /* detached: nothing to read until attached */
		/* take what the driver added since: more room to read into */
		if (!fifo_fill(n, q, &n->rx, false, pushed))
			return RX_DEAD;
		if (!n->rx.count && !rx_refill(n, q, pushed))
			return q->broken ? RX_DEAD : RX_NEED_BUFFERS;
		why = rx_read(n, q, pushed);
		if (why != RX_BUDGET)
			return why;
		budget--;
	}
	return RX_BUDGET;
}

/* Is the device running with a usable receive queue? */
static struct virtq *rx_queue(struct virtio_net *n)
{
	struct virtq *q = virtio_pci_vq(&n->vp, VIRTIO_NET_RX_QUEUE);

	if (!q || q->broken || !(n->vp.status & VIRTIO_STATUS_DRIVER_OK) ||
	    (n->vp.status & VIRTIO_STATUS_NEEDS_RESET))
		return NULL;
	return q;
}

static void on_tap(void *opaque, int fd, uint32_t events);

static void rx_watch(struct virtio_net *n)
{
	if (n->tap_watched || n->tap_broken || n->tap_fd < 0 || !n->vp.io.watch)
		return;
	if (n->vp.io.watch(n->vp.io.ctx, n->tap_fd, on_tap, n) == 0)
		n->tap_watched = true;
}

/* The I/O thread: the TAP has packets (or an error) for us. */
static void on_tap(void *opaque, int fd, uint32_t events)
{
	struct virtio_net *n = opaque;
	enum rx_stop why = RX_NEED_BUFFERS;
	bool pushed = false;
	struct virtq *q;

	pthread_mutex_lock(&n->vp.lock);
	q = rx_queue(n);
	if (q) {
		why = rx_work(n, q, &pushed);
		if (pushed)
			virtio_pci_queue_done(&n->vp, VIRTIO_NET_RX_QUEUE);
		if (q->broken)
			virtio_pci_needs_reset(&n->vp);
	}
	/* no buffers (the next rx kick watches again), or no use reading */
	if (why == RX_NEED_BUFFERS || why == RX_DEAD) {
		if (n->vp.io.unwatch)
			n->vp.io.unwatch(n->vp.io.ctx, fd);
		n->tap_watched = false;
	}
	pthread_mutex_unlock(&n->vp.lock);
}

/*
 * The driver added receive buffers. While the device holds some, it takes
 * new ones as packets come and needs no kicks (each costs the guest an
 * exit): they are asked for again only when the buffers run out.
 */
static void rx_notify(struct virtio_net *n, struct virtq *q)
{
	enum rx_stop why;
	bool pushed = false;

	if (!fifo_fill(n, q, &n->rx, false, &pushed) || !rx_queue(n))
		goto out;
	if (!n->rx.count && !rx_refill(n, q, &pushed))
		goto out; /* none usable: the next kick is asked for */
	virtq_disable_notify(q);
	/*
	 * Unless receiving now waits for a kick (rx_refill asked for one) or
	 * cannot go on, the TAP is watched, even with no buffers left: kicks
	 * are off, and the TAP's handler is what asks for them again. (Never
	 * unwatch here: an event for the TAP may be pending in this round.)
	 */
	why = rx_work(n, q, &pushed);
	if (why == RX_BUDGET || why == RX_TAP_EMPTY)
		rx_watch(n);
out:
	if (pushed)
		virtio_pci_queue_done(&n->vp, VIRTIO_NET_RX_QUEUE);
}

/* ---- control queue ---- */

/* Change bits of the configuration's status (little endian there). */
static void status_update(struct virtio_net *n, uint16_t set, uint16_t clear)
{
	uint16_t v = le16toh(n->cfg.status);

	n->cfg.status = htole16((uint16_t)((v & ~clear) | set));
}

/* Copy the first @len bytes of @req's readable segments (len <= read_len). */
static void req_read(const struct virtq_req *req, uint8_t *buf, uint32_t len)
{
	unsigned int i;

	for (i = 0; len && i < req->nr_readable; i++) {
		uint32_t k = req->segs[i].len < len ? req->segs[i].len : len;

		memcpy(buf, req->segs[i].hva, k);
		buf += k;
		len -= k;
	}
}

/*
 * The answer to command @cmd (@len bytes: class, command, data), a copy the
 * guest cannot change any more. Only ANNOUNCE_ACK, without data, is known;
 * it clears VIRTIO_NET_S_ANNOUNCE before its chain is used (5.1.6.5.4.2).
 */
static uint8_t ctrl_command(struct virtio_net *n, const uint8_t *cmd, uint32_t len)
{
	if (len < 2)
		return VIRTIO_NET_ERR;
	if (cmd[0] == VIRTIO_NET_CTRL_ANNOUNCE && cmd[1] == VIRTIO_NET_CTRL_ANNOUNCE_ACK &&
	    len == 2 && virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_GUEST_ANNOUNCE)) {
		status_update(n, 0, VIRTIO_NET_S_ANNOUNCE);
		return VIRTIO_NET_OK;
	}
	return VIRTIO_NET_ERR; /* no other class is offered (CTRL_RX, MQ, ...) */
}

/*
 * Answer every command the driver made available: the ack goes into the
 * first writable byte; a chain with no writable byte goes back untouched
 * (the driver waits for every chain to come back). A malformed ring breaks
 * the queue (the transport then sets DEVICE_NEEDS_RESET).
 */
static void ctrl_notify(struct virtio_net *n, struct virtq *q)
{
	struct virtq_req *req = &n->vp.req;
	uint8_t cmd[VIRTIO_NET_CTRL_MAX];
	bool pushed = false;

	while (virtq_pop(q, req) > 0) {
		uint8_t ack = VIRTIO_NET_ERR;
		uint32_t written = 0;

		if (!req->write_len) {
			n->stats.ctrl_bad++;
		} else {
			if (req->read_len <= sizeof(cmd)) {
				req_read(req, cmd, req->read_len);
				ack = ctrl_command(n, cmd, req->read_len);
			}
			*(uint8_t *)req->segs[req->nr_readable].hva = ack;
			written = 1;
			if (ack == VIRTIO_NET_OK)
				n->stats.ctrl_ok++;
			else
				n->stats.ctrl_err++;
		}
		if (!virtq_push(q, req, written))
			pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(&n->vp, VIRTIO_NET_CTRL_QUEUE);
}

/* ---- transport callbacks ---- */

static void net_notify(struct virtio_pci *vp, unsigned int qi)
{
	struct virtio_net *n = vp->dev;
	struct virtq *q = virtio_pci_vq(vp, qi);

	if (!q)
		return;
	if (qi == VIRTIO_NET_RX_QUEUE)
		rx_notify(n, q);
	else if (qi == VIRTIO_NET_TX_QUEUE)
		tx_notify(n, q);
	else if (qi == VIRTIO_NET_CTRL_QUEUE)
		ctrl_notify(n, q);
}

/* What the TAP may send us: the offloads the driver accepted. */
static unsigned int guest_offloads(struct virtio_pci *vp)
{
	unsigned int o = 0;

	if (virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_CSUM))
		o |= TAP_OFFLOAD_CSUM;
	if (virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_TSO4))
		o |= TAP_OFFLOAD_TSO4;
	if (virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_TSO6))
		o |= TAP_OFFLOAD_TSO6;
	if (virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_ECN))
		o |= TAP_OFFLOAD_ECN;
	if (virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_UFO))
		o |= TAP_OFFLOAD_UFO;
	return o;
}

static void net_features_ok(struct virtio_pci *vp)
{
	struct virtio_net *n = vp->dev;
	int ret = n->tap_fd < 0 ? 0 : tap_set_offload(n->tap_fd, guest_offloads(vp));

	/* harmless: the TAP then hands over plain, checksummed packets */
	if (ret < 0)
		fprintf(stderr, "petrel: --net tap=%s: cannot set the TAP's offloads: %s\n", n->tap,
			strerror(-ret));
}

/* The driver reset the device: forget the chains held, keep the TAP. */
static void net_reset(struct virtio_pci *vp)
{
	struct virtio_net *n = vp->dev;

	n->rx.first = n->rx.count = 0;
	n->tx.first = n->tx.count = 0;
	if (n->bounce_len)
		n->stats.rx_dropped++;
	n->bounce_len = 0;
	n->tx_blocked = false;
	n->tx_done_count = 0; /* a timer still set finds nothing */
	/* a request to announce was for the driver that is gone */
	status_update(n, 0, VIRTIO_NET_S_ANNOUNCE);
	if (n->tap_fd >= 0 && tap_set_offload(n->tap_fd, 0) < 0) {
		/* the next FEATURES_OK sets them again */
	}
}

static void net_config_read(struct virtio_pci *vp, uint32_t off, uint8_t *buf, unsigned int len)
{
	struct virtio_net *n = vp->dev;

	if (off <= sizeof(n->cfg) && len <= sizeof(n->cfg) - off)
		memcpy(buf, (const uint8_t *)&n->cfg + off, len);
}

static void net_config_write(struct virtio_pci *vp, uint32_t off, const uint8_t *buf,
			     unsigned int len)
{
	/* nothing is writable (the MAC only was, in legacy devices) */
}

#define NET_FEATURES                                                                               \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |                         \
	 (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |                          \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN) |                    \
	 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |                     \
	 (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |                      \
	 (1ULL << VIRTIO_NET_F_STATUS) | (1ULL << VIRTIO_NET_F_CTRL_VQ) |                          \
	 (1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE))

static const struct virtio_dev_ops net_ops = {
    .name = "virtio-net",
    .device_id = 1,
    .pci_class = 0x02,
    .pci_subclass = 0x00,
    .features = NET_FEATURES,
    .nr_queues = VIRTIO_NET_NR_QUEUES,
    .kick_on_demand = 1u << VIRTIO_NET_RX_QUEUE,
    .queue_max = VIRTIO_NET_QUEUE_SIZE,
    .config_len = sizeof(struct virtio_net_config),
    .config_read = net_config_read,
    .config_write = net_config_write,
    .queue_notify = net_notify,
    .reset = net_reset,
    .features_ok = net_features_ok,
};

void virtio_net_set_link(struct virtio_net *n, bool up)
{
	uint16_t before;

	pthread_mutex_lock(&n->vp.lock);
	before = n->cfg.status;
	status_update(n, up ? VIRTIO_NET_S_LINK_UP : 0, up ? 0 : VIRTIO_NET_S_LINK_UP);
	if (n->cfg.status != before) {
		if ((n->vp.status & VIRTIO_STATUS_DRIVER_OK) &&
		    virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_STATUS))
			virtio_pci_config_changed(&n->vp);
	}
	pthread_mutex_unlock(&n->vp.lock);
}

bool virtio_net_announce(struct virtio_net *n)
{
	bool on;

	pthread_mutex_lock(&n->vp.lock);
	on = virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_GUEST_ANNOUNCE);
	if (on) {
		status_update(n, VIRTIO_NET_S_ANNOUNCE, 0);
		n->stats.announces++;
		if ((n->vp.status & VIRTIO_STATUS_DRIVER_OK) &&
		    !(n->vp.status & VIRTIO_STATUS_NEEDS_RESET))
			virtio_pci_config_changed(&n->vp);
	}
	pthread_mutex_unlock(&n->vp.lock);
	return on;
}

/* ---- set-up ---- */

/* One line naming the TAP, what failed and what would fix it. */
static void explain_open_error(const char *tap, const char *what, int err)
{
	if (err == EPERM || err == EACCES)
		fprintf(stderr,
			"petrel: --net tap=%s: %s: %s (needs CAP_NET_ADMIN, or a TAP owned by this "
			"user: ip tuntap add dev %s mode tap user $USER)\n",
			tap, what, strerror(err), tap);
	else
		fprintf(stderr, "petrel: --net tap=%s: %s: %s%s\n", tap, what, strerror(err),
			err == EBUSY			 ? " (in use by another process)"
			: err == ENOENT || err == ENODEV ? " (is the tun module loaded?)"
			: err == EINVAL ? " (an interface of another kind has this name?)"
					: "");
}

/* Undo whatever virtio_net_init did, in any state it stopped in. */
static void net_release(struct virtio_net *n)
{
	if (n->tap_watched && n->vp.io.unwatch)
		n->vp.io.unwatch(n->vp.io.ctx, n->tap_fd);
	n->tap_watched = false;
	if (n->timer_watched && n->vp.io.unwatch)
		n->vp.io.unwatch(n->vp.io.ctx, n->timer_fd);
	n->timer_watched = false;
	if (n->done_watched && n->vp.io.unwatch)
		n->vp.io.unwatch(n->vp.io.ctx, n->done_fd);
	n->done_watched = false;
	if (n->vp_inited)
		virtio_pci_destroy(&n->vp);
	n->vp_inited = false;
	tap_close(n->tap_fd);
	n->tap_fd = -1;
	if (n->timer_fd >= 0)
		close(n->timer_fd);
	n->timer_fd = -1;
	if (n->done_fd >= 0)
		close(n->done_fd);
	n->done_fd = -1;
	free(n->rx.c);
	free(n->tx.c);
	n->rx.c = n->tx.c = NULL;
	n->rx.count = n->tx.count = 0;
	free(n->bounce);
	n->bounce = NULL;
	n->initialized = false;
}

int virtio_net_init(struct virtio_net *n, const struct virtio_net_config_opts *o,
		    struct guest_mem *gm, const struct platform *p, const struct virtio_io *io)
{
	const char *what = NULL;
	int ret;

	memset(n, 0, sizeof(*n));
	n->tap_fd = -1;
	n->timer_fd = -1;
	n->done_fd = -1;
	if (!o || !o->tap[0] || strnlen(o->tap, sizeof(o->tap)) >= sizeof(o->tap))
		return -EINVAL;
	memcpy(n->tap, o->tap, sizeof(n->tap));
	memcpy(n->cfg.mac, o->mac, sizeof(n->cfg.mac));
	n->cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
	n->cfg.max_virtqueue_pairs = htole16(1);

	n->rx.c = calloc(VIRTIO_NET_QUEUE_SIZE, sizeof(*n->rx.c));
	n->tx.c = calloc(VIRTIO_NET_QUEUE_SIZE, sizeof(*n->tx.c));
	n->bounce = malloc(VIRTIO_NET_MAX_PACKET);
	if (!n->rx.c || !n->tx.c || !n->bounce) {
		ret = -ENOMEM;
		goto fail;
	}
	if (!o->detached) {
		ret = tap_open(n->tap, &what);
		if (ret < 0) {
			explain_open_error(n->tap, what, -ret);
			goto fail;
		}
		n->tap_fd = ret;
	}
	n->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	n->done_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (n->timer_fd < 0 || n->done_fd < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: --net tap=%s: timer: %s\n", n->tap, strerror(-ret));
		goto fail;
	}
	ret = virtio_pci_init(&n->vp, &net_ops, n, gm, p, io);
	n->vp_inited = true;
	if (ret < 0) {
		fprintf(stderr, "petrel: --net tap=%s: %s\n", n->tap, strerror(-ret));
		goto fail;
	}
	if (io->watch) {
		ret = io->watch(io->ctx, n->timer_fd, tx_timer, n);
		if (ret < 0)
			goto fail;
		n->timer_watched = true;
		ret = io->watch(io->ctx, n->done_fd, tx_timer, n);
		if (ret < 0)
			goto fail;
		n->done_watched = true;
	}
	n->initialized = true;
	return 0;
fail:
	net_release(n);
	return ret;
}

void virtio_net_detach(struct virtio_net *n)
{
	pthread_mutex_lock(&n->vp.lock);
	if (n->tap_watched && n->vp.io.unwatch)
		n->vp.io.unwatch(n->vp.io.ctx, n->tap_fd);
	n->tap_watched = false;
	tap_close(n->tap_fd);
	n->tap_fd = -1;
	pthread_mutex_unlock(&n->vp.lock);
}

/* @fd (>= 0: one handed over; else the TAP is opened) becomes the device's. */
static int net_attach(struct virtio_net *n, int fd)
{
	const char *what = NULL;
	struct virtq *q;
	int ret = 0;

	pthread_mutex_lock(&n->vp.lock);
	if (n->tap_fd >= 0) {
		ret = fd >= 0 ? -EBUSY : 0;
		goto out;
	}
	ret = fd >= 0 ? tap_adopt(fd, n->tap) : tap_open(n->tap, &what);
	if (ret < 0)
		goto out; /* the caller names the TAP */
	n->tap_fd = fd >= 0 ? fd : ret;
	ret = 0;
	n->tap_broken = false;
	/* a TAP handed over keeps what its last owner set: set it as this device has it */
	if (n->vp.status & VIRTIO_STATUS_FEATURES_OK)
		net_features_ok(&n->vp);
	else if (fd >= 0 && tap_set_offload(fd, 0) < 0) {
		/* FEATURES_OK sets them when it comes */
	}
	/* what waited goes now */
	q = virtio_pci_vq(&n->vp, VIRTIO_NET_TX_QUEUE);
	if (q && !q->broken && n->tx.count) {
		bool pushed = false;

		tx_flush(n, q, &pushed);
		if (pushed)
			virtio_pci_queue_done(&n->vp, VIRTIO_NET_TX_QUEUE);
	}
out:
	pthread_mutex_unlock(&n->vp.lock);
	/* the receive queue looked at again: the TAP is watched from there */
	if (!ret)
		virtio_pci_kick_all(&n->vp);
	return ret;
}

int virtio_net_attach(struct virtio_net *n)
{
	return net_attach(n, -1);
}

int virtio_net_attach_fd(struct virtio_net *n, int fd)
{
	return fd < 0 ? -EBADF : net_attach(n, fd);
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (n->initialized)
		net_release(n);
}

/*
 * Give the chains held in @f back to queue @q as never popped; when that is
 * not possible, complete them empty. True when something was pushed.
 */
static bool fifo_give_back(struct virtio_net *n, struct virtq *q, struct virtio_net_fifo *f,
			   uint64_t *lost)
{
	uint16_t heads[VIRTIO_NET_QUEUE_SIZE];
	bool pushed = false;
	unsigned int i;

	for (i = 0; i < f->count; i++)
		heads[i] = fifo_at(f, i)->head;
	if (virtq_unpop(q, heads, f->count) < 0) {
		for (i = 0; i < f->count; i++)
			chain_done(n, q, fifo_at(f, i), 0, &pushed);
		*lost += f->count;
	}
	f->first = f->count = 0;
	return pushed;
}

void virtio_net_quiesce(struct virtio_net *n)
{
	struct virtq *q;
	bool pushed = false;

	pthread_mutex_lock(&n->vp.lock);
	q = virtio_pci_vq(&n->vp, VIRTIO_NET_TX_QUEUE);
	if (q && !q->broken) {
		tx_done_all(n, q, &pushed);
		tx_flush(n, q, &pushed);
		tx_done_all(n, q, &pushed);
		if (fifo_give_back(n, q, &n->tx, &n->stats.tx_dropped))
			pushed = true;
		n->tx_blocked = false;
		if (pushed)
			virtio_pci_queue_done(&n->vp, VIRTIO_NET_TX_QUEUE);
	}
	q = virtio_pci_vq(&n->vp, VIRTIO_NET_RX_QUEUE);
	if (q && !q->broken && fifo_give_back(n, q, &n->rx, &n->stats.rx_errors))
		virtio_pci_queue_done(&n->vp, VIRTIO_NET_RX_QUEUE);
	pthread_mutex_unlock(&n->vp.lock);
}

void virtio_net_save(struct virtio_net *n, struct virtio_net_state *s, uint8_t *pending)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&n->vp.lock);
	memcpy(s->mac, n->cfg.mac, sizeof(s->mac));
	s->status = le16toh(n->cfg.status);
	s->pending_len = n->bounce_len;
	if (n->bounce_len)
		memcpy(pending, n->bounce, n->bounce_len);
	pthread_mutex_unlock(&n->vp.lock);
}

const char *virtio_net_state_check(const struct virtio_net *n, const struct virtio_net_state *s,
				   size_t pending_bytes)
{
	if (memcmp(s->mac, n->cfg.mac, sizeof(s->mac)))
		return "mac";
	if (s->status & ~(VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE))
		return "status";
	if (s->pending_len != pending_bytes ||
	    (s->pending_len &&
	     (s->pending_len < VIRTIO_NET_HDR_LEN || s->pending_len > VIRTIO_NET_MAX_PACKET)))
		return "pending_len";
	if (s->pad)
		return "pad";
	return NULL;
}

void virtio_net_restore(struct virtio_net *n, const struct virtio_net_state *s,
			const uint8_t *pending)
{
	pthread_mutex_lock(&n->vp.lock);
	n->cfg.status = htole16(s->status);
	/* delivered when the receive queue is next looked at (the kick after a restore) */
	n->bounce_len = pending ? s->pending_len : 0;
	if (n->bounce_len)
		memcpy(n->bounce, pending, n->bounce_len);
	/* the TAP takes the offloads the restored driver negotiated */
	if (n->vp.status & VIRTIO_STATUS_FEATURES_OK)
		net_features_ok(&n->vp);
	pthread_mutex_unlock(&n->vp.lock);
}
