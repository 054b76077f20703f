// SPDX-License-Identifier: GPL-2.0-only
/*
 * Snapshots on this machine's /dev/kvm, with the snap test guest (rounds of
 * sums over a window it rewrites): a run snapshotted mid-way and restored
 * into a new machine prints exactly what an uninterrupted run prints, twice
 * from the same files (clones); a diff snapshot merged onto its base restores
 * the same way; corrupted, truncated and mismatched snapshots are refused.
 *   snapshot_roundtrip GUEST.bin SCRATCH-DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state/snapshot.h"
#include "vm/devices.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL: %s (line %d)\n", #cond, __LINE__);                  \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static const char *guest, *dir;
static char path_buf[16][512];
static unsigned int nr_paths;

static const char *path(const char *name)
{
	char *p = path_buf[nr_paths++ % 16];

	snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
	return p;
}

static void config(struct vm_config *c, const char *serial, unsigned int cpus)
{
	memset(c, 0, sizeof(*c));
	c->cpus = cpus;
	c->mem_size = 64ULL << 20;
	c->boot = VM_BOOT_FLAT_LONG;
	c->firmware = guest;
	c->serial = VM_SERIAL_FILE;
	c->serial_path = serial;
	c->serial_max = UINT64_MAX;
	c->sandbox = SANDBOX_OFF;
}

static char *slurp(const char *p, size_t *len)
{
	static char buf[8][65536];
	static unsigned int n;
	char *b = buf[n++ % 8];
	FILE *f = fopen(p, "r");

	CHECK(f);
	*len = fread(b, 1, sizeof(buf[0]) - 1, f);
	b[*len] = 0;
	fclose(f);
	return b;
}

static void *run_thread(void *arg)
{
	struct machine *m = arg;

	return (void *)(intptr_t)machine_run(m);
}

/* Wait until the console file has @what, for at most 60 s. */
static void wait_console(const char *p, const char *what)
{
	time_t end = time(NULL) + 60;
	size_t len;

	while (time(NULL) < end) {
		if (access(p, R_OK) == 0 && strstr(slurp(p, &len), what))
			return;
		usleep(5000);
	}
	fprintf(stderr, "FAIL: '%s' never appeared in %s\n", what, p);
	exit(1);
}

static void pause_machine(struct machine *m)
{
	CHECK(machine_pause_timeout(m, 10000) == 0);
	CHECK(vm_devices_hold(m, true, 10000) == 0);
}

static void resume_machine(struct machine *m)
{
	CHECK(vm_devices_hold(m, false, 10000) == 0);
	machine_resume(m);
}

static void save(struct machine *m, const char *state, const char *mem, bool diff)
{
	struct snapshot_save_opts o = {
	    .state_path = state, .mem_path = mem, .diff = diff, .config = "test", .config_len = 4};
	struct state_err err = {{0}};

	if (snapshot_save(m, &o, &err) < 0) {
		fprintf(stderr, "FAIL: snapshot: %s\n", err.msg);
		exit(1);
	}
}

static void stop(struct machine *m, pthread_t t)
{
	machine_request_stop(m, VM_EXIT_POWEROFF);
	pthread_join(t, NULL);
	machine_destroy(m);
}

/* Restore and run to the end: the console gets the rest of the run. */
static void restore_run(const char *state, const char *mem, const char *serial, bool track)
{
	static struct machine m;
	struct snapshot_file *f;
	struct state_err err = {{0}};
	struct vm_config c;
	const void *cfg;
	size_t cfg_len;
	pthread_t t;
	void *status;

	CHECK(snapshot_open(&f, state, &err) == 0);
	snapshot_config(f, &cfg, &cfg_len);
	CHECK(cfg_len == 4 && !memcmp(cfg, "test", 4));
	config(&c, serial, 2);
	if (snapshot_restore(&m, &c, f, mem, track, &err) < 0) {
		fprintf(stderr, "FAIL: restore: %s\n", err.msg);
		exit(1);
	}
	snapshot_close(f);
	CHECK(pthread_create(&t, NULL, run_thread, &m) == 0);
	machine_resume(&m);
	pthread_join(t, &status);
	CHECK((intptr_t)status == 0);
	machine_destroy(&m);
}

/* @before (up to the snapshot) then @after (from the restore) is the whole run. */
static void expect_whole(const char *before, const char *after, const char *ref)
{
	size_t lb, la, lr;
	char *b = slurp(before, &lb), *a = slurp(after, &la), *r = slurp(ref, &lr);

	if (lb + la != lr || memcmp(b, r, lb) || memcmp(a, r + lb, la)) {
		fprintf(stderr,
			"FAIL: %s + %s is not the uninterrupted run\n--- ref\n%s--- before\n"
			"%s--- after\n%s",
			before, after, r, b, a);
		exit(1);
	}
}

/* snapshot_open must refuse @state, saying @why. */
static void expect_refused(const char *state, const char *why)
{
	struct snapshot_file *f = NULL;
	struct state_err err = {{0}};

	CHECK(snapshot_open(&f, state, &err) < 0 && !f);
	if (!strstr(err.msg, why)) {
		fprintf(stderr, "FAIL: %s refused with '%s', not '%s'\n", state, err.msg, why);
		exit(1);
	}
	printf("refused: %s\n", err.msg);
}

