/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control interface: the one controller behind every front-end. The CLI,
 * the config file, the Firecracker routes and the Cloud Hypervisor routes
 * only translate what they are given into these calls; none of them touches
 * a machine. Every call is serialized by the controller's lock, checks
 * everything before it changes anything (a call that fails changes nothing),
 * and says why it failed in one line of *err.
 *
 * Before boot the calls fill a specification (struct api_vm_spec); boot
 * assembles a machine from it through the backend (struct api_backend),
 * which the real VMM implements with src/vm/ and unit tests with a fake.
 */
#ifndef PETREL_API_API_VMM_H
#define PETREL_API_API_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "api/api_telemetry.h"
#include "vm/machine.h"

#define API_ID_MAX 64	     /* a drive's or NIC's id, with its NUL */
#define API_ERR_MAX 384	     /* one line of error */
#define API_MIN_MEM_MIB 16   /* the machine refuses less */
#define API_CMDLINE_MAX 4096 /* with the root= petrel adds */

struct api_err {
	char msg[API_ERR_MAX];
};

/* Fill *err (printf style; control characters become ?) and return @ret (a negative errno). */
int api_fail(struct api_err *err, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

enum api_vm_state {
	API_VM_NONE,	   /* Cloud Hypervisor: no vm.create yet (Firecracker never sees it) */
	API_VM_CONFIGURED, /* configuration being filled; Firecracker's "Not started" */
	API_VM_RUNNING,
	API_VM_PAUSED,
	API_VM_SHUTDOWN, /* the machine stopped at the API's request; may boot again */
};

/* Firecracker's name of a state: "Not started", "Running" or "Paused". */
const char *api_vm_state_fc_name(enum api_vm_state s);
/* Cloud Hypervisor's: "Created", "Running", "Paused", "Shutdown". */
const char *api_vm_state_ch_name(enum api_vm_state s);

struct api_drive {
	char id[API_ID_MAX];
	char *path; /* malloc'ed */
	bool readonly;
	bool root;	/* Firecracker's is_root_device: root=/dev/vdX on the command line */
	char *partuuid; /* with root: root=PARTUUID=... instead; malloc'ed or NULL */
	bool direct;	/* O_DIRECT (Firecracker's cache_type has no say; CH's direct) */
	char *serial;	/* virtio-blk id the guest reads; NULL: the id (first 20 bytes) */
};

struct api_net {
	char id[API_ID_MAX];
	char tap[16];
	uint8_t mac[6];
	bool has_mac; /* without one, the machine derives it from the TAP's name */
};

/* The vsock device: Firecracker's PUT /vsock, Cloud Hypervisor's vsock. */
struct api_vsock {
	char id[API_ID_MAX]; /* Firecracker's vsock_id, CH's id; may be empty */
	uint64_t cid;
	char uds[VSOCK_UDS_PATH_MAX + 1]; /* the hybrid vsock's UNIX socket */
};

enum api_serial { API_SERIAL_STDIO, API_SERIAL_FILE, API_SERIAL_OFF };

/* What a boot assembles. Strings are malloc'ed and owned by the controller. */
struct api_vm_spec {
	unsigned int cpus;
	uint64_t mem_mib;
	bool mem_shared;	/* RAM in a memfd (a local migration hands it over) */
	bool smt;		/* accepted and reported; the topology is one thread per core */
	bool track_dirty_pages; /* Firecracker's machine-config field, kept for snapshots */
	char *kernel;
	char *initramfs;
	char *cmdline;
	struct api_drive drives[VM_MAX_DISKS];
	unsigned int nr_drives;
	struct api_net nets[VM_MAX_NETS];
	unsigned int nr_nets;
	bool rng;
	bool has_vsock;
	struct api_vsock vsock;
	struct virtio_balloon_opts balloon; /* target_mib follows the runtime updates */
	enum api_serial serial;
	char *serial_path;
	bool console_hvc;
	bool boot_timer;   /* Firecracker's --boot-timer */
	bool reboot_exits; /* --on-reboot exit */
	bool stats;
	const char *gdb; /* CLI only: --gdb (not owned) */
	bool gdb_wait;
	/* CLI only: flat binary guests (petrel's own tests) */
	char *firmware; /* malloc'ed */
	enum vm_boot_mode boot;
	bool test_device;
	bool irqchip;
	const char *kvm_path;
	uint64_t mem_bytes;  /* CLI only: --memory in bytes (any 4 KiB multiple); 0: mem_mib */
	uint64_t serial_max; /* CLI only: --serial-max (vm_config's meaning) */
	enum sandbox_mode sandbox; /* the controller's own, copied at boot */
	/* the controller's own (petrel run --dirty-log), copied at boot; never in a spec's JSON */
	enum kvm_dirty_mode dirty_log;
	uint32_t dirty_ring_bytes;
};

/* What only petrel's command line sets (not owned: they outlive the controller). */
struct api_local_opts {
	const char *firmware; /* a flat binary instead of a kernel */
	enum vm_boot_mode boot;
	uint64_t mem_bytes;
	uint64_t serial_max;
	const char *gdb;
	bool gdb_wait;
	bool reboot_exits;
	bool stats;
	bool test_device;
	bool irqchip;
	const char *kvm_path;
};

/* Counters of a running machine (vm.counters, metrics). */
struct api_counters {
	unsigned int nr_vcpus;
	uint64_t vcpu_exits[VM_MAX_VCPUS][KVM_STAT_COUNT];
	unsigned int nr_disks;
	struct {
		char id[API_ID_MAX];
		uint64_t kicks, interrupts;
	} disks[VM_MAX_DISKS];
	unsigned int nr_nets;
	struct {
		char id[API_ID_MAX];
		uint64_t rx_packets, rx_bytes, rx_dropped, tx_packets, tx_bytes, tx_dropped;
	} nets[VM_MAX_NETS];
	bool has_balloon;
	struct virtio_balloon_info balloon;
};

/* A snapshot of the paused machine: Firecracker's PUT /snapshot/create, vm.snapshot. */
struct api_snapshot_req {
	const char *state_path; /* the machine's state and its specification */
	const char *mem_path;	/* guest RAM */
	bool diff;		/* only the pages written since the last snapshot */
};

/*
 * A snapshot directory (Cloud Hypervisor's file:///DIR, petrel ctl snapshot
 * DIR, petrel run --restore DIR) holds these two files.
 */
#define API_SNAPSHOT_STATE_FILE "state"
#define API_SNAPSHOT_MEM_FILE "memory"

/* Where a restored NIC's or drive's host side moves to (by the id it had). */
struct api_net_override {
	char id[API_ID_MAX];
	char tap[16];
};

struct api_drive_override {
	char id[API_ID_MAX];
	const char *path; /* not owned */
};

/* A restore: Firecracker's PUT /snapshot/load, vm.restore, petrel run --restore. */
struct api_restore_req {
	const char *state_path;
	const char *mem_path;
	bool resume;		/* run the guest at once; else it stays paused */
	bool track_dirty_pages; /* for a later diff snapshot */
	struct api_net_override nets[VM_MAX_NETS];
	unsigned int nr_nets;
	struct api_drive_override drives[VM_MAX_DISKS];
	unsigned int nr_drives;
	enum sandbox_mode sandbox;     /* set by the controller (its own mode) */
	unsigned int max_vcpus;	       /* set by the controller (this host's limit) */
	enum kvm_dirty_mode dirty_log; /* set by the controller (its own choice) */
	uint32_t dirty_ring_bytes;
};

/* A live migration out: Cloud Hypervisor's vm.send-migration, petrel ctl migrate. */
struct api_migrate_req {
	const char *url;	  /* tcp:HOST:PORT */
	unsigned int downtime_ms; /* 0: the default */
	unsigned int max_rounds;  /* 0: the default */
	bool paused;		  /* set by the controller: the VM is paused */
};

/* Where a migration out stands (vm.info's "migration"). */
struct api_migration_status {
	/* "" (none yet), memory, dirty-rounds, switchover, completed, failed, cancelled */
	char phase[16];
	unsigned int round;
	uint64_t bytes_sent, bytes_remaining;
	uint64_t dirty_rate; /* pages a second */
	uint64_t bandwidth;  /* bytes a second */
	uint64_t downtime_ms, total_ms;
	uint64_t ram_bytes; /* the guest's RAM */
	bool memfd;	    /* RAM handed over as a memfd (a local migration): no page sent */
	char error[400];
};

/*
 * What the controller asks of the VMM. Each call is made with the
 * controller's lock held and returns within a bound (a stuck vCPU makes pause
 * fail with -ETIMEDOUT, never hang the API).
 */
struct api_backend {
	/*
	 * Assemble a machine from @spec (copy what is kept: @spec changes after)
	 * and start it; errors in *err.
	 */
	int (*boot)(void *ctx, const struct api_vm_spec *spec, struct api_err *err);
	int (*pause)(void *ctx, struct api_err *err);
	int (*resume)(void *ctx, struct api_err *err);
	/* Stop the machine and wait (bounded) until it is gone; status as petrel exits. */
	int (*shutdown)(void *ctx, int status, struct api_err *err);
	int (*reboot)(void *ctx, struct api_err *err);
	int (*ctrl_alt_del)(void *ctx, struct api_err *err);
	int (*power_button)(void *ctx, struct api_err *err);
	/*
	 * Save the paused machine to @req's files, with @config (@len bytes:
	 * the specification as api_spec_to_json writes it) stored in the state.
	 */
	int (*snapshot)(void *ctx, const struct api_snapshot_req *req, const void *config,
			size_t len, struct api_err *err);
	/*
	 * Rebuild the machine a snapshot holds: its stored specification read
	 * back with api_restore_spec(@req) into *spec (the caller's then, to
	 * free), the machine restored paused and started, resumed if
	 * @req->resume. On failure nothing runs and *spec is empty.
	 */
	int (*restore)(void *ctx, const struct api_restore_req *req, struct api_vm_spec *spec,
		       struct api_err *err);
	/*
	 * Connect to @req->url and have the destination accept this machine's
	 * hello, then migrate on a thread of its own (@config: the
	 * specification as api_spec_to_json writes it); its end is reported
	 * with api_vmm_migration_done.
	 */
	int (*send_migration)(void *ctx, const struct api_migrate_req *req, const void *config,
			      size_t len, struct api_err *err);
	void (*migration_status)(void *ctx, struct api_migration_status *out);
	/* Stop the migration out before its switchover (-EBUSY after, -ESRCH with none). */
	int (*cancel_migration)(void *ctx, struct api_err *err);
	/*
	 * Take a migration on @url (listen, accept one source): as restore, the
	 * received specification in *spec, the machine running on success.
	 */
	int (*receive_migration)(void *ctx, const char *url, const struct api_restore_req *req,
				 struct api_vm_spec *spec, struct api_err *err);
	/* Swap drive @idx's image for @path (already checked readable) and tell the guest. */
	int (*drive_update)(void *ctx, unsigned int idx, const char *path, struct api_err *err);
	/*
	 * The balloon: a new target (4 KiB pages) and statistics interval, each
	 * when not NULL, then its state in *out (when not NULL).
	 */
	int (*balloon)(void *ctx, const uint32_t *target_pages,
		       const unsigned int *stats_interval_s, struct virtio_balloon_info *out,
		       struct api_err *err);
	void (*counters)(void *ctx, struct api_counters *out);
	/* The VMM itself should exit (vmm.shutdown) with @status. */
	void (*exit_vmm)(void *ctx, int status);
};

struct api_vmm {
	pthread_mutex_t lock; /* serializes every call */
	enum api_vm_state state;
	bool created;	 /* by vm.create (Cloud Hypervisor), until vm.delete */
	bool configured; /* a configuration call succeeded: no restore from then on */
	struct api_vm_spec spec;
	char id[API_ID_MAX];	/* --id: the instance's name */
	unsigned int max_vcpus; /* this host's KVM limit (VM_MAX_VCPUS until set) */
	const struct api_backend *backend;
	void *backend_ctx;
	struct api_telemetry tel; /* events, logger, metrics */
	pthread_t metrics_thread;
	bool metrics_thread_on;
	bool quit;
	bool migrating;	     /* a migration out runs: the lifecycle calls wait for its end */
	pthread_cond_t cond; /* wakes the metrics thread */
	/*
	 * --seccomp: the filters of every thread petrel runs, the machines' and
	 * the controller's own (off unless set: the real VMM sets it before any
	 * thread starts, petrel's default being kill).
	 */
	enum sandbox_mode sandbox;
	/*
	 * --dirty-log: how this process finds written pages, for every machine
	 * it builds, restores or receives (bitmap unless set).
	 */
	enum kvm_dirty_mode dirty_log;
	uint32_t dirty_ring_bytes;
};

void api_vmm_init(struct api_vmm *v, const struct api_backend *b, void *ctx, const char *id);
void api_vmm_destroy(struct api_vmm *v);

/* The state, read under the lock (it changes from other threads too). */
enum api_vm_state api_vmm_state(struct api_vmm *v);
/* Is there a VM as Cloud Hypervisor sees it (vm.create'd, or booted by any front-end)? */
bool api_vmm_is_created(struct api_vmm *v);
/* Called by the VMM when the machine ended on its own (guest poweroff...). */
void api_vmm_machine_ended(struct api_vmm *v);

/* ---- configuration (before boot unless said otherwise) ---- */

/*
 * Cloud Hypervisor's vm.create: to CONFIGURED with the defaults, from
 * API_VM_NONE (after a vm.delete) or from the CONFIGURED state a petrel api
 * starts in; -EEXIST once created or booted. Firecracker never calls it.
 */
int api_vmm_create(struct api_vmm *v, struct api_err *err);
/* vm.delete: back to API_VM_NONE, the specification cleared (a running VM is shut down). */
int api_vmm_delete(struct api_vmm *v, struct api_err *err);

/* Machine: cpus 1..KVM's limit (and VM_MAX_VCPUS), memory at least 16 MiB. */
struct api_machine_update {
	bool has_cpus, has_mem, has_smt, has_track_dirty, has_mem_shared;
	unsigned int cpus;
	uint64_t mem_mib;
	bool smt, track_dirty_pages, mem_shared;
};
/* @replace: PUT (fields not given return to their defaults); else PATCH. */
int api_vmm_set_machine(struct api_vmm *v, const struct api_machine_update *u, bool replace,
			struct api_err *err);
/* Kernel (must be readable), initramfs (readable, or NULL), cmdline (or NULL). */
int api_vmm_set_boot(struct api_vmm *v, const char *kernel, const char *initramfs,
		     const char *cmdline, struct api_err *err);
/*
 * Add a drive, or replace the one of the same id (before boot). The path
 * must be readable (writable too unless readonly); one root drive at most.
 */
int api_vmm_put_drive(struct api_vmm *v, const struct api_drive *d, struct api_err *err);
/* After boot: the drive @id gets the image at @path (Firecracker's PATCH /drives). */
int api_vmm_update_drive(struct api_vmm *v, const char *id, const char *path, struct api_err *err);
/* Add a NIC, or replace the one of the same id (before boot); TAP names and MACs unique. */
int api_vmm_put_net(struct api_vmm *v, const struct api_net *n, struct api_err *err);
int api_vmm_set_rng(struct api_vmm *v, bool on, struct api_err *err);
/*
 * The vsock device (before boot; a second call replaces it): cid 3 to
 * 0xfffffffe, a UDS path of 1 to VSOCK_UDS_PATH_MAX bytes that does not
 * exist yet (the machine creates it at boot).
 */
int api_vmm_set_vsock(struct api_vmm *v, const struct api_vsock *vs, struct api_err *err);
/*
 * The balloon (Firecracker's PUT /balloon, --balloon): before boot; its
 * target no larger than the guest's memory, statistics at most once a day.
 */
int api_vmm_set_balloon(struct api_vmm *v, const struct virtio_balloon_opts *o,
			struct api_err *err);
/* After boot: a new target (PATCH /balloon, vm.resize's desired_balloon). */
int api_vmm_balloon_target(struct api_vmm *v, uint64_t target_mib, struct api_err *err);
/*
 * After boot: the statistics interval (PATCH /balloon/statistics); as
 * Firecracker, statistics cannot be turned on or off once booted.
 */
int api_vmm_balloon_stats_interval(struct api_vmm *v, unsigned int secs, struct api_err *err);
/*
 * The balloon as configured (*o) and, once booted, as the device has it
 * (*info, when not NULL; zeroes before boot). -ENOENT without a balloon.
 */
int api_vmm_balloon_get(struct api_vmm *v, struct virtio_balloon_opts *o,
			struct virtio_balloon_info *info, bool *live, struct api_err *err);
/* Serial output: stdio, a file (@path), or off. */
int api_vmm_set_serial(struct api_vmm *v, enum api_serial mode, const char *path,
		       struct api_err *err);
int api_vmm_set_console_hvc(struct api_vmm *v, bool hvc, struct api_err *err);
/* Firecracker's --boot-timer: the guest's boot time is logged when its init says so. */
int api_vmm_set_boot_timer(struct api_vmm *v, bool on, struct api_err *err);

/*
 * Firecracker's logger: petrel's messages (stderr) go to @path from now on,
 * opened for appending (a file or a FIFO; created if missing). @level is one
 * of Error, Warning, Info, Debug, Trace, Off (case-insensitive) or NULL. Once.
 */
int api_vmm_set_logger(struct api_vmm *v, const char *path, const char *level, struct api_err *err);
/*
 * Firecracker's metrics: a JSON object per line appended to @path, once a
 * minute while the machine runs (not while paused) and on each flush. Once.
 */
int api_vmm_set_metrics(struct api_vmm *v, const char *path, struct api_err *err);
/* Write one metrics line now (-EINVAL without a metrics path). */
int api_vmm_flush_metrics(struct api_vmm *v, struct api_err *err);
/* The metrics line's JSON text (malloc'ed), from the counters; for tests too. */
char *api_vmm_metrics_line(struct api_vmm *v);

/* Before any thread starts: the seccomp mode of petrel's threads (off, log, kill). */
void api_vmm_set_sandbox(struct api_vmm *v, enum sandbox_mode mode);
/* --dirty-log bitmap|ring and the ring's bytes per vCPU (0: the default). */
void api_vmm_set_dirty_log(struct api_vmm *v, enum kvm_dirty_mode mode, uint32_t ring_bytes);

/* Before boot: the command line's own settings. */
int api_vmm_set_local(struct api_vmm *v, const struct api_local_opts *o, struct api_err *err);

/*
 * Cloud Hypervisor's --event-monitor: lifecycle events (vmm starting, vm
 * booting, booted, pausing, paused, resuming, resumed, rebooting, shutdown,
 * deleted, vmm shutdown) as JSON objects on @path ("path=P" or "fd=N").
 */
int api_vmm_set_event_monitor(struct api_vmm *v, const char *spec, struct api_err *err);
/* One event (the lock is not held by the caller); for the VMM's own events too. */
void api_vmm_event(struct api_vmm *v, const char *source, const char *event);

/* A copy of the specification (strings duplicated; free with api_vm_spec_free). */
int api_vmm_get_spec(struct api_vmm *v, struct api_vm_spec *out);
void api_vm_spec_free(struct api_vm_spec *s);
int api_vm_spec_copy(struct api_vm_spec *dst, const struct api_vm_spec *src);

/* ---- lifecycle ---- */

/* Build the machine's configuration from the specification and boot it. */
int api_vmm_boot(struct api_vmm *v, struct api_err *err);
int api_vmm_pause(struct api_vmm *v, struct api_err *err);
int api_vmm_resume(struct api_vmm *v, struct api_err *err);
/* Stop the running or paused machine at the API's request (state SHUTDOWN). */
int api_vmm_shutdown(struct api_vmm *v, struct api_err *err);
int api_vmm_reboot(struct api_vmm *v, struct api_err *err);
int api_vmm_ctrl_alt_del(struct api_vmm *v, struct api_err *err);
int api_vmm_power_button(struct api_vmm *v, struct api_err *err);
/*
 * Snapshot the paused machine (-EINVAL unless paused; a diff snapshot needs
 * track_dirty_pages). The machine stays paused.
 */
int api_vmm_snapshot(struct api_vmm *v, const struct api_snapshot_req *req, struct api_err *err);
/*
 * Restore a snapshot into a fresh controller: nothing configured (but the
 * logger, the metrics and the event monitor), nothing booted, no vm.create;
 * -EBUSY otherwise. The state files must be readable; the overrides' ids
 * must be the snapshot's. The state is then Paused, or Running with
 * @req->resume, and the specification the snapshot's (overrides applied).
 * A failed restore leaves the controller as it was.
 */
int api_vmm_restore(struct api_vmm *v, const struct api_restore_req *req, struct api_err *err);
/*
 * Migrate the running or paused VM to @req->url (a petrel run --incoming or
 * vm.receive-migration there). Returns once the destination accepted the
 * hello (its refusal, or a connection refused, is this call's error); the
 * rest goes on in the background: api_vmm_migration_status says how far.
 * Lifecycle calls are refused until it ends. On success petrel exits (0).
 */
int api_vmm_send_migration(struct api_vmm *v, const struct api_migrate_req *req,
			   struct api_err *err);
/*
 * Called by the VMM when the migration ended: @ok, the guest lives at the
 * destination; else it runs here again, or, @stays_paused, it is paused
 * for good (the handover failed and this VMM could not take its disks or
 * TAPs back: the destination may run it).
 */
void api_vmm_migration_done(struct api_vmm *v, bool ok, bool stays_paused);
/* -ENOENT when no migration was ever started. */
int api_vmm_migration_status(struct api_vmm *v, struct api_migration_status *out);
/*
 * Into a fresh controller (as a restore): wait for a migration on @url and
 * run the VM it brings. The state is then Running.
 */
int api_vmm_receive_migration(struct api_vmm *v, const char *url, struct api_err *err);
/*
 * Cancel the migration out (petrel's vm.cancel-migration, petrel ctl
 * migrate-cancel) until its switchover begins: the guest goes on here,
 * the destination is told and gives up.
 */
int api_vmm_cancel_migration(struct api_vmm *v, struct api_err *err);
/* The VMM process exits (Cloud Hypervisor's vmm.shutdown). */
void api_vmm_exit(struct api_vmm *v, int status);
/* -EINVAL (with *err) unless running or paused. */
int api_vmm_counters(struct api_vmm *v, struct api_counters *out, struct api_err *err);

/*
 * The machine configuration a specification boots (pointers into @s, which
 * must outlive @cfg): the kernel command line gains root= for a root drive;
 * @cmdline_buf holds it. Pure; unit-tested.
 */
int api_spec_to_config(const struct api_vm_spec *s, struct vm_config *cfg, char *cmdline_buf,
		       size_t cmdline_size, struct api_err *err);

/*
 * The specification a snapshot stores, as JSON (api_spec_json.c): the
 * machine, its devices and petrel's own settings, not what is the host's
 * alone (the debugger, the KVM device, the seccomp mode). malloc'ed text
 * (*len bytes, NUL-terminated), or NULL without memory.
 */
char *api_spec_to_json(const struct api_vm_spec *s, size_t *len);
/*
 * Read back what api_spec_to_json wrote (a file a user may have edited or
 * damaged): every field checked as the API checks its input, -EINVAL with
 * one line naming the field otherwise. @max_vcpus: this host's limit.
 * Files are not looked at. *out is filled on success only.
 */
int api_spec_from_json(const void *json, size_t len, unsigned int max_vcpus,
		       struct api_vm_spec *out, struct api_err *err);
/*
 * A restore's specification: the stored one (@json) with @req's overrides
 * (an unknown id, a TAP name or drive path the API would refuse, is an
 * error), its drive images checked as the API checks them, dirty page
 * tracking as @req says, the controller's seccomp mode.
 */
int api_restore_spec(const void *json, size_t len, const struct api_restore_req *req,
		     struct api_vm_spec *out, struct api_err *err);

/* Checks the API applies to a drive's or NIC's id, and to a NIC among @s's others. */
int api_check_id(const char *what, const char *id, struct api_err *err);
int api_check_net(const struct api_vm_spec *s, const struct api_net *n, int *idx,
		  struct api_err *err);

/* Where drive @idx of @s sits among the machine's disks (the root drive goes first). */
unsigned int api_spec_disk_slot(const struct api_vm_spec *s, unsigned int idx);

#endif
