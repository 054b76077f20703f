// SPDX-License-Identifier: GPL-2.0-only
/* Cloud Hypervisor's routes on the controller, with a fake backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_http.h"
#include "api/api_vmm.h"
#include "api/ch_api.h"

/* ---- a backend that records the calls ---- */

struct fake {
	int boots, pauses, resumes, shutdowns, reboots, power_buttons, exits, snapshots, restores;
	char snap_state[256], snap_mem[256], load_state[256], load_mem[256];
	bool load_resume;
	int exit_status;
	bool fail_boot;
	struct api_vm_spec booted; /* what the last boot was given */
	uint32_t balloon_target;
};

static int fake_boot(void *ctx, const struct api_vm_spec *spec, struct api_err *err)
{
	struct fake *f = ctx;

	if (f->fail_boot)
		return api_fail(err, -EIO, "the fake machine refuses to boot");
	f->boots++;
	api_vm_spec_free(&f->booted);
	return api_vm_spec_copy(&f->booted, spec);
}

static int fake_pause(void *ctx, struct api_err *err)
{
	(void)err;
	((struct fake *)ctx)->pauses++;
	return 0;
}

static int fake_resume(void *ctx, struct api_err *err)
{
	(void)err;
	((struct fake *)ctx)->resumes++;
	return 0;
}

static int fake_shutdown(void *ctx, int status, struct api_err *err)
{
	(void)status;
	(void)err;
	((struct fake *)ctx)->shutdowns++;
	return 0;
}

static int fake_reboot(void *ctx, struct api_err *err)
{
	(void)err;
	((struct fake *)ctx)->reboots++;
	return 0;
}

static int fake_power_button(void *ctx, struct api_err *err)
{
	(void)err;
	((struct fake *)ctx)->power_buttons++;
	return 0;
}

static int fake_nothing(void *ctx, struct api_err *err)
{
	(void)ctx;
	(void)err;
	return 0;
}

static int fake_drive_update(void *ctx, unsigned int idx, const char *path, struct api_err *err)
{
	(void)ctx;
	(void)idx;
	(void)path;
	(void)err;
	return 0;
}

static int fake_balloon(void *ctx, const uint32_t *target, const unsigned int *interval,
			struct virtio_balloon_info *out, struct api_err *err)
{
	struct fake *f = ctx;

	if (target)
		f->balloon_target = *target;
	return 0;
}

static void fake_counters(void *ctx, struct api_counters *out)
{
	(void)ctx;
	out->has_balloon = true;
	out->balloon.counts.reported = 9;
	out->nr_disks = 1;
	snprintf(out->disks[0].id, sizeof(out->disks[0].id), "_disk0");
	out->disks[0].kicks = 7;
	out->disks[0].interrupts = 5;
	out->nr_nets = 1;
	snprintf(out->nets[0].id, sizeof(out->nets[0].id), "net-a");
	out->nets[0].rx_packets = 3;
	out->nets[0].rx_bytes = 300;
	out->nets[0].tx_packets = 4;
	out->nets[0].tx_bytes = 400;
}

static int fake_snapshot(void *ctx, const struct api_snapshot_req *req, const void *config,
			 size_t len, struct api_err *err)
{
	struct fake *f = ctx;

	f->snapshots++;
	snprintf(f->snap_state, sizeof(f->snap_state), "%s", req->state_path);
	snprintf(f->snap_mem, sizeof(f->snap_mem), "%s", req->mem_path);
	return 0;
}

static const char fake_stored[] = "{\"petrel_spec\": 1, \"cpus\": 3, \"mem_mib\": 256, "
				  "\"boot\": \"kernel\", \"kernel\": \"/boot/vmlinux\"}";

static int fake_restore(void *ctx, const struct api_restore_req *req, struct api_vm_spec *spec,
			struct api_err *err)
{
	struct fake *f = ctx;
	int ret = api_restore_spec(fake_stored, strlen(fake_stored), req, spec, err);

	if (!ret) {
		f->restores++;
		f->load_resume = req->resume;
		snprintf(f->load_state, sizeof(f->load_state), "%s", req->state_path);
		snprintf(f->load_mem, sizeof(f->load_mem), "%s", req->mem_path);
	}
	return ret;
}

static void fake_exit_vmm(void *ctx, int status)
{
	struct fake *f = ctx;

	f->exits++;
	f->exit_status = status;
}

static const struct api_backend fake_backend = {
    .boot = fake_boot,
    .pause = fake_pause,
    .resume = fake_resume,
    .shutdown = fake_shutdown,
    .reboot = fake_reboot,
    .ctrl_alt_del = fake_nothing,
    .power_button = fake_power_button,
    .drive_update = fake_drive_update,
    .balloon = fake_balloon,
    .snapshot = fake_snapshot,
    .restore = fake_restore,
    .counters = fake_counters,
    .exit_vmm = fake_exit_vmm,
};

/* ---- fixture: a controller as `petrel api` starts it for CH tooling ---- */

