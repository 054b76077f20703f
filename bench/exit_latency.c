// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/exit-latency: the round trip of a port-I/O exit through petrel's run
 * loop (kvm_vcpu_run dispatching to a device on the port bus) against a bare
 * KVM_RUN loop, on the same guest in the same run. The guest is two
 * instructions: out %al, $0x80; jmp back. Reports the median time between
 * consecutive exits of each and their ratio.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "kvm/kvm.h"
#include "kvm/kvm_vcpu.h"
#include "mem/guest_mem.h"

#define EXITS 50000
#define ROUNDS 5

static const uint8_t guest_code[] = {0xe6, 0x80, 0xeb, 0xfc}; /* out %al,$0x80; jmp -4 */

struct bench {
	struct kvm_sys sys;
	struct kvm_vm vm;
	struct guest_mem mem;
	struct kvm_vcpu vcpu;
	struct bus pio;
	uint64_t *stamps;
	unsigned int n;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void reset_vcpu(struct bench *b)
{
	struct kvm_sregs *s = kvm_vcpu_sregs(&b->vcpu);
	struct kvm_regs *r = kvm_vcpu_regs(&b->vcpu);

	s->cs.base = 0;
	s->cs.selector = 0;
	memset(r, 0, sizeof(*r));
	r->rflags = 2;
	r->rip = 0x1000;
	kvm_vcpu_sregs_dirty(&b->vcpu);
	kvm_vcpu_regs_dirty(&b->vcpu);
	kvm_vcpu_regs_flush(&b->vcpu);
}

static void port80_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct bench *b = opaque;

	if (b->n < EXITS)
		b->stamps[b->n++] = now_ns();
	if (b->n == EXITS)
		b->vcpu.stop_loop = true;
}

static const struct bus_ops port80_ops = {.write = port80_write};

static void pio_dispatch(void *opaque, struct kvm_vcpu *v, uint16_t port, bool in,
			 unsigned int size, uint8_t *data)
{
	struct bench *b = opaque;
	uint64_t val = 0;

	if (in) {
		bus_read(&b->pio, port, size, &val);
		memcpy(data, &val, size);
	} else {
		memcpy(&val, data, size);
		bus_write(&b->pio, port, size, val);
	}
}

static void mmio_dispatch(void *opaque, struct kvm_vcpu *v, uint64_t addr, bool write,
			  unsigned int len, uint8_t *data)
{
}

static const struct kvm_exit_ops ops = {.pio = pio_dispatch, .mmio = mmio_dispatch};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median gap between consecutive exits, skipping the first (warm-up) tenth. */
static double median_gap(uint64_t *stamps, unsigned int n)
{
	unsigned int skip = n / 10, i, m = 0;
	uint64_t *gaps = malloc(n * sizeof(*gaps));
	double med;

	for (i = skip + 1; i < n; i++)
		gaps[m++] = stamps[i] - stamps[i - 1];
	qsort(gaps, m, sizeof(*gaps), cmp_u64);
	med = (double)gaps[m / 2];
	free(gaps);
	return med;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_d(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

static double run_bare(struct bench *b)
{
	struct kvm_run *run = b->vcpu.run;
	unsigned int n = 0;

	reset_vcpu(b);
	while (n < EXITS) {
		if (ioctl(b->vcpu.fd, KVM_RUN, 0) < 0) {
			perror("KVM_RUN");
			exit(1);
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "bare loop: unexpected exit %u\n", run->exit_reason);
			exit(1);
		}
		b->stamps[n++] = now_ns();
	}
	return median_gap(b->stamps, n);
}

static double run_petrel(struct bench *b)
{
	int ev;

	reset_vcpu(b);
	b->n = 0;
	ev = kvm_vcpu_run(&b->vcpu, &ops, b);
	if (ev != KVM_EV_STOP) {
		fprintf(stderr, "petrel loop: unexpected event %d\n", ev);
		exit(1);
	}
	return median_gap(b->stamps, b->n);
}

int main(void)
{
	struct bench b;
	double bare[ROUNDS], pet[ROUNDS], bm, pm;
	int i;

	memset(&b, 0, sizeof(b));
	b.stamps = calloc(EXITS, sizeof(uint64_t));
	gm_init(&b.mem);
	bus_init(&b.pio, "pio");
	if (kvm_sys_open(&b.sys, NULL) < 0 || kvm_vm_create(&b.vm, &b.sys) < 0 ||
	    kvm_vm_setup_x86(&b.vm, false) < 0 || gm_add_region(&b.mem, "ram", 0, 1 << 20) < 0 ||
	    kvm_mem_add(&b.vm, 0, 1 << 20, b.mem.regions[0].hva, false) < 0 ||
	    kvm_vcpu_create(&b.vcpu, &b.vm, 0) < 0 ||
	    bus_register(&b.pio, 0x80, 1, &port80_ops, &b, "port80") < 0) {
		fprintf(stderr, "exit-latency: cannot set up a VM\n");
		return 1;
	}
	gm_write(&b.mem, 0x1000, guest_code, sizeof(guest_code));
	for (i = 0; i < ROUNDS; i++) {
		bare[i] = run_bare(&b);
		pet[i] = run_petrel(&b);
	}
	bm = median_d(bare, ROUNDS);
	pm = median_d(pet, ROUNDS);
	printf("exit-latency: port-I/O exit round trip, median of %d rounds x %d exits\n", ROUNDS,
	       EXITS);
	printf("| loop | median ns/exit | ratio |\n|---|---|---|\n");
	printf("| bare KVM_RUN loop | %.0f | 1.00 |\n", bm);
	printf("| petrel run loop + bus | %.0f | %.2f |\n", pm, pm / bm);
	printf("goal: ratio <= 1.10: %s\n", pm / bm <= 1.10 ? "met" : "NOT met");
	return 0;
}
