// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SIGBUS handler: records host memory errors for the threads that act on
 * them, and ends petrel on any SIGBUS it cannot return from. Everything here
 * runs in signal context: atomics, write(2) and _exit(2) only.
 */
#include "kvm/kvm_mce.h"
#include "kvm/kvm_sigfmt.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#define AO_QUEUE 16

/* Per thread: inside KVM_RUN, and the action-required error KVM_RUN left for us. */
static __thread volatile sig_atomic_t in_run;
static __thread volatile sig_atomic_t ar_pending;
static __thread void *volatile ar_hva;

/* Action-optional errors, from any thread, until the I/O thread takes them. */
static void *ao_queue[AO_QUEUE];
static unsigned int ao_lost;
static int ao_efd = -1;
static void (*fatal_cleanup)(void);

/* One line on stderr and exit 1: the faulting access cannot be resumed. */
static void die(const siginfo_t *si)
{
	struct kvm_sigline l = {0};

	kvm_sigline_str(&l, "petrel: SIGBUS (");
	kvm_sigline_str(&l, kvm_sigbus_code_name(si->si_code));
	if (si->si_code <= 0) {
		/* sent, not a fault: there is no address */
		kvm_sigline_str(&l, ") from process ");
		kvm_sigline_dec(&l, si->si_pid);
		kvm_sigline_str(&l, ": stopping");
	} else {
		kvm_sigline_str(&l, ") at host address ");
		kvm_sigline_hex(&l, (uintptr_t)si->si_addr);
		if (si->si_code == BUS_MCEERR_AR)
			kvm_sigline_str(&l,
					": host memory error in memory petrel itself was using, "
					"not a guest access: stopping");
		else
			kvm_sigline_str(&l,
					": not a host memory error petrel can hand to the guest: "
					"stopping");
	}
	kvm_sigline_write(&l, STDERR_FILENO);
	if (fatal_cleanup)
		fatal_cleanup();
	_exit(1);
}

static void sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	unsigned int i;

	(void)sig;
	(void)uc;
	if (si->si_code == BUS_MCEERR_AR && in_run) {
		/* KVM_RUN returns EINTR; the vCPU thread injects on its way out. */
		ar_hva = si->si_addr;
		ar_pending = 1;
	} else if (si->si_code == BUS_MCEERR_AO) {
		for (i = 0; i < AO_QUEUE; i++) {
			void *expected = NULL;

			if (__atomic_compare_exchange_n(&ao_queue[i], &expected, si->si_addr, false,
							__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				break;
		}
		if (i == AO_QUEUE)
			__atomic_fetch_add(&ao_lost, 1, __ATOMIC_SEQ_CST);
		if (ao_efd >= 0) {
			uint64_t one = 1;
			ssize_t w = write(ao_efd, &one, sizeof(one));

			(void)w;
		}
	} else {
		die(si);
	}
	errno = saved;
}

int kvm_sigbus_init(void (*cleanup)(void))
{
	struct sigaction sa;

	if (ao_efd >= 0)
		return 0;
	fatal_cleanup = cleanup;
	ao_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ao_efd < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigbus_handler;
	/* KVM_RUN still returns EINTR; other threads' calls are restarted. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0) {
		int ret = -errno;

		close(ao_efd);
		ao_efd = -1;
		return ret;
	}
	/*
	 * Errors in guest RAM nobody touched yet reach us at once (as
	 * BUS_MCEERR_AO), so the guest can retire the page before it uses it.
	 * A policy set by whoever started petrel stands.
	 */
	if (prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) == PR_MCE_KILL_DEFAULT)
		prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	return 0;
}

int kvm_sigbus_eventfd(void)
{
	return ao_efd;
}

bool kvm_sigbus_take_ao(void **hva, unsigned int *lost)
{
	unsigned int i;

	*lost = __atomic_exchange_n(&ao_lost, 0, __ATOMIC_SEQ_CST);
	for (i = 0; i < AO_QUEUE; i++) {
		void *p = __atomic_exchange_n(&ao_queue[i], NULL, __ATOMIC_SEQ_CST);

		if (p) {
			*hva = p;
			return true;
		}
	}
	return false;
}

void kvm_sigbus_enter_run(void)
{
	in_run = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

bool kvm_sigbus_leave_run(void **hva)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	in_run = 0;
	if (!ar_pending)
		return false;
	*hva = ar_hva;
	ar_pending = 0;
	return true;
}
