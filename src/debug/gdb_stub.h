/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The GDB remote stub: a TCP server thread speaking the remote serial
 * protocol to one debugger at a time, on top of the machine's debug side
 * (vm/guest_debug.h). One gdb thread per vCPU; all-stop.
 */
#ifndef PETREL_DEBUG_GDB_STUB_H
#define PETREL_DEBUG_GDB_STUB_H

#include <stdbool.h>

#include "vm/machine.h"

struct vm_gdb;

/*
 * Parse a --gdb address: "tcp:HOST:PORT", "tcp::PORT", ":PORT" or "PORT"
 * (host defaults to 127.0.0.1). Returns 0 or -EINVAL. Pure, for unit tests.
 */
int vm_gdb_parse_addr(const char *spec, char *host, size_t host_size, unsigned int *port);

/* Bind the listening socket (errors reported); with wait, hold every vCPU. */
int vm_gdb_create(struct machine *m, const char *spec, bool wait);
/* Start serving (before the vCPUs run). */
int vm_gdb_start(struct machine *m);
/* The machine stopped with status: tell the debugger, end the thread, free. */
void vm_gdb_destroy(struct machine *m, int status);

#endif
