/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PETREL_VM_BOOT_H
#define PETREL_VM_BOOT_H

#include "vm/machine.h"

/* Put the guest's code (kernel, initramfs, tables or a flat binary) in RAM. */
int vm_boot_load(struct machine *m);
/* CPUID, MSRs, FPU and the entry registers of one vCPU. */
int vm_boot_setup_vcpu(struct machine *m, struct vm_vcpu *v);

#endif
