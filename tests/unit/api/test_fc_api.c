// SPDX-License-Identifier: GPL-2.0-only
/* The Firecracker routes and config file, on the controller with a fake backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "api/fc_api.h"

/* ---- the fake backend: counts the calls; boot fails on demand ---- */

struct fake {
	unsigned int boots, pauses, resumes, ctrl_alt_dels, updates, snapshots, restores;
	struct api_snapshot_req snap; /* the last snapshot's (paths not kept) */
	struct api_restore_req load;  /* the last restore's */
	bool boot_fails;
	unsigned int update_idx;
	uint32_t balloon_target; /* the device as the fake has it */
	unsigned int balloon_interval;
	char update_path[256];
};

static int fake_boot(void *ctx, const struct api_vm_spec *spec, struct api_err *err)
{
	struct fake *f = ctx;

	if (f->boot_fails)
		return api_fail(err, -EIO, "the fake machine refuses to boot");
	f->boots++;
	return 0;
}

static int fake_pause(void *ctx, struct api_err *err)
{
	((struct fake *)ctx)->pauses++;
	return 0;
}

static int fake_resume(void *ctx, struct api_err *err)
{
	((struct fake *)ctx)->resumes++;
	return 0;
}

static int fake_shutdown(void *ctx, int status, struct api_err *err)
{
	return 0;
}

static int fake_nothing(void *ctx, struct api_err *err)
{
	return 0;
}

static int fake_ctrl_alt_del(void *ctx, struct api_err *err)
{
	((struct fake *)ctx)->ctrl_alt_dels++;
	return 0;
}

static int fake_drive_update(void *ctx, unsigned int idx, const char *path, struct api_err *err)
{
	struct fake *f = ctx;

	f->updates++;
	f->update_idx = idx;
	snprintf(f->update_path, sizeof(f->update_path), "%s", path);
	return 0;
}

static int fake_balloon(void *ctx, const uint32_t *target, const unsigned int *interval,
			struct virtio_balloon_info *out, struct api_err *err)
{
	struct fake *f = ctx;

	if (target)
		f->balloon_target = *target;
	if (interval)
		f->balloon_interval = *interval;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->target_pages = f->balloon_target;
		out->actual_pages = f->balloon_target / 2;
		out->stats.val[VIRTIO_BALLOON_S_MEMFREE] = 12345;
		out->stats.present = 1u << VIRTIO_BALLOON_S_MEMFREE;
	}
	return 0;
}

static void fake_counters(void *ctx, struct api_counters *out)
{
	memset(out, 0, sizeof(*out));
}

static int fake_snapshot(void *ctx, const struct api_snapshot_req *req, const void *config,
			 size_t len, struct api_err *err)
{
	struct fake *f = ctx;

	f->snapshots++;
	f->snap = *req;
	f->snap.state_path = f->snap.mem_path = NULL;
	return 0;
}

/* What every restore finds stored: a NIC eth0 on tap0. */
static const char fake_stored[] = "{\"petrel_spec\": 1, \"cpus\": 2, \"mem_mib\": 256, "
				  "\"boot\": \"kernel\", \"kernel\": \"/boot/vmlinux\", "
				  "\"nets\": [{\"id\": \"eth0\", \"tap\": \"tap0\"}]}";

static int fake_restore(void *ctx, const struct api_restore_req *req, struct api_vm_spec *spec,
			struct api_err *err)
{
	struct fake *f = ctx;
	int ret = api_restore_spec(fake_stored, strlen(fake_stored), req, spec, err);

	if (!ret) {
		f->restores++;
		f->load = *req;
		f->load.state_path = f->load.mem_path = NULL;
	}
	return ret;
}

static void fake_exit_vmm(void *ctx, int status)
{
}

static const struct api_backend fake_backend = {
    .boot = fake_boot,
    .pause = fake_pause,
    .resume = fake_resume,
    .shutdown = fake_shutdown,
    .reboot = fake_nothing,
    .ctrl_alt_del = fake_ctrl_alt_del,
    .power_button = fake_nothing,
    .drive_update = fake_drive_update,
    .balloon = fake_balloon,
    .snapshot = fake_snapshot,
    .restore = fake_restore,
    .counters = fake_counters,
    .exit_vmm = fake_exit_vmm,
};

/* ---- the fixture: a controller and files in /tmp ---- */

enum { F_KERNEL, F_INITRD, F_DISK0, F_DISK1, F_METRICS, F_COUNT };

/* In bodies, @K@ @I@ @D0@ @D1@ @M@ stand for the files' paths. */
static const char *const tokens[F_COUNT] = {"@K@", "@I@", "@D0@", "@D1@", "@M@"};

struct t {
	struct api_vmm v;
	struct fake f;
	char files[F_COUNT][64];
	char body[16384];
};

static void t_init_vmm(struct t *t)
{
	memset(&t->f, 0, sizeof(t->f));
	api_vmm_init(&t->v, &fake_backend, &t->f, "test-vm");
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	int fd;

	assert_non_null(t);
	for (int i = 0; i < F_COUNT; i++) {
		snprintf(t->files[i], sizeof(t->files[i]), "/tmp/petrel-fc-XXXXXX");
		fd = mkstemp(t->files[i]);
		assert_true(fd >= 0);
		close(fd);
	}
	t_init_vmm(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	api_vmm_destroy(&t->v);
	for (int i = 0; i < F_COUNT; i++)
		unlink(t->files[i]);
	free(t);
	return 0;
}

/* @s with the tokens replaced, in t->body. */
static const char *expand(struct t *t, const char *s)
{
	size_t n = 0;
	int i;

	while (*s) {
		for (i = 0; i < F_COUNT; i++)
			if (!strncmp(s, tokens[i], strlen(tokens[i])))
				break;
		if (i < F_COUNT) {
			n += (size_t)snprintf(t->body + n, sizeof(t->body) - n, "%s", t->files[i]);
			s += strlen(tokens[i]);
		} else {
			t->body[n++] = *s++;
		}
		assert_true(n < sizeof(t->body));
	}
	t->body[n] = '\0';
	return t->body;
}

/*
 * One request of @len bytes of @body: checks the answer's shape (204 has no
 * body, 200 JSON, 400 a fault_message); the JSON in *out if asked for, else
 * the fault message in *fault (malloc'ed).
 */
static unsigned int request_raw(struct t *t, const char *method, const char *path, const char *body,
				size_t len, json_t **out, char **fault)
{
	struct api_request rq = {.method = method, .path = path, .body = body, .body_len = len};
	struct api_response rs = {0};
	json_t *j = NULL;

	api_fc_frontend.handle(&t->v, &rq, &rs);
	if (rs.status == 204) {
		assert_null(rs.body);
	} else {
		assert_non_null(rs.body);
		j = json_loads(rs.body, 0, NULL);
		assert_non_null(j);
	}
	if (rs.status == 400) {
		assert_true(json_is_string(json_object_get(j, "fault_message")));
		assert_int_equal(json_object_size(j), 1);
		if (fault)
			*fault = strdup(json_string_value(json_object_get(j, "fault_message")));
	} else {
		assert_true(rs.status == 200 || rs.status == 204);
	}
	if (out)
		*out = j;
	else
		json_decref(j);
	api_response_free(&rs);
	return rs.status;
}

static unsigned int request(struct t *t, const char *method, const char *path, const char *body,
			    json_t **out, char **fault)
{
	const char *b = expand(t, body ? body : "");

	return request_raw(t, method, path, b, strlen(b), out, fault);
}

static void ok(struct t *t, const char *method, const char *path, const char *body)
{
	char *fault = NULL;
	unsigned int st = request(t, method, path, body, NULL, &fault);

	if (st != 204)
		print_error("%s %s %s: %u %s\n", method, path, body, st, fault ? fault : "");
	free(fault);
	assert_int_equal(st, 204);
}

static json_t *get(struct t *t, const char *path)
{
	json_t *j = NULL;

	assert_int_equal(request(t, "GET", path, NULL, &j, NULL), 200);
	return j;
}

/* Everything a refused request must leave as it was. */
static char *fingerprint(struct t *t)
{
	json_t *j = get(t, "/vm/config");
	struct api_vm_spec s;
	char *text;

	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	json_object_set_new(j, "t-state", json_integer(api_vmm_state(&t->v)));
	json_object_set_new(j, "t-serial", json_integer(s.serial));
	json_object_set_new(j, "t-serial-path",
			    s.serial_path ? json_string(s.serial_path) : json_null());
	json_object_set_new(j, "t-logger", json_boolean(t->v.tel.logger_set));
	json_object_set_new(j, "t-metrics", json_boolean(t->v.tel.metrics_fd >= 0));
	json_object_set_new(j, "t-boots", json_integer(t->f.boots));
	json_object_set_new(j, "t-updates", json_integer(t->f.updates));
	api_vm_spec_free(&s);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return text;
}

/* 400 with a fault_message holding @needle (if given), and nothing changed. */
static void bad(struct t *t, const char *method, const char *path, const char *body,
		const char *needle)
{
	char *before = fingerprint(t), *after, *fault = NULL;
	unsigned int st = request(t, method, path, body, NULL, &fault);

	if (st != 400 || (needle && !strstr(fault, needle)))
		print_error("%s %s %s: %u \"%s\", expected 400 with \"%s\"\n", method, path,
			    body ? body : "", st, fault ? fault : "", needle ? needle : "");
	assert_int_equal(st, 400);
	if (needle)
		assert_non_null(strstr(fault, needle));
	after = fingerprint(t);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(fault);
}

static void boot_source(struct t *t)
{
	ok(t, "PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\"}");
}

static void start(struct t *t)
{
	boot_source(t);
	ok(t, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}");
	assert_int_equal(api_vmm_state(&t->v), API_VM_RUNNING);
}

static void expect_state(struct t *t, const char *state)
{
	json_t *j = get(t, "/");

	assert_string_equal(json_string_value(json_object_get(j, "state")), state);
	json_decref(j);
}

/* ---- the routes ---- */

static void test_instance_info(void **state)
{
	struct t *t = *state;
	json_t *j = get(t, "/");

	assert_int_equal(json_object_size(j), 4);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "test-vm");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "Not started");
	assert_string_equal(json_string_value(json_object_get(j, "vmm_version")), PETREL_VERSION);
	assert_string_equal(json_string_value(json_object_get(j, "app_name")), "Firecracker");
	json_decref(j);

	start(t);
	expect_state(t, "Running");
	ok(t, "PATCH", "/vm", "{\"state\": \"Paused\"}");
	expect_state(t, "Paused");
	assert_int_equal(t->f.pauses, 1);
	ok(t, "PATCH", "/vm", "{\"state\": \"Resumed\"}");
	expect_state(t, "Running");
	assert_int_equal(t->f.resumes, 1);
}

