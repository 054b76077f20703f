#!/usr/bin/env python3
"""bench/lab-hangs: is the lab's flakiness petrel's? The same Linux test guest
(4 vCPUs, 1 GiB, powering off at once) booted N times by petrel and N times by
QEMU (-M q35 -enable-kvm), interleaved, in one lab boot. Each boot gets a
deadline; a boot that misses it is a hang, one that ends without the guest's
poweroff line a failure. The guest's console is searched for the kernel's
complaints (soft lockups, RCU stalls, double faults, clocksource watchdog).
Prints a table per VMM; the console of every boot that was not clean is kept in
$LAB_SCRATCH (or a temporary folder) for reading."""
import os, re, statistics, subprocess, sys, tempfile, time

COMPLAINTS = {
    "soft lockup": rb"soft lockup",
    "rcu stall": rb"rcu.*(self-detected stall|detected stalls)",
    "double fault": rb"double fault",
    "clocksource": rb"clocksource.*(unstable|watchdog)",
    "oops/BUG": rb"(Oops|BUG:|general protection fault|kernel panic)",
    "hung task": rb"blocked for more than",
}


def boot(cmd, out_path, deadline):
    t0 = time.monotonic()
    with open(out_path, "wb") as out:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT)
        try:
            p.wait(timeout=deadline)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
    secs = time.monotonic() - t0
    with open(out_path, "rb") as f:
        log = f.read().replace(b"\r", b"")
    if rc is None:
        verdict = "hang"
    elif rc == 0 and b"petrel-guest: powering off" in log and b"petrel-guest: cpus 4" in log:
        verdict = "ok"
    else:
        verdict = "fail"
    found = [k for k, rx in COMPLAINTS.items() if re.search(rx, log, re.I)]
    return verdict, secs, found


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    deadline = float(os.environ.get("HANG_DEADLINE", "150"))
    keep = os.environ.get("LAB_SCRATCH") or tempfile.mkdtemp(prefix="petrel-hangs-")
    env = dict(l.split("=", 1) for l in subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True).split())
    kernel, initrd = env["KERNEL"], env["INITRAMFS"]
    cl = "quiet panic=-1 petrel.action=poweroff"
    petrel = os.path.join(build, "petrel")
    configs = {
        "petrel": lambda out: [petrel, "run", "--kernel", kernel, "--initramfs", initrd,
                               "--cpus", "4", "--memory", "1G", "--cmdline", cl,
                               "--serial", "stdio"],
        "qemu q35": lambda out: ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host",
                                 "-M", "q35", "-smp", "4", "-m", "1G", "-display", "none",
                                 "-monitor", "none", "-no-reboot", "-nic", "none",
                                 "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
                                 "-append", "console=ttyS0 " + cl],
    }
    res = {k: [] for k in configs}
    for i in range(runs):
        for name, mk in configs.items():
            out = os.path.join(keep, f"hangs-{name.split()[0]}-{i}.log")
            verdict, secs, found = boot(mk(out), out, deadline)
            res[name].append((verdict, secs, found))
            print(f"run {i + 1:2}/{runs} {name:9} {verdict:4} {secs:6.1f}s"
                  f"{'  ' + ', '.join(found) if found else ''}", flush=True)
            if verdict == "ok" and not found:
                os.unlink(out)
    print(f"\nbench/lab-hangs: {runs} boots each, 4 vCPUs, 1 GiB, interleaved; "
          f"deadline {deadline:.0f}s")
    print(f"{'VMM':9} {'ok':>4} {'hang':>5} {'fail':>5} {'complaints':>11} "
          f"{'median s':>9} {'max s':>7}")
    for name, r in res.items():
        ok = [s for v, s, _ in r if v == "ok"]
        print(f"{name:9} {len(ok):4} {sum(v == 'hang' for v, _, _ in r):5} "
              f"{sum(v == 'fail' for v, _, _ in r):5} {sum(bool(f) for _, _, f in r):11} "
              f"{statistics.median(ok) if ok else 0:9.1f} {max(ok) if ok else 0:7.1f}")
    for name, r in res.items():
        kinds = {}
        for _, _, found in r:
            for k in found:
                kinds[k] = kinds.get(k, 0) + 1
        if kinds:
            print(f"{name}: " + ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())))
    print(f"consoles of the boots that were not clean: {keep}")


main()
