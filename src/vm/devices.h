/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine's legacy devices and its I/O thread. */
#ifndef PETREL_VM_DEVICES_H
#define PETREL_VM_DEVICES_H

#include "vm/machine.h"
#include "vm/vm_state.h"

int vm_devices_create(struct machine *m);
void vm_devices_destroy(struct machine *m);
/* Run the I/O thread's loop (console, signals) until the machine stops. */
void vm_devices_event_loop(struct machine *m);
/*
 * Hold (or release) the devices' work on the I/O thread: doorbells, TAPs,
 * timers and completions wait while the machine is paused; the console and
 * signals go on. Returns once the I/O thread obeys (-ETIMEDOUT after
 * @timeout_ms); at once when its loop is not running (it reads the hold
 * when it starts).
 */
int vm_devices_hold(struct machine *m, bool hold, int timeout_ms);
/* Ctrl-Alt-Del typed on the i8042 keyboard (-EAGAIN when it cannot take it now). */
int vm_devices_ctrl_alt_del(struct machine *m);
/* A press of the ACPI fixed power button (the guest sees it through the SCI). */
int vm_devices_power_button(struct machine *m);
/*
 * A migration between two petrels on one host hands over the host side of
 * the devices, the machine paused and its devices held: release syncs each
 * disk image and lets go of its lock, closes the TAPs (unless @keep_taps:
 * their fds go to the destination) and removes the vsock device's UDS (its
 * connections closed) (-errno, with everything kept, when a sync fails);
 * take locks the images, opens the TAPs and creates the UDS (the
 * destination's; or the source's again after a failed handover),
 * taking all it can and returning the first failure.
 */
int vm_devices_release_host(struct machine *m, bool keep_taps);
int vm_devices_take_host(struct machine *m, char *why, size_t len);
/*
 * A local migration hands the TAPs over as fds: the source keeps them
 * attached (keep_taps above: its I/O is held, the TAP queues what comes)
 * and gives their fds (still its own) with the NIC index of each, the
 * count returned; the destination takes them with
 * vm_devices_take_host_fds, which checks each fd is its NIC's TAP (by
 * name), takes those it uses (set to -1 in @fds: the machine's now) and
 * opens the TAPs of the NICs without one. The caller closes what is left.
 */
unsigned int vm_devices_tap_fds(struct machine *m, int *fds, uint32_t *nics, unsigned int max);
int vm_devices_take_host_fds(struct machine *m, int *fds, const uint32_t *nics, unsigned int n,
			     char *why, size_t len);
/* Disk @idx (in --disk order) gets the image at @path; the guest sees the new capacity. */
int vm_devices_set_disk(struct machine *m, unsigned int idx, const char *path);
/* Counters of disk or NIC @idx (-ENODEV when there is none); any thread. */
int vm_devices_disk_counts(struct machine *m, unsigned int idx, uint64_t *kicks,
			   uint64_t *interrupts);
int vm_devices_net_stats(struct machine *m, unsigned int idx, struct virtio_net_stats *out);
/*
 * Every device's state as sections (the machine paused, device work held):
 * block requests in flight are completed and flushed first, a NIC's held
 * transmit chains are given back and its queues rewound, console output is
 * flushed. -errno with @err naming the device.
 */
int vm_devices_save(struct machine *m, const struct vm_state_sink *sink, struct vm_state_err *err);
/*
 * Put saved state into the devices of a machine just created from the same
 * configuration (not yet running): PCI config spaces and BARs, MSI-X (routes
 * and irqfds rebuilt), virtio transports and queues, legacy devices. Every
 * value is checked as if the guest had written it. Once the machine runs,
 * every enabled queue is processed once as if kicked (a received packet
 * that was waiting for buffers is delivered then). -errno with @err naming
 * the section and the field.
 */
int vm_devices_restore(struct machine *m, const struct vm_state_source *src,
		       struct vm_state_err *err);
/*
 * Every NIC whose driver negotiated VIRTIO_NET_F_GUEST_ANNOUNCE is asked to
 * announce itself (gratuitous ARP, unsolicited neighbour advertisements):
 * VIRTIO_NET_S_ANNOUNCE and a configuration interrupt. After a restore,
 * once the vCPUs' and the VM's interrupt state are back (an interrupt
 * raised before would be overwritten by them): machine_restore_state calls
 * it last; a migration calls it at switchover. A vsock device closes its
 * connections (none came across) and sends the driver a TRANSPORT_RESET
 * event. Returns how many devices were asked.
 */
unsigned int vm_devices_announce(struct machine *m);
/*
 * The legacy devices' edge interrupts put in step with the interrupt
 * controllers just restored (i8042_resync_irqs); machine_restore_state
 * calls it after the VM's interrupt state is back.
 */
void vm_devices_resync_irqs(struct machine *m);
/*
 * The balloon's target (4 KiB pages) and statistics interval (seconds, only
 * when it has statistics), each when not NULL; any thread. -ENODEV without
 * a balloon, -EINVAL for an interval it cannot take.
 */
int vm_devices_balloon_set(struct machine *m, const uint32_t *target_pages,
			   const unsigned int *stats_interval_s);
int vm_devices_balloon_info(struct machine *m, struct virtio_balloon_info *out);
/* Flush buffered console output. */
void vm_devices_flush(struct machine *m);
/* Per virtio queue: doorbells and interrupts; per NIC: packets (for --stats). */
void vm_devices_print_stats(struct machine *m, FILE *out);

#endif