static void test_version(void **state)
{
	struct t *t = *state;
	json_t *j = get(t, "/version");

	assert_int_equal(json_object_size(j), 1);
	assert_string_equal(json_string_value(json_object_get(j, "firecracker_version")),
			    PETREL_VERSION);
	json_decref(j);
}

static void expect_machine(struct t *t, unsigned int cpus, uint64_t mem, bool smt, bool track)
{
	struct api_vm_spec s;
	json_t *j = get(t, "/machine-config");

	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_int_equal(s.cpus, cpus);
	assert_int_equal(s.mem_mib, mem);
	assert_int_equal(s.smt, smt);
	assert_int_equal(s.track_dirty_pages, track);
	api_vm_spec_free(&s);
	assert_int_equal(json_integer_value(json_object_get(j, "vcpu_count")), cpus);
	assert_int_equal(json_integer_value(json_object_get(j, "mem_size_mib")), mem);
	assert_int_equal(json_is_true(json_object_get(j, "smt")), smt);
	assert_int_equal(json_is_true(json_object_get(j, "track_dirty_pages")), track);
	assert_string_equal(json_string_value(json_object_get(j, "huge_pages")), "None");
	assert_null(json_object_get(j, "cpu_template"));
	json_decref(j);
}

static void test_machine_config(void **state)
{
	struct t *t = *state;

	expect_machine(t, 1, 128, false, false);
	ok(t, "PUT", "/machine-config",
	   "{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": true, \"track_dirty_pages\": true, "
	   "\"cpu_template\": \"None\", \"huge_pages\": \"None\"}");
	expect_machine(t, 2, 256, true, true);
	ok(t, "PATCH", "/machine-config", "{\"mem_size_mib\": 512}");
	expect_machine(t, 2, 512, true, true);
	ok(t, "PATCH", "/machine-config", "{\"smt\": false, \"vcpu_count\": 3}");
	expect_machine(t, 3, 512, false, true);
	/* PUT replaces: what it does not give returns to its default */
	ok(t, "PUT", "/machine-config", "{\"vcpu_count\": 4, \"mem_size_mib\": 64}");
	expect_machine(t, 4, 64, false, false);
	ok(t, "PUT", "/machine-config",
	   "{\"vcpu_count\": 1, \"mem_size_mib\": 32, \"cpu_template\": null}");
	expect_machine(t, 1, 32, false, false);
}

