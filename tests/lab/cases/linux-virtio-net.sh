#!/bin/bash
# virtio-net on TAPs: two NICs, one with the MAC derived from its TAP's name
# and one with mac=; the guest and the host ping each other over both; 100 MiB
# go each way over TCP with matching checksums; the NICs are on MSI-X, with
# four disks in the same machine. A bad
# --net is a usage error; a TAP that cannot be used (not a TAP, in use) is a
# start-up error that names it.
source "$(dirname "$0")/../linux-lib.sh"
eval "$("$root/scripts/guest-kernel.sh" --print-vars "$build/guest-cache")" # BUSYBOX: its ping

size=$((100 << 20))
work=$(mktemp -d /tmp/petrel-net.XXXXXX) # tmpfs inside the lab
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	ip link del pt0 2>/dev/null || true
	ip link del pt1 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

for i in 0 1; do
	ip tuntap add dev pt$i mode tap
	ip addr add 10.0.$i.1/24 dev pt$i
	ip link set pt$i up
done

# The host's end of the transfers: one connection, then report bytes and time.
# "recv" reads until the guest's end of stream; "send" sends the file, ends its
# half of the stream and waits for the guest to close.
cat >"$work/peer.py" <<'EOF'
import socket, sys, time
mode, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.1", port))
s.listen(1)
s.settimeout(280)
c, _ = s.accept()
c.settimeout(120)
start = time.monotonic()
n = 0
if mode == "recv":
    with open(path, "wb") as f:
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            f.write(b)
            n += len(b)
else:
    with open(path, "rb") as f:
        n = c.sendfile(f)
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
secs = time.monotonic() - start
print(f"{mode} {n} bytes in {secs:.1f}s ({n / secs / (1 << 20):.1f} MiB/s)", flush=True)
c.close()
EOF
head -c $size /dev/urandom >"$work/to-guest.bin"
to_guest_md5=$(md5sum <"$work/to-guest.bin" | cut -d' ' -f1)
python3 "$work/peer.py" recv 5001 "$work/from-guest.bin" >"$work/recv.txt" 2>&1 &
pids+=($!)
python3 "$work/peer.py" send 5002 "$work/to-guest.bin" >"$work/send.txt" 2>&1 &
pids+=($!)
# UDP datagrams as fast as the host can send them, for three seconds: the
# guest's receive ring runs dry again and again
cat >"$work/flood.py" <<'EOF'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.monotonic() + 3
n = 0
while time.monotonic() < end:
    for _ in range(64):
        s.sendto(b"x" * 1400, ("10.0.0.2", 9))
        n += 1
print(f"flood: {n} datagrams sent", flush=True)
EOF
: >"$out_dir/net.out"
# the host pings the guest once its addresses are up, and floods it when asked
(
	wait_line "$out_dir/net.out" '^net-up' 1 200 || exit 1
	for a in 10.0.0.2 10.0.1.2; do
		"$BUSYBOX" ping -c 3 -W 5 "$a" >"$work/ping-$a.txt" 2>&1 && echo ok >>"$work/ping-$a.txt"
	done
	wait_line "$out_dir/net.out" '^flood-now' 1 240 || exit 1
	python3 "$work/flood.py" >"$work/flood.txt" 2>&1
) &
pids+=($!)

for d in a b c d; do
	printf 'petrel-vd%s' $d >"$work/vd$d.img"
	truncate -s 4M "$work/vd$d.img"
done

# The commands go into a script first and run once all of them were typed:
# the console's echo of typed-ahead input then cannot mix with their output.
SHELL_DONE_TIMEOUT=240 guest_shell net "$(
	cat <<EOF
cat >/tmp/t.sh <<'END'
sleep 2
ip link set eth0 up && ip addr add 10.0.0.2/24 dev eth0 && ip link set eth1 up && ip addr add 10.0.1.2/24 dev eth1 && echo net-up
echo "eth0-mac \$(cat /sys/class/net/eth0/address)"; echo "eth1-mac \$(cat /sys/class/net/eth1/address)"
ping -c 3 -W 5 10.0.0.1 >/tmp/p0; echo "ping0 \$? \$(grep -c 'bytes from' /tmp/p0)"
ping -c 3 -W 5 10.0.1.1 >/tmp/p1; echo "ping1 \$? \$(grep -c 'bytes from' /tmp/p1)"
echo "msix \$(grep -c 'PCI-MSI.*virtio' /proc/interrupts)"
echo "disks \$(ls /sys/block | grep vd | tr '\n' ' ')"; for d in a b c d; do echo "disk-vd\$d \$(head -c 12 /dev/vd\$d)"; done
head -c $size /dev/urandom >/tmp/out.bin; md5sum /tmp/out.bin
t0=\$(cut -d' ' -f1 /proc/uptime); nc 10.0.0.1 5001 </tmp/out.bin >/dev/null; st=\$?; t1=\$(cut -d' ' -f1 /proc/uptime); echo "to-host \$st \$t0 \$t1"
t0=\$(cut -d' ' -f1 /proc/uptime); nc 10.0.0.1 5002 </dev/null >/tmp/in.bin; st=\$?; t1=\$(cut -d' ' -f1 /proc/uptime); echo "from-host \$st \$t0 \$t1"
md5sum /tmp/in.bin
echo flood-now; sleep 5; ping -c 3 -W 5 10.0.0.1 >/tmp/p2; echo "ping-after-flood \$? \$(grep -c 'bytes from' /tmp/p2)"
rmmod virtio_net && insmod /lib/modules/virtio_net.ko && sleep 1 && ip link set eth0 up && ip addr add 10.0.0.2/24 dev eth0 && echo reloaded
ping -c 3 -W 5 10.0.0.1 >/tmp/p3; echo "ping-after-reload \$? \$(grep -c 'bytes from' /tmp/p3)"
END
sh /tmp/t.sh </dev/null
EOF
)" --net tap=pt0 --net tap=pt1,mac=52:54:00:12:34:56 --memory 1G \
	--disk "path=$work/vda.img" --disk "path=$work/vdb.img" --disk "path=$work/vdc.img" --disk "path=$work/vdd.img"
