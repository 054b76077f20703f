/* SPDX-License-Identifier: GPL-2.0-only */
/* CPU mode set-up for the boot vCPU: real, flat 32-bit, and 64-bit long mode. */
#ifndef PETREL_ARCH_X86_X86_MODE_H
#define PETREL_ARCH_X86_X86_MODE_H

#include <linux/kvm.h>

#include "mem/guest_mem.h"

/*
 * Long mode: identity page tables for the first 4 GiB (2 MiB pages) at
 * X86_PML4_ADDR, a GDT at X86_GDT_ADDR, and sregs with CR0.PE|PG, CR4.PAE,
 * EFER.LME|LMA and flat 64-bit code/data segments (selectors 0x10/0x18).
 */
int x86_mode_setup_long(struct guest_mem *gm, struct kvm_sregs *sregs);
/* Flat 32-bit protected mode, paging off (PVH entry). */
int x86_mode_setup_flat32(struct guest_mem *gm, struct kvm_sregs *sregs);
/* Real mode with every segment based at seg << 4 (flat binaries at seg:0). */
void x86_mode_setup_real(struct kvm_sregs *sregs, uint16_t seg);

#endif
