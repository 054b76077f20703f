// SPDX-License-Identifier: GPL-2.0-only
/* Parsing of a --disk specification: path=FILE[,readonly=on|off][,direct=on|off][,serial=ID]. */
#include "virtio/virtio_blk.h"
#include "virtio/device_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void virtio_blk_opts_free(struct virtio_blk_config_opts *o)
{
	free((char *)o->path);
	free((char *)o->serial);
	memset(o, 0, sizeof(*o));
}

struct blk_parse {
	struct virtio_blk_config_opts *o;
	bool seen_ro;
	bool seen_direct;
};

/* "on" or "off" into *flag, once; -EINVAL for anything else or a repeat. */
static int on_off(const char *v, size_t vlen, bool *seen, bool *flag)
{
	if (*seen)
		return -EINVAL;
	*seen = true;
	if (device_opts_is(v, vlen, "on"))
		*flag = true;
	else if (device_opts_is(v, vlen, "off"))
		*flag = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_item(void *ctx, const char *item, size_t klen, const char *v, size_t vlen)
{
	struct blk_parse *bp = ctx;
	struct virtio_blk_config_opts *o = bp->o;

	if (device_opts_is(item, klen, "path")) {
		if (o->path || !vlen)
			return -EINVAL;
		o->path = strndup(v, vlen);
		return o->path ? 0 : -ENOMEM;
	}
	if (device_opts_is(item, klen, "readonly"))
		return on_off(v, vlen, &bp->seen_ro, &o->readonly);
	if (device_opts_is(item, klen, "direct"))
		return on_off(v, vlen, &bp->seen_direct, &o->direct);
	if (device_opts_is(item, klen, "serial")) {
		if (o->serial || vlen > VIRTIO_BLK_ID_BYTES)
			return -EINVAL;
		o->serial = strndup(v, vlen);
		return o->serial ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

int virtio_blk_parse(const char *spec, struct virtio_blk_config_opts *o)
{
	struct blk_parse bp = {.o = o};
	int ret;

	memset(o, 0, sizeof(*o));
	ret = device_opts_each(spec, parse_item, &bp);
	if (!ret && !o->path)
		ret = -EINVAL;
	if (ret < 0)
		virtio_blk_opts_free(o);
	return ret;
}
