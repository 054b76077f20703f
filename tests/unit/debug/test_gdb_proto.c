// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the GDB remote protocol packet layer and command parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/gdb_proto.h"

/* Feed a string; return the last non-NONE event (or NONE) and count the events. */
static enum gdb_rx_event feed(struct gdb_rx *rx, const char *s, size_t n, int *events)
{
	enum gdb_rx_event last = GDB_RX_NONE, e;
	size_t i;

	*events = 0;
	for (i = 0; i < n; i++) {
		e = gdb_rx_feed(rx, (uint8_t)s[i]);
		if (e != GDB_RX_NONE) {
			last = e;
			(*events)++;
		}
	}
	return last;
}

static void test_frame_simple(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(gdb_frame("OK", 2, out, sizeof(out)), 6);
	assert_string_equal(out, "$OK#9a");
	assert_int_equal(gdb_frame("", 0, out, sizeof(out)), 4);
	assert_string_equal(out, "$#00");
	/* 'g' = 0x67 */
	assert_int_equal(gdb_frame("g", 1, out, sizeof(out)), 5);
	assert_string_equal(out, "$g#67");
	/* does not fit: needs 7 bytes with the NUL */
	assert_int_equal(gdb_frame("OK", 2, out, 6), 0);
	assert_int_equal(gdb_frame("OK", 2, out, 7), 6);
}

static void test_frame_escapes(void **state)
{
	const char payload[] = "a$b#c}d*e";
	char out[64];
	size_t n;
	unsigned sum = 0, i;

	(void)state;
	n = gdb_frame(payload, strlen(payload), out, sizeof(out));
	assert_int_equal(n, 1 + 9 + 4 + 3);
	assert_memory_equal(out,
			    "$a}\x04"
			    "b}\x03"
			    "c}]d}\x0a"
			    "e#",
			    15);
	for (i = 1; i < n - 3; i++)
		sum += (uint8_t)out[i];
	char cs[3];
	snprintf(cs, sizeof(cs), "%02x", sum & 0xff);
	assert_memory_equal(out + n - 2, cs, 2);
	/* escape does not fit at the end */
	assert_int_equal(gdb_frame("}", 1, out, 6), 0);
	assert_int_equal(gdb_frame("}", 1, out, 7), 6);
}

