// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the PCI layer: configuration mechanism #1 and ECAM, BAR
 * sizing and mapping on real buses, the capability list, read-only fields,
 * INTx routing, and MSI-X against a fake platform that records routes and
 * irqfds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bus/bus.h"
#include "dev/platform.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "pci/pci_host.h"

#define ECAM 0xe0000000ULL
#define MAX_GSI 64

/* ---- fake platform ---- */

struct fake_plat {
	int next_gsi;
	unsigned int route_creates, route_updates, route_releases;
	bool route_live[MAX_GSI];
	uint64_t route_addr[MAX_GSI];
	uint32_t route_data[MAX_GSI];
	unsigned int irqfd_assigns, irqfd_deassigns;
	int bound_efd[MAX_GSI]; /* -1 when unbound */
	bool no_irqfd;
	unsigned int msis_sent;
	uint64_t msi_addr;
	uint32_t msi_data;
	int irq_level[MAX_GSI]; /* last level driven on each line */
	unsigned int irq_sets;
};

static int fake_route_set(void *ctx, int *gsi, uint64_t addr, uint32_t data)
{
	struct fake_plat *f = ctx;

	if (*gsi < 0) {
		if (f->next_gsi >= MAX_GSI)
			return -ENOSPC;
		*gsi = f->next_gsi++;
		f->route_creates++;
	} else {
		assert_true(*gsi < MAX_GSI);
		assert_true(f->route_live[*gsi]);
		f->route_updates++;
	}
	f->route_live[*gsi] = true;
	f->route_addr[*gsi] = addr;
	f->route_data[*gsi] = data;
	return 0;
}

static void fake_route_release(void *ctx, int gsi)
{
	struct fake_plat *f = ctx;

	assert_true(gsi >= 0 && gsi < MAX_GSI);
	assert_true(f->route_live[gsi]);
	assert_int_equal(f->bound_efd[gsi], -1); /* unbound before released */
	f->route_live[gsi] = false;
	f->route_releases++;
}

static int fake_irqfd_set(void *ctx, int efd, int gsi, bool assign)
{
	struct fake_plat *f = ctx;

	if (f->no_irqfd)
		return -ENOSYS;
	assert_true(gsi >= 0 && gsi < MAX_GSI);
	if (assign) {
		assert_true(f->route_live[gsi]);
		assert_int_equal(f->bound_efd[gsi], -1);
		f->bound_efd[gsi] = efd;
		f->irqfd_assigns++;
	} else {
		assert_int_equal(f->bound_efd[gsi], efd);
		f->bound_efd[gsi] = -1;
		f->irqfd_deassigns++;
	}
	return 0;
}

static int fake_send_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct fake_plat *f = ctx;

	f->msis_sent++;
	f->msi_addr = addr;
	f->msi_data = data;
	return 0;
}

static void fake_set_irq(void *ctx, unsigned int gsi, int level)
{
	struct fake_plat *f = ctx;

	if (gsi < MAX_GSI)
		f->irq_level[gsi] = level;
	f->irq_sets++;
}

static const struct platform_ops fake_ops = {
    .set_irq = fake_set_irq,
    .msi_route_set = fake_route_set,
    .msi_route_release = fake_route_release,
    .irqfd_set = fake_irqfd_set,
    .send_msi = fake_send_msi,
};

static void fake_init(struct fake_plat *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->next_gsi = 24;
	for (i = 0; i < MAX_GSI; i++)
		f->bound_efd[i] = -1;
}

/* ---- a machine: two buses and a host bridge ---- */

struct env {
	struct bus pio, mmio;
	struct pci_host h;
	struct fake_plat fp;
	struct platform plat;
};

static void env_init(struct env *e)
{
	assert_int_equal(bus_init(&e->pio, "pio"), 0);
	assert_int_equal(bus_init(&e->mmio, "mmio"), 0);
	assert_int_equal(pci_host_init(&e->h, &e->pio, &e->mmio), 0);
	assert_int_equal(pci_host_register(&e->h, ECAM), 0);
	fake_init(&e->fp);
	e->plat.ops = &fake_ops;
	e->plat.ctx = &e->fp;
}

static void env_fini(struct env *e)
{
	pci_host_destroy(&e->h);
	assert_int_equal(e->mmio.nr, 0);
	assert_int_equal(e->pio.nr, 0);
	bus_destroy(&e->pio);
	bus_destroy(&e->mmio);
}

static uint32_t cam_read(struct env *e, unsigned int bus, unsigned int devfn, uint32_t reg,
			 unsigned int size)
{
	uint64_t v;

	bus_write(&e->pio, 0xcf8, 4, 0x80000000u | bus << 16 | devfn << 8 | (reg & 0xfc));
	bus_read(&e->pio, 0xcfc + (reg & 3), size, &v);
	return (uint32_t)v;
}

static void cam_write(struct env *e, unsigned int bus, unsigned int devfn, uint32_t reg,
		      unsigned int size, uint32_t val)
{
	bus_write(&e->pio, 0xcf8, 4, 0x80000000u | bus << 16 | devfn << 8 | (reg & 0xfc));
	bus_write(&e->pio, 0xcfc + (reg & 3), size, val);
}

static uint64_t ecam_addr(unsigned int bus, unsigned int devfn, uint32_t reg)
{
	return ECAM + ((uint64_t)bus << 20 | (uint64_t)devfn << 12 | reg);
}

static uint32_t ecam_read(struct env *e, unsigned int bus, unsigned int devfn, uint32_t reg,
			  unsigned int size)
{
	uint64_t v;

	assert_true(bus_read(&e->mmio, ecam_addr(bus, devfn, reg), size, &v));
	return (uint32_t)v;
}

static void ecam_write(struct env *e, unsigned int bus, unsigned int devfn, uint32_t reg,
		       unsigned int size, uint32_t val)
{
	assert_true(bus_write(&e->mmio, ecam_addr(bus, devfn, reg), size, val));
}

/* A BAR that records accesses. */
struct bar_rec {
	uint64_t last_off;
	unsigned int reads, writes;
};

static uint64_t rec_read(void *opaque, uint64_t off, unsigned int size)
{
	struct bar_rec *r = opaque;

	r->last_off = off;
	r->reads++;
	return 0xab00 + off;
}

static void rec_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct bar_rec *r = opaque;

	r->last_off = off;
	r->writes++;
}

static const struct bus_ops rec_ops = {rec_read, rec_write};

/* ---- tests ---- */

