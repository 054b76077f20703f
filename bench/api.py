#!/usr/bin/env python3
"""bench/api: petrel's control API against QEMU's QMP, in one run.

Startup, RUNS times each, interleaved: from exec of `petrel api --api-sock S`
(and of QEMU stopped before it runs anything, -S, with its QMP socket: with
-machine none, and with -M microvm on KVM) until the socket accepts a
connection, and until it answers on that connection (petrel: GET /; QEMU: the
QMP greeting it sends on accept). Wall time is this script's clock from
before the exec; CPU time is the child's time on a CPU at that moment, the
first field of /proc/PID/task/*/schedstat summed over its threads (ns, where
/proc/PID/stat's utime and stime count 10 ms ticks).

Latency, ROUNDS rounds alternating petrel and QEMU, REQUESTS requests each
on one connection, with petrel's counter guest (pvh_tick.elf) running: petrel
started by the API (machine-config, boot-source, serial to a file,
InstanceStart) and QEMU -M microvm -accel kvm booting the same ELF through
its PVH note. Firecracker's GET / against QMP's query-status, and a
PATCH /vm Paused + PATCH /vm Resumed pair against QMP's stop + cont; p50 and
p99 over every request of every round.

Goals printed with the figures: under 1 CPU ms from exec to a listening
socket, and at most 0.1x QEMU's (-machine none) time.
  bench/api.py [--requests N] [--rounds N] [RUNS]"""
import argparse, http.client, json, os, shutil, signal, socket, statistics, subprocess, sys
import tempfile, time

WAIT = 20  # seconds for a socket to accept or a guest to print


