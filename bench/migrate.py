#!/usr/bin/env python3
"""bench/migrate: live migration of a running Linux guest over TCP on one host,
petrel against QEMU in one run.

The guest (1 GiB, 2 vCPUs, the same kernel and test initramfs for both VMMs)
runs dirtier (tests/guest-linux/dirtier.c, appended to the initramfs with a
/test.sh): a line "petrel-guest: beat N" every 5 ms on the serial console, and
for the dirtying workloads RATE MiB/s written as one word a page over a 256 MiB
buffer. Workloads: idle (the heartbeat alone) and each rate of --rates (default
8 and 64 MiB/s). Once the guest has run --settle seconds:

petrel: `petrel run --incoming tcp:127.0.0.1:PORT` on the destination, `petrel
ctl SOCK migrate tcp:127.0.0.1:PORT --downtime MS` on the source; the figures
are the source's last line ("done in T ms, downtime D ms, R dirty rounds, K KiB
sent"). QEMU: `-incoming tcp:127.0.0.1:PORT` on the destination; on the source
QMP `migrate-set-parameters` (downtime-limit MS, max-bandwidth unlimited: QEMU's
default cap of 128 MiB/s would measure the cap), `migrate`, then `query-migrate`
every 5 ms to the end: total-time, downtime, ram.transferred (RAM only; the
device state is a few hundred KiB more), dirty-sync-count (which counts the
sync before the first copy and the last one with the guest stopped; petrel's
rounds are the dirty rounds between them, so QEMU's count is about petrel's
plus 2).

Downtime as the guest sees it: the host timestamps every console line as it
reads it from the VMMs' pipes, source then destination, and takes the longest
gap between consecutive heartbeat lines from the migration's start to 1 s after
the destination's first line: the pause at the switch, but also any stall
during pre-copy or after the resume. The gap across the switch (the source's
last line to the destination's first) is shown on its own.

Runs are interleaved (petrel and QEMU alternate which goes first); medians.
Needs a /dev/kvm with hardware virtualization (run it in the lab elsewhere).

  bench/migrate.py [--downtime MS] [--rates LIST] [--buf MIB] [--settle S]
                   [--timeout S] [RUNS]
"""
import argparse, gzip, io, json, os, re, shutil, signal, socket, statistics, subprocess
import sys, tempfile, threading, time

BEAT = re.compile(rb"petrel-guest: beat (\d+)")
READY = re.compile(rb"petrel-guest: dirtier ")
PETREL_DONE = re.compile(r"migration to \S+: done in (\d+) ms, downtime (\d+) ms, (\d+) dirty "
                         r"rounds, (\d+) KiB sent")
CHILDREN = []  # every process started, killed at the end whatever happens


class Failed(Exception):
    pass


class Console:
    """A VMM's serial console on its stdout: every heartbeat with the host's
    time of its arrival, into a list shared by the source and destination."""

    def __init__(self, proc, name, beats, err):
        self.proc, self.name, self.beats, self.err = proc, name, beats, err
        self.lines, self.ready, self.count = [], False, 0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for raw in self.proc.stdout:
            t = time.monotonic()
            m = BEAT.search(raw)
            with self.cond:
                self.lines.append(raw)
                del self.lines[:-50]
                if m:
                    self.beats.append((t, self.name, int(m.group(1))))
                    self.count += 1
                if READY.search(raw):
                    self.ready = True
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def tail(self):
        text = b"".join(self.lines[-15:]).decode(errors="replace").replace("\r", "")
        if self.err and os.path.exists(self.err):
            text += open(self.err, errors="replace").read()[-1500:]
        return text

    def wait(self, what, pred, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.thread.is_alive()):
                    st = self.proc.poll()
                    raise Failed(f"{self.name}: no {what} after {timeout:g} s"
                                 f"{'' if st is None else f' (it exited {st})'}:\n{self.tail()}")
                self.cond.wait(min(left, 0.5))

    def wait_beats(self, n, timeout):
        """n more heartbeats from now."""
        with self.cond:
            want = self.count + n
        self.wait(f"{n} heartbeats", lambda: self.count >= want, timeout)


def start(cmd, name, work, beats):
    err = os.path.join(work, f"{name}.err")
    with open(err, "w") as f:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=f)
    CHILDREN.append(p)
    return p, Console(p, name, beats, err)


def kill_all():
    for p in CHILDREN:
        if p.poll() is None:
            p.kill()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    CHILDREN.clear()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc, con, timeout=60):
    """Until something listens on 127.0.0.1:port (read from /proc/net/tcp: a
    probe connection would be taken for the migration's)."""
    want = f":{port:04X} 00000000:0000 0A"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            if any(want in l for l in f):
                return
        if proc.poll() is not None:
            raise Failed(f"the destination exited {proc.returncode} before listening:\n"
                         f"{con.tail()}")
        time.sleep(0.01)
    raise Failed(f"the destination does not listen on port {port} after {timeout} s")


