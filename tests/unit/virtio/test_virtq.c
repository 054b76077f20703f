// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the split virtqueue: the test plays the driver, writing
 * descriptors and rings into a real guest memory with gm_write.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "virtio/virtq.h"

#define MB (1ULL << 20)
#define RAM_END (4 * MB) /* two adjacent regions: [0, 2M) and [2M, 4M) */
#define QSZ 8
#define DESC 0x1000ULL
#define AVAIL 0x2000ULL
#define USED 0x3000ULL
#define ITABLE 0x8000ULL
#define BUF 0x10000ULL

struct fx {
	struct guest_mem gm;
	struct virtq q;
	struct virtq_req req;
	uint16_t avail_idx; /* driver's avail->idx */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	gm_init(&f->gm);
	if (gm_add_region(&f->gm, "low", 0, 2 * MB) < 0 ||
	    gm_add_region(&f->gm, "high", 2 * MB, 2 * MB) < 0)
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	gm_destroy(&f->gm);
	free(f);
	return 0;
}

static void qsetup(struct fx *f, bool event_idx, bool indirect)
{
	assert_int_equal(virtq_setup(&f->q, &f->gm, QSZ, DESC, AVAIL, USED, event_idx, indirect),
			 0);
}

static void put16(struct fx *f, uint64_t gpa, uint16_t v)
{
	assert_int_equal(gm_write(&f->gm, gpa, &v, 2), 0);
}

static uint16_t get16(struct fx *f, uint64_t gpa)
{
	uint16_t v;

	assert_int_equal(gm_read(&f->gm, gpa, &v, 2), 0);
	return v;
}

static uint32_t get32(struct fx *f, uint64_t gpa)
{
	uint32_t v;

	assert_int_equal(gm_read(&f->gm, gpa, &v, 4), 0);
	return v;
}

static void set_desc_at(struct fx *f, uint64_t table, uint32_t i, uint64_t addr, uint32_t len,
			uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};

	assert_int_equal(gm_write(&f->gm, table + 16ULL * i, &d, sizeof(d)), 0);
}

static void set_desc(struct fx *f, uint32_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	set_desc_at(f, DESC, i, addr, len, flags, next);
}

/* Publish @head in the avail ring, then the new avail->idx. */
static void avail_add(struct fx *f, uint16_t head)
{
	put16(f, AVAIL + 4 + 2 * (f->avail_idx % QSZ), head);
	f->avail_idx++;
	put16(f, AVAIL + 2, f->avail_idx);
}

static uint16_t used_idx(struct fx *f)
{
	return get16(f, USED + 2);
}

static void used_elem(struct fx *f, uint16_t slot, uint32_t *id, uint32_t *len)
{
	*id = get32(f, USED + 4 + 8 * (slot % QSZ));
	*len = get32(f, USED + 8 + 8 * (slot % QSZ));
}

/* The queue rejects what is published, is broken and stays so. */
static void expect_broken(struct fx *f, int err)
{
	assert_int_equal(virtq_pop(&f->q, &f->req), err);
	assert_true(f->q.broken);
	assert_int_equal(virtq_pop(&f->q, &f->req), -EIO);
	assert_int_equal(virtq_push(&f->q, &f->req, 0), -EIO);
	assert_false(virtq_should_notify(&f->q));
}

