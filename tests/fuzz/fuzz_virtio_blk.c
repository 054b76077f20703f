// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk's request handler on the virtqueue walker, over the harness's
 * guest memory (fuzz_virtio.h), on a 64 KiB image in a memfd: reads and
 * writes through the real io_uring, flush, get_id, discard, write-zeroes.
 *
 * Header flag 0x10: the disk is read-only. Feature byte: bit 0 FLUSH, 1
 * DISCARD, 2 WRITE_ZEROES, 3 SEG_MAX, 4 BLK_SIZE. DEV waits for one
 * completion of the io_uring (when something is in flight) and hands it to
 * the device; DEV2 waits for them all. Every input ends with all of them.
 *
 * Besides the harness's invariants: every fallocate, pwrite and io_uring
 * submission of the device lies within the image (they are wrapped at link
 * time, and the submissions read before they go), reads land in guest RAM, a
 * read-only disk is never written, and the image keeps its size (a write past
 * its end would grow it).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_virtio.h"
#include "virtio/virtio_blk.h"

#define IMG_SIZE (64 * 1024)
#define F_READONLY 0x10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __real_fallocate(int fd, int mode, off_t off, off_t len);
int __wrap_fallocate(int fd, int mode, off_t off, off_t len);
int __real_fallocate64(int fd, int mode, off_t off, off_t len);
int __wrap_fallocate64(int fd, int mode, off_t off, off_t len);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __real_pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_pwrite64(int fd, const void *buf, size_t n, off_t off);
int __real_io_uring_submit(struct io_uring *ring);
int __wrap_io_uring_submit(struct io_uring *ring);

static struct fz fz;
static struct virtio_blk blk;
static int img = -1;
static unsigned long long sqes_checked;
static char img_path[64];

/* ---- the device's own file calls ---- */

static void check_range(int fd, off_t off, off_t len)
{
	if (!blk.initialized || fd != blk.fd)
		return;
	if (blk.readonly)
		fz_fail("a read-only disk was written");
	if (off < 0 || len < 0 || (uint64_t)off > IMG_SIZE ||
	    (uint64_t)len > IMG_SIZE - (uint64_t)off)
		fz_fail("a file operation outside the image");
}

int __wrap_fallocate(int fd, int mode, off_t off, off_t len)
{
	check_range(fd, off, len);
	return __real_fallocate(fd, mode, off, len);
}

int __wrap_fallocate64(int fd, int mode, off_t off, off_t len)
{
	check_range(fd, off, len);
	return __real_fallocate64(fd, mode, off, len);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	check_range(fd, off, (off_t)n);
	return __real_pwrite(fd, buf, n, off);
}

ssize_t __wrap_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	check_range(fd, off, (off_t)n);
	return __real_pwrite64(fd, buf, n, off);
}

/*
 * What the device hands the kernel: every read, write and fallocate of the
 * image within it (none at all that write a read-only disk), and every read
 * into guest RAM.
 */
static void check_sqe(const struct io_uring_sqe *sqe)
{
	const struct iovec *iov = (const struct iovec *)(uintptr_t)sqe->addr;
	uint64_t len = 0;
	unsigned int i;

	if (!blk.initialized || sqe->fd != blk.fd)
		return;
	sqes_checked++;
	switch (sqe->opcode) {
	case IORING_OP_READV:
	case IORING_OP_WRITEV:
		for (i = 0; i < sqe->len; i++) {
			if (sqe->opcode == IORING_OP_READV && !blk.direct &&
			    !fz_in_ram(&fz, iov[i].iov_base, iov[i].iov_len))
				fz_fail("a read into memory that is not guest RAM");
			len += iov[i].iov_len;
		}
		if (sqe->opcode == IORING_OP_READV) {
			if (sqe->off > IMG_SIZE || len > IMG_SIZE - sqe->off)
				fz_fail("a read outside the image");
			break;
		}
		check_range(sqe->fd, (off_t)sqe->off, (off_t)len);
		break;
	case IORING_OP_FALLOCATE:
		check_range(sqe->fd, (off_t)sqe->off, (off_t)sqe->addr);
		break;
	}
}

