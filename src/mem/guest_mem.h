/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest physical memory: RAM regions and the one checked door through which
 * every guest-physical access from the VMM passes. RAM is private anonymous
 * memory with transparent huge pages by default (2 MiB host pages let KVM map
 * the guest with large pages: fewer faults, shorter nested page walks), or a
 * memfd when another process must share it (snapshot restore by mapping,
 * vhost-user back-ends).
 */
#ifndef PETREL_MEM_GUEST_MEM_H
#define PETREL_MEM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GM_PAGE_SIZE 4096ULL
#define GM_PAGE_SHIFT 12
#define GM_MAX_REGIONS 16

struct gm_region {
	uint64_t gpa;	      /* guest-physical start, page aligned */
	uint64_t size;	      /* bytes, page aligned */
	uint8_t *hva;	      /* host mapping */
	uint64_t fd_offset;   /* offset of this region inside the memfd (shared only) */
	unsigned long *dirty; /* VMM-side dirty bitmap, one bit per page */
	char name[24];
};

struct guest_mem {
	bool shared; /* regions live in one memfd; set before the first region */
	/*
	 * Regions are private copy-on-write mappings of a file (gm_use_file,
	 * before the first region): a restored snapshot's memory file, read as
	 * the guest touches it and never written.
	 */
	bool file_backed;
	bool adopted; /* shared, in a memfd handed over (gm_use_shared_file) */
	int fd;	      /* memfd holding every region back to back, or -1 */
	uint64_t fd_size;
	unsigned int nr_regions;
	struct gm_region regions[GM_MAX_REGIONS];
};

/* Initialise an empty guest memory (no regions, no memfd yet). */
void gm_init(struct guest_mem *gm);
/*
 * Add a RAM region (anonymous with huge pages advised, or in the memfd when
 * gm->shared); returns the region index or -errno.
 */
int gm_add_region(struct guest_mem *gm, const char *name, uint64_t gpa, uint64_t size);
void gm_destroy(struct guest_mem *gm);
/*
 * Back the regions added next with @fd (taken over: closed by gm_destroy),
 * one after the other from offset 0, privately: the guest's writes stay in
 * petrel. The file must hold every region (-EINVAL from gm_add_region when
 * it is too short).
 */
int gm_use_file(struct guest_mem *gm, int fd);
/*
 * Back the regions added next with the memfd @fd (taken over: closed by
 * gm_destroy), one after the other from offset 0, shared: the guest's
 * writes land in the memfd, which another petrel may map too (the two ends
 * of a local migration). The file must hold every region (-EINVAL from
 * gm_add_region when it is too short); it is never resized.
 */
int gm_use_shared_file(struct guest_mem *gm, int fd);

/* The region holding [gpa, gpa+len), or NULL when any byte lies outside RAM. */
const struct gm_region *gm_region_of(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* Host pointer for [gpa, gpa+len) when the whole range lies in one region; else NULL. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/*
 * The fuzz build (-DPETREL_FUZZ, tests/fuzz) lets its harness act after each
 * read a device makes of guest memory: it may rewrite guest bytes there, as a
 * second vCPU racing the device would. In petrel itself this is nothing.
 */
#ifdef PETREL_FUZZ
extern void (*gm_fuzz_after_read)(const void *hva, uint64_t len);
#define gm_race_point(hva, len)                                                                    \
	do {                                                                                       \
		if (gm_fuzz_after_read)                                                            \
			gm_fuzz_after_read(hva, len);                                              \
	} while (0)
#else
#define gm_race_point(hva, len) ((void)0)
#endif

/*
 * A device's read of @len guest bytes at @hva, a host view of guest memory
 * that gm_ptr (or a virtqueue segment) gave: copied once into @dst, which is
 * what the device then checks and uses.
 */
static inline void gm_load(void *dst, const void *hva, size_t len)
{
	memcpy(dst, hva, len);
	gm_race_point(hva, len);
}

/* Copy to/from guest memory, possibly across regions; -EFAULT when not all RAM. */
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *buf, uint64_t len);
int gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len);
/* Host address -> guest-physical address; -EFAULT when not guest RAM. */
int gm_hva_to_gpa(const struct guest_mem *gm, const void *hva, uint64_t *gpa);
/* Total RAM bytes. */
uint64_t gm_total(const struct guest_mem *gm);

/*
 * Give the pages of [gpa, gpa+len) back to the host (a balloon's inflated or
 * reported pages): page aligned and wholly inside one region, else -EINVAL
 * or -EFAULT and nothing happens. Anonymous RAM is dropped (MADV_DONTNEED)
 * and reads as zero afterwards; memfd RAM has its pages removed from the
 * memfd (MADV_REMOVE), for every process mapping it. RAM mapped privately
 * from a snapshot's file drops petrel's copies (MADV_DONTNEED): the pages
 * read as the file's content again, which costs no memory of petrel's own
 * (the page cache may drop it); the file is never written. Either way the
 * guest sees content it must not rely on (the balloon offers no page
 * poisoning), and the pages are marked dirty so that a diff snapshot or a
 * migration carries what they read now.
 */
int gm_discard(struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Mark [gpa, gpa+len) dirty in the VMM-side bitmaps (device DMA writes). */
void gm_mark_dirty(struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* Mark pages dirty from a page bitmap covering [gpa, gpa + npages pages). */
void gm_mark_dirty_bitmap(struct guest_mem *gm, uint64_t gpa, const unsigned long *bitmap,
			  uint64_t npages);
bool gm_page_dirty(const struct guest_mem *gm, uint64_t gpa);
/* Clear all VMM-side dirty bits. */
void gm_clear_dirty(struct guest_mem *gm);
/* Count dirty pages over all regions. */
uint64_t gm_dirty_count(const struct guest_mem *gm);

#endif
