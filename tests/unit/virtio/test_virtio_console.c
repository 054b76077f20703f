// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of virtio-console: the test plays the driver through BAR 0 and
 * the rings in a real guest memory, and kicks queues by calling the handler
 * the device asked the I/O thread to watch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem/guest_mem.h"
#include "virtio/virtio_console.h"

#define MB (1ULL << 20)
#define QSZ 8
/* per queue: descriptors, avail, used */
#define DESC(q) (0x1000ULL + (q)*0x1000ULL)
#define AVAIL(q) (0x4000ULL + (q)*0x1000ULL)
#define USED(q) (0x7000ULL + (q)*0x1000ULL)
#define BUF 0x20000ULL

#define CC_DFSELECT 0x00
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

struct watch {
	int fd;
	void (*fn)(void *opaque, int fd, uint32_t events);
	void *opaque;
};

struct fx {
	struct guest_mem gm;
	struct virtio_console c;
	struct watch w[8];
	unsigned int nr_w;
	uint8_t out[256];
	size_t out_len;
	unsigned int rx_ready_calls;
	uint16_t avail_idx[2];
	uint16_t next_desc[2];
};

static int fx_watch(void *ctx, int fd, void (*fn)(void *, int, uint32_t), void *opaque)
{
	struct fx *f = ctx;

	f->w[f->nr_w++] = (struct watch){fd, fn, opaque};
	return 0;
}

static void fx_out(void *opaque, const uint8_t *buf, size_t len)
{
	struct fx *f = opaque;

	assert_true(f->out_len + len <= sizeof(f->out));
	memcpy(f->out + f->out_len, buf, len);
	f->out_len += len;
}

static void fx_rx_ready(void *opaque)
{
	struct fx *f = opaque;

	f->rx_ready_calls++;
}

static void bar_wr(struct fx *f, uint64_t off, unsigned int size, uint64_t val)
{
	const struct pci_bar *b = &f->c.vp.pci.bar[0];

	b->ops->write(b->opaque, off, size, val);
}

static uint64_t bar_rd(struct fx *f, uint64_t off, unsigned int size)
{
	const struct pci_bar *b = &f->c.vp.pci.bar[0];

	return b->ops->read(b->opaque, off, size);
}