static void test_boot_source(void **state)
{
	struct t *t = *state;
	struct api_vm_spec s;

	ok(t, "PUT", "/boot-source",
	   "{\"kernel_image_path\": \"@K@\", \"initrd_path\": \"@I@\", "
	   "\"boot_args\": \"console=ttyS0 quiet\"}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_string_equal(s.kernel, t->files[F_KERNEL]);
	assert_string_equal(s.initramfs, t->files[F_INITRD]);
	assert_string_equal(s.cmdline, "console=ttyS0 quiet");
	api_vm_spec_free(&s);

	ok(t, "PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\", \"initrd_path\": null}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_null(s.initramfs);
	assert_null(s.cmdline);
	api_vm_spec_free(&s);
}

static void test_drives(void **state)
{
	struct t *t = *state;
	struct api_vm_spec s;

	ok(t, "PUT", "/drives/rootfs",
	   "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D0@\", \"is_root_device\": true, "
	   "\"partuuid\": \"0eaa91a0-01\", \"cache_type\": \"Writeback\", \"io_engine\": "
	   "\"Async\", "
	   "\"rate_limiter\": {\"bandwidth\": {\"size\": 1048576, \"refill_time\": 100}, "
	   "\"ops\": {\"size\": 100, \"one_time_burst\": 10, \"refill_time\": 1000}}}");
	ok(t, "PUT", "/drives/data_1",
	   "{\"drive_id\": \"data_1\", \"path_on_host\": \"@D1@\", \"is_root_device\": false, "
	   "\"is_read_only\": true, \"cache_type\": \"Unsafe\", \"io_engine\": \"Sync\", "
	   "\"rate_limiter\": null}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_int_equal(s.nr_drives, 2);
	assert_string_equal(s.drives[0].id, "rootfs");
	assert_string_equal(s.drives[0].path, t->files[F_DISK0]);
	assert_true(s.drives[0].root);
	assert_false(s.drives[0].readonly);
	assert_string_equal(s.drives[0].partuuid, "0eaa91a0-01");
	assert_null(s.drives[0].serial);
	assert_false(s.drives[0].direct);
	assert_string_equal(s.drives[1].id, "data_1");
	assert_true(s.drives[1].readonly);
	assert_false(s.drives[1].root);
	assert_null(s.drives[1].partuuid);
	api_vm_spec_free(&s);

	/* the same id replaces the drive */
	ok(t, "PUT", "/drives/rootfs",
	   "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D1@\", \"is_root_device\": false}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_int_equal(s.nr_drives, 2);
	assert_string_equal(s.drives[0].path, t->files[F_DISK1]);
	assert_false(s.drives[0].root);
	api_vm_spec_free(&s);
}

static void test_network_interfaces(void **state)
{
	struct t *t = *state;
	static const uint8_t mac[6] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x02};
	struct api_vm_spec s;

	ok(t, "PUT", "/network-interfaces/eth0",
	   "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": "
	   "\"AA:bb:cc:dd:EE:02\", \"rx_rate_limiter\": {\"ops\": {\"size\": 1, \"refill_time\": "
	   "1}}, \"tx_rate_limiter\": {}}");
	ok(t, "PUT", "/network-interfaces/eth1",
	   "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": null}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_int_equal(s.nr_nets, 2);
	assert_string_equal(s.nets[0].id, "eth0");
	assert_string_equal(s.nets[0].tap, "tap0");
	assert_true(s.nets[0].has_mac);
	assert_memory_equal(s.nets[0].mac, mac, 6);
	assert_string_equal(s.nets[1].tap, "tap1");
	assert_false(s.nets[1].has_mac);
	api_vm_spec_free(&s);
}

/* A path that does not exist: the controller refuses one that does. */
#define VSOCK_UDS "/tmp/petrel-fc-test-no-such-dir/v.sock"

static void test_vsock(void **state)
{
	struct t *t = *state;
	struct api_vm_spec s;
	json_t *j, *d;

	ok(t, "PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"" VSOCK_UDS "\"}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_true(s.has_vsock);
	assert_int_equal(s.vsock.cid, 3);
	assert_string_equal(s.vsock.uds, VSOCK_UDS);
	api_vm_spec_free(&s);
	/* a second one replaces it */
	ok(t, "PUT", "/vsock",
	   "{\"vsock_id\": \"v1\", \"guest_cid\": 52, \"uds_path\": \"" VSOCK_UDS "\"}");
	j = get(t, "/vm/config");
	d = json_pack("{s:s, s:i, s:s}", "vsock_id", "v1", "guest_cid", 52, "uds_path", VSOCK_UDS);
	assert_true(json_equal(json_object_get(j, "vsock"), d));
	json_decref(d);
	json_decref(j);
	bad(t, "PUT", "/vsock", "{\"guest_cid\": 2, \"uds_path\": \"" VSOCK_UDS "\"}", "guest_cid");
	bad(t, "PUT", "/vsock", "{\"guest_cid\": 3}", "uds_path");
	bad(t, "PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"/tmp\"}", "exists");
	bad(t, "PUT", "/vsock",
	    "{\"guest_cid\": 3, \"uds_path\": "
	    "\"/tmp/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaa"
	    "aaaaaaaaaaaa\"}",
	    "longer");
}

static void test_entropy_and_serial(void **state)
{
	struct t *t = *state;
	struct api_vm_spec s;

	ok(t, "PUT", "/entropy", "{}");
	ok(t, "PUT", "/serial", "{\"serial_out_path\": \"/tmp/petrel-fc-serial.log\"}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_true(s.rng);
	assert_int_equal(s.serial, API_SERIAL_FILE);
	assert_string_equal(s.serial_path, "/tmp/petrel-fc-serial.log");
	api_vm_spec_free(&s);

	ok(t, "PUT", "/entropy",
	   "{\"rate_limiter\": {\"bandwidth\": {\"size\": 10, \"refill_time\": 10}}}");
	ok(t, "PUT", "/serial", "{\"rate_limiter\": {\"size\": 10, \"refill_time\": 10}}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_int_equal(s.serial, API_SERIAL_STDIO);
	assert_null(s.serial_path);
	api_vm_spec_free(&s);
}

static void test_logger_and_metrics(void **state)
{
	struct t *t = *state;
	struct stat st;

	/* no log_path: stderr stays where it is */
	ok(t, "PUT", "/logger",
	   "{\"level\": \"Warning\", \"show_level\": true, \"show_log_origin\": false, "
	   "\"module\": \"api_server\"}");
	assert_true(t->v.tel.logger_set);
	bad(t, "PUT", "/logger", "{\"level\": \"Info\"}", "already");

	bad(t, "PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", "metrics");
	ok(t, "PUT", "/metrics", "{\"metrics_path\": \"@M@\", \"emit_id\": false}");
	bad(t, "PUT", "/metrics", "{\"metrics_path\": \"@M@\"}", "already");
	ok(t, "PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}");
	assert_int_equal(stat(t->files[F_METRICS], &st), 0);
	assert_true(st.st_size > 0);
}

static void test_actions(void **state)
{
	struct t *t = *state;

	bad(t, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "kernel");
	assert_int_equal(t->f.boots, 0);
	bad(t, "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", "not running");
	boot_source(t);
	t->f.boot_fails = true;
	bad(t, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "refuses to boot");
	expect_state(t, "Not started");
	t->f.boot_fails = false;
	ok(t, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}");
	assert_int_equal(t->f.boots, 1);
	expect_state(t, "Running");
	bad(t, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}",
	    "after the VM has started");
	assert_int_equal(t->f.boots, 1);
	ok(t, "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}");
	assert_int_equal(t->f.ctrl_alt_dels, 1);
	ok(t, "PATCH", "/vm", "{\"state\": \"Paused\"}");
	bad(t, "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", "paused");
	assert_int_equal(t->f.ctrl_alt_dels, 1);
}

static void test_balloon(void **state)
{
	struct t *t = *state;
	struct api_vm_spec s;
	json_t *o;

	ok(t, "PUT", "/balloon",
	   "{\"amount_mib\": 64, \"deflate_on_oom\": true, \"stats_polling_interval_s\": 2, "
	   "\"free_page_reporting\": true}");
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_true(s.balloon.on && s.balloon.deflate_on_oom && s.balloon.free_page_reporting);
	assert_int_equal(s.balloon.target_mib, 64);
	assert_int_equal(s.balloon.stats_interval_s, 2);
	api_vm_spec_free(&s);
	o = get(t, "/balloon");
	assert_int_equal(json_integer_value(json_object_get(o, "amount_mib")), 64);
	json_decref(o);
	bad(t, "GET", "/balloon/statistics", NULL, "not running");
	start(t);
	bad(t, "PUT", "/balloon", "{\"amount_mib\": 1, \"deflate_on_oom\": true}", "started");
	ok(t, "PATCH", "/balloon", "{\"amount_mib\": 100}");
	assert_int_equal(t->f.balloon_target, 100 * 256);
	bad(t, "PATCH", "/balloon", "{\"amount_mib\": 100000}", "more than");
	ok(t, "PATCH", "/balloon/statistics", "{\"stats_polling_interval_s\": 5}");
	assert_int_equal(t->f.balloon_interval, 5);
	bad(t, "PATCH", "/balloon/statistics", "{\"stats_polling_interval_s\": 0}",
	    "cannot be turned on or off");
	o = get(t, "/balloon/statistics");
	assert_int_equal(json_integer_value(json_object_get(o, "target_pages")), 100 * 256);
	assert_int_equal(json_integer_value(json_object_get(o, "target_mib")), 100);
	assert_int_equal(json_integer_value(json_object_get(o, "actual_mib")), 50);
	assert_int_equal(json_integer_value(json_object_get(o, "free_memory")), 12345);
	assert_null(json_object_get(o, "swap_in")); /* not sent by the guest */
	json_decref(o);
	o = get(t, "/vm/config");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(o, "balloon"), "amount_mib")), 100);
	json_decref(o);
}

static void test_patch_devices(void **state)
{
	struct t *t = *state;
	struct api_vm_spec s;

	ok(t, "PUT", "/drives/rootfs",
	   "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D0@\", \"is_root_device\": true}");
	ok(t, "PUT", "/network-interfaces/eth0",
	   "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}");
	/* post-boot only */
	bad(t, "PATCH", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D1@\"}",
	    "not running");
	bad(t, "PATCH", "/drives/rootfs", "{\"drive_id\": \"rootfs\"}", "not running");
	bad(t, "PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}", "not running");
	bad(t, "PATCH", "/vm", "{\"state\": \"Paused\"}", "not running");
	start(t);

	ok(t, "PATCH", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D1@\"}");
	assert_int_equal(t->f.updates, 1);
	assert_int_equal(t->f.update_idx, 0);
	assert_string_equal(t->f.update_path, t->files[F_DISK1]);
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_string_equal(s.drives[0].path, t->files[F_DISK1]);
	api_vm_spec_free(&s);
	ok(t, "PATCH", "/drives/rootfs",
	   "{\"drive_id\": \"rootfs\", \"rate_limiter\": {\"ops\": {\"size\": 5, \"refill_time\": "
	   "5}}}");
	assert_int_equal(t->f.updates, 1);
	bad(t, "PATCH", "/drives/other", "{\"drive_id\": \"other\", \"path_on_host\": \"@D1@\"}",
	    "no such drive");
	bad(t, "PATCH", "/drives/other", "{\"drive_id\": \"other\"}", "no such drive");
	bad(t, "PATCH", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"is_read_only\": true}",
	    "unknown field `is_read_only`");

	ok(t, "PATCH", "/network-interfaces/eth0",
	   "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1, "
	   "\"refill_time\": 1}}}");
	bad(t, "PATCH", "/network-interfaces/eth9", "{\"iface_id\": \"eth9\"}", "no such");
	bad(t, "PATCH", "/network-interfaces/eth0",
	    "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap1\"}", "unknown field");
}

/* A machine configured a little, so that a refusal has something to leave alone. */
static void configure(struct t *t)
{
	ok(t, "PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\", \"boot_args\": \"quiet\"}");
	ok(t, "PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 256}");
	ok(t, "PUT", "/drives/rootfs",
	   "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D0@\", \"is_root_device\": true}");
	ok(t, "PUT", "/network-interfaces/eth0",
	   "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": "
	   "\"02:00:00:00:00:01\"}");
}

struct refusal {
	const char *method, *path, *body, *needle;
};

#define DRIVE(id, rest)                                                                            \
	"{\"drive_id\": \"" id "\", \"path_on_host\": \"@D1@\", \"is_root_device\": false" rest "}"
#define NET(id, rest) "{\"iface_id\": \"" id "\", \"host_dev_name\": \"tap5\"" rest "}"
#define MACHINE(rest) "{\"vcpu_count\": 2, \"mem_size_mib\": 256" rest "}"
#define DESER "An error occurred when deserializing the json body of a request"

static const struct refusal preboot_refusals[] = {
    /* malformed JSON */
    {"PUT", "/boot-source", "{", DESER},
    {"PUT", "/boot-source", "{\"kernel_image_path\": }", DESER},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\"} trailing", DESER},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\", \"kernel_image_path\": \"@K@\"}",
     DESER},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"\\u0000\"}", DESER},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"\xff\xfe\"}", DESER},
    {"PUT", "/boot-source", "[]", "expected an object"},
    {"PUT", "/machine-config", "null", DESER},
    {"PUT", "/machine-config", "{\"vcpu_count\": 99999999999999999999999, \"mem_size_mib\": 1}",
     DESER},
    /* unknown fields, anywhere */
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\", \"foo\": 1}", "unknown field `foo`"},
    {"PUT", "/machine-config", MACHINE(", \"gdb_socket_path\": \"/x\""), "unknown field"},
    {"PUT", "/drives/d", DRIVE("d", ", \"rate_limiter\": {\"iops\": {}}"), "unknown field `iops`"},
    {"PUT", "/drives/d",
     DRIVE("d", ", \"rate_limiter\": {\"ops\": {\"size\": 1, \"refill_time\": 1, \"x\": 1}}"),
     "rate_limiter: ops: unknown field `x`"},
    {"PUT", "/entropy", "{\"rate\": 1}", "unknown field"},
    {"PUT", "/actions", "{\"action_type\": \"InstanceStart\", \"force\": true}", "unknown field"},
    {"PATCH", "/vm", "{\"state\": \"Paused\", \"x\": 1}", "unknown field"},
    /* wrong types */
    {"PUT", "/boot-source", "{\"kernel_image_path\": 5}", "expected a string"},
    {"PUT", "/boot-source", "{\"kernel_image_path\": null}", "expected a string"},
    {"PUT", "/machine-config", "{\"vcpu_count\": \"2\", \"mem_size_mib\": 256}", "an unsigned"},
    {"PUT", "/machine-config", "{\"vcpu_count\": 2.0, \"mem_size_mib\": 256}", "an unsigned"},
    {"PUT", "/machine-config", MACHINE(", \"smt\": 1"), "expected a boolean"},
    {"PATCH", "/machine-config", "{\"track_dirty_pages\": \"yes\"}", "expected a boolean"},
    {"PUT", "/drives/d", "{\"drive_id\": \"d\", \"path_on_host\": \"@D1@\", \"is_root_device\": 0}",
     "expected a boolean"},
    {"PUT", "/drives/d", DRIVE("d", ", \"rate_limiter\": []"), "expected an object"},
    {"PUT", "/drives/d",
     DRIVE("d", ", \"rate_limiter\": {\"ops\": {\"size\": -1, \"refill_time\": 1}}"),
     "out of range"},
    {"PUT", "/network-interfaces/n", NET("n", ", \"guest_mac\": 12"), "expected a string"},
    {"PUT", "/metrics", "{\"metrics_path\": \"@M@\", \"properties\": {\"a\": 1}}",
     "expected a string"},
    {"PUT", "/logger", "{\"show_level\": \"true\"}", "expected a boolean"},
    /* missing required fields */
    {"PUT", "/boot-source", "{\"initrd_path\": \"@I@\"}", "missing field `kernel_image_path`"},
    {"PUT", "/machine-config", "{\"vcpu_count\": 2}", "missing field `mem_size_mib`"},
    {"PUT", "/machine-config", "{\"mem_size_mib\": 256}", "missing field `vcpu_count`"},
    {"PUT", "/drives/d", "{\"drive_id\": \"d\", \"path_on_host\": \"@D1@\"}",
     "missing field `is_root_device`"},
    {"PUT", "/drives/d", "{\"drive_id\": \"d\", \"is_root_device\": false}",
     "missing field `path_on_host`"},
    {"PUT", "/drives/d", "{\"path_on_host\": \"@D1@\", \"is_root_device\": false}",
     "missing field `drive_id`"},
    {"PUT", "/network-interfaces/n", "{\"iface_id\": \"n\"}", "missing field `host_dev_name`"},
    {"PUT", "/drives/d", DRIVE("d", ", \"rate_limiter\": {\"ops\": {\"size\": 1}}"),
     "missing field `refill_time`"},
    {"PUT", "/metrics", "{}", "missing field `metrics_path`"},
    {"PUT", "/actions", "{}", "missing field `action_type`"},
    {"PATCH", "/vm", "{}", "missing field `state`"},
    /* out of range, empty or refused values */
    {"PUT", "/machine-config", "{\"vcpu_count\": 0, \"mem_size_mib\": 256}", "vcpu count"},
    {"PUT", "/machine-config", "{\"vcpu_count\": -1, \"mem_size_mib\": 256}", "out of range"},
    {"PUT", "/machine-config", "{\"vcpu_count\": 4294967296, \"mem_size_mib\": 256}",
     "out of range"},
    {"PUT", "/machine-config", "{\"vcpu_count\": 257, \"mem_size_mib\": 256}", "vcpu count"},
    {"PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 0}", "out of range"},
    {"PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 8}", "memory size"},
    {"PUT", "/machine-config", "{\"vcpu_count\": 3, \"mem_size_mib\": 256, \"smt\": true}", "SMT"},
    {"PUT", "/machine-config", MACHINE(", \"cpu_template\": \"T2\""), "unknown variant `T2`"},
    {"PUT", "/machine-config", MACHINE(", \"huge_pages\": \"2M\""), "unknown variant `2M`"},
    {"PATCH", "/machine-config", "{}", "Empty PATCH request"},
    {"PATCH", "/machine-config", "{\"vcpu_count\": null}", "Empty PATCH request"},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"\"}", "must not be empty"},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"/nonexistent/vmlinux\"}", "kernel image"},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\", \"initrd_path\": \"/nonexistent\"}",
     "initrd"},
    {"PUT", "/drives/d", DRIVE("d", ", \"cache_type\": \"None\""), "unknown variant `None`"},
    {"PUT", "/drives/d", DRIVE("d", ", \"io_engine\": \"Uring\""), "unknown variant"},
    {"PUT", "/drives/d", DRIVE("d", ", \"socket\": \"/tmp/vhost.sock\""), "vhost-user"},
    {"PUT", "/drives/d",
     "{\"drive_id\": \"d\", \"path_on_host\": \"/nonexistent\", "
     "\"is_root_device\": false}",
     "drive backing file"},
    {"PUT", "/drives/d",
     "{\"drive_id\": \"d\", \"path_on_host\": \"@D1@\", \"is_root_device\": true}",
     "root block device already exists"},
    {"PUT",
     "/drives/"
     "d123456789012345678901234567890123456789012345678901234567890123",
     DRIVE("d123456789012345678901234567890123456789012345678901234567890123", ""), "longer"},
    {"PUT", "/network-interfaces/n", NET("n", ", \"guest_mac\": \"aa:bb:cc:dd:ee\""),
     "MAC address is invalid"},
    {"PUT", "/network-interfaces/n", NET("n", ", \"guest_mac\": \"aa:bb:cc:dd:ee:fg\""),
     "MAC address is invalid"},
    {"PUT", "/network-interfaces/n", NET("n", ", \"guest_mac\": \"aa:bb:cc:dd:ee:ff:00\""),
     "MAC address is invalid"},
    {"PUT", "/network-interfaces/n", NET("n", ", \"guest_mac\": \"01:00:00:00:00:01\""), "unicast"},
    {"PUT", "/network-interfaces/n", NET("n", ", \"guest_mac\": \"02:00:00:00:00:01\""),
     "already used"},
    {"PUT", "/network-interfaces/n", NET("n", ", \"mtu\": 1500"), "mtu"},
    {"PUT", "/network-interfaces/n", NET("n", ", \"mtu\": 10"), "out of range"},
    {"PUT", "/network-interfaces/n", "{\"iface_id\": \"n\", \"host_dev_name\": \"tap0\"}",
     "already used"},
    {"PUT", "/network-interfaces/n",
     "{\"iface_id\": \"n\", \"host_dev_name\": \"a-name-far-too-long-for-a-tap\"}", "longer"},
    {"PUT", "/network-interfaces/n", "{\"iface_id\": \"n\", \"host_dev_name\": \"tap7,\"}",
     "not a valid TAP name"},
    {"PUT", "/network-interfaces/n", "{\"iface_id\": \"n\", \"host_dev_name\": \"tap 7\"}",
     "not a valid TAP name"},
    {"PUT", "/network-interfaces/n", "{\"iface_id\": \"n\", \"host_dev_name\": \"\"}",
     "must not be empty"},
    {"PUT", "/metrics", "{\"metrics_path\": \"@M@\", \"emit_id\": true}", "emit_id"},
    {"PUT", "/metrics", "{\"metrics_path\": \"\"}", "must not be empty"},
    {"PUT", "/logger", "{\"level\": \"Loud\"}", "level"},
    {"PUT", "/serial", "{\"serial_out_path\": \"\"}", "must not be empty"},
    {"PUT", "/serial", "{\"rate_limiter\": {\"size\": 1}}", "missing field `refill_time`"},
    {"PUT", "/actions", "{\"action_type\": \"Reboot\"}", "unknown variant `Reboot`"},
    {"PUT", "/actions", "{\"action_type\": \"instancestart\"}", "unknown variant"},
    {"PATCH", "/vm", "{\"state\": \"Running\"}", "unknown variant"},
    {"PATCH", "/vm", "{\"state\": \"Paused\"}", "not running"},
    /* ids: checked in the path, and the body's must match */
    {"PUT", "/drives/a", DRIVE("b", ""), "does not match"},
    {"PUT", "/drives/A", DRIVE("a", ""), "does not match"},
    {"PUT", "/network-interfaces/a", NET("b", ""), "does not match"},
    {"PATCH", "/drives/a", "{\"drive_id\": \"b\"}", "does not match"},
    {"PATCH", "/network-interfaces/a", "{\"iface_id\": \"b\"}", "does not match"},
    {"PUT", "/drives", DRIVE("d", ""), "The ID cannot be empty"},
    {"PUT", "/drives/", DRIVE("d", ""), "The ID cannot be empty"},
    {"PUT", "/drives//d", DRIVE("d", ""), "Invalid request"},
    {"PUT", "/drives/a-b", DRIVE("a-b", ""), "alphanumeric"},
    {"PUT", "/drives/a%20b", DRIVE("a b", ""), "alphanumeric"},
    {"PUT", "/network-interfaces/a.b", NET("a.b", ""), "alphanumeric"},
    /* unknown paths, and Firecracker's that petrel does not have */
    {"GET", "/foo", NULL, "Invalid request method and/or path: GET /foo."},
    {"PUT", "/foo", "{}", "Invalid request"},
    {"GET", "/machine-config/x", NULL, "Invalid request"},
    {"PUT", "/drives/d/x", DRIVE("d", ""), "Invalid request"},
    {"GET", "/vm/state", NULL, "Invalid request"},
    /* snapshots: the VM must be paused; a configured one takes no snapshot */
    {"PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
     "not running"},
    {"PUT", "/snapshot/load", "{}", "missing field `snapshot_path`"},
    {"PUT", "/snapshot/load", "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\"}",
     "fresh"},
    {"GET", "/snapshot/create", NULL, "Invalid request method"},
    {"PUT", "/snapshot", "{}", "Invalid request"},
    {"GET", "/balloon", NULL, "no balloon device"},
    {"GET", "/balloon/statistics", NULL, "no balloon device"},
    {"PATCH", "/balloon", "{\"amount_mib\": 1}", "not running"},
    {"PUT", "/balloon", "{\"amount_mib\": 1}", "missing field `deflate_on_oom`"},
    {"PUT", "/balloon", "{\"amount_mib\": 100000, \"deflate_on_oom\": true}", "more than"},
    {"PUT", "/balloon",
     "{\"amount_mib\": 1, \"deflate_on_oom\": true, \"free_page_hinting\": true}", "hinting"},
    {"PUT", "/mmds", "{}", "does not support"},
    {"PUT", "/mmds/config", "{}", "does not support"},
    {"PUT", "/cpu-config", "{}", "does not support"},
    {"PUT", "/pmem/p", "{}", "does not support"},
    {"PUT", "/hotplug/memory", "{}", "does not support"},
    /* wrong methods */
    {"POST", "/actions", "{\"action_type\": \"InstanceStart\"}", "Invalid request method"},
    {"GET", "/actions", NULL, "Invalid request method"},
    {"DELETE", "/drives/rootfs", NULL, "Invalid request method"},
    {"PUT", "/", "{}", "Invalid request method"},
    {"GET", "/vm", NULL, "Invalid request method"},
    {"PATCH", "/vm/config", "{}", "Invalid request method"},
    {"PUT", "/version", "{}", "Invalid request method"},
    {"GET", "/boot-source", NULL, "Invalid request method"},
    {"PATCH", "/boot-source", "{\"kernel_image_path\": \"@K@\"}", "Invalid request method"},
    {"PATCH", "/entropy", "{}", "Invalid request method"},
    /* bodies where there must be none, and none where one must be */
    {"GET", "/machine-config", "{}", "GET request cannot have a body"},
    {"PUT", "/boot-source", NULL, "Empty PUT request"},
    {"PATCH", "/machine-config", NULL, "Empty PATCH request"},
};

