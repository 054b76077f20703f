/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * seccomp filters per thread. Each kind of thread petrel runs has its own
 * allowlist, as narrow as that thread's work, installed by the thread itself
 * at the start of its function, before it touches anything the guest (or an
 * API client) controls. A thread inherits its creator's filter and adds its
 * own, so a filter only ever narrows: the threads that create others (main,
 * api) allow what their children do.
 *
 * A new kind of thread is one entry in sandbox.c's table.
 */
#ifndef PETREL_VM_SANDBOX_H
#define PETREL_VM_SANDBOX_H

enum sandbox_mode {
	SANDBOX_OFF,  /* no filter */
	SANDBOX_LOG,  /* forbidden syscalls are allowed and logged by the kernel */
	SANDBOX_KILL, /* a forbidden syscall ends petrel (status VM_EXIT_SECCOMP) */
};

enum sandbox_kind {
	SANDBOX_MAIN,	   /* runs machines: builds them, rebuilds them on a guest reboot */
	SANDBOX_API,	   /* the HTTP API's server: builds the machines it boots */
	SANDBOX_VCPU,	   /* KVM_RUN and the exits' device emulation */
	SANDBOX_VCPU_TEST, /* the same, with petrel's test device (memory slots, dirty log) */
	SANDBOX_IO,	   /* the machine's event loop: virtqueues, disks, TAPs, console */
	SANDBOX_GDB,	   /* the debugger's connection */
	SANDBOX_METRICS,   /* Firecracker's metrics, a line a minute */
	SANDBOX_KINDS,
};

/* "off", "log" or "kill"; -1 for anything else. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *out);
const char *sandbox_mode_name(enum sandbox_mode mode);
const char *sandbox_kind_name(enum sandbox_kind kind);

/*
 * The calling thread gets @kind's filter (nothing with SANDBOX_OFF); @name
 * (at most 15 bytes kept) names the thread in the message of a forbidden
 * syscall. 0, or -errno with a message on stderr.
 */
int sandbox_enter(enum sandbox_mode mode, enum sandbox_kind kind, const char *name);
/*
 * The same for a vCPU thread: with @vcpu_fd >= 0 its KVM vCPU ioctls
 * (KVM_RUN, registers...) are allowed on that fd only, its own vCPU's, not
 * on another vCPU's.
 */
int sandbox_enter_vcpu(enum sandbox_mode mode, enum sandbox_kind kind, const char *name,
		       int vcpu_fd);

/*
 * Remove @path (the API socket) when a forbidden syscall or sandbox_stop ends
 * petrel, whichever thread it is on; NULL forgets it (call that before
 * removing the path yourself). Call it on the main thread before the first
 * filter: that thread must stay until petrel ends, its filter allowing
 * unlink (SANDBOX_MAIN), since the others' do not: in kill mode another
 * thread passes SIGSYS on to it and waits up to a second. A petrel ended by
 * SIGKILL still leaves the path. 0, or -ENAMETOOLONG (longer than a UNIX
 * socket's path).
 */
int sandbox_unlink_on_kill(const char *path);

/*
 * End petrel at once with @status from a signal handler on any thread:
 * the path of sandbox_unlink_on_kill removed (through the main thread when
 * this one may not unlink), the terminal restored. Async-signal-safe.
 */
void sandbox_stop(int status) __attribute__((noreturn));

#endif
