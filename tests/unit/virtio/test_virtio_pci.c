// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the virtio-pci transport's VIRTIO_PCI_CAP_PCI_CFG window:
 * the driver points the capability at BAR 0 and reads or writes the BAR
 * through pci_cfg_data, with the BAR unmapped (no bus, no decoding).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "virtio/virtio_pci.h"

#define CAP_ID_VNDR 0x09
#define CFG_TYPE_PCI 5
/* Common configuration registers used here */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_NUM_QUEUES 0x12
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16

static const uint8_t dev_config[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

static void test_config_read(struct virtio_pci *vp, uint32_t off, uint8_t *buf, unsigned int len)
{
	memcpy(buf, dev_config + off, len);
}

static void test_notify(struct virtio_pci *vp, unsigned int q)
{
}

static const struct virtio_dev_ops test_ops = {
    .name = "virtio-test",
    .device_id = 4,
    .pci_class = 0xff,
    .nr_queues = 2,
    .queue_max = 16,
    .config_len = sizeof(dev_config),
    .config_read = test_config_read,
    .queue_notify = test_notify,
};

struct fx {
	struct virtio_pci vp;
	struct platform plat;
	uint8_t cap; /* the PCI_CFG capability */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct virtio_io io = {0};

	if (!f || virtio_pci_init(&f->vp, &test_ops, NULL, NULL, &f->plat, &io) < 0)
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	virtio_pci_destroy(&f->vp);
	free(f);
	return 0;
}

static uint32_t cfg_rd(struct fx *f, uint32_t off, unsigned int size)
{
	return pci_config_read(&f->vp.pci, off, size);
}

static void cfg_wr(struct fx *f, uint32_t off, unsigned int size, uint32_t val)
{
	pci_config_write(&f->vp.pci, off, size, val);
}

static uint64_t bar_rd(struct fx *f, uint64_t off, unsigned int size)
{
	const struct pci_bar *b = &f->vp.pci.bar[0];

	return b->ops->read(b->opaque, off, size);
}

static void bar_wr(struct fx *f, uint64_t off, unsigned int size, uint64_t val)
{
	const struct pci_bar *b = &f->vp.pci.bar[0];

	b->ops->write(b->opaque, off, size, val);
}

/* Point the window at BAR bar, offset off, length len. */
static void window(struct fx *f, uint8_t bar, uint32_t off, uint32_t len)
{
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_BAR, 1, bar);
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4, off);
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_LENGTH, 4, len);
}

static uint32_t window_read(struct fx *f)
{
	return cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA, 4);
}

static void window_write(struct fx *f, uint32_t val)
{
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA, 4, val);
}

/* Find the capability the way a driver does: walk the list. */
static void find_cap(struct fx *f)
{
	unsigned int hops = 0;
	uint8_t p = (uint8_t)cfg_rd(f, PCI_CAP_PTR, 1);

	f->cap = 0;
	while (p && hops++ < 48) {
		if (cfg_rd(f, p, 1) == CAP_ID_VNDR && cfg_rd(f, p + 3u, 1) == CFG_TYPE_PCI) {
			f->cap = p;
			return;
		}
		p = (uint8_t)cfg_rd(f, p + 1u, 1);
	}
}

static void test_cap_present(void **state)
{
	struct fx *f = *state;

	find_cap(f);
	assert_int_not_equal(f->cap, 0);
	assert_int_equal(f->cap & 3, 0);
	assert_int_equal(cfg_rd(f, f->cap + 2u, 1), VIRTIO_PCI_CFG_CAP_LEN);
	/* bar, offset, length and data start at 0 */
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_BAR, 1), 0);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4), 0);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_LENGTH, 4), 0);
	assert_int_equal(window_read(f), 0);
	/* the fields read back what the driver wrote */
	window(f, 0, 0x1234, 2);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4), 0x1234);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_LENGTH, 4), 2);
	/* the header stays read-only */
	cfg_wr(f, f->cap + 3u, 1, 1);
	assert_int_equal(cfg_rd(f, f->cap + 3u, 1), CFG_TYPE_PCI);
}

