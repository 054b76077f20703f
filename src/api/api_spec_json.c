// SPDX-License-Identifier: GPL-2.0-only
/*
 * The specification a snapshot stores, as JSON, and read back. One object:
 *
 *   {"petrel_spec": 1,
 *    "cpus": 2, "mem_mib": 256, "mem_bytes": 0, "smt": false,
 *    "track_dirty_pages": false,
 *    "boot": "kernel" | "flat-real" | "flat-long",
 *    "kernel": PATH|null, "initramfs": PATH|null, "cmdline": STR|null,
 *    "firmware": PATH|null,
 *    "drives": [{"id": ID, "path": PATH, "readonly": false, "direct": false,
 *                "serial": STR|null, "root": false, "partuuid": STR|null}],
 *    "nets": [{"id": ID, "tap": NAME, "mac": "aa:bb:cc:dd:ee:ff"|null}],
 *    "rng": false, "vsock": {"id": ID, "cid": N, "uds": PATH}|null,
 *    "serial": "stdio" | "file" | "off", "serial_path": PATH|null,
 *    "serial_max": N|null (null: no cap), "console_hvc": false,
 *    "boot_timer": false, "reboot_exits": false, "stats": false,
 *    "test_device": false, "irqchip": false, "mem_shared": false,
 *    "balloon": {"size_mib": N, "deflate_on_oom": false,
 *                "free_page_reporting": false, "stats_interval_s": N} (only with one)}
 *
 * "petrel_spec", "cpus", "mem_mib" and "boot" are required; the others
 * default to false, null, 0 or empty; any other key is refused. Drives are
 * in the controller's order (the root drive goes first in the machine, as
 * at boot). The kernel and firmware are not read by a restore (the guest's
 * RAM comes from the memory file) but are kept for what the API reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_vmm.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"

#define SPEC_FORMAT 1

static const char *const boot_names[] = {
    [VM_BOOT_KERNEL] = "kernel",
    [VM_BOOT_FLAT_REAL] = "flat-real",
    [VM_BOOT_FLAT_LONG] = "flat-long",
};
static const char *const serial_names[] = {
    [API_SERIAL_STDIO] = "stdio",
    [API_SERIAL_FILE] = "file",
    [API_SERIAL_OFF] = "off",
};

/* ---- writing ---- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *drive_json(const struct api_drive *d)
{
	return json_pack("{s:s, s:o, s:b, s:b, s:o, s:b, s:o}", "id", d->id, "path",
			 str_or_null(d->path), "readonly", d->readonly, "direct", d->direct,
			 "serial", str_or_null(d->serial), "root", d->root, "partuuid",
			 str_or_null(d->partuuid));
}

static json_t *net_json(const struct api_net *n)
{
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1], n->mac[2],
		 n->mac[3], n->mac[4], n->mac[5]);
	return json_pack("{s:s, s:s, s:o}", "id", n->id, "tap", n->tap, "mac",
			 n->has_mac ? json_string(mac) : json_null());
}

static json_t *vsock_json(const struct api_vm_spec *s)
{
	if (!s->has_vsock)
		return json_null();
	return json_pack("{s:s, s:I, s:s}", "id", s->vsock.id, "cid", (json_int_t)s->vsock.cid,
			 "uds", s->vsock.uds);
}

char *api_spec_to_json(const struct api_vm_spec *s, size_t *len)
{
	json_t *drives = json_array(), *nets = json_array(), *o;
	bool ok = drives && nets && s->boot < sizeof(boot_names) / sizeof(boot_names[0]) &&
		  s->serial < sizeof(serial_names) / sizeof(serial_names[0]);
	char *text = NULL;

	for (unsigned int i = 0; ok && i < s->nr_drives; i++)
		ok = !json_array_append_new(drives, drive_json(&s->drives[i]));
	for (unsigned int i = 0; ok && i < s->nr_nets; i++)
		ok = !json_array_append_new(nets, net_json(&s->nets[i]));
	if (!ok) {
		json_decref(drives);
		json_decref(nets);
		return NULL;
	}
	o = json_pack(
	    "{s:i, s:I, s:I, s:I, s:b, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:s,"
	    " s:o, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
	    "petrel_spec", SPEC_FORMAT, "cpus", (json_int_t)s->cpus, "mem_mib",
	    (json_int_t)s->mem_mib, "mem_bytes", (json_int_t)s->mem_bytes, "smt", s->smt,
	    "track_dirty_pages", s->track_dirty_pages, "boot", boot_names[s->boot], "kernel",
	    str_or_null(s->kernel), "initramfs", str_or_null(s->initramfs), "cmdline",
	    str_or_null(s->cmdline), "firmware", str_or_null(s->firmware), "drives", drives, "nets",
	    nets, "rng", s->rng, "vsock", vsock_json(s), "serial", serial_names[s->serial],
	    "serial_path", str_or_null(s->serial_path), "serial_max",
	    s->serial_max > INT64_MAX ? json_null() : json_integer((json_int_t)s->serial_max),
	    "console_hvc", s->console_hvc, "boot_timer", s->boot_timer, "reboot_exits",
	    s->reboot_exits, "stats", s->stats, "test_device", s->test_device, "irqchip",
	    s->irqchip, "mem_shared", s->mem_shared);
	if (o && s->balloon.on &&
	    json_object_set_new(o, "balloon",
				json_pack("{s:I, s:b, s:b, s:I}", "size_mib",
					  (json_int_t)s->balloon.target_mib, "deflate_on_oom",
					  s->balloon.deflate_on_oom, "free_page_reporting",
					  s->balloon.free_page_reporting, "stats_interval_s",
					  (json_int_t)s->balloon.stats_interval_s))) {
		json_decref(o);
		o = NULL;
	}
	if (o)
		text = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text && len)
		*len = strlen(text);
	return text;
}

/* ---- reading: every field checked ---- */

