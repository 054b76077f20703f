#!/bin/bash
# Snapshots of a running Linux guest through Firecracker's API. A 2-vCPU
# guest with a disk, a NIC, entropy and 32 MiB of random data in its RAM runs
# the workload (disk writes synced, a block sent to the host, the RAM data
# checked, its uptime, every round); paused and snapshotted, its petrel
# killed. A fresh petrel loads the snapshot with dirty page tracking and
# resumes: the guest goes on from its next round (its uptime continues, no
# reboot), its RAM data is intact, its disk writes after the restore land in
# the image, the network works, and its kernel reports no soft lockup, RCU
# stall or clocksource trouble. A diff snapshot of that guest, merged onto
# the first memory file, restores too; the first snapshot restores a second
# time as a clone on another TAP and a copy of the disk; a corrupted
# snapshot is refused with 400 and leaves that petrel able to load another.
# lab-timeout: 900
source "$(dirname "$0")/../linux-lib.sh"

work=$(mktemp -d /tmp/petrel-snap.XXXXXX) # tmpfs inside the lab: sockets work here
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		{ kill -9 "$p" && wait "$p"; } 2>/dev/null || true
	done
	ip link del ps0 2>/dev/null || true
	ip link del ps1 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

API_MAX_TIME=120
source "$(dirname "$0")/../api-lib.sh"

# the console's complete lines (a snapshot can stop the guest in the middle of one)
complete() { head -n "$(wc -l <"$out")" "$out" | tr -d '\r'; }
# the last round's number and uptime on the console
last_round() { tr -d '\r' <"$out" | grep -a '^petrel-guest: round ' | tail -n 1 | awk '{print $3}'; }
last_up() { complete | grep -a '^petrel-guest: round ' | tail -n 1 | awk '{print $NF}'; }

# start NAME: a fresh `petrel api` on $work/NAME.sock, console in $out_dir/NAME.out
start() {
	name=$1
	out=$out_dir/$1.out
	sock=$work/$1.sock
	: >"$out"
	"$petrel" api --api-sock "$sock" </dev/null >"$out" 2>"$out_dir/$1.err" &
	pid=$!
	pids+=($pid)
	wait_sock "$sock" $pid
}

# check_rounds [restored]: every round read what it wrote, sent its block, found
# its RAM data; the kernel complained of nothing (and a restored guest never booted)
check_rounds() {
	complete | grep -a '^petrel-guest: round ' | awk '
		$6 != "wrote" || $8 != "read" || $10 != "net" || $12 != "mem" { print "malformed: " $0; bad = 1; next }
		$7 != $9 { print "read differs: " $0; bad = 1 }
		$11 != 0 { print "send failed: " $0; bad = 1 }
		$13 != "ok" { print "memory lost: " $0; bad = 1 }
		$14 != "cpus" || $15 != "ok" { print "a CPU timer stopped: " $0; bad = 1 }
		END { exit bad }' || api_fail "the rounds went wrong on $name"
	for bad in 'soft lockup' 'rcu.*stall' 'clocksource.*(unstable|watchdog|skew)' \
		'Kernel panic' 'BUG:' 'Oops' ${1:+'petrel-guest: init started'}; do
		if tr -d '\r' <"$out" | grep -aiE "$bad" >/dev/null; then
			tr -d '\r' <"$out" | grep -aiE "$bad" | head -3
			api_fail "$name's console matches '$bad'"
		fi
	done
}

# stop_guest: Ctrl-Alt-Del, the guest powers off, petrel exits 0
stop_guest() {
	call "$sock" PUT /actions '{"action_type": "SendCtrlAltDel"}' 204
	wait_pid $pid 90 || api_fail "$name still runs 90s after SendCtrlAltDel"
	status=0
	wait $pid || status=$?
	expect_status 0 "$name: poweroff after Ctrl-Alt-Del"
}

