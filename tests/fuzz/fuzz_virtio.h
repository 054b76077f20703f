/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest-facing fuzz targets' common harness: a small guest memory (128
 * KiB in two adjacent RAM regions, guard pages around each: room for buffers
 * that take the largest packet), a driver that sets up a
 * device's split virtqueues through BAR 0, and an input read as a header and
 * a list of commands (poke guest memory, write descriptors, make chains
 * available, kick, reset, device events).
 *
 * Input layout:
 *   [0] flags: FZ_F_*         [1] log2 of the queue size (capped by the device)
 *   [2] device feature byte   [3] race bytes / 4 (the race stream, see below)
 *   [4..15] per queue 0 and 1: desc, avail, used (3 x u16, used with FZ_F_LAYOUT)
 *   (a third queue, virtio-net's control queue, is always at fixed pages:
 *   desc 0x1000, avail 0x2000, used 0x3000, which hold 256 entries)
 *   then commands until the input (less the race stream) ends.
 *
 * With FZ_F_RACE, the last 4 * [3] bytes of the input are the race stream:
 * after each read a device makes through the guest-memory door (gm_load,
 * ring loads, gm_read), one byte of it says whether guest memory changes
 * there, and how (race_hook in fuzz_virtio.c: a byte of those just read
 * flipped, bytes of the stream over them or anywhere): a second vCPU racing
 * the device.
 *
 * Invariants checked after every command (a failure aborts):
 *  - used ring entries name heads the harness made available, no more of
 *    them than it made available (unless the input itself rewrote a ring);
 *  - every guest page the device changed is marked dirty (device writes must
 *    reach the dirty log, or a migration would lose them);
 *  - a queue marked broken has its device in DEVICE_NEEDS_RESET;
 *  - once the device is in DEVICE_NEEDS_RESET with nothing in flight, it
 *    does not change guest memory until the driver resets it;
 *  - writes past either RAM region hit a guard page (SIGSEGV).
 */
#ifndef PETREL_TESTS_FUZZ_FUZZ_VIRTIO_H
#define PETREL_TESTS_FUZZ_FUZZ_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/guest_mem.h"
#include "virtio/virtio_pci.h"

/* Guest RAM: [0, FZ_RAM0) and [FZ_RAM0, FZ_RAM) in two host mappings. */
#define FZ_RAM0 0xc000ULL
#define FZ_RAM 0x20000ULL
#define FZ_NQ 3
#define FZ_HDR 16
#define FZ_MAX_CMDS 512
/* Largest queue size: its descriptor table fits in the first region. */
#define FZ_MAX_QSIZE 1024

#define FZ_F_EVENT_IDX 0x01
#define FZ_F_INDIRECT 0x02
#define FZ_F_RACE 0x04
#define FZ_F_LAYOUT 0x08
/* 0x10..0x80 are the target's */

/* Commands (the low 3 bits of a command byte). */
enum fz_cmd {
	FZ_POKE,      /* u16 gpa, u8 len, bytes: the driver writes guest memory */
	FZ_DESC,      /* u8 q, u16 i, u32 addr, u32 len, u16 flags, u16 next */
	FZ_AVAIL,     /* u8 q, u16 head: the next avail slot, then avail->idx */
	FZ_KICK,      /* u8 q: a doorbell */
	FZ_DEV,	      /* the target's first command */
	FZ_RESET,     /* the driver resets the device and sets it up again */
	FZ_AVAIL_IDX, /* u8 q, u16 idx: avail->idx set to anything */
	FZ_DEV2,      /* the target's second command */
};

/* Bytes of the input, read from the front; zeroes once it ends. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
/* Up to @max bytes in place; *len says how many there were. */
const uint8_t *fz_bytes(struct fz_in *in, size_t max, size_t *len);

struct fz_queue {
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx; /* the driver's */
	uint16_t used_seen; /* used->idx at the last check */
	bool tainted;	    /* the input rewrote a ring itself: heads are not tracked */
	uint32_t made_avail[FZ_MAX_QSIZE]; /* per head: available, not yet used */
};

struct fz_target;

struct fz {
	struct guest_mem gm;
	uint8_t *ram[2];	/* host views of the two regions */
	uint8_t shadow[FZ_RAM]; /* guest memory as the harness last saw it */
	struct platform plat;
	struct virtio_io io;
	struct {
		int fd;
		void (*fn)(void *opaque, int fd, uint32_t events);
		void *opaque;
		uint32_t events; /* POLLIN, unless the device rewatched it */
	} w[16];
	const struct fz_target *t;
	struct virtio_pci *vp; /* NULL for the bare virtqueue target */
	uint8_t flags;
	uint8_t dev_features;
	unsigned int nq;
	struct fz_queue q[FZ_NQ];
	uint8_t layout[12];
	bool frozen; /* NEEDS_RESET seen with nothing in flight */
	struct fz_in race;
	bool racing;
};

/* What a target adds to the harness. */
struct fz_target {
	unsigned int nr_queues;
	/* Make the device, on f->gm with f->plat and f->io; sets f->vp. 0 or -errno. */
	int (*create)(struct fz *f);
	void (*destroy)(struct fz *f);
	/* Without a transport (f->vp NULL): set the queues up as f->q says. */
	void (*start)(struct fz *f);
	/* Instead of a doorbell through the transport. */
	void (*kick)(struct fz *f, unsigned int qi);
	/* The driver features (device-specific bits) from f->dev_features. */
	uint32_t (*features)(const struct fz *f);
	void (*dev)(struct fz *f, struct fz_in *in);
	void (*dev2)(struct fz *f, struct fz_in *in);
	/* Nothing in flight: the device may not touch memory until asked. NULL: always. */
	bool (*idle)(struct fz *f);
	/* Extra checks after each command. */
	void (*check)(struct fz *f);
	/* Before destroy: finish what is in flight. */
	void (*finish)(struct fz *f);
};

/* Set up guest memory once per process and install the race hook. */
void fz_global_init(struct fz *f);
/* Run one input against @t. */
void fz_run(struct fz *f, const struct fz_target *t, const uint8_t *data, size_t size);

/* For targets. */
void fz_fail(const char *what) __attribute__((noreturn));
void fz_fire(struct fz *f, int fd);
/* Every watched fd once, with the events it is watched for (0: none). */
void fz_fire_all(struct fz *f);
bool fz_watched(struct fz *f, int fd);
/* The host address of guest byte @gpa, or NULL outside RAM. */
uint8_t *fz_hva(struct fz *f, uint64_t gpa);
/* Is [hva, hva+len) inside one RAM region? */
bool fz_in_ram(struct fz *f, const void *hva, uint64_t len);
/* The guest address of @hva, or FZ_RAM when it is not guest RAM. */
uint64_t fz_gpa(struct fz *f, const void *hva);
/* The driver writes guest memory (the shadow follows). */
void fz_poke(struct fz *f, uint64_t gpa, const void *buf, size_t len);
void fz_bar_write(struct fz *f, uint64_t off, unsigned int size, uint64_t val);
uint64_t fz_bar_read(struct fz *f, uint64_t off, unsigned int size);
/* The generic commands, for the bare virtqueue target's own loop. */
void fz_generic_cmd(struct fz *f, uint8_t cmd, struct fz_in *in);
/* Compare guest memory with the shadow (dirty log, NEEDS_RESET), then resync. */
void fz_check_memory(struct fz *f);
/* The used ring of queue @qi against the heads made available. */
void fz_check_used(struct fz *f, unsigned int qi, const uint8_t *used_hva);

#endif