static void copy_file(const char *from, const char *to, long truncate_at, long flip_at)
{
	static char b[1 << 20];
	size_t len;
	FILE *f = fopen(from, "r");

	CHECK(f);
	len = fread(b, 1, sizeof(b), f);
	fclose(f);
	CHECK(len < sizeof(b));
	if (flip_at >= 0 && (size_t)flip_at < len)
		b[flip_at] ^= 0x40;
	if (truncate_at >= 0 && (size_t)truncate_at < len)
		len = (size_t)truncate_at;
	f = fopen(to, "w");
	CHECK(f && fwrite(b, 1, len, f) == len);
	fclose(f);
}

int main(int argc, char **argv)
{
	static struct machine m;
	struct vm_config c;
	pthread_t t;
	struct stat st;
	char cmd[2048];

	CHECK(argc == 3);
	guest = argv[1];
	dir = argv[2];
	CHECK(access("/dev/kvm", R_OK | W_OK) == 0);
	mkdir(dir, 0700);
	/* as petrel does: kicks reach vCPU threads only */
	{
		sigset_t set;

		CHECK(kvm_vcpu_signals_init() == 0);
		sigemptyset(&set);
		sigaddset(&set, KVM_KICK_SIGNAL);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}

	/* the uninterrupted run */
	config(&c, path("ref.out"), 2);
	CHECK(machine_create(&m, &c) == 0);
	CHECK(machine_run(&m) == 0);
	machine_destroy(&m);

	/* snapshotted after round 8, mid-way through a later round */
	config(&c, path("a.out"), 2);
	CHECK(machine_create(&m, &c) == 0);
	CHECK(pthread_create(&t, NULL, run_thread, &m) == 0);
	wait_console(path("a.out"), "round 0000000000000008");
	pause_machine(&m);
	save(&m, path("a.state"), path("a.mem"), false);
	stop(&m, t);
	CHECK(stat(path("a.mem"), &st) == 0 && st.st_size == 64 << 20);
	printf("memory file: %lld bytes, %lld allocated\n", (long long)st.st_size,
	       (long long)st.st_blocks * 512);
	/* zero pages are holes: the guest wrote a few hundred KiB */
	CHECK(st.st_blocks * 512 < 8 << 20);

	restore_run(path("a.state"), path("a.mem"), path("b.out"), false);
	expect_whole(path("a.out"), path("b.out"), path("ref.out"));
	printf("restored run matches the uninterrupted one\n");
	/* a clone from the same files */
	restore_run(path("a.state"), path("a.mem"), path("c.out"), false);
	expect_whole(path("a.out"), path("c.out"), path("ref.out"));
	printf("a second restore from the same files matches too\n");

	/* full at round 4, then a diff at round 12: base + diff restores */
	config(&c, path("d.out"), 2);
	c.track_dirty = true;
	CHECK(machine_create(&m, &c) == 0);
	CHECK(pthread_create(&t, NULL, run_thread, &m) == 0);
	wait_console(path("d.out"), "round 0000000000000004");
	pause_machine(&m);
	save(&m, path("d-full.state"), path("d-full.mem"), false);
	resume_machine(&m);
	wait_console(path("d.out"), "round 000000000000000c");
	pause_machine(&m);
	save(&m, path("d-diff.state"), path("d-diff.mem"), true);
	stop(&m, t);
	CHECK(stat(path("d-diff.mem"), &st) == 0 && st.st_size == 64 << 20);
	printf("diff memory file: %lld bytes allocated\n", (long long)st.st_blocks * 512);
	snprintf(cmd, sizeof(cmd), "cp --sparse=always %s %s", path("d-full.mem"),
		 path("merged.mem"));
	CHECK(system(cmd) == 0);
	{
		struct state_err err = {{0}};

		if (snapshot_merge_mem(path("merged.mem"), path("d-diff.mem"), &err) < 0) {
			fprintf(stderr, "FAIL: merge: %s\n", err.msg);
			return 1;
		}
	}
	restore_run(path("d-diff.state"), path("merged.mem"), path("e.out"), false);
	expect_whole(path("d.out"), path("e.out"), path("ref.out"));
	printf("a diff merged onto its base restores to the same run\n");

	/* broken snapshots are refused with one line */
	copy_file(path("a.state"), path("trunc.state"), 100, -1);
	expect_refused(path("trunc.state"), "truncated");
	copy_file(path("a.state"), path("flip.state"), -1, 5000);
	expect_refused(path("flip.state"), "checksum");
	copy_file(path("a.state"), path("magic.state"), -1, 0);
	expect_refused(path("magic.state"), "not");
	{
		struct snapshot_file *f;
		struct state_err err = {{0}};

		/* the memory file of another guest size */
		CHECK(snapshot_open(&f, path("a.state"), &err) == 0);
		CHECK(truncate(path("ref.out"), 0) == 0);
		config(&c, path("x.out"), 2);
		CHECK(snapshot_restore(&m, &c, f, path("ref.out"), false, &err) < 0);
		printf("refused: %s\n", err.msg);
		/* a configuration with another number of vCPUs */
		config(&c, path("x.out"), 1);
		CHECK(snapshot_restore(&m, &c, f, path("a.mem"), false, &err) < 0);
		CHECK(strstr(err.msg, "vCPU"));
		printf("refused: %s\n", err.msg);
		snapshot_close(f);
	}
	printf("PASS\n");
	return 0;
}
