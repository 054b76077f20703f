/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * petrel's accelerator layer: the /dev/kvm system handle, VMs and vCPUs.
 * Every wrapper returns 0 (or a non-negative result) on success and -errno on
 * failure; messages are printed only where the context is known.
 */
#ifndef PETREL_KVM_KVM_H
#define PETREL_KVM_KVM_H

#include <linux/kvm.h>
#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm/kvm_slots.h"

enum kvm_cap_id {
	KVM_CAPX_IRQ_ROUTING,
	KVM_CAPX_SIGNAL_MSI,
	KVM_CAPX_IRQFD,
	KVM_CAPX_IOEVENTFD,
	KVM_CAPX_COALESCED_MMIO,
	KVM_CAPX_COALESCED_PIO,
	KVM_CAPX_VCPU_EVENTS,
	KVM_CAPX_DEBUGREGS,
	KVM_CAPX_XSAVE,
	KVM_CAPX_XCRS,
	KVM_CAPX_PIT2,
	KVM_CAPX_MANUAL_DIRTY_LOG_PROTECT2,
	KVM_CAPX_IMMEDIATE_EXIT,
	KVM_CAPX_SET_GUEST_DEBUG,
	KVM_CAPX_IRQCHIP,
	KVM_CAPX_TSC_CONTROL,
	KVM_CAPX_KVMCLOCK_CTRL,
	KVM_CAPX_DIRTY_LOG_RING,	 /* value: the largest ring in bytes */
	KVM_CAPX_DIRTY_LOG_RING_ACQ_REL, /* value: the largest ring in bytes */
	KVM_CAPX_NR_MEMSLOTS,		 /* value, not a flag */
	KVM_CAPX_COUNT
};

struct kvm_sys {
	int fd;
	int api_version;
	int nr_vcpus;  /* recommended (KVM_CAP_NR_VCPUS) */
	int max_vcpus; /* hard limit (KVM_CAP_MAX_VCPUS) */
	int run_size;  /* mmap size of struct kvm_run */
	int caps[KVM_CAPX_COUNT];
	bool pvm;       /* software virtualization (kvm_pvm): guest CPL0 is emulated */
	bool hw_virt;   /* vmx or svm present */
};

/* Name of a capability for messages ("ioeventfd", ...). */
const char *kvm_cap_name(enum kvm_cap_id id);
/* Open /dev/kvm (or path), check the API and fill the capability cache. */
int kvm_sys_open(struct kvm_sys *sys, const char *path);
void kvm_sys_close(struct kvm_sys *sys);
int kvm_sys_check_extension(struct kvm_sys *sys, long cap);
/* Decide the vCPU limit as the kernel documentation says. */
int kvm_sys_vcpu_limit(const struct kvm_sys *sys);
/* Print the flavour, limits and capabilities (petrel info). */
void kvm_sys_describe(const struct kvm_sys *sys, FILE *out);

struct kvm_gsi_routes {
	struct kvm_irq_routing *table; /* committed with KVM_SET_GSI_ROUTING */
	unsigned int nr_alloc;
	uint32_t *used; /* bitmap of allocated GSIs */
	unsigned int gsi_count;
	pthread_mutex_t lock;
};

/* How the pages the guest writes are found: KVM_GET_DIRTY_LOG or the dirty ring. */
enum kvm_dirty_mode {
	KVM_DIRTY_LOG_BITMAP,
	KVM_DIRTY_LOG_RING,
};

/* The largest dirty ring this host takes per vCPU, in bytes; 0 when it has none. */
uint32_t kvm_sys_dirty_ring_max(const struct kvm_sys *sys);

struct kvm_vcpu;

/*
 * The dirty ring of a VM (kvm_dirty_ring.c). Everything here is guarded by
 * the VM's slots_lock: the thread that syncs the log and a vCPU thread whose
 * ring filled both harvest.
 */
struct kvm_dirty_rings {
	uint32_t bytes;	  /* per vCPU; 0: the bitmap is used */
	uint32_t entries; /* bytes / sizeof(struct kvm_dirty_gfn) */
	bool acq_rel;	  /* enabled as KVM_CAP_DIRTY_LOG_RING_ACQ_REL */
	struct kvm_vcpu **vcpus;
	unsigned int nr_vcpus;
	/*
	 * Pages harvested but not yet given to a sync (a ring that filled
	 * between two syncs): one bitmap per slot id, of pending_pages bits.
	 */
	unsigned long *pending[KVM_SLOTS_MAX];
	uint64_t pending_pages[KVM_SLOTS_MAX];
	bool lost; /* pages may be lost (no memory, a ring overrun): the next sync fails */
	uint64_t full_exits;
	uint64_t harvested;
};

struct kvm_vm {
	struct kvm_sys *sys;
	int fd;
	struct kvm_slot_table slots;
	pthread_mutex_t slots_lock;
	bool dirty_log_global;
	bool manual_protect;
	struct kvm_dirty_rings ring;

	struct kvm_coalesced_mmio_ring *coalesced_ring;
	pthread_mutex_t coalesced_lock;
	bool coalesced_flushing;
	/* Where flushed coalesced writes go (the MMIO/PIO bus dispatcher). */
	void (*coalesced_write)(void *opaque, uint64_t addr, const void *data, uint32_t len,
				bool pio);
	void *coalesced_opaque;

	bool irqchip;
	struct kvm_gsi_routes routes;
};

int kvm_vm_create(struct kvm_vm *vm, struct kvm_sys *sys);
void kvm_vm_destroy(struct kvm_vm *vm);
int kvm_vm_ioctl(struct kvm_vm *vm, unsigned long req, void *arg);
/* x86 set-up that must precede vCPU creation: TSS, identity map, irqchip, PIT. */
int kvm_vm_setup_x86(struct kvm_vm *vm, bool irqchip);

