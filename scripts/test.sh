#!/bin/bash
# Run every test tier: unit tests (plain and under ASan/UBSan), the fuzz
# targets over their corpora, KVM integration tests on this machine's /dev/kvm,
# and the lab tier (Linux guests under nested KVM). Each test's tier is
# printed; the last line counts them all.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --lab --fuzz || exit 1
PETREL_BUILD=build scripts/build.sh || exit 1
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-asan >/dev/null || exit 1

passed=0
failed=0
# Count a meson run's results from its JSON log.
count_meson() {
	local counts
	counts=$(python3 -c '
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r != "SKIP": bad += 1
print(ok, bad)' "$1/meson-logs/testlog.json") || counts="0 1"
	passed=$((passed + ${counts% *}))
	failed=$((failed + ${counts#* }))
}
tier() {
	echo "== tier: $1"
}
tier "unit"
meson test -C build --suite unit --print-errorlogs
count_meson build
tier "unit under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --print-errorlogs
count_meson build-asan
tier "fuzz corpora (regression replay)"
out=$(mktemp)
scripts/fuzz.sh --replay 2>&1 | tee "$out"
fuzz_pass=$(grep -c '^\[fuzz\] .*: PASS' "$out")
fuzz_fail=$(grep -c '^\[fuzz\] .*: FAIL' "$out")
rm -f "$out"
# a replay that did not run at all (no build, no clang) counts as one failure
[ $((fuzz_pass + fuzz_fail)) -gt 0 ] || fuzz_fail=1
passed=$((passed + fuzz_pass))
failed=$((failed + fuzz_fail))
tier "kvm (this machine's /dev/kvm)"
meson test -C build --suite kvm --print-errorlogs
count_meson build
if [ -x tests/lab/run-lab-tests.sh ]; then
	tier "lab (Linux guests under nested KVM in QEMU TCG)"
	out=$(mktemp)
	tests/lab/run-lab-tests.sh 2>&1 | tee "$out"
	lab=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	rm -f "$out"
	if [ -n "$lab" ]; then
		passed=$((passed + $(cut -d' ' -f1 <<<"$lab")))
		failed=$((failed + $(cut -d' ' -f3 <<<"$lab")))
	else
		echo "lab: the lab tier did not run" >&2
		failed=$((failed + 1))
	fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