def wait_path(path, proc, timeout=60):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise Failed(f"exited {proc.returncode} before creating {path}")
        if time.monotonic() > end:
            raise Failed(f"{path} never appeared")
        time.sleep(0.01)


class Qmp:
    def __init__(self, path, proc):
        wait_path(path, proc)
        self.s = socket.socket(socket.AF_UNIX)
        for _ in range(500):
            try:
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.01)
        else:
            raise Failed(f"cannot connect to QMP at {path}")
        self.s.settimeout(30)
        self.f = self.s.makefile("rwb")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise Failed(f"QMP {name}: QEMU closed the connection")
            r = json.loads(line)
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise Failed(f"QMP {name}: {r['error'].get('desc', r['error'])}")

    def close(self):
        self.s.close()


def guest_gaps(beats, t_start, t_end):
    """The longest gap between consecutive heartbeats from t_start to t_end
    (starting from the last one before t_start) and the gap across the switch
    (the source's last to the destination's first), in ms."""
    seq = sorted((b for b in beats if b[0] <= t_end), key=lambda b: (b[1] != "src", b[0]))
    before = [b for b in seq if b[0] < t_start]
    seq = before[-1:] + [b for b in seq if b[0] >= t_start]
    src = [b for b in seq if b[1] == "src"]
    dst = [b for b in seq if b[1] == "dst"]
    if not src or not dst:
        raise Failed("no heartbeat from the " + ("source" if not src else "destination"))
    worst = max(b[0] - a[0] for a, b in zip(seq, seq[1:]))
    return worst * 1000, (dst[0][0] - src[-1][0]) * 1000


def after_switch(dst_con, beats, t_start, settle_after=1.0):
    """Wait for the destination's heartbeat to run settle_after seconds, then
    return the guest-seen gaps."""
    dst_con.wait("heartbeat at the destination", lambda: dst_con.count > 0, 120)
    first = next(b[0] for b in beats if b[1] == "dst")
    dst_con.wait("heartbeat 1 s after the switch",
                 lambda: dst_con.count > 0 and beats[-1][0] >= first + settle_after, 60)
    return guest_gaps(list(beats), t_start, first + settle_after)


