#!/bin/bash
# virtio-blk with direct=on (O_DIRECT, no host page cache): an ext4 image on a
# host file system of 512-byte sectors mounts and reads back with the host's
# checksums, a file the guest writes and syncs is in the image; on a host file
# system of 4 KiB sectors the guest is shown 4 KiB logical blocks and its
# writes land byte for byte; a file system that refuses O_DIRECT (tmpfs) is a
# clear start-up error.
source "$(dirname "$0")/../linux-lib.sh"

work=$(mktemp -d /tmp/petrel-direct.XXXXXX) # tmpfs inside the lab
mounts=()
loops=()
cleanup_direct() {
	local m l
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
	for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup_direct EXIT

# Two host file systems on loop devices (tmpfs refuses O_DIRECT): one of
# 512-byte sectors, one of 4 KiB sectors.
for sz in 512 4096; do
	truncate -s 160M "$work/fs$sz.img"
	lo=$(losetup -f --show --sector-size "$sz" "$work/fs$sz.img")
	loops+=("$lo")
	mkfs.ext4 -q -F "$lo"
	mkdir "$work/m$sz"
	mount "$lo" "$work/m$sz"
	mounts+=("$work/m$sz")
done
ext4_with_files "$work" "$work/m512/root.img"
truncate -s 16M "$work/m4096/raw.img"

guest_shell direct "mkdir -p /mnt
mount -t ext4 /dev/vda /mnt && echo mounted-rw
cd /mnt && md5sum random.bin numbers.txt; cd /
head -c 200000 /dev/urandom > /mnt/from-guest.bin
md5sum /mnt/from-guest.bin
sync
umount /mnt && echo unmounted
echo lbs \$(cat /sys/block/vdb/queue/logical_block_size)
head -c 1048576 /dev/urandom > /tmp/raw.bin
dd if=/tmp/raw.bin of=/dev/vdb bs=65536 conv=fsync 2>/dev/null; echo raw-write \$?
md5sum /tmp/raw.bin" \
	--disk "path=$work/m512/root.img,direct=on" --disk "path=$work/m4096/raw.img,direct=on" \
	--memory 512M
expect_status 0 "poweroff"
grep -aE '^(mounted|unmounted|lbs|raw-write|[0-9a-f]{32}  )' "$out" | sed 's/^/  guest| /'
line '^mounted-rw'
expect_host_files "$work"
line '^unmounted'
line '^lbs 4096$'
line '^raw-write 0$'
# the guest's file in the image, byte for byte
gsum=$(sed -n 's|^\([0-9a-f]\{32\}\)  /mnt/from-guest.bin$|\1|p' "$out")
[ -n "$gsum" ] || fail "the guest printed no checksum of its file"
debugfs -R "dump /from-guest.bin $work/back.bin" "$work/m512/root.img" 2>/dev/null
[ "$(md5sum <"$work/back.bin" | cut -d' ' -f1)" = "$gsum" ] ||
	fail "the guest's synced file differs in the direct image"
rsum=$(sed -n 's|^\([0-9a-f]\{32\}\)  /tmp/raw.bin$|\1|p' "$out")
[ "$(head -c 1048576 "$work/m4096/raw.img" | md5sum | cut -d' ' -f1)" = "$rsum" ] ||
	fail "the guest's raw writes differ on the 4 KiB-sector disk"

# tmpfs refuses O_DIRECT: a one-line start-up error that names the fix
truncate -s 16M "$work/t.img"
msg=$("$petrel" run --kernel "$KERNEL" --disk "path=$work/t.img,direct=on" </dev/null 2>&1 >/dev/null) &&
	st=0 || st=$?
[ "$st" = 1 ] && grep -q 'direct I/O.*drop direct=on' <<<"$msg" ||
	fail "direct=on on tmpfs: status $st, '$msg'"
echo "PASS"
