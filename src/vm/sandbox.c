// SPDX-License-Identifier: GPL-2.0-only
/*
 * seccomp filters per thread (libseccomp). A kind of thread is a set of
 * groups; a group is the syscalls (and ioctl requests) one part of petrel's
 * work makes. In kill mode a forbidden syscall raises SIGSYS, whose handler
 * names the syscall and the thread and ends petrel with VM_EXIT_SECCOMP.
 */
#include "vm/sandbox.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kvm/kvm_sigfmt.h"
#include "vm/machine.h"
#include "vm/terminal.h"

/* ---- groups ---- */

enum {
	SB_BASE = 1u << 0,     /* every thread: memory, locks, time, signals, stderr, exit */
	SB_NOTIFY = 1u << 1,   /* eventfds, timerfds (the balloon's statistics too), the console */
	SB_POLL = 1u << 2,     /* waiting on fds */
	SB_FILE_IO = 1u << 3,  /* disk images and console files already open */
	SB_IO_URING = 1u << 4, /* submitting to rings already set up */
	SB_ENTROPY = 1u << 5,  /* getrandom for virtio-rng */
	SB_SOCK_IO = 1u << 6,  /* sockets already listening: accept, receive, send */
	SB_KVM_VCPU = 1u << 7, /* KVM ioctls on a vCPU's fd: run it, its registers, its debugging */
	SB_KVM_IRQ = 1u << 8,  /* KVM ioctls devices make on the VM's fd: interrupts, doorbells */
	SB_DEV_RUN = 1u << 9,  /* ioctls on a TAP's or terminal's fd while the guest runs */
	SB_BUILD = 1u << 10,   /* assembling machines: open files, KVM, TAPs, sockets, threads */
	SB_VSOCK = 1u << 11,   /* the hybrid vsock's UNIX sockets: connect, accept, stream */
	SB_KVM_VM = 1u << 12, /* the VM's memory slots, dirty log and state: snapshots, migration */
	SB_KVM_RING = 1u << 13, /* handing a dirty ring's harvested entries back to KVM */
};

#define SB_RUNTIME                                                                                 \
	(SB_BASE | SB_NOTIFY | SB_POLL | SB_FILE_IO | SB_IO_URING | SB_ENTROPY | SB_SOCK_IO |      \
	 SB_KVM_VCPU | SB_KVM_IRQ | SB_KVM_VM | SB_KVM_RING | SB_DEV_RUN | SB_VSOCK)

struct sandbox_kind_spec {
	const char *name;
	unsigned int groups;
};

/*
 * What each kind of thread may do. main and api create the others (and
 * build machines): their filters must allow everything their children's do.
 */
static const struct sandbox_kind_spec kinds[SANDBOX_KINDS] = {
    [SANDBOX_MAIN] = {"main", SB_RUNTIME | SB_BUILD},
    [SANDBOX_API] = {"api", SB_RUNTIME | SB_BUILD},
    /* a vCPU whose dirty ring filled empties it itself (KVM_EXIT_DIRTY_RING_FULL) */
    [SANDBOX_VCPU] = {"vcpu",
		      SB_BASE | SB_NOTIFY | SB_KVM_VCPU | SB_KVM_IRQ | SB_KVM_RING | SB_DEV_RUN},
    /* petrel's test device splits memory slots and reads the dirty log on a guest's write */
    [SANDBOX_VCPU_TEST] = {"vcpu-test", SB_BASE | SB_NOTIFY | SB_KVM_VCPU | SB_KVM_IRQ | SB_KVM_VM |
					    SB_KVM_RING | SB_DEV_RUN},
    [SANDBOX_IO] = {"io", SB_BASE | SB_NOTIFY | SB_POLL | SB_FILE_IO | SB_IO_URING | SB_ENTROPY |
			      SB_KVM_IRQ | SB_DEV_RUN | SB_VSOCK},
    [SANDBOX_GDB] = {"gdb", SB_BASE | SB_NOTIFY | SB_POLL | SB_SOCK_IO | SB_KVM_VCPU},
    [SANDBOX_METRICS] = {"metrics", SB_BASE | SB_FILE_IO},
};