static void test_rx_roundtrip(void **state)
{
	static struct gdb_rx rx;
	const uint8_t bin[] = {'$', '#', '}', '*', 0x00, 0x03, '+', '-', 0xff, 'x'};
	char out[64];
	size_t n;
	int ev;

	(void)state;
	gdb_rx_init(&rx);
	n = gdb_frame("qSupported:multiprocess+", 24, out, sizeof(out));
	assert_int_equal(feed(&rx, out, n, &ev), GDB_RX_PACKET);
	assert_int_equal(ev, 1);
	assert_int_equal(rx.len, 24);
	assert_string_equal(rx.buf, "qSupported:multiprocess+");

	n = gdb_frame_bin(bin, sizeof(bin), out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(feed(&rx, out, n, &ev), GDB_RX_PACKET);
	assert_int_equal(ev, 1);
	assert_int_equal(rx.len, sizeof(bin));
	assert_memory_equal(rx.buf, bin, sizeof(bin));
	assert_int_equal(rx.buf[rx.len], '\0');

	/* upper-case checksum digits are accepted */
	assert_int_equal(feed(&rx, "$k#6B", 5, &ev), GDB_RX_PACKET);
	assert_string_equal(rx.buf, "k");
}

static void test_rx_bad_checksum(void **state)
{
	static struct gdb_rx rx;
	int ev;

	(void)state;
	gdb_rx_init(&rx);
	assert_int_equal(feed(&rx, "$OK#9b", 6, &ev), GDB_RX_BAD_CHECKSUM);
	assert_int_equal(ev, 1);
	assert_int_equal(feed(&rx, "$OK#zz", 6, &ev), GDB_RX_BAD_CHECKSUM);
	/* "}#" is broken */
	assert_int_equal(feed(&rx, "$a}#00", 6, &ev), GDB_RX_BAD_CHECKSUM);
	/* machine recovers */
	assert_int_equal(feed(&rx, "$OK#9a", 6, &ev), GDB_RX_PACKET);
	assert_string_equal(rx.buf, "OK");
	/* a '$' inside a packet restarts it */
	assert_int_equal(feed(&rx, "$garbage$OK#9a", 14, &ev), GDB_RX_PACKET);
	assert_int_equal(ev, 1);
	assert_string_equal(rx.buf, "OK");
}

static void test_rx_out_of_packet(void **state)
{
	static struct gdb_rx rx;

	(void)state;
	gdb_rx_init(&rx);
	assert_int_equal(gdb_rx_feed(&rx, 0x03), GDB_RX_INTERRUPT);
	assert_int_equal(gdb_rx_feed(&rx, '+'), GDB_RX_ACK);
	assert_int_equal(gdb_rx_feed(&rx, '-'), GDB_RX_NACK);
	assert_int_equal(gdb_rx_feed(&rx, 'x'), GDB_RX_NONE);
	/* inside a packet, 0x03 / '+' / '-' are data */
	assert_int_equal(gdb_rx_feed(&rx, '$'), GDB_RX_NONE);
	assert_int_equal(gdb_rx_feed(&rx, 0x03), GDB_RX_NONE);
	assert_int_equal(gdb_rx_feed(&rx, '+'), GDB_RX_NONE);
	assert_int_equal(gdb_rx_feed(&rx, '-'), GDB_RX_NONE);
	assert_int_equal(gdb_rx_feed(&rx, '#'), GDB_RX_NONE);
	assert_int_equal(gdb_rx_feed(&rx, '5'), GDB_RX_NONE);
	assert_int_equal(gdb_rx_feed(&rx, 'b'), GDB_RX_PACKET); /* 03+2b+2d = 5b */
	assert_int_equal(gdb_rx_feed(&rx, 0x03), GDB_RX_INTERRUPT);
}

static void test_rx_checksum_5b(void **state)
{
	static struct gdb_rx rx;
	int ev;

	(void)state;
	/* recheck the sum used above with the framer */
	char out[16];
	const char p[] = {0x03, '+', '-'};
	size_t n = gdb_frame(p, 3, out, sizeof(out));
	assert_int_equal(n, 7);
	assert_memory_equal(out + 4, "#5b", 3);
	gdb_rx_init(&rx);
	assert_int_equal(feed(&rx, out, n, &ev), GDB_RX_PACKET);
}

static void test_rx_oversize(void **state)
{
	struct gdb_rx *rx = calloc(1, sizeof(*rx) + 64);
	size_t big = GDB_PACKET_MAX + 100, i;
	char *payload = malloc(big), *out = malloc(2 * big + 8);
	uint8_t *guard = (uint8_t *)(rx + 1);
	size_t n;
	int ev;

	(void)state;
	assert_non_null(rx);
	memset(guard, 0xa5, 64);
	for (i = 0; i < big; i++)
		payload[i] = 'A' + i % 26;
	n = gdb_frame(payload, big, out, 2 * big + 8);
	assert_int_equal(n, big + 4);
	gdb_rx_init(rx);
	assert_int_equal(feed(rx, out, n, &ev), GDB_RX_BAD_CHECKSUM);
	assert_int_equal(ev, 1);
	for (i = 0; i < 64; i++)
		assert_int_equal(guard[i], 0xa5);
	assert_true(rx->len <= GDB_PACKET_MAX);

	/* exactly GDB_PACKET_MAX fits */
	n = gdb_frame(payload, GDB_PACKET_MAX, out, 2 * big + 8);
	assert_int_equal(feed(rx, out, n, &ev), GDB_RX_PACKET);
	assert_int_equal(rx->len, GDB_PACKET_MAX);
	assert_int_equal(rx->buf[GDB_PACKET_MAX], '\0');
	free(out);
	free(payload);
	free(rx);
}

static void test_hex(void **state)
{
	uint8_t b[4];
	char s[9];
	const char *p;
	uint64_t v;

	(void)state;
	assert_int_equal(gdb_hex_decode("00fFa5", 6, b), 0);
	assert_int_equal(b[0], 0x00);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(b[2], 0xa5);
	assert_int_equal(gdb_hex_decode("0g", 2, b), -EINVAL);
	assert_int_equal(gdb_hex_decode("g0", 2, b), -EINVAL);
	assert_int_equal(gdb_hex_decode("123", 3, b), -EINVAL);
	assert_int_equal(gdb_hex_decode("", 0, b), 0);

	b[0] = 0xde;
	b[1] = 0xad;
	b[2] = 0x0b;
	b[3] = 0xef;
	gdb_hex_encode(b, 4, s);
	assert_string_equal(s, "dead0bef");

	p = "1aF,rest";
	assert_int_equal(gdb_parse_hex_u64(&p, &v), 0);
	assert_int_equal(v, 0x1af);
	assert_string_equal(p, ",rest");
	p = "ffffffffffffffff";
	assert_int_equal(gdb_parse_hex_u64(&p, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(*p, '\0');
	p = "0000000000000000001";
	assert_int_equal(gdb_parse_hex_u64(&p, &v), 0);
	assert_int_equal(v, 1);
	p = "10000000000000000";
	assert_int_equal(gdb_parse_hex_u64(&p, &v), -EINVAL);
	p = ",1";
	assert_int_equal(gdb_parse_hex_u64(&p, &v), -EINVAL);
	assert_string_equal(p, ",1");
	p = "";
	assert_int_equal(gdb_parse_hex_u64(&p, &v), -EINVAL);
}

static void test_parse_mem(void **state)
{
	uint64_t a, l;

	(void)state;
	assert_int_equal(gdb_parse_mem("mffffffff81000000,40", &a, &l), 0);
	assert_true(a == 0xffffffff81000000ULL);
	assert_int_equal(l, 0x40);
	assert_int_equal(gdb_parse_mem("M1000,2:abcd", &a, &l), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(l, 2);
	assert_int_equal(gdb_parse_mem("X10,0:", &a, &l), 0);
	assert_int_equal(l, 0);
	assert_int_equal(gdb_parse_mem("m1000", &a, &l), -EINVAL);
	assert_int_equal(gdb_parse_mem("m1000,", &a, &l), -EINVAL);
	assert_int_equal(gdb_parse_mem("m,10", &a, &l), -EINVAL);
	assert_int_equal(gdb_parse_mem("m10,4x", &a, &l), -EINVAL);
	assert_int_equal(gdb_parse_mem("m10,4:", &a, &l), -EINVAL);
	assert_int_equal(gdb_parse_mem("M10,4", &a, &l), -EINVAL);
	assert_int_equal(gdb_parse_mem("g", &a, &l), -EINVAL);
	assert_int_equal(gdb_parse_mem("mfffffffffffffff0,20", &a, &l), -EINVAL);
	assert_int_equal(gdb_parse_mem("mfffffffffffffff0,10", &a, &l), 0);
	assert_int_equal(gdb_parse_mem("m10000000000000000,1", &a, &l), -EINVAL);
}

static void test_parse_breakpoint(void **state)
{
	uint64_t a, k;
	int t;

	(void)state;
	assert_int_equal(gdb_parse_breakpoint("Z0,ffffffff81000000,1", &t, &a, &k), 0);
	assert_int_equal(t, 0);
	assert_true(a == 0xffffffff81000000ULL);
	assert_int_equal(k, 1);
	assert_int_equal(gdb_parse_breakpoint("z2,1000,8", &t, &a, &k), 0);
	assert_int_equal(t, 2);
	assert_int_equal(a, 0x1000);
	assert_int_equal(k, 8);
	assert_int_equal(gdb_parse_breakpoint("Z1,10,1;X2,0a", &t, &a, &k), 0);
	assert_int_equal(t, 1);
	assert_int_equal(gdb_parse_breakpoint("Z5,10,1", &t, &a, &k), -EINVAL);
	assert_int_equal(gdb_parse_breakpoint("Z0,10", &t, &a, &k), -EINVAL);
	assert_int_equal(gdb_parse_breakpoint("Z0,,1", &t, &a, &k), -EINVAL);
	assert_int_equal(gdb_parse_breakpoint("Z,10,1", &t, &a, &k), -EINVAL);
	assert_int_equal(gdb_parse_breakpoint("Z01,10,1", &t, &a, &k), -EINVAL);
	assert_int_equal(gdb_parse_breakpoint("Z0,10,1x", &t, &a, &k), -EINVAL);
	assert_int_equal(gdb_parse_breakpoint("m0,10,1", &t, &a, &k), -EINVAL);
}

static void test_parse_thread_id(void **state)
{
	long t;

	(void)state;
	assert_int_equal(gdb_parse_thread_id("-1", &t), 0);
	assert_int_equal(t, GDB_TID_ALL);
	assert_int_equal(gdb_parse_thread_id("0", &t), 0);
	assert_int_equal(t, GDB_TID_ANY);
	assert_int_equal(gdb_parse_thread_id("1f", &t), 0);
	assert_int_equal(t, 0x1f);
	assert_int_equal(gdb_parse_thread_id("p1.2", &t), 0);
	assert_int_equal(t, 2);
	assert_int_equal(gdb_parse_thread_id("p1.-1", &t), 0);
	assert_int_equal(t, GDB_TID_ALL);
	assert_int_equal(gdb_parse_thread_id("p-1.-1", &t), 0);
	assert_int_equal(t, GDB_TID_ALL);
	assert_int_equal(gdb_parse_thread_id("p1", &t), 0);
	assert_int_equal(t, GDB_TID_ALL);
	assert_int_equal(gdb_parse_thread_id("p1.a", &t), 0);
	assert_int_equal(t, 10);
	assert_int_equal(gdb_parse_thread_id("", &t), -EINVAL);
	assert_int_equal(gdb_parse_thread_id("-2", &t), -EINVAL);
	assert_int_equal(gdb_parse_thread_id("-", &t), -EINVAL);
	assert_int_equal(gdb_parse_thread_id("p", &t), -EINVAL);
	assert_int_equal(gdb_parse_thread_id("p1.", &t), -EINVAL);
	assert_int_equal(gdb_parse_thread_id("p1.2x", &t), -EINVAL);
	assert_int_equal(gdb_parse_thread_id("xyz", &t), -EINVAL);
	assert_int_equal(gdb_parse_thread_id("-1a", &t), -EINVAL);
	assert_int_equal(gdb_parse_thread_id("ffffffffffffffff", &t), -EINVAL);
}

static void test_parse_vcont(void **state)
{
	struct gdb_vcont_action a[4];

	(void)state;
	assert_int_equal(gdb_parse_vcont("vCont;s:1;c", a, 4), 2);
	assert_int_equal(a[0].action, 's');
	assert_int_equal(a[0].tid, 1);
	assert_int_equal(a[0].sig, 0);
	assert_int_equal(a[1].action, 'c');
	assert_int_equal(a[1].tid, GDB_TID_ALL);

	assert_int_equal(gdb_parse_vcont("vCont;C05:p1.2;S0b;t:-1", a, 4), 3);
	assert_int_equal(a[0].action, 'C');
	assert_int_equal(a[0].sig, 5);
	assert_int_equal(a[0].tid, 2);
	assert_int_equal(a[1].action, 'S');
	assert_int_equal(a[1].sig, 0xb);
	assert_int_equal(a[1].tid, GDB_TID_ALL);
	assert_int_equal(a[2].action, 't');
	assert_int_equal(a[2].tid, GDB_TID_ALL);

	assert_int_equal(gdb_parse_vcont("vCont;c", a, 4), 1);
	assert_int_equal(gdb_parse_vcont("vCont;c;s;c;s;c", a, 4), -ENOSPC);
	assert_int_equal(gdb_parse_vcont("vCont?", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont;", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont;c;", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont;x", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont;C", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont;C100", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont;s:", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont;s:1x", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vCont;r1000,2000:1", a, 4), -EINVAL);
	assert_int_equal(gdb_parse_vcont("vContc", a, 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_simple),     cmocka_unit_test(test_frame_escapes),
	    cmocka_unit_test(test_rx_roundtrip),     cmocka_unit_test(test_rx_bad_checksum),
	    cmocka_unit_test(test_rx_out_of_packet), cmocka_unit_test(test_rx_checksum_5b),
	    cmocka_unit_test(test_rx_oversize),	     cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_parse_mem),	     cmocka_unit_test(test_parse_breakpoint),
	    cmocka_unit_test(test_parse_thread_id),  cmocka_unit_test(test_parse_vcont),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
