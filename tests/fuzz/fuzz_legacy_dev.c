// SPDX-License-Identifier: GPL-2.0-only
/*
 * The legacy devices on the port-I/O bus as the machine registers them: the
 * 16550A at 0x3f8, the CMOS RTC at 0x70, the i8042 at 0x60/0x64 and the ACPI
 * PM1a blocks with the 0xcf9 reset register. The input is a sequence of port
 * reads and writes of any size, with host events between them (bytes typed
 * on the console, Ctrl-Alt-Del, the power button, the clock moving, a save
 * and restore of every device). After every step the harness checks:
 * - a read of a byte-wide register gives at most 8 bits; the UART's FIFO,
 *   the i8042's queue and the RTC's index stay in range;
 * - the UART hands its sink exactly the bytes the guest transmitted (not in
 *   loopback, DLAB clear), never more than its buffer at once;
 * - every interrupt line is driven to 0 or 1, the UART's and the SCI's to
 *   what their registers imply, the i8042's edges end low;
 * - a reset or power-off is asked for exactly when the guest wrote what
 *   asks for one;
 * - the RTC's time registers read as valid BCD in BCD mode;
 * - a save and restore changes nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "bus/bus.h"
#include "dev/acpi_pm.h"
#include "dev/i8042.h"
#include "dev/rtc_cmos.h"
#include "dev/uart16550.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NR_GSI 24
#define MIB (1024ULL * 1024)

struct harness {
	struct bus pio;
	struct platform plat;
	struct uart uart;
	struct rtc_cmos rtc;
	struct i8042 kbc;
	struct acpi_pm pm;
	int level[NR_GSI];
	uint64_t clock_ns;
	uint64_t resets, poweroffs;	      /* asked for by the devices */
	uint64_t want_resets, want_poweroffs; /* what the guest's writes asked for */
	uint64_t out_bytes, want_out_bytes;
};

static void h_set_irq(void *ctx, unsigned int gsi, int level)
{
	struct harness *h = ctx;

	fuzz_check(gsi < NR_GSI);
	fuzz_check(level == 0 || level == 1);
	h->level[gsi] = level;
}

static void h_reset(void *ctx)
{
	((struct harness *)ctx)->resets++;
}

static void h_poweroff(void *ctx)
{
	((struct harness *)ctx)->poweroffs++;
}

static uint64_t h_clock(void *ctx)
{
	return ((struct harness *)ctx)->clock_ns;
}

static const struct platform_ops h_ops = {
    .set_irq = h_set_irq,
    .request_reset = h_reset,
    .request_poweroff = h_poweroff,
    .clock_ns = h_clock,
};

static void h_uart_out(void *opaque, const uint8_t *buf, size_t len)
{
	struct harness *h = opaque;

	fuzz_check(len > 0 && len <= UART_TX_BUF);
	h->out_bytes += len;
}

/* The ports a step may name: every claimed one and a few around them. */
static const uint16_t ports[] = {
    0x3f7, 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x400,
    0x6f,  0x70,  0x71,	 0x72,	0x60,  0x61,  0x64,  0x65,  0x5ff, 0x600,
    0x601, 0x602, 0x603, 0x604, 0x605, 0x606, 0xcf8, 0xcf9, 0xcfa,
};

#define NR_PORTS (sizeof(ports) / sizeof(ports[0]))

static int setup(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	h->plat.ops = &h_ops;
	h->plat.ctx = h;
	h->clock_ns = 1700000000ULL * 1000000000ULL; /* November 2023 */
	if (bus_init(&h->pio, "pio"))
		return -1;
	uart_init(&h->uart, &h->plat, X86_IRQ_COM1, h_uart_out, h);
	rtc_cmos_init(&h->rtc, &h->plat, 64 * MIB, 0);
	i8042_init(&h->kbc, &h->plat);
	acpi_pm_init(&h->pm, &h->plat, X86_IRQ_SCI);
	if (bus_register(&h->pio, X86_PORT_COM1, 8, &uart_bus_ops, &h->uart, "com1") ||
	    bus_register(&h->pio, X86_PORT_PM1A_EVT, ACPI_PM_EVT_LEN, &acpi_pm_evt_ops, &h->pm,
			 "pm1a-evt") ||
	    bus_register(&h->pio, X86_PORT_PM1A_CNT, ACPI_PM_CNT_LEN, &acpi_pm_cnt_ops, &h->pm,
			 "pm1a-cnt") ||
	    bus_register(&h->pio, ACPI_PM_RESET_PORT, 1, &acpi_pm_reset_ops, &h->pm, "reset") ||
	    bus_register(&h->pio, X86_PORT_RTC, 2, &rtc_cmos_ops, &h->rtc, "rtc") ||
	    bus_register(&h->pio, X86_PORT_I8042_DATA, 1, &i8042_data_ops, &h->kbc, "i8042-data") ||
	    bus_register(&h->pio, X86_PORT_I8042_CMD, 1, &i8042_cmd_ops, &h->kbc, "i8042-cmd"))
		return -1;
	return 0;
}