static void run_refusals(struct t *t, const struct refusal *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bad(t, r[i].method, r[i].path, r[i].body, r[i].needle);
}

static void test_refusals_before_start(void **state)
{
	struct t *t = *state;

	configure(t);
	run_refusals(t, preboot_refusals, sizeof(preboot_refusals) / sizeof(preboot_refusals[0]));
}

static const struct refusal postboot_refusals[] = {
    {"PUT", "/machine-config", MACHINE(""), "after the VM has started"},
    {"PATCH", "/machine-config", "{\"vcpu_count\": 1}", "after the VM has started"},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\"}", "after the VM has started"},
    {"PUT", "/drives/d", DRIVE("d", ""), "after the VM has started"},
    {"PUT", "/drives/rootfs",
     "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D1@\", \"is_root_device\": true}",
     "after the VM has started"},
    {"PUT", "/network-interfaces/n", NET("n", ""), "after the VM has started"},
    {"PUT", "/entropy", "{}", "after the VM has started"},
    {"PUT", "/serial", "{\"serial_out_path\": \"/tmp/x\"}", "after the VM has started"},
    {"PUT", "/logger", "{\"level\": \"Info\"}", "after the VM has started"},
    {"PUT", "/metrics", "{\"metrics_path\": \"@M@\"}", "after the VM has started"},
    {"PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "after the VM has started"},
    {"PATCH", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/nonexistent\"}",
     "drive backing file"},
    /* parsing comes first, as before boot */
    {"PUT", "/machine-config", "{\"vcpu_count\": 2}", "missing field"},
    {"PATCH", "/vm", "{\"state\": \"Stopped\"}", "unknown variant"},
    {"GET", "/foo", NULL, "Invalid request"},
};

