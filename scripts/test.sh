#!/bin/bash
# Run every test tier: unit tests (plain and under ASan/UBSan), KVM integration
# tests on this machine's /dev/kvm, and the lab tier. Prints the tier of each.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --lab || exit 1
PETREL_BUILD=build scripts/build.sh || exit 1
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-asan >/dev/null || exit 1

fail=0
run_tier() {
	local tier=$1
	shift
	echo "== tier: $tier"
	"$@" || fail=1
}
run_tier "unit" meson test -C build --suite unit --print-errorlogs
run_tier "unit (asan+ubsan)" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --print-errorlogs
run_tier "kvm (this machine's /dev/kvm)" meson test -C build --suite kvm --print-errorlogs
if [ -x tests/lab/run-lab-tests.sh ]; then
	run_tier "lab (nested KVM under QEMU TCG)" tests/lab/run-lab-tests.sh
fi
if [ $fail -ne 0 ]; then
	echo "petrel: some tests failed" >&2
	exit 1
fi
echo "petrel: all test tiers passed"