static void test_cam_host_bridge(void **state)
{
	struct env e;
	unsigned int slot;
	uint64_t v;

	env_init(&e);
	assert_int_equal(cam_read(&e, 0, 0, PCI_VENDOR_ID, 4), 0x29c08086);
	assert_int_equal(cam_read(&e, 0, 0, PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(cam_read(&e, 0, 0, PCI_DEVICE_ID, 2), 0x29c0);
	assert_int_equal(cam_read(&e, 0, 0, PCI_DEVICE_ID + 1, 1), 0x29);
	assert_int_equal(cam_read(&e, 0, 0, PCI_REVISION_ID, 4) >> 8, 0x060000);
	assert_int_equal(cam_read(&e, 0, 0, PCI_HEADER_TYPE, 1), 0);
	for (slot = 1; slot < 32; slot++)
		assert_int_equal(cam_read(&e, 0, PCI_DEVFN(slot, 0), 0, 4), 0xffffffffu);
	/* function 1 of the bridge, other buses: nothing */
	assert_int_equal(cam_read(&e, 0, PCI_DEVFN(0, 1), 0, 4), 0xffffffffu);
	assert_int_equal(cam_read(&e, 1, 0, 0, 4), 0xffffffffu);
	assert_int_equal(cam_read(&e, 255, 0, 0, 2), 0xffff);

	/* CONFIG_ADDRESS reads back; the enable bit gates CONFIG_DATA */
	bus_write(&e.pio, 0xcf8, 4, 0x80000000u);
	assert_true(bus_read(&e.pio, 0xcf8, 4, &v));
	assert_int_equal(v, 0x80000000u);
	bus_write(&e.pio, 0xcf8, 4, 0x00000000u);
	bus_read(&e.pio, 0xcfc, 4, &v);
	assert_int_equal((uint32_t)v, 0xffffffffu);
	/* byte and word writes at 0xcf8 do not touch the latch */
	bus_write(&e.pio, 0xcf8, 4, 0x80000000u);
	bus_write(&e.pio, 0xcf8, 1, 0x12);
	bus_write(&e.pio, 0xcf8, 2, 0x1234);
	bus_read(&e.pio, 0xcf8, 4, &v);
	assert_int_equal(v, 0x80000000u);
	/* unaligned CONFIG_DATA accesses are dropped */
	bus_read(&e.pio, 0xcfd, 2, &v);
	assert_int_equal((uint32_t)v, 0xffffffffu);
	/* the reset control register at 0xcf9 stays free for the machine */
	assert_int_equal(bus_register(&e.pio, 0xcf9, 1, &rec_ops, NULL, "reset"), 0);
	bus_unregister(&e.pio, 0xcf9);
	env_fini(&e);
}

static void test_ecam(void **state)
{
	struct env e;
	struct pci_dev d;
	unsigned int slot;
	uint64_t v;

	env_init(&e);
	pci_dev_init(&d, 0x1af4, 0x1041, 0x02, 0x00, 0x00, 0x1af4, 0x0001, 1);
	assert_int_equal(pci_host_plug(&e.h, &d), 1);

	assert_int_equal(ecam_read(&e, 0, 0, 0, 4), 0x29c08086);
	assert_int_equal(ecam_read(&e, 0, 0, 0x0a, 2), 0x0600);
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), 0, 4), 0x10411af4);
	assert_int_equal(cam_read(&e, 0, PCI_DEVFN(1, 0), 0, 4), 0x10411af4);
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), PCI_SUBSYS_VENDOR_ID, 4), 0x00011af4);
	for (slot = 2; slot < 32; slot++)
		assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(slot, 0), 0, 4), 0xffffffffu);
	/* extended space exists and is empty */
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), 0x100, 4), 0);
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), 0xffc, 4), 0);

	/* hostile: bus 255, other functions, accesses leaving the 4 KiB */
	assert_int_equal(ecam_read(&e, 255, 0xff, 0, 4), 0xffffffffu);
	assert_int_equal(ecam_read(&e, 255, 0, 0xffc, 4), 0xffffffffu);
	ecam_write(&e, 255, 0, PCI_COMMAND, 2, 0xffff);
	ecam_write(&e, 0, PCI_DEVFN(1, 3), PCI_COMMAND, 2, 0xffff);
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), 0xffe, 4), 0xffffffffu);
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), 0xfff, 2), 0xffffffffu);
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), 0x1, 4), 0xffffffffu);
	ecam_write(&e, 0, PCI_DEVFN(1, 0), 0xffe, 4, 0xffffffff);
	ecam_write(&e, 0, PCI_DEVFN(1, 0), 0xfff, 1, 0xff);
	assert_true(bus_read(&e.mmio, ecam_addr(0, PCI_DEVFN(1, 0), 0), 8, &v));
	assert_int_equal(v, ~0ULL);
	assert_true(bus_write(&e.mmio, ecam_addr(0, PCI_DEVFN(1, 0), 0), 8, ~0ULL));
	assert_true(bus_read(&e.mmio, ecam_addr(0, PCI_DEVFN(1, 0), 0), 3, &v));
	assert_true(bus_read(&e.mmio, ECAM + PCI_HOST_ECAM_SIZE - 1, 1, &v));
	assert_int_equal((uint8_t)v, 0xff);
	assert_false(bus_read(&e.mmio, ECAM + PCI_HOST_ECAM_SIZE, 4, &v));
	/* nothing changed */
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), 0, 4), 0x10411af4);
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), PCI_COMMAND, 2), 0);
	assert_int_equal(ecam_read(&e, 0, PCI_DEVFN(1, 0), 0xffc, 4), 0);

	/* the direct accessors are as careful */
	assert_int_equal(pci_config_read(&d, 4096, 1), 0xffffffffu);
	assert_int_equal(pci_config_read(&d, 0xffffffffu, 4), 0xffffffffu);
	assert_int_equal(pci_config_read(&d, 0, 3), 0xffffffffu);
	pci_config_write(&d, 0xfffffffeu, 4, 0);
	pci_config_write(&d, 0, 0, 0);
	env_fini(&e);
}

static uint32_t size_bar(struct pci_dev *d, uint32_t reg)
{
	pci_config_write(d, reg, 4, 0xffffffff);
	return pci_config_read(d, reg, 4);
}

