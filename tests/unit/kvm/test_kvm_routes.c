// SPDX-License-Identifier: GPL-2.0-only
/* GSI allocation and the routing table, without KVM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kvm/kvm.h"

static const struct kvm_irq_routing_entry *find(struct kvm_gsi_routes *r, uint32_t gsi,
						uint32_t type, unsigned int nth)
{
	uint32_t i;

	for (i = 0; i < r->table->nr; i++) {
		const struct kvm_irq_routing_entry *e = &r->table->entries[i];

		if (e->gsi == gsi && e->type == type && nth-- == 0)
			return e;
	}
	return NULL;
}

static void test_x86_defaults(void **state)
{
	struct kvm_gsi_routes r;
	const struct kvm_irq_routing_entry *e;

	assert_int_equal(kvm_routes_init(&r, 64), 0);
	assert_int_equal(kvm_routes_x86_defaults(&r), 0);
	/* 15 PIC routes (not GSI 2) and 24 IOAPIC routes */
	assert_int_equal(r.table->nr, 15 + 24);
	e = find(&r, 0, KVM_IRQ_ROUTING_IRQCHIP, 1);
	assert_non_null(e);
	assert_int_equal(e->u.irqchip.irqchip, KVM_IRQCHIP_IOAPIC);
	assert_int_equal(e->u.irqchip.pin, 2);
	e = find(&r, 9, KVM_IRQ_ROUTING_IRQCHIP, 0);
	assert_int_equal(e->u.irqchip.irqchip, KVM_IRQCHIP_PIC_SLAVE);
	assert_int_equal(e->u.irqchip.pin, 1);
	assert_null(find(&r, 2, KVM_IRQ_ROUTING_IRQCHIP, 1));
	/* the first free GSI is after the IOAPIC pins */
	assert_int_equal(kvm_routes_alloc_gsi(&r), 24);
	kvm_routes_free(&r);
}

static void test_msi_add_update_remove(void **state)
{
	struct kvm_gsi_routes r;
	const struct kvm_irq_routing_entry *e;
	int gsi;

	assert_int_equal(kvm_routes_init(&r, 40), 0);
	assert_int_equal(kvm_routes_x86_defaults(&r), 0);
	gsi = kvm_routes_alloc_gsi(&r);
	assert_int_equal(gsi, 24);
	assert_int_equal(kvm_routes_set_msi(&r, (uint32_t)gsi, 0x1fee00000ULL, 0x4041), 0);
	e = find(&r, (uint32_t)gsi, KVM_IRQ_ROUTING_MSI, 0);
	assert_non_null(e);
	assert_int_equal(e->u.msi.address_lo, 0xfee00000);
	assert_int_equal(e->u.msi.address_hi, 1);
	assert_int_equal(e->u.msi.data, 0x4041);
	/* reprogramming updates in place */
	assert_int_equal(kvm_routes_set_msi(&r, (uint32_t)gsi, 0xfee01000, 0x22), 0);
	assert_int_equal(r.table->nr, 40);
	assert_int_equal(find(&r, (uint32_t)gsi, KVM_IRQ_ROUTING_MSI, 0)->u.msi.data, 0x22);
	/* released GSIs are reused */
	assert_int_equal(kvm_routes_remove(&r, (uint32_t)gsi), 0);
	assert_int_equal(r.table->nr, 39);
	assert_int_equal(kvm_routes_remove(&r, (uint32_t)gsi), -ENOENT);
	assert_int_equal(kvm_routes_alloc_gsi(&r), gsi);
	kvm_routes_free(&r);
}

static void test_exhaustion_and_bounds(void **state)
{
	struct kvm_gsi_routes r;
	int i;

	assert_int_equal(kvm_routes_init(&r, 33), 0);
	for (i = 0; i < 33; i++)
		assert_int_equal(kvm_routes_alloc_gsi(&r), i);
	assert_int_equal(kvm_routes_alloc_gsi(&r), -ENOSPC);
	assert_int_equal(kvm_routes_set_msi(&r, 33, 0xfee00000, 0), -EINVAL);
	assert_int_equal(kvm_routes_add_irqchip(&r, 1000, 0, 0), -EINVAL);
	kvm_routes_free_gsi(&r, 5);
	assert_int_equal(kvm_routes_alloc_gsi(&r), 5);
	/* the table grows past its first allocation */
	for (i = 0; i < 33; i++)
		assert_int_equal(kvm_routes_set_msi(&r, (uint32_t)i, 0xfee00000, (uint32_t)i), 0);
	assert_int_equal(r.table->nr, 33);
	kvm_routes_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_defaults),
		cmocka_unit_test(test_msi_add_update_remove),
		cmocka_unit_test(test_exhaustion_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
