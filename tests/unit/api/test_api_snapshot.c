// SPDX-License-Identifier: GPL-2.0-only
/*
 * Snapshots in the controller: the specification a snapshot stores (JSON out
 * and back, malformed or edited files refused), and the state rules of
 * snapshot and restore on a fake VMM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api_vmm.h"

/* ---- a fake VMM: snapshots keep the stored configuration, restores read it back ---- */

struct fake {
	int boots, pauses, resumes, snapshots, restores;
	int fail_restore; /* errno for the backend's own part of a restore */
	char *stored;	  /* the configuration the last snapshot stored */
	size_t stored_len;
	bool last_diff, last_resume;
};

static int f_boot(void *ctx, const struct api_vm_spec *spec, struct api_err *err)
{
	((struct fake *)ctx)->boots++;
	return 0;
}

static int f_pause(void *ctx, struct api_err *err)
{
	((struct fake *)ctx)->pauses++;
	return 0;
}

static int f_resume(void *ctx, struct api_err *err)
{
	((struct fake *)ctx)->resumes++;
	return 0;
}

static int f_shutdown(void *ctx, int status, struct api_err *err)
{
	return 0;
}

static int f_ok(void *ctx, struct api_err *err)
{
	return 0;
}

static int f_update(void *ctx, unsigned int idx, const char *path, struct api_err *err)
{
	return 0;
}

static int f_snapshot(void *ctx, const struct api_snapshot_req *req, const void *config, size_t len,
		      struct api_err *err)
{
	struct fake *f = ctx;

	free(f->stored);
	f->stored = malloc(len + 1);
	assert_non_null(f->stored);
	memcpy(f->stored, config, len);
	f->stored[len] = '\0';
	f->stored_len = len;
	f->last_diff = req->diff;
	f->snapshots++;
	return 0;
}

/* As the runner: the stored specification, overrides applied, then the machine. */
static int f_restore(void *ctx, const struct api_restore_req *req, struct api_vm_spec *spec,
		     struct api_err *err)
{
	struct fake *f = ctx;
	int ret;

	ret = api_restore_spec(f->stored, f->stored_len, req, spec, err);
	if (ret)
		return ret;
	if (f->fail_restore) {
		api_vm_spec_free(spec);
		return api_fail(err, -f->fail_restore, "the fake machine cannot be restored");
	}
	f->restores++;
	f->last_resume = req->resume;
	return 0;
}

static void f_counters(void *ctx, struct api_counters *out)
{
}

static void f_exit(void *ctx, int status)
{
}

static const struct api_backend fake_backend = {
    .boot = f_boot,
    .pause = f_pause,
    .resume = f_resume,
    .shutdown = f_shutdown,
    .reboot = f_ok,
    .ctrl_alt_del = f_ok,
    .power_button = f_ok,
    .drive_update = f_update,
    .snapshot = f_snapshot,
    .restore = f_restore,
    .counters = f_counters,
    .exit_vmm = f_exit,
};

struct ctx {
	struct api_vmm v;
	struct fake f;
	char kernel[64], disk[64], disk2[64], state[64], mem[64];
};

