// SPDX-License-Identifier: GPL-2.0-only
#include "vm/testdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define FIFO_SIZE 256

struct vm_testdev {
	struct machine *m;
	pthread_mutex_t lock;
	uint32_t last;
	uint8_t fifo[FIFO_SIZE];
	unsigned int fifo_head, fifo_len;
	uint8_t ids_seen[VM_MAX_VCPUS / 8];
	uint32_t dirty_list[VM_TESTDEV_DIRTY_PAGES];
	unsigned int dirty_len, dirty_pos;
	int doorbell_fd;
	bool doorbell_trapped; /* no ioeventfd: count the exits ourselves */
	uint64_t doorbells;
	uint64_t mmio_regs[512];
	uint8_t *overlay; /* host memory mapped over guest RAM by the split test */
	int irq_fd;	  /* irqfd bound to an MSI route by the interrupt test */
	int irq_gsi;
	bool forbidden_ok; /* the seccomp test's open worked */
};

/*
 * Interrupt test: an MSI route to the boot CPU's local APIC with the vector
 * the guest chose, an irqfd bound to it, and one write to the eventfd.
 */
static void irqfd_command(struct vm_testdev *td, uint8_t vector)
{
	struct machine *m = td->m;
	uint64_t one = 1;
	int ret;

	ret = platform_msi_route_set(&m->platform, &td->irq_gsi, 0xfee00000ULL, vector);
	if (!ret)
		ret = m->platform.ops->irqfd_set(m->platform.ctx, td->irq_fd, td->irq_gsi, true);
	if (!ret && write(td->irq_fd, &one, sizeof(one)) != sizeof(one))
		ret = -EIO;
	if (ret < 0)
		fprintf(stderr, "petrel: testdev: irqfd interrupt failed: %s\n", strerror(-ret));
}

#define SPLIT_GPA 0x300000ULL
#define SPLIT_SIZE 0x10000ULL

/*
 * Slot split test: 1 maps a separate host buffer over [SPLIT_GPA, +64 KiB),
 * splitting the RAM slot into prefix and suffix; 2 maps the RAM back.
 * Before the split, petrel writes known values around and under the window.
 */
static void split_command(struct vm_testdev *td, uint32_t cmd)
{
	struct machine *m = td->m;
	uint64_t v;
	int ret = 0;

	if (cmd == 1) {
		v = 0xaaaaaaaaaaaaaaaaULL;
		gm_write(&m->mem, SPLIT_GPA - 8, &v, 8);
		v = 0x4848484848484848ULL;
		gm_write(&m->mem, SPLIT_GPA, &v, 8);
		v = 0xbbbbbbbbbbbbbbbbULL;
		gm_write(&m->mem, SPLIT_GPA + SPLIT_SIZE, &v, 8);
		if (!td->overlay) {
			td->overlay = mmap(NULL, SPLIT_SIZE, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (td->overlay == MAP_FAILED) {
				td->overlay = NULL;
				return;
			}
		}
		memset(td->overlay, 0x4f, SPLIT_SIZE);
		ret = kvm_mem_add(&m->vm, SPLIT_GPA, SPLIT_SIZE, td->overlay, false);
	} else if (cmd == 2) {
		ret = kvm_mem_add(&m->vm, SPLIT_GPA, SPLIT_SIZE,
				  gm_ptr(&m->mem, SPLIT_GPA, SPLIT_SIZE), false);
	}
	if (ret < 0)
		fprintf(stderr, "petrel: testdev: slot split command %u failed\n", cmd);
}

/*
 * seccomp test: a syscall no vCPU thread's filter allows (a vCPU thread
 * never opens a file). Under --seccomp kill petrel does not come back.
 */
static void forbidden_command(struct vm_testdev *td)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	td->forbidden_ok = fd >= 0;
	if (fd >= 0)
		close(fd);
}

static uint64_t size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static void dirty_collect(void *opaque, uint64_t gpa, const unsigned long *bitmap, uint64_t npages)
{
	struct vm_testdev *td = opaque;

	gm_mark_dirty_bitmap(&td->m->mem, gpa, bitmap, npages);
}

static void dirty_command(struct vm_testdev *td, uint32_t cmd)
{
	struct machine *m = td->m;
	unsigned int i;

	if (cmd == 1) {
		if (kvm_dirty_log_global(&m->vm, true) < 0)
			fprintf(stderr, "petrel: testdev: cannot start dirty logging\n");
		gm_clear_dirty(&m->mem);
	} else if (cmd == 2) {
		if (kvm_dirty_log_sync(&m->vm, dirty_collect, td) < 0)
			fprintf(stderr, "petrel: testdev: dirty log sync failed\n");
		td->dirty_len = td->dirty_pos = 0;
		for (i = 0; i < VM_TESTDEV_DIRTY_PAGES; i++)
			if (gm_page_dirty(&m->mem, VM_TESTDEV_DIRTY_BASE + i * GM_PAGE_SIZE))
				td->dirty_list[td->dirty_len++] = i;
	}
}

static uint64_t doorbell_count(struct vm_testdev *td)
{
	uint64_t n;

	if (td->doorbell_fd >= 0 && read(td->doorbell_fd, &n, sizeof(n)) == sizeof(n))
		td->doorbells += n;
	return td->doorbells;
}

