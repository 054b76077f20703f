#!/bin/bash
# bench/blk: disk MB/s and IOPS of the same Linux guest under petrel and under
# QEMU (virtio-blk-pci, aio=threads and aio=io_uring), and of the host doing the
# same I/O on the image directly; inside the lab on hosts without VT-x/AMD-V.
#   bench/blk.sh [--seconds S] [--seq-size SIZE] [--image-size SIZE] [--only LIST]
#                [--pin CPUS] [RUNS]      (see bench/blk.py)
# Builds into $PETREL_BUILD (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PETREL_BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
export PETREL_BUILD=$build
scripts/deps.sh --lab
scripts/build.sh
scripts/guest-initramfs.sh "$build" >/dev/null
if "$build/petrel" info | grep -q '^kvm flavour: hardware'; then
	exec python3 bench/blk.py "$@"
fi
# The lab's CPU is emulated: other work on this machine shows in the numbers.
load() { echo "bench/blk: machine load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs ($1)"; }
load before
rc=0
tests/lab/lab run --memory 3G --timeout 1500 -- env PETREL_BUILD="$build" python3 bench/blk.py "$@" || rc=$?
load after
exit $rc
