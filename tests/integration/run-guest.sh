#!/bin/bash
# Run petrel on a test guest and check what it did.
#   run-guest.sh [--status N] [--expect REGEX]... [--reject REGEX]...
#                [--max-io-exits N] -- PETREL ARGS...
# Fails loudly when /dev/kvm is missing: these tests never pass without KVM.
set -u
status=0
expect=()
reject=()
max_io=""
while [ $# -gt 0 ]; do
	case $1 in
	--status) status=$2; shift 2 ;;
	--expect) expect+=("$2"); shift 2 ;;
	--reject) reject+=("$2"); shift 2 ;;
	--max-io-exits) max_io=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "run-guest.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
if [ ! -c /dev/kvm ]; then
	echo "FAIL: /dev/kvm is missing: KVM integration tests need it" >&2
	exit 1
fi
out=$(timeout 60 "$@" </dev/null 2>&1)
rc=$?
echo "$out"
fail=0
if [ "$rc" != "$status" ]; then
	echo "FAIL: exit status $rc, expected $status" >&2
	fail=1
fi
for re in "${expect[@]+"${expect[@]}"}"; do
	if ! grep -Eq -- "$re" <<<"$out"; then
		echo "FAIL: output lacks /$re/" >&2
		fail=1
	fi
done
for re in "${reject[@]+"${reject[@]}"}"; do
	if grep -Eq -- "$re" <<<"$out"; then
		echo "FAIL: output has /$re/" >&2
		fail=1
	fi
done
if [ -n "$max_io" ]; then
	io=$(awk '/^petrel: exits by reason/ {getline; getline; print $2; exit}' <<<"$out")
	if [ -z "$io" ] || [ "$io" -gt "$max_io" ]; then
		echo "FAIL: ${io:-no} I/O exits, expected at most $max_io" >&2
		fail=1
	fi
fi
exit $fail
