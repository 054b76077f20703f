// SPDX-License-Identifier: GPL-2.0-only
/* The guest-facing fuzz targets' common harness (see fuzz_virtio.h). */
#include "fuzz_virtio.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Common configuration registers */
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_ENABLE 0x1c
#define CC_Q_DESC_LO 0x20
#define CC_Q_DESC_HI 0x24
#define CC_Q_DRIVER_LO 0x28
#define CC_Q_DRIVER_HI 0x2c
#define CC_Q_DEVICE_LO 0x30
#define CC_Q_DEVICE_HI 0x34

/* The input being run, for the race hook. */
static struct fz *cur;

/* ---- input ---- */

uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | fz_u8(in) << 8);
}

uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);

	return lo | (uint32_t)fz_u16(in) << 16;
}

const uint8_t *fz_bytes(struct fz_in *in, size_t max, size_t *len)
{
	const uint8_t *p = in->p;

	*len = max < in->n ? max : in->n;
	in->p += *len;
	in->n -= *len;
	return p;
}

void fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_virtio: invariant broken: %s\n", what);
	abort();
}

/* ---- guest memory ---- */

uint8_t *fz_hva(struct fz *f, uint64_t gpa)
{
	if (gpa < FZ_RAM0)
		return f->ram[0] + gpa;
	if (gpa < FZ_RAM)
		return f->ram[1] + (gpa - FZ_RAM0);
	return NULL;
}

uint64_t fz_gpa(struct fz *f, const void *hva)
{
	const uint8_t *p = hva;

	if (p >= f->ram[0] && p < f->ram[0] + FZ_RAM0)
		return (uint64_t)(p - f->ram[0]);
	if (p >= f->ram[1] && p < f->ram[1] + (FZ_RAM - FZ_RAM0))
		return FZ_RAM0 + (uint64_t)(p - f->ram[1]);
	return FZ_RAM;
}

bool fz_in_ram(struct fz *f, const void *hva, uint64_t len)
{
	const uint8_t *p = hva;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		uint64_t size = i ? FZ_RAM - FZ_RAM0 : FZ_RAM0;

		if (p >= f->ram[i] && p < f->ram[i] + size)
			return len <= size - (uint64_t)(p - f->ram[i]);
	}
	return false;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Write guest memory as the driver (or a racing vCPU), shadow included. */
static void put(struct fz *f, uint64_t gpa, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	size_t i;

	for (i = 0; i < len && gpa + i < FZ_RAM; i++) {
		*fz_hva(f, gpa + i) = src[i];
		f->shadow[gpa + i] = src[i];
	}
}

void fz_poke(struct fz *f, uint64_t gpa, const void *buf, size_t len)
{
	unsigned int i;

	for (i = 0; i < f->nq; i++) {
		struct fz_queue *q = &f->q[i];

		/* avail->idx and ring, or the used ring: heads cannot be followed */
		if (overlaps(gpa, len, q->avail + 2, 2 + 2ULL * q->size) ||
		    overlaps(gpa, len, q->used, VIRTQ_USED_BYTES(q->size)))
			q->tainted = true;
	}
	put(f, gpa, buf, len);
}

static void taint_all(struct fz *f)
{
	unsigned int i;

	for (i = 0; i < f->nq; i++)
		f->q[i].tainted = true;
}

/*
 * After a device read through the door: maybe change guest memory there. One
 * byte of the race stream per read: 0 nothing; 0x01-0x7f XOR the byte at
 * offset op % len of those just read with op (one changed input byte is a
 * change); 0x80-0xbf (op & 15) + 1 bytes of the stream over those just read,
 * from offset (next byte) % len; 0xc0-0xff as many anywhere, at the u16 that
 * follows.
 */
static void race_hook(const void *hva, uint64_t len)
{
	struct fz *f = cur;
	const uint8_t *data;
	uint64_t gpa;
	uint8_t op, b;
	size_t n;

	if (!f || !f->racing || !f->race.n || !len)
		return;
	gpa = fz_gpa(f, hva);
	if (gpa == FZ_RAM)
		return;
	op = fz_u8(&f->race);
	if (!op)
		return;
	if (op < 0x80) {
		gpa += op % len;
		if (gpa >= FZ_RAM)
			return;
		b = *fz_hva(f, gpa) ^ op;
		fz_poke(f, gpa, &b, 1);
	} else {
		if (op < 0xc0)
			gpa += fz_u8(&f->race) % len; /* the bytes just read */
		else
			gpa = fz_u16(&f->race) % FZ_RAM;
		data = fz_bytes(&f->race, (op & 0x0f) + 1u, &n);
		fz_poke(f, gpa, data, n);
	}
	/* descriptors changed under the device: what it may write is not known */
	taint_all(f);
}