static void tmpfile_named(char *buf, size_t size)
{
	int fd;

	snprintf(buf, size, "/tmp/petrel-snap-XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	api_vmm_init(&c->v, &fake_backend, &c->f, "vm-1");
	tmpfile_named(c->kernel, sizeof(c->kernel));
	tmpfile_named(c->disk, sizeof(c->disk));
	tmpfile_named(c->disk2, sizeof(c->disk2));
	tmpfile_named(c->state, sizeof(c->state));
	tmpfile_named(c->mem, sizeof(c->mem));
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	api_vmm_destroy(&c->v);
	unlink(c->kernel);
	unlink(c->disk);
	unlink(c->disk2);
	unlink(c->state);
	unlink(c->mem);
	free(c->f.stored);
	free(c);
	return 0;
}

/* A machine with one of everything, booted and paused, then snapshotted. */
static void configure(struct ctx *c)
{
	struct api_machine_update u = {.has_cpus = true,
				       .cpus = 2,
				       .has_mem = true,
				       .mem_mib = 256,
				       .has_track_dirty = true,
				       .track_dirty_pages = true};
	struct api_drive root = {.id = "rootfs",
				 .path = c->disk,
				 .root = true,
				 .readonly = true,
				 .partuuid = "0eaa91a0-01"};
	struct api_drive data = {.id = "data", .path = c->disk2, .direct = true, .serial = "SN-1"};
	struct api_net n0 = {
	    .id = "eth0", .tap = "tap0", .has_mac = true, .mac = {0x06, 0, 0xac, 0x10, 0, 2}};
	struct api_net n1 = {.id = "eth1", .tap = "tap1"};
	struct virtio_balloon_opts b = {
	    .on = true, .target_mib = 64, .free_page_reporting = true, .stats_interval_s = 5};
	struct api_err err = {""};

	assert_int_equal(api_vmm_set_machine(&c->v, &u, true, &err), 0);
	assert_int_equal(api_vmm_set_boot(&c->v, c->kernel, NULL, "console=ttyS0 quiet", &err), 0);
	assert_int_equal(api_vmm_put_drive(&c->v, &data, &err), 0);
	assert_int_equal(api_vmm_put_drive(&c->v, &root, &err), 0);
	assert_int_equal(api_vmm_put_net(&c->v, &n0, &err), 0);
	assert_int_equal(api_vmm_put_net(&c->v, &n1, &err), 0);
	assert_int_equal(api_vmm_set_rng(&c->v, true, &err), 0);
	assert_int_equal(api_vmm_set_balloon(&c->v, &b, &err), 0);
	assert_int_equal(api_vmm_set_serial(&c->v, API_SERIAL_FILE, "/tmp/serial.log", &err), 0);
	assert_int_equal(api_vmm_set_boot_timer(&c->v, true, &err), 0);
}

static void snapshot_paused(struct ctx *c)
{
	struct api_snapshot_req req = {.state_path = c->state, .mem_path = c->mem};
	struct api_err err = {""};

	configure(c);
	assert_int_equal(api_vmm_boot(&c->v, &err), 0);
	assert_int_equal(api_vmm_pause(&c->v, &err), 0);
	assert_int_equal(api_vmm_snapshot(&c->v, &req, &err), 0);
}

/* ---- the stored specification ---- */

static void expect_same_spec(const struct api_vm_spec *a, const struct api_vm_spec *b)
{
	assert_int_equal(a->cpus, b->cpus);
	assert_int_equal(a->mem_mib, b->mem_mib);
	assert_int_equal(a->mem_bytes, b->mem_bytes);
	assert_int_equal(a->smt, b->smt);
	assert_int_equal(a->track_dirty_pages, b->track_dirty_pages);
	assert_int_equal(a->boot, b->boot);
	assert_string_equal(a->kernel ? a->kernel : "-", b->kernel ? b->kernel : "-");
	assert_string_equal(a->cmdline ? a->cmdline : "-", b->cmdline ? b->cmdline : "-");
	assert_string_equal(a->firmware ? a->firmware : "-", b->firmware ? b->firmware : "-");
	assert_int_equal(a->nr_drives, b->nr_drives);
	for (unsigned int i = 0; i < a->nr_drives; i++) {
		const struct api_drive *x = &a->drives[i], *y = &b->drives[i];

		assert_string_equal(x->id, y->id);
		assert_string_equal(x->path, y->path);
		assert_int_equal(x->readonly, y->readonly);
		assert_int_equal(x->direct, y->direct);
		assert_int_equal(x->root, y->root);
		assert_string_equal(x->serial ? x->serial : "-", y->serial ? y->serial : "-");
		assert_string_equal(x->partuuid ? x->partuuid : "-",
				    y->partuuid ? y->partuuid : "-");
	}
	assert_int_equal(a->nr_nets, b->nr_nets);
	for (unsigned int i = 0; i < a->nr_nets; i++) {
		assert_string_equal(a->nets[i].id, b->nets[i].id);
		assert_string_equal(a->nets[i].tap, b->nets[i].tap);
		assert_int_equal(a->nets[i].has_mac, b->nets[i].has_mac);
		if (a->nets[i].has_mac)
			assert_memory_equal(a->nets[i].mac, b->nets[i].mac, 6);
	}
	assert_int_equal(a->rng, b->rng);
	assert_int_equal(a->has_vsock, b->has_vsock);
	if (a->has_vsock) {
		assert_string_equal(a->vsock.id, b->vsock.id);
		assert_int_equal(a->vsock.cid, b->vsock.cid);
		assert_string_equal(a->vsock.uds, b->vsock.uds);
	}
	assert_int_equal(a->balloon.on, b->balloon.on);
	assert_int_equal(a->balloon.target_mib, b->balloon.target_mib);
	assert_int_equal(a->balloon.deflate_on_oom, b->balloon.deflate_on_oom);
	assert_int_equal(a->balloon.free_page_reporting, b->balloon.free_page_reporting);
	assert_int_equal(a->balloon.stats_interval_s, b->balloon.stats_interval_s);
	assert_int_equal(a->serial, b->serial);
	assert_string_equal(a->serial_path ? a->serial_path : "-",
			    b->serial_path ? b->serial_path : "-");
	assert_int_equal(a->serial_max, b->serial_max);
	assert_int_equal(a->console_hvc, b->console_hvc);
	assert_int_equal(a->boot_timer, b->boot_timer);
	assert_int_equal(a->reboot_exits, b->reboot_exits);
	assert_int_equal(a->stats, b->stats);
	assert_int_equal(a->test_device, b->test_device);
	assert_int_equal(a->irqchip, b->irqchip);
}

static void round_trip(const struct api_vm_spec *s)
{
	struct api_vm_spec back;
	struct api_err err = {""};
	char *text, *again;
	size_t len;

	text = api_spec_to_json(s, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	if (api_spec_from_json(text, len, 0, &back, &err))
		fail_msg("%s\n%s", err.msg, text);
	expect_same_spec(s, &back);
	again = api_spec_to_json(&back, NULL);
	assert_string_equal(text, again);
	free(text);
	free(again);
	api_vm_spec_free(&back);
}

static void test_spec_round_trip(void **state)
{
	struct ctx *c = *state;
	struct api_local_opts lo = {.firmware = c->kernel,
				    .boot = VM_BOOT_FLAT_LONG,
				    .mem_bytes = (64 << 20) + 4096,
				    .serial_max = UINT64_MAX,
				    .reboot_exits = true,
				    .stats = true,
				    .test_device = true,
				    .irqchip = true,
				    .gdb = "tcp::1234"};
	struct api_err err = {""};

	configure(c);
	round_trip(&c->v.spec);
	/* with a vsock device */
	struct api_vsock vs = {.id = "v0", .cid = 0xfffffffe, .uds = "/tmp/petrel-no-such-dir/v"};

	assert_int_equal(api_vmm_set_vsock(&c->v, &vs, &err), 0);
	round_trip(&c->v.spec);
	/* a flat binary test guest: petrel's own settings too */
	api_vmm_destroy(&c->v);
	api_vmm_init(&c->v, &fake_backend, &c->f, NULL);
	assert_int_equal(api_vmm_set_local(&c->v, &lo, &err), 0);
	assert_int_equal(api_vmm_set_serial(&c->v, API_SERIAL_OFF, NULL, &err), 0);
	round_trip(&c->v.spec);
	/* what is the host's alone is not stored */
	char *text = api_spec_to_json(&c->v.spec, NULL);

	assert_null(strstr(text, "1234"));
	assert_non_null(strstr(text, "\"flat-long\""));
	assert_non_null(strstr(text, "\"serial_max\": null"));
	free(text);
}

/* What a user's editor or a damaged file may make of it: one line each, nothing kept. */
static void test_spec_refused(void **state)
{
	static const struct {
		const char *json, *needle;
	} bad[] = {
	    {"", "empty"},
	    {"{\"petrel_spec\": 1,", "not JSON"},
	    {"[]", "expected an object"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": \"/k\", \"cpus\": 2}",
	     "duplicate"},
	    {"{\"petrel_spec\": 2, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\"}",
	     "format 1"},
	    {"{\"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", \"kernel\": \"/k\"}",
	     "`petrel_spec`: missing"},
	    {"{\"petrel_spec\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", \"kernel\": \"/k\"}",
	     "`cpus`: missing"},
	    {"{\"petrel_spec\": 1, \"cpus\": 0, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\"}",
	     "`cpus`: expected an integer from 1"},
	    {"{\"petrel_spec\": 1, \"cpus\": \"2\", \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": \"/k\"}",
	     "`cpus`"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 8, \"boot\": \"kernel\", \"kernel\": "
	     "\"/k\"}",
	     "`mem_mib`"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"mem_bytes\": 16777217, "
	     "\"boot\": "
	     "\"kernel\", \"kernel\": \"/k\"}",
	     "`mem_bytes`"},
	    {"{\"petrel_spec\": 1, \"cpus\": 3, \"smt\": true, \"mem_mib\": 128, \"boot\": "
	     "\"kernel\", \"kernel\": \"/k\"}",
	     "SMT"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"bios\"}",
	     "`boot`: expected \"kernel\", \"flat-real\" or \"flat-long\""},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\"}",
	     "`kernel`: missing"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"\"}",
	     "`kernel`: must not be empty"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"flat-real\"}",
	     "`firmware`: missing"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"balloon\": {}}",
	     "`balloon.size_mib`: missing"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"vsock\": {\"uds\": \"/v\"}}",
	     "`vsock.cid`: missing"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"vsock\": {\"cid\": 2, \"uds\": \"/v\"}}",
	     "cid"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"rng\": 1}",
	     "`rng`: expected true or false"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"drives\": {}}",
	     "`drives`: expected a list"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"drives\": [{\"id\": \"a/b\", \"path\": \"/d\"}]}",
	     "drive id a/b"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"drives\": [{\"id\": \"a\"}]}",
	     "`drives[0].path`: missing"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"drives\": [{\"id\": \"a\", \"path\": \"/d\", \"cache\": 1}]}",
	     "unknown field `drives[0].cache`"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"drives\": [{\"id\": \"a\", \"path\": \"/d\"}, {\"id\": \"a\", \"path\": "
	     "\"/e\"}]}",
	     "used twice"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"drives\": [{\"id\": \"a\", \"path\": \"/d\", \"root\": true}, {\"id\": "
	     "\"b\", \"path\": \"/e\", \"root\": true}]}",
	     "root drive already exists"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"drives\": [{\"id\": \"a\", \"path\": \"/d\", \"serial\": "
	     "\"123456789012345678901\"}]}",
	     "`drives[0].serial`: longer than 20 bytes"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"nets\": [{\"id\": \"e\", \"tap\": \"bad/tap\"}]}",
	     "not a valid TAP name"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"nets\": [{\"id\": \"e\", \"tap\": \"t\", \"mac\": \"zz\"}]}",
	     "`nets[0].mac`"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"nets\": [{\"id\": \"e\", \"tap\": \"t\", \"mac\": \"01:00:00:00:00:01\"}]}",
	     "unicast"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"nets\": [{\"id\": \"e\", \"tap\": \"t\"}, {\"id\": \"f\", \"tap\": "
	     "\"t\"}]}",
	     "already used"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"nets\": [1, 2, 3, 4, 5]}",
	     "`nets`: at most 4"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": "
	     "\"/k\", \"serial\": \"file\"}",
	     "`serial_path`"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"flat-long\", "
	     "\"firmware\": \"/f\", \"console_hvc\": true}",
	     "needs a kernel"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": \"/k\", \"balloon\": {\"size_mib\": 129}}",
	     "`balloon.size_mib`"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": \"/k\", \"balloon\": {\"size_mib\": 1, \"hinting\": true}}",
	     "hinting"},
	    {"{\"petrel_spec\": 1, \"cpus\": 1, \"mem_mib\": 128, \"boot\": \"kernel\", "
	     "\"kernel\": \"/k\", \"balloon\": {\"size_mib\": 1, \"stats_interval_s\": 86401}}",
	     "`balloon.stats_interval_s`"},
	};
	struct api_vm_spec s;
	struct api_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		memset(&s, 0x5a, sizeof(s)); /* untouched on failure */
		if (api_spec_from_json(bad[i].json, strlen(bad[i].json), 8, &s, &err) != -EINVAL ||
		    !strstr(err.msg, bad[i].needle))
			fail_msg("%s: \"%s\", expected \"%s\"", bad[i].json, err.msg,
				 bad[i].needle);
		assert_null(strchr(err.msg, '\n'));
		assert_int_equal(((unsigned char *)&s)[0], 0x5a);
	}
	/* a host with fewer vCPUs than the snapshot's */
	const char *nine = "{\"petrel_spec\": 1, \"cpus\": 9, \"mem_mib\": 128, \"boot\": "
			   "\"kernel\", \"kernel\": \"/k\"}";

	assert_int_equal(api_spec_from_json(nine, strlen(nine), 8, &s, &err), -EINVAL);
	assert_int_equal(api_spec_from_json(nine, strlen(nine), 16, &s, &err), 0);
	api_vm_spec_free(&s);
}

