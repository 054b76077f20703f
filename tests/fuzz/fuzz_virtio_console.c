// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-console's transmit and receive queues on the virtqueue walker, over
 * the harness's guest memory (fuzz_virtio.h). Guest output goes to a check:
 * it must lie inside one RAM region. DEV: host input (u8 length and bytes of
 * the input) goes to virtio_console_input, which may take no more than it was
 * given. DEV2's sub-command: 0 a new console size (2 x u16), 1 the rx_ready
 * callback is set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_virtio.h"
#include "virtio/virtio_console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz fz;
static struct virtio_console con;
static bool in_input; /* virtio_console_input is running */

static void out(void *opaque, const uint8_t *buf, size_t len)
{
	if (!fz_in_ram(&fz, buf, len))
		fz_fail("console output from outside guest RAM");
}

static void rx_ready(void *opaque)
{
	if (in_input)
		fz_fail("rx_ready called from inside virtio_console_input");
}

static int con_create(struct fz *f)
{
	if (virtio_console_init(&con, &f->gm, &f->plat, &f->io, out, NULL) < 0)
		return -1;
	f->vp = &con.vp;
	return 0;
}

static void con_destroy(struct fz *f)
{
	virtio_console_destroy(&con);
}

static uint32_t con_features(const struct fz *f)
{
	return f->dev_features & 1 ? 1u << VIRTIO_CONSOLE_F_SIZE : 0;
}

static void con_dev(struct fz *f, struct fz_in *in)
{
	size_t len, took;
	const uint8_t *p = fz_bytes(in, fz_u8(in), &len);

	in_input = true;
	took = virtio_console_input(&con, p, len);
	in_input = false;
	if (took > len)
		fz_fail("console input took more than it was given");
}

static void con_dev2(struct fz *f, struct fz_in *in)
{
	uint8_t sub = fz_u8(in);

	if (sub & 1) {
		virtio_console_set_rx_ready(&con, rx_ready);
	} else {
		uint16_t cols = fz_u16(in);

		virtio_console_set_size(&con, cols, fz_u16(in));
	}
}

static const struct fz_target target = {
    .nr_queues = 2,
    .create = con_create,
    .destroy = con_destroy,
    .features = con_features,
    .dev = con_dev,
    .dev2 = con_dev2,
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
