/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP API on a UNIX socket (libevent's evhttp): requests under /api/v1/
 * go to the Cloud Hypervisor front-end, the rest to Firecracker's. One server
 * thread answers every client in turn, so requests are serialized; a client
 * that sends half a request holds nobody up. (libevent loads in a tenth of a
 * millisecond; libmicrohttpd, with gnutls behind it, took two.)
 */
#ifndef PETREL_API_API_SERVER_H
#define PETREL_API_API_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api_vmm.h"

struct event_base;
struct evhttp;
struct event;

struct api_server {
	struct api_vmm *vmm;
	struct event_base *base;
	struct evhttp *http;
	struct event *quit_ev;
	int quit_efd; /* tells the server thread to stop */
	pthread_t thread;
	bool thread_on;
	int listen_fd; /* until the library takes it */
	char *path;    /* the socket petrel made (removed at the end), or NULL for fd=N */
	size_t max_body;
};

/*
 * Listen on @spec: a path (created with mode 0600; an existing path is
 * refused, never unlinked), "path=PATH" or "fd=N" (an inherited socket that
 * is already bound and listening). One line on stderr on failure.
 */
int api_server_open(struct api_server *s, const char *spec);
/* Start answering on the server thread. */
int api_server_start(struct api_server *s, struct api_vmm *vmm);
/* Stop (after letting a reply in progress go out) and remove the socket. */
void api_server_close(struct api_server *s);

#endif
