/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one place a machine is assembled: a configuration goes in, a wired VM
 * comes out. The CLI (and later the control API) only fill vm_config.
 */
#ifndef PETREL_VM_MACHINE_H
#define PETREL_VM_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "dev/platform.h"
#include "kvm/kvm.h"
#include "kvm/kvm_vcpu.h"
#include "mem/guest_mem.h"
#include "vm/memory_error.h"
#include "vm/sandbox.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_vsock_conn.h"

#define VM_MAX_VCPUS 256

/* petrel's exit statuses (documented in the README). */
enum vm_exit_status {
	VM_EXIT_POWEROFF = 0,
	VM_EXIT_ERROR = 1,
	VM_EXIT_USAGE = 2,
	VM_EXIT_REBOOT = 4, /* guest reboot with --on-reboot exit */
	VM_EXIT_TRIPLE_FAULT = 6,
	VM_EXIT_PANIC = 8,
	VM_EXIT_INTERNAL_ERROR = 10, /* KVM internal error / emulation failure / failed entry */
	VM_EXIT_SECCOMP = 12,	     /* a thread made a syscall its seccomp filter forbids */
	VM_EXIT_SIGNAL_BASE = 128,   /* + signal number */
};

enum vm_boot_mode {
	VM_BOOT_KERNEL,	   /* Linux bzImage or PVH vmlinux */
	VM_BOOT_FLAT_REAL, /* flat binary at 0x10000, real mode, cs=0x1000 */
	VM_BOOT_FLAT_LONG, /* flat binary at 0x100000, 64-bit mode, identity paging */
};

enum vm_serial_mode { VM_SERIAL_STDIO, VM_SERIAL_FILE, VM_SERIAL_OFF };

struct vm_config {
	unsigned int cpus;
	uint64_t mem_size;
	enum vm_boot_mode boot;
	const char *firmware;
	const char *kernel;
	const char *initramfs;
	const char *cmdline;
	enum vm_serial_mode serial;
	const char *serial_path;
	/* the file's cap in bytes: 0 for VM_SERIAL_FILE_MAX, UINT64_MAX for none */
	uint64_t serial_max;
#define VM_SERIAL_FILE_MAX (256ULL << 20)
	bool serial_append; /* keep what the file holds (after a guest reboot) */
	bool console_hvc;   /* --console hvc: a virtio-console is the guest's console */
	bool rng;	    /* --rng: a virtio-rng device */
#define VM_MAX_DISKS 8
	/* --disk path=FILE[,readonly=on][,serial=ID]: the strings belong to the filler */
	struct virtio_blk_config_opts disks[VM_MAX_DISKS];
	unsigned int nr_disks;
#define VM_MAX_NETS 4
	struct virtio_net_config_opts nets[VM_MAX_NETS]; /* --net tap=NAME[,mac=MAC] */
	unsigned int nr_nets;
	bool vsock_on; /* --vsock cid=N,uds=PATH */
	struct virtio_vsock_config_opts vsock;
	struct virtio_balloon_opts balloon; /* --balloon */
	const char *gdb;		    /* --gdb tcp:HOST:PORT, or NULL */
	bool gdb_wait;	   /* --gdb-wait: hold the vCPUs until the debugger continues */
	bool reboot_exits; /* --on-reboot exit */
	bool stats;	   /* print exit counters at the end */
	bool test_device;  /* the test device used by petrel's own guests */
	bool boot_timer;   /* Firecracker's boot timer (--boot-timer) */
	bool irqchip;	   /* in-kernel irqchip for firmware guests (always for kernels) */
	const char *kvm_path;
	enum sandbox_mode sandbox; /* --seccomp: the filters of the machine's threads */
	/*
	 * A snapshot's memory file: guest RAM is mapped from it privately and
	 * no guest is loaded (the snapshot's state is put back afterwards).
	 */
	const char *restore_mem;
	/* RAM comes from a migration stream: it starts zero and nothing is loaded. */
	bool incoming;
	/* Guest RAM in a memfd (--memory SIZE,shared=on): a local migration hands it over. */
	bool mem_shared;
	/*
	 * A local migration's destination: RAM is the source's memfd @mem_fd,
	 * mapped shared (the caller keeps its fd; the machine takes a copy).
	 */
	bool has_mem_fd;
	int mem_fd;
	/* Log the pages the guest writes from the start (for diff snapshots). */
	bool track_dirty;
	/*
	 * --dirty-log bitmap|ring: how written pages are found whenever they are
	 * logged (snapshots, migration); the ring has dirty_ring_bytes per vCPU
	 * (0: KVM_DIRTY_RING_DEFAULT_BYTES). A choice of this process and host,
	 * not of the VM: snapshots and migration streams do not carry it.
	 */
	enum kvm_dirty_mode dirty_log;
	uint32_t dirty_ring_bytes;
};