/* "`drives[1].path`" for messages; @where "" at the top level. */
static const char *field_name(char *buf, size_t size, const char *where, const char *key)
{
	snprintf(buf, size, "%s%s%s", where, *where ? "." : "", key);
	return buf;
}

static int bad(struct api_err *err, const char *where, const char *key, const char *what)
{
	char name[96];

	return api_fail(err, -EINVAL, "`%s`: %s", field_name(name, sizeof(name), where, key), what);
}

/* No key outside @keys (NULL-terminated). */
static int only_keys(json_t *o, const char *where, const char *const *keys, struct api_err *err)
{
	const char *key;
	json_t *x;

	json_object_foreach(o, key, x)
	{
		const char *const *k;

		for (k = keys; *k && strcmp(*k, key); k++)
			;
		if (!*k) {
			char name[96];

			return api_fail(err, -EINVAL, "unknown field `%.48s`",
					field_name(name, sizeof(name), where, key));
		}
	}
	return 0;
}

/* A boolean; absent or null is false. */
static int get_bool(json_t *o, const char *where, const char *key, bool *out, struct api_err *err)
{
	json_t *x = json_object_get(o, key);

	*out = false;
	if (!x || json_is_null(x))
		return 0;
	if (!json_is_boolean(x))
		return bad(err, where, key, "expected true or false");
	*out = json_is_true(x);
	return 0;
}

/* An integer in [min, max]; absent or null is @def unless @required. */
static int get_uint(json_t *o, const char *where, const char *key, bool required, uint64_t min,
		    uint64_t max, uint64_t def, uint64_t *out, struct api_err *err)
{
	json_t *x = json_object_get(o, key);
	char what[96];

	*out = def;
	if (!x || json_is_null(x))
		return required ? bad(err, where, key, "missing") : 0;
	snprintf(what, sizeof(what), "expected an integer from %" PRIu64 " to %" PRIu64, min, max);
	if (!json_is_integer(x) || json_integer_value(x) < 0 ||
	    (uint64_t)json_integer_value(x) < min || (uint64_t)json_integer_value(x) > max)
		return bad(err, where, key, what);
	*out = (uint64_t)json_integer_value(x);
	return 0;
}

