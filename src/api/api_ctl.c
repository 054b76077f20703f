// SPDX-License-Identifier: GPL-2.0-only
/*
 * petrel ctl: one HTTP/1.1 request a connection (Connection: close), its
 * answer read to the end. Firecracker's routes do the work (GET /, PATCH
 * /vm, PUT /snapshot/create), Cloud Hypervisor's vmm.shutdown ends petrel.
 */
#include "api/api_ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_vmm.h"

#define CTL_EXIT_ERROR 1
#define CTL_EXIT_USAGE 2
#define CTL_TIMEOUT_S 300 /* a snapshot writes all of the guest's RAM */
#define CTL_MAX_ANSWER (1u << 20)

struct ctl_answer {
	unsigned int status;
	char *body; /* NUL-terminated, maybe empty */
};

static int ctl_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "petrel ctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (usage: petrel ctl SOCKET info|pause|resume|shutdown|"
			"snapshot DIR [--keep-paused]|migrate URL [--downtime MS]|"
			"migrate-cancel)\n");
	return CTL_EXIT_USAGE;
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = CTL_TIMEOUT_S};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "petrel ctl: %s: the socket's path is too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "petrel ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The status line and the body after the headers. */
static int parse_answer(char *raw, struct ctl_answer *a)
{
	char *body = strstr(raw, "\r\n\r\n");

	if (strncmp(raw, "HTTP/1.", 7) || sscanf(raw + 8, " %3u", &a->status) != 1 || !body)
		return -1;
	a->body = strdup(body + 4);
	return a->body ? 0 : -1;
}

/* One request to @sock: 0 with *a filled, or -1 with the reason on stderr. */
static int ctl_request(const char *sock, const char *method, const char *path, const char *body,
		       struct ctl_answer *a)
{
	char head[512], *raw;
	size_t len = 0;
	int fd, ret = -1;

	memset(a, 0, sizeof(*a));
	fd = ctl_connect(sock);
	if (fd < 0)
		return -1;
	snprintf(head, sizeof(head),
		 "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n",
		 method, path, body ? strlen(body) : 0);
	raw = malloc(CTL_MAX_ANSWER + 1);
	if (!raw || write_all(fd, head, strlen(head)) ||
	    (body && write_all(fd, body, strlen(body)))) {
		fprintf(stderr, "petrel ctl: %s: %s\n", sock,
			raw ? strerror(errno) : "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, raw + len, CTL_MAX_ANSWER - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "petrel ctl: %s: %s\n", sock,
				errno == EAGAIN ? "no answer in time" : strerror(errno));
			goto out;
		}
		if (n == 0 || (len += (size_t)n) == CTL_MAX_ANSWER)
			break;
	}
	raw[len] = '\0';
	if (parse_answer(raw, a) < 0)
		fprintf(stderr, "petrel ctl: %s: not an HTTP answer\n", sock);
	else
		ret = 0;
out:
	free(raw);
	close(fd);
	return ret;
}

/* Why the request failed, in one line: Firecracker's fault_message or CH's list. */
static void print_failure(const char *what, const struct ctl_answer *a)
{
	json_t *j = json_loads(a->body, 0, NULL), *m;
	char msg[API_ERR_MAX] = "";
	size_t i, n = 0;

	if (json_is_string(json_object_get(j, "fault_message")))
		snprintf(msg, sizeof(msg), "%s",
			 json_string_value(json_object_get(j, "fault_message")));
	json_array_foreach(j, i, m)
	{
		if (json_is_string(m) && n < sizeof(msg))
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s", n ? ": " : "",
					      json_string_value(m));
	}
	json_decref(j);
	for (char *c = msg; *c; c++)
		if (*c == '\n')
			*c = ' ';
	fprintf(stderr, "petrel ctl: %s: %s (HTTP %u)\n", what, *msg ? msg : "refused", a->status);
}

