/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Split virtqueue, device side (virtio 1.2, section 2.7): popping descriptor
 * chains from the available ring, completing them into the used ring and
 * notification suppression. Every value read from the guest is checked.
 */
#ifndef PETREL_VIRTIO_VIRTQ_H
#define PETREL_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

/* Largest queue size of a split virtqueue. */
#define VIRTQ_MAX_SIZE 32768
/* Most segments one request may have (descriptors, after splitting). */
#define VIRTQ_MAX_SEGS 1024
/* Cap on the total byte length of one chain. */
#define VIRTQ_MAX_CHAIN_BYTES (256u << 20)

/* Descriptor flags. */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

/* Ring flags. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Feature bits this module cares about. */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29

/* Guest layout (little endian) of a descriptor: 16 bytes. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Guest layout of a used ring element: 8 bytes. */
struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Byte sizes of the three areas for a queue of @size entries. */
#define VIRTQ_DESC_BYTES(size) (16ULL * (size))
#define VIRTQ_AVAIL_BYTES(size) (6ULL + 2ULL * (size))
#define VIRTQ_USED_BYTES(size) (6ULL + 8ULL * (size))

struct virtq {
	uint16_t size; /* power of two, 1..32768; 0 when not set up */
	bool ready;
	bool event_idx;	      /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;	      /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool broken;	      /* the driver gave something invalid: needs reset */
	bool notify_disabled; /* device asked the driver not to kick */
	bool signalled_valid; /* signalled_used is meaningful */
	uint64_t desc;	      /* guest-physical addresses of the three areas */
	uint64_t avail;
	uint64_t used;
	uint16_t last_avail_idx; /* next avail ring slot the device reads */
	uint16_t used_idx;	 /* device's copy of used->idx */
	uint16_t signalled_used; /* used_idx at the last notification decision */
	/*
	 * While pop_limited, virtq_pop takes at most pop_budget more chains
	 * and then reports the ring empty. The transport sets it around one
	 * round of device work, so a driver refilling the ring as fast as it
	 * is taken cannot hold the I/O thread. Not guest state: never saved.
	 */
	bool pop_limited;
	uint32_t pop_budget;
	struct guest_mem *gm;
	/* host views of the areas, resolved (and checked) by virtq_setup */
	uint8_t *desc_hva;
	uint8_t *avail_hva;
	uint8_t *used_hva;
};

/* One guest buffer, contiguous in host memory. */
struct virtq_seg {
	void *hva;
	uint32_t len;
	bool write; /* device writes it (driver <- device) */
	uint64_t gpa;
};

/*
 * One popped descriptor chain: readable segments first (segs[0..nr_readable)),
 * then writable ones (segs[nr_readable..nr_readable + nr_writable)).
 */
struct virtq_req {
	uint16_t head;
	unsigned int nr_readable;
	unsigned int nr_writable;
	uint32_t read_len;  /* total bytes of the readable segments */
	uint32_t write_len; /* total bytes of the writable segments */
	struct virtq_seg segs[VIRTQ_MAX_SEGS];
};

/* Everything needed to resume a queue after migration or snapshot. */
struct virtq_state {
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
	uint16_t size;
	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used;
	uint8_t ready;
	uint8_t event_idx;
	uint8_t indirect;
	uint8_t broken;
	uint8_t notify_disabled;
	uint8_t signalled_valid;
	uint8_t pad[10]; /* to 48 bytes, no implicit padding */
};

/*
 * Check and enable a queue: @size a power of two <= 32768, @desc 16-aligned,
 * @avail 2-aligned, @used 4-aligned (-EINVAL), each area wholly inside one
 * RAM region (-EFAULT). Indices start at 0. @gm must outlive the queue.
 */
int virtq_setup(struct virtq *q, struct guest_mem *gm, uint16_t size, uint64_t desc, uint64_t avail,
		uint64_t used, bool event_idx, bool indirect);
/* Forget everything: not ready, not broken, indices 0. */
void virtq_reset(struct virtq *q);

/*
 * Take the next available chain: 1 with *req filled, 0 when the ring is
 * empty (or the queue not ready), -errno on a malformed ring or chain, or
 * on a chain beyond the queue size in flight (popped, not yet pushed): the
 * queue is then broken and every later call returns -EIO.
 */
int virtq_pop(struct virtq *q, struct virtq_req *req);
/*
 * Let virtq_pop take at most @chains more chains until virtq_unlimit; then
 * it returns 0 as if the ring were empty (virtq_enable_notify still sees
 * what is left).
 */
void virtq_limit(struct virtq *q, uint32_t chains);
/* Back to no limit; true when the limit was reached (work may be left). */
bool virtq_unlimit(struct virtq *q);
/*
 * Complete @req with @written bytes written into its writable segments:
 * used element, release fence, used idx; marks the used ring and the written
 * bytes dirty. -EINVAL when @written exceeds the writable length or nothing
 * is in flight, -EIO when the queue is broken or not ready.
 */
int virtq_push(struct virtq *q, const struct virtq_req *req, uint32_t written);
/*
 * Like virtq_push for a chain known only by its @head (completed after the
 * virtq_req was reused): the used ring is marked dirty but not the buffers,
 * which the caller marks itself (gm_mark_dirty). -EINVAL when @head is out
 * of range or nothing is in flight, -EIO when the queue is broken or not ready.
 */
int virtq_push_head(struct virtq *q, uint16_t head, uint32_t written);
/*
 * After one or more pushes: does the driver want an interrupt? Uses
 * used_event with EVENT_IDX, else VIRTQ_AVAIL_F_NO_INTERRUPT.
 */
bool virtq_should_notify(struct virtq *q);
/* With EVENT_IDX: write avail_event = last_avail_idx into the used ring. */
void virtq_set_avail_event(struct virtq *q);
/* Ask the driver not to kick while the device is processing. */
void virtq_disable_notify(struct virtq *q);
/*
 * Ask for kicks again; true when buffers arrived meanwhile (the caller must
 * process them, else that work could wait for a kick that never comes).
 */
bool virtq_enable_notify(struct virtq *q);

/*
 * Give back to the available ring the @n chains the device holds, @heads in
 * the order they were popped, as if they had never been popped: the driver
 * sees nothing, and the device pops them again later. Possible only when
 * they are all that is in flight and the last @n popped: -EBUSY otherwise
 * (nothing changes; the caller completes them instead).
 */
int virtq_unpop(struct virtq *q, const uint16_t *heads, unsigned int n);

void virtq_save(const struct virtq *q, struct virtq_state *s);
/* Restore from @s; a ready queue is checked like virtq_setup. */
int virtq_restore(struct virtq *q, struct guest_mem *gm, const struct virtq_state *s);

#endif
