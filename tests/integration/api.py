#!/usr/bin/env python3
"""petrel's HTTP API on a UNIX socket, driven as Firecracker's and Cloud
Hypervisor's clients drive it, with the counter guest (pvh_tick.elf: prints
"petrel-tick" then a dot every few ms on COM1) as the VM.

Each case starts its own petrel with its own socket in a fresh temporary
folder and kills it at the end whatever happens. Waits are on events (the
socket accepting, the console growing, the process exiting) with generous
deadlines; the only time window is the one that checks a paused guest's
console does not grow.
   api.py PETREL PVH_TICK.elf [CASE...]"""
import http.client, json, os, re, shutil, signal, socket, stat, subprocess, sys, tempfile, time
import traceback

petrel, tick = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
only = sys.argv[3:]
if not os.path.exists("/dev/kvm"):
    sys.exit("FAIL: /dev/kvm is missing: this test needs KVM")

START_WAIT = 10  # seconds for petrel's socket to accept
OUTPUT_WAIT = 20  # seconds for the guest's console to grow (guest code is emulated on kvm_pvm)
EXIT_WAIT = 10  # seconds for petrel to exit once told to
PAUSE_WINDOW = 1.0  # seconds a paused guest's console must stay still
PVM_WARNING = "warning: /dev/kvm is kvm_pvm"  # petrel's host-specific notice on stderr

fails = []


class Abort(Exception):
    """A step the rest of the case depends on failed (already counted)."""


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        fails.append(what)
    return cond


def need(cond, what):
    if not check(cond, what):
        raise Abort(what)


# ---- an HTTP client over a UNIX socket ----

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Reply:
    def __init__(self, status, text):
        self.status, self.text = status, text
        try:
            self.json = json.loads(text) if text else None
        except ValueError:
            self.json = None

    def fault(self):
        """The fault_message of an error body, or None."""
        if isinstance(self.json, dict) and isinstance(self.json.get("fault_message"), str):
            return self.json["fault_message"]
        return None

    def __str__(self):
        t = self.text if len(self.text) < 300 else self.text[:300] + "..."
        return f"{self.status} {t!r}"


def request(sock, method, path, body=None, raw=None, timeout=10):
    """One request on its own connection; body is JSON'd, raw is sent as is."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    c = UnixHTTPConnection(sock, timeout)
    try:
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        return Reply(r.status, r.read().decode(errors="replace"))
    finally:
        c.close()


def req_desc(method, path, body=None, raw=None):
    if raw is not None:
        b = raw.decode(errors="replace")
        b = b if len(b) < 80 else f"<{len(raw)} bytes: {b[:40]!r}...>"
    else:
        b = json.dumps(body) if body is not None else ""
    return f"{method} {path} {b}".rstrip()


# ---- a petrel process of one case ----

class Petrel:
    """petrel started in a fresh folder: stdout (the serial console by
    default) and stderr go to files there; the socket is DIR/api.sock."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix=f"petrel-api-{name}-")
        self.sock = os.path.join(self.dir, "api.sock")
        self.out = os.path.join(self.dir, "stdout")
        self.err = os.path.join(self.dir, "stderr")
        self.p = None

    def start(self, args, exe=None):
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.p = subprocess.Popen([exe or petrel] + args, stdin=subprocess.DEVNULL,
                                      stdout=o, stderr=e)
        return self

    def stderr(self):
        with open(self.err, errors="replace") as f:
            return f.read()

    def wait_socket(self, sock=None):
        sock = sock or self.sock
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                need(False, f"petrel exited ({self.p.returncode}) before its socket accepted: "
                     f"{self.stderr().strip()}")
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock)
                s.close()
                return
            except OSError:
                s.close()
                time.sleep(0.005)
        need(False, f"the socket {sock} accepts within {START_WAIT} s")

    def wait_exit(self, timeout=EXIT_WAIT):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def wait_growth(path, by=20, timeout=OUTPUT_WAIT):
    """True once the file has grown by @by bytes from its size now."""
    start = size(path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if size(path) >= start + by:
            return True
        time.sleep(0.01)
    return False


def still(path, window=PAUSE_WINDOW):
    """The file's size does not change over @window seconds (a paused guest)."""
    a = size(path)
    time.sleep(window)
    return size(path) == a, a, size(path)


def state(sock):
    r = request(sock, "GET", "/")
    return r.json.get("state") if r.status == 200 and isinstance(r.json, dict) else f"<{r}>"


def ch(sock, method, route, body=None):
    return request(sock, method, "/api/v1/" + route, body)


def run_cmd(args, both=False):
    """Run to completion (killed after EXIT_WAIT s: status None); its stderr
    (with @both, stdout then stderr)."""
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=EXIT_WAIT)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        rc = None
    return rc, (out + err if both else err)


