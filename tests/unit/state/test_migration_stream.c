// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the live migration stream: every message round trips over a
 * socket pair; headers of an unknown type, with flags, or longer than their
 * type's bound are refused; hellos of another magic, version, vendor or
 * with a feature this host lacks are refused with one line; malformed memory
 * records are refused; a stream cut at any byte is refused, never taken.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mem/guest_mem.h"
#include "state/migration_stream.h"

struct pair {
	struct mig_conn tx, rx;
};

static void pair_open(struct pair *p)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(p, 0, sizeof(*p));
	p->tx.fd = sv[0];
	p->rx.fd = sv[1];
}

static void pair_close(struct pair *p)
{
	if (p->tx.fd >= 0)
		close(p->tx.fd);
	close(p->rx.fd);
}

static void hello_sample(struct mig_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->version = MIG_VERSION;
	strcpy(h->petrel, "9.9.9");
	strcpy(h->vendor, "GenuineIntel");
	h->nr_cpuid = 3;
	h->cpuid[0] = (struct kvm_cpuid_entry2){.function = 0, .eax = 0xd};
	h->cpuid[1] = (struct kvm_cpuid_entry2){.function = 1, .ecx = 0x1, .edx = 0x10};
	h->cpuid[2] = (struct kvm_cpuid_entry2){.function = 7, .index = 0, .ebx = 0x20};
}

static void test_hello_round_trip(void **state)
{
	uint8_t buf[MIG_HELLO_MAX];
	struct mig_hello h, back;
	struct state_err err = {""};
	size_t len;

	(void)state;
	hello_sample(&h);
	len = mig_hello_encode(buf, &h);
	assert_int_equal(len, MIG_HELLO_FIXED + 3 * 24);
	assert_int_equal(mig_hello_decode(buf, len, &back, &err), 0);
	assert_int_equal(back.version, MIG_VERSION);
	assert_string_equal(back.petrel, "9.9.9");
	assert_string_equal(back.vendor, "GenuineIntel");
	assert_int_equal(back.nr_cpuid, 3);
	assert_int_equal(back.cpuid[1].ecx, 0x1);
	assert_int_equal(back.cpuid[2].ebx, 0x20);
	/* the host gives all of it: accepted */
	assert_int_equal(mig_hello_check(&back, MIG_VERSION, "GenuineIntel", &err), 0);
	assert_int_equal(mig_hello_check_cpuid(&back, h.cpuid, 3, &err), 0);
	/* truncated anywhere: refused */
	for (size_t i = 0; i < len; i++)
		assert_int_not_equal(mig_hello_decode(buf, i, &back, &err), 0);
	/* another magic */
	buf[0] ^= 1;
	assert_int_not_equal(mig_hello_decode(buf, len, &back, &err), 0);
	assert_non_null(strstr(err.msg, "not a petrel migration stream"));
}

static void test_hello_refused(void **state)
{
	struct mig_hello h;
	struct kvm_cpuid_entry2 host[3];
	struct state_err err = {""};

	(void)state;
	hello_sample(&h);
	memcpy(host, h.cpuid, sizeof(host));
	/* another stream version: one line naming both */
	h.version = 7;
	assert_int_equal(mig_hello_check(&h, MIG_VERSION, "GenuineIntel", &err), -EPROTO);
	assert_non_null(strstr(err.msg, "version 7"));
	assert_non_null(strstr(err.msg, "9.9.9"));
	assert_null(strchr(err.msg, '\n'));
	/* another vendor */
	h.version = MIG_VERSION;
	assert_int_equal(mig_hello_check(&h, MIG_VERSION, "AuthenticAMD", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "GenuineIntel"));
	assert_non_null(strstr(err.msg, "AuthenticAMD"));
	/* a feature the host lacks */
	host[2].ebx = 0;
	assert_int_equal(mig_hello_check_cpuid(&h, host, 3, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "lacks a feature"));
	/* a hello of another version is read as far as its version */
	{
		uint8_t buf[MIG_HELLO_MAX];
		struct mig_hello back;
		size_t len;

		h.version = 2;
		len = mig_hello_encode(buf, &h);
		assert_int_equal(mig_hello_decode(buf, 20, &back, &err), -EPROTO);
		assert_int_equal(mig_hello_decode(buf, len, &back, &err), 0);
		assert_int_equal(back.version, 2);
	}
}

