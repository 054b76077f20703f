// SPDX-License-Identifier: GPL-2.0-only
/* The control interface: checks, the specification, the state machine. */
#include "api/api_vmm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define API_DEFAULT_MEM_MIB 128
#define API_METRICS_PERIOD_S 60

int api_fail(struct api_err *err, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		/* one line, whatever names or values from a request or a file it quotes */
		for (char *c = err->msg; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	}
	return ret;
}

const char *api_vm_state_fc_name(enum api_vm_state s)
{
	switch (s) {
	case API_VM_RUNNING:
		return "Running";
	case API_VM_PAUSED:
		return "Paused";
	default:
		return "Not started";
	}
}

const char *api_vm_state_ch_name(enum api_vm_state s)
{
	switch (s) {
	case API_VM_RUNNING:
		return "Running";
	case API_VM_PAUSED:
		return "Paused";
	case API_VM_SHUTDOWN:
		return "Shutdown";
	default:
		return "Created";
	}
}

/* The lock is held (or the caller is alone). */
static void event_locked(struct api_vmm *v, const char *source, const char *event)
{
	api_telemetry_event(&v->tel, source, event);
}

static void spec_defaults(struct api_vm_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->cpus = 1;
	s->mem_mib = API_DEFAULT_MEM_MIB;
	s->serial = API_SERIAL_STDIO;
	s->boot = VM_BOOT_KERNEL;
}

static void drive_free(struct api_drive *d)
{
	free(d->path);
	free(d->partuuid);
	free(d->serial);
	memset(d, 0, sizeof(*d));
}

void api_vm_spec_free(struct api_vm_spec *s)
{
	unsigned int i;

	free(s->kernel);
	free(s->initramfs);
	free(s->cmdline);
	free(s->serial_path);
	free(s->firmware);
	for (i = 0; i < s->nr_drives; i++)
		drive_free(&s->drives[i]);
	spec_defaults(s);
}

/* strdup that keeps NULL; false when out of memory. */
static bool dup_opt(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst;
}

static int drive_copy(struct api_drive *dst, const struct api_drive *src)
{
	*dst = *src;
	dst->path = dst->partuuid = dst->serial = NULL;
	if (!dup_opt(&dst->path, src->path) || !dup_opt(&dst->partuuid, src->partuuid) ||
	    !dup_opt(&dst->serial, src->serial)) {
		drive_free(dst);
		return -ENOMEM;
	}
	return 0;
}

int api_vm_spec_copy(struct api_vm_spec *dst, const struct api_vm_spec *src)
{
	unsigned int i;

	*dst = *src;
	dst->kernel = dst->initramfs = dst->cmdline = dst->serial_path = dst->firmware = NULL;
	dst->nr_drives = 0;
	if (!dup_opt(&dst->kernel, src->kernel) || !dup_opt(&dst->initramfs, src->initramfs) ||
	    !dup_opt(&dst->cmdline, src->cmdline) ||
	    !dup_opt(&dst->serial_path, src->serial_path) ||
	    !dup_opt(&dst->firmware, src->firmware))
		goto fail;
	for (i = 0; i < src->nr_drives; i++) {
		if (drive_copy(&dst->drives[i], &src->drives[i]) < 0)
			goto fail;
		dst->nr_drives++;
	}
	return 0;
fail:
	api_vm_spec_free(dst);
	return -ENOMEM;
}

void api_vmm_init(struct api_vmm *v, const struct api_backend *b, void *ctx, const char *id)
{
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	spec_defaults(&v->spec);
	v->state = API_VM_CONFIGURED;
	v->backend = b;
	v->backend_ctx = ctx;
	v->max_vcpus = VM_MAX_VCPUS;
	api_telemetry_init(&v->tel);
	snprintf(v->id, sizeof(v->id), "%s", id ? id : "anonymous-instance");
}

void api_vmm_destroy(struct api_vmm *v)
{
	pthread_mutex_lock(&v->lock);
	v->quit = true;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	if (v->metrics_thread_on)
		pthread_join(v->metrics_thread, NULL);
	api_telemetry_destroy(&v->tel);
	api_vm_spec_free(&v->spec);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->cond);
}

enum api_vm_state api_vmm_state(struct api_vmm *v)
{
	enum api_vm_state s;

	pthread_mutex_lock(&v->lock);
	s = v->state;
	pthread_mutex_unlock(&v->lock);
	return s;
}

bool api_vmm_is_created(struct api_vmm *v)
{
	bool yes;

	pthread_mutex_lock(&v->lock);
	yes = v->created || v->state == API_VM_RUNNING || v->state == API_VM_PAUSED ||
	      v->state == API_VM_SHUTDOWN;
	pthread_mutex_unlock(&v->lock);
	return yes;
}

void api_vmm_machine_ended(struct api_vmm *v)
{
	pthread_mutex_lock(&v->lock);
	if (v->state == API_VM_RUNNING || v->state == API_VM_PAUSED) {
		v->state = API_VM_SHUTDOWN;
		event_locked(v, "vm", "shutdown");
	}
	pthread_mutex_unlock(&v->lock);
}

/* The common guard of every pre-boot call; the lock is held. */
static int need_configurable(struct api_vmm *v, struct api_err *err)
{
	if (v->state == API_VM_NONE)
		return api_fail(err, -ENOENT, "the VM is not created (vm.create first)");
	if (v->state != API_VM_CONFIGURED && v->state != API_VM_SHUTDOWN)
		return api_fail(err, -EBUSY,
				"the operation is not supported after the VM has started");
	return 0;
}

