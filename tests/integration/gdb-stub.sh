#!/bin/bash
# The GDB remote stub against Debian's gdb, on this machine's /dev/kvm, with a
# 2-vCPU guest of our own (ELF with symbols) held by --gdb-wait.
#   gdb-stub.sh PETREL GUEST.bin GUEST.elf INT3.bin INT3.elf
set -u
petrel=$1 bin=$2 elf=$3 int3_bin=$4 int3_elf=$5
[ -c /dev/kvm ] || { echo "FAIL: /dev/kvm is missing: this test needs KVM"; exit 1; }
command -v gdb >/dev/null || { echo "FAIL: gdb is not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
port=$((20000 + RANDOM % 20000))
pid=

start() {
	port=$((port + 1))
	"$petrel" run --firmware "$bin" --mode long --cpus 2 --serial off --test-device \
		--gdb "tcp:127.0.0.1:$port" --gdb-wait 2>"$tmp/petrel.err" &
	pid=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$tmp/petrel.err" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "FAIL: the stub never listened"; cat "$tmp/petrel.err"
	exit 1
}
finish() { # expected petrel status
	local st=0
	wait $pid || st=$?
	pid=
	if [ "$st" != "$1" ]; then
		echo "FAIL: petrel exited $st, expected $1"; cat "$tmp/petrel.err"; fail=1
	fi
}
run_gdb() {
	timeout 60 gdb -q -batch -nx "$elf" -ex "target remote 127.0.0.1:$port" "$@" >"$tmp/gdb.out" 2>&1
}
expect() {
	grep -Eq -- "$1" "$tmp/gdb.out" || { echo "FAIL: gdb output lacks /$1/"; cat "$tmp/gdb.out"; fail=1; }
}

# 1. Threads, software and hardware breakpoints hit on both vCPUs, registers,
# memory writes, single-step (20 stops in all: 12 continues see both vCPUs); counter starts at 0x40 so the exit status is
# ((0x40 + 15) << 1 | 1) & 0xff = 159.
next_insn=$(objdump -d "$elf" | awk '/<work>:/ {f = 1; next} f && /^ *[0-9a-f]+:/ {n++; if (n == 2) {sub(":", "", $1); print $1; exit}}')
start
run_gdb -ex 'info threads' -ex 'set var *(long *)&counter = 0x40' -ex 'p/x *(long *)&counter' \
	-ex 'hbreak again' -ex 'break work' \
	$(for _ in $(seq 12); do printf -- "-ex continue "; done) \
	-ex 'delete' -ex 'break work' -ex 'continue' -ex 'stepi' -ex 'p/x $pc' \
	-ex 'set var $rbx = 0x1234' -ex 'p/x $rbx' -ex 'x/2xb work' -ex 'delete' -ex 'continue'
expect 'Thread 1 \(vCPU 0\)'
expect 'Thread 2 \(vCPU 1\)'
expect '\$1 = 0x40'
expect 'Thread 1 hit (Hardware assisted breakpoint|Breakpoint) '
expect 'Thread 2 hit (Hardware assisted breakpoint|Breakpoint) '
expect 'hit Breakpoint 2, work'
expect "= 0x$next_insn"
expect '= 0x1234'
expect '0x4c\s+0x8d|0x49\s+0x8d'
expect 'exited with code 0237'
finish 159

# 2. Detach with breakpoints set: they are removed and the guest runs on to its exit.
start
run_gdb -ex 'break work' -ex 'continue' -ex 'detach'
expect 'hit Breakpoint 1, work'
expect 'detached'
finish 31

# 3. A fifth hardware breakpoint is refused with an error gdb shows; a second
# debugger is refused while the first is attached; unmapped memory is an error.
start
( sleep 1; timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -c 7 <&3" >"$tmp/second.out" 2>&1 ) &
second=$!
run_gdb -ex 'hbreak *0x100001' -ex 'hbreak *0x100002' -ex 'hbreak *0x100003' \
	-ex 'hbreak *0x100004' -ex 'hbreak *0x100005' -ex 'shell sleep 2' -ex 'continue' \
	-ex 'x/4xb 0xfffffff00000' -ex 'delete' -ex 'watch *(long *)&counter' -ex 'delete' -ex 'kill'
expect 'Could not insert hardware breakpoint|hardware breakpoint'
expect 'Cannot access memory at address 0xfffffff00000'
expect 'Hardware watchpoint [0-9]+: '
wait $second
grep -q 'E10' "$tmp/second.out" || { echo "FAIL: second connection not refused: $(cat "$tmp/second.out")"; fail=1; }
grep -q 'refused a second debugger' "$tmp/petrel.err" || { echo "FAIL: no log of the refusal"; fail=1; }
finish 137

# 4. An int3 of the guest's own is the guest's: with hardware virtualization
# it is given back to the guest, whose #BP handler (a breakpoint there shows
# it ran) exits with 43; kvm_pvm's emulator has no int3, so there it is the
# emulation failure it is (status 10), never a stop reported as ours.
bin=$int3_bin elf=$int3_elf
start
run_gdb -ex 'break bp_handler' -ex 'continue' -ex 'continue'
if "$petrel" info | grep -q '^kvm flavour: kvm_pvm'; then
	expect 'exited with code 012'
	grep -q 'emulation failure' "$tmp/petrel.err" || { echo "FAIL: no emulation failure reported"; fail=1; }
	finish 10
else
	expect 'hit Breakpoint 1, bp_handler'
	expect 'exited with code 053'
	finish 43
fi
grep -q 'SIGTRAP' "$tmp/gdb.out" && { echo "FAIL: the guest's own int3 was reported to gdb"; cat "$tmp/gdb.out"; fail=1; }

[ $fail = 0 ] && echo "PASS: gdb stub"
exit $fail