struct sandbox_group {
	unsigned int bit;
	const int *syscalls;	     /* allowed whatever their arguments; ends with -1 */
	const unsigned long *ioctls; /* ioctl requests allowed; ends with 0 */
};

/* clang-format off */
static const int base_calls[] = {
    SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall), SCMP_SYS(sched_yield),
    SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(getpid), SCMP_SYS(gettid),
    /* madvise: the balloon's pages given back too (gm_discard, on the I/O thread) */
    SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(write),
    SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
    /* malloc's arena limit (a thread's first malloc, past 8 arenas), qsort's memory size */
    SCMP_SYS(sched_getaffinity), SCMP_SYS(sysinfo),
    /* a sanitizer build reads its signal stack before a call that does not return */
    SCMP_SYS(sigaltstack), -1,
};

static const int notify_calls[] = {
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
    SCMP_SYS(epoll_ctl), SCMP_SYS(poll), SCMP_SYS(ppoll), -1,
};

static const int poll_calls[] = {
    SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(epoll_ctl),
    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6), -1,
};

static const int file_io_calls[] = {
    SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(pread64), SCMP_SYS(preadv), SCMP_SYS(preadv2),
    SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(pwrite64), SCMP_SYS(pwritev),
    SCMP_SYS(pwritev2), SCMP_SYS(fdatasync), SCMP_SYS(fsync), SCMP_SYS(fallocate), -1,
};

static const int io_uring_calls[] = {SCMP_SYS(io_uring_enter), -1};

static const int entropy_calls[] = {SCMP_SYS(getrandom), -1};

static const int sock_io_calls[] = {
    SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
    SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(fcntl),
    SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev), -1,
};

static const unsigned long sock_io_ioctls[] = {FIONREAD, FIONBIO, 0};

/* socket() itself is an argument rule: AF_UNIX only */
static const int vsock_calls[] = {
    SCMP_SYS(connect), SCMP_SYS(accept4), SCMP_SYS(sendmsg), SCMP_SYS(sendto),
    SCMP_SYS(recvfrom), SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(shutdown), -1,
};

static const unsigned long kvm_vcpu_ioctls[] = {
    KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_FPU,
    KVM_SET_FPU, KVM_GET_MSRS, KVM_SET_MSRS, KVM_GET_LAPIC, KVM_SET_LAPIC,
    KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_GET_MP_STATE, KVM_SET_MP_STATE,
    KVM_GET_XSAVE, KVM_SET_XSAVE, KVM_GET_XCRS, KVM_SET_XCRS, KVM_GET_DEBUGREGS,
    KVM_SET_DEBUGREGS, KVM_TRANSLATE, KVM_SET_GUEST_DEBUG, KVM_KVMCLOCK_CTRL,
    KVM_X86_SET_MCE, 0, /* a host memory error becomes the guest's machine check */
};

/* what device models ask of the platform on a vCPU or the I/O thread */
static const unsigned long kvm_irq_ioctls[] = {
    KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_IRQFD, KVM_IOEVENTFD, KVM_SET_GSI_ROUTING,
    KVM_CHECK_EXTENSION, 0,
};

/* never needed by a vCPU or the I/O thread: a guest's exit cannot move RAM or rewind the VM */
static const unsigned long kvm_vm_ioctls[] = {
    KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG,
    KVM_REGISTER_COALESCED_MMIO, KVM_UNREGISTER_COALESCED_MMIO, KVM_GET_CLOCK, KVM_SET_CLOCK,
    KVM_GET_IRQCHIP, KVM_SET_IRQCHIP, KVM_GET_PIT2, KVM_SET_PIT2, 0,
};

/* a dirty ring's reset: it only re-protects pages whose entries were harvested */
static const unsigned long kvm_ring_ioctls[] = {KVM_RESET_DIRTY_RINGS, 0};