expect_status 0 "poweroff"
line '^net-up'
# pt0 has no mac=: 52:54:00 and three bytes of FNV-1a("pt0")
line '^eth0-mac 52:54:00:75:e4:23$'
line '^eth1-mac 52:54:00:12:34:56$'
line '^ping0 0 3$'
line '^ping1 0 3$'
# config, input and output vectors of each NIC, config and request vectors of each disk
line '^msix 14$'
# four disks next to the two NICs
line '^disks vda vdb vdc vdd $'
for d in a b c d; do line "^disk-vd$d petrel-vd$d\$"; done
guest_md5=$(grep -aE '^[0-9a-f]{32}  /tmp/out.bin' "$out" | cut -d' ' -f1)
[ -n "$guest_md5" ] || fail "the guest did not checksum its file"
line '^to-host 0 '
line '^from-host 0 '
line "^$to_guest_md5  /tmp/in.bin\$"
line '^ping-after-flood 0 3$'
# a driver reset with buffers held, then a new driver
line '^reloaded'
line '^ping-after-reload 0 3$'
wait "${pids[0]}" "${pids[1]}" || true
from_guest_md5=$(md5sum <"$work/from-guest.bin" | cut -d' ' -f1)
[ "$from_guest_md5" = "$guest_md5" ] ||
	fail "guest to host: the host got $(stat -c %s "$work/from-guest.bin") bytes, md5 $from_guest_md5, the guest sent $guest_md5"
echo "guest to host: $(cat "$work/recv.txt")"
echo "host to guest: $(cat "$work/send.txt")"
awk '/^(to|from)-host 0 / {printf "guest timing: %s %.1fs\n", $1, $4 - $3}' "$out"
cat "$work/flood.txt"
sed 's/^/petrel stderr: /' "$out_dir/net.err"
for a in 10.0.0.2 10.0.1.2; do
	grep -q '^ok$' "$work/ping-$a.txt" 2>/dev/null || {
		cat "$work/ping-$a.txt" 2>/dev/null
		fail "the host could not ping the guest at $a"
	}
done

# A bad specification is a usage error naming the option (each run bounded:
# a petrel that does not give up is a failure, not a wedged lab).
echo "checking refusals"
err=$(timeout -k 5 60 "$petrel" run --kernel "$KERNEL" --net tap=name-of-16-chars </dev/null 2>&1 >/dev/null) && st=0 || st=$?
[ "$st" = 2 ] && grep -q -- '--net tap=name-of-16-chars' <<<"$err" || fail "long TAP name: status $st, '$err'"
err=$(timeout -k 5 60 "$petrel" run --kernel "$KERNEL" --net tap=pt0,mac=01:00:5e:00:00:01 </dev/null 2>&1 >/dev/null) && st=0 || st=$?
[ "$st" = 2 ] && grep -q 'mac=' <<<"$err" || fail "multicast MAC: status $st, '$err'"
# An interface that is not a TAP, and a TAP in use, are start-up errors naming it.
err=$(timeout -k 5 60 "$petrel" run --kernel "$KERNEL" --net tap=lo </dev/null 2>&1 >/dev/null) && st=0 || st=$?
[ "$st" = 1 ] && grep -q -- '--net tap=lo:' <<<"$err" || fail "not a TAP: status $st, '$err'"
echo "checking a TAP in use"
"$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --serial off --net tap=pt0 \
	</dev/null >/dev/null 2>&1 &
first=$!
pids+=($first)
# a TAP has its carrier while a process holds it
for _ in $(seq 300); do
	ip link show pt0 | grep -q LOWER_UP && break
	sleep 0.1
done
err=$(timeout -k 5 60 "$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --serial off --net tap=pt0 \
	</dev/null 2>&1 >/dev/null) && st=0 || st=$?
echo "second petrel: status $st"
kill -9 $first 2>/dev/null || true
wait $first 2>/dev/null || true
[ "$st" = 1 ] && grep -q 'tap=pt0.*in use' <<<"$err" || fail "TAP in use: status $st, '$err'"
echo "PASS"
