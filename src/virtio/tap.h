/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A Linux TAP interface as a network backend: Ethernet frames, each with a
 * 12-byte virtio_net_hdr_v1 in front (the vnet header), on a nonblocking fd.
 */
#ifndef PETREL_VIRTIO_TAP_H
#define PETREL_VIRTIO_TAP_H

/* Size of the vnet header the TAP reads and writes: virtio_net_hdr_v1. */
#define TAP_VNET_HDR_LEN 12

/* Offload flags for tap_set_offload (what the TAP may hand us). */
#define TAP_OFFLOAD_CSUM 0x01
#define TAP_OFFLOAD_TSO4 0x02
#define TAP_OFFLOAD_TSO6 0x04
#define TAP_OFFLOAD_ECN 0x08
#define TAP_OFFLOAD_UFO 0x10

/*
 * Attach to the TAP @name (created when it does not exist and we may):
 * no packet information, a 12-byte vnet header, no offloads, nonblocking.
 * Returns the fd, or -errno with *what naming the step that failed (e.g.
 * "cannot open /dev/net/tun") for the caller's message.
 */
int tap_open(const char *name, const char **what);
/* Which offloads the TAP may use towards us: TAP_OFFLOAD_* bits; -errno. */
int tap_set_offload(int fd, unsigned int offloads);
void tap_close(int fd);
/*
 * Check that @fd is the TAP @name (a vnet header, no packet information),
 * opened elsewhere, and set it up as tap_open does (vnet header size,
 * nonblocking); the offloads are left to the caller. -ENODEV when it is
 * not that TAP, -errno otherwise.
 */
int tap_adopt(int fd, const char *name);

#endif
