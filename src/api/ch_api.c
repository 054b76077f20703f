// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cloud Hypervisor's REST API (/api/v1/...) on the controller. The routes,
 * the methods each accepts, the status codes and the error bodies (a JSON
 * array of messages, the outermost first) follow Cloud Hypervisor's HTTP
 * front-end; a VmConfig becomes the controller's calls, and whatever of it
 * petrel cannot honour is refused with a message saying so, never ignored.
 */
#include "api/ch_api.h"

#include "virtio/virtio_net.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define CH_ROOT "/api/v1/"
#define CH_DEFAULT_MEM_MIB 512 /* Cloud Hypervisor's DEFAULT_MEMORY_MB */
#define CH_DEFAULT_PHYS_BITS 46
#define CH_DISK_QUEUE_SIZE 128 /* its default; petrel offers VIRTIO_BLK_QUEUE_SIZE */
#define CH_NET_QUEUES 2	       /* one receive and one transmit queue */
#define CH_DEBUG_CONSOLE_PORT 0xe9
#define MIB (1ULL << 20)

/* ---- responses ---- */

/* A JSON string of @s; text cut inside a UTF-8 sequence loses the cut sequence. */
/* The state as Cloud Hypervisor sees it: no VM until one is created or booted. */
static enum api_vm_state ch_state(struct api_vmm *v)
{
	return api_vmm_is_created(v) ? api_vmm_state(v) : API_VM_NONE;
}

static json_t *ch_jstr(const char *s)
{
	json_t *j = json_string(s ? s : "");
	char buf[API_ERR_MAX];
	size_t n;

	if (j)
		return j;
	snprintf(buf, sizeof(buf), "%s", s);
	n = strlen(buf);
	while (n && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
		n--;
	if (n && (unsigned char)buf[n - 1] >= 0xc0)
		n--;
	j = json_stringn(buf, n);
	return j ? j : json_string("(a message that is not UTF-8)");
}

/* Take @j (may be NULL) as the body of a @status response. */
static void ch_reply_json(struct api_response *rs, unsigned int status, json_t *j)
{
	api_response_set(rs, status, j ? json_dumps(j, JSON_COMPACT) : NULL);
	json_decref(j);
}

/* Cloud Hypervisor's error body: the chain of @n messages, outermost first. */
static void ch_error(struct api_response *rs, unsigned int status, int n, ...)
{
	json_t *a = json_array();
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		json_array_append_new(a, ch_jstr(va_arg(ap, const char *)));
	va_end(ap);
	ch_reply_json(rs, status, a);
}

/* An error of the VMM's API: "Error from API", what failed, why. */
static void ch_api_error(struct api_response *rs, unsigned int status, const char *what,
			 const char *why)
{
	ch_error(rs, status, 3, "Error from API", what, why);
}

/* 204 on success; else the controller's reason (404 when the VM is not created). */
static void ch_done(struct api_response *rs, int ret, const char *what, const struct api_err *err)
{
	if (!ret)
		api_response_set(rs, 204, NULL);
	else
		ch_api_error(rs, ret == -ENOENT ? 404 : 500, what, err->msg);
}

static bool ch_booted(enum api_vm_state s)
{
	return s == API_VM_RUNNING || s == API_VM_PAUSED;
}

/* ---- parsing a VmConfig ---- */

/* Why a VmConfig is refused. */
struct ch_perr {
	bool serde; /* malformed (Cloud Hypervisor's deserializer refuses it too) */
	unsigned int status;
	char msg[API_ERR_MAX];
};

__attribute__((format(printf, 3, 4))) static int cfg_err(struct ch_perr *e, unsigned int status,
							 const char *fmt, ...)
{
	va_list ap;

	e->serde = false;
	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int type_err(struct ch_perr *e, const char *where, const char *key, const char *want)
{
	cfg_err(e, 400, "invalid type: %s%s%s: expected %s", where, *where ? "." : "", key, want);
	e->serde = true;
	return -1;
}

static int missing_err(struct ch_perr *e, const char *where, const char *key)
{
	cfg_err(e, 400, "%s: missing field `%s`", where, key);
	e->serde = true;
	return -1;
}

/* @key of @where has a value petrel does not support. */
static int unsupported(struct ch_perr *e, const char *where, const char *key, const json_t *val)
{
	char *text = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);

	cfg_err(e, 400, "petrel does not support %s%s%s = %.80s", where, *where ? "." : "", key,
		text ? text : "?");
	free(text);
	return -1;
}

/* A bool field with a default: absent gives @def (null is a type error, as serde has it). */
static int get_bool(json_t *o, const char *where, const char *key, bool def, bool *out,
		    struct ch_perr *e)
{
	json_t *m = json_object_get(o, key);

	*out = def;
	if (!m)
		return 0;
	if (!json_is_boolean(m))
		return type_err(e, where, key, "a boolean");
	*out = json_is_true(m);
	return 0;
}

/* An unsigned field up to @max; absent: *out untouched, or an error when @required. */
static int get_uint(json_t *o, const char *where, const char *key, bool required, uint64_t max,
		    uint64_t *out, struct ch_perr *e)
{
	json_t *m = json_object_get(o, key);

	if (!m)
		return required ? missing_err(e, where, key) : 0;
	if (!json_is_integer(m) || json_integer_value(m) < 0 ||
	    (uint64_t)json_integer_value(m) > max)
		return type_err(e, where, key, "an unsigned integer");
	*out = (uint64_t)json_integer_value(m);
	return 0;
}

/* An Option<String>: absent or null gives NULL (the decoder refuses \u0000). */
static int get_str(json_t *o, const char *where, const char *key, const char **out,
		   struct ch_perr *e)
{
	json_t *m = json_object_get(o, key);

	*out = NULL;
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_string(m))
		return type_err(e, where, key, "a string");
	*out = json_string_value(m);
	return 0;
}

/* An optional object: absent or null gives NULL. */
static int get_obj(json_t *o, const char *where, const char *key, json_t **out, struct ch_perr *e)
{
	json_t *m = json_object_get(o, key);

	*out = NULL;
	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m))
		return type_err(e, where, key, "an object");
	*out = m;
	return 0;
}

/* Fields petrel accepts only at Cloud Hypervisor's default (absent is the default). */
enum ch_fx { FX_NULL, FX_BOOL, FX_UINT, FX_ENUM };
struct ch_fixed {
	const char *key;
	enum ch_fx type;
	unsigned long long num; /* FX_BOOL, FX_UINT */
	const char *str;	/* FX_ENUM */
};
#define FX_N(k)                                                                                    \
	{                                                                                          \
		k, FX_NULL, 0, NULL                                                                \
	}
#define FX_B(k, b)                                                                                 \
	{                                                                                          \
		k, FX_BOOL, b, NULL                                                                \
	}
#define FX_U(k, n)                                                                                 \
	{                                                                                          \
		k, FX_UINT, n, NULL                                                                \
	}
#define FX_E(k, s)                                                                                 \
	{                                                                                          \
		k, FX_ENUM, 0, s                                                                   \
	}
#define FX_COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* null, or for a list an empty one (no such devices) */
static bool fx_is_none(const json_t *m)
{
	return json_is_null(m) || (json_is_array(m) && !json_array_size(m));
}

static int check_fixed_one(json_t *m, const char *where, const struct ch_fixed *f,
			   struct ch_perr *e)
{
	switch (f->type) {
	case FX_NULL:
		if (fx_is_none(m))
			return 0;
		break;
	case FX_BOOL:
		if (!json_is_boolean(m))
			return type_err(e, where, f->key, "a boolean");
		if ((unsigned long long)json_is_true(m) == f->num)
			return 0;
		break;
	case FX_UINT:
		if (!json_is_integer(m) || json_integer_value(m) < 0)
			return type_err(e, where, f->key, "an unsigned integer");
		if ((unsigned long long)json_integer_value(m) == f->num)
			return 0;
		break;
	case FX_ENUM:
		if (!json_is_string(m))
			return type_err(e, where, f->key, "a string");
		if (!strcmp(json_string_value(m), f->str))
			return 0;
		break;
	}
	return unsupported(e, where, f->key, m);
}

