/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the API fuzz targets share: a controller on a fake backend, files the
 * controller's access() checks find, a reader of requests from the input, and
 * a sandbox that keeps an input from writing files or moving stderr.
 */
#ifndef PETREL_FUZZ_API_H
#define PETREL_FUZZ_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api_http.h"

/* The fake machine: counts nothing, boots unless told to fail. */
struct fuzz_fake {
	bool boot_fails;
};

extern const struct api_backend fuzz_fake_backend;

/*
 * While true, open() of any path opens /dev/null instead (the logger, the
 * metrics) and dup2() onto 0, 1 or 2 does nothing (the logger's stderr).
 */
extern bool fuzz_api_sandboxed;

/* Make the files once (idempotent); their paths replace @K@ @I@ @D0@ @D1@ @RO@ in bodies. */
void fuzz_api_files_init(void);
/* @body (@len bytes) with the tokens replaced: malloc'ed, NUL-terminated, length in *out_len. */
char *fuzz_api_expand(const uint8_t *body, size_t len, size_t *out_len);

/* Bytes of the input still to read. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fuzz_in_byte(struct fuzz_in *in);

/*
 * One request from the input: a method byte, a path byte (below @nr_paths:
 * @paths[byte]; else a length byte and that many raw path bytes), a 16-bit
 * little-endian body length (cut to what is left) and the body. The strings
 * are malloc'ed into *rq (free with fuzz_api_request_free). False when the
 * input is used up.
 */
bool fuzz_api_next_request(struct fuzz_in *in, const char *const *paths, size_t nr_paths,
			   struct api_request *rq);
void fuzz_api_request_free(struct api_request *rq);

/* Run one request through @fe; abort if the answer is not well-formed JSON. */
void fuzz_api_run(const struct api_frontend *fe, struct api_vmm *v, const struct api_request *rq);

#endif
