// SPDX-License-Identifier: GPL-2.0-only
/* The HTTP API's server: libmicrohttpd on a UNIX socket, dispatching to the front-ends. */
#include "api/api_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api/api_http.h"
#include "api/ch_api.h"
#include "api/fc_api.h"

/* One request being received. */
struct api_conn {
	char *body;
	size_t len;
	bool too_large;
	size_t seen; /* bytes offered, counted past the cap for the message */
};

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
	return 0;
}

int api_server_open(struct api_server *s, const char *spec)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	s->max_body = API_HTTP_MAX_BODY;
	if (!strncmp(spec, "fd=", 3))
		return open_inherited(s, spec, parse_fd(spec + 3));
	if (!strncmp(spec, "path=", 5))
		return open_path(s, spec, spec + 5);
	return open_path(s, spec, spec);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, const struct api_response *rs)
{
	const char *body = rs->body ? rs->body : "";
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (rs->body)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					rs->content_type ? rs->content_type : "application/json");
	ok = MHD_queue_response(c, rs->status ? rs->status : 500, r);
	MHD_destroy_response(r);
	return ok;
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

static void dispatch(struct api_server *s, const char *method, const char *url, struct api_conn *cn,
		     struct api_response *rs)
{
	struct api_request rq = {
	    .method = method, .path = url, .body = cn->body ? cn->body : "", .body_len = cn->len};

	for (size_t i = 0; i < sizeof(frontends) / sizeof(frontends[0]); i++) {
		if (frontends[i]->match(url)) {
			frontends[i]->handle(s->vmm, &rq, rs);
			return;
		}
	}
	api_response_set(rs, 404, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct api_server *s = cls;
	struct api_conn *cn = *con_cls;
	struct api_response rs = {0};
	enum MHD_Result ok;

	if (!cn) {
		cn = calloc(1, sizeof(*cn));
		if (!cn)
			return MHD_NO;
		*con_cls = cn;
		return MHD_YES;
	}
	if (*data_size) {
		size_t n = *data_size;

		cn->seen += n;
		if (!cn->too_large && cn->len + n > s->max_body) {
			cn->too_large = true;
			free(cn->body);
			cn->body = NULL;
			cn->len = 0;
		}
		if (!cn->too_large) {
			char *b = realloc(cn->body, cn->len + n + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + cn->len, data, n);
			cn->len += n;
			b[cn->len] = 0;
			cn->body = b;
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (cn->too_large)
		too_large(&rs, cn->seen, s->max_body);
	else
		dispatch(s, method, url, cn, &rs);
	ok = send_reply(c, &rs);
	api_response_free(&rs);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_conn *cn = *con_cls;

	if (!cn)
		return;
	free(cn->body);
	free(cn);
	*con_cls = NULL;
}

int api_server_start(struct api_server *s, struct api_vmm *vmm)
{
	s->vmm = vmm;
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
				  on_request, s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_END);
	if (!s->mhd) {
		fprintf(stderr, "petrel: the API server could not start\n");
		return -EIO;
	}
	return 0;
}

void api_server_close(struct api_server *s)
{
	if (s->mhd) {
		/* a reply being written (vmm.shutdown's) gets a moment to go out */
		for (int i = 0; i < 100; i++) {
			const union MHD_DaemonInfo *info =
			    MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

			if (!info || !info->num_connections)
				break;
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
		}
		MHD_stop_daemon(s->mhd);
		s->mhd = NULL;
	} else if (s->listen_fd >= 0) {
		close(s->listen_fd);
	}
	s->listen_fd = -1;
	if (s->path) {
		unlink(s->path);
		free(s->path);
		s->path = NULL;
	}
}
