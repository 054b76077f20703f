#!/usr/bin/env python3
"""The GDB stub at the protocol level, for what gdb's batch mode cannot drive:
Ctrl-C (0x03) stops a spinning 2-vCPU guest, malformed packets get errors or
NAKs and never hurt petrel, and after detach the guest runs on.
   gdb-rsp.py PETREL SPIN.bin"""
import atexit, os, signal, socket, subprocess, sys, time

petrel, guest = sys.argv[1], sys.argv[2]
if not os.path.exists("/dev/kvm"):
    sys.exit("FAIL: /dev/kvm is missing: this test needs KVM")
port = 20000 + os.getpid() % 20000
p = subprocess.Popen([petrel, "run", "--firmware", guest, "--mode", "long", "--test-device", "--cpus", "2",
                      "--serial", "off", "--gdb", f"tcp:127.0.0.1:{port}"],
                     stderr=subprocess.PIPE, text=True)
fails = []
# petrel never outlives the test, whatever fails
atexit.register(lambda: p.poll() is None and p.kill())

def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails.append(what)

# Connect as early as possible: the stub may stop the guest while its vCPU
# threads are still starting, which must not let one of them run on unseen.
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.001)
else:
    p.kill()
    sys.exit("FAIL: the stub never listened")

def send(payload, raw=None):
    data = raw if raw is not None else payload.encode()
    cs = sum(data) & 0xff
    s.sendall(b"$" + data + b"#" + f"{cs:02x}".encode())

def reply(timeout=5):
    """The next packet's payload (acks skipped), or None."""
    s.settimeout(timeout)
    buf = b""
    try:
        while True:
            d = s.recv(1)
            if not d:
                return None
            buf += d
            if buf.lstrip(b"+-").startswith(b"$") and len(buf) >= 3 and buf[-3:-2] == b"#":
                body = buf.lstrip(b"+-")
                return body[1:-3].decode(errors="replace")
    except socket.timeout:
        return None

send("?")
check((reply() or "").startswith("T02thread:"), "attaching stops the guest")
send("qfThreadInfo")
check(reply() == "m1,2", "two threads, one per vCPU")
send("qThreadExtraInfo,2")
check(bytes.fromhex(reply() or "").decode() == "vCPU 1", "thread 2 is vCPU 1")
send("vCont;c")
check(reply(timeout=1) is None, "continue gives no reply while the guest runs")
s.sendall(b"\x03")
r = reply()
check(r is not None and r.startswith("T02thread:"), f"Ctrl-C stops every vCPU ({r})")
# malformed input
s.sendall(b"$m100000,10#00")
s.settimeout(2)
check(s.recv(1) == b"-", "bad checksum is NAKed")
send("mzz,10")
check((reply() or "").startswith("E"), "malformed m is an error")
send("m0,ffffffffffffffff")
r = reply()
check(r is not None, "a huge m length is answered")
send("Z1,100000,1"); reply()
for a in (0x100001, 0x100002, 0x100003):
    send(f"Z1,{a:x},1"); reply()
send("Z1,100004,1")
check((reply() or "").startswith("E"), "a fifth hardware breakpoint is refused")
send("Z9,0,0")
check((reply() or "").startswith("E"), "unknown breakpoint type is an error")
send("Hg99")
check((reply() or "").startswith("E"), "unknown thread is an error")
send("", raw=b"x" * 20000)
check(p.poll() is None, "an oversize packet leaves petrel running")
send("D")
check(reply() == "OK", "detach")
s.close()
time.sleep(0.5)
check(p.poll() is None, "the guest runs on after detach")
p.send_signal(signal.SIGTERM)
try:
    rc = p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    rc = None
check(rc == 128 + signal.SIGTERM, f"SIGTERM stops petrel ({rc})")
print("PASS: gdb protocol" if not fails else f"{len(fails)} failures")
sys.exit(1 if fails else 0)