/* A request that must succeed (2xx); the answer's body printed when @print. */
static int ctl_do(const char *sock, const char *what, const char *method, const char *path,
		  const char *body, bool print)
{
	struct ctl_answer a;
	int ret = CTL_EXIT_ERROR;

	if (ctl_request(sock, method, path, body, &a) < 0)
		return CTL_EXIT_ERROR;
	if (a.status / 100 != 2) {
		print_failure(what, &a);
	} else {
		if (print && *a.body)
			printf("%s%s", a.body, a.body[strlen(a.body) - 1] == '\n' ? "" : "\n");
		ret = 0;
	}
	free(a.body);
	return ret;
}

/* Firecracker's state of the VM: "Running", "Paused", "Not started"; NULL on failure. */
static char *ctl_state(const char *sock)
{
	struct ctl_answer a;
	json_t *j;
	char *s = NULL;

	if (ctl_request(sock, "GET", "/", NULL, &a) < 0)
		return NULL;
	j = json_loads(a.body, 0, NULL);
	if (a.status == 200 && json_is_string(json_object_get(j, "state")))
		s = strdup(json_string_value(json_object_get(j, "state")));
	else
		print_failure("info", &a);
	json_decref(j);
	free(a.body);
	return s;
}

static int ctl_snapshot(const char *sock, const char *dir, bool keep_paused)
{
	char abs[PATH_MAX], *state, *body = NULL;
	json_t *o;
	bool was_paused;
	int ret;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "petrel ctl: snapshot %s: %s\n", dir, strerror(errno));
		return CTL_EXIT_ERROR;
	}
	/* petrel opens the files: the paths must not depend on this directory */
	errno = 0;
	if (!realpath(dir, abs) || strlen(abs) + 16 > sizeof(abs)) {
		fprintf(stderr, "petrel ctl: snapshot %s: %s\n", dir,
			errno ? strerror(errno) : "the path is too long");
		return CTL_EXIT_ERROR;
	}
	state = ctl_state(sock);
	if (!state)
		return CTL_EXIT_ERROR;
	was_paused = !strcmp(state, "Paused");
	free(state);
	if (!was_paused && ctl_do(sock, "pause", "PATCH", "/vm", "{\"state\": \"Paused\"}", false))
		return CTL_EXIT_ERROR;
	o = json_object();
	if (o) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/" API_SNAPSHOT_STATE_FILE, abs);
		json_object_set_new(o, "snapshot_path", json_string(path));
		snprintf(path, sizeof(path), "%s/" API_SNAPSHOT_MEM_FILE, abs);
		json_object_set_new(o, "mem_file_path", json_string(path));
		body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	ret = body ? ctl_do(sock, "snapshot", "PUT", "/snapshot/create", body, false)
		   : CTL_EXIT_ERROR;
	free(body);
	/* the guest goes on, snapshot or not, unless it was paused or is to stay so */
	if (!was_paused && !keep_paused &&
	    ctl_do(sock, "resume", "PATCH", "/vm", "{\"state\": \"Resumed\"}", false))
		ret = CTL_EXIT_ERROR;
	return ret;
}

/* Whole bytes as KiB, MiB or GiB for the progress bar. */
static void human(char *out, size_t size, uint64_t v)
{
	if (v >= (10ull << 30))
		snprintf(out, size, "%llu GiB", (unsigned long long)(v >> 30));
	else if (v >= (10ull << 20))
		snprintf(out, size, "%llu MiB", (unsigned long long)(v >> 20));
	else
		snprintf(out, size, "%llu KiB", (unsigned long long)(v >> 10));
}

/*
 * One line on a terminal, rewritten at each poll: the phase, a bar of the
 * memory sent (the first copy; then the dirty rounds), the bandwidth.
 */