/* the guest's features reach its TAP; the console's size */
static const unsigned long dev_run_ioctls[] = {TUNSETOFFLOAD, TCGETS, TIOCGWINSZ, 0};

static const int build_calls[] = {
    SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(access), SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(statfs),
    SCMP_SYS(fstatfs), SCMP_SYS(statx), SCMP_SYS(getdents64), SCMP_SYS(unlink),
    SCMP_SYS(unlinkat), SCMP_SYS(umask), SCMP_SYS(ftruncate), SCMP_SYS(flock), SCMP_SYS(fcntl),
    SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(pipe2), SCMP_SYS(eventfd2),
    SCMP_SYS(signalfd4), SCMP_SYS(timerfd_create), SCMP_SYS(epoll_create1),
    SCMP_SYS(memfd_create), SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_register),
    SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(connect), SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq), SCMP_SYS(prctl), SCMP_SYS(seccomp), SCMP_SYS(sched_getaffinity),
    SCMP_SYS(sysinfo), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit), SCMP_SYS(uname),
    SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
    SCMP_SYS(getcwd), SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack), SCMP_SYS(mincore),
    SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2), -1,
};

static const unsigned long build_ioctls[] = {
    KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID,
    KVM_CREATE_VCPU, KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, KVM_SET_TSS_ADDR,
    KVM_SET_IDENTITY_MAP_ADDR, KVM_ENABLE_CAP, KVM_SET_CPUID2, KVM_X86_GET_MCE_CAP_SUPPORTED,
    KVM_X86_SETUP_MCE, TUNGETFEATURES, TUNSETIFF, TUNGETIFF,
    TUNSETVNETHDRSZ, TCSETS, TCSETSW, TCSETSF, BLKSSZGET, BLKGETSIZE64,
    /* snapshots: a vCPU's whole state, read and put back by the thread that builds */
    KVM_GET_XSAVE2, KVM_GET_CPUID2, KVM_GET_TSC_KHZ, KVM_SET_TSC_KHZ, KVM_GET_MSR_INDEX_LIST, 0,
};

/* clang-format on */

static const struct sandbox_group groups[] = {
    {SB_BASE, base_calls, NULL},
    {SB_NOTIFY, notify_calls, NULL},
    {SB_POLL, poll_calls, NULL},
    {SB_FILE_IO, file_io_calls, NULL},
    {SB_IO_URING, io_uring_calls, NULL},
    {SB_ENTROPY, entropy_calls, NULL},
    {SB_SOCK_IO, sock_io_calls, sock_io_ioctls},
    {SB_KVM_VCPU, NULL, kvm_vcpu_ioctls},
    {SB_KVM_IRQ, NULL, kvm_irq_ioctls},
    {SB_KVM_VM, NULL, kvm_vm_ioctls},
    {SB_KVM_RING, NULL, kvm_ring_ioctls},
    {SB_DEV_RUN, NULL, dev_run_ioctls},
    {SB_BUILD, build_calls, build_ioctls},
    {SB_VSOCK, vsock_calls, NULL},
};

/* ---- the SIGSYS handler ---- */

/* Syscall names for its messages, resolved when petrel was built (the handler cannot allocate). */
#include "vm/syscall_names.h"

static pthread_once_t names_once = PTHREAD_ONCE_INIT;
static __thread char thread_name[16];

static void prepare_once(void)
{
	/* libseccomp probes the kernel once, here, not in two threads at a time */
	seccomp_api_get();
	/*
	 * glibc reads the time zone (/etc/localtime) at the first gmtime_r or
	 * localtime_r of the process: now, not on the vCPU thread whose guest
	 * first reads the RTC.
	 */
	tzset();
}

/*
 * A path removed when a forbidden syscall (or a fatal signal) ends petrel,
 * the API socket, and the thread that removes it: a vCPU or I/O thread's
 * filter forbids unlink, so the thread that stops petrel passes SIGSYS on to
 * this one (main, whose filter allows it) with the status to exit with, and
 * waits; main removes the path and ends petrel. Set before the threads that
 * read it start.
 */
