// SPDX-License-Identifier: GPL-2.0-only
/*
 * The balloon's pure parts: its --balloon specification, the guest's page
 * frame numbers checked against guest RAM and merged into runs, and its
 * statistics buffers.
 */
#include "virtio/virtio_balloon.h"
#include "virtio/device_opts.h"

#include <errno.h>
#include <string.h>

/* Decimal digits in [min, max]. */
static int parse_num(const char *v, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (!len || len > 20)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		if (n > (max - (uint64_t)(v[i] - '0')) / 10)
			return -EINVAL;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

static int parse_onoff(const char *v, size_t len, bool *out)
{
	if (device_opts_is(v, len, "on"))
		*out = true;
	else if (device_opts_is(v, len, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_item(void *ctx, const char *k, size_t klen, const char *v, size_t vlen)
{
	struct virtio_balloon_opts *o = ctx;
	uint64_t n;

	if (device_opts_is(k, klen, "size")) {
		/* num_pages is 32 bits of 4 KiB pages: 16 TiB less a page */
		if (parse_num(v, vlen, (UINT32_MAX >> 8), &n))
			return -EINVAL;
		o->target_mib = n;
		return 0;
	}
	if (device_opts_is(k, klen, "deflate_on_oom"))
		return parse_onoff(v, vlen, &o->deflate_on_oom);
	if (device_opts_is(k, klen, "free_page_reporting"))
		return parse_onoff(v, vlen, &o->free_page_reporting);
	if (device_opts_is(k, klen, "stats")) {
		if (parse_num(v, vlen, VIRTIO_BALLOON_MAX_STATS_S, &n))
			return -EINVAL;
		o->stats_interval_s = (unsigned int)n;
		return 0;
	}
	return -EINVAL;
}

int virtio_balloon_parse(const char *spec, struct virtio_balloon_opts *o)
{
	int ret = 0;

	memset(o, 0, sizeof(*o));
	if (spec && *spec && strcmp(spec, "on"))
		ret = device_opts_each(spec, parse_item, o);
	if (ret < 0) {
		memset(o, 0, sizeof(*o));
		return ret;
	}
	o->on = true;
	return 0;
}

int virtio_balloon_pfn_gpa(const struct guest_mem *gm, uint32_t pfn, uint64_t *gpa)
{
	uint64_t a = (uint64_t)pfn << VIRTIO_BALLOON_PFN_SHIFT;

	if (!gm_region_of(gm, a, GM_PAGE_SIZE))
		return -EFAULT;
	*gpa = a;
	return 0;
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void run_end(uint64_t gpa, uint64_t len, int (*fn)(void *ctx, uint64_t gpa, uint64_t len),
		    void *ctx, struct virtio_balloon_runs *out)
{
	int ret;

	if (!len)
		return;
	out->pages += len >> VIRTIO_BALLOON_PFN_SHIFT;
	if (fn && (ret = fn(ctx, gpa, len)) < 0 && !out->err)
		out->err = ret;
}

void virtio_balloon_pfn_runs(const struct guest_mem *gm, const uint8_t *pfns, size_t n,
			     int (*fn)(void *ctx, uint64_t gpa, uint64_t len), void *ctx,
			     struct virtio_balloon_runs *out)
{
	const struct gm_region *run_r = NULL;
	uint64_t run_gpa = 0, run_len = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		uint64_t gpa;
		const struct gm_region *r;

		if (virtio_balloon_pfn_gpa(gm, le32_at(pfns + 4 * i), &gpa) < 0) {
			out->bad++;
			continue;
		}
		r = gm_region_of(gm, gpa, GM_PAGE_SIZE);
		if (run_len && r == run_r && gpa == run_gpa + run_len) {
			run_len += GM_PAGE_SIZE;
			continue;
		}
		run_end(run_gpa, run_len, fn, ctx, out);
		run_r = r;
		run_gpa = gpa;
		run_len = GM_PAGE_SIZE;
	}
	run_end(run_gpa, run_len, fn, ctx, out);
}

unsigned int virtio_balloon_parse_stats(const uint8_t *buf, size_t len,
					struct virtio_balloon_stats *s)
{
	unsigned int taken = 0;
	size_t off;

	for (off = 0; off + VIRTIO_BALLOON_STAT_BYTES <= len; off += VIRTIO_BALLOON_STAT_BYTES) {
		const uint8_t *p = buf + off;
		uint16_t tag = (uint16_t)(p[0] | p[1] << 8);
		uint64_t val = 0;
		int i;

		for (i = 7; i >= 0; i--)
			val = val << 8 | p[2 + i];
		if (tag >= VIRTIO_BALLOON_S_NR)
			continue; /* a tag newer than petrel */
		s->val[tag] = val;
		s->present |= 1u << tag;
		taken++;
	}
	return taken;
}