static int check_fixed(json_t *o, const char *where, const struct ch_fixed *t, size_t n,
		       struct ch_perr *e)
{
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_object_get(o, t[i].key);

		if (m && check_fixed_one(m, where, &t[i], e))
			return -1;
	}
	return 0;
}

/* PciDeviceCommonConfig, flattened into each device: id is read by the caller. */
static int check_pci_common(json_t *o, const char *where, struct ch_perr *e)
{
	static const struct ch_fixed fixed[] = {FX_B("iommu", false), FX_U("pci_segment", 0),
						FX_N("pci_device_id")};

	return check_fixed(o, where, fixed, FX_COUNT(fixed), e);
}

/* What a VmConfig asks of the controller. Strings point into the JSON document. */
struct ch_config {
	struct api_machine_update m;
	const char *kernel, *initramfs, *cmdline;
	struct api_drive drives[VM_MAX_DISKS];
	bool drive_named[VM_MAX_DISKS];
	unsigned int nr_drives;
	struct api_net nets[VM_MAX_NETS];
	bool net_named[VM_MAX_NETS];
	unsigned int nr_nets;
	bool rng;
	bool has_vsock;
	struct api_vsock vsock;
	struct virtio_balloon_opts balloon;
	enum api_serial serial;
	const char *serial_path;
	bool hvc;
};

static int parse_cpus(json_t *root, struct ch_config *c, struct ch_perr *e)
{
	static const struct ch_fixed fixed[] = {FX_N("topology"),
						FX_B("kvm_hyperv", false),
						FX_U("max_phys_bits", CH_DEFAULT_PHYS_BITS),
						FX_N("affinity"),
						FX_B("nested", true),
						FX_E("core_scheduling", "Vm"),
						FX_E("profile", "Host")};
	static const struct ch_fixed features[] = {FX_B("amx", false)};
	uint64_t boot = 1, max = 1;
	json_t *o, *f;

	if (get_obj(root, "", "cpus", &o, e))
		return -1;
	if (o && (get_uint(o, "cpus", "boot_vcpus", true, UINT32_MAX, &boot, e) ||
		  get_uint(o, "cpus", "max_vcpus", true, UINT32_MAX, &max, e) ||
		  check_fixed(o, "cpus", fixed, FX_COUNT(fixed), e) ||
		  get_obj(o, "cpus", "features", &f, e) ||
		  (f && check_fixed(f, "cpus.features", features, FX_COUNT(features), e))))
		return -1;
	if (max != boot)
		return cfg_err(e, 400,
			       "petrel has no vCPU hotplug: cpus.max_vcpus (%llu) must equal "
			       "cpus.boot_vcpus (%llu)",
			       (unsigned long long)max, (unsigned long long)boot);
	c->m.has_cpus = true;
	c->m.cpus = (unsigned int)boot;
	return 0;
}

static int parse_memory(json_t *root, struct ch_config *c, struct ch_perr *e)
{
	static const struct ch_fixed fixed[] = {
	    FX_B("mergeable", false), FX_E("hotplug_method", "Acpi"), FX_N("hotplug_size"),
	    FX_N("hotplugged_size"),  FX_B("hugepages", false),	      FX_N("hugepage_size"),
	    FX_B("prefault", false),  FX_B("reserve", false),	      FX_N("zones"),
	    FX_B("thp", true)};
	uint64_t size = CH_DEFAULT_MEM_MIB * MIB;
	json_t *o;

	if (get_obj(root, "", "memory", &o, e))
		return -1;
	if (o && (get_uint(o, "memory", "size", true, UINT64_MAX, &size, e) ||
		  get_bool(o, "memory", "shared", false, &c->m.mem_shared, e) ||
		  check_fixed(o, "memory", fixed, FX_COUNT(fixed), e)))
		return -1;
	/* shared: RAM in a memfd, which a local migration hands over */
	c->m.has_mem_shared = true;
	if (size % MIB)
		return cfg_err(
		    e, 400,
		    "petrel's memory is a whole number of MiB: memory.size %llu is not a "
		    "multiple of 1048576",
		    (unsigned long long)size);
	c->m.has_mem = true;
	c->m.mem_mib = size / MIB;
	return 0;
}

static int parse_payload(json_t *root, struct ch_config *c, struct ch_perr *e)
{
	static const struct ch_fixed fixed[] = {FX_N("igvm"), FX_N("host_data"),
						FX_N("fw_cfg_config")};
	const char *firmware;
	json_t *o;

	if (get_obj(root, "", "payload", &o, e))
		return -1;
	if (!o)
		return cfg_err(e, 400, "petrel boots a Linux kernel: payload.kernel is required");
	if (get_str(o, "payload", "firmware", &firmware, e) ||
	    get_str(o, "payload", "kernel", &c->kernel, e) ||
	    get_str(o, "payload", "initramfs", &c->initramfs, e) ||
	    get_str(o, "payload", "cmdline", &c->cmdline, e) ||
	    check_fixed(o, "payload", fixed, FX_COUNT(fixed), e))
		return -1;
	if (firmware)
		return cfg_err(e, 400,
			       "petrel does not boot firmware (payload.firmware): give "
			       "payload.kernel");
	if (!c->kernel)
		return cfg_err(e, 400, "petrel boots a Linux kernel: payload.kernel is required");
	return 0;
}

/* A device's id: NULL when not given (a default is chosen later). */
static int parse_id(json_t *o, const char *where, char id[API_ID_MAX], bool *named,
		    struct ch_perr *e)
{
	const char *s;

	if (get_str(o, where, "id", &s, e))
		return -1;
	*named = s != NULL;
	if (!s)
		return 0;
	if (strlen(s) >= API_ID_MAX)
		return cfg_err(e, 400, "%s: id is longer than %u characters", where,
			       API_ID_MAX - 1);
	snprintf(id, API_ID_MAX, "%s", s);
	return 0;
}

static int parse_disk_fixed(json_t *o, const char *where, struct ch_perr *e)
{
	static const struct ch_fixed fixed[] = {FX_U("num_queues", 1),
						FX_B("vhost_user", false),
						FX_N("vhost_socket"),
						FX_N("rate_limit_group"),
						FX_N("rate_limiter_config"),
						FX_N("queue_affinity"),
						FX_B("backing_files", false),
						FX_B("sparse", true),
						FX_E("lock_granularity", "ByteRange")};
	uint64_t qsize = CH_DISK_QUEUE_SIZE;
	const char *type;
	bool ignored;
	json_t *m;

	/* disable_io_uring and disable_aio are Cloud Hypervisor's test knobs */
	if (check_fixed(o, where, fixed, FX_COUNT(fixed), e) || check_pci_common(o, where, e) ||
	    get_bool(o, where, "disable_io_uring", false, &ignored, e) ||
	    get_bool(o, where, "disable_aio", false, &ignored, e) ||
	    get_uint(o, where, "queue_size", false, UINT16_MAX, &qsize, e) ||
	    get_str(o, where, "image_type", &type, e))
		return -1;
	if (qsize != CH_DISK_QUEUE_SIZE && qsize != VIRTIO_BLK_QUEUE_SIZE)
		return unsupported(e, where, "queue_size", json_object_get(o, "queue_size"));
	m = json_object_get(o, "image_type");
	if (type && strcmp(type, "Raw") && strcmp(type, "Unknown"))
		return unsupported(e, where, "image_type", m);
	if (m && !type)
		return type_err(e, where, "image_type", "a string");
	return 0;
}

static int parse_disk(json_t *o, unsigned int i, struct ch_config *c, struct ch_perr *e)
{
	struct api_drive *d = &c->drives[i];
	const char *path, *serial;
	char where[32];

	snprintf(where, sizeof(where), "disks[%u]", i);
	if (!json_is_object(o))
		return type_err(e, "", where, "an object");
	if (parse_disk_fixed(o, where, e) || parse_id(o, where, d->id, &c->drive_named[i], e) ||
	    get_str(o, where, "path", &path, e) || get_str(o, where, "serial", &serial, e) ||
	    get_bool(o, where, "readonly", false, &d->readonly, e) ||
	    get_bool(o, where, "direct", false, &d->direct, e))
		return -1;
	if (!path)
		return cfg_err(e, 400,
			       "%s: petrel needs path, a raw image (vhost-user disks are not "
			       "supported)",
			       where);
	/* the controller copies what it keeps and never writes through these */
	d->path = (char *)path;
	d->serial = (char *)serial;
	return 0;
}