static void test_header(void **state)
{
	uint8_t h[MIG_HDR_LEN];
	struct state_err err = {""};
	uint32_t type;
	uint64_t len;

	(void)state;
	mig_hdr_encode(h, MIG_SPEC, 100);
	assert_int_equal(mig_hdr_parse(h, &type, &len, &err), 0);
	assert_int_equal(type, MIG_SPEC);
	assert_int_equal(len, 100);
	mig_hdr_encode(h, MIG_SPEC, MIG_SPEC_MAX + 1);
	assert_int_equal(mig_hdr_parse(h, &type, &len, &err), -EPROTO);
	mig_hdr_encode(h, MIG_END, 1);
	assert_int_equal(mig_hdr_parse(h, &type, &len, &err), -EPROTO);
	/* the handover's messages carry nothing */
	for (uint32_t t = MIG_LOADED; t <= MIG_RELEASED; t++) {
		mig_hdr_encode(h, t, 0);
		assert_int_equal(mig_hdr_parse(h, &type, &len, &err), 0);
		assert_int_equal(type, t);
		assert_string_not_equal(mig_type_name(t), "unknown");
		mig_hdr_encode(h, t, 1);
		assert_int_equal(mig_hdr_parse(h, &type, &len, &err), -EPROTO);
	}
	mig_hdr_encode(h, 0, 0);
	assert_int_equal(mig_hdr_parse(h, &type, &len, &err), -EPROTO);
	mig_hdr_encode(h, MIG_TYPE_MAX + 1, 0);
	assert_int_equal(mig_hdr_parse(h, &type, &len, &err), -EPROTO);
	mig_hdr_encode(h, MIG_ACK, 0);
	h[5] = 1; /* flags */
	assert_int_equal(mig_hdr_parse(h, &type, &len, &err), -EPROTO);
	/* a huge length never allocates */
	mig_hdr_encode(h, MIG_STATE, UINT64_MAX);
	assert_int_equal(mig_hdr_parse(h, &type, &len, &err), -EPROTO);
}

static void test_mem_records(void **state)
{
	static uint8_t rec[MIG_MEM_HDR_LEN + 2 * GM_PAGE_SIZE];
	struct state_err err = {""};
	struct mig_mem m;

	(void)state;
	mig_mem_hdr_encode(rec, 0x5000, 2, false);
	memset(rec + MIG_MEM_HDR_LEN, 0xab, 2 * GM_PAGE_SIZE);
	assert_int_equal(mig_mem_decode(rec, sizeof(rec), &m, &err), 0);
	assert_int_equal(m.gpa, 0x5000);
	assert_int_equal(m.pages, 2);
	assert_false(m.zero);
	assert_ptr_equal(m.data, rec + MIG_MEM_HDR_LEN);
	/* data of another length */
	assert_int_equal(mig_mem_decode(rec, sizeof(rec) - 1, &m, &err), -EPROTO);
	/* a zero record has no data */
	mig_mem_hdr_encode(rec, 0x5000, 2, true);
	assert_int_equal(mig_mem_decode(rec, MIG_MEM_HDR_LEN, &m, &err), 0);
	assert_true(m.zero);
	assert_null(m.data);
	assert_int_equal(mig_mem_decode(rec, sizeof(rec), &m, &err), -EPROTO);
	/* unaligned, empty, too long, wrapping around */
	mig_mem_hdr_encode(rec, 0x5001, 1, true);
	assert_int_equal(mig_mem_decode(rec, MIG_MEM_HDR_LEN, &m, &err), -EPROTO);
	mig_mem_hdr_encode(rec, 0x5000, 0, true);
	assert_int_equal(mig_mem_decode(rec, MIG_MEM_HDR_LEN, &m, &err), -EPROTO);
	mig_mem_hdr_encode(rec, 0x5000, MIG_MEM_MAX_PAGES + 1, true);
	assert_int_equal(mig_mem_decode(rec, MIG_MEM_HDR_LEN, &m, &err), -EPROTO);
	mig_mem_hdr_encode(rec, UINT64_MAX & ~0xfffULL, 2, true);
	assert_int_equal(mig_mem_decode(rec, MIG_MEM_HDR_LEN, &m, &err), -EPROTO);
	/* unknown flags */
	mig_mem_hdr_encode(rec, 0x5000, 1, true);
	rec[12] |= 2;
	assert_int_equal(mig_mem_decode(rec, MIG_MEM_HDR_LEN, &m, &err), -EPROTO);
	assert_int_equal(mig_mem_decode(rec, 3, &m, &err), -EPROTO);
}

