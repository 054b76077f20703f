// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Firecracker front-end. Each object Firecracker defines (machine-config,
 * boot-source, a drive, a network interface...) has one table of its fields
 * and one apply function that checks a JSON object against the table and
 * calls the controller; the routes and the config file share them. Errors
 * answer 400 with {"fault_message": ...}, as Firecracker does; a body that
 * does not parse gets Firecracker's "An error occurred when deserializing the
 * json body of a request" prefix.
 *
 * Rate limiters are checked for their shape and otherwise ignored: petrel
 * has no I/O rate limiting.
 */
#include "api/fc_api.h"

#include "virtio/virtio_net.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A body that does not have the shape Firecracker's types accept. */
#define FC_EPARSE (-EBADMSG)

/* ---- field tables and their checks ---- */

enum fc_type {
	FC_STR,
	FC_PATH, /* a string that must not be empty (paths, ids) */
	FC_BOOL,
	FC_UINT, /* an integer in [min, max] (max 0: no bound but json_int_t's) */
	FC_OBJ,	 /* an object, checked by .check */
	FC_ARR,	 /* a list of objects, each checked by .check */
};

struct fc_field {
	const char *name;
	enum fc_type type;
	bool required;
	json_int_t min, max;
	const char *const *values; /* FC_STR: the values allowed, NULL-terminated */
	int (*check)(json_t *o, struct api_err *err);
};

static const char *fc_json_type(const json_t *x)
{
	switch (json_typeof(x)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_NULL:
		return "null";
	default:
		return "a boolean";
	}
}

static int fc_bad_type(const struct fc_field *f, const json_t *x, const char *want,
		       struct api_err *err)
{
	return api_fail(err, FC_EPARSE, "invalid type for `%s`: %s, expected %s", f->name,
			fc_json_type(x), want);
}

static int fc_check_enum(const struct fc_field *f, const char *s, struct api_err *err)
{
	char list[128] = "";
	size_t n = 0;

	for (const char *const *v = f->values; *v; v++) {
		if (!strcmp(s, *v))
			return 0;
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s`%s`", n ? ", " : "", *v);
		if (n >= sizeof(list))
			break;
	}
	return api_fail(err, FC_EPARSE, "unknown variant `%s` for `%s`, expected %s", s, f->name,
			list);
}

static int fc_check_uint(const struct fc_field *f, const json_t *x, struct api_err *err)
{
	json_int_t n, max = f->max ? f->max : (json_int_t)INT64_MAX;

	if (!json_is_integer(x))
		return fc_bad_type(f, x, "an unsigned integer", err);
	n = json_integer_value(x);
	if (n < f->min || n > max)
		return api_fail(err, FC_EPARSE,
				"`%s` %" JSON_INTEGER_FORMAT
				" is out of range: expected %" JSON_INTEGER_FORMAT
				" to %" JSON_INTEGER_FORMAT,
				f->name, n, f->min, max);
	return 0;
}

/* Put "@what: " before the message in *err. */
static int fc_prefix(struct api_err *err, int ret, const char *what)
{
	char msg[API_ERR_MAX];

	snprintf(msg, sizeof(msg), "%s", err->msg);
	return api_fail(err, ret, "%s: %s", what, msg);
}

static int fc_check_value(const struct fc_field *f, json_t *x, struct api_err *err)
{
	int ret;

	switch (f->type) {
	case FC_STR:
	case FC_PATH:
		if (!json_is_string(x))
			return fc_bad_type(f, x, "a string", err);
		if (f->type == FC_PATH && !json_string_length(x))
			return api_fail(err, FC_EPARSE, "`%s` must not be empty", f->name);
		return f->values ? fc_check_enum(f, json_string_value(x), err) : 0;
	case FC_BOOL:
		return json_is_boolean(x) ? 0 : fc_bad_type(f, x, "a boolean", err);
	case FC_UINT:
		return fc_check_uint(f, x, err);
	case FC_OBJ:
		if (!json_is_object(x))
			return fc_bad_type(f, x, "an object", err);
		ret = f->check(x, err);
		return ret ? fc_prefix(err, ret, f->name) : 0;
	case FC_ARR: {
		char what[64];
		size_t i;
		json_t *e;

		if (!json_is_array(x))
			return fc_bad_type(f, x, "a sequence", err);
		json_array_foreach(x, i, e)
		{
			ret = json_is_object(e)
				  ? f->check(e, err)
				  : api_fail(err, FC_EPARSE, "invalid type: %s, expected an object",
					     fc_json_type(e));
			if (ret) {
				snprintf(what, sizeof(what), "%s[%zu]", f->name, i);
				return fc_prefix(err, ret, what);
			}
		}
		return 0;
	}
	}
	return api_fail(err, FC_EPARSE, "`%s`: unexpected field type", f->name);
}

