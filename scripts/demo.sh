#!/bin/bash
# The main job: install dependencies, build petrel, fetch Debian's kernel and
# busybox, build the test guest's initramfs (cached in the build folder) and
# boot it with a virtio disk, entropy device and (as root) a NIC on a TAP:
# the guest prints its kernel version, CPU count, memory and devices, then
# powers off. On a host whose /dev/kvm has no hardware virtualization behind
# it (kvm_pvm), the guest runs inside the lab (tests/lab/lab), a nested KVM.
set -euo pipefail
cd "$(dirname "$0")/.."
export PETREL_BUILD=${PETREL_BUILD:-build}
scripts/deps.sh --lab
scripts/build.sh
eval "$(scripts/guest-initramfs.sh "$PWD/$PETREL_BUILD")"
run=("$PETREL_BUILD/petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --cpus 2
	--memory 512M --cmdline "quiet" --rng)
# A scratch disk for the run; a NIC needs a TAP, which needs root: both are
# made for the run and removed after.
devices='d=$(mktemp /tmp/petrel-demo-disk.XXXXXX) && truncate -s 64M "$d" || exit 1
set -- "$@" --disk "path=$d,serial=petrel-demo"
if ip tuntap add dev petrel-demo0 mode tap 2>/dev/null && ip link set petrel-demo0 up; then
	"$@" --net tap=petrel-demo0; st=$?; ip link del petrel-demo0
else
	"$@"; st=$?
fi
rm -f "$d"; exit $st'
if "$PETREL_BUILD/petrel" info 2>/dev/null | grep -q '^kvm flavour: hardware'; then
	echo "petrel: booting Debian's kernel $KVER with a busybox initramfs" >&2
	exec bash -c "$devices" demo "${run[@]}"
fi
echo "petrel: this host's /dev/kvm has no hardware virtualization; booting Debian's" \
	"kernel $KVER inside the lab (nested KVM under QEMU TCG)" >&2
exec tests/lab/lab run --timeout 600 -- bash -c "$devices" demo "${run[@]}"