static void test_bar_sizing(void **state)
{
	struct pci_dev d;
	struct bar_rec r = {0};

	pci_dev_init(&d, 0x1234, 0x5678, 0xff, 0, 0, 0, 0, 0);
	assert_int_equal(pci_bar_add(&d, 0, 0x1000, false, false, &rec_ops, &r), 0);
	assert_int_equal(pci_bar_add(&d, 1, 0x100000, false, true, &rec_ops, &r), 0);
	assert_int_equal(pci_bar_set_prefetchable(&d, 1), 0);
	assert_int_equal(pci_bar_add(&d, 3, 0x20, true, false, &rec_ops, &r), 0);
	assert_int_equal(pci_bar_add(&d, 4, 0x200000000ULL, false, true, &rec_ops, &r), 0);

	/* type bits before sizing */
	assert_int_equal(pci_config_read(&d, PCI_BAR0, 4), 0);
	assert_int_equal(pci_config_read(&d, PCI_BAR0 + 4, 4), 0xc);
	assert_int_equal(pci_config_read(&d, PCI_BAR0 + 12, 4), 1);

	assert_int_equal(size_bar(&d, PCI_BAR0), 0xfffff000u);
	assert_int_equal(size_bar(&d, PCI_BAR0 + 4), 0xfff0000cu);
	assert_int_equal(size_bar(&d, PCI_BAR0 + 8), 0xffffffffu);
	assert_int_equal(size_bar(&d, PCI_BAR0 + 12), 0xffffffe1u);
	assert_int_equal(size_bar(&d, PCI_BAR0 + 16), 0x00000004u);
	assert_int_equal(size_bar(&d, PCI_BAR0 + 20), 0xfffffffeu);
	/* no expansion ROM */
	assert_int_equal(size_bar(&d, PCI_ROM_ADDRESS), 0);
	/* a 16-bit write to the low half sizes that half only */
	pci_config_write(&d, PCI_BAR0, 4, 0);
	pci_config_write(&d, PCI_BAR0 + 2, 2, 0xffff);
	assert_int_equal(pci_config_read(&d, PCI_BAR0, 4), 0xffff0000u);

	/* bad arguments */
	assert_int_equal(pci_bar_add(&d, 2, 0x1000, false, false, &rec_ops, &r), -EBUSY);
	assert_int_equal(pci_bar_add(&d, 0, 0x1000, false, false, &rec_ops, &r), -EBUSY);
	assert_int_equal(pci_bar_add(&d, 5, 0x1000, false, false, &rec_ops, &r), -EBUSY);

	pci_dev_init(&d, 0x1234, 0x5678, 0xff, 0, 0, 0, 0, 0);
	assert_int_equal(pci_bar_add(&d, 0, 0x1800, false, false, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 0, 8, false, false, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 0, 0, false, false, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 0, 2, true, false, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 0, 16, true, true, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 5, 0x1000, false, true, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 6, 0x1000, false, false, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, -1, 0x1000, false, false, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 0, 1ULL << 32, false, false, &rec_ops, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 0, 0x1000, false, false, NULL, &r), -EINVAL);
	assert_int_equal(pci_bar_add(&d, 0, 4, true, false, &rec_ops, &r), 0);
	assert_int_equal(size_bar(&d, PCI_BAR0), 0xfffffffdu);
	assert_int_equal(pci_bar_add(&d, 2, 16, false, true, &rec_ops, &r), 0);
	assert_int_equal(pci_bar_add(&d, 1, 16, false, true, &rec_ops, &r), -EBUSY);
	assert_int_equal(pci_bar_set_prefetchable(&d, 0), -EINVAL);
}

static void test_bar_mapping(void **state)
{
	struct env e;
	struct pci_dev d, d2;
	struct bar_rec r = {0}, r2 = {0}, rio = {0};
	unsigned int devfn, devfn2;
	uint64_t v;

	env_init(&e);
	pci_dev_init(&d, 0x1234, 0x0001, 0xff, 0, 0, 0, 0, 0);
	d.name = "dev1";
	assert_int_equal(pci_bar_add(&d, 0, 0x1000, false, false, &rec_ops, &r), 0);
	assert_int_equal(pci_bar_add(&d, 1, 0x20, true, false, &rec_ops, &rio), 0);
	assert_int_equal(pci_bar_add(&d, 2, 0x4000, false, true, &rec_ops, &r), 0);
	devfn = PCI_DEVFN(pci_host_plug(&e.h, &d), 0);

	/* address alone: not decoded */
	ecam_write(&e, 0, devfn, PCI_BAR0, 4, 0xc0000000);
	assert_null(bus_find(&e.mmio, 0xc0000000));
	assert_false(bus_read(&e.mmio, 0xc0000010, 4, &v));
	/* MEM on: claimed, accesses reach the device at BAR offsets */
	ecam_write(&e, 0, devfn, PCI_COMMAND, 2, PCI_COMMAND_MEM);
	assert_non_null(bus_find(&e.mmio, 0xc0000000));
	assert_non_null(bus_find(&e.mmio, 0xc0000fff));
	assert_null(bus_find(&e.mmio, 0xc0001000));
	assert_true(bus_read(&e.mmio, 0xc0000010, 4, &v));
	assert_int_equal(v, 0xab10);
	assert_int_equal(r.last_off, 0x10);
	assert_true(d.bar[0].mapped);
	assert_int_equal(d.bar[0].addr, 0xc0000000);
	/* the IO BAR is not decoded: COMMAND.IO is off */
	cam_write(&e, 0, devfn, PCI_BAR0 + 4, 4, 0xc000);
	assert_null(bus_find(&e.pio, 0xc000));
	/* the 64-bit BAR was never programmed: stays off */
	assert_false(d.bar[2].mapped);

	/* moved */
	ecam_write(&e, 0, devfn, PCI_BAR0, 4, 0xc0010000);
	assert_null(bus_find(&e.mmio, 0xc0000000));
	assert_non_null(bus_find(&e.mmio, 0xc0010000));
	assert_int_equal(d.bar[0].addr, 0xc0010000);

	/* IO decode */
	cam_write(&e, 0, devfn, PCI_COMMAND, 2, PCI_COMMAND_MEM | PCI_COMMAND_IO);
	assert_non_null(bus_find(&e.pio, 0xc01f));
	assert_true(bus_write(&e.pio, 0xc004, 1, 0x5a));
	assert_int_equal(rio.last_off, 4);
	assert_int_equal(rio.writes, 1);

	/* 64-bit BAR above 4 GiB, programmed half by half */
	ecam_write(&e, 0, devfn, PCI_BAR0 + 8, 4, 0x00000000);
	ecam_write(&e, 0, devfn, PCI_BAR0 + 12, 4, 0x1);
	assert_non_null(bus_find(&e.mmio, 0x100000000ULL));
	ecam_write(&e, 0, devfn, PCI_BAR0 + 8, 4, 0x00004000);
	assert_non_null(bus_find(&e.mmio, 0x100004000ULL));
	assert_int_equal(d.bar[2].addr, 0x100004000ULL);

	/* sizing with decode on: the probe value is never claimed */
	ecam_write(&e, 0, devfn, PCI_BAR0, 4, 0xffffffff);
	assert_false(d.bar[0].mapped);
	assert_null(bus_find(&e.mmio, 0xfffff000));
	ecam_write(&e, 0, devfn, PCI_BAR0 + 8, 4, 0xffffffff);
	ecam_write(&e, 0, devfn, PCI_BAR0 + 12, 4, 0xffffffff);
	assert_false(d.bar[2].mapped);
	ecam_write(&e, 0, devfn, PCI_BAR0, 4, 0xc0000000);
	assert_true(d.bar[0].mapped);
	/* address 0 is never claimed */
	ecam_write(&e, 0, devfn, PCI_BAR0, 4, 0);
	assert_false(d.bar[0].mapped);
	assert_null(bus_find(&e.mmio, 0));
	ecam_write(&e, 0, devfn, PCI_BAR0, 4, 0xc0000000);
	assert_true(d.bar[0].mapped);

	/* a second device on top of the first stays unmapped */
	pci_dev_init(&d2, 0x1234, 0x0002, 0xff, 0, 0, 0, 0, 0);
	d2.name = "dev2";
	assert_int_equal(pci_bar_add(&d2, 0, 0x2000, false, false, &rec_ops, &r2), 0);
	devfn2 = PCI_DEVFN(pci_host_plug(&e.h, &d2), 0);
	assert_int_equal(devfn2, PCI_DEVFN(2, 0));
	ecam_write(&e, 0, devfn2, PCI_BAR0, 4, 0xc0000000);
	ecam_write(&e, 0, devfn2, PCI_COMMAND, 2, PCI_COMMAND_MEM);
	assert_false(d2.bar[0].mapped);
	assert_true(d2.bar_map_failures > 0);
	assert_true(bus_read(&e.mmio, 0xc0000020, 4, &v));
	assert_int_equal(r.last_off, 0x20);
	assert_int_equal(r2.reads, 0);
	/* moved away, it maps */
	ecam_write(&e, 0, devfn2, PCI_BAR0, 4, 0xc0002000);
	assert_true(d2.bar[0].mapped);
	assert_non_null(bus_find(&e.mmio, 0xc0003fff));

	/* MEM off: gone; the IO BAR stays */
	ecam_write(&e, 0, devfn, PCI_COMMAND, 2, PCI_COMMAND_IO);
	assert_null(bus_find(&e.mmio, 0xc0000000));
	assert_null(bus_find(&e.mmio, 0x100004000ULL));
	assert_false(d.bar[0].mapped);
	assert_non_null(bus_find(&e.pio, 0xc000));
	/* an IO BAR beyond 64 KiB is not claimed */
	ecam_write(&e, 0, devfn, PCI_BAR0 + 4, 4, 0x10000);
	assert_false(d.bar[1].mapped);

	env_fini(&e);
	assert_false(d2.bar[0].mapped);
}

