#!/usr/bin/env python3
"""Snapshots through petrel's API, command line and petrel ctl: the refusals
(a snapshot of a running VM, a restore of missing files, a restore into a
used VMM), that every refusal leaves the VMM as it was, petrel ctl against a
live petrel run --api-sock (info, pause, resume, snapshot, shutdown), and
the snapshot restored twice at once from the same files (petrel run
--restore and PUT /snapshot/load), both guests going on. The
guest is the counter guest (pvh_tick.elf: a dot every few ms on COM1).
   snapshot-api.py PETREL PVH_TICK.elf"""
import http.client, json, os, shutil, socket, subprocess, sys, tempfile, time

petrel, tick = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
if not os.path.exists("/dev/kvm"):
    sys.exit("FAIL: /dev/kvm is missing: this test needs KVM")

START_WAIT = 10
OUTPUT_WAIT = 20
EXIT_WAIT = 10
PAUSE_WINDOW = 1.0
PVM_WARNING = "warning: /dev/kvm is kvm_pvm"

fails = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        fails.append(what)
    return cond


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def request(sock, method, path, body=None):
    c = UnixHTTPConnection(sock)
    try:
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        text = r.read().decode(errors="replace")
        try:
            j = json.loads(text) if text else None
        except ValueError:
            j = None
        return r.status, j, text
    finally:
        c.close()


def fault(j):
    return j.get("fault_message") if isinstance(j, dict) else None


def state(sock):
    st, j, _ = request(sock, "GET", "/")
    return j.get("state") if st == 200 and isinstance(j, dict) else None


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def wait_growth(path, by=20, timeout=OUTPUT_WAIT):
    start = size(path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if size(path) >= start + by:
            return True
        time.sleep(0.01)
    return False


def run(args):
    """A command to its end: (status, stdout, stderr lines less petrel's host notice)."""
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=EXIT_WAIT * 6)
    lines = [l for l in p.stderr.splitlines() if PVM_WARNING not in l]
    return p.returncode, p.stdout, lines


def ctl(sock, *args):
    return run([petrel, "ctl", sock] + list(args))