/* "52:54:00:12:34:56", as Cloud Hypervisor's MacAddr reads it (the controller wants it unicast) */
static int parse_mac(const char *s, uint8_t mac[6])
{
	int ret = virtio_net_parse_mac(s, strlen(s), mac);

	return ret == 0 || ret == -EDOM ? 0 : -1;
}

static int parse_net_fixed(json_t *o, const char *where, struct ch_perr *e)
{
	static const struct ch_fixed fixed[] = {FX_N("host_mac"),
						FX_N("mtu"),
						FX_U("num_queues", CH_NET_QUEUES),
						FX_U("queue_size", VIRTIO_NET_QUEUE_SIZE),
						FX_B("vhost_user", false),
						FX_N("vhost_socket"),
						FX_E("vhost_mode", "Client"),
						FX_N("rate_limiter_config"),
						FX_B("offload_tso", true),
						FX_B("offload_ufo", true),
						FX_B("offload_csum", true)};
	json_t *ip = json_object_get(o, "ip"), *mask = json_object_get(o, "mask");
	json_t *fds = json_object_get(o, "fds");

	if ((ip && !json_is_null(ip)) || (mask && !json_is_null(mask)))
		return cfg_err(e, 400,
			       "%s: petrel does not set the TAP's host address (ip, mask): "
			       "configure the TAP on the host and leave them out",
			       where);
	/* FDs in the body are never valid: Cloud Hypervisor drops them too */
	if (fds && !json_is_null(fds) && !json_is_array(fds))
		return type_err(e, where, "fds", "a list of integers");
	return check_fixed(o, where, fixed, FX_COUNT(fixed), e) || check_pci_common(o, where, e);
}

static int parse_net(json_t *o, unsigned int i, struct ch_config *c, struct ch_perr *e)
{
	struct api_net *n = &c->nets[i];
	const char *tap, *mac;
	char where[32];

	snprintf(where, sizeof(where), "net[%u]", i);
	if (!json_is_object(o))
		return type_err(e, "", where, "an object");
	if (parse_net_fixed(o, where, e) || parse_id(o, where, n->id, &c->net_named[i], e) ||
	    get_str(o, where, "tap", &tap, e) || get_str(o, where, "mac", &mac, e))
		return -1;
	if (!tap)
		return cfg_err(e, 400,
			       "%s: petrel needs tap, the name of an existing TAP (it does not "
			       "create one)",
			       where);
	if (!*tap || strlen(tap) >= sizeof(n->tap))
		return cfg_err(e, 400, "%s: tap %s: a TAP's name has 1 to %zu characters", where,
			       tap, sizeof(n->tap) - 1);
	snprintf(n->tap, sizeof(n->tap), "%s", tap);
	if (mac && parse_mac(mac, n->mac))
		return type_err(e, where, "mac", "a MAC address such as 52:54:00:12:34:56");
	n->has_mac = mac != NULL;
	return 0;
}

/* A list of devices: null or absent is none. */
static int parse_list(json_t *root, const char *key, unsigned int max, unsigned int *nr,
		      int (*one)(json_t *, unsigned int, struct ch_config *, struct ch_perr *),
		      struct ch_config *c, struct ch_perr *e)
{
	json_t *a = json_object_get(root, key);

	*nr = 0;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return type_err(e, "", key, "a list");
	if (json_array_size(a) > max)
		return cfg_err(e, 400, "petrel supports at most %u %s", max, key);
	for (unsigned int i = 0; i < json_array_size(a); i++) {
		if (one(json_array_get(a, i), i, c, e))
			return -1;
		(*nr)++;
	}
	return 0;
}

/* Cloud Hypervisor always has a virtio-rng; petrel's is fed by getrandom(). */
static int parse_rng(json_t *root, struct ch_config *c, struct ch_perr *e)
{
	const char *src, *id;
	json_t *o;

	c->rng = true;
	if (get_obj(root, "", "rng", &o, e))
		return -1;
	if (!o)
		return 0;
	if (get_str(o, "rng", "src", &src, e) || get_str(o, "rng", "id", &id, e) ||
	    check_pci_common(o, "rng", e))
		return -1;
	if (!src)
		return missing_err(e, "rng", "src");
	if (strcmp(src, "/dev/urandom") && strcmp(src, "/dev/random"))
		return cfg_err(e, 400,
			       "petrel's virtio-rng is fed by getrandom(): rng.src must be "
			       "/dev/urandom, not %s",
			       src);
	return 0;
}

/* VsockConfig: cid, socket (the hybrid vsock's UNIX socket), id, iommu off, segment 0. */
static int parse_vsock(json_t *root, struct ch_config *c, struct ch_perr *e)
{
	const char *sock, *id;
	uint64_t cid = 0;
	json_t *o;

	if (get_obj(root, "", "vsock", &o, e))
		return -1;
	if (!o)
		return 0;
	if (get_uint(o, "vsock", "cid", true, UINT32_MAX, &cid, e) ||
	    get_str(o, "vsock", "socket", &sock, e) || get_str(o, "vsock", "id", &id, e) ||
	    check_pci_common(o, "vsock", e))
		return -1;
	if (!sock)
		return missing_err(e, "vsock", "socket");
	if (cid < VSOCK_MIN_GUEST_CID || cid > VSOCK_MAX_GUEST_CID)
		return cfg_err(e, 400, "vsock.cid %llu: a guest's cid is 3 to 4294967294",
			       (unsigned long long)cid);
	if (!*sock || strlen(sock) > VSOCK_UDS_PATH_MAX)
		return cfg_err(e, 400, "vsock.socket must have 1 to %d bytes", VSOCK_UDS_PATH_MAX);
	if (id && strlen(id) >= API_ID_MAX)
		return cfg_err(e, 400, "vsock.id is longer than %d bytes", API_ID_MAX - 1);
	c->has_vsock = true;
	c->vsock.cid = cid;
	snprintf(c->vsock.uds, sizeof(c->vsock.uds), "%s", sock);
	snprintf(c->vsock.id, sizeof(c->vsock.id), "%s", id ? id : "_vsock0");
	return 0;
}

/* BalloonConfig: size in bytes (petrel's target is in whole MiB: rounded down). */
static int parse_balloon(json_t *root, struct ch_config *c, struct ch_perr *e)
{
	uint64_t size = 0;
	json_t *o;

	if (get_obj(root, "", "balloon", &o, e))
		return -1;
	if (!o)
		return 0;
	if (get_uint(o, "balloon", "size", true, (uint64_t)UINT32_MAX << 12, &size, e) ||
	    get_bool(o, "balloon", "deflate_on_oom", false, &c->balloon.deflate_on_oom, e) ||
	    get_bool(o, "balloon", "free_page_reporting", false, &c->balloon.free_page_reporting,
		     e))
		return -1;
	c->balloon.on = true;
	c->balloon.target_mib = size >> 20;
	return 0;
}

enum ch_mode { CH_OFF, CH_PTY, CH_TTY, CH_FILE, CH_SOCKET, CH_NULL };
static const char *const ch_mode_names[] = {"Off", "Pty", "Tty", "File", "Socket", "Null"};

