// SPDX-License-Identifier: GPL-2.0-only
#include "arch/x86/x86_mode.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

enum { GDT_NULL, GDT_UNUSED, GDT_CODE, GDT_DATA, GDT_TSS, GDT_ENTRIES = 6 };

/* A GDT descriptor from its parts (flags: G, D/B, L in the top nibble). */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu) | ((uint64_t)(limit & 0x000f0000u) << 32) |
	       ((uint64_t)(flags & 0xf0ffu) << 40);
}

static void seg_from_gdt(struct kvm_segment *seg, uint64_t desc, uint16_t index)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = (uint16_t)(index * 8);
	seg->base = (uint32_t)(((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000));
	seg->limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));
	seg->type = (desc >> 40) & 0xf;
	seg->s = (desc >> 44) & 1;
	seg->dpl = (desc >> 45) & 3;
	seg->present = (desc >> 47) & 1;
	seg->avl = (desc >> 52) & 1;
	seg->l = (desc >> 53) & 1;
	seg->db = (desc >> 54) & 1;
	seg->g = (desc >> 55) & 1;
	if (seg->g)
		seg->limit = (seg->limit << 12) | 0xfff;
}

static int write_gdt(struct guest_mem *gm, bool long_mode, struct kvm_sregs *sregs)
{
	uint64_t gdt[GDT_ENTRIES] = {0};
	int ret;

	/* code: present, S, execute/read, accessed; L for 64-bit, D/B for 32-bit */
	gdt[GDT_CODE] = gdt_entry(long_mode ? 0xa09b : 0xc09b, 0, 0xfffff);
	gdt[GDT_DATA] = gdt_entry(0xc093, 0, 0xfffff);
	gdt[GDT_TSS] = gdt_entry(0x008b, 0, 0x67);
	ret = gm_write(gm, X86_GDT_ADDR, gdt, sizeof(gdt));
	if (ret < 0)
		return ret;
	sregs->gdt.base = X86_GDT_ADDR;
	sregs->gdt.limit = sizeof(gdt) - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	seg_from_gdt(&sregs->cs, gdt[GDT_CODE], GDT_CODE);
	seg_from_gdt(&sregs->ds, gdt[GDT_DATA], GDT_DATA);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	seg_from_gdt(&sregs->tr, gdt[GDT_TSS], GDT_TSS);
	return 0;
}

static int write_page_tables(struct guest_mem *gm)
{
	uint64_t pml4[512] = {0}, pdpt[512] = {0}, pd[512];
	unsigned int i, j;
	int ret;

	pml4[0] = X86_PDPT_ADDR | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++) {
		uint64_t pd_addr = X86_PD_ADDR + i * 0x1000ULL;

		pdpt[i] = pd_addr | PTE_P | PTE_RW;
		for (j = 0; j < 512; j++)
			pd[j] =
			    (((uint64_t)i << 30) + ((uint64_t)j << 21)) | PTE_P | PTE_RW | PTE_PS;
		ret = gm_write(gm, pd_addr, pd, sizeof(pd));
		if (ret < 0)
			return ret;
	}
	ret = gm_write(gm, X86_PML4_ADDR, pml4, sizeof(pml4));
	if (!ret)
		ret = gm_write(gm, X86_PDPT_ADDR, pdpt, sizeof(pdpt));
	return ret;
}

int x86_mode_setup_long(struct guest_mem *gm, struct kvm_sregs *sregs)
{
	int ret = write_page_tables(gm);

	if (ret < 0)
		return ret;
	ret = write_gdt(gm, true, sregs);
	if (ret < 0)
		return ret;
	sregs->cr3 = X86_PML4_ADDR;
	sregs->cr4 |= CR4_PAE;
	sregs->cr0 |= CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	sregs->efer |= EFER_LME | EFER_LMA;
	return 0;
}

int x86_mode_setup_flat32(struct guest_mem *gm, struct kvm_sregs *sregs)
{
	int ret = write_gdt(gm, false, sregs);

	if (ret < 0)
		return ret;
	sregs->cr0 = (sregs->cr0 | CR0_PE | CR0_ET) & ~CR0_PG;
	sregs->cr4 &= ~CR4_PAE;
	sregs->efer &= ~(EFER_LME | EFER_LMA);
	return 0;
}

void x86_mode_setup_real(struct kvm_sregs *sregs, uint16_t seg)
{
	struct kvm_segment *segs[] = {&sregs->cs, &sregs->ds, &sregs->es,
				      &sregs->fs, &sregs->gs, &sregs->ss};
	unsigned int i;

	for (i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		segs[i]->selector = seg;
		segs[i]->base = (uint64_t)seg << 4;
	}
}