def petrel_round(a, env, work, cmdline):
    petrel = env["petrel"]
    sock = os.path.join(work, "src.sock")
    beats = []
    try:
        src, scon = start([petrel, "run", "--kernel", env["kernel"], "--initramfs",
                           env["initrd"], "--cpus", str(a.cpus), "--memory", a.memory,
                           "--cmdline", cmdline, "--api-sock", sock], "src", work, beats)
        scon.wait("dirtier start", lambda: scon.ready, a.boot_timeout)
        scon.wait_beats(int(a.settle * 200), a.settle * 10 + 30)
        port = free_port()
        dst, dcon = start([petrel, "run", "--incoming", f"tcp:127.0.0.1:{port}"], "dst", work,
                          beats)
        wait_listening(port, dst, dcon)
        t_start = time.monotonic()
        try:
            ctl = subprocess.run([petrel, "ctl", sock, "migrate", f"tcp:127.0.0.1:{port}",
                                  "--downtime", str(a.downtime)], stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            subprocess.call([petrel, "ctl", sock, "migrate-cancel"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=30)
            raise Failed(f"petrel's migration did not end in {a.timeout} s (cancelled)")
        if ctl.returncode:
            raise Failed(f"petrel ctl migrate exited {ctl.returncode}: {ctl.stderr.strip()}\n"
                         f"destination:\n{dcon.tail()}")
        try:
            st = src.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise Failed("the source petrel still runs 60 s after the switchover")
        if st:
            raise Failed(f"the source petrel exited {st} after the switchover:\n{scon.tail()}")
        scon.thread.join(10)
        m = PETREL_DONE.search(open(scon.err, errors="replace").read())
        if not m:
            raise Failed(f"no 'migration ... done' line from the source:\n{scon.tail()}")
        total_ms, down_ms, rounds, kib = (int(x) for x in m.groups())
        worst, switch = after_switch(dcon, beats, t_start)
        return {"total_ms": total_ms, "bytes": kib * 1024, "rounds": rounds,
                "vmm_down_ms": down_ms, "guest_down_ms": worst, "switch_ms": switch}
    finally:
        kill_all()
        if os.path.exists(sock):
            os.unlink(sock)  # a killed petrel leaves its socket


def qemu_round(a, env, work, cmdline):
    beats = []
    sq, dq = os.path.join(work, "src.qmp"), os.path.join(work, "dst.qmp")
    base = ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-M", "q35", "-m", a.memory,
            "-smp", str(a.cpus), "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-kernel", env["kernel"], "-initrd", env["initrd"],
            "-append", "console=ttyS0 " + cmdline]
    qmp = None
    try:
        src, scon = start(base + ["-qmp", f"unix:{sq},server=on,wait=off"], "src", work, beats)
        scon.wait("dirtier start", lambda: scon.ready, a.boot_timeout)
        scon.wait_beats(int(a.settle * 200), a.settle * 10 + 30)
        qmp = Qmp(sq, src)
        port = free_port()
        dst, dcon = start(base + ["-qmp", f"unix:{dq},server=on,wait=off",
                                  "-incoming", f"tcp:127.0.0.1:{port}"], "dst", work, beats)
        wait_listening(port, dst, dcon)
        qmp.cmd("migrate-set-parameters", **{"downtime-limit": a.downtime,
                                             "max-bandwidth": 1 << 40})
        t_start = time.monotonic()
        qmp.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
        end = t_start + a.timeout
        while True:
            r = qmp.cmd("query-migrate")
            st = r.get("status")
            if st == "completed":
                break
            if st in ("failed", "cancelled"):
                raise Failed(f"QEMU's migration {st}: {r.get('error-desc', '')}\n"
                             f"destination:\n{dcon.tail()}")
            if time.monotonic() > end:
                qmp.cmd("migrate_cancel")
                raise Failed(f"QEMU's migration did not end in {a.timeout} s (cancelled; "
                             f"status {st}, {r.get('ram', {}).get('dirty-sync-count')} syncs)")
            time.sleep(0.005)
        ram = r.get("ram", {})
        worst, switch = after_switch(dcon, beats, t_start)
        return {"total_ms": r.get("total-time", 0), "bytes": ram.get("transferred", 0),
                "rounds": ram.get("dirty-sync-count", 0), "vmm_down_ms": r.get("downtime", 0),
                "guest_down_ms": worst, "switch_ms": switch}
    finally:
        if qmp:
            qmp.close()
        kill_all()
        for p in (sq, dq):
            if os.path.exists(p):
                os.unlink(p)


def newc(entries):
    """A cpio archive (newc) of (name, mode, data) entries, with its trailer."""
    out = io.BytesIO()

    def pad(n):
        out.write(b"\0" * (-n % 4))

    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        nb = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0]
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        out.write(hdr + nb)
        pad(len(hdr) + len(nb))
        out.write(data)
        pad(len(data))
    return out.getvalue()


# /test.sh of the guest: dirtier with petrel.dirty=RATE:BUF from the command line
TEST_SH = b"""#!/bin/sh
d=$(tr ' ' '\\n' </proc/cmdline | sed -n 's/^petrel.dirty=//p' | tail -n 1)
/bin/dirtier "${d%%:*}" "${d##*:}"
echo "petrel-guest: dirtier exit $?"
"""


def bench_initramfs(base, tool, dest):
    """The test initramfs with a second gzip'd cpio appended: /bin/dirtier and
    /test.sh (Linux unpacks concatenated archives in order)."""
    with open(tool, "rb") as f:
        data = f.read()
    extra = newc([("bin/dirtier", 0o100755, data), ("test.sh", 0o100755, TEST_SH)])
    with open(dest, "wb") as out:
        with open(base, "rb") as f:
            shutil.copyfileobj(f, out)
        out.write(b"\0" * (-out.tell() % 4))
        out.write(gzip.compress(extra, compresslevel=1))


