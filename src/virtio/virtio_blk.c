// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk on a raw image. The I/O thread pops request chains, checks
 * them and turns reads, writes and flushes into io_uring submissions; the
 * ring signals completions to an eventfd that the same thread watches, and
 * each completion writes the status byte and returns the chain. Discard and
 * write-zeroes go through the ring too (fallocate, or zeroes written where
 * the file system cannot), so no request holds the I/O thread.
 */
#include "virtio/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem/guest_mem.h"

#define BLK_RING_ENTRIES 128
#define BLK_HDR_BYTES 16
#define BLK_DWZ_SEG_BYTES 16
/* Most sectors of one discard / write-zeroes segment (2 GiB). */
#define BLK_MAX_DWZ_SECTORS (1u << 22)
/* Discard granularity in sectors: hole punching works on whole pages. */
#define BLK_DISCARD_ALIGN 8
/* Data segments of one request: all iovecs but room for a split or two. */
#define BLK_SEG_MAX (VIRTIO_BLK_MAX_IOV - 2)
/* Not a status: the request went to the io_uring and completes later. */
#define BLK_QUEUED 0xff
/* Steps of one discard / write-zeroes range. */
enum {
	DWZ_FALLOCATE, /* punch a hole (discard, unmap) or zero the range */
	DWZ_OTHER,     /* write-zeroes: the other mode, the first being unsupported */
	DWZ_WRITE,     /* write-zeroes: zeroes written, neither mode being supported */
	DWZ_SYNC,      /* every range done: fdatasync for a driver without FLUSH */
};

/* Not a request type: a write or flush refused after a failed sync (sync_failed). */
#define BLK_T_REFUSED 0xffffffffu

_Static_assert(offsetof(struct virtio_blk_config, seg_max) == 12, "seg_max");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "blk_size");
_Static_assert(offsetof(struct virtio_blk_config, writeback) == 32, "writeback");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36, "discard");
_Static_assert(offsetof(struct virtio_blk_config, max_write_zeroes_sectors) == 48, "wz");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56, "unmap");
_Static_assert(sizeof(struct virtio_blk_config) == 60, "config size");
/* In flight at once: at most one per slot, and the CQ (2 x SQ) holds them all. */
_Static_assert(VIRTIO_BLK_QUEUE_SIZE <= 2 * BLK_RING_ENTRIES, "CQ too small");

/* ---- helpers on a popped chain ---- */

/* Copy @len readable bytes from offset @off of the chain; false when short. */
static bool copy_readable(const struct virtq_req *req, uint32_t off, void *buf, uint32_t len)
{
	uint8_t *dst = buf;
	unsigned int i;

	for (i = 0; len && i < req->nr_readable; i++) {
		const struct virtq_seg *s = &req->segs[i];
		uint32_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off < len ? s->len - off : len;
		gm_load(dst, (const uint8_t *)s->hva + off, n);
		dst += n;
		len -= n;
		off = 0;
	}
	return !len;
}

/* Copy @len bytes into the start of the writable segments (room was checked). */
static void copy_to_writable(const struct virtq_req *req, const void *buf, uint32_t len)
{
	const uint8_t *src = buf;
	unsigned int i;

	for (i = req->nr_readable; len && i < req->nr_readable + req->nr_writable; i++) {
		const struct virtq_seg *s = &req->segs[i];
		uint32_t n = s->len < len ? s->len : len;

		memcpy(s->hva, src, n);
		src += n;
		len -= n;
	}
}

static bool in_bounds(const struct virtio_blk *b, uint64_t sector, uint64_t nr_sectors)
{
	return sector <= b->capacity && nr_sectors <= b->capacity - sector;
}

/* ---- slots and the ring ---- */

static struct virtio_blk_slot *slot_alloc(struct virtio_blk *b)
{
	struct virtio_blk_slot *s;

	if (!b->nr_free)
		return NULL;
	s = &b->slots[b->free_slots[--b->nr_free]];
	s->busy = true;
	s->nr_iov = 0;
	s->len = 0;
	s->bounced = false;
	s->dsync = false;
	s->done = 0;
	return s;
}

static void slot_free(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	if (s->bounce)
		b->bounce_bytes -= s->bounce_len;
	free(s->bounce);
	s->bounce = NULL;
	s->bounce_len = 0;
	s->busy = false;
	s->status = NULL;
	b->free_slots[b->nr_free++] = (uint16_t)(s - b->slots);
}

/* Hand the prepared submissions to the kernel. */
static void ring_submit(struct virtio_blk *b)
{
	int ret;

	do {
		ret = io_uring_submit(b->ring);
	} while (ret == -EINTR);
}

static struct io_uring_sqe *ring_sqe(struct virtio_blk *b)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(b->ring);

	if (!sqe) {
		ring_submit(b); /* the SQ is full of prepared entries */
		sqe = io_uring_get_sqe(b->ring);
	}
	return sqe;
}

/* Bounce memory for a transfer of @len bytes: one chunk, on the buffer alignment. */
static size_t bounce_size(const struct virtio_blk *b, uint32_t len)
{
	size_t n = len < VIRTIO_BLK_BOUNCE_CHUNK ? len : VIRTIO_BLK_BOUNCE_CHUNK;

	return (n + b->dio_mem_align - 1) & ~((size_t)b->dio_mem_align - 1);
}

_Static_assert(VIRTIO_BLK_BOUNCE_CHUNK % 4096 == 0, "chunks keep direct I/O alignment");
_Static_assert(VIRTIO_BLK_BOUNCE_CHUNK <= VIRTIO_BLK_BOUNCE_BUDGET, "a chunk fits the budget");

/* Copy @n bytes between @buf and the slot's buffers from byte @off on (@to_guest: into them). */
static void iov_copy(struct virtio_blk_slot *s, uint32_t off, uint8_t *buf, uint32_t n,
		     bool to_guest)
{
	unsigned int i;

	for (i = 0; n && i < s->nr_iov; i++) {
		uint8_t *p = s->iov[i].iov_base;
		uint32_t len = (uint32_t)s->iov[i].iov_len, k;

		if (off >= len) {
			off -= len;
			continue;
		}
		k = len - off < n ? len - off : n;
		if (to_guest)
			memcpy(p + off, buf, k);
		else
			gm_load(buf, p + off, k);
		buf += k;
		n -= k;
		off = 0;
	}
}