static void driver_init(struct fx *f, bool size_feature)
{
	unsigned int q;

	bar_wr(f, CC_STATUS, 1, 0);
	bar_wr(f, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	bar_wr(f, CC_GFSELECT, 4, 0);
	bar_wr(f, CC_GF, 4, size_feature ? 1u << VIRTIO_CONSOLE_F_SIZE : 0);
	bar_wr(f, CC_GFSELECT, 4, 1);
	bar_wr(f, CC_GF, 4, 1); /* VERSION_1 */
	bar_wr(f, CC_STATUS, 1,
	       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (q = 0; q < 2; q++) {
		bar_wr(f, CC_Q_SELECT, 2, q);
		bar_wr(f, CC_Q_SIZE, 2, QSZ);
		bar_wr(f, CC_Q_DESC_LO, 4, DESC(q));
		bar_wr(f, CC_Q_DRIVER_LO, 4, AVAIL(q));
		bar_wr(f, CC_Q_DEVICE_LO, 4, USED(q));
		bar_wr(f, CC_Q_ENABLE, 2, 1);
		f->avail_idx[q] = 0;
		f->next_desc[q] = 0;
	}
	bar_wr(f, CC_STATUS, 1,
	       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct virtio_io io = {.watch = fx_watch, .ctx = f};

	if (!f)
		return -1;
	gm_init(&f->gm);
	if (gm_add_region(&f->gm, "ram", 0, 2 * MB) < 0)
		return -1;
	if (virtio_console_init(&f->c, &f->gm, NULL, &io, fx_out, f) < 0)
		return -1;
	virtio_console_set_rx_ready(&f->c, fx_rx_ready);
	driver_init(f, true);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	virtio_console_destroy(&f->c);
	gm_destroy(&f->gm);
	free(f);
	return 0;
}

static void put_desc(struct fx *f, unsigned int q, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};

	assert_int_equal(gm_write(&f->gm, DESC(q) + 16ULL * i, &d, sizeof(d)), 0);
}

/* Make the chain starting at descriptor @head available. */
static void make_avail(struct fx *f, unsigned int q, uint16_t head)
{
	uint16_t slot = f->avail_idx[q] % QSZ;

	assert_int_equal(gm_write(&f->gm, AVAIL(q) + 4 + 2 * slot, &head, 2), 0);
	f->avail_idx[q]++;
	assert_int_equal(gm_write(&f->gm, AVAIL(q) + 2, &f->avail_idx[q], 2), 0);
}

static void kick(struct fx *f, unsigned int q)
{
	int fd = f->c.vp.q[q].notify_efd;
	unsigned int i;

	for (i = 0; i < f->nr_w; i++) {
		if (f->w[i].fd == fd) {
			f->w[i].fn(f->w[i].opaque, fd, 1);
			return;
		}
	}
	fail_msg("queue %u is not watched", q);
}

static uint16_t used_idx(struct fx *f, unsigned int q)
{
	uint16_t v;

	gm_read(&f->gm, USED(q) + 2, &v, 2);
	return v;
}

static struct virtq_used_elem used_elem(struct fx *f, unsigned int q, unsigned int i)
{
	struct virtq_used_elem e;

	gm_read(&f->gm, USED(q) + 4 + 8ULL * (i % QSZ), &e, sizeof(e));
	return e;
}

/* Guest output: a readable buffer, with a stray writable one that is ignored.
 */
static void send(struct fx *f, uint16_t head, const char *s)
{
	uint64_t addr = BUF + 0x1000 + 0x100ULL * head;

	gm_write(&f->gm, addr, s, strlen(s));
	put_desc(f, 1, head, addr, (uint32_t)strlen(s), VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
	put_desc(f, 1, (uint16_t)(head + 1), BUF + 0x8000, 16, VIRTQ_DESC_F_WRITE, 0);
	make_avail(f, 1, head);
	kick(f, 1);
}

/* A receive buffer of @len bytes in descriptor @i. */
static void give_rx(struct fx *f, uint16_t i, uint32_t len)
{
	put_desc(f, 0, i, BUF + 0x100ULL * i, len, VIRTQ_DESC_F_WRITE, 0);
	make_avail(f, 0, i);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	uint8_t gen = (uint8_t)bar_rd(f, CC_CFG_GENERATION, 1);

	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF, 2), 80);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 2, 2), 25);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 4, 4), 1);
	virtio_console_set_size(&f->c, 120, 40);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF, 4), 120 | (40 << 16));
	assert_int_equal((uint8_t)bar_rd(f, CC_CFG_GENERATION, 1), (uint8_t)(gen + 1));
	/* nothing is writable */
	bar_wr(f, VIRTIO_PCI_DEVICE_OFF, 2, 7);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF, 2), 120);
}

static void test_tx(void **state)
{
	struct fx *f = *state;
	uint8_t gen = (uint8_t)bar_rd(f, CC_CFG_GENERATION, 1);

	send(f, 0, "hello ");
	send(f, 2, "world");
	assert_int_equal(f->out_len, 11);
	assert_memory_equal(f->out, "hello world", 11);
	assert_int_equal(used_idx(f, 1), 2);
	assert_int_equal(used_elem(f, 1, 0).id, 0);
	assert_int_equal(used_elem(f, 1, 0).len, 0);
	assert_int_equal(used_elem(f, 1, 1).id, 2);
	/* the first output announced the size, once */
	assert_int_equal((uint8_t)bar_rd(f, CC_CFG_GENERATION, 1), (uint8_t)(gen + 1));
	assert_int_equal(f->rx_ready_calls, 1);
}

