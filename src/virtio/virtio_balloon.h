/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-balloon (traditional memory balloon, type 5; virtio 1.2, 5.5): the
 * host sets a target (num_pages), the guest inflates its balloon towards it
 * by handing pages over (inflateq) and takes them back (deflateq). Pages
 * handed over, and free pages the guest reports (free page reporting), are
 * given back to the host with gm_discard, so petrel's RSS drops. Memory
 * statistics come on the stats queue when the host asks, every
 * stats_interval seconds.
 *
 * Queues, in order, only those the driver negotiated: inflateq, deflateq,
 * statsq (VIRTIO_BALLOON_F_STATS_VQ), reporting_vq (F_PAGE_REPORTING).
 */
#ifndef PETREL_VIRTIO_VIRTIO_BALLOON_H
#define PETREL_VIRTIO_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio_pci.h"

#define VIRTIO_BALLOON_F_STATS_VQ 1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_PAGE_REPORTING 5

/* The balloon's page: 4 KiB whatever the host's page size. */
#define VIRTIO_BALLOON_PFN_SHIFT 12
/* Page frame numbers one inflate or deflate chain may carry; past them, ignored. */
#define VIRTIO_BALLOON_MAX_CHAIN_PFNS 16384
/*
 * Pages given back per round of a queue (VIRTIO_PCI_QUEUE_ROUNDS rounds a
 * turn of the I/O thread): then the device stops taking chains, and the
 * rest waits for the next turn, after the other fds had theirs.
 */
#define VIRTIO_BALLOON_ROUND_PAGES 16384
/* Longest statistics interval (a day), as the API accepts it. */
#define VIRTIO_BALLOON_MAX_STATS_S 86400

/* Statistics tags (virtio 1.2, 5.5.6.3). */
enum virtio_balloon_stat {
	VIRTIO_BALLOON_S_SWAP_IN,
	VIRTIO_BALLOON_S_SWAP_OUT,
	VIRTIO_BALLOON_S_MAJFLT,
	VIRTIO_BALLOON_S_MINFLT,
	VIRTIO_BALLOON_S_MEMFREE,
	VIRTIO_BALLOON_S_MEMTOT,
	VIRTIO_BALLOON_S_AVAIL,
	VIRTIO_BALLOON_S_CACHES,
	VIRTIO_BALLOON_S_HTLB_PGALLOC,
	VIRTIO_BALLOON_S_HTLB_PGFAIL,
	VIRTIO_BALLOON_S_NR,
};

/* One statistic on the wire: le16 tag, le64 value, packed. */
#define VIRTIO_BALLOON_STAT_BYTES 10
/* Bytes of a statistics buffer read; the rest is ignored. */
#define VIRTIO_BALLOON_STATS_MAX_BYTES (64 * VIRTIO_BALLOON_STAT_BYTES)

/* The last statistics the guest sent. */
struct virtio_balloon_stats {
	uint64_t val[VIRTIO_BALLOON_S_NR];
	uint32_t present; /* bit per tag: the guest sent it */
	uint32_t pad;
};

/* What the command line or the API asks for (--balloon, PUT /balloon). */
struct virtio_balloon_opts {
	bool on;
	uint64_t target_mib; /* amount_mib: how much the balloon should hold */
	bool deflate_on_oom;
	bool free_page_reporting;
	unsigned int stats_interval_s; /* 0: no statistics queue */
};

/*
 * "size=MIB,deflate_on_oom=on,free_page_reporting=on,stats=SECS", every
 * item optional ("" or "on": all defaults). -EINVAL on anything else.
 */
int virtio_balloon_parse(const char *spec, struct virtio_balloon_opts *o);

/* Counters, for --stats and the API. */
struct virtio_balloon_counts {
	uint64_t inflated;     /* pages given back through the inflate queue */
	uint64_t deflated;     /* pages the guest took back */
	uint64_t reported;     /* free pages reported and given back */
	uint64_t bad_pfns;     /* outside guest RAM: refused */
	uint64_t ignored;      /* past VIRTIO_BALLOON_MAX_CHAIN_PFNS */
	uint64_t discard_errs; /* madvise refused */
	uint64_t stats_updates;
};

