// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-balloon's inflate (queue 0) and deflate (queue 1) queues on the
 * virtqueue walker, over the harness's guest memory (fuzz_virtio.h). Every
 * page the device gives back goes through madvise, wrapped at link time: it
 * must lie inside one RAM region, whole pages; the page then reads as zero,
 * and the harness checks it was marked dirty. A page given back that held a
 * ring is the driver's own doing: the rings are no longer tracked then.
 * Feature byte: bit 0 statistics, bit 1 deflate on OOM, bit 2 free page
 * reporting. DEV's sub-command: 0 a new target (u32), 1 the statistics
 * timer fires, 2 the driver writes actual (u32), 3 the device is quiesced
 * for a snapshot and its state saved and checked. DEV2: a statistics
 * buffer and a list of page frame numbers (u8 length and bytes of the input)
 * through the parsers, then a free page report (u32 gpa, u32 length)
 * through gm_discard as the reporting queue hands it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fuzz_virtio.h"
#include "virtio/virtio_balloon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_madvise(void *addr, size_t len, int advice);
int __real_madvise(void *addr, size_t len, int advice);

static struct fz fz;
static struct virtio_balloon balloon;
static bool ready;

int __wrap_madvise(void *addr, size_t len, int advice)
{
	if (ready && (advice == MADV_DONTNEED || advice == MADV_REMOVE)) {
		uint64_t gpa = fz_gpa(&fz, addr);

		if (!fz_in_ram(&fz, addr, len) || (gpa | len) & 4095 || !len)
			fz_fail("a page given back outside guest RAM, or not whole");
		for (unsigned int i = 0; i < fz.nq; i++)
			fz.q[i].tainted = true;
	}
	return __real_madvise(addr, len, advice);
}

static int balloon_create(struct fz *f)
{
	struct virtio_balloon_opts o = {
	    .on = true, .target_mib = 0, .stats_interval_s = 1, .free_page_reporting = true};

	if (virtio_balloon_init(&balloon, &o, &f->gm, &f->plat, &f->io) < 0)
		return -1;
	f->vp = &balloon.vp;
	return 0;
}

static void balloon_destroy(struct fz *f)
{
	virtio_balloon_destroy(&balloon);
}

static uint32_t balloon_features(const struct fz *f)
{
	return (f->dev_features & 1 ? 1u << VIRTIO_BALLOON_F_STATS_VQ : 0) |
	       (f->dev_features & 2 ? 1u << VIRTIO_BALLOON_F_DEFLATE_ON_OOM : 0) |
	       (f->dev_features & 4 ? 1u << VIRTIO_BALLOON_F_PAGE_REPORTING : 0);
}

static void balloon_dev(struct fz *f, struct fz_in *in)
{
	struct virtio_balloon_state s;
	struct virtio_balloon_info bi;

	switch (fz_u8(in) % 4) {
	case 0:
		virtio_balloon_set_target(&balloon, fz_u32(in));
		break;
	case 1:
		if (fz_watched(f, balloon.stats_tfd))
			fz_fire(f, balloon.stats_tfd);
		break;
	case 2:
		fz_bar_write(f, VIRTIO_PCI_DEVICE_OFF + 4, 4, fz_u32(in));
		virtio_balloon_info(&balloon, &bi);
		break;
	default:
		if (f->frozen)
			break; /* a quiesce may complete a chain: not while the device must be still
				*/
		virtio_balloon_quiesce(&balloon);
		virtio_balloon_save(&balloon, &s);
		if (s.num_pages <= FZ_RAM >> 12 && virtio_balloon_state_check(&balloon, &s))
			fz_fail("a saved balloon fails its own check");
		break;
	}
}

static void balloon_dev2(struct fz *f, struct fz_in *in)
{
	struct virtio_balloon_stats st = {0};
	struct virtio_balloon_runs r;
	size_t len;
	const uint8_t *p = fz_bytes(in, fz_u8(in), &len);
	uint64_t gpa;
	uint32_t n;

	if (virtio_balloon_parse_stats(p, len, &st) > len / VIRTIO_BALLOON_STAT_BYTES ||
	    st.present >> VIRTIO_BALLOON_S_NR)
		fz_fail("statistics parsed past the buffer, or an unknown tag kept");
	virtio_balloon_pfn_runs(&f->gm, p, len / 4, NULL, NULL, &r);
	if (r.pages + r.bad != len / 4)
		fz_fail("page frame numbers neither in RAM nor bad");
	gpa = fz_u32(in);
	n = fz_u32(in);
	if (f->frozen)
		return; /* the device changes nothing then */
	if (gm_discard(&f->gm, gpa, n) == 0 &&
	    (!fz_in_ram(f, fz_hva(f, gpa), n) || (gpa | n) & 4095))
		fz_fail("gm_discard took a range it should refuse");
}

static const struct fz_target target = {
    .nr_queues = 2,
    .create = balloon_create,
    .destroy = balloon_destroy,
    .features = balloon_features,
    .dev = balloon_dev,
    .dev2 = balloon_dev2,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		fz_global_init(&fz);
		ready = true;
	}
	fz_run(&fz, &target, data, size);
	return 0;
}
