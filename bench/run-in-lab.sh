#!/bin/bash
# Shared by the Linux benchmarks: install what is needed, build petrel into
# $PETREL_BUILD (default build/) and the Linux test guest, then run the
# benchmark's Python part here when /dev/kvm has hardware virtualization, else
# inside the lab. Everything in the lab runs on emulated CPUs, so the machine's
# load before and after is printed with the results.
#   bench/run-in-lab.sh NAME LAB_MEMORY LAB_TIMEOUT_S [ARGS...]  -> bench/NAME.py ARGS
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 memory=$2 timeout=$3
shift 3
build=${PETREL_BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
export PETREL_BUILD=$build
scripts/deps.sh --lab
scripts/build.sh
scripts/guest-initramfs.sh "$build" >/dev/null
if "$build/petrel" info | grep -q '^kvm flavour: hardware'; then
	exec python3 "bench/$name.py" "$@"
fi
load() { echo "bench/$name: machine load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs ($1)"; }
load before
log=$(mktemp)
trap 'rm -f "$log"' EXIT
. tests/lab/watched.sh
rc=0
lab_watched "$log" "bench/$name" --memory "$memory" --timeout "$timeout" -- \
	env PETREL_BUILD="$build" python3 "bench/$name.py" "$@" || rc=$?
load after
exit $rc
