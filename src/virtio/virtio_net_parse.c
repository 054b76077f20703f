// SPDX-License-Identifier: GPL-2.0-only
/* Parsing of a --net specification: tap=NAME[,mac=aa:bb:cc:dd:ee:ff]. */
#include "virtio/virtio_net.h"
#include "virtio/device_opts.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

/* Is [s, s+len) exactly the string @word? */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Six pairs of hex digits separated by ':', unicast and not all zero. */
int virtio_net_parse_mac(const char *v, size_t len, uint8_t mac[VIRTIO_NET_MAC_LEN])
{
	unsigned int i, any = 0;

	if (len != 3 * VIRTIO_NET_MAC_LEN - 1)
		return -EINVAL;
	for (i = 0; i < VIRTIO_NET_MAC_LEN; i++) {
		const char *p = v + 3 * i;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

		if (hi < 0 || lo < 0 || (i < VIRTIO_NET_MAC_LEN - 1 && p[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		any |= mac[i];
	}
	if (!any || (mac[0] & 1))
		return -EDOM;
	return 0;
}

/* What the kernel accepts as an interface name, less the '%d' templates. */
static bool valid_ifname(const char *v, size_t len)
{
	size_t i;

	if (!len || len >= IFNAMSIZ || device_opts_is(v, len, ".") || device_opts_is(v, len, ".."))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '/' || c == ':' || c == '%' || isspace(c) || !isprint(c))
			return false;
	}
	return true;
}

void virtio_net_default_mac(const char *tap, uint8_t mac[VIRTIO_NET_MAC_LEN])
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *)tap; *p; p++)
		h = (h ^ *p) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

struct net_parse {
	struct virtio_net_config_opts *o;
	bool seen_mac;
};

static int parse_item(void *ctx, const char *item, size_t klen, const char *v, size_t vlen)
{
	struct net_parse *np = ctx;
	struct virtio_net_config_opts *o = np->o;
	bool *seen_mac = &np->seen_mac;

	if (device_opts_is(item, klen, "tap")) {
		if (o->tap[0] || !valid_ifname(v, vlen))
			return -EINVAL;
		memcpy(o->tap, v, vlen);
		o->tap[vlen] = '\0';
		return 0;
	}
	if (device_opts_is(item, klen, "mac")) {
		if (*seen_mac)
			return -EINVAL;
		*seen_mac = true;
		return virtio_net_parse_mac(v, vlen, o->mac) ? -EINVAL : 0;
	}
	return -EINVAL;
}

int virtio_net_parse(const char *spec, struct virtio_net_config_opts *o)
{
	struct net_parse np = {.o = o};
	int ret;

	memset(o, 0, sizeof(*o));
	ret = device_opts_each(spec, parse_item, &np);
	if (!ret && !o->tap[0])
		ret = -EINVAL;
	if (ret < 0) {
		memset(o, 0, sizeof(*o));
		return ret;
	}
	if (!np.seen_mac)
		virtio_net_default_mac(o->tap, o->mac);
	return 0;
}
