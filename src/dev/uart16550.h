/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A 16550A UART as a pure state machine: eight registers, a 16-byte receive
 * FIFO, interrupts on one level-driven line, loopback as Linux probes it.
 */
#ifndef PETREL_DEV_UART16550_H
#define PETREL_DEV_UART16550_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/bus.h"
#include "dev/platform.h"

#define UART_FIFO_SIZE 16
#define UART_TX_BUF 256

/* Guest-visible state: saved and restored as is. */
struct uart_state {
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint8_t dll, dlm;
	uint8_t rx[UART_FIFO_SIZE];
	uint8_t rx_head, rx_len;
	uint8_t thr_ipending; /* THRE interrupt pending until IIR read or THR write */
	uint8_t irq_level;
};

typedef void (*uart_out_fn)(void *opaque, const uint8_t *buf, size_t len);

struct uart {
	pthread_mutex_t lock;
	struct uart_state s;
	const struct platform *platform;
	unsigned int gsi;
	uart_out_fn out;
	void *out_opaque;
	uint8_t tx[UART_TX_BUF]; /* output waiting for a newline or a flush */
	size_t tx_len;
};

extern const struct bus_ops uart_bus_ops;

void uart_init(struct uart *u, const struct platform *p, unsigned int gsi, uart_out_fn out,
	       void *out_opaque);
void uart_destroy(struct uart *u);
/* Feed received bytes; returns how many fitted in the FIFO. */
size_t uart_push_input(struct uart *u, const uint8_t *buf, size_t len);
size_t uart_rx_room(struct uart *u);
/* Hand buffered output to the output callback. */
void uart_flush(struct uart *u);
void uart_save(struct uart *u, struct uart_state *out);
/*
 * Could the guest have left the UART so? NULL, or the name of the first
 * field it could not have written (a FIFO index out of range, reserved bits,
 * an interrupt line that disagrees with the registers).
 */
const char *uart_state_check(const struct uart_state *s);
void uart_restore(struct uart *u, const struct uart_state *in);

#endif