static void guard(void *at)
{
	void *p =
	    mmap(at, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != MAP_FAILED && p != at)
		munmap(p, 4096); /* an old kernel ignored the hint: not ours to keep */
}

static int fake_watch(void *ctx, int fd, void (*fn)(void *opaque, int fd, uint32_t events),
		      void *opaque);
static void fake_unwatch(void *ctx, int fd);
static int fake_rewatch(void *ctx, int fd, uint32_t events);
static const struct platform_ops fake_ops;

void fz_global_init(struct fz *f)
{
	unsigned int i;

	memset(f, 0, sizeof(*f));
	gm_init(&f->gm);
	if (gm_add_region(&f->gm, "low", 0, FZ_RAM0) < 0 ||
	    gm_add_region(&f->gm, "high", FZ_RAM0, FZ_RAM - FZ_RAM0) < 0)
		fz_fail("guest memory");
	for (i = 0; i < 2; i++) {
		f->ram[i] = f->gm.regions[i].hva;
		guard(f->ram[i] - 4096);
		guard(f->ram[i] + f->gm.regions[i].size);
	}
	gm_fuzz_after_read = race_hook;
	/* devices a target keeps from one input to the next keep their watches */
	f->plat.ops = &fake_ops;
	f->plat.ctx = f;
	f->io.watch = fake_watch;
	f->io.unwatch = fake_unwatch;
	f->io.rewatch = fake_rewatch;
	f->io.ctx = f;
}

/* ---- the I/O thread's watches ---- */

static int fake_watch(void *ctx, int fd, void (*fn)(void *opaque, int fd, uint32_t events),
		      void *opaque)
{
	struct fz *f = ctx;
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (f->w[i].fn && f->w[i].fd == fd)
			return -EEXIST;
	}
	for (i = 0; i < 16; i++) {
		if (!f->w[i].fn) {
			f->w[i].fd = fd;
			f->w[i].fn = fn;
			f->w[i].opaque = opaque;
			f->w[i].events = POLLIN;
			return 0;
		}
	}
	return -ENOSPC;
}

static void fake_unwatch(void *ctx, int fd)
{
	struct fz *f = ctx;
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (f->w[i].fn && f->w[i].fd == fd)
			memset(&f->w[i], 0, sizeof(f->w[i]));
	}
}

static int fake_rewatch(void *ctx, int fd, uint32_t events)
{
	struct fz *f = ctx;
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (f->w[i].fn && f->w[i].fd == fd) {
			f->w[i].events = events;
			return 0;
		}
	}
	return -ENOENT;
}

void fz_fire_all(struct fz *f)
{
	int fds[16];
	unsigned int i, n = 0;

	/* a handler may watch and unwatch others: the fds first, then each if still there */
	for (i = 0; i < 16; i++)
		if (f->w[i].fn && f->w[i].events)
			fds[n++] = f->w[i].fd;
	for (i = 0; i < n; i++) {
		for (unsigned int j = 0; j < 16; j++) {
			if (f->w[j].fn && f->w[j].fd == fds[i] && f->w[j].events) {
				f->w[j].fn(f->w[j].opaque, fds[i], f->w[j].events);
				break;
			}
		}
	}
}

bool fz_watched(struct fz *f, int fd)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (f->w[i].fn && f->w[i].fd == fd)
			return true;
	}
	return false;
}

void fz_fire(struct fz *f, int fd)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (f->w[i].fn && f->w[i].fd == fd) {
			f->w[i].fn(f->w[i].opaque, fd, POLLIN);
			return;
		}
	}
}

static void fake_set_irq(void *ctx, unsigned int gsi, int level)
{
}

static const struct platform_ops fake_ops = {.set_irq = fake_set_irq};

/* ---- the driver ---- */

