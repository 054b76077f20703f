/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the VMM tells the outside while it runs: Cloud Hypervisor's event
 * monitor (lifecycle events as JSON), Firecracker's logger (petrel's
 * messages to a file) and metrics (a JSON line of counters). Writes never
 * block: a reader that lags loses lines. The controller serializes calls.
 */
#ifndef PETREL_API_API_TELEMETRY_H
#define PETREL_API_API_TELEMETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct api_err;
struct api_counters;

struct api_telemetry {
	int events_fd;	       /* -1: none */
	struct timespec start; /* events count time from here */
	int metrics_fd;	       /* -1: none */
	bool logger_set;
};

void api_telemetry_init(struct api_telemetry *t);
void api_telemetry_destroy(struct api_telemetry *t);

/* "path=P", "fd=N" or a path: where events go (once). */
int api_telemetry_open_events(struct api_telemetry *t, const char *spec, struct api_err *err);
void api_telemetry_event(struct api_telemetry *t, const char *source, const char *event);

/* stderr goes to @path (appended, created if missing; NULL: stays); @level is checked. Once. */
int api_telemetry_set_logger(struct api_telemetry *t, const char *path, const char *level,
			     struct api_err *err);

/* Where metrics lines go (once). */
int api_telemetry_open_metrics(struct api_telemetry *t, const char *path, struct api_err *err);
/* The line for @c in state @state at @utc_ms (malloc'ed JSON, no newline). */
char *api_telemetry_metrics_line(const struct api_counters *c, const char *state, uint64_t utc_ms);
/* Append one line (-EINVAL without a metrics file). */
int api_telemetry_write_metrics(struct api_telemetry *t, const struct api_counters *c,
				const char *state, struct api_err *err);

#endif
