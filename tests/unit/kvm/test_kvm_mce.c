// SPDX-License-Identifier: GPL-2.0-only
/* Host memory errors to machine-check records, without KVM. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kvm/kvm_mce.h"

#define MB (1ULL << 20)
#define GB (1ULL << 30)
#define LOW_HOST ((uint8_t *)0x7f0000000000ULL)
#define HIGH_HOST ((uint8_t *)0x7f4000000000ULL)
#define CAP (10 | MCG_CTL_P | MCG_SER_P)

/* The x86 layout: 3 GiB below the PCI hole, 1 GiB above 4 GiB, apart in the host. */
static struct kvm_slot_table t;

static int setup(void **state)
{
	(void)state;
	kvm_slots_init(&t, 32, NULL, NULL);
	assert_int_equal(kvm_slots_add(&t, 0, 3 * GB, LOW_HOST, 0), 0);
	assert_int_equal(kvm_slots_add(&t, 4 * GB, 1 * GB, HIGH_HOST, 0), 0);
	return 0;
}

static void test_pick_cap(void **state)
{
	(void)state;
	/* KVM's banks capped at ten; only the features petrel uses. */
	assert_int_equal(kvm_mce_pick_cap(32, MCG_CTL_P | MCG_SER_P | (1ULL << 27)),
			 10 | MCG_CTL_P | MCG_SER_P);
	assert_int_equal(kvm_mce_pick_cap(4, 0), 4);
	assert_int_equal(kvm_mce_pick_cap(0, MCG_CTL_P | MCG_SER_P), 0);
	assert_int_equal(kvm_mce_pick_cap(-22, MCG_CTL_P), 0);
}

static void test_action_required_intel(void **state)
{
	struct kvm_x86_mce mce;
	uint64_t gpa = 0;

	(void)state;
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_MCEERR_AR, LOW_HOST + 0x1234567, CAP, false, &gpa, &mce),
	    KVM_SIGBUS_INJECT);
	assert_int_equal(gpa, 0x1234000);
	assert_int_equal(mce.addr, 0x1234000);
	assert_int_equal(mce.bank, 9);
	assert_int_equal(mce.status, MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN |
					 MCI_STATUS_MISCV | MCI_STATUS_ADDRV | MCI_STATUS_S |
					 MCI_STATUS_AR | MCACOD_DATA_LOAD);
	assert_int_equal(mce.mcg_status, MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV);
	/* physical address mode, valid from bit 12: a 4 KiB page */
	assert_int_equal(mce.misc, (2 << 6) | 12);
}

static void test_action_optional_intel_above_4g(void **state)
{
	struct kvm_x86_mce mce;
	uint64_t gpa = 0;

	(void)state;
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_MCEERR_AO, HIGH_HOST + 5 * MB + 8, CAP, false, &gpa, &mce),
	    KVM_SIGBUS_INJECT);
	assert_int_equal(gpa, 4 * GB + 5 * MB);
	assert_int_equal(mce.addr, 4 * GB + 5 * MB);
	assert_int_equal(mce.status, MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN |
					 MCI_STATUS_MISCV | MCI_STATUS_ADDRV | MCI_STATUS_S |
					 MCACOD_SCRUB);
	assert_false(mce.status & MCI_STATUS_AR);
	assert_int_equal(mce.mcg_status, MCG_STATUS_MCIP | MCG_STATUS_RIPV);
}

static void test_amd(void **state)
{
	struct kvm_x86_mce mce;
	uint64_t gpa = 0;

	(void)state;
	/* Action required: uncorrected, poisoned data; no Intel SRAR bits. */
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_MCEERR_AR, LOW_HOST + 0x2000, CAP, true, &gpa, &mce),
	    KVM_SIGBUS_INJECT);
	assert_int_equal(mce.status, MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN |
					 MCI_STATUS_MISCV | MCI_STATUS_ADDRV | MCI_STATUS_POISON);
	assert_int_equal(mce.mcg_status, MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV);
	/* Action optional: a deferred error, logged without an exception. */
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_MCEERR_AO, LOW_HOST + 0x3000, CAP, true, &gpa, &mce),
	    KVM_SIGBUS_INJECT);
	assert_int_equal(gpa, 0x3000);
	assert_int_equal(mce.bank, 8); /* not the action-required errors' bank */
	assert_false(mce.status & MCI_STATUS_UC);
	assert_true(mce.status & MCI_STATUS_DEFERRED);
	assert_true(mce.status & MCI_STATUS_ADDRV);
}

