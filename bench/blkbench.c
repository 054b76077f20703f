/*
 * blkbench: a small disk benchmark for a block device or a file, the same
 * binary on the host and inside a guest (it is linked statically so that a
 * busybox initramfs can run it).
 *
 *   blkbench [-s SIZE] [-t SECONDS] [-q DEPTH] [-T TESTS] TARGET
 *
 * Tests, in this order (TESTS is a comma-separated subset):
 *   seq-write   1 MiB writes from offset 0, then fdatasync
 *   seq-read    1 MiB reads from offset 0
 *   rand-qd1    4 KiB reads at random aligned offsets, one at a time (pread)
 *   rand-qd32   4 KiB random reads with DEPTH (default 32) in flight (io_uring)
 * A sequential pass covers SIZE bytes (default 128M, at most the target's size)
 * or stops after SECONDS (default 5), whichever comes first; the random tests
 * run for SECONDS over the whole target.
 *
 * The target is opened with O_DIRECT; where it refuses, blkbench falls back to
 * buffered I/O and says so. Every result is one line:
 *   blkbench seq-write-MBps 123.4          (MB = 10^6 bytes)
 *   blkbench rand-read-qd1-IOPS 4567
 * plus "blkbench info ..." lines that describe the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK (1u << 20)
#define RAND_BLOCK 4096u
#define ALIGN 4096u
#define MAX_DEPTH 256

struct bench {
	const char *path;
	int fd;
	bool direct;
	uint64_t dev_size; /* bytes, a multiple of RAND_BLOCK */
	uint64_t seq_size; /* bytes per sequential pass, a multiple of SEQ_BLOCK */
	double seconds;
	unsigned depth;
	uint64_t rng;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "blkbench: %s: %s\n", what, strerror(err));
	printf("blkbench error %s: %s\n", what, strerror(err));
	exit(1);
}

/* xorshift64*: cheap and good enough to spread offsets. */
static uint64_t next_rand(struct bench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545F4914F6CDD1DULL;
}

static off_t rand_offset(struct bench *b)
{
	return (off_t)((next_rand(b) % (b->dev_size / RAND_BLOCK)) * RAND_BLOCK);
}

static void *aligned_buf(size_t size)
{
	void *p = NULL;
	int ret = posix_memalign(&p, ALIGN, size);

	if (ret)
		die("posix_memalign", ret);
	return p;
}

static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

static void open_target(struct bench *b, bool want_write)
{
	int flags = (want_write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	struct stat st;
	uint64_t size = 0;

	b->fd = open(b->path, flags | O_DIRECT);
	b->direct = b->fd >= 0;
	if (b->fd < 0) {
		int err = errno;

		b->fd = open(b->path, flags);
		if (b->fd < 0)
			die(b->path, errno);
		printf("blkbench info buffered-io O_DIRECT refused (%s)\n", strerror(err));
	}
	if (fstat(b->fd, &st) < 0)
		die("fstat", errno);
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &size) < 0)
			die("BLKGETSIZE64", errno);
	} else {
		size = (uint64_t)st.st_size;
	}
	b->dev_size = size / RAND_BLOCK * RAND_BLOCK;
	if (b->dev_size < SEQ_BLOCK) {
		fprintf(stderr, "blkbench: %s: %" PRIu64 " bytes, need at least 1 MiB\n", b->path,
			size);
		exit(1);
	}
	if (b->seq_size > b->dev_size)
		b->seq_size = b->dev_size;
	b->seq_size = b->seq_size / SEQ_BLOCK * SEQ_BLOCK;
	printf("blkbench info target %s bytes %" PRIu64 " direct %d seq-bytes %" PRIu64
	       " seconds %.1f depth %u\n",
	       b->path, b->dev_size, b->direct ? 1 : 0, b->seq_size, b->seconds, b->depth);
	fflush(stdout);
}

static void report(const char *name, double value, const char *fmt)
{
	printf("blkbench %s ", name);
	printf(fmt, value);
	printf("\n");
	fflush(stdout);
}

static void seq_pass(struct bench *b, bool write)
{
	unsigned char *buf = aligned_buf(SEQ_BLOCK);
	uint64_t off = 0;
	double t0, t;

	memset(buf, 0xa5, SEQ_BLOCK);
	t0 = now();
	while (off < b->seq_size) {
		ssize_t n = write ? pwrite(b->fd, buf, SEQ_BLOCK, (off_t)off)
				  : pread(b->fd, buf, SEQ_BLOCK, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(write ? "pwrite" : "pread", errno);
		}
		if (n == 0)
			break;
		off += (uint64_t)n;
		if (now() - t0 >= b->seconds)
			break;
	}
	if (write && fdatasync(b->fd) < 0)
		die("fdatasync", errno);
	t = now() - t0;
	free(buf);
	report(write ? "seq-write-MBps" : "seq-read-MBps", (double)off / t / 1e6, "%.1f");
}

