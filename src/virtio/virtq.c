// SPDX-License-Identifier: GPL-2.0-only
/*
 * Split virtqueue, device side. The rings live in guest RAM and the driver
 * may change them at any time, so each guest value is read once into a
 * local, then checked, then used.
 *
 * A buffer that crosses from one RAM region into an adjacent one is split
 * into one segment per region (each segment is contiguous in host memory).
 * Zero-length descriptors are accepted and yield no segment.
 */
#include "virtio/virtq.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "mem/guest_mem.h"

/* Offsets inside the available and used rings. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING(i) (4 + 2 * (uint64_t)(i))
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING(i) (4 + 8 * (uint64_t)(i))

/* Ring fields are naturally aligned (checked by virtq_setup). */
static uint16_t ring_ld16(const uint8_t *p)
{
	uint16_t v = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);

	gm_race_point(p, 2);
	return le16toh(v);
}

static void ring_st16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static void ring_st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

/*
 * Copy descriptor @i of @table once; the compiler barrier keeps it from
 * reading guest memory again in place of the local copy.
 */
static void desc_fetch(const uint8_t *table, uint32_t i, struct virtq_desc *d)
{
	struct virtq_desc raw;

	gm_load(&raw, table + 16 * (uint64_t)i, sizeof(raw));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
}

/* Host pointer of a whole area, or NULL when it is not inside one region. */
static uint8_t *area_ptr(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	return gm_ptr(gm, gpa, len);
}

