#!/bin/bash
# A forbidden syscall (seccomp kill) ends petrel in a signal handler, not
# through its normal exit: the --api-sock path must go all the same. The
# seccomp test guest has its second vCPU make the test device open /dev/null,
# which the vCPU thread's filter forbids; the vCPU thread cannot unlink, so
# the main thread removes the socket. Also a SIGSYS and a SIGBUS sent to it.
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

# A SIGSYS or a SIGBUS sent by another process ends petrel through a handler
# too (status 12, 1): the same way out. Whichever thread takes the signal.
spin=${3:-}
stop_by() { # SIGNAL STATUS LINE
	"$petrel" run --firmware "$spin" --mode long --cpus 2 --serial stdio --api-sock "$sock" \
		</dev/null >"$dir/out" 2>&1 &
	pid=$!
	for _ in $(seq 1 200); do
		grep -q spinning "$dir/out" && [ -S "$sock" ] && break
		sleep 0.05
	done
	kill -"$1" $pid
	wait $pid
	rc=$?
	cat "$dir/out"
	[ $rc -eq "$2" ] || { echo "FAIL: SIG$1: status $rc, expected $2" >&2; fail=1; }
	grep -q "$3" "$dir/out" || { echo "FAIL: SIG$1: no one-line message" >&2; fail=1; }
	if [ -e "$sock" ]; then
		echo "FAIL: SIG$1: $sock is still there" >&2
		rm -f "$sock"
		fail=1
	fi
}
if [ -n "$spin" ]; then
	for _ in 1 2 3; do
		stop_by SYS 12 "^petrel: SIGSYS from process $$; stopping\$"
		stop_by BUS 1 "^petrel: SIGBUS (SI_USER) from process $$: stopping\$"
	done
fi
[ $fail -eq 0 ] && echo "the API socket went with petrel every time"
exit $fail