static const struct fc_field *fc_field_find(const struct fc_field *fields, const char *name)
{
	for (const struct fc_field *f = fields; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

/*
 * @o is an object of @fields: no other key, each value of its type (null is
 * an absent optional field, as Firecracker's Option fields take it), and the
 * required ones there unless @partial (a PATCH).
 */
static int fc_check_fields(json_t *o, const struct fc_field *fields, bool partial,
			   struct api_err *err)
{
	const struct fc_field *f;
	const char *key;
	json_t *x;
	int ret;

	if (!json_is_object(o))
		return api_fail(err, FC_EPARSE, "invalid type: %s, expected an object",
				fc_json_type(o));
	json_object_foreach(o, key, x)
	{
		f = fc_field_find(fields, key);
		if (!f)
			return api_fail(err, FC_EPARSE, "unknown field `%s`", key);
		if (json_is_null(x) && (partial || !f->required))
			continue;
		ret = fc_check_value(f, x, err);
		if (ret)
			return ret;
	}
	for (f = fields; f->name && !partial; f++)
		if (f->required && !json_object_get(o, f->name))
			return api_fail(err, FC_EPARSE, "missing field `%s`", f->name);
	return 0;
}

static int fc_check(json_t *o, const struct fc_field *fields, struct api_err *err)
{
	return fc_check_fields(o, fields, false, err);
}

/* ---- reading checked fields ---- */

/* A field's value; NULL when absent or null. */
static json_t *fc_get(json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	return json_is_null(x) ? NULL : x;
}

static const char *fc_str(json_t *o, const char *key)
{
	return json_string_value(fc_get(o, key));
}

static bool fc_bool(json_t *o, const char *key, bool *out)
{
	json_t *x = fc_get(o, key);

	if (x)
		*out = json_is_true(x);
	return x != NULL;
}

static bool fc_uint(json_t *o, const char *key, json_int_t *out)
{
	json_t *x = fc_get(o, key);

	if (x)
		*out = json_integer_value(x);
	return x != NULL;
}

/* Copy a checked, non-empty id into @dst (API_ID_MAX bytes). */
static int fc_copy_id(char *dst, const char *id, const char *what, struct api_err *err)
{
	if (strlen(id) >= API_ID_MAX)
		return api_fail(err, -EINVAL, "`%s` %.*s... is longer than %u characters", what, 16,
				id, API_ID_MAX - 1);
	snprintf(dst, API_ID_MAX, "%s", id);
	return 0;
}

/* The id in the body (@key) is the one in the path (NULL: from a config file). */
static int fc_check_id(json_t *o, const char *key, const char *path_id, struct api_err *err)
{
	const char *id = fc_str(o, key);

	if (path_id && strcmp(id, path_id))
		return api_fail(
		    err, -EINVAL,
		    "The id from the path [%s] does not match the id from the body [%s]!", path_id,
		    id);
	return 0;
}

/* ---- rate limiters: checked, ignored ---- */

static const struct fc_field fc_bucket_fields[] = {
    {.name = "size", .type = FC_UINT, .required = true},
    {.name = "one_time_burst", .type = FC_UINT},
    {.name = "refill_time", .type = FC_UINT, .required = true},
    {0},
};

static int fc_check_bucket(json_t *o, struct api_err *err)
{
	return fc_check(o, fc_bucket_fields, err);
}

static const struct fc_field fc_limiter_fields[] = {
    {.name = "bandwidth", .type = FC_OBJ, .check = fc_check_bucket},
    {.name = "ops", .type = FC_OBJ, .check = fc_check_bucket},
    {0},
};

static int fc_check_limiter(json_t *o, struct api_err *err)
{
	return fc_check(o, fc_limiter_fields, err);
}

/* ---- the controller's state, as some routes need it ---- */

static bool fc_started(struct api_vmm *v)
{
	enum api_vm_state s = api_vmm_state(v);

	return s == API_VM_RUNNING || s == API_VM_PAUSED;
}

/* Logger and metrics are pre-boot only in Firecracker; the controller takes them any time. */
static int fc_need_preboot(struct api_vmm *v, struct api_err *err)
{
	if (fc_started(v))
		return api_fail(err, -EBUSY,
				"the operation is not supported after the VM has started");
	return 0;
}

/* After boot, the drive (or NIC) @id exists: a PATCH of rate limiters only. */
static int fc_need_device(struct api_vmm *v, bool drive, const char *id, struct api_err *err)
{
	struct api_vm_spec s;
	bool found = false;
	unsigned int i;

	if (!fc_started(v))
		return api_fail(err, -EINVAL, "the VM is not running (boot it first)");
	if (api_vmm_get_spec(v, &s) < 0)
		return api_fail(err, -ENOMEM, "out of memory");
	for (i = 0; drive && i < s.nr_drives; i++)
		found |= !strcmp(s.drives[i].id, id);
	for (i = 0; !drive && i < s.nr_nets; i++)
		found |= !strcmp(s.nets[i].id, id);
	api_vm_spec_free(&s);
	if (!found)
		return api_fail(err, -ENOENT, "%s %s: no such %s",
				drive ? "drive" : "network interface", id,
				drive ? "drive" : "interface");
	return 0;
}

/* ---- the objects: one table and one apply function each ---- */

/*
 * An apply function checks @o and hands it to the controller. @id is the id
 * in the route's path (NULL when there is none, or from a config file).
 */
typedef int (*fc_apply_fn)(struct api_vmm *v, json_t *o, const char *id, struct api_err *err);

/* petrel has no CPU templates and backs guest memory with transparent huge pages on its own. */
static const char *const fc_none[] = {"None", NULL};

static const struct fc_field fc_machine_fields[] = {
    {.name = "vcpu_count", .type = FC_UINT, .required = true, .max = UINT_MAX},
    {.name = "mem_size_mib", .type = FC_UINT, .required = true, .min = 1},
    {.name = "smt", .type = FC_BOOL},
    {.name = "track_dirty_pages", .type = FC_BOOL},
    {.name = "cpu_template", .type = FC_STR, .values = fc_none},
    {.name = "huge_pages", .type = FC_STR, .values = fc_none},
    {0},
};

/* PUT (@replace: the fields not given return to their defaults) or PATCH. */
static int fc_apply_machine(struct api_vmm *v, json_t *o, bool replace, struct api_err *err)
{
	struct api_machine_update u = {0};
	json_int_t n = 0;
	int ret;

	ret = fc_check_fields(o, fc_machine_fields, !replace, err);
	if (ret)
		return ret;
	u.has_cpus = fc_uint(o, "vcpu_count", &n);
	u.cpus = (unsigned int)n;
	u.has_mem = fc_uint(o, "mem_size_mib", &n);
	u.mem_mib = (uint64_t)n;
	u.has_smt = fc_bool(o, "smt", &u.smt);
	u.has_track_dirty = fc_bool(o, "track_dirty_pages", &u.track_dirty_pages);
	if (!replace && !u.has_cpus && !u.has_mem && !u.has_smt && !u.has_track_dirty &&
	    !fc_get(o, "cpu_template") && !fc_get(o, "huge_pages"))
		return api_fail(err, -EINVAL, "Empty PATCH request.");
	return api_vmm_set_machine(v, &u, replace, err);
}

static int fc_apply_machine_put(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	return fc_apply_machine(v, o, true, err);
}

static int fc_apply_machine_patch(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	return fc_apply_machine(v, o, false, err);
}

static const struct fc_field fc_boot_fields[] = {
    {.name = "kernel_image_path", .type = FC_PATH, .required = true},
    {.name = "initrd_path", .type = FC_PATH},
    {.name = "boot_args", .type = FC_STR},
    {0},
};

static int fc_apply_boot(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	int ret = fc_check(o, fc_boot_fields, err);

	if (ret)
		return ret;
	return api_vmm_set_boot(v, fc_str(o, "kernel_image_path"), fc_str(o, "initrd_path"),
				fc_str(o, "boot_args"), err);
}

/* petrel's disks flush with fdatasync and go through io_uring whatever these say. */
static const char *const fc_cache_types[] = {"Unsafe", "Writeback", NULL};
static const char *const fc_io_engines[] = {"Sync", "Async", NULL};

static const struct fc_field fc_drive_fields[] = {
    {.name = "drive_id", .type = FC_PATH, .required = true},
    {.name = "is_root_device", .type = FC_BOOL, .required = true},
    {.name = "path_on_host", .type = FC_PATH}, /* required unless vhost-user's socket */
    {.name = "is_read_only", .type = FC_BOOL},
    {.name = "partuuid", .type = FC_STR},
    {.name = "cache_type", .type = FC_STR, .values = fc_cache_types},
    {.name = "io_engine", .type = FC_STR, .values = fc_io_engines},
    {.name = "rate_limiter", .type = FC_OBJ, .check = fc_check_limiter},
    {.name = "socket", .type = FC_PATH},
    {0},
};

static int fc_apply_drive(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	struct api_drive d = {0};
	int ret;

	ret = fc_check(o, fc_drive_fields, err);
	if (!ret)
		ret = fc_check_id(o, "drive_id", id, err);
	if (ret)
		return ret;
	if (fc_get(o, "socket"))
		return api_fail(err, -EOPNOTSUPP,
				"petrel does not support vhost-user drives (`socket`) (yet)");
	if (!fc_get(o, "path_on_host"))
		return api_fail(err, FC_EPARSE, "missing field `path_on_host`");
	ret = fc_copy_id(d.id, fc_str(o, "drive_id"), "drive_id", err);
	if (ret)
		return ret;
	/* borrowed from @o: the controller copies what it keeps */
	d.path = (char *)fc_str(o, "path_on_host");
	d.partuuid = (char *)fc_str(o, "partuuid");
	fc_bool(o, "is_root_device", &d.root);
	fc_bool(o, "is_read_only", &d.readonly);
	return api_vmm_put_drive(v, &d, err);
}

static const struct fc_field fc_drive_update_fields[] = {
    {.name = "drive_id", .type = FC_PATH, .required = true},
    {.name = "path_on_host", .type = FC_PATH},
    {.name = "rate_limiter", .type = FC_OBJ, .check = fc_check_limiter},
    {0},
};

static int fc_apply_drive_update(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	const char *path;
	int ret;

	ret = fc_check(o, fc_drive_update_fields, err);
	if (!ret)
		ret = fc_check_id(o, "drive_id", id, err);
	if (ret)
		return ret;
	path = fc_str(o, "path_on_host");
	if (path)
		return api_vmm_update_drive(v, fc_str(o, "drive_id"), path, err);
	return fc_need_device(v, true, fc_str(o, "drive_id"), err);
}

/* "aa:bb:cc:dd:ee:ff", two hex digits a byte (the controller wants it unicast). */
static bool fc_parse_mac(const char *s, uint8_t mac[6])
{
	int ret = virtio_net_parse_mac(s, strlen(s), mac);

	return ret == 0 || ret == -EDOM;
}

static const struct fc_field fc_net_fields[] = {
    {.name = "iface_id", .type = FC_PATH, .required = true},
    {.name = "host_dev_name", .type = FC_PATH, .required = true},
    {.name = "guest_mac", .type = FC_STR},
    {.name = "mtu", .type = FC_UINT, .min = 68, .max = 65535},
    {.name = "rx_rate_limiter", .type = FC_OBJ, .check = fc_check_limiter},
    {.name = "tx_rate_limiter", .type = FC_OBJ, .check = fc_check_limiter},
    {0},
};

static int fc_apply_net(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	struct api_net n = {0};
	const char *tap, *mac;
	int ret;

	ret = fc_check(o, fc_net_fields, err);
	if (!ret)
		ret = fc_check_id(o, "iface_id", id, err);
	if (ret)
		return ret;
	mac = fc_str(o, "guest_mac");
	if (mac && !fc_parse_mac(mac, n.mac))
		return api_fail(err, FC_EPARSE, "The provided MAC address is invalid.");
	n.has_mac = mac != NULL;
	if (fc_get(o, "mtu"))
		return api_fail(err, -EOPNOTSUPP, "petrel does not support `mtu` (yet)");
	tap = fc_str(o, "host_dev_name");
	if (strlen(tap) >= sizeof(n.tap))
		return api_fail(err, -EINVAL, "host_dev_name %.*s... is longer than %zu characters",
				16, tap, sizeof(n.tap) - 1);
	snprintf(n.tap, sizeof(n.tap), "%s", tap);
	ret = fc_copy_id(n.id, fc_str(o, "iface_id"), "iface_id", err);
	return ret ? ret : api_vmm_put_net(v, &n, err);
}

static const struct fc_field fc_net_update_fields[] = {
    {.name = "iface_id", .type = FC_PATH, .required = true},
    {.name = "rx_rate_limiter", .type = FC_OBJ, .check = fc_check_limiter},
    {.name = "tx_rate_limiter", .type = FC_OBJ, .check = fc_check_limiter},
    {0},
};

/* Only rate limiters change here, and petrel has none: the NIC must exist after boot. */
static int fc_apply_net_update(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	int ret;

	ret = fc_check(o, fc_net_update_fields, err);
	if (!ret)
		ret = fc_check_id(o, "iface_id", id, err);
	return ret ? ret : fc_need_device(v, false, fc_str(o, "iface_id"), err);
}

static const struct fc_field fc_entropy_fields[] = {
    {.name = "rate_limiter", .type = FC_OBJ, .check = fc_check_limiter},
    {0},
};

static int fc_apply_entropy(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	int ret = fc_check(o, fc_entropy_fields, err);

	return ret ? ret : api_vmm_set_rng(v, true, err);
}

static const struct fc_field fc_vsock_fields[] = {
    {.name = "vsock_id", .type = FC_STR}, /* deprecated in Firecracker, still taken */
    {.name = "guest_cid", .type = FC_UINT, .required = true, .min = 3, .max = 0xfffffffe},
    {.name = "uds_path", .type = FC_PATH, .required = true},
    {0},
};

/* The hybrid vsock: UNIX sockets at uds_path and uds_path_PORT on the host. */
static int fc_apply_vsock(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	struct api_vsock vs = {0};
	const char *uds, *vid;
	json_int_t cid = 0;
	int ret;

	ret = fc_check(o, fc_vsock_fields, err);
	if (ret)
		return ret;
	fc_uint(o, "guest_cid", &cid);
	vs.cid = (uint64_t)cid;
	uds = fc_str(o, "uds_path");
	if (strlen(uds) > VSOCK_UDS_PATH_MAX)
		return api_fail(err, -EINVAL, "uds_path is longer than %d bytes",
				VSOCK_UDS_PATH_MAX);
	snprintf(vs.uds, sizeof(vs.uds), "%s", uds);
	vid = fc_str(o, "vsock_id");
	ret = fc_copy_id(vs.id, vid ? vid : "vsock", "vsock_id", err);
	return ret ? ret : api_vmm_set_vsock(v, &vs, err);
}

static const struct fc_field fc_balloon_fields[] = {
    {.name = "amount_mib", .type = FC_UINT, .required = true, .max = UINT32_MAX >> 8},
    {.name = "deflate_on_oom", .type = FC_BOOL, .required = true},
    {.name = "stats_polling_interval_s", .type = FC_UINT, .max = VIRTIO_BALLOON_MAX_STATS_S},
    {.name = "free_page_reporting", .type = FC_BOOL},
    {.name = "free_page_hinting", .type = FC_BOOL},
    {0},
};

/* PUT /balloon: before boot only, as in Firecracker. */
static int fc_apply_balloon(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	struct virtio_balloon_opts b = {.on = true};
	json_int_t n = 0;
	bool hinting = false;
	int ret = fc_check(o, fc_balloon_fields, err);

	if (ret)
		return ret;
	fc_bool(o, "free_page_hinting", &hinting);
	if (hinting)
		return api_fail(
		    err, -EOPNOTSUPP,
		    "petrel does not support free page hinting (use free_page_reporting)");
	fc_uint(o, "amount_mib", &n);
	b.target_mib = (uint64_t)n;
	n = 0;
	fc_uint(o, "stats_polling_interval_s", &n);
	b.stats_interval_s = (unsigned int)n;
	fc_bool(o, "deflate_on_oom", &b.deflate_on_oom);
	fc_bool(o, "free_page_reporting", &b.free_page_reporting);
	ret = fc_need_preboot(v, err);
	return ret ? ret : api_vmm_set_balloon(v, &b, err);
}

static const struct fc_field fc_balloon_update_fields[] = {
    {.name = "amount_mib", .type = FC_UINT, .required = true, .max = UINT32_MAX >> 8},
    {0},
};

/* PATCH /balloon: a new target once booted. */
static int fc_apply_balloon_update(struct api_vmm *v, json_t *o, const char *id,
				   struct api_err *err)
{
	json_int_t n = 0;
	int ret = fc_check(o, fc_balloon_update_fields, err);

	fc_uint(o, "amount_mib", &n);
	return ret ? ret : api_vmm_balloon_target(v, (uint64_t)n, err);
}

static const struct fc_field fc_balloon_stats_fields[] = {
    {.name = "stats_polling_interval_s",
     .type = FC_UINT,
     .required = true,
     .max = VIRTIO_BALLOON_MAX_STATS_S},
    {0},
};

static int fc_apply_balloon_stats(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	json_int_t n = 0;
	int ret = fc_check(o, fc_balloon_stats_fields, err);

	fc_uint(o, "stats_polling_interval_s", &n);
	return ret ? ret : api_vmm_balloon_stats_interval(v, (unsigned int)n, err);
}

static json_t *fc_balloon_json(const struct virtio_balloon_opts *b)
{
	return json_pack("{s:I, s:b, s:I, s:b}", "amount_mib", (json_int_t)b->target_mib,
			 "deflate_on_oom", b->deflate_on_oom, "stats_polling_interval_s",
			 (json_int_t)b->stats_interval_s, "free_page_reporting",
			 b->free_page_reporting);
}

static int fc_get_balloon(struct api_vmm *v, json_t **out, struct api_err *err)
{
	struct virtio_balloon_opts b;
	bool live;
	int ret = api_vmm_balloon_get(v, &b, NULL, &live, err);

	if (!ret)
		*out = fc_balloon_json(&b);
	return ret;
}

/* Firecracker's names of the statistics tags, in tag order. */
static const char *const fc_balloon_stat_names[VIRTIO_BALLOON_S_NR] = {
    "swap_in",	    "swap_out",		"major_faults", "minor_faults",	       "free_memory",
    "total_memory", "available_memory", "disk_caches",	"hugetlb_allocations", "hugetlb_failures",
};

static int fc_get_balloon_stats(struct api_vmm *v, json_t **out, struct api_err *err)
{
	struct virtio_balloon_opts b;
	struct virtio_balloon_info bi;
	bool live;
	int ret = api_vmm_balloon_get(v, &b, &bi, &live, err);
	json_t *o;

	if (ret)
		return ret;
	if (!b.stats_interval_s)
		return api_fail(err, -EINVAL, "Statistics for the balloon device are not enabled");
	if (!live)
		return api_fail(err, -EINVAL, "the VM is not running (boot it first)");
	o = json_pack("{s:I, s:I, s:I, s:I}", "target_pages", (json_int_t)bi.target_pages,
		      "actual_pages", (json_int_t)bi.actual_pages, "target_mib",
		      (json_int_t)(bi.target_pages >> 8), "actual_mib",
		      (json_int_t)(bi.actual_pages >> 8));
	for (unsigned int i = 0; o && i < VIRTIO_BALLOON_S_NR; i++)
		if (bi.stats.present & (1u << i))
			json_object_set_new(o, fc_balloon_stat_names[i],
					    json_integer((json_int_t)bi.stats.val[i]));
	if (!o)
		return api_fail(err, -ENOMEM, "the answer could not be built");
	*out = o;
	return 0;
}

static const struct fc_field fc_serial_fields[] = {
    {.name = "serial_out_path", .type = FC_PATH},
    /* Firecracker drops output beyond it; petrel never drops */
    {.name = "rate_limiter", .type = FC_OBJ, .check = fc_check_bucket},
    {0},
};

/* Without serial_out_path, the output goes to petrel's stdout (Firecracker's default). */
static int fc_apply_serial(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	const char *path;
	int ret;

	ret = fc_check(o, fc_serial_fields, err);
	if (ret)
		return ret;
	path = fc_str(o, "serial_out_path");
	return api_vmm_set_serial(v, path ? API_SERIAL_FILE : API_SERIAL_STDIO, path, err);
}

/* petrel's messages go to the log as they are: the decorations and the filter are ignored. */
static const struct fc_field fc_logger_fields[] = {
    {.name = "log_path", .type = FC_PATH},
    {.name = "level", .type = FC_STR}, /* checked by the controller */
    {.name = "show_level", .type = FC_BOOL},
    {.name = "show_log_origin", .type = FC_BOOL},
    {.name = "module", .type = FC_STR},
    {0},
};

static int fc_apply_logger(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	int ret;

	ret = fc_check(o, fc_logger_fields, err);
	if (!ret)
		ret = fc_need_preboot(v, err);
	if (ret)
		return ret;
	return api_vmm_set_logger(v, fc_str(o, "log_path"), fc_str(o, "level"), err);
}

static int fc_check_str_map(json_t *o, struct api_err *err)
{
	const char *key;
	json_t *x;

	json_object_foreach(o, key, x)
	{
		if (!json_is_string(x))
			return api_fail(err, FC_EPARSE,
					"invalid type for `%s`: %s, expected a string", key,
					fc_json_type(x));
	}
	return 0;
}

static const struct fc_field fc_metrics_fields[] = {
    {.name = "metrics_path", .type = FC_PATH, .required = true},
    {.name = "emit_id", .type = FC_BOOL},
    {.name = "properties", .type = FC_OBJ, .check = fc_check_str_map},
    {0},
};

static int fc_apply_metrics(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	bool emit_id = false;
	json_t *props;
	int ret;

	ret = fc_check(o, fc_metrics_fields, err);
	if (!ret)
		ret = fc_need_preboot(v, err);
	if (ret)
		return ret;
	fc_bool(o, "emit_id", &emit_id);
	props = fc_get(o, "properties");
	if (emit_id || json_object_size(props))
		return api_fail(
		    err, -EOPNOTSUPP,
		    "petrel does not support `emit_id` or `properties` in metrics (yet)");
	return api_vmm_set_metrics(v, fc_str(o, "metrics_path"), err);
}

static const char *const fc_actions[] = {"FlushMetrics", "InstanceStart", "SendCtrlAltDel", NULL};

static const struct fc_field fc_action_fields[] = {
    {.name = "action_type", .type = FC_STR, .required = true, .values = fc_actions},
    {0},
};

static int fc_apply_action(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	const char *type;
	int ret;

	ret = fc_check(o, fc_action_fields, err);
	if (ret)
		return ret;
	type = fc_str(o, "action_type");
	if (!strcmp(type, "InstanceStart"))
		return api_vmm_boot(v, err);
	if (!strcmp(type, "SendCtrlAltDel"))
		return api_vmm_ctrl_alt_del(v, err);
	return api_vmm_flush_metrics(v, err);
}

static const char *const fc_vm_states[] = {"Paused", "Resumed", NULL};

static const struct fc_field fc_vm_fields[] = {
    {.name = "state", .type = FC_STR, .required = true, .values = fc_vm_states},
    {0},
};

static int fc_apply_vm(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	int ret = fc_check(o, fc_vm_fields, err);

	if (ret)
		return ret;
	if (!strcmp(fc_str(o, "state"), "Paused"))
		return api_vmm_pause(v, err);
	return api_vmm_resume(v, err);
}

/* ---- snapshots ---- */

static const char *const fc_snapshot_types[] = {"Full", "Diff", NULL};

static const struct fc_field fc_snapshot_create_fields[] = {
    {.name = "snapshot_type", .type = FC_STR, .values = fc_snapshot_types},
    {.name = "snapshot_path", .type = FC_PATH, .required = true},
    {.name = "mem_file_path", .type = FC_PATH, .required = true},
    {0},
};

static int fc_apply_snapshot_create(struct api_vmm *v, json_t *o, const char *id,
				    struct api_err *err)
{
	struct api_snapshot_req req = {0};
	const char *type;
	int ret;

	ret = fc_check(o, fc_snapshot_create_fields, err);
	if (ret)
		return ret;
	type = fc_str(o, "snapshot_type");
	req.state_path = fc_str(o, "snapshot_path");
	req.mem_path = fc_str(o, "mem_file_path");
	req.diff = type && !strcmp(type, "Diff");
	return api_vmm_snapshot(v, &req, err);
}

static const char *const fc_backend_types[] = {"File", "Uffd", NULL};

static const struct fc_field fc_mem_backend_fields[] = {
    {.name = "backend_type", .type = FC_STR, .required = true, .values = fc_backend_types},
    {.name = "backend_path", .type = FC_PATH, .required = true},
    {0},
};

static int fc_check_mem_backend(json_t *o, struct api_err *err)
{
	return fc_check(o, fc_mem_backend_fields, err);
}

static const struct fc_field fc_net_override_fields[] = {
    {.name = "iface_id", .type = FC_PATH, .required = true},
    {.name = "host_dev_name", .type = FC_PATH, .required = true},
    {0},
};

static int fc_check_net_override(json_t *o, struct api_err *err)
{
	return fc_check(o, fc_net_override_fields, err);
}

/* petrel's: a drive's image moves too (a snapshot names its drives' paths) */
static const struct fc_field fc_drive_override_fields[] = {
    {.name = "drive_id", .type = FC_PATH, .required = true},
    {.name = "path_on_host", .type = FC_PATH, .required = true},
    {0},
};

static int fc_check_drive_override(json_t *o, struct api_err *err)
{
	return fc_check(o, fc_drive_override_fields, err);
}

static const struct fc_field fc_snapshot_load_fields[] = {
    {.name = "snapshot_path", .type = FC_PATH, .required = true},
    {.name = "mem_file_path", .type = FC_PATH}, /* deprecated: mem_backend */
    {.name = "mem_backend", .type = FC_OBJ, .check = fc_check_mem_backend},
    {.name = "enable_diff_snapshots", .type = FC_BOOL}, /* deprecated: track_dirty_pages */
    {.name = "track_dirty_pages", .type = FC_BOOL},
    {.name = "resume_vm", .type = FC_BOOL},
    {.name = "network_overrides", .type = FC_ARR, .check = fc_check_net_override},
    {.name = "drive_overrides", .type = FC_ARR, .check = fc_check_drive_override},
    {.name = "vsock_override", .type = FC_OBJ, .check = fc_check_str_map},
    {.name = "clock_realtime", .type = FC_BOOL},
    {0},
};

/* The memory file: mem_backend's File, or the deprecated mem_file_path; exactly one. */
static int fc_load_mem_path(json_t *o, const char **path, struct api_err *err)
{
	json_t *b = fc_get(o, "mem_backend");

	*path = fc_str(o, "mem_file_path");
	if (b && *path)
		return api_fail(err, -EINVAL,
				"give either `mem_backend` or `mem_file_path`, not both");
	if (!b && !*path)
		return api_fail(
		    err, -EINVAL,
		    "missing field: either `mem_backend` or `mem_file_path` is required");
	if (b && strcmp(fc_str(b, "backend_type"), "File"))
		return api_fail(err, -EOPNOTSUPP,
				"petrel does not support the `Uffd` memory backend: give "
				"`backend_type` `File`");
	if (b)
		*path = fc_str(b, "backend_path");
	return 0;
}

static int fc_load_overrides(json_t *o, struct api_restore_req *req, struct api_err *err)
{
	json_t *a, *e;
	size_t i;

	a = fc_get(o, "network_overrides");
	if (json_array_size(a) > VM_MAX_NETS)
		return api_fail(err, -EINVAL, "network_overrides: at most %u interfaces",
				VM_MAX_NETS);
	json_array_foreach(a, i, e)
	{
		struct api_net_override *n = &req->nets[req->nr_nets++];
		const char *tap = fc_str(e, "host_dev_name");
		int ret = fc_copy_id(n->id, fc_str(e, "iface_id"), "iface_id", err);

		if (ret)
			return ret;
		if (strlen(tap) >= sizeof(n->tap))
			return api_fail(err, -EINVAL,
					"host_dev_name %.*s... is longer than %zu characters", 16,
					tap, sizeof(n->tap) - 1);
		snprintf(n->tap, sizeof(n->tap), "%s", tap);
	}
	a = fc_get(o, "drive_overrides");
	if (json_array_size(a) > VM_MAX_DISKS)
		return api_fail(err, -EINVAL, "drive_overrides: at most %u drives", VM_MAX_DISKS);
	json_array_foreach(a, i, e)
	{
		struct api_drive_override *d = &req->drives[req->nr_drives++];
		int ret = fc_copy_id(d->id, fc_str(e, "drive_id"), "drive_id", err);

		if (ret)
			return ret;
		d->path = fc_str(e, "path_on_host");
	}
	return 0;
}

static int fc_apply_snapshot_load(struct api_vmm *v, json_t *o, const char *id, struct api_err *err)
{
	struct api_restore_req *req;
	bool diff = false, track = false, realtime = false;
	int ret;

	ret = fc_check(o, fc_snapshot_load_fields, err);
	if (ret)
		return ret;
	if (fc_get(o, "vsock_override"))
		return api_fail(err, -EOPNOTSUPP,
				"petrel does not support `vsock_override` (yet): the snapshot's "
				"uds_path is used");
	if (fc_bool(o, "clock_realtime", &realtime) && realtime)
		return api_fail(err, -EOPNOTSUPP, "petrel does not support `clock_realtime` (yet)");
	req = calloc(1, sizeof(*req));
	if (!req)
		return api_fail(err, -ENOMEM, "out of memory");
	req->state_path = fc_str(o, "snapshot_path");
	ret = fc_load_mem_path(o, &req->mem_path, err);
	if (!ret)
		ret = fc_load_overrides(o, req, err);
	if (!ret) {
		fc_bool(o, "enable_diff_snapshots", &diff);
		fc_bool(o, "track_dirty_pages", &track);
		req->track_dirty_pages = diff || track;
		fc_bool(o, "resume_vm", &req->resume);
		ret = api_vmm_restore(v, req, err);
	}
	free(req);
	return ret;
}

/* ---- what the GETs answer ---- */

static json_t *fc_get_info(struct api_vmm *v)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "id", v->id, "state",
			 api_vm_state_fc_name(api_vmm_state(v)), "vmm_version", PETREL_VERSION,
			 "app_name", "Firecracker");
}