void fz_bar_write(struct fz *f, uint64_t off, unsigned int size, uint64_t val)
{
	const struct pci_bar *b = &f->vp->pci.bar[0];

	b->ops->write(b->opaque, off, size, val);
}

uint64_t fz_bar_read(struct fz *f, uint64_t off, unsigned int size)
{
	const struct pci_bar *b = &f->vp->pci.bar[0];

	return b->ops->read(b->opaque, off, size);
}

/* Where queue @qi's rings are: fixed pages, or the header's addresses. */
static void queue_layout(struct fz *f, unsigned int qi)
{
	struct fz_queue *q = &f->q[qi];
	const uint8_t *l = f->layout + 6 * qi;

	if (qi == 2) {
		/* not in the header (inputs written for two queues keep their meaning) */
		q->desc = 0x1000;
		q->avail = 0x2000;
		q->used = 0x3000;
	} else if (f->flags & FZ_F_LAYOUT) {
		q->desc = (uint64_t)(l[0] | l[1] << 8) & ~15ULL;
		q->avail = (uint64_t)(l[2] | l[3] << 8) & ~1ULL;
		q->used = (uint64_t)(l[4] | l[5] << 8) & ~3ULL;
	} else if (qi == 0) {
		/* a 1024-entry table fills 0x0000-0x4000 */
		q->desc = 0x0000;
		q->avail = 0x4000;
		q->used = 0x5000;
	} else {
		q->desc = 0x8000;
		q->avail = 0x9000;
		q->used = 0x9800;
	}
}

/* A fresh queue as the driver sees it: indices 0 in zeroed rings. */
static void queue_fresh(struct fz *f, unsigned int qi)
{
	struct fz_queue *q = &f->q[qi];
	static const uint8_t zero[4];

	q->avail_idx = 0;
	q->used_seen = 0;
	q->tainted = false;
	memset(q->made_avail, 0, sizeof(q->made_avail));
	put(f, q->avail + 2, zero, 2);
	put(f, q->used + 2, zero, 2);
}

/*
 * A used ring the device writes over a ring of the driver's, or two queues
 * sharing an avail ring: heads cannot be followed.
 */
static void queue_overlaps(struct fz *f)
{
	unsigned int i, j;

	for (i = 0; i < f->nq; i++) {
		struct fz_queue *q = &f->q[i];

		for (j = 0; j < f->nq; j++) {
			const struct fz_queue *o = &f->q[j];

			if (overlaps(q->used, VIRTQ_USED_BYTES(q->size), o->avail,
				     VIRTQ_AVAIL_BYTES(o->size)) ||
			    overlaps(q->used, VIRTQ_USED_BYTES(q->size), o->desc,
				     VIRTQ_DESC_BYTES(o->size)) ||
			    (i != j && overlaps(q->used, VIRTQ_USED_BYTES(q->size), o->used,
						VIRTQ_USED_BYTES(o->size))) ||
			    (i != j && overlaps(q->avail, VIRTQ_AVAIL_BYTES(q->size), o->avail,
						VIRTQ_AVAIL_BYTES(o->size)))) {
				f->q[i].tainted = true;
				f->q[j].tainted = true;
			}
		}
	}
}

