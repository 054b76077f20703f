// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of virtio-balloon: its --balloon specification, page frame
 * numbers checked against guest RAM, statistics buffers, and the device
 * driven through BAR 0 and its rings in a real guest memory (queues kicked
 * by calling the handlers the device asked the I/O thread to watch).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem/guest_mem.h"
#include "virtio/virtio_balloon.h"

#define MB (1ULL << 20)
#define QSZ 8
#define NQ 4
#define DESC(q) (0x10000ULL + (q)*0x1000ULL)
#define AVAIL(q) (0x20000ULL + (q)*0x1000ULL)
#define USED(q) (0x30000ULL + (q)*0x1000ULL)
#define BUF 0x40000ULL
#define PAGES 0x100000ULL /* the pages given back */

#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_NUM_QUEUES 0x12
#define CC_STATUS 0x14
#define CC_CFG_GENERATION 0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_ENABLE 0x1c
#define CC_Q_DESC_LO 0x20
#define CC_Q_DRIVER_LO 0x28
#define CC_Q_DEVICE_LO 0x30

/* ---- the specification ---- */

static void test_parse(void **state)
{
	struct virtio_balloon_opts o;

	assert_int_equal(virtio_balloon_parse(NULL, &o), 0);
	assert_true(o.on);
	assert_int_equal(o.target_mib, 0);
	assert_false(o.deflate_on_oom || o.free_page_reporting || o.stats_interval_s);
	assert_int_equal(virtio_balloon_parse("on", &o), 0);
	assert_true(o.on);
	assert_int_equal(
	    virtio_balloon_parse("size=300,deflate_on_oom=on,free_page_reporting=on,stats=2", &o),
	    0);
	assert_int_equal(o.target_mib, 300);
	assert_true(o.deflate_on_oom && o.free_page_reporting);
	assert_int_equal(o.stats_interval_s, 2);
	assert_int_equal(virtio_balloon_parse("free_page_reporting=off", &o), 0);
	assert_false(o.free_page_reporting);
	/* the largest target 32 bits of pages hold, and one more */
	assert_int_equal(virtio_balloon_parse("size=16777215", &o), 0);
	assert_int_equal(virtio_balloon_parse("size=16777216", &o), -EINVAL);
	assert_false(o.on); /* a refusal leaves nothing */
	assert_int_equal(virtio_balloon_parse("size=99999999999999999999999", &o), -EINVAL);
	assert_int_equal(virtio_balloon_parse("size=-1", &o), -EINVAL);
	assert_int_equal(virtio_balloon_parse("size=", &o), -EINVAL);
	assert_int_equal(virtio_balloon_parse("stats=86401", &o), -EINVAL);
	assert_int_equal(virtio_balloon_parse("deflate_on_oom=yes", &o), -EINVAL);
	assert_int_equal(virtio_balloon_parse("hinting=on", &o), -EINVAL);
	assert_int_equal(virtio_balloon_parse("size=1,", &o), -EINVAL);
	assert_int_equal(virtio_balloon_parse("size", &o), -EINVAL);
}

/* ---- page frame numbers ---- */

/* RAM [0, 2M) and [2M, 3M) (adjacent, two mappings), [8M, 10M). */
static void three_regions(struct guest_mem *gm)
{
	gm_init(gm);
	assert_int_equal(gm_add_region(gm, "a", 0, 2 * MB), 0);
	assert_int_equal(gm_add_region(gm, "b", 2 * MB, MB), 1);
	assert_int_equal(gm_add_region(gm, "c", 8 * MB, 2 * MB), 2);
}