def one_line_naming(text, path):
    """petrel's stderr, less its host notice, is one line that names @path."""
    lines = [l for l in text.splitlines() if PVM_WARNING not in l]
    return len(lines) == 1 and path in lines[0], lines


# ---- cases ----

CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def bad_table(sock, table, state_want):
    """Every request of @table is a 400 with a JSON fault_message, and leaves
    GET / and GET /vm/config as they were."""
    before_info = request(sock, "GET", "/")
    before_cfg = request(sock, "GET", "/vm/config")
    check(before_info.status == 200 and state(sock) == state_want,
          f"GET / is {state_want!r} before the bad requests ({before_info})")
    for what, method, path, body, raw in table:
        d = req_desc(method, path, body, raw)
        try:
            r = request(sock, method, path, body, raw)
        except OSError as e:
            check(False, f"{what}: {d} -> connection error {e!r}")
            continue
        check(r.status == 400 and r.fault() is not None,
              f"{what}: {d} -> 400 with a fault_message (got {r})")
        info, cfg = request(sock, "GET", "/"), request(sock, "GET", "/vm/config")
        check((info.status, info.json) == (before_info.status, before_info.json) and
              (cfg.status, cfg.json) == (before_cfg.status, before_cfg.json),
              f"{what}: GET / and GET /vm/config unchanged after it "
              f"(GET / {info}; /vm/config {cfg.status})")