/* A serial or console object: mode (required), file, socket. */
static int parse_mode(json_t *root, const char *key, enum ch_mode def, enum ch_mode *mode,
		      const char **file, struct ch_perr *e)
{
	const char *name, *socket;
	json_t *o;
	int i;

	*mode = def;
	*file = NULL;
	if (get_obj(root, "", key, &o, e))
		return -1;
	if (!o)
		return json_object_get(root, key) ? type_err(e, "", key, "an object") : 0;
	if (get_str(o, key, "mode", &name, e) || get_str(o, key, "file", file, e) ||
	    get_str(o, key, "socket", &socket, e))
		return -1;
	if (!name)
		return missing_err(e, key, "mode");
	for (i = 0; i <= CH_NULL && strcmp(name, ch_mode_names[i]); i++)
		;
	if (i > CH_NULL)
		return type_err(e, key, "mode", "one of Off, Pty, Tty, File, Socket, Null");
	*mode = (enum ch_mode)i;
	if (*mode == CH_FILE && !*file)
		return cfg_err(e, 400, "Path missing when using file console mode");
	if (*mode == CH_PTY || *mode == CH_SOCKET)
		return cfg_err(e, 400,
			       "petrel does not support %s.mode %s (use Tty, File, Null or Off)",
			       key, name);
	return 0;
}

/*
 * petrel sends its one console's output to one place: the serial port, or a
 * virtio console (COM1's output then dropped) when console is Tty or File.
 */
static int parse_consoles(json_t *root, struct ch_config *c, struct ch_perr *e)
{
	const char *sfile, *cfile;
	enum ch_mode s, k;
	json_t *o;

	if (parse_mode(root, "serial", CH_NULL, &s, &sfile, e) ||
	    parse_mode(root, "console", CH_TTY, &k, &cfile, e))
		return -1;
	o = json_object_get(root, "console");
	if (o && json_is_object(o) && check_pci_common(o, "console", e))
		return -1;
	c->hvc = k == CH_TTY || k == CH_FILE;
	if (c->hvc && s != CH_OFF && s != CH_NULL)
		return cfg_err(
		    e, 400,
		    "petrel shows one console: with console.mode %s, serial.mode must be "
		    "Null or Off (or set console.mode to Off)",
		    ch_mode_names[k]);
	if (c->hvc) {
		c->serial = k == CH_TTY ? API_SERIAL_STDIO : API_SERIAL_FILE;
		c->serial_path = cfile;
	} else {
		c->serial = s == CH_TTY	   ? API_SERIAL_STDIO
			    : s == CH_FILE ? API_SERIAL_FILE
					   : API_SERIAL_OFF;
		c->serial_path = sfile;
	}
	return 0;
}

static int parse_debug_console(json_t *root, struct ch_perr *e)
{
	const char *file, *mode;
	uint64_t port = 0;
	json_t *o;

	if (get_obj(root, "", "debug_console", &o, e))
		return -1;
	if (!o)
		return json_object_get(root, "debug_console")
			   ? type_err(e, "", "debug_console", "an object")
			   : 0;
	if (get_str(o, "debug_console", "mode", &mode, e) ||
	    get_str(o, "debug_console", "file", &file, e) ||
	    (!json_is_null(json_object_get(o, "iobase")) &&
	     get_uint(o, "debug_console", "iobase", false, UINT16_MAX, &port, e)))
		return -1;
	if (!mode)
		return missing_err(e, "debug_console", "mode");
	if (strcmp(mode, "Off"))
		return unsupported(e, "debug_console", "mode", json_object_get(o, "mode"));
	return 0;
}

static int parse_platform(json_t *root, struct ch_perr *e)
{
	static const struct ch_fixed fixed[] = {FX_U("num_pci_segments", 1),
						FX_N("iommu_segments"),
						FX_U("iommu_address_width_bits", 64),
						FX_N("system_serial_number"),
						FX_N("serial_number"),
						FX_N("system_uuid"),
						FX_N("uuid"),
						FX_N("oem_strings"),
						FX_N("system_manufacturer"),
						FX_N("system_product_name"),
						FX_N("system_version"),
						FX_N("system_family"),
						FX_N("system_sku_number"),
						FX_N("chassis_asset_tag"),
						FX_B("tdx", false),
						FX_B("sev_snp", false),
						FX_B("iommufd", false),
						FX_N("iommufd_fd"),
						FX_B("vfio_p2p_dma", true)};
	json_t *o;

	if (get_obj(root, "", "platform", &o, e))
		return -1;
	return o ? check_fixed(o, "platform", fixed, FX_COUNT(fixed), e) : 0;
}

/* The rest of VmConfig: devices petrel does not have, at their defaults only. */
static int parse_others(json_t *root, struct ch_perr *e)
{
	static const struct ch_fixed fixed[] = {FX_N("rate_limit_groups"),
						FX_N("generic_vhost_user"),
						FX_N("fs"),
						FX_N("pmem"),
						FX_N("devices"),
						FX_N("user_devices"),
						FX_N("vdpa"),
						FX_N("pvmemcontrol"),
						FX_B("iommu", false),
						FX_N("numa"),
						FX_B("watchdog", false),
						FX_N("rtc"),
						FX_B("gdb", false),
						FX_N("pci_segments"),
						FX_N("tpm"),
						FX_B("landlock_enable", false),
						FX_N("landlock_rules"),
						FX_N("ivshmem")};
	bool pvpanic;

	/* petrel always has a pvpanic device (ACPI QEMU0001) */
	return check_fixed(root, "", fixed, FX_COUNT(fixed), e) ||
	       get_bool(root, "", "pvpanic", false, &pvpanic, e) || parse_debug_console(root, e) ||
	       parse_platform(root, e);
}

static bool id_used(const struct ch_config *c, const char *id, int skip_drive, int skip_net)
{
	for (unsigned int i = 0; i < c->nr_drives; i++)
		if ((int)i != skip_drive && c->drive_named[i] && !strcmp(c->drives[i].id, id))
			return true;
	for (unsigned int i = 0; i < c->nr_nets; i++)
		if ((int)i != skip_net && c->net_named[i] && !strcmp(c->nets[i].id, id))
			return true;
	return false;
}

/* Cloud Hypervisor's identifier rules: unique, not starting with "__". */
static int check_id_rule(const struct ch_config *c, const char *id, int drive, int net,
			 struct ch_perr *e)
{
	if (!strncmp(id, "__", 2))
		return cfg_err(e, 400, "Identifier %s is not valid", id);
	if (id_used(c, id, drive, net))
		return cfg_err(e, 409, "Identifier %s is not unique", id);
	return 0;
}

/* One counter over every device without an id, disks first: _disk0, _net1... */
static void default_id(struct ch_config *c, const char *prefix, unsigned int *cnt, char *id,
		       bool *named)
{
	do
		snprintf(id, API_ID_MAX, "%s%u", prefix, (*cnt)++);
	while (id_used(c, id, -1, -1));
	*named = true;
}

static int name_devices(struct ch_config *c, struct ch_perr *e)
{
	unsigned int i, j, cnt = 0;

	for (i = 0; i < c->nr_drives; i++) {
		if (c->drive_named[i] && check_id_rule(c, c->drives[i].id, (int)i, -1, e))
			return -1;
		for (j = 0; j < i; j++)
			if (!strcmp(c->drives[i].path, c->drives[j].path))
				return cfg_err(e, 409, "Duplicated device path: %s",
					       c->drives[i].path);
	}
	for (i = 0; i < c->nr_nets; i++)
		if (c->net_named[i] && check_id_rule(c, c->nets[i].id, -1, (int)i, e))
			return -1;
	for (i = 0; i < c->nr_drives; i++)
		if (!c->drive_named[i])
			default_id(c, "_disk", &cnt, c->drives[i].id, &c->drive_named[i]);
	for (i = 0; i < c->nr_nets; i++)
		if (!c->net_named[i])
			default_id(c, "_net", &cnt, c->nets[i].id, &c->net_named[i]);
	return 0;
}

static int parse_config(json_t *root, struct ch_config *c, struct ch_perr *e)
{
	if (!json_is_object(root))
		return type_err(e, "", "VmConfig", "an object");
	return parse_cpus(root, c, e) || parse_memory(root, c, e) || parse_payload(root, c, e) ||
	       parse_list(root, "disks", VM_MAX_DISKS, &c->nr_drives, parse_disk, c, e) ||
	       parse_list(root, "net", VM_MAX_NETS, &c->nr_nets, parse_net, c, e) ||
	       parse_rng(root, c, e) || parse_vsock(root, c, e) || parse_balloon(root, c, e) ||
	       parse_consoles(root, c, e) || parse_others(root, e) || name_devices(c, e);
}