static void teardown(struct harness *h)
{
	uart_destroy(&h->uart);
	fuzz_check(h->out_bytes == h->want_out_bytes);
	bus_destroy(&h->pio);
	pthread_mutex_destroy(&h->rtc.lock);
	pthread_mutex_destroy(&h->kbc.lock);
	pthread_mutex_destroy(&h->pm.lock);
}

FUZZ_NOCOV static bool bcd_ok(uint8_t v, unsigned int lo, unsigned int hi)
{
	unsigned int n = (v >> 4) * 10u + (v & 0xf);

	return (v >> 4) <= 9 && (v & 0xf) <= 9 && n >= lo && n <= hi;
}

/* A time register read in BCD mode, the clock running: a valid value. */
FUZZ_NOCOV static void check_rtc_read(struct harness *h, unsigned int idx, uint8_t v)
{
	uint8_t b = h->rtc.s.cmos[RTC_REG_B];

	if ((b & (RTC_B_SET | RTC_B_DM_BINARY)))
		return;
	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
		fuzz_check(bcd_ok(v, 0, 59));
		break;
	case RTC_HOURS:
		if (b & RTC_B_24H)
			fuzz_check(bcd_ok(v, 0, 23));
		else
			fuzz_check(bcd_ok(v & ~RTC_HOURS_PM, 1, 12));
		break;
	case RTC_DAY_OF_WEEK:
		fuzz_check(bcd_ok(v, 1, 7));
		break;
	case RTC_DAY_OF_MONTH:
		fuzz_check(bcd_ok(v, 1, 31));
		break;
	case RTC_MONTH:
		fuzz_check(bcd_ok(v, 1, 12));
		break;
	case RTC_YEAR:
	case RTC_CENTURY:
		fuzz_check(bcd_ok(v, 0, 99));
		break;
	}
}

static void port_read(struct harness *h, uint16_t port, unsigned int size)
{
	const struct bus_range *r = bus_find(&h->pio, port);
	unsigned int rtc_idx = h->rtc.s.index;
	uint64_t raw;

	bus_read(&h->pio, port, size, &raw);
	if (!r)
		return;
	/* every register of these is a byte wide, whatever the access */
	if (r->opaque == &h->uart || r->opaque == &h->rtc || r->opaque == &h->kbc ||
	    port == ACPI_PM_RESET_PORT)
		fuzz_check(raw <= 0xff);
	if (port == X86_PORT_RTC + 1)
		check_rtc_read(h, rtc_idx, (uint8_t)raw);
}

/* What a write asks of the machine, by the registers as they are before it. */
static void expect_write(struct harness *h, uint16_t port, unsigned int size, uint32_t val)
{
	const struct uart_state *u = &h->uart.s;
	uint16_t v;

	switch (port) {
	case X86_PORT_COM1:
		if (!(u->lcr & 0x80) && !(u->mcr & 0x10))
			h->want_out_bytes++;
		break;
	case ACPI_PM_RESET_PORT:
		if (val & 0x04)
			h->want_resets++;
		break;
	case X86_PORT_I8042_DATA:
		if (h->kbc.s.pending_cmd == 0xd1 && !(val & 0x01))
			h->want_resets++;
		break;
	case X86_PORT_I8042_CMD:
		if ((val & 0xff) >= 0xf0 && !(val & 0x01))
			h->want_resets++;
		break;
	case X86_PORT_PM1A_CNT:
		v = size == 1 ? (uint16_t)((h->pm.s.cnt & 0xff00) | (val & 0xff)) : (uint16_t)val;
		if ((v & 0x2000) && ((v >> 10) & 7) == ACPI_PM_SLP_TYP_S5)
			h->want_poweroffs++;
		break;
	}
}

