#!/bin/bash
# virtio-blk: an ext4 image made on the host mounts and its files read back
# with the host's checksums; a file the guest writes and syncs is in the image
# after poweroff, byte for byte; a read-only disk refuses writes; a discarded
# range reads back as zeroes in the guest and in the image; four
# disks at once, all on MSI-X; a second petrel cannot open a disk in use.
source "$(dirname "$0")/../linux-lib.sh"

work=$(mktemp -d /tmp/petrel-blk.XXXXXX)   # tmpfs inside the lab
ext4_with_files "$work" "$work/root.img"
cp "$work/root.img" "$work/ro.img"
ro_md5=$(md5sum <"$work/ro.img")
truncate -s 16M "$work/c.img" "$work/d.img"
head -c 65536 /dev/urandom >"$work/payload"
md5=$(md5sum <"$work/payload" | cut -d' ' -f1)
zero_md5=$(head -c 524288 /dev/zero | md5sum | cut -d' ' -f1)

# The guest gets the payload through disk c (raw), copies it into the ext4
# file system on disk a, and reads the host's files back.
dd if="$work/payload" of="$work/c.img" conv=notrunc status=none
guest_shell blk "mkdir -p /mnt
mount -t ext4 /dev/vda /mnt && echo mounted-rw
cd /mnt && md5sum random.bin numbers.txt; cd /
head -c 65536 /dev/vdc > /mnt/from-guest.bin
md5sum /mnt/from-guest.bin
sync
umount /mnt && echo unmounted
cat /sys/block/vdb/ro
dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>&1 | tail -n 1; echo ro-write-status \$?
dd if=/dev/urandom of=/dev/vdd bs=65536 count=16 conv=fsync 2>/dev/null
blkdiscard -o 0 -l 524288 /dev/vdd && echo discarded
head -c 524288 /dev/vdd | md5sum
ls /sys/block | tr '\n' ' '; echo
grep -c 'PCI-MSI.*virtio' /proc/interrupts" \
	--disk "path=$work/root.img,serial=petrel-root" --disk "path=$work/ro.img,readonly=on" \
	--disk "path=$work/c.img" --disk "path=$work/d.img" --memory 512M
expect_status 0 "poweroff"
line '^mounted-rw'
expect_host_files "$work"
line "^$md5  /mnt/from-guest.bin"
line '^unmounted'
line '^1$'
line '^discarded'
line "^$zero_md5  -"
line 'vda vdb vdc vdd'
# the discarded half is zeroes in the image, the rest holds what the guest wrote
cmp -n 524288 "$work/d.img" /dev/zero || fail "the discarded range is not zero in the image"
cmp -s -i 524288 -n 524288 "$work/d.img" /dev/zero && fail "the guest's write past the discard is missing"
# the written file is in the image on the host, byte for byte
debugfs -R "dump /from-guest.bin $work/back.bin" "$work/root.img" 2>/dev/null
cmp "$work/payload" "$work/back.bin" || fail "the guest's synced file differs in the image"
# the read-only image is untouched
[ "$(md5sum <"$work/ro.img")" = "$ro_md5" ] || fail "the read-only disk was written"

# a disk in use by another petrel is a clear start-up error
"$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --serial "file=$work/first.out" \
	--cmdline "petrel.action=hold" --disk "path=$work/d.img" </dev/null >/dev/null \
	2>"$work/first.err" &
first=$!
# Once its guest runs, the first petrel holds the image's lock (taken before the
# boot). Probing the lock ourselves could make the first petrel find it taken.
wait_line "$work/first.out" '^petrel-guest: holding' 1 150 || {
	kill -9 $first 2>/dev/null
	tail -n 10 "$work/first.out" "$work/first.err"
	fail "the petrel that should hold the disk did not get its guest running"
}
second=$("$petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --serial off \
	--disk "path=$work/d.img" </dev/null 2>&1 >/dev/null) && st=0 || st=$?
kill -0 $first 2>/dev/null || {
	tail -n 10 "$work/first.out" "$work/first.err"
	fail "the petrel holding the disk ended early; the check proved nothing"
}
kill -9 $first
wait $first 2>/dev/null || true
[ "$st" = 1 ] && grep -q 'in use' <<<"$second" || fail "second user of a disk: status $st, '$second'"
missing=$("$petrel" run --kernel "$KERNEL" --disk "path=$work/nope.img" </dev/null 2>&1 >/dev/null) && st=0 || st=$?
[ "$st" = 1 ] && grep -q 'nope.img' <<<"$missing" || fail "missing image: status $st, '$missing'"
rm -rf "$work"
echo "PASS"
