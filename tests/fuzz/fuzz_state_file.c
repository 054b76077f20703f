// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the saved-state container reader (snapshot files and
 * migration streams). Any input is parsed, as it is and with the checksum
 * of its last 40 bytes' end section made right (so mutations get past the
 * CRC to the section checks); a refusal must say why; one that parses has
 * every section inside the input, and written again section by section it
 * parses to the same sections.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "state/state_file.h"

struct mem {
	uint8_t *buf;
	size_t len;
};

static int mem_write(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;
	uint8_t *p = realloc(m->buf, m->len + len);

	if (!p)
		return -ENOMEM;
	memcpy(p + m->len, buf, len);
	m->buf = p;
	m->len += len;
	return 0;
}

static struct state_reader r1, r2;

static void check(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t end = STATE_SEC_HEADER_LEN + 8;
	uint8_t *copy;
	uint32_t crc;

	check(data, size);
	if (size < STATE_HEADER_LEN + end)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	crc = (uint32_t)crc32_z(crc32_z(0, NULL, 0), copy, size - end);
	memcpy(copy + size - 8, &crc, 4);
	check(copy, size);
	free(copy);
	return 0;
}

static void check(const uint8_t *data, size_t size)
{
	struct state_err err = {""};
	struct state_writer w;
	struct mem m = {0};
	unsigned int i;

	if (state_reader_parse(&r1, data, size, &err) < 0) {
		if (!err.msg[0] || !memchr(err.msg, 0, sizeof(err.msg)))
			abort(); /* a refusal always says why */
		return;
	}
	for (i = 0; i < r1.nr_sections; i++) {
		const struct state_section *s =
		    state_reader_take(&r1, r1.sec[i].name, UINT32_MAX, &err);

		if (!s || s->data < data || s->len > size || s->data + s->len > data + size)
			abort();
	}
	if (state_reader_finish(&r1, &err) < 0)
		abort();
	state_writer_begin(&w, mem_write, &m);
	for (i = 0; i < r1.nr_sections; i++)
		state_writer_section(&w, r1.sec[i].name, r1.sec[i].version, r1.sec[i].flags,
				     r1.sec[i].data, r1.sec[i].len);
	if (state_writer_end(&w) < 0 || state_reader_parse(&r2, m.buf, m.len, &err) < 0 ||
	    r2.nr_sections != r1.nr_sections)
		abort();
	for (i = 0; i < r1.nr_sections; i++)
		if (strcmp(r1.sec[i].name, r2.sec[i].name) ||
		    r1.sec[i].version != r2.sec[i].version || r1.sec[i].flags != r2.sec[i].flags ||
		    r1.sec[i].len != r2.sec[i].len ||
		    (r1.sec[i].len && memcmp(r1.sec[i].data, r2.sec[i].data, r1.sec[i].len)))
			abort();
	free(m.buf);
}
