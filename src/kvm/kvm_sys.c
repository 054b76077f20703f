// SPDX-License-Identifier: GPL-2.0-only
/* The /dev/kvm system handle: API checks, capability cache, vCPU limits. */
#include "kvm/kvm.h"

#include "kvm/kvm_mce.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct cap_desc {
	long cap;
	const char *name;
};

static const struct cap_desc cap_table[KVM_CAPX_COUNT] = {
    [KVM_CAPX_IRQ_ROUTING] = {KVM_CAP_IRQ_ROUTING, "irq-routing"},
    [KVM_CAPX_SIGNAL_MSI] = {KVM_CAP_SIGNAL_MSI, "signal-msi"},
    [KVM_CAPX_IRQFD] = {KVM_CAP_IRQFD, "irqfd"},
    [KVM_CAPX_IOEVENTFD] = {KVM_CAP_IOEVENTFD, "ioeventfd"},
    [KVM_CAPX_COALESCED_MMIO] = {KVM_CAP_COALESCED_MMIO, "coalesced-mmio"},
    [KVM_CAPX_COALESCED_PIO] = {KVM_CAP_COALESCED_PIO, "coalesced-pio"},
    [KVM_CAPX_VCPU_EVENTS] = {KVM_CAP_VCPU_EVENTS, "vcpu-events"},
    [KVM_CAPX_DEBUGREGS] = {KVM_CAP_DEBUGREGS, "debugregs"},
    [KVM_CAPX_XSAVE] = {KVM_CAP_XSAVE, "xsave"},
    [KVM_CAPX_XCRS] = {KVM_CAP_XCRS, "xcrs"},
    [KVM_CAPX_PIT2] = {KVM_CAP_PIT2, "pit2"},
    [KVM_CAPX_MANUAL_DIRTY_LOG_PROTECT2] = {KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
					    "manual-dirty-log-protect"},
    [KVM_CAPX_IMMEDIATE_EXIT] = {KVM_CAP_IMMEDIATE_EXIT, "immediate-exit"},
    [KVM_CAPX_SET_GUEST_DEBUG] = {KVM_CAP_SET_GUEST_DEBUG, "guest-debug"},
    [KVM_CAPX_IRQCHIP] = {KVM_CAP_IRQCHIP, "irqchip"},
    [KVM_CAPX_TSC_CONTROL] = {KVM_CAP_TSC_CONTROL, "tsc-control"},
    [KVM_CAPX_KVMCLOCK_CTRL] = {KVM_CAP_KVMCLOCK_CTRL, "kvmclock-ctrl"},
    [KVM_CAPX_DIRTY_LOG_RING] = {KVM_CAP_DIRTY_LOG_RING, "dirty-log-ring"},
    [KVM_CAPX_DIRTY_LOG_RING_ACQ_REL] = {KVM_CAP_DIRTY_LOG_RING_ACQ_REL, "dirty-log-ring-acq-rel"},
    [KVM_CAPX_NR_MEMSLOTS] = {KVM_CAP_NR_MEMSLOTS, "nr-memslots"},
};

/* Capabilities petrel cannot work without. */
static const struct cap_desc required_caps[] = {
    {KVM_CAP_USER_MEMORY, "user-memory"},
    {KVM_CAP_DESTROY_MEMORY_REGION_WORKS, "destroy-memory-region-works"},
    {KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, "join-memory-regions-works"},
    {KVM_CAP_EXT_CPUID, "ext-cpuid"},
    {KVM_CAP_NR_MEMSLOTS, "nr-memslots"},
};

const char *kvm_cap_name(enum kvm_cap_id id)
{
	return id < KVM_CAPX_COUNT ? cap_table[id].name : "?";
}

int kvm_sys_check_extension(struct kvm_sys *sys, long cap)
{
	int ret = ioctl(sys->fd, KVM_CHECK_EXTENSION, cap);

	return ret < 0 ? 0 : ret;
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Does the host CPU offer VT-x (CPUID 1 ECX.5) or AMD-V (80000001h ECX.2)? Without /proc/cpuinfo's
 * cost. */
static bool cpu_has_hw_virt(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 5)))
		return true;
	return __get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 2));
}

