// SPDX-License-Identifier: GPL-2.0-only
/* One thread per vCPU: run the guest, dispatch its exits, obey lifecycle requests. */
#include "vm/vcpu_thread.h"

#include "vm/memory_error.h"
#include "vm/sandbox.h"
#include "vm/thread.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void vcpu_pio(void *opaque, struct kvm_vcpu *kv, uint16_t port, bool in, unsigned int size,
		     uint8_t *data)
{
	struct vm_vcpu *v = opaque;
	uint64_t val = 0;

	if (in) {
		bus_read(&v->m->pio, port, size, &val);
		memcpy(data, &val, size);
	} else {
		memcpy(&val, data, size);
		bus_write(&v->m->pio, port, size, val);
	}
}

static void vcpu_mmio(void *opaque, struct kvm_vcpu *kv, uint64_t addr, bool write,
		      unsigned int len, uint8_t *data)
{
	struct vm_vcpu *v = opaque;
	uint64_t val = 0;

	if (write) {
		memcpy(&val, data, len);
		bus_write(&v->m->mmio, addr, len, val);
	} else {
		bus_read(&v->m->mmio, addr, len, &val);
		memcpy(data, &val, len);
	}
}

static const struct kvm_exit_ops vcpu_exit_ops = {
    .pio = vcpu_pio,
    .mmio = vcpu_mmio,
};

