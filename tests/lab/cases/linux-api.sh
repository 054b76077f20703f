#!/bin/bash
# The control API on a UNIX socket, with the Linux test guest.
# Firecracker's: `petrel api` configured entirely through requests (2 vCPUs,
# 256 MiB, kernel, initramfs and boot args, two disks, a NIC on a TAP,
# entropy), InstanceStart; the guest writes and reads its disk and sends to the
# host in rounds while the VM is paused and resumed three times (GET / says
# Paused, then Running; no console output while paused); PATCH /drives swaps
# the second disk's image for a bigger one, the guest sees the new size and
# content; SendCtrlAltDel makes the guest power off, petrel exits 0 and removes
# its socket; the disk's slots hold what the guest wrote and the host received
# what it sent. Cloud Hypervisor's: vm.create, vm.boot, vm.info Running, paused
# and resumed, vm.power-button pressed (this guest has no button driver: it goes
# on), the guest powers off, petrel exits 0.
source "$(dirname "$0")/../linux-lib.sh"

work=$(mktemp -d /tmp/petrel-api.XXXXXX) # tmpfs inside the lab: sockets work here
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		{ kill -9 "$p" && wait "$p"; } 2>/dev/null || true
	done
	ip link del pa0 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "$0")/../api-lib.sh"

# ---- Firecracker's API ----
ip tuntap add dev pa0 mode tap
ip addr add 10.0.2.1/24 dev pa0
ip link set pa0 up
# the host's end: one connection per round, the md5 and size of each
cat >"$work/sink.py" <<'EOF'
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.2.1", 5001))
s.listen(8)
with open(sys.argv[1], "a") as f:
    while True:
        c, _ = s.accept()
        c.settimeout(60)
        h, n = hashlib.md5(), 0
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                h.update(b)
                n += len(b)
        except OSError as e:
            print("error", e, file=f, flush=True)
        c.close()
        print(h.hexdigest(), n, file=f, flush=True)
EOF
: >"$work/received.txt"
python3 "$work/sink.py" "$work/received.txt" 2>"$work/sink.err" &
pids+=($!)

truncate -s 32M "$work/vda.img"
printf 'petrel-disk-one\n' >"$work/one.img"
truncate -s 4M "$work/one.img"
printf 'petrel-disk-two\n' >"$work/two.img"
truncate -s 12M "$work/two.img"

name=fc
out=$out_dir/fc.out
sock=/tmp/fc.sock
rm -f "$sock"
: >"$out"
start=$SECONDS
"$petrel" api --api-sock "$sock" </dev/null >"$out" 2>"$out_dir/fc.err" &
pid=$!
pids+=($pid)
wait_sock "$sock" $pid
state_is "$sock" "Not started"
call "$sock" PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}' 204
call "$sock" PUT /boot-source "{\"kernel_image_path\": \"$KERNEL\", \"initrd_path\": \"$INITRAMFS\",
	\"boot_args\": \"quiet petrel.action=workload petrel.ip=10.0.2.2/24 petrel.peer=10.0.2.1\"}" 204
call "$sock" PUT /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$work/vda.img\",
	\"is_root_device\": true, \"is_read_only\": false}" 204
call "$sock" PUT /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$work/one.img\",
	\"is_root_device\": false, \"is_read_only\": false}" 204
call "$sock" PUT /network-interfaces/eth0 \
	'{"iface_id": "eth0", "host_dev_name": "pa0", "guest_mac": "52:54:00:a9:00:01"}' 204
call "$sock" PUT /entropy '{}' 204
call "$sock" GET /vm/config "" 200
grep -q '"vcpu_count": *2' <<<"$body" && grep -q '"mem_size_mib": *256' <<<"$body" &&
	grep -q '"host_dev_name": *"pa0"' <<<"$body" || api_fail "GET /vm/config: '$body'"
call "$sock" PUT /actions '{"action_type": "InstanceStart"}' 204
state_is "$sock" Running
guest_line '^petrel-guest: round 3 ' 150
echo "fc: the guest ran 3 rounds $((SECONDS - start))s after petrel started"
tr -d '\r' <"$out" | grep -a '^petrel-guest:' | grep -v ' round ' | sed 's/^/  /' || true
seen '^petrel-guest: cpus 2$' || api_fail "the guest does not see 2 CPUs"
mem=$(tr -d '\r' <"$out" | sed -n 's/^petrel-guest: memory \([0-9]*\) kB$/\1/p')
[ -n "$mem" ] && [ "$mem" -gt 200000 ] && [ "$mem" -le 262144 ] ||
	api_fail "the guest sees ${mem:-no} kB of memory, expected about 256 MiB"
for l in '^petrel-guest: disk vda 32 MiB$' '^petrel-guest: disk vdb 4 MiB$' \
	'^petrel-guest: net eth0 52:54:00:a9:00:01$' '^petrel-guest: hwrng virtio' \
	'^petrel-guest: net-up 10.0.2.2/24$' '^petrel-guest: vdb 8192 sectors: petrel-disk-one$'; do
	seen "$l" || api_fail "no console line matching '$l'"
done

# Paused three times: GET / says so, the console stands still, then goes on.
for n in 1 2 3; do
	call "$sock" PATCH /vm '{"state": "Paused"}' 204
	state_is "$sock" Paused
	before=$(stat -c %s "$out")
	r=$(rounds)
	t=$SECONDS
	# an observation window, not a wait for an event: nothing may happen in it
	sleep 3
	after=$(stat -c %s "$out")
	[ "$after" = "$before" ] ||
		api_fail "pause $n: the console grew from $before to $after bytes while paused"
	call "$sock" PATCH /vm '{"state": "Resumed"}' 204
	state_is "$sock" Running
	guest_line '^petrel-guest: round ' 60 $((r + 2))
	echo "pause $n: after round $r, $((SECONDS - t))s to 2 more rounds after resuming"
