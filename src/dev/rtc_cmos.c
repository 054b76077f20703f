// SPDX-License-Identifier: GPL-2.0-only
/*
 * MC146818 CMOS RTC: time registers derived from the platform clock plus a
 * guest offset, the rest of the 128 bytes plain storage with the memory size
 * bytes firmware expects. No RTC interrupts (see rtc_cmos.h).
 */
#include "dev/rtc_cmos.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC 1000000000LL
#define KIB 1024ULL
#define MIB (1024ULL * KIB)

/* Guest-set times outside [1970, 2200) are refused: the offset stays in range. */
#define RTC_MIN_YEAR 1970
#define RTC_MAX_YEAR 2199

static bool is_time_reg(unsigned int idx)
{
	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

static int64_t host_ns(const struct rtc_cmos *rtc)
{
	const struct platform *p = rtc->platform;
	struct timespec ts;
	uint64_t ns;

	if (p && p->ops && p->ops->clock_ns) {
		ns = p->ops->clock_ns(p->ctx);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
	}
	return ns > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ns;
}

static uint8_t to_bcd(unsigned int v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static unsigned int from_bcd(uint8_t v)
{
	return (unsigned int)(v >> 4) * 10 + (v & 0x0f);
}

static uint8_t encode(const struct rtc_cmos *rtc, unsigned int v)
{
	return (rtc->s.cmos[RTC_REG_B] & RTC_B_DM_BINARY) ? (uint8_t)v : to_bcd(v);
}

static unsigned int decode(const struct rtc_cmos *rtc, uint8_t v)
{
	return (rtc->s.cmos[RTC_REG_B] & RTC_B_DM_BINARY) ? v : from_bcd(v);
}

/* Current guest time broken down into the time registers of cmos[]. */
static void latch_time(struct rtc_cmos *rtc)
{
	uint8_t *c = rtc->s.cmos;
	int64_t now, secs;
	unsigned int h;
	time_t t;
	struct tm tm;

	if (__builtin_add_overflow(host_ns(rtc), rtc->s.offset_ns, &now))
		now = rtc->s.offset_ns < 0 ? 0 : INT64_MAX;
	secs = now / NS_PER_SEC;
	if (now < 0 && now % NS_PER_SEC)
		secs--;
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));

	c[RTC_SECONDS] = encode(rtc, (unsigned int)tm.tm_sec % 60);
	c[RTC_MINUTES] = encode(rtc, (unsigned int)tm.tm_min);
	h = (unsigned int)tm.tm_hour;
	if (c[RTC_REG_B] & RTC_B_24H) {
		c[RTC_HOURS] = encode(rtc, h);
	} else {
		c[RTC_HOURS] = encode(rtc, h % 12 ? h % 12 : 12);
		if (h >= 12)
			c[RTC_HOURS] |= RTC_HOURS_PM;
	}
	c[RTC_DAY_OF_WEEK] = encode(rtc, (unsigned int)tm.tm_wday + 1);
	c[RTC_DAY_OF_MONTH] = encode(rtc, (unsigned int)tm.tm_mday);
	c[RTC_MONTH] = encode(rtc, (unsigned int)tm.tm_mon + 1);
	c[RTC_YEAR] = encode(rtc, (unsigned int)(tm.tm_year + 1900) % 100);
	c[RTC_CENTURY] = encode(rtc, (unsigned int)(tm.tm_year + 1900) / 100 % 100);
}

/*
 * The guest has written the time registers: keep the difference between the
 * time they hold and the host clock. Invalid dates are ignored.
 */
static void commit_time(struct rtc_cmos *rtc)
{
	const uint8_t *c = rtc->s.cmos;
	unsigned int sec, min, hour, mday, mon, year;
	struct tm tm;
	time_t t;

	sec = decode(rtc, c[RTC_SECONDS]);
	min = decode(rtc, c[RTC_MINUTES]);
	if (c[RTC_REG_B] & RTC_B_24H) {
		hour = decode(rtc, c[RTC_HOURS]);
	} else {
		hour = decode(rtc, c[RTC_HOURS] & ~RTC_HOURS_PM);
		if (hour < 1 || hour > 12)
			return;
		hour %= 12;
		if (c[RTC_HOURS] & RTC_HOURS_PM)
			hour += 12;
	}
	mday = decode(rtc, c[RTC_DAY_OF_MONTH]);
	mon = decode(rtc, c[RTC_MONTH]);
	year = decode(rtc, c[RTC_CENTURY]) * 100 + decode(rtc, c[RTC_YEAR]);
	if (sec > 59 || min > 59 || hour > 23 || mday < 1 || mday > 31 || mon < 1 || mon > 12 ||
	    year < RTC_MIN_YEAR || year > RTC_MAX_YEAR)
		return;

	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = (int)sec;
	tm.tm_min = (int)min;
	tm.tm_hour = (int)hour;
	tm.tm_mday = (int)mday;
	tm.tm_mon = (int)mon - 1;
	tm.tm_year = (int)year - 1900;
	t = timegm(&tm); /* normalises e.g. 31 February into March */
	if (t == (time_t)-1 || t < 0)
		return;
	rtc->s.offset_ns = (int64_t)t * NS_PER_SEC - host_ns(rtc);
}

static uint8_t cmos_read(struct rtc_cmos *rtc, unsigned int idx)
{
	const uint8_t *c = rtc->s.cmos;

	switch (idx) {
	case RTC_REG_A:
		return c[RTC_REG_A] & ~RTC_A_UIP; /* never mid-update */
	case RTC_REG_C:
		return 0; /* no interrupt flag is ever set */
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		break;
	}
	/* While SET is held the registers hold what the guest wrote. */
	if (is_time_reg(idx) && !(c[RTC_REG_B] & RTC_B_SET))
		latch_time(rtc);
	return c[idx];
}

