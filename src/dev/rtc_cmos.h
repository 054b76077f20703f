/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MC146818-compatible CMOS RTC at ports 0x70 (index, bit 7 = NMI mask) and
 * 0x71 (data): 128 bytes of CMOS whose time registers are computed on every
 * read from the platform wall clock plus an offset the guest may set.
 * No periodic, alarm or update-ended interrupts are generated: register C
 * always reads 0 and IRQ 8 is never raised, whatever register B enables.
 */
#ifndef PETREL_DEV_RTC_CMOS_H
#define PETREL_DEV_RTC_CMOS_H

#include <pthread.h>
#include <stdint.h>

#include "bus/bus.h"
#include "dev/platform.h"

#define RTC_CMOS_PORT 0x70
#define RTC_CMOS_LEN 2
#define RTC_CMOS_SIZE 128

/* registers */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_SHUTDOWN_STATUS 0x0f
#define RTC_CENTURY 0x32

#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_D_VRT 0x80
#define RTC_HOURS_PM 0x80

struct rtc_cmos_state {
	uint8_t index;
	uint8_t nmi_masked;
	uint8_t cmos[RTC_CMOS_SIZE];
	uint8_t pad[6];
	int64_t offset_ns; /* guest time minus host time */
};

struct rtc_cmos {
	pthread_mutex_t lock;
	struct rtc_cmos_state s;
	const struct platform *platform;
};

extern const struct bus_ops rtc_cmos_ops; /* register at port 0x70, length 2 */

/* ram_below_4g includes the first MiB; ram_above_4g is what sits at 4 GiB and up. */
void rtc_cmos_init(struct rtc_cmos *rtc, const struct platform *p, uint64_t ram_below_4g,
		   uint64_t ram_above_4g);
void rtc_cmos_save(struct rtc_cmos *rtc, struct rtc_cmos_state *out);
void rtc_cmos_restore(struct rtc_cmos *rtc, const struct rtc_cmos_state *in);
/* NULL, or the first field the guest could not have written. */
const char *rtc_cmos_state_check(const struct rtc_cmos_state *s);

#endif
