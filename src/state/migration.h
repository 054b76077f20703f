/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live migration, pre-copy over TCP or a UNIX socket (the stream:
 * migration_stream.h).
 *
 * The source turns on dirty page logging, sends every page of guest RAM that
 * is not zero while the guest runs, then rounds of the pages written since
 * (KVM's dirty log joined with petrel's own bitmap of what devices wrote),
 * until what is left fits the downtime limit at the bandwidth measured, or
 * the round limit is hit. Then it pauses the machine, sends the last pages
 * and the device and vCPU state, and waits for the destination's ack: from
 * then on the guest lives there. Until the ack, any failure leaves the
 * source as it was (logging off, the guest resumed).
 *
 * The destination builds the machine from the specification it receives
 * (RAM anonymous and zero, nothing loaded), writes the pages into it, puts
 * the state back, and answers the ack.
 *
 * Local migration (unix:PATH, both ends on one host): when the guest's RAM
 * is a memfd the source hands it over and sends no page at all (no
 * pre-copy: it pauses, sends the state, and the destination maps the same
 * memfd); the TAPs' fds pass at the handover, so the TAPs stay attached.
 */
#ifndef PETREL_STATE_MIGRATION_H
#define PETREL_STATE_MIGRATION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/migration_stream.h"
#include "vm/machine.h"

#define MIGRATION_DOWNTIME_MS 300
#define MIGRATION_MAX_ROUNDS 30
/* How long either end waits for the other (a message, the ack). */
#define MIGRATION_TIMEOUT_S 60

enum migration_phase {
	MIGRATION_NONE,
	MIGRATION_MEMORY,     /* all of RAM, the guest running */
	MIGRATION_DIRTY,      /* rounds of dirty pages, the guest running */
	MIGRATION_SWITCHOVER, /* paused: the last pages, the state, waiting for the ack */
	MIGRATION_COMPLETED,
	MIGRATION_FAILED,
	MIGRATION_CANCELLED, /* by the source's owner, before the switchover */
};

const char *migration_phase_name(enum migration_phase p);

struct migration_params {
	unsigned int downtime_ms; /* the pause the source aims at */
	unsigned int max_rounds;  /* dirty rounds at most before the switchover */
};

/* What a migration did so far (read by the API while it runs). */
struct migration_progress {
	pthread_mutex_t lock;
	enum migration_phase phase;
	unsigned int round;	  /* 0: all of RAM; then the dirty rounds */
	uint64_t bytes_sent;	  /* on the connection */
	uint64_t bytes_remaining; /* dirty RAM left to send (at most) */
	uint64_t dirty_rate;	  /* pages written by the guest a second, last round */
	uint64_t bandwidth;	  /* bytes a second, last round */
	uint64_t downtime_ms;	  /* pause to ack (at the end) */
	uint64_t total_ms;	  /* start to ack (at the end) */
	uint64_t ram_bytes;	  /* the guest's RAM */
	bool memfd;		  /* RAM handed over as a memfd: no page is sent */
	bool cancel;		  /* cancelled (migration_cancel): the sender stops */
	char error[400];	  /* why it failed */
};

void migration_progress_init(struct migration_progress *p);
/* A copy, read under the lock (@out's own lock is not touched). */
void migration_progress_get(struct migration_progress *p, struct migration_progress *out);
/* Back to nothing done, in @phase. */
void migration_progress_reset(struct migration_progress *p, enum migration_phase phase);
/*
 * Ask the migration under way to stop: 0 when it was before the switchover
 * (it then fails with -ECANCELED, the guest going on at the source; the
 * caller wakes its sends through the connection's cancel_fd), -EBUSY once
 * the switchover began, -ESRCH with no migration under way.
 */
int migration_cancel(struct migration_progress *p);

/* tcp:HOST:PORT (HOST a name or an address; [ADDR] for IPv6). */
int migration_parse_url(const char *url, char *host, size_t host_len, char *port, size_t port_len,
			struct state_err *err);
/* Connect to @url, with the stream's timeouts. */
int migration_connect(const char *url, struct mig_conn *c, struct state_err *err);
/*
 * Listen on @url and accept one connection. unix:PATH: the socket is
 * created there (a path that exists is refused) and removed once the
 * source connected or on failure.
 */
int migration_accept(const char *url, struct mig_conn *c, struct state_err *err);

/* ---- source ---- */

/*
 * Say hello for @m's guest, send its specification (@spec: as the
 * controller writes it), and wait for the destination's answer: 0 once it
 * built the machine and is ready for memory, -errno with its refusal (or why
 * it did not answer) in @err.
 */
int migration_hello(struct machine *m, struct mig_conn *c, const void *spec, size_t spec_len,
		    struct state_err *err);

/* How the source's owner pauses and resumes the machine (as its API does). */
struct migration_ops {
	int (*pause)(void *ctx, struct state_err *err);
	void (*resume)(void *ctx);
	void *ctx;
	bool paused; /* the machine was paused already: neither is called */
};

/*
 * Everything after the hello, up to the destination's ack: 0 then (the
 * machine is left paused: its owner stops it for good); on failure -errno
 * with @err, the machine running again if it ran, dirty logging as before.
 */
/* -ENOTRECOVERABLE: failed, and the machine stays paused (see migration_stream.h). */
int migration_send(struct machine *m, struct mig_conn *c, const struct migration_params *p,
		   const struct migration_ops *ops, struct migration_progress *pr,
		   struct state_err *err);

/* ---- destination ---- */

struct migration_builder {
	/*
	 * A machine from the received specification (RAM zero, nothing
	 * loaded; or, @mem_fd >= 0, RAM mapped shared from that memfd, which
	 * the caller keeps), or NULL.
	 */
	struct machine *(*build)(void *ctx, const void *spec, size_t len, int mem_fd,
				 struct state_err *err);
	void (*discard)(void *ctx, struct machine *m);
	void *ctx;
	const char *kvm_path; /* the /dev/kvm whose CPUID the hello is checked against */
};

/*
 * Take a migration from @c: the machine, built and with everything put
 * back, paused, in *out (0), after the ack was sent; -errno with @err (and
 * the source told) otherwise, nothing left.
 */
int migration_receive(struct mig_conn *c, const struct migration_builder *b, struct machine **out,
		      struct state_err *err);

#endif