struct fix {
	struct api_vmm v;
	struct fake f;
	char kernel[64], disk[64], disk2[64];
	struct api_response rs;
	json_t *body; /* the last response's body, parsed */
};

static void temp_file(char *path, size_t size)
{
	int fd;

	snprintf(path, size, "/tmp/petrel-ch-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	api_vmm_init(&x->v, &fake_backend, &x->f, NULL);
	x->v.state = API_VM_NONE; /* the server does the same for the CH front-end */
	temp_file(x->kernel, sizeof(x->kernel));
	temp_file(x->disk, sizeof(x->disk));
	temp_file(x->disk2, sizeof(x->disk2));
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fix *x = *state;

	api_response_free(&x->rs);
	json_decref(x->body);
	api_vmm_destroy(&x->v);
	api_vm_spec_free(&x->f.booted);
	unlink(x->kernel);
	unlink(x->disk);
	unlink(x->disk2);
	free(x);
	return 0;
}

/* Send a request; returns the status, the body parsed in x->body (or NULL). */
static unsigned int call(struct fix *x, const char *method, const char *path, const char *body)
{
	struct api_request rq = {method, path, body ? body : "", body ? strlen(body) : 0};

	api_response_free(&x->rs);
	json_decref(x->body);
	x->body = NULL;
	memset(&x->rs, 0, sizeof(x->rs));
	assert_true(api_ch_frontend.match(path));
	api_ch_frontend.handle(&x->v, &rq, &x->rs);
	if (x->rs.body) {
		x->body = json_loads(x->rs.body, 0, NULL);
		assert_non_null(x->body);
	}
	return x->rs.status;
}

/* The error body is a list of messages; does one of them contain @text? */
static bool error_says(const struct fix *x, const char *text)
{
	size_t i;
	json_t *m;

	if (!json_is_array(x->body))
		return false;
	json_array_foreach(x->body, i, m) if (json_is_string(m) &&
					      strstr(json_string_value(m), text)) return true;
	return false;
}

static const char *state_of(struct fix *x)
{
	if (call(x, "GET", "/api/v1/vm.info", NULL) != 200)
		return "(none)";
	return json_string_value(json_object_get(x->body, "state"));
}

/* A good VmConfig with @extra (",\"key\": ..." or "") added at its top level. */
static unsigned int create(struct fix *x, const char *extra)
{
	char body[2048];

	snprintf(body, sizeof(body),
		 "{\"cpus\": {\"boot_vcpus\": 2, \"max_vcpus\": 2},"
		 " \"memory\": {\"size\": 268435456, \"shared\": false, \"hugepages\": false},"
		 " \"payload\": {\"kernel\": \"%s\", \"cmdline\": \"console=hvc0 quiet\"},"
		 " \"disks\": [{\"path\": \"%s\", \"readonly\": true},"
		 " {\"path\": \"%s\", \"direct\": true, \"id\": \"data\", \"serial\": \"SN1\"}],"
		 " \"net\": [{\"tap\": \"tap0\", \"mac\": \"52:54:00:ab:cd:ef\", \"id\": "
		 "\"net-a\"}, {\"tap\": \"tap1\"}],"
		 " \"rng\": {\"src\": \"/dev/urandom\"},"
		 " \"serial\": {\"mode\": \"Null\"}, \"console\": {\"mode\": \"Tty\"}%s}",
		 x->kernel, x->disk, x->disk2, extra);
	return call(x, "PUT", "/api/v1/vm.create", body);
}

/* ---- tests ---- */

static void test_match(void **state)
{
	(void)state;
	assert_true(api_ch_frontend.match("/api/v1/vm.info"));
	assert_true(api_ch_frontend.match("/api/v1/"));
	assert_false(api_ch_frontend.match("/machine-config"));
	assert_false(api_ch_frontend.match("/api/v2/vm.info"));
	assert_false(api_ch_frontend.match("/api/v1"));
}

static void test_ping(void **state)
{
	struct fix *x = *state;

	assert_int_equal(call(x, "GET", "/api/v1/vmm.ping", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(x->body, "version")), PETREL_VERSION);
	assert_non_null(json_string_value(json_object_get(x->body, "build_version")));
	assert_int_equal(json_integer_value(json_object_get(x->body, "pid")), getpid());
	assert_true(json_is_array(json_object_get(x->body, "features")));
	assert_int_equal(call(x, "PUT", "/api/v1/vmm.ping", NULL), 400);
	assert_true(error_says(x, "Bad Request"));
}

static void test_create_good(void **state)
{
	struct fix *x = *state;
	struct api_vm_spec s;

	assert_int_equal(create(x, ""), 204);
	assert_null(x->rs.body);
	assert_int_equal(api_vmm_get_spec(&x->v, &s), 0);
	assert_int_equal(s.cpus, 2);
	assert_int_equal(s.mem_mib, 256);
	assert_string_equal(s.kernel, x->kernel);
	assert_string_equal(s.cmdline, "console=hvc0 quiet");
	assert_null(s.initramfs);
	assert_int_equal(s.nr_drives, 2);
	assert_string_equal(s.drives[0].id, "_disk0");
	assert_string_equal(s.drives[0].path, x->disk);
	assert_true(s.drives[0].readonly);
	assert_false(s.drives[0].direct);
	assert_string_equal(s.drives[1].id, "data");
	assert_true(s.drives[1].direct);
	assert_string_equal(s.drives[1].serial, "SN1");
	assert_int_equal(s.nr_nets, 2);
	assert_string_equal(s.nets[0].id, "net-a");
	assert_true(s.nets[0].has_mac);
	assert_int_equal(s.nets[0].mac[5], 0xef);
	/* one counter over the unnamed devices, disks first (as Cloud Hypervisor) */
	assert_string_equal(s.nets[1].id, "_net1");
	assert_string_equal(s.nets[1].tap, "tap1");
	assert_false(s.nets[1].has_mac);
	assert_true(s.rng);
	assert_true(s.console_hvc);
	assert_int_equal(s.serial, API_SERIAL_STDIO);
	api_vm_spec_free(&s);
	assert_string_equal(state_of(x), "Created");

	/* a second create: Cloud Hypervisor's VmAlreadyCreated */
	assert_int_equal(create(x, ""), 500);
	assert_true(error_says(x, "VM is already created"));
}

static void test_create_vsock(void **state)
{
	struct fix *x = *state;
	struct api_vm_spec s;
	json_t *v;

	assert_int_equal(create(x, ", \"vsock\": {\"cid\": 3, \"socket\": "
				   "\"/tmp/petrel-ch-test-no-such-dir/v.sock\", \"id\": \"vs\", "
				   "\"iommu\": false, \"pci_segment\": 0}"),
			 204);
	assert_int_equal(api_vmm_get_spec(&x->v, &s), 0);
	assert_true(s.has_vsock);
	assert_int_equal(s.vsock.cid, 3);
	assert_string_equal(s.vsock.uds, "/tmp/petrel-ch-test-no-such-dir/v.sock");
	assert_string_equal(s.vsock.id, "vs");
	api_vm_spec_free(&s);
	assert_int_equal(call(x, "GET", "/api/v1/vm.info", NULL), 200);
	v = json_object_get(json_object_get(x->body, "config"), "vsock");
	assert_int_equal(json_integer_value(json_object_get(v, "cid")), 3);
	assert_string_equal(json_string_value(json_object_get(v, "socket")),
			    "/tmp/petrel-ch-test-no-such-dir/v.sock");
}

static void test_create_defaults(void **state)
{
	struct fix *x = *state;
	char body[512];
	struct api_vm_spec s;

	snprintf(body, sizeof(body), "{\"payload\": {\"kernel\": \"%s\"}, \"unknown\": [1]}",
		 x->kernel);
	/* unknown fields are ignored: VmConfig does not deny them */
	assert_int_equal(call(x, "PUT", "/api/v1/vm.create", body), 204);
	assert_int_equal(api_vmm_get_spec(&x->v, &s), 0);
	assert_int_equal(s.cpus, 1);
	assert_int_equal(s.mem_mib, 512);
	assert_true(s.rng);
	assert_true(s.console_hvc);
	assert_int_equal(s.nr_drives, 0);
	api_vm_spec_free(&s);
}

/* memory.shared: guest RAM in a memfd (a local migration hands it over), and reported. */
static void test_create_shared_memory(void **state)
{
	struct fix *x = *state;
	char body[512];
	struct api_vm_spec s;

	assert_false(x->v.spec.mem_shared);
	snprintf(body, sizeof(body),
		 "{\"payload\": {\"kernel\": \"%s\"}, \"memory\": {\"size\": 268435456, "
		 "\"shared\": true}}",
		 x->kernel);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.create", body), 204);
	assert_int_equal(api_vmm_get_spec(&x->v, &s), 0);
	assert_true(s.mem_shared);
	api_vm_spec_free(&s);
	assert_int_equal(call(x, "GET", "/api/v1/vm.info", NULL), 200);
	assert_true(json_is_true(json_object_get(
	    json_object_get(json_object_get(x->body, "config"), "memory"), "shared")));
}

static void test_create_serial_modes(void **state)
{
	struct fix *x = *state;
	struct api_vm_spec s;

	/* serial to a file, no virtio console */
	assert_int_equal(call(x, "PUT", "/api/v1/vm.create",
			      "{\"payload\": {\"kernel\": \"/dev/null\"},"
			      " \"serial\": {\"mode\": \"File\", \"file\": \"/tmp/ser.log\"},"
			      " \"console\": {\"mode\": \"Off\"}}"),
			 204);
	assert_int_equal(api_vmm_get_spec(&x->v, &s), 0);
	assert_false(s.console_hvc);
	assert_int_equal(s.serial, API_SERIAL_FILE);
	assert_string_equal(s.serial_path, "/tmp/ser.log");
	api_vm_spec_free(&s);
	assert_int_equal(call(x, "GET", "/api/v1/vm.info", NULL), 200);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(x->body, "config"), "serial"), "mode")),
	    "File");
}