static void test_reads_match_bar(void **state)
{
	struct fx *f = *state;

	find_cap(f);
	assert_false(f->vp.pci.bar[0].mapped); /* the window needs no decoding */

	window(f, 0, CC_NUM_QUEUES, 2);
	assert_int_equal(window_read(f), 2);
	assert_int_equal(window_read(f), bar_rd(f, CC_NUM_QUEUES, 2));

	/* feature words, selected through the BAR, read through the window */
	bar_wr(f, CC_DFSELECT, 4, 1);
	window(f, 0, CC_DF, 4);
	assert_int_equal(window_read(f), bar_rd(f, CC_DF, 4));
	assert_true(window_read(f) & 1); /* VIRTIO_F_VERSION_1 */

	/* device configuration, byte and word; partial reads of pci_cfg_data */
	window(f, 0, VIRTIO_PCI_DEVICE_OFF + 5, 1);
	assert_int_equal(window_read(f), 0x66);
	window(f, 0, VIRTIO_PCI_DEVICE_OFF + 4, 4);
	assert_int_equal(window_read(f), 0x88776655);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA + 2u, 2), 0x8877);
	assert_int_equal(cfg_rd(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA + 1u, 1), 0x66);
}

static void test_writes_reach_bar(void **state)
{
	struct fx *f = *state;

	find_cap(f);
	window(f, 0, CC_DFSELECT, 4);
	window_write(f, 1);
	assert_int_equal(bar_rd(f, CC_DFSELECT, 4), 1);

	window(f, 0, CC_Q_SELECT, 2);
	window_write(f, 0xffff0001); /* only the first length bytes count */
	assert_int_equal(bar_rd(f, CC_Q_SELECT, 2), 1);

	window(f, 0, CC_STATUS, 1);
	window_write(f, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	window_write(f, 0); /* a reset through the window */
	assert_int_equal(bar_rd(f, CC_STATUS, 1), 0);
	assert_int_equal(bar_rd(f, CC_Q_SELECT, 2), 0);
}

static void test_bad_windows(void **state)
{
	static const uint32_t bad[][3] = {
	    {1, CC_DFSELECT, 4},		   /* not BAR 0 */
	    {0xff, CC_DFSELECT, 4},		   /* no such BAR */
	    {0, CC_DFSELECT, 3},		   /* bad length */
	    {0, CC_DFSELECT, 8},		   /* bad length */
	    {0, CC_DFSELECT, 0},		   /* bad length */
	    {0, CC_NUM_QUEUES + 1, 2},		   /* unaligned */
	    {0, CC_DFSELECT + 2, 4},		   /* unaligned */
	    {0, VIRTIO_PCI_BAR_SIZE, 4},	   /* past the BAR */
	    {0, 0xfffffffc, 4},			   /* far past the BAR */
	    {0, VIRTIO_PCI_DEVICE_OFF + 0x800, 4}, /* past the device config */
	};
	struct fx *f = *state;
	unsigned int i;

	find_cap(f);
	bar_wr(f, CC_DFSELECT, 4, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		window(f, (uint8_t)bad[i][0], bad[i][1], bad[i][2]);
		assert_int_equal(window_read(f), 0);
		window_write(f, 0);
		assert_int_equal(bar_rd(f, CC_DFSELECT, 4), 1);
	}
	/* byte and word config writes of pci_cfg_data go through too */
	window(f, 0, CC_STATUS, 1);
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* a write elsewhere in the capability does not touch the BAR */
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_DATA, 1, 0);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), 0);
	bar_wr(f, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	cfg_wr(f, f->cap + VIRTIO_PCI_CFG_CAP_OFFSET, 4, CC_STATUS);
	assert_int_equal(bar_rd(f, CC_STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cap_present, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reads_match_bar, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_writes_reach_bar, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_windows, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