/* Queue the next chunk of a bounced transfer (a write's is copied in first). */
static bool bounce_submit(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	uint32_t left = s->len - s->done;
	struct io_uring_sqe *sqe;

	s->chunk = left < VIRTIO_BLK_BOUNCE_CHUNK ? left : VIRTIO_BLK_BOUNCE_CHUNK;
	if (s->type != VIRTIO_BLK_T_IN)
		iov_copy(s, s->done, s->bounce, s->chunk, false);
	s->bounce_iov.iov_base = s->bounce;
	s->bounce_iov.iov_len = s->chunk;
	sqe = ring_sqe(b);
	if (!sqe)
		return false;
	if (s->type == VIRTIO_BLK_T_IN) {
		io_uring_prep_readv(sqe, b->fd, &s->bounce_iov, 1, s->offset + s->done);
	} else {
		io_uring_prep_writev(sqe, b->fd, &s->bounce_iov, 1, s->offset + s->done);
		if (s->dsync)
			sqe->rw_flags = RWF_DSYNC;
	}
	io_uring_sqe_set_data64(sqe, (uint64_t)(s - b->slots));
	return true;
}

/* Give a bounced transfer its bounce memory (the budget allows it) and queue its first chunk. */
static bool bounce_start(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	size_t len = bounce_size(b, s->len);

	if (posix_memalign((void **)&s->bounce,
			   b->dio_mem_align < sizeof(void *) ? sizeof(void *) : b->dio_mem_align,
			   len)) {
		s->bounce = NULL;
		return false;
	}
	s->bounce_len = len;
	b->bounce_bytes += len;
	if (b->bounce_bytes > b->bounce_peak)
		b->bounce_peak = b->bounce_bytes;
	return bounce_submit(b, s);
}

/* Does a request of @type change the image or make it stable? */
static bool blk_type_writes(uint32_t type)
{
	return type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_FLUSH ||
	       type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES;
}

static bool is_dwz(const struct virtio_blk_slot *s)
{
	return s->type == VIRTIO_BLK_T_DISCARD || s->type == VIRTIO_BLK_T_WRITE_ZEROES;
}

/* A sync of the image failed: remember it (sync_failed), saying so once. */
static void blk_sync_failed(struct virtio_blk *b, int err)
{
	if (!b->sync_failed)
		fprintf(stderr,
			"petrel: disk %s: syncing the image failed (%s): writes and flushes fail "
			"until the guest resets the device\n",
			b->path, strerror(-err));
	b->sync_failed = true;
}

/*
 * A read, write or flush finished with @res. With @q, tell the driver
 * (status byte, used ring); without (the device is being reset), forget it.
 * Either way what a read put into guest memory is marked dirty: the kernel
 * wrote it there, and a migration must carry it.
 */
static void complete_slot(struct virtio_blk *b, struct virtq *q, struct virtio_blk_slot *s, int res,
			  bool *pushed)
{
	uint8_t status = VIRTIO_BLK_S_OK;
	uint32_t done = res > 0 ? (uint32_t)res : 0;
	uint32_t written = 1;
	unsigned int i;

	if (res < 0) {
		if (s->type == VIRTIO_BLK_T_FLUSH || s->dsync ||
		    (is_dwz(s) && s->dwz.step == DWZ_SYNC))
			blk_sync_failed(b, res);
	}
	/* short or failed transfers are errors, never success; so is writing after a failed sync */
	if (res < 0 || done != s->len || (b->sync_failed && blk_type_writes(s->type))) {
		status = VIRTIO_BLK_S_IOERR;
		b->errors++;
	}
	if (s->type == VIRTIO_BLK_T_IN) {
		uint32_t left = done < s->len ? done : s->len;

		written += left;
		for (i = 0; left && i < s->nr_iov; i++) {
			uint32_t n = s->iov[i].iov_len < left ? (uint32_t)s->iov[i].iov_len : left;

			gm_mark_dirty(b->vp.gm, s->gpa[i], n);
			left -= n;
		}
	}
	if (q) {
		*s->status = status;
		gm_mark_dirty(b->vp.gm, s->status_gpa, 1);
		if (!virtq_push_head(q, s->head, written))
			*pushed = true;
	}
	slot_free(b, s);
}

/*
 * A chunk of a bounced transfer finished with @res: a read's is copied out;
 * the next chunk is queued, or the request completes (short: an error).
 */
static void bounce_done(struct virtio_blk *b, struct virtq *q, struct virtio_blk_slot *s, int res,
			bool *pushed)
{
	if (res > 0) {
		uint32_t n = (uint32_t)res < s->chunk ? (uint32_t)res : s->chunk;

		if (s->type == VIRTIO_BLK_T_IN)
			iov_copy(s, s->done, s->bounce, n, true);
		s->done += n;
		if (n == s->chunk && s->done < s->len && bounce_submit(b, s))
			return;
	}
	complete_slot(b, q, s, res < 0 ? res : (int)s->done, pushed);
}

/* Start the transfers waiting for bounce memory, in order, while the budget allows. */
static void bounce_kick(struct virtio_blk *b, struct virtq *q, bool *pushed)
{
	while (b->nr_wait) {
		struct virtio_blk_slot *s = &b->slots[b->bounce_wait[b->wait_head]];

		if (b->bounce_bytes + bounce_size(b, s->len) > VIRTIO_BLK_BOUNCE_BUDGET)
			break;
		b->wait_head = (b->wait_head + 1) % VIRTIO_BLK_QUEUE_SIZE;
		b->nr_wait--;
		if (!bounce_start(b, s))
			complete_slot(b, q, s, -ENOMEM, pushed);
	}
}

/* Forget the transfers waiting for bounce memory (the device is being reset). */
static void bounce_drop_waiting(struct virtio_blk *b)
{
	while (b->nr_wait) {
		slot_free(b, &b->slots[b->bounce_wait[b->wait_head]]);
		b->wait_head = (b->wait_head + 1) % VIRTIO_BLK_QUEUE_SIZE;
		b->nr_wait--;
	}
	b->wait_head = 0;
}