/* Each bad configuration is refused and leaves the VM not created. */
static void expect_refused(struct fix *x, unsigned int status, const char *body, const char *why)
{
	assert_int_equal(call(x, "PUT", "/api/v1/vm.create", body), status);
	if (why && !error_says(x, why)) {
		print_error("body %s\nanswer %s\n", body, x->rs.body ? x->rs.body : "(none)");
		fail();
	}
	assert_int_equal(api_vmm_state(&x->v), API_VM_NONE);
	assert_int_equal(call(x, "GET", "/api/v1/vm.info", NULL), 404);
}

static void expect_refused_extra(struct fix *x, unsigned int status, const char *extra,
				 const char *why)
{
	assert_int_equal(create(x, extra), status);
	if (why && !error_says(x, why)) {
		print_error("extra %s\nanswer %s\n", extra, x->rs.body ? x->rs.body : "(none)");
		fail();
	}
	assert_int_equal(api_vmm_state(&x->v), API_VM_NONE);
}

static void test_create_bad(void **state)
{
	struct fix *x = *state;
	char body[512];

	assert_int_equal(call(x, "PUT", "/api/v1/vm.create", NULL), 400);
	assert_null(x->rs.body); /* Cloud Hypervisor: a create without a body */
	expect_refused(x, 400, "{\"cpus\": ", "Failed to deserialize JSON");
	expect_refused(x, 400, "[1, 2]", "Failed to deserialize JSON");
	expect_refused(x, 400, "{\"cpus\": {\"boot_vcpus\": \"2\", \"max_vcpus\": 2}}",
		       "cpus.boot_vcpus");
	expect_refused(x, 400, "{\"cpus\": {\"max_vcpus\": 2}}", "missing field `boot_vcpus`");
	expect_refused(x, 400, "{\"memory\": {\"size\": -1}}", "memory.size");
	expect_refused(x, 400, "{\"memory\": {\"size\": 1.5}}", "memory.size");
	expect_refused(x, 400,
		       "{\"payload\": {\"kernel\": \"/dev/null\"}, \"disks\": {\"path\": \"/x\"}}",
		       "disks");
	expect_refused(x, 400, "{\"payload\": {\"kernel\": \"/dev/null\"}, \"disks\": [7]}",
		       "disks[0]");
	expect_refused(x, 400, "{\"a\": 1, \"a\": 2}", "duplicate");
	expect_refused(
	    x, 400, "{\"payload\": {\"kernel\": \"/dev/null\"}, \"serial\": {\"mode\": \"Loud\"}}",
	    "serial.mode");
	snprintf(body, sizeof(body), "{\"payload\": {\"kernel\": \"%s\"}, \"cpus\": 4}", x->kernel);
	expect_refused(x, 400, body, "cpus");
	/* no kernel, firmware, a kernel that is not there */
	expect_refused(x, 400, "{}", "payload.kernel is required");
	expect_refused(x, 400, "{\"payload\": {\"firmware\": \"/dev/null\"}}", "firmware");
	expect_refused(x, 400, "{\"payload\": {\"kernel\": \"/nonexistent/vmlinuz\"}}",
		       "/nonexistent/vmlinuz");
	/* bytes that are not JSON at all */
	expect_refused(x, 400, "\xff\xfe\x01", "Failed to deserialize JSON");

	/* what petrel cannot do, on an otherwise good configuration */
	expect_refused_extra(x, 400, ",\"cpus\": {\"boot_vcpus\": 2, \"max_vcpus\": 4}", NULL);
	expect_refused_extra(x, 400, ",\"fs\": [{\"tag\": \"x\", \"socket\": \"/s\"}]", "fs");
	expect_refused_extra(x, 400, ",\"iommu\": true", "iommu");
	expect_refused_extra(x, 400, ",\"iommu\": 1", "iommu");
	expect_refused_extra(x, 400, ",\"platform\": {\"num_pci_segments\": 2}",
			     "num_pci_segments");
}