static int check_layout(struct guest_mem *gm, uint16_t size, uint64_t desc, uint64_t avail,
			uint64_t used, uint8_t **dp, uint8_t **ap, uint8_t **up)
{
	if (!gm || !size || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	*dp = area_ptr(gm, desc, VIRTQ_DESC_BYTES(size));
	*ap = area_ptr(gm, avail, VIRTQ_AVAIL_BYTES(size));
	*up = area_ptr(gm, used, VIRTQ_USED_BYTES(size));
	if (!*dp || !*ap || !*up)
		return -EFAULT;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

void virtq_limit(struct virtq *q, uint32_t chains)
{
	q->pop_limited = true;
	q->pop_budget = chains;
}

bool virtq_unlimit(struct virtq *q)
{
	bool reached = q->pop_limited && !q->pop_budget;

	q->pop_limited = false;
	q->pop_budget = 0;
	return reached;
}

int virtq_setup(struct virtq *q, struct guest_mem *gm, uint16_t size, uint64_t desc, uint64_t avail,
		uint64_t used, bool event_idx, bool indirect)
{
	uint8_t *dp, *ap, *up;
	int ret;

	ret = check_layout(gm, size, desc, avail, used, &dp, &ap, &up);
	if (ret)
		return ret;
	virtq_reset(q);
	q->gm = gm;
	q->size = size;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->desc_hva = dp;
	q->avail_hva = ap;
	q->used_hva = up;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->signalled_valid = true;
	q->ready = true;
	return 0;
}

static int broken(struct virtq *q, int err)
{
	q->broken = true;
	return err;
}

/* Append [addr, addr+len) to @req, one segment per RAM region it touches. */
static int add_buffer(struct virtq *q, struct virtq_req *req, const struct virtq_desc *d,
		      uint64_t *total)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	uint64_t gpa = d->addr;
	uint64_t len = d->len;

	if (!write && req->nr_writable)
		return -EINVAL; /* readable after writable */
	if (!len)
		return 0;
	if (gpa + len < gpa)
		return -EFAULT;
	*total += len;
	if (*total > VIRTQ_MAX_CHAIN_BYTES)
		return -E2BIG;
	while (len) {
		const struct gm_region *r = gm_region_of(q->gm, gpa, 1);
		unsigned int n = req->nr_readable + req->nr_writable;
		struct virtq_seg *s;
		uint64_t chunk;

		if (!r)
			return -EFAULT;
		chunk = r->size - (gpa - r->gpa);
		if (chunk > len)
			chunk = len;
		if (n == VIRTQ_MAX_SEGS)
			return -E2BIG;
		s = &req->segs[n];
		s->hva = gm_ptr(q->gm, gpa, chunk);
		if (!s->hva)
			return -EFAULT;
		s->len = (uint32_t)chunk;
		s->write = write;
		s->gpa = gpa;
		if (write) {
			req->nr_writable++;
			req->write_len += (uint32_t)chunk;
		} else {
			req->nr_readable++;
			req->read_len += (uint32_t)chunk;
		}
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

/* Walk the chain starting at @head, following at most one indirect table. */
static int walk_chain(struct virtq *q, uint16_t head, struct virtq_req *req)
{
	const uint8_t *table = q->desc_hva;
	uint32_t table_len = q->size;
	uint32_t visits = 0;
	uint32_t i = head;
	bool in_indirect = false;
	uint64_t total = 0;
	struct virtq_desc d;
	int ret;

	for (;;) {
		/* a chain visits each descriptor of its table at most once */
		if (++visits > table_len)
			return -ELOOP;
		if (in_indirect && visits > VIRTQ_MAX_SEGS)
			return -E2BIG;
		desc_fetch(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!q->indirect || in_indirect || (d.flags & VIRTQ_DESC_F_NEXT))
				return -EINVAL;
			if (!d.len || d.len % sizeof(struct virtq_desc))
				return -EINVAL;
			table = gm_ptr(q->gm, d.addr, d.len);
			if (!table)
				return -EFAULT;
			table_len = d.len / sizeof(struct virtq_desc);
			visits = 0;
			in_indirect = true;
			i = 0;
			continue;
		}
		ret = add_buffer(q, req, &d, &total);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= table_len)
			return -EINVAL;
	}
}

int virtq_pop(struct virtq *q, struct virtq_req *req)
{
	uint16_t avail_idx, pending, head;
	int ret;

	if (q->broken)
		return -EIO;
	if (!q->ready || (q->pop_limited && !q->pop_budget))
		return 0;
	avail_idx = ring_ld16(q->avail_hva + AVAIL_IDX);
	pending = (uint16_t)(avail_idx - q->last_avail_idx);
	if (!pending)
		return 0;
	if (pending > q->size)
		return broken(q, -EINVAL);
	/*
	 * The driver has size descriptors: a chain more than that in flight
	 * reuses one the device still holds (and a saved queue in that state
	 * would not restore).
	 */
	if ((uint16_t)(q->last_avail_idx - q->used_idx) >= q->size)
		return broken(q, -EINVAL);
	/* the ring entry and descriptors were written before avail->idx */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = ring_ld16(q->avail_hva + AVAIL_RING(q->last_avail_idx & (q->size - 1)));
	if (head >= q->size)
		return broken(q, -EINVAL);

	req->head = head;
	req->nr_readable = 0;
	req->nr_writable = 0;
	req->read_len = 0;
	req->write_len = 0;
	ret = walk_chain(q, head, req);
	if (ret)
		return broken(q, ret);
	q->last_avail_idx++;
	if (q->pop_limited)
		q->pop_budget--;
	return 1;
}

/* Mark the first @written bytes of the writable segments dirty. */
static void mark_written(struct virtq *q, const struct virtq_req *req, uint32_t written)
{
	unsigned int i;

	for (i = req->nr_readable; written && i < req->nr_readable + req->nr_writable; i++) {
		uint32_t n = req->segs[i].len < written ? req->segs[i].len : written;

		gm_mark_dirty(q->gm, req->segs[i].gpa, n);
		written -= n;
	}
}

int virtq_push(struct virtq *q, const struct virtq_req *req, uint32_t written)
{
	uint64_t off;

	if (q->broken || !q->ready)
		return -EIO;
	if (req->head >= q->size || written > req->write_len ||
	    req->nr_readable + req->nr_writable > VIRTQ_MAX_SEGS)
		return -EINVAL;
	if (q->last_avail_idx == q->used_idx)
		return -EINVAL; /* nothing in flight */
	mark_written(q, req, written);

	off = USED_RING(q->used_idx & (q->size - 1));
	ring_st32(q->used_hva + off, req->head);
	ring_st32(q->used_hva + off + 4, written);
	gm_mark_dirty(q->gm, q->used + off, sizeof(struct virtq_used_elem));
	/* the element (and the buffer contents) before the index */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->used_idx++;
	/* 65536 pushes without a notification decision: the window is lost */
	if (q->used_idx == q->signalled_used)
		q->signalled_valid = false;
	ring_st16(q->used_hva + USED_IDX, q->used_idx);
	gm_mark_dirty(q->gm, q->used + USED_IDX, 2);
	return 0;
}

int virtq_push_head(struct virtq *q, uint16_t head, uint32_t written)
{
	uint64_t off;

	if (q->broken || !q->ready)
		return -EIO;
	if (head >= q->size || q->last_avail_idx == q->used_idx)
		return -EINVAL;
	off = USED_RING(q->used_idx & (q->size - 1));
	ring_st32(q->used_hva + off, head);
	ring_st32(q->used_hva + off + 4, written);
	gm_mark_dirty(q->gm, q->used + off, sizeof(struct virtq_used_elem));
	/* the element (and the buffer contents) before the index */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->used_idx++;
	if (q->used_idx == q->signalled_used)
		q->signalled_valid = false;
	ring_st16(q->used_hva + USED_IDX, q->used_idx);
	gm_mark_dirty(q->gm, q->used + USED_IDX, 2);
	return 0;
}

/* True when @event lies in the window (old, new] of used indices, mod 2^16. */
static bool event_crossed(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old_idx, event;
	bool valid;

	if (!q->ready || q->broken)
		return false;
	/* used->idx store before reading the driver's suppression fields */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	old_idx = q->signalled_used;
	valid = q->signalled_valid;
	q->signalled_used = q->used_idx;
	q->signalled_valid = true;
	if (valid && old_idx == q->used_idx)
		return false; /* nothing completed since the last decision */
	if (!q->event_idx)
		return !(ring_ld16(q->avail_hva + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	event = ring_ld16(q->avail_hva + AVAIL_RING(q->size));
	return event_crossed(event, q->used_idx, old_idx);
}

void virtq_set_avail_event(struct virtq *q)
{
	uint64_t off;

	if (!q->ready || !q->event_idx)
		return;
	off = USED_RING(q->size);
	ring_st16(q->used_hva + off, q->last_avail_idx);
	gm_mark_dirty(q->gm, q->used + off, 2);
}

static void set_used_flags(struct virtq *q, uint16_t flags)
{
	ring_st16(q->used_hva + USED_FLAGS, flags);
	gm_mark_dirty(q->gm, q->used + USED_FLAGS, 2);
}

void virtq_disable_notify(struct virtq *q)
{
	if (!q->ready || q->notify_disabled)
		return;
	q->notify_disabled = true;
	/* with EVENT_IDX the driver only kicks past avail_event: leave it behind */
	if (!q->event_idx)
		set_used_flags(q, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_enable_notify(struct virtq *q)
{
	if (!q->ready || q->broken)
		return false;
	q->notify_disabled = false;
	if (q->event_idx)
		virtq_set_avail_event(q);
	else
		set_used_flags(q, 0);
	/* publish the request for kicks before looking at avail->idx again */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ring_ld16(q->avail_hva + AVAIL_IDX) != q->last_avail_idx;
}

int virtq_unpop(struct virtq *q, const uint16_t *heads, unsigned int n)
{
	uint16_t first = (uint16_t)(q->last_avail_idx - n);
	unsigned int i;

	if (!n)
		return 0;
	if (!q->ready || q->broken || n > q->size ||
	    (uint16_t)(q->last_avail_idx - q->used_idx) != n)
		return -EBUSY;
	/* the driver does not touch ring entries of chains in flight: they still name them */
	for (i = 0; i < n; i++)
		if (ring_ld16(q->avail_hva + AVAIL_RING((uint16_t)(first + i) & (q->size - 1))) !=
		    heads[i])
			return -EBUSY;
	q->last_avail_idx = first;
	return 0;
}

void virtq_save(const struct virtq *q, struct virtq_state *s)
{
	memset(s, 0, sizeof(*s));
	s->desc = q->desc;
	s->avail = q->avail;
	s->used = q->used;
	s->size = q->size;
	s->last_avail_idx = q->last_avail_idx;
	s->used_idx = q->used_idx;
	s->signalled_used = q->signalled_used;
	s->ready = q->ready;
	s->event_idx = q->event_idx;
	s->indirect = q->indirect;
	s->broken = q->broken;
	s->notify_disabled = q->notify_disabled;
	s->signalled_valid = q->signalled_valid;
}

int virtq_restore(struct virtq *q, struct guest_mem *gm, const struct virtq_state *s)
{
	int ret;

	if (s->ready) {
		ret = virtq_setup(q, gm, s->size, s->desc, s->avail, s->used, s->event_idx,
				  s->indirect);
		if (ret) {
			virtq_reset(q);
			return ret;
		}
		if ((uint16_t)(s->last_avail_idx - s->used_idx) > s->size) {
			virtq_reset(q);
			return -EINVAL;
		}
	} else {
		virtq_reset(q);
		q->gm = gm;
		q->size = s->size;
		q->desc = s->desc;
		q->avail = s->avail;
		q->used = s->used;
		q->event_idx = s->event_idx;
		q->indirect = s->indirect;
	}
	q->last_avail_idx = s->last_avail_idx;
	q->used_idx = s->used_idx;
	q->signalled_used = s->signalled_used;
	q->signalled_valid = s->signalled_valid;
	q->notify_disabled = s->notify_disabled;
	q->broken = s->broken;
	return 0;
}
