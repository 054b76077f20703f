#!/bin/bash
# PCI and virtio-pci: the guest finds petrel's PCI host bridge (ECAM via MCFG),
# binds its virtio driver to a virtio-rng device, uses MSI-X for it, and
# /dev/hwrng yields bytes.
source "$(dirname "$0")/../linux-lib.sh"

guest_shell rng 'ls /sys/bus/virtio/devices/
cat /sys/bus/virtio/devices/*/device
cat /sys/class/misc/hw_random/rng_current
echo hwrng-bytes $(head -c 4096 /dev/hwrng | wc -c)
grep -i virtio /proc/interrupts
grep -c PCI-MSI /proc/interrupts
grep -i mmconfig /proc/iomem' --rng
expect_status 0 "poweroff"
line 'e0000000-e00fffff : PCI MMCONFIG'
line '^0x0004$'
line '^virtio_rng'
line '^hwrng-bytes 4096$'
line 'PCI-MSI.*virtio'
if grep -aq 'PCI: Fatal' "$out"; then fail "PCI config space not found"; fi
echo "PASS"
