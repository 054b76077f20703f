#!/bin/bash
# The main job: install dependencies, build petrel and boot the demo guest.
# On a host whose /dev/kvm has no hardware virtualization behind it (kvm_pvm),
# the guest runs inside the lab (tests/lab/lab), a nested KVM that has.
set -euo pipefail
cd "$(dirname "$0")/.."
export PETREL_BUILD=${PETREL_BUILD:-build}
scripts/deps.sh --lab
scripts/build.sh
run=(build/petrel run --firmware build/tests/guests/demo.bin --mode long)
if build/petrel info 2>/dev/null | grep -q '^kvm flavour: hardware'; then
	echo "petrel: booting the demo guest" >&2
	exec "${run[@]}"
fi
echo "petrel: this host's /dev/kvm has no hardware virtualization;" \
	"booting the demo guest inside the lab (nested KVM under QEMU TCG)" >&2
exec tests/lab/lab run --timeout 600 -- "${run[@]}"
