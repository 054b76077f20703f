#!/bin/bash
# Device reset and driver reload: the guest unbinds and rebinds the virtio
# drivers (each unbind resets the device, each bind negotiates it afresh), at
# the virtio level and at the PCI level, and unloads and reloads virtio_blk;
# after each round the disk still reads the host's bytes, a write still
# reaches the image, and /dev/hwrng still yields bytes.
source "$(dirname "$0")/../linux-lib.sh"

work=$(mktemp -d /tmp/petrel-reset.XXXXXX)
head -c 1048576 /dev/urandom >"$work/disk.img"
truncate -s 8M "$work/disk.img"
md5=$(head -c 1048576 "$work/disk.img" | md5sum | cut -d' ' -f1)

guest_shell reset 'waitvda() { i=0; while [ ! -b /dev/vda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; }
check() { waitvda; echo "round $1 $(head -c 1048576 /dev/vda | md5sum | cut -d" " -f1) hwrng $(head -c 512 /dev/hwrng | wc -c)"; }
blk=$(basename $(readlink /sys/block/vda/device))
pci=$(basename $(dirname $(readlink /sys/bus/virtio/devices/$blk)))
echo "blk $blk pci $pci"
check 0
echo $blk > /sys/bus/virtio/drivers/virtio_blk/unbind
ls /sys/block | grep -c vda
echo $blk > /sys/bus/virtio/drivers/virtio_blk/bind
check 1
echo $pci > /sys/bus/pci/drivers/virtio-pci/unbind
echo $pci > /sys/bus/pci/drivers/virtio-pci/bind
check 2
for p in /sys/bus/pci/drivers/virtio-pci/0000:*; do n=$(basename $p); echo $n > /sys/bus/pci/drivers/virtio-pci/unbind; echo $n > /sys/bus/pci/drivers/virtio-pci/bind; done
check 3
rmmod virtio_blk && insmod /lib/modules/virtio_blk.ko && echo reloaded
check 4
echo petrel-reset-write | dd of=/dev/vda bs=512 seek=4096 conv=sync,fsync 2>/dev/null && echo written' \
	--disk "path=$work/disk.img" --rng
expect_status 0 "poweroff after the resets"
line '^blk virtio[0-9]+ pci 0000:00:'
for r in 0 1 2 3 4; do
	line "^round $r $md5 hwrng 512$"
done
line '^reloaded'
line '^written'
dd if="$work/disk.img" bs=512 skip=4096 count=1 status=none | grep petrel-reset-write >/dev/null ||
	fail "the write after the resets is not in the image"
rm -rf "$work"
echo "PASS"
