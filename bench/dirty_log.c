// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/dirty-log: finding the pages a guest wrote, KVM's dirty bitmap
 * against its dirty ring, through petrel's own kvm_dirty_log_sync (so the
 * per-slot bitmaps the callers get are part of both). A 64-bit guest writes
 * N pages of a 1 GiB logged slot per round, spread out or contiguous, then
 * leaves with an OUT; petrel syncs the log, counts the pages it got (they
 * must be exactly N) and lets the guest go on. For each workload and mode:
 * the median sync time per round, the median round (guest writing + ring
 * full exits + sync), pages per second of round, and ring-full exits.
 * Where KVM overruns the ring (writes past its end before the vCPU exits)
 * that is reported instead.
 *
 *   dirty-log [ROUNDS [WORKLOAD MODE]]   (indexes: one cell of the table)
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "arch/x86/x86_mode.h"
#include "kvm/kvm.h"
#include "kvm/kvm_vcpu.h"
#include "mem/guest_mem.h"

#define LOW_SIZE (16ULL << 20)	/* code and page tables, not logged */
#define AREA_GPA (256ULL << 20) /* the logged slot the guest writes */
#define AREA_SIZE (1ULL << 30)
#define CODE_GPA 0x100000ULL
#define PAGE 4096ULL

/*
 * start: mov %rbx,%rdi; mov %r12,%rcx
 * 1:     mov %rax,(%rdi); add %rsi,%rdi; dec %rcx; jnz 1b
 *        inc %rax; out %al,$0x80; jmp start
 */
static const uint8_t guest_code[] = {
    0x48, 0x89, 0xdf, /* mov %rbx,%rdi */
    0x4c, 0x89, 0xe1, /* mov %r12,%rcx */
    0x48, 0x89, 0x07, /* mov %rax,(%rdi) */
    0x48, 0x01, 0xf7, /* add %rsi,%rdi */
    0x48, 0xff, 0xc9, /* dec %rcx */
    0x75, 0xf5,	      /* jnz -11 */
    0x48, 0xff, 0xc0, /* inc %rax */
    0xe6, 0x80,	      /* out %al,$0x80 */
    0xeb, 0xe8,	      /* jmp start (-24) */
};

struct workload {
	const char *name;
	uint64_t pages, stride; /* stride in bytes */
};

static const struct workload workloads[] = {
    {"sparse 64 pages over 1 GiB", 64, 16ULL << 20},
    {"sparse 1024 pages over 1 GiB", 1024, 1ULL << 20},
    {"dense 4096 pages (16 MiB)", 4096, PAGE},
    {"dense 16384 pages (64 MiB)", 16384, PAGE},
    {"dense 65536 pages (256 MiB)", 65536, PAGE},
};

struct mode {
	const char *name;
	uint32_t ring_bytes; /* 0: the bitmap */
};

static const struct mode modes[] = {
    {"bitmap", 0},
    {"ring 64K", 64u << 10},
    {"ring 1M", 1u << 20},
};

#define NMODES (sizeof(modes) / sizeof(modes[0]))
#define NWORK (sizeof(workloads) / sizeof(workloads[0]))

struct result {
	double sync_us, round_us, pages_per_s, full_per_round;
	bool exact, ok, overrun, skipped;
};

struct bench {
	struct kvm_sys sys;
	struct kvm_vm vm;
	struct guest_mem mem;
	struct kvm_vcpu vcpu;
	uint64_t counted;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void pio(void *opaque, struct kvm_vcpu *v, uint16_t port, bool in, unsigned int size,
		uint8_t *data)
{
	if (port == 0x80 && !in)
		v->stop_loop = true;
}

static void mmio(void *opaque, struct kvm_vcpu *v, uint64_t addr, bool write, unsigned int len,
		 uint8_t *data)
{
}

static const struct kvm_exit_ops ops = {.pio = pio, .mmio = mmio};

static void count_pages(void *opaque, uint64_t gpa, const unsigned long *bitmap, uint64_t npages)
{
	struct bench *b = opaque;
	uint64_t i;

	for (i = 0; i < (npages + 63) / 64; i++)
		b->counted += (uint64_t)__builtin_popcountl(bitmap[i]);
}

static int set_cpuid(struct bench *b)
{
	struct kvm_cpuid2 *c = NULL;
	unsigned int n = 64;
	int ret = -E2BIG;

	while (ret == -E2BIG && n <= 1024) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		ret = ioctl(b->sys.fd, KVM_GET_SUPPORTED_CPUID, c) < 0 ? -errno : 0;
		n *= 2;
	}
	if (!ret)
		ret = kvm_vcpu_ioctl(&b->vcpu, KVM_SET_CPUID2, c);
	free(c);
	return ret;
}