static json_t *fc_get_version(struct api_vmm *v)
{
	return json_pack("{s:s}", "firecracker_version", PETREL_VERSION);
}

/* cpu_template is left out when None, as Firecracker does. */
static json_t *fc_machine_json(const struct api_vm_spec *s)
{
	return json_pack("{s:I, s:I, s:b, s:b, s:s}", "vcpu_count", (json_int_t)s->cpus,
			 "mem_size_mib", (json_int_t)s->mem_mib, "smt", s->smt, "track_dirty_pages",
			 s->track_dirty_pages, "huge_pages", "None");
}

/* cache_type and io_engine say what petrel does: flushes reach the disk, through io_uring. */
static json_t *fc_drive_json(const struct api_drive *d)
{
	return json_pack("{s:s, s:s?, s:b, s:s, s:b, s:s, s:n, s:s, s:n}", "drive_id", d->id,
			 "partuuid", d->partuuid, "is_root_device", d->root, "cache_type",
			 "Writeback", "is_read_only", d->readonly, "path_on_host", d->path,
			 "rate_limiter", "io_engine", "Async", "socket");
}

static json_t *fc_net_json(const struct api_net *n)
{
	char mac[18];
	const uint8_t *m = n->mac;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return json_pack("{s:s, s:s, s:s?, s:n, s:n, s:n}", "iface_id", n->id, "host_dev_name",
			 n->tap, "guest_mac", n->has_mac ? mac : NULL, "mtu", "rx_rate_limiter",
			 "tx_rate_limiter");
}

