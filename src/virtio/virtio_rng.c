// SPDX-License-Identifier: GPL-2.0-only
/* virtio-rng: one request queue; every writable buffer gets random bytes. */
#include "virtio/virtio_rng.h"

#include <errno.h>
#include <sys/random.h>

static void rng_notify(struct virtio_pci *vp, unsigned int qi)
{
	struct virtio_rng *r = vp->dev;
	struct virtq *q = virtio_pci_vq(vp, qi);
	struct virtq_req *req = &vp->req;
	bool pushed = false;
	int ret;

	if (!q)
		return;
	while ((ret = virtq_pop(q, req)) > 0) {
		uint32_t written = 0;
		unsigned int i;

		for (i = req->nr_readable; i < req->nr_readable + req->nr_writable; i++) {
			struct virtq_seg *s = &req->segs[i];
			ssize_t n = getrandom(s->hva, s->len, GRND_NONBLOCK);

			if (n <= 0)
				break;
			written += (uint32_t)n;
			if ((uint32_t)n < s->len)
				break;
		}
		r->bytes += written;
		if (virtq_push(q, req, written) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(vp, qi);
}

static const struct virtio_dev_ops rng_ops = {
    .name = "virtio-rng",
    .device_id = 4,
    .pci_class = 0xff,
    .pci_subclass = 0x00,
    .nr_queues = 1,
    .queue_max = 256,
    .queue_notify = rng_notify,
};

int virtio_rng_init(struct virtio_rng *r, struct guest_mem *gm, const struct platform *p,
		    const struct virtio_io *io)
{
	r->bytes = 0;
	return virtio_pci_init(&r->vp, &rng_ops, r, gm, p, io);
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	virtio_pci_destroy(&r->vp);
}