/* A string (not empty, shorter than @max): copied into *out; absent or null is NULL. */
static int get_str(json_t *o, const char *where, const char *key, bool required, size_t max,
		   char **out, struct api_err *err)
{
	json_t *x = json_object_get(o, key);
	char what[64];

	*out = NULL;
	if (!x || json_is_null(x))
		return required ? bad(err, where, key, "missing") : 0;
	if (!json_is_string(x))
		return bad(err, where, key, "expected a string");
	if (!json_string_length(x))
		return bad(err, where, key, "must not be empty");
	if (json_string_length(x) >= max) {
		snprintf(what, sizeof(what), "longer than %zu bytes", max - 1);
		return bad(err, where, key, what);
	}
	*out = strdup(json_string_value(x));
	return *out ? 0 : api_fail(err, -ENOMEM, "out of memory");
}

/* One of @names (@n of them): its index in *out. */
static int get_enum(json_t *o, const char *where, const char *key, bool required,
		    const char *const *names, size_t n, unsigned int def, unsigned int *out,
		    struct api_err *err)
{
	json_t *x = json_object_get(o, key);
	char what[96];
	size_t len = 0;

	*out = def;
	if (!x || json_is_null(x))
		return required ? bad(err, where, key, "missing") : 0;
	for (size_t i = 0; json_is_string(x) && i < n; i++)
		if (!strcmp(json_string_value(x), names[i])) {
			*out = (unsigned int)i;
			return 0;
		}
	len = (size_t)snprintf(what, sizeof(what), "expected");
	for (size_t i = 0; i < n && len < sizeof(what); i++)
		len += (size_t)snprintf(what + len, sizeof(what) - len, "%s \"%s\"",
					i == 0	     ? ""
					: i + 1 == n ? " or"
						     : ",",
					names[i]);
	return bad(err, where, key, what);
}

/* A list of at most @max objects (absent or null: empty). */
static int get_list(json_t *o, const char *key, size_t max, json_t **out, struct api_err *err)
{
	json_t *x = json_object_get(o, key);
	char what[64];

	*out = NULL;
	if (!x || json_is_null(x))
		return 0;
	if (!json_is_array(x))
		return bad(err, "", key, "expected a list");
	if (json_array_size(x) > max) {
		snprintf(what, sizeof(what), "at most %zu", max);
		return bad(err, "", key, what);
	}
	*out = x;
	return 0;
}

static const char *const drive_keys[] = {"id",	   "path", "readonly", "direct",
					 "serial", "root", "partuuid", NULL};

static int read_drive(json_t *o, unsigned int i, struct api_vm_spec *s, struct api_err *err)
{
	struct api_drive *d = &s->drives[i];
	char where[24], *id = NULL;
	int ret;

	snprintf(where, sizeof(where), "drives[%u]", i);
	if (!json_is_object(o))
		return bad(err, "", where, "expected an object");
	ret = only_keys(o, where, drive_keys, err);
	if (!ret)
		ret = get_str(o, where, "id", true, API_ID_MAX, &id, err);
	if (!ret)
		ret = api_check_id("drive", id, err);
	if (ret) {
		free(id);
		return ret;
	}
	snprintf(d->id, sizeof(d->id), "%s", id);
	free(id);
	for (unsigned int j = 0; j < i; j++)
		if (!strcmp(s->drives[j].id, d->id))
			return api_fail(err, -EINVAL, "drive %s: the id is used twice", d->id);
	ret = get_str(o, where, "path", true, PATH_MAX, &d->path, err);
	if (!ret)
		ret = get_str(o, where, "serial", false, VIRTIO_BLK_ID_BYTES + 1, &d->serial, err);
	if (!ret)
		ret = get_str(o, where, "partuuid", false, 128, &d->partuuid, err);
	if (!ret)
		ret = get_bool(o, where, "readonly", &d->readonly, err);
	if (!ret)
		ret = get_bool(o, where, "direct", &d->direct, err);
	if (!ret)
		ret = get_bool(o, where, "root", &d->root, err);
	for (unsigned int j = 0; !ret && d->root && j < i; j++)
		if (s->drives[j].root)
			ret = api_fail(err, -EINVAL,
				       "drive %s: a root drive already exists (drive %s)", d->id,
				       s->drives[j].id);
	return ret;
}

