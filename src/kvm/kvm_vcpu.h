/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vCPUs: the mapped kvm_run, a register cache with dirty flags, the run loop
 * that decodes exits, kicks from other threads, and exit counters.
 */
#ifndef PETREL_KVM_KVM_VCPU_H
#define PETREL_KVM_KVM_VCPU_H

#include <signal.h>
#include <stdio.h>

#include "kvm/kvm.h"

/* The signal used to kick a vCPU thread out of KVM_RUN. */
#define KVM_KICK_SIGNAL SIGUSR1

enum kvm_exit_stat {
	KVM_STAT_IO,
	KVM_STAT_MMIO,
	KVM_STAT_HLT,
	KVM_STAT_SHUTDOWN,
	KVM_STAT_FAIL_ENTRY,
	KVM_STAT_INTERNAL_ERROR,
	KVM_STAT_SYSTEM_EVENT,
	KVM_STAT_DEBUG,
	KVM_STAT_INTR, /* KVM_RUN interrupted: kicks and signals */
	KVM_STAT_IRQ_WINDOW,
	KVM_STAT_DIRTY_RING_FULL, /* harvested in the run loop, the guest goes on */
	KVM_STAT_UNKNOWN,
	KVM_STAT_COUNT
};

/* What the run loop reports to its caller; I/O and MMIO are handled inside. */
enum kvm_vcpu_event {
	KVM_EV_HLT,
	KVM_EV_SHUTDOWN,
	KVM_EV_FAIL_ENTRY,
	KVM_EV_INTERNAL_ERROR,
	KVM_EV_SYSTEM_EVENT,
	KVM_EV_DEBUG,
	KVM_EV_KICKED,
	KVM_EV_UNKNOWN,
	KVM_EV_STOP,	     /* an exit handler asked the loop to return */
	KVM_EV_MEMORY_ERROR, /* the guest touched a bad host page: at mem_error_hva */
};

struct kvm_vcpu;

struct kvm_exit_ops {
	/* One port access of size 1, 2 or 4; data is read or filled. */
	void (*pio)(void *opaque, struct kvm_vcpu *v, uint16_t port, bool in, unsigned int size,
		    uint8_t *data);
	/* One MMIO access of 1 to 8 bytes. */
	void (*mmio)(void *opaque, struct kvm_vcpu *v, uint64_t addr, bool write, unsigned int len,
		     uint8_t *data);
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	int fd;
	unsigned int id;
	struct kvm_run *run;
	size_t run_size;

	struct kvm_regs regs;
	struct kvm_sregs sregs;
	bool regs_valid, regs_dirty;
	bool sregs_valid, sregs_dirty;

	/* Set by an exit handler to make kvm_vcpu_run return KVM_EV_STOP. */
	bool stop_loop;
	/*
	 * The last exit was an I/O or MMIO access that KVM finishes on the next
	 * KVM_RUN (an IN's data, the instruction pointer): kvm_vcpu_settle.
	 */
	bool exit_unfinished;
	pthread_t thread;
	bool thread_valid;

	/* Machine checks (kvm_mce.h): the MCG_CAP given to the guest, 0 for none. */
	uint64_t mcg_cap;
	bool mce_amd;
	void *mem_error_hva; /* the host address of KVM_EV_MEMORY_ERROR */

	/* The dirty ring, when the VM uses it: mapped from fd, harvested from dirty_fetch. */
	struct kvm_dirty_gfn *dirty_gfns;
	uint32_t dirty_fetch;
	unsigned int dirty_full_empty; /* ring-full exits in a row with nothing to harvest */
	bool dirty_suspect;	       /* KVM may have overrun the ring: look past gaps */

	uint64_t stats[KVM_STAT_COUNT];
	/*
	 * What KVM_SET_CPUID2 was last given (kvm_vcpu_set_cpuid): read
	 * without KVM, which would wait for a running vCPU to come out.
	 */
	struct kvm_cpuid2 *cpuid;
};