static void test_create_bad_fields(void **state)
{
	struct fix *x = *state;
	char body[1024];
	static const struct {
		const char *part, *why;
		unsigned int status;
	} bad[] = {
	    {"\"cpus\": {\"boot_vcpus\": 2, \"max_vcpus\": 4}", "hotplug", 400},
	    {"\"cpus\": {\"boot_vcpus\": 1, \"max_vcpus\": 1, \"topology\": {}}", "topology", 400},
	    {"\"memory\": {\"size\": 268435457}", "multiple of 1048576", 400},
	    {"\"memory\": {\"size\": 268435456, \"hugepages\": true}", "memory.hugepages", 400},
	    {"\"memory\": {\"size\": 268435456, \"hugepages\": true}", "memory.hugepages", 400},
	    {"\"memory\": {\"size\": 8388608}", "out of range", 400},
	    {"\"disks\": [{\"readonly\": true}]", "needs path", 400},
	    {"\"disks\": [{\"path\": \"/nonexistent/disk\"}]", "/nonexistent/disk", 400},
	    {"\"disks\": [{\"path\": \"DISK\", \"vhost_user\": true}]", "vhost_user", 400},
	    {"\"disks\": [{\"path\": \"DISK\", \"num_queues\": 4}]", "num_queues", 400},
	    {"\"disks\": [{\"path\": \"DISK\", \"readonly\": \"yes\"}]", "readonly", 400},
	    {"\"disks\": [{\"path\": \"DISK\"}, {\"path\": \"DISK\"}]", "Duplicated device path",
	     409},
	    {"\"disks\": [{\"path\": \"DISK\", \"id\": \"__x\"}]", "is not valid", 400},
	    {"\"disks\": [{\"path\": \"DISK\", \"id\": \"a\"}], \"net\": [{\"tap\": \"t0\", "
	     "\"id\": \"a\"}]",
	     "is not unique", 409},
	    {"\"net\": [{\"mac\": \"52:54:00:00:00:01\"}]", "needs tap", 400},
	    {"\"net\": [{\"tap\": \"t0\", \"ip\": \"192.168.1.1\"}]", "ip, mask", 400},
	    {"\"net\": [{\"tap\": \"t0\", \"mac\": \"52:54:00:00:00\"}]", "mac", 400},
	    {"\"net\": [{\"tap\": \"t0\", \"mac\": \"01:54:00:00:00:01\"}]", "unicast", 400},
	    {"\"net\": [{\"tap\": \"t0\"}, {\"tap\": \"t0\"}]", "already used", 409},
	    {"\"net\": [{\"tap\": \"a-name-far-too-long\"}]", "TAP", 400},
	    {"\"net\": [{\"tap\": \"t0\", \"mtu\": 9000}]", "mtu", 400},
	    {"\"rng\": {\"src\": \"/tmp/entropy\"}", "rng.src", 400},
	    {"\"vsock\": {\"cid\": 2, \"socket\": \"/tmp/petrel-no-such/v\"}", "vsock.cid", 400},
	    {"\"vsock\": {\"cid\": 3}", "socket", 400},
	    {"\"vsock\": {\"cid\": 3, \"socket\": \"/tmp/petrel-no-such/v\", \"iommu\": true}",
	     "vsock.iommu", 400},
	    {"\"serial\": {\"mode\": \"Tty\"}, \"console\": {\"mode\": \"Tty\"}", "one console",
	     400},
	    {"\"serial\": {\"mode\": \"Pty\"}, \"console\": {\"mode\": \"Off\"}", "Pty", 400},
	    {"\"serial\": {\"mode\": \"File\"}, \"console\": {\"mode\": \"Off\"}", "Path missing",
	     400},
	    {"\"console\": {\"mode\": \"Tty\", \"iommu\": true}", "console.iommu", 400},
	    {"\"debug_console\": {\"mode\": \"Tty\"}", "debug_console.mode", 400},
	};
	char part[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *d = strstr(bad[i].part, "DISK");

		/* DISK stands for the test's disk image */
		if (d) {
			snprintf(part, sizeof(part), "%s", bad[i].part);
			for (char *p; (p = strstr(part, "DISK"));) {
				char rest[512];

				snprintf(rest, sizeof(rest), "%s", p + 4);
				snprintf(p, sizeof(part) - (size_t)(p - part), "%s%s", x->disk,
					 rest);
			}
		} else {
			snprintf(part, sizeof(part), "%s", bad[i].part);
		}
		snprintf(body, sizeof(body), "{\"payload\": {\"kernel\": \"%s\"}, %s}", x->kernel,
			 part);
		expect_refused(x, bad[i].status, body, bad[i].why);
	}
}

