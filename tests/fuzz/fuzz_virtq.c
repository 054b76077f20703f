// SPDX-License-Identifier: GPL-2.0-only
/*
 * The split virtqueue walker alone (virtq.c), as a device would drive it, over
 * the harness's guest memory (fuzz_virtio.h): queue size, layout, EVENT_IDX
 * and INDIRECT from the header. Every popped chain is checked: its head in
 * range, each segment inside one RAM region at the guest address it names,
 * readable segments before writable ones, lengths that add up, within the
 * caps. A push beyond the writable length must be refused and change nothing;
 * a save and restore must give the same queue back.
 *
 * Commands: KICK pops every available chain (held for later); DEV's sub-command
 * byte: 0 pop one (bit 7: push it at once), 1 push the oldest held chain,
 * 2 should_notify, 3 disable_notify, 4 enable_notify, 5 save and restore,
 * 6 set_avail_event; DEV2 pushes a held chain with more than it can hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_virtio.h"
#include "virtio/virtq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz fz;
static struct virtq vq;
static struct virtq_req req;
static struct {
	uint16_t head;
	uint32_t write_len;
} held[FZ_MAX_QSIZE];
static unsigned int nr_held, held_first;

static void check_req(struct fz *f, const struct virtq_req *r)
{
	uint64_t rl = 0, wl = 0;
	unsigned int i;

	if (r->head >= vq.size)
		fz_fail("popped head out of range");
	if (r->nr_readable + r->nr_writable > VIRTQ_MAX_SEGS)
		fz_fail("too many segments");
	for (i = 0; i < r->nr_readable + r->nr_writable; i++) {
		const struct virtq_seg *s = &r->segs[i];

		if (!s->len)
			fz_fail("an empty segment");
		if (s->write != (i >= r->nr_readable))
			fz_fail("segment direction out of order");
		if (!fz_in_ram(f, s->hva, s->len))
			fz_fail("a segment outside one RAM region");
		if (fz_gpa(f, s->hva) != s->gpa)
			fz_fail("a segment's host and guest addresses disagree");
		if (s->write)
			wl += s->len;
		else
			rl += s->len;
	}
	if (rl != r->read_len || wl != r->write_len)
		fz_fail("segment lengths do not add up");
	if (rl + wl > VIRTQ_MAX_CHAIN_BYTES)
		fz_fail("a chain longer than the cap");
}

static void hold(const struct virtq_req *r)
{
	if (nr_held == FZ_MAX_QSIZE)
		fz_fail("more chains in flight than the queue holds");
	held[(held_first + nr_held) % FZ_MAX_QSIZE].head = r->head;
	held[(held_first + nr_held) % FZ_MAX_QSIZE].write_len = r->write_len;
	nr_held++;
}

static int pop(struct fz *f)
{
	int ret = virtq_pop(&vq, &req);

	if (ret > 0)
		check_req(f, &req);
	else if (ret < 0 && !vq.broken)
		fz_fail("a failed pop left the queue usable");
	return ret;
}

static void vq_start(struct fz *f)
{
	struct fz_queue *q = &f->q[0];

	nr_held = held_first = 0;
	if (virtq_setup(&vq, &f->gm, q->size, q->desc, q->avail, q->used, f->flags & FZ_F_EVENT_IDX,
			f->flags & FZ_F_INDIRECT) < 0)
		virtq_reset(&vq);
}

static void vq_kick(struct fz *f, unsigned int qi)
{
	unsigned int n;

	for (n = 0; n < vq.size && pop(f) > 0; n++)
		hold(&req);
}

static void push_oldest(struct fz_in *in, bool overfull)
{
	uint32_t w = fz_u32(in);
	uint16_t used = vq.used_idx;
	int ret;

	if (!nr_held)
		return;
	if (overfull) {
		struct virtq_req r = {.head = held[held_first].head,
				      .write_len = held[held_first].write_len};

		if (held[held_first].write_len == UINT32_MAX)
			return;
		w = r.write_len + 1 + w % 16;
		if (virtq_push(&vq, &r, w) != (vq.broken || !vq.ready ? -EIO : -EINVAL) ||
		    vq.used_idx != used)
			fz_fail("a push beyond the writable length was not refused");
		return;
	}
	w %= held[held_first].write_len + 1;
	ret = virtq_push_head(&vq, held[held_first].head, w);
	if (!ret && vq.used_idx != (uint16_t)(used + 1))
		fz_fail("a push did not advance used->idx");
	held_first = (held_first + 1) % FZ_MAX_QSIZE;
	nr_held--;
}

static void save_restore(struct fz *f)
{
	struct virtq_state s, again;

	virtq_save(&vq, &s);
	if (virtq_restore(&vq, &f->gm, &s) < 0) {
		if (s.ready)
			fz_fail("a saved ready queue did not restore");
		return;
	}
	virtq_save(&vq, &again);
	if (memcmp(&s, &again, sizeof(s)))
		fz_fail("a restored queue differs from the saved one");
}

static void vq_dev(struct fz *f, struct fz_in *in)
{
	uint8_t sub = fz_u8(in);

	switch (sub & 7) {
	case 0:
		if (pop(f) <= 0)
			break;
		if (sub & 0x80) {
			uint32_t w = fz_u32(in) % (req.write_len + 1ULL);

			if (virtq_push(&vq, &req, w) < 0)
				fz_fail("a push of a popped chain failed");
		} else {
			hold(&req);
		}
		break;
	case 1:
		push_oldest(in, false);
		break;
	case 2:
		virtq_should_notify(&vq);
		break;
	case 3:
		virtq_disable_notify(&vq);
		break;
	case 4:
		virtq_enable_notify(&vq);
		break;
	case 5:
		save_restore(f);
		break;
	case 6:
		virtq_set_avail_event(&vq);
		break;
	}
}

static void vq_dev2(struct fz *f, struct fz_in *in)
{
	push_oldest(in, true);
}

static void vq_check(struct fz *f)
{
	fz_check_used(f, 0, vq.ready ? vq.used_hva : NULL);
}

static int vq_create(struct fz *f)
{
	virtq_reset(&vq);
	return 0;
}

static void vq_destroy(struct fz *f)
{
	virtq_reset(&vq);
}

static const struct fz_target target = {
    .nr_queues = 1,
    .create = vq_create,
    .destroy = vq_destroy,
    .start = vq_start,
    .kick = vq_kick,
    .dev = vq_dev,
    .dev2 = vq_dev2,
    .check = vq_check,
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
