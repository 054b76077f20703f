/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The machine side of a debugger: guest-virtual memory access through a
 * vCPU's page tables, software breakpoints (int3 written into guest memory,
 * use-counted, original bytes kept), the four hardware debug registers on
 * every vCPU, single-step, and stop events from the vCPU threads.
 */
#ifndef PETREL_DEBUG_GUEST_DEBUG_H
#define PETREL_DEBUG_GUEST_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/machine.h"

#define VM_DEBUG_MAX_SW_BP 256

enum vm_debug_stop_reason {
	VM_DEBUG_STOP_NONE,
	VM_DEBUG_STOP_SIGNAL, /* Ctrl-C or a pause */
	VM_DEBUG_STOP_STEP,
	VM_DEBUG_STOP_SW_BP,
	VM_DEBUG_STOP_HW_BP,
	VM_DEBUG_STOP_WATCH,
};

struct vm_sw_bp {
	uint64_t gva;
	uint64_t gpa;
	uint8_t orig;
	unsigned int uses;
};

struct vm_debug {
	struct machine *m;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vm_sw_bp sw[VM_DEBUG_MAX_SW_BP];
	unsigned int nr_sw;
	uint64_t dr[4];
	uint64_t dr7;
	bool *step; /* per vCPU: the debugger asked for a single step */
	bool *over; /* per vCPU: stepping over our breakpoint at over_gva */
	uint64_t *over_gva;
	/* The first stop since the last resume, reported to the debugger. */
	bool stopped;
	unsigned int stop_vcpu;
	enum vm_debug_stop_reason stop_reason;
	uint64_t stop_addr; /* watchpoint data address, breakpoint pc */
	void (*on_stop)(void *opaque);
	void *on_stop_opaque;
};

int vm_debug_init(struct vm_debug *d, struct machine *m);
void vm_debug_destroy(struct vm_debug *d);

/* Guest-virtual memory through vCPU idx's current paging; -EFAULT if unmapped. */
int vm_debug_read(struct vm_debug *d, unsigned int idx, uint64_t gva, void *buf, uint64_t len);
int vm_debug_write(struct vm_debug *d, unsigned int idx, uint64_t gva, const void *buf,
		   uint64_t len);
int vm_debug_sw_insert(struct vm_debug *d, unsigned int idx, uint64_t gva);
int vm_debug_sw_remove(struct vm_debug *d, uint64_t gva);
bool vm_debug_sw_at(struct vm_debug *d, uint64_t gva);
/* Hardware slots: the caller has computed dr[] and dr7 (see gdb_x86). */
int vm_debug_set_hw(struct vm_debug *d, const uint64_t dr[4], uint64_t dr7);
/* Remove every breakpoint and watchpoint (debugger detached). */
void vm_debug_clear_all(struct vm_debug *d);
/* Apply the debug configuration (steps, breakpoints) to every vCPU; paused machine. */
int vm_debug_apply(struct vm_debug *d);
void vm_debug_apply_vcpu(struct vm_debug *d, unsigned int idx);

/* Stop every vCPU (all-stop) and record why; resume with the step flags set. */
void vm_debug_stop_all(struct vm_debug *d);
/* From a vCPU thread: a KVM_EXIT_DEBUG, or an emulation failure on our int3. */
bool vm_debug_handle_exit(struct vm_debug *d, struct vm_vcpu *v);
bool vm_debug_handle_emulation_failure(struct vm_debug *d, struct vm_vcpu *v);
void vm_debug_resume(struct vm_debug *d);

#endif
