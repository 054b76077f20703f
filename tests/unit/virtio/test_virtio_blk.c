// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the virtio-blk device on image files in a temporary
 * directory: a driver written here sets the device up through BAR 0 and puts
 * request chains into a real guest memory; the I/O thread's watches are
 * recorded and their handlers called by hand (the io_uring is real). The
 * platform records the INTx line. About changing the image behind a running
 * device (virtio_blk_set_backing), a guest rewriting a discard's segments while
 * the device works on them, discards and write-zeroes done through the ring
 * (never on the I/O thread), the bound on direct I/O bounce memory, and a
 * failed sync remembered until a reset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mem/guest_mem.h"
#include "virtio/virtio_blk.h"

#define MB (1024ULL * 1024)
#define QSZ 16
#define INTX_GSI 5
#define DESC 0x1000ULL
#define AVAIL 0x2000ULL
#define USED 0x3000ULL
#define HDR 0x10000ULL
#define DATA 0x11000ULL
#define STATUS 0x12000ULL
/* Common configuration registers */
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_STATUS 0x14
#define CC_CFG_GENERATION 0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_ENABLE 0x1c
#define CC_Q_DESC_LO 0x20
#define CC_Q_DRIVER_LO 0x28
#define CC_Q_DEVICE_LO 0x30

/* ---- the I/O thread's watches and the platform ---- */

struct watch {
	int fd;
	void (*fn)(void *opaque, int fd, uint32_t events);
	void *opaque;
};

struct fx {
	struct guest_mem gm;
	struct platform plat;
	struct virtio_blk *b;
	struct watch w[8];
	uint16_t qsz; /* the queue's size */
	uint16_t avail_idx, used_seen;
	unsigned int irq_raised; /* INTx set to 1 */
	char dir[64];
	char a[96], bb[96], c[96]; /* images of 1, 2 and 1 MiB */
};

static void fake_set_irq(void *ctx, unsigned int gsi, int level)
{
	struct fx *f = ctx;

	if (gsi == INTX_GSI && level)
		f->irq_raised++;
}

static const struct platform_ops fake_ops = {.set_irq = fake_set_irq};

static int fake_watch(void *ctx, int fd, void (*fn)(void *opaque, int fd, uint32_t events),
		      void *opaque)
{
	struct fx *f = ctx;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		if (!f->w[i].fn) {
			f->w[i] = (struct watch){fd, fn, opaque};
			return 0;
		}
	}
	return -ENOSPC;
}

static void fake_unwatch(void *ctx, int fd)
{
	struct fx *f = ctx;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		if (f->w[i].fn && f->w[i].fd == fd)
			memset(&f->w[i], 0, sizeof(f->w[i]));
	}
}

static void fire(struct fx *f, int fd)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		if (f->w[i].fn && f->w[i].fd == fd) {
			f->w[i].fn(f->w[i].opaque, fd, 1);
			return;
		}
	}
	fail_msg("fd %d is not watched", fd);
}

/* ---- fdatasync, seen from the test ---- */

/*
 * The device's fdatasync calls land here (the test is linked with the device):
 * each records the inode of the file it syncs, and fails with EIO while
 * syncs.fail is set.
 */
#define MAX_SYNC 8
static struct {
	unsigned int n;
	ino_t ino[MAX_SYNC];
	bool fail;
} syncs;

int fdatasync(int fd)
{
	struct stat st;

	if (syncs.n < MAX_SYNC)
		syncs.ino[syncs.n] = fstat(fd, &st) == 0 ? st.st_ino : 0;
	syncs.n++;
	if (syncs.fail) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* ---- images ---- */

static void make_image(const char *path, uint64_t size, uint8_t fill)
{
	static uint8_t buf[65536];
	uint64_t done;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	memset(buf, fill, sizeof(buf));
	for (done = 0; done < size; done += sizeof(buf))
		assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
}

/* Can another user take the image's lock (@op: LOCK_SH or LOCK_EX)? */
static bool lockable(const char *path, int op)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	assert_true(fd >= 0);
	ok = flock(fd, op | LOCK_NB) == 0;
	close(fd);
	return ok;
}

/* ---- the driver ---- */

static void bar_wr(struct fx *f, uint64_t off, unsigned int size, uint64_t val)
{
	const struct pci_bar *b = &f->b->vp.pci.bar[0];

	b->ops->write(b->opaque, off, size, val);
}

static uint64_t bar_rd(struct fx *f, uint64_t off, unsigned int size)
{
	const struct pci_bar *b = &f->b->vp.pci.bar[0];

	return b->ops->read(b->opaque, off, size);
}

