// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command line's value parsers: --disk, --net (and a MAC alone),
 * --memory/--serial-max sizes, counts and --serial. The first byte picks the
 * parser, the rest is the value (cut at its first NUL, as argv would be);
 * what a parser accepts must obey what its header promises.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "vm/config_parse.h"
#include "vm/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_mac(const uint8_t mac[VIRTIO_NET_MAC_LEN])
{
	static const uint8_t zero[VIRTIO_NET_MAC_LEN];

	if ((mac[0] & 1) || !memcmp(mac, zero, sizeof(zero)))
		abort();
}

static void fuzz_disk(const char *s)
{
	struct virtio_blk_config_opts o;

	if (virtio_blk_parse(s, &o)) {
		if (o.path || o.serial)
			abort();
		return;
	}
	if (!o.path || !*o.path || (o.serial && strlen(o.serial) > VIRTIO_BLK_ID_BYTES))
		abort();
	virtio_blk_opts_free(&o);
}

static void fuzz_net(const char *s)
{
	struct virtio_net_config_opts o;
	size_t n;

	if (virtio_net_parse(s, &o))
		return;
	n = strnlen(o.tap, sizeof(o.tap));
	if (!n || n >= sizeof(o.tap) || strpbrk(o.tap, "/:% \t\n") || !strcmp(o.tap, ".") ||
	    !strcmp(o.tap, ".."))
		abort();
	check_mac(o.mac);
}

static void fuzz_mac(const uint8_t *p, size_t n)
{
	uint8_t mac[VIRTIO_NET_MAC_LEN];
	/* an exact copy, so that a read past the value is caught */
	char *v = malloc(n ? n : 1);

	if (!v)
		abort();
	memcpy(v, p, n);
	if (!virtio_net_parse_mac(v, n, mac))
		check_mac(mac);
	free(v);
}

/* Two bytes of range, then the count. */
static void fuzz_uint(const uint8_t *p, size_t n)
{
	unsigned int min, max, v;
	char *s;

	if (n < 2)
		return;
	min = p[0];
	max = p[0] + p[1] * 257u;
	s = strndup((const char *)p + 2, n - 2);
	if (!s)
		abort();
	if (!vm_parse_uint(s, min, max, &v) && (v < min || v > max))
		abort();
	free(s);
}

static void fuzz_serial(const char *s)
{
	struct vm_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		abort();
	if (!vm_parse_serial(s, cfg) && cfg->serial == VM_SERIAL_FILE &&
	    (!cfg->serial_path || !*cfg->serial_path))
		abort();
	free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t bytes;
	char *s;

	if (!size)
		return 0;
	s = strndup((const char *)data + 1, size - 1);
	if (!s)
		abort();
	switch (data[0] % 6) {
	case 0:
		fuzz_disk(s);
		break;
	case 1:
		fuzz_net(s);
		break;
	case 2:
		fuzz_mac(data + 1, size - 1);
		break;
	case 3:
		vm_parse_size(s, &bytes);
		break;
	case 4:
		fuzz_uint(data + 1, size - 1);
		break;
	case 5:
		fuzz_serial(s);
		break;
	}
	free(s);
	return 0;
}