static void save_restore(struct harness *h)
{
	struct uart_state us, us2;
	struct rtc_cmos_state rs, rs2;
	struct i8042_state ks, ks2;
	struct acpi_pm_state ps, ps2;
	int level[NR_GSI];

	memcpy(level, h->level, sizeof(level));
	uart_save(&h->uart, &us);
	rtc_cmos_save(&h->rtc, &rs);
	i8042_save(&h->kbc, &ks);
	acpi_pm_save(&h->pm, &ps);
	uart_restore(&h->uart, &us);
	rtc_cmos_restore(&h->rtc, &rs);
	i8042_restore(&h->kbc, &ks);
	acpi_pm_restore(&h->pm, &ps);
	uart_save(&h->uart, &us2);
	rtc_cmos_save(&h->rtc, &rs2);
	i8042_save(&h->kbc, &ks2);
	acpi_pm_save(&h->pm, &ps2);
	fuzz_check(!memcmp(&us, &us2, sizeof(us)));
	fuzz_check(!memcmp(&rs, &rs2, sizeof(rs)));
	fuzz_check(!memcmp(&ks, &ks2, sizeof(ks)));
	fuzz_check(!memcmp(&ps, &ps2, sizeof(ps)));
	fuzz_check(!memcmp(level, h->level, sizeof(level)));
}

FUZZ_NOCOV static void check(struct harness *h)
{
	const struct acpi_pm_state *pm = &h->pm.s;
	bool sci = (pm->cnt & ACPI_PM1_CNT_SCI_EN) && (pm->sts & pm->en & ACPI_PM1_PWRBTN);

	fuzz_check(h->uart.s.rx_len <= UART_FIFO_SIZE && h->uart.s.rx_head < UART_FIFO_SIZE);
	fuzz_check(h->uart.tx_len == 0);
	fuzz_check(h->kbc.s.qlen <= I8042_QUEUE_SIZE && h->kbc.s.qhead < I8042_QUEUE_SIZE);
	fuzz_check(h->rtc.s.index < RTC_CMOS_SIZE);
	fuzz_check(h->level[X86_IRQ_COM1] == h->uart.s.irq_level);
	fuzz_check(h->level[X86_IRQ_SCI] == pm->sci_level && pm->sci_level == sci);
	fuzz_check(h->level[I8042_KBD_IRQ] == 0 && h->level[I8042_AUX_IRQ] == 0);
	fuzz_check(h->resets == h->want_resets);
	fuzz_check(h->poweroffs == h->want_poweroffs);
	fuzz_check(h->out_bytes == h->want_out_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct fuzz_in in = {data, size};
	unsigned int steps = 0;

	if (setup(&h) < 0)
		abort();
	while (fuzz_in_more(&in) && steps++ < 4096) {
		uint8_t op = fuzz_u8(&in);
		uint16_t port = ports[fuzz_u8(&in) % NR_PORTS];
		unsigned int sz = fuzz_size(op >> 4, 4);
		uint8_t buf[32];
		size_t n, i;
		uint32_t val;
		const uint8_t *p;
		int ret;

		switch (op & 0x7) {
		case 0:
		case 1: /* the commonest: reads and writes */
			port_read(&h, port, sz);
			break;
		case 2:
		case 3:
			val = (op & 0x80) ? fuzz_u32(&in) : fuzz_u8(&in);
			expect_write(&h, port, sz, val);
			bus_write(&h.pio, port, sz, val);
			break;
		case 4: /* the console types */
			p = fuzz_bytes(&in, fuzz_u8(&in) % sizeof(buf), &n);
			memcpy(buf, p, n);
			fuzz_check(uart_push_input(&h.uart, buf, n) <= n);
			fuzz_check(uart_rx_room(&h.uart) <= UART_FIFO_SIZE);
			break;
		case 5: /* host events */
			switch ((op >> 4) & 3) {
			case 0:
				ret = i8042_send_ctrl_alt_del(&h.kbc);
				fuzz_check(ret == 0 || ret == -ENOSPC || ret == -EAGAIN);
				break;
			case 1:
				acpi_pm_power_button(&h.pm);
				break;
			case 2:
				uart_flush(&h.uart);
				break;
			default:
				save_restore(&h);
				break;
			}
			break;
		case 6: /* the host clock moves, by up to ~50 days, either way */
			val = fuzz_u32(&in);
			if (op & 0x80)
				h.clock_ns -= (uint64_t)val * 1000000ULL;
			else
				h.clock_ns += (uint64_t)val * 1000000ULL;
			break;
		default: /* a burst: one port, many accesses */
			n = fuzz_u8(&in) % 32;
			for (i = 0; i < n; i++) {
				val = fuzz_u8(&in);
				if (op & 0x80) {
					expect_write(&h, port, sz, val);
					bus_write(&h.pio, port, sz, val);
				} else {
					port_read(&h, port, sz);
				}
			}
			break;
		}
		check(&h);
	}
	teardown(&h);
	return 0;
}