static void test_cap_list(void **state)
{
	struct pci_dev d;
	uint8_t ids[3] = {0x09, 0x10, 0x05}, lens[3] = {5, 20, 14};
	int offs[3], i, n, off;

	pci_dev_init(&d, 0x1234, 0x5678, 0xff, 0, 0, 0, 0, 0);
	assert_int_equal(pci_config_read(&d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	assert_int_equal(pci_config_read(&d, PCI_CAP_PTR, 1), 0);
	for (i = 0; i < 3; i++) {
		offs[i] = pci_cap_add(&d, ids[i], lens[i]);
		assert_true(offs[i] >= 0x40 && offs[i] < 0x100);
		assert_int_equal(offs[i] & 3, 0);
		if (i)
			assert_true(offs[i] >= offs[i - 1] + lens[i - 1]);
	}
	assert_true(pci_config_read(&d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);

	/* walk it as a guest does */
	off = (int)pci_config_read(&d, PCI_CAP_PTR, 1) & 0xfc;
	for (n = 0; off; n++) {
		assert_true(n < 3);
		assert_int_equal(off, offs[n]);
		assert_int_equal(pci_config_read(&d, (uint32_t)off, 1), ids[n]);
		off = (int)pci_config_read(&d, (uint32_t)off + 1, 1) & 0xfc;
	}
	assert_int_equal(n, 3);
	assert_int_equal(pci_cap_find(&d, 0x10), offs[1]);
	assert_int_equal(pci_cap_find(&d, 0x11), 0);

	/* the links are read-only */
	pci_config_write(&d, PCI_CAP_PTR, 1, 0x80);
	pci_config_write(&d, (uint32_t)offs[0], 2, 0xffff);
	assert_int_equal(pci_config_read(&d, PCI_CAP_PTR, 1), offs[0]);
	assert_int_equal(pci_config_read(&d, (uint32_t)offs[0], 2), ids[0] | offs[1] << 8);

	assert_int_equal(pci_cap_add(&d, 0x01, 1), -EINVAL);
	while ((off = pci_cap_add(&d, 0x09, 24)) >= 0)
		assert_true(off + 24 <= 0x100);
	assert_int_equal(off, -ENOSPC);
	assert_int_equal(pci_cap_add(&d, 0x09, 200), -ENOSPC);
}

static void test_read_only_fields(void **state)
{
	struct pci_dev d;
	uint32_t before[16];
	unsigned int i;

	pci_dev_init(&d, 0x1af4, 0x1042, 0x01, 0x00, 0x00, 0x1af4, 0x0002, 1);
	pci_dev_set_intx_pin(&d, 1);
	pci_cap_add(&d, 0x09, 8);
	for (i = 0; i < 16; i++)
		before[i] = pci_config_read(&d, i * 4, 4);
	for (i = 0; i < 64; i++)
		pci_config_write(&d, i, 1, 0xff);

	/* IDs, class, header type, subsystem, cap pointer, pin: unchanged */
	assert_int_equal(pci_config_read(&d, 0, 4), before[0]);
	assert_int_equal(pci_config_read(&d, 8, 4), before[2]);
	assert_int_equal(pci_config_read(&d, PCI_HEADER_TYPE, 2), 0);
	assert_int_equal(pci_config_read(&d, PCI_SUBSYS_VENDOR_ID, 4), before[11]);
	assert_int_equal(pci_config_read(&d, PCI_CAP_PTR, 4), before[13]);
	assert_int_equal(pci_config_read(&d, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(pci_config_read(&d, PCI_ROM_ADDRESS, 4), 0);
	assert_int_equal(pci_config_read(&d, PCI_BAR0, 4), 0);
	/* COMMAND: only IO, MEM, BUS MASTER, INTX DISABLE */
	assert_int_equal(pci_config_read(&d, PCI_COMMAND, 2), PCI_COMMAND_IO | PCI_COMMAND_MEM |
								  PCI_COMMAND_MASTER |
								  PCI_COMMAND_INTX_DISABLE);
	/* STATUS: CAP_LIST read-only, error bits write-1-to-clear */
	assert_int_equal(pci_config_read(&d, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	d.cfg[PCI_STATUS + 1] |= 0xf9; /* the device reports errors */
	pci_config_write(&d, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	assert_int_equal(pci_config_read(&d, PCI_STATUS, 2),
			 (PCI_STATUS_CAP_LIST | 0xf900) & ~PCI_STATUS_REC_MASTER_ABORT);
	pci_config_write(&d, PCI_STATUS, 2, 0xffff);
	assert_int_equal(pci_config_read(&d, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	/* writing the status with a dword command write of 0 clears nothing */
	d.cfg[PCI_STATUS + 1] |= 0x80;
	pci_config_write(&d, PCI_COMMAND, 4, 0);
	assert_int_equal(pci_config_read(&d, PCI_STATUS, 2), PCI_STATUS_CAP_LIST | 0x8000);
	/* interrupt line is writable, the cache line size too */
	pci_config_write(&d, PCI_INTERRUPT_LINE, 1, 11);
	assert_int_equal(pci_config_read(&d, PCI_INTERRUPT_LINE, 1), 11);
	assert_int_equal(pci_config_read(&d, PCI_CACHE_LINE_SIZE, 1), 0xff);
	/* the rest of config space ignores writes */
	for (i = 64; i < PCI_CFG_SPACE_SIZE; i += 4)
		pci_config_write(&d, i, 4, 0xffffffff);
	for (i = 64; i < PCI_CFG_SPACE_SIZE; i += 4)
		if (i != 0x40 && i != 0x44)
			assert_int_equal(pci_config_read(&d, i, 4), 0);
	assert_int_equal(pci_config_read(&d, 0x40, 2), 0x0009);
}

static void test_intx_routing(void **state)
{
	struct env e;
	struct pci_dev d[5];
	uint8_t pins[5] = {1, 2, 3, 4, 0};
	unsigned int i;

	env_init(&e);
	for (i = 0; i < 5; i++) {
		pci_dev_init(&d[i], 0x1234, (uint16_t)i, 0xff, 0, 0, 0, 0, 0);
		pci_dev_set_intx_pin(&d[i], pins[i]);
		assert_int_equal(pci_host_plug(&e.h, &d[i]), (int)i + 1);
		assert_int_equal(d[i].devfn, PCI_DEVFN(i + 1, 0));
		assert_ptr_equal(d[i].mmio_bus, &e.mmio);
		assert_ptr_equal(d[i].pio_bus, &e.pio);
	}
	/* slot 1 INTA -> 17, slot 2 INTB -> 19, slot 3 INTC -> 17, slot 4 INTD -> 19 */
	assert_int_equal(cam_read(&e, 0, PCI_DEVFN(1, 0), PCI_INTERRUPT_LINE, 2), 0x0111);
	assert_int_equal(cam_read(&e, 0, PCI_DEVFN(2, 0), PCI_INTERRUPT_LINE, 2), 0x0213);
	assert_int_equal(cam_read(&e, 0, PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 2), 0x0311);
	assert_int_equal(cam_read(&e, 0, PCI_DEVFN(4, 0), PCI_INTERRUPT_LINE, 2), 0x0413);
	assert_int_equal(cam_read(&e, 0, PCI_DEVFN(5, 0), PCI_INTERRUPT_LINE, 2), 0x0000);
	for (i = 0; i < 5; i++)
		if (pins[i])
			assert_int_equal(pci_host_intx_gsi(&e.h, i + 1),
					 16 + (i + 1 + pins[i] - 1) % 4);
	assert_int_equal(pci_host_intx_gsi(&e.h, 6), 16 + 6 % 4);
	assert_int_equal(pci_intx_swizzle(0, 1), 16);
	assert_int_equal(pci_intx_swizzle(31, 4), 18);
	env_fini(&e);
}

/*
 * INTx through the host bridge: a shared line is the OR of its devices,
 * INTx Disable takes a device off its line, STATUS.INTERRUPT shows the level.
 */
static void test_intx_shared_lines(void **state)
{
	struct env e;
	struct pci_dev d[3], lone;
	unsigned int i;

	env_init(&e);
	for (i = 0; i < 3; i++) {
		pci_dev_init(&d[i], 0x1234, (uint16_t)i, 0xff, 0, 0, 0, 0, 0);
		pci_dev_set_intx_pin(&d[i], (uint8_t)(i + 1));
		d[i].platform = &e.plat;
		assert_int_equal(pci_host_plug(&e.h, &d[i]), (int)i + 1);
	}
	/* slot 1 INTA and slot 3 INTC share GSI 17; slot 2 INTB is on 19 */
	assert_int_equal(pci_host_intx_gsi(&e.h, 1), 17);
	assert_int_equal(pci_host_intx_gsi(&e.h, 3), 17);
	pci_intx_set(&d[0], true);
	pci_intx_set(&d[2], true);
	assert_int_equal(e.fp.irq_level[17], 1);
	pci_intx_set(&d[0], false);
	assert_int_equal(e.fp.irq_level[17], 1);
	pci_intx_set(&d[1], true);
	pci_intx_set(&d[1], false);
	assert_int_equal(e.fp.irq_level[19], 0);
	assert_int_equal(e.fp.irq_level[17], 1);
	pci_intx_set(&d[2], false);
	assert_int_equal(e.fp.irq_level[17], 0);

	/* STATUS.INTERRUPT follows the level; INTx Disable masks the line only */
	pci_intx_set(&d[2], true);
	assert_true(cam_read(&e, 0, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_false(cam_read(&e, 0, PCI_DEVFN(1, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cam_write(&e, 0, PCI_DEVFN(3, 0), PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(e.fp.irq_level[17], 0);
	assert_false(pci_intx_output(&d[2]));
	assert_true(cam_read(&e, 0, PCI_DEVFN(3, 0), PCI_STATUS, 4) & PCI_STATUS_INTERRUPT);
	assert_true(cam_read(&e, 0, PCI_DEVFN(3, 0), PCI_COMMAND, 4) &
		    (PCI_STATUS_INTERRUPT << 16));
	cam_write(&e, 0, PCI_DEVFN(3, 0), PCI_COMMAND, 2, 0);
	assert_int_equal(e.fp.irq_level[17], 1);
	pci_intx_set(&d[2], false);
	assert_false(cam_read(&e, 0, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);

	/* a device no host plugged drives nothing; bus master is then implied */
	pci_dev_init(&lone, 0x1234, 9, 0xff, 0, 0, 0, 0, 0);
	pci_dev_set_intx_pin(&lone, 1);
	lone.platform = &e.plat;
	i = e.fp.irq_sets;
	pci_intx_set(&lone, true);
	assert_int_equal(e.fp.irq_sets, i);
	assert_true(pci_dev_bus_master(&lone));
	assert_false(pci_dev_bus_master(&d[0]));
	cam_write(&e, 0, PCI_DEVFN(1, 0), PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_true(pci_dev_bus_master(&d[0]));
	env_fini(&e);
}

static void test_plug_full(void **state)
{
	struct env e;
	static struct pci_dev d[32];
	unsigned int i;

	env_init(&e);
	for (i = 0; i < 31; i++) {
		pci_dev_init(&d[i], 0x1234, (uint16_t)i, 0xff, 0, 0, 0, 0, 0);
		assert_int_equal(pci_host_plug(&e.h, &d[i]), (int)i + 1);
	}
	pci_dev_init(&d[31], 0x1234, 31, 0xff, 0, 0, 0, 0, 0);
	assert_int_equal(pci_host_plug(&e.h, &d[31]), -ENOSPC);
	assert_int_equal(cam_read(&e, 0, PCI_DEVFN(31, 0), 0, 4), 0x001e1234);
	env_fini(&e);
}

/* ---- MSI-X ---- */

#define MSIX_BAR_ADDR 0xc0100000ULL
#define NVEC 4
#define PBA_OFF 0x800

struct msix_env {
	struct env e;
	struct pci_dev d;
	struct msix x;
	unsigned int devfn;
	int cap;
};

static void msix_env_init(struct msix_env *m)
{
	env_init(&m->e);
	pci_dev_init(&m->d, 0x1af4, 0x1041, 0x02, 0, 0, 0x1af4, 1, 1);
	m->d.name = "msix-dev";
	pci_dev_set_intx_pin(&m->d, 1); /* plugged with a pin: COMMAND is the guest's */
	assert_int_equal(pci_bar_add(&m->d, 1, 0x1000, false, false, &msix_bar_ops, &m->x), 0);
	assert_int_equal(msix_init(&m->x, &m->d, NVEC, 1, 0, PBA_OFF, &m->e.plat), 0);
	m->cap = pci_cap_find(&m->d, PCI_CAP_ID_MSIX);
	assert_true(m->cap >= 0x40);
	m->devfn = PCI_DEVFN(pci_host_plug(&m->e.h, &m->d), 0);
	ecam_write(&m->e, 0, m->devfn, PCI_BAR0 + 4, 4, (uint32_t)MSIX_BAR_ADDR);
	ecam_write(&m->e, 0, m->devfn, PCI_COMMAND, 2, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	assert_true(m->d.bar[1].mapped);
}

static void msix_env_fini(struct msix_env *m)
{
	unsigned int g;

	msix_destroy(&m->x);
	for (g = 0; g < MAX_GSI; g++) {
		assert_false(m->e.fp.route_live[g]);
		assert_int_equal(m->e.fp.bound_efd[g], -1);
	}
	env_fini(&m->e);
}

static void entry_write(struct msix_env *m, unsigned int vec, unsigned int field, uint32_t val)
{
	assert_true(bus_write(&m->e.mmio, MSIX_BAR_ADDR + vec * 16 + field, 4, val));
}

static uint32_t entry_read(struct msix_env *m, unsigned int vec, unsigned int field)
{
	uint64_t v;

	assert_true(bus_read(&m->e.mmio, MSIX_BAR_ADDR + vec * 16 + field, 4, &v));
	return (uint32_t)v;
}

static uint64_t pba_read(struct msix_env *m)
{
	uint64_t v;

	assert_true(bus_read(&m->e.mmio, MSIX_BAR_ADDR + PBA_OFF, 8, &v));
	return v;
}

static void msix_ctrl(struct msix_env *m, uint16_t ctrl)
{
	ecam_write(&m->e, 0, m->devfn, (uint32_t)m->cap + MSIX_CAP_CTRL, 2, ctrl);
}

/* How many times the vector's eventfd was signalled since last asked. */
static uint64_t efd_count(struct msix_env *m, unsigned int vec)
{
	uint64_t v = 0;

	if (read(msix_vector_eventfd(&m->x, vec), &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int vec_gsi(struct msix_env *m, unsigned int vec)
{
	return m->x.vec[vec].gsi;
}

static void test_msix_capability(void **state)
{
	struct msix_env m;
	struct pci_dev d2;
	struct msix x2;
	unsigned int i;

	msix_env_init(&m);
	assert_int_equal(ecam_read(&m.e, 0, m.devfn, (uint32_t)m.cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(ecam_read(&m.e, 0, m.devfn, (uint32_t)m.cap + 2, 2), NVEC - 1);
	assert_int_equal(ecam_read(&m.e, 0, m.devfn, (uint32_t)m.cap + 4, 4), 0x0 | 1);
	assert_int_equal(ecam_read(&m.e, 0, m.devfn, (uint32_t)m.cap + 8, 4), PBA_OFF | 1);
	assert_true(ecam_read(&m.e, 0, m.devfn, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* only enable and function mask are writable */
	msix_ctrl(&m, 0xffff);
	assert_int_equal(ecam_read(&m.e, 0, m.devfn, (uint32_t)m.cap + 2, 2), 0xc000 | (NVEC - 1));
	ecam_write(&m.e, 0, m.devfn, (uint32_t)m.cap + 4, 4, 0xffffffff);
	assert_int_equal(ecam_read(&m.e, 0, m.devfn, (uint32_t)m.cap + 4, 4), 1);
	assert_true(msix_enabled(&m.x));
	msix_ctrl(&m, 0);
	assert_false(msix_enabled(&m.x));

	/* the table starts masked, address and data zero */
	for (i = 0; i < NVEC; i++) {
		assert_int_equal(entry_read(&m, i, MSIX_ENTRY_ADDR_LO), 0);
		assert_int_equal(entry_read(&m, i, MSIX_ENTRY_DATA), 0);
		assert_int_equal(entry_read(&m, i, MSIX_ENTRY_CTRL), 1);
	}
	/* reserved bits stay zero */
	entry_write(&m, 0, MSIX_ENTRY_ADDR_LO, 0xfee00003);
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 0xfffffffe);
	assert_int_equal(entry_read(&m, 0, MSIX_ENTRY_ADDR_LO), 0xfee00000);
	assert_int_equal(entry_read(&m, 0, MSIX_ENTRY_CTRL), 0);
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 1);

	/* bad layouts */
	pci_dev_init(&d2, 1, 2, 0xff, 0, 0, 0, 0, 0);
	pci_bar_add(&d2, 0, 0x1000, false, false, &msix_bar_ops, &x2);
	pci_bar_add(&d2, 1, 0x100, true, false, &msix_bar_ops, &x2);
	assert_int_equal(msix_init(&x2, &d2, 4, 0, 0, 0x20, &m.e.plat), -EINVAL);
	assert_int_equal(msix_init(&x2, &d2, 4, 1, 0, 0x80, &m.e.plat), -EINVAL);
	assert_int_equal(msix_init(&x2, &d2, 4, 2, 0, 0x80, &m.e.plat), -EINVAL);
	assert_int_equal(msix_init(&x2, &d2, 0, 0, 0, 0x80, &m.e.plat), -EINVAL);
	assert_int_equal(msix_init(&x2, &d2, 2049, 0, 0, 0x80, &m.e.plat), -EINVAL);
	assert_int_equal(msix_init(&x2, &d2, 4, 0, 0x4, 0x80, &m.e.plat), -EINVAL);
	assert_int_equal(msix_init(&x2, &d2, 256, 0, 0, 0x800, &m.e.plat), -EINVAL);
	assert_int_equal(pci_cap_find(&d2, PCI_CAP_ID_MSIX), 0);
	assert_int_equal(msix_init(&x2, &d2, 128, 0, 0, 0x800, &m.e.plat), 0);
	msix_destroy(&x2);
	msix_env_fini(&m);
}

static void test_msix_route_lifecycle(void **state)
{
	struct msix_env m;
	struct fake_plat *f = &m.e.fp;
	int gsi;

	msix_env_init(&m);
	entry_write(&m, 0, MSIX_ENTRY_ADDR_LO, 0xfee00000);
	entry_write(&m, 0, MSIX_ENTRY_ADDR_HI, 0);
	entry_write(&m, 0, MSIX_ENTRY_DATA, 0x4041);
	/* enabled but masked: nothing yet */
	msix_ctrl(&m, MSIX_CTRL_ENABLE);
	assert_int_equal(f->route_creates, 0);
	assert_int_equal(vec_gsi(&m, 0), -1);

	/* unmasked: route created, irqfd bound */
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 0);
	gsi = vec_gsi(&m, 0);
	assert_true(gsi >= 0);
	assert_int_equal(f->route_creates, 1);
	assert_int_equal(f->route_addr[gsi], 0xfee00000);
	assert_int_equal(f->route_data[gsi], 0x4041);
	assert_int_equal(f->bound_efd[gsi], msix_vector_eventfd(&m.x, 0));
	assert_int_equal(f->irqfd_assigns, 1);

	/* notify: one eventfd write, nothing pending */
	msix_notify(&m.x, 0);
	assert_int_equal(efd_count(&m, 0), 1);
	assert_int_equal(pba_read(&m), 0);

	/* reprogrammed while unmasked: the same route updated */
	entry_write(&m, 0, MSIX_ENTRY_ADDR_LO, 0xfee01000);
	assert_int_equal(f->route_updates, 1);
	assert_int_equal(f->route_addr[gsi], 0xfee01000);
	entry_write(&m, 0, MSIX_ENTRY_DATA, 0x4052);
	assert_int_equal(f->route_updates, 2);
	assert_int_equal(f->route_data[gsi], 0x4052);
	assert_int_equal(vec_gsi(&m, 0), gsi);
	assert_int_equal(f->irqfd_assigns, 1);
	/* rewriting the same values changes nothing */
	entry_write(&m, 0, MSIX_ENTRY_DATA, 0x4052);
	assert_int_equal(f->route_updates, 2);

	/* masked: irqfd unbound, route kept; signals become pending */
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 1);
	assert_int_equal(f->bound_efd[gsi], -1);
	assert_int_equal(f->irqfd_deassigns, 1);
	assert_true(f->route_live[gsi]);
	msix_notify(&m.x, 0);
	assert_int_equal(efd_count(&m, 0), 0);
	assert_int_equal(pba_read(&m), 1);
	assert_true(msix_pending(&m.x, 0));
	/* the PBA is read-only */
	assert_true(bus_write(&m.e.mmio, MSIX_BAR_ADDR + PBA_OFF, 8, 0));
	assert_int_equal(pba_read(&m), 1);

	/* unmasked: delivered at once, pending cleared, same route */
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 0);
	assert_int_equal(f->bound_efd[gsi], msix_vector_eventfd(&m.x, 0));
	assert_int_equal(efd_count(&m, 0), 1);
	assert_int_equal(pba_read(&m), 0);
	assert_int_equal(f->route_creates, 1);

	/* function mask */
	msix_ctrl(&m, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	assert_int_equal(f->bound_efd[gsi], -1);
	assert_true(f->route_live[gsi]);
	msix_notify(&m.x, 0);
	msix_notify(&m.x, 0);
	assert_int_equal(efd_count(&m, 0), 0);
	assert_int_equal(pba_read(&m), 1);
	msix_ctrl(&m, MSIX_CTRL_ENABLE);
	assert_int_equal(f->bound_efd[gsi], msix_vector_eventfd(&m.x, 0));
	assert_int_equal(efd_count(&m, 0), 1); /* pending is one bit: one message */
	assert_int_equal(pba_read(&m), 0);

	/* disable: unbound and released; signals pend */
	msix_ctrl(&m, 0);
	assert_int_equal(f->route_releases, 1);
	assert_false(f->route_live[gsi]);
	assert_int_equal(vec_gsi(&m, 0), -1);
	msix_notify(&m.x, 0);
	assert_int_equal(efd_count(&m, 0), 0);
	assert_int_equal(pba_read(&m), 1);
	/* re-enabled: a new route, the pending message delivered */
	msix_ctrl(&m, MSIX_CTRL_ENABLE);
	assert_int_equal(f->route_creates, 2);
	assert_true(vec_gsi(&m, 0) >= 0);
	assert_int_equal(efd_count(&m, 0), 1);
	assert_int_equal(pba_read(&m), 0);

	/* other vectors are independent */
	msix_notify(&m.x, 3);
	assert_int_equal(pba_read(&m), 1 << 3);
	assert_int_equal(efd_count(&m, 3), 0);
	msix_notify(&m.x, NVEC); /* out of range: ignored */
	msix_notify(&m.x, 0xffffffffu);

	/* reset: everything released and masked */
	msix_reset(&m.x);
	assert_int_equal(f->route_releases, 2);
	assert_int_equal(vec_gsi(&m, 0), -1);
	assert_int_equal(entry_read(&m, 0, MSIX_ENTRY_CTRL), 1);
	assert_int_equal(entry_read(&m, 0, MSIX_ENTRY_ADDR_LO), 0);
	assert_int_equal(pba_read(&m), 0);
	assert_false(msix_enabled(&m.x));
	assert_int_equal(ecam_read(&m.e, 0, m.devfn, (uint32_t)m.cap + 2, 2), NVEC - 1);
	msix_env_fini(&m);
}

/*
 * MSI-X enabled: the function stops driving its INTx pin (PCI 3.0, 6.8.2),
 * so an INTx it raised before (a virtio configuration change while the
 * driver was setting up) does not hold its shared line up for good.
 */
static void test_msix_enable_drops_intx(void **state)
{
	struct msix_env m;
	unsigned int gsi;

	env_init(&m.e);
	pci_dev_init(&m.d, 0x1af4, 0x1041, 0x02, 0, 0, 0x1af4, 1, 1);
	pci_dev_set_intx_pin(&m.d, 1);
	m.d.platform = &m.e.plat;
	assert_int_equal(pci_bar_add(&m.d, 1, 0x1000, false, false, &msix_bar_ops, &m.x), 0);
	assert_int_equal(msix_init(&m.x, &m.d, NVEC, 1, 0, PBA_OFF, &m.e.plat), 0);
	m.cap = pci_cap_find(&m.d, PCI_CAP_ID_MSIX);
	m.devfn = PCI_DEVFN(pci_host_plug(&m.e.h, &m.d), 0);
	gsi = pci_host_intx_gsi(&m.e.h, PCI_SLOT(m.devfn));
	pci_intx_set(&m.d, true);
	assert_int_equal(m.e.fp.irq_level[gsi], 1);
	assert_true(ecam_read(&m.e, 0, m.devfn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	msix_ctrl(&m, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	assert_int_equal(m.e.fp.irq_level[gsi], 0);
	assert_false(ecam_read(&m.e, 0, m.devfn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* unmasking or disabling it again raises nothing */
	msix_ctrl(&m, MSIX_CTRL_ENABLE);
	msix_ctrl(&m, 0);
	assert_int_equal(m.e.fp.irq_level[gsi], 0);
	/* INTx works again without MSI-X */
	pci_intx_set(&m.d, true);
	assert_int_equal(m.e.fp.irq_level[gsi], 1);
	pci_intx_set(&m.d, false);
	msix_env_fini(&m);
}

/* Bus Master Enable clear: no message goes out; they pend until it is set again. */
static void test_msix_bus_master(void **state)
{
	struct msix_env m;
	struct fake_plat *f = &m.e.fp;

	msix_env_init(&m);
	entry_write(&m, 0, MSIX_ENTRY_ADDR_LO, 0xfee00000);
	entry_write(&m, 0, MSIX_ENTRY_DATA, 0x41);
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 0);
	msix_ctrl(&m, MSIX_CTRL_ENABLE);
	msix_notify(&m.x, 0);
	assert_int_equal(efd_count(&m, 0), 1);
	ecam_write(&m.e, 0, m.devfn, PCI_COMMAND, 2, PCI_COMMAND_MEM);
	msix_bus_master_changed(&m.x);
	msix_notify(&m.x, 0);
	msix_notify(&m.x, 0);
	assert_int_equal(efd_count(&m, 0), 0);
	assert_int_equal(pba_read(&m), 1);
	/* unmasking meanwhile sends nothing either */
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 1);
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 0);
	assert_int_equal(efd_count(&m, 0), 0);
	/* on again: the pending message, once */
	ecam_write(&m.e, 0, m.devfn, PCI_COMMAND, 2, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	msix_bus_master_changed(&m.x);
	assert_int_equal(efd_count(&m, 0), 1);
	assert_int_equal(pba_read(&m), 0);
	msix_env_fini(&m);

	/* the same without irqfds: send_msi */
	msix_env_init(&m);
	f->no_irqfd = true;
	entry_write(&m, 0, MSIX_ENTRY_ADDR_LO, 0xfee00000);
	entry_write(&m, 0, MSIX_ENTRY_CTRL, 0);
	msix_ctrl(&m, MSIX_CTRL_ENABLE);
	ecam_write(&m.e, 0, m.devfn, PCI_COMMAND, 2, PCI_COMMAND_MEM);
	msix_bus_master_changed(&m.x);
	msix_notify(&m.x, 0);
	assert_int_equal(f->msis_sent, 0);
	ecam_write(&m.e, 0, m.devfn, PCI_COMMAND, 2, PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
	msix_bus_master_changed(&m.x);
	assert_int_equal(f->msis_sent, 1);
	msix_env_fini(&m);
}

static void test_msix_fallback_and_hostile(void **state)
{
	struct msix_env m;
	struct fake_plat *f = &m.e.fp;
	uint64_t v;

	msix_env_init(&m);
	f->no_irqfd = true;
	/* a 64-bit write of address lo/hi, then data and control */
	assert_true(bus_write(&m.e.mmio, MSIX_BAR_ADDR + 16, 8, 0xfee00000ULL));
	entry_write(&m, 1, MSIX_ENTRY_DATA, 0x31);
	entry_write(&m, 1, MSIX_ENTRY_CTRL, 0);
	msix_ctrl(&m, MSIX_CTRL_ENABLE);
	assert_true(vec_gsi(&m, 1) >= 0);
	assert_int_equal(f->irqfd_assigns, 0);
	msix_notify(&m.x, 1);
	assert_int_equal(f->msis_sent, 1);
	assert_int_equal(f->msi_addr, 0xfee00000);
	assert_int_equal(f->msi_data, 0x31);
	assert_int_equal(efd_count(&m, 1), 0);
	assert_true(bus_read(&m.e.mmio, MSIX_BAR_ADDR + 16, 8, &v));
	assert_int_equal(v, 0xfee00000ULL);
	assert_true(bus_read(&m.e.mmio, MSIX_BAR_ADDR + 24, 8, &v));
	assert_int_equal(v, 0x31);

	/* unmasked with a bogus address: no route, the signal is dropped */
	entry_write(&m, 2, MSIX_ENTRY_DATA, 0x22);
	entry_write(&m, 2, MSIX_ENTRY_CTRL, 0);
	assert_int_equal(vec_gsi(&m, 2), -1);
	msix_notify(&m.x, 2);
	assert_int_equal(f->msis_sent, 1);
	assert_int_equal(pba_read(&m), 0);

	/* odd sizes and offsets in the BAR: harmless */
	assert_true(bus_write(&m.e.mmio, MSIX_BAR_ADDR + 1, 4, 0xffffffff));
	assert_true(bus_write(&m.e.mmio, MSIX_BAR_ADDR + 2, 3, 0xffffffff));
	assert_true(bus_write(&m.e.mmio, MSIX_BAR_ADDR + NVEC * 16, 4, 0xffffffff));
	assert_true(bus_write(&m.e.mmio, MSIX_BAR_ADDR + 0xff8, 8, ~0ULL));
	assert_true(bus_read(&m.e.mmio, MSIX_BAR_ADDR + NVEC * 16, 4, &v));
	assert_int_equal(v, ~0ULL);
	assert_true(bus_read(&m.e.mmio, MSIX_BAR_ADDR + 3, 2, &v));
	assert_int_equal(v, ~0ULL);
	assert_true(bus_read(&m.e.mmio, MSIX_BAR_ADDR + PBA_OFF + 8, 8, &v));
	assert_int_equal(v, ~0ULL);
	assert_int_equal(entry_read(&m, 0, MSIX_ENTRY_ADDR_LO), 0);
	/* byte accesses work on the table */
	assert_true(bus_write(&m.e.mmio, MSIX_BAR_ADDR + 3 * 16 + 8, 1, 0x77));
	assert_int_equal(entry_read(&m, 3, MSIX_ENTRY_DATA), 0x77);
	assert_true(bus_read(&m.e.mmio, MSIX_BAR_ADDR + 3 * 16 + 12, 1, &v));
	assert_int_equal(v, 1);

	/* through the helper */
	v = 0;
	assert_false(msix_bar_access(&m.x, 0x400, 4, &v, false));
	assert_true(msix_bar_access(&m.x, PBA_OFF, 4, &v, false));
	assert_int_equal(v, 0);
	msix_env_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cam_host_bridge),
	    cmocka_unit_test(test_ecam),
	    cmocka_unit_test(test_bar_sizing),
	    cmocka_unit_test(test_bar_mapping),
	    cmocka_unit_test(test_cap_list),
	    cmocka_unit_test(test_read_only_fields),
	    cmocka_unit_test(test_intx_routing),
	    cmocka_unit_test(test_intx_shared_lines),
	    cmocka_unit_test(test_plug_full),
	    cmocka_unit_test(test_msix_capability),
	    cmocka_unit_test(test_msix_route_lifecycle),
	    cmocka_unit_test(test_msix_fallback_and_hostile),
	    cmocka_unit_test(test_msix_enable_drops_intx),
	    cmocka_unit_test(test_msix_bus_master),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
