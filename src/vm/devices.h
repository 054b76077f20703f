/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine's legacy devices and its I/O thread. */
#ifndef PETREL_VM_DEVICES_H
#define PETREL_VM_DEVICES_H

#include "vm/machine.h"

int vm_devices_create(struct machine *m);
void vm_devices_destroy(struct machine *m);
/* Run the I/O thread's loop (console, signals) until the machine stops. */
void vm_devices_event_loop(struct machine *m);
/* Flush buffered console output. */
void vm_devices_flush(struct machine *m);
/* Per virtio queue: doorbells and interrupts; per NIC: packets (for --stats). */
void vm_devices_print_stats(struct machine *m, FILE *out);

#endif