static void test_refusals_after_start(void **state)
{
	struct t *t = *state;

	configure(t);
	start(t);
	run_refusals(t, postboot_refusals,
		     sizeof(postboot_refusals) / sizeof(postboot_refusals[0]));
	/* pausing twice, resuming twice: no change, no error (Firecracker's too) */
	ok(t, "PATCH", "/vm", "{\"state\": \"Resumed\"}");
	assert_int_equal(t->f.resumes, 0);
	ok(t, "PATCH", "/vm", "{\"state\": \"Paused\"}");
	ok(t, "PATCH", "/vm", "{\"state\": \"Paused\"}");
	assert_int_equal(t->f.pauses, 1);
	bad(t, "PUT", "/drives/d", DRIVE("d", ""), "after the VM has started");
}

static void test_vm_config(void **state)
{
	struct t *t = *state;
	static const char *const nulls[] = {"balloon",	   "cpu-config", "logger",	  "metrics",
					    "mmds-config", "vsock",	 "memory-hotplug"};
	json_t *j = get(t, "/vm/config"), *d, *n;

	assert_int_equal(json_object_size(j), 13);
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		assert_true(json_is_null(json_object_get(j, nulls[i])));
	assert_true(json_is_null(json_object_get(j, "entropy")));
	assert_int_equal(json_array_size(json_object_get(j, "drives")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "pmem")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "boot-source"),
							      "kernel_image_path")),
			    "");
	json_decref(j);

	ok(t, "PUT", "/boot-source",
	   "{\"kernel_image_path\": \"@K@\", \"initrd_path\": \"@I@\", \"boot_args\": \"quiet\"}");
	ok(t, "PUT", "/machine-config", MACHINE(", \"smt\": true"));
	ok(t, "PUT", "/drives/data", DRIVE("data", ", \"is_read_only\": true"));
	ok(t, "PUT", "/drives/rootfs",
	   "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D0@\", \"is_root_device\": true, "
	   "\"partuuid\": \"abcd-01\"}");
	ok(t, "PUT", "/network-interfaces/eth0",
	   "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": "
	   "\"AA:BB:CC:00:00:01\"}");
	ok(t, "PUT", "/network-interfaces/eth1",
	   "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\"}");
	ok(t, "PUT", "/entropy", "{}");

	j = get(t, "/vm/config");
	expand(
	    t,
	    "{\"kernel_image_path\": \"@K@\", \"initrd_path\": \"@I@\", \"boot_args\": \"quiet\"}");
	d = json_loads(t->body, 0, NULL);
	assert_true(json_equal(json_object_get(j, "boot-source"), d));
	json_decref(d);
	d = json_pack("{s:i, s:i, s:b, s:b, s:s}", "vcpu_count", 2, "mem_size_mib", 256, "smt", 1,
		      "track_dirty_pages", 0, "huge_pages", "None");
	assert_true(json_equal(json_object_get(j, "machine-config"), d));
	json_decref(d);
	/* the root drive first, as the guest sees them */
	d = json_object_get(j, "drives");
	assert_int_equal(json_array_size(d), 2);
	n = json_pack("{s:s, s:s, s:b, s:s, s:b, s:s, s:n, s:s, s:n}", "drive_id", "rootfs",
		      "partuuid", "abcd-01", "is_root_device", 1, "cache_type", "Writeback",
		      "is_read_only", 0, "path_on_host", t->files[F_DISK0], "rate_limiter",
		      "io_engine", "Async", "socket");
	assert_true(json_equal(json_array_get(d, 0), n));
	json_decref(n);
	assert_string_equal(json_string_value(json_object_get(json_array_get(d, 1), "drive_id")),
			    "data");
	assert_true(json_is_true(json_object_get(json_array_get(d, 1), "is_read_only")));
	assert_true(json_is_null(json_object_get(json_array_get(d, 1), "partuuid")));
	n = json_object_get(j, "network-interfaces");
	assert_int_equal(json_array_size(n), 2);
	d = json_pack("{s:s, s:s, s:s, s:n, s:n, s:n}", "iface_id", "eth0", "host_dev_name", "tap0",
		      "guest_mac", "aa:bb:cc:00:00:01", "mtu", "rx_rate_limiter",
		      "tx_rate_limiter");
	assert_true(json_equal(json_array_get(n, 0), d));
	json_decref(d);
	assert_true(json_is_null(json_object_get(json_array_get(n, 1), "guest_mac")));
	d = json_pack("{s:n}", "rate_limiter");
	assert_true(json_equal(json_object_get(j, "entropy"), d));
	json_decref(d);
	json_decref(j);
}

