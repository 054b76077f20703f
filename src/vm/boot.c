// SPDX-License-Identifier: GPL-2.0-only
/* Loading the guest and putting every vCPU in its reset or entry state. */
#include "vm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/e820.h"
#include "arch/x86/lapic.h"
#include "arch/x86/layout.h"
#include "arch/x86/linux_boot.h"
#include "arch/x86/msr.h"
#include "arch/x86/pvh.h"
#include "arch/x86/x86_mode.h"
#include "dev/acpi_pm.h"
#include "dev/boot_timer.h"
#include "dev/pvpanic.h"
#include "kvm/kvm_mce.h"

#define FLAT_REAL_SEG 0x1000
#define FLAT_REAL_ADDR 0x10000ULL
#define FLAT_REAL_MAX (X86_EBDA_ADDR - FLAT_REAL_ADDR)
#define FLAT_LONG_ADDR 0x100000ULL
#define FLAT_LONG_STACK_TOP 0x80000ULL

/*
 * A flat binary at gpa, in at most max bytes. Read to its end whatever it is
 * (a pipe or a device too), so an empty file, or one larger than its space,
 * is refused by what it holds rather than by what stat says.
 */
static int load_flat(struct machine *m, uint64_t gpa, uint64_t max)
{
	const char *path = m->cfg.firmware;
	uint8_t buf[16384];
	uint64_t total = 0;
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: --firmware %s: %s\n", path, strerror(-ret));
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
		goto too_big;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			fprintf(stderr, "petrel: --firmware %s: %s\n", path, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		if ((uint64_t)n > max - total || gm_write(&m->mem, gpa + total, buf, (size_t)n) < 0)
			goto too_big;
		total += (uint64_t)n;
	}
	if (!total) {
		fprintf(stderr, "petrel: --firmware %s: the file is empty\n", path);
		ret = -EINVAL;
		goto out;
	}
	m->entry.rip = gpa;
	goto out;
too_big:
	if (S_ISREG(st.st_mode))
		fprintf(stderr,
			"petrel: --firmware %s: %lld bytes do not fit in the %llu bytes from "
			"0x%llx\n",
			path, (long long)st.st_size, (unsigned long long)max,
			(unsigned long long)gpa);
	else
		fprintf(stderr,
			"petrel: --firmware %s: more than the %llu bytes that fit from 0x%llx\n",
			path, (unsigned long long)max, (unsigned long long)gpa);
	ret = -EFBIG;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* A read-only private mapping of a whole file; what names the option for errors. */
struct mapped_file {
	const uint8_t *data;
	size_t size;
};

static int map_file(const char *what, const char *path, struct mapped_file *f)
{
	struct stat st;
	void *p;
	int fd, ret = 0;

	f->data = NULL;
	f->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		fprintf(stderr, "petrel: %s %s: %s\n", what, path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "petrel: %s %s: not a regular, non-empty file\n", what, path);
		ret = -EINVAL;
		goto out;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		fprintf(stderr, "petrel: %s %s: %s\n", what, path, strerror(-ret));
		goto out;
	}
	f->data = p;
	f->size = (size_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap((void *)f->data, f->size);
	f->data = NULL;
}

/* ACPI tables in the BIOS area; returns the RSDP's address. */
static int build_acpi(struct machine *m, uint64_t *rsdp)
{
	struct x86_acpi_config cfg = {
	    .nr_cpus = m->cfg.cpus,
	    .ioapic_addr = X86_IOAPIC_ADDR,
	    .ioapic_id = (uint8_t)m->cfg.cpus,
	    .lapic_addr = X86_LAPIC_ADDR,
	    .pm1a_evt_port = X86_PORT_PM1A_EVT,
	    .pm1a_cnt_port = X86_PORT_PM1A_CNT,
	    .s5_slp_typ = ACPI_PM_SLP_TYP_S5,
	    .sci_irq = X86_IRQ_SCI,
	    .reset_port = ACPI_PM_RESET_PORT,
	    .has_uart = true,
	    .pvpanic_port = PVPANIC_PORT,
	    .ecam_addr = X86_ECAM_ADDR,
	    .ecam_end_bus = 0,
	    .pci_mmio_base = (uint32_t)X86_PCI_MMIO_START,
	    /* the boot timer's page, where Firecracker's guests write, stays out of it */
	    .pci_mmio_size = m->cfg.boot_timer ? (uint32_t)(BOOT_TIMER_ADDR - X86_PCI_MMIO_START)
					       : (uint32_t)X86_PCI_MMIO_SIZE,
	};
	uint64_t len = X86_BIOS_END - X86_BIOS_ADDR;
	uint8_t *buf = gm_ptr(&m->mem, X86_BIOS_ADDR, len);
	long used;

	if (!buf)
		return -EFAULT;
	used = x86_acpi_build(&cfg, buf, len, X86_BIOS_ADDR);
	if (used < 0) {
		fprintf(stderr, "petrel: building ACPI tables: %s\n", strerror((int)-used));
		return (int)used;
	}
	*rsdp = X86_BIOS_ADDR;
	return 0;
}

/*
 * The command line the guest gets: console=ttyS0 (console=hvc0 with
 * --console hvc) first when the console output goes somewhere.
 */
static char *kernel_cmdline(const struct vm_config *cfg)
{
	const char *user = cfg->cmdline ? cfg->cmdline : "";
	bool console = cfg->serial != VM_SERIAL_OFF && !strstr(user, "console=");
	const char *name = cfg->console_hvc ? "console=hvc0 " : "console=ttyS0 ";
	char *s;

	if (asprintf(&s, "%s%s", console ? name : "", user) < 0)
		return NULL;
	return s;
}

static int load_kernel(struct machine *m)
{
	struct x86_e820_entry e820[X86_E820_MAX];
	struct mapped_file kernel, initrd = {0};
	struct x86_linux_params p = {0};
	const char *why = NULL;
	char *cmdline = NULL;
	uint64_t rsdp = 0;
	int n, ret;

	ret = map_file("--kernel", m->cfg.kernel, &kernel);
	if (ret < 0)
		return ret;
	if (m->cfg.initramfs) {
		ret = map_file("--initramfs", m->cfg.initramfs, &initrd);
		if (ret < 0)
			goto out;
	}
	ret = build_acpi(m, &rsdp);
	if (ret < 0)
		goto out;
	/* the ECAM of bus 0 (what the MCFG table describes) is reserved */
	n = x86_e820_build(m->cfg.mem_size, X86_ECAM_ADDR, 1ULL << 20, e820, X86_E820_MAX);
	cmdline = kernel_cmdline(&m->cfg);
	if (n < 0 || !cmdline) {
		ret = n < 0 ? n : -ENOMEM;
		fprintf(stderr, "petrel: --memory %llu MiB is too small for a kernel\n",
			(unsigned long long)(m->cfg.mem_size >> 20));
		goto out;
	}
	p.cmdline = cmdline;
	p.initrd = initrd.data;
	p.initrd_size = initrd.size;
	p.e820 = e820;
	p.e820_entries = n;
	p.rsdp_addr = rsdp;
	p.ram_below_4g = x86_ram_below_4g(m->cfg.mem_size);

	if (x86_is_elf(kernel.data, kernel.size)) {
		struct x86_pvh_entry e;

		ret = x86_pvh_load(&m->mem, kernel.data, kernel.size, &p, &e, &why);
		m->entry.pvh = true;
		m->entry.rip = e.rip;
		m->entry.rbx = e.start_info;
	} else {
		struct x86_linux_entry e;

		ret = x86_linux_load(&m->mem, kernel.data, kernel.size, &p, &e, &why);
		m->entry.pvh = false;
		m->entry.rip = e.rip;
		m->entry.rsi = e.boot_params;
	}
	if (ret == -ENOEXEC)
		fprintf(stderr,
			"petrel: --kernel %s: %s; expected a bzImage (Linux boot protocol 2.06+, "
			"64-bit) or an ELF vmlinux with a PVH entry note\n",
			m->cfg.kernel, why);
	else if (ret < 0)
		fprintf(stderr, "petrel: --kernel %s: %s\n", m->cfg.kernel,
			why ? why : strerror(-ret));
out:
	free(cmdline);
	unmap_file(&initrd);
	unmap_file(&kernel);
	return ret;
}

int vm_boot_load(struct machine *m)
{
	switch (m->cfg.boot) {
	case VM_BOOT_FLAT_REAL:
		return load_flat(m, FLAT_REAL_ADDR, FLAT_REAL_MAX);
	case VM_BOOT_FLAT_LONG: {
		/* RAM from 1 MiB up to the PCI hole: what the identity map of 4 GiB reaches */
		uint64_t top = x86_ram_below_4g(m->cfg.mem_size);

		return load_flat(m, FLAT_LONG_ADDR,
				 top > FLAT_LONG_ADDR ? top - FLAT_LONG_ADDR : 0);
	}
	case VM_BOOT_KERNEL:
		return load_kernel(m);
	}
	return -EINVAL;
}

static int setup_cpuid(struct machine *m, struct vm_vcpu *v)
{
	uint64_t mcg_cap = kvm_mce_host_cap(&m->sys);
	unsigned int n = 128, extra = 0;
	struct kvm_cpuid2 *cpuid;
	int ret;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = n;
		ret = ioctl(m->sys.fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ? -errno : 0;
		if (ret != -E2BIG)
			break;
		free(cpuid);
		n *= 2;
	}
	if (m->vm.irqchip && kvm_sys_check_extension(&m->sys, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		extra |= X86_CPUID_TSC_DEADLINE;
	if (!ret && mcg_cap) {
		/* Host memory errors reach the guest as machine checks (memory_error.h). */
		bool amd = x86_cpuid_is_amd(cpuid->entries, cpuid->nent);

		ret = kvm_vcpu_mce_setup(&v->kvm, mcg_cap, amd);
		if (ret < 0)
			fprintf(stderr, "petrel: vCPU %u: KVM_X86_SETUP_MCE: %s\n", v->kvm.id,
				strerror(-ret));
		else
			extra |= X86_CPUID_MCA;
	}
	if (!ret) {
		uint32_t brand[12];

		x86_cpuid_adjust(cpuid->entries, cpuid->nent, v->kvm.id, m->cfg.cpus, extra);
		x86_cpuid_host_brand(brand);
		x86_cpuid_fill_brand(cpuid->entries, cpuid->nent, brand);
	}
	if (!ret)
		ret = kvm_vcpu_set_cpuid(&v->kvm, cpuid);
	if (ret < 0)
		fprintf(stderr, "petrel: vCPU %u: setting CPUID: %s\n", v->kvm.id, strerror(-ret));
	free(cpuid);
	return ret;
}

static int setup_msrs(struct vm_vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[32];
	} msrs;
	int ret;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = x86_msr_boot_entries(msrs.e, sizeof(msrs.e) / sizeof(msrs.e[0]));
	ret = kvm_vcpu_ioctl(&v->kvm, KVM_SET_MSRS, &msrs);
	if (ret >= 0 && (unsigned int)ret != msrs.hdr.nmsrs)
		fprintf(stderr, "petrel: vCPU %u: KVM accepted %d of %u boot MSRs\n", v->kvm.id,
			ret, msrs.hdr.nmsrs);
	return ret < 0 ? ret : 0;
}

static int setup_fpu(struct vm_vcpu *v)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return kvm_vcpu_ioctl(&v->kvm, KVM_SET_FPU, &fpu);
}

int vm_boot_setup_vcpu(struct machine *m, struct vm_vcpu *v)
{
	struct kvm_regs *regs;
	struct kvm_sregs *sregs;
	bool boot_cpu = v->kvm.id == 0;
	int ret;

	ret = setup_cpuid(m, v);
	if (ret < 0)
		return ret;
	ret = setup_msrs(v);
	if (ret < 0)
		return ret;
	ret = setup_fpu(v);
	if (ret < 0)
		return ret;
	if (m->vm.irqchip) {
		struct kvm_lapic_state lapic;

		ret = kvm_vcpu_ioctl(&v->kvm, KVM_GET_LAPIC, &lapic);
		if (!ret) {
			x86_lapic_setup_lint(&lapic);
			ret = kvm_vcpu_ioctl(&v->kvm, KVM_SET_LAPIC, &lapic);
		}
		if (ret < 0) {
			fprintf(stderr, "petrel: vCPU %u: local APIC set-up: %s\n", v->kvm.id,
				strerror(-ret));
			return ret;
		}
	}
	/* Secondary CPUs of a kernel start through INIT/SIPI in the in-kernel LAPIC. */
	if (m->cfg.boot == VM_BOOT_KERNEL && !boot_cpu)
		return 0;

	regs = kvm_vcpu_regs(&v->kvm);
	sregs = kvm_vcpu_sregs(&v->kvm);
	memset(regs, 0, sizeof(*regs));
	regs->rflags = 0x2;
	switch (m->cfg.boot) {
	case VM_BOOT_FLAT_REAL:
		x86_mode_setup_real(sregs, FLAT_REAL_SEG);
		regs->rip = 0;
		regs->rsp = 0xfff0;
		regs->rdi = v->kvm.id;
		break;
	case VM_BOOT_FLAT_LONG:
		ret = x86_mode_setup_long(&m->mem, sregs);
		regs->rip = m->entry.rip;
		regs->rsp = FLAT_LONG_STACK_TOP - (uint64_t)v->kvm.id * 0x1000;
		regs->rdi = v->kvm.id;
		regs->rsi = m->cfg.cpus;
		break;
	case VM_BOOT_KERNEL:
		if (m->entry.pvh)
			ret = x86_mode_setup_flat32(&m->mem, sregs);
		else
			ret = x86_mode_setup_long(&m->mem, sregs);
		regs->rip = m->entry.rip;
		regs->rsi = m->entry.rsi;
		regs->rbx = m->entry.rbx;
		break;
	}
	if (ret < 0)
		return ret;
	kvm_vcpu_regs_dirty(&v->kvm);
	kvm_vcpu_sregs_dirty(&v->kvm);
	return kvm_vcpu_regs_flush(&v->kvm);
}
