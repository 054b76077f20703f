#!/bin/bash
# A 4K dirty ring (256 entries) that fills between two syncs: the guest
# (tests/guests/dirty_full.S) checks that exactly the pages it wrote are
# reported, and at least one KVM_EXIT_DIRTY_RING_FULL must have been taken.
# kvm_pvm sometimes overruns so small a ring (writes past its end before
# the vCPU exits); petrel must then say so and fail the sync, never report
# a short list silently. Such a run is tried again, up to 5 runs.
#   dirty-ring-full.sh PETREL DIRTY_FULL.bin
set -u
petrel=$1 guest=$2
if [ ! -c /dev/kvm ]; then
	echo "FAIL: /dev/kvm is missing: KVM integration tests need it" >&2
	exit 1
fi
for attempt in 1 2 3 4 5; do
	out=$(timeout 60 "$petrel" run --firmware "$guest" --mode long --test-device \
		--dirty-log ring --dirty-ring-size 4K --stats </dev/null 2>&1)
	rc=$?
	echo "$out"
	if [ $rc = 0 ]; then
		if grep -Eq '^0( +[0-9]+){10} +[1-9][0-9]* +[0-9]+ *$' <<<"$out"; then
			echo "ok: exact report with the ring filling (run $attempt)"
			exit 0
		fi
		echo "FAIL: the ring never filled (no dirty_ring_full exit)" >&2
		exit 1
	fi
	if ! grep -q 'KVM overran' <<<"$out"; then
		echo "FAIL: exit status $rc without a ring overrun to explain it" >&2
		exit 1
	fi
	echo "note: KVM overran the ring and petrel said so (run $attempt): again"
done
echo "FAIL: KVM overran the ring in every run" >&2
exit 1
