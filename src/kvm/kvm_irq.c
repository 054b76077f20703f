// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-kernel irqchip's lines and petrel's GSI routing table: IRQ-chip pins
 * and MSI messages, each route keyed by GSI, committed with
 * KVM_SET_GSI_ROUTING. The table operations are pure and unit-tested.
 */
#include "kvm/kvm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kvm_irq_line(struct kvm_vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = {.irq = gsi, .level = (uint32_t)!!level};

	return kvm_vm_ioctl(vm, KVM_IRQ_LINE, &irq);
}

int kvm_routes_init(struct kvm_gsi_routes *r, unsigned int gsi_count)
{
	memset(r, 0, sizeof(*r));
	if (!gsi_count)
		return -EINVAL;
	r->gsi_count = gsi_count;
	r->used = calloc((gsi_count + 31) / 32, sizeof(uint32_t));
	r->nr_alloc = 32;
	r->table = calloc(1, sizeof(*r->table) + r->nr_alloc * sizeof(r->table->entries[0]));
	if (!r->used || !r->table) {
		free(r->used);
		free(r->table);
		r->used = NULL;
		r->table = NULL;
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void kvm_routes_free(struct kvm_gsi_routes *r)
{
	if (!r->table)
		return;
	free(r->used);
	free(r->table);
	pthread_mutex_destroy(&r->lock);
	memset(r, 0, sizeof(*r));
}

static bool gsi_used(const struct kvm_gsi_routes *r, unsigned int gsi)
{
	return r->used[gsi / 32] & (1U << (gsi % 32));
}

static void gsi_mark(struct kvm_gsi_routes *r, unsigned int gsi, bool used)
{
	if (used)
		r->used[gsi / 32] |= 1U << (gsi % 32);
	else
		r->used[gsi / 32] &= ~(1U << (gsi % 32));
}

int kvm_routes_alloc_gsi(struct kvm_gsi_routes *r)
{
	unsigned int gsi;

	for (gsi = 0; gsi < r->gsi_count; gsi++) {
		if (!gsi_used(r, gsi)) {
			gsi_mark(r, gsi, true);
			return (int)gsi;
		}
	}
	return -ENOSPC;
}

void kvm_routes_free_gsi(struct kvm_gsi_routes *r, unsigned int gsi)
{
	if (gsi < r->gsi_count)
		gsi_mark(r, gsi, false);
}

static struct kvm_irq_routing_entry *route_append(struct kvm_gsi_routes *r)
{
	struct kvm_irq_routing_entry *e;

	if (r->table->nr == r->nr_alloc) {
		unsigned int n = r->nr_alloc * 2;
		struct kvm_irq_routing *t =
			realloc(r->table, sizeof(*t) + n * sizeof(t->entries[0]));

		if (!t)
			return NULL;
		r->table = t;
		r->nr_alloc = n;
	}
	e = &r->table->entries[r->table->nr++];
	memset(e, 0, sizeof(*e));
	return e;
}

int kvm_routes_add_irqchip(struct kvm_gsi_routes *r, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e;

	if (gsi >= r->gsi_count)
		return -EINVAL;
	e = route_append(r);
	if (!e)
		return -ENOMEM;
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
	gsi_mark(r, gsi, true);
	return 0;
}

/* Set the single MSI route of gsi: replaced when present, added when not. */
int kvm_routes_set_msi(struct kvm_gsi_routes *r, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e = NULL;
	uint32_t i;

	if (gsi >= r->gsi_count)
		return -EINVAL;
	for (i = 0; i < r->table->nr; i++) {
		if (r->table->entries[i].gsi == gsi) {
			e = &r->table->entries[i];
			break;
		}
	}
	if (!e) {
		e = route_append(r);
		if (!e)
			return -ENOMEM;
	}
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	gsi_mark(r, gsi, true);
	return 0;
}

int kvm_routes_remove(struct kvm_gsi_routes *r, uint32_t gsi)
{
	uint32_t i, found = 0;

	for (i = 0; i < r->table->nr;) {
		if (r->table->entries[i].gsi == gsi) {
			r->table->entries[i] = r->table->entries[--r->table->nr];
			found++;
			continue;
		}
		i++;
	}
	if (!found)
		return -ENOENT;
	kvm_routes_free_gsi(r, gsi);
	return 0;
}

int kvm_routes_x86_defaults(struct kvm_gsi_routes *r)
{
	uint32_t gsi;
	int ret;

	for (gsi = 0; gsi < 24 && gsi < r->gsi_count; gsi++) {
		if (gsi < 16 && gsi != 2) {
			ret = kvm_routes_add_irqchip(r, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
								    : KVM_IRQCHIP_PIC_SLAVE,
						     gsi % 8);
			if (ret < 0)
				return ret;
		}
		/* The PIT's IRQ0 reaches IOAPIC pin 2 (ACPI interrupt override). */
		ret = kvm_routes_add_irqchip(r, gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int kvm_routes_commit(struct kvm_vm *vm)
{
	int ret;

	vm->routes.table->flags = 0;
	ret = kvm_vm_ioctl(vm, KVM_SET_GSI_ROUTING, vm->routes.table);
	if (ret < 0)
		fprintf(stderr, "petrel: KVM_SET_GSI_ROUTING (%u routes): %s\n",
			vm->routes.table->nr, strerror(-ret));
	return ret;
}

int kvm_msi_route_add(struct kvm_vm *vm, uint64_t addr, uint32_t data)
{
	int gsi, ret;

	if (!vm->routes.table)
		return -ENOSYS;
	pthread_mutex_lock(&vm->routes.lock);
	gsi = kvm_routes_alloc_gsi(&vm->routes);
	if (gsi < 0) {
		ret = gsi;
		goto out;
	}
	ret = kvm_routes_set_msi(&vm->routes, (uint32_t)gsi, addr, data);
	if (!ret)
		ret = kvm_routes_commit(vm);
	if (ret < 0)
		kvm_routes_remove(&vm->routes, (uint32_t)gsi);
	else
		ret = gsi;
out:
	pthread_mutex_unlock(&vm->routes.lock);
	return ret;
}

int kvm_msi_route_update(struct kvm_vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	int ret;

	if (!vm->routes.table)
		return -ENOSYS;
	pthread_mutex_lock(&vm->routes.lock);
	ret = kvm_routes_set_msi(&vm->routes, gsi, addr, data);
	if (!ret)
		ret = kvm_routes_commit(vm);
	pthread_mutex_unlock(&vm->routes.lock);
	return ret;
}

int kvm_msi_route_release(struct kvm_vm *vm, uint32_t gsi)
{
	int ret;

	if (!vm->routes.table)
		return -ENOSYS;
	pthread_mutex_lock(&vm->routes.lock);
	ret = kvm_routes_remove(&vm->routes, gsi);
	if (!ret)
		ret = kvm_routes_commit(vm);
	pthread_mutex_unlock(&vm->routes.lock);
	return ret;
}

int kvm_signal_msi(struct kvm_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	if (!vm->sys->caps[KVM_CAPX_SIGNAL_MSI])
		return -ENOSYS;
	return kvm_vm_ioctl(vm, KVM_SIGNAL_MSI, &msi);
}
