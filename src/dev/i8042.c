// SPDX-License-Identifier: GPL-2.0-only
/*
 * i8042 PS/2 controller as a state machine: controller commands, a small
 * output queue drained through port 0x60, a keyboard that answers commands
 * and types the host's Ctrl-Alt-Del, and an empty aux port (see i8042.h).
 */
#include "dev/i8042.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define KBD_ACK 0xfa
#define KBD_BAT_OK 0xaa
#define KBD_ECHO 0xee
#define AUX_NO_DEVICE 0xfe

/*
 * Ctrl, Alt, Del down, then up in the reverse order (left Ctrl and Alt; Del
 * is an extended key). Set 2 is what the keyboard sends; set 1 is what the
 * controller's translation makes of it.
 */
static const uint8_t cad_set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
				   0x71, 0xf0, 0x11, 0xf0, 0x14};
static const uint8_t cad_set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
_Static_assert(sizeof(cad_set2) <= I8042_QUEUE_SIZE, "Ctrl-Alt-Del fits the queue");

/* what to tell the platform once the lock is dropped */
struct i8042_actions {
	bool kbd_irq, aux_irq, reset;
};

static bool head_is_aux(const struct i8042 *k)
{
	return k->s.qlen && (k->s.qaux >> (k->s.qhead % I8042_QUEUE_SIZE)) & 1;
}

static void update_status(struct i8042 *k)
{
	uint8_t st = k->s.status & (I8042_STR_SYS | I8042_STR_CMD);

	st |= I8042_STR_UNLOCKED;
	if (k->s.qlen)
		st |= I8042_STR_OBF;
	if (head_is_aux(k))
		st |= I8042_STR_AUXDATA;
	k->s.status = st;
}

/* A byte has just reached the output buffer: interrupt if enabled for its port. */
static void head_arrived(struct i8042 *k, struct i8042_actions *act)
{
	if (!k->s.qlen)
		return;
	if (head_is_aux(k)) {
		if (k->s.cmd_byte & I8042_CTR_AUXINT)
			act->aux_irq = true;
	} else if (k->s.cmd_byte & I8042_CTR_KBDINT) {
		act->kbd_irq = true;
	}
}

static void enqueue(struct i8042 *k, uint8_t byte, bool aux, struct i8042_actions *act)
{
	unsigned int pos;

	if (k->s.qlen >= I8042_QUEUE_SIZE)
		return; /* full: dropped */
	pos = (k->s.qhead + k->s.qlen) % I8042_QUEUE_SIZE;
	k->s.queue[pos] = byte;
	if (aux)
		k->s.qaux |= (uint16_t)(1u << pos);
	else
		k->s.qaux &= (uint16_t) ~(1u << pos);
	k->s.qlen++;
	if (k->s.qlen == 1)
		head_arrived(k, act);
	update_status(k);
}

static void kbd_write(struct i8042 *k, uint8_t val, struct i8042_actions *act)
{
	uint8_t param_of = k->s.kbd_param;

	if (param_of) {
		k->s.kbd_param = 0;
		enqueue(k, KBD_ACK, false, act);
		if (param_of == 0xf0 && val == 0)
			enqueue(k, 0x02, false, act); /* scan code set 2 */
		return;
	}
	switch (val) {
	case 0xff: /* reset and self test; scanning again afterwards */
		k->s.kbd_disabled = 0;
		enqueue(k, KBD_ACK, false, act);
		enqueue(k, KBD_BAT_OK, false, act);
		break;
	case 0xf4: /* enable scanning */
		k->s.kbd_disabled = 0;
		enqueue(k, KBD_ACK, false, act);
		break;
	case 0xf5: /* disable scanning (and restore the defaults) */
		k->s.kbd_disabled = 1;
		enqueue(k, KBD_ACK, false, act);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		enqueue(k, KBD_ACK, false, act);
		enqueue(k, 0xab, false, act);
		enqueue(k, 0x83, false, act);
		break;
	case 0xee:
		enqueue(k, KBD_ECHO, false, act);
		break;
	case 0xed: /* LEDs */
	case 0xf0: /* scan code set */
	case 0xf3: /* typematic rate */
		k->s.kbd_param = val;
		enqueue(k, KBD_ACK, false, act);
		break;
	default:
		enqueue(k, KBD_ACK, false, act);
		break;
	}
}

