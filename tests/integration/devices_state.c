// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device state across two machines on this machine's /dev/kvm: a machine
 * with a virtio-rng has its function programmed as a guest would (config
 * mechanism #1, BAR 0 placed and decoding, the driver's registers, a queue,
 * MSI-X on); its devices are saved; a second machine created from the same
 * configuration takes them, and the guest's view (config space, common
 * configuration, MSI-X table) reads back the same. A state from a machine
 * with another device, and a corrupted one, are refused by name. The machine
 * has a virtio-vsock too (not driven): its sections go across, and a state
 * saved with another guest cid is refused.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/devices.h"
#include "vm/machine.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL: %s (line %d)\n", #cond, __LINE__);                  \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define BAR 0xc0000000ULL /* in the 32-bit hole, where BARs go */
#define SLOT 1		  /* the first device plugged */

/* Sections kept in memory: a sink and a source over one list. */
#define MAX_SECTIONS 32
struct mem_state {
	unsigned int n;
	struct {
		char name[VM_STATE_NAME_MAX + 1];
		uint32_t version;
		void *data;
		size_t len;
	} s[MAX_SECTIONS];
};

static int mem_put(void *ctx, const char *name, uint32_t version, const void *data, size_t len)
{
	struct mem_state *st = ctx;

	if (st->n == MAX_SECTIONS || strlen(name) > VM_STATE_NAME_MAX)
		return -ENOSPC;
	snprintf(st->s[st->n].name, sizeof(st->s[0].name), "%s", name);
	st->s[st->n].version = version;
	st->s[st->n].data = malloc(len);
	if (!st->s[st->n].data)
		return -ENOMEM;
	memcpy(st->s[st->n].data, data, len);
	st->s[st->n++].len = len;
	return 0;
}

static int mem_get(void *ctx, const char *name, uint32_t max_version, const void **data,
		   size_t *len, uint32_t *version)
{
	struct mem_state *st = ctx;
	unsigned int i;

	for (i = 0; i < st->n; i++) {
		if (strcmp(st->s[i].name, name))
			continue;
		if (st->s[i].version > max_version)
			return -EINVAL;
		*data = st->s[i].data;
		*len = st->s[i].len;
		*version = st->s[i].version;
		return 0;
	}
	return -ENOENT;
}

static void *find(struct mem_state *st, const char *name)
{
	unsigned int i;

	for (i = 0; i < st->n; i++)
		if (!strcmp(st->s[i].name, name))
			return st->s[i].data;
	return NULL;
}

/* Config mechanism #1, as the guest does it. */
static uint32_t cfg_rd(struct machine *m, uint32_t reg, unsigned int size)
{
	uint64_t v = 0;

	bus_write(&m->pio, 0xcf8, 4, 0x80000000u | (SLOT << 11) | (reg & 0xfc));
	bus_read(&m->pio, 0xcfc + (reg & 3), size, &v);
	return (uint32_t)v;
}

static void cfg_wr(struct machine *m, uint32_t reg, unsigned int size, uint32_t val)
{
	bus_write(&m->pio, 0xcf8, 4, 0x80000000u | (SLOT << 11) | (reg & 0xfc));
	bus_write(&m->pio, 0xcfc + (reg & 3), size, val);
}

static uint64_t bar_rd(struct machine *m, uint64_t off, unsigned int size)
{
	uint64_t v = ~0ULL;

	CHECK(bus_read(&m->mmio, BAR + off, size, &v));
	return v;
}

static void bar_wr(struct machine *m, uint64_t off, unsigned int size, uint64_t val)
{
	CHECK(bus_write(&m->mmio, BAR + off, size, val));
}

/* What the guest reads: config space, common configuration of each queue, MSI-X table. */
static unsigned int guest_view(struct machine *m, uint32_t *out)
{
	unsigned int k = 0, off, q;

	for (off = 0; off < 0x100; off += 4)
		out[k++] = cfg_rd(m, off, 4);
	for (q = 0; q < 2; q++) {
		bar_wr(m, 0x16, 2, q);
		for (off = 0x16; off < 0x20; off += 2)
			out[k++] = (uint32_t)bar_rd(m, off, 2);
		for (off = 0x20; off < 0x38; off += 4)
			out[k++] = (uint32_t)bar_rd(m, off, 4);
	}
	out[k++] = (uint32_t)bar_rd(m, 0x10, 2);
	out[k++] = (uint32_t)bar_rd(m, 0x14, 1);
	for (off = 0; off < 32; off += 4)
		out[k++] = (uint32_t)bar_rd(m, 0x4000 + off, 4);
	return k;
}

/* The driver brings the device up: BAR 0, decoding and bus mastering, queue 0, MSI-X. */
static void program(struct machine *m)
{
	uint8_t cap;

	CHECK(cfg_rd(m, 0, 4) == 0x10441af4); /* virtio-rng */
	cfg_wr(m, 0x10, 4, (uint32_t)BAR);
	cfg_wr(m, 0x14, 4, 0);
	cfg_wr(m, 0x04, 2, 0x0006);
	bar_wr(m, 0x14, 1, 1);
	bar_wr(m, 0x14, 1, 3);
	bar_wr(m, 0x08, 4, 1);
	bar_wr(m, 0x0c, 4, 1); /* VERSION_1 */
	bar_wr(m, 0x14, 1, 0xb);
	bar_wr(m, 0x16, 2, 0);
	bar_wr(m, 0x18, 2, 64);
	bar_wr(m, 0x1a, 2, 1);
	bar_wr(m, 0x20, 4, 0x10000);
	bar_wr(m, 0x28, 4, 0x11000);
	bar_wr(m, 0x30, 4, 0x12000);
	bar_wr(m, 0x1c, 2, 1);
	bar_wr(m, 0x14, 1, 0xf);
	bar_wr(m, 0x4010, 4, 0xfee00000); /* vector 1 */
	bar_wr(m, 0x4018, 4, 0x31);
	bar_wr(m, 0x401c, 4, 0);
	for (cap = (uint8_t)cfg_rd(m, 0x34, 1); cap; cap = (uint8_t)cfg_rd(m, cap + 1, 1))
		if (cfg_rd(m, cap, 1) == 0x11)
			break;
	CHECK(cap);
	cfg_wr(m, cap + 2, 2, 0x8000);
	CHECK(bar_rd(m, 0x14, 1) == 0xf);
}

