#!/bin/bash
# The lab tier: prepare petrel and the Linux test guest on the host, then run
# each lab test case (tests/lab/cases) in its own lab boot, one at a time.
#   tests/lab/run-lab-tests.sh [CASE...]
# A case whose lab boot wedges or that fails is tried again in a fresh lab boot,
# up to three attempts, and says so: the nested KVM under QEMU TCG has been seen,
# rarely, to hang or fault a guest kernel (a double fault in entry_SYSCALL_64, a
# vCPU's triple fault late in boot) under QEMU as under petrel. A real failure
# fails every attempt. The last line is "N passed, N failed"; a lab that cannot
# run counts as a failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PETREL_BUILD=${PETREL_BUILD:-build}
scripts/deps.sh --lab && scripts/build.sh >/dev/null && scripts/guest-initramfs.sh "$root/$PETREL_BUILD" >/dev/null || {
	echo "lab: cannot prepare petrel or the test guest"
	echo "0 passed, 1 failed"
	exit 1
}
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
	for c in tests/lab/cases/*.sh; do cases+=("$(basename "$c" .sh)"); done
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# One lab boot for case $1, its console in $out and on our output.
. tests/lab/watched.sh
lab_boot() {
	# the lab boot outlives the case's own limit (run-inside.sh) by two minutes
	local case_limit boot_limit
	case_limit=$(sed -n 's/^# lab-timeout: \([0-9][0-9]*\)$/\1/p' "tests/lab/cases/$1.sh" | head -n 1)
	boot_limit=${LAB_CASE_BOOT_TIMEOUT:-420}
	[ -n "$case_limit" ] && [ $((case_limit + 120)) -gt "$boot_limit" ] && boot_limit=$((case_limit + 120))
	LAB_TIMING=1 lab_watched "$out" "$1" --memory 12G --cpus "${LAB_CPUS:-2}" \
		--timeout "$boot_limit" --scratch "$2" -- \
		env PETREL_BUILD="$PETREL_BUILD" LAB_CASE_TIMEOUT="${LAB_CASE_TIMEOUT:-300}" tests/lab/run-inside.sh "$1" || true
}

start=$(date +%s)
passed=0
failed=0
retried=()
for c in "${cases[@]}"; do
	for attempt in 1 2 3; do
		scratch=$PETREL_BUILD/lab/case-$c
		rm -rf "$scratch"
		lab_boot "$c" "$scratch"
		counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
		if [ -z "$counts" ]; then
			# A wedged boot printed nothing of the case: show how far it got.
			echo "[lab] $c: the case's output so far:"
			tail -n 40 "$scratch/$c.log" 2>/dev/null | sed 's/^/    | /'
			echo "[lab] $c: the inner machine's kernel log, last lines:"
			tail -n 40 "$scratch/lab-kmsg.log" 2>/dev/null | sed 's/^/    k /'
		fi
		rm -rf "$scratch"
		[ -n "$counts" ] && [ "$(cut -d' ' -f3 <<<"$counts")" = 0 ] && break
		[ $attempt = 3 ] && break
		if [ -z "$counts" ]; then
			echo "[lab] $c: the lab boot did not finish; trying again in a fresh lab boot"
		else
			echo "[lab] $c: failed in this lab boot; trying again in a fresh lab boot"
		fi
		retried+=("$c")
	done
	if [ -z "$counts" ]; then
		echo "[lab] $c: FAIL (the lab did not run it)"
		failed=$((failed + 1))
	else
		passed=$((passed + $(cut -d' ' -f1 <<<"$counts")))
		failed=$((failed + $(cut -d' ' -f3 <<<"$counts")))
	fi
done
echo "lab: tier took $(($(date +%s) - start))s"
[ ${#retried[@]} -eq 0 ] || echo "lab: tried again: ${retried[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