static void test_not_guest_ram_is_fatal(void **state)
{
	struct kvm_x86_mce mce;
	uint64_t gpa = 0;

	(void)state;
	/* below, between and after the two RAM mappings */
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_MCEERR_AR, LOW_HOST - 1, CAP, false, &gpa, &mce),
	    KVM_SIGBUS_NOT_RAM);
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_MCEERR_AO, LOW_HOST + 3 * GB, CAP, false, &gpa, &mce),
	    KVM_SIGBUS_NOT_RAM);
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_MCEERR_AR, HIGH_HOST + 1 * GB, CAP, false, &gpa, &mce),
	    KVM_SIGBUS_NOT_RAM);
	assert_int_equal(kvm_mce_from_sigbus(&t, BUS_MCEERR_AR, NULL, CAP, false, &gpa, &mce),
			 KVM_SIGBUS_NOT_RAM);
}

static void test_not_memory_error_is_fatal(void **state)
{
	struct kvm_x86_mce mce;
	uint64_t gpa = 0;

	(void)state;
	/* a truncated file mapping, or kill -BUS: never given to the guest */
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_ADRERR, LOW_HOST + 0x1000, CAP, false, &gpa, &mce),
	    KVM_SIGBUS_NOT_MCE);
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_OBJERR, LOW_HOST + 0x1000, CAP, false, &gpa, &mce),
	    KVM_SIGBUS_NOT_MCE);
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, SI_USER, LOW_HOST + 0x1000, CAP, false, &gpa, &mce),
	    KVM_SIGBUS_NOT_MCE);
	assert_string_equal(kvm_sigbus_code_name(BUS_MCEERR_AR), "BUS_MCEERR_AR");
	assert_string_equal(kvm_sigbus_code_name(SI_USER), "SI_USER");
}

static void test_no_machine_checks(void **state)
{
	struct kvm_x86_mce mce;
	uint64_t gpa = 0;

	(void)state;
	/* guest RAM, but the host's KVM gave the vCPU no banks */
	assert_int_equal(
	    kvm_mce_from_sigbus(&t, BUS_MCEERR_AR, LOW_HOST + 0x1000, 0, false, &gpa, &mce),
	    KVM_SIGBUS_NO_MCE);
	assert_int_equal(gpa, 0x1000);
	assert_int_equal(kvm_mce_record(&mce, KVM_MCE_ACTION_REQUIRED, 0, 0, false), -EINVAL);
}

static void test_without_recovery(void **state)
{
	struct kvm_x86_mce mce;

	(void)state;
	/* No MCG_SER_P: the S and AR bits mean nothing to the guest; fewer banks. */
	assert_int_equal(
	    kvm_mce_record(&mce, KVM_MCE_ACTION_REQUIRED, 0x5678, 4 | MCG_CTL_P, false), 0);
	assert_int_equal(mce.bank, 3);
	assert_int_equal(mce.addr, 0x5000);
	assert_true(mce.status & MCI_STATUS_UC);
	assert_false(mce.status & (MCI_STATUS_S | MCI_STATUS_AR));
}

static void test_broadcast(void **state)
{
	struct kvm_x86_mce mce, other;

	(void)state;
	/* Intel: an exception reaches every vCPU; a logged AMD error or AMD's #MC stay local. */
	assert_int_equal(kvm_mce_record(&mce, KVM_MCE_ACTION_REQUIRED, 0x1000, CAP, false), 0);
	assert_true(kvm_mce_needs_broadcast(&mce, false));
	assert_int_equal(kvm_mce_record(&mce, KVM_MCE_ACTION_OPTIONAL, 0x1000, CAP, false), 0);
	assert_true(kvm_mce_needs_broadcast(&mce, false));
	assert_int_equal(kvm_mce_record(&mce, KVM_MCE_ACTION_REQUIRED, 0x1000, CAP, true), 0);
	assert_false(kvm_mce_needs_broadcast(&mce, true));
	assert_int_equal(kvm_mce_record(&mce, KVM_MCE_ACTION_OPTIONAL, 0x1000, CAP, true), 0);
	assert_false(kvm_mce_needs_broadcast(&mce, true));
	/* The others: valid, uncorrected, not enabled (nothing to act on), restartable. */
	assert_int_equal(kvm_mce_broadcast_record(&other, CAP), 0);
	assert_int_equal(other.bank, 1);
	assert_int_equal(other.status, MCI_STATUS_VAL | MCI_STATUS_UC);
	assert_false(other.status & MCI_STATUS_EN);
	assert_int_equal(other.mcg_status, MCG_STATUS_MCIP | MCG_STATUS_RIPV);
	assert_int_equal(kvm_mce_broadcast_record(&other, 1 | MCG_CTL_P), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pick_cap),
	    cmocka_unit_test_setup(test_action_required_intel, setup),
	    cmocka_unit_test_setup(test_action_optional_intel_above_4g, setup),
	    cmocka_unit_test_setup(test_amd, setup),
	    cmocka_unit_test_setup(test_not_guest_ram_is_fatal, setup),
	    cmocka_unit_test_setup(test_not_memory_error_is_fatal, setup),
	    cmocka_unit_test_setup(test_no_machine_checks, setup),
	    cmocka_unit_test(test_without_recovery),
	    cmocka_unit_test(test_broadcast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