static char unlink_path[128];
static volatile sig_atomic_t unlink_armed;
static pid_t unlink_tid;
/* A kill-mode filter is loaded: the handler is there, and unlink may be forbidden. */
static volatile sig_atomic_t relay_on;
/* The status main exits with when SIGSYS is passed on to it. */
static volatile sig_atomic_t relay_status = VM_EXIT_SECCOMP;

/* si_code of a SIGSYS from a seccomp filter (the kernel's SYS_SECCOMP, which glibc lacks). */
#define SECCOMP_SI_CODE 1

/* How long a thread waits for main to remove the path before it ends petrel itself. */
#define UNLINK_WAIT_S 1

int sandbox_unlink_on_kill(const char *path)
{
	unlink_armed = 0;
	if (!path)
		return 0;
	if (strlen(path) >= sizeof(unlink_path))
		return -ENAMETOOLONG;
	memcpy(unlink_path, path, strlen(path) + 1);
	unlink_tid = (pid_t)syscall(SYS_gettid);
	unlink_armed = 1;
	return 0;
}

void sandbox_stop(int status)
{
	if (unlink_armed) {
		if (!relay_on || (pid_t)syscall(SYS_gettid) == unlink_tid) {
			unlink(unlink_path);
		} else {
			relay_status = status;
			if (syscall(SYS_tgkill, getpid(), unlink_tid, SIGSYS) == 0) {
				struct timespec ts = {.tv_sec = UNLINK_WAIT_S, .tv_nsec = 0};

				/* main ends petrel meanwhile; if it cannot, this thread does */
				while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
					;
			}
		}
	}
	vm_terminal_restore(); /* tcsetattr is async-signal-safe */
	/* the raw call: a sanitizer's _exit does more than exit */
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

/*
 * Async-signal-safe: write, the terminal's restore, gettid, tgkill, nanosleep
 * and exit_group, which every filter allows, and unlink on main, whose filter
 * allows it (sandbox_stop).
 */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	struct kvm_sigline l = {0};
	int nr = si->si_syscall;

	(void)sig;
	(void)uc;
	if (si->si_code == SI_TKILL && si->si_pid == getpid())
		sandbox_stop(relay_status); /* passed on by a thread that said why */
	if (si->si_code == SECCOMP_SI_CODE) {
		kvm_sigline_str(&l, "petrel: seccomp: thread ");
		kvm_sigline_str(&l, thread_name[0] ? thread_name : "?");
		kvm_sigline_str(&l, " made forbidden syscall ");
		kvm_sigline_str(&l, nr >= 0 && nr < SANDBOX_NR_NAMES && sandbox_syscall_names[nr]
					? sandbox_syscall_names[nr]
					: "?");
		kvm_sigline_str(&l, " (");
		kvm_sigline_dec(&l, nr);
		kvm_sigline_str(&l, "); stopping");
	} else {
		kvm_sigline_str(&l, "petrel: SIGSYS from process ");
		kvm_sigline_dec(&l, si->si_pid);
		kvm_sigline_str(&l, "; stopping");
	}
	kvm_sigline_write(&l, STDERR_FILENO);
	sandbox_stop(VM_EXIT_SECCOMP);
}

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_ret;

static void install_handler(void)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	handler_ret = sigaction(SIGSYS, &sa, NULL) < 0 ? -errno : 0;
}

/* ---- filters ---- */

/* Argument comparisons, every field set (libseccomp's SCMP_A* macros leave some out). */
static struct scmp_arg_cmp arg_eq(unsigned int arg, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){.arg = arg, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0};
}

/* (argument & mask) == v */
static struct scmp_arg_cmp arg_masked(unsigned int arg, scmp_datum_t mask, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){
	    .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = v};
}