/* ---- the config file ---- */

static int load(struct t *t, const char *text, struct api_err *err)
{
	const char *s = expand(t, text);

	return api_fc_config_load(&t->v, s, strlen(s), err);
}

static const char good_config[] =
    "{\"boot-source\": {\"kernel_image_path\": \"@K@\", \"boot_args\": \"console=ttyS0\"},"
    " \"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D0@\", \"is_root_device\": "
    "true},"
    "  {\"drive_id\": \"data\", \"path_on_host\": \"@D1@\", \"is_root_device\": false,"
    "   \"is_read_only\": true}],"
    " \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": false},"
    " \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
    "   \"guest_mac\": \"02:00:00:00:00:07\"}],"
    " \"entropy\": {},"
    " \"logger\": {\"level\": \"Info\"},"
    " \"metrics\": {\"metrics_path\": \"@M@\"},"
    " \"serial\": {\"serial_out_path\": \"/tmp/petrel-fc-serial.log\"},"
    " \"balloon\": null, \"vsock\": null, \"pmem\": []}";

static void test_config_file(void **state)
{
	struct t *t = *state;
	struct api_err err = {""};
	struct api_vm_spec s;

	assert_int_equal(load(t, good_config, &err), 0);
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_string_equal(s.kernel, t->files[F_KERNEL]);
	assert_string_equal(s.cmdline, "console=ttyS0");
	assert_int_equal(s.cpus, 2);
	assert_int_equal(s.mem_mib, 256);
	assert_int_equal(s.nr_drives, 2);
	assert_true(s.drives[0].root);
	assert_string_equal(s.drives[1].id, "data");
	assert_true(s.drives[1].readonly);
	assert_int_equal(s.nr_nets, 1);
	assert_int_equal(s.nets[0].mac[5], 7);
	assert_true(s.rng);
	assert_int_equal(s.serial, API_SERIAL_FILE);
	api_vm_spec_free(&s);
	assert_true(t->v.tel.logger_set);
	assert_true(t->v.tel.metrics_fd >= 0);
	/* it configures; the caller boots */
	assert_int_equal(t->f.boots, 0);
	expect_state(t, "Not started");
	ok(t, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}");
}

/* What GET /vm/config answers, a config file takes back. */
static void test_config_file_round_trip(void **state)
{
	struct t *t = *state;
	struct api_err err = {""};
	char *before, *after, *text;
	json_t *j;

	configure(t);
	ok(t, "PUT", "/drives/data", DRIVE("data", ", \"is_read_only\": true"));
	ok(t, "PUT", "/entropy", "{}");
	j = get(t, "/vm/config");
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	before = fingerprint(t);
	api_vmm_destroy(&t->v);
	t_init_vmm(t);
	assert_int_equal(api_fc_config_load(&t->v, text, strlen(text), &err), 0);
	after = fingerprint(t);
	assert_string_equal(before, after);
	free(text);
	free(before);
	free(after);
}

