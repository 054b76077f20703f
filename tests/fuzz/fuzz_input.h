/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a fuzz input as a stream of small fields: past its end every field
 * reads 0 and fuzz_in_more() says false, so a harness needs no length checks.
 */
#ifndef PETREL_TESTS_FUZZ_FUZZ_INPUT_H
#define PETREL_TESTS_FUZZ_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline bool fuzz_in_more(const struct fuzz_in *in)
{
	return in->left > 0;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | (uint32_t)fuzz_u16(in) << 16;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t lo = fuzz_u32(in);

	return lo | (uint64_t)fuzz_u32(in) << 32;
}

/* Up to n bytes of the input, in place; *len says how many there were. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *len)
{
	const uint8_t *p = in->p;

	if (n > in->left)
		n = in->left;
	in->p += n;
	in->left -= n;
	*len = n;
	return p;
}

/* An access size of 1, 2, 4 or 8 bytes (max: 4 or 8) from two bits. */
static inline unsigned int fuzz_size(uint8_t bits, unsigned int max)
{
	unsigned int s = 1u << (bits & 3);

	return s > max ? max : s;
}

/*
 * The harness's own checks: not instrumented for coverage, so their loops and
 * comparisons neither slow every step down nor count as features.
 */
#define FUZZ_NOCOV __attribute__((no_sanitize("coverage")))

/* An invariant of the code under test does not hold: report and crash. */
#define fuzz_check(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__,     \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
