// SPDX-License-Identifier: GPL-2.0-only
/* petrel's command line: fills a vm_config and hands it to the machine. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "api/api_ctl.h"
#include "api/api_runner.h"
#include "api/api_server.h"
#include "api/fc_api.h"
#include "debug/gdb_stub.h"
#include "state/snapshot.h"
#include "kvm/kvm.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "vm/config_parse.h"
#include "vm/machine.h"
#include "vm/sandbox.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: petrel run [options]    boot a guest\n"
	    "       petrel api --api-sock PATH [--config-file FILE] [--id ID] [--no-api]\n"
	    "                               [--seccomp off|log|kill]\n"
	    "                               serve Firecracker's and Cloud Hypervisor's API\n"
	    "                               with no VM until one is configured and started\n"
	    "       petrel run --restore DIR|state=PATH,mem=PATH[,resume=off] [--api-sock PATH]\n"
	    "                  [--net id=ID,tap=NAME]... [--disk id=ID,path=FILE]...\n"
	    "                               restore a snapshot (DIR/state and DIR/memory)\n"
	    "                               and run it (resume=off: paused); --net and\n"
	    "                               --disk move the NIC or drive of that id\n"
	    "       petrel run --incoming tcp:HOST:PORT|unix:PATH [--api-sock PATH]\n"
	    "                               wait for a live migration (petrel ctl ... migrate)\n"
	    "                               and run the VM it brings\n"
	    "       petrel ctl SOCKET info|pause|resume|shutdown|snapshot DIR [--keep-paused]|\n"
	    "                         migrate URL [--downtime MS]|migrate-cancel\n"
	    "                               ask the petrel serving SOCKET (--help: more)\n"
	    "       petrel snapshot merge BASE DIFF\n"
	    "                               apply a diff snapshot's memory file DIFF onto\n"
	    "                               the memory file BASE it was taken after\n"
	    "       petrel info             describe this host's KVM\n"
	    "       petrel --version\n"
	    "\n"
	    "run options:\n"
	    "  --kernel PATH          Linux bzImage, or ELF vmlinux with a PVH entry\n"
	    "  --initramfs PATH       initial ramdisk for the kernel\n"
	    "  --cmdline STR          kernel command line (console=ttyS0, or hvc0 with\n"
	    "                         --console hvc, is added when the serial port is on)\n"
	    "  --firmware PATH        a flat binary instead of a kernel (test guests)\n"
	    "  --mode real|long       how --firmware starts: real mode at 1000:0000,\n"
	    "                         or 64-bit mode at 0x100000 (default real)\n"
	    "  --cpus N               vCPUs (default 1)\n"
	    "  --memory SIZE[,shared=on]\n"
	    "                         guest RAM, e.g. 256M, 2G (default 256M); shared=on puts\n"
	    "                         it in a memfd, which a local migration hands over\n"
	    "  --serial stdio|file=PATH|off   where COM1 goes (default stdio)\n"
	    "  --serial-max SIZE      cap of a --serial file (default 256M; 0: none);\n"
	    "                         output past it, or that no reader takes, is dropped\n"
	    "  --console hvc|serial   the guest's console: a virtio-console (hvc0, needs\n"
	    "                         --kernel; its output goes where --serial says) or\n"
	    "                         COM1 (default serial)\n"
	    "  --on-reboot restart|exit       what a guest reboot does (default restart)\n"
	    "  --stats                print exit counters per vCPU, kicks and interrupts per\n"
	    "                         virtio queue when the guest stops\n"
	    "  --test-device          the test device of petrel's own test guests\n"
	    "  --irqchip              in-kernel PIC, IOAPIC and LAPIC for --firmware guests\n"
	    "                         (always on with --kernel)\n"
	    "  --disk path=FILE[,readonly=on][,direct=on][,serial=ID]   a virtio-blk\n"
	    "                         disk on a raw image (repeatable, up to 8); direct=on\n"
	    "                         bypasses the host's page cache (O_DIRECT)\n"
	    "  --net tap=NAME[,mac=MAC]   a virtio-net NIC on a TAP interface (MAC as\n"
	    "                         aa:bb:cc:dd:ee:ff; repeatable, up to 4)\n"
	    "  --rng                  a virtio-rng device (entropy from the host)\n"
	    "  --vsock cid=N,uds=PATH a virtio-vsock device, the guest's cid N (>= 3);\n"
	    "                         its host side is Firecracker's hybrid vsock: the\n"
	    "                         UNIX socket PATH (created) and PATH_PORT\n"
	    "  --balloon [size=MIB][,deflate_on_oom=on][,free_page_reporting=on][,stats=SECS]\n"
	    "                         a virtio-balloon: the guest gives MIB back to the\n"
	    "                         host, and its free pages with free_page_reporting;\n"
	    "                         memory statistics every SECS seconds\n"
	    "  --gdb tcp:HOST:PORT    serve the GDB remote protocol (host default 127.0.0.1)\n"
	    "  --gdb-wait             hold every vCPU until the debugger continues\n"
	    "  --api-sock PATH|fd=N   serve the HTTP API (Firecracker's and Cloud\n"
	    "                         Hypervisor's) on a UNIX socket for this VM\n"
	    "                         (--api-socket path=PATH|fd=N as well)\n"
	    "  --event-monitor path=PATH|fd=N  lifecycle events as JSON (as Cloud\n"
	    "                         Hypervisor writes them)\n"
	    "  --seccomp off|log|kill a seccomp filter per thread (vCPU, I/O, API,\n"
	    "                         debugger...): kill (default) ends petrel with\n"
	    "                         status 12 at a forbidden syscall, log lets the\n"
	    "                         kernel log it, off installs none (petrel api too)\n"
	    "  --dirty-log bitmap|ring  how the pages the guest writes are found for\n"
	    "                         snapshots and migration: KVM's bitmap per memory\n"
	    "                         slot (default) or its per-vCPU ring, where the\n"
	    "                         host has one (petrel info); also with --restore\n"
	    "                         and --incoming\n"
	    "  --dirty-ring-size SIZE the ring's size per vCPU, a power of two from 4K\n"
	    "                         (default 64K: 4096 pages)\n"
	    "\n"
	    "exit status: 0 guest powered off, 1 petrel error, 2 usage error,\n"
	    "  4 guest rebooted (--on-reboot exit), 6 triple fault, 8 guest panic,\n"
	    "  10 KVM internal error, 12 a thread made a syscall its seccomp filter\n"
	    "  forbids, 128+N stopped by signal N,\n"
	    "  (v << 1) | 1 when a guest writes v to the debug-exit port 0xf4\n"
	    "  (with --test-device only).\n"
	    "With the serial console on a terminal, Ctrl-A x quits.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "petrel: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see petrel --help)\n");
	return VM_EXIT_USAGE;
}

/* What getopt_long refused at argv[optind - 1]: a long option without its value, or an unknown one.
 */
