// SPDX-License-Identifier: GPL-2.0-only
/* The signal handlers' line formatting: numbers at their limits, cut lines, the newline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm/kvm_sigfmt.h"

/* The line as text, without its newline. */
static const char *text(struct kvm_sigline *l)
{
	static char out[KVM_SIGLINE_MAX + 1];

	memcpy(out, l->buf, l->len);
	out[l->len] = '\0';
	return out;
}

static void test_numbers(void **state)
{
	struct kvm_sigline l = {0};

	(void)state;
	kvm_sigline_dec(&l, 0);
	kvm_sigline_str(&l, " ");
	kvm_sigline_dec(&l, -1);
	kvm_sigline_str(&l, " ");
	kvm_sigline_dec(&l, INT64_MIN);
	kvm_sigline_str(&l, " ");
	kvm_sigline_dec(&l, INT64_MAX);
	kvm_sigline_str(&l, " ");
	kvm_sigline_udec(&l, UINT64_MAX);
	assert_string_equal(text(&l), "0 -1 -9223372036854775808 9223372036854775807 "
				      "18446744073709551615");

	memset(&l, 0, sizeof(l));
	kvm_sigline_hex(&l, 0);
	kvm_sigline_str(&l, " ");
	kvm_sigline_hex(&l, 0x7f00dead0000ULL);
	kvm_sigline_str(&l, " ");
	kvm_sigline_hex(&l, UINT64_MAX);
	kvm_sigline_str(&l, NULL);
	assert_string_equal(text(&l), "0x0 0x7f00dead0000 0xffffffffffffffff(null)");
}

/* A line longer than the buffer is cut, and its newline still fits. */
static void test_cut_line(void **state)
{
	struct kvm_sigline l = {0};
	char got[KVM_SIGLINE_MAX + 8];
	int p[2];
	ssize_t n;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		kvm_sigline_str(&l, "abcdef");
	kvm_sigline_udec(&l, 12345);
	assert_int_equal(l.len, KVM_SIGLINE_MAX - 1);
	assert_int_equal(pipe(p), 0);
	kvm_sigline_write(&l, p[1]);
	n = read(p[0], got, sizeof(got));
	assert_int_equal(n, KVM_SIGLINE_MAX);
	assert_int_equal(got[KVM_SIGLINE_MAX - 1], '\n');
	assert_memory_equal(got, "abcdefabcdef", 12);
	/* writing again sends the same line */
	kvm_sigline_write(&l, p[1]);
	assert_int_equal(read(p[0], got, sizeof(got)), KVM_SIGLINE_MAX);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_cut_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
