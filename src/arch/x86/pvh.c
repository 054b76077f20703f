// SPDX-License-Identifier: GPL-2.0-only
/* The PVH boot protocol for ELF vmlinux images. */
#include "arch/x86/pvh.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578
#define HVM_MEMMAP_RAM 1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* Where the start info, module list and map go (below the boot GDT/tables). */
#define PVH_INFO_ADDR X86_PVH_START_INFO_ADDR
#define PVH_MODLIST_ADDR (PVH_INFO_ADDR + 0x100)
#define PVH_MEMMAP_ADDR (PVH_INFO_ADDR + 0x200)

int x86_is_elf(const uint8_t *img, size_t size)
{
	return size >= EI_NIDENT && !memcmp(img, ELFMAG, SELFMAG);
}

/* One program header, widened to 64 bits. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static int get_phdr(const uint8_t *img, size_t size, unsigned int i, struct phdr *ph)
{
	if (img[EI_CLASS] == ELFCLASS64) {
		const Elf64_Ehdr *eh = (const void *)img;
		Elf64_Phdr p;
		uint64_t off = eh->e_phoff + (uint64_t)i * sizeof(p);

		if (eh->e_phentsize != sizeof(p) || off > size || size - off < sizeof(p))
			return -ENOEXEC;
		memcpy(&p, img + off, sizeof(p));
		*ph = (struct phdr){p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz};
	} else {
		const Elf32_Ehdr *eh = (const void *)img;
		Elf32_Phdr p;
		uint64_t off = eh->e_phoff + (uint64_t)i * sizeof(p);

		if (eh->e_phentsize != sizeof(p) || off > size || size - off < sizeof(p))
			return -ENOEXEC;
		memcpy(&p, img + off, sizeof(p));
		*ph = (struct phdr){p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz};
	}
	if (ph->offset > size || ph->filesz > size - ph->offset ||
	    (ph->type == PT_LOAD && ph->filesz > ph->memsz))
		return -ENOEXEC;
	return 0;
}

/* Walk the notes of one PT_NOTE segment for the PVH entry. */
static int find_entry(const uint8_t *n, uint64_t len, uint64_t *entry)
{
	while (len >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t name_pad, desc_pad;

		memcpy(&namesz, n, 4);
		memcpy(&descsz, n + 4, 4);
		memcpy(&type, n + 8, 4);
		name_pad = ((uint64_t)namesz + 3) & ~3ULL;
		desc_pad = ((uint64_t)descsz + 3) & ~3ULL;
		if (12 + name_pad + desc_pad > len)
			return -ENOEXEC;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && !memcmp(n + 12, "Xen", 4) &&
		    (descsz == 4 || descsz == 8)) {
			uint32_t lo = 0;

			memcpy(&lo, n + 12 + name_pad, 4);
			*entry = lo;
			return 0;
		}
		n += 12 + name_pad + desc_pad;
		len -= 12 + name_pad + desc_pad;
	}
	return -ENOENT;
}