# slots_match IMAGE: the image holds each slot's last write of this console
slots_match() {
	tr -d '\r' <"$out" | grep -a '^petrel-guest: round ' |
		awk '{ last[$5] = $7 } END { for (s in last) print s, last[s] }' >"$work/slots.txt"
	[ -s "$work/slots.txt" ] || api_fail "$name reported no rounds"
	while read -r slot sum; do
		got=$(dd if="$1" bs=65536 skip="$slot" count=1 status=none | md5sum | cut -d' ' -f1)
		[ "$got" = "$sum" ] || api_fail "$name: slot $slot of $1 has md5 $got, the guest wrote $sum"
	done <"$work/slots.txt"
}

for t in ps0 ps1; do
	ip tuntap add dev $t mode tap
	ip link set $t up
done
ip addr add 10.0.4.1/24 dev ps0
# the host's end: accept and drain
cat >"$work/sink.py" <<'EOF'
import socket, sys, threading
def serve(addr):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 5001))
    s.listen(8)
    while True:
        c, _ = s.accept()
        while c.recv(65536):
            pass
        c.close()
for a in sys.argv[1:]:
    threading.Thread(target=serve, args=(a,), daemon=True).start()
threading.Event().wait()
EOF
python3 "$work/sink.py" 10.0.4.1 2>"$work/sink.err" &
pids+=($!)
truncate -s 32M "$work/vda.img"

# ---- the guest, snapshotted ----
start a
call "$sock" PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}' 204
call "$sock" PUT /boot-source "{\"kernel_image_path\": \"$KERNEL\", \"initrd_path\": \"$INITRAMFS\",
	\"boot_args\": \"quiet petrel.action=workload petrel.memcheck=32 petrel.ip=10.0.4.2/24 petrel.peer=10.0.4.1\"}" 204
call "$sock" PUT /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$work/vda.img\",
	\"is_root_device\": true, \"is_read_only\": false}" 204
call "$sock" PUT /network-interfaces/eth0 \
	'{"iface_id": "eth0", "host_dev_name": "ps0", "guest_mac": "52:54:00:5a:00:01"}' 204
call "$sock" PUT /entropy '{}' 204
call "$sock" PUT /actions '{"action_type": "InstanceStart"}' 204
guest_line '^petrel-guest: round 4 ' 240
call "$sock" PUT /snapshot/create "{\"snapshot_path\": \"$work/s1.state\", \"mem_file_path\": \"$work/s1.mem\"}" 400
grep -q "fault_message" <<<"$body" || api_fail "a snapshot of a running VM: '$body'"
call "$sock" PATCH /vm '{"state": "Paused"}' 204
t=$SECONDS
call "$sock" PUT /snapshot/create "{\"snapshot_type\": \"Full\", \"snapshot_path\": \"$work/s1.state\",
	\"mem_file_path\": \"$work/s1.mem\"}" 204
echo "a: snapshot taken in $((SECONDS - t))s: state $(stat -c %s "$work/s1.state") bytes," \
	"memory $(($(stat -c %b "$work/s1.mem") * 512 / 1048576)) MiB allocated of $(($(stat -c %s "$work/s1.mem") / 1048576))"
cp --sparse=always "$work/vda.img" "$work/clone.img"
a_round=$(last_round)
a_up=$(last_up)
check_rounds
kill -9 $pid
wait $pid 2>/dev/null || true
echo "a: snapshotted after round $a_round (uptime $a_up s), then killed"

# ---- restored in a new petrel, with dirty page tracking ----
start b
t=$SECONDS
call "$sock" PUT /snapshot/load "{\"snapshot_path\": \"$work/s1.state\",
	\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$work/s1.mem\"},
	\"track_dirty_pages\": true, \"resume_vm\": true}" 204