static const char *const net_keys[] = {"id", "tap", "mac", NULL};

static int read_net(json_t *o, unsigned int i, struct api_vm_spec *s, struct api_err *err)
{
	struct api_net *n = &s->nets[i];
	char where[24], *id = NULL, *tap = NULL, *mac = NULL;
	int idx, ret;

	snprintf(where, sizeof(where), "nets[%u]", i);
	if (!json_is_object(o))
		return bad(err, "", where, "expected an object");
	ret = only_keys(o, where, net_keys, err);
	if (!ret)
		ret = get_str(o, where, "id", true, API_ID_MAX, &id, err);
	if (!ret)
		ret = get_str(o, where, "tap", true, sizeof(n->tap), &tap, err);
	if (!ret)
		ret = get_str(o, where, "mac", false, 18, &mac, err);
	if (!ret) {
		memset(n, 0, sizeof(*n));
		snprintf(n->id, sizeof(n->id), "%s", id);
		snprintf(n->tap, sizeof(n->tap), "%s", tap);
		n->has_mac = mac != NULL;
		/* -EDOM: a multicast MAC, which api_check_net refuses by name */
		int r = mac ? virtio_net_parse_mac(mac, strlen(mac), n->mac) : 0;

		if (r < 0 && r != -EDOM)
			ret = bad(err, where, "mac", "expected aa:bb:cc:dd:ee:ff");
	}
	free(id);
	free(tap);
	free(mac);
	/* as PUT /network-interfaces checks it among those before it */
	if (!ret) {
		s->nr_nets = i;
		ret = api_check_net(s, n, &idx, err);
		if (!ret && idx >= 0)
			ret = api_fail(err, -EINVAL, "network interface %s: the id is used twice",
				       n->id);
	}
	return ret;
}

static const char *const spec_keys[] = {"petrel_spec", "cpus",	      "mem_mib",
					"mem_bytes",   "smt",	      "track_dirty_pages",
					"mem_shared",  "boot",	      "kernel",
					"initramfs",   "cmdline",     "firmware",
					"drives",      "nets",	      "rng",
					"serial",      "serial_path", "serial_max",
					"console_hvc", "boot_timer",  "reboot_exits",
					"stats",       "test_device", "irqchip",
					"vsock",       "balloon",     NULL};

static const char *const vsock_keys[] = {"id", "cid", "uds", NULL};

/* "vsock": null or {"id", "cid", "uds"}, checked as the control interface checks it. */
static int read_vsock(json_t *root, struct api_vm_spec *s, struct api_err *err)
{
	json_t *o = json_object_get(root, "vsock");
	char *id = NULL, *uds = NULL;
	uint64_t cid = 0;
	int ret;

	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return bad(err, "", "vsock", "expected an object or null");
	ret = only_keys(o, "vsock", vsock_keys, err);
	if (!ret)
		ret = get_str(o, "vsock", "id", false, API_ID_MAX, &id, err);
	if (!ret)
		ret = get_uint(o, "vsock", "cid", true, VSOCK_MIN_GUEST_CID, VSOCK_MAX_GUEST_CID, 0,
			       &cid, err);
	if (!ret)
		ret = get_str(o, "vsock", "uds", true, VSOCK_UDS_PATH_MAX + 1, &uds, err);
	if (!ret) {
		memset(&s->vsock, 0, sizeof(s->vsock));
		snprintf(s->vsock.id, sizeof(s->vsock.id), "%s", id ? id : "");
		s->vsock.cid = cid;
		snprintf(s->vsock.uds, sizeof(s->vsock.uds), "%s", uds);
		s->has_vsock = true;
	}
	free(id);
	free(uds);
	return ret;
}

