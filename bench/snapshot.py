#!/usr/bin/env python3
"""bench/snapshot: snapshot and restore of a running Linux guest, petrel
against QEMU in one run, for 512 MiB and 4 GiB guests that filled 256 MiB of
their RAM with random data and print a heartbeat line every 0.1 s.

petrel: `petrel ctl SOCK pause`, `petrel ctl SOCK snapshot DIR`; restore with
`petrel run --restore DIR`. QEMU: QMP `stop`, `migrate exec:cat > FILE`;
restore with `-incoming defer`, `migrate-incoming exec:cat FILE`, `cont`.
Snapshot time is from the pause request to the files complete; restore time
from exec to the guest's next heartbeat line. Sizes: the state and memory
files (allocated bytes; petrel's memory file is sparse) and QEMU's stream.
Needs a /dev/kvm with hardware virtualization (run it in the lab elsewhere)."""
import json, os, re, shutil, socket, subprocess, sys, tempfile, threading, time

BEAT = re.compile(rb"petrel-guest: beat (\d+)")


class Console:
    """A VMM's serial console on its stdout: heartbeat numbers as they come."""

    def __init__(self, proc, err=None):
        self.proc, self.beat, self.lines, self.err = proc, 0, [], err
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for raw in self.proc.stdout:
            m = BEAT.search(raw)
            with self.cond:
                self.lines.append(raw)
                if m:
                    self.beat = int(m.group(1))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_beat(self, after, timeout=600):
        end = time.monotonic() + timeout
        with self.cond:
            while self.beat <= after:
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    tail = b"".join(self.lines[-20:]).decode(errors="replace")
                    if self.err and os.path.exists(self.err):
                        tail += open(self.err, errors="replace").read()[-2000:]
                    raise SystemExit(f"no heartbeat after {after} (exit {self.proc.poll()}):\n{tail}")
                self.cond.wait(min(left, 1))
            return self.beat


def wait_path(path, timeout=60):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise SystemExit(f"{path} never appeared")
        time.sleep(0.01)


class Qmp:
    def __init__(self, path):
        wait_path(path)
        self.s = socket.socket(socket.AF_UNIX)
        for _ in range(500):
            try:
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.01)
        self.f = self.s.makefile("rwb")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise SystemExit(f"QMP {name}: {r['error']}")

    def wait_migration(self):
        while True:
            st = self.cmd("query-migrate").get("status")
            if st == "completed":
                return
            if st in ("failed", "cancelled"):
                raise SystemExit(f"QEMU migration {st}")
            time.sleep(0.005)

    def wait_status(self, want):
        while self.cmd("query-status")["status"] != want:
            time.sleep(0.005)


def allocated(path):
    st = os.stat(path)
    return st.st_blocks * 512


def kill(p):
    p.kill()
    p.wait()


def petrel_round(petrel, kernel, initrd, mem, work):
    sock, snap = os.path.join(work, "p.sock"), os.path.join(work, "psnap")
    cl = "quiet panic=-1 petrel.action=heartbeat petrel.fill=256"
    p = subprocess.Popen([petrel, "run", "--kernel", kernel, "--initramfs", initrd,
                          "--memory", mem, "--cmdline", cl, "--api-sock", sock],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=open(os.path.join(work, "p.err"), "w"))
    con = Console(p, os.path.join(work, "p.err"))
    last = con.wait_beat(5)
    t0 = time.monotonic()
    subprocess.check_call([petrel, "ctl", sock, "pause"], stdout=subprocess.DEVNULL)
    subprocess.check_call([petrel, "ctl", sock, "snapshot", snap, "--keep-paused"],
                          stdout=subprocess.DEVNULL)
    snap_s = time.monotonic() - t0
    last = con.beat
    kill(p)
    os.unlink(sock)  # a killed petrel leaves its socket
    state, memf = os.path.join(snap, "state"), os.path.join(snap, "memory")
    sizes = (os.path.getsize(state), allocated(memf))
    t0 = time.monotonic()
    r = subprocess.Popen([petrel, "run", "--restore", snap], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=open(os.path.join(work, "r.err"), "w"))
    rcon = Console(r, os.path.join(work, "r.err"))
    rcon.wait_beat(last)
    restore_s = time.monotonic() - t0
    kill(r)
    shutil.rmtree(snap)
    return snap_s, restore_s, sizes


