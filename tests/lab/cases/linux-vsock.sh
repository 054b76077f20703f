#!/bin/bash
# virtio-vsock with Firecracker's hybrid vsock. The guest's kernel binds its
# vsock transport to petrel's device and learns its cid; ten guest processes
# stream 64 MiB each at once to host port 5000 (a Python server on the UNIX
# socket UDS_5000 answers each stream's CRC-32, which the guest compares); a
# connection to host port 5999, where nobody listens, is refused; the host
# closes port 5001 mid-stream and the guest's writes fail instead of
# hanging. Then the host connects to UDS, asks "CONNECT 6000", reads "OK
# <port>", streams 64 MiB to the guest's listener and compares the guest's
# CRC-32; "CONNECT 6001" (no listener) gets its socket closed without "OK".
# petrel's --stats shows the device; UDS is gone after petrel exits.
# lab-timeout: 420
source "$(dirname "$0")/../linux-lib.sh"

tool=$build/tests/guest-linux/vsock-test
[ -x "$tool" ] || fail "$tool is missing (the plain build makes it)"
command -v python3 >/dev/null || fail "python3 is needed on the lab's host"

work=$(mktemp -d /tmp/petrel-vsock.XXXXXX) # sockets work here
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		{ kill -9 "$p" && wait "$p"; } 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
uds=$work/v.sock

# The host's end: servers on UDS_PORT, clients of UDS.
cat >"$work/host.py" <<'EOF'
import os, socket, sys, threading, zlib