int kvm_sys_open(struct kvm_sys *sys, const char *path)
{
	unsigned int i;
	int ret;

	memset(sys, 0, sizeof(*sys));
	if (!path)
		path = "/dev/kvm";
	sys->fd = open(path, O_RDWR | O_CLOEXEC);
	if (sys->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			fprintf(stderr,
				"petrel: %s does not exist: load kvm-intel or kvm-amd "
				"(modprobe kvm_intel / kvm_amd) and enable virtualization in "
				"the firmware\n",
				path);
		else if (ret == -EACCES || ret == -EPERM)
			fprintf(stderr,
				"petrel: %s: permission denied: add your user to the 'kvm' "
				"group (usermod -aG kvm $USER) and log in again\n",
				path);
		else
			fprintf(stderr, "petrel: cannot open %s: %s\n", path, strerror(-ret));
		return ret;
	}
	sys->api_version = ioctl(sys->fd, KVM_GET_API_VERSION, 0);
	if (sys->api_version != KVM_API_VERSION) {
		fprintf(stderr, "petrel: %s speaks KVM API version %d, petrel needs %d\n", path,
			sys->api_version, KVM_API_VERSION);
		ret = -EINVAL;
		goto out_close;
	}
	for (i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (!kvm_sys_check_extension(sys, required_caps[i].cap)) {
			fprintf(stderr,
				"petrel: KVM lacks the required capability %s: use a newer "
				"host kernel\n",
				required_caps[i].name);
			ret = -ENOTSUP;
			goto out_close;
		}
	}
	for (i = 0; i < KVM_CAPX_COUNT; i++)
		sys->caps[i] = kvm_sys_check_extension(sys, cap_table[i].cap);
	sys->nr_vcpus = kvm_sys_check_extension(sys, KVM_CAP_NR_VCPUS);
	sys->max_vcpus = kvm_sys_check_extension(sys, KVM_CAP_MAX_VCPUS);
	sys->run_size = ioctl(sys->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sys->run_size < (int)sizeof(struct kvm_run)) {
		fprintf(stderr, "petrel: KVM_GET_VCPU_MMAP_SIZE returned %d\n", sys->run_size);
		ret = -EINVAL;
		goto out_close;
	}
	sys->pvm = file_exists("/sys/module/kvm_pvm");
	sys->hw_virt = cpu_has_hw_virt();
	return 0;

out_close:
	close(sys->fd);
	sys->fd = -1;
	return ret;
}

void kvm_sys_close(struct kvm_sys *sys)
{
	if (sys->fd >= 0)
		close(sys->fd);
	sys->fd = -1;
}

uint32_t kvm_sys_dirty_ring_max(const struct kvm_sys *sys)
{
	int a = sys->caps[KVM_CAPX_DIRTY_LOG_RING_ACQ_REL], b = sys->caps[KVM_CAPX_DIRTY_LOG_RING];

	return (uint32_t)(a > 0 ? a : b > 0 ? b : 0);
}

int kvm_sys_vcpu_limit(const struct kvm_sys *sys)
{
	/* KVM_CAP_MAX_VCPUS may be absent: then NR_VCPUS, then 4. */
	if (sys->max_vcpus > 0)
		return sys->max_vcpus;
	if (sys->nr_vcpus > 0)
		return sys->nr_vcpus;
	return 4;
}

void kvm_sys_describe(const struct kvm_sys *sys, FILE *out)
{
	uint64_t mcg_cap;
	unsigned int i;

	fprintf(out, "kvm flavour: %s\n",
		sys->pvm       ? "kvm_pvm (software virtualization: guest kernel code is emulated)"
		: sys->hw_virt ? "hardware (VT-x/AMD-V)"
			       : "unknown (no vmx/svm flag)");
	fprintf(out, "api version: %d\n", sys->api_version);
	fprintf(out, "vcpus: recommended %d, maximum %d\n", sys->nr_vcpus, kvm_sys_vcpu_limit(sys));
	fprintf(out, "memory slots: %d\n", sys->caps[KVM_CAPX_NR_MEMSLOTS]);
	for (i = 0; i < KVM_CAPX_COUNT; i++) {
		if (i == KVM_CAPX_NR_MEMSLOTS)
			continue;
		fprintf(out, "  %-26s %s\n", cap_table[i].name, sys->caps[i] ? "yes" : "no");
	}
	if (kvm_sys_dirty_ring_max(sys))
		fprintf(
		    out,
		    "dirty log ring: yes, up to %u KiB per vCPU%s (petrel run --dirty-log ring)\n",
		    kvm_sys_dirty_ring_max(sys) >> 10,
		    sys->caps[KVM_CAPX_DIRTY_LOG_RING_ACQ_REL] > 0 ? ", acquire/release" : "");
	else
		fprintf(out, "dirty log ring: no (dirty pages come from the bitmap only)\n");
	mcg_cap = kvm_mce_host_cap(sys);
	if (mcg_cap)
		fprintf(out,
			"machine checks: %llu banks%s%s for guests (host memory errors become "
			"guest machine checks)\n",
			(unsigned long long)(mcg_cap & MCG_BANKCNT_MASK),
			mcg_cap & MCG_CTL_P ? ", MCG_CTL" : "",
			mcg_cap & MCG_SER_P ? ", software error recovery" : "");
	else
		fprintf(out, "machine checks: none (a host memory error in guest RAM stops "
			     "petrel)\n");
}