static uint64_t capacity(struct fx *f)
{
	return bar_rd(f, VIRTIO_PCI_DEVICE_OFF, 8);
}

static uint8_t generation(struct fx *f)
{
	return (uint8_t)bar_rd(f, CC_CFG_GENERATION, 1);
}

static uint8_t isr(struct fx *f)
{
	return (uint8_t)bar_rd(f, VIRTIO_PCI_ISR_OFF, 1);
}

/* Reset the device and drive it with the device features @feat (and VERSION_1), @qsz entries. */
static void driver_start_q(struct fx *f, uint32_t feat, uint16_t qsz)
{
	bar_wr(f, CC_STATUS, 1, 0);
	bar_wr(f, CC_STATUS, 1, 1);
	bar_wr(f, CC_STATUS, 1, 3);
	bar_wr(f, CC_GFSELECT, 4, 0);
	bar_wr(f, CC_GF, 4, feat);
	bar_wr(f, CC_GFSELECT, 4, 1);
	bar_wr(f, CC_GF, 4, 1); /* VIRTIO_F_VERSION_1 */
	bar_wr(f, CC_STATUS, 1, 0xb);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), 0xb);
	bar_wr(f, CC_Q_SELECT, 2, 0);
	bar_wr(f, CC_Q_SIZE, 2, qsz);
	/* fresh rings, as a driver allocates them */
	memset(gm_ptr(&f->gm, AVAIL, 4), 0, 4);
	memset(gm_ptr(&f->gm, USED, 4), 0, 4);
	bar_wr(f, CC_Q_DESC_LO, 4, DESC);
	bar_wr(f, CC_Q_DRIVER_LO, 4, AVAIL);
	bar_wr(f, CC_Q_DEVICE_LO, 4, USED);
	bar_wr(f, CC_Q_ENABLE, 2, 1);
	bar_wr(f, CC_STATUS, 1, 0xf);
	f->qsz = qsz;
	f->avail_idx = f->used_seen = 0;
}

static void driver_start_with(struct fx *f, uint32_t feat)
{
	driver_start_q(f, feat, QSZ);
}

static void driver_start(struct fx *f)
{
	driver_start_with(f, 1u << VIRTIO_BLK_F_FLUSH);
}

static void put(struct fx *f, uint64_t gpa, const void *p, uint64_t len)
{
	assert_int_equal(gm_write(&f->gm, gpa, p, len), 0);
}

static void get(struct fx *f, uint64_t gpa, void *p, uint64_t len)
{
	assert_int_equal(gm_read(&f->gm, gpa, p, len), 0);
}

static void desc(struct fx *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	struct virtq_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};

	put(f, DESC + 16ULL * i, &d, sizeof(d));
}

static uint16_t used_idx(struct fx *f)
{
	uint16_t v;

	get(f, USED + 2, &v, 2);
	return v;
}

/* Queue a one-sector request of @type at @sector (descriptors 0-2) and kick. */
static void submit(struct fx *f, uint32_t type, uint64_t sector)
{
	uint8_t hdr[16] = {0};
	uint8_t st = 0xee;
	uint16_t head = 0, idx;

	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	put(f, HDR, hdr, sizeof(hdr));
	put(f, STATUS, &st, 1);
	desc(f, 0, HDR, sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, DATA, VIRTIO_BLK_SECTOR_SIZE,
	     VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0), 2);
	desc(f, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	put(f, AVAIL + 4 + 2 * (f->avail_idx % f->qsz), &head, 2);
	idx = ++f->avail_idx;
	put(f, AVAIL + 2, &idx, 2);
	fire(f, f->b->vp.q[0].notify_efd);
}

/* The I/O thread: wait for the ring's eventfd and handle the completions. */
static void complete(struct fx *f)
{
	struct pollfd p = {.fd = f->b->efd, .events = POLLIN};

	while (used_idx(f) == f->used_seen) {
		assert_int_equal(poll(&p, 1, 5000), 1);
		fire(f, f->b->efd);
	}
}

/* The request's status byte, once the device returned it. */
static uint8_t finished(struct fx *f)
{
	uint8_t st;

	assert_int_equal(used_idx(f), (uint16_t)(f->used_seen + 1));
	f->used_seen++;
	get(f, STATUS, &st, 1);
	return st;
}

/* Read sector @sector through the queue; its first byte. */
static uint8_t read_sector(struct fx *f, uint64_t sector)
{
	uint8_t data[VIRTIO_BLK_SECTOR_SIZE];
	size_t i;

	memset(data, 0x5a, sizeof(data));
	put(f, DATA, data, sizeof(data));
	submit(f, VIRTIO_BLK_T_IN, sector);
	complete(f);
	assert_int_equal(finished(f), VIRTIO_BLK_S_OK);
	get(f, DATA, data, sizeof(data));
	for (i = 1; i < sizeof(data); i++)
		assert_int_equal(data[i], data[0]);
	return data[0];
}

