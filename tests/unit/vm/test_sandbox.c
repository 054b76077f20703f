// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sandbox's modes, and its filters in a child process: a vCPU thread's
 * filter stops an open with status 12 and the line naming it, log lets it
 * through, off installs nothing; the metrics thread may not make a socket;
 * vCPU and I/O threads may not touch the VM's memory slots or dirty log, nor
 * a vCPU thread another vCPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/machine.h"
#include "vm/sandbox.h"

static void test_modes(void **state)
{
	enum sandbox_mode m = SANDBOX_OFF;

	assert_int_equal(sandbox_parse_mode("kill", &m), 0);
	assert_int_equal(m, SANDBOX_KILL);
	assert_int_equal(sandbox_parse_mode("log", &m), 0);
	assert_int_equal(m, SANDBOX_LOG);
	assert_int_equal(sandbox_parse_mode("off", &m), 0);
	assert_int_equal(m, SANDBOX_OFF);
	assert_int_equal(sandbox_parse_mode("", &m), -1);
	assert_int_equal(sandbox_parse_mode("Kill", &m), -1);
	assert_int_equal(sandbox_parse_mode("strict", &m), -1);
	assert_string_equal(sandbox_mode_name(SANDBOX_KILL), "kill");
	for (int k = 0; k < SANDBOX_KINDS; k++)
		assert_string_not_equal(sandbox_kind_name(k), "?");
	assert_string_equal(sandbox_kind_name(SANDBOX_VCPU), "vcpu");
}

enum forbidden { OPEN, SOCKET, SLOT_IOCTL, DIRTY_LOG_IOCTL, IRQ_IOCTL, REGS_OWN, REGS_OTHER };

/* A child enters @kind in @mode and makes @what; its status and what it wrote to stderr. */
static int child(enum sandbox_mode mode, enum sandbox_kind kind, enum forbidden what, char *out,
		 size_t outsz)
{
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int fd;

		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		int other = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (sandbox_enter_vcpu(mode, kind, "test1", what >= REGS_OWN ? null : -1) < 0)
			_exit(99);
		switch (what) {
		case OPEN:
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			break;
		case SOCKET:
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			break;
		case REGS_OWN:
		case REGS_OTHER:
			/* the thread's own vCPU is @null; another vCPU's fd is @other */
			ioctl(what == REGS_OWN ? null : other, KVM_GET_REGS, NULL);
			fd = 0;
			break;
		default:
			/* on /dev/null: ENOTTY when the filter lets it through */
			ioctl(null,
			      what == SLOT_IOCTL	? KVM_SET_USER_MEMORY_REGION
			      : what == DIRTY_LOG_IOCTL ? KVM_GET_DIRTY_LOG
							: KVM_IRQ_LINE,
			      NULL);
			fd = 0;
			break;
		}
		_exit(fd >= 0 ? 0 : 98);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, outsz - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_kill(void **state)
{
	char out[256];

	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU, OPEN, out, sizeof(out)),
			 VM_EXIT_SECCOMP);
	assert_string_equal(out,
			    "petrel: seccomp: thread test1 made forbidden syscall openat (257); "
			    "stopping\n");
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_METRICS, SOCKET, out, sizeof(out)),
			 VM_EXIT_SECCOMP);
	assert_non_null(strstr(out, "forbidden syscall socket (41)"));
}

/*
 * The VM's memory slots and dirty log are out of a vCPU's and the I/O
 * thread's reach (only the test device's vCPUs need them); interrupts are
 * not.
 */
static void test_vm_ioctls(void **state)
{
	char out[256];

	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU, SLOT_IOCTL, out, sizeof(out)),
			 VM_EXIT_SECCOMP);
	assert_non_null(strstr(out, "thread test1 made forbidden syscall ioctl (16)"));
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_IO, DIRTY_LOG_IOCTL, out, sizeof(out)),
			 VM_EXIT_SECCOMP);
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU, DIRTY_LOG_IOCTL, out, sizeof(out)),
			 VM_EXIT_SECCOMP);
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU_TEST, SLOT_IOCTL, out, sizeof(out)), 0);
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU_TEST, DIRTY_LOG_IOCTL, out, sizeof(out)),
			 0);
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU, IRQ_IOCTL, out, sizeof(out)), 0);
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_IO, IRQ_IOCTL, out, sizeof(out)), 0);
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_MAIN, SLOT_IOCTL, out, sizeof(out)), 0);
}

/* A vCPU thread reaches its own vCPU only. */
static void test_own_vcpu(void **state)
{
	char out[256];

	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU, REGS_OWN, out, sizeof(out)), 0);
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU, REGS_OTHER, out, sizeof(out)),
			 VM_EXIT_SECCOMP);
	assert_non_null(strstr(out, "forbidden syscall ioctl (16)"));
	assert_int_equal(child(SANDBOX_KILL, SANDBOX_VCPU_TEST, REGS_OTHER, out, sizeof(out)),
			 VM_EXIT_SECCOMP);
}

static void test_log_and_off(void **state)
{
	char out[256];

	assert_int_equal(child(SANDBOX_LOG, SANDBOX_VCPU, OPEN, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(child(SANDBOX_OFF, SANDBOX_VCPU, OPEN, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),	cmocka_unit_test(test_kill),
	    cmocka_unit_test(test_vm_ioctls),	cmocka_unit_test(test_own_vcpu),
	    cmocka_unit_test(test_log_and_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
