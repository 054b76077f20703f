#!/bin/bash
# Build the Linux test guest: Debian's kernel and a busybox initramfs whose /init
# reports kernel version, CPU count and memory and powers off.
#   scripts/guest-initramfs.sh [BUILD_DIR]   -> prints KERNEL=... INITRAMFS=...
# Output is cached under BUILD_DIR/guest (default build/guest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cache=$build/guest-cache
out=$build/guest
mkdir -p "$out"
eval "$("$root/scripts/guest-kernel.sh" --print-vars "$cache")"
initramfs=$out/initramfs.cpio.gz
stamp=$out/.stamp
want="$KVER $(cat "$root/tests/guest-linux/init" "$0" "$root/scripts/kmod-closure.sh" | sha1sum | cut -c1-16)"
if [ ! -f "$initramfs" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	tree=$(mktemp -d)
	trap 'rm -rf "$tree"' EXIT
	mkdir -p "$tree"/{bin,dev,proc,sys,tmp,lib/modules}
	cp "$BUSYBOX" "$tree/bin/busybox"
	cp "$root/tests/guest-linux/init" "$tree/init"
	chmod 755 "$tree/init" "$tree/bin/busybox"
	# virtio and ext4 modules with their dependencies, in load order
	# (decompressed: busybox insmod reads plain .ko)
	: >"$tree/modules.list"
	"$root/scripts/kmod-closure.sh" "$MODULES" virtio_pci virtio_blk virtio_net virtio_rng \
		virtio_console vmw_vsock_virtio_transport virtio_balloon crc32c_generic ext4 \
		pvpanic-mmio | while IFS= read -r f; do
		m=${f##*/}
		m=${m%%.ko*}
		case $f in
		*.xz) xz -dc "$f" >"$tree/lib/modules/$m.ko" ;;
		*.zst) zstd -dqc "$f" >"$tree/lib/modules/$m.ko" ;;
		*) cp "$f" "$tree/lib/modules/$m.ko" ;;
		esac
		echo "$m.ko" >>"$tree/modules.list"
	done
	(cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1) >"$initramfs.tmp"
	mv "$initramfs.tmp" "$initramfs"
	echo "$want" >"$stamp"
fi
echo "KERNEL=$KERNEL"
echo "INITRAMFS=$initramfs"
echo "KVER=$KVER"