struct config_refusal {
	const char *text, *needle;
};

#define BOOT "\"boot-source\": {\"kernel_image_path\": \"@K@\"}"
#define ROOTFS "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D0@\", \"is_root_device\": true}"

static const struct config_refusal config_refusals[] = {
    {"{" BOOT ", \"drives\": [], \"foo\": {}}", "unknown field `foo`"},
    {"{" BOOT ", \"drives\": [], \"machine_config\": {}}", "unknown field `machine_config`"},
    {"{" BOOT ", \"drives\": [" ROOTFS ", {\"drive_id\": \"data\", \"path_on_host\": \"@D1@\"}]}",
     "drives[1] (data): missing field `is_root_device`"},
    {"{" BOOT ", \"drives\": [" ROOTFS ", {\"drive_id\": \"data\", \"path_on_host\": 3, "
     "\"is_root_device\": false}]}",
     "drives[1] (data): invalid type for `path_on_host`"},
    {"{" BOOT ", \"drives\": [" ROOTFS ", {\"drive_id\": 3}]}", "drives[1]: invalid type"},
    {"{" BOOT ", \"drives\": [" ROOTFS ", 7]}", "drives[1]: invalid type"},
    {"{" BOOT ", \"drives\": {}}", "drives: invalid type: an object, expected an array"},
    {"{" BOOT ", \"drives\": null}", "expected an array"},
    {"{" BOOT "}", "missing field `drives`"},
    {"{\"drives\": []}", "missing field `boot-source`"},
    {"{\"boot-source\": null, \"drives\": []}", "boot-source: invalid type: null"},
    {"{\"boot-source\": {}, \"drives\": []}", "boot-source: missing field `kernel_image_path`"},
    {"{" BOOT ", \"drives\": [], \"machine-config\": {\"vcpu_count\": 2}}",
     "machine-config: missing field `mem_size_mib`"},
    {"{" BOOT ", \"drives\": [], \"network-interfaces\": [{\"iface_id\": \"eth0\", "
     "\"host_dev_name\": \"tap0\", \"x\": 1}]}",
     "network-interfaces[0] (eth0): unknown field `x`"},
    {"{" BOOT ", \"drives\": [], \"logger\": {\"level\": 3}}", "logger: invalid type"},
    {"{" BOOT ", \"drives\": [], \"balloon\": {\"amount_mib\": 1}}",
     "balloon: missing field `deflate_on_oom`"},
    {"{" BOOT ", \"drives\": [], \"pmem\": [{}]}", "petrel does not support `pmem`"},
    {"{" BOOT ", \"drives\": [], \"drives\": []}", "duplicate"},
    {"[]", "expected an object"},
    {"{" BOOT ", \"drives\": [", "line 1"},
    {"", "line"},
};

static void test_config_file_refusals(void **state)
{
	struct t *t = *state;
	struct api_err err;
	char *before, *after;

	before = fingerprint(t);
	for (size_t i = 0; i < sizeof(config_refusals) / sizeof(config_refusals[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_true(load(t, config_refusals[i].text, &err) < 0);
		if (!strstr(err.msg, config_refusals[i].needle))
			print_error("config refusal %zu: \"%s\"\n", i, err.msg);
		assert_non_null(strstr(err.msg, config_refusals[i].needle));
		assert_null(strchr(err.msg, '\n'));
		after = fingerprint(t);
		assert_string_equal(before, after);
		free(after);
	}
	free(before);
}

/* A refusal of the controller names the item too; the items before it stay applied. */
static void test_config_file_refused_drive(void **state)
{
	struct t *t = *state;
	struct api_err err = {""};
	struct api_vm_spec s;

	assert_true(load(t,
			 "{" BOOT ", \"drives\": [" ROOTFS ", {\"drive_id\": \"data\", "
			 "\"path_on_host\": \"/nonexistent/disk\", \"is_root_device\": false}]}",
			 &err) < 0);
	assert_non_null(strstr(err.msg, "drives[1] (data): "));
	assert_non_null(strstr(err.msg, "/nonexistent/disk"));
	assert_int_equal(api_vmm_get_spec(&t->v, &s), 0);
	assert_int_equal(s.nr_drives, 1);
	api_vm_spec_free(&s);
	assert_int_equal(t->f.boots, 0);
}

/* ---- any bytes: an answer of the right shape, never a crash or a leak ---- */

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static const struct refusal fuzz_seeds[] = {
    {"PUT", "/machine-config", MACHINE(", \"smt\": false, \"track_dirty_pages\": true"), NULL},
    {"PATCH", "/machine-config", "{\"vcpu_count\": 4}", NULL},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"@K@\", \"boot_args\": \"a b\"}", NULL},
    {"PUT", "/drives/d",
     DRIVE("d", ", \"rate_limiter\": {\"ops\": {\"size\": 1, \"refill_time\": 2}}"), NULL},
    {"PATCH", "/drives/d", "{\"drive_id\": \"d\", \"path_on_host\": \"@D1@\"}", NULL},
    {"PUT", "/network-interfaces/n", NET("n", ", \"guest_mac\": \"02:00:00:00:00:09\""), NULL},
    {"PATCH", "/network-interfaces/n", "{\"iface_id\": \"n\", \"tx_rate_limiter\": {}}", NULL},
    {"PUT", "/entropy", "{\"rate_limiter\": {\"bandwidth\": {\"size\": 1, \"refill_time\": 2}}}",
     NULL},
    {"PUT", "/serial", "{\"serial_out_path\": \"/tmp/petrel-fc-serial.log\"}", NULL},
    {"PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", NULL},
    {"PATCH", "/vm", "{\"state\": \"Paused\"}", NULL},
    {"GET", "/vm/config", NULL, NULL},
};

static void fuzz_one(struct t *t, const struct refusal *seed, uint32_t *rs)
{
	char body[512];
	size_t len = strlen(expand(t, seed->body ? seed->body : ""));
	unsigned int st;

	assert_true(len < sizeof(body));
	memcpy(body, t->body, len + 1);
	for (unsigned int k = rng_next(rs) % 4 + 1; k && len; k--) {
		uint32_t r = rng_next(rs);

		if (r % 3 == 0)
			body[r / 3 % len] = (char)(rng_next(rs) & 0xff);
		else if (r % 3 == 1)
			len = r / 3 % len;
		else
			body[r / 3 % len] = "{}[]\":,0-e\\ntf"[rng_next(rs) % 15];
	}
	body[len] = '\0';
	st = request_raw(t, seed->method, seed->path, body, len, NULL, NULL);
	assert_true(st == 200 || st == 204 || st == 400);
}

static void test_any_bytes(void **state)
{
	static const char nul_body[] = "{\"kernel_image_path\": \"a\0b\"}";
	struct t *t = *state;
	uint32_t rs = 12345;
	char path[64];
	unsigned int st;

	for (int round = 0; round < 400; round++)
		for (size_t i = 0; i < sizeof(fuzz_seeds) / sizeof(fuzz_seeds[0]); i++)
			fuzz_one(t, &fuzz_seeds[i], &rs);
	for (int round = 0; round < 2000; round++) {
		size_t n = rng_next(&rs) % (sizeof(path) - 1);

		/* "/x...": no route of Firecracker's starts so */
		path[0] = '/';
		path[1] = 'x';
		for (size_t i = 2; i < n; i++)
			path[i] = (char)(rng_next(&rs) % 255 + 1);
		path[n > 2 ? n : 2] = '\0';
		st = request_raw(t, round % 2 ? "GET" : "PUT", path, "{}", 2, NULL, NULL);
		assert_int_equal(st, 400);
	}
	st = request_raw(t, "PUT", "/boot-source", nul_body, sizeof(nul_body) - 1, NULL, NULL);
	assert_int_equal(st, 400);
	st = request_raw(t, NULL, "/", "", 0, NULL, NULL);
	assert_int_equal(st, 400);
}

static void test_snapshot_create(void **state)
{
	static const char full[] =
	    "{\"snapshot_type\": \"Full\", \"snapshot_path\": \"@D0@\", \"mem_file_path\": "
	    "\"@D1@\"}";
	static const char diff[] =
	    "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"@D0@\", \"mem_file_path\": "
	    "\"@D1@\"}";
	struct t *t = *state;

	bad(t, "PUT", "/snapshot/create", full, "not running");
	start(t);
	bad(t, "PUT", "/snapshot/create", full, "must be paused");
	ok(t, "PATCH", "/vm", "{\"state\": \"Paused\"}");
	/* Firecracker's fields, checked */
	bad(t, "PUT", "/snapshot/create", "{\"snapshot_path\": \"@D0@\"}",
	    "missing field `mem_file_path`");
	bad(t, "PUT", "/snapshot/create",
	    "{\"snapshot_type\": \"Half\", \"snapshot_path\": \"@D0@\", \"mem_file_path\": "
	    "\"@D1@\"}",
	    "unknown variant `Half` for `snapshot_type`");
	bad(t, "PUT", "/snapshot/create",
	    "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", \"version\": \"1.0\"}",
	    "unknown field `version`");
	bad(t, "PUT", "/snapshot/create", "{\"snapshot_path\": \"\", \"mem_file_path\": \"@D1@\"}",
	    "must not be empty");
	/* a diff snapshot needs dirty page tracking, off here */
	bad(t, "PUT", "/snapshot/create", diff, "track_dirty_pages");
	assert_int_equal(t->f.snapshots, 0);
	ok(t, "PUT", "/snapshot/create", full);
	ok(t, "PUT", "/snapshot/create",
	   "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\"}"); /* Full by default */
	assert_int_equal(t->f.snapshots, 2);
	assert_false(t->f.snap.diff);
	expect_state(t, "Paused");
}

static void test_snapshot_create_diff(void **state)
{
	struct t *t = *state;

	ok(t, "PUT", "/machine-config",
	   "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"track_dirty_pages\": true}");
	start(t);
	ok(t, "PATCH", "/vm", "{\"state\": \"Paused\"}");
	ok(t, "PUT", "/snapshot/create",
	   "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"@D0@\", \"mem_file_path\": "
	   "\"@D1@\"}");
	assert_true(t->f.snap.diff);
}

/* A fresh controller for each load. */
static void reset(struct t *t)
{
	api_vmm_destroy(&t->v);
	t_init_vmm(t);
}

static void test_snapshot_load(void **state)
{
	struct t *t = *state;
	json_t *j;

	/* mem_backend, resumed */
	ok(t, "PUT", "/snapshot/load",
	   "{\"snapshot_path\": \"@D0@\", \"mem_backend\": {\"backend_type\": \"File\", "
	   "\"backend_path\": \"@D1@\"}, \"resume_vm\": true}");
	assert_int_equal(t->f.restores, 1);
	assert_true(t->f.load.resume);
	assert_false(t->f.load.track_dirty_pages);
	expect_state(t, "Running");
	/* the restored configuration is what GET /vm/config says */
	j = get(t, "/vm/config");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "machine-config"), "vcpu_count")),
	    2);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(j, "network-interfaces"), 0), "host_dev_name")),
	    "tap0");
	json_decref(j);
	/* once loaded, no second load and no configuration */
	bad(t, "PUT", "/snapshot/load",
	    "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\"}", "fresh");
	bad(t, "PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128}",
	    "after the VM has started");
	/* the deprecated mem_file_path and enable_diff_snapshots; paused; a NIC moved */
	reset(t);
	ok(t, "PUT", "/snapshot/load",
	   "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", "
	   "\"enable_diff_snapshots\": true, \"network_overrides\": [{\"iface_id\": \"eth0\", "
	   "\"host_dev_name\": \"tap7\"}]}");
	expect_state(t, "Paused");
	assert_true(t->f.load.track_dirty_pages);
	assert_int_equal(t->f.load.nr_nets, 1);
	j = get(t, "/vm/config");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(j, "network-interfaces"), 0), "host_dev_name")),
	    "tap7");
	json_decref(j);
	/* and a snapshot of it: diff allowed, tracking asked for at load */
	ok(t, "PUT", "/snapshot/create",
	   "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"@D0@\", \"mem_file_path\": "
	   "\"@D1@\"}");
	/* the logger before a load is allowed, as in Firecracker */
	reset(t);
	ok(t, "PUT", "/logger", "{\"level\": \"Info\"}");
	ok(t, "PUT", "/snapshot/load",
	   "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", \"track_dirty_pages\": "
	   "true}");
}