static void driver_start(struct fz *f, uint16_t qsize)
{
	uint32_t feat = f->t->features ? f->t->features(f) : 0;
	unsigned int qi;

	f->frozen = false;
	if (!f->vp) {
		for (qi = 0; qi < f->nq; qi++) {
			queue_layout(f, qi);
			f->q[qi].size = qsize;
			queue_fresh(f, qi);
		}
		queue_overlaps(f);
		f->t->start(f);
		return;
	}

	if (f->flags & FZ_F_EVENT_IDX)
		feat |= 1u << VIRTIO_F_EVENT_IDX;
	if (f->flags & FZ_F_INDIRECT)
		feat |= 1u << VIRTIO_F_INDIRECT_DESC;
	fz_bar_write(f, CC_STATUS, 1, 0);
	fz_bar_write(f, CC_STATUS, 1, 1);
	fz_bar_write(f, CC_STATUS, 1, 3);
	fz_bar_write(f, CC_GFSELECT, 4, 0);
	fz_bar_write(f, CC_GF, 4, feat);
	fz_bar_write(f, CC_GFSELECT, 4, 1);
	fz_bar_write(f, CC_GF, 4, 1); /* VIRTIO_F_VERSION_1 */
	fz_bar_write(f, CC_STATUS, 1, 0xb);
	for (qi = 0; qi < f->nq; qi++) {
		struct fz_queue *q = &f->q[qi];

		queue_layout(f, qi);
		fz_bar_write(f, CC_Q_SELECT, 2, qi);
		fz_bar_write(f, CC_Q_SIZE, 2, qsize);
		q->size = (uint16_t)fz_bar_read(f, CC_Q_SIZE, 2);
		fz_bar_write(f, CC_Q_DESC_LO, 4, (uint32_t)q->desc);
		fz_bar_write(f, CC_Q_DESC_HI, 4, 0);
		fz_bar_write(f, CC_Q_DRIVER_LO, 4, (uint32_t)q->avail);
		fz_bar_write(f, CC_Q_DRIVER_HI, 4, 0);
		fz_bar_write(f, CC_Q_DEVICE_LO, 4, (uint32_t)q->used);
		fz_bar_write(f, CC_Q_DEVICE_HI, 4, 0);
		queue_fresh(f, qi);
		fz_bar_write(f, CC_Q_ENABLE, 2, 1);
	}
	queue_overlaps(f);
	fz_bar_write(f, CC_STATUS, 1, 0xf);
}

/* ---- invariants ---- */

void fz_check_used(struct fz *f, unsigned int qi, const uint8_t *used_hva)
{
	struct fz_queue *q = &f->q[qi];
	uint16_t idx, n, k;
	uint64_t outstanding = 0;
	unsigned int i;

	if (!used_hva)
		return;
	memcpy(&idx, used_hva + 2, 2);
	n = (uint16_t)(idx - q->used_seen);
	if (q->tainted || !n) {
		q->used_seen = idx;
		return;
	}
	for (i = 0; i < q->size && i < FZ_MAX_QSIZE; i++)
		outstanding += q->made_avail[i];
	if (n > outstanding) {
		fprintf(stderr, "fuzz_virtio: queue %u: used->idx %u after %u, %llu available\n",
			qi, idx, q->used_seen, (unsigned long long)outstanding);
		fz_fail("more used entries than chains made available");
	}
	for (k = 0; k < n; k++) {
		uint32_t id, len;
		uint64_t off = 4 + 8ULL * ((uint16_t)(q->used_seen + k) & (q->size - 1));

		memcpy(&id, used_hva + off, 4);
		memcpy(&len, used_hva + off + 4, 4);
		if (id >= q->size || id >= FZ_MAX_QSIZE || !q->made_avail[id])
			fz_fail("a used entry names a head that was not made available");
		if (len > VIRTQ_MAX_CHAIN_BYTES)
			fz_fail("a used entry claims more bytes than a chain may hold");
		q->made_avail[id]--;
	}
	q->used_seen = idx;
}

void fz_check_memory(struct fz *f)
{
	uint64_t pg;

	for (pg = 0; pg < FZ_RAM; pg += GM_PAGE_SIZE) {
		const uint8_t *hva = fz_hva(f, pg);

		if (!memcmp(hva, f->shadow + pg, GM_PAGE_SIZE))
			continue;
		if (f->frozen)
			fz_fail("the device changed guest memory in DEVICE_NEEDS_RESET");
		if (!gm_page_dirty(&f->gm, pg))
			fz_fail("the device changed a guest page without marking it dirty");
		memcpy(f->shadow + pg, hva, GM_PAGE_SIZE);
	}
	gm_clear_dirty(&f->gm);
}

/* After a command (@ran: device code ran, it may have written guest memory). */
static void check_all(struct fz *f, bool ran)
{
	bool idle = !f->t->idle || f->t->idle(f);
	unsigned int qi;

	if (f->t->check)
		f->t->check(f);
	if (!f->vp) {
		if (ran)
			fz_check_memory(f);
		return;
	}
	for (qi = 0; qi < f->nq; qi++) {
		struct virtio_pci_queue *pq = &f->vp->q[qi];

		if (pq->vq.broken && !(f->vp->status & VIRTIO_STATUS_NEEDS_RESET))
			fz_fail("a broken queue without DEVICE_NEEDS_RESET");
		if (pq->enabled)
			fz_check_used(f, qi, pq->vq.used_hva);
	}
	/* a read in flight lands in guest memory before its completion marks it */
	if (!idle || !ran)
		return;
	fz_check_memory(f);
	if (f->vp->status & VIRTIO_STATUS_NEEDS_RESET)
		f->frozen = true;
}

