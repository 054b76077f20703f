// SPDX-License-Identifier: GPL-2.0-only
/* vCPU handles, the register cache, kicks and diagnostics. */
#include "kvm/kvm_vcpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static void kick_handler(int sig)
{
	(void)sig;
}

int kvm_vcpu_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must return EINTR. */
	if (sigaction(KVM_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int kvm_vcpu_ioctl(struct kvm_vcpu *v, unsigned long req, void *arg)
{
	int ret = ioctl(v->fd, req, arg);

	return ret < 0 ? -errno : ret;
}

int kvm_vcpu_set_cpuid(struct kvm_vcpu *v, const struct kvm_cpuid2 *cpuid)
{
	unsigned int n = cpuid->nent + 16;
	struct kvm_cpuid2 *copy;
	int ret = kvm_vcpu_ioctl(v, KVM_SET_CPUID2, (void *)cpuid);

	if (ret < 0)
		return ret;
	/* as KVM keeps it (it adjusts some bits), read back while the vCPU is not running */
	copy = calloc(1, sizeof(*copy) + n * sizeof(copy->entries[0]));
	if (copy) {
		copy->nent = n;
		if (kvm_vcpu_ioctl(v, KVM_GET_CPUID2, copy) < 0) {
			free(copy);
			copy = NULL;
		}
	}
	free(v->cpuid);
	v->cpuid = copy;
	return ret;
}

int kvm_vcpu_create(struct kvm_vcpu *v, struct kvm_vm *vm, unsigned int id)
{
	struct kvm_sys *sys = vm->sys;
	int ret;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: KVM_CREATE_VCPU %u: %s\n", id, strerror(-ret));
		return ret;
	}
	v->run_size = (size_t)sys->run_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		fprintf(stderr, "petrel: mapping kvm_run of vCPU %u: %s\n", id, strerror(-ret));
		close(v->fd);
		v->fd = -1;
		return ret;
	}
	/* The coalesced ring lives in every vCPU's mapping; take the first. */
	if (sys->caps[KVM_CAPX_COALESCED_MMIO] > 0 && !vm->coalesced_ring &&
	    (size_t)sys->caps[KVM_CAPX_COALESCED_MMIO] * (size_t)getpagesize() < v->run_size)
		vm->coalesced_ring =
			(void *)((uint8_t *)v->run +
				 (size_t)sys->caps[KVM_CAPX_COALESCED_MMIO] * (size_t)getpagesize());
	ret = kvm_dirty_ring_vcpu_add(vm, v);
	if (ret < 0) {
		munmap(v->run, v->run_size);
		v->run = NULL;
		close(v->fd);
		v->fd = -1;
		return ret;
	}
	return 0;
}

void kvm_vcpu_destroy(struct kvm_vcpu *v)
{
	if (v->vm)
		kvm_dirty_ring_vcpu_remove(v->vm, v);
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
	free(v->cpuid);
	v->cpuid = NULL;
}

struct kvm_regs *kvm_vcpu_regs(struct kvm_vcpu *v)
{
	if (!v->regs_valid) {
		if (kvm_vcpu_ioctl(v, KVM_GET_REGS, &v->regs) < 0)
			memset(&v->regs, 0, sizeof(v->regs));
		v->regs_valid = true;
	}
	return &v->regs;
}

struct kvm_sregs *kvm_vcpu_sregs(struct kvm_vcpu *v)
{
	if (!v->sregs_valid) {
		if (kvm_vcpu_ioctl(v, KVM_GET_SREGS, &v->sregs) < 0)
			memset(&v->sregs, 0, sizeof(v->sregs));
		v->sregs_valid = true;
	}
	return &v->sregs;
}

void kvm_vcpu_regs_dirty(struct kvm_vcpu *v)
{
	kvm_vcpu_regs(v);
	v->regs_dirty = true;
}

void kvm_vcpu_sregs_dirty(struct kvm_vcpu *v)
{
	kvm_vcpu_sregs(v);
	v->sregs_dirty = true;
}

int kvm_vcpu_regs_flush(struct kvm_vcpu *v)
{
	int ret;

	if (v->sregs_dirty) {
		ret = kvm_vcpu_ioctl(v, KVM_SET_SREGS, &v->sregs);
		if (ret < 0)
			return ret;
		v->sregs_dirty = false;
	}
	if (v->regs_dirty) {
		ret = kvm_vcpu_ioctl(v, KVM_SET_REGS, &v->regs);
		if (ret < 0)
			return ret;
		v->regs_dirty = false;
	}
	return 0;
}

void kvm_vcpu_regs_invalidate(struct kvm_vcpu *v)
{
	v->regs_valid = v->sregs_valid = false;
	v->regs_dirty = v->sregs_dirty = false;
}

void kvm_vcpu_kick(struct kvm_vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->thread_valid, __ATOMIC_ACQUIRE))
		pthread_kill(v->thread, KVM_KICK_SIGNAL);
}

int kvm_vcpu_kvmclock_ctrl(struct kvm_vcpu *v)
{
	int ret = ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0);

	return ret < 0 ? -errno : 0;
}

