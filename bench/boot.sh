#!/bin/bash
# bench/boot: petrel (bzImage, PVH) against QEMU (microvm, pc) booting the same
# Debian kernel and initramfs; inside the lab on hosts without VT-x/AMD-V.
#   bench/boot.sh [RUNS]
exec "$(dirname "$0")/run-in-lab.sh" boot 3G 3000 "$@"
