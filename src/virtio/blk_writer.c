// SPDX-License-Identifier: GPL-2.0-only
#include "virtio/blk_writer.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define WRITER_STACK (256u << 10)

/* The whole of @j, retrying short writes; bytes written or -errno. */
static int writer_do(struct blk_writer *w, const struct blk_writer_job *j)
{
	struct iovec iov[BLK_WRITER_MAX_IOV];
	uint64_t off = j->off;
	int n = j->nr_iov, first = 0;
	ssize_t total = 0;

	if (j->flush)
		return fdatasync(w->fd) < 0 ? -errno : 0;
	if (n < 0 || n > BLK_WRITER_MAX_IOV)
		return -EINVAL;
	memcpy(iov, j->iov, (size_t)n * sizeof(*iov));
	while (first < n) {
		ssize_t r =
		    pwritev2(w->fd, iov + first, n - first, (off_t)off, j->dsync ? RWF_DSYNC : 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -EIO;
		total += r;
		off += (uint64_t)r;
		while (r && first < n) {
			size_t k = (size_t)r < iov[first].iov_len ? (size_t)r : iov[first].iov_len;

			iov[first].iov_base = (uint8_t *)iov[first].iov_base + k;
			iov[first].iov_len -= k;
			r -= (ssize_t)k;
			if (!iov[first].iov_len)
				first++;
		}
	}
	return (int)total;
}

static void *writer_thread(void *opaque)
{
	struct blk_writer *w = opaque;
	const uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct blk_writer_job j;

		while (!w->todo_count && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->todo_count)
			break; /* stopping, and nothing left to do */
		j = w->todo[w->todo_first];
		w->todo_first = (w->todo_first + 1) % BLK_WRITER_JOBS;
		w->todo_count--;
		pthread_mutex_unlock(&w->lock);
		j.res = writer_do(w, &j);
		pthread_mutex_lock(&w->lock);
		w->done[w->done_count++] = j;
		if (write(w->efd, &one, sizeof(one)) < 0) {
			/* the counter is saturated: the I/O thread is awake anyway */
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int blk_writer_start(struct blk_writer *w, int fd, int efd)
{
	pthread_attr_t attr;
	int ret;

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->efd = efd;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	ret = pthread_attr_init(&attr);
	if (ret)
		return -ret;
	ret = pthread_attr_setstacksize(&attr, WRITER_STACK);
	if (!ret)
		ret = pthread_create(&w->thread, &attr, writer_thread, w);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	pthread_setname_np(w->thread, "blk-writer");
	w->started = true;
	return 0;
}

void blk_writer_stop(struct blk_writer *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->started = false;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

int blk_writer_push(struct blk_writer *w, uint16_t id, bool flush, const struct iovec *iov,
		    int nr_iov, uint64_t off, bool dsync)
{
	struct blk_writer_job *j;

	pthread_mutex_lock(&w->lock);
	if (w->inflight == BLK_WRITER_JOBS) {
		pthread_mutex_unlock(&w->lock);
		return -EBUSY;
	}
	j = &w->todo[(w->todo_first + w->todo_count) % BLK_WRITER_JOBS];
	*j = (struct blk_writer_job){
	    .id = id, .flush = flush, .dsync = dsync, .nr_iov = nr_iov, .iov = iov, .off = off};
	w->todo_count++;
	w->inflight++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

unsigned int blk_writer_reap(struct blk_writer *w, struct blk_writer_job *out, unsigned int max)
{
	unsigned int n;

	if (!w->started)
		return 0;
	pthread_mutex_lock(&w->lock);
	n = w->done_count < max ? w->done_count : max;
	memcpy(out, w->done, n * sizeof(*out));
	memmove(w->done, w->done + n, (w->done_count - n) * sizeof(*out));
	w->done_count -= n;
	w->inflight -= n;
	pthread_mutex_unlock(&w->lock);
	return n;
}