/* A whole stream (one of each message the source sends) into @p's sender. */
static size_t send_stream(struct pair *p)
{
	static uint8_t page[GM_PAGE_SIZE];
	uint8_t hello[MIG_HELLO_MAX], rec[MIG_MEM_HDR_LEN];
	struct mig_hello h;

	hello_sample(&h);
	memset(page, 0x5a, sizeof(page));
	assert_int_equal(mig_send(&p->tx, MIG_HELLO, hello, mig_hello_encode(hello, &h), NULL, 0),
			 0);
	assert_int_equal(mig_send(&p->tx, MIG_SPEC, "{\"cpus\":1}", 10, NULL, 0), 0);
	mig_mem_hdr_encode(rec, 0x1000, 1, false);
	assert_int_equal(mig_send(&p->tx, MIG_MEM, rec, sizeof(rec), page, sizeof(page)), 0);
	mig_mem_hdr_encode(rec, 0x2000, 3, true);
	assert_int_equal(mig_send(&p->tx, MIG_MEM, rec, sizeof(rec), NULL, 0), 0);
	assert_int_equal(mig_send(&p->tx, MIG_STATE, "PETRELSS....", 12, NULL, 0), 0);
	assert_int_equal(mig_send(&p->tx, MIG_END, NULL, 0, NULL, 0), 0);
	return (size_t)p->tx.sent;
}

static void test_stream_round_trip(void **state)
{
	static const uint32_t order[] = {MIG_HELLO, MIG_SPEC, MIG_MEM, MIG_MEM, MIG_STATE, MIG_END};
	struct state_err err = {""};
	struct mig_msg msg = {0};
	struct mig_hello h;
	struct mig_mem m;
	struct pair p;
	size_t total;

	(void)state;
	pair_open(&p);
	total = send_stream(&p);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		assert_int_equal(mig_recv(&p.rx, &msg, &err), 0);
		assert_int_equal(msg.type, order[i]);
		if (i == 0)
			assert_int_equal(mig_hello_decode(msg.buf, msg.len, &h, &err), 0);
		if (i == 1)
			assert_string_equal((char *)msg.buf, "{\"cpus\":1}");
		if (i == 2) {
			assert_int_equal(mig_mem_decode(msg.buf, msg.len, &m, &err), 0);
			assert_int_equal(m.gpa, 0x1000);
			assert_int_equal(m.data[4095], 0x5a);
		}
		if (i == 3) {
			assert_int_equal(mig_mem_decode(msg.buf, msg.len, &m, &err), 0);
			assert_true(m.zero);
			assert_int_equal(m.pages, 3);
		}
		if (i == 4)
			assert_int_equal(msg.len, 12);
	}
	assert_int_equal(p.rx.received, total);
	/* then the sender goes away: the end of the stream is said as such */
	close(p.tx.fd);
	p.tx.fd = -1;
	assert_int_equal(mig_recv(&p.rx, &msg, &err), -ECONNRESET);
	assert_non_null(strstr(err.msg, "connection closed"));
	/* an error message is taken as one line, made printable */
	pair_close(&p);
	pair_open(&p);
	mig_send_error(&p.tx, "refused\nreally");
	assert_int_equal(mig_recv(&p.rx, &msg, &err), 0);
	assert_int_equal(msg.type, MIG_ERROR);
	assert_string_equal((char *)msg.buf, "refused?really");
	mig_msg_free(&msg);
	pair_close(&p);
}

/* The stream cut after every byte: each message before the cut, then a refusal. */
static void test_every_truncation(void **state)
{
	static uint8_t whole[MIG_HDR_LEN * 8 + MIG_HELLO_MAX + 3 * GM_PAGE_SIZE];
	struct state_err err = {""};
	struct mig_msg msg = {0};
	struct pair p;
	size_t total, got;

	(void)state;
	pair_open(&p);
	total = send_stream(&p);
	assert_true(total <= sizeof(whole));
	got = 0;
	while (got < total) {
		ssize_t n = read(p.rx.fd, whole + got, total - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
	pair_close(&p);
	for (size_t cut = 0; cut < total; cut += (cut < 200 || total - cut < 200) ? 1 : 97) {
		int ret = 0, msgs = 0;

		pair_open(&p);
		assert_int_equal(write(p.tx.fd, whole, cut), (ssize_t)cut);
		close(p.tx.fd);
		p.tx.fd = -1;
		while ((ret = mig_recv(&p.rx, &msg, &err)) == 0)
			msgs++;
		assert_int_equal(ret, -ECONNRESET);
		assert_true(msgs < 6);
		pair_close(&p);
	}
	mig_msg_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello_round_trip),
	    cmocka_unit_test(test_hello_refused),
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_mem_records),
	    cmocka_unit_test(test_stream_round_trip),
	    cmocka_unit_test(test_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