static void test_lifecycle(void **state)
{
	struct fix *x = *state;

	/* before vm.create */
	assert_int_equal(call(x, "GET", "/api/v1/vm.info", NULL), 404);
	assert_true(error_says(x, "VM is not created"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 404);
	assert_true(error_says(x, "VM config is missing"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.pause", NULL), 500);
	assert_true(error_says(x, "VM is not running"));

	assert_int_equal(create(x, ""), 204);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resume", NULL), 500);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.shutdown", NULL), 500);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.reboot", NULL), 404);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.power-button", NULL), 500);
	assert_string_equal(state_of(x), "Created");

	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 204);
	assert_int_equal(x->f.boots, 1);
	assert_int_equal(x->f.booted.cpus, 2);
	assert_string_equal(state_of(x), "Running");
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 500);
	assert_true(error_says(x, "VM is already created"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resume", NULL), 500);
	assert_true(error_says(x, "InvalidStateTransition(Running, Running)"));

	assert_int_equal(call(x, "PUT", "/api/v1/vm.pause", NULL), 204);
	assert_string_equal(state_of(x), "Paused");
	assert_int_equal(call(x, "PUT", "/api/v1/vm.pause", NULL), 500);
	assert_true(error_says(x, "InvalidStateTransition(Paused, Paused)"));
	assert_int_equal(x->f.pauses, 1);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resume", NULL), 204);
	assert_string_equal(state_of(x), "Running");

	assert_int_equal(call(x, "PUT", "/api/v1/vm.reboot", NULL), 204);
	assert_int_equal(x->f.reboots, 1);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.power-button", NULL), 204);
	assert_int_equal(x->f.power_buttons, 1);

	assert_int_equal(call(x, "PUT", "/api/v1/vm.shutdown", NULL), 204);
	assert_int_equal(x->f.shutdowns, 1);
	assert_string_equal(state_of(x), "Shutdown");

	/* boot again after a shutdown; then a boot that fails keeps the VM shut down */
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 204);
	assert_int_equal(x->f.boots, 2);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.shutdown", NULL), 204);
	x->f.fail_boot = true;
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 500);
	assert_true(error_says(x, "refuses to boot"));
	assert_string_equal(state_of(x), "Shutdown");
	x->f.fail_boot = false;

	/* delete, twice (the second is a no-op for Cloud Hypervisor), then create again */
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 204);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.delete", NULL), 204);
	assert_int_equal(x->f.shutdowns, 3);
	assert_int_equal(call(x, "GET", "/api/v1/vm.info", NULL), 404);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.delete", NULL), 204);
	assert_int_equal(create(x, ""), 204);
	assert_string_equal(state_of(x), "Created");
}