static void test_setup_checks(void **state)
{
	struct fx *f = *state;
	struct virtq *q = &f->q;

	assert_int_equal(virtq_setup(q, &f->gm, 0, DESC, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_setup(q, &f->gm, 3, DESC, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_setup(q, &f->gm, 0xffff, DESC, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_setup(q, &f->gm, QSZ, DESC + 8, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_setup(q, &f->gm, QSZ, DESC, AVAIL + 1, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_setup(q, &f->gm, QSZ, DESC, AVAIL, USED + 2, 0, 0), -EINVAL);
	/* areas outside RAM, straddling its end, or across two regions */
	assert_int_equal(virtq_setup(q, &f->gm, QSZ, 8 * MB, AVAIL, USED, 0, 0), -EFAULT);
	assert_int_equal(virtq_setup(q, &f->gm, QSZ, DESC, RAM_END - 8, USED, 0, 0), -EFAULT);
	assert_int_equal(virtq_setup(q, &f->gm, QSZ, DESC, AVAIL, RAM_END - 64, 0, 0), -EFAULT);
	assert_int_equal(virtq_setup(q, &f->gm, QSZ, 2 * MB - 64, AVAIL, USED, 0, 0), -EFAULT);
	assert_int_equal(virtq_setup(q, &f->gm, QSZ, ~0ULL - 15, AVAIL, USED, 0, 0), -EFAULT);
	assert_false(q->ready);
	/* the largest queue: 512 KiB of descriptors */
	assert_int_equal(virtq_setup(q, &f->gm, 32768, 0x100000, 0x80000, 0x200000, 1, 1), 0);
	assert_true(q->ready);
	assert_int_equal(q->size, 32768);
	virtq_reset(q);
	assert_false(q->ready);
	assert_int_equal(virtq_pop(q, &f->req), 0);
	assert_int_equal(virtq_push(q, &f->req, 0), -EIO);
}

static void test_simple_chain(void **state)
{
	struct fx *f = *state;
	struct virtq_req *r = &f->req;
	uint32_t id, len;

	qsetup(f, false, false);
	assert_int_equal(virtq_pop(&f->q, r), 0);
	set_desc(f, 0, BUF, 100, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF + 0x10000, 200, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, 0);
	gm_clear_dirty(&f->gm);

	assert_int_equal(virtq_pop(&f->q, r), 1);
	assert_int_equal(r->head, 0);
	assert_int_equal(r->nr_readable, 1);
	assert_int_equal(r->nr_writable, 1);
	assert_int_equal(r->read_len, 100);
	assert_int_equal(r->write_len, 200);
	assert_ptr_equal(r->segs[0].hva, gm_ptr(&f->gm, BUF, 100));
	assert_int_equal(r->segs[0].len, 100);
	assert_false(r->segs[0].write);
	assert_int_equal(r->segs[0].gpa, BUF);
	assert_ptr_equal(r->segs[1].hva, gm_ptr(&f->gm, BUF + 0x10000, 200));
	assert_int_equal(r->segs[1].len, 200);
	assert_true(r->segs[1].write);
	assert_int_equal(virtq_pop(&f->q, r), 0);

	memset(r->segs[1].hva, 0xab, 50);
	assert_int_equal(virtq_push(&f->q, r, 201), -EINVAL);
	assert_false(f->q.broken);
	assert_int_equal(virtq_push(&f->q, r, 50), 0);
	assert_int_equal(used_idx(f), 1);
	used_elem(f, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 50);
	/* the used ring and the written buffer are dirty, the read one not */
	assert_true(gm_page_dirty(&f->gm, USED));
	assert_true(gm_page_dirty(&f->gm, BUF + 0x10000));
	assert_false(gm_page_dirty(&f->gm, BUF));
	/* nothing is in flight any more */
	assert_int_equal(virtq_push(&f->q, r, 0), -EINVAL);
	assert_false(f->q.broken);
}

static void test_multiple_requests(void **state)
{
	struct fx *f = *state;
	struct virtq_req *reqs = calloc(3, sizeof(*reqs));
	const uint16_t heads[3] = {0, 2, 5};
	uint32_t id, len;
	int i;

	assert_non_null(reqs);
	qsetup(f, false, false);
	for (i = 0; i < 3; i++) {
		set_desc(f, heads[i], BUF + 0x1000ULL * i, 64, VIRTQ_DESC_F_WRITE, 0);
		avail_add(f, heads[i]);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(virtq_pop(&f->q, &reqs[i]), 1);
		assert_int_equal(reqs[i].head, heads[i]);
		assert_int_equal(reqs[i].nr_readable, 0);
		assert_int_equal(reqs[i].nr_writable, 1);
		assert_int_equal(reqs[i].segs[0].gpa, BUF + 0x1000ULL * i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	/* complete out of order */
	for (i = 2; i >= 0; i--)
		assert_int_equal(virtq_push(&f->q, &reqs[i], (uint32_t)i + 1), 0);
	assert_int_equal(used_idx(f), 3);
	for (i = 0; i < 3; i++) {
		used_elem(f, (uint16_t)i, &id, &len);
		assert_int_equal(id, heads[2 - i]);
		assert_int_equal(len, 3 - i);
	}
	free(reqs);
}

static void test_chain_of_queue_size(void **state)
{
	struct fx *f = *state;
	uint16_t i;

	qsetup(f, false, false);
	for (i = 0; i < QSZ; i++)
		set_desc(f, i, BUF + 0x100ULL * i, 16, i < QSZ - 1 ? VIRTQ_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	avail_add(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.nr_readable, QSZ);
	assert_int_equal(f->req.read_len, 16 * QSZ);
}

static void test_zero_length_and_split(void **state)
{
	struct fx *f = *state;
	struct virtq_req *r = &f->req;

	qsetup(f, false, false);
	/* a zero-length descriptor gives no segment, even at an odd address */
	set_desc(f, 0, 8 * MB, 0, VIRTQ_DESC_F_NEXT, 1);
	/* a buffer across the boundary of the two adjacent regions: two segments */
	set_desc(f, 1, 2 * MB - 16, 64, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, 0);
	gm_clear_dirty(&f->gm);
	assert_int_equal(virtq_pop(&f->q, r), 1);
	assert_int_equal(r->nr_readable, 0);
	assert_int_equal(r->nr_writable, 2);
	assert_int_equal(r->write_len, 64);
	assert_int_equal(r->segs[0].gpa, 2 * MB - 16);
	assert_int_equal(r->segs[0].len, 16);
	assert_ptr_equal(r->segs[0].hva, gm_ptr(&f->gm, 2 * MB - 16, 16));
	assert_int_equal(r->segs[1].gpa, 2 * MB);
	assert_int_equal(r->segs[1].len, 48);
	assert_ptr_equal(r->segs[1].hva, gm_ptr(&f->gm, 2 * MB, 48));
	assert_int_equal(virtq_push(&f->q, r, 20), 0);
	assert_true(gm_page_dirty(&f->gm, 2 * MB - 16));
	assert_true(gm_page_dirty(&f->gm, 2 * MB));
}

static void test_wraparound(void **state)
{
	struct fx *f = *state;
	struct virtq_req *reqs = calloc(4, sizeof(*reqs));
	struct virtq_state s;
	uint32_t id, len;
	uint16_t i;

	assert_non_null(reqs);
	qsetup(f, false, false);
	virtq_save(&f->q, &s);
	s.last_avail_idx = 65534;
	s.used_idx = 65534;
	s.signalled_used = 65534;
	assert_int_equal(virtq_restore(&f->q, &f->gm, &s), 0);
	f->avail_idx = 65534;
	put16(f, AVAIL + 2, 65534);
	put16(f, USED + 2, 65534);
	for (i = 0; i < 4; i++) {
		set_desc(f, i, BUF + 0x100ULL * i, 32, VIRTQ_DESC_F_WRITE, 0);
		avail_add(f, i);
	}
	assert_int_equal(get16(f, AVAIL + 2), 2);
	for (i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&f->q, &reqs[i]), 1);
		assert_int_equal(reqs[i].head, i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	assert_int_equal(f->q.last_avail_idx, 2);
	for (i = 0; i < 4; i++)
		assert_int_equal(virtq_push(&f->q, &reqs[i], i), 0);
	assert_int_equal(used_idx(f), 2);
	for (i = 0; i < 4; i++) {
		used_elem(f, (uint16_t)(65534 + i), &id, &len);
		assert_int_equal(id, i);
		assert_int_equal(len, i);
	}
	/* the window (65534, 2] holds 65535, 0, 1, 2 */
	assert_true(virtq_should_notify(&f->q));
	free(reqs);
}

static void test_indirect_chain(void **state)
{
	struct fx *f = *state;
	struct virtq_req *r = &f->req;

	qsetup(f, false, true);
	set_desc_at(f, ITABLE, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc_at(f, ITABLE, 2, BUF + 0x100, 20, VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(f, ITABLE, 1, BUF + 0x200, 30, VIRTQ_DESC_F_WRITE, 0);
	/* the write flag of the indirect descriptor itself is ignored */
	set_desc(f, 3, ITABLE, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, 3);
	/* direct descriptors followed by an indirect one */
	set_desc(f, 4, BUF + 0x300, 5, VIRTQ_DESC_F_NEXT, 5);
	set_desc(f, 5, ITABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_at(f, ITABLE + 0x100, 0, BUF + 0x400, 7, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, 4);

	assert_int_equal(virtq_pop(&f->q, r), 1);
	assert_int_equal(r->head, 3);
	assert_int_equal(r->nr_readable, 2);
	assert_int_equal(r->nr_writable, 1);
	assert_int_equal(r->segs[0].gpa, BUF);
	assert_int_equal(r->segs[1].gpa, BUF + 0x100);
	assert_int_equal(r->segs[2].gpa, BUF + 0x200);
	assert_int_equal(r->read_len, 30);
	assert_int_equal(r->write_len, 30);
	assert_int_equal(virtq_push(&f->q, r, 30), 0);

	assert_int_equal(virtq_pop(&f->q, r), 1);
	assert_int_equal(r->head, 4);
	assert_int_equal(r->nr_readable, 1);
	assert_int_equal(r->nr_writable, 1);
	assert_int_equal(r->segs[1].gpa, BUF + 0x400);
}

static void push_one(struct fx *f, uint16_t head)
{
	set_desc(f, head, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, head);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(virtq_push(&f->q, &f->req, 8), 0);
}

static void test_event_idx_notify(void **state)
{
	struct fx *f = *state;
	const uint64_t used_event = AVAIL + 4 + 2 * QSZ;
	const uint64_t avail_event = USED + 4 + 8 * QSZ;

	qsetup(f, true, false);
	/* no push, no interrupt */
	assert_false(virtq_should_notify(&f->q));
	/* driver wants an interrupt when used idx passes 0 */
	put16(f, used_event, 0);
	push_one(f, 0);
	assert_true(virtq_should_notify(&f->q));
	/* 1 -> 2 does not cross 0 */
	push_one(f, 1);
	assert_false(virtq_should_notify(&f->q));
	/* used_event 3: 2 -> 3 no, then 3 -> 5 crosses it (batch of two) */
	put16(f, used_event, 3);
	push_one(f, 2);
	assert_false(virtq_should_notify(&f->q));
	push_one(f, 3);
	push_one(f, 4);
	assert_true(virtq_should_notify(&f->q));
	/* NO_INTERRUPT is ignored with EVENT_IDX */
	put16(f, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	put16(f, used_event, 5);
	push_one(f, 5);
	assert_true(virtq_should_notify(&f->q));

	virtq_set_avail_event(&f->q);
	assert_int_equal(get16(f, avail_event), 6);
	/* the event index stays where disable left it, enable moves it */
	virtq_disable_notify(&f->q);
	assert_int_equal(get16(f, USED), 0);
	set_desc(f, 6, BUF, 8, 0, 0);
	avail_add(f, 6);
	assert_true(virtq_enable_notify(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_false(virtq_enable_notify(&f->q));
	assert_int_equal(get16(f, avail_event), 7);
}

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	put16(f, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	push_one(f, 0);
	assert_false(virtq_should_notify(&f->q));
	put16(f, AVAIL, 0);
	push_one(f, 1);
	assert_true(virtq_should_notify(&f->q));
	assert_false(virtq_should_notify(&f->q)); /* nothing new */

	/* NO_NOTIFY for a processing loop, and no lost wakeup */
	virtq_disable_notify(&f->q);
	assert_int_equal(get16(f, USED), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&f->q));
	assert_int_equal(get16(f, USED), 0);
	virtq_disable_notify(&f->q);
	set_desc(f, 2, BUF, 8, 0, 0);
	avail_add(f, 2);
	assert_true(virtq_enable_notify(&f->q));
	assert_int_equal(get16(f, USED), 0);
}

static void test_save_restore(void **state)
{
	struct fx *f = *state;
	struct virtq q2;
	struct virtq_state s, bad;
	uint32_t id, len;

	qsetup(f, true, true);
	set_desc(f, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	set_desc(f, 1, BUF + 8, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, 0);
	avail_add(f, 1);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(virtq_push(&f->q, &f->req, 4), 0);
	virtq_save(&f->q, &s);
	assert_int_equal(s.size, QSZ);
	assert_int_equal(s.last_avail_idx, 1);
	assert_int_equal(s.used_idx, 1);
	assert_true(s.ready && s.event_idx && s.indirect && !s.broken);

	memset(&q2, 0x5a, sizeof(q2));
	assert_int_equal(virtq_restore(&q2, &f->gm, &s), 0);
	assert_int_equal(virtq_pop(&q2, &f->req), 1);
	assert_int_equal(f->req.head, 1);
	assert_int_equal(virtq_push(&q2, &f->req, 8), 0);
	assert_int_equal(used_idx(f), 2);
	used_elem(f, 1, &id, &len);
	assert_int_equal(id, 1);
	assert_int_equal(len, 8);

	/* a state that could not come from a real queue is refused */
	bad = s;
	bad.avail = AVAIL + 1;
	assert_int_equal(virtq_restore(&q2, &f->gm, &bad), -EINVAL);
	bad = s;
	bad.used = RAM_END;
	assert_int_equal(virtq_restore(&q2, &f->gm, &bad), -EFAULT);
	bad = s;
	bad.last_avail_idx = (uint16_t)(s.used_idx + QSZ + 1);
	assert_int_equal(virtq_restore(&q2, &f->gm, &bad), -EINVAL);
	assert_false(q2.ready);
	/* a queue the driver had not enabled yet */
	bad = s;
	bad.ready = 0;
	assert_int_equal(virtq_restore(&q2, &f->gm, &bad), 0);
	assert_false(q2.ready);
	assert_int_equal(virtq_pop(&q2, &f->req), 0);
}

/* Malformed input: one test per case, each on a fresh guest. */

static void test_bad_head(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	avail_add(f, QSZ);
	expect_broken(f, -EINVAL);
}

static void test_bad_next(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	set_desc(f, 0, BUF, 8, VIRTQ_DESC_F_NEXT, QSZ);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

static void test_loop(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	set_desc(f, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	avail_add(f, 0);
	expect_broken(f, -ELOOP);
}

static void test_chain_longer_than_queue(void **state)
{
	struct fx *f = *state;
	uint16_t i;

	qsetup(f, false, false);
	for (i = 0; i < QSZ; i++)
		set_desc(f, i, BUF, 0, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % QSZ));
	avail_add(f, 3);
	expect_broken(f, -ELOOP);
}

static void test_buffer_outside_ram(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	set_desc(f, 0, 8 * MB, 8, 0, 0);
	avail_add(f, 0);
	expect_broken(f, -EFAULT);
}

static void test_buffer_straddles_ram_end(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	set_desc(f, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, RAM_END - 16, 32, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, 0);
	expect_broken(f, -EFAULT);
}

static void test_length_overflow(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	set_desc(f, 0, ~0ULL - 15, 32, 0, 0);
	avail_add(f, 0);
	expect_broken(f, -EFAULT);
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	set_desc(f, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF + 8, 8, 0, 0);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	set_desc_at(f, ITABLE, 0, BUF, 8, 0, 0);
	set_desc(f, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

static void test_nested_indirect(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, true);
	set_desc_at(f, ITABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(f, ITABLE, 1, ITABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_at(f, ITABLE + 0x100, 0, BUF, 8, 0, 0);
	set_desc(f, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

static void test_indirect_len_not_multiple(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, true);
	set_desc_at(f, ITABLE, 0, BUF, 8, 0, 0);
	set_desc(f, 0, ITABLE, 24, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

static void test_indirect_len_zero(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, true);
	set_desc(f, 0, ITABLE, 0, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, true);
	set_desc_at(f, ITABLE, 0, BUF, 8, 0, 0);
	set_desc(f, 0, ITABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF, 8, 0, 0);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

static void test_indirect_table_outside_ram(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, true);
	set_desc(f, 0, RAM_END - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -EFAULT);
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, true);
	set_desc_at(f, ITABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(f, ITABLE, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	set_desc(f, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -ELOOP);
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, true);
	set_desc_at(f, ITABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc_at(f, ITABLE, 2, BUF, 8, 0, 0); /* present but past the table */
	set_desc(f, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

static void test_chain_too_many_bytes(void **state)
{
	struct fx *f = *state;
	const uint32_t n = VIRTQ_MAX_CHAIN_BYTES / (2 * MB) + 1;
	uint32_t i;

	qsetup(f, false, true);
	for (i = 0; i < n; i++)
		set_desc_at(f, ITABLE, i, 0, 2 * MB, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0,
			    (uint16_t)(i + 1));
	set_desc(f, 0, ITABLE, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -E2BIG);
}

static void test_chain_too_many_segments(void **state)
{
	struct fx *f = *state;
	const uint32_t n = VIRTQ_MAX_SEGS + 1;
	uint32_t i;

	qsetup(f, false, true);
	for (i = 0; i < n; i++)
		set_desc_at(f, ITABLE, i, BUF + i, 1, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0,
			    (uint16_t)(i + 1));
	set_desc(f, 0, ITABLE, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(f, 0);
	expect_broken(f, -E2BIG);
}

static void test_avail_idx_too_far(void **state)
{
	struct fx *f = *state;

	qsetup(f, false, false);
	set_desc(f, 0, BUF, 8, 0, 0);
	put16(f, AVAIL + 4, 0);
	put16(f, AVAIL + 2, QSZ + 1);
	expect_broken(f, -EINVAL);
}

static void test_avail_idx_full_ring_ok(void **state)
{
	struct fx *f = *state;
	int i;

	qsetup(f, false, false);
	for (i = 0; i < QSZ; i++) {
		set_desc(f, (uint32_t)i, BUF, 8, 0, 0);
		avail_add(f, (uint16_t)i);
	}
	for (i = 0; i < QSZ; i++)
		assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	assert_false(f->q.broken);
}

/*
 * A driver has a queue's worth of descriptors: a chain made available while
 * that many are in flight reuses one of them. The queue breaks (before, it
 * was popped, and the queue saved then would not restore).
 */
static void test_more_in_flight_than_queue_size(void **state)
{
	struct fx *f = *state;
	struct virtq_state s;
	int i;

	qsetup(f, false, false);
	for (i = 0; i < QSZ; i++) {
		set_desc(f, (uint32_t)i, BUF, 8, 0, 0);
		avail_add(f, (uint16_t)i);
	}
	for (i = 0; i < QSZ; i++)
		assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	virtq_save(&f->q, &s);
	assert_int_equal(virtq_restore(&f->q, &f->gm, &s), 0);
	/* one back: one more may come */
	assert_int_equal(virtq_push_head(&f->q, 0, 0), 0);
	avail_add(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	avail_add(f, 0);
	expect_broken(f, -EINVAL);
}

/* Completing by head alone, out of order, after the request was reused. */
static void test_push_head(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	qsetup(f, false, false);
	set_desc(f, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF + 0x10000, 512, VIRTQ_DESC_F_WRITE, 0);
	set_desc(f, 2, BUF + 0x20000, 16, VIRTQ_DESC_F_NEXT, 3);
	set_desc(f, 3, BUF + 0x30000, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(f, 0);
	avail_add(f, 2);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	gm_clear_dirty(&f->gm);

	assert_int_equal(virtq_push_head(&f->q, QSZ, 1), -EINVAL);
	assert_int_equal(virtq_push_head(&f->q, 2, 1), 0);
	assert_int_equal(virtq_push_head(&f->q, 0, 513), 0);
	assert_int_equal(used_idx(f), 2);
	used_elem(f, 0, &id, &len);
	assert_int_equal(id, 2);
	assert_int_equal(len, 1);
	used_elem(f, 1, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 513);
	/* the used ring is dirty; the buffers are the caller's to mark */
	assert_true(gm_page_dirty(&f->gm, USED));
	assert_false(gm_page_dirty(&f->gm, BUF + 0x10000));
	/* nothing in flight any more */
	assert_int_equal(virtq_push_head(&f->q, 0, 1), -EINVAL);
	f->q.broken = true;
	assert_int_equal(virtq_push_head(&f->q, 0, 1), -EIO);
}

/* Held chains given back to the ring are popped again, the same ones in the same order. */
static void test_unpop(void **state)
{
	struct fx *f = *state;
	const uint16_t heads[3] = {4, 1, 6};
	uint16_t held[2] = {1, 6}, wrong[2] = {6, 1};
	int i;

	qsetup(f, false, false);
	for (i = 0; i < 3; i++) {
		set_desc(f, heads[i], BUF + 0x1000ULL * i, 64, VIRTQ_DESC_F_WRITE, 0);
		avail_add(f, heads[i]);
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	/* three in flight: two cannot go back alone */
	assert_int_equal(virtq_unpop(&f->q, held, 2), -EBUSY);
	assert_int_equal(virtq_push_head(&f->q, 4, 0), 0);
	/* not the last ones popped, in that order: refused, nothing changes */
	assert_int_equal(virtq_unpop(&f->q, wrong, 2), -EBUSY);
	assert_int_equal(f->q.last_avail_idx, 3);
	assert_int_equal(virtq_unpop(&f->q, held, 2), 0);
	assert_int_equal(f->q.last_avail_idx, 1);
	assert_int_equal(f->q.last_avail_idx, f->q.used_idx);
	for (i = 1; i < 3; i++) {
		assert_int_equal(virtq_pop(&f->q, &f->req), 1);
		assert_int_equal(f->req.head, heads[i]);
		assert_int_equal(f->req.segs[0].gpa, BUF + 0x1000ULL * i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	/* interleaved: the last popped was completed, the one held before it cannot go back */
	assert_int_equal(virtq_push_head(&f->q, 6, 0), 0);
	assert_int_equal(virtq_unpop(&f->q, held, 1), -EBUSY);
	assert_int_equal(virtq_unpop(&f->q, held, 0), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_setup_checks),
	    T(test_unpop),
	    T(test_simple_chain),
	    T(test_multiple_requests),
	    T(test_chain_of_queue_size),
	    T(test_zero_length_and_split),
	    T(test_wraparound),
	    T(test_indirect_chain),
	    T(test_event_idx_notify),
	    T(test_no_interrupt_flag),
	    T(test_save_restore),
	    T(test_bad_head),
	    T(test_bad_next),
	    T(test_loop),
	    T(test_chain_longer_than_queue),
	    T(test_buffer_outside_ram),
	    T(test_buffer_straddles_ram_end),
	    T(test_length_overflow),
	    T(test_readable_after_writable),
	    T(test_indirect_not_negotiated),
	    T(test_nested_indirect),
	    T(test_indirect_len_not_multiple),
	    T(test_indirect_len_zero),
	    T(test_indirect_with_next),
	    T(test_indirect_table_outside_ram),
	    T(test_indirect_loop),
	    T(test_indirect_next_out_of_table),
	    T(test_chain_too_many_bytes),
	    T(test_chain_too_many_segments),
	    T(test_avail_idx_too_far),
	    T(test_avail_idx_full_ring_ok),
	    T(test_more_in_flight_than_queue_size),
	    T(test_push_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
