#!/bin/bash
# bench/boot: petrel (bzImage, PVH) against QEMU (microvm, pc) booting the same
# Debian kernel and initramfs; inside the lab on hosts without VT-x/AMD-V.
#   bench/boot.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --lab
scripts/build.sh
scripts/guest-initramfs.sh >/dev/null
if build/petrel info | grep -q '^kvm flavour: hardware'; then
	exec python3 bench/boot.py "$@"
fi
exec tests/lab/lab run --timeout 3000 -- python3 bench/boot.py "$@"
