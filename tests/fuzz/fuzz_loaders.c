// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel loaders: a bzImage (x86_linux_load) or an ELF vmlinux with a PVH
 * note (x86_pvh_load), chosen as petrel chooses (x86_is_elf), loaded into a
 * guest of 2 to 64 MiB with the machine's e820 map, an initramfs of a size
 * and a command line of a length the input gives. The input: a flags byte
 * (memory size, initramfs, command line), the initramfs size (4 bytes), the
 * command line length (4 bytes), then the kernel file.
 *
 * Every guest-memory write of the loaders goes through gm_write or gm_ptr,
 * which the harness wraps (-Wl,--wrap) to record where each lands and from
 * which buffer. It checks:
 * - a refused kernel (-errno) wrote nothing;
 * - the kernel, its segments and the initramfs lie in RAM above 1 MiB; the
 *   command line is written whole at its address, and the rest only into
 *   the zero page or the PVH start info below 0x8000: nothing touches the
 *   EBDA, the BIOS area with the ACPI tables, or RAM past the end;
 * - the initramfs overlaps neither the kernel nor the memory a bzImage says
 *   it needs to unpack (init_size), and ends below its initrd_addr_max;
 * - a bzImage sits at its pref_address, or aligned when relocatable, and
 *   its entry is 0x200 past it; the PVH entry lies in a loaded segment;
 * - what was loaded reads back: the kernel, and the command line.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "arch/x86/linux_boot.h"
#include "arch/x86/pvh.h"
#include "fuzz_input.h"
#include "mem/guest_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __real_gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len);
int __wrap_gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len);
void *__real_gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
void *__wrap_gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

#define MIB (1024ULL * 1024)
#define INITRD_MAX (96 * MIB) /* more than the largest guest: refusals too */
#define MAX_WRITES 256

enum src { SRC_IMAGE, SRC_INITRD, SRC_CMDLINE, SRC_OTHER };

struct write {
	uint64_t gpa, len;
	enum src src;
};

static struct {
	const uint8_t *img, *initrd;
	size_t img_size, initrd_size;
	const char *cmdline;
	size_t cl_len;
	struct write w[MAX_WRITES];
	unsigned int nr;
} rec;

static enum src source_of(const void *buf, uint64_t len)
{
	const uint8_t *b = buf;

	if (b >= rec.img && b < rec.img + rec.img_size) {
		fuzz_check(len <= (uint64_t)(rec.img + rec.img_size - b));
		return SRC_IMAGE;
	}
	if (rec.initrd && b >= rec.initrd && b < rec.initrd + INITRD_MAX) {
		fuzz_check(len <= (uint64_t)(rec.initrd + rec.initrd_size - b));
		return SRC_INITRD;
	}
	if (rec.cmdline && b == (const uint8_t *)rec.cmdline)
		return SRC_CMDLINE;
	return SRC_OTHER;
}

static void record(uint64_t gpa, uint64_t len, enum src src)
{
	if (!len) /* a segment with nothing in the file: writes nothing */
		return;
	fuzz_check(rec.nr < MAX_WRITES);
	rec.w[rec.nr++] = (struct write){gpa, len, src};
}

int __wrap_gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len)
{
	record(gpa, len, source_of(buf, len));
	return __real_gm_write(gm, gpa, buf, len);
}

/* The loaders take a pointer only to clear a segment's bss: count it as an image write. */
void *__wrap_gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	record(gpa, len, SRC_IMAGE);
	return __real_gm_ptr(gm, gpa, len);
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool inside(uint64_t a, uint64_t alen, uint64_t lo, uint64_t hi)
{
	return a >= lo && a <= hi && alen <= hi - a;
}

/* Where each write landed, by what it carried. */
FUZZ_NOCOV static void check_writes(uint64_t ram)
{
	unsigned int i, j;

	for (i = 0; i < rec.nr; i++) {
		const struct write *w = &rec.w[i];

		switch (w->src) {
		case SRC_IMAGE:
		case SRC_INITRD:
			fuzz_check(inside(w->gpa, w->len, X86_HIGH_RAM_START, ram));
			break;
		case SRC_CMDLINE:
			fuzz_check(w->gpa == X86_CMDLINE_ADDR && w->len == rec.cl_len + 1);
			break;
		case SRC_OTHER:
			/* the empty command line, the zero page, the PVH start info */
			fuzz_check((w->gpa == X86_CMDLINE_ADDR && w->len == 1) ||
				   inside(w->gpa, w->len, X86_PVH_START_INFO_ADDR,
					  X86_BOOT_PARAMS_ADDR + 0x1000));
			break;
		}
		if (w->src != SRC_INITRD)
			continue;
		for (j = 0; j < rec.nr; j++)
			fuzz_check(j == i || rec.w[j].src != SRC_IMAGE ||
				   !overlap(w->gpa, w->len, rec.w[j].gpa, rec.w[j].len));
	}
}

FUZZ_NOCOV static uint64_t initrd_write(uint64_t *len)
{
	unsigned int i;

	for (i = 0; i < rec.nr; i++) {
		if (rec.w[i].src == SRC_INITRD) {
			*len = rec.w[i].len;
			return rec.w[i].gpa;
		}
	}
	*len = 0;
	return 0;
}