static void test_info(void **state)
{
	struct fix *x = *state;
	json_t *cfg, *disks, *net;

	assert_int_equal(create(x, ""), 204);
	assert_int_equal(call(x, "GET", "/api/v1/vm.info", NULL), 200);
	assert_int_equal(json_integer_value(json_object_get(x->body, "memory_actual_size")),
			 268435456);
	cfg = json_object_get(x->body, "config");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(cfg, "cpus"), "boot_vcpus")), 2);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(cfg, "memory"), "size")), 268435456);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cfg, "payload"), "kernel")),
	    x->kernel);
	disks = json_object_get(cfg, "disks");
	assert_int_equal(json_array_size(disks), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 0), "id")),
			    "_disk0");
	assert_true(json_is_true(json_object_get(json_array_get(disks, 0), "readonly")));
	net = json_object_get(cfg, "net");
	assert_string_equal(json_string_value(json_object_get(json_array_get(net, 0), "mac")),
			    "52:54:00:ab:cd:ef");
	assert_string_equal(json_string_value(json_object_get(json_array_get(net, 1), "tap")),
			    "tap1");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cfg, "console"), "mode")), "Tty");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cfg, "serial"), "mode")), "Null");
	assert_string_equal(json_string_value(json_object_get(json_object_get(cfg, "rng"), "src")),
			    "/dev/urandom");
	assert_int_equal(call(x, "PUT", "/api/v1/vm.info", NULL), 400);
}

static void test_counters(void **state)
{
	struct fix *x = *state;
	json_t *d, *n;

	assert_int_equal(call(x, "GET", "/api/v1/vm.counters", NULL), 500);
	assert_true(error_says(x, "VM is not running"));
	assert_int_equal(create(x, ""), 204);
	assert_int_equal(call(x, "GET", "/api/v1/vm.counters", NULL), 500);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 204);
	assert_int_equal(call(x, "GET", "/api/v1/vm.counters", NULL), 200);
	d = json_object_get(x->body, "_disk0");
	assert_int_equal(json_integer_value(json_object_get(d, "queue_kicks")), 7);
	assert_int_equal(json_integer_value(json_object_get(d, "interrupts")), 5);
	n = json_object_get(x->body, "net-a");
	assert_int_equal(json_integer_value(json_object_get(n, "rx_frames")), 3);
	assert_int_equal(json_integer_value(json_object_get(n, "rx_bytes")), 300);
	assert_int_equal(json_integer_value(json_object_get(n, "tx_frames")), 4);
	assert_int_equal(json_integer_value(json_object_get(n, "tx_bytes")), 400);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(x->body, "__balloon"),
							    "reported_pages")),
			 9);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.counters", NULL), 400);
	assert_true(error_says(x, "Bad Request"));
}

static void test_balloon(void **state)
{
	struct fix *x = *state;
	json_t *b;

	/* more than the guest's 256 MiB: refused */
	assert_int_not_equal(create(x, ", \"balloon\": {\"size\": 536870912}"), 204);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.delete", NULL), 204);
	assert_int_equal(create(x, ", \"balloon\": {\"size\": 67108864, \"deflate_on_oom\": "
				   "true, \"free_page_reporting\": true}"),
			 204);
	assert_true(x->v.spec.balloon.on && x->v.spec.balloon.deflate_on_oom &&
		    x->v.spec.balloon.free_page_reporting);
	assert_int_equal(x->v.spec.balloon.target_mib, 64);
	assert_int_equal(call(x, "GET", "/api/v1/vm.info", NULL), 200);
	b = json_object_get(json_object_get(x->body, "config"), "balloon");
	assert_int_equal(json_integer_value(json_object_get(b, "size")), 67108864);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resize", "{\"desired_balloon\": 0}"), 400);
	assert_true(error_says(x, "not running"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 204);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resize", "{\"desired_balloon\": 134217728}"),
			 204);
	assert_int_equal(x->f.balloon_target, 128 * 256);
	assert_int_equal(x->v.spec.balloon.target_mib, 128);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resize", "{\"desired_vcpus\": 4}"), 400);
	assert_true(error_says(x, "balloon only"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resize", "{\"desired_balloon\": -1}"), 400);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resize", "{\"desired_balloon\": 536870912}"),
			 400);
	assert_true(error_says(x, "more than"));
	assert_int_equal(x->f.balloon_target, 128 * 256);
}

