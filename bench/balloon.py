#!/usr/bin/env python3
"""bench/balloon: a 2 GiB Linux guest fills 1 GiB of tmpfs with random data
and removes it, so that petrel holds 1 GiB the guest no longer uses; then
that memory goes back to the host two ways, in separate runs:

inflate: PATCH /balloon amount_mib=1024 (no free page reporting); timed from
  the request to GET /balloon/statistics showing actual_mib 1024.
report:  free page reporting on; timed from the guest's "freed" line to
  petrel's RSS 1000 MiB below what it was with the data.

petrel's RSS (VmRSS) is sampled every 50 ms; the table has the medians and
the curve of the last run of each (RSS in MiB against seconds).
Needs a /dev/kvm with hardware virtualization (run it in the lab elsewhere)."""
import http.client, json, os, re, shutil, socket, subprocess, sys, tempfile, threading, time

GIB_MIB = 1024


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.unix_path)


def call(sock, method, path, body=None, want=204):
    c = UnixHTTP(sock)
    data = json.dumps(body) if body is not None else None
    c.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    r = c.getresponse()
    text = r.read().decode(errors="replace")
    c.close()
    if r.status != want:
        raise SystemExit(f"{method} {path} {data or ''}: {r.status} {text}, expected {want}")
    return json.loads(text) if text else None


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


class Console:
    """The guest's console (petrel api's stdout): waits for a line."""

    def __init__(self, proc):
        self.proc, self.lines = proc, []
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\r\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait(self, pattern, timeout=300):
        rx, end = re.compile(pattern), time.monotonic() + timeout
        with self.cond:
            while not any(rx.search(l) for l in self.lines):
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise SystemExit(f"no console line '{pattern}':\n" + "\n".join(self.lines[-20:]))
                self.cond.wait(min(left, 1))


def one_run(petrel, kernel, initrd, work, mode):
    sock = os.path.join(work, f"{mode}.sock")
    err = open(os.path.join(work, f"{mode}.err"), "w")
    p = subprocess.Popen([petrel, "api", "--api-sock", sock], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=err)
    con = Console(p)
    try:
        end = time.monotonic() + 30
        while not os.path.exists(sock):
            if time.monotonic() > end or p.poll() is not None:
                raise SystemExit(f"petrel api made no socket (exit {p.poll()})")
            time.sleep(0.01)
        call(sock, "PUT", "/machine-config", {"vcpu_count": 2, "mem_size_mib": 2 * GIB_MIB})
        call(sock, "PUT", "/boot-source", {
            "kernel_image_path": kernel, "initrd_path": initrd,
            "boot_args": f"quiet petrel.action=balloon petrel.fill={GIB_MIB} petrel.rounds=4"})
        call(sock, "PUT", "/balloon", {"amount_mib": 0, "deflate_on_oom": False,
                                       "stats_polling_interval_s": 1,
                                       "free_page_reporting": mode == "report"})
        call(sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        con.wait(r"^petrel-guest: mem 2 ")
        full = rss_mib(p.pid)
        con.wait(r"^petrel-guest: balloon freed")
        start = time.monotonic()
        if mode == "inflate":
            call(sock, "PATCH", "/balloon", {"amount_mib": GIB_MIB})
        curve, done = [], None
        while time.monotonic() - start < 120:
            now = time.monotonic() - start
            rss = rss_mib(p.pid)
            curve.append((now, rss))
            if mode == "inflate":
                st = call(sock, "GET", "/balloon/statistics", want=200)
                if st["actual_mib"] >= GIB_MIB:
                    done = now
            elif rss <= full - 1000:
                done = now
            if done is not None:
                break
            time.sleep(0.05)
        if done is None:
            raise SystemExit(f"{mode}: 1 GiB not given back in 120 s (RSS {full} -> {rss} MiB)")
        after = rss_mib(p.pid)
        call(sock, "PUT", "/actions", {"action_type": "SendCtrlAltDel"})
        p.wait(timeout=90)
        return done, full, after, curve
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        err.close()


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    env = dict(l.split("=", 1) for l in subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True).split())
    petrel = os.path.join(build, "petrel")
    work = tempfile.mkdtemp(prefix="petrel-bench-balloon.", dir="/tmp")
    res = {}
    try:
        for _ in range(runs):
            for mode in ("inflate", "report"):
                res.setdefault(mode, []).append(
                    one_run(petrel, env["KERNEL"], env["INITRAMFS"], work, mode))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(v):
        v = sorted(v)
        return v[len(v) // 2]
    print(f"bench/balloon: {runs} runs each, medians; a 2 GiB guest gives back 1 GiB")
    print(f"{'mode':8} {'seconds':>8} {'MiB/s':>7} {'RSS before':>11} {'RSS after':>10}")
    for mode, r in res.items():
        secs = med([x[0] for x in r])
        print(f"{mode:8} {secs:8.2f} {GIB_MIB / max(secs, 1e-3):7.0f} {med([x[1] for x in r]):11} "
              f"{med([x[2] for x in r]):10}")
    for mode, r in res.items():
        curve = r[-1][3]
        step = max(1, len(curve) // 20)
        pts = " ".join(f"{t:.2f}s:{m}" for t, m in curve[::step] + [curve[-1]])
        print(f"{mode} RSS curve (MiB): {pts}")


if __name__ == "__main__":
    main()