static const char *const balloon_keys[] = {"size_mib", "deflate_on_oom", "free_page_reporting",
					   "stats_interval_s", NULL};

/* The balloon, checked as PUT /balloon checks it. */
static int read_balloon(json_t *o, struct api_vm_spec *s, struct api_err *err)
{
	struct virtio_balloon_opts *b = &s->balloon;
	json_t *x = json_object_get(o, "balloon");
	uint64_t mem = s->mem_bytes ? s->mem_bytes >> 20 : s->mem_mib, n = 0;
	int ret;

	if (!x || json_is_null(x))
		return 0;
	if (!json_is_object(x))
		return bad(err, "", "balloon", "expected an object");
	ret = only_keys(x, "balloon", balloon_keys, err);
	if (!ret)
		ret = get_uint(x, "balloon", "size_mib", true, 0, mem, 0, &b->target_mib, err);
	if (!ret)
		ret = get_bool(x, "balloon", "deflate_on_oom", &b->deflate_on_oom, err);
	if (!ret)
		ret = get_bool(x, "balloon", "free_page_reporting", &b->free_page_reporting, err);
	if (!ret)
		ret = get_uint(x, "balloon", "stats_interval_s", false, 0,
			       VIRTIO_BALLOON_MAX_STATS_S, 0, &n, err);
	b->stats_interval_s = (unsigned int)n;
	b->on = !ret;
	return ret;
}

static int read_machine(json_t *o, unsigned int max_vcpus, struct api_vm_spec *s,
			struct api_err *err)
{
	uint64_t n;
	int ret;

	ret = get_uint(o, "", "petrel_spec", true, 1, UINT32_MAX, 0, &n, err);
	if (!ret && n != SPEC_FORMAT)
		ret = api_fail(err, -EINVAL,
			       "`petrel_spec` %" PRIu64 ": this petrel reads format %d only", n,
			       SPEC_FORMAT);
	if (!ret)
		ret = get_uint(o, "", "cpus", true, 1, max_vcpus, 1, &n, err);
	s->cpus = (unsigned int)n;
	if (!ret)
		ret =
		    get_uint(o, "", "mem_mib", true, API_MIN_MEM_MIB, UINT64_MAX >> 21, 0, &n, err);
	s->mem_mib = n;
	if (!ret)
		ret = get_uint(o, "", "mem_bytes", false, 0, INT64_MAX, 0, &s->mem_bytes, err);
	if (!ret && s->mem_bytes &&
	    (s->mem_bytes < ((uint64_t)API_MIN_MEM_MIB << 20) || s->mem_bytes & 0xfff))
		ret = bad(err, "", "mem_bytes",
			  "expected 0, or at least 16 MiB in whole 4 KiB pages");
	if (!ret)
		ret = get_bool(o, "", "smt", &s->smt, err);
	if (!ret && s->smt && s->cpus > 1 && s->cpus % 2)
		ret = api_fail(err, -EINVAL,
			       "vcpu count must be 1 or an even number when SMT is enabled");
	if (!ret)
		ret = get_bool(o, "", "track_dirty_pages", &s->track_dirty_pages, err);
	if (!ret)
		ret = get_bool(o, "", "mem_shared", &s->mem_shared, err);
	return ret;
}

