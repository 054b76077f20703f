// SPDX-License-Identifier: GPL-2.0-only
#include "dev/uart16550.h"

#include <string.h>

/* Register offsets */
enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0f

static void uart_reset_state(struct uart_state *s)
{
	memset(s, 0, sizeof(*s));
	s->lsr = LSR_THRE | LSR_TEMT;
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	s->dll = 0x0c; /* 9600 baud */
}

void uart_init(struct uart *u, const struct platform *p, unsigned int gsi, uart_out_fn out,
	       void *out_opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->platform = p;
	u->gsi = gsi;
	u->out = out;
	u->out_opaque = out_opaque;
	uart_reset_state(&u->s);
}

void uart_destroy(struct uart *u)
{
	uart_flush(u);
	pthread_mutex_destroy(&u->lock);
}

/* The highest-priority pending interrupt, as IIR reports it. */
static uint8_t uart_iir(const struct uart_state *s)
{
	if ((s->ier & IER_RLSI) && (s->lsr & (LSR_OE | LSR_BI)))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

/* Drive the line on changes only; OUT2 gates it as on PC boards. */
static void uart_update_irq(struct uart *u)
{
	uint8_t level = uart_iir(&u->s) != IIR_NONE && (u->s.mcr & MCR_OUT2);

	if (level == u->s.irq_level)
		return;
	u->s.irq_level = level;
	platform_set_irq(u->platform, u->gsi, level);
}

static void flush_locked(struct uart *u)
{
	if (u->tx_len && u->out)
		u->out(u->out_opaque, u->tx, u->tx_len);
	u->tx_len = 0;
}

void uart_flush(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	flush_locked(u);
	pthread_mutex_unlock(&u->lock);
}

static void rx_put(struct uart_state *s, uint8_t c)
{
	if (s->rx_len == UART_FIFO_SIZE) {
		s->lsr |= LSR_OE;
		return;
	}
	s->rx[(s->rx_head + s->rx_len) % UART_FIFO_SIZE] = c;
	s->rx_len++;
	s->lsr |= LSR_DR;
}

static void transmit(struct uart *u, uint8_t c)
{
	if (u->s.mcr & MCR_LOOP) {
		rx_put(&u->s, c);
	} else {
		/* Out at once: a prompt without a newline must not wait for one. */
		u->tx[u->tx_len++] = c;
		flush_locked(u);
	}
	/* Transmission is instantaneous: the holding register is empty again. */
	u->s.lsr |= LSR_THRE | LSR_TEMT;
	u->s.thr_ipending = 1;
}

/* In loopback the modem inputs mirror the outputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static uint8_t loop_msr(uint8_t mcr)
{
	return (uint8_t)(((mcr & MCR_RTS) ? MSR_CTS : 0) | ((mcr & MCR_DTR) ? MSR_DSR : 0) |
			 ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0));
}

static uint64_t uart_read(void *opaque, uint64_t off, unsigned int size)
{
	struct uart *u = opaque;
	struct uart_state *s = &u->s;
	uint8_t v = 0xff;

	pthread_mutex_lock(&u->lock);
	switch (off) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
			break;
		}
		v = 0;
		if (s->rx_len) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
			s->rx_len--;
		}
		if (!s->rx_len)
			s->lsr &= ~LSR_DR;
		break;
	case IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case IIR_FCR:
		v = uart_iir(s);
		if (v == IIR_THRI)
			s->thr_ipending = 0;
		if (s->fcr & FCR_ENABLE)
			v |= IIR_FIFO;
		break;
	case LCR:
		v = s->lcr;
		break;
	case MCR:
		v = s->mcr;
		break;
	case LSR:
		v = s->lsr;
		s->lsr &= ~(LSR_OE | LSR_BI);
		/* the guest polls LSR before writing: good moment to flush */
		flush_locked(u);
		break;
	case MSR:
		if (s->mcr & MCR_LOOP)
			v = (uint8_t)(loop_msr(s->mcr) | (s->msr & MSR_DELTAS));
		else
			v = s->msr;
		s->msr &= ~MSR_DELTAS;
		break;
	case SCR:
		v = s->scr;
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

static void uart_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct uart *u = opaque;
	struct uart_state *s = &u->s;
	uint8_t v = (uint8_t)val, old;

	pthread_mutex_lock(&u->lock);
	switch (off) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			transmit(u, v);
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		old = s->ier;
		s->ier = v & 0x0f;
		/* Enabling THRI with an empty holding register raises it at once. */
		if (!(old & IER_THRI) && (s->ier & IER_THRI) && (s->lsr & LSR_THRE))
			s->thr_ipending = 1;
		break;
	case IIR_FCR:
		if (v & FCR_CLEAR_RX) {
			s->rx_len = 0;
			s->rx_head = 0;
			s->lsr &= ~LSR_DR;
		}
		s->fcr = v & 0xc9; /* enable, DMA mode, trigger level */
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		old = s->mcr;
		s->mcr = v & 0x1f;
		if (s->mcr & MCR_LOOP) {
			uint8_t before = loop_msr(old), after = loop_msr(s->mcr);

			if ((before ^ after) & MSR_CTS)
				s->msr |= MSR_DCTS;
			if ((before ^ after) & MSR_DSR)
				s->msr |= MSR_DDSR;
			if ((before & MSR_RI) && !(after & MSR_RI))
				s->msr |= MSR_TERI;
			if ((before ^ after) & MSR_DCD)
				s->msr |= MSR_DDCD;
		}
		break;
	case SCR:
		s->scr = v;
		break;
	default:
		/* LSR and MSR are read-only */
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

const struct bus_ops uart_bus_ops = {.read = uart_read, .write = uart_write};

size_t uart_push_input(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	/* In loopback the line is disconnected from the outside. */
	if (!(u->s.mcr & MCR_LOOP)) {
		while (n < len && u->s.rx_len < UART_FIFO_SIZE)
			rx_put(&u->s, buf[n++]);
		uart_update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_rx_room(struct uart *u)
{
	size_t room;

	pthread_mutex_lock(&u->lock);
	room = (u->s.mcr & MCR_LOOP) ? 0 : UART_FIFO_SIZE - u->s.rx_len;
	pthread_mutex_unlock(&u->lock);
	return room;
}

const char *uart_state_check(const struct uart_state *s)
{
	if (s->rx_head >= UART_FIFO_SIZE)
		return "rx_head";
	if (s->rx_len > UART_FIFO_SIZE)
		return "rx_len";
	if (s->ier & ~0x0f)
		return "ier";
	if (s->mcr & ~0x1f)
		return "mcr";
	if (s->fcr & ~0xc9)
		return "fcr";
	if (!!(s->lsr & LSR_DR) != !!s->rx_len)
		return "lsr";
	if (s->thr_ipending > 1)
		return "thr_ipending";
	if (s->irq_level != (uart_iir(s) != IIR_NONE && (s->mcr & MCR_OUT2)))
		return "irq_level";
	return NULL;
}

void uart_save(struct uart *u, struct uart_state *out)
{
	pthread_mutex_lock(&u->lock);
	*out = u->s;
	pthread_mutex_unlock(&u->lock);
}

void uart_restore(struct uart *u, const struct uart_state *in)
{
	pthread_mutex_lock(&u->lock);
	u->s = *in;
	if (u->s.rx_len > UART_FIFO_SIZE)
		u->s.rx_len = UART_FIFO_SIZE;
	u->s.rx_head %= UART_FIFO_SIZE;
	/* Re-drive the line from the restored state. */
	platform_set_irq(u->platform, u->gsi, u->s.irq_level);
	pthread_mutex_unlock(&u->lock);
}
