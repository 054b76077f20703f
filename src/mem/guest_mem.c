// SPDX-License-Identifier: GPL-2.0-only
#include "mem/guest_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BITS_PER_LONG (8 * sizeof(unsigned long))

#ifdef PETREL_FUZZ
void (*gm_fuzz_after_read)(const void *hva, uint64_t len);
#endif

static uint64_t pages_of(uint64_t size)
{
	return size >> GM_PAGE_SHIFT;
}

static size_t bitmap_bytes(uint64_t npages)
{
	return ((npages + BITS_PER_LONG - 1) / BITS_PER_LONG) * sizeof(unsigned long);
}

void gm_init(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
}

#define HUGE_2M (2ULL << 20)

/*
 * Private anonymous RAM aligned to 2 MiB so transparent huge pages can back
 * it (and KVM map it with large pages); faulted lazily.
 */
static void *map_private(uint64_t size)
{
	uint64_t span = size + HUGE_2M;
	uint8_t *raw, *hva;
	uint64_t head, tail;

	raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (raw == MAP_FAILED)
		return MAP_FAILED;
	hva = (uint8_t *)(((uintptr_t)raw + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
	head = (uint64_t)(hva - raw);
	tail = span - head - size;
	if (head)
		munmap(raw, head);
	if (tail)
		munmap(hva + size, tail);
	madvise(hva, size, MADV_HUGEPAGE);
	return hva;
}

/* A region's part of a file that must already hold it. */
static int check_file_size(struct guest_mem *gm, uint64_t size)
{
	struct stat st;

	if (fstat(gm->fd, &st) < 0)
		return -1;
	if ((uint64_t)st.st_size < gm->fd_size + size) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* RAM in the memfd, after what earlier regions use of it. */
static void *map_shared(struct guest_mem *gm, uint64_t size)
{
	if (gm->adopted) {
		if (check_file_size(gm, size) < 0)
			return MAP_FAILED;
		return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, gm->fd,
			    (off_t)gm->fd_size);
	}
	if (gm->fd < 0) {
		gm->fd = memfd_create("petrel-ram", MFD_CLOEXEC);
		if (gm->fd < 0)
			return MAP_FAILED;
	}
	if (ftruncate(gm->fd, (off_t)(gm->fd_size + size)) < 0)
		return MAP_FAILED;
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, gm->fd,
		    (off_t)gm->fd_size);
}

/* A private copy-on-write view of the backing file, after the earlier regions. */
static void *map_file(struct guest_mem *gm, uint64_t size)
{
	if (check_file_size(gm, size) < 0)
		return MAP_FAILED;
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, gm->fd,
		    (off_t)gm->fd_size);
}

int gm_use_file(struct guest_mem *gm, int fd)
{
	if (gm->nr_regions || gm->fd >= 0 || gm->shared)
		return -EBUSY;
	gm->fd = fd;
	gm->file_backed = true;
	gm->fd_size = 0;
	return 0;
}

int gm_use_shared_file(struct guest_mem *gm, int fd)
{
	if (gm->nr_regions || gm->fd >= 0 || gm->file_backed)
		return -EBUSY;
	gm->fd = fd;
	gm->shared = true;
	gm->adopted = true;
	gm->fd_size = 0;
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int gm_add_region(struct guest_mem *gm, const char *name, uint64_t gpa, uint64_t size)
{
	struct gm_region *r;
	void *hva;
	unsigned int i;

	if (!size || (gpa | size) & (GM_PAGE_SIZE - 1) || gpa + size < gpa)
		return -EINVAL;
	if (gm->nr_regions == GM_MAX_REGIONS)
		return -ENOSPC;
	for (i = 0; i < gm->nr_regions; i++)
		if (ranges_overlap(gpa, size, gm->regions[i].gpa, gm->regions[i].size))
			return -EEXIST;
	if (gm->file_backed)
		hva = map_file(gm, size);
	else
		hva = gm->shared ? map_shared(gm, size) : map_private(size);
	if (hva == MAP_FAILED)
		return -errno;
	madvise(hva, size, MADV_DONTDUMP);

	r = &gm->regions[gm->nr_regions];
	memset(r, 0, sizeof(*r));
	r->dirty = calloc(1, bitmap_bytes(pages_of(size)));
	if (!r->dirty) {
		munmap(hva, size);
		return -ENOMEM;
	}
	r->gpa = gpa;
	r->size = size;
	r->hva = hva;
	r->fd_offset = gm->shared || gm->file_backed ? gm->fd_size : 0;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "ram");
	if (gm->shared || gm->file_backed)
		gm->fd_size += size;
	return (int)gm->nr_regions++;
}

void gm_destroy(struct guest_mem *gm)
{
	unsigned int i;

	for (i = 0; i < gm->nr_regions; i++) {
		munmap(gm->regions[i].hva, gm->regions[i].size);
		free(gm->regions[i].dirty);
	}
	if (gm->fd >= 0)
		close(gm->fd);
	gm_init(gm);
}

const struct gm_region *gm_region_of(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	if (gpa + len < gpa)
		return NULL;
	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct gm_region *r = gm_region_of(gm, gpa, len ? len : 1);

	return r ? r->hva + (gpa - r->gpa) : NULL;
}