call "$sock" GET / "" 200
grep -q '"state": *"Running"' <<<"$body" || api_fail "after the load, GET / says '$body'"
guest_line '^petrel-guest: round ' 240 3
echo "b: 3 rounds $((SECONDS - t))s after the load"
first=$(tr -d '\r' <"$out" | grep -a '^petrel-guest: round ' | head -n 1)
b_first=$(awk '{print $3}' <<<"$first")
b_up=$(awk '{print $NF}' <<<"$first")
[ "$b_first" = $((a_round + 1)) ] || api_fail "b went on with round $b_first, not $((a_round + 1))"
awk -v a="$a_up" -v b="$b_up" 'BEGIN { exit !(b > a && b < a + 60) }' ||
	api_fail "b's uptime $b_up does not continue a's $a_up"
check_rounds restored
echo "b: went on with round $b_first, uptime $b_up after $a_up"
# a diff snapshot of b, merged onto the first memory file
call "$sock" PATCH /vm '{"state": "Paused"}' 204
call "$sock" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$work/s2.state\",
	\"mem_file_path\": \"$work/s2.diff\"}" 204
echo "b: diff snapshot: $(($(stat -c %b "$work/s2.diff") * 512 / 1024)) KiB allocated"
b_round=$(last_round)
call "$sock" PATCH /vm '{"state": "Resumed"}' 204
guest_line '^petrel-guest: round ' 120 $(($(rounds) + 2))
stop_guest
check_rounds restored
slots_match "$work/vda.img"
echo "b: $(rounds) rounds after the restore; its disk writes are in the image"
cp --sparse=always "$work/s1.mem" "$work/s2.mem"
"$petrel" snapshot merge "$work/s2.mem" "$work/s2.diff" || api_fail "merging the diff failed"

# ---- the diff merged onto its base ----
start d
call "$sock" PUT /snapshot/load "{\"snapshot_path\": \"$work/s2.state\",
	\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$work/s2.mem\"},
	\"resume_vm\": true}" 204
guest_line '^petrel-guest: round ' 240 2
first=$(tr -d '\r' <"$out" | grep -a '^petrel-guest: round ' | head -n 1 | awk '{print $3}')
[ "$first" = $((b_round + 1)) ] || api_fail "the diff's guest went on with round $first, not $((b_round + 1))"
check_rounds restored
stop_guest
echo "d: the merged diff went on with round $first"

# ---- the first snapshot again, as a clone on another TAP and disk ----
# the host's end of the guest's network moves to the clone's TAP, with its MAC
# (the guest remembers the peer's): as a clone's own network namespace would be
mac=$(cat /sys/class/net/ps0/address)
ip link set ps0 down
ip addr del 10.0.4.1/24 dev ps0
ip link set ps1 address "$mac"
ip addr add 10.0.4.1/24 dev ps1
start c
call "$sock" PUT /snapshot/load "{\"snapshot_path\": \"$work/s1.state\",
	\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$work/s1.mem\"},
	\"network_overrides\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"ps1\"}],
	\"drive_overrides\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"$work/clone.img\"}],
	\"resume_vm\": true}" 204
guest_line '^petrel-guest: round ' 240 2
first=$(tr -d '\r' <"$out" | grep -a '^petrel-guest: round ' | head -n 1 | awk '{print $3}')
[ "$first" = $((a_round + 1)) ] || api_fail "the clone went on with round $first"
check_rounds restored
stop_guest
slots_match "$work/clone.img"
echo "c: the clone ran $(rounds) rounds on ps1 and clone.img"

# ---- a corrupted snapshot ----
start e
cp "$work/s1.state" "$work/bad.state"
printf '\xff' | dd of="$work/bad.state" bs=1 seek=5000 conv=notrunc status=none
call "$sock" PUT /snapshot/load "{\"snapshot_path\": \"$work/bad.state\",
	\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$work/s1.mem\"}}" 400
grep -qi "checksum\|corrupt" <<<"$body" || api_fail "a corrupted snapshot: '$body'"
echo "e: refused: $body"
call "$sock" GET / "" 200
grep -q '"state": *"Not started"' <<<"$body" || api_fail "after a refused load, GET / says '$body'"
kill $pid
wait $pid 2>/dev/null || true
echo "PASS"
