// SPDX-License-Identifier: GPL-2.0-only
#include "dev/acpi_pm.h"

#include <string.h>

#define PM1_CNT_SLP_EN 0x2000
#define PM1_CNT_SLP_TYP(v) (((v) >> 10) & 7)

/* the PM1 events this device can signal */
#define PM1_EVT_SUPPORTED ACPI_PM1_PWRBTN

void acpi_pm_init(struct acpi_pm *pm, const struct platform *p, unsigned int sci_gsi)
{
	memset(pm, 0, sizeof(*pm));
	pthread_mutex_init(&pm->lock, NULL);
	pm->platform = p;
	pm->sci_gsi = sci_gsi;
	/* The machine starts in ACPI mode: no SMI handshake to enable it. */
	pm->s.cnt = ACPI_PM1_CNT_SCI_EN;
}

static bool sci_wanted(const struct acpi_pm_state *s)
{
	return (s->cnt & ACPI_PM1_CNT_SCI_EN) && (s->sts & s->en & PM1_EVT_SUPPORTED);
}

/*
 * Called with the lock held: the SCI is a level line, so its changes must
 * reach the platform in the order the state changed (as the UART does).
 */
static void update_sci(struct acpi_pm *pm)
{
	uint8_t level = sci_wanted(&pm->s);

	if (level == pm->s.sci_level)
		return;
	pm->s.sci_level = level;
	platform_set_irq(pm->platform, pm->sci_gsi, level);
}

int acpi_pm_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->s.sts |= ACPI_PM1_PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static uint64_t evt_read(void *opaque, uint64_t off, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	uint32_t both;

	pthread_mutex_lock(&pm->lock);
	both = (uint32_t)pm->s.sts | ((uint32_t)pm->s.en << 16);
	pthread_mutex_unlock(&pm->lock);
	return off < 4 ? (both >> (off * 8)) : ~0ULL;
}

static void evt_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct acpi_pm *pm = opaque;
	unsigned int i;

	pthread_mutex_lock(&pm->lock);
	for (i = 0; i < size && off + i < 4; i++) {
		uint16_t byte = (uint16_t)((val >> (i * 8)) & 0xff);
		unsigned int pos = (unsigned int)off + i;

		if (pos < 2)
			pm->s.sts &= (uint16_t) ~(byte << (pos * 8)); /* write 1 to clear */
		else
			pm->s.en = (uint16_t)((pm->s.en & ~(0xff << ((pos - 2) * 8))) |
					      (byte << ((pos - 2) * 8)));
	}
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static uint64_t cnt_read(void *opaque, uint64_t off, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	uint16_t v;

	pthread_mutex_lock(&pm->lock);
	v = pm->s.cnt;
	pthread_mutex_unlock(&pm->lock);
	return off < 2 ? (uint64_t)(v >> (off * 8)) : ~0ULL;
}

static void cnt_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct acpi_pm *pm = opaque;
	bool poweroff = false;
	uint16_t v;

	if (off != 0)
		return;
	pthread_mutex_lock(&pm->lock);
	v = size == 1 ? (uint16_t)((pm->s.cnt & 0xff00) | (val & 0xff)) : (uint16_t)val;
	/* SLP_EN is write-only; SCI_EN stays set. */
	pm->s.cnt = (uint16_t)((v & ~PM1_CNT_SLP_EN) | ACPI_PM1_CNT_SCI_EN);
	update_sci(pm);
	if ((v & PM1_CNT_SLP_EN) && PM1_CNT_SLP_TYP(v) == ACPI_PM_SLP_TYP_S5)
		poweroff = true;
	pthread_mutex_unlock(&pm->lock);
	if (poweroff)
		platform_request_poweroff(pm->platform);
}

static uint64_t reset_read(void *opaque, uint64_t off, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	uint8_t v;

	pthread_mutex_lock(&pm->lock);
	v = pm->s.reset_reg;
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void reset_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	pm->s.reset_reg = (uint8_t)val;
	pthread_mutex_unlock(&pm->lock);
	/* bit 2 starts the reset; bit 1 asks for a hard one: both reset petrel's machine */
	if (val & 0x04)
		platform_request_reset(pm->platform);
}

const struct bus_ops acpi_pm_evt_ops = {.read = evt_read, .write = evt_write};
const struct bus_ops acpi_pm_cnt_ops = {.read = cnt_read, .write = cnt_write};
const struct bus_ops acpi_pm_reset_ops = {.read = reset_read, .write = reset_write};

const char *acpi_pm_state_check(const struct acpi_pm_state *s)
{
	if (s->sts & ~PM1_EVT_SUPPORTED)
		return "sts";
	if (!(s->cnt & ACPI_PM1_CNT_SCI_EN) || (s->cnt & PM1_CNT_SLP_EN))
		return "cnt";
	if (s->sci_level != sci_wanted(s))
		return "sci_level";
	return NULL;
}

void acpi_pm_save(struct acpi_pm *pm, struct acpi_pm_state *out)
{
	pthread_mutex_lock(&pm->lock);
	*out = pm->s;
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_restore(struct acpi_pm *pm, const struct acpi_pm_state *in)
{
	pthread_mutex_lock(&pm->lock);
	pm->s = *in;
	/* drive the line from the registers, whatever it was before */
	pm->s.sci_level = sci_wanted(&pm->s);
	platform_set_irq(pm->platform, pm->sci_gsi, pm->s.sci_level);
	pthread_mutex_unlock(&pm->lock);
}