static void ctl_progress_bar(json_t *mig, const char *phase)
{
	uint64_t ram = (uint64_t)json_integer_value(json_object_get(mig, "ram_bytes"));
	uint64_t left = (uint64_t)json_integer_value(json_object_get(mig, "bytes_remaining"));
	uint64_t bw =
	    (uint64_t)json_integer_value(json_object_get(mig, "bandwidth_bytes_per_second"));
	uint64_t sent = (uint64_t)json_integer_value(json_object_get(mig, "bytes_sent"));
	long long round = json_integer_value(json_object_get(mig, "round"));
	char bar[31], s_sent[24], s_bw[24];
	int pct = 100;

	if (!strcmp(phase, "memory") && ram)
		pct = (int)((ram - (left < ram ? left : ram)) * 100 / ram);
	for (int i = 0; i < 30; i++)
		bar[i] = i < pct * 30 / 100 ? '#' : '.';
	bar[30] = 0;
	human(s_sent, sizeof(s_sent), sent);
	human(s_bw, sizeof(s_bw), bw);
	fprintf(stderr, "\r\033[Kmigrate: %-12s [%s] %3d%% round %lld, %s sent, %s/s", phase, bar,
		pct, round, s_sent, s_bw);
	fflush(stderr);
}

/*
 * The last migration's state from vm.info: 1 while it runs, 0 completed, -1
 * failed or cancelled (the reason on stderr), -2 when the source does not
 * answer (it exits once the guest lives at the destination). @bar: show a
 * progress bar on stderr while it runs.
 */
static int ctl_migration_poll(const char *sock, char *phase, size_t size, bool bar)
{
	struct ctl_answer a;
	json_t *j, *mig;
	int ret = 1;

	if (ctl_request(sock, "GET", "/api/v1/vm.info", NULL, &a) < 0)
		return -2;
	j = json_loads(a.body, 0, NULL);
	mig = json_object_get(j, "migration");
	if (a.status != 200 || !json_is_string(json_object_get(mig, "phase"))) {
		print_failure("migrate", &a);
		ret = -1;
	} else {
		const char *p = json_string_value(json_object_get(mig, "phase"));
		bool end =
		    !strcmp(p, "completed") || !strcmp(p, "failed") || !strcmp(p, "cancelled");

		snprintf(phase, size, "%s", p);
		if (bar && !end)
			ctl_progress_bar(mig, p);
		else if (bar)
			fprintf(stderr, "\r\033[K");
		if (!strcmp(p, "completed")) {
			printf("migrated in %lld ms, downtime %lld ms, %lld dirty rounds, %lld KiB "
			       "sent%s\n",
			       (long long)json_integer_value(json_object_get(mig, "total_ms")),
			       (long long)json_integer_value(json_object_get(mig, "downtime_ms")),
			       (long long)json_integer_value(json_object_get(mig, "round")),
			       (long long)json_integer_value(json_object_get(mig, "bytes_sent")) /
				   1024,
			       json_is_true(json_object_get(mig, "memfd"))
				   ? " (guest memory handed over, no page copied)"
				   : "");
			ret = 0;
		} else if (!strcmp(p, "failed")) {
			const char *e = json_string_value(json_object_get(mig, "error"));

			const char *st = json_string_value(json_object_get(j, "state"));

			fprintf(stderr, "petrel ctl: migrate: %s (the guest %s at the source)\n",
				e ? e : "failed",
				st && !strcmp(st, "Paused") ? "is paused" : "goes on");
			ret = -1;
		} else if (!strcmp(p, "cancelled")) {
			fprintf(stderr, "petrel ctl: migrate: cancelled (the guest goes on at the "
					"source)\n");
			ret = -1;
		}
	}
	json_decref(j);
	free(a.body);
	return ret;
}

