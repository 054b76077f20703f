/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The test device of petrel's own assembly guests (--test-device): registers
 * that prove each kind of exit reached petrel and came back right.
 *
 * Port I/O (base VM_TESTDEV_PORT):
 *   +0x0  r/w 1/2/4  write stores a value; a read returns its complement
 *   +0x4  r/w 1      string FIFO: writes append, reads pop (0 when empty)
 *   +0x8  w 4        a vCPU reports its id; read: how many distinct ids so far
 *   +0xc  w 4        dirty log: 1 = start logging, 2 = sync the window
 *         r 4        next dirty page index of the window, 0xffffffff at the end
 *   +0x10 w 2        doorbell, backed by an ioeventfd (no exit when available)
 *   +0x14 r 4        how many doorbell writes the eventfd has counted
 *   +0x18 w 4        slot split: 1 = map a host buffer over 0x300000+64K, 2 = undo
 *         r 4        how many KVM memory slots are in use
 *   +0x1c w 1        interrupt: route an MSI with this vector to vCPU 0 through
 *                    an irqfd and signal it
 *   +0x20 w 4        seccomp: the vCPU thread opens /dev/null, a syscall its filter
 *                    forbids (with --seccomp kill petrel stops there, status 12)
 *         r 4        1 when the last such open worked (--seccomp log or off), else 0
 * MMIO (VM_TESTDEV_MMIO, 4 KiB): 8-byte registers; a read of size n at any
 * offset returns the complement of the last value written there. Writes to the
 * upper half (+0x800) are coalesced: KVM queues them without an exit.
 */
#ifndef PETREL_VM_TESTDEV_H
#define PETREL_VM_TESTDEV_H

#include "vm/machine.h"

#define VM_TESTDEV_PORT 0x510
#define VM_TESTDEV_PORT_LEN 0x24
#define VM_TESTDEV_MMIO 0xd0000000ULL
#define VM_TESTDEV_DIRTY_BASE 0x200000ULL /* the window the dirty test writes */
#define VM_TESTDEV_DIRTY_PAGES 512

int vm_testdev_create(struct machine *m);
void vm_testdev_destroy(struct machine *m);

#endif