static int bad_option(char **argv)
{
	if (optopt >= 256)
		return usage_error("option %s needs a value", argv[optind - 1]);
	return usage_error("unknown option %s", argv[optind - 1]);
}

enum {
	OPT_KERNEL = 256,
	OPT_INITRAMFS,
	OPT_CMDLINE,
	OPT_FIRMWARE,
	OPT_MODE,
	OPT_CPUS,
	OPT_MEMORY,
	OPT_SERIAL,
	OPT_SERIAL_MAX,
	OPT_ON_REBOOT,
	OPT_STATS,
	OPT_TEST_DEVICE,
	OPT_KVM,
	OPT_IRQCHIP,
	OPT_GDB,
	OPT_GDB_WAIT,
	OPT_RNG,
	OPT_VSOCK,
	OPT_BALLOON,
	OPT_DISK,
	OPT_NET,
	OPT_CONSOLE,
	OPT_API_SOCK,
	OPT_CONFIG_FILE,
	OPT_NO_API,
	OPT_ID,
	OPT_EVENT_MONITOR,
	OPT_LEVEL,
	OPT_LOG_PATH,
	OPT_BOOT_TIMER,
	OPT_VERSION,
	OPT_SECCOMP,
	OPT_NO_SECCOMP,
	OPT_RESTORE,
	OPT_INCOMING,
	OPT_DIRTY_LOG,
	OPT_DIRTY_RING_SIZE,
	OPT_IGNORED, /* Firecracker flags petrel accepts and has no use for */
};

