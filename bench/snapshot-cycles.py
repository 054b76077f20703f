#!/usr/bin/env python3
"""bench/snapshot-cycles: does a Linux guest survive being snapshotted and
restored again and again? A 2-vCPU guest runs the test workload (its RAM data
checked and a short sleep pinned to each CPU every round); each cycle pauses
it, snapshots it, kills its petrel and restores the snapshot in a new one
(`petrel api` and Firecracker's /snapshot/load), so the next cycle snapshots
the restored guest. With --diff, every cycle after the first takes a diff
snapshot (the restored guest tracks its dirty pages) and merges it onto a
copy of the memory file it was restored from, as a chain of diff snapshots
would be used. A cycle passes when the restored guest goes on with its next
rounds, every round says "mem ok cpus ok", and its kernel complains of
nothing. Prints one line a cycle and a table; a failed cycle's console is kept.
   snapshot-cycles.py [--diff] [CYCLES]"""
import http.client, json, os, re, shutil, socket, subprocess, sys, tempfile, time

COMPLAINTS = rb"soft lockup|rcu.*stall|clocksource.*(unstable|watchdog|skew)|Kernel panic|BUG:|Oops|init started"
# a whole line only: the console's last line may still be arriving
ROUND = re.compile(rb"^petrel-guest: round (\d+) [^\n]*(?=\n)", re.M)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=300)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def call(sock, method, path, body=None, want=204):
    c = UnixHTTP(sock)
    c.request(method, path, json.dumps(body) if body is not None else None,
              {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != want:
        raise SystemExit(f"{method} {path}: {r.status} {data.decode(errors='replace')}")
    return data


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


def kill(p):
    """Kill -9 a petrel and reap it; one that lingers is shown (its threads' kernel stacks)."""
    p.kill()
    try:
        p.wait(timeout=60)
        return
    except subprocess.TimeoutExpired:
        pass
    print(f"petrel {p.pid} still there 60s after kill -9; its threads:", flush=True)
    for t in sorted(os.listdir(f"/proc/{p.pid}/task")):
        try:
            with open(f"/proc/{p.pid}/task/{t}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{p.pid}/task/{t}/stack") as f:
                stack = f.read().strip().replace("\n", " <- ")
            with open(f"/proc/{p.pid}/task/{t}/stat") as f:
                st = f.read().split(")")[-1].split()[0]
        except OSError:
            continue
        print(f"  {t} {comm} {st}: {stack}", flush=True)
    raise SystemExit("a killed petrel did not go away")


def wait_path(path, deadline=30):
    end = time.monotonic() + deadline
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise SystemExit(f"no {path} after {deadline}s")
        time.sleep(0.05)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("PETREL_BUILD", os.path.join(root, "build"))
    args = sys.argv[1:]
    diff = "--diff" in args
    args = [a for a in args if a != "--diff"]
    cycles = int(args[0]) if args else 10
    petrel = os.path.join(build, "petrel")
    env = dict(l.split("=", 1) for l in subprocess.check_output(
        [os.path.join(root, "scripts/guest-initramfs.sh"), build], text=True).split())
    work = tempfile.mkdtemp(prefix="petrel-cycles-", dir="/tmp")
    sock = os.path.join(work, "api.sock")
    out = os.path.join(work, "boot.log")
    p = subprocess.Popen([petrel, "api", "--api-sock", sock], stdin=subprocess.DEVNULL,
                         stdout=open(out, "wb"), stderr=subprocess.STDOUT)
    wait_path(sock)
    call(sock, "PUT", "/machine-config", {"vcpu_count": 2, "mem_size_mib": 256,
                                          "track_dirty_pages": diff})
    call(sock, "PUT", "/boot-source", {
        "kernel_image_path": env["KERNEL"], "initrd_path": env["INITRAMFS"],
        "boot_args": "quiet panic=-1 petrel.action=workload petrel.memcheck=16"})
    call(sock, "PUT", "/actions", {"action_type": "InstanceStart"})
    if not wait_rounds(out, p, 3, 300):
        raise SystemExit(f"the first boot did not run 3 rounds: see {out}")
    passed = failed = 0
    mem = None
    for i in range(1, cycles + 1):
        state = os.path.join(work, f"s{i}.state")
        t0 = time.monotonic()
        call(sock, "PATCH", "/vm", {"state": "Paused"})
        if diff and mem:
            # the pages written since the restore, merged onto a copy of its memory file
            d = os.path.join(work, f"s{i}.diff")
            call(sock, "PUT", "/snapshot/create", {"snapshot_type": "Diff",
                                                   "snapshot_path": state, "mem_file_path": d})
            newmem = os.path.join(work, f"s{i}.mem")
            subprocess.check_call(["cp", "--sparse=always", mem, newmem])
            subprocess.check_call([petrel, "snapshot", "merge", newmem, d])
            os.unlink(d)
        else:
            newmem = os.path.join(work, f"s{i}.mem")
            call(sock, "PUT", "/snapshot/create", {"snapshot_type": "Full",
                                                   "snapshot_path": state, "mem_file_path": newmem})
        with open(out, "rb") as f:
            before = len(ROUND.findall(f.read().replace(b"\r", b"")))
        kill(p)
        os.unlink(sock)
        if mem:
            os.unlink(mem)
        mem = newmem
        out = os.path.join(work, f"cycle-{i}.log")
        p = subprocess.Popen([petrel, "api", "--api-sock", sock], stdin=subprocess.DEVNULL,
                             stdout=open(out, "wb"), stderr=subprocess.STDOUT)
        wait_path(sock)
        call(sock, "PUT", "/snapshot/load", {
            "snapshot_path": state, "mem_backend": {"backend_type": "File", "backend_path": mem},
            "track_dirty_pages": diff, "resume_vm": True})
        os.unlink(state)
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
    kill(p)
    print(f"\nbench/snapshot-cycles: 2 vCPUs, 256 MiB, "
          f"{'diff' if diff else 'full'} snapshot+restore cycles of one guest")
    print(f"{'cycles':>7} {'ok':>4} {'failed':>7}")
    print(f"{passed + failed:7} {passed:4} {failed:7}")
    if failed:
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


main()
