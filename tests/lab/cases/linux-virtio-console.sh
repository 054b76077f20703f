#!/bin/bash
# virtio-console as the guest's console (--console hvc): the kernel gets
# console=hvc0, /init's lines arrive through it (into a --serial file, then on
# stdout), keystrokes on petrel's stdin reach a guest shell on hvc0 and its
# answers come back, including input typed before the guest had any receive
# buffer; the console size is the default 80x25; poweroff exits 0.
source "$(dirname "$0")/../linux-lib.sh"

boot hvc --console hvc
expect_status 0 "poweroff with the console on hvc0"
line '^petrel-guest: cpus'
line '^petrel-guest: clocksource'
line '^petrel-guest: powering off'
grep -aq 'Linux version' "$out" && echo "hvc: the kernel's log came through hvc0 too"

fifo=$(mktemp -u /tmp/petrel-hvc.XXXXXX)
name=hvc-shell
out=$out_dir/$name.out
mkfifo "$fifo"
"$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --cmdline "petrel.action=shell quiet" \
	--console hvc <"$fifo" >"$out" 2>"$out_dir/$name.err" &
pid=$!
exec 3>"$fifo"
# typed at once: petrel holds it until the guest's driver gives it buffers
echo 'echo early-$((40 + 2))' >&3
wait_line "$out" "^petrel-guest: clocksource" 1 150 || {
	kill -9 $pid
	tail -n 20 "$out" "$out_dir/$name.err"
	fail "no petrel-guest lines on hvc0"
}
wait_line "$out" "# " 1 30 || { kill -9 $pid; tail -c 600 "$out" | od -c | tail -12; fail "no shell prompt"; }
printf '%s\n' 'cat /sys/class/tty/console/active' 'cat /proc/consoles' \
	'echo answer-$((6 * 7))' 'stty size' 'cat /sys/bus/virtio/devices/*/device' \
	'echo shell-done' >&3
wait_line "$out" '^shell-done' 1 60 || { kill -9 $pid; cat "$out"; fail "the shell's answers did not come back"; }
echo 'poweroff -f' >&3
if ! wait_pid $pid 60; then
	kill -9 $pid
	fail "the guest did not power off"
fi
status=0
wait $pid || status=$?
exec 3>&-
rm -f "$fifo"
tr -d '\r' <"$out" >"$out.txt"
mv "$out.txt" "$out"
grep -aE '^(hvc0|early-|answer-|[0-9]+ [0-9]+$|0x)' "$out" | sed 's/^/  /'
expect_status 0 "poweroff from the shell on hvc0"
line '^hvc0$'
line '^hvc0 .*\(.*C.*\)'
line '^answer-42$'
line '^early-42' # the echo of later typed-ahead lines may follow on the same line
line '^25 80$'
line '^0x0003$'
echo "hvc: keystrokes reached the guest shell through hvc0, answer-42 came back"
echo "PASS"
