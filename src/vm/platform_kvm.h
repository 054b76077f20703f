/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PETREL_VM_PLATFORM_KVM_H
#define PETREL_VM_PLATFORM_KVM_H

#include "vm/machine.h"

/* Fill m->platform: what devices may ask of the machine, done with KVM. */
void platform_kvm_init(struct machine *m);

#endif
