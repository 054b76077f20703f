#!/bin/bash
# A forbidden syscall (seccomp kill) ends petrel in a signal handler, not
# through its normal exit: the --api-sock path must go all the same. The
# seccomp test guest has its second vCPU make the test device open /dev/null,
# which the vCPU thread's filter forbids; the vCPU thread cannot unlink, so
# the main thread removes the socket. Also an external SIGSYS.
set -u
petrel=$1 guest=$2
[ -c /dev/kvm ] || { echo "FAIL: /dev/kvm is missing" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sock=$dir/api.sock
fail=0

for run in 1 2 3; do
	timeout 60 "$petrel" run --firmware "$guest" --mode long --test-device --cpus 2 \
		--api-sock "$sock" </dev/null >"$dir/out" 2>&1
	rc=$?
	cat "$dir/out"
	[ $rc -eq 12 ] || { echo "FAIL: run $run: status $rc, expected 12" >&2; fail=1; }
	grep -q '^petrel: seccomp: thread vcpu1 made forbidden syscall openat' "$dir/out" ||
		{ echo "FAIL: run $run: no seccomp line" >&2; fail=1; }
	if [ -e "$sock" ]; then
		echo "FAIL: run $run: $sock is still there after the seccomp kill" >&2
		rm -f "$sock"
		fail=1
	fi
done

# SIGSYS sent by another process: the same way out
spin=${3:-}
if [ -n "$spin" ]; then
	"$petrel" run --firmware "$spin" --mode long --cpus 2 --serial stdio --api-sock "$sock" \
		</dev/null >"$dir/out" 2>&1 &
	pid=$!
	for _ in $(seq 1 200); do
		grep -q spinning "$dir/out" && [ -S "$sock" ] && break
		sleep 0.05
	done
	kill -SYS $pid
	wait $pid
	rc=$?
	cat "$dir/out"
	[ $rc -eq 12 ] || { echo "FAIL: SIGSYS: status $rc, expected 12" >&2; fail=1; }
	grep -q "^petrel: SIGSYS from process $$; stopping\$" "$dir/out" ||
		{ echo "FAIL: SIGSYS: no one-line message" >&2; fail=1; }
	[ -e "$sock" ] && { echo "FAIL: SIGSYS: $sock is still there" >&2; fail=1; }
fi
[ $fail -eq 0 ] && echo "the API socket went with petrel every time"
exit $fail
