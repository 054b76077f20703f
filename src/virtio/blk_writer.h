/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The writes and flushes of a buffered disk image, done in order by a thread
 * of their own with pwritev2/fdatasync. io_uring cannot write to a buffered
 * file without blocking on most file systems, so it hands each such write to
 * a kernel worker; a thread of ours does the same job at a fraction of the
 * cost. Reads stay on io_uring (page-cache hits complete inline).
 * Finished jobs are collected by the I/O thread after the eventfd fires.
 */
#ifndef PETREL_VIRTIO_BLK_WRITER_H
#define PETREL_VIRTIO_BLK_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLK_WRITER_JOBS 256
#define BLK_WRITER_MAX_IOV 256

struct blk_writer_job {
	uint16_t id; /* the caller's: which request */
	bool flush;  /* fdatasync instead of a write */
	bool dsync;  /* write-through (RWF_DSYNC) */
	int nr_iov;
	const struct iovec *iov; /* the caller's, untouched until the job is reaped */
	uint64_t off;
	int res; /* bytes written, or -errno */
};

struct blk_writer {
	int fd;	 /* the image */
	int efd; /* written after each finished job */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	/* FIFO of queued jobs, then a list of finished ones */
	struct blk_writer_job todo[BLK_WRITER_JOBS];
	unsigned int todo_first, todo_count;
	struct blk_writer_job done[BLK_WRITER_JOBS];
	unsigned int done_count;
	unsigned int inflight; /* queued + running + finished, not yet reaped */
};

int blk_writer_start(struct blk_writer *w, int fd, int efd);
/* Let the queued jobs finish, then end the thread. Safe on a zeroed struct. */
void blk_writer_stop(struct blk_writer *w);
/*
 * Queue a write of @iov at @off, or a flush (@flush, no iov); done in the
 * order queued. -EBUSY when BLK_WRITER_JOBS are in flight.
 */
int blk_writer_push(struct blk_writer *w, uint16_t id, bool flush, const struct iovec *iov,
		    int nr_iov, uint64_t off, bool dsync);
/* Move up to @max finished jobs into @out; returns how many. */
unsigned int blk_writer_reap(struct blk_writer *w, struct blk_writer_job *out, unsigned int max);

#endif
