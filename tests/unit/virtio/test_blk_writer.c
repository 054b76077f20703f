// SPDX-License-Identifier: GPL-2.0-only
/* The disk writer thread: order, results, flushes, errors, stopping with work queued. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "virtio/blk_writer.h"

struct fixture {
	struct blk_writer w;
	int fd, efd;
	char path[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->path, "/tmp/petrel-blk-writer.XXXXXX");
	f->fd = mkstemp(f->path);
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(f->fd >= 0 && f->efd >= 0);
	assert_int_equal(blk_writer_start(&f->w, f->fd, f->efd), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	blk_writer_stop(&f->w);
	close(f->fd);
	close(f->efd);
	unlink(f->path);
	free(f);
	return 0;
}

/* Reap until @n jobs came back, waiting on the eventfd. */
static unsigned int reap_all(struct fixture *f, struct blk_writer_job *out, unsigned int n)
{
	unsigned int got = 0;

	while (got < n) {
		struct pollfd p = {.fd = f->efd, .events = POLLIN};
		uint64_t cnt;

		got += blk_writer_reap(&f->w, out + got, n - got);
		if (got == n)
			break;
		assert_int_equal(poll(&p, 1, 5000), 1);
		assert_int_equal(read(f->efd, &cnt, sizeof(cnt)), sizeof(cnt));
	}
	return got;
}

static void test_writes_in_order_then_flush(void **state)
{
	struct fixture *f = *state;
	char a[4096], b[4096], back[8192];
	struct iovec first[2] = {{a, 1000}, {a + 1000, 3096}};
	struct iovec second = {b, 4096};
	struct blk_writer_job done[3];

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	/* the second write overlaps the first: order decides what stays */
	assert_int_equal(blk_writer_push(&f->w, 7, false, first, 2, 0, false), 0);
	assert_int_equal(blk_writer_push(&f->w, 9, false, &second, 1, 2048, true), 0);
	assert_int_equal(blk_writer_push(&f->w, 11, true, NULL, 0, 0, false), 0);
	assert_int_equal(reap_all(f, done, 3), 3);
	assert_int_equal(done[0].id, 7);
	assert_int_equal(done[0].res, 4096);
	assert_int_equal(done[1].id, 9);
	assert_int_equal(done[1].res, 4096);
	assert_int_equal(done[2].id, 11);
	assert_true(done[2].flush);
	assert_int_equal(done[2].res, 0);
	assert_int_equal(pread(f->fd, back, sizeof(back), 0), 6144);
	assert_memory_equal(back, a, 2048);
	assert_memory_equal(back + 2048, b, 4096);
	assert_int_equal(blk_writer_reap(&f->w, done, 3), 0);
}

static void test_errors_and_limits(void **state)
{
	struct fixture *f = *state;
	struct blk_writer_job done[1];
	char c = 'x';
	struct iovec one = {&c, 1};
	unsigned int i;

	/* an offset no file can have: the error comes back, not success */
	assert_int_equal(blk_writer_push(&f->w, 1, false, &one, 1, 1ULL << 62, false), 0);
	assert_int_equal(reap_all(f, done, 1), 1);
	assert_true(done[0].res < 0);
	/* at most BLK_WRITER_JOBS in flight, reaped or not */
	for (i = 0; i < BLK_WRITER_JOBS; i++)
		assert_int_equal(blk_writer_push(&f->w, (uint16_t)i, true, NULL, 0, 0, false), 0);
	assert_int_equal(blk_writer_push(&f->w, 0, true, NULL, 0, 0, false), -EBUSY);
	for (i = 0; i < BLK_WRITER_JOBS; i++)
		assert_int_equal(reap_all(f, done, 1), 1);
	assert_int_equal(blk_writer_push(&f->w, 0, true, NULL, 0, 0, false), 0);
	assert_int_equal(reap_all(f, done, 1), 1);
}

static void test_stop_finishes_queued_work(void **state)
{
	struct fixture *f = *state;
	static char big[1 << 20];
	struct iovec v = {big, sizeof(big)};
	unsigned int i;

	memset(big, 'z', sizeof(big));
	for (i = 0; i < 8; i++)
		assert_int_equal(
		    blk_writer_push(&f->w, (uint16_t)i, false, &v, 1, (uint64_t)i << 20, false), 0);
	blk_writer_stop(&f->w);
	assert_int_equal(lseek(f->fd, 0, SEEK_END), 8 << 20);
	blk_writer_stop(&f->w); /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_writes_in_order_then_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_and_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_finishes_queued_work, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
