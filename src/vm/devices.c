// SPDX-License-Identifier: GPL-2.0-only
/* BRING-UP ONLY */
#include "vm/devices.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "vm/event_loop.h"

struct vm_devices {
	struct machine *m;
	struct vm_loop loop;
	int sigfd;
};

static uint64_t tmp_read(void *o, uint64_t off, unsigned int size)
{
	return off == 5 ? 0x60 : 0;
}
static void tmp_com(void *o, uint64_t off, unsigned int size, uint64_t v)
{
	if (off == 0)
		putchar((int)v);
}
static void tmp_exit(void *o, uint64_t off, unsigned int size, uint64_t v)
{
	machine_request_stop(o, (int)(((v & 0xff) << 1) | 1));
}
static void tmp_pm(void *o, uint64_t off, unsigned int size, uint64_t v)
{
	if (off == 4 && (v & 0x2000))
		machine_request_stop(o, 0);
}
static const struct bus_ops com_ops = {tmp_read, tmp_com};
static const struct bus_ops exit_ops = {NULL, tmp_exit};
static const struct bus_ops pm_ops = {tmp_read, tmp_pm};

static void on_stop(void *opaque, int fd, uint32_t events)
{
	struct vm_devices *d = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
	}
	d->loop.quit = true;
}

static void on_signal(void *opaque, int fd, uint32_t events)
{
	struct vm_devices *d = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	fprintf(stderr, "petrel: %s: stopping the guest\n", strsignal((int)si.ssi_signo));
	machine_request_stop(d->m, VM_EXIT_SIGNAL_BASE + (int)si.ssi_signo);
}

int vm_devices_create(struct machine *m)
{
	struct vm_devices *d = calloc(1, sizeof(*d));
	sigset_t set;
	int ret;

	if (!d)
		return -ENOMEM;
	d->m = m;
	d->sigfd = -1;
	m->devs = d;
	ret = vm_loop_init(&d->loop);
	if (ret < 0)
		return ret;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0)
		return -errno;
	vm_loop_add(&d->loop, d->sigfd, EPOLLIN, on_signal, d);
	vm_loop_add(&d->loop, m->stop_efd, EPOLLIN, on_stop, d);
	bus_register(&m->pio, 0x3f8, 8, &com_ops, m, "com1");
	bus_register(&m->pio, 0xf4, 1, &exit_ops, m, "debug-exit");
	bus_register(&m->pio, 0x600, 8, &pm_ops, m, "pm");
	return 0;
}

void vm_devices_destroy(struct machine *m)
{
	struct vm_devices *d = m->devs;

	if (!d)
		return;
	vm_loop_destroy(&d->loop);
	if (d->sigfd >= 0)
		close(d->sigfd);
	free(d);
	m->devs = NULL;
}

void vm_devices_event_loop(struct machine *m)
{
	vm_loop_run(&m->devs->loop);
}

void vm_devices_flush(struct machine *m)
{
	fflush(stdout);
}
