/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-blk (block device, type 2, virtio 1.2 section 5.2) backed by a raw
 * image file or block device. Reads, writes and flushes go through io_uring,
 * many in flight; discard and write-zeroes are done synchronously.
 */
#ifndef PETREL_VIRTIO_VIRTIO_BLK_H
#define PETREL_VIRTIO_VIRTIO_BLK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/virtio_pci.h"

struct io_uring;

/* Feature bits (section 5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status values. */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* Flag of a discard / write-zeroes segment. */
#define VIRTIO_BLK_WZ_F_UNMAP 1

#define VIRTIO_BLK_SECTOR_SIZE 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_QUEUE_SIZE 256
/* Most data buffers (after splitting at RAM region ends) of one read/write. */
#define VIRTIO_BLK_MAX_IOV 256
#define VIRTIO_BLK_MAX_DISCARD_SEG 16
/*
 * direct=on: buffers the host's alignment rules refuse go through aligned
 * bounce buffers of at most VIRTIO_BLK_BOUNCE_CHUNK bytes each, and a device
 * never holds more than VIRTIO_BLK_BOUNCE_BUDGET bytes of them at once,
 * whatever the guest asks. A longer transfer moves a chunk at a time; a
 * request that finds the budget spent waits (in order) until bounce memory
 * is freed by the ones in flight. No valid request fails for it.
 */
#define VIRTIO_BLK_BOUNCE_CHUNK (1u << 20)
#define VIRTIO_BLK_BOUNCE_BUDGET (8u << 20)

/* What --disk asks for. */
struct virtio_blk_config_opts {
	const char *path;
	bool readonly;
	bool direct;	    /* O_DIRECT: the host's page cache is bypassed */
	const char *serial; /* NULL: none; at most 20 bytes */
	bool unlocked;	    /* not locked until virtio_blk_lock (a migration's destination) */
};

/*
 * Parse "path=FILE[,readonly=on|off][,direct=on|off][,serial=ID]" into *o (path and serial
 * are malloc'ed copies: release them with virtio_blk_opts_free). -EINVAL on
 * an unknown or repeated key, a bad value, an empty or missing path or a
 * serial longer than 20 bytes; -ENOMEM. On error *o is left empty.
 */
int virtio_blk_parse(const char *spec, struct virtio_blk_config_opts *o);
void virtio_blk_opts_free(struct virtio_blk_config_opts *o);

/*
 * Can these buffers go to an O_DIRECT read or write as they are? Each start
 * and length must be a multiple of @align (a power of two); otherwise the
 * transfer goes through an aligned bounce buffer.
 */
static inline bool virtio_blk_iov_aligned(const struct iovec *iov, unsigned int n, uint32_t align)
{
	uintptr_t bits = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		bits |= (uintptr_t)iov[i].iov_base | iov[i].iov_len;
	return !(bits & (align - 1));
}

/* Device configuration layout (little endian), section 5.2.4. */
struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

/* One range of a discard or write-zeroes, as checked. */
struct virtio_blk_dwz_seg {
	uint64_t off; /* bytes */
	uint64_t len;
	bool unmap;
};

/*
 * A discard or write-zeroes in flight: its checked ranges, done one after
 * another through the io_uring (fallocate, the other fallocate mode where
 * the file system lacks the first, then zeroes written), never on the
 * I/O thread itself.
 */
struct virtio_blk_dwz {
	bool zero; /* write-zeroes, else discard */
	uint8_t nseg;
	uint8_t cur;   /* range in progress */
	uint8_t step;  /* of that range (virtio_blk.c) */
	uint64_t done; /* bytes of zeroes written in it */
	struct virtio_blk_dwz_seg seg[VIRTIO_BLK_MAX_DISCARD_SEG];
};

/* One request in flight in the io_uring. */
struct virtio_blk_slot {
	bool busy;
	uint16_t head;
	uint8_t type;
	uint8_t *status; /* host address of the status byte */
	uint64_t status_gpa;
	uint32_t len; /* data bytes expected to move */
	unsigned int nr_iov;
	struct iovec iov[VIRTIO_BLK_MAX_IOV];
	uint64_t gpa[VIRTIO_BLK_MAX_IOV]; /* of each iov, to mark reads dirty */
	/* direct I/O of unaligned buffers: a chunk at a time through a bounce buffer */
	bool bounced;
	bool dsync;	   /* a write with RWF_DSYNC */
	uint64_t offset;   /* of the transfer in the image */
	uint32_t done;	   /* bytes moved so far */
	uint32_t chunk;	   /* bytes of the chunk in flight */
	uint8_t *bounce;   /* while it holds bounce memory, else NULL */
	size_t bounce_len; /* bytes of it, counted in bounce_bytes */
	struct iovec bounce_iov;
	struct virtio_blk_dwz dwz; /* a discard or write-zeroes */
};

