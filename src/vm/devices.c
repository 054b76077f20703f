// SPDX-License-Identifier: GPL-2.0-only
/*
 * The machine's legacy devices on their ports, the serial console's host
 * side (stdin, stdout or a file, Ctrl-A x), and the I/O thread's loop.
 */
#include "vm/devices.h"
#include "vm/devices_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "dev/acpi_pm.h"
#include "arch/x86/e820.h"
#include "dev/debug_exit.h"
#include "dev/i8042.h"
#include "dev/boot_timer.h"
#include "dev/pvpanic.h"
#include "dev/rtc_cmos.h"
#include "dev/uart16550.h"
#include "kvm/kvm_mce.h"
#include "pci/pci_host.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_console.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_vsock.h"
#include "vm/event_loop.h"
#include "vm/memory_error.h"
#include "vm/terminal.h"
#include "vm/thread.h"

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

/* Every device fd goes through here: while the machine is paused it waits. */
static void io_watch_fired(void *opaque, int fd, uint32_t events)
{
	struct io_watch *w = opaque;

	if (__atomic_load_n(&w->d->hold, __ATOMIC_ACQUIRE)) {
		vm_loop_mod(&w->d->loop, fd, 0);
		w->held = true;
		return;
	}
	w->fn(w->opaque, fd, events);
}

/* The I/O thread watches virtio doorbells, completions, TAPs and timers for the devices. */
static int io_watch(void *ctx, int fd, void (*fn)(void *opaque, int fd, uint32_t events),
		    void *opaque)
{
	struct vm_devices *d = ctx;
	struct io_watch *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	*w = (struct io_watch){
	    .d = d, .fd = fd, .fn = fn, .opaque = opaque, .events = EPOLLIN, .next = d->watches};
	ret = vm_loop_add(&d->loop, fd, EPOLLIN, io_watch_fired, w);
	if (ret < 0) {
		free(w);
		return ret;
	}
	d->watches = w;
	return 0;
}

static void io_unwatch(void *ctx, int fd)
{
	struct vm_devices *d = ctx;
	struct io_watch **p, *w;

	vm_loop_del(&d->loop, fd);
	for (p = &d->watches; (w = *p); p = &w->next) {
		if (w->fd == fd) {
			*p = w->next;
			free(w);
			return;
		}
	}
}

/* A device wants other events of its fd (a held one gets them at the resume). */
static int io_rewatch(void *ctx, int fd, uint32_t events)
{
	struct vm_devices *d = ctx;

	for (struct io_watch *w = d->watches; w; w = w->next) {
		if (w->fd != fd)
			continue;
		w->events = events;
		return w->held ? 0 : vm_loop_mod(&d->loop, fd, events);
	}
	return -ENOENT;
}

/* On the I/O thread: the hold changed; on release, held fds are watched again. */
static void on_hold(void *opaque, int fd, uint32_t events)
{
	struct vm_devices *d = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	if (!__atomic_load_n(&d->hold, __ATOMIC_ACQUIRE)) {
		for (struct io_watch *w = d->watches; w; w = w->next) {
			if (w->held)
				vm_loop_mod(&d->loop, w->fd, w->events);
			w->held = false;
		}
	}
	pthread_mutex_lock(&d->hold_lock);
	d->hold_ack = d->hold_seq;
	pthread_cond_broadcast(&d->hold_cond);
	pthread_mutex_unlock(&d->hold_lock);
}

