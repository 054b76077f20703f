/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ACPI fixed hardware: the PM1a event block (status, enable) and control
 * block, through which the guest's S5 (poweroff) reaches petrel, the fixed
 * power button, which raises the SCI, and the 0xcf9 reset register.
 */
#ifndef PETREL_DEV_ACPI_PM_H
#define PETREL_DEV_ACPI_PM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "dev/platform.h"

#define ACPI_PM_SLP_TYP_S5 5 /* must match the DSDT's \_S5 package */
#define ACPI_PM_EVT_LEN 4
#define ACPI_PM_CNT_LEN 2
#define ACPI_PM_RESET_PORT 0xcf9

/* PM1 status and enable bits (ACPI 6.x 4.8.3.1); enable bits sit at the same positions */
#define ACPI_PM1_PWRBTN 0x0100
#define ACPI_PM1_CNT_SCI_EN 0x0001

struct acpi_pm_state {
	uint16_t sts, en, cnt;
	uint8_t reset_reg;
	uint8_t sci_level; /* what the SCI line was last driven to */
};

struct acpi_pm {
	pthread_mutex_t lock;
	struct acpi_pm_state s;
	const struct platform *platform;
	unsigned int sci_gsi;
};

extern const struct bus_ops acpi_pm_evt_ops;   /* at X86_PORT_PM1A_EVT, 4 bytes */
extern const struct bus_ops acpi_pm_cnt_ops;   /* at X86_PORT_PM1A_CNT, 2 bytes */
extern const struct bus_ops acpi_pm_reset_ops; /* at 0xcf9, 1 byte */

/* @sci_gsi: the level-triggered line the FADT's SCI_INT names */
void acpi_pm_init(struct acpi_pm *pm, const struct platform *p, unsigned int sci_gsi);
/* A press of the fixed power button: sets PWRBTN_STS (the SCI follows PWRBTN_EN). */
int acpi_pm_power_button(struct acpi_pm *pm);
void acpi_pm_save(struct acpi_pm *pm, struct acpi_pm_state *out);
/* Takes the state and drives the SCI line to what it implies. */
void acpi_pm_restore(struct acpi_pm *pm, const struct acpi_pm_state *in);
/*
 * NULL, or the first field the guest could not have written: a status bit
 * the device never sets, SCI_EN clear (it stays set), an SCI level the
 * registers do not imply.
 */
const char *acpi_pm_state_check(const struct acpi_pm_state *s);

#endif