/* Block here while the machine is paused; true when the thread must end. */
static bool vcpu_check_requests(struct vm_vcpu *v)
{
	struct machine *m = v->m;
	bool stop;

	pthread_mutex_lock(&m->lock);
	while (m->state == VM_PAUSED || (m->pause_requested && m->state == VM_RUNNING) ||
	       (v->held && m->state != VM_STOPPING)) {
		if (!v->paused && v->kvm.exit_unfinished) {
			/*
			 * Stopped right after an I/O or MMIO exit: KVM finishes that
			 * instruction before anyone reads or saves this vCPU.
			 */
			pthread_mutex_unlock(&m->lock);
			if (kvm_vcpu_settle(&v->kvm) < 0) {
				fprintf(stderr, "petrel: vCPU %u: finishing its last I/O: failed\n",
					v->kvm.id);
				v->kvm.exit_unfinished = false;
			}
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if (!v->paused) {
			v->paused = true;
			pthread_cond_broadcast(&m->cond);
		}
		pthread_cond_wait(&m->cond, &m->lock);
	}
	v->paused = false;
	stop = m->state == VM_STOPPING;
	pthread_mutex_unlock(&m->lock);
	return stop;
}

/* HLT without an in-kernel irqchip: nothing can wake us but the machine. */
static void vcpu_halt(struct vm_vcpu *v)
{
	struct machine *m = v->m;
	unsigned int i, halted = 0;

	pthread_mutex_lock(&m->lock);
	v->halted = true;
	for (i = 0; i < m->nr_vcpus; i++)
		halted += m->vcpus[i].halted;
	pthread_mutex_unlock(&m->lock);
	if (halted == m->nr_vcpus) {
		fprintf(stderr, "petrel: all vCPUs halted with no interrupt source: stopping\n");
		machine_request_stop(m, VM_EXIT_POWEROFF);
		return;
	}
	pthread_mutex_lock(&m->lock);
	while (m->state != VM_STOPPING)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
}

static void vcpu_system_event(struct vm_vcpu *v)
{
	struct kvm_run *run = v->kvm.run;

	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		machine_request_stop(v->m, VM_EXIT_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		machine_request_reset(v->m);
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		fprintf(stderr, "petrel: vCPU %u: guest reported a crash\n", v->kvm.id);
		machine_request_stop(v->m, VM_EXIT_PANIC);
		break;
	default:
		fprintf(stderr, "petrel: vCPU %u: system event %u ignored\n", v->kvm.id,
			run->system_event.type);
		break;
	}
}

static void vcpu_fatal(struct vm_vcpu *v, int status)
{
	kvm_vcpu_describe_exit(&v->kvm, stderr);
	kvm_vcpu_dump(&v->kvm, stderr);
	machine_request_stop(v->m, status);
}

static void *vcpu_thread_main(void *arg)
{
	struct vm_vcpu *v = arg;
	struct machine *m = v->m;
	char name[16];
	sigset_t set;
	int ev;

	/* the filter is in place before the guest runs a single instruction */
	snprintf(name, sizeof(name), "vcpu%u", v->kvm.id);
	if (sandbox_enter_vcpu(m->cfg.sandbox,
			       m->cfg.test_device ? SANDBOX_VCPU_TEST : SANDBOX_VCPU, name,
			       v->kvm.fd) < 0) {
		machine_request_stop(m, VM_EXIT_ERROR);
		return NULL;
	}
	sigemptyset(&set);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/*
	 * Kicks reach this thread from now on. A pause that came before counted
	 * us as stopped, so the first check of requests below must see it: that
	 * check and the flag telling pausers to wait for us share the lock.
	 */
	v->kvm.thread = pthread_self();
	__atomic_store_n(&v->kvm.thread_valid, true, __ATOMIC_RELEASE);
	pthread_mutex_lock(&m->lock);
	v->entered = true;
	pthread_mutex_unlock(&m->lock);

	while (!vcpu_check_requests(v)) {
		vm_memerr_inject_queued(v);
		ev = kvm_vcpu_run(&v->kvm, &vcpu_exit_ops, v);
		if (ev < 0) {
			machine_request_stop(m, VM_EXIT_ERROR);
			break;
		}
		switch (ev) {
		case KVM_EV_KICKED:
		case KVM_EV_STOP:
			break;
		case KVM_EV_MEMORY_ERROR:
			vm_memerr_on_vcpu(v);
			break;
		case KVM_EV_HLT:
			vcpu_halt(v);
			break;
		case KVM_EV_SHUTDOWN:
			fprintf(stderr, "petrel: vCPU %u: triple fault\n", v->kvm.id);
			kvm_vcpu_dump(&v->kvm, stderr);
			machine_request_stop(m, VM_EXIT_TRIPLE_FAULT);
			break;
		case KVM_EV_SYSTEM_EVENT:
			vcpu_system_event(v);
			break;
		case KVM_EV_INTERNAL_ERROR:
			if (m->debug_hooks &&
			    v->kvm.run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
			    m->debug_hooks->emulation_failure(m->debug, v))
				break;
			vcpu_fatal(v, VM_EXIT_INTERNAL_ERROR);
			break;
		case KVM_EV_FAIL_ENTRY:
			vcpu_fatal(v, VM_EXIT_INTERNAL_ERROR);
			break;
		case KVM_EV_DEBUG:
			if (m->debug_hooks && m->debug_hooks->debug_exit(m->debug, v))
				break;
			fprintf(stderr, "petrel: vCPU %u: debug exit with no debugger attached\n",
				v->kvm.id);
			vcpu_fatal(v, VM_EXIT_INTERNAL_ERROR);
			break;
		default:
			fprintf(stderr, "petrel: vCPU %u: unhandled exit\n", v->kvm.id);
			vcpu_fatal(v, VM_EXIT_INTERNAL_ERROR);
			break;
		}
	}
	return NULL;
}

int vcpu_thread_start(struct vm_vcpu *v)
{
	char name[16];
	int ret;

	snprintf(name, sizeof(name), "vcpu%u", v->kvm.id);
	ret = vm_thread_start(&v->thread, vcpu_thread_main, v, name);
	if (ret < 0) {
		fprintf(stderr, "petrel: starting vCPU %u thread: %s\n", v->kvm.id, strerror(-ret));
		return ret;
	}
	v->started = true;
	return 0;
}

void vcpu_thread_join(struct vm_vcpu *v)
{
	if (!v->started)
		return;
	pthread_join(v->thread, NULL);
	v->started = false;
	v->entered = false;
	v->kvm.thread_valid = false;
}
