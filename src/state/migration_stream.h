/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The live migration stream: length-prefixed messages over a connected
 * socket, each with a bound of its own.
 *
 *   message  u32 type, u32 flags (0), u64 length, then length bytes
 *
 * The source sends HELLO (magic, stream version, petrel's version, the
 * processor's vendor and the feature CPUID leaves the guest was given); the
 * destination checks it and answers READY, or ERROR with one line. Then
 * SPEC (the VM's specification as the controller writes it for snapshots),
 * MEM records (a run of pages: u64 gpa, u32 pages, u32 flags, then the
 * pages' bytes unless MIG_MEM_ZERO says they are all zero), as many rounds
 * as it takes, then STATE (a state_file container of the devices and vCPUs,
 * whose CRC covers it) and END. The destination answers LOADED once it has
 * built the machine and put everything in it; the source then syncs its
 * disk images and lets go of their locks and of its TAPs, and says
 * RELEASED; the destination takes them and answers ACK (the source then
 * stops for good), or ERROR at any step (the source takes its disks and
 * TAPs back and goes on; if it cannot, the destination may run, and the
 * source stays paused). Integers are little endian.
 *
 * Over a UNIX socket (both ends on one host) file descriptors pass with
 * SCM_RIGHTS. When the guest's RAM is a memfd, MEMFD (the memfd's size and
 * the regions' layout in it, the memfd in the ancillary data) comes between
 * HELLO and SPEC, and no MEM record follows: the destination maps the same
 * memfd. RELEASED then lists the NICs whose TAP fds it carries (u32 count,
 * u32 0, a u32 NIC index each, the fds in that order), which the
 * destination uses instead of opening the TAPs. Any other message that
 * comes with fds is refused (and the fds closed).
 */
#ifndef PETREL_STATE_MIGRATION_STREAM_H
#define PETREL_STATE_MIGRATION_STREAM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/state_file.h"

#define MIG_MAGIC "PETRELMG"
#define MIG_VERSION 2
#define MIG_HDR_LEN 16

enum mig_type {
	MIG_HELLO = 1,
	MIG_READY,
	MIG_SPEC,
	MIG_MEM,
	MIG_STATE,
	MIG_END,
	MIG_ACK,
	MIG_ERROR,
	MIG_LOADED,
	MIG_RELEASED,
	MIG_MEMFD,
	MIG_TYPE_MAX = MIG_MEMFD,
};

/* Bounds of what a message holds. */
#define MIG_SPEC_MAX (1u << 20)
#define MIG_MEM_MAX_PAGES 256u
#define MIG_MEM_HDR_LEN 16
#define MIG_STATE_MAX (256u << 20)
#define MIG_ERROR_MAX 255u
#define MIG_CPUID_MAX 32u
#define MIG_HELLO_FIXED (8 + 4 + 4 + 32 + 12)
#define MIG_HELLO_MAX (MIG_HELLO_FIXED + MIG_CPUID_MAX * 24)

/* File descriptors one message carries at most. */
#define MIG_FDS_MAX 8u
#define MIG_MEMFD_REGIONS 16u
#define MIG_MEMFD_MAX (16 + MIG_MEMFD_REGIONS * 24)
#define MIG_RELEASED_MAX (8 + MIG_FDS_MAX * 4)
/* How long a send waits for room when it can be cancelled (as SO_SNDTIMEO otherwise). */
#define MIG_SEND_TIMEOUT_MS 60000

/* A run of pages is all zero (the record has no data). */
#define MIG_MEM_ZERO 0x1u

struct mig_hello {
	uint32_t version;
	char petrel[33]; /* the sender's petrel version */
	char vendor[13]; /* CPUID leaf 0's vendor string */
	unsigned int nr_cpuid;
	struct kvm_cpuid_entry2 cpuid[MIG_CPUID_MAX]; /* function, index and the registers */
};

struct mig_mem {
	uint64_t gpa;
	uint32_t pages;
	bool zero;
	const uint8_t *data; /* pages * 4 KiB bytes, or NULL when zero */
};

/* Guest RAM in a memfd: its size and where each region lies in it. */
struct mig_memfd {
	uint64_t size;
	unsigned int nr;
	struct {
		uint64_t gpa, size, offset;
	} regions[MIG_MEMFD_REGIONS];
};

/* The TAPs handed over with RELEASED: the NIC each fd belongs to. */
struct mig_released {
	unsigned int nr;
	uint32_t nic[MIG_FDS_MAX];
};

/*
 * One message received; buf is reused from message to message. The fds
 * that came with it are the receiver's: taken (set to -1) or closed by
 * mig_msg_close_fds, which the next mig_recv and mig_msg_free call.
 */
struct mig_msg {
	uint32_t type;
	uint8_t *buf;
	size_t len, cap;
	int fds[MIG_FDS_MAX];
	unsigned int nr_fds;
};

/* A connection and what went through it. */
struct mig_conn {
	int fd;
	bool local;	  /* a UNIX socket: fds may pass */
	bool cancellable; /* cancel_fd readable: sends give up with -ECANCELED */
	int cancel_fd;
	bool broken;		 /* a send failed: the stream may end mid-message */
	uint64_t sent, received; /* bytes */
};

const char *mig_type_name(uint32_t type);

/* ---- pure encoding and checks (unit-tested) ---- */

void mig_hdr_encode(uint8_t out[MIG_HDR_LEN], uint32_t type, uint64_t len);
/* A header: a known type, flags 0, a length within the type's bound. */
int mig_hdr_parse(const uint8_t in[MIG_HDR_LEN], uint32_t *type, uint64_t *len,
		  struct state_err *err);
/* @out holds MIG_HELLO_MAX bytes; the encoded length. */
size_t mig_hello_encode(uint8_t *out, const struct mig_hello *h);
int mig_hello_decode(const void *buf, size_t len, struct mig_hello *h, struct state_err *err);
/*
 * Does this petrel read @h's stream (@version: the one it speaks), on a
 * processor of @h's vendor (@vendor: this host's)? -EPROTO or -EINVAL with
 * one line otherwise.
 */
int mig_hello_check(const struct mig_hello *h, uint32_t version, const char *vendor,
		    struct state_err *err);
/*
 * Can a vCPU given @host (what this petrel sets up for a vCPU of the same
 * machine) run @h's guest? -EINVAL with the first missing feature otherwise.
 */
int mig_hello_check_cpuid(const struct mig_hello *h, struct kvm_cpuid_entry2 *host,
			  unsigned int nhost, struct state_err *err);
void mig_mem_hdr_encode(uint8_t out[MIG_MEM_HDR_LEN], uint64_t gpa, uint32_t pages, bool zero);
int mig_mem_decode(const void *buf, size_t len, struct mig_mem *m, struct state_err *err);
/* @out holds MIG_MEMFD_MAX bytes; the encoded length. */
size_t mig_memfd_encode(uint8_t *out, const struct mig_memfd *f);
/* Regions within the size, page aligned, not overlapping in the file. */
int mig_memfd_decode(const void *buf, size_t len, struct mig_memfd *f, struct state_err *err);
/* @out holds MIG_RELEASED_MAX bytes; the encoded length (0 with no TAP). */
size_t mig_released_encode(uint8_t *out, const struct mig_released *r);
/* An empty payload is no TAP; a NIC named twice is refused. */
int mig_released_decode(const void *buf, size_t len, struct mig_released *r, struct state_err *err);

/* ---- on a socket ---- */

/* A message of @a then @b (either may be empty): 0 or -errno. */
int mig_send(struct mig_conn *c, uint32_t type, const void *a, size_t alen, const void *b,
	     size_t blen);
/* A message of @a with @nfds fds (copies: the caller keeps its own), on a local connection. */
int mig_send_fds(struct mig_conn *c, uint32_t type, const void *a, size_t alen, const int *fds,
		 unsigned int nfds);
/*
 * The next message, checked against its bounds: 0, or -errno with @err
 * saying what (the peer closed the connection, a malformed header...).
 * An ERROR message is returned as such (its text in msg->buf, NUL-ended).
 */
int mig_recv(struct mig_conn *c, struct mig_msg *msg, struct state_err *err);
void mig_msg_free(struct mig_msg *msg);
/* Close the fds of @msg that were not taken. */
void mig_msg_close_fds(struct mig_msg *msg);
/* An ERROR message with the line @why (best effort). */
void mig_send_error(struct mig_conn *c, const char *why);

#endif
