// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-rng on the virtqueue walker, over the harness's guest memory
 * (fuzz_virtio.h). getrandom is the harness's (wrapped at link time): a
 * pattern, so that an input always runs the same way. DEV's sub-command
 * picks how it answers from then on: 0 in full, 1 half of what was asked,
 * 2 EAGAIN (the pool is not ready).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fuzz_virtio.h"
#include "virtio/virtio_rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);

static struct fz fz;
static struct virtio_rng rng;
static unsigned int mode;
static uint8_t next;

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	uint8_t *p = buf;
	size_t i;

	if (mode == 2) {
		errno = EAGAIN;
		return -1;
	}
	if (mode == 1 && len > 1)
		len /= 2;
	for (i = 0; i < len; i++)
		p[i] = next++;
	return (ssize_t)len;
}

static int rng_create(struct fz *f)
{
	mode = 0;
	next = 0;
	if (virtio_rng_init(&rng, &f->gm, &f->plat, &f->io) < 0)
		return -1;
	f->vp = &rng.vp;
	return 0;
}

static void rng_destroy(struct fz *f)
{
	virtio_rng_destroy(&rng);
}

static void rng_dev(struct fz *f, struct fz_in *in)
{
	mode = fz_u8(in) % 3;
}

static const struct fz_target target = {
    .nr_queues = 1,
    .create = rng_create,
    .destroy = rng_destroy,
    .dev = rng_dev,
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