class Petrel:
    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix=f"petrel-snap-{name}-")
        self.sock = os.path.join(self.dir, "api.sock")
        self.out = os.path.join(self.dir, "stdout")
        self.err = os.path.join(self.dir, "stderr")
        self.p = None

    def start(self, args):
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.p = subprocess.Popen([petrel] + args, stdin=subprocess.DEVNULL, stdout=o,
                                      stderr=e)
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline and self.p.poll() is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock)
                return True
            except OSError:
                time.sleep(0.005)
            finally:
                s.close()
        return check(False, f"petrel {' '.join(args[:2])}: the socket accepts")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def live_run_and_ctl():
    with Petrel("run") as pt:
        if not pt.start(["run", "--kernel", tick, "--memory", "64M", "--api-sock", pt.sock]):
            return
        check(wait_growth(pt.out, 100), "the guest's console grows")
        snap = os.path.join(pt.dir, "snap")
        os.mkdir(snap)
        # a snapshot of a running VM: refused, the VM goes on
        st, j, text = request(pt.sock, "PUT", "/snapshot/create",
                              {"snapshot_path": snap + "/state", "mem_file_path": snap + "/memory"})
        check(st == 400 and "paused" in (fault(j) or ""),
              f"PUT /snapshot/create while running -> 400 saying it must be paused ({st} {text})")
        st, j, text = request(pt.sock, "PUT", "/api/v1/vm.snapshot",
                              {"destination_url": "file://" + snap})
        check(st == 500 and "not paused" in text, f"vm.snapshot while running -> 500 ({st} {text})")
        # a restore into a VMM that runs a VM
        st, j, text = request(pt.sock, "PUT", "/snapshot/load",
                              {"snapshot_path": snap + "/state", "mem_file_path": snap + "/memory"})
        check(st == 400 and "fresh" in (fault(j) or ""),
              f"PUT /snapshot/load into a running VMM -> 400 ({st} {text})")
        check(state(pt.sock) == "Running", "still Running after the refusals")
        # petrel ctl
        rc, out, err = ctl(pt.sock, "info")
        info = json.loads(out) if rc == 0 else {}
        check(rc == 0 and info.get("state") == "Running" and not err,
              f"petrel ctl info: status 0, JSON with state Running ({rc} {out!r} {err})")
        rc, out, err = ctl(pt.sock, "pause")
        check(rc == 0 and not err and state(pt.sock) == "Paused",
              f"petrel ctl pause: status 0, Paused ({rc} {err})")
        a = size(pt.out)
        time.sleep(PAUSE_WINDOW)
        check(size(pt.out) == a, "the paused guest's console stays still")
        rc, out, err = ctl(pt.sock, "pause")
        check(rc == 0, f"petrel ctl pause again: status 0 ({rc} {err})")
        rc, out, err = ctl(pt.sock, "resume")
        check(rc == 0 and not err and state(pt.sock) == "Running",
              f"petrel ctl resume: status 0, Running ({rc} {err})")
        check(wait_growth(pt.out), "the console grows after resume")
        # ctl snapshot: the files are there, the guest runs on after it
        rc, out, err = ctl(pt.sock, "snapshot", snap)
        check(rc == 0 and not err and size(snap + "/state") > 0 and
              size(snap + "/memory") == 64 << 20,
              f"petrel ctl snapshot DIR: status 0, DIR/state and DIR/memory ({rc} {err})")
        check(state(pt.sock) == "Running" and wait_growth(pt.out),
              "the guest runs on after petrel ctl snapshot")
        rc, out, err = ctl(pt.sock, "snapshot", snap, "--keep-paused")
        check(rc == 0 and state(pt.sock) == "Paused",
              f"petrel ctl snapshot DIR --keep-paused leaves it Paused ({rc} {err})")
        restored_runs(snap)
        # usage errors: status 2, one line
        for args in (["bogus"], ["snapshot"], ["info", "extra"], ["snapshot", snap, "--now"]):
            rc, out, err = ctl(pt.sock, *args)
            check(rc == 2 and len(err) == 1, f"petrel ctl SOCKET {' '.join(args)}: status 2, "
                  f"one line ({rc} {err})")
        rc, out, err = ctl(pt.sock, "shutdown")
        check(rc == 0, f"petrel ctl shutdown: status 0 ({rc} {err})")
        try:
            pt.p.wait(timeout=EXIT_WAIT)
        except subprocess.TimeoutExpired:
            pass
        check(pt.p.poll() is not None, "petrel exits after petrel ctl shutdown")
        rc, out, err = ctl(pt.sock, "info")
        check(rc == 1 and len(err) == 1 and pt.sock in err[0],
              f"petrel ctl against a socket nobody serves: status 1, one line ({rc} {err})")