/* Install the (empty) kick signal handler once per process. */
int kvm_vcpu_signals_init(void);
int kvm_vcpu_create(struct kvm_vcpu *v, struct kvm_vm *vm, unsigned int id);
void kvm_vcpu_destroy(struct kvm_vcpu *v);
int kvm_vcpu_ioctl(struct kvm_vcpu *v, unsigned long req, void *arg);
/*
 * KVM_SET_CPUID2, and what KVM then holds kept in v->cpuid (freed by
 * kvm_vcpu_destroy; NULL when it could not be read back).
 */
int kvm_vcpu_set_cpuid(struct kvm_vcpu *v, const struct kvm_cpuid2 *cpuid);

/*
 * Let KVM finish the instruction of an I/O or MMIO exit without running the
 * guest on (KVM_RUN with immediate_exit), so the vCPU's state can be read
 * whole. Call on the vCPU's own thread, out of kvm_vcpu_run; 0 or -errno.
 */
int kvm_vcpu_settle(struct kvm_vcpu *v);

/* Register cache: load lazily, write back before the next KVM_RUN. */
struct kvm_regs *kvm_vcpu_regs(struct kvm_vcpu *v);
struct kvm_sregs *kvm_vcpu_sregs(struct kvm_vcpu *v);
void kvm_vcpu_regs_dirty(struct kvm_vcpu *v);
void kvm_vcpu_sregs_dirty(struct kvm_vcpu *v);
int kvm_vcpu_regs_flush(struct kvm_vcpu *v);
/* Drop the cache (after the state changed behind it, e.g. a restore). */
void kvm_vcpu_regs_invalidate(struct kvm_vcpu *v);

/*
 * Run until an exit the caller must decide on. Port I/O (including string
 * I/O with a count) and MMIO go through ops; coalesced writes are replayed
 * first. Returns an event, or -errno when KVM_RUN itself fails.
 */
int kvm_vcpu_run(struct kvm_vcpu *v, const struct kvm_exit_ops *ops, void *opaque);
/* From another thread: make the vCPU leave KVM_RUN at once. */
void kvm_vcpu_kick(struct kvm_vcpu *v);

/*
 * KVM_KVMCLOCK_CTRL: tell the guest, through its pvclock page, that the host
 * stopped it (PVCLOCK_GUEST_STOPPED), so its soft-lockup and RCU stall
 * watchdogs do not count the pause against it. Call it for each vCPU of a
 * paused machine, before resuming it. Returns 0 or -errno: -EINVAL when the
 * guest has not set up kvmclock on this vCPU (callers ignore it); x86 KVM
 * also answers -EINVAL to an ioctl it lacks, which kvm_vcpu_has_kvmclock_ctrl
 * tells apart.
 *
 * Any thread may call it: KVM serialises vCPU ioctls, so while the vCPU is
 * inside KVM_RUN the call waits until the vCPU leaves it (kick it first, or
 * call it only when the vCPU threads are parked). It touches no petrel state.
 */
int kvm_vcpu_kvmclock_ctrl(struct kvm_vcpu *v);
/* Does the host offer KVM_KVMCLOCK_CTRL (KVM_CAP_KVMCLOCK_CTRL, cached)? */
bool kvm_vcpu_has_kvmclock_ctrl(const struct kvm_vcpu *v);

/* Guest-virtual -> guest-physical through the vCPU's current paging. */
int kvm_vcpu_translate(struct kvm_vcpu *v, uint64_t gva, uint64_t *gpa);
/* Registers, segments and the code bytes at RIP, for error reports. */
void kvm_vcpu_dump(struct kvm_vcpu *v, FILE *out);
/* Human text for an internal-error exit (suberror and data words). */
void kvm_vcpu_describe_exit(struct kvm_vcpu *v, FILE *out);
const char *kvm_exit_stat_name(enum kvm_exit_stat s);

#endif
