// SPDX-License-Identifier: GPL-2.0-only
/* Async-signal-safe line formatting: see kvm_sigfmt.h. */
#include "kvm/kvm_sigfmt.h"

#include <unistd.h>

/* Room kept for the newline kvm_sigline_write adds. */
#define SIGLINE_TEXT (KVM_SIGLINE_MAX - 1)

static void put_char(struct kvm_sigline *l, char c)
{
	if (l->len < SIGLINE_TEXT)
		l->buf[l->len++] = c;
}

void kvm_sigline_str(struct kvm_sigline *l, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		put_char(l, *s++);
}

/* @v in @base (10 or 16), most significant digit first. */
static void put_digits(struct kvm_sigline *l, uint64_t v, unsigned int base)
{
	char digits[20]; /* 2^64 has 20 decimal digits */
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		put_char(l, digits[--n]);
}

void kvm_sigline_udec(struct kvm_sigline *l, uint64_t v)
{
	put_digits(l, v, 10);
}

void kvm_sigline_dec(struct kvm_sigline *l, int64_t v)
{
	if (v < 0)
		put_char(l, '-');
	put_digits(l, v < 0 ? -(uint64_t)v : (uint64_t)v, 10);
}

void kvm_sigline_hex(struct kvm_sigline *l, uint64_t v)
{
	kvm_sigline_str(l, "0x");
	put_digits(l, v, 16);
}

void kvm_sigline_write(struct kvm_sigline *l, int fd)
{
	l->buf[l->len++] = '\n';
	if (write(fd, l->buf, l->len) < 0) {
		/* nowhere else to say it */
	}
	l->len--;
}