/* The root drive first: it is the guest's /dev/vda. */
static json_t *fc_drives_json(const struct api_vm_spec *s)
{
	json_t *a = json_array();

	for (int pass = 0; pass < 2; pass++)
		for (unsigned int i = 0; a && i < s->nr_drives; i++)
			if (s->drives[i].root == !pass &&
			    json_array_append_new(a, fc_drive_json(&s->drives[i]))) {
				json_decref(a);
				a = NULL;
			}
	return a;
}

static json_t *fc_nets_json(const struct api_vm_spec *s)
{
	json_t *a = json_array();

	for (unsigned int i = 0; a && i < s->nr_nets; i++)
		if (json_array_append_new(a, fc_net_json(&s->nets[i]))) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

/*
 * Firecracker's FullVmConfiguration, its keys all there: what petrel does not
 * have is null (or empty), and so are logger and metrics, as Firecracker
 * answers too.
 */
static json_t *fc_vm_config_json(const struct api_vm_spec *s)
{
	json_t *boot =
	    json_pack("{s:s, s:s?, s:s?}", "kernel_image_path", s->kernel ? s->kernel : "",
		      "initrd_path", s->initramfs, "boot_args", s->cmdline);
	json_t *entropy = s->rng ? json_pack("{s:n}", "rate_limiter") : json_null();
	json_t *vsock = s->has_vsock
			    ? json_pack("{s:s, s:I, s:s}", "vsock_id", s->vsock.id, "guest_cid",
					(json_int_t)s->vsock.cid, "uds_path", s->vsock.uds)
			    : json_null();
	json_t *balloon = s->balloon.on ? fc_balloon_json(&s->balloon) : json_null();

	return json_pack("{s:o, s:o, s:o, s:n, s:n, s:o, s:n, s:n, s:o, s:o, s:o, s:[], s:n}",
			 "balloon", balloon, "drives", fc_drives_json(s), "boot-source", boot,
			 "cpu-config", "logger", "machine-config", fc_machine_json(s), "metrics",
			 "mmds-config", "network-interfaces", fc_nets_json(s), "vsock", vsock,
			 "entropy", entropy, "pmem", "memory-hotplug");
}

static json_t *fc_from_spec(struct api_vmm *v, json_t *(*build)(const struct api_vm_spec *))
{
	struct api_vm_spec s;
	json_t *o;

	if (api_vmm_get_spec(v, &s) < 0)
		return NULL;
	o = build(&s);
	api_vm_spec_free(&s);
	return o;
}

static json_t *fc_get_machine(struct api_vmm *v)
{
	return fc_from_spec(v, fc_machine_json);
}

static json_t *fc_get_vm_config(struct api_vmm *v)
{
	return fc_from_spec(v, fc_vm_config_json);
}

/* ---- routes ---- */

struct fc_route {
	const char *method;
	const char *res; /* the path's first segment */
	bool id;	 /* then an id */
	const char *sub; /* or this second segment (NULL: none) */
	fc_apply_fn apply;
	json_t *(*get)(struct api_vmm *v);
	int (*fetch)(struct api_vmm *v, json_t **out,
		     struct api_err *err); /* a GET that may fail */
};

static const struct fc_route fc_routes[] = {
    {.method = "GET", .res = "", .get = fc_get_info},
    {.method = "GET", .res = "version", .get = fc_get_version},
    {.method = "GET", .res = "machine-config", .get = fc_get_machine},
    {.method = "PUT", .res = "machine-config", .apply = fc_apply_machine_put},
    {.method = "PATCH", .res = "machine-config", .apply = fc_apply_machine_patch},
    {.method = "PUT", .res = "boot-source", .apply = fc_apply_boot},
    {.method = "PUT", .res = "drives", .id = true, .apply = fc_apply_drive},
    {.method = "PATCH", .res = "drives", .id = true, .apply = fc_apply_drive_update},
    {.method = "PUT", .res = "network-interfaces", .id = true, .apply = fc_apply_net},
    {.method = "PATCH", .res = "network-interfaces", .id = true, .apply = fc_apply_net_update},
    {.method = "PUT", .res = "entropy", .apply = fc_apply_entropy},
    {.method = "PUT", .res = "vsock", .apply = fc_apply_vsock},
    {.method = "PUT", .res = "balloon", .apply = fc_apply_balloon},
    {.method = "PATCH", .res = "balloon", .apply = fc_apply_balloon_update},
    {.method = "GET", .res = "balloon", .fetch = fc_get_balloon},
    {.method = "PATCH", .res = "balloon", .sub = "statistics", .apply = fc_apply_balloon_stats},
    {.method = "GET", .res = "balloon", .sub = "statistics", .fetch = fc_get_balloon_stats},
    {.method = "PUT", .res = "serial", .apply = fc_apply_serial},
    {.method = "PUT", .res = "logger", .apply = fc_apply_logger},
    {.method = "PUT", .res = "metrics", .apply = fc_apply_metrics},
    {.method = "PUT", .res = "actions", .apply = fc_apply_action},
    {.method = "PATCH", .res = "vm", .apply = fc_apply_vm},
    {.method = "PUT", .res = "snapshot", .sub = "create", .apply = fc_apply_snapshot_create},
    {.method = "PUT", .res = "snapshot", .sub = "load", .apply = fc_apply_snapshot_load},
    {.method = "GET", .res = "vm", .sub = "config", .get = fc_get_vm_config},
    {0},
};

/* Firecracker's, not petrel's (yet). */
static const char *const fc_unsupported[] = {"cpu-config", "hotplug", "mmds", "pmem", NULL};

/* A path split as Firecracker does: leading slashes and one trailing slash dropped. */
struct fc_path {
	char *buf;
	const char *res, *id; /* id: NULL when there is no second segment */
	bool extra;	      /* more segments than two */
};

static int fc_path_split(const char *path, struct fc_path *p)
{
	char *s;
	size_t n;

	memset(p, 0, sizeof(*p));
	while (*path == '/')
		path++;
	p->buf = strdup(path);
	if (!p->buf)
		return -ENOMEM;
	n = strlen(p->buf);
	if (n && p->buf[n - 1] == '/')
		p->buf[n - 1] = '\0';
	s = p->buf;
	p->res = strsep(&s, "/");
	p->id = s ? strsep(&s, "/") : NULL;
	p->extra = s != NULL;
	return 0;
}

static bool fc_route_has_path(const struct fc_route *r, const struct fc_path *p)
{
	if (p->extra || strcmp(r->res, p->res))
		return false;
	if (r->id)
		return true;
	if (!r->sub)
		return !p->id;
	return p->id && !strcmp(r->sub, p->id);
}

static bool fc_is_unsupported(const char *res)
{
	for (const char *const *u = fc_unsupported; *u; u++)
		if (!strcmp(res, *u))
			return true;
	return false;
}

static const struct fc_route *fc_route_find(const struct api_request *rq, const struct fc_path *p,
					    struct api_err *err)
{
	bool known = false;

	for (const struct fc_route *r = fc_routes; r->method; r++) {
		if (!fc_route_has_path(r, p))
			continue;
		if (!strcmp(r->method, rq->method))
			return r;
		known = true;
	}
	if (!known && fc_is_unsupported(p->res))
		api_fail(err, -EOPNOTSUPP, "petrel does not support %s %s (yet)", rq->method,
			 rq->path);
	else
		api_fail(err, -EINVAL, "Invalid request method and/or path: %s %s.", rq->method,
			 rq->path);
	return NULL;
}

/* Firecracker's rule for ids in paths: letters, digits and '_'. */
static int fc_check_path_id(const char *id, struct api_err *err)
{
	if (!id || !*id)
		return api_fail(err, -EINVAL, "The ID cannot be empty.");
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return api_fail(err, -EINVAL,
					"API Resource IDs can only contain "
					"alphanumeric characters and underscores.");
	return 0;
}

static int fc_run_apply(struct api_vmm *v, const struct fc_route *r, const struct api_request *rq,
			const char *id, struct api_err *err)
{
	json_error_t jerr;
	json_t *body;
	int ret;

	if (!rq->body || !rq->body_len)
		return api_fail(err, -EINVAL, "Empty %s request.", rq->method);
	body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body)
		return api_fail(err, -EINVAL,
				"An error occurred when deserializing the json body of a request: "
				"%s at line %d column %d.",
				jerr.text, jerr.line, jerr.column);
	ret = r->apply(v, body, id, err);
	json_decref(body);
	if (ret == FC_EPARSE)
		ret = fc_prefix(err, -EINVAL,
				"An error occurred when deserializing the json body of a request");
	return ret;
}

