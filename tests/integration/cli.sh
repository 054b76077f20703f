#!/bin/bash
# Bad user input: one clear line, exit 2 for usage and 1 for runtime errors.
set -u
petrel=$1 guest=$2
fail=0
check() {
	local want=$1 pattern=$2
	shift 2
	local out rc
	out=$("$@" </dev/null 2>&1)
	rc=$?
	if [ $rc -ne "$want" ] || ! grep -Eq -- "$pattern" <<<"$out"; then
		echo "FAIL: $* -> status $rc, output: $out (expected $want, /$pattern/)"
		fail=1
	elif [ "$(wc -l <<<"$out")" -gt 1 ]; then
		echo "FAIL: $* -> more than one line: $out"
		fail=1
	else
		echo "ok: $* -> $rc: $out"
	fi
}
check 2 'unknown command' "$petrel" frobnicate
check 2 'unknown option --bogus' "$petrel" run --bogus
check 2 'give --kernel' "$petrel" run
check 2 '--cpus 0: expected a number from 1 to 256' "$petrel" run --firmware "$guest" --cpus 0
check 2 '--cpus many' "$petrel" run --firmware "$guest" --cpus many
check 2 '--memory 12Q: expected a size' "$petrel" run --firmware "$guest" --memory 12Q
check 2 '--memory: more than this host has' "$petrel" run --firmware "$guest" --memory 64T
check 2 '--mode fast: expected real or long' "$petrel" run --firmware "$guest" --mode fast
check 2 '--serial tcp: expected stdio' "$petrel" run --firmware "$guest" --serial tcp
check 2 '--on-reboot maybe' "$petrel" run --firmware "$guest" --on-reboot maybe
check 2 'not both' "$petrel" run --firmware "$guest" --kernel "$guest"
check 1 '--firmware /nonexistent: No such file' "$petrel" run --firmware /nonexistent
check 1 '--kernel /nonexistent: No such file' "$petrel" run --kernel /nonexistent
check 2 "--cpus 300: expected a number from 1 to 256" "$petrel" run --firmware "$guest" --cpus 300
check 0 '^petrel [0-9]' "$petrel" --version
exit $fail
