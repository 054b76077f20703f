#!/bin/bash
# Live migration of a running Linux guest between two petrel processes over
# TCP on one host: a 2-vCPU guest with a disk, a NIC and 64 MiB of random data
# in its RAM, checked every round, keeps running through the migration; the
# destination's console goes on from the source's next round (its uptime
# continues, no reboot, the data intact, every CPU's timer firing, no soft
# lockup, RCU stall or clocksource complaint), its disk writes land in the
# image the source handed over and its network works on the TAP the source
# let go of; vm.info showed the migration's progress, the source exits 0
# after the switchover. A migration to a port where nobody listens fails
# with one line and the guest goes on at the source.
# lab-timeout: 600
source "$(dirname "$0")/../linux-lib.sh"

work=$(mktemp -d /tmp/petrel-mig.XXXXXX) # tmpfs inside the lab: sockets work here
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		{ kill -9 "$p" && wait "$p"; } 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "$0")/../api-lib.sh"

complete() { head -n "$(wc -l <"$1")" "$1" | tr -d '\r'; }
round_lines() { complete "$1" | grep -a '^petrel-guest: round '; }

ip tuntap add dev pm0 mode tap
ip link set pm0 up
ip addr add 10.0.5.1/24 dev pm0
# the host's end of the guest's network: accept and drain
cat >"$work/sink.py" <<'EOF'
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.5.1", 5001))
s.listen(8)
while True:
    c, _ = s.accept()
    while c.recv(65536):
        pass
    c.close()
EOF
python3 "$work/sink.py" 2>"$work/sink.err" &
pids+=($!)
truncate -s 32M "$work/vda.img"

src_out=$out_dir/src.out
dst_out=$out_dir/dst.out
sock=$work/src.sock
name=src
out=$src_out
"$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --cpus 2 --memory 512M \
	--cmdline "quiet petrel.action=workload petrel.memcheck=64 petrel.ip=10.0.5.2/24 petrel.peer=10.0.5.1" \
	--disk "path=$work/vda.img" --net tap=pm0 --api-sock "$sock" \
	</dev/null >"$src_out" 2>"$out_dir/src.err" &
src=$!
pids+=($src)
wait_sock "$sock" $src
guest_line '^petrel-guest: round 3 ' 300

# nobody listens: the migration fails with one line, the guest goes on
port=$((20000 + RANDOM % 10000))
if "$petrel" ctl "$sock" migrate "tcp:127.0.0.1:$port" >"$work/ctl.out" 2>"$work/ctl.err"; then
	api_fail "a migration to a closed port succeeded"
fi
[ "$(wc -l <"$work/ctl.err")" = 1 ] || api_fail "a failed migration said: $(cat "$work/ctl.err")"
echo "refused: $(cat "$work/ctl.err")"
guest_line '^petrel-guest: round ' 120 $(($(rounds) + 1))
call "$sock" GET / "" 200
grep -q '"state": *"Running"' <<<"$body" || api_fail "after a failed migration: '$body'"

# the real one
"$petrel" run --incoming "tcp:127.0.0.1:$port" </dev/null >"$dst_out" 2>"$out_dir/dst.err" &
dst=$!
pids+=($dst)
for _ in $(seq 300); do
	grep -q ":$(printf %04X $port) 00000000:0000 0A" /proc/net/tcp && break
	sleep 0.1
done
t=$SECONDS
"$petrel" ctl "$sock" migrate "tcp:127.0.0.1:$port" >"$work/ctl.out" 2>"$work/ctl.err" ||
	api_fail "the migration failed: $(cat "$work/ctl.err")"
echo "migrated in $((SECONDS - t))s: $(cat "$work/ctl.out")"
wait_pid $src 60 || api_fail "the source still runs after the switchover"
status=0
wait $src || status=$?
[ "$status" = 0 ] || api_fail "the source exited $status after the switchover"
last=$(round_lines "$src_out" | tail -n 1)
last_n=$(awk '{print $3}' <<<"$last")
last_up=$(awk '{print $NF}' <<<"$last")
name=dst
out=$dst_out
guest_line '^petrel-guest: round ' 240 3
first=$(round_lines "$dst_out" | head -n 1)
first_n=$(awk '{print $3}' <<<"$first")
first_up=$(awk '{print $NF}' <<<"$first")
[ "$first_n" -gt "$last_n" ] && [ "$first_n" -le $((last_n + 2)) ] ||
	api_fail "the destination went on with round $first_n after the source's $last_n"
awk -v a="$last_up" -v b="$first_up" 'BEGIN { exit !(b > a && b < a + 60) }' ||
	api_fail "the destination's uptime $first_up does not continue the source's $last_up"
# round N slot S wrote W read R net 0 mem ok cpus ok up U
for f in "$src_out" "$dst_out"; do
	round_lines "$f" | awk '$4 != "slot" || $6 != "wrote" || $7 != $9 || $10 != "net" || $11 != 0 ||
		$12 != "mem" || $13 != "ok" || $14 != "cpus" || $15 != "ok" { print "bad: " $0; bad = 1 }
		END { exit bad }' ||
		api_fail "a round in $f lost a disk write, a packet, its RAM data or a CPU's timer"
done
for bad in 'soft lockup' 'rcu.*stall' 'clocksource.*(unstable|watchdog|skew)' 'Kernel panic' \
	'BUG:' 'Oops' 'petrel-guest: init started'; do
	if tr -d '\r' <"$dst_out" | grep -aiE "$bad" >/dev/null; then
		tr -d '\r' <"$dst_out" | grep -aiE "$bad" | head -3
		api_fail "the destination's console matches '$bad'"
	fi
done
echo "the destination went on with round $first_n (uptime $first_up after $last_up)"
kill $dst
wait $dst 2>/dev/null || true
# every slot's last write, from the source's rounds then the destination's, is in the image
cat "$src_out" "$dst_out" | tr -d '\r' | grep -a '^petrel-guest: round ' |
	awk '{ sum[$5] = $7 } END { for (s in sum) print s, sum[s] }' >"$work/slots.txt"
while read -r slot sum; do
	got=$(dd if="$work/vda.img" bs=65536 skip="$slot" count=1 status=none | md5sum | cut -d' ' -f1)
	[ "$got" = "$sum" ] || fail "slot $slot of the image holds $got, the guest's last write was $sum"
done <"$work/slots.txt"
echo "the image holds the guest's last write of each of its $(wc -l <"$work/slots.txt") slots"
echo "PASS"
