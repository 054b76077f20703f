// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-vsock on virtio-pci. Transmit chains are taken as the driver
 * gives them: the header is copied out of guest memory once, the payload
 * goes to the connection (virtio_vsock_conn.c), the chain returns at once.
 * Receive buffers stay on the ring until there is a packet for the guest:
 * its kicks are wanted only when packets wait and the ring ran dry. Host
 * bytes are read straight into the receive buffer. The event queue is used
 * once per restore, for TRANSPORT_RESET.
 */
#include "virtio/virtio_vsock.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mem/guest_mem.h"

_Static_assert(sizeof(struct virtio_vsock_config) == 8, "config size");

static struct virtio_vsock *of_mux(struct vsock_mux *mux)
{
	return (struct virtio_vsock *)((char *)mux - offsetof(struct virtio_vsock, mux));
}

static bool vsock_live(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Copy @len bytes into (or out of) the segments [first, first + nr) from byte @skip on. */
static void seg_copy(const struct virtq_seg *segs, unsigned int nr, size_t skip, void *buf,
		     size_t len, bool to_guest)
{
	uint8_t *p = buf;
	unsigned int i;

	for (i = 0; i < nr && len; i++) {
		size_t l = segs[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		if (to_guest)
			memcpy((uint8_t *)segs[i].hva + skip, p, l);
		else
			memcpy(p, (const uint8_t *)segs[i].hva + skip, l);
		p += l;
		len -= l;
		skip = 0;
	}
}

/* The segments from byte @skip on as iovecs in v->iov; returns how many. */
static unsigned int seg_iov(struct virtio_vsock *v, const struct virtq_seg *segs, unsigned int nr,
			    size_t skip)
{
	unsigned int i, n = 0;

	for (i = 0; i < nr; i++) {
		size_t l = segs[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		v->iov[n++] = (struct iovec){(uint8_t *)segs[i].hva + skip, l - skip};
		skip = 0;
	}
	return n;
}

/* Packets for the guest into its receive buffers while both are there. */
static void rx_flush(struct virtio_vsock *v)
{
	struct virtio_pci *vp = &v->vp;
	struct virtq *q = virtio_pci_vq(vp, VIRTIO_VSOCK_RX_QUEUE);
	struct virtq_req *req = &vp->req;
	bool pushed = false;

	if (!q || !vsock_live(vp) || q->broken)
		return;
	while (vsock_mux_has_pkt(&v->mux)) {
		const struct virtq_seg *w;
		uint8_t raw[VSOCK_HDR_LEN];
		struct vsock_hdr h;
		unsigned int n;
		int ret = virtq_pop(q, req);

		if (ret < 0) {
			virtio_pci_needs_reset(vp);
			break;
		}
		if (!ret) {
			/* a kick when buffers come: unless they came meanwhile */
			if (virtq_enable_notify(q) && !(q->pop_limited && !q->pop_budget))
				continue;
			break;
		}
		w = &req->segs[req->nr_readable];
		if (req->write_len < VSOCK_HDR_LEN) {
			/* no room for a header: not a buffer a driver gives */
			if (virtq_push(q, req, 0) < 0)
				break;
			pushed = true;
			continue;
		}
		n = seg_iov(v, w, req->nr_writable, VSOCK_HDR_LEN);
		if (!vsock_mux_next_pkt(&v->mux, &h, v->iov, n, req->write_len - VSOCK_HDR_LEN)) {
			/* nothing after all: the buffer goes back unused */
			if (virtq_unpop(q, &req->head, 1) < 0 && virtq_push(q, req, 0) == 0)
				pushed = true;
			break;
		}
		vsock_hdr_encode(&h, raw);
		seg_copy(w, req->nr_writable, 0, raw, sizeof(raw), true);
		if (virtq_push(q, req, VSOCK_HDR_LEN + h.len) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(vp, VIRTIO_VSOCK_RX_QUEUE);
}

static void tx_notify(struct virtio_vsock *v, struct virtq *q)
{
	struct virtio_pci *vp = &v->vp;
	struct virtq_req *req = &vp->req;
	bool pushed = false;
	int ret;

	while ((ret = virtq_pop(q, req)) > 0) {
		uint8_t raw[VSOCK_HDR_LEN];
		struct vsock_hdr h;

		if (req->read_len >= VSOCK_HDR_LEN) {
			unsigned int n;

			/* the header is read once: every check is on this copy */
			seg_copy(req->segs, req->nr_readable, 0, raw, sizeof(raw), false);
			gm_race_point(raw, sizeof(raw));
			vsock_hdr_decode(raw, &h);
			n = seg_iov(v, req->segs, req->nr_readable, VSOCK_HDR_LEN);
			vsock_mux_guest_pkt(&v->mux, &h, v->iov, n, req->read_len - VSOCK_HDR_LEN);
		} else {
			v->mux.stats.bad_packets++;
		}
		if (virtq_push(q, req, 0) < 0)
			break;
		pushed = true;
	}
	if (ret < 0)
		virtio_pci_needs_reset(vp);
	if (pushed)
		virtio_pci_queue_done(vp, VIRTIO_VSOCK_TX_QUEUE);
	rx_flush(v);
}

/* A TRANSPORT_RESET event, when one is owed and the driver gave a buffer. */
static void event_flush(struct virtio_vsock *v)
{
	struct virtio_pci *vp = &v->vp;
	struct virtq *q = virtio_pci_vq(vp, VIRTIO_VSOCK_EVENT_QUEUE);
	struct virtq_req *req = &vp->req;
	uint32_t id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	bool pushed = false;
	int ret;

	if (!v->reset_owed || !q || !vsock_live(vp) || q->broken)
		return;
	while ((ret = virtq_pop(q, req)) > 0) {
		if (req->write_len < sizeof(id)) {
			if (virtq_push(q, req, 0) < 0)
				break;
			pushed = true;
			continue;
		}
		seg_copy(&req->segs[req->nr_readable], req->nr_writable, 0, &id, sizeof(id), true);
		if (virtq_push(q, req, sizeof(id)) == 0) {
			pushed = true;
			v->reset_owed = false;
			v->events_sent++;
		}
		break;
	}
	if (ret < 0)
		virtio_pci_needs_reset(vp);
	else if (v->reset_owed)
		virtq_enable_notify(q);
	if (pushed)
		virtio_pci_queue_done(vp, VIRTIO_VSOCK_EVENT_QUEUE);
}

/* Have the I/O thread run do_pending. */
static void schedule_work(struct virtio_vsock *v)
{
	uint64_t one = 1;

	if (v->work_efd >= 0 && write(v->work_efd, &one, sizeof(one)) < 0) {
		/* the counter is already set: the work is coming */
	}
}

/* On the I/O thread, first of all: connections to close, an event to send. */
static void do_pending(struct virtio_vsock *v)
{
	if (v->conns_reset) {
		vsock_mux_reset(&v->mux);
		v->conns_reset = false;
	}
	event_flush(v);
}

static void vsock_notify(struct virtio_pci *vp, unsigned int qi)
{
	struct virtio_vsock *v = vp->dev;
	struct virtq *q = virtio_pci_vq(vp, qi);

	do_pending(v);
	if (!q)
		return;
	if (qi == VIRTIO_VSOCK_TX_QUEUE)
		tx_notify(v, q);
	else if (qi == VIRTIO_VSOCK_RX_QUEUE)
		rx_flush(v);
	else if (qi == VIRTIO_VSOCK_EVENT_QUEUE)
		event_flush(v);
}

static void vsock_config_read(struct virtio_pci *vp, uint32_t off, uint8_t *buf, unsigned int len)
{
	struct virtio_vsock *v = vp->dev;

	if (off <= sizeof(v->cfg) && len <= sizeof(v->cfg) - off)
		memcpy(buf, (const uint8_t *)&v->cfg + off, len);
}

static void vsock_config_write(struct virtio_pci *vp, uint32_t off, const uint8_t *buf,
			       unsigned int len)
{
	/* guest_cid is read-only */
}

/* The driver reset the device (on a vCPU thread): its connections go. */
static void vsock_reset(struct virtio_pci *vp)
{
	struct virtio_vsock *v = vp->dev;

	v->reset_owed = false;
	v->conns_reset = true;
	schedule_work(v);
}

static const struct virtio_dev_ops vsock_ops = {
    .name = "virtio-vsock",
    .device_id = 19,
    .pci_class = 0xff,
    .pci_subclass = 0x00,
    .features = 1ULL << VIRTIO_VSOCK_F_STREAM,
    .nr_queues = VIRTIO_VSOCK_NR_QUEUES,
    .kick_on_demand = (1u << VIRTIO_VSOCK_RX_QUEUE) | (1u << VIRTIO_VSOCK_EVENT_QUEUE),
    .queue_max = VIRTIO_VSOCK_QUEUE_SIZE,
    .config_len = sizeof(struct virtio_vsock_config),
    .config_read = vsock_config_read,
    .config_write = vsock_config_write,
    .queue_notify = vsock_notify,
    .reset = vsock_reset,
};

/* The I/O thread: a host socket of a connection is ready. */
static void on_conn(void *opaque, int fd, uint32_t events)
{
	struct vsock_conn *c = opaque;
	struct virtio_vsock *v = of_mux(c->mux);

	pthread_mutex_lock(&v->vp.lock);
	if (v->conns_reset)
		do_pending(v); /* @c is gone */
	else
		vsock_mux_host_event(&v->mux, c, events);
	rx_flush(v);
	pthread_mutex_unlock(&v->vp.lock);
}

/* The I/O thread: a host process connects to the UDS. */
static void on_listen(void *opaque, int fd, uint32_t events)
{
	struct virtio_vsock *v = opaque;

	pthread_mutex_lock(&v->vp.lock);
	do_pending(v);
	vsock_mux_host_event(&v->mux, NULL, events);
	rx_flush(v);
	pthread_mutex_unlock(&v->vp.lock);
}

/* The I/O thread: work another thread asked for. */
static void on_work(void *opaque, int fd, uint32_t events)
{
	struct virtio_vsock *v = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* nothing pending: a spurious wake-up */
	}
	pthread_mutex_lock(&v->vp.lock);
	do_pending(v);
	rx_flush(v);
	pthread_mutex_unlock(&v->vp.lock);
}

static int mux_watch(void *ctx, int fd, uint32_t events, struct vsock_conn *c)
{
	struct virtio_vsock *v = ctx;
	int ret;

	if (!c->watched) {
		ret = v->vp.io.watch(v->vp.io.ctx, fd, on_conn, c);
		if (ret < 0)
			return ret;
	}
	ret = v->vp.io.rewatch(v->vp.io.ctx, fd, events);
	if (ret < 0 && !c->watched)
		v->vp.io.unwatch(v->vp.io.ctx, fd);
	return ret;
}

static void mux_unwatch(void *ctx, int fd)
{
	struct virtio_vsock *v = ctx;

	v->vp.io.unwatch(v->vp.io.ctx, fd);
}

/* The listening socket at v->uds; -errno (said on stderr when @say) with nothing left. */
static int listen_uds(struct virtio_vsock *v, bool say)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", v->uds);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = errno == EADDRINUSE ? -EEXIST : -errno;
		if (say)
			fprintf(stderr, "petrel: --vsock uds=%s: %s%s\n", v->uds, strerror(-ret),
				ret == -EEXIST ? " (remove it first, or choose another path)" : "");
		close(fd);
		return ret;
	}
	if (listen(fd, 128) < 0) {
		ret = -errno;
		if (say)
			fprintf(stderr, "petrel: --vsock uds=%s: listen: %s\n", v->uds,
				strerror(-ret));
		unlink(v->uds);
		close(fd);
		return ret;
	}
	v->listen_fd = fd;
	v->uds_created = true;
	v->mux.listen_fd = fd;
	return 0;
}

/* Stop listening: the socket goes from the file system too. */
static void unlisten_uds(struct virtio_vsock *v)
{
	if (v->listen_watched)
		v->vp.io.unwatch(v->vp.io.ctx, v->listen_fd);
	v->listen_watched = false;
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	v->listen_fd = -1;
	v->mux.listen_fd = -1;
	if (v->uds_created)
		unlink(v->uds);
	v->uds_created = false;
}

int virtio_vsock_init(struct virtio_vsock *v, const struct virtio_vsock_config_opts *o,
		      bool detached, struct guest_mem *gm, const struct platform *p,
		      const struct virtio_io *io)
{
	struct vsock_mux_ops ops = {.watch = mux_watch, .unwatch = mux_unwatch, .ctx = v};
	int ret;

	memset(v, 0, sizeof(*v));
	v->listen_fd = -1;
	v->work_efd = -1;
	if (o->cid < VSOCK_MIN_GUEST_CID || o->cid > VSOCK_MAX_GUEST_CID || !o->uds[0] ||
	    !io->watch || !io->rewatch || !io->unwatch)
		return -EINVAL;
	v->cfg.guest_cid = htole64(o->cid);
	snprintf(v->uds, sizeof(v->uds), "%s", o->uds);
	vsock_mux_init(&v->mux, o->cid, v->uds, -1, &ops);
	if (!detached) {
		ret = listen_uds(v, true);
		if (ret < 0)
			goto fail;
	}
	ret = virtio_pci_init(&v->vp, &vsock_ops, v, gm, p, io);
	v->vp_inited = true;
	if (ret < 0)
		goto fail;
	if (v->listen_fd >= 0) {
		ret = io->watch(io->ctx, v->listen_fd, on_listen, v);
		if (ret < 0)
			goto fail;
		v->listen_watched = true;
	}
	v->work_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->work_efd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = io->watch(io->ctx, v->work_efd, on_work, v);
	if (ret < 0)
		goto fail;
	v->work_watched = true;
	return 0;
fail:
	virtio_vsock_destroy(v);
	return ret;
}

void virtio_vsock_destroy(struct virtio_vsock *v)
{
	if (v->vp_inited) {
		vsock_mux_reset(&v->mux);
		unlisten_uds(v);
		if (v->work_watched)
			v->vp.io.unwatch(v->vp.io.ctx, v->work_efd);
		v->work_watched = false;
		virtio_pci_destroy(&v->vp);
		v->vp_inited = false;
	}
	unlisten_uds(v);
	if (v->work_efd >= 0)
		close(v->work_efd);
	v->work_efd = -1;
}

void virtio_vsock_detach(struct virtio_vsock *v)
{
	pthread_mutex_lock(&v->vp.lock);
	if (v->mux.nr_conns)
		v->had_conns = true;
	vsock_mux_reset(&v->mux);
	v->conns_reset = false;
	unlisten_uds(v);
	pthread_mutex_unlock(&v->vp.lock);
}

int virtio_vsock_attach(struct virtio_vsock *v)
{
	int ret = 0;

	pthread_mutex_lock(&v->vp.lock);
	if (v->listen_fd >= 0)
		goto out;
	ret = listen_uds(v, false);
	if (ret < 0)
		goto out;
	ret = v->vp.io.watch(v->vp.io.ctx, v->listen_fd, on_listen, v);
	if (ret < 0) {
		unlisten_uds(v);
		goto out;
	}
	v->listen_watched = true;
	/* taken back after a failed handover: the guest's connections are gone */
	if (v->had_conns && vsock_live(&v->vp)) {
		v->reset_owed = true;
		schedule_work(v);
	}
	v->had_conns = false;
out:
	pthread_mutex_unlock(&v->vp.lock);
	return ret;
}

bool virtio_vsock_transport_reset(struct virtio_vsock *v)
{
	bool live;

	pthread_mutex_lock(&v->vp.lock);
	live = vsock_live(&v->vp);
	v->conns_reset = true;
	v->reset_owed = live;
	schedule_work(v);
	pthread_mutex_unlock(&v->vp.lock);
	return live;
}

void virtio_vsock_stats(struct virtio_vsock *v, struct vsock_mux_stats *s, unsigned int *conns)
{
	pthread_mutex_lock(&v->vp.lock);
	*s = v->mux.stats;
	*conns = v->mux.nr_conns;
	pthread_mutex_unlock(&v->vp.lock);
}

void virtio_vsock_save(struct virtio_vsock *v, struct virtio_vsock_state *s)
{
	memset(s, 0, sizeof(*s));
	s->guest_cid = le64toh(v->cfg.guest_cid);
}

const char *virtio_vsock_state_check(const struct virtio_vsock *v,
				     const struct virtio_vsock_state *s)
{
	/* the driver knows its cid: another one would strand it */
	return s->guest_cid != le64toh(v->cfg.guest_cid) ? "guest_cid" : NULL;
}
