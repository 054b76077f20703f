// SPDX-License-Identifier: GPL-2.0-only
/* The device platform interface implemented on KVM. */
#include "vm/platform_kvm.h"

#include <errno.h>
#include <time.h>

static void pk_set_irq(void *ctx, unsigned int gsi, int level)
{
	struct machine *m = ctx;

	if (m->vm.irqchip)
		kvm_irq_line(&m->vm, gsi, level);
}

static void pk_request_reset(void *ctx)
{
	machine_request_reset(ctx);
}

static void pk_request_poweroff(void *ctx)
{
	machine_request_stop(ctx, VM_EXIT_POWEROFF);
}

static uint64_t pk_clock_ns(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int pk_msi_route_set(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	struct machine *m = ctx;
	int ret;

	if (*gsi >= 0)
		return kvm_msi_route_update(&m->vm, (uint32_t)*gsi, addr, data);
	ret = kvm_msi_route_add(&m->vm, addr, data);
	if (ret < 0)
		return ret;
	*gsi = ret;
	return 0;
}

static void pk_msi_route_release(void *ctx, int gsi)
{
	struct machine *m = ctx;

	if (gsi >= 0)
		kvm_msi_route_release(&m->vm, (uint32_t)gsi);
}

static int pk_irqfd_set(void *ctx, int efd, int gsi, bool assign)
{
	struct machine *m = ctx;

	if (gsi < 0)
		return -EINVAL;
	return kvm_irqfd_set(&m->vm, efd, (uint32_t)gsi, -1, assign);
}

static int pk_send_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct machine *m = ctx;

	return kvm_signal_msi(&m->vm, addr, data);
}

static int pk_ioeventfd_set(void *ctx, uint64_t addr, unsigned int len, int efd, bool mmio,
			    bool assign)
{
	struct machine *m = ctx;

	return kvm_ioeventfd_set(&m->vm, addr, len, efd, !mmio, false, 0, assign);
}

static const struct platform_ops platform_kvm_ops = {
    .set_irq = pk_set_irq,
    .request_reset = pk_request_reset,
    .request_poweroff = pk_request_poweroff,
    .clock_ns = pk_clock_ns,
    .msi_route_set = pk_msi_route_set,
    .msi_route_release = pk_msi_route_release,
    .irqfd_set = pk_irqfd_set,
    .send_msi = pk_send_msi,
    .ioeventfd_set = pk_ioeventfd_set,
};

void platform_kvm_init(struct machine *m)
{
	m->platform.ops = &platform_kvm_ops;
	m->platform.ctx = m;
}
