// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-console, port 0 only. Transmit chains are written out as they come
 * and returned at once. Receive buffers are taken off the ring when the
 * driver adds them (the transport keeps calling a queue's notify handler
 * while buffers are left on its ring) and held here until host input fills
 * them; each one is returned as soon as it holds something, so that a
 * keystroke reaches the guest without waiting for more.
 *
 * Input waits for the guest's first output: Linux adds receive buffers
 * before its port is set up, and throws away what arrives in between. Its
 * first write says the console is up.
 */
#include "virtio/virtio_console.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "mem/guest_mem.h"

_Static_assert(offsetof(struct virtio_console_config, rows) == 2, "rows");
_Static_assert(offsetof(struct virtio_console_config, max_nr_ports) == 4, "max_nr_ports");
_Static_assert(sizeof(struct virtio_console_config) == 8, "config size");

/* The driver is running the device: buffers may be used (section 3.1.1). */
static bool console_live(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* The driver broke the rules on queue @q: it needs a reset. */
static void queue_broken(struct virtio_pci *vp, struct virtq *q)
{
	q->broken = true;
	virtio_pci_needs_reset(vp);
}

/*
 * Take every receive buffer the driver made available and keep it. Returns
 * true when at least one was added; chains without a writable byte go back
 * at once (*pushed is then set).
 */
static bool rx_collect(struct virtio_console *c, struct virtq *q, bool *pushed)
{
	struct virtq_req *req = &c->vp.req;
	bool added = false;
	int ret;

	while ((ret = virtq_pop(q, req)) > 0) {
		struct virtio_console_rxbuf *b;
		unsigned int i, n;

		if (!req->write_len) {
			/* nothing to write into: return it empty */
			if (virtq_push(q, req, 0) < 0)
				break;
			*pushed = true;
			continue;
		}
		if (c->rx_count == VIRTIO_CONSOLE_QUEUE_SIZE) {
			/* more chains in flight than descriptors: not a real driver */
			queue_broken(&c->vp, q);
			break;
		}
		b = &c->rx[(c->rx_head + c->rx_count) % VIRTIO_CONSOLE_QUEUE_SIZE];
		b->head = req->head;
		b->nr_segs = 0;
		/* readable segments have no place in a receive buffer: skip them */
		for (i = req->nr_readable, n = 0;
		     i < req->nr_readable + req->nr_writable && n < VIRTIO_CONSOLE_RX_SEGS; i++) {
			const struct virtq_seg *s = &req->segs[i];

			if (!s->len)
				continue;
			b->segs[n].hva = s->hva;
			b->segs[n].gpa = s->gpa;
			b->segs[n].len = s->len;
			n++;
		}
		b->nr_segs = n;
		c->rx_count++;
		added = true;
	}
	if (ret < 0)
		virtio_pci_needs_reset(&c->vp);
	return added;
}

static void rx_notify(struct virtio_console *c, struct virtq *q)
{
	bool pushed = false;

	if (rx_collect(c, q, &pushed) && c->guest_up && c->rx_ready)
		c->rx_ready(c->opaque);
	if (pushed)
		virtio_pci_queue_done(&c->vp, VIRTIO_CONSOLE_RX_QUEUE);
}

/* Copy up to @len bytes into the buffer @b; returns how many went in. */
static uint32_t rx_fill(struct virtio_console *c, const struct virtio_console_rxbuf *b,
			const uint8_t *buf, size_t len)
{
	uint32_t done = 0;
	unsigned int i;

	for (i = 0; i < b->nr_segs && len; i++) {
		uint32_t n = b->segs[i].len < len ? b->segs[i].len : (uint32_t)len;

		memcpy(b->segs[i].hva, buf, n);
		gm_mark_dirty(c->vp.gm, b->segs[i].gpa, n);
		buf += n;
		len -= n;
		done += n;
	}
	return done;
}

size_t virtio_console_input(struct virtio_console *c, const uint8_t *buf, size_t len)
{
	struct virtio_pci *vp = &c->vp;
	struct virtq *q;
	bool pushed = false;
	size_t done = 0;

	if (!len)
		return 0;
	pthread_mutex_lock(&vp->lock);
	q = virtio_pci_vq(vp, VIRTIO_CONSOLE_RX_QUEUE);
	if (!q || !console_live(vp) || q->broken || !c->guest_up)
		goto out;
	/* buffers added without a kick being seen yet are usable too */
	rx_collect(c, q, &pushed);
	while (done < len && c->rx_count && !q->broken) {
		const struct virtio_console_rxbuf *b = &c->rx[c->rx_head];
		uint32_t n = rx_fill(c, b, buf + done, len - done);

		if (virtq_push_head(q, b->head, n) < 0)
			break;
		pushed = true;
		c->rx_head = (c->rx_head + 1) % VIRTIO_CONSOLE_QUEUE_SIZE;
		c->rx_count--;
		done += n;
	}
	c->bytes_in += done;
out:
	if (pushed)
		virtio_pci_queue_done(vp, VIRTIO_CONSOLE_RX_QUEUE);
	pthread_mutex_unlock(&vp->lock);
	return done;
}

static void tx_notify(struct virtio_console *c, struct virtq *q)
{
	struct virtq_req *req = &c->vp.req;
	bool pushed = false;
	int ret;

	while ((ret = virtq_pop(q, req)) > 0) {
		unsigned int i;

		/* writable segments have no meaning on transmit: ignored */
		for (i = 0; i < req->nr_readable; i++) {
			const struct virtq_seg *s = &req->segs[i];

			if (c->out && s->len) {
				c->out(c->opaque, s->hva, s->len);
				gm_race_point(s->hva, s->len);
			}
		}
		c->bytes_out += req->read_len;
		if (virtq_push(q, req, 0) < 0)
			break;
		pushed = true;
	}
	if (!pushed)
		return;
	virtio_pci_queue_done(&c->vp, VIRTIO_CONSOLE_TX_QUEUE);
	if (!c->guest_up) {
		c->guest_up = true;
		if (c->rx_ready)
			c->rx_ready(c->opaque); /* input held until now can go */
	}
	/*
	 * Linux reads the size only on a configuration interrupt, and only once
	 * the port is a console: its first output says that it is.
	 */
	if (!c->size_sent && virtio_pci_has_feature(&c->vp, VIRTIO_CONSOLE_F_SIZE)) {
		c->size_sent = true;
		virtio_pci_config_changed(&c->vp);
	}
}

static void console_notify(struct virtio_pci *vp, unsigned int qi)
{
	struct virtio_console *c = vp->dev;
	struct virtq *q = virtio_pci_vq(vp, qi);

	if (!q)
		return;
	if (qi == VIRTIO_CONSOLE_RX_QUEUE)
		rx_notify(c, q);
	else if (qi == VIRTIO_CONSOLE_TX_QUEUE)
		tx_notify(c, q);
}

static void console_config_read(struct virtio_pci *vp, uint32_t off, uint8_t *buf, unsigned int len)
{
	struct virtio_console *c = vp->dev;

	if (off <= sizeof(c->cfg) && len <= sizeof(c->cfg) - off)
		memcpy(buf, (const uint8_t *)&c->cfg + off, len);
}

static void console_config_write(struct virtio_pci *vp, uint32_t off, const uint8_t *buf,
				 unsigned int len)
{
	/* emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, not offered: nothing is writable */
}

/* The driver reset the device: its buffers are gone. */
static void console_reset(struct virtio_pci *vp)
{
	struct virtio_console *c = vp->dev;

	c->rx_head = 0;
	c->rx_count = 0;
	c->guest_up = false;
	c->size_sent = false;
}

static const struct virtio_dev_ops console_ops = {
    .name = "virtio-console",
    .device_id = 3,
    .pci_class = 0x07, /* communication controller */
    .pci_subclass = 0x80,
    .features = 1ULL << VIRTIO_CONSOLE_F_SIZE,
    .nr_queues = 2,
    .queue_max = VIRTIO_CONSOLE_QUEUE_SIZE,
    .config_len = sizeof(struct virtio_console_config),
    .config_read = console_config_read,
    .config_write = console_config_write,
    .queue_notify = console_notify,
    .reset = console_reset,
};

int virtio_console_init(struct virtio_console *c, struct guest_mem *gm, const struct platform *p,
			const struct virtio_io *io, virtio_console_out_fn out, void *opaque)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->out = out;
	c->opaque = opaque;
	c->cfg.cols = htole16(80);
	c->cfg.rows = htole16(25);
	c->cfg.max_nr_ports = htole32(1);
	ret = virtio_pci_init(&c->vp, &console_ops, c, gm, p, io);
	c->vp_inited = true;
	if (ret < 0) {
		virtio_console_destroy(c);
		return ret;
	}
	return 0;
}