/* Memory slots (kvm_memory.c): apply the slot table to KVM. */
int kvm_mem_add(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva, bool log_dirty);
int kvm_mem_remove(struct kvm_vm *vm, uint64_t gpa, uint64_t size);
int kvm_mem_gpa_to_hva(struct kvm_vm *vm, uint64_t gpa, void **hva);
int kvm_mem_hva_to_gpa(struct kvm_vm *vm, const void *hva, uint64_t *gpa);

/*
 * Dirty logging (kvm_dirty.c). The bitmap (KVM_GET_DIRTY_LOG) unless
 * kvm_dirty_ring_enable chose the ring; the calls below are the same.
 */
int kvm_dirty_log_range(struct kvm_vm *vm, uint64_t gpa, uint64_t size, bool on);
int kvm_dirty_log_global(struct kvm_vm *vm, bool on);
/*
 * Fetch (and re-arm) the dirty pages of every logging slot; for each slot
 * calls fn(opaque, gpa, bitmap, npages). With manual protect the pages are
 * cleared explicitly after fn has consumed them. With the ring, every vCPU's
 * ring is harvested and reset first (pages written after the reset are in
 * the next sync), and the pages harvested when a ring filled are included.
 */
int kvm_dirty_log_sync(struct kvm_vm *vm,
		       void (*fn)(void *opaque, uint64_t gpa, const unsigned long *bitmap,
				  uint64_t npages),
		       void *opaque);

/*
 * The dirty ring (kvm_dirty_ring.c): enable it with bytes per vCPU (see
 * kvm_dirty_ring_check_size) before any vCPU exists; ACQ_REL when the host
 * has it. -EOPNOTSUPP when the host has no ring, -EINVAL for a bad size.
 */
int kvm_dirty_ring_enable(struct kvm_vm *vm, uint32_t bytes);
/* Map a new vCPU's ring and add it to the harvest (kvm_vcpu_create). */
int kvm_dirty_ring_vcpu_add(struct kvm_vm *vm, struct kvm_vcpu *v);
void kvm_dirty_ring_vcpu_remove(struct kvm_vm *vm, struct kvm_vcpu *v);
/*
 * KVM_EXIT_DIRTY_RING_FULL on v: move v's ring into the pending bitmaps and
 * reset it, so the vCPU can go on. KVM exits at its soft limit, a few
 * dozen entries (more with PML) short of the end, so the entries the CPU
 * logs on the way out still fit. -EOVERFLOW when KVM went past the end
 * anyway (pages were lost, the vCPU cannot go on; the next sync fails).
 */
int kvm_dirty_ring_full(struct kvm_vcpu *v);
/* The ring half of kvm_dirty_log_sync; slots_lock held. */
int kvm_dirty_ring_sync_locked(struct kvm_vm *vm,
			       void (*fn)(void *opaque, uint64_t gpa, const unsigned long *bitmap,
					  uint64_t npages),
			       void *opaque);
/* Harvest and forget: logging was turned off; slots_lock held. */
void kvm_dirty_ring_drop_locked(struct kvm_vm *vm);
void kvm_dirty_ring_free(struct kvm_vm *vm);

/* Coalesced MMIO/PIO (kvm_coalesced.c). */
int kvm_coalesced_add(struct kvm_vm *vm, uint64_t addr, uint32_t size, bool pio);
int kvm_coalesced_remove(struct kvm_vm *vm, uint64_t addr, uint32_t size, bool pio);
/* Replay queued writes through vm->coalesced_write; safe against re-entrance. */
void kvm_coalesced_flush(struct kvm_vm *vm);

/* ioeventfd and irqfd (kvm_eventfd.c). */
int kvm_ioeventfd_set(struct kvm_vm *vm, uint64_t addr, uint32_t len, int efd, bool pio,
		      bool match, uint64_t datamatch, bool assign);
int kvm_irqfd_set(struct kvm_vm *vm, int efd, uint32_t gsi, int resample_fd, bool assign);

/* In-kernel irqchip and GSI routing (kvm_irq.c). */
int kvm_irq_line(struct kvm_vm *vm, uint32_t gsi, int level);
int kvm_routes_init(struct kvm_gsi_routes *r, unsigned int gsi_count);
void kvm_routes_free(struct kvm_gsi_routes *r);
/* Pure table operations (unit-tested). */
int kvm_routes_alloc_gsi(struct kvm_gsi_routes *r);
void kvm_routes_free_gsi(struct kvm_gsi_routes *r, unsigned int gsi);
int kvm_routes_add_irqchip(struct kvm_gsi_routes *r, uint32_t gsi, uint32_t chip, uint32_t pin);
int kvm_routes_set_msi(struct kvm_gsi_routes *r, uint32_t gsi, uint64_t addr, uint32_t data);
int kvm_routes_remove(struct kvm_gsi_routes *r, uint32_t gsi);
/* The x86 default: GSI 0-15 on the PIC (except 2) and IOAPIC, 16-23 IOAPIC only. */
int kvm_routes_x86_defaults(struct kvm_gsi_routes *r);
/* Push the table to KVM. */
int kvm_routes_commit(struct kvm_vm *vm);
/* Allocate a GSI with an MSI route and commit; or update/release. */
int kvm_msi_route_add(struct kvm_vm *vm, uint64_t addr, uint32_t data);
int kvm_msi_route_update(struct kvm_vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);
int kvm_msi_route_release(struct kvm_vm *vm, uint32_t gsi);
int kvm_signal_msi(struct kvm_vm *vm, uint64_t addr, uint32_t data);

#endif
