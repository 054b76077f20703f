#!/bin/bash
# Reference check of the lab itself: QEMU with -enable-kvm (the lab's nested
# KVM) boots petrel's Linux test guest to its /init and the guest powers off.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${PETREL_BUILD:-$root/build}
eval "$("$root/scripts/guest-initramfs.sh" "$build")"
out=$LAB_SCRATCH/qemu-kvm-boot.log
start=$(date +%s.%N)
timeout 300 qemu-system-x86_64 -enable-kvm -cpu host -M q35 -smp 2 -m 256M \
	-display none -monitor none -no-reboot -nic none \
	-kernel "$KERNEL" -initrd "$INITRAMFS" \
	-append "console=ttyS0 quiet panic=-1" -serial "file:$out" </dev/null
secs=$(echo "$(date +%s.%N) - $start" | bc)
tr -d '\r' <"$out" | grep '^petrel-guest:' || true
grep -q '^petrel-guest: init started' "$out" || { echo "FAIL: the nested guest never reached /init"; exit 1; }
grep -q '^petrel-guest: cpus 2' "$out" || { echo "FAIL: the nested guest did not see 2 CPUs"; exit 1; }
grep -q '^petrel-guest: powering off' "$out" || { echo "FAIL: the nested guest did not power off"; exit 1; }
echo "nested QEMU/KVM Linux boot to poweroff: ${secs}s"