def serve(path):
    """Every stream to PATH: read to its end, answer SUM <crc32> <bytes>."""
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(path)
    ls.listen(64)
    def one(c):
        crc, n = 0, 0
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            crc = zlib.crc32(b, crc)
            n += len(b)
        c.sendall(b"SUM %08x %d\n" % (crc, n))
        c.close()
        print("host: stream of %d bytes, crc %08x" % (n, crc), flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()

def cut(path, limit):
    """The first stream to PATH: read LIMIT bytes, then close it."""
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(path)
    ls.listen(4)
    c, _ = ls.accept()
    n = 0
    while n < limit:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    c.close()
    print("host: cut after %d bytes" % n, flush=True)
    ls.accept()[0].close()  # anything later: closed too

def line(s):
    out = b""
    while not out.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            break
        out += b
    return out.decode(errors="replace").strip()

def connect(uds, port, mib):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(120)
    s.connect(uds)
    s.sendall(b"CONNECT %d\n" % port)
    ok = line(s)
    if not ok.startswith("OK ") or not ok[3:].isdigit():
        print("host: CONNECT %d answered %r" % (port, ok))
        return 1
    block = os.urandom(1 << 20)
    crc = 0
    for i in range(mib):
        b = bytes([i & 0xff]) + block[1:]
        crc = zlib.crc32(b, crc)
        s.sendall(b)
    s.shutdown(socket.SHUT_WR)
    got = line(s)
    want = "SUM %08x %d" % (crc, mib << 20)
    print("host: CONNECT %d: %s, guest says %r, sent %r" % (port, ok, got, want))
    return 0 if got == want else 1

def refused(uds, port):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(uds)
    s.sendall(b"CONNECT %d\n" % port)
    try:
        got = s.recv(64)
    except ConnectionResetError:
        got = b""
    print("host: CONNECT %d (no listener) answered %r" % (port, got))
    return 0 if got == b"" else 1

cmd = sys.argv[1]
if cmd == "serve":
    serve(sys.argv[2])
elif cmd == "cut":
    cut(sys.argv[2], int(sys.argv[3]))
elif cmd == "connect":
    sys.exit(connect(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
elif cmd == "refused":
    sys.exit(refused(sys.argv[2], int(sys.argv[3])))
EOF

python3 "$work/host.py" serve "${uds}_5000" >"$out_dir/vsock-host-serve.log" 2>&1 &
pids+=($!)
python3 "$work/host.py" cut "${uds}_5001" $((1 << 20)) >"$out_dir/vsock-host-cut.log" 2>&1 &
pids+=($!)
for s in "${uds}_5000" "${uds}_5001"; do
	for _ in $(seq 50); do [ -S "$s" ] && break; sleep 0.1; done
	[ -S "$s" ] || fail "the host's server on $s did not start"
done

# The test initramfs with /bin/vsock-test and a /test.sh that runs it appended.
tree=$work/tree
mkdir -p "$tree/bin"
cp "$tool" "$tree/bin/vsock-test"
cat >"$tree/test.sh" <<'EOF'
#!/bin/sh
/bin/vsock-test cid
/bin/vsock-test send 5000 64 10
echo "petrel-guest: vsock send exit $?"
/bin/vsock-test connect 5999
/bin/vsock-test cut 5001
echo "petrel-guest: vsock cut exit $?"
/bin/vsock-test listen 6000 1
echo "petrel-guest: vsock listen exit $?"
EOF
chmod 755 "$tree/bin/vsock-test" "$tree/test.sh"
initrd=$out_dir/vsock-initramfs.cpio.gz
{
	cat "$INITRAMFS"
	(cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1)
} >"$initrd"

name=vsock
out=$out_dir/$name.out
err=$out_dir/$name.err
: >"$out"
timeout -k 5 360 "$petrel" run --kernel "$KERNEL" --initramfs "$initrd" --memory 512M --cpus 2 \
	--vsock cid=52,uds="$uds" --stats --serial "file=$out" \
	--cmdline "petrel.action=script" </dev/null 2>"$err" &
pid=$!
pids+=("$pid")

# the host's turn comes once the guest listens on 6000
if ! wait_line "$out" '^petrel-guest: vsock listening 6000' 1 300; then
	tail -n 30 "$out" "$err" "$out_dir"/vsock-host-*.log
	fail "the guest did not get to its listener (see above)"
fi
[ -S "$uds" ] || fail "petrel's UDS $uds is not a socket"
python3 "$work/host.py" refused "$uds" 6001 || refused_bad=1
python3 "$work/host.py" connect "$uds" 6000 64 || connect_bad=1

if ! wait_pid $pid 120; then
	tail -n 30 "$out" "$err"
	fail "the guest did not power off"
fi
status=0
wait $pid || status=$?
tr -d '\r' <"$out" >"$out.txt"
mv "$out.txt" "$out"
grep -a '^petrel-guest: vsock' "$out" | sed 's/^/  /'
sed 's/^/  host: /' "$out_dir"/vsock-host-cut.log
grep 'virtio-vsock' "$err" | sed 's/^/  stderr: /'
expect_status 0 "the guest powers off after its vsock checks"
line '^petrel-guest: vsock cid 52$'
[ "$(count_lines "$out" '^petrel-guest: vsock send [0-9]+ ok ')" = 10 ] ||
	fail "not all ten guest-to-host streams arrived intact"
line '^petrel-guest: vsock send done 10 of 10 ok$'
line '^petrel-guest: vsock connect 5999 refused '
line '^petrel-guest: vsock cut 5001 ended after [0-9]+ bytes: '
line '^petrel-guest: vsock cut exit 0$'
line '^petrel-guest: vsock listen 6000 got [0-9a-f]{8} 67108864$'
line '^petrel-guest: vsock listen exit 0$'
[ -z "${refused_bad:-}" ] || fail "CONNECT to a port without a listener was not refused"
[ -z "${connect_bad:-}" ] || fail "the host-to-guest stream did not arrive intact"
grep -q '^petrel: virtio-vsock 0: ' "$err" || fail "--stats does not show the vsock device"
[ ! -e "$uds" ] || fail "petrel left its UDS $uds behind"
if grep -aqE 'Kernel panic|BUG:|Oops' "$out"; then fail "the guest kernel complained"; fi
echo "PASS"
