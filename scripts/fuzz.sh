#!/bin/bash
# Build petrel's libFuzzer targets (tests/fuzz, in build-fuzz with clang) and
# run them.
#   scripts/fuzz.sh [--time SECS] [TARGET...]  each target (all by default) for
#       SECS seconds (default 60), one after the other, over a copy of its
#       corpus; prints its executions and coverage, and the inputs that crashed
#   scripts/fuzz.sh --replay [TARGET...]       each target once over its corpus
#       (a regression run): one "[fuzz] TARGET: PASS|FAIL" line per target
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
all=(fuzz_fc_api fuzz_ch_api fuzz_gdb_proto fuzz_cli_specs fuzz_pci fuzz_legacy_dev fuzz_loaders fuzz_state_file fuzz_spec_json
	fuzz_migration_stream)
# guest-facing: virtqueues and devices over a fuzzed guest memory (fuzz_virtio.h)
all+=(fuzz_virtq fuzz_virtio_blk fuzz_virtio_net fuzz_virtio_console fuzz_virtio_rng fuzz_virtio_vsock
	fuzz_virtio_balloon)
secs=60
replay=0
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--time)
		[[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --time takes seconds" >&2; exit 2; }
		secs=$2
		shift
		;;
	--replay) replay=1 ;;
	-h | --help)
		sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	fuzz_*) targets+=("$1") ;;
	*)
		echo "fuzz.sh: unknown argument $1 (targets: ${all[*]})" >&2
		exit 2
		;;
	esac
	shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
	[ -d "tests/fuzz/corpus/$t" ] || { echo "fuzz.sh: no target $t (${all[*]})" >&2; exit 2; }
done

scripts/deps.sh --fuzz || exit 1
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-fuzz "${targets[@]/#/tests/fuzz/}" >/dev/null || exit 1

# a leak or a slow input is a failure too; UBSan stops at its first report
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
opts=(-timeout=10 -rss_limit_mb=2048 -detect_leaks=1)
failed=0
for t in "${targets[@]}"; do
	bin=build-fuzz/tests/fuzz/$t
	# a replay (CI) does not disturb a search running at the same time
	out=build-fuzz/fuzz-$([ "$replay" = 1 ] && echo replay || echo run)/$t
	rm -rf "$out"
	mkdir -p "$out"
	out=$(realpath "$out")
	export TMPDIR=$out
	if [ "$replay" = 1 ]; then
		if "$bin" "${opts[@]}" -runs=0 "tests/fuzz/corpus/$t" >"$out/log" 2>&1; then
			n=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
			cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$out/log" | tail -n 1)
			echo "[fuzz] $t: PASS ($n inputs, $cov)"
		else
			tail -n 30 "$out/log"
			echo "[fuzz] $t: FAIL (log in $out/log)"
			failed=$((failed + 1))
		fi
		continue
	fi
	cp -r "tests/fuzz/corpus/$t" "$out/corpus"
	echo "== $t: ${secs}s over a copy of tests/fuzz/corpus/$t"
	"$bin" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$out/" "$out/corpus" >"$out/log" 2>&1
	rc=$?
	grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|new_units_added)' "$out/log" \
		| sed "s/^/$t: /"
	crashes=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o \
		-name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) -printf '%f\n')
	if [ "$rc" -ne 0 ] || [ -n "$crashes" ]; then
		grep -E 'ERROR: |SUMMARY: ' "$out/log" | head -n 5 | sed "s/^/$t: /"
		for c in $crashes; do
			echo "$t: reproducer $out/$c (run: $bin $out/$c; then add it to tests/fuzz/corpus/$t/)"
		done
		echo "$t: FAIL (log in $out/log)"
		failed=$((failed + 1))
	else
		echo "$t: no crash"
	fi
done
[ "$failed" -eq 0 ]