static void test_snapshot_load_refusals(void **state)
{
	static const struct refusal r[] = {
	    {"PUT", "/snapshot/load", "{\"snapshot_path\": \"@D0@\"}",
	     "either `mem_backend` or `mem_file_path`"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", \"mem_backend\": "
	     "{\"backend_type\": \"File\", \"backend_path\": \"@D1@\"}}",
	     "not both"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_backend\": {\"backend_type\": \"Uffd\", "
	     "\"backend_path\": \"/uffd.sock\"}}",
	     "`Uffd`"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_backend\": {\"backend_type\": \"File\"}}",
	     "mem_backend: missing field `backend_path`"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_backend\": {\"backend_type\": \"Disk\", "
	     "\"backend_path\": \"@D1@\"}}",
	     "unknown variant `Disk`"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", \"resume\": true}",
	     "unknown field `resume`"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", \"resume_vm\": 1}",
	     "invalid type for `resume_vm`"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"/nonexistent/vm.snap\", \"mem_file_path\": \"@D1@\"}",
	     "snapshot state file /nonexistent/vm.snap: No such file or directory"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"/nonexistent/vm.mem\"}",
	     "/nonexistent/vm.mem"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", "
	     "\"network_overrides\": [{\"iface_id\": \"eth9\", \"host_dev_name\": \"tap9\"}]}",
	     "network interface eth9: the snapshot has no such interface"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", "
	     "\"network_overrides\": [{\"iface_id\": \"eth0\"}]}",
	     "network_overrides[0]: missing field `host_dev_name`"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", "
	     "\"network_overrides\": {}}",
	     "invalid type for `network_overrides`"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", "
	     "\"network_overrides\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"a/b\"}]}",
	     "not a valid TAP name"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", "
	     "\"drive_overrides\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D1@\"}]}",
	     "drive rootfs: the snapshot has no such drive"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", "
	     "\"vsock_override\": {\"uds_path\": \"/v.sock\"}}",
	     "vsock_override"},
	    {"PUT", "/snapshot/load",
	     "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", \"clock_realtime\": "
	     "true}",
	     "clock_realtime"},
	};
	struct t *t = *state;

	run_refusals(t, r, sizeof(r) / sizeof(r[0]));
	assert_int_equal(t->f.restores, 0);
	expect_state(t, "Not started");
	/* still fresh after every refusal */
	ok(t, "PUT", "/snapshot/load",
	   "{\"snapshot_path\": \"@D0@\", \"mem_file_path\": \"@D1@\", \"clock_realtime\": "
	   "false}");
}

static void test_match(void **state)
{
	assert_true(api_fc_frontend.match("/"));
	assert_true(api_fc_frontend.match("/machine-config"));
	assert_true(api_fc_frontend.match("/api/v1"));
	assert_false(api_fc_frontend.match("/api/v1/vm.info"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_instance_info),
	    T(test_version),
	    T(test_machine_config),
	    T(test_boot_source),
	    T(test_drives),
	    T(test_network_interfaces),
	    T(test_entropy_and_serial),
	    T(test_vsock),
	    T(test_vsock),
	    T(test_logger_and_metrics),
	    T(test_actions),
	    T(test_patch_devices),
	    T(test_balloon),
	    T(test_refusals_before_start),
	    T(test_refusals_after_start),
	    T(test_vm_config),
	    T(test_config_file),
	    T(test_config_file_round_trip),
	    T(test_config_file_refusals),
	    T(test_config_file_refused_drive),
	    T(test_snapshot_create),
	    T(test_snapshot_create_diff),
	    T(test_snapshot_load),
	    T(test_snapshot_load_refusals),
	    T(test_any_bytes),
	    T(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
