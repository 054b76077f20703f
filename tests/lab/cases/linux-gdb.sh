#!/bin/bash
# The gdb stub against a running Debian kernel (nokaslr). A first boot reads
# kernel symbol addresses from the guest's /proc/kallsyms (Debian's System.map
# is a stub). A second boot runs two busy loops; Debian's gdb connects while
# it runs, sees both vCPUs as threads, reads linux_banner's bytes ("Linux ve"),
# steps one instruction, continues, stops the guest with Ctrl-C (SIGINT to
# gdb -> 0x03 to the stub) and detaches; the guest then powers off with 0.
source "$(dirname "$0")/../linux-lib.sh"
command -v gdb >/dev/null || fail "gdb is not installed"

# 1. symbol addresses, as the guest sees them
guest_shell kallsyms "echo 0 > /proc/sys/kernel/kptr_restrict
grep -E ' (linux_banner|start_kernel)\$' /proc/kallsyms" --cmdline "nokaslr petrel.action=shell quiet"
expect_status 0 "poweroff after reading kallsyms"
banner=$(grep -aE '^[0-9a-f]{16} [DdRr] linux_banner$' "$out" | cut -d' ' -f1 | head -n 1)
[ -n "$banner" ] && [ "$banner" != 0000000000000000 ] || fail "no linux_banner address in /proc/kallsyms"
echo "kallsyms: linux_banner at 0x$banner"

# 2. gdb against the running guest
port=$((20000 + RANDOM % 20000))
fifo=$(mktemp -u /tmp/petrel-gdb.XXXXXX)
out=$out_dir/gdb-guest.out
gout=$out_dir/gdb.out
name=gdb-guest
mkfifo "$fifo"
"$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --cpus 2 --memory 256M \
	--cmdline "nokaslr petrel.action=shell quiet" --gdb "tcp:127.0.0.1:$port" \
	<"$fifo" >"$out" 2>"$out_dir/gdb-guest.err" &
pid=$!
exec 3>"$fifo"
cleanup() {
	kill -9 $pid ${gdb_pid:-} 2>/dev/null
	exec 3>&-
	rm -f "$fifo"
}
# well inside the case's time limit, so that a boot that hangs says so
wait_line "$out" "^petrel-guest: clocksource" 1 150 || {
	cleanup
	tail -n 20 "$out" "$out_dir/gdb-guest.err"
	fail "the guest never booted"
}
wait_line "$out" "# " 1 30 || { cleanup; fail "no shell prompt"; }
# both vCPUs busy in user space, so a step always has an instruction to run;
# a heartbeat line every second shows when the guest runs
echo 'for i in 1 2; do (while :; do :; done) & done; (while :; do echo tick; sleep 1; done) &' >&3
wait_line "$out" '^tick' 2 120 || { cleanup; fail "the busy loops did not start"; }

gdb -q -batch -nx -ex "target remote 127.0.0.1:$port" -ex 'info threads' \
	-ex "x/8xb 0x$banner" -ex 'p/x $pc' -ex 'stepi' -ex 'p/x $pc' \
	-ex 'echo continuing-now\n' -ex 'continue' -ex 'echo stopped-again\n' -ex 'info threads' \
	-ex 'detach' >"$gout" 2>&1 &
gdb_pid=$!
# Ctrl-C once gdb has let the guest run (batch gdb prints no "Continuing.")
wait_line "$gout" '^continuing-now' 1 120 || { cat "$gout"; cleanup; fail "gdb never continued"; }
ticks=$(grep -ac '^tick' "$out")
wait_line "$out" '^tick' $((ticks + 2)) 120 || { cat "$gout"; cleanup; fail "the guest did not run after continue"; }
kill -INT $gdb_pid
wait_pid $gdb_pid 120 || { cat "$gout"; cleanup; fail "gdb did not finish after Ctrl-C"; }
wait $gdb_pid || true
gdb_pid=
cat "$gout" | sed 's/^/  gdb| /'
gexpect() {
	grep -Eq -- "$1" "$gout" || { cleanup; fail "gdb output lacks /$1/ ($2)"; }
}
gexpect 'Thread 1 \(vCPU 0\)' "info threads names vCPU 0"
gexpect 'Thread 2 \(vCPU 1\)' "info threads names vCPU 1"
gexpect ':\s+0x4c\s+0x69\s+0x6e\s+0x75\s+0x78\s+0x20\s+0x76\s+0x65' "linux_banner reads 'Linux ve'"
pcs=$(grep -E '^\$[0-9]+ = 0x[0-9a-f]+$' "$gout" | cut -d' ' -f3)
[ "$(wc -l <<<"$pcs")" = 2 ] && [ "$(head -n 1 <<<"$pcs")" != "$(tail -n 1 <<<"$pcs")" ] ||
	{ cleanup; fail "stepi did not advance the pc: $(tr '\n' ' ' <<<"$pcs")"; }
gexpect 'received signal SIGINT' "Ctrl-C stopped the guest"
gexpect '^stopped-again' "gdb went on after the stop"
[ "$(grep -c '(vCPU [01])' "$gout")" -ge 4 ] || { cleanup; fail "the second info threads lacks a vCPU"; }
gexpect 'Detaching from program|Inferior 1 .* detached' "detach"

# after detach the guest runs on: its shell answers and it powers off
echo 'echo after-detach-$((6 * 7))' >&3
wait_line "$out" '^after-detach-42' 1 120 || { cleanup; tail -n 20 "$out"; fail "the guest did not run on after detach"; }
echo 'poweroff -f' >&3
wait_pid $pid 120 || { cleanup; fail "the guest did not power off"; }
status=0
wait $pid || status=$?
exec 3>&-
rm -f "$fifo"
expect_status 0 "poweroff after the debugger detached"
echo "PASS"
