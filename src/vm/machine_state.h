/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A machine's whole state but its RAM, as sections (vm_state.h): the
 * machine's shape, "vcpu.N" for each vCPU, "kvm-vm" (in-kernel PIC, IOAPIC,
 * PIT and clock), "memerr" (the poisoned pages), then every device's.
 */
#ifndef PETREL_VM_MACHINE_STATE_H
#define PETREL_VM_MACHINE_STATE_H

#include "vm/machine.h"
#include "vm/vm_state.h"

/*
 * Save the paused machine (its devices' work held: vm_devices_hold). Each
 * vCPU finished its last I/O instruction when it paused.
 */
int machine_save_state(struct machine *m, const struct vm_state_sink *sink,
		       struct vm_state_err *err);
/*
 * Put a saved state into machine @m, created (machine_create, with
 * cfg.restore_mem) from the same configuration and not yet run: its shape
 * is checked, then the devices, the vCPUs (their CPUID checked against what
 * this host gives), the in-kernel devices, and the clock last. The machine is
 * left paused: machine_run starts its threads, machine_resume the guest.
 */
int machine_restore_state(struct machine *m, const struct vm_state_source *src,
			  struct vm_state_err *err);

#endif