def cpu_ns(pid):
    """Time the process's live threads have spent on a CPU, in ns."""
    total = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that just ended
    except OSError:
        return None
    return total


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def startup(cmd, sock, answer):
    """exec @cmd; (wall ms, CPU ms) when @sock accepts, and when @answer(conn)
    has returned on that connection."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        deadline = t0 + WAIT
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(sock)
                break
            except OSError:
                s.close()
                if p.poll() is not None:
                    raise SystemExit(f"exited ({p.returncode}) before listening: {' '.join(cmd)}")
                if time.perf_counter() > deadline:
                    raise SystemExit(f"no socket after {WAIT} s: {' '.join(cmd)}")
                time.sleep(0.0001)
        listen = ((time.perf_counter() - t0) * 1e3, cpu_ns(p.pid) / 1e6)
        s.settimeout(WAIT)
        answer(s)
        first = ((time.perf_counter() - t0) * 1e3, cpu_ns(p.pid) / 1e6)
        s.close()
        return listen, first
    finally:
        stop(p)
        if os.path.lexists(sock):
            os.unlink(sock)


def http_get_root(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise SystemExit("petrel closed the connection without an answer")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"GET / answered {head[:40]!r}")
    n = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    while len(body) < n:
        body += s.recv(4096)


def qmp_greeting(s):
    buf = b""
    while b"\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise SystemExit("QEMU closed the QMP socket without a greeting")
        buf += d
    if b'"QMP"' not in buf:
        raise SystemExit(f"not a QMP greeting: {buf[:60]!r}")


# ---- latency on a running guest ----

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=WAIT)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def wait_socket(p, sock):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise SystemExit(f"exited ({p.returncode}) before listening")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sock)
            return s
        except OSError:
            s.close()
            time.sleep(0.001)
    raise SystemExit(f"{sock}: no socket after {WAIT} s")


def wait_output(path):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 100:
            return
        time.sleep(0.01)
    raise SystemExit(f"the guest printed nothing to {path} in {WAIT} s")


def petrel_latency(petrel, tick, d, n):
    sock, console = os.path.join(d, "petrel.sock"), os.path.join(d, "petrel.console")
    p = subprocess.Popen([petrel, "api", "--api-sock", sock], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_socket(p, sock).close()
        c = UnixHTTPConnection(sock)

        def call(method, path, body=None, want=204):
            data = json.dumps(body).encode() if body is not None else None
            c.request(method, path, body=data, headers={"Content-Type": "application/json"}
                      if data else {})
            r = c.getresponse()
            r.read()
            if r.status != want:
                raise SystemExit(f"petrel: {method} {path} {body} -> {r.status}")

        call("PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 64})
        call("PUT", "/boot-source", {"kernel_image_path": tick})
        call("PUT", "/serial", {"serial_out_path": console})
        call("PUT", "/actions", {"action_type": "InstanceStart"})
        wait_output(console)
        get, pair = [], []
        for _ in range(n):
            t = time.perf_counter_ns()
            call("GET", "/", want=200)
            get.append(time.perf_counter_ns() - t)
        for _ in range(n):
            t = time.perf_counter_ns()
            call("PATCH", "/vm", {"state": "Paused"})
            call("PATCH", "/vm", {"state": "Resumed"})
            pair.append(time.perf_counter_ns() - t)
        c.close()
        return get, pair
    finally:
        stop(p)
        if os.path.lexists(sock):
            os.unlink(sock)


def qemu_latency(tick, d, n):
    sock, console = os.path.join(d, "qmp.sock"), os.path.join(d, "qemu.console")
    p = subprocess.Popen(["qemu-system-x86_64", "-M", "microvm", "-accel", "kvm", "-m", "64",
                          "-nodefaults", "-no-user-config", "-display", "none",
                          "-serial", f"file:{console}", "-kernel", tick,
                          "-qmp", f"unix:{sock},server=on,wait=off"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        s = wait_socket(p, sock)
        s.settimeout(WAIT)
        f = s.makefile("rwb")
        f.readline()  # greeting

        def call(cmd):
            f.write(json.dumps({"execute": cmd}).encode() + b"\n")
            f.flush()
            while True:  # events (STOP, RESUME) come on the same stream
                m = json.loads(f.readline())
                if "return" in m:
                    return m
                if "error" in m:
                    raise SystemExit(f"QMP {cmd}: {m}")

        call("qmp_capabilities")
        wait_output(console)
        get, pair = [], []
        for _ in range(n):
            t = time.perf_counter_ns()
            call("query-status")
            get.append(time.perf_counter_ns() - t)
        for _ in range(n):
            t = time.perf_counter_ns()
            call("stop")
            call("cont")
            pair.append(time.perf_counter_ns() - t)
        s.close()
        return get, pair
    finally:
        stop(p)
        if os.path.lexists(sock):
            os.unlink(sock)


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="?", type=int, default=20)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    petrel = os.path.join(build, "petrel")
    tick = os.path.join(build, "tests/guests/pvh_tick.elf")
    floor = os.path.join(build, "bench/listen-floor")
    for f in (petrel, tick, floor):
        if not os.path.exists(f):
            raise SystemExit(f"bench/api: {f} is missing: build petrel first")
    if not shutil.which("qemu-system-x86_64"):
        raise SystemExit("bench/api: qemu-system-x86_64 is missing (scripts/deps.sh --lab)")
    d = tempfile.mkdtemp(prefix="petrel-bench-api-")
    s = os.path.join(d, "api.sock")
    qemu_s = ["qemu-system-x86_64", "-S", "-nodefaults", "-no-user-config", "-display", "none"]
    configs = {
        "petrel api": ([petrel, "api", "--api-sock", s], http_get_root),
        "qemu -M none -S": (qemu_s + ["-machine", "none", "-qmp", f"unix:{s},server=on,wait=off"],
                            qmp_greeting),
        "qemu -M microvm,kvm -S": (qemu_s + ["-M", "microvm", "-accel", "kvm", "-m", "64",
                                             "-qmp", f"unix:{s},server=on,wait=off"],
                                   qmp_greeting),
        "floor: a bare C listener": ([floor, s], http_get_root),
    }
    load0 = " ".join(open("/proc/loadavg").read().split()[:3])
    try:
        res = {k: [] for k in configs}
        for _ in range(a.runs):
            for name, (cmd, answer) in configs.items():
                res[name].append(startup(cmd, s, answer))
        lat = {"petrel": ([], []), "qemu": ([], [])}
        for _ in range(a.rounds):
            for who in ("petrel", "qemu"):
                g, pr = (petrel_latency(petrel, tick, d, a.requests) if who == "petrel"
                         else qemu_latency(tick, d, a.requests))
                lat[who][0].extend(g)
                lat[who][1].extend(pr)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    load1 = " ".join(open("/proc/loadavg").read().split()[:3])

    med = {k: [statistics.median(r[i][j] for r in v) for i in (0, 1) for j in (0, 1)]
           for k, v in res.items()}
    print(f"bench/api: {a.runs} startups each, interleaved, medians; {a.rounds} rounds x "
          f"{a.requests} requests each for latency; load average {load0} -> {load1} on "
          f"{os.cpu_count()} CPUs")
    print()
    print(f"{'from exec':33} {'to listening':>19} {'to first answer':>19}")
    print(f"{'':33} {'wall ms':>9} {'CPU ms':>9} {'wall ms':>9} {'CPU ms':>9}")
    for k, m in med.items():
        print(f"{k:33} {m[0]:9.2f} {m[1]:9.2f} {m[2]:9.2f} {m[3]:9.2f}")
    p = med["petrel api"]
    for k in list(configs)[1:3]:
        q = med[k]
        print(f"{'ratio petrel / ' + k[5:]:33} " + " ".join(f"{x / y:8.3f}x" for x, y in zip(p, q)))
    q = med["qemu -M none -S"]
    goal = lambda ok: "met" if ok else "NOT met"
    f = med["floor: a bare C listener"]
    print(f"{'petrel above the floor':33} " + " ".join(f"{x - y:9.2f}" for x, y in zip(p, f)))
    print(f"goal: under 1 CPU ms to a listening socket: {p[1]:.2f} ms, {goal(p[1] < 1)} "
          f"({p[1] - f[1]:.2f} ms above exec and a bare listener's {f[1]:.2f})")
    print(f"goal: at most 0.1x QEMU's (-M none) time to a listening socket: "
          f"wall {p[0] / q[0]:.3f}x, {goal(p[0] / q[0] <= 0.1)}; "
          f"CPU {p[1] / q[1]:.3f}x, {goal(p[1] / q[1] <= 0.1)}")
    print()
    print(f"{'latency, us':30} {'petrel p50':>10} {'p99':>8} {'QEMU p50':>10} {'p99':>8} "
          f"{'ratio p50':>10} {'p99':>7}")
    for i, name in enumerate(("GET / | query-status", "pause+resume | stop+cont")):
        pv, qv = lat["petrel"][i], lat["qemu"][i]
        a50, a99, b50, b99 = (pct(pv, .5) / 1e3, pct(pv, .99) / 1e3, pct(qv, .5) / 1e3,
                              pct(qv, .99) / 1e3)
        print(f"{name:30} {a50:10.1f} {a99:8.1f} {b50:10.1f} {b99:8.1f} "
              f"{a50 / b50:9.3f}x {a99 / b99:6.3f}x")


main()