/* ---- commands ---- */

static struct fz_queue *queue_arg(struct fz *f, struct fz_in *in)
{
	return &f->q[fz_u8(in) % f->nq];
}

void fz_generic_cmd(struct fz *f, uint8_t cmd, struct fz_in *in)
{
	struct fz_queue *q;
	const uint8_t *data;
	size_t n;

	switch (cmd & 7) {
	case FZ_POKE: {
		uint16_t gpa = fz_u16(in);

		data = fz_bytes(in, fz_u8(in), &n);
		fz_poke(f, gpa, data, n);
		break;
	}
	case FZ_DESC: {
		struct virtq_desc d;
		uint16_t i;

		q = queue_arg(f, in);
		i = fz_u16(in);
		d.addr = fz_u32(in);
		d.len = fz_u32(in);
		d.flags = fz_u16(in);
		d.next = fz_u16(in);
		if (q->size)
			fz_poke(f, q->desc + 16ULL * (i & (q->size - 1)), &d, sizeof(d));
		break;
	}
	case FZ_AVAIL: {
		uint16_t head;

		q = queue_arg(f, in);
		head = fz_u16(in);
		if (!q->size)
			break;
		put(f, q->avail + 4 + 2ULL * (q->avail_idx & (q->size - 1)), &head, 2);
		q->avail_idx++;
		put(f, q->avail + 2, &q->avail_idx, 2);
		if (head < q->size && head < FZ_MAX_QSIZE)
			q->made_avail[head]++;
		break;
	}
	case FZ_AVAIL_IDX: {
		uint16_t idx;

		q = queue_arg(f, in);
		idx = fz_u16(in);
		q->tainted = true;
		q->avail_idx = idx;
		put(f, q->avail + 2, &idx, 2);
		break;
	}
	}
}

/* A guest area the device reads its work from: rings and indirect tables. */
struct area {
	uint64_t gpa, len;
};

#define MAX_AREAS (3 * FZ_NQ + 64)
#define MAX_WBUFS (2 * FZ_NQ * 256 + 64 * 16)

struct dma_scan {
	struct area areas[MAX_AREAS], wbufs[MAX_WBUFS];
	unsigned int nr_areas, nr_wbufs;
};

static void add_area(struct area *a, unsigned int *n, unsigned int max, uint64_t gpa, uint64_t len)
{
	if (*n < max) {
		a[*n].gpa = gpa;
		a[*n].len = len;
		(*n)++;
	}
}

/* The writable buffers and indirect tables of the @n descriptors at @gpa. */
static void scan_table(struct fz *f, struct dma_scan *d, uint64_t gpa, uint32_t n, bool top)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct virtq_desc desc;
		uint64_t at = gpa + 16ULL * i;

		if (at >= FZ_RAM || at + 16 > FZ_RAM)
			return;
		if (at < FZ_RAM0 && at + 16 > FZ_RAM0)
			return;
		memcpy(&desc, fz_hva(f, at), sizeof(desc));
		if (desc.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!top)
				continue;
			add_area(d->areas, &d->nr_areas, MAX_AREAS, desc.addr, desc.len);
			scan_table(f, d, desc.addr, desc.len / 16 < 16 ? desc.len / 16 : 16, false);
		} else if (desc.flags & VIRTQ_DESC_F_WRITE) {
			add_area(d->wbufs, &d->nr_wbufs, MAX_WBUFS, desc.addr, desc.len);
		}
	}
}

/*
 * Before the device runs: a writable buffer over a ring or descriptor table
 * lets the device's own writes (a disk read, a packet) rewrite the driver's
 * rings, and then heads cannot be followed.
 */
