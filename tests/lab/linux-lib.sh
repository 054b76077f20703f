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
# sets $status and $secs. With --stats, a failing case's NAME.err shows each
# vCPU's exits and where it stopped.
boot() {
	local start
	name=$1
	shift
	out=$out_dir/$name.out
	start=$(date +%s.%N)
	status=0
	timeout -k 5 "${BOOT_TIMEOUT:-180}" "$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" \
		--stats --serial "file=$out" "$@" </dev/null 2>"$out_dir/$name.err" || status=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	printf '%s: status %s in %.1fs\n' "$name" "$status" "$secs"
	tr -d '\r' <"$out" >"$out.txt"
	mv "$out.txt" "$out"
	grep -a '^petrel-guest:' "$out" | sed 's/^/  /' || true
}

# ext4_with_files DIR IMAGE: a 64 MiB ext4 IMAGE made (mkfs.ext4 -d) from two
# files of known content in DIR/data; their checksums in DIR/host.md5.
ext4_with_files() {
	mkdir -p "$1/data"
	head -c 3000000 /dev/urandom >"$1/data/random.bin"
	seq 1 100000 >"$1/data/numbers.txt"
	(cd "$1/data" && md5sum random.bin numbers.txt) >"$1/host.md5"
	mkfs.ext4 -q -F -d "$1/data" "$2" 64M
}

# expect_host_files DIR: the last console shows the checksums in DIR/host.md5,
# as md5sum prints them in the image's root
expect_host_files() {
	local sum file
	while read -r sum file; do
		line "^$sum  $file"
	done <"$1/host.md5"
}

# line REGEX: the last boot's console has a line matching it (grep reads it
# all: with -q it would stop at the match and tr's SIGPIPE would fail the pipe)
line() {
	tr -d '\r' <"$out" | grep -aE "$1" >/dev/null || {
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
# (TIMEOUT in wall-clock seconds: under TCG each poll itself takes a while)
wait_line() {
	local end=$((SECONDS + $4))
	while [ $SECONDS -lt $end ]; do
		[ "$(count_lines "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	[ "$(count_lines "$1" "$2")" -ge "$3" ]
}

# count_lines FILE REGEX: lines of FILE matching (0 while FILE does not exist)
count_lines() {
	local n
	n=$(grep -acE "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# wait_pid PID TIMEOUT: wait until the process has ended
wait_pid() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# guest_shell NAME COMMANDS [petrel run options...]: boot to a guest shell,
# type COMMANDS (one per line) then poweroff; console in $out. Sets $status.
# The commands get SHELL_DONE_TIMEOUT seconds (default 120).
guest_shell() {
	local cmds=$2 fifo
	name=$1
	shift 2
	out=$out_dir/$name.out
	fifo=$(mktemp -u /tmp/petrel-shell.XXXXXX)
	mkfifo "$fifo"
	"$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" \
		--cmdline "petrel.action=shell quiet" "$@" <"$fifo" >"$out" 2>"$out_dir/$name.err" &
	local pid=$!
	exec 5>"$fifo"
	if ! wait_line "$out" "^petrel-guest: clocksource" 1 150 || ! wait_line "$out" '# ' 1 30; then
		kill -9 $pid
		exec 5>&-
		rm -f "$fifo"
		tail -n 20 "$out" "$out_dir/$name.err"
		fail "$name: the guest shell did not start"
	fi
	# a petrel that ended early closed the fifo: the case goes on to its checks
	# (which show its stderr) instead of dying of SIGPIPE here
	(trap '' PIPE; printf '%s\necho shell-done\n' "$cmds" >&5) 2>/dev/null || true
	wait_line "$out" '^shell-done' 1 "${SHELL_DONE_TIMEOUT:-120}" || true
	(trap '' PIPE; echo 'poweroff -f' >&5) 2>/dev/null || true
	if ! wait_pid $pid 60; then
		kill -9 $pid
		fail "$name: the guest did not power off"
	fi
	status=0
	wait $pid || status=$?
	exec 5>&-
	rm -f "$fifo"
	tr -d '\r' <"$out" >"$out.txt"
	mv "$out.txt" "$out"
}
