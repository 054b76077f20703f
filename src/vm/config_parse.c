// SPDX-License-Identifier: GPL-2.0-only
#include "vm/config_parse.h"

#include "kvm/kvm_dirty_gfn.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vm_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (~0ULL >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int vm_parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || v < min || v > max)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

int vm_parse_serial(const char *s, struct vm_config *cfg)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "stdio")) {
		cfg->serial = VM_SERIAL_STDIO;
	} else if (!strcmp(s, "off")) {
		cfg->serial = VM_SERIAL_OFF;
	} else if (!strncmp(s, "file=", 5) && s[5]) {
		cfg->serial = VM_SERIAL_FILE;
		cfg->serial_path = s + 5;
	} else {
		return -EINVAL;
	}
	return 0;
}

int vm_parse_dirty_log(const char *s, enum kvm_dirty_mode *out)
{
	if (s && !strcmp(s, "bitmap"))
		*out = KVM_DIRTY_LOG_BITMAP;
	else if (s && !strcmp(s, "ring"))
		*out = KVM_DIRTY_LOG_RING;
	else
		return -EINVAL;
	return 0;
}

int vm_parse_dirty_ring_size(const char *s, uint32_t *out)
{
	uint64_t v;
	int ret = vm_parse_size(s, &v);

	if (ret < 0)
		return ret;
	ret = kvm_dirty_ring_check_size(v, 1ULL << 30);
	if (ret < 0)
		return ret;
	*out = (uint32_t)v;
	return 0;
}
