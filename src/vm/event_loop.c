// SPDX-License-Identifier: GPL-2.0-only
#include "vm/event_loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct vm_loop_entry {
	int fd;
	bool dead; /* deleted while its events were being dispatched: freed after */
	vm_loop_fn fn;
	void *opaque;
	struct vm_loop_entry *next;
};

int vm_loop_init(struct vm_loop *l)
{
	l->quit = false;
	l->timeout_ms = -1;
	l->idle = NULL;
	l->entries = NULL;
	l->dead = NULL;
	l->dispatching = false;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void vm_loop_destroy(struct vm_loop *l)
{
	while (l->entries) {
		struct vm_loop_entry *e = l->entries;

		l->entries = e->next;
		free(e);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int vm_loop_add(struct vm_loop *l, int fd, uint32_t events, vm_loop_fn fn, void *opaque)
{
	struct vm_loop_entry *e = calloc(1, sizeof(*e));
	struct epoll_event ev = {.events = events};

	if (!e)
		return -ENOMEM;
	e->fd = fd;
	e->fn = fn;
	e->opaque = opaque;
	ev.data.ptr = e;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = -errno;

		free(e);
		return ret;
	}
	e->next = l->entries;
	l->entries = e;
	return 0;
}

static struct vm_loop_entry *find(struct vm_loop *l, int fd, struct vm_loop_entry ***link)
{
	struct vm_loop_entry **p;

	for (p = &l->entries; *p; p = &(*p)->next) {
		if ((*p)->fd == fd) {
			if (link)
				*link = p;
			return *p;
		}
	}
	return NULL;
}

int vm_loop_mod(struct vm_loop *l, int fd, uint32_t events)
{
	struct vm_loop_entry *e = find(l, fd, NULL);
	struct epoll_event ev = {.events = events};

	if (!e)
		return -ENOENT;
	ev.data.ptr = e;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int vm_loop_del(struct vm_loop *l, int fd)
{
	struct vm_loop_entry **link, *e = find(l, fd, &link);

	if (!e)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	*link = e->next;
	if (l->dispatching) {
		/* an event of this batch may still point at it */
		e->dead = true;
		e->next = l->dead;
		l->dead = e;
		return 0;
	}
	free(e);
	return 0;
}

void vm_loop_run(struct vm_loop *l)
{
	struct epoll_event evs[16];
	int i, n;

	while (!l->quit) {
		n = epoll_wait(l->epfd, evs, 16, l->timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0 && l->idle)
			l->idle(l->idle_opaque, -1, 0);
		l->dispatching = true;
		for (i = 0; i < n && !l->quit; i++) {
			struct vm_loop_entry *e = evs[i].data.ptr;

			if (!e->dead)
				e->fn(e->opaque, e->fd, evs[i].events);
		}
		l->dispatching = false;
		while (l->dead) {
			struct vm_loop_entry *e = l->dead;

			l->dead = e->next;
			free(e);
		}
	}
}
