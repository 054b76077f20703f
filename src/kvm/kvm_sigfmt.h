/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One line of text built in a signal handler: no stdio, no locale, no
 * allocation, nothing but stores into a buffer on the caller's stack, and
 * write(2) to send it. The SIGBUS handler (kvm_sigbus.c) and the SIGSYS
 * handler (vm/sandbox.c) say why petrel stops with it.
 *
 * A line longer than the buffer is cut; the newline that ends it always fits.
 */
#ifndef PETREL_KVM_KVM_SIGFMT_H
#define PETREL_KVM_KVM_SIGFMT_H

#include <stddef.h>
#include <stdint.h>

#define KVM_SIGLINE_MAX 256

struct kvm_sigline {
	size_t len;
	char buf[KVM_SIGLINE_MAX];
};

/* Append a string (NULL appends "(null)"), a decimal or a 0x-prefixed lower-case hex number. */
void kvm_sigline_str(struct kvm_sigline *l, const char *s);
void kvm_sigline_dec(struct kvm_sigline *l, int64_t v);
void kvm_sigline_udec(struct kvm_sigline *l, uint64_t v);
void kvm_sigline_hex(struct kvm_sigline *l, uint64_t v);

/* End the line with '\n' and write it to @fd (errors ignored: nowhere else to say it). */
void kvm_sigline_write(struct kvm_sigline *l, int fd);

#endif
