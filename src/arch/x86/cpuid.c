// SPDX-License-Identifier: GPL-2.0-only
/* Per-vCPU CPUID adjustments. */
#include "arch/x86/cpuid.h"

#include <stdio.h>

#include <cpuid.h>
#include <stddef.h>
#include <string.h>

#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_EDX_HTT (1u << 28)
#define LEAF1_EDX_MCE (1u << 7)
#define LEAF1_EDX_MCA (1u << 14)
#define LEAF80000007_EBX_OVERFLOW_RECOV (1u << 0)
#define LEAF80000007_EBX_SUCCOR (1u << 1)
#define VENDOR_AMD_EBX 0x68747541u   /* "Auth" */
#define VENDOR_HYGON_EBX 0x6f677948u /* "Hygo" */
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

struct kvm_cpuid_entry2 *x86_cpuid_find(struct kvm_cpuid_entry2 *e, unsigned int nent,
					uint32_t function, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < nent; i++) {
		if (e[i].function != function)
			continue;
		if ((e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e[i].index != index)
			continue;
		return &e[i];
	}
	return NULL;
}

bool x86_cpuid_is_amd(struct kvm_cpuid_entry2 *e, unsigned int nent)
{
	struct kvm_cpuid_entry2 *l = x86_cpuid_find(e, nent, 0, 0);

	return l && (l->ebx == VENDOR_AMD_EBX || l->ebx == VENDOR_HYGON_EBX);
}

/* Bits needed to number n things (the x2APIC id shift). */
static unsigned int order(unsigned int n)
{
	unsigned int b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static void topology_leaf(struct kvm_cpuid_entry2 *e, unsigned int cpu, unsigned int nr_cpus)
{
	switch (e->index) {
	case 0: /* SMT level: one thread per core */
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPO_LEVEL_SMT << 8) | e->index;
		break;
	case 1: /* core level: every vCPU a core of one package */
		e->eax = order(nr_cpus);
		e->ebx = nr_cpus;
		e->ecx = (TOPO_LEVEL_CORE << 8) | e->index;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
	e->edx = cpu;
}

void x86_cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned int nent, unsigned int cpu,
		      unsigned int nr_cpus, unsigned int extra)
{
	unsigned int i;

	for (i = 0; i < nent; i++) {
		struct kvm_cpuid_entry2 *l = &e[i];

		switch (l->function) {
		case 1:
			l->ebx = (l->ebx & 0x0000ffff) | (cpu << 24) |
				 ((nr_cpus > 255 ? 255 : nr_cpus) << 16);
			l->ecx |= LEAF1_ECX_HYPERVISOR;
			if (extra & X86_CPUID_TSC_DEADLINE)
				l->ecx |= LEAF1_ECX_TSC_DEADLINE;
			if (nr_cpus > 1)
				l->edx |= LEAF1_EDX_HTT;
			else
				l->edx &= ~LEAF1_EDX_HTT;
			if (extra & X86_CPUID_MCA)
				l->edx |= LEAF1_EDX_MCE | LEAF1_EDX_MCA;
			else
				l->edx &= ~(LEAF1_EDX_MCE | LEAF1_EDX_MCA);
			break;
		case 0x80000007: /* AMD: RAS features */
			if ((extra & X86_CPUID_MCA) && x86_cpuid_is_amd(e, nent))
				l->ebx |= LEAF80000007_EBX_OVERFLOW_RECOV | LEAF80000007_EBX_SUCCOR;
			break;
		case 4: /* deterministic cache parameters (Intel) */
			if ((l->eax & 0x1f) == 0)
				break;
			l->eax &= 0x3ff; /* type, level, self-init, fully associative */
			l->eax |= (nr_cpus - 1) << 26 & 0xfc000000; /* cores per package - 1 */
			if (((l->eax >> 5) & 7) == 3)		    /* L3 shared by all */
				l->eax |= ((nr_cpus - 1) & 0xfff) << 14;
			break;
		case 0xb:
		case 0x1f:
			topology_leaf(l, cpu, nr_cpus);
			break;
		case 0x80000008: /* AMD: number of cores - 1 and its id size */
			l->ecx =
			    (l->ecx & ~0xf0ffu) | ((nr_cpus - 1) & 0xff) | (order(nr_cpus) << 12);
			break;
		}
	}
}

