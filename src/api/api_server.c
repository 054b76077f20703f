// SPDX-License-Identifier: GPL-2.0-only
/* The HTTP API's server: libevent's evhttp on a UNIX socket, dispatching to the front-ends. */
#include "api/api_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "api/api_http.h"
#include "api/ch_api.h"
#include "api/fc_api.h"
#include "vm/sandbox.h"

static const struct api_frontend *const frontends[] = {&api_ch_frontend, &api_fc_frontend};

static int parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1 << 20)
		return -1;
	return (int)v;
}

static int open_inherited(struct api_server *s, const char *spec, int fd)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    !listening) {
		fprintf(stderr,
			"petrel: --api-sock %s: not a listening socket (bind and listen on it "
			"before passing it)\n",
			spec);
		return -EINVAL;
	}
	s->listen_fd = fd;
	return 0;
}

static int open_path(struct api_server *s, const char *spec, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, ret;

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "petrel: --api-sock %s: the path must have 1 to %zu bytes\n", spec,
			sizeof(sa.sun_path) - 1);
		return -EINVAL;
	}
	if (access(path, F_OK) == 0) {
		fprintf(stderr,
			"petrel: --api-sock %s: the path exists; remove it or choose another\n",
			spec);
		return -EEXIST;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177); /* the socket is the owner's alone: mode 0600 */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(fd, 64) < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: --api-sock %s: %s\n", spec, strerror(-ret));
		close(fd);
		if (ret != -EADDRINUSE)
			unlink(path);
		return ret;
	}
	s->path = strdup(path);
	s->listen_fd = fd;
	/* a forbidden syscall (seccomp kill) ends petrel in a signal handler: the socket goes too
	 */
	sandbox_unlink_on_kill(path);
	return 0;
}

int api_server_open(struct api_server *s, const char *spec)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	s->quit_efd = -1;
	s->max_body = API_HTTP_MAX_BODY;
	if (!strncmp(spec, "fd=", 3))
		return open_inherited(s, spec, parse_fd(spec + 3));
	if (!strncmp(spec, "path=", 5))
		return open_path(s, spec, spec + 5);
	return open_path(s, spec, spec);
}

static const char *reason(unsigned int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	default:
		return status < 500 ? "Error" : "Internal Server Error";
	}
}

static void send_reply(struct evhttp_request *req, const struct api_response *rs)
{
	unsigned int status = rs->status ? rs->status : 500;
	struct evbuffer *b = NULL;

	if (rs->body && status != 204) {
		b = evbuffer_new();
		if (b)
			evbuffer_add(b, rs->body, strlen(rs->body));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  rs->content_type ? rs->content_type : "application/json");
	}
	evhttp_send_reply(req, (int)status, reason(status), b);
	if (b)
		evbuffer_free(b);
}

/* A body past the cap: Firecracker's answer, whichever front-end it was for. */
static void too_large(struct api_response *rs, size_t seen, size_t max)
{
	char msg[160];
	json_t *o;

	snprintf(msg, sizeof(msg),
		 "Request payload with size %zu is larger than the limit of %zu allowed by server.",
		 seen, max);
	o = json_pack("{s:s}", "fault_message", msg);
	api_response_set(rs, 400, o ? json_dumps(o, JSON_COMPACT) : NULL);
	json_decref(o);
}

static const char *method_name(enum evhttp_cmd_type c)
{
	switch (c) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	default:
		return "OTHER";
	}
}

/* One whole request (the library gathered its body, within its own cap). */
static void on_request(struct evhttp_request *req, void *arg)
{
	struct api_server *s = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	size_t len = evbuffer_get_length(in);
	struct api_response rs = {0};
	struct api_request rq;
	char *body;

	if (len > s->max_body) {
		too_large(&rs, len, s->max_body);
		goto reply;
	}
	body = malloc(len + 1);
	if (!body) {
		api_response_set(&rs, 500, NULL);
		goto reply;
	}
	evbuffer_copyout(in, body, len);
	body[len] = 0;
	rq = (struct api_request){.method = method_name(evhttp_request_get_command(req)),
				  .path = path && *path ? path : "/",
				  .body = body,
				  .body_len = len};
	api_response_set(&rs, 404, NULL);
	for (size_t i = 0; i < sizeof(frontends) / sizeof(frontends[0]); i++) {
		if (frontends[i]->match(rq.path)) {
			frontends[i]->handle(s->vmm, &rq, &rs);
			break;
		}
	}
	free(body);
reply:
	send_reply(req, &rs);
	api_response_free(&rs);
}

/* On the server thread: asked to stop; replies being written get a moment. */
static void on_quit(evutil_socket_t fd, short what, void *arg)
{
	struct api_server *s = arg;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* the event fired: the value does not matter */
	}
	event_base_loopexit(s->base, &(struct timeval){.tv_usec = 50 * 1000});
}

static void *server_main(void *arg)
{
	struct api_server *s = arg;

	/* before the first byte of a request */
	if (sandbox_enter(s->vmm->sandbox, SANDBOX_API, "api") < 0) {
		api_vmm_exit(s->vmm, VM_EXIT_ERROR);
		return NULL;
	}
	event_base_dispatch(s->base);
	return NULL;
}

int api_server_start(struct api_server *s, struct api_vmm *vmm)
{
	int ret;

	s->vmm = vmm;
	s->quit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->base = s->quit_efd >= 0 ? event_base_new() : NULL;
	s->http = s->base ? evhttp_new(s->base) : NULL;
	s->quit_ev = s->http ? event_new(s->base, s->quit_efd, EV_READ, on_quit, s) : NULL;
	if (!s->quit_ev || event_add(s->quit_ev, NULL) < 0)
		goto fail;
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |
						EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
						EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	/* the library's own cap bounds memory; past ours the answer is Firecracker's 400 */
	evhttp_set_max_body_size(s->http, (ev_ssize_t)(s->max_body * 4));
	evhttp_set_max_headers_size(s->http, 16384);
	evhttp_set_timeout(s->http, 60);
	evhttp_set_gencb(s->http, on_request, s);
	/* the listener accepts until the backlog is empty: it must not block */
	if (fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    !evhttp_accept_socket_with_handle(s->http, s->listen_fd))
		goto fail;
	s->listen_fd = -1; /* the library's now */
	ret = pthread_create(&s->thread, NULL, server_main, s);
	if (ret)
		goto fail;
	s->thread_on = true;
	return 0;
fail:
	fprintf(stderr, "petrel: the API server could not start\n");
	return -EIO;
}

void api_server_close(struct api_server *s)
{
	uint64_t one = 1;

	if (s->thread_on) {
		if (write(s->quit_efd, &one, sizeof(one)) < 0) {
			/* the loop also ends when its base is freed below */
		}
		pthread_join(s->thread, NULL);
		s->thread_on = false;
	}
	if (s->quit_ev)
		event_free(s->quit_ev);
	if (s->http)
		evhttp_free(s->http); /* closes the listening socket */
	if (s->base)
		event_base_free(s->base);
	s->quit_ev = NULL;
	s->http = NULL;
	s->base = NULL;
	if (s->quit_efd >= 0)
		close(s->quit_efd);
	s->quit_efd = -1;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	if (s->path) {
		sandbox_unlink_on_kill(NULL);
		unlink(s->path);
		free(s->path);
		s->path = NULL;
	}
}