done

# The second disk's image swapped for one of 12 MiB with other content.
call "$sock" PATCH /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$work/two.img\"}" 204
guest_line '^petrel-guest: vdb resized' 60
seen '^petrel-guest: vdb resized to 24576 sectors: petrel-disk-two$' ||
	api_fail "after PATCH /drives: '$(grep -a '^petrel-guest: vdb resized' "$out")'"
call "$sock" GET /vm/config "" 200
grep -q "two.img" <<<"$body" || api_fail "GET /vm/config does not show the new image: '$body'"
r=$(rounds)
guest_line '^petrel-guest: round ' 60 $((r + 2))

# Ctrl-Alt-Del: the guest's init powers off; petrel exits 0 and removes its socket.
call "$sock" PUT /actions '{"action_type": "SendCtrlAltDel"}' 204
t=$SECONDS
wait_pid $pid 60 || api_fail "petrel still runs 60s after SendCtrlAltDel"
status=0
wait $pid || status=$?
echo "fc: powered off $((SECONDS - t))s after SendCtrlAltDel, status $status, $(rounds) rounds"
seen '^petrel-guest: ctrl-alt-del, powering off' ||
	api_fail "the guest did not report Ctrl-Alt-Del"
expect_status 0 "poweroff after Ctrl-Alt-Del"
[ ! -e "$sock" ] || api_fail "petrel left its socket $sock"

# Each round's read matched its write; each slot holds its last write; the
# host received each round's block.
tr -d '\r' <"$out" | grep -a '^petrel-guest: round ' | awk '
	$6 != "wrote" || $8 != "read" || $10 != "net" { print "malformed: " $0; bad = 1; next }
	$7 != $9 { print "read differs: " $0; bad = 1 }
	$11 != 0 { print "send failed: " $0; bad = 1 }
	END { exit bad }' || api_fail "the rounds went wrong"
tr -d '\r' <"$out" | grep -a '^petrel-guest: round ' | awk '{ last[$5] = $7 } END { for (s in last) print s, last[s] }' |
	sort -n >"$work/slots.txt" || true
[ -s "$work/slots.txt" ] || api_fail "the guest reported no rounds with disk writes"
while read -r slot sum; do
	got=$(dd if="$work/vda.img" bs=65536 skip="$slot" count=1 status=none | md5sum | cut -d' ' -f1)
	[ "$got" = "$sum" ] || api_fail "slot $slot of the image has md5 $got, the guest wrote $sum"
	grep -q "^$sum 65536$" "$work/received.txt" || api_fail "the host did not receive slot $slot's block ($sum)"
done <"$work/slots.txt"
echo "fc: $(wc -l <"$work/slots.txt") slots match the image, $(grep -c ' 65536$' "$work/received.txt") blocks received"

# ---- Cloud Hypervisor's API ----
name=ch
out=$work/ch.console
sock=/tmp/ch.sock
rm -f "$sock"
: >"$out"
"$petrel" api --api-sock "$sock" </dev/null >"$out_dir/ch.out" 2>"$out_dir/ch.err" &
pid=$!
pids+=($pid)
wait_sock "$sock" $pid
t=$SECONDS
call "$sock" PUT /api/v1/vm.create "{\"cpus\": {\"boot_vcpus\": 1, \"max_vcpus\": 1},
	\"memory\": {\"size\": $((256 << 20))},
	\"payload\": {\"kernel\": \"$KERNEL\", \"initramfs\": \"$INITRAMFS\",
		\"cmdline\": \"console=ttyS0 quiet petrel.action=workload petrel.rounds=20\"},
	\"rng\": {\"src\": \"/dev/urandom\"},
	\"serial\": {\"mode\": \"File\", \"file\": \"$out\"}, \"console\": {\"mode\": \"Off\"}}" 204
ch_state() {
	call "$sock" GET /api/v1/vm.info "" 200
	grep -q "\"state\": *\"$1\"" <<<"$body" || api_fail "vm.info says '$body', expected state $1"
}
ch_state Created
call "$sock" PUT /api/v1/vm.boot "" 204
guest_line '^petrel-guest: round 1' 150
ch_state Running
call "$sock" PUT /api/v1/vm.pause "" 204
ch_state Paused
call "$sock" PUT /api/v1/vm.resume "" 204
ch_state Running
call "$sock" PUT /api/v1/vm.power-button "" 204
tr -d '\r' <"$out" | grep -a '^petrel-guest:' | grep -v ' round ' | sed 's/^/  /' || true
seen '^petrel-guest: cpus 1$' || api_fail "the guest does not see 1 CPU"
seen '^petrel-guest: hwrng virtio' || api_fail "the guest has no virtio-rng"
wait_pid $pid 90 || api_fail "petrel still runs 90s after the guest's first round (of 20)"
status=0
wait $pid || status=$?
expect_status 0 "poweroff"
seen '^petrel-guest: round 20$' && seen '^petrel-guest: powering off' ||
	api_fail "the guest did not end its 20 rounds and power off"
[ ! -e "$sock" ] || api_fail "petrel left its socket $sock"
echo "ch: status $status, $((SECONDS - t))s from vm.create"
echo "PASS"