static void rand_qd1(struct bench *b)
{
	unsigned char *buf = aligned_buf(RAND_BLOCK);
	uint64_t ios = 0;
	double t0 = now(), t;

	do {
		ssize_t n = pread(b->fd, buf, RAND_BLOCK, rand_offset(b));

		if (n < 0 && errno != EINTR)
			die("pread", errno);
		if (n == (ssize_t)RAND_BLOCK)
			ios++;
		t = now() - t0;
	} while (t < b->seconds);
	free(buf);
	report("rand-read-qd1-IOPS", (double)ios / t, "%.0f");
	report("rand-read-qd1-lat-us", t / (double)(ios ? ios : 1) * 1e6, "%.1f");
}

static void queue_read(struct io_uring *ring, struct bench *b, unsigned char *buf, unsigned slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	/* The ring has as many entries as there are slots in flight. */
	if (!sqe)
		die("io_uring_get_sqe", EBUSY);
	io_uring_prep_read(sqe, b->fd, buf + (size_t)slot * RAND_BLOCK, RAND_BLOCK,
			   (uint64_t)rand_offset(b));
	io_uring_sqe_set_data64(sqe, slot);
}

static void rand_qdn(struct bench *b)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	unsigned char *buf = aligned_buf((size_t)b->depth * RAND_BLOCK);
	unsigned i, inflight = 0;
	uint64_t ios = 0;
	bool stop = false;
	double t0, t = 0;
	char name[64];
	int ret;

	ret = io_uring_queue_init(b->depth, &ring, 0);
	if (ret < 0)
		die("io_uring_queue_init", -ret);
	t0 = now();
	for (i = 0; i < b->depth; i++)
		queue_read(&ring, b, buf, i);
	inflight = b->depth;
	while (inflight) {
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR)
			die("io_uring_submit_and_wait", -ret);
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			unsigned slot = (unsigned)io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&ring, cqe);
			inflight--;
			if (res < 0)
				die("io_uring read", -res);
			if (res == (int)RAND_BLOCK)
				ios++;
			if (!stop) {
				queue_read(&ring, b, buf, slot);
				inflight++;
			}
		}
		if (!stop) {
			t = now() - t0;
			stop = t >= b->seconds;
		}
	}
	/* Count the time to drain too: those reads are in ios. */
	t = now() - t0;
	io_uring_queue_exit(&ring);
	free(buf);
	snprintf(name, sizeof(name), "rand-read-qd%u-IOPS", b->depth);
	report(name, (double)ios / t, "%.0f");
}

static bool wanted(const char *tests, const char *name)
{
	size_t n = strlen(name);
	const char *p = tests;

	while ((p = strstr(p, name))) {
		if ((p == tests || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
		p += n;
	}
	return false;
}

static void usage(void)
{
	fprintf(stderr, "usage: blkbench [-s SIZE] [-t SECONDS] [-q DEPTH] [-T TESTS] TARGET\n"
			"  TESTS: comma-separated of seq-write,seq-read,rand-qd1,rand-qd32\n"
			"         (rand-qd32 means the -q depth; default: all)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench b = {.seq_size = 128u << 20, .seconds = 5, .depth = 32};
	const char *tests = "seq-write,seq-read,rand-qd1,rand-qd32";
	int c;

	while ((c = getopt(argc, argv, "s:t:q:T:")) != -1) {
		switch (c) {
		case 's':
			if (!parse_size(optarg, &b.seq_size) || b.seq_size < SEQ_BLOCK)
				usage();
			break;
		case 't':
			b.seconds = atof(optarg);
			if (b.seconds <= 0)
				usage();
			break;
		case 'q':
			b.depth = (unsigned)atoi(optarg);
			if (b.depth < 1 || b.depth > MAX_DEPTH)
				usage();
			break;
		case 'T':
			tests = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	b.path = argv[optind];
	b.rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;

	open_target(&b, wanted(tests, "seq-write"));
	if (wanted(tests, "seq-write"))
		seq_pass(&b, true);
	if (wanted(tests, "seq-read"))
		seq_pass(&b, false);
	if (wanted(tests, "rand-qd1"))
		rand_qd1(&b);
	if (wanted(tests, "rand-qd32"))
		rand_qdn(&b);
	close(b.fd);
	printf("blkbench done\n");
	return 0;
}
