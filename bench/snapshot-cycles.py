#!/usr/bin/env python3
"""bench/snapshot-cycles: does a Linux guest survive being snapshotted and
restored again and again? A 2-vCPU guest runs the test workload (its RAM data
checked and a short sleep pinned to each CPU every round); each cycle pauses
it, snapshots it, kills its petrel and restores the snapshot in a new one,
with --api-sock so the next cycle can snapshot the restored guest. A cycle
passes when the restored guest goes on with its next rounds, every round says
"mem ok cpus ok", and its kernel complains of nothing. Prints one line a cycle
and a table; the console of a failed cycle is kept."""
import os, re, shutil, subprocess, sys, tempfile, time

COMPLAINTS = rb"soft lockup|rcu.*stall|clocksource.*(unstable|watchdog|skew)|Kernel panic|BUG:|Oops|init started"
ROUND = re.compile(rb"^petrel-guest: round (\d+) .*", re.M)


def wait_rounds(path, proc, n, deadline):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with open(path, "rb") as f:
            got = [m.group(0) for m in ROUND.finditer(f.read().replace(b"\r", b""))]
        if len(got) >= n:
            return got
        if proc.poll() is not None:
            return None
        time.sleep(0.2)
    return None


def wait_path(path, deadline=30):
    end = time.monotonic() + deadline
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise SystemExit(f"no {path} after {deadline}s")
        time.sleep(0.05)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    petrel = os.path.join(build, "petrel")
    env = dict(l.split("=", 1) for l in subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True).split())
    work = tempfile.mkdtemp(prefix="petrel-cycles-", dir="/tmp")
    cl = "quiet panic=-1 petrel.action=workload petrel.memcheck=16"
    sock = os.path.join(work, "api.sock")
    out = os.path.join(work, "boot.log")
    p = subprocess.Popen([petrel, "run", "--kernel", env["KERNEL"], "--initramfs",
                          env["INITRAMFS"], "--cpus", "2", "--memory", "256M", "--cmdline",
                          cl, "--api-sock", sock], stdin=subprocess.DEVNULL,
                         stdout=open(out, "wb"), stderr=subprocess.STDOUT)
    if not wait_rounds(out, p, 3, 300):
        raise SystemExit(f"the first boot did not run 3 rounds: see {out}")
    passed = failed = 0
    for i in range(1, cycles + 1):
        snap = os.path.join(work, "snap")
        shutil.rmtree(snap, ignore_errors=True)
        t0 = time.monotonic()
        subprocess.check_call([petrel, "ctl", sock, "pause"], stdout=subprocess.DEVNULL)
        subprocess.check_call([petrel, "ctl", sock, "snapshot", snap, "--keep-paused"],
                              stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            before = len(ROUND.findall(f.read().replace(b"\r", b"")))
        p.kill()
        p.wait()
        os.unlink(sock)
        out = os.path.join(work, f"cycle-{i}.log")
        p = subprocess.Popen([petrel, "run", "--restore", snap, "--api-sock", sock],
                             stdin=subprocess.DEVNULL, stdout=open(out, "wb"),
                             stderr=subprocess.STDOUT)
        wait_path(sock)
        got = wait_rounds(out, p, 4, 120)
        secs = time.monotonic() - t0
        with open(out, "rb") as f:
            log = f.read().replace(b"\r", b"")
        bad = []
        if got is None:
            bad.append("fewer than 4 rounds in 120s")
        else:
            bad += [g.decode(errors="replace") for g in got
                    if b" mem ok cpus ok up " not in g]
        m = re.search(COMPLAINTS, log, re.I)
        if m:
            bad.append("console: " + m.group(0).decode(errors="replace"))
        if bad:
            failed += 1
            print(f"cycle {i:3}/{cycles} FAIL {secs:5.1f}s after round {before}: "
                  f"{'; '.join(bad)[:300]} (console kept: {out})", flush=True)
            break
        passed += 1
        print(f"cycle {i:3}/{cycles} ok   {secs:5.1f}s after round {before}", flush=True)
    p.kill()
    p.wait()
    print(f"\nbench/snapshot-cycles: 2 vCPUs, 256 MiB, snapshot+restore cycles of one guest")
    print(f"{'cycles':>7} {'ok':>4} {'failed':>7}")
    print(f"{passed + failed:7} {passed:4} {failed:7}")
    if failed:
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


main()