static int fx_open(void **state, bool readonly, bool direct)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct virtio_blk_config_opts o = {0};
	struct virtio_io io = {.watch = fake_watch, .unwatch = fake_unwatch};

	if (!f)
		return -1;
	io.ctx = f;
	f->plat.ops = &fake_ops;
	f->plat.ctx = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/petrel-blk-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->a, sizeof(f->a), "%s/a.img", f->dir);
	snprintf(f->bb, sizeof(f->bb), "%s/b.img", f->dir);
	snprintf(f->c, sizeof(f->c), "%s/c.img", f->dir);
	make_image(f->a, direct ? 64 * MB : 1 * MB, 0xaa);
	make_image(f->bb, 2 * MB, 0xbb);
	make_image(f->c, 1 * MB, 0xcc);
	gm_init(&f->gm);
	if (gm_add_region(&f->gm, "ram", 0, direct ? 128 * MB : 4 * MB) < 0)
		return -1;
	f->b = calloc(1, sizeof(*f->b));
	o.path = f->a;
	o.readonly = readonly;
	o.direct = direct;
	if (!f->b || virtio_blk_init(f->b, &o, &f->gm, &f->plat, &io) < 0)
		return -1;
	virtio_pci_plugged(&f->b->vp, INTX_GSI);
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_open(state, false, false);
}

static int fx_setup_ro(void **state)
{
	return fx_open(state, true, false);
}

/* The image opened O_DIRECT (/tmp must allow it), 128 MiB of RAM. */
static int fx_setup_direct(void **state)
{
	return fx_open(state, false, true);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	virtio_blk_destroy(f->b);
	free(f->b);
	gm_destroy(&f->gm);
	unlink(f->a);
	unlink(f->bb);
	unlink(f->c);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void test_swap(void **state)
{
	struct fx *f = *state;
	uint8_t data[VIRTIO_BLK_SECTOR_SIZE];
	uint8_t gen;

	driver_start(f);
	assert_int_equal(capacity(f), 1 * MB / 512);
	assert_int_equal(read_sector(f, 0), 0xaa);
	assert_false(lockable(f->a, LOCK_SH));
	isr(f); /* acknowledge the queue's interrupt */
	gen = generation(f);
	f->irq_raised = 0;

	assert_int_equal(virtio_blk_set_backing(f->b, f->bb), 0);
	assert_int_equal(capacity(f), 2 * MB / 512);
	assert_int_equal(generation(f), (uint8_t)(gen + 1));
	assert_int_equal(f->irq_raised, 1);
	assert_int_equal(isr(f), 0x2); /* a configuration change */
	assert_int_equal(isr(f), 0);
	/* the new image serves the guest, all of it; the old one is free */
	assert_int_equal(read_sector(f, 0), 0xbb);
	assert_int_equal(read_sector(f, 2 * MB / 512 - 1), 0xbb);
	assert_true(lockable(f->a, LOCK_EX));
	assert_false(lockable(f->bb, LOCK_SH));

	/* and back again: writes reach the image in use */
	assert_int_equal(virtio_blk_set_backing(f->b, f->a), 0);
	assert_int_equal(capacity(f), 1 * MB / 512);
	assert_int_equal(generation(f), (uint8_t)(gen + 2));
	memset(data, 0x11, sizeof(data));
	put(f, DATA, data, sizeof(data));
	submit(f, VIRTIO_BLK_T_OUT, 3);
	complete(f);
	assert_int_equal(finished(f), VIRTIO_BLK_S_OK);
	assert_int_equal(read_sector(f, 3), 0x11);
	assert_true(lockable(f->bb, LOCK_EX));
	/* a sector of the larger image is out of bounds now */
	submit(f, VIRTIO_BLK_T_IN, 1 * MB / 512);
	complete(f);
	assert_int_equal(finished(f), VIRTIO_BLK_S_IOERR);
}

/*
 * A write completed on the old image and a FLUSH sent after the swap: the
 * flush covers that write (virtio 1.2, 5.2.6.2) but syncs the new image only,
 * so the swap syncs the old one first. When that fails, nothing changes.
 */
static void test_swap_syncs_the_old_image(void **state)
{
	struct fx *f = *state;
	uint8_t data[VIRTIO_BLK_SECTOR_SIZE];
	uint8_t gen;

	driver_start(f);
	memset(data, 0x22, sizeof(data));
	put(f, DATA, data, sizeof(data));
	submit(f, VIRTIO_BLK_T_OUT, 5);
	complete(f);
	assert_int_equal(finished(f), VIRTIO_BLK_S_OK);
	gen = generation(f);

	/* the sync fails: the old image stays the disk, the new one is left unlocked */
	syncs.n = 0;
	syncs.fail = true;
	assert_int_equal(virtio_blk_set_backing(f->b, f->bb), -EIO);
	syncs.fail = false;
	assert_int_equal(syncs.n, 1);
	assert_true(syncs.ino[0] == inode_of(f->a));
	assert_int_equal(capacity(f), 1 * MB / 512);
	assert_int_equal(generation(f), gen);
	assert_true(lockable(f->bb, LOCK_EX));
	assert_int_equal(read_sector(f, 5), 0x22);

	syncs.n = 0;
	assert_int_equal(virtio_blk_set_backing(f->b, f->bb), 0);
	assert_int_equal(syncs.n, 1);
	assert_true(syncs.ino[0] == inode_of(f->a));
	assert_int_equal(capacity(f), 2 * MB / 512);
	/* the same file again: it stays open, nothing to sync */
	syncs.n = 0;
	assert_int_equal(virtio_blk_set_backing(f->b, f->bb), 0);
	assert_int_equal(syncs.n, 0);
}

static void test_swap_refused(void **state)
{
	struct fx *f = *state;
	char missing[128];
	uint8_t gen;
	int fd;

	driver_start(f);
	isr(f);
	gen = generation(f);
	f->irq_raised = 0;
	snprintf(missing, sizeof(missing), "%s/missing.img", f->dir);

	assert_int_equal(virtio_blk_set_backing(f->b, missing), -ENOENT);
	assert_int_equal(virtio_blk_set_backing(f->b, f->dir), -EISDIR);
	assert_int_equal(virtio_blk_set_backing(f->b, "/dev/null"), -EINVAL);
	assert_int_equal(virtio_blk_set_backing(f->b, ""), -EINVAL);
	assert_int_equal(virtio_blk_set_backing(f->b, NULL), -EINVAL);
	/* another user holds the new image */
	fd = open(f->c, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH), 0);
	assert_int_equal(virtio_blk_set_backing(f->b, f->c), -EWOULDBLOCK);
	close(fd);
	assert_true(lockable(f->c, LOCK_EX)); /* the failed attempt left no lock */

	/* nothing changed */
	assert_int_equal(capacity(f), 1 * MB / 512);
	assert_int_equal(generation(f), gen);
	assert_int_equal(f->irq_raised, 0);
	assert_int_equal(isr(f), 0);
	assert_int_equal(read_sector(f, 0), 0xaa);
	assert_false(lockable(f->a, LOCK_SH));
}