static void data_write(struct i8042 *k, uint8_t val, struct i8042_actions *act)
{
	uint8_t cmd = k->s.pending_cmd;
	uint8_t old;

	k->s.status &= ~I8042_STR_CMD;
	k->s.pending_cmd = 0;
	switch (cmd) {
	case 0x60: /* write command byte */
		old = k->s.cmd_byte;
		k->s.cmd_byte = val;
		k->s.status = (uint8_t)((k->s.status & ~I8042_STR_SYS) | (val & I8042_CTR_SYS));
		/* an interrupt newly enabled for a byte already waiting fires now */
		if ((val & ~old) & (I8042_CTR_KBDINT | I8042_CTR_AUXINT))
			head_arrived(k, act);
		break;
	case 0xd1: /* write output port; bit 0 low holds the CPU in reset */
		k->s.outport = val;
		if (!(val & 0x01))
			act->reset = true;
		break;
	case 0xd2:
		enqueue(k, val, false, act);
		break;
	case 0xd3:
		enqueue(k, val, true, act);
		break;
	case 0xd4: /* to the aux device: nobody there */
		enqueue(k, AUX_NO_DEVICE, true, act);
		break;
	default:
		kbd_write(k, val, act);
		break;
	}
	update_status(k);
}

static void cmd_write(struct i8042 *k, uint8_t cmd, struct i8042_actions *act)
{
	k->s.status |= I8042_STR_CMD;
	k->s.pending_cmd = 0; /* a new command abandons one waiting for data */
	switch (cmd) {
	case 0x20:
		enqueue(k, k->s.cmd_byte, false, act);
		break;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->s.pending_cmd = cmd;
		break;
	case 0xa7:
		k->s.cmd_byte |= I8042_CTR_AUXDIS;
		break;
	case 0xa8:
		k->s.cmd_byte &= ~I8042_CTR_AUXDIS;
		break;
	case 0xa9: /* aux interface test: ok */
	case 0xab: /* keyboard interface test: ok */
		enqueue(k, 0x00, false, act);
		break;
	case 0xaa: /* controller self test: ok, system flag set */
		k->s.status |= I8042_STR_SYS;
		k->s.cmd_byte |= I8042_CTR_SYS;
		enqueue(k, 0x55, false, act);
		break;
	case 0xad:
		k->s.cmd_byte |= I8042_CTR_KBDDIS;
		break;
	case 0xae:
		k->s.cmd_byte &= ~I8042_CTR_KBDDIS;
		break;
	case 0xd0:
		enqueue(k, k->s.outport, false, act);
		break;
	default:
		/* 0xf0-0xff pulse output port lines 0-3 low where the bit is 0 */
		if (cmd >= 0xf0 && !(cmd & 0x01))
			act->reset = true;
		/* anything else is ignored */
		break;
	}
	update_status(k);
}

static void run_actions(struct i8042 *k, const struct i8042_actions *act)
{
	if (act->kbd_irq) {
		platform_set_irq(k->platform, I8042_KBD_IRQ, 1);
		platform_set_irq(k->platform, I8042_KBD_IRQ, 0);
	}
	if (act->aux_irq) {
		platform_set_irq(k->platform, I8042_AUX_IRQ, 1);
		platform_set_irq(k->platform, I8042_AUX_IRQ, 0);
	}
	if (act->reset)
		platform_request_reset(k->platform);
}

static uint64_t data_read(void *opaque, uint64_t off, unsigned int size)
{
	struct i8042 *k = opaque;
	struct i8042_actions act = {0};
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (k->s.qlen) {
		v = k->s.queue[k->s.qhead % I8042_QUEUE_SIZE];
		k->s.qhead = (uint8_t)((k->s.qhead + 1) % I8042_QUEUE_SIZE);
		k->s.qlen--;
		k->s.last = v;
		head_arrived(k, &act);
		update_status(k);
	} else {
		v = k->s.last; /* empty: the output buffer still holds the last byte */
	}
	pthread_mutex_unlock(&k->lock);
	run_actions(k, &act);
	return v;
}

