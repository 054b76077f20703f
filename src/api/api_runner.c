// SPDX-License-Identifier: GPL-2.0-only
/* The VMM behind the controller: machines assembled, run, paused and stopped. */
#include "api/api_runner.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "debug/gdb_stub.h"
#include "kvm/kvm_mce.h"
#include "state/snapshot.h"
#include "vm/devices.h"
#include "vm/sandbox.h"
#include "vm/terminal.h"

/* Bounds on what the API thread waits for (vCPUs to park, the machine to end). */
#define RUNNER_PAUSE_MS 2000
#define RUNNER_STOP_MS 10000

static void wake_main(struct api_runner *r)
{
	uint64_t one = 1;

	if (write(r->wake_efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow from these writes */
	}
}

/* Build a machine from r->cfg; the runner's lock is not needed (one builder at a time). */
static struct machine *build_machine(struct api_runner *r, struct api_err *err)
{
	struct machine *m = calloc(1, sizeof(*m));

	if (!m) {
		api_fail(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (machine_create(m, &r->cfg) < 0) {
		/* machine_create said why on stderr: -EIO tells the CLI not to repeat it */
		api_fail(err, -EIO, "the machine could not be created (see petrel's log)");
		free(m);
		return NULL;
	}
	if (r->cfg.gdb && vm_gdb_create(m, r->cfg.gdb, r->cfg.gdb_wait) < 0) {
		machine_destroy(m);
		free(m);
		api_fail(err, -EIO, "the debugger could not be set up (see petrel's log)");
		return NULL;
	}
	return m;
}

static void free_machine(struct machine *m, int status)
{
	vm_gdb_destroy(m, status);
	machine_destroy(m);
	free(m);
}

/* The main thread takes machine @m and starts its threads. */
static void hand_over(struct api_runner *r, struct machine *m)
{
	pthread_mutex_lock(&r->lock);
	r->m = m;
	r->boot_pending = true;
	r->api_stop = false;
	pthread_mutex_unlock(&r->lock);
	wake_main(r);
}

/* No machine is left from before (-EBUSY otherwise). */
static int runner_idle(struct api_runner *r, struct api_err *err)
{
	bool busy;

	pthread_mutex_lock(&r->lock);
	busy = r->m || r->running;
	pthread_mutex_unlock(&r->lock);
	return busy ? api_fail(err, -EBUSY, "a machine is still running") : 0;
}

static int runner_boot(void *ctx, const struct api_vm_spec *spec, struct api_err *err)
{
	struct api_runner *r = ctx;
	struct machine *m;
	int ret;

	ret = runner_idle(r, err);
	if (ret < 0)
		return ret;
	api_vm_spec_free(&r->spec);
	if (api_vm_spec_copy(&r->spec, spec) < 0)
		return api_fail(err, -ENOMEM, "out of memory");
	if (!r->cmdline && !(r->cmdline = malloc(API_CMDLINE_MAX)))
		return api_fail(err, -ENOMEM, "out of memory");
	ret = api_spec_to_config(&r->spec, &r->cfg, r->cmdline, API_CMDLINE_MAX, err);
	if (ret)
		return ret;
	if (r->cfg.serial == VM_SERIAL_STDIO && !r->terminal_raw) {
		vm_terminal_raw();
		r->terminal_raw = true;
	}
	m = build_machine(r, err);
	if (!m)
		return -EIO;
	hand_over(r, m);
	return 0;
}

/* The machine, while the main thread runs it (the runner's lock is held). */
static struct machine *live_machine(struct api_runner *r, struct api_err *err)
{
	if (!r->m)
		api_fail(err, -ESRCH, "the machine is not running");
	return r->m;
}

static int runner_pause(void *ctx, struct api_err *err)
{
	struct api_runner *r = ctx;
	struct machine *m;
	int ret;

	pthread_mutex_lock(&r->lock);
	m = live_machine(r, err);
	if (!m) {
		pthread_mutex_unlock(&r->lock);
		return -ESRCH;
	}
	ret = machine_pause_timeout(m, RUNNER_PAUSE_MS);
	if (ret) {
		pthread_mutex_unlock(&r->lock);
		return api_fail(err, ret,
				ret == -ETIMEDOUT ? "the vCPUs did not stop within %d ms"
						  : "the machine is stopping",
				RUNNER_PAUSE_MS);
	}
	/* no new device work; kvmclock knows the guest was stopped (no soft-lockup reports) */
	ret = vm_devices_hold(m, true, RUNNER_PAUSE_MS);
	if (ret) {
		vm_devices_hold(m, false, RUNNER_PAUSE_MS);
		machine_resume(m);
		pthread_mutex_unlock(&r->lock);
		return api_fail(err, ret, "the I/O thread did not stop within %d ms",
				RUNNER_PAUSE_MS);
	}
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		kvm_vcpu_kvmclock_ctrl(&m->vcpus[i].kvm);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int runner_resume(void *ctx, struct api_err *err)
{
	struct api_runner *r = ctx;
	struct machine *m;
	int ret;

	pthread_mutex_lock(&r->lock);
	m = live_machine(r, err);
	if (!m) {
		pthread_mutex_unlock(&r->lock);
		return -ESRCH;
	}
	ret = vm_devices_hold(m, false, RUNNER_PAUSE_MS);
	machine_resume(m);
	pthread_mutex_unlock(&r->lock);
	if (ret)
		return api_fail(err, ret, "the I/O thread did not answer within %d ms",
				RUNNER_PAUSE_MS);
	return 0;
}

/* Wait (bounded) until the main thread has let go of the machine; the lock is held. */
static int wait_machine_gone(struct api_runner *r)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += RUNNER_STOP_MS / 1000;
	while (r->m || r->running)
		if (pthread_cond_timedwait(&r->cond, &r->lock, &deadline) == ETIMEDOUT)
			return -ETIMEDOUT;
	return 0;
}

static int runner_shutdown(void *ctx, int status, struct api_err *err)
{
	struct api_runner *r = ctx;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (r->m) {
		r->api_stop = true;
		/* a paused machine's I/O thread must see its stop */
		vm_devices_hold(r->m, false, RUNNER_PAUSE_MS);
		machine_request_stop(r->m, status);
		ret = wait_machine_gone(r);
	}
	pthread_mutex_unlock(&r->lock);
	if (ret)
		return api_fail(err, ret, "the machine did not stop within %d s",
				RUNNER_STOP_MS / 1000);
	return 0;
}

static int runner_reboot(void *ctx, struct api_err *err)
{
	struct api_runner *r = ctx;
	struct machine *m;

	pthread_mutex_lock(&r->lock);
	m = live_machine(r, err);
	if (m)
		machine_request_reset(m);
	pthread_mutex_unlock(&r->lock);
	return m ? 0 : -ESRCH;
}

/* A device of the running machine does @fn; @what says what failed. */
static int device_call(struct api_runner *r, int (*fn)(struct machine *m), const char *what,
		       struct api_err *err)
{
	struct machine *m;
	int ret = -ESRCH;

	pthread_mutex_lock(&r->lock);
	m = live_machine(r, err);
	if (m) {
		ret = fn(m);
		if (ret)
			api_fail(err, ret, "%s (%s)", what, strerror(-ret));
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int runner_ctrl_alt_del(void *ctx, struct api_err *err)
{
	return device_call(ctx, vm_devices_ctrl_alt_del,
			   "the guest's keyboard does not take keys now", err);
}

static int runner_power_button(void *ctx, struct api_err *err)
{
	return device_call(ctx, vm_devices_power_button, "the ACPI power button cannot be pressed",
			   err);
}

static int runner_drive_update(void *ctx, unsigned int idx, const char *path, struct api_err *err)
{
	struct api_runner *r = ctx;
	struct machine *m;
	int ret = -ESRCH;

	pthread_mutex_lock(&r->lock);
	m = live_machine(r, err);
	if (m) {
		ret = vm_devices_set_disk(m, api_spec_disk_slot(&r->spec, idx), path);
		if (ret)
			api_fail(err, ret, "drive backing file %s: %s", path, strerror(-ret));
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int runner_balloon(void *ctx, const uint32_t *target_pages,
			  const unsigned int *stats_interval_s, struct virtio_balloon_info *out,
			  struct api_err *err)
{
	struct api_runner *r = ctx;
	struct machine *m;
	int ret = -ESRCH;

	pthread_mutex_lock(&r->lock);
	m = live_machine(r, err);
	if (m) {
		ret = vm_devices_balloon_set(m, target_pages, stats_interval_s);
		if (!ret && out)
			ret = vm_devices_balloon_info(m, out);
		if (ret)
			api_fail(err, ret, "balloon: %s", strerror(-ret));
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static void runner_counters(void *ctx, struct api_counters *out)
{
	struct api_runner *r = ctx;
	struct machine *m;

	pthread_mutex_lock(&r->lock);
	m = r->m;
	if (!m)
		goto out;
	out->nr_vcpus = m->nr_vcpus < VM_MAX_VCPUS ? m->nr_vcpus : VM_MAX_VCPUS;
	for (unsigned int i = 0; i < out->nr_vcpus; i++)
		for (unsigned int s = 0; s < KVM_STAT_COUNT; s++)
			out->vcpu_exits[i][s] =
			    __atomic_load_n(&m->vcpus[i].kvm.stats[s], __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < r->spec.nr_drives; i++) {
		unsigned int slot = api_spec_disk_slot(&r->spec, i);

		snprintf(out->disks[i].id, sizeof(out->disks[i].id), "%s", r->spec.drives[i].id);
		vm_devices_disk_counts(m, slot, &out->disks[i].kicks, &out->disks[i].interrupts);
	}
	out->nr_disks = r->spec.nr_drives;
	for (unsigned int i = 0; i < r->spec.nr_nets; i++) {
		struct virtio_net_stats s = {0};

		snprintf(out->nets[i].id, sizeof(out->nets[i].id), "%s", r->spec.nets[i].id);
		vm_devices_net_stats(m, i, &s);
		out->nets[i].rx_packets = s.rx_packets;
		out->nets[i].rx_bytes = s.rx_bytes;
		out->nets[i].rx_dropped = s.rx_dropped;
		out->nets[i].tx_packets = s.tx_packets;
		out->nets[i].tx_bytes = s.tx_bytes;
		out->nets[i].tx_dropped = s.tx_dropped;
	}
	out->nr_nets = r->spec.nr_nets;
	out->has_balloon = vm_devices_balloon_info(m, &out->balloon) == 0;
out:
	pthread_mutex_unlock(&r->lock);
}

static void runner_exit_vmm(void *ctx, int status)
{
	struct api_runner *r = ctx;

	pthread_mutex_lock(&r->lock);
	r->exit_requested = true;
	r->exit_status = status;
	if (r->m) {
		r->api_stop = true;
		/* a machine migrated away never touches its devices (or the guest's RAM) again */
		if (!r->migrated)
			vm_devices_hold(r->m, false, RUNNER_PAUSE_MS);
		machine_request_stop(r->m, status);
	}
	pthread_mutex_unlock(&r->lock);
	wake_main(r);
}

static int runner_snapshot(void *ctx, const struct api_snapshot_req *req, const void *config,
			   size_t len, struct api_err *err)
{
	struct api_runner *r = ctx;
	struct snapshot_save_opts o = {
	    .state_path = req->state_path,
	    .mem_path = req->mem_path,
	    .diff = req->diff,
	    .config = config,
	    .config_len = len,
	    .progress = isatty(STDERR_FILENO),
	};
	struct state_err se = {""};
	struct machine *m;
	int ret;

	pthread_mutex_lock(&r->lock);
	m = live_machine(r, err);
	ret = m ? 0 : -ESRCH;
	/* a machine restored paused has its device work running: hold it too */
	if (m && vm_devices_hold(m, true, RUNNER_PAUSE_MS) < 0) {
		snprintf(se.msg, sizeof(se.msg), "the devices did not stop their work");
		ret = -ETIMEDOUT;
	}
	if (!ret)
		ret = snapshot_save(m, &o, &se);
	pthread_mutex_unlock(&r->lock);
	if (m && ret)
		return api_fail(err, ret, "%s", se.msg);
	return ret;
}

/* The machine of @f, rebuilt from r->cfg (filled from r->spec), in *out. */
static int restore_machine(struct api_runner *r, struct snapshot_file *f,
			   const struct api_restore_req *req, struct machine **out,
			   struct api_err *err)
{
	struct state_err se = {""};
	struct machine *m;
	int ret;

	if (!r->cmdline && !(r->cmdline = malloc(API_CMDLINE_MAX)))
		return api_fail(err, -ENOMEM, "out of memory");
	ret = api_spec_to_config(&r->spec, &r->cfg, r->cmdline, API_CMDLINE_MAX, err);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return api_fail(err, -ENOMEM, "out of memory");
	if (r->cfg.serial == VM_SERIAL_STDIO && !r->terminal_raw) {
		vm_terminal_raw();
		r->terminal_raw = true;
	}
	ret = snapshot_restore(m, &r->cfg, f, req->mem_path, r->spec.track_dirty_pages, &se);
	if (ret) {
		free(m);
		/* -EIO would tell the command line the message is out already */
		return api_fail(err, ret == -EIO ? -EINVAL : ret, "snapshot %s: %s",
				req->state_path, se.msg);
	}
	*out = m;
	return 0;
}

/*
 * The snapshot's specification (its overrides applied) becomes the runner's
 * and the caller's; the machine restored from it goes to the main thread,
 * which starts its threads (paused, or running with req->resume).
 */
static int runner_restore(void *ctx, const struct api_restore_req *req, struct api_vm_spec *spec,
			  struct api_err *err)
{
	struct api_runner *r = ctx;
	struct snapshot_file *f = NULL;
	struct state_err se = {""};
	struct machine *m = NULL;
	const void *config;
	size_t len;
	int ret;

	ret = runner_idle(r, err);
	if (ret < 0)
		return ret;
	ret = snapshot_open(&f, req->state_path, &se);
	if (ret)
		return api_fail(err, ret, "%s", se.msg);
	snapshot_config(f, &config, &len);
	api_vm_spec_free(&r->spec);
	ret = api_restore_spec(config, len, req, &r->spec, err);
	if (!ret && api_vm_spec_copy(spec, &r->spec) < 0)
		ret = api_fail(err, -ENOMEM, "out of memory");
	if (!ret) {
		ret = restore_machine(r, f, req, &m, err);
		if (ret)
			api_vm_spec_free(spec);
	}
	snapshot_close(f);
	if (ret) {
		api_vm_spec_free(&r->spec);
		return ret;
	}
	/* its threads start in machine_run: the vCPUs find it running, or wait */
	if (req->resume)
		machine_resume(m);
	hand_over(r, m);
	return 0;
}

/* ---- live migration ---- */

static int mig_pause(void *ctx, struct state_err *err)
{
	struct api_err e = {""};
	int ret = runner_pause(ctx, &e);

	if (ret)
		snprintf(err->msg, sizeof(err->msg), "pausing the guest: %s", e.msg);
	return ret;
}

static void mig_resume(void *ctx)
{
	struct api_err e = {""};

	if (runner_resume(ctx, &e))
		fprintf(stderr, "petrel: migration: resuming the guest: %s\n", e.msg);
}

static void *mig_thread(void *arg)
{
	struct api_runner *r = arg;
	struct migration_params p = {
	    .downtime_ms = r->mig_req.downtime_ms ? r->mig_req.downtime_ms : MIGRATION_DOWNTIME_MS,
	    .max_rounds = r->mig_req.max_rounds ? r->mig_req.max_rounds : MIGRATION_MAX_ROUNDS,
	};
	struct migration_ops ops = {
	    .pause = mig_pause, .resume = mig_resume, .ctx = r, .paused = r->mig_req.paused};
	struct state_err se = {""};
	struct migration_progress pr;
	int ret;

	r->mig_conn.cancellable = r->mig_cancel_efd >= 0;
	r->mig_conn.cancel_fd = r->mig_cancel_efd;
	ret = migration_send(r->mig_m, &r->mig_conn, &p, &ops, &r->mig, &se);
	close(r->mig_conn.fd);
	r->mig_conn.fd = -1;
	migration_progress_get(&r->mig, &pr);
	if (ret == -ECANCELED)
		fprintf(stderr, "petrel: migration to %s cancelled; the guest goes on here\n",
			r->mig_url);
	else if (ret)
		fprintf(stderr, "petrel: migration to %s failed: %s%s\n", r->mig_url, se.msg,
			ret == -ENOTRECOVERABLE ? "" : "; the guest goes on here");
	else
		fprintf(stderr,
			"petrel: migration to %s: done in %llu ms, downtime %llu ms, %u dirty "
			"rounds, %llu KiB sent\n",
			r->mig_url, (unsigned long long)pr.total_ms,
			(unsigned long long)pr.downtime_ms, pr.round,
			(unsigned long long)(pr.bytes_sent >> 10));
	/* the machine is the main thread's again */
	pthread_mutex_lock(&r->lock);
	r->migrated = ret == 0;
	r->migrating = false;
	r->mig_m = NULL;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	api_vmm_migration_done(&r->vmm, ret == 0, ret == -ENOTRECOVERABLE);
	return NULL;
}

static int runner_send_migration(void *ctx, const struct api_migrate_req *req, const void *config,
				 size_t len, struct api_err *err)
{
	struct api_runner *r = ctx;
	struct state_err se = {""};
	struct machine *m;
	int ret;

	pthread_mutex_lock(&r->lock);
	m = live_machine(r, err);
	if (m && r->migrating)
		m = NULL, api_fail(err, -EBUSY, "a migration of the VM is under way");
	if (m) {
		r->migrating = true;
		r->mig_m = m;
	}
	pthread_mutex_unlock(&r->lock);
	if (!m)
		return -EBUSY;
	/* the last migration's thread is over (it cleared migrating) */
	if (r->mig_thread_on) {
		pthread_join(r->mig_thread, NULL);
		r->mig_thread_on = false;
	}
	snprintf(r->mig_url, sizeof(r->mig_url), "%s", req->url);
	r->mig_req = *req;
	r->mig_req.url = r->mig_url;
	free(r->mig_spec);
	r->mig_spec = malloc(len ? len : 1);
	r->mig_spec_len = len;
	migration_progress_reset(&r->mig, MIGRATION_NONE);
	if (!r->mig_spec) {
		ret = api_fail(err, -ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(r->mig_spec, config, len);
	/* a cancel of an earlier migration is not this one's */
	if (r->mig_cancel_efd >= 0) {
		uint64_t v;

		if (read(r->mig_cancel_efd, &v, sizeof(v)) < 0) {
			/* nothing was written */
		}
	}
	ret = migration_connect(req->url, &r->mig_conn, &se);
	if (!ret) {
		ret = migration_hello(m, &r->mig_conn, r->mig_spec, r->mig_spec_len, &se);
		if (ret) {
			close(r->mig_conn.fd);
			r->mig_conn.fd = -1;
		}
	}
	if (ret) {
		api_fail(err, ret == -ENOMEM ? -ENOMEM : -EINVAL, "migration to %s: %s", req->url,
			 se.msg);
		goto fail;
	}
	migration_progress_reset(&r->mig, MIGRATION_MEMORY);
	ret = pthread_create(&r->mig_thread, NULL, mig_thread, r);
	if (ret) {
		close(r->mig_conn.fd);
		r->mig_conn.fd = -1;
		api_fail(err, -ret, "migration: no thread: %s", strerror(ret));
		ret = -ret;
		goto fail;
	}
	r->mig_thread_on = true;
	return 0;
fail:
	pthread_mutex_lock(&r->lock);
	r->migrating = false;
	r->mig_m = NULL;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int runner_cancel_migration(void *ctx, struct api_err *err)
{
	struct api_runner *r = ctx;
	uint64_t one = 1;
	int ret = migration_cancel(&r->mig);

	if (ret == -EBUSY)
		return api_fail(err, ret, "the migration is in its switchover: too late to cancel");
	if (ret)
		return api_fail(err, ret, "no migration is under way");
	/* a send waiting for room gives up */
	if (write(r->mig_cancel_efd, &one, sizeof(one)) < 0) {
		/* the flag alone stops it at the next record */
	}
	return 0;
}

static void runner_migration_status(void *ctx, struct api_migration_status *out)
{
	struct api_runner *r = ctx;
	struct migration_progress p;

	migration_progress_get(&r->mig, &p);
	if (p.phase == MIGRATION_NONE)
		return;
	snprintf(out->phase, sizeof(out->phase), "%s", migration_phase_name(p.phase));
	out->round = p.round;
	out->bytes_sent = p.bytes_sent;
	out->bytes_remaining = p.bytes_remaining;
	out->dirty_rate = p.dirty_rate;
	out->bandwidth = p.bandwidth;
	out->downtime_ms = p.downtime_ms;
	out->total_ms = p.total_ms;
	out->ram_bytes = p.ram_bytes;
	out->memfd = p.memfd;
	snprintf(out->error, sizeof(out->error), "%s", p.error);
}

struct mig_builder_ctx {
	struct api_runner *r;
	const struct api_restore_req *req;
};

/* The destination's machine, from the received specification: RAM zero, nothing loaded. */
static struct machine *mig_build(void *ctx, const void *spec, size_t len, int mem_fd,
				 struct state_err *se)
{
	struct mig_builder_ctx *b = ctx;
	struct api_runner *r = b->r;
	struct api_err err = {""};
	struct machine *m;

	api_vm_spec_free(&r->spec);
	if (api_restore_spec(spec, len, b->req, &r->spec, &err) < 0) {
		snprintf(se->msg, sizeof(se->msg), "the received specification: %s", err.msg);
		return NULL;
	}
	if (!r->cmdline && !(r->cmdline = malloc(API_CMDLINE_MAX))) {
		snprintf(se->msg, sizeof(se->msg), "out of memory");
		return NULL;
	}
	if (api_spec_to_config(&r->spec, &r->cfg, r->cmdline, API_CMDLINE_MAX, &err) < 0) {
		snprintf(se->msg, sizeof(se->msg), "the received specification: %s", err.msg);
		return NULL;
	}
	r->cfg.incoming = true;
	r->cfg.has_mem_fd = mem_fd >= 0;
	r->cfg.mem_fd = mem_fd;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(se->msg, sizeof(se->msg), "out of memory");
		return NULL;
	}
	if (machine_create(m, &r->cfg) < 0) {
		free(m);
		snprintf(se->msg, sizeof(se->msg),
			 "the machine could not be created here (see petrel's log)");
		return NULL;
	}
	return m;
}

static void mig_discard(void *ctx, struct machine *m)
{
	struct mig_builder_ctx *b = ctx;

	machine_destroy(m);
	free(m);
	api_vm_spec_free(&b->r->spec);
}

static int runner_receive_migration(void *ctx, const char *url, const struct api_restore_req *req,
				    struct api_vm_spec *spec, struct api_err *err)
{
	struct api_runner *r = ctx;
	struct mig_builder_ctx bc = {.r = r, .req = req};
	struct migration_builder b = {
	    .build = mig_build, .discard = mig_discard, .ctx = &bc, .kvm_path = NULL};
	struct state_err se = {""};
	struct mig_conn c;
	struct machine *m = NULL;
	int ret;

	pthread_mutex_lock(&r->lock);
	if (r->m || r->running) {
		pthread_mutex_unlock(&r->lock);
		return api_fail(err, -EBUSY, "a machine is still running");
	}
	pthread_mutex_unlock(&r->lock);
	ret = migration_accept(url, &c, &se);
	if (ret)
		return api_fail(err, -EINVAL, "migration: %s", se.msg);
	ret = migration_receive(&c, &b, &m, &se);
	close(c.fd);
	/* the memfd was the machine-builder's to copy, not to keep */
	r->cfg.has_mem_fd = false;
	r->cfg.mem_fd = -1;
	if (ret)
		return api_fail(err, ret == -ENOMEM ? -ENOMEM : -EINVAL, "migration from %s: %s",
				url, se.msg);
	if (api_vm_spec_copy(spec, &r->spec) < 0) {
		/* past the ack: the guest is here or nowhere */
		fprintf(stderr, "petrel: migration: out of memory for the specification\n");
	}
	if (r->cfg.serial == VM_SERIAL_STDIO && !r->terminal_raw) {
		vm_terminal_raw();
		r->terminal_raw = true;
	}
	machine_resume(m);
	hand_over(r, m);
	return 0;
}

const struct api_backend api_runner_backend = {
    .boot = runner_boot,
    .pause = runner_pause,
    .resume = runner_resume,
    .shutdown = runner_shutdown,
    .reboot = runner_reboot,
    .ctrl_alt_del = runner_ctrl_alt_del,
    .power_button = runner_power_button,
    .drive_update = runner_drive_update,
    .balloon = runner_balloon,
    .snapshot = runner_snapshot,
    .restore = runner_restore,
    .send_migration = runner_send_migration,
    .migration_status = runner_migration_status,
    .cancel_migration = runner_cancel_migration,
    .receive_migration = runner_receive_migration,
    .counters = runner_counters,
    .exit_vmm = runner_exit_vmm,
};

/* A SIGBUS petrel cannot hand to the guest: its socket goes too. */
static void fatal_stop(void)
{
	sandbox_stop(1);
}

int api_runner_init(struct api_runner *r, const char *id)
{
	sigset_t set;

	memset(r, 0, sizeof(*r));
	if (kvm_vcpu_signals_init() < 0) {
		fprintf(stderr, "petrel: cannot install the vCPU kick handler\n");
		return -EINVAL;
	}
	if (kvm_sigbus_init(fatal_stop) < 0) {
		fprintf(stderr, "petrel: cannot install the SIGBUS handler\n");
		return -EINVAL;
	}
	/* Every thread inherits this mask; signalfds read them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	r->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake_efd < 0)
		return -errno;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	migration_progress_init(&r->mig);
	r->mig_conn.fd = -1;
	r->mig_cancel_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	api_vmm_init(&r->vmm, &api_runner_backend, r, id);
	r->vmm.sandbox = SANDBOX_KILL; /* petrel's default; the command line may change it */
	return 0;
}

void api_runner_probe_kvm(struct api_runner *r)
{
	struct kvm_sys sys;

	if (kvm_sys_open(&sys, NULL) == 0) {
		int limit = kvm_sys_vcpu_limit(&sys);

		if (limit > 0 && limit < VM_MAX_VCPUS)
			r->vmm.max_vcpus = (unsigned int)limit;
		kvm_sys_close(&sys);
	}
}

void api_runner_destroy(struct api_runner *r)
{
	if (r->mig_thread_on)
		pthread_join(r->mig_thread, NULL);
	free(r->mig_spec);
	api_vmm_destroy(&r->vmm);
	api_vm_spec_free(&r->spec);
	free(r->cmdline);
	if (r->wake_efd >= 0)
		close(r->wake_efd);
	if (r->mig_cancel_efd >= 0)
		close(r->mig_cancel_efd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	if (r->terminal_raw)
		vm_terminal_restore();
}

/* A migration out reads the machine until its thread ends: wait for that. */
static void wait_migration(struct api_runner *r)
{
	bool join;

	pthread_mutex_lock(&r->lock);
	while (r->migrating)
		pthread_cond_wait(&r->cond, &r->lock);
	join = r->mig_thread_on;
	r->mig_thread_on = false;
	pthread_mutex_unlock(&r->lock);
	if (join)
		pthread_join(r->mig_thread, NULL);
}

/* Run one booted machine to its end, through guest reboots; its status. */
static int run_machine(struct api_runner *r, struct machine *m)
{
	int status;

	for (;;) {
		if (vm_gdb_start(m) < 0)
			status = VM_EXIT_ERROR;
		else
			status = machine_run(m);
		if (!m->reset_requested || r->cfg.reboot_exits)
			break;
		pthread_mutex_lock(&r->lock);
		if (r->api_stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		r->m = NULL;
		pthread_mutex_unlock(&r->lock);
		wait_migration(r);
		/* the new machine gets new RAM: the guest never meets its bad pages again */
		if (m->memerr.nr_pages)
			fprintf(stderr,
				"petrel: guest reboot: %u poisoned pages of guest RAM replaced\n",
				m->memerr.nr_pages + m->memerr.untracked);
		free_machine(m, status);
		fprintf(stderr, "petrel: guest reboot: restarting the machine\n");
		/* the serial log goes on across reboots */
		r->cfg.serial_append = true;
		m = build_machine(r, NULL);
		pthread_mutex_lock(&r->lock);
		r->m = m;
		pthread_mutex_unlock(&r->lock);
		if (!m)
			return VM_EXIT_ERROR;
	}
	pthread_mutex_lock(&r->lock);
	r->m = NULL;
	pthread_mutex_unlock(&r->lock);
	wait_migration(r);
	free_machine(m, status);
	return status;
}

/* Wait for a boot, vmm.shutdown or a signal: 0 when a machine is to run. */
static int wait_for_work(struct api_runner *r, int sigfd, struct machine **out)
{
	struct pollfd pfd[2] = {{.fd = r->wake_efd, .events = POLLIN},
				{.fd = sigfd, .events = POLLIN}};
	struct signalfd_siginfo si;
	uint64_t v;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		if (r->exit_requested) {
			pthread_mutex_unlock(&r->lock);
			return r->exit_status;
		}
		if (r->boot_pending) {
			r->boot_pending = false;
			r->running = true;
			*out = r->m;
			pthread_mutex_unlock(&r->lock);
			return -1;
		}
		pthread_mutex_unlock(&r->lock);
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return VM_EXIT_ERROR;
		if (pfd[0].revents && read(r->wake_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return VM_EXIT_ERROR;
		if (pfd[1].revents && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			fprintf(stderr, "petrel: %s: exiting\n", strsignal((int)si.ssi_signo));
			return VM_EXIT_SIGNAL_BASE + (int)si.ssi_signo;
		}
	}
}

int api_runner_main(struct api_runner *r)
{
	struct machine *m = NULL;
	bool api_stop;
	sigset_t set;
	int sigfd, status;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return VM_EXIT_ERROR;
	/* the threads this one starts (vCPUs, I/O, debugger) narrow its filter further */
	if (sandbox_enter(r->vmm.sandbox, SANDBOX_MAIN, "main") < 0) {
		close(sigfd);
		return VM_EXIT_ERROR;
	}
	for (;;) {
		status = wait_for_work(r, sigfd, &m);
		if (status >= 0)
			break;
		status = run_machine(r, m);
		pthread_mutex_lock(&r->lock);
		r->running = false;
		api_stop = r->api_stop;
		r->api_stop = false;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		if (api_stop)
			continue; /* vm.shutdown: the VMM waits for the next boot */
		api_vmm_machine_ended(&r->vmm);
		/* a guest that ended on its own (or a signal) ends petrel, as with Firecracker */
		break;
	}
	pthread_mutex_lock(&r->lock);
	if (r->exit_requested)
		status = r->exit_status;
	pthread_mutex_unlock(&r->lock);
	close(sigfd);
	return status;
}