static int read_boot(json_t *o, struct api_vm_spec *s, struct api_err *err)
{
	unsigned int boot;
	int ret;

	ret = get_enum(o, "", "boot", true, boot_names, 3, VM_BOOT_KERNEL, &boot, err);
	s->boot = (enum vm_boot_mode)boot;
	if (!ret)
		ret = get_str(o, "", "kernel", false, PATH_MAX, &s->kernel, err);
	if (!ret)
		ret = get_str(o, "", "initramfs", false, PATH_MAX, &s->initramfs, err);
	if (!ret)
		ret = get_str(o, "", "cmdline", false, API_CMDLINE_MAX, &s->cmdline, err);
	if (!ret)
		ret = get_str(o, "", "firmware", false, PATH_MAX, &s->firmware, err);
	if (ret)
		return ret;
	if (s->boot == VM_BOOT_KERNEL && !s->kernel)
		return bad(err, "", "kernel", "missing (\"boot\" is \"kernel\")");
	if (s->boot != VM_BOOT_KERNEL && !s->firmware)
		return bad(err, "", "firmware", "missing (\"boot\" is a flat binary's)");
	if (s->boot != VM_BOOT_KERNEL && (s->kernel || s->initramfs || s->cmdline))
		return api_fail(err, -EINVAL,
				"a flat binary guest has no kernel, initramfs or "
				"cmdline");
	if (s->boot == VM_BOOT_KERNEL && s->firmware)
		return bad(err, "", "firmware", "only with a flat binary's \"boot\"");
	return 0;
}

static int read_devices(json_t *o, struct api_vm_spec *s, struct api_err *err)
{
	unsigned int serial = API_SERIAL_STDIO;
	json_t *list, *x;
	size_t i;
	int ret;

	ret = get_list(o, "drives", VM_MAX_DISKS, &list, err);
	json_array_foreach(list, i, x)
	{
		if (ret)
			break;
		s->nr_drives = (unsigned int)i + 1; /* freed with the spec, even half read */
		ret = read_drive(x, (unsigned int)i, s, err);
	}
	if (!ret)
		ret = get_list(o, "nets", VM_MAX_NETS, &list, err);
	json_array_foreach(list, i, x)
	{
		if (ret)
			break;
		ret = read_net(x, (unsigned int)i, s, err);
		s->nr_nets = (unsigned int)i + 1;
	}
	if (!ret)
		ret = get_bool(o, "", "rng", &s->rng, err);
	if (!ret)
		ret = read_vsock(o, s, err);
	if (!ret)
		ret = get_enum(o, "", "serial", false, serial_names, 3, API_SERIAL_STDIO, &serial,
			       err);
	s->serial = (enum api_serial)serial;
	if (!ret)
		ret = get_str(o, "", "serial_path", false, PATH_MAX, &s->serial_path, err);
	if (!ret && (s->serial == API_SERIAL_FILE) != (s->serial_path != NULL))
		ret = bad(err, "", "serial_path", "given exactly when \"serial\" is \"file\"");
	if (!ret) {
		json_t *m = json_object_get(o, "serial_max");

		ret = get_uint(o, "", "serial_max", false, 0, INT64_MAX, 0, &s->serial_max, err);
		if (!ret && m && json_is_null(m))
			s->serial_max = UINT64_MAX; /* no cap */
	}
	if (!ret)
		ret = get_bool(o, "", "console_hvc", &s->console_hvc, err);
	if (!ret && s->console_hvc && s->boot != VM_BOOT_KERNEL)
		ret = api_fail(err, -EINVAL, "a virtio console (`console_hvc`) needs a kernel");
	return ret;
}

static int read_flags(json_t *o, struct api_vm_spec *s, struct api_err *err)
{
	int ret = get_bool(o, "", "boot_timer", &s->boot_timer, err);

	if (!ret)
		ret = get_bool(o, "", "reboot_exits", &s->reboot_exits, err);
	if (!ret)
		ret = get_bool(o, "", "stats", &s->stats, err);
	if (!ret)
		ret = get_bool(o, "", "test_device", &s->test_device, err);
	if (!ret)
		ret = get_bool(o, "", "irqchip", &s->irqchip, err);
	return ret;
}

int api_spec_from_json(const void *json, size_t len, unsigned int max_vcpus,
		       struct api_vm_spec *out, struct api_err *err)
{
	struct api_vm_spec s;
	json_error_t jerr;
	json_t *o;
	int ret;