def restored_runs(snap):
    """The snapshot restored twice at once from the same files: both guests go on;
    the second snapshotted and restored the Cloud Hypervisor way."""
    ch = os.path.join(snap, "ch")
    os.mkdir(ch)
    with Petrel("clone1") as a, Petrel("clone2") as b:
        if not a.start(["run", "--restore", snap, "--api-sock", a.sock]):
            return
        if not b.start(["api", "--api-sock", b.sock]):
            return
        check(wait_growth(a.out), "petrel run --restore: the restored guest's console grows")
        check(state(a.sock) == "Running", "the restored VM is Running")
        st, j, text = request(b.sock, "PUT", "/snapshot/load",
                              {"snapshot_path": snap + "/state",
                               "mem_backend": {"backend_type": "File",
                                               "backend_path": snap + "/memory"},
                               "resume_vm": True})
        check(st == 204, f"PUT /snapshot/load of the same files into petrel api -> 204 ({st} {text})")
        check(wait_growth(b.out), "the second clone's console grows")
        st, j, text = request(b.sock, "GET", "/vm/config")
        check(st == 200 and j.get("machine-config", {}).get("mem_size_mib") == 64,
              f"GET /vm/config of the clone shows the snapshot's 64 MiB ({st} {text})")
        # the Cloud Hypervisor way: vm.snapshot of the paused clone, vm.restore elsewhere
        st, j, text = request(b.sock, "PUT", "/api/v1/vm.pause")
        check(st == 204, f"vm.pause -> 204 ({st} {text})")
        st, j, text = request(b.sock, "PUT", "/api/v1/vm.snapshot",
                              {"destination_url": "file://" + ch})
        check(st == 204 and size(ch + "/state") > 0, f"vm.snapshot -> 204, {ch}/state ({st} {text})")
    with Petrel("clone3") as c:
        if not c.start(["api", "--api-sock", c.sock]):
            return
        st, j, text = request(c.sock, "PUT", "/api/v1/vm.restore", {"source_url": "file://" + ch})
        check(st == 204, f"vm.restore -> 204 ({st} {text})")
        st, j, text = request(c.sock, "GET", "/api/v1/vm.info")
        check(st == 200 and j.get("state") == "Paused", f"vm.info says Paused ({st} {text})")
        st, j, text = request(c.sock, "PUT", "/api/v1/vm.resume")
        check(st == 204, f"vm.resume -> 204 ({st} {text})")
        check(wait_growth(c.out), "the guest restored by vm.restore goes on")


def diff_of_booted_vm():
    """Firecracker's track_dirty_pages at boot: a full then a diff snapshot of it."""
    with Petrel("diff") as pt:
        if not pt.start(["api", "--api-sock", pt.sock]):
            return
        for path, body in (("/machine-config", {"vcpu_count": 1, "mem_size_mib": 64,
                                                "track_dirty_pages": True}),
                           ("/boot-source", {"kernel_image_path": tick}),
                           ("/actions", {"action_type": "InstanceStart"})):
            st, j, text = request(pt.sock, "PUT", path, body)
            check(st == 204, f"PUT {path} -> 204 ({st} {text})")
        check(wait_growth(pt.out), "the guest runs")
        st, j, text = request(pt.sock, "PATCH", "/vm", {"state": "Paused"})
        for kind in ("Full", "Diff"):
            st, j, text = request(pt.sock, "PUT", "/snapshot/create",
                                  {"snapshot_type": kind, "snapshot_path": f"{pt.dir}/{kind}.state",
                                   "mem_file_path": f"{pt.dir}/{kind}.mem"})
            check(st == 204, f"a {kind} snapshot of a VM booted with track_dirty_pages -> 204 "
                  f"({st} {text})")
        check(os.stat(f"{pt.dir}/Diff.mem").st_blocks * 512 < 1 << 20,
              "the diff right after the full snapshot holds almost nothing")