static void test_methods_and_routes(void **state)
{
	struct fix *x = *state;

	/* a VM action: GET is CH's "Bad Request", another method a bare 400 */
	assert_int_equal(call(x, "GET", "/api/v1/vm.boot", NULL), 400);
	assert_true(error_says(x, "Bad Request"));
	assert_int_equal(call(x, "POST", "/api/v1/vm.boot", NULL), 400);
	assert_null(x->rs.body);
	assert_int_equal(call(x, "DELETE", "/api/v1/vm.create", NULL), 400);
	assert_true(error_says(x, "Bad Request"));
	/* an action that takes no body refuses one */
	assert_int_equal(create(x, ""), 204);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", "{}"), 400);
	assert_int_equal(x->f.boots, 0);
	/* unknown routes, and Cloud Hypervisor's that petrel does not have */
	assert_int_equal(call(x, "GET", "/api/v1/vm.nothing", NULL), 404);
	assert_true(error_says(x, "Not Found"));
	assert_int_equal(call(x, "GET", "/api/v1/vm.info/", NULL), 404);
	assert_int_equal(call(x, "GET", "/api/v1/", NULL), 404);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.coredump", "{\"destination_url\": \"x\"}"),
			 400);
	assert_true(error_says(x, "petrel does not support vm.coredump"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.add-disk", "{\"path\": \"/x\"}"), 400);
	assert_true(error_says(x, "vm.add-disk"));
	assert_int_equal(call(x, "GET", "/api/v1/vm.resize", NULL), 400);
}

/* A directory for snapshots, with the two files when @files. */
static void snap_dir(char *dir, size_t size, bool files)
{
	char path[300];

	snprintf(dir, size, "/tmp/petrel-ch-snap-XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (!files)
		return;
	snprintf(path, sizeof(path), "%s/state", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/memory", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
}

static void rm_snap_dir(const char *dir)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/state", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/memory", dir);
	unlink(path);
	rmdir(dir);
}

static unsigned int put_url(struct fix *x, const char *route, const char *key, const char *url,
			    const char *extra)
{
	char body[512], path[64];

	snprintf(body, sizeof(body), "{\"%s\": \"%s\"%s}", key, url, extra);
	snprintf(path, sizeof(path), "/api/v1/%s", route);
	return call(x, "PUT", path, body);
}

