// SPDX-License-Identifier: GPL-2.0-only
/* GDB remote protocol packets: receiver state machine, framing, hex and command parsing. */
#include "debug/gdb_proto.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void gdb_rx_init(struct gdb_rx *rx)
{
	rx->state = GDB_RX_IDLE;
	rx->sum = 0;
	rx->csum = 0;
	rx->overflow = 0;
	rx->len = 0;
	rx->buf[0] = '\0';
}

static void rx_start(struct gdb_rx *rx)
{
	rx->state = GDB_RX_DATA;
	rx->sum = 0;
	rx->csum = 0;
	rx->overflow = 0;
	rx->len = 0;
}

static void rx_store(struct gdb_rx *rx, uint8_t c)
{
	if (rx->len < GDB_PACKET_MAX)
		rx->buf[rx->len++] = (char)c;
	else
		rx->overflow = 1;
}

enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t byte)
{
	int v;

	switch (rx->state) {
	case GDB_RX_IDLE:
		switch (byte) {
		case '$':
			rx_start(rx);
			return GDB_RX_NONE;
		case 0x03:
			return GDB_RX_INTERRUPT;
		case '+':
			return GDB_RX_ACK;
		case '-':
			return GDB_RX_NACK;
		default:
			return GDB_RX_NONE;
		}
	case GDB_RX_DATA:
		if (byte == '$') {
			rx_start(rx);
		} else if (byte == '#') {
			rx->state = GDB_RX_CSUM1;
		} else {
			rx->sum += byte;
			if (byte == '}')
				rx->state = GDB_RX_ESCAPE;
			else
				rx_store(rx, byte);
		}
		return GDB_RX_NONE;
	case GDB_RX_ESCAPE:
		if (byte == '$') {
			rx_start(rx);
		} else if (byte == '#') {
			/* "}#": nothing left to unescape; the packet is broken. */
			rx->overflow = 1;
			rx->state = GDB_RX_CSUM1;
		} else {
			rx->sum += byte;
			rx_store(rx, byte ^ 0x20);
			rx->state = GDB_RX_DATA;
		}
		return GDB_RX_NONE;
	case GDB_RX_CSUM1:
		v = hexval(byte);
		if (v < 0)
			rx->overflow = 1;
		else
			rx->csum = (uint8_t)(v << 4);
		rx->state = GDB_RX_CSUM2;
		return GDB_RX_NONE;
	case GDB_RX_CSUM2:
		v = hexval(byte);
		if (v < 0)
			rx->overflow = 1;
		else
			rx->csum |= (uint8_t)v;
		rx->state = GDB_RX_IDLE;
		if (rx->overflow || rx->csum != rx->sum) {
			rx->len = 0;
			rx->buf[0] = '\0';
			return GDB_RX_BAD_CHECKSUM;
		}
		rx->buf[rx->len] = '\0';
		return GDB_RX_PACKET;
	}
	gdb_rx_init(rx);
	return GDB_RX_NONE;
}

static int needs_escape(uint8_t c)
{
	return c == '$' || c == '#' || c == '}' || c == '*';
}

size_t gdb_frame_bin(const uint8_t *payload, size_t len, char *out, size_t out_size)
{
	size_t o = 0, i;
	uint8_t sum = 0;

	/* '$' + payload + '#' + 2 checksum digits + NUL */
	if (out_size < 5)
		return 0;
	out[o++] = '$';
	for (i = 0; i < len; i++) {
		uint8_t c = payload[i];

		if (needs_escape(c)) {
			if (out_size - o < 2 + 4)
				return 0;
			out[o++] = '}';
			c ^= 0x20;
			sum += '}';
		} else if (out_size - o < 1 + 4) {
			return 0;
		}
		out[o++] = (char)c;
		sum += c;
	}
	out[o++] = '#';
	out[o++] = hexdigits[sum >> 4];
	out[o++] = hexdigits[sum & 0xf];
	out[o] = '\0';
	return o;
}

size_t gdb_frame(const char *payload, size_t len, char *out, size_t out_size)
{
	return gdb_frame_bin((const uint8_t *)payload, len, out, out_size);
}

