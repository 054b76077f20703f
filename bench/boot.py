#!/usr/bin/env python3
"""bench/boot: the same kernel, initramfs and command line booted by petrel
(bzImage and PVH) and by QEMU (-M microvm and -M pc, -enable-kvm -nodefaults),
interleaved, N runs each. Measures time from exec to the guest's first line
from /init, time to process exit after the guest's poweroff, and the VMM's
resident memory at that first line, not counting the guest RAM mapping.
Needs a /dev/kvm with hardware virtualization (run it in the lab elsewhere)."""
import os, re, statistics, subprocess, sys, time

def rss_kb_excluding_ram(pid, ram_bytes):
    total = 0
    size = 0
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    a, b = line.split()[0].split("-")
                    size = int(b, 16) - int(a, 16)
                elif line.startswith("Rss:") and size < ram_bytes:
                    total += int(line.split()[1])
    except OSError:
        return None
    return total

def run(cmd, ram_bytes):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    first = rss = None
    for raw in p.stdout:
        if first is None and b"petrel-guest: init started" in raw:
            first = time.monotonic() - t0
            rss = rss_kb_excluding_ram(p.pid, ram_bytes)
    p.wait()
    end = time.monotonic() - t0
    if first is None or p.returncode != 0:
        raise SystemExit(f"boot failed ({p.returncode}): {' '.join(cmd)}")
    return first, end, rss

def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    env = dict(l.split("=", 1) for l in subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True).split())
    kernel, initrd = env["KERNEL"], env["INITRAMFS"]
    vmlinux = "/tmp/petrel-bench-vmlinux"  # tmpfs in the lab: 9p page faults would dominate
    subprocess.check_call([os.path.join(root, "scripts/extract-vmlinux.sh"), kernel, vmlinux])
    mem, ram = "256M", 256 << 20
    cl = "console=ttyS0 quiet panic=-1"
    petrel = os.path.join(build, "petrel")
    q = ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-m", mem, "-smp", "1",
         "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
         "-no-reboot", "-initrd", initrd, "-append", cl]
    configs = {
        "petrel bzImage": [petrel, "run", "--kernel", kernel, "--initramfs", initrd,
                           "--memory", mem, "--cmdline", "quiet panic=-1"],
        "petrel PVH": [petrel, "run", "--kernel", vmlinux, "--initramfs", initrd,
                       "--memory", mem, "--cmdline", "quiet panic=-1"],
        "qemu microvm": q[:1] + ["-M", "microvm"] + q[1:] + ["-kernel", kernel],
        "qemu pc": q[:1] + ["-M", "pc"] + q[1:] + ["-kernel", kernel],
    }
    res = {k: [] for k in configs}
    for i in range(runs):
        for name, cmd in configs.items():
            res[name].append(run(cmd, ram))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v),
               statistics.median(r[2] for r in v if r[2] is not None))
           for k, v in res.items()}
    base = med["petrel bzImage"]
    print(f"bench/boot: {runs} runs each, interleaved, medians; ratio = config / petrel bzImage")
    print(f"{'config':16} {'to /init s':>11} {'ratio':>6} {'to exit s':>10} {'ratio':>6} {'VMM RSS KiB':>12}")
    for k, (a, b, r) in med.items():
        print(f"{k:16} {a:11.3f} {a / base[0]:6.2f} {b:10.3f} {b / base[1]:6.2f} {r:12.0f}")

main()
