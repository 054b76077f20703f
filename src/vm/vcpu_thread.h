/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PETREL_VM_VCPU_THREAD_H
#define PETREL_VM_VCPU_THREAD_H

#include "vm/machine.h"

int vcpu_thread_start(struct vm_vcpu *v);
void vcpu_thread_join(struct vm_vcpu *v);

#endif