int x86_pvh_load(struct guest_mem *gm, const uint8_t *img, size_t size,
		 const struct x86_linux_params *p, struct x86_pvh_entry *e, const char **why)
{
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_entry mm;
	uint64_t entry = 0, kend = 0, iaddr;
	unsigned int i, phnum;
	bool have_entry = false;
	size_t cl_len = p->cmdline ? strlen(p->cmdline) : 0;
	int ret;

	if (!x86_is_elf(img, size) || size < sizeof(Elf64_Ehdr) ||
	    (img[EI_CLASS] != ELFCLASS64 && img[EI_CLASS] != ELFCLASS32)) {
		*why = "not an ELF file";
		return -ENOEXEC;
	}
	phnum = img[EI_CLASS] == ELFCLASS64 ? ((const Elf64_Ehdr *)(const void *)img)->e_phnum
					    : ((const Elf32_Ehdr *)(const void *)img)->e_phnum;
	for (i = 0; i < phnum; i++) {
		struct phdr ph;

		if (get_phdr(img, size, i, &ph) < 0) {
			*why = "a program header points outside the file";
			return -ENOEXEC;
		}
		if (ph.type == PT_NOTE && !have_entry)
			have_entry = find_entry(img + ph.offset, ph.filesz, &entry) == 0;
	}
	if (!have_entry) {
		*why = "an ELF kernel without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)";
		return -ENOEXEC;
	}
	for (i = 0; i < phnum; i++) {
		struct phdr ph;

		get_phdr(img, size, i, &ph);
		if (ph.type != PT_LOAD || !ph.memsz)
			continue;
		if (ph.paddr < X86_HIGH_RAM_START || ph.paddr + ph.memsz > p->ram_below_4g ||
		    ph.paddr + ph.memsz < ph.paddr) {
			*why = "an ELF segment lies outside guest RAM above 1 MiB";
			return -ENOEXEC;
		}
		ret = gm_write(gm, ph.paddr, img + ph.offset, ph.filesz);
		if (ret == 0 && ph.memsz > ph.filesz) {
			uint8_t *bss = gm_ptr(gm, ph.paddr + ph.filesz, ph.memsz - ph.filesz);

			if (bss)
				memset(bss, 0, ph.memsz - ph.filesz);
			else
				ret = -EFAULT;
		}
		if (ret < 0) {
			*why = "an ELF segment does not fit in guest memory";
			return ret;
		}
		if (ph.paddr + ph.memsz > kend)
			kend = ph.paddr + ph.memsz;
	}

	if (cl_len >= X86_CMDLINE_MAX) {
		*why = "the command line is too long";
		return -E2BIG;
	}
	ret = gm_write(gm, X86_CMDLINE_ADDR, p->cmdline ? p->cmdline : "", cl_len + 1);
	if (ret < 0)
		return ret;

	memset(&si, 0, sizeof(si));
	si.magic = HVM_START_MAGIC;
	si.version = 1;
	si.cmdline_paddr = X86_CMDLINE_ADDR;
	si.rsdp_paddr = p->rsdp_addr;
	if (p->initrd && p->initrd_size) {
		if (p->initrd_size > p->ram_below_4g ||
		    ((p->ram_below_4g - p->initrd_size) & ~0xfffULL) < kend) {
			*why = "the initramfs does not fit above the kernel";
			return -ENOMEM;
		}
		iaddr = (p->ram_below_4g - p->initrd_size) & ~0xfffULL;
		ret = gm_write(gm, iaddr, p->initrd, p->initrd_size);
		if (ret < 0)
			return ret;
		memset(&mod, 0, sizeof(mod));
		mod.paddr = iaddr;
		mod.size = p->initrd_size;
		ret = gm_write(gm, PVH_MODLIST_ADDR, &mod, sizeof(mod));
		if (ret < 0)
			return ret;
		si.nr_modules = 1;
		si.modlist_paddr = PVH_MODLIST_ADDR;
	}
	if (p->e820_entries < 0 || p->e820_entries > 32)
		return -EINVAL;
	for (i = 0; i < (unsigned int)p->e820_entries; i++) {
		mm =
		    (struct hvm_memmap_entry){p->e820[i].addr, p->e820[i].size, p->e820[i].type, 0};
		ret = gm_write(gm, PVH_MEMMAP_ADDR + i * sizeof(mm), &mm, sizeof(mm));
		if (ret < 0)
			return ret;
	}
	si.memmap_paddr = PVH_MEMMAP_ADDR;
	si.memmap_entries = (uint32_t)p->e820_entries;
	ret = gm_write(gm, PVH_INFO_ADDR, &si, sizeof(si));
	if (ret < 0)
		return ret;
	e->rip = entry;
	e->start_info = PVH_INFO_ADDR;
	e->kernel_end = kend;
	return 0;
}
