// SPDX-License-Identifier: GPL-2.0-only
/* virtio-balloon: inflate, deflate, statistics and free page reporting queues. */
#include "virtio/virtio_balloon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

enum balloon_role { ROLE_INFLATE, ROLE_DEFLATE, ROLE_STATS, ROLE_REPORTING, ROLE_NONE };

#define BALLOON_CONFIG_LEN 8 /* num_pages, actual (le32 each) */

/*
 * Which queue @qi is: the driver numbers only the queues of the features it
 * negotiated, in the order of the specification.
 */
static enum balloon_role queue_role(const struct virtio_pci *vp, unsigned int qi)
{
	if (qi == 0)
		return ROLE_INFLATE;
	if (qi == 1)
		return ROLE_DEFLATE;
	qi -= 2;
	if (virtio_pci_has_feature(vp, VIRTIO_BALLOON_F_STATS_VQ)) {
		if (qi == 0)
			return ROLE_STATS;
		qi--;
	}
	if (virtio_pci_has_feature(vp, VIRTIO_BALLOON_F_PAGE_REPORTING) && qi == 0)
		return ROLE_REPORTING;
	return ROLE_NONE;
}

static int queue_of(const struct virtio_pci *vp, enum balloon_role role)
{
	for (unsigned int i = 0; i < vp->ops->nr_queues; i++)
		if (queue_role(vp, i) == role)
			return (int)i;
	return -1;
}

static int discard_run(void *ctx, uint64_t gpa, uint64_t len)
{
	struct virtio_balloon *b = ctx;
	int ret = gm_discard(b->vp.gm, gpa, len);

	if (ret < 0)
		b->counts.discard_errs++;
	return ret;
}

/*
 * The page frame numbers of one inflate or deflate chain: its readable
 * bytes, 4 at a time, copied once through the guest-memory door. Inflated
 * pages are given back; deflated ones need nothing (the guest touching
 * them faults them in again). Returns the pages seen.
 */
static uint64_t pfn_chain(struct virtio_balloon *b, const struct virtq_req *req, bool inflate)
{
	uint8_t buf[4096];
	size_t have = 0;
	uint64_t taken = 0, seen = 0;
	struct virtio_balloon_runs r;
	unsigned int i;

	for (i = 0; i < req->nr_readable; i++) {
		const struct virtq_seg *s = &req->segs[i];
		uint32_t off = 0;

		while (off < s->len) {
			size_t room = sizeof(buf) - have,
			       n = s->len - off < room ? s->len - off : room;
			size_t whole;

			if (taken + (have + n) / 4 > VIRTIO_BALLOON_MAX_CHAIN_PFNS)
				n = (VIRTIO_BALLOON_MAX_CHAIN_PFNS - taken) * 4 - have;
			gm_load(buf + have, (const uint8_t *)s->hva + off, n);
			off += (uint32_t)n;
			have += n;
			whole = have / 4;
			virtio_balloon_pfn_runs(b->vp.gm, buf, whole, inflate ? discard_run : NULL,
						b, &r);
			b->counts.bad_pfns += r.bad;
			seen += r.pages;
			taken += whole;
			memmove(buf, buf + whole * 4, have - whole * 4);
			have -= whole * 4;
			if (taken == VIRTIO_BALLOON_MAX_CHAIN_PFNS)
				goto capped;
		}
	}
	return seen;
capped:
	/* the rest is accepted and left as it is */
	b->counts.ignored += (req->read_len / 4) - taken;
	return seen;
}

/* Free page reporting: each buffer is a run of free guest pages. */
static uint64_t report_chain(struct virtio_balloon *b, const struct virtq_req *req)
{
	uint64_t pages = 0;
	unsigned int i;

	for (i = 0; i < req->nr_readable + req->nr_writable; i++) {
		const struct virtq_seg *s = &req->segs[i];

		if ((s->gpa | s->len) & (GM_PAGE_SIZE - 1) || !s->len) {
			b->counts.bad_pfns++;
			continue;
		}
		if (discard_run(b, s->gpa, s->len) == 0)
			pages += s->len >> VIRTIO_BALLOON_PFN_SHIFT;
	}
	return pages;
}

/* A statistics buffer came: read it, keep it until the next request. */
static void stats_chain(struct virtio_balloon *b, struct virtq *q, const struct virtq_req *req,
			unsigned int qi)
{
	uint8_t buf[VIRTIO_BALLOON_STATS_MAX_BYTES];
	size_t have = 0;
	unsigned int i;

	for (i = 0; i < req->nr_readable && have < sizeof(buf); i++) {
		const struct virtq_seg *s = &req->segs[i];
		size_t n = s->len < sizeof(buf) - have ? s->len : sizeof(buf) - have;

		gm_load(buf + have, s->hva, n);
		have += n;
	}
	virtio_balloon_parse_stats(buf, have, &b->stats);
	b->counts.stats_updates++;
	/* a driver that sends another before it was asked gets the older one back */
	if (b->stats_held && virtq_push_head(q, b->stats_head, 0) == 0)
		virtio_pci_queue_done(&b->vp, qi);
	b->stats_held = true;
	b->stats_head = req->head;
}

