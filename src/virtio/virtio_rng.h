/* SPDX-License-Identifier: GPL-2.0-only */
/* virtio-rng (entropy device, type 4): fills the driver's buffers from getrandom(). */
#ifndef PETREL_VIRTIO_VIRTIO_RNG_H
#define PETREL_VIRTIO_VIRTIO_RNG_H

#include "virtio/virtio_pci.h"

struct virtio_rng {
	struct virtio_pci vp;
	uint64_t bytes; /* handed to the guest, for stats */
};

int virtio_rng_init(struct virtio_rng *r, struct guest_mem *gm, const struct platform *p,
		    const struct virtio_io *io);
void virtio_rng_destroy(struct virtio_rng *r);

#endif