int vm_devices_hold(struct machine *m, bool hold, int timeout_ms)
{
	struct vm_devices *d = m->devs;
	struct timespec deadline;
	uint64_t one = 1, seq;
	int ret = 0;

	if (!d)
		return 0;
	deadline = vm_deadline_after_ms(timeout_ms);
	pthread_mutex_lock(&d->hold_lock);
	__atomic_store_n(&d->hold, hold, __ATOMIC_RELEASE);
	seq = ++d->hold_seq;
	if (write(d->hold_efd, &one, sizeof(one)) < 0)
		ret = -errno;
	/*
	 * Once acknowledged, no device handler runs (hold) or held fds are back
	 * (release). A loop not (or no longer) running has nothing to obey: it
	 * reads the flag when it starts (a restored machine's, resumed before
	 * its I/O thread got going).
	 */
	while (!ret && d->loop_running && d->hold_ack < seq)
		if (pthread_cond_timedwait(&d->hold_cond, &d->hold_lock, &deadline) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	pthread_mutex_unlock(&d->hold_lock);
	return ret;
}

static int plug_virtio(struct vm_devices *d, struct virtio_pci *vp)
{
	int slot = pci_host_plug(&d->pci, &vp->pci);

	if (slot < 0) {
		fprintf(stderr, "petrel: no free PCI slot for %s\n", vp->ops->name);
		return slot;
	}
	virtio_pci_plugged(vp, pci_host_intx_gsi(&d->pci, (unsigned int)slot));
	return 0;
}

/* Does the configuration put a device on the PCI bus? Each kind of PCI device is listed here. */
static bool wants_pci(const struct vm_config *cfg)
{
	return cfg->rng || cfg->nr_disks || cfg->nr_nets || cfg->vsock_on || cfg->balloon.on;
}

static void console_out(void *opaque, const uint8_t *buf, size_t len);

/*
 * The guest gave the virtio console receive buffers (on this thread, with
 * the device's lock held): feed the pending input from the next loop turn.
 */
static void hvc_rx_ready(void *opaque)
{
	struct vm_devices *d = opaque;

	if (d->pending_len)
		d->loop.timeout_ms = 0;
}

/* --console hvc: a virtio-console gets the console's output and input. */
static int create_hvc(struct vm_devices *d, const struct virtio_io *io)
{
	struct machine *m = d->m;
	struct winsize ws;
	int ret;

	d->con = calloc(1, sizeof(*d->con));
	if (!d->con)
		return -ENOMEM;
	ret = virtio_console_init(d->con, &m->mem, &m->platform, io,
				  d->out_fd >= 0 ? console_out : NULL, d);
	if (ret < 0) {
		fprintf(stderr, "petrel: virtio-console: %s\n", strerror(-ret));
		return ret;
	}
	virtio_console_set_rx_ready(d->con, hvc_rx_ready);
	/* the guest's console is as large as the terminal showing it */
	if (d->out_fd >= 0 && isatty(d->out_fd) && ioctl(d->out_fd, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col && ws.ws_row)
		virtio_console_set_size(d->con, ws.ws_col, ws.ws_row);
	return plug_virtio(d, &d->con->vp);
}

/* The PCI host bridge and the virtio devices the configuration asks for. */
static int create_pci(struct vm_devices *d)
{
	struct machine *m = d->m;
	struct virtio_io io = {
	    .watch = io_watch, .unwatch = io_unwatch, .rewatch = io_rewatch, .ctx = d};
	int ret;

	ret = pci_host_init(&d->pci, &m->pio, &m->mmio);
	if (ret < 0) {
		fprintf(stderr, "petrel: PCI host bridge: %s\n", strerror(-ret));
		return ret;
	}
	d->pci_on = true;
	ret = pci_host_register(&d->pci, X86_ECAM_ADDR);
	if (ret < 0) {
		fprintf(stderr, "petrel: PCI host bridge ports: %s\n", strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < m->cfg.nr_disks; i++) {
		struct virtio_blk_config_opts o = m->cfg.disks[i];

		/* a migration's destination locks its images when the source lets go */
		o.unlocked = m->cfg.incoming;
		d->blk[i] = calloc(1, sizeof(*d->blk[i]));
		ret = d->blk[i] ? virtio_blk_init(d->blk[i], &o, &m->mem, &m->platform, &io)
				: -ENOMEM;
		if (!ret)
			ret = plug_virtio(d, &d->blk[i]->vp);
		if (ret < 0)
			return ret;
	}
	for (unsigned int i = 0; i < m->cfg.nr_nets; i++) {
		struct virtio_net_config_opts o = m->cfg.nets[i];

		/* ... and opens its TAPs then (one TAP takes one user) */
		o.detached = m->cfg.incoming;
		d->net[i] = calloc(1, sizeof(*d->net[i]));
		ret = d->net[i] ? virtio_net_init(d->net[i], &o, &m->mem, &m->platform, &io)
				: -ENOMEM;
		if (!ret)
			ret = plug_virtio(d, &d->net[i]->vp);
		if (ret < 0)
			return ret;
	}
	if (m->cfg.rng) {
		d->rng = calloc(1, sizeof(*d->rng));
		if (!d->rng)
			return -ENOMEM;
		ret = virtio_rng_init(d->rng, &m->mem, &m->platform, &io);
		if (ret < 0) {
			fprintf(stderr, "petrel: virtio-rng: %s\n", strerror(-ret));
			return ret;
		}
		ret = plug_virtio(d, &d->rng->vp);
		if (ret < 0)
			return ret;
	}
	if (m->cfg.vsock_on) {
		d->vsock = calloc(1, sizeof(*d->vsock));
		if (!d->vsock)
			return -ENOMEM;
		/* a path that exists is said by the device */
		/* a migration's destination creates its UDS when the source let it go */
		ret = virtio_vsock_init(d->vsock, &m->cfg.vsock, m->cfg.incoming, &m->mem,
					&m->platform, &io);
		if (ret < 0) {
			if (ret != -EEXIST)
				fprintf(stderr, "petrel: virtio-vsock: %s\n", strerror(-ret));
			return ret;
		}
		ret = plug_virtio(d, &d->vsock->vp);
		if (ret < 0)
			return ret;
	}
	if (m->cfg.balloon.on) {
		d->balloon = calloc(1, sizeof(*d->balloon));
		ret = d->balloon ? virtio_balloon_init(d->balloon, &m->cfg.balloon, &m->mem,
						       &m->platform, &io)
				 : -ENOMEM;
		if (ret < 0) {
			fprintf(stderr, "petrel: virtio-balloon: %s\n", strerror(-ret));
			return ret;
		}
		ret = plug_virtio(d, &d->balloon->vp);
		if (ret < 0)
			return ret;
	}
	if (m->cfg.console_hvc) {
		ret = create_hvc(d, &io);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Port 0x80: POST codes, and Linux's I/O delay. Reads 0xff, writes dropped. */
static uint64_t post_read(void *opaque, uint64_t off, unsigned int size)
{
	return ~0ULL;
}

static void post_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
}

static const struct bus_ops post_ops = {
    .read = post_read,
    .write = post_write,
};

/*
 * Console output never waits: what a reader does not take now (a full pipe,
 * a stopped terminal) or what passes the file's cap is dropped and counted.
 * Called with the emitting device's lock held (one device emits at a time).
 */
static void console_out(void *opaque, const uint8_t *buf, size_t len)
{
	struct vm_devices *d = opaque;
	size_t keep = len;

	if (d->out_max)
		keep = d->out_written >= d->out_max	   ? 0
		       : len > d->out_max - d->out_written ? (size_t)(d->out_max - d->out_written)
							   : len;
	if (keep && d->out_tty) {
		struct pollfd p = {.fd = d->out_fd, .events = POLLOUT};

		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
			keep = 0;
	}
	__atomic_add_fetch(&d->out_dropped, len - keep, __ATOMIC_RELAXED);
	while (keep) {
		ssize_t n = write(d->out_fd, buf, keep);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* full (EAGAIN) or the reader went away: drop, never block the guest */
			__atomic_add_fetch(&d->out_dropped, keep, __ATOMIC_RELAXED);
			return;
		}
		d->out_written += (uint64_t)n;
		buf += n;
		keep -= (size_t)n;
	}
}

static void debug_exit_cb(void *opaque, int status)
{
	machine_request_stop(opaque, status);
}

/*
 * The guest's kernel says it panicked: it flushes its console after telling
 * us, then halts or resets. The machine stops with status 8 at that reset or
 * poweroff, or after PANIC_GRACE_MS, whichever comes first.
 */
#define PANIC_GRACE_MS 1000

static void guest_panicked(void *opaque)
{
	struct vm_devices *d = opaque;
	struct itimerspec t = {.it_value = {.tv_sec = PANIC_GRACE_MS / 1000,
					    .tv_nsec = (PANIC_GRACE_MS % 1000) * 1000000L}};

	fprintf(stderr, "petrel: the guest reported a kernel panic\n");
	machine_report_panic(d->m);
	if (timerfd_settime(d->panic_tfd, 0, &t, NULL) < 0)
		machine_request_stop(d->m, VM_EXIT_PANIC);
}

static void on_panic_grace(void *opaque, int fd, uint32_t events)
{
	struct vm_devices *d = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	machine_request_stop(d->m, VM_EXIT_PANIC);
}

/* Move pending input into the FIFO; retry on a short timer while it is full. */
static void console_feed(struct vm_devices *d)
{
	size_t n = d->con ? virtio_console_input(d->con, d->pending, d->pending_len)
			  : uart_push_input(&d->com1, d->pending, d->pending_len);

	memmove(d->pending, d->pending + n, d->pending_len - n);
	d->pending_len -= n;
	if (d->con) {
		/*
		 * No timer: hvc_rx_ready says when the guest has buffers again.
		 * stdin stays on while there is room, so Ctrl-A x still works
		 * when the guest never reads its console.
		 */
		d->loop.timeout_ms = -1;
		if (d->stdin_on)
			vm_loop_mod(&d->loop, STDIN_FILENO,
				    d->pending_len < sizeof(d->pending) ? EPOLLIN : 0);
		return;
	}
	d->loop.timeout_ms = d->pending_len ? 5 : -1;
	if (d->stdin_on)
		vm_loop_mod(&d->loop, STDIN_FILENO, d->pending_len ? 0 : EPOLLIN);
}

static void on_idle(void *opaque, int fd, uint32_t events)
{
	console_feed(opaque);
}

static void on_stdin(void *opaque, int fd, uint32_t events)
{
	struct vm_devices *d = opaque;
	uint8_t buf[sizeof(d->pending)];
	ssize_t n, i;

	if (d->pending_len == sizeof(d->pending))
		return; /* no room: a read of 0 bytes would look like the end */
	n = read(fd, buf, sizeof(buf) - d->pending_len);
	if (n <= 0) {
		/* end of input: the guest keeps running without it */
		vm_loop_del(&d->loop, fd);
		d->stdin_on = false;
		return;
	}
	for (i = 0; i < n; i++) {
		uint8_t c = buf[i];

		if (vm_terminal_is_raw()) {
			if (d->escape) {
				d->escape = false;
				if (c == 'x' || c == 'X') {
					fprintf(stderr,
						"\r\npetrel: Ctrl-A x: stopping the guest\r\n");
					machine_request_stop(d->m, VM_EXIT_POWEROFF);
					return;
				}
				if (c != CONSOLE_ESCAPE)
					continue; /* unknown escape: drop it */
			} else if (c == CONSOLE_ESCAPE) {
				d->escape = true;
				continue;
			}
		}
		d->pending[d->pending_len++] = c;
	}
	console_feed(d);
}

static void on_stop(void *opaque, int fd, uint32_t events)
{
	struct vm_devices *d = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
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

/* A host memory error in some page, reported before anyone touched it. */
static void on_memory_error(void *opaque, int fd, uint32_t events)
{
	struct vm_devices *d = opaque;

	vm_memerr_on_signal(d->m);
}

static int open_console(struct vm_devices *d)
{
	const struct vm_config *cfg = &d->m->cfg;

	d->out_fd = -1;
	d->out_flags = -1;
	switch (cfg->serial) {
	case VM_SERIAL_STDIO: {
		struct stat st;

		d->out_fd = STDOUT_FILENO;
		d->stdin_on = true;
		/*
		 * A pipe or socket nobody reads must not stop a vCPU: non-blocking
		 * (put back at the end). A terminal is shared with the shell, so it
		 * stays as it is and is polled before each write instead.
		 */
		if (isatty(d->out_fd)) {
			d->out_tty = true;
		} else if (fstat(d->out_fd, &st) == 0 &&
			   (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
			d->out_flags = fcntl(d->out_fd, F_GETFL);
			if (d->out_flags >= 0 &&
			    fcntl(d->out_fd, F_SETFL, d->out_flags | O_NONBLOCK) < 0)
				d->out_flags = -1;
		}
		break;
	}
	case VM_SERIAL_FILE:
		d->out_fd =
		    open(cfg->serial_path,
			 O_WRONLY | O_CREAT | O_CLOEXEC | (cfg->serial_append ? O_APPEND : O_TRUNC),
			 0644);
		if (d->out_fd < 0) {
			int ret = -errno;

			fprintf(stderr, "petrel: --serial file=%s: %s\n", cfg->serial_path,
				strerror(-ret));
			return ret;
		}
		d->out_owned = true;
		d->out_max = !cfg->serial_max		     ? VM_SERIAL_FILE_MAX
			     : cfg->serial_max == UINT64_MAX ? 0
							     : cfg->serial_max;
		/* across a guest reboot the file goes on: so does its cap */
		d->out_written = (uint64_t)lseek(d->out_fd, 0, SEEK_END);
		if (d->out_written == (uint64_t)-1)
			d->out_written = 0;
		break;
	case VM_SERIAL_OFF:
		break;
	}
	return 0;
}

static int register_ports(struct vm_devices *d)
{
	struct machine *m = d->m;
	int ret;

	ret = bus_register(&m->pio, X86_PORT_COM1, 8, &uart_bus_ops, &d->com1, "com1");
	/* a port that sets petrel's exit status is for petrel's own test guests only */
	if (!ret && m->cfg.test_device)
		ret = bus_register(&m->pio, X86_PORT_DEBUG_EXIT, 1, &debug_exit_bus_ops, &d->dbg,
				   "debug-exit");
	if (!ret)
		ret = bus_register(&m->pio, X86_PORT_PM1A_EVT, ACPI_PM_EVT_LEN, &acpi_pm_evt_ops,
				   &d->pm, "pm1a-evt");
	if (!ret)
		ret = bus_register(&m->pio, X86_PORT_PM1A_CNT, ACPI_PM_CNT_LEN, &acpi_pm_cnt_ops,
				   &d->pm, "pm1a-cnt");
	if (!ret)
		ret = bus_register(&m->pio, ACPI_PM_RESET_PORT, 1, &acpi_pm_reset_ops, &d->pm,
				   "reset");
	if (!ret)
		ret = bus_register(&m->pio, X86_PORT_RTC, 2, &rtc_cmos_ops, &d->rtc, "rtc");
	if (!ret)
		ret = bus_register(&m->pio, X86_PORT_I8042_DATA, 1, &i8042_data_ops, &d->kbc,
				   "i8042-data");
	if (!ret)
		ret = bus_register(&m->pio, X86_PORT_I8042_CMD, 1, &i8042_cmd_ops, &d->kbc,
				   "i8042-cmd");
	if (!ret)
		ret = bus_register(&m->pio, X86_PORT_POST, 1, &post_ops, NULL, "post");
	if (!ret)
		ret = bus_register(&m->pio, PVPANIC_PORT, 1, &pvpanic_ops, &d->panic, "pvpanic");
	if (!ret && m->cfg.boot_timer) {
		boot_timer_start(&d->boot_timer, stderr);
		ret = bus_register(&m->mmio, BOOT_TIMER_ADDR, BOOT_TIMER_LEN, &boot_timer_ops,
				   &d->boot_timer, "boot-timer");
	}
	if (ret < 0)
		fprintf(stderr, "petrel: registering legacy devices: %s\n", strerror(-ret));
	return ret;
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
	d->loop.epfd = -1;
	d->hold_efd = -1;
	d->panic_tfd = -1;
	pthread_mutex_init(&d->hold_lock, NULL);
	pthread_cond_init(&d->hold_cond, NULL);
	m->devs = d;
	ret = open_console(d);
	if (ret < 0)
		return ret;
	/* with --console hvc the UART stays (Linux probes it) but its output is dropped */
	uart_init(&d->com1, &m->platform, X86_IRQ_COM1,
		  d->out_fd >= 0 && !m->cfg.console_hvc ? console_out : NULL, d);
	acpi_pm_init(&d->pm, &m->platform, X86_IRQ_SCI);
	rtc_cmos_init(&d->rtc, &m->platform, x86_ram_below_4g(m->cfg.mem_size),
		      x86_ram_above_4g(m->cfg.mem_size));
	i8042_init(&d->kbc, &m->platform);
	d->panic.on_panic = guest_panicked;
	d->panic.opaque = d;
	d->dbg.exit_cb = debug_exit_cb;
	d->dbg.opaque = m;
	ret = register_ports(d);
	if (ret < 0)
		return ret;

	ret = vm_loop_init(&d->loop);
	if (ret < 0)
		return ret;
	d->loop.idle = on_idle;
	d->loop.idle_opaque = d;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0)
		return -errno;
	d->hold_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->hold_efd < 0)
		return -errno;
	d->panic_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->panic_tfd < 0)
		return -errno;
	ret = vm_loop_add(&d->loop, d->sigfd, EPOLLIN, on_signal, d);
	if (!ret)
		ret = vm_loop_add(&d->loop, m->stop_efd, EPOLLIN, on_stop, d);
	if (!ret)
		ret = vm_loop_add(&d->loop, d->hold_efd, EPOLLIN, on_hold, d);
	if (!ret)
		ret = vm_loop_add(&d->loop, d->panic_tfd, EPOLLIN, on_panic_grace, d);
	if (!ret && kvm_sigbus_eventfd() >= 0)
		ret = vm_loop_add(&d->loop, kvm_sigbus_eventfd(), EPOLLIN, on_memory_error, d);
	if (ret < 0)
		return ret;
	/* kernels always get the PCI bus; firmware guests when they have a device on it */
	if (m->cfg.boot == VM_BOOT_KERNEL || wants_pci(&m->cfg)) {
		ret = create_pci(d); /* each failure is reported where it happens */
		if (ret < 0)
			return ret;
	}
	/* stdin may be a file or /dev/null, which epoll refuses: then no input. */
	if (d->stdin_on && vm_loop_add(&d->loop, STDIN_FILENO, EPOLLIN, on_stdin, d) < 0)
		d->stdin_on = false;
	return 0;
}

void vm_devices_destroy(struct machine *m)
{
	struct vm_devices *d = m->devs;

	if (!d)
		return;
	/* the host first: it unmaps the BARs of devices that still exist */
	if (d->pci_on)
		pci_host_destroy(&d->pci);
	if (d->rng) {
		virtio_rng_destroy(d->rng);
		free(d->rng);
	}
	if (d->balloon) {
		virtio_balloon_destroy(d->balloon);
		free(d->balloon);
	}
	if (d->con) {
		virtio_console_destroy(d->con);
		free(d->con);
	}
	if (d->vsock) {
		virtio_vsock_destroy(d->vsock);
		free(d->vsock);
	}
	for (unsigned int i = 0; i < VM_MAX_DISKS; i++) {
		if (!d->blk[i])
			continue;
		virtio_blk_destroy(d->blk[i]);
		free(d->blk[i]);
	}
	for (unsigned int i = 0; i < VM_MAX_NETS; i++) {
		if (!d->net[i])
			continue;
		virtio_net_destroy(d->net[i]);
		free(d->net[i]);
	}
	uart_destroy(&d->com1);
	while (d->watches) {
		struct io_watch *w = d->watches;

		d->watches = w->next;
		free(w);
	}
	if (d->loop.epfd >= 0)
		vm_loop_destroy(&d->loop);
	if (d->hold_efd >= 0)
		close(d->hold_efd);
	if (d->panic_tfd >= 0)
		close(d->panic_tfd);
	pthread_mutex_destroy(&d->hold_lock);
	pthread_cond_destroy(&d->hold_cond);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->out_dropped)
		fprintf(stderr,
			"petrel: %llu bytes of console output were dropped (nobody read them, or "
			"past the file's max=)\n",
			(unsigned long long)d->out_dropped);
	if (d->out_owned)
		close(d->out_fd);
	if (d->out_flags >= 0)
		fcntl(d->out_fd, F_SETFL, d->out_flags);
	free(d);
	m->devs = NULL;
}

void vm_devices_event_loop(struct machine *m)
{
	struct vm_devices *d = m->devs;

	pthread_mutex_lock(&d->hold_lock);
	d->loop_running = true;
	pthread_mutex_unlock(&d->hold_lock);
	vm_loop_run(&d->loop);
	pthread_mutex_lock(&d->hold_lock);
	d->loop_running = false;
	pthread_cond_broadcast(&d->hold_cond);
	pthread_mutex_unlock(&d->hold_lock);
}

static void print_queues(FILE *out, const char *what, unsigned int idx, struct virtio_pci *vp)
{
	unsigned int i;

	pthread_mutex_lock(&vp->lock);
	for (i = 0; i < vp->ops->nr_queues; i++)
		fprintf(out, "petrel: %s %u queue %u: %llu kicks, %llu interrupts\n", what, idx, i,
			(unsigned long long)vp->q[i].kicks,
			(unsigned long long)vp->q[i].interrupts);
	pthread_mutex_unlock(&vp->lock);
}

void vm_devices_print_stats(struct machine *m, FILE *out)
{
	struct vm_devices *d = m->devs;
	unsigned int i;

	if (!d)
		return;
	fprintf(out, "petrel: console output dropped %llu bytes\n",
		(unsigned long long)__atomic_load_n(&d->out_dropped, __ATOMIC_RELAXED));
	for (i = 0; i < VM_MAX_DISKS; i++)
		if (d->blk[i])
			print_queues(out, "virtio-blk", i, &d->blk[i]->vp);
	for (i = 0; i < VM_MAX_NETS; i++) {
		const struct virtio_net_stats *s;

		if (!d->net[i])
			continue;
		print_queues(out, "virtio-net", i, &d->net[i]->vp);
		s = &d->net[i]->stats;
		fprintf(out,
			"petrel: virtio-net %u: rx %llu packets %llu bytes (%llu dropped, %llu "
			"errors), tx %llu packets %llu bytes (%llu dropped, %llu errors)\n",
			i, (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
			(unsigned long long)s->rx_dropped, (unsigned long long)s->rx_errors,
			(unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
			(unsigned long long)s->tx_dropped, (unsigned long long)s->tx_errors);
	}
	if (d->rng)
		print_queues(out, "virtio-rng", 0, &d->rng->vp);
	if (d->con)
		print_queues(out, "virtio-console", 0, &d->con->vp);
	if (d->vsock) {
		struct vsock_mux_stats s;
		unsigned int conns;

		print_queues(out, "virtio-vsock", 0, &d->vsock->vp);
		virtio_vsock_stats(d->vsock, &s, &conns);
		fprintf(out,
			"petrel: virtio-vsock 0: %u connections open, %llu opened, %llu refused, "
			"%llu bytes to the guest, %llu from it, %llu bad packets\n",
			conns, (unsigned long long)s.conns_opened,
			(unsigned long long)s.conns_refused, (unsigned long long)s.bytes_to_guest,
			(unsigned long long)s.bytes_from_guest, (unsigned long long)s.bad_packets);
	}
	if (d->balloon) {
		struct virtio_balloon_info bi;

		print_queues(out, "virtio-balloon", 0, &d->balloon->vp);
		virtio_balloon_info(d->balloon, &bi);
		fprintf(
		    out,
		    "petrel: virtio-balloon 0: target %u pages, actual %u, %llu pages inflated, "
		    "%llu deflated, %llu reported, %llu bad, %llu statistics updates\n",
		    bi.target_pages, bi.actual_pages, (unsigned long long)bi.counts.inflated,
		    (unsigned long long)bi.counts.deflated, (unsigned long long)bi.counts.reported,
		    (unsigned long long)bi.counts.bad_pfns,
		    (unsigned long long)bi.counts.stats_updates);
	}
}

void vm_devices_flush(struct machine *m)
{
	if (m->devs)
		uart_flush(&m->devs->com1);
}

int vm_devices_ctrl_alt_del(struct machine *m)
{
	return m->devs ? i8042_send_ctrl_alt_del(&m->devs->kbc) : -ENODEV;
}

int vm_devices_power_button(struct machine *m)
{
	return m->devs ? acpi_pm_power_button(&m->devs->pm) : -ENODEV;
}

int vm_devices_release_host(struct machine *m, bool keep_taps)
{
	struct vm_devices *d = m->devs;
	int ret = 0;

	if (!d)
		return 0;
	for (unsigned int i = 0; i < m->cfg.nr_disks && !ret; i++)
		if (d->blk[i])
			ret = virtio_blk_unlock(d->blk[i]);
	if (ret < 0) {
		char why[128];

		/* the images stay this petrel's */
		vm_devices_take_host(m, why, sizeof(why));
		return ret;
	}
	for (unsigned int i = 0; i < m->cfg.nr_nets && !keep_taps; i++)
		if (d->net[i])
			virtio_net_detach(d->net[i]);
	if (d->vsock)
		virtio_vsock_detach(d->vsock);
	return 0;
}

unsigned int vm_devices_tap_fds(struct machine *m, int *fds, uint32_t *nics, unsigned int max)
{
	struct vm_devices *d = m->devs;
	unsigned int n = 0;

	for (unsigned int i = 0; d && i < m->cfg.nr_nets && n < max; i++) {
		if (!d->net[i] || d->net[i]->tap_fd < 0)
			continue;
		fds[n] = d->net[i]->tap_fd;
		nics[n++] = i;
	}
	return n;
}

int vm_devices_take_host_fds(struct machine *m, int *fds, const uint32_t *nics, unsigned int n,
			     char *why, size_t len)
{
	struct vm_devices *d = m->devs;
	int ret;

	if (len)
		*why = 0;
	for (unsigned int k = 0; d && k < n; k++) {
		struct virtio_net *net = nics[k] < m->cfg.nr_nets ? d->net[nics[k]] : NULL;

		if (!net) {
			snprintf(why, len, "a TAP for NIC %u, which this machine does not have",
				 nics[k]);
			return -EPROTO;
		}
		ret = virtio_net_attach_fd(net, fds[k]);
		if (ret < 0) {
			snprintf(why, len, "TAP %s: %s", net->tap,
				 ret == -ENODEV ? "the fd received is not this TAP"
						: strerror(-ret));
			return ret;
		}
		fds[k] = -1;
	}
	/* the disks, and any TAP that came without an fd */
	return vm_devices_take_host(m, why, len);
}

int vm_devices_take_host(struct machine *m, char *why, size_t len)
{
	struct vm_devices *d = m->devs;
	int ret = 0, r;

	if (len)
		*why = 0;
	if (!d)
		return 0;
	/* everything that can be taken is: the caller decides what a failure means */
	for (unsigned int i = 0; i < m->cfg.nr_disks; i++) {
		if (!d->blk[i] || (r = virtio_blk_lock(d->blk[i])) >= 0)
			continue;
		if (!ret)
			snprintf(why, len, "disk %s: %s", d->blk[i]->path,
				 r == -EWOULDBLOCK ? "in use by another process" : strerror(-r));
		ret = ret ? ret : r;
	}
	for (unsigned int i = 0; i < m->cfg.nr_nets; i++) {
		if (!d->net[i] || (r = virtio_net_attach(d->net[i])) >= 0)
			continue;
		if (!ret)
			snprintf(why, len, "TAP %s: %s", d->net[i]->tap,
				 r == -EBUSY ? "in use by another process" : strerror(-r));
		ret = ret ? ret : r;
	}
	if (d->vsock && (r = virtio_vsock_attach(d->vsock)) < 0) {
		if (!ret)
			snprintf(why, len, "vsock UDS %s: %s", d->vsock->uds,
				 r == -EEXIST ? "the path exists" : strerror(-r));
		ret = ret ? ret : r;
	}
	return ret;
}

int vm_devices_set_disk(struct machine *m, unsigned int idx, const char *path)
{
	if (!m->devs || idx >= VM_MAX_DISKS || !m->devs->blk[idx])
		return -ENODEV;
	return virtio_blk_set_backing(m->devs->blk[idx], path);
}

static void queue_counts(struct virtio_pci *vp, uint64_t *kicks, uint64_t *interrupts)
{
	*kicks = *interrupts = 0;
	pthread_mutex_lock(&vp->lock);
	for (unsigned int i = 0; i < vp->ops->nr_queues; i++) {
		*kicks += vp->q[i].kicks;
		*interrupts += vp->q[i].interrupts;
	}
	pthread_mutex_unlock(&vp->lock);
}

int vm_devices_disk_counts(struct machine *m, unsigned int idx, uint64_t *kicks,
			   uint64_t *interrupts)
{
	if (!m->devs || idx >= VM_MAX_DISKS || !m->devs->blk[idx])
		return -ENODEV;
	queue_counts(&m->devs->blk[idx]->vp, kicks, interrupts);
	return 0;
}

int vm_devices_net_stats(struct machine *m, unsigned int idx, struct virtio_net_stats *out)
{
	struct virtio_net *n;

	if (!m->devs || idx >= VM_MAX_NETS || !m->devs->net[idx])
		return -ENODEV;
	n = m->devs->net[idx];
	pthread_mutex_lock(&n->vp.lock);
	*out = n->stats;
	pthread_mutex_unlock(&n->vp.lock);
	return 0;
}

int vm_devices_balloon_set(struct machine *m, const uint32_t *target_pages,
			   const unsigned int *stats_interval_s)
{
	struct virtio_balloon *b = m->devs ? m->devs->balloon : NULL;
	int ret = 0;

	if (!b)
		return -ENODEV;
	if (stats_interval_s)
		ret = virtio_balloon_set_stats_interval(b, *stats_interval_s);
	if (!ret && target_pages)
		virtio_balloon_set_target(b, *target_pages);
	return ret;
}

int vm_devices_balloon_info(struct machine *m, struct virtio_balloon_info *out)
{
	if (!m->devs || !m->devs->balloon)
		return -ENODEV;
	virtio_balloon_info(m->devs->balloon, out);
	return 0;
}