int main(int argc, char **argv)
{
	static struct machine a, b, c;
	static struct mem_state st;
	struct vm_state_sink sink = {.put = mem_put, .ctx = &st};
	struct vm_state_source src = {.get = mem_get, .ctx = &st};
	struct vm_config cfg = {.cpus = 1,
				.mem_size = 16ULL << 20,
				.boot = VM_BOOT_FLAT_LONG,
				.serial = VM_SERIAL_OFF,
				.rng = true,
				.balloon = {.on = true, .target_mib = 4, .stats_interval_s = 2},
				.sandbox = 0};
	static uint32_t va[256], vb[256];
	char dir[] = "/tmp/petrel-devstate-XXXXXX";
	struct vm_state_err err = {""};
	unsigned int na, nb;
	uint8_t *q0, *pci, *bd;
	uint32_t pages;

	if (argc != 2) {
		fprintf(stderr, "usage: %s GUEST\n", argv[0]);
		return 2;
	}
	cfg.firmware = argv[1];
	CHECK(mkdtemp(dir));
	cfg.vsock_on = true;
	cfg.vsock.cid = 7;
	snprintf(cfg.vsock.uds, sizeof(cfg.vsock.uds), "%s/v.sock", dir);
	CHECK(machine_create(&a, &cfg) == 0);
	program(&a);
	na = guest_view(&a, va);
	CHECK(vm_devices_save(&a, &sink, &err) == 0);
	CHECK(find(&st, "rng") && find(&st, "rng.pci") && find(&st, "pci-host") &&
	      find(&st, "uart.com1") && find(&st, "acpi-pm"));
	CHECK(find(&st, "vsock") && find(&st, "vsock.pci") && find(&st, "vsock.dev"));
	CHECK(find(&st, "balloon") && find(&st, "balloon.pci") && find(&st, "balloon.dev"));
	machine_destroy(&a);

	CHECK(machine_create(&b, &cfg) == 0);
	CHECK(vm_devices_restore(&b, &src, &err) == 0);
	nb = guest_view(&b, vb);
	CHECK(na == nb);
	CHECK(!memcmp(va, vb, na * sizeof(va[0])));
	/* a restored vsock device, not driven, has no transport reset to send */
	CHECK(vm_devices_announce(&b) == 0);
	machine_destroy(&b);

	/* another guest cid: the driver would be stranded, refused */
	cfg.vsock.cid = 8;
	CHECK(machine_create(&c, &cfg) == 0);
	CHECK(vm_devices_restore(&c, &src, &err) == -EINVAL);
	CHECK(strstr(err.msg, "'vsock.dev'") && strstr(err.msg, "guest_cid"));
	machine_destroy(&c);
	cfg.vsock.cid = 7;

	/* a machine without the device refuses the state by name */
	cfg.rng = false;
	cfg.nr_disks = 0;
	CHECK(machine_create(&c, &cfg) == 0);
	CHECK(vm_devices_restore(&c, &src, &err) == -EINVAL);
	CHECK(strstr(err.msg, "'rng'") || strstr(err.msg, "'pci-host'"));
	machine_destroy(&c);

	/* a balloon target beyond the guest's RAM: refused, naming section and field */
	cfg.rng = true;
	bd = find(&st, "balloon.dev");
	memcpy(&pages, bd + offsetof(struct virtio_balloon_state, num_pages), 4);
	CHECK(pages == 4 * 256);
	pages = (16 << 8) + 1;
	memcpy(bd + offsetof(struct virtio_balloon_state, num_pages), &pages, 4);
	CHECK(machine_create(&c, &cfg) == 0);
	CHECK(vm_devices_restore(&c, &src, &err) == -EINVAL);
	CHECK(strstr(err.msg, "'balloon.dev'") && strstr(err.msg, "num_pages"));
	machine_destroy(&c);
	pages = 4 * 256;
	memcpy(bd + offsetof(struct virtio_balloon_state, num_pages), &pages, 4);

	/* a corrupted queue size: refused, naming section and field */
	q0 = find(&st, "rng");
	q0[offsetof(struct virtio_pci_state, q[0].size)] = 3;
	CHECK(machine_create(&c, &cfg) == 0);
	CHECK(vm_devices_restore(&c, &src, &err) == -EINVAL);
	CHECK(strstr(err.msg, "'rng'") && strstr(err.msg, "q0.size"));
	machine_destroy(&c);
	/* BAR 0 placed over guest RAM: refused */
	q0[offsetof(struct virtio_pci_state, q[0].size)] = 64;
	pci = find(&st, "rng.pci");
	pci[0x11] = 0;
	pci[0x12] = 0x10;
	pci[0x13] = 0;
	CHECK(machine_create(&c, &cfg) == 0);
	CHECK(vm_devices_restore(&c, &src, &err) == -EINVAL);
	CHECK(strstr(err.msg, "'rng.pci'") && strstr(err.msg, "guest RAM"));
	machine_destroy(&c);
	CHECK(rmdir(dir) == 0); /* every machine removed its UDS */
	printf("device state restored into a second machine; bad states refused: %s\n", err.msg);
	return 0;
}