static void test_rx_waits_for_output(void **state)
{
	struct fx *f = *state;
	uint8_t got[8];

	give_rx(f, 0, 8);
	kick(f, 0);
	assert_int_equal(f->rx_ready_calls, 0); /* the console is not up yet */
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"ab", 2), 0);
	send(f, 4, "$ ");
	assert_int_equal(f->rx_ready_calls, 1);
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"ab", 2), 2);
	assert_int_equal(used_idx(f, 0), 1);
	assert_int_equal(used_elem(f, 0, 0).len, 2);
	gm_read(&f->gm, BUF, got, 2);
	assert_memory_equal(got, "ab", 2);
}

static void test_rx_split_and_refill(void **state)
{
	struct fx *f = *state;
	uint8_t got[8];

	send(f, 0, "x");
	give_rx(f, 0, 4);
	give_rx(f, 1, 4);
	kick(f, 0);
	assert_int_equal(f->rx_ready_calls, 2);
	/* 10 bytes, 8 of room: 4 + 4 taken, every buffer returned at once */
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"0123456789", 10), 8);
	assert_int_equal(used_idx(f, 0), 2);
	assert_int_equal(used_elem(f, 0, 0).id, 0);
	assert_int_equal(used_elem(f, 0, 1).id, 1);
	assert_int_equal(used_elem(f, 0, 1).len, 4);
	gm_read(&f->gm, BUF + 0x100, got, 4);
	assert_memory_equal(got, "4567", 4);
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"89", 2), 0);
	/* the driver gives the buffer back: the caller hears of it */
	give_rx(f, 0, 4);
	kick(f, 0);
	assert_int_equal(f->rx_ready_calls, 3);
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"89", 2), 2);
	assert_int_equal(used_elem(f, 0, 2).len, 2);
}

static void test_rx_without_room(void **state)
{
	struct fx *f = *state;

	send(f, 0, "x");
	/* a readable-only chain has nothing to receive into: returned empty */
	put_desc(f, 0, 0, BUF, 8, 0, 0);
	make_avail(f, 0, 0);
	kick(f, 0);
	assert_int_equal(used_idx(f, 0), 1);
	assert_int_equal(used_elem(f, 0, 0).len, 0);
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"a", 1), 0);
	/* readable then writable: only the writable part is used */
	put_desc(f, 0, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	put_desc(f, 0, 2, BUF + 0x200, 8, VIRTQ_DESC_F_WRITE, 0);
	make_avail(f, 0, 1);
	kick(f, 0);
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"abc", 3), 3);
	assert_int_equal(used_elem(f, 0, 1).id, 1);
	assert_int_equal(used_elem(f, 0, 1).len, 3);
}

static void test_reset_drops_buffers(void **state)
{
	struct fx *f = *state;

	send(f, 0, "x");
	give_rx(f, 0, 8);
	kick(f, 0);
	assert_int_equal(f->c.rx_count, 1);
	bar_wr(f, CC_STATUS, 1, 0);
	assert_int_equal(f->c.rx_count, 0);
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"a", 1), 0);
	/* a new driver: input again waits for its output */
	driver_init(f, false);
	give_rx(f, 0, 8);
	kick(f, 0);
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"a", 1), 0);
	send(f, 0, "y");
	assert_int_equal(virtio_console_input(&f->c, (const uint8_t *)"a", 1), 1);
}

/*
 * A driver that keeps re-offering one buffer: more in flight than the queue
 * has descriptors. The queue breaks at the first chain beyond its size (the
 * walker's check; the device's own bound of VIRTIO_CONSOLE_QUEUE_SIZE held
 * buffers is never reached).
 */
static void test_rx_rogue_driver(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	put_desc(f, 0, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	for (i = 0; i < VIRTIO_CONSOLE_QUEUE_SIZE + 1; i++) {
		make_avail(f, 0, 0);
		kick(f, 0);
	}
	assert_true(bar_rd(f, CC_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(f->c.rx_count, QSZ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tx, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_waits_for_output, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_split_and_refill, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_without_room, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_drops_buffers, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_rogue_driver, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
