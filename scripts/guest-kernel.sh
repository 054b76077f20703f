#!/bin/bash
# Fetch the guest kernel (the image linux-image-amd64 depends on) and a static
# busybox from Debian, unpacked into a cache folder.
#   scripts/guest-kernel.sh [--print-vars] CACHE_DIR
# With --print-vars, prints shell assignments KERNEL, MODULES, BUSYBOX, KVER.
set -euo pipefail
print=0
if [ "${1:-}" = "--print-vars" ]; then
	print=1
	shift
fi
cache=${1:?usage: guest-kernel.sh [--print-vars] CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Which kernel package does the meta-package point at?
kpkg_of_meta() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

fetch() { # package -> unpacked into $cache/root
	local pkg=$1 dir=$cache/debs
	mkdir -p "$dir"
	if ! ls "$dir/${pkg}_"*.deb >/dev/null 2>&1; then
		(cd "$dir" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			(apt-get update -qq >/dev/null && cd "$dir" && apt-get download -q "$pkg" >/dev/null) || {
			echo "guest-kernel: cannot download Debian package $pkg (is apt reachable?)" >&2
			exit 1
		}
	fi
	dpkg -x "$(ls "$dir/${pkg}_"*.deb | head -n 1)" "$cache/root"
}

stamp=$cache/.stamp
if [ ! -f "$stamp" ]; then
	kpkg=$(kpkg_of_meta)
	if [ -z "$kpkg" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		kpkg=$(kpkg_of_meta)
	fi
	[ -n "$kpkg" ] || {
		echo "guest-kernel: apt knows no linux-image-amd64; run apt-get update" >&2
		exit 1
	}
	rm -rf "$cache/root"
	fetch "$kpkg"
	fetch busybox-static
	echo "${kpkg#linux-image-}" >"$stamp"
fi
kver=$(cat "$stamp")
kernel=$cache/root/boot/vmlinuz-$kver
[ -f "$kernel" ] || {
	echo "guest-kernel: $kernel missing; remove $cache and retry" >&2
	exit 1
}
if [ $print = 1 ]; then
	echo "KERNEL=$kernel"
	echo "MODULES=$cache/root/lib/modules/$kver"
	echo "BUSYBOX=$cache/root/bin/busybox"
	echo "KVER=$kver"
else
	echo "$kernel"
fi