static const struct option run_options[] = {
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"initramfs", required_argument, NULL, OPT_INITRAMFS},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"firmware", required_argument, NULL, OPT_FIRMWARE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"serial-max", required_argument, NULL, OPT_SERIAL_MAX},
    {"console", required_argument, NULL, OPT_CONSOLE},
    {"on-reboot", required_argument, NULL, OPT_ON_REBOOT},
    {"stats", no_argument, NULL, OPT_STATS},
    {"gdb", required_argument, NULL, OPT_GDB},
    {"gdb-wait", no_argument, NULL, OPT_GDB_WAIT},
    {"rng", no_argument, NULL, OPT_RNG},
    {"vsock", required_argument, NULL, OPT_VSOCK},
    {"balloon", optional_argument, NULL, OPT_BALLOON},
    {"disk", required_argument, NULL, OPT_DISK},
    {"net", required_argument, NULL, OPT_NET},
    {"test-device", no_argument, NULL, OPT_TEST_DEVICE},
    {"kvm", required_argument, NULL, OPT_KVM},
    {"irqchip", no_argument, NULL, OPT_IRQCHIP},
    {"api-sock", required_argument, NULL, OPT_API_SOCK},
    {"api-socket", required_argument, NULL, OPT_API_SOCK},
    {"event-monitor", required_argument, NULL, OPT_EVENT_MONITOR},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},
    {"restore", required_argument, NULL, OPT_RESTORE},
    {"incoming", required_argument, NULL, OPT_INCOMING},
    {"dirty-log", required_argument, NULL, OPT_DIRTY_LOG},
    {"dirty-ring-size", required_argument, NULL, OPT_DIRTY_RING_SIZE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* petrel run --restore: the request and the paths it points to. */
struct restore_opts {
	struct api_restore_req req;
	char state[PATH_MAX], mem[PATH_MAX];
};

struct serve_opts {
	const char *api_sock;	   /* NULL: no API */
	const char *event_monitor; /* Cloud Hypervisor's --event-monitor */
	const char *config_file;   /* Firecracker's JSON: configure and boot */
	const char *id;
	const char *log_path; /* Firecracker's --log-path */
	const char *level;
	const struct vm_config *cfg; /* petrel run: the command line's VM, booted at once */
	const struct api_restore_req *restore; /* petrel run --restore */
	const char *incoming;		       /* petrel run --incoming tcp:HOST:PORT */
	bool ch_empty;			       /* the Cloud Hypervisor way: no VM until vm.create */
	bool boot_timer;		       /* Firecracker's --boot-timer */
	enum sandbox_mode sandbox;	       /* --seccomp (kill unless given) */
	enum kvm_dirty_mode dirty_log;	       /* --dirty-log (bitmap unless given) */
	uint32_t dirty_ring_bytes;	       /* --dirty-ring-size (0: the default) */
};

static int parse_seccomp(const char *arg, struct serve_opts *so)
{
	if (sandbox_parse_mode(arg, &so->sandbox) < 0)
		return usage_error("--seccomp %s: expected off, log or kill", arg);
	return 0;
}

/* --dirty-log ring: refused at once where this host's KVM has no ring, or a smaller one. */
static int check_dirty_ring(const char *kvm_path, const struct serve_opts *so)
{
	struct kvm_sys sys;
	uint32_t max;

	if (kvm_sys_open(&sys, kvm_path) < 0)
		return -1;
	max = kvm_sys_dirty_ring_max(&sys);
	kvm_sys_close(&sys);
	if (!max) {
		fprintf(stderr, "petrel: --dirty-log ring: this host's KVM has no dirty ring "
				"(KVM_CAP_DIRTY_LOG_RING); use --dirty-log bitmap\n");
		return -1;
	}
	if (so->dirty_ring_bytes > max) {
		fprintf(stderr,
			"petrel: --dirty-ring-size %uK: this host's KVM takes at most %uK\n",
			so->dirty_ring_bytes >> 10, max >> 10);
		return -1;
	}
	return 0;
}

/* SIZE[,shared=on|off]: shared puts guest RAM in a memfd (a local migration hands it over). */
static int parse_memory(const char *arg, struct vm_config *cfg)
{
	const char *comma = strchr(arg, ',');
	char size[32];

	if (!comma)
		return vm_parse_size(arg, &cfg->mem_size);
	if ((size_t)(comma - arg) >= sizeof(size))
		return -EINVAL;
	memcpy(size, arg, (size_t)(comma - arg));
	size[comma - arg] = 0;
	if (vm_parse_size(size, &cfg->mem_size) < 0)
		return -EINVAL;
	if (!strcmp(comma + 1, "shared=on"))
		cfg->mem_shared = true;
	else if (!strcmp(comma + 1, "shared=off"))
		cfg->mem_shared = false;
	else
		return -EINVAL;
	return 0;
}

static int check_readable(const char *what, const char *path)
{
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "petrel: %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

/* DIR, or state=PATH,mem=PATH; then resume=on|off. */
static int parse_restore(const char *arg, struct restore_opts *ro)
{
	char *copy = strdup(arg), *s = copy, *item;
	const char *dir = NULL, *state = NULL, *mem = NULL;
	int ret = 0;

	if (!copy)
		return usage_error("%s", "out of memory");
	ro->req.resume = true;
	for (bool first = true; !ret && (item = strsep(&s, ",")); first = false) {
		if (!strncmp(item, "state=", 6) && item[6] && !state)
			state = item + 6;
		else if (!strncmp(item, "mem=", 4) && item[4] && !mem)
			mem = item + 4;
		else if (!strcmp(item, "resume=on") || !strcmp(item, "resume=off"))
			ro->req.resume = !strcmp(item, "resume=on");
		else if (first && *item && !strchr(item, '='))
			dir = item;
		else
			ret = -1;
	}
	if (!ret && (dir ? state || mem : !state || !mem))
		ret = -1;
	if (!ret && dir)
		ret = snprintf(ro->state, sizeof(ro->state), "%s/" API_SNAPSHOT_STATE_FILE, dir) >=
			  (int)sizeof(ro->state) ||
		      snprintf(ro->mem, sizeof(ro->mem), "%s/" API_SNAPSHOT_MEM_FILE, dir) >=
			  (int)sizeof(ro->mem);
	else if (!ret)
		ret =
		    snprintf(ro->state, sizeof(ro->state), "%s", state) >= (int)sizeof(ro->state) ||
		    snprintf(ro->mem, sizeof(ro->mem), "%s", mem) >= (int)sizeof(ro->mem);
	free(copy);
	if (ret)
		return usage_error("--restore %s: expected DIR or state=PATH,mem=PATH, then "
				   "[,resume=on|off]",
				   arg);
	ro->req.state_path = ro->state;
	ro->req.mem_path = ro->mem;
	return 0;
}

/* With --restore: --net id=ID,tap=NAME or --disk id=ID,path=FILE moves a device. */
static int parse_override(int opt, const char *arg, struct restore_opts *ro)
{
	bool net = opt == OPT_NET;
	char *copy = strdup(arg), *s = copy, *item, *id = NULL, *val = NULL;
	int ret = 0;

	if (!copy)
		return usage_error("%s", "out of memory");
	while (!ret && (item = strsep(&s, ","))) {
		if (!strncmp(item, "id=", 3) && item[3] && !id)
			id = item + 3;
		else if (net && !strncmp(item, "tap=", 4) && item[4] && !val)
			val = item + 4;
		else if (!net && !strncmp(item, "path=", 5) && item[5] && !val)
			val = item + 5;
		else
			ret = -1;
	}
	if (!ret && (!id || !val || strlen(id) >= API_ID_MAX ||
		     (net ? ro->req.nr_nets == VM_MAX_NETS || strlen(val) >= 16
			  : ro->req.nr_drives == VM_MAX_DISKS)))
		ret = -1;
	if (!ret && net) {
		struct api_net_override *o = &ro->req.nets[ro->req.nr_nets++];

		snprintf(o->id, sizeof(o->id), "%s", id);
		snprintf(o->tap, sizeof(o->tap), "%s", val);
	} else if (!ret) {
		struct api_drive_override *o = &ro->req.drives[ro->req.nr_drives++];

		snprintf(o->id, sizeof(o->id), "%s", id);
		o->path = arg + (val - copy); /* into argv, which outlives the restore */
	}
	free(copy);
	if (ret)
		return usage_error(net ? "--net %s: with --restore, expected id=ID,tap=NAME (the "
					 "snapshot's NIC ID moves to TAP NAME)"
				       : "--disk %s: with --restore, expected id=ID,path=FILE (the "
					 "snapshot's drive ID gets image FILE)",
				   arg);
	return 0;
}

/* "--cpus" for OPT_CPUS. */
static const char *option_name(int opt)
{
	static char buf[32];

	for (const struct option *o = run_options; o->name; o++)
		if (o->val == opt) {
			snprintf(buf, sizeof(buf), "--%s", o->name);
			return buf;
		}
	return "an option";
}

/* Is --restore among the arguments (it changes what --net and --disk mean)? */
static bool has_restore(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--restore") || !strncmp(argv[i], "--restore=", 10))
			return true;
	return false;
}

static int parse_run(int argc, char **argv, struct vm_config *cfg, struct serve_opts *so,
		     struct restore_opts *ro)
{
	bool restore = has_restore(argc, argv), restore_given = false;
	const char *machine_opt = NULL;
	const char *mode = NULL;
	struct sysinfo si;
	int opt, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = 1;
	cfg->mem_size = 256ULL << 20;
	cfg->serial = VM_SERIAL_STDIO;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", run_options, NULL)) != -1) {
		if (restore && (opt == OPT_NET || opt == OPT_DISK)) {
			if (parse_override(opt, optarg, ro))
				return VM_EXIT_USAGE;
			continue;
		}
		if (opt >= OPT_KERNEL && opt <= OPT_CONSOLE && !machine_opt)
			machine_opt = option_name(opt);
		switch (opt) {
		case OPT_INCOMING:
			if (so->incoming)
				return usage_error("%s", "give --incoming once");
			if (strncmp(optarg, "tcp:", 4) && strncmp(optarg, "unix:", 5))
				return usage_error(
				    "--incoming %s: expected tcp:HOST:PORT or unix:PATH", optarg);
			so->incoming = optarg;
			break;
		case OPT_RESTORE:
			if (restore_given)
				return usage_error("%s", "give --restore once");
			restore_given = true;
			if (parse_restore(optarg, ro))
				return VM_EXIT_USAGE;
			break;
		case OPT_KERNEL:
			cfg->kernel = optarg;
			break;
		case OPT_INITRAMFS:
			cfg->initramfs = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_FIRMWARE:
			cfg->firmware = optarg;
			break;
		case OPT_MODE:
			mode = optarg;
			if (strcmp(mode, "real") && strcmp(mode, "long"))
				return usage_error("--mode %s: expected real or long", mode);
			break;
		case OPT_CPUS:
			ret = vm_parse_uint(optarg, 1, VM_MAX_VCPUS, &cfg->cpus);
			if (ret < 0)
				return usage_error("--cpus %s: expected a number from 1 to 256",
						   optarg);
			break;
		case OPT_MEMORY:
			if (parse_memory(optarg, cfg) < 0)
				return usage_error(
				    "--memory %s: expected a size such as 256M or 2G, "
				    "then ,shared=on|off",
				    optarg);
			break;
		case OPT_SERIAL:
			if (vm_parse_serial(optarg, cfg) < 0)
				return usage_error("--serial %s: expected stdio, file=PATH or off",
						   optarg);
			break;
		case OPT_SERIAL_MAX: {
			uint64_t v;

			if (vm_parse_size(optarg, &v) < 0)
				return usage_error(
				    "--serial-max %s: expected a size such as 64M, or 0 "
				    "for no cap",
				    optarg);
			cfg->serial_max = v ? v : UINT64_MAX;
			break;
		}
		case OPT_CONSOLE:
			if (!strcmp(optarg, "hvc"))
				cfg->console_hvc = true;
			else if (!strcmp(optarg, "serial"))
				cfg->console_hvc = false;
			else
				return usage_error("--console %s: expected hvc or serial", optarg);
			break;
		case OPT_ON_REBOOT:
			if (!strcmp(optarg, "exit"))
				cfg->reboot_exits = true;
			else if (strcmp(optarg, "restart"))
				return usage_error("--on-reboot %s: expected restart or exit",
						   optarg);
			break;
		case OPT_STATS:
			cfg->stats = true;
			break;
		case OPT_GDB: {
			char host[256];
			unsigned int port;

			if (vm_gdb_parse_addr(optarg, host, sizeof(host), &port) < 0)
				return usage_error("--gdb %s: expected tcp:HOST:PORT or tcp::PORT",
						   optarg);
			cfg->gdb = optarg;
			break;
		}
		case OPT_GDB_WAIT:
			cfg->gdb_wait = true;
			break;
		case OPT_RNG:
			cfg->rng = true;
			break;
		case OPT_VSOCK:
			if (cfg->vsock_on)
				return usage_error("--vsock %s: one vsock device at most", optarg);
			if (virtio_vsock_parse(optarg, &cfg->vsock) < 0)
				return usage_error(
				    "--vsock %s: expected cid=N,uds=PATH (N from 3 to "
				    "4294967294, PATH of 1 to 96 bytes)",
				    optarg);
			cfg->vsock_on = true;
			break;
		case OPT_BALLOON: {
			/* --balloon alone, --balloon=SPEC or --balloon SPEC */
			const char *spec = optarg;

			if (!spec && optind < argc && argv[optind][0] != '-' &&
			    strchr(argv[optind], '='))
				spec = argv[optind++];
			if (virtio_balloon_parse(spec, &cfg->balloon) < 0)
				return usage_error(
				    "--balloon %s: expected [size=MIB][,deflate_on_oom=on|off]"
				    "[,free_page_reporting=on|off][,stats=SECS of at most 86400]",
				    spec);
			break;
		}
		case OPT_DISK: {
			struct virtio_blk_config_opts o;

			if (virtio_blk_parse(optarg, &o) < 0)
				return usage_error(
				    "--disk %s: expected path=FILE[,readonly=on|off]"
				    "[,direct=on|off][,serial=ID of at most 20 bytes]",
				    optarg);
			if (cfg->nr_disks == VM_MAX_DISKS) {
				virtio_blk_opts_free(&o);
				return usage_error("--disk %s: at most 8 disks", optarg);
			}
			cfg->disks[cfg->nr_disks++] = o;
			break;
		}
		case OPT_NET: {
			struct virtio_net_config_opts o;

			if (virtio_net_parse(optarg, &o) < 0)
				return usage_error(
				    "--net %s: expected tap=NAME[,mac=aa:bb:cc:dd:ee:ff]"
				    " (NAME of 1 to 15 characters, a unicast MAC)",
				    optarg);
			if (cfg->nr_nets == VM_MAX_NETS)
				return usage_error("--net %s: at most 4 network interfaces",
						   optarg);
			cfg->nets[cfg->nr_nets++] = o;
			break;
		}
		case OPT_TEST_DEVICE:
			cfg->test_device = true;
			break;
		case OPT_IRQCHIP:
			cfg->irqchip = true;
			break;
		case OPT_KVM:
			cfg->kvm_path = optarg;
			break;
		case OPT_API_SOCK:
			so->api_sock = optarg;
			break;
		case OPT_EVENT_MONITOR:
			so->event_monitor = optarg;
			break;
		case OPT_SECCOMP:
			if (parse_seccomp(optarg, so))
				return VM_EXIT_USAGE;
			break;
		case OPT_DIRTY_LOG:
			if (vm_parse_dirty_log(optarg, &so->dirty_log) < 0)
				return usage_error("--dirty-log %s: expected bitmap or ring",
						   optarg);
			break;
		case OPT_DIRTY_RING_SIZE:
			if (vm_parse_dirty_ring_size(optarg, &so->dirty_ring_bytes) < 0)
				return usage_error("--dirty-ring-size %s: expected a power of two "
						   "from 4K to 1G, such as 64K",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return bad_option(argv);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument %s", argv[optind]);
	if (so->dirty_ring_bytes && so->dirty_log != KVM_DIRTY_LOG_RING)
		return usage_error("%s", "--dirty-ring-size needs --dirty-log ring");
	if (so->dirty_log == KVM_DIRTY_LOG_RING && check_dirty_ring(cfg->kvm_path, so))
		return VM_EXIT_ERROR;
	if (restore_given && machine_opt)
		return usage_error("%s cannot be given with --restore: the snapshot holds the "
				   "machine's configuration",
				   machine_opt);
	if (so->incoming && (machine_opt || restore_given))
		return usage_error("%s cannot be given with --incoming: the migration brings the "
				   "machine's configuration",
				   restore_given ? "--restore" : machine_opt);
	if (so->incoming)
		return 0;
	if (restore_given) {
		so->restore = &ro->req;
		return 0;
	}
	if (!cfg->kernel == !cfg->firmware)
		return usage_error("%s", cfg->kernel ? "give --kernel or --firmware, not both"
						     : "give --kernel PATH (or --firmware PATH)");
	if (cfg->firmware) {
		cfg->boot = mode && !strcmp(mode, "long") ? VM_BOOT_FLAT_LONG : VM_BOOT_FLAT_REAL;
		if (cfg->initramfs || cfg->cmdline)
			return usage_error("%s", "--initramfs and --cmdline need --kernel");
	} else if (mode) {
		return usage_error("%s", "--mode applies to --firmware only");
	}
	if (cfg->console_hvc && !cfg->kernel)
		return usage_error("%s", "--console hvc needs --kernel");
	if (cfg->gdb_wait && !cfg->gdb)
		return usage_error("%s", "--gdb-wait needs --gdb tcp:HOST:PORT");
	if (cfg->mem_size < (16ULL << 20) || cfg->mem_size & 0xfff)
		return usage_error("--memory: %s", "at least 16M, in whole 4 KiB pages");
	if (sysinfo(&si) == 0 && cfg->mem_size > (uint64_t)si.totalram * si.mem_unit +
						     (uint64_t)si.totalswap * si.mem_unit)
		return usage_error("--memory: more than this host has (%s)", "RAM + swap");
	if (cfg->kernel && check_readable("--kernel", cfg->kernel))
		return VM_EXIT_ERROR;
	if (cfg->initramfs && check_readable("--initramfs", cfg->initramfs))
		return VM_EXIT_ERROR;
	if (cfg->firmware && check_readable("--firmware", cfg->firmware))
		return VM_EXIT_ERROR;
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct kvm_sys sys;

	if (argc > 1)
		return usage_error("info takes no arguments, got %s", argv[1]);
	if (kvm_sys_open(&sys, NULL) < 0)
		return VM_EXIT_ERROR;
	kvm_sys_describe(&sys, stdout);
	kvm_sys_close(&sys);
	return 0;
}

/* Give the command line's machine to the controller, as any front-end does. */
static int fill_controller(struct api_vmm *v, const struct vm_config *cfg)
{
	/* what GET /vm/config reports; the machine gets exactly mem_bytes */
	struct api_machine_update mu = {.has_cpus = true,
					.cpus = cfg->cpus,
					.has_mem = cfg->mem_size >= (uint64_t)API_MIN_MEM_MIB << 20,
					.mem_mib = cfg->mem_size >> 20,
					.has_mem_shared = true,
					.mem_shared = cfg->mem_shared};
	struct api_local_opts lo = {
	    .firmware = cfg->firmware,
	    .boot = cfg->boot,
	    .mem_bytes = cfg->mem_size,
	    .serial_max = cfg->serial_max,
	    .gdb = cfg->gdb,
	    .gdb_wait = cfg->gdb_wait,
	    .reboot_exits = cfg->reboot_exits,
	    .stats = cfg->stats,
	    .test_device = cfg->test_device,
	    .irqchip = cfg->irqchip,
	    .kvm_path = cfg->kvm_path,
	};
	struct api_err err = {""};
	unsigned int i;
	int ret;

	ret = api_vmm_set_machine(v, &mu, false, &err);
	if (!ret && cfg->kernel)
		ret = api_vmm_set_boot(v, cfg->kernel, cfg->initramfs, cfg->cmdline, &err);
	if (!ret)
		ret = api_vmm_set_local(v, &lo, &err);
	for (i = 0; !ret && i < cfg->nr_disks; i++) {
		const struct virtio_blk_config_opts *o = &cfg->disks[i];
		struct api_drive d = {.path = (char *)o->path,
				      .readonly = o->readonly,
				      .direct = o->direct,
				      .serial = (char *)o->serial};

		snprintf(d.id, sizeof(d.id), "disk%u", i);
		ret = api_vmm_put_drive(v, &d, &err);
	}
	for (i = 0; !ret && i < cfg->nr_nets; i++) {
		struct api_net n = {.has_mac = true};

		snprintf(n.id, sizeof(n.id), "net%u", i);
		snprintf(n.tap, sizeof(n.tap), "%s", cfg->nets[i].tap);
		memcpy(n.mac, cfg->nets[i].mac, sizeof(n.mac));
		ret = api_vmm_put_net(v, &n, &err);
	}
	if (!ret && cfg->rng)
		ret = api_vmm_set_rng(v, true, &err);
	if (!ret && cfg->vsock_on) {
		struct api_vsock vs = {.id = "vsock0", .cid = cfg->vsock.cid};

		snprintf(vs.uds, sizeof(vs.uds), "%s", cfg->vsock.uds);
		ret = api_vmm_set_vsock(v, &vs, &err);
	}
	if (!ret && cfg->balloon.on)
		ret = api_vmm_set_balloon(v, &cfg->balloon, &err);
	if (!ret)
		ret = api_vmm_set_serial(v,
					 cfg->serial == VM_SERIAL_FILE	? API_SERIAL_FILE
					 : cfg->serial == VM_SERIAL_OFF ? API_SERIAL_OFF
									: API_SERIAL_STDIO,
					 cfg->serial_path, &err);
	if (!ret && cfg->console_hvc)
		ret = api_vmm_set_console_hvc(v, true, &err);
	if (ret)
		fprintf(stderr, "petrel: %s\n", err.msg);
	return ret;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0, n = 0;
	char *buf = NULL, *b;

	if (!f)
		return -errno;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (16u << 20) || !(b = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				return -EFBIG;
			}
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

/* Load a --config-file into the controller; one line on failure. */
static int load_config_file(struct api_vmm *v, const char *path)
{
	struct api_err err = {""};
	size_t len = 0;
	char *json = NULL;
	int ret;

	ret = read_file(path, &json, &len);
	if (ret) {
		fprintf(stderr, "petrel: --config-file %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = api_fc_config_load(v, json, len, &err);
	free(json);
	if (ret)
		fprintf(stderr, "petrel: --config-file %s: %s\n", path, err.msg);
	return ret;
}

/*
 * The one way petrel runs: a controller and its runner; the command line's
 * VM or a config file's, booted at once; the API when asked for.
 */
static int serve(const struct serve_opts *o)
{
	struct api_server srv = {.listen_fd = -1};
	struct api_runner *r = calloc(1, sizeof(*r));
	struct api_err err = {""};
	bool srv_open = false;
	int status = VM_EXIT_ERROR;

	if (!r || api_runner_init(r, o->id) < 0)
		goto out_free;
	api_vmm_set_sandbox(&r->vmm, o->sandbox);
	api_vmm_set_dirty_log(&r->vmm, o->dirty_log, o->dirty_ring_bytes);
	if (o->log_path && api_vmm_set_logger(&r->vmm, o->log_path, o->level, &err) < 0) {
		fprintf(stderr, "petrel: --log-path %s\n", err.msg);
		goto out;
	}
	if (o->event_monitor && api_vmm_set_event_monitor(&r->vmm, o->event_monitor, &err) < 0) {
		fprintf(stderr, "petrel: %s\n", err.msg);
		goto out;
	}
	if (o->api_sock) {
		if (api_server_open(&srv, o->api_sock) < 0)
			goto out;
		srv_open = true;
	}
	api_runner_probe_kvm(r);
	if (o->restore) {
		if (api_vmm_restore(&r->vmm, o->restore, &err) < 0) {
			fprintf(stderr, "petrel: --restore: %s\n", err.msg);
			goto out;
		}
	} else if (o->incoming) {
		if (api_vmm_receive_migration(&r->vmm, o->incoming, &err) < 0) {
			fprintf(stderr, "petrel: --incoming: %s\n", err.msg);
			goto out;
		}
	} else if (o->cfg && fill_controller(&r->vmm, o->cfg) < 0) {
		goto out;
	}
	if (o->boot_timer && api_vmm_set_boot_timer(&r->vmm, true, &err) < 0) {
		fprintf(stderr, "petrel: --boot-timer: %s\n", err.msg);
		goto out;
	}
	if (o->config_file && load_config_file(&r->vmm, o->config_file) < 0)
		goto out;
	if (o->ch_empty)
		r->vmm.state = API_VM_NONE;
	if (o->cfg || o->config_file) {
		int ret = api_vmm_boot(&r->vmm, &err);

		if (ret < 0) {
			/* -EIO: the machine's own message is out already */
			if (ret != -EIO)
				fprintf(stderr, "petrel: %s\n", err.msg);
			goto out;
		}
	}
	if (srv_open && api_server_start(&srv, &r->vmm) < 0)
		goto out;
	status = api_runner_main(r);
	if (!r->exit_requested) /* vmm.shutdown said it already */
		api_vmm_event(&r->vmm, "vmm", "shutdown");
out:
	if (srv_open)
		api_server_close(&srv);
	api_runner_destroy(r);
out_free:
	free(r);
	return status;
}

static int cmd_run(int argc, char **argv)
{
	struct serve_opts o = {.sandbox = SANDBOX_KILL};
	struct restore_opts *ro = calloc(1, sizeof(*ro));
	struct vm_config cfg;
	int ret;

	if (!ro)
		return VM_EXIT_ERROR;
	ret = parse_run(argc, argv, &cfg, &o, ro);
	if (ret) {
		free(ro);
		for (unsigned int i = 0; i < cfg.nr_disks; i++)
			virtio_blk_opts_free(&cfg.disks[i]);
		return ret < 0 ? 0 : ret;
	}
	if (!o.restore && !o.incoming)
		o.cfg = &cfg;
	ret = serve(&o);
	free(ro);
	for (unsigned int i = 0; i < cfg.nr_disks; i++)
		virtio_blk_opts_free(&cfg.disks[i]);
	return ret;
}

static const struct option api_options[] = {
    {"api-sock", required_argument, NULL, OPT_API_SOCK},
    {"api-socket", required_argument, NULL, OPT_API_SOCK},
    {"config-file", required_argument, NULL, OPT_CONFIG_FILE},
    {"event-monitor", required_argument, NULL, OPT_EVENT_MONITOR},
    {"no-api", no_argument, NULL, OPT_NO_API},
    {"id", required_argument, NULL, OPT_ID},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"log-path", required_argument, NULL, OPT_LOG_PATH},
    {"boot-timer", no_argument, NULL, OPT_BOOT_TIMER},
    {"version", no_argument, NULL, OPT_VERSION},
    {"show-level", no_argument, NULL, OPT_IGNORED},
    {"show-log-origin", no_argument, NULL, OPT_IGNORED},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},
    {"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
    {"seccomp-filter", required_argument, NULL, OPT_IGNORED},
    {"start-time-us", required_argument, NULL, OPT_IGNORED},
    {"start-time-cpu-us", required_argument, NULL, OPT_IGNORED},
    {"parent-cpu-time-us", required_argument, NULL, OPT_IGNORED},
    {"metadata", required_argument, NULL, OPT_IGNORED},
    {"module", required_argument, NULL, OPT_IGNORED},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/*
 * petrel api, and petrel under the name "firecracker" (@fc): Firecracker's
 * flags; the API socket defaults to Firecracker's path there.
 */
static int cmd_api(int argc, char **argv, bool fc)
{
	struct serve_opts o = {.sandbox = SANDBOX_KILL};
	bool no_api = false;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", api_options, NULL)) != -1) {
		switch (opt) {
		case OPT_API_SOCK:
			o.api_sock = optarg;
			break;
		case OPT_CONFIG_FILE:
			o.config_file = optarg;
			break;
		case OPT_EVENT_MONITOR:
			o.event_monitor = optarg;
			break;
		case OPT_NO_API:
			no_api = true;
			break;
		case OPT_ID:
			if (!*optarg || strlen(optarg) >= API_ID_MAX)
				return usage_error("--id %s: expected 1 to 63 characters", optarg);
			o.id = optarg;
			break;
		case OPT_LEVEL:
			o.level = optarg;
			break;
		case OPT_LOG_PATH:
			o.log_path = optarg;
			break;
		case OPT_SECCOMP:
			if (parse_seccomp(optarg, &o))
				return VM_EXIT_USAGE;
			break;
		case OPT_NO_SECCOMP: /* Firecracker's: no filters */
			o.sandbox = SANDBOX_OFF;
			break;
		case OPT_VERSION:
			printf(fc ? "Firecracker v%s (petrel %s)\n" : "petrel %s\n", PETREL_VERSION,
			       PETREL_VERSION);
			return 0;
		case OPT_BOOT_TIMER:
			o.boot_timer = true;
			break;
		case OPT_IGNORED:
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return bad_option(argv);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument %s", argv[optind]);
	if (no_api && !o.config_file)
		return usage_error("%s", "--no-api needs --config-file FILE");
	if (no_api && o.api_sock)
		return usage_error("%s", "give --api-sock or --no-api, not both");
	if (!no_api && !o.api_sock) {
		if (!fc)
			return usage_error("%s",
					   "give --api-sock PATH (or --no-api --config-file FILE)");
		o.api_sock = "/run/firecracker.socket";
	}
	return serve(&o);
}

static bool called_firecracker(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	return !strcmp(base ? base + 1 : argv0, "firecracker");
}

/* petrel snapshot merge BASE DIFF */
static int cmd_snapshot(int argc, char **argv)
{
	struct state_err err;

	if (argc != 4 || strcmp(argv[1], "merge"))
		return usage_error("%s", "usage: petrel snapshot merge BASE DIFF");
	if (snapshot_merge_mem(argv[2], argv[3], &err) < 0) {
		fprintf(stderr, "petrel: snapshot merge: %s\n", err.msg);
		return VM_EXIT_ERROR;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int ret;

	if (called_firecracker(argv[0])) {
		ret = cmd_api(argc, argv, true);
		return ret < 0 ? 0 : ret;
	}
	if (argc < 2) {
		usage(stderr);
		return VM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("petrel %s\n", PETREL_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return api_ctl_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "snapshot"))
		return cmd_snapshot(argc - 1, argv + 1);
	if (!strcmp(argv[1], "api")) {
		ret = cmd_api(argc - 1, argv + 1, false);
		return ret < 0 ? 0 : ret;
	}
	if (strcmp(argv[1], "run"))
		return usage_error("unknown command %s: expected run, api, ctl, snapshot or info",
				   argv[1]);
	return cmd_run(argc - 1, argv + 1);
}
