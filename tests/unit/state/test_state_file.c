// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the saved-state container: sections round trip; every
 * malformed container of a table is refused with a message naming the
 * problem; a truncation at any byte and a flipped bit anywhere are refused;
 * section versions, unknown required and optional sections.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/state_file.h"

/* A growing buffer the writer writes into. */
struct mem {
	uint8_t *buf;
	size_t len;
	int fail_after; /* > 0: the write that many bytes in fails */
};

static int mem_write(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;

	if (m->fail_after > 0 && m->len + len > (size_t)m->fail_after)
		return -ENOSPC;
	m->buf = realloc(m->buf, m->len + len);
	assert_non_null(m->buf);
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

static const uint8_t cpu0[] = {1, 2, 3, 4, 5};
static const char uart[] = "uart state";

/* A container of three sections (one empty, one optional), ended. */
static struct mem sample(void)
{
	struct mem m = {0};
	struct state_writer w;

	assert_int_equal(state_writer_begin(&w, mem_write, &m), 0);
	assert_int_equal(
	    state_writer_section(&w, "vcpu.0", 2, STATE_SEC_REQUIRED, cpu0, sizeof(cpu0)), 0);
	assert_int_equal(
	    state_writer_section(&w, "uart", 1, STATE_SEC_REQUIRED, uart, sizeof(uart)), 0);
	assert_int_equal(state_writer_section(&w, "hint", 1, 0, NULL, 0), 0);
	assert_int_equal(state_writer_end(&w), 0);
	assert_int_equal(w.bytes, m.len);
	assert_int_equal(m.len % 8, 0);
	return m;
}

static void test_round_trip(void **state)
{
	struct mem m = sample();
	struct state_reader *r = malloc(sizeof(*r));
	struct state_err err = {""};
	const struct state_section *s;

	assert_int_equal(state_reader_parse(r, m.buf, m.len, &err), 0);
	assert_int_equal(r->nr_sections, 3);
	assert_true(!strncmp(r->producer, "petrel ", 7));
	s = state_reader_take(r, "vcpu.0", 2, &err);
	assert_non_null(s);
	assert_int_equal(s->version, 2);
	assert_int_equal(s->len, sizeof(cpu0));
	assert_memory_equal(s->data, cpu0, sizeof(cpu0));
	/* an older reader of vcpu.0 refuses it by name */
	assert_null(state_reader_take(r, "vcpu.0", 1, &err));
	assert_non_null(strstr(err.msg, "vcpu.0 is version 2"));
	assert_null(state_reader_take(r, "rtc", 1, &err));
	assert_non_null(strstr(err.msg, "section rtc is missing"));
	/* uart not taken: a required section nobody knows */
	assert_int_equal(state_reader_finish(r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "section uart"));
	s = state_reader_take(r, "uart", 1, &err);
	assert_non_null(s);
	assert_string_equal((const char *)s->data, uart);
	/* the optional section may stay unread */
	assert_true(state_reader_has(r, "hint"));
	assert_int_equal(state_reader_finish(r, &err), 0);
	free(r);
	free(m.buf);
}

static void test_writer_refuses(void **state)
{
	struct mem m = {0};
	struct state_writer w;

	assert_int_equal(state_writer_begin(&w, mem_write, &m), 0);
	assert_int_equal(state_writer_section(&w, "Bad Name", 1, 0, NULL, 0), -EINVAL);
	/* the first error sticks */
	assert_int_equal(state_writer_section(&w, "good", 1, 0, NULL, 0), -EINVAL);
	assert_int_equal(state_writer_end(&w), -EINVAL);
	free(m.buf);
	m = (struct mem){0};
	assert_int_equal(state_writer_begin(&w, mem_write, &m), 0);
	assert_int_equal(state_writer_section(&w, "end", 1, 0, NULL, 0), -EINVAL);
	free(m.buf);
	m = (struct mem){0};
	assert_int_equal(state_writer_begin(&w, mem_write, &m), 0);
	assert_int_equal(state_writer_section(&w, "v0", 0, 0, NULL, 0), -EINVAL);
	free(m.buf);
	m = (struct mem){.fail_after = 60};
	assert_int_equal(state_writer_begin(&w, mem_write, &m), 0);
	assert_int_equal(state_writer_section(&w, "big", 1, 0, uart, sizeof(uart)), -ENOSPC);
	assert_int_equal(state_writer_end(&w), -ENOSPC);
	free(m.buf);
}

/* Refused, with a message holding @what. */
static void refused(const uint8_t *buf, size_t len, const char *what)
{
	struct state_reader *r = malloc(sizeof(*r));
	struct state_err err = {""};

	assert_int_equal(state_reader_parse(r, buf, len, &err), -EINVAL);
	if (!strstr(err.msg, what))
		fail_msg("expected '%s' in '%s'", what, err.msg);
	free(r);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Offsets in sample(): header 48; vcpu.0 at 48 (32 + 5 + 3 pad); uart at 88. */
#define SEC0 48
#define SEC1 (SEC0 + 40)

static void test_malformed_table(void **state)
{
	struct mem m = sample();
	static uint8_t b[4096];

	assert_true(m.len + 64 <= sizeof(b));
#define CASE(msg, body)                                                                            \
	do {                                                                                       \
		size_t len = m.len;                                                                \
		memcpy(b, m.buf, m.len);                                                           \
		body;                                                                              \
		refused(b, len, msg);                                                              \
	} while (0)
	CASE("no PETRELSS header", b[0] = 'X');
	CASE("no PETRELSS header", len = 3);
	CASE("not even a header", len = 20);
	CASE("format 2", put32(b + 8, 2));
	CASE("header flags", put32(b + 12, 1));
	CASE("no end section", len = SEC0 + 10);
	CASE("malformed section name", b[SEC0] = 'V');
	CASE("malformed section name", b[SEC0] = 0);
	CASE("malformed section name", b[SEC0 + 7] = 'x'); /* a byte after the NUL */
	CASE("malformed section name", memset(b + SEC0, 'a', 16));
	CASE("version 0", put32(b + SEC0 + 16, 0));
	CASE("more than petrel ever writes", put64(b + SEC0 + 24, 1ULL << 40));
	CASE("more than petrel ever writes", put64(b + SEC0 + 24, ~0ULL));
	CASE("truncated in section uart", put64(b + SEC1 + 24, 1 << 20));
	CASE("appears twice", memcpy(b + SEC1, "vcpu.0\0\0", 8));
	CASE("checksum mismatch", b[SEC0 + STATE_SEC_HEADER_LEN] ^= 1);
	CASE("checksum mismatch", b[20] ^= 0x40);			 /* the producer */
	CASE("checksum mismatch", put32(b + SEC0 + 20, 0));		 /* a section's flags */
	CASE("malformed end section", put32(b + m.len - 16 - 4 - 4, 2)); /* end's version */
	CASE("counts", put32(b + m.len - 4, 7));
	CASE("bytes after the end section", len = m.len + 8; memset(b + m.len, 0, 8));
	free(m.buf);
}

/* Every truncation and every single flipped bit is refused (never read past the buffer). */
static void test_every_truncation_and_bit(void **state)
{
	struct mem m = sample();
	struct state_reader *r = malloc(sizeof(*r));
	struct state_err err;
	size_t len, i;
	unsigned int bit;

	for (len = 0; len < m.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, m.buf, len);
		assert_int_equal(state_reader_parse(r, copy, len, &err), -EINVAL);
		free(copy);
	}
	for (i = 0; i < m.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			m.buf[i] ^= (uint8_t)(1u << bit);
			if (state_reader_parse(r, m.buf, m.len, &err) == 0)
				fail_msg("a flip of bit %u of byte %zu was accepted", bit, i);
			m.buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(state_reader_parse(r, m.buf, m.len, &err), 0);
	free(r);
	free(m.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_writer_refuses),
	    cmocka_unit_test(test_malformed_table),
	    cmocka_unit_test(test_every_truncation_and_bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