def restore_refusals():
    with Petrel("api") as pt:
        if not pt.start(["api", "--api-sock", pt.sock]):
            return
        st, j, text = request(pt.sock, "PUT", "/snapshot/create",
                              {"snapshot_path": pt.dir + "/s", "mem_file_path": pt.dir + "/m"})
        check(st == 400 and "not running" in (fault(j) or ""),
              f"PUT /snapshot/create before any boot -> 400 ({st} {text})")
        missing = os.path.join(pt.dir, "nothing", "vm.snap")
        st, j, text = request(pt.sock, "PUT", "/snapshot/load",
                              {"snapshot_path": missing,
                               "mem_backend": {"backend_type": "File",
                                               "backend_path": pt.dir + "/vm.mem"}})
        f = fault(j) or ""
        check(st == 400 and missing in f and "\n" not in f,
              f"PUT /snapshot/load of a missing file -> 400, one line naming it ({st} {text})")
        # files that are there but no snapshot (or no machinery yet): refused all the same
        for name in ("vm.snap", "vm.mem"):
            with open(os.path.join(pt.dir, name), "wb") as fh:
                fh.write(b"not a snapshot")
        st, j, text = request(pt.sock, "PUT", "/snapshot/load",
                              {"snapshot_path": pt.dir + "/vm.snap",
                               "mem_file_path": pt.dir + "/vm.mem", "resume_vm": True})
        check(st == 400 and fault(j), f"PUT /snapshot/load of a file that is no snapshot -> 400 "
              f"({st} {text})")
        st, j, text = request(pt.sock, "PUT", "/snapshot/load",
                              {"snapshot_path": pt.dir + "/vm.snap",
                               "mem_backend": {"backend_type": "Uffd", "backend_path": "/u"}})
        check(st == 400 and "Uffd" in (fault(j) or ""), f"the Uffd backend is refused ({text})")
        st, j, text = request(pt.sock, "PUT", "/api/v1/vm.restore",
                              {"source_url": "file://" + pt.dir + "/nothing"})
        check(st == 400 and "nothing" in text, f"vm.restore of a missing folder -> 400 ({text})")
        st, j, text = request(pt.sock, "PUT", "/api/v1/vm.snapshot",
                              {"destination_url": "file://" + pt.dir})
        check(st == 404, f"vm.snapshot without a VM -> 404 ({st} {text})")
        # still fresh: a VM can be configured and booted
        check(state(pt.sock) == "Not started", "still 'Not started' after the refusals")
        st, j, text = request(pt.sock, "PUT", "/machine-config",
                              {"vcpu_count": 1, "mem_size_mib": 64})
        check(st == 204, f"PUT /machine-config after the refusals -> 204 ({st} {text})")
        st, j, text = request(pt.sock, "PUT", "/snapshot/load",
                              {"snapshot_path": pt.dir + "/vm.snap",
                               "mem_file_path": pt.dir + "/vm.mem"})
        check(st == 400 and "fresh" in (fault(j) or ""),
              f"PUT /snapshot/load after a configuration -> 400 ({st} {text})")


def cli_restore():
    d = tempfile.mkdtemp(prefix="petrel-snap-cli-")
    try:
        missing = os.path.join(d, "nothing")
        rc, out, err = run([petrel, "run", "--restore", missing])
        check(rc == 1 and len(err) == 1 and missing in err[0],
              f"run --restore of a missing folder: status 1, one line naming it ({rc} {err})")
        rc, out, err = run([petrel, "run", "--restore", d, "--memory", "64M"])
        check(rc == 2 and len(err) == 1 and "--memory" in err[0],
              f"run --restore with --memory: status 2, one line ({rc} {err})")
        rc, out, err = run([petrel, "run", "--restore", f"state={d}/s"])
        check(rc == 2 and len(err) == 1, f"run --restore state= without mem=: status 2 ({rc} {err})")
        rc, out, err = run([petrel, "run", "--restore", d, "--net", "tap=tap0"])
        check(rc == 2 and len(err) == 1 and "id=ID" in err[0],
              f"run --restore --net without an id: status 2 ({rc} {err})")
        for name in ("state", "memory"):
            with open(os.path.join(d, name), "wb") as fh:
                fh.write(b"not a snapshot")
        sock = os.path.join(d, "api.sock")
        rc, out, err = run([petrel, "run", "--restore", d + ",resume=off", "--api-sock", sock,
                            "--net", "id=net0,tap=tap7"])
        check(rc == 1 and len(err) == 1 and err[0].startswith("petrel: --restore: "),
              f"run --restore of files that are no snapshot: status 1, one line ({rc} {err})")
        check(not os.path.exists(sock), "its API socket is removed")
    finally:
        shutil.rmtree(d, ignore_errors=True)


for fn in (live_run_and_ctl, diff_of_booted_vm, restore_refusals, cli_restore):
    print(f"== {fn.__name__}", flush=True)
    fn()
print("PASS" if not fails else f"{len(fails)} failures:")
for f in fails:
    print("  " + f)
sys.exit(1 if fails else 0)