struct virtio_blk {
	struct virtio_pci vp;
	bool initialized;
	int fd;	 /* the image */
	int efd; /* signalled on io_uring completions */
	char *path;
	bool readonly;
	bool unlocked;		/* the image is open but not locked (handed over by a migration) */
	bool direct;		/* opened O_DIRECT */
	uint32_t dio_mem_align; /* direct: buffer address and length alignment */
	uint32_t dio_offset_align;	  /* direct: file offset alignment (the block size) */
	char serial[VIRTIO_BLK_ID_BYTES]; /* NUL-padded */
	uint64_t size;			  /* bytes */
	uint64_t capacity;		  /* sectors */
	struct virtio_blk_config cfg;
	struct io_uring *ring;
	struct virtio_blk_slot *slots; /* VIRTIO_BLK_QUEUE_SIZE of them */
	uint16_t *free_slots;	       /* stack of free slot indices */
	unsigned int nr_free;
	pthread_mutex_t backing_lock; /* serialises virtio_blk_set_backing */
	bool vp_inited;		      /* virtio_pci_init was called */
	bool watched;		      /* efd is watched by the I/O thread */
	/* direct I/O bounce buffers: at most VIRTIO_BLK_BOUNCE_BUDGET bytes at once */
	uint64_t bounce_bytes;			     /* allocated now */
	uint64_t bounce_peak;			     /* most ever allocated at once */
	uint16_t bounce_wait[VIRTIO_BLK_QUEUE_SIZE]; /* FIFO of slots waiting for budget */
	unsigned int wait_head, nr_wait;
	/*
	 * A sync of the image failed (a FLUSH, a write-through write, the sync
	 * ending a discard or write-zeroes, a quiesce, a handover): the host reports a
	 * write-back error to one sync only (Linux's errseq), so a later sync
	 * that succeeds says nothing of the writes that were lost. From then on
	 * every write, flush, discard and write-zeroes fails with
	 * VIRTIO_BLK_S_IOERR (reads go on) until the driver resets the device,
	 * so the guest never hears that data is on disk when it may not be.
	 */
	bool sync_failed;
	/* stats */
	uint64_t reads, writes, flushes, errors;
};

/*
 * Open o->path (read-only when o->readonly) and lock it against other
 * users, set up the io_uring and the virtio-pci function. Errors are
 * explained on stderr in one line naming the file ("...: in use by another
 * process" when locked). virtio_blk_destroy is safe after a failed init and
 * on a zeroed struct. Call virtio_pci_plugged(&b->vp, gsi) after plugging.
 */
int virtio_blk_init(struct virtio_blk *b, const struct virtio_blk_config_opts *o,
		    struct guest_mem *gm, const struct platform *p, const struct virtio_io *io);
/* Wait for in-flight requests, then release everything. */
void virtio_blk_destroy(struct virtio_blk *b);

/* How long virtio_blk_set_backing waits for the requests in flight. */
#define VIRTIO_BLK_SWAP_DRAIN_MS 5000

/*
 * Put the image at @path behind the running device (a drive's host file
 * changed after boot). The new file is opened as the old one was (read-only
 * when the device is, O_DIRECT when it is) and locked against other users
 * first: when that fails, or the new file's direct I/O needs blocks larger
 * than the guest was shown, nothing changes and it returns -errno with one
 * line on stderr naming @path. Then the requests in flight on the old file
 * complete to the driver (waited for at most VIRTIO_BLK_SWAP_DRAIN_MS;
 * -ETIMEDOUT leaves the old file in place) and a writable old file is synced
 * (a later FLUSH covers the writes completed on it but syncs only the new
 * file; a failed sync leaves the old file in place), the device switches to
 * the new file, the capacity in the configuration space follows its size, and the
 * configuration generation changes with a configuration-change interrupt
 * (ISR bit 1, or the MSI-X configuration vector) when the driver is running;
 * the old file is closed, which releases its lock. @path naming the file
 * already in use re-reads its size (after the host resized it), keeping the
 * lock. The features, the serial and the block size are as they were.
 *
 * Any thread may call it while the guest runs (the API thread): it holds
 * the transport's lock (vp.lock) from the drain to the switch, so every
 * request is served by the old file or the new one, never a mix, and the
 * driver reads the old configuration or the new; meanwhile this device's
 * register accesses and doorbell handling wait (the drain's bound). Calls
 * are serialised among themselves (backing_lock). The caller must hold no
 * lock of the device, and must not call it during or after
 * virtio_blk_destroy; on a device not set up it returns -EINVAL.
 */
int virtio_blk_set_backing(struct virtio_blk *b, const char *path);

/* What the guest was shown of the disk, saved to be checked on restore. */
struct virtio_blk_state {
	uint64_t capacity; /* sectors */
	uint32_t blk_size;
	uint8_t readonly;
	uint8_t sync_failed; /* 1: writes and flushes fail until a reset (0 in older files) */
	uint8_t pad[2];
};

/*
 * A migration hands a disk from one petrel to another on this host: the
 * source syncs the image and lets go of its lock (virtio_blk_unlock; after
 * virtio_blk_quiesce, the guest paused), the destination takes it
 * (virtio_blk_lock: -EWOULDBLOCK when another process holds it). A failed
 * migration's source takes it back the same way. -errno on failure.
 */
int virtio_blk_unlock(struct virtio_blk *b);
int virtio_blk_lock(struct virtio_blk *b);

/*
 * Before a save (device work held): the requests in flight complete to the
 * driver (waited for at most @ms: -ETIMEDOUT, -EIO when waiting failed) and
 * a writable image is synced, so the image matches the guest's memory.
 */
int virtio_blk_quiesce(struct virtio_blk *b, unsigned int ms);
void virtio_blk_save(struct virtio_blk *b, struct virtio_blk_state *s);
/* NULL, or the field this disk disagrees with (another image, another size) or a bad value. */
const char *virtio_blk_state_check(const struct virtio_blk *b, const struct virtio_blk_state *s);
/* After a check: a failed sync is remembered across a snapshot or a migration too. */
void virtio_blk_restore(struct virtio_blk *b, const struct virtio_blk_state *s);

#endif