static void dwz_done(struct virtio_blk *b, struct virtq *q, struct virtio_blk_slot *s, int res,
		     bool *pushed);

/* Complete everything the ring has finished. */
static void ring_reap(struct virtio_blk *b, struct virtq *q, bool *pushed)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(b->ring, &cqe) == 0) {
		uint64_t idx = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(b->ring, cqe);
		if (idx >= VIRTIO_BLK_QUEUE_SIZE || !b->slots[idx].busy)
			continue;
		if (b->slots[idx].bounced && q)
			bounce_done(b, q, &b->slots[idx], res, pushed);
		else if (is_dwz(&b->slots[idx]) && q)
			dwz_done(b, q, &b->slots[idx], res, pushed);
		else
			complete_slot(b, q, &b->slots[idx], res, pushed);
	}
	bounce_kick(b, q, pushed);
}

/* Block until at least one request completes; false when the ring failed. */
static bool ring_wait(struct virtio_blk *b, struct virtq *q, bool *pushed)
{
	struct io_uring_cqe *cqe;
	int ret;

	ring_submit(b);
	do {
		ret = io_uring_wait_cqe(b->ring, &cqe);
	} while (ret == -EINTR);
	if (ret < 0)
		return false;
	ring_reap(b, q, pushed);
	return true;
}