struct virtio_balloon {
	struct virtio_pci vp;
	struct virtio_dev_ops ops; /* the queues and features follow the options */
	uint32_t num_pages;	   /* target, the host's */
	uint32_t actual;	   /* the driver's */
	unsigned int stats_interval_s;
	int stats_tfd;	 /* asks for statistics; -1 without the stats queue */
	bool stats_held; /* the driver's statistics buffer, kept until the next request */
	uint16_t stats_head;
	struct virtio_balloon_stats stats;
	struct virtio_balloon_counts counts;
};

/*
 * Guest page @pfn as a guest-physical address, when the page lies wholly in
 * guest RAM: 0, else -EFAULT.
 */
int virtio_balloon_pfn_gpa(const struct guest_mem *gm, uint32_t pfn, uint64_t *gpa);

/* What virtio_balloon_pfn_runs found. */
struct virtio_balloon_runs {
	uint64_t pages; /* in RAM, passed to fn */
	uint64_t bad;	/* outside RAM */
	int err;	/* fn's first error, or 0 */
};

/*
 * Walk @n little-endian 32-bit page frame numbers at @pfns (copied by the
 * caller): those in guest RAM are merged into runs of adjacent pages in one
 * region, each passed to @fn (NULL: only counted); the others are counted
 * as bad and skipped.
 */
void virtio_balloon_pfn_runs(const struct guest_mem *gm, const uint8_t *pfns, size_t n,
			     int (*fn)(void *ctx, uint64_t gpa, uint64_t len), void *ctx,
			     struct virtio_balloon_runs *out);

/*
 * Parse a statistics buffer (@len bytes, copied by the caller) into @s:
 * known tags update their value and present bit, unknown tags are
 * ignored, a trailing partial entry too. Returns the entries taken.
 */
unsigned int virtio_balloon_parse_stats(const uint8_t *buf, size_t len,
					struct virtio_balloon_stats *s);

int virtio_balloon_init(struct virtio_balloon *b, const struct virtio_balloon_opts *o,
			struct guest_mem *gm, const struct platform *p, const struct virtio_io *io);
void virtio_balloon_destroy(struct virtio_balloon *b);
/* The host's target in 4 KiB pages; the driver gets a configuration interrupt. */
void virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages);
/* Statistics every @secs seconds (> 0; only with the stats queue: else -EINVAL). */
int virtio_balloon_set_stats_interval(struct virtio_balloon *b, unsigned int secs);
/* Target, actual, statistics and counters, under the device's lock; any thread. */
struct virtio_balloon_info {
	uint32_t target_pages, actual_pages;
	unsigned int stats_interval_s;
	struct virtio_balloon_stats stats;
	struct virtio_balloon_counts counts;
};
void virtio_balloon_info(struct virtio_balloon *b, struct virtio_balloon_info *out);

/* The device's own state as saved (the transport's apart). */
struct virtio_balloon_state {
	uint64_t features; /* offered: must be the restored device's */
	uint32_t num_pages, actual;
	uint32_t stats_interval_s;
	uint32_t pad;
	struct virtio_balloon_stats stats;
	struct virtio_balloon_counts counts;
};

/* Give back the held statistics buffer (nothing in flight); the device works on after. */
void virtio_balloon_quiesce(struct virtio_balloon *b);
void virtio_balloon_save(struct virtio_balloon *b, struct virtio_balloon_state *s);
/*
 * Could the guest and the host have brought this device to @s? NULL, or
 * the name of the first field that is wrong.
 */
const char *virtio_balloon_state_check(const struct virtio_balloon *b,
				       const struct virtio_balloon_state *s);
/* Put checked @s into a device just created (not yet running). */
int virtio_balloon_restore(struct virtio_balloon *b, const struct virtio_balloon_state *s);

#endif