static int ctl_migrate(const char *sock, const char *url, const char *downtime)
{
	char body[512], phase[32] = "";
	bool bar = isatty(STDERR_FILENO);
	char *end = NULL;
	long ms = 0;
	int ret;

	if (downtime) {
		ms = strtol(downtime, &end, 10);
		if (*end || ms < 1 || ms > 3600000)
			return ctl_usage("--downtime %s: expected milliseconds", downtime);
	}
	if (strlen(url) > 256 || strchr(url, '"') || strchr(url, '\\') ||
	    (strncmp(url, "tcp:", 4) && strncmp(url, "unix:", 5)))
		return ctl_usage("migrate %s: expected tcp:HOST:PORT or unix:PATH", url);
	if (ms)
		snprintf(body, sizeof(body), "{\"destination_url\": \"%s\", \"downtime_ms\": %ld}",
			 url, ms);
	else
		snprintf(body, sizeof(body), "{\"destination_url\": \"%s\"}", url);
	if (ctl_do(sock, "migrate", "PUT", "/api/v1/vm.send-migration", body, false))
		return CTL_EXIT_ERROR;
	for (;;) {
		ret = ctl_migration_poll(sock, phase, sizeof(phase), bar);
		if (ret == 0)
			return 0;
		if (ret == -1)
			return CTL_EXIT_ERROR;
		if (ret == -2) {
			if (bar)
				fprintf(stderr, "\r\033[K");
			/* the source exits right after the destination's ack */
			if (!strcmp(phase, "switchover")) {
				printf("migrated (the source has exited)\n");
				return 0;
			}
			fprintf(stderr, "petrel ctl: migrate: the source stopped answering during "
					"the migration\n");
			return CTL_EXIT_ERROR;
		}
		usleep(20000);
	}
}

int api_ctl_main(int argc, char **argv)
{
	const char *sock, *cmd;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf(
		    "usage: petrel ctl SOCKET COMMAND\n"
		    "  info                      the VM's id and state (JSON)\n"
		    "  pause, resume             pause or resume the VM\n"
		    "  snapshot DIR [--keep-paused]\n"
		    "                            pause, write DIR/" API_SNAPSHOT_STATE_FILE
		    " and DIR/" API_SNAPSHOT_MEM_FILE ", resume\n"
		    "  migrate tcp:HOST:PORT|unix:PATH [--downtime MS]\n"
		    "                            live-migrate the VM to a petrel run --incoming\n"
		    "                            URL; this petrel exits once it is there (a\n"
		    "                            progress bar on a terminal)\n"
		    "  migrate-cancel            stop the migration under way before its "
		    "switchover\n"
		    "  shutdown                  stop the VM and end petrel\n");
		return 0;
	}
	if (argc < 2)
		return ctl_usage("%s", "give SOCKET and COMMAND");
	if (argc < 3)
		return ctl_usage("%s", "give a COMMAND after SOCKET");
	sock = argv[1];
	cmd = argv[2];
	if (!strcmp(cmd, "snapshot")) {
		bool keep = false;
		const char *dir = NULL;

		for (int i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--keep-paused"))
				keep = true;
			else if (argv[i][0] == '-' || dir)
				return ctl_usage("snapshot: unexpected argument %s", argv[i]);
			else
				dir = argv[i];
		}
		if (!dir)
			return ctl_usage("%s", "snapshot needs a directory");
		return ctl_snapshot(sock, dir, keep);
	}
	if (!strcmp(cmd, "migrate")) {
		const char *url = NULL, *downtime = NULL;

		for (int i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--downtime") && i + 1 < argc)
				downtime = argv[++i];
			else if (argv[i][0] == '-' || url)
				return ctl_usage("migrate: unexpected argument %s", argv[i]);
			else
				url = argv[i];
		}
		if (!url)
			return ctl_usage("%s", "migrate needs tcp:HOST:PORT or unix:PATH");
		return ctl_migrate(sock, url, downtime);
	}
	if (argc > 3)
		return ctl_usage("unexpected argument %s", argv[3]);
	if (!strcmp(cmd, "info"))
		return ctl_do(sock, "info", "GET", "/", NULL, true);
	if (!strcmp(cmd, "pause"))
		return ctl_do(sock, "pause", "PATCH", "/vm", "{\"state\": \"Paused\"}", false);
	if (!strcmp(cmd, "resume"))
		return ctl_do(sock, "resume", "PATCH", "/vm", "{\"state\": \"Resumed\"}", false);
	if (!strcmp(cmd, "migrate-cancel"))
		return ctl_do(sock, "migrate-cancel", "PUT", "/api/v1/vm.cancel-migration", NULL,
			      false);
	if (!strcmp(cmd, "shutdown"))
		return ctl_do(sock, "shutdown", "PUT", "/api/v1/vmm.shutdown", NULL, false);
	return ctl_usage("unknown command %s", cmd);
}
