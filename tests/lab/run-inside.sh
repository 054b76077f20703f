#!/bin/bash
# Runs inside the lab: each test case under tests/lab/cases (or those named),
# one at a time, each with its own time limit (LAB_CASE_TIMEOUT, or what the
# case's "# lab-timeout: SECONDS" line asks); prints one line per case and a
# final "N passed, N failed" line.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cases=()
if [ $# -gt 0 ]; then
	for n in "$@"; do cases+=("$here/cases/${n%.sh}.sh"); done
else
	cases=("$here"/cases/*.sh)
fi
passed=0
failed=0
for c in "${cases[@]}"; do
	name=$(basename "$c" .sh)
	start=$(date +%s)
	log=$LAB_SCRATCH/$name.log
	limit=$(sed -n 's/^# lab-timeout: \([0-9][0-9]*\)$/\1/p' "$c" | head -n 1)
	limit=${limit:-${LAB_CASE_TIMEOUT:-300}}
	if timeout -k 10 "$limit" "$c" >"$log" 2>&1; then
		r=PASS
		passed=$((passed + 1))
	else
		st=$?
		r="FAIL (status $st$([ $st = 124 ] && echo ", timed out after ${limit}s"))"
		failed=$((failed + 1))
	fi
	sed 's/^/    /' "$log"
	echo "[lab] $name: $r in $(($(date +%s) - start))s"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