static int setup(struct bench *b, const struct mode *md, const struct workload *w)
{
	struct kvm_sregs *s;
	struct kvm_regs *r;

	memset(b, 0, sizeof(*b));
	gm_init(&b->mem);
	if (kvm_sys_open(&b->sys, NULL) < 0 || kvm_vm_create(&b->vm, &b->sys) < 0 ||
	    kvm_vm_setup_x86(&b->vm, false) < 0)
		return -1;
	if (md->ring_bytes && kvm_dirty_ring_enable(&b->vm, md->ring_bytes) < 0)
		return -1;
	if (gm_add_region(&b->mem, "low", 0, LOW_SIZE) < 0 ||
	    gm_add_region(&b->mem, "area", AREA_GPA, AREA_SIZE) < 0 ||
	    kvm_mem_add(&b->vm, 0, LOW_SIZE, b->mem.regions[0].hva, false) < 0 ||
	    kvm_mem_add(&b->vm, AREA_GPA, AREA_SIZE, b->mem.regions[1].hva, true) < 0 ||
	    kvm_vcpu_create(&b->vcpu, &b->vm, 0) < 0 || set_cpuid(b) < 0)
		return -1;
	gm_write(&b->mem, CODE_GPA, guest_code, sizeof(guest_code));
	s = kvm_vcpu_sregs(&b->vcpu);
	if (x86_mode_setup_long(&b->mem, s) < 0)
		return -1;
	kvm_vcpu_sregs_dirty(&b->vcpu);
	r = kvm_vcpu_regs(&b->vcpu);
	memset(r, 0, sizeof(*r));
	r->rflags = 2;
	r->rip = CODE_GPA;
	r->rbx = AREA_GPA;
	r->r12 = w->pages;
	r->rsi = w->stride;
	r->rax = 1;
	kvm_vcpu_regs_dirty(&b->vcpu);
	return 0;
}

static void teardown(struct bench *b)
{
	kvm_vcpu_destroy(&b->vcpu);
	kvm_vm_destroy(&b->vm);
	gm_destroy(&b->mem);
	kvm_sys_close(&b->sys);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return v[n / 2];
}

static struct result run_one(const struct mode *md, const struct workload *w, unsigned int rounds)
{
	struct result res = {.exact = true};
	double *sync_us = calloc(rounds, sizeof(double)),
	       *round_us = calloc(rounds, sizeof(double));
	struct bench *b = calloc(1, sizeof(*b));
	uint64_t full0, t0, t1, t2;
	unsigned int i;
	int ret;

	if (!b || !sync_us || !round_us || setup(b, md, w) < 0) {
		fprintf(stderr, "dirty-log: %s, %s: cannot set the guest up\n", md->name, w->name);
		goto out;
	}
	/* logging on for the area only; a first round warms the guest's pages up */
	if (kvm_dirty_log_range(&b->vm, AREA_GPA, AREA_SIZE, true) < 0)
		goto out;
	ret = kvm_vcpu_run(&b->vcpu, &ops, b);
	if (ret == -EOVERFLOW)
		res.overrun = true;
	if (ret != KVM_EV_STOP)
		goto out;
	/* a sync fails only when the ring lost pages */
	if (kvm_dirty_log_sync(&b->vm, count_pages, b) < 0) {
		res.overrun = md->ring_bytes != 0;
		goto out;
	}
	full0 = b->vcpu.stats[KVM_STAT_DIRTY_RING_FULL];
	for (i = 0; i < rounds; i++) {
		int ev;

		t0 = now_ns();
		ev = kvm_vcpu_run(&b->vcpu, &ops, b);
		if (ev == -EOVERFLOW)
			res.overrun = true;
		if (ev != KVM_EV_STOP)
			goto out;
		t1 = now_ns();
		b->counted = 0;
		if (kvm_dirty_log_sync(&b->vm, count_pages, b) < 0) {
			res.overrun = md->ring_bytes != 0;
			goto out;
		}
		t2 = now_ns();
		if (b->counted != w->pages)
			res.exact = false;
		sync_us[i] = (double)(t2 - t1) / 1e3;
		round_us[i] = (double)(t2 - t0) / 1e3;
	}
	res.sync_us = median(sync_us, rounds);
	res.round_us = median(round_us, rounds);
	res.pages_per_s = (double)w->pages / (res.round_us / 1e6);
	res.full_per_round =
	    (double)(b->vcpu.stats[KVM_STAT_DIRTY_RING_FULL] - full0) / (double)rounds;
	res.ok = true;
out:
	if (b)
		teardown(b);
	free(b);
	free(sync_us);
	free(round_us);
	return res;
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 20, wi, mi;
	struct result res[NWORK][NMODES];
	struct kvm_sys sys;