void x86_cpuid_fill_brand(struct kvm_cpuid_entry2 *e, unsigned int nent, const uint32_t brand[12])
{
	struct kvm_cpuid_entry2 *l[3];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		l[i] = x86_cpuid_find(e, nent, 0x80000002 + i, 0);
		if (!l[i] || l[i]->eax || l[i]->ebx || l[i]->ecx || l[i]->edx)
			return;
	}
	for (i = 0; i < 3; i++) {
		l[i]->eax = brand[i * 4];
		l[i]->ebx = brand[i * 4 + 1];
		l[i]->ecx = brand[i * 4 + 2];
		l[i]->edx = brand[i * 4 + 3];
	}
}

void x86_cpuid_host_brand(uint32_t brand[12])
{
	unsigned int max = __get_cpuid_max(0x80000000, NULL), i;

	memset(brand, 0, 12 * sizeof(brand[0]));
	if (max < 0x80000004)
		return;
	for (i = 0; i < 3; i++)
		__cpuid(0x80000002 + i, brand[i * 4], brand[i * 4 + 1], brand[i * 4 + 2],
			brand[i * 4 + 3]);
}

/* The feature leaves a guest's CPUID may not have more of than the host's. */
static const struct {
	uint32_t function, index;
	uint32_t ignore[4]; /* eax, ebx, ecx, edx: bits that follow the guest's state */
} feature_leaves[] = {
    {1, 0, {0xffffffff, 0xffffffff, 1u << 27 | LEAF1_ECX_HYPERVISOR, LEAF1_EDX_HTT}},
    {7, 0, {0xffffffff, 0, 0, 0}},
    {7, 1, {0, 0xffffffff, 0xffffffff, 0xffffffff}},
    {0xd, 0, {0, 0xffffffff, 0xffffffff, 0}},
    {0xd, 1, {0, 0xffffffff, 0xffffffff, 0xffffffff}},
    {0x80000001, 0, {0xffffffff, 0xffffffff, 0, 0}},
    {0x80000007, 0, {0xffffffff, 0, 0xffffffff, 0}},
    {0x80000008, 0, {0xffffffff, 0, 0xffffffff, 0xffffffff}},
};

bool x86_cpuid_runs_on(const struct kvm_cpuid_entry2 *guest, unsigned int nguest,
		       struct kvm_cpuid_entry2 *host, unsigned int nhost, char *what, size_t len)
{
	static const char *const reg[4] = {"eax", "ebx", "ecx", "edx"};
	unsigned int i, j, r;

	for (i = 0; i < sizeof(feature_leaves) / sizeof(feature_leaves[0]); i++) {
		const struct kvm_cpuid_entry2 *g = NULL;
		const struct kvm_cpuid_entry2 *h;
		uint32_t gv[4], hv[4] = {0, 0, 0, 0}, missing;

		for (j = 0; j < nguest && !g; j++)
			if (guest[j].function == feature_leaves[i].function &&
			    guest[j].index == feature_leaves[i].index)
				g = &guest[j];
		if (!g)
			continue;
		h = x86_cpuid_find(host, nhost, feature_leaves[i].function,
				   feature_leaves[i].index);
		gv[0] = g->eax, gv[1] = g->ebx, gv[2] = g->ecx, gv[3] = g->edx;
		if (h)
			hv[0] = h->eax, hv[1] = h->ebx, hv[2] = h->ecx, hv[3] = h->edx;
		for (r = 0; r < 4; r++) {
			missing = gv[r] & ~hv[r] & ~feature_leaves[i].ignore[r];
			if (missing) {
				snprintf(what, len, "leaf 0x%x.%u %s bit %d",
					 feature_leaves[i].function, feature_leaves[i].index,
					 reg[r], __builtin_ctz(missing));
				return false;
			}
		}
	}
	return true;
}