FUZZ_NOCOV static void check_bzimage(struct guest_mem *gm, const struct x86_linux_params *p,
				     const struct x86_linux_entry *e)
{
	struct x86_bzimage_info info;
	const char *why;
	uint64_t need, ilen, iaddr = initrd_write(&ilen);
	uint8_t *k;

	fuzz_check(x86_bzimage_parse(rec.img, rec.img_size, &info, &why) == 0);
	need = info.init_size > info.kernel_size ? info.init_size : info.kernel_size;
	fuzz_check(e->rip == e->kernel_addr + 0x200);
	fuzz_check(e->boot_params == X86_BOOT_PARAMS_ADDR);
	fuzz_check(inside(e->kernel_addr, need, X86_HIGH_RAM_START, p->ram_below_4g));
	if (info.relocatable)
		fuzz_check(!(e->kernel_addr & (info.kernel_alignment - 1)));
	else
		fuzz_check(e->kernel_addr == info.pref_address);
	fuzz_check(iaddr == e->initrd_addr);
	if (ilen) {
		fuzz_check(ilen == p->initrd_size);
		fuzz_check(!overlap(iaddr, ilen, e->kernel_addr, need));
		fuzz_check(iaddr + ilen <= (uint64_t)info.initrd_addr_max + 1);
	}
	k = __real_gm_ptr(gm, e->kernel_addr, info.kernel_size);
	fuzz_check(k && !memcmp(k, rec.img + info.kernel_offset, info.kernel_size));
}

FUZZ_NOCOV static void check_pvh(const struct x86_linux_params *p, const struct x86_pvh_entry *e)
{
	uint64_t ilen, iaddr = initrd_write(&ilen);
	bool entry_loaded = false;
	unsigned int i;

	fuzz_check(e->start_info == X86_PVH_START_INFO_ADDR);
	fuzz_check(e->kernel_end <= p->ram_below_4g);
	for (i = 0; i < rec.nr; i++) {
		const struct write *w = &rec.w[i];

		if (w->src != SRC_IMAGE)
			continue;
		fuzz_check(w->gpa + w->len <= e->kernel_end);
		entry_loaded |= e->rip >= w->gpa && e->rip - w->gpa < w->len;
	}
	/* the entry may lie in a segment's bss that had nothing to clear */
	fuzz_check(entry_loaded || e->rip < e->kernel_end);
	if (ilen)
		fuzz_check(ilen == p->initrd_size && iaddr >= e->kernel_end);
}

static const uint64_t mem_sizes[] = {2 * MIB, 8 * MIB, 32 * MIB, 64 * MIB};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t *initrd_buf;
	static char *cl_buf;
	struct fuzz_in in = {data, size};
	struct x86_e820_entry e820[X86_E820_MAX];
	struct x86_linux_params p = {0};
	struct guest_mem gm;
	const char *why = NULL;
	uint8_t flags = fuzz_u8(&in);
	uint64_t mem = mem_sizes[flags & 3];
	uint32_t isize = fuzz_u32(&in) % (INITRD_MAX + 1);
	uint32_t cl_len = fuzz_u32(&in) % (X86_CMDLINE_MAX + 16);
	const uint8_t *img;
	size_t img_size;
	char *cl;
	int ret;

	if (!initrd_buf) {
		/* zero pages that cost nothing until read: the initramfs's bytes */
		void *m = mmap(NULL, INITRD_MAX, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		cl_buf = malloc(X86_CMDLINE_MAX + 16);
		if (m == MAP_FAILED || !cl_buf)
			abort();
		initrd_buf = m;
	}
	img = fuzz_bytes(&in, in.left, &img_size);

	gm_init(&gm);
	if (gm_add_region(&gm, "ram", 0, mem) < 0)
		abort();
	p.e820 = e820;
	p.e820_entries = x86_e820_build(mem, X86_ECAM_ADDR, 1ULL << 20, e820, X86_E820_MAX);
	fuzz_check(p.e820_entries > 0);
	p.ram_below_4g = x86_ram_below_4g(mem);
	p.rsdp_addr = X86_BIOS_ADDR;
	if (flags & 4) {
		p.initrd = initrd_buf;
		p.initrd_size = isize;
	}
	cl = NULL;
	if (!(flags & 8)) {
		cl = cl_buf;
		memset(cl, 'a' + (flags >> 4), cl_len);
		cl[cl_len] = 0;
		p.cmdline = cl;
	}

	memset(&rec, 0, sizeof(rec));
	rec.img = img;
	rec.img_size = img_size;
	rec.initrd = p.initrd;
	rec.initrd_size = p.initrd_size;
	rec.cmdline = cl;
	rec.cl_len = cl ? cl_len : 0;

	if (x86_is_elf(img, img_size)) {
		struct x86_pvh_entry e;

		ret = x86_pvh_load(&gm, img, img_size, &p, &e, &why);
		if (ret == 0)
			check_pvh(&p, &e);
	} else {
		struct x86_linux_entry e;

		ret = x86_linux_load(&gm, img, img_size, &p, &e, &why);
		if (ret == 0)
			check_bzimage(&gm, &p, &e);
	}
	if (ret < 0) {
		/* refused: with a reason, before anything was written */
		fuzz_check(why && *why);
		fuzz_check(rec.nr == 0);
	} else {
		char *back = __real_gm_ptr(&gm, X86_CMDLINE_ADDR, rec.cl_len + 1);

		fuzz_check(ret == 0);
		check_writes(p.ram_below_4g);
		fuzz_check(back && back[rec.cl_len] == 0 && (!cl || !memcmp(back, cl, rec.cl_len)));
	}
	gm_destroy(&gm);
	return 0;
}