/* ---- vm.create ---- */

static int ch_apply(struct api_vmm *v, const struct ch_config *c, struct api_err *err)
{
	int ret = api_vmm_set_machine(v, &c->m, true, err);
	unsigned int i;

	if (!ret)
		ret = api_vmm_set_boot(v, c->kernel, c->initramfs, c->cmdline, err);
	for (i = 0; !ret && i < c->nr_drives; i++)
		ret = api_vmm_put_drive(v, &c->drives[i], err);
	for (i = 0; !ret && i < c->nr_nets; i++)
		ret = api_vmm_put_net(v, &c->nets[i], err);
	if (!ret)
		ret = api_vmm_set_rng(v, c->rng, err);
	if (!ret && c->has_vsock)
		ret = api_vmm_set_vsock(v, &c->vsock, err);
	if (!ret && c->balloon.on)
		ret = api_vmm_set_balloon(v, &c->balloon, err);
	if (!ret)
		ret = api_vmm_set_serial(v, c->serial, c->serial_path, err);
	if (!ret)
		ret = api_vmm_set_console_hvc(v, c->hvc, err);
	return ret;
}

/* The VM is created and configured, or left not created. */
static void ch_create_apply(struct api_vmm *v, const struct ch_config *c, struct api_response *rs)
{
	static const char what[] = "The VM could not be created";
	struct api_err err = {{0}};
	int ret = api_vmm_create(v, &err);

	if (ret) {
		ch_api_error(rs, 500, what, "VM is already created");
		return;
	}
	ret = ch_apply(v, c, &err);
	if (ret) {
		struct api_err ignored;

		api_vmm_delete(v, &ignored);
		ch_api_error(rs, ret == -EEXIST ? 409 : 400, what, err.msg);
		return;
	}
	api_response_set(rs, 204, NULL);
}

static void ch_create(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	struct ch_config *c;
	struct ch_perr e = {0};
	json_error_t jerr;
	json_t *root;
	char msg[API_ERR_MAX];

	if (!rq->body_len) {
		api_response_set(rs, 400, NULL); /* Cloud Hypervisor: no body, no message */
		return;
	}
	root = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(msg, sizeof(msg), "%s at line %d column %d", jerr.text, jerr.line,
			 jerr.column);
		ch_error(rs, 400, 2, "Failed to deserialize JSON", msg);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		ch_error(rs, 500, 1, "Internal Server Error");
	} else if (parse_config(root, c, &e) && e.serde) {
		ch_error(rs, 400, 2, "Failed to deserialize JSON", e.msg);
	} else if (ch_state(v) != API_VM_NONE) {
		/* as Cloud Hypervisor: the state is checked before the configuration */
		ch_api_error(rs, 500, "The VM could not be created", "VM is already created");
	} else if (e.status) {
		ch_api_error(rs, e.status, "The VM could not be created", e.msg);
	} else {
		ch_create_apply(v, c, rs);
	}
	free(c);
	json_decref(root);
}

/* ---- vm.info ---- */

static void set_opt_str(json_t *o, const char *key, const char *s)
{
	if (s)
		json_object_set_new(o, key, ch_jstr(s));
}

static json_t *info_cpus(const struct api_vm_spec *s)
{
	return json_pack("{s:i,s:i,s:b,s:i,s:{s:b},s:b,s:s,s:s}", "boot_vcpus", (int)s->cpus,
			 "max_vcpus", (int)s->cpus, "kvm_hyperv", 0, "max_phys_bits",
			 CH_DEFAULT_PHYS_BITS, "features", "amx", 0, "nested", 1, "core_scheduling",
			 "Vm", "profile", "Host");
}

static json_t *info_memory(const struct api_vm_spec *s)
{
	return json_pack("{s:I,s:b,s:s,s:b,s:b,s:b,s:b,s:b}", "size",
			 (json_int_t)(s->mem_mib * MIB), "mergeable", 0, "hotplug_method", "Acpi",
			 "shared", (int)s->mem_shared, "hugepages", 0, "prefault", 0, "reserve", 0,
			 "thp", 1);
}

static json_t *info_payload(const struct api_vm_spec *s)
{
	json_t *p = json_object();

	set_opt_str(p, "kernel", s->kernel);
	set_opt_str(p, "cmdline", s->cmdline);
	set_opt_str(p, "initramfs", s->initramfs);
	return p;
}

static json_t *info_disk(const struct api_drive *d)
{
	json_t *o =
	    json_pack("{s:o,s:b,s:b,s:i,s:i,s:b,s:b,s:b,s:i,s:b,s:b,s:s,s:s}", "id", ch_jstr(d->id),
		      "readonly", d->readonly, "direct", d->direct, "num_queues", 1, "queue_size",
		      VIRTIO_BLK_QUEUE_SIZE, "vhost_user", 0, "disable_io_uring", 0, "disable_aio",
		      0, "pci_segment", 0, "backing_files", 0, "sparse", 1, "image_type", "Raw",
		      "lock_granularity", "ByteRange");

	set_opt_str(o, "path", d->path);
	set_opt_str(o, "serial", d->serial);
	return o;
}

static json_t *info_net(const struct api_net *n)
{
	uint8_t mac[VIRTIO_NET_MAC_LEN];
	char text[18];

	if (n->has_mac)
		memcpy(mac, n->mac, sizeof(mac));
	else
		virtio_net_default_mac(n->tap, mac);
	snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return json_pack("{s:o,s:o,s:s,s:i,s:i,s:b,s:s,s:b,s:b,s:b,s:i}", "id", ch_jstr(n->id),
			 "tap", ch_jstr(n->tap), "mac", text, "num_queues", CH_NET_QUEUES,
			 "queue_size", VIRTIO_NET_QUEUE_SIZE, "vhost_user", 0, "vhost_mode",
			 "Client", "offload_tso", 1, "offload_ufo", 1, "offload_csum", 1,
			 "pci_segment", 0);
}

static json_t *info_mode(enum ch_mode mode, const char *file)
{
	json_t *o = json_pack("{s:s}", "mode", ch_mode_names[mode]);

	if (mode == CH_FILE)
		set_opt_str(o, "file", file);
	return o;
}

/* serial and console back in Cloud Hypervisor's terms */
static void info_consoles(json_t *cfg, const struct api_vm_spec *s)
{
	enum ch_mode out = s->serial == API_SERIAL_STDIO  ? CH_TTY
			   : s->serial == API_SERIAL_FILE ? CH_FILE
							  : CH_NULL;

	json_object_set_new(cfg, "serial",
			    info_mode(s->console_hvc ? CH_NULL : out, s->serial_path));
	json_object_set_new(cfg, "console",
			    info_mode(s->console_hvc ? out : CH_OFF, s->serial_path));
	json_object_set_new(cfg, "debug_console",
			    json_pack("{s:s,s:i}", "mode", "Off", "iobase", CH_DEBUG_CONSOLE_PORT));
}

static json_t *info_config(const struct api_vm_spec *s)
{
	json_t *cfg = json_object(), *disks = json_array(), *nets = json_array();

	json_object_set_new(cfg, "cpus", info_cpus(s));
	json_object_set_new(cfg, "memory", info_memory(s));
	json_object_set_new(cfg, "payload", info_payload(s));
	for (unsigned int i = 0; i < s->nr_drives; i++)
		json_array_append_new(disks, info_disk(&s->drives[i]));
	for (unsigned int i = 0; i < s->nr_nets; i++)
		json_array_append_new(nets, info_net(&s->nets[i]));
	if (s->nr_drives)
		json_object_set(cfg, "disks", disks);
	if (s->nr_nets)
		json_object_set(cfg, "net", nets);
	json_decref(disks);
	json_decref(nets);
	if (s->rng)
		json_object_set_new(cfg, "rng", json_pack("{s:s}", "src", "/dev/urandom"));
	if (s->has_vsock)
		json_object_set_new(cfg, "vsock",
				    json_pack("{s:I, s:s, s:b, s:s, s:i}", "cid",
					      (json_int_t)s->vsock.cid, "socket", s->vsock.uds,
					      "iommu", 0, "id", s->vsock.id, "pci_segment", 0));
	if (s->balloon.on)
		json_object_set_new(
		    cfg, "balloon",
		    json_pack("{s:I,s:b,s:b}", "size", (json_int_t)(s->balloon.target_mib << 20),
			      "deflate_on_oom", s->balloon.deflate_on_oom, "free_page_reporting",
			      s->balloon.free_page_reporting));
	info_consoles(cfg, s);
	json_object_set_new(cfg, "pvpanic", json_true());
	json_object_set_new(cfg, "iommu", json_false());
	json_object_set_new(cfg, "watchdog", json_false());
	json_object_set_new(cfg, "landlock_enable", json_false());
	return cfg;
}

