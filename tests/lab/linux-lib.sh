# Shared by the lab's Linux test cases (sourced): boot petrel's Linux test
# guest and check what the guest itself reports on its serial console.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${PETREL_BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
petrel=$build/petrel
eval "$("$root/scripts/guest-initramfs.sh" "$build")"
out_dir=${LAB_SCRATCH:-$(mktemp -d)}

fail() {
	echo "FAIL: $*"
	exit 1
}

# boot NAME [petrel run options...]: run to the end, console in $out_dir/NAME.out;
# sets $status and $secs.
boot() {
	local start
	name=$1
	shift
	out=$out_dir/$name.out
	start=$(date +%s.%N)
	status=0
	timeout -k 5 "${BOOT_TIMEOUT:-180}" "$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" \
		--serial "file=$out" "$@" </dev/null 2>"$out_dir/$name.err" || status=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	printf '%s: status %s in %.1fs\n' "$name" "$status" "$secs"
	tr -d '\r' <"$out" >"$out.txt"
	mv "$out.txt" "$out"
	grep -a '^petrel-guest:' "$out" | sed 's/^/  /' || true
}

# line REGEX: the last boot's console has a line matching it
line() {
	tr -d '\r' <"$out" | grep -aqE "$1" || {
		tail -n 30 "$out" "$out_dir/$name.err" 2>/dev/null
		fail "no console line matching '$1' in $out"
	}
}

expect_status() {
	[ "$status" = "$1" ] || {
		tail -n 30 "$out" "$out_dir/$name.err" 2>/dev/null
		fail "petrel exited with $status, expected $1 ($2)"
	}
}

# wait_line FILE REGEX COUNT TIMEOUT: wait until FILE has COUNT lines matching
wait_line() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(grep -acE "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
