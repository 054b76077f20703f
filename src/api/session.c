// SPDX-License-Identifier: GPL-2.0-only
#include "api/session.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/gdb_stub.h"
#include "vm/terminal.h"

int api_session_run(const struct vm_config *user_cfg)
{
	struct vm_config c = *user_cfg, *cfg = &c;
	struct machine *m;
	sigset_t set;
	int status;

	if (kvm_vcpu_signals_init() < 0) {
		fprintf(stderr, "petrel: cannot install the vCPU kick handler\n");
		return VM_EXIT_ERROR;
	}
	/* Every thread inherits this mask; the event loop reads them by signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	m = calloc(1, sizeof(*m));
	if (!m)
		return VM_EXIT_ERROR;
	if (cfg->serial == VM_SERIAL_STDIO)
		vm_terminal_raw();
	for (;;) {
		if (machine_create(m, cfg) < 0) {
			status = VM_EXIT_ERROR;
			break;
		}
		if (cfg->gdb && vm_gdb_create(m, cfg->gdb, cfg->gdb_wait) < 0) {
			machine_destroy(m);
			status = VM_EXIT_ERROR;
			break;
		}
		if (vm_gdb_start(m) < 0) {
			vm_gdb_destroy(m, 0);
			machine_destroy(m);
			status = VM_EXIT_ERROR;
			break;
		}
		status = machine_run(m);
		vm_gdb_destroy(m, status);
		if (!m->reset_requested || cfg->reboot_exits) {
			machine_destroy(m);
			break;
		}
		machine_destroy(m);
		fprintf(stderr, "petrel: guest reboot: restarting the machine\n");
		/* The serial log goes on across reboots. */
		c.serial_append = true;
	}
	vm_terminal_restore();
	free(m);
	return status;
}