int __wrap_io_uring_submit(struct io_uring *ring)
{
	unsigned int i;

	for (i = ring->sq.sqe_head; i != ring->sq.sqe_tail; i++)
		check_sqe(&ring->sq.sqes[i & ring->sq.ring_mask]);
	return __real_io_uring_submit(ring);
}

/* ---- the target ---- */

/*
 * The device (and its io_uring) is made once per read-only setting and kept:
 * each input starts with the driver's reset, on a fresh zeroed image.
 */
static int blk_create(struct fz *f)
{
	struct virtio_blk_config_opts o = {.path = img_path, .serial = "fuzz-serial-0123"};
	bool ro = f->flags & F_READONLY;

	if (ftruncate(img, 0) < 0 || ftruncate(img, IMG_SIZE) < 0)
		return -errno;
	if (blk.initialized && blk.readonly != ro)
		virtio_blk_destroy(&blk);
	if (!blk.initialized) {
		o.readonly = ro;
		if (virtio_blk_init(&blk, &o, &f->gm, &f->plat, &f->io) < 0)
			return -1;
	}
	f->vp = &blk.vp;
	return 0;
}

static void blk_destroy(struct fz *f)
{
}

static uint32_t blk_features(const struct fz *f)
{
	static const unsigned int bits[] = {VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_DISCARD,
					    VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_F_SEG_MAX,
					    VIRTIO_BLK_F_BLK_SIZE};
	uint32_t feat = 0;
	unsigned int i;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (f->dev_features & (1u << i))
			feat |= 1u << bits[i];
	if (f->flags & F_READONLY)
		feat |= 1u << VIRTIO_BLK_F_RO;
	return feat;
}

static bool blk_idle(struct fz *f)
{
	return blk.nr_free == VIRTIO_BLK_QUEUE_SIZE && !blk.nr_wait;
}

/* The I/O thread: wait for the ring's eventfd and hand the completions over. */
static bool reap_one(struct fz *f)
{
	struct pollfd p = {.fd = blk.efd, .events = POLLIN};

	if (blk_idle(f))
		return false;
	/*
	 * On a busy machine a completion took more than 5 s: wait as long as
	 * it takes, and let libFuzzer's -timeout report one that never comes.
	 */
	while (poll(&p, 1, -1) != 1)
		if (errno != EINTR)
			fz_fail("cannot wait for the io_uring");
	fz_fire(f, blk.efd);
	return true;
}

static void blk_dev(struct fz *f, struct fz_in *in)
{
	reap_one(f);
}

static void blk_finish(struct fz *f)
{
	unsigned int n;

	for (n = 0; n < 4 * VIRTIO_BLK_QUEUE_SIZE && reap_one(f); n++)
		;
	if (getenv("FUZZ_VIRTIO_DEBUG"))
		fprintf(stderr,
			"blk: %llu reads, %llu writes, %llu flushes, %llu errors, %llu submissions "
			"checked, status %#x\n",
			(unsigned long long)blk.reads, (unsigned long long)blk.writes,
			(unsigned long long)blk.flushes, (unsigned long long)blk.errors,
			sqes_checked, blk.vp.status);
}

static void blk_dev2(struct fz *f, struct fz_in *in)
{
	blk_finish(f);
}

static void blk_check(struct fz *f)
{
	struct stat st;

	if (fstat(img, &st) < 0 || st.st_size != IMG_SIZE)
		fz_fail("the image changed size");
}

static const struct fz_target target = {
    .nr_queues = 1,
    .create = blk_create,
    .destroy = blk_destroy,
    .features = blk_features,
    .dev = blk_dev,
    .dev2 = blk_dev2,
    .idle = blk_idle,
    .check = blk_check,
    .finish = blk_finish,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (img < 0) {
		fz_global_init(&fz);
		img = memfd_create("fuzz-blk", MFD_CLOEXEC);
		if (img < 0)
			fz_fail("memfd");
		snprintf(img_path, sizeof(img_path), "/proc/self/fd/%d", img);
	}
	fz_run(&fz, &target, data, size);
	return 0;
}
