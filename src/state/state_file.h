/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The container of a machine's saved state, shared by snapshot files and
 * migration streams: a header naming the format and its producer, then
 * named sections, each with its own version and length, then an end
 * section holding a CRC-32 of everything before it and the section count.
 *
 *   header   "PETRELSS", u32 format, u32 flags (0), char producer[32]
 *   section  char name[16], u32 version, u32 flags, u64 length, payload,
 *            zero padding to 8 bytes
 *   end      a section "end" (version 1) of u32 crc32, u32 sections before it
 *
 * Integers are little endian. A reader checks the whole container (sizes,
 * names, the CRC) before any section is used, and refuses by name what it
 * cannot read: a newer format, a section newer than it knows, a required
 * section it does not know; sections without STATE_SEC_REQUIRED that it
 * does not know are skipped, so a newer petrel can add optional state.
 */
#ifndef PETREL_STATE_STATE_FILE_H
#define PETREL_STATE_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC "PETRELSS"
#define STATE_FORMAT 1
#define STATE_HEADER_LEN 48
#define STATE_SEC_HEADER_LEN 32
#define STATE_NAME_MAX 15 /* characters of a section name: [a-z0-9_.-] */
#define STATE_MAX_SECTIONS 512
/* The largest section petrel reads: device and vCPU state, never guest RAM. */
#define STATE_MAX_SECTION_LEN (64u << 20)

/* A reader that does not know the section must refuse the whole state. */
#define STATE_SEC_REQUIRED 0x1

/* One line saying what is wrong, for the user. */
struct state_err {
	char msg[400];
};

/* Fill @err (printf style) and return @ret, a negative errno. */
int state_fail(struct state_err *err, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- writing ---- */

/* Bytes go to @write(@ctx, buf, len), which returns 0 or -errno. */
struct state_writer {
	int (*write)(void *ctx, const void *buf, size_t len);
	void *ctx;
	uint32_t crc;
	unsigned int nr_sections;
	uint64_t bytes; /* written so far */
	int error;	/* the first error; everything after it is a no-op */
};

/* Start a container with the header; -errno (also kept in w->error). */
int state_writer_begin(struct state_writer *w, int (*write)(void *ctx, const void *buf, size_t len),
		       void *ctx);
/* One section; @name as above, @version >= 1, @flags STATE_SEC_*. -EINVAL on a bad name. */
int state_writer_section(struct state_writer *w, const char *name, uint32_t version, uint32_t flags,
			 const void *data, uint64_t len);
/* The end section; the container is complete. */
int state_writer_end(struct state_writer *w);
/* A @write for a file descriptor (@ctx points to the int). */
int state_write_fd(void *ctx, const void *buf, size_t len);

/* ---- reading ---- */

struct state_section {
	char name[STATE_NAME_MAX + 1];
	uint32_t version;
	uint32_t flags;
	const uint8_t *data; /* into the reader's buffer */
	uint64_t len;
	bool taken; /* handed out by state_reader_take */
};

struct state_reader {
	char producer[33];
	unsigned int nr_sections;
	struct state_section sec[STATE_MAX_SECTIONS];
};

/*
 * Check and index the container in @buf (which must outlive the reader):
 * 0, or -EINVAL with @err saying what is wrong (truncated, not petrel's
 * state, a newer format, a malformed section, a checksum mismatch...).
 */
int state_reader_parse(struct state_reader *r, const void *buf, size_t len, struct state_err *err);
/*
 * The section @name, of a version up to @max_version, marked taken: NULL
 * with @err set when it is missing or newer than this petrel reads.
 */
const struct state_section *state_reader_take(struct state_reader *r, const char *name,
					      uint32_t max_version, struct state_err *err);
/* Is there a section @name? (not marked taken) */
bool state_reader_has(const struct state_reader *r, const char *name);
/* After every take: -EINVAL naming a required section nobody took (a newer petrel's state). */
int state_reader_finish(const struct state_reader *r, struct state_err *err);

#endif