static void ch_info(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	enum api_vm_state state = ch_state(v);
	struct api_migration_status ms;
	struct api_vm_spec s;
	json_t *info;

	(void)rq;
	if (state == API_VM_NONE) {
		ch_api_error(rs, 404, "The VM info is not available", "VM is not created");
		return;
	}
	if (api_vmm_get_spec(v, &s) < 0) {
		ch_error(rs, 500, 1, "Internal Server Error");
		return;
	}
	info = json_pack("{s:o,s:s,s:I}", "config", info_config(&s), "state",
			 api_vm_state_ch_name(state), "memory_actual_size",
			 (json_int_t)(s.mem_mib * MIB));
	/* petrel's own: where the last migration out stands */
	if (info && api_vmm_migration_status(v, &ms) == 0)
		json_object_set_new(
		    info, "migration",
		    json_pack("{s:s,s:I,s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:s?}", "phase", ms.phase,
			      "round", (json_int_t)ms.round, "ram_bytes", (json_int_t)ms.ram_bytes,
			      "memfd", ms.memfd, "bytes_sent", (json_int_t)ms.bytes_sent,
			      "bytes_remaining", (json_int_t)ms.bytes_remaining,
			      "dirty_pages_per_second", (json_int_t)ms.dirty_rate,
			      "bandwidth_bytes_per_second", (json_int_t)ms.bandwidth, "downtime_ms",
			      (json_int_t)ms.downtime_ms, "total_ms", (json_int_t)ms.total_ms,
			      "error", *ms.error ? ms.error : NULL));
	ch_reply_json(rs, 200, info);
	api_vm_spec_free(&s);
}

/* ---- vm.counters ---- */

static json_t *counters_json(const struct api_counters *c)
{
	json_t *o = json_object();

	for (unsigned int i = 0; i < c->nr_disks && i < VM_MAX_DISKS; i++)
		json_object_set_new(o, c->disks[i].id,
				    json_pack("{s:I,s:I}", "queue_kicks",
					      (json_int_t)c->disks[i].kicks, "interrupts",
					      (json_int_t)c->disks[i].interrupts));
	for (unsigned int i = 0; i < c->nr_nets && i < VM_MAX_NETS; i++)
		json_object_set_new(o, c->nets[i].id,
				    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "rx_bytes",
					      (json_int_t)c->nets[i].rx_bytes, "rx_frames",
					      (json_int_t)c->nets[i].rx_packets, "tx_bytes",
					      (json_int_t)c->nets[i].tx_bytes, "tx_frames",
					      (json_int_t)c->nets[i].tx_packets, "rx_dropped",
					      (json_int_t)c->nets[i].rx_dropped, "tx_dropped",
					      (json_int_t)c->nets[i].tx_dropped));
	if (c->has_balloon)
		json_object_set_new(
		    o, "__balloon",
		    json_pack("{s:I,s:I,s:I,s:I,s:I}", "target_pages",
			      (json_int_t)c->balloon.target_pages, "actual_pages",
			      (json_int_t)c->balloon.actual_pages, "inflated_pages",
			      (json_int_t)c->balloon.counts.inflated, "deflated_pages",
			      (json_int_t)c->balloon.counts.deflated, "reported_pages",
			      (json_int_t)c->balloon.counts.reported));
	return o;
}

static void ch_counters(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM info is not available";
	struct api_counters *c;
	struct api_err err;

	(void)rq;
	if (!ch_booted(ch_state(v))) {
		ch_api_error(rs, 500, what, "VM is not running");
		return;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		ch_error(rs, 500, 1, "Internal Server Error");
		return;
	}
	if (api_vmm_counters(v, c, &err))
		ch_api_error(rs, 500, what, err.msg);
	else
		ch_reply_json(rs, 200, counters_json(c));
	free(c);
}

/* ---- lifecycle ---- */

static void ch_boot(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM could not boot";
	enum api_vm_state s = ch_state(v);
	struct api_err err;

	(void)rq;
	if (s == API_VM_NONE)
		ch_api_error(rs, 404, what, "VM config is missing");
	else if (ch_booted(s))
		ch_api_error(rs, 500, what, "VM is already created");
	else
		ch_done(rs, api_vmm_boot(v, &err), what, &err);
}

static void ch_pause(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM could not be paused";
	enum api_vm_state s = ch_state(v);
	struct api_err err;

	(void)rq;
	if (!ch_booted(s))
		ch_api_error(rs, 500, what, "VM is not running");
	else if (s == API_VM_PAUSED)
		ch_error(rs, 500, 5, "Error from API", what, "Cannot pause VM",
			 "Failed to pause migratable component",
			 "Invalid transition: InvalidStateTransition(Paused, Paused)");
	else
		ch_done(rs, api_vmm_pause(v, &err), what, &err);
}

static void ch_resume(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM could not resume";
	enum api_vm_state s = ch_state(v);
	struct api_err err;

	(void)rq;
	if (!ch_booted(s))
		ch_api_error(rs, 500, what, "VM is not running");
	else if (s == API_VM_RUNNING)
		ch_error(rs, 500, 5, "Error from API", what, "Cannot resume VM",
			 "Failed to resume migratable component",
			 "Invalid transition: InvalidStateTransition(Running, Running)");
	else
		ch_done(rs, api_vmm_resume(v, &err), what, &err);
}

static void ch_shutdown(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM could not shutdown";
	struct api_err err;

	(void)rq;
	if (!ch_booted(ch_state(v)))
		ch_api_error(rs, 500, what, "VM is not running");
	else
		ch_done(rs, api_vmm_shutdown(v, &err), what, &err);
}

static void ch_reboot(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM could not reboot";
	struct api_err err;

	(void)rq;
	if (!ch_booted(ch_state(v)))
		ch_api_error(rs, 404, what, "VM is not created");
	else
		ch_done(rs, api_vmm_reboot(v, &err), what, &err);
}

static void ch_power_button(struct api_vmm *v, const struct api_request *rq,
			    struct api_response *rs)
{
	static const char what[] = "Error triggering power button";
	struct api_err err;

	(void)rq;
	if (!ch_booted(ch_state(v)))
		ch_api_error(rs, 500, what, "VM is not running");
	else
		ch_done(rs, api_vmm_power_button(v, &err), what, &err);
}

static void ch_delete(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	struct api_err err;

	(void)rq;
	ch_done(rs, api_vmm_delete(v, &err), "The VM could not be deleted", &err);
}

/* ---- snapshots ---- */

/*
 * A snapshot directory: file:///DIR (Cloud Hypervisor takes no other URL
 * for snapshots). petrel writes its own two files there, state and memory,
 * not Cloud Hypervisor's config.json, state.json and memory-ranges.
 */
static int ch_snapshot_dir(json_t *body, const char *key, char *state, char *mem, size_t size,
			   struct api_err *err)
{
	json_t *u = json_object_get(body, key);
	const char *url, *dir;
	struct stat st;
	int n;

