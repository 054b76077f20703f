// SPDX-License-Identifier: GPL-2.0-only
/* The event monitor, the logger and the metrics: lines that never block petrel. */
#include "api/api_telemetry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_vmm.h"

void api_telemetry_init(struct api_telemetry *t)
{
	memset(t, 0, sizeof(*t));
	t->events_fd = t->metrics_fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &t->start);
}

void api_telemetry_destroy(struct api_telemetry *t)
{
	if (t->events_fd >= 0)
		close(t->events_fd);
	if (t->metrics_fd >= 0)
		close(t->metrics_fd);
	t->events_fd = t->metrics_fd = -1;
}

/* Append-only and non-blocking, owner-only when created. */
static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
}

/* All of @len bytes at once, or dropped: a reader that lags never blocks petrel. */
static void write_line(int fd, const char *text, size_t len)
{
	if (write(fd, text, len) < 0) {
		/* dropped */
	}
}

int api_telemetry_open_events(struct api_telemetry *t, const char *spec, struct api_err *err)
{
	int fd;

	if (t->events_fd >= 0)
		return api_fail(err, -EEXIST, "--event-monitor is given twice");
	if (!strncmp(spec, "fd=", 3)) {
		char *end;
		long n = strtol(spec + 3, &end, 10);

		if (end == spec + 3 || *end || n < 0 || n > 1 << 20 || fcntl((int)n, F_GETFD) < 0)
			return api_fail(err, -EBADF,
					"--event-monitor %s: not an open file descriptor", spec);
		fd = (int)n;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	} else {
		const char *path = !strncmp(spec, "path=", 5) ? spec + 5 : spec;

		fd = open_log(path);
		if (fd < 0)
			return api_fail(err, -errno, "--event-monitor %s: %s", spec,
					strerror(errno));
	}
	t->events_fd = fd;
	return 0;
}

/* Cloud Hypervisor's shape: time since start, source, event, properties; a blank line after. */
void api_telemetry_event(struct api_telemetry *t, const char *source, const char *event)
{
	struct timespec now;
	char *text;
	json_t *o;
	long long ns;

	if (t->events_fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(now.tv_sec - t->start.tv_sec) * 1000000000LL +
	     (now.tv_nsec - t->start.tv_nsec);
	o = json_pack("{s:{s:I,s:I},s:s,s:s,s:n}", "timestamp", "secs",
		      (json_int_t)(ns / 1000000000LL), "nanos", (json_int_t)(ns % 1000000000LL),
		      "source", source, "event", event, "properties");
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (text) {
		size_t len = strlen(text);
		char *line = realloc(text, len + 3);

		if (line) {
			text = line;
			memcpy(text + len, "\n\n", 3);
			write_line(t->events_fd, text, len + 2);
		}
	}
	free(text);
	json_decref(o);
}

static bool level_known(const char *level)
{
	static const char *const names[] = {"error", "warning", "warn", "info",
					    "debug", "trace",	"off"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(level, names[i]))
			return true;
	return false;
}

int api_telemetry_set_logger(struct api_telemetry *t, const char *path, const char *level,
			     struct api_err *err)
{
	int fd, ret = 0;

	if (level && !level_known(level))
		return api_fail(
		    err, -EINVAL,
		    "logger level %s: expected Error, Warning, Info, Debug, Trace or Off", level);
	if (t->logger_set)
		return api_fail(err, -EEXIST, "the logger is already configured");
	if (!path) {
		t->logger_set = true;
		return 0;
	}
	fd = open_log(path);
	if (fd < 0)
		return api_fail(err, -errno, "logger: %s: %s", path, strerror(errno));
	fflush(stderr);
	if (dup2(fd, STDERR_FILENO) < 0)
		ret = api_fail(err, -errno, "logger: %s: %s", path, strerror(errno));
	else
		t->logger_set = true;
	close(fd);
	return ret;
}

int api_telemetry_open_metrics(struct api_telemetry *t, const char *path, struct api_err *err)
{
	int fd;

	if (t->metrics_fd >= 0)
		return api_fail(err, -EEXIST, "the metrics are already configured");
	if (!path || !*path)
		return api_fail(err, -EINVAL, "metrics: the path is empty");
	fd = open_log(path);
	if (fd < 0)
		return api_fail(err, -errno, "metrics: %s: %s", path, strerror(errno));
	t->metrics_fd = fd;
	return 0;
}

/* Firecracker's names where petrel has the same counter: per device block_<id>, net_<id>. */
char *api_telemetry_metrics_line(const struct api_counters *c, const char *state, uint64_t utc_ms)
{
	json_t *root = json_object(), *vcpu = json_object();
	char key[API_ID_MAX + 8];
	char *text = NULL;

	if (!root || !vcpu)
		goto out;
	json_object_set_new(root, "utc_timestamp_ms", json_integer((json_int_t)utc_ms));
	json_object_set_new(root, "state", json_string(state));
	for (unsigned int s = 0; s < KVM_STAT_COUNT; s++) {
		uint64_t sum = 0;

		for (unsigned int i = 0; i < c->nr_vcpus && i < VM_MAX_VCPUS; i++)
			sum += c->vcpu_exits[i][s];
		snprintf(key, sizeof(key), "exit_%s", kvm_exit_stat_name(s));
		json_object_set_new(vcpu, key, json_integer((json_int_t)sum));
	}
	json_object_set(root, "vcpu", vcpu);
	for (unsigned int i = 0; i < c->nr_disks && i < VM_MAX_DISKS; i++) {
		snprintf(key, sizeof(key), "block_%s", c->disks[i].id);
		json_object_set_new(root, key,
				    json_pack("{s:I,s:I}", "queue_kicks",
					      (json_int_t)c->disks[i].kicks, "interrupts",
					      (json_int_t)c->disks[i].interrupts));
	}
	for (unsigned int i = 0; i < c->nr_nets && i < VM_MAX_NETS; i++) {
		snprintf(key, sizeof(key), "net_%s", c->nets[i].id);
		json_object_set_new(root, key,
				    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "rx_packets_count",
					      (json_int_t)c->nets[i].rx_packets, "rx_bytes_count",
					      (json_int_t)c->nets[i].rx_bytes, "rx_dropped",
					      (json_int_t)c->nets[i].rx_dropped, "tx_packets_count",
					      (json_int_t)c->nets[i].tx_packets, "tx_bytes_count",
					      (json_int_t)c->nets[i].tx_bytes, "tx_dropped",
					      (json_int_t)c->nets[i].tx_dropped));
	}
	text = json_dumps(root, JSON_COMPACT);
out:
	json_decref(vcpu);
	json_decref(root);
	return text;
}

int api_telemetry_write_metrics(struct api_telemetry *t, const struct api_counters *c,
				const char *state, struct api_err *err)
{
	struct timespec ts;
	char *line, *nl;
	size_t len;

	if (t->metrics_fd < 0)
		return api_fail(err, -EINVAL,
				"the metrics are not configured (PUT /metrics first)");
	clock_gettime(CLOCK_REALTIME, &ts);
	line = api_telemetry_metrics_line(
	    c, state, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
	len = line ? strlen(line) : 0;
	nl = line ? realloc(line, len + 2) : NULL;
	if (!nl) {
		free(line);
		return api_fail(err, -ENOMEM, "metrics: out of memory");
	}
	memcpy(nl + len, "\n", 2);
	write_line(t->metrics_fd, nl, len + 1);
	free(nl);
	return 0;
}