static int need_booted(struct api_vmm *v, struct api_err *err)
{
	if (v->state == API_VM_NONE)
		return api_fail(err, -ENOENT, "the VM is not created (vm.create first)");
	if (v->state != API_VM_RUNNING && v->state != API_VM_PAUSED)
		return api_fail(err, -EINVAL, "the VM is not running (boot it first)");
	return 0;
}

/* Lifecycle calls wait until a migration out has ended. */
static int need_not_migrating(struct api_vmm *v, struct api_err *err)
{
	if (v->migrating)
		return api_fail(err, -EBUSY, "a migration of the VM is under way");
	return 0;
}

void api_vmm_event(struct api_vmm *v, const char *source, const char *event)
{
	pthread_mutex_lock(&v->lock);
	event_locked(v, source, event);
	pthread_mutex_unlock(&v->lock);
}

int api_vmm_set_event_monitor(struct api_vmm *v, const char *spec, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = api_telemetry_open_events(&v->tel, spec, err);
	if (!ret)
		event_locked(v, "vmm", "starting");
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_create(struct api_vmm *v, struct api_err *err)
{
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	/* a fresh petrel api is ready for either front-end: the first create takes it */
	if (v->created || (v->state != API_VM_NONE && v->state != API_VM_CONFIGURED))
		ret = api_fail(err, -EEXIST, "the VM is already created (vm.delete it first)");
	else {
		api_vm_spec_free(&v->spec);
		v->state = API_VM_CONFIGURED;
		v->created = true;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_delete(struct api_vmm *v, struct api_err *err)
{
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	ret = need_not_migrating(v, err);
	if (!ret && (v->state == API_VM_RUNNING || v->state == API_VM_PAUSED))
		ret = v->backend->shutdown(v->backend_ctx, VM_EXIT_POWEROFF, err);
	if (!ret) {
		api_vm_spec_free(&v->spec);
		v->state = API_VM_NONE;
		v->created = false;
		v->configured = false;
		event_locked(v, "vm", "deleted");
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int check_machine(const struct api_vmm *v, unsigned int cpus, uint64_t mem_mib, bool smt,
			 struct api_err *err)
{
	if (cpus < 1 || cpus > v->max_vcpus)
		return api_fail(err, -EINVAL,
				"vcpu count %u is out of range: this host allows 1 to %u", cpus,
				v->max_vcpus);
	if (smt && cpus > 1 && cpus % 2)
		return api_fail(err, -EINVAL,
				"vcpu count must be 1 or an even number when SMT is enabled");
	if (mem_mib < API_MIN_MEM_MIB || mem_mib > (UINT64_MAX >> 21))
		return api_fail(err, -EINVAL,
				"memory size %llu MiB is out of range: at least %u MiB",
				(unsigned long long)mem_mib, API_MIN_MEM_MIB);
	return 0;
}

int api_vmm_set_machine(struct api_vmm *v, const struct api_machine_update *u, bool replace,
			struct api_err *err)
{
	struct api_vm_spec *s = &v->spec;
	unsigned int cpus;
	uint64_t mem;
	bool smt, track, shared;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (ret)
		goto out;
	cpus = u->has_cpus ? u->cpus : replace ? 1 : s->cpus;
	mem = u->has_mem ? u->mem_mib : replace ? API_DEFAULT_MEM_MIB : s->mem_mib;
	smt = u->has_smt ? u->smt : replace ? false : s->smt;
	track = u->has_track_dirty ? u->track_dirty_pages : replace ? false : s->track_dirty_pages;
	shared = u->has_mem_shared ? u->mem_shared : replace ? false : s->mem_shared;
	ret = check_machine(v, cpus, mem, smt, err);
	if (ret)
		goto out;
	s->cpus = cpus;
	s->mem_mib = mem;
	s->smt = smt;
	s->track_dirty_pages = track;
	s->mem_shared = shared;
	v->configured = true;
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int check_file(const char *what, const char *path, int mode, struct api_err *err)
{
	if (!path || !*path)
		return api_fail(err, -EINVAL, "%s: the path is empty", what);
	if (access(path, mode) < 0)
		return api_fail(err, -errno, "%s %s: %s", what, path, strerror(errno));
	return 0;
}

int api_vmm_set_boot(struct api_vmm *v, const char *kernel, const char *initramfs,
		     const char *cmdline, struct api_err *err)
{
	char *k = NULL, *i = NULL, *c = NULL;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret)
		ret = check_file("kernel image", kernel, R_OK, err);
	if (!ret && initramfs)
		ret = check_file("initrd", initramfs, R_OK, err);
	if (!ret && cmdline && strlen(cmdline) >= API_CMDLINE_MAX)
		ret = api_fail(err, -EINVAL, "kernel command line is longer than %u bytes",
			       API_CMDLINE_MAX - 1);
	if (!ret && (!dup_opt(&k, kernel) || !dup_opt(&i, initramfs) || !dup_opt(&c, cmdline)))
		ret = api_fail(err, -ENOMEM, "out of memory");
	if (ret) {
		free(k);
		free(i);
		free(c);
		goto out;
	}
	free(v->spec.kernel);
	free(v->spec.initramfs);
	free(v->spec.cmdline);
	v->spec.kernel = k;
	v->spec.initramfs = i;
	v->spec.cmdline = c;
	free(v->spec.firmware);
	v->spec.firmware = NULL;
	v->spec.boot = VM_BOOT_KERNEL;
	v->configured = true;
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int find_drive(const struct api_vm_spec *s, const char *id)
{
	for (unsigned int i = 0; i < s->nr_drives; i++)
		if (!strcmp(s->drives[i].id, id))
			return (int)i;
	return -1;
}

int api_check_id(const char *what, const char *id, struct api_err *err)
{
	size_t n = id ? strlen(id) : 0;

	if (!n || n >= API_ID_MAX)
		return api_fail(err, -EINVAL, "%s id must have 1 to %u characters", what,
				API_ID_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return api_fail(
			    err, -EINVAL,
			    "%s id %s: only letters, digits, '_', '-' and '.' are allowed", what,
			    id);
	}
	return 0;
}

int api_vmm_put_drive(struct api_vmm *v, const struct api_drive *d, struct api_err *err)
{
	struct api_vm_spec *s = &v->spec;
	struct api_drive copy;
	int idx, ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret)
		ret = api_check_id("drive", d->id, err);
	if (!ret)
		ret = check_file("drive backing file", d->path, d->readonly ? R_OK : R_OK | W_OK,
				 err);
	if (!ret && d->serial && strlen(d->serial) > VIRTIO_BLK_ID_BYTES)
		ret = api_fail(err, -EINVAL, "drive %s: serial is longer than %u bytes", d->id,
			       VIRTIO_BLK_ID_BYTES);
	if (ret)
		goto out;
	idx = find_drive(s, d->id);
	if (d->root) {
		for (unsigned int i = 0; i < s->nr_drives; i++) {
			if ((int)i != idx && s->drives[i].root) {
				ret = api_fail(err, -EINVAL,
					       "a root block device already exists (drive %s)",
					       s->drives[i].id);
				goto out;
			}
		}
	}
	if (idx < 0 && s->nr_drives == VM_MAX_DISKS) {
		ret = api_fail(err, -ENOSPC, "drive %s: at most %u drives", d->id, VM_MAX_DISKS);
		goto out;
	}
	if (drive_copy(&copy, d) < 0) {
		ret = api_fail(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (idx < 0)
		idx = (int)s->nr_drives++;
	else
		drive_free(&s->drives[idx]);
	s->drives[idx] = copy;
	v->configured = true;
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_update_drive(struct api_vmm *v, const char *id, const char *path, struct api_err *err)
{
	struct api_drive *d;
	char *p;
	int idx, ret;

	pthread_mutex_lock(&v->lock);
	ret = need_booted(v, err);
	if (ret)
		goto out;
	idx = find_drive(&v->spec, id);
	if (idx < 0) {
		ret = api_fail(err, -ENOENT, "drive %s: no such drive", id);
		goto out;
	}
	d = &v->spec.drives[idx];
	ret = check_file("drive backing file", path, d->readonly ? R_OK : R_OK | W_OK, err);
	if (ret)
		goto out;
	p = strdup(path);
	if (!p) {
		ret = api_fail(err, -ENOMEM, "out of memory");
		goto out;
	}
	ret = v->backend->drive_update(v->backend_ctx, (unsigned int)idx, path, err);
	if (ret) {
		free(p);
		goto out;
	}
	free(d->path);
	d->path = p;
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_check_net(const struct api_vm_spec *s, const struct api_net *n, int *idx,
		  struct api_err *err)
{
	struct virtio_net_config_opts o;
	char spec[64];
	int ret;

	*idx = -1;
	ret = api_check_id("network interface", n->id, err);
	if (ret)
		return ret;
	/* the TAP name and MAC follow --net's rules */
	snprintf(spec, sizeof(spec), "tap=%s", n->tap);
	if (!memchr(n->tap, '\0', sizeof(n->tap)) || virtio_net_parse(spec, &o) < 0)
		return api_fail(
		    err, -EINVAL,
		    "network interface %s: host_dev_name %.*s is not a valid TAP name (1 to 15 "
		    "characters, no '/', ':', '%%' or spaces)",
		    n->id, (int)sizeof(n->tap), n->tap);
	if (n->has_mac && ((n->mac[0] & 1) || !(n->mac[0] | n->mac[1] | n->mac[2] | n->mac[3] |
						n->mac[4] | n->mac[5])))
		return api_fail(err, -EINVAL,
				"network interface %s: the MAC must be unicast and not zero",
				n->id);
	for (unsigned int i = 0; i < s->nr_nets; i++) {
		if (!strcmp(s->nets[i].id, n->id)) {
			*idx = (int)i;
			continue;
		}
		if (!strcmp(s->nets[i].tap, n->tap))
			return api_fail(err, -EEXIST,
					"network interface %s: TAP %s is already used by %s", n->id,
					n->tap, s->nets[i].id);
		if (n->has_mac && s->nets[i].has_mac && !memcmp(s->nets[i].mac, n->mac, 6))
			return api_fail(err, -EEXIST,
					"network interface %s: the MAC is already used by %s",
					n->id, s->nets[i].id);
	}
	if (*idx < 0 && s->nr_nets == VM_MAX_NETS)
		return api_fail(err, -ENOSPC, "network interface %s: at most %u interfaces", n->id,
				VM_MAX_NETS);
	return 0;
}

int api_vmm_put_net(struct api_vmm *v, const struct api_net *n, struct api_err *err)
{
	struct api_vm_spec *s = &v->spec;
	int idx = -1, ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret)
		ret = api_check_net(s, n, &idx, err);
	if (!ret) {
		if (idx < 0)
			idx = (int)s->nr_nets++;
		s->nets[idx] = *n;
		v->configured = true;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_set_rng(struct api_vmm *v, bool on, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret) {
		v->spec.rng = on;
		v->configured = true;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_set_vsock(struct api_vmm *v, const struct api_vsock *vs, struct api_err *err)
{
	struct stat st;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret && (vs->cid < VSOCK_MIN_GUEST_CID || vs->cid > VSOCK_MAX_GUEST_CID))
		ret = api_fail(
		    err, -EINVAL, "vsock: guest cid %llu is not one a guest may have (3 to %llu)",
		    (unsigned long long)vs->cid, (unsigned long long)VSOCK_MAX_GUEST_CID);
	if (!ret && (!vs->uds[0] || strnlen(vs->uds, sizeof(vs->uds)) >= sizeof(vs->uds)))
		ret = api_fail(err, -EINVAL, "vsock: the UDS path must have 1 to %d bytes",
			       VSOCK_UDS_PATH_MAX);
	if (!ret && lstat(vs->uds, &st) == 0)
		ret =
		    api_fail(err, -EEXIST,
			     "vsock: %s exists (remove it first, or choose another path)", vs->uds);
	if (!ret) {
		v->spec.vsock = *vs;
		v->spec.has_vsock = true;
		v->configured = true;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_set_serial(struct api_vmm *v, enum api_serial mode, const char *path,
		       struct api_err *err)
{
	char *p = NULL;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret && mode == API_SERIAL_FILE && (!path || !*path))
		ret = api_fail(err, -EINVAL, "serial output file: the path is empty");
	if (!ret && mode == API_SERIAL_FILE && !(p = strdup(path)))
		ret = api_fail(err, -ENOMEM, "out of memory");
	if (!ret) {
		free(v->spec.serial_path);
		v->spec.serial_path = p;
		v->spec.serial = mode;
		v->configured = true;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_set_console_hvc(struct api_vmm *v, bool hvc, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret) {
		v->spec.console_hvc = hvc;
		v->configured = true;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_set_boot_timer(struct api_vmm *v, bool on, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret)
		v->spec.boot_timer = on;
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_set_local(struct api_vmm *v, const struct api_local_opts *o, struct api_err *err)
{
	struct api_vm_spec *s = &v->spec;
	char *fw = NULL;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret && o->firmware)
		ret = check_file("firmware", o->firmware, R_OK, err);
	if (!ret && !dup_opt(&fw, o->firmware))
		ret = api_fail(err, -ENOMEM, "out of memory");
	if (!ret) {
		free(s->firmware);
		s->firmware = fw;
		v->configured = true;
		s->boot = o->firmware ? o->boot : VM_BOOT_KERNEL;
		s->mem_bytes = o->mem_bytes;
		s->serial_max = o->serial_max;
		s->gdb = o->gdb;
		s->gdb_wait = o->gdb_wait;
		s->reboot_exits = o->reboot_exits;
		s->stats = o->stats;
		s->test_device = o->test_device;
		s->irqchip = o->irqchip;
		s->kvm_path = o->kvm_path;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static int check_balloon_target(const struct api_vm_spec *s, uint64_t mib, struct api_err *err)
{
	uint64_t mem = s->mem_bytes ? s->mem_bytes >> 20 : s->mem_mib;

	if (mib > mem)
		return api_fail(err, -EINVAL,
				"balloon: amount_mib %llu is more than the guest's %llu MiB",
				(unsigned long long)mib, (unsigned long long)mem);
	return 0;
}

int api_vmm_set_balloon(struct api_vmm *v, const struct virtio_balloon_opts *o, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret && o->on)
		ret = check_balloon_target(&v->spec, o->target_mib, err);
	if (!ret && o->stats_interval_s > VIRTIO_BALLOON_MAX_STATS_S)
		ret = api_fail(err, -EINVAL, "balloon: stats_polling_interval_s above %u",
			       VIRTIO_BALLOON_MAX_STATS_S);
	if (!ret) {
		v->spec.balloon = *o;
		v->configured = true;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* Booted with a balloon, and a backend that reaches it. */
static int need_balloon(struct api_vmm *v, struct api_err *err)
{
	int ret = need_booted(v, err);

	if (!ret && !v->spec.balloon.on)
		ret = api_fail(err, -ENOENT, "the VM has no balloon device");
	if (!ret && !v->backend->balloon)
		ret = api_fail(err, -ENOTSUP, "the balloon cannot be reached");
	return ret;
}

int api_vmm_balloon_target(struct api_vmm *v, uint64_t target_mib, struct api_err *err)
{
	uint32_t pages = (uint32_t)(target_mib << 8);
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_balloon(v, err);
	if (!ret)
		ret = check_balloon_target(&v->spec, target_mib, err);
	if (!ret)
		ret = v->backend->balloon(v->backend_ctx, &pages, NULL, NULL, err);
	if (!ret)
		v->spec.balloon.target_mib = target_mib;
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_balloon_stats_interval(struct api_vmm *v, unsigned int secs, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_balloon(v, err);
	if (!ret && (!secs || !v->spec.balloon.stats_interval_s))
		ret = api_fail(err, -EINVAL,
			       "balloon statistics cannot be turned on or off after boot");
	if (!ret && secs > VIRTIO_BALLOON_MAX_STATS_S)
		ret = api_fail(err, -EINVAL, "balloon: stats_polling_interval_s above %u",
			       VIRTIO_BALLOON_MAX_STATS_S);
	if (!ret)
		ret = v->backend->balloon(v->backend_ctx, NULL, &secs, NULL, err);
	if (!ret)
		v->spec.balloon.stats_interval_s = secs;
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_balloon_get(struct api_vmm *v, struct virtio_balloon_opts *o,
			struct virtio_balloon_info *info, bool *live, struct api_err *err)
{
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	*live = false;
	if (info)
		memset(info, 0, sizeof(*info));
	if (!v->spec.balloon.on)
		ret = api_fail(err, -ENOENT, "the VM has no balloon device");
	if (!ret) {
		*o = v->spec.balloon;
		if (info && (v->state == API_VM_RUNNING || v->state == API_VM_PAUSED) &&
		    v->backend->balloon) {
			ret = v->backend->balloon(v->backend_ctx, NULL, NULL, info, err);
			*live = !ret;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_get_spec(struct api_vmm *v, struct api_vm_spec *out)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = api_vm_spec_copy(out, &v->spec);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* Append " root=..." for the root drive, placed first (so it is /dev/vda). */
int api_spec_to_config(const struct api_vm_spec *s, struct vm_config *cfg, char *cmdline_buf,
		       size_t cmdline_size, struct api_err *err)
{
	const struct api_drive *root = NULL;
	unsigned int i, n = 0;
	int len;

	memset(cfg, 0, sizeof(*cfg));
	if (s->boot != VM_BOOT_KERNEL && !s->firmware)
		return api_fail(err, -EINVAL, "no firmware is configured");
	if (s->boot == VM_BOOT_KERNEL && !s->kernel)
		return api_fail(err, -EINVAL,
				"no kernel is configured (set the boot source first)");
	cfg->cpus = s->cpus;
	cfg->mem_size = s->mem_bytes ? s->mem_bytes : s->mem_mib << 20;
	cfg->track_dirty = s->track_dirty_pages; /* for diff snapshots */
	cfg->mem_shared = s->mem_shared;
	cfg->boot = s->boot;
	cfg->kernel = s->kernel;
	cfg->initramfs = s->initramfs;
	cfg->firmware = s->firmware;
	cfg->serial = s->serial == API_SERIAL_FILE  ? VM_SERIAL_FILE
		      : s->serial == API_SERIAL_OFF ? VM_SERIAL_OFF
						    : VM_SERIAL_STDIO;
	cfg->serial_path = s->serial_path;
	cfg->serial_max = s->serial_max;
	cfg->console_hvc = s->console_hvc;
	cfg->boot_timer = s->boot_timer;
	cfg->rng = s->rng;
	cfg->vsock_on = s->has_vsock;
	if (s->has_vsock) {
		cfg->vsock.cid = s->vsock.cid;
		snprintf(cfg->vsock.uds, sizeof(cfg->vsock.uds), "%s", s->vsock.uds);
	}
	cfg->balloon = s->balloon;
	cfg->gdb = s->gdb;
	cfg->gdb_wait = s->gdb_wait;
	cfg->reboot_exits = s->reboot_exits;
	cfg->stats = s->stats;
	cfg->test_device = s->test_device;
	cfg->irqchip = s->irqchip;
	cfg->kvm_path = s->kvm_path;
	cfg->sandbox = s->sandbox;
	cfg->dirty_log = s->dirty_log;
	cfg->dirty_ring_bytes = s->dirty_ring_bytes;
	if (s->console_hvc && s->boot != VM_BOOT_KERNEL)
		return api_fail(err, -EINVAL, "a virtio console needs a kernel");
	/* the memory may have shrunk since the balloon was set */
	if (s->balloon.on && check_balloon_target(s, s->balloon.target_mib, err))
		return -EINVAL;
	for (i = 0; i < s->nr_drives; i++)
		if (s->drives[i].root)
			root = &s->drives[i];
	for (i = 0; i < s->nr_drives + (root ? 1 : 0); i++) {
		const struct api_drive *d = root && i == 0 ? root : &s->drives[i - (root ? 1 : 0)];
		struct virtio_blk_config_opts *o = &cfg->disks[n];

		if (root && i > 0 && d == root)
			continue;
		o->path = d->path;
		o->readonly = d->readonly;
		o->direct = d->direct;
		o->serial = d->serial;
		n++;
	}
	cfg->nr_disks = n;
	for (i = 0; i < s->nr_nets; i++) {
		struct virtio_net_config_opts *o = &cfg->nets[i];

		snprintf(o->tap, sizeof(o->tap), "%s", s->nets[i].tap);
		if (s->nets[i].has_mac)
			memcpy(o->mac, s->nets[i].mac, sizeof(o->mac));
		else
			virtio_net_default_mac(o->tap, o->mac);
	}
	cfg->nr_nets = s->nr_nets;
	if (!root && !s->cmdline) {
		cfg->cmdline = NULL;
		return 0;
	}
	if (root && root->partuuid)
		len = snprintf(cmdline_buf, cmdline_size, "%s%sroot=PARTUUID=%s %s",
			       s->cmdline ? s->cmdline : "", s->cmdline ? " " : "", root->partuuid,
			       root->readonly ? "ro" : "rw");
	else if (root)
		len = snprintf(cmdline_buf, cmdline_size, "%s%sroot=/dev/vda %s",
			       s->cmdline ? s->cmdline : "", s->cmdline ? " " : "",
			       root->readonly ? "ro" : "rw");
	else
		len = snprintf(cmdline_buf, cmdline_size, "%s", s->cmdline);
	if (len < 0 || (size_t)len >= cmdline_size)
		return api_fail(err, -EINVAL, "kernel command line is longer than %zu bytes",
				cmdline_size - 1);
	cfg->cmdline = cmdline_buf;
	return 0;
}

int api_vmm_boot(struct api_vmm *v, struct api_err *err)
{
	static const size_t cmdline_size = API_CMDLINE_MAX;
	struct vm_config cfg;
	char *buf;
	int ret;

	buf = malloc(cmdline_size);
	if (!buf)
		return api_fail(err, -ENOMEM, "out of memory");
	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret)
		ret = check_machine(v, v->spec.cpus, v->spec.mem_mib, v->spec.smt, err);
	v->spec.sandbox = v->sandbox;
	v->spec.dirty_log = v->dirty_log;
	v->spec.dirty_ring_bytes = v->dirty_ring_bytes;
	/* a dry run: the backend converts its own copy of the specification */
	if (!ret)
		ret = api_spec_to_config(&v->spec, &cfg, buf, cmdline_size, err);
	if (!ret) {
		event_locked(v, "vm", "booting");
		ret = v->backend->boot(v->backend_ctx, &v->spec, err);
	}
	if (!ret) {
		v->state = API_VM_RUNNING;
		event_locked(v, "vm", "booted");
	}
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	free(buf);
	return ret;
}

int api_vmm_pause(struct api_vmm *v, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_booted(v, err);
	if (!ret)
		ret = need_not_migrating(v, err);
	if (!ret && v->state == API_VM_RUNNING) {
		event_locked(v, "vm", "pausing");
		ret = v->backend->pause(v->backend_ctx, err);
		if (!ret) {
			v->state = API_VM_PAUSED;
			event_locked(v, "vm", "paused");
		}
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_resume(struct api_vmm *v, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_booted(v, err);
	if (!ret)
		ret = need_not_migrating(v, err);
	if (!ret && v->state == API_VM_PAUSED) {
		event_locked(v, "vm", "resuming");
		ret = v->backend->resume(v->backend_ctx, err);
		if (!ret) {
			v->state = API_VM_RUNNING;
			event_locked(v, "vm", "resumed");
		}
	}
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_shutdown(struct api_vmm *v, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_booted(v, err);
	if (!ret)
		ret = need_not_migrating(v, err);
	if (!ret)
		ret = v->backend->shutdown(v->backend_ctx, VM_EXIT_POWEROFF, err);
	if (!ret) {
		v->state = API_VM_SHUTDOWN;
		event_locked(v, "vm", "shutdown");
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* A call that needs the machine running (not paused). */
static int running_call(struct api_vmm *v, int (*fn)(void *, struct api_err *), struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_booted(v, err);
	if (!ret && v->state == API_VM_PAUSED)
		ret = api_fail(err, -EINVAL, "the VM is paused (resume it first)");
	if (!ret)
		ret = need_not_migrating(v, err);
	if (!ret)
		ret = fn(v->backend_ctx, err);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_reboot(struct api_vmm *v, struct api_err *err)
{
	int ret;

	api_vmm_event(v, "vm", "rebooting");
	ret = running_call(v, v->backend->reboot, err);
	if (!ret)
		api_vmm_event(v, "vm", "rebooted");
	return ret;
}

int api_vmm_ctrl_alt_del(struct api_vmm *v, struct api_err *err)
{
	return running_call(v, v->backend->ctrl_alt_del, err);
}

int api_vmm_power_button(struct api_vmm *v, struct api_err *err)
{
	return running_call(v, v->backend->power_button, err);
}

int api_vmm_snapshot(struct api_vmm *v, const struct api_snapshot_req *req, struct api_err *err)
{
	size_t len = 0;
	char *json;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_booted(v, err);
	if (!ret)
		ret = need_not_migrating(v, err);
	if (!ret && v->state != API_VM_PAUSED)
		ret = api_fail(err, -EINVAL,
			       "the VM must be paused to create a snapshot (pause it first)");
	if (!ret && (!req->state_path || !*req->state_path))
		ret = api_fail(err, -EINVAL, "snapshot: the state file's path is empty");
	if (!ret && (!req->mem_path || !*req->mem_path))
		ret = api_fail(err, -EINVAL, "snapshot: the memory file's path is empty");
	if (!ret && !strcmp(req->state_path, req->mem_path))
		ret = api_fail(err, -EINVAL,
			       "snapshot: the state and the memory need two different files");
	if (!ret && !v->backend->snapshot)
		ret = api_fail(err, -EOPNOTSUPP, "this VMM cannot take snapshots");
	if (!ret && req->diff && !v->spec.track_dirty_pages)
		ret = api_fail(err, -EINVAL,
			       "a diff snapshot needs dirty page tracking (track_dirty_pages) on "
			       "since boot or restore");
	if (ret)
		goto out;
	json = api_spec_to_json(&v->spec, &len);
	if (!json) {
		ret = api_fail(err, -ENOMEM, "out of memory");
		goto out;
	}
	event_locked(v, "vm", "snapshotting");
	ret = v->backend->snapshot(v->backend_ctx, req, json, len, err);
	free(json);
	if (!ret)
		event_locked(v, "vm", "snapshotted");
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* Nothing configured, booted or created: what Firecracker calls a fresh process. */
static int need_fresh(struct api_vmm *v, struct api_err *err)
{
	if (v->created || v->configured ||
	    (v->state != API_VM_NONE && v->state != API_VM_CONFIGURED))
		return api_fail(err, -EBUSY,
				"a snapshot is loaded only into a fresh VMM: nothing configured "
				"(but the logger and metrics), booted or created before");
	return 0;
}

static int check_restore_req(const struct api_restore_req *req, struct api_err *err)
{
	int ret;

	ret = check_file("snapshot state file", req->state_path, R_OK, err);
	if (!ret)
		ret = check_file("snapshot memory file", req->mem_path, R_OK, err);
	for (unsigned int i = 0; !ret && i < req->nr_nets; i++)
		for (unsigned int j = 0; !ret && j < i; j++)
			if (!strcmp(req->nets[i].id, req->nets[j].id))
				ret =
				    api_fail(err, -EINVAL, "network interface %s: overridden twice",
					     req->nets[i].id);
	for (unsigned int i = 0; !ret && i < req->nr_drives; i++)
		for (unsigned int j = 0; !ret && j < i; j++)
			if (!strcmp(req->drives[i].id, req->drives[j].id))
				ret = api_fail(err, -EINVAL, "drive %s: overridden twice",
					       req->drives[i].id);
	return ret;
}

int api_vmm_restore(struct api_vmm *v, const struct api_restore_req *req, struct api_err *err)
{
	struct api_restore_req r = *req;
	struct api_vm_spec spec;
	int ret;

	memset(&spec, 0, sizeof(spec));
	pthread_mutex_lock(&v->lock);
	ret = need_fresh(v, err);
	if (!ret && !v->backend->restore)
		ret = api_fail(err, -EOPNOTSUPP, "this VMM cannot restore snapshots");
	if (!ret)
		ret = check_restore_req(req, err);
	if (ret)
		goto out;
	r.sandbox = v->sandbox;
	r.max_vcpus = v->max_vcpus;
	r.dirty_log = v->dirty_log;
	r.dirty_ring_bytes = v->dirty_ring_bytes;
	event_locked(v, "vm", "restoring");
	ret = v->backend->restore(v->backend_ctx, &r, &spec, err);
	if (ret)
		goto out;
	api_vm_spec_free(&v->spec);
	v->spec = spec;
	v->state = r.resume ? API_VM_RUNNING : API_VM_PAUSED;
	event_locked(v, "vm", "restored");
	if (r.resume)
		event_locked(v, "vm", "resumed");
out:
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_send_migration(struct api_vmm *v, const struct api_migrate_req *req,
			   struct api_err *err)
{
	struct api_migrate_req r = *req;
	size_t len = 0;
	char *json = NULL;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_booted(v, err);
	if (!ret)
		ret = need_not_migrating(v, err);
	if (!ret && (!req->url || !*req->url))
		ret = api_fail(err, -EINVAL, "migration: the destination's URL is empty");
	if (!ret && !v->backend->send_migration)
		ret = api_fail(err, -EOPNOTSUPP, "this VMM cannot migrate VMs");
	if (!ret) {
		json = api_spec_to_json(&v->spec, &len);
		if (!json)
			ret = api_fail(err, -ENOMEM, "out of memory");
	}
	if (ret)
		goto out;
	r.paused = v->state == API_VM_PAUSED;
	event_locked(v, "vm", "migrating");
	/* set first: the migration's thread may end before the backend returns */
	v->migrating = true;
	ret = v->backend->send_migration(v->backend_ctx, &r, json, len, err);
	if (ret)
		v->migrating = false;
out:
	free(json);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

void api_vmm_migration_done(struct api_vmm *v, bool ok, bool stays_paused)
{
	pthread_mutex_lock(&v->lock);
	v->migrating = false;
	if (!ok && stays_paused && v->state == API_VM_RUNNING) {
		v->state = API_VM_PAUSED;
		event_locked(v, "vm", "paused");
	}
	if (ok) {
		/* the guest lives at the destination: this VMM ends */
		event_locked(v, "vm", "migrated");
		v->state = API_VM_SHUTDOWN;
		event_locked(v, "vmm", "shutdown");
		v->backend->exit_vmm(v->backend_ctx, 0);
	}
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

int api_vmm_migration_status(struct api_vmm *v, struct api_migration_status *out)
{
	memset(out, 0, sizeof(*out));
	if (!v->backend->migration_status)
		return -ENOENT;
	/* not under the controller's lock: the status is read while the migration holds it */
	v->backend->migration_status(v->backend_ctx, out);
	return *out->phase ? 0 : -ENOENT;
}

int api_vmm_receive_migration(struct api_vmm *v, const char *url, struct api_err *err)
{
	struct api_restore_req r = {.resume = true};
	struct api_vm_spec spec;
	int ret;

	memset(&spec, 0, sizeof(spec));
	pthread_mutex_lock(&v->lock);
	ret = need_fresh(v, err);
	if (!ret && (!url || !*url))
		ret = api_fail(err, -EINVAL, "migration: the URL to listen on is empty");
	if (!ret && !v->backend->receive_migration)
		ret = api_fail(err, -EOPNOTSUPP, "this VMM cannot receive migrations");
	if (ret)
		goto out;
	r.sandbox = v->sandbox;
	r.max_vcpus = v->max_vcpus;
	r.dirty_log = v->dirty_log;
	r.dirty_ring_bytes = v->dirty_ring_bytes;
	event_locked(v, "vm", "receiving");
	ret = v->backend->receive_migration(v->backend_ctx, url, &r, &spec, err);
	if (ret)
		goto out;
	api_vm_spec_free(&v->spec);
	v->spec = spec;
	v->state = API_VM_RUNNING;
	event_locked(v, "vm", "received");
	event_locked(v, "vm", "resumed");
out:
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_cancel_migration(struct api_vmm *v, struct api_err *err)
{
	/* not under the controller's lock: a migration in its hello holds it */
	if (!v->backend->cancel_migration)
		return api_fail(err, -EOPNOTSUPP, "this VMM cannot migrate VMs");
	return v->backend->cancel_migration(v->backend_ctx, err);
}

void api_vmm_exit(struct api_vmm *v, int status)
{
	pthread_mutex_lock(&v->lock);
	event_locked(v, "vmm", "shutdown");
	v->backend->exit_vmm(v->backend_ctx, status);
	pthread_mutex_unlock(&v->lock);
}

int api_vmm_counters(struct api_vmm *v, struct api_counters *out, struct api_err *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&v->lock);
	ret = need_booted(v, err);
	if (!ret)
		v->backend->counters(v->backend_ctx, out);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_set_logger(struct api_vmm *v, const char *path, const char *level, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	/* as Firecracker: the logger and the metrics are set before the start */
	ret = need_configurable(v, err);
	if (!ret)
		ret = api_telemetry_set_logger(&v->tel, path, level, err);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The counters now (zero unless booted); the lock is held. NULL without memory. */
static struct api_counters *counters_locked(struct api_vmm *v)
{
	struct api_counters *c = calloc(1, sizeof(*c));

	if (c && (v->state == API_VM_RUNNING || v->state == API_VM_PAUSED))
		v->backend->counters(v->backend_ctx, c);
	return c;
}

char *api_vmm_metrics_line(struct api_vmm *v)
{
	struct api_counters *c;
	char *s = NULL;

	pthread_mutex_lock(&v->lock);
	c = counters_locked(v);
	if (c)
		s = api_telemetry_metrics_line(c, api_vm_state_fc_name(v->state), now_ms());
	pthread_mutex_unlock(&v->lock);
	free(c);
	return s;
}

static int write_metrics_locked(struct api_vmm *v, struct api_err *err)
{
	struct api_counters *c = counters_locked(v);
	int ret;

	if (!c)
		return api_fail(err, -ENOMEM, "metrics: out of memory");
	ret = api_telemetry_write_metrics(&v->tel, c, api_vm_state_fc_name(v->state), err);
	free(c);
	return ret;
}

static void *metrics_main(void *arg)
{
	struct api_vmm *v = arg;
	struct timespec ts;

	if (sandbox_enter(v->sandbox, SANDBOX_METRICS, "metrics") < 0)
		return NULL; /* no metrics: petrel goes on */
	pthread_mutex_lock(&v->lock);
	while (!v->quit) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += API_METRICS_PERIOD_S;
		while (!v->quit && pthread_cond_timedwait(&v->cond, &v->lock, &ts) != ETIMEDOUT)
			;
		/* the period holds while paused */
		if (!v->quit && v->state == API_VM_RUNNING)
			write_metrics_locked(v, NULL);
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

void api_vmm_set_sandbox(struct api_vmm *v, enum sandbox_mode mode)
{
	pthread_mutex_lock(&v->lock);
	v->sandbox = mode;
	pthread_mutex_unlock(&v->lock);
}

void api_vmm_set_dirty_log(struct api_vmm *v, enum kvm_dirty_mode mode, uint32_t ring_bytes)
{
	pthread_mutex_lock(&v->lock);
	v->dirty_log = mode;
	v->dirty_ring_bytes = ring_bytes;
	pthread_mutex_unlock(&v->lock);
}

int api_vmm_set_metrics(struct api_vmm *v, const char *path, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = need_configurable(v, err);
	if (!ret)
		ret = api_telemetry_open_metrics(&v->tel, path, err);
	if (!ret) {
		ret = pthread_create(&v->metrics_thread, NULL, metrics_main, v);
		if (ret) {
			api_telemetry_destroy(&v->tel);
			api_telemetry_init(&v->tel);
			ret = api_fail(err, -ret, "metrics: cannot start its thread");
		} else {
			v->metrics_thread_on = true;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int api_vmm_flush_metrics(struct api_vmm *v, struct api_err *err)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = write_metrics_locked(v, err);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

unsigned int api_spec_disk_slot(const struct api_vm_spec *s, unsigned int idx)
{
	for (unsigned int i = 0; i < s->nr_drives; i++) {
		if (!s->drives[i].root)
			continue;
		if (i == idx)
			return 0;
		return idx < i ? idx + 1 : idx;
	}
	return idx;
}
