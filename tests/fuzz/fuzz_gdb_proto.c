// SPDX-License-Identifier: GPL-2.0-only
/*
 * The GDB remote protocol: the input is the byte stream from a debugger. Every
 * packet the receiver completes goes through the command parsers, and is
 * framed again and fed to a second receiver, which must give back the same
 * payload; hex decoding must round-trip through hex encoding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "debug/gdb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reframe(const struct gdb_rx *rx, struct gdb_rx *again)
{
	size_t cap = 2 * rx->len + 8, n;
	char *out = malloc(cap);
	enum gdb_rx_event e = GDB_RX_NONE;

	if (!out)
		abort();
	n = gdb_frame_bin((const uint8_t *)rx->buf, rx->len, out, cap);
	if (!n)
		abort();
	gdb_rx_init(again);
	for (size_t i = 0; i < n; i++) {
		e = gdb_rx_feed(again, (uint8_t)out[i]);
		if (e != GDB_RX_NONE && i + 1 < n)
			abort();
	}
	if (e != GDB_RX_PACKET || again->len != rx->len || memcmp(again->buf, rx->buf, rx->len))
		abort();
	/* gdb_frame reads a text payload the same way */
	if (!memchr(rx->buf, '\0', rx->len) && gdb_frame(rx->buf, rx->len, out, cap) != n)
		abort();
	free(out);
}

static void check_hex(const char *hex, size_t len)
{
	uint8_t *bin = malloc(len / 2 + 1);
	char *back = malloc(len + 1);

	if (!bin || !back)
		abort();
	if (!gdb_hex_decode(hex, len, bin)) {
		gdb_hex_encode(bin, len / 2, back);
		if (strlen(back) != len || strncasecmp(back, hex, len))
			abort();
	}
	free(bin);
	free(back);
}

static void parse_packet(const struct gdb_rx *rx)
{
	struct gdb_vcont_action acts[8];
	const char *pkt = rx->buf, *p;
	uint64_t addr, len, kind, v;
	int type;
	long tid;

	gdb_parse_mem(pkt, &addr, &len);
	gdb_parse_breakpoint(pkt, &type, &addr, &kind);
	gdb_parse_thread_id(pkt, &tid);
	if (rx->len > 1)
		gdb_parse_thread_id(pkt + 1, &tid);
	if (rx->len > 2)
		gdb_parse_thread_id(pkt + 2, &tid);
	gdb_parse_vcont(pkt, acts, 8);
	gdb_parse_vcont(pkt, acts, 1);
	p = pkt + (rx->len ? 1 : 0);
	gdb_parse_hex_u64(&p, &v);
	check_hex(pkt, strlen(pkt));
	if ((p = strchr(pkt, ':')))
		check_hex(p + 1, strlen(p + 1) & ~(size_t)1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdb_rx *rx = malloc(sizeof(*rx)), *again = malloc(sizeof(*again));

	if (!rx || !again)
		abort();
	gdb_rx_init(rx);
	for (size_t i = 0; i < size; i++) {
		if (gdb_rx_feed(rx, data[i]) != GDB_RX_PACKET)
			continue;
		if (rx->len > GDB_PACKET_MAX || rx->buf[rx->len] != '\0')
			abort();
		parse_packet(rx);
		check_reframe(rx, again);
	}
	free(rx);
	free(again);
	return 0;
}