/* Run route @r: 0 and *out (NULL: no body) or an error in *err. */
static int fc_run(struct api_vmm *v, const struct fc_route *r, const struct api_request *rq,
		  const struct fc_path *p, json_t **out, struct api_err *err)
{
	int ret;

	if (r->id) {
		ret = fc_check_path_id(p->id, err);
		if (ret)
			return ret;
	}
	if (!r->get && !r->fetch)
		return fc_run_apply(v, r, rq, r->id ? p->id : NULL, err);
	if (rq->body && rq->body_len)
		return api_fail(err, -EINVAL, "GET request cannot have a body.");
	if (r->fetch)
		return r->fetch(v, out, err);
	*out = r->get(v);
	return *out ? 0 : api_fail(err, -ENOMEM, "the answer could not be built");
}

/* The length of the valid UTF-8 sequence at @s, 0 if it is not one. */
static size_t fc_utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (!n)
		return 0;
	c = s[0] & (0x7fu >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

/* A message may quote bytes of the request: JSON needs them valid UTF-8. */
static void fc_utf8_clean(char *dst, size_t size, const char *src)
{
	size_t i = 0, n;

	while (*src && i + 1 < size) {
		n = fc_utf8_len((const unsigned char *)src);
		if (!n) {
			dst[i++] = '?';
			src++;
			continue;
		}
		if (i + n >= size)
			break;
		memcpy(dst + i, src, n);
		i += n;
		src += n;
	}
	dst[i] = '\0';
}

static void fc_fault(struct api_response *rs, const char *msg)
{
	char clean[API_ERR_MAX];
	json_t *o;

	fc_utf8_clean(clean, sizeof(clean), msg);
	o = json_pack("{s:s}", "fault_message", clean);
	api_response_set(rs, 400, o ? json_dumps(o, JSON_COMPACT) : NULL);
	json_decref(o);
}

static void fc_respond(struct api_response *rs, int ret, json_t *out, const struct api_err *err)
{
	char *text;

	if (ret) {
		json_decref(out);
		fc_fault(rs, err->msg);
		return;
	}
	if (!out) {
		api_response_set(rs, 204, NULL);
		return;
	}
	text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	if (text)
		api_response_set(rs, 200, text);
	else
		fc_fault(rs, "the answer could not be built");
}

static bool fc_match(const char *path)
{
	return path && strncmp(path, "/api/v1/", 8) != 0;
}

static void fc_handle(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	struct api_err err = {""};
	const struct fc_route *r;
	struct fc_path p = {0};
	json_t *out = NULL;
	int ret;

	if (!rq->method || !rq->path)
		ret = api_fail(&err, -EINVAL, "Invalid request method and/or path.");
	else if (fc_path_split(rq->path, &p) < 0)
		ret = api_fail(&err, -ENOMEM, "out of memory");
	else {
		r = fc_route_find(rq, &p, &err);
		ret = r ? fc_run(v, r, rq, &p, &out, &err) : -EINVAL;
	}
	free(p.buf);
	fc_respond(rs, ret, out, &err);
}

const struct api_frontend api_fc_frontend = {
    .name = "fc",
    .match = fc_match,
    .handle = fc_handle,
};

/* ---- the config file ---- */

struct fc_config_item {
	const char *key;
	bool array; /* a list of objects */
	bool required;
	const struct fc_field *fields; /* NULL: Firecracker's, not petrel's (yet) */
	fc_apply_fn apply;
	const char *id_key; /* what names an array's element */
};

/* In the order they are applied: where messages go first, then the machine, its devices. */
static const struct fc_config_item fc_config_items[] = {
    {.key = "logger", .fields = fc_logger_fields, .apply = fc_apply_logger},
    {.key = "metrics", .fields = fc_metrics_fields, .apply = fc_apply_metrics},
    {.key = "machine-config", .fields = fc_machine_fields, .apply = fc_apply_machine_put},
    {.key = "boot-source", .required = true, .fields = fc_boot_fields, .apply = fc_apply_boot},
    {.key = "drives",
     .array = true,
     .required = true,
     .fields = fc_drive_fields,
     .apply = fc_apply_drive,
     .id_key = "drive_id"},
    {.key = "network-interfaces",
     .array = true,
     .fields = fc_net_fields,
     .apply = fc_apply_net,
     .id_key = "iface_id"},
    {.key = "entropy", .fields = fc_entropy_fields, .apply = fc_apply_entropy},
    /* petrel's: Firecracker takes it on its command line */
    {.key = "serial", .fields = fc_serial_fields, .apply = fc_apply_serial},
    {.key = "balloon", .fields = fc_balloon_fields, .apply = fc_apply_balloon},
    {.key = "cpu-config"},
    {.key = "mmds-config"},
    {.key = "vsock", .fields = fc_vsock_fields, .apply = fc_apply_vsock},
    {.key = "pmem", .array = true},
    {.key = "memory-hotplug"},
    {0},
};

static const struct fc_config_item *fc_config_find(const char *key)
{
	for (const struct fc_config_item *it = fc_config_items; it->key; it++)
		if (!strcmp(it->key, key))
			return it;
	return NULL;
}

/* "drives[1] (rootfs): " before the message of element @idx (-1: not an array). */
static int fc_config_fail(const struct fc_config_item *it, int idx, json_t *o, int ret,
			  struct api_err *err)
{
	const char *id = it->id_key ? fc_str(o, it->id_key) : NULL;
	char what[64 + API_ID_MAX];

	if (idx < 0)
		snprintf(what, sizeof(what), "%s", it->key);
	else if (id)
		snprintf(what, sizeof(what), "%s[%d] (%.*s)", it->key, idx, API_ID_MAX - 1, id);
	else
		snprintf(what, sizeof(what), "%s[%d]", it->key, idx);
	return fc_prefix(err, ret == FC_EPARSE ? -EINVAL : ret, what);
}

/* The shape of item @it's value @x: checked (@v NULL) or applied. */
static int fc_config_item_run(struct api_vmm *v, const struct fc_config_item *it, json_t *x,
			      struct api_err *err)
{
	size_t i;
	json_t *o;
	int ret;

	if (!it->array) {
		ret = v ? it->apply(v, x, NULL, err) : fc_check(x, it->fields, err);
		return ret ? fc_config_fail(it, -1, x, ret, err) : 0;
	}
	json_array_foreach(x, i, o)
	{
		ret = v ? it->apply(v, o, NULL, err) : fc_check(o, it->fields, err);
		if (ret)
			return fc_config_fail(it, (int)i, o, ret, err);
	}
	return 0;
}

static int fc_config_check(json_t *root, struct api_err *err)
{
	const struct fc_config_item *it;
	const char *key;
	json_t *x;
	int ret;

	if (!json_is_object(root))
		return api_fail(err, -EINVAL, "invalid type: %s, expected an object",
				fc_json_type(root));
	json_object_foreach(root, key, x)
	{
		it = fc_config_find(key);
		if (!it)
			return api_fail(err, -EINVAL, "unknown field `%s`", key);
		if (json_is_null(x) && !it->required)
			continue;
		if (it->array && !json_is_array(x))
			return api_fail(err, -EINVAL, "%s: invalid type: %s, expected an array",
					key, fc_json_type(x));
		if (!it->fields && (!it->array || json_array_size(x)))
			return api_fail(err, -EOPNOTSUPP, "petrel does not support `%s` (yet)",
					key);
		ret = it->fields ? fc_config_item_run(NULL, it, x, err) : 0;
		if (ret)
			return ret;
	}
	for (it = fc_config_items; it->key; it++)
		if (it->required && !fc_get(root, it->key))
			return api_fail(err, -EINVAL, "missing field `%s`", it->key);
	return 0;
}

int api_fc_config_load(struct api_vmm *v, const char *json, size_t len, struct api_err *err)
{
	const struct fc_config_item *it;
	json_error_t jerr;
	json_t *root, *x;
	int ret;

	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return api_fail(err, -EINVAL, "line %d column %d: %s", jerr.line, jerr.column,
				jerr.text);
	ret = fc_config_check(root, err);
	for (it = fc_config_items; !ret && it->key; it++) {
		x = fc_get(root, it->key);
		if (x && it->apply)
			ret = fc_config_item_run(v, it, x, err);
	}
	json_decref(root);
	return ret;
}