	if (!json_is_object(body))
		return api_fail(err, -EBADMSG, "invalid type: expected an object");
	if (!u)
		return api_fail(err, -EBADMSG, "missing field `%s`", key);
	if (!json_is_string(u))
		return api_fail(err, -EBADMSG, "invalid type: %s: expected a string", key);
	url = json_string_value(u);
	if (strncmp(url, "file://", 7) || !url[7])
		return api_fail(err, -EINVAL, "%s %.200s: expected file:///DIR (a directory)", key,
				url);
	dir = url + 7;
	if (stat(dir, &st) < 0)
		return api_fail(err, -errno, "%s: %.200s: %s", key, dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return api_fail(err, -ENOTDIR, "%s: %.200s is not a directory", key, dir);
	n = snprintf(state, size, "%s/" API_SNAPSHOT_STATE_FILE, dir);
	if (n < 0 || (size_t)n >= size)
		return api_fail(err, -ENAMETOOLONG, "%s: the path is too long", key);
	snprintf(mem, size, "%s/" API_SNAPSHOT_MEM_FILE, dir);
	return 0;
}

/*
 * 204, or the controller's reason: 500 when the VMM failed (the machinery,
 * memory, time), 400 when the request was refused (a file, an override, a
 * state).
 */
static void ch_snapshot_done(struct api_response *rs, int ret, const char *what,
			     const struct api_err *err)
{
	bool vmm = ret == -EIO || ret == -ENOSYS || ret == -ENOMEM || ret == -ETIMEDOUT;

	if (!ret)
		api_response_set(rs, 204, NULL);
	else
		ch_api_error(rs, vmm ? 500 : 400, what, err->msg);
}

/* The body of a snapshot or restore, parsed; NULL with the answer set. */
static json_t *ch_body(const struct api_request *rq, struct api_response *rs)
{
	json_error_t jerr;
	char msg[API_ERR_MAX];
	json_t *o;

	if (!rq->body_len) {
		api_response_set(rs, 400, NULL); /* as vm.create: no body, no message */
		return NULL;
	}
	o = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		snprintf(msg, sizeof(msg), "%s at line %d column %d", jerr.text, jerr.line,
			 jerr.column);
		ch_error(rs, 400, 2, "Failed to deserialize JSON", msg);
	}
	return o;
}

/* vm.resize: only desired_balloon (bytes, rounded down to MiB); vCPUs and RAM stay. */
static void ch_resize(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM could not be resized";
	struct api_err err = {""};
	json_t *body = ch_body(rq, rs), *b;
	int ret;

	if (!body)
		return;
	b = json_object_get(body, "desired_balloon");
	if (json_object_get(body, "desired_vcpus") || json_object_get(body, "desired_ram"))
		ret = api_fail(&err, -EOPNOTSUPP,
			       "petrel resizes the balloon only (desired_balloon)");
	else if (!b || !json_is_integer(b) || json_integer_value(b) < 0)
		ret = api_fail(&err, -EINVAL, "desired_balloon: expected a size in bytes");
	else
		ret = api_vmm_balloon_target(v, (uint64_t)json_integer_value(b) >> 20, &err);
	json_decref(body);
	if (ret)
		ch_api_error(rs, 400, what, err.msg);
	else
		api_response_set(rs, 204, NULL);
}

static void ch_snapshot(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM could not be snapshotted";
	char state[PATH_MAX], mem[PATH_MAX];
	struct api_snapshot_req req = {.state_path = state, .mem_path = mem};
	enum api_vm_state s = ch_state(v);
	struct api_err err = {""};
	json_t *body = ch_body(rq, rs);
	int ret;

	if (!body)
		return;
	ret = ch_snapshot_dir(body, "destination_url", state, mem, sizeof(state), &err);
	json_decref(body);
	if (ret == -EBADMSG)
		ch_error(rs, 400, 2, "Failed to deserialize JSON", err.msg);
	else if (s == API_VM_NONE)
		ch_api_error(rs, 404, what, "VM is not created");
	else if (!ch_booted(s))
		ch_api_error(rs, 500, what, "VM is not running");
	else if (s != API_VM_PAUSED)
		ch_api_error(rs, 500, what, "VM is not paused (vm.pause first)");
	else if (ret)
		ch_api_error(rs, 400, what, err.msg);
	else
		ch_snapshot_done(rs, api_vmm_snapshot(v, &req, &err), what, &err);
}

/*
 * RestoreConfig: source_url, resume (honoured), prefault (ignored: the
 * memory file is mapped and faulted in as the guest touches it), and
 * memory_restore_mode (any: petrel's is always on demand, copy-on-write).
 * TAP file descriptors (net_fds) and NUMA zone updates are refused.
 */
static int ch_restore_opts(json_t *body, struct api_restore_req *req, struct api_err *err)
{
	static const char *const modes[] = {"Copy", "OnDemand", "CopyOnWrite"};
	json_t *x;

	x = json_object_get(body, "resume");
	if (x && !json_is_boolean(x))
		return api_fail(err, -EBADMSG, "invalid type: resume: expected a boolean");
	req->resume = json_is_true(x);
	x = json_object_get(body, "prefault");
	if (x && !json_is_boolean(x))
		return api_fail(err, -EBADMSG, "invalid type: prefault: expected a boolean");
	x = json_object_get(body, "memory_restore_mode");
	if (x && !json_is_null(x)) {
		size_t i;

		for (i = 0; json_is_string(x) && i < 3; i++)
			if (!strcmp(json_string_value(x), modes[i]))
				break;
		if (i == 3)
			return api_fail(err, -EBADMSG,
					"memory_restore_mode: expected Copy, OnDemand or "
					"CopyOnWrite");
	}
	x = json_object_get(body, "net_fds");
	if (x && !json_is_null(x) && !(json_is_array(x) && !json_array_size(x)))
		return api_fail(err, -EOPNOTSUPP,
				"petrel does not take TAP file descriptors (net_fds): the "
				"restored VM opens the TAPs its snapshot names");
	x = json_object_get(body, "zone_updates");
	if (x && !json_is_null(x) && !(json_is_array(x) && !json_array_size(x)))
		return api_fail(err, -EOPNOTSUPP,
				"petrel has no memory zones: zone_updates is not supported");
	return 0;
}

static void ch_restore(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	static const char what[] = "The VM could not be restored";
	char state[PATH_MAX], mem[PATH_MAX];
	struct api_restore_req req = {.state_path = state, .mem_path = mem};
	struct api_err err = {""};
	json_t *body = ch_body(rq, rs);
	int ret;

	if (!body)
		return;
	ret = ch_snapshot_dir(body, "source_url", state, mem, sizeof(state), &err);
	if (ret != -EBADMSG) {
		struct api_err e2 = {""};
		int r2 = ch_restore_opts(body, &req, &e2);

		if (r2 == -EBADMSG || (!ret && r2)) {
			ret = r2;
			err = e2;
		}
	}
	json_decref(body);
	if (ret == -EBADMSG)
		ch_error(rs, 400, 2, "Failed to deserialize JSON", err.msg);
	else if (ch_state(v) != API_VM_NONE)
		ch_api_error(rs, 500, what, "VM is already created");
	else if (ret)
		ch_api_error(rs, 400, what, err.msg);
	else
		ch_snapshot_done(rs, api_vmm_restore(v, &req, &err), what, &err);
}

/* ---- live migration ---- */

/* A migration URL field: tcp:HOST:PORT, or unix:PATH (both ends on this host). */
static int ch_migration_url(json_t *body, const char *field, char *out, size_t size,
			    struct api_err *err)
{
	json_t *x = json_object_get(body, field);

	if (!json_is_string(x))
		return api_fail(err, -EBADMSG, "missing field `%s`", field);
	if (strncmp(json_string_value(x), "tcp:", 4) && strncmp(json_string_value(x), "unix:", 5))
		return api_fail(err, -EINVAL,
				"%s: petrel migrates over tcp:HOST:PORT or unix:PATH, not %s",
				field, json_string_value(x));
	if (strlen(json_string_value(x)) >= size)
		return api_fail(err, -EINVAL, "%s: too long", field);
	snprintf(out, size, "%s", json_string_value(x));
	return 0;
}

/* An optional count in the body: 0 when absent. */
static int ch_uint_field(json_t *body, const char *field, unsigned int max, unsigned int *out,
			 struct api_err *err)
{
	json_t *x = json_object_get(body, field);

	*out = 0;
	if (!x || json_is_null(x))
		return 0;
	if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > max)
		return api_fail(err, -EBADMSG, "invalid value: %s: expected 1 to %u", field, max);
	*out = (unsigned int)json_integer_value(x);
	return 0;
}