static void test_pfn_gpa(void **state)
{
	struct guest_mem gm;
	uint64_t gpa = 1;

	three_regions(&gm);
	assert_int_equal(virtio_balloon_pfn_gpa(&gm, 0, &gpa), 0);
	assert_int_equal(gpa, 0);
	assert_int_equal(virtio_balloon_pfn_gpa(&gm, 767, &gpa), 0); /* last page of b */
	assert_int_equal(gpa, 767 * 4096ULL);
	assert_int_equal(virtio_balloon_pfn_gpa(&gm, 768, &gpa), -EFAULT); /* the hole */
	assert_int_equal(virtio_balloon_pfn_gpa(&gm, 2047, &gpa), -EFAULT);
	assert_int_equal(virtio_balloon_pfn_gpa(&gm, 2048, &gpa), 0);
	assert_int_equal(virtio_balloon_pfn_gpa(&gm, 2559, &gpa), 0);
	assert_int_equal(virtio_balloon_pfn_gpa(&gm, 2560, &gpa), -EFAULT); /* past the end */
	assert_int_equal(virtio_balloon_pfn_gpa(&gm, UINT32_MAX, &gpa), -EFAULT);
	assert_int_equal(gpa, 2559 * 4096ULL); /* untouched by refusals */
	gm_destroy(&gm);
}

struct runs {
	uint64_t gpa[16], len[16];
	unsigned int n;
	int fail_at; /* the run that fails, -1: none */
};

static int record_run(void *ctx, uint64_t gpa, uint64_t len)
{
	struct runs *r = ctx;

	assert_true(r->n < 16);
	r->gpa[r->n] = gpa;
	r->len[r->n] = len;
	return (int)r->n++ == r->fail_at ? -EIO : 0;
}

static void pfns_le(uint8_t *out, const uint32_t *pfns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 4; b++)
			out[4 * i + b] = (uint8_t)(pfns[i] >> (8 * b));
}

static void test_pfn_runs(void **state)
{
	/* adjacent pages merge; a region's edge, a hole or a step back ends a run */
	static const uint32_t pfns[] = {0,    1,    2, 511, 512,	767, 768,
					2048, 2049, 5, 4,   UINT32_MAX, 2559};
	uint8_t buf[4 * sizeof(pfns) / sizeof(pfns[0])];
	struct virtio_balloon_runs out;
	struct runs r = {.fail_at = -1};
	struct guest_mem gm;

	three_regions(&gm);
	pfns_le(buf, pfns, sizeof(pfns) / sizeof(pfns[0]));
	virtio_balloon_pfn_runs(&gm, buf, sizeof(pfns) / sizeof(pfns[0]), record_run, &r, &out);
	assert_int_equal(out.bad, 2); /* 768, UINT32_MAX */
	assert_int_equal(out.pages, 11);
	assert_int_equal(out.err, 0);
	assert_int_equal(r.n, 8);
	assert_int_equal(r.gpa[0], 0);
	assert_int_equal(r.len[0], 3 * 4096);
	assert_int_equal(r.gpa[1], 511 * 4096ULL); /* the last page of a ... */
	assert_int_equal(r.len[1], 4096);
	assert_int_equal(r.gpa[2], 512 * 4096ULL); /* ... is not merged with b's first */
	assert_int_equal(r.len[2], 4096);
	assert_int_equal(r.gpa[3], 767 * 4096ULL);
	assert_int_equal(r.gpa[4], 2048 * 4096ULL);
	assert_int_equal(r.len[4], 2 * 4096);
	assert_int_equal(r.gpa[5], 5 * 4096ULL);
	assert_int_equal(r.gpa[6], 4 * 4096ULL);
	assert_int_equal(r.gpa[7], 2559 * 4096ULL);

	/* the first error is kept, the walk goes on */
	r = (struct runs){.fail_at = 1};
	virtio_balloon_pfn_runs(&gm, buf, sizeof(pfns) / sizeof(pfns[0]), record_run, &r, &out);
	assert_int_equal(out.err, -EIO);
	assert_int_equal(r.n, 8);
	/* counting only, and nothing at all */
	virtio_balloon_pfn_runs(&gm, buf, 3, NULL, NULL, &out);
	assert_int_equal(out.pages, 3);
	virtio_balloon_pfn_runs(&gm, buf, 0, record_run, &r, &out);
	assert_int_equal(out.pages + out.bad, 0);
	gm_destroy(&gm);
}

/* ---- statistics ---- */