	if (rounds < 1)
		rounds = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (kvm_sys_open(&sys, NULL) < 0)
		return 1;
	if (!kvm_sys_dirty_ring_max(&sys)) {
		fprintf(stderr, "dirty-log: this host's KVM has no dirty ring\n");
		return 1;
	}
	printf("dirty-log: %s, %u rounds per workload, medians; ring up to %u KiB per vCPU%s\n",
	       sys.pvm ? "kvm_pvm" : "hardware KVM", rounds, kvm_sys_dirty_ring_max(&sys) >> 10,
	       sys.caps[KVM_CAPX_DIRTY_LOG_RING_ACQ_REL] > 0 ? " (acquire/release)" : "");
	kvm_sys_close(&sys);
	memset(res, 0, sizeof(res));
	for (wi = 0; wi < NWORK; wi++)
		for (mi = 0; mi < NMODES; mi++) {
			uint64_t t = now_ns();

			if (argc > 3 && (wi != (unsigned int)atoi(argv[2]) ||
					 mi != (unsigned int)atoi(argv[3]))) {
				res[wi][mi].skipped = true;
				continue;
			}

			res[wi][mi] = run_one(&modes[mi], &workloads[wi], rounds);
			fprintf(stderr, "  %s, %s: %.1f s\n", workloads[wi].name, modes[mi].name,
				(double)(now_ns() - t) / 1e9);
		}

	printf("\n%-30s %-9s %11s %11s %13s %9s %6s\n", "workload", "mode", "sync us", "round us",
	       "pages/s", "full/rnd", "exact");
	for (wi = 0; wi < NWORK; wi++) {
		for (mi = 0; mi < NMODES; mi++) {
			const struct result *r = &res[wi][mi];

			if (r->skipped)
				continue;
			if (!r->ok) {
				printf("%-30s %-9s %s\n", workloads[wi].name, modes[mi].name,
				       r->overrun ? "KVM overran the ring: pages lost" : "failed");
				continue;
			}
			printf("%-30s %-9s %11.1f %11.1f %13.0f %9.1f %6s\n", workloads[wi].name,
			       modes[mi].name, r->sync_us, r->round_us, r->pages_per_s,
			       r->full_per_round, r->exact ? "yes" : "NO");
		}
	}
	printf("\nratio ring / bitmap (below 1: the ring wins)\n%-30s %-9s %11s %11s\n", "workload",
	       "ring", "sync", "round");
	for (wi = 0; wi < NWORK; wi++) {
		for (mi = 1; mi < NMODES; mi++) {
			const struct result *r = &res[wi][mi], *bm = &res[wi][0];

			if (!r->ok || !bm->ok)
				continue;
			printf("%-30s %-9s %11.2f %11.2f\n", workloads[wi].name, modes[mi].name + 5,
			       r->sync_us / bm->sync_us, r->round_us / bm->round_us);
		}
	}
	/* an overrun is the host's to answer for, and reported; anything else fails */
	for (wi = 0; wi < NWORK; wi++)
		for (mi = 0; mi < NMODES; mi++)
			if (!res[wi][mi].skipped && !res[wi][mi].overrun &&
			    (!res[wi][mi].ok || !res[wi][mi].exact))
				return 1;
	return 0;
}
