#!/bin/bash
# SIGTERM to a running petrel kicks the spinning vCPUs out of KVM_RUN at once:
# petrel exits 128+15 promptly with every thread ended.
set -u
petrel=$1 guest=$2
[ -c /dev/kvm ] || { echo "FAIL: /dev/kvm is missing" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$petrel" run --firmware "$guest" --mode long --cpus 2 --serial stdio </dev/null >"$out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	grep -q spinning "$out" && break
	sleep 0.05
done
grep -q spinning "$out" || { echo "FAIL: guest never started" >&2; kill -9 $pid; exit 1; }
start=$(date +%s%N)
kill -TERM $pid
for _ in $(seq 1 100); do
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
if kill -0 $pid 2>/dev/null; then
	echo "FAIL: petrel still running 5 s after SIGTERM" >&2
	kill -9 $pid
	exit 1
fi
wait $pid
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat "$out"
echo "stopped in ${ms} ms with status $rc"
[ $rc -eq 143 ] || { echo "FAIL: status $rc, expected 143" >&2; exit 1; }