static size_t put_stat(uint8_t *p, uint16_t tag, uint64_t val)
{
	p[0] = (uint8_t)tag;
	p[1] = (uint8_t)(tag >> 8);
	for (int i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(val >> (8 * i));
	return VIRTIO_BALLOON_STAT_BYTES;
}

static void test_parse_stats(void **state)
{
	struct virtio_balloon_stats s = {0};
	uint8_t buf[64];
	size_t n = 0;

	n += put_stat(buf + n, VIRTIO_BALLOON_S_MEMFREE, 0x1122334455667788ULL);
	n += put_stat(buf + n, 99, 7); /* newer than petrel: ignored */
	n += put_stat(buf + n, VIRTIO_BALLOON_S_HTLB_PGFAIL, 3);
	n += put_stat(buf + n, VIRTIO_BALLOON_S_MEMTOT, 1);
	/* a partial last entry is not read */
	assert_int_equal(virtio_balloon_parse_stats(buf, n - 1, &s), 2);
	assert_int_equal(s.val[VIRTIO_BALLOON_S_MEMFREE], 0x1122334455667788ULL);
	assert_int_equal(s.val[VIRTIO_BALLOON_S_HTLB_PGFAIL], 3);
	assert_int_equal(s.present,
			 1u << VIRTIO_BALLOON_S_MEMFREE | 1u << VIRTIO_BALLOON_S_HTLB_PGFAIL);
	assert_int_equal(virtio_balloon_parse_stats(buf, n, &s), 3);
	assert_int_equal(s.val[VIRTIO_BALLOON_S_MEMTOT], 1);
	/* short buffers: nothing, values kept */
	assert_int_equal(virtio_balloon_parse_stats(buf, 9, &s), 0);
	assert_int_equal(virtio_balloon_parse_stats(buf, 0, &s), 0);
	assert_int_equal(s.val[VIRTIO_BALLOON_S_MEMTOT], 1);
}

/* ---- the device ---- */

struct watch {
	int fd;
	void (*fn)(void *opaque, int fd, uint32_t events);
	void *opaque;
};

struct fx {
	struct guest_mem gm;
	struct virtio_balloon b;
	struct watch w[8];
	unsigned int nr_w;
	uint16_t avail_idx[NQ];
};

static int fx_watch(void *ctx, int fd, void (*fn)(void *, int, uint32_t), void *opaque)
{
	struct fx *f = ctx;

	assert_true(f->nr_w < 8);
	f->w[f->nr_w++] = (struct watch){fd, fn, opaque};
	return 0;
}

static void bar_wr(struct fx *f, uint64_t off, unsigned int size, uint64_t val)
{
	const struct pci_bar *b = &f->b.vp.pci.bar[0];

	b->ops->write(b->opaque, off, size, val);
}

static uint64_t bar_rd(struct fx *f, uint64_t off, unsigned int size)
{
	const struct pci_bar *b = &f->b.vp.pci.bar[0];

	return b->ops->read(b->opaque, off, size);
}

/* The driver takes @features (device bits) and sets up every queue the device has. */
static void driver_init(struct fx *f, uint32_t features)
{
	unsigned int q, nq = (unsigned int)bar_rd(f, CC_NUM_QUEUES, 2);

	bar_wr(f, CC_STATUS, 1, 0);
	bar_wr(f, CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	bar_wr(f, CC_GFSELECT, 4, 0);
	bar_wr(f, CC_GF, 4, features);
	bar_wr(f, CC_GFSELECT, 4, 1);
	bar_wr(f, CC_GF, 4, 1); /* VERSION_1 */
	bar_wr(f, CC_STATUS, 1,
	       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (q = 0; q < nq; q++) {
		bar_wr(f, CC_Q_SELECT, 2, q);
		bar_wr(f, CC_Q_SIZE, 2, QSZ);
		bar_wr(f, CC_Q_DESC_LO, 4, DESC(q));
		bar_wr(f, CC_Q_DRIVER_LO, 4, AVAIL(q));
		bar_wr(f, CC_Q_DEVICE_LO, 4, USED(q));
		bar_wr(f, CC_Q_ENABLE, 2, 1);
		f->avail_idx[q] = 0;
	}
	bar_wr(f, CC_STATUS, 1,
	       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
}

static int fx_make(void **state, const char *spec)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct virtio_io io = {.watch = fx_watch, .ctx = f};
	struct virtio_balloon_opts o;

	if (!f || virtio_balloon_parse(spec, &o) < 0)
		return -1;
	gm_init(&f->gm);
	if (gm_add_region(&f->gm, "ram", 0, 4 * MB) < 0)
		return -1;
	if (virtio_balloon_init(&f->b, &o, &f->gm, NULL, &io) < 0)
		return -1;
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_make(state, "size=2,free_page_reporting=on,stats=1,deflate_on_oom=on");
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	virtio_balloon_destroy(&f->b);
	gm_destroy(&f->gm);
	free(f);
	return 0;
}

/* One descriptor chain of one buffer, made available on queue @q. */
static void give(struct fx *f, unsigned int q, uint64_t addr, uint32_t len, bool write)
{
	uint16_t head = f->avail_idx[q] % QSZ, slot = head;
	struct virtq_desc d = {.addr = addr, .len = len, .flags = write ? VIRTQ_DESC_F_WRITE : 0};

	assert_int_equal(gm_write(&f->gm, DESC(q) + 16ULL * head, &d, sizeof(d)), 0);
	assert_int_equal(gm_write(&f->gm, AVAIL(q) + 4 + 2 * slot, &head, 2), 0);
	f->avail_idx[q]++;
	assert_int_equal(gm_write(&f->gm, AVAIL(q) + 2, &f->avail_idx[q], 2), 0);
}

static void fire(struct fx *f, int fd)
{
	for (unsigned int i = 0; i < f->nr_w; i++)
		if (f->w[i].fd == fd) {
			f->w[i].fn(f->w[i].opaque, fd, 1);
			return;
		}
	fail_msg("fd %d is not watched", fd);
}

static void kick(struct fx *f, unsigned int q)
{
	fire(f, f->b.vp.q[q].notify_efd);
}

static uint16_t used_idx(struct fx *f, unsigned int q)
{
	uint16_t v;

	gm_read(&f->gm, USED(q) + 2, &v, 2);
	return v;
}

static uint32_t cfg_rd(struct fx *f, unsigned int off)
{
	return (uint32_t)bar_rd(f, VIRTIO_PCI_DEVICE_OFF + off, 4);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	uint8_t gen;

	assert_int_equal(bar_rd(f, CC_NUM_QUEUES, 2), 4);
	driver_init(f, 1u << VIRTIO_BALLOON_F_STATS_VQ | 1u << VIRTIO_BALLOON_F_PAGE_REPORTING |
			   1u << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	assert_int_equal(cfg_rd(f, 0), 2 * 256); /* num_pages */
	assert_int_equal(cfg_rd(f, 4), 0);	 /* actual */
	/* the driver writes actual, byte by byte too; num_pages is the host's */
	bar_wr(f, VIRTIO_PCI_DEVICE_OFF + 4, 4, 100);
	bar_wr(f, VIRTIO_PCI_DEVICE_OFF + 5, 1, 1);
	bar_wr(f, VIRTIO_PCI_DEVICE_OFF + 0, 4, 7);
	assert_int_equal(cfg_rd(f, 4), 356);
	assert_int_equal(cfg_rd(f, 0), 512);
	/* a new target: a configuration change the driver sees */
	gen = (uint8_t)bar_rd(f, CC_CFG_GENERATION, 1);
	virtio_balloon_set_target(&f->b, 1000);
	assert_int_equal(cfg_rd(f, 0), 1000);
	assert_int_not_equal((uint8_t)bar_rd(f, CC_CFG_GENERATION, 1), gen);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 1) & 2, 2);
	gen = (uint8_t)bar_rd(f, CC_CFG_GENERATION, 1);
	virtio_balloon_set_target(&f->b, 1000); /* the same: nothing */
	assert_int_equal((uint8_t)bar_rd(f, CC_CFG_GENERATION, 1), gen);
	/* a reset: the driver's balloon is gone */
	bar_wr(f, CC_STATUS, 1, 0);
	assert_int_equal(cfg_rd(f, 4), 0);
}

static void test_inflate_deflate(void **state)
{
	struct fx *f = *state;
	uint32_t pfns[] = {PAGES >> 12, (PAGES >> 12) + 1, 4 * MB >> 12, UINT32_MAX};
	uint8_t buf[sizeof(pfns)], page[4096], zero[4096] = {0};
	struct virtio_balloon_info bi;

	/* without statistics or reporting: inflate and deflate at 0 and 1 */
	driver_init(f, 1u << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	memset(page, 0xaa, sizeof(page));
	assert_int_equal(gm_write(&f->gm, PAGES, page, sizeof(page)), 0);
	assert_int_equal(gm_write(&f->gm, PAGES + 4096, page, sizeof(page)), 0);
	gm_clear_dirty(&f->gm);
	pfns_le(buf, pfns, 4);
	assert_int_equal(gm_write(&f->gm, BUF, buf, sizeof(buf)), 0);
	give(f, 0, BUF, sizeof(buf), false);
	kick(f, 0);
	assert_int_equal(used_idx(f, 0), 1);
	/* given back: zero, and dirty so that a diff snapshot carries it */
	assert_int_equal(gm_read(&f->gm, PAGES, page, sizeof(page)), 0);
	assert_memory_equal(page, zero, sizeof(page));
	assert_int_equal(gm_read(&f->gm, PAGES + 4096, page, sizeof(page)), 0);
	assert_memory_equal(page, zero, sizeof(page));
	assert_true(gm_page_dirty(&f->gm, PAGES));
	assert_true(gm_page_dirty(&f->gm, PAGES + 4096));
	assert_false(gm_page_dirty(&f->gm, PAGES + 8192));
	virtio_balloon_info(&f->b, &bi);
	assert_int_equal(bi.counts.inflated, 2);
	assert_int_equal(bi.counts.bad_pfns, 2); /* past RAM, and the largest pfn */

	/* deflate: counted, nothing else */
	give(f, 1, BUF, 8, false);
	kick(f, 1);
	assert_int_equal(used_idx(f, 1), 1);
	virtio_balloon_info(&f->b, &bi);
	assert_int_equal(bi.counts.deflated, 2);
	assert_int_equal(bi.counts.inflated, 2);

	/* a length that is no multiple of 4: the tail is not a pfn */
	give(f, 0, BUF, 6, false);
	kick(f, 0);
	assert_int_equal(used_idx(f, 0), 2);
	virtio_balloon_info(&f->b, &bi);
	assert_int_equal(bi.counts.inflated, 3);
}

static void test_reporting_and_stats(void **state)
{
	struct fx *f = *state;
	uint8_t page[4096], zero[4096] = {0}, st[30];
	struct virtio_balloon_info bi;
	struct virtio_balloon_state s;
	size_t n = 0;

	/* stats at 2, reporting at 3 */
	driver_init(f, 1u << VIRTIO_BALLOON_F_STATS_VQ | 1u << VIRTIO_BALLOON_F_PAGE_REPORTING);
	memset(page, 0x55, sizeof(page));
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(gm_write(&f->gm, PAGES + 4096ULL * i, page, sizeof(page)), 0);
	give(f, 3, PAGES, 3 * 4096, true);
	give(f, 3, PAGES + 3 * 4096 + 1, 4095, true); /* not page aligned: refused */
	kick(f, 3);
	assert_int_equal(used_idx(f, 3), 2);
	assert_int_equal(gm_read(&f->gm, PAGES + 8192, page, sizeof(page)), 0);
	assert_memory_equal(page, zero, sizeof(page));
	assert_int_equal(gm_read(&f->gm, PAGES + 3 * 4096, page, 1), 0);
	assert_int_equal(page[0], 0x55);
	virtio_balloon_info(&f->b, &bi);
	assert_int_equal(bi.counts.reported, 3);
	assert_int_equal(bi.counts.bad_pfns, 1);

	/* the driver's first statistics: read and held */
	n += put_stat(st + n, VIRTIO_BALLOON_S_MEMFREE, 1234);
	n += put_stat(st + n, VIRTIO_BALLOON_S_AVAIL, 5678);
	n += put_stat(st + n, 42, 1);
	assert_int_equal(gm_write(&f->gm, BUF, st, n), 0);
	give(f, 2, BUF, (uint32_t)n, false);
	kick(f, 2);
	assert_int_equal(used_idx(f, 2), 0);
	virtio_balloon_info(&f->b, &bi);
	assert_int_equal(bi.stats.val[VIRTIO_BALLOON_S_MEMFREE], 1234);
	assert_int_equal(bi.stats.val[VIRTIO_BALLOON_S_AVAIL], 5678);
	assert_int_equal(bi.stats_interval_s, 1);
	/* a snapshot gives it back, nothing in flight; the interval asks again */
	virtio_balloon_quiesce(&f->b);
	assert_int_equal(f->b.vp.q[2].vq.last_avail_idx, f->b.vp.q[2].vq.used_idx);
	fire(f, f->b.stats_tfd);
	assert_int_equal(used_idx(f, 2), 1);
	/* the answer comes, and is held until the next tick */
	give(f, 2, BUF, (uint32_t)n, false);
	kick(f, 2);
	assert_int_equal(used_idx(f, 2), 1);
	virtio_balloon_info(&f->b, &bi);
	assert_int_equal(bi.counts.stats_updates, 3);
	assert_int_equal(virtio_balloon_set_stats_interval(&f->b, 5), 0);
	assert_int_equal(virtio_balloon_set_stats_interval(&f->b, 0), -EINVAL);

	/* its state: what it saved checks, damaged fields are named */
	virtio_balloon_save(&f->b, &s);
	assert_null(virtio_balloon_state_check(&f->b, &s));
	s.num_pages = 4 * 256 + 1;
	assert_string_equal(virtio_balloon_state_check(&f->b, &s), "num_pages");
	virtio_balloon_save(&f->b, &s);
	s.features &= ~(1ULL << VIRTIO_BALLOON_F_STATS_VQ);
	assert_string_equal(virtio_balloon_state_check(&f->b, &s), "features");
	virtio_balloon_save(&f->b, &s);
	s.stats_interval_s = 0;
	assert_string_equal(virtio_balloon_state_check(&f->b, &s), "stats_interval_s");
	virtio_balloon_save(&f->b, &s);
	s.stats.present = 1u << VIRTIO_BALLOON_S_NR;
	assert_string_equal(virtio_balloon_state_check(&f->b, &s), "stats.present");
	virtio_balloon_save(&f->b, &s);
	s.actual = UINT32_MAX; /* the driver's: anything */
	assert_null(virtio_balloon_state_check(&f->b, &s));
	assert_int_equal(virtio_balloon_restore(&f->b, &s), 0);
	assert_int_equal(cfg_rd(f, 4), UINT32_MAX);
}

/* Without the features, the queues the driver numbers are fewer. */
static void test_queue_numbering(void **state)
{
	struct fx *f = *state;
	uint8_t page[4096], zero[4096] = {0};

	/* the driver refuses statistics: reporting is queue 2 */
	driver_init(f, 1u << VIRTIO_BALLOON_F_PAGE_REPORTING);
	memset(page, 0x11, sizeof(page));
	assert_int_equal(gm_write(&f->gm, PAGES, page, sizeof(page)), 0);
	give(f, 2, PAGES, 4096, true);
	kick(f, 2);
	assert_int_equal(used_idx(f, 2), 1);
	assert_int_equal(gm_read(&f->gm, PAGES, page, sizeof(page)), 0);
	assert_memory_equal(page, zero, sizeof(page));
	/* queue 3 is nothing: a kick there is ignored */
	give(f, 3, PAGES, 4096, true);
	kick(f, 3);
	assert_int_equal(used_idx(f, 3), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_pfn_gpa),
	    cmocka_unit_test(test_pfn_runs),
	    cmocka_unit_test(test_parse_stats),
	    T(test_config),
	    T(test_inflate_deflate),
	    T(test_reporting_and_stats),
	    T(test_queue_numbering),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