static void balloon_notify(struct virtio_pci *vp, unsigned int qi)
{
	struct virtio_balloon *b = vp->dev;
	enum balloon_role role = queue_role(vp, qi);
	struct virtq *q = virtio_pci_vq(vp, qi);
	struct virtq_req *req = &vp->req;
	uint64_t spent = 0;
	bool pushed = false;
	int ret;

	if (!q || role == ROLE_NONE)
		return;
	while (spent < VIRTIO_BALLOON_ROUND_PAGES && (ret = virtq_pop(q, req)) > 0) {
		uint64_t pages;

		switch (role) {
		case ROLE_INFLATE:
			pages = pfn_chain(b, req, true);
			b->counts.inflated += pages;
			spent += pages;
			break;
		case ROLE_DEFLATE:
			pages = pfn_chain(b, req, false);
			b->counts.deflated += pages;
			spent += pages / 16; /* nothing to do for them but count */
			break;
		case ROLE_REPORTING:
			pages = report_chain(b, req);
			b->counts.reported += pages;
			spent += pages;
			break;
		default:
			stats_chain(b, q, req, qi);
			continue; /* held, not used */
		}
		if (virtq_push(q, req, 0) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(vp, qi);
}

static void balloon_config_read(struct virtio_pci *vp, uint32_t off, uint8_t *buf, unsigned int len)
{
	struct virtio_balloon *b = vp->dev;
	uint8_t cfg[BALLOON_CONFIG_LEN];

	for (unsigned int i = 0; i < 4; i++) {
		cfg[i] = (uint8_t)(b->num_pages >> (8 * i));
		cfg[4 + i] = (uint8_t)(b->actual >> (8 * i));
	}
	memcpy(buf, cfg + off, len);
}

/* Only actual is the driver's to write (any bytes of it). */
static void balloon_config_write(struct virtio_pci *vp, uint32_t off, const uint8_t *buf,
				 unsigned int len)
{
	struct virtio_balloon *b = vp->dev;

	for (unsigned int i = 0; i < len; i++) {
		uint32_t at = off + i;

		if (at < 4 || at >= BALLOON_CONFIG_LEN)
			continue;
		at -= 4;
		b->actual = (b->actual & ~(0xffu << (8 * at))) | (uint32_t)buf[i] << (8 * at);
	}
}

static void balloon_reset(struct virtio_pci *vp)
{
	struct virtio_balloon *b = vp->dev;

	/* a driver starting over owns all its memory again */
	b->stats_held = false;
	b->actual = 0;
}

/* The interval elapsed: hand the held buffer back, which asks for statistics. */
static void stats_tick(void *opaque, int fd, uint32_t events)
{
	struct virtio_balloon *b = opaque;
	struct virtio_pci *vp = &b->vp;
	uint64_t n;
	int qi;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* a spurious wake-up */
	}
	pthread_mutex_lock(&vp->lock);
	qi = queue_of(vp, ROLE_STATS);
	if (qi >= 0 && (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(vp->status & VIRTIO_STATUS_NEEDS_RESET) && virtio_pci_vq(vp, (unsigned int)qi)) {
		struct virtq *q = virtio_pci_vq(vp, (unsigned int)qi);

		/* a buffer given back at a snapshot waits in the ring: take it first */
		if (!b->stats_held)
			balloon_notify(vp, (unsigned int)qi);
		if (b->stats_held && virtq_push_head(q, b->stats_head, 0) == 0) {
			b->stats_held = false;
			virtio_pci_queue_done(vp, (unsigned int)qi);
		}
	}
	pthread_mutex_unlock(&vp->lock);
}

static int arm_stats(struct virtio_balloon *b, unsigned int secs)
{
	struct itimerspec t = {.it_interval = {.tv_sec = secs}, .it_value = {.tv_sec = secs}};

	if (timerfd_settime(b->stats_tfd, 0, &t, NULL) < 0)
		return -errno;
	b->stats_interval_s = secs;
	return 0;
}

int virtio_balloon_init(struct virtio_balloon *b, const struct virtio_balloon_opts *o,
			struct guest_mem *gm, const struct platform *p, const struct virtio_io *io)
{
	uint64_t pages = o->target_mib << (20 - VIRTIO_BALLOON_PFN_SHIFT);
	int ret;

	if (pages > UINT32_MAX || o->stats_interval_s > VIRTIO_BALLOON_MAX_STATS_S)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->stats_tfd = -1;
	b->num_pages = (uint32_t)pages;
	b->ops = (struct virtio_dev_ops){
	    .name = "virtio-balloon",
	    .device_id = 5,
	    .pci_class = 0x05, /* memory controller */
	    .pci_subclass = 0x80,
	    .nr_queues = 2,
	    .queue_max = 256,
	    .config_len = BALLOON_CONFIG_LEN,
	    .config_read = balloon_config_read,
	    .config_write = balloon_config_write,
	    .queue_notify = balloon_notify,
	    .reset = balloon_reset,
	};
	if (o->deflate_on_oom)
		b->ops.features |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	if (o->stats_interval_s) {
		b->ops.features |= 1ULL << VIRTIO_BALLOON_F_STATS_VQ;
		b->ops.nr_queues++;
	}
	if (o->free_page_reporting) {
		b->ops.features |= 1ULL << VIRTIO_BALLOON_F_PAGE_REPORTING;
		b->ops.nr_queues++;
	}
	ret = virtio_pci_init(&b->vp, &b->ops, b, gm, p, io);
	if (ret < 0 || !o->stats_interval_s)
		return ret;
	b->stats_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b->stats_tfd < 0)
		return -errno;
	ret = arm_stats(b, o->stats_interval_s);
	if (!ret && io->watch)
		ret = io->watch(io->ctx, b->stats_tfd, stats_tick, b);
	return ret;
}

void virtio_balloon_destroy(struct virtio_balloon *b)
{
	if (b->stats_tfd >= 0) {
		if (b->vp.io.unwatch)
			b->vp.io.unwatch(b->vp.io.ctx, b->stats_tfd);
		close(b->stats_tfd);
		b->stats_tfd = -1;
	}
	virtio_pci_destroy(&b->vp);
}

void virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages)
{
	pthread_mutex_lock(&b->vp.lock);
	if (b->num_pages != pages) {
		b->num_pages = pages;
		if (b->vp.status & VIRTIO_STATUS_DRIVER_OK)
			virtio_pci_config_changed(&b->vp);
	}
	pthread_mutex_unlock(&b->vp.lock);
}