static void test_snapshot(void **state)
{
	struct fix *x = *state;
	char dir[64], url[80], want[96];

	snap_dir(dir, sizeof(dir), false);
	snprintf(url, sizeof(url), "file://%s", dir);
	assert_int_equal(put_url(x, "vm.snapshot", "destination_url", url, ""), 404);
	assert_int_equal(create(x, ""), 204);
	assert_int_equal(put_url(x, "vm.snapshot", "destination_url", url, ""), 500);
	assert_true(error_says(x, "VM is not running"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 204);
	assert_int_equal(put_url(x, "vm.snapshot", "destination_url", url, ""), 500);
	assert_true(error_says(x, "not paused"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.pause", NULL), 204);
	/* malformed bodies and URLs */
	assert_int_equal(call(x, "PUT", "/api/v1/vm.snapshot", "{}"), 400);
	assert_true(error_says(x, "missing field `destination_url`"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.snapshot", "{\"destination_url\": 1}"), 400);
	assert_true(error_says(x, "Failed to deserialize JSON"));
	assert_int_equal(call(x, "PUT", "/api/v1/vm.snapshot", NULL), 400);
	assert_int_equal(put_url(x, "vm.snapshot", "destination_url", "tcp:1.2.3.4:5", ""), 400);
	assert_true(error_says(x, "expected file:///DIR"));
	assert_int_equal(
	    put_url(x, "vm.snapshot", "destination_url", "file:///nonexistent/dir", ""), 400);
	assert_true(error_says(x, "/nonexistent/dir: No such file or directory"));
	assert_int_equal(x->f.snapshots, 0);
	/* DIR/state and DIR/memory */
	assert_int_equal(put_url(x, "vm.snapshot", "destination_url", url, ""), 204);
	assert_int_equal(x->f.snapshots, 1);
	snprintf(want, sizeof(want), "%s/state", dir);
	assert_string_equal(x->f.snap_state, want);
	snprintf(want, sizeof(want), "%s/memory", dir);
	assert_string_equal(x->f.snap_mem, want);
	assert_string_equal(state_of(x), "Paused");
	rm_snap_dir(dir);
}

static void test_restore(void **state)
{
	struct fix *x = *state;
	char dir[64], empty[64], url[80], url_empty[80];

	snap_dir(dir, sizeof(dir), true);
	snap_dir(empty, sizeof(empty), false);
	snprintf(url, sizeof(url), "file://%s", dir);
	snprintf(url_empty, sizeof(url_empty), "file://%s", empty);
	/* refusals leave no VM */
	assert_int_equal(call(x, "PUT", "/api/v1/vm.restore", "{\"prefault\": true}"), 400);
	assert_true(error_says(x, "missing field `source_url`"));
	assert_int_equal(put_url(x, "vm.restore", "source_url", url_empty, ""), 400);
	assert_true(error_says(x, "snapshot state file"));
	assert_int_equal(put_url(x, "vm.restore", "source_url", url,
				 ", \"net_fds\": [{\"id\": \"net0\", \"num_fds\": 1}]"),
			 400);
	assert_true(error_says(x, "net_fds"));
	assert_int_equal(
	    put_url(x, "vm.restore", "source_url", url, ", \"memory_restore_mode\": \"Lazy\""),
	    400);
	assert_int_equal(put_url(x, "vm.restore", "source_url", url, ", \"resume\": 1"), 400);
	assert_int_equal(x->f.restores, 0);
	assert_string_equal(state_of(x), "(none)");
	/* prefault is accepted (the memory is faulted in on demand), resume honoured */
	assert_int_equal(put_url(x, "vm.restore", "source_url", url,
				 ", \"prefault\": true, \"resume\": true, \"net_fds\": [], "
				 "\"memory_restore_mode\": \"OnDemand\""),
			 204);
	assert_int_equal(x->f.restores, 1);
	assert_true(x->f.load_resume);
	assert_string_equal(state_of(x), "Running");
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(x->body, "config"), "cpus"), "boot_vcpus")),
	    3);
	assert_int_equal(put_url(x, "vm.restore", "source_url", url, ""), 500);
	assert_true(error_says(x, "VM is already created"));
	/* after vm.delete, a restore again; paused without resume */
	assert_int_equal(call(x, "PUT", "/api/v1/vm.delete", NULL), 204);
	assert_int_equal(put_url(x, "vm.restore", "source_url", url, ""), 204);
	assert_string_equal(state_of(x), "Paused");
	assert_int_equal(call(x, "PUT", "/api/v1/vm.resume", NULL), 204);
	/* a created VM takes no restore */
	assert_int_equal(call(x, "PUT", "/api/v1/vm.delete", NULL), 204);
	assert_int_equal(create(x, ""), 204);
	assert_int_equal(put_url(x, "vm.restore", "source_url", url, ""), 500);
	assert_int_equal(x->f.restores, 2);
	rm_snap_dir(dir);
	rm_snap_dir(empty);
}

static void test_vmm_shutdown(void **state)
{
	struct fix *x = *state;

	assert_int_equal(call(x, "GET", "/api/v1/vmm.shutdown", NULL), 400);
	assert_int_equal(x->f.exits, 0);
	assert_int_equal(create(x, ""), 204);
	assert_int_equal(call(x, "PUT", "/api/v1/vm.boot", NULL), 204);
	assert_int_equal(call(x, "PUT", "/api/v1/vmm.shutdown", NULL), 200);
	assert_null(x->rs.body);
	assert_int_equal(x->f.shutdowns, 1);
	assert_int_equal(x->f.exits, 1);
	assert_int_equal(x->f.exit_status, 0);
}

/* Any bytes as a VmConfig: an answer, no crash, no leak. */
static void test_garbage(void **state)
{
	struct fix *x = *state;
	static const char *const bodies[] = {
	    "null",
	    "\"vm\"",
	    "{\"cpus\": null}",
	    "{\"memory\": {\"size\": 99999999999999999999999}}",
	    "{\"disks\": [null]}",
	    "{\"net\": [{\"tap\": 5}]}",
	    "{\"payload\": {\"kernel\": \"a\\u0000b\"}}",
	    "{\"payload\": []}",
	    "{\"rng\": []}",
	    "{\"console\": \"Tty\"}",
	    "{\"platform\": 1}",
	    "{\"disks\": [{\"path\": \"/x\", \"image_type\": 3}]}",
	    "{\"net\": [{\"tap\": \"t\", \"fds\": 3}]}",
	};
	unsigned char bytes[64];

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		unsigned int st = call(x, "PUT", "/api/v1/vm.create", bodies[i]);

		assert_true(st == 400 || st == 409);
		assert_int_equal(api_vmm_state(&x->v), API_VM_NONE);
	}
	srand(1);
	for (int round = 0; round < 200; round++) {
		struct api_request rq = {"PUT", "/api/v1/vm.create", (const char *)bytes,
					 sizeof(bytes) - 1};

		for (size_t i = 0; i < sizeof(bytes) - 1; i++)
			bytes[i] = (unsigned char)(rand() & 0xff);
		bytes[sizeof(bytes) - 1] = 0;
		api_response_free(&x->rs);
		api_ch_frontend.handle(&x->v, &rq, &x->rs);
		assert_int_equal(x->rs.status, 400);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_vsock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_shared_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_serial_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_bad_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_info, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_balloon, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_methods_and_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vmm_shutdown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
