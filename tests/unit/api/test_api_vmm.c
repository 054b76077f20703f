// SPDX-License-Identifier: GPL-2.0-only
/* The controller with a fake VMM: checks, the specification, states, failures changing nothing. */
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

struct fake {
	int boots, pauses, resumes, shutdowns, updates;
	int fail_boot; /* errno to fail the next boot with */
	unsigned int update_idx;
	char update_path[256];
};

static int f_boot(void *ctx, const struct api_vm_spec *spec, struct api_err *err)
{
	struct fake *f = ctx;

	if (f->fail_boot)
		return api_fail(err, -f->fail_boot, "fake boot failure");
	f->boots++;
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
	((struct fake *)ctx)->shutdowns++;
	return 0;
}

static int f_ok(void *ctx, struct api_err *err)
{
	return 0;
}

static int f_update(void *ctx, unsigned int idx, const char *path, struct api_err *err)
{
	struct fake *f = ctx;

	f->updates++;
	f->update_idx = idx;
	snprintf(f->update_path, sizeof(f->update_path), "%s", path);
	return 0;
}

static void f_counters(void *ctx, struct api_counters *out)
{
	out->nr_vcpus = 1;
	out->vcpu_exits[0][0] = 7;
	out->nr_disks = 1;
	snprintf(out->disks[0].id, sizeof(out->disks[0].id), "rootfs");
	out->disks[0].kicks = 3;
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
    .counters = f_counters,
    .exit_vmm = f_exit,
};

struct ctx {
	struct api_vmm v;
	struct fake f;
	char kernel[64], disk[64], disk2[64];
};

static void tmpfile_named(char *buf, size_t size)
{
	int fd;

	snprintf(buf, size, "/tmp/petrel-api-XXXXXX");
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
	free(c);
	return 0;
}

static void test_defaults_and_machine(void **state)
{
	struct ctx *c = *state;
	struct api_machine_update u = {
	    .has_cpus = true, .cpus = 4, .has_mem = true, .mem_mib = 512};
	struct api_err err = {""};

	assert_int_equal(api_vmm_state(&c->v), API_VM_CONFIGURED);
	assert_string_equal(api_vm_state_fc_name(API_VM_CONFIGURED), "Not started");
	assert_int_equal(c->v.spec.cpus, 1);
	assert_int_equal(api_vmm_set_machine(&c->v, &u, true, &err), 0);
	assert_int_equal(c->v.spec.cpus, 4);
	assert_int_equal(c->v.spec.mem_mib, 512);
	/* PATCH keeps what it is not given; PUT resets it */
	u = (struct api_machine_update){.has_cpus = true, .cpus = 2};
	assert_int_equal(api_vmm_set_machine(&c->v, &u, false, &err), 0);
	assert_int_equal(c->v.spec.mem_mib, 512);
	assert_int_equal(api_vmm_set_machine(&c->v, &u, true, &err), 0);
	assert_int_equal(c->v.spec.mem_mib, 128);
}

static void test_machine_refusals_change_nothing(void **state)
{
	struct ctx *c = *state;
	struct api_machine_update u = {.has_cpus = true, .cpus = 0};
	struct api_err err = {""};

	c->v.max_vcpus = 8;
	assert_int_equal(api_vmm_set_machine(&c->v, &u, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "out of range"));
	u.cpus = 9;
	assert_int_equal(api_vmm_set_machine(&c->v, &u, false, &err), -EINVAL);
	u = (struct api_machine_update){.has_cpus = true, .cpus = 3, .has_smt = true, .smt = true};
	assert_int_equal(api_vmm_set_machine(&c->v, &u, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "SMT"));
	u = (struct api_machine_update){.has_mem = true, .mem_mib = 8};
	assert_int_equal(api_vmm_set_machine(&c->v, &u, false, &err), -EINVAL);
	assert_int_equal(c->v.spec.cpus, 1);
	assert_int_equal(c->v.spec.mem_mib, 128);
}

