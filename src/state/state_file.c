// SPDX-License-Identifier: GPL-2.0-only
#include "state/state_file.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define END_NAME "end"
#define END_LEN 8

static int fail(struct state_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool name_ok(const char *name, size_t len)
{
	size_t i;

	if (!len || len > STATE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

static uint64_t pad8(uint64_t len)
{
	return (8 - (len & 7)) & 7;
}

/* ---- writing ---- */

static int put(struct state_writer *w, const void *buf, size_t len, bool summed)
{
	if (w->error)
		return w->error;
	if (summed)
		w->crc = (uint32_t)crc32_z(w->crc, buf, len);
	w->error = w->write(w->ctx, buf, len);
	if (!w->error)
		w->bytes += len;
	return w->error;
}

int state_fail(struct state_err *err, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return ret;
}

int state_write_fd(void *ctx, const void *buf, size_t len)
{
	int fd = *(int *)ctx;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_writer_begin(struct state_writer *w, int (*write)(void *ctx, const void *buf, size_t len),
		       void *ctx)
{
	uint8_t h[STATE_HEADER_LEN] = {0};
	uint32_t format = htole32(STATE_FORMAT);

	memset(w, 0, sizeof(*w));
	w->write = write;
	w->ctx = ctx;
	w->crc = (uint32_t)crc32_z(0, NULL, 0);
	memcpy(h, STATE_MAGIC, 8);
	memcpy(h + 8, &format, 4);
	snprintf((char *)h + 16, 32, "petrel %s", PETREL_VERSION);
	return put(w, h, sizeof(h), true);
}

static int section(struct state_writer *w, const char *name, uint32_t version, uint32_t flags,
		   const void *data, uint64_t len, bool summed)
{
	static const uint8_t zeroes[8];
	uint8_t h[STATE_SEC_HEADER_LEN] = {0};
	uint64_t len_le = htole64(len);

	if (w->error)
		return w->error;
	if (!name_ok(name, strlen(name)) || !version || len > STATE_MAX_SECTION_LEN ||
	    w->nr_sections + 1 >= STATE_MAX_SECTIONS)
		return w->error = -EINVAL;
	memcpy(h, name, strlen(name));
	version = htole32(version);
	flags = htole32(flags);
	memcpy(h + 16, &version, 4);
	memcpy(h + 20, &flags, 4);
	memcpy(h + 24, &len_le, 8);
	put(w, h, sizeof(h), summed);
	if (len)
		put(w, data, (size_t)len, summed);
	put(w, zeroes, (size_t)pad8(len), summed);
	if (!w->error)
		w->nr_sections++;
	return w->error;
}

int state_writer_section(struct state_writer *w, const char *name, uint32_t version, uint32_t flags,
			 const void *data, uint64_t len)
{
	if (!strcmp(name, END_NAME))
		return w->error = -EINVAL;
	return section(w, name, version, flags, data, len, true);
}

int state_writer_end(struct state_writer *w)
{
	uint32_t end[2] = {htole32(w->crc), htole32(w->nr_sections)};

	return section(w, END_NAME, 1, 0, end, sizeof(end), false);
}

/* ---- reading ---- */

int state_reader_parse(struct state_reader *r, const void *buf, size_t len, struct state_err *err)
{
	const uint8_t *p = buf;
	uint32_t format, flags, crc;
	size_t off = STATE_HEADER_LEN;
	unsigned int i;

	memset(r, 0, sizeof(*r));
	if (len < 8 || memcmp(p, STATE_MAGIC, 8))
		return fail(err, "not a petrel saved state (no %s header)", STATE_MAGIC);
	if (len < STATE_HEADER_LEN)
		return fail(err, "truncated: %zu bytes, not even a header", len);
	memcpy(&format, p + 8, 4);
	memcpy(&flags, p + 12, 4);
	format = le32toh(format);
	flags = le32toh(flags);
	memcpy(r->producer, p + 16, 32);
	r->producer[32] = 0;
	for (i = 0; r->producer[i]; i++)
		if (r->producer[i] < 0x20 || r->producer[i] > 0x7e)
			r->producer[i] = '?';
	if (format != STATE_FORMAT)
		return fail(err, "format %u (made by %s); this petrel reads format %u", format,
			    r->producer, STATE_FORMAT);
	if (flags)
		return fail(err, "header flags 0x%x unknown to this petrel", flags);
	crc = (uint32_t)crc32_z(crc32_z(0, NULL, 0), p, STATE_HEADER_LEN);
	for (;;) {
		struct state_section *s;
		uint64_t slen, total;
		uint32_t v, f;
		size_t nlen;

		if (len - off < STATE_SEC_HEADER_LEN)
			return fail(err, "truncated at byte %zu: no end section", off);
		nlen = strnlen((const char *)p + off, 16);
		memcpy(&v, p + off + 16, 4);
		memcpy(&f, p + off + 20, 4);
		memcpy(&slen, p + off + 24, 8);
		v = le32toh(v);
		f = le32toh(f);
		slen = le64toh(slen);
		if (!name_ok((const char *)p + off, nlen) || nlen == 16)
			return fail(err, "malformed section name at byte %zu", off);
		for (i = nlen; i < 16; i++)
			if (p[off + i])
				return fail(err, "malformed section name at byte %zu", off);
		if (!v)
			return fail(err, "section %.*s has version 0", (int)nlen, p + off);
		if (slen > STATE_MAX_SECTION_LEN)
			return fail(err, "section %.*s: %llu bytes, more than petrel ever writes",
				    (int)nlen, p + off, (unsigned long long)slen);
		total = STATE_SEC_HEADER_LEN + slen + pad8(slen);
		if (total > len - off)
			return fail(err, "truncated in section %.*s", (int)nlen, p + off);
		if (nlen == strlen(END_NAME) && !memcmp(p + off, END_NAME, nlen)) {
			uint32_t end[2];

			if (v != 1 || f || slen != END_LEN)
				return fail(err, "malformed end section");
			memcpy(end, p + off + STATE_SEC_HEADER_LEN, sizeof(end));
			if (le32toh(end[0]) != crc)
				return fail(err, "checksum mismatch: the state is corrupted");
			if (le32toh(end[1]) != r->nr_sections)
				return fail(err, "the end section counts %u sections, not %u",
					    le32toh(end[1]), r->nr_sections);
			if (off + total != len)
				return fail(err, "%zu bytes after the end section",
					    (size_t)(len - off - total));
			return 0;
		}
		for (i = 0; i < r->nr_sections; i++)
			if (!strncmp(r->sec[i].name, (const char *)p + off, 16))
				return fail(err, "section %s appears twice", r->sec[i].name);
		if (r->nr_sections == STATE_MAX_SECTIONS)
			return fail(err, "more than %u sections", STATE_MAX_SECTIONS);
		s = &r->sec[r->nr_sections++];
		memcpy(s->name, p + off, nlen);
		s->name[nlen] = 0;
		s->version = v;
		s->flags = f;
		s->data = p + off + STATE_SEC_HEADER_LEN;
		s->len = slen;
		crc = (uint32_t)crc32_z(crc, p + off, (size_t)total);
		off += (size_t)total;
	}
}

static struct state_section *find(const struct state_reader *r, const char *name)
{
	unsigned int i;

	for (i = 0; i < r->nr_sections; i++)
		if (!strcmp(r->sec[i].name, name))
			return (struct state_section *)&r->sec[i];
	return NULL;
}

bool state_reader_has(const struct state_reader *r, const char *name)
{
	return find(r, name) != NULL;
}

const struct state_section *state_reader_take(struct state_reader *r, const char *name,
					      uint32_t max_version, struct state_err *err)
{
	struct state_section *s = find(r, name);

	if (!s) {
		fail(err, "section %s is missing", name);
		return NULL;
	}
	if (s->version > max_version) {
		fail(err, "section %s is version %u (made by %s); this petrel reads up to %u", name,
		     s->version, r->producer, max_version);
		return NULL;
	}
	s->taken = true;
	return s;
}

int state_reader_finish(const struct state_reader *r, struct state_err *err)
{
	unsigned int i;

	for (i = 0; i < r->nr_sections; i++)
		if (!r->sec[i].taken && (r->sec[i].flags & STATE_SEC_REQUIRED))
			return fail(err, "section %s (made by %s) is unknown to this petrel",
				    r->sec[i].name, r->producer);
	return 0;
}