def main():
    ap = argparse.ArgumentParser(description="live migration: petrel against QEMU")
    ap.add_argument("runs", nargs="?", type=int, default=3)
    ap.add_argument("--downtime", type=int, default=300, help="downtime limit, ms (both VMMs)")
    ap.add_argument("--rates", default="8,64", help="dirtying workloads, MiB/s (default 8,64)")
    ap.add_argument("--buf", type=int, default=256, help="the buffer dirtied, MiB")
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--settle", type=float, default=2, help="s the workload runs before")
    ap.add_argument("--timeout", type=int, default=300, help="s for one migration")
    ap.add_argument("--boot-timeout", type=int, default=600, help="s to the dirtier's start")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("RUNS must be at least 1")
    rates = [int(r) for r in a.rates.split(",") if r]

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    if not os.path.isabs(build):
        build = os.path.join(root, build)
    tool = os.path.join(build, "tests", "guest-linux", "dirtier")
    if not os.access(tool, os.X_OK):
        raise SystemExit(f"bench/migrate: {tool} is missing (the plain build makes it)")
    if not shutil.which("qemu-system-x86_64"):
        raise SystemExit("bench/migrate: qemu-system-x86_64 is not installed")
    genv = dict(l.split("=", 1) for l in subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True).split())
    # a SIGTERM (the lab's deadline) ends the run through the finally clauses
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    work = tempfile.mkdtemp(prefix="petrel-bench-mig.", dir="/tmp")  # tmpfs in the lab
    env = {"petrel": os.path.join(build, "petrel"), "kernel": genv["KERNEL"],
           "initrd": os.path.join(work, "migrate-initramfs.cpio.gz")}
    workloads = [("idle", 0, 0)] + [(f"{r} MiB/s", r, a.buf) for r in rates]
    res, errors = {}, []
    try:
        bench_initramfs(genv["INITRAMFS"], tool, env["initrd"])
        for wname, rate, buf in workloads:
            cmdline = f"quiet panic=-1 petrel.action=script petrel.dirty={rate}:{buf}"
            for i in range(a.runs):
                for who in (("petrel", "qemu") if i % 2 == 0 else ("qemu", "petrel")):
                    t0 = time.monotonic()
                    try:
                        r = (petrel_round if who == "petrel" else qemu_round)(a, env, work,
                                                                              cmdline)
                    except Failed as e:
                        errors.append(f"{wname} {who} run {i + 1}: {e}")
                        print(f"bench/migrate: {wname} {who} run {i + 1}/{a.runs}: FAILED {e}",
                              file=sys.stderr, flush=True)
                        continue
                    res.setdefault((wname, who), []).append(r)
                    print(f"bench/migrate: {wname} {who} run {i + 1}/{a.runs} "
                          f"({time.monotonic() - t0:.0f} s): " +
                          ", ".join(f"{k} {v:.0f}" for k, v in r.items()),
                          file=sys.stderr, flush=True)
    finally:
        kill_all()
        shutil.rmtree(work, ignore_errors=True)

    def med(wname, who, key):
        v = [r[key] for r in res.get((wname, who), [])]
        return statistics.median(v) if v else None

    def cell(v, width, fmt):
        return f"{v:{width}{fmt}}" if v is not None else f"{'-':>{width}}"

    print(f"bench/migrate: {a.runs} runs each, interleaved, medians; guest {a.memory}, "
          f"{a.cpus} vCPUs; downtime limit {a.downtime} ms for both; TCP on 127.0.0.1")
    print("guest downtime: the longest gap between the guest's 5 ms heartbeats as the host "
          "read them (switch: across the switch only); QEMU's bytes are RAM only, its rounds "
          "dirty-sync-count")
    for wname, rate, buf in workloads:
        print()
        print(f"workload {wname}" + (f" over {buf} MiB" if rate else " (heartbeat only)"))
        print(f"{'vmm':7} {'runs':>4} {'total ms':>9} {'sent MiB':>9} {'rounds':>6} "
              f"{'vmm down ms':>11} {'guest down ms':>13} {'switch ms':>9}")
        for who in ("petrel", "qemu"):
            n = len(res.get((wname, who), []))
            print(f"{who:7} {n:4} {cell(med(wname, who, 'total_ms'), 9, '.0f')} "
                  f"{cell(None if n == 0 else med(wname, who, 'bytes') / 2**20, 9, '.1f')} "
                  f"{cell(med(wname, who, 'rounds'), 6, '.0f')} "
                  f"{cell(med(wname, who, 'vmm_down_ms'), 11, '.0f')} "
                  f"{cell(med(wname, who, 'guest_down_ms'), 13, '.1f')} "
                  f"{cell(med(wname, who, 'switch_ms'), 9, '.1f')}")
        pd, qd = med(wname, "petrel", "guest_down_ms"), med(wname, "qemu", "guest_down_ms")
        pb, qb = med(wname, "petrel", "bytes"), med(wname, "qemu", "bytes")
        pt, qt = med(wname, "petrel", "total_ms"), med(wname, "qemu", "total_ms")
        if None in (pd, qd, pb, qb) or not qd or not qb:
            print("ratio petrel/qemu: - (a VMM has no successful run)")
            continue
        down, sent = pd / qd, pb / qb
        print(f"ratio petrel/qemu: guest downtime {down:.3f}x (goal <= 0.25: "
              f"{'met' if down <= 0.25 else 'missed'}), bytes {sent:.3f}x (goal <= 1: "
              f"{'met' if sent <= 1 else 'missed'}), total time "
              + (f"{pt / qt:.3f}x" if qt else "-"))
    if errors:
        print(f"\n{len(errors)} failed runs:")
        for e in errors:
            print("  " + e.splitlines()[0])
        sys.exit(1)


main()