static void data_port_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct i8042 *k = opaque;
	struct i8042_actions act = {0};

	pthread_mutex_lock(&k->lock);
	data_write(k, (uint8_t)val, &act);
	pthread_mutex_unlock(&k->lock);
	run_actions(k, &act);
}

static uint64_t status_read(void *opaque, uint64_t off, unsigned int size)
{
	struct i8042 *k = opaque;
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	v = k->s.status;
	pthread_mutex_unlock(&k->lock);
	return v;
}

static void cmd_port_write(void *opaque, uint64_t off, unsigned int size, uint64_t val)
{
	struct i8042 *k = opaque;
	struct i8042_actions act = {0};

	pthread_mutex_lock(&k->lock);
	cmd_write(k, (uint8_t)val, &act);
	pthread_mutex_unlock(&k->lock);
	run_actions(k, &act);
}

const struct bus_ops i8042_data_ops = {.read = data_read, .write = data_port_write};
const struct bus_ops i8042_cmd_ops = {.read = status_read, .write = cmd_port_write};

int i8042_send_ctrl_alt_del(struct i8042 *k)
{
	struct i8042_actions act = {0};
	const uint8_t *seq;
	size_t i, len;
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	if (k->s.cmd_byte & I8042_CTR_XLATE) {
		seq = cad_set1;
		len = sizeof(cad_set1);
	} else {
		seq = cad_set2;
		len = sizeof(cad_set2);
	}
	if ((k->s.cmd_byte & I8042_CTR_KBDDIS) || k->s.kbd_disabled) {
		ret = -EAGAIN;
	} else if (k->s.qlen + len > I8042_QUEUE_SIZE) {
		ret = -ENOSPC; /* half a sequence could leave a key held down */
	} else {
		for (i = 0; i < len; i++)
			enqueue(k, seq[i], false, &act);
	}
	pthread_mutex_unlock(&k->lock);
	run_actions(k, &act);
	return ret;
}

void i8042_init(struct i8042 *k, const struct platform *p)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->platform = p;
	/* as firmware leaves it: kbd interrupt on, aux off, translation on */
	k->s.cmd_byte = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_AUXDIS | I8042_CTR_XLATE;
	k->s.status = I8042_STR_SYS;
	k->s.outport = 0x03; /* not in reset, A20 enabled */
	update_status(k);
}

const char *i8042_state_check(const struct i8042_state *s)
{
	if (s->qhead >= I8042_QUEUE_SIZE)
		return "qhead";
	if (s->qlen > I8042_QUEUE_SIZE)
		return "qlen";
	if (s->kbd_disabled > 1)
		return "kbd_disabled";
	return NULL;
}

void i8042_resync_irqs(struct i8042 *k)
{
	struct i8042_actions act = {0};

	platform_set_irq(k->platform, I8042_KBD_IRQ, 0);
	platform_set_irq(k->platform, I8042_AUX_IRQ, 0);
	pthread_mutex_lock(&k->lock);
	head_arrived(k, &act);
	pthread_mutex_unlock(&k->lock);
	run_actions(k, &act);
}

void i8042_save(struct i8042 *k, struct i8042_state *out)
{
	pthread_mutex_lock(&k->lock);
	*out = k->s;
	pthread_mutex_unlock(&k->lock);
}

void i8042_restore(struct i8042 *k, const struct i8042_state *in)
{
	pthread_mutex_lock(&k->lock);
	k->s = *in;
	k->s.qhead %= I8042_QUEUE_SIZE;
	if (k->s.qlen > I8042_QUEUE_SIZE)
		k->s.qlen = I8042_QUEUE_SIZE;
	update_status(k);
	pthread_mutex_unlock(&k->lock);
}