bool kvm_vcpu_has_kvmclock_ctrl(const struct kvm_vcpu *v)
{
	return v->vm && v->vm->sys && v->vm->sys->caps[KVM_CAPX_KVMCLOCK_CTRL] > 0;
}

int kvm_vcpu_translate(struct kvm_vcpu *v, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = {.linear_address = gva};
	int ret = kvm_vcpu_ioctl(v, KVM_TRANSLATE, &tr);

	if (ret < 0)
		return ret;
	if (!tr.valid)
		return -EFAULT;
	*gpa = tr.physical_address;
	return 0;
}

static const char *const stat_names[KVM_STAT_COUNT] = {
	[KVM_STAT_IO] = "io",
	[KVM_STAT_MMIO] = "mmio",
	[KVM_STAT_HLT] = "hlt",
	[KVM_STAT_SHUTDOWN] = "shutdown",
	[KVM_STAT_FAIL_ENTRY] = "fail_entry",
	[KVM_STAT_INTERNAL_ERROR] = "internal_error",
	[KVM_STAT_SYSTEM_EVENT] = "system_event",
	[KVM_STAT_DEBUG] = "debug",
	[KVM_STAT_INTR] = "intr",
	[KVM_STAT_IRQ_WINDOW] = "irq_window",
	[KVM_STAT_DIRTY_RING_FULL] = "dirty_ring_full",
	[KVM_STAT_UNKNOWN] = "unknown",
};

const char *kvm_exit_stat_name(enum kvm_exit_stat s)
{
	return s < KVM_STAT_COUNT ? stat_names[s] : "?";
}

static void dump_seg(FILE *out, const char *name, const struct kvm_segment *s)
{
	fprintf(out, "%-3s sel=%04x base=%016llx limit=%08x type=%x dpl=%u db=%u l=%u p=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->db,
		s->l, s->present);
}

void kvm_vcpu_dump(struct kvm_vcpu *v, FILE *out)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint64_t gpa;
	void *hva;
	int i;

	if (kvm_vcpu_ioctl(v, KVM_GET_REGS, &r) < 0 || kvm_vcpu_ioctl(v, KVM_GET_SREGS, &s) < 0) {
		fprintf(out, "vCPU %u: registers unavailable\n", v->id);
		return;
	}
	fprintf(out, "vCPU %u registers:\n", v->id);
	fprintf(out, "rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", r.rax, r.rbx, r.rcx,
		r.rdx);
	fprintf(out, "rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n", r.rsi, r.rdi, r.rbp,
		r.rsp);
	fprintf(out, "r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n", r.r8, r.r9, r.r10,
		r.r11);
	fprintf(out, "r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n", r.r12, r.r13, r.r14,
		r.r15);
	fprintf(out, "rip=%016llx rflags=%016llx\n", r.rip, r.rflags);
	dump_seg(out, "cs", &s.cs);
	dump_seg(out, "ds", &s.ds);
	dump_seg(out, "ss", &s.ss);
	fprintf(out, "cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n", s.cr0,
		s.cr2, s.cr3, s.cr4, s.efer);
	fprintf(out, "code at rip:");
	if (kvm_vcpu_translate(v, s.cs.base + r.rip, &gpa) == 0 &&
	    kvm_mem_gpa_to_hva(v->vm, gpa, &hva) == 0) {
		const struct kvm_slot *slot = kvm_slots_find_gpa(&v->vm->slots, gpa);
		uint64_t avail = slot ? slot->gpa + slot->size - gpa : 0;

		for (i = 0; i < 16 && (uint64_t)i < avail; i++)
			fprintf(out, " %02x", ((uint8_t *)hva)[i]);
		fprintf(out, "\n");
	} else {
		fprintf(out, " (not mapped)\n");
	}
}

void kvm_vcpu_describe_exit(struct kvm_vcpu *v, FILE *out)
{
	struct kvm_run *run = v->run;
	uint32_t i;

	switch (run->exit_reason) {
	case KVM_EXIT_INTERNAL_ERROR:
		fprintf(out, "vCPU %u: KVM internal error, suberror %u (%s)", v->id,
			run->internal.suberror,
			run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? "emulation failure"
			: run->internal.suberror == KVM_INTERNAL_ERROR_SIMUL_EX
				? "simultaneous exceptions"
			: run->internal.suberror == KVM_INTERNAL_ERROR_DELIVERY_EV
				? "event delivery"
				: "other");
		for (i = 0; i < run->internal.ndata && i < 16; i++)
			fprintf(out, " data[%u]=0x%llx", i, (unsigned long long)run->internal.data[i]);
		fprintf(out, "\n");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(out, "vCPU %u: VM entry failed, hardware reason 0x%llx on cpu %u\n", v->id,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.cpu);
		break;
	case KVM_EXIT_SHUTDOWN:
		fprintf(out, "vCPU %u: shutdown (triple fault)\n", v->id);
		break;
	default:
		fprintf(out, "vCPU %u: exit reason %u\n", v->id, run->exit_reason);
		break;
	}
}