	memset(&s, 0, sizeof(s));
	if (!json || !len)
		return api_fail(err, -EINVAL, "the configuration is empty");
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return api_fail(err, -EINVAL, "not JSON: %s at line %d column %d", jerr.text,
				jerr.line, jerr.column);
	if (!json_is_object(o))
		ret = api_fail(err, -EINVAL, "expected an object");
	else
		ret = only_keys(o, "", spec_keys, err);
	if (!ret)
		ret = read_machine(o, max_vcpus ? max_vcpus : VM_MAX_VCPUS, &s, err);
	if (!ret)
		ret = read_boot(o, &s, err);
	if (!ret)
		ret = read_devices(o, &s, err);
	if (!ret)
		ret = read_flags(o, &s, err);
	if (!ret)
		ret = read_balloon(o, &s, err);
	json_decref(o);
	if (ret) {
		api_vm_spec_free(&s);
		return ret == -ENOMEM ? ret : -EINVAL; /* the file is wrong, whatever the check */
	}
	*out = s;
	return 0;
}

/* ---- a restore's specification ---- */

static int find_net(const struct api_vm_spec *s, const char *id)
{
	for (unsigned int i = 0; i < s->nr_nets; i++)
		if (!strcmp(s->nets[i].id, id))
			return (int)i;
	return -1;
}

static int find_drive(const struct api_vm_spec *s, const char *id)
{
	for (unsigned int i = 0; i < s->nr_drives; i++)
		if (!strcmp(s->drives[i].id, id))
			return (int)i;
	return -1;
}

static int apply_overrides(struct api_vm_spec *s, const struct api_restore_req *req,
			   struct api_err *err)
{
	int idx, ret;

	for (unsigned int i = 0; i < req->nr_nets; i++) {
		const struct api_net_override *o = &req->nets[i];

		idx = find_net(s, o->id);
		if (idx < 0)
			return api_fail(err, -ENOENT,
					"network interface %s: the snapshot has no such interface",
					o->id);
		memcpy(s->nets[idx].tap, o->tap, sizeof(s->nets[idx].tap));
	}
	/* every NIC against the others, once all moved (two may swap their TAPs) */
	for (unsigned int i = 0; i < s->nr_nets; i++) {
		ret = api_check_net(s, &s->nets[i], &idx, err);
		if (ret)
			return ret;
	}
	for (unsigned int i = 0; i < req->nr_drives; i++) {
		const struct api_drive_override *o = &req->drives[i];
		char *p;

		idx = find_drive(s, o->id);
		if (idx < 0)
			return api_fail(err, -ENOENT, "drive %s: the snapshot has no such drive",
					o->id);
		if (!o->path || !*o->path)
			return api_fail(err, -EINVAL, "drive %s: the path is empty", o->id);
		p = strdup(o->path);
		if (!p)
			return api_fail(err, -ENOMEM, "out of memory");
		free(s->drives[idx].path);
		s->drives[idx].path = p;
	}
	return 0;
}

int api_restore_spec(const void *json, size_t len, const struct api_restore_req *req,
		     struct api_vm_spec *out, struct api_err *err)
{
	struct api_vm_spec s;
	char msg[API_ERR_MAX];
	int ret;

	ret = api_spec_from_json(json, len, req->max_vcpus, &s, err);
	if (ret) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return api_fail(err, ret, "the snapshot's configuration: %s", msg);
	}
	ret = apply_overrides(&s, req, err);
	/* the drives' images, as PUT /drives checks them */
	for (unsigned int i = 0; !ret && i < s.nr_drives; i++) {
		const struct api_drive *d = &s.drives[i];

		if (access(d->path, d->readonly ? R_OK : R_OK | W_OK) < 0)
			ret = api_fail(err, -errno, "drive %s: backing file %s: %s", d->id, d->path,
				       strerror(errno));
	}
	if (ret) {
		api_vm_spec_free(&s);
		return ret;
	}
	s.track_dirty_pages = req->track_dirty_pages;
	s.sandbox = req->sandbox;
	s.dirty_log = req->dirty_log;
	s.dirty_ring_bytes = req->dirty_ring_bytes;
	*out = s;
	return 0;
}
