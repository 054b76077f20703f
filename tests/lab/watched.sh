# Sourced by the scripts that boot the lab (from the repository's root).
# A lab whose own kernel reports a CPU locked up for a minute does not recover
# (seen under the emulated SVM: CPUs waiting on each other for good), so a lab
# boot is watched and stopped then, not at its timeout.
lockup_re='^\[ *[0-9.]+\] watchdog: BUG: soft lockup - CPU#[0-9]+ stuck for ([6-9][0-9]|[1-9][0-9][0-9]+)s'

# lab_watched LOG WHAT LAB_RUN_ARGS...: `tests/lab/lab run LAB_RUN_ARGS...`, its
# output in LOG and on ours as it comes; returns the lab's status (that of a
# stopped lab when it was stopped for a lockup, with a line naming WHAT in LOG).
lab_watched() {
	local log=$1 what=$2 pid tailpid st=0
	shift 2
	: >"$log"
	tests/lab/lab run "$@" >>"$log" 2>&1 &
	pid=$!
	tail -n +1 -f --pid="$pid" "$log" &
	tailpid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -qE "$lockup_re" "$log"; then
			echo "[lab] $what: a CPU of the lab's own kernel is locked up: stopping this lab boot" \
				>>"$log"
			kill "$pid" 2>/dev/null
			break
		fi
		sleep 5
	done
	wait "$pid" || st=$?
	wait "$tailpid"
	return $st
}