int virtio_balloon_set_stats_interval(struct virtio_balloon *b, unsigned int secs)
{
	int ret;

	if (b->stats_tfd < 0 || !secs || secs > VIRTIO_BALLOON_MAX_STATS_S)
		return -EINVAL;
	pthread_mutex_lock(&b->vp.lock);
	ret = arm_stats(b, secs);
	pthread_mutex_unlock(&b->vp.lock);
	return ret;
}

void virtio_balloon_info(struct virtio_balloon *b, struct virtio_balloon_info *out)
{
	pthread_mutex_lock(&b->vp.lock);
	out->target_pages = b->num_pages;
	out->actual_pages = b->actual;
	out->stats_interval_s = b->stats_interval_s;
	out->stats = b->stats;
	out->counts = b->counts;
	pthread_mutex_unlock(&b->vp.lock);
}

void virtio_balloon_quiesce(struct virtio_balloon *b)
{
	struct virtio_pci *vp = &b->vp;
	int qi;

	pthread_mutex_lock(&vp->lock);
	qi = queue_of(vp, ROLE_STATS);
	if (b->stats_held && qi >= 0) {
		struct virtq *q = &vp->q[qi].vq;

		/* back to the ring as if never taken: the next tick (or restore) takes it again */
		if (virtq_unpop(q, &b->stats_head, 1) < 0 &&
		    virtq_push_head(q, b->stats_head, 0) == 0)
			virtio_pci_queue_done(vp, (unsigned int)qi);
	}
	b->stats_held = false;
	pthread_mutex_unlock(&vp->lock);
}

void virtio_balloon_save(struct virtio_balloon *b, struct virtio_balloon_state *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&b->vp.lock);
	s->features = b->ops.features;
	s->num_pages = b->num_pages;
	s->actual = b->actual;
	s->stats_interval_s = b->stats_interval_s;
	s->stats = b->stats;
	s->counts = b->counts;
	pthread_mutex_unlock(&b->vp.lock);
}

const char *virtio_balloon_state_check(const struct virtio_balloon *b,
				       const struct virtio_balloon_state *s)
{
	bool stats = b->ops.features & (1ULL << VIRTIO_BALLOON_F_STATS_VQ);

	if (s->features != b->ops.features)
		return "features";
	/* as the API sets a target: never more than the guest has */
	if (s->num_pages > gm_total(b->vp.gm) >> VIRTIO_BALLOON_PFN_SHIFT)
		return "num_pages";
	/* actual is the driver's: any value it could write */
	if (stats ? !s->stats_interval_s || s->stats_interval_s > VIRTIO_BALLOON_MAX_STATS_S
		  : s->stats_interval_s != 0)
		return "stats_interval_s";
	if (s->stats.present >> VIRTIO_BALLOON_S_NR)
		return "stats.present";
	if (s->stats.pad || s->pad)
		return "pad";
	return NULL;
}

int virtio_balloon_restore(struct virtio_balloon *b, const struct virtio_balloon_state *s)
{
	int ret = 0;

	pthread_mutex_lock(&b->vp.lock);
	b->num_pages = s->num_pages;
	b->actual = s->actual;
	b->stats = s->stats;
	b->counts = s->counts;
	b->stats_held = false;
	if (b->stats_tfd >= 0)
		ret = arm_stats(b, s->stats_interval_s);
	pthread_mutex_unlock(&b->vp.lock);
	return ret;
}