static void test_swap_completes_requests_in_flight(void **state)
{
	struct fx *f = *state;
	uint8_t data[VIRTIO_BLK_SECTOR_SIZE];

	driver_start(f);
	/* a read goes to the ring; its completion is not handled yet */
	submit(f, VIRTIO_BLK_T_IN, 7);
	assert_int_equal(used_idx(f), 0);
	isr(f);
	f->irq_raised = 0;

	assert_int_equal(virtio_blk_set_backing(f->b, f->bb), 0);
	/* it was completed from the old image, and the driver told */
	assert_int_equal(finished(f), VIRTIO_BLK_S_OK);
	get(f, DATA, data, sizeof(data));
	assert_int_equal(data[0], 0xaa);
	assert_int_equal(data[sizeof(data) - 1], 0xaa);
	assert_int_equal(isr(f), 0x3); /* the queue's and the configuration's */
	assert_true(f->irq_raised >= 1);
	/* the I/O thread's late wake-up finds nothing */
	fire(f, f->b->efd);
	assert_int_equal(used_idx(f), f->used_seen);
	assert_int_equal(read_sector(f, 7), 0xbb);
}

static void test_swap_same_file_resized(void **state)
{
	struct fx *f = *state;
	uint8_t gen;

	driver_start(f);
	gen = generation(f);
	assert_int_equal(truncate(f->a, 3 * MB), 0);
	assert_int_equal(virtio_blk_set_backing(f->b, f->a), 0);
	assert_int_equal(capacity(f), 3 * MB / 512);
	assert_int_equal(generation(f), (uint8_t)(gen + 1));
	assert_false(lockable(f->a, LOCK_SH)); /* still ours */
	assert_int_equal(read_sector(f, 0), 0xaa);
	assert_int_equal(read_sector(f, 3 * MB / 512 - 1), 0x00); /* the new hole */
}

