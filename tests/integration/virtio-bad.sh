#!/bin/bash
# A hostile virtio driver (tests/guests/virtio_bad.S) against petrel's
# virtio-blk and virtio-rng: every malformed queue must leave petrel running
# and its devices working after a reset. Runs the guest without and with the
# in-kernel irqchip.
#   virtio-bad.sh PETREL GUEST
# Fails loudly when /dev/kvm is missing: these tests never pass without KVM.
set -u
petrel=$1
guest=$2
if [ ! -c /dev/kvm ]; then
	echo "FAIL: /dev/kvm is missing: KVM integration tests need it" >&2
	exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
img=$dir/disk.img

# Sector 0 holds byte i = (i * 13 + 7) & 0xff, the guest checks it; 127 more are zero.
fmt=
for ((i = 0; i < 512; i++)); do
	printf -v oct '\\%03o' $(((i * 13 + 7) & 255))
	fmt+=$oct
done
printf "$fmt" >"$img"
head -c $((127 * 512)) /dev/zero >>"$img"
cp "$img" "$dir/orig.img"

fail=0
for irqchip in "" --irqchip; do
	what="virtio_bad${irqchip:+ with $irqchip}"
	out=$(timeout 60 "$petrel" run --firmware "$guest" --mode long --test-device --disk path="$img" --rng \
		--serial off $irqchip </dev/null 2>&1)
	rc=$?
	[ -n "$out" ] && echo "$out"
	if [ "$rc" = 124 ]; then
		echo "FAIL: $what: petrel hung" >&2
		fail=1
	elif [ "$rc" -ge 128 ]; then
		echo "FAIL: $what: petrel died of signal $((rc - 128))" >&2
		fail=1
	elif [ "$rc" != 0 ]; then
		if [ $((rc & 1)) = 1 ] && [ "$rc" -gt 1 ]; then
			echo "FAIL: $what: guest check $((rc >> 1)) failed (see virtio_bad.S)" >&2
		else
			echo "FAIL: $what: exit status $rc" >&2
		fi
		fail=1
	fi
	# At most a line per broken queue about the device; nothing else.
	if grep -Ev '^petrel: virtio-(blk|rng)\b' <<<"$out" | grep -q .; then
		echo "FAIL: $what: unexpected output from petrel" >&2
		fail=1
	fi
	if [ "$(grep -c . <<<"$out")" -gt 32 ]; then
		echo "FAIL: $what: too much output from petrel" >&2
		fail=1
	fi
	if ! cmp -s "$img" "$dir/orig.img"; then
		echo "FAIL: $what: the disk image changed" >&2
		fail=1
	fi
done
exit $fail