void virtio_console_destroy(struct virtio_console *c)
{
	if (!c->vp_inited)
		return;
	virtio_pci_destroy(&c->vp);
	c->vp_inited = false;
}

void virtio_console_set_rx_ready(struct virtio_console *c, void (*fn)(void *opaque))
{
	pthread_mutex_lock(&c->vp.lock);
	c->rx_ready = fn;
	pthread_mutex_unlock(&c->vp.lock);
}

void virtio_console_set_size(struct virtio_console *c, uint16_t cols, uint16_t rows)
{
	struct virtio_pci *vp = &c->vp;

	pthread_mutex_lock(&vp->lock);
	if (le16toh(c->cfg.cols) != cols || le16toh(c->cfg.rows) != rows) {
		c->cfg.cols = htole16(cols);
		c->cfg.rows = htole16(rows);
		if (console_live(vp) && virtio_pci_has_feature(vp, VIRTIO_CONSOLE_F_SIZE)) {
			c->size_sent = true;
			virtio_pci_config_changed(vp);
		}
	}
	pthread_mutex_unlock(&vp->lock);
}

void virtio_console_quiesce(struct virtio_console *c)
{
	struct virtio_pci *vp = &c->vp;
	uint16_t heads[VIRTIO_CONSOLE_QUEUE_SIZE];
	bool pushed = false;
	struct virtq *q;
	unsigned int i;

	pthread_mutex_lock(&vp->lock);
	q = virtio_pci_vq(vp, VIRTIO_CONSOLE_RX_QUEUE);
	if (q && !q->broken) {
		for (i = 0; i < c->rx_count; i++)
			heads[i] = c->rx[(c->rx_head + i) % VIRTIO_CONSOLE_QUEUE_SIZE].head;
		if (virtq_unpop(q, heads, c->rx_count) < 0)
			for (i = 0; i < c->rx_count; i++)
				pushed |= !virtq_push_head(q, heads[i], 0);
		c->rx_head = c->rx_count = 0;
	}
	if (pushed)
		virtio_pci_queue_done(vp, VIRTIO_CONSOLE_RX_QUEUE);
	pthread_mutex_unlock(&vp->lock);
}

void virtio_console_save(struct virtio_console *c, struct virtio_console_state *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&c->vp.lock);
	s->guest_up = c->guest_up;
	s->size_sent = c->size_sent;
	s->cols = le16toh(c->cfg.cols);
	s->rows = le16toh(c->cfg.rows);
	pthread_mutex_unlock(&c->vp.lock);
}

const char *virtio_console_state_check(const struct virtio_console_state *s)
{
	if (s->guest_up > 1)
		return "guest_up";
	if (s->size_sent > 1)
		return "size_sent";
	return NULL;
}

void virtio_console_restore(struct virtio_console *c, const struct virtio_console_state *s)
{
	struct virtio_pci *vp = &c->vp;

	pthread_mutex_lock(&vp->lock);
	c->guest_up = s->guest_up;
	c->size_sent = s->size_sent;
	if (c->size_sent && (le16toh(c->cfg.cols) != s->cols || le16toh(c->cfg.rows) != s->rows) &&
	    console_live(vp) && virtio_pci_has_feature(vp, VIRTIO_CONSOLE_F_SIZE))
		virtio_pci_config_changed(vp);
	pthread_mutex_unlock(&vp->lock);
}