static void test_swap_before_the_driver(void **state)
{
	struct fx *f = *state;
	uint8_t gen = generation(f);

	assert_int_equal(virtio_blk_set_backing(f->b, f->bb), 0);
	assert_int_equal(capacity(f), 2 * MB / 512);
	assert_int_equal(generation(f), (uint8_t)(gen + 1));
	assert_int_equal(f->irq_raised, 0); /* nobody to interrupt */
	assert_int_equal(isr(f), 0);
	driver_start(f);
	assert_int_equal(read_sector(f, 1), 0xbb);
}

static void test_swap_read_only(void **state)
{
	struct fx *f = *state;

	driver_start(f);
	assert_true(lockable(f->a, LOCK_SH));
	assert_false(lockable(f->a, LOCK_EX));
	assert_int_equal(virtio_blk_set_backing(f->b, f->bb), 0);
	/* opened read-only: a shared lock, and writes refused */
	assert_true(lockable(f->bb, LOCK_SH));
	assert_false(lockable(f->bb, LOCK_EX));
	assert_true(lockable(f->a, LOCK_EX));
	submit(f, VIRTIO_BLK_T_OUT, 0);
	complete(f);
	assert_int_equal(finished(f), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_sector(f, 0), 0xbb);
	assert_int_equal(fcntl(f->b->fd, F_GETFL) & O_ACCMODE, O_RDONLY);
}

struct swapper {
	struct fx *f;
	unsigned int swaps;
	int failed;
	bool done;
};

static void *swap_thread(void *opaque)
{
	struct swapper *sw = opaque;
	unsigned int i;

	for (i = 0; i < sw->swaps; i++) {
		if (virtio_blk_set_backing(sw->f->b, i & 1 ? sw->f->a : sw->f->bb) < 0)
			sw->failed++;
		usleep(200);
	}
	__atomic_store_n(&sw->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void test_swap_while_the_guest_reads(void **state)
{
	struct fx *f = *state;
	struct swapper sw = {.f = f, .swaps = 100};
	pthread_t t;
	unsigned int i, seen_a = 0, seen_b = 0;

	driver_start(f);
	assert_int_equal(pthread_create(&t, NULL, swap_thread, &sw), 0);
	/* this thread is the I/O thread: every read sees one image whole */
	for (i = 0; i < 2000 || !__atomic_load_n(&sw.done, __ATOMIC_ACQUIRE); i++) {
		uint8_t v = read_sector(f, i % (1 * MB / 512));

		assert_true(v == 0xaa || v == 0xbb);
		if (v == 0xaa)
			seen_a++;
		else
			seen_b++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(sw.failed, 0);
	assert_true(seen_a > 0 && seen_b > 0);
	assert_int_equal(capacity(f), 1 * MB / 512); /* an even number of swaps: a again */
	assert_int_equal(read_sector(f, 0), 0xaa);
}

/* ---- discard and write-zeroes ---- */

#define SEGS 0x13000ULL

struct dwz_seg {
	uint64_t sector;
	uint32_t num;
	uint32_t flags;
};

/* Queue a DISCARD or WRITE_ZEROES of @n segments (at SEGS) and kick. */
static void submit_dwz(struct fx *f, uint32_t type, const struct dwz_seg *seg, unsigned int n)
{
	uint8_t hdr[16] = {0};
	uint8_t st = 0xee;
	uint16_t head = 0, idx;

	memcpy(hdr, &type, 4);
	put(f, HDR, hdr, sizeof(hdr));
	put(f, SEGS, seg, n * sizeof(*seg));
	put(f, STATUS, &st, 1);
	desc(f, 0, HDR, sizeof(hdr), VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, SEGS, n * (uint32_t)sizeof(*seg), VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	put(f, AVAIL + 4 + 2 * (f->avail_idx % f->qsz), &head, 2);
	idx = ++f->avail_idx;
	put(f, AVAIL + 2, &idx, 2);
	fire(f, f->b->vp.q[0].notify_efd);
}

/* A second vCPU: the second segment now covers 16 MiB from 512 MiB into a 1 MiB disk. */
static void rewrite_second_segment(struct fx *f)
{
	struct dwz_seg far = {.sector = 1ULL << 20, .num = 1u << 15};

	put(f, SEGS + sizeof(far), &far, sizeof(far));
}

/*
 * The image takes no more room than its size (and the file system's
 * metadata): nothing was zeroed or allocated past its end.
 */
static void assert_image_within(const char *path, uint64_t size)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, size);
	assert_true((uint64_t)st.st_blocks * 512 <= size + 256 * 1024);
}

/*
 * The segment list is read once: a segment the guest rewrites after the
 * device took the request (here, while the device works on the first
 * segment) never reaches the image; the device uses what it checked. The
 * request is done through the ring: the kick returns with it still in
 * flight, and its completion comes on the ring's eventfd.
 */
static void test_discard_segments_read_once(void **state)
{
	struct fx *f = *state;
	const struct dwz_seg seg[2] = {{.sector = 0, .num = 8}, {.sector = 8, .num = 8}};
	unsigned int type;

	for (type = 0; type < 2; type++) {
		driver_start_with(f, (1u << VIRTIO_BLK_F_FLUSH) | (1u << VIRTIO_BLK_F_DISCARD) |
					 (1u << VIRTIO_BLK_F_WRITE_ZEROES));
		submit_dwz(f, type ? VIRTIO_BLK_T_WRITE_ZEROES : VIRTIO_BLK_T_DISCARD, seg, 2);
		/* not done on the I/O thread: nothing is back yet */
		assert_int_equal(used_idx(f), f->used_seen);
		rewrite_second_segment(f);
		complete(f);
		assert_int_equal(finished(f), VIRTIO_BLK_S_OK);
		assert_image_within(f->a, 1 * MB);
	}
	/* the second segment as checked: sectors 8 to 15 */
	assert_int_equal(read_sector(f, 8), 0);
	assert_int_equal(read_sector(f, 16), 0xaa);
}

/*
 * Write-zeroes over the whole disk in 16 segments, without unmap (the zero
 * range mode, or the fallback where the file system lacks it) and without
 * FLUSH (the device then syncs before it answers): every sector reads 0.
 */
static void test_write_zeroes_whole_disk(void **state)
{
	struct fx *f = *state;
	struct dwz_seg seg[16];
	const uint32_t per = (uint32_t)(1 * MB / VIRTIO_BLK_SECTOR_SIZE / 16);
	unsigned int i;

	for (i = 0; i < 16; i++)
		seg[i] = (struct dwz_seg){.sector = (uint64_t)i * per, .num = per};
	driver_start_with(f, 1u << VIRTIO_BLK_F_WRITE_ZEROES);
	submit_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, seg, 16);
	assert_int_equal(used_idx(f), f->used_seen);
	complete(f);
	assert_int_equal(finished(f), VIRTIO_BLK_S_OK);
	for (i = 0; i < 1 * MB / VIRTIO_BLK_SECTOR_SIZE; i += per / 2)
		assert_int_equal(read_sector(f, i), 0);
	assert_image_within(f->a, 1 * MB);
	/* a segment past the end: refused whole, nothing done */
	seg[0] = (struct dwz_seg){.sector = 0, .num = 8};
	seg[1] = (struct dwz_seg){.sector = (1 * MB / VIRTIO_BLK_SECTOR_SIZE) - 4, .num = 8};
	submit_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, seg, 2);
	assert_int_equal(finished(f), VIRTIO_BLK_S_IOERR);
}