/* Walk [gpa, gpa+len) region by region; each chunk is fully inside RAM. */
static int gm_copy(const struct guest_mem *gm, uint64_t gpa, uint8_t *buf, uint64_t len,
		   bool to_guest)
{
	while (len) {
		const struct gm_region *r = gm_region_of(gm, gpa, 1);
		uint64_t off, chunk;

		if (!r)
			return -EFAULT;
		off = gpa - r->gpa;
		chunk = r->size - off < len ? r->size - off : len;
		if (to_guest)
			memcpy(r->hva + off, buf, chunk);
		else
			memcpy(buf, r->hva + off, chunk);
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static bool gm_range_is_ram(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	while (len) {
		const struct gm_region *r = gm_region_of(gm, gpa, 1);
		uint64_t chunk;

		if (!r)
			return false;
		chunk = r->size - (gpa - r->gpa);
		if (chunk >= len)
			return true;
		gpa += chunk;
		len -= chunk;
	}
	return true;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *buf, uint64_t len)
{
	int ret;

	if (gpa + len < gpa || !gm_range_is_ram(gm, gpa, len))
		return -EFAULT;
	ret = gm_copy(gm, gpa, buf, len, false);
	if (len)
		gm_race_point(gm_ptr(gm, gpa, 1), len);
	return ret;
}

int gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len)
{
	int ret;

	if (gpa + len < gpa || !gm_range_is_ram(gm, gpa, len))
		return -EFAULT;
	ret = gm_copy(gm, gpa, (uint8_t *)buf, len, true);
	if (!ret)
		gm_mark_dirty(gm, gpa, len);
	return ret;
}

int gm_hva_to_gpa(const struct guest_mem *gm, const void *hva, uint64_t *gpa)
{
	const uint8_t *p = hva;
	unsigned int i;

	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];

		if (p >= r->hva && p < r->hva + r->size) {
			*gpa = r->gpa + (uint64_t)(p - r->hva);
			return 0;
		}
	}
	return -EFAULT;
}

uint64_t gm_total(const struct guest_mem *gm)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < gm->nr_regions; i++)
		total += gm->regions[i].size;
	return total;
}

int gm_discard(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct gm_region *r;
	uint8_t *hva;

	if (!len || (gpa | len) & (GM_PAGE_SIZE - 1))
		return -EINVAL;
	r = gm_region_of(gm, gpa, len);
	if (!r)
		return -EFAULT;
	hva = r->hva + (gpa - r->gpa);
	if (madvise(hva, len, gm->shared ? MADV_REMOVE : MADV_DONTNEED) < 0)
		return -errno;
	gm_mark_dirty(gm, gpa, len);
	return 0;
}

static void set_bit_atomic(unsigned long *map, uint64_t bit)
{
	__atomic_fetch_or(&map[bit / BITS_PER_LONG], 1UL << (bit % BITS_PER_LONG),
			  __ATOMIC_RELAXED);
}

void gm_mark_dirty(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (!len || end < gpa)
		return;
	while (gpa < end) {
		const struct gm_region *r = gm_region_of(gm, gpa, 1);
		uint64_t pg, last;

		if (!r)
			return;
		pg = (gpa - r->gpa) >> GM_PAGE_SHIFT;
		last = end - r->gpa >= r->size ? pages_of(r->size) - 1
					       : (end - 1 - r->gpa) >> GM_PAGE_SHIFT;
		for (; pg <= last; pg++)
			set_bit_atomic(r->dirty, pg);
		gpa = r->gpa + ((last + 1) << GM_PAGE_SHIFT);
	}
}

void gm_mark_dirty_bitmap(struct guest_mem *gm, uint64_t gpa, const unsigned long *bitmap,
			  uint64_t npages)
{
	uint64_t i;

	for (i = 0; i < npages; i++) {
		if (!(bitmap[i / BITS_PER_LONG] & (1UL << (i % BITS_PER_LONG)))) {
			/* skip empty words quickly */
			if (!bitmap[i / BITS_PER_LONG])
				i |= BITS_PER_LONG - 1;
			continue;
		}
		gm_mark_dirty(gm, gpa + (i << GM_PAGE_SHIFT), GM_PAGE_SIZE);
	}
}

bool gm_page_dirty(const struct guest_mem *gm, uint64_t gpa)
{
	const struct gm_region *r = gm_region_of(gm, gpa, 1);
	uint64_t pg;

	if (!r)
		return false;
	pg = (gpa - r->gpa) >> GM_PAGE_SHIFT;
	return __atomic_load_n(&r->dirty[pg / BITS_PER_LONG], __ATOMIC_RELAXED) &
	       (1UL << (pg % BITS_PER_LONG));
}

void gm_clear_dirty(struct guest_mem *gm)
{
	unsigned int i;

	for (i = 0; i < gm->nr_regions; i++)
		memset(gm->regions[i].dirty, 0, bitmap_bytes(pages_of(gm->regions[i].size)));
}

uint64_t gm_dirty_count(const struct guest_mem *gm)
{
	uint64_t count = 0;
	unsigned int i;
	size_t w;

	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];
		size_t words = bitmap_bytes(pages_of(r->size)) / sizeof(unsigned long);

		for (w = 0; w < words; w++)
			count += (uint64_t)__builtin_popcountl(r->dirty[w]);
	}
	return count;
}