static void test_boot_source(void **state)
{
	struct ctx *c = *state;
	struct api_err err = {""};

	assert_int_equal(api_vmm_set_boot(&c->v, "/nonexistent/kernel", NULL, NULL, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/kernel"));
	assert_null(c->v.spec.kernel);
	assert_int_equal(api_vmm_set_boot(&c->v, c->kernel, NULL, "console=ttyS0", &err), 0);
	assert_string_equal(c->v.spec.kernel, c->kernel);
	assert_string_equal(c->v.spec.cmdline, "console=ttyS0");
	/* a bad initrd leaves the earlier boot source */
	assert_int_equal(api_vmm_set_boot(&c->v, c->kernel, "/nonexistent/initrd", NULL, &err),
			 -ENOENT);
	assert_string_equal(c->v.spec.cmdline, "console=ttyS0");
}

static void test_drives(void **state)
{
	struct ctx *c = *state;
	struct api_drive d = {.id = "rootfs", .path = c->disk, .root = true};
	struct api_drive e = {.id = "data", .path = c->disk2};
	struct api_err err = {""};

	assert_int_equal(api_vmm_put_drive(&c->v, &e, &err), 0);
	assert_int_equal(api_vmm_put_drive(&c->v, &d, &err), 0);
	assert_int_equal(c->v.spec.nr_drives, 2);
	/* a second root is refused; the same id replaces */
	snprintf(e.id, sizeof(e.id), "other");
	e.root = true;
	assert_int_equal(api_vmm_put_drive(&c->v, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "root"));
	d.readonly = true;
	assert_int_equal(api_vmm_put_drive(&c->v, &d, &err), 0);
	assert_int_equal(c->v.spec.nr_drives, 2);
	assert_true(c->v.spec.drives[1].readonly);
	/* bad ids and paths */
	struct api_drive bad = {.id = "a/b", .path = c->disk};

	assert_int_equal(api_vmm_put_drive(&c->v, &bad, &err), -EINVAL);
	bad = (struct api_drive){.id = "x", .path = "/nonexistent"};
	assert_int_equal(api_vmm_put_drive(&c->v, &bad, &err), -ENOENT);
	assert_int_equal(c->v.spec.nr_drives, 2);
}

static void test_spec_to_config_root_first(void **state)
{
	struct ctx *c = *state;
	struct api_drive data = {.id = "data", .path = c->disk2};
	struct api_drive root = {.id = "rootfs", .path = c->disk, .root = true, .readonly = true};
	struct api_err err = {""};
	struct vm_config cfg;
	char buf[256];

	assert_int_equal(api_vmm_set_boot(&c->v, c->kernel, NULL, "quiet", &err), 0);
	assert_int_equal(api_vmm_put_drive(&c->v, &data, &err), 0);
	assert_int_equal(api_vmm_put_drive(&c->v, &root, &err), 0);
	assert_int_equal(api_spec_to_config(&c->v.spec, &cfg, buf, sizeof(buf), &err), 0);
	assert_int_equal(cfg.nr_disks, 2);
	assert_string_equal(cfg.disks[0].path, c->disk);
	assert_true(cfg.disks[0].readonly);
	assert_string_equal(cfg.disks[1].path, c->disk2);
	assert_string_equal(cfg.cmdline, "quiet root=/dev/vda ro");
	assert_int_equal(api_spec_disk_slot(&c->v.spec, 0), 1);
	assert_int_equal(api_spec_disk_slot(&c->v.spec, 1), 0);
	/* a command line that does not fit is refused */
	assert_int_equal(api_spec_to_config(&c->v.spec, &cfg, buf, 10, &err), -EINVAL);
}

static void test_nets(void **state)
{
	struct ctx *c = *state;
	struct api_net n = {.id = "eth0", .tap = "tap0"};
	struct api_net m = {.id = "eth1", .tap = "tap0"};
	struct api_err err = {""};

	assert_int_equal(api_vmm_put_net(&c->v, &n, &err), 0);
	assert_int_equal(api_vmm_put_net(&c->v, &m, &err), -EEXIST);
	snprintf(m.tap, sizeof(m.tap), "bad/name");
	assert_int_equal(api_vmm_put_net(&c->v, &m, &err), -EINVAL);
	snprintf(m.tap, sizeof(m.tap), "tap1");
	m.has_mac = true;
	m.mac[0] = 0x01; /* multicast */
	assert_int_equal(api_vmm_put_net(&c->v, &m, &err), -EINVAL);
	m.mac[0] = 0x02;
	assert_int_equal(api_vmm_put_net(&c->v, &m, &err), 0);
	assert_int_equal(c->v.spec.nr_nets, 2);
}

static void test_lifecycle(void **state)
{
	struct ctx *c = *state;
	struct api_err err = {""};
	struct api_machine_update u = {.has_cpus = true, .cpus = 2};
	struct api_counters *cnt = calloc(1, sizeof(*cnt));

	/* nothing runs yet */
	assert_int_equal(api_vmm_pause(&c->v, &err), -EINVAL);
	assert_int_equal(api_vmm_counters(&c->v, cnt, &err), -EINVAL);
	/* no kernel: refused, nothing booted */
	assert_int_equal(api_vmm_boot(&c->v, &err), -EINVAL);
	assert_int_equal(c->f.boots, 0);
	assert_int_equal(api_vmm_set_boot(&c->v, c->kernel, NULL, NULL, &err), 0);
	/* a failing backend leaves the VM not started */
	c->f.fail_boot = EIO;
	assert_int_equal(api_vmm_boot(&c->v, &err), -EIO);
	assert_int_equal(api_vmm_state(&c->v), API_VM_CONFIGURED);
	c->f.fail_boot = 0;
	assert_int_equal(api_vmm_boot(&c->v, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_RUNNING);
	/* pre-boot-only calls are refused after the start */
	assert_int_equal(api_vmm_set_machine(&c->v, &u, false, &err), -EBUSY);
	assert_int_equal(api_vmm_boot(&c->v, &err), -EBUSY);
	assert_int_equal(c->v.spec.cpus, 1);
	assert_int_equal(api_vmm_pause(&c->v, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_PAUSED);
	assert_int_equal(api_vmm_pause(&c->v, &err), 0); /* already paused: nothing to do */
	assert_int_equal(c->f.pauses, 1);
	assert_int_equal(api_vmm_ctrl_alt_del(&c->v, &err), -EINVAL);
	assert_int_equal(api_vmm_resume(&c->v, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_RUNNING);
	assert_int_equal(api_vmm_counters(&c->v, cnt, &err), 0);
	assert_int_equal(cnt->vcpu_exits[0][0], 7);
	assert_int_equal(api_vmm_shutdown(&c->v, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_SHUTDOWN);
	assert_string_equal(api_vm_state_ch_name(API_VM_SHUTDOWN), "Shutdown");
	/* after a shutdown the VM may boot again */
	assert_int_equal(api_vmm_boot(&c->v, &err), 0);
	assert_int_equal(c->f.boots, 2);
	free(cnt);
}

static void test_update_drive(void **state)
{
	struct ctx *c = *state;
	struct api_drive root = {.id = "rootfs", .path = c->disk, .root = true};
	struct api_drive data = {.id = "data", .path = c->disk};
	struct api_err err = {""};

	assert_int_equal(api_vmm_set_boot(&c->v, c->kernel, NULL, NULL, &err), 0);
	assert_int_equal(api_vmm_put_drive(&c->v, &data, &err), 0);
	assert_int_equal(api_vmm_put_drive(&c->v, &root, &err), 0);
	/* before boot: refused */
	assert_int_equal(api_vmm_update_drive(&c->v, "data", c->disk2, &err), -EINVAL);
	assert_int_equal(api_vmm_boot(&c->v, &err), 0);
	assert_int_equal(api_vmm_update_drive(&c->v, "nope", c->disk2, &err), -ENOENT);
	assert_int_equal(api_vmm_update_drive(&c->v, "data", "/nonexistent", &err), -ENOENT);
	assert_int_equal(c->f.updates, 0);
	assert_int_equal(api_vmm_update_drive(&c->v, "data", c->disk2, &err), 0);
	assert_int_equal(c->f.update_idx, 0); /* the spec's index; the runner maps it */
	assert_string_equal(c->f.update_path, c->disk2);
	assert_string_equal(c->v.spec.drives[0].path, c->disk2);
}

static void test_create_delete(void **state)
{
	struct ctx *c = *state;
	struct api_err err = {""};

	assert_int_equal(api_vmm_create(&c->v, &err), 0);
	assert_int_equal(api_vmm_create(&c->v, &err), -EEXIST);
	assert_int_equal(api_vmm_delete(&c->v, &err), 0);
	assert_int_equal(api_vmm_state(&c->v), API_VM_NONE);
	assert_int_equal(api_vmm_set_rng(&c->v, true, &err), -ENOENT);
	assert_int_equal(api_vmm_create(&c->v, &err), 0);
	assert_int_equal(api_vmm_set_rng(&c->v, true, &err), 0);
	assert_true(c->v.spec.rng);
}

static void test_metrics(void **state)
{
	struct ctx *c = *state;
	struct api_err err = {""};
	char path[64], buf[4096];
	char *line;
	FILE *f;

	assert_int_equal(api_vmm_flush_metrics(&c->v, &err), -EINVAL);
	snprintf(path, sizeof(path), "/tmp/petrel-metrics-%d", (int)getpid());
	unlink(path);
	assert_int_equal(api_vmm_set_metrics(&c->v, path, &err), 0);
	assert_int_equal(api_vmm_set_metrics(&c->v, path, &err), -EEXIST);
	assert_int_equal(api_vmm_set_boot(&c->v, c->kernel, NULL, NULL, &err), 0);
	assert_int_equal(api_vmm_boot(&c->v, &err), 0);
	line = api_vmm_metrics_line(&c->v);
	assert_non_null(strstr(line, "\"block_rootfs\""));
	assert_non_null(strstr(line, "\"utc_timestamp_ms\""));
	free(line);
	assert_int_equal(api_vmm_flush_metrics(&c->v, &err), 0);
	assert_int_equal(api_vmm_flush_metrics(&c->v, &err), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	int lines = 0;

	while (fgets(buf, sizeof(buf), f))
		lines += buf[0] == '{';
	fclose(f);
	assert_int_equal(lines, 2);
	unlink(path);
}

static void test_logger_level(void **state)
{
	struct ctx *c = *state;
	struct api_err err = {""};

	assert_int_equal(api_vmm_set_logger(&c->v, NULL, "Loud", &err), -EINVAL);
	assert_int_equal(api_vmm_set_logger(&c->v, NULL, "Warning", &err), 0);
	assert_int_equal(api_vmm_set_logger(&c->v, NULL, "Info", &err), -EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults_and_machine, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_machine_refusals_change_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_boot_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drives, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spec_to_config_root_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_drive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logger_level, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
