/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VMM behind the controller: the api_backend that assembles machines
 * from specifications (src/vm/), and the main thread's loop that runs them.
 * The API thread boots a machine (so a failure is the request's answer); the
 * main thread runs it to its end, restarts it on a guest reboot, and then
 * either waits for the next boot or ends petrel.
 */
#ifndef PETREL_API_API_RUNNER_H
#define PETREL_API_API_RUNNER_H

#include <pthread.h>
#include <stdbool.h>

#include "api/api_vmm.h"
#include "state/migration.h"
#include "vm/machine.h"

struct api_runner {
	struct api_vmm vmm;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wake_efd;		 /* wakes the main thread: a boot, an exit */
	struct machine *m;	 /* the booted machine, or NULL */
	struct api_vm_spec spec; /* the copy it was built from */
	struct vm_config cfg;
	char *cmdline;
	bool boot_pending;   /* booted by the API, not yet run by the main thread */
	bool running;	     /* the main thread runs it */
	bool api_stop;	     /* the API stopped it: the VMM goes on */
	bool exit_requested; /* vmm.shutdown */
	int exit_status;
	bool terminal_raw;
	/* a migration out: its thread holds the machine until it ends (migrating false) */
	bool migrating;
	bool mig_thread_on;
	pthread_t mig_thread;
	struct machine *mig_m;
	struct mig_conn mig_conn;
	struct api_migrate_req mig_req;
	char mig_url[256];
	char *mig_spec;
	size_t mig_spec_len;
	struct migration_progress mig;
	int mig_cancel_efd; /* written by a cancel: wakes a send waiting for room */
	/*
	 * The guest lives at the destination: this machine's devices stay held
	 * to the end (with a handed-over memfd its RAM is the destination's).
	 */
	bool migrated;
};

/* The controller's backend; ctx is the runner. */
extern const struct api_backend api_runner_backend;

/* Set up the runner and its controller (signals blocked from here on, in every thread). */
int api_runner_init(struct api_runner *r, const char *id);
/*
 * Take this host's vCPU limit from KVM, for the controller's checks (until
 * then it allows VM_MAX_VCPUS). Called once the API socket listens, so a
 * client can connect while petrel looks at /dev/kvm.
 */
void api_runner_probe_kvm(struct api_runner *r);
void api_runner_destroy(struct api_runner *r);
/*
 * The main thread: wait for boots (or, with @wait_for_boot false, expect
 * one already made), run each machine to its end, and return petrel's exit
 * status: the machine's when it ended on its own, vmm.shutdown's, or
 * 128+N on a signal while no machine ran.
 */
int api_runner_main(struct api_runner *r);

#endif