@case
def firecracker_flow():
    with Petrel("fc") as pt:
        pt.start(["api", "--api-sock", pt.sock])
        pt.wait_socket()
        st = os.stat(pt.sock)
        check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
              f"the socket has mode 0600 (got {oct(stat.S_IMODE(st.st_mode))})")
        r = request(pt.sock, "GET", "/")
        check(r.status == 200 and isinstance(r.json, dict) and
              {"app_name", "id", "state", "vmm_version"} <= set(r.json),
              f"GET / -> 200 with app_name, id, state, vmm_version ({r})")
        need(state(pt.sock) == "Not started", f"GET / is 'Not started' ({r})")
        r = request(pt.sock, "GET", "/version")
        check(r.status == 200 and isinstance(r.json, dict) and "firecracker_version" in r.json,
              f"GET /version -> 200 with firecracker_version ({r})")
        console = os.path.join(pt.dir, "console")
        image = os.path.join(pt.dir, "disk.img")
        with open(image, "wb") as f:
            f.truncate(1 << 20)
        for path, body in (("/machine-config", {"vcpu_count": 1, "mem_size_mib": 64}),
                           ("/boot-source", {"kernel_image_path": tick}),
                           ("/serial", {"serial_out_path": console})):
            r = request(pt.sock, "PUT", path, body)
            need(r.status == 204, f"{req_desc('PUT', path, body)} -> 204 ({r})")
        mc = '{"vcpu_count": 1, "mem_size_mib": 64}'
        bad_table(pt.sock, [
            ("malformed JSON", "PUT", "/machine-config", None, b'{"vcpu_count": 1,'),
            ("unknown field", "PUT", "/machine-config",
             {"vcpu_count": 1, "mem_size_mib": 64, "bogus": 1}, None),
            ("wrong type", "PUT", "/machine-config", {"vcpu_count": "one", "mem_size_mib": 64}, None),
            ("missing field", "PUT", "/machine-config", {"vcpu_count": 1}, None),
            ("vcpu_count 0", "PUT", "/machine-config", {"vcpu_count": 0, "mem_size_mib": 64}, None),
            ("drive id mismatch", "PUT", "/drives/x",
             {"drive_id": "y", "path_on_host": image, "is_root_device": False,
              "is_read_only": True}, None),
            ("unknown path", "GET", "/no-such-thing", None, None),
            ("wrong method", "DELETE", "/machine-config", None, None),
            ("wrong method on /", "PUT", "/", {}, None),
            ("body over 51,200 bytes", "PUT", "/machine-config", None,
             (mc + " " * (51201 - len(mc))).encode()),
        ], "Not started")
        r = request(pt.sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        need(r.status == 204, f"PUT /actions InstanceStart -> 204 ({r})")
        check(state(pt.sock) == "Running", "GET / is 'Running' after InstanceStart")
        r = request(pt.sock, "GET", "/vm/config")
        cfg = r.json if isinstance(r.json, dict) else {}
        m, b = cfg.get("machine-config") or {}, cfg.get("boot-source") or {}
        check(r.status == 200 and m.get("vcpu_count") == 1 and m.get("mem_size_mib") == 64 and
              b.get("kernel_image_path") == tick,
              f"GET /vm/config reflects machine-config and boot-source ({r})")
        need(wait_growth(console, 200), "the console grows after InstanceStart")
        with open(console, "rb") as f:
            check(f.read(12) == b"petrel-tick\n", "the console starts with the guest's banner")

        r = request(pt.sock, "PATCH", "/vm", {"state": "Paused"})
        need(r.status == 204, f"PATCH /vm Paused -> 204 ({r})")
        check(state(pt.sock) == "Paused", "GET / is 'Paused'")
        ok, a, z = still(console)
        check(ok, f"a paused guest's console stays still for {PAUSE_WINDOW} s ({a} -> {z} bytes)")
        r = request(pt.sock, "PATCH", "/vm", {"state": "Resumed"})
        need(r.status == 204, f"PATCH /vm Resumed -> 204 ({r})")
        check(state(pt.sock) == "Running", "GET / is 'Running' after resume")
        need(wait_growth(console), "the console grows again after resume")

        loop_ok = True
        for i in range(20):
            for want, st_want in (("Paused", "Paused"), ("Resumed", "Running")):
                r = request(pt.sock, "PATCH", "/vm", {"state": want})
                s = state(pt.sock)
                if r.status != 204 or s != st_want:
                    loop_ok = check(False, f"pause/resume loop {i}: PATCH /vm {want} -> {r}, "
                                    f"GET / {s!r}")
                    break
            if not loop_ok:
                break
        check(loop_ok, "20 pause/resume pairs, each 204 and seen in GET /")
        check(wait_growth(console), "the console grows after the pause/resume loop")

        bad_table(pt.sock, [
            ("PUT /machine-config after start", "PUT", "/machine-config",
             {"vcpu_count": 1, "mem_size_mib": 128}, None),
            ("PUT /boot-source after start", "PUT", "/boot-source",
             {"kernel_image_path": tick}, None),
            ("InstanceStart twice", "PUT", "/actions", {"action_type": "InstanceStart"}, None),
            ("unknown action", "PUT", "/actions", {"action_type": "Explode"}, None),
            ("bad vm state", "PATCH", "/vm", {"state": "Sleeping"}, None),
            ("malformed JSON", "PATCH", "/vm", None, b'{"state": '),
            ("unknown path", "GET", "/api/v2/vm.info", None, None),
            ("body over 51,200 bytes", "PATCH", "/vm", None,
             ('{"state": "Paused"}' + " " * 51200).encode()),
        ], "Running")
        check(wait_growth(console), "the guest still runs after the bad requests")

        pt.p.send_signal(signal.SIGTERM)
        rc = pt.wait_exit()
        check(rc == 128 + signal.SIGTERM, f"SIGTERM stops petrel with status 143 ({rc})")
        check(not os.path.lexists(pt.sock), "the socket file is gone after petrel exits")


@case
def run_with_api():
    with Petrel("run") as pt:
        pt.start(["run", "--kernel", tick, "--memory", "64M", "--api-sock", pt.sock])
        pt.wait_socket()
        r = request(pt.sock, "GET", "/")
        check(r.status == 200 and state(pt.sock) == "Running",
              f"petrel run --api-sock: GET / is 'Running' ({r})")
        need(wait_growth(pt.out, 200), "the console (stdout) grows")
        r = request(pt.sock, "PATCH", "/vm", {"state": "Paused"})
        need(r.status == 204, f"PATCH /vm Paused -> 204 ({r})")
        check(state(pt.sock) == "Paused", "GET / is 'Paused'")
        ok, a, z = still(pt.out)
        check(ok, f"the paused guest's console stays still ({a} -> {z} bytes)")
        r = request(pt.sock, "PATCH", "/vm", {"state": "Resumed"})
        need(r.status == 204, f"PATCH /vm Resumed -> 204 ({r})")
        check(wait_growth(pt.out), "the console grows after resume")

        # A path that exists is refused and left alone: a plain file, then the
        # live socket of the petrel above (which must go on answering).
        plain = os.path.join(pt.dir, "taken")
        with open(plain, "w") as f:
            f.write("keep me\n")
        for what, path, args in (
                ("run, a plain file", plain, ["run", "--kernel", tick, "--api-sock", plain]),
                ("api, a plain file", plain, ["api", "--api-sock", plain]),
                ("run, a live socket", pt.sock, ["run", "--kernel", tick, "--api-sock", pt.sock])):
            rc, err = run_cmd([petrel] + args)
            good, lines = one_line_naming(err, path)
            check(rc not in (0, None) and good,
                  f"{what}: refused with status != 0 and one line naming the path "
                  f"(status {rc}, stderr {lines})")
        with open(plain) as f:
            check(f.read() == "keep me\n", "the existing file is not removed or changed")
        check(os.path.lexists(pt.sock) and request(pt.sock, "GET", "/").status == 200,
              "the first petrel's socket is still there and answers")


@case
def cloud_hypervisor_flow():
    with Petrel("ch") as pt:
        pt.start(["api", "--api-sock", pt.sock])
        pt.wait_socket()
        r = ch(pt.sock, "GET", "vmm.ping")
        need(r.status == 200 and isinstance(r.json, dict) and "version" in r.json,
             f"GET vmm.ping -> 200 with a version ({r})")
        console = os.path.join(pt.dir, "console")
        cfg = {"cpus": {"boot_vcpus": 1, "max_vcpus": 1}, "memory": {"size": 64 << 20},
               "payload": {"kernel": tick}, "serial": {"mode": "File", "file": console},
               "console": {"mode": "Off"}}
        r = ch(pt.sock, "PUT", "vm.create", cfg)
        if r.status != 204 and ("exist" in r.text.lower() or "already" in r.text.lower()):
            check(False, f"vm.create on a fresh 'petrel api' is refused as if a VM existed: "
                  f"PUT /api/v1/vm.create -> {r}")
            # counted as a failure above; the rest of the flow is still worth checking
            d = ch(pt.sock, "PUT", "vm.delete")
            print(f"note: continuing after PUT vm.delete ({d})")
            r = ch(pt.sock, "PUT", "vm.create", cfg)
        need(r.status == 204, f"PUT vm.create -> 204 ({r})")
        r = ch(pt.sock, "PUT", "vm.boot")
        need(r.status == 204, f"PUT vm.boot -> 204 ({r})")
        r = ch(pt.sock, "GET", "vm.info")
        info = r.json if isinstance(r.json, dict) else {}
        check(r.status == 200 and info.get("state") == "Running",
              f"GET vm.info -> 200, state Running ({r})")
        c = info.get("config") or {}
        check((c.get("cpus") or {}).get("boot_vcpus") == 1 and
              (c.get("memory") or {}).get("size") == 64 << 20 and
              (c.get("payload") or {}).get("kernel") == tick,
              "vm.info's config has boot_vcpus 1, memory 64 MiB and the kernel")
        need(wait_growth(console, 200), "the console (serial File) grows after vm.boot")

        r = ch(pt.sock, "PUT", "vm.pause")
        need(r.status == 204, f"PUT vm.pause -> 204 ({r})")
        r = ch(pt.sock, "GET", "vm.info")
        check(r.status == 200 and r.json.get("state") == "Paused", f"vm.info: Paused ({r})")
        ok, a, z = still(console)
        check(ok, f"the paused guest's console stays still ({a} -> {z} bytes)")
        r = ch(pt.sock, "PUT", "vm.resume")
        need(r.status == 204, f"PUT vm.resume -> 204 ({r})")
        r = ch(pt.sock, "GET", "vm.info")
        check(r.status == 200 and r.json.get("state") == "Running", f"vm.info: Running ({r})")
        check(wait_growth(console), "the console grows after vm.resume")
        r = ch(pt.sock, "GET", "vm.counters")
        check(r.status == 200 and isinstance(r.json, dict), f"GET vm.counters -> 200, JSON ({r})")

        r = ch(pt.sock, "PUT", "vm.shutdown")
        need(r.status == 204, f"PUT vm.shutdown -> 204 ({r})")
        r = ch(pt.sock, "GET", "vm.info")
        check(r.status == 200 and r.json.get("state") == "Shutdown", f"vm.info: Shutdown ({r})")
        r = ch(pt.sock, "GET", "vmm.ping")
        check(r.status == 200 and pt.p.poll() is None,
              f"petrel still runs and answers vmm.ping after vm.shutdown ({r})")
        with open(console, "rb") as f:
            before = f.read()
        r = ch(pt.sock, "PUT", "vm.boot")
        need(r.status == 204, f"PUT vm.boot after vm.shutdown -> 204 ({r})")
        r = ch(pt.sock, "GET", "vm.info")
        check(r.status == 200 and r.json.get("state") == "Running",
              f"vm.info: Running again ({r})")
        deadline = time.monotonic() + OUTPUT_WAIT
        changed = False
        while time.monotonic() < deadline and not changed:
            with open(console, "rb") as f:
                changed = f.read() != before
            time.sleep(0.01)
        check(changed and wait_growth(console), "the console shows the second boot and grows")

        # Cloud Hypervisor's OpenAPI says 204; its server answers 200
        r = ch(pt.sock, "PUT", "vmm.shutdown")
        check(r.status in (200, 204), f"PUT vmm.shutdown -> 200 or 204 ({r})")
        rc = pt.wait_exit()
        check(rc == 0, f"petrel exits 0 after vmm.shutdown ({rc})")
        check(not os.path.lexists(pt.sock), "the socket file is gone")


@case
def config_file():
    with Petrel("cfg") as pt:
        cfgfile = os.path.join(pt.dir, "vm.json")
        with open(cfgfile, "w") as f:
            json.dump({"boot-source": {"kernel_image_path": tick},
                       "machine-config": {"vcpu_count": 1, "mem_size_mib": 64},
                       "drives": []}, f)
        pt.start(["api", "--no-api", "--config-file", cfgfile])
        deadline = time.monotonic() + OUTPUT_WAIT
        while time.monotonic() < deadline and size(pt.out) < 12 and pt.p.poll() is None:
            time.sleep(0.01)
        need(pt.p.poll() is None, f"--no-api --config-file: petrel runs "
             f"(exited {pt.p.returncode}: {pt.stderr().strip()})")
        with open(pt.out, "rb") as f:
            check(f.read(12) == b"petrel-tick\n", "--no-api --config-file boots the guest")
        check(wait_growth(pt.out), "its console grows")
        check(not [n for n in os.listdir(pt.dir) if n.endswith(".sock")],
              "--no-api makes no socket")
        pt.p.send_signal(signal.SIGTERM)
        check(pt.wait_exit() == 128 + signal.SIGTERM, "SIGTERM stops it with 143")

    with Petrel("cfg-api") as pt:
        cfgfile = os.path.join(pt.dir, "vm.json")
        with open(cfgfile, "w") as f:
            json.dump({"boot-source": {"kernel_image_path": tick},
                       "machine-config": {"vcpu_count": 1, "mem_size_mib": 64},
                       "drives": []}, f)
        pt.start(["api", "--api-sock", pt.sock, "--config-file", cfgfile])
        pt.wait_socket()
        r = request(pt.sock, "GET", "/vm/config")
        m = (r.json or {}).get("machine-config") or {} if isinstance(r.json, dict) else {}
        check(state(pt.sock) == "Running" and m.get("mem_size_mib") == 64,
              f"--config-file with --api-sock: the VM is started and GET /vm/config has it ({r})")
        check(wait_growth(pt.out, 100), "its console grows")

    rc, err = run_cmd([petrel, "api", "--no-api"])
    check(rc == 2 and len(err.splitlines()) == 1,
          f"--no-api without --config-file: exit 2, one line ({rc}, {err!r})")
    with Petrel("cfg-bad") as pt:
        bad = os.path.join(pt.dir, "bad.json")
        with open(bad, "w") as f:
            f.write('{"boot-source": {"kernel_image_path": 7}, "drives": []}')
        rc, err = run_cmd([petrel, "api", "--no-api", "--config-file", bad])
        check(rc not in (0, None) and err.strip() != "",
              f"a config file with a wrong type is refused ({rc}, {err!r})")


@case
def firecracker_link():
    with Petrel("link") as pt:
        fc = os.path.join(pt.dir, "firecracker")
        os.symlink(petrel, fc)
        rc, out = run_cmd([fc, "--version"], both=True)
        check(rc == 0 and "firecracker" in out.lower() and "petrel" in out.lower(),
              f"firecracker --version names both ({rc}, {out!r})")
        pt.start(["--api-sock", pt.sock, "--id", "link-test"], exe=fc)
        pt.wait_socket()
        r = request(pt.sock, "GET", "/")
        check(r.status == 200 and isinstance(r.json, dict) and
              r.json.get("state") == "Not started" and r.json.get("id") == "link-test",
              f"firecracker --api-sock --id: GET / is 'Not started' with the id ({r})")
    # --boot-timer: the tick guest writes Firecracker's magic byte at its start,
    # and the boot time is in petrel's log
    with Petrel("boot-timer") as pt:
        fc = os.path.join(pt.dir, "firecracker")
        os.symlink(petrel, fc)
        log = os.path.join(pt.dir, "fc.log")
        pt.start(["--api-sock", pt.sock, "--boot-timer", "--log-path", log], exe=fc)
        pt.wait_socket()
        console = os.path.join(pt.dir, "console")
        for path, body in (("/machine-config", {"vcpu_count": 1, "mem_size_mib": 64}),
                           ("/boot-source", {"kernel_image_path": tick}),
                           ("/serial", {"serial_out_path": console}),
                           ("/actions", {"action_type": "InstanceStart"})):
            r = request(pt.sock, "PUT", path, body)
            need(r.status == 204, f"{req_desc('PUT', path, body)} -> 204 ({r})")
        need(wait_growth(console, 20), "the boot-timer guest runs")
        deadline = time.monotonic() + OUTPUT_WAIT
        text = ""
        while time.monotonic() < deadline and "Guest-boot-time" not in text:
            time.sleep(0.01)
            with open(log, errors="replace") as f:
                text = f.read()
        m = re.search(r"Guest-boot-time = +(\d+) us (\d+) ms, +(\d+) CPU us", text)
        check(m is not None and int(m.group(1)) // 1000 == int(m.group(2)) and
              text.count("Guest-boot-time") == 1,
              f"--boot-timer logs the guest's boot time once ({text.strip()[-200:]!r})")


@case
def second_client():
    with Petrel("2nd") as pt:
        pt.start(["api", "--api-sock", pt.sock])
        pt.wait_socket()
        body = json.dumps({"vcpu_count": 2, "mem_size_mib": 96}).encode()
        head = (b"PUT /machine-config HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        # A third client that sent half its headers, and stays that way
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(pt.sock)
        c.sendall(b"GET / HTTP/1.1\r\nHost: loc")
        a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        a.settimeout(10)
        a.connect(pt.sock)
        a.sendall(head + body[:len(body) // 2])
        try:
            r = request(pt.sock, "GET", "/", timeout=5)
            check(r.status == 200 and state(pt.sock) == "Not started",
                  f"client B's GET / is answered while A is mid-body and C mid-headers ({r})")
        except OSError as e:
            check(False, f"client B's GET / is answered while A is mid-request ({e!r})")
        a.sendall(body[len(body) // 2:])
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                d = a.recv(4096)
                if not d:
                    break
                buf += d
        except OSError as e:
            buf += f"<{e!r}>".encode()
        check(buf.startswith(b"HTTP/1.1 204"),
              f"client A gets its answer once its body is complete ({buf[:60]!r})")
        r = request(pt.sock, "GET", "/vm/config")
        m = (r.json or {}).get("machine-config") or {} if isinstance(r.json, dict) else {}
        check(m.get("vcpu_count") == 2 and m.get("mem_size_mib") == 96,
              f"A's PUT took effect ({r})")
        a.close()
        c.close()
        check(request(pt.sock, "GET", "/").status == 200, "petrel answers after both hang up")


@case
def inherited_socket_and_telemetry():
    """libvirt's way: a socket bound by the caller (fd=N), kept at exit; the
    event monitor, the logger and the metrics files."""
    with Petrel("fd") as pt:
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(pt.sock)
        ls.listen(8)
        events = os.path.join(pt.dir, "events")
        log = os.path.join(pt.dir, "log")
        metrics = os.path.join(pt.dir, "metrics")
        serial = os.path.join(pt.dir, "serial")
        with open(pt.out, "wb") as o, open(pt.err, "wb") as e:
            pt.p = subprocess.Popen([petrel, "api", "--api-sock", f"fd={ls.fileno()}",
                                     "--event-monitor", f"path={events}"],
                                    stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                    pass_fds=[ls.fileno()])
        ls.close()
        pt.wait_socket()
        for path, body in (("/logger", {"log_path": log, "level": "Info"}),
                           ("/metrics", {"metrics_path": metrics}),
                           ("/machine-config", {"vcpu_count": 1, "mem_size_mib": 32}),
                           ("/boot-source", {"kernel_image_path": tick}),
                           ("/serial", {"serial_out_path": serial}),
                           ("/actions", {"action_type": "InstanceStart"})):
            r = request(pt.sock, "PUT", path, body)
            need(r.status == 204, f"PUT {path} -> 204 ({r})")
        check(wait_growth(serial), "the guest runs (its serial file grows)")
        for st in ("Paused", "Resumed"):
            r = request(pt.sock, "PATCH", "/vm", {"state": st})
            check(r.status == 204, f"PATCH /vm {st} -> 204 ({r})")
        r = request(pt.sock, "PUT", "/actions", {"action_type": "FlushMetrics"})
        check(r.status == 204, f"FlushMetrics -> 204 ({r})")
        try:
            with open(metrics) as f:
                lines = [json.loads(l) for l in f if l.strip()]
        except (OSError, ValueError) as e:
            lines = [f"<{e!r}>"]
        check(lines and isinstance(lines[-1], dict) and "utc_timestamp_ms" in lines[-1] and
              lines[-1].get("vcpu", {}).get("exit_io", 0) > 0,
              f"the metrics file has a JSON line with the guest's I/O exits ({lines[-1:]})")
        r = request(pt.sock, "PUT", "/metrics", {"metrics_path": metrics})
        check(r.status == 400 and r.fault() is not None,
              f"PUT /metrics after the start -> 400 ({r})")
        pt.p.send_signal(signal.SIGTERM)
        check(pt.wait_exit() == 128 + signal.SIGTERM, "SIGTERM ends petrel")
        check(os.path.exists(pt.sock), "an inherited socket's path is left to its owner")
        with open(log, errors="replace") as f:
            text = f.read()
        check("petrel:" in text, f"petrel's messages went to the logger's file ({text[-200:]!r})")
        with open(events) as f:
            seen = [json.loads(o)["event"] for o in f.read().split("\n\n") if o.strip()]
        want = ["starting", "booting", "booted", "pausing", "paused", "resuming", "resumed",
                "shutdown", "shutdown"]
        check(seen == want, f"the event monitor wrote {want} (got {seen})")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def nr_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


@case
def many_requests():
    with Petrel("load") as pt:
        pt.start(["api", "--api-sock", pt.sock])
        pt.wait_socket()
        wrong = []
        base = None
        for i in range(1000):
            if i % 10 == 9:
                want, args = 400, [("PUT", "/machine-config", None, b'{"vcpu_count":'),
                                   ("GET", "/nowhere", None, None)][i // 10 % 2]
            elif i % 2:
                want, args = 204, ("PUT", "/machine-config",
                                   {"vcpu_count": 1 + i % 2, "mem_size_mib": 64 + 16 * (i % 4)},
                                   None)
            else:
                want, args = 200, ("GET", "/", None, None)
            r = request(pt.sock, *args)
            if r.status != want:
                wrong.append(f"#{i} {req_desc(*args)} -> {r} (expected {want})")
            if i == 99:
                base = settle(pt.p.pid, None)
        end = settle(pt.p.pid, base[1])
        check(not wrong, f"1000 requests answered as expected ({len(wrong)} not: {wrong[:3]})")
        check(end[0] <= base[0] + 256,
              f"RSS after 1000 requests within 256 KiB of that after 100 "
              f"({base[0]} -> {end[0]} KiB)")
        check(end[1] <= base[1], f"open fds after 1000 requests <= after 100 ({base[1]} -> {end[1]})")
        check(pt.p.poll() is None, "petrel still runs")


def settle(pid, fds_want):
    """RSS and fd count once closed connections are gone (fds back to
    @fds_want, or steady, within a deadline)."""
    deadline = time.monotonic() + 5
    last = nr_fds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.02)
        n = nr_fds(pid)
        if (fds_want is not None and n <= fds_want) or (fds_want is None and n == last):
            break
        last = n
    return rss_kib(pid), nr_fds(pid)


def main():
    names = only or list(CASES)
    t0 = time.monotonic()
    for name in names:
        print(f"== {name}", flush=True)
        n = len(fails)
        t = time.monotonic()
        try:
            CASES[name]()
        except Abort:
            pass
        except Exception:
            traceback.print_exc()
            fails.append(f"{name}: exception")
        print(f"== {name}: {'PASS' if len(fails) == n else 'FAIL'} "
              f"({time.monotonic() - t:.1f} s)", flush=True)
    print(f"{len(names)} cases in {time.monotonic() - t0:.1f} s; "
          + ("PASS" if not fails else f"{len(fails)} failures:"))
    for f in fails:
        print("  " + f)
    sys.exit(1 if fails else 0)


main()
