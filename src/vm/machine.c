// SPDX-License-Identifier: GPL-2.0-only
/* Machine assembly and lifecycle: configuration in, a wired VM out. */
#include "vm/machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "kvm/kvm_dirty_gfn.h"
#include "vm/boot.h"
#include "vm/devices.h"
#include "vm/platform_kvm.h"
#include "vm/sandbox.h"
#include "vm/testdev.h"
#include "vm/thread.h"
#include "vm/vcpu_thread.h"

/* Writes KVM queued in the coalesced ring, replayed in order. */
static void machine_coalesced_write(void *opaque, uint64_t addr, const void *data, uint32_t len,
				    bool pio)
{
	struct machine *m = opaque;
	uint64_t val = 0;

	memcpy(&val, data, len > 8 ? 8 : len);
	bus_write(pio ? &m->pio : &m->mmio, addr, len, val);
}

/* Guest RAM: below the 32-bit hole, and the rest above 4 GiB. */
static int machine_add_ram(struct machine *m)
{
	uint64_t low =
	    m->cfg.mem_size < X86_MMIO_HOLE_START ? m->cfg.mem_size : X86_MMIO_HOLE_START;
	uint64_t high = m->cfg.mem_size - low;
	unsigned int i;
	int fd, ret;

	if (m->cfg.restore_mem) {
		/* its size was checked against the snapshot's; a shorter file fails below */
		fd = open(m->cfg.restore_mem, O_RDONLY | O_CLOEXEC);
		ret = fd < 0 ? -errno : gm_use_file(&m->mem, fd);
		if (ret < 0) {
			fprintf(stderr, "petrel: memory file %s: %s\n", m->cfg.restore_mem,
				strerror(-ret));
			if (fd >= 0)
				close(fd);
			return ret;
		}
	} else if (m->cfg.has_mem_fd) {
		fd = fcntl(m->cfg.mem_fd, F_DUPFD_CLOEXEC, 0);
		ret = fd < 0 ? -errno : gm_use_shared_file(&m->mem, fd);
		if (ret < 0) {
			fprintf(stderr, "petrel: the source's guest memory: %s\n", strerror(-ret));
			if (fd >= 0)
				close(fd);
			return ret;
		}
	} else if (m->cfg.mem_shared) {
		m->mem.shared = true;
	}
	ret = gm_add_region(&m->mem, "ram-low", 0, low);
	if (ret >= 0 && high)
		ret = gm_add_region(&m->mem, "ram-high", X86_4G, high);
	if (ret < 0) {
		fprintf(stderr, "petrel: allocating %llu MiB of guest memory: %s\n",
			(unsigned long long)(m->cfg.mem_size >> 20), strerror(-ret));
		return ret;
	}
	for (i = 0; i < m->mem.nr_regions; i++) {
		const struct gm_region *r = &m->mem.regions[i];

		ret = kvm_mem_add(&m->vm, r->gpa, r->size, r->hva, false);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int machine_create_vcpus(struct machine *m)
{
	unsigned int i;
	int ret;

	m->vcpus = calloc(m->cfg.cpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return -ENOMEM;
	for (i = 0; i < m->cfg.cpus; i++) {
		m->vcpus[i].m = m;
		ret = kvm_vcpu_create(&m->vcpus[i].kvm, &m->vm, i);
		if (ret < 0)
			return ret;
		m->nr_vcpus++;
		ret = vm_boot_setup_vcpu(m, &m->vcpus[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The ring before any vCPU exists: KVM takes it only then. */
static int machine_enable_dirty_ring(struct machine *m)
{
	uint32_t bytes =
	    m->cfg.dirty_ring_bytes ? m->cfg.dirty_ring_bytes : KVM_DIRTY_RING_DEFAULT_BYTES;
	uint32_t max = kvm_sys_dirty_ring_max(&m->sys);
	int ret;

	if (!max) {
		fprintf(stderr, "petrel: --dirty-log ring: this host's KVM has no dirty ring "
				"(KVM_CAP_DIRTY_LOG_RING); use --dirty-log bitmap\n");
		return -EOPNOTSUPP;
	}
	ret = kvm_dirty_ring_check_size(bytes, max);
	if (ret < 0) {
		fprintf(stderr,
			"petrel: --dirty-ring-size %u: this host takes a power of two from 4K to "
			"%uK\n",
			bytes, max >> 10);
		return ret;
	}
	return kvm_dirty_ring_enable(&m->vm, bytes);
}

int machine_create(struct machine *m, const struct vm_config *cfg)
{
	int limit, ret;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->stop_efd = -1;
	m->vm.fd = -1;
	m->sys.fd = -1;
	gm_init(&m->mem);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	vm_memerr_init(&m->memerr);
	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");

	ret = kvm_sys_open(&m->sys, cfg->kvm_path);
	if (ret < 0)
		goto fail;
	limit = kvm_sys_vcpu_limit(&m->sys);
	if (cfg->cpus > (unsigned int)limit || cfg->cpus > VM_MAX_VCPUS) {
		fprintf(stderr,
			"petrel: --cpus %u is more than this host's KVM allows (maximum %d, "
			"recommended %d)\n",
			cfg->cpus, limit < VM_MAX_VCPUS ? limit : VM_MAX_VCPUS, m->sys.nr_vcpus);
		ret = -EINVAL;
		goto fail;
	}
	if (m->sys.pvm && cfg->boot == VM_BOOT_KERNEL)
		fprintf(stderr, "petrel: warning: /dev/kvm is kvm_pvm (no VT-x/AMD-V): guest "
				"kernel code will be emulated and slow\n");
	m->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->stop_efd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = kvm_vm_create(&m->vm, &m->sys);
	if (ret < 0)
		goto fail;
	if (cfg->dirty_log == KVM_DIRTY_LOG_RING) {
		ret = machine_enable_dirty_ring(m);
		if (ret < 0)
			goto fail;
	}
	ret = kvm_vm_setup_x86(&m->vm, cfg->boot == VM_BOOT_KERNEL || cfg->irqchip);
	if (ret < 0)
		goto fail;
	m->vm.coalesced_write = machine_coalesced_write;
	m->vm.coalesced_opaque = m;
	ret = machine_add_ram(m);
	if (ret < 0)
		goto fail;
	if (cfg->track_dirty) {
		ret = kvm_dirty_log_global(&m->vm, true);
		if (ret < 0) {
			fprintf(stderr, "petrel: turning on dirty page tracking: %s\n",
				strerror(-ret));
			goto fail;
		}
	}
	platform_kvm_init(m);
	ret = vm_devices_create(m);
	if (ret < 0)
		goto fail;
	if (cfg->test_device) {
		ret = vm_testdev_create(m);
		if (ret < 0)
			goto fail;
	}
	/* a restored machine's RAM already holds its guest; a migrated one's comes next */
	ret = cfg->restore_mem || cfg->incoming ? 0 : vm_boot_load(m);
	if (ret < 0)
		goto fail;
	ret = machine_create_vcpus(m);
	if (ret < 0)
		goto fail;
	return 0;
fail:
	machine_destroy(m);
	return ret;
}

void machine_destroy(struct machine *m)
{
	unsigned int i;

	for (i = 0; i < m->nr_vcpus; i++)
		kvm_vcpu_destroy(&m->vcpus[i].kvm);
	free(m->vcpus);
	m->vcpus = NULL;
	m->nr_vcpus = 0;
	vm_testdev_destroy(m);
	vm_devices_destroy(m);
	if (m->vm.fd >= 0)
		kvm_vm_destroy(&m->vm);
	gm_destroy(&m->mem);
	kvm_sys_close(&m->sys);
	bus_destroy(&m->pio);
	bus_destroy(&m->mmio);
	if (m->stop_efd >= 0)
		close(m->stop_efd);
	m->stop_efd = -1;
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	vm_memerr_destroy(&m->memerr);
}

static void kick_all(struct machine *m)
{
	unsigned int i;

	for (i = 0; i < m->nr_vcpus; i++)
		kvm_vcpu_kick(&m->vcpus[i].kvm);
}

void machine_request_stop(struct machine *m, int status)
{
	uint64_t one = 1;
	bool first;

	pthread_mutex_lock(&m->lock);
	first = m->state != VM_STOPPING;
	if (first) {
		m->state = VM_STOPPING;
		/* after a panic, the guest's poweroff, reset or triple fault is the panic's end */
		m->exit_status =
		    m->panicked && (status == VM_EXIT_POWEROFF || status == VM_EXIT_REBOOT ||
				    status == VM_EXIT_TRIPLE_FAULT)
			? VM_EXIT_PANIC
			: status;
	}
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	if (!first)
		return;
	kick_all(m);
	if (write(m->stop_efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow from one write; nothing to do */
	}
}

void machine_report_panic(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	m->panicked = true;
	pthread_mutex_unlock(&m->lock);
}

void machine_request_reset(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->state != VM_STOPPING && !m->panicked)
		m->reset_requested = true;
	pthread_mutex_unlock(&m->lock);
	machine_request_stop(m, VM_EXIT_REBOOT);
}

int machine_pause_timeout(struct machine *m, int timeout_ms)
{
	struct timespec deadline;
	unsigned int i, paused;
	int ret = 0;

	deadline = vm_deadline_after_ms(timeout_ms);
	pthread_mutex_lock(&m->lock);
	if (m->state != VM_RUNNING) {
		pthread_mutex_unlock(&m->lock);
		return m->state == VM_PAUSED ? 0 : -ESRCH;
	}
	m->pause_requested = true;
	pthread_mutex_unlock(&m->lock);
	kick_all(m);
	pthread_mutex_lock(&m->lock);
	for (;;) {
		paused = 0;
		for (i = 0; i < m->nr_vcpus; i++)
			paused += m->vcpus[i].paused || m->vcpus[i].halted || !m->vcpus[i].entered;
		if (paused == m->nr_vcpus || m->state == VM_STOPPING)
			break;
		if (timeout_ms < 0) {
			pthread_cond_wait(&m->cond, &m->lock);
		} else if (pthread_cond_timedwait(&m->cond, &m->lock, &deadline) == ETIMEDOUT) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	if (m->state == VM_RUNNING && !ret)
		m->state = VM_PAUSED;
	else if (m->state == VM_STOPPING && !ret)
		ret = -ESRCH;
	m->pause_requested = false;
	/* a pause that did not complete lets the vCPUs that stopped go on */
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void machine_pause(struct machine *m)
{
	machine_pause_timeout(m, -1);
}

void machine_resume(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->state == VM_PAUSED)
		m->state = VM_RUNNING;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/*
 * The I/O thread: the event loop, under its own filter (the thread that
 * builds machines keeps the rights to build them, and touches no guest data).
 */
static void *machine_io_thread(void *arg)
{
	struct machine *m = arg;

	if (sandbox_enter(m->cfg.sandbox, SANDBOX_IO, "io") < 0)
		machine_request_stop(m, VM_EXIT_ERROR);
	else
		vm_devices_event_loop(m);
	return NULL;
}

int machine_run(struct machine *m)
{
	pthread_t io;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < m->nr_vcpus && !ret; i++)
		ret = vcpu_thread_start(&m->vcpus[i]);
	if (!ret) {
		ret = vm_thread_start(&io, machine_io_thread, m, "io");
		if (ret < 0)
			fprintf(stderr, "petrel: starting the I/O thread: %s\n", strerror(-ret));
	}
	if (ret < 0)
		machine_request_stop(m, VM_EXIT_ERROR);
	else
		pthread_join(io, NULL);
	/* The loop returns once the machine stops: collect the vCPUs. */
	machine_request_stop(m, VM_EXIT_ERROR);
	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_thread_join(&m->vcpus[i]);
	vm_devices_flush(m);
	if (m->cfg.stats) {
		machine_print_stats(m, stderr);
		vm_devices_print_stats(m, stderr);
	}
	return m->exit_status;
}

void machine_print_stats(struct machine *m, FILE *out)
{
	unsigned int i, s;

	fprintf(out, "petrel: exits by reason\n%-8s", "vcpu");
	for (s = 0; s < KVM_STAT_COUNT; s++)
		fprintf(out, " %14s", kvm_exit_stat_name(s));
	fprintf(out, "\n");
	for (i = 0; i < m->nr_vcpus; i++) {
		fprintf(out, "%-8u", i);
		for (s = 0; s < KVM_STAT_COUNT; s++)
			fprintf(out, " %14llu", (unsigned long long)m->vcpus[i].kvm.stats[s]);
		fprintf(out, "\n");
	}
	/* Where each vCPU stopped (the threads have ended: their state is ours). */
	for (i = 0; i < m->nr_vcpus; i++) {
		struct kvm_regs *r = kvm_vcpu_regs(&m->vcpus[i].kvm);

		if (r)
			fprintf(out, "petrel: vcpu %u stopped at rip 0x%llx rsp 0x%llx\n", i,
				(unsigned long long)r->rip, (unsigned long long)r->rsp);
	}
	fprintf(out, "petrel: unclaimed pio reads %llu writes %llu, mmio reads %llu writes %llu\n",
		(unsigned long long)m->pio.unclaimed_reads,
		(unsigned long long)m->pio.unclaimed_writes,
		(unsigned long long)m->mmio.unclaimed_reads,
		(unsigned long long)m->mmio.unclaimed_writes);
}