/* @g's rules; with @fd >= 0 its ioctls are allowed on that fd only. */
static int add_group(scmp_filter_ctx ctx, const struct sandbox_group *g, int fd)
{
	int ret = 0;

	for (const int *sc = g->syscalls; sc && *sc != -1 && !ret; sc++)
		if (*sc >= 0) /* a syscall this architecture lacks resolves negative */
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, *sc, 0);
	for (const unsigned long *io = g->ioctls; io && *io && !ret; io++) {
		if (fd >= 0)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
					       arg_eq(0, (scmp_datum_t)fd),
					       arg_masked(1, 0xffffffffu, *io));
		else
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					       arg_masked(1, 0xffffffffu, *io));
	}
	return ret;
}

/* Rules with arguments every kind gets, and those of the builders. */
static int add_arg_rules(scmp_filter_ctx ctx, unsigned int gs)
{
	int ret;

	/* no executable memory */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, arg_masked(2, PROT_EXEC, 0));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       arg_masked(2, PROT_EXEC, 0));
	/* signals to petrel's own threads only (vCPU kicks, abort) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       arg_eq(0, (scmp_datum_t)getpid()));
	/* the terminal restored on the way out (a forbidden syscall's too) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
				       arg_eq(0, STDIN_FILENO), arg_masked(1, 0xffffffffu, TCSETS));
	/* UNIX sockets: the API's, the hybrid vsock's */
	if (!ret && (gs & (SB_BUILD | SB_VSOCK)))
		ret =
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, arg_eq(0, AF_UNIX));
	if (ret || !(gs & SB_BUILD))
		return ret;
	/* threads, never processes: clone3's flags are out of reach, glibc falls back to clone */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			       arg_masked(0, CLONE_THREAD, CLONE_THREAD));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* and TCP ones (the debugger); nothing raw */
	if (!ret)
		ret =
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, arg_eq(0, AF_INET));
	if (!ret)
		ret =
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, arg_eq(0, AF_INET6));
	return ret;
}

static int load_filter(enum sandbox_mode mode, enum sandbox_kind kind, int vcpu_fd)
{
	unsigned int gs = kinds[kind].groups;
	scmp_filter_ctx ctx;
	int ret = 0;

	ctx = seccomp_init(mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]) && !ret; i++)
		if (gs & groups[i].bit)
			ret =
			    add_group(ctx, &groups[i], groups[i].bit == SB_KVM_VCPU ? vcpu_fd : -1);
	if (!ret)
		ret = add_arg_rules(ctx, gs);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

int sandbox_enter(enum sandbox_mode mode, enum sandbox_kind kind, const char *name)
{
	return sandbox_enter_vcpu(mode, kind, name, -1);
}

int sandbox_enter_vcpu(enum sandbox_mode mode, enum sandbox_kind kind, const char *name,
		       int vcpu_fd)
{
	int ret;

	snprintf(thread_name, sizeof(thread_name), "%s", name);
	if (mode == SANDBOX_OFF)
		return 0;
	pthread_once(&names_once, prepare_once);
	if (mode == SANDBOX_KILL) {
		pthread_once(&handler_once, install_handler);
		if (handler_ret < 0)
			return handler_ret;
	}
	ret = load_filter(mode, kind, vcpu_fd);
	if (!ret && mode == SANDBOX_KILL)
		relay_on = 1;
	if (ret < 0)
		fprintf(stderr, "petrel: seccomp: cannot install the %s thread's filter (%s): %s\n",
			name, kinds[kind].name, strerror(-ret));
	return ret;
}

int sandbox_parse_mode(const char *s, enum sandbox_mode *out)
{
	static const enum sandbox_mode modes[] = {SANDBOX_OFF, SANDBOX_LOG, SANDBOX_KILL};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(s, sandbox_mode_name(modes[i]))) {
			*out = modes[i];
			return 0;
		}
	}
	return -1;
}

const char *sandbox_mode_name(enum sandbox_mode mode)
{
	switch (mode) {
	case SANDBOX_OFF:
		return "off";
	case SANDBOX_LOG:
		return "log";
	case SANDBOX_KILL:
		return "kill";
	}
	return "?";
}

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	return kind < SANDBOX_KINDS ? kinds[kind].name : "?";
}