/* ---- direct I/O bounce buffers ---- */

#define BIG_N 20
#define BIG_LEN (2 * (uint32_t)MB)
#define HUGE_LEN (12 * (uint32_t)MB) /* more than the whole budget */
#define BUF0 0x100000ULL
#define STATUS0 0x20000ULL

/* Request @i's data buffer: off by one byte from any alignment. */
static uint64_t big_buf(unsigned int i)
{
	return BUF0 + (uint64_t)i * (BIG_LEN + 4096) + 1;
}

/* Chain @i (descriptors 3i..3i+2): @len bytes at sector @sector, not yet made available. */
static void chain_rw(struct fx *f, unsigned int i, uint32_t type, uint64_t sector, uint32_t len)
{
	uint8_t hdr[16] = {0};
	uint8_t st = 0xee;
	uint16_t d = (uint16_t)(3 * i);

	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	put(f, HDR + 16ULL * i, hdr, sizeof(hdr));
	put(f, STATUS0 + i, &st, 1);
	desc(f, d, HDR + 16ULL * i, sizeof(hdr), VIRTQ_DESC_F_NEXT, d + 1);
	desc(f, d + 1, big_buf(i), len,
	     VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0), d + 2);
	desc(f, d + 2, STATUS0 + i, 1, VIRTQ_DESC_F_WRITE, 0);
	put(f, AVAIL + 4 + 2 * (f->avail_idx % f->qsz), &d, 2);
	f->avail_idx++;
}

