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

/* More program headers than a kernel has (vmlinux has about five). */
#define PVH_MAX_PHDRS 64

/* What the ELF header says, read from the file once. */
struct elf_hdr {
	uint8_t cls;
	uint64_t phoff;
	uint16_t phentsize, phnum;
};

static int get_ehdr(const uint8_t *img, size_t size, struct elf_hdr *h)
{
	if (!x86_is_elf(img, size) || size < sizeof(Elf64_Ehdr))
		return -ENOEXEC;
	h->cls = img[EI_CLASS];
	if (h->cls == ELFCLASS64) {
		Elf64_Ehdr eh;

		memcpy(&eh, img, sizeof(eh));
		*h = (struct elf_hdr){h->cls, eh.e_phoff, eh.e_phentsize, eh.e_phnum};
	} else if (h->cls == ELFCLASS32) {
		Elf32_Ehdr eh;

		memcpy(&eh, img, sizeof(eh));
		*h = (struct elf_hdr){h->cls, eh.e_phoff, eh.e_phentsize, eh.e_phnum};
	} else {
		return -ENOEXEC;
	}
	return 0;
}

/* Copy program header i out of the file and check it against the file. */
static int get_phdr(const uint8_t *img, size_t size, const struct elf_hdr *h, unsigned int i,
		    struct phdr *ph)
{
	size_t entsz = h->cls == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t off = h->phoff + (uint64_t)i * entsz;

	if (h->phentsize != entsz || h->phoff > size || off > size || size - off < entsz)
		return -ENOEXEC;
	if (h->cls == ELFCLASS64) {
		Elf64_Phdr p;

		memcpy(&p, img + off, sizeof(p));
		*ph = (struct phdr){p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz};
	} else {
		Elf32_Phdr p;

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
	struct phdr ph[PVH_MAX_PHDRS];
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_entry mm;
	struct elf_hdr eh;
	uint64_t entry = 0, kend = 0, iaddr = 0, end;
	unsigned int i;
	bool have_entry = false, entry_loaded = false;
	size_t cl_len = p->cmdline ? strlen(p->cmdline) : 0;
	int ret;

	if (get_ehdr(img, size, &eh) < 0) {
		*why = "not an ELF file";
		return -ENOEXEC;
	}
	if (eh.phnum > PVH_MAX_PHDRS) {
		*why = "more than 64 program headers";
		return -ENOEXEC;
	}
	/*
	 * One pass copies and checks every program header; the rest of the
	 * loader uses only the copy, so a file that changes under petrel's
	 * mapping cannot make a later read disagree with what was checked.
	 */
	for (i = 0; i < eh.phnum; i++) {
		if (get_phdr(img, size, &eh, i, &ph[i]) < 0) {
			*why = "a program header points outside the file";
			return -ENOEXEC;
		}
		if (ph[i].type == PT_NOTE && !have_entry)
			have_entry = find_entry(img + ph[i].offset, ph[i].filesz, &entry) == 0;
		if (ph[i].type != PT_LOAD || !ph[i].memsz)
			continue;
		if (ph[i].paddr < X86_HIGH_RAM_START ||
		    __builtin_add_overflow(ph[i].paddr, ph[i].memsz, &end) ||
		    end > p->ram_below_4g) {
			*why = "an ELF segment lies outside guest RAM above 1 MiB";
			return -ENOEXEC;
		}
		if (end > kend)
			kend = end;
	}
	if (!have_entry) {
		*why = "an ELF kernel without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)";
		return -ENOEXEC;
	}
	for (i = 0; i < eh.phnum && !entry_loaded; i++)
		entry_loaded = ph[i].type == PT_LOAD && entry >= ph[i].paddr &&
			       entry - ph[i].paddr < ph[i].memsz;
	if (!entry_loaded) {
		*why = "the PVH entry point lies outside the loaded segments";
		return -ENOEXEC;
	}
	if (cl_len >= X86_CMDLINE_MAX) {
		*why = "the command line is too long";
		return -E2BIG;
	}
	if (p->initrd && p->initrd_size) {
		if (p->initrd_size > p->ram_below_4g ||
		    ((p->ram_below_4g - p->initrd_size) & ~0xfffULL) < kend) {
			*why = "the initramfs does not fit above the kernel";
			return -ENOMEM;
		}
		iaddr = (p->ram_below_4g - p->initrd_size) & ~0xfffULL;
	}
	if (p->e820_entries < 0 || p->e820_entries > 32) {
		*why = "too many e820 entries";
		return -EINVAL;
	}

	/* Every check made: load, from the copy of the headers. */
	for (i = 0; i < eh.phnum; i++) {
		if (ph[i].type != PT_LOAD || !ph[i].memsz)
			continue;
		ret = gm_write(gm, ph[i].paddr, img + ph[i].offset, ph[i].filesz);
		if (ret == 0 && ph[i].memsz > ph[i].filesz) {
			uint8_t *bss =
			    gm_ptr(gm, ph[i].paddr + ph[i].filesz, ph[i].memsz - ph[i].filesz);

			if (bss)
				memset(bss, 0, ph[i].memsz - ph[i].filesz);
			else
				ret = -EFAULT;
		}
		if (ret < 0) {
			*why = "an ELF segment does not fit in guest memory";
			return ret;
		}
	}
	ret = gm_write(gm, X86_CMDLINE_ADDR, p->cmdline ? p->cmdline : "", cl_len + 1);
	if (ret < 0)
		return ret;

	memset(&si, 0, sizeof(si));
	si.magic = HVM_START_MAGIC;
	si.version = 1;
	si.cmdline_paddr = X86_CMDLINE_ADDR;
	si.rsdp_paddr = p->rsdp_addr;
	if (iaddr) {
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