static void cmos_write(struct rtc_cmos *rtc, unsigned int idx, uint8_t val)
{
	uint8_t *c = rtc->s.cmos;
	uint8_t old;

	switch (idx) {
	case RTC_REG_A:
		c[RTC_REG_A] = val & ~RTC_A_UIP;
		return;
	case RTC_REG_B:
		old = c[RTC_REG_B];
		if ((val & RTC_B_SET) && !(old & RTC_B_SET)) {
			/* freeze the time, in the mode being set, for the guest to update */
			c[RTC_REG_B] = val & ~RTC_B_UIE; /* setting SET clears UIE */
			latch_time(rtc);
		} else {
			/* on release, read what was written in the mode it was written in */
			if (!(val & RTC_B_SET) && (old & RTC_B_SET))
				commit_time(rtc);
			c[RTC_REG_B] = val;
		}
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	default:
		break;
	}
	if (is_time_reg(idx) && !(c[RTC_REG_B] & RTC_B_SET)) {
		/* a running clock updated one field at a time */
		latch_time(rtc);
		c[idx] = val;
		commit_time(rtc);
		return;
	}
	c[idx] = val;
}

static uint64_t rtc_read(void *opaque, uint64_t off, unsigned int size)
{
	struct rtc_cmos *rtc = opaque;
	uint8_t v;

	if (off != 1)
		return 0xff; /* the index port is write-only */
	pthread_mutex_lock(&rtc->lock);
	v = cmos_read(rtc, rtc->s.index & (RTC_CMOS_SIZE - 1));
	pthread_mutex_unlock(&rtc->lock);
	return v;
}

static void rtc_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct rtc_cmos *rtc = opaque;

	pthread_mutex_lock(&rtc->lock);
	if (off == 0) {
		rtc->s.index = (uint8_t)(val & (RTC_CMOS_SIZE - 1));
		rtc->s.nmi_masked = (val & 0x80) ? 1 : 0;
	} else if (off == 1) {
		cmos_write(rtc, rtc->s.index & (RTC_CMOS_SIZE - 1), (uint8_t)val);
	}
	pthread_mutex_unlock(&rtc->lock);
}

const struct bus_ops rtc_cmos_ops = {.read = rtc_read, .write = rtc_write};

static void set_memory_size(uint8_t *c, uint64_t below, uint64_t above)
{
	uint64_t v;
	unsigned int i, sum = 0;

	/* base memory in KiB */
	c[0x15] = (uint8_t)(640 & 0xff);
	c[0x16] = (uint8_t)(640 >> 8);

	/* extended memory above 1 MiB in KiB, up to 64 MiB in all */
	v = below > MIB ? (below - MIB) / KIB : 0;
	if (v > (64 * MIB - MIB) / KIB)
		v = (64 * MIB - MIB) / KIB;
	c[0x17] = c[0x30] = (uint8_t)v;
	c[0x18] = c[0x31] = (uint8_t)(v >> 8);

	/* memory between 16 MiB and 4 GiB in 64 KiB units */
	v = below > 16 * MIB ? (below - 16 * MIB) / (64 * KIB) : 0;
	if (v > 0xffff)
		v = 0xffff;
	c[0x34] = (uint8_t)v;
	c[0x35] = (uint8_t)(v >> 8);

	/* memory above 4 GiB in 64 KiB units, 24 bits */
	v = above / (64 * KIB);
	if (v > 0xffffff)
		v = 0xffffff;
	c[0x5b] = (uint8_t)v;
	c[0x5c] = (uint8_t)(v >> 8);
	c[0x5d] = (uint8_t)(v >> 16);

	/* standard checksum of 0x10-0x2d, big-endian at 0x2e */
	for (i = 0x10; i <= 0x2d; i++)
		sum += c[i];
	c[0x2e] = (uint8_t)(sum >> 8);
	c[0x2f] = (uint8_t)sum;
}

void rtc_cmos_init(struct rtc_cmos *rtc, const struct platform *p, uint64_t ram_below_4g,
		   uint64_t ram_above_4g)
{
	memset(rtc, 0, sizeof(*rtc));
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->platform = p;
	rtc->s.cmos[RTC_REG_A] = 0x26;	    /* 32.768 kHz time base, 1024 Hz rate */
	rtc->s.cmos[RTC_REG_B] = RTC_B_24H; /* 24 h, BCD */
	rtc->s.cmos[RTC_REG_D] = RTC_D_VRT;
	set_memory_size(rtc->s.cmos, ram_below_4g, ram_above_4g);
}

const char *rtc_cmos_state_check(const struct rtc_cmos_state *s)
{
	if (s->index >= RTC_CMOS_SIZE)
		return "index";
	if (s->nmi_masked > 1)
		return "nmi_masked";
	return NULL;
}

void rtc_cmos_save(struct rtc_cmos *rtc, struct rtc_cmos_state *out)
{
	pthread_mutex_lock(&rtc->lock);
	*out = rtc->s;
	pthread_mutex_unlock(&rtc->lock);
}

void rtc_cmos_restore(struct rtc_cmos *rtc, const struct rtc_cmos_state *in)
{
	pthread_mutex_lock(&rtc->lock);
	rtc->s = *in;
	rtc->s.index &= RTC_CMOS_SIZE - 1;
	rtc->s.nmi_masked = rtc->s.nmi_masked ? 1 : 0;
	pthread_mutex_unlock(&rtc->lock);
}
