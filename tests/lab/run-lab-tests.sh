#!/bin/bash
# The lab tier: prepare petrel and the Linux test guest on the host, then boot
# the lab once and run every lab test case inside it (tests/lab/run-inside.sh).
#   tests/lab/run-lab-tests.sh [CASE...]
# The last line is "N passed, N failed"; a lab that cannot run counts as a failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PETREL_BUILD=${PETREL_BUILD:-build}
scripts/deps.sh --lab && scripts/build.sh >/dev/null && scripts/guest-initramfs.sh "$root/$PETREL_BUILD" >/dev/null || {
	echo "lab: cannot prepare petrel or the test guest"
	echo "0 passed, 1 failed"
	exit 1
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
LAB_TIMING=1 tests/lab/lab run --memory 12G --timeout "${LAB_TIMEOUT:-1800}" -- tests/lab/run-inside.sh "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
echo "lab: tier took $(($(date +%s) - start))s"
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$out"; then
	echo "lab: the lab did not run its tests (status $rc)"
	echo "0 passed, 1 failed"
	exit 1
fi
exit "$rc"
