#!/usr/bin/env python3
"""Live migration between two petrel processes on 127.0.0.1, with the snap
guest (rounds of sums over a window it rewrites, printed on COM1):
 - a migration mid-run: the source's console output then the destination's
   is exactly an uninterrupted run; the source exits 0 after the switchover;
   again with --dirty-log ring at both ends;
 - refusals and failures leave the guest running at the source, which
   finishes its run normally: no destination listening, a destination of
   another stream version, a destination that dies in the middle of the
   memory (a fake one here, reading a little and closing);
 - a destination fed something that is not a migration stream exits 1 with
   one line;
 - a disk image and a TAP handed over between two petrels on one host: the
   destination locks the image and opens the TAP only when the source has
   let go; a destination that gives up after the source let go leaves the
   source taking its image back and going on, and if the image was taken
   meanwhile, the source stays paused;
 - local migration over a UNIX socket: with --memory 64M,shared=on the
   guest's memfd is handed over and no page is copied; without it the
   pages are copied as over TCP; a disk and a TAP (its fd passed) handed
   over; a path that exists is refused;
 - a migration cancelled while the source is stuck sending memory to a fake
   destination that stopped reading (with the fill guest: 4 MiB to send):
   the guest goes on at the source, vm.info says "cancelled".
   migration.py PETREL SNAP.bin [FILL.bin]"""
import fcntl, json, os, re, shutil, socket, struct, subprocess, sys, tempfile, threading, time

petrel, guest = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
fill_guest = os.path.abspath(sys.argv[3] if len(sys.argv) > 3 else
                             os.path.join(os.path.dirname(guest), "fill.bin"))
if not os.path.exists("/dev/kvm"):
    sys.exit("FAIL: /dev/kvm is missing: this test needs KVM")

