/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The machine's I/O thread: an epoll loop that calls a handler when its fd is
 * ready. Console input, signals, virtqueue doorbells and the debugger socket
 * all live here, never on vCPU threads.
 */
#ifndef PETREL_VM_EVENT_LOOP_H
#define PETREL_VM_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*vm_loop_fn)(void *opaque, int fd, uint32_t events);

struct vm_loop_entry;

struct vm_loop {
	int epfd;
	bool quit;
	int timeout_ms;	 /* -1: none; handlers may lower it for retries */
	vm_loop_fn idle; /* called on timeout */
	void *idle_opaque;
	struct vm_loop_entry *entries;
	/*
	 * A handler may delete any fd, its own or another's with an event in
	 * the same batch: such entries wait here until the batch is done.
	 */
	bool dispatching;
	struct vm_loop_entry *dead;
};

int vm_loop_init(struct vm_loop *l);
void vm_loop_destroy(struct vm_loop *l);
int vm_loop_add(struct vm_loop *l, int fd, uint32_t events, vm_loop_fn fn, void *opaque);
int vm_loop_mod(struct vm_loop *l, int fd, uint32_t events);
int vm_loop_del(struct vm_loop *l, int fd);
/* Dispatch events until a handler sets l->quit. */
void vm_loop_run(struct vm_loop *l);

#endif