/*
 * SendMigrationData: destination_url (tcp:HOST:PORT or unix:PATH), local
 * (true only with unix:PATH: over a UNIX socket a guest whose RAM is shared
 * hands it over whatever local says); petrel's own downtime_ms and
 * max_rounds. The answer comes once the destination took the hello; the
 * rest is in vm.info's "migration".
 */
static void ch_send_migration(struct api_vmm *v, const struct api_request *rq,
			      struct api_response *rs)
{
	static const char what[] = "The VM could not be migrated";
	char url[256];
	struct api_migrate_req req = {.url = url};
	struct api_err err = {""};
	json_t *body = ch_body(rq, rs);
	int ret;

	if (!body)
		return;
	ret = ch_migration_url(body, "destination_url", url, sizeof(url), &err);
	if (!ret && json_is_true(json_object_get(body, "local")) && strncmp(url, "unix:", 5))
		ret = api_fail(&err, -EINVAL,
			       "local migration (memory handed over) needs a unix:PATH "
			       "destination_url");
	if (!ret)
		ret = ch_uint_field(body, "downtime_ms", 3600000, &req.downtime_ms, &err);
	if (!ret)
		ret = ch_uint_field(body, "max_rounds", 1000, &req.max_rounds, &err);
	json_decref(body);
	if (ret == -EBADMSG)
		ch_error(rs, 400, 2, "Failed to deserialize JSON", err.msg);
	else if (ret)
		ch_api_error(rs, 400, what, err.msg);
	else
		ch_snapshot_done(rs, api_vmm_send_migration(v, &req, &err), what, &err);
}

/* ReceiveMigrationData: receiver_url (tcp:HOST:PORT); the answer comes with the VM running. */
static void ch_receive_migration(struct api_vmm *v, const struct api_request *rq,
				 struct api_response *rs)
{
	static const char what[] = "The VM could not be received";
	char url[256];
	struct api_err err = {""};
	json_t *body = ch_body(rq, rs);
	int ret;

	if (!body)
		return;
	ret = ch_migration_url(body, "receiver_url", url, sizeof(url), &err);
	json_decref(body);
	if (ret == -EBADMSG)
		ch_error(rs, 400, 2, "Failed to deserialize JSON", err.msg);
	else if (ch_state(v) != API_VM_NONE)
		ch_api_error(rs, 500, what, "VM is already created");
	else if (ret)
		ch_api_error(rs, 400, what, err.msg);
	else
		ch_snapshot_done(rs, api_vmm_receive_migration(v, url, &err), what, &err);
}

/*
 * petrel's own vm.cancel-migration (no body): the migration out stops
 * before its switchover, the guest going on here.
 */
static void ch_cancel_migration(struct api_vmm *v, const struct api_request *rq,
				struct api_response *rs)
{
	struct api_err err = {""};
	int ret;

	(void)rq;
	ret = api_vmm_cancel_migration(v, &err);
	if (ret)
		ch_api_error(rs, ret == -EBUSY ? 409 : 400, "The migration could not be cancelled",
			     err.msg);
	else
		api_response_set(rs, 204, NULL);
}

/* ---- the VMM ---- */

static void ch_ping(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	(void)v;
	(void)rq;
	ch_reply_json(rs, 200,
		      json_pack("{s:s,s:s,s:I,s:[s,s]}", "build_version", "petrel-" PETREL_VERSION,
				"version", PETREL_VERSION, "pid", (json_int_t)getpid(), "features",
				"kvm", "io_uring"));
}

/* The VM is deleted (shut down if it runs), then the VMM exits after answering. */
static void ch_vmm_shutdown(struct api_vmm *v, const struct api_request *rq,
			    struct api_response *rs)
{
	struct api_err err;

	(void)rq;
	if (api_vmm_delete(v, &err)) {
		ch_api_error(rs, 500, "The VMM could not shutdown", err.msg);
		return;
	}
	api_vmm_exit(v, 0);
	api_response_set(rs, 200, NULL);
}

/* ---- routes ---- */

typedef void ch_handler(struct api_vmm *v, const struct api_request *rq, struct api_response *rs);

struct ch_route {
	const char *name; /* after /api/v1/ */
	const char *method;
	bool action;	/* a VM action: other methods than GET and PUT get a bare 400 */
	bool body;	/* takes a body (a PUT action without one refuses any) */
	ch_handler *fn; /* NULL: a Cloud Hypervisor route petrel does not support */
};

static const struct ch_route ch_routes[] = {
    {"vmm.ping", "GET", false, false, ch_ping},
    {"vmm.shutdown", "PUT", false, true, ch_vmm_shutdown},
    {"vm.create", "PUT", false, true, ch_create},
    {"vm.info", "GET", false, true, ch_info},
    {"vm.counters", "GET", true, true, ch_counters},
    {"vm.boot", "PUT", true, false, ch_boot},
    {"vm.pause", "PUT", true, false, ch_pause},
    {"vm.resume", "PUT", true, false, ch_resume},
    {"vm.shutdown", "PUT", true, false, ch_shutdown},
    {"vm.reboot", "PUT", true, false, ch_reboot},
    {"vm.power-button", "PUT", true, false, ch_power_button},
    {"vm.delete", "PUT", true, false, ch_delete},
    {"vm.nmi", "PUT", true, false, NULL},
    {"vm.add-device", "PUT", true, true, NULL},
    {"vm.add-user-device", "PUT", true, true, NULL},
    {"vm.add-disk", "PUT", true, true, NULL},
    {"vm.add-fs", "PUT", true, true, NULL},
    {"vm.add-generic-vhost-user", "PUT", true, true, NULL},
    {"vm.add-net", "PUT", true, true, NULL},
    {"vm.add-pmem", "PUT", true, true, NULL},
    {"vm.add-vdpa", "PUT", true, true, NULL},
    {"vm.add-vsock", "PUT", true, true, NULL},
    {"vm.remove-device", "PUT", true, true, NULL},
    {"vm.resize", "PUT", true, true, ch_resize},
    {"vm.resize-disk", "PUT", true, true, NULL},
    {"vm.resize-zone", "PUT", true, true, NULL},
    {"vm.snapshot", "PUT", true, true, ch_snapshot},
    {"vm.restore", "PUT", true, true, ch_restore},
    {"vm.coredump", "PUT", true, true, NULL},
    {"vm.send-migration", "PUT", true, true, ch_send_migration},
    {"vm.receive-migration", "PUT", true, true, ch_receive_migration},
    /* petrel's extension */
    {"vm.cancel-migration", "PUT", true, false, ch_cancel_migration},
};

static bool ch_match(const char *path)
{
	return path && !strncmp(path, CH_ROOT, strlen(CH_ROOT));
}

static const struct ch_route *ch_route_find(const char *path)
{
	const char *name = path + strlen(CH_ROOT);

	for (size_t i = 0; i < sizeof(ch_routes) / sizeof(ch_routes[0]); i++)
		if (!strcmp(name, ch_routes[i].name))
			return &ch_routes[i];
	return NULL;
}

static void ch_handle(struct api_vmm *v, const struct api_request *rq, struct api_response *rs)
{
	const struct ch_route *r = ch_match(rq->path) ? ch_route_find(rq->path) : NULL;
	const char *m = rq->method ? rq->method : "";
	char msg[96];

	if (!r) {
		ch_error(rs, 404, 1, "Not Found");
	} else if (strcmp(m, r->method)) {
		if (r->action && strcmp(m, "GET") && strcmp(m, "PUT"))
			api_response_set(rs, 400, NULL);
		else
			ch_error(rs, 400, 1, "Bad Request");
	} else if (!r->fn) {
		snprintf(msg, sizeof(msg), "petrel does not support %s yet", r->name);
		ch_error(rs, 400, 2, "Bad Request", msg);
	} else if (!r->body && !strcmp(m, "PUT") && rq->body_len) {
		ch_error(rs, 400, 1, "Bad Request");
	} else {
		r->fn(v, rq, rs);
	}
}

const struct api_frontend api_ch_frontend = {
    .name = "ch",
    .match = ch_match,
    .handle = ch_handle,
};
