/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * i8042 PS/2 controller at ports 0x60 (data) and 0x64 (status/command):
 * enough for the Linux probe and for reset through the output port. The
 * keyboard port answers the usual commands and types one thing only, the
 * Ctrl-Alt-Del the host asks for; every byte sent to the aux (mouse) port is
 * answered with 0xFE, so a guest concludes at once that there is no mouse.
 */
#ifndef PETREL_DEV_I8042_H
#define PETREL_DEV_I8042_H

#include <pthread.h>
#include <stdint.h>

#include "bus/bus.h"
#include "dev/platform.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12
#define I8042_QUEUE_SIZE 16

/* status register */
#define I8042_STR_OBF 0x01
#define I8042_STR_IBF 0x02
#define I8042_STR_SYS 0x04
#define I8042_STR_CMD 0x08
#define I8042_STR_UNLOCKED 0x10
#define I8042_STR_AUXDATA 0x20

/* controller command byte */
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

struct i8042_state {
	uint8_t cmd_byte, status, pending_cmd, outport;
	uint8_t queue[I8042_QUEUE_SIZE];
	uint8_t qhead, qlen;
	uint8_t last;
	uint8_t pad;
	uint16_t qaux;	      /* bit n: queue[n] came from the aux port */
	uint8_t kbd_param;    /* keyboard command waiting for its parameter, or 0 */
	uint8_t kbd_disabled; /* the keyboard was told to stop scanning (0xF5) */
};

struct i8042 {
	pthread_mutex_t lock;
	struct i8042_state s;
	const struct platform *platform;
};

extern const struct bus_ops i8042_data_ops; /* at port 0x60, length 1 */
extern const struct bus_ops i8042_cmd_ops;  /* at port 0x64, length 1 */

void i8042_init(struct i8042 *k, const struct platform *p);
/*
 * The host presses Ctrl-Alt-Del: the keyboard sends Ctrl, Alt and Del down,
 * then Del, Alt and Ctrl up, in scan code set 2, which reaches port 0x60 as
 * set 1 while the command byte asks for translation (as on a real 8042).
 * Each byte raises IRQ 1, when the command byte enables it, as it reaches the
 * output buffer. The whole sequence or nothing: -ENOSPC when the output queue
 * lacks room for it (the guest is not reading), -EAGAIN when the guest turned
 * the keyboard off (controller command 0xAD or keyboard command 0xF5); 0 when
 * queued. Linux's atkbd reports KEY_LEFTCTRL, KEY_LEFTALT and KEY_DELETE and
 * its console keyboard signals init (or reboots, as the ctrl-alt-del sysctl
 * says). Any thread may call it: it takes k->lock, and raises IRQ 1 after
 * dropping it, as the port handlers do.
 */
int i8042_send_ctrl_alt_del(struct i8042 *k);

void i8042_save(struct i8042 *k, struct i8042_state *out);
void i8042_restore(struct i8042 *k, const struct i8042_state *in);
/*
 * After a restore, once the interrupt controllers hold their saved state:
 * IRQ 1 and 12 are lowered (an edge the saved controller still counted as
 * raised would otherwise swallow the next one, and the guest would never
 * read the byte it signals), and a byte waiting in the output buffer is
 * signalled again.
 */
void i8042_resync_irqs(struct i8042 *k);
/* NULL, or the first field the guest and the keyboard could not have left so. */
const char *i8042_state_check(const struct i8042_state *s);

#endif
