/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The machine's devices as src/vm holds them, shared by devices.c (creation,
 * the I/O thread) and devices_state.c (saving and restoring their state).
 */
#ifndef PETREL_VM_DEVICES_PRIV_H
#define PETREL_VM_DEVICES_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/acpi_pm.h"
#include "dev/boot_timer.h"
#include "dev/debug_exit.h"
#include "dev/i8042.h"
#include "dev/pvpanic.h"
#include "dev/rtc_cmos.h"
#include "dev/uart16550.h"
#include "pci/pci_host.h"
#include "virtio/virtio_balloon.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_console.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_rng.h"
#include "virtio/virtio_vsock.h"
#include "vm/event_loop.h"
#include "vm/machine.h"

/* A device's fd on the I/O thread, held back while the machine is paused. */
struct io_watch {
	struct vm_devices *d;
	int fd;
	void (*fn)(void *opaque, int fd, uint32_t events);
	void *opaque;
	uint32_t events; /* what it is watched for (EPOLLIN unless the device said) */
	bool held;	 /* it fired while paused: out of epoll until the resume */
	struct io_watch *next;
};

struct vm_devices {
	struct machine *m;
	struct vm_loop loop;
	/* Pause of device work: set by vm_devices_hold, obeyed on the I/O thread. */
	struct io_watch *watches;
	bool hold;     /* atomic: device fds wait */
	int hold_efd;  /* tells the I/O thread the hold changed */
	int panic_tfd; /* after a reported panic: when to stop waiting for the guest's console */
	uint64_t hold_seq; /* requests made, under hold_lock */
	uint64_t hold_ack; /* requests the I/O thread has seen */
	bool loop_running; /* under hold_lock: the I/O thread is in its loop to answer */
	pthread_mutex_t hold_lock;
	pthread_cond_t hold_cond;
	int sigfd;
	int out_fd; /* console output: stdout or a file */
	bool out_owned;
	int out_flags;	      /* stdout's file status flags before ours, or -1 */
	bool out_tty;	      /* written only when poll says it takes bytes now */
	uint64_t out_written; /* bytes in the file (for its cap) */
	uint64_t out_max;     /* the file's cap; 0: none */
	uint64_t out_dropped; /* atomic: bytes nobody took, or past the cap */
	bool stdin_on;	      /* stdin feeds the UART */
	bool escape;	      /* Ctrl-A seen */
	uint8_t pending[64];  /* input the FIFO had no room for yet */
	size_t pending_len;

	struct uart com1;
	struct acpi_pm pm;
	struct debug_exit dbg;
	struct rtc_cmos rtc;
	struct i8042 kbc;
	struct pvpanic panic;
	struct boot_timer boot_timer;
	struct pci_host pci;
	bool pci_on;
	struct virtio_rng *rng;
	struct virtio_balloon *balloon;
	struct virtio_console *con; /* with --console hvc: gets the console's input */
	struct virtio_blk *blk[VM_MAX_DISKS];
	struct virtio_net *net[VM_MAX_NETS];
	struct virtio_vsock *vsock;
};

#endif