def qemu_round(kernel, initrd, mem, work):
    qmp, out = os.path.join(work, "q.qmp"), os.path.join(work, "q.mig")
    cl = "console=ttyS0 quiet panic=-1 petrel.action=heartbeat petrel.fill=256"
    base = ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-M", "pc", "-m", mem,
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-kernel", kernel, "-initrd", initrd, "-append", cl]
    q = subprocess.Popen(base + ["-qmp", f"unix:{qmp},server=on,wait=off"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=open(os.path.join(work, "q.err"), "w"))
    con = Console(q, os.path.join(work, "q.err"))
    con.wait_beat(5)
    m = Qmp(qmp)
    t0 = time.monotonic()
    m.cmd("stop")
    m.cmd("migrate", uri=f"exec:cat > {out}")
    m.wait_migration()
    snap_s = time.monotonic() - t0
    last = con.beat
    kill(q)
    os.unlink(qmp)
    size = os.path.getsize(out)
    t0 = time.monotonic()
    r = subprocess.Popen(base + ["-qmp", f"unix:{qmp},server=on,wait=off", "-incoming", "defer"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=open(os.path.join(work, "qr.err"), "w"))
    rcon = Console(r, os.path.join(work, "qr.err"))
    m = Qmp(qmp)
    m.cmd("migrate-incoming", uri=f"exec:cat {out}")
    m.wait_status("paused")
    m.cmd("cont")
    rcon.wait_beat(last)
    restore_s = time.monotonic() - t0
    kill(r)
    os.unlink(qmp)
    os.unlink(out)
    return snap_s, restore_s, (0, size)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    env = dict(l.split("=", 1) for l in subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True).split())
    kernel, initrd = env["KERNEL"], env["INITRAMFS"]
    petrel = os.path.join(build, "petrel")
    work = tempfile.mkdtemp(prefix="petrel-bench-snap.", dir="/tmp")  # tmpfs in the lab
    res = {}
    try:
        for mem in ("512M", "4G"):
            for i in range(runs):
                for who in ("petrel", "qemu"):
                    r = (petrel_round(petrel, kernel, initrd, mem, work) if who == "petrel"
                         else qemu_round(kernel, initrd, mem, work))
                    res.setdefault((who, mem), []).append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(v):
        v = sorted(v)
        return v[len(v) // 2]
    print(f"bench/snapshot: {runs} runs each, interleaved, medians; guests filled 256 MiB")
    print(f"{'guest':6} {'vmm':7} {'snapshot s':>11} {'restore s':>10} {'state KiB':>10} "
          f"{'memory MiB':>11}")
    table = {}
    for (who, mem), v in res.items():
        s, r = med(x[0] for x in v), med(x[1] for x in v)
        st, mm = med(x[2][0] for x in v), med(x[2][1] for x in v)
        table[(who, mem)] = (s, r)
        print(f"{mem:6} {who:7} {s:11.3f} {r:10.3f} {st / 1024:10.0f} {mm / 2**20:11.1f}")
    for mem in ("512M", "4G"):
        p, q = table[("petrel", mem)], table[("qemu", mem)]
        print(f"{mem:6} ratio petrel/qemu: snapshot {p[0] / q[0]:.3f}x, restore {p[1] / q[1]:.3f}x")
    print(f"petrel restore 4G / 512M: {table[('petrel', '4G')][1] / table[('petrel', '512M')][1]:.2f}x")


main()