/* Make every chain queued so far available at once, kick, and wait for them all. */
static void kick_and_wait_all(struct fx *f)
{
	struct pollfd p = {.fd = f->b->efd, .events = POLLIN};
	uint16_t idx = f->avail_idx;

	put(f, AVAIL + 2, &idx, 2);
	fire(f, f->b->vp.q[0].notify_efd);
	while (used_idx(f) != f->avail_idx) {
		assert_int_equal(poll(&p, 1, 5000), 1);
		fire(f, f->b->efd);
		assert_in_range(f->b->bounce_bytes, 0, VIRTIO_BLK_BOUNCE_BUDGET);
	}
	f->used_seen = f->avail_idx;
}

static uint8_t big_pattern(unsigned int i, uint64_t k)
{
	return (uint8_t)(i * 37 + k * 7 + k / 4096);
}

/* Request @i's length and its place on the disk (sectors). */
static uint32_t big_len(unsigned int i)
{
	return i == BIG_N ? HUGE_LEN : BIG_LEN;
}

static uint64_t big_sector(unsigned int i)
{
	return (uint64_t)i * (BIG_LEN / VIRTIO_BLK_SECTOR_SIZE);
}

/*
 * direct=on with unaligned buffers: 21 writes of 2 MiB and 12 MiB (52 MiB)
 * all at once, then as many reads, never hold more than the device's bounce
 * budget, and every byte arrives where it should.
 */
static void test_direct_bounce_budget(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = malloc(HUGE_LEN), st;
	unsigned int i;
	uint64_t k;

	assert_non_null(buf);
	assert_true(f->b->direct);
	if (f->b->dio_mem_align == 1) {
		free(buf);
		skip(); /* no buffer is unaligned here: nothing bounces */
	}
	driver_start_q(f, 1u << VIRTIO_BLK_F_FLUSH, 256);
	for (i = 0; i <= BIG_N; i++) {
		for (k = 0; k < big_len(i); k++)
			buf[k] = big_pattern(i, k);
		put(f, big_buf(i), buf, big_len(i));
		chain_rw(f, i, VIRTIO_BLK_T_OUT, big_sector(i), big_len(i));
	}
	kick_and_wait_all(f);
	for (i = 0; i <= BIG_N; i++) {
		get(f, STATUS0 + i, &st, 1);
		assert_int_equal(st, VIRTIO_BLK_S_OK);
	}
	/* read it all back into cleared buffers */
	memset(buf, 0, HUGE_LEN);
	for (i = 0; i <= BIG_N; i++) {
		put(f, big_buf(i), buf, big_len(i));
		chain_rw(f, i, VIRTIO_BLK_T_IN, big_sector(i), big_len(i));
	}
	kick_and_wait_all(f);
	for (i = 0; i <= BIG_N; i++) {
		get(f, STATUS0 + i, &st, 1);
		assert_int_equal(st, VIRTIO_BLK_S_OK);
		get(f, big_buf(i), buf, big_len(i));
		for (k = 0; k < big_len(i); k++)
			if (buf[k] != big_pattern(i, k))
				fail_msg("request %u byte %llu: %#x", i, (unsigned long long)k,
					 buf[k]);
	}
	print_message("bounce memory: at most %llu bytes at once (budget %u)\n",
		      (unsigned long long)f->b->bounce_peak, VIRTIO_BLK_BOUNCE_BUDGET);
	assert_true(f->b->bounce_peak > 0);
	assert_true(f->b->bounce_peak <= VIRTIO_BLK_BOUNCE_BUDGET);
	assert_int_equal(f->b->bounce_bytes, 0);
	free(buf);
}

/* A reset with transfers waiting for bounce memory forgets them and frees it all. */
static void test_direct_bounce_reset(void **state)
{
	struct fx *f = *state;
	uint16_t idx;
	unsigned int i;

	if (f->b->dio_mem_align == 1)
		skip();
	driver_start_q(f, 1u << VIRTIO_BLK_F_FLUSH, 256);
	for (i = 0; i <= BIG_N; i++)
		chain_rw(f, i, VIRTIO_BLK_T_IN, big_sector(i), big_len(i));
	idx = f->avail_idx;
	put(f, AVAIL + 2, &idx, 2);
	fire(f, f->b->vp.q[0].notify_efd);
	assert_true(f->b->nr_wait > 0);
	assert_in_range(f->b->bounce_bytes, 1, VIRTIO_BLK_BOUNCE_BUDGET);
	bar_wr(f, CC_STATUS, 1, 0);
	assert_int_equal(f->b->nr_wait, 0);
	assert_int_equal(f->b->bounce_bytes, 0);
	assert_int_equal(f->b->nr_free, VIRTIO_BLK_QUEUE_SIZE);
	/* and the device works again */
	driver_start(f);
	assert_int_equal(read_sector(f, 0), 0xaa);
}

