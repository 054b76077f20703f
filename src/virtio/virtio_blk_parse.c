// SPDX-License-Identifier: GPL-2.0-only
/* Parsing of a --disk specification: path=FILE[,readonly=on|off][,serial=ID]. */
#include "virtio/virtio_blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void virtio_blk_opts_free(struct virtio_blk_config_opts *o)
{
	free((char *)o->path);
	free((char *)o->serial);
	memset(o, 0, sizeof(*o));
}

/* Is [s, s+len) exactly the string @word? */
static bool is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && !memcmp(s, word, len);
}

/* One "key=value" item of length @len (not NUL-terminated). */
static int parse_item(const char *item, size_t len, struct virtio_blk_config_opts *o, bool *seen_ro)
{
	const char *eq = memchr(item, '=', len);
	const char *v;
	size_t klen, vlen;

	if (!eq)
		return -EINVAL;
	klen = (size_t)(eq - item);
	v = eq + 1;
	vlen = len - klen - 1;

	if (is(item, klen, "path")) {
		if (o->path || !vlen)
			return -EINVAL;
		o->path = strndup(v, vlen);
		return o->path ? 0 : -ENOMEM;
	}
	if (is(item, klen, "readonly")) {
		if (*seen_ro)
			return -EINVAL;
		*seen_ro = true;
		if (is(v, vlen, "on"))
			o->readonly = true;
		else if (is(v, vlen, "off"))
			o->readonly = false;
		else
			return -EINVAL;
		return 0;
	}
	if (is(item, klen, "serial")) {
		if (o->serial || vlen > VIRTIO_BLK_ID_BYTES)
			return -EINVAL;
		o->serial = strndup(v, vlen);
		return o->serial ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

int virtio_blk_parse(const char *spec, struct virtio_blk_config_opts *o)
{
	bool seen_ro = false;
	const char *s = spec;
	int ret;

	memset(o, 0, sizeof(*o));
	if (!spec)
		return -EINVAL;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		ret = parse_item(s, len, o, &seen_ro);
		if (ret < 0 || !comma)
			break;
		s = comma + 1;
	}
	if (!ret && !o->path)
		ret = -EINVAL;
	if (ret < 0)
		virtio_blk_opts_free(o);
	return ret;
}
