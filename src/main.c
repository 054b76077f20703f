// SPDX-License-Identifier: GPL-2.0-only
/* petrel's command line: fills a vm_config and hands it to the machine. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "vm/config_parse.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "debug/gdb_stub.h"
#include "vm/machine.h"
#include "api/session.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: petrel run [options]    boot a guest\n"
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
		"  --memory SIZE          guest RAM, e.g. 256M, 2G (default 256M)\n"
		"  --serial stdio|file=PATH|off   where COM1 goes (default stdio)\n"
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
		"  --gdb tcp:HOST:PORT    serve the GDB remote protocol (host default 127.0.0.1)\n"
		"  --gdb-wait             hold every vCPU until the debugger continues\n"
		"\n"
		"exit status: 0 guest powered off, 1 petrel error, 2 usage error,\n"
		"  4 guest rebooted (--on-reboot exit), 6 triple fault, 8 guest panic,\n"
		"  10 KVM internal error, 128+N stopped by signal N,\n"
		"  (v << 1) | 1 when a guest writes v to the debug-exit port 0xf4.\n"
		"With the serial console on a terminal, Ctrl-A x quits.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "petrel: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see petrel --help)\n");
	return VM_EXIT_USAGE;
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
	OPT_ON_REBOOT,
	OPT_STATS,
	OPT_TEST_DEVICE,
	OPT_KVM,
	OPT_IRQCHIP,
	OPT_GDB,
	OPT_GDB_WAIT,
	OPT_RNG,
	OPT_DISK,
	OPT_NET,
	OPT_CONSOLE,
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
    {"console", required_argument, NULL, OPT_CONSOLE},
    {"on-reboot", required_argument, NULL, OPT_ON_REBOOT},
    {"stats", no_argument, NULL, OPT_STATS},
    {"gdb", required_argument, NULL, OPT_GDB},
    {"gdb-wait", no_argument, NULL, OPT_GDB_WAIT},
    {"rng", no_argument, NULL, OPT_RNG},
    {"disk", required_argument, NULL, OPT_DISK},
    {"net", required_argument, NULL, OPT_NET},
    {"test-device", no_argument, NULL, OPT_TEST_DEVICE},
    {"kvm", required_argument, NULL, OPT_KVM},
    {"irqchip", no_argument, NULL, OPT_IRQCHIP},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int check_readable(const char *what, const char *path)
{
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "petrel: %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_run(int argc, char **argv, struct vm_config *cfg)
{
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
		switch (opt) {
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
			ret = vm_parse_size(optarg, &cfg->mem_size);
			if (ret < 0)
				return usage_error(
				    "--memory %s: expected a size such as 256M or 2G", optarg);
			break;
		case OPT_SERIAL:
			if (vm_parse_serial(optarg, cfg) < 0)
				return usage_error("--serial %s: expected stdio, file=PATH or off",
						   optarg);
			break;
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
		case 'h':
			usage(stdout);
			return -1;
		default:
			if (optopt)
				return usage_error("option -%c needs a value or is unknown",
						   (char[]){(char)optopt, 0});
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument %s", argv[optind]);
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

int main(int argc, char **argv)
{
	struct vm_config cfg;
	int ret;

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
	if (strcmp(argv[1], "run"))
		return usage_error("unknown command %s: expected run or info", argv[1]);
	ret = parse_run(argc - 1, argv + 1, &cfg);
	if (ret)
		return ret < 0 ? 0 : ret;
	return api_session_run(&cfg);
}