/* Wait for every request in flight; with @q they are completed, else dropped. */
static void ring_drain(struct virtio_blk *b, struct virtq *q, bool *pushed)
{
	unsigned int i;

	if (!q)
		bounce_drop_waiting(b);
	while (b->nr_free < VIRTIO_BLK_QUEUE_SIZE) {
		if (!ring_wait(b, q, pushed)) {
			fprintf(stderr, "petrel: disk %s: waiting for I/O failed\n", b->path);
			break;
		}
	}
	b->nr_wait = 0;
	b->wait_head = 0;
	for (i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		if (b->slots[i].busy)
			slot_free(b, &b->slots[i]);
}

/*
 * Wait at most @ms for every request in flight, completing each to the
 * driver (through @q, when the queue is live). -ETIMEDOUT when some are still
 * in flight then (they complete later as usual), -EIO when the ring failed.
 */
static int ring_drain_bounded(struct virtio_blk *b, struct virtq *q, bool *pushed, unsigned int ms)
{
	struct timespec now, end;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	ring_reap(b, q, pushed);
	while (b->nr_free < VIRTIO_BLK_QUEUE_SIZE) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		int64_t left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left =
		    (int64_t)(end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
		if (left <= 0)
			return -ETIMEDOUT;
		ts.tv_sec = left / 1000000000LL;
		ts.tv_nsec = left % 1000000000LL;
		ring_submit(b);
		ret = io_uring_wait_cqe_timeout(b->ring, &cqe, &ts);
		if (ret < 0 && ret != -ETIME && ret != -EINTR)
			return -EIO;
		ring_reap(b, q, pushed);
	}
	return 0;
}

/* ---- requests ---- */

/* IN or OUT: build the iovecs in a slot and queue the transfer. */
static uint8_t queue_rw(struct virtio_blk *b, const struct virtq_req *req, uint32_t type,
			uint64_t sector, struct virtio_blk_slot *s)
{
	bool in = type == VIRTIO_BLK_T_IN;
	unsigned int first = in ? req->nr_readable : 0;
	unsigned int end = in ? req->nr_readable + req->nr_writable : req->nr_readable;
	uint32_t skip = in ? 0 : BLK_HDR_BYTES;
	uint64_t total = 0;
	struct io_uring_sqe *sqe;
	unsigned int i;

	if (!in && b->readonly)
		return VIRTIO_BLK_S_IOERR;
	for (i = first; i < end; i++) {
		const struct virtq_seg *seg = &req->segs[i];
		uint8_t *p = seg->hva;
		uint64_t gpa = seg->gpa;
		uint32_t n = seg->len;

		if (skip) {
			uint32_t k = skip < n ? skip : n;

			p += k;
			gpa += k;
			n -= k;
			skip -= k;
		}
		if (in && i == end - 1)
			n--; /* the status byte */
		if (!n)
			continue;
		if (s->nr_iov == VIRTIO_BLK_MAX_IOV)
			return VIRTIO_BLK_S_IOERR;
		s->iov[s->nr_iov].iov_base = p;
		s->iov[s->nr_iov].iov_len = n;
		s->gpa[s->nr_iov] = gpa;
		s->nr_iov++;
		total += n;
	}
	if (total % VIRTIO_BLK_SECTOR_SIZE || !in_bounds(b, sector, total / VIRTIO_BLK_SECTOR_SIZE))
		return VIRTIO_BLK_S_IOERR;
	if (!total)
		return VIRTIO_BLK_S_OK;
	s->len = (uint32_t)total;
	/* direct I/O: the offset and length on the image's block size */
	if (b->direct && ((sector * VIRTIO_BLK_SECTOR_SIZE) | total) & (b->dio_offset_align - 1))
		return VIRTIO_BLK_S_IOERR;
	s->type = (uint8_t)type;
	s->offset = sector * VIRTIO_BLK_SECTOR_SIZE;
	/* no FLUSH negotiated: the driver expects write-through */
	s->dsync = !in && !virtio_pci_has_feature(&b->vp, VIRTIO_BLK_F_FLUSH);
	if (b->direct && !virtio_blk_iov_aligned(s->iov, s->nr_iov, b->dio_mem_align)) {
		/* through bounce memory, within the budget: wait behind others for it */
		s->bounced = true;
		if (b->nr_wait ||
		    b->bounce_bytes + bounce_size(b, s->len) > VIRTIO_BLK_BOUNCE_BUDGET) {
			b->bounce_wait[(b->wait_head + b->nr_wait) % VIRTIO_BLK_QUEUE_SIZE] =
			    (uint16_t)(s - b->slots);
			b->nr_wait++;
		} else if (!bounce_start(b, s)) {
			return VIRTIO_BLK_S_IOERR;
		}
	} else {
		sqe = ring_sqe(b);
		if (!sqe)
			return VIRTIO_BLK_S_IOERR;
		if (in)
			io_uring_prep_readv(sqe, b->fd, s->iov, s->nr_iov, s->offset);
		else
			io_uring_prep_writev(sqe, b->fd, s->iov, s->nr_iov, s->offset);
		if (s->dsync)
			sqe->rw_flags = RWF_DSYNC;
		io_uring_sqe_set_data64(sqe, (uint64_t)(s - b->slots));
	}
	if (in)
		b->reads++;
	else
		b->writes++;
	return BLK_QUEUED;
}

/*
 * FLUSH: fdatasync once every earlier submission has completed. Virtio asks
 * a FLUSH to cover the writes that completed before it was sent (1.2,
 * 5.2.6.2); the drain also holds it behind every transfer already in the
 * ring. What is not in the ring yet (a transfer waiting for bounce memory,
 * the next chunk or step of a long request) is not covered, and need not be:
 * it has not completed.
 */
static uint8_t queue_flush(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	struct io_uring_sqe *sqe = ring_sqe(b);

	if (!sqe)
		return VIRTIO_BLK_S_IOERR;
	io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
	sqe->flags |= IOSQE_IO_DRAIN;
	io_uring_sqe_set_data64(sqe, (uint64_t)(s - b->slots));
	b->flushes++;
	return BLK_QUEUED;
}

/* GET_ID: the NUL-padded serial, as much as fits before the status byte. */
static uint8_t get_id(struct virtio_blk *b, const struct virtq_req *req, uint32_t *written)
{
	uint32_t room = req->write_len - 1;
	uint32_t n = room < VIRTIO_BLK_ID_BYTES ? room : VIRTIO_BLK_ID_BYTES;

	copy_to_writable(req, b->serial, n);
	*written += n;
	return VIRTIO_BLK_S_OK;
}

/* Zeroes to write from: a chunk is DWZ_WRITE_IOVS times this, aligned for O_DIRECT. */
static const uint8_t blk_zeroes[65536] __attribute__((aligned(4096)));
#define DWZ_WRITE_IOVS 16

/*
 * Queue the next step of a discard / write-zeroes: 1 when queued, 0 when
 * the request is done, -errno when the ring is full.
 */
static int dwz_issue(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	const int zero_range = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	struct virtio_blk_dwz *d = &s->dwz;
	const struct virtio_blk_dwz_seg *g = &d->seg[d->cur];
	struct io_uring_sqe *sqe;
	uint64_t left;
	unsigned int i;

	if (d->cur == d->nseg) {
		if (d->step == DWZ_SYNC || virtio_pci_has_feature(&b->vp, VIRTIO_BLK_F_FLUSH))
			return 0;
		d->step = DWZ_SYNC;
	}
	sqe = ring_sqe(b);
	if (!sqe)
		return -EIO;
	switch (d->step) {
	case DWZ_FALLOCATE:
		io_uring_prep_fallocate(sqe, b->fd, !d->zero || g->unmap ? punch : zero_range,
					g->off, g->len);
		break;
	case DWZ_OTHER:
		io_uring_prep_fallocate(sqe, b->fd, g->unmap ? zero_range : punch, g->off, g->len);
		break;
	case DWZ_WRITE:
		left = g->len - d->done;
		for (i = 0; left && i < DWZ_WRITE_IOVS; i++) {
			size_t n = left < sizeof(blk_zeroes) ? (size_t)left : sizeof(blk_zeroes);

			s->iov[i].iov_base = (void *)blk_zeroes;
			s->iov[i].iov_len = n;
			left -= n;
		}
		io_uring_prep_writev(sqe, b->fd, s->iov, i, g->off + d->done);
		break;
	default:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data64(sqe, (uint64_t)(s - b->slots));
	return 1;
}

/* A step of a discard / write-zeroes finished with @res: the next, or the request's end. */
static void dwz_done(struct virtio_blk *b, struct virtq *q, struct virtio_blk_slot *s, int res,
		     bool *pushed)
{
	struct virtio_blk_dwz *d = &s->dwz;
	int ret;

	switch (d->step) {
	case DWZ_FALLOCATE:
		/* a discard is a hint: a file system that cannot punch keeps the data */
		if (res == -EOPNOTSUPP && !d->zero)
			res = 0;
		else if (res == -EOPNOTSUPP)
			d->step = DWZ_OTHER;
		break;
	case DWZ_OTHER:
		if (res == -EOPNOTSUPP) {
			d->step = DWZ_WRITE;
			d->done = 0;
		}
		break;
	case DWZ_WRITE:
		if (res > 0) {
			d->done += (uint64_t)res;
			res = d->done < d->seg[d->cur].len ? -EINPROGRESS : 0;
		} else if (!res) {
			res = -EIO;
		}
		break;
	default:
		complete_slot(b, q, s, res < 0 ? res : 0, pushed);
		return;
	}
	if (res == -EOPNOTSUPP || res == -EINPROGRESS) {
		res = 0; /* the same range goes on with its new step */
	} else if (!res) {
		d->cur++;
		d->step = DWZ_FALLOCATE;
	}
	ret = res < 0 ? res : dwz_issue(b, s);
	if (ret <= 0)
		complete_slot(b, q, s, ret, pushed);
}

/*
 * DISCARD and WRITE_ZEROES: copy the segment list out of guest memory once,
 * check every segment of the copy, and keep what was checked in the slot
 * (the guest may rewrite its list meanwhile: what was checked is what is
 * done); then queue the first step.
 */
static uint8_t discard_wz(struct virtio_blk *b, const struct virtq_req *req, uint32_t type,
			  struct virtio_blk_slot *s)
{
	bool zero = type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint32_t len = req->read_len - BLK_HDR_BYTES;
	uint32_t nseg = len / BLK_DWZ_SEG_BYTES;
	uint8_t raw[VIRTIO_BLK_MAX_DISCARD_SEG * BLK_DWZ_SEG_BYTES];
	struct virtio_blk_dwz *d = &s->dwz;
	unsigned int i;
	int ret;

	if (!virtio_pci_has_feature(&b->vp,
				    zero ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->readonly || !nseg || len % BLK_DWZ_SEG_BYTES || nseg > VIRTIO_BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	if (!copy_readable(req, BLK_HDR_BYTES, raw, nseg * BLK_DWZ_SEG_BYTES))
		return VIRTIO_BLK_S_IOERR;
	memset(d, 0, sizeof(*d));
	d->zero = zero;
	/* every segment is checked before any is done: a bad one leaves the disk untouched */
	for (i = 0; i < nseg; i++) {
		const uint8_t *r = raw + i * BLK_DWZ_SEG_BYTES;
		uint64_t sector;
		uint32_t num, flags;

		memcpy(&sector, r, 8);
		memcpy(&num, r + 8, 4);
		memcpy(&flags, r + 12, 4);
		sector = le64toh(sector);
		num = le32toh(num);
		flags = le32toh(flags);
		if (flags & ~(uint32_t)VIRTIO_BLK_WZ_F_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		if (!zero && (flags & VIRTIO_BLK_WZ_F_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (num > BLK_MAX_DWZ_SECTORS || !in_bounds(b, sector, num))
			return VIRTIO_BLK_S_IOERR;
		if (!num)
			continue;
		d->seg[d->nseg].off = sector * VIRTIO_BLK_SECTOR_SIZE;
		d->seg[d->nseg].len = (uint64_t)num * VIRTIO_BLK_SECTOR_SIZE;
		d->seg[d->nseg].unmap = flags & VIRTIO_BLK_WZ_F_UNMAP;
		d->nseg++;
	}
	s->type = (uint8_t)type;
	ret = dwz_issue(b, s);
	if (ret < 0)
		return VIRTIO_BLK_S_IOERR;
	return ret ? BLK_QUEUED : VIRTIO_BLK_S_OK;
}

/*
 * One chain: queue it or complete it at once. False when it is malformed
 * (no room for the header or the status byte): the queue is then broken.
 */
static bool handle_req(struct virtio_blk *b, struct virtq *q, const struct virtq_req *req,
		       bool *pushed)
{
	const struct virtq_seg *last;
	struct virtio_blk_slot *s = NULL;
	uint8_t hdr[BLK_HDR_BYTES];
	uint8_t *status_hva;
	uint64_t sector, status_gpa;
	uint32_t type, written = 1;
	uint8_t status;

	if (req->read_len < BLK_HDR_BYTES || !req->write_len || !req->nr_writable ||
	    !copy_readable(req, 0, hdr, sizeof(hdr)))
		return false;
	last = &req->segs[req->nr_readable + req->nr_writable - 1];
	if (!last->len)
		return false;
	status_hva = (uint8_t *)last->hva + last->len - 1;
	status_gpa = last->gpa + last->len - 1;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	type = le32toh(type);
	sector = le64toh(sector);

	/* after a failed sync nothing is written or flushed until a reset */
	if (b->sync_failed && blk_type_writes(type))
		type = BLK_T_REFUSED;
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		s = slot_alloc(b);
		status = s ? queue_rw(b, req, type, sector, s) : VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!virtio_pci_has_feature(&b->vp, VIRTIO_BLK_F_FLUSH)) {
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		s = slot_alloc(b);
		status = s ? queue_flush(b, s) : VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		status = get_id(b, req, &written);
		break;
	case BLK_T_REFUSED:
		status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		s = slot_alloc(b);
		status = s ? discard_wz(b, req, type, s) : VIRTIO_BLK_S_IOERR;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (status == BLK_QUEUED) {
		s->head = req->head;
		s->type = (uint8_t)type;
		s->status = status_hva;
		s->status_gpa = status_gpa;
		return true;
	}
	if (s)
		slot_free(b, s);
	if (status != VIRTIO_BLK_S_OK)
		b->errors++;
	*status_hva = status;
	gm_mark_dirty(b->vp.gm, status_gpa, 1);
	if (!virtq_push(q, req, written))
		*pushed = true;
	return true;
}

/* ---- transport callbacks ---- */

static void blk_notify(struct virtio_pci *vp, unsigned int qi)
{
	struct virtio_blk *b = vp->dev;
	struct virtq *q = virtio_pci_vq(vp, qi);
	struct virtq_req *req = &vp->req;
	bool pushed = false;

	if (!q)
		return;
	for (;;) {
		/* a slot per chain: more than a queue's worth only from a rogue driver */
		if (!b->nr_free && !ring_wait(b, q, &pushed)) {
			q->broken = true;
			break;
		}
		if (virtq_pop(q, req) <= 0)
			break; /* empty, or broken (the transport then asks for a reset) */
		if (!handle_req(b, q, req, &pushed)) {
			q->broken = true;
			virtio_pci_needs_reset(vp);
			break;
		}
	}
	ring_submit(b);
	if (pushed)
		virtio_pci_queue_done(vp, qi);
}

/* The I/O thread: the ring completed requests. */
static void blk_completions(void *opaque, int fd, uint32_t events)
{
	struct virtio_blk *b = opaque;
	bool pushed = false;
	uint64_t cnt;

	if (read(fd, &cnt, sizeof(cnt)) < 0) {
		/* nothing pending: a spurious wake-up */
	}
	pthread_mutex_lock(&b->vp.lock);
	ring_reap(b, virtio_pci_vq(&b->vp, 0), &pushed);
	ring_submit(b); /* the next chunks and the transfers that waited for bounce memory */
	if (pushed)
		virtio_pci_queue_done(&b->vp, 0);
	pthread_mutex_unlock(&b->vp.lock);
}

static void blk_config_read(struct virtio_pci *vp, uint32_t off, uint8_t *buf, unsigned int len)
{
	struct virtio_blk *b = vp->dev;

	if (off <= sizeof(b->cfg) && len <= sizeof(b->cfg) - off)
		memcpy(buf, (const uint8_t *)&b->cfg + off, len);
}

static void blk_config_write(struct virtio_pci *vp, uint32_t off, const uint8_t *buf,
			     unsigned int len)
{
	/* nothing is writable without VIRTIO_BLK_F_CONFIG_WCE */
}

/* The driver reset the device: let the I/O in flight finish and forget it. */
static void blk_reset(struct virtio_pci *vp)
{
	struct virtio_blk *b = vp->dev;
	bool pushed = false;

	ring_drain(b, NULL, &pushed);
	/* the driver starts again, knowing its writes failed */
	b->sync_failed = false;
}

#define BLK_FEATURES                                                                               \
	((1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |                        \
	 (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_DISCARD) |                           \
	 (1ULL << VIRTIO_BLK_F_WRITE_ZEROES))

#define BLK_OPS(feat)                                                                              \
	{                                                                                          \
		.name = "virtio-blk", .device_id = 2, .pci_class = 0x01, .pci_subclass = 0x00,     \
		.features = (feat), .nr_queues = 1, .queue_max = VIRTIO_BLK_QUEUE_SIZE,            \
		.config_len = sizeof(struct virtio_blk_config), .config_read = blk_config_read,    \
		.config_write = blk_config_write, .queue_notify = blk_notify, .reset = blk_reset,  \
	}

static const struct virtio_dev_ops blk_ops_rw = BLK_OPS(BLK_FEATURES);
static const struct virtio_dev_ops blk_ops_ro = BLK_OPS(BLK_FEATURES | (1ULL << VIRTIO_BLK_F_RO));

/* ---- set-up ---- */

static void fill_config(struct virtio_blk *b)
{
	struct virtio_blk_config *c = &b->cfg;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(b->capacity);
	c->seg_max = htole32(BLK_SEG_MAX);
	/* direct I/O on a disk of larger blocks: the guest does whole blocks */
	c->blk_size = htole32(b->direct && b->dio_offset_align > VIRTIO_BLK_SECTOR_SIZE
				  ? b->dio_offset_align
				  : VIRTIO_BLK_SECTOR_SIZE);
	c->num_queues = htole16(1);
	c->max_discard_sectors = htole32(BLK_MAX_DWZ_SECTORS);
	c->max_discard_seg = htole32(VIRTIO_BLK_MAX_DISCARD_SEG);
	c->discard_sector_alignment = htole32(BLK_DISCARD_ALIGN);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_DWZ_SECTORS);
	c->max_write_zeroes_seg = htole32(VIRTIO_BLK_MAX_DISCARD_SEG);
	c->write_zeroes_may_unmap = 1;
}

/* An image opened, locked and sized, not yet the device's. */
struct blk_image {
	int fd;
	uint64_t size;		   /* bytes */
	uint32_t dio_mem_align;	   /* direct: buffer address and length alignment */
	uint32_t dio_offset_align; /* direct: file offset alignment (the block size) */
	bool same_file;		   /* the file behind the fd it was compared with */
};

/*
 * What direct I/O on the image needs: buffer and offset alignment from statx
 * (Linux 6.1 and later), else the device's logical block size, else 512.
 */
static void dio_alignment(struct blk_image *img, const struct stat *st)
{
	struct statx sx;
	int ssz;

	img->dio_mem_align = img->dio_offset_align = VIRTIO_BLK_SECTOR_SIZE;
	if (statx(img->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align) {
		img->dio_mem_align = sx.stx_dio_mem_align ? sx.stx_dio_mem_align : 1;
		img->dio_offset_align = sx.stx_dio_offset_align;
	} else if (S_ISBLK(st->st_mode) && ioctl(img->fd, BLKSSZGET, &ssz) == 0 && ssz > 0) {
		img->dio_mem_align = img->dio_offset_align = (uint32_t)ssz;
	}
	/* powers of two the guest can follow; anything odder falls back to 4 KiB */
	if (img->dio_mem_align & (img->dio_mem_align - 1) || img->dio_mem_align > 4096)
		img->dio_mem_align = 4096;
	if (img->dio_offset_align < VIRTIO_BLK_SECTOR_SIZE)
		img->dio_offset_align = VIRTIO_BLK_SECTOR_SIZE;
	if (img->dio_offset_align & (img->dio_offset_align - 1) || img->dio_offset_align > 4096)
		img->dio_offset_align = 4096;
}

/* Is the file behind @st the one behind the open @fd? */
static bool same_file(int fd, const struct stat *st)
{
	struct stat cur;

	return fd >= 0 && fstat(fd, &cur) == 0 && cur.st_dev == st->st_dev &&
	       cur.st_ino == st->st_ino;
}

/*
 * Open, lock and size the image at @path into *img; one line on stderr for
 * each failure, and nothing left open. When it is the file already open as
 * @cur_fd (>= 0), it is not locked again (that fd holds the lock, which a
 * second exclusive flock would find taken) and img->same_file says so.
 */
static int open_image(const char *path, bool readonly, bool direct, bool lock, int cur_fd,
		      struct blk_image *img)
{
	struct stat st;
	int ret;

	memset(img, 0, sizeof(*img));
	img->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct ? O_DIRECT : 0));
	if (img->fd < 0) {
		ret = -errno;
		if (ret == -EINVAL && direct)
			fprintf(stderr,
				"petrel: disk %s: its file system refuses direct I/O (tmpfs does): "
				"drop direct=on\n",
				path);
		else
			fprintf(stderr, "petrel: disk %s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (fstat(img->fd, &st) < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: disk %s: %s\n", path, strerror(-ret));
		goto out_close;
	}
	img->same_file = same_file(cur_fd, &st);
	if (lock && !img->same_file &&
	    flock(img->fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		ret = -errno;
		if (ret == -EWOULDBLOCK)
			fprintf(stderr, "petrel: disk %s: in use by another process\n", path);
		else
			fprintf(stderr, "petrel: disk %s: cannot lock: %s\n", path, strerror(-ret));
		goto out_close;
	}
	if (S_ISREG(st.st_mode)) {
		img->size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(img->fd, BLKGETSIZE64, &img->size) < 0) {
			ret = -errno;
			fprintf(stderr, "petrel: disk %s: cannot get its size: %s\n", path,
				strerror(-ret));
			goto out_close;
		}
	} else {
		fprintf(stderr, "petrel: disk %s: not a regular file or block device\n", path);
		ret = -EINVAL;
		goto out_close;
	}
	if (direct)
		dio_alignment(img, &st);
	if (img->size % VIRTIO_BLK_SECTOR_SIZE)
		fprintf(stderr,
			"petrel: disk %s: size is not a multiple of 512 bytes, the last %u are "
			"not visible\n",
			path, (unsigned int)(img->size % VIRTIO_BLK_SECTOR_SIZE));
	return 0;

out_close:
	close(img->fd); /* drops a lock it took */
	img->fd = -1;
	return ret;
}

/* The device uses @img from now on (its fd is the device's to close). */
static void take_image(struct virtio_blk *b, const struct blk_image *img)
{
	b->fd = img->fd;
	b->size = img->size;
	b->capacity = img->size / VIRTIO_BLK_SECTOR_SIZE;
	b->dio_mem_align = img->dio_mem_align;
	b->dio_offset_align = img->dio_offset_align;
}

/*
 * The ring does the reads, writes, flushes and fallocates (discard,
 * write-zeroes) of the image and nothing else: io_uring could open files or
 * sockets for whoever submits, unseen by the I/O thread's seccomp filter.
 * Then it is enabled.
 */
static int blk_ring_restrict(struct io_uring *ring)
{
	static const uint8_t ops[] = {IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC,
				      IORING_OP_FALLOCATE};
	struct io_uring_restriction res[sizeof(ops) + 1];
	int ret;

	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < sizeof(ops); i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	/* the SQE flags queue_flush sets; any other is refused (EACCES) */
	res[sizeof(ops)].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[sizeof(ops)].sqe_flags = IOSQE_IO_DRAIN;
	ret = io_uring_register_restrictions(ring, res, sizeof(res) / sizeof(res[0]));
	if (!ret)
		ret = io_uring_enable_rings(ring);
	return ret;
}

static int setup_ring(struct virtio_blk *b)
{
	unsigned int i;
	int ret;

	b->slots = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*b->slots));
	b->free_slots = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*b->free_slots));
	b->ring = calloc(1, sizeof(*b->ring));
	if (!b->slots || !b->free_slots || !b->ring)
		return -ENOMEM;
	for (i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		b->free_slots[i] = (uint16_t)(VIRTIO_BLK_QUEUE_SIZE - 1 - i);
	b->nr_free = VIRTIO_BLK_QUEUE_SIZE;

	/* disabled until it is restricted (blk_ring_restrict) */
	ret = io_uring_queue_init(BLK_RING_ENTRIES, b->ring, IORING_SETUP_R_DISABLED);
	if (ret < 0) {
		free(b->ring);
		b->ring = NULL;
		fprintf(stderr, "petrel: disk %s: io_uring: %s\n", b->path, strerror(-ret));
		return ret;
	}
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0)
		return -errno;
	ret = io_uring_register_eventfd(b->ring, b->efd);
	if (ret < 0) {
		fprintf(stderr, "petrel: disk %s: io_uring eventfd: %s\n", b->path, strerror(-ret));
		return ret;
	}
	ret = blk_ring_restrict(b->ring);
	if (ret < 0) {
		fprintf(stderr, "petrel: disk %s: io_uring restrictions: %s\n", b->path,
			strerror(-ret));
		return ret;
	}
	return 0;
}

/* Undo whatever virtio_blk_init did, in any state it stopped in. */
static void blk_release(struct virtio_blk *b)
{
	bool pushed = false;

	if (b->watched && b->vp.io.unwatch)
		b->vp.io.unwatch(b->vp.io.ctx, b->efd);
	b->watched = false;
	if (b->ring) {
		if (b->vp_inited)
			pthread_mutex_lock(&b->vp.lock);
		ring_drain(b, NULL, &pushed);
		if (b->vp_inited)
			pthread_mutex_unlock(&b->vp.lock);
		io_uring_queue_exit(b->ring);
		free(b->ring);
		b->ring = NULL;
	}
	if (b->efd >= 0)
		close(b->efd);
	b->efd = -1;
	if (b->fd >= 0)
		close(b->fd); /* drops the lock */
	b->fd = -1;
	if (b->vp_inited)
		virtio_pci_destroy(&b->vp);
	b->vp_inited = false;
	free(b->slots);
	b->slots = NULL;
	free(b->free_slots);
	b->free_slots = NULL;
	b->nr_free = 0;
	free(b->path);
	b->path = NULL;
	pthread_mutex_destroy(&b->backing_lock);
	b->initialized = false;
}

int virtio_blk_init(struct virtio_blk *b, const struct virtio_blk_config_opts *o,
		    struct guest_mem *gm, const struct platform *p, const struct virtio_io *io)
{
	size_t serial_len = o && o->serial ? strlen(o->serial) : 0;
	struct blk_image img;
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->efd = -1;
	if (!o || !o->path || !*o->path || serial_len > VIRTIO_BLK_ID_BYTES)
		return -EINVAL;
	b->path = strdup(o->path);
	if (!b->path)
		return -ENOMEM;
	b->readonly = o->readonly;
	b->direct = o->direct;
	if (serial_len)
		memcpy(b->serial, o->serial, serial_len);

	pthread_mutex_init(&b->backing_lock, NULL);
	b->unlocked = o->unlocked;
	ret = open_image(b->path, b->readonly, b->direct, !o->unlocked, -1, &img);
	if (ret < 0)
		goto fail;
	take_image(b, &img);
	ret = setup_ring(b);
	if (ret < 0)
		goto fail;
	fill_config(b);
	ret = virtio_pci_init(&b->vp, b->readonly ? &blk_ops_ro : &blk_ops_rw, b, gm, p, io);
	b->vp_inited = true;
	if (ret < 0)
		goto fail;
	if (io->watch) {
		ret = io->watch(io->ctx, b->efd, blk_completions, b);
		if (ret < 0)
			goto fail;
		b->watched = true;
	}
	b->initialized = true;
	return 0;
fail:
	blk_release(b);
	return ret;
}

int virtio_blk_unlock(struct virtio_blk *b)
{
	int ret = 0;

	pthread_mutex_lock(&b->backing_lock);
	if (!b->readonly && fdatasync(b->fd) < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: disk %s: syncing before the handover: %s\n", b->path,
			strerror(-ret));
		blk_sync_failed(b, ret); /* the source goes on with this disk */
	} else if (!b->unlocked) {
		if (flock(b->fd, LOCK_UN) < 0)
			ret = -errno;
		else
			b->unlocked = true;
	}
	pthread_mutex_unlock(&b->backing_lock);
	return ret;
}

int virtio_blk_lock(struct virtio_blk *b)
{
	int ret = 0;

	pthread_mutex_lock(&b->backing_lock);
	if (b->unlocked) {
		if (flock(b->fd, (b->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
			ret = -errno;
		else
			b->unlocked = false;
	}
	pthread_mutex_unlock(&b->backing_lock);
	return ret;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (b->initialized)
		blk_release(b);
}

/* ---- changing the image ---- */

int virtio_blk_set_backing(struct virtio_blk *b, const char *path)
{
	struct blk_image img;
	bool pushed = false;
	char *new_path, *old_path;
	uint32_t shown_block;
	int old_fd = -1;
	int ret;

	if (!b || !b->initialized || !path || !*path)
		return -EINVAL;
	new_path = strdup(path);
	if (!new_path) {
		fprintf(stderr, "petrel: disk %s: out of memory\n", path);
		return -ENOMEM;
	}
	pthread_mutex_lock(&b->backing_lock);
	/* b->fd changes only under backing_lock: reading it here is safe */
	ret = open_image(new_path, b->readonly, b->direct, true, b->fd, &img);
	if (ret < 0)
		goto out_unlock;
	shown_block = le32toh(b->cfg.blk_size);
	if (b->direct && img.dio_offset_align > shown_block) {
		/* the guest was shown smaller blocks and will not ask again */
		fprintf(stderr,
			"petrel: disk %s: direct I/O needs blocks of %u bytes, the guest has "
			"blocks of %u\n",
			new_path, img.dio_offset_align, shown_block);
		ret = -EINVAL;
		goto out_close;
	}

	pthread_mutex_lock(&b->vp.lock);
	/* with the lock held no new request starts: finish those on the old file */
	ret = ring_drain_bounded(b, virtio_pci_vq(&b->vp, 0), &pushed, VIRTIO_BLK_SWAP_DRAIN_MS);
	if (pushed)
		virtio_pci_queue_done(&b->vp, 0);
	if (ret < 0) {
		pthread_mutex_unlock(&b->vp.lock);
		fprintf(stderr,
			"petrel: disk %s: not switched to: the requests in flight on %s %s, "
			"which stays the disk\n",
			new_path, b->path,
			ret == -ETIMEDOUT ? "did not complete in time" : "could not be waited for");
		goto out_close;
	}
	/*
	 * A later FLUSH syncs the new file only, yet it covers the writes the
	 * guest completed on this one (virtio 1.2, 5.2.6.2): they are made
	 * stable now, before the guest can send it.
	 */
	if (!b->readonly && !img.same_file && fdatasync(b->fd) < 0) {
		ret = -errno;
		blk_sync_failed(b, ret);
		pthread_mutex_unlock(&b->vp.lock);
		fprintf(stderr,
			"petrel: disk %s: not switched to: %s could not be synced (%s) and stays "
			"the disk\n",
			new_path, b->path, strerror(-ret));
		goto out_close;
	}
	if (img.same_file) {
		/* the same file again (perhaps resized): keep its fd and its lock */
		old_fd = img.fd;
		img.fd = b->fd;
	} else {
		old_fd = b->fd;
	}
	take_image(b, &img);
	old_path = b->path;
	b->path = new_path;
	new_path = old_path;
	b->cfg.capacity = htole64(b->capacity);
	if (b->vp.status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_config_changed(&b->vp);
	else
		b->vp.config_generation++; /* no driver to interrupt yet */
	pthread_mutex_unlock(&b->vp.lock);
	ret = 0;

out_close:
	if (ret < 0)
		old_fd = img.fd;
	if (old_fd >= 0)
		close(old_fd); /* drops its lock */
out_unlock:
	pthread_mutex_unlock(&b->backing_lock);
	free(new_path);
	return ret;
}

int virtio_blk_quiesce(struct virtio_blk *b, unsigned int ms)
{
	bool pushed = false;
	int ret;

	if (!b->initialized)
		return -EINVAL;
	pthread_mutex_lock(&b->backing_lock);
	pthread_mutex_lock(&b->vp.lock);
	ret = ring_drain_bounded(b, virtio_pci_vq(&b->vp, 0), &pushed, ms);
	if (pushed)
		virtio_pci_queue_done(&b->vp, 0);
	if (!ret && !b->readonly && fdatasync(b->fd) < 0) {
		ret = -errno;
		blk_sync_failed(b, ret);
	}
	pthread_mutex_unlock(&b->vp.lock);
	pthread_mutex_unlock(&b->backing_lock);
	return ret;
}

void virtio_blk_save(struct virtio_blk *b, struct virtio_blk_state *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&b->vp.lock);
	s->capacity = le64toh(b->cfg.capacity);
	s->blk_size = le32toh(b->cfg.blk_size);
	s->readonly = b->readonly;
	s->sync_failed = b->sync_failed;
	pthread_mutex_unlock(&b->vp.lock);
}

const char *virtio_blk_state_check(const struct virtio_blk *b, const struct virtio_blk_state *s)
{
	if (s->capacity != le64toh(b->cfg.capacity))
		return "capacity";
	if (s->blk_size != le32toh(b->cfg.blk_size))
		return "blk_size";
	if (s->readonly != b->readonly)
		return "readonly";
	if (s->sync_failed > 1)
		return "sync_failed";
	return NULL;
}

void virtio_blk_restore(struct virtio_blk *b, const struct virtio_blk_state *s)
{
	pthread_mutex_lock(&b->vp.lock);
	b->sync_failed = s->sync_failed;
	pthread_mutex_unlock(&b->vp.lock);
}