int gdb_hex_decode(const char *hex, size_t hexlen, uint8_t *out)
{
	size_t i;

	if (hexlen % 2)
		return -EINVAL;
	for (i = 0; i < hexlen; i += 2) {
		int hi = hexval((unsigned char)hex[i]);
		int lo = hexval((unsigned char)hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void gdb_hex_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int gdb_parse_hex_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int d, n = 0;

	while ((d = hexval((unsigned char)*s)) >= 0) {
		if (x >> 60)
			return -EINVAL;
		x = x << 4 | (uint64_t)d;
		s++;
		n++;
	}
	if (!n)
		return -EINVAL;
	*v = x;
	*p = s;
	return 0;
}

int gdb_parse_mem(const char *pkt, uint64_t *addr, uint64_t *len)
{
	const char *p = pkt + 1;
	uint64_t a, l;
	char op = pkt[0];

	if (op != 'm' && op != 'M' && op != 'X')
		return -EINVAL;
	if (gdb_parse_hex_u64(&p, &a) || *p++ != ',' || gdb_parse_hex_u64(&p, &l))
		return -EINVAL;
	if (op == 'm' ? *p != '\0' : *p != ':')
		return -EINVAL;
	if (l && a + (l - 1) < a)
		return -EINVAL;
	*addr = a;
	*len = l;
	return 0;
}

int gdb_parse_breakpoint(const char *pkt, int *type, uint64_t *addr, uint64_t *kind)
{
	const char *p = pkt + 1;
	uint64_t a, k;
	int t;

	if (pkt[0] != 'Z' && pkt[0] != 'z')
		return -EINVAL;
	if (*p < '0' || *p > '4')
		return -EINVAL;
	t = *p++ - '0';
	if (*p++ != ',' || gdb_parse_hex_u64(&p, &a) || *p++ != ',' || gdb_parse_hex_u64(&p, &k))
		return -EINVAL;
	if (*p != '\0' && *p != ';')
		return -EINVAL;
	*type = t;
	*addr = a;
	*kind = k;
	return 0;
}

/* One thread id component: "-1" or hex; stops at the first other character. */
static int parse_tid_part(const char **p, long *id)
{
	uint64_t v;

	if ((*p)[0] == '-' && (*p)[1] == '1') {
		*p += 2;
		*id = GDB_TID_ALL;
		return 0;
	}
	if (gdb_parse_hex_u64(p, &v) || v > LONG_MAX)
		return -EINVAL;
	*id = (long)v;
	return 0;
}

/* A thread id at *p (any form), advancing *p past it. */
static int parse_tid(const char **p, long *tid)
{
	long pid, t;

	if (**p != 'p')
		return parse_tid_part(p, tid);
	(*p)++;
	if (parse_tid_part(p, &pid))
		return -EINVAL;
	if (**p != '.') {
		*tid = GDB_TID_ALL;
		return 0;
	}
	(*p)++;
	if (parse_tid_part(p, &t))
		return -EINVAL;
	*tid = t;
	return 0;
}

int gdb_parse_thread_id(const char *s, long *tid)
{
	long t;

	if (parse_tid(&s, &t) || *s != '\0')
		return -EINVAL;
	*tid = t;
	return 0;
}

int gdb_parse_vcont(const char *pkt, struct gdb_vcont_action *acts, int max)
{
	const char *p;
	int n = 0;

	if (strncmp(pkt, "vCont;", 6) != 0)
		return -EINVAL;
	p = pkt + 5;
	while (*p == ';') {
		struct gdb_vcont_action a = {.sig = 0, .tid = GDB_TID_ALL};
		uint64_t sig;

		p++;
		a.action = *p;
		switch (*p) {
		case 'c':
		case 's':
		case 't':
			p++;
			break;
		case 'C':
		case 'S':
			p++;
			if (gdb_parse_hex_u64(&p, &sig) || sig > 0xff)
				return -EINVAL;
			a.sig = (int)sig;
			break;
		default:
			return -EINVAL;
		}
		if (*p == ':') {
			p++;
			if (parse_tid(&p, &a.tid))
				return -EINVAL;
		}
		if (*p != ';' && *p != '\0')
			return -EINVAL;
		if (n >= max)
			return -ENOSPC;
		acts[n++] = a;
	}
	if (*p != '\0' || n == 0)
		return -EINVAL;
	return n;
}
