// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the live migration stream: every message round trips over a
 * socket pair; headers of an unknown type, with flags, or longer than their
 * type's bound are refused; hellos of another magic, version, vendor or
 * with a feature this host lacks are refused with one line; malformed memory
 * records are refused; a stream cut at any byte is refused, never taken;
 * the local messages (a memfd's layout, the TAPs handed over) round trip
 * and malformed ones are refused; fds pass with the messages that carry
 * them, and come with no other (closed, refused); a send stuck on a full
 * socket gives up when cancelled.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	/* the handover's messages carry nothing (but RELEASED its TAPs, locally) */
	for (uint32_t t = MIG_LOADED; t <= MIG_MEMFD; t++) {
		mig_hdr_encode(h, t, 0);
		assert_int_equal(mig_hdr_parse(h, &type, &len, &err), 0);
		assert_int_equal(type, t);
		assert_string_not_equal(mig_type_name(t), "unknown");
		mig_hdr_encode(h, t, 1);
		assert_int_equal(mig_hdr_parse(h, &type, &len, &err),
				 t == MIG_LOADED ? -EPROTO : 0);
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

static void test_memfd_message(void **state)
{
	uint8_t buf[MIG_MEMFD_MAX];
	struct state_err err = {""};
	struct mig_memfd f = {.size = 0x40000000, .nr = 2}, back;
	size_t len;

	(void)state;
	f.regions[0].gpa = 0;
	f.regions[0].size = 0x30000000;
	f.regions[1].gpa = 0x100000000ull;
	f.regions[1].size = 0x10000000;
	f.regions[1].offset = 0x30000000;
	len = mig_memfd_encode(buf, &f);
	assert_int_equal(len, 16 + 2 * 24);
	assert_int_equal(mig_memfd_decode(buf, len, &back, &err), 0);
	assert_int_equal(back.nr, 2);
	assert_int_equal(back.size, f.size);
	assert_int_equal(back.regions[1].gpa, f.regions[1].gpa);
	assert_int_equal(back.regions[1].offset, f.regions[1].offset);
	/* truncated, a byte too many, no region */
	assert_int_equal(mig_memfd_decode(buf, 15, &back, &err), -EPROTO);
	assert_int_equal(mig_memfd_decode(buf, len - 1, &back, &err), -EPROTO);
	f.nr = 0;
	len = mig_memfd_encode(buf, &f);
	assert_int_equal(mig_memfd_decode(buf, len, &back, &err), -EPROTO);
	/* a region past the memfd's end */
	f.nr = 2;
	f.regions[1].offset = 0x38000000;
	len = mig_memfd_encode(buf, &f);
	assert_int_equal(mig_memfd_decode(buf, len, &back, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "is not in a memfd"));
	/* two regions on the same bytes */
	f.regions[1].offset = 0x20000000;
	len = mig_memfd_encode(buf, &f);
	assert_int_equal(mig_memfd_decode(buf, len, &back, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "overlap"));
	/* not page aligned */
	f.regions[1].offset = 0x30000001;
	len = mig_memfd_encode(buf, &f);
	assert_int_equal(mig_memfd_decode(buf, len, &back, &err), -EPROTO);
}

static void test_released_message(void **state)
{
	uint8_t buf[MIG_RELEASED_MAX];
	struct state_err err = {""};
	struct mig_released r = {.nr = 2, .nic = {3, 1}}, back;
	size_t len;

	(void)state;
	len = mig_released_encode(buf, &r);
	assert_int_equal(len, 16);
	assert_int_equal(mig_released_decode(buf, len, &back, &err), 0);
	assert_int_equal(back.nr, 2);
	assert_int_equal(back.nic[0], 3);
	assert_int_equal(back.nic[1], 1);
	/* no TAP: an empty message, as over TCP */
	r.nr = 0;
	assert_int_equal(mig_released_encode(buf, &r), 0);
	assert_int_equal(mig_released_decode(buf, 0, &back, &err), 0);
	assert_int_equal(back.nr, 0);
	/* one NIC twice, a length that does not match, too many */
	r = (struct mig_released){.nr = 2, .nic = {1, 1}};
	len = mig_released_encode(buf, &r);
	assert_int_equal(mig_released_decode(buf, len, &back, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(mig_released_decode(buf, len - 1, &back, &err), -EPROTO);
	memset(buf, 0, 8);
	buf[0] = MIG_FDS_MAX + 1;
	assert_int_equal(mig_released_decode(buf, 8 + 4 * (MIG_FDS_MAX + 1), &back, &err), -EPROTO);
	/* the header's bound */
	mig_hdr_encode(buf, MIG_RELEASED, MIG_RELEASED_MAX + 1);
	{
		uint32_t t;
		uint64_t l;

		assert_int_equal(mig_hdr_parse(buf, &t, &l, &err), -EPROTO);
	}
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* fds pass with MEMFD and RELEASED over a local connection, with no other message. */
static void test_fds(void **state)
{
	struct state_err err = {""};
	struct mig_msg msg = {0};
	struct mig_memfd f = {.size = 1 << 20, .nr = 1};
	struct mig_released r = {.nr = 2, .nic = {0, 1}};
	uint8_t buf[MIG_MEMFD_MAX];
	struct stat a, b;
	struct pair p;
	int mfd, fds[2], spare;
	size_t len;

	(void)state;
	mfd = memfd_create("test", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 1 << 20), 0);
	f.regions[0].size = 1 << 20;
	pair_open(&p);
	/* not a local connection: no fd goes */
	len = mig_memfd_encode(buf, &f);
	assert_int_equal(mig_send_fds(&p.tx, MIG_MEMFD, buf, len, &mfd, 1), -EINVAL);
	p.tx.local = p.rx.local = true;
	assert_int_equal(mig_send_fds(&p.tx, MIG_MEMFD, buf, len, &mfd, 1), 0);
	assert_int_equal(mig_recv(&p.rx, &msg, &err), 0);
	assert_int_equal(msg.type, MIG_MEMFD);
	assert_int_equal(msg.nr_fds, 1);
	assert_int_equal(fstat(mfd, &a), 0);
	assert_int_equal(fstat(msg.fds[0], &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_true(fcntl(msg.fds[0], F_GETFD) & FD_CLOEXEC);
	spare = msg.fds[0];
	/* the next message closes what this one brought and nobody took */
	fds[0] = mfd;
	fds[1] = mfd;
	len = mig_released_encode(buf, &r);
	assert_int_equal(mig_send_fds(&p.tx, MIG_RELEASED, buf, len, fds, 2), 0);
	assert_int_equal(mig_recv(&p.rx, &msg, &err), 0);
	assert_int_equal(msg.type, MIG_RELEASED);
	assert_int_equal(msg.nr_fds, 2);
	assert_false(fd_open(spare) && spare != msg.fds[0] && spare != msg.fds[1]);
	spare = msg.fds[1];
	mig_msg_close_fds(&msg);
	assert_false(fd_open(spare));
	/* any other message with an fd is refused, the fd closed */
	assert_int_equal(mig_send_fds(&p.tx, MIG_SPEC, "{}", 2, &mfd, 1), 0);
	assert_int_equal(mig_recv(&p.rx, &msg, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "file descriptors"));
	assert_int_equal(msg.nr_fds, 0);
	/* ... and so is a MEMFD over a connection said not local */
	p.rx.local = false;
	len = mig_memfd_encode(buf, &f);
	assert_int_equal(mig_send_fds(&p.tx, MIG_MEMFD, buf, len, &mfd, 1), 0);
	assert_int_equal(mig_recv(&p.rx, &msg, &err), -EPROTO);
	assert_int_equal(msg.nr_fds, 0);
	mig_msg_free(&msg);
	pair_close(&p);
	close(mfd);
}

/* A send waiting for room on a full socket gives up when the cancel fd is written. */
static void test_cancelled_send(void **state)
{
	static uint8_t big[MIG_MEM_MAX_PAGES * GM_PAGE_SIZE];
	uint8_t h[MIG_MEM_HDR_LEN];
	uint64_t one = 1;
	struct pair p;
	int efd, ret = 0;

	(void)state;
	pair_open(&p);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(efd >= 0);
	p.tx.cancellable = true;
	p.tx.cancel_fd = efd;
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	mig_mem_hdr_encode(h, 0, MIG_MEM_MAX_PAGES, false);
	/* nobody reads: the socket fills, then the send gives up instead of waiting */
	for (int i = 0; i < 64 && !ret; i++)
		ret = mig_send(&p.tx, MIG_MEM, h, sizeof(h), big, sizeof(big));
	assert_int_equal(ret, -ECANCELED);
	assert_true(p.tx.broken);
	close(efd);
	pair_close(&p);
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
	    cmocka_unit_test(test_memfd_message),
	    cmocka_unit_test(test_released_message),
	    cmocka_unit_test(test_fds),
	    cmocka_unit_test(test_cancelled_send),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