static void scan_dma(struct fz *f)
{
	static struct dma_scan d;
	unsigned int qi, i, j;

	for (qi = 0; qi < f->nq && f->q[qi].tainted; qi++)
		;
	if (qi == f->nq)
		return; /* nothing left to follow */
	d.nr_areas = d.nr_wbufs = 0;
	for (qi = 0; qi < f->nq; qi++) {
		const struct fz_queue *q = &f->q[qi];

		add_area(d.areas, &d.nr_areas, MAX_AREAS, q->desc, VIRTQ_DESC_BYTES(q->size));
		add_area(d.areas, &d.nr_areas, MAX_AREAS, q->avail, VIRTQ_AVAIL_BYTES(q->size));
		add_area(d.areas, &d.nr_areas, MAX_AREAS, q->used, VIRTQ_USED_BYTES(q->size));
	}
	for (qi = 0; qi < f->nq; qi++)
		scan_table(f, &d, f->q[qi].desc, f->q[qi].size, true);
	for (i = 0; i < d.nr_wbufs; i++) {
		for (j = 0; j < d.nr_areas; j++) {
			if (overlaps(d.wbufs[i].gpa, d.wbufs[i].len, d.areas[j].gpa,
				     d.areas[j].len)) {
				taint_all(f);
				return;
			}
		}
	}
}

static void kick(struct fz *f, unsigned int qi)
{
	int efd = f->vp->q[qi].notify_efd;
	struct pollfd p = {.fd = efd, .events = POLLIN};
	unsigned int i;

	fz_fire(f, efd);
	/* the transport signals its own eventfd to come back for more */
	for (i = 0; i < 4 && poll(&p, 1, 0) == 1; i++)
		fz_fire(f, efd);
}

void fz_run(struct fz *f, const struct fz_target *t, const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	uint16_t qsize;
	unsigned int qi, ncmd = 0;
	uint8_t hdr[4];
	bool debug;

	if (size < FZ_HDR)
		return;
	debug = getenv("FUZZ_VIRTIO_DEBUG");
	cur = f;
	f->t = t;
	f->nq = t->nr_queues;
	for (qi = 0; qi < 4; qi++)
		hdr[qi] = fz_u8(&in);
	f->flags = hdr[0];
	f->dev_features = hdr[2];
	memcpy(f->layout, in.p, sizeof(f->layout));
	in.p += FZ_HDR - 4;
	in.n -= FZ_HDR - 4;
	qsize = (uint16_t)(1u << (hdr[1] % 11));
	f->race.n = 0;
	if (f->flags & FZ_F_RACE) {
		size_t rn = 4u * hdr[3] < in.n ? 4u * hdr[3] : in.n;

		f->race.p = in.p + in.n - rn;
		f->race.n = rn;
		in.n -= rn;
	}
	f->racing = false;
	memset(f->ram[0], 0, FZ_RAM0);
	memset(f->ram[1], 0, FZ_RAM - FZ_RAM0);
	memset(f->shadow, 0, sizeof(f->shadow));
	memset(f->q, 0, sizeof(f->q));
	gm_clear_dirty(&f->gm);
	f->vp = NULL;
	if (t->create(f) < 0)
		fz_fail("the device could not be made");
	driver_start(f, qsize);
	f->racing = true;
	while (in.n && ncmd++ < FZ_MAX_CMDS) {
		uint8_t cmd = fz_u8(&in);

		if ((cmd & 7) == FZ_KICK || (cmd & 7) == FZ_DEV || (cmd & 7) == FZ_DEV2)
			scan_dma(f);
		if (debug)
			fprintf(stderr, "fuzz_virtio: command %u: %u\n", ncmd, cmd & 7);

		switch (cmd & 7) {
		case FZ_KICK:
			if (t->kick)
				t->kick(f, fz_u8(&in) % f->nq);
			else
				kick(f, fz_u8(&in) % f->nq);
			break;
		case FZ_DEV:
			if (t->dev)
				t->dev(f, &in);
			break;
		case FZ_DEV2:
			if (t->dev2)
				t->dev2(f, &in);
			break;
		case FZ_RESET:
			f->racing = false;
			driver_start(f, qsize);
			f->racing = true;
			break;
		default:
			fz_generic_cmd(f, cmd, &in);
			check_all(f, false);
			continue;
		}
		check_all(f, true);
	}
	f->racing = false;
	scan_dma(f);
	if (t->finish)
		t->finish(f);
	check_all(f, true);
	t->destroy(f);
	cur = NULL;
}
