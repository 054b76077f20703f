#!/bin/bash
# bench/api: petrel's control API against QEMU's QMP: exec to a listening
# socket (wall and CPU time) and request latency on a running counter guest.
# Runs on this host's /dev/kvm, kvm_pvm included (the guest is petrel's own).
#   bench/api.sh [--requests N] [--rounds N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PETREL_BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
export PETREL_BUILD=$build
scripts/deps.sh --lab
scripts/build.sh
exec python3 bench/api.py "$@"
