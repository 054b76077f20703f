#!/bin/bash
# The main job: install dependencies, build petrel, fetch Debian's kernel and
# busybox, build the test guest's initramfs (cached in the build folder) and
# boot it: the guest prints its kernel version, CPU count and memory, then
# powers off. On a host whose /dev/kvm has no hardware virtualization behind
# it (kvm_pvm), the guest runs inside the lab (tests/lab/lab), a nested KVM.
set -euo pipefail
cd "$(dirname "$0")/.."
export PETREL_BUILD=${PETREL_BUILD:-build}
scripts/deps.sh --lab
scripts/build.sh
eval "$(scripts/guest-initramfs.sh "$PWD/$PETREL_BUILD")"
run=("$PETREL_BUILD/petrel" run --kernel "$KERNEL" --initramfs "$INITRAMFS" --cpus 2
	--memory 512M --cmdline "quiet")
if "$PETREL_BUILD/petrel" info 2>/dev/null | grep -q '^kvm flavour: hardware'; then
	echo "petrel: booting Debian's kernel $KVER with a busybox initramfs" >&2
	exec "${run[@]}"
fi
echo "petrel: this host's /dev/kvm has no hardware virtualization; booting Debian's" \
	"kernel $KVER inside the lab (nested KVM under QEMU TCG)" >&2
exec tests/lab/lab run --timeout 600 -- "${run[@]}"