/* ---- snapshot ---- */

static void test_snapshot_states(void **state)
{
	struct ctx *c = *state;
	struct api_snapshot_req req = {.state_path = c->state, .mem_path = c->mem};
	struct api_vm_spec back;
	struct api_err err = {""};

	/* before boot */
	assert_int_equal(api_vmm_snapshot(&c->v, &req, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not running"));
	configure(c);
	assert_int_equal(api_vmm_boot(&c->v, &err), 0);
	/* while running */
	assert_int_equal(api_vmm_snapshot(&c->v, &req, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "paused"));
	assert_int_equal(api_vmm_pause(&c->v, &err), 0);
	/* the same file twice, an empty path */
	req.mem_path = c->state;
	assert_int_equal(api_vmm_snapshot(&c->v, &req, &err), -EINVAL);
	req.mem_path = "";
	assert_int_equal(api_vmm_snapshot(&c->v, &req, &err), -EINVAL);
	assert_int_equal(c->f.snapshots, 0);
	req.mem_path = c->mem;
	assert_int_equal(api_vmm_snapshot(&c->v, &req, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_PAUSED);
	assert_false(c->f.last_diff);
	/* what it stored is the specification */
	assert_int_equal(api_spec_from_json(c->f.stored, c->f.stored_len, 0, &back, &err), 0);
	expect_same_spec(&c->v.spec, &back);
	api_vm_spec_free(&back);
	/* diff: with dirty page tracking on, as configured */
	req.diff = true;
	assert_int_equal(api_vmm_snapshot(&c->v, &req, &err), 0);
	assert_true(c->f.last_diff);
	assert_int_equal(c->f.snapshots, 2);
}

static void test_snapshot_diff_needs_tracking(void **state)
{
	struct ctx *c = *state;
	struct api_snapshot_req req = {.state_path = c->state, .mem_path = c->mem, .diff = true};
	struct api_err err = {""};

	assert_int_equal(api_vmm_set_boot(&c->v, c->kernel, NULL, NULL, &err), 0);
	assert_int_equal(api_vmm_boot(&c->v, &err), 0);
	assert_int_equal(api_vmm_pause(&c->v, &err), 0);
	assert_int_equal(api_vmm_snapshot(&c->v, &req, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "track_dirty_pages"));
	assert_int_equal(c->f.snapshots, 0);
}

/* ---- restore ---- */

/* A new controller (the same fake, its stored configuration kept). */
static void fresh(struct ctx *c)
{
	api_vmm_destroy(&c->v);
	api_vmm_init(&c->v, &fake_backend, &c->f, "vm-2");
}

static void test_restore(void **state)
{
	struct ctx *c = *state;
	struct api_restore_req req = {.state_path = c->state, .mem_path = c->mem};
	struct api_vm_spec before;
	struct api_err err = {""};

	snapshot_paused(c);
	assert_int_equal(api_vmm_get_spec(&c->v, &before), 0);
	fresh(c);
	assert_int_equal(api_vmm_restore(&c->v, &req, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_PAUSED);
	assert_false(c->f.last_resume);
	/* the restored specification is the controller's; dirty tracking as asked */
	before.track_dirty_pages = false;
	expect_same_spec(&before, &c->v.spec);
	/* a second restore, a boot or a configuration is refused from then on */
	assert_int_equal(api_vmm_restore(&c->v, &req, &err), -EBUSY);
	assert_int_equal(api_vmm_boot(&c->v, &err), -EBUSY);
	assert_int_equal(api_vmm_set_rng(&c->v, false, &err), -EBUSY);
	assert_int_equal(api_vmm_resume(&c->v, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_RUNNING);
	/* resume_vm, and overrides by id */
	fresh(c);
	req.resume = true;
	req.track_dirty_pages = true;
	req.nr_nets = 2;
	req.nets[0] = (struct api_net_override){.id = "eth0", .tap = "tap1"};
	req.nets[1] = (struct api_net_override){.id = "eth1", .tap = "tap0"}; /* swapped */
	req.nr_drives = 1;
	req.drives[0] = (struct api_drive_override){.id = "data", .path = c->kernel};
	assert_int_equal(api_vmm_restore(&c->v, &req, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_RUNNING);
	assert_true(c->f.last_resume);
	assert_true(c->v.spec.track_dirty_pages);
	assert_string_equal(c->v.spec.nets[0].tap, "tap1");
	assert_string_equal(c->v.spec.nets[1].tap, "tap0");
	assert_string_equal(c->v.spec.drives[0].path, c->kernel);
	api_vm_spec_free(&before);
}

/* Each refusal leaves the controller fresh: a good restore works after it. */
static void expect_restore_refused(struct ctx *c, const struct api_restore_req *req, int ret,
				   const char *needle)
{
	struct api_err err = {""};
	int got = api_vmm_restore(&c->v, req, &err);

	if (got != ret || !strstr(err.msg, needle))
		fail_msg("restore: %d \"%s\", expected %d with \"%s\"", got, err.msg, ret, needle);
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(api_vmm_state(&c->v), API_VM_CONFIGURED);
	assert_false(c->v.configured);
	assert_int_equal(c->v.spec.nr_drives, 0);
	assert_null(c->v.spec.kernel);
}

static void test_restore_refused(void **state)
{
	struct ctx *c = *state;
	struct api_restore_req good = {.state_path = c->state, .mem_path = c->mem}, req;
	struct api_err err = {""};
	int restores;

	snapshot_paused(c);
	fresh(c);
	restores = c->f.restores;
	/* missing files */
	req = good;
	req.state_path = "/nonexistent/state";
	expect_restore_refused(c, &req, -ENOENT, "snapshot state file /nonexistent/state");
	req = good;
	req.mem_path = "/nonexistent/memory";
	expect_restore_refused(c, &req, -ENOENT, "snapshot memory file /nonexistent/memory");
	/* overrides of what the snapshot does not have, or that the API refuses */
	req = good;
	req.nr_nets = 1;
	req.nets[0] = (struct api_net_override){.id = "eth9", .tap = "tap9"};
	expect_restore_refused(c, &req, -ENOENT, "network interface eth9");
	req.nets[0] = (struct api_net_override){.id = "eth0", .tap = "tap1"}; /* eth1's */
	expect_restore_refused(c, &req, -EEXIST, "already used");
	req.nets[0] = (struct api_net_override){.id = "eth0", .tap = "bad/tap"};
	expect_restore_refused(c, &req, -EINVAL, "not a valid TAP name");
	req = good;
	req.nr_drives = 1;
	req.drives[0] = (struct api_drive_override){.id = "nope", .path = c->disk};
	expect_restore_refused(c, &req, -ENOENT, "drive nope");
	req.drives[0] = (struct api_drive_override){.id = "data", .path = "/nonexistent/disk"};
	expect_restore_refused(c, &req, -ENOENT, "/nonexistent/disk");
	req.nr_drives = 2;
	req.drives[0] = (struct api_drive_override){.id = "data", .path = c->disk};
	req.drives[1] = (struct api_drive_override){.id = "data", .path = c->disk};
	expect_restore_refused(c, &req, -EINVAL, "twice");
	/* a damaged stored configuration */
	c->f.stored_len /= 2;
	expect_restore_refused(c, &good, -EINVAL, "the snapshot's configuration: not JSON");
	c->f.stored_len = strlen(c->f.stored);
	/* the machine's own failure */
	c->f.fail_restore = EIO;
	expect_restore_refused(c, &good, -EIO, "cannot be restored");
	c->f.fail_restore = 0;
	assert_int_equal(c->f.restores, restores);
	assert_int_equal(api_vmm_restore(&c->v, &good, &err), 0);
}

static void test_restore_needs_fresh(void **state)
{
	struct ctx *c = *state;
	struct api_restore_req req = {.state_path = c->state, .mem_path = c->mem};
	struct api_machine_update u = {.has_cpus = true, .cpus = 1};
	struct api_err err = {""};

	snapshot_paused(c);
	/* booted (paused) */
	assert_int_equal(api_vmm_restore(&c->v, &req, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "fresh"));
	/* configured, even with the defaults, as Firecracker */
	fresh(c);
	assert_int_equal(api_vmm_set_machine(&c->v, &u, true, &err), 0);
	assert_int_equal(api_vmm_restore(&c->v, &req, &err), -EBUSY);
	/* vm.create'd (Cloud Hypervisor) */
	fresh(c);
	assert_int_equal(api_vmm_create(&c->v, &err), 0);
	assert_int_equal(api_vmm_restore(&c->v, &req, &err), -EBUSY);
	/* after vm.delete there is no VM again: a restore may make one */
	assert_int_equal(api_vmm_delete(&c->v, &err), 0);
	assert_int_equal(api_vmm_restore(&c->v, &req, &err), 0);
	assert_true(api_vmm_is_created(&c->v));
	/* the logger and the metrics do not count */
	fresh(c);
	assert_int_equal(api_vmm_set_logger(&c->v, NULL, "Info", &err), 0);
	assert_int_equal(api_vmm_restore(&c->v, &req, &err), 0);
	assert_int_equal(c->f.boots, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_spec_round_trip, setup, teardown),
	    cmocka_unit_test(test_spec_refused),
	    cmocka_unit_test_setup_teardown(test_snapshot_states, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_diff_needs_tracking, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_needs_fresh, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
