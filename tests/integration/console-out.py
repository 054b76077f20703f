#!/usr/bin/env python3
"""Console output never holds petrel: a --serial file stops at --serial-max,
and a stdout pipe that nobody reads does not keep SIGTERM from ending petrel.
   console-out.py PETREL FLOOD_SERIAL.bin"""
import array, fcntl, os, shutil, signal, subprocess, sys, tempfile, termios, time

petrel, guest = sys.argv[1], sys.argv[2]
if not os.path.exists("/dev/kvm"):
    sys.exit("FAIL: /dev/kvm is missing: this test needs KVM")
F_SETPIPE_SZ = 1031
fails = 0


def check(cond, what):
    global fails
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    fails += not cond


def ended(p, secs):
    try:
        return p.wait(timeout=secs)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


d = tempfile.mkdtemp(prefix="petrel-console-")
log = os.path.join(d, "serial.log")
err = os.path.join(d, "stderr")
base = [petrel, "run", "--firmware", guest, "--mode", "long"]

# A file capped at 2 KiB: it reaches the cap and stays there.
with open(err, "wb") as e:
    p = subprocess.Popen(base + ["--serial", f"file={log}", "--serial-max", "2K"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=e)
deadline = time.monotonic() + 30
while time.monotonic() < deadline and p.poll() is None:
    if os.path.exists(log) and os.path.getsize(log) >= 2048:
        break
    time.sleep(0.01)
check(os.path.exists(log) and os.path.getsize(log) == 2048, "the serial file reaches its 2 KiB cap")
p.send_signal(signal.SIGTERM)
check(ended(p, 10) == 128 + signal.SIGTERM, "SIGTERM ends petrel")
check(os.path.getsize(log) == 2048, f"the file stays at its cap ({os.path.getsize(log)} bytes)")
check("console output were dropped" in open(err).read(), "petrel says output was dropped")

# stdout is a pipe of one page that nobody reads: it fills at once.
r, w = os.pipe()
fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
p = subprocess.Popen(base, stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.DEVNULL)
os.close(w)
filled = False
deadline = time.monotonic() + 30
while time.monotonic() < deadline and p.poll() is None:
    # full: the pipe holds a page the reader never took
    buf = array.array("i", [0])
    fcntl.ioctl(r, termios.FIONREAD, buf, True)
    if buf[0] >= 4096:
        filled = True
        break
    time.sleep(0.01)
check(filled, "the unread pipe fills")
t = time.monotonic()
p.send_signal(signal.SIGTERM)
rc = ended(p, 10)
check(rc == 128 + signal.SIGTERM, f"SIGTERM ends petrel with its stdout full ({rc}, "
      f"{time.monotonic() - t:.1f} s)")
os.close(r)
shutil.rmtree(d, ignore_errors=True)
sys.exit(1 if fails else 0)
