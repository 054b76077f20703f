/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What an HTTP front-end sees of a request and gives back: the server
 * (api_server.c, on libevent's evhttp) fills an api_request and sends the
 * api_response; front-ends are pure functions of the two and the controller,
 * so they are unit-tested without a socket.
 */
#ifndef PETREL_API_API_HTTP_H
#define PETREL_API_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api_vmm.h"

/* Firecracker's default cap on a request body. */
#define API_HTTP_MAX_BODY 51200

struct api_request {
	const char *method; /* "GET", "PUT", "PATCH", ... */
	const char *path;   /* without the query string */
	const char *body;   /* NUL-terminated; "" when there is none */
	size_t body_len;
};

struct api_response {
	unsigned int status;
	char *body; /* malloc'ed, or NULL for none; JSON unless content_type says */
	const char *content_type;
};

/* Set a response: @status with @body (taken over; NULL for none). */
void api_response_set(struct api_response *r, unsigned int status, char *body);
void api_response_free(struct api_response *r);

/* One front-end: does @path belong to it, and answer it. */
struct api_frontend {
	const char *name;
	bool (*match)(const char *path);
	void (*handle)(struct api_vmm *v, const struct api_request *rq, struct api_response *rs);
};

#endif
