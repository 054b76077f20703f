#!/bin/bash
# A SIGBUS that is no host memory error in guest RAM (here one sent with kill)
# cannot be handed to the guest: petrel stops at once with one line naming
# the signal's code and address, and status 1. `petrel info` tells whether
# this host's KVM gives guests machine checks.
set -u
petrel=$1 guest=$2
[ -c /dev/kvm ] || { echo "FAIL: /dev/kvm is missing" >&2; exit 1; }
"$petrel" info | grep '^machine checks:' || { echo "FAIL: petrel info says nothing of machine checks" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$petrel" run --firmware "$guest" --mode long --cpus 2 --serial stdio </dev/null >"$out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	grep -q spinning "$out" && break
	sleep 0.05
done
grep -q spinning "$out" || { echo "FAIL: guest never started" >&2; kill -9 $pid; exit 1; }
kill -BUS $pid
for _ in $(seq 1 100); do
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
if kill -0 $pid 2>/dev/null; then
	echo "FAIL: petrel still running 5 s after SIGBUS" >&2
	kill -9 $pid
	exit 1
fi
wait $pid
rc=$?
cat "$out"
[ $rc -eq 1 ] || { echo "FAIL: status $rc, expected 1" >&2; exit 1; }
grep -q "^petrel: SIGBUS (SI_USER) from process $$: stopping\$" "$out" ||
	{ echo "FAIL: no one-line SIGBUS message" >&2; exit 1; }
echo "stopped with status $rc"