WAIT = 60
fails = []
tmp = tempfile.mkdtemp(prefix="petrel-migration-")


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        fails.append(what)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_for(path, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and what in read(path):
            return True
        time.sleep(0.01)
    return False


def wait_listening(port, proc, timeout=WAIT):
    """The destination listens once it is up: poll /proc/net/tcp for the port."""
    deadline = time.monotonic() + timeout
    needle = ":%04X 00000000:0000 0A" % port
    while time.monotonic() < deadline and proc.poll() is None:
        with open("/proc/net/tcp") as f:
            if needle in f.read():
                return True
        time.sleep(0.01)
    return False


def source(name, env=None, extra=(), memory="64M", firmware=None):
    sock = os.path.join(tmp, name + ".sock")
    out = open(os.path.join(tmp, name + ".out"), "wb")
    err = open(os.path.join(tmp, name + ".err"), "wb")
    p = subprocess.Popen([petrel, "run", "--firmware", firmware or guest, "--mode", "long",
                          "--memory", memory, "--api-sock", sock] + list(extra), stdout=out,
                         stderr=err, stdin=subprocess.DEVNULL, env=env)
    return p, sock


def locked(path):
    """Does another process hold the image's lock?"""
    with open(path, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def has_tap(pid):
    try:
        return any(os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "/dev/net/tun"
                   for fd in os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return False


def destination(name, port, extra=()):
    """A destination on tcp:127.0.0.1:PORT, or on unix:PATH when port is a path."""
    out = open(os.path.join(tmp, name + ".out"), "wb")
    err = open(os.path.join(tmp, name + ".err"), "wb")
    url = "unix:" + port if isinstance(port, str) else "tcp:127.0.0.1:%d" % port
    return subprocess.Popen([petrel, "run", "--incoming", url] + list(extra),
                            stdout=out, stderr=err, stdin=subprocess.DEVNULL)


def wait_path(path, proc, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(path):
            return True
        time.sleep(0.01)
    return False


def kib_sent(out):
    m = re.search(r"(\d+) KiB sent", out)
    return int(m.group(1)) if m else -1


def downtime(out):
    m = re.search(r"downtime (\d+) ms", out)
    return int(m.group(1)) if m else -1


def ctl(sock, *args):
    r = subprocess.run([petrel, "ctl", sock] + list(args), capture_output=True, text=True,
                       timeout=WAIT)
    return r.returncode, r.stdout, r.stderr


def one_line(text):
    return len(text.strip().splitlines()) == 1


def vm_info(sock):
    r = subprocess.run(["curl", "-s", "--unix-socket", sock, "http://localhost/api/v1/vm.info"],
                       capture_output=True, text=True, timeout=10)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {}


# the uninterrupted run
ref_out = os.path.join(tmp, "ref.out")
with open(ref_out, "wb") as f:
    r = subprocess.run([petrel, "run", "--firmware", guest, "--mode", "long", "--memory", "64M"],
                       stdout=f, stderr=subprocess.PIPE, timeout=WAIT)
ref = read(ref_out)
check(r.returncode == 0 and b"snap guest done" in ref,
      "the uninterrupted run (status %d)" % r.returncode)

# ---- a migration mid-run ----
port = free_port()
dst = destination("ok-dst", port)
check(wait_listening(port, dst), "the destination listens")
src, sock = source("ok-src")
check(wait_for(os.path.join(tmp, "ok-src.out"), b"round 0000000000000004"), "the source runs")
rc, out, err = ctl(sock, "migrate", "tcp:127.0.0.1:%d" % port)
check(rc == 0, "petrel ctl migrate succeeds (%s%s)" % (out.strip(), err.strip()))
print("  " + out.strip())
check(src.wait(timeout=WAIT) == 0, "the source exits 0 after the switchover")
check(dst.wait(timeout=WAIT) == 0, "the destination runs the guest to its end")
whole = read(os.path.join(tmp, "ok-src.out")) + read(os.path.join(tmp, "ok-dst.out"))
check(whole == ref, "source then destination output is the uninterrupted run")
check(b"snap guest done" not in read(os.path.join(tmp, "ok-src.out")),
      "the source stopped before the end")
src_err = read(os.path.join(tmp, "ok-src.err")).decode(errors="replace")
check("migration to tcp:127.0.0.1:%d: done" % port in src_err, "the source says it is done")
print("  source: " + src_err.strip())
tcp_out = out


def local_migration(name, memory, extra=()):
    """A migration over unix:PATH mid-run; ctl's output."""
    path = os.path.join(tmp, name + ".mig")
    dst = destination(name + "-dst", path)
    check(wait_path(path, dst), name + ": the destination listens on its socket")
    src, sock = source(name + "-src", memory=memory, extra=extra)
    check(wait_for(os.path.join(tmp, name + "-src.out"), b"round 0000000000000004"),
          name + ": the source runs")
    rc, out, err = ctl(sock, "migrate", "unix:" + path)
    check(rc == 0, name + ": petrel ctl migrate unix: succeeds (%s%s)" % (out.strip(), err.strip()))
    print("  " + out.strip())
    check(not os.path.exists(path), name + ": the destination removed its socket")
    return src, dst, out


def local_end(name, src, dst):
    check(src.wait(timeout=WAIT) == 0, name + ": the source exits 0 after the switchover")
    check(dst.wait(timeout=WAIT) == 0, name + ": the destination runs the guest to its end")
    whole = read(os.path.join(tmp, name + "-src.out")) + read(os.path.join(tmp, name + "-dst.out"))
    check(whole == ref, name + ": source then destination output is the uninterrupted run")


# ---- local: the memfd handed over, no page copied ----
src, dst, shared_out = local_migration("memfd", "64M,shared=on")
check("no page copied" in shared_out and 0 <= kib_sent(shared_out) < 64,
      "memfd: no guest page went over the socket (%d KiB sent)" % kib_sent(shared_out))
local_end("memfd", src, dst)

# ---- local without shared memory: the pages are copied ----
src, dst, out = local_migration("unixcopy", "64M")
check("no page copied" not in out and kib_sent(out) > 64,
      "unixcopy: the pages went over the socket (%d KiB sent)" % kib_sent(out))
local_end("unixcopy", src, dst)
print("  downtime: tcp %d ms, unix %d ms, unix with the memfd %d ms" %
      (downtime(tcp_out), downtime(out), downtime(shared_out)))

# ---- local: a path that exists is refused ----
busy = os.path.join(tmp, "busy.mig")
open(busy, "w").close()
dst = destination("busy-dst", busy)
check(dst.wait(timeout=WAIT) == 1, "busy: a destination on an existing path exits 1")
derr = read(os.path.join(tmp, "busy-dst.err")).decode(errors="replace")
check(one_line(derr) and "exists" in derr, "busy: it says why (%s)" % derr.strip())
check(os.path.exists(busy), "busy: the file is left alone")

# ---- the same with the dirty ring at both ends ----
# kvm_pvm may overrun a ring (see README): the source must then say so and
# the migration fail with the guest still running there; then try again.
ring = ["--dirty-log", "ring"]
for attempt in range(1, 4):
    tag = "ring%d" % attempt
    port = free_port()
    dst = destination(tag + "-dst", port, extra=ring)
    check(wait_listening(port, dst), "ring: the destination listens")
    src, sock = source(tag + "-src", extra=ring)
    check(wait_for(os.path.join(tmp, tag + "-src.out"), b"round 0000000000000004"),
          "ring: the source runs")
    rc, out, err = ctl(sock, "migrate", "tcp:127.0.0.1:%d" % port)
    if rc != 0 and b"KVM overran" in read(os.path.join(tmp, tag + "-src.err")):
        print("note: KVM overran the source's dirty ring and petrel said so: again")
        ctl(sock, "shutdown")
        src.wait(timeout=WAIT)
        dst.kill()
        dst.wait(timeout=WAIT)
        continue
    check(rc == 0, "ring: petrel ctl migrate succeeds (%s%s)" % (out.strip(), err.strip()))
    print("  " + out.strip())
    check(src.wait(timeout=WAIT) == 0, "ring: the source exits 0 after the switchover")
    check(dst.wait(timeout=WAIT) == 0, "ring: the destination runs the guest to its end")
    whole = read(os.path.join(tmp, tag + "-src.out")) + read(os.path.join(tmp, tag + "-dst.out"))
    check(whole == ref, "ring: source then destination output is the uninterrupted run")
    check(b"snap guest done" not in read(os.path.join(tmp, tag + "-src.out")),
          "ring: the source stopped before the end")
    break
else:
    check(False, "ring: KVM overran the ring in every attempt")


# ---- a disk and a TAP handed over on one host ----
img = os.path.join(tmp, "disk.img")
with open(img, "wb") as f:
    f.truncate(1 << 20)
tap = "pmig%d" % (os.getpid() % 10000)
tap_ok = subprocess.run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"],
                        capture_output=True).returncode == 0
extra = ["--disk", "path=" + img] + (["--net", "tap=" + tap] if tap_ok else [])
if not tap_ok:
    print("note: no TAP could be made (not root?): the handover is tried with the disk only")
port = free_port()
dst = destination("hand-dst", port)
check(wait_listening(port, dst), "handover: the destination listens")
check(not locked(img), "handover: the destination has not locked the image yet")
src, sock = source("hand-src", extra=extra)
check(wait_for(os.path.join(tmp, "hand-src.out"), b"round 0000000000000004"),
      "handover: the source runs")
check(locked(img), "handover: the source holds the image's lock")
rc, out, err = ctl(sock, "migrate", "tcp:127.0.0.1:%d" % port)
check(rc == 0, "handover: the migration succeeds (%s%s)" % (out.strip(), err.strip()))
check(src.wait(timeout=WAIT) == 0, "handover: the source exits 0")
if dst.poll() is None:
    check(locked(img), "handover: the destination holds the image's lock")
    if tap_ok:
        check(has_tap(dst.pid), "handover: the destination has the TAP")
check(dst.wait(timeout=WAIT) == 0, "handover: the destination runs the guest to its end")
whole = read(os.path.join(tmp, "hand-src.out")) + read(os.path.join(tmp, "hand-dst.out"))
check(whole == ref, "handover: source then destination output is the uninterrupted run")

# ---- the same over a UNIX socket: the TAP's fd passes, the memfd too ----
path = os.path.join(tmp, "lhand.mig")
dst = destination("lhand-dst", path)
check(wait_path(path, dst), "local handover: the destination listens")
src, sock = source("lhand-src", extra=extra, memory="64M,shared=on")
check(wait_for(os.path.join(tmp, "lhand-src.out"), b"round 0000000000000004"),
      "local handover: the source runs")
check(locked(img), "local handover: the source holds the image's lock")
rc, out, err = ctl(sock, "migrate", "unix:" + path)
check(rc == 0, "local handover: the migration succeeds (%s%s)" % (out.strip(), err.strip()))
check(src.wait(timeout=WAIT) == 0, "local handover: the source exits 0")
if dst.poll() is None:
    check(locked(img), "local handover: the destination holds the image's lock")
    if tap_ok:
        check(has_tap(dst.pid), "local handover: the destination has the TAP's fd")
check(dst.wait(timeout=WAIT) == 0, "local handover: the destination runs the guest to its end")
whole = read(os.path.join(tmp, "lhand-src.out")) + read(os.path.join(tmp, "lhand-dst.out"))
check(whole == ref, "local handover: source then destination output is the uninterrupted run")

# ---- the handover fails after the source let go ----
def handover_destination(lsock, take, done):
    """Plays a destination up to the handover: takes every message until the
    end, says the state is loaded, waits for the source to let go, takes the
    image's lock itself if @take, then refuses (an error message)."""
    conn, _ = lsock.accept()
    while True:
        h = recv_exact(conn, 16)
        if h is None:
            done.append("closed early")
            return
        typ, _, n = struct.unpack("<IIQ", h)
        if recv_exact(conn, n) is None:
            done.append("closed early")
            return
        if typ == 1:
            conn.sendall(struct.pack("<IIQ", 2, 0, 0))  # ready
        if typ == 6:
            break  # end
    conn.sendall(struct.pack("<IIQ", 9, 0, 0))  # loaded
    h = recv_exact(conn, 16)
    if h is None or struct.unpack("<IIQ", h)[0] != 10:
        done.append("no release")
        return
    f = open(img, "rb")
    if take:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    msg = b"a destination that gives up at the handover"
    conn.sendall(struct.pack("<IIQ", 8, 0, len(msg)) + msg)
    done.append(f)
    conn.recv(1)  # until the source closes
    conn.close()


for take in (False, True):
    name = "take" if take else "giveup"
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    done = []
    t = threading.Thread(target=handover_destination, args=(lsock, take, done))
    t.start()
    src, sock = source(name + "-src", extra=["--disk", "path=" + img])
    check(wait_for(os.path.join(tmp, name + "-src.out"), b"round 0000000000000004"),
          name + ": the source runs")
    rc, out, err = ctl(sock, "migrate", "tcp:127.0.0.1:%d" % port)
    t.join(timeout=WAIT)
    lsock.close()
    check(done and not isinstance(done[0], str), name + ": the source let go at the handover")
    if take:
        check(rc == 1 and one_line(err) and "stays paused" in err,
              "take: the image taken by another, the source stays paused (%s)" % err.strip())
        check(vm_info(sock).get("state") == "Paused", "take: vm.info says paused")
        done[0].close()
        ctl(sock, "shutdown")
        src.wait(timeout=WAIT)
    else:
        check(rc == 1 and one_line(err) and "gives up at the handover" in err and
              "stays paused" not in err,
              "giveup: the migration fails in one line (%s)" % err.strip())
        check(locked(img), "giveup: the source took its image's lock back")
        check(src.wait(timeout=WAIT) == 0, "giveup: the source finishes its run, status 0")
        check(read(os.path.join(tmp, "giveup-src.out")) == ref,
              "giveup: its output is the uninterrupted run")
        done[0].close()
if tap_ok:
    subprocess.run(["ip", "link", "del", tap], capture_output=True)


def keeps_running(name, src, sock):
    check(src.wait(timeout=WAIT) == 0, name + ": the source finishes its run, status 0")
    check(read(os.path.join(tmp, name + "-src.out")) == ref,
          name + ": its output is the uninterrupted run")


# ---- nobody listening ----
port = free_port()
src, sock = source("refused-src")
check(wait_for(os.path.join(tmp, "refused-src.out"), b"round 0000000000000004"),
      "refused: the source runs")
rc, out, err = ctl(sock, "migrate", "tcp:127.0.0.1:%d" % port)
check(rc == 1 and one_line(err) and "Connection refused" in err,
      "refused: ctl says so in one line (%s)" % err.strip())
info = vm_info(sock)
check(info.get("state") == "Running", "refused: the VM still runs (vm.info)")
keeps_running("refused", src, sock)

# ---- another stream version ----
port = free_port()
dst = destination("version-dst", port)
check(wait_listening(port, dst), "version: the destination listens")
env = dict(os.environ, PETREL_MIGRATION_TEST_VERSION="99")
src, sock = source("version-src", env)
check(wait_for(os.path.join(tmp, "version-src.out"), b"round 0000000000000004"),
      "version: the source runs")
rc, out, err = ctl(sock, "migrate", "tcp:127.0.0.1:%d" % port)
check(rc == 1 and one_line(err) and "version 99" in err,
      "version: refused in one line (%s)" % err.strip())
check(dst.wait(timeout=WAIT) == 1, "version: the destination exits 1")
derr = read(os.path.join(tmp, "version-dst.err")).decode(errors="replace")
check(one_line(derr) and "version 99" in derr, "version: the destination says why (%s)" %
      derr.strip())
check(read(os.path.join(tmp, "version-dst.out")) == b"", "version: nothing ran there")
keeps_running("version", src, sock)


# ---- a destination that dies in the middle of the memory ----
def fake_destination(lsock, got):
    """Takes the hello and the specification, says ready, reads 64 KiB of memory, closes."""
    conn, _ = lsock.accept()
    for _ in range(2):
        h = recv_exact(conn, 16)
        if h is None or recv_exact(conn, struct.unpack("<IIQ", h)[2]) is None:
            break
    conn.sendall(struct.pack("<IIQ", 2, 0, 0))
    got.append(len(recv_exact(conn, 64 * 1024) or b""))
    conn.close()


lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(1)
port = lsock.getsockname()[1]
got = []
t = threading.Thread(target=fake_destination, args=(lsock, got))
t.start()
src, sock = source("cut-src")
check(wait_for(os.path.join(tmp, "cut-src.out"), b"round 0000000000000004"), "cut: the source runs")
rc, out, err = ctl(sock, "migrate", "tcp:127.0.0.1:%d" % port)
t.join(timeout=WAIT)
lsock.close()
check(rc == 1 and one_line(err), "cut: ctl reports the failure in one line (%s)" % err.strip())
info = vm_info(sock)
mig = info.get("migration", {})
check(mig.get("phase") == "failed" and mig.get("error"),
      "cut: vm.info says failed, and why (%s)" % mig.get("error"))
check(info.get("state") == "Running", "cut: the VM runs at the source again")
keeps_running("cut", src, sock)

# ---- cancelled: the source stuck sending memory to a destination that stopped reading ----
def stalling_destination(lsock, got, stop):
    """Takes the hello and the specification, says ready, then reads nothing until told."""
    conn, _ = lsock.accept()
    for _ in range(2):
        h = recv_exact(conn, 16)
        if h is None or recv_exact(conn, struct.unpack("<IIQ", h)[2]) is None:
            break
    conn.sendall(struct.pack("<IIQ", 2, 0, 0))
    stop.wait(WAIT)
    n = 0
    conn.settimeout(WAIT)
    try:
        while True:
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            n += len(chunk)
    except OSError:
        pass
    got.append(n)
    conn.close()


path = os.path.join(tmp, "cancel.mig")
lsock = socket.socket(socket.AF_UNIX)
lsock.bind(path)
lsock.listen(1)
got, stop = [], threading.Event()
t = threading.Thread(target=stalling_destination, args=(lsock, got, stop))
t.start()
src, sock = source("cancel-src", firmware=fill_guest)
check(wait_for(os.path.join(tmp, "cancel-src.out"), b"filled"), "cancel: the source runs")
rc, out, err = ctl(sock, "migrate-cancel")
check(rc == 1 and "no migration" in err, "cancel: nothing to cancel yet (%s)" % err.strip())
ctl_proc = subprocess.Popen([petrel, "ctl", sock, "migrate", "unix:" + path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
phase = ""
deadline = time.monotonic() + WAIT
while time.monotonic() < deadline and phase != "memory":
    phase = vm_info(sock).get("migration", {}).get("phase", "")
    time.sleep(0.02)
time.sleep(0.3)  # the socket's buffer is full long before 4 MiB
phase = vm_info(sock).get("migration", {}).get("phase", "")
check(phase == "memory", "cancel: the source is stuck in the memory phase (%s)" % phase)
rc, out, err = ctl(sock, "migrate-cancel")
check(rc == 0, "cancel: petrel ctl migrate-cancel succeeds (%s)" % err.strip())
out, err = ctl_proc.communicate(timeout=WAIT)
check(ctl_proc.returncode == 1 and "cancelled" in err and one_line(err),
      "cancel: petrel ctl migrate says it was cancelled (%s)" % err.strip())
info = vm_info(sock)
check(info.get("migration", {}).get("phase") == "cancelled",
      "cancel: vm.info's migration phase is cancelled")
check(info.get("state") == "Running", "cancel: the VM runs at the source")
stop.set()
t.join(timeout=WAIT)
lsock.close()
check(got and got[0] < 4 << 20, "cancel: the destination's connection was closed before "
      "the memory was all sent (%s bytes after the stall)" % (got[0] if got else "?"))
rc, out, err = ctl(sock, "migrate-cancel")
check(rc == 1, "cancel: a second cancel finds nothing to cancel (%s)" % err.strip())
ctl(sock, "shutdown")
check(src.wait(timeout=WAIT) == 0, "cancel: the source shuts down normally")

# ---- not a migration stream ----
port = free_port()
dst = destination("garbage-dst", port)
check(wait_listening(port, dst), "garbage: the destination listens")
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
check(dst.wait(timeout=WAIT) == 1, "garbage: the destination exits 1")
s.close()
derr = read(os.path.join(tmp, "garbage-dst.err")).decode(errors="replace")
check(one_line(derr) and "not a petrel migration stream" in derr,
      "garbage: one line (%s)" % derr.strip())

# ---- a source that goes away mid-stream ----
port = free_port()
dst = destination("trunc-dst", port)
check(wait_listening(port, dst), "truncated: the destination listens")
s = socket.create_connection(("127.0.0.1", port))
s.sendall(struct.pack("<IIQ", 1, 0, 200) + b"PETRELMG")
s.close()
check(dst.wait(timeout=WAIT) == 1, "truncated: the destination exits 1")
derr = read(os.path.join(tmp, "trunc-dst.err")).decode(errors="replace")
check(one_line(derr) and "closed" in derr, "truncated: one line (%s)" % derr.strip())

if fails:
    print("FAILED: %d checks (files in %s)" % (len(fails), tmp))
    sys.exit(1)
shutil.rmtree(tmp)
print("PASS")