enum vm_state { VM_RUNNING, VM_PAUSED, VM_STOPPING };

struct vm_vcpu {
	struct machine *m;
	struct kvm_vcpu kvm;
	pthread_t thread;
	bool started;
	bool entered;		 /* its thread runs and obeys pause requests (set under the lock) */
	bool halted;		 /* waiting in HLT without an in-kernel irqchip */
	bool paused;		 /* acknowledged a pause request */
	bool held;		 /* kept paused while the others run (a debugger's vCont) */
	struct vm_mce_queue mce; /* machine checks to inject before the next entry */
};

/* Where the boot vCPU starts, filled by the loader. */
struct vm_boot_entry {
	uint64_t rip;
	uint64_t rsi; /* Linux 64-bit boot protocol: boot_params */
	uint64_t rbx; /* PVH: hvm_start_info */
	bool pvh;     /* 32-bit protected-mode entry */
};

struct vm_testdev;
struct vm_debug;
struct vm_gdb;
struct uart;
struct vm_devices;

/* Each returns true when it took the exit (the vCPU goes on running). */
struct machine_debug_hooks {
	bool (*debug_exit)(struct vm_debug *d, struct vm_vcpu *v);
	bool (*emulation_failure)(struct vm_debug *d, struct vm_vcpu *v);
};

struct machine {
	struct vm_config cfg;
	struct kvm_sys sys;
	struct kvm_vm vm;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct platform platform;
	struct vm_devices *devs;
	struct vm_testdev *testdev;
	struct vm_boot_entry entry;

	unsigned int nr_vcpus;
	struct vm_vcpu *vcpus;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vm_state state;
	bool pause_requested;
	bool reset_requested;
	bool panicked; /* the guest reported a panic: its reset or poweroff ends with status 8 */
	int exit_status;
	int stop_efd; /* signalled when the machine stops, wakes the event loop */
	/*
	 * A debugger attached from above (src/debug): the vCPU threads hand it
	 * their debug exits and the emulation failures it may have caused.
	 */
	const struct machine_debug_hooks *debug_hooks;
	struct vm_debug *debug;
	struct vm_gdb *gdb;
	/* Host memory errors in guest RAM: poisoned pages, errors waiting for vCPU 0. */
	struct vm_memerr memerr;
};

/* Assemble everything from cfg; on failure nothing is left behind. */
int machine_create(struct machine *m, const struct vm_config *cfg);
/* Start the vCPU threads and the I/O thread (the event loop); wait until the guest stops. */
int machine_run(struct machine *m);
void machine_destroy(struct machine *m);

/* Lifecycle requests, from any thread. */
void machine_request_stop(struct machine *m, int status);
void machine_request_reset(struct machine *m);
/* The guest's kernel panicked (pvpanic): what ends the machine next ends it with status 8. */
void machine_report_panic(struct machine *m);
/* Stop every vCPU outside KVM_RUN (for debuggers and snapshots) and resume. */
void machine_pause(struct machine *m);
/*
 * The same within @timeout_ms (-1: no bound): -ETIMEDOUT (the vCPUs that
 * stopped go on) or -ESRCH when the machine is stopping.
 */
int machine_pause_timeout(struct machine *m, int timeout_ms);
void machine_resume(struct machine *m);
void machine_print_stats(struct machine *m, FILE *out);

#endif