/*
 * A read still in flight when the driver resets the device lands in guest
 * memory all the same (the kernel writes the buffers): its pages are in the
 * dirty log, or a migration would lose them.
 */
static void test_reset_marks_reads_dirty(void **state)
{
	struct fx *f = *state;
	uint8_t data[VIRTIO_BLK_SECTOR_SIZE];

	driver_start(f);
	memset(data, 0x5a, sizeof(data));
	put(f, DATA, data, sizeof(data));
	submit(f, VIRTIO_BLK_T_IN, 0);
	gm_clear_dirty(&f->gm);
	bar_wr(f, CC_STATUS, 1, 0); /* waits for the read, forgets it */
	get(f, DATA, data, sizeof(data));
	assert_int_equal(data[0], 0xaa);
	assert_true(gm_page_dirty(&f->gm, DATA));
	/* the driver is not told: no status, no used entry */
	assert_int_equal(used_idx(f), 0);
}

/* Send a one-sector request of @type at @sector; its status. */
static uint8_t request(struct fx *f, uint32_t type, uint64_t sector)
{
	submit(f, type, sector);
	complete(f);
	return finished(f);
}

/*
 * A FLUSH that fails is remembered: the host reports a write-back error to
 * one sync only, so the next FLUSH would succeed with the data lost. Here
 * the image's fd is a pipe for one FLUSH (its fsync fails with EINVAL), then
 * the image again: every later write and flush fails, reads still work,
 * until the driver resets the device.
 */
static void test_failed_flush_is_remembered(void **state)
{
	struct fx *f = *state;
	uint8_t data[VIRTIO_BLK_SECTOR_SIZE];
	int image, p[2];

	driver_start(f);
	memset(data, 0x11, sizeof(data));
	put(f, DATA, data, sizeof(data));
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_OK);

	assert_int_equal(pipe(p), 0);
	image = dup(f->b->fd);
	assert_true(image >= 0);
	assert_int_equal(dup2(p[1], f->b->fd), f->b->fd);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dup2(image, f->b->fd), f->b->fd);
	close(image);
	close(p[0]);
	close(p[1]);

	/* the image syncs again, yet what the failed sync lost stays lost */
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_IOERR);
	memset(data, 0x22, sizeof(data));
	put(f, DATA, data, sizeof(data));
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_sector(f, 0), 0x11);
	assert_int_equal(read_sector(f, 1), 0xaa); /* the refused write never reached the image */

	/* a reset starts the driver afresh */
	driver_start(f);
	put(f, DATA, data, sizeof(data));
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(read_sector(f, 1), 0x22);
}

/*
 * The same for the syncs petrel makes itself: a quiesce (before a snapshot)
 * whose fdatasync fails leaves the device failing writes and flushes.
 */
static void test_failed_quiesce_is_remembered(void **state)
{
	struct fx *f = *state;

	driver_start(f);
	syncs.fail = true;
	assert_int_equal(virtio_blk_quiesce(f->b, 1000), -EIO);
	syncs.fail = false;
	assert_int_equal(virtio_blk_quiesce(f->b, 1000), 0);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0), VIRTIO_BLK_S_IOERR);
	driver_start(f);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_OK);
}

/* A snapshot (or a migration) carries a failed sync to the device restored from it. */
static void test_failed_sync_travels(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_state s;

	driver_start(f);
	virtio_blk_save(f->b, &s);
	assert_int_equal(s.sync_failed, 0);
	syncs.fail = true;
	assert_int_equal(virtio_blk_quiesce(f->b, 1000), -EIO);
	syncs.fail = false;
	virtio_blk_save(f->b, &s);
	assert_int_equal(s.sync_failed, 1);
	assert_null(virtio_blk_state_check(f->b, &s));

	/* the same device, reset, then restored from the state saved */
	driver_start(f);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_OK);
	virtio_blk_restore(f->b, &s);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_IOERR);
	s.sync_failed = 2;
	assert_string_equal(virtio_blk_state_check(f->b, &s), "sync_failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_swap, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_swap_syncs_the_old_image, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_swap_refused, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_swap_completes_requests_in_flight, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_swap_same_file_resized, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_swap_before_the_driver, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_swap_read_only, fx_setup_ro, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_swap_while_the_guest_reads, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_discard_segments_read_once, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_write_zeroes_whole_disk, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_direct_bounce_budget, fx_setup_direct,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_direct_bounce_reset, fx_setup_direct, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_marks_reads_dirty, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_flush_is_remembered, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_quiesce_is_remembered, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_sync_travels, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
