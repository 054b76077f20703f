/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The threads petrel starts (vCPUs, the debugger's server) get a small stack:
 * the default 8 MiB one, once a transparent huge page backs it, would count
 * 2 MiB of resident VMM memory per thread for a few KiB used.
 */
#ifndef PETREL_VM_THREAD_H
#define PETREL_VM_THREAD_H

#include <pthread.h>
#include <time.h>

#define VM_THREAD_STACK (512u << 10)

/* pthread_create with a VM_THREAD_STACK stack and a name; -errno on failure. */
int vm_thread_start(pthread_t *t, void *(*fn)(void *), void *arg, const char *name);

/* The CLOCK_REALTIME time @ms from now, for pthread_cond_timedwait. */
struct timespec vm_deadline_after_ms(int ms);

#endif
