// SPDX-License-Identifier: GPL-2.0-only
#include "debug/guest_debug.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm_debug.h"

#define PAGE 4096ULL
#define INT3 0xcc

int vm_debug_init(struct vm_debug *d, struct machine *m)
{
	memset(d, 0, sizeof(*d));
	d->m = m;
	d->step = calloc(m->nr_vcpus ? m->nr_vcpus : 1, sizeof(bool));
	d->over = calloc(m->nr_vcpus ? m->nr_vcpus : 1, sizeof(bool));
	d->over_gva = calloc(m->nr_vcpus ? m->nr_vcpus : 1, sizeof(uint64_t));
	if (!d->step || !d->over || !d->over_gva) {
		vm_debug_destroy(d);
		return -ENOMEM;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	return 0;
}

void vm_debug_destroy(struct vm_debug *d)
{
	free(d->step);
	free(d->over);
	free(d->over_gva);
	d->step = d->over = NULL;
	d->over_gva = NULL;
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
}

static struct kvm_vcpu *vcpu_of(struct vm_debug *d, unsigned int idx)
{
	return idx < d->m->nr_vcpus ? &d->m->vcpus[idx].kvm : NULL;
}

/* Walk [gva, gva+len) page by page through the vCPU's paging. */
static int gva_access(struct vm_debug *d, unsigned int idx, uint64_t gva, uint8_t *buf,
		      uint64_t len, bool write)
{
	struct kvm_vcpu *v = vcpu_of(d, idx);
	int ret;

	if (!v)
		return -EINVAL;
	while (len) {
		uint64_t gpa, chunk = PAGE - (gva & (PAGE - 1));

		if (chunk > len)
			chunk = len;
		ret = kvm_vcpu_translate(v, gva, &gpa);
		if (ret < 0)
			return -EFAULT;
		ret = write ? gm_write(&d->m->mem, gpa, buf, chunk)
			    : gm_read(&d->m->mem, gpa, buf, chunk);
		if (ret < 0)
			return -EFAULT;
		gva += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static struct vm_sw_bp *sw_find(struct vm_debug *d, uint64_t gva)
{
	unsigned int i;

	for (i = 0; i < d->nr_sw; i++)
		if (d->sw[i].gva == gva)
			return &d->sw[i];
	return NULL;
}

int vm_debug_read(struct vm_debug *d, unsigned int idx, uint64_t gva, void *buf, uint64_t len)
{
	unsigned int i;
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = gva_access(d, idx, gva, buf, len, false);
	/* The debugger sees the guest's bytes, not our int3s. */
	for (i = 0; !ret && i < d->nr_sw; i++)
		if (d->sw[i].gva >= gva && d->sw[i].gva - gva < len)
			((uint8_t *)buf)[d->sw[i].gva - gva] = d->sw[i].orig;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

int vm_debug_write(struct vm_debug *d, unsigned int idx, uint64_t gva, const void *buf,
		   uint64_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	unsigned int i;
	int ret;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	pthread_mutex_lock(&d->lock);
	/* A write over a breakpoint changes the byte it will restore. */
	for (i = 0; i < d->nr_sw; i++) {
		if (d->sw[i].gva >= gva && d->sw[i].gva - gva < len) {
			d->sw[i].orig = copy[d->sw[i].gva - gva];
			copy[d->sw[i].gva - gva] = INT3;
		}
	}
	ret = gva_access(d, idx, gva, copy, len, true);
	pthread_mutex_unlock(&d->lock);
	free(copy);
	return ret;
}

int vm_debug_sw_insert(struct vm_debug *d, unsigned int idx, uint64_t gva)
{
	struct vm_sw_bp *bp;
	uint8_t int3 = INT3;
	uint64_t gpa;
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	bp = sw_find(d, gva);
	if (bp) {
		bp->uses++;
		goto out;
	}
	if (d->nr_sw == VM_DEBUG_MAX_SW_BP) {
		ret = -ENOSPC;
		goto out;
	}
	if (!vcpu_of(d, idx) || kvm_vcpu_translate(vcpu_of(d, idx), gva, &gpa) < 0) {
		ret = -EFAULT;
		goto out;
	}
	bp = &d->sw[d->nr_sw];
	bp->gva = gva;
	bp->gpa = gpa;
	bp->uses = 1;
	if (gm_read(&d->m->mem, gpa, &bp->orig, 1) < 0 || gm_write(&d->m->mem, gpa, &int3, 1) < 0) {
		ret = -EFAULT;
		goto out;
	}
	d->nr_sw++;
out:
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void sw_drop(struct vm_debug *d, struct vm_sw_bp *bp)
{
	gm_write(&d->m->mem, bp->gpa, &bp->orig, 1);
	*bp = d->sw[--d->nr_sw];
}

int vm_debug_sw_remove(struct vm_debug *d, uint64_t gva)
{
	struct vm_sw_bp *bp;
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	bp = sw_find(d, gva);
	if (!bp)
		ret = -ENOENT;
	else if (--bp->uses == 0)
		sw_drop(d, bp);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

bool vm_debug_sw_at(struct vm_debug *d, uint64_t gva)
{
	bool found;

	pthread_mutex_lock(&d->lock);
	found = sw_find(d, gva) != NULL;
	pthread_mutex_unlock(&d->lock);
	return found;
}

int vm_debug_set_hw(struct vm_debug *d, const uint64_t dr[4], uint64_t dr7)
{
	pthread_mutex_lock(&d->lock);
	memcpy(d->dr, dr, sizeof(d->dr));
	d->dr7 = dr7;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void vm_debug_clear_all(struct vm_debug *d)
{
	pthread_mutex_lock(&d->lock);
	while (d->nr_sw)
		sw_drop(d, &d->sw[0]);
	memset(d->dr, 0, sizeof(d->dr));
	d->dr7 = 0;
	memset(d->step, 0, d->m->nr_vcpus * sizeof(bool));
	pthread_mutex_unlock(&d->lock);
}

int vm_debug_apply(struct vm_debug *d)
{
	unsigned int i;

	for (i = 0; i < d->m->nr_vcpus; i++)
		vm_debug_apply_vcpu(d, i);
	return 0;
}

void vm_debug_apply_vcpu(struct vm_debug *d, unsigned int i)
{
	struct kvm_debug_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	pthread_mutex_lock(&d->lock);
	cfg.enable = true;
	cfg.sw_breakpoints = true;
	cfg.single_step = d->step[i] || d->over[i];
	memcpy(cfg.dr, d->dr, sizeof(cfg.dr));
	cfg.dr7 = d->dr7;
	pthread_mutex_unlock(&d->lock);
	kvm_debug_set(&d->m->vcpus[i].kvm, &cfg);
}

void vm_debug_stop_all(struct vm_debug *d)
{
	machine_pause(d->m);
}

/* Current linear RIP of vCPU i (machine paused). */
static uint64_t vcpu_pc(struct vm_debug *d, unsigned int i)
{
	struct kvm_vcpu *v = &d->m->vcpus[i].kvm;

	return kvm_vcpu_sregs(v)->cs.base + kvm_vcpu_regs(v)->rip;
}

void vm_debug_resume(struct vm_debug *d)
{
	unsigned int i;

	pthread_mutex_lock(&d->lock);
	/*
	 * A vCPU sitting on one of our breakpoints executes the original
	 * instruction first: the byte goes back, one step, then int3 again.
	 */
	for (i = 0; i < d->m->nr_vcpus; i++) {
		struct vm_sw_bp *bp = sw_find(d, vcpu_pc(d, i));

		d->over[i] = false;
		if (!bp)
			continue;
		gm_write(&d->m->mem, bp->gpa, &bp->orig, 1);
		d->over[i] = true;
		d->over_gva[i] = bp->gva;
	}
	d->stopped = false;
	d->stop_reason = VM_DEBUG_STOP_NONE;
	pthread_mutex_unlock(&d->lock);
	vm_debug_apply(d);
	machine_resume(d->m);
}

/* DR7 R/W bits of slot i: 00 execute, 01 write, 11 read/write. */
static unsigned int dr7_rw(uint64_t dr7, unsigned int i)
{
	return (unsigned int)(dr7 >> (16 + i * 4)) & 3;
}

/* Record the first stop since the last resume and stop every other vCPU. */
static void record_stop(struct vm_debug *d, unsigned int idx, enum vm_debug_stop_reason why,
			uint64_t addr)
{
	struct machine *m = d->m;
	unsigned int i;
	bool first;

	pthread_mutex_lock(&d->lock);
	first = !d->stopped;
	if (first) {
		d->stopped = true;
		d->stop_vcpu = idx;
		d->stop_reason = why;
		d->stop_addr = addr;
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_lock(&m->lock);
	if (m->state == VM_RUNNING)
		m->pause_requested = true;
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < m->nr_vcpus; i++)
		if (i != idx)
			kvm_vcpu_kick(&m->vcpus[i].kvm);
	if (first && d->on_stop)
		d->on_stop(d->on_stop_opaque);
}

bool vm_debug_handle_exit(struct vm_debug *d, struct vm_vcpu *v)
{
	struct kvm_debug_exit ex;
	unsigned int i, idx = v->kvm.id;

	kvm_debug_exit_info(&v->kvm, &ex);
	if (d->over[idx] && ex.exception == 1 && (ex.dr6 & (1ULL << 14))) {
		struct vm_sw_bp *bp;
		uint8_t int3 = INT3;
		bool user_step;

		pthread_mutex_lock(&d->lock);
		d->over[idx] = false;
		bp = sw_find(d, d->over_gva[idx]);
		if (bp)
			gm_write(&d->m->mem, bp->gpa, &int3, 1);
		user_step = d->step[idx];
		pthread_mutex_unlock(&d->lock);
		if (!user_step) {
			/* stepped over our breakpoint: run on without stopping */
			vm_debug_apply_vcpu(d, idx);
			return true;
		}
		record_stop(d, idx, VM_DEBUG_STOP_STEP, ex.pc);
		return true;
	}
	if (ex.exception == 3) {
		if (!vm_debug_sw_at(d, ex.pc)) {
			/* an int3 of the guest's own: give it back */
			kvm_debug_reinject(&v->kvm, 3);
			return true;
		}
		record_stop(d, idx, VM_DEBUG_STOP_SW_BP, ex.pc);
		return true;
	}
	for (i = 0; i < 4; i++) {
		if (!(ex.dr6 & (1ULL << i)))
			continue;
		if (dr7_rw(d->dr7, i) == 0)
			record_stop(d, idx, VM_DEBUG_STOP_HW_BP, ex.pc);
		else
			record_stop(d, idx, VM_DEBUG_STOP_WATCH, d->dr[i]);
		return true;
	}
	/* DR6.BS: a single step finished */
	record_stop(d, idx, VM_DEBUG_STOP_STEP, ex.pc);
	return true;
}

bool vm_debug_handle_emulation_failure(struct vm_debug *d, struct vm_vcpu *v)
{
	struct kvm_regs *r = kvm_vcpu_regs(&v->kvm);
	struct kvm_sregs *s = kvm_vcpu_sregs(&v->kvm);
	uint64_t rip = s->cs.base + r->rip;

	/*
	 * Software virtualization without an int3 in its emulator fails on our
	 * breakpoints: at an address where we put one, it is a breakpoint hit.
	 */
	if (!vm_debug_sw_at(d, rip))
		return false;
	record_stop(d, v->kvm.id, VM_DEBUG_STOP_SW_BP, rip);
	return true;
}