static uint64_t td_pio_read(void *opaque, uint64_t off, unsigned int size)
{
	struct vm_testdev *td = opaque;
	uint64_t val = ~0ULL;
	unsigned int i, n = 0;

	pthread_mutex_lock(&td->lock);
	switch (off) {
	case 0x0:
		val = ~(uint64_t)td->last & size_mask(size);
		break;
	case 0x4:
		val = 0;
		if (td->fifo_len) {
			val = td->fifo[td->fifo_head];
			td->fifo_head = (td->fifo_head + 1) % FIFO_SIZE;
			td->fifo_len--;
		}
		break;
	case 0x8:
		for (i = 0; i < sizeof(td->ids_seen); i++)
			n += (unsigned int)__builtin_popcount(td->ids_seen[i]);
		val = n;
		break;
	case 0xc:
		val = td->dirty_pos < td->dirty_len ? td->dirty_list[td->dirty_pos++] : 0xffffffffu;
		break;
	case 0x14:
		val = doorbell_count(td);
		break;
	case 0x18:
		val = kvm_slots_count(&td->m->vm.slots);
		break;
	case 0x20:
		val = td->forbidden_ok;
		break;
	}
	pthread_mutex_unlock(&td->lock);
	return val;
}

static void td_pio_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct vm_testdev *td = opaque;

	pthread_mutex_lock(&td->lock);
	switch (off) {
	case 0x0:
		td->last = (uint32_t)(val & size_mask(size));
		break;
	case 0x4:
		if (td->fifo_len < FIFO_SIZE) {
			td->fifo[(td->fifo_head + td->fifo_len) % FIFO_SIZE] = (uint8_t)val;
			td->fifo_len++;
		}
		break;
	case 0x8:
		if (val < VM_MAX_VCPUS)
			td->ids_seen[val / 8] |= (uint8_t)(1u << (val % 8));
		break;
	case 0xc:
		dirty_command(td, (uint32_t)val);
		break;
	case 0x10:
		/* Only reached when the doorbell has no ioeventfd. */
		td->doorbells++;
		break;
	case 0x18:
		split_command(td, (uint32_t)val);
		break;
	case 0x1c:
		irqfd_command(td, (uint8_t)val);
		break;
	case 0x20:
		forbidden_command(td);
		break;
	}
	pthread_mutex_unlock(&td->lock);
}

static const struct bus_ops td_pio_ops = {.read = td_pio_read, .write = td_pio_write};

static uint64_t td_mmio_read(void *opaque, uint64_t off, unsigned int size)
{
	struct vm_testdev *td = opaque;
	uint64_t val;

	pthread_mutex_lock(&td->lock);
	val = ~td->mmio_regs[(off / 8) % 512] & size_mask(size);
	pthread_mutex_unlock(&td->lock);
	return val;
}

static void td_mmio_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct vm_testdev *td = opaque;

	pthread_mutex_lock(&td->lock);
	td->mmio_regs[(off / 8) % 512] = val & size_mask(size);
	pthread_mutex_unlock(&td->lock);
}

static const struct bus_ops td_mmio_ops = {.read = td_mmio_read, .write = td_mmio_write};

int vm_testdev_create(struct machine *m)
{
	struct vm_testdev *td = calloc(1, sizeof(*td));
	int ret;

	if (!td)
		return -ENOMEM;
	td->m = m;
	pthread_mutex_init(&td->lock, NULL);
	m->testdev = td;
	td->irq_gsi = -1;
	/* made now: a vCPU thread's filter lets it use fds, not create them */
	td->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (td->irq_fd < 0)
		return -errno;
	td->doorbell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (td->doorbell_fd < 0)
		return -errno;
	ret =
	    bus_register(&m->pio, VM_TESTDEV_PORT, VM_TESTDEV_PORT_LEN, &td_pio_ops, td, "testdev");
	if (!ret)
		ret = bus_register(&m->mmio, VM_TESTDEV_MMIO, 0x1000, &td_mmio_ops, td,
				   "testdev-mmio");
	if (ret < 0)
		return ret;
	/* Writes to the upper half of the MMIO page are coalesced. */
	if (kvm_coalesced_add(&m->vm, VM_TESTDEV_MMIO + 0x800, 0x800, false) < 0)
		fprintf(stderr, "petrel: testdev: no coalesced MMIO\n");
	if (kvm_ioeventfd_set(&m->vm, VM_TESTDEV_PORT + 0x10, 2, td->doorbell_fd, true, false, 0,
			      true) < 0) {
		fprintf(stderr, "petrel: testdev: no ioeventfd, the doorbell will exit\n");
		close(td->doorbell_fd);
		td->doorbell_fd = -1;
		td->doorbell_trapped = true;
	}
	return 0;
}

void vm_testdev_destroy(struct machine *m)
{
	struct vm_testdev *td = m->testdev;

	if (!td)
		return;
	if (td->doorbell_fd >= 0) {
		if (m->vm.fd >= 0)
			kvm_ioeventfd_set(&m->vm, VM_TESTDEV_PORT + 0x10, 2, td->doorbell_fd, true,
					  false, 0, false);
		close(td->doorbell_fd);
	}
	if (td->overlay)
		munmap(td->overlay, SPLIT_SIZE);
	if (td->irq_fd >= 0) {
		if (m->vm.fd >= 0 && td->irq_gsi >= 0)
			m->platform.ops->irqfd_set(m->platform.ctx, td->irq_fd, td->irq_gsi, false);
		close(td->irq_fd);
	}
	if (td->irq_gsi >= 0 && m->vm.fd >= 0)
		m->platform.ops->msi_route_release(m->platform.ctx, td->irq_gsi);
	pthread_mutex_destroy(&td->lock);
	free(td);
	m->testdev = NULL;
}
