/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a device model may ask of the machine around it. Devices never see KVM:
 * src/vm implements this with KVM, unit tests with a fake that records calls.
 */
#ifndef PETREL_DEV_PLATFORM_H
#define PETREL_DEV_PLATFORM_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

struct platform_ops {
	/* Drive a (level-triggered or edge) interrupt line identified by GSI. */
	void (*set_irq)(void *ctx, unsigned int gsi, int level);
	/* Ask the machine to stop: reset (reboot) or power off. */
	void (*request_reset)(void *ctx);
	void (*request_poweroff)(void *ctx);
	/* Wall clock in nanoseconds since the epoch (CMOS RTC). */
	uint64_t (*clock_ns)(void *ctx);

	/*
	 * Message-signalled interrupts (PCI MSI-X). msi_route_set creates the
	 * route when *gsi < 0 (and stores the new GSI) or updates it in place;
	 * msi_route_release frees it. irqfd_set binds (assign) or unbinds an
	 * eventfd to a GSI: a write to it injects the interrupt without a vCPU
	 * exit. send_msi injects one message directly.
	 */
	int (*msi_route_set)(void *ctx, int *gsi, uint64_t addr, uint32_t data);
	void (*msi_route_release)(void *ctx, int gsi);
	int (*irqfd_set)(void *ctx, int efd, int gsi, bool assign);
	int (*send_msi)(void *ctx, uint64_t addr, uint32_t data);

	/*
	 * Doorbells: an eventfd signalled by the kernel when the guest writes
	 * len bytes at addr (MMIO when mmio, else port I/O), without an exit.
	 * Returns -errno; -ENOSYS means the caller must trap the write itself.
	 */
	int (*ioeventfd_set)(void *ctx, uint64_t addr, unsigned int len, int efd, bool mmio,
			     bool assign);
};

struct platform {
	const struct platform_ops *ops;
	void *ctx;
};

static inline void platform_set_irq(const struct platform *p, unsigned int gsi, int level)
{
	if (p && p->ops && p->ops->set_irq)
		p->ops->set_irq(p->ctx, gsi, level);
}

static inline void platform_request_reset(const struct platform *p)
{
	if (p && p->ops && p->ops->request_reset)
		p->ops->request_reset(p->ctx);
}

static inline void platform_request_poweroff(const struct platform *p)
{
	if (p && p->ops && p->ops->request_poweroff)
		p->ops->request_poweroff(p->ctx);
}

static inline int platform_msi_route_set(const struct platform *p, int *gsi, uint64_t addr,
					 uint32_t data)
{
	if (!p || !p->ops || !p->ops->msi_route_set)
		return -ENOSYS;
	return p->ops->msi_route_set(p->ctx, gsi, addr, data);
}

#endif
